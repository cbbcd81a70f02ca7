"""Momentum as an EWMA: the effective step at β = 0.9, and an off-by-one that is caught."""

from __future__ import annotations

import dataclasses

import pytest
import sympy as sp

from derivations import momentum_as_ewma as mo
from workbench.checks.runner import check_derivation


@pytest.fixture(scope="module")
def derivation():
    return mo.build()


def test_effective_step_is_ten_times_eta_at_beta_0_9(derivation):
    v_star = derivation.result("fixed point v*").derived
    values = {mo.beta: sp.Rational(9, 10), mo.g: 1, mo.eta: sp.Rational(1, 10)}
    step = (mo.eta * v_star).subs(values)
    assert step == 1


def test_the_solved_recurrence_matches_ten_iterations(derivation):
    solved = derivation.result("vₜ for constant g").derived
    v = 0
    for _ in range(10):
        v = sp.Rational(9, 10) * v + 1
    assert sp.simplify(solved.subs({mo.beta: sp.Rational(9, 10), mo.g: 1, mo.t: 10}) - v) == 0


def test_an_off_by_one_exponent_is_caught(derivation):
    result = derivation.result("vₜ for constant g")
    wrong = dataclasses.replace(
        result, closed_form=mo.g * (1 - mo.beta ** (mo.t + 1)) / (1 - mo.beta)
    )
    broken = dataclasses.replace(
        derivation, results=tuple(wrong if r is result else r for r in derivation.results)
    )
    report = check_derivation(broken, only=("closed form",))
    assert not report.check("closed form").passed
