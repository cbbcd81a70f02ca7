"""Multi-head attention backward: ∂L/∂H = Σᵢ (dQᵢW_qiᵀ + dKᵢW_kiᵀ + dVᵢW_viᵀ) over the heads.

Causal self-attention with h heads on a sequence H (T×n, one position per row). Head i
has its own projections Qᵢ = H W_qi, Kᵢ = H W_ki, Vᵢ = H W_vi (the i-th column blocks of
W_q, W_k, W_v) and output Oᵢ = attention(Qᵢ, Kᵢ, Vᵢ); the heads' outputs, side by side,
go through the output projection: A = [O₁ … O_h]W_o = Σᵢ OᵢW_oi, with W_oi the i-th row
block of W_o. With an upstream gradient G = ∂L/∂A (L = Σ G ∘ A), backward: ∂L/∂Oᵢ =
GW_oiᵀ, then each head's ∂L/∂Qᵢ, ∂L/∂Kᵢ, ∂L/∂Vᵢ by the catalogue's attention gradient
with upstream ∂L/∂Oᵢ, each weight's gradient its input transposed times the gradient of
its output, and ∂L/∂H the sum over the 3h projections H feeds. The heads are an axis:
one chain per result, the same for every head, written out for h = 2; the numeric cases
check h = 2 and h = 3.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import sympy as sp

from derivations import attention_gradient as att
from derivations import transformer_block_backward as tb
from workbench.codegen import numeric
from workbench.core import rules
from workbench.core.algebra import expand_names_shared
from workbench.core.derivation import Case, Derivation, Exercise, Network, Result, Stages
from workbench.core.pieces import rewritten
from workbench.core.rules_compose import ChainRuleThroughEach

# Sizes: T positions, n model width, d query/key width and e value width of one head.
T, d, e, n = att.T, att.d, att.e, tb.n
p, q = tb.p, tb.q
a, b = tb.a, tb.b  # bound in L's sum, never a free index
L = sp.Symbol("L")
M = att.M
H, G = sp.MatrixSymbol("H", T, n), sp.MatrixSymbol("G", T, n)
A = sp.MatrixSymbol("A", T, n)
SUBSCRIPT = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")
HEADS = 2  # the heads the chains are written out for


@dataclass(frozen=True)
class Head:
    """Head i's weights, intermediates and the names of their gradients."""

    i: int

    def _symbol(self, name: str, rows, columns) -> sp.MatrixSymbol:
        return sp.MatrixSymbol(f"{name}{self.i}", rows, columns)

    @property
    def weights(self) -> tuple[sp.MatrixSymbol, ...]:
        """W_qi, W_ki, W_vi (n×d, n×d, n×e) and W_oi (e×n)."""
        return (
            self._symbol("W_q", n, d),
            self._symbol("W_k", n, d),
            self._symbol("W_v", n, e),
            self._symbol("W_o", e, n),
        )

    @property
    def inner(self) -> dict[str, sp.MatrixSymbol]:
        """Qᵢ, Kᵢ, Vᵢ, Sᵢ, Pᵢ, Oᵢ, shaped as attention-gradient's Q, K, V, S, P, O."""
        return {
            x.name: self._symbol(x.name, *x.shape)
            for x in (att.Q, att.K, att.V, att.S, att.P, att.O)
        }

    @property
    def gradients(self) -> dict[str, sp.MatrixSymbol]:
        """dOᵢ, dQᵢ, dKᵢ, dVᵢ, and dPᵢ, dSᵢ (attention's own names), for ∂L/∂Oᵢ, …."""
        inner = self.inner
        return {x: self._symbol(f"d{x}", *inner[x].shape) for x in "OQKVPS"}

    def renaming(self) -> dict:
        """attention-gradient's names → this head's (Q → Qᵢ, dS → dSᵢ, …)."""
        inner, grads = self.inner, self.gradients
        out = {getattr(att, x): inner[x] for x in "QKVSPO"}
        return {**out, att.dP: grads["P"], att.dS: grads["S"]}

    def label(self, name: str) -> str:
        return f"{name}{str(self.i).translate(SUBSCRIPT)}"


def heads(count: int) -> tuple[Head, ...]:
    return tuple(Head(i) for i in range(1, count + 1))


