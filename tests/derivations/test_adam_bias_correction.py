"""Adam's bias correction: the first step's numbers, and a wrong bias factor is caught."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import sympy as sp

from derivations import adam_bias_correction as ad
from workbench.checks.runner import check_derivation


@pytest.fixture(scope="module")
def derivation():
    return ad.build()


def test_first_step_uncorrected_is_about_three_times_too_large():
    # β₁ = 0.9, β₂ = 0.999, g₁ = 0.5: m₁/√v₁ = 0.1·0.5/√(0.001·0.25) = √10.
    m1, v1 = 0.1 * 0.5, 0.001 * 0.25
    assert m1 / np.sqrt(v1) == pytest.approx(np.sqrt(10))
    assert (m1 / 0.1) / np.sqrt(v1 / 0.001) == pytest.approx(1.0)


def test_expected_moment_after_ten_steps(derivation):
    mean = derivation.result("E[mₜ]").derived
    value = mean.subs({ad.beta1: sp.Rational(9, 10), ad.t: 10, ad.gamma: 1})
    assert float(value) == pytest.approx(1 - 0.9**10)  # 0.6513: a third of the mean missing


def test_corrected_moments_are_unbiased(derivation):
    assert derivation.result("E[m̂ₜ]").derived == ad.gamma
    assert derivation.result("E[v̂ₜ]").derived == ad.s


def test_an_off_by_one_bias_factor_is_caught(derivation):
    result = derivation.result("E[mₜ]")
    wrong = dataclasses.replace(result, closed_form=(1 - ad.beta1 ** (ad.t - 1)) * ad.gamma)
    broken = dataclasses.replace(
        derivation, results=tuple(wrong if r is result else r for r in derivation.results)
    )
    assert not check_derivation(broken, only=("closed form",)).check("closed form").passed


def test_the_geometric_sum_is_a_step_of_its_own(derivation):
    """E[mₜ] is derived as a learner does it: unroll, then sum 1 + β + … + βᵗ⁻¹."""
    rules = [step.rule for step in derivation.result("E[mₜ]").steps]
    assert rules == ["linearity of expectation", "unroll the recurrence", "geometric sum"]


def test_a_wrong_geometric_sum_is_caught_by_the_steps_check(derivation):
    """Planted: the step's sum with one term too many, (1 − βᵗ⁺¹)/(1 − β), fails the steps check."""
    result = derivation.result("E[mₜ]")
    last = result.steps[-1]
    planted = (1 - ad.beta1 ** (ad.t + 1)) * ad.gamma
    wrong = dataclasses.replace(
        result, steps=(*result.steps[:-1], dataclasses.replace(last, after=planted))
    )
    broken = dataclasses.replace(
        derivation, results=tuple(wrong if r is result else r for r in derivation.results)
    )
    assert check_derivation(derivation, only=("steps",)).check("steps").passed
    assert not check_derivation(broken, only=("steps",)).check("steps").passed
