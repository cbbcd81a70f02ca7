"""The rule vocabulary: each rule a small object whose one-line docstring *is* the rule.

A rule rewrites an expression with SymPy; it never checks itself. Checking is
:mod:`workbench.checks.runner`' job, which resolves both sides of every step independently.

Example:
    >>> import sympy as sp
    >>> x = sp.Symbol("x")
    >>> QuotientRule().apply(sp.Derivative(sp.sin(x) / x, x), Context())
    (x*Derivative(sin(x), x) - sin(x)*Derivative(x, x))/x**2
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import ClassVar

import sympy as sp
from sympy.matrices.expressions.matexpr import MatrixElement

from workbench.core import algebra
from workbench.core.facts import Fact, as_fact, pair_of
from workbench.core.functions import derivative_of
from workbench.errors import DerivationError


@dataclass(frozen=True)
class Context:
    """What rules may consult: the derivation's definitions (name → meaning)."""

    definitions: Mapping[sp.Basic, sp.Basic] = field(default_factory=dict)

    def depends(self, expr: sp.Basic, variable: sp.Basic) -> bool:
        """Whether ``expr`` depends on ``variable`` once definitions are unfolded."""
        held = variable.parent if isinstance(variable, MatrixElement) else variable
        body = algebra.unfold(expr, self.definitions, keep={held})
        return body.has(held)


class Rule:
    """A rewrite rule. Subclasses set ``name`` and implement :meth:`apply`."""

    name: ClassVar[str] = "rule"
    assumptions: tuple = ()

    @property
    def statement(self) -> str:
        return (type(self).__doc__ or "").strip().splitlines()[0]

    def apply(self, expr: sp.Basic, ctx: Context) -> sp.Basic:
        raise NotImplementedError

    def facts_in(self, before: sp.Basic, after: sp.Basic) -> tuple[Fact, ...]:
        """The facts the step before → after relies on; by default its assumptions, taken
        as given (so its result must state them, see :mod:`workbench.core.facts`)."""
        return tuple(as_fact(a) for a in self.assumptions)


def _on_derivatives(expr: sp.Basic, rewrite: Callable[[sp.Derivative], sp.Basic | None]):
    """Rewrite every (outermost) Derivative that ``rewrite`` accepts; None leaves it alone."""

    def visit(e: sp.Basic) -> sp.Basic:
        if isinstance(e, sp.Derivative):
            out = rewrite(e)
            return e if out is None else out
        if e.is_Atom or not e.args:
            return e
        args = tuple(visit(a) for a in e.args)
        return e if args == e.args else e.func(*args)

    return visit(expr)


def _base(e: sp.Basic) -> sp.Basic:
    """The named quantity: ``W`` for ``W[a, b]``, the symbol itself for a scalar."""
    return e.parent if isinstance(e, MatrixElement) else e


def _indices(e: sp.Basic) -> tuple:
    return tuple(e.indices) if isinstance(e, MatrixElement) else ()


def _variable(d: sp.Derivative) -> sp.Basic:
    if len(d.variable_count) != 1 or d.variable_count[0][1] != 1:
        raise DerivationError("rules act on first derivatives in one variable")
    return d.variable_count[0][0]


# ---------------------------------------------------------------- definitions
@dataclass(frozen=True)
class Definition(Rule):
    """name → its definition (unfold the named quantities)"""

    names: tuple = ()
    name: ClassVar[str] = "definition"

    def apply(self, expr, ctx):
        chosen = {k: v for k, v in ctx.definitions.items() if k in self.names}
        missing = set(self.names) - set(chosen)
        if missing:
            raise DerivationError(f"no definition for {sorted(map(str, missing))}")
        # One level only: the learner sees each name replaced by what it stands for.
        return algebra.unfold(expr, chosen, keep=set(ctx.definitions) - set(self.names))


@dataclass(frozen=True)
class Fold(Rule):
    """f(x_i) → s_i·c: write the result back in terms of a named quantity"""

    matches: Callable[[sp.Basic], bool] = lambda e: False
    replacement: Callable[[sp.Basic], sp.Basic] = lambda e: e
    free_only: bool = True
    name: ClassVar[str] = "fold definition"

    def apply(self, expr, ctx):
        out = _replace_pieces(expr, self.matches, self.replacement, self.free_only)
        return sp.factor_terms(sp.cancel(algebra.canonical(out)))


def _replace_pieces(expr, matches, replacement, free_only):
    """Replace the pieces ``matches`` accepts; with ``free_only``, only pieces whose indices
    are all free (not bound by an enclosing sum)."""
    free = expr.free_symbols
    found = {
        e: replacement(e)
        for e in sp.preorder_traversal(expr)
        if matches(e) and (not free_only or e.free_symbols <= free)
    }
    return expr.xreplace(found)