def definitions(count: int) -> dict:
    """The forward pass with ``count`` heads, L first, each head as attention-gradient
    defines one head (its S, P, O with this head's names)."""
    out: dict = {L: sp.Sum(G[a, b] * A[a, b], (a, 0, T - 1), (b, 0, n - 1))}
    for head in heads(count):
        wq, wk, wv, _ = head.weights
        inner, rename = head.inner, head.renaming()
        out[inner["Q"]], out[inner["K"]], out[inner["V"]] = H * wq, H * wk, H * wv
        for x in (att.S, att.P, att.O):
            out[inner[x.name]] = att.DEFINITIONS[x].xreplace(rename)
    out[A] = tb._add(*(h.inner["O"] * h.weights[3] for h in heads(count)))
    return out


def closed_forms(count: int, named: bool = False) -> tuple[dict, dict]:
    """(closed forms, gradient-name definitions) with ``count`` heads: each head's stage
    written with the names of its intermediates and of the gradient of the stage above;
    ``named``: attention's dP and dS named as well, as the code computes them."""
    closed: dict = {}
    grads: dict = {}
    d_h = []
    for head in heads(count):
        wq, wk, wv, wo = head.weights
        inner, names = head.inner, head.gradients
        grads[names["O"]] = tb._mul(G, wo.T)
        backward = tb.attention_backward(
            names["O"], inner["P"], inner["Q"], inner["K"], inner["V"], named
        )
        rename = {**head.renaming(), tb.dQ: names["Q"], tb.dK: names["K"], tb.dV: names["V"]}
        grads.update({rename[k]: v.xreplace(rename) for k, v in backward.items()})
        closed[inner["O"]] = grads[names["O"]]
        closed[wo] = tb._mul(inner["O"].T, G)
        for x, weight in (("Q", wq), ("K", wk), ("V", wv)):
            closed[inner[x]] = grads[names[x]]
            closed[weight] = tb._mul(H.T, names[x])
            d_h.append(tb._mul(names[x], weight.T))
    closed[H] = tb._add(*d_h)
    return closed, grads


DEFINITIONS = definitions(HEADS)
CLOSED, GRADIENTS = closed_forms(HEADS, named=True)  # dSᵢKᵢ/√d, as a teacher writes it
DEFINITIONS.update(GRADIENTS)


# ---------------------------------------------------------------- the chains
def _use(known: Result, name: sp.MatrixSymbol) -> rules.UseResult:
    """A result derived above, by its gradient's name (∂L/∂O₁[r,c] → dO1[r,c])."""
    return rules.UseResult(known.goal, name[known.goal.variables[0].indices], known.label)


def _through(target, intermediate, known: Result, name, note: str):
    """∂L/∂target through one intermediate whose gradient is already derived."""
    return (
        tb.Chain(sp.Derivative(L, target), DEFINITIONS)
        .apply(rules.ChainRuleThrough(intermediate), note)
        .apply(_use(known, name), f"Use {known.label}, derived above.")
    )


def _attention_use(known: Result, head: Head, wrt) -> rules.Rule:
    """attention-gradient's result for one head: its names renamed to the head's, and
    its upstream G the gradient arriving at the head's output."""
    use = tb._attention_use(known, wrt)
    return replace(use, derived=use.derived.xreplace(head.renaming()), output=head.inner["O"])


