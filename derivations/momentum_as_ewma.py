"""Momentum as an EWMA: vₜ = βvₜ₋₁ + gₜ = Σₖ βᵗ⁻ᵏ gₖ; step η/(1 − β) on a constant gradient.

Heavy-ball momentum keeps a running sum of past gradients, each older one discounted
by another factor β; (1 − β)vₜ is an exponentially weighted moving average. On a
constant gradient the recurrence solves to vₜ = g(1 − βᵗ)/(1 − β), whose fixed point
g/(1 − β) makes the effective learning rate η/(1 − β): ten times η at β = 0.9.

No numeric case: the results solve a recurrence; they are not gradients of an input.
SymPy's summation and substitution back into the recurrence read them, and the iteration
run in float64 checks them numerically.
"""

from __future__ import annotations

from functools import partial

import numpy as np
import sympy as sp

from workbench.core.derivation import Chain, Derivation, Exercise
from workbench.core.rules_stats import Recurrence, Solve, SolveRecurrence, Unroll

beta, g, eta = sp.symbols("beta g eta")
t = sp.Symbol("t", integer=True, positive=True)
k = sp.Symbol("k", integer=True)
grad = sp.Function("g")  # the gradient at step k, g(k), arbitrary
v_star = sp.Symbol("v_star")  # the fixed point of the recurrence
SCALAR = (0, 0)

v_general = Recurrence.of("v", lambda prev, step: beta * prev + grad(step), 0, t)
v_constant = Recurrence.of("v", lambda prev, step: beta * prev + g, 0, t)

UNROLLED = sp.Sum(beta ** (t - k) * grad(k), (k, 1, t))
CONSTANT = g * (1 - beta**t) / (1 - beta)
FIXED_POINT = g / (1 - beta)


def _exercises() -> tuple[Exercise, ...]:
    b, lr = 0.9, 0.1
    v10 = (1 - b**10) / (1 - b)
    return (
        Exercise(
            prompt="With η = 0.1 and β = 0.9, how far does one momentum step move, in the long "
            "run, on a constant gradient g = 1? How many steps until v reaches 90% of its "
            "limit?",
            solution=f"$v_t = (1 - 0.9^t)/(1 - 0.9)$, so the step $\\eta v_t$ tends to "
            f"$\\eta/(1 - \\beta) = {lr / (1 - b):.1f}$: ten times plain gradient descent's "
            f"$0.1$. After 10 steps $v_{{10}} = {v10:.4f}$; $0.9^t \\le 0.1$ needs "
            f"$t \\ge {int(np.ceil(np.log(0.1) / np.log(b)))}$ steps.",
            source="Phase 3, Optimization: momentum, learning rate schedules (shared/seeds/002)",
        ),
        Exercise(
            prompt="Run gradient descent with momentum on f(x) = (x − 3)² from x₀ = 0 with "
            "η = 0.1, β = 0.9 for 50 steps (vₜ = βvₜ₋₁ + f′(xₜ₋₁), xₜ = xₜ₋₁ − ηvₜ). Does it "
            "overshoot the minimum?",
            solution=f"Yes: $x$ passes 3 and oscillates, reaching {_overshoot():.4f} at its "
            "highest; without momentum the iterates $3 - 3 \\cdot 0.8^t$ approach 3 from "
            "below and never cross. Momentum keeps the velocity built up on the way down.",
            source="Stage 01, Math Foundations: exercise 'Gradient descent on a parabola' "
            "(shared/seeds/001)",
        ),
        Exercise(
            prompt="Show that (1 − β)vₜ is a weighted average of g₁, …, gₜ whose weights sum "
            "to 1 − βᵗ. What is the weight of a gradient 10 steps old at β = 0.9?",
            solution="The weights are $(1 - \\beta)\\beta^{t-k}$, and "
            "$\\sum_{k=1}^{t} (1 - \\beta)\\beta^{t-k} = 1 - \\beta^t$ (a geometric series). "
            f"A gradient 10 steps old weighs $0.1 \\cdot 0.9^{{10}} = {0.1 * b**10:.4f}$, about "
            f"{b**10:.0%} of the newest one's $0.1$.",
            source="Phase 3, Optimization: momentum (shared/seeds/002)",
        ),
    )


def _overshoot() -> float:
    x, v, top = 0.0, 0.0, 0.0
    for _ in range(50):
        v = 0.9 * v + 2 * (x - 3)
        x -= 0.1 * v
        top = max(top, x)
    return top


