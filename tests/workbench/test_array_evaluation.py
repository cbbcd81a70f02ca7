"""The array evaluator against the scalar one: the same values, and the same verdicts."""

from __future__ import annotations

import random

import gmpy2
import mpmath
import pytest
import sympy as sp

from workbench.checks import directional as directional_module
from workbench.checks.array_evaluation import ArrayEvaluator, NotVectorised
from workbench.checks.directional import Claim, DirectionalCheck
from workbench.checks.evaluation import Evaluator
from workbench.core import algebra, registry

n = sp.Symbol("n", integer=True, positive=True)
m = sp.Symbol("m", integer=True, positive=True)
i, j, k = sp.symbols("i j k", integer=True)
A = sp.MatrixSymbol("A", n, m)
x = sp.MatrixSymbol("x", n, 1)
w = sp.MatrixSymbol("w", m, 1)
z = sp.MatrixSymbol("z", n, 1)

SIZES = {n: 4, m: 3}


def _values(seed: int = 0):
    rng = random.Random(seed)

    def draw():
        return sp.Rational(rng.randint(-190, 190), 97)

    return {
        "A": [[draw() for _ in range(3)] for _ in range(4)],
        "x": [[draw()] for _ in range(4)],
        "w": [[draw()] for _ in range(3)],
        "z": [[draw()] for _ in range(4)],
    }


row_sum = sp.Sum(sp.exp(z[k, 0]), (k, 0, n - 1))
EXPRESSIONS = [
    A[i, 0],
    sp.Sum(A[i, k] * w[k, 0], (k, 0, m - 1)),
    # k over 0..m-1 and, in another sum, over 0..n-1: two axes
    sp.Sum(A[i, k] * w[k, 0], (k, 0, m - 1)) * sp.Sum(x[k, 0] ** 2, (k, 0, n - 1)),
    sp.Sum(A[k, j] * x[k, 0], (k, 0, n - 1), (j, 0, m - 1)) + x[i, 0],
    sp.exp(z[i, 0]) / row_sum,
    sp.log(row_sum) - z[i, 0] + sp.Rational(1, 3),
    sp.tanh(x[i, 0]) * sp.Sum(sp.KroneckerDelta(i, k) * sp.exp(x[k, 0]), (k, 0, n - 1)),
    sp.Piecewise((x[i, 0], i < 2), (sp.sqrt(z[i, 0] ** 2 + 1), True)),
    sp.Heaviside(x[i, 0]) * x[i, 0] + sp.Abs(z[i, 0]),
    sp.Sum(x[k, 0], (k, 0, n - 1)) * n + sp.pi,  # a size and a constant as numbers
    sp.Sum(x[i, 0], (k, 0, m - 1)),  # a sum whose body does not read its index
    sp.Sum(sp.Sum(A[k, j] * w[j, 0], (j, 0, m - 1)) ** 2, (k, 0, n - 1)),
]


@pytest.mark.parametrize("expr", EXPRESSIONS, ids=range(len(EXPRESSIONS)))
def test_the_same_values_as_the_scalar_evaluator(expr):
    """Every entry to 55 digits (both compute at 60). Fails when a contraction, an axis
    or a count is wrong: a planted mistake below shows it."""
    for seed in range(3):
        values = _values(seed)
        arrays = ArrayEvaluator(SIZES, values).array(expr, {i: 4})
        scalars = [Evaluator(SIZES, values).value(expr, {i: r}) for r in range(4)]
        for a, b in zip(arrays, scalars, strict=True):
            assert isinstance(a, mpmath.mpf)
            assert abs(a - b) <= mpmath.mpf("1e-55") * max(abs(b), 1)


def test_a_wrong_value_is_seen_by_that_comparison():
    """The comparison above bites: a sum off by one term in 1e30 differs."""
    values = _values()
    expr = sp.Sum(A[i, k] * w[k, 0], (k, 0, m - 1))
    planted = expr + sp.Rational(1, 10**30) * x[i, 0]
    arrays = ArrayEvaluator(SIZES, values).array(planted, {i: 4})
    scalars = [Evaluator(SIZES, values).value(expr, {i: r}) for r in range(4)]
    differences = [abs(a - b) / max(abs(b), 1) for a, b in zip(arrays, scalars, strict=True)]
    assert max(differences) > mpmath.mpf("1e-55")


@pytest.mark.parametrize(
    "expr",
    [
        sp.Sum(x[k, 0], (k, 0, i)),  # a range that depends on another index
        sp.log(x[i, 0] - 10),  # outside the domain: the scalar evaluator says so
        1 / (x[i, 0] - x[i, 0]),
        x[i + 1, 0],  # past the last row at i = n - 1
        sp.Function("f")(x[i, 0]),
    ],
)
def test_what_it_does_not_cover_it_hands_back(expr):
    with pytest.raises(NotVectorised):
        ArrayEvaluator(SIZES, _values()).array(expr, {i: 4})


