"""SymPy's directional derivative against a claim: right claims pass, wrong ones fail."""

from __future__ import annotations

import mpmath
import pytest
import sympy as sp

from workbench.checks.directional import (
    Claim,
    DirectionalCheck,
    compare_along_directions,
    directional,
)

n = sp.Symbol("n", integer=True, positive=True)
i, j, k = sp.symbols("i j k", integer=True)
z = sp.MatrixSymbol("z", n, 1)
y = sp.MatrixSymbol("y", n, 1)
A = sp.MatrixSymbol("A", n, n)
x = sp.MatrixSymbol("x", n, 1)

total = sp.Sum(sp.exp(z[k, 0]), (k, 0, n - 1))
s_i, s_j = sp.exp(z[i, 0]) / total, sp.exp(z[j, 0]) / total


def _softmax():
    from workbench.core.functions import Softmax

    return Softmax(z)


def test_directional_derivative_is_sympys_diff_along_t():
    eps = sp.Symbol("eps")
    got = directional(z[i, 0] ** 3, z, eps)
    t = sp.MatrixSymbol("∂z", n, 1)
    assert sp.expand(got - 3 * z[i, 0] ** 2 * t[i, 0]) == 0


def test_softmax_jacobian_passes_and_a_missing_term_fails():
    right = Claim(z, s_i * (sp.KroneckerDelta(i, j) - s_j), (i, j))
    wrong = Claim(z, s_i * sp.KroneckerDelta(i, j), (i, j))  # diag(s): forgot −s sᵀ
    for size in (3, 12):
        verdicts = compare_along_directions(_softmax(), [right], [z], {n: size})
        assert [v.equal for v in verdicts] == [True]
        verdicts = compare_along_directions(_softmax(), [wrong], [z], {n: size})
        assert [v.equal for v in verdicts] == [False]
        assert verdicts[0].counterexample is not None


def test_a_transposed_jacobian_is_caught():
    # f(x) = A x has J = A; Aᵀ is the classic layout mistake.
    forward = A * x
    prepared = DirectionalCheck(forward, [Claim(x, A[i, j], (i, j))])  # J[i, j] = ∂fᵢ/∂xⱼ = A[i, j]
    transposed = DirectionalCheck(forward, [Claim(x, A[j, i], (i, j))])
    assert prepared.compare([A, x], {n: 4})[0].equal is True
    assert transposed.compare([A, x], {n: 4})[0].equal is False


def test_only_the_wrong_input_fails_and_assumptions_are_used():
    # L = −Σ yₖ log softmax(z)ₖ + Σ yₖ²: ∂L/∂z = s − y needs Σ y = 1; ∂L/∂y is exact.
    from workbench.core.functions import LogSoftmax

    loss = -(y.T * LogSoftmax(z)) + y.T * y
    gradient_z = Claim(z, sp.exp(z[j, 0]) / total - y[j, 0], (j, 0))
    gradient_y = Claim(y, -(z[j, 0] - sp.log(total)) + 2 * y[j, 0], (j, 0))
    wrong_y = Claim(y, -(z[j, 0] - sp.log(total)) + y[j, 0], (j, 0))
    facts = [(sum(y.subs(n, 4)[r, 0] for r in range(4)), 1)]
    verdicts = compare_along_directions(
        loss, [gradient_z, gradient_y], [z, y], {n: 4}, assumptions=facts
    )
    assert [v.equal for v in verdicts] == [True, True]
    verdicts = compare_along_directions(
        loss, [gradient_z, wrong_y], [z, y], {n: 4}, assumptions=facts
    )
    assert [v.equal for v in verdicts] == [True, False]
    # Without Σ y = 1 the z-gradient s − y is wrong, and the check says so.
    verdicts = compare_along_directions(loss, [gradient_z], [z, y], {n: 4})
    assert verdicts[0].equal is False


@pytest.mark.parametrize("size", [4, 32])
def test_directional_check_compares_at_sixty_digits(size):
    """Failed before the fix (passed at n = 4 and 32): SymPy's ⟨∇f, t⟩ and the contracted
    claim were rounded to doubles before they were compared, so a claim off by 1e-30
    relative on one entry of the softmax Jacobian passed."""
    right = Claim(z, s_i * (sp.KroneckerDelta(i, j) - s_j), (i, j))
    tiny = sp.Rational(1, 10**30) * s_i * s_j * sp.KroneckerDelta(i, 0) * sp.KroneckerDelta(j, 1)
    off = Claim(z, s_i * (sp.KroneckerDelta(i, j) - s_j) + tiny, (i, j))
    prepared = DirectionalCheck(_softmax(), [right, off])
    assert [v.equal for v in prepared.compare([z], {n: size})] == [True, False]
    assert mpmath.mp.prec == 53


def test_a_forward_with_a_matrix_of_numbers_is_read_at_large_sizes():
    """A selector of numbers ([1 0]) in the forward is an input with fixed entries: the
    batched logistic loss is prepared in well under its budget (SymPy's entry formula had
    tried every sum in closed form, past the budget, so no extra size ran), and a wrong
    claim is caught at B = d = 6."""
    from derivations import logistic_regression_gradient as lr
    from workbench.checks.sympy_diff import PREPARE_BUDGET, check_sympy_diff
    from workbench.checks.timebox import time_limit

    derivation = lr.build()
    case = next(c for c in derivation.cases if c.name == "batch mean")
    assert case.forward.atoms(sp.ImmutableMatrix)
    p, q = sp.symbols("p q", integer=True)
    claims = [Claim(w, g[p, q], (p, q)) for w, g in zip(case.wrt, case.gradients, strict=True)]
    with time_limit(PREPARE_BUDGET / 4):
        prepared = DirectionalCheck(case.forward, claims)
    sizes = {s: 6 for s in case.sizes[0]}
    assert [v.equal for v in prepared.compare(list(case.samplers), sizes)] == [True, True]
    doubled = [claims[0], Claim(claims[1].wrt, 2 * claims[1].expr, (p, q))]
    wrong = DirectionalCheck(case.forward, doubled).compare(list(case.samplers), sizes)
    assert [v.equal for v in wrong] == [True, False]
    labels = [entry["what"] for entry in check_sympy_diff(derivation, 20, 0).items]
    assert "[batch mean] d/dw: closed form at B=6, d=6" in labels
