"""Bounded equality: tiers, budgets, counterexamples."""

from __future__ import annotations

import mpmath
import pytest
import sympy as sp

from workbench.checks.equivalence import check_equal
from workbench.core.functions import Softmax

x, y = sp.symbols("x y")


def softmax_jacobian_two_ways(n: int):
    """SymPy's own Jacobian of softmax, and the quotient-rule form over a common denominator."""
    z = sp.MatrixSymbol("z", n, 1)
    s = Softmax(z).as_explicit().doit()
    truth = s.jacobian(list(z.as_explicit()))
    e = [sp.exp(v) for v in z.as_explicit()]
    total = sum(e)
    other = sp.Matrix(n, n, lambda a, b: (e[a] * (total if a == b else 0) - e[a] * e[b]) / total**2)
    return truth, other


def test_structural_tier_proves_polynomial_identities():
    verdict = check_equal((x + y) ** 2, x**2 + 2 * x * y + y**2)
    assert verdict.equal is True
    assert (verdict.method, verdict.tier) == ("proved", "structural")


def test_rational_tier_relates_exp_and_its_reciprocal():
    verdict = check_equal(sp.exp(x) / (1 + sp.exp(x)), 1 / (1 + sp.exp(-x)))
    assert verdict.equal is True
    assert (verdict.method, verdict.tier) == ("proved", "rational")


def test_rational_tier_keeps_rational_coefficients_exact():
    # The field works over the integers; a coefficient 1/2 is the fraction 1/2, not 0.5.
    sigma = 1 / (1 + sp.exp(-x))
    half_derivative = sp.exp(x) / (2 * (1 + sp.exp(x)) ** 2)
    verdict = check_equal(half_derivative, sigma * (1 - sigma) / 2)
    assert (verdict.equal, verdict.method, verdict.tier) == (True, "proved", "rational")
    assert check_equal(half_derivative, sigma * (1 - sigma) / 3).equal is False


def test_numeric_tier_decides_trig_identity_and_says_so():
    verdict = check_equal(sp.sin(x) ** 2 + sp.cos(x) ** 2, 1)
    assert verdict.equal is True
    assert verdict.method == "tested"


def test_a_wrong_identity_gets_a_counterexample():
    verdict = check_equal(sp.log(1 + sp.exp(x)), x)
    assert verdict.equal is False
    assert verdict.counterexample is not None
    left, right = (float(verdict.counterexample[k]) for k in ("left", "right"))
    assert abs(left - right) > 1e-3


def test_absolute_value_is_not_the_identity():
    # sqrt(x²) = x holds only for x ≥ 0; enough points must land on both signs.
    assert check_equal(sp.sqrt(x**2), x).equal is False


def test_shapes_must_agree():
    verdict = check_equal(sp.Matrix([[x, y]]), sp.Matrix([[x], [y]]))
    assert verdict.equal is False
    assert verdict.tier == "shape"


def test_index_notation_with_an_assumption():
    n = sp.Symbol("n", integer=True, positive=True)
    j, k = sp.symbols("j k", integer=True)
    y_ = sp.MatrixSymbol("y", n, 1)
    s_ = sp.MatrixSymbol("s", n, 1)
    total = sp.Sum(y_[k, 0], (k, 0, n - 1))
    claimed = s_[j, 0] * total - y_[j, 0]
    assert check_equal(claimed, s_[j, 0] - y_[j, 0], assumptions=[(total, 1)]).equal is True
    assert check_equal(claimed, s_[j, 0] - y_[j, 0]).equal is False


def test_large_softmax_jacobian_is_decided_within_budget():
    """Plain simplify(a - b) on this 8×8 pair runs for over a minute (benchmarks/
    equality_vs_simplify.py measures it); the tiered check answers within its budget."""
    truth, other = softmax_jacobian_two_ways(8)
    verdict = check_equal(truth, other, budget=4.0)
    assert verdict.equal is True
    # The budget is the checker's contract; allow a little for the last point's evaluation.
    assert verdict.seconds <= 4.0 + 1.0


def test_large_wrong_jacobian_is_caught():
    truth, other = softmax_jacobian_two_ways(8)
    wrong = sp.Matrix(other)
    wrong[2, 5] = wrong[2, 5] * (1 + sp.Rational(1, 10**6))
    assert check_equal(truth, wrong, budget=4.0).equal is False


