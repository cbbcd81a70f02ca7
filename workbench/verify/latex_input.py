r"""Read a learner's LaTeX into the claim language's parse tree.

``workbench verify`` accepts LaTeX wherever it accepts the plain language (``--function``,
``--claim``, ``--assume``, each line of a steps file): text that :func:`is_latex` is read
by :func:`parse_latex` into the same frozen nodes :mod:`workbench.verify.parsing` makes, so
shapes, the constants e and π, shape errors, assumptions and every diagnosis work
unchanged. Like the claim parser it never evaluates text: a recursive descent over the
characters (the scanner of :mod:`workbench.verify.latex_scan`), with the claim parser's
limits on length (:data:`~workbench.verify.lexer.MAX_LENGTH`) and nesting
(:data:`~workbench.verify.parsing.MAX_DEPTH`), and one :class:`~workbench.errors.ParseError`
with the 1-based column for anything it cannot read.

What the notation means:

* **Products.** Juxtaposition, ``\cdot`` and ``\times`` are the product of mathematics: the
  matrix product of two matrices (``W x``, ``s s^\top``), scaling when one side is a
  scalar. ``\odot`` and ``\circ`` are entry by entry and bind more loosely than
  juxtaposition, so ``W^\top \delta \odot \sigma'(a)`` is ``(W^\top \delta) \odot \sigma'(a)``.
* **Powers.** ``^\top``, ``^T``, ``^{\intercal}``, ``^{\mathsf{T}}`` transpose; ``X^{-1}``
  and ``X^{2}`` of a square matrix are the inverse and the matrix power, of anything
  else the power entry by entry (``^{\circ 2}`` is always entry by entry).
* **Subscripts.** ``W_{2}`` is the declared name ``W2`` (or ``W_2``); a subscript of a
  declared vector or matrix is an entry, ``x_{1}`` the *first* entry (mathematics counts
  from 1; the plain language's ``x[0]``), ``W_{12}`` or ``W_{1,2}`` row 1, column 2; a
  subscript of an undeclared name is a scalar named by its text (``x_1``).
* **Index notation.** ``\sum_{k=1}^{n}`` and ``\sum_{k=0}^{n-1}`` both run over the whole
  range of what k indexes (an index counts from 0 when its sum starts at 0, from 1
  otherwise), and name its size: the n of ``\frac{1}{n} \sum_{i=1}^{n} x_i`` is the length
  of x. ``\sum_k`` without limits runs over the length of what k indexes; ``\prod`` is the
  same for products. An index left free means the vector over its range, two free
  indices the matrix (rows by the first in alphabetical order), so ``s_j - y_j`` is the
  vector ``s - y``, and ``\delta_{ij}`` is Kronecker's delta.
* **Derivatives.** ``\frac{\partial f}{\partial x}``, ``\frac{\partial}{\partial x} f``,
  ``\frac{d f}{d x}`` and ``\nabla_x f`` at the top of a formula are ``diff(f, x)``, as the
  first line of a steps file (``Call("diff", (f, x))``; for ``\partial z_j`` with j free
  the variable is ``Subscript(z, j)``: the derivative with respect to z, entry by entry,
  which a caller may take as ``diff(f, z)``). Inside a formula they are the derivative by
  one entry or scalar (``\sum_k \frac{\partial e^{z_k}}{\partial z_j}``).
* **Functions.** ``\log \ln \exp \sin \cos \tanh \sqrt \det``, ``e^{x}``, ``\sigma`` (the
  sigmoid, when called), ``\operatorname{softmax}``, ``\mathrm{diag}``,
  ``\operatorname{tr}``, ``\max``, ``\min`` (``\max(a, b)`` entry by entry; ``\max(x)``
  and ``\max_i x_i`` the largest entry), ``\lVert x \rVert`` (the norm), ``|x|``;
  ``\log s_k`` without parentheses takes the next factor. ``\sigma'``, ``\tanh'`` and
  ``\phi'`` are the derivatives the plain language calls ``sigmoid_prime`` and so on.
* **Names.** One letter (``xy`` is x times y), a Greek letter (``\alpha`` is ``alpha``),
  ``\mathbf{x}``, ``\boldsymbol{\theta}`` (``x``, ``theta``), ``\mathrm{NLL}``;
  ``\hat{y}``, ``\bar{x}``, ``\tilde{x}`` are ``y_hat``, ``x_bar``, ``x_tilde``.
  ``\mathbf{1}_{n}`` is ``ones(n)``, ``I_{n}`` is ``eye(n)``.

Example:
    >>> from workbench.verify.claim_format import unparse
    >>> unparse(parse_latex(r"\frac{\partial L}{\partial z_j}"))
    'diff(L, z_j)'
    >>> is_latex("x.T @ A @ x"), is_latex(r"x^\top A x")
    (False, True)
"""

