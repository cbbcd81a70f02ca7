"""SymPy's own derivative along random directions, compared with a derived result.

The ``sympy diff`` check asks whether SymPy's differentiation of a definition agrees with
the result derived step by step, at concrete sizes. Writing SymPy's gradient out entry by
entry costs one explicit derivative and one instantiated entry per input coordinate
(n² of them for a Jacobian), which is what made the check grow with size. Along a
direction t it is one derivative:

    ⟨∇f(x), t⟩ = d/dε f(x + εt) at ε = 0.

SymPy takes that derivative of the definition itself, in index notation: every input
entry ``W[k, l]`` becomes ``W[k, l] + ε·t_W[k, l]``, and ``diff`` in the scalar ε runs
through the sums with the product, quotient and chain rules. No derivative by a matrix
entry is taken and no Kronecker delta appears, so this route shares none of the
derivation's delta bookkeeping. At each concrete size, the result is evaluated at exact
random rational points x and directions t and compared, to 50 significant digits, with
the derived result contracted with the same t, Σ g(x)·t. Both sides are evaluated a
whole array at a time (:mod:`workbench.checks.array_evaluation`); what that route does
not cover, the scalar :class:`~workbench.checks.evaluation.Evaluator` evaluates, with the
same values.

If g ≠ ∇f at x, the linear form ⟨g − ∇f, t⟩ vanishes for at most one value in ~390 of
any coordinate of t where they differ (t's entries are drawn from ~390 rationals), so
``POINTS`` independent (x, t) pairs leave a wrong result a chance below 390⁻⁴ ≈ 4e-11
per comparison. Each differentiated input gets its own ε, so a failure names the input
whose gradient is wrong.

Example:
    >>> import sympy as sp
    >>> n = sp.Symbol("n", integer=True, positive=True)
    >>> i, k = sp.symbols("i k", integer=True)
    >>> z = sp.MatrixSymbol("z", n, 1)
    >>> lse = sp.Matrix([[sp.log(sp.Sum(sp.exp(z[k, 0]), (k, 0, n - 1)))]])
    >>> softmax_i = sp.exp(z[i, 0]) / sp.Sum(sp.exp(z[k, 0]), (k, 0, n - 1))
    >>> [v.equal for v in compare_along_directions(
    ...     sp.ImmutableMatrix(lse), [Claim(z, softmax_i, (i, 0))], [z], {n: 5})]
    [True]
"""

from __future__ import annotations

import dataclasses
import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import mpmath
import sympy as sp
from sympy.matrices.expressions.matexpr import MatrixElement

from workbench.checks.array_evaluation import ArrayEvaluator, NotVectorised
from workbench.checks.equivalence import Equivalence
from workbench.checks.evaluation import Evaluator, Inadmissible, Unsupported, factor_sums, real

__all__ = [
    "Claim",
    "DirectionalCheck",
    "Inadmissible",
    "Unsupported",
    "compare_along_directions",
    "directional",
]

RELATIVE_TOLERANCE = mpmath.mpf("1e-35")  # as the equality checker's numeric tier
DENOMINATOR = 97  # random rationals p/97: exact, and ~390 values in (-2, 2)
POINTS = 4  # independent (x, t) pairs per comparison
INTERVAL = (-2.0, 2.0)  # where entries (of a direction, and of inputs by default) lie


@dataclass(frozen=True)
class Claim:
    """A derivative to test: ``expr`` is entry ``entry`` of ∂forward/∂``wrt``.

    For a scalar forward, ``entry`` indexes ``wrt`` (gradient layout); for a column
    forward, ``entry = (output, input)`` indexes the Jacobian (numerator layout).
    """

    wrt: sp.MatrixSymbol
    expr: sp.Basic
    entry: tuple[sp.Basic, sp.Basic]


def direction_name(wrt: sp.MatrixSymbol) -> str:
    return f"∂{wrt.name}"


def directional(entry: sp.Basic, wrt: sp.MatrixSymbol, eps: sp.Symbol) -> sp.Basic:
    """SymPy's d/dε of ``entry`` with every ``wrt[k, l]`` moved to ``wrt[k, l] + ε·t[k, l]``,
    at ε = 0: the directional derivative along t (the matrix ``∂wrt``), in index notation."""
    t = sp.MatrixSymbol(direction_name(wrt), *wrt.shape)
    moved = entry.replace(
        lambda e: isinstance(e, MatrixElement) and getattr(e.parent, "name", None) == wrt.name,
        lambda e: e + eps * t[e.i, e.j],
    )
    derivative = sp.diff(moved, eps)
    if derivative.has(sp.Derivative):
        raise Unsupported(f"SymPy left a derivative unevaluated along {wrt.name}")
    return derivative.xreplace({eps: sp.S.Zero})


