"""Bernoulli entropy: the seeds' worked numbers, a property, and checks that can fail."""

from __future__ import annotations

import dataclasses

import pytest
import sympy as sp
from hypothesis import given
from hypothesis import strategies as st

from derivations import bernoulli_entropy as be
from workbench.checks.runner import check_derivation


@pytest.fixture(scope="module")
def derivation():
    return be.build()


def test_fair_coin_is_one_bit_and_ninety_ten_is_0_469(derivation):
    entropy = be.DEFINITIONS[be.H]
    assert entropy.subs(be.p, sp.Rational(1, 2)) == 1
    assert float(entropy.subs(be.p, sp.Rational(9, 10))) == pytest.approx(0.469, abs=5e-4)
    assert derivation.result("H(1/2)").derived == 1


def test_the_stationary_point_is_derived_not_given(derivation):
    assert derivation.result("stationary point p*").derived == sp.Rational(1, 2)


@given(st.floats(min_value=0.01, max_value=0.99))
def test_entropy_is_symmetric_and_at_most_one_bit(q):
    assert be.entropy_bits(q) == pytest.approx(be.entropy_bits(1 - q), rel=1e-12)
    assert be.entropy_bits(q) <= 1 + 1e-12


def test_a_wrong_slope_is_caught(derivation):
    # log₂(p/(1 − p)): the sign mistake of forgetting the minus in −p log p.
    slope = derivation.results[0]
    wrong = dataclasses.replace(slope, closed_form=sp.log(be.p / (1 - be.p)) / sp.log(2))
    report = check_derivation(
        dataclasses.replace(derivation, results=(wrong, *derivation.results[1:]))
    )
    assert not report.check("closed form").passed
    assert report.check("steps").passed


def test_a_wrong_step_is_caught(derivation):
    slope = derivation.results[0]
    last = slope.steps[-1]
    broken = dataclasses.replace(last, after=last.after + 1 / sp.log(2))  # a lost cancellation
    result = dataclasses.replace(slope, steps=(*slope.steps[:-1], broken))
    report = check_derivation(
        dataclasses.replace(derivation, results=(result, *derivation.results[1:])),
        only=("steps",),
    )
    assert not report.check("steps").passed
