"""The notebooks' cells, as (kind, source) pairs: the tour and one notebook per stage.

The five key-result notebooks are in ``notebook_text_key.py``. ``generate.py`` writes them all.
Code cells stay a few lines each: whatever is longer lives in ``workbench``.
"""

from __future__ import annotations

from notebook_text_key import KEY_NOTEBOOKS, code, md

from workbench.core import registry, stages

Cells = list[tuple[str, str]]

MARKS = (
    "Marks are earned, never assumed: **✓S** the step was proved symbolically, **✓N** it "
    "was tested at exact (or 50-digit) random points, **✗** the check found the two sides "
    "different, **?** no verdict within the time budget, *not checked* no check ran on it. "
    "A derivation displayed without a check report shows no marks at all."
)

# What each stage is for, in a sentence or two (from the curriculum, shared/seeds).
STAGE_INTRO = {
    "foundations": "Softmax and cross-entropy are mostly exponentials and logs. These "
    "results are about how exp and log behave: why softmax ignores a common shift, why the "
    "gradient of log-sum-exp is the softmax, and the derivatives of the squashing functions.",
    "linear algebra": "ML is mostly linear algebra wearing a trench coat: gradients of "
    "linear and quadratic forms, least squares, principal components and convolutions.",
    "calculus": "Calculus is the bridge to optimisation: the chain rule, applied to the "
    "layers of a network, is backpropagation.",
    "probability and statistics": "What models are uncertain about and why: maximum "
    "likelihood for a Gaussian, and logistic regression as a probabilistic classifier.",
    "information theory": "What a loss actually measures: entropy, cross-entropy, KL "
    "divergence, perplexity and mutual information, and why softmax is the maximum-entropy "
    "distribution.",
    "optimisation": "How learning happens: gradient descent solved exactly on a parabola, "
    "momentum as an average of past gradients, Adam's bias correction, Newton's step.",
    "numerical methods": "How far to trust a number: the error of finite differences, and "
    "why the complex step has none of their cancellation.",
}

# A derivative for the learner to check in each stage's "your turn", with a mistake in it.
STAGE_CLAIMS = {
    "foundations": ('check_claim("log(1 + exp(x))", "x", "exp(x)")', "softplus"),
    "linear algebra": (
        'check_claim("sum((X @ w - y)**2)", "w", "X.T @ (X @ w - y)", '
        'shapes={"X": "4x3", "w": 3, "y": 4})',
        "the least-squares gradient",
    ),
    "calculus": ('check_claim("tanh(w*x)", "w", "1 - tanh(w*x)**2")', "tanh(wx) by w"),
    "probability and statistics": (
        'check_claim("-sum((x - mu)**2) / 2", "mu", "sum(mu - x)", shapes={"x": 4})',
        "the Gaussian log-likelihood (σ = 1) by μ",
    ),
    "information theory": (
        'check_claim("-p*log(p) - (1 - p)*log(1 - p)", "p", "log(p/(1 - p))")',
        "the entropy of a coin, in nats, by p",
    ),
    "optimisation": ('check_claim("(x - 3)**2", "x", "2*x - 3")', "the parabola (x − 3)²"),
    "numerical methods": ('check_claim("exp(sin(x))", "x", "exp(sin(x))")', "exp(sin x)"),
}


# Cells a stage adds after its results: a picture its own results have no case for.
STAGE_EXTRA: dict[str, Cells] = {
    "numerical methods": [
        md("""
## The trade-off, measured on a real gradient

The error of central differences against the step h, and of the complex step, for the
gradient of the cross-entropy loss (its closed form is the exact answer): the V of
truncation (h²) against rounding (ε/h), and the complex step's flat floor.
"""),
        code("""
from workbench.notebook.plots import plot_step_size

plot_step_size(workbench.get("cross-entropy-gradient"))
"""),
    ],
}


