"""Mutual information: the 80%-agreeing coins (0.278 bits), non-negativity, independence."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from derivations import mutual_information as mi
from workbench.core.algebra import instantiate, resolve


def _mi_bits(joint):
    return mi._kl_numpy(joint) / np.log(2)


def test_agreeing_coins():
    # I = 1 − H(0.8) = 1 − 0.7219 = 0.2781 bits.
    assert _mi_bits(mi.EXAMPLE) == pytest.approx(0.2781, abs=1e-4)


def test_the_derived_result_gives_the_same_number():
    joint = np.array([[0.4, 0.1], [0.1, 0.4]])
    derivation = mi.build()
    resolved = resolve(derivation.results[0].derived, derivation.definitions)
    value = instantiate(resolved, {mi.m: 2, mi.n: 2})
    names = {
        sp.MatrixSymbol("P", 2, 2)[i, j]: sp.nsimplify(joint[i, j])
        for i in range(2)
        for j in range(2)
    }
    assert float(value.xreplace(names)) / np.log(2) == pytest.approx(0.2781, abs=1e-4)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 100_000))
def test_non_negative_and_zero_for_independent_variables(seed):
    rng = np.random.default_rng(seed)
    joint = mi._random_joint(rng)
    assert mi._kl_numpy(joint) >= 0
    independent = np.outer(joint.sum(1), joint.sum(0))
    assert mi._kl_numpy(independent) == pytest.approx(0, abs=1e-12)
