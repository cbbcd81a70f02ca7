"""Sigmoid derivative: σ′(x) = σ(x)(1 − σ(x)), and tanh′(x) = 1 − tanh²(x).

Both activations have derivatives written in their own outputs, so backpropagation can
reuse the forward values. Both derivatives are small far from 0 (σ′ ≤ 1/4 everywhere),
which is where vanishing gradients come from. Derived from the definitions in
exponentials; applied entry by entry, the Jacobian of either is diagonal.
"""

from __future__ import annotations

import numpy as np
import sympy as sp
from sympy.matrices.expressions.diagonal import DiagMatrix

from workbench.codegen import numeric
from workbench.core import rules
from workbench.core.derivation import Case, Chain, Derivation, Exercise
from workbench.core.functions import Elementwise

x = sp.Symbol("x", real=True)
sigma = sp.Symbol("sigma")  # σ(x)
t = sp.Symbol("t")  # tanh(x)

DEFINITIONS = {
    sigma: 1 / (1 + sp.exp(-x)),
    t: (sp.exp(x) - sp.exp(-x)) / (sp.exp(x) + sp.exp(-x)),
}
# Scalar results: entry (0, 0) of a 1×1 result, the closed form itself.
SCALAR = (0, 0)

n = sp.Symbol("n", integer=True, positive=True)
a = sp.MatrixSymbol("a", n, 1)  # pre-activations, for the elementwise cases
ones = sp.OneMatrix(n, 1)


def sigmoid_value(u: float) -> float:
    return float(numeric.sigmoid(np.asarray(u)))


def exercises() -> tuple[Exercise, ...]:
    s0, s2, s5 = (sigmoid_value(u) for u in (0.0, 2.0, 5.0))
    return (
        Exercise(
            prompt="Compute σ(0), σ′(0), σ(5) and σ′(5). What happens to the gradient "
            "flowing back through a saturated sigmoid?",
            solution=f"$\\sigma(0) = {s0:.4f}$ and $\\sigma'(0) = \\sigma(0)(1 - \\sigma(0)) "
            f"= {s0 * (1 - s0):.4f}$, the largest slope the sigmoid ever has. "
            f"$\\sigma(5) = {s5:.4f}$ and $\\sigma'(5) = {s5 * (1 - s5):.4f}$: a unit "
            "that saturates passes back less than 1% of the gradient, and a stack of them "
            "multiplies such factors together. That is the vanishing-gradient problem.",
            source="Week 0.2, Calculus essentials: derivatives, chain rule (shared/seeds/000)",
        ),
        Exercise(
            prompt="Show that tanh(x) = 2σ(2x) − 1 and use it, with σ′ = σ(1 − σ), to derive "
            "tanh′ = 1 − tanh² a second way. Evaluate tanh′(0) and tanh′(2).",
            solution="$2\\sigma(2x) - 1 = (2 - 1 - e^{-2x})/(1 + e^{-2x}) = (e^{x} - e^{-x})/"
            "(e^{x} + e^{-x}) = \\tanh x$. By the chain rule $\\tanh'(x) = 4\\sigma(2x)"
            "(1 - \\sigma(2x))$, and with $\\sigma(2x) = (1 + \\tanh x)/2$ that is "
            "$(1 + \\tanh x)(1 - \\tanh x) = 1 - \\tanh^2 x$. $\\tanh'(0) = 1$ and "
            f"$\\tanh'(2) = {1 - np.tanh(2.0) ** 2:.4f}$.",
            source="Phase 3, Calculus: derivatives, chain rule (shared/seeds/003)",
        ),
        Exercise(
            prompt="A hidden layer h = σ(a) is applied entry by entry to a vector a. Write the "
            "Jacobian ∂h/∂a, and the backward pass for an upstream gradient g = ∂L/∂h.",
            solution="$\\partial h_i/\\partial a_j = \\delta_{ij}\\,\\sigma(a_i)(1 - "
            "\\sigma(a_i))$: a diagonal matrix, because $h_i$ depends on $a_i$ alone. So "
            "$\\partial L/\\partial a = g \\circ h \\circ (1 - h)$, an elementwise product "
            "that never forms the $n \\times n$ matrix. For $a = (0, 2)$: $h = "
            f"({s0:.4f}, {s2:.4f})$ and the diagonal is $({s0 * (1 - s0):.4f}, "
            f"{s2 * (1 - s2):.4f})$.",
            source="Step 2, Calculus & gradients: manual backpropagation (shared/seeds/004)",
        ),
    )


def is_exp_minus_x(e: sp.Basic) -> bool:
    return e == sp.exp(-x)


def exp_minus_x_from_sigma(e: sp.Basic) -> sp.Basic:
    """σ = 1/(1 + e^(−x)) read backwards: e^(−x) = (1 − σ)/σ."""
    return (1 - sigma) / sigma


def exp_minus_x_from_tanh(e: sp.Basic) -> sp.Basic:
    """t = (eˣ − e^(−x))/(eˣ + e^(−x)) read backwards: e^(−x) = eˣ(1 − t)/(1 + t)."""
    return sp.exp(x) * (1 - t) / (1 + t)


