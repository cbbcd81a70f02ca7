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
import re
import shutil
import sys
import textwrap

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


class FittingHelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Help that keeps the text's own line breaks (tables, examples) and wraps a line too
    long for the terminal (80 columns when not one) under its own indentation: under the
    value of a ``key   value`` row, or under the line's first word.

    Example:
        >>> FittingHelpFormatter("x", width=30)._fill_text(
        ...     "  names    letters, digits and underscores", 30, "")
        '  names    letters, digits and\\n           underscores'
    """

    def __init__(self, prog: str, **options) -> None:
        options.setdefault("width", min(terminal_width(), 100))
        super().__init__(prog, **options)

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        out: list[str] = []
        for line, hanging in _logical_lines(text.splitlines()):
            if len(indent + line) <= width:
                out.append(indent + line)
                continue
            out += textwrap.wrap(
                line,
                width - len(indent),
                initial_indent=indent,
                subsequent_indent=indent + " " * hanging,
                break_on_hyphens=False,
            ) or [indent]
        return "\n".join(out) + ("\n" if text.endswith("\n") else "")


def _logical_lines(lines: list[str]) -> list[tuple[str, int]]:
    """Each line with the indentation its wrapped part takes. The lines that continue a
    ``key   value`` row (indented to its value), and the lines of a paragraph of prose
    (not indented), are joined first, so that each is wrapped as one paragraph; other
    indented lines (examples) stay as they are."""
    out: list[tuple[str, int]] = []
    joinable = False  # may the next line continue the last one?
    for line in lines:
        stripped = line.lstrip()
        indent = len(line) - len(stripped)
        row = _ROW.match(line)
        if joinable and stripped and not row and indent == out[-1][1]:
            out[-1] = (f"{out[-1][0]} {stripped}", out[-1][1])
            continue
        out.append((line, len(row.group(0)) if row else indent))
        joinable = bool(stripped) and (row is not None or indent == 0)
    return out


# "  key   value": a key (a word or two, or `<slug>.log`) then two spaces or more.
_ROW = re.compile(r"^\s+\S+(?: \S+)?\s{2,}(?=\S)")
