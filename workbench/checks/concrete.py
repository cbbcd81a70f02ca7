"""A derivation's case at concrete sizes: its forward, SymPy's gradient of it, a result
written out, and the case's facts, as explicit SymPy expressions.

Shared by SymPy's diff check and the verifier's catalogue claims.
"""

from __future__ import annotations

from collections.abc import Mapping

import sympy as sp

from workbench.codegen import numeric
from workbench.core import algebra
from workbench.core.algebra import substitute as substitute  # its callers read it here
from workbench.core.derivation import Case, Derivation


def explicit_forward(case: Case, sizes: Mapping) -> sp.Matrix:
    """The case's definition written out at concrete ``sizes`` (substitutions applied)."""
    return substitute(case.forward.subs(sizes).as_explicit(), case.substitutions).doit()


def sympy_gradient(case: Case, sizes: Mapping, wrt: sp.MatrixSymbol, forward=None) -> sp.Matrix:
    """SymPy's own derivative of ``case.forward`` at concrete ``sizes``.

    Gradient layout for a scalar forward; numerator-layout Jacobian for a vector one.
    """
    forward = explicit_forward(case, sizes) if forward is None else forward
    x = wrt.subs(sizes).as_explicit()
    if forward.shape == (1, 1):
        loss = forward[0, 0]
        return sp.Matrix(x.shape[0], x.shape[1], lambda a, b: sp.diff(loss, x[a, b]))
    if x.shape[1] != 1 or forward.shape[1] != 1:
        raise ValueError("Jacobians are taken of column vectors with respect to column vectors")
    return sp.Matrix(forward.shape[0], x.shape[0], lambda r, c: sp.diff(forward[r, 0], x[c, 0]))


def instantiate_result(derivation: Derivation, label: str, case: Case, sizes, resolved=None):
    """The general-n derived result written out as a matrix at concrete ``sizes``."""
    result = derivation.result(label)
    if resolved is None:
        resolved = algebra.resolve(result.derived, derivation.definitions)
    # Expand the sums once at these sizes, indices still free; each entry then only
    # substitutes its indices (the deltas evaluate as they are rebuilt). The case's
    # concrete functions (φ = ReLU, say) go in last: SymPy sums Piecewise terms poorly.
    expanded = algebra.instantiate(resolved, sizes)
    rows, cols = (int(sp.sympify(d).subs(sizes)) for d in result.closed_form.shape)
    row_index, col_index = result.entry if result.entry is not None else (0, 0)

    def entry(a, b):
        values = {}
        if isinstance(row_index, sp.Symbol):
            values[row_index] = a
        if isinstance(col_index, sp.Symbol):
            values[col_index] = b
        return substitute(algebra.instantiate(expanded, values), case.substitutions).doit()

    return sp.Matrix(rows, cols, entry)


def concrete_assumptions(case: Case, sizes) -> list:
    """The case's facts at concrete sizes, as (lhs, rhs) pairs of explicit expressions."""
    facts = case.assumptions(sizes) if callable(case.assumptions) else case.assumptions
    return [
        (algebra.instantiate(lhs, sizes), algebra.instantiate(rhs, sizes)) for lhs, rhs in facts
    ]


def derived_at_random_inputs(result, case: Case, definitions: Mapping, seed: int):
    """A route for a solved form: the derived matrix expression (``result.derived`` is an
    entry of it) against the goal's, both compiled to NumPy and evaluated at the same
    seeded random inputs. It reads the derived result, so a wrong solve cannot pass.
    Both are a few float64 operations on well-conditioned inputs (rtol 1e-9)."""
    args, sizes = list(case.samplers), case.numeric_size
    inputs = numeric.sample_inputs(case.samplers, sizes, seed)
    values = [inputs[a] for a in args]
    derived, goal = (
        algebra.expand_names(e.parent, definitions) for e in (result.derived, result.goal)
    )
    computed = numeric.compile_numpy(args, derived, sizes)(*values)
    return computed, numeric.compile_numpy(args, goal, sizes)(*values), 1e-9
