"""The computational graph of a case's forward expression, drawn from the expression itself.

Backpropagation runs this graph backwards: each operation passes the gradient of the loss
from its output to its inputs. The graph is read off the SymPy expression the checks
differentiate (``case.forward``): its inputs on the left, each operation a box, the loss
on the right; nothing is typed in for a particular derivation.

Example:
    >>> import sympy as sp
    >>> W, x = sp.MatrixSymbol("W", 2, 2), sp.MatrixSymbol("x", 2, 1)
    >>> [node.label for node in graph_nodes(W * x + x)]
    ['W', 'x', 'product', 'x', 'sum']
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from workbench.codegen.staged import stage_order
from workbench.core.derivation import Case
from workbench.render.drawing import Figure, _figure, _pdf, _sizes, _slug
from workbench.render.latex import expr_to_latex, text_to_latex

MIN_OPERATIONS = 4  # fewer, and the graph says no more than the formula
MAX_NODES = 30  # more, and a picture of the tree no longer reads


@dataclass(frozen=True)
class Node:
    """One node: its label, its children's positions in the node list, its height, and
    for an input its name as the derivation prints it (LaTeX: ``W_{2}`` for W2)."""

    label: str
    children: tuple[int, ...]
    height: int
    math: str = ""

    @property
    def shown(self) -> str:
        """What the figure writes in the node's box: an input in the maths' notation."""
        return f"${self.math}$" if self.math else self.label


def _label(expr) -> str:
    name = type(expr).__name__
    if isinstance(expr, sp.MatrixSymbol | sp.Symbol):
        return str(expr)
    if isinstance(expr, sp.MatMul | sp.Mul):
        # A number factor is no node of its own, so the product says it: the loss
        # −yᵀ log s is "−1 × product" (the minus sign was lost).
        # The numbers among the factors only: −λ is a node of its own, minus and all.
        coeff = sp.Mul(*[a for a in expr.args if a.is_number])
        return "product" if coeff == 1 else f"${expr_to_latex(coeff)} \\times$ product"
    if isinstance(expr, sp.MatAdd | sp.Add):
        return "sum"
    if isinstance(expr, sp.Transpose):
        return "transpose"
    if isinstance(expr, sp.HadamardProduct):
        return "entrywise product"
    if name == "Elementwise":
        return f"{expr.args[0]} (entrywise)"
    words = {"LogSoftmax": "log softmax", "Softmax": "softmax", "Trace": "trace"}
    return words.get(name, name.lower())


def _operands(expr) -> list:
    if type(expr).__name__ == "Elementwise":
        return [expr.args[1]]
    if type(expr).__name__ in ("LogSoftmax", "Softmax"):
        return [expr.args[0]]
    return [a for a in expr.args if not (a.is_number or isinstance(a, sp.Integer))]


def graph_nodes(expr) -> list[Node]:
    """The expression as nodes in post-order (children before their parent)."""
    nodes: list[Node] = []

    def visit(e) -> int:
        if isinstance(e, sp.MatrixSymbol | sp.Symbol):
            nodes.append(Node(_label(e), (), 0, expr_to_latex(e)))
            return len(nodes) - 1
        children = tuple(visit(a) for a in _operands(e))
        height = 1 + max((nodes[c].height for c in children), default=0)
        nodes.append(Node(_label(e), children, height))
        return len(nodes) - 1

    visit(expr)
    return nodes


READABLE = (sp.MatrixSymbol, sp.Symbol, sp.MatMul, sp.Mul, sp.MatAdd, sp.Add, sp.Transpose,
            sp.HadamardProduct, sp.Trace)  # fmt: skip
READABLE_NAMES = {"Elementwise", "LogSoftmax", "Softmax"}


def _readable(expr) -> bool:
    """Every node one a reader knows (no literal matrices or tuples of the code's build)."""
    if expr.is_number:
        return True
    if not (isinstance(expr, READABLE) or type(expr).__name__ in READABLE_NAMES):
        return False
    return isinstance(expr, sp.MatrixSymbol | sp.Symbol) or all(
        _readable(a) for a in _operands(expr)
    )


def wants_graph(case: Case) -> bool:
    """A loss of several parameters built in several operations: a graph worth drawing."""
    if not _readable(case.forward):
        return False
    nodes = graph_nodes(case.forward)
    operations = sum(1 for n in nodes if n.children)
    return len(case.wrt) >= 2 and operations >= MIN_OPERATIONS and len(nodes) <= MAX_NODES


def computational_graph(case: Case) -> Figure:
    """The forward expression of ``case`` as a graph, inputs left, the loss right."""
    nodes = graph_nodes(case.forward)
    ys: dict[int, float] = {}
    leaf_row = 0
    for number, node in enumerate(nodes):  # post-order: children are placed first
        if not node.children:
            ys[number] = -leaf_row
            leaf_row += 1
        else:
            ys[number] = sum(ys[c] for c in node.children) / len(node.children)
    top = max(n.height for n in nodes)
    # At most a text width wide, so that labels print at their size on the page.
    fig = _figure(min(6.4, 0.75 * (top + 2)), 0.4 * leaf_row + 0.4)
    ax = fig.add_subplot()
    wrt = {str(w) for w in case.wrt}
    for number, node in enumerate(nodes):
        for child in node.children:
            ax.annotate(
                "", xy=(node.height, ys[number]), xytext=(nodes[child].height, ys[child]),
                arrowprops={"arrowstyle": "->", "color": "0.4", "shrinkA": 12, "shrinkB": 12},
            )  # fmt: skip
    for number, node in enumerate(nodes):
        colour = "#fde0c5" if node.label in wrt else ("#dbe9f6" if node.children else "white")
        ax.text(
            node.height, ys[number], node.shown, ha="center", va="center", fontsize=7,
            bbox={"boxstyle": "round", "facecolor": colour, "edgecolor": "0.4"},
        )  # fmt: skip
    root = len(nodes) - 1
    ax.annotate(
        "$L$", xy=(top + 0.25, ys[root]), xytext=(top + 0.9, ys[root]), ha="center",
        va="center", arrowprops={"arrowstyle": "<-", "color": "0.4", "shrinkA": 6},
    )  # fmt: skip
    ax.set_xlim(-0.6, top + 1.1)
    ax.set_ylim(-leaf_row + 0.4, 0.6)
    ax.axis("off")
    params = ", ".join(f"${expr_to_latex(w)}$" for w in case.wrt)
    caption = (
        f"The computational graph of case ``{text_to_latex(case.name)}'' ({_sizes(case)}), "
        "read off the expression the checks differentiate: inputs on the left (the "
        f"parameters {params} shaded), each operation a box, the loss on the right. "
        "Backpropagation walks it from right to left: each box multiplies the gradient "
        "arriving from its output by its own local derivative and passes it to its inputs."
    )
    return Figure(f"graph-{_slug(case.name)}", _pdf(fig), caption, r"0.95\linewidth")


# ---------------------------------------------------------------- a network of named stages
def stage_layers(case: Case) -> tuple[dict, dict]:
    """(node → its layer, node → the nodes it is computed from) for the forward stages of
    a staged case: each stage one layer below the deepest stage it uses; an input just
    above the first stage that uses it."""
    assert case.stages is not None
    definitions = case.stages.definitions
    uses = {
        stage: sorted(definitions[stage].atoms(sp.MatrixSymbol) - {stage}, key=str)
        for stage in stage_order(definitions, [case.stages.forward])
    }
    layer: dict = {}

    def depth(node) -> int:
        if node not in uses:
            return 0
        if node not in layer:
            layer[node] = 1 + max((depth(u) for u in uses[node]), default=0)
        return layer[node]

    for node in uses:
        depth(node)
    for node, inputs in uses.items():
        for u in inputs:
            if u not in uses:
                layer[u] = min(layer.get(u, layer[node] - 1), layer[node] - 1)
    return layer, uses


def _grouped(node) -> tuple[str, str]:
    """A sort key that keeps a head's stages together: Q1, K1, V1 before Q2 (by the
    number a name ends in, then by name)."""
    name = str(node)
    stem = name.rstrip("0123456789")
    return name[len(stem) :].zfill(3), stem


def wants_stage_graph(case: Case) -> bool:
    """A case computed in named stages, enough of them for a picture of the network."""
    return case.stages is not None and len(stage_layers(case)[1]) >= MIN_OPERATIONS


def stage_graph(case: Case) -> Figure:
    """The named stages of a case's forward pass as a network, top to bottom: each stage
    a box under the stages it is computed from, the inputs beside where they enter."""
    layer, uses = stage_layers(case)
    rows: dict[int, list] = {}
    for node in sorted(layer, key=lambda n: (layer[n], *_grouped(n))):
        rows.setdefault(layer[node], []).append(node)
    xs = {}  # the stages of a row centred, its inputs to their right
    for nodes in rows.values():
        stages = [n for n in nodes if n in uses]
        inputs = [n for n in nodes if n not in uses]
        for position, node in enumerate(stages):
            xs[node] = position - (len(stages) - 1) / 2
        start = (len(stages) - 1) / 2 + 1 if stages else 0.0
        for position, node in enumerate(inputs):
            xs[node] = start + position
    left, right = min(xs.values()), max(xs.values())
    inches = min(6.4, 0.7 * (right - left + 1) + 0.4)
    fig = _figure(inches, 0.4 * (max(rows) + 1) + 0.3)
    ax = fig.add_subplot()
    for node, inputs in uses.items():
        for u in inputs:
            skip = layer[node] - layer[u]
            # An edge that skips rows in one column would hide behind the boxes between:
            # it bends out to the left (the residual X → X₂ shows as an arc).
            bend = min(0.5, 0.12 * skip) if xs[node] == xs[u] and skip > 1 else 0.0
            ax.annotate(
                "", xy=(xs[node], -layer[node]), xytext=(xs[u], -layer[u]),
                arrowprops={"arrowstyle": "->", "color": "0.55", "lw": 0.6, "shrinkA": 7,
                            "shrinkB": 7, "connectionstyle": f"arc3,rad={bend}"},
            )  # fmt: skip
    wrt = set(case.wrt)
    for node in layer:
        colour = "#fde0c5" if node in wrt else ("#dbe9f6" if node in uses else "white")
        ax.text(
            xs[node], -layer[node], f"${expr_to_latex(node)}$", ha="center", va="center",
            fontsize=8, bbox={"boxstyle": "round", "facecolor": colour, "edgecolor": "0.4"},
        )  # fmt: skip
    ax.set_xlim(left - 0.5, right + 0.5)
    ax.set_ylim(-max(rows) - 0.6, 0.6)
    ax.axis("off")
    caption = (
        f"The forward pass of case ``{text_to_latex(case.name)}'' ({_sizes(case)}) as the "
        f"network of its {len(uses)} named stages, read off the definitions the checks and "
        "the generated code use: each stage (blue) under the stages it is computed from, "
        "the inputs where they enter (the differentiated ones shaded). Backpropagation "
        "climbs it from the bottom: each stage's gradient (dZ for Z) is computed from the "
        "gradients of the stages below that use it."
    )
    share = min(0.95, 0.95 * inches / 6.4)  # as wide as drawn: labels at their size
    return Figure(f"stages-{_slug(case.name)}", _pdf(fig), caption, f"{share:.2f}\\linewidth")
