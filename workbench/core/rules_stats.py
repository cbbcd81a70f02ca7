"""Rules and objects for statistics, information theory and optimisers.

Rules in the style of :mod:`workbench.core.rules` (each one-line docstring *is* the rule;
SymPy computes every result), plus two expression classes the rules act on:

* :class:`Recurrence` — the t-th iterate of ``x_k = f(x_{k−1}, k)`` from ``x_0``. At a
  concrete integer ``t`` it evaluates itself by running the iteration, so the step
  checker (which instantiates integer-positive symbols at small sizes) compares a
  solved recurrence with the iteration itself.
* :class:`StationaryMean` — E[·] over a sequence ``g_1, g_2, …`` with E[g_k] = γ for
  every k. It evaluates only expressions that are explicit and linear in the ``g_k``
  (linearity of expectation); anything else stays unevaluated.

Example:
    >>> import sympy as sp
    >>> b, g = sp.symbols("beta g")
    >>> t = sp.Symbol("t", integer=True, positive=True)
    >>> v = Recurrence.of("v", lambda prev, k: b * prev + g, 0, t)
    >>> sp.expand(v.xreplace({t: 2}))
    beta*g + g
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

import sympy as sp
from sympy.core.symbol import Str

from workbench.core.algebra import canonical
from workbench.core.facts import Root, SolvedRecurrence
from workbench.core.rules import Rule
from workbench.errors import DerivationError

# ---------------------------------------------------------------- expression classes
MEAN_PREFIX = "mean of "  # names the recurrence that the expectations of another obey


class Recurrence(sp.Function):
    """x_t for x_k = update(x_{k−1}, k), x_0 = initial; args (name, update, initial, t)."""

    nargs = 4

    @classmethod
    def of(cls, name: str, update: Callable, initial, t) -> Recurrence:
        """Build from a Python ``update(prev, k)``; prev and k become bound variables."""
        prev, k = sp.Dummy("x"), sp.Dummy("k")  # no integer assumption: never an index
        return cls(Str(name), sp.Lambda((prev, k), update(prev, k)), sp.sympify(initial), t)

    @classmethod
    def eval(cls, name, update, initial, t):
        if t.is_Integer and t >= 0:
            value = initial
            for k in range(1, int(t) + 1):
                value = update(value, k)
            return sp.expand(value)
        return None

    name = property(lambda self: self.args[0].name)
    update = property(lambda self: self.args[1])
    initial = property(lambda self: self.args[2])
    t = property(lambda self: self.args[3])

    def _latex(self, printer):
        name = self.name
        if name.startswith(MEAN_PREFIX):  # the recurrence of the means: m̄ₜ = E[mₜ]
            name = rf"\bar{{{name.removeprefix(MEAN_PREFIX)}}}"
        return f"{name}_{{{printer._print(self.t)}}}"

    def _sympystr(self, printer):
        name = self.name
        if name.startswith(MEAN_PREFIX):
            name = name.removeprefix(MEAN_PREFIX) + "\u0304"  # combining macron: m̄
        return f"{name}_{printer._print(self.t)}"

    def linear_parts(self) -> tuple[sp.Basic, sp.Lambda]:
        """(a, c) with update(x, k) = a·x + c(k); raises unless linear with constant a."""
        prev, k = self.update.variables
        body = sp.expand(self.update.expr)
        a = body.coeff(prev)
        c = sp.factor_terms(sp.expand(body - a * prev))
        if c.has(prev) or a.has(prev) or a.has(k):
            raise DerivationError(f"{self.name}: not a first-order linear recurrence")
        return a, sp.Lambda(k, c)


class StationaryMean(sp.Function):
    """E[expr] where expr is linear in g_k = g(k) and E[g_k] = mean; args (expr, g, mean)."""

    nargs = 3

    @classmethod
    def eval(cls, expr, sequence, mean):
        if expr.has(Recurrence, sp.Sum):
            return None  # not explicit yet: t is general
        atoms = [
            a for a in expr.atoms(sp.core.function.AppliedUndef) if a.func.__name__ == sequence.name
        ]
        if not atoms:
            return expr  # a constant is its own expectation
        poly = sp.Poly(sp.expand(expr), *atoms)
        if poly.total_degree() > 1:
            return None  # E[g_k²] is not determined by E[g_k]
        return sp.expand(expr.xreplace({a: mean for a in atoms}))

    expr = property(lambda self: self.args[0])
    mean = property(lambda self: self.args[2])

    def _latex(self, printer):
        return rf"\mathbb{{E}}\left[{printer._print(self.expr)}\right]"

    def _sympystr(self, printer):
        return f"E[{printer._print(self.expr)}]"


def expectation(expr, sequence: str, mean) -> StationaryMean:
    return StationaryMean(expr, Str(sequence), mean)


# ---------------------------------------------------------------- rules
def _replace(expr, kind, rewrite):
    """Rewrite every instance of ``kind`` (innermost first) with ``rewrite``."""
    return expr.replace(lambda e: isinstance(e, kind), rewrite)


@dataclass(frozen=True)
class Unroll(Rule):
    """x_t = a·x_{t−1} + c_t, x_0 given → x_t = aᵗx_0 + Σ_{k=1}^{t} a^{t−k} c_k"""

    name: ClassVar[str] = "unroll the recurrence"

    def apply(self, expr, ctx):
        def unroll(r: Recurrence):
            a, c = r.linear_parts()
            k = sp.Symbol("k", integer=True)
            constant, term = (a ** (r.t - k) * c(k)).as_independent(k, as_Add=False)
            return a**r.t * r.initial + constant * sp.Sum(term, (k, 1, r.t))

        return _replace(expr, Recurrence, unroll)


@dataclass(frozen=True)
class SolveRecurrence(Rule):
    """x_t = a·x_{t−1} + c, x_0 given → the closed form SymPy's rsolve finds"""

    name: ClassVar[str] = "solve the recurrence"

    @staticmethod
    def solution(r: Recurrence) -> sp.Basic:
        x = sp.Function(r.name)
        prev, k = r.update.variables
        t = r.t
        equation = x(t) - r.update.expr.xreplace({prev: x(t - 1), k: t})
        solution = sp.rsolve(equation, x(t), {x(0): r.initial})
        if solution is None:
            raise DerivationError(f"rsolve found no closed form for {r.name}")
        return sp.factor_terms(solution)

    def facts_in(self, before, after):
        # rsolve's answer is a fact the facts check confirms (put back into the recurrence).
        return tuple(
            SolvedRecurrence(r, self.solution(r), f"rsolve's solution of {r.name}")
            for r in dict.fromkeys(before.atoms(Recurrence))
        )

    def apply(self, expr, ctx):
        return _replace(expr, Recurrence, self.solution)