# ---------------------------------------------------------------- differentiation
@dataclass(frozen=True)
class Linearity(Rule):
    """∂(a·f + b·g) → a·∂f + b·∂g, and ∂Σf → Σ∂f (constants and sums pass through)"""

    name: ClassVar[str] = "linearity"

    def apply(self, expr, ctx):
        def push(d: sp.Derivative):
            v = _variable(d)

            def lin(f: sp.Basic) -> sp.Basic:
                if isinstance(f, sp.Add):
                    return sp.Add(*[lin(t) for t in f.args])
                if isinstance(f, sp.Sum):
                    inner = lin(f.function)
                    return sp.Sum(inner, *f.limits) if inner != 0 else sp.Integer(0)
                if isinstance(f, sp.Mul):
                    const = [a for a in f.args if not ctx.depends(a, v)]
                    dep = [a for a in f.args if ctx.depends(a, v)]
                    if const:
                        return sp.Mul(*const) * (lin(sp.Mul(*dep)) if dep else 0)
                if not ctx.depends(f, v):
                    return sp.Integer(0)
                return sp.Derivative(f, v)

            return lin(d.expr)

        return _on_derivatives(expr, push)


@dataclass(frozen=True)
class QuotientRule(Rule):
    """∂(u/v) → (∂u·v − u·∂v)/v²"""

    name: ClassVar[str] = "quotient rule"

    def apply(self, expr, ctx):
        def quotient(d):
            v = _variable(d)
            num, den = sp.fraction(d.expr)
            if den == 1:
                return None
            return (sp.Derivative(num, v) * den - num * sp.Derivative(den, v)) / den**2

        return _on_derivatives(expr, quotient)


@dataclass(frozen=True)
class ProductRule(Rule):
    """∂(u·w) → ∂u·w + u·∂w"""

    name: ClassVar[str] = "product rule"

    def apply(self, expr, ctx):
        def product(d):
            v = _variable(d)
            if not isinstance(d.expr, sp.Mul):
                return None
            u, *rest = d.expr.args
            w = sp.Mul(*rest)
            return sp.Derivative(u, v) * w + u * sp.Derivative(w, v)

        return _on_derivatives(expr, product)


@dataclass(frozen=True)
class ChainRule(Rule):
    """∂f(u) → f′(u)·∂u for a function f of one argument (and ∂uᶜ → c·uᶜ⁻¹·∂u)"""

    name: ClassVar[str] = "chain rule"

    def apply(self, expr, ctx):
        def chain(d):
            v = _variable(d)
            f = d.expr
            if isinstance(f, sp.Pow) and f.exp.is_number:
                return f.exp * f.base ** (f.exp - 1) * sp.Derivative(f.base, v)
            if isinstance(f, sp.Function) and len(f.args) == 1:
                return derivative_of(f.func)(f.args[0]) * sp.Derivative(f.args[0], v)
            return None

        return _on_derivatives(expr, chain)


@dataclass(frozen=True)
class ChainRuleThrough(Rule):
    """∂L/∂v → Σ_ab ∂L/∂m_ab · ∂m_ab/∂v through an intermediate matrix m"""

    through: sp.Basic = None
    name: ClassVar[str] = "chain rule (through an intermediate)"

    def apply(self, expr, ctx):
        m = self.through
        rows, cols = m.shape

        def through(d):
            v = _variable(d)
            a = sp.Dummy("r", integer=True)
            if cols == 1:
                return sp.Sum(
                    sp.Derivative(d.expr, m[a, 0]) * sp.Derivative(m[a, 0], v), (a, 0, rows - 1)
                )
            b = sp.Dummy("c", integer=True)
            return sp.Sum(
                sp.Derivative(d.expr, m[a, b]) * sp.Derivative(m[a, b], v),
                (a, 0, rows - 1),
                (b, 0, cols - 1),
            )

        return _on_derivatives(expr, through)


@dataclass(frozen=True)
class Differentiate(Rule):
    """evaluate the remaining elementary derivatives (∂x_i/∂x_j = δ_ij, ∂c = 0, ...)"""

    name: ClassVar[str] = "elementary derivatives"

    def apply(self, expr, ctx):
        return algebra.strip_delta_ranges(algebra.evaluate_derivatives(expr, ctx.definitions))


