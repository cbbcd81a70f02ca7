"""Convolution theorem: the seed-style worked numbers, properties, and checks that can fail."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from derivations import convolution_theorem as ct
from workbench.checks.runner import check_derivation


@pytest.fixture(scope="module")
def derivation():
    return ct.build()


def test_worked_circular_convolution():
    np.testing.assert_allclose(ct.circular_convolution(ct.SEED_X, ct.SEED_Y), [3, 5, 7, 5])
    by_fft = np.fft.ifft(np.fft.fft(ct.SEED_X) * np.fft.fft(ct.SEED_Y)).real
    np.testing.assert_allclose(by_fft, [3, 5, 7, 5], atol=1e-12)


def test_worked_toeplitz_layer():
    signal, weights = np.array([1.0, 2.0, 4.0, 7.0, 11.0]), np.array([1.0, 0.0, -1.0])
    np.testing.assert_allclose(ct.toeplitz_matrix(weights, 3) @ signal, [-3, -5, -7])


@settings(max_examples=25, deadline=None)
@given(
    arrays(np.float64, 8, elements=st.floats(-10, 10)),
    arrays(np.float64, 8, elements=st.floats(-10, 10)),
)
def test_circular_convolution_commutes_and_transforms_to_a_product(first, second):
    direct = ct.circular_convolution(first, second)
    np.testing.assert_allclose(direct, ct.circular_convolution(second, first), atol=1e-9)
    np.testing.assert_allclose(
        np.fft.fft(direct), np.fft.fft(first) * np.fft.fft(second), atol=1e-8
    )


def test_a_plus_sign_in_the_real_part_is_caught(derivation):
    # CₓC_y + SₓS_y: what one gets with the DFT sign convention mixed up.
    result = derivation.results[0]
    wrong = dataclasses.replace(result, closed_form=ct.Cx * ct.Cy + ct.Sx * ct.Sy)
    broken = dataclasses.replace(derivation, results=(wrong, *derivation.results[1:]))
    assert not check_derivation(broken, only=("closed form",)).check("closed form").passed


def test_an_off_by_one_sliding_window_is_caught(derivation):
    # u[i + 1 + j]: the window starting one place late.
    result = derivation.results[2]
    last = result.steps[-1]
    shifted = last.after.xreplace({ct.i: ct.i + 1})
    broken_step = dataclasses.replace(last, after=shifted)
    wrong = dataclasses.replace(result, steps=(*result.steps[:-1], broken_step))
    broken = dataclasses.replace(derivation, results=(wrong,))
    assert not check_derivation(broken, only=("steps",)).check("steps").passed
