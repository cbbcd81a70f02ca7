"""Facts a chain relies on, and how each one is known.

A rule that brings in something the rule itself does not prove (a substituted identity,
an evaluation point, a root of a condition, a solved recurrence, an invertible matrix)
records it as a :class:`Fact`. Every fact is either *checked* by the workbench (the
``facts`` check of :mod:`workbench.checks.runner` runs the check its kind names) or an
*assumption* of the result, stated in :attr:`Result.assumptions` and shown as "assumed"
beside the step, never as a check mark. A plain :class:`Fact` cannot be checked: it is
assumed when its result states it, and unchecked (a failed ``facts`` check) when not.

Example:
    >>> import sympy as sp
    >>> h = sp.Symbol("h", positive=True)
    >>> fact = Root(h, sp.Integer(2), (h**2, sp.Integer(4)))
    >>> fact.pair, fact.checkable
    ((h, 2), True)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import sympy as sp

# Given concrete sizes and a random generator: the meaning of each symbol of an identity
# at those sizes ({MatrixSymbol or Symbol: explicit Matrix or number}).
Model = Callable[[Mapping[sp.Symbol, int], Any], Mapping[sp.Basic, Any]]


@dataclass(frozen=True)
class Fact:
    """lhs = rhs, taken as given: an assumption of the result that uses it."""

    lhs: sp.Basic
    rhs: sp.Basic
    statement: str = ""

    @property
    def pair(self) -> tuple[sp.Basic, sp.Basic]:
        return (self.lhs, self.rhs)

    @property
    def checkable(self) -> bool:
        return False

    @property
    def kind(self) -> str:
        return "assumption"

    def describe(self) -> str:
        said = f"{self.lhs} = {self.rhs}"
        return f"{said} ({self.statement})" if self.statement else said


@dataclass(frozen=True)
class Root(Fact):
    """unknown = value, where ``condition`` (lhs, rhs) holds: checked by putting it back."""

    condition: tuple = ()

    def __init__(self, unknown, value, condition, statement: str = ""):
        object.__setattr__(self, "lhs", unknown)
        object.__setattr__(self, "rhs", value)
        object.__setattr__(self, "statement", statement)
        object.__setattr__(self, "condition", tuple(condition))

    @property
    def checkable(self) -> bool:
        return True

    @property
    def kind(self) -> str:
        return "root"


@dataclass(frozen=True)
class Identity(Fact):
    """lhs = rhs for every index value, once each symbol means what ``model`` gives it:
    checked at each of ``sizes`` at exact random points (e.g. the adjugate formula)."""

    model: Model | None = None
    sizes: tuple[Mapping[sp.Symbol, int], ...] = ()

    @property
    def checkable(self) -> bool:
        return self.model is not None and bool(self.sizes)

    @property
    def kind(self) -> str:
        return "identity"


@dataclass(frozen=True)
class SolvedRecurrence(Fact):
    """x_t = solution for the recurrence lhs: checked by putting the solution back into
    the recurrence and its initial value, and by running the iteration."""

    @property
    def checkable(self) -> bool:
        return True

    @property
    def kind(self) -> str:
        return "recurrence"


def as_fact(fact) -> Fact:
    """A :class:`Fact` as it is, an (lhs, rhs) pair as a plain (assumed) fact."""
    if isinstance(fact, Fact):
        return fact
    lhs, rhs = fact
    return Fact(sp.sympify(lhs), sp.sympify(rhs))


def pair_of(fact) -> tuple[sp.Basic, sp.Basic]:
    """The (lhs, rhs) pair of a fact or of a pair: what the step check substitutes."""
    return as_fact(fact).pair


def states(assumptions, fact: Fact) -> bool:
    """Whether a result's ``assumptions`` state ``fact`` (same lhs and rhs)."""
    return any(pair_of(a) == fact.pair for a in assumptions)
