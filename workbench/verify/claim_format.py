"""Print a parsed claim back: as canonical text and as LaTeX, in matrix notation.

Printing works on the parse tree, not on SymPy's explicit matrices, so ``2*A @ x``
prints as :math:`2 A x` rather than as a column of sums of entries.

Example:
    >>> from workbench.verify.parsing import parse
    >>> unparse(parse("diag(s)-s@s.T"))
    'diag(s) - s @ s.T'
    >>> to_latex(parse("inv(X).T"))
    '\\\\left(X^{-1}\\\\right)^{\\\\top}'
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from contextvars import ContextVar

from workbench.verify.parsing import (
    Binary,
    Call,
    Derivative,
    Index,
    Kronecker,
    Name,
    Node,
    Number,
    Subscript,
    Sum,
    Transpose,
    Unary,
    children,
    walk,
)

# How tightly each kind of node binds; a child that binds more loosely gets parentheses.
_PRECEDENCE = {"+": 10, "-": 10, "*": 20, "/": 20, "@": 20, "**": 40}
_UNARY, _POSTFIX, _ATOM = 30, 50, 60

_GREEK = set(
    [
        "alpha",
        "beta",
        "gamma",
        "delta",
        "epsilon",
        "zeta",
        "eta",
        "theta",
        "iota",
        "kappa",
        "lambda",
        "mu",
        "nu",
        "xi",
        "pi",
        "rho",
        "sigma",
        "tau",
        "upsilon",
        "phi",
        "chi",
        "psi",
        "omega",
        "Gamma",
        "Delta",
        "Theta",
        "Lambda",
        "Xi",
        "Pi",
        "Sigma",
        "Phi",
        "Psi",
        "Omega",
    ]
)
_LATEX_CALLS = {
    "exp": r"\exp",
    "log": r"\log",
    "sin": r"\sin",
    "cos": r"\cos",
    "tanh": r"\tanh",
    "det": r"\det",
    "sigmoid": r"\sigma",
    "trace": r"\operatorname{tr}",
    "max": r"\max",
    "min": r"\min",
}


def _precedence(node: Node) -> int:
    if isinstance(node, Binary):
        return _PRECEDENCE[node.op]
    if isinstance(node, Unary):
        return _UNARY
    if isinstance(node, Transpose | Index | Subscript):
        return _POSTFIX
    if isinstance(node, Sum):
        return _UNARY  # Σ takes the product after it: (Σ x_k) y needs its parentheses
    return _ATOM


def _needs_parentheses(child: Node, parent_precedence: int, right: bool, op: str) -> bool:
    precedence = _precedence(child)
    if op == "**":  # right-associative: parenthesise the base, not the exponent
        return precedence <= parent_precedence if not right else precedence < parent_precedence
    return precedence < parent_precedence or (right and precedence == parent_precedence)


# ---------------------------------------------------------------- text
def unparse(node: Node) -> str:
    """Canonical text of ``node``: explicit ``*``, spaced ``+ - @``, minimal parentheses."""
    if isinstance(node, Number):
        return node.text
    if isinstance(node, Name):
        return node.name
    if isinstance(node, Unary):
        return node.op + _wrapped_text(node.operand, _UNARY, True, "")
    if isinstance(node, Transpose):
        return _wrapped_text(node.operand, _POSTFIX, False, "") + ".T"
    if isinstance(node, Index):
        inside = ", ".join(_index_text_of(i) for i in node.indices)
        return _wrapped_text(node.operand, _POSTFIX, False, "") + f"[{inside}]"
    if isinstance(node, Call):
        axis = [] if node.axis is None else [f"axis={node.axis}"]
        return f"{node.function}({', '.join([*(unparse(a) for a in node.args), *axis])})"
    if not isinstance(node, Binary):
        return _index_text(node)
    precedence = _PRECEDENCE[node.op]
    left = _wrapped_text(node.left, precedence, False, node.op)
    right = _wrapped_text(node.right, precedence, True, node.op)
    separator = node.op if node.op in ("*", "/", "**") else f" {node.op} "
    if node.op == "@" and node.implicit and any(map(_is_scaling, (node.left, node.right))):
        separator = "*"  # a LaTeX product with a number or an entry is a scaling: 2 x, y_k s_k
    return f"{left}{separator}{right}"


def _index_text_of(index) -> str:
    if index is None:
        return ":"
    return str(index) if isinstance(index, int) else unparse(index)


def shown_claim(typed: str, node: Node) -> str:
    """What a report prints as the claim it read, in a form the user can type back.

    A claim typed in the plain language is printed canonically in it (``2*x``,
    ``sum(w[k]**2 for k in 0..n - 1)``); one typed in LaTeX is printed as typed (without
    ``$`` and spare spaces): the form :func:`unparse` gives its index notation (``y_k``,
    ``delta_ij``) is not the claim language, so it is never printed where the claim
    language is expected.

    Example:
        >>> from workbench.verify.parsing import parse
        >>> shown_claim("2 x", parse("2 x")), shown_claim(r"$s_j  - y_j$", Name("s", 1))
        ('2*x', 's_j - y_j')
    """
    if not _index_free(node) or any(ch in typed for ch in "\\{}$"):
        return " ".join(typed.strip().strip("$").split())
    return unparse(node)


def _index_free(node: Node) -> bool:
    """No node only LaTeX writes: an entry by subscript, δ, ∂, a sum without limits."""
    return not any(
        isinstance(n, Subscript | Kronecker | Derivative)
        or (isinstance(n, Sum) and (n.op != "sum" or n.lower is None or n.upper is None))
        for n in walk(node)
    )


def _is_scaling(node: Node) -> bool:
    """A number, or index notation (an entry, a sum of entries, δ): a scalar."""
    return _is_number(node) or any(isinstance(n, Subscript | Kronecker) for n in walk(node))


def _is_number(node: Node) -> bool:
    if isinstance(node, Binary):
        return node.op in ("/", "*", "**") and _is_number(node.left) and _is_number(node.right)
    return isinstance(node, Number) or (isinstance(node, Unary) and _is_number(node.operand))


def _index_text(node: Node) -> str:
    """Index notation, which only LaTeX input writes: x_1, W_ij, sum_{k=1}^{n}(...)."""
    if isinstance(node, Subscript):
        return _wrapped_text(node.base, _POSTFIX, False, "") + f"_{node.text}"
    if isinstance(node, Kronecker):
        return f"delta_{unparse(node.first)}{unparse(node.second)}"
    if isinstance(node, Derivative):
        return f"diff({unparse(node.body)}, {unparse(node.variable)})"
    assert isinstance(node, Sum)
    if node.op == "sum" and node.lower is not None and node.upper is not None:
        # The plain language's sum over an index, both limits included.
        limits = f"{unparse(node.lower)}..{unparse(node.upper)}".replace(" ", "")
        return f"sum({unparse(node.body)} for {node.index} in {limits})"
    limits = ""
    if node.lower is not None and node.upper is not None:
        limits = f"={unparse(node.lower)}..{unparse(node.upper)}"
    return f"{node.op}_{{{node.index}{limits}}}({unparse(node.body)})"


def _wrapped_text(child: Node, precedence: int, right: bool, op: str) -> str:
    text = unparse(child)
    if text.startswith("sum(") and isinstance(child, Sum):
        return text  # sum(... for k in a..b) is a call: its parentheses are its own
    if _needs_parentheses(child, precedence, right, op) or _mixes_products(child, op):
        return f"({text})"
    return text


def _mixes_products(child: Node, op: str) -> bool:
    """An entrywise product inside a matrix product, or the reverse, gets parentheses.

    ``*`` and ``@`` bind equally, left to right, so ``A @ b*c @ d`` is already
    ``((A @ b)*c) @ d``; but a reader would take it for ``A @ (b*c) @ d``. A scalar
    coefficient (``2*A @ x``) reads unambiguously and stays bare.
    """
    if not isinstance(child, Binary):
        return False
    if op == "@" and child.op in ("*", "/"):
        return not isinstance(child.left, Number)
    return op in ("*", "/") and child.op == "@"


# ---------------------------------------------------------------- LaTeX
def latex_name(name: str) -> str:
    """``W1`` → ``W_{1}``, ``x_i`` → ``x_{i}``, ``alpha`` → ``\\alpha``; a derivative
    ``f`` with primes → ``f'`` up to three, ``f^{(4)}`` beyond."""
    primes = len(name) - len(name.rstrip("'"))
    if primes:
        base = latex_name(name[:-primes])
        return base + ("'" * primes if primes <= 3 else f"^{{({primes})}}")
    base, _, subscript = name.partition("_")
    if not subscript:
        match = re.fullmatch(r"([A-Za-z]+)(\d+)", name)
        if match:
            base, subscript = match.groups()
    base = f"\\{base}" if base in _GREEK else (base if len(base) == 1 else rf"\mathrm{{{base}}}")
    return f"{base}_{{{subscript}}}" if subscript else base


