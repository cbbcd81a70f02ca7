"""Readable NumPy for a case: the code a teacher shows, and the code the checks run.

:func:`case_listings` writes a case's forward function and its gradients as Python
source a learner can read, then compiles *that text*; the finite-difference and
complex-step checks call the compiled functions (:func:`workbench.checks.runner.case_functions`),
so a handout that prints the text prints what was checked. The source

* reads its sizes from its inputs (``T, d = Q.shape``), never a size typed in: the
  same function runs at every size, and 1/√d is ``1 / np.sqrt(d)``, not ``(1/2)``;
* names its intermediate arrays with the case's names from the mathematics
  (``S``, ``P``, ``dP``, ``dS``; ``delta2``, ``delta1``) wherever the closed form
  contains them, transposed or not; what is shared beyond those gets ``t1``, ``t2``…;
* writes entrywise products as ``*``, means as ``.mean``, sums that broadcast without
  ``broadcast_to``, ``u ** (-1/2)`` as ``1 / np.sqrt(u)``; a substituted constant
  (ε, λ) is a keyword argument with its value as default;
* treats a 1×1 input as the number it is, so scalar results read as formulas
  (and latexify-py can typeset them).

Example:
    >>> import numpy as np, sympy as sp
    >>> n = sp.Symbol("n", integer=True, positive=True)
    >>> x = sp.MatrixSymbol("x", n, 1)
    >>> mean = sp.OneMatrix(n, 1) * sp.OneMatrix(1, n) * x / n
    >>> code = listing("centre", [x], [("xc", x - mean)])
    >>> print(code.source, end="")
    def centre(x):
        return x - x.mean(axis=0, keepdims=True)
    >>> code.function(np.array([[1.0], [3.0]])).ravel().tolist()
    [-1.0, 1.0]
"""

from __future__ import annotations

import ast
import itertools
import keyword
import linecache
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, ClassVar

import numpy as np
import sympy as sp
from sympy.core.function import _coeff_isneg
from sympy.matrices.expressions.matexpr import MatrixElement

from workbench.codegen.numeric import HELPERS
from workbench.codegen.printer import (
    StableNumPyPrinter,
    SumsBroadcast,
    _key,
    prepare,
)
from workbench.codegen.staged import stage_order
from workbench.core.algebra import substitute
from workbench.core.derivation import Case
from workbench.core.functions import Elementwise

NUMPY = re.compile(r"\bnumpy\.")  # SymPy's printer writes numpy.f; a reader writes np.f


@dataclass(frozen=True)
class Listing:
    """One generated function: its source text and the function compiled from that text.

    Attributes:
        name: the function's name, e.g. ``"gradients"``.
        source: the Python source, exactly what was compiled.
        function: the compiled function (inputs in the case's order).
        returns: the names of the returned values (``("dQ", "dK", "dV")``).
    """

    name: str
    source: str
    function: Callable
    returns: tuple[str, ...] = ()


