"""Two-layer backprop: δ₂ = s − y, ∂L/∂W₂ = δ₂hᵀ, δ₁ = (W₂ᵀδ₂) ⊙ φ′(a), ∂L/∂W₁ = δ₁xᵀ.

A network h = φ(W₁x + b₁), s = softmax(W₂h + b₂) trained with cross-entropy. Each
weight gradient is an outer product of an error signal δ with the layer's input, and
the error travels back through W₂ᵀ and the activation's slope. Derived at general sizes
with an unspecified activation φ, then checked with φ = tanh, sigmoid and ReLU, and in
the batched form (rows of X are examples, mean loss).
"""

from __future__ import annotations

import sympy as sp
from sympy.matrices.expressions.matexpr import MatrixElement

from derivations import cross_entropy_gradient as ce
from derivations import softmax_jacobian as sj
from workbench.codegen import numeric
from workbench.core import rules
from workbench.core.algebra import canonical
from workbench.core.derivation import Case, Chain, Derivation, Exercise
from workbench.core.functions import (
    Elementwise,
    LogSoftmax,
    Softmax,
    derivative_of,
    phi,
    scalar_function,
)
from workbench.core.pieces import kept, rewritten
from workbench.core.rules_extra import Factor
from workbench.core.rules_stats import CombineSums

n, z, s, y, L = sj.n, sj.z, sj.s, ce.y, ce.L
d = sp.Symbol("d", integer=True, positive=True)  # inputs
m = sp.Symbol("m", integer=True, positive=True)  # hidden units
p, q = sp.symbols("p q", integer=True)

x = sp.MatrixSymbol("x", d, 1)
W1, b1 = sp.MatrixSymbol("W1", m, d), sp.MatrixSymbol("b1", m, 1)
W2, b2 = sp.MatrixSymbol("W2", n, m), sp.MatrixSymbol("b2", n, 1)
a = sp.MatrixSymbol("a", m, 1)  # pre-activations
h = sp.MatrixSymbol("h", m, 1)  # hidden layer
delta1 = sp.MatrixSymbol("delta1", m, 1)  # the error at the hidden layer

DEFINITIONS = {
    **ce.DEFINITIONS,  # s = softmax(z), L = −Σ y log s
    z: W2 * h + b2,
    h: Elementwise("phi", a),
    a: W1 * x + b1,
    delta1: sp.HadamardProduct(W2.T * (s - y), Elementwise("phi_prime", a)),
}


EXERCISES = (
    Exercise(
        prompt="Backpropagate by hand through a tanh network with $x = (1, -1)$, $W_1 = I$, "
        "$b_1 = 0$, $W_2 = \\begin{pmatrix} 1 & -1 \\\\ 0 & 1 \\end{pmatrix}$, $b_2 = 0$ "
        "and target $y = (1, 0)$: compute $h$, $s$, $\\delta_2$, $\\delta_1$ and "
        "$\\partial L/\\partial W_1$.",
        solution="$a = W_1x = (1, -1)$, $h = \\tanh a = (0.7616, -0.7616)$, "
        "$z = W_2h = (1.5232, -0.7616)$, $s = \\operatorname{softmax}(z) = "
        "(0.9076, 0.0924)$. Then $\\delta_2 = s - y = (-0.0924, 0.0924)$, "
        "$W_2^{\\top}\\delta_2 = (-0.0924, 0.1848)$ and $\\tanh' = 1 - h^2 = 0.4200$ "
        "in both units, so $\\delta_1 = (-0.0388, 0.0776)$ and "
        "$\\partial L/\\partial W_1 = \\delta_1 x^{\\top} = "
        "\\begin{pmatrix} -0.0388 & 0.0388 \\\\ 0.0776 & -0.0776 \\end{pmatrix}$.",
        source="Step 2, Calculus and gradients: manual backpropagation, 2-layer NN from "
        "scratch (shared/seeds/004)",
    ),
    Exercise(
        prompt="For one example, why is $\\partial L/\\partial W_2$ a rank-one matrix? "
        "What is its rank for a batch of $B$ examples?",
        solution="$\\partial L/\\partial W_2 = \\delta_2 h^{\\top}$ is an outer product "
        "of two vectors, so every row is a multiple of $h^{\\top}$: rank one. Over a batch "
        "it is $\\frac{1}{B}\\sum_b \\delta_2^{(b)} h^{(b)\\top} = "
        "\\Delta_2^{\\top} H$, a sum of $B$ rank-one terms, so its rank is at most "
        "$\\min(B, n, m)$.",
        source="Phase 1, Linear algebra: matrix rank (shared/seeds/002)",
    ),
    Exercise(
        prompt="With ReLU, what is $\\varphi'(a)$ at $a = 0$, and why would a finite-difference "
        "check disagree with backprop there?",
        solution="ReLU has no derivative at 0: the slope is 0 on the left and 1 on the right. "
        "Frameworks use 0 (so do we: $\\varphi' = H(a)$ with $H(0) = 0$). A central difference "
        "straddles the kink and returns $1/2$, matching neither side, which is why the "
        "gradient checker warns when a test point lies within a few steps of a kink and "
        "why test points are drawn away from it.",
        source="Phase 3, Numerical methods: gradient checking (shared/seeds/002)",
    ),
)


