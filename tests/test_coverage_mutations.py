"""Planted mistakes that only the new coverage checks catch, each applied in-process and
undone afterwards. Every one of these passed every check that ran before the coverage
work (the derived result was read only by the steps check, or not at all):

* a wrong derived derivative in a derivation that had no numeric case: ``sympy diff``
  did not run there;
* perplexity derived as exp(2H), with the closed form typed to match: the closed-form
  check agrees, only SymPy's evaluation of the definition reads the derived exp(2H);
* tanh′ off by 1e-9 relative in the generated NumPy code: the complex step sees it.
"""

from __future__ import annotations

import dataclasses
import importlib

import pytest
import sympy as sp

from tests.test_coverage import with_wrong_result
from workbench.checks import runner as checks
from workbench.checks.runner import check_derivation
from workbench.core import registry
from workbench.core.derivation import Chain


@pytest.mark.parametrize(
    ("slug", "label"),
    [
        ("bernoulli-entropy", "H″(p)"),  # no case before; now a scalar one
        ("gaussian-mle", "∂ℓ/∂σ²"),  # still no case: read at N = 2, 3, 5
        ("max-entropy-softmax", "∂ℒ/∂pⱼ"),
        ("attention-gradient", "∂L/∂S"),  # an intermediate no case instantiates
        ("matrix-calculus-identities", "∂log det X/∂X_pq"),
    ],
)
def test_a_wrong_derivative_fails_sympy_diff(slug, label):
    """Failed before this fix: no check but the steps compared these with SymPy's diff."""
    broken = with_wrong_result(slug, label)
    report = check_derivation(broken, only=("sympy diff",))
    check = report.check("sympy diff")
    assert not check.passed
    failed = [item["what"] for item in check.items if not item["passed"]]
    # The result's own comparison fails (later results that use it may fail too).
    assert any(what.startswith(f"{label}: derived result against SymPy's diff") for what in failed)


def test_the_unbroken_derivatives_pass():
    """The same check on the same results, unbroken, passes: the failures above are the
    planted mistakes, not the check."""
    report = check_derivation(registry.get("gaussian-mle"), only=("sympy diff",))
    assert report.check("sympy diff").passed


def _perplexity_exp_2h():
    """Perplexity 'derived' as exp(2H), closed form typed as exp(2H) too."""
    from derivations import perplexity

    original = Chain.result

    def doubled(self, name, closed_form, *args, **kwargs):
        result = original(self, name, closed_form, *args, **kwargs)
        if name != "perplexity = exp(H)":
            return result
        last = dataclasses.replace(result.steps[-1], after=sp.exp(2 * perplexity.H))
        return dataclasses.replace(
            result, steps=(*result.steps[:-1], last), closed_form=sp.exp(2 * perplexity.H)
        )

    Chain.result = doubled
    try:
        return importlib.import_module("derivations.perplexity").build()
    finally:
        Chain.result = original


def test_perplexity_exp_2h_is_caught_by_a_check_other_than_the_steps():
    """Failed before this fix: 'closed form', 'independent symbolic' and 'numeric' all
    passed exp(2H); only the steps check noticed."""
    broken = _perplexity_exp_2h()
    assert broken.results[0].derived == sp.exp(2 * sp.Symbol("H"))
    report = check_derivation(broken, only=("closed form", "sympy diff"))
    assert report.check("closed form").passed  # the typed closed form agrees with it
    sympy_diff = report.check("sympy diff")
    assert not sympy_diff.passed
    assert "perplexity = exp(H): derived result against SymPy's evaluation" in sympy_diff.detail


@pytest.fixture
def tanh_prime_off_by_1e9(monkeypatch):
    """The generated NumPy code of the tanh′ case returns tanh′ 1e-9 relative too large
    (the compiled gradient is wrapped; the forward stays exact). Undone after the test."""
    compiled = checks.case_functions

    def off(case):
        args, forward, gradient = compiled(case)
        if not case.name.startswith("tanh"):
            return args, forward, gradient

        def wrong(*xs):
            return tuple(g * (1 + 1e-9) for g in gradient(*xs))

        wrong.source = gradient.source  # the report carries the text of the code it ran
        return args, forward, wrong

    monkeypatch.setattr(checks, "case_functions", off)


def test_a_1e9_error_in_generated_tanh_prime_fails_the_complex_step(tanh_prime_off_by_1e9):
    """The complex step (tolerance 1e-12) rejects it; finite differences (1e-7) cannot
    resolve 1e-9 and do not. Before this fix no test planted it, so nothing showed the
    complex step could fail."""
    report = check_derivation(
        registry.get("sigmoid-derivative"), only=("complex step", "finite differences")
    )
    complex_step = report.check("complex step")
    assert not complex_step.passed
    failed = {item["what"] for item in complex_step.items if not item["passed"]}
    assert failed == {"[tanh, entry by entry]"}  # the sigmoid case is untouched
    assert report.check("finite differences").passed


def test_the_exact_tanh_prime_passes_the_complex_step():
    report = check_derivation(registry.get("sigmoid-derivative"), only=("complex step",))
    assert report.check("complex step").passed


def _tanh_prime_off_by(monkeypatch, relative: float) -> None:
    compiled = checks.case_functions

    def off(case):
        args, forward, gradient = compiled(case)
        if not case.name.startswith("tanh"):
            return args, forward, gradient

        def wrong(*xs):
            return tuple(g * (1 + relative) for g in gradient(*xs))

        wrong.source = gradient.source
        return args, forward, wrong

    monkeypatch.setattr(checks, "case_functions", off)


@pytest.mark.parametrize(
    ("relative", "check", "loosened"),
    [
        (5e-7, "finite differences", "1e-6"),  # the tolerance is 1e-7
        (1e-10, "complex step", "1e-9"),  # the tolerance is 1e-12
    ],
)
def test_each_numeric_tolerance_is_tight_enough_to_fail(monkeypatch, relative, check, loosened):
    """An error between each tolerance and the loosened value the review tried (FD 1e-6,
    complex step 1e-9) fails its check: loosening either turns this test red."""
    _tanh_prime_off_by(monkeypatch, relative)
    report = check_derivation(registry.get("sigmoid-derivative"), only=(check,))
    outcome = report.check(check)
    assert not outcome.passed, f"{relative:g} passed {check}: is its tolerance {loosened}?"
    failed = {item["what"] for item in outcome.items if not item["passed"]}
    assert failed == {"[tanh, entry by entry]"}
