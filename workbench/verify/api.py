"""Check a derivative worked out by hand, and say where it goes wrong.

Three entry points mirror ``workbench verify``:

* :func:`check_claim` — is ``claim`` the derivative of ``function`` with respect to ``wrt``?
* :func:`check_steps` — is every line of a derivation equal to the line before it?
* :func:`check_catalogue_claim` — is ``claim`` a catalogue result, in its own symbols?

The verdict comes from the bounded equality tiers of
:func:`~workbench.checks.equivalence.check_equal`
and is confirmed at exact random points where the function is real and finite (a claim
is judged only where it can be). A wrong claim gets a counterexample and a diagnosis
(:mod:`workbench.verify.diagnosis`). All the work runs in a child process with a time and a
memory limit, so no input can hang the caller.

Example:
    >>> report = check_claim("log(1 + exp(x))", "x", "sigmoid(x)")
    >>> report.verdict, report.method
    ('correct', 'symbolic')
    >>> check_claim("x.T @ A @ x", "x", "2*A@x", shapes={"x": 3, "A": "3x3"}).diagnosis[:14]
    'symmetric-only'
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path

import sympy as sp

from workbench.checks.timebox import run_in_child, time_limit
from workbench.core import registry
from workbench.errors import ParseError, TimeBudgetExceeded, WorkbenchError
from workbench.verify.claim_format import to_latex, unparse
from workbench.verify.confirm import finite_differences
from workbench.verify.decision import compare, decide, value_text
from workbench.verify.interpret import Scope, declare, shape
from workbench.verify.points import Problem
from workbench.verify.problems import (
    build_input,
    check_layout,
    check_wrt,
    derivative,
    inputs,
    names_in,
    parse_input,
    shapes_from,
)
from workbench.verify.report import VerifyReport
from workbench.verify.steps import verify_steps

DEFAULT_TIMEOUT = 8.0  # seconds for one verification; with process start, under 10 s
MEMORY_BYTES = 2 << 30  # address space the child may add to what it inherits

Shapes = Mapping[str, int | str | tuple[int, int]]


def check_claim(
    function: str,
    wrt: str,
    claim: str,
    *,
    shapes: Shapes | None = None,
    layout: str | None = None,
    seed: int = 0,
    timeout: float = DEFAULT_TIMEOUT,
    isolate: bool = True,
) -> VerifyReport:
    """Is ``claim`` the derivative of ``function`` with respect to ``wrt``?

    Args:
        function: e.g. ``"x.T @ A @ x"``.
        wrt: the variable, e.g. ``"x"``.
        claim: e.g. ``"(A + A.T) @ x"``.
        shapes: name → ``4`` (a 4×1 column), ``"3x2"`` or ``(3, 2)``; others are scalars.
        layout: ``"gradient"`` (the shape of ``wrt``; default for a scalar function) or
            ``"jacobian"`` (J[i, j] = ∂fᵢ/∂xⱼ; default for a vector function).
        seed: seeds the random points.
        timeout: seconds before giving up with an ``error`` verdict.
        isolate: run in a child process with time and memory limits (default).

    Example:
        >>> check_claim("sum(softmax(z))", "z", "0*z", shapes={"z": 3}).verdict
        'correct'
    """
    return _run(lambda: _claim(function, wrt, claim, shapes, layout, seed), timeout, isolate)


def check_steps(
    steps: str | os.PathLike,
    *,
    shapes: Shapes | None = None,
    layout: str | None = None,
    source: str | None = None,
    seed: int = 0,
    timeout: float = DEFAULT_TIMEOUT,
    isolate: bool = True,
) -> VerifyReport:
    """Is every line of a derivation equal to the line before it?

    Args:
        steps: the text (one expression per line; every line after the first starts
            with ``=``; ``#`` starts a note; the first may be ``diff(F, x)``), or a path.
        source: how messages name the input (default: the file name, or ``steps``).

    Example:
        >>> check_steps("diff(x**2, x)\\n= 2x").verdict
        'correct'
    """
    if isinstance(steps, os.PathLike):
        path = Path(steps)
        source = source or path.name
        try:
            steps = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            return error_report(f"{source}: cannot read: {error}", kind="steps")
    work = lambda: verify_steps(str(steps), source or "steps", shapes, layout, seed)  # noqa: E731
    return _run(work, timeout, isolate, kind="steps")


def check_catalogue_claim(
    slug: str,
    claim: str,
    *,
    wrt: str | None = None,
    case: str | None = None,
    seed: int = 0,
    timeout: float = DEFAULT_TIMEOUT,
    isolate: bool = True,
) -> VerifyReport:
    """Is ``claim`` the catalogue result ``slug``, written in the derivation's own symbols?

    Example:
        >>> check_catalogue_claim("softmax-jacobian", "diag(s) - s @ s.T").verdict
        'correct'
    """
    # lazy: a catalogue claim loads the check runner and the registry's derivations
    from workbench.verify.catalogue import verify_catalogue_claim

    try:
        derivation = registry.get(slug)  # built here, so a child inherits the cached build
    except WorkbenchError as error:
        return error_report(str(error), kind="catalogue")
    except Exception as error:  # a derivation under construction: report, do not crash
        return error_report(f"cannot build {slug}: {error}", kind="catalogue")
    work = lambda: verify_catalogue_claim(derivation, claim, wrt, case, seed)  # noqa: E731
    return _run(work, timeout, isolate, kind="catalogue")


# ---------------------------------------------------------------- one claim
def _claim(function, wrt, claim, shapes, layout, seed) -> VerifyReport:
    check_layout(layout)
    scope = Scope(declare(shapes_from(shapes)))
    function_node = parse_input(function, "--function")
    claim_node = parse_input(claim, "--claim")
    check_wrt(wrt, names_in(function_node))
    value = build_input(function_node, scope, "--function")
    variable = scope.lookup(wrt, 0)
    try:
        truth, convention = derivative(value, variable, wrt, layout)
    except ParseError as error:
        raise ParseError(f"--function: {error}") from None
    claimed = build_input(claim_node, scope, "--claim")
    problem = Problem(
        claim=claimed,
        expected=truth,
        variables=inputs(names_in(function_node, claim_node), scope),
        defined=(value,),
        wrt=wrt,
        convention=convention,
    )
    outcome = compare(problem, seed, [function_node, claim_node], claim_node, scope)
    confirmation = None
    if outcome.points and shape(claimed) == shape(truth):
        confirmation = finite_differences(value, variable, claimed, layout, outcome.points[0])
    return VerifyReport(
        verdict=outcome.verdict,
        method=outcome.method,
        parsed_claim=unparse(claim_node),
        expected=value_text(truth),
        counterexample=outcome.counterexample,
        diagnosis=outcome.diagnosis,
        claim_latex=to_latex(claim_node),
        expected_latex=sp.latex(truth),
        convention=convention,
        detail=outcome.detail,
        confirmation=confirmation,
    )


# ---------------------------------------------------------------- isolation
def error_report(message: str, kind: str = "claim") -> VerifyReport:
    """A report for input that could not be understood; the message is one line."""
    return VerifyReport("error", None, None, None, kind=kind, error=" ".join(message.split()))


def _run(work: Callable[[], VerifyReport], timeout: float, isolate: bool, kind="claim"):
    start = time.monotonic()
    if isolate:
        try:
            report = run_in_child(lambda: _guarded(work, kind, limit_memory=True), timeout)
        except TimeBudgetExceeded as error:
            report = error_report(_gave_up(timeout, error), kind)
    else:
        try:
            with time_limit(timeout):
                report = _guarded(work, kind)
        except TimeBudgetExceeded as error:
            report = error_report(_gave_up(timeout, error), kind)
    return replace(report, seconds=time.monotonic() - start)


def _gave_up(timeout: float, error: Exception) -> str:
    if "exceeded" in str(error):
        return f"no verdict within {timeout:g} s: the input is too large or too hard to decide"
    return f"the check stopped unexpectedly: {error}"


def _guarded(work, kind: str, limit_memory: bool = False) -> VerifyReport:
    """``work()``, with every failure turned into an error report (one line, no traceback)."""
    if limit_memory:
        _limit_memory()
    try:
        return work()
    except TimeBudgetExceeded:
        raise
    except WorkbenchError as error:
        return error_report(str(error), kind)
    except MemoryError:
        return error_report("ran out of memory: the input is too large", kind)
    except RecursionError:
        return error_report("the expression is too deeply nested to work with", kind)
    except Exception as error:  # a bug in the verifier must still answer in one line
        return error_report(f"internal error: {type(error).__name__}: {error}", kind)


def _limit_memory() -> None:
    """Cap the child's address space at what it inherited plus :data:`MEMORY_BYTES`."""
    try:
        import resource

        status = Path("/proc/self/status").read_text()
        size_kb = int(status.split("VmSize:")[1].split()[0])
        limit = size_kb * 1024 + MEMORY_BYTES
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        if hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    except (ImportError, OSError, ValueError, IndexError):
        pass  # no /proc or no resource module: the time limit still holds


__all__ = [
    "DEFAULT_TIMEOUT",
    "VerifyReport",
    "check_catalogue_claim",
    "check_claim",
    "check_steps",
    "decide",
]
