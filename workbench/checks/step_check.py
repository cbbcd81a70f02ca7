"""An independent route for the steps check: concrete sizes, SymPy's own ``diff``, rational points.

The rules and the main steps check share the index algebra of :mod:`workbench.core.algebra`
(unfolding, delta collapse, normalisation). A mistake there could make a rule and its
check agree. This route shares none of it: it has its own small substitution and
expansion code and leaves differentiation to SymPy's ``diff``.

For one step ``before → after`` (under the step's facts):

1. pick concrete sizes (each size symbol 2, 3 or 4, varied so that sizes differ) and
   random values of the free indices within their ranges;
2. write both sides out: every sum expanded term by term, every defined name replaced by
   its definition, every matrix entry a plain symbol, every ``Derivative`` evaluated by
   ``sympy.diff`` (the variable's own name held fixed inside it, as in a computation
   graph), every fact solved for one of its symbols and put in;
3. evaluate both at random rational points, with 80-digit arithmetic, and compare them
   at 60 significant digits (relative difference at most 1e-45).

Only the entries a derivative is taken with respect to stay symbols while it is written;
every other input is a number at once, so SymPy differentiates small expressions.

It decides "tested" (equal at every point and size tried), "failed" (a counterexample),
or "undecided" (a construct it cannot write out, or its time budget ran out); the steps
check reports which route decided.

Example:
    >>> import sympy as sp
    >>> x = sp.Symbol("x")
    >>> check_step(sp.Derivative(x**3, x), 3 * x**2, {}).equal
    True
"""

from __future__ import annotations

import functools
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import sympy as sp
from sympy.core.function import AppliedUndef
from sympy.matrices.expressions.matexpr import MatrixElement
from sympy.stats.rv import RandomSymbol

from workbench.checks.parallel import run_parallel
from workbench.checks.timebox import time_limit
from workbench.errors import TimeBudgetExceeded

SIZE_SETS = (2, 3, 4)  # the first size of each set; see _sizes_at for the others
POINTS = 1  # random points (with fresh index values) per size set
BUDGET = 1.5  # CPU seconds per step for this route, all sizes together
PRECISION = 60  # significant digits of the comparison
WORKING = 80  # significant digits of the arithmetic: 20 to spare for cancellation
TOLERANCE = sp.Float("1e-45", PRECISION)  # relative; 60-digit rounding is about 1e-58
UNDECIDED = "undecided"


@dataclass(frozen=True)
class StepVerdict:
    """The independent route's verdict on one step."""

    equal: bool | None
    method: str  # "tested", "failed" or "undecided"
    detail: str
    sizes: tuple[Mapping, ...] = field(default=())
    points: int = 0


class _Unsupported(Exception):
    """A construct this route does not write out; the step is left undecided here."""


