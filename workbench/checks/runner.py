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

import time
from collections.abc import Callable, Mapping

import numpy as np
import sympy as sp
from sympy.matrices.expressions.matexpr import MatrixElement

from workbench.checks.equivalence import DEFAULT_BUDGET, check_equal
from workbench.checks.gradcheck import check_gradient
from workbench.checks.report import CheckResult, DerivationReport
from workbench.codegen import numeric
from workbench.core import algebra
from workbench.core.derivation import Case, Derivation

CHECKS = ("steps", "closed form", "sympy diff", "finite differences", "complex step")
IDENTITY_TOLERANCE = 1e-12  # float64 evaluation of two equal, well-conditioned expressions

Progress = Callable[[str], None]

_TASKS: list[Callable[[], object]] = []


def _run_task(index: int):
    return _TASKS[index]()


def default_workers() -> int:
    """Worker processes for independent comparisons: the cores, at most 4; set
    ``WORKBENCH_WORKERS=1`` to keep everything in one process."""
    import os

    configured = os.environ.get("WORKBENCH_WORKERS")
    if configured:
        return max(1, int(configured))
    return max(1, min(4, os.cpu_count() or 1))


def run_parallel(tasks: list[Callable[[], object]], workers: int | None = None) -> list:
    """Run independent tasks in forked worker processes (results must pickle).

    Forked workers inherit SymPy's warm cache and the derivation objects. In a process
    with other threads (a notebook's kernel, say) forking is unsafe, and without fork the
    tasks cannot be handed over (they are closures): then the tasks run here.
    """
    import multiprocessing

    from workbench.checks.timebox import fork_is_safe

    workers = default_workers() if workers is None else workers
    usable = workers > 1 and len(tasks) > 1 and fork_is_safe()
    if not usable:
        return [task() for task in tasks]
    from concurrent.futures import ProcessPoolExecutor

    global _TASKS
    _TASKS = tasks
    try:
        # ProcessPoolExecutor, not multiprocessing.Pool: a worker that dies is reported
        # (BrokenProcessPool) instead of leaving map() waiting forever.
        with ProcessPoolExecutor(
            max_workers=min(workers, len(tasks)), mp_context=multiprocessing.get_context("fork")
        ) as pool:
            return list(pool.map(_run_task, range(len(tasks))))
    finally:
        _TASKS = []


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
        results.append(_timed(outcome, time.monotonic() - t0))
    return DerivationReport(
        derivation.slug, derivation.title, tuple(results), time.monotonic() - start
    )


def applicable_checks(derivation: Derivation) -> tuple[str, ...]:
    """The checks that apply: the gradient checks need cases; the hooks need entries."""
    from workbench.checks.sympy_diff import result_routes  # it builds on this module

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


def _timed(result: CheckResult, seconds: float) -> CheckResult:
    from dataclasses import replace

    return replace(result, seconds=round(seconds, 3))


def _summarise(name: str, items: list[dict]) -> CheckResult:
    failed = [item for item in items if not item["passed"]]
    if not items:
        return CheckResult(name, False, "error", None, "nothing to check")
    if failed:
        first = failed[0]
        detail = f"{len(failed)} of {len(items)} failed; first: {first['what']}: {first['detail']}"
        return CheckResult(name, False, first["method"], None, detail, items=tuple(items))
    methods = {item["method"] for item in items}
    method = "proved" if methods == {"proved"} else "tested"
    return CheckResult(name, True, method, None, f"{len(items)} comparisons", items=tuple(items))


def _item(what: str, verdict) -> dict:
    return {
        "what": what,
        "passed": verdict.equal is True,
        "method": verdict.method if verdict.equal is not False else "failed",
        "tier": verdict.tier,
        "seconds": round(verdict.seconds, 4),
        "detail": verdict.detail,
    }


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
            lambda step=step: compare_resolved(
                step.after, step.before, derivation, step.assumptions, budget, seed
            )
            for _, _, step in located
        ]
    )
    return [(*where, verdict) for where, verdict in zip(located, verdicts, strict=True)]


