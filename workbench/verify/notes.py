"""Find the derivations in a Markdown note or a LaTeX document, and what the note declares.

A learner's note keeps its mathematics in display math — ``$$ … $$``, ``\\[ … \\]``, or an
``align``/``align*``/``aligned``/``equation`` environment — and says what the names are in
passing: ``$z \\in \\mathbb{R}^n$``, "where W is 3×4", ``$n = 4$``, ``$s =
\\operatorname{softmax}(z)$``, ``$\\sum_k y_k = 1$``. This module reads the text only (no
formula is parsed here): it returns each *chain* — a display whose rows carry ``=``, split
at ``&=``/``=`` and ``\\\\``, every part with the file line it starts on and its remarks
(``\\text{…}`` after ``\\quad`` or at the end of a row, ``\\tag``, ``\\label``,
``\\nonumber``, ``&``, trailing punctuation) stripped — and the declarations, in order.

What counts as a chain: a display with two or more rows joined by ``=``, or with two
``=`` or more (``a = b = c``), or a single ``∂…/∂… = …`` (a derivative claimed in one
line). A display ``name = …`` of one equation is a definition of ``name``; a chain whose
first part is a name not yet defined defines it by its second part, and the chain is
checked from there. Code (fenced blocks, inline code) and TeX comments are not read.

What the words around the mathematics say: a bound (``$0 < q \\le 1$``) is where a
name's entries are drawn; on a line that says it assumes (``Assumed here:``,
``Given``) an equation is a fact the test points meet, not a definition; a fact in a
section with a derivation holds to the next heading, one in a section with none (the
notation) throughout. ``$\\sigma^{2} = …$`` defines σ as the root of the value, and a
subscript of a declared vector (``p_{j}``) is an entry, not a new name.

Bounded: a note is at most :data:`MAX_CHARACTERS` characters, and at most
:data:`MAX_CHAINS` chains are returned (the rest are counted, not dropped silently).

Example:
    >>> text = "Let $z \\\\in \\\\mathbb{R}^n$.\\n$$\\nf &= x^2 \\\\\\\\\\n&= x x.\\n$$\\n"
    >>> note = read_note(text)
    >>> chain = note.chains[0]
    >>> chain.defines, [(p.line, p.text) for p in chain.parts], note.shapes[0].name
    ('f', [(3, 'x^2'), (4, 'x x')], 'z')
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from workbench.errors import ParseError

MAX_CHARACTERS = 400_000  # a long note is a few tens of thousands
MAX_CHAINS = 100
MAX_PARTS = 60  # parts of one chain, as the lines of a steps file

# Environments that are a display of their own (in a .tex file, or bare in a note).
DISPLAY_ENVIRONMENTS = ("align", "align*", "equation", "equation*", "gather", "gather*")
# Environments inside a display that only arrange its rows.
ROW_ENVIRONMENTS = ("aligned", "split", "gathered", *DISPLAY_ENVIRONMENTS)


@dataclass(frozen=True)
class Part:
    """One side of an ``=`` in a chain: its LaTeX, remarks stripped, and its file line."""

    line: int
    text: str


@dataclass(frozen=True)
class Chain:
    """A derivation in the note: each part claims to equal the one before it.

    Attributes:
        line: the line the chain's first part is on.
        parts: the expressions, in order.
        defines: the name the chain's first part defined (then ``parts`` starts after it).
    """

    line: int
    parts: tuple[Part, ...]
    defines: str | None = None

    @property
    def steps(self) -> int:
        return len(self.parts) - 1


@dataclass(frozen=True)
class Shape:
    """A name's size as the note declares it: ``dims`` are numbers or size names."""

    name: str
    dims: tuple[str, ...]
    line: int
    said: str


@dataclass(frozen=True)
class Definition:
    """``name = text``: from here on the name stands for the value of ``text``."""

    name: str
    text: str
    line: int
    entry: str | None = None
    """``c_{i} = …`` of a declared c: the entry written (c is defined entry by entry,
    which the reader does not read: a chain that uses c cannot be read)."""


@dataclass(frozen=True)
class Equation:
    """``left = right``: a fact the note states about its inputs (Σₖ yₖ = 1).

    Attributes:
        until: the last line it holds on: a fact stated in a section with a derivation
            ("Assumed here: $p = 1/2$" under a result's heading) holds to the next
            heading; one in a section with none (the notation) throughout (None).
    """

    left: str
    right: str
    line: int
    until: int | None = None

    def holds_at(self, line: int) -> bool:
        """Does the fact hold for a chain that starts on ``line``?"""
        return self.until is None or self.line <= line <= self.until