from __future__ import annotations

import re
from collections.abc import Collection

from workbench.errors import ParseError
from workbench.verify import index_notation  # noqa: F401 (gives the nodes made here a value)
from workbench.verify.latex_scan import GREEK, STOP_COMMANDS, Scanner
from workbench.verify.lexer import MAX_DIGITS, MAX_LENGTH
from workbench.verify.parsing import (
    AXIS_FUNCTIONS,
    Binary,
    Call,
    Derivative,
    Kronecker,
    Name,
    Node,
    Number,
    Subscript,
    Sum,
    Transpose,
    Unary,
    made,
    parse,
)

# Commands (and \operatorname{...} words) that name a function of the plain language.
_FUNCTIONS = {
    r"\log": "log",
    r"\ln": "log",
    r"\exp": "exp",
    r"\sin": "sin",
    r"\cos": "cos",
    r"\tanh": "tanh",
    r"\cosh": "cosh",
    r"\sinh": "sinh",
    r"\arctan": "atan",
    r"\det": "det",
    r"\max": "max",
    r"\min": "min",
}
_OPERATOR_WORDS = {
    "softmax": "softmax",
    "diag": "diag",
    "tr": "trace",
    "Tr": "trace",
    "trace": "trace",
    "det": "det",
    "sigmoid": "sigmoid",
    "ReLU": "relu",
    "relu": "relu",
    "softplus": "softplus",
    "sign": "sign",
    "sgn": "sign",
    "erf": "erf",
    "LSE": "logsumexp",
    "logsumexp": "logsumexp",
    "mean": "mean",
    "GELU": "gelu",
    "step": "step",
    "log-softmax": "log_softmax",
    "log_softmax": "log_softmax",
    "cumsum": "cumsum",
}
# A function written with primes: its derivative, as the plain language names it.
_PRIMED = {"sigmoid": "sigmoid_prime", "tanh": "tanh_prime", "relu": "relu_prime"}
# Decorations that make a name: \hat{y} is y_hat.
_DECORATIONS = {r"\hat": "hat", r"\bar": "bar", r"\tilde": "tilde", r"\overline": "bar"}
_BOLD = (r"\mathbf", r"\boldsymbol", r"\bm", r"\mathit", r"\vec", r"\mathrm", r"\mathsf")
_TRANSPOSES = (r"\top", r"\intercal", "T", r"\mathsf{T}", r"\mathrm{T}", r"\mathsf{\top}")
_OPEN_CLOSE = (
    (r"\left(", r"\right)"),
    (r"\left[", r"\right]"),
    (r"\bigl(", r"\bigr)"),
    (r"\Bigl(", r"\Bigr)"),
    (r"\biggl(", r"\biggr)"),
    (r"\big(", r"\big)"),
    (r"\Big(", r"\Big)"),
    (r"\left\{", r"\right\}"),
    ("(", ")"),
    ("[", "]"),
)
_CLOSINGS = (r"\right", r"\rVert", r"\rvert", r"\bigr", r"\Bigr", r"\biggr", r"\big)", r"\Big)")
_NORMS = ((r"\left\|", r"\right\|"), (r"\lVert", r"\rVert"), (r"\|", r"\|"))
_ABS = ((r"\left|", r"\right|"), (r"\lvert", r"\rvert"), ("|", "|"))
_NOT_READ = {
    r"\cdots": "'\\cdots' leaves terms out: write the sum with \\sum",
    r"\ldots": "'\\ldots' leaves terms out: write the sum with \\sum",
    r"\dots": "'\\dots' leaves terms out: write the sum with \\sum",
    r"\int": "integrals are not read",
    r"\lim": "limits are not read",
    r"\\": "a line break '\\\\' ends a formula: give one formula at a time",
}
WORD_FUNCTIONS = {  # a function the LaTeX reader knows by its bare word: log(x)
    **{w: w for w in ("log", "exp", "sin", "cos", "tanh", "softmax", "sigmoid", "diag", "det")},
    **{"ln": "log", "tr": "trace", "trace": "trace", "relu": "relu", "ReLU": "relu"},
}
_AXIS = re.compile(r"_\s*\{\s*\\text\s*\{\s*axis\s*\}\s*=\s*([01])\s*\}")
_SPLIT_INDICES = re.compile(r"\s*[A-Za-z0-9](\s*[A-Za-z0-9])+\s*")


