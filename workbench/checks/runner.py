"""The three independent checks, run on any :class:`~workbench.core.derivation.Derivation`.

1. ``steps`` — every step's two sides, fully resolved (derivatives evaluated by SymPy,
   definitions unfolded), are equal; and ``closed form`` — the derived result equals
   the textbook closed form, at general sizes where the expressions allow.
2. ``sympy diff`` — SymPy's own differentiation of the definition, at three or more
   concrete sizes, equals both the closed form and the derived result there.
3. ``finite differences`` and ``complex step`` — the lambdified, vectorised closed form
   agrees with numeric derivatives of the lambdified definition at seeded random inputs.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable

import numpy as np

from workbench.checks import network, step_check
from workbench.checks.equivalence import DEFAULT_BUDGET, check_equal
from workbench.checks.fact_check import check_facts
from workbench.checks.gradcheck import check_gradient
from workbench.checks.parallel import run_parallel
from workbench.checks.report import CheckResult, DerivationReport, item, summarise, timed
from workbench.checks.resolved import compare_resolved
from workbench.checks.sympy_diff import check_sympy_diff, result_routes
from workbench.codegen import listing, numeric
from workbench.core.derivation import Case, Derivation

CHECKS = ("steps", "closed form", "sympy diff", "finite differences", "complex step")
IDENTITY_TOLERANCE = 1e-12  # float64 evaluation of two equal, well-conditioned expressions

Progress = Callable[[str], None]


# Derivation checks allow each equality more time than an interactive query (CPU
# seconds, see workbench.checks.timebox): a true step that normalises in two seconds in a fresh
# process took over five late in a long test run. The budget is only spent on
# comparisons that are slow to decide; a wrong step is disproved at random points fast.
CHECK_BUDGET = 5 * DEFAULT_BUDGET


def check_derivation(
    derivation: Derivation,
    *,
    seed: int = 0,
    budget: float = CHECK_BUDGET,
    progress: Progress | None = None,
    only: tuple[str, ...] = CHECKS,
) -> DerivationReport:
    """Run the checks named in ``only`` and return a report; never raises for a failed check."""
    say = progress or (lambda message: None)
    start = time.monotonic()
    runners: dict[str, Callable[[], CheckResult]] = {
        "steps": lambda: _check_steps(derivation, budget, seed),
        "closed form": lambda: _check_closed_form(derivation, budget, seed),
        "sympy diff": lambda: _check_sympy_diff(derivation, budget, seed),
        "finite differences": lambda: _check_numeric(derivation, "central", seed),
        "complex step": lambda: _check_numeric(derivation, "complex-step", seed),
    }
    if only == CHECKS:
        only = applicable_checks(derivation)
    runners["numeric identity"] = lambda: _check_identities(derivation, seed)
    runners["independent symbolic"] = lambda: _check_symbolic_routes(derivation, budget, seed)
    runners["numeric"] = lambda: _check_numeric_routes(derivation, seed)
    runners["facts"] = lambda: _check_facts(derivation, budget, seed)
    results = []
    for name in only:
        say(f"{derivation.slug}: {name}")
        t0 = time.monotonic()
        try:
            outcome = runners[name]()
        except Exception as exc:  # a crashing check is a failed check, reported as such
            outcome = CheckResult(name, False, "error", None, f"{type(exc).__name__}: {exc}")
        results.append(timed(outcome, time.monotonic() - t0))
    return DerivationReport(
        derivation.slug, derivation.title, tuple(results), time.monotonic() - start
    )


def applicable_checks(derivation: Derivation) -> tuple[str, ...]:
    """The checks that apply: the gradient checks need cases; the hooks need entries."""
    names = ["steps", "closed form"]
    if any(step.facts for step in derivation.steps):
        names.append("facts")
    # SymPy's diff (or evaluation) of the definitions reads every result it can, with or
    # without a case; the numeric gradient checks need a case.
    if derivation.cases or set(result_routes(derivation).values()) - {"case"}:
        names.append("sympy diff")
    if derivation.cases:
        names += ["finite differences", "complex step"]
    if any(case.identities for case in derivation.cases):
        names.append("numeric identity")
    if derivation.symbolic_checks:
        names.append("independent symbolic")
    if derivation.numeric_checks:
        names.append("numeric")
    return tuple(names)


# ---------------------------------------------------------------- check 1
def step_verdicts(derivation: Derivation, budget: float = DEFAULT_BUDGET, seed: int = 0):
    """Each step paired with the verdict on it, in order: what handouts mark per step."""
    located = [
        (result.label, number, step)
        for result in derivation.results
        for number, step in enumerate(result.steps, 1)
    ]
    verdicts = run_parallel(
        [
            functools.partial(
                compare_resolved,
                step.after,
                step.before,
                derivation,
                step.assumptions,
                budget,
                seed,
            )
            for _, _, step in located
        ]
    )
    return [(*where, verdict) for where, verdict in zip(located, verdicts, strict=True)]


def _check_steps(derivation: Derivation, budget: float, seed: int) -> CheckResult:
    from dataclasses import replace

    if derivation.network is not None:
        return _check_network_steps(derivation, seed)
    items = [
        item(f"{label} step {number} ({step.rule})", verdict)
        for label, number, step, verdict in step_verdicts(derivation, budget, seed)
    ]
    items = step_check.independent_items(derivation, items, seed)
    outcome = summarise("steps", items)
    return replace(outcome, detail=f"{outcome.detail}; {step_check.summary(items)}")


def _check_network_steps(derivation: Derivation, seed: int) -> CheckResult:
    """A composed derivation's steps, stage by stage at concrete sizes: resolving a side
    symbolically writes the whole network out (minutes per step)."""
    from dataclasses import replace

    items = []
    for label, number, step, verdict in network.step_verdicts(derivation, seed):
        entry = item(f"{label} step {number} ({step.rule})", verdict)
        entry["decided by"] = "network route"
        items.append(entry)
    outcome = summarise("steps", items)
    return replace(
        outcome,
        detail=f"{outcome.detail}; every step by the network route (stage by stage, SymPy's "
        f"diff of each stage, exact random points at {network.sizes_said(derivation)})",
    )


def _check_facts(derivation: Derivation, budget: float, seed: int) -> CheckResult:
    return check_facts(derivation, budget, seed)


def _check_closed_form(derivation: Derivation, budget: float, seed: int) -> CheckResult:
    items = []
    for result in derivation.results:
        verdict = compare_resolved(
            result.derived, result.closed_entry, derivation, result.assumptions, budget, seed
        )
        items.append(item(f"{result.label} against the closed form", verdict))
    return summarise("closed form", items)


# ---------------------------------------------------------------- check 2


def _check_sympy_diff(derivation: Derivation, budget: float, seed: int) -> CheckResult:
    return check_sympy_diff(derivation, budget, seed)


# ---------------------------------------------------------------- check 3
def case_functions(case: Case):
    """(inputs in order, forward, gradient): the case's generated code, compiled from the
    very text a handout prints (:func:`workbench.codegen.listing.case_listings`)."""
    args = list(case.samplers)
    forward, gradients = listing.case_listings(case)
    scalar = tuple(case.forward.shape) == (1, 1)
    single = len(gradients.returns) == 1

    def f(*xs):
        out = np.asarray(forward.function(*xs))
        return out.reshape(()) if scalar else out

    def grad(*xs):
        out = gradients.function(*xs)
        return (np.asarray(out),) if single else tuple(np.asarray(g) for g in out)

    f.source, grad.source = forward.source, gradients.source  # type: ignore[attr-defined]
    return args, f, grad


def _check_numeric(derivation: Derivation, method: str, seed: int) -> CheckResult:
    name = "finite differences" if method == "central" else "complex step"
    worst, passed = 0.0, True
    items: list[dict] = []
    warnings: list[str] = []
    for case in derivation.cases:
        args, f, grad = case_functions(case)
        inputs = numeric.sample_inputs(case.samplers, case.numeric_size, seed)
        positions = [args.index(w) for w in case.wrt]
        kinks = None
        if case.kinks is not None:

            def kinks(*xs, _case=case, _args=args):
                return _case.kinks({a.name: x for a, x in zip(_args, xs, strict=True)})

        report = check_gradient(
            f,
            grad,
            *[inputs[a] for a in args],
            method=method,
            wrt=positions,
            seed=seed,
            kinks=kinks,
        )
        worst = max(worst, report.max_rel_error)
        passed &= report.passed
        warnings.extend(report.warnings)
        items.append(
            {
                "what": f"[{case.name}]",
                "passed": report.passed,
                "method": method,
                "max_rel_error": report.max_rel_error,
                # Each gradient against its own scale (workbench.checks.gradcheck), by input.
                "block_errors": {
                    w.name: error for w, error in zip(case.wrt, report.block_errors, strict=True)
                },
                "step": report.step,
                "tolerance": report.tolerance,
                # The text of the code evaluated: a handout prints exactly this.
                # (a composed network's: generated stage by stage, codegen/staged.py)
                "code": [f.source, grad.source],
                "warnings": list(report.warnings),
            }
        )
    detail = (
        f"{len(items)} cases, worst relative error {worst:.2e} "
        f"(tolerance {items[0]['tolerance']:.0e}, per gradient against its own scale)"
        if items
        else "no cases"
    )
    if warnings:
        detail += "; " + "; ".join(sorted(set(warnings)))
    return CheckResult(name, passed and bool(items), method, worst, detail, items=tuple(items))


def _check_identities(derivation: Derivation, seed: int) -> CheckResult:
    items, worst = [], 0.0
    for case in derivation.cases:
        args = list(case.samplers)
        inputs = numeric.sample_inputs(case.samplers, case.numeric_size, seed)
        values = [inputs[a] for a in args]
        for name, lhs, rhs in case.identities:
            left = np.asarray(numeric.compile_numpy(args, lhs, case.numeric_size)(*values))
            right = np.asarray(numeric.compile_numpy(args, rhs, case.numeric_size)(*values))
            scale = max(float(np.max(np.abs(left))), float(np.max(np.abs(right))), 1e-300)
            error = float(np.max(np.abs(left - right))) / scale
            worst = max(worst, error)
            items.append(
                {
                    "what": f"[{case.name}] {name}",
                    "passed": error <= IDENTITY_TOLERANCE,
                    "method": "numeric",
                    "max_rel_error": error,
                }
            )
    passed = bool(items) and all(item["passed"] for item in items)
    detail = f"{len(items)} identities, worst relative error {worst:.2e} (tolerance 1e-12)"
    return CheckResult("numeric identity", passed, "numeric", worst, detail, items=tuple(items))


def _check_symbolic_routes(derivation: Derivation, budget: float, seed: int) -> CheckResult:
    items = []
    for name, route in derivation.symbolic_checks:
        a, b = route()
        verdict = check_equal(a, b, domain=derivation.domain, budget=budget, seed=seed)
        items.append(item(name, verdict))
    return summarise("independent symbolic", items)


def _check_numeric_routes(derivation: Derivation, seed: int) -> CheckResult:
    items, worst = [], 0.0
    for name, route in derivation.numeric_checks:
        computed, expected, rtol = route(seed)
        computed, expected = np.asarray(computed, dtype=float), np.asarray(expected, dtype=float)
        scale = max(float(np.max(np.abs(expected), initial=0.0)), 1e-300)
        error = float(np.max(np.abs(computed - expected), initial=0.0)) / scale
        finite = bool(np.all(np.isfinite(computed)) and np.all(np.isfinite(expected)))
        worst = max(worst, error)
        items.append(
            {
                "what": name,
                "passed": bool(finite and error <= float(rtol)),
                "method": "numeric",
                "max_rel_error": error,
                "tolerance": float(rtol),
            }
        )
    passed = bool(items) and all(item["passed"] for item in items)
    plural = "s" if len(items) != 1 else ""
    detail = f"{len(items)} computation{plural}, worst relative error {worst:.2e}"
    return CheckResult("numeric", passed, "numeric", worst, detail, items=tuple(items))
