"""Gaussian MLE: the textbook data set (mean 5, variance 4) and the 1/N bias."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import sympy as sp

from derivations import gaussian_mle as gm
from workbench.checks.runner import check_derivation


@pytest.fixture(scope="module")
def derivation():
    return gm.build()


def _at(expr, data):
    size = len(data)
    xs = sp.MatrixSymbol("x", size, 1)
    concrete = expr.subs(gm.N, size).doit()
    return concrete.xreplace({xs[i, 0]: sp.nsimplify(data[i]) for i in range(size)})


def test_classic_data_set_has_mean_5_and_variance_4(derivation):
    assert _at(derivation.result("μ̂").derived, gm.DATA) == 5
    assert _at(derivation.result("σ̂²").derived, gm.DATA) == 4


def test_the_mle_variance_is_biased_by_n_minus_1_over_n():
    rng = np.random.default_rng(1)
    samples = rng.normal(0, 1, (200_000, 4))
    mle = samples.var(axis=1)  # ddof = 0, the derived estimator
    # E[σ̂²] = (N − 1)/N · σ² = 0.75; the standard error here is about 0.0015.
    assert mle.mean() == pytest.approx(0.75, abs=0.01)


def test_dividing_by_n_minus_1_is_not_the_mle(derivation):
    result = derivation.result("σ̂²")
    unbiased = result.closed_form * gm.N / (gm.N - 1)
    wrong = dataclasses.replace(result, closed_form=unbiased)
    broken = dataclasses.replace(
        derivation, results=tuple(wrong if r is result else r for r in derivation.results)
    )
    assert not check_derivation(broken, only=("closed form",)).check("closed form").passed
