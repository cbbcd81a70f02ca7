"""The equality checker's numeric tier for large explicit expressions, on their DAG.

Explicit matrices written out at concrete sizes repeat their subexpressions: every entry
of a 32×32 softmax Jacobian carries the same sum of 32 exponentials. The general numeric
tier renames every matrix entry to a symbol (a pass over the whole tree), and compiles
everything to mpmath with ``lambdify(cse=True)`` (common-subexpression elimination over
the tree: 7 s at n = 32). Here, :class:`~workbench.checks.evaluation.Evaluator` evaluates the
expressions as they are, computing each distinct subexpression once per point.

It applies to explicit expressions (no symbolic sizes or indices) with transcendental
parts, without assumptions or unspecified functions; anything else returns None and the
general tier runs. Points are drawn as the general tier draws them.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from typing import Any

import mpmath
import sympy as sp
from sympy.core.function import AppliedUndef
from sympy.matrices.expressions.matexpr import MatrixElement

from workbench.checks.evaluation import (
    DIGITS,
    Evaluator,
    Inadmissible,
    Unsupported,
    real,
    working_precision,
)

UNEVALUATED = (sp.Integral, sp.Product, sp.Derivative, sp.Subs, sp.Limit)


def scan(exprs: Sequence[sp.Basic]) -> tuple[list, list] | None:
    """(scalar symbols, matrix entries) the expressions read, each distinct node visited
    once; None when the fast path does not apply."""
    symbols, elements, transcendental = set(), set(), False
    seen: set = set()
    stack = list(exprs)
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        if isinstance(node, MatrixElement):
            if not (node.i.is_Integer and node.j.is_Integer):
                return None
            elements.add(node)
            continue
        if isinstance(node, sp.Symbol):
            if node.is_integer:  # a size or an index: the general tier instantiates those
                return None
            symbols.add(node)
            continue
        if isinstance(node, (AppliedUndef, *UNEVALUATED)):
            return None
        if isinstance(node, sp.Function) or (isinstance(node, sp.Pow) and not node.exp.is_Integer):
            transcendental = True
        stack.extend(node.args)
    if not transcendental:  # rational: the general tier evaluates it exactly
        return None
    return sorted(symbols, key=str), sorted(elements, key=str)


def compare_at_points(
    a_entries: Sequence[sp.Basic],
    b_entries: Sequence[sp.Basic],
    domain: Mapping[str, tuple[float, float]],
    points: int,
    rng: random.Random,
    draw,
    tolerance,
    progress=None,
):
    """The numeric tier's verdict tuple, or None when the fast path does not apply.

    ``draw(symbol_or_name, positive, domain, rng)`` gives a random rational, as the
    general tier draws it. ``progress.tested``, if given, counts the points that agreed
    so far (for a caller whose budget may stop this midway).
    """
    found = scan([*a_entries, *b_entries])
    if found is None:
        return None
    symbols, elements = found
    shapes: dict[str, tuple[int, int]] = {}
    for e in elements:
        rows, cols = shapes.get(e.parent.name, (0, 0))
        shapes[e.parent.name] = (max(rows, int(e.i) + 1), max(cols, int(e.j) + 1))
    with working_precision():
        relative = mpmath.mpf(str(tolerance))
    tested = 0
    for _attempt in range(8 * points):
        if tested >= points:
            break
        values: dict[str, Any] = {
            name: [[sp.Integer(0)] * cols for _ in range(rows)]
            for name, (rows, cols) in shapes.items()
        }
        point = []
        for e in elements:
            value = draw(e.parent.name, False, domain, rng)
            values[e.parent.name][int(e.i)][int(e.j)] = value
            point.append((str(e), value))
        for s in symbols:
            value = draw(s.name, bool(s.is_positive), domain, rng)
            values[s.name] = value
            point.append((s.name, value))
        evaluator = Evaluator({}, values)
        try:
            with working_precision():  # once per point, not once per entry
                pairs = [
                    (_real(evaluator.value(x)), _real(evaluator.value(y)))
                    for x, y in zip(a_entries, b_entries, strict=True)
                ]
        except Inadmissible:
            continue  # outside the real domain, or not finite: draw another point
        except Unsupported:
            return None
        with working_precision():
            differs = [_differ(left, right, relative) for left, right in pairs]
        for (left, right), different in zip(pairs, differs, strict=True):
            if different:
                if progress is not None:
                    progress.tested = 0  # a difference: no partial verdict of equality
                example = {
                    "instance": "",
                    "point": ", ".join(f"{k} = {v}" for k, v in point),
                    "left": str(sp.N(sp.Float(left, 50), 12)),
                    "right": str(sp.N(sp.Float(right, 50), 12)),
                }
                difference = sp.Float(left, DIGITS) - sp.Float(right, DIGITS)
                detail = f"a - b = {sp.N(difference, 6)} at a random point"
                return False, "high-precision", detail, example
        tested += 1
        if progress is not None:
            progress.tested = tested
    if tested == 0:
        return None, "numeric", "no admissible random point found", None
    return True, "high-precision", f"a - b vanished at {tested} random points", None


def _differ(left, right, relative) -> bool:
    """Whether two values differ by more than ``relative`` (an mpf) times the larger, or
    1; called at the working precision."""
    return abs(left - right) > relative * max(abs(left), abs(right), 1)


def _real(value):
    return real(value, 1e-35)
