"""Prose with Unicode mathematics (``∂sᵢ/∂zⱼ``, ``Σₖ yₖ = 1``, ``p̂``) as pdflatex-safe LaTeX.

Derivations write their notes, labels and conventions the way a person types them; a
handout must compile with pdflatex, which knows none of those characters. The rules:

* ``$…$`` segments (exercise solutions use them) are LaTeX already and pass through.
* A word holding a mathematical character becomes math: ``sᵢ`` → ``$s_{i}$``. Words
  next to it that can only be mathematics (``=``, ``1``, ``(1/u)``, ``log``) join the
  same formula, so ``Σₖ yₖ = 1.`` → ``$\\sum_{k} y_{k} = 1$.``
* Everything else is text, with LaTeX's special characters escaped.

Example:
    >>> text_to_latex("The delta keeps only yⱼ.")
    'The delta keeps only $y_{j}$.'
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["text_to_latex"]

MATH_CHARS: dict[str, str] = {
    "∂": r"\partial ",
    "½": r"\tfrac{1}{2}",
    "∣": r"\mid ",
    "⊛": r"\circledast ",
    "Σ": r"\sum ",
    "∑": r"\sum ",
    "∏": r"\prod ",
    "−": "-",
    "×": r"\times ",
    "·": r"\cdot ",
    "→": r"\to ",
    "←": r"\leftarrow ",
    "⇒": r"\Rightarrow ",
    "↦": r"\mapsto ",
    "≡": r"\equiv ",
    "≈": r"\approx ",
    "≤": r"\le ",
    "≥": r"\ge ",
    "≠": r"\ne ",
    "∈": r"\in ",
    "∉": r"\notin ",
    "⊂": r"\subset ",
    "∞": r"\infty ",
    "‖": r"\| ",
    "∇": r"\nabla ",
    "⊙": r"\odot ",
    "⊗": r"\otimes ",
    "∘": r"\circ ",
    "ℝ": r"\mathbb{R}",
    "±": r"\pm ",
    "′": "'",
    "∀": r"\forall ",
    "∃": r"\exists ",
    "⟨": r"\langle ",
    "⟩": r"\rangle ",
    "∝": r"\propto ",
    "∼": r"\sim ",
    "∫": r"\int ",
    "√": r"\sqrt ",
    "ᵀ": r"^{\top}",
    "ε": r"\varepsilon ",
    "φ": r"\varphi ",
}
TEXT_CHARS: dict[str, str] = {
    "—": "---",
    "–": "--",
    "…": r"\ldots{}",
    "“": "``",
    "”": "''",
    "‘": "`",
    "’": "'",
    "\u00a0": "~",
    "✓": r"\ensuremath{\checkmark}",
    "✗": r"\ensuremath{\times}",
}
ESCAPES: dict[str, str] = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "$": r"\$",
    "<": r"\textless{}",
    ">": r"\textgreater{}",
    "|": r"\textbar{}",
}
ACCENTS = {"\u0302": r"\hat", "\u0304": r"\bar", "\u0303": r"\tilde", "\u0307": r"\dot"}
GREEK_CAPITALS = {"GAMMA", "DELTA", "THETA", "LAMBDA", "XI", "PI", "SIGMA", "PHI", "PSI", "OMEGA"}
FUNCTION_WORDS = {
    "log": r"\log",
    "exp": r"\exp",
    "tanh": r"\tanh",
    "max": r"\max",
    "min": r"\min",
    "softmax": r"\operatorname{softmax}",
    "diag": r"\operatorname{diag}",
    "KL": r"\mathrm{KL}",
    "tr": r"\operatorname{tr}",
    "det": r"\det",
}
# One name, not a product of matrices:
ACRONYMS = {"NLL", "MLE", "MAP", "MSE", "SGD", "PCA", "SVD", "CE", "DFT"}
TRAILING = ".,;:!?"
SINGLE_LETTER_WORDS = {"a", "A", "I"}  # English words, not indices, at a formula's edge
# A word that can only be mathematics: operators, numbers, single letters, brackets.
MATHLIKE = re.compile(r"^[=+\-*/()\[\],0-9]*([A-Za-z](?![A-Za-z])[=+\-*/()\[\],0-9]*)*$")
# A function of names, which prose does not write: tr(AXB), det(X), E(h), H(p). A capital
# called on a lowercase roman numeral is prose's numbering (part A(i), option B(ii)).
CALL_OF_NAMES = re.compile(
    r"(?:tr|det)\([A-Za-z]{1,4}\)|[A-Z]\((?!(?:i{1,3}|iv|vi{0,3}|ix|x)\))[a-z]{1,2}\)"
)
# x_k, and the subscript after a call: DFT(x)_q.
SUBSCRIPTED = re.compile(r"(?:(?<![A-Za-z])[A-Za-z]|\))_[A-Za-z0-9]{1,3}(?![A-Za-z0-9])")


def text_to_latex(text: str) -> str:
    """Prose (with optional ``$…$`` math) as LaTeX that pdflatex typesets as intended."""
    pieces = re.split(r"(\$[^$]+\$)", text)
    return "".join(p if p.startswith("$") else _prose(p) for p in pieces if p)


def _prose(text: str) -> str:
    tokens = re.split(r"(\s+)", text)  # words at even positions, whitespace between
    kinds = [_kind(t) if n % 2 == 0 else "space" for n, t in enumerate(tokens)]
    out: list[str] = []
    n = 0
    while n < len(tokens):
        if kinds[n] != "math":
            out.append(_text(tokens[n]) if kinds[n] != "space" else tokens[n])
            n += 1
            continue
        # Grow a formula around this word: back over math-like words, then forward.
        start = n
        while start >= 2 and kinds[start - 2] == "like" and not _closes(tokens[start - 2]):
            start -= 2
        while start < n and tokens[start] in SINGLE_LETTER_WORDS:
            start += 2
        del out[len(out) - (n - start) :]
        end = n
        while not _closes(tokens[end]) and end + 2 < len(tokens) and kinds[end + 2] != "text":
            end += 2
        while end > n and (tokens[end].rstrip(TRAILING) in SINGLE_LETTER_WORDS):
            end -= 2
        formula = _join(tokens[start : end + 1])
        core = formula.rstrip(TRAILING)
        out.append(f"${_math(core)}$" + _text(formula[len(core) :]))
        n = end + 1
    return "".join(out)


def _join(pieces: list[str]) -> str:
    """Words and the spaces between them as one formula; math mode drops spaces, so a
    number after a name keeps one (``T×T 0/1`` must not read ``T×T0/1``)."""
    out = []
    for n, piece in enumerate(pieces):
        spaced = n % 2 == 1 and pieces[n + 1][:1].isdigit() and pieces[n - 1][-1:].isalnum()
        out.append("\\ " if spaced else piece)
    return "".join(out)


def _kind(word: str) -> str:
    if not word:
        return "space"
    if _is_math(word) or word.rstrip(TRAILING) == "=":  # "s = softmax(z)" is a formula
        return "math"
    return "like" if _mathlike(word) else "text"


def _closes(word: str) -> bool:
    """Sentence punctuation ends a formula; a comma does not (``Y[a, k]``)."""
    return word.rstrip(",") != word.rstrip(TRAILING)


def _is_math(word: str) -> bool:
    core = word.rstrip(TRAILING)
    return (
        any(_is_math_char(c) for c in core)
        or bool(SUBSCRIPTED.search(core))
        or bool(CALL_OF_NAMES.fullmatch(core))
    )


def _mathlike(word: str) -> bool:
    core = word.rstrip(TRAILING)
    if MATHLIKE.match(core):
        return bool(core)
    if re.fullmatch(r"[(\[]?[A-Z]{2,3}[)\]]?", core):  # PV, QK, NLL: names of matrices
        return True
    call = re.match(r"^[(\[]?([A-Za-z]{2,})(\(.*)?$", core)  # log, diag(s), (softmax(z))
    return (
        call is not None
        and (call.group(1) in FUNCTION_WORDS or call.group(1) in ACRONYMS)
        and bool(MATHLIKE.match(call.group(2) or ""))
    )


def _is_math_char(c: str) -> bool:
    if c in MATH_CHARS or c in ACCENTS:
        return True
    if ord(c) < 128 or c in TEXT_CHARS:
        return False
    return _script(c) is not None or unicodedata.name(c, "").startswith("GREEK")


def _script(c: str) -> tuple[str, str] | None:
    """For a sub- or superscript character, ("_" or "^", its base character)."""
    decomposition = unicodedata.decomposition(c)
    for tag, mark in (("<sub>", "_"), ("<super>", "^")):
        if decomposition.startswith(tag):
            return mark, chr(int(decomposition.split()[1], 16))
    return None


def _math(formula: str) -> str:
    out: list[str] = []
    script: tuple[str, list[str]] | None = None
    i = 0
    while i < len(formula):
        c = formula[i]
        found = _script(c)
        if c == "ᵀ" and script and script[0] == "^":  # X⁻ᵀ: one superscript, X^{-\top}
            script[1].append(c)
            i += 1
            continue
        if found and c != "ᵀ":  # ᵀ is the transpose, not a letter T
            mark, base = found
            if script and script[0] == mark:
                script[1].append(base)
            else:
                _close(out, script)
                script = (mark, [base])
            i += 1
            continue
        _close(out, script)
        script = None
        if c == "√" and formula[i + 1 : i + 2] == "(":  # √(σ² + ε): the radical over it all
            end = _matching(formula, i + 1)
            if end is not None:
                out.append(rf"\sqrt{{{_math(formula[i + 2 : end])}}}")
                i = end + 1
                continue
        if c == "E" and formula[i + 1 : i + 2] == "[" and not (i and formula[i - 1].isalpha()):
            out.append(r"\mathbb{E}")  # the expectation, as the formulas print it
            i += 1
            continue
        word = re.match(r"[A-Za-z]{2,}", formula[i:])
        if word:
            name = word.group()
            if name in FUNCTION_WORDS:
                out.append(FUNCTION_WORDS[name] + " ")
            elif name.isupper() and len(name) <= 3 and name not in ACRONYMS:
                out.append(" ".join(name) + " ")  # QKᵀ, PV: a product of matrices
            else:
                out.append(rf"\mathrm{{{name}}} ")
            i += len(name)
            continue
        if c == "_" and (sub := re.match(r"_([A-Za-z0-9]+)", formula[i:])):
            out.append(f"_{{{sub.group(1)}}}")
            i += len(sub.group())
            continue
        if c in ACCENTS and out:
            out[-1] = rf"{ACCENTS[c]}{{{out[-1]}}}"
        else:
            out.append(_math_char(c))
        i += 1
    _close(out, script)
    # Commands end in a space so a letter may follow; tidy the spaces that are not needed.
    return re.sub(r" +([_^])", r"\1", re.sub(r" {2,}", " ", "".join(out))).strip()


def _matching(text: str, start: int) -> int | None:
    """The position of the parenthesis that closes the one at ``start``."""
    depth = 0
    for position in range(start, len(text)):
        depth += {"(": 1, ")": -1}.get(text[position], 0)
        if depth == 0:
            return position
    return None


def _close(out: list[str], script) -> None:
    if script:
        mark, bases = script
        inside = "".join(r"\top " if b == "ᵀ" else _math_char(b) for b in bases)
        out.append(f"{mark}{{{inside.strip()}}}")


def _math_char(c: str) -> str:
    if c in MATH_CHARS:
        return MATH_CHARS[c]
    if c in "{}":
        return "\\" + c
    if ord(c) < 128:
        return c
    name = unicodedata.name(c, "")
    if name.startswith("GREEK"):
        # Unicode spells λ "LAMDA"; LaTeX spells it \lambda.
        letter = name.split()[-1].replace("LAMDA", "LAMBDA")
        if "SMALL" in name:
            return f"\\{letter.lower()} "
        if letter in GREEK_CAPITALS:
            return f"\\{letter.capitalize()} "
    return _fallback(c)


def _text(word: str) -> str:
    return "".join(_text_char(c) for c in word)


def _text_char(c: str) -> str:
    if c in ESCAPES:
        return ESCAPES[c]
    if ord(c) < 128:
        return c
    if c in TEXT_CHARS:
        return TEXT_CHARS[c]
    if _is_math_char(c):
        return f"${_math(c)}$"
    return _fallback(c)


def _fallback(c: str) -> str:
    """Latin letters with accents keep their accent; anything else becomes ASCII."""
    plain = unicodedata.normalize("NFKD", c)
    base = "".join(ch for ch in plain if ord(ch) < 128)
    accent = {"\u0301": r"\'", "\u0300": r"\`", "\u0308": r"\"", "\u0302": r"\^"}
    marks = [accent[ch] for ch in plain if ch in accent]
    if base and marks:
        return f"{{{marks[0]}{base}}}"
    return base or "?"
