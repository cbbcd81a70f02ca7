"""How long `workbench check` takes on the five Tier 1 results (goal: under 60 s here).

Runs the full check of each result twice in one run, side by side: in one process
(WORKBENCH_WORKERS=1) and with the default worker processes, and prints the times and
their ratio. Wall time is what a user waits for; CPU time is what the budgets count.

    python benchmarks/tier1_check_time.py            # both ways
    python benchmarks/tier1_check_time.py --parallel # the default way only
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

TIER_ONE = (
    "softmax-jacobian",
    "cross-entropy-gradient",
    "nll-equals-cross-entropy",
    "two-layer-backprop",
    "attention-gradient",
)
GOAL_SECONDS = 60.0


def run(workers: str | None) -> tuple[float, dict[str, float], bool]:
    env = dict(os.environ)
    if workers is not None:
        env["WORKBENCH_WORKERS"] = workers
    start = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-m", "workbench", "check", *TIER_ONE, "--json", "--quiet"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    wall = time.perf_counter() - start
    document = json.loads(out.stdout)
    per_result = {r["slug"]: r["seconds"] for r in document["results"]}
    return wall, per_result, all(r["passed"] for r in document["results"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parallel", action="store_true", help="only the default (parallel) run")
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    runs = {"default workers": run(None)}
    if not args.parallel:
        runs["one process"] = run("1")
    print(f"{'result':<26}" + "".join(f"{name:>18}" for name in runs))
    for slug in TIER_ONE:
        print(f"{slug:<26}" + "".join(f"{r[1][slug]:>17.1f}s" for r in runs.values()))
    print(
        f"{'total (process start incl.)':<26}" + "".join(f"{r[0]:>17.1f}s" for r in runs.values())
    )
    parallel = runs["default workers"][0]
    if "one process" in runs:
        print(f"ratio one process / default workers: {runs['one process'][0] / parallel:.2f}x")
    verdict = "met" if parallel < GOAL_SECONDS else "NOT met"
    print(
        f"goal: under {GOAL_SECONDS:.0f} s with the default workers: {verdict} ({parallel:.1f} s)"
    )
    print("every check passed" if all(r[2] for r in runs.values()) else "SOME CHECKS FAILED")
    return 0


if __name__ == "__main__":
    sys.exit(main())
