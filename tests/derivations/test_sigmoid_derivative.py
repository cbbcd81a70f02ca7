"""Sigmoid and tanh derivatives: textbook values, a property, and checks that can fail."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import sympy as sp
from hypothesis import given
from hypothesis import strategies as st

from derivations import sigmoid_derivative as sd
from workbench.checks.runner import check_derivation
from workbench.codegen import numeric


@pytest.fixture(scope="module")
def derivation():
    return sd.build()


def _in_x(expr):
    return expr.xreplace(sd.DEFINITIONS)


def test_textbook_values(derivation):
    slope = _in_x(derivation.result("σ′(x)").derived)
    assert slope.subs(sd.x, 0) == sp.Rational(1, 4)  # σ′(0) = 1/4
    assert float(slope.subs(sd.x, 5)) == pytest.approx(0.006648, abs=1e-6)
    tanh_slope = _in_x(derivation.result("tanh′(x)").derived)
    assert sp.simplify(tanh_slope.subs(sd.x, 0)) == 1  # tanh′(0) = 1


@given(st.floats(-15, 15))
def test_sigmoid_slope_is_at_most_a_quarter_and_one_minus_sigma_is_sigma_of_minus_x(u):
    # 1 − σ(x) = σ(−x), so σ′(x) = σ(x)σ(−x): even in x and at most 1/4. (Past |x| ≈ 15 the
    # form σ(1 − σ) loses digits to cancellation in 1 − σ; σ(x)σ(−x) does not.)
    s_plus, s_minus = numeric.sigmoid(np.array(u)), numeric.sigmoid(np.array(-u))
    assert s_plus * (1 - s_plus) <= 0.25 + 1e-15
    assert s_plus * (1 - s_plus) == pytest.approx(s_plus * s_minus, rel=1e-8)


def test_a_wrong_sigmoid_slope_is_caught(derivation):
    # σ(1 + σ): a sign slip.
    result = derivation.results[0]
    wrong = dataclasses.replace(result, closed_form=sd.sigma * (1 + sd.sigma))
    broken = dataclasses.replace(derivation, results=(wrong, *derivation.results[1:]))
    assert not check_derivation(broken, only=("closed form",)).check("closed form").passed


def test_a_wrong_tanh_jacobian_is_caught(derivation):
    # 1 − tanh instead of 1 − tanh²: finite differences and SymPy's diff both object.
    sigmoid_case, tanh_case = derivation.cases
    wrong = dataclasses.replace(
        tanh_case,
        gradients=(
            sp.matrices.expressions.diagonal.DiagMatrix(sd.ones - sd.Elementwise("tanh", sd.a)),
        ),
    )
    broken = dataclasses.replace(derivation, cases=(sigmoid_case, wrong))
    report = check_derivation(broken, only=("sympy diff", "finite differences"))
    assert not report.check("sympy diff").passed
    assert not report.check("finite differences").passed