def key_stem(number: int, slug: str) -> str:
    return f"{number:02d}-{slug}"


def stage_stem(stage: str) -> str:
    return f"{10 + stages.names().index(stage)}-stage-{stages.file_stem(stage)}"


def stages_with_results() -> list[str]:
    """Stages that have a result of their own (not a key result) in the registry today."""
    return [s for s in stages.names() if stages.available(s, key_results=False)]


def links(stage_names: list[str]) -> str:
    """Markdown links to every notebook, in curriculum order."""
    lines = ["**The five key results**", ""]
    for number, (slug, _) in enumerate(KEY_NOTEBOOKS, 1):
        lines.append(f"{number}. [{registry.title(slug)}]({key_stem(number, slug)}.ipynb)")
    lines += ["", "**The curriculum, stage by stage**", ""]
    for name in stage_names:
        lines.append(f"- [{name.capitalize()}]({stage_stem(name)}.ipynb)")
    lines += [
        "",
        "**The top rung**",
        "",
        f"- [A tiny GPT from verified gradients]({CAPSTONE}.ipynb)",
    ]
    return "\n".join(lines)


def tour(stage_names: list[str]) -> Cells:
    return [
        md(f"""
# A tour of the derivation workbench

Every result on the "math for AI" ladder, from the softmax Jacobian to the gradient of
attention, is **derived** here by SymPy from its definitions, one named rule at a time,
and then **checked three independent ways**: every step is valid; SymPy's own `diff`
agrees at concrete sizes; and the NumPy code of the closed form agrees with finite
differences and the complex step.

This notebook shows how to read a derivation, run its checks, step through it, see it,
and check an answer of your own. Run the cells from the top (Shift+Enter).

{MARKS}
"""),
        md("""
## The curriculum

Results are grouped by the stage of the curriculum where a learner meets them. Those
not written yet are listed as *planned*.
"""),
        code("""
import workbench
from workbench.notebook.guide import contents

contents()
"""),
        md("""
## A derivation is data

`workbench.get(slug)` builds a derivation: the goal, then one line per step, each with
the rule that justifies it and a note for you. Nothing has been checked yet, so no step
carries a mark.
"""),
        code("""
d = workbench.get("softmax-jacobian")
d
"""),
        md("""
## Running the checks

`d.check()` runs every check and returns a report; `tabulate` shows how each was decided
(*proved*, *tested*, or the numeric method) and the worst relative error it measured.
It takes about a second for this result.
"""),
        code("""
from workbench.notebook.display import show, step_through, tabulate

report = d.check()
tabulate(report)
"""),
        md("""
## Marks come from the report

Shown with its report, each step carries the mark its check earned.
"""),
        code("show(d, report)"),
        md("""
## One step at a time

`step_through` shows one step with **Previous** and **Next** buttons: both sides of the
step, the rule (hover over it for its statement), the mark and the note. Without
ipywidgets, the same call lists every step.
"""),
        code("step_through(d, report)"),
        md("""
## Seeing the result

Plots are drawn from the same checked NumPy code. Here each softmax probability moves
as the first logit moves; the dashed tangents have the slopes the Jacobian predicts,
and the caption says how closely they match the curves.
"""),
        code("""
from workbench.notebook.plots import plot_sweep

plot_sweep(d, entry=0)
"""),
        md("""
## Checking your own work

`check_claim(function, wrt, claim)` asks whether `claim` is the derivative of
`function`. Names are scalars unless given a shape (`shapes={"z": 3}` is a 3×1 column,
`"A": "3x3"` a matrix); `@` is the matrix product and `.T` the transpose. A wrong claim
gets a counterexample and a diagnosis of the usual mistake.
"""),
        code("""
from workbench.verify import check_claim

check_claim("log(1 + exp(x))", "x", "sigmoid(x)")
"""),
        md(f"""
## Where to go next

{links(stage_names)}
"""),
        md("""
## Your turn

The derivative of x³ is not 3x. Run the cell and read the diagnosis; then fix the claim
and run it again until it says *correct*.
"""),
        code("""
my_claim = "3*x"  # edit me
check_claim("x**3", "x", my_claim)
"""),
        md("""
The gradient of the quadratic form xᵀAx is a classic trap: 2Ax is right only when A is
symmetric. The verifier names the mistake; write the gradient for any A.
"""),
        code("""
my_claim = "2*A @ x"  # edit me
check_claim("x.T @ A @ x", "x", my_claim, shapes={"x": 3, "A": "3x3"})
"""),
        md("""
A claim may also be LaTeX, as you write it in your notes (a backslash, a brace or `$`
makes it LaTeX: juxtaposition is the matrix product, `^\\top` the transpose, and an
index left free means the whole vector, so `s_j - y_j` is s − y). The same claim, in
LaTeX; fix it the same way:
"""),
        code("""
my_latex = r"2 A \\mathbf{x}"  # edit me
check_claim(r"\\mathbf{x}^\\top A \\mathbf{x}", "x", my_latex, shapes={"x": 3, "A": "3x3"})
"""),
    ]


