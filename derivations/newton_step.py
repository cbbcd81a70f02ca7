"""Newton step: the quadratic model f + gᵀh + ½hᵀH h has gradient g + H h, minimised at h = −H⁻¹g.

Newton's method replaces f near x by its second-order Taylor model and jumps to the
model's minimum. The model's gradient is derived entry by entry at general n (H is
symmetric, as every Hessian of a twice continuously differentiable f is); written as
H(h − h*) it vanishes exactly at h* = −H⁻¹g, a minimum when H is positive definite. On a
quadratic, one step lands on the minimiser; near a minimum, the error squares each step.
"""

from __future__ import annotations

import dataclasses
from functools import partial

import numpy as np
import sympy as sp
from sympy.matrices.expressions.matexpr import MatrixElement

from workbench.checks.concrete import derived_at_random_inputs
from workbench.codegen import numeric
from workbench.core import rules
from workbench.core.derivation import Case, Chain, Derivation, Exercise
from workbench.core.rules_extra import SolveLinear

n = sp.Symbol("n", integer=True, positive=True)
j = sp.Symbol("j", integer=True)
k, l = sp.symbols("k l", integer=True)

g = sp.MatrixSymbol("g", n, 1)  # the gradient of f at x
h = sp.MatrixSymbol("h", n, 1)  # the step
H = sp.MatrixSymbol("H", n, n)  # the Hessian of f at x
A = sp.MatrixSymbol("A", n, n)  # any square matrix; H = (A + Aᵀ)/2 is symmetric
f, m = sp.symbols("f m")  # f(x) and the model m(h) ≈ f(x + h)

DEFINITIONS = {
    H: (A + A.T) / 2,
    m: f
    + sp.Sum(g[k, 0] * h[k, 0], (k, 0, n - 1))
    + sp.Sum(h[k, 0] * H[k, l] * h[l, 0], (k, 0, n - 1), (l, 0, n - 1)) / 2,
}
MODEL_GRADIENT = g + H * h
NEWTON_STEP = -sp.Inverse(H) * g


def is_transposed_hessian_entry(e: sp.Basic) -> bool:
    """H[k, j] with j the free index: the entry to flip by symmetry."""
    return isinstance(e, MatrixElement) and e.parent == H and e.j == j


def exercises() -> tuple[Exercise, ...]:
    iterates = [0.0]
    for _ in range(5):  # f(x) = eˣ − 2x: f′ = eˣ − 2, f″ = eˣ
        iterates.append(iterates[-1] - (np.exp(iterates[-1]) - 2) / np.exp(iterates[-1]))
    errors = [abs(v - np.log(2.0)) for v in iterates]
    return (
        Exercise(
            prompt="Take one Newton step on f(x) = (x − 3)² from x = 0. Compare with the 50 "
            "gradient-descent steps of the seed exercise (η = 0.1).",
            solution="$f'(0) = -6$ and $f'' = 2$, so $h = -f'/f'' = 3$ and $x_1 = 3$: the "
            "minimum, in one step, because the quadratic model of a quadratic is exact. "
            "Gradient descent with $\\eta = 0.1$ is at $3 - 3 \\cdot 0.8^{50} = 2.99995718$ "
            "after 50 steps; Newton's step is gradient descent with the ideal step size "
            "$1/f''$, which for this $f$ is $\\eta = 0.5$.",
            source="Stage 01, Math Foundations: exercise 'Gradient descent on a parabola' "
            "(shared/seeds/001)",
        ),
        Exercise(
            prompt="Run Newton's method on f(x) = eˣ − 2x from x = 0 and watch the error "
            "|xₖ − log 2|. How does it shrink?",
            solution="The iterates are "
            f"{', '.join(f'{v:.6f}' for v in iterates[:5])}, and the errors "
            f"{', '.join(f'{e:.1e}' for e in errors[:5])}: once close, each error is about "
            "a constant times the square of the previous one (quadratic convergence), so "
            "the number of correct digits doubles each step.",
            source="Phase 1, Calculus: Taylor series; Phase 3, Optimization (shared/seeds/002)",
        ),
        Exercise(
            prompt="Show that at h* = −H⁻¹g the model predicts the decrease f − m(h*) = ½gᵀH⁻¹g. "
            "What goes wrong when H is not positive definite?",
            solution="$m(h^*) = f - g^{\\top}H^{-1}g + \\tfrac12 g^{\\top}H^{-1}HH^{-1}g = f - "
            "\\tfrac12 g^{\\top}H^{-1}g$, using $H^{\\top} = H$. If $H$ is positive definite "
            "this is a decrease and $h^*$ the model's minimum. If $H$ has a negative "
            "eigenvalue, $h^*$ is a saddle or maximum of the model and the step can go "
            "uphill, which is why deep-learning optimisers use damped or diagonal "
            "approximations ($H + \\lambda I$, Adam's $\\sqrt{\\hat v}$) instead.",
            source="Phase 3, Optimization: convex vs non-convex, saddle points (shared/seeds/002)",
        ),
    )


