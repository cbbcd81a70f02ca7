"""Time limits interrupt pure-Python work, hold on any thread, count only their own
thread's CPU time, and leave signal handlers and interval timers as they were."""

from __future__ import annotations

import functools
import math
import signal
import threading
import time
from collections.abc import Callable

import mpmath
import pytest

from workbench.checks.timebox import call_with_limit, fork_is_safe, run_in_child, time_limit
from workbench.errors import TimeBudgetExceeded


def _spin():
    while True:
        pass


def test_time_limit_interrupts_a_loop():
    start = time.monotonic()
    with pytest.raises(TimeBudgetExceeded, match="exceeded"), time_limit(0.2):
        _spin()
    assert time.monotonic() - start < 5


def test_a_swallowed_interrupt_is_repeated():
    swallowed = []
    with pytest.raises(TimeBudgetExceeded), time_limit(0.1):
        try:
            _spin()
        except TimeBudgetExceeded:
            swallowed.append(True)  # as a callback that ignores exceptions would
        _spin()
    assert swallowed


class _PrecisionThenSpin:
    """A context manager whose ``__enter__`` raises mpmath's precision and then runs on:
    an interrupt landing there leaves no ``__exit__`` to restore it (mpmath.workdps's
    own ``__enter__`` is the same two steps, over in a moment)."""

    def __enter__(self):
        mpmath.mp.prec = 200
        _spin()

    def __exit__(self, *exc):
        return False


def test_an_interrupt_inside_a_precision_context_leaves_the_precision_as_it_was():
    """Failed before the fix: the checks' interrupted workdps left mpmath at 200 bits for
    the rest of the process (seen once as a flaky precision test under xdist)."""
    before = mpmath.mp.prec
    with pytest.raises(TimeBudgetExceeded), time_limit(0.1), _PrecisionThenSpin():
        pass
    assert mpmath.mp.prec == before


def test_child_process_is_killed_at_its_limit():
    with pytest.raises(TimeBudgetExceeded):
        run_in_child(lambda: time.sleep(30), 0.3)
    assert run_in_child(lambda: 6 * 7, 5) == 42


def test_no_interrupt_reaches_code_after_the_block():
    with time_limit(0.05):
        pass
    time.sleep(0.2)  # a late interrupt would strike here
    started = time.process_time()
    while time.process_time() - started < 0.2:
        pass


def test_an_outer_limit_still_fires_after_an_inner_one():
    with pytest.raises(TimeBudgetExceeded), time_limit(0.4):
        with time_limit(0.1):
            pass
        _spin()


def test_an_inner_limit_that_expires_is_caught_inside_the_outer_one():
    with time_limit(5), pytest.raises(TimeBudgetExceeded), time_limit(0.1):
        _spin()
    # the outer block ended normally: nothing pending
    time.sleep(0.1)


def test_signal_handlers_and_interval_timers_are_left_as_they_were():
    """Failed before this fix: SIGPROF was left ignored for good, a user's ITIMER_PROF
    interval of 1.0 s came back as 0.05 s, and a running profiler timer disabled the limit."""

    def handler(signum, frame):
        pass

    previous = signal.signal(signal.SIGPROF, handler)
    try:
        signal.setitimer(signal.ITIMER_PROF, 100.0, 1.0)
        with pytest.raises(TimeBudgetExceeded), time_limit(0.2):
            _spin()  # the limit holds although a profiler timer runs
        with time_limit(1):
            pass
        assert signal.getsignal(signal.SIGPROF) is handler
        remaining, interval = signal.getitimer(signal.ITIMER_PROF)
        assert interval == 1.0
        assert 90 < remaining <= 100
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.signal(signal.SIGPROF, previous)
    assert signal.getsignal(signal.SIGPROF) is previous


def test_the_limit_holds_in_a_worker_thread():
    """Failed before this fix: off the main thread time_limit was a no-op."""
    outcome = []

    def work():
        started = time.monotonic()
        try:
            with time_limit(0.3):
                _spin()
        except TimeBudgetExceeded:
            outcome.append(time.monotonic() - started)

    worker = threading.Thread(target=work)
    worker.start()
    worker.join(20)
    assert not worker.is_alive()
    assert outcome and outcome[0] < 10


def test_other_threads_cpu_time_is_not_counted():
    """Failed before this fix: ITIMER_PROF counts every thread of the process, so a busy
    neighbour thread used up this computation's budget."""
    stop = threading.Event()

    def neighbour():
        while not stop.is_set():
            pass

    busy = threading.Thread(target=neighbour)
    busy.start()
    try:
        started = time.thread_time()
        with time_limit(0.5):
            # Sleeping costs this thread next to no CPU; the neighbour burns a core.
            for _ in range(150):
                time.sleep(0.01)
        assert time.thread_time() - started < 0.5
    finally:
        stop.set()
        busy.join()