def test_unspecified_functions_are_tested_through_a_stand_in():
    f = sp.Function("f")
    assert check_equal(sp.diff(f(x**2), x), 2 * x * sp.Subs(sp.diff(f(y), y), y, x**2)).equal
    assert check_equal(sp.diff(f(x**2), x), x * sp.Subs(sp.diff(f(y), y), y, x**2)).equal is False


def test_unevaluated_integrals_are_judged_numerically():
    t = sp.Symbol("t")
    assert check_equal(sp.Integral(t * x, (t, 0, 1)), x / 3).equal is False
    assert check_equal(sp.Integral(t * x, (t, 0, 1)), x / 2).equal is True


def overflow_safe_softmax_jacobian(n: int):
    """SymPy's Jacobian of softmax, and sᵢ(δᵢⱼ − sⱼ) with sᵢ = 1/(1 + Σ_{k≠i} exp(zₖ − zᵢ))
    (simplify needs 78 s to equate the two at n = 8: benchmarks/bench_equality.py)."""
    z = sp.symbols(f"z0:{n}")
    exps = [sp.exp(v) for v in z]
    truth = sp.Matrix(n, n, lambda i, j: sp.diff(exps[i] / sum(exps), z[j]))
    s = [1 / (1 + sum(sp.exp(z[k] - z[i]) for k in range(n) if k != i)) for i in range(n)]
    return truth, sp.Matrix(n, n, lambda i, j: s[i] * ((1 if i == j else 0) - s[j]))


def test_the_rational_field_proves_the_overflow_safe_softmax_jacobian():
    truth, other = overflow_safe_softmax_jacobian(4)
    verdict = check_equal(truth, other)
    assert (verdict.equal, verdict.method, verdict.tier) == (True, "proved", "rational")
    assert check_equal(truth, sp.diag(*[other[i, i] for i in range(4)])).equal is False


def test_large_explicit_matrices_are_evaluated_on_their_dag():
    # Past the symbolic size cap: 60-digit points, each shared subexpression once.
    truth, other = overflow_safe_softmax_jacobian(20)
    verdict = check_equal(truth, other)
    assert (verdict.equal, verdict.method, verdict.tier) == (True, "tested", "high-precision")
    wrong = sp.Matrix(other)
    wrong[3, 7] = wrong[3, 7] * (1 + sp.Rational(1, 10**12))
    caught = check_equal(truth, wrong)
    assert caught.equal is False and caught.counterexample is not None


def _softmax_jacobian_off_by(n: int, relative: sp.Rational):
    """SymPy's Jacobian of softmax, sᵢ(δᵢⱼ − sⱼ), and the same with ``relative``·s₀s₁ added
    to entry (0, 1) (which is −s₀s₁): off by ``relative`` on that entry."""
    z = sp.MatrixSymbol("z", n, 1)
    s = Softmax(z).as_explicit().doit()
    truth = s.jacobian(list(z.as_explicit()))
    form = sp.Matrix(n, n, lambda a, b: s[a] * ((1 if a == b else 0) - s[b]))
    off = sp.Matrix(form)
    off[0, 1] += relative * s[0] * s[1]
    return truth, form, off


@pytest.mark.parametrize("n", [4, 32])
def test_high_precision_means_sixty_digits(n):
    """Failed before the fix (equal at n = 4 and 32): the 60-digit values were rounded to
    doubles before they were compared, so a difference of 1e-30 relative vanished."""
    truth, form, off = _softmax_jacobian_off_by(n, sp.Rational(1, 10**30))
    assert check_equal(truth, form).equal is True
    caught = check_equal(truth, off)
    assert (caught.equal, caught.tier) == (False, "high-precision")
    assert mpmath.mp.prec == 53  # no precision leaks out of the check


def _softmax_jacobian_forms(n: int):
    """The softmax Jacobian by the quotient rule, (eₐSδₐᵦ − eₐeᵦ)/S², and as sₐ(δₐᵦ − sᵦ),
    built entry by entry (SymPy's own jacobian takes minutes at n = 128)."""
    z = sp.MatrixSymbol("z", n, 1)
    e = [sp.exp(z[k, 0]) for k in range(n)]
    total = sp.Add(*e)
    s = [v / total for v in e]
    quotient = sp.Matrix(
        n, n, lambda a, b: (e[a] * total * (1 if a == b else 0) - e[a] * e[b]) / total**2
    )
    return quotient, sp.Matrix(n, n, lambda a, b: s[a] * ((1 if a == b else 0) - s[b]))


