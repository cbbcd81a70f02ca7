"""The verifier names the mistake, in the words of the mathematics. Each diagnosis
below was "none of the usual mistakes" or a wrong name before: a flipped sign in one
term was a "missing term 2*(…)", a left-out 1/√d or 1/N in a vector claim was not
recognised at all."""

from __future__ import annotations

import pytest

from workbench.verify.api import check_claim

CASES = [
    # (function, wrt, claim, shapes, words the diagnosis must contain)
    (
        "x**2*sin(x)",
        "x",
        "2*x*sin(x) - x**2*cos(x)",
        {},
        ["a sign inside one term", "−x²·cos(x) has the wrong sign", "has x²·cos(x)"],
    ),
    ("sin(x**2)", "x", "cos(x**2)", {}, ["factor 2x", "inner derivative of a chain"]),
    ("sum(exp(z))/sqrt(d)", "z", "exp(z)", {"z": "3"}, ["constant factor left out", "1/√d"]),
    ("sum(z*z)/N", "z", "2*z", {"z": "3"}, ["constant factor left out", "1/N"]),
    ("beta*x.T @ x", "x", "2*x", {"x": "3"}, ["constant factor left out", "times beta"]),
    ("x**2*sin(x)", "x", "2*x*sin(x)", {}, ["missing term", "x²·cos(x)"]),
    ("sum(A @ x)", "x", "A @ ones(3)", {"x": "3", "A": "3x3"}, ["transpose", "A.T in place of A"]),
]


@pytest.mark.parametrize(("function", "wrt", "claim", "shapes", "words"), CASES)
def test_the_mistake_is_named(function, wrt, claim, shapes, words):
    report = check_claim(function, wrt, claim, shapes=shapes)
    assert report.verdict == "incorrect"
    for phrase in words:
        assert phrase in report.diagnosis, report.diagnosis


def test_a_factor_that_depends_on_the_variable_is_not_called_constant():
    report = check_claim("exp(x**2)", "x", "exp(x**2)")
    assert "constant" not in report.diagnosis and "factor 2x" in report.diagnosis
