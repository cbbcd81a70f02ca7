"""Rules that compose derived results into a larger network (the transformer block).

A catalogue result such as the attention gradient or the layer-norm backward pass is
derived for a loss L = Σ G ∘ O with a generic upstream gradient G. Inside a network the
same sum appears with G replaced by whatever the chain rule delivered; these rules say
so, and let a chain branch where the network does (residual connections, the three
projections Q, K, V of one input). Like every rule they never check themselves: the
step check resolves both sides independently.

Example:
    >>> import sympy as sp
    >>> from workbench.core.rules import Context
    >>> x, y = sp.MatrixSymbol("x", 2, 1), sp.MatrixSymbol("y", 2, 1)
    >>> L = sp.Symbol("L")
    >>> rule = ChainRuleThroughEach((x,))
    >>> rule.apply(sp.Derivative(L, y[0, 0]), Context()).has(sp.Derivative(L, x[0, 0]))
    False
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import ClassVar

import sympy as sp
from sympy.matrices.expressions.matexpr import MatrixElement

from workbench.core import algebra
from workbench.core.rules import Context, Rule, _on_derivatives, _variable
from workbench.errors import DerivationError


@dataclass(frozen=True)
class GraphContext(Context):
    """A :class:`Context` that decides dependence on the graph of names, not by unfolding.

    A network's names nest a dozen levels deep (the gradient of a first layer mentions
    every stage above it); unfolding them all to ask whether W₁ occurs costs seconds
    per question, walking which definition mentions which name costs microseconds. The
    answer is the same: an expression depends on v when it holds v or a name whose
    definitions lead to v.
    """

    def depends(self, expr: sp.Basic, variable: sp.Basic) -> bool:
        held = algebra.base(variable)
        if expr.has(held):
            return True
        names = algebra.names_in(expr, self.definitions)
        return any(algebra.depends_on(name, variable, self.definitions) for name in names)


def _through_sum(d: sp.Derivative, m: sp.MatrixSymbol, v) -> sp.Basic:
    """Σ_rc ∂f/∂m_rc · ∂m_rc/∂v."""
    r, c = sp.Dummy("r", integer=True), sp.Dummy("c", integer=True)
    rows, cols = m.shape
    return sp.Sum(
        sp.Derivative(d.expr, m[r, c]) * sp.Derivative(m[r, c], v),
        (r, 0, rows - 1),
        (c, 0, cols - 1),
    )


@dataclass(frozen=True)
class ChainRuleThroughEach(Rule):
    """∂L/∂v → Σₘ Σ_ab ∂L/∂m_ab · ∂m_ab/∂v over sibling intermediates m (e.g. Q, K, V)"""

    throughs: tuple = ()
    name: ClassVar[str] = "chain rule (through several intermediates)"

    def apply(self, expr, ctx):
        def through(d):
            v = _variable(d)
            return sp.Add(*[_through_sum(d, m, v) for m in self.throughs])

        return _on_derivatives(expr, through)


@dataclass(frozen=True)
class ResidualChainRule(Rule):
    """∂L/∂x → Σ ∂L/∂y·(∂y/∂x with m held) + Σ ∂L/∂m·∂m/∂x for y = x + f(m(x)) (a skip path)"""

    skip: sp.MatrixSymbol = None  # y, the sum of x and the branch
    through: sp.MatrixSymbol = None  # m, where the branch leaves x
    name: ClassVar[str] = "chain rule (residual connection)"

    def apply(self, expr, ctx):
        y, m = self.skip, self.through

        def residual(d):
            v = _variable(d)
            r, c = sp.Dummy("r", integer=True), sp.Dummy("c", integer=True)
            # The skip path: y's definition differentiated by SymPy with m held fixed.
            entry = algebra.unfold(y[r, c], ctx.definitions, keep={m, algebra.base(v)})
            direct = sp.diff(entry, v)
            rows, cols = y.shape
            skip = sp.Sum(
                sp.Derivative(d.expr, y[r, c]) * direct, (r, 0, rows - 1), (c, 0, cols - 1)
            )
            # Left uncollapsed: the deltas are collapsed once ∂L/∂y is known (a sum over a
            # bare derivative does not see that the derivative's indices are bound).
            skip = algebra.strip_delta_ranges(skip)
            return skip + _through_sum(d, m, v)

        return _on_derivatives(expr, residual)


@dataclass(frozen=True)
class UseBackward(Rule):
    """Σ_rc U_rc·∂O_rc/∂v → a derived backward pass with its upstream G replaced by U"""

    derived: sp.Basic = None  # the known ∂(Σ G∘O)/∂v at free indices ``index``
    index: tuple = ()  # the known result's free indices, e.g. (p, q) or (j,)
    upstream: sp.MatrixSymbol = None  # the known result's G
    output: sp.MatrixSymbol = None  # O in the network
    wrt: sp.MatrixSymbol = None  # v in the network
    rowwise: Mapping = field(default_factory=dict)
    """For a result about one vector applied to every row (layer norm): the known
    result's names → the network's, vectors to matrices (x[k] → X[p, k]), scalars to
    columns (μ → μ[p]). Empty for a result about whole matrices (attention)."""
    label: str = ""
    name: ClassVar[str] = "known backward pass"

    def apply(self, expr, ctx):
        def visit(e):
            if isinstance(e, sp.Sum):
                out = self._match(e)
                if out is not None:
                    return out
            if e.is_Atom or not e.args:
                return e
            args = tuple(visit(a) for a in e.args)
            return e if args == e.args else e.func(*args)

        out = visit(expr)
        if out == expr:
            raise DerivationError(f"{self.label}: no Σ U·∂{self.output}/∂{self.wrt} found")
        return out

    def _match(self, s: sp.Sum):
        if len(s.limits) != 2 or not isinstance(s.function, sp.Mul):
            return None
        (r, *_), (c, *_) = s.limits
        for factor in s.function.args:
            if (
                isinstance(factor, sp.Derivative)
                and isinstance(factor.expr, MatrixElement)
                and factor.expr.parent == self.output
                and tuple(factor.expr.indices) == (r, c)
            ):
                v = _variable(factor)
                if not isinstance(v, MatrixElement) or v.parent != self.wrt:
                    return None
                weight = s.function / factor
                # φ′ stays an unevaluated Derivative at a point; only one wrt an entry counts.
                if any(
                    isinstance(x, MatrixElement)
                    for deriv in weight.atoms(sp.Derivative)
                    for x, _ in deriv.variable_count
                ):
                    return None
                return self._instantiate(weight, (r, c), tuple(v.indices))
        return None

    def _instantiate(self, weight, rc, at):
        r, c = rc
        known = algebra.freshen(self.derived)
        if not self.rowwise:
            known = known.xreplace(dict(zip(self.index, at, strict=True)))

            def upstream(e):
                return weight.xreplace({r: e.i, c: e.j})

            return known.replace(
                lambda e: isinstance(e, MatrixElement) and e.parent == self.upstream, upstream
            )
        row, column = at
        (j,) = self.index
        known = known.xreplace({j: column})
        vectors = {k: v for k, v in self.rowwise.items() if isinstance(k, sp.MatrixSymbol)}

        def entry(e):
            if e.parent == self.upstream:
                return weight.xreplace({r: row, c: e.i})
            target = vectors[e.parent]
            return target[row, e.i] if target.shape[1] != 1 else target[e.i, 0]

        known = known.replace(
            lambda e: (
                isinstance(e, MatrixElement) and (e.parent == self.upstream or e.parent in vectors)
            ),
            entry,
        )
        scalars = {k: v[row, 0] for k, v in self.rowwise.items() if isinstance(k, sp.Symbol)}
        return known.xreplace(scalars)


VOCABULARY: tuple[type[Rule], ...] = (ChainRuleThroughEach, ResidualChainRule, UseBackward)
"""The rules this module adds to :data:`workbench.rules.VOCABULARY`."""
