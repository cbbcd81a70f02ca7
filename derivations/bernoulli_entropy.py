"""Bernoulli entropy: H(p) = −p log₂ p − (1 − p) log₂(1 − p), largest (1 bit) at p = 1/2.

The uncertainty of a coin that lands heads with probability p, in bits. Its slope
H′(p) = log₂((1 − p)/p) vanishes only at p = 1/2, and H″(p) = −1/(p(1 − p) ln 2) < 0,
so that stationary point is the maximum: a fair coin carries one bit, a 90/10 coin
about 0.469 bits.
"""

from __future__ import annotations

from functools import partial

import numpy as np
import sympy as sp

from workbench.core import rules
from workbench.core.derivation import Case, Chain, Derivation, Exercise
from workbench.core.facts import Root
from workbench.core.rules import Substitute
from workbench.core.rules_stats import Solve

p = sp.Symbol("p", positive=True)
H, dH = sp.symbols("H H'")
LN2 = sp.log(2)

# log₂ u = ln u / ln 2 (SymPy writes log(u, 2) that way itself).
DEFINITIONS = {H: -p * sp.log(p) / LN2 - (1 - p) * sp.log(1 - p) / LN2}
SLOPE = sp.log((1 - p) / p) / LN2
CURVATURE = -1 / (p * (1 - p) * LN2)
HALF = sp.Rational(1, 2)
SCALAR = (0, 0)  # scalar results: the "entry" is the value itself


def entropy_bits(q: float) -> float:
    """H(q) in bits, straight from the definition (numbers for the exercises)."""
    return float(-(q * np.log2(q) + (1 - q) * np.log2(1 - q)))


def _exercises() -> tuple[Exercise, ...]:
    h9 = entropy_bits(0.9)
    return (
        Exercise(
            prompt="Compute the entropy of a fair coin and of a 90/10 coin, in bits. Which is "
            "higher?",
            solution=f"Fair: $H(\\tfrac12) = -2 \\cdot \\tfrac12 \\log_2 \\tfrac12 = 1$ bit. "
            f"90/10: $H(0.9) = -(0.9 \\log_2 0.9 + 0.1 \\log_2 0.1) = {h9:.4f}$ bits. The fair "
            "coin is higher: it is the maximum of $H$, the only point where "
            "$H'(p) = \\log_2((1-p)/p)$ vanishes.",
            source="Stage 01, Math Foundations: exercise 'Entropy by hand' (shared/seeds/001)",
        ),
        Exercise(
            prompt="Define entropy in plain English. How many yes/no questions does it take, "
            "on average, to learn the outcome of 1000 flips of the 90/10 coin, at best?",
            solution="Entropy is the average surprise $-\\log_2 p(x)$ of an outcome: how many "
            "bits you need, on average, to say what happened. For 1000 flips at best about "
            f"$1000 \\cdot H(0.9) = {1000 * h9:.0f}$ bits, far fewer than the 1000 a fair coin "
            "needs: predictable outcomes are cheap to describe.",
            source="Stage 01, Math Foundations: minimum viable understanding (shared/seeds/001)",
        ),
        Exercise(
            prompt="Compute H′(0.9) and H″(0.9). What do their signs say?",
            solution=f"$H'(0.9) = \\log_2(0.1/0.9) = {np.log2(0.1 / 0.9):.4f}$: past "
            "$p = \\tfrac12$, making the coin more biased lowers the entropy. "
            f"$H''(0.9) = -1/(0.9 \\cdot 0.1 \\ln 2) = {-1 / (0.09 * np.log(2)):.4f} < 0$: "
            "$H$ is concave everywhere, so its one stationary point is the maximum.",
            source="Phase 2, Probability & Statistics: entropy (shared/seeds/002)",
        ),
    )