# ---------------------------------------------------------------- writing out
class _Writer:
    """Writes expressions out at one concrete size: plain symbols, no sums, no names."""

    def __init__(self, definitions: Mapping, values: Mapping[sp.Symbol, int], numbers=None):
        self.values = {k: sp.Integer(v) for k, v in values.items()}
        self.definitions = {self.concrete(k): self.concrete(v) for k, v in definitions.items()}
        self.elements: dict[sp.Symbol, MatrixElement] = {}  # symbol → the entry it stands for
        self.symbols: dict[MatrixElement, sp.Symbol] = {}
        # With ``numbers`` (a function of a symbol), every input that is not differentiated
        # is a random number at once: far smaller expressions for SymPy to differentiate.
        self.numbers = numbers
        # The entries a derivative being written is taken with respect to: only these
        # stay symbols; every other entry is a number (or its definition, written out).
        self.live: frozenset = frozenset()
        self.memo: dict = {}
        self.entries: dict = {}

    def concrete(self, expr):
        """Sizes and indices by integers, matrices with their concrete shapes."""
        expr = sp.sympify(expr)
        matrices = {
            m: sp.MatrixSymbol(m.name, *(sp.sympify(d).xreplace(self.values) for d in m.shape))
            for m in expr.atoms(sp.MatrixSymbol)
        }
        return expr.xreplace({**matrices, **self.values})

    def symbol(self, e: MatrixElement) -> sp.Symbol:
        key = MatrixElement(e.parent, sp.Integer(e.i), sp.Integer(e.j))
        if key not in self.symbols:
            s = sp.Symbol(f"{e.parent.name}[{int(e.i)},{int(e.j)}]")
            self.symbols[key], self.elements[s] = s, key
        return self.symbols[key]

    def leaf(self, s: sp.Symbol, base) -> sp.Basic:
        """An input: a number now, unless something differentiates with respect to it."""
        if self.numbers is None or s in self.live:
            return s
        return self.numbers(s)

    def name_of(self, s: sp.Symbol) -> str:
        return self.elements[s].parent.name if s in self.elements else s.name

    def write(self, expr, held: frozenset = frozenset()) -> sp.Basic:
        """``expr`` written out; names in ``held`` stay as symbols (see Derivative)."""
        key = (expr, held, self.live)
        if key not in self.memo:  # the same entry is met many times: write it once
            self.memo[key] = self._write(expr, held)
        return self.memo[key]

    def _write(self, expr, held: frozenset) -> sp.Basic:
        e = expr
        if isinstance(e, RandomSymbol):
            raise _Unsupported("a random variable")
        if isinstance(e, AppliedUndef) and len(e.args) == 1:
            return self.write(_stand_in(e.func.__name__)(e.args[0]), held)
        if isinstance(e, sp.Derivative):
            return self._derivative(e, held)
        if isinstance(e, (sp.Sum, sp.Product)):
            return self._sum(e, held)
        if isinstance(e, MatrixElement):
            return self._element(e, held)
        if isinstance(e, sp.Symbol):
            if e in self.values:
                return self.values[e]
            if e in self.definitions and e not in held:
                return self.write(self.definitions[e], held)
            return self.leaf(e, e) if e not in held else e
        if isinstance(e, sp.Subs):
            inner = self.write(e.expr, held | frozenset(e.variables))  # bound: symbols
            points = [self.write(p, held) for p in e.point]
            if inner.has(sp.Derivative):
                return sp.Subs(inner, e.variables, points).doit()
            return self.write(inner.xreplace(dict(zip(e.variables, points, strict=True))), held)
        if isinstance(e, sp.MatrixExpr):
            raise _Unsupported(f"a whole matrix {e}")
        if e.is_Atom or not e.args or isinstance(e, (sp.Lambda,)):
            return e
        args = tuple(
            a if isinstance(a, (sp.Lambda, sp.core.symbol.Str)) else self.write(a, held)
            for a in e.args
        )
        written = e.func(*args)
        if written.is_number and not written.is_Float and written.has(sp.Float):
            return written.evalf(WORKING)  # e.g. x/√d: one float, not a tree to carry on
        return written

    def _sum(self, e, held):
        var, lo, hi = e.limits[-1]  # the last limit is the outermost
        lo, hi = self.write(lo, held), self.write(hi, held)
        if not (lo.is_Integer and hi.is_Integer):
            raise _Unsupported(f"a sum with limits {lo}..{hi}")
        combine = sp.Add if isinstance(e, sp.Sum) else sp.Mul
        return combine(
            *[
                self.write(self._rebuilt(e, e.function, var, value), held)
                for value in range(int(lo), int(hi) + 1)
            ]
        )

    @staticmethod
    def _rebuilt(e, body, var, value):
        """``e`` without its outermost limit, that variable set to ``value``."""
        inner = e.limits[:-1]
        piece = e.func(body, *inner) if inner else body
        return piece.xreplace({var: sp.Integer(value)})

    def _element(self, e: MatrixElement, held):
        i, j = self.write(e.i, held), self.write(e.j, held)
        if not (i.is_Integer and j.is_Integer):
            raise _Unsupported(f"an entry {e} with indices that are not numbers")
        parent = e.parent
        if isinstance(parent, sp.MatrixSymbol):
            if parent in self.definitions and parent not in held:
                return self.write(self._defined_entry(parent, i, j, held), held)
            s = self.symbol(MatrixElement(parent, i, j))
            if parent not in held or self.numbers is None or s in self.live:
                return s if parent in held else self.leaf(s, parent)
            # Another entry of a held name: constant for this derivative, so its value.
            if parent in self.definitions:
                return self.write(self._defined_entry(parent, i, j, held), held)
            return self.numbers(s)
        # A compound matrix: its own entry formula (a product's sum, say) where SymPy has
        # one, else SymPy writes the matrix out once its matrices are explicit.
        entry = self._entry(parent, i, j)
        if entry is not None and not (isinstance(entry, MatrixElement) and entry.parent == parent):
            return self.write(entry, held)
        return self.write(self._explicit_compound(parent, held)[int(i), int(j)], held)

    def _defined_entry(self, name: sp.MatrixSymbol, i, j, held):
        """Entry (i, j) of a defined matrix name's definition."""
        entry = self._entry(name, i, j)
        if entry is not None:
            return entry
        return self._explicit_compound(sp.sympify(self.definitions[name]), held)[int(i), int(j)]

    def _explicit_compound(self, parent, held) -> sp.Matrix:
        key = ("explicit", parent, held, self.live)
        if key not in self.memo:
            explicit = parent.xreplace(
                {m: self._explicit(m, held) for m in parent.atoms(sp.MatrixSymbol)}
            )
            self.memo[key] = sp.Matrix(explicit.doit())
        return self.memo[key]

    def _entry(self, matrix, i, j):
        """Entry (i, j) of a defined name's definition, or of a compound matrix by SymPy's
        own entry formula (None where it has none); the same entry is asked for often.

        An inverse or power has none here: SymPy's would invert the matrix of symbols
        (seconds at 4×4); written out explicit instead, it inverts numbers."""
        key = (matrix, i, j)
        if key not in self.entries:
            formula = sp.sympify(self.definitions[matrix]) if matrix in self.definitions else matrix
            if isinstance(formula, sp.MatPow):
                self.entries[key] = None
            elif isinstance(matrix, sp.MatrixSymbol):
                self.entries[key] = _entry_of(formula, i, j)
            else:
                self.entries[key] = (
                    _entry_of(matrix, i, j, checked=False) if hasattr(matrix, "_entry") else None
                )
        return self.entries[key]

    def _explicit(self, m: sp.MatrixSymbol, held) -> sp.Matrix:
        rows, cols = (int(d) for d in m.shape)
        return sp.Matrix(rows, cols, lambda r, c: self._element(MatrixElement(m, r, c), held))

    def _derivative(self, d: sp.Derivative, held):
        variables = []
        for v, count in d.variable_count:
            if isinstance(v, MatrixElement):
                base = v.parent
                i, j = self.write(v.i, held), self.write(v.j, held)
                s = self.symbol(MatrixElement(base, i, j))
            elif isinstance(v, sp.Symbol):
                base, s = v, v
            else:
                raise _Unsupported(f"a derivative with respect to {v}")
            variables.append((base, s, count))
        bases = frozenset(b for b, _, _ in variables)
        outer = self.live
        self.live = outer | {s for _, s, _ in variables}
        try:
            body = self.write(d.expr, held | bases)
        finally:
            self.live = outer
        for _, s, count in variables:
            body = sp.diff(body, s, count)
        # The held names are unfolded now that the derivative is taken.
        return self.write(self._unhold(body, bases - held, held), held)

    def _unhold(self, expr, released, held):
        back = {
            s: e
            for s, e in self.elements.items()
            if e.parent in released and e.parent in self.definitions and s in expr.free_symbols
        }
        back.update({s: s for s in released if s in self.definitions and s in expr.free_symbols})
        if not back:
            return expr
        expr = _at_points(expr, set(back))
        return expr.xreplace({s: self.write(e, held) for s, e in back.items()})