def test_no_watchdog_thread_outlives_the_limits():
    with time_limit(1):
        assert threading.active_count() >= 2
    assert fork_is_safe()


def test_a_child_from_a_threaded_process_is_not_forked():
    """Failed before this fix: run_in_child forked whatever threads were alive."""
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        assert not fork_is_safe()
        assert run_in_child(functools.partial(pow, 3), 20, 4) == 81
        with pytest.raises(TimeBudgetExceeded):
            run_in_child(time.sleep, 0.5, 30)
    finally:
        stop.set()
        other.join()


@pytest.mark.parametrize("seconds", [math.inf, math.nan, 1e308, -math.inf])
def test_unusable_limits_are_refused_with_a_clear_error(seconds):
    """Failed before this fix: inf and 1e308 reached select() and raised OverflowError."""
    with pytest.raises(ValueError, match="finite number of seconds"):
        run_in_child(lambda: 1, seconds)
    with pytest.raises(ValueError, match="finite number of seconds"), time_limit(seconds):
        pass


def test_call_with_limit_returns_the_value():
    assert call_with_limit(lambda: 6 * 7, 1) == 42


def test_limits_hold_again_and_again_under_a_profiler():
    """Failed before this fix: under cProfile the second limit hung for ever (a withdrawn
    interrupt left CPython checking for one on every call).

    It also hung CI for an hour when an *earlier* test had left that state: the spin is
    in C, where neither pytest-timeout nor a signal handler runs, so faulthandler's own
    thread ends this worker with every thread's traceback instead."""
    import cProfile
    import faulthandler

    outcomes = []

    def three_limits():
        for _ in range(3):
            try:
                with time_limit(0.1):
                    while True:
                        abs(1)
            except TimeBudgetExceeded:
                outcomes.append(True)

    faulthandler.dump_traceback_later(120, exit=True)
    try:
        profiler = cProfile.Profile()
        profiler.runcall(three_limits)
    finally:
        faulthandler.cancel_dump_traceback_later()
    assert outcomes == [True, True, True]


ENDED_THEN_PROFILED = """
import cProfile, sys, threading
from workbench.checks import timebox

# A limit ends while its counters say an interrupt may still be on its way (fired, not
# yet seen by the block): time_limit's exit path for exactly that case.
clock = timebox._thread_clock()
limit = timebox._Limit(threading.get_ident(), clock, clock() + 100)
timebox._WATCHDOG.add(limit)
limit.shots = 1
limit.done = True
timebox._withdraw(limit)

def work():
    return sum(abs(k) for k in range(100))

assert cProfile.Profile().runcall(work) == 4950
sys.settrace(lambda *args: None)
work()
sys.settrace(None)
print("ok")
"""


def test_ending_a_limit_leaves_profilers_and_tracers_working():
    """Failed before this fix (the subprocess spun until killed): the limit's end took
    back the interrupt by sending "none", which on CPython 3.11 leaves the interpreter's
    "interrupt pending" flag set, and then any profiled or traced call (cProfile,
    coverage, a debugger) spins for ever in C. This is what hung CI."""
    import subprocess
    import sys

    try:
        done = subprocess.run(
            [sys.executable, "-c", ENDED_THEN_PROFILED], capture_output=True, text=True, timeout=60
        )
    except subprocess.TimeoutExpired:
        pytest.fail("a profiled call after the limit ended never returned")
    assert done.stdout.strip() == "ok", done.stderr[-2000:]


def test_an_interrupt_swallowed_by_a_callback_prints_nothing_and_the_limit_holds():
    """Failed before: an interrupt that landed in a weak reference's callback was printed
    as "Exception ignored in ..." on stderr during checks (the limit held, by a retry)."""
    import subprocess
    import sys
    import textwrap

    program = textwrap.dedent(
        """
        import sys, time, weakref
        from workbench.checks.timebox import time_limit
        from workbench.errors import TimeBudgetExceeded

        class Thing:
            pass

        def spin(_ref):
            end = time.process_time() + 0.5
            while time.process_time() < end:
                pass

        before = sys.unraisablehook
        try:
            with time_limit(0.05):
                thing = Thing()
                ref = weakref.ref(thing, spin)
                del thing
                while True:
                    pass
        except TimeBudgetExceeded:
            print("limit held")
        time.sleep(0.2)
        print("hook restored" if sys.unraisablehook is before else "hook changed")
        """
    )
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True)
    assert done.stdout.split() == ["limit", "held", "hook", "restored"], done.stdout
    assert done.stderr == ""


