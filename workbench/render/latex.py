"""Expressions and step chains as LaTeX, with marks that say how each step was checked.

Three layers, each usable alone (the handouts use all three, notebook display may use
the first two):

* :func:`expr_to_latex` — one SymPy expression, printed in the workbench's index
  notation: ``z[i, 0]`` → ``z_{i}``, ``W[a, b]`` → ``W_{ab}``, canonical bound variables
  ``_s0, _s1, …`` → ``k, l, …``, derivatives as ``\\frac{\\partial …}{\\partial …}``,
  and the matrix functions of :mod:`workbench.core.functions` as ``\\operatorname{softmax}``.
* :class:`Mark` and :func:`mark_of` — the verdict on one step, as a mark that is earned
  only by a passed check: ✓S (proved symbolically), ✓N (tested numerically); a failed,
  undecided or unrun check never shows a check mark.
* :func:`steps_to_latex` / :func:`derivation_to_latex` — a result's chain of steps as
  an ``align*`` block, each step numbered, its rule and its mark beside it.

The output needs ``amsmath`` and ``amssymb`` only.

Example:
    >>> import sympy as sp
    >>> s, z = sp.MatrixSymbol("s", 3, 1), sp.MatrixSymbol("z", 3, 1)
    >>> i, j = sp.symbols("i j", integer=True)
    >>> expr_to_latex(sp.Derivative(s[i, 0], z[j, 0]))
    '\\\\frac{\\\\partial s_{i}}{\\\\partial z_{j}}'
"""

from __future__ import annotations

import enum
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import sympy as sp
from sympy.core.function import AppliedUndef
from sympy.matrices.expressions.matexpr import MatrixElement
from sympy.printing.latex import LatexPrinter
from sympy.printing.precedence import PRECEDENCE

from workbench.core import algebra
from workbench.core.derivation import note_parts
from workbench.render.prose import text_to_latex
from workbench.render.text import bound_name, conventional_terms

__all__ = [
    "DEFAULT_STYLE",
    "Mark",
    "StepStyle",
    "WorkbenchLatexPrinter",
    "assumptions_to_latex",
    "derivation_to_latex",
    "expr_to_latex",
    "mark_of",
    "note_to_latex",
    "notes_to_latex",
    "number_to_latex",
    "printed_names",
    "rule_to_latex",
    "shown_to_latex",
    "step_to_latex",
    "steps_to_latex",
    "text_to_latex",
]

# How each elementwise function of workbench.core.functions is written; "_prime" adds a ′.
ELEMENTWISE_LATEX: Mapping[str, str] = {
    "exp": r"\exp",
    "log": r"\log",
    "tanh": r"\tanh",
    "sigmoid": r"\sigma",
    "relu": r"\operatorname{ReLU}",
    "step": r"\operatorname{step}",
    "phi": r"\varphi",
}


_SQUARED = re.compile(r"(?P<base>.+)_sq(?:_(?P<sub>[A-Za-z0-9]+))?")


def _squared(sub: str | None) -> str:
    return "^{2}" + (f"_{{{sub}}}" if sub else "")