class DirectionalCheck:
    """SymPy's directional derivatives of one definition, taken once, compared at any size.

    Args:
        forward: the definition in matrix notation (1×1 for a scalar, or a column), with
            symbolic sizes.
        claims: one per differentiated input, in index notation with symbolic sizes.
        substitute: applied to every index-notation expression before it is
            differentiated (a case's concrete activation for φ). Not for matrices: SymPy
            folds a Piecewise entry (a causal mask's) out of the sums binding its indices.

    Raises:
        Unsupported: SymPy left a derivative unevaluated.
    """

    def __init__(
        self,
        forward: sp.MatrixExpr,
        claims: Sequence[Claim],
        substitute: Callable[[sp.Basic], sp.Basic] = lambda e: e,
    ):
        # A matrix of numbers in the forward (a one-hot selector, say) becomes an input
        # with fixed entries: with one, SymPy's entry formula calls doit, which tries to
        # sum every symbolic sum in closed form (six seconds for a batched logistic loss).
        self.constants = {
            m: sp.MatrixSymbol(f"_explicit{k}", *m.shape)
            for k, m in enumerate(sorted(forward.atoms(sp.ImmutableMatrix), key=str))
        }
        forward = forward.xreplace(self.constants)
        self.forward = forward
        self.claims = tuple(_with_expr(c, _named_constants(c.expr, self.constants)) for c in claims)
        self.scalar = forward.shape[0] == 1
        self.output = sp.Dummy("r", integer=True)
        entry = substitute(_entry(forward, 0 if self.scalar else self.output))
        eps = sp.Dummy("ε")
        # Both sides are evaluated as factored sums (evaluation.factor_sums): the same
        # values, each factor computed once per index it reads. And the claim is
        # contracted with t as one sum, once per point, not entry by entry.
        self.truths = [factor_sums(directional(entry, c.wrt, eps)) for c in claims]
        self.claimed = [substitute(c.expr) for c in claims]
        self.contracted = [
            factor_sums(_contraction(expr, claim, self.scalar))
            for expr, claim in zip(self.claimed, self.claims, strict=True)
        ]

    def compare(
        self,
        inputs: Sequence[sp.MatrixSymbol],
        sizes: Mapping[sp.Symbol, int],
        *,
        fixed: Mapping[str, Sequence[Sequence[sp.Basic]]] | None = None,
        assumptions: Sequence[tuple[sp.Basic, sp.Basic]] = (),
        domain: Mapping[str, tuple[float, float]] | None = None,
        points: int = POINTS,
        seed: int | str = 0,
    ) -> list[Equivalence]:
        """Compare at ``sizes``: one verdict per claim.

        Args:
            inputs: the input matrices drawn at random (the differentiated ones among them).
            sizes: the concrete sizes.
            fixed: inputs with given entries at these sizes (a mask), by name.
            assumptions: facts the inputs satisfy, explicit at these sizes; each is solved
                for one input entry at every point (Σ y = 1 fixes the last y).
            domain: per input name, the interval its random entries are drawn from.
            points: independent random (x, t) pairs.
            seed: seeds the points and directions.

        Returns:
            :class:`~workbench.checks.equivalence.Equivalence` per claim: ``tested`` when every
            point agreed to 50 digits; a counterexample at the first point that did not.

        Raises:
            Unsupported: something the evaluator does not know, or a layout it cannot
                contract.
        """
        start = time.process_time()
        shapes = {a.name: _shape(a, sizes) for a in inputs}
        rows, cols = _shape(self.forward, sizes)
        if cols != 1 or self.scalar != (rows == 1):
            raise Unsupported("the forward is neither a scalar nor a column")
        for claim in self.claims:
            _check_layout(claim, rows, shapes)
        rng = random.Random(f"directional:{seed}")
        mismatch: dict[int, dict] = {}
        tested = 0
        for _attempt in range(4 * points):
            if tested >= points:
                break
            given = {name: [list(row) for row in rows_] for name, rows_ in (fixed or {}).items()}
            given.update({m.name: c.tolist() for c, m in self.constants.items()})
            point = {**_draw_point(shapes, domain or {}, rng), **given}
            _satisfy(assumptions, point, [c.wrt.name for c in self.claims])
            directions = {
                direction_name(c.wrt): _matrix(shapes[c.wrt.name], rng) for c in self.claims
            }
            values = {**point, **directions}
            try:
                try:
                    pairs = self._arrays(ArrayEvaluator(sizes, values), rows)
                except NotVectorised:  # the scalar evaluator decides, as it always did
                    pairs = self._values(Evaluator(sizes, values), rows)
            except Inadmissible:
                continue  # outside the real domain: draw another point, as equality tiers do
            tested += 1
            for index, (truth, value) in enumerate(pairs):
                if index not in mismatch:
                    example = _first_difference(truth, value, sizes)
                    if example is not None:
                        mismatch[index] = example
        return _verdicts(len(self.claims), mismatch, tested, time.process_time() - start)

    def _arrays(self, evaluator: ArrayEvaluator, rows: int) -> list[tuple[list, list]]:
        """As :meth:`_values`, each side a whole array at once."""
        out = []
        for claim, truth, contracted in zip(self.claims, self.truths, self.contracted, strict=True):
            sympys = [_real(v) for v in evaluator.array(truth, {self.output: rows})]
            first = claim.entry[0]
            if self.scalar:
                claimed = [_real(evaluator.array(contracted, {})[()])] * rows
            else:
                claimed = [_real(v) for v in evaluator.array(contracted, {first: rows})]
            out.append((sympys, claimed))
        return out

    def _values(self, evaluator: Evaluator, rows: int) -> list[tuple[list, list]]:
        """Per claim: (SymPy's ⟨∇f, t⟩, the claim contracted with t), per output row."""
        out = []
        for claim, truth, contracted in zip(self.claims, self.truths, self.contracted, strict=True):
            sympys = [_real(evaluator.value(truth, {self.output: r})) for r in range(rows)]
            first = claim.entry[0]
            claimed = [
                _real(evaluator.value(contracted, {first: r} if not self.scalar else {}))
                for r in range(rows)
            ]
            out.append((sympys, claimed))
        return out


