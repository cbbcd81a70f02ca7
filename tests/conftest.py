"""Test-suite switches.

Tests marked ``slow`` (larger sizes, every case of every result, PDF builds) are
deselected in a local run to keep it under a few minutes, and always run in CI
(``CI=true``) or with ``--runslow``. They are deselected, never skipped, so CI
cannot pass with a slow test quietly not run.
"""

from __future__ import annotations

import os


def pytest_configure(config):
    # Under pytest-xdist every core already runs a worker: the checks' own worker processes
    # (workbench.checks.parallel) would then share a core with another test, and a test
    # with a time limit would be judged on a loaded machine. One process per worker.
    if os.environ.get("PYTEST_XDIST_WORKER"):
        os.environ.setdefault("WORKBENCH_WORKERS", "1")


def pytest_addoption(parser):
    parser.addoption("--runslow", action="store_true", help="also run tests marked slow")


def run_slow(config) -> bool:
    return config.getoption("--runslow") or os.environ.get("CI", "").lower() in {"1", "true"}


def pytest_collection_modifyitems(config, items):
    if run_slow(config):
        return
    slow = [item for item in items if "slow" in item.keywords]
    if slow:
        items[:] = [item for item in items if "slow" not in item.keywords]
        config.hook.pytest_deselected(items=slow)


def pytest_report_header(config):
    mode = "all tests (slow included)" if run_slow(config) else "slow tests deselected"
    return f"workbench: {mode}; CI={os.environ.get('CI', '')!r}"
