"""The derivation workbench: derive, verify and render the mathematics of machine learning.

Importing the package is cheap; SymPy loads on first use.

Example:
    >>> import workbench
    >>> workbench.slugs()[0]
    'softmax-jacobian'
    >>> report = workbench.get("softmax-jacobian").check()   # doctest: +SKIP
    >>> report.passed                                          # doctest: +SKIP
    True
"""

from __future__ import annotations

from workbench.core.registry import get, slugs, title

__all__ = ["check", "get", "slugs", "title"]
__version__ = "0.1.0"


def check(slug: str, **options):
    """Derive and verify one result.

    Returns a :class:`~workbench.checks.report.DerivationReport`.
    """
    return get(slug).check(**options)
