"""The reusable gradient checker works on any pair of NumPy functions."""

from __future__ import annotations

import numpy as np
import pytest

from workbench.checks.gradcheck import assert_gradient, check_gradient
from workbench.errors import GradientMismatch

rng = np.random.default_rng(0)


def cubic(x):
    return np.sum(x**3 * np.sin(x))


def cubic_grad(x):
    return 3 * x**2 * np.sin(x) + x**3 * np.cos(x)


@pytest.mark.parametrize(
    ("method", "bound"), [("central", 1e-9), ("complex-step", 1e-14), ("directional", 1e-9)]
)
def test_right_gradient_passes_with_the_expected_accuracy(method, bound):
    report = check_gradient(cubic, cubic_grad, rng.standard_normal(6), method=method)
    assert report.passed
    assert report.max_rel_error < bound
    assert report.method == method


@pytest.mark.parametrize("method", ["central", "complex-step", "directional"])
def test_gradient_off_by_a_small_relative_amount_fails(method):
    def slightly_wrong(x):
        return cubic_grad(x) * (1 + 1e-5)

    report = check_gradient(cubic, slightly_wrong, rng.standard_normal(6), method=method)
    assert not report.passed
    assert report.max_rel_error > report.tolerance


def test_matrix_function_and_several_inputs():
    a, b = rng.standard_normal((3, 4)), rng.standard_normal((4, 2))

    def f(a, b):
        return np.sum(np.tanh(a @ b))

    def grad(a, b):
        g = 1 - np.tanh(a @ b) ** 2
        return g @ b.T, a.T @ g

    report = check_gradient(f, grad, a, b, method="complex-step")
    assert report.passed, report


def test_jacobian_of_a_vector_function_in_numerator_layout():
    def f(x):
        return np.array([x[0] * x[1], np.exp(x[1])])

    def jac(x):
        return np.array([[x[1], x[0]], [0.0, np.exp(x[1])]])

    assert check_gradient(f, jac, np.array([0.3, -0.7])).passed
    assert not check_gradient(f, lambda x: jac(x).T, np.array([0.3, -0.7])).passed


def test_assert_variant_raises_with_a_readable_message():
    with pytest.raises(GradientMismatch, match="relative error"):
        assert_gradient(cubic, lambda x: 2 * cubic_grad(x), rng.standard_normal(4))


def test_kink_is_reported():
    def relu_sum(x):
        return np.sum(np.where(x > 0, x, 0.0))

    def relu_grad(x):
        return (x > 0).astype(float)

    x = np.array([0.5, 1e-7, -0.3])
    report = check_gradient(relu_sum, relu_grad, x, kinks=lambda x: [x])
    assert report.warnings and "kink" in report.warnings[0]


def test_real_only_code_is_refused_by_the_complex_step():
    with pytest.raises(GradientMismatch, match="complex step"):
        check_gradient(
            lambda x: float(np.sum(x.real**2)), lambda x: 2 * x, np.ones(2), method="complex-step"
        )


@pytest.mark.parametrize(("method", "error"), [("central", 1e-6), ("complex-step", 1e-10)])
def test_an_error_in_a_small_block_is_judged_against_its_own_scale(method, error):
    """Failed before the fix: one scale over all inputs (here that of ∂f/∂x, about 100×
    ∂f/∂y) made an error of 1e-6 (central) or 1e-10 (complex step) relative in ∂f/∂y look
    like 1e-8 or 1e-12, within tolerance."""
    x, y = rng.uniform(0.5, 1.5, 5), rng.uniform(0.5, 1.5, 5)

    def f(x, y):
        return 100 * np.sum(x**2) + np.sum(y**2)

    def right(x, y):
        return 200 * x, 2 * y

    def wrong(x, y):
        return 200 * x, 2 * y * (1 + error)

    assert check_gradient(f, right, x, y, method=method).passed
    report = check_gradient(f, wrong, x, y, method=method)
    assert not report.passed
    assert len(report.block_errors) == 2
    small = report.block_errors[1]
    assert report.max_rel_error == small and error / 2 < small < 2 * error
    assert report.block_errors[0] < report.tolerance  # ∂f/∂x itself is right
