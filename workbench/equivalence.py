"""Bounded equality: decide ``a == b`` within a time budget and say how it was decided.

The tiers, cheapest first (see ``shared/design.md``):

1. ``structural`` — the index normal form (or ``expand``) of ``a - b`` is zero: *proved*.
2. ``rational`` — every ``exp``/``log``/``Sum``/... atom becomes a fresh symbol and the
   rational function ``cancel``s to zero: *proved* (if it vanishes with the atoms
   independent, it vanishes for their true values).
3. ``exact-points`` / ``high-precision`` — at concrete sizes (for general-n expressions)
   and at seeded random rational points, ``a - b`` is evaluated exactly or with 50
   significant digits: *tested*. A non-zero value is a counterexample.
4. ``simplify`` — ``simplify(a - b) == 0`` in a child process that is killed when the
   budget runs out: *proved*.

Example:
    >>> import sympy as sp
    >>> x = sp.Symbol("x")
    >>> check_equal(sp.sin(x)**2 + sp.cos(x)**2, 1).equal
    True
"""

from __future__ import annotations

import random
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import sympy as sp
from sympy.matrices.expressions.matexpr import MatrixElement

from workbench import algebra
from workbench.errors import TimeBudgetExceeded
from workbench.timebox import call_with_limit, run_in_child

DEFAULT_BUDGET = 4.0
PRECISION = 50  # significant digits for the high-precision tier
# |a - b| must be below this times max(|a|, |b|, 1) at 50 digits; a real difference
# between the expressions we compare is many orders of magnitude larger.
RELATIVE_TOLERANCE = sp.Float("1e-35", PRECISION)

Assumption = tuple[sp.Basic, sp.Basic]  # lhs = rhs, e.g. (Sum(y[k, 0], ...), 1)


@dataclass(frozen=True)
class Equivalence:
    """The verdict of :func:`check_equal`.

    Attributes:
        equal: True, False, or None when the budget ran out undecided.
        method: ``"proved"`` (symbolic), ``"tested"`` (exact or high-precision points)
            or ``"undecided"``.
        tier: which tier decided (``structural``, ``rational``, ``exact-points``,
            ``high-precision``, ``simplify``).
        seconds: time spent.
        detail: a sentence for a person.
        counterexample: for a disproof, the point and the two values.
    """

    equal: bool | None
    method: str
    tier: str
    seconds: float
    detail: str = ""
    counterexample: Mapping[str, str] | None = field(default=None)

    def __bool__(self) -> bool:
        return bool(self.equal)


# ---------------------------------------------------------------- public entry
def check_equal(
    a: sp.Basic,
    b: sp.Basic,
    *,
    assumptions: Sequence[Assumption] = (),
    domain: Mapping[str, tuple[float, float]] | None = None,
    budget: float = DEFAULT_BUDGET,
    points: int = 3,
    sizes: Sequence[int] = (2, 3),
    seed: int = 0,
) -> Equivalence:
    """Decide whether ``a`` equals ``b`` (scalars or explicit matrices) within ``budget`` s.

    Args:
        a, b: SymPy expressions, possibly in index notation with symbolic sizes, or
            explicit matrices of equal shape.
        assumptions: facts ``(lhs, rhs)`` that may be used, e.g. ``Σ y = 1``.
        domain: per matrix or symbol name, the interval random values are drawn from
            (default ``(-2, 2)``; names declared ``positive`` draw from ``(1/4, 2)``).
        budget: seconds for the whole decision, all tiers together.
        points: random points per concrete instance in the numeric tier.
        sizes: sizes at which general-n expressions are instantiated numerically.
        seed: seeds the random points, so verdicts are reproducible.
    """
    start = time.monotonic()
    diff = _difference(a, b)
    if diff is None:
        return Equivalence(False, "proved", "shape", 0.0, "the two sides have different shapes")

    def left() -> float:
        return budget - (time.monotonic() - start)

    def verdict(equal, method, tier, detail="", counterexample=None) -> Equivalence:
        return Equivalence(equal, method, tier, time.monotonic() - start, detail, counterexample)

    # Symbolic tiers may use at most 60% of the budget; the numeric tier is the safety net.
    symbolic_share = 0.6 * budget
    for tier, decide in (("structural", _structural), ("rational", _rational)):
        try:
            share = min(symbolic_share - (budget - left()), left())
            if share <= 0:
                break
            if call_with_limit(lambda decide=decide: decide(diff, assumptions), share):
                return verdict(True, "proved", tier, f"{tier} tier reduced a - b to 0")
        except TimeBudgetExceeded:
            continue
        except (TypeError, ValueError, NotImplementedError, AttributeError):
            continue

    try:
        outcome = call_with_limit(
            lambda: _numeric(diff, a, b, assumptions, domain or {}, points, sizes, seed),
            max(left(), 1e-3),
        )
    except TimeBudgetExceeded:
        outcome = None
    if outcome is not None:
        equal, tier, detail, example = outcome
        if equal is not None:
            return verdict(equal, "tested", tier, detail, example)

    if left() > 0.05 and not _has_general_size(diff):
        try:
            if run_in_child(lambda: _simplified_zero(diff), left()):
                return verdict(True, "proved", "simplify", "simplify(a - b) returned 0")
        except TimeBudgetExceeded:
            pass
    return verdict(None, "undecided", "budget", "no tier decided within the time budget")