@dataclass(frozen=True)
class Note:
    """What :func:`read_note` found, in the order of the note.

    Attributes:
        chains: the derivations (at most :data:`MAX_CHAINS`).
        shapes: declared shapes.
        sizes: size name → (number, line), from ``n = 4``.
        definitions, equations: as the note states them.
        assume: ``--assume`` texts the note states in words (``y one-hot``, ``x > 0``),
            each with its line.
        skipped: chains beyond :data:`MAX_CHAINS`.
    """

    chains: tuple[Chain, ...]
    shapes: tuple[Shape, ...] = ()
    sizes: dict[str, tuple[int, int]] = field(default_factory=dict)
    definitions: tuple[Definition, ...] = ()
    equations: tuple[Equation, ...] = ()
    assume: tuple[tuple[str, int], ...] = ()
    skipped: int = 0


# ---------------------------------------------------------------- the note as text
def read_note(text: str, source: str = "note", tex: bool = False) -> Note:
    """Every chain and declaration of ``text``, a Markdown note (or a ``.tex`` file).

    Raises:
        ParseError: the note is longer than :data:`MAX_CHARACTERS`.
    """
    if len(text) > MAX_CHARACTERS:
        raise ParseError(f"{source}: too long ({len(text)} characters, at most {MAX_CHARACTERS})")
    masked = _mask_comments(text) if tex else _mask_code(text)
    starts = _line_starts(text)
    chains: list[Chain] = []
    definitions: list[Definition] = []
    shapes: list[Shape] = []
    equations: list[Equation] = []
    skipped = 0
    derivations: list[int] = []  # the first line of every chain, those that define too
    displays = list(_displays(masked))
    defined: set[str] = set()
    sizes: dict[str, tuple[int, int]] = {}
    assume: list[tuple[str, int]] = []
    # In the order of the note: a name is defined where it is first given a value,
    # whether in a display or in passing ($L = …$ in a list of definitions).
    events = [(start, True, body) for start, body in displays]
    events += [(at, False, math) for at, math in _inline_math(masked, displays)]
    for start, is_display, body in sorted(events, key=lambda e: e[0]):
        if not is_display:
            line = _line_of(starts, start)
            shapes += _declarations(body, line)
            lead = masked[starts[line - 1] : start]
            _read_inline(body, line, sizes, definitions, equations, assume, defined, lead, shapes)
            continue
        rows = _rows(body, start)
        parts = _split_parts(rows)
        for found in _declarations(body, _line_of(starts, start)):
            shapes.append(found)
        if len(parts) < 2:
            continue
        lines = [Part(_line_of(starts, at + len(t) - len(t.lstrip())), clean(t)) for at, t in parts]
        lines = [p for p in lines if p.text]
        if len(lines) < 2:
            continue
        first = _new_name(lines[0].text, shapes)
        if first and first not in defined and len(lines) == 2 and len(rows) == 1:
            definitions.append(Definition(first, lines[1].text, lines[1].line))
            defined.add(first)
            continue
        if not _is_chain(lines, rows):
            continue
        derivations.append(lines[0].line)
        defines = None
        if first and first not in defined:
            definitions.append(Definition(first, lines[1].text, lines[1].line))
            defined.add(first)
            defines, lines = first, lines[1:]
            if len(lines) < 2:
                continue
        if len(chains) >= MAX_CHAINS:
            skipped += 1
            continue
        if len(lines) > MAX_PARTS:
            raise ParseError(
                f"{source} line {lines[0].line}: a chain of more than {MAX_PARTS} lines"
            )
        chains.append(Chain(lines[0].line, tuple(lines), defines))
    prose = _prose(masked, displays)
    for at, found in _worded_shapes(prose):
        shapes.append(
            Shape(found[0], found[1:], _line_of(starts, at), f"{found[0]} is {'×'.join(found[1:])}")
        )
    for match in re.finditer(r"(?<![\w\\])([A-Za-z])\s*=\s*([0-9]{1,3})(?![\w.])", prose):
        sizes.setdefault(match.group(1), (int(match.group(2)), _line_of(starts, match.start())))
    for match in _ONE_HOT.finditer(prose):
        name = bare_name(match.group(1) or match.group(2) or "")
        if name:
            assume.append((f"{claim_name(name)} one-hot", _line_of(starts, match.start())))
    # A fact in a section with a derivation holds in that section, to the next heading;
    # one in a section with none (the notation, a preamble) holds throughout.
    for k, equation in enumerate(equations):
        end = _section_end(masked, starts, equation.line)
        if any(equation.line <= line <= end for line in derivations):
            equations[k] = replace(equation, until=end)
    return Note(
        tuple(chains),
        tuple(shapes),
        sizes,
        tuple(sorted(definitions, key=lambda d: d.line)),
        tuple(equations),
        tuple(assume),
        skipped,
    )


