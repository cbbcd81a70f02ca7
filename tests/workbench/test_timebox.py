"""Time limits interrupt pure-Python work and survive a swallowed interrupt."""

from __future__ import annotations

import time

import pytest

from workbench.checks.timebox import run_in_child, time_limit
from workbench.errors import TimeBudgetExceeded


def test_time_limit_interrupts_a_loop():
    start = time.monotonic()
    with pytest.raises(TimeBudgetExceeded), time_limit(0.2):
        while True:
            pass
    assert time.monotonic() - start < 5


def test_a_swallowed_interrupt_is_repeated():
    swallowed = []
    with pytest.raises(TimeBudgetExceeded), time_limit(0.1):
        try:
            while True:
                pass
        except TimeBudgetExceeded:
            swallowed.append(True)  # as a callback that ignores exceptions would
        while True:
            pass
    assert swallowed


def test_child_process_is_killed_at_its_limit():
    with pytest.raises(TimeBudgetExceeded):
        run_in_child(lambda: time.sleep(30), 0.3)
    assert run_in_child(lambda: 6 * 7, 5) == 42


def test_no_interrupt_reaches_code_after_the_block():
    import os
    import signal

    with time_limit(5):
        pass
    os.kill(os.getpid(), signal.SIGPROF)  # a late signal is ignored, not raised
    assert signal.getitimer(signal.ITIMER_PROF) == (0.0, 0.0)


def test_an_outer_limit_still_fires_after_an_inner_one():
    with pytest.raises(TimeBudgetExceeded), time_limit(0.4):
        with time_limit(0.1):
            pass
        while True:
            pass