def _head_results(head: Head, known: dict[str, Result]) -> tuple[Result, ...]:
    wq, wk, wv, wo = head.weights
    inner, names = head.inner, head.gradients
    o = inner["O"]
    loss = "L = Σ G ∘ A: G is the gradient arriving from above."
    output = "A = " + " + ".join(f"{h.label('O')}W_o{h.i}" for h in heads(HEADS)) + ": {}."

    def from_loss(variable, wrt: str):
        chain = (
            tb.Chain(sp.Derivative(L, variable), DEFINITIONS)
            .apply(rules.Definition((L,)), loss)
            .apply(rules.Linearity(), "G is held fixed.")
        )
        return tb._linear_layer(chain, (A,), output, wrt)

    d_o = from_loss(o[p, q], head.label("O")).result(f"∂L/∂{head.label('O')}", CLOSED[o], (p, q), o)
    w_o = from_loss(wo[p, q], wo.name).result(f"∂L/∂{wo.name}", CLOSED[wo], (p, q), wo)
    results = [d_o, w_o]
    for x, weight in (("Q", wq), ("K", wk), ("V", wv)):
        symbol = inner[x]
        grad = (
            _through(
                symbol[p, q],
                o,
                d_o,
                names["O"],
                f"{head.label(x)} reaches L only through the head's output {head.label('O')}.",
            )
            .apply(
                _attention_use(known[f"∂L/∂{x}"], head, symbol),
                f"attention-gradient's ∂L/∂{x} for head {head.i}, with upstream "
                f"∂L/∂{head.label('O')} in place of G.",
            )
            .result(f"∂L/∂{head.label(x)}", CLOSED[symbol], (p, q), symbol)
        )
        projection = tb._linear_layer(
            _through(
                weight[p, q], symbol, grad, names[x], f"{weight.name} acts through {head.label(x)}."
            ),
            (symbol,),
            f"{head.label(x)} = H {weight.name}.",
            weight.name,
        ).result(f"∂L/∂{weight.name}", CLOSED[weight], (p, q), weight)
        results += [grad, projection]
    return tuple(results)


def derive() -> tuple[Result, ...]:
    """Every head's results, then ∂L/∂H through every projection of every head."""
    known = {r.label: r for r in att.build().results}
    results: list[Result] = []
    projections, uses = [], []
    for head in heads(HEADS):
        head_results = _head_results(head, known)
        results += head_results
        by_label = {r.label: r for r in head_results}
        for x in "QKV":
            projections.append(head.inner[x])
            uses.append((by_label[f"∂L/∂{head.label(x)}"], head.gradients[x]))
    chain = tb.Chain(sp.Derivative(L, H[p, q]), DEFINITIONS).apply(
        ChainRuleThroughEach(tuple(projections)),
        "H feeds the queries, keys and values of every head.",
    )
    for known_result, name in uses:
        chain = chain.apply(_use(known_result, name), f"Use {known_result.label}, derived above.")
    d_h = (
        chain.apply(
            rules.Definition(tuple(projections)),
            ", ".join(
                f"{head.label(x)} = H W_{x.lower()}{head.i}" for head in heads(HEADS) for x in "QKV"
            )
            + ".",
        )
        .apply(rules.Linearity(), "The weights are constants.")
        .apply(rules.Differentiate(), "{}.", rewritten)
        .apply(rules.CollapseDeltas(), "A product with each transposed weight, summed over heads.")
        .result("∂L/∂H", CLOSED[H], (p, q), H)
    )
    return (*results, d_h)


# ---------------------------------------------------------------- numeric cases
def wrt(count: int) -> tuple[sp.MatrixSymbol, ...]:
    """H, then each head's W_qi, W_ki, W_vi, W_oi."""
    return (H, *(w for head in heads(count) for w in head.weights))


def _samplers(count: int) -> dict:
    return {
        H: numeric.logits(1.0),
        G: numeric.logits(1.0),
        **{w: numeric.weights() for w in wrt(count)[1:]},
        M: numeric.causal_mask(),
    }


SIZES = (
    {T: 2, n: 2, d: 1, e: 1},
    {T: 3, n: 2, d: 1, e: 2},
    {T: 2, n: 3, d: 2, e: 1},
)
NUMERIC_SIZE = {T: 6, n: 8, d: 4, e: 4}
# Where the steps and SymPy's diff are checked stage by stage (workbench.checks.network):
# every size varies across the sets and differs within one where it can, so that a
# transposed index or a swapped size shows; the last has T and n at least 5.
NETWORK_SIZES = (
    {T: 2, n: 3, d: 2, e: 1},
    {T: 3, n: 2, d: 1, e: 2},
    {T: 3, n: 4, d: 2, e: 3},
    {T: 5, n: 6, d: 3, e: 2},
)


