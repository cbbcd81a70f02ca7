"""A performance fix for SymPy, applied once when :mod:`workbench.core.algebra` is imported.

``Sum.free_symbols`` (``ExprWithLimits.free_symbols`` in SymPy 1.14) masks the summation
variables with ``function.xreplace(reps)``, where ``reps`` maps each plain-symbol variable
to *itself*. ``xreplace`` reports a hit as a change even when the replacement is the same
object, so the whole body is rebuilt on every query, and rebuilding each ``W[k, l]``
re-validates its indices with the assumption system. The assumption system asks for a
sum's free symbols many times over while multiplying (``is_zero``, ``is_positive`` of every
factor), so index-notation normal forms spent most of their time there: the steps of
attention's derivation took 11 s of CPU, 4.7 s with this fix.

The replacement skips ``xreplace`` when every mask is the identity and otherwise does
exactly what SymPy does, so every result is unchanged (``tests/workbench/
test_sympy_patches.py`` compares the two on sums of each kind).
"""

from __future__ import annotations

import sympy as sp
from sympy.concrete.expr_with_limits import ExprWithLimits

_original_free_symbols = ExprWithLimits.free_symbols


def _free_symbols(self):
    """SymPy's ``ExprWithLimits.free_symbols``, without the no-op rebuild of the body."""
    function, limits = self.function, self.limits
    # Mask off non-symbol integration variables that have more than themselves as a
    # free symbol (as SymPy does); plain symbols map to themselves.
    reps = {i[0]: i[0] if i[0].free_symbols == {i[0]} else sp.Dummy() for i in limits}
    if any(new is not old for old, new in reps.items()):
        function = function.xreplace(reps)
    isyms = set(function.free_symbols)
    for xab in limits:
        v = reps[xab[0]]
        if len(xab) == 1:
            isyms.add(v)
            continue
        isyms.discard(v)
        for i in xab[1:]:
            isyms.update(i.free_symbols)
    back = {v: k for k, v in reps.items()}
    return {back.get(s, s) for s in isyms}


def install() -> None:
    """Replace ``ExprWithLimits.free_symbols`` (idempotent)."""
    ExprWithLimits.free_symbols = property(_free_symbols)


def original_free_symbols(expr: ExprWithLimits) -> set:
    """SymPy's own implementation, for comparison in tests."""
    return _original_free_symbols.fget(expr)
