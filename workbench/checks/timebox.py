"""Run a computation with a time limit, leaving the calling process as it was.

:func:`time_limit` bounds the **CPU seconds of the calling thread**: a verdict does not
depend on how busy the machine is or on what other threads of the process do (a true
identity that takes two seconds on an idle machine is not "undecided" on a loaded one).
It installs no signal handler and no interval timer, so a profiler's ``ITIMER_PROF``, a
user's ``SIGPROF`` handler and a notebook's threads are untouched, and it holds on any
thread. A small watchdog thread, running only while some limit is active, reads the
thread's CPU clock and, once the budget is spent, raises :class:`TimeBudgetExceeded` in
that thread (CPython's asynchronous exception), again every :data:`RETRY_INTERVAL` until
the block ends, in case some callback swallowed it. Such an exception can land inside a
context manager's ``__enter__`` after it changed global state, where no ``__exit__``
will undo it: a block that was interrupted gets mpmath's working precision (the one
global state the checks change, with ``mpmath.workdps``) back as it found it.

Such an exception reaches Python code only: work that sits in C (a huge integer power)
is bounded by :func:`run_in_child`, which runs it in a child process and kills it on the
wall clock. The child is forked when this process has one thread (cheap: it inherits
SymPy's warm cache); with other threads alive (a Jupyter kernel has several) forking is
unsafe, and the child comes from the ``forkserver`` start method instead.

Example:
    >>> with time_limit(5):
    ...     total = sum(range(1000))
    >>> run_in_child(pow, 5, 2, 10)
    1024
"""

from __future__ import annotations

import ctypes
import math
import os
import pickle
import select
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import Any, TypeVar

import mpmath

from workbench.errors import TimeBudgetExceeded

T = TypeVar("T")

RETRY_INTERVAL = 0.05  # seconds between repeated interrupts once a limit has expired
POLL_INTERVAL = 0.01  # how often the watchdog reads the clocks: the overshoot of a limit
MAX_SECONDS = 1e6  # longer "limits" are a mistake (inf, 1e308), refused with ValueError
START_SECONDS = 60.0  # a forkserver child may take this long to import before its clock runs
STARTING_GRACE = 1.0  # longest wait for a starting thread before interrupts are fired anyway


class _Expired(TimeBudgetExceeded):
    """Raised asynchronously in a thread whose budget is spent (no arguments: CPython
    instantiates the class itself); :func:`time_limit` turns it into a message."""


class _Flush(Exception):
    """Sent by a thread to itself, and caught at once, to end a limit cleanly (see
    :meth:`_Watchdog.withdraw`); it never leaves this module."""


def check_seconds(seconds: float, what: str = "seconds") -> float:
    """``seconds`` as a float if it is a usable limit, else :class:`ValueError`/TypeError.

    Example:
        >>> check_seconds(2)
        2.0
    """
    if isinstance(seconds, bool) or not isinstance(seconds, int | float):
        raise TypeError(f"{what} must be a number of seconds, not {type(seconds).__name__}")
    if not math.isfinite(seconds) or seconds > MAX_SECONDS:
        raise ValueError(f"{what} must be a finite number of seconds, at most {MAX_SECONDS:g}")
    return float(seconds)


# ---------------------------------------------------------------- in this process
# An asynchronous exception can land at any function call of the limited thread, so the
# code that thread runs to end a limit takes no lock it could leave held: a flag, then a
# C-level lock in a ``with`` statement (released by the statement whatever happens).
_SET_ASYNC = getattr(getattr(ctypes, "pythonapi", None), "PyThreadState_SetAsyncExc", None)


@dataclass(eq=False)
class _Limit:
    """One active :func:`time_limit`: whose clock, when it runs out, whether it fired."""

    thread: int
    clock: Callable[[], float]
    deadline: float
    expired: bool = False
    done: bool = False
    next_shot: float = 0.0
    shots: int = 0  # interrupts fired ...
    seen: int = 0  # ... and the count when the block last caught one
    native: int = 0  # the thread's id in the kernel (0: unknown); idents are reused