def closed_forms(activation: str):
    """The textbook gradients, in matrix notation, for one activation name."""
    pre = W1 * x + b1
    hidden = Elementwise(activation, pre)
    delta2 = Softmax(W2 * hidden + b2) - y
    delta1 = sp.HadamardProduct(W2.T * delta2, Elementwise(f"{activation}_prime", pre))
    return {W2: delta2 * hidden.T, b2: delta2, W1: delta1 * x.T, b1: delta1}


def code_names(activation: str) -> tuple:
    """The generated code's names for the arrays of :func:`closed_forms`."""
    pre = W1 * x + b1
    hidden = Elementwise(activation, pre)
    delta2 = Softmax(W2 * hidden + b2) - y
    delta1 = sp.HadamardProduct(W2.T * delta2, Elementwise(f"{activation}_prime", pre))
    return (("a", pre), ("h", hidden), ("delta2", delta2), ("delta1", delta1))


def forward(activation: str):
    """The loss L = −yᵀ log softmax(W₂ φ(W₁x + b₁) + b₂), 1×1."""
    return -(y.T * LogSoftmax(W2 * Elementwise(activation, W1 * x + b1) + b2))


# Batched: X is B×d, one example per row; the loss is the mean over rows.
B = ce.B
X = sp.MatrixSymbol("X", B, d)
Y = ce.Y


def batched(activation: str):
    ones = sp.OneMatrix(B, 1)
    pre = X * W1.T + ones * b1.T
    hidden = Elementwise(activation, pre)
    logits = hidden * W2.T + ones * b2.T
    loss = -(ones.T * sp.HadamardProduct(Y, LogSoftmax(logits, axis=1)) * sp.OneMatrix(n, 1)) / B
    delta2 = (Softmax(logits, axis=1) - Y) / B
    delta1 = sp.HadamardProduct(delta2 * W2, Elementwise(f"{activation}_prime", pre))
    grads = {W2: delta2.T * hidden, b2: delta2.T * ones, W1: delta1.T * X, b1: delta1.T * ones}
    names = (("A", pre), ("H", hidden), ("delta2", delta2), ("delta1", delta1))
    return loss, grads, names


SIZES = ({d: 2, m: 2, n: 2}, {d: 2, m: 3, n: 2}, {d: 3, m: 2, n: 3})
ACTIVATIONS = {
    "tanh": sp.tanh,
    "sigmoid": scalar_function("sigmoid"),
    "relu": scalar_function("relu"),
}


def pre_activations(inputs):
    """ReLU's kink sits where a pre-activation is 0."""
    return [inputs["W1"] @ inputs["x"] + inputs["b1"]]


def is_pre_activation(e: sp.Basic) -> bool:
    """b₁ᵢ + Σₖ W₁[i,k] xₖ: the entry aᵢ of the pre-activations, written out."""
    return _pre_activation_index(e) is not None


def _pre_activation_index(e: sp.Basic):
    if not isinstance(e, sp.Add):
        return None
    for bias in e.atoms(MatrixElement):
        if bias.parent == b1 and canonical(e) == canonical((W1 * x + b1)[bias.i, 0]):
            return bias.i
    return None


def as_pre_activation(e: sp.Basic) -> sp.Basic:
    """b₁ᵢ + Σₖ W₁[i,k] xₖ → aᵢ: the definition of a read backwards."""
    return a[_pre_activation_index(e), 0]


