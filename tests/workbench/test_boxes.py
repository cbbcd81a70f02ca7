"""The boxed closed forms: matrix notation, and right (issue 15, item 1).

A registry-wide test pins today's defective boxes: a new one fails, and so does fixing one
without taking it off the list (so the list only shrinks, on purpose).
"""

from __future__ import annotations

import pytest
import sympy as sp

from workbench.core import registry
from workbench.core.derivation import Result, Step
from workbench.render.boxes import box_problems
from workbench.render.handout import available_slugs
from workbench.render.latex import expr_to_latex

n = sp.Symbol("n", integer=True, positive=True)
x = sp.MatrixSymbol("x", n, 1)
i = sp.Symbol("i")
STEPS = (Step(sp.Derivative(x[i, 0] ** 2, x[i, 0]), 2 * x[i, 0], "power", "", ""),)


@pytest.mark.parametrize(
    "closed_form, problem",
    [
        (2 * x[i, 0], "free index i"),  # the index form again
        (2 * x[i, 0], "the same as the index form"),
        (2 * sp.MatrixSymbol("Xinv", n, n).T * x, "a program's name (Xinv)"),
        (sp.Integer(1) / n, "a scalar, where the derivative by a vector or matrix is one"),
        (sp.MatrixSymbol("I_1", 1, 1) - x.T * x, "a 1 × 1 identity where the number 1 is meant"),
        (sp.KroneckerDelta(i, 0) * x, "Kronecker deltas"),
    ],
)
def test_a_planted_bad_box_is_rejected(closed_form, problem):
    problems = box_problems(Result("∂f/∂xᵢ", STEPS, closed_form))
    assert any(p.startswith(problem) for p in problems), problems


def test_a_scalar_summed_over_an_index_is_its_own_box():
    """A result that is one number (Σₖ xₖ cos k = C, as in the convolution theorem) has no
    matrix box to differ from its index form: the summation index indexes no entry of it.
    A free index still does."""
    k = sp.Symbol("k", integer=True)
    c = sp.Symbol("C")
    steps = (Step(sp.Sum(x[k, 0] * sp.cos(k), (k, 0, n - 1)), c, "fold", "", ""),)
    assert box_problems(Result("C", steps, c)) == []
    entry = (Step(x[i, 0] * sp.Sum(x[k, 0], (k, 0, n - 1)), x[i, 0] * c, "fold", "", ""),)
    assert "the same as the index form" in box_problems(Result("xᵢC", entry, x[i, 0] * c))


def test_a_right_box_passes():
    assert box_problems(Result("∂f/∂xᵢ", STEPS, 2 * x)) == []
    inverse = sp.MatrixSymbol("X", n, n).inverse().T
    assert box_problems(Result("∂f/∂xᵢ", STEPS, inverse * x)) == []


# Today's defects (the derivations' closed forms; issue 15, item 1). Take an entry off when
# its derivation is fixed.
KNOWN = {
    # The sliding dot product is an entry formula; its matrix form is T u itself.
    ("convolution-theorem", "(T u)ᵢ"),
    # The VAE's KL term is taught as the sum over latent dimensions.
    ("gaussian-kl", "KL(N(μ, diag σ²) ‖ N(0, I))"),
}


def test_no_new_bad_box_in_the_registry():
    found = {
        (slug, result.label): box_problems(result)
        for slug in available_slugs()
        for result in registry.get(slug).results
    }
    bad = {key for key, problems in found.items() if problems}
    new = {key: found[key] for key in bad - KNOWN}
    assert not new, f"boxes that are not matrix notation: {new}"
    fixed = {key for key in KNOWN - bad if key in found}
    assert not fixed, f"fixed (take them off KNOWN): {sorted(fixed)}"


def test_no_printed_assumption_carries_a_program_name():
    """The facts a result assumes print in the result's terms: the adjugate fact, once
    stated with the name Xinv, printed 'C_pq = D Xinv_qp' under a box that reads (X⁻¹)ᵀ."""
    from workbench.render.boxes import PROGRAM_NAMES
    from workbench.render.latex import assumptions_to_latex, expr_to_latex

    checked = 0
    for slug in available_slugs():
        derivation = registry.get(slug)
        for result in derivation.results:
            for text in assumptions_to_latex(derivation, result):
                assert not PROGRAM_NAMES.findall(text), (slug, result.label, text)
                checked += 1
    assert checked >= 20
    # The test can fail: the adjugate fact as it was stated, with the name Xinv.
    from derivations import matrix_calculus_identities as mc

    named = mc.D * sp.MatrixSymbol("Xinv", mc.n, mc.n)[mc.q, mc.p]
    assert PROGRAM_NAMES.findall(expr_to_latex(named))


def test_attentions_query_and_key_boxes_keep_the_factor_ds():
    """∂L/∂Q and ∂L/∂K are boxed as a teacher writes them, (1/√d) dS K and (1/√d) dSᵀQ with
    dS = ∂L/∂S boxed above (they multiplied ∂L/∂S out); written out, they are the forms
    the numeric cases check. Planted: dS where dSᵀ belongs writes out differently."""
    from derivations import attention_gradient as att
    from workbench.render.marks import boxed_form

    results = {r.label: r for r in registry.get("attention-gradient").results}
    assert expr_to_latex(boxed_form(results["∂L/∂Q"])) == r"\frac{1}{\sqrt{d}} \mathrm{dS} K"
    assert expr_to_latex(boxed_form(results["∂L/∂K"])) == (
        r"\frac{1}{\sqrt{d}} \mathrm{dS}^{\top} Q"
    )
    root = sp.sqrt(att.d)  # as the checked forms were built: dS_closed * K / √d
    assert att.written_out(att.CLOSED["K"]) == att.dS_closed.T * att.Q / root
    assert att.written_out(att.CLOSED["Q"]) == att.dS_closed * att.K / root
    assert att.written_out(att.dS * att.Q / root) != att.dS_closed.T * att.Q / root
