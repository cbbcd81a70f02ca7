"""Test points on each side of every kink: the regions a piecewise claim must be right in.

A claim built from ``step``, ``abs``, ``sign``, ``relu``, ``Max``/``Min`` or a ``Piecewise``
is a different formula in each region its conditions define, and random points can miss
a region altogether: the hinge gradient without its margin indicator is right wherever
the margin is violated, and ``relu(x) - relu(x - 6)`` (ReLU6) has a kink that points drawn
from [-2, 2] never reach. So the conditions themselves are collected (:func:`kinks`: the
argument of each ``Heaviside``, ``Abs``, ``sign``, the differences of ``Max``/``Min``
arguments, the two sides of each relation in a ``Piecewise`` condition), and for each side
of each kink not yet covered by the random points a point is *built* there
(:func:`region_points`): starting from a random point, one variable of the kink is moved
along exact rationals in [-10, 10] until the kink has the wanted sign, the smallest such
move first. A point exactly on a kink is never a test point: no derivative exists there.

A kink that itself holds a ``Max`` or ``Min`` is taken apart into its branches: the
``max(x) - x[0]`` inside ``step(max(x) - x)`` is exactly 0 wherever x[0] is the largest
entry, so as one kink every such point would count as "on the kink"; its branches
``x[1] - x[0]``, ``x[2] - x[0]``, ... are what can change sign. And a ``Max``/``Min`` of
several arguments is a contest (:func:`contests`): the derivative of max(x) is the
indicator of the winning entry, and the sides of the pairwise kinks do not make each
entry the winner somewhere (x[0] > x[1] > x[2] and the reverse cover every side and never
let x[1] win), so a point is also built where each argument wins. A built point sits on
no kink at all, not only off the one it was built for: at a tie of two entries the
derivative of max does not exist, and judging a claim there would reject a right one.

Example:
    >>> import sympy as sp
    >>> x = sp.Symbol("x", real=True)
    >>> kinks([x * sp.Heaviside(x - 6, 0)])
    [x - 6]
    >>> points = region_points([x - 6], {"x": x}, [x], [], {}, seed=0)
    >>> sorted(region_of([x - 6], p) for p in points)
    [(-1,), (1,)]
    >>> a, b, c = sp.symbols("a b c", real=True)
    >>> kinks([sp.Heaviside(sp.Max(a, b, c) - a)])
    [-a + b, -a + c, b - c]
"""

from __future__ import annotations

import functools
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import sympy as sp

from workbench.verify.interpret import Value
from workbench.verify.points import (
    PHASES,
    Fact,
    FastValues,
    Point,
    defined_at,
    entries,
    rational,
    solve_facts,
)

MAX_KINKS = 48  # distinct kinks whose sides are built; a larger claim keeps the first ones
MAX_AVOIDED = 1000  # distinct kinks no test point may sit on (ties of a 10×10 max by rows)
MAX_BRANCHES = 64  # branches of one kink that holds a max or min
MAX_CONTESTS = 256  # max/min whose arguments are each made the winner somewhere
MAX_BUILT = 64  # points built in all
MOVE_RANGE = (-10.0, 10.0)  # where a variable may be moved to reach a side of a kink
CANDIDATES = 40  # exact rationals tried along one variable
TRIES = 3  # admissible candidates tried (the function must be defined there)
ON_KINK = 1e-12  # |kink| below this (in double precision) counts as on the kink

_KINKED = (sp.Heaviside, sp.Abs, sp.sign, sp.DiracDelta, sp.Max, sp.Min, sp.Piecewise)


@dataclass(frozen=True)
class Contest:
    """A ``Max`` or ``Min`` of several arguments: each must win at some test point.

    Attributes:
        kind: ``"max"`` or ``"min"``.
        args: the arguments, in SymPy's order.
    """

    kind: str
    args: tuple[sp.Expr, ...]

    def conditions(self, winner: int) -> list[tuple[sp.Expr, int]]:
        """(difference, wanted sign) pairs that make ``args[winner]`` the strict winner."""
        side = 1 if self.kind == "max" else -1
        mine = self.args[winner]
        return [(mine - other, side) for k, other in enumerate(self.args) if k != winner]

    @functools.cached_property
    def free_symbols(self) -> frozenset[sp.Symbol]:
        return frozenset().union(*(a.free_symbols for a in self.args))


