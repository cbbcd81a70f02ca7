"""A network's steps and results, checked at concrete sizes with 60-digit numbers.

A result composed from other results (the transformer block: the MLP's backprop, layer
norm's backward pass, the attention gradient) has steps such as

    ∂L/∂X₂[p,q] = Σ_rc ∂L/∂H₂[r,c] · ∂H₂[r,c]/∂X₂[p,q] + G[p,q],

whose sides mention the gradient of the loss with respect to a stage deep inside the
network. Resolving such a side symbolically writes the whole block out, which is what
took the steps check minutes. This route evaluates both sides instead, at each of a few
concrete sizes and exact random points, and shares no helper with the rules:

1. every named stage is written in index notation by SymPy itself (``definition[i, j]``),
   one level at a time, and evaluated a whole array at a time
   (:mod:`workbench.checks.array_evaluation`, 60 digits), in dependency order;
2. the gradient of the loss with respect to every stage and input, ∂L/∂N, is the
   generic reverse sweep of the chain rule, ∂L/∂N = Σ over the stages C that read N of
   the vector–Jacobian product of C, and each stage's local derivative is SymPy's
   ``diff`` of its own definition along ε (N[a, b] → N[a, b] + ε·δₐᵢδ_bⱼ, at ε = 0);
3. any other derivative in a side, ∂f/∂N[i, j], is SymPy's ``diff`` along ε of f with
   every stage that depends on N written out;
4. the two sides, arrays over the result's free indices, must agree to 1e-35 relative.

An unspecified function φ is replaced by a cubic with random rational coefficients (the
same on both sides), as the other independent route does: a step true for every φ holds
for it. The route decides "tested" or "failed"; a side it cannot evaluate is "undecided".

Example:
    >>> import sympy as sp
    >>> n = sp.Symbol("n", integer=True, positive=True)
    >>> p, k = sp.symbols("p k", integer=True)
    >>> x, y = sp.MatrixSymbol("x", n, 1), sp.MatrixSymbol("y", n, 1)
    >>> L = sp.Symbol("L")
    >>> definitions = {y: sp.HadamardProduct(x, x), L: sp.Sum(y[k, 0], (k, 0, n - 1))}
    >>> route = NetworkRoute(definitions, L, [{n: 3}])
    >>> route.compare(sp.Derivative(L, x[p, 0]), 2 * x[p, 0], (p,), x).equal
    True
"""

from __future__ import annotations

import random
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import mpmath
import numpy as np
import sympy as sp
from sympy.core.function import AppliedUndef
from sympy.matrices.expressions.matexpr import MatrixElement

from workbench.checks import array_evaluation
from workbench.checks.array_evaluation import ArrayEvaluator, NotVectorised
from workbench.checks.equivalence import Equivalence
from workbench.checks.evaluation import DIGITS
from workbench.checks.step_check import _stand_in
from workbench.core.derivation import Result, Step

POINTS = 2  # random points per size
TOLERANCE = mpmath.mpf("1e-35")  # relative, as the directional check's
DENOMINATOR = 97  # random rationals p/97, exact
INTERVAL = (-2.0, 2.0)  # where an input's entries lie unless the domain says otherwise


class Undecidable(Exception):
    """A side holds something this route does not evaluate."""


def _entry(definition, i, j) -> sp.Basic:
    """SymPy's own index notation for one entry of a definition (a scalar stays)."""
    if isinstance(definition, sp.MatrixExpr):
        return definition[i, j]
    return sp.sympify(definition)


def _names_read(expr: sp.Basic) -> set:
    return {m for m in expr.atoms(sp.MatrixSymbol)} | expr.free_symbols


@dataclass
class _Point:
    """One size and point: every stage's value, and ∂L/∂N for every N L depends on."""

    sizes: dict
    evaluator: ArrayEvaluator
    adjoints: dict


