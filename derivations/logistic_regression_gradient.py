"""Logistic regression gradient: for BCE with p = σ(wᵀx + b), ∂L/∂w = (p − y)x and ∂L/∂b = p − y.

The binary cross-entropy L = −[y log p + (1 − y) log(1 − p)] of a logistic model has
the same "prediction minus target" gradient as softmax cross-entropy: σ′ = σ(1 − σ)
cancels the 1/p and 1/(1 − p) of the logs. Over a batch X (B×d) with mean loss it is
Xᵀ(σ(Xw + b) − y)/B. The generated code evaluates BCE as two-class cross-entropy with
logits (wᵀx + b, 0), a log-sum-exp form that stays finite for any logit.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from workbench.codegen import numeric
from workbench.core import rules
from workbench.core.derivation import Case, Chain, Derivation, Exercise
from workbench.core.functions import Elementwise, LogSoftmax
from workbench.core.rules_stats import ChainRuleThroughScalar

d = sp.Symbol("d", integer=True, positive=True)
j = sp.Symbol("j", integer=True)
w, x = sp.MatrixSymbol("w", d, 1), sp.MatrixSymbol("x", d, 1)
b, y = sp.MatrixSymbol("b", 1, 1), sp.MatrixSymbol("y", 1, 1)
u, p = sp.MatrixSymbol("u", 1, 1), sp.MatrixSymbol("p", 1, 1)
L = sp.Symbol("L")

DEFINITIONS = {
    u: w.T * x + b,
    p: Elementwise("sigmoid", u),
    L: -(y[0, 0] * sp.log(p[0, 0]) + (1 - y[0, 0]) * sp.log(1 - p[0, 0])),
}

FIRST, SECOND = sp.ImmutableMatrix([[1], [0]]), sp.ImmutableMatrix([[0], [1]])


def bce_sigmoid_form(logit, target):
    """−[y log σ(u) + (1 − y) log(1 − σ(u))], entrywise, as the textbook writes it."""
    ones = sp.OneMatrix(*logit.shape)
    prob = Elementwise("sigmoid", logit)
    return -(
        sp.HadamardProduct(target, Elementwise("log", prob))
        + sp.HadamardProduct(ones - target, Elementwise("log", ones - prob))
    )


def bce_stable(logit, target):
    """The same loss as two-class cross-entropy with logits (u, 0): log-sum-exp inside."""
    ones = sp.OneMatrix(*logit.shape)
    logits = logit * FIRST.T  # rows (uᵢ, 0)
    targets = target * FIRST.T + (ones - target) * SECOND.T
    return -sp.HadamardProduct(targets, LogSoftmax(logits, axis=1)) * sp.OneMatrix(2, 1)


def _sigmoid(z: float) -> float:
    return 1 / (1 + np.exp(-z))


def _exercises() -> tuple[Exercise, ...]:
    wv, xv, bv = np.array([0.5, -1.0]), np.array([2.0, 1.0]), 0.5
    z = wv @ xv + bv
    prob = _sigmoid(z)
    loss = -np.log(prob)
    return (
        Exercise(
            prompt="A logistic model has w = (0.5, −1), b = 0.5. For x = (2, 1) with label "
            "y = 1 compute p, the loss, ∂L/∂w and ∂L/∂b, and one gradient step with η = 1.",
            solution=f"$w^\\top x + b = {z:.4f}$, $p = \\sigma({z:.1f}) = {prob:.4f}$ and "
            f"$L = -\\log p = {loss:.4f}$. The gradient is $(p - y)x = "
            f"({(prob - 1) * xv[0]:.4f}, {(prob - 1) * xv[1]:.4f})$ and $p - y = "
            f"{prob - 1:.4f}$. After the step the logit is "
            f"${(wv - (prob - 1) * xv) @ xv + bv - (prob - 1):.4f}$ and the loss "
            f"{-np.log(_sigmoid((wv - (prob - 1) * xv) @ xv + bv - (prob - 1))):.4f}.",
            source="Step 3, Probability & Statistics: coding project 'Logistic regression' "
            "(shared/seeds/004)",
        ),
        Exercise(
            prompt="Show that σ′(u) = σ(u)(1 − σ(u)) and use it to explain why the gradient "
            "of BCE is so simple.",
            solution="$\\sigma(u) = 1/(1 + e^{-u})$ gives $\\sigma' = e^{-u}/(1 + e^{-u})^2 = "
            "\\sigma(1 - \\sigma)$. Then $\\partial L/\\partial u = -y(1 - p) + (1 - y)p = "
            "p - y$: the slope of the sigmoid cancels the $1/p$ and $1/(1 - p)$ of the logs. "
            "A confident wrong prediction ($p \\to 0$ with $y = 1$) still has gradient "
            "$-1$, not a vanishing one.",
            source="Stage 01, Math Foundations: calculus and optimization (shared/seeds/001)",
        ),
        Exercise(
            prompt="Why compute log σ(u) as −log(1 + e⁻ᵘ) with a log-sum-exp, rather than "
            "as log of σ(u)? Try u = −800 in float64.",
            solution="$\\sigma(-800) = e^{-800}/(1 + e^{-800})$ underflows to 0, and "
            "$\\log 0 = -\\infty$. As $-\\log(e^{0} + e^{-u}) = -(800 + \\log(1 + e^{-800}))$ "
            "with the maximum taken out, it is $-800$, exact. The checks here evaluate BCE "
            "as two-class cross-entropy through the stable log-softmax for this reason.",
            source="Phase 3, Numerical Methods: floating point precision (shared/seeds/002)",
        ),
    )


def build() -> Derivation:
    slope = (
        Chain(sp.Derivative(p[0, 0], u[0, 0]), DEFINITIONS)
        .apply(rules.Definition((p,)), "σ(u) = 1/(1 + e⁻ᵘ).")
        .apply(rules.ChainRule(), "∂(v⁻¹) = −v⁻² ∂v.")
        .apply(rules.Linearity(), "The 1 is constant.")
        .apply(rules.ChainRule(), "∂e⁻ᵘ = e⁻ᵘ ∂(−u).")
        .apply(rules.Differentiate(), "∂(−u)/∂u = −1.")
        .apply(
            rules.Fold(_is_exp, lambda e: (1 - p[0, 0]) / p[0, 0]),
            "e⁻ᵘ = (1 − p)/p, since p = 1/(1 + e⁻ᵘ): σ′ = p(1 − p).",
        )
    )
    sigmoid_slope = slope.result("∂p/∂u", p[0, 0] * (1 - p[0, 0]), (0, 0))
    logit_gradient = (
        Chain(sp.Derivative(L, u[0, 0]), DEFINITIONS)
        .apply(rules.Definition((L,)), "Binary cross-entropy of the prediction p.")
        .apply(rules.Linearity(), "Term by term; the label y is a constant.")
        .apply(rules.ChainRule(), "∂ log v = (1/v) ∂v.")
        .apply(rules.Linearity(), "∂(1 − p) = −∂p.")
        .apply(
            rules.UseResult(sigmoid_slope.goal, sigmoid_slope.derived, "σ′ = σ(1 − σ)"),
            "σ′(u) = p(1 − p), derived above.",
        )
        .apply(rules.Algebra("cancel"), "p(1 − p) cancels 1/p and 1/(1 − p): p − y remains.")
    )
    error = logit_gradient.result("∂L/∂u", p - y, (0, 0))
    use_error = rules.UseResult(error.goal, error.derived, "∂L/∂u = p − y")

    grad_w = (
        Chain(sp.Derivative(L, w[j, 0]), DEFINITIONS)
        .apply(
            ChainRuleThroughScalar(u[0, 0]),
            "L depends on the weights only through the logit u.",
        )
        .apply(use_error, "∂L/∂u = p − y, derived above.")
        .apply(rules.Definition((u,)), "u = Σₖ wₖxₖ + b.")
        .apply(rules.Linearity(), "Only the terms with w remain.")
        .apply(rules.Differentiate(), "∂wₖ/∂wⱼ = δₖⱼ; b does not depend on w.")
        .apply(rules.CollapseDeltas(), "The delta keeps xⱼ.")
    )
    grad_b = (
        Chain(sp.Derivative(L, b[0, 0]), DEFINITIONS)
        .apply(ChainRuleThroughScalar(u[0, 0]), "Through the logit again.")
        .apply(use_error, "∂L/∂u = p − y.")
        .apply(rules.Definition((u,)), "u = Σₖ wₖxₖ + b.")
        .apply(rules.Linearity(), "Only b remains.")
        .apply(rules.Differentiate(), "∂b/∂b = 1: the bias gradient is the error itself.")
    )
    prob = Elementwise("sigmoid", w.T * x + b)
    results = (
        sigmoid_slope,
        error,
        grad_w.result("∂L/∂w", x * (p - y), (j, 0), w),
        grad_b.result("∂L/∂b", p - y, (0, 0), b),
    )
    return Derivation(
        slug="logistic-regression-gradient",
        title="Logistic regression gradient",
        summary=(
            "The gradient of binary cross-entropy for a logistic model: prediction minus "
            "label, times the input. The same pattern as softmax cross-entropy, with the "
            "sigmoid's slope cancelling the logs."
        ),
        conventions="Gradients, denominator layout: ∂L/∂w has the shape of w (d×1); b, y, "
        "u = wᵀx + b and p = σ(u) are 1×1. Natural logs. In the batch form rows of X (B×d) "
        "are examples and the loss is their mean.",
        variables=(
            ("x", "d×1 input"),
            ("w, b", "d×1 weights and the bias"),
            ("u", "the logit wᵀx + b"),
            ("p", "the predicted probability σ(u)"),
            ("y", "the label, 0 or 1 (any value in [0, 1] works)"),
        ),
        definitions=DEFINITIONS,
        results=results,
        cases=(_single_case(prob, results), _batch_case()),
        exercises=_exercises(),
    )


def _is_exp(e: sp.Basic) -> bool:
    return isinstance(e, sp.exp)


def _labels(rng, shape):
    return rng.integers(0, 2, shape).astype(float)


SIZES = ({d: 1}, {d: 2}, {d: 3})


def _single_case(prob, results) -> Case:
    logit = w.T * x + b
    return Case(
        name="one example",
        forward=bce_stable(logit, y),
        wrt=(w, b),
        gradients=(x * (prob - y), prob - y),
        samplers={x: numeric.logits(1.0), w: numeric.weights(), b: numeric.logits(0.5), y: _labels},
        sizes=SIZES,
        numeric_size={d: 5},
        results={w: results[2].label, b: results[3].label},
        names=(("u", logit), ("p", prob), ("du", prob - y)),
        identities=(
            ("BCE = two-class cross-entropy", bce_stable(logit, y), bce_sigmoid_form(logit, y)),
        ),
    )


B = sp.Symbol("B", integer=True, positive=True)
X, Y = sp.MatrixSymbol("X", B, d), sp.MatrixSymbol("Y", B, 1)


def _batch_case() -> Case:
    ones = sp.OneMatrix(B, 1)
    logits = X * w + ones * b
    probs = Elementwise("sigmoid", logits)
    return Case(
        name="batch mean",
        forward=ones.T * bce_stable(logits, Y) / B,
        wrt=(w, b),
        gradients=(X.T * (probs - Y) / B, ones.T * (probs - Y) / B),
        samplers={X: numeric.logits(1.0), w: numeric.weights(), b: numeric.logits(0.5), Y: _labels},
        sizes=({B: 2, d: 1}, {B: 2, d: 2}, {B: 3, d: 2}),
        numeric_size={B: 6, d: 4},
        names=(("u", logits), ("p", probs), ("du", probs - Y)),
    )
