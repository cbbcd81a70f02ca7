"""Gaussian KL: KL(N(μ₁,σ₁²) ‖ N(μ₂,σ₂²)) = log(σ₂/σ₁) + (σ₁² + (μ₁ − μ₂)²)/(2σ₂²) − 1/2.

The divergence is an expectation under the first Gaussian of the log-ratio of the
two densities. The log of a Gaussian density is a quadratic in x, so only the first
two moments E[X] = μ₁ and E[X²] = σ₁² + μ₁² are needed. With N(0, 1) as the second
distribution and one term per latent dimension this is the VAE's regulariser
−(1/2) Σⱼ (1 + log σⱼ² − μⱼ² − σⱼ²).

No numeric case: the results are values (KL divergences), not derivatives. The derived
KL is compared with sympy.stats' expectation, with mpmath's quadrature and with
sampling; the VAE form with SymPy's evaluation of its definition at d = 2, 3, 5.
"""

from __future__ import annotations

from functools import partial

import mpmath
import numpy as np
import sympy as sp
from sympy.stats import E, Normal
from sympy.stats.symbolic_probability import Expectation

from workbench.core import rules
from workbench.core.derivation import Chain, Derivation, Exercise
from workbench.core.rules_stats import ExpandLogs, ExpectationLinearity

mu1, mu2 = sp.symbols("mu1 mu2", real=True)
sigma1, sigma2 = sp.symbols("sigma1 sigma2", positive=True)
KL, KL_vae = sp.symbols("KL KL_VAE")
X = Normal("X", mu1, sigma1)  # X ~ p = N(μ₁, σ₁²)
SCALAR = (0, 0)

d = sp.Symbol("d", integer=True, positive=True)
j = sp.Symbol("j", integer=True)
mu = sp.MatrixSymbol("mu", d, 1)
sigma = sp.MatrixSymbol("sigma", d, 1)


def density(x, mean, sd):
    """The Gaussian density N(x; mean, sd²)."""
    return sp.exp(-((x - mean) ** 2) / (2 * sd**2)) / sp.sqrt(2 * sp.pi * sd**2)


def kl_formula(m1, s1, m2, s2):
    return sp.log(s2 / s1) + (s1**2 + (m1 - m2) ** 2) / (2 * s2**2) - sp.Rational(1, 2)


DEFINITIONS = {KL: Expectation(sp.log(density(X, mu1, sigma1)) - sp.log(density(X, mu2, sigma2)))}
MOMENTS = ((Expectation(X), mu1), (Expectation(X**2), sigma1**2 + mu1**2))
CLOSED_FORM = kl_formula(mu1, sigma1, mu2, sigma2)


def textbook_form(spread: sp.Basic) -> sp.Basic:
    """The KL's terms gathered by SymPy as a textbook writes them: the logs combined into
    one, the rest over its common denominator with the square in the means completed,
    and the constant apart. Nothing here is the closed form typed in: each piece is
    computed from ``spread`` (the checks then compare the result with CLOSED_FORM)."""
    constant, terms = spread.as_coeff_Add()
    logs = sp.Add(*[t for t in sp.Add.make_args(terms) if t.has(sp.log)])
    numerator, denominator = sp.fraction(sp.together(terms - logs))
    square = (mu1 - mu2) ** 2  # the square the cross term −2μ₁μ₂ belongs to
    remainder = sp.expand(numerator - square)
    if remainder.has(mu1) or remainder.has(mu2):
        return spread  # no such square: nothing to gather
    return sp.logcombine(logs, force=True) + (remainder + square) / denominator + constant


# The VAE term: q = N(μ, diag σ²) against N(0, I) factorises, so the KL is a sum over
# dimensions of the scalar KL (the result derived here) with μ₂ = 0, σ₂ = 1.
def vae_definitions(scalar_kl: sp.Basic) -> dict:
    per_dimension = scalar_kl.subs({mu1: mu[j, 0], sigma1: sigma[j, 0], mu2: 0, sigma2: 1})
    return {KL_vae: sp.Sum(per_dimension, (j, 0, d - 1))}


VAE_CLOSED_FORM = -sp.Rational(1, 2) * sp.Sum(
    1 + sp.log(sigma[j, 0] ** 2) - mu[j, 0] ** 2 - sigma[j, 0] ** 2, (j, 0, d - 1)
)