class ReadablePrinter(StableNumPyPrinter):
    """The stable printer, writing NumPy as a person would (see the module docstring).

    Setting ``scalars``: the names of 1×1 inputs, printed as the numbers they hold. A
    term that only broadcasts a smaller array (a row sum, 𝟏bᵀ) is printed small where a
    sibling in its sum or entrywise product has the full shape: NumPy broadcasts it.
    """

    _default_settings: ClassVar[dict[str, Any]] = {
        **StableNumPyPrinter._default_settings,
        "scalars": frozenset(),
    }

    def _module_format(self, fqn, register=True):
        text = super()._module_format(fqn, register)
        return "np." + text[len("numpy.") :] if text.startswith("numpy.") else text

    # ---------------------------------------------------------------- scalars
    def _print_Symbol(self, expr):
        return python_name(expr.name)

    def _print_Pow(self, expr, rational=False):
        base, exponent = expr.args
        if exponent == sp.Rational(1, 2):
            return f"np.sqrt({self._print(base)})"
        if exponent.is_Number and exponent.is_negative:
            return f"1 / {self._denominator(base**-exponent)}"
        return super()._print_Pow(expr, rational=rational)

    def _print_Mul(self, expr):
        numerator, denominator = sp.fraction(expr, exact=True)
        if denominator == 1 or not expr.args:
            return super()._print_Mul(expr)
        if _coeff_isneg(numerator):  # "-a / b", so that a sum prints "x - a / b"
            return f"-({self._print(-numerator)}) / {self._denominator(denominator)}"
        return f"({self._print(numerator)}) / {self._denominator(denominator)}"

    def _denominator(self, expr) -> str:
        text = self._print(expr)
        atomic = expr.is_Atom or (isinstance(expr, sp.Pow) and expr.exp == sp.Rational(1, 2))
        return text if atomic else f"({text})"

    def _print_Rational(self, expr):
        if expr.q > 1 and 10 ** len(str(expr.q)[1:]) == expr.q:  # 1/100000: ε = 1e-05
            return repr(float(expr))
        return f"{expr.p} / {expr.q}"

    def _print_MatrixElement(self, expr):
        if expr.parent.name in self._settings["scalars"]:
            return python_name(expr.parent.name)
        return super()._print_MatrixElement(expr)

    def _print_ImmutableDenseMatrix(self, expr):
        if expr.shape == (1, 1) and expr[0, 0].has(MatrixElement):  # a formula of scalars
            return self._print(expr[0, 0])
        return super()._print_ImmutableDenseMatrix(expr)

    _print_MutableDenseMatrix = _print_ImmutableDenseMatrix

    # ---------------------------------------------------------------- arrays
    def _print_MatrixSymbol(self, expr):
        return python_name(expr.name)

    def _print_HadamardProduct(self, expr):
        return "(" + " * ".join(self._term(t, expr.args) for t in expr.args) + ")"

    def _print_Elementwise(self, expr):
        power = _power(expr)
        if power is not None:
            base, exponent = power
            if exponent == sp.Rational(-1, 2):
                return f"(1 / np.sqrt({self._print(base)}))"
            if exponent == sp.Rational(1, 2):
                return f"np.sqrt({self._print(base)})"
            return f"({self._factor(base)} ** {self._print(exponent)})"
        if expr.name == "square":
            return f"({self._factor(expr.arg)} ** 2)"
        return super()._print_Elementwise(expr)

    def _print_MatAdd(self, expr):
        plus, minus = [], []
        for term in expr.args:
            coeff, rest = term.as_coeff_mmul() if isinstance(term, sp.MatMul) else (sp.S.One, term)
            scalar = term.args[0] if isinstance(term, sp.MatMul) else None
            if coeff.is_negative:
                rest = rest.args[0] if isinstance(rest, sp.MatMul) and len(rest.args) == 1 else rest
                minus.append(rest if coeff == -1 else sp.MatMul(-coeff, rest))
            elif isinstance(scalar, sp.Mul) and scalar.could_extract_minus_sign():
                minus.append(sp.MatMul(-scalar, *term.args[1:]))  # −λ(wᵀw − 1): "- lam * …"
            else:
                plus.append(term)
        if not plus:
            return "(-" + " - ".join(self._term(t, expr.args) for t in minus) + ")"
        plus.sort(key=lambda t: not t.has(sp.MatrixSymbol))  # x + ε, not ε + x
        text = " + ".join(self._term(t, expr.args) for t in plus)
        return "(" + text + "".join(f" - {self._term(t, expr.args, True)}" for t in minus) + ")"

    def _term(self, term, siblings, subtracted: bool = False) -> str:
        """A term of a sum or an entrywise product; one that only broadcasts a smaller
        array (a row sum, a bias, 𝟏) is printed small when a sibling has the full shape."""
        if any(_small(t) is None for t in siblings if t is not term):
            small = _small(term)
            if small is not None:
                return self._print(small)
        text = self._print(term)
        if subtracted and isinstance(term, sp.MatMul) and not text.startswith("("):
            return f"({text})"
        return text

    def _print_MatMul(self, expr):
        coeff, factors = expr.as_coeff_matrices()
        factors = list(factors)
        mean = _mean(coeff, factors)
        if mean is not None:
            return mean if isinstance(mean, str) else self._print(mean)
        if all(isinstance(f, sp.Identity | sp.OneMatrix) for f in factors) and _small(expr):
            return self._print(coeff)
        product = " @ ".join(self._factor(f) for f in factors)
        if coeff == 1:
            return product if len(factors) == 1 else f"({product})"
        if coeff == -1:
            return f"(-{product})"
        numerator, denominator = sp.fraction(coeff, exact=True)
        text = product if numerator == 1 else f"{self._factor_scalar(numerator)} * {product}"
        if numerator == -1:
            text = f"-{product}"
        if denominator != 1:
            text += f" / {self._denominator(denominator)}"
        return f"({text})"

    def _factor_scalar(self, expr) -> str:
        text = self._print(expr)
        return text if expr.is_Atom or isinstance(expr, sp.Function) else f"({text})"

    def _print_SumsBroadcast(self, expr):
        arg, axis = expr.arg, expr.axis
        summed = self._sum(arg, axis)
        if (expr.shape[1] if axis == 1 else expr.shape[0]) == 1:
            return summed
        return f"np.broadcast_to({summed}, {self._shape(expr.shape)})"

    def _sum(self, arg, axis: int, how: str = "sum") -> str:
        if arg.shape[axis] == 1:
            return self._print(arg)
        if isinstance(arg, SumsBroadcast) and arg.axis != axis and _unbroadcast(arg) is arg:
            return f"np.{how}({self._print(arg.arg)}, keepdims=True)"  # 𝟏ᵀA𝟏: every entry
        text = self._print(arg)
        if isinstance(arg, sp.MatrixSymbol | sp.Transpose):
            return f"{text}.{how}(axis={axis}, keepdims=True)"
        return f"np.{how}({text}, axis={axis}, keepdims=True)"

    def _shape(self, shape) -> str:
        return "(" + ", ".join(self._print(sp.sympify(s)) for s in shape) + ")"

    def _print_Transpose(self, expr):
        if isinstance(expr.arg, sp.MatMul):  # (A/2).T reads as A.T / 2
            coeff, factors = expr.arg.as_coeff_matrices()
            if coeff != 1:
                return self._print(sp.MatMul(coeff, sp.Transpose(sp.MatMul(*factors))))
        return super()._print_Transpose(expr)

    def _print__MeanText(self, expr) -> str:  # a mean, marked by _mean below
        term = expr.arg
        mean = self._sum(term.arg, term.axis, "mean")
        if (term.shape[1] if term.axis == 1 else term.shape[0]) == 1:
            return mean
        return f"np.broadcast_to({mean}, {self._shape(term.shape)})"

    def _print_OneMatrix(self, expr):
        return f"np.ones({self._shape(expr.shape)})"

    def _print_Identity(self, expr):
        return f"np.eye({self._print(expr.shape[0])})"


