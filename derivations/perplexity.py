"""Perplexity: 1/(geometric mean of the qₖ) = exp(H) for H in nats, = 2ᴴ for H in bits.

A language model that gives the N observed tokens probabilities q₀, …, q_{N−1} has
perplexity the inverse geometric mean of those probabilities. Its log is the mean
negative log-likelihood, the cross-entropy H, so perplexity is exp(H) in nats and
2^H in bits: the number of equally likely choices that would be as surprising.

No numeric case: the results are values, not derivatives. SymPy's evaluation of the
definition (the inverse geometric mean, as a product) at N = 2, 3, 5 reads the derived
exp(H), and sampled text checks it numerically.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from workbench.core import rules
from workbench.core.derivation import Chain, Derivation, Exercise
from workbench.core.rules_stats import ChangeOfBase, ExpandLogs, ExpOfLog

N = sp.Symbol("N", integer=True, positive=True)
V = sp.Symbol("V", integer=True, positive=True)
k = sp.Symbol("k", integer=True)
# The engine's index algebra knows that a Sum binds its index, not that a Product does:
# an integer symbol bound by the Product would be taken for a free index and set to 0.
k_product = sp.Symbol("k")
q = sp.MatrixSymbol("q", N, 1)  # the model's probability of each observed token
PPL, H, H_bits = sp.symbols("PPL H H_bits")
SCALAR = (0, 0)

DEFINITIONS = {
    PPL: sp.Product(q[k_product, 0], (k_product, 0, N - 1)) ** (-1 / N),
    H: -sp.Sum(sp.log(q[k, 0]), (k, 0, N - 1)) / N,
    H_bits: -sp.Sum(sp.log(q[k, 0]) / sp.log(2), (k, 0, N - 1)) / N,
}


def is_exp(e: sp.Basic) -> bool:
    return isinstance(e, sp.exp)


def _exercises() -> tuple[Exercise, ...]:
    h9 = -(0.9 * np.log2(0.9) + 0.1 * np.log2(0.1))
    ce = -(0.75 * np.log(0.6) + 0.25 * np.log(0.4))
    return (
        Exercise(
            prompt="A model predicts coin flips. What is its perplexity if it says 50/50 on a "
            "fair coin, and if it says 90/10 on a 90/10 coin?",
            solution="Fair: cross-entropy $1$ bit, perplexity $2^1 = 2$: as unsure as a choice "
            f"between two outcomes. 90/10: $H(0.9) = {h9:.4f}$ bits, perplexity "
            f"$2^{{{h9:.4f}}} = {2**h9:.4f}$: like choosing among about 1.4 outcomes.",
            source="Stage 01, Math Foundations: exercise 'Entropy by hand' (shared/seeds/001)",
        ),
        Exercise(
            prompt="A language model has a mean cross-entropy of 0.6122 nats per token (the "
            "four-example NLL exercise). What is its perplexity? And a model that spreads "
            "its probability uniformly over a vocabulary of 50 000 tokens?",
            solution=f"$e^{{0.6122}} = {np.exp(ce):.4f}$. Uniform: every token has "
            "$q = 1/V$, so $H = \\log V$ and the perplexity is exactly $V = 50\\,000$. "
            "Perplexity counts the effective number of choices the model hesitates between.",
            source="Phase 4, Information Theory: cross-entropy loss, perplexity (shared/seeds/002)",
        ),
        Exercise(
            prompt="Why is perplexity computed as exp of the mean log-probability rather than "
            "from the product of the probabilities?",
            solution="The product of 1000 token probabilities around 0.1 is $10^{-1000}$, "
            "which underflows to 0 in float64; its log, the sum of the logs, is an ordinary "
            "number ($-2302.6$). Working with $\\sum \\log q_k$, as here, keeps the "
            "computation finite.",
            source="Phase 3, Numerical Methods: floating point precision (shared/seeds/002)",
        ),
    )


def build() -> Derivation:
    nats = (
        Chain(PPL, DEFINITIONS)
        .apply(rules.Definition((PPL,)), "The inverse geometric mean of the probabilities.")
        .apply(ExpOfLog(), "A positive number is the exponential of its log.")
        .apply(ExpandLogs(), "log Πₖ qₖ = Σₖ log qₖ, and log uᶜ = c log u.")
        .apply(rules.Fold(is_exp, lambda e: sp.exp(H)), "The exponent is the cross-entropy H.")
    )
    bits = (
        Chain(2**H_bits, DEFINITIONS)
        .apply(rules.Definition((H_bits,)), "The cross-entropy in bits: log₂ u = log u / log 2.")
        .apply(rules.SplitSums(), "1/log 2 is a constant: it leaves the sum.")
        .apply(ChangeOfBase(), "2ᵘ = exp(u log 2); the log 2 cancels.")
        .apply(rules.Fold(is_exp, lambda e: sp.exp(H)), "The exponent is H in nats.")
    )
    results = (
        nats.result("perplexity = exp(H)", sp.exp(H), SCALAR),
        bits.result("2ᴴ (H in bits) = exp(H in nats)", sp.exp(H), SCALAR),
    )
    return Derivation(
        slug="perplexity",
        title="Perplexity",
        summary=(
            "Perplexity, the headline number of language modelling, is the exponential of "
            "the cross-entropy: the loss a model trains on, read as an effective number of "
            "equally likely next tokens."
        ),
        conventions="H is the mean negative log-probability of the observed tokens in nats "
        "(natural log); H_bits the same in bits (log base 2). Tokens are indexed 0..N−1.",
        variables=(
            ("q", "N×1 probabilities the model gave the N observed tokens, 0 < qₖ ≤ 1"),
            ("H", "cross-entropy in nats, −(1/N) Σₖ log qₖ"),
            ("H_bits", "cross-entropy in bits, −(1/N) Σₖ log₂ qₖ"),
            ("PPL", "perplexity: the N-th root of 1/Πₖ qₖ, the inverse geometric mean"),
        ),
        definitions=DEFINITIONS,
        results=results,
        cases=(),
        symbolic_checks=SYMBOLIC_CHECKS,
        numeric_checks=NUMERIC_CHECKS,
        exercises=_exercises(),
        domain={"q": (0.05, 1.0)},
    )


# ---------------------------------------------------------------- independent routes
def _product_at_four():
    """At N = 4: SymPy's own product, raised to −1/4, against exp(H) written out."""
    size = 4
    qs = sp.MatrixSymbol("q", size, 1)
    product = sp.Product(qs[k, 0], (k, 0, size - 1)).doit() ** sp.Rational(-1, size)
    mean_log = sp.Add(*[sp.log(qs[i, 0]) for i in range(size)]) / size
    return product, sp.exp(-mean_log)