def test_no_lasting_change_to_the_number_contexts():
    before = gmpy2.get_context().precision, mpmath.mp.prec
    ArrayEvaluator(SIZES, _values()).array(EXPRESSIONS[4], {i: 4})
    with pytest.raises(NotVectorised):
        ArrayEvaluator(SIZES, _values()).array(sp.log(x[i, 0] - 10), {i: 4})
    assert (gmpy2.get_context().precision, mpmath.mp.prec) == before


def _softmax():
    from workbench.core.functions import Softmax

    return Softmax(z)


@pytest.mark.parametrize("size", [4, 32])
def test_a_claim_off_by_1e_30_is_rejected_by_the_array_route(size, monkeypatch):
    """The directional check's verdicts at 60 digits come from the array route here (the
    scalar evaluator is made to fail if asked): the right softmax Jacobian passes, the
    one off by 1e-30 relative on one entry is rejected."""

    def refuse(*args, **kwargs):
        raise AssertionError("the scalar evaluator was asked")

    monkeypatch.setattr(directional_module, "Evaluator", refuse)
    s_i = sp.exp(z[i, 0]) / row_sum
    s_j = sp.exp(z[j, 0]) / row_sum
    right = Claim(z, s_i * (sp.KroneckerDelta(i, j) - s_j), (i, j))
    tiny = sp.Rational(1, 10**30) * s_i * s_j * sp.KroneckerDelta(i, 0) * sp.KroneckerDelta(j, 1)
    off = Claim(z, s_i * (sp.KroneckerDelta(i, j) - s_j) + tiny, (i, j))
    prepared = DirectionalCheck(_softmax(), [right, off])
    assert [v.equal for v in prepared.compare([z], {n: size})] == [True, False]


def test_the_scalar_route_decides_what_the_array_route_does_not_cover(monkeypatch):
    """With the array route refusing everything, the verdicts are the same."""

    def refuse(self, *args, **kwargs):
        raise NotVectorised("refused")

    s_i = sp.exp(z[i, 0]) / row_sum
    s_j = sp.exp(z[j, 0]) / row_sum
    right = Claim(z, s_i * (sp.KroneckerDelta(i, j) - s_j), (i, j))
    wrong = Claim(z, s_i * (sp.KroneckerDelta(i, j) - s_i), (i, j))
    prepared = DirectionalCheck(_softmax(), [right, wrong])
    arrays = [v.equal for v in prepared.compare([z], {n: 5})]
    monkeypatch.setattr(ArrayEvaluator, "array", refuse)
    assert [v.equal for v in prepared.compare([z], {n: 5})] == arrays == [True, False]


@pytest.mark.parametrize(
    ("slug", "size"),
    [("attention-gradient", 4), ("two-layer-backprop", None), ("layernorm-backward", None)],
)
def test_each_directional_check_has_the_scalar_values(slug, size):
    """SymPy's ⟨∇f, t⟩ and the contracted claim of every case, both routes, to 55 digits,
    at a case's own size (or every size ``size``: attention's sizes all differ there)."""
    from workbench.checks import sympy_diff  # lazy: only this test reads the registry

    derivation = registry.get(slug)
    resolved = {
        r.label: algebra.resolve(r.derived, derivation.definitions) for r in derivation.results
    }
    for case in derivation.cases:
        prepared = sympy_diff._directional_check(derivation, case, resolved)
        sizes = {s: size for s in case.sizes[-1]} if size else dict(case.sizes[-1])
        shapes = {a.name: directional_module._shape(a, sizes) for a in case.samplers}
        rng = random.Random(case.name)
        point = directional_module._draw_point(shapes, derivation.domain or {}, rng)
        for old, new in case.substitutions.items():
            if isinstance(old, sp.MatrixSymbol):
                point[old.name] = sympy_diff._explicit_entries(new, sizes)
        assumptions = sympy_diff.concrete_assumptions(case, sizes)
        directional_module._satisfy(assumptions, point, [c.wrt.name for c in prepared.claims])
        for claim in prepared.claims:
            shape = shapes[claim.wrt.name]
            point[directional_module.direction_name(claim.wrt)] = directional_module._matrix(
                shape, rng
            )
        rows, _ = directional_module._shape(prepared.forward, sizes)
        arrays = prepared._arrays(ArrayEvaluator(sizes, point), rows)
        scalars = prepared._values(Evaluator(sizes, point), rows)
        for (truth_a, claim_a), (truth_s, claim_s) in zip(arrays, scalars, strict=True):
            for a, b in zip(truth_a + claim_a, truth_s + claim_s, strict=True):
                assert abs(a - b) <= mpmath.mpf("1e-55") * max(abs(b), 1), case.name
