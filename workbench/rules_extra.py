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
from sympy.matrices.expressions.matexpr import MatrixElement

from workbench import algebra
from workbench.errors import DerivationError
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
class EvaluateAt(Rule):
    """f(x) at x = x*: put in the value of each variable"""

    values: tuple = ()  # (symbol, value) pairs, e.g. ((h, h_star),) or ((eta, 1/10),)
    name: ClassVar[str] = "evaluate at"

    @property
    def assumptions(self):
        return tuple(self.values)

    def apply(self, expr, ctx):
        return expr.xreplace(dict(self.values))


# ---------------------------------------------------------------- sums
@dataclass(frozen=True)
class SquareOfSum(Rule):
    """(Σₖ aₖ)² → Σₖ Σₗ aₖ aₗ"""

    name: ClassVar[str] = "square of a sum"

    def apply(self, expr, ctx):
        def square(e: sp.Pow) -> sp.Basic:
            (var, lo, hi), *rest = e.base.limits
            if rest:
                return e
            other = sp.Dummy("l", integer=True)
            twin = e.base.function.xreplace({var: other})
            return sp.Sum(sp.Sum(e.base.function * twin, (other, lo, hi)), (var, lo, hi))

        return expr.replace(
            lambda e: isinstance(e, sp.Pow) and e.exp == 2 and isinstance(e.base, sp.Sum), square
        )


@dataclass(frozen=True)
class SumInside(Rule):
    """Σₖ Σₐ f → Σₖ (Σₐ f): do the sum running to ``upper`` first (finite, independent limits)"""

    upper: sp.Basic = None
    name: ClassVar[str] = "reorder sums"

    def apply(self, expr, ctx):
        def reorder(s: sp.Sum) -> sp.Basic:
            chosen = [lim for lim in s.limits if lim[2] == self.upper]
            others = [lim for lim in s.limits if lim[2] != self.upper]
            if len(chosen) != 1 or not others:
                return s
            variables = {lim[0] for lim in s.limits}
            if any(lim[1].has(*variables) or lim[2].has(*variables) for lim in s.limits):
                return s  # dependent limits: the order matters
            return sp.Sum(s.function, *chosen, *others)

        return expr.replace(lambda e: isinstance(e, sp.Sum), reorder)


# ---------------------------------------------------------------- matrix level
def _on_matrix_entries(expr: sp.Basic, rewrite) -> sp.Basic:
    """Rewrite the matrix inside every entry ``M[i, j]`` of a compound matrix expression."""
    return expr.replace(
        lambda e: isinstance(e, MatrixElement) and not isinstance(e.parent, sp.MatrixSymbol),
        lambda e: MatrixElement(rewrite(e.parent), e.i, e.j),
    )


@dataclass(frozen=True)
class ExpandMatrix(Rule):
    """A(B + C) → AB + AC: multiply out matrix products"""

    name: ClassVar[str] = "multiply out"

    def apply(self, expr, ctx):
        return _on_matrix_entries(expr, lambda m: m.expand().doit())


def _linear_parts(m: sp.MatrixExpr, w: sp.MatrixSymbol) -> tuple[sp.MatrixExpr, sp.MatrixExpr]:
    """(A, b) with m = A·w − b, read off the multiplied-out terms of ``m``."""
    coefficients, rest = [], []
    for term in sp.Add.make_args(m.expand().doit()):
        scalar, matrices = term.as_coeff_mmul()
        factors = list(matrices.args) if isinstance(matrices, sp.MatMul) else [matrices]
        if factors[-1] == w:
            left = sp.MatMul(*factors[:-1]) if factors[:-1] else sp.Identity(w.rows)
            coefficients.append(scalar * left)
        elif term.has(w):
            raise DerivationError(f"{term} is not of the form A·{w}")
        else:
            rest.append(term)
    if not coefficients:
        raise DerivationError(f"no term in {w} in {m}")
    a = sp.MatAdd(*coefficients).doit()
    b = (-sp.MatAdd(*rest)).doit() if rest else sp.ZeroMatrix(*w.shape)
    return a, b


@dataclass(frozen=True)
class CollectLinear(Rule):
    """A·w + B·w − b → (A + B)·w − b: collect the terms in the unknown"""

    unknown: sp.MatrixSymbol = None
    name: ClassVar[str] = "collect terms"

    def apply(self, expr, ctx):
        def collect(m: sp.MatrixExpr) -> sp.MatrixExpr:
            a, b = _linear_parts(m, self.unknown)
            return sp.MatAdd(sp.MatMul(a, self.unknown), -b)

        return _on_matrix_entries(expr, collect)


@dataclass(frozen=True)
class SolveLinear(Rule):
    """A·w − b → A·(w − A⁻¹b): the expression vanishes exactly at w* = A⁻¹b (A invertible)"""

    unknown: sp.MatrixSymbol = None
    name: ClassVar[str] = "solve the linear condition"

    def apply(self, expr, ctx):
        def factor(m: sp.MatrixExpr) -> sp.MatrixExpr:
            a, b = _linear_parts(m, self.unknown)
            number, rest = a.as_coeff_mmul() if isinstance(a, sp.MatMul) else (1, a)
            if number != 1:  # (2M)⁻¹·2c reads better as M⁻¹c; M·M⁻¹ still cancels on sight
                return number * rest * (self.unknown - sp.Inverse(rest) * (b / number).doit())
            return a * (self.unknown - sp.Inverse(a) * b)

        return _on_matrix_entries(expr, factor)


VOCABULARY: tuple[type[Rule], ...] = (
    SplitExponential,
    Factor,
    EvaluateAt,
    SquareOfSum,
    SumInside,
    ExpandMatrix,
    CollectLinear,
    SolveLinear,
)
"""The rules this module adds to :data:`workbench.rules.VOCABULARY`."""
