"""The checks: everything that decides whether a derivation is right.

Owns bounded equality (:mod:`~workbench.checks.equivalence` and its numeric tier),
evaluation at concrete sizes, the check runner (steps, closed form, SymPy's diff along
random directions, finite differences and complex step), the gradient checker, the
check reports and the time limits.

May import: :mod:`workbench.core`, :mod:`workbench.codegen` and :mod:`workbench.errors`.

``from workbench.checks import check_derivation`` is the runner's entry point; it loads
on first use, so importing a small module of this layer stays cheap.
"""

from __future__ import annotations

from typing import Any

__all__ = ["applicable_checks", "case_functions", "check_derivation"]


def __getattr__(name: str) -> Any:
    # Lazy re-export: the runner imports SymPy, codegen and every check.
    if name in __all__:
        from workbench.checks import runner  # lazy: keeps this package cheap to import

        return getattr(runner, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
