"""Log-sum-exp: worked numbers, the smooth-max property, and a check that can fail."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from derivations import log_sum_exp_gradient as lse
from workbench.checks.runner import check_derivation
from workbench.codegen import numeric
from workbench.core.functions import Softmax


@pytest.fixture(scope="module")
def derivation():
    return lse.build()


def test_lse_of_1_2_3_and_of_1001_1002_1003():
    # log(e + e² + e³) = 3.40760596 (to 8 places); shifting by 1000 adds exactly 1000.
    assert lse.stable_lse(np.array([1.0, 2.0, 3.0])) == pytest.approx(3.40760596, abs=1e-8)
    assert lse.stable_lse(np.array([1001.0, 1002.0, 1003.0])) == pytest.approx(
        1003.40760596, abs=1e-8
    )
    with np.errstate(over="ignore"):
        assert np.isinf(lse.direct_lse(np.array([1001.0, 1002.0, 1003.0])))


@given(arrays(np.float64, 6, elements=st.floats(-300, 300)))
def test_lse_is_a_smooth_maximum(logits):
    value = lse.stable_lse(logits)
    assert logits.max() - 1e-9 <= value <= logits.max() + np.log(logits.size) + 1e-9


def test_the_generated_gradient_is_the_stable_softmax(derivation):
    (case,) = derivation.cases
    f = numeric.compile_numpy([lse.z], case.forward, {lse.n: 3})
    assert float(np.asarray(f(np.array([[1000.0], [1001.0], [1002.0]]))).ravel()[0]) == (
        pytest.approx(1002.40760596, abs=1e-8)
    )


def test_a_wrong_gradient_is_caught(derivation):
    # exp(z) without the normaliser: the classic slip.
    (case,) = derivation.cases
    wrong_case = dataclasses.replace(case, gradients=(Softmax(2 * lse.z),), results={})
    broken = dataclasses.replace(derivation, cases=(wrong_case,))
    report = check_derivation(broken, only=("sympy diff", "finite differences"))
    assert not report.check("sympy diff").passed
    assert not report.check("finite differences").passed