def _power(expr: Elementwise):
    """(u, c) for exp(c · log u), entrywise: uᶜ written the complex-step-safe way."""
    if expr.name != "exp" or not isinstance(expr.arg, sp.MatMul):
        return None
    coeff, factors = expr.arg.as_coeff_matrices()
    if len(factors) == 1 and isinstance(factors[0], Elementwise) and factors[0].name == "log":
        return factors[0].arg, coeff
    return None


def _small(term):
    """The smaller array a term only broadcasts (a row sum, 1bᵀ, 𝟏, ε𝟏), else None."""
    if isinstance(term, SumsBroadcast):
        inner = _unbroadcast(term)
        return None if inner is term else inner
    if isinstance(term, sp.OneMatrix | sp.Identity) and term.shape == (1, 1):
        return sp.Integer(1)
    if isinstance(term, sp.OneMatrix):
        return sp.Integer(1)
    if isinstance(term, Elementwise):  # f applied to a broadcast: f of the small array
        inner = _small(term.arg)
        return None if inner is None or not inner.shape else Elementwise(term.name, inner)
    if isinstance(term, sp.MatMul):
        coeff, factors = term.as_coeff_matrices()
        if len(factors) == 1:
            inner = _small(factors[0])
            if inner is not None:
                return coeff * inner if coeff != 1 else inner
        if factors and isinstance(factors[0], sp.OneMatrix) and factors[0].shape[1] == 1:
            rest = sp.MatMul(*factors[1:]) if len(factors) > 2 else factors[1]
            return coeff * rest if coeff != 1 else rest  # 𝟏bᵀ: the row bᵀ, broadcast
    return None


def _unbroadcast(term: SumsBroadcast):
    """The sum without its broadcast (``term`` itself when there is none)."""
    summed_to = term.shape[1] if term.axis == 1 else term.shape[0]
    if summed_to == 1:
        return term
    shape = (term.shape[0], 1) if term.axis == 1 else (1, term.shape[1])
    return SumsBroadcast(term.arg, term.axis, *shape)


