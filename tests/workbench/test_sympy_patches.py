"""The free_symbols fix returns exactly what SymPy's own implementation returns."""

from __future__ import annotations

import sympy as sp

from workbench.core import sympy_patches

n = sp.Symbol("n", integer=True, positive=True)
i, j, k, m = sp.symbols("i j k m", integer=True)
x = sp.Symbol("x")
W = sp.MatrixSymbol("W", n, n)


def test_free_symbols_agree_with_sympy_on_sums_of_every_kind():
    sympy_patches.install()
    sums = [
        sp.Sum(W[i, k] * x, (k, 0, n - 1)),
        sp.Sum(sp.Sum(W[k, m], (k, 0, m)), (m, 0, n - 1)),  # a bound in a limit
        sp.Sum(k**2, (k, 1, j)),
        sp.Sum(sp.exp(W[k, 0]), (k, 0, n - 1)) / sp.Sum(W[i, j], (j, 0, i)),
        sp.Integral(x**2, (x, 0, n)),
        sp.Integral(x, x),  # a limit without bounds
        sp.Sum(x, (x, k + 1, n)),
    ]
    for expr in sums:
        for e in expr.atoms(sp.Sum, sp.Integral):
            assert e.free_symbols == sympy_patches.original_free_symbols(e)