class _Watchdog:
    """The limits of all threads, and the one thread that enforces them while any is live."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.limits: list[_Limit] = []
        self.thread: threading.Thread | None = None
        self.hook: Callable[[Any], object] | None = None
        self.starting_since: float | None = None

    def add(self, limit: _Limit) -> None:
        with self.lock:
            self.limits.append(limit)
            if self.thread is not None and not self.thread.is_alive():
                self.thread = None  # it died (see _watch): start another
            if self.thread is None:
                self._quiet_swallowed_interrupts()
                self.thread = threading.Thread(
                    target=self._watch, name="workbench-timebox", daemon=True
                )
                self.thread.start()

    def withdraw(self, limit: _Limit) -> bool:
        """After ``limit.done`` is set, in ``limit``'s own thread: replace an interrupt
        that may still be on its way by a :class:`_Flush` (under the lock, so none is
        half-fired; the watchdog fires no more for a done limit). True if one was sent:
        the caller then catches it, see :func:`_withdraw`.

        An interrupt is not withdrawn by sending "none" in its place: CPython 3.11 keeps
        its "an interrupt is pending" flag set until some thread receives a real one, and
        with that flag set every call is slowed down and, under a profiler or a tracer
        (cProfile, coverage, a debugger), the next Python function call spins for ever
        in C, deaf to signals. That hung CI for an hour in
        test_limits_hold_again_and_again_under_a_profiler, after an earlier test had
        withdrawn an interrupt. A flush that is received clears the flag."""
        with self.lock:
            if limit.shots == limit.seen or _SET_ASYNC is None:
                return False
            _SET_ASYNC(ctypes.c_ulong(limit.thread), ctypes.py_object(_Flush))
            return True

    def settle(self) -> None:
        """With no live limit, wait for the watchdog to end (at most one poll)."""
        with self.lock:
            if any(not limit.done for limit in self.limits):
                return
            thread = self.thread
        if thread is not None:
            thread.join()

    def _watch(self) -> None:
        # Nothing may end this loop while a limit is live: a limit whose watchdog has
        # died never fires, and its block runs for ever. An error in one round, or a
        # stray interrupt landing here, costs one poll.
        while True:
            try:
                if not self._round():
                    return
            except Exception:  # see above: the next round retries
                pass
            with suppress(Exception):
                time.sleep(POLL_INTERVAL)

    def _round(self) -> bool:
        """One look at every limit; False once none is live (the watchdog then ends)."""
        with self.lock:
            self.limits = [limit for limit in self.limits if not limit.done]
            if not self.limits:
                self.thread = None
                self._restore_hook()
                return False
            now = time.monotonic()
            starting = self._threads_starting(now)
            for limit in self.limits:
                if now >= limit.next_shot and not starting and self._spent(limit):
                    limit.expired = True
                    limit.shots += 1
                    limit.next_shot = now + RETRY_INTERVAL
                    if _SET_ASYNC is not None:
                        _SET_ASYNC(ctypes.c_ulong(limit.thread), ctypes.py_object(_Expired))
        return True

    def _threads_starting(self, now: float) -> bool:
        """Whether some thread is being started (for at most :data:`STARTING_GRACE`).

        On CPython 3.11 a new thread's state carries its creator's ident until the new
        thread first runs, and an interrupt fired at the creator then may land in the new
        thread instead: it dies before it has started, and its creator waits in
        ``Thread.start()`` for ever (reproduced by a program firing interrupts at a
        thread that starts threads). ``threading`` lists such threads until they run."""
        if not getattr(threading, "_limbo", None):
            self.starting_since = None
            return False
        if self.starting_since is None:
            self.starting_since = now
        return now - self.starting_since < STARTING_GRACE

    @staticmethod
    def _spent(limit: _Limit) -> bool:
        """Whether ``limit``'s thread has used its budget.

        A clock that cannot be read belongs to a thread that has ended (its block is
        over, so is the limit) or, if the thread still runs, counts as spent: firing
        early bounds the block, and dropping the limit would let it run for ever. A
        thread counts as the limit's only if its kernel id matches too: an ended
        thread's ident is soon given to a new thread, which must not get its interrupt."""
        try:
            return limit.clock() >= limit.deadline
        except Exception:
            if any(
                t.ident == limit.thread and limit.native in (0, t.native_id)
                for t in threading.enumerate()
            ):
                return True
            limit.done = True
            return False

    # An interrupt that lands in a callback Python cannot raise from (a weak reference's,
    # a finaliser) is swallowed there and printed as "Exception ignored in ..."; the
    # watchdog fires again, so the limit holds, but the message would be noise on the
    # user's terminal. While some limit is live, those (and only those) are not printed;
    # the previous hook gets every other one, and is put back when no limit is live.
    def _quiet_swallowed_interrupts(self) -> None:
        previous = sys.unraisablehook

        def quiet(unraisable: Any) -> object:
            kind = unraisable.exc_type
            if isinstance(kind, type) and issubclass(kind, _Expired | _Flush):
                return None
            return previous(unraisable)

        self.hook = quiet
        sys.unraisablehook = quiet
        self.previous_hook = previous

    def _restore_hook(self) -> None:
        if self.hook is not None and sys.unraisablehook is self.hook:
            sys.unraisablehook = self.previous_hook
        self.hook = None