def _entry_of(matrix, i, j, checked: bool = True):
    """Entry (i, j) by SymPy's own entry formula. A product's entry stays a sum, which
    :meth:`_Writer.write` writes out term by term: SymPy's ``doit`` of it (its default)
    builds every term by ``subs`` and costs most of this route's time on attention."""
    if isinstance(matrix, sp.MatMul) and not matrix.has(sp.ImmutableMatrix):
        rows, cols = (sp.sympify(d) for d in matrix.shape)
        if (rows.is_Integer and not 0 <= i < rows) or (cols.is_Integer and not 0 <= j < cols):
            raise IndexError(f"entry ({i}, {j}) out of range of {matrix}")
        return matrix._entry(i, j, expand=False)
    return matrix[i, j] if checked else matrix._entry(i, j)


def _at_points(expr, symbols: set):
    """Derivative(f(s), s) → Subs(Derivative(f(t), t), t, s) for s about to be replaced:
    an unevaluated derivative (of a function SymPy cannot differentiate further) keeps
    its value when s becomes an expression or a number."""

    def at_point(d: sp.Derivative):
        (v, count), *rest = d.variable_count
        if rest or v not in symbols:
            return d
        t = sp.Dummy("t")
        return sp.Subs(sp.Derivative(d.expr.xreplace({v: t}), (t, count)), t, v)

    if not expr.has(sp.Derivative):
        return expr
    return expr.replace(lambda e: isinstance(e, sp.Derivative), at_point)


