"""Fuzzing the inputs a user controls: expressions, claims, shapes, step files, arguments.

Well-formed, malformed and hostile inputs are generated, and the contract is asserted:
a verdict or an ``error`` report (exit 0, 1 or 2 on the command line), or the documented
``TypeError``/``ValueError`` for misuse of the API; on error one clear line and no
traceback; no file created outside the output folder; an answer within its time bound.
A marker-file test proves no payload is ever executed.

A bounded part runs in the default suite; the ``slow`` tests (run in CI) try many more.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from workbench.verify import api as verify

TIMEOUT = 3.0  # seconds each verification may take
SLACK = 10.0  # process start and a loaded machine, on top of TIMEOUT
VERDICTS = {"correct", "incorrect", "error", "undecided"}
ROOT = Path(__file__).resolve().parents[1]

FEW = settings(
    max_examples=12,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
MANY = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

# ---------------------------------------------------------------- what is generated
NAMES = st.sampled_from(["x", "y", "z", "A", "W", "s", "t"])
NUMBERS = st.integers(0, 10**6).map(str) | st.sampled_from(["0.5", "1/2", "3.25", "1e-3"])
FUNCTIONS = st.sampled_from(
    [
        *("exp", "log", "sqrt", "sin", "cos", "tanh", "sigmoid", "relu", "abs", "sum"),
        *("trace", "det", "inv", "diag", "softmax"),
    ]
)


def _combine(children):
    binary = st.tuples(children, st.sampled_from(["+", "-", "*", "/", "@", "**", "^"]), children)
    return (
        binary.map(lambda t: f"({t[0]} {t[1]} {t[2]})")
        | st.tuples(FUNCTIONS, children).map(lambda t: f"{t[0]}({t[1]})")
        | children.map(lambda c: f"({c}).T")
        | children.map(lambda c: f"-{c}")
        | st.tuples(children, children).map(lambda t: f"outer({t[0]}, {t[1]})")
    )


WELL_FORMED = st.recursive(NAMES | NUMBERS, _combine, max_leaves=12)
MALFORMED = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=80
) | st.text(alphabet="()[]{}+-*/@^.,=#xyzA0123456789eE_ \t\n'\"\\", max_size=80)
HOSTILE = st.sampled_from(
    [
        "__import__('os').system('touch MARKER')",
        "open('MARKER', 'w')",
        "exec('import os')",
        "eval('1')",
        "lambda: 1",
        "().__class__.__bases__[0].__subclasses__()",
        "x.__class__",
        "x._sympy_",
        "globals()",
        "getattr(x, 'T')",
        "Symbol('MARKER')",
        "x" * 5000,
        "(" * 500 + "x" + ")" * 500,
        "x" + "**9" * 60,
        "9**9**9**9",
        "10**" + "9" * 29,
        "sum(" * 150 + "x" + ")" * 150,
        "diff(x, x)",
        "\x00",
        "x\n= y",
        "x; import os",
        "`x`",
        "𝑥 + 1",
        "x # comment",
        "1/0",
        "log(0)",
        "inv(0)",
        "eye(100000)",
        "eye(-1)",
        "outer(x, x) @ outer(x, x)",
    ]
)
EXPRESSIONS = WELL_FORMED | MALFORMED | HOSTILE
SHAPES = st.dictionaries(
    st.sampled_from(["x", "y", "z", "A", "W"]) | st.text(max_size=4),
    st.integers(-3, 6)
    | st.sampled_from(["3x3", "2x4", "4", "1", "0", "3x", "x3", "²", "100000x100000", "-1"])
    | st.tuples(st.integers(-1, 5), st.integers(-1, 5)),
    max_size=3,
)


def assert_contract(report, started: float) -> None:
    assert report.verdict in VERDICTS
    if report.verdict == "error":
        assert report.error and "\n" not in report.error
        assert "Traceback" not in report.error
    assert time.monotonic() - started < TIMEOUT + SLACK


def check_claim_contract(function, wrt, claim, shapes) -> None:
    started = time.monotonic()
    try:
        report = verify.check_claim(function, wrt, claim, shapes=shapes, timeout=TIMEOUT)
    except (TypeError, ValueError) as error:  # the documented misuse of the API
        assert "\n" not in str(error)
        return
    assert_contract(report, started)


def steps_text(draw_lines) -> str:
    first, rest = draw_lines
    return "\n".join([first, *[f"= {line}" for line in rest]])


STEP_FILES = st.tuples(
    EXPRESSIONS | WELL_FORMED.map(lambda e: f"diff({e}, x)"), st.lists(EXPRESSIONS, max_size=4)
).map(steps_text) | st.binary(max_size=300).map(lambda b: b.decode("latin-1"))


# ---------------------------------------------------------------- the API, in process
@FEW
@given(function=EXPRESSIONS, wrt=NAMES, claim=EXPRESSIONS, shapes=SHAPES | st.none())
def test_claims_answer_within_their_bound(function, wrt, claim, shapes):
    check_claim_contract(function, wrt, claim, shapes)


@FEW
@given(text=STEP_FILES, shapes=SHAPES | st.none())
def test_step_files_answer_within_their_bound(tmp_path, text, shapes):
    path = tmp_path / "steps.txt"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    started = time.monotonic()
    try:
        report = verify.check_steps(path, shapes=shapes, timeout=TIMEOUT)
    except (TypeError, ValueError) as error:
        assert "\n" not in str(error)
        return
    assert_contract(report, started)


@FEW
@given(
    function=st.none() | st.integers() | st.binary() | st.lists(st.integers()) | EXPRESSIONS,
    wrt=st.none() | st.integers() | NAMES,
    shapes=st.none() | st.text(max_size=5) | st.integers() | SHAPES,
    seed=st.integers(-(2**70), 2**70) | st.floats() | st.none(),
    timeout=st.floats(allow_nan=True) | st.integers(-5, 5) | st.none(),
)
def test_misuse_of_the_api_is_a_documented_exception_or_a_report(
    function, wrt, shapes, seed, timeout
):
    started = time.monotonic()
    try:
        report = verify.check_claim(
            function, wrt, "x", shapes=shapes, seed=seed, timeout=timeout or TIMEOUT
        )
    except (TypeError, ValueError) as error:
        assert "\n" not in str(error) and str(error)
        return
    assert_contract(report, started)


# ---------------------------------------------------------------- no payload ever runs
PAYLOADS = [
    "__import__('pathlib').Path('{m}').touch()",
    "open('{m}', 'w').close()",
    "exec(\"open('{m}', 'w')\")",
    "eval(\"open('{m}', 'w')\")",
    "__builtins__.open('{m}', 'w')",
    "compile('open(\\'{m}\\', \\'w\\')', 'x', 'exec')",
    "(lambda: open('{m}', 'w'))()",
    "[c for c in ().__class__.__base__.__subclasses__()]",
    "Function('open')('{m}', 'w')",
    "sympify(\"open('{m}', 'w')\")",
    "parse_expr(\"open('{m}', 'w')\")",
]


def test_no_payload_is_ever_executed(tmp_path, monkeypatch):
    """Every payload, in every place a user's text goes, leaves the marker file absent."""
    monkeypatch.chdir(tmp_path)
    marker = tmp_path / "MARKER"
    for template in PAYLOADS:
        payload = template.format(m=marker)
        reports = [
            verify.check_claim(payload, "x", "x", timeout=TIMEOUT),
            verify.check_claim("x", "x", payload, timeout=TIMEOUT),
            verify.check_claim("x", payload, "x", timeout=TIMEOUT),
            verify.check_steps(f"x\n= {payload}", timeout=TIMEOUT),
            verify.check_catalogue_claim("softmax-jacobian", payload, timeout=TIMEOUT),
        ]
        assert all(r.verdict == "error" for r in reports), payload
        assert not marker.exists(), payload
    assert sorted(p.name for p in tmp_path.iterdir()) == []


