"""Shared helpers for the benchmark scripts: timing, machine state, tables, plots.

Every script measures its competitors in the same run, side by side, and writes
``results/<name>.md`` (a markdown table with the machine state) and, where there is a
curve, ``results/<name>.png``. Timings are ``time.perf_counter`` wall seconds: the best
(minimum) of several repeats for fast code, where noise only ever adds time, and the
median for slow single runs.
"""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results"

if str(ROOT) not in sys.path:  # run as `python benchmarks/<script>.py` from anywhere
    sys.path.insert(0, str(ROOT))


def best_of(fn: Callable[[], object], repeat: int = 7, number: int = 1) -> float:
    """Best wall time of ``repeat`` runs of ``number`` calls, per call, in seconds."""
    fn()  # warm up: caches, page faults, lazy imports
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        times.append((time.perf_counter() - start) / number)
    return min(times)


def median_of(fn: Callable[[], object], repeat: int = 3) -> float:
    """Median wall time of ``repeat`` runs (slow work, no warm-up run)."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def load() -> str:
    """The load averages and core count, as `uptime` reports them."""
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f}, {five:.2f}, {fifteen:.2f} on {os.cpu_count()} cores"


def machine() -> str:
    """One line on what ran: Python, SymPy, NumPy, the CPU, and the load now."""
    import numpy
    import sympy

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            names = [line.split(":", 1)[1].strip() for line in info if "model name" in line]
        cpu = names[0] if names else cpu
    except OSError:
        pass
    return (
        f"Python {platform.python_version()}, SymPy {sympy.__version__}, NumPy "
        f"{numpy.__version__}; {cpu}; {load()}"
    )


def table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A markdown table; cells are printed with ``str``."""
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def seconds(value: float | None) -> str:
    """A duration for a table: ms below one second, else seconds."""
    if value is None:
        return "–"
    if value < 1e-3:
        return f"{value * 1e6:.0f} µs"
    if value < 1:
        return f"{value * 1e3:.1f} ms"
    return f"{value:.2f} s"


def write(name: str, title: str, body: str) -> Path:
    """Write ``results/<name>.md`` with a title, the machine state and ``body``."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.md"
    # The command as run, with its arguments (--before REV says what was compared).
    command = " ".join(["python", f"benchmarks/{Path(sys.argv[0]).name}", *sys.argv[1:]])
    text = f"## {title}\n\n{body.rstrip()}\n\n_Measured by `{command}`; {machine()}._\n"
    path.write_text(text, encoding="utf-8")
    print(text)
    return path


def figure():
    """A matplotlib figure and axes with the Agg backend (no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt.subplots(figsize=(6.4, 4.2), dpi=120)


def save(fig, name: str) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.png"
    fig.tight_layout()
    fig.savefig(path)
    print(f"wrote {path.relative_to(ROOT)}")
    return path


def mark_stopped(ax, xs, limit: float, color: str, label: str) -> None:
    """Crosses at ``limit`` (on a log axis) for the sizes where a competitor was stopped."""
    if xs:
        ax.plot(xs, [limit] * len(xs), "x", color=color, ms=10, label=label)


def run_in_tree(arguments: Sequence[str], code: Path, env: dict[str, str]):
    """``python *arguments`` on the packages of the tree ``code`` (its own directory and
    PYTHONPATH, not an installed copy): (wall seconds, the completed process)."""
    start = time.perf_counter()
    out = subprocess.run(
        [sys.executable, *arguments],
        capture_output=True,
        text=True,
        env={**env, "PYTHONPATH": str(code)},
        cwd=code,
        check=False,
    )
    return time.perf_counter() - start, out


def run_python(code: str, timeout: float | None = None) -> tuple[float, str]:
    """Run ``python -c code`` in a fresh process: (wall seconds, stdout)."""
    start = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=True,
        cwd=ROOT,
    )
    return time.perf_counter() - start, out.stdout


def exported(revision: str, into: Path) -> Path:
    """The tree of ``revision``, written to ``into`` (no checkout, no worktree)."""
    archive = subprocess.run(
        ["git", "archive", revision], cwd=ROOT, capture_output=True, check=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into