# Names that hold a vector or a matrix, while :func:`claim_latex` prints: their entrywise
# products print as ⊙ (a ``\cdot`` between matrices reads as the matrix product).
_MATRICES: ContextVar[frozenset[str]] = ContextVar("matrices", default=frozenset())


def claim_latex(node: Node, matrices: Iterable[str] = ()) -> str:
    r""":func:`to_latex`, with ``*`` between operands that name a matrix of ``matrices``
    printed ``\odot`` (and grouped), so that the LaTeX reads back as the claim it shows."""
    token = _MATRICES.set(frozenset(matrices))
    try:
        return to_latex(node)
    finally:
        _MATRICES.reset(token)


_REDUCTIONS = frozenset({"sum", "mean", "norm", "trace", "det", "logsumexp"})


def _holds_matrix(node: Node) -> bool:
    """Whether ``node`` is a vector or a matrix, from its names (:data:`_MATRICES`): a
    reduction without an axis (sum, mean, norm, trace, det, logsumexp) and an entry are
    scalars."""
    names = _MATRICES.get()
    if not names or isinstance(node, Number):
        return False
    if isinstance(node, Name):
        return node.name in names
    if isinstance(node, Call):
        if node.function in _REDUCTIONS and node.axis is None:
            return False
        if node.function in ("max", "min") and len(node.args) == 1 and node.axis is None:
            return False  # the largest entry
        return any(_holds_matrix(a) for a in node.args)
    if isinstance(node, Index):
        return None in node.indices
    return any(_holds_matrix(child) for child in children(node))