def _mean(coeff, factors):
    """(1/n)·(sum over an axis of length n): a mean, printed as one."""
    if len(factors) != 1 or not isinstance(factors[0], SumsBroadcast) or coeff == 1:
        return None
    term = factors[0]
    if sp.expand(coeff * term.arg.shape[term.axis]) != 1:
        return None
    return _MeanText(term)


class _MeanText(sp.MatrixExpr):
    """Marker: a SumsBroadcast printed with ``mean`` (only ever printed, never evaluated)."""

    arg = property(lambda self: self.args[0])
    shape = property(lambda self: self.args[0].shape)


def python_name(name: str) -> str:
    """A mathematical name as a Python identifier: ``lambda`` → ``lam``, ``G_B`` stays."""
    cleaned = "".join(c if c.isalnum() or c == "_" else "_" for c in name)
    if cleaned == "lambda":
        return "lam"
    if keyword.iskeyword(cleaned) or not cleaned.isidentifier():
        return cleaned + "_"
    return cleaned


# ---------------------------------------------------------------- building the text
def listing(
    name: str,
    args: Sequence[sp.MatrixSymbol],
    outputs: Sequence[tuple[str, Any]],
    names: Sequence[tuple[str, Any]] = (),
    constants: Mapping[sp.Symbol, Any] | None = None,
) -> Listing:
    """A function ``name(*args)`` computing ``outputs`` (name, expression), as readable
    source compiled from its text.

    Args:
        names: (name, expression) of intermediate arrays, in the order they are computed;
            each is assigned once, under its name, where the outputs contain it.
        constants: scalar symbols of the expressions and their values; each becomes a
            keyword argument with that default.
    """
    return _listing(
        name,
        tuple(args),
        tuple((n, e) for n, e in outputs),
        tuple((n, e) for n, e in names),
        tuple(sorted((constants or {}).items(), key=lambda kv: str(kv[0]))),
    )


@lru_cache(maxsize=256)
def _listing(name, args, outputs, names, constants) -> Listing:
    out_names = [n for n, _ in outputs]
    symbols = {n: sp.MatrixSymbol(n, *e.shape) for n, e in names}
    table: dict = {}
    for n, e in names:
        table[_key(e)] = (e, symbols[n])
        if not _symmetric(e):
            table.setdefault(_key(sp.Transpose(e).doit()), (sp.Transpose(e).doit(), symbols[n].T))
    definitions = [(n, _named(e, table, skip=_key(e))) for n, e in names]
    exprs = [_named(e, table) for _, e in outputs]
    prepared = prepare([e for _, e in definitions] + exprs)
    # The rewrites may rebuild a named array (tanh′(a) → 1 − tanh(a)², and tanh(a) is h):
    # name what they built, by the definitions as they now read.
    again = {_key(e): (e, symbols[n]) for n, e in zip(symbols, prepared, strict=False)}
    prepared = [_named(e, again, skip=_key(e)) for e in prepared]
    definitions = [(n, e) for (n, _), e in zip(definitions, prepared, strict=False)]
    exprs = prepared[len(definitions) :]
    if len(exprs) == 1 and exprs[0] in symbols.values():  # forward(z): return softmax(z)
        exprs = [dict(definitions)[exprs[0].name]]
    used = _used_names(definitions, exprs)
    definitions = [(n, e) for n, e in definitions if n in used]
    statements = _shared([*definitions, *zip(out_names, exprs, strict=True)])

    scalars = frozenset(a.name for a in args if a.shape == (1, 1))
    printer = ReadablePrinter(
        {"fully_qualified_modules": True, "inline": True, "helpers": frozenset(HELPERS)}
    )
    printer._settings["scalars"] = scalars
    body = [f"{python_name(n)} = {printer.doprint(e)}" for n, e in statements]
    if len(outputs) == 1 and statements and statements[-1][0] == out_names[0]:
        last = body.pop()
        body.append("return " + last.split(" = ", 1)[1])
    else:
        body.append("return " + ", ".join(python_name(n) for n in out_names))
    body = [NUMPY.sub("np.", line) for line in body]
    used = _names_in(body)
    sizes = _size_lines(args, used)
    defaults = [  # λ is written lam: look for the name the code uses
        f"{python_name(str(s))}={float(v)!r}" for s, v in constants if python_name(str(s)) in used
    ]
    signature = ", ".join([python_name(a.name) for a in args] + defaults)
    text = f"def {name}({signature}):\n" + "".join(f"    {line}\n" for line in sizes + body)
    numbers = {str(d) for a in args for d in a.shape if isinstance(d, sp.Symbol)}
    numbers |= {python_name(str(k)) for k, _ in constants} | scalars
    unparsed = _unparse(ast.parse(text), numbers)
    source = "\n".join(w for line in unparsed.splitlines() for w in wrap(line)) + "\n"
    return Listing(name, source, compile_source(source, name), tuple(out_names))


