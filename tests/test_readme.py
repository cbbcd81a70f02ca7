"""The README's commands and examples are the real ones.

- CI runs exactly the README's test command.
- The README's Python examples run and print what they show (doctest).
- Each `workbench verify` example exits as documented and prints the first line shown.
"""

from __future__ import annotations

import doctest
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
TEST_COMMAND = 'python -m pip install -e ".[dev]" && python -m pytest'
MAIN_COMMAND = "python -m pip install -e . && python -m workbench check"


def _blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README, flags=re.DOTALL)


def test_quick_start_has_exactly_the_two_commands():
    quick_start = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    commands = [block.strip() for block in re.findall(r"```bash\n(.*?)```", quick_start, re.S)]
    assert commands == [MAIN_COMMAND, TEST_COMMAND]


def test_ci_runs_the_readme_test_command_exactly():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    last_command = [line for line in ci.splitlines() if line.strip()][-1]
    assert last_command.strip() == TEST_COMMAND


@pytest.mark.slow
def test_python_examples_run():
    parser = doctest.DocTestParser()
    flags = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
    runner = doctest.DocTestRunner(optionflags=flags)
    for number, block in enumerate(_blocks("python")):
        test = parser.get_doctest(block, {}, f"README python block {number}", "README.md", 0)
        runner.run(test)
    assert runner.failures == 0, f"{runner.failures} README example(s) print something else"


def _verify_examples():
    for block in _blocks("console"):
        lines = block.splitlines()
        for i, line in enumerate(lines):
            if line.startswith("$ workbench verify"):
                shown = lines[i + 1] if i + 1 < len(lines) else ""
                yield pytest.param(line[2:], shown, id=line[19:60])


@pytest.mark.parametrize(("command", "first_line"), list(_verify_examples()))
def test_verify_examples_print_what_the_readme_shows(command, first_line):
    argv = shlex.split(command)
    out = subprocess.run(
        [sys.executable, "-m", "workbench", *argv[1:]],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    printed = (out.stdout or out.stderr).splitlines()
    assert printed, out.stderr
    assert printed[0].strip() == first_line.strip()
