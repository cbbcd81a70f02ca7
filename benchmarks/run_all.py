"""Run every benchmark and collect their tables into ``results/README.md``.

Each script runs in its own process, one after another (they would compete for the two
cores otherwise), writes ``results/<script>.md`` and its plots, and this script joins the
tables in one document with the machine's load before and after.

    pip install -e ".[bench]"          # torch (the CPU wheel of 2.13.0), autograd, matplotlib
    python benchmarks/run_all.py       # about 20 minutes on two cores
    python benchmarks/run_all.py bench_codegen bench_startup   # some of them
"""

from __future__ import annotations

import subprocess
import sys
import time

from common import RESULTS, ROOT, load, machine

SCRIPTS = (
    "bench_startup",
    "bench_equality",
    "bench_verification",
    "bench_codegen",
    "bench_accuracy",
    "tier1_check_time",
    "bench_test_suite",
    "bench_verify_claims",
    "bench_gpt_step",
)
PLOTS = {
    "bench_equality": "Equality checker against simplify",
    "bench_verification": "Verification cost against size",
    "bench_codegen": "Generated gradients against hand-written NumPy and autodiff",
    "bench_accuracy": "Finite-difference and complex-step error against h",
}


def main() -> int:
    chosen = sys.argv[1:] or list(SCRIPTS)
    before = load()
    start = time.perf_counter()
    for name in chosen:
        print(f"== {name}", flush=True)
        subprocess.run([sys.executable, f"benchmarks/{name}.py"], cwd=ROOT, check=True)
    minutes = (time.perf_counter() - start) / 60
    parts = [
        "# Benchmark results\n",
        f"{machine()}.\n",
        f"Load before the run: {before}; after: {load()}; {minutes:.0f} minutes.\n",
        "Reproduce with `python benchmarks/run_all.py` (see `benchmarks/README.md`).\n",
    ]
    for name in SCRIPTS:
        path = RESULTS / f"{name}.md"
        if path.exists():
            parts.append(path.read_text(encoding="utf-8"))
        if name in PLOTS and (RESULTS / f"{name}.png").exists():
            parts.append(f"![{PLOTS[name]}]({name}.png)\n")
    (RESULTS / "README.md").write_text("\n".join(parts), encoding="utf-8")
    print(f"wrote {(RESULTS / 'README.md').relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