# "$y$ is one-hot", "$y$ one-hot", "y is a one-hot vector": a name in math, or one
# letter followed by "is"; not "N×n one-hot labels" nor "labels are one-hot".
_ONE_HOT = re.compile(
    r"(?:\$\s*([^$\n]{1,40}?)\s*\$\s+(?:is\s+(?:an?\s+)?)?"
    r"|(?<![\w\\×$])([A-Za-z][0-9]?)\s+is\s+(?:an?\s+)?)one-hot"
)


def _line_starts(text: str) -> list[int]:
    starts = [0]
    starts += [m.end() for m in re.finditer("\n", text)]
    return starts


def _line_of(starts: list[int], offset: int) -> int:
    import bisect  # lazy: small, and only where lines are counted

    return bisect.bisect_right(starts, offset)


def _blank(match: re.Match) -> str:
    """The match replaced by spaces, its line breaks kept, so offsets and lines stay."""
    return re.sub(r"[^\n]", " ", match.group(0))


def _mask_code(text: str) -> str:
    """Fenced code blocks and inline code blanked: mathematics in code is not mathematics."""
    text = re.sub(r"(?ms)^[ \t]*(```|~~~).*?^[ \t]*\1[^\n]*$", _blank, text)
    return re.sub(r"(`+)[^`\n]*?\1", _blank, text)


def _mask_comments(text: str) -> str:
    """TeX comments blanked: ``%`` to the end of the line, but not ``\\%``."""
    return re.sub(r"(?<!\\)%[^\n]*", _blank, text)


_OPENERS = re.compile(
    r"\$\$|\\\[|\\begin\{(" + "|".join(re.escape(e) for e in DISPLAY_ENVIRONMENTS) + r")\}"
)


def _displays(text: str):
    """(offset of the body, body) of each display, in order; an unclosed one is not read."""
    position = 0
    while True:
        opener = _OPENERS.search(text, position)
        if opener is None:
            return
        if opener.group(0) == "$$":
            closer = "$$"
        elif opener.group(0) == r"\[":
            closer = r"\]"
        else:
            closer = rf"\end{{{opener.group(1)}}}"
        end = text.find(closer, opener.end())
        if end < 0:
            return
        yield opener.end(), text[opener.end() : end]
        position = end + len(closer)


def _inline_math(text: str, displays) -> list[tuple[int, str]]:
    """(offset, content) of each ``$…$`` outside the displays."""
    prose = _prose(text, displays)
    return [(m.start(1), m.group(1)) for m in re.finditer(r"(?<![\\$])\$([^$\n]+?)\$", prose)]


def _prose(text: str, displays) -> str:
    """The text with every display blanked."""
    chars = list(text)
    for start, body in displays:
        for k in range(max(0, start - 2), min(len(chars), start + len(body) + 2)):
            if chars[k] != "\n":
                chars[k] = " "
    return "".join(chars)


# ---------------------------------------------------------------- rows and parts
def _rows(body: str, start: int) -> list[list[tuple[int, str]]]:
    """The display's rows (split at ``\\\\`` outside braces and inner environments),
    each a list of (offset, text) pieces split at ``=`` at the top level."""
    arranging = "|".join(re.escape(e) for e in ROW_ENVIRONMENTS)
    body = re.sub(rf"\\(begin|end)\{{({arranging})\}}(\[[a-z]\])?", _blank, body)
    rows: list[list[tuple[int, str]]] = []
    depth = 0
    environments: list[str] = []
    piece_start = 0
    pieces: list[tuple[int, str]] = []
    k = 0
    while k < len(body):
        char = body[k]
        if body.startswith(r"\begin{", k):
            close = body.find("}", k)
            name = body[k + 7 : close] if close > 0 else ""
            if name not in ROW_ENVIRONMENTS:
                environments.append(name)
            k = close + 1 if close > 0 else k + 1
            continue
        if body.startswith(r"\end{", k):
            close = body.find("}", k)
            name = body[k + 5 : close] if close > 0 else ""
            if environments and name == environments[-1]:
                environments.pop()
            k = close + 1 if close > 0 else k + 1
            continue
        if char == "\\" and k + 1 < len(body):
            top = depth == 0 and not environments
            if body[k + 1] == "\\" and top:
                pieces.append((start + piece_start, body[piece_start:k]))
                rows.append(pieces)
                pieces, piece_start = [], k + 2
            k += 2
            continue
        if char in "{([":
            depth += 1
        elif char in "})]":
            depth = max(0, depth - 1)
        elif char == "=" and depth == 0 and not environments:
            pieces.append((start + piece_start, body[piece_start:k]))
            piece_start = k + 1
        k += 1
    pieces.append((start + piece_start, body[piece_start:]))
    rows.append(pieces)
    return [row for row in rows if any(clean(t) for _, t in row)]


