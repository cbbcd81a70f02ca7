"""Run a computation with a time limit.

Budgets are **CPU seconds** of the working process (``ITIMER_PROF``), so a verdict does
not depend on how busy the machine is: a true identity that takes two seconds to prove
on an idle machine is not "undecided" on a loaded one. On an idle machine CPU time and
wall time agree. SymPy is pure Python, so the timer's signal interrupts it promptly;
that is the default on the main thread. Elsewhere (worker threads) and for work that
may sit in C code (huge integer powers), :func:`run_in_child` forks, waits on the wall
clock, and kills.
"""

from __future__ import annotations

import os
import pickle
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from typing import TypeVar

from workbench.errors import TimeBudgetExceeded

T = TypeVar("T")

RETRY_INTERVAL = 0.05  # seconds between repeated interrupts once a limit has expired


def _alarm_available() -> bool:
    return hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise :class:`TimeBudgetExceeded` inside the block after ``seconds`` of CPU time.

    Nested limits keep the tighter one. Off the main thread this is a no-op; use
    :func:`run_in_child` there for a hard bound.
    """
    if seconds <= 0:
        raise TimeBudgetExceeded("no time left in the budget")
    if not _alarm_available():
        yield
        return

    previous_remaining, _ = signal.getitimer(signal.ITIMER_PROF)
    if previous_remaining and previous_remaining < seconds:
        yield  # an outer, tighter limit already governs
        return

    state = {"active": True}

    def _expire(signum, frame):
        # Once the block has ended the handler does nothing, so an interrupt that is
        # already on its way can never strike the code that follows the block.
        if state["active"]:
            raise TimeBudgetExceeded(f"time budget of {seconds:.3g} s exceeded")

    started = time.process_time()
    old_handler = signal.signal(signal.SIGPROF, _expire)
    # Repeat every 50 ms after expiry: an exception raised inside a callback that
    # swallows it (a GC callback, a __del__) would otherwise lose the limit for good.
    signal.setitimer(signal.ITIMER_PROF, seconds, RETRY_INTERVAL)
    try:
        yield
    finally:
        state["active"] = False
        signal.setitimer(signal.ITIMER_PROF, 0)
        # SIGPROF's default action ends the process; never leave that in place.
        signal.signal(
            signal.SIGPROF, signal.SIG_IGN if old_handler == signal.SIG_DFL else old_handler
        )
        if previous_remaining:  # an outer limit resumes with what it has left
            used = time.process_time() - started
            signal.setitimer(
                signal.ITIMER_PROF, max(previous_remaining - used, 1e-3), RETRY_INTERVAL
            )


def call_with_limit(fn: Callable[[], T], seconds: float) -> T:
    """``fn()`` under :func:`time_limit` on the main thread, else in a child process."""
    if _alarm_available():
        with time_limit(seconds):
            return fn()
    return run_in_child(fn, seconds)


def run_in_child(fn: Callable[[], T], seconds: float) -> T:
    """Run ``fn`` in a forked child; kill it after ``seconds``. The result must pickle."""
    if not hasattr(os, "fork"):
        return fn()
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        os.close(read_fd)
        try:
            payload = pickle.dumps(("ok", fn()))
        except BaseException as exc:  # report any failure to the parent
            payload = pickle.dumps(("error", repr(exc)))
        with os.fdopen(write_fd, "wb") as out:
            out.write(payload)
        os._exit(0)
    os.close(write_fd)
    import select

    chunks: list[bytes] = []
    try:
        remaining = seconds
        import time

        end = time.monotonic() + seconds
        while True:
            remaining = end - time.monotonic()
            if remaining <= 0:
                raise TimeBudgetExceeded(f"time budget of {seconds:.3g} s exceeded")
            ready, _, _ = select.select([read_fd], [], [], remaining)
            if not ready:
                continue
            chunk = os.read(read_fd, 1 << 16)
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(read_fd)
        with suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    status, value = pickle.loads(b"".join(chunks)) if chunks else ("error", "child died")
    if status != "ok":
        raise TimeBudgetExceeded(f"bounded computation failed: {value}")
    return value
