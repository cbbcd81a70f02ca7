"""What both LaTeX readers share: the character scanner and the tables of notation.

:mod:`workbench.verify.latex_reader` reads the LaTeX the workbench prints into SymPy (to test
that printed = checked); :mod:`workbench.verify.latex_input` reads a learner's LaTeX into the
claim language's parse tree. Both scan the same way — spacing commands skipped, a command
word ends where its letters end (``\\left`` is not the start of ``\\leftarrow``), every
error one :class:`~workbench.errors.ParseError` with the 1-based column, nesting bounded —
and know the same Greek letters and name-making commands.

Example:
    >>> scanner = Scanner(r"\\, \\alpha + 1")
    >>> scanner.peek_word()
    '\\\\alpha'
"""

from __future__ import annotations

from workbench.errors import ParseError
from workbench.verify.parsing import MAX_DEPTH

# Commands that are spacing only.
SPACING = (
    r"\,",
    r"\;",
    r"\:",
    r"\!",
    r"\quad",
    r"\qquad",
    r"\displaystyle",
    r"\textstyle",
)

_GREEK_WORDS = (
    "alpha beta gamma delta epsilon varepsilon zeta eta theta vartheta iota kappa lambda "
    "mu nu xi pi rho sigma tau upsilon phi varphi chi psi omega Gamma Delta Theta Lambda "
    "Xi Pi Sigma Phi Psi Omega ell"
)
GREEK = frozenset(_GREEK_WORDS.split())

# Commands whose braced argument is part of a name: \mathrm{NLL}, \hat{p}.
NAME_COMMANDS = (
    r"\mathrm",
    r"\operatorname",
    r"\mathbf",
    r"\mathit",
    r"\hat",
    r"\bar",
    r"\tilde",
    r"\vec",
    r"\dot",
)

# Words after which a factor cannot start: a product stops there.
STOP_COMMANDS = (r"\right", r"\odot", r"\cdot", r"\bmod", r"\times", r"\end", r"\tag")


class Scanner:
    """A position in one LaTeX string, with the moves both readers make.

    ``extra_space`` are further characters skipped like blanks (the learner's reader
    skips ``&``, the alignment mark of ``align``).
    """

    max_depth = MAX_DEPTH  # nested groups, operators and calls, as in the claim parser

    def __init__(self, text: str, offset: int = 0, extra_space: str = ""):
        self.text = text
        self.pos = 0
        self.depth = 0
        self.offset = offset
        self.space = " \t\n\r" + extra_space

    def error(self, message: str, pos: int | None = None) -> ParseError:
        return ParseError(message, (self.pos if pos is None else pos) + 1 + self.offset)

    def skip(self) -> None:
        while self.pos < len(self.text):
            if self.text[self.pos] in self.space:
                self.pos += 1
                continue
            for spacing in SPACING:
                if self.word_at(spacing):
                    self.pos += len(spacing)
                    break
            else:
                return

    def word_at(self, word: str) -> bool:
        """``word`` starts here, and a command word is not the start of a longer one."""
        if not self.text.startswith(word, self.pos):
            return False
        end = self.pos + len(word)
        return not (word[-1].isalpha() and end < len(self.text) and self.text[end].isalpha())

    def at(self, word: str) -> bool:
        self.skip()
        return self.word_at(word)

    def take(self, word: str) -> bool:
        if self.at(word):
            self.pos += len(word)
            return True
        return False

    def expect(self, word: str, context: str) -> None:
        if not self.take(word):
            raise self.error(f"expected {word!r} {context}, found {self.peek_word()!r}".strip())

    def at_end(self) -> bool:
        self.skip()
        return self.pos >= len(self.text)

    def peek_word(self) -> str:
        """The command (``\\frac``) or the character here; "end of input" at the end."""
        self.skip()
        if self.pos >= len(self.text):
            return "end of input"
        if self.text[self.pos] == "\\":
            end = self.pos + 1
            while end < len(self.text) and self.text[end].isalpha():
                end += 1
            return self.text[self.pos : max(end, self.pos + 2)]
        return self.text[self.pos]

    def enter(self) -> None:
        self.depth += 1
        if self.depth > self.max_depth:
            raise self.error(f"expression too deep (more than {self.max_depth} nested operations)")

    def leave(self) -> None:
        self.depth -= 1

    def braced_text(self) -> str:
        """``{...}`` with its braces matched, returned as written (braces included)."""
        start = self.pos
        self.expect("{", "")
        level = 1
        while self.pos < len(self.text) and level:
            level += {"{": 1, "}": -1}.get(self.text[self.pos], 0)
            self.pos += 1
        if level:
            raise self.error("unclosed '{'", start)
        return self.text[start : self.pos]
