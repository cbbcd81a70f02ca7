"""Newton step: worked numbers, one-step convergence, and checks that can fail."""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from derivations import newton_step as ns
from workbench.checks.runner import check_derivation


@pytest.fixture(scope="module")
def derivation():
    return ns.build()


def test_one_newton_step_on_the_seed_parabola_lands_on_3():
    x = sp.Symbol("x")
    loss = (x - 3) ** 2
    step = -sp.diff(loss, x) / sp.diff(loss, x, 2)
    assert (x + step).subs(x, 0) == 3


def test_newton_on_exp_minus_2x_converges_quadratically():
    x, errors = 0.0, []
    for _ in range(5):
        x -= (np.exp(x) - 2) / np.exp(x)
        errors.append(abs(x - np.log(2)))
    assert errors[0] == pytest.approx(1 - np.log(2), rel=1e-12)  # x₁ = 1
    for before, after in itertools.pairwise(errors[:4]):
        assert after <= before**2  # error squares (times f‴/2f″ ≈ 1/2 < 1 here)


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 10_000))
def test_the_derived_step_minimises_the_model(seed):
    rng = np.random.default_rng(seed)
    factor = rng.standard_normal((4, 4))
    hessian, gradient = factor @ factor.T + np.eye(4), rng.standard_normal(4)
    step = -np.linalg.solve(hessian, gradient)

    def model(v):
        return gradient @ v + v @ hessian @ v / 2

    for _ in range(5):
        assert model(step) <= model(step + 0.1 * rng.standard_normal(4))


def test_a_sign_error_in_the_step_is_caught(derivation):
    # +H⁻¹g instead of −H⁻¹g: the step goes uphill and misses the minimiser.
    def uphill(seed):
        rng = np.random.default_rng(seed)
        factor = rng.standard_normal((6, 6))
        curvature = factor @ factor.T / 6 + np.eye(6)
        linear, start = rng.standard_normal(6), rng.standard_normal(6)
        step = start + np.linalg.solve(curvature, curvature @ start + linear)
        return step, -np.linalg.solve(curvature, linear), 1e-10

    broken = dataclasses.replace(derivation, numeric_checks=(("uphill", uphill),))
    assert not check_derivation(broken, only=("numeric",)).check("numeric").passed
    assert check_derivation(derivation, only=("numeric",)).check("numeric").passed


def test_dropping_the_symmetry_step_is_caught(derivation):
    # Claiming g + Hh straight after the deltas, without symmetry, is wrong for a general
    # H; here H is symmetric by definition, so check the claim with H replaced by A.
    result = derivation.results[0]
    wrong = dataclasses.replace(result, closed_form=ns.g + ns.A * ns.h)
    broken = dataclasses.replace(derivation, results=(wrong, derivation.results[1]))
    assert not check_derivation(broken, only=("closed form",)).check("closed form").passed
