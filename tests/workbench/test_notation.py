"""One notation per handout: a symbol is spelled one way by everything a derivation prints.

The handout, the note and the notebook print the same texts and expressions, so reading
them here, without running a check, covers every face. Two spellings of one symbol
(φ and ϕ, ε and ϵ, 𝔼 and E) make a reader ask whether they are two things.
"""

from __future__ import annotations

import re

import pytest

from workbench.core import registry
from workbench.render.handout import available_slugs
from workbench.render.latex import expr_to_latex, note_to_latex
from workbench.render.marks import boxed_form
from workbench.render.prose import text_to_latex

# Each pair spells one symbol two ways; a derivation may use either, never both.
VARIANTS = (
    (r"\phi", r"\varphi"),
    (r"\epsilon", r"\varepsilon"),
    (r"\theta", r"\vartheta"),
    (r"\mathbb{E}", r"\operatorname{E}"),
)


def _typed(derivation) -> list[str]:
    """What the author wrote, as the faces print it."""
    texts = [derivation.summary, derivation.conventions]
    texts += [t for pair in derivation.variables for t in pair]
    texts += [r.label for r in derivation.results]
    out = [text_to_latex(t) for t in texts]
    out += [t for e in derivation.exercises for t in (e.prompt, e.solution)]
    out += [note_to_latex(step) for step in derivation.steps]
    return out


def _computed(derivation) -> list[str]:
    """What SymPy wrote: every goal, step and closed form, as the faces print them."""
    out = []
    for result in derivation.results:
        out += [expr_to_latex(result.goal), expr_to_latex(boxed_form(result))]
        out += [expr_to_latex(step.after) for step in result.steps]
    return out


def _uses(latex: str, spelling: str) -> bool:
    return re.search(re.escape(spelling) + r"(?![A-Za-z])", latex) is not None


def spellings_mixed(typed: list[str], computed: list[str]) -> list[str]:
    """Each pair of :data:`VARIANTS` of which both spellings are printed."""
    text = "\n".join(typed + computed)
    return [" and ".join(pair) for pair in VARIANTS if all(_uses(text, s) for s in pair)]


@pytest.mark.parametrize("slug", available_slugs())
def test_one_spelling_per_symbol_in_each_handout(slug):
    """Failed before the fix: two-layer backprop printed φ′ in its steps and ϕ′ in its
    exercises; Gaussian KL printed 𝔼 in one solution and E in every step, and "X ˜ p"
    (a typed ~) for X ∼ p."""
    derivation = registry.get(slug)
    typed, computed = _typed(derivation), _computed(derivation)
    assert spellings_mixed(typed, computed) == [], slug
    # An ASCII ~ typed in prose prints as a raised tilde ("X ˜ p"), not as ∼.
    assert not [t for t in typed if r"\textasciitilde" in t], slug


def test_the_notation_checks_find_what_they_are_for():
    r"""Each check fails on a planted second spelling."""
    assert spellings_mixed([r"$\phi'(a)$"], [r"\varphi'\left(a\right)"]) == [r"\phi and \varphi"]
    assert spellings_mixed([r"$\mathbb{E}[X]$"], [r"\operatorname{E}\left[X\right]"])
    assert spellings_mixed([r"$\phi$"], [r"\phi"]) == []