_WATCHDOG = _Watchdog()


def _native_id() -> int:
    get = getattr(threading, "get_native_id", None)
    return get() if get is not None else 0


def _thread_clock() -> Callable[[], float]:
    """A function reading the calling thread's CPU seconds, from any thread."""
    try:
        clock = time.pthread_getcpuclockid(threading.get_ident())
        time.clock_gettime(clock)
    except (AttributeError, OSError):  # no per-thread CPU clock here: fall back on the wall
        return time.monotonic
    return lambda: time.clock_gettime(clock)


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise :class:`TimeBudgetExceeded` inside the block after ``seconds`` of its CPU time.

    The CPU time is the calling thread's own. Limits nest (each holds); any thread may
    use them; no signal handler or timer of the process is touched.

    Raises:
        TimeBudgetExceeded: the block ran out of time, or ``seconds <= 0``.
        ValueError: ``seconds`` is not finite or absurdly large.
    """
    seconds = check_seconds(seconds)
    if seconds <= 0:
        raise TimeBudgetExceeded("no time left in the budget")
    clock = _thread_clock()
    limit = _Limit(threading.get_ident(), clock, clock() + seconds, native=_native_id())
    precision = mpmath.mp.prec
    try:
        _WATCHDOG.add(limit)
        yield
    except _Expired:
        limit.seen = limit.shots
        mpmath.mp.prec = precision  # the interrupt may have cut a workdps short
        if limit.expired:  # ours, not an enclosing limit's: say which budget ran out
            raise TimeBudgetExceeded(f"time budget of {seconds:.3g} s exceeded") from None
        raise
    finally:
        limit.done = True  # first, and a plain store: from here on it never fires
        _withdraw(limit)


FLUSH_CALLS = 10_000  # a flush lands at this thread's next call; this many is far beyond


def _withdraw(limit: _Limit) -> None:
    # An interrupt fired just before ``done`` may land in here: withdrawing is
    # idempotent, so finish it, then end the block as the interrupt meant to. A flush
    # lands at the first call after it is sent (often on the way out of ``withdraw``).
    late = False
    while True:
        try:
            if _WATCHDOG.withdraw(limit):
                for _ in range(FLUSH_CALLS):
                    _nothing()
                # Not received (never seen): take it back rather than leave it to land
                # in the caller's code.
                if _SET_ASYNC is not None:
                    _SET_ASYNC(ctypes.c_ulong(limit.thread), None)
            break
        except _Flush:
            break
        except _Expired:
            limit.seen = limit.shots
            late = True
    if late:
        raise TimeBudgetExceeded("time budget exceeded")


def _nothing() -> None:
    """A Python call: where a pending interrupt is received."""


def call_with_limit(fn: Callable[[], T], seconds: float) -> T:
    """``fn()`` under :func:`time_limit` (any thread)."""
    with time_limit(seconds):
        return fn()


# ---------------------------------------------------------------- in a child process
def fork_is_safe() -> bool:
    """Whether this process may fork: it can, and no other thread could hold a lock the
    child would then wait on for ever."""
    _WATCHDOG.settle()
    return hasattr(os, "fork") and threading.active_count() == 1


def run_in_child(fn: Callable[..., T], seconds: float, *args: object) -> T:
    """``fn(*args)`` in a child process, killed after ``seconds`` on the wall clock.

    The result must pickle. When forking is unsafe (see :func:`fork_is_safe`), ``fn`` and
    ``args`` must pickle too (a module-level function, :func:`functools.partial`); if they
    do not, the work runs here under :func:`time_limit`, which bounds Python code only.
    """
    seconds = check_seconds(seconds)
    if seconds <= 0:
        raise TimeBudgetExceeded("no time left in the budget")
    if fork_is_safe():
        return _run_forked(fn, args, seconds)
    import multiprocessing

    methods = multiprocessing.get_all_start_methods()
    try:
        job = pickle.dumps((fn, args))
    except (pickle.PicklingError, TypeError, AttributeError):
        job = None
    if job is None or not ({"forkserver", "spawn"} & set(methods)):
        return call_with_limit(lambda: fn(*args), seconds)
    # Any: the typing stubs give a context chosen at run time no Process attribute.
    context: Any = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
    receive, send = context.Pipe(duplex=False)
    child = context.Process(target=_child_main, args=(job, send), daemon=True)
    child.start()
    send.close()
    try:
        ready = _wait_readable(receive.fileno(), START_SECONDS)
        if ready and receive.recv_bytes() == b"ready":
            ready = _wait_readable(receive.fileno(), seconds)
        if not ready:
            raise TimeBudgetExceeded(f"time budget of {seconds:.3g} s exceeded")
        try:
            payload = receive.recv_bytes()
        except EOFError:
            payload = b""
    finally:
        receive.close()
        with suppress(ProcessLookupError, AttributeError):
            child.kill()
        child.join()
    return _result(payload)


def _child_main(job: bytes, send) -> None:
    """The body of a ``forkserver``/``spawn`` child: say it is ready, run, send back."""
    fn, args = pickle.loads(job)
    send.send_bytes(b"ready")
    send.send_bytes(_outcome(lambda: fn(*args)))
    send.close()


def _run_forked(fn: Callable[..., T], args: tuple, seconds: float) -> T:
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        os.close(read_fd)
        try:
            with os.fdopen(write_fd, "wb") as out:
                out.write(_outcome(lambda: fn(*args)))
        finally:
            os._exit(0)
    os.close(write_fd)
    chunks: list[bytes] = []
    try:
        end = time.monotonic() + seconds
        while True:
            if not _wait_readable(read_fd, end - time.monotonic()):
                raise TimeBudgetExceeded(f"time budget of {seconds:.3g} s exceeded")
            chunk = os.read(read_fd, 1 << 16)
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(read_fd)
        with suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    return _result(b"".join(chunks))


def _wait_readable(fd: int, seconds: float) -> bool:
    """Whether ``fd`` becomes readable within ``seconds`` (waits in short slices, so a
    long limit never reaches ``select`` as a value it cannot take)."""
    end = time.monotonic() + seconds
    while (remaining := end - time.monotonic()) > 0:
        ready, _, _ = select.select([fd], [], [], min(remaining, 1.0))
        if ready:
            return True
    return False


def _outcome(work: Callable[[], object]) -> bytes:
    try:
        return pickle.dumps(("ok", work()))
    except BaseException as exc:  # report any failure to the parent
        return pickle.dumps(("error", repr(exc)))


def _result(payload: bytes):
    status, value = pickle.loads(payload) if payload else ("error", "child died")
    if status != "ok":
        raise TimeBudgetExceeded(f"bounded computation failed: {value}")
    return value