class NetworkRoute:
    """Check equalities over a network of named stages (see the module docstring).

    Args:
        definitions: name → definition (matrix expressions; the loss a scalar).
        loss: the scalar whose gradients ``Derivative(loss, N[i, j])`` stand for.
        sizes: the concrete size sets, each size symbol → int.
        fixed: matrices with given entries (a causal mask), as matrix expressions.
        domain: per input name, the interval its random entries are drawn from.
        seed: seeds the points.
    """

    def __init__(
        self,
        definitions: Mapping,
        loss: sp.Symbol,
        sizes: Sequence[Mapping[sp.Symbol, int]],
        *,
        fixed: Mapping[sp.MatrixSymbol, sp.MatrixExpr] | None = None,
        domain: Mapping[str, tuple[float, float]] | None = None,
        points: int = POINTS,
        seed: int | str = 0,
    ):
        self.definitions = {k: _concrete_functions(v) for k, v in definitions.items()}
        self.loss = loss
        self.sizes = [dict(s) for s in sizes]
        self.fixed = dict(fixed or {})
        self.domain = dict(domain or {})
        self.points = points
        self.seed = seed
        self._templates: dict = {}
        self._depends: dict = {}
        self._order = self._topological()
        self._ancestors = self._upstream(loss)
        self._cache: list[_Point] | None = None
        self._local: dict = {}
        self._derivatives: dict = {}
        self._free: dict = {}

    # ---------------------------------------------------------------- the graph
    def _parents(self, name) -> set:
        return {x for x in _names_read(sp.sympify(self.definitions[name])) if x != name}

    def _topological(self) -> list:
        order: list = []
        seen: set = set()

        def visit(name):
            if name in seen or name not in self.definitions:
                return
            seen.add(name)
            for parent in sorted(self._parents(name), key=str):
                visit(parent)
            order.append(name)

        for name in sorted(self.definitions, key=str):
            visit(name)
        return order

    def _upstream(self, name) -> set:
        """Every stage and input ``name`` depends on."""
        out: set = set()
        stack = [name]
        while stack:
            for parent in self._parents(stack.pop()):
                if parent not in out:
                    out.add(parent)
                    if parent in self.definitions:
                        stack.append(parent)
        return out

    def depends(self, name, variable) -> bool:
        key = (name, variable)
        if key not in self._depends:
            self._depends[key] = name in self.definitions and variable in self._upstream(name)
        return self._depends[key]

    def _template(self, name):
        """(entry of ``name`` at indices (I, J), I, J), made once per name."""
        if name not in self._templates:
            i, j = sp.Dummy(f"{name}_i", integer=True), sp.Dummy(f"{name}_j", integer=True)
            body = _concrete_functions(_entry(self.definitions[name], i, j))
            self._templates[name] = (body, i, j)
        return self._templates[name]

    def written_out(self, expr: sp.Basic, variable) -> sp.Basic:
        """``expr`` with every stage that depends on ``variable`` written out."""
        for _ in range(64):
            found = {
                e
                for e in expr.atoms(MatrixElement)
                if e.parent in self.definitions and self.depends(e.parent, variable)
            }
            found |= {
                s for s in expr.free_symbols if s in self.definitions and self.depends(s, variable)
            }
            if not found:
                return expr
            out = {}
            for e in found:
                if isinstance(e, MatrixElement):
                    body, i, j = self._template(e.parent)
                    out[e] = body.xreplace({i: e.i, j: e.j})
                else:
                    out[e] = self._template(e)[0]
            expr = expr.xreplace(out)
        raise Undecidable("definitions nest more than 64 levels")

    # ---------------------------------------------------------------- derivatives
    def along(self, body: sp.Basic, variable: sp.MatrixElement) -> sp.Basic:
        """SymPy's ∂body/∂variable: every entry N[a, b] of the variable's matrix moved to
        N[a, b] + ε·δ(a, i)·δ(b, j) and ``diff`` taken in ε, at ε = 0."""
        matrix, i, j = variable.parent, variable.i, variable.j
        eps = sp.Dummy("ε")
        moved = body.replace(
            lambda e: isinstance(e, MatrixElement) and e.parent == matrix,
            lambda e: e + eps * sp.KroneckerDelta(e.i, i) * sp.KroneckerDelta(e.j, j),
        )
        return sp.diff(moved, eps).xreplace({eps: sp.S.Zero})

    def _local_vjp(self, child, parent) -> sp.Basic:
        """Σ_IJ adj_child[I, J]·∂child[I, J]/∂parent[i, j] in index notation, free (i, j)."""
        key = (child, parent)
        if key not in self._local:
            body, ci, cj = self._template(child)
            pi, pj = sp.Dummy("i", integer=True), sp.Dummy("j", integer=True)
            local = self.along(body, parent[pi, pj])
            if isinstance(child, sp.MatrixSymbol):
                rows, cols = child.shape
                adjoint = sp.MatrixSymbol(_adjoint_name(child), rows, cols)
                local = sp.Sum(adjoint[ci, cj] * local, (ci, 0, rows - 1), (cj, 0, cols - 1))
            self._local[key] = (local, pi, pj)
        return self._local[key]

    # ---------------------------------------------------------------- points
    def _points(self) -> list[_Point]:
        if self._cache is None:
            rng = random.Random(f"network:{self.seed}")
            self._cache = [
                self._point(sizes, rng) for sizes in self.sizes for _ in range(self.points)
            ]
        return self._cache

    def _point(self, sizes, rng) -> _Point:
        inputs = {x for name in self.definitions for x in self._parents(name)} - set(
            self.definitions
        )
        values: dict = {}
        for x in sorted(inputs, key=str):
            if x in self.fixed:
                explicit = sp.ImmutableMatrix(self.fixed[x].subs(sizes).as_explicit())
                values[x.name] = explicit.tolist()
            elif isinstance(x, sp.MatrixSymbol):
                rows, cols = (int(sp.sympify(s).subs(sizes)) for s in x.shape)
                low, high = self.domain.get(x.name, INTERVAL)
                values[x.name] = [
                    [_rational(rng, low, high) for _ in range(cols)] for _ in range(rows)
                ]
            elif isinstance(x, sp.Symbol) and not x.is_integer:
                low, high = self.domain.get(x.name, INTERVAL)
                values[x.name] = _rational(rng, low, high)
        evaluator = ArrayEvaluator(sizes, values)
        for name in self._order:  # forward: each stage once, from its definition
            self._store(evaluator, name, self._evaluate_template(evaluator, name, sizes))
        adjoints: dict = {}
        if self.loss in self.definitions:
            adjoints = self._sweep(evaluator, sizes)
        return _Point(sizes, evaluator, adjoints)

    def _evaluate_template(self, evaluator, name, sizes):
        body, i, j = self._template(name)
        if isinstance(name, sp.MatrixSymbol):
            rows, cols = (int(sp.sympify(s).subs(sizes)) for s in name.shape)
            return _array(evaluator, body, {i: rows, j: cols})
        return _array(evaluator, body, {})

    def _store(self, evaluator, name, value) -> None:
        if isinstance(name, sp.MatrixSymbol):
            evaluator.matrices[name.name] = _mpfr_array(value)
        else:
            evaluator.scalars[name.name] = _mpfr_array(np.asarray(value, dtype=object))[()]

    def _sweep(self, evaluator, sizes) -> dict:
        """∂L/∂N for every N the loss depends on: the chain rule, stage by stage back."""
        adjoints: dict = {}
        inputs = sorted(
            (x for x in self._ancestors if isinstance(x, sp.MatrixSymbol) and x not in self._order),
            key=str,
        )
        relevant = inputs + [n for n in self._order if n in self._ancestors or n == self.loss]
        for name in reversed(relevant):
            if name == self.loss:
                continue
            rows, cols = (int(sp.sympify(s).subs(sizes)) for s in name.shape)
            total = None
            for child in relevant:
                if child in self.definitions and name in self._parents(child):
                    local, pi, pj = self._local_vjp(child, name)
                    part = _array(evaluator, local, {pi: rows, pj: cols})
                    with mpmath.workdps(DIGITS):  # mpmath's own default is 15 digits
                        total = part if total is None else total + part
            if total is None:
                continue
            adjoints[name] = total
            evaluator.matrices[_adjoint_name(name)] = _mpfr_array(total)
        return adjoints

    # ---------------------------------------------------------------- a side
    def value(self, point: _Point, expr: sp.Basic, free: Mapping) -> np.ndarray:
        """``expr`` at the point, an array over ``free`` (index → extent)."""
        prepared = self._prepared(expr)
        return _array(point.evaluator, prepared, free)

    def _prepared(self, expr: sp.Basic) -> sp.Basic:
        expr = _concrete_functions(sp.sympify(expr))

        def derivative(d: sp.Derivative):
            if d not in self._derivatives:
                self._derivatives[d] = taken(d)
            return self._derivatives[d]

        def taken(d: sp.Derivative):
            if not any(isinstance(v, MatrixElement) for v in d.variables):
                return d.doit()  # a scalar function's derivative, φ′ once φ is concrete
            if len(d.variables) != 1:
                raise Undecidable(f"a derivative this route does not take: {d}")
            (v,) = d.variables
            if d.expr == self.loss:
                name = v.parent
                if name not in self._ancestors:
                    return sp.S.Zero
                adjoint = sp.MatrixSymbol(_adjoint_name(name), *name.shape)
                return adjoint[v.i, v.j]
            body = self.written_out(d.expr, v.parent)
            if body.has(self.loss) or body.has(sp.Derivative):
                raise Undecidable(f"a derivative inside a derivative: {d}")
            return self.along(body, v)

        if expr.has(sp.Derivative):
            expr = expr.replace(lambda e: isinstance(e, sp.Derivative), derivative)
        return expr

    def compare(
        self, left, right, indices: Sequence[sp.Symbol], wrt, at: Mapping | None = None
    ) -> Equivalence:
        """Decide left == right at every size and point (or only at the size set ``at``),
        both arrays over ``indices`` (which range over the rows and columns of ``wrt``)."""
        start = time.process_time()
        try:
            # Each result's free indices get indices of their own: the evaluator binds
            # an index to one range (p runs over T rows here, over m rows there).
            key = (tuple(indices), wrt.shape)
            if key not in self._free:
                self._free[key] = tuple(
                    sp.Dummy(str(i), integer=True) if isinstance(i, sp.Symbol) else i
                    for i in indices
                )
            own = {i: o for i, o in zip(indices, self._free[key], strict=True) if i != o}
            indices = self._free[key]
            a, b = (self._prepared(side).xreplace(own) for side in (left, right))
            tried = []
            points = [pt for pt in self._points() if at is None or pt.sizes == dict(at)]
            for point in points:
                free = _ranges(indices, wrt, point.sizes)
                x, y = (_array(point.evaluator, side, free) for side in (a, b))
                example = _first_difference(x, y)
                if example is not None:
                    detail = f"differ at {_said(point.sizes)} and a random point: {example}"
                    return Equivalence(
                        False, "tested", "network", time.process_time() - start, detail
                    )
                if _said(point.sizes) not in tried:
                    tried.append(_said(point.sizes))
        except (Undecidable, NotVectorised) as exc:
            detail = f"not evaluated: {exc}"[:300]
            return Equivalence(None, "undecided", "network", time.process_time() - start, detail)
        detail = (
            f"equal to 35 digits at {len(points)} random points "
            f"({'; '.join(tried)}), every stage and ∂L/∂stage from SymPy's diff"
        )
        return Equivalence(True, "tested", "network", time.process_time() - start, detail)


