"""Two expressions compared once derivatives are evaluated and definitions unfolded.

The comparison the steps and closed-form checks make, and the facts check too.
"""

from __future__ import annotations

import sympy as sp

from workbench.checks.equivalence import check_equal
from workbench.core import algebra
from workbench.core.derivation import Derivation


def compare_resolved(a, b, derivation: Derivation, facts, budget: float, seed: int):
    """Decide a == b after evaluating derivatives and unfolding definitions.

    First lazily (names both sides share stay folded: small expressions, often proved);
    only if that does not show equality, fully resolved down to the inputs.
    """
    defs = derivation.definitions
    lazy_a, lazy_b = algebra.resolve_pair(a, b, defs)
    lazy = check_equal(
        lazy_a,
        lazy_b,
        assumptions=_resolved_lazily(facts, sp.Tuple(lazy_a, lazy_b), defs),
        domain=derivation.domain,
        budget=budget,
        seed=seed,
    )
    if lazy.equal:
        return lazy
    return check_equal(
        algebra.resolve(a, defs),
        algebra.resolve(b, defs),
        assumptions=_resolved(facts, defs),
        domain=derivation.domain,
        budget=budget,
        seed=seed,
    )


def _resolved_lazily(facts, expr, definitions):
    """Facts unfolded as far as ``expr`` is: names that ``expr`` no longer mentions go,
    from both sides (a fact written with a name the step has since unfolded still
    applies)."""
    present = algebra.names_in(expr, definitions)
    return tuple(
        (
            algebra.unfolded_beyond(lhs, present, definitions),
            algebra.unfolded_beyond(rhs, present, definitions),
        )
        for lhs, rhs in facts
    )


def _resolved(facts, definitions):
    return tuple(
        (algebra.resolve(lhs, definitions), algebra.resolve(rhs, definitions)) for lhs, rhs in facts
    )