def compare_along_directions(
    forward: sp.MatrixExpr,
    claims: Sequence[Claim],
    inputs: Sequence[sp.MatrixSymbol],
    sizes: Mapping[sp.Symbol, int],
    *,
    substitute: Callable[[sp.Basic], sp.Basic] = lambda e: e,
    **options,
) -> list[Equivalence]:
    """:class:`DirectionalCheck` at one size (``options`` as for its ``compare``)."""
    return DirectionalCheck(forward, claims, substitute).compare(inputs, sizes, **options)


def _verdicts(count: int, mismatch, tested: int, seconds: float) -> list[Equivalence]:
    if tested == 0:
        return [
            Equivalence(None, "undecided", "directional", seconds, "no admissible random point")
        ] * count
    verdicts = []
    for index in range(count):
        example = mismatch.get(index)
        if example is not None:
            detail = (
                f"along a random direction t, SymPy's diff gives ⟨∇f, t⟩ = {example['left']}, "
                f"the claim {example['right']}"
            )
            verdicts.append(Equivalence(False, "tested", "directional", seconds, detail, example))
        else:
            detail = (
                f"⟨∇f, t⟩ by SymPy's diff equalled the claim contracted with t, to 50 digits, "
                f"at {tested} random points and directions"
            )
            verdicts.append(Equivalence(True, "tested", "directional", seconds, detail))
    return verdicts


def _first_difference(truth, value, sizes) -> dict | None:
    for left, right in zip(truth, value, strict=True):
        if abs(left - right) > RELATIVE_TOLERANCE * max(abs(left), abs(right), 1):
            return {
                "instance": ", ".join(f"{k}={v}" for k, v in sizes.items()),
                "point": "seeded random rational inputs and direction",
                "left": mpmath.nstr(left, 12),
                "right": mpmath.nstr(right, 12),
            }
    return None


def _entry(forward: sp.MatrixExpr, row) -> sp.Basic:
    """Entry (row, 0) by SymPy's entry formula; a product's sums are left as sums, which
    the evaluators sum (SymPy's doit would first try each in closed form)."""
    if isinstance(forward, sp.MatMul):
        return forward._entry(row, 0, expand=False)
    return forward[row, 0]


def _named_constants(expr: sp.Basic, constants: Mapping) -> sp.Basic:
    """Entries of matrices of numbers as entries of their stand-in inputs."""
    return sp.sympify(expr).replace(
        lambda e: isinstance(e, MatrixElement) and e.parent in constants,
        lambda e: constants[e.parent][e.i, e.j],
    )