def test_every_pre_check_counts_against_the_budget():
    """Failed before the fix: at n = 128 forming a - b and the pre-checks on it ran before
    the budget was looked at (6 of the 4 CPU seconds), and no verdict came."""
    quotient, product = _softmax_jacobian_forms(128)
    verdict = check_equal(quotient, product, budget=4.0)
    assert (verdict.equal, verdict.method) == (True, "tested")
    assert verdict.seconds <= 4.0 + 0.5  # the last point's evaluation may run over a little
    wrong = sp.Matrix(product)
    wrong[5, 100] = wrong[5, 100] * (1 + sp.Rational(1, 10**20))
    caught = check_equal(quotient, wrong, budget=4.0)
    assert caught.equal is False and caught.seconds <= 4.0 + 0.5
    short = check_equal(quotient, product, budget=1.0)
    # A verdict from fewer points, or undecided: in time. One point's evaluation at n = 128
    # can take 0.5 s of CPU under load (it ran 1.53 s once in CI); before the fix the
    # pre-checks alone took 6 s, so a second of slack still fails the old code.
    assert short.seconds <= 1.0 + 1.0
    assert short.equal is not False


def test_general_sizes_reach_past_three_and_the_report_says_which():
    """Failed before the fix: tested at n = 2 and 3 only, sᵢ(δᵢⱼ − sⱼ) + (n − 2)(n − 3)sᵢsⱼ,
    wrong for every n ≥ 4, was judged equal to the softmax Jacobian."""
    from workbench.checks.equivalence import RANDOM_SIZES, general_sizes

    n = sp.Symbol("n", integer=True, positive=True)
    i, j, k = sp.symbols("i j k", integer=True)
    z = sp.MatrixSymbol("z", n, 1)
    total = sp.Sum(sp.exp(z[k, 0]), (k, 0, n - 1))
    s_i, s_j = sp.exp(z[i, 0]) / total, sp.exp(z[j, 0]) / total
    jacobian = sp.diff(s_i, z[j, 0])
    right = s_i * (sp.KroneckerDelta(i, j) - s_j)
    small_only = right + (n - 2) * (n - 3) * s_i * s_j
    sizes = general_sizes(0)
    assert len(sizes) >= 4 and max(sizes) >= 5 and sizes[-1] in RANDOM_SIZES
    assert {general_sizes(seed)[-1] for seed in range(20)} == set(RANDOM_SIZES)  # drawn
    caught = check_equal(jacobian, small_only, symbolic_budget=0)
    assert caught.equal is False
    assert not caught.counterexample["instance"].endswith(("n=2", "n=3"))  # found past 3
    verdict = check_equal(jacobian, right, symbolic_budget=0)
    assert (verdict.equal, verdict.method) == (True, "tested")
    assert f"at sizes {', '.join(map(str, sizes))}" in verdict.detail
    assert "random points across" in verdict.detail


def test_a_fact_over_a_size_neither_side_holds_is_applied_at_concrete_sizes():
    """Failed before the fix with "TypeError: First argument of MatrixElement should be a
    matrix": Σₖ yₖ = 1 up to n, with n in neither side, was left general, and solving it
    for its "unknowns" tried the matrix y as one. Two-layer backprop's closed form
    2δ₁xᵀ (a planted mistake) crashed the closed-form check this way."""
    import sympy as sp

    from workbench.checks.equivalence import check_equal

    n, m = sp.symbols("n m", integer=True, positive=True)
    k, i = sp.symbols("k i", integer=True)
    x, y = sp.MatrixSymbol("x", m, 1), sp.MatrixSymbol("y", n, 1)
    fact = ((sp.Sum(y[k, 0], (k, 0, n - 1)), sp.Integer(1)),)
    wrong = check_equal(x[i, 0], 2 * x[i, 0] + y[0, 0] * 0, assumptions=fact, budget=10)
    assert wrong.equal is False, wrong
    right = check_equal(
        x[i, 0], x[i, 0] * sp.Sum(y[k, 0], (k, 0, n - 1)), assumptions=fact, budget=10
    )
    assert right.equal is True, right
