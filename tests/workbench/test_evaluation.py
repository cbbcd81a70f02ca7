"""The index-notation evaluator: sums, deltas, masks and domains, at 60 digits."""

from __future__ import annotations

import mpmath
import pytest
import sympy as sp

from workbench.checks.evaluation import Evaluator, Inadmissible, Unsupported

n = sp.Symbol("n", integer=True, positive=True)
i, j, k, m = sp.symbols("i j k m", integer=True)
z = sp.MatrixSymbol("z", n, 1)
W = sp.MatrixSymbol("W", n, n)


def _column(*entries):
    return [[sp.Rational(e)] for e in entries]


def test_sum_of_exponentials_matches_sympy_to_fifty_digits():
    values = _column("1/3", "-2/7", "5/4")
    expr = sp.log(sp.Sum(sp.exp(z[k, 0]), (k, 0, n - 1)))
    got = Evaluator({n: 3}, {"z": values}).value(expr)
    exact = sp.log(sum(sp.exp(v[0]) for v in values))
    with mpmath.workdps(60):
        assert abs(got - mpmath.mpf(str(sp.N(exact, 60)))) < mpmath.mpf("1e-55")


def test_free_indices_and_deltas():
    evaluator = Evaluator({n: 3}, {"z": _column(1, 2, 3)})
    expr = z[i, 0] * (sp.KroneckerDelta(i, j) - z[j, 0])
    assert evaluator.value(expr, {i: 1, j: 1}) == 2 * (1 - 2)
    assert evaluator.value(expr, {i: 1, j: 2}) == 2 * (0 - 3)


def test_cached_subexpressions_follow_their_indices():
    # A triangular double sum: the inner sum depends on the outer index, so its cached
    # value must be keyed by it (Σ_{m<3} Σ_{k≤m} W[m, k] = every entry on or below the
    # diagonal).
    rows = [[sp.Integer(10 * a + b) for b in range(3)] for a in range(3)]
    expr = sp.Sum(sp.Sum(W[m, k], (k, 0, m)), (m, 0, n - 1))
    assert Evaluator({n: 3}, {"W": rows}).value(expr) == sum(
        rows[a][b] for a in range(3) for b in range(a + 1)
    )


def test_a_mask_piecewise_and_a_size_in_a_power():
    mask = sp.Piecewise((1, j <= i), (0, True))
    expr = sp.Sum(mask * z[j, 0], (j, 0, n - 1)) / sp.sqrt(n)
    got = Evaluator({n: 4}, {"z": _column(1, 1, 1, 1)}).value(expr, {i: 2})
    assert abs(got - 3 / mpmath.sqrt(4)) < mpmath.mpf("1e-50")


def test_outside_the_real_domain_is_inadmissible():
    with pytest.raises(Inadmissible):
        Evaluator({n: 1}, {"z": _column(-1)}).value(sp.log(z[0, 0]))
    with pytest.raises(Inadmissible):
        Evaluator({n: 1}, {"z": _column(0)}).value(sp.DiracDelta(z[0, 0]))


def test_what_it_cannot_evaluate_is_unsupported():
    rows = [[sp.Integer(1), sp.Integer(0)], [sp.Integer(0), sp.Integer(1)]]
    with pytest.raises(Unsupported):  # an entry of W⁻¹ at a general size
        Evaluator({n: 2}, {"W": rows}).value(sp.Inverse(W)[i, j], {i: 0, j: 0})
    with pytest.raises(Unsupported):
        Evaluator({}, {}).value(sp.Function("phi")(sp.Integer(1)))
    with pytest.raises(Unsupported):  # an index nobody bound
        Evaluator({n: 3}, {"z": _column(1, 2, 3)}).value(z[i, 0])


def test_real_keeps_the_working_precision_and_leaves_the_context_alone():
    """Failed before the fix: real() rounded each 60-digit value to mpmath's default 53 bits."""
    from workbench.checks.evaluation import DIGITS, real

    with mpmath.workdps(DIGITS):
        third = mpmath.mpf(1) / 3
        complex_third = mpmath.mpc(third, 0)
    kept = real(third, 1e-35)
    assert kept == third  # all 60 digits, not the nearest double
    assert mpmath.mp.prec == 53  # and the global context is as it was
    assert real(complex_third, 1e-35) == third


def test_factored_sums_keep_their_value_and_shed_work():
    """Σ_q t[p, q]·Σ_s F(p, s)·K[s, q] (a contracted attention gradient, in small): the
    factored form has F outside the q-sum, and the same value to 60 digits."""
    from workbench.checks.evaluation import factor_sums

    p, q, s = sp.symbols("p q s", integer=True)
    K, t, F = (sp.MatrixSymbol(name, n, n) for name in ("K", "t", "F"))
    inner = sp.Sum(
        sp.exp(F[p, s]) * K[s, q] / sp.Sum(sp.exp(F[p, k]), (k, 0, n - 1)), (s, 0, n - 1)
    )
    contracted = sp.Sum(t[p, q] * (inner + K[p, q]), (p, 0, n - 1), (q, 0, n - 1))
    factored = factor_sums(contracted)
    assert factored != contracted
    # F's exponential sits outside every sum over q now.
    for node in sp.preorder_traversal(factored):
        if isinstance(node, sp.Sum) and node.limits[0][0] == q:
            assert not node.has(sp.exp)
    import random

    rng = random.Random(3)
    values = {
        name: [[sp.Rational(rng.randint(-190, 190), 97) for _ in range(4)] for _ in range(4)]
        for name in ("K", "t", "F")
    }
    evaluator = Evaluator({n: 4}, values)
    with mpmath.workdps(60):
        assert abs(evaluator.value(factored) - evaluator.value(contracted)) < mpmath.mpf("1e-55")


def test_a_factored_sum_over_an_index_its_body_does_not_read_counts_it():
    """Σ_j Σ_k A[k] = n·Σ_k A[k] (what a variance's (Σ_k x_k/n)² term summed over its
    own row index becomes): the factored form must keep the count, not square the body.
    The batch-norm gradient's directional check failed at m ≥ 2 on exactly this."""
    from workbench.checks.evaluation import factor_sums

    j, k = sp.symbols("j k", integer=True)
    A = sp.MatrixSymbol("A", n, 1)
    body = sp.Sum(A[k, 0], (k, 0, n - 1)) * sp.Sum(A[k, 0] ** 2, (k, 0, n - 1))
    total = sp.Sum(body, (j, 0, n - 1))
    values = {"A": [[sp.Rational(3, 7)], [sp.Rational(-5, 11)], [2], [sp.Rational(1, 3)]]}
    evaluator = Evaluator({n: 4}, values)
    with mpmath.workdps(60):
        expected = 4 * evaluator.value(body)
        assert abs(evaluator.value(total) - expected) < mpmath.mpf("1e-55")
        assert abs(evaluator.value(factor_sums(total)) - expected) < mpmath.mpf("1e-55")
