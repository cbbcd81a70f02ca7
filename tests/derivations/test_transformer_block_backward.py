"""transformer-block-backward: its numeric case, planted mistakes in its composed steps,
and the MLP stage's steps proved symbolically.

Its full check (tests/test_registry.py, slow) decides the steps and SymPy's diff stage by
stage (workbench.checks.network): resolving a composed step symbolically writes the whole
block out. The MLP stage's steps are small enough to be proved as well (slow, below).
"""

from __future__ import annotations

from dataclasses import replace

import pytest
import sympy as sp

from derivations import transformer_block_backward as tb
from workbench.checks.resolved import compare_resolved
from workbench.checks.runner import CHECK_BUDGET, check_derivation
from workbench.core import rules_compose
from workbench.core.derivation import Stages


@pytest.fixture(scope="module")
def derivation():
    return tb.build()


@pytest.mark.slow
def test_every_gradient_of_the_block_passes_finite_differences_and_the_complex_step(derivation):
    """∂L/∂X and all twelve parameter gradients, at T = 6, n = 8, d = e = 4, m = 16."""
    report = check_derivation(derivation, only=("finite differences", "complex step"))
    assert report.passed, [c.detail for c in report.checks]
    central, complex_step = report.checks
    assert central.max_error < 1e-8 and complex_step.max_error < 1e-13
    (item,) = complex_step.items
    assert set(item["block_errors"]) == {w.name for w in tb.WRT}


@pytest.mark.slow
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


@pytest.mark.slow
def test_a_wrong_stage_parameter_in_a_composed_step_fails_the_steps_check(mutant):
    """Planted: LN₂'s backward pass applied with γ₁ instead of γ₂ (the known result
    instantiated with the wrong layer's gain). The step that instantiates it fails, at
    the first size; the same check passes on the real derivation (tests/test_registry.py)."""
    wrong = mutant(
        tb,
        'Xh2, mu2, var2, gamma2, "LN₂")',
        'Xh2, mu2, var2, gamma1, "LN₂")',
    )
    report = check_derivation(wrong, only=("steps", "sympy diff"))
    steps, diff = report.checks
    failed = [item["what"] for item in steps.items if not item["passed"]]
    assert failed == ["∂L/∂X₂ step 4 (known backward pass)"], failed
    assert "differ at T=2 n=3" in next(i for i in steps.items if not i["passed"])["detail"]
    # SymPy's diff of the block, stage by stage, disagrees with what it derived.
    assert not diff.passed
    assert any("∂L/∂X₂: derived result" in i["what"] for i in diff.items if not i["passed"])


@pytest.mark.slow
def test_a_skip_path_counted_twice_fails_the_steps_check(monkeypatch):
    """Planted: the residual rule counts the skip path twice (2·∂L/∂X₂ in ∂L/∂X, 2G in
    ∂L/∂X₂). Exactly the two steps that rule made fail."""
    original = rules_compose.ResidualChainRule.apply

    def twice(self, expr, ctx):
        out = original(self, expr, ctx)
        return sp.Add(*[t if t.has(self.through) else 2 * t for t in sp.Add.make_args(out)])

    monkeypatch.setattr(rules_compose.ResidualChainRule, "apply", twice)
    report = check_derivation(tb.build(), only=("steps",))
    failed = [item["what"] for item in report.checks[0].items if not item["passed"]]
    assert failed == [
        "∂L/∂X₂ step 1 (chain rule (residual connection))",
        "∂L/∂X step 1 (chain rule (residual connection))",
    ], failed


MLP_STAGE = ("∂L/∂F", "∂L/∂W₂", "∂L/∂b₂", "∂L/∂U", "∂L/∂Z", "∂L/∂W₁", "∂L/∂b₁", "∂L/∂H₂")


@pytest.mark.slow
@pytest.mark.parametrize("label", MLP_STAGE)
def test_the_mlp_stage_steps_are_proved(derivation, label):
    result = derivation.result(label)
    for number, step in enumerate(result.steps, 1):
        verdict = compare_resolved(
            step.after, step.before, derivation, step.assumptions, CHECK_BUDGET, 0
        )
        assert verdict.equal, f"{label} step {number} ({step.rule}): {verdict.detail}"


def _written_out(forms: dict, named: dict = tb.CODE_GRADIENTS) -> dict:
    """The code's forms with attention's dP and dS replaced by their definitions."""
    d_probs = named[tb.dP]
    d_scores = named[tb.dS].xreplace({tb.dP: d_probs})
    names = {sp.Transpose(tb.dS): d_scores.T, tb.dS: d_scores, tb.dP: d_probs}
    return {k: v.xreplace(names) for k, v in forms.items() if k not in (tb.dP, tb.dS)}


def test_the_codes_gradient_forms_are_the_checked_ones_with_dp_and_ds_named():
    """The generated code (workbench.gpt) computes ∂L/∂P and ∂L/∂S once, by name; the
    checks see them written out. With the names written out, the code's forms are the
    checked trees themselves. Planted: dK with dS where dSᵀ belongs fails."""
    assert set(tb.CODE_GRADIENTS) == {*tb.GRADIENTS, tb.dP, tb.dS}
    assert _written_out(tb.CODE_GRADIENTS) == tb.GRADIENTS
    assert _written_out(tb.CODE_CLOSED) == tb.CLOSED
    planted = dict(tb.CODE_GRADIENTS)
    planted[tb.dK] = tb._mul(1 / sp.sqrt(tb.d), tb.dS, tb.Q)
    written = _written_out(planted)
    assert [k for k in written if written[k] != tb.GRADIENTS[k]] == [tb.dK]