def _adjoint_name(name) -> str:
    return f"∂L/∂{name}"


def _concrete_functions(expr):
    """Every unspecified function φ replaced by its cubic stand-in."""
    if isinstance(expr, sp.MatrixExpr):
        return expr
    expr = sp.sympify(expr)
    undefined = {f.func for f in expr.atoms(AppliedUndef)}
    for f in undefined:
        expr = expr.replace(f, _stand_in(f.__name__))
    return expr


def _array(evaluator, expr, free) -> np.ndarray:
    expr = _concrete_functions(expr)
    return evaluator.array(expr, dict(free))


def _mpfr_array(value):
    """mpmath numbers back to the evaluator's GMP numbers, at its precision."""
    array = np.asarray(value, dtype=object)
    out = np.empty(array.shape, dtype=object)
    with array_evaluation._context():
        for at, x in np.ndenumerate(array):
            out[at] = array_evaluation._number(x)
    return out


def _ranges(indices, wrt, sizes) -> dict:
    shape = [int(sp.sympify(s).subs(sizes)) for s in wrt.shape]
    out = {}
    for index, extent in zip(indices, shape, strict=False):
        if isinstance(index, sp.Symbol):
            out[index] = extent
    return out


def _first_difference(x, y) -> str | None:
    x, y = np.broadcast_arrays(np.asarray(x, dtype=object), np.asarray(y, dtype=object))
    with mpmath.workdps(DIGITS):
        for at, (a, b) in enumerate(zip(x.flat, y.flat, strict=True)):
            if abs(a - b) > TOLERANCE * max(abs(a), abs(b), 1):
                return f"entry {at}: {mpmath.nstr(a, 12)} against {mpmath.nstr(b, 12)}"
    return None


