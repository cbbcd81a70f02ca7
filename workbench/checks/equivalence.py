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

import contextlib
import functools
import random
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import sympy as sp
from sympy.matrices.expressions.matexpr import MatrixElement

from workbench.checks import equivalence_points
from workbench.checks.timebox import call_with_limit, run_in_child
from workbench.core import algebra
from workbench.errors import TimeBudgetExceeded

DEFAULT_BUDGET = 4.0
PRECISION = 50  # significant digits for the high-precision tier
# |a - b| must be below this times max(|a|, |b|, 1) at 50 digits; a real difference
# between the expressions we compare is many orders of magnitude larger.
RELATIVE_TOLERANCE = sp.Float("1e-35", PRECISION)

SYMBOLIC_SIZE_CAP = 4000  # operations in a - b above which the symbolic tiers are skipped
# General-n expressions are tested at these sizes and one more drawn (seeded) from
# RANDOM_SIZES: four sizes, two of them past 3 and one past 4, so a form right for n ≤ 3
# only (or for small n by accident) meets a counterexample. Larger sizes cost more than
# they find: a step's numeric tier instantiates every entry at each size.
FIXED_SIZES = (2, 3, 4)
RANDOM_SIZES = (5, 6)
SMALL_SIZE_ASSIGNMENTS = 6  # index assignments (i = 0, j = 1, ...) tested at sizes ≤ 3
LARGE_SIZE_ASSIGNMENTS = 2  # and at each larger size
# A budget that stops the numeric tier of an explicit comparison midway still gives a
# verdict when at least this many random points agreed in every entry (and says how many).
MIN_POINTS = 2

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
        seconds: CPU time spent.
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
    points: int = 6,
    sizes: Sequence[int] | None = None,
    seed: int = 0,
    symbolic_budget: float | None = None,
) -> Equivalence:
    """Decide whether ``a`` equals ``b`` (scalars or explicit matrices) within ``budget`` s.

    Args:
        a, b: SymPy expressions, possibly in index notation with symbolic sizes, or
            explicit matrices of equal shape.
        assumptions: facts ``(lhs, rhs)`` that may be used, e.g. ``Σ y = 1``.
        domain: per matrix or symbol name, the interval random values are drawn from
            (default ``(-2, 2)``; names declared ``positive`` draw from ``(1/4, 2)``).
        budget: CPU seconds for the whole decision, all tiers together (see
            :mod:`workbench.checks.timebox`: on an idle machine, wall seconds).
        points: random points per concrete instance in the numeric tier.
        sizes: sizes at which general-n expressions are instantiated numerically
            (default :func:`general_sizes` of ``seed``: 2, 3, 4 and a random one ≥ 5).
        seed: seeds the random points, so verdicts are reproducible.
        symbolic_budget: seconds the symbolic tiers may use (default 60% of ``budget``);
            0 goes straight to the numeric tier.
    """
    start = time.process_time()  # CPU seconds: see workbench.checks.timebox
    sizes = general_sizes(seed) if sizes is None else tuple(sizes)
    a, b = _explicit(a), _explicit(b)
    if not _shapes_agree(a, b):
        return Equivalence(False, "proved", "shape", 0.0, "the two sides have different shapes")

    def left() -> float:
        return budget - (time.process_time() - start)

    def verdict(equal, method, tier, detail="", counterexample=None) -> Equivalence:
        return Equivalence(equal, method, tier, time.process_time() - start, detail, counterexample)

    # Symbolic tiers may use at most 60% of the budget; the numeric tier is the safety net.
    # Everything before the numeric tier, a - b and the pre-checks on it included, runs
    # within that share: on a 128×128 Jacobian they alone take seconds.
    symbolic_share = 0.6 * budget if symbolic_budget is None else min(symbolic_budget, budget)
    proved_by = None
    if symbolic_share > 0:
        with contextlib.suppress(TimeBudgetExceeded):
            proved_by = call_with_limit(
                lambda: _symbolic(a, b, assumptions, symbolic_share, left), symbolic_share
            )
    if proved_by is not None:
        return verdict(True, "proved", proved_by, f"{proved_by} tier reduced a - b to 0")

    progress = Progress()
    try:
        outcome = call_with_limit(
            lambda: _numeric(a, b, assumptions, domain or {}, points, sizes, seed, progress),
            max(left(), 1e-3),
        )
    except TimeBudgetExceeded:
        outcome = progress.partial(points)
    if outcome is not None:
        equal, tier, detail, example = outcome
        if equal is not None:
            return verdict(equal, "tested", tier, detail, example)

    if left() > 0.05 and not _has_general_size(a) and not _has_general_size(b):
        try:
            if run_in_child(lambda: _simplified_zero(_difference(a, b)), left()):
                return verdict(True, "proved", "simplify", "simplify(a - b) returned 0")
        except TimeBudgetExceeded:
            pass
    return verdict(None, "undecided", "budget", "no tier decided within the time budget")