class WorkbenchLatexPrinter(LatexPrinter):
    """SymPy's LaTeX printer, taught the workbench's index notation and matrix functions."""

    # ---------------------------------------------------------------- names
    def _print_Symbol(self, expr, style="plain"):
        bound = bound_name(expr)
        if bound is not None:
            return bound
        if expr.name == "epsilon":
            return r"\varepsilon"  # the ε of the prose, not ϵ
        square = _SQUARED.fullmatch(expr.name)
        if square:  # sigma_sq is σ², one name (not σ₂, nor σ·σ); sigma_sq_1 is σ²₁
            return self._print_Symbol(sp.Symbol(square["base"])) + _squared(square["sub"])
        out = super()._print_Symbol(expr, style=style)
        if out == expr.name and len(out) > 1 and out.isalpha():
            return rf"\mathrm{{{out}}}"  # NLL is one name, not N·L·L
        return out

    def _print_MatrixSymbol(self, expr):
        square = _SQUARED.fullmatch(expr.name)
        if square and expr.shape[1] == 1:  # a column of variances, one per row: σ²₁, not σ₂₁
            return self._print_Symbol(sp.Symbol(square["base"])) + _squared(square["sub"])
        if square:  # a matrix named M_sq is not M·M: its name as SymPy writes it
            return self._deal_with_super_sub(expr.name)
        return super()._print_MatrixSymbol(expr)

    def _print_Expectation(self, expr):
        # 𝔼, as Adam's recurrences and the prose print it (SymPy writes an upright E).
        inside = self._print(expr.args[0])
        if len(expr.args) > 1:  # E[X | X > 0]: SymPy's own printer drops the condition
            inside += rf" \mid {self._print(expr.args[1])}"
        return rf"\mathbb{{E}}\left[{inside}\right]"

    def _print_Dummy(self, expr):
        return self._print(sp.Symbol(expr.name))  # SymPy would print _k

    def _print_MatrixElement(self, expr):
        parent = expr.parent
        name = self._print(parent)
        if isinstance(parent, sp.MatrixSymbol) and parent.shape == (1, 1):
            return name  # the one entry of a 1 × 1 is the number itself: p, not p₀
        if not isinstance(parent, sp.MatrixSymbol):
            name = rf"\left({name}\right)"
        elif "_" in name:
            name = f"[{name}]"  # W2[p, q] → [W_{2}]_{pq}: TeX forbids a double subscript
        if parent.shape[1] == 1 and expr.j == 0:
            return f"{name}_{{{self._print(expr.i)}}}"
        return f"{name}_{{{self._pair(expr.i, expr.j)}}}"

    def _pair(self, a, b) -> str:
        first, second = self._print(a), self._print(b)
        if len(first) == 1 and len(second) == 1:
            return first + second  # W_{ab}, δ_{ij}
        return f"{first},{second}"

    def _print_KroneckerDelta(self, expr, exp=None):
        out = rf"\delta_{{{self._pair(*expr.args)}}}"
        return f"{out}^{{{exp}}}" if exp else out

    # ---------------------------------------------------------------- calculus
    def _print_Derivative(self, expr):
        order = sum(count for _, count in expr.variable_count)
        below = " ".join(
            rf"\partial {self._print(v)}" if c == 1 else rf"\partial {self._print(v)}^{{{c}}}"
            for v, c in expr.variable_count
        )
        top = r"\partial" if order == 1 else rf"\partial^{{{order}}}"
        body = expr.expr
        # A name or one function application reads best on top: ∂ log s_k / ∂z_j. Anything
        # longer follows the operator in parentheses, so its reach is never in doubt.
        if isinstance(body, sp.Symbol | sp.Indexed | sp.Function | sp.Pow) or hasattr(
            body, "parent"
        ):
            return rf"\frac{{{top} {self._print(body)}}}{{{below}}}"
        return rf"\frac{{{top}}}{{{below}}} \left({self._print(body)}\right)"

    def _print_Function(self, expr, exp=None):
        # The unspecified activation φ(aₖ) is written as its elementwise form φ(a) is
        # (\varphi), not SymPy's \phi: one letter in steps, boxes and notes.
        if type(expr).__name__ == "phi" and len(expr.args) == 1 and exp is None:
            return rf"{ELEMENTWISE_LATEX['phi']}{{\left({self._print(expr.args[0])} \right)}}"
        # A one-letter function of a step number is a sequence, written as the notation
        # and the prose write it: g_k, not g(k) (Adam and momentum mixed the two).
        if (
            isinstance(expr, AppliedUndef)
            and len(expr.args) == 1
            and expr.args[0].is_integer
            and not expr.args[0].is_number  # f(0) is a value of f, not a term g₀
            and len(type(expr).__name__) == 1
        ):
            out = f"{type(expr).__name__}_{{{self._print(expr.args[0])}}}"
            return f"{out}^{{{exp}}}" if exp else out
        return super()._print_Function(expr, exp)

    def _print_Subs(self, subs):
        # φ′(u) is stored as Subs(dφ(t)/dt, t, u): print it as the reader writes it.
        expr, (old,), (new,) = subs.args[0], subs.variables, subs.point
        if (
            isinstance(expr, sp.Derivative)
            and expr.variables == (old,)
            and isinstance(expr.expr, sp.Function)
            and expr.expr.args == (old,)
        ):
            name = self._print(type(expr.expr)(sp.Symbol("x"))).split(r"{\left(")[0]
            return rf"{name}'\left({self._print(new)}\right)"
        return super()._print_Subs(subs)

    def _print_Sum(self, expr):
        sums = "".join(
            rf"\sum_{{{self._print(v)}={self._print(lo)}}}^{{{self._print(hi)}}} "
            for v, lo, hi in reversed(expr.limits)  # SymPy stores the innermost first
        )
        body = expr.function
        if isinstance(body, sp.Add):
            return rf"{sums}\left({self._print(body)}\right)"
        return sums + self._print(body)

    def _print_Heaviside(self, expr, exp=None):
        out = rf"H\left({self._print(expr.args[0])}\right)"
        return f"{out}^{{{exp}}}" if exp else out

    # ---------------------------------------------------------------- sums
    def _print_Add(self, expr, order=None):
        terms = conventional_terms(expr)
        tex = self._print(terms[0])
        if self._needs_add_brackets(terms[0]):
            tex = rf"\left({tex}\right)"
        for term in terms[1:]:
            sign = " - " if term.could_extract_minus_sign() else " + "
            shown = -term if sign == " - " else term
            body = self._print(shown)
            tex += sign + (rf"\left({body}\right)" if self._needs_add_brackets(shown) else body)
        return tex

    def _print_MatAdd(self, expr):
        out = ""
        for n, term in enumerate(conventional_terms(expr)):
            body = self._print(term)
            negative = body.startswith("-")
            if negative:
                body = body[1:].lstrip()
            if n == 0:
                out = ("- " if negative else "") + body
            else:
                out += (" - " if negative else " + ") + body
        return out

    # ---------------------------------------------------------------- matrices
    def _print_Transpose(self, expr):
        return rf"{self.parenthesize(expr.arg, PRECEDENCE['Pow'])}^{{\top}}"

    def _print_MatMul(self, expr):
        # SymPy measures each factor of -X Y against the precedence of the whole, which for
        # a negated product is that of a sum: a Hadamard factor then lost its parentheses,
        # and -(A ⊙ B) C printed as -A ⊙ B C. Each factor is measured against a product.
        args = [a for a in expr.args if a != sp.Identity(1)] or [sp.Identity(1)]  # m·1 → m
        below = [_inverted(a) for a in args if _inverted(a) is not None]
        if expr.shape == (1, 1) and below and len(below) < len(args):
            # A 1 × 1 times the inverse of a 1 × 1 is a ratio of numbers: wᵀSw/wᵀw.
            if expr.could_extract_minus_sign():
                return "- " + self._print(-expr)
            top = [a for a in args if _inverted(a) is None]
            over = sp.MatMul(*below) if len(below) > 1 else below[0]
            return rf"\frac{{{self._print(sp.MatMul(*top))}}}{{{self._print(over)}}}"
        sign = ""
        if expr.could_extract_minus_sign():
            args = args[1:] if args[0] == -1 else [-args[0], *args[1:]]
            sign = "- "

        def factor(arg) -> str:
            if not isinstance(arg, sp.MatrixExpr | sp.Add):  # a scalar coefficient as itself
                return self._print(arg)
            return self.parenthesize(arg, PRECEDENCE["Mul"], strict=False)

        return sign + " ".join(factor(a) for a in args)

    def _print_HadamardProduct(self, expr):
        return r" \odot ".join(self.parenthesize(a, PRECEDENCE["Mul"]) for a in expr.args)

    def _print_OneMatrix(self, expr):
        rows, cols = expr.shape
        if cols == 1:
            return rf"\mathbf{{1}}_{{{self._print(rows)}}}"
        if rows == 1:
            return rf"\mathbf{{1}}_{{{self._print(cols)}}}^{{\top}}"
        return rf"\mathbf{{1}}_{{{self._print(rows)} \times {self._print(cols)}}}"

    def _print_Identity(self, expr):
        if expr.rows == 1:
            return "1"  # a 1 × 1 identity is the number 1: 1 − wᵀw, not I₁ − wᵀw
        return rf"I_{{{self._print(expr.rows)}}}"

    def _print_DiagMatrix(self, expr):
        return rf"\operatorname{{diag}}\left({self._print(expr.args[0])}\right)"

    def _print_Softmax(self, expr):
        return rf"\operatorname{{softmax}}{_axis(expr)}\left({self._print(expr.arg)}\right)"

    def _print_LogSoftmax(self, expr):
        return rf"\log\operatorname{{softmax}}{_axis(expr)}\left({self._print(expr.arg)}\right)"

    def _print_MaskedSoftmax(self, expr):
        arg, mask = (self._print(a) for a in expr.args)
        return rf"\operatorname{{masked-softmax}}\left({arg}, {mask}\right)"

    def _print_Elementwise(self, expr):
        name, prime = expr.name, ""
        if name.endswith("_prime"):
            name, prime = name.removesuffix("_prime"), "'"
        if name == "square":
            return rf"{self.parenthesize(expr.arg, PRECEDENCE['Pow'])}^{{\circ 2}}"
        head = ELEMENTWISE_LATEX.get(name, rf"\operatorname{{{name}}}")
        return rf"{head}{prime}\left({self._print(expr.arg)}\right)"


