"""Matrix-level functions SymPy lacks: softmax, log-softmax and elementwise activations.

Each is a ``MatrixExpr`` so that one definition serves three purposes:

* ``expr[i, j]`` gives the index-notation entry (``_entry``), used by the general-n
  derivations;
* ``expr.as_explicit()`` at concrete sizes gives the scalar expressions that SymPy's
  own ``diff`` checks against;
* the NumPy printer in :mod:`workbench.codegen.numeric` prints each as one vectorised call
  to a numerically stable helper.

Example:
    >>> import sympy as sp
    >>> z = sp.MatrixSymbol("z", 3, 1)
    >>> Softmax(z).shape
    (3, 1)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sympy as sp
from sympy.core.symbol import Str
from sympy.matrices.expressions.matexpr import MatrixExpr

phi = sp.Function("phi")
"""An unspecified activation: general derivations use it, cases substitute tanh, σ, ReLU."""


def derivative_of(f):
    """f′ as a function of one argument, e.g. ``derivative_of(phi)(u)`` = φ′(u)."""

    def prime(u):
        t = sp.Dummy("t")
        outer = sp.diff(f(t), t)
        if outer.has(sp.Derivative):
            # Keep φ′(u) as Subs(dφ/dt, t, u): with u a matrix element, .subs would fold it
            # into Derivative(φ(u), u), which breaks once u is unfolded into an expression.
            return sp.Subs(outer, t, u)
        return outer.subs(t, u)

    return prime


def _sigmoid(x):
    return 1 / (1 + sp.exp(-x))


def _gelu(x):
    """GELU in its tanh form, as GPT-2 uses it: x/2·(1 + tanh(√(2/π)(x + 0.044715x³)))."""
    return x / 2 * (1 + sp.tanh(sp.sqrt(2 / sp.pi) * (x + sp.Rational(44715, 10**6) * x**3)))


def _gelu_prime(x):
    """GELU's slope, differentiated by SymPy (not typed)."""
    t = sp.Dummy("t")
    return sp.diff(_gelu(t), t).xreplace({t: x})


# The scalar meaning of each elementwise name. ReLU's derivative is the Heaviside
# step with H(0) = 0, the convention every framework uses at the kink.
ELEMENTWISE: dict[str, Callable[[Any], Any]] = {
    "phi": phi,
    "phi_prime": derivative_of(phi),
    "tanh_prime": lambda x: 1 - sp.tanh(x) ** 2,
    "sigmoid_prime": lambda x: _sigmoid(x) * (1 - _sigmoid(x)),
    "relu_prime": lambda x: sp.Heaviside(x, 0),
    "exp": sp.exp,
    "log": sp.log,
    "tanh": sp.tanh,
    "sigmoid": _sigmoid,
    # x·H(x) rather than Max(0, x) or a Piecewise: the same function, but SymPy builds
    # and differentiates it cheaply (Max queries assumptions on every construction;
    # Piecewise terms inside sums are expanded poorly). Its derivative H(x) + x·δ(x)
    # is H(x) away from the kink.
    "relu": lambda x: x * sp.Heaviside(x, 0),
    "step": lambda x: sp.Heaviside(x, 0),
    "square": lambda x: x**2,
    "gelu": _gelu,
    "gelu_prime": _gelu_prime,
}


def _sum_index(name: str) -> sp.Dummy:
    return sp.Dummy(name, integer=True)


class _AlongAxis(MatrixExpr):
    """A function of each column (``axis=0``) or each row (``axis=1``) of its argument."""

    def __new__(cls, arg, axis=0):
        return MatrixExpr.__new__(cls, arg, sp.Integer(axis))

    arg = property(lambda self: self.args[0])
    axis = property(lambda self: int(self.args[1]))
    shape = property(lambda self: self.args[0].shape)

    def _exp_sum(self, i, j) -> sp.Sum:
        """Σₖ exp over the column (axis 0) or the row (axis 1) that holds entry (i, j)."""
        x = self.arg
        k = _sum_index("k")
        if self.axis == 0:
            return sp.Sum(sp.exp(x[k, j]), (k, 0, x.shape[0] - 1))
        return sp.Sum(sp.exp(x[i, k]), (k, 0, x.shape[1] - 1))


class Softmax(_AlongAxis):
    """softmax along ``axis`` (0: each column sums to one; 1: each row does)."""

    def _entry(self, i, j, **kwargs):
        return sp.exp(self.arg[i, j]) / self._exp_sum(i, j)


class MaskedSoftmax(MatrixExpr):
    """Row softmax over the entries where a 0/1 ``mask`` is one (causal attention)."""

    arg = property(lambda self: self.args[0])
    mask = property(lambda self: self.args[1])
    shape = property(lambda self: self.args[0].shape)

    def _entry(self, i, j, **kwargs):
        x, m = self.args
        k = _sum_index("k")
        return (m[i, j] * sp.exp(x[i, j])) / sp.Sum(
            m[i, k] * sp.exp(x[i, k]), (k, 0, x.shape[1] - 1)
        )


class LogSoftmax(_AlongAxis):
    """log(softmax(x)) along ``axis``, kept whole so generated code never takes log(0)."""

    def _entry(self, i, j, **kwargs):
        return self.arg[i, j] - sp.log(self._exp_sum(i, j))


class Elementwise(MatrixExpr):
    """A scalar function from :data:`ELEMENTWISE` applied to every entry."""

    def __new__(cls, name: str | sp.Symbol, arg):
        name = str(name)  # SymPy rebuilds expressions from args, passing the Str back
        if name not in ELEMENTWISE:
            raise ValueError(f"unknown elementwise function {name!r}")
        # A Str, not a Symbol: lambdify binds every free Symbol's name in the generated
        # code's namespace, which would shadow the NumPy helper of the same name.
        return MatrixExpr.__new__(cls, Str(name), arg)

    name = property(lambda self: self.args[0].name)
    arg = property(lambda self: self.args[1])
    shape = property(lambda self: self.args[1].shape)

    def _entry(self, i, j, **kwargs):
        return ELEMENTWISE[self.name](self.arg[i, j])


def scalar_function(name: str):
    """The scalar SymPy function behind an elementwise name, e.g. ``"tanh"``."""
    return ELEMENTWISE[name]