def sympy_sigmoid_diff() -> tuple[sp.Basic, sp.Basic]:
    """SymPy's own diff of 1/(1 + e^(−x)) against σ(1 − σ) written in x."""
    logistic = 1 / (1 + sp.exp(-x))
    return sp.diff(logistic, x), logistic * (1 - logistic)


def sympy_tanh_diff() -> tuple[sp.Basic, sp.Basic]:
    """SymPy's own diff of its built-in tanh against 1 − tanh²."""
    return sp.diff(sp.tanh(x), x), 1 - sp.tanh(x) ** 2


def numeric_slope_bound(seed: int):
    """σ′ = σ(1 − σ) peaks at x = 0 with value 1/4: the largest central difference on a
    fine grid, against 1/4 (the grid contains 0; truncation error ~ h² ≈ 1e-10)."""
    grid = np.linspace(-8.0, 8.0, 16001)
    h = 1e-5
    slopes = (numeric.sigmoid(grid + h) - numeric.sigmoid(grid - h)) / (2 * h)
    return np.max(slopes), 0.25, 1e-8


def build() -> Derivation:
    logistic = (
        Chain(sp.Derivative(sigma, x), DEFINITIONS)
        .apply(rules.Definition((sigma,)), "σ(x) = 1/(1 + exp(−x)).")
        .apply(rules.ChainRule(), "∂u⁻¹ = −u⁻²·∂u, with u = 1 + exp(−x).")
        .apply(rules.Linearity(), "The constant 1 has derivative 0.")
        .apply(rules.ChainRule(), "∂ exp(−x) = exp(−x)·∂(−x).")
        .apply(rules.Differentiate(), "∂(−x)/∂x = −1; the two minus signs cancel.")
        .apply(
            rules.Fold(is_exp_minus_x, exp_minus_x_from_sigma),
            "Read the definition backwards, exp(−x) = (1 − σ)/σ, and cancel.",
        )
    )
    hyperbolic = (
        Chain(sp.Derivative(t, x), DEFINITIONS)
        .apply(rules.Definition((t,)), "tanh x = (eˣ − e⁻ˣ)/(eˣ + e⁻ˣ).")
        .apply(rules.QuotientRule(), "A quotient: (u′ v − u v′)/v².")
        .apply(rules.Linearity(), "Differentiate term by term.")
        .apply(rules.ChainRule(), "∂ exp(±x) = exp(±x)·∂(±x).")
        .apply(rules.Differentiate(), "∂x/∂x = 1, ∂(−x)/∂x = −1.")
        .apply(
            rules.Fold(is_exp_minus_x, exp_minus_x_from_tanh),
            "Read the definition backwards, e⁻ˣ = eˣ(1 − t)/(1 + t); eˣ cancels, "
            "leaving (1 − t)(1 + t) = 1 − t².",
        )
    )
    sigmoid_of_a = Elementwise("sigmoid", a)
    tanh_of_a = Elementwise("tanh", a)
    cases = (
        Case(
            name="sigmoid, entry by entry",
            forward=sigmoid_of_a,
            wrt=(a,),
            gradients=(DiagMatrix(sp.HadamardProduct(sigmoid_of_a, ones - sigmoid_of_a)),),
            samplers={a: numeric.logits(2.0)},
            sizes=({n: 2}, {n: 3}, {n: 4}),
            numeric_size={n: 6},
            names=(("s", sigmoid_of_a),),
        ),
        Case(
            name="tanh, entry by entry",
            forward=tanh_of_a,
            wrt=(a,),
            gradients=(DiagMatrix(ones - Elementwise("square", tanh_of_a)),),
            samplers={a: numeric.logits(2.0)},
            sizes=({n: 2}, {n: 3}, {n: 4}),
            numeric_size={n: 6},
            names=(("t", tanh_of_a),),
        ),
    )
    return Derivation(
        slug="sigmoid-derivative",
        title="Sigmoid and tanh derivatives",
        summary=(
            "The slopes of the two classic activations, written in their own outputs: "
            "σ′ = σ(1 − σ) and tanh′ = 1 − tanh². Backpropagation reuses the forward "
            "values, and the small slopes far from 0 explain vanishing gradients."
        ),
        conventions="x is a real scalar; applied to a vector entry by entry, the Jacobian "
        "J[i, j] = ∂hᵢ/∂aⱼ (numerator layout) is diagonal.",
        variables=(
            ("x", "a real pre-activation"),
            ("σ", "σ = σ(x) = 1/(1 + exp(−x)), the logistic sigmoid"),
            ("t", "t = tanh(x) = (eˣ − e⁻ˣ)/(eˣ + e⁻ˣ)"),
            ("a", "n×1 pre-activations, for the entry-by-entry Jacobians"),
        ),
        definitions=DEFINITIONS,
        results=(
            logistic.result("σ′(x)", sigma * (1 - sigma), SCALAR),
            hyperbolic.result("tanh′(x)", 1 - t**2, SCALAR),
        ),
        cases=cases,
        symbolic_checks=(
            ("SymPy's diff of 1/(1 + exp(−x))", sympy_sigmoid_diff),
            ("SymPy's diff of its own tanh", sympy_tanh_diff),
        ),
        numeric_checks=(("max of σ′ on a grid (central differences) is 1/4", numeric_slope_bound),),
        exercises=exercises(),
    )
