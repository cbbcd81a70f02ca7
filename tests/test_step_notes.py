"""The note under each step speaks of the indices its step prints, in the steps' style.

Over the whole registry: every index letter a note writes (``zₖ``, ``δ_kp``, ``Σₗ``,
``[W₂]_kl``) is an index of its step, free (p, q, j) or bound as the step prints it
(k, l, r, …); and no note writes an entry the way code does (``P[r, c]``): the steps print
``P_{rc}`` and ``[W_2]_{kl}``.
"""

from __future__ import annotations

import re
from dataclasses import replace

import pytest
import sympy as sp

from workbench.core import registry
from workbench.core.derivation import Step
from workbench.render.text import bound_name

SUBSCRIPT_LETTERS = {
    "ₐ": "a",
    "ₑ": "e",
    "ₕ": "h",
    "ᵢ": "i",
    "ⱼ": "j",
    "ₖ": "k",
    "ₗ": "l",
    "ₘ": "m",
    "ₙ": "n",
    "ₒ": "o",
    "ₚ": "p",
    "ᵣ": "r",
    "ₛ": "s",
    "ₜ": "t",
    "ᵤ": "u",
    "ᵥ": "v",
    "ₓ": "x",
}
# Letters that name an index when written as a subscript; a subscript x or y names a
# variable (Cₓ, S_y: sums of the signal x), and sizes n, m, d, N are never summed over.
INDEX_LETTERS = set("abcijklpqrtuvw")
# A name whose subscript is not an index: E_p (expectation under p), log₂, and the
# attention projections W_q, W_k, W_v, W_o (one letter after the underscore, then no more).
NOT_INDEXED = re.compile(r"(?:E|𝔼|log)(?=[_ₚₐᵢ])|W_[qkvo](?![a-z])")
BRACKET_ENTRY = re.compile(r"[A-Za-zα-ωΑ-Ω][₀-₉0-9]*\[\s*[a-z]\s*,\s*[a-z]\s*\]")
ASCII_SUBSCRIPT = re.compile(r"(?<=[\w\])′])_\{?([a-z]{1,3})\}?(?![a-z])")
UNICODE_SUBSCRIPT = re.compile(r"(?<=[\w\]′)Σ])([" + "".join(SUBSCRIPT_LETTERS) + "]+)")


def note_indices(note: str) -> set[str]:
    """The index letters a note writes as subscripts: ``zₖ``, ``δ_kp``, ``Σₗ``, ``[W₂]_kl``."""
    prose = NOT_INDEXED.sub("", note)
    letters = set()
    for group in UNICODE_SUBSCRIPT.findall(prose):
        letters |= {SUBSCRIPT_LETTERS[c] for c in group}
    for group in ASCII_SUBSCRIPT.findall(prose):
        letters |= set(group)
    return letters & INDEX_LETTERS


def step_indices(step: Step) -> set[str]:
    """The index names the step prints: its integer symbols, free or bound (as k, l, …)."""
    names = set()
    for expr in (step.before, step.after):
        # atoms, not free_symbols: the j of x[j, 0] is not free in SymPy's sense
        for s in expr.atoms(sp.Symbol):
            if s.is_integer:
                names.add(bound_name(s) or s.name)
    return names


def note_problems(step: Step) -> list[str]:
    """What is wrong with a step's note: indices its step does not print, code brackets."""
    problems = []
    stray = note_indices(step.note) - step_indices(step)
    if stray:
        shown = ", ".join(sorted(step_indices(step))) or "none"
        problems.append(f"index {', '.join(sorted(stray))} is not the step's ({shown})")
    if BRACKET_ENTRY.search(step.note):
        problems.append(f"{BRACKET_ENTRY.search(step.note).group()} in code brackets")
    return problems


@pytest.mark.parametrize("slug", registry.slugs())
def test_every_note_uses_its_steps_indices(slug):
    derivation = registry.get(slug)
    found = [
        f"{result.label} step {number}: {problem} in {step.note!r}"
        for result in derivation.results
        for number, step in enumerate(result.steps, 1)
        for problem in note_problems(step)
    ]
    assert not found, "\n".join(found)


