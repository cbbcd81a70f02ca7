"""The decision on one comparison: the equality tiers decide, domain points confirm.

:func:`decide` runs :func:`~workbench.checks.equivalence.check_equal` (structural, rational,
exact points, high precision, simplify; bounded in time) and then evaluates the claim
and the expected value at exact random points where the function is real and finite,
to 30 digits. A claim is correct when the two agree at every such point, *symbolic*
when a tier also proved it; a disagreement is a counterexample. :func:`compare` adds
the diagnosis of a wrong claim.

Example:
    >>> import sympy as sp
    >>> from workbench.verify.points import Problem
    >>> x = sp.Symbol("x", real=True)
    >>> decide(Problem(claim=2 * x, expected=sp.diff(x**2, x), variables={"x": x})).method
    'symbolic'
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import sympy as sp

from workbench.checks.equivalence import check_equal
from workbench.errors import WorkbenchError
from workbench.verify.diagnosis import diagnose
from workbench.verify.interpret import Value, describe, shape
from workbench.verify.points import Point, Problem, agree, draw_points, evaluate, plain, plain_point
from workbench.verify.problems import candidate_terms, claim_terms

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
        )
    return replace(outcome, diagnosis=diagnose(problem, outcome.points))


def decide(problem: Problem, seed: int = 0, budget: float = EQUALITY_BUDGET) -> Outcome:
    """The equality tiers decide; exact points where the function is defined confirm."""
    points = tuple(
        draw_points(
            problem.variables,
            (problem.expected, *problem.defined),
            extra=[problem.claim],
            facts=problem.facts,
            domain=problem.domain,
            count=POINTS,
            seed=seed,
        )
    )
    claim_shape, true_shape = shape(problem.claim), shape(problem.expected)
    if claim_shape != true_shape:
        detail = f"the claim is {describe(claim_shape)}, {problem.noun} {describe(true_shape)}"
        example = _counterexample(problem, points[0]) if points else None
        return Outcome("incorrect", "symbolic", detail, points, example)
    equivalence = check_equal(
        problem.claim,
        problem.expected,
        assumptions=problem.facts,
        domain=problem.domain,
        budget=budget,
        seed=seed,
    )
    proved = equivalence.equal is True and equivalence.method == "proved"
    if not points:
        if proved:
            detail = f"{equivalence.detail} (no point found where the function is real)"
            return Outcome("correct", "symbolic", detail, points)
        raise WorkbenchError("no test point found where the function is real and finite")
    for point in points:
        claimed, true = evaluate(problem.claim, point), evaluate(problem.expected, point)
        if claimed is None or true is None or not agree(claimed, true):
            detail = f"differs from {problem.noun} at a random point where the function is defined"
            return Outcome("incorrect", "numeric", detail, points, _counterexample(problem, point))
    where = f"{len(points)} random points where the function is real"
    if proved:
        detail = f"proved by the {equivalence.tier} tier; confirmed to 20 digits at {where}"
        return Outcome("correct", "symbolic", detail, points)
    detail = f"equal to 20 digits at {where}; not proved symbolically ({equivalence.detail})"
    return Outcome("correct", "numeric", detail, points)


def _counterexample(problem: Problem, point: Point) -> dict:
    return {
        "point": plain_point(point, problem.variables),
        "claimed": plain(shape(problem.claim), evaluate(problem.claim, point)),
        "true": plain(shape(problem.expected), evaluate(problem.expected, point)),
    }


def value_text(value: Value) -> str:
    """SymPy's text of a value; a matrix as a list of rows."""
    if isinstance(value, sp.MatrixBase):
        return sp.sstr(value.tolist())
    return sp.sstr(value)
