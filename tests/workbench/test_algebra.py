"""Index-notation algebra: canonical names, sums, deltas, facts."""

from __future__ import annotations

import sympy as sp

from workbench.core import algebra

n = sp.Symbol("n", integer=True, positive=True)
i, j, k, a = sp.symbols("i j k a", integer=True)
Y = sp.MatrixSymbol("Y", n, n)
y = sp.MatrixSymbol("y", n, 1)
s0, s1 = sp.symbols("_s0 _s1", integer=True)


def test_canonical_names_cannot_capture_each_other():
    # Reordered sums that already use canonical names: a one-pass rename gives Y[_s0, _s0].
    tangled = sp.Sum(Y[s1, s0], (s1, 0, n - 1), (s0, 0, n - 1))
    out = algebra.canonical(tangled)
    (element,) = out.atoms(sp.matrices.expressions.matexpr.MatrixElement)
    assert element.i != element.j


def test_canonical_makes_alpha_equivalent_sums_equal():
    assert algebra.canonical(sp.Sum(y[i, 0], (i, 0, n - 1))) == algebra.canonical(
        sp.Sum(y[k, 0], (k, 0, n - 1))
    )


def test_split_sums_keeps_every_limit():
    body = Y[a, k] * (sp.KroneckerDelta(j, k) - y[j, 0])
    split = algebra.split_sums(sp.Sum(body, (k, 0, n - 1), (a, 0, n - 1)))
    for term in sp.Add.make_args(sp.expand(split)):
        for s in term.atoms(sp.Sum):
            assert len(s.limits) == 2


def test_delta_collapse():
    collapsed = algebra.collapse_deltas(sp.Sum(y[k, 0] * sp.KroneckerDelta(k, j), (k, 0, n - 1)))
    assert collapsed == y[j, 0]


def test_fact_is_found_inside_another_sum():
    inner = sp.Sum(y[k, 0], (k, 0, n - 1))
    nested = algebra.canonical(sp.Sum(Y[i, a] * inner, (a, 0, n - 1)))
    replaced = algebra.substitute_fact(nested, inner, sp.Integer(1))
    assert not replaced.has(y)


def test_instantiate_expands_sums_and_deltas():
    expr = sp.Sum(y[k, 0] * sp.KroneckerDelta(k, j), (k, 0, n - 1)) + y[j, 0]
    out = algebra.instantiate(expr, {n: 3, j: 2})
    y3 = sp.MatrixSymbol("y", 3, 1)
    assert sp.expand(out - 2 * y3[2, 0]) == 0


def test_depends_on_stops_at_the_variable():
    z = sp.MatrixSymbol("z", n, 1)
    h = sp.MatrixSymbol("h", n, 1)
    loss = sp.Symbol("L")
    definitions = {loss: sp.Sum(z[k, 0], (k, 0, n - 1)), z: 2 * h}
    assert algebra.depends_on(loss, z[i, 0], definitions)
    assert algebra.depends_on(loss, h[i, 0], definitions)