def _rational(rng: random.Random, low: float, high: float) -> sp.Rational:
    lo, hi = int(low * DENOMINATOR), int(high * DENOMINATOR)
    return sp.Rational(rng.randint(lo, hi), DENOMINATOR)


def _said(sizes) -> str:
    return " ".join(f"{k}={v}" for k, v in sizes.items())


# ---------------------------------------------------------------- in the checks
_ROUTES: list[tuple[object, int, NetworkRoute]] = []  # the last few, for the three checks


def route_for(derivation, seed: int = 0) -> NetworkRoute:
    """The route of ``derivation.network`` (points drawn once, shared by the checks)."""
    for known, known_seed, route in _ROUTES:
        if known is derivation and known_seed == seed:
            return route
    network = derivation.network
    if network is None:
        raise ValueError(f"{derivation.slug} has no network")
    route = NetworkRoute(
        derivation.definitions,
        network.loss,
        network.sizes,
        fixed=network.fixed,
        domain=derivation.domain,
        seed=seed,
    )
    _ROUTES[:] = [*_ROUTES[-1:], (derivation, seed, route)]
    return route


def step_verdicts(derivation, seed: int = 0) -> list[tuple[str, int, Step, Equivalence]]:
    """(result label, step number, step, verdict) for every step, by this route."""
    route = route_for(derivation, seed)
    out = []
    for result in derivation.results:
        for number, step in enumerate(result.steps, 1):
            verdict = route.compare(step.before, step.after, result.entry, result.wrt)
            out.append((result.label, number, step, verdict))
    return out