def is_latex(text: str) -> bool:
    """Is ``text`` LaTeX rather than the plain language?

    A backslash, a brace or a ``$`` is never plain language (its lexer refuses all
    three), so any of them means LaTeX: ``x^{2}``, ``x_{i}``, ``x^\\top A x``.
    """
    return any(ch in text for ch in "\\{}$")


def parse_any(text: str, sequences: Collection[str] = ()) -> Node:
    """``text`` read as LaTeX if :func:`is_latex`, else as the plain language (in which
    the names ``sequences`` may be called: ``g(k)``)."""
    return parse_latex(text) if is_latex(text) else parse(text, sequences)


def split_equation(text: str) -> tuple[str, str] | None:
    """``lhs = rhs`` at brace depth 0 (a sum's ``k=1`` sits inside braces); None if the
    text has no such '=' or more than one."""
    depth, found = 0, []
    for i, ch in enumerate(text):
        depth += {"{": 1, "}": -1}.get(ch, 0)
        if ch == "=" and depth == 0:
            found.append(i)
    if len(found) != 1:
        return None
    return text[: found[0]], text[found[0] + 1 :]


def parse_latex(text: str, offset: int = 0) -> Node:
    """The claim-language tree of one LaTeX formula (math mode; ``$`` delimiters allowed).

    Args:
        text: e.g. ``r"\\frac{\\partial L}{\\partial z_j} "`` or ``r"s_j - y_j"``.
        offset: added to every column, for text cut out of a longer line.

    Returns:
        The tree; a derivative at the top is ``Call("diff", (f, x))``.

    Raises:
        ParseError: with the 1-based column, for anything outside the notation or the
            limits of :mod:`workbench.verify.parsing`.

    Example:
        >>> from workbench.verify.claim_format import unparse
        >>> unparse(parse_latex(r"x^\\top A x"))
        'x.T @ A @ x'
    """
    if len(text) > MAX_LENGTH:
        raise ParseError(f"expression too long: {len(text)} characters (at most {MAX_LENGTH})")
    body, start = _unwrapped(text)
    reader = _Reader(body, offset + start)
    if reader.at_end():
        raise ParseError("empty expression", offset + 1)
    node = reader.expression()
    reader.take(".") or reader.take(",")  # a formula may end a sentence
    if not reader.at_end():
        raise reader.error(f"unexpected {reader.peek_word()!r}")
    if isinstance(node, Derivative):
        return made(Call("diff", (node.body, node.variable), node.column))
    return node


def _unwrapped(text: str) -> tuple[str, int]:
    """``text`` without ``$...$``, ``$$...$$``, ``\\(...\\)`` or ``\\[...\\]`` around it,
    and the number of characters dropped in front."""
    stripped = text.strip()
    if stripped.endswith(("$.", "$,")):  # a display that ends a sentence
        stripped = stripped[:-1]
    lead = len(text) - len(text.lstrip())
    for opening, closing in (("$$", "$$"), ("$", "$"), (r"\(", r"\)"), (r"\[", r"\]")):
        if (
            len(stripped) >= len(opening) + len(closing)
            and stripped.startswith(opening)
            and stripped.endswith(closing)
        ):
            inner = stripped[len(opening) : len(stripped) - len(closing)]
            return " " * (lead + len(opening)) + inner, 0
    return text, 0


