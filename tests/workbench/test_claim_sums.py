"""Sums over an index, sequences over time steps and derivatives of an unspecified function,
in the claim language: what `workbench show` prints for results in index notation.

Each failed before the syntax was added: ``sum(... for k in 0..n-1)`` was "'for' is a
Python keyword", ``g(k)`` "unknown function 'g'", ``f'''`` "string literals are not
allowed", and ``w[k]`` "an index is a whole number from 0". Every syntax has a right claim
that verifies and a wrong one (a planted mistake) that is rejected.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import sympy as sp

from workbench.errors import ParseError
from workbench.verify.api import check_catalogue_claim, check_claim
from workbench.verify.claim_format import shown_claim, unparse
from workbench.verify.interpret import Scope, build, declare
from workbench.verify.parsing import parse

ROOT = Path(__file__).resolve().parents[2]


def _build(text, shapes, **parse_options):
    return build(parse(text, **parse_options), Scope(declare(shapes)))


# ---------------------------------------------------------------- the language
@pytest.mark.parametrize(
    "text",
    [
        "sum(w[k]**2 for k in 0..n-1)",
        "sum(sum(S[k, l]*w[k]*w[l] for k in 0..n-1) for l in 0..n-1)/sum(w[k]**2 for k in 0..n-1)",
        "-sum(log(sigma[j]**2) - mu[j]**2 for j in 0..d-1)/2",
        "sum(u[i + j]*w[j] for j in 0..K-1)",
        "f'''*h**2/6 + f'''''*h**4/120",
    ],
)
def test_what_show_prints_reads_and_prints_back_the_same(text):
    node = parse(text)
    assert parse(unparse(node)) == node
    assert shown_claim(text, node) == unparse(node)  # printed in the claim language


def test_a_sum_over_an_index_is_the_sum_of_its_terms():
    x = {"x": (4, 1), "S": (4, 4)}
    squares = _build("x.T @ x", x)
    for text in (
        "sum(x[k]**2 for k in 0..n-1)",  # n: the length of what k indexes
        "sum(x[k]**2 for k in 0..3)",
        "sum(x[k]**2 for k in range(n))",  # Python's half-open range
        "sum(x[k]**2 for k in range(0, 4))",
    ):
        assert sp.expand(_build(text, x) - squares) == 0, text
    nested = _build("sum(sum(S[k, l] for k in 0..n-1) for l in 0..n-1)", x)
    assert _build("sum(S[k, l] for l in 0..n-1 for k in 0..n-1)", x) == nested
    assert nested == _build("sum(S)", x)
    # The inner range may depend on the outer index: the entries on and below the diagonal.
    lower = _build("sum(S[k, l] for k in 0..3 for l in 0..k)", x)
    assert lower == sum(sp.Symbol(f"S[{k},{m}]", real=True) for k in range(4) for m in range(k + 1))


def test_a_free_index_makes_the_vector():
    shapes = {"s": (3, 1), "y": (3, 1), "A": (3, 3), "x": (3, 1)}
    assert _build("s[j] - y[j]", shapes) == _build("s - y", shapes)
    assert _build("sum(A[j, k]*x[k] for k in 0..n-1)", shapes) == _build("A @ x", shapes)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("sum(x[k] for k in 1..n)", "positions count from 0"),  # x[n] is past the end
        ("x[-1]", "no negative indices"),
        ("sum(x[k] for k in 0..n-1) + x[m] * x[p] * y[q]", "at most two"),
    ],
)
def test_an_index_out_of_its_range_is_one_clear_error(text, message):
    with pytest.raises(ParseError, match=message):
        _build(text, {"x": (3, 1), "y": (3, 1)})


def test_a_sequence_is_called_only_where_a_result_has_one():
    assert parse("g(k)", sequences={"g"}) == parse("g(k)", sequences=("g",))
    with pytest.raises(ParseError, match="unknown function 'g'"):
        parse("g(k)")
    with pytest.raises(ParseError, match=r"takes one step number, got 2"):
        parse("g(k, 1)", sequences={"g"})


# ---------------------------------------------------------------- open scope
def test_a_claim_in_index_notation_is_judged_by_the_verifier():
    """Right: (A + Aᵀ)x written entry by entry; wrong: A x twice (symmetric A only)."""
    function = "sum(sum(x[k]*A[k, l]*x[l] for k in 0..n-1) for l in 0..n-1)"
    shapes = {"x": 4, "A": "4x4"}
    right = check_claim(
        function, "x", "sum((A[j, k] + A[k, j])*x[k] for k in 0..n-1)", shapes=shapes, isolate=False
    )
    assert right.verdict == "correct", right.error or right.detail
    wrong = check_claim(
        function, "x", "2*sum(A[j, k]*x[k] for k in 0..n-1)", shapes=shapes, isolate=False
    )
    assert wrong.verdict == "incorrect"


def test_a_prime_outside_a_catalogue_result_is_an_error_not_a_variable():
    """x' is a MATLAB transpose habit: never silently a new scalar."""
    report = check_claim("x**2", "x", "2*x'", isolate=False)
    assert report.verdict == "error" and "for the transpose write x.T" in report.error


