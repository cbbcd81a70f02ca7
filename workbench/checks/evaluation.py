"""Evaluate index-notation expressions at concrete sizes, with 60-digit numbers.

Index notation — ``Sum`` over symbolic ranges, ``KroneckerDelta``, matrix elements with
symbolic indices such as ``W[k, l]`` — is compact, but written out at a concrete size it
repeats itself: every entry of a softmax carries its own copy of the row sum. SymPy's
``doit`` builds that whole tree, and checking it entry by entry grows with it.
:class:`Evaluator` walks the compact expression instead, and caches each subexpression's
value per assignment of the indices it actually depends on, so the row sum is computed
once per row. Work follows the expression's DAG, not its expanded tree.

Numbers are ``mpmath.mpf`` at ``DIGITS`` significant digits; exact rationals enter
exactly. Anything it does not evaluate (an inverse, an unspecified function) raises
:class:`Unsupported`; a point outside the real domain (log of a negative number, δ at 0)
raises :class:`Inadmissible`.

Example:
    >>> import sympy as sp
    >>> n = sp.Symbol("n", integer=True, positive=True)
    >>> k = sp.Symbol("k", integer=True)
    >>> z = sp.MatrixSymbol("z", n, 1)
    >>> lse = sp.log(sp.Sum(sp.exp(z[k, 0]), (k, 0, n - 1)))
    >>> round(float(Evaluator({n: 3}, {"z": [[0], [0], [0]]}).value(lse)), 6)   # log 3
    1.098612
"""

from __future__ import annotations

import contextlib
import operator
from collections.abc import Callable, Mapping
from typing import Any

import mpmath
import sympy as sp
from sympy.core.function import AppliedUndef
from sympy.matrices.expressions.matexpr import MatrixElement

DIGITS = 60  # working precision, well beyond the 1e-35 relative tolerance of comparisons


class Unsupported(Exception):
    """The expression holds something the evaluator does not evaluate (e.g. an inverse)."""


class Inadmissible(Exception):
    """The point lies outside the real domain (log of a negative number, δ at 0, ...)."""


Compiled = tuple[Callable[[dict], Any], tuple]  # (env → value, the indices it reads)