def _error_pair(product: sp.Basic):
    """The factors (Σₖ W₂[k,i](sₖ − yₖ), φ′(aᵢ)) of a product, with i; or None."""
    if not isinstance(product, sp.Mul):
        return None
    for slope in product.args:
        point = getattr(slope, "point", None)
        if not isinstance(slope, sp.Subs) or len(point) != 1:
            continue
        (at,) = point
        if not (isinstance(at, MatrixElement) and at.parent == a):
            continue
        k = sp.Dummy("k", integer=True)
        back = canonical(sp.Sum(W2[k, at.i] * (s[k, 0] - y[k, 0]), (k, 0, n - 1)))
        if slope == derivative_of(phi)(at) and back in product.args:
            return back, slope, at.i
    return None


def is_hidden_error(e: sp.Basic) -> bool:
    """A product holding (W₂ᵀ(s − y))ᵢ φ′(aᵢ): the entry δ₁ᵢ, written out."""
    return _error_pair(e) is not None


def as_hidden_error(e: sp.Basic) -> sp.Basic:
    """(W₂ᵀ(s − y))ᵢ φ′(aᵢ) → δ₁ᵢ: the definition of δ₁ read backwards."""
    back, slope, i = _error_pair(e)
    return e / (back * slope) * delta1[i, 0]


def backprop_through_output(target):
    """∂L/∂target for a parameter of the output layer or below, via δ₂."""
    return Chain(sp.Derivative(L, target), DEFINITIONS).apply(
        rules.ChainRuleThrough(z), "Chain rule through the logits z = W₂h + b₂."
    )