def _uniform_model():
    """A uniform model, qₖ = 1/V: SymPy's summation of the log-probabilities gives PPL = V."""
    cross_entropy = -sp.summation(sp.log(sp.Integer(1) / V), (k, 0, N - 1)) / N
    return sp.exp(sp.expand_log(cross_entropy, force=True)), V


SYMBOLIC_CHECKS = (
    ("at N = 4 against SymPy's product", _product_at_four),
    ("uniform model: SymPy's summation gives PPL = V", _uniform_model),
)


def _three_ways(seed: int):
    """200 random probabilities: the product form, exp(mean −log q), 2^(mean −log₂ q)."""
    probs = np.random.default_rng(seed).uniform(0.05, 1.0, 200)
    direct = np.prod(probs) ** (-1 / probs.size)
    return [np.exp(-np.mean(np.log(probs))), 2 ** (-np.mean(np.log2(probs)))], [direct] * 2, 1e-12


def _sampled_text(seed: int):
    """Tokens drawn from p, scored by a model q: exp(mean NLL) against exp(H(p, q)).

    The mean NLL over 100 000 tokens has a standard error of std(−log q)/√N; 5 standard
    errors on H become (to first order) the same relative tolerance on exp(H).
    """
    rng = np.random.default_rng(seed)
    p = np.array([0.5, 0.2, 0.15, 0.1, 0.05])
    model = np.array([0.4, 0.3, 0.1, 0.1, 0.1])
    tokens = rng.choice(p.size, size=100_000, p=p)
    nll = -np.log(model[tokens])
    tolerance = 5 * nll.std() / np.sqrt(tokens.size)
    return np.exp(nll.mean()), np.exp(-p @ np.log(model)), float(tolerance)


NUMERIC_CHECKS = (
    ("product, nats and bits forms at 200 random probabilities", _three_ways),
    ("perplexity of 100 000 sampled tokens (5 standard errors)", _sampled_text),
)