class _Unparser(ast._Unparser):  # type: ignore[name-defined]
    """Python's own unparser (the fewest parentheses that keep the meaning), except that
    a matrix product inside an entrywise one, or the reverse, keeps its parentheses:
    ``(W2.T @ delta2) * slope`` means the same without them, but does not read so."""

    def __init__(self, scalars: set[str]):
        super().__init__()
        self.scalars = scalars

    def visit_BinOp(self, node):
        for child in (node.left, node.right):
            if (
                isinstance(child, ast.BinOp)
                and _mixed(node.op, child.op)
                and not self.scaling(child)
                and not self.scaling(node)
            ):
                child = ast.Call(ast.Name(""), [child], [])  # printed as "(child)"
                if child.args[0] is node.left:
                    node = ast.BinOp(child, node.op, node.right)
                else:
                    node = ast.BinOp(node.left, node.op, child)
        super().visit_BinOp(node)

    def visit_Return(self, node):
        if isinstance(node.value, ast.Tuple) and node.value.elts:  # return dQ, dK, dV
            self.fill("return ")
            self.interleave(lambda: self.write(", "), self.traverse, node.value.elts)
            return
        super().visit_Return(node)

    def scaling(self, node) -> bool:
        """A product by a number (2 * X.T): no entrywise product to set apart."""
        return isinstance(node.op, ast.Mult) and (self.scalar(node.left) or self.scalar(node.right))

    def scalar(self, node) -> bool:
        if isinstance(node, ast.Constant):
            return True
        if isinstance(node, ast.Name):
            return node.id in self.scalars
        if isinstance(node, ast.UnaryOp):
            return self.scalar(node.operand)
        if isinstance(node, ast.BinOp):
            return self.scalar(node.left) and self.scalar(node.right)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            return node.func.attr in ("sqrt", "log", "exp") and all(map(self.scalar, node.args))
        return False


def _mixed(op, inner) -> bool:
    kinds = {ast.MatMult: "@", ast.Mult: "*"}
    a, b = kinds.get(type(op)), kinds.get(type(inner))
    return a is not None and b is not None and a != b


def _unparse(tree, scalars: set[str]) -> str:
    return _Unparser(scalars).visit(tree)


WIDTH = 79  # a listing's lines, as in the project's own code


def wrap(line: str, width: int = WIDTH) -> list[str]:
    """``line`` broken inside its first bracket, one argument or one term a line, the
    way a formatter would; lines that fit are kept whole.

    Example:
        >>> for part in wrap("    y = f(aaaa + bbbb - cccc + dddd)", width=20):
        ...     print(part)
            y = f(
                aaaa
                + bbbb
                - cccc
                + dddd
            )
    """
    if len(line) <= width:
        return [line]
    indent = line[: len(line) - len(line.lstrip())]
    opened = _first_bracket(line, len(indent))
    if opened is None:
        return [line]
    start, end = opened
    inner = line[start + 1 : end]
    parts = _split(inner, ", ")
    joiners = [", "] * (len(parts) - 1)
    if len(parts) < 2:
        parts, joiners = _split_terms(inner)
    if len(parts) < 2:
        return [line]
    inside = indent + "    "
    out = [line[: start + 1]]
    for i, part in enumerate(parts):
        lead = "" if i == 0 or joiners[i - 1] == ", " else joiners[i - 1].strip() + " "
        tail = "," if i < len(parts) - 1 and joiners[i] == ", " else ""
        out += wrap(f"{inside}{lead}{part}{tail}", width)
    out.append(indent + line[end:])
    return out