def _inverted(factor):
    """The 1 × 1 whose inverse ``factor`` is (``Inverse(a)`` or ``a**-1``), else None."""
    inverse = isinstance(factor, sp.Inverse) or (
        isinstance(factor, sp.MatPow) and factor.args[1] == -1
    )
    return factor.args[0] if inverse and factor.args[0].shape == (1, 1) else None


def assumptions_to_latex(derivation, result) -> list[str]:
    """Each fact ``result`` assumes as ``$lhs = rhs$``. A name for an inverse that the
    fact is written with but the result has written out (Xinv, now X⁻¹) is printed as the
    inverse, so a face never prints a program's name the steps no longer use; the other
    names (det X as D) stay as the fact states them."""
    defs = {k: v for k, v in derivation.definitions.items() if isinstance(v, sp.Inverse)}
    present = algebra.names_in(result.derived, defs)
    out = []
    for lhs, rhs in result.assumptions:
        lhs, rhs = (algebra.unfolded_beyond(side, present, defs) for side in (lhs, rhs))
        out.append(f"${expr_to_latex(lhs)} = {expr_to_latex(rhs)}$")
    return out


def _axis(expr) -> str:
    # Axis 0 is the column-vector default; axis 1 normalises each row.
    return r"_{\mathrm{row}}" if expr.axis == 1 else ""


