"""Turn the verifier's three kinds of input into :class:`~workbench.verify.points.Problem`\\ s.

* a claim about a function: the true derivative is SymPy's ``diff``, entry by entry, in
  the layout asked for (gradient: the shape of the variable; Jacobian: J[i, j] = ∂fᵢ/∂xⱼ);
* a steps file: each line against the line before it;
* a claim about a catalogue result: the case's closed form, made explicit at each size.

Example:
    >>> import sympy as sp
    >>> x = sp.Symbol("x", real=True)
    >>> derivative(x**2, x, "x", None)[0]
    2*x
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import replace as dc_replace

import sympy as sp

from workbench.errors import ParseError
from workbench.verify.claim_format import unparse
from workbench.verify.interpret import (
    CONSTANTS,
    MissingShape,
    Scope,
    Value,
    build,
    describe,
    is_matrix,
    matrix_uses,
    missing_shapes,
    parse_shape,
    shape,
)
from workbench.verify.latex_input import parse_any
from workbench.verify.parsing import (
    Binary,
    Call,
    Index,
    Kronecker,
    Name,
    Node,
    Number,
    Subscript,
    Sum,
    Transpose,
    Unary,
    walk,
)

MAX_TERMS = 40  # sub-expressions tried as a missing term
MAX_SCALED = 6  # vectors, and scalars, whose products are tried as a missing term
MAX_TRANSPOSED = 8  # factors of a claim tried transposed
LAYOUTS = ("gradient", "jacobian")
CONSTANT_WORDS = {"e": "Euler's number, e = 2.718…", "pi": "π = 3.14159…"}


def parse_input(text: str, source: str, offset: int = 0, sequences: Collection[str] = ()) -> Node:
    """The plain language or LaTeX (:func:`~workbench.verify.latex_input.parse_any`), with
    errors naming the input they come from; ``sequences`` may be called (``g(k)``)."""
    try:
        return parse_any(text, sequences)
    except ParseError as error:
        raise located(error, source, offset) from None


def build_input(node: Node, scope: Scope, source: str, offset: int = 0) -> Value:
    try:
        return build(node, scope)
    except MissingShape as error:  # name every shape missing, not only the first met
        names, operations = matrix_uses(node, scope)
        if names:
            error = MissingShape(missing_shapes(names, operations), error.column)
        raise located(error, source, offset) from None
    except ParseError as error:
        raise located(error, source, offset) from None


def located(error: ParseError, source: str, offset: int = 0) -> ParseError:
    """``error`` prefixed with where it happened, its column shifted by ``offset``."""
    message = str(error)
    if error.column is not None:
        message = message.removesuffix(f" (column {error.column})")
    column = None if error.column is None else error.column + offset
    return ParseError(f"{source}: {message}", column, error.text)


# ---------------------------------------------------------------- derivatives
def derivative(function: Value, variable: Value, name: str, layout: str | None):
    """The true derivative of ``function`` with respect to ``variable``, and its convention.

    Args:
        function: a scalar or a vector (k×1 or 1×k).
        variable: a scalar symbol or a matrix of symbols.
        name: the variable's name, for the convention sentence.
        layout: ``"gradient"``, ``"jacobian"`` or None (gradient for a scalar function,
            Jacobian for a vector function).

    Returns:
        (derivative, convention in words).
    """
    derived, convention = _derivative(function, variable, name, layout)
    return _without_deltas(derived), convention


def _without_deltas(value: Value) -> Value:
    """``value`` with SymPy's DiracDelta terms taken out: d/dx relu(x) is step(x) + x·δ(x),
    and δ is 0 wherever a claim is judged (off every kink, see
    :mod:`workbench.verify.regions`), so the expected value printed is the one checked
    without a term the claim language has no name for."""

    def drop(expr):
        return (
            expr.replace(sp.DiracDelta, lambda *args: sp.S.Zero)
            if expr.has(sp.DiracDelta)
            else expr
        )

    return value.applyfunc(drop) if is_matrix(value) else drop(value)


def _derivative(function: Value, variable: Value, name: str, layout: str | None):
    if is_matrix(function) and 1 not in function.shape:
        raise ParseError(
            f"the function is a {describe(shape(function))} matrix; verify differentiates "
            "scalar and vector functions"
        )
    xs = list(variable) if is_matrix(variable) else [variable]
    if not all(isinstance(x, sp.Symbol) for x in xs):
        # a name the input defines (p = 1/2, then ∂/∂p) is a value, not a variable
        raise ParseError(
            f"cannot differentiate with respect to {name}: it stands for a value here "
            f"({sp.sstr(variable)[:60]}), not a variable"
        )
    if not is_matrix(function):
        if layout != "jacobian" or not is_matrix(variable):
            if not is_matrix(variable):
                return sp.diff(function, variable), "the derivative of a scalar by a scalar"
            rows, cols = variable.shape
            gradient = sp.ImmutableMatrix(rows, cols, [sp.diff(function, x) for x in xs])
            return gradient, (f"gradient layout: ∂f/∂{name} has the shape of {name}, {rows}×{cols}")
        _vector_variable(variable, name)
        row = sp.ImmutableMatrix(1, len(xs), [sp.diff(function, x) for x in xs])
        return row, f"Jacobian layout: a 1×{len(xs)} row, J[0, j] = ∂f/∂{name}ⱼ"
    if is_matrix(variable):
        _vector_variable(variable, name)
    fs = list(function)
    jacobian = sp.ImmutableMatrix(len(fs), len(xs), lambda i, j: sp.diff(fs[i], xs[j]))
    if layout == "gradient":
        return jacobian.T, (
            f"gradient (denominator) layout: G[j, i] = ∂fᵢ/∂{name}ⱼ, {len(xs)}×{len(fs)}"
        )
    return jacobian, f"Jacobian layout: J[i, j] = ∂fᵢ/∂{name}ⱼ, {len(fs)}×{len(xs)}"


def _vector_variable(variable: sp.MatrixBase, name: str) -> None:
    if 1 not in variable.shape:
        raise ParseError(
            f"a Jacobian with respect to the {describe(variable.shape)} matrix {name} would "
            "be a 3-way array; use --layout gradient with a scalar function"
        )


# ---------------------------------------------------------------- names and terms
def names_in(*nodes: Node) -> list[str]:
    """The variable names used, in order of first appearance."""
    seen: dict[str, None] = {}
    for node in nodes:
        indices = _index_names(node)
        for n in walk(node):
            if isinstance(n, Name) and n.name not in CONSTANTS and n.name not in indices:
                seen.setdefault(n.name)
            elif isinstance(n, Subscript) and isinstance(n.base, Name):
                # x_{1} of an undeclared x is the scalar x_1 (index notation, LaTeX input)
                seen.setdefault(n.base.name)
                if not (_names_of(n.indices) & indices):
                    seen.setdefault(f"{n.base.name}_{n.text}")
    return list(seen)


def _index_names(node: Node) -> set[str]:
    """Names used as indices or sizes in index notation: a sum's index and limits, the
    inside of a subscript or of δ. They are numbers, not variables."""
    out: set[str] = set()
    for n in walk(node):
        if isinstance(n, Sum):
            out.add(n.index)
            out |= _names_of([limit for limit in (n.lower, n.upper) if limit is not None])
        elif isinstance(n, Subscript):
            out |= _names_of(n.indices)
        elif isinstance(n, Index):
            out |= _names_of([i for i in n.indices if not isinstance(i, int | None)])
        elif isinstance(n, Kronecker):
            out |= _names_of((n.first, n.second))
    return out


def _names_of(nodes) -> set[str]:
    return {n.name for node in nodes for n in walk(node) if isinstance(n, Name)}


def additive_terms(node: Node) -> list[tuple[str, Node, int]]:
    """``a - b + c`` → [(text, node, sign)]: the claim's own terms, for "extra term"."""
    if isinstance(node, Binary) and node.op in ("+", "-"):
        right_sign = 1 if node.op == "+" else -1
        rest = additive_terms(node.right)
        return additive_terms(node.left) + [(t, n, s * right_sign) for t, n, s in rest]
    if isinstance(node, Unary) and node.op == "-":
        return [(t, n, -s) for t, n, s in additive_terms(node.operand)]
    return [(unparse(node), node, 1)]


