"""The verifier's verdicts are sound: no evidence discarded, every region of a kink tested.

Each test here failed before the fix it guards (see each docstring): the wrong-branch
variants were accepted at some seeds, a found difference was dropped when the confirming
points agreed, and a function defined nowhere got a verdict.
"""

from __future__ import annotations

import pytest

from workbench.verify.api import check_claim

SEEDS = range(20)

# (name, function, wrt, wrong claim, right claim, shapes): a piecewise derivative with one
# branch wrong, as it is written by hand; the wrong one is right in some region only.
BRANCHES = [
    (
        "smooth L1, /β dropped in the quadratic zone",
        "step(beta - abs(x))*x^2/(2*beta) + step(abs(x) - beta)*(abs(x) - beta/2)",
        "x",
        "step(beta - abs(x))*x + step(abs(x) - beta)*sign(x)",
        "step(beta - abs(x))*x/beta + step(abs(x) - beta)*sign(x)",
        {},
    ),
    (
        "hinge, margin indicator dropped",
        "relu(1 - y*w.T@x)",
        "w",
        "-y*x",
        "-y*x*step(1 - y*w.T@x)",
        {"w": 3, "x": 3},
    ),
    ("ReLU, indicator dropped", "relu(x)", "x", "1", "step(x)", {}),
    ("ReLU past a far kink", "relu(x - 3)", "x", "0", "step(x - 3)", {}),
    (
        "ELU, alpha dropped on the negative side",
        "step(x)*x + step(-x)*a*(exp(x) - 1)",
        "x",
        "step(x) + step(-x)*exp(x)",
        "step(x) + step(-x)*a*exp(x)",
        {},
    ),
    (
        "clamp to [-1, 1], upper bound dropped",
        "-1 + relu(x + 1) - relu(x - 1)",
        "x",
        "step(x + 1)",
        "step(x + 1) - step(x - 1)",
        {},
    ),
    (
        "ReLU6, the cap at 6 dropped",
        "relu(x) - relu(x - 6)",
        "x",
        "step(x)",
        "step(x) - step(x - 6)",
        {},
    ),
    ("sqrt(x^2) claimed 1", "sqrt(x^2)", "x", "1", "sign(x)", {}),
]
IDS = [b[0] for b in BRANCHES]


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize(("name", "function", "wrt", "wrong", "right", "shapes"), BRANCHES, ids=IDS)
def test_a_wrong_branch_is_rejected_at_every_seed(name, function, wrt, wrong, right, shapes, seed):
    """Failed before this fix, accepted at this many of the 20 seeds: smooth L1 11, hinge 5,
    clamp 6, ReLU 1, sqrt(x^2) claimed 1 1 (seed 11), ReLU6 and relu(x - 3) all 20 (points
    from [-2, 2] never reach the far side of their kink). ELU was already rejected at
    every seed; it stays as a guard."""
    report = check_claim(function, wrt, wrong, shapes=shapes, seed=seed, isolate=False)
    assert report.verdict == "incorrect", (report.detail, report.error)
    assert report.counterexample is not None


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize(("name", "function", "wrt", "wrong", "right", "shapes"), BRANCHES, ids=IDS)
def test_the_right_branches_are_accepted(name, function, wrt, wrong, right, shapes, seed):
    """The points built on each side of a kink do not reject a right claim."""
    report = check_claim(function, wrt, right, shapes=shapes, seed=seed, isolate=False)
    assert report.verdict == "correct", (report.diagnosis, report.detail, report.error)


def test_the_report_counts_points_and_regions_and_says_what_was_sampled():
    """Failed before this fix: the report said "4 random points" whatever the kinks."""
    report = check_claim("relu(x) - relu(x - 6)", "x", "step(x) - step(x - 6)", isolate=False)
    assert "regions of the kinks" in report.detail, report.detail
    assert "drawn at random from [-2, 2]" in report.detail
    assert "built on a side of a kink" in report.detail
    # x < 0, 0 < x < 6 and x > 6: three regions, and the report says so.
    assert " in 3 regions" in report.detail, report.detail


def test_a_wrong_branch_is_diagnosed_as_one():
    """Failed before this fix (the diagnosis was a Piecewise "missing term")."""
    report = check_claim("sqrt(x^2)", "x", "1", isolate=False)
    assert "wrong on one side of a kink" in report.diagnosis, report.diagnosis
    assert "x > 0" in report.diagnosis and "x < 0" in report.diagnosis


def test_a_difference_found_by_an_equality_tier_is_never_dropped(monkeypatch):
    """Planted: the confirming points all agree, only the equality tier sees the difference.

    Failed before this fix: decide() used the tiers only when they proved equality, so the
    tier's counterexample was dropped and the verdict was "correct".
    """
    import sympy as sp

    from workbench.verify import decision as verify_decision
    from workbench.verify.points import Problem

    x = sp.Symbol("x", real=True)
    problem = Problem(claim=sp.Integer(1), expected=sp.sign(x), variables={"x": x})
    positive = verify_decision.sample_points

    def only_positive(*args, **kwargs):  # every random point lands where the claim is right
        found = positive(*args, **kwargs)
        points = tuple({x: abs(p[x])} for p in found.points)
        return type(found)(points, found.intervals)

    monkeypatch.setattr(verify_decision, "sample_points", only_positive)
    monkeypatch.setattr(verify_decision, "kinks", lambda values: [])  # no region points
    outcome = verify_decision.decide(problem, seed=0)
    assert outcome.verdict == "incorrect", outcome.detail
    assert "tier found" in outcome.detail
    assert outcome.counterexample["point"]["x"] < 0


def test_a_tier_difference_outside_the_domain_does_not_count():
    """log x is real only for x > 0, where 1/|x| = 1/x; a tier's x < 0 is no evidence."""
    report = check_claim("log(x)", "x", "1/abs(x)", isolate=False)
    assert report.verdict == "correct", report.detail


def test_a_function_defined_nowhere_gets_no_verdict():
    """Failed before this fix: "✓ correct (symbolic)" for a function that is 1/0 everywhere
    (30-digit evaluation of 1/(sin² + cos² − 1) gives a finite-looking 1e138)."""
    report = check_claim("1/(sin(x)**2 + cos(x)**2 - 1)", "x", "0", isolate=False)
    assert report.verdict == "error" and report.exit_status == 2
    assert "no test point found where it is real and finite" in report.error
