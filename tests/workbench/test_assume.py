"""``--assume``: each form makes a claim right that is right only under it, keeps every
wrong claim wrong, and says "given …". Before ``--assume`` a learner could not state
Σy = 1, so the textbook softmax cross-entropy gradient s − y was "✗ incorrect"."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from workbench.errors import ParseError
from workbench.verify.api import check_claim
from workbench.verify.assume import read
from workbench.verify.interpret import Scope, declare

ROOT = Path(__file__).parents[2]
CROSS_ENTROPY = "-sum(y * log(softmax(z)))"

# (function, wrt, shapes, assumption, right only under it, wrong even under it)
CASES = [
    (CROSS_ENTROPY, "z", {"z": "3", "y": "3"}, "sum(y) = 1", "softmax(z) - y", "y - softmax(z)"),
    (CROSS_ENTROPY, "z", {"z": "4", "y": "4"}, "y one-hot", "softmax(z) - y", "softmax(z)"),
    ("sqrt(x**2)", "x", {}, "x > 0", "1", "-1"),
    ("abs(x)", "x", {}, "x < 0", "-1", "1"),
    ("sqrt(p**2) + sqrt((1 - p)**2)", "p", {}, "0 < p < 1", "0", "2"),
    ("x.T @ A @ x", "x", {"x": "3", "A": "3x3"}, "A symmetric", "2*A @ x", "2*A.T @ x + x"),
    ("log(det(X))", "X", {"X": "3x3"}, "X positive definite", "inv(X)", "-inv(X)"),
    ("x**2 + y", "x", {}, "x + y = 1", "2 - 2*y", "2*y"),
]


@pytest.mark.parametrize(("function", "wrt", "shapes", "assumption", "right", "wrong"), CASES)
def test_an_assumption_decides_a_claim_that_needs_it(
    function, wrt, shapes, assumption, right, wrong
):
    given = check_claim(function, wrt, right, shapes=shapes, assume=[assumption])
    assert given.verdict == "correct", given.detail
    assert given.assumptions and given.render().splitlines()[0].endswith(given.assumptions[0])
    # Without it the same claim is wrong: the assumption is what made it right.
    assert check_claim(function, wrt, right, shapes=shapes).verdict == "incorrect"
    # A claim wrong even under the assumption stays wrong.
    assert check_claim(function, wrt, wrong, shapes=shapes, assume=[assumption]).verdict == (
        "incorrect"
    )


def test_the_points_satisfy_the_assumptions():
    stated = read(
        ["sum(y) = 1", "0 < p < 1", "X positive definite"],
        Scope(declare({"y": (3, 1), "X": (2, 2)})),
        wrt="p",
    )
    assert stated.domain["p"][0] > 0 and stated.domain["p"][1] < 1
    assert len(stated.facts) == 1 and stated.positive_definite == {"X"}
    assert stated.said[0] == "sum(y) = 1" and stated.said[1] == "0 < p < 1"


@pytest.mark.parametrize(
    ("assumption", "message"),
    [
        ("x >> 0", "--assume 'x >> 0'"),
        ("y one-hot", "y has no declared shape"),
        ("2 > x > 3", "leave no values"),
        ("x*0 = 1", "holds for no input"),
        ("x < y", "compares one name with numbers"),
        ("x is nice", "expected EXPR = EXPR"),
        ("x symmetric", "x has no declared shape"),
        ("v symmetric", "v symmetric needs a square matrix"),
    ],
)
def test_a_bad_assumption_is_one_clear_error(assumption, message):
    with pytest.raises(ParseError, match=message) as caught:
        read([assumption], Scope(declare({"X": (2, 2), "v": (2, 1)})), wrt="x")
    assert "\n" not in str(caught.value)


def test_the_command_line_says_given_and_scripts_get_the_list():
    args = ["--function", CROSS_ENTROPY, "--wrt", "z", "--claim", "softmax(z) - y"]
    args += ["--shape", "z=3", "y=3", "--assume", "sum(y) = 1"]
    done = subprocess.run(
        [sys.executable, "-m", "workbench", "verify", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("✓ correct") and "given sum(y) = 1" in done.stdout
    done = subprocess.run(
        [sys.executable, "-m", "workbench", "verify", *args, "--json"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert json.loads(done.stdout)["assumptions"] == ["sum(y) = 1"]
    catalogue = ["softmax-jacobian", "--claim", "s", "--assume", "x > 0"]
    done = subprocess.run(
        [sys.executable, "-m", "workbench", "verify", *catalogue],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert done.returncode == 2 and "--assume works with --function" in done.stderr


def test_facts_are_solved_so_that_no_solution_names_a_solved_symbol():
    """λfⱼ + λ₀ − log pⱼ − 1 = 0 for j = 0..3: each solution is in the drawn symbols only
    (once λ's solution kept a λ, so its value at a point was not a number), a fact the
    others imply is met, and one linear in a square (a variance) is solved for its root.
    Planted: sin(a) + a = 1 is linear in nothing and is named unmet."""
    import sympy as sp

    from workbench.verify.points import solve_facts, unmet_facts

    lam, lam0, a, s = sp.symbols("lambda lambda_0 a sigma", real=True)
    f = [sp.Symbol(f"f[{i}]", real=True) for i in range(4)]
    p = [sp.Symbol(f"p[{i}]", real=True) for i in range(4)]
    facts = [(lam * f[i] + lam0 - sp.log(p[i]) - 1, 0) for i in range(4)]
    solved = dict(solve_facts(facts))
    assert len(solved) == 4 and not unmet_facts(facts)
    assert not any(v.free_symbols & set(solved) for v in solved.values())
    point = {**{x: sp.Rational(k + 2, 7) for k, x in enumerate(p)}, f[0]: 1, f[1]: 2}
    point.update({x: v.xreplace(point) for x, v in solved.items()})
    for lhs, rhs in facts:
        assert abs(sp.N((lhs - rhs).xreplace(point))) < 1e-20
    variance = [((a - 1) ** 2 / (2 * (s**2) ** 2) - 1 / (2 * s**2), 0), (a + 0, a)]
    assert dict(solve_facts(variance)) == {s: sp.sqrt(sp.expand((a - 1) ** 2))}
    assert unmet_facts([(sp.sin(a) + a, 1)]) == [(sp.sin(a) + a, 1)]


def test_a_fact_true_at_every_point_needs_no_solving_and_each_point_is_checked():
    """(XᵀX)⁻¹(XᵀX) = I, entry by entry, is linear in none of its names: least squares'
    note states it, and before this fix the note could not be checked ("no test point can
    be made to satisfy"). It holds wherever it is defined, so every point meets it.
    Planted: sin(xy) + x = 1 is not an identity and stays unmet; a point-set check drops a
    point at which an 'identity' fails."""
    import random

    import sympy as sp

    from workbench.verify import points
    from workbench.verify.points import sample_points, unmet_facts

    X = sp.Matrix(3, 2, lambda i, j: sp.Symbol(f"X[{i},{j}]", real=True))
    gram = X.T * X
    identity = (gram.adjugate() / gram.det()) * gram - sp.eye(2)
    facts = [(entry, 0) for entry in identity]
    assert not unmet_facts(facts)
    x, y = sp.symbols("x y", real=True)
    assert unmet_facts([(sp.sin(x * y) + x, 1)]) == [(sp.sin(x * y) + x, 1)]
    found = sample_points({"X": sp.ImmutableMatrix(X)}, [sp.ImmutableMatrix(X)], facts=facts)
    assert len(found.points) == 4
    for point in found.points:
        assert all(abs(sp.N(e.xreplace(point), 30)) < 1e-20 for e in identity)
    # A fact that only looked like an identity at the three points: a point that misses
    # it is not a test point.
    assert not points._meets([(x - sp.Rational(1, 2), 0)], {x: random.Random(0).random()})


def test_an_identity_fact_at_note_sizes_is_told_without_expanding_it():
    """The least-squares and Newton notes state (XᵀX)⁻¹(XᵀX) = I with X 4×3 and H⁻¹H = I
    with H 4×4: expanding each entry, then solving it for one of its symbols, ran past the
    note's 20 s. An identity is now told at random numbers first, and a large difference
    is never expanded; both take about a second. Planted: 2·I instead of I is no
    identity and is still solved for a symbol (not passed as holding everywhere)."""
    import sympy as sp

    from workbench.checks.timebox import time_limit
    from workbench.verify import points
    from workbench.verify.assume import equation_facts

    X = sp.ImmutableMatrix(4, 3, lambda i, j: sp.Symbol(f"X[{i},{j}]", real=True))
    A = sp.Matrix(4, 4, lambda i, j: sp.Symbol(f"A[{i},{j}]", real=True))
    H = sp.ImmutableMatrix((A + A.T) / 2)
    for matrix in (X.T * X, H):
        size = matrix.shape[0]
        product = sp.ImmutableMatrix(matrix.adjugate() / matrix.det() * matrix)
        with time_limit(10.0):  # CPU seconds; it had run past the note's 20
            facts = equation_facts(product, sp.eye(size))
            assert facts and not points.unmet_facts(facts)
            assert points.solve_facts(facts) == []
    assert not points.says_nothing(product - sp.eye(4))
    small = sp.Matrix(2, 2, lambda i, j: sp.Symbol(f"B[{i},{j}]", real=True))
    wrong = equation_facts(
        sp.ImmutableMatrix(small.adjugate() / small.det() * small), 2 * sp.eye(2)
    )
    assert wrong and points.solve_facts(wrong)
