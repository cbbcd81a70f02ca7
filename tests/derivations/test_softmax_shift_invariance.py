"""Softmax shift invariance: the seed's numbers, a property, and checks that can fail."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import sympy as sp
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from derivations import softmax_shift_invariance as ssi
from workbench.checks.runner import check_derivation
from workbench.codegen import numeric
from workbench.core.functions import Softmax


@pytest.fixture(scope="module")
def derivation():
    return ssi.build()


def test_seed_softmax_of_1_2_3_equals_that_of_101_102_103():
    expected = [0.0900, 0.2447, 0.6652]  # the seed exercise's answer, to 4 places
    assert ssi.direct_softmax(ssi.SEED_LOGITS) == pytest.approx(expected, abs=5e-5)
    assert ssi.direct_softmax(ssi.SEED_SHIFTED) == pytest.approx(expected, abs=5e-5)


def test_direct_exp_overflows_at_1000_but_the_stable_form_does_not():
    big = ssi.SEED_LOGITS + 1000.0
    with np.errstate(over="ignore", invalid="ignore"):
        assert np.all(np.isnan(ssi.direct_softmax(big)))
    stable = numeric.softmax(big.reshape(-1, 1)).ravel()
    assert stable == pytest.approx(ssi.direct_softmax(ssi.SEED_LOGITS), rel=1e-12)


@given(
    arrays(np.float64, 5, elements=st.floats(-20, 20)),
    st.floats(-500, 500),
)
def test_stable_softmax_ignores_any_shift(logits, shift):
    plain = numeric.softmax(logits.reshape(-1, 1))
    shifted = numeric.softmax((logits + shift).reshape(-1, 1))
    np.testing.assert_allclose(shifted, plain, rtol=1e-9, atol=1e-300)


def test_the_invariance_is_derived_down_to_s(derivation):
    assert derivation.result("softmax(z + c·1)ᵢ").derived == ssi.s[ssi.i, 0]


def test_a_wrong_closed_form_is_caught(derivation):
    # softmax(2z) is a different function: scaling, unlike shifting, changes softmax.
    result = derivation.results[0]
    wrong = dataclasses.replace(result, closed_form=Softmax(2 * ssi.z))
    broken = dataclasses.replace(derivation, results=(wrong, *derivation.results[1:]))
    report = check_derivation(broken, only=("closed form",))
    assert not report.check("closed form").passed


def test_a_wrong_step_is_caught(derivation):
    # Forgetting that exp(c) also sits in the denominator: exp(c) does not cancel.
    result = derivation.results[0]
    steps = list(result.steps)
    steps[3] = dataclasses.replace(steps[3], after=sp.exp(ssi.c) * steps[3].after)
    broken = dataclasses.replace(
        derivation, results=(dataclasses.replace(result, steps=tuple(steps)),)
    )
    report = check_derivation(broken, only=("steps",))
    assert not report.check("steps").passed