@dataclass(frozen=True)
class Structure:
    """What a piecewise value's test points must respect.

    Attributes:
        followed: the kinks whose sides are built (at most :data:`MAX_KINKS`).
        avoided: the kinks no point may sit on (at most :data:`MAX_AVOIDED`).
        contests: the max/min whose arguments must each win somewhere.
    """

    followed: tuple[sp.Expr, ...] = ()
    avoided: tuple[sp.Expr, ...] = ()
    contests: tuple[Contest, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.avoided or self.contests)


def kinks(values: Sequence[Value], limit: int = MAX_KINKS) -> list[sp.Expr]:
    """The expressions whose sign selects a branch, in order of first appearance.

    ``g`` and ``-g`` are one kink; constants are not kinks; a kink holding a max or min is
    replaced by its branches (see the module docstring).
    """
    return list(structure(values, limit).avoided[:limit])


def structure(values: Sequence[Value], limit: int = MAX_KINKS) -> Structure:
    """The kinks and the contests of ``values`` (see :class:`Structure`)."""
    found: list[sp.Expr] = []
    seen: set[sp.Expr] = set()
    contests: dict[tuple[str, frozenset], Contest] = {}

    def add(expression: sp.Expr) -> None:
        for branch in _branches(sp.sympify(expression)):
            if len(found) >= MAX_AVOIDED:
                return
            if not branch.free_symbols or branch in seen or -branch in seen:
                continue
            seen.add(branch)
            found.append(branch)

    for value in values:
        for entry in entries(value):
            if not entry.has(*_KINKED):
                continue
            for node in sp.preorder_traversal(entry):
                for kink in _kinks_of(node):
                    add(kink)
                if isinstance(node, sp.Max | sp.Min) and len(contests) < MAX_CONTESTS:
                    kind = "max" if isinstance(node, sp.Max) else "min"
                    contests.setdefault((kind, frozenset(node.args)), Contest(kind, node.args))
    return Structure(tuple(found[:limit]), tuple(found), tuple(contests.values()))


def _branches(expression: sp.Expr) -> list[sp.Expr]:
    """``expression`` with each max or min in it replaced by one of its arguments, every
    way (at most :data:`MAX_BRANCHES`): the formulas a kink can be, region by region."""
    out: list[sp.Expr] = []
    pending = [expression]
    while pending and len(out) < MAX_BRANCHES:
        current = pending.pop()
        inner = next(
            (n for n in sp.preorder_traversal(current) if isinstance(n, sp.Max | sp.Min)), None
        )
        if inner is None:
            out.append(current)
            continue
        pending.extend(current.xreplace({inner: arg}) for arg in reversed(inner.args))
    return out


def _kinks_of(node: sp.Basic) -> list[sp.Expr]:
    if isinstance(node, sp.Heaviside | sp.Abs | sp.sign | sp.DiracDelta):
        return [node.args[0]]
    if isinstance(node, sp.Max | sp.Min):
        args = node.args
        return [a - b for i, a in enumerate(args) for b in args[i + 1 :]]
    if isinstance(node, sp.Piecewise):
        out = []
        for _, condition in node.args:
            if isinstance(condition, sp.Basic):
                out += [r.lhs - r.rhs for r in condition.atoms(sp.core.relational.Relational)]
        return out
    return []


@functools.lru_cache(maxsize=64)
def _column(expressions: tuple[sp.Expr, ...]) -> sp.ImmutableMatrix:
    """The expressions as one column, compiled (and cached) once for all of them."""
    return sp.ImmutableMatrix(len(expressions), 1, list(expressions))


def _side(number: complex) -> int:
    real = number.real
    return 0 if abs(real) <= ON_KINK * max(1.0, abs(real)) else (1 if real > 0 else -1)