def claim_terms(node: Node, scope: Scope) -> tuple[tuple[str, Value], ...]:
    terms = additive_terms(node)
    if len(terms) < 2:
        return ()
    out = []
    for text, term, sign in terms:
        value = build(term, scope)
        out.append((text if sign > 0 else f"−{text}", value if sign > 0 else -value))
    return tuple(out)


def candidate_terms(nodes: list[Node], scope: Scope) -> tuple[tuple[str, Value], ...]:
    """Named sub-expressions, and outer products and diagonals of the vectors among them.

    These are the terms a hand derivation typically drops: ``s @ s.T`` of the softmax
    Jacobian, ``A.T @ x`` of a quadratic form. Simplest (shortest) first.
    """
    pieces: dict[str, tuple[Node, Value]] = {}
    for node in nodes:
        for sub in walk(node):
            if isinstance(sub, Number) or len(pieces) >= MAX_TERMS:
                continue
            text = unparse(sub)
            if text not in pieces:
                try:
                    pieces[text] = (sub, build(sub, scope))
                except ParseError:
                    continue
    terms = {text: value for text, (_, value) in pieces.items()}
    vectors = [(n, v) for n, v in pieces.values() if is_matrix(v) and v.shape[1] == 1]
    scalars = [
        (n, v) for n, v in pieces.values() if not is_matrix(v) and sp.sympify(v).free_symbols
    ]
    # A vector scaled by a scalar the derivation computes: the −p·⟨g, p⟩ that the
    # softmax's vector-Jacobian product subtracts.
    for node, value in vectors[:MAX_SCALED]:
        for other, scalar in scalars[:MAX_SCALED]:
            product = Binary("*", node, other, 0)
            terms.setdefault(unparse(product), value * scalar)
    for node, value in pieces.values():
        if is_matrix(value) and value.shape[0] == value.shape[1]:
            terms.setdefault(unparse(Transpose(node, 0)), value.T)
    for node, value in vectors:
        terms.setdefault(unparse(Call("diag", (node,), 0)), sp.ImmutableMatrix(sp.diag(*value)))
        for other, second in vectors:
            outer = Binary("@", node, Transpose(other, 0), 0)
            terms.setdefault(unparse(outer), value * second.T)
    return tuple(sorted(terms.items(), key=lambda item: len(item[0])))