@dataclass(frozen=True)
class GeometricSum(Rule):
    """Σ_{k=lo}^{hi} a^{c ± k} = a^{first} (1 − aⁿ)/(1 − a), n = hi − lo + 1 terms (a ≠ 1)"""

    name: ClassVar[str] = "geometric sum"

    @staticmethod
    def total(s: sp.Sum) -> sp.Basic | None:
        """The sum in closed form, or None when it is not a geometric one."""
        if len(s.limits) != 1:
            return None
        (k, lo, hi), term = s.limits[0], s.function
        constant, power = term.as_independent(k, as_Add=False)
        if not isinstance(power, sp.Pow) or power.base.has(k):
            return None
        a, exponent = power.base, sp.expand(power.exp)
        step = exponent.coeff(k)
        if step not in (1, -1) or sp.expand(exponent - step * k).has(k):
            return None
        first = exponent.subs(k, lo if step == 1 else hi)  # the smallest exponent
        n = hi - lo + 1
        return constant * a**first * (1 - a**n) / (1 - a)

    def apply(self, expr, ctx):
        def close(e: sp.Sum):
            total = self.total(e)
            return e if total is None else total

        return _replace(expr, sp.Sum, close)


@dataclass(frozen=True)
class TakeExpectation(Rule):
    """E[x_t] for x_t = a·x_{t−1} + c·g_t, E[g_t] = γ → E[x_t] = a·E[x_{t−1}] + c·γ"""

    name: ClassVar[str] = "linearity of expectation"

    def apply(self, expr, ctx):
        def take(e: StationaryMean):
            r = e.expr
            if not isinstance(r, Recurrence):
                return e
            prev, k = r.update.variables
            g = sp.Function(e.args[1].name)
            update = sp.Lambda((prev, k), r.update.expr.replace(g, lambda *_: e.mean))
            return Recurrence(Str(f"{MEAN_PREFIX}{r.name}"), update, r.initial, r.t)

        return _replace(expr, StationaryMean, take)


