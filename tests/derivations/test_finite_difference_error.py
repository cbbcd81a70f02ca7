"""Finite-difference error: textbook numbers, the V-shaped error, and checks that can fail."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from derivations import finite_difference_error as fde
from workbench.checks.runner import check_derivation


@pytest.fixture(scope="module")
def derivation():
    return fde.build()


def test_the_best_step_in_float64_is_about_1e_minus_5_and_the_error_about_1e_minus_11(derivation):
    values = {fde.eps: sp.Float(fde.EPS64), fde.size: 1, fde.curvature: 1}
    best = float(derivation.result("best step h*").derived.subs(values))
    smallest = float(derivation.result("smallest error E(h*)").derived.subs(values))
    assert best == pytest.approx(8.73e-6, rel=1e-3)  # (3ε)^(1/3)
    assert 1e-11 < smallest < 1e-10  # (3/2)·ε^(2/3)·3^(−1/3) = 3.8e-11


def test_sin_prime_at_1_errors_fall_then_rise():
    steps = 10.0 ** -np.arange(1, 12, 2)
    errors = np.abs(fde.central_difference(np.sin, np.array(1.0), steps) - np.cos(1.0))
    assert errors[0] == pytest.approx(0.01 * np.cos(1.0) / 6, rel=1e-2)  # h = 0.1: h²f‴/6
    assert np.argmin(errors) == 2  # h = 1e-5 wins
    assert errors[-1] > 100 * errors[2]  # rounding dominates at h = 1e-11


@settings(max_examples=30, deadline=None)
@given(st.floats(-3, 3))
def test_the_complex_step_has_no_cancellation(point):
    estimate = np.imag(np.exp(point + 1e-20j)) / 1e-20
    assert estimate == pytest.approx(np.exp(point), rel=1e-15)
    assert fde.central_difference(np.exp, np.array(point), 1e-20) == 0.0


def test_a_first_order_error_claim_is_caught(derivation):
    # h f″/2 is the forward difference's error, not the central one's.
    result = derivation.results[0]
    wrong = dataclasses.replace(result, closed_form=fde.h * fde.f2 / 2)
    broken = dataclasses.replace(derivation, results=(wrong, *derivation.results[1:]))
    assert not check_derivation(broken, only=("closed form",)).check("closed form").passed


def test_a_wrong_best_step_is_caught(derivation):
    # √(ε) is the forward difference's optimum scaling, not the central one's.
    result = derivation.result("best step h*")
    step = dataclasses.replace(result.steps[0], after=sp.sqrt(fde.eps * fde.size / fde.curvature))
    wrong = dataclasses.replace(result, steps=(step,))
    results = tuple(wrong if r is result else r for r in derivation.results)
    report = check_derivation(dataclasses.replace(derivation, results=results), only=("steps",))
    assert not report.check("steps").passed
