"""Test points for the verifier: drawn where the function is real and finite.

A claim is judged only where it can be judged: at exact random rational points at
which the function (and the true derivative) are real and finite. ``x**x`` needs
x > 0 and ``log(det(X))`` needs det X > 0, so after a round of ordinary draws the
sampler switches to positive scalars and symmetric positive-definite square matrices
(X = AAᵀ + I), and then to a wider positive range (``log(x - 3)`` needs x > 3).
Values are computed with 30 significant digits.

Example:
    >>> import sympy as sp
    >>> x = sp.Symbol("x", real=True)
    >>> points = draw_points({"x": x}, [sp.log(x)], count=2)
    >>> all(p[x] > 0 for p in points)
    True
"""

from __future__ import annotations

import cmath
import math
import random
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import sympy as sp

from workbench.verify.interpret import Value, is_matrix, shape

Point = dict[sp.Symbol, sp.Expr]
Fact = tuple[sp.Expr, sp.Expr]

DIGITS = 30
# A value is trusted at a point only if it reads the same at this higher precision:
# 1/(sin(x)**2 + cos(x)**2 - 1) evaluates to a "finite" 1e138 at 30 digits and to 1e195
# at 45 (cancellation, not a value), and such a point must not count as "defined".
CHECK_DIGITS = 45
RELATIVE_TOLERANCE = sp.Float("1e-20", DIGITS)
FLOAT_AGREEMENT = 1e-6  # double precision vs 30 digits, for a value that is really defined
CACHED_VALUES = 512  # values kept at their points (and compiled), per process
PLAIN_DIGITS = 10  # significant digits shown in a counterexample
# Draws per phase, and the interval of each: ordinary, positive, wide positive.
PHASES = (((-2.0, 2.0), 12), ((0.25, 2.0), 12), ((0.25, 10.0), 12))
DENOMINATOR = 97


@dataclass(frozen=True)
class Problem:
    """One comparison: a claim against the value it should equal, and where it must.

    Attributes:
        claim: the user's expression, built at concrete sizes.
        expected: what it should equal (the true derivative, or the previous line).
        variables: the inputs, name → symbol or matrix of symbols.
        defined: further values that must be real and finite at a test point (the
            function itself); ``expected`` always must be.
        facts: equations the inputs satisfy, e.g. Σ y = 1 in a catalogue case.
        domain: per input name, the interval test values are drawn from.
        positive_definite: matrices drawn as BBᵀ + I at every test point (--assume).
        wrt: the name differentiated with respect to, if any.
        noun: how messages refer to ``expected``, e.g. "the derivative".
        subject: how messages refer to ``claim``, e.g. "the claim" or "line 3".
        convention: the layout in words, quoted when a claim is transposed.
        terms: named sub-expressions (text, value), candidates for a missing term.
        claim_terms: the claim's own additive terms (text, value).
        transposed: the claim rebuilt with one square factor transposed (what was
            changed, in words; value), for "a transpose forgotten".
    """

    claim: Value
    expected: Value
    variables: Mapping[str, Value]
    defined: tuple[Value, ...] = ()
    facts: tuple[Fact, ...] = ()
    domain: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    positive_definite: frozenset[str] = frozenset()
    wrt: str | None = None
    noun: str = "the derivative"
    subject: str = "the claim"
    convention: str = ""
    terms: tuple[tuple[str, Value], ...] = ()
    claim_terms: tuple[tuple[str, Value], ...] = ()
    transposed: tuple[tuple[str, Value], ...] = ()


def entries(value: Value) -> list[sp.Expr]:
    """Row-major entries; a scalar is one entry."""
    return list(value) if is_matrix(value) else [sp.sympify(value)]


def free_symbols(values: Iterable[Value]) -> set[sp.Symbol]:
    found: set[sp.Symbol] = set()
    for value in values:
        for entry in entries(value):
            found |= {s for s in entry.free_symbols if isinstance(s, sp.Symbol)}
    return found


def owner(symbol: sp.Symbol) -> str:
    """The variable a symbol belongs to: ``X[0,1]`` → ``X``."""
    return symbol.name.split("[")[0]


def solve_facts(facts: Sequence[Fact]) -> list[tuple[sp.Symbol, sp.Expr]]:
    """Each fact ``lhs = rhs`` solved for one symbol it is linear in (the last, by name),
    after the facts before it are put in; no solution names a symbol another solves for,
    so they may be applied in any order. A fact the ones before it already imply is met
    by them; :func:`unmet_facts` names those solved for nothing."""
    return _solved(tuple(facts))[0]