def stage(name: str) -> Cells:
    keys = [s for s in stages.planned(name) if s in stages.KEY_RESULTS]
    see_also = ""
    if keys:
        stems = {slug: key_stem(n, slug) for n, (slug, _) in enumerate(KEY_NOTEBOOKS, 1)}
        items = ", ".join(f"[{registry.title(s)}]({stems[s]}.ipynb)" for s in keys)
        see_also = f"\n\nThe key results of this stage have notebooks of their own: {items}."
    claim, about = STAGE_CLAIMS[name]
    return [
        md(f"""
# Stage: {name}

{STAGE_INTRO[name]}{see_also}

This notebook steps through every result of the stage that the workbench has today;
results still being written are left out (the [tour](00-tour.ipynb) lists them as
planned). {MARKS}
"""),
        code(f"""
from IPython.display import display

import workbench
from workbench.core import stages
from workbench.notebook.display import show, step_through, tabulate
from workbench.notebook.guide import your_turn
from workbench.notebook.plots import plots_for
from workbench.verify import check_claim

slugs = stages.available("{name}", key_results=False)
results = [workbench.get(slug) for slug in slugs]
[d.title for d in results]
"""),
        md("""
## Step through one result

The stepper below starts with the first result of the stage; pass another one from
`results` to step through it. `check=True` runs its step checks first, so the marks are
earned.
"""),
        code("step_through(results[0], check=True)"),
        md("""
## Every result: the derivation, its checks, and a picture

For each result: the chain of steps with the marks its checks earned, the table of
checks with their numbers, and every plot that fits it (drawn from the checked NumPy
code). The checks of the whole stage take from seconds to a minute.
"""),
        code("""
for d in results:
    report = d.check()
    display(show(d, report), tabulate(report), plots_for(d))
"""),
        *STAGE_EXTRA.get(name, []),
        md(f"""
## Your turn

First a derivative with a mistake in it, {about}: run it, read the diagnosis, fix the
claim. Then the exercises of each result, with worked solutions folded away.
"""),
        code(claim),
        code("""
for d in results:
    display(your_turn(d))
"""),
    ]


CAPSTONE = "20-capstone-tiny-gpt"


