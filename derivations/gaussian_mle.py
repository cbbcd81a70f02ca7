"""Gaussian MLE: μ̂ = (1/N)Σₖ xₖ and σ̂² = (1/N)Σₖ (xₖ − μ̂)², from ∂ℓ/∂μ = ∂ℓ/∂σ² = 0.

The log-likelihood of N independent draws from N(μ, σ²) is
ℓ = Σₖ [−(1/2) log(2πσ²) − (xₖ − μ)²/(2σ²)]. Setting both partial derivatives to zero and
solving gives the sample mean and the (biased, 1/N) sample variance.

No numeric case: the two derivatives are of a scalar log-likelihood in μ and σ²; each is
compared with SymPy's diff of ℓ at N = 2, 3, 5, and the maximiser with Newton's method
on finite differences at 40 random draws and with NumPy's mean and var.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from workbench.core import rules
from workbench.core.derivation import Chain, Derivation, Exercise
from workbench.core.facts import Root
from workbench.core.rules_stats import Solve, SplitTerms

N = sp.Symbol("N", integer=True, positive=True)
k = sp.Symbol("k", integer=True)
x = sp.MatrixSymbol("x", N, 1)
mu = sp.Symbol("mu", real=True)
v = sp.Symbol("sigma_sq", positive=True)  # the variance σ², a parameter of its own
ell = sp.Symbol("ell")
SCALAR = (0, 0)

DEFINITIONS = {
    ell: sp.Sum(-sp.log(2 * sp.pi * v) / 2 - (x[k, 0] - mu) ** 2 / (2 * v), (k, 0, N - 1)),
}
SAMPLE_MEAN = sp.Sum(x[k, 0], (k, 0, N - 1)) / N
SAMPLE_VARIANCE = sp.Sum((x[k, 0] - SAMPLE_MEAN) ** 2, (k, 0, N - 1)) / N
# The closed forms in matrix notation (1 × 1): 𝟏ᵀx is the sum of the data, x − μ𝟏 the
# deviations, (I − 𝟏𝟏ᵀ/N)x the deviations from the sample mean.
ONES = sp.OneMatrix(N, 1)
I1 = sp.Identity(1)
DEVIATION = x - mu * ONES
CENTRED = x - ONES * ONES.T * x / N
MEAN_FORM = ONES.T * x / N
# evaluate=False keeps (…)ᵀ whole, as a teacher writes it, rather than multiplied out.
VARIANCE_FORM = sp.MatMul(1 / N, sp.Transpose(CENTRED), CENTRED, evaluate=False)
GRAD_MU = (ONES.T * x - N * mu * I1) / v
GRAD_V = sp.MatAdd(
    sp.MatMul(1 / (2 * v**2), sp.Transpose(DEVIATION), DEVIATION, evaluate=False),
    -N / (2 * v) * I1,
    evaluate=False,
)

DATA = np.array([2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0])  # a classic: mean 5, variance 4


def _exercises() -> tuple[Exercise, ...]:
    n = DATA.size
    return (
        Exercise(
            prompt="Fit a Gaussian by maximum likelihood to the data 2, 4, 4, 4, 5, 5, 7, 9. "
            "What are μ̂ and σ̂²? What would the unbiased estimate be?",
            solution=f"$\\hat\\mu = {DATA.mean():.4g}$ and $\\hat\\sigma^2 = \\tfrac1N \\sum "
            f"(x_k - \\hat\\mu)^2 = {DATA.var():.4g}$ (so $\\hat\\sigma = {DATA.std():.4g}$). "
            f"Dividing by $N - 1$ instead gives ${DATA.var(ddof=1):.4f}$: the MLE divides by "
            f"$N = {n}$ and so underestimates the variance by a factor $(N-1)/N$, because "
            "$\\hat\\mu$ was fitted to the same data.",
            source="Phase 2, Probability & Statistics: MLE, MAP estimation (shared/seeds/002)",
        ),
        Exercise(
            prompt="Write the log-likelihood of that data at μ = 5, σ² = 4 and at μ = 4, "
            "σ² = 4. Which is larger, and by how much?",
            solution=f"$\\ell(5, 4) = {_loglik(5, 4):.4f}$ and $\\ell(4, 4) = "
            f"{_loglik(4, 4):.4f}$: the MLE is higher by ${_loglik(5, 4) - _loglik(4, 4):.4f} "
            "= N(\\hat\\mu - 4)^2/(2\\sigma^2)$, the only term that depends on $\\mu$ once "
            "$\\sum (x_k - \\mu)^2 = \\sum (x_k - \\hat\\mu)^2 + N(\\hat\\mu - \\mu)^2$ is "
            "expanded.",
            source="Phase 3, Probability distributions: Gaussian (shared/seeds/003)",
        ),
        Exercise(
            prompt="Why does minimising mean squared error fit the same μ as maximum "
            "likelihood under Gaussian noise?",
            solution="With $\\sigma^2$ fixed, $-\\ell = \\tfrac{N}{2}\\log(2\\pi\\sigma^2) + "
            "\\tfrac{1}{2\\sigma^2}\\sum (x_k - \\mu)^2$: a constant plus a positive multiple "
            "of the squared error. Both have the same minimiser, the stationary point "
            "$\\partial\\ell/\\partial\\mu = 0$ derived here.",
            source="Stage 01, Math Foundations: probability & statistics, MLE (shared/seeds/001)",
        ),
    )


def _loglik(mean: float, variance: float, data: np.ndarray = DATA) -> float:
    return float(np.sum(-0.5 * np.log(2 * np.pi * variance) - (data - mean) ** 2 / (2 * variance)))


def is_sum(e: sp.Basic) -> bool:
    return isinstance(e, sp.Sum)


def build() -> Derivation:
    grad_mu = (
        Chain(sp.Derivative(ell, mu), DEFINITIONS)
        .apply(rules.Definition((ell,)), "The log-likelihood: one Gaussian log-density per draw.")
        .apply(rules.Linearity(), "Into the sum; log(2πσ²) does not depend on μ.")
        .apply(rules.ChainRule(), "∂u² = 2u ∂u.")
        .apply(rules.Differentiate(), "∂(xₖ − μ)/∂μ = −1.")
        .apply(rules.SplitSums(), "Split the sum: Σₖ μ = Nμ.")
    )
    grad_v = (
        Chain(sp.Derivative(ell, v), DEFINITIONS)
        .apply(rules.Definition((ell,)), "The same log-likelihood, now as a function of σ².")
        .apply(rules.Linearity(), "Into the sum, term by term.")
        .apply(rules.ChainRule(), "∂ log u = (1/u) ∂u and ∂(1/σ²) = −(1/σ⁴) ∂σ².")
        .apply(rules.Differentiate(), "∂σ²/∂σ² = 1.")
        .apply(SplitTerms(), "Split the sum: Σₖ 1/(2σ²) = N/(2σ²).")
    )
    mean_condition = (grad_mu.current, sp.Integer(0))
    mean = Chain(mu, DEFINITIONS).apply(
        Solve(mean_condition, mu), "Set ∂ℓ/∂μ = 0 and solve for μ: the sample mean."
    )
    variance_condition = (grad_v.current, sp.Integer(0))
    variance = (
        Chain(v, DEFINITIONS)
        .apply(Solve(variance_condition, v), "Set ∂ℓ/∂σ² = 0 and solve for σ².")
        .apply(
            rules.Rewrite(is_sum, lambda e: sp.Sum(sp.factor(e.function), *e.limits)),
            "Inside the sum, μ² − 2μxₖ + xₖ² is the square (xₖ − μ)².",
        )
        .apply(
            rules.Substitute(Root(mu, mean.current, mean_condition, "∂ℓ/∂μ = 0")),
            "Both conditions hold at the maximum: put μ = μ̂ in.",
        )
    )
    results = (
        grad_mu.result("∂ℓ/∂μ", GRAD_MU, SCALAR),
        grad_v.result("∂ℓ/∂σ²", GRAD_V, SCALAR),
        mean.result("μ̂", MEAN_FORM, SCALAR, assumptions=(mean_condition,)),
        variance.result(
            "σ̂²",
            VARIANCE_FORM,
            SCALAR,
            assumptions=(variance_condition, (mu, mean.current)),
        ),
    )
    return Derivation(
        slug="gaussian-mle",
        title="Maximum-likelihood Gaussian",
        summary=(
            "Fitting a normal distribution by maximum likelihood: the stationary point of "
            "the log-likelihood is the sample mean and the 1/N sample variance. The same "
            "calculation says squared error is Gaussian negative log-likelihood."
        ),
        conventions="Natural logs. The variance σ² is the parameter (not σ): ∂ℓ/∂σ² is "
        "the derivative by σ² as one variable. Data are a column x of N independent draws, "
        "indexed 0..N−1; 𝟏 is the N×1 column of ones, so 𝟏ᵀx = Σₖ xₖ.",
        variables=(
            ("x", "N×1 data, independent draws from N(μ, σ²)"),
            ("μ", "the mean"),
            ("σ²", "the variance, > 0"),
            ("ℓ", "the log-likelihood Σₖ log N(xₖ; μ, σ²)"),
        ),
        definitions=DEFINITIONS,
        results=results,
        cases=(),
        symbolic_checks=_symbolic_checks(results),
        numeric_checks=NUMERIC_CHECKS,
        exercises=_exercises(),
    )


# ---------------------------------------------------------------- independent routes
SIZE = 3


def _explicit(expr):
    """At N = 3, with the data as three plain symbols."""
    data = sp.symbols(f"x0:{SIZE}", real=True)
    concrete = expr.subs(N, SIZE).doit()
    return concrete.xreplace({sp.MatrixSymbol("x", SIZE, 1)[i, 0]: data[i] for i in range(SIZE)})


def _symbolic_checks(results):
    def solve_route():
        """SymPy's solve of both stationarity conditions at N = 3, from SymPy's diff."""
        loglik = _explicit(DEFINITIONS[ell])
        roots = sp.solve([sp.diff(loglik, mu), sp.diff(loglik, v)], [mu, v], dict=True)
        if len(roots) != 1:
            return sp.nan, 0
        derived = sp.Matrix([_explicit(results[2].derived), _explicit(results[3].derived)])
        return sp.Matrix([roots[0][mu], roots[0][v]]), derived

    def diff_route(label, variable):
        def route():
            result = next(r for r in results if r.label == label)
            return sp.diff(_explicit(DEFINITIONS[ell]), variable), _explicit(result.derived)

        return route

    return (
        ("∂ℓ/∂μ against SymPy's diff at N = 3", diff_route("∂ℓ/∂μ", mu)),
        ("∂ℓ/∂σ² against SymPy's diff at N = 3", diff_route("∂ℓ/∂σ²", v)),
        ("μ̂, σ̂² against SymPy's solve at N = 3", solve_route),
    )


def _maximise_numerically(seed: int):
    """Newton's method on ℓ(μ, log σ²) with finite-difference derivatives only."""
    data = np.random.default_rng(seed).normal(1.5, 2.0, 40)

    def f(theta):
        return _loglik(theta[0], np.exp(theta[1]), data)

    theta, h = np.array([np.median(data), 0.0]), 1e-4
    basis = np.eye(2) * h
    for _ in range(40):
        grad = np.array([(f(theta + e) - f(theta - e)) / (2 * h) for e in basis])
        hess = np.array(
            [
                [
                    (f(theta + a + b) - f(theta + a - b) - f(theta - a + b) + f(theta - a - b))
                    / (4 * h * h)
                    for b in basis
                ]
                for a in basis
            ]
        )
        theta = theta - np.linalg.solve(hess, grad)
    closed = [data.mean(), np.mean((data - data.mean()) ** 2)]
    return [theta[0], np.exp(theta[1])], closed, 1e-6


def _numpy_estimates(seed: int):
    """NumPy's mean and var (ddof = 0) against the closed forms, lambdified, at N = 25."""
    data = np.random.default_rng(seed).normal(-0.5, 0.7, 25)
    size = 25
    xs = sp.MatrixSymbol("x", size, 1)
    mean = sp.lambdify([xs], SAMPLE_MEAN.subs(N, size).doit())
    var = sp.lambdify([xs], SAMPLE_VARIANCE.subs(N, size).doit())
    column = data.reshape(-1, 1)
    return [mean(column), var(column)], [np.mean(data), np.var(data)], 1e-12


NUMERIC_CHECKS = (
    (
        "maximise ℓ numerically (Newton, finite differences) at 40 random draws",
        _maximise_numerically,
    ),
    ("closed forms against NumPy's mean and var at 25 random draws", _numpy_estimates),
)