def _stand_in(name: str) -> sp.Lambda:
    """An arbitrary function φ replaced by a cubic with random rational coefficients (the
    same for every φ of that name): a step true for every φ holds for it, and SymPy can
    differentiate it. Seeded by the name, so both sides see the same function."""
    rng = random.Random(f"stand-in {name}")
    u = sp.Dummy("u")
    coefficients = [sp.Rational(rng.randint(-30, 30), rng.randint(7, 19)) for _ in range(4)]
    return sp.Lambda(u, sum(c * u**k for k, c in enumerate(coefficients)))


# ---------------------------------------------------------------- facts
def _solve_fact(lhs, rhs, prefer: set) -> dict | None:
    """One symbol of lhs = rhs in terms of the others: a linear one if there is one."""
    equation = sp.together(lhs - rhs)
    numerator = sp.numer(equation)
    candidates = sorted(equation.free_symbols, key=lambda s: (s not in prefer, str(s)))
    linear = [s for s in candidates if _linear_in(numerator, s)]
    if linear:
        # a·s + b = 0 solved by hand: sp.solve rounds 80-digit numbers to 15 digits.
        s = linear[0]
        expanded = sp.expand(numerator)
        slope, rest = expanded.coeff(s, 1), expanded.coeff(s, 0)
        if slope != 0 and not slope.has(s) and not rest.has(s):
            return {s: -rest / slope}
    for s in linear + [c for c in candidates if c not in linear]:
        try:
            roots = sp.solve(equation, s, dict=False)
        except (NotImplementedError, ValueError, TypeError):
            continue
        if len(roots) == 1:
            return {s: roots[0]}
    return None


def _linear_in(numerator, s) -> bool:
    try:
        return sp.Poly(numerator, s).degree() == 1
    except sp.PolynomialError:
        return False


# ---------------------------------------------------------------- points
def _draw(name: str, positive: bool, domain: Mapping, rng: random.Random) -> sp.Float:
    low, high = domain.get(name, (0.25, 2.0) if positive else (-2.0, 2.0))
    # A rational with a denominator up to 97 (random enough), held as a WORKING-digit
    # float: SymPy then evaluates exp, log and every product as the expression is built,
    # instead of carrying a tree of exact irrationals to evaluate at the end.
    q = rng.randint(7, 97)
    exact = sp.Rational(rng.randint(int(low * q) + 1, max(int(high * q), int(low * q) + 1)), q)
    return sp.Float(exact, WORKING)


def _same(a, b) -> bool | None:
    difference = a - b
    if difference == 0:
        return True
    try:
        da, db, dd = (sp.N(x, PRECISION) for x in (a, b, difference))
    except (TypeError, ValueError):
        return None
    if not all(x.is_number and x.is_finite is not False for x in (da, db, dd)):
        return None
    if not all(x.is_real or abs(sp.im(x)) < TOLERANCE for x in (da, db, dd)):
        return None
    scale = max(abs(da), abs(db), sp.Float(1, PRECISION))
    return bool(abs(dd) <= TOLERANCE * scale)


# ---------------------------------------------------------------- the route
def _free(expr) -> set[sp.Symbol]:
    found = {s for s in sp.sympify(expr).atoms(sp.Symbol)}
    for s in sp.sympify(expr).atoms(sp.Sum, sp.Product):
        found -= {lim[0] for lim in s.limits}
    return found