# ---------------------------------------------------------------- tiers
def _difference(a, b):
    a, b = _explicit(a), _explicit(b)
    a_is_matrix, b_is_matrix = isinstance(a, sp.MatrixBase), isinstance(b, sp.MatrixBase)
    if a_is_matrix or b_is_matrix:
        if not (a_is_matrix and b_is_matrix) or a.shape != b.shape:
            if a_is_matrix and a.shape == (1, 1) and not b_is_matrix:
                return a[0, 0] - b
            if b_is_matrix and b.shape == (1, 1) and not a_is_matrix:
                return a - b[0, 0]
            return None
        return sp.ImmutableMatrix(a - b)
    return sp.sympify(a) - sp.sympify(b)


def _explicit(x):
    if not isinstance(x, sp.Basic) and not isinstance(x, sp.MatrixBase):
        x = sp.sympify(x)
    if isinstance(x, sp.MatrixExpr) and not isinstance(x, sp.MatrixBase):
        return x.as_explicit()
    return x


def _entries(diff) -> list[sp.Basic]:
    return list(diff) if isinstance(diff, sp.MatrixBase) else [diff]


def _structural(diff, assumptions) -> bool:
    for entry in _entries(diff):
        if entry == 0:
            continue
        normal = _apply_general_assumptions(algebra.normalize(entry), assumptions)
        if sp.expand(normal) != 0:
            return False
    return True


def _rational(diff, assumptions) -> bool:
    for entry in _entries(diff):
        normal = _apply_general_assumptions(algebra.normalize(entry), assumptions)
        normal = sp.expand(normal, power_exp=True, log=False, deep=True)
        if _cancel_with_atoms(normal) != 0:
            return False
    return True


def _cancel_with_atoms(expr: sp.Basic) -> sp.Basic:
    """Freeze transcendental atoms as symbols and cancel the rational function left.

    ``exp(a + 2b - c)`` becomes ``E_a * E_b**2 / E_c`` so that related exponentials share
    symbols; every other function, sum or delta becomes one opaque symbol.
    """
    symbols: dict[sp.Basic, sp.Symbol] = {}

    def atom(key: sp.Basic) -> sp.Symbol:
        if key not in symbols:
            symbols[key] = sp.Dummy("atom")
        return symbols[key]

    def freeze_exp(e: sp.Basic) -> sp.Basic:
        out = sp.Integer(1)
        for term in sp.Add.make_args(sp.expand(e.args[0])):
            coeff, rest = term.as_coeff_Mul()
            if coeff.is_Integer and rest != 1:
                out *= atom(sp.exp(rest)) ** coeff
            else:
                out *= atom(sp.exp(term))
        return out

    frozen = expr.replace(lambda e: isinstance(e, sp.exp), freeze_exp)
    frozen = frozen.replace(
        lambda e: isinstance(e, (sp.Sum, sp.Function, sp.KroneckerDelta)) and not e.is_Number,
        lambda e: atom(e),
    )
    return sp.cancel(sp.together(frozen))


def _simplified_zero(diff) -> bool:
    return all(sp.simplify(e) == 0 for e in _entries(diff))


def _apply_general_assumptions(expr, assumptions):
    for lhs, rhs in assumptions:
        expr = expr.xreplace({algebra.normalize(lhs): algebra.normalize(rhs)})
    return expr


def _has_general_size(expr) -> bool:
    return bool(algebra.size_symbols(expr) or algebra.index_symbols(expr))


