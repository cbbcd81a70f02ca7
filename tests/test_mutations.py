"""Planted mistakes: each one must turn the check that is there to catch it red.

Every test applies one mutation in-process (a derivation module's source edited and
executed as a fresh module, or a helper of the index algebra patched with monkeypatch,
which restores it afterwards), first shows the same check passing without it, and then
asserts that the check fails. Before the facts check and the independent step route
existed, each of the first four mutations passed every check.
"""

from __future__ import annotations

import types
from pathlib import Path

import pytest
import sympy as sp

from workbench.checks.runner import check_derivation
from workbench.core import algebra
from workbench.core.derivation import Derivation

ROOT = Path(__file__).resolve().parent.parent


def build_mutant(module: str, edits: list[tuple[str, str]]) -> Derivation:
    """The derivation ``derivations/<module>.py`` builds with each (old, new) edit made
    to its source; each ``old`` must occur exactly once."""
    path = ROOT / "derivations" / f"{module}.py"
    source = path.read_text()
    for old, new in edits:
        assert source.count(old) == 1, f"the mutation no longer applies: {old!r}"
        source = source.replace(old, new)
    mutant = types.ModuleType(f"mutant_{module}")
    mutant.__file__ = str(path)
    exec(compile(source, str(path), "exec"), mutant.__dict__)  # our own source, edited
    return mutant.build()


def build_clean(module: str) -> Derivation:
    return build_mutant(module, [])


def failed_items(report, check: str) -> list[dict]:
    return [item for item in report.check(check).items if not item["passed"]]


# ---------------------------------------------------------------- facts
TRANSPOSED_ADJUGATE = [
    ("    D * sp.Inverse(S)[q, p],\n", "    D * sp.Inverse(S)[p, q],\n"),
    ("sp.Transpose(sp.Inverse(S)), (p, q), S,", "sp.Inverse(S), (p, q), S,"),
]


def test_transposed_adjugate_fact_fails_the_facts_check():
    """The adjugate fact transposed together with its closed form derives ∂log det X/∂X =
    X⁻¹: the steps and the closed form still agree, the facts check does not."""
    assert check_derivation(build_clean("matrix_calculus_identities"), only=("facts",)).passed
    report = check_derivation(
        build_mutant("matrix_calculus_identities", TRANSPOSED_ADJUGATE),
        only=("closed form", "facts"),
    )
    assert report.check("closed form").passed  # the mutation is self-consistent
    assert not report.check("facts").passed
    (item,) = failed_items(report, "facts")
    assert item["result"] == "∂log det X/∂X_pq" and "adjugate" in item["what"]


DOUBLE_STEP = [
    ("EvaluateAt(((h, BEST_STEP),)", "EvaluateAt(((h, 2 * BEST_STEP),)"),
    (
        """                sp.Rational(3, 2)
                * (eps * size) ** sp.Rational(2, 3)
                * (curvature / 3) ** sp.Rational(1, 3),""",
        "                DEFINITIONS[total].subs(h, 2 * BEST_STEP),",
    ),
]


def test_error_at_twice_the_best_step_fails_the_facts_check():
    """E evaluated at 2h* with a matching closed form: 2h* is not where ∂E/∂h = 0."""
    assert check_derivation(build_clean("finite_difference_error"), only=("facts",)).passed
    report = check_derivation(
        build_mutant("finite_difference_error", DOUBLE_STEP), only=("closed form", "facts")
    )
    assert report.check("closed form").passed
    (item,) = failed_items(report, "facts")
    assert item["result"] == "smallest error E(h*)" and item["kind"] == "root"


def test_a_fact_neither_checked_nor_stated_fails_the_facts_check():
    """Σ y = 1 dropped from the result's statement: nothing checks it any more."""
    edits = [
        (
            "CLOSED_FORM, (j, 0), z, assumptions=(TARGETS_SUM_TO_ONE,))",
            "CLOSED_FORM, (j, 0), z)",
        )
    ]
    assert check_derivation(build_clean("cross_entropy_gradient"), only=("facts",)).passed
    report = check_derivation(build_mutant("cross_entropy_gradient", edits), only=("facts",))
    (item,) = failed_items(report, "facts")
    assert item["method"] == "unchecked"


def test_a_wrong_root_fails_the_facts_check(monkeypatch):
    """A solve that returns twice its root: the root no longer satisfies its condition."""
    from workbench.core.rules_stats import Solve

    right = Solve.root
    monkeypatch.setattr(Solve, "root", lambda self: 2 * right(self))
    report = check_derivation(build_clean("momentum_as_ewma"), only=("facts",))
    assert [item["kind"] for item in failed_items(report, "facts")] == ["root"]


