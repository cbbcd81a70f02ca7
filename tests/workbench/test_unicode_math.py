"""The Unicode mathematics a terminal report prints: the notation of a page, never Python's."""

from __future__ import annotations

import pytest
import sympy as sp
from verify_cases import CASES  # beside this file

from workbench.render.unicode_math import to_unicode
from workbench.verify.api import check_claim
from workbench.verify.report import CLAIM_FORM_NOTE

x, y, d = sp.symbols("x y d")
A = sp.MatrixSymbol("A", 3, 3)
v = sp.MatrixSymbol("v", 3, 1)


@pytest.mark.parametrize(
    ("expr", "text"),
    [
        (3 * x**2 - sp.sqrt(x + 1), "3x² − √(x + 1)"),
        (x * sp.sin(x), "x·sin(x)"),
        (-2 * x * y, "−2x·y"),
        ((x + 1) / (2 * y), "(x + 1)/(2y)"),
        (sp.exp(x) / (sp.exp(x) + 1), "exp(x)/(exp(x) + 1)"),
        (1 - sp.tanh(x) ** 2, "1 − tanh²(x)"),
        (x * sp.sign(x) + sp.Abs(x), "x·sign(x) + |x|"),
        (sp.Rational(1, 3) * x, "x/3"),
        (sp.Symbol("s") - sp.Symbol("y"), "s − y"),  # a positive term first
        (-sp.Rational(1, 2) / x, "−1/(2x)"),
        (2 * A[0, 0] * v[0] + A[0, 1] * v[1], "2A₀,₀·v₀ + A₀,₁·v₁"),
        (sp.pi * sp.sqrt(x), "π·√x"),
        (1 / sp.sqrt(x**2 + 1), "1/√(x² + 1)"),
        (sp.exp(x) / sp.sqrt(d), "exp(x)/√d"),
        (A.T * v, "Aᵀv"),
        (sp.Symbol("X[1,0]") * sp.Symbol("x[2]"), "X₁,₀·x₂"),
    ],
)
def test_expressions_print_as_on_a_page(expr, text):
    assert to_unicode(expr) == text


PYTHON = ("**", "*", "sqrt(", "Abs(", "Heaviside(", "-")  # '-' is ASCII: a page has −


WRONG = [c for c in CASES if c.verdict == "incorrect"]


@pytest.mark.parametrize("case", WRONG, ids=[f"{c.function} | {c.claim}" for c in WRONG])
def test_a_wrong_claims_expected_value_and_diagnosis_are_mathematics_on_a_terminal(case):
    """The "expected" and "diagnosis" rows of every wrong case in the verifier's table
    carry no Python syntax; a scalar's claim-language form is its own row ("as a claim").
    Failed before: "expected 3*x**2", "off by a factor 2*x/Abs(x)"."""
    report = check_claim(
        case.function, case.wrt, case.claim, shapes=case.shapes, layout=case.layout
    )
    shown = {}
    key = None
    for line in report.render(width=200).splitlines()[1:]:
        label, value = line[:14].strip(), line[14:]
        key = label or key
        shown.setdefault(key, []).append(value)
    math = " ".join(shown["expected"])
    assert not any(token in math.replace(CLAIM_FORM_NOTE, "") for token in PYTHON), math
    diagnosis = " ".join(shown.get("diagnosis", []))
    for token in ("**", "sqrt(", "Abs(", "Heaviside("):
        assert token not in diagnosis, diagnosis
    if report.expected_math and "; [" not in report.expected:
        assert shown.get("as a claim") == [report.expected] or report.expected == math
