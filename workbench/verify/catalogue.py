"""Check a claim about a catalogue result, written in the derivation's own symbols.

``workbench verify softmax-jacobian --claim "diag(s) - s @ s.T"``: the claim may use the
derivation's inputs (``z``), its defined names (``s``, standing for ``softmax(z)``) and
its sizes (``n``). At each of the case's concrete sizes, the claim is built from explicit
matrices and compared with the case's closed-form gradient made explicit, under the
case's assumptions (e.g. Σ y = 1). Generic: it works for any registered derivation.

Example:
    >>> from workbench.core import registry
    >>> derivation = registry.get("softmax-jacobian")
    >>> verify_catalogue_claim(derivation, "diag(s) - s @ s.T", None, None, 0).verdict
    'correct'
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import replace

import sympy as sp
from sympy.core.function import AppliedUndef
from sympy.matrices.expressions.matexpr import MatrixElement

from workbench.checks.concrete import concrete_assumptions, substitute
from workbench.codegen.claim_text import claim_name, to_claim
from workbench.core import algebra
from workbench.core.derivation import Case, Derivation
from workbench.core.functions import ELEMENTWISE, phi
from workbench.errors import ParseError, WorkbenchError
from workbench.render.latex import expr_to_latex
from workbench.render.unicode_math import to_unicode
from workbench.verify.claim_format import claim_latex, shown_claim
from workbench.verify.decision import compare
from workbench.verify.index_notation import build_top
from workbench.verify.interpret import Scope, Value
from workbench.verify.parsing import Name, walk
from workbench.verify.points import Problem
from workbench.verify.problems import build_input, located, parse_input
from workbench.verify.report import VerifyReport


def _given(value: Value) -> Value:
    """An input's value, as a scope's thunk returns it."""
    return value


def choose_case(derivation: Derivation, wrt: str | None, case: str | None) -> tuple[Case, int]:
    """The case (and the position of ``wrt`` in it) a claim is checked against."""
    cases = [c for c in derivation.cases if case is None or c.name == case]
    if not cases:
        names = ", ".join(repr(c.name) for c in derivation.cases) or "none"
        raise ParseError(f"{derivation.slug} has no case {case!r} (cases: {names})")
    if wrt is None:
        return cases[0], 0
    for candidate in cases:
        for index, symbol in enumerate(candidate.wrt):
            if symbol.name == wrt:
                return candidate, index
    options = sorted({w.name for c in cases for w in c.wrt})
    raise ParseError(
        f"--wrt: {derivation.slug} does not differentiate with respect to {wrt!r} "
        f"(choose from {', '.join(options)})"
    )


def explicit(expr, sizes, case: Case | None):
    """``expr`` at concrete ``sizes`` as an explicit matrix of plain symbols (``z[0,0]``).

    Built from the leaves up: explicit inputs are multiplied, added and transposed as
    explicit matrices, and only the engine's own functions (softmax, elementwise, ...)
    are expanded by ``as_explicit`` once their arguments are explicit. Expanding a whole
    matrix expression with symbolic sums first is orders of magnitude slower.
    """
    concrete = sp.sympify(expr).subs(sizes)
    value = _leaves_up(concrete) if isinstance(concrete, sp.MatrixExpr) else concrete
    if case is not None:
        value = substitute(_symbols(value), case.substitutions)
        value = value.xreplace(_substituted_entries(case, sizes))
    return _symbols(sp.sympify(value).doit())


def _substituted_entries(case: Case, sizes) -> dict:
    """A substituted matrix (a mask → all ones) entry by entry, for the plain symbols
    ``M[0,0]`` that explicit values are written in."""
    out = {}
    for old, new in case.substitutions.items():
        if not isinstance(old, sp.MatrixSymbol):
            continue
        rows, cols = (int(sp.sympify(d).subs(sizes)) for d in old.shape)
        concrete = new.subs(sizes)
        for i in range(rows):
            for j in range(cols):
                out[sp.Symbol(f"{old.name}[{i},{j}]")] = concrete[i, j]
    return out


def _leaves_up(expr):
    if isinstance(expr, sp.MatrixBase):
        return sp.ImmutableMatrix(expr)
    if isinstance(expr, sp.MatrixSymbol):
        rows, cols = (int(d) for d in expr.shape)
        return sp.ImmutableMatrix(rows, cols, lambda i, j: sp.Symbol(f"{expr.name}[{i},{j}]"))
    args = [_leaves_up(a) if isinstance(a, sp.MatrixExpr) else a for a in expr.args]
    if isinstance(expr, sp.MatAdd):
        return sp.ImmutableMatrix(sum(args[1:], args[0]))
    if isinstance(expr, sp.MatMul):
        product = args[0]
        for factor in args[1:]:
            product = product * factor
        return sp.ImmutableMatrix(product)
    if isinstance(expr, sp.Transpose):
        return args[0].T
    if isinstance(expr, sp.Inverse):
        # adjugate/det: exact, one shared denominator. SymPy's own inverse of a symbolic
        # matrix eliminates with a simplify-based pivot search: minutes at n = 4.
        matrix = sp.ImmutableMatrix(args[0])
        return sp.ImmutableMatrix(matrix.adjugate() / matrix.det(method="berkowitz"))
    if isinstance(expr, sp.HadamardProduct):
        product = args[0]
        for factor in args[1:]:
            product = product.multiply_elementwise(factor)
        return product
    rebuilt = expr.func(*args)
    return sp.ImmutableMatrix(rebuilt.as_explicit()).doit()


class _Lazy(Mapping):
    """name → value, each computed on first use (most claims use few of a derivation's names)."""

    def __init__(self, thunks: dict[str, Callable[[], Value]]):
        self._thunks = thunks
        self._values: dict[str, Value] = {}

    def __getitem__(self, name: str) -> Value:
        if name not in self._values:
            self._values[name] = self._thunks[name]()
        return self._values[name]

    def __iter__(self):
        return iter(self._thunks)

    def __len__(self) -> int:
        return len(self._thunks)


def catalogue_scope(derivation: Derivation, case: Case, sizes) -> tuple[Scope, dict[str, Value]]:
    """(scope of every name the claim may use, the inputs) at concrete ``sizes``."""
    defined = {k for k in derivation.definitions if isinstance(k, sp.MatrixSymbol)}
    found = set(case.forward.atoms(sp.MatrixSymbol))
    for gradient in case.gradients:
        found |= gradient.atoms(sp.MatrixSymbol)
    base = sorted(found - defined, key=lambda m: m.name)
    inputs = {m.name: explicit(m, sizes, case) for m in base}
    thunks: dict[str, Callable[[], Value]] = {
        n: functools.partial(_given, v) for n, v in inputs.items()
    }
    _add_names(thunks, derivation, defined, sizes, case)
    return Scope(_Lazy(thunks), open=False, functions=activation(case)), inputs


def _add_names(thunks, derivation, defined, sizes, case: Case | None) -> None:
    """The names a claim may use besides the inputs: the defined matrices, the scalars the
    derivation defines (σ² in layer norm), the parameters the case fixes (λ = 1/2: a closed
    form printed by `workbench show` uses their names) and the sizes."""
    for name in sorted(defined, key=lambda m: m.name):  # expanded on first use only
        thunks[name.name] = functools.partial(
            _explicit_definition, name, derivation.definitions, sizes, case
        )
    for name in sorted(derivation.definitions, key=str):
        if isinstance(name, sp.Symbol) and _is_scalar(derivation.definitions[name]):
            thunks.setdefault(
                name.name,
                functools.partial(_explicit_scalar, name, derivation.definitions, sizes, case),
            )
    _add_fixed(thunks, sizes, case)


def _add_fixed(thunks, sizes, case: Case | None) -> None:
    """The parameters the case fixes (ε = 10⁻⁵) and the sizes, by name."""
    for old, new in (case.substitutions if case is not None else {}).items():
        if isinstance(old, sp.Symbol) and _is_scalar(new):
            thunks.setdefault(old.name, functools.partial(sp.sympify, new))
    for size, number in sizes.items():
        thunks.setdefault(str(size), functools.partial(sp.Integer, number))


def _explicit_definition(name, definitions, sizes, case: Case | None) -> Value:
    """A defined matrix in the inputs alone, written out at ``sizes``."""
    return explicit(algebra.expand_names(name, definitions), sizes, case)


def _explicit_scalar(name, definitions, sizes, case: Case | None) -> Value:
    """A defined scalar in the inputs alone, written out at ``sizes``."""
    return explicit(algebra.resolve(name, definitions), sizes, case)


def _is_scalar(value) -> bool:
    return not isinstance(value, sp.MatrixExpr | sp.MatrixBase)


def activation(case: Case) -> dict[str, Callable]:
    """``phi`` and ``phi_prime`` for a case that substitutes the activation φ.

    φ′ is the engine's named derivative where there is one (ReLU′ is the step with
    H(0) = 0, as in the case's own closed form), else SymPy's derivative of φ.
    """
    function = case.substitutions.get(phi)
    if function is None:
        return {}
    named = [n for n, f in ELEMENTWISE.items() if f is function and f"{n}_prime" in ELEMENTWISE]
    if named:
        return {"phi": function, "phi_prime": ELEMENTWISE[f"{named[0]}_prime"]}
    t = sp.Dummy("t")
    slope = sp.diff(function(t), t)
    return {"phi": function, "phi_prime": lambda u: slope.subs(t, u)}


def _symbols(value):
    """Concrete matrix elements ``z[0, 0]`` → plain symbols; a 1×1 matrix → its entry."""
    if not isinstance(value, sp.MatrixBase | sp.MatrixExpr):
        value = sp.sympify(value)
        return value.xreplace(algebra.element_symbols(value))
    value = sp.ImmutableMatrix(value)
    value = value.xreplace(algebra.element_symbols(value))
    return value[0, 0] if value.shape == (1, 1) else value


def verify_catalogue_claim(
    derivation: Derivation, claim: str, wrt: str | None, case_name: str | None, seed: int
) -> VerifyReport:
    """Compare ``claim`` with the case's closed form at each of its concrete sizes."""
    case, index = choose_case(derivation, wrt, case_name)
    variable = case.wrt[index]
    node = parse_input(claim, "--claim")
    said = shown_claim(claim, node)
    closed = case.gradients[index]
    label = case.results.get(variable)
    shown = derivation.result(label).closed_form if label else closed
    methods, details = set(), []
    for sizes in case.sizes:
        scope, inputs = catalogue_scope(derivation, case, sizes)
        claimed = build_input(node, scope, "--claim")
        facts = _facts(case, sizes)
        where = ", ".join(f"{k} = {v}" for k, v in sizes.items())
        problem = Problem(
            claim=claimed,
            expected=explicit(closed, sizes, case),
            variables=inputs,
            facts=facts,
            domain=derivation.domain,
            wrt=variable.name,
            noun=f"the closed form of {derivation.slug}",
            convention=derivation.conventions,
        )
        outcome = compare(problem, seed, [node], node, scope)
        methods.add(outcome.method)
        details.append(f"{where}: {outcome.method}")
        if outcome.verdict == "incorrect":
            return _wrong_at(derivation, node, said, shown, outcome, where)
    detail = (
        f"case {case.name!r}, ∂/∂{variable.name}, equal at every size ({'; '.join(details)}); "
        f"at {where}: {outcome.detail}"  # the points and regions, at the last size
    )
    return _correct(derivation, node, said, shown, methods, detail)


def _correct(derivation, node, said, shown, methods, detail) -> VerifyReport:
    return VerifyReport(
        verdict="correct",
        method="symbolic" if methods == {"symbolic"} else "numeric",
        parsed_claim=said,
        expected=to_claim(shown),  # in the claim language
        expected_math=to_unicode(shown),
        kind="catalogue",
        claim_latex=claim_latex(node, _matrix_names(derivation)),
        expected_latex=expr_to_latex(shown),
        convention=derivation.conventions,
        detail=detail,
    )


def _matrix_names(derivation) -> set[str]:
    """The derivation's names that hold a vector or a matrix, inputs and defined (for ⊙)."""
    # Unfolding a form replaces defined names by their values, so its matrices are among
    # the form's own and the definitions' values' (unfolding each result of the
    # transformer block writes out the whole block, minutes).
    names = {k.name for k in derivation.definitions if isinstance(k, sp.MatrixSymbol)}
    for value in derivation.definitions.values():
        names |= {m.name for m in sp.sympify(value).atoms(sp.MatrixSymbol)}
    for case in derivation.cases:
        names |= {m.name for m in case.samplers}
    for result in derivation.results:
        for e in (result.closed_form, result.derived):
            names |= {m.name for m in sp.sympify(e).atoms(sp.MatrixSymbol)}
    return names


def _facts(case: Case | None, sizes) -> tuple:
    """The case's assumptions at ``sizes``, in the explicit symbols claims are built in."""
    if case is None:
        return ()
    return tuple((_symbols(lhs), _symbols(rhs)) for lhs, rhs in concrete_assumptions(case, sizes))


def _wrong_at(derivation, node, said, shown, outcome, where: str) -> VerifyReport:
    """The report of a claim found wrong at the sizes ``where``."""
    return VerifyReport(
        verdict="incorrect",
        method=outcome.method,
        parsed_claim=said,
        expected=to_claim(shown),  # in the claim language
        expected_math=to_unicode(shown),
        counterexample=dict(outcome.counterexample or {}, sizes=where),
        diagnosis=outcome.diagnosis,
        kind="catalogue",
        claim_latex=claim_latex(node, _matrix_names(derivation)),
        expected_latex=expr_to_latex(shown),
        convention=derivation.conventions,
        detail=f"at {where}: {outcome.detail}",
    )


# ---------------------------------------------------------------- any result, by label
def find_result(derivation: Derivation, label: str):
    """The result called ``label``, written as printed (``∂L/∂P``) or in ASCII (``dL/dP``)."""
    wanted = _ascii(label)
    for result in derivation.results:
        if label == result.label or wanted == _ascii(result.label):
            return result
    if label.isdigit() and 1 <= int(label) <= len(derivation.results):
        return derivation.results[int(label) - 1]  # in the order `workbench show` prints them
    labels = ", ".join(f"{k} {_ascii(r.label)!r}" for k, r in enumerate(derivation.results, 1))
    raise ParseError(
        f"--result: {derivation.slug} has no result {label!r}; give a label or a number ({labels})"
    )


_ASCII = str.maketrans(
    {"∂": "d", "ᵢ": "i", "ⱼ": "j", "ₜ": "t", "ᵀ": "T", "²": "2", "₁": "1", "₂": "2", "ₖ": "k"}
)


def _ascii(label: str) -> str:
    """A label typed on any keyboard: ∂L/∂W₁ → dL/dW1, ∂sᵢ/∂zⱼ → dsi/dzj."""
    return label.translate(_ASCII).replace(" ", "")


def verify_result_claim(derivation: Derivation, claim: str, label: str, seed: int) -> VerifyReport:
    """Compare ``claim`` with the closed form of any result of ``derivation`` — one that
    no case instantiates too — at the sizes the SymPy-diff check writes it out at (a
    case's own, or small ones of its own), in the derivation's symbols. A closed form in
    index notation with free indices is the vector (matrix) over them."""
    # lazy: the settings are the SymPy-diff check's, loaded only for this route
    from workbench.checks.sympy_diff import result_settings

    result = find_result(derivation, label)
    forms = _forms(derivation, result)
    sequences = _sequences(forms)
    node = parse_input(claim, "--claim", sequences=sequences)
    said = shown_claim(claim, node)
    shown = result.closed_form
    if isinstance(shown, MatrixElement) and isinstance(shown.parent, sp.MatrixExpr):
        shown = shown.parent  # as `workbench show` prints it: M[j, 0] is not claim language
    settings = result_settings(derivation, result)
    kept = _defined_names_used(derivation, result)
    as_given = (
        _with_names_as_given(derivation, result, node, kept, settings, seed) if kept else None
    )
    if isinstance(as_given, tuple):
        methods, detail = as_given
        return _correct(derivation, node, said, shown, methods, detail)
    names = ", ".join(claim_name(k.name) for k in kept)
    own, are = ("inputs of their own", "are") if len(kept) > 1 else ("an input of its own", "is")

    def no_verdict(why: str) -> VerifyReport:
        return VerifyReport(
            "undecided",
            None,
            said,
            to_claim(shown),
            kind="catalogue",
            detail=f"with {names} as {own}, the claim differs from the closed form of "
            f"{result.label} at {as_given}; it could still hold through what {names} {are}, "
            f"and {why}",
        )

    unknown_phi = any(f.has(phi) for f in forms) and not any(
        case is not None and activation(case) for case, _ in settings
    )
    if as_given is not None and unknown_phi:  # no test point can give φ a value
        return no_verdict("written out over the inputs, φ, which no case fixes, has no value")
    try:
        return _written_out(derivation, result, node, said, shown, forms, settings, seed)
    except WorkbenchError as error:
        if as_given is None:
            raise
        return no_verdict(f"writing them out gave no verdict: {error}")


def _written_out(derivation, result, node, said, shown, forms, settings, seed) -> VerifyReport:
    """The claim against the closed form with every defined name written out over the
    inputs, at each of ``settings``."""
    sequences = _sequences(forms)
    matrices = _input_matrices(derivation, forms)
    methods, details, outcome, where = set(), [], None, ""
    for case, given in settings:
        sizes = _completed(given, matrices)
        scope, inputs = _result_scope(derivation, result, forms, matrices, case, sizes)
        scope = replace(scope, functions={**scope.functions, **sequences})
        expected = _closed_form_at(result, derivation.definitions, sizes, case)
        for symbol in sorted(_step_symbols(expected), key=str):  # g(1), g(2): inputs too
            inputs.setdefault(symbol.name, symbol)
        claimed = _claimed(node, scope, expected, result, derivation.definitions)
        facts = _facts(case, sizes)
        where = ", ".join(f"{k} = {v}" for k, v in sizes.items()) or "no sizes"
        problem = Problem(
            claim=claimed,
            expected=expected,
            variables=inputs,
            facts=facts,
            domain=derivation.domain,
            noun=f"the closed form of {result.label}",
            convention=derivation.conventions,
        )
        outcome = compare(problem, seed, [node], node, scope)
        methods.add(outcome.method)
        details.append(f"{where}: {outcome.method}")
        if outcome.verdict == "incorrect":
            return _wrong_at(derivation, node, said, shown, outcome, where)
    assert outcome is not None  # result_settings gives at least one setting
    detail = (
        f"{result.label}: equal at every size ({'; '.join(details)}); at {where}: {outcome.detail}"
    )
    return _correct(derivation, node, said, shown, methods, detail)


def _defined_names_used(derivation, result) -> list[sp.Basic]:
    """The defined matrices and scalars a result's closed form is written in (U, dZ, σ²)."""
    closed = sp.sympify(result.closed_form)
    used = closed.atoms(sp.MatrixSymbol) | closed.free_symbols
    return sorted((k for k in derivation.definitions if k in used), key=str)


def _with_names_as_given(derivation, result, node, kept, settings, seed):
    """(methods, detail) if the claim equals the closed form with the defined names it is
    written in (``kept``) taken as matrices (scalars) of their own, whatever their values:
    then it equals it for the values the definitions give them too. Else None: the claim
    may still be right through what the names are (rows of P sum to 1), which only the
    names written out can tell: the sizes where it was not shown equal (a str), or None
    where the claim cannot be read with the names alone.

    A transformer block's results are written in the names of the stages above them (U,
    dZ, dH₂, …); written out over the block's inputs, each is the whole block, far beyond
    any time limit."""
    methods, details, unknown = set(), [], False
    closed = sp.sympify(result.closed_form)
    for case, given in settings:
        leaves = _input_matrices(derivation, [closed])
        sizes = _completed(given, leaves)
        leaves |= {k for k in kept if isinstance(k, sp.MatrixSymbol)}
        inputs: dict[str, Value] = {
            m.name: explicit(m, sizes, case) for m in sorted(leaves, key=lambda m: m.name)
        }
        fixed = set(case.substitutions) if case is not None else set()
        for s in closed.free_symbols - set(sizes) - fixed:
            if isinstance(s, sp.Symbol) and not s.is_integer:
                inputs.setdefault(claim_name(s.name), s)
        thunks: dict[str, Callable[[], Value]] = {
            n: functools.partial(_given, v) for n, v in inputs.items()
        }
        _add_fixed(thunks, sizes, case)
        functions = (activation(case) if case is not None else {}) or _named_functions()
        scope = Scope(_Lazy(thunks), open=False, functions=functions)
        try:
            expected = _closed_form_at(result, {}, sizes, case)
            claimed = _claimed(node, scope, expected, result, {})
        except (ParseError, KeyError):  # the claim uses a name the closed form does not
            return None
        if case is None or not activation(case):
            opaque = _opaque_activations(expected, claimed)
            expected, claimed = expected.xreplace(opaque), claimed.xreplace(opaque)
            inputs.update({v.name: v for v in opaque.values()})
            unknown |= bool(opaque)
        where = ", ".join(f"{k} = {v}" for k, v in sizes.items()) or "no sizes"
        problem = Problem(
            claim=claimed,
            expected=expected,
            variables=inputs,
            facts=_facts(case, sizes),
            domain=derivation.domain,
            noun=f"the closed form of {result.label}",
            convention=derivation.conventions,
        )
        try:
            outcome = compare(problem, seed, [node], node, scope)
        except (ValueError, TypeError):  # φ′ of no particular φ has no value at a point
            return None  # the route below decides, or says why it cannot
        if outcome.verdict != "correct":
            return where  # where they differ, or no verdict was reached
        methods.add(outcome.method)
        details.append(f"{where}: {outcome.method}")
    names = ", ".join(claim_name(k.name) for k in kept)
    if unknown:  # φ of no particular form
        names += " and φ, φ′ at each entry"
    own = "inputs of their own" if len(kept) > 1 or unknown else "an input of its own"
    detail = (
        f"{result.label}: equal at every size ({'; '.join(details)}) with {names} as "
        f"{own}: equal whatever their values, so also for the values their definitions "
        f"give them"
    )
    return methods, detail


def _named_functions() -> dict[str, Callable]:
    """φ and φ′ of no particular form, where no case says which activation: as the
    closed form writes them (φ′(u) is SymPy's derivative of φ at u)."""
    return {"phi": ELEMENTWISE["phi"], "phi_prime": ELEMENTWISE["phi_prime"]}


def _opaque_activations(*values) -> dict:
    """φ(u) and φ′(u) of no particular φ, each as a symbol of its own, an input like u:
    two sides equal whatever those values are are equal for every φ. (A test point cannot
    give SymPy's derivative of an unknown φ a value.)"""
    found: dict = {}
    for value in values:
        for atom in sp.sympify(value).atoms(sp.Subs, sp.Derivative, AppliedUndef):
            # φ′ at u: Subs(dφ(t)/dt, t, u), or dφ(u)/du once SymPy has folded it
            slope = atom.expr if isinstance(atom, sp.Subs) else atom
            if isinstance(slope, sp.Derivative) and slope == sp.Derivative(
                phi(slope.variables[0]), slope.variables[0]
            ):
                at = atom.point[0] if isinstance(atom, sp.Subs) else slope.variables[0]
                found[atom] = sp.Symbol(f"phi_prime({sp.sstr(at)})")
            elif isinstance(atom, AppliedUndef) and atom.func == phi:
                found.setdefault(atom, sp.Symbol(f"phi({sp.sstr(atom.args[0])})"))
    return found


def _closed_form_at(result, definitions, sizes, case: Case | None) -> Value:
    """The closed form at concrete sizes, explicit: a matrix expression entry by entry; an
    index-notation form over its free indices (one: a column, two: a matrix)."""
    # In the inputs alone, as the claim is built (a defined name stands for its value).
    closed = algebra.expand_names(result.closed_form, definitions)
    if isinstance(closed, sp.MatrixExpr):
        return explicit(closed, sizes, case)
    indices = sorted(algebra.index_symbols(closed), key=str)
    if isinstance(closed, MatrixElement) and isinstance(closed.parent, sp.MatrixExpr):
        return _entries_of(closed, indices, sizes, case)
    concrete = algebra.instantiate(closed, sizes) if sizes else closed
    if not indices:
        return _finished(concrete, case)
    if len(indices) > 2:
        raise ParseError(f"{result.label} has more than two free indices")
    # lazy: the ranges the SymPy-diff check uses for the same write-out
    from workbench.checks.sympy_diff import index_ranges

    # The entry's range is the goal's where the goal is that entry (the rows of T in
    # (T u)ᵢ): in the closed form the index may stand only inside an offset, u[i + j].
    entries = {e.i for e in result.goal.atoms(MatrixElement)}
    entries |= {e.j for e in result.goal.atoms(MatrixElement)}
    ranges = index_ranges(result.goal if set(indices) <= entries else closed, indices, sizes)
    rows, cols = (ranges[0], ranges[1]) if len(ranges) == 2 else (ranges[0], 1)
    return sp.ImmutableMatrix(
        rows,
        cols,
        lambda r, c: _finished(
            concrete.xreplace(dict(zip(indices, (r, c)[: len(indices)], strict=True))), case
        ),
    )


def _entries_of(element: MatrixElement, indices, sizes, case: Case | None) -> Value:
    """An entry ``M[i, j]`` of a matrix expression over its free indices: ``M`` written
    out from its leaves up (:func:`explicit`), then indexed. Taking the entry first and
    letting SymPy expand it symbolically (a matrix product's sum over entries of an
    inverse) computes the same numbers orders of magnitude more slowly."""
    matrix = explicit(element.parent, sizes, case)
    if not isinstance(matrix, sp.MatrixBase):
        matrix = sp.ImmutableMatrix([[matrix]])
    if not indices:
        return matrix[int(element.i), int(element.j)]
    # lazy: the ranges the SymPy-diff check uses for the same write-out
    from workbench.checks.sympy_diff import index_ranges

    ranges = index_ranges(element, indices, sizes)
    rows, cols = (ranges[0], ranges[1]) if len(ranges) == 2 else (ranges[0], 1)

    def entry(r: int, c: int):
        at = dict(zip(indices, (r, c)[: len(indices)], strict=True))
        return matrix[int(element.i.xreplace(at)), int(element.j.xreplace(at))]

    return sp.ImmutableMatrix(rows, cols, entry)


def _claimed(node, scope: Scope, expected: Value, result, definitions) -> Value:
    """The claim at these sizes. Where it writes the closed form's free index (the i of
    ``sum(u[i + j]*w[j] for j in 0..K-1)``, entry i), it is taken over the index as the
    closed form is: entry r is the claim with i = r (from 0, as `workbench show` prints
    the entry; the same position in LaTeX's u_{i+j})."""
    closed = algebra.expand_names(result.closed_form, definitions)
    indices = sorted(algebra.index_symbols(closed), key=str)
    written = {n.name for n in walk(node) if isinstance(n, Name)}
    named = [s for s in indices if s.name in written and s.name not in scope.values]
    if not named or not isinstance(expected, sp.MatrixBase):
        return _over_free_indices(
            build_input(node, scope, "--claim"), expected, result, definitions
        )

    def entry(r: int, c: int) -> Value:
        at = dict(zip(indices, (r, c)[: len(indices)], strict=True))
        bound = {**(scope.bound or {}), **{s.name: (at[s], 0) for s in indices}}
        try:
            value = build_top(node, replace(scope, bound=bound))
        except ParseError as error:
            raise located(error, "--claim") from None
        if isinstance(value, sp.MatrixBase):
            raise ParseError(
                f"--claim: with the free index {', '.join(s.name for s in named)} each entry "
                f"must be a scalar, but this one is {value.rows}×{value.cols}"
            )
        return value

    return sp.ImmutableMatrix(expected.rows, expected.cols, entry)


def _sequences(forms) -> dict[str, Callable]:
    """The sequences over time steps the forms use (g(k) of an arbitrary g), by name: the
    value at a whole step k is the symbol ``g(k)``, as the closed form is written out."""
    found = {
        e.func.__name__: functools.partial(_step_value, e.func.__name__)
        for form in forms
        for e in sp.sympify(form).atoms(AppliedUndef)
        if len(e.args) == 1
    }
    return dict(sorted(found.items()))


def _step_value(name: str, step) -> Value:
    if not getattr(step, "is_Integer", False):
        raise ParseError(
            f"{name}(k) is the value at a whole step k, not at {sp.sstr(step)} (write "
            f"sum(... {name}(k) ... for k in 1..t))"
        )
    return sp.Symbol(f"{name}({int(step)})", real=True)


def _as_step_symbols(value):
    """g(3) of an arbitrary g at a whole step → the symbol ``g(3)`` the claim uses."""
    steps = {
        e: _step_value(e.func.__name__, e.args[0])
        for e in sp.sympify(value).atoms(AppliedUndef)
        if len(e.args) == 1 and e.args[0].is_Integer
    }
    return value.xreplace(steps) if steps else value


def _step_symbols(value) -> set[sp.Symbol]:
    entries = list(value) if isinstance(value, sp.MatrixBase) else [sp.sympify(value)]
    return {s for e in entries for s in e.free_symbols if "(" in s.name}


def _over_free_indices(claimed: Value, expected: Value, result, definitions) -> Value:
    """A scalar claim about a closed form with free indices (through a defined name such
    as C_x, a sum at frequency q) taken over them as the closed form is; one in which they
    vanished (SymPy evaluates sin(πqn) to 0 for whole q, n) is that value at every index."""
    closed = algebra.expand_names(result.closed_form, definitions)
    indices = sorted(algebra.index_symbols(closed), key=str)
    if isinstance(claimed, sp.MatrixBase) or not isinstance(expected, sp.MatrixBase):
        return claimed
    if not indices:
        return claimed
    return sp.ImmutableMatrix(
        expected.rows,
        expected.cols,
        lambda r, c: _symbols(
            sp.sympify(claimed)
            .xreplace(dict(zip(indices, (r, c)[: len(indices)], strict=True)))
            .doit()
        ),
    )


def _finished(value, case: Case | None):
    """Sums done, a case's substitutions made, entries as plain symbols."""
    if case is not None:
        value = substitute(value, case.substitutions)
    return _as_step_symbols(_symbols(sp.sympify(value).doit()))


def _forms(derivation, result) -> list[sp.Basic]:
    """A result's closed form and derived expression, and the definitions of every
    defined name they reach, directly or through other definitions: what its inputs are
    read from. (The names, functions and symbols of the forms with every defined name
    unfolded are among these; unfolding itself writes a transformer block's result out as
    the whole block, minutes.)"""
    definitions = derivation.definitions
    exprs = [sp.sympify(result.closed_form), sp.sympify(result.derived)]
    seen: set[sp.Basic] = set()
    pending = list(exprs)
    while pending:
        reached = pending.pop()
        for name in reached.atoms(sp.MatrixSymbol) | reached.free_symbols:
            if name in definitions and name not in seen:
                seen.add(name)
                pending.append(_generic_entry(definitions[name]))
    return exprs + [_generic_entry(definitions[name]) for name in sorted(seen, key=str)]


def _generic_entry(value) -> sp.Basic:
    """A definition as unfolding writes it into an entry: a matrix's entry at integer
    dummy indices (φ(a)'s entry is φ(aᵢⱼ), a function of one argument)."""
    if isinstance(value, sp.MatrixExpr):
        i, j = sp.Dummy("i", integer=True), sp.Dummy("j", integer=True)
        return sp.sympify(value[i, j])
    return sp.sympify(value)


def _input_matrices(derivation, forms) -> set[sp.MatrixSymbol]:
    """The input matrices the forms rest on (not the defined ones)."""
    defined = {k for k in derivation.definitions if isinstance(k, sp.MatrixSymbol)}
    return {m for e in forms for m in e.atoms(sp.MatrixSymbol)} - defined


def _completed(sizes, matrices) -> dict:
    """``sizes`` with a value for every size symbol the matrices' shapes use (3, 4, ...:
    distinct, so a transposed size shows) where the setting gives none."""
    out = dict(sizes)
    missing = sorted(
        {s for m in matrices for d in m.shape for s in sp.sympify(d).free_symbols} - set(out),
        key=str,
    )
    for offset, symbol in enumerate(missing):
        out[symbol] = 3 + offset
    return out


def _result_scope(derivation, result, forms, matrices, case: Case | None, sizes):
    """(scope, inputs) for a claim about ``result``: the matrices and scalars its
    ``forms`` rest on, its defined names, the sizes."""
    definitions = derivation.definitions
    defined = {k for k in definitions if isinstance(k, sp.MatrixSymbol)}
    inputs: dict[str, Value] = {
        m.name: explicit(m, sizes, case) for m in sorted(matrices, key=lambda m: m.name)
    }
    skip = algebra.index_symbols(result.closed_form) | set(sizes) | set(definitions)
    if case is not None:  # a parameter the case fixes (λ = 1/2) is its value, not an input
        skip |= {old for old in case.substitutions if isinstance(old, sp.Symbol)}
    for e in forms:
        for s in e.free_symbols:
            if isinstance(s, sp.Symbol) and s not in skip and not s.is_integer:
                inputs.setdefault(claim_name(s.name), s)  # f^{(5)} is written with primes
    thunks: dict[str, Callable[[], Value]] = {
        n: functools.partial(_given, v) for n, v in inputs.items()
    }
    for name, value in list(inputs.items()):  # f''' as the LaTeX reader names it: f_prime3
        primes = len(name) - len(name.rstrip("'"))
        if primes:
            alias = name.rstrip("'") + "_prime" + (str(primes) if primes > 1 else "")
            thunks.setdefault(alias, functools.partial(_given, value))
    _add_names(thunks, derivation, defined, sizes, case)
    functions = {} if case is None else activation(case)
    return Scope(_Lazy(thunks), open=False, functions=functions), inputs
