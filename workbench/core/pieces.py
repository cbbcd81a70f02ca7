"""What a note shows of its step: equations picked out of the step's own expressions.

A note that says "zₖ = Σₗ [W₂]_kl hₗ + [b₂]ₖ" in typed letters can drift from its step,
whose bound indices are named by the chain (k, l, … by nesting depth). A pick reads the
equation off the step instead: :func:`rewritten` gives each piece the rule replaced and
what replaced it; :func:`kept` gives the index equalities the deltas imposed. A face
prints them with the printer it prints the step with, so letters and brackets agree.

Example:
    >>> import sympy as sp
    >>> x = sp.Symbol("x")
    >>> rewritten(sp.exp(x) * sp.Derivative(x**2, x), 2 * x * sp.exp(x)).equations
    ((Derivative(x**2, x), 2*x),)
"""

from __future__ import annotations

import sympy as sp

from workbench.core.derivation import Shown
from workbench.errors import DerivationError

COMMUTATIVE = (sp.Add, sp.Mul)


def rewritten(before: sp.Basic, after: sp.Basic) -> Shown:
    """Each distinct piece of ``before`` the step replaced, = what stands there in ``after``.

    The two trees are walked together; where they part, the pieces are the change. Sums
    and products match their unchanged terms first, so a change inside ``Σₗ c·f`` is
    ``f → g``, not the whole sum.
    """
    found: list[tuple[sp.Basic, sp.Basic]] = []
    for pair in _changes(before, after):
        if pair not in found:
            found.append(pair)
    if not found:
        raise DerivationError("the step changed nothing a note could show")
    return Shown(tuple(found))


def kept(before: sp.Basic, after: sp.Basic) -> Shown:
    """The index equalities the step's deltas imposed: ``k = p`` for each δ(k, p) of a bound
    ``k`` that ``before`` has and ``after`` no longer has."""
    bound = {v for s in sp.preorder_traversal(before) if isinstance(s, sp.Sum) for v in s.variables}
    equations = []
    for delta in sorted(before.atoms(sp.KroneckerDelta) - after.atoms(sp.KroneckerDelta), key=str):
        first, second = delta.args[:2]
        if first in bound:
            equations.append((first, second))
        elif second in bound:
            equations.append((second, first))
    if not equations:
        raise DerivationError("the step collapsed no delta over a bound index")
    return Shown(tuple(sorted(set(equations), key=lambda e: str(e[0]))))


def _kind(e: sp.Basic) -> str:
    return type(e).__name__


def _changes(a: sp.Basic, b: sp.Basic) -> list[tuple[sp.Basic, sp.Basic]]:
    if a == b:
        return []
    if type(a) is not type(b) or a.is_Atom or b.is_Atom:
        return [(a, b)]
    if isinstance(a, COMMUTATIVE):
        rest_a, rest_b = list(a.args), list(b.args)
        for term in a.args:
            if term in rest_b:
                rest_a.remove(term)
                rest_b.remove(term)
        if len(rest_a) == 1 and len(rest_b) == 1:
            return _changes(rest_a[0], rest_b[0])
        if not rest_a or not rest_b:
            return [(a, b)]
        if sorted(map(_kind, rest_a)) == sorted(map(_kind, rest_b)):
            # as many changed terms on each side, of the same kinds: a name replaced in
            # each (∂aₗ and φ′(aₗ) both unfolded), shown once per kind of term
            paired: list[tuple[sp.Basic, sp.Basic]] = []
            for term in rest_a:
                twins = [t for t in rest_b if _kind(t) == _kind(term)]
                twin = max(twins, key=lambda t: len(set(t.args) & set(term.args)))
                rest_b.remove(twin)
                paired += _changes(term, twin)
            return paired
        return [(a.func(*rest_a), b.func(*rest_b))]
    if len(a.args) != len(b.args):
        return [(a, b)]
    out: list[tuple[sp.Basic, sp.Basic]] = []
    for x, y in zip(a.args, b.args, strict=True):
        out += _changes(x, y)
    return out