def test_a_wrong_recurrence_solution_fails_the_facts_check(monkeypatch):
    """rsolve's answer plus 1/7: it no longer starts from x₀ nor follows the recurrence."""
    from workbench.core.rules_stats import SolveRecurrence

    right = SolveRecurrence.solution
    monkeypatch.setattr(SolveRecurrence, "solution", staticmethod(lambda r: right(r) + sp.S(1) / 7))
    report = check_derivation(build_clean("momentum_as_ewma"), only=("facts",))
    assert [item["kind"] for item in failed_items(report, "facts")] == ["recurrence"]


# ---------------------------------------------------------------- the steps check
def _softmax_steps():
    return check_derivation(build_clean("softmax_jacobian"), only=("steps",)).check("steps")


def test_doubled_delta_collapse_fails_the_steps_check(monkeypatch):
    """Every Kronecker-delta collapse in the index algebra doubled: the rules and the
    resolved route share it, the independent route does not."""
    assert _softmax_steps().passed
    collapse = algebra.deltasummation
    monkeypatch.setattr(algebra, "deltasummation", lambda *a, **k: 2 * collapse(*a, **k))
    steps = _softmax_steps()
    assert not steps.passed
    assert {item["decided by"] for item in steps.items if not item["passed"]} == {
        "independent route"
    }


def test_doubled_derivative_fails_the_steps_check(monkeypatch):
    """Every derivative the index algebra evaluates doubled (rules and resolved route)."""
    assert _softmax_steps().passed
    evaluate = algebra.evaluate_derivatives

    def doubled(expr, definitions, minimal=False):
        return expr.replace(
            lambda e: isinstance(e, sp.Derivative),
            lambda d: 2 * evaluate(d, definitions, minimal),
        )

    monkeypatch.setattr(algebra, "evaluate_derivatives", doubled)
    steps = _softmax_steps()
    assert not steps.passed
    assert "independent route" in {item["decided by"] for item in steps.items}


PERPLEXITY_SQUARED = [
    (
        '.apply(rules.Fold(is_exp, lambda e: sp.exp(H)), "The exponent is the cross-entropy H.")',
        '.apply(rules.Fold(is_exp, lambda e: sp.exp(2 * H)), "The exponent is 2H.")',
    ),
    (
        'nats.result("perplexity = exp(H)", sp.exp(H), SCALAR)',
        'nats.result("p", sp.exp(2 * H), SCALAR)',
    ),
]


def test_perplexity_as_exp_2h_fails_a_route_that_reads_the_derived_result():
    """Perplexity "derived" as exp(2H) with a matching closed form: the independent step
    route reads the derived expression (the last step's result) and rejects it."""
    report = check_derivation(build_mutant("perplexity", PERPLEXITY_SQUARED), only=("steps",))
    steps = report.check("steps")
    assert not steps.passed
    (item,) = failed_items(report, "steps")
    assert item["what"] == "p step 4 (fold definition)" and item["independent"] == "failed"


@pytest.mark.parametrize("module", ["softmax_jacobian", "cross_entropy_gradient"])
def test_the_independent_route_passes_true_steps(module):
    """The route that rejects the mutants above accepts the real chains, at several sizes."""
    steps = check_derivation(build_clean(module), only=("steps",)).check("steps")
    assert steps.passed
    assert all(item["decided by"] == "both routes" for item in steps.items)
    assert all("n=4" in item["independent detail"] for item in steps.items)


# ---------------------------------------------------------------- sizes
TANH_WRONG_FROM_FIVE = [
    (
        'gradients=(DiagMatrix(ones - Elementwise("square", tanh_of_a)),),',
        'gradients=(DiagMatrix(ones - Elementwise("square", tanh_of_a))'
        " + sp.Piecewise((1, n >= 5), (0, True)) * sp.Identity(n),),",
    ),
]


def test_a_gradient_wrong_only_from_size_five_fails_the_sympy_diff_check():
    """A tanh′ closed form off by the identity only when n ≥ 5 agrees with SymPy's diff at
    the case's own sizes (2, 3, 4); the larger size the check adds rejects it."""
    clean = check_derivation(build_clean("sigmoid_derivative"), only=("sympy diff",))
    assert clean.check("sympy diff").passed
    report = check_derivation(
        build_mutant("sigmoid_derivative", TANH_WRONG_FROM_FIVE), only=("sympy diff",)
    )
    failed = failed_items(report, "sympy diff")
    assert failed and all("tanh" in entry["what"] for entry in failed)
    assert not any(f"at n={size}" in entry["what"] for entry in failed for size in (2, 3, 4))
    assert "tanh, entry by entry at 5 sizes" in report.check("sympy diff").detail
