"""Perplexity: a fair coin has perplexity 2, the 90/10 coin 1.384; a sign slip is caught."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import sympy as sp

from derivations import perplexity as pp
from workbench.checks.runner import check_derivation


@pytest.fixture(scope="module")
def derivation():
    return pp.build()


def _perplexity_of_coin(q: float) -> float:
    """2^H for a model that predicts the coin exactly (cross-entropy = entropy)."""
    entropy_bits = -(q * np.log2(q) + (1 - q) * np.log2(1 - q))
    return 2**entropy_bits


def test_coins():
    assert _perplexity_of_coin(0.5) == pytest.approx(2.0)
    assert _perplexity_of_coin(0.9) == pytest.approx(1.3841, abs=1e-4)  # 2^0.4690


def test_derived_result_at_concrete_probabilities(derivation):
    # Four tokens with probabilities 1/2, 1/4, 1/8, 1/16: PPL = (2·4·8·16)^(1/4) = 2^2.5.
    derived = derivation.result("perplexity = exp(H)").derived
    concrete = derived.subs(pp.H, pp.DEFINITIONS[pp.H]).subs(pp.N, 4).doit()
    qs = sp.MatrixSymbol("q", 4, 1)
    value = concrete.xreplace({qs[i, 0]: sp.Rational(1, 2 ** (i + 1)) for i in range(4)})
    assert sp.simplify(value - 2 ** sp.Rational(5, 2)) == 0


def test_a_sign_slip_in_the_exponent_is_caught(derivation):
    result = derivation.results[0]
    step = result.steps[2]
    wrong = dataclasses.replace(step, after=1 / step.after)  # exp(+H) instead of exp(−H)
    broken = dataclasses.replace(result, steps=(*result.steps[:2], wrong, *result.steps[3:]))
    report = check_derivation(
        dataclasses.replace(derivation, results=(broken, *derivation.results[1:])), only=("steps",)
    )
    assert not report.check("steps").passed
