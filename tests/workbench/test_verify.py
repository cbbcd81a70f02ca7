"""The verifier's Python API: verdicts, diagnoses, steps files, catalogue claims, reports."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from verify_cases import CASES, Case  # beside this file; pytest puts its folder on sys.path

from workbench.verify.api import check_catalogue_claim, check_claim, check_steps
from workbench.verify.report import VerifyReport

STEPS = Path(__file__).parents[1] / "data" / "steps"


# ---------------------------------------------------------------- the case table
def test_the_table_is_large_and_balanced():
    assert len(CASES) >= 40
    verdicts = [c.verdict for c in CASES]
    assert verdicts.count("correct") >= 20 and verdicts.count("incorrect") >= 20


@pytest.mark.parametrize("case", CASES, ids=[f"{c.function} | {c.claim}" for c in CASES])
def test_case_table(case):
    report = check_claim(
        case.function, case.wrt, case.claim, shapes=case.shapes, layout=case.layout
    )
    assert report.verdict == case.verdict, (report.diagnosis, report.error, report.detail)
    if case.verdict == "incorrect":
        assert report.counterexample is not None
        assert report.diagnosis
        if case.keyword:
            assert case.keyword in report.diagnosis, report.diagnosis


def test_a_deliberately_wrong_claim_is_caught_with_a_counterexample():
    report = check_claim("x**3", "x", "3*x")
    assert report.verdict == "incorrect" and report.exit_status == 1
    point = report.counterexample["point"]["x"]
    assert report.counterexample["true"] == pytest.approx(3 * point**2)
    assert report.counterexample["claimed"] == pytest.approx(3 * point)


# ---------------------------------------------------------------- the decision
def test_symbolic_and_numeric_methods_are_reported():
    assert check_claim("log(1 + exp(x))", "x", "sigmoid(x)").method == "symbolic"
    # |x| and x agree wherever log x is real, but no tier proves 1/|x| = 1/x.
    assert check_claim("log(x)", "x", "1/abs(x)").method == "numeric"


def test_points_are_drawn_where_the_function_is_real():
    report = check_claim("x**x", "x", "x**x*log(x)")
    assert report.verdict == "incorrect"
    assert report.counterexample["point"]["x"] > 0

    report = check_claim("log(det(X))", "X", "inv(X)", shapes={"X": "3x3"})
    point = report.counterexample["point"]["X"]
    import numpy as np

    assert np.linalg.det(np.array(point)) > 0


def test_wrong_shape_names_both_shapes():
    report = check_claim("a.T @ x", "x", "a.T", shapes={"a": 3, "x": 3})
    assert report.verdict == "incorrect"
    assert "1×3" in report.diagnosis and "3×1" in report.diagnosis
    assert "transpose" in report.diagnosis


def test_finite_differences_confirm_a_correct_claim():
    report = check_claim("x.T @ A @ x", "x", "(A + A.T) @ x", shapes={"x": 3, "A": "3x3"})
    assert report.confirmation["passed"] and report.confirmation["max_rel_error"] < 1e-7


def test_vector_function_layouts():
    shapes = {"A": "2x3", "x": 3}
    assert check_claim("A @ x", "x", "A", shapes=shapes).verdict == "correct"
    assert check_claim("A @ x", "x", "A.T", shapes=shapes, layout="gradient").verdict == "correct"
    wrong = check_claim("A @ x", "x", "A.T", shapes=shapes)
    assert "3×2" in wrong.diagnosis and "2×3" in wrong.diagnosis


# ---------------------------------------------------------------- steps files
@pytest.mark.parametrize(
    ("name", "shapes", "verdict", "line", "keyword"),
    [
        ("softplus_valid.txt", None, "correct", None, None),
        ("sigmoid_derivative_valid.txt", None, "correct", None, None),
        ("quadratic_form_valid.txt", {"x": 3, "A": "3x3"}, "correct", None, None),
        ("quadratic_form_broken_line4.txt", {"x": 3, "A": "3x3"}, "incorrect", 4, "symmetric"),
        ("softmax_jacobian_broken_line3.txt", {"z": 3}, "incorrect", 3, "missing term"),
        ("expansion_broken_line3.txt", None, "incorrect", 3, "missing term"),
        ("cross_entropy_broken_line3.txt", {"z": 3, "y": 3}, "incorrect", 3, "assumption"),
    ],
)
def test_steps_files(name, shapes, verdict, line, keyword):
    report = check_steps(STEPS / name, shapes=shapes)
    assert report.verdict == verdict, (report.diagnosis, report.error)
    assert report.first_invalid_line == line
    document = report.to_dict()
    assert "first_invalid_line" in document and document["first_invalid_line"] == line
    if keyword:
        assert keyword in report.diagnosis
        assert report.counterexample is not None
        invalid = [s for s in report.steps if not s["valid"]]
        assert invalid[0]["line"] == line


def test_steps_from_text_and_notes():
    text = "diff(x**3, x)   # power rule\n= 3 x^2\n"
    assert check_steps(text).verdict == "correct"


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("missing_equals.txt", "line 2: every line after the first starts with '='"),
        ("syntax_error_line2.txt", "line 2: unexpected ')' (column 9)"),
    ],
)
def test_malformed_steps_files(name, message):
    report = check_steps(STEPS / name)
    assert report.verdict == "error" and report.exit_status == 2
    assert message in report.error


# ---------------------------------------------------------------- catalogue claims
def test_catalogue_claims_in_their_own_symbols():
    assert check_catalogue_claim("softmax-jacobian", "diag(s) - s @ s.T").verdict == "correct"
    wrong = check_catalogue_claim("softmax-jacobian", "diag(s)")
    assert wrong.verdict == "incorrect" and "missing term" in wrong.diagnosis
    # Σy = 1 is part of the cross-entropy result, so s − y is right there.
    assert check_catalogue_claim("cross-entropy-gradient", "s - y", wrt="z").verdict == "correct"
    assert "sign" in check_catalogue_claim("cross-entropy-gradient", "y - s").diagnosis


def test_catalogue_errors_name_the_problem():
    assert "unknown derivation" in check_catalogue_claim("no-such-result", "x").error
    assert "unknown name 'q'" in check_catalogue_claim("softmax-jacobian", "q").error
    assert "choose from" in check_catalogue_claim("softmax-jacobian", "s", wrt="w").error


# ---------------------------------------------------------------- the report
def test_report_is_frozen_json_and_displays():
    report = check_claim("softmax(z)", "z", "diag(softmax(z))", shapes={"z": 3})
    assert isinstance(report, VerifyReport)
    with pytest.raises(AttributeError):
        report.verdict = "correct"  # frozen
    document = json.loads(json.dumps(report.to_dict()))
    for key in ("verdict", "method", "parsed_claim", "expected", "counterexample", "diagnosis"):
        assert key in document
    assert set(document["counterexample"]) >= {"point", "claimed", "true"}
    assert r"\operatorname{diag}" in report._repr_latex_()
    html = report._repr_html_()
    assert "incorrect" in html and "missing term" in html and "point" in html
    assert "diag(softmax(z))" in report.render()


def test_hard_time_limit_gives_an_undecided_verdict():
    """Out of time is "undecided", exit status 3, and the message names --timeout (it was
    an "error", exit 2, the same as input that could not be read)."""
    # An 8×8 symbolic inverse takes far longer than a second; the child is killed.
    report = check_claim("det(X)", "X", "det(X) * inv(X).T", shapes={"X": "8x8"}, timeout=1)
    assert report.verdict == "undecided" and report.exit_status == 3
    assert "no verdict within 1 s" in report.detail and "--timeout" in report.detail
    assert report.render().startswith("? undecided: no verdict within 1 s")
    assert report.seconds < 3


def test_the_child_runs_under_a_memory_limit():
    import resource

    from workbench.checks.timebox import run_in_child
    from workbench.verify.api import _limit_memory

    def limit_in_child() -> int:
        _limit_memory()
        return resource.getrlimit(resource.RLIMIT_AS)[0]

    before = resource.getrlimit(resource.RLIMIT_AS)
    assert run_in_child(limit_in_child, 10) != resource.RLIM_INFINITY
    assert resource.getrlimit(resource.RLIMIT_AS) == before  # the caller is untouched


def test_catalogue_claims_with_definitions_and_cases():
    # p̂ = Yᵀ1/N is a defined name of nll-equals-cross-entropy.
    assert check_catalogue_claim("nll-equals-cross-entropy", "s - phat").verdict == "correct"


@pytest.mark.slow
def test_catalogue_claim_for_a_two_layer_network():
    claim = "((W2.T @ (s - y)) * step(a)) @ x.T"
    report = check_catalogue_claim("two-layer-backprop", claim, wrt="W1", case="relu")
    assert report.verdict == "correct", (report.diagnosis, report.error)
    wrong = check_catalogue_claim("two-layer-backprop", "h @ (s - y).T", wrt="W2")
    assert "transposed" in wrong.diagnosis


def test_catalogue_claim_in_a_case_that_substitutes_a_matrix():
    # The unmasked attention case replaces the mask M by all ones; a right claim about it
    # must not be judged against a free M.
    from workbench.verify.api import check_catalogue_claim

    assert check_catalogue_claim("attention-gradient", "P.T @ G", wrt="V").verdict == "correct"
    assert check_catalogue_claim("attention-gradient", "P @ G", wrt="V").verdict == "incorrect"


def test_the_verifiers_expected_latex_is_the_handouts_printer_and_reads_back():
    """Failed before: the catalogue verifier printed its "expected" with sp.latex, which
    drops the grouping of (GVᵀ ⊙ P)𝟏 under a minus sign, so the notebook showed a formula
    other than the one checked."""
    from workbench.core import registry
    from workbench.render.latex import expr_to_latex, printed_names
    from workbench.verify.api import check_catalogue_claim
    from workbench.verify.latex_reader import read_back

    result = registry.get("attention-gradient").result("∂L/∂Q")
    report = check_catalogue_claim("attention-gradient", "G @ K", wrt="Q", timeout=120)
    assert report.verdict == "incorrect"
    assert report.expected_latex == expr_to_latex(result.closed_form)
    _, verdict = read_back(
        report.expected_latex, result.closed_form, printed_names(result.closed_form)
    )
    assert verdict.equal is True


def test_json_carries_the_latex_beside_the_text():
    """Scripts and notebooks get the claim and the expected value as LaTeX too."""
    report = check_claim("x**2*sin(x)", "x", "2*x*sin(x)")
    document = json.loads(report.to_json())
    assert document["expected"] == "x**2*cos(x) + 2*x*sin(x)"
    assert document["latex"]["claim"] == report.claim_latex and "\\sin" in report.claim_latex
    assert "\\cos" in document["latex"]["expected"]


def _table(report) -> list[list[str]]:
    """The counterexample table of a text report: its rows after the header, split."""
    lines = report.render().splitlines()
    start = next(k for k, line in enumerate(lines) if line.split()[-2:] == ["claimed", "true"])
    rows = []
    for line in lines[start + 1 :]:
        if line.startswith("  how") or line.startswith("  … "):
            break
        rows.append(line.split())
    return rows


def test_a_counterexample_shows_enough_digits_to_see_the_difference():
    """2.0000001x against 2x printed "claimed 0.0618557 / true 0.0618557" at 6 digits,
    two equal-looking numbers; the digits grow until they differ."""
    (row,) = _table(check_claim("x**2", "x", "2.0000001*x"))
    claimed, true, mark = row
    assert claimed != true and mark == "≠"
    (plain,) = _table(check_claim("x**2", "x", "2*x + 1"))
    assert plain[0] == "1.06186"  # a plain difference keeps 6 digits


def test_a_counterexample_is_a_table_of_entries_that_marks_the_ones_that_differ():
    """A wrong vector gradient prints entry, claimed, true per line, ≠ where they differ
    (before: two bracketed lists to compare by eye). Only the entry that is wrong is
    marked: the claim below is right in entry 0 and wrong in entry 1."""
    report = check_claim("x[0]**2 + x[1]**3", "x", "2*x", shapes={"x": 2})
    rows = _table(report)
    assert [r[0] for r in rows] == ["[0]", "[1]"]
    assert len(rows[0]) == 3 and rows[1][-1] == "≠"  # entry 0 agrees: no mark
    assert rows[0][1] == rows[0][2]


def _typed_back(text: str, scope):
    """Each expression of a printed "expected" value (a matrix: one per entry), built."""
    import re

    from workbench.verify.interpret import build
    from workbench.verify.parsing import parse

    entries = re.split(r"; (?=\[\d+(?:,\d+)?\]: )", text)
    if len(entries) == 1:
        return [build(parse(text), scope)]
    return [build(parse(entry.split("]: ", 1)[1]), scope) for entry in entries]


WRONG = [c for c in CASES if c.verdict == "incorrect"]


@pytest.mark.parametrize("case", WRONG, ids=[f"{c.function} | {c.claim}" for c in WRONG])
def test_the_expected_line_of_a_function_claim_types_back_to_the_derivative(case):
    """Printed = checked: what verify prints as "expected" is claim language and equals the
    derivative it checked against, entry by entry. Failed before: it was SymPy's text
    (``Abs(x)``, ``Heaviside(x)``, ``Max(0, x)``, a matrix as ``[[...], [...]]``), which the
    claim parser rejects."""
    from workbench.checks.equivalence import check_equal
    from workbench.verify.interpret import Scope, declare
    from workbench.verify.parsing import parse
    from workbench.verify.problems import derivative, shapes_from

    report = check_claim(
        case.function, case.wrt, case.claim, shapes=case.shapes, layout=case.layout
    )
    assert report.verdict == "incorrect"
    scope = Scope(declare(shapes_from(case.shapes)))
    from workbench.verify.interpret import build

    truth, _ = derivative(
        build(parse(case.function), scope), scope.lookup(case.wrt, 0), case.wrt, case.layout
    )
    entries = list(truth) if hasattr(truth, "shape") else [truth]
    typed = _typed_back(report.expected, scope)
    assert len(typed) == len(entries)
    for value, entry in zip(typed, entries, strict=True):
        assert check_equal(value, entry, budget=10).equal is True, (report.expected, entry)


MATRIX_CASES = [c for c in CASES if any(str(v) not in ("1", "1x1") for v in c.shapes.values())] + [
    # entrywise products of matrices, and a sum without an index
    Case(
        "sum((W @ x) * tanh(W @ x))",
        "x",
        "W.T @ ((W @ x) * tanh(W @ x))",
        {"W": "3x3", "x": 3},
        "incorrect",
    ),
    Case("sum(a * x * x)", "x", "2*a * x + sum(x) * a", {"a": 3, "x": 3}, "incorrect"),
    # a ⊙ product inside a matrix product: ((W.T @ y) * x) @ y.T, not (W.T @ y) * (x @ y.T)
    Case("sum(W @ x)", "x", "((W.T @ y) * x) @ y.T", {"W": "3x3", "x": 3, "y": 3}, "incorrect"),
]


@pytest.mark.parametrize(
    "case", MATRIX_CASES, ids=[f"{c.function} | {c.claim}" for c in MATRIX_CASES]
)
def test_the_claims_latex_reads_back_as_the_claim(case):
    """Printed = checked for the LaTeX a notebook shows of a plain claim: read back by the
    LaTeX reader, it builds to the claim. Failed before: an entrywise product of matrices
    printed as ``\\cdot``, which reads as the matrix product."""
    from workbench.checks.equivalence import check_equal
    from workbench.verify.interpret import Scope, build, declare
    from workbench.verify.latex_input import parse_latex
    from workbench.verify.parsing import parse
    from workbench.verify.problems import shapes_from

    report = check_claim(case.function, case.wrt, case.claim, shapes=case.shapes)
    scope = Scope(declare(shapes_from(case.shapes)))
    claimed = build(parse(case.claim), scope)
    again = build(parse_latex(report.claim_latex), scope)
    assert getattr(again, "shape", None) == getattr(claimed, "shape", None)
    assert check_equal(again, claimed, budget=10).equal is True, report.claim_latex


def test_an_entrywise_product_of_matrices_prints_as_odot():
    report = check_claim(
        "sum((W @ x) * tanh(W @ x))",
        "x",
        "W.T @ ((W @ x) * tanh(W @ x))",
        shapes={"W": "3x3", "x": 3},
    )
    assert r"\odot" in report.claim_latex and r"\cdot" not in report.claim_latex