def unmet_facts(facts: Sequence[Fact]) -> list[Fact]:
    """The facts no test point can be made to satisfy: not linear in any one symbol, nor
    in the square of one (σ² of a variance), even with their denominators cleared, nor
    true at every point (an identity such as (XᵀX)⁻¹(XᵀX) = I)."""
    return _solved(tuple(facts))[1]


def _solved(
    facts: tuple[Fact, ...],
) -> tuple[list[tuple[sp.Symbol, sp.Expr]], list[Fact], list[Fact]]:
    solution: dict[sp.Symbol, sp.Expr] = {}
    unmet: list[Fact] = []
    everywhere: list[Fact] = []
    for lhs, rhs in facts:
        equation = (sp.sympify(lhs) - sp.sympify(rhs)).xreplace(solution)
        if says_nothing(equation):
            continue  # implied by the facts before it
        # An identity first, at a few numbers: solving (XᵀX)⁻¹(XᵀX) = I for one of X's
        # entries differentiated its rational entries by each of 12 symbols, past 20 s.
        if _everywhere(equation):
            everywhere.append((lhs, rhs))
            continue
        found = _solve_one(equation, set(solution))
        if found is None:
            unmet.append((lhs, rhs))
            continue
        symbol, value = found
        solution = {s: v.xreplace({symbol: value}) for s, v in solution.items()}
        solution[symbol] = value
    return list(solution.items()), unmet, everywhere


# Operations beyond which a difference is not expanded: an entry of H⁻¹H − I for a 4×4
# H is a rational function whose expansion took over 20 s. Such a fact is told an
# identity at random numbers instead (:func:`_everywhere`).
EXPAND_OPS = 200


def says_nothing(difference) -> bool:
    """Is lhs − rhs zero by expansion alone (x = x)? Expanded only while it is small:
    expand, not simplify, and never a large rational function."""
    if difference == 0:
        return True
    if is_matrix(difference):
        return all(says_nothing(entry) for entry in difference)
    if sp.count_ops(difference) > EXPAND_OPS:
        return False
    return sp.expand(difference) == 0


IDENTITY_POINTS = 3  # random rational points an unsolvable fact must hold at


def _everywhere(equation: sp.Expr) -> bool:
    """Is ``equation`` = 0 at :data:`IDENTITY_POINTS` random rational points (30 digits)?
    Then no point needs solving for: (XᵀX)⁻¹(XᵀX) − I is 0 wherever it is defined, but
    its entries are rational functions ``expand`` does not cancel. Evidence, not proof:
    every test point is checked against such a fact (:func:`sample_points`)."""
    symbols = sorted(equation.free_symbols, key=str)
    if not symbols:
        return False
    rng = random.Random(0)
    held = 0
    for _ in range(4 * IDENTITY_POINTS):
        found = _evaluate(equation, {x: _rational(0.25, 2.0, rng) for x in symbols}, DIGITS)
        if found is None:
            continue  # not defined here: draw another
        if any(abs(v) > RELATIVE_TOLERANCE for v in found):
            return False
        held += 1
        if held == IDENTITY_POINTS:
            return True
    return False


def _meets(facts: Sequence[Fact], point: Point) -> bool:
    """Does ``point`` satisfy each fact, to 30 digits?"""
    for lhs, rhs in facts:
        found = evaluate(sp.sympify(lhs) - sp.sympify(rhs), point)
        if found is None or any(abs(v) > RELATIVE_TOLERANCE for v in found):
            return False
    return True


def _solve_one(equation: sp.Expr, taken: set) -> tuple[sp.Symbol, sp.Expr] | None:
    """(symbol, value) with ``equation`` = 0 at symbol = value; the last symbol by name in
    which it is linear, then the same with its denominators cleared, then in a square."""
    candidates = sorted(equation.free_symbols - taken, key=str, reverse=True)
    cleared = sp.numer(sp.together(equation))
    for form in (equation, cleared):
        for symbol in candidates:
            slope = sp.diff(form, symbol)
            if slope != 0 and symbol not in slope.free_symbols:
                # form = slope·symbol + rest: the value is −rest/slope, with no symbol
                # left in it to cancel (symbol − form/slope, expanded, may keep it)
                return symbol, sp.expand(-form.xreplace({symbol: 0}) / slope)
    for symbol in candidates:  # σ² = Σ(x − μ)²/N: the fact is linear in σ²
        square = sp.Dummy("square", positive=True)
        form = cleared.subs(symbol, sp.sqrt(square))
        if symbol in form.free_symbols:
            continue
        slope = sp.diff(form, square)
        if slope != 0 and square not in slope.free_symbols:
            return symbol, sp.sqrt(sp.expand(-form.xreplace({square: 0}) / slope))
    return None