def build() -> Derivation:
    unrolled = Chain(v_general).apply(
        Unroll(), "A first-order linear recurrence: each gₖ is discounted by β once per step."
    )
    constant = Chain(v_constant).apply(
        SolveRecurrence(), "Constant gradient: SymPy's rsolve solves vₜ = βvₜ₋₁ + g, v₀ = 0."
    )
    fixed_point_condition = (v_star, beta * v_star + g)
    fixed = Chain(v_star).apply(
        Solve(fixed_point_condition, v_star),
        "Where v stops changing, v* = βv* + g: solve for v*.",
    )
    results = (
        unrolled.result("vₜ unrolled", UNROLLED, SCALAR),
        constant.result("vₜ for constant g", CONSTANT, SCALAR),
        fixed.result("fixed point v*", FIXED_POINT, SCALAR, assumptions=(fixed_point_condition,)),
    )
    return Derivation(
        slug="momentum-as-ewma",
        title="Momentum as an exponentially weighted average",
        summary=(
            "What the velocity of heavy-ball momentum is: a discounted sum of all past "
            "gradients. Solving its recurrence shows why momentum speeds up progress along "
            "a consistent gradient by 1/(1 − β)."
        ),
        conventions="vₜ = βvₜ₋₁ + gₜ with v₀ = 0 and xₜ = xₜ₋₁ − ηvₜ (the PyTorch form); "
        "0 ≤ β < 1; steps are counted from t = 1.",
        variables=(
            ("gₖ", "the gradient at step k"),
            ("vₜ", "the velocity after t steps"),
            ("β", "the momentum coefficient, 0 ≤ β < 1"),
            ("η", "the learning rate"),
        ),
        definitions={},
        results=results,
        cases=(),
        symbolic_checks=_symbolic_checks(*results),
        numeric_checks=_numeric_checks(*results),
        exercises=_exercises(),
        domain={"beta": (0.05, 0.95)},
    )


# ---------------------------------------------------------------- independent routes
# Every route reads the derived results it checks, so a wrong derivation cannot pass them.
def _symbolic_checks(unrolled, constant, fixed):
    def summed_series():
        """The derived unrolled sum with a constant gradient, summed by SymPy."""
        series = unrolled.derived.replace(grad, lambda step: g).doit()
        return series, constant.derived

    def recurrence_residual():
        """Substitute the constant-gradient solution back: vₜ − βvₜ₋₁ − g."""
        derived = constant.derived
        return derived - beta * derived.subs(t, t - 1) - g, sp.Integer(0)

    def fixed_point_limit():
        """The constant-gradient solution as t → ∞ (|β| < 1) against the derived v*."""
        return constant.derived.subs(beta**t, 0), fixed.derived

    return (
        ("constant g: SymPy's summation of the unrolled series", summed_series),
        ("constant g: the solution satisfies vₜ = βvₜ₋₁ + g", recurrence_residual),
        ("constant g: the solution starts at v₀ = 0", lambda: (constant.derived.subs(t, 0), 0)),
        ("constant g: the solution tends to v*", fixed_point_limit),
    )


def _numeric_checks(unrolled, constant, fixed):
    return (
        (
            "50 random gradients: iteration against the unrolled sum",
            partial(_simulate_unrolled, unrolled.derived),
        ),
        (
            "constant gradient: iteration against the solved recurrence",
            partial(_simulate_constant, constant.derived),
        ),
        (
            "constant gradient: the step tends to ηv* = ηg/(1 − β)",
            partial(_simulate_effective_step, fixed.derived),
        ),
    )


def _simulate_unrolled(unrolled, seed: int):
    """Run the iteration on 50 random gradients; compare with the derived Σ βᵗ⁻ᵏ gₖ."""
    rng = np.random.default_rng(seed)
    b, gradients = rng.uniform(0.5, 0.99), rng.standard_normal(50)
    v = 0.0
    for gk in gradients:
        v = b * v + gk
    table = sp.Lambda(
        k,
        sp.Piecewise(*[(float(gk), sp.Eq(k, i + 1)) for i, gk in enumerate(gradients)], (0, True)),
    )
    derived = unrolled.replace(grad, table).subs({beta: b, t: len(gradients)}).doit()
    return v, float(derived), 1e-12


def _simulate_constant(constant, seed: int):
    """Run the iteration on a constant gradient; compare every vₜ with g(1 − βᵗ)/(1 − β)."""
    rng = np.random.default_rng(seed)
    b, gk = rng.uniform(0.5, 0.99), rng.standard_normal()
    closed = sp.lambdify((beta, g, t), constant, "numpy")
    v, simulated = 0.0, []
    for _ in range(30):
        v = b * v + gk
        simulated.append(v)
    return simulated, closed(b, gk, np.arange(1, 31)), 1e-12


def _simulate_effective_step(fixed, seed: int):
    """Heavy ball on a constant gradient for 2000 steps: the last step is η times the
    derived fixed point v* = g/(1 − β)."""
    rng = np.random.default_rng(seed)
    b, gk, lr = rng.uniform(0.5, 0.95), rng.standard_normal(), rng.uniform(0.01, 0.1)
    x, v = 0.0, 0.0
    for _ in range(2000):
        v = b * v + gk
        x_before, x = x, x - lr * v
    return x_before - x, lr * float(fixed.subs({beta: b, g: gk})), 1e-12
