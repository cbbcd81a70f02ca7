"""More rules for the Tier 2 results: exponentials, factorising, collecting, numbers.

Each rule is a small frozen dataclass whose one-line docstring *is* the rule; SymPy does
the work in :meth:`apply`. Like :mod:`workbench.rules`, a rule never checks itself: the
checker compares both sides of every step. (Solving recurrences and conditions, and the
log rules, live in :mod:`workbench.rules_stats`.)

Example:
    >>> import sympy as sp
    >>> a, b = sp.symbols("a b")
    >>> SplitExponential().apply(sp.exp(a + b), None)
    exp(a)*exp(b)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import sympy as sp

from workbench import algebra
from workbench.rules import Rule


# ---------------------------------------------------------------- exponentials and logs
@dataclass(frozen=True)
class SplitExponential(Rule):
    """exp(a + b) → exp(a)·exp(b)"""

    name: ClassVar[str] = "exponential of a sum"

    def apply(self, expr, ctx):
        return algebra.split_exponentials(expr)


# ---------------------------------------------------------------- algebra
@dataclass(frozen=True)
class Factor(Rule):
    """factorise: a·c + b·c → (a + b)·c (SymPy's factor)"""

    variables: tuple = ()  # factor as a polynomial in these (all symbols when empty)
    name: ClassVar[str] = "factorise"

    def apply(self, expr, ctx):
        return sp.factor(expr, *self.variables)


@dataclass(frozen=True)
class Collect(Rule):
    """collect the terms in each power of a quantity: a·x + b·x → (a + b)·x"""

    quantity: sp.Basic = None
    name: ClassVar[str] = "collect terms"

    def apply(self, expr, ctx):
        return sp.collect(sp.expand(expr), self.quantity)


@dataclass(frozen=True)
class PutInNumbers(Rule):
    """put in the numbers: each parameter → its value"""

    values: tuple = ()  # (symbol, value) pairs, e.g. ((eta, 1/10), (c, 3))
    name: ClassVar[str] = "put in the numbers"

    @property
    def assumptions(self):
        return tuple(self.values)

    def apply(self, expr, ctx):
        return expr.xreplace(dict(self.values))


VOCABULARY: tuple[type[Rule], ...] = (
    SplitExponential,
    Factor,
    Collect,
    PutInNumbers,
)
"""The rules this module adds to :data:`workbench.rules.VOCABULARY`."""