def general_sizes(seed: int = 0) -> tuple[int, ...]:
    """The sizes at which the numeric tier instantiates general-n expressions: ``FIXED_SIZES``
    and one drawn from ``RANDOM_SIZES`` by ``seed``.

    Example:
        >>> general_sizes(0)[:3]
        (2, 3, 4)
    """
    return (*FIXED_SIZES, random.Random(f"sizes:{seed}").choice(RANDOM_SIZES))


def _symbolic(a, b, assumptions, share: float, left) -> str | None:
    """The structural and rational tiers on a - b, within ``share`` seconds of the budget
    (``left()`` is what remains of all of it): the tier that proved it, or None."""
    started = left()
    # Past a size cap, expand/cancel only burn the budget: go straight to the points.
    entries = [*_entries_of(a), *_entries_of(b)]
    if _operation_count(entries, SYMBOLIC_SIZE_CAP) > SYMBOLIC_SIZE_CAP:
        return None
    diff = _difference(a, b)
    tiers = [("structural", _structural), ("rational", _rational)]
    if _exponentials_without_indices(diff):
        tiers = tiers[1:]  # the rational field does all that expansion can, and more
    for tier, decide in tiers:
        try:
            remaining = share - (started - left())
            if remaining <= 0:
                break
            if call_with_limit(functools.partial(decide, diff, assumptions), remaining):
                return tier
        except TimeBudgetExceeded:
            if left() <= 0 or share - (started - left()) <= 0:
                raise
            continue
        except (TypeError, ValueError, NotImplementedError, AttributeError):
            continue
    return None


class Progress:
    """What the numeric tier has seen so far, kept when the budget stops it midway."""

    def __init__(self) -> None:
        self.tested = 0  # admissible points of an explicit comparison, all agreeing

    def partial(self, asked: int):
        """A verdict from the points evaluated before the budget ran out: at least
        ``MIN_POINTS`` of them, each agreeing in every entry, and said so; else None."""
        if self.tested < MIN_POINTS:
            return None
        return (
            True,
            "high-precision",
            f"a - b vanished at {self.tested} random points (the budget ran out before "
            f"the {asked} asked)",
            None,
        )


# ---------------------------------------------------------------- tiers
def _operation_count(entries: Sequence[sp.Basic], cap: int | None = None) -> int:
    """SymPy's operation count of all entries; stops counting once past ``cap``.

    A tree has more nodes than operations, so while the node count stays under ``cap``
    the operations do too, and ``count_ops`` (slow on a cold cache) is not needed.
    """
    if cap is not None and (nodes := _node_count(entries, cap)) < cap:
        return nodes
    total = 0
    for e in entries:
        total += sp.count_ops(e, visual=False)
        if cap is not None and total > cap:
            break
    return total


def _node_count(entries: Sequence[sp.Basic], cap: int) -> int:
    """Nodes of the expression trees, counted up to ``cap``."""
    count, stack = 0, list(entries)
    while stack and count < cap:
        node = stack.pop()
        count += 1
        stack.extend(node.args)
    return count


