"""transformer-block-backward: its numeric case, and the steps of the MLP stage.

The full check of this derivation does not finish within the steps check's budget yet
(the composed stages, ∂L/∂X₂ and below, resolve to the whole block at general sizes),
so tests/test_registry.py leaves it out and these tests run the checks that do finish.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
import sympy as sp

from derivations import transformer_block_backward as tb
from workbench.checks.resolved import compare_resolved
from workbench.checks.runner import CHECK_BUDGET, check_derivation
from workbench.core.derivation import Stages


@pytest.fixture(scope="module")
def derivation():
    return tb.build()


def test_every_gradient_of_the_block_passes_finite_differences_and_the_complex_step(derivation):
    """∂L/∂X and all twelve parameter gradients, at T = 6, n = 8, d = e = 4, m = 16."""
    report = check_derivation(derivation, only=("finite differences", "complex step"))
    assert report.passed, [c.detail for c in report.checks]
    central, complex_step = report.checks
    assert central.max_error < 1e-8 and complex_step.max_error < 1e-13
    (item,) = complex_step.items
    assert set(item["block_errors"]) == {w.name for w in tb.WRT}


def test_a_planted_mistake_in_the_staged_code_fails_the_numeric_checks(derivation):
    """The checks run the staged code: with the layer norm's mean(g ∘ x̂) term dropped
    from ∂L/∂X (planted), both fail."""
    (case,) = derivation.cases
    stages = case.stages
    wrong = tb.concrete(
        tb._add(tb.GRADIENTS[tb.dX2], tb.layer_norm_backward(tb.dH1, tb.Xh1, tb.var1, tb.gamma1)),
        "gelu",
    ).replace(
        lambda e: isinstance(e, sp.HadamardProduct) and tb.Xh1 in e.args and len(e.args) == 2,
        lambda e: sp.ZeroMatrix(*e.shape),
    )
    assert wrong != stages.gradients[0]
    planted = replace(
        case, stages=Stages(stages.definitions, stages.forward, (wrong, *stages.gradients[1:]))
    )
    report = check_derivation(
        replace(derivation, cases=(planted,)), only=("finite differences", "complex step")
    )
    assert not any(c.passed for c in report.checks)


MLP_STAGE = ("∂L/∂F", "∂L/∂W₂", "∂L/∂b₂", "∂L/∂U", "∂L/∂Z", "∂L/∂W₁", "∂L/∂b₁", "∂L/∂H₂")


@pytest.mark.parametrize("label", MLP_STAGE)
def test_the_mlp_stage_steps_are_proved(derivation, label):
    result = derivation.result(label)
    for number, step in enumerate(result.steps, 1):
        verdict = compare_resolved(
            step.after, step.before, derivation, step.assumptions, CHECK_BUDGET, 0
        )
        assert verdict.equal, f"{label} step {number} ({step.rule}): {verdict.detail}"