def expr_to_latex(expr) -> str:
    """One expression in the workbench's LaTeX notation (math mode, no delimiters).

    Example:
        >>> import sympy as sp
        >>> expr_to_latex(sp.KroneckerDelta(*sp.symbols("i j")))
        '\\\\delta_{ij}'
    """
    return WorkbenchLatexPrinter().doprint(expr)


def printed_names(expr) -> dict[str, Any]:
    """Each name of ``expr`` keyed by the LaTeX it prints as: the scope in which a
    reader of this notation (:mod:`workbench.verify.latex_reader`) reads ``expr`` back.

    Every free symbol, matrix, indexed base and undefined function of ``expr`` is keyed
    by its printed LaTeX; so is every sub-expression the printer writes in a form that
    does not show its arguments (a recurrence ``m_{t}``, a stationary mean, a
    derivation's own matrix function such as ``\\operatorname{LSE}``): those read back
    verbatim, as themselves.

    Raises:
        ValueError: when two different names print alike, so no reader could tell them
            apart — a defect of the printed formula.
    """
    scope: dict[str, Any] = {}

    def add(key: str, value) -> None:
        if key in scope and scope[key] != value:
            raise ValueError(f"{scope[key]} and {value} both print as {key!r}")
        scope[key] = value

    from sympy.stats.rv import RandomSymbol

    expr = sp.sympify(expr)
    # A sum's own limits name its variable; a derivative's variable (the j of z_j) is
    # not free in SymPy's sense but is a name of the printed formula all the same.
    bound = {
        limit[0] for node in expr.atoms(sp.Sum, sp.Product) for limit in node.limits
    } - expr.free_symbols
    stack = [expr]
    while stack:
        node = stack.pop()
        if _verbatim(node):
            add(expr_to_latex(node), node)  # what is inside is not printed: not a name
        elif _one_by_one_entry(node):
            add(expr_to_latex(node), node)  # printed as its matrix's bare name
        elif isinstance(node, RandomSymbol):
            add(expr_to_latex(node), node)
        elif isinstance(node, sp.Symbol | sp.MatrixSymbol | sp.IndexedBase):
            if node not in bound:
                add(expr_to_latex(node), node)
        else:
            if isinstance(node, sp.core.function.AppliedUndef):
                head = expr_to_latex(node.func(sp.Symbol("x"))).split(r"{\left(")[0]
                add(head, node.func)
            stack.extend(node.args)
    if any(getattr(p.base, "name", None) == "e" for p in expr.atoms(sp.Pow)):
        raise ValueError("a power of the symbol e prints like exp")
    return scope


