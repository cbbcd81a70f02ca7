"""The full check of attention at T = d = e = 8, 16, 32: now and at an earlier commit.

Each size runs `check_derivation` on the attention derivation with every case checked at
that one size (as `bench_verification.py` does), in a fresh process on the code of a
tree: this one, and with ``--before REV`` the tree of REV (exported with ``git archive``
to a temporary directory; the working tree is untouched). The table gives, side by side,
the wall time of the full check, the CPU seconds of all its processes, and the SymPy diff
check's share, whose directional comparison is what grows with size.

Goal on this 2-core machine: the full check at T = d = 32 under 15 s.

    python benchmarks/attention_check_time.py                    # this tree
    python benchmarks/attention_check_time.py --before e18ecca   # and the code of e18ecca
    python benchmarks/attention_check_time.py --sizes 8 16 --limit 120
    python benchmarks/attention_check_time.py --family network --sizes 16 --before e18ecca
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from common import ROOT, exported, load, seconds, table, write

GOAL_SECONDS = 15.0
GOAL_SIZE = 32

# Run inside the tree measured: its own workbench, derivations and bench_verification.
PROGRAM = """
import json, resource, sys, time
sys.path.insert(0, "benchmarks")
from bench_verification import at_size, {family}_family
from workbench.core import registry
from workbench.checks.runner import check_derivation

family = {family}_family()
derivation = at_size(registry.get(family[0]), family[3]({size}))
wall, cpu = time.perf_counter(), time.process_time()
report = check_derivation(derivation)
wall = time.perf_counter() - wall
children = resource.getrusage(resource.RUSAGE_CHILDREN)
cpu = time.process_time() - cpu + children.ru_utime + children.ru_stime
checks = {{c.name: c.seconds for c in report.checks}}
print(json.dumps({{"wall": wall, "cpu": cpu, "checks": checks, "passed": report.passed}}))
"""


def measure(code: Path, size: int, limit: float, family: str = "attention") -> dict | None:
    """One full check at T = d = e = ``size`` (``--family network``: the net of
    bench_verification's size ``size``, 16 = 8-16-4) on the tree ``code``; None if over
    ``limit``."""
    # A session of its own, so that a run over the limit is stopped with its worker
    # processes: killing only the parent left its workers computing for half an hour,
    # and every later measurement ran on a loaded machine.
    process = subprocess.Popen(
        [sys.executable, "-c", PROGRAM.format(size=size, family=family)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(code)},
        cwd=code,
        start_new_session=True,
    )
    try:
        stdout, stderr = process.communicate(timeout=limit)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        return None
    if process.returncode != 0:
        raise subprocess.CalledProcessError(process.returncode, "check", stdout, stderr)
    out = subprocess.CompletedProcess(process.args, 0, stdout, stderr)
    return json.loads(out.stdout.strip().splitlines()[-1])


def cells(result: dict | None, limit: float) -> list[str]:
    if result is None:
        return [f"> {limit:.0f} s", "", "", ""]
    return [
        seconds(result["wall"]),
        f"{result['cpu']:.1f} s",
        seconds(result["checks"].get("sympy diff", 0.0)),
        "✓" if result["passed"] else "FAILED",
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", metavar="REV", help="also run the code of this commit")
    parser.add_argument("--sizes", type=int, nargs="+", default=[8, 16, 32])
    parser.add_argument("--limit", type=float, default=300.0, help="wall seconds per run")
    parser.add_argument(
        "--family",
        choices=["attention", "network"],
        default="attention",
        help="network: the two-layer net, sizes 8 = 4-8-3, 16 = 8-16-4 (d-m-n)",
    )
    args = parser.parse_args()
    print(load())
    trees = {"now": ROOT}
    with tempfile.TemporaryDirectory() as scratch:
        if args.before:
            trees[args.before] = exported(args.before, Path(scratch))
        header = ["T = d = e"]
        for name in trees:
            header += [f"{name}: full check", f"{name}: CPU", f"{name}: sympy diff", "passed"]
        rows, now = [], {}
        for size in args.sizes:
            row = [str(size)]
            for name, code in trees.items():
                result = measure(code, size, args.limit, args.family)
                if name == "now":
                    now[size] = result
                row += cells(result, args.limit)
                print(name, size, result, flush=True)
            rows.append(row)
    notes = []
    if args.family == "network":
        body = table(["d-m-n size", *header[1:]], rows)
        print(body)
        write("network_check_time", "The full check of the two-layer net against size", body)
        return 0
    if GOAL_SIZE in now:
        result = now[GOAL_SIZE]
        wall = None if result is None else result["wall"]
        met = wall is not None and wall < GOAL_SECONDS
        shown = f"{wall:.1f} s" if wall is not None else f"over {args.limit:.0f} s"
        notes.append(
            f"goal: the full check at T = d = {GOAL_SIZE} under {GOAL_SECONDS:.0f} s: "
            f"{'met' if met else 'NOT met'} ({shown})"
        )
    notes.append(
        "Wall seconds with the default worker processes; CPU seconds of the process and its "
        "workers. On a shared machine the wall time follows the load printed below."
    )
    body = table(header, rows) + "\n\n" + "\n".join(f"- {n}" for n in notes)
    print(body)
    write("attention_check_time", "The full check of attention against size", body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