def _exercises() -> tuple[Exercise, ...]:
    def kl(a, b, c, e):
        return float(kl_formula(a, b, c, e))

    return (
        Exercise(
            prompt="Compute KL(N(0, 1) ‖ N(1, 1)), KL(N(0, 1) ‖ N(0, 4)) and "
            "KL(N(0, 4) ‖ N(0, 1)). Is the KL divergence symmetric?",
            solution=f"Shifting the mean by 1 costs $(\\mu_1 - \\mu_2)^2/2 = {kl(0, 1, 1, 1):.4f}$ "
            f"nats. $\\mathrm{{KL}}(N(0,1) \\,\\|\\, N(0,4)) = \\log 2 + 1/8 - 1/2 = "
            f"{kl(0, 1, 0, 2):.4f}$ but $\\mathrm{{KL}}(N(0,4) \\,\\|\\, N(0,1)) = -\\log 2 + 4/2 "
            f"- 1/2 = {kl(0, 2, 0, 1):.4f}$: not symmetric. Covering a narrow distribution "
            "with a wide one is cheap; the other way round is not.",
            source="Phase 2, Probability & Statistics: entropy, cross-entropy, KL divergence "
            "(shared/seeds/002)",
        ),
        Exercise(
            prompt="A VAE encoder outputs μ = (0.5, −1) and log σ² = (0, −1) for one input. "
            "Compute the KL term −(1/2) Σ (1 + log σ² − μ² − σ²).",
            solution="Per dimension: $-\\tfrac12(1 + 0 - 0.25 - 1) = 0.125$ and "
            f"$-\\tfrac12(1 - 1 - 1 - e^{{-1}}) = {0.5 * (1 + np.exp(-1)):.4f}$; in total "
            f"${0.125 + 0.5 * (1 + np.exp(-1)):.4f}$ nats. It is zero only at μ = 0, σ = 1, "
            "the prior.",
            source="Step 7, Advanced Extras: VAEs (shared/seeds/004)",
        ),
        Exercise(
            prompt="Why is KL(p ‖ q) ≥ 0, and when is it 0? Check it on the formula with μ₁ = μ₂.",
            solution="By Jensen, $-\\mathrm{KL} = \\mathbb{E}_p[\\log(q/p)] \\le "
            "\\log \\mathbb{E}_p[q/p] = \\log 1 = 0$, with equality only when $q = p$. With "
            "$\\mu_1 = \\mu_2$ and $r = \\sigma_1^2/\\sigma_2^2$ the formula is "
            "$\\tfrac12(r - 1 - \\log r)$, which is $\\ge 0$ because $\\log r \\le r - 1$, "
            "with equality only at $r = 1$.",
            source="Phase 4, Information Theory: KL divergence (shared/seeds/002)",
        ),
    )


def build() -> Derivation:
    scalar = (
        Chain(KL, DEFINITIONS)
        .apply(rules.Definition((KL,)), "KL(p ‖ q) = E_p[log p(X) − log q(X)] with X ∼ p.")
        .apply(
            ExpandLogs(),
            "The log of a Gaussian density is a quadratic in X: "
            "log N(x; μ, σ²) = −log σ − 1/2 log 2π − (x − μ)²/(2σ²).",
        )
        .apply(
            ExpectationLinearity(), "Expectation is linear: E[a + bX + cX²] = a + bE[X] + cE[X²]."
        )
        .apply(rules.Substitute(MOMENTS[0]), "The first moment of N(μ₁, σ₁²): E[X] = μ₁.")
        .apply(
            rules.Substitute(MOMENTS[1]),
            "The second moment: E[X²] = Var X + (E X)² = σ₁² + μ₁².",
        )
        .apply(rules.Algebra("cancel"), "Collect over 2σ₂²; the log 2π terms have cancelled.")
        .apply(
            rules.Algebra("expand"),
            "Divide each term by 2σ₂²: the logs stand alone, and σ₂²/(2σ₂²) = 1/2.",
        )
    )
    spread = scalar.current
    scalar = scalar.apply(
        rules.Rewrite(lambda e: e == spread, textbook_form),
        "Gather the terms as the textbook writes them: log σ₂ − log σ₁ = log(σ₂/σ₁), and "
        "the square in the means, μ₁² − 2μ₁μ₂ + μ₂² = (μ₁ − μ₂)², joins σ₁² over 2σ₂².",
    )
    vae_defs = vae_definitions(scalar.current)
    vae = (
        Chain(KL_vae, vae_defs)
        .apply(
            rules.Definition((KL_vae,)),
            "Independent dimensions: the KL is a sum over k of the result above with "
            "μ₁ = μₖ, σ₁ = σₖ, μ₂ = 0, σ₂ = 1.",
        )
        .apply(rules.SplitSums(), "Split the sum term by term: Σₖ 1/2 = d/2.")
    )
    results = (
        scalar.result("KL(N(μ₁,σ₁²) ‖ N(μ₂,σ₂²))", CLOSED_FORM, SCALAR, assumptions=MOMENTS),
        vae.result("KL(N(μ, diag σ²) ‖ N(0, I))", VAE_CLOSED_FORM, SCALAR),
    )
    return Derivation(
        slug="gaussian-kl",
        title="KL divergence between Gaussians",
        summary=(
            "The closed form of the KL divergence between two normal distributions, from the "
            "expectation of the log-ratio of their densities; it is the regulariser in every "
            "variational autoencoder."
        ),
        conventions="Natural logs (nats). KL(p ‖ q) = E_p[log p(X) − log q(X)], expectation "
        "under the first argument. Vectors are columns; the VAE posterior is "
        "N(μ, diag σ²) with d independent dimensions.",
        variables=(
            ("X", "a random variable, X ∼ p = N(μ₁, σ₁²)"),
            ("μ₁, σ₁", "mean and standard deviation of p"),
            ("μ₂, σ₂", "mean and standard deviation of q"),
            ("μ, σ", "d×1 means and standard deviations of the VAE posterior"),
        ),
        definitions={**DEFINITIONS, **vae_defs},
        results=results,
        cases=(),
        symbolic_checks=_symbolic_checks(results[0]),
        numeric_checks=_numeric_checks(results[0]),
        exercises=_exercises(),
        domain={"sigma": (0.25, 2.0)},
    )