# ---------------------------------------------------------------- catalogue results
RIGHT_AND_WRONG = [
    # (slug, result, the closed form as printed, a planted mistake)
    (
        "finite-difference-error",
        "1",
        "f'''*h**2/6 + f'''''*h**4/120",
        "f'''*h**2/6 - f'''''*h**4/120",  # a sign
    ),
    (
        "finite-difference-error",
        "1",
        r"\frac{f''' h^2}{6} + \frac{f^{(5)} h^4}{120}",  # the LaTeX of the same
        r"\frac{f''' h^2}{3} + \frac{f^{(5)} h^4}{120}",  # a factor
    ),
    (
        "momentum-as-ewma",
        "vt unrolled",
        "sum(beta**(-k + t)*g(k) for k in 1..t)",
        "sum(beta**(t - k - 1)*g(k) for k in 1..t)",  # an exponent off by one
    ),
    (
        "momentum-as-ewma",
        "1",
        r"\sum_{k=1}^{t} \beta^{t-k} g_k",
        r"\sum_{k=1}^{t} \beta^{k} g_k",  # the discount reversed
    ),
    (
        "adam-bias-correction",
        "mt unrolled",
        "(1 - beta1)*sum(beta1**(-k + t)*g(k) for k in 1..t)",
        "(1 - beta1)*sum(beta1**(-k + t)*g(k) for k in 0..t)",  # a step 0 that is not
    ),
    (
        "gaussian-kl",
        "2",
        "-sum(log(sigma[j]**2) - mu[j]**2 - sigma[j]**2 + 1 for j in 0..d-1)/2",
        "-sum(log(sigma[j]**2) + mu[j]**2 - sigma[j]**2 + 1 for j in 0..d-1)/2",
    ),
    (
        "pca-variance",
        "4",
        "sum(w[k]*sum(S[k, l]*w[l] for l in range(n)) for k in range(n))/(w.T @ w)",
        "sum(w[k]*sum(S[k, l]*w[k] for l in range(n)) for k in range(n))/(w.T @ w)",
    ),
    (
        "convolution-theorem",
        "(T u)i",
        "sum(u[i + j]*w[j] for j in 0..K-1)",  # i: the entry, from 0 as show prints it
        "sum(u[i + j]*w[j] for j in 1..K-1)",  # the first tap dropped
    ),
]


@pytest.mark.slow  # 2 to 10 s each: every size of the result route, twice
@pytest.mark.parametrize(("slug", "result", "right", "wrong"), RIGHT_AND_WRONG)
def test_a_result_in_index_notation_accepts_its_closed_form_and_rejects_a_mistake(
    slug, result, right, wrong
):
    report = check_catalogue_claim(slug, right, result=result, isolate=False, timeout=60)
    assert report.verdict == "correct", report.error or report.detail
    mistaken = check_catalogue_claim(slug, wrong, result=result, isolate=False, timeout=60)
    assert mistaken.verdict == "incorrect", mistaken.error or mistaken.detail


def test_the_expected_line_of_a_sum_is_a_claim():
    """A wrong claim's "expected" is the closed form in the claim language: pasted back,
    it is ✓ (before, SymPy's Sum(..., (k, 1, t)), which the claim language refuses)."""
    wrong = check_catalogue_claim(
        "momentum-as-ewma", "sum(g(k) for k in 1..t)", result="1", isolate=False
    )
    assert wrong.verdict == "incorrect"
    assert wrong.expected == "sum(beta**(-k + t)*g(k) for k in 1..t)"
    again = check_catalogue_claim("momentum-as-ewma", wrong.expected, result="1", isolate=False)
    assert again.verdict == "correct"


def test_a_wrong_inverse_claim_about_the_newton_step_is_rejected():
    """The newton-step route writes H⁻¹ as adjugate/det (it used to wait out any time
    limit): a sign flipped inside is found at the first size."""
    report = check_catalogue_claim(
        "newton-step", "H @ (inv(H) @ g - h)", result="2", isolate=False, timeout=60
    )
    assert report.verdict == "incorrect"
    assert report.expected == "H @ (inv(H) @ g + h)"  # the matrix, as show prints it


@pytest.mark.slow  # a process each, that builds the derivation
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["momentum-as-ewma", "--result", "1", "--claim", "sum(g(k) for k in 1:t)"],
            "expected '..' in the range of k",
        ),
        (
            ["momentum-as-ewma", "--result", "1", "--claim", "sum(g[k] for k in 1..t)"],
            "g is a sequence over time steps: write g(k)",
        ),
        (
            ["finite-difference-error", "--result", "1", "--claim", "f'''(x)*h**2/6"],
            "not a function: write f''' without (...)",
        ),
        (["--function", "x**2", "--wrt", "x", "--claim", "2*x'"], "a prime marks a derivative"),
    ],
)
def test_bad_index_syntax_is_one_line_and_exit_2(args, message):
    done = subprocess.run(
        [sys.executable, "-m", "workbench", "verify", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert message in done.stderr and len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert "Traceback" not in done.stderr
