"""Every registered derivation passes every check. One test, parametrised over the registry.

The full check of every key result runs by default (two-layer backprop and attention
take about 20 s each); the Tier 2 results whose full check takes over 5 s here run in
CI's slow run, so the default run stays near five minutes. Their planted mistakes run by
default all the same (tests/test_mutations.py, tests/test_coverage_mutations.py).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from workbench.checks.runner import applicable_checks
from workbench.core import registry

# Measured on this machine: 6–12 s each for their full check (the transformer block ~30 s).
SLOW_TIER_TWO = {
    "mutual-information",
    "least-squares",
    "layernorm-backward",
    "convolution-theorem",
    "pca-variance",
    "logistic-regression-gradient",
    "transformer-block-backward",
}


@pytest.mark.parametrize(
    "slug",
    [
        pytest.param(s, marks=[pytest.mark.slow] if s in SLOW_TIER_TWO else [])
        for s in registry.slugs()
    ],
)
def test_every_check_passes(slug):
    derivation = registry.get(slug)
    report = derivation.check()
    assert {c.name for c in report.checks} == set(applicable_checks(derivation))
    failures = [f"{c.name}: {c.detail}" for c in report.checks if not c.passed]
    assert not failures, failures
    # A derivation with a gradient has all three independent checks.
    if derivation.cases:
        assert {"steps", "sympy diff", "finite differences", "complex step"} <= {
            c.name for c in report.checks
        }
        for case in derivation.cases:
            # A scalar case (inputs 1×1, no size symbols) has one concrete setting only.
            scalar = case.sizes == ({},)
            assert scalar or len(case.sizes) >= 3, f"{case.name}: SymPy's diff at < 3 sizes"


@pytest.mark.parametrize("slug", registry.slugs())
def test_every_step_names_a_rule_and_says_why(slug):
    from workbench.core.rules import VOCABULARY

    derivation = registry.get(slug)
    assert derivation.steps
    for step in derivation.steps:
        assert step.rule and step.note.strip()
        assert step.after != step.before
    assert {s.rule for s in derivation.steps} <= _known_rules(VOCABULARY)


def _known_rules(vocabulary) -> set[str]:
    names = {rule.name for rule in vocabulary}
    # Rules contributed by other modules register themselves in VOCABULARY too; collect
    # any extra rule modules so the test does not depend on import order.
    for module in (
        "workbench.core.rules_extra",
        "workbench.core.rules_stats",
        "workbench.core.rules_compose",
    ):
        try:
            extra = __import__(module, fromlist=["VOCABULARY"])
        except ModuleNotFoundError:
            continue
        names |= {rule.name for rule in getattr(extra, "VOCABULARY", ())}
    return names


def test_every_module_is_in_the_catalogue_and_titled():
    from derivations import CATALOGUE

    folder = Path(__file__).resolve().parents[1] / "derivations"
    modules = {p.stem for p in folder.glob("*.py") if p.stem != "__init__"}
    assert modules <= {s.replace("-", "_") for s in CATALOGUE}
    for stem in modules:
        doc = ast.get_docstring(ast.parse((folder / f"{stem}.py").read_text(encoding="utf-8")))
        assert doc and ":" in doc.splitlines()[0], f"{stem}: first docstring line 'Title: result'"


def test_tier_one_is_complete():
    assert registry.slugs()[:5] == (
        "softmax-jacobian",
        "cross-entropy-gradient",
        "nll-equals-cross-entropy",
        "two-layer-backprop",
        "attention-gradient",
    )