def compare_resolved(a, b, derivation: Derivation, facts, budget: float, seed: int):
    """Decide a == b after evaluating derivatives and unfolding definitions.

    First lazily (names both sides share stay folded: small expressions, often proved);
    only if that does not show equality, fully resolved down to the inputs.
    """
    defs = derivation.definitions
    lazy_a, lazy_b = algebra.resolve_pair(a, b, defs)
    lazy = check_equal(
        lazy_a,
        lazy_b,
        assumptions=_resolved_lazily(facts, lazy_a, defs),
        domain=derivation.domain,
        budget=budget,
        seed=seed,
    )
    if lazy.equal:
        return lazy
    return check_equal(
        algebra.resolve(a, defs),
        algebra.resolve(b, defs),
        assumptions=_resolved(facts, defs),
        domain=derivation.domain,
        budget=budget,
        seed=seed,
    )


def _resolved_lazily(facts, expr, definitions):
    """Facts unfolded as far as ``expr`` is: names that ``expr`` no longer mentions go."""
    present = algebra.names_in(expr, definitions)
    out = []
    for lhs, rhs in facts:
        for _ in range(16):
            extra = algebra.names_in(lhs, definitions) - present
            if not extra:
                break
            lhs = algebra.unfold(lhs, {k: definitions[k] for k in extra})
        out.append((lhs, rhs))
    return tuple(out)


def _resolved(facts, definitions):
    return tuple(
        (algebra.resolve(lhs, definitions), algebra.resolve(rhs, definitions)) for lhs, rhs in facts
    )


def _check_steps(derivation: Derivation, budget: float, seed: int) -> CheckResult:
    from dataclasses import replace

    from workbench.checks import (
        step_check,  # the independent route (it shares no helper with rules)
    )

    items = [
        _item(f"{label} step {number} ({step.rule})", verdict)
        for label, number, step, verdict in step_verdicts(derivation, budget, seed)
    ]
    items = step_check.independent_items(derivation, items, seed)
    outcome = _summarise("steps", items)
    return replace(outcome, detail=f"{outcome.detail}; {step_check.summary(items)}")


def _check_facts(derivation: Derivation, budget: float, seed: int) -> CheckResult:
    from workbench.checks.fact_check import check_facts  # it builds on this module

    return check_facts(derivation, budget, seed)


def _check_closed_form(derivation: Derivation, budget: float, seed: int) -> CheckResult:
    items = []
    for result in derivation.results:
        verdict = compare_resolved(
            result.derived, result.closed_entry, derivation, result.assumptions, budget, seed
        )
        items.append(_item(f"{result.label} against the closed form", verdict))
    return _summarise("closed form", items)


# ---------------------------------------------------------------- check 2
def substitute(expr, substitutions: Mapping) -> sp.Basic:
    """Apply a case's substitutions: abstract functions by concrete ones, a matrix by a
    matrix expression (entry by entry, e.g. a mask by all ones), symbols by values."""
    for old, new in substitutions.items():
        if isinstance(old, sp.FunctionClass):
            expr = expr.replace(old, new)
        elif isinstance(old, sp.MatrixSymbol):
            # By name: at concrete sizes the matrix is a new MatrixSymbol of concrete shape.
            expr = expr.replace(
                lambda e, old=old: (
                    isinstance(e, MatrixElement)
                    and isinstance(e.parent, sp.MatrixSymbol)
                    and e.parent.name == old.name
                ),
                lambda e, new=new: new[e.i, e.j],
            )
            if isinstance(expr, sp.MatrixExpr) and not isinstance(expr, sp.MatrixBase):
                expr = expr.xreplace({old: new})
        else:
            expr = expr.xreplace({old: new})
    return expr


def explicit_forward(case: Case, sizes: Mapping) -> sp.Matrix:
    """The case's definition written out at concrete ``sizes`` (substitutions applied)."""
    return substitute(case.forward.subs(sizes).as_explicit(), case.substitutions).doit()