def _first_bracket(line: str, start: int) -> tuple[int, int] | None:
    """The first outermost ( … ) of ``line`` that holds something worth breaking."""
    depth, opened = 0, None
    for i in range(start, len(line)):
        c = line[i]
        if c in "([":
            if depth == 0 and c == "(":
                opened = i
            depth += 1
        elif c in ")]":
            depth -= 1
            if depth == 0 and opened is not None:
                if i - opened > 20:
                    return opened, i
                opened = None
    return None


def _split(text: str, separator: str) -> list[str]:
    parts, depth, last = [], 0, 0
    i = 0
    while i < len(text):
        c = text[i]
        depth += (c in "([") - (c in ")]")
        if depth == 0 and text.startswith(separator, i):
            parts.append(text[last:i])
            last = i + len(separator)
            i = last
            continue
        i += 1
    return [*parts, text[last:]]


def _split_terms(text: str) -> tuple[list[str], list[str]]:
    """The terms of a sum at the top level of ``text``, and the signs between them."""
    parts, joiners, depth, last = [], [], 0, 0
    for i, c in enumerate(text):
        depth += (c in "([") - (c in ")]")
        if depth == 0 and text[i : i + 3] in (" + ", " - "):
            parts.append(text[last:i])
            joiners.append(text[i : i + 3])
            last = i + 3
    return [*parts, text[last:]], joiners


def _names_in(lines: list[str]) -> set[str]:
    return {
        node.id
        for line in lines
        for node in ast.walk(ast.parse(line))
        if isinstance(node, ast.Name)
    }


def _symmetric(e) -> bool:
    return _key(sp.Transpose(e).doit()) == _key(e)


def _named(expr, table: dict, skip=None):
    """``expr`` with every subtree that is a named array (or its transpose) replaced by
    the name; ``skip``: the key of the name being defined, which it must not replace."""

    products = [
        (e.as_coeff_matrices(), name)
        for key, (e, name) in table.items()
        if key != skip and isinstance(e, sp.MatMul)
    ]
    entrywise = sorted(
        (
            ([_key(a) for a in e.args], name)
            for key, (e, name) in table.items()
            if key != skip and isinstance(e, sp.HadamardProduct)
        ),
        key=lambda pair: -len(pair[0]),
    )

    def walk(node):
        if isinstance(node, sp.MatrixExpr) and not isinstance(node, sp.MatrixSymbol):
            key = _key(node)
            if key != skip and key in table:
                return table[key][1]
            if isinstance(node, sp.MatMul):
                node = _within_product(node, products)
            if isinstance(node, sp.HadamardProduct):
                node = _within_entrywise(node, entrywise)
        if not node.args or isinstance(node, sp.MatrixSymbol):
            return node
        new = [walk(a) for a in node.args]
        if all(a is b for a, b in zip(new, node.args, strict=True)):
            return node
        return node.func(*new)

    return walk(expr)


def _within_entrywise(node: sp.HadamardProduct, entrywise):
    """Named entrywise products among the factors of a longer one (SymPy flattens
    (γ ∘ G) ∘ (x_c ∘ s) into one product of four): each replaced by its name."""
    args = list(node.args)
    for wanted, name in entrywise:
        keys = [_key(a) for a in args]
        if len(wanted) >= len(args):
            continue
        positions: list[int] = []
        for key in wanted:
            found = next((i for i, k in enumerate(keys) if k == key and i not in positions), None)
            if found is None:
                break
            positions.append(found)
        else:
            args = [a for i, a in enumerate(args) if i not in positions] + [name]
    return (
        node
        if len(args) == len(node.args) and args == list(node.args)
        else (sp.HadamardProduct(*args) if len(args) > 1 else args[0])
    )


def _within_product(node: sp.MatMul, products):
    """A named product found inside a longer one: SymPy flattens (cA)B into c·A·B, so
    δ₂ = (S − Y)/B in δ₂ᵀH is not a subtree of the product but a run of its factors."""
    coeff, factors = node.as_coeff_matrices()
    keys = [_key(f) for f in factors]
    for (c, named), name in products:
        width = len(named)
        if width >= len(factors):
            continue
        wanted = [_key(f) for f in named]
        for i in range(len(factors) - width + 1):
            if keys[i : i + width] == wanted:
                rest = [*factors[:i], name, *factors[i + width :]]
                return sp.MatMul(coeff / c, *rest)
    return node