def _a_limit_fires() -> bool:
    """Does a 0.1 s limit stop a busy loop? Bounded at 5 s, so a test never hangs."""
    started = time.monotonic()
    try:
        with time_limit(0.1):
            while time.monotonic() < started + 5:
                abs(1)
    except TimeBudgetExceeded:
        return True
    return False


def test_a_limit_whose_thread_has_ended_does_not_stop_the_others():
    """Failed before this fix: a thread can end its block and exit between the watchdog's
    look at ``done`` and its reading of that thread's CPU clock, which then raises
    OSError. That ended the watchdog, and no limit of the process fired again. A limit
    with such a clock stands in for the race."""
    import threading

    from workbench.checks import timebox

    def gone() -> float:
        raise OSError(22, "Invalid argument")  # what a finished thread's clock gives

    ghost = timebox._Limit(threading.get_ident() + 1, gone, 0.0)
    timebox._WATCHDOG.add(ghost)
    assert _a_limit_fires() and ghost.done


def test_the_watchdog_survives_an_error_and_a_dead_one_is_replaced():
    """Failed before this fix: any error in the watchdog's loop (here a clock raising
    RuntimeError, standing in for an interrupt that landed in the watchdog itself) ended
    it, and no limit of the process fired again; and a watchdog thread that had died was
    never replaced."""
    import threading

    from workbench.checks import timebox

    def broken() -> float:
        raise RuntimeError("a clock that fails")

    bad = timebox._Limit(threading.get_ident() + 1, broken, 0.0)
    timebox._WATCHDOG.add(bad)
    fired = _a_limit_fires()
    bad.done = True
    assert fired
    # A watchdog that died while still registered is replaced by the next limit.
    timebox._WATCHDOG.settle()
    dead = threading.Thread(target=lambda: None)
    dead.start()
    dead.join()
    with timebox._WATCHDOG.lock:
        timebox._WATCHDOG.thread = dead
    assert _a_limit_fires()


def test_a_live_threads_limit_fires_when_its_clock_cannot_be_read(monkeypatch):
    """Failed before this fix: a clock error dropped the limit even while its thread
    still ran, so that block was never stopped. Now an unreadable clock of a live thread
    counts as spent."""
    from workbench.checks import timebox

    calls = []

    def clock_that_fails_later() -> Callable[[], float]:
        def clock() -> float:
            calls.append(1)
            if len(calls) > 1:  # read once for the deadline, then gone
                raise OSError(22, "Invalid argument")
            return time.process_time()

        return clock

    monkeypatch.setattr(timebox, "_thread_clock", clock_that_fails_later)
    assert _a_limit_fires()


def test_an_ended_threads_limit_never_fires_at_the_thread_given_its_ident():
    """Failed before this fix: when a limit's clock could not be read, any live thread
    with the limit's ident counted as its thread, but an ended thread's ident is soon
    given to a new one, which then got interrupts meant for a block long over."""
    from workbench.checks import timebox

    def gone() -> float:
        raise OSError(22, "Invalid argument")

    here = threading.get_ident()
    ghost = timebox._Limit(here, gone, 0.0, native=threading.get_native_id() + 1)
    timebox._WATCHDOG.add(ghost)
    try:
        waited = time.monotonic() + 5
        while not ghost.done and time.monotonic() < waited:
            time.sleep(0.01)
    except TimeBudgetExceeded:
        pytest.fail("an interrupt meant for an ended thread reached the thread now named so")
    finally:
        ghost.done = True
    assert ghost.done


def test_no_interrupt_is_fired_while_a_thread_is_starting():
    """Failed before this fix: an interrupt fired at a thread that is starting another
    one can land in the new thread (on CPython 3.11 its state carries its creator's
    ident until it runs), which dies unstarted while its creator waits for ever. The
    watchdog holds its fire while ``threading`` lists a thread as starting, but not for
    longer than STARTING_GRACE."""
    from workbench.checks import timebox

    watchdog = timebox._Watchdog()  # its own, so the process's watchdog is not involved
    nobody = max(t.ident or 0 for t in threading.enumerate()) + 12345  # no thread's ident
    spent = timebox._Limit(nobody, lambda: 1.0, 0.0)
    watchdog.limits.append(spent)
    starting = object()
    threading._limbo[starting] = starting  # type: ignore[attr-defined]
    try:
        watchdog._round()
        assert spent.shots == 0
        watchdog.starting_since = time.monotonic() - timebox.STARTING_GRACE - 1
        watchdog._round()
        assert spent.shots == 1  # a thread that never runs does not stop the limits
    finally:
        del threading._limbo[starting]  # type: ignore[attr-defined]
    spent.next_shot = 0.0
    watchdog._round()
    assert spent.shots == 2
