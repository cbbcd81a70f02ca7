"""The matrix-level functions: index entries, explicit entries and NumPy agree."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

from workbench.codegen import numeric
from workbench.core.functions import (
    ELEMENTWISE,
    Elementwise,
    LogSoftmax,
    MaskedSoftmax,
    Softmax,
    derivative_of,
    phi,
    scalar_function,
)

RNG = np.random.default_rng(7)


def _explicit(expr, values: dict) -> np.ndarray:
    """The expression written out entry by entry by SymPy, evaluated at ``values``."""
    substituted = expr.as_explicit().subs(
        {sp.MatrixSymbol(n, *v.shape): sp.Matrix(v) for n, v in values.items()}
    )
    return np.array(substituted.doit().evalf(30).tolist(), dtype=float)


def _softmax(x: np.ndarray, axis: int) -> np.ndarray:
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


@pytest.mark.parametrize("axis", [0, 1])
@pytest.mark.parametrize("shape", [(3, 2), (5, 4), (1, 6)])
def test_softmax_and_log_softmax_entries_are_the_textbook_ones(axis, shape):
    x = sp.MatrixSymbol("x", *shape)
    values = {"x": RNG.normal(size=shape)}
    expected = _softmax(values["x"], axis)
    assert np.allclose(_explicit(Softmax(x, axis), values), expected, rtol=1e-14)
    assert np.allclose(_explicit(LogSoftmax(x, axis), values), np.log(expected), rtol=1e-14)


def test_softmax_in_index_notation_is_exp_over_the_sum_of_exps():
    n = sp.Symbol("n", integer=True, positive=True)
    z = sp.MatrixSymbol("z", n, 1)
    i = sp.Symbol("i", integer=True)
    entry = Softmax(z)[i, 0]
    numerator, denominator = entry.as_numer_denom()
    assert numerator == sp.exp(z[i, 0]) and isinstance(denominator, sp.Sum)
    assert Softmax(z).shape == (n, 1) and Softmax(z, 1).axis == 1
    log_sum = z[i, 0] - LogSoftmax(z)[i, 0]
    assert isinstance(log_sum, sp.log) and log_sum.args[0].function == sp.exp(
        z[log_sum.args[0].variables[0], 0]
    )


def test_masked_softmax_gives_masked_entries_zero_weight():
    x, m = sp.MatrixSymbol("x", 3, 3), sp.MatrixSymbol("M", 3, 3)
    mask = np.tril(np.ones((3, 3)))
    values = {"x": RNG.normal(size=(3, 3)), "M": mask}
    got = _explicit(MaskedSoftmax(x, m), values)
    assert np.all(got[mask == 0] == 0)
    assert np.allclose(got.sum(axis=1), 1.0, rtol=1e-14)


@pytest.mark.parametrize("name", sorted(set(ELEMENTWISE) - {"phi", "phi_prime"}))
def test_elementwise_entries_apply_the_scalar_function(name):
    x = sp.MatrixSymbol("x", 2, 3)
    values = {"x": RNG.uniform(0.1, 1.5, size=(2, 3))}  # off ReLU's kink
    f = scalar_function(name)
    expected = np.array([[float(f(sp.Float(v, 30))) for v in row] for row in values["x"]])
    assert np.allclose(_explicit(Elementwise(name, x), values), expected, rtol=1e-13)


def test_an_unknown_elementwise_name_is_refused():
    with pytest.raises(ValueError, match="unknown elementwise function"):
        Elementwise("no_such_function", sp.MatrixSymbol("x", 2, 1))


def test_derivative_of_is_the_derivative_sympy_knows():
    u = sp.Symbol("u")
    assert derivative_of(sp.tanh)(u) == sp.diff(sp.tanh(u), u)
    assert derivative_of(phi)(u).subs(phi, sp.tanh).doit() == sp.diff(sp.tanh(u), u)


def test_generated_code_agrees_with_the_explicit_entries():
    """The NumPy helpers and SymPy's written-out entries are the same function."""
    x = sp.MatrixSymbol("x", 4, 3)
    values = {"x": RNG.normal(size=(4, 3)) * 3}
    for expr in (Softmax(x, 1), LogSoftmax(x, 0), Elementwise("tanh", x)):
        code = numeric.compile_numpy([x], expr)
        assert np.allclose(code(values["x"]), _explicit(expr, values), rtol=1e-13)
