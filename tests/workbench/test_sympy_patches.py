"""Importing and using the workbench leaves SymPy's classes as they were, and
:func:`workbench.core.algebra.free_symbols` agrees with SymPy on expressions in normal form."""

from __future__ import annotations

import subprocess
import sys

import sympy as sp

from workbench.core import algebra


def test_importing_and_checking_leaves_sympy_untouched():
    """Failed before this fix: importing workbench.core.algebra replaced
    ExprWithLimits.free_symbols for the whole process, changing SymPy's answers."""
    program = """
import sympy as sp
from sympy.concrete.expr_with_limits import ExprWithLimits
before = {name: ExprWithLimits.__dict__.get(name) for name in ("free_symbols", "is_number")}
k, n, y = sp.symbols("k n y", integer=True)
expected = sp.Sum(sp.Mul(k, y, 0, evaluate=False), (k, 0, n)).free_symbols
import workbench
from workbench.core import algebra, registry
registry.get("softmax-jacobian").check(only=("steps",))
after = {name: ExprWithLimits.__dict__.get(name) for name in ("free_symbols", "is_number")}
assert before == after, "SymPy's class was changed"
got = sp.Sum(sp.Mul(k, y, 0, evaluate=False), (k, 0, n)).free_symbols
assert got == expected == {n}, got
print("ok")
"""
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "ok"


def test_own_free_symbols_matches_sympy_on_sums_of_each_kind():
    k, j, n, m, y = sp.symbols("k j n m y", integer=True)
    W = sp.MatrixSymbol("W", n, m)
    x = sp.MatrixSymbol("x", n, 1)
    cases = [
        sp.Sum(W[k, j] * x[k, 0], (k, 0, n - 1)),
        sp.Sum(sp.Sum(W[k, j] * y, (k, 0, n - 1)), (j, 0, m - 1)),
        sp.Sum(sp.KroneckerDelta(k, j) * x[k, 0], (k, 0, j)),
        sp.Sum(sp.exp(x[k, 0]), (k, 0, n - 1)) * sp.log(y),
        sp.Integral(y * k, k),
        sp.Product(k + y, (k, 1, n)),
        sp.Sum(k, (k, 0, n)) + k,  # the same name bound inside, free outside
    ]
    for expr in cases:
        assert algebra.free_symbols(expr) == expr.free_symbols, expr
