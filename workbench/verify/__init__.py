"""The verifier: a learner's own claim, checked and diagnosed.

A pipeline, one stage a module: lexer → parser → interpreter (parse tree → SymPy at
concrete sizes, shapes checked) → test points → decision → diagnosis → report. Its
entry points are :func:`check_claim`, :func:`check_steps` and
:func:`check_catalogue_claim` (in :mod:`~workbench.verify.api`, re-exported here).

May import: :mod:`workbench.render` (its printers write the verifier's messages),
:mod:`workbench.checks`, :mod:`workbench.codegen`, :mod:`workbench.core` and
:mod:`workbench.errors`; not the notebook or the command line.
"""

from __future__ import annotations

from typing import Any

__all__ = ["VerifyReport", "check_catalogue_claim", "check_claim", "check_steps"]


def __getattr__(name: str) -> Any:
    # Lazy re-export: the API imports SymPy and the whole pipeline; the command line
    # imports this package at start-up and must stay light.
    if name == "VerifyReport":
        from workbench.verify.report import VerifyReport  # lazy, as above

        return VerifyReport
    if name in __all__:
        from workbench.verify import api  # lazy, as above

        return getattr(api, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
