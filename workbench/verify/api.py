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

import functools
import os
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path

import sympy as sp

from workbench.checks.timebox import check_seconds, run_in_child, time_limit
from workbench.core import registry
from workbench.errors import ParseError, TimeBudgetExceeded, WorkbenchError
from workbench.render.latex import expr_to_latex
from workbench.verify import assume as assumptions
from workbench.verify.claim_format import claim_latex, shown_claim
from workbench.verify.confirm import finite_differences
from workbench.verify.decision import compare, decide, value_math, value_text
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
from workbench.verify.steps import read_file, verify_steps

DEFAULT_TIMEOUT = 20.0  # seconds for one verification: a 5×5 log det takes about 8 s here
MEMORY_BYTES = 2 << 30  # address space the child may add to what it inherits

Shapes = Mapping[str, int | str | tuple[int, int]]


def check_claim(
    function: str,
    wrt: str,
    claim: str,
    *,
    shapes: Shapes | None = None,
    layout: str | None = None,
    assume: Sequence[str] = (),
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
        assume: what the inputs satisfy, e.g. ``["sum(y) = 1", "x > 0"]`` (see
            :mod:`workbench.verify.assume`); the verdict then says "given …".
        seed: seeds the random points.
        timeout: seconds before giving up with an ``undecided`` verdict (at most 10⁶). With
            ``isolate`` wall seconds of the child; without, CPU seconds of the calling
            thread, which bound Python code only.
        isolate: run in a child process with time and memory limits (default).

    Raises:
        TypeError: an argument of the wrong type (``function=None``, ``shapes="A=3"``).
        ValueError: an unusable ``seed`` (negative) or ``timeout`` (not finite, ≤ 0).
        Text that cannot be understood is not raised: it gets an ``error`` verdict.

    Example:
        >>> check_claim("sum(softmax(z))", "z", "0*z", shapes={"z": 3}).verdict
        'correct'
    """
    for name, text in (("function", function), ("wrt", wrt), ("claim", claim)):
        _check_text(name, text)
    if isinstance(assume, str):
        raise TypeError("assume must be a list of strings, e.g. ['sum(y) = 1']")
    for text in assume:
        _check_text("an assumption", text)
    shapes = _check_options(shapes, layout, seed, timeout)
    work = functools.partial(_claim, function, wrt, claim, shapes, layout, seed, tuple(assume))
    return _run(work, timeout, isolate)


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

    A path is read at most :data:`~workbench.verify.steps.MAX_BYTES` bytes; anything but a
    regular file (a FIFO, ``/dev/zero``) is refused without waiting on it.

    Raises:
        TypeError, ValueError: as :func:`check_claim`.

    Example:
        >>> check_steps("diff(x**2, x)\\n= 2x").verdict
        'correct'
    """
    shapes = _check_options(shapes, layout, seed, timeout)
    if isinstance(steps, os.PathLike):
        path = Path(steps)
        source = source or path.name
        try:
            steps = read_file(path, source)
        except ParseError as error:
            return error_report(str(error), kind="steps")
    _check_text("steps", steps)
    work = functools.partial(verify_steps, steps, source or "steps", shapes, layout, seed)
    return _run(work, timeout, isolate, kind="steps")


def check_catalogue_claim(
    slug: str,
    claim: str,
    *,
    wrt: str | None = None,
    case: str | None = None,
    result: str | None = None,
    seed: int = 0,
    timeout: float = DEFAULT_TIMEOUT,
    isolate: bool = True,
) -> VerifyReport:
    """Is ``claim`` the catalogue result ``slug``, written in the derivation's own symbols?

    ``wrt`` (and ``case``) choose a gradient of one of its numeric cases; ``result``
    chooses any of its results by label (``"∂L/∂P"`` or ``"dL/dP"``), one no case
    instantiates too, compared with its closed form at small sizes.

    Raises:
        TypeError, ValueError: as :func:`check_claim`.

    Example:
        >>> check_catalogue_claim("softmax-jacobian", "diag(s) - s @ s.T").verdict
        'correct'
    """
    for name, text in (("slug", slug), ("claim", claim)):
        _check_text(name, text)
    for name, optional in (("wrt", wrt), ("case", case), ("result", result)):
        if optional is not None:
            _check_text(name, optional)
    _check_options(None, None, seed, timeout)
    try:
        registry.get(slug)  # built here, so a forked child inherits the cached build
    except WorkbenchError as error:
        return error_report(str(error), kind="catalogue")
    except Exception as error:  # a derivation under construction: report, do not crash
        return error_report(f"cannot build {slug}: {error}", kind="catalogue")
    if result is not None and (wrt is not None or case is not None):
        return error_report("--result names the result itself: drop --wrt/--case", "catalogue")
    work = functools.partial(_catalogue_claim, slug, claim, wrt, case, result, seed)
    return _run(work, timeout, isolate, kind="catalogue")


def _catalogue_claim(slug, claim, wrt, case, result, seed) -> VerifyReport:
    # lazy: a catalogue claim loads the check runner and the registry's derivations
    from workbench.verify.catalogue import verify_catalogue_claim, verify_result_claim

    if result is not None:
        return verify_result_claim(registry.get(slug), claim, result, seed)
    return verify_catalogue_claim(registry.get(slug), claim, wrt, case, seed)


# ---------------------------------------------------------------- argument checks
SHAPE_TEXT = re.compile(r"[0-9]+(x[0-9]+)?")  # ASCII digits only: "²".isdigit() is True
MAX_CONSTANT_DIGITS = 4000  # Python prints no integer of more than 4300 digits


def _check_text(name: str, value: object) -> None:
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a string, not {type(value).__name__}")


def _check_options(shapes, layout, seed, timeout) -> dict | None:
    """Raise TypeError/ValueError for misuse of the API; returns ``shapes`` as a dict."""
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"seed must be an integer, not {type(seed).__name__}")
    if seed < 0:
        raise ValueError(f"seed must be 0 or more, not {seed}")
    if check_seconds(timeout, "timeout") <= 0:
        raise ValueError(f"timeout must be more than 0 seconds, not {timeout}")
    if layout is not None and not isinstance(layout, str):
        raise TypeError(f"layout must be a string, not {type(layout).__name__}")
    if shapes is None:
        return None
    if not isinstance(shapes, Mapping):
        raise TypeError(
            f"shapes must be a mapping such as {{'A': '3x3', 'z': 4}}, not {type(shapes).__name__}"
        )
    for name, size in shapes.items():
        if not isinstance(name, str):
            raise TypeError(f"shapes: a name must be a string, not {type(name).__name__}")
        sizes = size if isinstance(size, tuple) else (size,)
        if isinstance(size, str):
            if not SHAPE_TEXT.fullmatch(size.strip()):
                raise ValueError(f"shapes[{name!r}]: {size!r} is not N or MxN, e.g. 4 or 3x2")
        elif not (
            1 <= len(sizes) <= 2
            and all(isinstance(n, int) and not isinstance(n, bool) for n in sizes)
        ):
            raise TypeError(f"shapes[{name!r}]: expected 4, '3x2' or (3, 2), not {size!r}")
    return dict(shapes)


