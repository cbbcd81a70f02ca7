"""NLL equals cross-entropy: −(1/N)Σₐ log p(yₐ) = H(p̂, p) = H(p̂) + KL(p̂ ‖ p).

With labels as one-hot rows of Y (N examples, n classes) and a model distribution
p = softmax(z), the mean negative log-likelihood is the cross-entropy between the
empirical distribution p̂ = Yᵀ1/N and p; that in turn is the entropy of the data plus
the KL divergence, so minimising NLL minimises KL(p̂ ‖ p). Its gradient is p − p̂.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from derivations import softmax_jacobian as sj
from workbench.codegen import numeric
from workbench.core import rules
from workbench.core.algebra import expand_names
from workbench.core.derivation import Case, Chain, Derivation, Exercise
from workbench.core.functions import Elementwise, LogSoftmax, Softmax

n, j, z, s = sj.n, sj.j, sj.z, sj.s
N = sp.Symbol("N", integer=True, positive=True)
a, k = sp.symbols("a k", integer=True)
Y = sp.MatrixSymbol("Y", N, n)
phat = sp.MatrixSymbol("phat", n, 1)
NLL, H = sp.symbols("NLL H")

DEFINITIONS = {
    s: Softmax(z),
    phat: Y.T * sp.OneMatrix(N, 1) / N,
    # A one-hot row picks one class: Σₖ Y[a, k] log sₖ is log s at example a's label.
    NLL: -sp.Sum(sp.Sum(Y[a, k] * sp.log(s[k, 0]), (k, 0, n - 1)), (a, 0, N - 1)) / N,
    H: -sp.Sum(phat[k, 0] * sp.log(s[k, 0]), (k, 0, n - 1)),
}
EMPIRICAL_SUMS_TO_ONE = (sp.Sum(phat[k, 0], (k, 0, n - 1)), sp.Integer(1))

CROSS_ENTROPY = -(phat.T * Elementwise("log", s))
ENTROPY_PLUS_KL = -(phat.T * Elementwise("log", phat)) + phat.T * (
    Elementwise("log", phat) - Elementwise("log", s)
)


EXERCISES = (
    Exercise(
        prompt="Compute the entropy of a fair coin and of a 90/10 coin, in bits and in nats. "
        "Which is higher?",
        solution="Fair: $H = -2 \\cdot \\tfrac12 \\log_2 \\tfrac12 = 1$ bit, that is "
        "$\\ln 2 = 0.6931$ nats. 90/10: $H = -(0.9 \\log_2 0.9 + 0.1 \\log_2 0.1) = 0.4690$ "
        "bits $= 0.3251$ nats. The fair coin is higher: no two-outcome distribution is "
        "more uncertain.",
        source="Stage 01, Math Foundations: exercise 'Entropy by hand' (shared/seeds/001)",
    ),
    Exercise(
        prompt="Four examples have labels 0, 0, 1, 0 (two classes), and a model predicts "
        "p = (0.6, 0.4) for each. Compute the mean NLL, the empirical distribution p̂, "
        "H(p̂, p), H(p̂) and KL(p̂ ‖ p). Explain what 'negative log-likelihood = "
        "cross-entropy' means.",
        solution="Mean NLL $= -\\tfrac14 (3 \\ln 0.6 + \\ln 0.4) = 0.6122$. Counting labels "
        "gives $\\hat{p} = (0.75, 0.25)$ and $H(\\hat{p}, p) = -(0.75 \\ln 0.6 + 0.25 \\ln "
        "0.4) = 0.6122$: the same number, because averaging $-\\log p(y_a)$ over the "
        "examples weights each class's $-\\log p_k$ by how often it occurs. "
        "$H(\\hat{p}) = 0.5623$ and $\\mathrm{KL}(\\hat{p} \\,\\|\\, p) = 0.0499$ add up "
        "to $0.6122$. The entropy is fixed by the data, so lowering the NLL can only lower "
        "the KL divergence.",
        source="Stage 01, Math Foundations: minimum viable understanding (shared/seeds/001)",
    ),
    Exercise(
        prompt="Which model distribution p minimises the mean NLL of those four examples, "
        "and what is the minimum?",
        solution="NLL $= H(\\hat{p}) + \\mathrm{KL}(\\hat{p} \\,\\|\\, p)$ with "
        "$\\mathrm{KL} \\ge 0$, equal to zero only at $p = \\hat{p}$. So the minimum is at "
        "$p = \\hat{p} = (0.75, 0.25)$, where NLL $= H(\\hat{p}) = 0.5623$ nats; the "
        "gradient $s - \\hat{p}$ derived here vanishes exactly there. Maximum likelihood "
        "recovers the empirical frequencies.",
        source="Phase 2, Probability: entropy, cross-entropy, KL divergence, MLE "
        "(shared/seeds/002)",
    ),
)


def is_column_sum_of_labels(e: sp.Basic) -> bool:
    return (
        isinstance(e, sp.Sum)
        and getattr(e.function, "parent", None) == Y
        and e.function.i == e.limits[0][0]
    )


def as_empirical(e: sp.Basic) -> sp.Basic:
    """Σₐ Y[a, k] = N·p̂ₖ: the count of class k is N times its empirical frequency."""
    counted = N * phat[e.function.j, 0]
    outer = e.limits[1:]  # SymPy merges Σₖ Σₐ into one Sum; the outer sums stay
    return sp.Sum(counted, *outer) if outer else counted


def is_log_model(e: sp.Basic) -> bool:
    return isinstance(e, sp.log) and getattr(e.args[0], "parent", None) == s


def add_subtract_log_empirical(e: sp.Basic) -> sp.Basic:
    """log sₖ = log p̂ₖ − log(p̂ₖ/sₖ); the quotient keeps the KL term in one piece."""
    index = e.args[0].i
    return sp.log(phat[index, 0]) - sp.log(phat[index, 0] / e.args[0])


def every_class_seen(rng, shape):
    """One-hot rows in which every class occurs at least once (so p̂ > 0 under the log)."""
    rows, classes = shape
    labels = np.concatenate([np.arange(classes), rng.integers(classes, size=rows - classes)])
    rng.shuffle(labels)
    return np.eye(classes)[labels]


def rows_are_distributions(sizes):
    rows, cols = int(N.subs(sizes)), int(n.subs(sizes))
    labels = Y.subs(sizes)
    return [(sum(labels[r, c] for c in range(cols)), sp.Integer(1)) for r in range(rows)]


def build() -> Derivation:
    jacobian = sj.build().results[0]
    to_cross_entropy = (
        Chain(NLL, DEFINITIONS)
        .apply(
            rules.Definition((NLL,)),
            "The mean NLL, a one-hot row selecting each label's log-probability.",
        )
        .apply(rules.SwapSums(), "Sum over classes outside, examples inside.")
        .apply(rules.SplitSums(), "log sₖ does not depend on the example: it leaves the inner sum.")
        .apply(
            rules.Fold(is_column_sum_of_labels, as_empirical, free_only=False),
            "Σₗ Y_lk counts class k: N times its empirical frequency p̂ₖ.",
        )
    )
    nll = to_cross_entropy.result("NLL = H(p̂, p)", CROSS_ENTROPY, (0, 0), z)

    decomposition = (
        Chain(H, DEFINITIONS)
        .apply(rules.Definition((H,)), "The cross-entropy of the model s relative to the data p̂.")
        .apply(
            rules.Rewrite(is_log_model, add_subtract_log_empirical),
            "Add and subtract log p̂ₖ.",
        )
        .apply(
            rules.SplitSums(), "Two sums: the entropy of p̂, and Σ p̂ₖ(log p̂ₖ − log sₖ) = KL(p̂ ‖ s)."
        )
    )
    kl = decomposition.result("H(p̂, p) = H(p̂) + KL(p̂ ‖ p)", ENTROPY_PLUS_KL, (0, 0), z)

    gradient = (
        Chain(sp.Derivative(NLL, z[j, 0]), DEFINITIONS)
        .apply(rules.Definition((NLL,)), "Write the mean NLL out.")
        .apply(
            rules.Linearity(), "The labels are constants; the derivative moves inside both sums."
        )
        .apply(rules.ChainRule(), "∂ log u = (1/u) ∂u.")
        .apply(
            rules.UseResult(jacobian.goal, jacobian.derived, "softmax-jacobian"),
            "Use the softmax Jacobian ∂sₖ/∂zⱼ = sₖ(δₖⱼ − sⱼ); sₖ cancels.",
        )
        .apply(rules.SplitSums(), "Split the inner sum; sⱼ leaves it.")
        .apply(rules.CollapseDeltas(), "The delta keeps only class j.")
        .apply(rules.SwapSums(), "Sum over classes outside, examples inside.")
        .apply(
            rules.Fold(is_column_sum_of_labels, as_empirical, free_only=False),
            "Counts are N times empirical frequencies.",
        )
        .apply(rules.Substitute(EMPIRICAL_SUMS_TO_ONE), "The empirical frequencies sum to one.")
    )
    grad = gradient.result("∂NLL/∂zⱼ", s - phat, (j, 0), z, assumptions=(EMPIRICAL_SUMS_TO_ONE,))

    empirical = expand_names(phat, DEFINITIONS)
    mean_nll = -(sp.OneMatrix(1, N) * Y * LogSoftmax(z)) / N
    case = Case(
        name="one-hot labels",
        forward=mean_nll,
        wrt=(z,),
        gradients=(Softmax(z) - empirical,),
        samplers={z: numeric.logits(2.0), Y: every_class_seen},
        sizes=({N: 2, n: 2}, {N: 3, n: 2}, {N: 3, n: 3}),
        numeric_size={N: 12, n: 4},
        results={z: grad.label},
        assumptions=rows_are_distributions,
        identities=(
            ("NLL = H(p̂, p)", mean_nll, expand_names(CROSS_ENTROPY, DEFINITIONS)),
            (
                "H(p̂, p) = H(p̂) + KL",
                expand_names(CROSS_ENTROPY, DEFINITIONS),
                expand_names(ENTROPY_PLUS_KL, DEFINITIONS),
            ),
        ),
    )
    return Derivation(
        slug="nll-equals-cross-entropy",
        title="NLL equals cross-entropy",
        summary=(
            "Why training by maximum likelihood and training by cross-entropy are the same "
            "thing, and why both shrink the KL divergence from the data to the model."
        ),
        conventions="Natural logs (nats). Labels are one-hot rows of Y (N×n); p̂ = Yᵀ1/N. "
        "The gradient has the shape of z (denominator layout).",
        variables=(
            ("Y", "N×n one-hot labels, one example per row"),
            ("z", "n×1 logits of the model"),
            ("s", "n×1 model probabilities, s = softmax(z) (the p of the title)"),
            ("p̂", "n×1 empirical distribution, p̂ = Yᵀ1/N"),
        ),
        definitions=DEFINITIONS,
        results=(nll, kl, grad),
        cases=(case,),
        domain={"Y": (0.05, 1.0)},
        exercises=EXERCISES,
    )
