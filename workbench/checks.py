"""The three independent checks, run on any :class:`~workbench.derivation.Derivation`.

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

from workbench import algebra, numeric
from workbench.derivation import Case, Derivation
from workbench.equivalence import DEFAULT_BUDGET, check_equal
from workbench.gradcheck import check_gradient
from workbench.report import CheckResult, DerivationReport

CHECKS = ("steps", "closed form", "sympy diff", "finite differences", "complex step")

Progress = Callable[[str], None]


def check_derivation(
    derivation: Derivation,
    *,
    seed: int = 0,
    budget: float = DEFAULT_BUDGET,
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
    defs = derivation.definitions
    out = []
    for result in derivation.results:
        for number, step in enumerate(result.steps, 1):
            verdict = check_equal(
                algebra.resolve(step.after, defs),
                algebra.resolve(step.before, defs),
                assumptions=step.assumptions,
                budget=budget,
                seed=seed,
            )
            out.append((result.label, number, step, verdict))
    return out


def _check_steps(derivation: Derivation, budget: float, seed: int) -> CheckResult:
    items = [
        _item(f"{label} step {number} ({step.rule})", verdict)
        for label, number, step, verdict in step_verdicts(derivation, budget, seed)
    ]
    return _summarise("steps", items)


def _check_closed_form(derivation: Derivation, budget: float, seed: int) -> CheckResult:
    defs = derivation.definitions
    items = []
    for result in derivation.results:
        closed_entry = result.closed_form[result.entry]
        verdict = check_equal(
            algebra.resolve(result.derived, defs),
            algebra.resolve(closed_entry, defs),
            assumptions=result.assumptions,
            budget=budget,
            seed=seed,
        )
        items.append(_item(f"{result.label} against the closed form", verdict))
    return _summarise("closed form", items)


# ---------------------------------------------------------------- check 2
def substitute(expr, substitutions: Mapping) -> sp.Basic:
    """Apply a case's substitutions: symbols by values, abstract functions by concrete ones."""
    for old, new in substitutions.items():
        if isinstance(old, sp.FunctionClass):
            expr = expr.replace(old, new)
        else:
            expr = expr.xreplace({old: new})
    return expr


def sympy_gradient(case: Case, sizes: Mapping, wrt: sp.MatrixSymbol) -> sp.Matrix:
    """SymPy's own derivative of ``case.forward`` at concrete ``sizes``.

    Gradient layout for a scalar forward; numerator-layout Jacobian for a vector one.
    """
    forward = substitute(case.forward.subs(sizes).as_explicit(), case.substitutions).doit()
    x = wrt.subs(sizes).as_explicit()
    if forward.shape == (1, 1):
        loss = forward[0, 0]
        return sp.Matrix(x.shape[0], x.shape[1], lambda a, b: sp.diff(loss, x[a, b]))
    if x.shape[1] != 1 or forward.shape[1] != 1:
        raise ValueError("Jacobians are taken of column vectors with respect to column vectors")
    return sp.Matrix(forward.shape[0], x.shape[0], lambda r, c: sp.diff(forward[r, 0], x[c, 0]))


def instantiate_result(derivation: Derivation, label: str, case: Case, sizes) -> sp.Matrix:
    """The general-n derived result written out as a matrix at concrete ``sizes``."""
    result = derivation.result(label)
    derived = substitute(algebra.resolve(result.derived, derivation.definitions),
                         case.substitutions)
    rows, cols = (int(sp.sympify(d).subs(sizes)) for d in result.closed_form.shape)
    row_index, col_index = result.entry

    def entry(a, b):
        values = dict(sizes)
        if isinstance(row_index, sp.Symbol):
            values[row_index] = a
        if isinstance(col_index, sp.Symbol):
            values[col_index] = b
        return algebra.instantiate(derived, values)

    return sp.Matrix(rows, cols, entry)


def _check_sympy_diff(derivation: Derivation, budget: float, seed: int) -> CheckResult:
    items = []
    for case in derivation.cases:
        for sizes in case.sizes:
            label = ", ".join(f"{k}={v}" for k, v in sizes.items())
            assumptions = [
                (algebra.instantiate(lhs, sizes), algebra.instantiate(rhs, sizes))
                for lhs, rhs in case.assumptions
            ]
            for wrt, closed in zip(case.wrt, case.gradients, strict=True):
                truth = sympy_gradient(case, sizes, wrt)
                closed_explicit = substitute(
                    closed.subs(sizes).as_explicit(), case.substitutions
                ).doit()
                verdict = check_equal(
                    truth, closed_explicit, assumptions=assumptions, budget=budget, seed=seed
                )
                items.append(_item(f"[{case.name}] d/d{wrt.name} closed form at {label}",
                                   verdict))
                if wrt in case.results:
                    derived = instantiate_result(derivation, case.results[wrt], case, sizes)
                    verdict = check_equal(
                        truth, derived, assumptions=assumptions, budget=budget, seed=seed
                    )
                    items.append(_item(f"[{case.name}] d/d{wrt.name} derived at {label}",
                                       verdict))
    return _summarise("sympy diff", items)


# ---------------------------------------------------------------- check 3
def case_functions(case: Case):
    """(inputs in order, forward, gradient) compiled to NumPy at the case's numeric size."""
    args = list(case.samplers)
    sizes = case.numeric_size
    forward = numeric.compile_numpy(args, case.forward, sizes)
    grads = [numeric.compile_numpy(args, g, sizes) for g in case.gradients]
    scalar = tuple(int(sp.sympify(d).subs(sizes)) for d in case.forward.shape) == (1, 1)

    def f(*xs):
        out = np.asarray(forward(*xs))
        return out.reshape(()) if scalar else out

    def grad(*xs):
        return tuple(np.asarray(g(*xs)) for g in grads)

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
            def kinks(*xs, _case=case):
                return _case.kinks({a.name: x for a, x in zip(args, xs, strict=True)})
        report = check_gradient(
            f, grad, *[inputs[a] for a in args], method=method, wrt=positions, seed=seed,
            kinks=kinks,
        )
        worst = max(worst, report.max_rel_error)
        passed &= report.passed
        warnings.extend(report.warnings)
        items.append({"what": f"[{case.name}]", "passed": report.passed, "method": method,
                      "max_rel_error": report.max_rel_error, "step": report.step,
                      "tolerance": report.tolerance, "warnings": list(report.warnings)})
    detail = (f"{len(items)} cases, worst relative error {worst:.2e} "
              f"(tolerance {items[0]['tolerance']:.0e})" if items else "no cases")
    if warnings:
        detail += "; " + "; ".join(sorted(set(warnings)))
    return CheckResult(name, passed and bool(items), method, worst, detail, items=tuple(items))