# ---------------------------------------------------------------- independent routes
def _stats_route(kl):
    """SymPy's own expectation (sympy.stats integrates against the normal density)
    against the derived KL."""
    integrand = sp.expand_log(
        sp.log(density(X, mu1, sigma1)) - sp.log(density(X, mu2, sigma2)), force=True
    )
    return E(integrand), kl.derived


def _moment(power: int):
    x = sp.Symbol("x", real=True)
    return sp.integrate(x**power * density(x, mu1, sigma1), (x, -sp.oo, sp.oo))


def _vae_at_two():
    """At d = 2 the VAE form against the scalar closed form summed by hand."""
    concrete = VAE_CLOSED_FORM.subs(d, 2).doit()
    by_hand = sum(kl_formula(mu[i, 0], sigma[i, 0], 0, 1) for i in range(2))
    return concrete, by_hand.subs(d, 2)


# The KL routes read the derived result, so a wrong derivation cannot pass them.
def _symbolic_checks(kl):
    return (
        ("KL by sympy.stats' expectation of the log-ratio", partial(_stats_route, kl)),
        *SYMBOLIC_CHECKS,
    )


SYMBOLIC_CHECKS = (
    ("E[X] = μ₁ by SymPy's integrate", lambda: (_moment(1), mu1)),
    ("E[X²] = σ₁² + μ₁² by SymPy's integrate", lambda: (_moment(2), sigma1**2 + mu1**2)),
    ("VAE term at d = 2", _vae_at_two),
)


def _compiled(kl):
    return sp.lambdify((mu1, sigma1, mu2, sigma2), kl, "numpy")


_closed = _compiled(CLOSED_FORM)  # the textbook form, for properties stated of it


def _random_pair(rng):
    return rng.normal(0, 1), rng.uniform(0.5, 2), rng.normal(0, 1), rng.uniform(0.5, 2)


def _quadrature(kl, seed: int):
    """∫ p log(p/q) dx by mpmath's adaptive quadrature at 5 random pairs (rtol 1e-10)."""
    rng = np.random.default_rng(seed)
    computed, expected = [], []
    for _ in range(5):
        m1, s1, m2, s2 = _random_pair(rng)

        def integrand(x, m1=m1, s1=s1, m2=m2, s2=s2):
            log_p = -((x - m1) ** 2) / (2 * s1**2) - mpmath.log(s1 * mpmath.sqrt(2 * mpmath.pi))
            log_q = -((x - m2) ** 2) / (2 * s2**2) - mpmath.log(s2 * mpmath.sqrt(2 * mpmath.pi))
            return mpmath.exp(log_p) * (log_p - log_q)

        computed.append(float(mpmath.quad(integrand, [-mpmath.inf, m1, mpmath.inf])))
        expected.append(_compiled(kl)(m1, s1, m2, s2))
    return computed, expected, 1e-10


def _monte_carlo(kl, seed: int):
    """Mean of log p(x) − log q(x) over 400 000 samples x ~ p; tolerance 5 standard errors."""
    rng = np.random.default_rng(seed)
    m1, s1, m2, s2 = 0.3, 0.8, -0.4, 1.3
    x = rng.normal(m1, s1, 400_000)
    log_ratio = np.log(s2 / s1) - (x - m1) ** 2 / (2 * s1**2) + (x - m2) ** 2 / (2 * s2**2)
    expected = _compiled(kl)(m1, s1, m2, s2)
    tolerance = 5 * log_ratio.std() / np.sqrt(x.size) / abs(expected)
    return log_ratio.mean(), expected, float(tolerance)


def _numeric_checks(kl):
    return (
        (
            "KL by numerical integration (mpmath.quad) at random pairs",
            partial(_quadrature, kl.derived),
        ),
        (
            "KL by sampling 400 000 draws from p (5 standard errors)",
            partial(_monte_carlo, kl.derived),
        ),
    )