def _split_parts(rows: list[list[tuple[int, str]]]) -> list[tuple[int, str]]:
    """The chain's parts: a row without ``=`` continues the part before it."""
    parts: list[tuple[int, str]] = []
    for row in rows:
        first, *rest = row
        if parts and clean(first[1]):
            at, text = parts[-1]
            parts[-1] = (at, f"{text} {first[1]}")
        elif not parts:
            parts.append(first)
        parts += rest
    return parts


def _is_chain(parts: list[Part], rows) -> bool:
    """Two rows joined by ``=``, ``a = b = c``, or a derivative claimed in one line."""
    if len(parts) >= 3 or len({p.line for p in parts}) >= 2 or len(rows) >= 2:
        return True
    return bool(re.match(r"\s*(\\[dt]?frac\{\s*(\\partial|d)|\\nabla|\\partial)", parts[0].text))


_REMARK = re.compile(
    r"(\\q?quad|&)\s*(\\(text|textrm|mbox|mathrm|textit)\{[^{}]*\}\s*)+|"
    r"\\(text|textrm|mbox|textit)\{[^{}]*\}\s*[.,;:]?\s*$"
)


def clean(text: str) -> str:
    """A part of a chain without its layout and remarks: ``&``, ``\\nonumber``, ``\\tag``,
    ``\\label``, a ``\\text{…}`` after ``\\quad`` or ending the part, trailing spacing and
    punctuation.

    Example:
        >>> clean(r" & s - y \\quad \\text{(as the targets sum to one)}. \\tag{3} ")
        's - y'
    """
    text = re.sub(r"\\(nonumber|notag)\b", " ", text)
    text = re.sub(r"\\(tag\*?|label)\{[^{}]*\}", " ", text)
    previous = None
    while previous != text:
        previous = text
        text = _REMARK.sub(" ", text)
    text = text.replace("&", " ")
    text = re.sub(r"(\s|\\[,;:!]|\\q?quad\b)+$", "", text)
    text = re.sub(r"[.,;:]+\s*$", "", text.strip()).strip()
    text = re.sub(r"(\\[,;:!]|\\q?quad\b|\s)+$", "", text)
    return " ".join(text.split())


_NAME_WRAPPERS = re.compile(r"^\\(mathbf|boldsymbol|bm|mathit|mathrm|mathsf|vec|mathcal)\{(.+)\}$")
# Decorations that make a name, as the LaTeX reader names it: \hat{p} is p_hat.
_DECORATED = re.compile(r"^\\(hat|bar|tilde|overline)\s*(?:\{\s*(\\?[A-Za-z]+)\s*\}|([A-Za-z]))$")
_SUFFIXES = {"hat": "hat", "bar": "bar", "tilde": "tilde", "overline": "bar"}


def bare_name(text: str) -> str | None:
    """``L``, ``\\mathbf{z}``, ``\\ell``, ``W_{2}``, ``\\mathrm{NLL}``, ``\\hat{p}`` → the
    name (as written, wrappers off); anything else (a sum, a product, a derivative) →
    None.

    Example:
        >>> bare_name(r"\\mathbf{z}"), bare_name("W_{2}"), bare_name("2x")
        ('z', 'W_{2}', None)
        >>> bare_name(r"\\mathrm{NLL}"), bare_name(r"\\hat{p}")
        ('NLL', '\\\\hat{p}')
    """
    text = text.strip()
    if _DECORATED.match(text):
        return text
    wrapped = _NAME_WRAPPERS.match(text)
    if wrapped:
        text = wrapped.group(2).strip()
        if re.fullmatch(r"[A-Za-z][A-Za-z0-9]*", text):
            return text  # \mathrm{NLL}: a name of several letters
    if re.fullmatch(r"([A-Za-z]|\\[A-Za-z]+)(_\{?[A-Za-z0-9|]+\}?|_\{[+-]\})?'{0,3}", text) or (
        re.fullmatch(r"[A-Z]{2,}_\{?[A-Za-z0-9]+\}?", text)  # KL_{VAE}: one name
    ):
        return text
    return None


