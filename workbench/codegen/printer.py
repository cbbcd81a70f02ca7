"""How matrix expressions are printed as NumPy: the printer, and rewrites made first.

:class:`StableNumPyPrinter` prints the workbench's matrix functions as calls to the
stable helpers of :mod:`workbench.codegen.numeric` and matrix products with ``@``, a scalar factor
in front (SymPy's own printer writes ``(A).dot(B).dot(-1)``).

:func:`prepare` rewrites the expressions of one function before they are printed
together (SymPy's common-subexpression elimination then shares what it can see):

* a product with a matrix of ones at either end becomes a sum and a broadcast view
  (attention's row sums (dP ∘ P)11ᵀ cost T³ as a product, T² as a sum; a bias
  broadcast 1bᵀ over a batch becomes a view, not a matrix);
* a subexpression that appears elsewhere transposed becomes the transpose of the
  first: SymPy pushes a transpose inside (dSᵀ = Pᵀ ∘ (VGᵀ − …)), where elimination
  cannot see that it is dS, and attention's ∂L/∂K would recompute ∂L/∂S;
* tanh′(a) is written 1 − tanh(a)² and σ′(a) as σ(a)(1 − σ(a)), so the forward pass's
  tanh(a) or σ(a) is reused, not recomputed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import sympy as sp
from sympy.core.symbol import Str
from sympy.printing.numpy import NumPyPrinter

from workbench.core.functions import Elementwise, LogSoftmax, Softmax


class StableNumPyPrinter(NumPyPrinter):
    """NumPy printer that prints the workbench's matrix functions as stable helper calls.

    Setting ``helpers``: the names of the elementwise helpers the generated code is given
    (:data:`workbench.codegen.numeric.HELPERS`); any other elementwise function prints as
    ``numpy.<name>``.
    """

    _default_settings: ClassVar[dict[str, Any]] = {
        **NumPyPrinter._default_settings,
        "helpers": frozenset(),
    }

    def _print_Softmax(self, expr):
        return f"softmax({self._print(expr.arg)}, axis={self._axis(expr.axis)})"

    def _print_LogSoftmax(self, expr):
        return f"log_softmax({self._print(expr.arg)}, axis={self._axis(expr.axis)})"

    def _print_MaskedSoftmax(self, expr):
        return f"masked_softmax({self._print(expr.args[0])}, {self._print(expr.args[1])})"

    def _print_Elementwise(self, expr):
        name = expr.name
        if name == "log" and isinstance(expr.arg, Softmax):  # log(softmax) would hit log(0)
            return self._print(LogSoftmax(expr.arg.arg, expr.arg.axis))
        if name in self._settings["helpers"]:
            return f"{name}({self._print(expr.arg)})"
        return f"numpy.{name}({self._print(expr.arg)})"

    def _print_HadamardPower(self, expr):
        # HadamardProduct(A, A) is built as HadamardPower(A, 2): entry by entry, A**2.
        return f"({self._print(expr.base)})**({self._print(expr.exp)})"

    def _print_DiagMatrix(self, expr):
        # Dense, as it should be: a closed form that *is* diag(s) − ssᵀ is a full matrix.
        return f"numpy.diagflat({self._print(expr.args[0])})"

    def _print_MatAdd(self, expr):
        # a − b rather than (-b) + a: one array less, and it reads as the formula.
        plus, minus = [], []
        for term in expr.args:
            if isinstance(term, sp.MatMul):
                coeff, rest = term.as_coeff_mmul()
                if coeff.is_negative:
                    if isinstance(rest, sp.MatMul) and len(rest.args) == 1:
                        rest = rest.args[0]
                    minus.append(rest if coeff == -1 else sp.MatMul(-coeff, rest))
                    continue
            plus.append(term)
        if not plus:
            return "(" + " + ".join(self._print(t) for t in expr.args) + ")"
        text = " + ".join(self._print(t) for t in plus)
        return "(" + text + "".join(f" - {self._factor(t)}" for t in minus) + ")"

    def _print_MatMul(self, expr):
        coeff, factors = expr.as_coeff_matrices()
        product = " @ ".join(self._factor(f) for f in factors)
        if coeff == 1:
            return product if len(factors) == 1 else f"({product})"
        if coeff == -1:
            return f"(-{product})"
        return f"(({self._print(coeff)})*{product})"

    def _factor(self, factor) -> str:
        # Sums and products print in their own parentheses; the rest print as names,
        # attributes or calls. Anything else gets parentheses, to be safe.
        text = self._print(factor)
        return text if isinstance(factor, _SELF_CONTAINED) else f"({text})"

    def _print_SumsBroadcast(self, expr):
        arg, axis = expr.arg, expr.axis
        rows, cols = (int(d) for d in expr.shape)
        text = self._print(arg)
        summed = (
            text
            if arg.shape[axis] == 1
            else f"numpy.sum({text}, axis={self._axis(axis)}, keepdims=True)"
        )
        if (cols if axis == 1 else rows) == 1:
            return summed
        return self._broadcast(summed, rows, cols)

    def _axis(self, axis) -> int:
        """How an axis of a matrix is written (a batched printer counts from the end)."""
        return int(axis)

    def _broadcast(self, text: str, rows: int, cols: int) -> str:
        return f"numpy.broadcast_to({text}, ({rows}, {cols}))"

    def _print_Slope(self, expr):
        value = self._print(expr.arg)
        if expr.name == "tanh":
            return f"(1.0 - ({value})**2)"
        return f"(({value})*(1.0 - ({value})))"


class SumsBroadcast(sp.MatrixExpr):
    """A product with a matrix of ones, printed as a sum and a broadcast view.

    ``A @ 1`` (ones on the right) repeats A's row sums in every column; ``1 @ A`` repeats
    its column sums in every row. ``axis`` is the axis summed: 1 for ``A @ 1``, 0 for
    ``1 @ A``; ``args[2:]`` is the shape.
    """

    arg = property(lambda self: self.args[0])
    axis = property(lambda self: int(self.args[1]))
    shape = property(lambda self: (self.args[2], self.args[3]))

    def _entry(self, i, j, **kwargs):
        k = sp.Dummy("k", integer=True)
        if self.axis == 1:
            return sp.Sum(self.arg[i, k], (k, 0, self.arg.shape[1] - 1))
        return sp.Sum(self.arg[k, j], (k, 0, self.arg.shape[0] - 1))


class Slope(sp.MatrixExpr):
    """tanh′ or σ′ written in terms of the activation's value ``arg`` = tanh(a) or σ(a)."""

    name = property(lambda self: self.args[0].name)
    arg = property(lambda self: self.args[1])
    shape = property(lambda self: self.args[1].shape)

    def _entry(self, i, j, **kwargs):
        value = self.arg[i, j]
        return 1 - value**2 if self.name == "tanh" else value * (1 - value)


