"""Safe parsing of user text: a whitelisted tokenizer and a small Pratt parser.

User text is never evaluated as Python: no ``eval``, no ``sympify``, no
``parse_expr``. The lexer (:mod:`workbench.verify.lexer`) admits only numbers, names,
``+ - * / ** ^ @``, parentheses, commas and ``.T``; this parser turns the tokens into
a tree of frozen nodes, and :mod:`workbench.verify.interpret` turns the tree into SymPy.
Input length, number length and nesting depth are bounded, so parsing is linear in
the input and can neither recurse without limit nor build huge numbers.

Precedence, loosest first: ``+ -``; ``* / @``; implicit multiplication (``2x``,
``3(x+1)``, so ``1/2x`` is ``1/(2*x)``); unary ``-``; ``**``/``^`` (right-associative,
``-x**2`` is ``-(x**2)``); the postfix transpose ``.T``.

Example:
    >>> tree = parse("2x.T @ y")
    >>> tree.op, tree.left.op, tree.left.implicit
    ('@', '*', True)
    >>> from workbench.verify.claim_format import unparse
    >>> unparse(parse("3(x+1)^2"))
    '3*(x + 1)**2'
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Union

from workbench.errors import ParseError
from workbench.verify.lexer import (
    AXIS,
    COLON,
    COMMA,
    END,
    FOR,
    IN,
    LBRACKET,
    LPAREN,
    NAME,
    NUMBER,
    OPERATOR,
    RANGE,
    RBRACKET,
    RPAREN,
    TRANSPOSE,
    Token,
    tokenize,
)

MAX_DEPTH = 200  # nested operations in one expression (parentheses, operators, calls)

# Function name → number of arguments (or the numbers it accepts). The only names that
# may be called.
FUNCTIONS: dict[str, int | tuple[int, ...]] = {
    **dict.fromkeys(
        ["exp", "log", "sqrt", "sin", "cos", "tanh", "sigmoid", "relu", "abs", "step", "sign"], 1
    ),  # scalar, or elementwise on a matrix
    **dict.fromkeys(["sum", "trace", "det", "inv", "diag", "softmax", "eye"], 1),
    # Derivatives of the activations, the entrywise square, and the activation φ of a
    # catalogue case with its derivative φ′ (what `workbench show` prints).
    **dict.fromkeys(["tanh_prime", "sigmoid_prime", "relu_prime", "square"], 1),
    **dict.fromkeys(["phi", "phi_prime"], 1),
    **dict.fromkeys(
        ["erf", "cosh", "sinh", "atan", "softplus", "log_sigmoid", "gelu", "gelu_tanh"], 1
    ),  # more scalar functions, elementwise on a matrix
    # Of a vector (or of every entry): log Σ exp, log softmax, running sums, the mean,
    # the 2-norm (Frobenius for a matrix).
    **dict.fromkeys(["logsumexp", "log_softmax", "cumsum", "mean", "norm"], 1),
    # max(x), min(X): the largest (smallest) entry, or with axis= of each column or row;
    # max(a, b), min(a, b): entry by entry.
    "max": (1, 2),
    "min": (1, 2),
    "clamp": 3,  # clamp(x, lo, hi): x limited to [lo, hi], entry by entry
    "ones": (1, 2),  # ones(n): the n×1 column of ones; ones(m, n): the m×n matrix
    "zeros": (1, 2),
    "outer": 2,
    "diff": 2,  # only as the first line of a steps file
}

# Binding powers (left, right) of the binary operators; right < left is right-associative.
_BINARY = {"+": (10, 10), "-": (10, 10), "*": (20, 20), "/": (20, 20), "@": (20, 20)}
_BINARY["**"] = (40, 39)
_IMPLICIT = (25, 25)
_PREFIX = 30


@dataclass(frozen=True)
class Number:
    """A decimal literal, kept as its text; ``value`` is exact."""

    text: str
    column: int
    depth: int = field(default=1, compare=False, repr=False)

    @property
    def value(self) -> Fraction:
        return Fraction(self.text)


@dataclass(frozen=True)
class Name:
    """A variable (or, in a catalogue claim, a named quantity such as ``s``)."""

    name: str
    column: int
    depth: int = field(default=1, compare=False, repr=False)


@dataclass(frozen=True)
class Unary:
    """``-operand`` or ``+operand``."""

    op: str
    operand: Node
    column: int
    depth: int = field(default=1, compare=False, repr=False)


@dataclass(frozen=True)
class Binary:
    """``left op right``; ``implicit`` marks a product written without ``*``."""

    op: str
    left: Node
    right: Node
    column: int
    implicit: bool = False
    depth: int = field(default=1, compare=False, repr=False)


@dataclass(frozen=True)
class Call:
    """``function(args...)`` for a name in :data:`FUNCTIONS`."""

    function: str
    args: tuple[Node, ...]
    column: int
    depth: int = field(default=1, compare=False, repr=False)
    axis: int | None = None  # sum(X, axis=0): over the rows (one value per column)


# Functions that take ``axis=0`` (down each column) or ``axis=1`` (along each row), as
# NumPy's do: the usual case is a batch with one example per row.
AXIS_FUNCTIONS = frozenset({"sum", "mean", "softmax", "log_softmax", "logsumexp", "max", "min"})


@dataclass(frozen=True)
class Transpose:
    """``operand.T``."""

    operand: Node
    column: int
    depth: int = field(default=1, compare=False, repr=False)


@dataclass(frozen=True)
class Index:
    """``operand[i]``, ``operand[i, j]``: 0-based, as in NumPy; None is ``:``, a whole
    row or column (``X[1, :]`` is row 1; ``X[1]`` of a matrix is too). An index may be
    an expression in the indices of a sum (``w[k]``, ``u[i + j]``), whose value is the
    position, from 0 as well."""

    operand: Node
    indices: tuple[int | Node | None, ...]
    column: int
    depth: int = field(default=1, compare=False, repr=False)


# Nodes only the LaTeX front end (:mod:`workbench.verify.latex_input`) makes: index notation.
@dataclass(frozen=True)
class Subscript:
    """``x_{1}``, ``W_{ij}``, ``s_k``, ``W_{2}``: resolved against the scope when built.

    A declared name spelled with the subscript (``W_{2}`` → ``W2`` or ``W_2``) is that
    name; a subscript of a declared vector or matrix is an entry, each index a whole
    number counted from 1 (as in mathematics) or an index name (bound by a sum, or free);
    a subscript of anything else is a scalar named by its text (``x_{1}`` → ``x_1``).
    ``text`` is the subscript as a name suffix (``"2"``, ``"ij"``).
    """

    base: Node
    indices: tuple[Node, ...]
    text: str
    column: int
    depth: int = field(default=1, compare=False, repr=False)


@dataclass(frozen=True)
class Sum:
    """``\\sum_{k=lower}^{upper} body`` (``op`` "sum"), ``\\prod`` (``op`` "prod"), or
    ``\\max_k body``, ``\\min_k body`` (``op`` "max", "min": the largest, smallest term);
    in the plain language ``sum(body for k in lower..upper)``, both limits included.

    Without limits the index runs over the length of what it indexes; a symbolic upper
    limit (``n``, ``n - 1``) must mean that whole range, and names its size.
    """

    body: Node
    index: str
    lower: Node | None
    upper: Node | None
    column: int
    op: str = "sum"
    depth: int = field(default=1, compare=False, repr=False)


@dataclass(frozen=True)
class Kronecker:
    """``\\delta_{ij}``: 1 where the two indices are equal, else 0."""

    first: Node
    second: Node
    column: int
    depth: int = field(default=1, compare=False, repr=False)


@dataclass(frozen=True)
class Derivative:
    """``\\frac{\\partial f}{\\partial x_j}`` inside an expression: the derivative of
    ``body`` by the scalar (an entry, or a scalar name) ``variable``. At the top of a
    formula the LaTeX reader writes ``Call("diff", (f, x))`` instead, as a steps file's
    first line ``diff(F, x)``."""

    body: Node
    variable: Node
    column: int
    depth: int = field(default=1, compare=False, repr=False)


Node = Union[  # noqa: UP007 (runtime alias)
    Number, Name, Unary, Binary, Call, Transpose, Index, Subscript, Sum, Kronecker, Derivative
]


def parse(text: str, sequences: Collection[str] = ()) -> Node:
    """Parse one expression of the claim language.

    Args:
        text: e.g. ``"diag(s) - s @ s.T"``.
        sequences: names that may be called besides :data:`FUNCTIONS`, with one
            argument: the sequences over time steps of a catalogue result (``g(k)``).

    Returns:
        The expression tree.

    Raises:
        ParseError: with the column of the offending token, for anything outside
            the language or its size limits.
    """
    tokens = tokenize(text)
    if tokens[0].kind == END:
        raise ParseError("empty expression", 1)
    parser = _Parser(tokens, frozenset(sequences))
    node = parser.expression(0)
    token = parser.peek()
    if token.kind != END:
        raise ParseError(f"unexpected {_describe(token)}", token.column)
    return node


SUM_EXAMPLE = "sum(x[k]**2 for k in 0..n-1)"


def children(node: Node) -> tuple[Node, ...]:
    """The direct sub-expressions of ``node``."""
    if isinstance(node, Index):
        return (node.operand, *(i for i in node.indices if not isinstance(i, int | None)))
    if isinstance(node, Unary | Transpose):
        return (node.operand,)
    if isinstance(node, Binary):
        return (node.left, node.right)
    if isinstance(node, Call):
        return node.args
    if isinstance(node, Subscript):
        return (node.base, *node.indices)
    if isinstance(node, Sum):
        return tuple(n for n in (node.lower, node.upper, node.body) if n is not None)
    if isinstance(node, Kronecker):
        return (node.first, node.second)
    if isinstance(node, Derivative):
        return (node.body, node.variable)
    return ()


def walk(node: Node):
    """Every node of the tree, parents before children (iterative: trees may be deep)."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(children(current)))


