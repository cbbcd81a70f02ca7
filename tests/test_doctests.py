"""Every example in a module docstring runs, and prints what it says it prints.

The doctests are collected here rather than with ``--doctest-modules`` so that the old
import paths kept for one release (root modules that *are* their moved module) are not
collected twice under two names.
"""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import workbench

OLD_PATHS = {"display", "display_curves", "display_guide", "display_plots", "gradcheck"}


def _modules() -> list[str]:
    names = []
    for info in pkgutil.walk_packages(workbench.__path__, "workbench."):
        if info.name.split(".")[1] in OLD_PATHS or info.name.endswith("__main__"):
            continue
        names.append(info.name)
    return sorted(names)


@pytest.mark.parametrize("name", _modules())
def test_docstring_examples_run(name):
    module = importlib.import_module(name)
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    for test in finder.find(module, name):
        runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed in {name}"


def test_a_wrong_example_fails():
    """The runner above does fail on an example that prints something else."""
    parser = doctest.DocTestParser()
    test = parser.get_doctest(">>> 1 + 1\n3\n", {}, "planted", "planted", 0)
    runner = doctest.DocTestRunner()
    runner.run(test, out=lambda _: None)
    assert runner.summarize(verbose=False).failed == 1
