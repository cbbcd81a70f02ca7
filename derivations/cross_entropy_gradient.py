"""Cross-entropy gradient: ∂L/∂z = s − y for L = −Σᵢ yᵢ log softmax(z)ᵢ with Σᵢ yᵢ = 1.

The gradient every classifier's training starts from: predicted probabilities minus
targets. Over a batch of B rows with mean loss it is (S − Y)/B. Derived at general n
with the chain rule and the softmax Jacobian; the last step uses Σᵢ yᵢ = 1.
"""

from __future__ import annotations

import sympy as sp

from derivations import softmax_jacobian as sj
from workbench.codegen import numeric
from workbench.core import rules
from workbench.core.algebra import expand_names
from workbench.core.derivation import Case, Chain, Derivation, Exercise
from workbench.core.functions import LogSoftmax, Softmax

n, j, z, s = sj.n, sj.j, sj.z, sj.s
k = sp.Symbol("k", integer=True)
y = sp.MatrixSymbol("y", n, 1)
L = sp.Symbol("L")

B = sp.Symbol("B", integer=True, positive=True)
Z = sp.MatrixSymbol("Z", B, n)
Y = sp.MatrixSymbol("Y", B, n)

DEFINITIONS = {s: Softmax(z), L: -sp.Sum(y[k, 0] * sp.log(s[k, 0]), (k, 0, n - 1))}
TARGETS_SUM_TO_ONE = (sp.Sum(y[k, 0], (k, 0, n - 1)), sp.Integer(1))
CLOSED_FORM = s - y


EXERCISES = (
    Exercise(
        prompt="For logits z = (1, 2, 3) and the one-hot target y = (1, 0, 0), compute the "
        "loss L and the gradient ∂L/∂z = s − y. Take one gradient-descent step "
        "θ ← θ − η∇L(θ) with η = 1 and compute the loss again.",
        solution="$s = (0.0900, 0.2447, 0.6652)$, so $L = -\\log s_0 = 2.4076$ and "
        "$\\partial L/\\partial z = s - y = (-0.9100, 0.2447, 0.6652)$. The step gives "
        "$z = (1.9100, 1.7553, 2.3348)$ and the loss falls to $1.2196$. The gradient raises "
        "the logit of the right class and lowers each other logit in proportion to the "
        "probability it wrongly holds.",
        source="Stage 01, Math Foundations: the gradient descent update rule (shared/seeds/001)",
    ),
    Exercise(
        prompt="Show that the entries of ∂L/∂z sum to zero and each lies between −1 and 1. "
        "What does that mean for training?",
        solution="$\\sum_j (s_j - y_j) = 1 - 1 = 0$, because $s$ and $y$ are both "
        "distributions; and $0 \\le s_j, y_j \\le 1$ gives $-1 \\le s_j - y_j \\le 1$. "
        "However wrong the logits are, the gradient stays bounded, so one bad example "
        "cannot blow up a step; and it never changes the sum of the logits, which softmax "
        "ignores anyway.",
        source="Phase 3, Probability distributions: softmax and cross-entropy (shared/seeds/003)",
    ),
)


def rows_sum_to_one(sizes):
    """Each row of Y is a distribution: Σ_k Y[b, k] = 1 for every b."""
    rows, cols = int(B.subs(sizes)), int(n.subs(sizes))
    return [(sum(Y.subs(sizes)[b, c] for c in range(cols)), sp.Integer(1)) for b in range(rows)]


def build() -> Derivation:
    jacobian = sj.build().results[0]
    chain = (
        Chain(sp.Derivative(L, z[j, 0]), DEFINITIONS)
        .apply(
            rules.Definition((L,)),
            "Write the loss out: minus the targets times the log-probabilities.",
        )
        .apply(
            rules.Linearity(),
            "The targets do not depend on z; the derivative moves inside the sum.",
        )
        .apply(rules.ChainRule(), "∂ log u = (1/u) ∂u.")
        .apply(
            rules.UseResult(jacobian.goal, jacobian.derived, "softmax-jacobian"),
            "Use the softmax Jacobian ∂sₖ/∂zⱼ = sₖ(δₖⱼ − sⱼ); sₖ cancels against 1/sₖ.",
        )
        .apply(
            rules.Algebra("cancel"),
            "The sum splits in two; sⱼ does not depend on k and comes out.",
        )
        .apply(rules.CollapseDeltas(), "The delta keeps only yⱼ.")
        .apply(rules.Substitute(TARGETS_SUM_TO_ONE), "The targets form a distribution: Σₖ yₖ = 1.")
    )
    result = chain.result("∂L/∂zⱼ", CLOSED_FORM, (j, 0), z, assumptions=(TARGETS_SUM_TO_ONE,))
    single = Case(
        name="vector",
        forward=-(y.T * LogSoftmax(z)),
        wrt=(z,),
        gradients=(expand_names(CLOSED_FORM, DEFINITIONS),),
        samplers={z: numeric.logits(2.0), y: numeric.probabilities()},
        sizes=({n: 2}, {n: 3}, {n: 4}),
        numeric_size={n: 7},
        results={z: result.label},
        assumptions=(TARGETS_SUM_TO_ONE,),
        names=(("s", Softmax(z)),),
    )
    ones_b, ones_n = sp.OneMatrix(1, B), sp.OneMatrix(n, 1)
    batch = Case(
        name="batch mean",
        forward=-(ones_b * sp.HadamardProduct(Y, LogSoftmax(Z, axis=1)) * ones_n) / B,
        wrt=(Z,),
        gradients=((Softmax(Z, axis=1) - Y) / B,),
        samplers={Z: numeric.logits(2.0), Y: numeric.probabilities(axis=1)},
        sizes=({B: 2, n: 2}, {B: 2, n: 3}, {B: 3, n: 2}),
        numeric_size={B: 5, n: 4},
        assumptions=rows_sum_to_one,
    )
    return Derivation(
        slug="cross-entropy-gradient",
        title="Cross-entropy gradient",
        summary=(
            "The gradient of the softmax cross-entropy loss with respect to the logits: "
            "the error signal at the top of every classifier and language model."
        ),
        conventions="Gradient, denominator layout: ∂L/∂z has the shape of z (n×1); "
        "batch rows are examples (Z is B×n).",
        variables=(
            ("z", "n×1 logits"),
            ("s", "n×1 probabilities, s = softmax(z)"),
            ("y", "n×1 target distribution, Σ y = 1"),
            ("Z, Y", "B×n batch of logits and targets, one example per row"),
        ),
        definitions=DEFINITIONS,
        results=(result,),
        cases=(single, batch),
        exercises=EXERCISES,
    )
