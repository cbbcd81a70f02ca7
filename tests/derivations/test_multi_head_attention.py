"""multi-head-attention: both head counts checked, and planted mistakes in the heads'
composed steps, closed forms and code caught by the checks that should catch them.

Its full check runs by default (tests/test_registry.py, about 8 s): the steps and
SymPy's diff stage by stage at four sizes, finite differences and the complex step for
2 and 3 heads.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from sympy.matrices.expressions.matexpr import MatrixElement

from derivations import multi_head_attention as mh
from workbench.checks.runner import check_derivation
from workbench.core.derivation import Stages


@pytest.fixture(scope="module")
def derivation():
    return mh.build()


def test_the_cases_check_two_and_three_heads_with_every_weight(derivation):
    two, three = derivation.cases
    assert (two.name, three.name) == ("2 heads", "3 heads")
    assert len(two.wrt) == 1 + 4 * 2 and len(three.wrt) == 1 + 4 * 3
    assert len(two.sizes) >= 3 and two.numeric_size[mh.T] >= 5


def test_every_gradient_passes_finite_differences_and_the_complex_step(derivation):
    report = check_derivation(derivation, only=("finite differences", "complex step"))
    assert report.passed, [c.detail for c in report.checks]
    central, complex_step = report.checks
    # ≤ 1e-7 relative for central differences, ≤ 1e-12 for the complex step (README).
    assert central.max_error < 1e-7 and complex_step.max_error < 1e-12
    assert len(complex_step.items) == 2  # one per case: 2 heads and 3 heads


def test_each_head_uses_attention_gradient_under_its_own_names(derivation):
    """Head 2's ∂L/∂Q₂ is attention-gradient's ∂L/∂Q with every name of head 2."""
    step = derivation.result("∂L/∂Q₂").steps[2]
    names = {x.parent.name for x in step.after.atoms(MatrixElement)}
    assert {"P2", "V2", "K2", "dO2"} <= names and not names & {"P1", "V1", "K1", "P", "V"}


def test_a_known_result_under_the_wrong_heads_names_fails_the_steps_check(mutant):
    """Planted: head 2's attention gradient instantiated with head 1's names. Exactly
    the three steps that instantiate it fail; head 1's pass."""
    wrong = mutant(
        mh,
        "derived=use.derived.xreplace(head.renaming())",
        "derived=use.derived.xreplace(Head(1).renaming())",
    )
    (steps,) = check_derivation(wrong, only=("steps",)).checks
    failed = [item["what"] for item in steps.items if not item["passed"]]
    assert failed == [
        "∂L/∂Q₂ step 3 (known backward pass)",
        "∂L/∂K₂ step 3 (known backward pass)",
        "∂L/∂V₂ step 3 (known backward pass)",
    ], failed


@pytest.mark.slow  # about 45 s: the closed-form check runs to its time box
def test_a_head_left_out_of_the_input_gradient_fails_the_closed_form_check(mutant):
    """Planted: ∂L/∂H without head 2's value path (dV₂W_v2ᵀ). The derived ∂L/∂H has
    it, so the closed form differs from the derivation and from finite differences."""
    wrong = mutant(
        mh,
        "            d_h.append(tb._mul(names[x], weight.T))",
        "            if (head.i, x) != (2, 'V'):\n"
        "                d_h.append(tb._mul(names[x], weight.T))",
    )
    report = check_derivation(wrong, only=("closed form", "finite differences"))
    closed, central = report.checks
    assert not closed.passed and not central.passed
    assert [i["what"] for i in closed.items if not i["passed"]] == ["∂L/∂H against the closed form"]


def test_the_other_heads_projection_in_the_code_fails_the_numeric_checks(derivation):
    """Planted in the staged code only: dO₁ = G W_o2ᵀ (head 2's block of W_o). The
    numeric checks run that code, and both fail."""
    two = derivation.cases[0]
    stages = two.stages
    wo1, wo2 = mh.Head(1).weights[3], mh.Head(2).weights[3]
    name = mh.Head(1).gradients["O"]
    definitions = dict(stages.definitions)
    assert definitions[name] == mh.tb._mul(mh.G, wo1.T)
    definitions[name] = mh.tb._mul(mh.G, wo2.T)
    planted = replace(two, stages=Stages(definitions, stages.forward, stages.gradients))
    report = check_derivation(
        replace(derivation, cases=(planted,)), only=("finite differences", "complex step")
    )
    assert not any(c.passed for c in report.checks)