def _one_by_one_entry(node) -> bool:
    return (
        isinstance(node, MatrixElement)
        and isinstance(node.parent, sp.MatrixSymbol)
        and node.parent.shape == (1, 1)
    )


def _verbatim(node) -> bool:
    """Nodes printed without their arguments, or by a class the reader does not know."""
    cls = type(node)
    module = cls.__module__ or ""
    if cls.__name__ in ("Recurrence", "StationaryMean"):
        return True
    return module.startswith("derivations") and hasattr(cls, "_latex")


def number_to_latex(x: float, digits: int = 1) -> str:
    """A measured number in math mode: ``2.8 \\times 10^{-17}``, ``0``, ``0.5``.

    Example:
        >>> number_to_latex(2.84e-17), number_to_latex(1e-05, 0), number_to_latex(0.25)
        ('2.8 \\\\times 10^{-17}', '10^{-5}', '0.25')
    """
    if x == 0 or not math.isfinite(x):
        return "0" if x == 0 else r"\infty"
    plain = f"{x:.{digits + 2}g}"
    if 1e-3 <= abs(x) < 1e4 and "e" not in plain:
        return plain
    mantissa, exponent = f"{x:.{digits}e}".split("e")
    power = f"10^{{{int(exponent)}}}"
    return power if float(mantissa) == 1 else rf"{mantissa} \times {power}"


# ---------------------------------------------------------------- marks
class Mark(enum.Enum):
    """How a step was checked. Only PROVED and TESTED earn a check mark."""

    PROVED = "proved"  # symbolically, by a tier that reduces a − b to 0
    TESTED = "tested"  # numerically: exact random points or 50-digit evaluation
    FAILED = "failed"  # the check found the two sides different
    UNDECIDED = "undecided"  # the check ran out of its time budget
    UNCHECKED = "unchecked"  # no check was run on this step
    ASSUMED = "assumed"  # the step rests on a fact its result assumes (never a check mark)

    @property
    def earned(self) -> bool:
        return self in (Mark.PROVED, Mark.TESTED)


def mark_of(equal: bool | None, method: str) -> Mark:
    """The mark for a verdict: ``equal`` True/False/None and the method that decided.

    Example:
        >>> mark_of(True, "proved"), mark_of(None, "undecided")
        (<Mark.PROVED: 'proved'>, <Mark.UNDECIDED: 'undecided'>)
    """
    if equal is True:
        return Mark.PROVED if method == "proved" else Mark.TESTED
    if equal is False:
        return Mark.FAILED
    return Mark.UNDECIDED