def capstone() -> Cells:
    """The top rung: the block and several heads derived, and a GPT trained on them."""
    return [
        md(f"""
# The top rung: a tiny GPT trained on nothing but verified gradients

The curriculum ends with a GPT-style model built from the mathematics. Everything it
needs has been derived on the way up: the attention gradient, layer norm's backward
pass, backprop through an MLP, the softmax cross-entropy gradient and Adam's update.
This notebook puts them together. A transformer block's backward pass is **derived**
by composing those results, and so is attention with several heads; both are checked
like every other result. Then a character-level GPT is trained with code generated
from the checked closed forms, with no other gradient anywhere.

{MARKS}
"""),
        code("""
from IPython.display import display

import workbench
from workbench import gpt
from workbench.notebook.display import step_through, tabulate
from workbench.notebook.guide import your_turn
from workbench.notebook.plots import plots_for

block = workbench.get("transformer-block-backward")
block_report = block.check()  # about half a minute
tabulate(block_report)
"""),
        md("""
## The block, result by result

One pre-norm block: LN₁, causal single-head attention, a residual connection, LN₂, a
GELU MLP, a second residual. Each result starts from the gradient of the stage above,
by name (dZ, dH₂, dX₂, …); the attention gradient and layer norm's backward pass enter
as known results with that gradient in place of their G. Step through them: the
stepper starts at ∂L/∂F and ends at ∂L/∂X.
"""),
        code("step_through(block, block_report)"),
        md("""
## Several heads

The block above, and the GPT trained below, have one head of attention per block; a
GPT's layers usually have several. With several heads, each head's gradients are the
attention gradient's under that head's names, with the gradient that reaches its
output through its block of the output projection; the input's gradient adds up the
heads' terms. The figure shows each head's attention matrix and its term of ∂L/∂H.
"""),
        code("""
heads = workbench.get("multi-head-attention")
heads_report = heads.check()
display(tabulate(heads_report), plots_for(heads))
"""),
        md("""
## Training on the derived gradients

`workbench.gpt` builds the model from the block's generated code: token and position
embeddings, two blocks, a final layer norm, an unembedding and the mean cross-entropy;
Adam is compiled from `adam-bias-correction`'s recurrences. The text is Aesop's fables
(public domain, in `examples/`). A few hundred steps of a small model take about a
minute here; `examples/tiny_gpt.py` trains the full-size one.
"""),
        code("""
from pathlib import Path

text = Path("../examples/aesop.txt").read_text(encoding="utf-8")
chars, ids = gpt.encode(text)
config = gpt.GPTConfig(vocab=len(chars), context=32, width=32, mlp=128, blocks=2)
model = gpt.TinyGPT(config, seed=0)
every_100 = gpt.print_every(100)  # prints "step 0  loss 4.2" every 100 steps
losses = gpt.train(model, ids, 400, batch=16, optimiser=gpt.Adam(lr=3e-3), on_step=every_100)
"""),
        md("""
The unigram entropy is the loss of the best model that ignores context (it only knows
how often each character occurs). A loss below it means the model has learnt something
from the context.
"""),
        code("""
from workbench.notebook.canvas import Plot

entropy, last = gpt.unigram_entropy(ids), sum(losses[-50:]) / 50
said = f"unigram entropy {entropy:.3f} nats/char; the last 50 steps' mean loss {last:.3f}"
Plot(gpt.loss_figure(losses, entropy), f"The training loss of each step's batch: {said}.")
"""),
        code("""
import numpy as np

prompt = [chars.index(ch) for ch in "THE "]
print("".join(chars[i] for i in model.sample(prompt, 300, np.random.default_rng(0))))
"""),
        md("""
## Your turn

Claim a gradient of the block and let the workbench check it against the derived one:
the exercises below ask why ∂L/∂X has two terms, why the rows of
∂L/∂X − ∂L/∂X₂ sum to zero, and what the backward pass costs.
"""),
        code("your_turn(block)"),
    ]


def all_notebooks(stage_names: list[str]) -> list[tuple[str, Cells]]:
    """(file stem, cells) for the tour, the five key results, the stages named and the
    capstone."""
    out = [("00-tour", tour(stage_names))]
    out += [(key_stem(n, slug), cells()) for n, (slug, cells) in enumerate(KEY_NOTEBOOKS, 1)]
    out += [(stage_stem(s), stage(s)) for s in stage_names]
    out.append((CAPSTONE, capstone()))
    return out
