"""Gaussian KL: textbook values, a property, and a forgotten μ₁² that is caught."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sympy.stats.symbolic_probability import Expectation

from derivations import gaussian_kl as gk
from workbench.checks.runner import check_derivation


@pytest.fixture(scope="module")
def derivation():
    return gk.build()


def _kl(derived, m1, s1, m2, s2):
    values = {gk.mu1: m1, gk.sigma1: s1, gk.mu2: m2, gk.sigma2: s2}
    return float(derived.subs(values))


def test_textbook_values(derivation):
    derived = derivation.results[0].derived
    assert _kl(derived, 0, 1, 1, 1) == pytest.approx(0.5)  # (μ₁ − μ₂)²/2
    assert _kl(derived, 0, 1, 0, 2) == pytest.approx(np.log(2) + 1 / 8 - 1 / 2)
    assert _kl(derived, 0, 2, 0, 1) == pytest.approx(-np.log(2) + 2 - 1 / 2)


def test_vae_term_of_the_worked_example():
    # μ = (0.5, −1), log σ² = (0, −1): 0.125 + (1 + e⁻¹)/2.
    mu, log_var = np.array([0.5, -1.0]), np.array([0.0, -1.0])
    vae = -0.5 * np.sum(1 + log_var - mu**2 - np.exp(log_var))
    assert vae == pytest.approx(0.125 + 0.5 * (1 + np.exp(-1)))


@given(st.floats(-3, 3), st.floats(0.2, 3), st.floats(-3, 3), st.floats(0.2, 3))
def test_kl_is_non_negative_and_zero_only_on_the_diagonal(m1, s1, m2, s2):
    value = gk._closed(m1, s1, m2, s2)
    assert value >= -1e-12
    assert gk._closed(m1, s1, m1, s1) == pytest.approx(0, abs=1e-12)


def test_a_forgotten_mean_squared_is_caught(derivation):
    result = derivation.results[0]
    step = result.steps[4]  # E[X²] → σ₁² + μ₁²
    wrong = dataclasses.replace(
        step,
        after=step.before.subs(Expectation(gk.X**2), gk.sigma1**2),
    )
    broken = dataclasses.replace(result, steps=(*result.steps[:4], wrong, *result.steps[5:]))
    report = check_derivation(
        dataclasses.replace(derivation, results=(broken, derivation.results[1])), only=("steps",)
    )
    assert not report.check("steps").passed


def test_the_chain_ends_in_the_textbook_form_by_a_checked_step(derivation, mutant):
    """The last step gathers SymPy's terms into log(σ₂/σ₁) + (σ₁² + (μ₁ − μ₂)²)/(2σ₂²) − 1/2,
    computed from the step before it (textbook_form), and the result is then compared
    with the closed form written apart. Planted: the gathering with its constant's sign
    flipped fails the steps check at that step; a closed form with + 1/4 fails the
    closed-form check against the derived result."""
    result = derivation.results[0]
    assert result.steps[-1].rule == "rewrite" and result.derived == gk.CLOSED_FORM
    wrong = mutant(
        gk,
        "(remainder + square) / denominator + constant",
        "(remainder + square) / denominator - constant",
    )
    (steps,) = check_derivation(wrong, only=("steps",)).checks
    failed = [item["what"] for item in steps.items if not item["passed"]]
    assert failed and all(" step 8 " in f"{what} " for what in failed), failed
    typed = mutant(
        gk,
        "CLOSED_FORM = kl_formula(mu1, sigma1, mu2, sigma2)",
        "CLOSED_FORM = kl_formula(mu1, sigma1, mu2, sigma2) + sp.Rational(1, 4)",
    )
    (closed,) = check_derivation(typed, only=("closed form",)).checks
    assert not closed.passed
