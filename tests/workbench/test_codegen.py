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