def _exponentials_without_indices(diff) -> bool:
    """Explicit expressions with exponentials: the rational tier decides these (exponentials
    split into generators of a rational-function field); expanding first is wasted."""
    entries = _entries(diff)
    return any(e.has(sp.exp) for e in entries) and not any(
        e.has(sp.Sum, sp.KroneckerDelta, sp.Product, sp.Integral, sp.Derivative) for e in entries
    )


def _shapes_agree(a, b) -> bool:
    """Whether explicit ``a`` and ``b`` can be compared: equal shapes, or a 1×1 matrix
    and a scalar."""
    shapes = [x.shape if isinstance(x, sp.MatrixBase) else None for x in (a, b)]
    return shapes[0] == shapes[1] or ((1, 1) in shapes and None in shapes)


def _entries_of(x) -> list[sp.Basic]:
    return list(x) if isinstance(x, sp.MatrixBase) else [sp.sympify(x)]


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
        normal = _apply_general_assumptions(_normal_form(entry), assumptions)
        if sp.expand(normal, power_exp=False) != 0:
            return False
    return True


def _rational(diff, assumptions) -> bool:
    entries = _entries(diff)
    # The field below is canonical by itself; only index notation needs its normal form
    # (sums split, deltas collapsed, bound names canonical) to make equal atoms equal.
    indexed = [e.has(sp.Sum, sp.KroneckerDelta, sp.Product) or bool(assumptions) for e in entries]
    try:
        return _zero_in_rational_field(
            [
                _apply_general_assumptions(algebra.normalize(e), assumptions) if i else e
                for e, i in zip(entries, indexed, strict=True)
            ]
        )
    except (sp.polys.polyerrors.PolynomialError, ValueError, TypeError, NotImplementedError):
        pass  # not a rational function of its atoms over ℚ (a √2, say): cancel instead
    normals = [_apply_general_assumptions(_normal_form(entry), assumptions) for entry in entries]
    for normal in normals:
        normal = sp.expand(normal, power_exp=False, log=False, deep=True)
        if _cancel_with_atoms(normal) != 0:
            return False
    return True


def _zero_in_rational_field(entries) -> bool:
    """Whether every entry is 0 as a rational function of its atoms over ℚ.

    The atoms (exponentials split per term, as ``exp(a + 2b)`` = E_a·E_b²; other
    functions, sums, deltas, matrix entries and symbols whole) become the generators of
    SymPy's sparse rational-function field, where arithmetic is canonical: an entry is
    zero exactly when its field element is. Each distinct subexpression is converted
    once. Far faster than ``cancel(together(...))`` on expressions (the softmax Jacobian
    in the overflow-safe form 1/(1 + Σ exp(zₖ − zᵢ)): 0.26 s at n = 8, where ``simplify``
    takes 78 s), and exact: a proof, like ``cancel``.
    """
    from sympy.polys.fields import field

    keys: dict[sp.Basic, object] = {}
    for entry in entries:
        _collect_atoms(entry, keys)
    if not keys:
        return all(sp.sympify(e) == 0 for e in entries)
    atoms = sorted(keys, key=sp.default_sort_key)
    # Over ℤ: the same field as over ℚ (fractions of polynomials), and its gcds skip
    # clearing denominators of coefficients, about twice as fast on small inputs.
    space, *generators = field([sp.Dummy("g") for _ in atoms], sp.ZZ)
    index = dict(zip(atoms, generators, strict=True))
    memo: dict[sp.Basic, object] = {}
    return all(_in_field(e, space, index, memo) == 0 for e in entries)


def _exp_factors(e: sp.exp):
    """exp(a + 2b − c) as [(exp(a), 1), (exp(b), 2), (exp(c), −1)]."""
    out, exponent = [], e.args[0]
    if any(_unexpanded(term) for term in sp.Add.make_args(exponent)):
        exponent = sp.expand(exponent)  # often already a sum of simple terms: skip the walk
    for term in sp.Add.make_args(exponent):
        coeff, rest = term.as_coeff_Mul()
        if coeff.is_Integer and rest != 1:
            out.append((sp.exp(rest), int(coeff)))
        else:
            out.append((sp.exp(term), 1))
    return out