def evaluate(
    value: Value, point: Mapping[sp.Symbol, sp.Expr], digits: int = DIGITS
) -> list[sp.Expr] | None:
    """Entries of ``value`` at ``point``, to 30 digits; None where one is not a finite number."""
    key = (value, frozenset(point.items()), digits)
    if key in _EVALUATED:  # the same value at the same point: checking a point, then judging
        return _EVALUATED[key]
    if len(_EVALUATED) > CACHED_VALUES:
        _EVALUATED.clear()
    _EVALUATED[key] = found = _evaluate(value, point, digits)
    return found


def _evaluate(value: Value, point: Mapping[sp.Symbol, sp.Expr], digits: int):
    out = []
    for entry in entries(value):
        number = sp.N(entry.xreplace(point), digits)
        if not number.is_number or number.has(sp.nan, sp.zoo, sp.oo, -sp.oo):
            return None
        out.append(number)
    return out


def is_real(numbers: Sequence[sp.Expr]) -> bool:
    for number in numbers:
        imaginary = abs(sp.im(number))
        if imaginary > RELATIVE_TOLERANCE * max(abs(number), 1):
            return False
    return True


def defined_at(values: Sequence[Value], point: Mapping[sp.Symbol, sp.Expr]) -> bool:
    """Every value real and finite at ``point``, and the same at 30 and at 45 digits.

    Where double precision already agrees with the 30 digits (to 1e-6), the 45-digit
    evaluation is skipped: garbage from cancellation cannot agree with a second, unrelated
    computation to six digits, and the 45-digit one costs as much as the first.
    """
    evaluated = [evaluate(v, point) for v in values]
    found = [v for v in evaluated if v is not None and is_real(v)]
    if len(found) < len(evaluated):
        return False
    for value, first in zip(values, found, strict=True):
        if _agrees_in_floats(value, point, first):
            continue
        again = evaluate(value, point, CHECK_DIGITS)
        if again is None or not agree(first, again):
            return False
    return True


def _agrees_in_floats(value: Value, point, exact: Sequence[sp.Expr]) -> bool:
    if len(_FLOATS._compiled) > CACHED_VALUES:
        _FLOATS._compiled.clear()
    floats = _FLOATS(value, point)
    if floats is None:
        return False
    for number, approximate in zip(exact, floats, strict=True):
        target = complex(number)
        if abs(approximate - target) > FLOAT_AGREEMENT * max(1.0, abs(target)):
            return False
    return True


def agree(left: Sequence[sp.Expr], right: Sequence[sp.Expr]) -> bool:
    """Entrywise equal to 20 significant digits (relative to the size of the values)."""
    scale = max([sp.Integer(1), *(abs(v) for v in left), *(abs(v) for v in right)])
    return all(abs(a - b) <= RELATIVE_TOLERANCE * scale for a, b in zip(left, right, strict=True))


@dataclass(frozen=True)
class Sample:
    """Random test points, and the interval each one's entries were drawn from."""

    points: tuple[Point, ...]
    intervals: tuple[tuple[float, float], ...]

    def describe(self) -> str:
        """``"4 drawn at random from [-2, 2]"``: what was sampled, in words."""
        counts: dict[tuple[float, float], int] = {}
        for interval in self.intervals:
            counts[interval] = counts.get(interval, 0) + 1
        if not counts:
            return "none drawn at random"
        where = " and ".join(f"{n} from [{low:g}, {high:g}]" for (low, high), n in counts.items())
        if len(counts) == 1:
            where = where.split(" ", 1)[1]
        return f"{len(self.points)} exact rationals drawn at random {where}"


def draw_points(
    variables: Mapping[str, Value],
    defined: Sequence[Value],
    *,
    extra: Iterable[Value] = (),
    facts: Sequence[Fact] = (),
    domain: Mapping[str, tuple[float, float]] | None = None,
    count: int = 4,
    seed: int = 0,
) -> list[Point]:
    """Up to ``count`` points at which every value in ``defined`` is real and finite.

    Args:
        variables: name → its symbol or matrix of symbols (used to draw whole matrices).
        defined: values that must be real and finite (the function, the derivative).
        extra: further values whose symbols need values (the claim).
        facts: equations the point must satisfy, e.g. Σ y = 1.
        domain: per variable name, the interval entries are drawn from.
        count: how many points.
        seed: seeds the draws.
    """
    found = sample_points(
        variables, defined, extra=extra, facts=facts, domain=domain, count=count, seed=seed
    )
    return list(found.points)


