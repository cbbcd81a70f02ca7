"""Argument types for the command line: a bad number is one clear line and exit 2.

``argparse`` reports a ``type=`` function's :class:`argparse.ArgumentTypeError` as
``workbench check: error: argument --seed: ...`` with exit status 2, before any work
starts. Light at import: no SymPy, no NumPy.

Example:
    >>> seed("7"), seconds("2.5")
    (7, 2.5)
"""

from __future__ import annotations

import argparse
import math
import shutil
import sys

MAX_SEED = 2**32 - 1  # NumPy's and Python's generators both take 0 .. 2**32 - 1
MAX_SECONDS = 1e6  # a longer time limit is a typo (inf, 1e308), not a wish


def seed(text: str) -> int:
    """A seed: a whole number from 0 to 2**32 - 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 0 <= value <= MAX_SEED:
        raise argparse.ArgumentTypeError(f"{text} is not between 0 and {MAX_SEED}")
    return value


def seconds(text: str) -> float:
    """A time limit in seconds: a finite number above 0, at most 10⁶."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not (math.isfinite(value) and 0 < value <= MAX_SECONDS):
        raise argparse.ArgumentTypeError(
            f"{text} is not a number of seconds above 0 and at most {MAX_SECONDS:g}"
        )
    return value


def terminal_width() -> int:
    """The terminal's width, or 80 columns when the output is not a terminal."""
    interactive = getattr(sys.stdout, "isatty", lambda: False)()
    return shutil.get_terminal_size((80, 24)).columns if interactive else 80