def transposed_factors(node: Node, scope: Scope) -> tuple[tuple[str, Value], ...]:
    """The claim rebuilt with one square factor transposed: ``P @ G`` → ``P.T @ G``.

    Each name that is a square matrix is tried as its transpose (and ``P.T`` as ``P``),
    one occurrence at a time; what changed is said in words, e.g. "P.T in place of P".
    """
    out: list[tuple[str, Value]] = []
    for sub in walk(node):
        if len(out) >= MAX_TRANSPOSED:
            break
        target = sub.operand if isinstance(sub, Transpose) else sub
        if not isinstance(target, Name):
            continue
        try:
            value = build(target, scope)
        except ParseError:
            continue
        if not is_matrix(value) or value.shape[0] != value.shape[1] or value.shape[0] < 2:
            continue
        new = target if isinstance(sub, Transpose) else Transpose(target, 0)
        try:
            rebuilt = build(_replaced(node, sub, new), scope)
        except ParseError:
            continue
        out.append((f"{unparse(new)} in place of {unparse(sub)}", rebuilt))
    return tuple(out)


def _replaced(node: Node, old: Node, new: Node) -> Node:
    """``node`` with the sub-tree ``old`` (that very object) replaced by ``new``."""
    if node is old:
        return new
    if isinstance(node, Unary | Transpose | Index):
        return dc_replace(node, operand=_replaced(node.operand, old, new))
    if isinstance(node, Binary):
        return dc_replace(
            node, left=_replaced(node.left, old, new), right=_replaced(node.right, old, new)
        )
    if isinstance(node, Call):
        return dc_replace(node, args=tuple(_replaced(a, old, new) for a in node.args))
    if isinstance(node, Subscript):
        return dc_replace(node, base=_replaced(node.base, old, new))
    if isinstance(node, Sum):
        return dc_replace(node, body=_replaced(node.body, old, new))
    return node