def region_of(kink_list: Sequence[sp.Expr], point: Point, values: FastValues | None = None):
    """The side (+1 or −1) of each kink at ``point``; 0 where the point is on a kink."""
    values = values or FastValues()
    if not kink_list:
        return ()
    numbers = values(_column(tuple(kink_list)), point)
    if numbers is not None:
        return tuple(_side(n) for n in numbers)
    sides = []
    for kink in kink_list:  # one of them is undefined here: each on its own
        number = values(kink, point)
        sides.append(0 if number is None else _side(number[0]))
    return tuple(sides)


def on_a_kink(kink_list: Sequence[sp.Expr], values: FastValues | None = None):
    """A test ``point → bool``: is the point exactly on one of ``kink_list``?"""
    values = values or FastValues()
    return lambda point: 0 in region_of(kink_list, point, values)


def winner(contest: Contest, point: Point, values: FastValues) -> int | None:
    """The index of the argument that strictly wins ``contest`` at ``point``; None at a tie."""
    numbers = values(_column(contest.args), point)
    if numbers is None:
        return None
    reals = [n.real for n in numbers]
    best = max(reals) if contest.kind == "max" else min(reals)
    winners = [k for k, r in enumerate(reals) if _side(complex(r - best)) == 0]
    return winners[0] if len(winners) == 1 else None


def region_points(
    kink_list: Sequence[sp.Expr],
    variables: Mapping[str, Value],
    defined: Sequence[Value],
    facts: Sequence[Fact],
    domain: Mapping[str, tuple[float, float]],
    *,
    have: Sequence[Point] = (),
    seed: int = 0,
    base: Sequence[Point] = (),
    avoided: Sequence[sp.Expr] | None = None,
    contests: Sequence[Contest] = (),
) -> list[Point]:
    """Points where each argument of each contest wins, then on each side of each kink,
    for what ``have`` does not already cover; none on any kink of ``avoided``.

    Args:
        kink_list: from :func:`kinks` (or :attr:`Structure.followed`).
        variables: name → symbol or matrix of symbols.
        defined: values that must be real and finite at a point.
        facts: equations a point must satisfy (dependent symbols are re-solved).
        domain: per variable name, the interval ordinary entries are drawn from.
        have: points already chosen (the random ones); their sides count as covered.
        seed: seeds the starting points and the moves.
        base: points to start from (default: ``have``, then fresh draws).
        avoided: kinks no built point may sit on (default: ``kink_list``).
        contests: max/min whose arguments must each win somewhere (:func:`structure`).
    """
    builder = _Builder(
        kink_list if avoided is None else avoided, variables, defined, facts, domain, seed
    )
    starts = list(base or have)
    out: list[Point] = []

    def start() -> Point | None:
        return starts[len(out) % len(starts)] if starts else None

    # The widest contests first: a point where x[0] wins max(x) also makes it win the
    # max of x[0], x[2], x[3] that SymPy's derivative of max(x) holds.
    ordered = sorted(contests, key=lambda c: -len(c.args))
    won = {(c, winner(c, p, builder.values)) for c in ordered for p in have}
    pending = [(c, k) for c in ordered for k in range(len(c.args)) if (c, k) not in won]
    while pending and len(out) < MAX_BUILT:
        point = builder.winning(pending, start(), pack=True) or builder.winning(pending, start())
        if point is None:
            break
        out.append(point)
        won |= {(c, winner(c, point, builder.values)) for c in ordered}
        left = [pair for pair in pending if pair not in won]
        if len(left) == len(pending):
            break  # no argument could be made to win from here
        pending = left
    covered = {
        (k, side)
        for p in (*have, *out)
        for k, side in enumerate(region_of(kink_list, p, builder.values))
    }
    for index, kink in enumerate(kink_list):
        movable = sorted(kink.free_symbols - builder.dependent, key=str)
        for side in (1, -1):
            if (index, side) in covered or not movable or len(out) >= MAX_BUILT:
                continue
            point = builder.moved([(kink, side)], movable, start())
            if point is None:
                continue
            out.append(point)
            for k, s in enumerate(region_of(kink_list, point, builder.values)):
                covered.add((k, s))
    return out


def uncovered(kink_list: Sequence[sp.Expr], points: Sequence[Point]) -> list[tuple[sp.Expr, int]]:
    """The (kink, side) pairs no point reaches."""
    values = FastValues()
    reached = {(k, s) for p in points for k, s in enumerate(region_of(kink_list, p, values))}
    return [
        (kink, side)
        for k, kink in enumerate(kink_list)
        for side in (1, -1)
        if (k, side) not in reached
    ]


