"""Layer norm backward: the worked example, the two invariances, and a missing term caught."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from derivations import layernorm_backward as ln
from workbench.checks.runner import check_derivation


def _loss(xs, upstream):
    return upstream @ ln._layer_norm(xs)


def test_worked_example_against_finite_differences():
    xs, upstream = np.array([1.0, 2.0, 3.0, 6.0]), np.array([1.0, 0.0, 0.0, 0.0])
    h = 1e-6
    numeric = [
        (_loss(xs + h * e, upstream) - _loss(xs - h * e, upstream)) / (2 * h) for e in np.eye(4)
    ]
    assert ln._backward(xs, upstream) == pytest.approx(numeric, abs=1e-8)
    assert ln._layer_norm(xs)[0] == pytest.approx(-2 / np.sqrt(3.5 + 1e-5))


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 10_000))
def test_gradient_sums_to_zero_and_is_orthogonal_to_xhat(seed):
    rng = np.random.default_rng(seed)
    xs, upstream = rng.normal(0, 2, 7), rng.normal(0, 1, 7)
    grad = ln._backward(xs, upstream)
    assert grad.sum() == pytest.approx(0, abs=1e-10)
    # Orthogonal to x̂ up to the ε term: Σ x̂² = nσ²/(σ² + ε) instead of n, which leaves
    # exactly n·mean(g ∘ x̂)·ε/(σ² + ε)^(3/2).
    xhat, var = ln._layer_norm(xs), xs.var()
    leftover = xs.size * np.mean(upstream * xhat) * 1e-5 / (var + 1e-5) ** 1.5
    assert grad @ xhat == pytest.approx(leftover, rel=1e-6, abs=1e-12)


def test_forgetting_the_variance_path_is_caught():
    # (g − mean(g))/√(σ² + ε): the answer if σ² did not depend on x.
    derivation = ln.build()
    result = derivation.result("∂L/∂xⱼ")
    g = sp.HadamardProduct(ln.gamma, ln.G)
    wrong_closed = (g - ln.ONES * (ln.ONES.T * g) / ln.n) / sp.sqrt(ln.var + ln.eps)
    wrong = dataclasses.replace(result, closed_form=wrong_closed)
    case = derivation.cases[0]
    _, scale, _ = ln._normalise_columns(ln.x, ln.n)
    g_case = sp.HadamardProduct(ln.gamma, ln.G)
    wrong_gradient = sp.HadamardProduct(scale, g_case - ln.ONES * ln.ONES.T * g_case / ln.n)
    wrong_case = dataclasses.replace(
        case, gradients=(wrong_gradient, *case.gradients[1:]), results={}
    )
    broken = dataclasses.replace(
        derivation,
        results=tuple(wrong if r is result else r for r in derivation.results),
        cases=(wrong_case,),
    )
    report = check_derivation(broken, only=("closed form", "finite differences"))
    assert not report.check("closed form").passed
    assert not report.check("finite differences").passed
