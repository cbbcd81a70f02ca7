"""Generated code is vectorised and numerically stable."""

from __future__ import annotations

import numpy as np
import sympy as sp

from workbench.codegen import numeric
from workbench.core.functions import Elementwise, LogSoftmax, Softmax

n = sp.Symbol("n", integer=True, positive=True)
z = sp.MatrixSymbol("z", n, 1)
y = sp.MatrixSymbol("y", n, 1)


def test_softmax_of_large_logits_is_finite_and_right():
    f = numeric.compile_numpy([z], Softmax(z), {n: 2})
    out = f(np.array([[1000.0], [1001.0]])).ravel()
    assert np.all(np.isfinite(out))
    np.testing.assert_allclose(out, [1 / (1 + np.e), np.e / (1 + np.e)], rtol=1e-14)


def test_cross_entropy_at_plus_minus_1000_is_finite_and_right():
    loss = numeric.compile_numpy([z, y], -(y.T * LogSoftmax(z)), {n: 3})
    grad = numeric.compile_numpy([z, y], Softmax(z) - y, {n: 3})
    logits = np.array([[1000.0], [-1000.0], [0.0]])
    target = np.array([[0.0], [1.0], [0.0]])
    assert float(loss(logits, target)[0, 0]) == 2000.0
    np.testing.assert_allclose(grad(logits, target).ravel(), [1.0, -1.0, 0.0], atol=1e-300)


def test_log_of_softmax_is_printed_as_log_softmax():
    source = numeric.source([z], Elementwise("log", Softmax(z)), {n: 3})
    assert "log_softmax" in source
    f = numeric.compile_numpy([z], Elementwise("log", Softmax(z)), {n: 2})
    assert np.all(np.isfinite(f(np.array([[-1000.0], [1000.0]]))))


def test_generated_code_is_vectorised():
    from sympy.matrices.expressions.diagonal import DiagMatrix

    s = Softmax(z)
    source = numeric.source([z], DiagMatrix(s) - s * s.T, {n: 50})
    assert "@" in source and "diagflat" in source
    assert ".dot(" not in source  # a scalar factor is a product, not .dot(-1)
    assert source.count("z") < 10  # not scalar-expanded into 2,500 entries


def test_helpers_pass_the_complex_step_through():
    x = np.array([0.3, -1.2]) + 1e-20j
    for helper, derivative in (
        (numeric.sigmoid, lambda t: numeric.sigmoid(t) * (1 - numeric.sigmoid(t))),
        (np.tanh, lambda t: 1 - np.tanh(t) ** 2),
        (numeric.relu, lambda t: (t > 0).astype(float)),
    ):
        np.testing.assert_allclose(helper(x).imag / 1e-20, derivative(x.real), rtol=1e-14)


def test_sigmoid_is_stable_at_the_extremes():
    out = numeric.sigmoid(np.array([-1000.0, 0.0, 1000.0]))
    np.testing.assert_array_equal(out, [0.0, 0.5, 1.0])


def test_products_with_ones_are_sums_not_matrix_products():
    # Attention's row sums (dP ∘ P) 1 1ᵀ, and a bias broadcast 1 bᵀ over a batch.
    T = sp.Symbol("T", integer=True, positive=True)
    A = sp.MatrixSymbol("A", T, T)
    b = sp.MatrixSymbol("b", T, 1)
    ones = sp.OneMatrix(T, 1)
    expr = A * ones * ones.T + ones * b.T - 3 * (ones.T * A).T * ones.T
    source = numeric.source([A, b], expr, {T: 4})
    assert "numpy.ones" not in source and "broadcast_to" in source
    rng = np.random.default_rng(0)
    a_value, b_value = rng.normal(size=(4, 4)), rng.normal(size=(4, 1))
    one = np.ones((4, 1))
    expected = a_value @ one @ one.T + one @ b_value.T - 3 * (one.T @ a_value).T @ one.T
    got = numeric.compile_numpy([A, b], expr, {T: 4})(a_value, b_value)
    np.testing.assert_allclose(got, expected, rtol=1e-14)