def _check_constants(expr, where: str) -> None:
    """Refuse an integer too long to print, before it costs a verdict at the end."""
    for atom in expr.atoms(sp.Rational):
        digits = max(abs(atom.p).bit_length(), atom.q.bit_length()) * 0.30103  # log10(2)
        if digits > MAX_CONSTANT_DIGITS:
            raise ParseError(
                f"{where}: a constant of about {int(digits)} digits is too large "
                f"(at most {MAX_CONSTANT_DIGITS})"
            )


# ---------------------------------------------------------------- one claim
def _claim(function, wrt, claim, shapes, layout, seed, assume=()) -> VerifyReport:
    check_layout(layout)
    stated = assumptions.read(assume, Scope(declare(shapes_from(shapes))), wrt)
    scope = stated.scope
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
    for where, expr in (("--function", value), ("--claim", claimed)):
        _check_constants(expr, where)
    problem = Problem(
        claim=claimed,
        expected=truth,
        variables=inputs(names_in(function_node, claim_node), scope),
        defined=(value,),
        facts=stated.facts,
        domain=stated.domain,
        positive_definite=stated.positive_definite,
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
        parsed_claim=shown_claim(claim, claim_node),
        expected=value_text(truth),
        expected_math=value_math(truth),
        counterexample=outcome.counterexample,
        diagnosis=outcome.diagnosis,
        claim_latex=claim_latex(claim_node, _matrix_names(shapes)),
        expected_latex=expr_to_latex(truth),
        convention=convention,
        detail=outcome.detail,
        confirmation=confirmation,
        assumptions=stated.said,
    )


# ---------------------------------------------------------------- isolation
def _matrix_names(shapes) -> list[str]:
    """The declared names that hold a vector or a matrix (for printing ⊙)."""
    return [name for name, dims in shapes_from(shapes).items() if dims != (1, 1)]


def error_report(message: str, kind: str = "claim") -> VerifyReport:
    """A report for input that could not be understood; the message is one line."""
    return VerifyReport("error", None, None, None, kind=kind, error=" ".join(message.split()))


def _run(work: Callable[[], VerifyReport], timeout: float, isolate: bool, kind="claim"):
    start = time.monotonic()
    if isolate:
        try:
            report = run_in_child(functools.partial(_guarded, work, kind, True), timeout)
        except TimeBudgetExceeded as error:
            report = _gave_up(timeout, error, kind)
    else:
        try:
            with time_limit(timeout):
                report = _guarded(work, kind)
        except TimeBudgetExceeded as error:
            report = _gave_up(timeout, error, kind)
    return replace(report, seconds=time.monotonic() - start)


def run_bounded(
    work: Callable[[], VerifyReport], timeout: float, isolate: bool = True, kind: str = "claim"
) -> VerifyReport:
    """``work()`` under a time limit (in a child with a memory limit when ``isolate``);
    any failure is an error report of one line, running out of time "undecided"."""
    return _run(work, timeout, isolate, kind)


def _gave_up(timeout: float, error: Exception, kind: str) -> VerifyReport:
    """Out of time is its own verdict, "undecided" (neither right nor wrong was shown);
    a child that died otherwise is an error."""
    if "exceeded" in str(error):
        return undecided_report(
            f"no verdict within {timeout:g} s; give it longer with --timeout SECONDS "
            "(the input may be too large or too hard to decide)",
            kind,
        )
    return error_report(f"the check stopped unexpectedly: {error}", kind)


def undecided_report(detail: str, kind: str = "claim") -> VerifyReport:
    """A report for a claim the verifier could not decide within its time limit."""
    return VerifyReport("undecided", None, None, None, kind=kind, detail=detail)


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
    "run_bounded",
]
