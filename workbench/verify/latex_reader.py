"""Read back the LaTeX the workbench prints, so that printed formulas can be checked.

:mod:`workbench.render.latex` prints every step and every boxed result; this module reads that
LaTeX back into SymPy, so a test can compare what was printed with what was checked
(``Printed = checked`` in the design). It reads the notation the printer writes —
``\\frac``, ``\\sum_{k=0}^{n - 1}``, ``\\prod``, ``\\frac{\\partial}{\\partial z_{j}}``,
``^{\\top}``, ``^{-1}``, ``\\odot``, ``\\delta_{ij}``, ``\\mathbf{1}_{n}``,
``\\operatorname{...}``, ``e^{...}``, subscripts for matrix entries — and is meant to
grow into the reader of a learner's own LaTeX.

Like the claim parser (:mod:`workbench.verify.parsing`) it never evaluates text: it is a
recursive-descent reader over the characters, bounded in length and nesting depth, and
anything it does not understand is one :class:`~workbench.errors.ParseError` with the
column. A product that mixes ``\\odot`` with juxtaposition (``A \\odot B C``) is refused
as ambiguous rather than read one way: the printer always groups such products.

Names are resolved against a scope: LaTeX text → the object it stands for, e.g.
``{"W_{2}": W2, "\\hat{p}": phat}`` (:func:`workbench.render.latex.printed_names` gives the
scope of an expression, as the printer writes its names); a name that is not in the
scope reads as a plain symbol named by its text. The longest name written at a place
wins, so ``\\sigma_{2}`` is the symbol σ₂ when the scope has it.

Example:
    >>> import sympy as sp
    >>> z = sp.MatrixSymbol("z", sp.Symbol("n", integer=True), 1)
    >>> j = sp.Symbol("j", integer=True)
    >>> read_latex(r"\\frac{\\partial L}{\\partial z_{j}}", {"z": z, "j": j, "L": sp.Symbol("L")})
    Derivative(L, z[j, 0])
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import sympy as sp
from sympy.matrices.expressions.matexpr import MatrixElement

from workbench.checks.equivalence import Equivalence, check_equal
from workbench.core.algebra import canonical
from workbench.core.functions import (
    ELEMENTWISE,
    Elementwise,
    LogSoftmax,
    MaskedSoftmax,
    Softmax,
    derivative_of,
)
from workbench.errors import ParseError
from workbench.verify.latex_scan import GREEK, NAME_COMMANDS, STOP_COMMANDS, Scanner
from workbench.verify.parsing import MAX_DEPTH  # noqa: F401 (re-exported: the same limit)

MAX_LENGTH = 50_000  # characters: the longest printed step of the registry is a few thousand

# Scalar functions the printer writes with a command of their own (SymPy's style
# ``\log{\left(x \right)}`` and the workbench's ``\log\left(s\right)`` both read).
_SCALAR_COMMANDS: Mapping[str, Callable] = {
    r"\log": sp.log,
    r"\exp": sp.exp,
    r"\sin": sp.sin,
    r"\cos": sp.cos,
    r"\tan": sp.tan,
    r"\tanh": sp.tanh,
    r"\operatorname{im}": sp.im,
    r"\operatorname{re}": sp.re,
}

# Heads of the elementwise functions of workbench.core.functions (the inverse of
# workbench.render.latex.ELEMENTWISE_LATEX), applied to a matrix argument.
_ELEMENTWISE_HEADS: Mapping[str, str] = {
    r"\exp": "exp",
    r"\log": "log",
    r"\tanh": "tanh",
    r"\sigma": "sigmoid",
    r"\operatorname{ReLU}": "relu",
    r"\operatorname{step}": "step",
    r"\varphi": "phi",
}


def read_latex(text: str, names: Mapping[str, Any] | None = None) -> Any:
    """The SymPy expression written by ``text`` (math mode, no delimiters).

    Args:
        text: LaTeX as :func:`workbench.render.latex.expr_to_latex` writes it.
        names: LaTeX text of a name → what it stands for (a Symbol, MatrixSymbol,
            IndexedBase, an undefined function, or any expression read verbatim).

    Raises:
        ParseError: for anything outside the notation or its limits, with the column.
    """
    if len(text) > MAX_LENGTH:
        raise ParseError(f"LaTeX too long: {len(text)} characters (at most {MAX_LENGTH})")
    reader = _Reader(text, dict(names or {}))
    reader.skip()
    if reader.at_end():
        raise ParseError("empty expression", 1)
    value = reader.expression()
    reader.skip()
    if not reader.at_end():
        raise reader.error(f"unexpected {reader.peek_word()!r}")
    return value


def read_back(latex: str, source, names: Mapping[str, Any], *, budget: float = 4.0, seed: int = 0):
    """Read ``latex`` (printed from ``source``) and decide whether it equals ``source``.

    The reading is compared with ``source`` by the bounded equality check
    (:func:`workbench.checks.equivalence.check_equal`), entry by entry at general indices for a
    matrix; bound summation variables are renamed canonically first, as the derivation
    does with every step, so equal sums compare equal.

    Args:
        latex: the printed formula.
        source: the expression it was printed from.
        names: the scope to read it in, e.g. ``workbench.render.latex.printed_names(source)``.

    Returns:
        (the expression read, the :class:`~workbench.checks.equivalence.Equivalence`).

    Raises:
        ParseError: the LaTeX could not be read.
    """
    value = canonical(read_latex(latex, names))
    if value == source:
        return value, Equivalence(True, "proved", "structural", 0.0, "read back identically")
    if isinstance(source, sp.MatrixExpr) or isinstance(value, sp.MatrixExpr):
        if getattr(value, "shape", None) != getattr(source, "shape", None):
            shapes = f"{getattr(value, 'shape', '1×1')} against {getattr(source, 'shape', '1×1')}"
            return value, Equivalence(False, "proved", "shape", 0.0, f"shapes differ: {shapes}")
        row, col = sp.Dummy("row", integer=True), sp.Dummy("col", integer=True)
        if source.shape == (1, 1):  # its one entry: a general index would run past it
            row, col = sp.Integer(0), sp.Integer(0)
        return value, check_equal(
            canonical(value[row, col]), canonical(source[row, col]), budget=budget, seed=seed
        )
    return value, check_equal(value, source, budget=budget, seed=seed)


class _Reader(Scanner):
    """Recursive descent over the characters of one LaTeX expression."""

    def __init__(self, text: str, names: dict[str, Any]):
        super().__init__(text)
        self.names = names
        self.keys = sorted(names, key=len, reverse=True)  # longest match first
        self.bound: list[dict[str, sp.Symbol]] = []

    # ------------------------------------------------------------ grammar
    def expression(self) -> Any:
        """``[±] term {± term}``, with ``\\bmod`` between terms."""
        self.enter()
        value = self.signed_term()
        while True:
            # SymPy writes a negative term after a plus: "a + - \\frac{1}{n} b".
            at = self.pos
            if self.take("+"):
                value = _combine("add", value, self.signed_term(), self.error("", at))
            elif self.take("-"):
                value = _combine("subtract", value, -self.signed_term(), self.error("", at))
            elif self.take(r"\bmod"):
                value = sp.Mod(value, self.term())
            else:
                break
        self.leave()
        return value

    def signed_term(self) -> Any:
        if self.take("-"):
            return -self.term()
        self.take("+")
        return self.term()

    def term(self) -> Any:
        """Factors joined by juxtaposition, ``\\cdot`` or ``\\odot`` (never both kinds)."""
        self.enter()
        self.skip()
        start = self.pos
        factors = [self.factor()]
        hadamard = juxtaposed = False
        while True:
            if self.take(r"\odot"):
                hadamard = True
                factors.append(("odot", self.factor()))
            elif self.take(r"\cdot") or self.starts_factor():
                juxtaposed = True
                factors.append(self.factor())
            else:
                break
            if hadamard and juxtaposed:
                raise self.error(
                    "ambiguous product: \\odot next to a product without parentheses", start
                )
        self.leave()
        if hadamard:
            operands = [factors[0]] + [f[1] for f in factors[1:]]
            return sp.HadamardProduct(*operands)
        value = factors[0]
        for factor in factors[1:]:
            value = _combine("multiply", value, factor, self.error("", start))
        return value

    def starts_factor(self) -> bool:
        self.skip()
        if self.pos >= len(self.text):
            return False
        ch = self.text[self.pos]
        if ch == "\\":
            return not any(self.word_at(w) for w in STOP_COMMANDS)
        return ch.isalnum() or ch in "([{"

    def factor(self) -> Any:
        """A primary with its postfix powers, transposes and subscripts."""
        self.enter()
        value = self.primary()
        while True:
            if self.at("^"):
                value = self.superscript(value)
            elif self.at("_") and _is_matrix(value):
                value = self.element(value)
            else:
                break
        self.leave()
        return value

    def superscript(self, base) -> Any:
        self.expect("^", "")
        if self.take("{"):
            if self.take(r"\top"):
                self.expect("}", r"after ^{\top")
                return sp.Transpose(base)
            if self.take(r"\circ"):
                exponent = self.expression()
                self.expect("}", "to close the exponent")
                if exponent == 2:
                    return Elementwise("square", base)
                if not (isinstance(exponent, sp.Rational) and _is_matrix(base)):
                    raise self.error("^{\\circ r} is read for a matrix and a rational r")
                # An entrywise power such as (σ² + ε)^{∘ −1/2}, layer norm's scale.
                return sp.HadamardPower(base, exponent)
            exponent = self.expression()
            self.expect("}", "to close the exponent")
        else:
            exponent = self.single()
        if _is_matrix(base):
            if exponent == -1:
                return sp.Inverse(base)
            raise self.error("a matrix power other than ^{-1} is not read")
        return base**exponent

    def single(self) -> Any:
        """One character after ^ or _ without braces: a digit or a letter."""
        self.skip()
        if self.pos >= len(self.text):
            raise self.error("missing exponent or subscript")
        ch = self.text[self.pos]
        if ch.isdigit():
            self.pos += 1
            return sp.Integer(ch)
        return self.primary()

    # ------------------------------------------------------------ primaries
    def primary(self) -> Any:
        self.skip()
        if self.pos >= len(self.text):
            raise self.error("unexpected end of input: an operand is missing")
        ch = self.text[self.pos]
        if ch.isdigit() or (ch == "." and self.text[self.pos + 1 : self.pos + 2].isdigit()):
            return self.number()
        if self.at(r"\left("):
            return self.group(r"\left(", r"\right)")
        if self.at(r"\left|"):
            return sp.Abs(self.group(r"\left|", r"\right|"))
        if ch == "(":
            return self.group("(", ")")
        if ch == "{":
            return self.group("{", "}")
        if ch == "[":
            return self.bracketed_element()
        if ch == "e" and self.text[self.pos + 1 : self.pos + 2] == "^":
            # e^{x} is exp(x) even where a name e exists (a size, say): that is how the
            # printer writes exp, and printed_names refuses a power of a symbol e.
            self.pos += 1
            self.expect("^", "")
            if self.take("{"):
                exponent = self.expression()
                self.expect("}", "to close the exponent of e")
            else:
                exponent = self.single()
            return sp.exp(exponent)
        matched = self.scope_name()
        if matched is not None:
            return matched
        if self.word_at(r"H\left("):  # the printer's Heaviside step, H(0) = 0
            self.pos += 1
            return sp.Heaviside(self.group(r"\left(", r"\right)"), 0)
        for command, handler in self._COMMANDS:
            if self.at(command):
                return handler(self)
        return self.plain_name()

    def number(self) -> sp.Expr:
        start = self.pos
        while self.pos < len(self.text) and self.text[self.pos].isdigit():
            self.pos += 1
        if (
            self.text[self.pos : self.pos + 1] == "."
            and self.text[self.pos + 1 : self.pos + 2].isdigit()
        ):
            self.pos += 1
            while self.pos < len(self.text) and self.text[self.pos].isdigit():
                self.pos += 1
        digits = self.text[start : self.pos]
        if len(digits) > 40:
            raise self.error(f"number too long: {len(digits)} characters", start)
        return sp.Rational(digits)

    def group(self, opening: str, closing: str) -> Any:
        start = self.pos
        self.expect(opening, "")
        value = self.expression()
        if not self.take(closing):
            raise self.error(
                f"expected {closing!r} to close the {opening!r} at column {start + 1}, "
                f"found {self.peek_word()!r}"
            )
        return value

    def bracketed_element(self) -> Any:
        """``[W_{2}]_{pq}``: an entry of a matrix whose name has a subscript."""
        start = self.pos
        self.expect("[", "")
        matrix = self.expression()
        self.expect("]", f"to close the '[' at column {start + 1}")
        if not (_is_matrix(matrix) and self.at("_")):
            raise self.error("[...] is read only as [matrix]_{entry}", start)
        return self.element(matrix)

    def braced(self, context: str) -> Any:
        self.expect("{", context)
        value = self.expression()
        self.expect("}", context)
        return value

    def scope_name(self) -> Any:
        """The longest name of the scope written here (bound sum variables first)."""
        self.skip()
        for frame in reversed(self.bound):
            for key in sorted(frame, key=len, reverse=True):
                if self._name_at(key):
                    self.pos += len(key)
                    return frame[key]
        for key in self.keys:
            function = isinstance(self.names[key], sp.FunctionClass)
            if self._name_at(key, primes_follow=function):
                self.pos += len(key)
                return self.after_name(self.names[key], key)
        return None

    def _name_at(self, key: str, primes_follow: bool = False) -> bool:
        if not self.text.startswith(key, self.pos):
            return False
        end = self.pos + len(key)
        nxt = self.text[end : end + 1]
        # \\mu must not match the start of a longer command, nor the symbol f the start of
        # f' (a function's primes are its derivative: they may follow).
        if key[-1].isalpha() and key.startswith("\\") and nxt.isalpha():
            return False
        return primes_follow or not (nxt == "'" and not key.endswith("'"))

    def after_name(self, value, key: str) -> Any:
        """A name just read: call it if it is a function, index it if it is a matrix."""
        if isinstance(value, sp.FunctionClass) and self.at("_"):  # g_{k}: a sequence, g(k)
            self.expect("_", "")
            return value(self.braced("in the subscript") if self.at("{") else self.single())
        if isinstance(value, sp.FunctionClass):
            primes = self.primes()
            args = self.call_arguments(key)
            if primes:
                if len(args) != 1 or primes > 1:
                    raise self.error(f"{key}' is read for one argument and one prime only")
                return derivative_of(value)(args[0])
            return value(*args)
        if isinstance(value, sp.IndexedBase) and self.at("_"):
            return self.element(value)
        return value

    def primes(self) -> int:
        count = 0  # primes follow their name directly: no space is skipped before them
        while self.text.startswith("'", self.pos):
            self.pos += 1
            count += 1
        return count

    def call_arguments(self, name: str) -> list[Any]:
        """``{\\left(a \\right)}``, ``\\left(a, b\\right)`` or ``\\left[a\\right]``."""
        braced = self.take("{")
        if self.take(r"\left("):
            closing = r"\right)"
        elif self.take(r"\left["):
            closing = r"\right]"
        else:
            raise self.error(f"expected the arguments of {name}, found {self.peek_word()!r}")
        args = [self.expression()]
        while self.take(","):
            args.append(self.expression())
        self.expect(closing, f"to close the arguments of {name}")
        if braced:
            self.expect("}", f"after the arguments of {name}")
        return args

    def plain_name(self) -> Any:
        """A name not in the scope: a letter, a Greek letter, \\mathrm{...}, \\hat{x}, ..."""
        start = self.pos
        ch = self.text[self.pos]
        if self.word_at(r"\pi"):
            self.pos += 3
            return sp.pi
        if ch == "e" and not self.text[self.pos + 1 : self.pos + 2].isalpha():
            self.pos += 1
            return sp.E  # the printer writes Euler's number as a bare e
        if ch.isalpha() and ch.isascii():
            self.pos += 1
        elif ch == "\\":
            word = self.peek_word()
            if word[1:] in GREEK:
                self.pos += len(word)
            elif word in NAME_COMMANDS:
                self.pos += len(word)
                self.braced_text()
            else:
                raise self.error(f"unknown command {word!r}")
        else:
            raise self.error(f"unexpected {ch!r}")
        self.primes()
        key = self.text[start : self.pos]
        if self.at("_"):
            key += self.subscript_text()
        return sp.Symbol(key)

    def subscript_text(self) -> str:
        self.expect("_", "")
        if self.at("{"):
            return "_" + self.braced_text()
        ch = self.text[self.pos : self.pos + 1]
        self.pos += 1
        return "_" + ch

    # ------------------------------------------------------------ entries
    def element(self, matrix) -> Any:
        """``x_{i}``, ``W_{pq}``, ``W_{i,j + 1}``: an entry of a matrix or indexed base."""
        self.expect("_", "")
        start = self.pos
        single = isinstance(matrix, sp.IndexedBase) or matrix.shape[1] == 1
        if not self.at("{"):
            indices = [self.single()]
        else:
            self.pos += 1
            # A column's subscript is one index (x_{10} is x[10]); a matrix's may be two
            # letters written together (W_{pq}).
            indices = self.index_list() if single else self.indices()
            self.expect("}", f"to close the subscript at column {start + 1}")
        if isinstance(matrix, sp.IndexedBase):
            return matrix[tuple(indices)]
        if len(indices) == 1 and single:
            indices.append(sp.Integer(0))
        if len(indices) != 2:
            raise self.error("a matrix entry has two indices", start)
        # Kept as an entry of the whole product, as printed: (A B)_{j} is not expanded
        # into a sum here.
        return MatrixElement(matrix, *indices)

    def indices(self) -> list[Any]:
        """Comma-separated, or two single letters/digits written together (``pq``)."""
        self.skip()
        rest = self.text[self.pos :]
        if len(rest) >= 3 and rest[0].isalnum() and rest[1].isalnum() and rest[2] == "}":
            first, second = (self.index_atom(c) for c in rest[:2])
            self.pos += 2
            return [first, second]
        return self.index_list()

    def index_list(self) -> list[Any]:
        out = [self.expression()]
        while self.take(","):
            out.append(self.expression())
        return out

    def index_atom(self, ch: str) -> Any:
        if ch.isdigit():
            return sp.Integer(ch)
        for frame in reversed(self.bound):
            if ch in frame:
                return frame[ch]
        value = self.names.get(ch)
        return value if value is not None else sp.Symbol(ch, integer=True)

    # ------------------------------------------------------------ commands
    def frac(self) -> Any:
        start = self.pos
        self.expect(r"\frac", "")
        self.expect("{", r"after \frac")
        if self.at(r"\partial"):
            return self.derivative(start)
        top = self.expression()
        self.expect("}", r"to close the numerator of \frac")
        bottom = self.braced(r"around the denominator of \frac")
        if bottom == 0:
            raise self.error("division by zero", start)
        return top / bottom

    def derivative(self, start: int) -> Any:
        r"""``\frac{\partial f}{\partial x}`` or ``\frac{\partial}{\partial x} \left(f\right)``."""
        self.expect(r"\partial", "")
        order = 1
        if self.at("^"):
            self.pos += 1
            order = int(self.braced("around the order of the derivative"))
        body = None if self.at("}") else self.expression()
        self.expect("}", r"to close the numerator of \frac")
        self.expect("{", r"around the denominator of \frac")
        variables = []
        while self.take(r"\partial"):
            variable = self.derivative_variable()
            count = 1
            if self.at("^"):
                self.pos += 1
                count = int(self.braced("around the power of the variable"))
            variables.append((variable, count))
        self.expect("}", r"to close the denominator of \frac")
        if sum(c for _, c in variables) != order:
            raise self.error("the order of the derivative does not match its variables", start)
        if body is None:
            if not self.at(r"\left("):
                raise self.error(r"expected \left( after the operator \frac{\partial}{...}")
            body = self.group(r"\left(", r"\right)")
        return sp.Derivative(body, *variables)

    def derivative_variable(self) -> Any:
        value = self.primary()
        while self.at("_") and _is_matrix(value):
            value = self.element(value)
        return value

    def sqrt(self) -> Any:
        self.expect(r"\sqrt", "")
        if self.take("["):
            degree = self.expression()
            self.expect("]", r"after the degree of \sqrt")
            return sp.root(self.braced(r"around the argument of \sqrt"), degree)
        return sp.sqrt(self.braced(r"around the argument of \sqrt"))

    def big_operator(self) -> Any:
        kind = sp.Sum if self.at(r"\sum") else sp.Product
        self.pos += len(r"\sum") if kind is sp.Sum else len(r"\prod")
        self.expect("_", "after the big operator")
        self.expect("{", "around the limits")
        self.skip()
        name_start = self.pos
        plain = self.plain_name()
        name = self.text[name_start : self.pos]
        self.expect("=", "in the lower limit")
        low = self.expression()
        self.expect("}", "to close the lower limit")
        self.expect("^", "before the upper limit")
        high = self.braced("around the upper limit") if self.at("{") else self.single()
        variable = sp.Symbol(str(plain), integer=True)
        self.bound.append({name: variable})
        try:
            body = self.signed_term()
        finally:
            self.bound.pop()
        return kind(body, (variable, low, high))

    def delta(self) -> Any:
        self.expect(r"\delta", "")
        self.expect("_", r"after \delta")
        self.expect("{", r"around the indices of \delta")
        indices = self.indices()
        self.expect("}", r"to close the indices of \delta")
        if len(indices) != 2:
            raise self.error(r"\delta takes two indices")
        return sp.KroneckerDelta(*indices)

    def ones(self) -> Any:
        self.expect(r"\mathbf{1}", "")
        self.expect("_", r"after \mathbf{1}")
        self.expect("{", r"around the size of \mathbf{1}")
        rows = self.term()
        cols = sp.Integer(1)
        if self.take(r"\times"):
            cols = self.term()
        self.expect("}", r"to close the size of \mathbf{1}")
        return sp.OneMatrix(rows, cols)

    def identity(self) -> Any:
        self.expect("I", "")
        self.expect("_", "after I")
        size = self.braced("around the size of I") if self.at("{") else self.single()
        return sp.Identity(size)

    def function(self) -> Any:
        """A named function: scalar, elementwise on a matrix, or a matrix function."""
        start = self.pos
        head = self.peek_word()
        if head in (r"\operatorname", r"\mathbb"):  # \operatorname{tr}, \mathbb{E}
            self.pos += len(head)
            head += self.braced_text()
        else:
            self.pos += len(head)
        if head == r"\log" and self.at(r"\operatorname{softmax}"):
            self.pos += len(r"\operatorname{softmax}")
            axis = self.axis()
            return LogSoftmax(self.call_arguments("log softmax")[0], axis)
        if head == r"\operatorname{softmax}":
            axis = self.axis()
            return Softmax(self.call_arguments("softmax")[0], axis)
        primes = self.primes()
        args = self.call_arguments(head)
        if head == r"\operatorname{masked-softmax}" and len(args) == 2:
            return MaskedSoftmax(*args)
        if len(args) != 1:
            raise self.error(f"{head} takes one argument", start)
        (arg,) = args
        if head == r"\operatorname{diag}":
            return sp.DiagMatrix(arg)
        if head in (r"\operatorname{tr}",):
            return sp.Trace(arg)
        if head == r"\det":
            return sp.Determinant(arg)
        if head in (r"\operatorname{E}", r"\mathbb{E}"):
            from sympy.stats import Expectation

            return Expectation(arg)
        if _is_matrix(arg) and head in _ELEMENTWISE_HEADS:
            name = _ELEMENTWISE_HEADS[head] + ("_prime" if primes == 1 else "")
            if primes > 1 or name not in ELEMENTWISE:
                raise self.error(f"{head} with {primes} primes is not an elementwise function")
            return Elementwise(name, arg)
        scalar = _scalar_function(head)
        if scalar is None:
            raise self.error(f"unknown function {head!r}", start)
        if primes:
            if primes > 1:
                raise self.error(f"{head} with {primes} primes is not read", start)
            return derivative_of(scalar)(arg)
        return scalar(arg)

    def axis(self) -> int:
        if self.take(r"_{\mathrm{row}}"):
            return 1
        return 0

    _COMMANDS: tuple = ()


def _combine(verb: str, a, b, where: ParseError):
    """``a + b`` or ``a b`` (``verb`` says which), with shapes that must fit."""
    a_matrix, b_matrix = _is_matrix(a), _is_matrix(b)
    if verb == "multiply":
        if a_matrix and b_matrix and a.shape[1] != b.shape[0]:
            _shape_error(f"cannot multiply {_shape(a)} by {_shape(b)}", where)
        return a * b
    # A number and a 1 × 1 matrix add as 1 × 1 matrices: 1 − wᵀw, m + LSE(z − m𝟏).
    if a_matrix and not b_matrix and a.shape == (1, 1):
        return a + b * sp.Identity(1)
    if b_matrix and not a_matrix and b.shape == (1, 1):
        return a * sp.Identity(1) + b
    if a_matrix != b_matrix or (a_matrix and a.shape != b.shape):
        _shape_error(f"cannot {verb} {_shape(a)} and {_shape(b)}", where)
    return a + b


def _shape(value) -> str:
    return f"{value.shape[0]}×{value.shape[1]}" if _is_matrix(value) else "a scalar"


def _shape_error(message: str, where: ParseError):
    raise ParseError(message, where.column)


def _scalar_function(head: str) -> Callable | None:
    if head in _SCALAR_COMMANDS:
        return _SCALAR_COMMANDS[head]
    if head in _ELEMENTWISE_HEADS:
        return ELEMENTWISE[_ELEMENTWISE_HEADS[head]]
    if head == r"\phi":
        return ELEMENTWISE["phi"]
    return None


def _is_matrix(value) -> bool:
    return isinstance(value, sp.MatrixExpr | sp.IndexedBase) and not isinstance(
        value, MatrixElement
    )


def _function_or_name(reader: _Reader) -> Any:
    word = reader.peek_word()
    if word == r"\mathbb":
        if reader.text.startswith(r"\mathbb{E}", reader.pos):
            return reader.function()
        return reader.plain_name()
    if word == r"\operatorname" or word in _SCALAR_COMMANDS or word in _ELEMENTWISE_HEADS:
        # \sigma and \varphi name a function only when a call follows; otherwise a symbol.
        after = reader.pos + len(word)
        rest = reader.text[after:]
        if word == r"\operatorname":
            return reader.function()
        if rest.startswith(("{\\left(", "\\left(", "'", "\\operatorname{softmax}")):
            return reader.function()
    if word == r"\phi" and reader.text[reader.pos + 4 :].startswith(("{\\left(", "'")):
        return reader.function()
    return reader.plain_name()


_Reader._COMMANDS = (
    (r"\frac", _Reader.frac),
    (r"\sqrt", _Reader.sqrt),
    (r"\sum", _Reader.big_operator),
    (r"\prod", _Reader.big_operator),
    (r"\delta_", _Reader.delta),
    (r"\mathbf{1}", _Reader.ones),
    ("I_", _Reader.identity),
    (r"\det", _Reader.function),
    ("\\", _function_or_name),
)