def _size_symbols(exprs) -> list[sp.Symbol]:
    found = set()
    for e in exprs:
        found |= {s for s in _free(e) if s.is_integer and s.is_positive}
        for m in sp.sympify(e).atoms(sp.MatrixSymbol):
            found |= {s for d in m.shape for s in sp.sympify(d).free_symbols}
    return sorted(found, key=str)


def _index_bounds(exprs, indices, writer: _Writer) -> dict:
    bounds: dict = {}
    for e in exprs:
        for el in sp.sympify(e).atoms(MatrixElement):
            for axis, index in enumerate(el.indices):
                if index in indices:
                    dim = sp.sympify(el.parent.shape[axis]).xreplace(writer.values)
                    if dim.is_Integer:
                        bounds[index] = min(bounds.get(index, int(dim)), int(dim))
    smallest = min(writer.values.values(), default=sp.Integer(2))
    return {i: bounds.get(i, int(smallest)) for i in indices}


def check_step(
    before: sp.Basic,
    after: sp.Basic,
    definitions: Mapping,
    facts: Sequence = (),
    *,
    domain: Mapping | None = None,
    seed: int = 0,
    budget: float = BUDGET,
) -> StepVerdict:
    """Decide before == after (under ``facts``) by the independent route (see module)."""
    domain = domain or {}
    sides = [before, after, *[x for pair in facts for x in pair]]
    sizes = _size_symbols([*sides, *definitions.values(), *definitions])
    indices = sorted(
        {s for e in sides for s in _free(e) if s.is_integer and not s.is_positive}, key=str
    )
    rng = random.Random(seed)
    tried: list = []
    points = 0
    trouble: list = []
    try:
        with time_limit(budget):
            for number, first in enumerate(SIZE_SETS):
                # Neighbouring sizes differ by one, alternately up and down, so that a
                # transposed index or a swapped size shows.
                values = _sizes_at(sizes, first, number)
                try:
                    for _ in range(POINTS):
                        outcome = _one_point(
                            before, after, definitions, facts, values, indices, domain, rng
                        )
                        if outcome is not True:
                            return _verdict(outcome, tried, points, values)
                        points += 1
                except (_Unsupported, TimeBudgetExceeded):
                    raise
                except RecursionError as exc:  # a nesting this route cannot write out
                    raise _Unsupported("an expression nested too deeply") from exc
                except Exception as exc:  # e.g. a singular matrix at this size: try the next
                    trouble.append(f"{_said(values)}: {type(exc).__name__}: {exc}")
                    continue
                tried.append(dict(values))
                if not sizes:
                    break  # no size to vary: more sets would repeat the same check
    except _Unsupported as exc:
        return StepVerdict(None, UNDECIDED, f"not written out: {exc}")
    except TimeBudgetExceeded:
        pass  # the sizes done so far stand; none done is undecided, below
    if not tried:
        why = "; ".join(trouble) or f"no size done within {budget:g} s"
        return StepVerdict(None, UNDECIDED, why[:300])
    at = ", ".join(_said(v) for v in tried)
    return StepVerdict(
        True, "tested", f"equal at {points} random points ({at})", tuple(tried), points
    )


def _sizes_at(sizes: Sequence, first: int, number: int) -> dict:
    """Size set ``number``: the first size is ``first`` (2, 3, 4); the others alternate
    one above it or equal, so that across the sets some sizes differ and some agree."""
    return {s: first + (k > 0) * ((k + number) % 2) for k, s in enumerate(sizes)}


def _said(values: Mapping) -> str:
    return " ".join(f"{k}={v}" for k, v in values.items()) or "no sizes"


def _verdict(outcome, tried, points, values) -> StepVerdict:
    if outcome is None:
        return StepVerdict(None, UNDECIDED, f"a side is not a number at {_said(values)}")
    return StepVerdict(False, "failed", outcome, tuple(tried), points)


