"""Gradient descent on a parabola: the seed's run, its plot, and checks that can fail."""

from __future__ import annotations

import dataclasses

import pytest
import sympy as sp

from derivations import gradient_descent_parabola as gd
from workbench.checks.runner import check_derivation


@pytest.fixture(scope="module")
def derivation():
    return gd.build()


def test_seed_run_is_3_minus_3_times_0_8_to_the_k(derivation):
    solved = derivation.result("xₖ for the seed's numbers").derived
    run = gd.run_gradient_descent()
    assert run[1] == pytest.approx(0.6) and run[2] == pytest.approx(1.08)
    for step in (0, 1, 10, 50):
        assert float(solved.subs(gd.k, step)) == pytest.approx(run[step], rel=1e-12)
    assert run[50] == pytest.approx(2.99995718, abs=1e-8)


def test_the_general_solution_is_what_rsolve_derived(derivation):
    derived = derivation.result("xₖ").derived
    assert sp.expand(derived - gd.GENERAL) == 0
    # Half a step size η = 1/2 lands on the minimum in one step.
    assert derived.subs({gd.eta: sp.Rational(1, 2), gd.k: 1}) == gd.c


def test_learning_rates_above_one_diverge():
    assert gd._convergence_region() == sp.Interval.open(0, 1)
    assert abs(gd.run_gradient_descent(steps=50, lr=1.1)[-1] - 3) > 1e3


def test_plot_iterates_writes_a_png(tmp_path):
    pytest.importorskip("matplotlib")
    path = gd.plot_iterates(tmp_path / "gd.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_guessed_solution_is_caught(derivation):
    # 3 − 3·0.9ᵏ: a plausible guess with the wrong factor (η instead of 2η).
    result = derivation.result("xₖ for the seed's numbers")
    wrong = dataclasses.replace(result, closed_form=3 - 3 * sp.Rational(9, 10) ** gd.k)
    results = tuple(wrong if r is result else r for r in derivation.results)
    report = check_derivation(
        dataclasses.replace(derivation, results=results), only=("closed form",)
    )
    assert not report.check("closed form").passed


def test_a_wrong_simulation_target_is_caught(derivation):
    def off_by_one_step(seed):
        run, expected, rtol = gd.numeric_seed_iterates(gd.SEED_ITERATES, seed)
        return run[1:], expected[:-1], rtol

    broken = dataclasses.replace(derivation, numeric_checks=(("shifted", off_by_one_step),))
    assert not check_derivation(broken, only=("numeric",)).check("numeric").passed
