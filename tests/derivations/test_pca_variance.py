"""PCA: the worked 2×2 example, the SVD link, and checks that can fail."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from derivations import pca_variance as pca
from workbench.checks.runner import check_derivation


@pytest.fixture(scope="module")
def derivation():
    return pca.build()


def test_the_textbook_covariance_2_1_1_2_has_top_eigenvalue_3_along_the_diagonal():
    multipliers, eigenvalues = pca.sympy_solve_lagrange_system()
    assert list(multipliers) == [1, 3] == list(eigenvalues)
    values, vectors = np.linalg.eigh(np.array([[2.0, 1.0], [1.0, 2.0]]))
    assert values[-1] == pytest.approx(3.0)
    np.testing.assert_allclose(np.abs(vectors[:, -1]), [2**-0.5, 2**-0.5])


def test_worked_example_four_points():
    covariance = pca.EXAMPLE.T @ pca.EXAMPLE / 3
    np.testing.assert_allclose(covariance, [[10 / 3, 2.0], [2.0, 4 / 3]])
    top = np.linalg.eigvalsh(covariance)[-1]
    # (14/3 + √(4² + 4·4))/2 by the 2×2 eigenvalue formula: (tr + √((a − c)² + 4b²))/2
    assert top == pytest.approx((14 / 3 + np.sqrt((2.0) ** 2 + 16)) / 2)


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 10_000))
def test_the_multiplier_equals_the_variance_along_each_eigenvector(seed):
    data = pca._centred_data(seed)
    covariance = data.T @ data / (len(data) - 1)
    values, vectors = np.linalg.eigh(covariance)
    for value, vector in zip(values, vectors.T, strict=True):
        assert np.var(data @ vector, ddof=1) == pytest.approx(value, rel=1e-9)


def test_forgetting_the_symmetry_is_caught(derivation):
    # Σw − λw without the factor 2 that symmetry contributes.
    result = derivation.result("∂L/∂wⱼ")
    wrong = dataclasses.replace(result, closed_form=pca.S * pca.w - 2 * pca.lam * pca.w)
    results = tuple(wrong if r is result else r for r in derivation.results)
    broken = dataclasses.replace(derivation, results=results)
    assert not check_derivation(broken, only=("closed form",)).check("closed form").passed


@pytest.mark.slow  # the wrong form is never proved equal; the check runs out its budget
def test_a_wrong_multiplier_is_caught(derivation):
    result = derivation.result("λ at a stationary point")
    wrong = dataclasses.replace(result, closed_form=pca.QUADRATIC)  # forgot to divide by wᵀw
    results = tuple(wrong if r is result else r for r in derivation.results)
    broken = dataclasses.replace(derivation, results=results)
    assert not check_derivation(broken, only=("closed form",)).check("closed form").passed


def test_an_eigenvector_of_the_smallest_eigenvalue_is_caught(derivation):
    def smallest(seed):
        data = pca._centred_data(seed)
        vector = np.linalg.eigh(data.T @ data / (len(data) - 1))[1][:, 0]
        first = np.linalg.svd(data)[2][0]
        return vector * np.sign(vector @ first), first, 1e-8

    broken = dataclasses.replace(derivation, numeric_checks=(("smallest", smallest),))
    assert not check_derivation(broken, only=("numeric",)).check("numeric").passed