class Evaluator:
    """Evaluate index-notation expressions at concrete sizes and input values.

    Args:
        sizes: size symbol → int.
        values: matrix name → rows of entries (``mpf``, or SymPy rationals, converted);
            a scalar symbol's name → its value.
        constants: other symbols with fixed values (ε = 0, say).

    Equal subexpressions share one compiled node, whose value is cached per assignment
    of its free indices; an evaluator is therefore tied to one set of values.
    """

    def __init__(
        self,
        sizes: Mapping[sp.Symbol, int],
        values: Mapping[str, object],
        constants: Mapping[sp.Symbol, object] | None = None,
    ):
        self.sizes = {sp.sympify(k): int(v) for k, v in sizes.items()}
        with mpmath.workdps(DIGITS):
            self.values = {name: _as_mpf(v) for name, v in values.items()}
            self.constants = {k: _as_mpf(v) for k, v in (constants or {}).items()}
        self._compiled: dict[sp.Basic, Compiled] = {}
        # Indices are numbered: the environment maps small ints, whose hashing is C's,
        # where SymPy symbols hash through Python on every lookup.
        self._slots: dict[sp.Symbol, int] = {}
        self._names: list[sp.Symbol] = []

    def value(self, expr: sp.Basic, indices: Mapping[sp.Symbol, int] | None = None):
        """``expr`` with its free indices set to ``indices``, as an ``mpf`` (or ``mpc``)."""
        env = {self._slot(k): v for k, v in (indices or {}).items()}
        try:
            # Constants are converted while compiling: at the working precision too.
            with working_precision():
                return self._compile(sp.sympify(expr))[0](env)
        except KeyError as exc:  # an index the caller did not bind
            (slot,) = exc.args
            name = self._names[slot] if isinstance(slot, int) else slot
            raise Unsupported(f"no value for the index {name}") from None
        except ZeroDivisionError:
            raise Inadmissible("division by zero") from None

    # -------------------------------------------------------- compilation
    def _slot(self, index: sp.Symbol) -> int:
        found = self._slots.get(index)
        if found is None:
            found = self._slots[index] = len(self._names)
            self._names.append(index)
        return found

    def _compile(self, expr: sp.Basic) -> Compiled:
        found = self._compiled.get(expr)
        if found is None:
            fn, free = self._build(expr)
            found = self._compiled[expr] = (_cached(fn, free), free)
        return found

    def _build(self, e: sp.Basic) -> Compiled:
        if e.is_Number or e.is_NumberSymbol or isinstance(e, sp.logic.boolalg.BooleanAtom):
            constant = _number(e)
            return (lambda env: constant), ()
        if isinstance(e, sp.Symbol):
            return self._symbol(e)
        if isinstance(e, MatrixElement):
            return self._element(e)
        if isinstance(e, sp.Sum):
            return self._sum(e)
        if isinstance(e, sp.Piecewise):
            return self._piecewise(e)
        if isinstance(e, sp.KroneckerDelta) and len(e.args) > 2:  # a range is a convention
            return self._compile(sp.KroneckerDelta(*e.args[:2]))
        if isinstance(e, (sp.Subs, sp.Derivative)):
            done = e.doit()  # φ′(u) once φ is concrete: 1 − tanh(u)², say
            if done.has(sp.Derivative, sp.Subs):
                raise Unsupported(f"an unevaluated derivative: {e}")
            return self._compile(done)
        if isinstance(e, AppliedUndef):
            raise Unsupported(f"an unspecified function: {e.func}")
        rule = _RULES.get(type(e))
        if rule is None:
            raise Unsupported(f"no numeric rule for {type(e).__name__}")
        children = [self._compile(a) for a in e.args]
        if isinstance(e, sp.Mul) and len(children) > 2:
            return _product_chain(children)
        free = _union(c[1] for c in children)
        fns = [c[0] for c in children]
        if len(fns) == 1:
            (only,) = fns
            return (lambda env: rule(only(env))), free
        if len(fns) == 2:
            first, second = fns
            return (lambda env: rule(first(env), second(env))), free
        return (lambda env: rule(*[f(env) for f in fns])), free

    def _symbol(self, s: sp.Symbol) -> Compiled:
        if s in self.sizes:
            size = self.sizes[s]
            return (lambda env: size), ()
        if s in self.constants:
            constant = self.constants[s]
            return (lambda env: constant), ()
        if s.name in self.values and not s.is_integer:
            scalar = self.values[s.name]
            return (lambda env: scalar), ()
        # Anything else is an index (SymPy's own summation dummies carry no assumptions);
        # reading one that nothing bound raises KeyError, reported as Unsupported.
        slot = self._slot(s)
        return (lambda env: env[slot]), (slot,)

    def _element(self, e: MatrixElement) -> Compiled:
        parent = e.parent
        if not isinstance(parent, sp.MatrixSymbol) or parent.name not in self.values:
            raise Unsupported(f"an entry of {parent}, which is not an input")
        rows = self.values[parent.name]
        row_fn, row_free = self._index(e.i)
        col_fn, col_free = self._index(e.j)

        def entry(env):
            r, c = row_fn(env), col_fn(env)
            if r < 0 or c < 0:  # Python would silently count from the end
                raise Unsupported(f"index out of range in {e}")
            try:
                return rows[r][c]
            except IndexError:
                raise Unsupported(f"index out of range in {e}") from None

        return entry, _union([row_free, col_free])

    def _index(self, i: sp.Basic) -> Compiled:
        """An index (or a summation bound) as a Python int."""
        if i.is_Integer:
            constant = int(i)
            return (lambda env: constant), ()
        if isinstance(i, sp.Symbol) and i not in self.sizes:
            slot = self._slot(i)
            return (lambda env: env[slot]), (slot,)
        fn, free = self._compile(i)
        return (lambda env: int(fn(env))), free

    def _sum(self, e: sp.Sum) -> Compiled:
        body, body_free = self._compile(e.function)
        limits = [(self._slot(var), self._index(lo), self._index(hi)) for var, lo, hi in e.limits]
        bound = {var for var, _, _ in limits}
        free = _union(
            [body_free]
            + [lo_free for _, (_, lo_free), _ in limits]
            + [hi_free for _, _, (_, hi_free) in limits]
        )
        free = tuple(s for s in free if s not in bound)

        def loop(env, depth):
            # SymPy lists limits innermost first: iterate the last one outermost.
            var, (lo, _), (hi, _) = limits[depth]
            saved = env.get(var, _MISSING)
            total = mpmath.mpf(0)
            for value in range(lo(env), hi(env) + 1):
                env[var] = value
                total += body(env) if depth == 0 else loop(env, depth - 1)
            if saved is _MISSING:
                env.pop(var, None)
            else:
                env[var] = saved
            return total

        top = len(limits) - 1
        return (lambda env: loop(env, top)), free

    def _piecewise(self, e: sp.Piecewise) -> Compiled:
        pieces = [(self._compile(expr)[0], self._compile(cond)[0]) for expr, cond in e.args]
        free = _union(
            [self._compile(expr)[1] for expr, _ in e.args]
            + [self._compile(cond)[1] for _, cond in e.args]
        )

        def choose(env):
            for value, condition in pieces:
                if condition(env):
                    return value(env)
            raise Inadmissible("no piece of a Piecewise applies")

        return choose, free


