"""The cells of the five key-result notebooks, as (kind, source) pairs.

Each notebook: what the result is and why it matters; the derivation, first unchecked,
then checked and stepped through; the checks and their numbers; plots that make the
result visible; and "your turn" cells checked by :mod:`workbench.verify`.
"""

from __future__ import annotations

Cells = list[tuple[str, str]]
CATALOGUE_AND_STEPS = "check_catalogue_claim, check_steps"
CATALOGUE_AND_CLAIM = "check_catalogue_claim, check_claim"


def md(text: str) -> tuple[str, str]:
    return ("md", text)


def code(text: str) -> tuple[str, str]:
    return ("code", text)


def imports(plots: str, verify: str) -> str:
    """The first code cell: the workbench and exactly the functions the notebook uses."""
    return (
        "import workbench\n"
        "from workbench.notebook.display import show, step_through, tabulate\n"
        "from workbench.notebook.guide import your_turn\n"
        f"from workbench.notebook.plots import {plots}\n"
        f"from workbench.verify import {verify}"
    )


READING = """
## The derivation

Each line applies one named rule to the line before; SymPy performs the step. Hover over
a rule for its statement. No check has run yet, so no step carries a mark.
"""

STEPPING = """
## Step by step

With the report, every step carries the mark its check earned (✓S proved symbolically,
✓N tested at random points). **Next** and **Previous** move one step at a time; the
grey box is the note for you.
"""

# After a notebook's "The checks" text: run every check, then step through the marks.
CHECK_AND_STEP: Cells = [
    code("report = d.check()\ntabulate(report)"),
    md(STEPPING),
    code("step_through(d, report)"),
    md("The whole chain at once, each step with its mark:"),
    code("show(d, report)"),
]


def softmax_jacobian() -> Cells:
    return [
        md("""
# The softmax Jacobian

The softmax turns n logits z into n probabilities, sᵢ = exp(zᵢ) / Σₖ exp(zₖ). Its
Jacobian says how each probability responds to each logit:

$$\\frac{\\partial s_i}{\\partial z_j} = s_i(\\delta_{ij} - s_j), \\qquad
J = \\operatorname{diag}(s) - s s^{\\top}.$$

It is the local derivative inside every classifier and every attention layer. Two facts
to watch for: J is symmetric, and each row sums to zero (the probabilities always sum to
one, so moving a logit can only move probability around).
"""),
        code(imports("plot_jacobian, plot_step_size, plot_sweep", CATALOGUE_AND_STEPS)),
        md(READING),
        code("""
d = workbench.get("softmax-jacobian")
d
"""),
        md("""
## The checks

Every check runs (about a second): each step, the result against the closed form, SymPy's
own `diff` at n = 2, 3, 4, and the NumPy code against finite differences and the complex
step at n = 6. The table shows how each was decided and the worst relative error.
"""),
        *CHECK_AND_STEP,
        md("""
The quotient rule (step 2) produces two terms; the Kronecker delta (step 6) keeps the
k = j term of the sum; folding the exponentials back into s (step 7) gives the result.
"""),
        md("""
## Seeing it

The Jacobian at the random logits of the checks: positive diagonal sᵢ(1 − sᵢ), negative
off-diagonal −sᵢsⱼ. The caption gives the measured row sums and asymmetry.
"""),
        code("plot_jacobian(d)"),
        md("""
How the probabilities move as the first logit moves: s₀ rises, every other sᵢ falls.
The dashed tangents have the slopes of the Jacobian's first column.
"""),
        code("plot_sweep(d, entry=0)"),
        md("""
Why the finite-difference check tolerates 1e-7 while the complex step reaches 1e-16:
the error of each against its step size h.
"""),
        code("plot_step_size(d)"),
        md("""
## Your turn

A first attempt often keeps only the diagonal. Run the cell: the verifier checks the
claim at n = 2, 3, 4 and names what is missing. Fix it, in the derivation's own symbols
(`s` is softmax(z), a column; `@` is the matrix product, `.T` the transpose).
"""),
        code("""
my_answer = "diag(s)"  # edit me
check_catalogue_claim("softmax-jacobian", my_answer)
"""),
        md("""
Check a chain of your own: each line starting with `=` must equal the line before.
Add a line, or break one, and see which line the verifier points at.
"""),
        code('''
my_steps = """
diff(softmax(z), z)
= diag(softmax(z)) - softmax(z) @ softmax(z).T
"""
check_steps(my_steps, shapes={"z": 3})
'''),
        code("your_turn(d)"),
    ]