def test_gradients_compiled_together_share_the_forward_pass():
    W = sp.MatrixSymbol("W", n, n)
    hidden = Elementwise("tanh", W * z)
    both = [hidden * z.T, sp.HadamardProduct(hidden, hidden)]
    source = numeric.source_all([W, z], both, {n: 3})
    assert source.count("numpy.tanh") == 1
    rng = np.random.default_rng(1)
    w_value, z_value = rng.normal(size=(3, 3)), rng.normal(size=(3, 1))
    first, second = numeric.compile_numpy_all([W, z], both, {n: 3})(w_value, z_value)
    h = np.tanh(w_value @ z_value)
    np.testing.assert_allclose(first, h @ z_value.T, rtol=1e-14)
    np.testing.assert_allclose(second, h * h, rtol=1e-14)


def test_the_gelu_helpers_equal_sympys_gelu_and_its_derivative():
    """GELU (tanh form) and its slope against SymPy's expression and SymPy's diff of it,
    over [-6, 6] and in float32. Failed before this fix (planted): with the 3·0.044715x²
    of the slope dropped, the worst relative error was 15 (near the slope's zero)."""
    from workbench.core.functions import ELEMENTWISE

    t = sp.Symbol("t")
    exact = sp.lambdify(t, ELEMENTWISE["gelu"](t), "numpy")
    slope = sp.lambdify(t, sp.diff(ELEMENTWISE["gelu"](t), t), "numpy")
    x = np.linspace(-6, 6, 241)
    np.testing.assert_allclose(numeric.gelu(x), exact(x), rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(numeric.gelu_prime(x), slope(x), rtol=1e-13, atol=1e-15)
    assert numeric.gelu_prime(x.astype(np.float32)).dtype == np.float32

    def planted(x):
        c = np.sqrt(2 / np.pi)
        th = np.tanh(c * (x + 0.044715 * x**3))
        return 0.5 * (1.0 + th) + 0.5 * x * (1.0 - th**2) * c

    assert np.max(np.abs(planted(x) - slope(x)) / (np.abs(slope(x)) + 1e-12)) > 1e-2


def _gelu_reference():
    from workbench.core.functions import ELEMENTWISE

    t = sp.Symbol("t")
    value = sp.lambdify(t, ELEMENTWISE["gelu"](t), "numpy")
    return value, sp.lambdify(t, sp.diff(ELEMENTWISE["gelu"](t), t), "numpy")


def test_the_gelu_helpers_worked_piece_by_piece_equal_sympys_on_every_entry():
    """Arrays larger than a piece, a last piece cut short, a transposed view, complex input
    (the complex step), ``times=`` in place and its fall-back, and value and slope from one
    tanh, each against SymPy's GELU and its diff. Planted: a loop that stopped before the
    short last piece left 18 entries unwritten, and the comparison failed on them."""
    value, slope = _gelu_reference()
    rng = np.random.default_rng(0)
    x = 3 * rng.standard_normal((3, numeric._CHUNK + 6))  # 3 pieces and 18 entries
    # Complex: near x = −8, where GELU is 1e-12, the two tanh routes differ by 1e-15.
    for arg, atol in ((x, 1e-15), (x.T, 1e-15), (x + 1e-3j * rng.standard_normal(x.shape), 1e-13)):
        np.testing.assert_allclose(numeric.gelu(arg), value(arg), rtol=1e-13, atol=atol)
        np.testing.assert_allclose(numeric.gelu_prime(arg), slope(arg), rtol=1e-12, atol=atol)
    upstream = rng.standard_normal(x.shape)
    fused = upstream.copy()
    assert numeric.gelu_prime(x, times=fused) is fused  # written into the array given
    np.testing.assert_allclose(fused, upstream * slope(x), rtol=1e-12, atol=1e-15)
    row = upstream[0, : x.shape[1]]  # a shape that only broadcasts: a new array, row untouched
    np.testing.assert_allclose(numeric.gelu(x, times=row), row * value(x), rtol=1e-13, atol=1e-15)
    assert np.array_equal(row, upstream[0])
    value_of, slope_of = numeric.gelu_with_slope(x)
    assert np.array_equal(value_of, numeric.gelu(x))
    assert np.array_equal(slope_of, numeric.gelu_prime(x))
    assert numeric.gelu(0.5) == float(value(0.5)) and np.ndim(numeric.gelu_prime(0.5)) == 0
    # A number: a number back, from both helpers; a one-entry array is never written into.
    assert [np.ndim(v) for v in numeric.gelu_with_slope(0.5)] == [0, 0]
    one = np.ones(1)
    assert np.ndim(numeric.gelu(0.5, times=one)) == 1 and one[0] == 1.0
