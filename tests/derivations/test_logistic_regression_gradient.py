"""Logistic regression: a worked gradient step, stability at extreme logits, a caught sign slip."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from derivations import logistic_regression_gradient as lr
from workbench.checks.runner import check_derivation
from workbench.codegen import numeric


@pytest.fixture(scope="module")
def derivation():
    return lr.build()


def test_worked_example_gradient():
    # w = (0.5, −1), b = 0.5, x = (2, 1), y = 1: u = 0.5, p = σ(0.5) = 0.6225.
    p = 1 / (1 + np.exp(-0.5))
    assert p == pytest.approx(0.6225, abs=1e-4)
    assert (p - 1) * np.array([2.0, 1.0]) == pytest.approx([-0.7551, -0.3775], abs=1e-4)


def test_generated_loss_is_finite_at_extreme_logits(derivation):
    case = derivation.cases[0]
    args = list(case.samplers)
    loss = numeric.compile_numpy(args, case.forward, case.numeric_size)
    x, b, y = np.ones((5, 1)), np.zeros((1, 1)), np.ones((1, 1))
    w = np.zeros((5, 1))
    w[0] = -800.0  # logit −800 with label 1: the loss is 800, not inf
    assert loss(x, w, b, y)[0, 0] == pytest.approx(800.0)


def test_a_sign_slip_is_caught(derivation):
    # (y − p)x: the gradient of the log-likelihood, not of the loss.
    result = derivation.result("∂L/∂w")
    wrong = dataclasses.replace(result, closed_form=lr.x * (lr.y - lr.p))
    case = derivation.cases[0]
    prob = lr.Elementwise("sigmoid", lr.w.T * lr.x + lr.b)
    wrong_case = dataclasses.replace(case, gradients=(lr.x * (lr.y - prob), case.gradients[1]))
    broken = dataclasses.replace(
        derivation,
        results=tuple(wrong if r is result else r for r in derivation.results),
        cases=(wrong_case,),
    )
    report = check_derivation(broken, only=("closed form", "finite differences"))
    assert not report.check("closed form").passed
    assert not report.check("finite differences").passed