def _unexpanded(term: sp.Basic) -> bool:
    """Whether ``expand`` could change a term of a sum: anything but a product of numbers,
    symbols, matrix entries and their integer powers."""

    def plain(f: sp.Basic) -> bool:
        if isinstance(f, sp.Pow):
            return f.exp.is_Integer and plain(f.base)
        return f.is_Number or isinstance(f, (sp.Symbol, MatrixElement))

    return not all(plain(f) for f in sp.Mul.make_args(term))


def _opaque(e: sp.Basic) -> bool:
    return isinstance(e, (sp.Symbol, MatrixElement, sp.Sum, sp.Function, sp.KroneckerDelta))


def _atom_key(e: sp.Basic) -> sp.Basic:
    # An atom's own arguments are expanded, so that tanh(c(a + b)) and tanh(ca + cb) are
    # one atom (as when the whole expression is expanded deep first).
    if isinstance(e, (sp.Symbol, MatrixElement)):
        return e
    return sp.expand(e, power_exp=False, log=False, deep=True)


def _collect_atoms(e: sp.Basic, keys: dict, seen: set | None = None) -> None:
    seen = set() if seen is None else seen
    stack = [sp.sympify(e)]
    while stack:
        node = stack.pop()
        if node in seen or node.is_Number:
            continue
        seen.add(node)
        if isinstance(node, sp.exp):
            keys.update(dict.fromkeys(a for a, _ in _exp_factors(node)))
        elif _opaque(node):
            keys[_atom_key(node)] = None
        elif isinstance(node, sp.Pow) and not node.exp.is_Integer:
            raise ValueError("a fractional power is not a rational function")
        elif isinstance(node, (sp.Add, sp.Mul, sp.Pow)):
            stack.extend(node.args)
        else:
            raise ValueError(f"{type(node).__name__} is not a rational operation")


def _in_field(e: sp.Basic, space, index: dict, memo: dict):
    found = memo.get(e)
    if found is not None:
        return found
    if e.is_Number:
        out = space(int(e.p)) / space(int(e.q)) if e.is_Rational else _not_rational(e)
    elif isinstance(e, sp.exp):
        out = space.one
        for atom, power in _exp_factors(e):
            out *= index[atom] ** power
    elif _opaque(e):
        out = index[_atom_key(e)]
    elif isinstance(e, sp.Add):
        out = space.zero
        for a in e.args:
            out += _in_field(a, space, index, memo)
    elif isinstance(e, sp.Mul):
        out = space.one
        for a in e.args:
            out *= _in_field(a, space, index, memo)
    else:  # an integer power: _collect_atoms refused the rest
        out = _in_field(e.base, space, index, memo) ** int(e.exp)
    memo[e] = out
    return out


def _not_rational(e):
    raise ValueError(f"{e} is not rational")


def _normal_form(entry: sp.Basic) -> sp.Basic:
    """:func:`algebra.normalize`; without sums or deltas, the one part of it that acts:
    exponentials split per term, then expanded (the rest walks the tree for nothing)."""
    if entry.has(sp.Sum, sp.KroneckerDelta, sp.Product):
        return algebra.normalize(entry)
    return sp.expand(algebra.split_exponentials(entry), power_exp=False)


def _cancel_with_atoms(expr: sp.Basic) -> sp.Basic:
    """Freeze transcendental atoms as symbols and cancel the rational function left.

    ``exp(a + 2b - c)`` becomes ``E_a * E_b**2 / E_c`` so that related exponentials share
    symbols; every other function, sum or delta becomes one opaque symbol.
    """
    return sp.cancel(sp.together(_freeze(expr, {})))


def _freeze(expr: sp.Basic, symbols: dict) -> sp.Basic:
    """Exponentials split per term and frozen as symbols (``exp(a + 2b)`` → ``E_a·E_b²``);
    every other function, sum, delta and matrix entry one opaque symbol. ``symbols``
    maps atoms to their symbols, shared across calls."""

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
    # An atom's own arguments are expanded, so that tanh(c(a + b)) and tanh(ca + cb) are
    # one atom (as when the whole expression is expanded deep first).
    return frozen.replace(
        lambda e: (
            isinstance(e, (sp.Sum, sp.Function, sp.KroneckerDelta, MatrixElement))
            and not e.is_Number
        ),
        lambda e: atom(sp.expand(e, power_exp=False, log=False, deep=True)),
    )