def _new_name(text: str, shapes) -> str | None:
    """:func:`bare_name`, but not an entry of a declared vector or matrix: with
    ``$p \\in \\mathbb{R}^n$``, ``p_{j}`` is p's entry j (a free index), not a name."""
    name = bare_name(text)
    entry = re.fullmatch(r"(\\?[A-Za-z]+)_\{?([A-Za-z]{1,2})\}?", name or "")
    if entry and claim_name(entry.group(1)) in {s.name for s in shapes}:
        return None
    return name


def claim_name(written: str) -> str:
    """The claim language's name for a name as a note writes it, the name the LaTeX
    reader gives it: ``\\mathbf{z}`` → z, ``\\theta`` → theta, ``W_{2}`` → W_2,
    ``\\hat{p}`` → p_hat.

    Example:
        >>> claim_name(r"\\hat{p}"), claim_name(r"\\boldsymbol{\\theta}"), claim_name("W_{2}")
        ('p_hat', 'theta', 'W_2')
    """
    name = bare_name(written) or written.strip()
    primes = len(name) - len(name.rstrip("'"))
    if primes:  # H' is H_prime, f'' f_prime2: the LaTeX reader's names for them
        return claim_name(name.rstrip("'")) + "_prime" + (str(primes) if primes > 1 else "")
    decorated = _DECORATED.match(name)
    if decorated:
        inner = (decorated.group(2) or decorated.group(3)).lstrip("\\")
        return f"{inner}_{_SUFFIXES[decorated.group(1)]}"
    wrapped = re.match(r"^\\[A-Za-z]+\{(.+)\}$", name)
    if wrapped:
        name = wrapped.group(1)
    name = name.lstrip("\\").replace("{", "").replace("}", "")
    # \varepsilon is epsilon, as the LaTeX reader names it
    return re.sub(r"^var(epsilon|theta|phi)", r"\1", name)


# ---------------------------------------------------------------- declarations
_SPACE = r"\\mathbb\{R\}|\\mathbb R|\\R\b|ℝ"
_DECLARATION = re.compile(
    r"((?:\\?[A-Za-z]+(?:\{\\?[A-Za-z]+\})?(?:_\{?[A-Za-z0-9]+\}?)?\s*,\s*)*"
    r"\\?[A-Za-z]+(?:\{\\?[A-Za-z]+\})?(?:_\{?[A-Za-z0-9]+\}?)?)\s*\\in\s*(?:"
    + _SPACE
    + r")\s*\^\s*(\{[^{}]*\}|[A-Za-z0-9])"
)


def _declarations(math: str, line: int) -> list[Shape]:
    """``z, y \\in \\mathbb{R}^{n}``, ``W \\in \\mathbb{R}^{m \\times n}`` → shapes."""
    out = []
    for match in _DECLARATION.finditer(math):
        spec = match.group(2).strip("{} ")
        dims = tuple(d.strip() for d in re.split(r"\\times|×|\*|,", spec) if d.strip())
        if not 1 <= len(dims) <= 2 or not all(re.fullmatch(r"[A-Za-z0-9]+", d) for d in dims):
            continue
        for name in match.group(1).split(","):
            written = bare_name(name.strip())
            if written:
                said = " ".join(match.group(0).split())
                out.append(Shape(claim_name(written), dims, line, said))
    return out


def _worded_shapes(prose: str):
    """ "W is 3×4", "$W$ is a $3 \\times 4$ matrix" → (offset, (name, rows, cols))."""
    text = prose.replace("$", " ").replace(r"\times", "×")
    pattern = r"(?<![\w\\])([A-Za-z]\w*)\s+is\s+(?:an?\s+)?([0-9]+)\s*[×x]\s*([0-9]+)\b"
    for match in re.finditer(pattern, text):
        yield match.start(), match.groups()