def _case(count: int) -> Case:
    """Attention with ``count`` heads: L = Σ G ∘ A, every gradient at once, written with
    the heads' names (the stages the code computes) and expanded from them for SymPy."""
    forward_names = definitions(count)
    closed, grads = closed_forms(count)
    stages = {k: v for k, v in {**forward_names, **grads}.items() if k != L}
    named_forward = tb._mul(sp.OneMatrix(1, T), sp.HadamardProduct(G, A), sp.OneMatrix(n, 1))
    named_gradients = tuple(closed[w] for w in wrt(count))
    forward, *gradients = expand_names_shared([named_forward, *named_gradients], stages)
    code_closed, code_grads = closed_forms(count, named=True)
    code_stages = {k: v for k, v in {**forward_names, **code_grads}.items() if k != L}
    return Case(
        name=f"{count} heads",
        forward=forward,
        wrt=wrt(count),
        gradients=tuple(gradients),
        samplers=_samplers(count),
        sizes=SIZES,
        numeric_size=NUMERIC_SIZE,
        substitutions={M: att.CausalMask(T)},
        stages=Stages(code_stages, named_forward, tuple(code_closed[w] for w in wrt(count))),
    )


EXERCISES = (
    Exercise(
        prompt="The output projection of a layer with h heads is one matrix $W_o$ "
        "($he \\times n$) applied to the heads' outputs side by side. Show that "
        "$[O_1 \\ \\cdots \\ O_h] W_o = \\sum_i O_i W_{oi}$, and write "
        "$\\partial L/\\partial W_o$ from the results above.",
        solution="Entry $(t, c)$ of the product is $\\sum_{k} [O_1 \\cdots O_h]_{tk} "
        "[W_o]_{kc}$; splitting the sum over $k$ into the $h$ blocks of $e$ columns gives "
        "$\\sum_i \\sum_{k < e} [O_i]_{tk} [W_{oi}]_{kc}$. Since each block of $W_o$ "
        "appears in one term only, $\\partial L/\\partial W_o$ stacks the blocks' "
        "gradients: its $i$-th row block is $O_i^{\\top} G$, that is "
        "$\\partial L/\\partial W_o = [O_1 \\cdots O_h]^{\\top} G$.",
        source="Final phase: implement transformers and attention (shared/seeds/002)",
    ),
    Exercise(
        prompt="Why is $\\partial L/\\partial H$ a sum over the heads, while each head's "
        "$\\partial L/\\partial Q_i$ involves that head alone?",
        solution="$H$ feeds all $3h$ projections, so the chain rule adds one term for each "
        "path from $H$ to the loss. $Q_i$ feeds only head $i$'s scores; the other heads "
        "neither read it nor change what head $i$ computes, so no other head appears in "
        "its gradient. This is why heads can run in parallel, forward and backward.",
        source="Phase 4, Transformers math: attention, softmax (shared/seeds/003)",
    ),
)


def build() -> Derivation:
    return Derivation(
        slug="multi-head-attention",
        title="Multi-head attention backward",
        summary=(
            "The backward pass of causal self-attention with several heads, composed from "
            "the single-head attention gradient: each head's gradients are attention-"
            "gradient's, with the gradient that reaches its output through the output "
            "projection, and the input's gradient sums over every head."
        ),
        conventions="Gradients, denominator layout: ∂L/∂W has the shape of W. Rows of H (T×n) "
        "are positions; weights multiply from the right (Qᵢ = H W_qi). G = ∂L/∂A is given "
        "(L = Σ G ∘ A). Attention is causal (mask M lower triangular) in every head. "
        "dOᵢ, dQᵢ, … name the gradients ∂L/∂Oᵢ, ∂L/∂Qᵢ, …; i numbers the heads.",
        variables=(
            ("H", "T×n input, one position per row"),
            ("W_qi, W_ki, W_vi", "n×d, n×d, n×e projections of head i (column blocks)"),
            ("W_oi", "e×n row block of the output projection for head i"),
            ("Qᵢ, Kᵢ, Vᵢ, Sᵢ, Pᵢ, Oᵢ", "head i's queries, keys, values, scores, weights, output"),
            ("A", "T×n output, A = Σᵢ OᵢW_oi"),
            ("G", "T×n upstream gradient ∂L/∂A"),
        ),
        definitions=DEFINITIONS,
        results=derive(),
        cases=(_case(HEADS), _case(3)),
        exercises=EXERCISES,
        network=Network(L, NETWORK_SIZES, {M: att.CausalMask(T)}),
    )