def _simplified_zero(diff) -> bool:
    return all(sp.simplify(e) == 0 for e in _entries(diff))


def _apply_general_assumptions(expr, assumptions):
    for lhs, rhs in assumptions:
        expr = algebra.substitute_fact(expr, algebra.normalize(lhs), algebra.normalize(rhs))
    return expr


def _has_general_size(expr) -> bool:
    return bool(algebra.size_symbols(expr) or algebra.index_symbols(expr))


# ---------------------------------------------------------------- numeric tier
def _numeric(a, b, assumptions, domain, points, sizes, seed, progress=None):
    """Evaluate a - b at random points of every concrete instance. Returns a verdict tuple.

    ``progress`` (a :class:`Progress`) counts the agreeing points of an explicit
    comparison as they are found, for a verdict if the budget stops it midway."""
    if not assumptions:  # large explicit expressions: evaluated on their DAG
        a_entries, b_entries = _paired_entries(a, b)
        outcome = equivalence_points.compare_at_points(
            a_entries,
            b_entries,
            domain,
            points,
            random.Random(seed),
            _draw_named,
            RELATIVE_TOLERANCE,
            progress,
        )
        if outcome is not None:
            return outcome
    rng = random.Random(seed)
    instances, general = _concrete_instances(a, b, assumptions, sizes, seed)
    exact_only, tested = True, 0
    for label, a_entries, b_entries in instances:
        a_entries, b_entries = _generic_functions(a_entries, b_entries, rng)
        symbols = sorted(set().union(*(e.free_symbols for e in [*a_entries, *b_entries])), key=str)
        evaluate, exact = _evaluator(symbols, a_entries, b_entries)
        exact_only &= exact
        found = 0
        for _attempt in range(8 * points):
            if found >= points:
                break
            point = [_draw(sym, domain, rng) for sym in symbols]
            values = evaluate(point)
            if values is None:
                continue  # outside the real domain, or not finite: draw another point
            found += 1
            tested += 1
            for left, right in values:
                scale = max(abs(left), abs(right), 1)
                if abs(left - right) > RELATIVE_TOLERANCE * scale:
                    example = {
                        "instance": label,
                        "point": ", ".join(
                            f"{k} = {v}" for k, v in zip(symbols, point, strict=True)
                        ),
                        "left": str(sp.N(left, 12)),
                        "right": str(sp.N(right, 12)),
                    }
                    tier = "exact-points" if exact else "high-precision"
                    return (
                        False,
                        tier,
                        f"a - b = {sp.N(left - right, 6)} at a random point",
                        example,
                    )
        if found == 0:
            return None, "numeric", "no admissible random point found", None
    if tested == 0:
        return None, "numeric", "nothing to evaluate", None
    tier = "exact-points" if exact_only else "high-precision"
    detail = f"a - b vanished at {tested} random points" + (
        f" across {len(instances)} concrete instances" if len(instances) > 1 else ""
    )
    if general:
        detail += f" at sizes {', '.join(map(str, sizes))}"
    return True, tier, detail, None


def _generic_functions(a_entries, b_entries, rng):
    """Replace unspecified functions (φ) by one seeded random analytic function.

    An identity that holds for every φ holds for a random one; testing it there is as
    sound as testing at random points. Subs/Derivative of φ are evaluated afterwards.
    """
    undefined = {
        f.func for e in [*a_entries, *b_entries] for f in e.atoms(sp.core.function.AppliedUndef)
    }
    if not undefined:
        return a_entries, b_entries
    t = sp.Dummy("t")
    stand_ins = {}
    for f in sorted(undefined, key=str):
        c = [sp.Rational(rng.randint(20, 97), 97) for _ in range(3)]
        stand_ins[f] = sp.Lambda(t, c[0] * sp.sin(c[1] * t + c[2]) + c[2] * t)

    def concrete(e):
        for f, g in stand_ins.items():
            e = e.replace(f, g)
        return e.doit()

    return [concrete(e) for e in a_entries], [concrete(e) for e in b_entries]


