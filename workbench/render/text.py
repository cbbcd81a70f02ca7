"""Plain-text rendering of expressions and step chains, for terminals.

Matrix elements print as ``z[i]`` (column vectors) or ``W[a,b]``, deltas as ``δ(i,j)``,
sums as ``Σ_k=0..n-1 (...)`` and derivatives as ``∂(...)/∂z[j]``; a closed form prints
in the claim language (:func:`closed_form_text`: ``sum(... for k in 0..n-1)``).
"""

from __future__ import annotations

import sympy as sp
from sympy.matrices.expressions.matexpr import MatrixElement

from workbench.codegen.claim_text import ClaimPrinter
from workbench.core.derivation import note_parts

BOUND_NAMES = "klrtuvw"  # avoids i, j, p, q (free indices) and n, m, d (sizes)


def bound_name(symbol: sp.Symbol) -> str | None:
    """Display name for a canonical bound variable ``_s0`` → ``k``; None for other symbols."""
    name = symbol.name
    if name.startswith("_s") and name[2:].isdigit():
        index = int(name[2:])
        return BOUND_NAMES[index] if index < len(BOUND_NAMES) else f"k{index}"
    return None


class TextPrinter(ClaimPrinter):
    """A compact one-line printer for index notation; matrix expressions print in the
    claim language (:class:`~workbench.codegen.claim_text.ClaimPrinter`), so a closed form shown
    by ``workbench show`` can be pasted back as a claim."""

    def _print_Symbol(self, expr):
        return bound_name(expr) or super()._print_Symbol(expr)

    def _print_Dummy(self, expr):
        return expr.name

    index_separator = ","  # compact: W[a,b]

    def _as_ordered_terms(self, expr, order=None):
        # As the handouts order a sum: s - phat, not -phat + s; sigma_sq + epsilon.
        return conventional_terms(expr)

    def _print_KroneckerDelta(self, expr):
        return f"δ({self._print(expr.args[0])},{self._print(expr.args[1])})"

    def _print_Sum(self, expr):
        out = self._print(expr.function)
        for var, lo, hi in expr.limits:  # innermost first
            hi_text = self._print(hi).replace(" ", "")
            out = f"Σ_{self._print(var)}={self._print(lo)}..{hi_text} ({out})"
        return out

    def _print_Derivative(self, expr):
        variables = "".join(f"∂{self._print(v)}" for v, c in expr.variable_count for _ in range(c))
        return f"∂({self._print(expr.expr)})/{variables}"


class ClosedFormPrinter(TextPrinter):
    """:class:`TextPrinter` with sums in the claim language, ``sum(w[k]**2 for k in
    0..n-1)``: the closed form ``workbench show`` prints is one a user may paste back as
    a claim. (The steps keep the shorter Σ: they hold δ and ∂, which no claim writes.)"""

    _print_Sum = ClaimPrinter._print_Sum


def to_text(expr) -> str:
    return TextPrinter().doprint(expr)


def closed_form_text(expr) -> str:
    """A closed form in the claim language (see :class:`ClosedFormPrinter`)."""
    return ClosedFormPrinter().doprint(expr)


def shown_to_text(shown) -> str:
    """What a note shows of its step (:class:`~workbench.core.derivation.Shown`), as the
    step prints: ``z[k] = b2[k] + Σ_l=0..m-1 (W2[k,l]*h[l])``."""
    return " and ".join(f"{to_text(lhs)} = {to_text(rhs)}" for lhs, rhs in shown.equations)


def note_to_text(step) -> str:
    """A step's note, its ``{}`` fields filled in the notation of :func:`to_text`."""
    return "".join(p if isinstance(p, str) else shown_to_text(p) for p in note_parts(step))


def render_steps(derivation) -> str:
    """The whole derivation as numbered steps, each with its rule and note."""
    lines = [
        f"{derivation.title}  ({derivation.slug})",
        "",
        derivation.summary,
        "",
        f"Convention: {derivation.conventions}",
        "",
    ]
    for name, meaning in derivation.variables:
        lines.append(f"  {name}: {meaning}")
    for result in derivation.results:
        lines += ["", f"── {result.label} ──", f"   {to_text(result.goal)}"]
        for number, step in enumerate(result.steps, 1):
            lines.append(f"{number:>2}. = {to_text(step.after)}")
            lines.append(f"      [{step.rule}] {note_to_text(step)}")
            for fact in result.assumed(step):  # shown as assumed: nothing checks it
                lines.append(f"      assumed: {to_text(fact.lhs)} = {to_text(fact.rhs)}")
        closed, entry = result.closed_form, result.entry
        if isinstance(closed, MatrixElement) and entry is not None:
            # An entry of a matrix expression: print the matrix (brackets are not claim
            # language); the entry is said beside it.
            closed, entry = closed.parent, (closed.i, closed.j)
        where = f"(entry {to_text(entry[0])},{to_text(entry[1])})" if entry else "(a scalar)"
        lines.append(f"   closed form: {closed_form_text(closed)}  {where}")
    return "\n".join(lines)


def conventional_terms(expr) -> list:
    """The terms of a sum in the order a teacher writes them: SymPy's order, but the
    terms it would print with a minus sign after the others (``s - p``, not ``-p + s``;
    ``x_j - \\mu``, not ``-\\mu + x_j``), and a regulariser ε after what it guards
    (``\\sigma^{2} + \\varepsilon``). A sum of negative terms only keeps its order.

    Example:
        >>> import sympy as sp
        >>> p, s = sp.symbols("p s")
        >>> conventional_terms(s - p)
        [s, -p]
    """
    terms = list(expr.args) if isinstance(expr, sp.MatAdd) else list(expr.as_ordered_terms())
    positive = [t for t in terms if not _negative(t)]
    negative = [t for t in terms if _negative(t)]
    # A regulariser ε comes after what it guards: σ² + ε, not ε + σ².
    positive = [t for t in positive if not _is_epsilon(t)] + [t for t in positive if _is_epsilon(t)]
    return positive + negative


EPSILONS = ("epsilon", "eps", "varepsilon")


def _is_epsilon(term) -> bool:
    """ε alone, or ε times a matrix of ones (ε added to every entry)."""
    if isinstance(term, sp.Symbol):
        return term.name in EPSILONS
    if isinstance(term, sp.MatMul):
        scalars = [a for a in term.args if not isinstance(a, sp.MatrixExpr)]
        ones = [a for a in term.args if isinstance(a, sp.MatrixExpr)]
        return (
            len(scalars) == 1
            and _is_epsilon(scalars[0])
            and all(isinstance(a, sp.OneMatrix) for a in ones)
        )
    return False


def _negative(term) -> bool:
    """Whether ``term`` prints with a leading minus (a matrix product by its scalars)."""
    if isinstance(term, sp.MatMul):
        scalars = [a for a in term.args if not isinstance(a, sp.MatrixExpr)]
        return sp.Mul(*scalars).could_extract_minus_sign()
    return term.could_extract_minus_sign()