def function_call_wrt(node: Node, source: str, offset: int) -> tuple[Node, str]:
    """``diff(F, x)`` → (F, "x")."""
    if not isinstance(node, Call) or node.function != "diff":
        raise ParseError(f"{source}: expected diff(F, x)")
    function, variable = node.args
    if (
        isinstance(variable, Subscript)
        and isinstance(variable.base, Name)
        and all(isinstance(i, Name) for i in variable.indices)
    ):
        # LaTeX's ∂/∂z_j with j free: the derivative with respect to z, entry by entry
        return function, variable.base.name
    if not isinstance(variable, Name):
        raise located(
            ParseError("the second argument of diff must be a variable name", variable.column),
            source,
            offset,
        )
    return function, variable.name


def by_square_of(by_name: Value, variable: Value, name: str) -> Value:
    """∂F/∂(σ²) from ∂F/∂σ: divided by 2σ, on either sign of σ (σ = ±√v gives
    dF/dv = F′(σ)/(2σ) both ways). Only a scalar is differentiated by its square.

    Raises:
        ParseError: ``variable`` is a vector or a matrix.
    """
    if is_matrix(variable) or not isinstance(variable, sp.Symbol):
        raise ParseError(f"a derivative by {name}² is read only for a scalar {name}")
    return by_name / (2 * variable)


def inputs(names: list[str], scope: Scope) -> dict[str, Value]:
    """name → value for the variables used (undeclared ones become scalar symbols)."""
    return {name: scope.lookup(name, 0) for name in names}


def check_layout(layout: str | None) -> None:
    if layout is not None and layout not in LAYOUTS:
        raise ParseError(f"--layout must be gradient or jacobian, not {layout!r}")


def check_wrt(name: str, function_names: list[str], source: str = "--wrt") -> None:
    if not name.isidentifier() or not name.isascii():
        raise ParseError(f"{source}: {name!r} is not a variable name")
    if name in CONSTANTS:
        raise ParseError(f"{source}: {name} is a constant ({CONSTANT_WORDS[name]}), not a variable")
    if name not in function_names:
        known = ", ".join(function_names) or "no variables"
        raise ParseError(f"{source}: the function does not contain {name} (it has {known})")


def shapes_from(declared: Mapping[str, object] | None) -> dict[str, tuple[int, int]]:
    """``{"z": 4, "X": "3x2", "A": (3, 3)}`` → sizes; names must be identifiers."""
    out: dict[str, tuple[int, int]] = {}
    for name, spec in (declared or {}).items():
        if not (name.isidentifier() and name.isascii()) or name.startswith("__"):
            raise ParseError(f"--shape: {name!r} is not a variable name")
        if name in CONSTANTS:
            raise ParseError(
                f"--shape: {name} is a constant ({CONSTANT_WORDS[name]}), not a variable"
            )
        if isinstance(spec, tuple):
            out[name] = parse_shape("x".join(str(int(s)) for s in spec))
        else:
            out[name] = parse_shape(str(spec))
    return out


__all__ = [
    "additive_terms",
    "candidate_terms",
    "claim_terms",
    "derivative",
    "parse_input",
]
