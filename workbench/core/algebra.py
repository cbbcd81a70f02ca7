"""Index-notation algebra: unfold definitions, differentiate, collapse deltas, normalise.

Expressions here use matrix *elements* (``z[i, 0]``, ``W[a, b]``) of ``MatrixSymbol``s,
with integer index symbols and sums whose limits may be symbolic sizes (``n - 1``).
Conventions: size symbols are ``integer=True, positive=True``; index symbols are
``integer=True`` and range over ``0 .. size-1``.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence

import sympy as sp
from sympy.concrete.delta import deltasummation
from sympy.concrete.expr_with_limits import ExprWithLimits
from sympy.matrices.expressions.matexpr import MatrixElement

Definitions = Mapping[sp.Basic, sp.Basic]


# ---------------------------------------------------------------- free symbols
def free_symbols(expr: sp.Basic) -> set[sp.Basic]:
    """The symbols ``expr`` mentions free, as written: what SymPy's ``free_symbols`` gives
    on an expression in normal form, but without its cost on sums.

    SymPy 1.14 masks a sum's variable by rebuilding the whole body (``xreplace`` of the
    variable by itself counts as a change), and rebuilding each ``W[k, l]`` revalidates
    its indices; over index-notation normal forms that was most of their time. Here a
    sum's body is walked once, its variable dropped and its limits' symbols added; nothing
    is rebuilt, so a body such as ``Mul(k, y, 0, evaluate=False)`` still mentions ``y``
    (SymPy's rebuild evaluates it to 0). SymPy itself is left untouched.

    Example:
        >>> k, n, y = sp.symbols("k n y", integer=True)
        >>> sorted(free_symbols(sp.Sum(k * y, (k, 0, n - 1))), key=str)
        [n, y]
    """
    found: set[sp.Basic] = set()
    seen: set[sp.Basic] = set()
    stack = [expr]
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        kind = type(node)
        if isinstance(node, sp.Symbol):
            found.add(node)
        elif kind.free_symbols is ExprWithLimits.free_symbols and all(
            isinstance(limit[0], sp.Symbol) for limit in node.limits
        ):
            inner = free_symbols(node.function)
            for variable, *bounds in node.limits:
                if bounds:
                    inner.discard(variable)
                    for bound in bounds:
                        stack.append(bound)
                else:  # an indefinite limit leaves its variable free, as in SymPy
                    inner.add(variable)
            found |= inner
        elif kind.free_symbols is sp.Basic.free_symbols:
            stack.extend(node.args)
        else:  # a class with its own rule (matrix symbols, derivatives, ...): SymPy's
            found |= node.free_symbols
    return found


# ---------------------------------------------------------------- definitions
def unfold(expr: sp.Basic, definitions: Definitions, keep: Iterable[sp.Basic] = ()) -> sp.Basic:
    """Replace every defined name by its definition, recursively, except those in ``keep``.

    ``definitions`` maps a ``MatrixSymbol`` to a matrix expression of the same shape,
    or a ``Symbol`` to a scalar expression.
    """
    keep = set(keep)
    active = {k: v for k, v in definitions.items() if k not in keep}
    if not active:
        return expr
    expr = _derivatives_at_points(expr, active)
    for _ in range(32):  # definitions nest a few levels deep, never cyclically
        new = expr.replace(
            lambda e: isinstance(e, MatrixElement) and e.parent in active,
            lambda e: active[e.parent][e.i, e.j],
        )
        scalars = {k: v for k, v in active.items() if isinstance(k, sp.Symbol)}
        if scalars:
            new = new.xreplace(scalars)
        if new == expr:
            return new
        expr = new
    raise RecursionError("definitions do not terminate")


def base(e: sp.Basic) -> sp.Basic:
    """The named quantity: ``W`` for ``W[a, b]``, the symbol itself for a scalar."""
    return e.parent if isinstance(e, MatrixElement) else e


def depends_on(name: sp.Basic, variable: sp.Basic, definitions: Definitions) -> bool:
    """Whether the defined ``name`` depends, through its definitions, on ``variable``'s base.

    A walk over which names each definition mentions: the variable may itself be a
    defined name (z = W₂h + b₂), and the walk stops there rather than expanding it.
    (Unfolding the definitions to test this re-evaluated every log and exp on the way,
    most of the time of a step check.)
    """
    target = base(variable)
    seen, stack = set(), [name]
    while stack:
        current = stack.pop()
        if current == target:
            return True
        if current in seen or current not in definitions:
            continue
        seen.add(current)
        stack.extend(_mentioned(definitions[current], definitions, target))
    return False


def _mentioned(expr, definitions: Definitions, target: sp.Basic) -> set[sp.Basic]:
    """The defined names, and ``target``, that ``expr`` mentions."""
    wanted = set(definitions) | {target}
    found = {m for m in expr.atoms(sp.MatrixSymbol) if m in wanted}
    return found | {s for s in free_symbols(expr) if s in wanted}


def names_in(expr: sp.Basic, definitions: Definitions) -> set[sp.Basic]:
    """The defined names that occur in ``expr``."""
    found = {e.parent for e in expr.atoms(MatrixElement) if e.parent in definitions}
    return found | {s for s in free_symbols(expr) if s in definitions}


def unfolded_beyond(expr, present: set, definitions: Definitions) -> sp.Basic:
    """``expr`` with every defined name not in ``present`` unfolded, as often as needed:
    a fact written with a name (Xinv) that a step, or a result, has since written out
    (X⁻¹) is the same fact in the step's terms."""
    expr = sp.sympify(expr)  # a fact's side may be a plain number (p = 1/2)
    for _ in range(16):
        extra = names_in(expr, definitions) - present
        if not extra:
            break
        expr = unfold(expr, {k: definitions[k] for k in extra})
    return expr


def _derivatives_at_points(expr: sp.Basic, names) -> sp.Basic:
    """Derivative(f(u), u) → Subs(Derivative(f(t), t), t, u) when u is about to be unfolded.

    SymPy folds φ′ at a matrix element into Derivative(φ(u), u); once u is replaced by an
    expression that is no longer a valid variable. The Subs form is the same value.
    """

    def at_point(d: sp.Derivative) -> sp.Basic:
        (variable, count), *rest = d.variable_count
        if rest or not isinstance(variable, MatrixElement) or variable.parent not in names:
            return d
        t = sp.Dummy("t")
        return sp.Subs(sp.Derivative(d.expr.xreplace({variable: t}), (t, count)), t, variable)

    if not expr.has(sp.Derivative):
        return expr
    return expr.replace(lambda e: isinstance(e, sp.Derivative), at_point)


def evaluate_derivatives(
    expr: sp.Basic, definitions: Definitions, minimal: bool = False
) -> sp.Basic:
    """Evaluate every ``Derivative`` with SymPy's ``diff``, innermost first.

    The function being differentiated is unfolded down to the variable's own level:
    in ``Derivative(L, o[i, 0])`` the name ``o`` is held fixed (a partial derivative
    in the computation graph), while everything else is expanded.

    With ``minimal``, names that do not depend on the variable stay folded too, so the
    result is as small as possible (what the lazy step check compares).
    """

    def _evaluate(derivative: sp.Derivative) -> sp.Basic:
        variables = [v for v, _ in derivative.variable_count]
        held = {base(v) for v in variables}
        if minimal:
            held |= {
                name
                for name in definitions
                if not any(depends_on(name, v, definitions) for v in variables)
            }
        body = unfold(derivative.expr, definitions, keep=held)
        return sp.diff(body, *[v for v, c in derivative.variable_count for _ in range(c)])

    return expr.replace(lambda e: isinstance(e, sp.Derivative), _evaluate)


def resolve_pair(a: sp.Basic, b: sp.Basic, definitions: Definitions):
    """Evaluate derivatives minimally, then unfold only the names the two sides do not share.

    If the results are equal, so are the fully resolved sides (substituting definitions
    preserves equality); if not, the caller must fall back to :func:`resolve`.
    """
    a = evaluate_derivatives(a, definitions, minimal=True)
    b = evaluate_derivatives(b, definitions, minimal=True)
    for _ in range(16):
        differing = names_in(a, definitions) ^ names_in(b, definitions)
        if not differing:
            break
        step = {k: definitions[k] for k in differing}
        a, b = unfold(a, step), unfold(b, step)
    return a, b


def resolve(expr: sp.Basic, definitions: Definitions) -> sp.Basic:
    """Evaluate derivatives, then unfold every definition: leaves only inputs."""
    return unfold(evaluate_derivatives(expr, definitions), definitions)


# ---------------------------------------------------------------- sums and deltas
def _over_limits(s: sp.Sum, single) -> sp.Basic:
    """Apply ``single(body, limit)`` for each limit of ``s``, innermost first.

    SymPy merges ``Sum(Sum(f, a), b)`` into one ``Sum(f, a, b)``; every operation that
    works one summation variable at a time goes through here.
    """
    body = s.function
    for limit in s.limits:
        body = single(body, limit)
    return body


def _split_single(body: sp.Basic, limit) -> sp.Basic:
    var, lo, hi = limit
    total = sp.Integer(0)
    for term in sp.Add.make_args(sp.expand(body, power_exp=False)):
        const, dep = _split_factors(term, var)
        total += const * (sp.Sum(dep, (var, lo, hi)) if dep != 1 else (hi - lo + 1))
    return total


def _split_factors(term: sp.Basic, var: sp.Symbol) -> tuple[sp.Basic, sp.Basic]:
    """``term.as_independent(var, as_Add=False)`` for a commutative product, deciding
    dependence with :func:`free_symbols` (SymPy's test rebuilds every sum factor)."""
    if not term.is_commutative:
        return term.as_independent(var, as_Add=False)
    const: list[sp.Basic] = []
    dep: list[sp.Basic] = []
    for factor in sp.Mul.make_args(term):
        (dep if var in free_symbols(factor) else const).append(factor)
    return sp.Mul(*const), sp.Mul(*dep)


def split_sums(expr: sp.Basic) -> sp.Basic:
    """Σ(a + b) → Σa + Σb and Σ(c·f) → c·Σf for c free of the summation index."""
    return expr.replace(lambda e: isinstance(e, sp.Sum), lambda e: _over_limits(e, _split_single))


def _collapse_single(body: sp.Basic, limit) -> sp.Basic:
    var = limit[0]
    deltas = body.atoms(sp.KroneckerDelta)
    if not any(var in d.free_symbols for d in deltas):
        return sp.Sum(body, limit)
    total = sp.Integer(0)
    for term in sp.Add.make_args(sp.expand(body, power_exp=False)):
        if any(var in d.free_symbols for d in term.atoms(sp.KroneckerDelta)):
            total += deltasummation(term, limit, no_piecewise=True)
        else:
            total += sp.Sum(term, limit)
    return total


def collapse_deltas(expr: sp.Basic) -> sp.Basic:
    """Σ_k f(k) δ(k, j) → f(j), assuming (by convention) that j lies in the sum's range."""
    return expr.replace(
        lambda e: isinstance(e, sp.Sum) and e.has(sp.KroneckerDelta),
        lambda e: _over_limits(e, _collapse_single),
    )


def strip_delta_ranges(expr: sp.Basic) -> sp.Basic:
    """KroneckerDelta(i, j, (0, n-1)) → KroneckerDelta(i, j): the range is a convention here."""
    return expr.replace(
        lambda e: isinstance(e, sp.KroneckerDelta) and len(e.args) > 2,
        lambda e: sp.KroneckerDelta(e.args[0], e.args[1]),
    )


def rename(expr: sp.Basic, mapping: Mapping[sp.Basic, sp.Basic], *, raw: bool = False) -> sp.Basic:
    """``xreplace`` for renaming index symbols, without re-validating matrix elements.

    Rebuilding ``W[k, l]`` through its constructor asks the assumption system whether
    each symbolic index is in range — most of the time of a normal form. A renamed
    bound variable ranges over the same values, so the element stays valid.

    With ``raw``, sums and products are rebuilt unevaluated (unsorted, uncombined): only
    for intermediate results that are renamed again, which rebuilds them properly.
    """
    if expr in mapping:
        return mapping[expr]
    if expr.is_Atom or not expr.args:
        return expr
    args = tuple(rename(a, mapping, raw=raw) for a in expr.args)
    return expr if args == expr.args else _rebuild(expr, args, raw=raw)


def _rebuild(expr: sp.Basic, args: tuple, *, raw: bool = False) -> sp.Basic:
    """``expr.func(*args)``, but a matrix element whose indices were only renamed skips
    the constructor's range check (see :func:`rename`)."""
    if isinstance(expr, MatrixElement):
        return sp.Expr.__new__(MatrixElement, *args)
    if isinstance(expr, (sp.exp, sp.log)) or (
        raw and isinstance(expr, (sp.Add, sp.Mul, sp.Pow, sp.Function))
    ):
        # Only bound variables were renamed: evaluating again (a cascade of assumption
        # queries) cannot simplify an exp or log that was already evaluated.
        return expr.func(*args, evaluate=False)
    return expr.func(*args)


def freshen(expr: sp.Basic, *, raw: bool = False) -> sp.Basic:
    """Give every summation variable a unique fresh dummy.

    Do this before substituting index expressions into a formula that has sums of its
    own: renaming p → k inside Σ_k … would otherwise capture k. (``raw``: see
    :func:`rename`.)
    """
    if isinstance(expr, sp.Sum):
        body, limits = expr.function, []
        for var, lo, hi in expr.limits:
            new = sp.Dummy("b", integer=True)
            body = rename(body, {var: new}, raw=raw)
            limits.append((new, lo, hi))
        return sp.Sum(freshen(body, raw=raw), *limits)
    if expr.is_Atom or not expr.args:
        return expr
    args = tuple(freshen(a, raw=raw) for a in expr.args)
    return expr if args == expr.args else _rebuild(expr, args, raw=raw)


def canonical(expr: sp.Basic) -> sp.Basic:
    """Rename bound summation variables by nesting depth, so equal sums compare equal.

    Two passes, to rule out capture: every binder first gets a unique fresh dummy, then
    the name ``_s<depth>``. Names continue above any ``_sN`` that occurs free (a piece cut
    out of a larger sum), so they can never collide with one.
    """
    taken = [
        int(s.name[2:])
        for s in free_symbols(expr)
        if isinstance(s, sp.Symbol) and s.name.startswith("_s") and s.name[2:].isdigit()
    ]
    start = 1 + max(taken, default=-1)

    def name(e: sp.Basic, depth: int) -> sp.Basic:
        if isinstance(e, sp.Sum):
            body, limits = e.function, []
            for var, lo, hi in e.limits:
                new = sp.Symbol(f"_s{depth}", integer=True)
                body = rename(body, {var: new})
                limits.append((new, lo, hi))
                depth += 1
            return sp.Sum(name(body, depth), *limits)
        if e.is_Atom or not e.args:
            return e
        args = tuple(name(a, depth) for a in e.args)
        return e if args == e.args else _rebuild(e, args)

    if not expr.has(sp.Sum):
        return expr
    # The fresh names are intermediate: every node that holds one is rebuilt properly
    # when it gets its final name, so the first pass need not sort or combine anything.
    return name(freshen(expr, raw=True), start)


def substitute_fact(expr: sp.Basic, lhs: sp.Basic, rhs: sp.Basic) -> sp.Basic:
    """Replace every occurrence of ``lhs`` by ``rhs``, up to renaming of bound variables.

    ``Σ_k y_k`` inside another sum has a different canonical summation name than on
    its own; comparing each candidate's own canonical form finds it anyway.
    """
    pattern = canonical(lhs)
    if not isinstance(pattern, sp.Sum):
        return expr.xreplace({pattern: rhs})
    return expr.replace(lambda e: isinstance(e, sp.Sum) and canonical(e) == pattern, lambda e: rhs)


def split_exponentials(expr: sp.Basic) -> sp.Basic:
    """exp(a + b − c) → exp(a)·exp(b)·exp(−c); an exponential of a Sum stays whole."""

    def split(e: sp.exp) -> sp.Basic:
        terms = sp.Add.make_args(sp.expand(e.args[0], power_exp=False))
        return sp.Mul(*[sp.exp(t) for t in terms]) if len(terms) > 1 else e

    if not expr.has(sp.exp):
        return expr
    return expr.replace(lambda e: isinstance(e, sp.exp) and isinstance(e.args[0], sp.Add), split)


def flatten_sums(expr: sp.Basic) -> sp.Basic:
    """Σ_a f(a)·Σ_b g(a, b) → Σ_{a,b} f(a)·g(a, b): nested sums as one multi-index sum.

    Bound variables must be unique (see :func:`freshen`), so merging cannot conflate two.
    """

    def merge(e: sp.Sum) -> sp.Basic:
        body = e.function
        if not isinstance(body, sp.Mul):
            return e
        inner = [f for f in body.args if isinstance(f, sp.Sum)]
        if not inner:
            return e
        others = [f for f in body.args if not isinstance(f, sp.Sum)]
        merged = sp.Mul(*others, *[f.function for f in inner])
        limits = [lim for f in inner for lim in f.limits]
        return sp.Sum(merged, *limits, *e.limits)

    return expr.replace(lambda e: isinstance(e, sp.Sum), merge)


def order_limits(expr: sp.Basic) -> sp.Basic:
    """Put a multi-index sum's independent limits in one canonical order.

    Σ_a Σ_b f(a, b) and Σ_b Σ_a f(a, b) are equal; of all orders, the one whose
    canonical form prints first is chosen (sums here have two or three indices).
    """
    import itertools

    def reorder(e: sp.Sum) -> sp.Basic:
        limits = list(e.limits)
        if len(limits) < 2 or len(limits) > 4:
            return e
        variables = {lim[0] for lim in limits}
        if any(lim[1].has(*variables) or lim[2].has(*variables) for lim in limits):
            return e
        candidates = (
            canonical(sp.Sum(e.function, *order)) for order in itertools.permutations(limits)
        )
        return min(candidates, key=sp.srepr)

    return expr.replace(lambda e: isinstance(e, sp.Sum), reorder)


def normalize(expr: sp.Basic) -> sp.Basic:
    """A normal form for index expressions: split sums, collapse deltas, canonical names;
    then nested sums flattened, with their indices in a canonical order."""
    expr = strip_delta_ranges(expr)
    for _ in range(6):
        # Exponentials split into one factor per term (never into a Product over a sum):
        # SymPy then cancels exp(u)·exp(−u) by itself, and factors free of a summation
        # index can leave the sum.
        expanded = sp.expand(split_exponentials(collapse_deltas(split_sums(expr))), power_exp=False)
        new = canonical(split_exponentials(expanded))
        if new == expr:
            break
        expr = new
    if any(isinstance(s, sp.Sum) and s.function.has(sp.Sum) for s in expr.atoms(sp.Sum)):
        expr = canonical(order_limits(flatten_sums(freshen(expr))))
    return expr


# ---------------------------------------------------------------- concrete sizes
def size_symbols(expr: sp.Basic) -> set[sp.Symbol]:
    """Free symbols that are sizes (declared integer and positive)."""
    return {s for s in _all_free(expr) if s.is_integer and s.is_positive}


def index_symbols(expr: sp.Basic) -> set[sp.Symbol]:
    """Free integer symbols that are indices (integer, not declared positive)."""
    return {s for s in _all_free(expr) if s.is_integer and not s.is_positive}


def _all_free(expr: sp.Basic) -> set[sp.Symbol]:
    # Each distinct sub-expression once: an explicit matrix's entries share sub-trees (an
    # adjugate repeats every entry many times), and a walk of the tree visits each copy.
    found, bound = set(), set()
    seen: set[sp.Basic] = set()
    stack = [sp.sympify(expr)]
    while stack:
        e = stack.pop()
        if e in seen:
            continue
        seen.add(e)
        if isinstance(e, sp.Symbol):
            found.add(e)
        elif isinstance(e, sp.Sum | sp.Product):
            bound |= {lim[0] for lim in e.limits}
        stack.extend(e.args)
    return found - bound


def instantiate(expr: sp.Basic, values: Mapping[sp.Symbol, int]) -> sp.Basic:
    """Substitute sizes and indices by integers and expand every sum and delta.

    All at once (``xreplace``): substituting one symbol at a time can rebuild a matrix
    element whose index is already concrete while its shape is still symbolic.
    """
    values = {sp.sympify(k): sp.Integer(v) for k, v in values.items()}
    matrices = {
        m: sp.MatrixSymbol(m.name, *(sp.sympify(d).xreplace(values) for d in m.shape))
        for m in sp.sympify(expr).atoms(sp.MatrixSymbol)
    }
    return sp.sympify(expr).xreplace({**matrices, **values}).doit(deep=True)


def index_assignments(
    indices: Iterable[sp.Symbol], size: int, limit: int = 12, seed: int = 0
) -> list[dict[sp.Symbol, int]]:
    """All assignments of ``indices`` to 0..size-1, or a seeded sample of ``limit`` of them."""
    indices = sorted(indices, key=str)
    combos = list(itertools.product(range(size), repeat=len(indices)))
    if len(combos) > limit:
        import random

        combos = random.Random(seed).sample(combos, limit)
    return [dict(zip(indices, c, strict=True)) for c in combos]


def element_symbols(expr: sp.Basic) -> dict[MatrixElement, sp.Symbol]:
    """Concrete matrix elements ``W[1, 0]`` → plain symbols, for fast numeric work."""
    return {
        e: sp.Symbol(f"{e.parent.name}[{e.i},{e.j}]")
        for e in expr.atoms(MatrixElement)
        if e.i.is_Integer and e.j.is_Integer
    }


def expand_names(expr, definitions: Definitions):
    """In a *matrix* expression, replace defined names by their definitions (recursively).

    Used to turn a closed form written with ``s`` into one written with ``softmax(z)``,
    ready for NumPy.
    """
    for _ in range(32):
        new = expr.xreplace(dict(definitions))
        if new == expr:
            return new
        expr = new
    raise RecursionError("definitions do not terminate")


def expand_names_shared(exprs: Sequence, definitions: Definitions) -> list:
    """:func:`expand_names` for several expressions, each name expanded once and shared.

    A network's names nest a dozen levels deep and each is used several times, so its
    expansion written as a tree is large; as a graph of shared subexpressions it is the
    size of the definitions. Each definition is expanded after the names it mentions and
    reused wherever it occurs, so the cost follows the definitions, not the tree (a
    transformer block's gradients: 7 ms, against a minute for :func:`expand_names`).

    Example:
        >>> import sympy as sp
        >>> x, y, z = (sp.MatrixSymbol(c, 2, 1) for c in "xyz")
        >>> expand_names_shared([z + y], {y: 2 * x, z: y + x})
        [(x + 2*x) + 2*x]
    """
    memo: dict = {}

    def used(body: sp.Basic, itself=None) -> set:
        return {a for a in body.atoms(sp.MatrixSymbol, sp.Symbol) if a in definitions} - {itself}

    def expanded(name: sp.Basic) -> sp.Basic:
        if name not in memo:
            body = definitions[name]
            names = used(body, name)
            memo[name] = body.xreplace({u: expanded(u) for u in names}) if names else body
        return memo[name]

    return [e.xreplace({u: expanded(u) for u in used(e)}) for e in exprs]


def substitute(expr, substitutions: Mapping) -> sp.Basic:
    """Apply a case's substitutions: abstract functions by concrete ones, a matrix by a
    matrix expression (entry by entry, e.g. a mask by all ones), symbols by values."""
    for old, new in substitutions.items():
        if isinstance(old, sp.FunctionClass):
            expr = expr.replace(old, new)
        elif isinstance(old, sp.MatrixSymbol):
            # By name: at concrete sizes the matrix is a new MatrixSymbol of concrete shape.
            expr = expr.replace(
                lambda e, old=old: (
                    isinstance(e, MatrixElement)
                    and isinstance(e.parent, sp.MatrixSymbol)
                    and e.parent.name == old.name
                ),
                lambda e, new=new: new[e.i, e.j],
            )
            if isinstance(expr, sp.MatrixExpr) and not isinstance(expr, sp.MatrixBase):
                expr = expr.xreplace({old: new})
        else:
            expr = expr.xreplace({old: new})
    return expr
