"""The default test suite's run time, now and before the performance work (goal: ≤ +10%).

Runs `python -m pytest` (the README's test command without the install; `slow` tests
deselected, as on a developer's machine) on the working tree and on the code of an
earlier commit, exported with ``git archive`` to a temporary directory, side by side in
one run and alternating when there are several rounds, so that load affects both alike.
The earlier code runs with its own tests: the comparison is "the suite a developer waits
for", then and now. The default earlier commit, 517f29d, is the last one before the
performance work (the directional SymPy diff check, the faster normal form, the
combined gradient code, the sparse rational tier of the equality checker).

    python benchmarks/bench_test_suite.py                  # ~5 minutes on two cores
    python benchmarks/bench_test_suite.py --before REV --rounds 2
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import tempfile
from pathlib import Path

from common import ROOT, exported, run_in_tree, table, write

BEFORE = "517f29d"
GOAL = 1.10  # now / before


def run_suite(code: Path) -> tuple[float, str]:
    """(wall seconds, pytest's summary line) of the default suite of the code in ``code``."""
    env = {k: v for k, v in os.environ.items() if k != "CI"}  # CI=true would run slow tests
    wall, out = run_in_tree(["-m", "pytest", "-q", "-p", "no:cacheprovider"], code, env)
    lines = [line for line in out.stdout.splitlines() if line.strip()]
    summary = re.sub(r"^=+ | =+$", "", lines[-1]) if lines else out.stderr.strip()[-200:]
    if out.returncode != 0:
        raise SystemExit(f"the suite failed in {code}: {summary}")
    return wall, summary


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", metavar="REV", default=BEFORE, help=f"default {BEFORE}")
    parser.add_argument("--rounds", type=int, default=1, help="runs of each (default 1)")
    args = parser.parse_args()
    times: dict[str, list[float]] = {args.before: [], "now": []}
    summaries: dict[str, str] = {}
    with tempfile.TemporaryDirectory() as scratch:
        trees = {args.before: exported(args.before, Path(scratch)), "now": ROOT}
        for round_ in range(args.rounds):
            for name, code in trees.items():
                wall, summaries[name] = run_suite(code)
                times[name].append(wall)
                print(f"round {round_ + 1}, {name}: {wall:.1f} s ({summaries[name]})", flush=True)
    median = {name: statistics.median(t) for name, t in times.items()}
    ratio = median["now"] / median[args.before]
    rows = [[name, f"{median[name]:.1f} s", summaries[name]] for name in times]
    body = (
        table(["code", "wall time (median)", "pytest's summary"], rows)
        + f"\n\n- now / {args.before}: {ratio:.2f}× "
        + f"(goal ≤ {GOAL:.2f}×: {'met' if ratio <= GOAL else 'NOT met'})"
        + f"\n- {args.rounds} round(s), alternating; `python -m pytest` without `CI`, so "
        "tests marked slow are deselected in both."
    )
    write("bench_test_suite", "Default test suite time, before and after", body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