def sample_points(
    variables: Mapping[str, Value],
    defined: Sequence[Value],
    *,
    extra: Iterable[Value] = (),
    facts: Sequence[Fact] = (),
    domain: Mapping[str, tuple[float, float]] | None = None,
    count: int = 4,
    seed: int = 0,
    avoid: Callable[[Point], bool] | None = None,
    positive_definite: frozenset[str] = frozenset(),
) -> Sample:
    """:func:`draw_points`, with the intervals drawn from; ``avoid(point)`` rejects a point
    (one exactly on a kink, where no derivative exists)."""
    rng = random.Random(seed)
    solved, _, everywhere = _solved(tuple(facts))
    dependent = {symbol for symbol, _ in solved}
    symbols = sorted(free_symbols([*defined, *extra, *variables.values()]) - dependent, key=str)
    points: list[Point] = []
    intervals: list[tuple[float, float]] = []
    draws = [(interval, phase > 0) for phase, (interval, n) in enumerate(PHASES) for _ in range(n)]
    for interval, positive in draws:
        if len(points) >= count:
            break
        point = _draw(symbols, variables, domain or {}, rng, interval, positive, positive_definite)
        for symbol, expression in solved:
            point[symbol] = expression.xreplace(point)
        if avoid is not None and avoid(point):
            continue
        if everywhere and not _meets(everywhere, point):
            continue  # an identity that fails here is no identity: this point does not count
        if defined_at(defined, point):
            points.append(point)
            intervals.append(interval)
    return Sample(tuple(points), tuple(intervals))


def within(point: Point, domain, definite, variables) -> bool:
    """Does ``point`` satisfy the intervals and the positive definite matrices assumed?"""
    for symbol, value in point.items():
        low, high = domain.get(owner(symbol), (-math.inf, math.inf))
        if not low <= value <= high:
            return False
    for name in definite:
        matrix = variables[name]
        if not matrix.xreplace(point).is_positive_definite:
            return False
    return True


def rational(low: float, high: float, rng: random.Random) -> sp.Rational:
    """An exact random rational in [low, high], with denominator :data:`DENOMINATOR`."""
    return _rational(low, high, rng)


def _draw(
    symbols, variables, domain, rng: random.Random, interval, positive: bool, definite=()
) -> Point:
    point: Point = {}
    # Square matrices drawn symmetric positive definite in the positive phases (det > 0,
    # logs defined), and always those assumed positive definite.
    for name, value in variables.items():
        square = is_matrix(value) and value.shape[0] == value.shape[1] and value.shape[0] > 1
        if square and (positive or name in definite):
            point.update(_positive_definite(value, rng))
    for symbol in symbols:
        if symbol in point:
            continue
        low, high = domain.get(owner(symbol), interval)
        point[symbol] = _rational(low, high, rng)
    return point


def _rational(low: float, high: float, rng: random.Random) -> sp.Rational:
    return sp.Rational(rng.randint(int(low * DENOMINATOR), int(high * DENOMINATOR)), DENOMINATOR)


def _positive_definite(matrix: sp.ImmutableMatrix, rng: random.Random) -> Point:
    size = matrix.shape[0]
    factor = sp.Matrix(size, size, lambda i, j: _rational(-1.0, 1.0, rng))
    spd = factor * factor.T + sp.eye(size)
    return {matrix[i, j]: spd[i, j] for i in range(size) for j in range(size)}


# ---------------------------------------------------------------- fast values
def _step(x, at_zero=0.5):
    return 1.0 if x.real > 0 else (0.0 if x.real < 0 else float(at_zero))


# What compiled values may call: complex-capable maths, and the kinks of ReLU and |x|.
_NAMESPACE = {
    **{name: getattr(cmath, name) for name in ("exp", "log", "sqrt", "sin", "cos", "tan")},
    **{name: getattr(cmath, name) for name in ("sinh", "cosh", "tanh", "asin", "acos", "atan")},
    "Abs": abs,
    "Heaviside": _step,
    "Max": lambda *a: max(a, key=lambda v: v.real),
    "Min": lambda *a: min(a, key=lambda v: v.real),
    "copysign": math.copysign,
    "e": math.e,
    "E": math.e,
    "pi": math.pi,
}


