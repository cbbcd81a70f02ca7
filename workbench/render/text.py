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
