"""Curves of results in one variable: σ′(x), H′(p), xₖ of gradient descent, vₜ of momentum.

A result whose derived expression, with its definitions unfolded, depends on one scalar
symbol (or on a step count and a few constants, held at stated values) is drawn over
that symbol's range: the derived expression as a line and the closed form as dots on it,
so the picture shows the two agree. An integer symbol (a step count k) is drawn at
k = 0, 1, …, 50. The range is the derivation's ``domain`` for that name, else (−4, 4).

Example:
    >>> from workbench.core import registry
    >>> plot_result_curves(registry.get("softmax-jacobian")) is None   # no scalar results
    True
"""

from __future__ import annotations

import numpy as np
import sympy as sp
from sympy.matrices.expressions.matexpr import MatrixElement

from workbench.core import algebra
from workbench.core.derivation import Derivation, Result
from workbench.notebook.canvas import Plot, _figure

DEFAULT_RANGE = (-4.0, 4.0)
STEPS = 50  # how far an integer variable (a step count) is drawn


def one_variable(derivation: Derivation, result: Result):
    """(the variable, the expression, the values held fixed) for a result worth a curve.

    A result in one scalar symbol is drawn against it. A result in a step count (an
    integer symbol) and at most two other scalars is drawn against the step count,
    the others held at the middle of their ``domain`` (else 1), as the caption says.
    None for anything else.
    """
    if result.goal.atoms(MatrixElement):
        # By a matrix's entry (∂L/∂W₂[p,q]): no result in one scalar. Checked before the
        # definitions are unfolded: a composed network's unfold into the whole block.
        return None
    try:
        expr = algebra.resolve(result.derived, derivation.definitions)
    except Exception:  # a result the resolver cannot unfold is simply not drawn
        return None
    if not isinstance(expr, sp.Expr) or expr.has(sp.Derivative, sp.Sum, sp.Subs):
        return None
    free = expr.free_symbols
    if not free or not all(isinstance(x, sp.Symbol) for x in free) or free & _sizes(result):
        return None  # a curve against a matrix size (∂μ/∂xⱼ = 1/n) says little
    if len(free) == 1:
        (variable,) = free
        fixed: dict[sp.Symbol, float] = {}
    else:
        steps = [x for x in free if x.is_integer]
        if len(steps) != 1 or len(free) > 3:
            return None
        (variable,) = steps
        fixed = {x: _typical(derivation, x) for x in sorted(free - {variable}, key=str)}
    if expr == variable:
        return None  # a result that is its own variable (E[m̂] = γ) has nothing to show
    return variable, expr, fixed


def _sizes(result: Result) -> set:
    """The symbols that are sizes of the matrices the result's goal mentions."""
    shapes = [m.shape for m in result.goal.atoms(sp.MatrixSymbol)]
    return {x for shape in shapes for d in shape for x in sp.sympify(d).free_symbols}


def _typical(derivation: Derivation, symbol: sp.Symbol) -> float:
    low, high = derivation.domain.get(symbol.name, (1.0, 1.0))
    return round((low + high) / 2, 6)


def _values(function, xs: np.ndarray) -> np.ndarray:
    with np.errstate(all="ignore"):  # outside its domain a result is left undrawn (nan)
        ys = np.asarray(function(xs), dtype=complex) * np.ones_like(xs)
    return np.where(np.abs(ys.imag) < 1e-12, ys.real, np.nan)


def plot_result_curves(derivation: Derivation) -> Plot | None:
    """One panel per one-variable result; None when no result is in one variable."""
    panels = []
    for result in derivation.results:
        found = one_variable(derivation, result)
        if found is not None:
            panels.append((result, *found))
    if not panels:
        return None
    fig = _figure(3.2 * len(panels) + 0.4, 2.8)
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    worst, held = 0.0, []
    for ax, (result, variable, expr, fixed) in zip(axes, panels, strict=True):
        closed = algebra.resolve(sp.sympify(result.closed_entry), derivation.definitions)
        derived_f = sp.lambdify(variable, expr.subs(fixed), "numpy")
        closed_f = sp.lambdify(variable, sp.sympify(closed).subs(fixed), "numpy")
        if variable.is_integer:
            xs = np.arange(STEPS + 1, dtype=float)
            ax.plot(xs, _values(derived_f, xs), "-", linewidth=1, label="derived")
        else:
            low, high = derivation.domain.get(variable.name, DEFAULT_RANGE)
            xs = np.linspace(low, high, 201)
            ax.plot(xs, _values(derived_f, xs), label="derived")
        dots = xs[:: max(1, len(xs) // 12)]
        closed_values = _values(closed_f, dots)
        ax.plot(dots, closed_values, "o", markersize=3.5, label="closed form")
        gap = np.abs(closed_values - _values(derived_f, dots))
        if np.any(np.isfinite(gap)):
            worst = max(worst, float(np.nanmax(gap)))
        ax.set_title(result.label, fontsize=10)
        ax.set_xlabel(variable.name)
        ax.legend(fontsize=7)
        if fixed:
            values = ", ".join(f"{k} = {v:g}" for k, v in fixed.items())
            held.append(f"{result.label} with {values}")
    caption = (
        f"{derivation.title}: results as SymPy derived them (line) and as the closed form "
        f"gives them (dots); the largest gap at the dots is {worst:.1e}."
    )
    if held:
        caption += " Held fixed: " + "; ".join(held) + "."
    return Plot(fig, caption)