def _used_names(definitions, exprs) -> set[str]:
    """The names the outputs need, directly or through another name."""
    by_name = dict(definitions)
    needed: set[str] = set()
    todo = [s for e in exprs for s in e.atoms(sp.MatrixSymbol)]
    while todo:
        symbol = todo.pop()
        if symbol.name in by_name and symbol.name not in needed:
            needed.add(symbol.name)
            todo.extend(by_name[symbol.name].atoms(sp.MatrixSymbol))
    return needed


def _shared(statements):
    """Subexpressions computed more than once, pulled out as ``t1``, ``t2``… before the
    statement that first needs them (SymPy's common-subexpression elimination)."""
    exprs = [e for _, e in statements]
    taken = {n for n, _ in statements}
    fresh = (sp.Symbol(f"t{i}") for i in itertools.count(1) if f"t{i}" not in taken)
    replacements, reduced = sp.cse(exprs, symbols=fresh, order="none")
    # A transposed name is a view, not a computation, and a number of sizes (1/√d) reads
    # better where it is used: put them back.
    trivial = {t: v for t, v in replacements if _cheap(v)}
    for _ in range(len(trivial)):  # one may stand inside another (t2 = −t1)
        trivial = {t: v.xreplace(trivial) for t, v in trivial.items()}
    replacements = [(t, v.xreplace(trivial)) for t, v in replacements if t not in trivial]
    reduced = [e.xreplace(trivial) for e in reduced]
    temps = dict(replacements)
    out, emitted = [], set()

    def emit_temps(expr):
        for atom in sorted(expr.free_symbols, key=str):
            if atom in temps and atom not in emitted:
                emit_temps(temps[atom])
                emitted.add(atom)
                out.append((str(atom), temps[atom]))

    for (name, _), expr in zip(statements, reduced, strict=True):
        emit_temps(expr)
        out.append((name, expr))
    return _renumber(out)


def _renumber(statements):
    """t1, t2… in the order they are computed."""
    temps = [n for n, _ in statements if n.startswith("t") and n[1:].isdigit()]
    mapping = {sp.Symbol(old): sp.Symbol(f"t{i}") for i, old in enumerate(temps, 1)}
    if not mapping:
        return statements
    rename = {str(k): str(v) for k, v in mapping.items()}
    return [(rename.get(n, n), _rename_symbols(e, mapping)) for n, e in statements]


def _rename_symbols(expr, mapping):
    matrices = {}
    for atom in expr.atoms(sp.MatrixSymbol):
        if sp.Symbol(atom.name) in mapping:
            matrices[atom] = sp.MatrixSymbol(str(mapping[sp.Symbol(atom.name)]), *atom.shape)
    return expr.xreplace({**mapping, **matrices})


def _cheap(value) -> bool:
    """Not worth a name of its own: a transposed name (a view), a number of sizes (1/√d),
    a name times a number (A/2), an array that is only broadcast (𝟏 inv_std), a number
    plus a name (1 − p)."""
    if isinstance(value, sp.MatMul):
        coeff, factors = value.as_coeff_matrices()
        if len(factors) == 1 and _simple(factors[0]) and coeff.is_number:
            return True
    if isinstance(value, sp.Add) and len(value.args) == 2:  # 1 − p reads better than t1
        number, rest = sorted(value.args, key=lambda a: not a.is_number)
        if number.is_number and any(
            isinstance(r, MatrixElement | sp.Symbol) for r in (rest, -rest)
        ):
            return True
    return _simple(value) or _of_sizes(value) or _small(value) is not None


def _of_sizes(value) -> bool:
    """A scalar made of sizes and numbers only (1/B, 1/√d, 1/log 2)."""
    return (
        isinstance(value, sp.Expr)
        and not isinstance(value, sp.MatrixExpr)
        and not value.has(MatrixElement, sp.MatrixSymbol)
    )


def _simple(value) -> bool:
    if isinstance(value, sp.Transpose):
        value = value.arg
    return isinstance(value, sp.MatrixSymbol | sp.Symbol)


