"""Coverage: every result of every derivation meets SymPy's diff or a route that reads it.

* a derivation has a numeric case, or its statement says why none applies;
* every derived result that is a derivative is compared with ``sympy.diff`` of its
  definition (through a case, or at concrete sizes of its own);
* every other result is an identity compared with SymPy's evaluation of its definition,
  or is read by one of the derivation's own numeric or symbolic routes: replacing its
  derived expression by 3/2 of it makes a check other than ``steps`` and ``closed form``
  fail (the slow sweep does every such result; the default run a sample of them).
"""

from __future__ import annotations

import ast
import dataclasses
import importlib
from pathlib import Path

import pytest
import sympy as sp

from workbench.checks import sympy_diff
from workbench.checks.runner import applicable_checks, check_derivation
from workbench.core import registry
from workbench.core.derivation import Chain

ROOT = Path(__file__).resolve().parents[1]
NO_CASE = "No numeric case:"


def _module_doc(slug: str) -> str:
    path = ROOT / "derivations" / f"{slug.replace('-', '_')}.py"
    return ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""


@pytest.mark.parametrize("slug", registry.slugs())
def test_a_numeric_case_or_a_stated_reason(slug):
    derivation = registry.get(slug)
    doc = _module_doc(slug)
    if derivation.cases:
        assert NO_CASE not in doc, f"{slug} has a case but says it has none"
    else:
        assert NO_CASE in doc, f"{slug}: no numeric case and no '{NO_CASE} …' in its statement"
        reason = doc.split(NO_CASE, 1)[1].strip()
        assert len(reason) > 40, f"{slug}: say why, and which check reads the results instead"
        # The other way is in the report: some check besides the steps reads the results.
        assert set(applicable_checks(derivation)) - {"steps", "closed form"}


@pytest.mark.parametrize("slug", registry.slugs())
def test_every_derivative_is_compared_with_sympy_diff(slug):
    derivation = registry.get(slug)
    routes = sympy_diff.result_routes(derivation)
    for result in derivation.results:
        if result.goal.has(sp.Derivative):
            assert routes.get(result.label) in {"case", "diff"}, result.label
    if set(routes.values()) - {"case"} or derivation.cases:
        assert "sympy diff" in applicable_checks(derivation)


def test_the_sympy_diff_report_names_every_result_it_reads():
    """The items of the check say which results they compared: the printed ✓ is earned."""
    derivation = registry.get("layernorm-backward")
    report = check_derivation(derivation, only=("sympy diff",))
    check = report.check("sympy diff")
    assert check.passed
    named = " ".join(item["what"] for item in check.items)
    for label in ("∂μ/∂xⱼ", "∂σ²/∂xⱼ", "∂x̂ᵢ/∂xⱼ"):
        assert f"{label}: derived result against SymPy's diff" in named


WRONG_BY = sp.Rational(3, 2)


def with_wrong_result(slug: str, label: str, factor: sp.Basic = WRONG_BY):
    """The derivation built again with the result ``label`` derived wrong (times
    ``factor``): every route the module builds sees the wrong derived expression, as if
    the chain had derived it. ``Chain.result`` is patched only during the build."""
    original = Chain.result

    def wrong(self, name, *args, **kwargs):
        result = original(self, name, *args, **kwargs)
        if name != label:
            return result
        last = dataclasses.replace(result.steps[-1], after=factor * result.steps[-1].after)
        return dataclasses.replace(result, steps=(*result.steps[:-1], last))

    Chain.result = wrong
    try:
        return importlib.import_module(registry.module_name(slug)).build()
    finally:
        Chain.result = original


def _read_by_own_routes():
    """(slug, label) of every result that only the derivation's own routes read."""
    for slug in registry.slugs():
        derivation = registry.get(slug)
        routes = sympy_diff.result_routes(derivation)
        for result in derivation.results:
            if result.label not in routes:
                yield slug, result.label


# One per kind of route, in the default run: a recurrence, a solve, an expectation.
SAMPLE = {
    ("momentum-as-ewma", "fixed point v*"),
    ("bernoulli-entropy", "stationary point p*"),
    ("adam-bias-correction", "E[v̂ₜ]"),
    ("finite-difference-error", "smallest error E(h*)"),
}


def _sweep():
    for slug, label in _read_by_own_routes():
        marks = [] if (slug, label) in SAMPLE else [pytest.mark.slow]
        yield pytest.param(slug, label, id=f"{slug}:{label}", marks=marks)


@pytest.mark.parametrize(("slug", "label"), list(_sweep()))
def test_a_wrong_result_fails_a_check_that_reads_it(slug, label):
    broken = with_wrong_result(slug, label)
    names = tuple(n for n in applicable_checks(broken) if n not in ("steps", "closed form"))
    report = check_derivation(broken, only=names)
    failed = [c.name for c in report.checks if not c.passed]
    assert failed, f"{slug}: {label} derived wrong, and only the steps check could notice"


def test_the_sample_is_read_by_own_routes():
    """The default sample stays meaningful: each is a result only the module's routes read."""
    assert set(_read_by_own_routes()) >= SAMPLE