def _evaluator(symbols, a_entries, b_entries):
    """A function point -> [(a_k, b_k)] or None where not real and finite; and exactness.

    Rational expressions are evaluated exactly; anything transcendental is lambdified
    once to mpmath and evaluated with ``PRECISION`` digits.
    """
    import mpmath

    everything = [*a_entries, *b_entries]
    unevaluated = (sp.Integral, sp.Sum, sp.Product, sp.Derivative, sp.Subs, sp.Limit)
    exact = not any(
        e.has(*unevaluated) or (e.has(sp.Function, sp.Pow) and not _is_rational_function(e))
        for e in everything
    )
    if exact:

        def evaluate(point):
            subs = dict(zip(symbols, point, strict=True))
            try:
                values = [sp.sympify(e).xreplace(subs) for e in everything]
            except (ZeroDivisionError, ValueError):
                return None
            if any(not v.is_Rational for v in values):
                return None
            half = len(a_entries)
            return list(zip(values[:half], values[half:], strict=True))

        return evaluate, True

    try:
        compiled = sp.lambdify(
            symbols, everything, modules=[{"DiracDelta": _dirac_delta}, "mpmath"], cse=True
        )
    except Exception:  # a function mpmath cannot print: fall back to evalf per entry
        compiled = None

    state = {"compiled": compiled}

    def evaluate(point):
        with mpmath.workdps(PRECISION):
            try:
                raw = None
                if state["compiled"] is not None:
                    try:
                        raw = state["compiled"](*[mpmath.mpf(p.p) / p.q for p in point])
                    except NameError:
                        # lambdify printed a name mpmath lacks (an Integral under cse,
                        # say): evaluate entry by entry from now on.
                        state["compiled"] = None
                if raw is None:
                    subs = dict(zip(symbols, point, strict=True))
                    raw = [e.xreplace(subs).evalf(PRECISION) for e in everything]
                values = [_as_real_float(v) for v in raw]
            except (ZeroDivisionError, ValueError, TypeError, OverflowError):
                return None
        if any(v is None for v in values):
            return None
        half = len(a_entries)
        return list(zip(values[:half], values[half:], strict=True))

    return evaluate, False


def _dirac_delta(x, *derivative_order):
    """δ(x) at a point: 0 away from 0; at 0 not finite, so the point is drawn again."""
    import mpmath

    return mpmath.mpf(0) if x != 0 else mpmath.inf


def _is_rational_function(e) -> bool:
    return all(
        not isinstance(x, sp.Function) and not (isinstance(x, sp.Pow) and not x.exp.is_Integer)
        for x in sp.preorder_traversal(e)
    )


def _as_real_float(v):
    """A real value at working precision, or None for complex, infinite or undefined."""
    import mpmath

    if isinstance(v, sp.Basic):
        if not v.is_number or v.has(sp.nan, sp.zoo, sp.oo, -sp.oo):
            return None
        re, im = v.as_real_imag()
        if abs(im) > RELATIVE_TOLERANCE * max(abs(re), 1):
            return None
        return sp.Float(re, PRECISION)
    if isinstance(v, mpmath.mpc):
        if abs(v.imag) > 1e-35 * max(abs(v.real), 1):
            return None
        v = v.real
    if not mpmath.isfinite(v):
        return None
    return sp.Float(v, PRECISION)


def _draw(symbol: sp.Symbol, domain, rng: random.Random) -> sp.Rational:
    return _draw_named(str(symbol).split("[")[0], bool(symbol.is_positive), domain, rng)


def _draw_named(name: str, positive: bool, domain, rng: random.Random) -> sp.Rational:
    """A random p/97 in the name's interval: (1/4, 2) if positive, else (-2, 2)."""
    lo, hi = domain.get(name, (0.25, 2.0) if positive else (-2.0, 2.0))
    denominator = 97
    lo_n, hi_n = int(lo * denominator), int(hi * denominator)
    return sp.Rational(rng.randint(lo_n, hi_n), denominator)


