"""Generated code is vectorised and numerically stable."""

from __future__ import annotations

import numpy as np
import sympy as sp

from workbench import numeric
from workbench.functions import Elementwise, LogSoftmax, Softmax

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
    assert ".dot(" in source and "diagflat" in source
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
