"""Expressions as one line of Unicode mathematics, for a terminal.

What a learner reads in a report should look like the mathematics on their page, not
like Python: ``3x²`` rather than ``3*x**2``, ``−`` for minus, ``√(x + 1)``, ``|x|``,
``σ(x)``, ``x₀`` and ``A₀,₁`` for entries, ``Aᵀ`` and ``A⁻¹``. The verifier prints its
"expected" value this way beside the claim-language text that can be typed back
(:mod:`workbench.codegen.claim_text`), and its diagnoses name terms this way.

Products: a number is written against what it multiplies (``2x``, ``3(x + 1)``), other
factors are joined by ``·`` (``x·sin(x)``), so no product of two names reads as one
name.

Example:
    >>> import sympy as sp
    >>> x = sp.Symbol("x")
    >>> to_unicode(3 * x**2 - sp.sqrt(x + 1))
    '3x² − √(x + 1)'
    >>> A = sp.MatrixSymbol("A", 2, 2)
    >>> to_unicode(2 * A[0, 1] * sp.exp(-x))
    '2A₀,₁·exp(−x)'
"""

from __future__ import annotations

import re

import sympy as sp
from sympy.matrices.expressions.matexpr import MatrixElement
from sympy.printing.precedence import PRECEDENCE, precedence
from sympy.printing.str import StrPrinter

_SUPERSCRIPT = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")
SUBSCRIPT = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")
_ENTRY_NAME = re.compile(r"(?P<name>[A-Za-z_]\w*)\[(?P<indices>\d+(?:, ?\d+)?)\]")

# The engine's elementwise functions under the names a page uses.
_FUNCTION_NAMES = {
    "sigmoid": "σ",
    "sigmoid_prime": "σ′",
    "tanh_prime": "tanh′",
    "relu": "ReLU",
    "relu_prime": "ReLU′",
    "phi": "φ",
    "phi_prime": "φ′",
    "Heaviside": "step",
}