def unwon(contests: Sequence[Contest], points: Sequence[Point]) -> list[tuple[Contest, int]]:
    """The (contest, argument index) pairs that win at no point."""
    values = FastValues()
    won = {(c, winner(c, p, values)) for c in contests for p in points}
    return [(c, k) for c in contests for k in range(len(c.args)) if (c, k) not in won]


class _Builder:
    """Moves one variable of a start point until some conditions hold, off every kink."""

    def __init__(self, avoided, variables, defined, facts, domain, seed: int) -> None:
        self.rng = random.Random(seed + 7919)  # apart from the random points' own stream
        self.values = FastValues()
        self.avoided = tuple(avoided)
        self.variables, self.defined, self.domain = variables, defined, domain
        self.solved = solve_facts(facts)
        self.dependent = {symbol for symbol, _ in self.solved}

    def winning(self, pending, start: Point | None, pack: bool = False) -> Point | None:
        """A point where the first pending argument that can be made to win does; with
        ``pack``, further ones too (one per contest, each kept winning), and the point is
        checked defined only at the end: a 10×10 max by rows needs 10 points, not 100."""
        point: Point | None = None
        kept: list[tuple[Contest, int]] = []
        for contest, index in pending:
            if any(contest is other for other, _ in kept):
                continue
            argument = contest.args[index]
            movable = sorted(argument.free_symbols - self.dependent, key=str)

            def keep(candidate, moved, kept=tuple(kept)):  # only those the move can change
                return all(
                    winner(c, candidate, self.values) == k
                    for c, k in kept
                    if moved in c.free_symbols or c.free_symbols & self.dependent
                )

            found = self.moved(
                contest.conditions(index), movable, point or start, keep, check=not pack
            )
            if found is None:
                continue
            point = found
            kept.append((contest, index))
            if not pack:
                return point
        if point is not None and defined_at(self.defined, point):
            return point
        return None

    def moved(
        self, conditions, movable, start: Point | None, keep=None, check: bool = True
    ) -> Point | None:
        """A point where each ``(expression, side)`` has ``sign(expression) == side``, no
        avoided kink is 0 and ``keep(point, moved)`` holds: one variable moved from
        ``start``, the least distance first; with ``check``, only where ``defined`` is real
        and finite."""
        if not movable:
            return None
        if start is None:
            start = _fresh(self.variables, self.domain, self.rng)
        wanted = tuple(side for _, side in conditions)
        column = _column(tuple(expression for expression, _ in conditions))
        for symbol in self.rng.sample(movable, len(movable)):
            old = start.get(symbol, 0)
            drawn = [rational(*MOVE_RANGE, self.rng) for _ in range(CANDIDATES)]
            candidates = sorted(set(drawn), key=lambda v: (abs(v - old), v))  # least move first
            tried = 0
            for value in candidates:
                point = dict(start)
                point[symbol] = value
                for dependent, expression in self.solved:
                    point[dependent] = expression.xreplace(point)
                numbers = self.values(column, point)
                if numbers is None or tuple(_side(n) for n in numbers) != wanted:
                    continue
                if 0 in region_of(self.avoided, point, self.values):
                    continue  # on another kink (a tie): no derivative there
                if keep is not None and not keep(point, symbol):
                    continue
                tried += 1
                if not check or defined_at(self.defined, point):
                    return point
                if tried >= TRIES:
                    break
        return None


def _fresh(variables, domain, rng) -> Point:
    """A random point of the ordinary interval (not checked: the move is)."""
    interval = PHASES[0][0]
    point: Point = {}
    for value in variables.values():
        for symbol in entries(value):
            if isinstance(symbol, sp.Symbol):
                low, high = domain.get(symbol.name.split("[")[0], interval)
                point[symbol] = rational(low, high, rng)
    return point


__all__ = [
    "Contest",
    "Structure",
    "kinks",
    "on_a_kink",
    "region_of",
    "region_points",
    "structure",
    "uncovered",
    "unwon",
]
