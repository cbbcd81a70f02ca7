"""Adam bias correction: E[mₜ] = (1 − β₁ᵗ)E[g], so m̂ₜ = mₜ/(1 − β₁ᵗ) is unbiased; likewise v̂ₜ.

Adam's moment estimates start at zero, mₜ = β₁mₜ₋₁ + (1 − β₁)gₜ and
vₜ = β₂vₜ₋₁ + (1 − β₂)gₜ², so early on they are shrunk towards zero. For gradients
with a stationary mean, taking expectations turns each recurrence into one for its
mean; unrolled, it is (1 − β₁) times a geometric sum of β₁ᵏ, which adds up to
(1 − β₁ᵗ)/(1 − β₁): E[mₜ] = (1 − β₁ᵗ)E[g]. Dividing by 1 − β₁ᵗ (and
1 − β₂ᵗ for v) removes the bias exactly.

No numeric case: the results are expectations under a recurrence, not gradients of an
input. SymPy's summation and substitution into the recurrence of the means read them,
and 20 000 simulated runs check them numerically.
"""

from __future__ import annotations

from functools import partial

import numpy as np
import sympy as sp

from workbench.core.derivation import Chain, Derivation, Exercise
from workbench.core.rules_stats import (
    GeometricSum,
    PullOutConstants,
    Recurrence,
    TakeExpectation,
    Unroll,
    expectation,
)

beta1, beta2, gamma, s = sp.symbols("beta1 beta2 gamma s")
t = sp.Symbol("t", integer=True, positive=True)
k = sp.Symbol("k", integer=True)
grad, grad_sq = sp.Function("g"), sp.Function("u")  # gₖ and uₖ = gₖ²
SCALAR = (0, 0)


def moment(name: str, beta, sequence) -> Recurrence:
    """x_t = βx_{t−1} + (1 − β)·sequence(t), x_0 = 0: Adam's m (sequence g) or v (g²)."""
    return Recurrence.of(name, lambda prev, step: beta * prev + (1 - beta) * sequence(step), 0, t)


m, v = moment("m", beta1, grad), moment("v", beta2, grad_sq)
UNROLLED_M = (1 - beta1) * sp.Sum(beta1 ** (t - k) * grad(k), (k, 1, t))
MEAN_M = (1 - beta1**t) * gamma
MEAN_V = (1 - beta2**t) * s


def _mean_chain(recurrence, sequence: str, mean, mean_name: str, beta: str):
    """E[x_t]: take expectations of the recurrence, unroll it, sum the geometric series."""
    name = recurrence.name
    bar = name + "\u0304"  # m̄, as the steps print the mean
    return (
        Chain(expectation(recurrence, sequence, mean))
        .apply(
            TakeExpectation(),
            f"E[{sequence}] = {mean_name} at every step: the mean {bar}ₜ = E[{name}ₜ] obeys "
            "the same recurrence with the gradient replaced by its mean.",
        )
        .apply(
            Unroll(),
            f"Unrolled from {bar}₀ = 0: step k adds (1 − {beta}){mean_name}, discounted "
            f"t − k times by {beta}.",
        )
        .apply(
            GeometricSum(),
            f"1 + {beta} + … + {beta}ᵗ⁻¹ = (1 − {beta}ᵗ)/(1 − {beta}); the 1 − {beta} "
            f"cancels: a fraction 1 − {beta}ᵗ of the mean.",
        )
    )


def _corrected_chain(recurrence, sequence: str, mean, bias):
    """E[x̂_t] = E[x_t/(1 − βᵗ)] = mean."""
    return (
        Chain(expectation(recurrence / bias, sequence, mean))
        .apply(PullOutConstants(), "1 − βᵗ is a number, not random: it leaves the expectation.")
        .apply(TakeExpectation(), "The expectation obeys the recurrence with the mean plugged in.")
        .apply(Unroll(), "Unrolled from 0, as above.")
        .apply(GeometricSum(), "The geometric sum, as above: 1 − βᵗ cancels, no bias is left.")
    )