# ---------------------------------------------------------------- numeric tier
def _numeric(diff, a, b, assumptions, domain, points, sizes, seed):
    """Evaluate a - b at random points of every concrete instance. Returns a verdict tuple."""
    rng = random.Random(seed)
    instances = _concrete_instances(diff, a, b, assumptions, sizes, seed)
    exact_only, tested = True, 0
    for label, d_entries, a_entries, b_entries in instances:
        symbols = sorted(
            set().union(*(e.free_symbols for e in d_entries)) if d_entries else set(), key=str
        )
        found = 0
        for _attempt in range(8 * points):
            if found >= points:
                break
            point = {s: _draw(s, domain, rng) for s in symbols}
            values = []
            finite = True
            for d in d_entries:
                value = d.xreplace(point)
                if not value.is_Rational:
                    exact_only = False
                    value = value.evalf(PRECISION)
                if value.has(sp.nan, sp.zoo, sp.oo, -sp.oo) or not value.is_number:
                    finite = False
                    break
                if value.is_real is False and abs(sp.im(value)) > RELATIVE_TOLERANCE:
                    finite = False  # outside the real domain: draw another point
                    break
                values.append(value)
            if not finite:
                continue
            found += 1
            tested += 1
            for value, ae, be in zip(values, a_entries, b_entries, strict=True):
                if value == 0:
                    continue
                scale = max(
                    abs(sp.N(ae.xreplace(point), PRECISION)),
                    abs(sp.N(be.xreplace(point), PRECISION)),
                    1,
                )
                if abs(value) > RELATIVE_TOLERANCE * scale:
                    example = {
                        "instance": label,
                        "point": ", ".join(f"{k} = {v}" for k, v in point.items()),
                        "left": str(sp.N(ae.xreplace(point), 12)),
                        "right": str(sp.N(be.xreplace(point), 12)),
                    }
                    tier = "exact-points" if value.is_Rational else "high-precision"
                    return False, tier, f"a - b = {sp.N(value, 6)} at a random point", example
        if found == 0 and d_entries:
            return None, "numeric", "no admissible random point found", None
    if tested == 0:
        return None, "numeric", "nothing to evaluate", None
    tier = "exact-points" if exact_only else "high-precision"
    detail = f"a - b vanished at {tested} random points" + (
        f" across {len(instances)} concrete instances" if len(instances) > 1 else ""
    )
    return True, tier, detail, None


def _draw(symbol: sp.Symbol, domain, rng: random.Random) -> sp.Rational:
    name = str(symbol).split("[")[0]
    lo, hi = domain.get(name, (0.25, 2.0) if symbol.is_positive else (-2.0, 2.0))
    denominator = 97
    lo_n, hi_n = int(lo * denominator), int(hi * denominator)
    return sp.Rational(rng.randint(lo_n, hi_n), denominator)


def _concrete_instances(diff, a, b, assumptions, sizes, seed):
    """(label, diff entries, a entries, b entries) at concrete sizes and indices, as symbols."""
    a, b = _explicit(a), _explicit(b)
    a_entries = _entries(sp.ImmutableMatrix(a)) if isinstance(a, sp.MatrixBase) else [a]
    b_entries = _entries(sp.ImmutableMatrix(b)) if isinstance(b, sp.MatrixBase) else [b]
    if len(a_entries) != len(b_entries):  # 1x1 matrix against a scalar
        a_entries, b_entries = a_entries[:1], b_entries[:1]
    size_syms = set()
    index_syms = set()
    for e in [*a_entries, *b_entries]:
        size_syms |= algebra.size_symbols(e)
        index_syms |= algebra.index_symbols(e)
    if not size_syms and not index_syms:
        triples = [_as_symbols(x, assumptions) for x in zip(a_entries, b_entries, strict=True)]
        return [
            ("", [t[0] - t[1] for t in triples], [t[0] for t in triples], [t[1] for t in triples])
        ]
    instances = []
    for size in sizes:
        for values in algebra.index_assignments(index_syms, size, limit=6, seed=seed):
            values = {**{s: size for s in size_syms}, **values}
            label = ", ".join(f"{k}={v}" for k, v in sorted(values.items(), key=str))
            pairs = [
                _as_symbols(
                    (algebra.instantiate(x, values), algebra.instantiate(y, values)),
                    [
                        (algebra.instantiate(lhs, values), algebra.instantiate(rhs, values))
                        for lhs, rhs in assumptions
                    ],
                )
                for x, y in zip(a_entries, b_entries, strict=True)
            ]
            instances.append(
                (label, [p[0] - p[1] for p in pairs], [p[0] for p in pairs], [p[1] for p in pairs])
            )
    return instances


def _as_symbols(pair, assumptions):
    """Concrete matrix elements → symbols; each assumption solved for one of its symbols."""
    x, y = pair
    names: dict[MatrixElement, sp.Symbol] = {}
    for e in (x, y, *[s for eq in assumptions for s in eq]):
        names.update(algebra.element_symbols(sp.sympify(e)))
    x, y = sp.sympify(x).xreplace(names), sp.sympify(y).xreplace(names)
    for lhs, rhs in assumptions:
        eq = sp.sympify(lhs).xreplace(names) - sp.sympify(rhs).xreplace(names)
        unknowns = sorted(eq.free_symbols, key=str)
        for u in reversed(unknowns):
            solved = sp.solve(eq, u, dict=False)
            if len(solved) == 1:
                x, y = x.xreplace({u: solved[0]}), y.xreplace({u: solved[0]})
                break
    return x, y
