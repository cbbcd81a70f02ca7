"""The whole rule vocabulary: every rule a derivation may apply, one entry per rule.

The rules live in four modules (:mod:`~workbench.core.rules` for the calculus and
index algebra, :mod:`~workbench.core.rules_extra` and :mod:`~workbench.core.rules_stats`
for the Tier 2 results, :mod:`~workbench.core.rules_compose` for composing results into
a network). Some laws are applied to different kinds of object by
different rule classes — linearity of expectation to a recurrence's mean, to a constant
factor and to a polynomial in X — and then the classes share the law's name: the
vocabulary lists that name once, with the statement of each form.

Example:
    >>> entry = next(e for e in entries() if e.name == "quotient rule")
    >>> entry.statements
    ('∂(u/v) → (∂u·v − u·∂v)/v²',)
"""

from __future__ import annotations

from dataclasses import dataclass

from workbench.core import rules, rules_compose, rules_extra, rules_stats
from workbench.core.rules import Rule

RULES: tuple[type[Rule], ...] = (
    rules.VOCABULARY + rules_extra.VOCABULARY + rules_stats.VOCABULARY + rules_compose.VOCABULARY
)
"""Every rule class, in the order the three modules list them."""


@dataclass(frozen=True)
class Entry:
    """One rule of the vocabulary: its name and the statement of each of its forms."""

    name: str
    statements: tuple[str, ...]
    forms: tuple[type[Rule], ...]


def entries() -> tuple[Entry, ...]:
    """One entry per rule name, in the order the names first appear."""
    by_name: dict[str, list[type[Rule]]] = {}
    for rule in RULES:
        by_name.setdefault(rule.name, []).append(rule)
    return tuple(
        Entry(name, tuple(dict.fromkeys(form().statement for form in forms)), tuple(forms))
        for name, forms in by_name.items()
    )


def names() -> frozenset[str]:
    """Every rule name a step may carry."""
    return frozenset(rule.name for rule in RULES)
