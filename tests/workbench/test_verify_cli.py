"""``workbench verify`` as scripts call it: exit status, JSON, speed (process start included)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

STEPS = Path(__file__).parents[1] / "data" / "steps"
ROOT = Path(__file__).parents[2]


def verify(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    # The timeout bounds a hang; how fast a claim is decided is a benchmark, not a test.
    return subprocess.run(
        [sys.executable, "-m", "workbench", "verify", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
    )


def test_scalar_claim_is_right():
    done = verify("--function", "log(1 + exp(x))", "--wrt", "x", "--claim", "sigmoid(x)")
    assert done.returncode == 0, done.stderr
    assert "correct (symbolic)" in done.stdout


def test_matrix_claim_json():
    done = verify(
        "--function", "log(det(X))", "--wrt", "X", "--claim", "inv(X)", "--shape", "X=3x3", "--json"
    )  # fmt: skip
    assert done.returncode == 1, done.stderr
    document = json.loads(done.stdout)
    assert document["verdict"] == "incorrect" and document["method"] in ("symbolic", "numeric")
    assert document["parsed_claim"] == "inv(X)" and document["expected"]
    assert set(document["counterexample"]) >= {"point", "claimed", "true"}
    assert "transposed" in document["diagnosis"]


def test_steps_file_reports_the_first_invalid_line():
    done = verify(
        "--steps", str(STEPS / "quadratic_form_broken_line4.txt"), "--shape", "x=3", "A=3x3",
        "--json",
    )  # fmt: skip
    assert done.returncode == 1, done.stderr
    document = json.loads(done.stdout)
    assert document["first_invalid_line"] == 4
    assert "symmetric" in document["diagnosis"]


def test_catalogue_claim():
    done = verify("softmax-jacobian", "--claim", "diag(s) - s @ s.T")
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--function", "x**2", "--wrt", "x", "--claim", "2x)"], "unexpected ')' (column 3)"),
        (["--function", "x", "--wrt", "x", "--claim", "9**9**9**9"], "exponent"),
        (["--function", "x", "--wrt", "x", "--claim", "(" * 3000 + "x" + ")" * 3000], "too"),
        (["--function", "x", "--wrt", "x"], "--function needs --wrt X and --claim G"),
        (["--function", "x", "--wrt", "x", "--claim", "1", "--shape", "x"], "NAME=N"),
    ],
)
def test_bad_input_exits_2_with_one_line(args, message):
    done = verify(*args)
    assert done.returncode == 2
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], done.stderr


def test_hostile_input_through_the_command_line_executes_nothing(tmp_path):
    marker = tmp_path / "MARKER"
    done = verify(
        "--function", f"__import__('os').system('touch {marker}')", "--wrt", "x", "--claim", "1",
        "--json",
    )  # fmt: skip
    assert done.returncode == 2
    assert json.loads(done.stdout)["verdict"] == "error"
    assert not marker.exists()


def test_help_teaches_with_examples():
    done = verify("--help")
    assert done.returncode == 0
    for phrase in ("examples:", "--steps", "--layout", "softmax-jacobian", "diff(F, x)"):
        assert phrase in done.stdout


@pytest.mark.parametrize("claim", [["--claim", "-2*x"], ["--claim=-2*x"]])
def test_a_claim_starting_with_a_minus_sign_is_read(claim):
    """``--claim -2*x`` was refused by argparse ("expected one argument"); it is the
    claim -2x, which for x² has its sign flipped."""
    done = verify("--function", "x**2", "--wrt", "x", *claim)
    assert done.returncode == 1, done.stderr
    assert "sign flipped" in done.stdout
    done = verify("--function", "x**2", "--wrt", "x", "--claim", "--json")
    assert done.returncode == 2 and "expected one argument" in done.stderr


def test_out_of_time_is_undecided_with_its_own_exit_status():
    args = ("--function", "det(X)", "--wrt", "X", "--claim", "det(X) * inv(X).T")
    done = verify(*args, "--shape", "X=8x8", "--timeout", "1")
    assert done.returncode == 3, done.stderr
    assert (
        done.stdout.startswith("? undecided: no verdict within 1 s") and "--timeout" in done.stdout
    )
    assert all(len(line) <= 80 for line in done.stdout.splitlines())
    done = verify(*args, "--shape", "X=8x8", "--timeout", "1", "--json")
    assert done.returncode == 3 and json.loads(done.stdout)["verdict"] == "undecided"


def test_every_line_of_a_report_fits_80_columns():
    """The "how" and "convention" lines ran to 140 columns; they wrap under themselves."""
    done = verify(
        "--function", "log(det(X))", "--wrt", "X", "--claim", "inv(X)", "--shape", "X=3x3"
    )
    assert done.returncode == 1, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) > 5 and all(len(line) <= 80 for line in lines), done.stdout
