"""More rules for the Tier 2 results: exponentials, factorising, collecting, numbers.

Each rule is a small frozen dataclass whose one-line docstring *is* the rule; SymPy does
the work in :meth:`apply`. Like :mod:`workbench.core.rules`, a rule never checks itself: the
checker compares both sides of every step. (Solving recurrences and conditions, and the
log rules, live in :mod:`workbench.core.rules_stats`.)

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

from workbench.core import algebra
from workbench.core.facts import Fact, Root
from workbench.core.rules import Rule
from workbench.errors import DerivationError


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
    # What singles the point out, (lhs, rhs) with lhs = rhs there, e.g. ∂E/∂h = 0: the
    # ``facts`` check puts each value back into it. Without one, the point is assumed.
    condition: tuple = ()
    name: ClassVar[str] = "evaluate at"

    @property
    def assumptions(self):
        return tuple(self.values)

    def facts_in(self, before, after):
        if self.condition:
            return tuple(Root(v, value, self.condition) for v, value in self.values)
        return tuple(Fact(v, value, "the point evaluated at") for v, value in self.values)

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


@dataclass(frozen=True)
class FlattenSums(Rule):
    """a·Σₘ f → Σₘ a·f: a factor free of m moves inside the sum"""

    name: ClassVar[str] = "into the sum"

    def apply(self, expr, ctx):
        return algebra.flatten_sums(algebra.freshen(expr))


@dataclass(frozen=True)
class ReindexModulo(Rule):
    """Σₙ f(n, (n − m) mod N) → Σₗ f((l + m) mod N, l): l = (n − m) mod N runs over 0..N−1 once"""

    period: sp.Basic = None
    name: ClassVar[str] = "reindex"

    def apply(self, expr, ctx):
        period = self.period

        def index_mods(body: sp.Basic, v: sp.Symbol) -> list[sp.Mod]:
            """(v − m) mod N used as a matrix index: y[(n − m) mod N]."""
            return [
                i
                for e in body.atoms(MatrixElement)
                for i in e.indices
                if isinstance(i, sp.Mod) and i.args[1] == period and i.args[0].has(v)
            ]

        def reindex(s: sp.Sum) -> sp.Basic:
            ((v, lo, hi),) = s.limits
            (mod,) = index_mods(s.function, v)
            shift = v - mod.args[0]
            new = sp.Dummy("l", integer=True)
            body = s.function.xreplace({v: sp.Mod(new + shift, period)})
            # (l + m) mod N − m ≡ l, and l mod N = l for 0 ≤ l ≤ N − 1.
            body = body.replace(
                lambda e: isinstance(e, sp.Mod) and e.args == (new, period), lambda e: new
            )
            return sp.Sum(body, (new, lo, hi))

        def applies(e: sp.Basic) -> bool:
            if not isinstance(e, sp.Sum) or len(e.limits) != 1:
                return False
            v, lo, hi = e.limits[0]
            return lo == 0 and hi == period - 1 and len(index_mods(e.function, v)) == 1

        return expr.replace(applies, reindex)


@dataclass(frozen=True)
class DropPeriod(Rule):
    """cos(2πk·(a mod N)/N) → cos(2πka/N) for an integer k: cos and sin have period 2π"""

    period: sp.Basic = None
    name: ClassVar[str] = "periodicity"

    def apply(self, expr, ctx):
        def drop(e: sp.Basic) -> sp.Basic:
            argument = e.args[0]
            for mod in argument.atoms(sp.Mod):
                if mod.args[1] != self.period:
                    continue
                turns = sp.expand(argument.coeff(mod) * self.period / (2 * sp.pi))
                if turns.is_integer and not argument.has(sp.Mod(turns, 1)):
                    argument = argument.xreplace({mod: mod.args[0]})
            return e.func(argument)

        return expr.replace(lambda e: isinstance(e, (sp.cos, sp.sin)), drop)


@dataclass(frozen=True)
class AngleAddition(Rule):
    """cos(a + b) → cos a cos b − sin a sin b and sin(a + b) → sin a cos b + cos a sin b"""

    name: ClassVar[str] = "angle addition"

    def apply(self, expr, ctx):
        def split(e: sp.Basic) -> sp.Basic:
            first, *rest = sp.Add.make_args(sp.expand(e.args[0]))
            if not rest:
                return e
            second = sp.Add(*rest)
            if isinstance(e, sp.cos):
                return sp.cos(first) * sp.cos(second) - sp.sin(first) * sp.sin(second)
            return sp.sin(first) * sp.cos(second) + sp.cos(first) * sp.sin(second)

        return expr.replace(lambda e: isinstance(e, (sp.cos, sp.sin)), split)


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

    @staticmethod
    def invertible(matrix: sp.MatrixExpr) -> Fact:
        """The fact A⁻¹·A = I this rule relies on for ``matrix``: an assumption to state."""
        product = sp.MatMul(sp.Inverse(matrix), matrix, evaluate=False)  # kept, to be read
        return Fact(product, sp.Identity(matrix.rows), f"{matrix} is invertible")

    def facts_in(self, before, after):
        found = []
        for e in sp.preorder_traversal(before):
            if isinstance(e, MatrixElement) and not isinstance(e.parent, sp.MatrixSymbol):
                found.append(self.invertible(_coefficient(*_linear_parts(e.parent, self.unknown))))
        return tuple(dict.fromkeys(found))

    def apply(self, expr, ctx):
        def factor(m: sp.MatrixExpr) -> sp.MatrixExpr:
            a, b = _linear_parts(m, self.unknown)
            number, rest = a.as_coeff_mmul() if isinstance(a, sp.MatMul) else (1, a)
            if number != 1:  # (2M)⁻¹·2c reads better as M⁻¹c; M·M⁻¹ still cancels on sight
                return number * rest * (self.unknown - sp.Inverse(rest) * (b / number).doit())
            return a * (self.unknown - sp.Inverse(a) * b)

        return _on_matrix_entries(expr, factor)


def _coefficient(a: sp.MatrixExpr, b=None) -> sp.MatrixExpr:
    """The matrix SolveLinear inverts: A without its number, as in A·(w − A⁻¹b)."""
    number, rest = a.as_coeff_mmul() if isinstance(a, sp.MatMul) else (1, a)
    return rest if number != 1 else a


VOCABULARY: tuple[type[Rule], ...] = (
    SplitExponential,
    Factor,
    EvaluateAt,
    SquareOfSum,
    SumInside,
    FlattenSums,
    ReindexModulo,
    DropPeriod,
    AngleAddition,
    ExpandMatrix,
    CollectLinear,
    SolveLinear,
)
"""The rules this module adds to :data:`workbench.core.rules.VOCABULARY`."""