_MISSING = object()


def _product_chain(children: list[Compiled]) -> Compiled:
    """A product as a chain of partial products, fewest indices first, each cached on the
    indices it reads: in F(p, s)·G(p, s)·K(s, q) the product F·G is computed once per
    (p, s), not once per (p, s, q)."""
    ordered = sorted(children, key=lambda c: len(c[1]))
    fn, free = ordered[0]
    for next_fn, next_free in ordered[1:]:
        joined = _union([free, next_free])

        def product(env, left=fn, right=next_fn):
            return left(env) * right(env)

        fn = product if len(joined) == len(next_free) == len(free) else _cached(product, joined)
        free = joined
    return fn, free


def _cached(fn: Callable, free: tuple) -> Callable:
    cache: dict = {}
    if not free:

        def run(env):
            try:
                return cache[()]
            except KeyError:
                out = cache[()] = fn(env)
                return out

        return run

    key_of = operator.itemgetter(*free)  # a tuple of the indices' values (one: the value)

    def run_indexed(env):
        key = key_of(env)
        try:
            return cache[key]
        except KeyError:
            out = cache[key] = fn(env)
            return out

    return run_indexed


def _union(groups) -> tuple:
    out: dict = {}
    for group in groups:
        out.update(dict.fromkeys(group))
    return tuple(out)


def _number(e: sp.Basic):
    if e is sp.true or e is sp.false:
        return bool(e)
    if e.is_Integer:
        return int(e)
    if e.is_Rational:
        return mpmath.mpf(int(e.p)) / int(e.q)
    if e.is_infinite or e is sp.nan:
        raise Inadmissible("not finite")
    return mpmath.mpf(sp.Float(e, DIGITS + 5)._mpf_)


def _as_mpf(value):
    """Rows of SymPy rationals (or numbers) as mpf, recursively; mpf passes through."""
    if isinstance(value, (list, tuple)):
        return [_as_mpf(v) for v in value]
    if isinstance(value, sp.Basic):
        return _number(value)
    return value


def working_precision():
    """A context at ``DIGITS`` significant digits (or more, if the caller set more); the
    global mpmath context is restored on leaving it."""
    if mpmath.mp.dps >= DIGITS:  # entering workdps per value costs more than the value
        return contextlib.nullcontext()
    return mpmath.workdps(DIGITS)


