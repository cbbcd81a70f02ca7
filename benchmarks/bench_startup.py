"""Start-up: `workbench --help` and `workbench list` against `python -c "import sympy"`.

Each command runs as a fresh process, the competitors interleaved round by round so that
load affects them alike; the table gives the median and the best wall time of the runs.
`python -c pass` shows what any Python process costs here. The installed `workbench`
script is timed as well as `python -m workbench` when it is on the PATH.

Goal: both workbench commands take less time than importing SymPy.

    python benchmarks/bench_startup.py
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import time

from common import ROOT, seconds, table, write

ROUNDS = 9


def commands() -> dict[str, list[str]]:
    python = sys.executable
    out = {
        'python -c "pass"': [python, "-c", "pass"],
        'python -c "import sympy"': [python, "-c", "import sympy"],
        "python -m workbench --help": [python, "-m", "workbench", "--help"],
        "python -m workbench list": [python, "-m", "workbench", "list"],
    }
    script = shutil.which("workbench")
    if script:
        out["workbench --help"] = [script, "--help"]
        out["workbench list"] = [script, "list"]
    return out


def main() -> None:
    runs: dict[str, list[float]] = {name: [] for name in commands()}
    for _ in range(ROUNDS):
        for name, argv in commands().items():
            start = time.perf_counter()
            subprocess.run(argv, cwd=ROOT, capture_output=True, check=True)
            runs[name].append(time.perf_counter() - start)
    sympy = statistics.median(runs['python -c "import sympy"'])
    rows, verdicts = [], []
    for name, times in runs.items():
        median = statistics.median(times)
        rows.append([f"`{name}`", seconds(median), seconds(min(times)), f"{median / sympy:.2f}"])
        if "workbench" in name:
            verdict = "met" if median < sympy else "NOT met"
            verdicts.append(f"- `{name}`: {median / sympy:.2f} of `import sympy` ({verdict})")
    body = (
        table(["command", "median", "best", "÷ import sympy (median)"], rows)
        + '\n\nGoal: less time than `python -c "import sympy"`.\n'
        + "\n".join(verdicts)
        + f"\n\n{ROUNDS} rounds, commands interleaved; wall time of the whole process."
    )
    write("bench_startup", "Start-up time", body)


if __name__ == "__main__":
    main()