def cross_entropy_gradient() -> Cells:
    return [
        md("""
# The cross-entropy gradient

The loss of a classifier with logits z, probabilities s = softmax(z) and a target
distribution y (one-hot, or soft labels with Σy = 1) is L = −Σᵢ yᵢ log sᵢ. Its gradient
is the simplest formula in deep learning:

$$\\frac{\\partial L}{\\partial z} = s - y.$$

It is the error signal at the top of every classifier and language model. Watch the
last step: it uses Σy = 1, an assumption the derivation states.
"""),
        code(imports("plot_gradients, plot_sweep, plot_tangent", CATALOGUE_AND_STEPS)),
        md(READING),
        code("""
d = workbench.get("cross-entropy-gradient")
d
"""),
        md("""
## The checks

Every check runs (a few seconds), for one example (n = 7) and for the batch mean
(B = 5 rows of n = 4), where the gradient is (S − Y)/B.
"""),
        *CHECK_AND_STEP,
        md("""
## Seeing it

The loss as the first logit moves, the others held fixed: the slope at the checked point
is s₀ − y₀, the first entry of the gradient.
"""),
        code("plot_sweep(d, entry=0)"),
        md("""
Along a random direction through all the logits at once, the closed form predicts the
slope; the caption compares it with a central difference of the curve.
"""),
        code("plot_tangent(d)"),
        md("The batch form: ∂L/∂Z, one row per example, has the shape of Z."),
        code('plot_gradients(d, case="batch mean")'),
        md("""
## Your turn

Getting the sign backwards is the classic mistake: y − s points uphill. Run it, read the
diagnosis, and fix it (`s` is softmax(z), `y` the targets).
"""),
        code("""
my_answer = "y - s"  # edit me
check_catalogue_claim("cross-entropy-gradient", my_answer)
"""),
        md("""
Each line of a chain must follow from the one before. The last line below drops the
factor Σy, which is only allowed when the targets sum to one; the verifier, which does
not assume that here, says which line breaks and why.
"""),
        code('''
my_steps = """
diff(-sum(y * log(softmax(z))), z)
= softmax(z) * sum(y) - y
= softmax(z) - y
"""
check_steps(my_steps, shapes={"z": 3, "y": 3})
'''),
        code("your_turn(d)"),
    ]


def nll_equals_cross_entropy() -> Cells:
    return [
        md("""
# Negative log-likelihood equals cross-entropy

Train a classifier on N examples with one-hot labels Y and model probabilities
s = softmax(z). The average negative log-likelihood of the labels is the cross-entropy
between the empirical distribution p̂ = Yᵀ1/N and the model:

$$\\mathrm{NLL} = -\\frac{1}{N}\\sum_n \\log s_{y_n} = H(\\hat p, s) = H(\\hat p) +
\\mathrm{KL}(\\hat p \\,\\|\\, s).$$

So minimising the NLL is minimising the KL divergence to the data (H(p̂) does not depend
on the model), and its gradient is s − p̂.
"""),
        code(imports("plot_sweep, plot_tangent", "check_catalogue_claim")),
        md(READING),
        code("""
d = workbench.get("nll-equals-cross-entropy")
d
"""),
        md("""
## The checks

Every check runs (a few seconds). Besides the steps and the gradient, the identity
NLL = H(p̂, s) is evaluated numerically at N = 12 random one-hot labels ("numeric
identity").
"""),
        *CHECK_AND_STEP,
        md("""
## Seeing it

The NLL as the first logit moves: a convex curve, lowest where s₀ matches the fraction
of labels in class 0. The dashed tangent's slope is s₀ − p̂₀.
"""),
        code("plot_sweep(d, entry=0)"),
        code("plot_tangent(d)"),
        md("""
## Your turn

Write the gradient of the NLL with respect to z in the derivation's symbols: `s` is
softmax(z) and `phat` the empirical distribution p̂ (both n×1). The first attempt below
has the sign backwards.
"""),
        code("""
my_answer = "phat - s"  # edit me
check_catalogue_claim("nll-equals-cross-entropy", my_answer)
"""),
        code("your_turn(d)"),
    ]