def result_verdicts(derivation, seed: int = 0) -> list[tuple[Result, Equivalence]]:
    """Each result's goal, differentiated stage by stage by SymPy, against its derived
    expression: the ``sympy diff`` check of a network's results."""
    route = route_for(derivation, seed)
    return [
        (result, route.compare(result.goal, result.derived, result.entry, result.wrt))
        for result in derivation.results
    ]


def sizes_said(derivation) -> str:
    """The network's sizes, for a check's detail: 'T=2 n=3 …; T=3 …'."""
    network = derivation.network
    return "; ".join(_said(s) for s in network.sizes) if network is not None else ""


def case_verdicts(
    derivation, case, seed: int = 0
) -> list[tuple[sp.MatrixSymbol, dict, Equivalence]]:
    """A case's gradients (its named stages: the concrete activation, ε a number) against
    SymPy's diff of its forward, stage by stage: (input, size set, verdict) at each of the
    network's sizes, one random point each (the derivation's own results take two)."""
    stages, network = case.stages, derivation.network
    if stages is None or network is None:
        raise ValueError(f"{case.name}: the network route needs the case's stages")
    loss = sp.Dummy("loss")
    forward = stages.forward
    scalar = forward[0, 0] if isinstance(forward, sp.MatrixExpr) else forward
    route = NetworkRoute(
        {**stages.definitions, loss: scalar},
        loss,
        network.sizes,
        fixed={k: v for k, v in case.substitutions.items() if isinstance(k, sp.MatrixSymbol)},
        domain=derivation.domain,
        points=1,
        seed=f"{seed}:{case.name}",
    )
    out = []
    for wrt, gradient in zip(case.wrt, stages.gradients, strict=True):
        p = sp.Dummy("p", integer=True)
        q = sp.Dummy("q", integer=True) if wrt.shape[1] != 1 else sp.S.Zero
        entry = (p, q)
        for sizes in network.sizes:
            verdict = route.compare(
                sp.Derivative(loss, wrt[entry]), gradient[entry], entry, wrt, at=sizes
            )
            out.append((wrt, dict(sizes), verdict))
    return out