class FastValues:
    """Values at points in double precision, each value compiled once.

    The diagnosis compares a claim with many variants at many points; 30-digit
    ``evalf`` of large expressions there would dominate the run. A value that cannot be
    compiled falls back to ``evalf``.
    """

    def __init__(self, fallback: bool = True) -> None:
        self._compiled: dict = {}
        self._fallback = fallback  # False: double precision only, never evalf

    def __call__(self, value: Value, point: Mapping[sp.Symbol, sp.Expr]) -> list[complex] | None:
        compiled = self._compiled.get(value)
        if compiled is None:
            compiled = self._compiled[value] = _compile(value)
        try:
            numbers = compiled(point)
        except (ArithmeticError, ValueError, TypeError, NameError, KeyError):
            numbers = _slow(value, point) if self._fallback else None
        if numbers is None or not all(cmath.isfinite(n) for n in numbers):
            return None
        return numbers


_EVALUATED: dict = {}
_FLOATS = FastValues(fallback=False)  # independent of evalf: a second computation


# Kinked functions as plain function names while compiling, and the symbols renamed to
# Python names by us: lambdify would rename x[0] (no Python name) by rebuilding every
# node, and rebuilding Heaviside(x[0] - Max(x[1], ...)) makes SymPy compare the
# arguments pairwise and ask for signs (seconds for the derivative of max(x) at n = 10,
# most of a verification). The plain names are those of the namespace above.
_PLAIN = {head: sp.Function(head.__name__) for head in (sp.Max, sp.Min, sp.Heaviside)}


def _compilable(items: list[sp.Expr], symbols: list[sp.Symbol]):
    """``items`` and ``symbols`` with the kinked functions plain and the symbols renamed;
    unchanged when no item holds a kinked function."""
    if not any(item.has(*_PLAIN) for item in items):
        return items, symbols
    renamed = {s: sp.Symbol(f"v{k}", real=True) for k, s in enumerate(symbols)}
    memo: dict[sp.Basic, sp.Basic] = {}

    def convert(node: sp.Basic) -> sp.Basic:
        if node in memo:
            return memo[node]
        if isinstance(node, sp.Symbol):
            out = renamed.get(node, node)
        elif not node.args:
            out = node
        else:
            args = [convert(a) for a in node.args]
            plain = _PLAIN.get(type(node))
            out = plain(*args) if plain is not None else node.func(*args)
        memo[node] = out
        return out

    return [convert(item) for item in items], [renamed[s] for s in symbols]


def _compile(value: Value) -> Callable[[Mapping], list[complex]]:
    symbols = sorted(free_symbols([value]), key=str)
    items, names = _compilable(entries(value), symbols)
    try:
        function = sp.lambdify(names, items, modules=[_NAMESPACE], cse=True)
    except Exception:  # an expression the printer does not know: evaluate slowly instead
        return _not_compiled
    return lambda point: [complex(v) for v in function(*[float(point[s]) for s in symbols])]


def _not_compiled(point) -> list[complex]:
    raise TypeError("not compiled")  # FastValues falls back to evalf, if it may


def _slow(value: Value, point) -> list[complex] | None:
    numbers = evaluate(value, point)
    return None if numbers is None else [complex(n) for n in numbers]


# ---------------------------------------------------------------- plain values
def plain_number(number: sp.Expr) -> float | str:
    """A JSON-friendly number: a float, or a string for a complex value."""
    if is_real([number]):
        return float(f"{float(sp.re(number)):.{PLAIN_DIGITS}g}")
    return str(sp.N(number, PLAIN_DIGITS))


def plain(value_shape: tuple[int, int], numbers: Sequence[sp.Expr] | None):
    """A scalar as a number, a matrix as a list of rows; None for an undefined value."""
    if numbers is None:
        return None
    values = [plain_number(n) for n in numbers]
    if value_shape == (1, 1):
        return values[0]
    rows, cols = value_shape
    return [values[r * cols : (r + 1) * cols] for r in range(rows)]


def plain_point(point: Mapping[sp.Symbol, sp.Expr], variables: Mapping[str, Value]) -> dict:
    """The point grouped by variable: ``{"x": 0.5, "A": [[...], ...]}``."""
    out: dict = {}
    listed: set[sp.Symbol] = set()
    for name, value in variables.items():
        symbols = entries(value)
        if all(s in point for s in symbols):
            out[name] = plain(shape(value), [point[s] for s in symbols])
            listed |= set(symbols)
    for symbol in sorted(set(point) - listed, key=str):
        out[symbol.name] = plain_number(point[symbol])
    return out