_SELF_CONTAINED = (
    sp.MatrixSymbol,
    sp.Transpose,
    sp.MatAdd,
    sp.MatMul,
    sp.HadamardProduct,
    sp.OneMatrix,
    sp.Identity,
    sp.ZeroMatrix,
    Softmax,
    LogSoftmax,
    Elementwise,
    SumsBroadcast,
    Slope,
)


def prepare(exprs: Sequence) -> list:
    """The rewrites of the module docstring, applied to expressions printed together."""
    exprs = [e for e in exprs]
    matrices = [e for e in exprs if isinstance(e, sp.MatrixExpr)]
    if not matrices:
        return exprs
    shared = _shared_transposes(matrices)
    out = []
    for e in exprs:
        if isinstance(e, sp.MatrixExpr):
            e = _slopes(_fold_ones(_untwist(e.xreplace(shared)) if shared else e))
        out.append(e)
    return out


def _fold_ones(expr):
    """Products with a matrix of ones on either end, as :class:`SumsBroadcast`."""

    def fold(product: sp.MatMul):
        coeff, factors = product.as_coeff_matrices()
        factors = list(factors)
        left = right = None
        if len(factors) > 1 and isinstance(factors[0], sp.OneMatrix):
            left = factors.pop(0)
        if len(factors) > 1 and isinstance(factors[-1], sp.OneMatrix):
            right = factors.pop()
        if left is None and right is None:
            return product
        core = sp.MatMul(*factors) if len(factors) > 1 else factors[0]
        if right is not None:
            core = SumsBroadcast(core, 1, core.shape[0], right.shape[1])
        if left is not None:
            core = SumsBroadcast(core, 0, left.shape[0], core.shape[1])
        return core if coeff == 1 else coeff * core

    if not expr.has(sp.OneMatrix):
        return expr
    return expr.replace(lambda e: isinstance(e, sp.MatMul), fold)


def _slopes(expr):
    """tanh′(a) → 1 − tanh(a)², σ′(a) → σ(a)(1 − σ(a)), sharing the forward's value."""

    def slope(e: Elementwise):
        activation = e.name.removesuffix("_prime")
        # A Str, not a Symbol: lambdify would bind a Symbol's name in the generated code.
        return Slope(Str(activation), Elementwise(activation, e.arg))

    return expr.replace(
        lambda e: isinstance(e, Elementwise) and e.name in ("tanh_prime", "sigmoid_prime"),
        slope,
    )


def _shared_transposes(exprs) -> dict:
    """{Y: Xᵀ} for every compound subexpression Y that equals a transposed earlier X."""
    seen: dict = {}
    for expr in exprs:
        for node in sp.preorder_traversal(expr):
            if isinstance(node, sp.MatrixExpr) and not _simple(node):
                seen.setdefault(node, None)
    nodes = list(seen)
    by_key: dict = {}
    for node in nodes:
        by_key.setdefault(_key(node), node)
    rewrite: dict = {}
    for node in nodes:
        if node in rewrite:
            continue
        transposed = by_key.get(_key(sp.Transpose(node).doit()))
        if transposed is not None and transposed != node and transposed not in rewrite:
            rewrite[transposed] = node.arg if isinstance(node, sp.Transpose) else sp.Transpose(node)
    return rewrite


def _untwist(expr):
    """(Xᵀ)ᵀ → X, where sharing a transpose put one inside another."""
    return expr.replace(
        lambda e: isinstance(e, sp.Transpose) and isinstance(e.arg, sp.Transpose),
        lambda e: e.arg.arg,
    )


def _simple(node) -> bool:
    """A name, a transposed name or a constant matrix: nothing to share."""
    if isinstance(node, sp.Transpose):
        node = node.arg
    return isinstance(node, (sp.MatrixSymbol, sp.OneMatrix, sp.ZeroMatrix, sp.Identity))


def _key(node):
    """A structural key in which the order of a sum's or an entrywise product's terms
    does not matter (SymPy does not sort a HadamardProduct's arguments)."""
    if not node.args:
        return sp.srepr(node)
    keys = [_key(a) for a in node.args]
    if isinstance(node, (sp.MatAdd, sp.HadamardProduct)):
        keys.sort(key=repr)
    return (type(node).__name__, tuple(keys))