class UnicodeMathPrinter(StrPrinter):
    """SymPy's one-line printer, with the notation of a page (see the module docstring)."""

    def _print_Symbol(self, expr):
        # The verifier's entries are symbols named as the claim language writes them.
        entry = _ENTRY_NAME.fullmatch(expr.name)
        if entry:
            return entry["name"] + entry["indices"].replace(" ", "").translate(SUBSCRIPT)
        return expr.name

    def _print_MatrixSymbol(self, expr):
        return expr.name

    def _print_MatrixElement(self, expr):
        name = self._print(expr.parent)
        if not isinstance(expr.parent, sp.MatrixSymbol):
            name = f"({name})"
        indices = [expr.i] if expr.parent.shape[1] == 1 and expr.j == 0 else [expr.i, expr.j]
        text = ",".join(self._print(i) for i in indices)
        subscript = text.translate(SUBSCRIPT)
        if all(c in "₀₁₂₃₄₅₆₇₈₉," for c in subscript):
            return name + subscript
        return f"{name}[{text}]"  # a symbolic index: no Unicode subscript letters for most

    def _print_Transpose(self, expr):
        return f"{self._postfixed(expr.arg)}ᵀ"

    def _print_Inverse(self, expr):
        return f"{self._postfixed(expr.arg)}⁻¹"

    def _postfixed(self, arg) -> str:
        text = self._print(arg)
        return text if isinstance(arg, sp.MatrixSymbol) else f"({text})"

    def _print_MatMul(self, expr):
        coeff, factors = expr.as_coeff_matrices()
        body = "".join(self.parenthesize(f, PRECEDENCE["Mul"]) for f in factors)
        return body if coeff == 1 else f"{self._coefficient(coeff)}{body}"

    def _print_HadamardProduct(self, expr):
        return " ⊙ ".join(self.parenthesize(f, PRECEDENCE["Mul"]) for f in expr.args)

    def _print_Add(self, expr, order=None):
        texts = [self._print(term) for term in self._as_ordered_terms(expr, order=order)]
        # A positive term first, as a page writes it: s − y, not −y + s.
        texts.sort(key=lambda text: text.startswith("−"))
        out = ""
        for k, text in enumerate(texts):
            negative = text.startswith("−")
            if k == 0:
                out = text
            else:
                out += f" − {text[1:]}" if negative else f" + {text}"
        return out

    def _print_Mul(self, expr):
        if expr.could_extract_minus_sign():
            return (
                "−" + self._print_Mul(-expr)
                if isinstance(-expr, sp.Mul)
                else "−" + self._print(-expr)
            )
        top, bottom = [], []
        for factor in expr.as_ordered_factors():
            if factor.is_Rational and factor.q != 1:
                if factor.p != 1:
                    top.append(sp.Integer(factor.p))
                bottom.append(sp.Integer(factor.q))
            elif (
                isinstance(factor, sp.Pow)
                and factor.exp.is_number
                and factor.exp < 0
                and factor.base != sp.E
            ):
                bottom.append(factor.base**-factor.exp)
            else:
                top.append(factor)
        # Names and entries before functions of them: 2A₀,₁·exp(−x), as a page writes it.
        top.sort(key=_factor_rank)
        numerator = self._product(top) if top else "1"
        if not bottom:
            return numerator
        denominator = self._product(bottom)
        # One factor that reads as a unit needs no parentheses: x/(x + 1), 2x/|x|, 1/√d.
        simple = len(bottom) == 1 and not bottom[0].is_Mul
        if not simple:
            denominator = f"({denominator})"  # a/(2x): not a/2·x
        return f"{numerator}/{denominator}"

    def _product(self, factors) -> str:
        """Factors of a product: a number against a name, an entry, a root or a group;
        ``·`` between the rest."""
        texts = [self.parenthesize(f, PRECEDENCE["Mul"]) for f in factors]
        out = texts[0]
        for previous, text in zip(factors, texts[1:], strict=False):
            tight = previous.is_Number and (text[0] in "(√" or _single_name(text))
            out += text if tight else f"·{text}"
        return out

    def _coefficient(self, coeff) -> str:
        text = self._print(coeff)
        return f"({text})" if isinstance(coeff, sp.Add) else text

    def _print_Pow(self, expr, rational=False):
        base, exponent = expr.args
        if exponent == sp.S.Half:
            return self._root(base)
        if exponent == -sp.S.Half:
            return f"1/{self._root(base)}"
        if exponent.is_Integer and exponent < 0:
            return f"1/{self.parenthesize(base**-exponent, PRECEDENCE['Mul'], strict=True)}"
        if base == sp.E:
            return f"exp({self._print(exponent)})"
        if isinstance(base, sp.Function) and exponent.is_Integer and exponent > 0:
            head, _, rest = self._print(base).partition("(")
            return f"{head}{str(exponent).translate(_SUPERSCRIPT)}({rest}"  # tanh²(x)
        shown = self.parenthesize(base, PRECEDENCE["Pow"], strict=True)
        if exponent.is_Integer:
            return shown + str(exponent).translate(_SUPERSCRIPT)
        return f"{shown}^({self._print(exponent)})"

    def _root(self, base) -> str:
        inner = self._print(base)
        return f"√{inner}" if base.is_Atom or isinstance(base, MatrixElement) else f"√({inner})"

    def _print_Rational(self, expr):
        text = f"{expr.p}/{expr.q}"
        return "−" + text[1:] if text.startswith("-") else text

    def _print_Integer(self, expr):
        return str(expr).replace("-", "−")

    def _print_Float(self, expr):
        return super()._print_Float(expr).replace("-", "−")

    def _print_Abs(self, expr):
        return f"|{self._print(expr.args[0])}|"

    def _print_Exp1(self, expr):
        return "e"

    def _print_Pi(self, expr):
        return "π"

    def _print_exp(self, expr):
        return f"exp({self._print(expr.args[0])})"

    def _print_Function(self, expr):
        name = _FUNCTION_NAMES.get(expr.func.__name__, expr.func.__name__)
        return f"{name}({', '.join(self._print(a) for a in expr.args[:1])})"

    def _print_Heaviside(self, expr):
        return f"step({self._print(expr.args[0])})"

    def _print_Max(self, expr):
        return f"max({', '.join(self._print(a) for a in expr.args)})"

    def _print_Min(self, expr):
        return f"min({', '.join(self._print(a) for a in expr.args)})"

    def _print_Elementwise(self, expr):
        name = _FUNCTION_NAMES.get(expr.name, expr.name)
        return f"{name}({self._print(expr.arg)})"

    def parenthesize(self, item, level, strict=False):
        text = self._print(item)
        if precedence(item) < level or (strict and precedence(item) == level):
            return f"({text})"
        if text.startswith("−") and level >= PRECEDENCE["Mul"]:
            return f"({text})"
        return text


def _factor_rank(factor) -> int:
    """Numbers and constants first, then names, entries and their powers, then the rest."""
    if factor.is_number and not isinstance(factor, sp.Function | sp.Pow):
        return 0
    if factor.is_Symbol or isinstance(factor, MatrixElement | sp.Pow):
        return 1
    return 2


def _single_name(text: str) -> bool:
    """``x``, ``x₀``, ``A₀,₁``, ``x²``: one letter and its sub- or superscripts."""
    return text[:1].isalpha() and not any(c.isalpha() for c in text[1:])


def to_unicode(expr: sp.Basic) -> str:
    """``expr`` as one line of Unicode mathematics (see the module docstring)."""
    return UnicodeMathPrinter().doprint(sp.sympify(expr))
