"""SymPy matrix expressions printed in the claim language that ``workbench verify`` reads.

``@`` is the matrix product, ``*`` the entrywise product, ``.T`` the transpose,
``inv(X)`` the inverse (``**`` is entrywise), ``eye(n)`` and ``ones(m, n)``, and the
engine's functions by name (``diag``, ``softmax``, ``tanh_prime``, ...). Index notation
too: an entry is ``w[k]`` or ``S[k, l]`` (from 0), a sum over an index
``sum(w[k]**2 for k in 0..n-1)`` (both limits included), a sequence over time steps
``g(k)``, and the m-th derivative of an unspecified f (a symbol named ``f'''`` or
``f^{(5)}``) the name with m primes. Both the terminal text of ``workbench show`` and
the verifier's "expected" line use it, so what either prints can be pasted back as a
claim.

Example:
    >>> import sympy as sp
    >>> P, G = sp.MatrixSymbol("P", 3, 3), sp.MatrixSymbol("G", 3, 2)
    >>> to_claim(P.T * G)
    'P.T @ G'
    >>> n, k = sp.Symbol("n", integer=True, positive=True), sp.Symbol("k", integer=True)
    >>> w = sp.MatrixSymbol("w", n, 1)
    >>> to_claim(sp.Sum(w[k, 0] ** 2, (k, 0, n - 1)))
    'sum(w[k]**2 for k in 0..n-1)'
"""

from __future__ import annotations

import re

import sympy as sp
from sympy.printing.str import StrPrinter

# The name of the m-th derivative of an unspecified function, as a derivation writes it.
_DERIVATIVE_NAME = re.compile(r"(?P<base>[A-Za-z]\w*)\^\{\((?P<order>[0-9]{1,2})\)\}")


def claim_name(name: str) -> str:
    """A symbol's name as the claim language writes it: ``f^{(5)}`` (the fifth derivative
    of f) is f with five primes; every other name is itself.

    Example:
        >>> claim_name("f^{(4)}") == "f" + "'" * 4, claim_name("sigma1")
        (True, 'sigma1')
    """
    found = _DERIVATIVE_NAME.fullmatch(name)
    return found["base"] + "'" * int(found["order"]) if found else name


class ClaimPrinter(StrPrinter):
    """SymPy's one-line printer, with matrix expressions in the claim language."""

    def _print_Symbol(self, expr):
        return claim_name(super()._print_Symbol(expr))

    index_separator = ", "  # between the two indices of S[k, l]

    def _print_MatrixElement(self, expr):
        name = self._print(expr.parent)
        if not isinstance(expr.parent, sp.MatrixSymbol):
            name = f"({name})"  # (X @ w - y)[j], not X @ w - y[j]
        if expr.parent.shape[1] == 1:
            return f"{name}[{self._print(expr.i)}]"
        return f"{name}[{self._print(expr.i)}{self.index_separator}{self._print(expr.j)}]"

    def _print_Sum(self, expr):
        """sum(body for k in lo..hi), both limits included; nested, innermost first."""
        out = self._print(expr.function)
        for var, lo, hi in expr.limits:
            limits = f"{self._print(lo)}..{self._print(hi)}".replace(" ", "")
            out = f"sum({out} for {self._print(var)} in {limits})"
        return out

    def _print_Transpose(self, expr):
        return f"{self.parenthesize(expr.arg, 1000, strict=True)}.T"

    def _print_MatMul(self, expr):
        coeff, factors = expr.as_coeff_matrices()
        body = " @ ".join(self._factor(f) for f in factors)
        if coeff == 1:
            return body
        if coeff == -1:
            return f"-{body}"
        # A sum as coefficient needs its parentheses: (a + b)*X @ Y, not a + b*X @ Y.
        text = self._print(coeff)
        return f"({text})*{body}" if isinstance(coeff, sp.Add) else f"{text}*{body}"

    def _factor(self, factor) -> str:
        """A factor of a matrix product; one printed as a call (inv(X)) needs no parentheses."""
        if isinstance(factor, sp.Inverse | sp.Identity | sp.OneMatrix):
            return self._print(factor)
        return self.parenthesize(factor, 60)

    def _print_MatPow(self, expr):
        # ** is entrywise in the claim language: X² is X @ X, X⁻¹ is inv(X).
        base, exponent = expr.args
        if exponent.is_Integer and exponent != 0:
            power = " @ ".join([self._factor(base)] * int(abs(exponent)))
            return power if exponent > 0 else f"inv({power})"
        return super()._print_MatPow(expr)

    def _print_HadamardProduct(self, expr):
        return " * ".join(self.parenthesize(f, 60) for f in expr.args)

    def _print_HadamardPower(self, expr):
        # ** is entrywise in the claim language, as HadamardPower is.
        base, exponent = expr.args
        return f"{self.parenthesize(base, 1000)}**{self.parenthesize(exponent, 1000)}"

    def _print_DiagMatrix(self, expr):
        return f"diag({self._print(expr.args[0])})"

    def _print_Softmax(self, expr):
        return f"softmax({self._print(expr.arg)}{', rows' if expr.axis == 1 else ''})"

    def _print_LogSoftmax(self, expr):
        return f"log_softmax({self._print(expr.arg)}{', rows' if expr.axis == 1 else ''})"

    def _print_Elementwise(self, expr):
        return f"{expr.name}({self._print(expr.arg)})"

    def _print_OneMatrix(self, expr):
        return f"ones({self._print(expr.rows)}, {self._print(expr.cols)})"

    # In the claim language ** is entry by entry: the matrix inverse is inv(X), not X**(-1).
    def _print_Inverse(self, expr):
        return f"inv({self._print(expr.arg)})"

    def _print_Identity(self, expr):
        return f"eye({self._print(expr.rows)})"

    # Scalar functions under the claim language's names (SymPy's would not read back).
    def _print_Abs(self, expr):
        return f"abs({self._print(expr.args[0])})"

    def _print_Heaviside(self, expr):
        # step(x) is H(x) with H(0) = 0; SymPy's default H(0) = 1/2 differs only at the
        # jump, where the derivative it stands for is not defined.
        return f"step({self._print(expr.args[0])})"

    def _print_Max(self, expr):
        return self._nested("max", expr.args)

    def _print_Min(self, expr):
        return self._nested("min", expr.args)

    def _nested(self, name: str, args) -> str:
        """max(a, b, c) as max(a, max(b, c)): the claim language's max takes two."""
        if len(args) == 1:
            return self._print(args[0])
        return f"{name}({self._print(args[0])}, {self._nested(name, args[1:])})"


def to_claim(expr: sp.Basic) -> str:
    """``expr`` as claim-language text (see the module docstring)."""
    return ClaimPrinter().doprint(expr)
