"""The decision on one comparison: every tier and every point is evidence, none is dropped.

:func:`decide` evaluates the claim and the expected value, to 30 digits, at exact random
points where the function is real and finite (the same at 45 digits, so cancellation is
not mistaken for a value), and at points built on each side of every kink of a piecewise
claim (:mod:`workbench.verify.regions`); it runs :func:`~workbench.checks.equivalence.check_equal`
(structural, rational, exact points, high precision, simplify; bounded in time). A
difference found by a tier at a point where the function is defined is a counterexample,
as is a difference at any test point. A claim is correct only when nothing differs:
*symbolic* when a tier also proved it, *numeric* (a probabilistic test) when not. No
admissible point at all is an error, not a verdict. :func:`compare` adds the diagnosis.

Example:
    >>> import sympy as sp
    >>> from workbench.verify.points import Problem
    >>> x = sp.Symbol("x", real=True)
    >>> decide(Problem(claim=2 * x, expected=sp.diff(x**2, x), variables={"x": x})).method
    'symbolic'
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

import sympy as sp

from workbench.checks.equivalence import check_equal
from workbench.codegen.claim_text import to_claim
from workbench.errors import WorkbenchError
from workbench.render.unicode_math import to_unicode
from workbench.verify.diagnosis import diagnose
from workbench.verify.interpret import Value, describe, shape
from workbench.verify.points import (
    FastValues,
    Point,
    Problem,
    Sample,
    agree,
    defined_at,
    evaluate,
    free_symbols,
    plain,
    plain_point,
    sample_points,
    solve_facts,
    within,
)
from workbench.verify.problems import candidate_terms, claim_terms, transposed_factors
from workbench.verify.regions import (
    Structure,
    on_a_kink,
    region_of,
    region_points,
    structure,
    uncovered,
    unwon,
)

EQUALITY_BUDGET = 4.0  # seconds for the symbolic equality tiers of one comparison
POINTS = 4  # random points where the function is defined


@dataclass(frozen=True)
class Outcome:
    """The verdict on one :class:`Problem`, with what is needed to explain it."""

    verdict: str
    method: str
    detail: str
    points: tuple[Point, ...]
    counterexample: dict | None = None
    diagnosis: str | None = None


def compare(problem: Problem, seed: int, nodes=(), claim_node=None, scope=None) -> Outcome:
    """Decide ``problem``; diagnose it when wrong, using the parse trees for candidate terms."""
    outcome = decide(problem, seed)
    if outcome.verdict != "incorrect":
        return outcome
    if scope is not None:
        problem = replace(
            problem,
            terms=candidate_terms(list(nodes), scope),
            claim_terms=claim_terms(claim_node, scope) if claim_node is not None else (),
            transposed=transposed_factors(claim_node, scope) if claim_node is not None else (),
        )
    return replace(outcome, diagnosis=diagnose(problem, outcome.points))


def decide(problem: Problem, seed: int = 0, budget: float = EQUALITY_BUDGET) -> Outcome:
    """The verdict on ``problem``: every piece of evidence counts, none is discarded.

    The claim is correct only when no equality tier found a difference at a point where the
    function is defined, and the claim equals the expected value at every test point: the
    random ones, and one on each side of every kink of a piecewise claim.

    Raises:
        WorkbenchError: no test point was found where the function is real and finite
            (nowhere defined: there is nothing to judge), or the tiers and the points
            contradict each other.
    """
    needed = (problem.expected, *problem.defined)
    pieces = structure([problem.claim, *needed])
    kink_list = list(pieces.followed)
    on_kink = on_a_kink(pieces.avoided) if pieces.avoided else None
    sample = sample_points(
        problem.variables,
        needed,
        extra=[problem.claim],
        facts=problem.facts,
        domain=problem.domain,
        count=POINTS,
        seed=seed,
        avoid=on_kink,
        positive_definite=problem.positive_definite,
    )
    built: list[Point] = []
    if pieces:
        built = region_points(
            kink_list,
            problem.variables,
            needed,
            problem.facts,
            problem.domain,
            have=sample.points,
            seed=seed,
            avoided=pieces.avoided,
            contests=pieces.contests,
        )
        # A point built on a kink's side that leaves an assumption is not evidence.
        built = [p for p in built if _assumed(problem, p)]
    points = (*sample.points, *built)
    if not points:
        raise WorkbenchError(
            "the function is defined nowhere it was tried: no test point found where it is "
            "real and finite, so there is nothing to judge the claim on"
        )
    claim_shape, true_shape = shape(problem.claim), shape(problem.expected)
    if claim_shape != true_shape:
        detail = f"the claim is {describe(claim_shape)}, {problem.noun} {describe(true_shape)}"
        return Outcome("incorrect", "symbolic", detail, points, _counterexample(problem, points[0]))
    equivalence = check_equal(
        problem.claim,
        problem.expected,
        assumptions=problem.facts,
        domain=problem.domain,
        budget=budget,
        seed=seed,
    )
    proved = equivalence.equal is True and equivalence.method == "proved"
    ignored = ""
    if equivalence.equal is False:
        found = _tier_point(problem, equivalence.counterexample, points[0])
        if found is not None and on_kink is not None and on_kink(found):
            found = None  # exactly on a kink (a tie of a max): no derivative there
        if found is not None and defined_at(needed, found):
            claimed, true = evaluate(problem.claim, found), evaluate(problem.expected, found)
            if claimed is None or true is None or not agree(claimed, true):
                detail = f"the {equivalence.tier} tier found {equivalence.detail}"
                example = _counterexample(problem, found)
                return Outcome("incorrect", "numeric", detail, (found, *points), example)
            raise WorkbenchError(
                f"no verdict: the {equivalence.tier} tier found {equivalence.detail}, but at "
                "that point the claim and the expected value agree to 20 digits"
            )
        ignored = (
            f"; the {equivalence.tier} tier's difference lies where the function is not "
            "defined, on a kink, or outside the assumptions, so it does not count"
        )
    for point in points:
        claimed, true = evaluate(problem.claim, point), evaluate(problem.expected, point)
        if claimed is None or true is None or not agree(claimed, true):
            where = "a point built on one side of a kink" if point in built else "a random point"
            detail = f"differs from {problem.noun} at {where} where the function is defined"
            return Outcome("incorrect", "numeric", detail, points, _counterexample(problem, point))
    where = _where(problem, sample, built, pieces)
    if proved:
        detail = f"proved by the {equivalence.tier} tier; confirmed to 20 digits at {where}"
        return Outcome("correct", "symbolic", detail + ignored, points)
    detail = (
        f"equal to 20 digits at {where}; not proved symbolically, a probabilistic test "
        f"({equivalence.detail})"
    )
    return Outcome("correct", "numeric", detail + ignored, points)


def _where(problem: Problem, sample: Sample, built: list[Point], pieces: Structure) -> str:
    """How many points in how many regions, and what was sampled, in words."""
    points = [*sample.points, *built]
    drawn = sample.describe()
    if problem.domain:
        drawn += ", or from the result's declared domain"
    kink_list = pieces.followed
    if not kink_list:
        return f"{len(points)} points where the function is real ({drawn})"
    values = FastValues()
    regions = {region_of(kink_list, p, values) for p in points}
    names = ", ".join(sp.sstr(k) for k in kink_list[:4]) + (", …" if len(kink_list) > 4 else "")
    text = (
        f"{len(points)} points in {len(regions)} region{'s' if len(regions) > 1 else ''} "
        f"of the kinks at {names} = 0 "
        f"({drawn}; {len(built)} built on a side of a kink or for a max/min no random "
        "point reached)"
    )
    missed = uncovered(kink_list, points)
    if missed:
        text += f"; {len(missed)} side(s) of a kink reached by no point where it is defined"
    if pieces.contests:
        lost = unwon(pieces.contests, points)
        count = len(pieces.contests)
        counted = f"{count} max/min, the derivative's counted" if count > 1 else "1 max/min"
        text += (
            f"; each argument of each max/min the winner at some point ({counted})"
            if not lost
            else f"; {len(lost)} argument(s) of a max/min the winner at no point where the "
            f"function is defined ({counted})"
        )
    return text


_TIER_POINT = re.compile(r"(?:^|, )(\S+?) = (-?\d+(?:/\d+)?)(?=, |$)")


def _tier_point(problem: Problem, counterexample, filler: Point) -> Point | None:
    """The point of an equality tier's counterexample, if it names every symbol exactly.

    Inputs neither side depends on (V, in a claim about ∂L/∂V) take ``filler``'s values.
    """
    if not counterexample or counterexample.get("instance"):
        return None
    symbols = {s.name: s for s in free_symbols([problem.claim, problem.expected])}
    symbols |= {s.name: s for s in free_symbols([*problem.variables.values(), *problem.defined])}
    point: Point = {}
    for match in _TIER_POINT.finditer(str(counterexample.get("point", ""))):
        name, value = match.groups()
        if name not in symbols:
            return None
        point[symbols[name]] = sp.Rational(value)
    needed = free_symbols([problem.claim, problem.expected, *problem.defined])
    if not needed <= set(point):
        return None
    point = {**filler, **point}
    for symbol, expression in solve_facts(problem.facts):
        if symbol in point and sp.simplify(point[symbol] - expression.xreplace(point)) != 0:
            return None  # the tier's point does not satisfy the facts
    return point if _assumed(problem, point) else None


def _assumed(problem: Problem, point: Point) -> bool:
    """Inside the intervals and positive definite matrices the problem assumes."""
    if not (problem.domain or problem.positive_definite):
        return True
    return within(point, problem.domain, problem.positive_definite, problem.variables)


def _counterexample(problem: Problem, point: Point) -> dict:
    return {
        "point": plain_point(point, problem.variables),
        "claimed": plain(shape(problem.claim), evaluate(problem.claim, point)),
        "true": plain(shape(problem.expected), evaluate(problem.expected, point)),
    }


def value_math(value: Value) -> str:
    """:func:`value_text` in Unicode mathematics, for a terminal (not to be typed back)."""
    if not isinstance(value, sp.MatrixBase):
        return to_unicode(value)
    column = value.cols == 1
    return "; ".join(
        f"[{i if column else f'{i},{j}'}]: {to_unicode(value[i, j])}"
        for i in range(value.rows)
        for j in range(value.cols)
    )


def value_text(value: Value) -> str:
    """A value in the claim language, so that it can be typed back as a claim: a scalar as
    an expression; a matrix, which the language has no literal for, entry by entry, each
    entry an expression after its 0-based index (``[0]: 2*x[0]; [1]: ...`` for a column,
    ``[0,1]: ...`` for a matrix)."""
    if not isinstance(value, sp.MatrixBase):
        return to_claim(value)
    column = value.cols == 1
    return "; ".join(
        f"[{i if column else f'{i},{j}'}]: {to_claim(value[i, j])}"
        for i in range(value.rows)
        for j in range(value.cols)
    )
