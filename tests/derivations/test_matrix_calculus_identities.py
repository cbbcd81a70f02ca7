"""Matrix calculus identities: worked numbers, SymPy's known wrong answer, failing checks."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import sympy as sp

from derivations import matrix_calculus_identities as mci
from workbench.checks.runner import check_derivation


@pytest.fixture(scope="module")
def derivation():
    return mci.build()


def _case(derivation, name):
    return next(c for c in derivation.cases if c.name == name)


def test_seed_dot_product_and_a_quadratic_form_by_hand():
    a, b = np.array([1, 2, 3]), np.array([4, 5, 6])
    assert a @ b == 32  # the seed's 'dot product by hand'
    A, x = np.array([[2, 1], [0, 3]]), np.array([1, -1])
    assert x @ A @ x == 4
    np.testing.assert_array_equal((A + A.T) @ x, [3, -5])


def test_the_quadratic_gradient_is_derived_as_two_sums(derivation):
    derived = derivation.result("∂(xᵀ A x)/∂xⱼ").derived
    at_three = derived.subs(mci.n, 3).doit()
    x3 = sp.Matrix(3, 1, lambda r, c: mci.x.subs(mci.n, 3)[r, 0])
    A3 = mci.A.subs(mci.n, 3).as_explicit()
    for row in range(3):
        expected = ((A3 + A3.T) * x3)[row]
        assert sp.expand(at_three.subs(mci.j, row) - expected) == 0


def test_sympy_matrix_calculus_gets_log_det_wrong_at_symbolic_size():
    # The known wrong answer (SymPy 1.14): why results are confirmed at concrete sizes.
    answer = sp.log(sp.Determinant(mci.S)).diff(mci.S)
    assert answer == sp.ZeroMatrix(mci.n, mci.n)  # the truth is X⁻ᵀ


def test_a_zero_log_det_gradient_is_caught(derivation):
    case = _case(derivation, "log det(X)")
    wrong = dataclasses.replace(case, gradients=(sp.ZeroMatrix(mci.n, mci.n),))
    broken = dataclasses.replace(derivation, cases=(wrong,))
    report = check_derivation(broken, only=("sympy diff", "finite differences"))
    assert not report.check("sympy diff").passed
    assert not report.check("finite differences").passed


def test_two_a_x_for_a_non_symmetric_a_is_caught(derivation):
    result = derivation.result("∂(xᵀ A x)/∂xⱼ")
    wrong = dataclasses.replace(result, closed_form=2 * mci.A * mci.x)
    results = tuple(wrong if r is result else r for r in derivation.results)
    report = check_derivation(
        dataclasses.replace(derivation, results=results), only=("closed form",)
    )
    assert not report.check("closed form").passed


def test_a_missing_minus_sign_in_the_inverse_derivative_is_caught(derivation):
    case = _case(derivation, "tr(UᵀX⁻¹V), the derivative of the inverse")
    wrong = dataclasses.replace(case, gradients=(-case.gradients[0],), sizes=case.sizes[:2])
    broken = dataclasses.replace(derivation, cases=(wrong,))
    assert (
        not check_derivation(broken, only=("finite differences",))
        .check("finite differences")
        .passed
    )