def _paired_entries(a, b):
    """The entries of both sides, in pairs (a 1×1 matrix pairs with a scalar)."""
    a, b = _explicit(a), _explicit(b)
    a_entries = _entries(sp.ImmutableMatrix(a)) if isinstance(a, sp.MatrixBase) else [a]
    b_entries = _entries(sp.ImmutableMatrix(b)) if isinstance(b, sp.MatrixBase) else [b]
    if len(a_entries) != len(b_entries):  # 1x1 matrix against a scalar
        a_entries, b_entries = a_entries[:1], b_entries[:1]
    return [sp.sympify(e) for e in a_entries], [sp.sympify(e) for e in b_entries]


def _concrete_instances(a, b, assumptions, sizes, seed):
    """(label, a entries, b entries) at concrete sizes and indices, as plain symbols; and
    whether the expressions had a general size (else ``sizes`` played no part)."""
    a_entries, b_entries = _paired_entries(a, b)
    size_syms = set()
    index_syms = set()
    for e in [*a_entries, *b_entries]:
        size_syms |= algebra.size_symbols(e)
        index_syms |= algebra.index_symbols(e)
    # An assumption's sizes are sizes too (Σₖ yₖ = 1 up to n where neither side holds n):
    # left general, the fact could not be applied at a concrete instance.
    for side in (side for fact in assumptions for side in fact):
        size_syms |= algebra.size_symbols(sp.sympify(side))
    if not size_syms and not index_syms:
        pairs = [_as_symbols(x, assumptions) for x in zip(a_entries, b_entries, strict=True)]
        return [("", [p[0] for p in pairs], [p[1] for p in pairs])], False
    instances = []
    for size in sizes:
        # Past the small sizes, fewer index assignments: each instance costs its own
        # compilation, and at n ≥ 4 a wrong form shows at almost any entry and point.
        limit = SMALL_SIZE_ASSIGNMENTS if size <= 3 else LARGE_SIZE_ASSIGNMENTS
        for values in algebra.index_assignments(index_syms, size, limit=limit, seed=seed):
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
            instances.append((label, [p[0] for p in pairs], [p[1] for p in pairs]))
    return instances, bool(size_syms)


def _as_symbols(pair, assumptions):
    """Concrete matrix elements → symbols; each assumption solved for one of its symbols."""
    x, y = pair
    names: dict[MatrixElement, sp.Symbol] = {}
    for e in (x, y, *[s for eq in assumptions for s in eq]):
        names.update(algebra.element_symbols(sp.sympify(e)))
    x, y = sp.sympify(x).xreplace(names), sp.sympify(y).xreplace(names)
    for lhs, rhs in assumptions:
        eq = sp.sympify(lhs).xreplace(names) - sp.sympify(rhs).xreplace(names)
        # Only numbers can be solved for: a matrix left whole is no unknown.
        unknowns = sorted((u for u in eq.free_symbols if not u.is_Matrix), key=str)
        solution = _solved_linearly(eq, unknowns)
        if solution is not None:
            x, y = x.xreplace(solution), y.xreplace(solution)
            continue
        for u in reversed(unknowns):
            solved = sp.solve(eq, u, dict=False)
            if len(solved) == 1:
                x, y = x.xreplace({u: solved[0]}), y.xreplace({u: solved[0]})
                break
    return x, y


def _solved_linearly(eq: sp.Basic, unknowns: Sequence[sp.Symbol]) -> dict | None:
    """{u: value} for the last unknown (by name) that ``eq = 0`` holds linearly, or None.

    A linear unknown has one solution, read off without ``solve``; solving a large fact
    (λ·Σw² = wᵀSw at n = 4) for each of the other, quadratic, unknowns first took seconds
    per instance.
    """
    for u in reversed(unknowns):
        slope = sp.diff(eq, u)
        if slope != 0 and not slope.has(u):
            return {u: -eq.xreplace({u: sp.S.Zero}) / slope}
    return None
