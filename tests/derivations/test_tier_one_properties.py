"""Stated properties of the Tier 1 results, on the lambdified closed forms (hypothesis)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from derivations import cross_entropy_gradient as ce
from derivations import nll_equals_cross_entropy as nll
from derivations import softmax_jacobian as sj
from workbench.checks.runner import case_functions
from workbench.codegen import numeric

logits = st.integers(2, 7).flatmap(
    lambda n: arrays(np.float64, (n, 1), elements=st.floats(-30, 30, allow_nan=False))
)


def _jacobian():
    _, _, grad = case_functions(sj.build().cases[0])
    return lambda z: grad(z)[0]


JACOBIAN = _jacobian()


@given(logits)
@settings(max_examples=60, deadline=None)
def test_softmax_jacobian_is_symmetric_with_zero_row_sums(z):
    J = JACOBIAN(z)
    np.testing.assert_allclose(J, J.T, atol=1e-15)
    np.testing.assert_allclose(J.sum(axis=1), 0.0, atol=1e-15)


@given(logits)
@settings(max_examples=40, deadline=None)
def test_softmax_jacobian_is_invariant_to_shifting_the_logits(z):
    np.testing.assert_allclose(JACOBIAN(z), JACOBIAN(z + 123.0), atol=1e-12)


@given(logits, st.integers(0, 2**32 - 1))
@settings(max_examples=60, deadline=None)
def test_cross_entropy_gradient_sums_to_zero_for_a_distribution(z, seed):
    case = ce.build().cases[0]
    args, _, grad = case_functions(case)
    target = np.random.default_rng(seed).dirichlet(np.ones(z.shape[0]))[:, None]
    g = grad(*[{"z": z, "y": target}[a.name] for a in args])[0]
    assert abs(float(g.sum())) < 1e-12


@given(st.integers(2, 6), st.integers(1, 20), st.integers(0, 2**32 - 1))
@settings(max_examples=40, deadline=None)
def test_nll_equals_cross_entropy_on_one_hot_targets(classes, examples, seed):
    rng = np.random.default_rng(seed)
    z = rng.normal(scale=3.0, size=(classes, 1))
    labels = rng.integers(classes, size=examples)
    log_p = z - np.log(np.sum(np.exp(z - z.max()))) - z.max()
    mean_nll = -np.mean(log_p[labels, 0])
    empirical = np.bincount(labels, minlength=classes) / examples
    case = nll.build().cases[0]
    _, generated_nll, generated_cross_entropy = case.identities[0]
    sizes = {nll.N: examples, nll.n: classes}
    args = list(case.samplers)
    values = [{"z": z, "Y": np.eye(classes)[labels]}[a.name] for a in args]
    for expr in (generated_nll, generated_cross_entropy):
        value = float(numeric.compile_numpy(args, expr, sizes)(*values)[0, 0])
        assert abs(value - mean_nll) < 1e-12 * max(1.0, abs(mean_nll))
    assert abs(float(-(empirical @ log_p[:, 0])) - mean_nll) < 1e-12 * max(1.0, abs(mean_nll))
