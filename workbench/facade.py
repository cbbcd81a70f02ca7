"""What a :class:`~workbench.core.derivation.Derivation` offers beyond its data.

The data model knows nothing of checks or faces. This module, above every layer, gives
it its conveniences: ``d.check()`` runs the checks, ``d.to_latex()`` prints the steps,
and a notebook shows ``d`` through the notebook layer. The model loads this module on
first use (:func:`workbench.core.derivation.provided`).

Example:
    >>> from workbench.core import registry
    >>> registry.get("softmax-jacobian").to_latex().startswith(r"\\begin{align*}")
    True
"""

from __future__ import annotations

from typing import Any

from workbench.core.derivation import PROVIDERS, Derivation


def check(derivation: Derivation, **options: Any) -> Any:
    """Every check of ``derivation``: :func:`workbench.checks.runner.check_derivation`."""
    from workbench.checks.runner import check_derivation  # lazy: SymPy-heavy checks

    return check_derivation(derivation, **options)


def to_latex(derivation: Derivation) -> str:
    """The steps as LaTeX: :func:`workbench.render.latex.derivation_to_latex`."""
    from workbench.render.latex import derivation_to_latex  # lazy: only when printed

    return derivation_to_latex(derivation)


def html(derivation: Derivation) -> str:
    """The notebook view: :func:`workbench.notebook.display.derivation_html`."""
    from workbench.notebook.display import derivation_html  # lazy: only in a notebook

    return derivation_html(derivation)


def latex(derivation: Derivation) -> str:
    """The notebook's LaTeX view: :func:`workbench.notebook.display.derivation_latex`."""
    from workbench.notebook.display import derivation_latex  # lazy: only in a notebook

    return derivation_latex(derivation)


PROVIDERS.update(check=check, to_latex=to_latex, html=html, latex=latex)