def _one_point(before, after, definitions, facts, values, indices, domain, rng):
    """True if equal at one random point; a message if not; None if not decidable."""
    drawn: dict = {}

    def numbers(s: sp.Symbol):
        if s not in drawn:
            drawn[s] = _draw(writer.name_of(s), bool(s.is_positive), domain, rng)
        return drawn[s]

    writer = _Writer(definitions, values, numbers)
    concrete = [writer.concrete(e) for e in (before, after)]
    bounds = _index_bounds([before, after, *[x for p in facts for x in p]], indices, writer)
    at = {i: sp.Integer(rng.randrange(bounds[i])) for i in indices}
    writer.values.update(at)
    # A fact is solved for a symbol of its left side, so those inputs stay symbols; every
    # other input is a random number (a fact holds for every value of the rest).
    symbolic = _Writer(definitions, writer.values)
    writer.live = frozenset(
        s
        for lhs, _ in facts
        if not isinstance(lhs, sp.MatrixExpr)
        for s in symbolic.write(symbolic.concrete(lhs).xreplace(at)).free_symbols
    )
    writer.elements.update(symbolic.elements)
    writer.symbols.update(symbolic.symbols)
    a, b = (writer.write(writer.concrete(e).xreplace(at)) for e in concrete)
    for lhs, rhs in facts:
        if isinstance(lhs, sp.MatrixExpr) or isinstance(rhs, sp.MatrixExpr):
            continue  # a matrix fact (A⁻¹A = I) holds for the explicit matrices by itself
        left, right = (writer.write(writer.concrete(x).xreplace(at)) for x in (lhs, rhs))
        solution = _solve_fact(left, right, (a.free_symbols | b.free_symbols) & writer.live)
        if solution is None:
            raise _Unsupported(f"the fact {lhs} = {rhs} could not be solved for a symbol")
        a, b = a.xreplace(solution), b.xreplace(solution)
    point = {s: numbers(s) for s in sorted(a.free_symbols | b.free_symbols, key=str)}
    same = _same(a.xreplace(point), b.xreplace(point))
    if same is False:
        where = ", ".join(f"{k}={v}" for k, v in {**values}.items())
        return f"differ at {where} (sizes and indices) and a random point"
    return same


# ---------------------------------------------------------------- a whole chain
CHAIN_BUDGET = 8.0  # CPU seconds for one chain's steps without facts, all sizes together


def check_chain(
    steps: Sequence,
    definitions: Mapping,
    *,
    domain: Mapping | None = None,
    seed: int = 0,
    budget: float = BUDGET,
) -> list[StepVerdict]:
    """The verdict on each step of a chain (each step's ``after`` the next one's ``before``).

    Steps without facts share their work: at each size and point, every expression of
    the chain is written out once (one writer, one set of random numbers) and each step
    compares two of them. Steps under facts are checked one by one (:func:`check_step`).
    """
    domain = domain or {}
    verdicts: list[StepVerdict | None] = [None] * len(steps)
    plain = []
    for number, step in enumerate(steps):
        if step.assumptions:
            verdicts[number] = check_step(
                step.before, step.after, definitions, step.assumptions, domain=domain, seed=seed
            )
        else:
            plain.append(number)
    if plain:
        shared = _shared_chain([steps[k] for k in plain], definitions, domain, seed, budget)
        for k, verdict in zip(plain, shared, strict=True):
            verdicts[k] = verdict
    return [v if v is not None else StepVerdict(None, UNDECIDED, "not checked") for v in verdicts]


