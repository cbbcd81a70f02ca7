"""Maximum entropy gives softmax: the Boltzmann example, the uniform case, and optimality."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from derivations import max_entropy_softmax as me


@pytest.fixture(scope="module")
def solution():
    return me.build().result("pⱼ").derived


def _at(derived, features, lam):
    size = len(features)
    fs = sp.MatrixSymbol("f", size, 1)
    values = []
    for index in range(size):
        entry = derived.xreplace({me.j: index}).subs(me.n, size).doit()
        values.append(
            float(entry.xreplace({fs[i, 0]: features[i] for i in range(size)}).subs(me.lam, lam))
        )
    return np.array(values)


def test_boltzmann_example(solution):
    # Energies (0, 1, 2) at λ = −1: p = (0.6652, 0.2447, 0.0900).
    assert _at(solution, [0, 1, 2], -1) == pytest.approx([0.6652, 0.2447, 0.0900], abs=1e-4)


def test_no_feature_constraint_gives_the_uniform_distribution(solution):
    assert _at(solution, [0.3, -1.2, 2.0, 0.5], 0) == pytest.approx([0.25] * 4)


def _entropy(q):
    return -np.sum(q * np.log(q))


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 10_000))
def test_no_feasible_perturbation_has_higher_entropy(seed):
    rng = np.random.default_rng(seed)
    features, lam = rng.normal(0, 1, 5), rng.uniform(-2, 2)
    p = np.exp(lam * features) / np.exp(lam * features).sum()
    # A direction that keeps Σp and Σpf: orthogonal to 1 and f.
    constraints = np.vstack([np.ones(5), features])
    direction = rng.normal(0, 1, 5)
    direction -= constraints.T @ np.linalg.lstsq(constraints.T, direction, rcond=None)[0]
    step = 0.5 * p.min() / np.abs(direction).max()
    assert _entropy(p + step * direction) < _entropy(p)
    assert _entropy(p - step * direction) < _entropy(p)
