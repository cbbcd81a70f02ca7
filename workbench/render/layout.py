"""Keeping a handout inside its margins: long displays broken into lines, long inline math
given places to break.

TeX cannot break a display by itself, and it breaks inline math only after a relation or a
binary operator, so a row of sums or a tuple of numbers runs into the margin. This module
decides where a break may go, from the SymPy expression (a row is split between the terms
of its sum, the way a teacher continues a long line with ``+``) and from the LaTeX text (a
comma inside inline math may break). Widths are estimated from the LaTeX source in ems,
without running TeX; the estimate errs wide, and the handout tests read pdflatex's log for
what is left (:func:`workbench.render.texbuild.overfull_boxes`).

Example:
    >>> breakable_inline("so $s = (0.09, 0.24, 0.67)$, and")
    'so $s = (0.09,\\\\allowbreak 0.24,\\\\allowbreak 0.67)$, and'
    >>> display_width(r"\\frac{a + b}{c}") < display_width("a + b + c")
    True
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import sympy as sp

from workbench.render.latex import (
    DEFAULT_STYLE,
    Mark,
    StepStyle,
    conventional_terms,
    expr_to_latex,
    step_to_latex,
)

# Ems of a display row beside its tag: an A4 text block at 11 pt is about 42 em wide, and a
# step's tag ("(8) split sum ✓S") takes about 10 of them.
ROW_BUDGET = 26.0
SCRIPT = 0.7  # sub- and superscripts are set smaller
WIDE_COMMANDS = {"sum": 1.6, "prod": 1.6, "int": 1.0, "quad": 1.0, "qquad": 2.0}
SILENT_COMMANDS = {"left", "right", "operatorname", "mathrm", "mathbf", "mathbb", "mathcal",
                   "bmod", "big", "Big", "bigl", "bigr", "limits", "displaystyle", "textsf",
                   "text", "boldsymbol", "hat", "tilde", "bar", "dot", "allowbreak"}  # fmt: skip
# Commands that print a word (\cos, \log, \max) are as wide as the word.


def display_width(latex: str) -> float:
    """An estimate, in ems, of how wide ``latex`` (math mode) is when set in a display."""
    width, _ = _width(latex, 0)
    return width


def _group(latex: str, start: int) -> tuple[float, int]:
    """The width of the braced group (or single token) at ``start``, and where it ends."""
    if start < len(latex) and latex[start] == "{":
        return _width(latex, start + 1, closing=True)
    if start < len(latex) and latex[start] == "\\":
        name = re.match(r"\\([A-Za-z]+|.)", latex[start:])
        if name is not None:
            return _command_width(name.group(1)), start + name.end()
    return (0.55 if start < len(latex) else 0.0), start + 1


def _command_width(name: str) -> float:
    if name in SILENT_COMMANDS:
        return 0.0
    if name in WIDE_COMMANDS:
        return WIDE_COMMANDS[name]
    if len(name) == 1 or name in ("cdot", "times", "pi", "sigma", "mu", "lambda"):
        return 0.6
    if name in ("sin", "cos", "tan", "log", "exp", "max", "min", "det", "tr", "tanh"):
        return 0.5 * len(name) + 0.2
    return 0.9  # a Greek letter or a symbol


def _width(latex: str, i: int, closing: bool = False) -> tuple[float, int]:
    total = 0.0
    while i < len(latex):
        c = latex[i]
        if c == "}" and closing:
            return total, i + 1
        if c in "_^":
            w, i = _group(latex, i + 1)
            total += SCRIPT * w
            continue
        if latex.startswith("\\frac", i):
            numerator, i = _group(latex, i + 5)
            denominator, i = _group(latex, i)
            total += max(numerator, denominator) + 0.3
            continue
        big = re.match(r"\\(sum|prod)(?![A-Za-z])", latex[i:])
        if big:  # in a display the limits sit below and above: as wide as the widest
            w, i = WIDE_COMMANDS[big.group(1)], i + big.end()
            while i < len(latex) and latex[i] in "_^":
                limit, i = _group(latex, i + 1)
                w = max(w, SCRIPT * limit)
            total += w
            continue
        if c == "\\":
            w, i = _group(latex, i)
            total += w
            continue
        if c == "{":
            w, i = _width(latex, i + 1, closing=True)
            total += w
            continue
        if c == "&":
            i += 1
            continue
        total += 0.0 if c == " " else (0.9 if c in "=+-<>" else 0.55)
        i += 1
    return total, i


def split_terms(expr: sp.Expr, budget: float = ROW_BUDGET) -> list[str]:
    """``expr`` as LaTeX lines, each within ``budget`` ems where its terms allow.

    A sum too wide for one line is cut between its terms; each continuation line starts
    with its sign. Anything else (a product, a single wide term) stays one line.
    """
    whole = expr_to_latex(expr)
    if display_width(whole) <= budget or not isinstance(expr, sp.Add):
        return [whole]
    pieces = []
    for n, term in enumerate(conventional_terms(expr)):
        if n == 0:
            pieces.append(expr_to_latex(term))
        elif term.could_extract_minus_sign():
            pieces.append("- " + expr_to_latex(-term))
        else:
            pieces.append("+ " + expr_to_latex(term))
    lines: list[str] = []
    for piece in pieces:
        if lines and display_width(lines[-1] + " " + piece) <= budget:
            lines[-1] += " " + piece
        else:
            lines.append(piece)
    return lines


FIT = r"""\newsavebox{\wbfit}
\newcommand{\fitmath}[2][0.85\linewidth]{\sbox{\wbfit}{$\displaystyle #2$}%
\ifdim\wd\wbfit>#1\resizebox{#1}{!}{\usebox{\wbfit}}\else\usebox{\wbfit}\fi}
"""
"""Preamble lines defining ``\\fitmath[width]{math}``: the math as it is when it fits in
``width``, scaled down to ``width`` when it would not (a product or a fraction too wide
for any line break). The default leaves room for an ``align*`` row's left side."""


def fit(latex: str, width: str = "") -> str:
    """``latex`` (math) wrapped so that it never runs past ``width`` (default: a row's)."""
    option = f"[{width}]" if width else ""
    return f"\\fitmath{option}{{{latex}}}"


def steps_block(
    result, marks: Mapping[int, Mark] | None = None, style: StepStyle = DEFAULT_STYLE
) -> str:
    """A result's chain as ``align*`` (as :func:`~workbench.render.latex.steps_to_latex`),
    with every row too wide for the page continued on further lines between its terms, and
    what still does not fit scaled to the line (:data:`FIT`)."""
    marks = marks or {}
    rows = []
    for number, step in enumerate(result.steps, 1):
        row = step_to_latex(step, number, marks.get(number, Mark.UNCHECKED), style)
        tag = row[row.index(r" \tag*{") :]  # the step's number, rule and mark, as printed
        lines = [fit(line) for line in split_terms(step.after)]
        rows.append(f"&= {lines[0]}{tag}" + "".join(f" \\\\\n&\\qquad {x}" for x in lines[1:]))
    goal = [fit(line, r"0.9\linewidth") for line in split_terms(result.goal)]
    head = goal[0] + "".join(f" \\\\\n&\\qquad {line}" for line in goal[1:])
    body = " \\\\\n".join(rows)
    return f"\\begin{{align*}}\n{head}\n{body}\n\\end{{align*}}"


INLINE_MATH = re.compile(r"(?<!\\)\$([^$]+)\$")


def breakable_inline(text: str) -> str:
    """Text-mode LaTeX whose inline math may break after a comma (tuples of numbers)."""

    def allow(match: re.Match) -> str:
        inner = re.sub(r",\s*(?!\\allowbreak)", r",\\allowbreak ", match.group(1))
        return f"${inner}$"

    return INLINE_MATH.sub(allow, text)