def _exercises() -> tuple[Exercise, ...]:
    b1, b2, g1 = 0.9, 0.999, 0.5
    m1, v1 = (1 - b1) * g1, (1 - b2) * g1**2
    return (
        Exercise(
            prompt="Adam with β₁ = 0.9, β₂ = 0.999 sees a first gradient g₁ = 0.5. Compute m₁, "
            "v₁, the corrected m̂₁, v̂₁, and the update direction m/√v with and without the "
            "correction.",
            solution=f"$m_1 = 0.1 \\cdot 0.5 = {m1:.4f}$ and $v_1 = 0.001 \\cdot 0.25 = {v1:.6f}$. "
            f"Corrected: $\\hat m_1 = {m1 / (1 - b1):.4f}$ and $\\hat v_1 = {v1 / (1 - b2):.4f}$, "
            f"so $\\hat m_1/\\sqrt{{\\hat v_1}} = {m1 / (1 - b1) / np.sqrt(v1 / (1 - b2)):.4f}$. "
            f"Uncorrected $m_1/\\sqrt{{v_1}} = {m1 / np.sqrt(v1):.4f}$: the first steps would be "
            "about three times too large, because $v$ is biased towards 0 far more than $m$.",
            source="Phase 3, Optimization: gradient descent, SGD, Adam, RMSProp (shared/seeds/002)",
        ),
        Exercise(
            prompt="How large is the bias factor 1 − β₁ᵗ after t = 1, 10 and 100 steps for "
            "β₁ = 0.9, and 1 − β₂ᵗ for β₂ = 0.999? When can the correction be dropped?",
            solution="$1 - 0.9^t$: "
            + ", ".join(f"{1 - b1**n:.4f}" for n in (1, 10, 100))
            + "; $1 - 0.999^t$: "
            + ", ".join(f"{1 - b2**n:.4f}" for n in (1, 10, 100))
            + ". The first moment is nearly unbiased after a few dozen steps; the second "
            "needs thousands ($0.999^{t} \\le 0.01$ only once $t \\ge "
            f"{int(np.ceil(np.log(0.01) / np.log(b2)))}$).",
            source="Phase 3, Optimization Methods: gradient descent, Adam (shared/seeds/003)",
        ),
    )


def build() -> Derivation:
    unrolled = Chain(m).apply(
        Unroll(),
        "A first-order linear recurrence from m₀ = 0: gₖ is discounted t − k times; "
        "the constant 1 − β₁ stands outside the sum.",
    )
    bias_m, bias_v = 1 - beta1**t, 1 - beta2**t
    results = (
        unrolled.result("mₜ unrolled", UNROLLED_M, SCALAR),
        _mean_chain(m, "g", gamma, "γ", "β₁").result("E[mₜ]", MEAN_M, SCALAR),
        _mean_chain(v, "u", s, "s", "β₂").result("E[vₜ]", MEAN_V, SCALAR),
        _corrected_chain(m, "g", gamma, bias_m).result("E[m̂ₜ]", gamma, SCALAR),
        _corrected_chain(v, "u", s, bias_v).result("E[v̂ₜ]", s, SCALAR),
    )
    return Derivation(
        slug="adam-bias-correction",
        title="Adam's bias correction",
        summary=(
            "Why Adam divides its moment estimates by 1 − βᵗ: they start at zero, so for "
            "the first steps they underestimate the gradient's mean and mean square; the "
            "expectation of the recurrence, solved exactly, gives the factor to undo."
        ),
        conventions="mₜ = β₁mₜ₋₁ + (1 − β₁)gₜ and vₜ = β₂vₜ₋₁ + (1 − β₂)uₜ with uₜ = gₜ² "
        "(elementwise), m₀ = v₀ = 0, steps counted from t = 1. Stationary gradients: "
        "E[gₖ] = γ and E[gₖ²] = s for every k.",
        variables=(
            ("gₖ", "the gradient at step k (one coordinate)"),
            ("uₖ", "its square gₖ²"),
            ("mₜ, vₜ", "Adam's first- and second-moment estimates"),
            ("β₁, β₂", "their decay rates, in [0, 1)"),
            ("γ, s", "the stationary mean E[g] and mean square E[g²]"),
        ),
        definitions={},
        results=results,
        cases=(),
        symbolic_checks=_symbolic_checks(*results),
        numeric_checks=_numeric_checks(*results),
        exercises=_exercises(),
        domain={"beta1": (0.05, 0.95), "beta2": (0.05, 0.95)},
    )


