"""LaTeX input: the corpus read to what each formula means, and what is refused, where.

The corpus (``tests/data/latex_corpus.json``) holds the handouts' own printed formulas and
formulas written as learners write them, each with the plain-language expression it must
mean at the shapes given. Meanings are compared by building both at those shapes and the
bounded equality check, never as strings.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sympy as sp

from workbench.checks.equivalence import check_equal
from workbench.errors import ParseError
from workbench.verify.interpret import Scope, build, declare, is_matrix, shape
from workbench.verify.latex_input import is_latex, parse_latex
from workbench.verify.parsing import Call, Subscript, parse
from workbench.verify.problems import derivative, function_call_wrt, shapes_from

CORPUS = json.loads((Path(__file__).parents[1] / "data" / "latex_corpus.json").read_text())
FORMULAS = CORPUS["formulas"]


def value(node, scope: Scope):
    """The node's value; ``diff(F, x)`` at the top is the derivative, as a steps file's
    first line is."""
    if isinstance(node, Call) and node.function == "diff":
        function, wrt = function_call_wrt(node, "formula", 0)
        return derivative(build(function, scope), scope.lookup(wrt, 0), wrt, None)[0]
    return build(node, scope)


def same(a, b) -> bool:
    if shape(a) != shape(b):
        return False
    pairs = zip(list(a), list(b), strict=True) if is_matrix(a) else [(a, b)]
    return all(check_equal(sp.sympify(x), sp.sympify(y), budget=4.0).equal for x, y in pairs)


def meaning_read(latex: str, means: str, shapes: dict) -> bool:
    scope = Scope(declare(shapes_from(shapes)))
    return same(value(parse_latex(latex), scope), value(parse(means), scope))


def test_the_corpus_is_large_and_mixed():
    sources = [f["source"] for f in FORMULAS]
    assert len(FORMULAS) >= 80
    assert sources.count("handout") >= 30 and sources.count("learner") >= 40


@pytest.mark.parametrize("entry", FORMULAS, ids=[f["latex"][:40] for f in FORMULAS])
def test_every_corpus_formula_reads_to_its_meaning(entry):
    assert meaning_read(entry["latex"], entry["means"], entry["shapes"])


@pytest.mark.parametrize(
    ("latex", "wrong"),
    [
        (r"-\sum_{k=1}^{n} y_k \log s_k", "-sum(y*log(s)) + y[0]"),  # an extra term
        (r"s_i (\delta_{ij} - s_j)", "diag(s) - s @ s.T + eye(3)"),
        (r"x_1 + x_2", "x[1] + x[2]"),  # 1-based, not 0-based
        (r"\sum_{k=0}^{n-1} x_k", "x[1] + x[2]"),  # the whole range, from 0
        (r"\mathbf{x}^\top A \mathbf{x}", "x.T @ A.T @ A @ x"),
        (r"\delta_i h_j", "h @ delta.T"),  # rows by the first index, i
    ],
)
def test_a_planted_wrong_meaning_is_told_apart(latex, wrong):
    """The comparison can fail: each formula against a meaning with a planted mistake."""
    shapes = {"y": "3", "s": "3", "x": "3", "A": "3x3", "delta": "2", "h": "3"}
    scope = Scope(declare(shapes_from(shapes)))
    a, b = value(parse_latex(latex), scope), value(parse(wrong), scope)
    assert not (shape(a) == shape(b) and same(a, b))


def test_a_derivative_at_the_top_is_diff_and_its_free_index_names_the_variable():
    node = parse_latex(r"\frac{\partial L}{\partial z_j}")
    assert isinstance(node, Call) and node.function == "diff"
    assert isinstance(node.args[1], Subscript)
    assert function_call_wrt(node, "x", 0)[1] == "z"
    assert parse_latex(r"\nabla_{\mathbf{w}} L").args[1].name == "w"


def test_is_latex():
    assert is_latex(r"x^\top A x") and is_latex("x_{1}") and is_latex("$x$")
    assert not is_latex("x.T @ A @ x") and not is_latex("x_i + 2x^2")


@pytest.mark.parametrize(
    ("latex", "message", "column"),
    [
        (r"x + \foo", "unknown command '\\\\foo'", 5),
        (r"\frac{a}{", "unclosed '{'", 9),
        (r"x = y", "give one side of an equation", 3),
        (r"\sum_{k=1} x_k", "both limits or neither", 1),
        (r"a + b \cdots", "leaves terms out", 7),
        (r"\frac{\partial^2 f}{\partial x^2}", "higher derivatives", 15),
        (r"(x + 1", "expected ')' to close the '(' at column 1", 7),
        ("{" * 250 + "x" + "}" * 250, "too deep", None),
        ("x+" * 1100 + "x", "too long", None),
    ],
)
def test_what_cannot_be_read_is_one_line_with_the_column(latex, message, column):
    with pytest.raises(ParseError) as caught:
        parse_latex(latex)
    text = str(caught.value)
    assert "\n" not in text
    if column is not None:
        assert caught.value.column == column, text
    assert message.replace("\\\\", "\\") in text or message in text, text


def test_the_offset_moves_every_column():
    with pytest.raises(ParseError) as caught:
        parse_latex(r"x + \foo", offset=10)
    assert caught.value.column == 15


@pytest.mark.parametrize(
    ("latex", "shapes", "message"),
    [
        (r"x_0", {"x": "3"}, "counts from 1"),
        (r"x_4", {"x": "3"}, "out of range"),
        (r"\sum_k q_k", {}, "declared shape"),
        (r"-\sum_{k=1}^{n} y_k \log s_k", {"y": "3"}, "add --shape s=N"),
        (r"x_i y_i", {"x": "3", "y": "4"}, "different lengths"),
        (r"W_{1}", {"W": "2x3"}, "two indices"),
        (r"A x", {"A": "3x3", "x": "2"}, "inner sizes 3 and 2 differ"),
        # an undefined L would make ∂L/∂z_k zero: refused, not judged with
        (r"\sum_k \frac{\partial L}{\partial z_k} z_k", {"z": "3"}, "L is not defined"),
    ],
)
def test_meaning_errors_say_what_is_wrong(latex, shapes, message):
    scope = Scope(declare(shapes_from(shapes)))
    with pytest.raises(ParseError, match=message.replace("(", r"\(")):
        build(parse_latex(latex), scope)


@pytest.mark.parametrize("entry", FORMULAS, ids=lambda e: e["latex"][:40])
def test_the_claim_printed_for_latex_input_reads_back(entry):
    """Printed = checked: what a report prints as the claim it read is LaTeX the reader
    reads back to the same tree (a plain-language claim: claim language it reads back).
    Planted: the index form once printed is caught (next test)."""
    from workbench.verify.claim_format import shown_claim, unparse

    node = parse_latex(entry["latex"])
    printed = shown_claim(entry["latex"], node)
    assert unparse(parse_latex(printed)) == unparse(node)
    plain = parse(entry["means"])
    assert unparse(parse(shown_claim(entry["means"], plain))) == unparse(plain)


def test_verify_prints_a_latex_claim_as_latex_in_text_and_json():
    """The CLI's claim row and ``parsed_claim`` for a LaTeX claim are the LaTeX typed.
    Planted: the old ``sum_{k=1..n}`` index form is caught by the assertion on it."""
    import subprocess
    import sys

    claim = r"\operatorname{softmax}(z)_j \sum_{k=1}^{n} y_k - y_j + 1"
    args = [
        sys.executable, "-m", "workbench", "verify", "--function",
        r"-\sum_{k=1}^{n} y_k \log \operatorname{softmax}(z)_k", "--wrt", "z",
        "--claim", f"${claim}$", "--shape", "z=4", "y=4",
    ]  # fmt: skip
    root = Path(__file__).parents[2]
    text = subprocess.run(args, capture_output=True, text=True, cwd=root, timeout=300)
    assert text.returncode == 1, text.stderr
    assert f"  claim       {claim}\n" in text.stdout
    done = subprocess.run([*args, "--json"], capture_output=True, text=True, cwd=root, timeout=300)
    printed = json.loads(done.stdout)["parsed_claim"]
    assert printed == claim and "sum_{k=1.." not in printed
    assert "sum_{k=1..n}" not in text.stdout
    # What was printed before: claimed to be the claim language, which refuses it.
    with pytest.raises(ParseError):
        parse("softmax(z)_j*sum_{k=1..n}(y_k) - y_j + 1")
