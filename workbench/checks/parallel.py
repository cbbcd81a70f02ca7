"""Independent comparisons in worker processes, where that is safe.

Shared by the check runner, SymPy's diff check and the independent step route.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor

from workbench.checks.timebox import fork_is_safe

_TASKS: list[Callable[[], object]] = []


def _run_task(index: int):
    return _TASKS[index]()


def default_workers() -> int:
    """Worker processes for independent comparisons: the cores, at most 4; set
    ``WORKBENCH_WORKERS=1`` to keep everything in one process."""
    configured = os.environ.get("WORKBENCH_WORKERS")
    if configured:
        return max(1, int(configured))
    return max(1, min(4, os.cpu_count() or 1))


def run_parallel(tasks: list[Callable[[], object]], workers: int | None = None) -> list:
    """Run independent tasks in forked worker processes (results must pickle).

    Forked workers inherit SymPy's warm cache and the derivation objects. In a process
    with other threads (a notebook's kernel, say) forking is unsafe, and without fork the
    tasks cannot be handed over (they are closures): then the tasks run here.
    """
    workers = default_workers() if workers is None else workers
    usable = workers > 1 and len(tasks) > 1 and fork_is_safe()
    if not usable:
        return [task() for task in tasks]
    global _TASKS
    _TASKS = tasks
    try:
        # ProcessPoolExecutor, not multiprocessing.Pool: a worker that dies is reported
        # (BrokenProcessPool) instead of leaving map() waiting forever.
        with ProcessPoolExecutor(
            max_workers=min(workers, len(tasks)), mp_context=multiprocessing.get_context("fork")
        ) as pool:
            return list(pool.map(_run_task, range(len(tasks))))
    finally:
        _TASKS = []