# ---------------------------------------------------------------- independent routes
# Every route reads the derived results it checks, so a wrong derivation cannot pass them.
def _symbolic_checks(unrolled, mean_m, mean_v, corrected_m, corrected_v):
    def summation_route():
        """The expectation of the derived unrolled sum, E[gₖ] = γ, summed by SymPy."""
        return unrolled.derived.replace(grad, lambda step: gamma).doit(), mean_m.derived

    def residual(mean, decay, stationary):
        """The derived mean satisfies μₜ = βμₜ₋₁ + (1 − β)·(stationary mean)."""
        mu = mean.derived
        return mu - decay * mu.subs(t, t - 1) - (1 - decay) * stationary, sp.Integer(0)

    return (
        ("E[mₜ] by SymPy's summation of the unrolled sum", summation_route),
        ("E[mₜ] satisfies the recurrence of the means", lambda: residual(mean_m, beta1, gamma)),
        ("E[mₜ] starts at 0", lambda: (mean_m.derived.subs(t, 0), sp.Integer(0))),
        ("E[vₜ] satisfies the recurrence of the means", lambda: residual(mean_v, beta2, s)),
        ("E[vₜ] starts at 0", lambda: (mean_v.derived.subs(t, 0), sp.Integer(0))),
        (
            "E[m̂ₜ] is E[mₜ]/(1 − β₁ᵗ)",
            lambda: (mean_m.derived / (1 - beta1**t), corrected_m.derived),
        ),
        (
            "E[v̂ₜ] is E[vₜ]/(1 − β₂ᵗ)",
            lambda: (mean_v.derived / (1 - beta2**t), corrected_v.derived),
        ),
    )


RUNS, STEPS = 20_000, 12


def _run_moments(gradients: np.ndarray, b1: float, b2: float):
    """Adam's two moment recurrences, run along axis 1 (runs × steps)."""
    m_t, v_t = np.zeros(gradients.shape[0]), np.zeros(gradients.shape[0])
    ms, vs = [], []
    for step in range(gradients.shape[1]):
        m_t = b1 * m_t + (1 - b1) * gradients[:, step]
        v_t = b2 * v_t + (1 - b2) * gradients[:, step] ** 2
        ms.append(m_t)
        vs.append(v_t)
    return np.array(ms).T, np.array(vs).T


def _monte_carlo(which: int, derived_mean):
    """Mean over 20 000 runs of Adam's moments on gradients N(γ, 1), against the derived
    (1 − βᵗ)·mean.

    Tolerance: 5 standard errors of the run mean (measured from the runs), relative to
    the largest expected value.
    """

    def route(seed: int):
        rng = np.random.default_rng(seed)
        mean, b1, b2 = 0.7, 0.9, 0.95
        gradients = mean + rng.standard_normal((RUNS, STEPS))
        samples = _run_moments(gradients, b1, b2)[which]
        steps = np.arange(1, STEPS + 1)
        # E[g] = 0.7 and E[g²] = 0.7² + 1 in the derived mean.
        at = {beta1: b1, beta2: b2, gamma: mean, s: mean**2 + 1.0}
        expected = sp.lambdify(t, derived_mean.subs(at), "numpy")(steps)
        standard_error = samples.std(axis=0) / np.sqrt(RUNS)
        tolerance = 5 * standard_error.max() / np.abs(expected).max()
        return samples.mean(axis=0), expected, float(tolerance)

    return route


def _constant_gradient(corrected_m, corrected_v, seed: int):
    """A constant gradient g: the corrected moments are exactly g and g² at every step."""
    rng = np.random.default_rng(seed)
    g, b1, b2 = rng.standard_normal(), rng.uniform(0.5, 0.99), rng.uniform(0.9, 0.9999)
    ms, vs = _run_moments(np.full((1, 30), g), b1, b2)
    steps = np.arange(1, 31)
    corrected = np.concatenate([ms[0] / (1 - b1**steps), vs[0] / (1 - b2**steps)])
    # A constant gradient is its own mean: γ = g and s = g² in the derived E[m̂ₜ], E[v̂ₜ].
    expected_m = float(corrected_m.subs({gamma: g, beta1: b1}))
    expected_v = float(corrected_v.subs({s: g * g, beta2: b2}))
    return corrected, np.concatenate([np.full(30, expected_m), np.full(30, expected_v)]), 1e-12


def _numeric_checks(unrolled, mean_m, mean_v, corrected_m, corrected_v):
    return (
        (
            "E[mₜ], t = 1..12, by 20 000 simulated runs (5 standard errors)",
            _monte_carlo(0, mean_m.derived),
        ),
        (
            "E[vₜ], t = 1..12, by 20 000 simulated runs (5 standard errors)",
            _monte_carlo(1, mean_v.derived),
        ),
        (
            "constant gradient: m̂ₜ = g and v̂ₜ = g² exactly",
            partial(_constant_gradient, corrected_m.derived, corrected_v.derived),
        ),
    )
