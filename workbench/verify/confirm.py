"""An independent numeric check of a claim: central differences of the function itself.

The verdict compares the claim with SymPy's derivative; this compares it with finite
differences of the function, at a test point where the function is defined, through
:func:`workbench.checks.gradcheck.check_gradient`. It does not change the verdict; it is
reported beside it, so a reader need not take SymPy's ``diff`` on trust.

Example:
    >>> import sympy as sp
    >>> x = sp.Symbol("x", real=True)
    >>> finite_differences(x**3, x, 3 * x**2, None, {x: sp.Rational(1, 2)})["passed"]
    True
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import sympy as sp

from workbench.checks.gradcheck import check_gradient
from workbench.verify.interpret import Value, is_matrix
from workbench.verify.points import entries

DIGITS = 20


def finite_differences(
    function: Value,
    variable: Value,
    claim: Value,
    layout: str | None,
    point: Mapping[sp.Symbol, sp.Expr],
) -> dict | None:
    """Central differences of ``function`` against ``claim`` at ``point``; None if not possible."""
    xs = entries(variable)
    held = {s: v for s, v in point.items() if s not in set(xs)}
    f_fixed = (
        function.xreplace(held) if is_matrix(function) else sp.sympify(function).xreplace(held)
    )
    c_fixed = claim.xreplace(held) if is_matrix(claim) else sp.sympify(claim).xreplace(held)
    x_shape = tuple(variable.shape) if is_matrix(variable) else ()
    vector_function = is_matrix(function)

    def at(value: Value, x: np.ndarray) -> np.ndarray:
        values = {s: sp.Float(float(v), DIGITS) for s, v in zip(xs, np.ravel(x), strict=True)}
        return np.array([complex(sp.N(e.xreplace(values), DIGITS)).real for e in entries(value)])

    def f(x):
        out = at(f_fixed, x)
        return out if vector_function else out.reshape(())

    def grad(x):
        g = at(c_fixed, x)
        if not vector_function:
            return g.reshape(x_shape)  # a gradient or a 1×n Jacobian row: one per coordinate
        rows, cols = len(entries(function)), len(xs)
        return g.reshape(cols, rows).T if layout == "gradient" else g.reshape(rows, cols)

    x0 = np.array([float(point[s]) for s in xs]).reshape(x_shape)
    try:
        report = check_gradient(f, grad, x0, method="central")
    except (TypeError, ValueError, ZeroDivisionError):
        return None  # a value that is not a real number at the point: nothing to compare
    return {
        "method": "central differences",
        "max_rel_error": float(f"{report.max_rel_error:.3g}"),
        "tolerance": report.tolerance,
        "passed": report.passed,
    }
