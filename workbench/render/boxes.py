"""Whether a result's boxed "matrix notation" really is matrix notation.

A handout boxes two forms of each result (one, when they print alike: a scalar result
has no separate matrix form): the derived one (entry by entry, with free
indices) and the closed form "in matrix notation that it was compared with". The second
box says something only if it is a matrix statement: no index left free, not the first
box again, a vector where the derivative by a vector is a vector, and the result's own
symbols rather than a program's names. :func:`box_problems` says what is wrong, in words.

Example:
    >>> import sympy as sp
    >>> from workbench.core.derivation import Result, Step
    >>> x, i = sp.MatrixSymbol("x", 3, 1), sp.Symbol("i")
    >>> steps = (Step(sp.Derivative(x[i, 0] ** 2, x[i, 0]), 2 * x[i, 0], "power", "", ""),)
    >>> box_problems(Result("∂f/∂xᵢ", steps, 2 * x))
    []
    >>> box_problems(Result("∂f/∂xᵢ", steps, 2 * x[i, 0]))
    ['free index i', 'entries (x[i, 0]) in the matrix box', 'the same as the index form']
"""

from __future__ import annotations

import re

import sympy as sp
from sympy.matrices.expressions.matexpr import MatrixElement

from workbench.render.latex import expr_to_latex
from workbench.render.marks import boxed_form

INDEX_FORMS = (sp.KroneckerDelta, sp.Indexed)
PROGRAM_NAMES = re.compile(r"(?<![\\A-Za-z])[A-Za-z]+(?:inv|Inv|_inv|T)\b")


def box_problems(result) -> list[str]:
    """What keeps ``result.closed_form`` from being a right box in matrix notation."""
    form, goal = boxed_form(result), result.goal
    problems = []
    indices = _indices(goal)
    free = sorted(str(s) for s in form.free_symbols if s in indices)
    if free:
        problems.append(f"free index {', '.join(free)}")
    # The one entry of a 1 × 1 matrix is a number, printed as the matrix's bare name.
    entries = sorted({str(e) for e in form.atoms(MatrixElement) if e.parent.shape != (1, 1)})
    if entries:
        problems.append(f"entries ({', '.join(entries[:3])}) in the matrix box")
    if form.atoms(*INDEX_FORMS):
        problems.append("Kronecker deltas or indexed terms in the matrix box")
    if indices and expr_to_latex(form) == expr_to_latex(result.derived):
        problems.append("the same as the index form")
    if "I_{1}" in expr_to_latex(form):
        problems.append("a 1 × 1 identity where the number 1 is meant")
    if _by_an_entry(goal) and not _has_shape(form) and indices:
        problems.append("a scalar, where the derivative by a vector or matrix is one")
    names = PROGRAM_NAMES.findall(expr_to_latex(form))
    if names:
        problems.append(f"a program's name ({names[0]}) instead of the symbol")
    return problems


def _indices(goal) -> set[sp.Symbol]:
    """The index symbols of the derived form: those that index an entry in the goal. A
    summation index bound inside the goal (Σₙ cₙ cos(2πqn/N)) indexes no entry of the
    result."""
    out: set[sp.Symbol] = set()
    for element in goal.atoms(MatrixElement):
        out |= {s for s in element.args[1:] if isinstance(s, sp.Symbol)}
    return out & goal.free_symbols


def _by_an_entry(goal) -> bool:
    return isinstance(goal, sp.Derivative) and any(
        isinstance(v, MatrixElement) for v, _ in goal.variable_count
    )


def _has_shape(form) -> bool:
    if getattr(form, "is_Matrix", False) or isinstance(form, sp.MatrixExpr):
        return True
    return any(isinstance(a, sp.MatrixExpr) for a in sp.preorder_traversal(form))