def to_latex(node: Node) -> str:
    """LaTeX of ``node`` in matrix notation (``@`` is juxtaposition, ``.T`` is ⊤)."""
    if isinstance(node, Number):
        return node.text
    if isinstance(node, Name):
        return latex_name(node.name)
    if isinstance(node, Unary):
        return node.op + _wrapped_latex(node.operand, _UNARY, True, "")
    if isinstance(node, Transpose):
        return _wrapped_latex(node.operand, _POSTFIX, False, "**") + r"^{\top}"
    if isinstance(node, Index):
        inside = ",".join(_index_latex_of(i) for i in node.indices)
        return _wrapped_latex(node.operand, _POSTFIX, False, "**") + f"_{{{inside}}}"
    if isinstance(node, Call):
        return _call_latex(node)
    if not isinstance(node, Binary):
        return _index_latex(node)
    if node.op == "/":
        return rf"\frac{{{to_latex(node.left)}}}{{{to_latex(node.right)}}}"
    if node.op == "**":
        base = _wrapped_latex(node.left, 40, False, "**")
        return f"{base}^{{{to_latex(node.right)}}}"
    precedence = _PRECEDENCE[node.op]
    left = _wrapped_latex(node.left, precedence, False, node.op)
    right = _wrapped_latex(node.right, precedence, True, node.op)
    if node.op in "+-":
        return f"{left} {node.op} {right}"
    if node.op == "@" or (isinstance(node.left, Number) and not isinstance(node.right, Number)):
        # A ⊙ product inside a juxtaposed one is grouped: read back, ⊙ binds more loosely.
        left, right = (
            rf"\left({to_latex(child)}\right)" if _is_odot(child) else text
            for child, text in ((node.left, left), (node.right, right))
        )
        return f"{left} {right}"
    if _is_odot(node):
        # Entry by entry; ⊙ binds more loosely than juxtaposition when read, so each
        # side that is itself a product or a sum is grouped.
        left, right = (_grouped(child) for child in (node.left, node.right))
        return rf"{left} \odot {right}"
    return rf"{left} \cdot {right}"