class _Reader(Scanner):
    """Recursive descent: expression → ⊙-term → product → factor → primary."""

    def __init__(self, text: str, offset: int):
        super().__init__(text, offset, extra_space="&")
        self.norms = 0  # ‖ ... ‖ open here

    def column(self) -> int:
        self.skip()
        return self.pos + 1 + self.offset

    # ------------------------------------------------------------ sums and products
    def expression(self) -> Node:
        """``[±] term {± term}``."""
        self.enter()
        column = self.column()
        if self.take("-"):
            node = made(Unary("-", self.hadamard(), column))
        else:
            self.take("+")
            node = self.hadamard()
        while True:
            column = self.column()
            if self.take("+"):
                node = made(Binary("+", node, self.hadamard(), column))
            elif self.take("-"):
                node = made(Binary("-", node, self.hadamard(), column))
            elif self.at("=") or self.at("<") or self.at(">"):
                raise self.error(f"unexpected {self.peek_word()!r}: give one side of an equation")
            else:
                break
        self.leave()
        return node

    def hadamard(self) -> Node:
        """Products joined by ``\\odot`` or ``\\circ`` (entry by entry)."""
        self.enter()
        node = self.product()
        while True:
            column = self.column()
            if self.take(r"\odot") or self.take(r"\circ"):
                node = made(Binary("*", node, self.product(), column))
            else:
                break
        self.leave()
        return node

    def product(self) -> Node:
        """Factors joined by juxtaposition, ``\\cdot``, ``\\times``, ``*`` or ``/``."""
        self.enter()
        node = self.factor()
        while True:
            column = self.column()
            if self.take(r"\cdot") or self.take(r"\times") or self.take("*"):
                node = made(Binary("@", node, self.factor(), column, implicit=True))
            elif self.take("/"):
                node = made(Binary("/", node, self.factor(), column))
            elif self.starts_factor():
                node = made(Binary("@", node, self.factor(), column, implicit=True))
            else:
                break
        self.leave()
        return node

    def starts_factor(self) -> bool:
        self.skip()
        if self.pos >= len(self.text):
            return False
        ch = self.text[self.pos]
        if ch == "\\":
            if any(self.word_at(w) for w in STOP_COMMANDS + _CLOSINGS):
                return False
            if any(self.word_at(opening) for opening, _ in _OPEN_CLOSE):
                return True
            if self.word_at(r"\|"):
                return self.norms == 0  # inside ‖...‖ the next \| closes it
            return self.peek_word() not in (r"\circ", r"\big", r"\Big")
        return ch.isalnum() or ch in "([{"

    # ------------------------------------------------------------ factors
    def factor(self) -> Node:
        """A primary with its superscripts and subscripts."""
        self.enter()
        node = self.primary()
        while True:
            if self.at("^"):
                node = self.superscript(node)
            elif self.at("_"):
                node = self.subscript(node)
            else:
                break
        self.leave()
        return node

    def superscript(self, base: Node) -> Node:
        column = self.column()
        order = re.match(r"\^\{\s*\(\s*([0-9]{1,2})\s*\)\s*\}", self.text[self.pos :])
        if order and isinstance(base, Name) and "'" not in base.name:
            # f^{(5)}: the fifth derivative of an unspecified f (not a power), with five
            # primes in the plain language; named as f' is (see primed).
            self.pos += order.end()
            return Name(_prime_name(base.name, int(order.group(1))), base.column)
        self.expect("^", "")
        braced = self.take("{")
        for word in _TRANSPOSES:
            if self.take(word):
                if braced:
                    self.expect("}", "after the transpose")
                return made(Transpose(base, column))
        if braced and self.at("-") and self._transpose_after_minus():
            self.expect("}", "after the transpose of the inverse")
            inverse = made(Binary("**", base, _minus_one(column), column, implicit=True))
            return made(Transpose(inverse, column))
        order = re.match(r"\s*\(\s*([1-9])\s*\)\s*\}", self.text[self.pos :]) if braced else None
        if order and isinstance(base, Name):  # f^{(4)}: the value of the fourth derivative
            self.pos += order.end()
            return Name(_prime_name(base.name, int(order.group(1))), base.column)
        entrywise = braced and self.take(r"\circ")
        if braced:
            exponent = self.expression()
            self.expect("}", "to close the exponent")
        else:
            exponent = self.single()
        return made(Binary("**", base, exponent, column, implicit=not entrywise))

    def _transpose_after_minus(self) -> bool:
        """``^{-\\top}`` or ``^{-T}``: the inverse transposed; consumes them if so."""
        saved = self.pos
        self.take("-")
        for word in _TRANSPOSES:
            if self.take(word):
                return True
        self.pos = saved
        return False

    def single(self) -> Node:
        """What follows ``^`` or ``_`` without braces: one digit, one letter, one command."""
        self.skip()
        column = self.column()
        if self.pos >= len(self.text):
            raise self.error("missing exponent or subscript")
        ch = self.text[self.pos]
        if ch.isdigit():
            self.pos += 1
            return Number(ch, column)
        return self.primary()

    def subscript(self, base: Node) -> Node:
        column = self.column()
        self.expect("_", "")
        if self.at("{"):
            start = self.pos
            raw = self.braced_text()[1:-1]
            text = "".join(raw.split())
            inner = _Reader(raw, self.offset + start + 1)
            # f_{+}, f_{-}: a name's mark (f(x + h), f(x − h)), and H_{X|Y} (given): not
            # indices
            named = text in ("+", "-") or re.fullmatch(r"[A-Za-z]+\|[A-Za-z]+", text)
            indices = (Name(text, start),) if named else inner.indices(raw)
        else:
            self.skip()
            start = self.pos
            index = self.single()
            text = self.text[start : self.pos].strip().lstrip("\\")
            indices = (index,)
        if not re.fullmatch(r"[A-Za-z0-9_+\-,|]+", text):
            raise self.error(f"a subscript of letters, digits, + - and commas, not {text!r}", start)
        return made(Subscript(base, indices, text.replace(",", ""), column))

    def indices(self, raw: str) -> tuple[Node, ...]:
        """``ij`` or ``12`` (one index a character), else ``i, j + 1`` (comma-separated)."""
        if _SPLIT_INDICES.fullmatch(raw):
            out = []
            for ch in raw:
                if not ch.isspace():
                    column = self.offset + self.pos + 1
                    self.pos += 1
                    out.append(Number(ch, column) if ch.isdigit() else Name(ch, column))
                else:
                    self.pos += 1
            return tuple(out)
        found = [self.expression()]
        while self.take(","):
            found.append(self.expression())
        if not self.at_end():
            raise self.error(f"unexpected {self.peek_word()!r} in a subscript")
        return tuple(found)

    # ------------------------------------------------------------ primaries
    def primary(self) -> Node:
        self.skip()
        column = self.column()
        if self.pos >= len(self.text):
            raise self.error("unexpected end of input: an operand is missing")
        ch = self.text[self.pos]
        if ch.isdigit() or (ch == "." and self.text[self.pos + 1 : self.pos + 2].isdigit()):
            return self.number()
        for word, message in _NOT_READ.items():
            if self.word_at(word):
                raise self.error(message)
        for opening, closing in _NORMS:
            if self.at(opening):
                self.norms += 1
                inner = self.group(opening, closing)
                self.norms -= 1
                self.take("_2")
                return made(Call("norm", (inner,), column))
        for opening, closing in _ABS:
            if self.at(opening):
                return made(Call("abs", (self.group(opening, closing),), column))
        for opening, closing in _OPEN_CLOSE:
            if self.at(opening):
                return self.group(opening, closing)
        if ch == "{":
            return self.group("{", "}")
        if ch == "e" and self.text[self.pos + 1 : self.pos + 2] == "^":
            self.pos += 1
            self.expect("^", "")
            if self.take("{"):
                exponent = self.expression()
                self.expect("}", "to close the exponent of e")
            else:
                exponent = self.single()
            return made(Call("exp", (exponent,), column))
        if ch == "\\":
            return self.command(column)
        if ch.isascii() and ch.isalpha():
            return self.letters(column)
        raise self.error(f"unexpected {ch!r}")

    def letters(self, column: int) -> Node:
        """One letter is a name (``xy`` is x times y); a letter with digits a name too
        (``W1``); a function's word written bare (``softmax(z)``, ``log(x)``) its call."""
        match = re.match(r"[A-Za-z]+", self.text[self.pos :])
        assert match is not None
        word = match.group(0)
        after = self.text[self.pos + len(word) : self.pos + len(word) + 1]
        if len(word) > 1 and word in WORD_FUNCTIONS and after == "(":
            self.pos += len(word)
            return self.call(WORD_FUNCTIONS[word], word, column)
        if re.fullmatch(r"[A-Z]{2,}", word) and self.text.startswith("_", self.pos + len(word)):
            # KL_{VAE}, NLL_{i}: a capital word with a subscript is one name (xy_i is x y_i)
            self.pos += len(word)
            return Name(word, column)
        ch = word[0]
        self.pos += 1
        if ch == "I" and self.at("_"):
            self.expect("_", "")
            return made(Call("eye", (self.size(),), column))
        if len(word) == 1:
            digits = re.match(r"[0-9]+", self.text[self.pos :])
            if digits:
                self.pos += len(digits.group(0))
                return Name(ch + digits.group(0), column)
        return self.primed(Name(ch, column), column)

    def number(self) -> Node:
        column = self.column()
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
        if len(digits) > MAX_DIGITS:
            raise self.error(f"number too long: {len(digits)} digits (at most {MAX_DIGITS})", start)
        return Number(digits, column)

    def group(self, opening: str, closing: str) -> Node:
        start = self.pos
        self.expect(opening, "")
        node = self.expression()
        if not self.take(closing):
            raise self.error(
                f"expected {closing!r} to close the {opening!r} at column "
                f"{start + 1 + self.offset}, found {self.peek_word()!r}"
            )
        return node

    def braced(self, context: str) -> Node:
        self.expect("{", context)
        node = self.expression()
        self.expect("}", context)
        return node

    def size(self) -> Node:
        """The size after ``\\mathbf{1}_`` or ``I_``: braced, or one character."""
        if self.at("{"):
            return self.braced("around the size")
        return self.single()

    def primed(self, name: Name, column: int) -> Node:
        """``f'``, ``f''``, ``f'''`` (and ``f^{(4)}``, read in :meth:`superscript`) are
        names of their own, the values of the derivatives of f: ``f_prime``,
        ``f_prime2``, ``f_prime3``. Called, ``f'(x)`` would be the derivative of a
        function the note never gives, which is not read."""
        primes = 0
        while self.text.startswith("'", self.pos + primes):
            primes += 1
        if not primes:
            return name
        self.pos += primes
        if self.at_parenthesis():
            raise self.error(
                f"{name.name}{chr(39) * primes}(...) is the derivative of a function not "
                "given: write its value as a name (f') or give the function; \\sigma', "
                "\\tanh' and \\phi' are read"
            )
        return Name(_prime_name(name.name, primes), column)

    def command(self, column: int) -> Node:
        word = self.peek_word()
        if word in (r"\frac", r"\tfrac", r"\dfrac"):
            return self.fraction(column)
        if word == r"\sqrt":
            return self.root(column)
        if word in (r"\sum", r"\prod"):
            return self.big_operator(column)
        if word == r"\nabla":
            self.pos += len(word)
            self.expect("_", r"after \nabla (the variable: \nabla_{x} f)")
            variable = self.size()
            return made(Derivative(self.product(), variable, column))
        if word == r"\partial":
            raise self.error(r"write a derivative as \frac{\partial f}{\partial x}")
        if word == r"\delta" and self.text.startswith("_", self.pos + len(word)):
            return self.delta(column)
        if word in (r"\mathbf", r"\mathbb", r"\boldsymbol", r"\bm") and re.match(
            r"\\(mathbf|mathbb|boldsymbol|bm)\{\s*[01]\s*\}", self.text[self.pos :]
        ):
            return self.ones(column)
        if word in _FUNCTIONS:
            self.pos += len(word)
            return self.call(_FUNCTIONS[word], word, column)
        if word in (r"\operatorname", r"\mathrm", r"\text", r"\textrm", r"\mathit"):
            inner = self.peek_braced(len(word))
            if inner in _OPERATOR_WORDS:
                self.pos += len(word)
                self.braced_text()
                return self.call(_OPERATOR_WORDS[inner], f"{word}{{{inner}}}", column)
        if word in (r"\sigma", r"\phi", r"\varphi") and self.called_after(len(word)):
            self.pos += len(word)
            function = "sigmoid" if word == r"\sigma" else "phi"
            return self.call(function, word, column)
        if word == r"\pi":
            self.pos += len(word)
            return Name("pi", column)
        if word[1:] in GREEK:
            self.pos += len(word)
            name = {"varepsilon": "epsilon", "vartheta": "theta", "varphi": "phi"}.get(
                word[1:], word[1:]
            )
            return self.primed(Name(name, column), column)
        if word in _BOLD or word in _DECORATIONS:
            return self.decorated_name(word, column)
        if word == r"\operatorname":
            inner = self.peek_braced(len(word))
            raise self.error(f"unknown function \\operatorname{{{inner}}}")
        raise self.error(f"unknown command {word!r}")

    def peek_braced(self, skip: int) -> str:
        saved = self.pos
        self.pos += skip
        try:
            return self.braced_text()[1:-1].strip() if self.at("{") else ""
        finally:
            self.pos = saved

    def called_after(self, skip: int) -> bool:
        """A call follows the command: ``(``, ``\\left(``, ``'``, or ``{\\left(``."""
        rest = self.text[self.pos + skip :]  # no space: the printer's \sigma \left(...) is σ·(...)
        return rest.startswith(("(", r"\left(", "'", r"{\left(", r"\bigl(", r"\big("))

    def decorated_name(self, word: str, column: int) -> Node:
        """``\\mathbf{x}`` → x, ``\\boldsymbol{\\theta}`` → theta, ``\\hat{y}`` → y_hat."""
        self.pos += len(word)
        if self.at("{"):
            start = self.pos
            raw = self.braced_text()[1:-1]
            inner = _Reader(raw, self.offset + start + 1).name_text()
        else:
            inner = self.name_text(one=True)
        suffix = _DECORATIONS.get(word)
        name = f"{inner}_{suffix}" if suffix else inner
        return self.primed(Name(name, column), column)

    def name_text(self, one: bool = False) -> str:
        """A name inside ``\\mathbf{...}``: letters and digits, or a Greek letter; with
        ``one``, what follows ``\\hat`` unbraced: one letter or one Greek letter."""
        self.skip()
        match = re.match(r"\\([A-Za-z]+)|([A-Za-z][A-Za-z0-9]*)", self.text[self.pos :])
        if not match:
            raise self.error(f"expected a name, found {self.peek_word()!r}")
        if match.group(1) is not None:
            if match.group(1) not in GREEK:
                raise self.error(f"expected a name, found '\\{match.group(1)}'")
            text = match.group(1)
        else:
            text = match.group(2)[:1] if one else match.group(2)
        self.pos += len(text) + (1 if match.group(1) is not None else 0)
        if not one and not self.at_end():
            raise self.error(f"unexpected {self.peek_word()!r} in a name")
        return text

    # ------------------------------------------------------------ calls
    def call(self, function: str, head: str, column: int) -> Node:
        r"""A function's argument: parenthesised (with commas), or the next factor; after
        ``\max`` or ``\min`` an index (``\max_i x_i``), after any function NumPy's axis as
        the claim's LaTeX prints it (``\operatorname{softmax}_{\text{axis}=1}(X)``)."""
        axis = None
        if self.at("_"):
            found = _AXIS.match(self.text, self.pos)
            if found:
                self.pos = found.end()
                axis = int(found.group(1))
                if function not in AXIS_FUNCTIONS:
                    raise self.error(f"{head} takes no axis", column - 1)
            elif function in ("max", "min"):
                return self.extremum(function, head, column)
        primes = 0
        while self.text.startswith("'", self.pos):
            self.pos += 1
            primes += 1
        power = None
        if self.at("^") and not primes:
            self.expect("^", "")
            power = self.braced("around the power") if self.at("{") else self.single()
        if primes:
            primed = {"phi": "phi_prime", **_PRIMED}.get(function)
            if primes > 1 or primed is None:
                raise self.error(f"{head} with {primes} prime(s) is not read")
            function = primed
        braced = self.take("{")
        args = self.arguments(head) if self.at_parenthesis() else [self.factor()]
        if braced:
            self.expect("}", f"after the argument of {head}")
        node: Node = made(Call(function, tuple(args), column, axis=axis))
        arity = (1,) if axis is not None else (1, 2) if function in ("max", "min") else None
        if arity is not None and len(args) not in arity:
            raise self.error(
                f"{head} takes one argument ({head}(x), the largest entry) or two "
                f"({head}(a, b), entry by entry), and one with an axis",
                column - 1,
            )
        if function not in ("max", "min") and len(args) != 1:
            raise self.error(f"{head} takes one argument, got {len(args)}", column - 1)
        if power is not None:
            node = made(Binary("**", node, power, column, implicit=True))
        return node

    def extremum(self, function: str, head: str, column: int) -> Node:
        r"""``\max_i x_i``, ``\min_{k} (a_k + b_k)``: over the range of the index, which
        runs over what it indexes, as in ``\sum_k``."""
        self.expect("_", "")
        index, lower = self.lower_limit()
        if lower is not None:
            raise self.error(f"write {head}_{{{index}}} with the index alone (no range)", column)
        return made(Sum(self.hadamard(), index, None, None, column, function))

    def at_parenthesis(self) -> bool:
        return any(self.at(opening) for opening, _ in _OPEN_CLOSE)

    def arguments(self, head: str) -> list[Node]:
        for opening, closing in _OPEN_CLOSE:
            if self.take(opening):
                args = [self.expression()]
                while self.take(","):
                    args.append(self.expression())
                self.expect(closing, f"to close the arguments of {head}")
                return args
        raise self.error(f"expected the argument of {head}")

    # ------------------------------------------------------------ commands
    def fraction(self, column: int) -> Node:
        word = self.peek_word()
        self.pos += len(word)
        marker = self.derivative_marker()
        if marker is not None:
            return self.derivative(column, marker)
        top = self.braced(f"around the numerator of {word}") if self.at("{") else self.single()
        bottom = self.braced(f"around the denominator of {word}") if self.at("{") else self.single()
        return made(Binary("/", top, bottom, column))

    def derivative_marker(self) -> str | None:
        r"""``\partial``, ``d`` or ``\mathrm{d}`` if the fraction here is a derivative:
        its numerator starts with the marker, and its denominator with the marker and a
        variable (so ``\frac{d}{2}`` stays d/2)."""
        saved = self.pos
        try:
            if not self.at("{"):
                return None
            numerator = self.braced_text()[1:-1].lstrip()
            if not self.at("{"):
                return None
            denominator = self.braced_text()[1:-1].lstrip()
        finally:
            self.pos = saved
        for marker in (r"\partial", r"\mathrm{d}", "d"):
            rest = denominator[len(marker) :].lstrip()
            if (
                numerator.startswith(marker)
                and denominator.startswith(marker)
                and not (marker == r"\partial" and numerator[len(marker) :][:1].isalpha())
                and (rest[:1].isalpha() or rest[:1] == "\\")
            ):
                return marker
        return None

    def take_marker(self, marker: str, context: str) -> None:
        self.skip()
        if not self.text.startswith(marker, self.pos):
            raise self.error(f"expected {marker!r} {context}, found {self.peek_word()!r}")
        self.pos += len(marker)

    def derivative(self, column: int, marker: str) -> Node:
        r"""``\frac{\partial f}{\partial x}``, ``\frac{\partial}{\partial x} f``, or with d."""
        self.expect("{", "")
        self.take_marker(marker, "")
        if self.at("^"):
            raise self.error("higher derivatives are not read: differentiate one step at a time")
        body = None if self.at("}") else self.expression()
        self.expect("}", r"to close the numerator of \frac")
        self.expect("{", r"around the denominator of \frac")
        self.take_marker(marker, "in the denominator of the derivative")
        variable = self.factor()
        if self.at("^"):
            raise self.error("higher derivatives are not read: differentiate one step at a time")
        if not self.at("}"):
            raise self.error("mixed derivatives are not read: differentiate one step at a time")
        self.expect("}", r"to close the denominator of \frac")
        if body is None:
            body = self.product()
        return made(Derivative(body, variable, column))

    def root(self, column: int) -> Node:
        self.expect(r"\sqrt", "")
        if self.take("["):
            degree = self.expression()
            self.expect("]", r"after the degree of \sqrt")
            radicand = self.braced(r"around the argument of \sqrt")
            one = Number("1", column)
            return made(Binary("**", radicand, made(Binary("/", one, degree, column)), column))
        argument = self.braced(r"around the argument of \sqrt") if self.at("{") else self.single()
        return made(Call("sqrt", (argument,), column))

    def big_operator(self, column: int) -> Node:
        op = "sum" if self.at(r"\sum") else "prod"
        self.pos += len(r"\sum") if op == "sum" else len(r"\prod")
        self.take(r"\limits")
        index, lower, upper = None, None, None
        for _ in range(2):
            if self.take("_"):
                index, lower = self.lower_limit()
            elif self.take("^"):
                upper = self.braced("around the upper limit") if self.at("{") else self.single()
        if index is None and op == "sum" and (self.at(r"\left(") or self.at("(")):
            # Σ(y) with no index: every entry, as the claim language's sum(y) (and as the
            # verifier prints it).
            return made(Call("sum", (self.single(),), column))
        if index is None:
            raise self.error(rf"\{op} needs its index: \{op}_{{k=1}}^{{n}} or \{op}_{{k}}", column)
        if (lower is None) != (upper is None):
            raise self.error(rf"give \{op} both limits or neither", column - 1 - self.offset)
        sign = self.column()
        # \sum_k - \frac{a_k}{2}: the term's own sign, as the printer writes it
        negated = self.take("-")
        body = made(Unary("-", self.hadamard(), sign)) if negated else self.hadamard()
        return made(Sum(body, index, lower, upper, column, op))

    def lower_limit(self) -> tuple[str, Node | None]:
        """``{k=1}``, ``{k}`` or ``k``: the index and its first value."""
        braced = self.take("{")
        self.skip()
        start = self.pos
        name = self.text[self.pos : self.pos + 1]
        if not (name.isascii() and name.isalpha()):
            raise self.error("the index of a sum is one letter, e.g. k")
        self.pos += 1
        lower = None
        if braced:
            if self.take("="):
                lower = self.expression()
            elif self.take(r"\in"):
                raise self.error(r"write the range as \sum_{k=1}^{n}", start)
            self.expect("}", "to close the lower limit")
        return name, lower

    def delta(self, column: int) -> Node:
        self.pos += len(r"\delta")
        node = self.subscript(Name("delta", column))
        assert isinstance(node, Subscript)
        if len(node.indices) != 2:
            return node  # \delta_j: an entry of a vector named delta (backprop's δ)
        return made(Kronecker(node.indices[0], node.indices[1], column))

    def ones(self, column: int) -> Node:
        word = self.peek_word()
        self.pos += len(word)
        digit = self.braced_text().strip("{} ")
        function = "ones" if digit == "1" else "zeros"
        if not self.take("_"):
            raise self.error(f"write the size of {word}{{{digit}}}: {word}{{{digit}}}_{{n}}")
        return made(Call(function, (self.size(),), column))


def _prime_name(name: str, primes: int) -> str:
    """The name of the value of a derivative: f' → f_prime, f'' → f_prime2."""
    return f"{name}_prime" + (str(primes) if primes > 1 else "")


def _minus_one(column: int) -> Node:
    return made(Unary("-", Number("1", column), column))


__all__ = ["is_latex", "parse_any", "parse_latex", "split_equation"]
