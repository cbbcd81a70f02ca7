"""The command line follows the contract in shared/design.md."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys

import pytest

from workbench.cli import commands as cli
from workbench.core import registry


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "workbench", *args], capture_output=True, text=True, timeout=300
    )


@pytest.mark.parametrize("command", [["--help"], ["list"], ["list", "--json"]])
def test_help_and_list_do_not_load_sympy(command):
    # Why they start fast: nothing imports SymPy until a command needs it.
    probe = (
        "import sys\nfrom workbench.cli import main\n"
        f"try:\n    main({command!r})\nexcept SystemExit:\n    pass\n"
        "print('SYMPY LOADED' if 'sympy' in sys.modules else 'SYMPY NOT LOADED')"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().endswith("SYMPY NOT LOADED")


def test_help_teaches():
    out = run("--help")
    assert out.returncode == 0
    for word in ("check", "show", "list", "examples", "Jacobian", "denominator layout"):
        assert word in out.stdout


def test_list_names_every_result(capsys):
    assert cli.main(["list"]) == 0
    out = capsys.readouterr().out
    for slug in registry.slugs():
        assert slug in out


def test_unknown_slug_is_one_clear_line():
    out = run("check", "softmax-jacobain")
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in out.stderr
    assert "unknown derivation 'softmax-jacobain'" in lines[0]
    assert "did you mean 'softmax-jacobian'?" in lines[0]
    assert len(lines[0]) <= 120, "the message names the close slug, not all of them"


def test_an_unrelated_slug_gets_no_guess():
    out = run("show", "xyz")
    assert out.returncode == 2 and "did you mean" not in out.stderr
    assert "(see `workbench list`)" in out.stderr


def test_show_prints_steps_with_rules(capsys):
    assert cli.main(["show", "softmax-jacobian"]) == 0
    out = capsys.readouterr().out
    assert "[quotient rule]" in out and "[Kronecker delta]" in out
    assert "(δ(i,j) - s[j])*s[i]" in out


def test_check_json_contract():
    out = run("check", "softmax-jacobian", "--json")
    assert out.returncode == 0, out.stderr
    document = json.loads(out.stdout)
    (result,) = document["results"]
    assert result["slug"] == "softmax-jacobian" and result["passed"] is True
    for check in result["checks"]:
        assert {"name", "passed", "method", "max_error"} <= set(check)
    assert "softmax-jacobian: steps" in out.stderr  # progress goes to stderr


def test_check_table_and_exit_status_when_a_check_fails(monkeypatch, capsys):
    from derivations import softmax_jacobian as sj

    good = sj.build()
    wrong_result = dataclasses.replace(good.results[0], closed_form=sj.s * sj.s.T)
    broken = dataclasses.replace(good, results=(wrong_result,))
    monkeypatch.setattr(registry, "get", lambda slug: broken)
    status = cli.main(["check", "softmax-jacobian", "--quiet"])
    out = capsys.readouterr().out
    assert status == 1
    assert "✗" in out and "0 of 1 derivation passed" in out


def test_rules_lists_every_rule_once_within_80_columns(capsys):
    from workbench.core.vocabulary import RULES

    assert cli.main(["rules"]) == 0
    out = capsys.readouterr().out
    names = [line for line in out.splitlines() if not line.startswith(" ")]
    assert len(names) == len(set(names)), "a rule listed twice"
    assert set(names) == {rule.name for rule in RULES}
    for rule in RULES:
        assert " ".join(rule().statement.split()[:3]) in " ".join(out.split()), rule.name
    assert max(len(line) for line in out.splitlines()) <= 80


def test_rules_json_lists_the_forms_of_a_law_under_one_name(capsys):
    assert cli.main(["rules", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    linearity = [r for r in rows if r["name"] == "linearity of expectation"]
    assert len(linearity) == 1 and len(linearity[0]["statements"]) == 3


def test_a_closed_pipe_ends_quietly(monkeypatch, capsys):
    # `workbench rules | head -1`: the reader leaves early; no traceback, SIGPIPE's status.
    class ClosedPipe:
        def write(self, text):
            raise BrokenPipeError(32, "Broken pipe")

        def flush(self):
            pass

    monkeypatch.setattr(sys, "stdout", ClosedPipe())
    assert cli.main(["rules"]) == cli.SIGPIPE_STATUS
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("slug", ["softmax-jacobian", "attention-gradient", "layernorm-backward"])
def test_show_fits_80_columns_when_not_a_terminal(slug, capsys):
    assert cli.main(["show", slug]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert max(len(line) for line in lines) <= 80
    if slug == "attention-gradient":  # its sums run past 80 columns unwrapped
        assert any(line.startswith("          ") for line in lines)


def test_the_check_table_fits_80_columns_and_keeps_every_verdict():
    from workbench.checks.report import CheckResult, DerivationReport

    def checks(ok: bool):
        return (
            CheckResult("steps", True, "proved"),
            CheckResult("closed form", True, "tested"),
            CheckResult("sympy diff", True, "tested"),
            CheckResult("finite differences", ok, "central", 2e-11, "" if ok else "x " * 80),
            CheckResult("complex step", True, "complex-step", 3e-16),
            CheckResult("numeric identity", True, "float64", 2e-16),
            CheckResult("facts", True, "proved"),
        )

    slugs = ["logistic-regression-gradient", "softmax-jacobian", "nll-equals-cross-entropy"]
    reports = [DerivationReport(s, s, checks(s != "softmax-jacobian")) for s in slugs]
    narrow = cli.render_table(reports, 80)
    assert max(len(line) for line in narrow.splitlines()) <= 80
    legend = 1
    assert narrow.count("✓S") == 6 + legend and narrow.count("✓N") == 6 + legend
    assert "✗ 2e-11" in narrow
    assert "✓S proved symbolically" in narrow
    wide = cli.render_table(reports, 200)
    assert "✓ proved" in wide and "✓S" not in wide and "logistic-regression-gradient" in wide


def test_monte_carlo_errors_in_the_check_table_are_labelled_with_samples_and_tolerance():
    """Failed before: "indep. numeric" showed "✓ 3e-03" for a Monte Carlo estimate, read
    as a loose float tolerance. The planted mistake: the same error from a computation
    that does not sample gets no label (it is a float error, and is read as one)."""
    from workbench.checks.report import CheckResult, DerivationReport

    def numeric(what: str) -> CheckResult:
        items = (
            {"what": what, "passed": True, "max_rel_error": 3e-3, "tolerance": 1.4e-2},
            {"what": "constant gradient, exactly", "passed": True, "max_rel_error": 2e-16},
        )
        return CheckResult("numeric", True, "numeric", 3e-3, "", items=items)

    sampled = numeric("E[mₜ], t = 1..12, by 20 000 simulated runs (5 standard errors)")
    exact = numeric("KL by numerical integration (mpmath.quad) at random pairs")
    steps = CheckResult("steps", True, "proved")
    table = cli.render_table([DerivationReport("adam-bias-correction", "x", (steps, sampled))])
    assert "✓ 3e-03†" in table and max(len(line) for line in table.splitlines()) <= 80
    note = " ".join(table.split("†:", 1)[1].split())
    assert "Monte Carlo" in note and "not a loose float tolerance" in note
    assert "20,000 runs" in note and "error 3e-03 ≤ its tolerance 1e-02" in note
    assert "(5 standard errors)" in note
    plain = cli.render_table([DerivationReport("gaussian-kl", "x", (steps, exact))])
    assert "†" not in plain and "✓ 3e-03" in plain
    # The catalogue's nine columns with a sampled error in the last still fit 80 columns
    # (with " MC" after the number they took 82).
    names = ("steps", "closed form", "sympy diff", "finite differences", "complex step")
    names += ("facts", "numeric identity", "independent symbolic")
    full = [CheckResult(n, True, "tested", 1e-10 if "step" in n else None) for n in names]
    wide = cli.render_table([DerivationReport("perplexity", "x", (*full, sampled))])
    assert "✓ 3e-03†" in wide and max(len(line) for line in wide.splitlines()) <= 80, wide


def test_a_check_that_only_assumed_earns_no_check_mark_in_any_face():
    """Failed before: a facts check whose every fact is an assumption passed, and the
    table printed it as "✓ assumed", the notebook and the handout with a check mark."""
    from workbench.checks.report import CheckResult, DerivationReport
    from workbench.notebook.display import tabulate
    from workbench.render.handout import HANDOUT_STYLE
    from workbench.render.handout_sections import PASSED, Context, _check_row

    assumed = CheckResult("facts", True, "assumed", items=({"method": "assumed"},))
    mixed = CheckResult(
        "facts", True, "tested", items=({"method": "assumed"}, {"method": "tested"})
    )
    report = DerivationReport("cross-entropy-gradient", "x", (assumed,))
    for width in (80, 200):
        table = cli.render_table([report], width)
        row = next(line for line in table.splitlines() if line.startswith("cross"))
        assert "assumed" in row and "✓" not in row
    assert "✓N+A" in cli.render_table([DerivationReport("s", "x", (mixed,) * 9)], 80)
    assert tabulate(report).rows()[0][0] == "assumed"
    context = Context(None, report, {}, HANDOUT_STYLE, {}, (), 0)
    assert PASSED not in _check_row(context, assumed) and "assumed" in _check_row(context, assumed)
    assert PASSED in _check_row(context, mixed) and "1 assumed, not checked" in _check_row(
        context, mixed
    )


@pytest.mark.parametrize(
    "command", [[], ["list"], ["show"], ["check"], ["rules"], ["verify"], ["handout"], ["note"]]
)
def test_every_help_fits_80_columns(command):
    """The verify and handout help ran to 93 columns; long rows now wrap under their
    value, prose as paragraphs, and examples keep their lines."""
    done = subprocess.run(
        [sys.executable, "-m", "workbench", *command, "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        env={k: v for k, v in os.environ.items() if k != "COLUMNS"},
    )
    assert done.returncode == 0, done.stderr
    long = [line for line in done.stdout.splitlines() if len(line) > 80]
    assert not long, "\n".join(long)