@dataclass(frozen=True)
class StepStyle:
    """How marks and rule names look; text-mode LaTeX, placed in a ``\\tag*``.

    Attributes:
        marks: the LaTeX for each mark. Only earned marks may contain a check mark
            (:func:`steps_to_latex` refuses a style that breaks this).
        rule: a format string for the rule name, ``{}`` is replaced by it.
    """

    marks: Mapping[Mark, str] = field(
        default_factory=lambda: {
            Mark.PROVED: r"\ensuremath{\checkmark}\textsubscript{S}",
            Mark.TESTED: r"\ensuremath{\checkmark}\textsubscript{N}",
            Mark.FAILED: r"\ensuremath{\times}~failed",
            Mark.UNDECIDED: r"?~undecided",
            Mark.UNCHECKED: r"not checked",
            Mark.ASSUMED: r"assumed",
        }
    )
    rule: str = "{}"

    def __post_init__(self):
        for mark, latex in self.marks.items():
            if not mark.earned and "checkmark" in latex:
                raise ValueError(f"the {mark.value} mark must not show a check mark")


DEFAULT_STYLE = StepStyle()


def rule_to_latex(rule: str, style: StepStyle = DEFAULT_STYLE) -> str:
    """A rule's name as text-mode LaTeX, e.g. ``"Kronecker delta"``."""
    return style.rule.format(text_to_latex(rule))


def step_to_latex(step, number: int, mark: Mark, style: StepStyle = DEFAULT_STYLE) -> str:
    """One row of an ``align*``: ``&= after`` tagged with its number, rule and mark.

    Example:
        >>> import sympy as sp
        >>> from workbench.core.derivation import Step
        >>> x = sp.Symbol("x")
        >>> step_to_latex(Step(x + x, 2 * x, "algebra", "", ""), 3, Mark.TESTED)
        '&= 2 x \\\\tag*{(3)~algebra~\\\\ensuremath{\\\\checkmark}\\\\textsubscript{N}}'
    """
    tag = f"({number})~{rule_to_latex(step.rule, style)}~{style.marks[mark]}"
    return rf"&= {expr_to_latex(step.after)} \tag*{{{tag}}}"


def steps_to_latex(result, marks: Mapping[int, Mark] | None = None, style=DEFAULT_STYLE) -> str:
    """A result's chain as ``align*``: the goal, then one numbered row per step.

    Args:
        result: a :class:`~workbench.core.derivation.Result`.
        marks: step number (from 1) → :class:`Mark`; a step missing here is shown
            as not checked, so nothing unverified ever carries a check mark.
        style: how marks and rule names look.
    """
    marks = marks or {}
    rows = [
        step_to_latex(step, number, marks.get(number, Mark.UNCHECKED), style)
        for number, step in enumerate(result.steps, 1)
    ]
    body = " \\\\\n".join(rows)
    return f"\\begin{{align*}}\n{expr_to_latex(result.goal)}\n{body}\n\\end{{align*}}"


def shown_to_latex(shown) -> str:
    """What a note shows of its step, as the step's rows print it (one formula)."""
    return r" \text{ and } ".join(
        f"{expr_to_latex(lhs)} = {expr_to_latex(rhs)}" for lhs, rhs in shown.equations
    )


def note_to_latex(step) -> str:
    """A step's note as LaTeX: its prose through :func:`text_to_latex`, each ``{}`` field
    the formula the step shows, printed as the step's own rows are."""
    return "".join(
        text_to_latex(p) if isinstance(p, str) else f"${shown_to_latex(p)}$"
        for p in note_parts(step)
    )


def notes_to_latex(result) -> str:
    """The learner's note for each step, as a numbered list keyed like the steps."""
    items = "\n".join(
        rf"\item[({number})] {note_to_latex(step)}" for number, step in enumerate(result.steps, 1)
    )
    return f"\\begin{{description}}\n{items}\n\\end{{description}}"


def derivation_to_latex(
    derivation, marks: Mapping[tuple[str, int], Mark] | None = None, style=DEFAULT_STYLE
) -> str:
    """Every result's chain as an ``align*`` block, separated by blank lines.

    Args:
        derivation: a :class:`~workbench.core.derivation.Derivation`.
        marks: (result label, step number) → :class:`Mark`, e.g. from the derivation's
            check report; without it every step reads "not checked".
        style: how marks and rule names look.
    """
    marks = marks or {}
    blocks = [
        steps_to_latex(
            result,
            {n: m for (label, n), m in marks.items() if label == result.label},
            style,
        )
        for result in derivation.results
    ]
    return "\n\n".join(blocks)
