"""`workbench verify` per claim, process start included: this tree against an earlier one.

Twelve claims a learner types (right and wrong, scalar, vector, matrix, piecewise), each
run as a fresh `python -m workbench verify` process on the code of each tree, the trees
interleaved claim by claim and round by round so that load affects them alike. The
table gives each tree's median over claims of the per-claim median wall time, and the
paired ratio (this tree / the earlier one) per claim.

Goal: the median claim at or below the earlier tree's (about 1.1 s on this machine).

    python benchmarks/bench_verify_claims.py --before e68f5f7
"""

from __future__ import annotations

import argparse
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import ROOT, exported, load, seconds, table, write

ROUNDS = 3
BEFORE = "e68f5f7"
CLAIMS = [
    shlex.split(text)
    for text in (
        "--function 'log(1 + exp(x))' --wrt x --claim 'sigmoid(x)'",
        "--function 'x**2*sin(x)' --wrt x --claim '2*x*sin(x)'",
        "--function 'sin(x**2)' --wrt x --claim 'cos(x**2)'",
        "--function 'relu(x)' --wrt x --claim 'step(x)'",
        "--function 'abs(x)' --wrt x --claim 1",
        "--function 'x.T @ A @ x' --wrt x --claim '2*A @ x' --shape x=3 A=3x3",
        "--function 'x.T @ A @ x' --wrt x --claim '(A + A.T) @ x' --shape x=3 A=3x3",
        "--function 'log(det(X))' --wrt X --claim 'inv(X).T' --shape X=3x3",
        "--function 'sum(softmax(z) * y)' --wrt z --claim 'softmax(z) * y' --shape z=4 y=4",
        "--function 'softmax(z)' --wrt z --claim 'diag(softmax(z))' --shape z=3",
        "softmax-jacobian --claim 'diag(s) - s @ s.T'",
        "cross-entropy-gradient --claim 's - y' --wrt z",
    )
]


def run(code: Path, claim: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "workbench", "verify", *claim],
        cwd=code,
        env={**os.environ, "PYTHONPATH": str(code)},
        capture_output=True,
        timeout=120,
        check=False,
    )
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--before",
        metavar="REV",
        default=BEFORE,
        help=f"the earlier commit (default {BEFORE}, before this round's language work)",
    )
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    args = parser.parse_args()
    print(load())
    with tempfile.TemporaryDirectory() as scratch:
        trees = {"now": ROOT, args.before: exported(args.before, Path(scratch))}
        times: dict[str, list[list[float]]] = {name: [[] for _ in CLAIMS] for name in trees}
        for _ in range(args.rounds):
            for number, claim in enumerate(CLAIMS):
                for name, code in trees.items():
                    times[name][number].append(run(code, claim))
    medians = {name: [statistics.median(t) for t in per] for name, per in times.items()}
    rows = []
    for number, claim in enumerate(CLAIMS):
        now, before = medians["now"][number], medians[args.before][number]
        rows.append([" ".join(claim)[:60], seconds(now), seconds(before), f"{now / before:.2f}"])
    overall = {name: statistics.median(values) for name, values in medians.items()}
    ratios = [a / b for a, b in zip(medians["now"], medians[args.before], strict=True)]
    rows.append(
        [
            "**median claim**",
            seconds(overall["now"]),
            seconds(overall[args.before]),
            f"{statistics.median(ratios):.2f}",
        ]
    )
    met = overall["now"] <= overall[args.before] * 1.05
    body = table(["claim", "now", args.before, "now / before"], rows) + (
        f"\n\n- goal: the median claim at or below {args.before}'s: "
        f"{'met' if met else 'NOT met'} ({overall['now']:.2f} s against "
        f"{overall[args.before]:.2f} s; 5 % allowed for noise)\n"
        f"- medians of {args.rounds} rounds per claim, the trees interleaved."
    )
    print(body)
    write("bench_verify_claims", "workbench verify per claim, process start included", body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
