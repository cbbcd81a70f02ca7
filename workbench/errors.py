"""The workbench's exceptions: one root, a few kinds, each a single readable line."""

from __future__ import annotations


class WorkbenchError(Exception):
    """Root of every error the workbench raises on purpose.

    The command line prints ``str(error)`` as one line and exits non-zero;
    ``--debug`` shows the traceback instead.
    """


class UnknownDerivation(WorkbenchError):
    """A slug that is not in the registry."""


class DerivationError(WorkbenchError):
    """A rule could not be applied where a derivation asked for it."""


class GradientMismatch(WorkbenchError):
    """An analytic gradient disagrees with its numeric estimate."""


class ParseError(WorkbenchError):
    """User text that could not be understood; says what and where."""

    def __init__(self, message: str, column: int | None = None, text: str | None = None):
        self.column = column
        self.text = text
        where = f" (column {column})" if column is not None else ""
        super().__init__(f"{message}{where}")


class NonFiniteInput(WorkbenchError, ValueError):
    """An input of generated code with a NaN or an infinity, when it was asked to check."""


class TimeBudgetExceeded(WorkbenchError):
    """Work that did not finish within its time budget."""


class HandoutError(WorkbenchError):
    """A handout could not be written (bad arguments, a missing tool)."""


class OutputExists(HandoutError):
    """An output file exists with different content, and ``--force`` was not given."""


class TexNotFound(HandoutError):
    """No TeX engine to turn a handout into a PDF."""


class LatexFailed(HandoutError):
    """pdflatex stopped with an error; the message quotes the relevant lines of its log."""