@dataclass(frozen=True)
class PullOutConstants(Rule):
    """E[c·X] → c·E[X] for c not random (linearity of expectation)"""

    name: ClassVar[str] = "linearity of expectation"

    def apply(self, expr, ctx):
        def pull(e: StationaryMean):
            constant, random = e.expr.as_independent(Recurrence, sp.core.function.AppliedUndef)
            if constant == 1:
                return e
            return constant * StationaryMean(random, *e.args[1:])

        return _replace(expr, StationaryMean, pull)


@dataclass(frozen=True)
class Solve(Rule):
    """an unknown u with condition(u) = 0 → the unique root SymPy's solve finds"""

    condition: tuple = ()  # (lhs, rhs): lhs = rhs
    unknown: sp.Basic = None
    name: ClassVar[str] = "solve"

    @property
    def assumptions(self):
        return (self.condition,)

    def root(self) -> sp.Basic:
        lhs, rhs = self.condition
        roots = sp.solve(sp.Eq(lhs, rhs), self.unknown, dict=False)
        if len(roots) != 1:
            raise DerivationError(f"expected one root for {self.unknown}, found {roots}")
        return roots[0]

    def facts_in(self, before, after):
        # The root solve found is a fact the facts check confirms (put back in the condition).
        return (Root(self.unknown, self.root(), self.condition, "the root solve found"),)

    def apply(self, expr, ctx):
        return expr.xreplace({self.unknown: self.root()})


@dataclass(frozen=True)
class ExpandLogs(Rule):
    """log(a·b) → log a + log b, log(aᶜ) → c·log a, log(exp u) → u (a, b > 0)"""

    name: ClassVar[str] = "log rules"

    def apply(self, expr, ctx):
        from sympy.stats.symbolic_probability import Expectation

        def expand(e):
            return sp.expand(sp.expand_log(e, force=True))

        if expr.has(Expectation):  # Expectation.expand is linearity: keep that a step apart
            return expr.replace(
                lambda e: isinstance(e, Expectation), lambda e: Expectation(expand(e.args[0]))
            )
        return expand(expr)


@dataclass(frozen=True)
class ExpOfLog(Rule):
    """u → exp(log u) for u > 0 (write a product as the exponential of a sum)"""

    name: ClassVar[str] = "exp of log"

    def apply(self, expr, ctx):
        return sp.exp(sp.log(expr), evaluate=False)


@dataclass(frozen=True)
class ChangeOfBase(Rule):
    """aᵘ → exp(u·log a) for a constant base a > 0"""

    name: ClassVar[str] = "change of base"

    def apply(self, expr, ctx):
        return expr.replace(
            lambda e: isinstance(e, sp.Pow) and e.base.is_number and e.base.is_positive,
            lambda e: sp.exp(e.exp * sp.log(e.base)),
        )


@dataclass(frozen=True)
class CombineLogs(Rule):
    """a·(log x − log y) → a·log(x/y): a difference of logs is the log of a quotient"""

    name: ClassVar[str] = "log rules"

    def apply(self, expr, ctx):
        def is_log_difference(e):
            return isinstance(e, sp.Add) and all(
                isinstance(t, sp.log) or (-t).func is sp.log for t in e.args
            )

        def combine(e):
            inside = [t.args[0] if isinstance(t, sp.log) else 1 / (-t).args[0] for t in e.args]
            return sp.log(sp.Mul(*inside))

        factored = _replace(expr, sp.Sum, lambda e: sp.Sum(sp.factor_terms(e.function), *e.limits))
        return sp.factor_terms(factored).replace(is_log_difference, combine)


