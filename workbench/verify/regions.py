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

Example:
    >>> import sympy as sp
    >>> x = sp.Symbol("x", real=True)
    >>> kinks([x * sp.Heaviside(x - 6, 0)])
    [x - 6]
    >>> points = region_points([x - 6], {"x": x}, [x], [], {}, seed=0)
    >>> sorted(region_of([x - 6], p) for p in points)
    [(-1,), (1,)]
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence

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

MAX_KINKS = 12  # distinct kinks followed; a larger claim keeps the first ones found
MOVE_RANGE = (-10.0, 10.0)  # where a variable may be moved to reach a side of a kink
CANDIDATES = 40  # exact rationals tried along one variable
TRIES = 3  # admissible candidates tried (the function must be defined there)
ON_KINK = 1e-12  # |kink| below this (in double precision) counts as on the kink

_KINKED = (sp.Heaviside, sp.Abs, sp.sign, sp.DiracDelta, sp.Max, sp.Min, sp.Piecewise)


def kinks(values: Sequence[Value]) -> list[sp.Expr]:
    """The expressions whose sign selects a branch, in order of first appearance.

    ``g`` and ``-g`` are one kink; constants are not kinks.
    """
    found: list[sp.Expr] = []
    seen: set[sp.Expr] = set()

    def add(expression: sp.Expr) -> None:
        expression = sp.sympify(expression)
        if not expression.free_symbols or len(found) >= MAX_KINKS:
            return
        if expression in seen or -expression in seen:
            return
        seen.add(expression)
        found.append(expression)

    for value in values:
        for entry in entries(value):
            if not entry.has(*_KINKED):
                continue
            for node in sp.preorder_traversal(entry):
                for kink in _kinks_of(node):
                    add(kink)
    return found


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


def region_of(kink_list: Sequence[sp.Expr], point: Point, values: FastValues | None = None):
    """The side (+1 or −1) of each kink at ``point``; 0 where the point is on a kink."""
    values = values or FastValues()
    sides = []
    for kink in kink_list:
        number = values(kink, point)
        if number is None:
            sides.append(0)
            continue
        real = number[0].real
        sides.append(0 if abs(real) <= ON_KINK * max(1.0, abs(real)) else (1 if real > 0 else -1))
    return tuple(sides)


def on_a_kink(kink_list: Sequence[sp.Expr], values: FastValues | None = None):
    """A test ``point → bool``: is the point exactly on one of ``kink_list``?"""
    values = values or FastValues()
    return lambda point: 0 in region_of(kink_list, point, values)


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
) -> list[Point]:
    """Points on each side of each kink not already covered by ``have``.

    Args:
        kink_list: from :func:`kinks`.
        variables: name → symbol or matrix of symbols.
        defined: values that must be real and finite at a point.
        facts: equations a point must satisfy (dependent symbols are re-solved).
        domain: per variable name, the interval ordinary entries are drawn from.
        have: points already chosen (the random ones); their sides count as covered.
        seed: seeds the starting points and the moves.
        base: points to start from (default: ``have``, then fresh draws).
    """
    rng = random.Random(seed + 7919)  # apart from the random points' own stream
    values = FastValues()
    solved = solve_facts(facts)
    dependent = {symbol for symbol, _ in solved}
    covered = {(k, side) for p in have for k, side in enumerate(region_of(kink_list, p, values))}
    starts = list(base or have)
    out: list[Point] = []
    for index, kink in enumerate(kink_list):
        movable = sorted(kink.free_symbols - dependent, key=str)
        for side in (1, -1):
            if (index, side) in covered or not movable:
                continue
            start = starts[len(out) % len(starts)] if starts else None
            point = _moved_to_side(
                kink, side, movable, start, variables, defined, solved, domain, rng, values
            )
            if point is None:
                continue
            out.append(point)
            for k, s in enumerate(region_of(kink_list, point, values)):
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


def _moved_to_side(kink, side, movable, start, variables, defined, solved, domain, rng, values):
    """A point where ``sign(kink) == side``: one variable moved, the least distance first."""
    if start is None:
        start = _fresh(variables, defined, domain, rng)
    for symbol in rng.sample(movable, len(movable)):
        old = start.get(symbol, 0)
        drawn = [rational(*MOVE_RANGE, rng) for _ in range(CANDIDATES)]
        candidates = sorted(set(drawn), key=lambda v: (abs(v - old), v))  # the least move first
        tried = 0
        for value in candidates:
            point = dict(start)
            point[symbol] = value
            for dependent, expression in solved:
                point[dependent] = expression.xreplace(point)
            number = values(kink, point)
            if number is None:
                continue
            real = number[0].real
            if abs(real) <= ON_KINK * max(1.0, abs(real)) or (real > 0) != (side > 0):
                continue
            tried += 1
            if defined_at(defined, point):
                return point
            if tried >= TRIES:
                break
    return None


def _fresh(variables, defined, domain, rng) -> Point:
    """A random point of the ordinary interval (not checked: the move is)."""
    interval = PHASES[0][0]
    point: Point = {}
    for value in variables.values():
        for symbol in entries(value):
            if isinstance(symbol, sp.Symbol):
                low, high = domain.get(symbol.name.split("[")[0], interval)
                point[symbol] = rational(low, high, rng)
    return point


__all__ = ["kinks", "on_a_kink", "region_of", "region_points", "uncovered"]