def _with_expr(claim: Claim, expr: sp.Basic) -> Claim:
    return claim if expr == claim.expr else dataclasses.replace(claim, expr=expr)


def _contraction(expr: sp.Basic, claim: Claim, scalar: bool) -> sp.Basic:
    """The claim contracted with its direction t, as one sum at general size: Σ g·t over
    the entries of ``claim.wrt`` (a scalar forward), or, per output row (the claim's first
    index, left free), over its input index (a column forward)."""
    t = sp.MatrixSymbol(direction_name(claim.wrt), *claim.wrt.shape)
    first, second = claim.entry
    rows, cols = claim.wrt.shape
    if not scalar:  # a Jacobian: row `first` of J times the column t
        return sp.Sum(expr * t[second, 0], (second, 0, rows - 1))
    out = expr * t[first, second]
    limits = [(i, 0, extent - 1) for i, extent in ((first, rows), (second, cols))]
    limits = [limit for limit in limits if isinstance(limit[0], sp.Symbol)]
    return sp.Sum(out, *limits) if limits else out


def _shape(matrix, sizes) -> tuple[int, int]:
    concrete = {sp.sympify(k): sp.Integer(v) for k, v in sizes.items()}
    rows, cols = (sp.sympify(d).xreplace(concrete) for d in matrix.shape)
    if not (rows.is_Integer and cols.is_Integer):
        raise Unsupported(f"the shape of {matrix} is not concrete at {dict(sizes)}")
    return int(rows), int(cols)


def _check_layout(claim: Claim, rows: int, shapes) -> None:
    shape = shapes.get(claim.wrt.name)
    if shape is None:
        raise Unsupported(f"{claim.wrt.name} is not an input")
    first, second = claim.entry
    needed: tuple[tuple[Any, Any], ...]
    if rows == 1:
        needed = ((first, shape[0]), (second, shape[1]))
    elif shape[1] == 1:
        needed = ((second, shape[0]),)
    else:
        raise Unsupported("a Jacobian with respect to a matrix")
    for index, extent in needed:
        if not isinstance(index, sp.Symbol) and not (extent == 1 and index == 0):
            raise Unsupported(f"entry {claim.entry} does not range over {claim.wrt.name}")


def _rational(rng: random.Random, interval: tuple[float, float]) -> sp.Rational:
    lo, hi = (int(bound * DENOMINATOR) for bound in interval)
    return sp.Rational(rng.randint(lo, hi), DENOMINATOR)


def _matrix(shape, rng, interval=INTERVAL) -> list[list[sp.Rational]]:
    return [[_rational(rng, interval) for _ in range(shape[1])] for _ in range(shape[0])]


def _draw_point(shapes, domain, rng) -> dict[str, list[list[sp.Rational]]]:
    return {name: _matrix(shape, rng, domain.get(name, INTERVAL)) for name, shape in shapes.items()}


def _satisfy(assumptions, point, differentiated: Sequence[str]) -> None:
    """Make the point satisfy each fact by solving it for one input entry.

    As the equality checker's numeric tier does, the last entry (by name) not yet solved
    is chosen, preferring inputs that are not differentiated. (Either is sound: the
    derivative is taken at the point, in every direction, whatever the point satisfies.)
    """
    solved: set[MatrixElement] = set()
    for lhs, rhs in assumptions:
        equation = sp.sympify(lhs) - sp.sympify(rhs)
        elements = sorted(
            (e for e in equation.atoms(MatrixElement) if isinstance(e.parent, sp.MatrixSymbol)),
            key=lambda e: (e.parent.name not in differentiated, str(e)),
        )
        candidates = [e for e in elements if e not in solved]
        if not candidates:
            raise Unsupported(f"cannot satisfy {lhs} = {rhs} at a random point")
        unknown = candidates[-1]
        u = sp.Dummy("u")
        known = {e: point[e.parent.name][int(e.i)][int(e.j)] for e in elements if e != unknown}
        linear = sp.expand(equation.xreplace({**known, unknown: u}))
        slope, offset = sp.diff(linear, u), linear.xreplace({u: sp.S.Zero})
        if not (slope.is_Rational and offset.is_Rational) or slope == 0:
            raise Unsupported(f"cannot solve {lhs} = {rhs} for {unknown}")
        point[unknown.parent.name][int(unknown.i)][int(unknown.j)] = -offset / slope
        solved.add(unknown)


def _real(value):
    return real(value, 1e-40)