def build() -> Derivation:
    loss_gradient = ce.build().results[0]
    use_delta2 = rules.UseResult(
        loss_gradient.goal,
        loss_gradient.derived,
        "cross-entropy-gradient",
        facts=loss_gradient.assumptions,
    )
    delta2_note = "{}, the cross-entropy gradient: the output error δ₂ = s − y."
    # Each "{}" of a note is filled from the step itself (workbench.core.pieces): the
    # equation the rule wrote, or the indices the deltas kept, in the step's letters.
    logits_note = ("Write the logits out: {}.", rewritten)

    w2 = (
        backprop_through_output(W2[p, q])
        .apply(use_delta2, delta2_note, rewritten)
        .apply(rules.Definition((z,)), *logits_note)
        .apply(rules.Linearity(), "h does not depend on W₂; only the W₂ terms remain.")
        .apply(rules.Differentiate(), "{}.", rewritten)
        .apply(
            rules.CollapseDeltas(),
            "The deltas keep {}.",
            kept,
        )
        .apply(Factor(), "The output error sₚ − yₚ = [δ₂]ₚ times the layer's input h_q.")
    )
    b2_chain = (
        backprop_through_output(b2[p, 0])
        .apply(use_delta2, delta2_note, rewritten)
        .apply(rules.Definition((z,)), *logits_note)
        .apply(rules.Linearity(), "Only the bias term depends on b₂.")
        .apply(rules.Differentiate(), "{}.", rewritten)
        .apply(rules.CollapseDeltas(), "The delta keeps {}: the output error itself.", kept)
    )

    def hidden_layer(target, name, collapse_note):
        return (
            backprop_through_output(target)
            .apply(use_delta2, delta2_note, rewritten)
            .apply(rules.Definition((z,)), *logits_note)
            .apply(rules.Linearity(), "W₂ and b₂ are constants here; h carries the dependence.")
            .apply(rules.Definition((h,)), "{}.", rewritten)
            .apply(rules.ChainRule(), "{}.", rewritten)
            .apply(rules.Definition((a,)), "{}.", rewritten)
            .apply(
                rules.Linearity(),
                f"Only the first-layer terms depend on {name}.",
            )
            .apply(rules.Differentiate(), "{}.", rewritten)
            .apply(rules.CollapseDeltas(), collapse_note, kept)
            .apply(
                rules.Fold(is_pre_activation, as_pre_activation),
                "[b₁]ₚ + Σₗ [W₁]_pl xₗ is the pre-activation aₚ: its definition read backwards.",
            )
            .apply(
                CombineSums(inside=True),
                "Both sums run over k: one sum Σₖ [W₂]_kp (sₖ − yₖ) = (W₂ᵀδ₂)ₚ.",
            )
            .apply(
                rules.Fold(is_hidden_error, as_hidden_error),
                "{}, the hidden layer's error δ₁ = (W₂ᵀδ₂) ⊙ φ′(a): the output error sent "
                "back through W₂ᵀ and scaled by the slope of the activation.",
                rewritten,
            )
        )

    w1 = hidden_layer(W1[p, q], "W₁", "The deltas keep {}: every term carries the input x_q.")
    b1_chain = hidden_layer(
        b1[p, 0], "b₁", "The delta keeps {}. No input factor: a bias enters aₚ with weight 1."
    )

    # The closed forms a teacher writes, with the hidden error named: δ₁xᵀ, not the
    # product written out (the checks expand δ₁ by its definition).
    delta2 = s - y
    facts = loss_gradient.assumptions
    results = (
        w2.result("∂L/∂W₂", delta2 * h.T, (p, q), W2, facts),
        b2_chain.result("∂L/∂b₂", delta2, (p, 0), b2, facts),
        w1.result("∂L/∂W₁", delta1 * x.T, (p, q), W1, facts),
        b1_chain.result("∂L/∂b₁", delta1, (p, 0), b1, facts),
    )

    samplers = {
        x: numeric.logits(1.0),
        W1: numeric.weights(),
        b1: numeric.logits(0.1),
        W2: numeric.weights(),
        b2: numeric.logits(0.1),
        y: numeric.probabilities(),
    }
    wrt = (W2, b2, W1, b1)
    cases = []
    for name, function in ACTIVATIONS.items():
        grads = closed_forms(name)
        cases.append(
            Case(
                name=name,
                forward=forward(name),
                wrt=wrt,
                gradients=tuple(grads[w] for w in wrt),
                samplers=samplers,
                sizes=SIZES,
                numeric_size={d: 5, m: 4, n: 3},
                results={w: r.label for w, r in zip(wrt, results, strict=True)},
                substitutions={phi: function},
                assumptions=(ce.TARGETS_SUM_TO_ONE,),
                kinks=pre_activations if name == "relu" else None,
                names=code_names(name),
            )
        )
    loss, grads, names = batched("tanh")
    cases.append(
        Case(
            name="batch (tanh)",
            forward=loss,
            wrt=wrt,
            gradients=tuple(grads[w] for w in wrt),
            samplers={
                X: numeric.logits(1.0),
                W1: numeric.weights(),
                b1: numeric.logits(0.1),
                W2: numeric.weights(),
                b2: numeric.logits(0.1),
                Y: numeric.probabilities(axis=1),
            },
            sizes=tuple({**size, B: 2} for size in SIZES),
            numeric_size={B: 6, d: 5, m: 4, n: 3},
            assumptions=ce.rows_sum_to_one,
            names=names,
        )
    )
    return Derivation(
        slug="two-layer-backprop",
        title="Backpropagation through a two-layer network",
        summary=(
            "The gradients of a one-hidden-layer classifier with respect to all four "
            "parameter arrays: backpropagation written out, with the local error signals "
            "δ₂ and δ₁ that every deeper network repeats layer by layer."
        ),
        conventions="Gradients, denominator layout: ∂L/∂W has the shape of W. Vectors are "
        "columns; in the batched form the rows of X (B×d) are examples and the loss is "
        "their mean.",
        variables=(
            ("x", "d×1 input"),
            ("W₁, b₁", "m×d and m×1 first layer"),
            ("a", "m×1 pre-activations, a = W₁x + b₁"),
            ("h", "m×1 hidden layer, h = φ(a)"),
            ("W₂, b₂", "n×m and n×1 output layer"),
            ("z", "n×1 logits, z = W₂h + b₂"),
            ("s", "n×1 probabilities, s = softmax(z)"),
            ("y", "n×1 targets, Σ y = 1"),
            ("δ₂", "n×1 output error, δ₂ = s − y = ∂L/∂z"),
            ("δ₁", "m×1 hidden error, δ₁ = (W₂ᵀδ₂) ⊙ φ′(a) = ∂L/∂a"),
        ),
        definitions=DEFINITIONS,
        results=results,
        cases=tuple(cases),
        exercises=EXERCISES,
    )