def two_layer_backprop() -> Cells:
    return [
        md("""
# Backpropagation through a two-layer network

A two-layer classifier: a = W₁x + b₁, h = φ(a), z = W₂h + b₂, s = softmax(z), and the
cross-entropy loss L against targets y. Backpropagation is the chain rule, layer by
layer:

$$\\delta_2 = s - y,\\quad \\frac{\\partial L}{\\partial W_2} = \\delta_2 h^{\\top},\\quad
\\delta_1 = (W_2^{\\top}\\delta_2) \\odot \\varphi'(a),\\quad
\\frac{\\partial L}{\\partial W_1} = \\delta_1 x^{\\top}.$$

The derivation keeps φ unspecified; the checks substitute tanh, sigmoid and ReLU, and a
batched form.
"""),
        code(imports("plot_gradients, plot_tangent", "check_catalogue_claim")),
        md(READING),
        code("""
d = workbench.get("two-layer-backprop")
d
"""),
        md("""
## The checks

Every check runs (a few seconds): each step, the closed forms, SymPy's own `diff` of the
whole network at three concrete sizes (along random exact directions, so its cost follows
the size of the network rather than the number of its weights), and the NumPy code
against finite differences and the complex step for tanh, sigmoid, ReLU and a batch.
"""),
        *CHECK_AND_STEP,
        md("""
## Seeing it

Along a random direction through all four parameters at once, the loss and the tangent
the backpropagated gradients predict (with tanh).
"""),
        code('plot_tangent(d, case="tanh")'),
        md("""
The four gradients at the checked point: each has the shape of its parameter. Row i of
∂L/∂W₂ is δ₂ᵢ times hᵀ. With ReLU, a hidden unit that is off (aⱼ < 0, so hⱼ = 0) gives
a zero column j in ∂L/∂W₂ and a zero row j in ∂L/∂W₁ and ∂L/∂b₁.
"""),
        code('plot_gradients(d, case="tanh")'),
        code('plot_gradients(d, case="relu")'),
        md("""
## Your turn

The gradient with respect to W₂ has the shape of W₂ (n×m). The first attempt below is
its transpose; fix it (`s` is the softmax output, `y` the targets, `h` the hidden layer).
"""),
        code("""
my_answer = "h @ (s - y).T"  # edit me
check_catalogue_claim("two-layer-backprop", my_answer, wrt="W2")
"""),
        md("""
Now ∂L/∂W₁ for φ = tanh, whose derivative is 1 − tanh² = 1 − h∘h (`*` multiplies entry
by entry). This one is right; break it (drop the φ′ factor, say) and see the verdict.
"""),
        code("""
my_answer = "(W2.T @ (s - y)) * (1 - h*h) @ x.T"  # edit me
check_catalogue_claim("two-layer-backprop", my_answer, wrt="W1", case="tanh")
"""),
        code("your_turn(d)"),
    ]


def attention_gradient() -> Cells:
    return [
        md("""
# The gradient of attention

Scaled dot-product attention: scores S = QKᵀ/√d, weights P = softmax of each row of S
(optionally masked, e.g. causal), output O = PV. Given the upstream gradient G = ∂L/∂O:

$$\\frac{\\partial L}{\\partial V} = P^{\\top}G,\\quad
\\frac{\\partial L}{\\partial P} = G V^{\\top},\\quad
\\frac{\\partial L}{\\partial S} = P \\odot \\Big(\\frac{\\partial L}{\\partial P} -
\\operatorname{rowsum}\\big(\\tfrac{\\partial L}{\\partial P} \\odot P\\big)\\Big),$$

$$\\frac{\\partial L}{\\partial Q} = \\frac{\\partial L}{\\partial S}\\,\\frac{K}{\\sqrt d},
\\qquad \\frac{\\partial L}{\\partial K} = \\Big(\\frac{\\partial L}{\\partial S}\\Big)^{\\top}
\\frac{Q}{\\sqrt d}.$$

The row softmax contributes exactly the softmax Jacobian of notebook 1, once per row.
"""),
        code(imports("plot_attention, plot_gradients", CATALOGUE_AND_CLAIM)),
        md(READING),
        code("""
d = workbench.get("attention-gradient")
d
"""),
        md("""
## The checks

Every check runs (a few seconds), for plain and causal attention: each step, the closed
forms, SymPy's own `diff` at three concrete sizes, and the NumPy code against finite
differences and the complex step.
"""),
        *CHECK_AND_STEP,
        md("""
## Seeing it

Left, the attention pattern P: which key each query reads from. Right, ∂L/∂S: each row
sums to zero, because a row of P sums to one whatever the scores.
"""),
        code('plot_attention(d, case="unmasked")'),
        md("With the causal mask, each query sees only itself and earlier keys:"),
        code('plot_attention(d, case="causal mask")'),
        code('plot_gradients(d, case="causal mask")'),
        md("""
## Your turn

∂L/∂V has the shape of V (T×e). The first attempt below forgets a transpose; fix it, in
the derivation's symbols (`P` the attention weights, `G` the upstream gradient).
"""),
        code("""
my_answer = "P @ G"  # edit me
check_catalogue_claim("attention-gradient", my_answer, wrt="V", case="causal mask")
"""),
        md("""
Each row of ∂L/∂S is the softmax's vector-Jacobian product: for one row of scores s with
upstream gradient g (that row of ∂L/∂P), the gradient of ⟨g, softmax(s)⟩ is
p ∘ (g − ⟨g, p⟩), where p = softmax(s). The first attempt below forgets the
subtraction, the part that makes the row sum to zero: the verifier names the missing
term, −p⟨g, p⟩. Fix it (`sum` adds all entries, `*` multiplies entry by entry).
"""),
        code("""
my_answer = "softmax(s) * g"  # edit me
check_claim("sum(g * softmax(s))", "s", my_answer, shapes={"s": 4, "g": 4})
"""),
        code("your_turn(d)"),
    ]


KEY_NOTEBOOKS = (
    ("softmax-jacobian", softmax_jacobian),
    ("cross-entropy-gradient", cross_entropy_gradient),
    ("nll-equals-cross-entropy", nll_equals_cross_entropy),
    ("two-layer-backprop", two_layer_backprop),
    ("attention-gradient", attention_gradient),
)