def _describe(token: Token) -> str:
    if token.kind == END:
        return "end of input"
    if token.kind == NUMBER:
        return f"number {token.text}"
    if token.kind == NAME:
        return f"name {token.text!r}"
    if token.kind in (FOR, IN):
        return f"'{token.text}' (it belongs inside a sum: {SUM_EXAMPLE})"
    if token.kind == RANGE:
        return f"'..' (a range of a sum's index: {SUM_EXAMPLE})"
    return repr(token.text)


def made(node: Node) -> Node:
    depth = 1 + max((child.depth for child in children(node)), default=0)
    if depth > MAX_DEPTH:
        raise ParseError(
            f"expression too deep (more than {MAX_DEPTH} nested operations)", node.column
        )
    object.__setattr__(node, "depth", depth)  # set once, while the node is being made
    return node


class _Parser:
    """Pratt parser over a token list; ``nesting`` bounds the recursion."""

    def __init__(self, tokens: list[Token], sequences: frozenset[str] = frozenset()):
        self.tokens = tokens
        self.position = 0
        self.nesting = 0
        self.sequences = sequences

    def peek(self) -> Token:
        return self.tokens[self.position]

    def advance(self) -> Token:
        token = self.tokens[self.position]
        if token.kind != END:
            self.position += 1
        return token

    def expression(self, min_power: int) -> Node:
        self.nesting += 1
        if self.nesting > MAX_DEPTH:
            raise ParseError(
                f"expression too deep (more than {MAX_DEPTH} nested operations)",
                self.peek().column,
            )
        left = self.prefix()
        while True:
            token = self.peek()
            if token.kind == TRANSPOSE:
                self.advance()
                left = made(Transpose(left, token.column))
                continue
            if token.kind == LBRACKET:
                self.advance()
                left = made(Index(left, self.indices(), token.column))
                continue
            if token.kind == OPERATOR:
                power, right_power = _BINARY[token.text]
                implicit = False
            elif token.kind in (NAME, LPAREN):
                power, right_power = _IMPLICIT
                implicit = True
            elif token.kind == NUMBER:
                raise ParseError(
                    f"a number cannot follow directly: write * before {token.text}", token.column
                )
            else:
                break
            if power <= min_power:
                break
            if not implicit:
                self.advance()
            right = self.expression(right_power)
            op = "*" if implicit else token.text
            left = made(Binary(op, left, right, token.column, implicit))
        self.nesting -= 1
        return left

    def prefix(self) -> Node:
        token = self.advance()
        if token.kind == NUMBER:
            return Number(token.text, token.column)
        if token.kind == NAME:
            return self.name_or_call(token)
        if token.kind == LPAREN:
            inner = self.expression(0)
            closing = self.advance()
            if closing.kind != RPAREN:
                raise ParseError(
                    f"expected ')' to close the '(' at column {token.column}, "
                    f"found {_describe(closing)}",
                    closing.column,
                )
            return inner
        if token.kind == OPERATOR and token.text in "+-":
            return made(Unary(token.text, self.expression(_PREFIX), token.column))
        if token.kind == END:
            raise ParseError("unexpected end of input: an operand is missing", token.column)
        raise ParseError(f"unexpected {_describe(token)}", token.column)

    def name_or_call(self, token: Token) -> Node:
        name = token.text
        called = self.peek().kind == LPAREN
        if called and name in self.sequences and name not in FUNCTIONS:
            return self.sequence(token)
        if name not in FUNCTIONS:
            bare = name.rstrip("'")
            if called and bare != name and f"{bare}_prime" in FUNCTIONS:
                raise ParseError(
                    f"unknown function {name!r}: write {bare}_prime(...)", token.column
                )
            if called and bare != name:
                raise ParseError(
                    f"{name} stands for the value of a derivative (at the point a result is "
                    f"about), not a function: write {name} without (...)",
                    token.column,
                )
            if called:
                raise ParseError(
                    f"unknown function {name!r} (known: {', '.join(sorted(FUNCTIONS))}); "
                    f"for a product write {name}*(...)",
                    token.column,
                )
            return Name(name, token.column)
        if not called:
            raise ParseError(f"{name!r} is a function: write {name}(...)", token.column)
        self.advance()
        args: list[Node] = []
        axis: int | None = None
        if self.peek().kind != RPAREN:
            while True:
                if self.peek().kind == AXIS:
                    axis = self.axis(name)
                else:
                    args.append(self.expression(0))
                if self.peek().kind == FOR:
                    return self.generator(token, args)
                if self.peek().kind != COMMA:
                    break
                self.advance()
        closing = self.advance()
        if closing.kind != RPAREN:
            raise ParseError(
                f"expected ',' or ')' in the call of {name}, found {_describe(closing)}",
                closing.column,
            )
        wanted = FUNCTIONS[name]
        accepted = wanted if isinstance(wanted, tuple) else (wanted,)
        if len(args) not in accepted:
            said = " or ".join(str(n) for n in accepted)
            plural = "s" if accepted[-1] > 1 else ""
            raise ParseError(f"{name} takes {said} argument{plural}, got {len(args)}", token.column)
        if axis is not None and len(args) != 1:
            raise ParseError(
                f"{name}(..., axis=) takes one argument, got {len(args)} ({name}(a, b) is "
                "entry by entry and takes no axis=)",
                token.column,
            )
        return made(Call(name, tuple(args), token.column, axis=axis))

    def sequence(self, token: Token) -> Node:
        """``g(k)``: a sequence's value at one step."""
        self.advance()
        args = [self.expression(0)]
        while self.peek().kind == COMMA:
            self.advance()
            args.append(self.expression(0))
        closing = self.advance()
        if closing.kind != RPAREN:
            raise ParseError(
                f"expected ')' in {token.text}(...), found {_describe(closing)}", closing.column
            )
        if len(args) != 1:
            raise ParseError(
                f"{token.text} is a sequence over time steps: {token.text}(k) takes one step "
                f"number, got {len(args)}",
                token.column,
            )
        return made(Call(token.text, tuple(args), token.column))

    def generator(self, token: Token, args: list[Node]) -> Node:
        """The rest of ``sum(body for k in lower..upper ...)`` after its body; each further
        ``for`` is a sum inside the one before (the first is the outermost, as in Python)."""
        if token.text != "sum" or len(args) != 1:
            raise ParseError(
                f"'for' belongs in a sum over an index: {SUM_EXAMPLE}", self.peek().column
            )
        clauses = []
        while self.peek().kind == FOR:
            self.advance()
            index = self.advance()
            if index.kind != NAME or index.text in FUNCTIONS or "'" in index.text:
                raise ParseError(
                    f"expected the index's name after 'for', found {_describe(index)} "
                    f"(e.g. {SUM_EXAMPLE})",
                    index.column,
                )
            word = self.advance()
            if word.kind != IN:
                raise ParseError(
                    f"expected 'in' after 'for {index.text}', found {_describe(word)} "
                    f"(e.g. for {index.text} in 0..n-1)",
                    word.column,
                )
            clauses.append((index, *self.index_range(index)))
        closing = self.advance()
        if closing.kind != RPAREN:
            raise ParseError(
                f"expected ')' to close the sum at column {token.column}, found "
                f"{_describe(closing)}",
                closing.column,
            )
        node = args[0]
        for index, lower, upper in reversed(clauses):
            node = made(Sum(node, index.text, lower, upper, token.column))
        return node

    def index_range(self, index: Token) -> tuple[Node, Node]:
        """``lower..upper`` (both included, as the limits of Σ), or Python's ``range(n)``
        and ``range(lower, stop)`` (the stop left out)."""
        token = self.peek()
        following = self.tokens[self.position + 1]
        if token.kind == NAME and token.text == "range" and following.kind == LPAREN:
            self.advance()
            self.advance()
            bounds = [self.expression(0)]
            if self.peek().kind == COMMA:
                self.advance()
                bounds.append(self.expression(0))
            closing = self.advance()
            if closing.kind != RPAREN:
                raise ParseError(
                    f"range takes 1 or 2 arguments, as in Python; found {_describe(closing)}",
                    closing.column,
                )
            lower = bounds[0] if len(bounds) == 2 else Number("0", token.column)
            stop = bounds[-1]
            return lower, made(Binary("-", stop, Number("1", token.column), token.column))
        lower = self.expression(0)
        dots = self.advance()
        if dots.kind != RANGE:
            raise ParseError(
                f"expected '..' in the range of {index.text}, found {_describe(dots)} "
                f"(e.g. for {index.text} in 0..n-1, both ends included)",
                dots.column,
            )
        return lower, self.expression(0)

    def indices(self) -> tuple[int | Node | None, ...]:
        """The inside of ``[...]`` after its '[': one or two whole numbers, ':' or
        expressions in a sum's indices (``x[k]``, ``u[i + j]``)."""
        found: list[int | Node | None] = []
        while True:
            token = self.peek()
            if token.kind == COLON:
                self.advance()
                found.append(None)
            elif token.kind in (NUMBER, NAME, LPAREN) or token.text in ("-", "+"):
                index = self.expression(0)
                if isinstance(index, Number):
                    if not index.text.isdigit():
                        raise ParseError(
                            f"an index is a whole number from 0, or ':' (found {index.text})",
                            index.column,
                        )
                    found.append(int(index.text))
                else:
                    found.append(index)
            else:
                self.advance()
                raise ParseError(
                    f"an index is a whole number from 0, ':' or a sum's index "
                    f"(found {_describe(token)})",
                    token.column,
                )
            closing = self.advance()
            if closing.kind == RBRACKET and len(found) <= 2:
                return tuple(found)
            if closing.kind != COMMA or len(found) == 2:
                raise ParseError(
                    "expected x[i] or X[i, j] (with ':' for a whole row or column)", closing.column
                )

    def axis(self, name: str) -> int:
        """``axis=0`` or ``axis=1`` in the call of ``name``."""
        keyword = self.advance()
        if name not in AXIS_FUNCTIONS:
            raise ParseError(
                f"{name} takes no axis= (only {', '.join(sorted(AXIS_FUNCTIONS))} do)",
                keyword.column,
            )
        value = self.advance()
        if value.kind != NUMBER or value.text not in ("0", "1"):
            raise ParseError("axis= is 0 (down each column) or 1 (along each row)", value.column)
        return int(value.text)
