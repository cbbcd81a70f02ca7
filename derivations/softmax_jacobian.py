"""Softmax Jacobian: ∂sᵢ/∂zⱼ = sᵢ(δᵢⱼ − sⱼ), i.e. J = diag(s) − s sᵀ.

For s = softmax(z) with z ∈ ℝⁿ. The Jacobian is symmetric and each row sums to zero
(the outputs always sum to one, so moving any logit cannot change their total).
Derived at general n by the quotient rule in index notation.
"""

from __future__ import annotations

import sympy as sp
from sympy.matrices.expressions.diagonal import DiagMatrix

from workbench.codegen import numeric
from workbench.core import rules
from workbench.core.algebra import expand_names
from workbench.core.derivation import Case, Chain, Derivation, Exercise
from workbench.core.functions import Softmax

n = sp.Symbol("n", integer=True, positive=True)
i, j = sp.symbols("i j", integer=True)
z = sp.MatrixSymbol("z", n, 1)
s = sp.MatrixSymbol("s", n, 1)

DEFINITIONS = {s: Softmax(z)}
CLOSED_FORM = DiagMatrix(s) - s * s.T


EXERCISES = (
    Exercise(
        prompt="Compute softmax(z) for z = (1, 2, 3) and for z = (101, 102, 103). Are the "
        "outputs the same? Why, and what does that say about the rows of the Jacobian?",
        solution="Both are $(0.0900, 0.2447, 0.6652)$. Adding the same constant $c$ to every "
        "logit multiplies numerator and denominator by $e^{c}$, so "
        "$\\operatorname{softmax}(z + c\\mathbf{1}) = \\operatorname{softmax}(z)$. This is "
        "why stable code may subtract $\\max_k z_k$ first: $e^{1000}$ overflows float64, "
        "$e^{0}$ does not. Moving all logits together changes nothing, so $J\\mathbf{1} = 0$: "
        "every row of $J$ sums to zero. Indeed $J\\mathbf{1} = s - s(s^{\\top}\\mathbf{1}) "
        "= s - s = 0$, because $\\sum_k s_k = 1$.",
        source="Stage 01, Math Foundations: exercise 'Softmax intuition' (shared/seeds/001)",
    ),
    Exercise(
        prompt="Explain why softmax outputs are non-negative and sum to 1. Then write out the "
        "Jacobian for n = 2 at z = (0, 0).",
        solution="Each $s_i = e^{z_i}/\\sum_k e^{z_k}$ is a positive number over a sum of "
        "positive numbers, and all $s_i$ share that denominator, so "
        "$\\sum_i s_i = \\sum_i e^{z_i}/\\sum_k e^{z_k} = 1$. At $z = (0, 0)$, "
        "$s = (1/2, 1/2)$ and $J = \\operatorname{diag}(s) - ss^{\\top} = "
        "\\begin{pmatrix} 1/4 & -1/4 \\\\ -1/4 & 1/4 \\end{pmatrix}$: symmetric, each row "
        "summing to zero, each diagonal entry $s_i(1 - s_i) = 0.2500$.",
        source="Stage 01, Math Foundations: minimum viable understanding (shared/seeds/001)",
    ),
    Exercise(
        prompt="At z = (1, 2, 3), compute the diagonal of the Jacobian. Why is every "
        "off-diagonal entry negative?",
        solution="The diagonal is $s_i(1 - s_i)$: $(0.0819, 0.1848, 0.2227)$, largest for "
        "the most probable class. Off the diagonal $J_{ij} = -s_i s_j < 0$: raising logit "
        "$j$ takes probability from every other class, because the total stays 1. For "
        "example $J_{12} = -0.1628$.",
        source="Phase 3, Vector calculus: gradients, Jacobians (shared/seeds/003)",
    ),
)


def is_exp_of_logit(e: sp.Basic) -> bool:
    return isinstance(e, sp.exp) and getattr(e.args[0], "parent", None) == z


def exp_in_terms_of_s(e: sp.Basic) -> sp.Basic:
    """exp(z_a) = s_a · Σ_k exp(z_k): the definition of s read backwards."""
    k = sp.Dummy("k", integer=True)
    return s[e.args[0].i, 0] * sp.Sum(sp.exp(z[k, 0]), (k, 0, n - 1))


def build() -> Derivation:
    chain = (
        Chain(sp.Derivative(s[i, 0], z[j, 0]), DEFINITIONS)
        .apply(rules.Definition((s,)), "Write sᵢ out: exp(zᵢ) divided by the sum of all exp(zₖ).")
        .apply(rules.QuotientRule(), "A quotient: differentiate numerator and denominator.")
        .apply(rules.Linearity(), "The derivative of a sum is the sum of the derivatives.")
        .apply(rules.ChainRule(), "The derivative of exp(u) is exp(u) times the derivative of u.")
        .apply(rules.Differentiate(), "∂zₖ/∂zⱼ is 1 when k = j and 0 otherwise: δₖⱼ.")
        .apply(rules.CollapseDeltas(), "The delta keeps only the k = j term of the sum.")
        .apply(
            rules.Fold(is_exp_of_logit, exp_in_terms_of_s),
            "Each exp(zᵢ) or exp(zⱼ) over the sum of all exp(zₖ) is sᵢ or sⱼ: the result "
            "is written in s alone.",
        )
    )
    result = chain.result("∂sᵢ/∂zⱼ", CLOSED_FORM, (i, j), z)
    softmax_of_z = expand_names(CLOSED_FORM, DEFINITIONS)
    case = Case(
        name="vector",
        forward=Softmax(z),
        wrt=(z,),
        gradients=(softmax_of_z,),
        samplers={z: numeric.logits(2.0)},
        sizes=({n: 2}, {n: 3}, {n: 4}),
        numeric_size={n: 6},
        results={z: result.label},
        names=(("s", Softmax(z)),),
    )
    return Derivation(
        slug="softmax-jacobian",
        title="Softmax Jacobian",
        summary=(
            "How each softmax probability responds to each logit. It is the local "
            "derivative inside every classifier and every attention layer."
        ),
        conventions="Jacobian, numerator layout: J[i, j] = ∂sᵢ/∂zⱼ; indices run 0..n−1.",
        variables=(("z", "n×1 logits"), ("s", "n×1 probabilities, s = softmax(z)")),
        definitions=DEFINITIONS,
        results=(result,),
        cases=(case,),
        exercises=EXERCISES,
    )