def _shared_chain(steps, definitions, domain, seed, budget) -> list[StepVerdict]:
    expressions = list(dict.fromkeys(e for step in steps for e in (step.before, step.after)))
    sizes = _size_symbols([*expressions, *definitions.values(), *definitions])
    indices = sorted(
        {s for e in expressions for s in _free(e) if s.is_integer and not s.is_positive}, key=str
    )
    rng = random.Random(seed)
    tried: list[list] = [[] for _ in steps]
    outcome: list[StepVerdict | None] = [None] * len(steps)
    trouble: list[str] = []
    try:
        with time_limit(min(CHAIN_BUDGET, budget * len(steps))):
            for number, first in enumerate(SIZE_SETS):
                values = _sizes_at(sizes, first, number)
                try:
                    value = _chain_point(expressions, definitions, values, indices, domain, rng)
                except (TimeBudgetExceeded, _Unsupported):
                    raise
                except Exception as exc:  # e.g. a singular matrix at this size: try the next
                    trouble.append(f"{_said(values)}: {type(exc).__name__}: {exc}")
                    continue
                for k, step in enumerate(steps):
                    if outcome[k] is not None:
                        continue  # already failed or undecided at an earlier size
                    same = _compare(value, step)
                    if same is True:
                        tried[k].append(dict(values))
                    elif same is False:
                        where = _said(value.where)
                        outcome[k] = StepVerdict(
                            False, "failed", f"differ at {where} and a random point"
                        )
                    elif not tried[k]:
                        outcome[k] = StepVerdict(None, UNDECIDED, str(same or "not a number"))
                if not sizes:
                    break
    except _Unsupported as exc:
        trouble.append(f"not written out: {exc}")
    except TimeBudgetExceeded:
        trouble.append("out of time")
    out: list[StepVerdict] = []
    for k in range(len(steps)):
        decided = outcome[k]
        if decided is not None:
            out.append(decided)
        elif tried[k]:
            at = ", ".join(_said(v) for v in tried[k])
            detail = f"equal at {len(tried[k])} random points ({at})"
            out.append(StepVerdict(True, "tested", detail, tuple(tried[k]), len(tried[k])))
        else:
            out.append(StepVerdict(None, UNDECIDED, ("; ".join(trouble) or "not decided")[:300]))
    return out


@dataclass
class _ChainValues:
    """Each expression of a chain at one size and point: a number, or why it is not."""

    where: dict
    values: dict

    def of(self, expr):
        return self.values[expr]


def _compare(point: _ChainValues, step):
    a, b = point.of(step.before), point.of(step.after)
    if isinstance(a, str) or isinstance(b, str):
        return a if isinstance(a, str) else b
    return _same(a, b)


def _chain_point(expressions, definitions, values, indices, domain, rng) -> _ChainValues:
    drawn: dict = {}

    def numbers(s: sp.Symbol):
        if s not in drawn:
            drawn[s] = _draw(writer.name_of(s), bool(s.is_positive), domain, rng)
        return drawn[s]

    writer = _Writer(definitions, values, numbers)
    concrete = {e: writer.concrete(e) for e in expressions}
    bounds = _index_bounds(expressions, indices, writer)
    at = {i: sp.Integer(rng.randrange(bounds[i])) for i in indices}
    writer.values.update(at)
    out = {}
    for e, c in concrete.items():
        try:
            written = writer.write(c.xreplace(at))
            point = {s: numbers(s) for s in sorted(written.free_symbols, key=str)}
            out[e] = written.xreplace(point)
        except (TimeBudgetExceeded, _Unsupported):
            raise
        except RecursionError:
            out[e] = "an expression nested too deeply"
        except Exception as exc:  # this expression only: the other steps still count
            out[e] = f"{type(exc).__name__}: {exc}"[:200]
    return _ChainValues({**values, **at}, out)


# ---------------------------------------------------------------- in the steps check
def independent_items(derivation, items: list[dict], seed: int = 0) -> list[dict]:
    """The steps check's items with this route's verdict merged in, step by step.

    A step fails if either route finds the two sides different; ``decided by`` says
    which route(s) decided, ``independent`` what this route found.
    """
    per_result = run_parallel(
        [
            functools.partial(
                check_chain,
                result.steps,
                derivation.definitions,
                domain=derivation.domain,
                seed=seed,
            )
            for result in derivation.results
        ]
    )
    verdicts = [v for chain in per_result for v in chain]
    return [_merged(item, v) for item, v in zip(items, verdicts, strict=True)]


def _merged(item: dict, verdict: StepVerdict) -> dict:
    merged = {**item, "independent": verdict.method, "independent detail": verdict.detail}
    if verdict.equal is False:
        merged.update(passed=False, method="failed", detail=f"independent route: {verdict.detail}")
        merged["decided by"] = "independent route"
    elif not item["passed"]:
        merged["decided by"] = "resolved route"
    elif verdict.equal is True:
        merged["decided by"] = "both routes"
    else:
        merged["decided by"] = "resolved route only"
    return merged


def summary(items: list[dict]) -> str:
    """How many steps each route decided, for the steps check's detail."""
    both = sum(item.get("decided by") == "both routes" for item in items)
    return f"{both} of {len(items)} steps also tested by the independent route (SymPy diff/doit)"
