"""Layer norm backward: ∂L/∂x = (1/√(σ² + ε))(g − mean(g) − x̂·mean(g ∘ x̂)), with g = γ ∘ ∂L/∂y.

Layer norm y = γ ∘ x̂ + β with x̂ = (x − μ)/√(σ² + ε) normalises the n features of
one example. Every output depends on every input through μ and σ², so the backward
pass is not elementwise: it removes from the incoming gradient its mean and its
component along x̂. Derived at general n from ∂μ/∂xⱼ, ∂σ²/∂xⱼ and ∂x̂ᵢ/∂xⱼ; checked
with γ and β, and for batch norm, the same map over the batch axis.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from workbench.codegen import numeric
from workbench.core import rules
from workbench.core.derivation import Case, Chain, Derivation, Exercise
from workbench.core.functions import Elementwise

n = sp.Symbol("n", integer=True, positive=True)
i, j, k = sp.symbols("i j k", integer=True)
x, G = sp.MatrixSymbol("x", n, 1), sp.MatrixSymbol("G", n, 1)  # input; upstream ∂L/∂y
gamma, beta = sp.MatrixSymbol("gamma", n, 1), sp.MatrixSymbol("beta", n, 1)
xhat, y = sp.MatrixSymbol("xhat", n, 1), sp.MatrixSymbol("y", n, 1)
mu, var, L = sp.symbols("mu sigma_sq L")  # σ², printed as a square, not σ₂
eps = sp.Symbol("epsilon", positive=True)
EPSILON = sp.Rational(1, 10**5)  # the usual default, in every numeric check

DEFINITIONS = {
    mu: sp.Sum(x[k, 0], (k, 0, n - 1)) / n,
    var: sp.Sum((x[k, 0] - mu) ** 2, (k, 0, n - 1)) / n,
    xhat: (x - mu * sp.OneMatrix(n, 1)) / sp.sqrt(var + eps),
    y: sp.HadamardProduct(gamma, xhat) + beta,
    # L = Σ Gₖyₖ with G held fixed has ∂L/∂y = G: its gradient is the backward map (VJP).
    L: sp.Sum(G[k, 0] * y[k, 0], (k, 0, n - 1)),
}
ONES = sp.OneMatrix(n, 1)
UPSTREAM = sp.HadamardProduct(gamma, G)  # g = ∂L/∂x̂
CLOSED_FORM = (
    UPSTREAM - ONES * (ONES.T * UPSTREAM) / n - xhat * (xhat.T * UPSTREAM) / n
) / sp.sqrt(var + eps)


def _exercises() -> tuple[Exercise, ...]:
    xs, up = np.array([1.0, 2.0, 3.0, 6.0]), np.array([1.0, 0.0, 0.0, 0.0])
    normalised, grad = _layer_norm(xs), _backward(xs, up)
    return (
        Exercise(
            prompt="Normalise x = (1, 2, 3, 6) with layer norm (γ = 1, β = 0, ε = 10⁻⁵). Then "
            "backpropagate the upstream gradient G = (1, 0, 0, 0).",
            solution=f"$\\mu = 3$, $\\sigma^2 = 3.5$, so $\\hat x = "
            f"({', '.join(f'{v:.4f}' for v in normalised)})$. With $g = G$: mean$(g) = 0.25$ "
            f"and mean$(g \\circ \\hat x) = {normalised[0] / 4:.4f}$, so $\\partial L/\\partial "
            f"x = ({', '.join(f'{v:.4f}' for v in grad)})$. Its entries sum to zero and it is "
            "orthogonal to $\\hat x$: shifting or scaling $x$ does not change $\\hat x$.",
            source="Step 6, Numerical Methods: coding project 'batch normalization' "
            "(shared/seeds/004)",
        ),
        Exercise(
            prompt="Show that ∂L/∂x always sums to zero and is orthogonal to x̂. Why must it be?",
            solution="$\\sum_j (g_j - \\bar g - \\hat x_j \\overline{g\\hat x}) = n\\bar g - "
            "n\\bar g - \\overline{g\\hat x}\\sum_j \\hat x_j = 0$ because $\\sum_j \\hat x_j = "
            "0$; and $\\sum_j \\hat x_j(\\ldots) = n\\overline{g\\hat x} - 0 - "
            "\\overline{g\\hat x}\\sum_j \\hat x_j^2 = 0$ when $\\sum \\hat x_j^2 = n$ (ε → 0). "
            "Adding a constant to x, or scaling it, leaves x̂ unchanged, so the loss cannot "
            "change along those directions.",
            source="Phase 3, Vector calculus: gradients, Jacobians (shared/seeds/003)",
        ),
        Exercise(
            prompt="What does ε do when all inputs are equal, x = (2, 2, 2)?",
            solution="Then $\\sigma^2 = 0$ and without ε the normalisation divides 0 by 0. "
            "With ε, $\\hat x = 0$ and the gradient is $(g - \\bar g)/\\sqrt{\\varepsilon}$: "
            f"finite, though large (factor $1/\\sqrt{{10^{{-5}}}} = {1 / np.sqrt(1e-5):.1f}$).",
            source="Phase 3, Numerical Methods: floating point precision (shared/seeds/002)",
        ),
    )


def _layer_norm(xs, epsilon=1e-5):
    return (xs - xs.mean()) / np.sqrt(xs.var() + epsilon)


def _backward(xs, upstream, epsilon=1e-5):
    normalised = _layer_norm(xs, epsilon)
    centred = upstream - upstream.mean() - normalised * np.mean(upstream * normalised)
    return centred / np.sqrt(xs.var() + epsilon)


def _deviation(e: sp.Basic) -> bool:
    """xₐ − μ, which the normalised x̂ₐ stands for."""
    return isinstance(e, sp.Add) and e.has(mu) and len(e.args) == 2 and -mu in e.args


def _as_normalised(e: sp.Basic) -> sp.Basic:
    element = next(a for a in e.args if a != -mu)
    return xhat[element.i, 0] * sp.sqrt(var + eps)


def _is_sum_of_inputs(e: sp.Basic) -> bool:
    return isinstance(e, sp.Sum) and getattr(e.function, "parent", None) == x


def build() -> Derivation:
    mean = (
        Chain(sp.Derivative(mu, x[j, 0]), DEFINITIONS)
        .apply(rules.Definition((mu,)), "The mean of the n features.")
        .apply(rules.Linearity(), "Into the sum.")
        .apply(rules.Differentiate(), "∂xₖ/∂xⱼ = δₖⱼ.")
        .apply(rules.CollapseDeltas(), "One term survives.")
    )
    mean_result = mean.result("∂μ/∂xⱼ", sp.OneMatrix(n, 1) / n, (j, 0))
    use_mean = rules.UseResult(mean_result.goal, mean_result.derived, "∂μ/∂xⱼ = 1/n")

    variance = (
        Chain(sp.Derivative(var, x[j, 0]), DEFINITIONS)
        .apply(rules.Definition((var,)), "The (biased) variance of the features.")
        .apply(rules.Linearity(), "Into the sum.")
        .apply(rules.ChainRule(), "∂u² = 2u ∂u.")
        .apply(rules.Linearity(), "∂(xₖ − μ) = ∂xₖ − ∂μ: μ depends on xⱼ too.")
        .apply(use_mean, "∂μ/∂xⱼ = 1/n, derived above.")
        .apply(rules.Differentiate(), "∂xₖ/∂xⱼ = δₖⱼ.")
        .apply(rules.CollapseDeltas(), "The delta keeps k = j.")
        .apply(
            rules.Fold(_is_sum_of_inputs, lambda e: n * mu, free_only=False),
            "Σₖ xₖ = nμ: the deviations from the mean sum to zero.",
        )
    )
    variance_result = variance.result(
        "∂σ²/∂xⱼ", sp.MatMul(2 / n, x - mu * sp.OneMatrix(n, 1)), (j, 0)
    )
    use_variance = rules.UseResult(
        variance_result.goal, variance_result.derived, "∂σ²/∂xⱼ = 2(xⱼ − μ)/n"
    )

    normalised = (
        Chain(sp.Derivative(xhat[i, 0], x[j, 0]), DEFINITIONS)
        .apply(rules.Definition((xhat,)), "x̂ᵢ = (xᵢ − μ)/√(σ² + ε).")
        .apply(rules.ProductRule(), "A product of the deviation and the scale.")
        .apply(rules.ChainRule(), "∂(1/√u) = −∂u/(2u√u).")
        .apply(rules.Linearity(), "ε is a constant; ∂(xᵢ − μ) = ∂xᵢ − ∂μ.")
        .apply(use_mean, "∂μ/∂xⱼ = 1/n.")
        .apply(use_variance, "∂σ²/∂xⱼ = 2(xⱼ − μ)/n.")
        .apply(rules.Differentiate(), "∂xᵢ/∂xⱼ = δᵢⱼ.")
        .apply(
            rules.Fold(_deviation, _as_normalised),
            "xᵢ − μ = x̂ᵢ √(σ² + ε), and the same for j: write the result in x̂.",
        )
    )
    ones = sp.OneMatrix(n, 1)
    jacobian = (sp.Identity(n) - ones * ones.T / n - xhat * xhat.T / n) / sp.sqrt(var + eps)
    normalised_result = normalised.result("∂x̂ᵢ/∂xⱼ", jacobian, (i, j))

    backward = (
        Chain(sp.Derivative(L, x[j, 0]), DEFINITIONS)
        .apply(rules.Definition((L,)), "L = Σₖ Gₖyₖ: G is the gradient arriving from above.")
        .apply(rules.Linearity(), "G is held fixed.")
        .apply(rules.Definition((y,)), "yₖ = γₖx̂ₖ + βₖ.")
        .apply(rules.Linearity(), "γ and β do not depend on x.")
        .apply(
            rules.UseResult(normalised_result.goal, normalised_result.derived, "∂x̂ᵢ/∂xⱼ"),
            "The Jacobian of the normalisation, derived above.",
        )
        .apply(rules.SplitSums(), "Split the sum into its three terms.")
        .apply(rules.CollapseDeltas(), "The delta keeps k = j: gⱼ = γⱼGⱼ.")
    )
    backward_result = backward.result("∂L/∂xⱼ", CLOSED_FORM, (j, 0), x)

    results = (mean_result, variance_result, normalised_result, backward_result)
    return Derivation(
        slug="layernorm-backward",
        title="Layer norm backward",
        summary=(
            "The backward pass of layer normalisation: because the mean and variance are "
            "computed from the inputs, the gradient is the incoming one with its mean and "
            "its component along x̂ removed, rescaled by 1/√(σ² + ε)."
        ),
        conventions="Gradients, denominator layout: ∂L/∂x has the shape of x (n×1). G is "
        "the upstream gradient ∂L/∂y and g = γ ∘ G; mean(v) = 1ᵀv/n. σ² is the biased "
        "variance (1/n). In batch norm the rows of X (B×n) are examples and each column is "
        "normalised over the batch.",
        variables=(
            ("x", "n×1 features of one example"),
            ("μ, σ²", "their mean and (1/n) variance"),
            ("ε", "a small constant that keeps the division finite (10⁻⁵ in the checks)"),
            ("x̂", "n×1 normalised features (x − μ)/√(σ² + ε)"),
            ("γ, β", "n×1 learned scale and shift; y = γ ∘ x̂ + β"),
            ("G", "n×1 upstream gradient ∂L/∂y"),
        ),
        definitions=DEFINITIONS,
        results=results,
        cases=(_layer_case(backward_result.label), _batch_case()),
        exercises=_exercises(),
        domain={"epsilon": (0.5, 2.0)},
    )


# ---------------------------------------------------------------- numeric cases
def _rsqrt(m):
    """u^(−1/2) entrywise, as exp(−(1/2) log u): u ≥ ε > 0, and analytic for the complex step."""
    return Elementwise("exp", Elementwise("log", m) * sp.Rational(-1, 2))


def _normalise_columns(X, rows):
    """Each column of X (rows × cols) centred and scaled by its own 1/√(σ² + ε)."""
    ones = sp.OneMatrix(rows, 1)
    centred = X - ones * ones.T * X / rows
    scale = ones * _inverse_std(centred, rows)
    return centred, scale, sp.HadamardProduct(centred, scale)


def _variances(centred, rows):
    return sp.OneMatrix(1, rows) * Elementwise("square", centred) / rows  # 1 × cols


def _inverse_std(centred, rows):
    """1/√(σ² + ε) of each column, 1 × cols."""
    variances = _variances(centred, rows)
    return _rsqrt(variances + EPSILON * sp.OneMatrix(*variances.shape))


def _code_names(X, rows, upstream) -> tuple:
    """The generated code's names: x − μ, σ², 1/√(σ² + ε), x̂ and ∂L/∂x̂."""
    centred, _, normalised = _normalise_columns(X, rows)
    return (
        ("xc", centred),
        ("var", _variances(centred, rows)),
        ("inv_std", _inverse_std(centred, rows)),
        ("xhat", normalised),
        ("dxhat", upstream),
    )


