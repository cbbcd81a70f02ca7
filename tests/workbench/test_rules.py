"""The rules, one by one: each does what its statement says, judged by SymPy itself.

Each rule rewrites an expression without evaluating it; the oracle here is SymPy's own
``doit``/``diff`` and exact evaluation at concrete sizes, never the workbench's algebra.
"""

from __future__ import annotations

import ast
import inspect

import pytest
import sympy as sp

from workbench.core import rules, rules_compose, rules_extra, rules_stats
from workbench.core.rules import (
    ChainRule,
    CollapseDeltas,
    Context,
    Linearity,
    ProductRule,
    QuotientRule,
    Rule,
    SplitSums,
    Substitute,
    SwapSums,
)
from workbench.core.vocabulary import RULES, entries

x = sp.Symbol("x")
u, w = sp.Function("u"), sp.Function("w")
n = 6  # a concrete size for index-notation rules; the identities hold at every n
k, j, a, b = sp.symbols("k j a b", integer=True)
f, g = sp.IndexedBase("f"), sp.IndexedBase("g")


def same_function(before: sp.Basic, after: sp.Basic) -> bool:
    """Both sides agree once SymPy evaluates them (derivatives of concrete functions)."""
    concrete = {u: sp.Lambda(x, sp.sin(x) + x**3), w: sp.Lambda(x, sp.exp(2 * x) - x)}
    left, right = (e.subs(concrete).doit() for e in (before, after))
    # 40 digits: a right rule leaves rounding of ~1e-40; a wrong one differs at O(1)
    return all(
        abs(sp.N((left - right).subs(x, point), 40)) < 1e-30 for point in (sp.Rational(1, 3), 2, -5)
    )


def same_sum(before: sp.Basic, after: sp.Basic, values: dict) -> bool:
    """Both sides agree at exact values, with SymPy's doit writing the sums out."""
    left, right = (e.subs({n_sym: n}).doit().subs(values) for e in (before, after))
    return sp.expand(left - right) == 0


n_sym = sp.Symbol("n", integer=True, positive=True)


@pytest.mark.parametrize(
    "rule, expr",
    [
        (QuotientRule(), sp.Derivative(u(x) / w(x), x)),
        (ProductRule(), sp.Derivative(u(x) * w(x) * x, x)),
        (ChainRule(), sp.Derivative(sp.tanh(u(x)), x)),
        (ChainRule(), sp.Derivative(u(x) ** 3, x)),
        (Linearity(), sp.Derivative(3 * u(x) - 2 * x * 0 + 5 * w(x), x)),
    ],
    ids=["quotient", "product", "chain", "chain-power", "linearity"],
)
def test_calculus_rules_agree_with_sympys_derivative(rule, expr):
    after = rule.apply(expr, Context())
    assert after != expr, "the rule did nothing"
    assert same_function(expr, after)


def test_collapsing_a_delta_keeps_the_one_term_and_agrees_with_the_written_out_sum():
    before = sp.Sum(f[k] * sp.KroneckerDelta(k, j), (k, 0, n_sym - 1))
    after = CollapseDeltas().apply(before, Context())
    assert not after.has(sp.KroneckerDelta) and after.subs(j, 2) == f[2]
    for index in range(n):
        values = {f[m]: sp.Rational(m + 2, 7) for m in range(n)}
        assert same_sum(before.subs(j, index), after.subs(j, index), values)


def test_splitting_and_swapping_sums_agree_with_the_written_out_sums():
    values = {f[m]: sp.Rational(m * m + 1, 3) for m in range(n)}
    values |= {g[m]: sp.Rational(5 - m, 2) for m in range(n)}
    before = sp.Sum(f[k] + 3 * g[k], (k, 0, n_sym - 1))
    after = SplitSums().apply(before, Context())
    assert isinstance(after, sp.Add) and same_sum(before, after, values)
    nested = sp.Sum(sp.Sum(f[a] * g[b], (a, 0, n_sym - 1)), (b, 0, n_sym - 2))
    swapped = SwapSums().apply(nested, Context())
    assert swapped != nested and same_sum(nested, swapped, values)


def test_a_substitution_states_its_fact_as_an_assumption():
    fact = (sp.Sum(f[k], (k, 0, n_sym - 1)), sp.Integer(1))
    rule = Substitute(fact)
    assert rule.assumptions == (fact,)
    before = 2 * sp.Sum(f[k], (k, 0, n_sym - 1)) + g[j]
    assert rule.apply(before, Context()) == 2 + g[j]


