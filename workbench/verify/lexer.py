"""Tokens of the claim language: a whitelist, checked one character at a time.

The lexer is the first line of defence of :mod:`workbench.verify.parsing`: it accepts only
numbers, names, the operators ``+ - * / ** ^ @``, parentheses, commas and the
transpose ``.T``. Everything Python would need to do harm (quotes, brackets, colons,
attribute access, dunder names, keywords) is rejected here, with the column.

A sum over an index adds the words ``for`` and ``in`` and the range ``..``
(``sum(w[k]**2 for k in 0..n-1)``); a name may end in primes, the derivatives of an
unspecified function (``f'''``): the only place a ``'`` may stand.

Example:
    >>> [t.text for t in tokenize("2x.T @ y")]
    ['2', 'x', '.T', '@', 'y', '']
    >>> [t.kind for t in tokenize("sum(g(k) for k in 1..t)")][6:11]
    ['for', 'name', 'in', 'number', '..']
    >>> tokenize("f'''*h")[0].text
    "f'''"
"""

from __future__ import annotations

import keyword
from dataclasses import dataclass

from workbench.errors import ParseError

MAX_LENGTH = 2000  # characters in one expression
MAX_DIGITS = 30  # digits in one number literal

NUMBER, NAME, OPERATOR, LPAREN, RPAREN, COMMA, TRANSPOSE, END, AXIS = (
    "number",
    "name",
    "operator",
    "(",
    ")",
    ",",
    ".T",
    "end",
    "axis=",
)
LBRACKET, RBRACKET, COLON = "[", "]", ":"  # x[0], X[1, :]: an entry, a row, a column
FOR, IN, RANGE = "for", "in", ".."  # sum(w[k]**2 for k in 0..n-1): a sum over an index

# Characters with a message of their own: the usual ways into Python, and habits
# from other notations.
_REFUSED = {
    "'": "string literals are not allowed",
    '"': "string literals are not allowed",
    "{": "braces { } are not allowed",
    "}": "braces { } are not allowed",
    ";": "';' is not allowed: one expression only",
    "=": "'=' is not allowed inside an expression",
    "#": "'#' is not allowed here (notes after # belong in steps files)",
    "\\": "backslashes are not allowed",
    "ᵀ": "'ᵀ' is not understood: write .T for the transpose",
    "·": "'·' is not understood: write * or @",
    "×": "'×' is not understood: write * or @",
    "−": "'−' (a Unicode minus) is not understood: write -",
}


@dataclass(frozen=True)
class Token:
    """One token: its kind, its text, and its 1-based column in the source."""

    kind: str
    text: str
    column: int


def tokenize(text: str) -> list[Token]:
    """Split ``text`` into tokens, ending with an ``end`` token.

    Raises:
        ParseError: for any character or word outside the claim language.
    """
    if len(text) > MAX_LENGTH:
        raise ParseError(f"expression too long: {len(text)} characters (at most {MAX_LENGTH})")
    tokens: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        column = i + 1
        if ch in " \t":
            i += 1
        elif text.startswith("...", i):
            raise ParseError("'...' is not a range: write two dots, as in 0..n-1", column)
        elif text.startswith("..", i):
            tokens.append(Token(RANGE, "..", column))
            i += 2
        elif ch.isascii() and (ch.isdigit() or (ch == "." and text[i + 1 : i + 2].isdigit())):
            i = _number(text, i, tokens)
        elif ch.isascii() and (ch.isalpha() or ch == "_"):
            i = _name(text, i, tokens)
        elif ch == ".":
            i = _transpose(text, i, tokens)
        elif text.startswith("**", i):
            tokens.append(Token(OPERATOR, "**", column))
            i += 2
        elif ch in "+-*/^@":
            tokens.append(Token(OPERATOR, "**" if ch == "^" else ch, column))
            i += 1
        elif ch in "(),[]:":
            tokens.append(Token(ch, ch, column))
            i += 1
        elif ch in _REFUSED:
            raise ParseError(_REFUSED[ch], column)
        else:
            raise ParseError(f"unexpected character {ch!r}", column)
    tokens.append(Token(END, "", n + 1))
    return tokens


def _number(text: str, i: int, tokens: list[Token]) -> int:
    start = i
    while i < len(text) and text[i].isascii() and text[i].isdigit():
        i += 1
    if i < len(text) and text[i] == "." and text[i + 1 : i + 2].isdigit():
        i += 1
        while i < len(text) and text[i].isascii() and text[i].isdigit():
            i += 1
    digits = text[start:i]
    if len(digits) > MAX_DIGITS:
        raise ParseError(f"number too long: {len(digits)} digits (at most {MAX_DIGITS})", start + 1)
    # "1e-3" would silently read as 1*e - 3 under implicit multiplication.
    rest = text[i : i + 3]
    if rest[:1] in ("e", "E") and (
        rest[1:2].isdigit() or (rest[1:2] in "+-" and rest[2:3].isdigit())
    ):
        raise ParseError(
            f"scientific notation is not supported: write {digits}*10**(...)", start + 1
        )
    tokens.append(Token(NUMBER, digits, start + 1))
    return i


def _name(text: str, i: int, tokens: list[Token]) -> int:
    start = i
    while i < len(text) and text[i].isascii() and (text[i].isalnum() or text[i] == "_"):
        i += 1
    word = text[start:i]
    if word.startswith("__") or word.endswith("__"):
        raise ParseError(f"dunder names like {word!r} are not allowed", start + 1)
    if word in ("for", "in"):  # sum(x[k] for k in 0..n-1)
        tokens.append(Token(FOR if word == "for" else IN, word, start + 1))
        return i
    # Nothing is ever evaluated; "lambda" is refused only as a habit from Python, and it
    # is the usual name of a regularisation weight or a Lagrange multiplier.
    if keyword.iskeyword(word) and word != "lambda":
        raise ParseError(f"{word!r} is a Python keyword, not allowed in an expression", start + 1)
    while i < len(text) and text[i] == "'":  # f''': Lagrange's primes, part of the name
        i += 1
    word = text[start:i]
    after = i
    while after < len(text) and text[after] in " \t":
        after += 1
    if word == "axis" and text[after : after + 1] == "=":  # sum(X, axis=0): the one keyword
        tokens.append(Token(AXIS, "axis=", start + 1))
        return after + 1
    tokens.append(Token(NAME, word, start + 1))
    return i


def _transpose(text: str, i: int, tokens: list[Token]) -> int:
    after = text[i + 2 : i + 3]
    if text[i + 1 : i + 2] == "T" and not (after.isascii() and (after.isalnum() or after == "_")):
        tokens.append(Token(TRANSPOSE, ".T", i + 1))
        return i + 2
    raise ParseError("attribute access is not allowed (only .T, the transpose)", i + 1)