# ---------------------------------------------------------------- the command line
ARGUMENTS = st.lists(
    st.sampled_from(
        [
            *("--function", "--wrt", "--claim", "--steps", "--shape", "--layout", "--seed"),
            *("--timeout", "--json", "--case", "softmax-jacobian", "x", "A=3", "-1", "inf"),
            *("nan", "1e308", "/dev/zero", "-", "jacobian", "0", "--all", "-o", "out"),
        ]
    )
    | EXPRESSIONS.filter(lambda s: "\x00" not in s),
    max_size=7,
)
COMMANDS = st.sampled_from(["verify", "check", "show", "handout", "list", "rules", "nope", ""])


def run_command(tmp_path: Path, command: str, arguments: list[str]) -> None:
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    before = {p.relative_to(work) for p in work.rglob("*")}
    args = [command, *arguments] if command else arguments
    if command in {"check", "handout"}:  # bounded: only unknown slugs and bad options
        args = [command, "no-such-slug", *arguments]
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "workbench", *args],
        capture_output=True,
        text=True,
        errors="replace",
        cwd=work,
        stdin=subprocess.DEVNULL,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert done.returncode in {0, 1, 2}, (args, done.returncode, done.stderr[-500:])
    assert "Traceback" not in done.stderr, (args, done.stderr)
    if done.returncode == 2:
        message = [line for line in done.stderr.splitlines() if "error" in line]
        assert len(message) == 1, (args, done.stderr)
    created = {p.relative_to(work) for p in work.rglob("*")} - before
    assert all(p.parts[0] == "out" for p in created), (args, created)
    assert time.monotonic() - started < 60


@settings(max_examples=4, deadline=None, derandomize=True)
@given(command=COMMANDS, arguments=ARGUMENTS)
def test_the_command_line_keeps_its_exit_statuses(tmp_path_factory, command, arguments):
    run_command(tmp_path_factory.mktemp("cli"), command, arguments)


# ---------------------------------------------------------------- more, in CI
@pytest.mark.slow
@MANY
@given(function=EXPRESSIONS, wrt=NAMES, claim=EXPRESSIONS, shapes=SHAPES | st.none())
def test_many_claims_answer_within_their_bound(function, wrt, claim, shapes):
    check_claim_contract(function, wrt, claim, shapes)


@pytest.mark.slow
@MANY
@given(text=STEP_FILES, shapes=SHAPES | st.none())
def test_many_step_files_answer_within_their_bound(tmp_path, text, shapes):
    test_step_files_answer_within_their_bound.hypothesis.inner_test(tmp_path, text, shapes)


@pytest.mark.slow
@settings(max_examples=40, deadline=None)
@given(command=COMMANDS, arguments=ARGUMENTS)
def test_many_command_lines_keep_their_exit_statuses(tmp_path_factory, command, arguments):
    run_command(tmp_path_factory.mktemp("cli"), command, arguments)
