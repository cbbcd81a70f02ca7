"""What a note shows of its step is read off the step (workbench.core.pieces)."""

from __future__ import annotations

import pytest
import sympy as sp

from workbench.core import rules
from workbench.core.derivation import Chain, Shown, Step, note_parts
from workbench.core.pieces import kept, rewritten
from workbench.errors import DerivationError
from workbench.render.latex import note_to_latex
from workbench.render.text import note_to_text

n = sp.Symbol("n", integer=True, positive=True)
p, q, a = sp.symbols("p q a", integer=True)
z, b, h = sp.MatrixSymbol("z", n, 1), sp.MatrixSymbol("b", n, 1), sp.MatrixSymbol("h", n, 1)
W = sp.MatrixSymbol("W", n, n)
L = sp.Symbol("L")
DEFINITIONS = {L: sp.Sum(z[a, 0], (a, 0, n - 1)), z: W * h + b}


def chain():
    return Chain(sp.Derivative(L, W[p, q]), DEFINITIONS).apply(
        rules.Definition((L,)), "Write L out."
    )


def test_a_definition_step_shows_the_entry_it_wrote_in_the_steps_letters():
    step = chain().apply(rules.Definition((z,)), "Write z out: {}.", rewritten).steps[-1]
    ((old, new),) = step.shown[0].equations
    assert old.parent == z and new.has(W) and new.has(b)
    # the index of z is the step's bound k, and the inner sum's the step's l
    assert note_to_latex(step) == (
        r"Write z out: $z_{k} = b_{k} + \sum_{l=0}^{n - 1} W_{kl} h_{l}$."
    )
    assert note_to_text(step) == "Write z out: z[k] = b[k] + Σ_l=0..n-1 (W[k,l]*h[l])."


def test_a_collapse_step_shows_the_indices_its_deltas_kept():
    """Linearity merges the two sums and the chain renames them (Σ_l Σ_k W_lk h_k): a
    typed "∂W_kl/∂W_pq = δ_kp δ_lq" would now be wrong; the picks follow the step."""
    c = (
        chain()
        .apply(rules.Definition((z,)), "z.")
        .apply(rules.Linearity(), "lin.")
        .apply(rules.Differentiate(), "{}.", rewritten)
        .apply(rules.CollapseDeltas(), "The deltas keep {}.", kept)
    )
    assert (
        note_to_latex(c.steps[-2])
        == r"$\frac{\partial W_{lk}}{\partial W_{pq}} = \delta_{kq} \delta_{lp}$."
    )
    assert note_to_latex(c.steps[-1]) == r"The deltas keep $k = q \text{ and } l = p$."


def test_a_note_needs_one_pick_per_field():
    """Fails if a typed-in note could leave a field unfilled (or a pick unshown)."""
    with pytest.raises(DerivationError, match="fields"):
        chain().apply(rules.Definition((z,)), "Write z out: {}.")
    with pytest.raises(DerivationError, match="fields"):
        chain().apply(rules.Definition((z,)), "Write z out.", rewritten)


def test_picks_refuse_a_step_that_shows_nothing():
    x = sp.Symbol("x")
    with pytest.raises(DerivationError):
        rewritten(x, x)
    with pytest.raises(DerivationError):
        kept(x + 1, x)


def test_note_parts_keep_the_prose_around_each_field():
    x = sp.Symbol("x")
    step = Step(x + x, 2 * x, "algebra", "", "So {}, twice.", shown=(Shown(((x + x, 2 * x),)),))
    assert note_parts(step)[0] == "So " and note_parts(step)[2] == ", twice."
    assert note_to_text(step) == "So 2*x = 2*x, twice."