@dataclass(frozen=True)
class UseResult(Rule):
    """∂s_p/∂z_q → a result derived earlier, with its indices renamed"""

    goal: sp.Derivative = None
    result: sp.Basic = None
    label: str = ""
    facts: tuple = ()  # the assumptions the known result relies on
    name: ClassVar[str] = "known result"

    @property
    def assumptions(self):
        return tuple(self.facts)

    def apply(self, expr, ctx):
        goal_f, goal_v = self.goal.expr, _variable(self.goal)

        def use(d):
            f, v = d.expr, _variable(d)
            if _base(f) != _base(goal_f) or _base(v) != _base(goal_v):
                return None
            renaming = {}
            for pattern, actual in zip(
                (*_indices(goal_f), *_indices(goal_v)), (*_indices(f), *_indices(v)), strict=True
            ):
                if pattern.is_Symbol:
                    renaming[pattern] = actual
                elif pattern != actual:
                    return None
            return algebra.freshen(self.result).xreplace(renaming)

        return _on_derivatives(expr, use)


# ---------------------------------------------------------------- algebra
@dataclass(frozen=True)
class CollapseDeltas(Rule):
    """Σ_k f_k δ_kj → f_j"""

    name: ClassVar[str] = "Kronecker delta"

    def apply(self, expr, ctx):
        return algebra.strip_delta_ranges(algebra.collapse_deltas(algebra.split_sums(expr)))


@dataclass(frozen=True)
class SplitSums(Rule):
    """Σ(a + c·b) → Σa + c·Σb"""

    name: ClassVar[str] = "split sum"

    def apply(self, expr, ctx):
        return algebra.split_sums(expr)


@dataclass(frozen=True)
class Substitute(Rule):
    """use a stated fact: lhs → rhs (e.g. Σ_i y_i = 1)"""

    fact: tuple | Fact = ()  # an (lhs, rhs) pair (assumed) or a Fact saying how it is known
    name: ClassVar[str] = "assumption"

    @property
    def assumptions(self):
        return (pair_of(self.fact),)

    def facts_in(self, before, after):
        return (as_fact(self.fact),)

    def apply(self, expr, ctx):
        lhs, rhs = pair_of(self.fact)
        return algebra.substitute_fact(algebra.canonical(expr), lhs, rhs)


@dataclass(frozen=True)
class Algebra(Rule):
    """rearrange: expand, cancel and collect common factors"""

    how: str = "simplify"
    name: ClassVar[str] = "algebra"

    _ACTIONS: ClassVar[Mapping[str, Callable]] = {
        "expand": sp.expand,
        "cancel": lambda e: sp.factor_terms(sp.cancel(e)),
        "factor": sp.factor_terms,
        "together": sp.together,
    }

    def apply(self, expr, ctx):
        if self.how not in self._ACTIONS:
            raise DerivationError(f"unknown algebra action {self.how!r}")
        return self._ACTIONS[self.how](expr)


@dataclass(frozen=True)
class Rewrite(Rule):
    """replace each piece by an equal piece, e.g. log pₖ → log p̂ₖ − (log p̂ₖ − log pₖ)"""

    matches: Callable[[sp.Basic], bool] = lambda e: False
    replacement: Callable[[sp.Basic], sp.Basic] = lambda e: e
    name: ClassVar[str] = "rewrite"

    def apply(self, expr, ctx):
        return _replace_pieces(expr, self.matches, self.replacement, free_only=False)


@dataclass(frozen=True)
class SwapSums(Rule):
    """Σ_a Σ_b f → Σ_b Σ_a f (finite sums with independent limits)"""

    name: ClassVar[str] = "swap sums"

    def apply(self, expr, ctx):
        def swap(s: sp.Sum):
            if len(s.limits) == 2:  # SymPy merges nested sums: Sum(f, inner, outer)
                first, second = s.limits
                if first.has(second[0]) or second.has(first[0]):
                    return None
                return sp.Sum(s.function, second, first)
            inner = s.function
            if len(s.limits) != 1 or not isinstance(inner, sp.Sum) or len(inner.limits) != 1:
                return None
            outer_var = s.limits[0][0]
            if inner.limits[0].has(outer_var):
                return None
            return sp.Sum(sp.Sum(inner.function, s.limits[0]), inner.limits[0])

        def visit(e):
            if isinstance(e, sp.Sum):
                swapped = swap(e)
                if swapped is not None:
                    return swapped
            if e.is_Atom or not e.args:
                return e
            args = tuple(visit(a) for a in e.args)
            return e if args == e.args else e.func(*args)

        return visit(expr)


VOCABULARY: tuple[type[Rule], ...] = (
    Definition,
    Fold,
    Linearity,
    QuotientRule,
    ProductRule,
    ChainRule,
    ChainRuleThrough,
    Differentiate,
    UseResult,
    CollapseDeltas,
    SplitSums,
    SwapSums,
    Substitute,
    Algebra,
    Rewrite,
)
"""Every rule a step may name, in the order a learner usually meets them."""
