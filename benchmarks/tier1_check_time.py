"""How long `workbench check` takes on the five Tier 1 results (goal: under 60 s here).

Runs the full check of each result side by side in one run: with the default worker
processes and in one process (WORKBENCH_WORKERS=1), and prints the times and their
ratio. With ``--before REV`` the same command also runs on the code of an earlier commit
(exported with ``git archive`` to a temporary directory; the working tree is untouched),
so the speed-up is measured, not remembered. Wall time is what a user waits for; CPU
time is what the budgets count.

    python benchmarks/tier1_check_time.py                   # both ways
    python benchmarks/tier1_check_time.py --parallel        # the default way only
    python benchmarks/tier1_check_time.py --before 8b575ae  # and the code of 8b575ae
    python benchmarks/tier1_check_time.py --all --parallel --before e18ecca   # every result
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

from common import ROOT, exported, load, run_in_tree, table, write

TIER_ONE = (
    "softmax-jacobian",
    "cross-entropy-gradient",
    "nll-equals-cross-entropy",
    "two-layer-backprop",
    "attention-gradient",
)
GOAL_SECONDS = 60.0


def run(
    workers: str | None, code: Path = ROOT, slugs: tuple[str, ...] = TIER_ONE
) -> tuple[float, dict[str, float], bool]:
    env = dict(os.environ)
    if workers is not None:
        env["WORKBENCH_WORKERS"] = workers
    command = ["-m", "workbench", "check", *slugs, "--json", "--quiet"]
    wall, out = run_in_tree(command, code, env)
    document = json.loads(out.stdout)
    per_result = {r["slug"]: r["seconds"] for r in document["results"]}
    return wall, per_result, all(r["passed"] for r in document["results"])


def registry_slugs() -> tuple[str, ...]:
    """Every result in the catalogue, in the registry's order."""
    sys.path.insert(0, str(ROOT))
    from workbench.core import registry

    return registry.slugs()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parallel", action="store_true", help="only the default (parallel) run")
    parser.add_argument("--before", metavar="REV", help="also run the code of this commit")
    parser.add_argument("--all", action="store_true", help="the whole catalogue")
    args = parser.parse_args()
    print(load())
    slugs = registry_slugs() if args.all else TIER_ONE
    runs = {"default workers": run(None, slugs=slugs)}
    if not args.parallel:
        runs["one process"] = run("1", slugs=slugs)
    if args.before:
        with tempfile.TemporaryDirectory() as scratch:
            runs[f"{args.before}, default workers"] = run(
                None, exported(args.before, Path(scratch)), slugs
            )
    rows = [
        [slug, *[f"{r[1][slug]:.1f} s" if slug in r[1] else "–" for r in runs.values()]]
        for slug in slugs
    ]
    rows.append(["total, process start included", *[f"{r[0]:.1f} s" for r in runs.values()]])
    parallel = runs["default workers"][0]
    notes = []
    if "one process" in runs:
        notes.append(f"one process / default workers: {runs['one process'][0] / parallel:.2f}×")
    if args.before:
        before = runs[f"{args.before}, default workers"][0]
        notes.append(f"{args.before} / now (default workers): {before / parallel:.1f}×")
    verdict = "met" if parallel < GOAL_SECONDS else "NOT met"
    notes.append(
        f"goal: under {GOAL_SECONDS:.0f} s with the default workers: {verdict} ({parallel:.1f} s)"
    )
    notes.append("every check passed" if all(r[2] for r in runs.values()) else "SOME CHECKS FAILED")
    body = table(["result", *runs], rows) + "\n\n" + "\n".join(f"- {n}" for n in notes)
    if args.all:
        write("catalogue_check_time", "`workbench check` on the whole catalogue", body)
    else:
        write("tier1_check_time", "`workbench check` on the five Tier 1 results", body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
