"""From a parse tree to SymPy, at concrete sizes, with shapes checked as it goes.

Every matrix is explicit (``sp.ImmutableMatrix`` of symbols named like ``X[0,1]``),
so ``@``, ``.T``, ``det``, ``inv`` and elementwise functions are ordinary SymPy
operations and SymPy's ``diff`` gives the true derivative entry by entry. A 1×1
result counts as a scalar. ``*``, ``/`` and ``**`` act elementwise on matrices, with a
scalar broadcast to every entry (NumPy's convention); ``@`` is the matrix product.

Numbers are exact. Exponents are bounded before SymPy sees them: a power of two
integers is computed in C and cannot be interrupted, so ``9**9**9**9`` must be refused,
not attempted.

Example:
    >>> from workbench.verify.parsing import parse
    >>> scope = Scope(declare({"x": (2, 1)}))
    >>> build(parse("x.T @ x"), scope)
    x[0]**2 + x[1]**2
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, TypeAlias

import sympy as sp

from workbench.core.functions import ELEMENTWISE
from workbench.errors import ParseError
from workbench.verify.parsing import (
    FUNCTIONS,
    Binary,
    Call,
    Derivative,
    Index,
    Name,
    Node,
    Number,
    Subscript,
    Transpose,
    Unary,
    walk,
)

# A SymPy scalar (sp.Expr) or matrix (sp.ImmutableMatrix). SymPy's classes carry too few
# annotations for their arithmetic to be checked, so the alias is Any to the type checker.
Value: TypeAlias = Any
Shape = tuple[int, int]

MAX_SIZE = 10  # rows or columns of a declared matrix, and n in eye(n)
MAX_EXPONENT = 100  # |p| in x**p for a number p
MAX_BITS = 20_000  # bits of an exact number produced by a power of numbers

# Scalar functions, applied entrywise to a matrix. ReLU′ is the step with H(0) = 0.
SCALAR_FUNCTIONS: dict[str, Callable[[sp.Expr], sp.Expr]] = {
    "exp": sp.exp,
    "log": sp.log,
    "sqrt": sp.sqrt,
    "sin": sp.sin,
    "cos": sp.cos,
    "tanh": sp.tanh,
    "sigmoid": ELEMENTWISE["sigmoid"],
    "relu": ELEMENTWISE["relu"],
    "step": ELEMENTWISE["step"],
    "abs": sp.Abs,
    "sign": sp.sign,
    "tanh_prime": ELEMENTWISE["tanh_prime"],
    "sigmoid_prime": ELEMENTWISE["sigmoid_prime"],
    "relu_prime": ELEMENTWISE["relu_prime"],
    "square": ELEMENTWISE["square"],
    "erf": sp.erf,
    "cosh": sp.cosh,
    "sinh": sp.sinh,
    "atan": sp.atan,
    "softplus": lambda x: sp.log(1 + sp.exp(x)),
    "log_sigmoid": lambda x: -sp.log(1 + sp.exp(-x)),
    # GELU, exact (x·Φ(x)) and PyTorch's tanh approximation (approximate="tanh").
    "gelu": lambda x: x * (1 + sp.erf(x / sp.sqrt(2))) / 2,
    "gelu_tanh": lambda x: (
        x * (1 + sp.tanh(sp.sqrt(2 / sp.pi) * (x + sp.Rational(44715, 1000000) * x**3))) / 2
    ),
}

# Functions that only a scope can define: the activation of a catalogue case.
SCOPED_FUNCTIONS = ("phi", "phi_prime")


# The constants of the claim language; every other undeclared name is a real variable.
CONSTANTS: dict[str, sp.Expr] = {"e": sp.E, "pi": sp.pi}


@dataclass(frozen=True)
class Scope:
    """The names an expression may use.

    Attributes:
        values: name → value (a scalar expression or an explicit matrix).
        open: when True, an undeclared name is a real scalar symbol; when False it is
            an error (a catalogue claim must use the derivation's own names).
        functions: scalar functions this scope defines, applied entrywise, e.g. ``phi``
            and ``phi_prime`` for the activation of a catalogue case.
    """

    values: Mapping[str, Value]
    open: bool = True
    functions: Mapping[str, Callable[[sp.Expr], sp.Expr]] = field(default_factory=dict)
    # Index notation (LaTeX input): index name → (its value, the value that is the first
    # position: 0 or 1), and size names (the n of \sum_{k=1}^{n}) → (size, 1). None until
    # the top of an expression has been looked at (see index_notation.py).
    bound: Mapping[str, tuple[int, int]] | None = None

    def lookup(self, name: str, column: int) -> Value:
        if self.bound and name in self.bound:
            return sp.Integer(self.bound[name][0])
        if name in self.values:
            return self.values[name]
        if name in CONSTANTS:  # after the values: a catalogue result may name a size e
            return CONSTANTS[name]
        if self.open and "'" in name:
            raise ParseError(
                f"{name}: a prime marks a derivative of an unspecified function (f''' of "
                "finite-difference-error), known only in a catalogue result that names one; "
                f"for the transpose write {name.rstrip(chr(39))}.T",
                column,
            )
        if self.open:
            return sp.Symbol(name, real=True)
        if name in self.functions:
            raise ParseError(
                f"{name} is a sequence over time steps: write {name}(k) for its value at step k "
                f"({name}_k in LaTeX)",
                column,
            )
        known = ", ".join(sorted(self.values)) or "none"
        raise ParseError(f"unknown name {name!r} (known names: {known})", column)


def declare(shapes: Mapping[str, Shape]) -> dict[str, Value]:
    """Explicit matrices of real symbols: ``z`` (3×1) has entries ``z[0]``, ``z[1]``, ...

    Example:
        >>> declare({"A": (2, 2)})["A"][0, 1]
        A[0,1]
    """
    values: dict[str, Value] = {}
    for name, (rows, cols) in shapes.items():
        if (rows, cols) == (1, 1):
            values[name] = sp.Symbol(name, real=True)
        elif cols == 1:
            values[name] = sp.ImmutableMatrix(
                rows, 1, lambda i, j, name=name: sp.Symbol(f"{name}[{i}]", real=True)
            )
        else:
            values[name] = sp.ImmutableMatrix(
                rows, cols, lambda i, j, name=name: sp.Symbol(f"{name}[{i},{j}]", real=True)
            )
    return values


def parse_shape(spec: str) -> Shape:
    """``"4"`` → (4, 1), a column vector; ``"3x2"`` → (3, 2)."""
    parts = spec.lower().replace("×", "x").split("x")
    if not 1 <= len(parts) <= 2 or not all(p.isdigit() for p in parts):
        raise ParseError(f"shape {spec!r} is not N or MxN, e.g. 4 or 3x2")
    rows, cols = (int(parts[0]), 1) if len(parts) == 1 else (int(parts[0]), int(parts[1]))
    if not (1 <= rows <= MAX_SIZE and 1 <= cols <= MAX_SIZE):
        raise ParseError(f"shape {spec!r}: sizes from 1 to {MAX_SIZE} are supported")
    return rows, cols


def shape(value: Value) -> Shape:
    """(rows, cols); (1, 1) for a scalar."""
    return tuple(value.shape) if isinstance(value, sp.MatrixBase) else (1, 1)


def describe(dims: Shape) -> str:
    """``(3, 1)`` → ``"3×1"``; ``(1, 1)`` → ``"a scalar"``."""
    return "a scalar" if dims == (1, 1) else f"{dims[0]}×{dims[1]}"


def is_matrix(value: Value) -> bool:
    return isinstance(value, sp.MatrixBase)


def _settled(value: Value) -> Value:
    """A 1×1 matrix counts as a scalar."""
    if isinstance(value, sp.MatrixBase):
        if value.shape == (1, 1):
            return value[0, 0]
        return sp.ImmutableMatrix(value)
    return value


def build(node: Node, scope: Scope) -> Value:
    """The SymPy value of ``node`` in ``scope``.

    Raises:
        ParseError: for shapes that do not fit (with the operator's column), unknown
            names in a closed scope, or numbers too large to compute.
    """
    if scope.bound is None:
        scope = replace(scope, bound={})
        if TOP_LEVEL:  # index notation: sizes named, free indices made a vector
            return _settled(TOP_LEVEL[0](node, scope))
    return _settled(_BUILDERS[type(node)](node, scope))


# The meaning of index notation (Subscript, Sum, Kronecker, Derivative), which only LaTeX
# input writes: registered by workbench.verify.index_notation, which builds on this module.
TOP_LEVEL: list[Callable[[Node, Scope], Value]] = []


def _number(node: Number, scope: Scope) -> Value:
    value = node.value
    return sp.Rational(value.numerator, value.denominator)


def _name(node: Name, scope: Scope) -> Value:
    return scope.lookup(node.name, node.column)


def _unary(node: Unary, scope: Scope) -> Value:
    operand = build(node.operand, scope)
    return -operand if node.op == "-" else operand


def _transpose(node: Transpose, scope: Scope) -> Value:
    operand = build(node.operand, scope)
    _shaped(node.operand, operand, scope, ".T", node.column)
    return operand.T if is_matrix(operand) else operand


def _index(node: Index, scope: Scope) -> Value:
    """An entry, a row or a column, 0-based as in NumPy; ``x[i]`` of a vector is entry i,
    ``X[i]`` of a matrix row i."""
    operand = build(node.operand, scope)
    _shaped(node.operand, operand, scope, "[...]", node.column)
    matrix = operand if is_matrix(operand) else sp.ImmutableMatrix([[operand]])
    rows, cols = matrix.shape
    indices = tuple(_position(i, scope) for i in node.indices)
    if len(indices) == 1:
        if cols == 1:
            indices = (indices[0], 0)
        elif rows == 1:
            indices = (0, indices[0])
        else:
            indices = (indices[0], None)
    counted = (
        ""
        if all(isinstance(i, int | None) for i in node.indices)
        else (": positions count from 0, as in sum(x[k] for k in 0..n-1)")
    )
    for index, extent, axis in zip(indices, (rows, cols), ("row", "column"), strict=True):
        if index is not None and index >= extent:
            raise ParseError(
                f"index {index} is out of range for {describe(shape(operand))} "
                f"(a {axis} index is 0 to {extent - 1}){counted}",
                node.column,
            )
    row, col = (slice(None) if i is None else i for i in indices)
    return matrix[row, col]


def _position(index: int | Node | None, scope: Scope) -> int | None:
    """A written index as a position from 0: a whole number, ':' (None), or the value of
    an expression in a sum's indices (``w[k]``, ``u[i + j]``)."""
    if index is None or isinstance(index, int):
        return index
    value = build(index, scope)
    if not getattr(value, "is_Integer", False):
        raise ParseError(
            f"the index {sp.sstr(value)} is not a whole number: an index is a number from 0 "
            "or an index a sum runs over, as in sum(x[k]**2 for k in 0..n-1)",
            index.column,
        )
    if value < 0:
        raise ParseError(
            f"the index is {value}: positions count from 0 (no negative indices)", index.column
        )
    return int(value)


def _binary(node: Binary, scope: Scope) -> Value:
    left, right = build(node.left, scope), build(node.right, scope)
    if node.implicit and node.op == "@":  # LaTeX's product: scaling, or the matrix product
        if not is_matrix(left) or not is_matrix(right):
            return _entrywise(left, right, lambda x, y: x * y, node, "multiply")
        return _matmul(left, right, node)
    if node.implicit and node.op == "**" and is_matrix(left) and left.shape[0] == left.shape[1]:
        return _matrix_power(left, right, node)
    if node.op == "@":
        _shaped(node.left, left, scope, "@", node.column)
        _shaped(node.right, right, scope, "@", node.column)
    return _OPERATORS[node.op](left, right, node)


# Operations that mean nothing on a scalar: one written on a name without a declared
# shape is a forgotten --shape (x.T @ A @ x with x and A scalars is x²A, and "2*A @ x"
# would pass as its derivative), so it is an error that names the --shape to add.
# Inferring a size instead would check at a size the user never chose.
MATRIX_ONLY = frozenset(
    {
        "trace",
        "det",
        "inv",
        "diag",
        "outer",
        "softmax",
        "log_softmax",
        "logsumexp",
        "cumsum",
        "norm",
    }
)


# max(x) and min(x) of one argument reduce a vector or a matrix (max(a, b) is entrywise).
REDUCING_BOUNDS = frozenset({"max", "min"})


def matrix_only(node: Call) -> bool:
    """Does the call need a vector or a matrix: ``trace(A)``, ``softmax(z)``, ``max(x)``?"""
    return node.function in MATRIX_ONLY or (
        node.function in REDUCING_BOUNDS and len(node.args) == 1
    )


class MissingShape(ParseError):
    """A name used as a vector or matrix without a declared shape."""


def _shaped(operand: Node, value: Value, scope: Scope, what: str, column: int) -> None:
    """Refuse ``what`` (.T, @, trace, ...) on a scalar built only from undeclared names.

    A 1×1 result of declared matrices (``x.T @ y``) may be transposed or multiplied; a
    catalogue claim (closed scope) uses the derivation's own shapes and is not checked.
    """
    if not scope.open or is_matrix(value):
        return
    names = _undeclared(operand, scope)
    if names is None:
        return  # built from a declared shape: a 1×1 product, not a forgotten shape
    if not names:
        raise ParseError(f"{what} of a number: it needs a vector or a matrix", column)
    raise MissingShape(missing_shapes(names, [what]), column)


def _undeclared(node: Node, scope: Scope) -> list[str] | None:
    """The undeclared names in ``node``; None if it uses a declared one."""
    names: list[str] = []
    for sub in walk(node):
        if isinstance(sub, Name):
            if sub.name in scope.values:
                return None
            if sub.name not in CONSTANTS and sub.name not in names:
                names.append(sub.name)
    return names


def matrix_uses(node: Node, scope: Scope) -> tuple[list[str], list[str]]:
    """Every undeclared name used with .T, @ or a matrix function, and those operations.

    So one message can name every ``--shape`` a forgotten declaration needs, not one per
    attempt: ``trace(A @ X @ B)`` needs A, X and B.
    """
    names: list[str] = []
    operations: list[str] = []
    for sub in walk(node):
        if isinstance(sub, Transpose):
            operands, what = [sub.operand], ".T"
        elif isinstance(sub, Binary) and sub.op == "@":
            operands, what = [sub.left, sub.right], "@"
        elif isinstance(sub, Call) and matrix_only(sub):
            operands, what = list(sub.args), f"{sub.function}(...)"
        else:
            continue
        for operand in operands:
            found = _undeclared(operand, scope)
            if found:
                names += [n for n in found if n not in names]
                operations += [what] if what not in operations else []
    return names, operations


def missing_shapes(names: list[str], operations: list[str]) -> str:
    """The one-line message for names used as matrices without a declared shape."""
    plural = len(names) > 1
    shapes = " ".join(f"{n}=N" for n in names)
    return (
        f"{', '.join(names)} {'are' if plural else 'is'} used with {' and '.join(operations)} "
        f"but {'have' if plural else 'has'} no declared shape (undeclared names are scalars): "
        f"add --shape {shapes}, with N a size for a column or MxN for a matrix "
        f"(shapes={{...}} in Python)"
    )


def _entrywise(left: Value, right: Value, op, node: Binary | Call, verb: str) -> Value:
    """Scalars broadcast; matrices must have equal shapes."""
    if not is_matrix(left) and not is_matrix(right):
        return op(left, right)
    if not is_matrix(left):
        return right.applyfunc(lambda e: op(left, e))
    if not is_matrix(right):
        return left.applyfunc(lambda e: op(e, right))
    if left.shape != right.shape:
        hint = "; for a matrix product write @" if getattr(node, "op", None) == "*" else ""
        raise ParseError(
            f"cannot {verb} {describe(shape(left))} and {describe(shape(right))} "
            f"entry by entry{hint}",
            node.column,
        )
    return sp.ImmutableMatrix(
        left.shape[0], left.shape[1], lambda i, j: op(left[i, j], right[i, j])
    )


def _divide(left: Value, right: Value, node: Binary) -> Value:
    divisors = list(right) if is_matrix(right) else [right]
    if any(d == 0 for d in divisors):
        raise ParseError("division by zero", node.column)
    return _entrywise(left, right, lambda a, b: a / b, node, "divide")


def _power(left: Value, right: Value, node: Binary) -> Value:
    if is_matrix(right):
        raise ParseError(
            f"the exponent must be a scalar, not {describe(shape(right))}", node.column
        )
    _check_exponent(left, right, node)
    if is_matrix(left):
        return left.applyfunc(lambda e: e**right)
    return left**right


def _check_exponent(base: Value, exponent: sp.Expr, node: Binary) -> None:
    if not exponent.is_number:
        return
    if not exponent.is_finite or abs(exponent) > MAX_EXPONENT:
        raise ParseError(
            f"exponent {_short(exponent)} is too large (at most {MAX_EXPONENT} in size)",
            node.column,
        )
    bases = list(base) if is_matrix(base) else [base]
    for b in bases:
        if b.is_Rational and b != 0:
            bits = max(abs(b.p).bit_length(), abs(b.q).bit_length())
            if bits * float(abs(exponent)) > MAX_BITS:
                raise ParseError(
                    f"{_short(b)}**{_short(exponent)} is too large a number to compute",
                    node.column,
                )
        if b == 0 and exponent.is_negative:
            raise ParseError("division by zero (0 to a negative power)", node.column)


def _short(number: sp.Expr) -> str:
    text = str(number)
    return text if len(text) <= 20 else f"{text[:8]}…({len(text)} characters)"


def _matrix_power(matrix: Value, exponent: Value, node: Binary) -> Value:
    """LaTeX's X^{-1}, X^{2} of a square matrix: the inverse and the matrix power."""
    if not (getattr(exponent, "is_Integer", False) and -MAX_EXPONENT <= exponent <= MAX_EXPONENT):
        raise ParseError(
            "a power of a square matrix needs a whole-number exponent (^{\\circ p} is entry "
            "by entry)",
            node.column,
        )
    if exponent < 0:
        return _inverse(matrix, Call("inv", (node.left,), node.column)) ** int(-exponent)
    return matrix ** int(exponent)


def _matmul(left: Value, right: Value, node: Binary) -> Value:
    a = left if is_matrix(left) else sp.ImmutableMatrix([[left]])
    b = right if is_matrix(right) else sp.ImmutableMatrix([[right]])
    if a.shape[1] != b.shape[0]:
        hint = ""
        if a.shape[0] == b.shape[0]:
            hint = " (a transpose missing? e.g. x.T @ y)"
        raise ParseError(
            f"cannot multiply {describe(shape(left))} @ {describe(shape(right))}: "
            f"the inner sizes {a.shape[1]} and {b.shape[0]} differ{hint}",
            node.column,
        )
    return a * b


_OPERATORS = {
    "+": lambda a, b, node: _entrywise(a, b, lambda x, y: x + y, node, "add"),
    "-": lambda a, b, node: _entrywise(a, b, lambda x, y: x - y, node, "subtract"),
    "*": lambda a, b, node: _entrywise(a, b, lambda x, y: x * y, node, "multiply"),
    "/": _divide,
    "**": _power,
    "@": _matmul,
}


def _call(node: Call, scope: Scope) -> Value:
    if node.function == "diff" and isinstance(node.args[1], Subscript):
        return build(Derivative(node.args[0], node.args[1], node.column), scope)  # LaTeX ∂f/∂z_j
    if node.function == "diff":
        raise ParseError("diff(...) is allowed only as the first line of a steps file", node.column)
    if node.function == "eye":
        return _eye(node, scope)
    if node.function in ("ones", "zeros"):
        return _ones(node, scope)
    args = [build(a, scope) for a in node.args]
    if node.axis is not None:
        return _along_axis(node, args[0], scope)
    if node.function == "clamp" or (node.function in REDUCING_BOUNDS and len(args) == 2):
        return _entrywise_bounds(node, args)
    if matrix_only(node):
        for arg_node, arg in zip(node.args, args, strict=True):
            _shaped(arg_node, arg, scope, f"{node.function}(...)", node.column)
    if node.function not in FUNCTIONS and node.function not in scope.functions:
        raise ParseError(f"{node.function} is not a sequence here", node.column)
    if node.function in scope.functions or node.function in SCALAR_FUNCTIONS:
        function = scope.functions.get(node.function) or SCALAR_FUNCTIONS[node.function]
        return args[0].applyfunc(function) if is_matrix(args[0]) else function(args[0])
    if node.function in SCOPED_FUNCTIONS:
        raise ParseError(
            f"{node.function} is the activation of a catalogue result's case "
            "(e.g. workbench verify two-layer-backprop --case tanh); it is not defined here",
            node.column,
        )
    return _MATRIX_FUNCTIONS[node.function](*args, node=node)


def _eye(node: Call, scope: Scope) -> Value:
    size = build(node.args[0], scope)
    if not (getattr(size, "is_Integer", False) and 1 <= size <= MAX_SIZE):
        raise ParseError(f"eye(n) needs a whole number n from 1 to {MAX_SIZE}", node.column)
    return sp.ImmutableMatrix(sp.eye(int(size)))


def _ones(node: Call, scope: Scope) -> Value:
    """ones(n) (a column), ones(m, n); zeros likewise."""
    sizes = [build(a, scope) for a in node.args]
    if not all(getattr(s, "is_Integer", False) and 1 <= s <= MAX_SIZE for s in sizes):
        raise ParseError(
            f"{node.function}(m, n) needs whole numbers from 1 to {MAX_SIZE}", node.column
        )
    rows, cols = (int(sizes[0]), int(sizes[1]) if len(sizes) == 2 else 1)
    fill = sp.ones if node.function == "ones" else sp.zeros
    return sp.ImmutableMatrix(fill(rows, cols))


def _entrywise_bounds(node: Call, args: list) -> Value:
    """max(a, b), min(a, b) and clamp(x, lo, hi), entry by entry (a scalar broadcast)."""
    if node.function == "clamp":
        x, low, high = args
        return _entrywise(_entrywise(x, low, sp.Max, node, "clamp"), high, sp.Min, node, "clamp")
    combine = sp.Max if node.function == "max" else sp.Min
    return _entrywise(args[0], args[1], combine, node, f"take the {node.function} of")


def _square(value: Value, node: Call) -> sp.ImmutableMatrix:
    if not is_matrix(value):
        return sp.ImmutableMatrix([[value]])
    if value.shape[0] != value.shape[1]:
        raise ParseError(
            f"{node.function} needs a square matrix, got {describe(shape(value))}", node.column
        )
    return value


def _vector(value: Value, node: Call) -> list[sp.Expr]:
    if not is_matrix(value):
        return [value]
    if 1 not in value.shape:
        raise ParseError(
            f"{node.function} needs a vector, got a {describe(shape(value))} matrix", node.column
        )
    return list(value)


def _inverse(value: Value, node: Call) -> Value:
    matrix = _square(value, node)
    determinant = matrix.det(method="berkowitz")
    if determinant == 0:
        raise ParseError("inv of a singular matrix (its determinant is 0)", node.column)
    # adjugate/det keeps one shared denominator, far smaller than Gaussian elimination's.
    return matrix.adjugate() / determinant


def _softmax(value: Value, node: Call) -> Value:
    entries = _vector(value, node)
    total = sp.Add(*[sp.exp(e) for e in entries])
    probabilities = [sp.exp(e) / total for e in entries]
    if not is_matrix(value):
        return probabilities[0]
    return sp.ImmutableMatrix(value.shape[0], value.shape[1], probabilities)


def _outer(u: Value, v: Value, node: Call) -> Value:
    left, right = _vector(u, node), _vector(v, node)
    return sp.ImmutableMatrix(len(left), len(right), lambda i, j: left[i] * right[j])


def _along_axis(node: Call, value: Value, scope: Scope) -> Value:
    """``f(X, axis=0)`` applies f to each column of X, ``axis=1`` to each row, as NumPy
    does: sum, mean, logsumexp, max and min give a row (axis=0) or a column (axis=1) of
    values, softmax and log_softmax a matrix of X's shape."""
    _shaped(node.args[0], value, scope, f"{node.function}(..., axis=)", node.column)
    matrix = value if is_matrix(value) else sp.ImmutableMatrix([[value]])
    lines = (
        [matrix[:, j] for j in range(matrix.shape[1])]
        if node.axis == 0
        else [matrix[i, :] for i in range(matrix.shape[0])]
    )
    one = Call(node.function, node.args, node.column)  # the same function, of one line
    results = [
        _MATRIX_FUNCTIONS[node.function](sp.ImmutableMatrix(line), node=one) for line in lines
    ]
    if node.function in ("softmax", "log_softmax"):
        if node.axis == 0:
            return sp.ImmutableMatrix.hstack(*results)
        return sp.ImmutableMatrix.vstack(*results)
    if node.axis == 0:
        return sp.ImmutableMatrix([results])
    return sp.ImmutableMatrix([[r] for r in results])


def _entries(value: Value) -> list[sp.Expr]:
    return list(value) if is_matrix(value) else [value]


def _log_softmax(value: Value, node: Call) -> Value:
    entries = _vector(value, node)
    total = sp.log(sp.Add(*[sp.exp(e) for e in entries]))
    if not is_matrix(value):
        return entries[0] - total
    return sp.ImmutableMatrix(value.shape[0], value.shape[1], [e - total for e in entries])


def extremum(head, items: list[sp.Expr]) -> sp.Expr:
    """max or min of the entries. Of distinct symbols (a declared vector) SymPy's own
    simplification compares every pair and finds nothing to drop, at 70 ms for 4 entries
    and 0.7 s for 10, each time the value is built: it is skipped."""
    distinct = len(set(items)) == len(items) > 1
    if distinct and all(isinstance(e, sp.Symbol) for e in items):
        return head(*items, evaluate=False)
    return head(*items)


def _cumsum(value: Value, node: Call) -> Value:
    entries = _vector(value, node)
    running = [sp.Add(*entries[: k + 1]) for k in range(len(entries))]
    return sp.ImmutableMatrix(value.shape[0], value.shape[1], running)


_MATRIX_FUNCTIONS: dict[str, Callable[..., Value]] = {
    "sum": lambda a, node: sp.Add(*a) if is_matrix(a) else a,
    "mean": lambda a, node: sp.Add(*_entries(a)) / len(_entries(a)),
    "norm": lambda a, node: sp.sqrt(sp.Add(*[e**2 for e in _entries(a)])),
    # The largest (smallest) entry; its derivative is the indicator of that entry, and
    # the verifier samples each entry as the winner (workbench.verify.regions).
    "max": lambda a, node: extremum(sp.Max, _entries(a)),
    "min": lambda a, node: extremum(sp.Min, _entries(a)),
    "logsumexp": lambda a, node: sp.log(sp.Add(*[sp.exp(e) for e in _vector(a, node)])),
    "log_softmax": _log_softmax,
    "cumsum": _cumsum,
    "trace": lambda a, node: _square(a, node).trace(),
    "det": lambda a, node: _square(a, node).det(method="berkowitz"),
    "inv": _inverse,
    "diag": lambda a, node: sp.ImmutableMatrix(sp.diag(*_vector(a, node))),
    "softmax": _softmax,
    "outer": _outer,
}

_BUILDERS: dict[type, Callable[..., Value]] = {
    Number: _number,
    Name: _name,
    Unary: _unary,
    Transpose: _transpose,
    Index: _index,
    Binary: _binary,
    Call: _call,
}


def register(builders: Mapping[type, Callable[..., Value]], top_level) -> None:
    """Give more node types a value (index notation, from LaTeX input)."""
    _BUILDERS.update(builders)
    TOP_LEVEL[:] = [top_level]


__all__ = [
    "MAX_SIZE",
    "Scope",
    "Value",
    "build",
    "declare",
    "describe",
    "extremum",
    "parse_shape",
    "shape",
]