def _read_inline(
    math, line, sizes, definitions, equations, assume, defined, lead="", shapes=()
) -> None:
    """One ``$…$``: a size (``n = 4``), a definition (``s = …``), a fact (``Σ y = 1``) or
    a bound (``x > 0``, ``0 < q \\le 1``). On a line that says it assumes (``Assumed:``,
    ``Given``), ``p = \\frac{1}{2}`` is a fact the test points satisfy, not a definition."""
    math = math.strip().rstrip(".,;")
    if r"\in" in math:
        return
    bound = _bound(math)
    if bound:
        assume.append((bound, line))
        return
    sides = [s for s in _top_level_split(math)]
    if len(sides) != 2:
        return
    left, right = (clean(s) for s in sides)
    if not left or not right:
        return
    name = _new_name(left, shapes)
    square = re.fullmatch(r"(.+?)\s*\^\s*\{?\s*2\s*\}?", left)
    if not name and square and _new_name(square.group(1), shapes) and not _ASSUMING.match(lead):
        # σ² = (1/n)Σ(xₖ − μ)²: σ is its root, so σ² is the value wherever it is written
        name, right = _new_name(square.group(1), shapes), rf"\sqrt{{{right}}}"
    if _ASSUMING.match(lead):
        if not _DERIVATIVE.search(left):
            equations.append(Equation(left, right, line))
    elif name and re.fullmatch(r"[0-9]{1,3}", right) and len(name) == 1:
        sizes.setdefault(name, (int(right), line))
    elif name and name not in defined:
        definitions.append(Definition(name, right, line))
        defined.add(name)
    elif bare_name(left) and not name:  # an entry of a declared vector or matrix
        base = re.match(r"\\?[A-Za-z]+", left)
        if base and base.group(0) not in defined:
            definitions.append(Definition(base.group(0), right, line, entry=left))
            defined.add(base.group(0))
    elif not name and re.fullmatch(r"-?[0-9]+(\.[0-9]+)?", right) and not _DERIVATIVE.search(left):
        equations.append(Equation(left, right, line))


# The prose before a fact on its line: "Assumed here:", "- Given", "Assuming".
_ASSUMING = re.compile(r"(?i)^[\s>*+-]*(assum|given\b|suppose\b)")
_COMPARISONS = {r"\leq": "<=", r"\le": "<=", r"\geq": ">=", r"\ge": ">=", "≤": "<=", "≥": ">="}
_BOUND_NAME = r"(\\?[A-Za-z]+(?:_\{?[A-Za-z0-9]+\}?)?)"
_BOUND_NUMBER = r"(-?[0-9.]+)"


def _bound(math: str) -> str | None:
    """``x > 0``, ``0 < q \\le 1``, ``0.05 \\leq \\beta_{1} \\leq 0.95`` → the ``--assume``
    text (``0 < q <= 1``, with the claim language's name), else None."""
    text = math
    for word, op in _COMPARISONS.items():
        text = re.sub(re.escape(word) + r"(?![A-Za-z])", f" {op} ", text)
    op = r"\s*(<=?|>=?)\s*"
    one = re.fullmatch(rf"\s*{_BOUND_NAME}{op}{_BOUND_NUMBER}\s*", text)
    two = re.fullmatch(rf"\s*{_BOUND_NUMBER}{op}{_BOUND_NAME}{op}{_BOUND_NUMBER}\s*", text)
    if one:
        written, parts = one.group(1), list(one.groups())
    elif two:
        written, parts = two.group(3), list(two.groups())
    else:
        return None
    if bare_name(written) is None or written == r"\pi":
        return None
    return " ".join(claim_name(p) if p == written else p for p in parts)


def _section_end(masked: str, starts: list[int], line: int) -> int:
    """The last line before the next heading after ``line`` (the note's last line if none)."""
    heading = re.compile(r"(?m)^(#{1,6}\s|\\(sub)*section\*?\{)")
    found = heading.search(masked, starts[line - 1] if line - 1 < len(starts) else len(masked))
    return _line_of(starts, found.start()) - 1 if found else len(starts)


_DERIVATIVE = re.compile(r"\\partial|\\nabla|\\frac\{d")


def _top_level_split(math: str) -> list[str]:
    pieces, depth, start = [], 0, 0
    for k, char in enumerate(math):
        if char in "{([":
            depth += 1
        elif char in "})]":
            depth -= 1
        elif char == "=" and depth == 0 and (k == 0 or math[k - 1] not in "<>!:\\"):
            pieces.append(math[start:k])
            start = k + 1
    pieces.append(math[start:])
    return pieces


__all__ = [
    "Chain",
    "Definition",
    "Equation",
    "Note",
    "Part",
    "Shape",
    "bare_name",
    "claim_name",
    "clean",
    "read_note",
]
