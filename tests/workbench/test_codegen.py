"""The NumPy printer and the generated code: what is printed, and that it computes right."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

from workbench.codegen import numeric
from workbench.codegen.printer import StableNumPyPrinter
from workbench.core.functions import Elementwise, LogSoftmax, Softmax

RNG = np.random.default_rng(3)


def _printed(expr, helpers=frozenset(numeric.HELPERS)) -> str:
    return StableNumPyPrinter({"fully_qualified_modules": True, "helpers": helpers}).doprint(expr)


def test_matrix_functions_print_as_stable_helper_calls():
    z = sp.MatrixSymbol("z", 4, 3)
    assert _printed(Softmax(z, 1)) == "softmax(z, axis=1)"
    assert _printed(LogSoftmax(z)) == "log_softmax(z, axis=0)"
    # log of a softmax would meet log(0) at large logits: it prints as the log-softmax
    assert _printed(Elementwise("log", Softmax(z, 1))) == "log_softmax(z, axis=1)"


def test_an_elementwise_name_is_a_helper_call_only_when_the_printer_has_that_helper():
    z = sp.MatrixSymbol("z", 4, 3)
    assert _printed(Elementwise("tanh_prime", z)) == "tanh_prime(z)"
    assert _printed(Elementwise("tanh", z)) == "numpy.tanh(z)"
    assert _printed(Elementwise("tanh_prime", z), helpers=frozenset()) == "numpy.tanh_prime(z)"


def test_a_difference_prints_as_a_subtraction():
    a, b = sp.MatrixSymbol("a", 3, 1), sp.MatrixSymbol("b", 3, 1)
    assert _printed(a - b) == "(a - b)"


@pytest.mark.parametrize("rows", [1, 4, 7])
def test_cross_entropy_gradient_code_is_right_and_finite_at_large_logits(rows):
    z, y = sp.MatrixSymbol("z", rows, 5), sp.MatrixSymbol("y", rows, 5)
    grad = numeric.compile_numpy([z, y], Softmax(z, 1) - y)
    logits = RNG.normal(size=(rows, 5)) * 1000  # exp would overflow without the shift
    targets = np.eye(5)[RNG.integers(0, 5, size=rows)]
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    expected = shifted / shifted.sum(axis=1, keepdims=True) - targets
    got = grad(logits, targets)
    assert np.all(np.isfinite(got))
    assert np.allclose(got, expected, rtol=1e-12, atol=1e-15)


def test_the_helpers_carry_the_complex_step():
    """Im f(x + ih)/h is f′(x): the helpers keep the imaginary part through the shift."""
    x = RNG.normal(size=(3, 4))
    h = 1e-20
    sigma = numeric.sigmoid(x)
    got = np.imag(numeric.HELPERS["sigmoid"](x + 1j * h)) / h
    assert np.allclose(got, sigma * (1 - sigma), rtol=1e-12)
    direction = RNG.normal(size=(3, 4))
    s = numeric.softmax(x, axis=1)
    jvp = s * direction - s * np.sum(s * direction, axis=1, keepdims=True)
    got = np.imag(numeric.softmax(x + 1j * h * direction, axis=1)) / h
    assert np.allclose(got, jvp, rtol=1e-12)


def test_staged_code_multiplies_a_slope_into_a_new_array_only_and_shares_geLUs_tanh():
    """Z = xW, U = gelu(Z), dZ = (GV) ∘ gelu′(Z), E = U ∘ gelu′(Z): U and the slope come
    from one helper (one tanh); the slope is multiplied into GV (a new array) in place,
    never into U, which is a stage the function returns. Planted: had the printer fused
    into any operand, U would come back overwritten by E."""
    from workbench.codegen.staged import compile_stages

    x, w = sp.MatrixSymbol("x", 4, 3), sp.MatrixSymbol("W", 3, 5)
    g, v = sp.MatrixSymbol("G", 4, 2), sp.MatrixSymbol("Vm", 2, 5)
    z, u, s = sp.MatrixSymbol("Z", 4, 5), sp.MatrixSymbol("U", 4, 5), sp.MatrixSymbol("s", 4, 5)
    dz, e = sp.MatrixSymbol("dZ", 4, 5), sp.MatrixSymbol("E", 4, 5)
    definitions = {
        z: x * w,
        u: Elementwise("gelu", z),
        s: Elementwise("gelu_prime", z),
        dz: sp.HadamardProduct(g * v, Elementwise("gelu_prime", z)),
        e: sp.HadamardProduct(u, Elementwise("gelu_prime", z)),
    }
    f = compile_stages([x, w, g, v], definitions, [u, s, dz, e])
    assert "U, s = gelu_with_slope(Z)" in f.source
    assert "dZ = gelu_prime(Z, times=(G @ Vm))" in f.source
    assert "E = (U * gelu_prime(Z))" in f.source
    args = [RNG.standard_normal(a.shape) for a in (x, w, g, v)]
    zv = args[0] @ args[1]
    got = f(*args)
    want = (numeric.gelu(zv), numeric.gelu_prime(zv))
    np.testing.assert_array_equal(got[0], want[0])
    np.testing.assert_array_equal(got[1], want[1])
    np.testing.assert_allclose(got[2], (args[2] @ args[3]) * want[1], rtol=1e-14)
    np.testing.assert_allclose(got[3], want[0] * want[1], rtol=1e-14)


def test_a_stage_that_needs_only_the_slope_may_come_first():
    """E = s ∘ s needs GELU's slope s and not U; ordered before U, it read s before the
    pair's line assigned it (UnboundLocalError). The pair is now computed where the first
    of the two is needed."""
    from workbench.codegen.staged import compile_stages

    x = sp.MatrixSymbol("x", 3, 2)
    z, u, s, e = (sp.MatrixSymbol(c, 3, 2) for c in ("Z", "U", "s", "E"))
    definitions = {
        z: 2 * x,
        u: Elementwise("gelu", z),
        s: Elementwise("gelu_prime", z),
        e: sp.HadamardProduct(s, s),
    }
    f = compile_stages([x], definitions, [e, u])
    assert f.source.index("U, s = gelu_with_slope(Z)") < f.source.index("E = ")
    value = RNG.standard_normal((3, 2))
    got_e, got_u = f(value)
    np.testing.assert_array_equal(got_e, numeric.gelu_prime(2 * value) ** 2)
    np.testing.assert_array_equal(got_u, numeric.gelu(2 * value))