def _size_lines(args, used: set[str]) -> list[str]:
    """``T, d = Q.shape`` for the sizes the body uses, read off the first input with them."""
    lines, bound = [], set()
    for arg in args:
        dims = [d if isinstance(d, sp.Symbol) else None for d in arg.shape]
        wanted = [d for d in dims if d is not None and d.name in used and d.name not in bound]
        if not wanted:
            continue
        rows, cols = dims
        both = all(d is not None and d.name in used and d.name not in bound for d in dims)
        if both and rows is not None and cols is not None and rows != cols:
            lines.append(f"{rows.name}, {cols.name} = {python_name(arg.name)}.shape")
        else:
            for axis, dim in enumerate(dims):
                if dim is not None and dim in wanted and dim.name not in bound:
                    lines.append(f"{dim.name} = {python_name(arg.name)}.shape[{axis}]")
                    bound.add(dim.name)
        bound.update(d.name for d in wanted)
    return lines


def compile_source(source: str, name: str) -> Callable:
    """The function ``name`` defined by ``source``, with the stable helpers and ``np``
    in scope; the text is registered so that ``inspect.getsource`` returns it."""
    filename = f"<workbench-listing-{abs(hash(source))}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    namespace: dict = {**HELPERS, "np": np, "numpy": np}
    exec(compile(source, filename, "exec"), namespace)
    return namespace[name]


# ---------------------------------------------------------------- a case's two functions
def case_listings(case: Case) -> tuple[Listing, Listing]:
    """The forward function and all the case's gradients (one function, sharing the
    forward pass): what finite differences and the complex step check.

    A network written as named stages (``case.stages``) gets every stage as an array
    under its own name, computed once, in the order the stages depend on each other."""
    given = {k: v for k, v in case.substitutions.items() if k not in case.samplers}
    constants = {k: v for k, v in given.items() if _number(v)}
    fixed = {k: v for k, v in given.items() if k not in constants}

    def ready(expr):
        return substitute(expr, fixed)

    if case.stages is None:
        value, exprs = ready(case.forward), [ready(g) for g in case.gradients]
        names = [(n, ready(e)) for n, e in case.names]
    else:
        stages = case.stages
        definitions = {k: ready(v) for k, v in stages.definitions.items()}
        value, exprs = ready(stages.forward), [ready(g) for g in stages.gradients]
        order = stage_order(definitions, [value, *exprs])
        names = [(s.name, definitions[s]) for s in order]
    args = list(case.samplers)
    scalar = tuple(case.forward.shape) == (1, 1)
    prefix = "d" if scalar else "J_"
    outputs = [(prefix + python_name(w.name), g) for w, g in zip(case.wrt, exprs, strict=True)]
    if not scalar and len(outputs) == 1:
        outputs = [("J", outputs[0][1])]
    kind = ("gradient" if scalar else "jacobian") + ("s" if len(outputs) > 1 else "")
    forward = listing("forward", args, [("value", value)], names, constants)
    return forward, listing(kind, args, outputs, names, constants)


def _number(value) -> bool:
    """A substituted value that is a number (ε = 10⁻⁵, λ = 1/2): a keyword argument."""
    return isinstance(value, sp.Expr) and not isinstance(value, sp.MatrixExpr) and value.is_number


def route_source(route: Callable) -> str:
    """The source of an independent computation a check ran (``Derivation.numeric_checks``),
    as a listing: the function itself as written (a ``functools.partial`` shows its
    function), its docstring left out.

    Example:
        >>> def route(seed):
        ...     '''Doubles.'''
        ...     return 2 * seed  # twice
        >>> print(route_source(route), end="")
        def route(seed):
            return 2 * seed  # twice
    """
    import functools
    import inspect
    import textwrap

    function = route.func if isinstance(route, functools.partial) else route
    lines = textwrap.dedent(inspect.getsource(function)).splitlines()
    tree = ast.parse("\n".join(lines)).body[0]
    if isinstance(tree, ast.FunctionDef) and ast.get_docstring(tree) is not None:
        first = tree.body[0]
        assert first.end_lineno is not None
        del lines[first.lineno - 1 : first.end_lineno]
    return "\n".join(lines) + "\n"


def bound_arguments(route: Callable) -> list[tuple[str, Any]]:
    """(parameter name, value) of what a ``functools.partial`` route was given, in order:
    the closed form a route compares with (``kl``), which its source alone does not show."""
    import functools
    import inspect

    if not isinstance(route, functools.partial):
        return []
    names = list(inspect.signature(route.func).parameters)
    return [*zip(names, route.args, strict=False), *route.keywords.items()]