def _index_latex_of(index) -> str:
    if index is None:
        return ":"
    return str(index) if isinstance(index, int) else to_latex(index)


def _is_odot(node: Node) -> bool:
    """An entrywise product of two matrices: printed with ⊙."""
    return (
        isinstance(node, Binary)
        and node.op == "*"
        and not isinstance(node.left, Number)
        and _holds_matrix(node.left)
        and _holds_matrix(node.right)
    )


def _grouped(child: Node) -> str:
    text = to_latex(child)
    if isinstance(child, Binary | Unary):
        return rf"\left({text}\right)"
    return text


def _index_latex(node: Node) -> str:
    if isinstance(node, Subscript):
        return _wrapped_latex(node.base, _POSTFIX, False, "**") + f"_{{{node.text}}}"
    if isinstance(node, Kronecker):
        return rf"\delta_{{{to_latex(node.first)}{to_latex(node.second)}}}"
    if isinstance(node, Derivative):
        return rf"\frac{{\partial {to_latex(node.body)}}}{{\partial {to_latex(node.variable)}}}"
    assert isinstance(node, Sum)
    command = {"sum": r"\sum", "prod": r"\prod"}.get(node.op, rf"\{node.op}")  # \max_i x_i
    if node.lower is None or node.upper is None:
        return rf"{command}_{{{node.index}}} {to_latex(node.body)}"
    lower, upper = to_latex(node.lower), to_latex(node.upper)
    return rf"{command}_{{{node.index}={lower}}}^{{{upper}}} {to_latex(node.body)}"


def _wrapped_latex(child: Node, precedence: int, right: bool, op: str) -> str:
    text = to_latex(child)
    if isinstance(child, Sum) and not right and op in ("*", "@", "**"):
        return rf"\left({text}\right)"  # Σ takes every factor after it: (Σ x_k) y
    if _needs_parentheses(child, precedence, right, op) or (
        op == "**" and isinstance(child, Call) and child.function in ("inv", "outer", "eye")
    ):
        return rf"\left({text}\right)"
    return text


def _call_latex(node: Call) -> str:
    args = [to_latex(a) for a in node.args]
    name = node.function
    if node.axis is not None:  # NumPy's axis, as a subscript: sum_{axis=0}(X)
        command = r"\textstyle\sum" if name == "sum" else rf"\operatorname{{{name}}}"
        command = _LATEX_CALLS.get(name, command) if name in ("max", "min") else command
        return rf"{command}_{{\text{{axis}}={node.axis}}}\left({args[0]}\right)"
    if name == "sqrt":
        return rf"\sqrt{{{args[0]}}}"
    if name == "abs":
        return rf"\left|{args[0]}\right|"
    if name == "inv":
        return _wrapped_latex(node.args[0], _POSTFIX, False, "**") + "^{-1}"
    if name == "eye":
        return f"I_{{{args[0]}}}"
    if name == "outer":
        return f"{_wrapped_latex(node.args[0], 20, False, '@')} " + (
            _wrapped_latex(node.args[1], _POSTFIX, False, "**") + r"^{\top}"
        )
    if name == "sum":
        return rf"\textstyle\sum \left({args[0]}\right)"
    if name == "diff":
        return rf"\frac{{\partial}}{{\partial {args[1]}}} \left({args[0]}\right)"
    command = _LATEX_CALLS.get(name, rf"\operatorname{{{name}}}")
    return rf"{command}\left({', '.join(args)}\right)"