def test_a_planted_wrong_index_is_found():
    """Fails if the check is blind: the old two-layer note, W₂[r,k] beside a step whose
    sums run over k and l, is caught twice (letter r, and code brackets)."""
    k, ell = sp.Symbol("_s0", integer=True), sp.Symbol("_s1", integer=True)
    p, q = sp.symbols("p q", integer=True)
    W = sp.MatrixSymbol("W2", 3, 3)
    h = sp.MatrixSymbol("h", 3, 1)
    before = sp.Sum(sp.Derivative(W[k, ell], W[p, q]) * h[ell, 0], (ell, 0, 2))
    after = sp.Sum(sp.KroneckerDelta(k, p) * sp.KroneckerDelta(ell, q) * h[ell, 0], (ell, 0, 2))
    wrong = Step(before, after, "elementary derivatives", "", "∂W₂[r,k]/∂W₂[p,q] = δ_rp δ_kq.")
    right = Step(before, after, "elementary derivatives", "", "∂[W₂]_kl/∂[W₂]_pq = δ_kp δ_lq.")
    problems = note_problems(wrong)
    assert len(problems) == 2 and "index r" in problems[0] and "brackets" in problems[1]
    assert note_problems(right) == []
    assert note_indices("zₖ = Σₗ [W₂]_kl hₗ, E_p[X], log₂ u, Cₓ") == {"k", "l"}


def shown_problems(step: Step) -> list[str]:
    """A shown equation must be read off its step: lhs a piece of ``before``, rhs of ``after``."""
    return [
        f"{lhs} = {rhs} is not the step's"
        for shown in step.shown
        for lhs, rhs in shown.equations
        if not (step.before.has(lhs) and step.after.has(rhs))
    ]


@pytest.mark.parametrize("slug", registry.slugs())
def test_what_a_note_shows_is_its_steps(slug):
    derivation = registry.get(slug)
    found = [
        f"{result.label} step {number}: {problem}"
        for result in derivation.results
        for number, step in enumerate(result.steps, 1)
        for problem in shown_problems(step)
    ]
    assert not found, "\n".join(found)


def test_a_shown_equation_from_elsewhere_is_found():
    """Fails if the check is blind: an equation not in the step (an entry z[r] the step
    never had) is reported."""
    from workbench.core.derivation import Shown

    r, x = sp.Symbol("r", integer=True), sp.Symbol("x")
    z = sp.MatrixSymbol("z", 3, 1)
    before, after = sp.Derivative(z[0, 0] * x, x), z[0, 0]

    def with_shown(lhs, rhs):
        return Step(
            before, after, "elementary derivatives", "", "{}.", shown=(Shown(((lhs, rhs),)),)
        )

    assert shown_problems(with_shown(z[r, 0], z[0, 0])) == [
        f"{z[r, 0]} = {z[0, 0]} is not the step's"
    ]
    assert shown_problems(with_shown(before, after)) == []


HOLDS = re.compile(r"hold (\S+) depend on it")


def holds_problems(derivation) -> list[str]:
    """Linearity notes that name another variable than the one their result differentiates
    (before, the block's said "the target" for every one of them)."""
    found = []
    for result in derivation.results:
        wrt = result.label.removeprefix("∂L/∂")
        for number, step in enumerate(result.steps, 1):
            named = HOLDS.search(step.note)
            if (
                step.rule == "linearity"
                and "depend on it" in step.note
                and (named is None or named.group(1) != wrt)
            ):
                found.append(f"{result.label} step {number}: {step.note!r}")
    return found


def test_a_linearity_note_names_the_variable_differentiated():
    derivation = registry.get("transformer-block-backward")
    assert holds_problems(derivation) == []
    # Planted: the note the block printed before, which named no variable.
    result = derivation.result("∂L/∂W₂")
    number = next(i for i, s in enumerate(result.steps) if s.rule == "linearity")
    vague = replace(result.steps[number], note="Only the terms holding the target depend on it.")
    steps = (*result.steps[:number], vague, *result.steps[number + 1 :])
    planted = replace(derivation, results=(replace(result, steps=steps),))
    assert holds_problems(planted) == [f"∂L/∂W₂ step {number + 1}: {vague.note!r}"]


@pytest.mark.parametrize("slug", registry.slugs())
def test_no_note_leaves_an_index_operation_outside_its_subscript(slug):
    """Failed before the fix: convolution's first note printed y_{(n−m)} mod N, the mod
    after the whole product as if it applied to it."""
    from workbench.render.latex import note_to_latex

    for result in registry.get(slug).results:
        for number, step in enumerate(result.steps, 1):
            tex = note_to_latex(step)
            assert not re.search(r"_\{[^{}]*\}\$? *mod\b", tex), (result.label, number, tex)