def build() -> Derivation:
    slope = (
        Chain(sp.Derivative(H, p), DEFINITIONS)
        .apply(rules.Definition((H,)), "Write H out; log₂ u is ln u / ln 2.")
        .apply(rules.Linearity(), "The derivative of a sum is the sum of the derivatives.")
        .apply(rules.ProductRule(), "Each term is a product: p times log p.")
        .apply(rules.ChainRule(), "∂ log u = (1/u) ∂u.")
        .apply(rules.Differentiate(), "∂p/∂p = 1 and ∂(1 − p)/∂p = −1.")
        .apply(rules.Algebra("cancel"), "The two ±1/ln 2 terms cancel.")
    )
    slope_result = slope.result("H′(p)", SLOPE, SCALAR)
    definitions = {**DEFINITIONS, dH: slope_result.derived}  # H′ as just derived

    curvature = (
        Chain(sp.Derivative(dH, p), definitions)
        .apply(rules.Definition((dH,)), "Differentiate the slope just derived.")
        .apply(rules.Linearity(), "One log term at a time.")
        .apply(rules.ChainRule(), "∂ log u = (1/u) ∂u.")
        .apply(rules.Differentiate(), "∂p/∂p = 1 and ∂(1 − p)/∂p = −1.")
        .apply(rules.Algebra("together"), "Over one denominator.")
    )
    curvature_result = curvature.result("H″(p)", CURVATURE, SCALAR)

    stationary = (sp.Derivative(H, p), sp.Integer(0))
    argmax = Chain(p, DEFINITIONS).apply(
        Solve((slope_result.derived, 0), p),
        "Set the slope to zero: log((1 − p)/p) = 0, so 1 − p = p.",
    )
    argmax_result = argmax.result("stationary point p*", HALF, SCALAR, assumptions=(stationary,))

    peak = (
        Chain(H, DEFINITIONS)
        .apply(rules.Definition((H,)), "Write H out.")
        .apply(
            # Checked, not assumed: the facts check puts p = 1/2 back into H′(p) = 0.
            Substitute(Root(p, HALF, (slope_result.derived, 0), "the stationary point")),
            "At the stationary point p = 1/2 both terms are 1/2 bit.",
        )
    )
    peak_result = peak.result("H(1/2)", sp.Integer(1), SCALAR, assumptions=((p, HALF),))

    return Derivation(
        slug="bernoulli-entropy",
        title="Bernoulli entropy",
        summary=(
            "The entropy of a biased coin: how many bits of surprise one flip carries on "
            "average. Differentiating it shows the fair coin is the most uncertain; every "
            "binary classifier's loss is a cross-entropy built from the same two terms."
        ),
        conventions="Logs base 2 (bits): log₂ u = ln u / ln 2. p ∈ (0, 1) is the probability "
        "of heads; H′ and H″ are derivatives with respect to p.",
        variables=(
            ("p", "probability of heads, 0 < p < 1"),
            ("H", "entropy in bits, H = −p log₂ p − (1 − p) log₂(1 − p)"),
        ),
        definitions=definitions,
        results=(slope_result, curvature_result, argmax_result, peak_result),
        cases=(_numeric_case(),),
        symbolic_checks=_symbolic_checks(
            slope_result, curvature_result, argmax_result, peak_result
        ),
        numeric_checks=_numeric_checks(argmax_result),
        exercises=_exercises(),
        domain={"p": (0.02, 0.98)},
    )


def _numeric_case() -> Case:
    """H against its slope at random p: SymPy's diff, finite differences, complex step.

    A scalar case: p is a 1×1 input and there are no sizes, so one concrete setting is
    all there is.
    """
    coin = sp.MatrixSymbol("p", 1, 1)
    at_input = {p: coin[0, 0]}
    return Case(
        name="H(p) at random p",
        forward=sp.ImmutableMatrix([[DEFINITIONS[H].xreplace(at_input)]]),
        wrt=(coin,),
        gradients=(sp.ImmutableMatrix([[SLOPE.xreplace(at_input)]]),),
        samplers={coin: lambda rng, shape: rng.uniform(0.05, 0.95, shape)},
        sizes=({},),
        numeric_size={},
    )


# ---------------------------------------------------------------- independent routes
def _symbolic_checks(slope_result, curvature_result, argmax_result, peak_result):
    # Each reads the derived result, so a wrong derivation cannot pass them.
    entropy = DEFINITIONS[H]
    return (
        ("H′ against SymPy's diff", lambda: (sp.diff(entropy, p), slope_result.derived)),
        ("H″ against SymPy's diff", lambda: (sp.diff(entropy, p, 2), curvature_result.derived)),
        ("p* against SymPy's solve of H′ = 0", lambda: (_only_root(), argmax_result.derived)),
        ("H(1/2) evaluated by SymPy", lambda: (entropy.subs(p, HALF), peak_result.derived)),
    )


def _only_root():
    roots = sp.solve(sp.diff(DEFINITIONS[H], p), p)
    return roots[0] if len(roots) == 1 else sp.nan


def _sampled_entropy(seed: int):
    """Monte Carlo: mean surprise −log₂ p(x) over 200 000 flips of the 90/10 coin.

    The surprise takes two values; its standard deviation over flips is about 0.95 bits,
    so the standard error of the mean is ≈ 0.0021; 5 standard errors is ≈ 2.3% of H.
    """
    q, flips = 0.9, 200_000
    heads = np.random.default_rng(seed).random(flips) < q
    surprise = np.where(heads, -np.log2(q), -np.log2(1 - q))
    tolerance = 5 * surprise.std() / np.sqrt(flips) / entropy_bits(q)
    return surprise.mean(), _closed(sp.Rational(9, 10)), float(tolerance)


def _closed(q) -> float:
    return float(DEFINITIONS[H].subs(p, q))


def _grid_maximum(argmax, seed: int):
    """The maximiser of H on a grid of 10 001 points in (0, 1): within a grid step of the
    derived p*."""
    grid = np.linspace(1e-6, 1 - 1e-6, 10_001)
    values = -(grid * np.log2(grid) + (1 - grid) * np.log2(1 - grid))
    return grid[np.argmax(values)], float(argmax), 2e-4


def _slope_by_differences(seed: int):
    """Central differences of the NumPy entropy at random p against the derived slope."""
    points = np.random.default_rng(seed).uniform(0.05, 0.95, 8)
    h = 1e-5
    numeric = [(entropy_bits(x + h) - entropy_bits(x - h)) / (2 * h) for x in points]
    slope = sp.lambdify(p, SLOPE, "numpy")
    return numeric, slope(points), 1e-8


def _numeric_checks(argmax_result):
    return (
        ("H(0.9) by sampling 200 000 flips (5 standard errors)", _sampled_entropy),
        ("argmax of H on a grid is the derived p*", partial(_grid_maximum, argmax_result.derived)),
        ("H′ against central differences", _slope_by_differences),
        (
            "H(0.9) against the textbook 0.469 bits (±0.001)",
            lambda seed: (_closed(0.9), 0.469, 2.2e-3),
        ),
    )
