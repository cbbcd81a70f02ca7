"""Evaluate index-notation expressions a whole array at a time, with 60-digit numbers.

:class:`~workbench.checks.evaluation.Evaluator` walks an expression one scalar at a
time: every entry of every subexpression is a Python call, and every product a
pure-Python multiplication of ``mpmath.mpf``. Here each distinct subexpression is
computed once, as an array over the indices it reads (a NumPy array of ``gmpy2.mpfr``
at the same precision): a ``Sum`` is a reduction over one axis, a product of factors with
different indices a broadcast, and a sum of a product a contraction (``einsum``) that
never writes out the product over the summed index. The per-entry work left is GMP's.

The array route covers the common case, and only that. Whatever it does not cover — a
summation range that depends on another index, an index bound to two different ranges, a
function it has no rule for, an entry outside a matrix, and every exceptional value (a
division by zero, a log of a negative number, an overflow: GMP's traps are on) — raises
:class:`NotVectorised`, and the caller asks the scalar evaluator, which gives the
verdict of record (a point outside the domain, say). A value the array route returns is
the same number, to far beyond the comparisons' 1e-35, as the scalar one; the tests
check that on every derivation's directional check.

No global state changes: the precision and traps are set in a local ``gmpy2.context``
for the duration of each call.

Example:
    >>> import sympy as sp
    >>> n = sp.Symbol("n", integer=True, positive=True)
    >>> i, k = sp.symbols("i k", integer=True)
    >>> z = sp.MatrixSymbol("z", n, 1)
    >>> softmax_i = sp.exp(z[i, 0]) / sp.Sum(sp.exp(z[k, 0]), (k, 0, n - 1))
    >>> probs = ArrayEvaluator({n: 3}, {"z": [[0], [0], [0]]}).array(softmax_i, {i: 3})
    >>> [round(float(p), 6) for p in probs]
    [0.333333, 0.333333, 0.333333]
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any

import gmpy2
import mpmath
import numpy as np
import sympy as sp
from sympy.matrices.expressions.matexpr import MatrixElement

from workbench.checks.evaluation import DIGITS

PRECISION = mpmath.libmp.dps_to_prec(DIGITS)  # bits: the scalar evaluator's, at DIGITS


class NotVectorised(Exception):
    """The array route does not apply (or met an exceptional value): ask the scalar one."""


# A node's value: (array, axes), the array's dimensions in the order of ``axes`` (index
# symbols); with no axes, a plain number (mpfr, or a Python int or bool).
Node = tuple[Any, tuple]


def _context():
    """60 digits, and every exceptional value an exception (so it falls back)."""
    return gmpy2.context(
        precision=PRECISION,
        trap_divzero=True,
        trap_invalid=True,
        trap_overflow=True,
        trap_erange=True,
    )


class _Plan:
    """The summation axes at one set of sizes: one per (index, range)."""

    def __init__(self) -> None:
        self.axes: dict[tuple, sp.Symbol] = {}  # (summation index, lo, hi) → its axis
        self.ranges: dict[sp.Symbol, tuple[int, int]] = {}  # axis → (lo, hi)
        self.done: dict[sp.Basic, sp.Basic] = {}  # Subs/Derivative → its doit()


_PLANS: dict[tuple, _Plan] = {}


class ArrayEvaluator:
    """Evaluate index-notation expressions at concrete sizes, an array per subexpression.

    Args:
        sizes: size symbol → int.
        values: matrix name → rows of entries (SymPy rationals or numbers); a scalar
            symbol's name → its value.
        constants: other symbols with fixed values.

    Each subexpression's array is kept, so an evaluator is tied to one set of values.
    """

    def __init__(
        self,
        sizes: Mapping[sp.Symbol, int],
        values: Mapping[str, object],
        constants: Mapping[sp.Symbol, object] | None = None,
    ):
        self.sizes = {sp.sympify(k): int(v) for k, v in sizes.items()}
        self._concrete = {k: sp.Integer(v) for k, v in self.sizes.items()}
        with _context():
            self.matrices: dict[str, np.ndarray] = {}
            self.scalars: dict[str, Any] = {}
            for name, value in values.items():
                if isinstance(value, (list, tuple)):
                    self.matrices[name] = _object_array(
                        [[_number(v) for v in row] for row in value]
                    )
                else:
                    self.scalars[name] = _number(value)
            self.constants = {sp.sympify(k): _number(v) for k, v in (constants or {}).items()}
        # Summation axes are shared by every evaluator at these sizes (the renaming is
        # SymPy work, done once); the free indices' ranges are this evaluator's own.
        key = tuple(sorted((str(k), v) for k, v in self.sizes.items()))
        if key not in _PLANS:
            if len(_PLANS) > 32:  # bounded: a long session must not keep every tree
                _PLANS.clear()
            _PLANS[key] = _Plan()
        plan = _PLANS[key]
        self._ranges = dict(plan.ranges)
        self._plan = plan
        self._memo: dict[tuple, Node] = {}
        self._scope: dict[sp.Symbol, sp.Symbol] = {}  # summation index → its axis

    def array(self, expr: sp.Basic, free: Mapping[sp.Symbol, int]) -> np.ndarray:
        """``expr`` at every assignment of its free indices, each ``i`` over
        ``range(free[i])``: an array with one axis per entry of ``free`` (in that order;
        broadcast along an index ``expr`` does not read), of ``mpmath.mpf``.

        Raises:
            NotVectorised: the array route does not apply; the scalar evaluator decides.
        """
        expr = sp.sympify(expr)
        for index, extent in free.items():
            self._bind(index, 0, int(extent) - 1)
        try:
            with _context():
                self._scope = {}
                value, axes = self._node(expr)
                unknown = [a for a in axes if a not in free]
                if unknown:
                    raise NotVectorised(f"no range for the index {unknown[0]}")
                out = np.asarray(_aligned(value, axes, tuple(free)), dtype=object)
                out = np.broadcast_to(out, tuple(int(n) for n in free.values()))
                return _to_mpmath(out)
        except NotVectorised:
            raise
        except (ArithmeticError, ValueError, TypeError, IndexError) as exc:
            # gmpy2's traps (division by zero, invalid, overflow) and anything unforeseen
            raise NotVectorised(f"{type(exc).__name__}: {exc}") from None

    # -------------------------------------------------------------- index ranges
    def _bind(self, index: sp.Symbol, lo: int, hi: int) -> None:
        found = self._ranges.get(index)
        if found is None:
            self._ranges[index] = (lo, hi)
        elif found != (lo, hi):
            raise NotVectorised(f"the index {index} ranges over two different ranges")

    # -------------------------------------------------------------- evaluation
    def _node(self, e: sp.Basic) -> Node:
        # A summation index stands for the axis of the sum that binds it (``_scope``): an
        # index summed over 0..T-1 here and 0..d-1 there is two axes. The value is kept
        # per expression and the axes its indices stand for.
        free = _free(e)
        key = (e, tuple(item for item in self._scope.items() if item[0] in free))
        found = self._memo.get(key)
        if found is None:
            found = self._memo[key] = self._build(e)
        return found

    def _build(self, e: sp.Basic) -> Node:
        if e.is_Number or e.is_NumberSymbol or isinstance(e, sp.logic.boolalg.BooleanAtom):
            return _number(e), ()
        if isinstance(e, sp.Symbol):
            return self._symbol(e)
        if isinstance(e, MatrixElement):
            return self._element(e)
        if isinstance(e, sp.Sum):
            return self._sum(e)
        if isinstance(e, (sp.Subs, sp.Derivative)):
            done = self._plan.done.get(e)
            if done is None:
                done = self._plan.done[e] = e.doit()  # φ′(u) once φ is concrete
            if done.has(sp.Derivative, sp.Subs):
                raise NotVectorised(f"an unevaluated derivative: {e}")
            return self._node(done)
        if isinstance(e, sp.Piecewise):
            return self._piecewise(e)
        if isinstance(e, sp.KroneckerDelta):
            (a, a_axes), (b, b_axes) = self._node(e.args[0]), self._node(e.args[1])
            axes = _union(a_axes, b_axes)
            equal = np.equal(_aligned(a, a_axes, axes), _aligned(b, b_axes, axes))
            return _as_node(np.where(equal, 1, 0).astype(object), axes)
        if isinstance(e, sp.Mul):
            return self._product([self._node(a) for a in e.args])
        if isinstance(e, sp.Add):
            nodes = [self._node(a) for a in e.args]
            axes = _union(*(n[1] for n in nodes))
            total = _aligned(*nodes[0], axes)
            for value, value_axes in nodes[1:]:
                total = total + _aligned(value, value_axes, axes)
            return _as_node(total, axes)
        if isinstance(e, sp.Pow):
            return self._power(e)
        compare = _COMPARISONS.get(type(e))
        if compare is not None or isinstance(e, (sp.And, sp.Or, sp.Not)):
            nodes = [self._node(a) for a in e.args]
            axes = _union(*(n[1] for n in nodes))
            parts = [_aligned(value, value_axes, axes) for value, value_axes in nodes]
            if compare is not None:
                (left, right) = parts
                truth = compare(left, right)
            elif isinstance(e, sp.Not):
                truth = np.logical_not(np.asarray(parts[0], dtype=bool))
            else:
                join = np.logical_and if isinstance(e, sp.And) else np.logical_or
                truth = np.asarray(parts[0], dtype=bool)
                for part in parts[1:]:
                    truth = join(truth, np.asarray(part, dtype=bool))
            truth = np.asarray(truth, dtype=bool)
            return (truth.astype(object) if axes else bool(truth)), axes
        rule: Callable | None
        if isinstance(e, sp.Heaviside) and len(e.args) == 2:
            at_zero = self._node(e.args[1])
            if at_zero[1]:
                raise NotVectorised("a step function whose value at 0 varies")
            rule = functools.partial(_heaviside, at_zero=at_zero[0])
        else:
            rule = _ELEMENTWISE.get(type(e))
        if rule is None or (len(e.args) != 1 and not isinstance(e, sp.Heaviside)):
            raise NotVectorised(f"no array rule for {type(e).__name__}")
        value, axes = self._node(e.args[0])
        if not axes:
            return rule(_mpfr(value)), ()

        return _as_node(np.frompyfunc(lambda x: rule(_mpfr(x)), 1, 1)(value), axes)

    def _symbol(self, s: sp.Symbol) -> Node:
        if s in self.sizes:
            return self.sizes[s], ()
        if s in self.constants:
            return self.constants[s], ()
        if s.name in self.scalars and not s.is_integer:
            return self.scalars[s.name], ()
        axis = self._scope.get(s, s)
        found = self._ranges.get(axis)
        if found is None:
            raise NotVectorised(f"no range for the index {s}")
        lo, hi = found
        return _object_array(list(range(lo, hi + 1))), (axis,)

    def _element(self, e: MatrixElement) -> Node:
        parent = e.parent
        if not isinstance(parent, sp.MatrixSymbol) or parent.name not in self.matrices:
            raise NotVectorised(f"an entry of {parent}, which is not an input")
        matrix = self.matrices[parent.name]
        (rows, row_axes), (cols, col_axes) = self._node(e.i), self._node(e.j)
        axes = _union(row_axes, col_axes)
        at = []
        for index, index_axes, extent in (
            (rows, row_axes, matrix.shape[0]),
            (cols, col_axes, matrix.shape[1]),
        ):
            exact = np.asarray(_aligned(index, index_axes, axes), dtype=object)
            if not all(isinstance(i, int) for i in exact.flat):
                raise NotVectorised(f"an index that is not an integer in {e}")
            ints = exact.astype(np.int64)
            if ints.size and (ints.min() < 0 or ints.max() >= extent):
                raise NotVectorised(f"index out of range in {e}")  # no counting from the end
            at.append(ints)
        if not axes:
            return matrix[int(at[0]), int(at[1])], ()
        return matrix[at[0], at[1]], axes

    def _sum(self, e: sp.Sum) -> Node:
        limits = []
        for var, lo, hi in e.limits:  # innermost first
            lo_c, hi_c = (sp.sympify(b).xreplace(self._concrete) for b in (lo, hi))
            if not (lo_c.is_Integer and hi_c.is_Integer):
                raise NotVectorised(f"the range of {var} depends on another index")
            key = (var, int(lo_c), int(hi_c))
            axis = self._plan.axes.get(key)
            if axis is None:
                axis = self._plan.axes[key] = sp.Dummy(str(var), integer=True)
                self._plan.ranges[axis] = key[1:]
            self._ranges[axis] = key[1:]
            limits.append((var, axis, key[2] - key[1] + 1))
        outer = self._scope
        self._scope = {**outer, **{var: axis for var, axis, _ in limits}}
        try:
            factors = [self._node(a) for a in sp.Mul.make_args(e.function)]
        finally:
            self._scope = outer
        innermost = limits[0][1]
        if len(factors) > 1 and any(innermost in axes for _, axes in factors):
            node = self._contract(factors, innermost)  # the product never written out
            limits = limits[1:]
        else:
            node = self._product(factors)
        for _var, axis, count in limits:
            if axis in node[1]:
                node = _reduce(node, axis)
            else:  # Σ over an index the body does not read: a count
                node = _as_node(node[0] * max(count, 0), node[1])
        return node

    def _product(self, nodes: list[Node]) -> Node:
        """Fewest indices first: in F(p, s)·G(p, s)·K(s, q) the product F·G is computed
        over (p, s) once, not over (p, s, q)."""
        ordered = sorted(nodes, key=lambda n: len(n[1]))
        value, axes = ordered[0]
        for next_value, next_axes in ordered[1:]:
            joined = _union(axes, next_axes)
            value = _aligned(value, axes, joined) * _aligned(next_value, next_axes, joined)
            axes = joined
        return _as_node(value, axes)

    def _contract(self, nodes: list[Node], var: sp.Symbol) -> Node:
        """Σ_var of a product: the factors that do not read ``var`` are taken out, the
        others multiplied fewest indices first, the last of them contracted with the
        partial product over ``var`` by ``einsum``."""
        outside = [n for n in nodes if var not in n[1]]
        inside = sorted((n for n in nodes if var in n[1]), key=lambda n: len(n[1]))
        if not inside:
            return self._product(nodes)  # the caller multiplies by the count
        if len(inside) == 1:
            summed = _reduce(inside[0], var)
        else:
            partial = self._product(inside[:-1])
            last = inside[-1]
            out_axes = tuple(a for a in _union(partial[1], last[1]) if a != var)
            summed = _einsum(partial, last, out_axes)
        return self._product([*outside, summed]) if outside else summed

    def _power(self, e: sp.Pow) -> Node:
        (base, base_axes), (exponent, exp_axes) = self._node(e.base), self._node(e.exp)
        if exp_axes or not isinstance(exponent, (int, gmpy2.mpfr)):
            raise NotVectorised("an exponent that varies with an index")

        def power(x):
            return _mpfr(x) ** exponent  # an int base would give a float for x ** -1

        if not base_axes:
            return power(base), ()
        return _as_node(np.frompyfunc(power, 1, 1)(base), base_axes)

    def _piecewise(self, e: sp.Piecewise) -> Node:
        pieces = [(self._node(x), self._node(c)) for x, c in e.args]
        axes = _union(*(n[1] for pair in pieces for n in pair))
        shape = tuple(self._extent(a) for a in axes)
        out = np.empty(shape, dtype=object)
        covered = np.zeros(shape, dtype=bool)
        for (value, value_axes), (condition, condition_axes) in pieces:
            holds = np.broadcast_to(
                np.asarray(_aligned(condition, condition_axes, axes), dtype=bool), shape
            )
            chosen = holds & ~covered
            out[chosen] = np.broadcast_to(_aligned(value, value_axes, axes), shape)[chosen]
            covered |= holds
        if not covered.all():
            raise NotVectorised("no piece of a Piecewise applies")
        return (out if axes else out[()]), axes

    def _extent(self, index: sp.Symbol) -> int:
        lo, hi = self._ranges[index]
        return hi - lo + 1


# ------------------------------------------------------------------ arrays
_FREE: dict = {}  # expression → the symbols it reads, bound ones excepted


def _free(e: sp.Basic) -> frozenset:
    """The symbols ``e`` reads freely. SymPy's ``free_symbols`` of a Sum renames its
    bound index through the whole body on every query; this is one pass, memoised."""
    found = _FREE.get(e)
    if found is not None:
        return found
    if len(_FREE) > 100_000:  # bounded: a long session must not keep every tree
        _FREE.clear()
    if isinstance(e, sp.Symbol):
        found = frozenset((e,))
    elif isinstance(e, sp.Sum):
        bound = {var for var, _, _ in e.limits}
        limits = [_free(b) for _, lo, hi in e.limits for b in (lo, hi)]
        found = (_free(e.function) - bound).union(*limits)
    elif isinstance(e, MatrixElement):
        found = _free(e.i) | _free(e.j)
    elif not e.args:
        found = frozenset()
    else:
        found = frozenset().union(*(_free(a) for a in e.args))
    _FREE[e] = found
    return found


def _union(*groups: tuple) -> tuple:
    out: dict = {}
    for group in groups:
        out.update(dict.fromkeys(group))
    return tuple(out)


def _aligned(value, axes: tuple, target: tuple):
    """``value`` (over ``axes``) with its dimensions moved to their places in ``target``
    and length-1 dimensions for the others, ready to broadcast."""
    if not axes:
        return value
    if axes == target:
        return value
    order = [axes.index(a) for a in target if a in axes]
    moved = np.transpose(value, order) if order != list(range(len(axes))) else value
    shape, present = [], iter(moved.shape)
    for a in target:
        shape.append(next(present) if a in axes else 1)
    return moved.reshape(shape)


def _as_node(value, axes: tuple) -> Node:
    if not axes:
        return (value[()] if isinstance(value, np.ndarray) else value), ()
    return np.asarray(value, dtype=object), axes


def _reduce(node: Node, var: sp.Symbol) -> Node:
    value, axes = node
    if var not in axes:
        return node
    rest = tuple(a for a in axes if a != var)
    summed = np.add.reduce(value, axis=axes.index(var))
    return _as_node(summed, rest)


def _einsum(left: Node, right: Node, out_axes: tuple) -> Node:
    letters: dict = {}
    for a in _union(left[1], right[1]):
        letters[a] = chr(ord("a") + len(letters))
    spec = (
        "".join(letters[a] for a in left[1])
        + ","
        + "".join(letters[a] for a in right[1])
        + "->"
        + "".join(letters[a] for a in out_axes)
    )
    return _as_node(np.einsum(spec, left[0], right[0], dtype=object), out_axes)


def _object_array(nested) -> np.ndarray:
    out = np.empty(
        (len(nested), len(nested[0])) if nested and isinstance(nested[0], list) else (len(nested),),
        dtype=object,
    )
    if out.ndim == 2:
        for r, row in enumerate(nested):
            for c, v in enumerate(row):
                out[r, c] = v
    else:
        for r, v in enumerate(nested):
            out[r] = v
    return out


# ------------------------------------------------------------------ numbers
def _number(e):
    """A SymPy number (or bool) as an int, bool or mpfr at the working precision."""
    if isinstance(e, (bool, int, gmpy2.mpfr)):
        return e
    if isinstance(e, np.integer):
        return int(e)
    if isinstance(e, mpmath.mpf):
        return _mpfr_of_mpf(e._mpf_)
    e = sp.sympify(e)
    if e is sp.true or e is sp.false:
        return bool(e)
    if e.is_Integer:
        return int(e)
    if e.is_Rational:
        return gmpy2.mpfr(int(e.p)) / int(e.q)
    if e.is_infinite or e is sp.nan or not e.is_real:
        raise NotVectorised("not a finite real number")
    return _mpfr_of_mpf(sp.Float(e, DIGITS + 5)._mpf_)


def _mpfr_of_mpf(parts) -> gmpy2.mpfr:
    sign, man, exp, _bits = parts
    if not man:
        if exp:  # mpmath's inf / nan
            raise NotVectorised("not finite")
        return gmpy2.mpfr(0)
    return gmpy2.mul_2exp(gmpy2.mpfr(-man if sign else man), exp)


def _mpfr(x):
    return x if isinstance(x, gmpy2.mpfr) else gmpy2.mpfr(x)


def _to_mpmath(values: np.ndarray) -> np.ndarray:
    """Every entry as an mpmath mpf, exactly (the mantissa and exponent carried over)."""
    out = np.empty(values.shape, dtype=object)
    with mpmath.workdps(DIGITS):
        for at, x in np.ndenumerate(values):
            if isinstance(x, gmpy2.mpfr):
                if not gmpy2.is_finite(x):
                    raise NotVectorised("not finite")
                man, exp = x.as_mantissa_exp()
                out[at] = mpmath.mpf((int(man), int(exp)))
            elif isinstance(x, (bool, int)):
                out[at] = mpmath.mpf(int(x))
            else:
                raise NotVectorised(f"a value of type {type(x).__name__}")
    return out


def _heaviside(x, at_zero=None):
    if x > 0:
        return 1
    if x < 0:
        return 0
    if at_zero is None:
        raise NotVectorised("the step function at its jump")
    return at_zero


def _dirac(x):
    if x == 0:
        raise NotVectorised("δ at 0")
    return 0


def _log(x):
    if x <= 0:
        raise NotVectorised("log of a non-positive number")
    return gmpy2.log(x)


_COMPARISONS: dict[type, Callable] = {
    sp.Lt: np.less,
    sp.Le: np.less_equal,
    sp.Gt: np.greater,
    sp.Ge: np.greater_equal,
    sp.Eq: np.equal,
    sp.Ne: np.not_equal,
}

_ELEMENTWISE: dict[type, Callable] = {
    sp.exp: gmpy2.exp,
    sp.log: _log,
    sp.tanh: gmpy2.tanh,
    sp.sinh: gmpy2.sinh,
    sp.cosh: gmpy2.cosh,
    sp.sin: gmpy2.sin,
    sp.cos: gmpy2.cos,
    sp.tan: gmpy2.tan,
    sp.atan: gmpy2.atan,
    sp.erf: gmpy2.erf,
    sp.Abs: abs,
    sp.sign: lambda x: (x > 0) - (x < 0),
    sp.Heaviside: _heaviside,
    sp.DiracDelta: _dirac,
}