# ---------------------------------------------------------------- independent routes
def sympy_taylor_model():
    """The model is the second-order Taylor polynomial: SymPy's series of f(x + t·v) in t,
    for a concrete f of two variables, against f + t·∇fᵀv + ½t²·vᵀ(∇²f)v."""
    x0, x1, v0, v1, step = sp.symbols("x0 x1 v0 v1 t")
    point, direction = sp.Matrix([x0, x1]), sp.Matrix([v0, v1])
    fun = sp.exp(x0) * x1 + x0**2 * x1**3
    moved = fun.subs({x0: x0 + step * v0, x1: x1 + step * v1}, simultaneous=True)
    series = sp.series(moved, step, 0, 3).removeO()
    gradient = sp.Matrix([sp.diff(fun, z) for z in point])
    model = (
        fun
        + step * (gradient.T * direction)[0]
        + step**2 / 2 * (direction.T * sp.hessian(fun, point) * direction)[0]
    )
    return sp.expand(series), sp.expand(model)


def sympy_solve_stationary():
    """SymPy's solve of g + Hh = 0 at n = 2 (H symmetric) against −H⁻¹g."""
    h0, h1, g0, g1, a, b, c = sp.symbols("h0 h1 g0 g1 a b c")
    hessian = sp.Matrix([[a, b], [b, c]])
    condition = sp.Matrix([g0, g1]) + hessian * sp.Matrix([h0, h1])
    solution = sp.solve(list(condition), [h0, h1], dict=True)[0]
    return sp.Matrix([solution[h0], solution[h1]]), -hessian.inv() * sp.Matrix([g0, g1])


def numeric_one_step_on_a_quadratic(seed: int):
    """f(x) = ½xᵀQx + bᵀx with Q positive definite: one Newton step from a random x lands
    on the minimiser −Q⁻¹b (cond(Q) ≤ ~10, so float64 error ~1e-14)."""
    rng = np.random.default_rng(seed)
    factor = rng.standard_normal((6, 6))
    curvature = factor @ factor.T / 6 + np.eye(6)
    linear, start = rng.standard_normal(6), rng.standard_normal(6)
    gradient = curvature @ start + linear
    step = start - np.linalg.solve(curvature, gradient)
    return step, -np.linalg.solve(curvature, linear), 1e-10


def numeric_quadratic_convergence(seed: int):
    """f(x) = Σ(eˣⁱ − cᵢxᵢ) has minimiser log c; six Newton steps from 0 reach it to
    float64 accuracy (the error squares each step: 1e-1, 1e-2, 1e-4, 1e-8, 1e-16)."""
    rng = np.random.default_rng(seed)
    targets = rng.uniform(0.5, 2.0, 5)
    x = np.zeros(5)
    for _ in range(6):
        gradient, curvature = np.exp(x) - targets, np.exp(x)  # the Hessian is diagonal
        x = x - gradient / curvature
    return x, np.log(targets), 1e-12