def _backward_columns(X, upstream, rows):
    """The closed form, column by column: scale ∘ (g − mean(g) − x̂ ∘ mean(g ∘ x̂))."""
    ones = sp.OneMatrix(rows, 1)
    _, scale, normalised = _normalise_columns(X, rows)
    mean_g = ones * ones.T * upstream / rows
    mean_gx = ones * ones.T * sp.HadamardProduct(upstream, normalised) / rows
    return sp.HadamardProduct(scale, upstream - mean_g - sp.HadamardProduct(normalised, mean_gx))


def _layer_case(label: str) -> Case:
    _, _, normalised = _normalise_columns(x, n)
    forward = G.T * (sp.HadamardProduct(gamma, normalised) + beta)
    return Case(
        name="layer norm (γ, β)",
        forward=forward,
        wrt=(x, gamma, beta),
        gradients=(
            _backward_columns(x, sp.HadamardProduct(gamma, G), n),
            sp.HadamardProduct(G, normalised),
            G,
        ),
        samplers={
            x: numeric.logits(1.0),
            G: numeric.logits(1.0),
            gamma: lambda rng, shape: 1 + 0.1 * rng.standard_normal(shape),
            beta: numeric.logits(0.1),
        },
        sizes=({n: 2}, {n: 3}, {n: 4}),
        numeric_size={n: 6},
        results={x: label},
        substitutions={eps: EPSILON},
        names=_code_names(x, n, sp.HadamardProduct(gamma, G)),
    )


