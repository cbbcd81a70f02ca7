"""Slug → derivation. Listing reads module docstrings without importing SymPy.

Example:
    >>> "softmax-jacobian" in slugs()
    True
    >>> title("softmax-jacobian")
    'Softmax Jacobian'
"""

from __future__ import annotations

import ast
import difflib
import importlib
import importlib.util
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from workbench.errors import UnknownDerivation

if TYPE_CHECKING:
    from workbench.core.derivation import Derivation


@cache
def slugs() -> tuple[str, ...]:
    """Every available slug, in the order the curriculum meets them.

    The catalogue is the plan; a slug is available once its module exists.
    """
    from derivations import CATALOGUE

    return tuple(s for s in CATALOGUE if importlib.util.find_spec(module_name(s)) is not None)


def planned() -> tuple[str, ...]:
    """Catalogue slugs that have no module yet."""
    from derivations import CATALOGUE

    return tuple(s for s in CATALOGUE if s not in slugs())


def module_name(slug: str) -> str:
    return "derivations." + slug.replace("-", "_")


def _require(slug: str) -> None:
    if slug not in slugs():
        close = difflib.get_close_matches(slug, slugs(), n=1, cutoff=0.6)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise UnknownDerivation(f"unknown derivation {slug!r}{hint} (see `workbench list`)")


@cache
def _headline(slug: str) -> tuple[str, str]:
    _require(slug)
    spec = importlib.util.find_spec(module_name(slug))
    if spec is None or spec.origin is None:
        raise UnknownDerivation(f"derivation {slug!r} is listed but has no module")
    doc = ast.get_docstring(ast.parse(Path(spec.origin).read_text(encoding="utf-8"))) or slug
    first = doc.strip().splitlines()[0]
    name, _, statement = first.partition(":")
    return name.strip(), statement.strip().rstrip(".")


def title(slug: str) -> str:
    """The derivation's title, from the first line of its module docstring."""
    return _headline(slug)[0]


def statement(slug: str) -> str:
    """The result in one line, from the first line of its module docstring."""
    return _headline(slug)[1]


@cache
def get(slug: str) -> Derivation:
    """Build (once) and return the derivation registered under ``slug``."""
    _require(slug)
    module = importlib.import_module(module_name(slug))
    derivation = module.build()
    if derivation.slug != slug:
        raise UnknownDerivation(f"module for {slug!r} built {derivation.slug!r}")
    return derivation


@cache
def builds_on(slug: str) -> tuple[str, ...]:
    """The results ``slug``'s derivation uses: the catalogue modules its module imports
    (``from derivations import softmax_jacobian``), in catalogue order. Read from the
    source, without importing it.

    Example:
        >>> builds_on("cross-entropy-gradient")
        ('softmax-jacobian',)
    """
    _require(slug)
    spec = importlib.util.find_spec(module_name(slug))
    if spec is None or spec.origin is None:
        raise UnknownDerivation(f"derivation {slug!r} is listed but has no module")
    tree = ast.parse(Path(spec.origin).read_text(encoding="utf-8"))
    modules: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "derivations":
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("derivations."):
            modules.add(str(node.module).split(".")[1])
        elif isinstance(node, ast.Import):
            modules.update(
                a.name.split(".")[1] for a in node.names if a.name.startswith("derivations.")
            )
    return tuple(s for s in slugs() if s != slug and module_name(s).split(".")[1] in modules)