def real(value, imaginary_tolerance: float):
    """A finite real mpf from an evaluated value, at the working precision; an imaginary
    part above ``imaginary_tolerance`` (relative to the real part, or absolute below 1) or
    a value that is not finite makes the point inadmissible."""
    if isinstance(value, mpmath.mpc):
        if abs(value.imag) > imaginary_tolerance * max(abs(value.real), 1):
            raise Inadmissible("not real")
        value = value.real
    if not isinstance(value, mpmath.mpf):  # an int (a δ, a count): exact at 60 digits
        # mpf() rounds to the context's precision: at mpmath's default 53 bits it would
        # turn a 60-digit value into a double, and the comparisons after it into float ones.
        with working_precision():
            value = mpmath.mpf(value)
    if not mpmath.isfinite(value):
        raise Inadmissible("not finite")
    return value


# ---------------------------------------------------------------- numeric rules
def _product(*factors):
    out = factors[0]
    for f in factors[1:]:
        out = out * f
    return out


def _add(*terms):
    out = terms[0]
    for t in terms[1:]:
        out = out + t
    return out


def _power(base, exponent):
    if isinstance(base, int):  # a size or an index: int ** -1 would give a float
        base = mpmath.mpf(base)
    if base == 0 and exponent < 0:
        raise Inadmissible("division by zero")
    if isinstance(exponent, int):
        return base**exponent
    if base < 0:
        raise Inadmissible("a fractional power of a negative number")
    return mpmath.power(base, exponent)


def _log(x, *base):
    if x <= 0:
        raise Inadmissible("log of a non-positive number")
    return mpmath.log(x) if not base else mpmath.log(x) / mpmath.log(base[0])


def _heaviside(x, at_zero=None):
    if x > 0:
        return 1
    if x < 0:
        return 0
    if at_zero is None:
        raise Inadmissible("the step function at its jump")
    return at_zero


def _dirac(x, *order):
    if x == 0:
        raise Inadmissible("δ at 0")
    return 0


_RULES: dict[type, Callable] = {
    sp.Add: _add,
    sp.Mul: _product,
    sp.Pow: _power,
    sp.exp: mpmath.exp,
    sp.log: _log,
    sp.tanh: mpmath.tanh,
    sp.sinh: mpmath.sinh,
    sp.cosh: mpmath.cosh,
    sp.sin: mpmath.sin,
    sp.cos: mpmath.cos,
    sp.tan: mpmath.tan,
    sp.atan: mpmath.atan,
    sp.erf: mpmath.erf,
    sp.Abs: abs,
    sp.sign: lambda x: (x > 0) - (x < 0),
    sp.Heaviside: _heaviside,
    sp.DiracDelta: _dirac,
    sp.KroneckerDelta: lambda a, b: 1 if a == b else 0,
    sp.Max: max,
    sp.Min: min,
    sp.Lt: lambda a, b: a < b,
    sp.Le: lambda a, b: a <= b,
    sp.Gt: lambda a, b: a > b,
    sp.Ge: lambda a, b: a >= b,
    sp.Eq: lambda a, b: a == b,
    sp.Ne: lambda a, b: a != b,
    sp.And: lambda *xs: all(xs),
    sp.Or: lambda *xs: any(xs),
    sp.Not: lambda x: not x,
}


# ---------------------------------------------------------------- sum factoring
def factor_sums(expr: sp.Basic) -> sp.Basic:
    """``expr`` with every sum's factors moved out of the sums they do not depend on.

    The same value, cheaper to evaluate: Σ_q t[p, q] · Σ_s F(p, s)·K[s, q] is rewritten
    Σ_s F(p, s) · Σ_q t[p, q]·K[s, q], so F is evaluated once per (p, s) instead of once
    per (p, s, q). Sums are split over their terms, exchanged (when neither's limits
    depend on the other's index) and products distributed over a sum of terms, so that
    each factor lands in the innermost sum over an index it reads. Symbolic: done once,
    at general sizes.

    Example:
        >>> n = sp.Symbol("n", integer=True, positive=True)
        >>> p, s = sp.symbols("p s", integer=True)
        >>> A, B = sp.MatrixSymbol("A", n, 1), sp.MatrixSymbol("B", n, 1)
        >>> factor_sums(sp.Sum(A[p, 0] * B[s, 0], (p, 0, n - 1), (s, 0, n - 1)))
        Sum(A[p, 0], (p, 0, n - 1))*Sum(B[s, 0], (s, 0, n - 1))
    """
    return _factored(sp.sympify(expr), {})