def sympy_gradient(case: Case, sizes: Mapping, wrt: sp.MatrixSymbol, forward=None) -> sp.Matrix:
    """SymPy's own derivative of ``case.forward`` at concrete ``sizes``.

    Gradient layout for a scalar forward; numerator-layout Jacobian for a vector one.
    """
    forward = explicit_forward(case, sizes) if forward is None else forward
    x = wrt.subs(sizes).as_explicit()
    if forward.shape == (1, 1):
        loss = forward[0, 0]
        return sp.Matrix(x.shape[0], x.shape[1], lambda a, b: sp.diff(loss, x[a, b]))
    if x.shape[1] != 1 or forward.shape[1] != 1:
        raise ValueError("Jacobians are taken of column vectors with respect to column vectors")
    return sp.Matrix(forward.shape[0], x.shape[0], lambda r, c: sp.diff(forward[r, 0], x[c, 0]))


def instantiate_result(derivation: Derivation, label: str, case: Case, sizes, resolved=None):
    """The general-n derived result written out as a matrix at concrete ``sizes``."""
    result = derivation.result(label)
    if resolved is None:
        resolved = algebra.resolve(result.derived, derivation.definitions)
    # Expand the sums once at these sizes, indices still free; each entry then only
    # substitutes its indices (the deltas evaluate as they are rebuilt). The case's
    # concrete functions (φ = ReLU, say) go in last: SymPy sums Piecewise terms poorly.
    expanded = algebra.instantiate(resolved, sizes)
    rows, cols = (int(sp.sympify(d).subs(sizes)) for d in result.closed_form.shape)
    row_index, col_index = result.entry

    def entry(a, b):
        values = {}
        if isinstance(row_index, sp.Symbol):
            values[row_index] = a
        if isinstance(col_index, sp.Symbol):
            values[col_index] = b
        return substitute(algebra.instantiate(expanded, values), case.substitutions).doit()

    return sp.Matrix(rows, cols, entry)


def concrete_assumptions(case: Case, sizes) -> list:
    """The case's facts at concrete sizes, as (lhs, rhs) pairs of explicit expressions."""
    facts = case.assumptions(sizes) if callable(case.assumptions) else case.assumptions
    return [
        (algebra.instantiate(lhs, sizes), algebra.instantiate(rhs, sizes)) for lhs, rhs in facts
    ]


def _check_sympy_diff(derivation: Derivation, budget: float, seed: int) -> CheckResult:
    from workbench.checks.sympy_diff import check_sympy_diff  # it builds on this module

    return check_sympy_diff(derivation, budget, seed)


# ---------------------------------------------------------------- check 3
def case_functions(case: Case):
    """(inputs in order, forward, gradient) compiled to NumPy at the case's numeric size."""
    args = list(case.samplers)
    sizes = case.numeric_size
    # The case's substitutions hold for its numbers too, except for inputs: a sampled
    # input (a mask, say) gets its values from its sampler.
    fixed = {k: v for k, v in case.substitutions.items() if k not in case.samplers}
    forward = numeric.compile_numpy(args, substitute(case.forward, fixed), sizes)
    # All gradients in one function: they share the forward pass (one CSE over all).
    gradients = numeric.compile_numpy_all(
        args, [substitute(g, fixed) for g in case.gradients], sizes
    )
    scalar = tuple(int(sp.sympify(d).subs(sizes)) for d in case.forward.shape) == (1, 1)

    def f(*xs):
        out = np.asarray(forward(*xs))
        return out.reshape(()) if scalar else out

    def grad(*xs):
        return tuple(np.asarray(g) for g in gradients(*xs))

    return args, f, grad


def _check_numeric(derivation: Derivation, method: str, seed: int) -> CheckResult:
    name = "finite differences" if method == "central" else "complex step"
    worst, items, passed, warnings = 0.0, [], True, []
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
        items.append(_item(name, verdict))
    return _summarise("independent symbolic", items)


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
    detail = f"{len(items)} computations, worst relative error {worst:.2e}"
    return CheckResult("numeric", passed, "numeric", worst, detail, items=tuple(items))