def test_the_oracle_catches_a_planted_wrong_rule():
    """A quotient rule with the sign of u·∂v flipped must not pass the test above."""

    class WrongQuotient(Rule):
        def apply(self, expr, ctx):
            num, den = sp.fraction(expr.expr)
            return (sp.Derivative(num, x) * den + num * sp.Derivative(den, x)) / den**2

    expr = sp.Derivative(u(x) / w(x), x)
    assert not same_function(expr, WrongQuotient().apply(expr, Context()))


def test_every_rule_class_is_in_the_vocabulary_with_a_one_line_statement():
    defined = set()
    for module in (rules, rules_extra, rules_stats, rules_compose):
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, Rule) and cls is not Rule and cls.__module__ == module.__name__:
                defined.add(cls)
    assert defined == set(RULES), f"not listed: {sorted(c.__name__ for c in defined - set(RULES))}"
    for rule in RULES:
        doc = inspect.getdoc(rule) or ""
        assert doc and "\n" not in doc.strip().split("\n\n")[0], rule.__name__
        assert rule.name != Rule.name, f"{rule.__name__} has no name of its own"


def test_each_rule_name_is_one_entry_and_its_forms_state_different_things():
    listed = [e.name for e in entries()]
    assert len(listed) == len(set(listed))
    for entry in entries():
        assert len(entry.statements) == len(entry.forms), entry.name


def test_the_rule_modules_are_plain_data_and_code():
    """No rule module evaluates text: the rules are classes, never strings run later."""
    for module in (rules, rules_extra, rules_stats, rules_compose):
        tree = ast.parse(inspect.getsource(module))
        called = {
            node.func.id
            for node in ast.walk(tree)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
        }
        assert not called & {"eval", "exec", "sympify", "parse_expr"}, module.__name__


def test_geometric_sum_against_the_terms_added_up():
    """Σ a^{t−k} over k = 1..t and Σ 3a^{k+2} over k = 0..t, at t = 0..7, equal the closed
    form; a sum that is not geometric (k·a^k) is left alone. Planted: with n = hi − lo
    (one term short) the comparison fails at t = 1."""
    from workbench.core.rules_stats import GeometricSum

    a = sp.Symbol("a")
    t = sp.Symbol("t", integer=True, positive=True)
    k = sp.Symbol("k", integer=True)
    for s in (sp.Sum(a ** (t - k), (k, 1, t)), sp.Sum(3 * a ** (k + 2), (k, 0, t))):
        total = GeometricSum.total(s)
        for value in range(8):
            assert sp.cancel(total.subs(t, value) - s.subs(t, value).doit()) == 0
    assert GeometricSum.total(sp.Sum(k * a**k, (k, 0, t))) is None


def test_combine_sums_inside_a_product_collects_each_combined_body():
    """(Σₖ Wₖₚsₖ − Σₖ Wₖₚyₖ)·c → c·Σₖ Wₖₚ(sₖ − yₖ) with ``inside``; without it a product
    is left alone, as the mutual-information chain relies on. Fails if ``inside`` is
    ignored (two sums remain) or the combined sum changes the value."""
    n = sp.Symbol("n", integer=True, positive=True)
    k, p = sp.symbols("k p", integer=True)
    W, s, y = sp.MatrixSymbol("W", n, n), sp.MatrixSymbol("s", n, 1), sp.MatrixSymbol("y", n, 1)
    c = sp.Symbol("c")
    split = c * (
        sp.Sum(W[k, p] * s[k, 0], (k, 0, n - 1)) - sp.Sum(W[k, p] * y[k, 0], (k, 0, n - 1))
    )
    combined = rules_stats.CombineSums(inside=True).apply(split, rules.Context())
    (total,) = combined.atoms(sp.Sum)
    assert sp.expand(combined - c * total) == 0
    assert (
        isinstance(total.function, sp.Mul)
        and (s[k, 0] - y[k, 0]).xreplace({k: total.variables[0]}) in total.function.args
    )
    # the same value: written out term by term at n = 4
    assert sp.expand((combined - split).subs(n, 4).doit()) == 0
    from workbench.core.algebra import canonical

    assert rules_stats.CombineSums().apply(split, rules.Context()) == canonical(split)
