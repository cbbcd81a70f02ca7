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