def build() -> Derivation:
    model_gradient = (
        Chain(sp.Derivative(m, h[j, 0]), DEFINITIONS)
        .apply(rules.Definition((m,)), "m(h) = f + Σₖ gₖhₖ + ½ Σₖ Σₗ hₖ Hₖₗ hₗ.")
        .apply(rules.Linearity(), "f, g and H do not depend on the step h.")
        .apply(rules.ProductRule(), "h appears twice in the quadratic term.")
        .apply(rules.Differentiate(), "∂hₖ/∂hⱼ = δₖⱼ.")
        .apply(rules.CollapseDeltas(), "The deltas leave ½(H h)ⱼ + ½(Hᵀh)ⱼ.")
        .apply(
            rules.Rewrite(is_transposed_hessian_entry, lambda e: H[e.j, e.i]),
            "A Hessian is symmetric, Hₖⱼ = Hⱼₖ: the two halves are equal.",
        )
    )
    gradient_result = model_gradient.result("∂m/∂hⱼ", MODEL_GRADIENT, (j, 0), h)
    stationary = Chain(MatrixElement(MODEL_GRADIENT, j, 0), DEFINITIONS).apply(
        SolveLinear(h),
        "Affine in h: H(h − h*), zero exactly at h* = −H⁻¹g when H is invertible; a "
        "minimum of the model when H is positive definite.",
    )
    factored = MatrixElement(H * (h - NEWTON_STEP), j, 0)
    case = Case(
        name="quadratic model",
        forward=g.T * h + h.T * ((A + A.T) / 2) * h / 2,
        wrt=(h,),
        gradients=(g + ((A + A.T) / 2) * h,),
        samplers={g: numeric.logits(), h: numeric.logits(), A: numeric.weights()},
        sizes=({n: 2}, {n: 3}, {n: 4}),
        numeric_size={n: 6},
        results={h: gradient_result.label},
        names=(("H", (A + A.T) / 2),),
    )
    derivation = Derivation(
        slug="newton-step",
        title="The Newton step",
        summary=(
            "Where the second-order Taylor model of a loss has its minimum: the Newton step "
            "−H⁻¹g. It explains one-step convergence on quadratics, quadratic convergence "
            "near a minimum, and why curvature-aware optimisers rescale the gradient."
        ),
        conventions="Gradients, denominator layout (n×1). g = ∇f(x) and H = ∇²f(x) at the "
        "current point; H is symmetric, written H = (A + Aᵀ)/2 for a square A.",
        variables=(
            ("f", "the loss at the current point x"),
            ("g", "n×1 gradient of the loss at x"),
            ("H", "n×n Hessian at x (symmetric)"),
            ("h", "n×1 step; m(h) ≈ f(x + h) is the quadratic model"),
        ),
        definitions=DEFINITIONS,
        results=(
            gradient_result,
            stationary.result(
                "∂m/∂h = H(h − h*), h* = −H⁻¹g",
                factored,
                (j, 0),
                h,
                assumptions=(SolveLinear.invertible(H),),
            ),
        ),
        cases=(case,),
        symbolic_checks=(
            ("the model is SymPy's second-order series of f(x + tv)", sympy_taylor_model),
            ("SymPy's solve of g + Hh = 0, n = 2", sympy_solve_stationary),
        ),
        numeric_checks=(
            (
                "one Newton step on a random quadratic lands on its minimiser",
                numeric_one_step_on_a_quadratic,
            ),
            ("six Newton steps on Σ(eˣ − c·x) reach log c", numeric_quadratic_convergence),
        ),
        exercises=exercises(),
    )
    # A route that reads the solved form, so a wrong h* cannot pass.
    solved = derivation.results[1]
    route = partial(derived_at_random_inputs, solved, case, DEFINITIONS)
    return dataclasses.replace(
        derivation,
        numeric_checks=(
            *derivation.numeric_checks,
            ("the derived H(h − h*) against H h + g at random inputs", route),
        ),
    )