_FREE: dict = {}  # expression → free symbols: SymPy recomputes them on every query


def _free(e: sp.Basic) -> frozenset:
    found = _FREE.get(e)
    if found is None:
        if len(_FREE) > 100_000:  # bounded: a long session must not keep every tree
            _FREE.clear()
        found = _FREE[e] = frozenset(e.free_symbols)
    return found


def _factored(e: sp.Basic, memo: dict) -> sp.Basic:
    found = memo.get(e)
    if found is not None:
        return found
    if isinstance(e, sp.Sum):
        out = _factored(e.function, memo)
        for var, lo, hi in e.limits:  # innermost first
            out = _sum_of(out, var, lo, hi)
    elif e.is_Atom or not e.args or isinstance(e, (MatrixElement, sp.Derivative, sp.Subs)):
        out = e
    elif isinstance(e, sp.Piecewise):
        out = sp.Piecewise(*[(_factored(x, memo), c) for x, c in e.args])
    else:
        out = e.func(*[_factored(a, memo) for a in e.args])
    memo[e] = out
    return out


def _sum_of(body: sp.Basic, var: sp.Symbol, lo: sp.Basic, hi: sp.Basic, depth: int = 0):
    """An expression equal to Sum(body, (var, lo, hi)), with ``body``'s factors that do not
    read ``var`` outside it and the sum pushed into an inner sum where it can go."""
    if isinstance(body, sp.Add):
        return sp.Add(*[_sum_of(term, var, lo, hi, depth) for term in body.args])
    factors = sp.Mul.make_args(body)
    outside = [f for f in factors if var not in _free(f)]
    inside = [f for f in factors if var in _free(f)]
    if not inside:  # Σ over an index the body does not read: the loop keeps the count
        return sp.Sum(body, (var, lo, hi))
    if depth < 8:  # distributing and pushing can nest; 8 levels is past any derivation
        sums = [f for f in inside if isinstance(f, sp.Sum) and len(f.limits) == 1]
        adds = [f for f in inside if isinstance(f, sp.Add)]
        if len(inside) > 1 and adds:
            # Σ_v c(v)·(x(v) + y(v)) = Σ_v c·x + Σ_v c·y: each term can then shed factors.
            first = adds[0]
            rest = [f for f in inside if f is not first]
            pushed = sp.Add(
                *[_sum_of(sp.Mul(*rest, t), var, lo, hi, depth + 1) for t in first.args]
            )
            return sp.Mul(*outside) * pushed
        for inner in sums:
            (u, lo_u, hi_u) = inner.limits[0]
            if var in _free(lo_u) or var in _free(hi_u):
                continue
            rest = [f for f in inside if f is not inner]
            g = inner.function
            if not _indices(*rest) <= _indices(g) | {u}:
                continue  # g would be evaluated over more indices than it reads now
            taken = set().union(*(_free(f) for f in rest), _free(lo), _free(hi))
            if u in taken or u == var:
                fresh = sp.Dummy(str(u), integer=True)
                g, u = g.xreplace({u: fresh}), fresh
            # Σ_v r(v)·Σ_u g(u, v) = Σ_u Σ_v r(v)·g(u, v), the v-sum now innermost.
            moved = _sum_of(sp.Mul(*rest, g), var, lo, hi, depth + 1)
            return sp.Mul(*outside) * _sum_of(moved, u, lo_u, hi_u, depth + 1)
    return sp.Mul(*outside) * sp.Sum(sp.Mul(*inside), (var, lo, hi))


def _indices(*exprs: sp.Basic) -> set:
    """The free symbols that index: not sizes (positive), not matrices."""
    return {s for e in exprs for s in _free(e) if isinstance(s, sp.Symbol) and not s.is_positive}
