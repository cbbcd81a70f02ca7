"""Least squares: a worked fit, the derived root, a property, and checks that can fail."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from derivations import least_squares as ls
from workbench.checks.runner import check_derivation
from workbench.codegen import numeric


@pytest.fixture(scope="module")
def derivation():
    return ls.build()


def test_fitting_a_line_to_four_points_gives_intercept_and_slope_1_1():
    # XᵀX = [[4, 6], [6, 14]], Xᵀy = (11, 22): w* = (22/20, 22/20) by hand.
    fit = np.linalg.lstsq(ls.EXAMPLE_X, ls.EXAMPLE_Y, rcond=None)[0]
    np.testing.assert_allclose(fit, [1.1, 1.1], rtol=1e-12)


def test_the_derived_factored_gradient_vanishes_at_the_fit_and_only_there(derivation):
    factored = derivation.result("∂L/∂w = 2XᵀX(w − w*)").derived.parent
    gradient = numeric.compile_numpy([ls.X, ls.y, ls.w], factored, {ls.N: 4, ls.d: 2})
    xs, ys = ls.EXAMPLE_X, ls.EXAMPLE_Y.reshape(-1, 1)
    at_fit = gradient(xs, ys, np.array([[1.1], [1.1]]))
    np.testing.assert_allclose(at_fit, 0, atol=1e-12)
    assert np.max(np.abs(gradient(xs, ys, np.zeros((2, 1))))) > 1


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10_000), st.floats(0.01, 10))
def test_ridge_shrinks_the_solution(seed, penalty):
    rng = np.random.default_rng(seed)
    xs, ys = rng.standard_normal((10, 3)), rng.standard_normal(10)
    plain = np.linalg.solve(xs.T @ xs, xs.T @ ys)
    ridge = np.linalg.solve(xs.T @ xs + penalty * np.eye(3), xs.T @ ys)
    assert np.linalg.norm(ridge) <= np.linalg.norm(plain) + 1e-12


def test_a_lost_factor_two_is_caught(derivation):
    result = derivation.results[0]
    wrong = dataclasses.replace(result, closed_form=ls.X.T * (ls.X * ls.w - ls.y))
    broken = dataclasses.replace(derivation, results=(wrong, *derivation.results[1:]))
    assert not check_derivation(broken, only=("closed form",)).check("closed form").passed


def test_a_ridge_gradient_without_the_penalty_is_caught(derivation):
    _plain, ridge = derivation.cases
    wrong = dataclasses.replace(ridge, gradients=(ls.GRADIENT,), results={})
    broken = dataclasses.replace(derivation, cases=(wrong,))
    report = check_derivation(broken, only=("sympy diff", "finite differences"))
    assert not report.check("sympy diff").passed
    assert not report.check("finite differences").passed