@dataclass(frozen=True)
class ExpectationLinearity(Rule):
    """E[a + b·X + c·X²] → a + b·E[X] + c·E[X²] (linearity of expectation)"""

    name: ClassVar[str] = "linearity of expectation"

    def apply(self, expr, ctx):
        from sympy.stats.symbolic_probability import Expectation

        return _replace(expr, Expectation, lambda e: e.expand())


@dataclass(frozen=True)
class SplitTerms(Rule):
    """Σ(a + c·b) → Σa + c·Σb term by term, without expanding the terms"""

    name: ClassVar[str] = "split sum"

    def apply(self, expr, ctx):
        def split(e: sp.Sum):
            if len(e.limits) != 1:
                return e
            var, lo, hi = e.limits[0]
            total = sp.Integer(0)
            for term in sp.Add.make_args(e.function):
                constant, rest = term.as_independent(var, as_Add=False)
                total += constant * (sp.Sum(rest, e.limits[0]) if rest != 1 else hi - lo + 1)
            return total

        return _replace(expr, sp.Sum, split)


@dataclass(frozen=True)
class CombineSums(Rule):
    """c·Σ_k f + d·Σ_k g → Σ_k (c·f + d·g) for sums over the same indices and ranges"""

    # Also every sum of sums inside a product, each combined body with its common
    # factors collected: (Σₖ Wₖₚsₖ − Σₖ Wₖₚyₖ)·c → (Σₖ Wₖₚ(sₖ − yₖ))·c.
    inside: bool = False
    name: ClassVar[str] = "combine sums"

    def apply(self, expr, ctx):
        expr = canonical(expr)
        if self.inside:
            return expr.replace(
                lambda e: isinstance(e, sp.Add) and e.has(sp.Sum),
                lambda e: self._combine(e, sp.factor_terms),
            )
        return self._combine(expr)

    @staticmethod
    def _combine(expr: sp.Basic, collect=lambda body: body) -> sp.Basic:
        grouped: dict[tuple, list] = {}
        others = []
        for term in sp.Add.make_args(expr):
            coefficient, rest = term.as_independent(sp.Sum, as_Add=False)
            if isinstance(rest, sp.Sum) and not coefficient.has(*rest.variables):
                grouped.setdefault(rest.limits, []).append(coefficient * rest.function)
            else:
                others.append(term)
        combined = [sp.Sum(collect(sp.Add(*body)), *limits) for limits, body in grouped.items()]
        return sp.Add(*others, *combined)


@dataclass(frozen=True)
class ChainRuleThroughScalar(Rule):
    """∂L/∂v → ∂L/∂u · ∂u/∂v through a single intermediate number u"""

    through: sp.Basic = None
    name: ClassVar[str] = "chain rule (through an intermediate)"

    def apply(self, expr, ctx):
        def through(e: sp.Derivative):
            (variable, count), *rest = e.variable_count
            if rest or count != 1 or variable == self.through:
                return e
            return sp.Derivative(e.expr, self.through) * sp.Derivative(self.through, variable)

        return _replace(expr, sp.Derivative, through)


@dataclass(frozen=True)
class OneTermSum(Rule):
    """Σ_{k=a}^{a} f(k) → f(a): a sum over a single index value is that one term"""

    name: ClassVar[str] = "one-term sum"

    def apply(self, expr, ctx):
        def single(e: sp.Sum):
            (var, lo, hi), *rest = e.limits
            if rest or lo != hi:
                return e
            return e.function.xreplace({var: lo})

        return _replace(expr, sp.Sum, single)


@dataclass(frozen=True)
class Evaluate(Rule):
    """evaluate what is left: finite sums, limits and numbers (SymPy's doit)"""

    name: ClassVar[str] = "evaluate"

    def apply(self, expr, ctx):
        return sp.factor_terms(expr.doit())


VOCABULARY: tuple[type[Rule], ...] = (
    Unroll,
    SolveRecurrence,
    GeometricSum,
    TakeExpectation,
    PullOutConstants,
    Solve,
    ExpandLogs,
    ExpOfLog,
    ChangeOfBase,
    CombineLogs,
    ExpectationLinearity,
    SplitTerms,
    CombineSums,
    ChainRuleThroughScalar,
    OneTermSum,
    Evaluate,
)
"""The rules this module adds to :data:`workbench.core.rules.VOCABULARY`."""