B, m = sp.symbols("B m", integer=True, positive=True)
X, GB = sp.MatrixSymbol("X", B, m), sp.MatrixSymbol("G_B", B, m)
gamma_b, beta_b = sp.MatrixSymbol("gamma_B", 1, m), sp.MatrixSymbol("beta_B", 1, m)


def _batch_case() -> Case:
    ones = sp.OneMatrix(B, 1)
    _, _, normalised = _normalise_columns(X, B)
    scaled = sp.HadamardProduct(ones * gamma_b, normalised) + ones * beta_b
    forward = ones.T * sp.HadamardProduct(GB, scaled) * sp.OneMatrix(m, 1)
    return Case(
        name="batch norm (over the batch axis)",
        forward=forward,
        wrt=(X, gamma_b, beta_b),
        gradients=(
            _backward_columns(X, sp.HadamardProduct(ones * gamma_b, GB), B),
            ones.T * sp.HadamardProduct(GB, normalised),
            ones.T * GB,
        ),
        samplers={
            X: numeric.logits(1.0),
            GB: numeric.logits(1.0),
            gamma_b: lambda rng, shape: 1 + 0.1 * rng.standard_normal(shape),
            beta_b: numeric.logits(0.1),
        },
        sizes=({B: 2, m: 1}, {B: 3, m: 1}, {B: 2, m: 2}),
        numeric_size={B: 5, m: 3},
        names=_code_names(X, B, sp.HadamardProduct(ones * gamma_b, GB)),
    )
