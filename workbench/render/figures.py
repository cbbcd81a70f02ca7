"""Figures for handouts, drawn with matplotlib as vector PDF from a derivation's own cases.

A figure is chosen by what a case *is*, never by its slug, so a new derivation gets the
figures that fit it with no code here:

* every case with a vector output → a heatmap of its Jacobian at a random input;
* the first case of every derivation → the error of central differences against the
  step size h (the V: truncation falls as h², rounding grows as ε/h), with the complex
  step beside it;
* every case with inputs Q, K, V, G (attention, optionally with a 0/1 mask) → the
  attention matrix P and the gradient ∂L/∂S of the scores;
* the first case whose stages hold two or more attention matrices (heads) → each head's
  attention matrix, and each head's term of the gradient of the input they share;
* the first case with a scalar loss → heatmaps of its gradients; the first loss of
  several parameters with a readable expression → its computational graph
  (:mod:`~workbench.render.graph_figure`).

Before them come the figures of the results' closed forms
(:mod:`~workbench.render.result_figures`). The drawing helpers live in
:mod:`~workbench.render.drawing`.

Every number drawn comes from the compiled, checked NumPy code of the case at the seeded
inputs the checks used. Figures are drawn on a ``Figure`` object, never on a screen.

Example:
    >>> from workbench.core import registry
    >>> [f.name for f in figures_for(registry.get("softmax-jacobian"))]   # doctest: +SKIP
    ['jacobian-vector', 'step-size']
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from workbench.checks.runner import case_functions
from workbench.codegen import numeric
from workbench.codegen.staged import compile_stages, stage_order
from workbench.core.derivation import Case, Derivation
from workbench.core.functions import MaskedSoftmax
from workbench.render.drawing import Figure, _figure, _pdf, _sizes, _slug, heatmap
from workbench.render.graph_figure import (
    computational_graph,
    stage_graph,
    wants_graph,
    wants_stage_graph,
)
from workbench.render.latex import expr_to_latex, text_to_latex
from workbench.render.latex import number_to_latex as num
from workbench.render.result_figures import result_figures

FD_STEP = 1e-5  # the step of the finite-difference check (workbench.checks.gradcheck)
ATTENTION_INPUTS = {"Q", "K", "V", "G"}

__all__ = [
    "Figure",
    "attention_maps",
    "attention_matrices",
    "case_inputs",
    "figures_for",
    "heatmap",
    "jacobian_heatmap",
    "step_size_curve",
    "step_size_errors",
]


def figures_for(derivation: Derivation, seed: int = 0) -> list[Figure]:
    """Every figure that fits ``derivation``, in the order the handout shows them."""
    out = result_figures(derivation, seed)
    graph = next((c for c in derivation.cases if wants_graph(c)), None)
    if graph is not None:
        out.append(computational_graph(graph))
    staged = next((c for c in derivation.cases if wants_stage_graph(c)), None)
    if graph is None and staged is not None:
        out.append(stage_graph(staged))
    loss = next((c for c in derivation.cases if _is_scalar_loss(c)), None)
    heads = next((c for c in derivation.cases if len(heads_of(c)) >= 2), None)
    if heads is not None:
        out.append(head_maps(heads, seed))
    for number, case in enumerate(derivation.cases):
        if _is_vector_output(case):
            out.append(jacobian_heatmap(case, seed))
        if case is loss and not {a.name for a in case.samplers} >= ATTENTION_INPUTS:
            out.append(gradient_heatmaps(case, seed))
        if {a.name for a in case.samplers} >= ATTENTION_INPUTS:
            out.append(attention_maps(case, seed))
        if number == 0:
            out.append(step_size_curve(case, seed))
    return out


# ---------------------------------------------------------------- drawing helpers
def case_inputs(case: Case, seed: int):
    """(inputs in order, forward, gradient, the seeded input values), as the checks use them."""
    args, f, grad = case_functions(case)
    inputs = numeric.sample_inputs(case.samplers, case.numeric_size, seed)
    return args, f, grad, [np.asarray(inputs[a]) for a in args]


def _is_vector_output(case: Case) -> bool:
    rows, cols = numeric.shape_of(case.forward, case.numeric_size)
    return cols == 1 and rows > 1


# ---------------------------------------------------------------- the figures
def jacobian_heatmap(case: Case, seed: int = 0) -> Figure:
    """The Jacobian of a vector-valued case at its seeded random input."""
    _, _, grad, values = case_inputs(case, seed)
    jacobian = np.real(grad(*values)[0])
    wrt, wrt_tex = case.wrt[0].name, expr_to_latex(case.wrt[0])
    fig = _figure(4.6, 3.6)
    ax = fig.add_subplot()
    heatmap(ax, jacobian, f"Jacobian $J_{{ij}}$ with respect to ${wrt}$", label="$J_{ij}$")
    ax.set_xlabel(f"$j$ (entry ${wrt}_j$)")
    ax.set_ylabel("$i$ (entry $i$ of the output)")
    row_sums = float(np.max(np.abs(jacobian.sum(axis=1))))
    asymmetry = float(np.max(np.abs(jacobian - jacobian.T))) if _square(jacobian) else None
    facts = f"the largest row sum is ${num(row_sums)}$ in absolute value"
    if asymmetry is not None:
        facts += rf", and $\max|J - J^{{\top}}| = {num(asymmetry)}$"
    caption = (
        f"The Jacobian of case ``{text_to_latex(case.name)}'' at the random ${wrt_tex}$ of "
        f"the checks ({_sizes(case)}), computed by the checked NumPy code of the closed form: "
        f"{facts}. Red entries are positive, blue negative."
    )
    return Figure(f"jacobian-{_slug(case.name)}", _pdf(fig), caption, r"0.55\linewidth")


def _is_scalar_loss(case: Case) -> bool:
    """A scalar function of at least one vector or matrix input it is differentiated by."""
    if numeric.shape_of(case.forward, case.numeric_size) != (1, 1):
        return False
    return any(numeric.shape_of(w, case.numeric_size) != (1, 1) for w in case.wrt)


def gradient_heatmaps(case: Case, seed: int = 0) -> Figure:
    """The derived gradients of a scalar loss, by each vector or matrix input, at the seeded
    inputs of the checks (at most three, side by side)."""
    _, _, grad, values = case_inputs(case, seed)
    gradients = [np.real(np.asarray(g)) for g in grad(*values)]
    chosen = [
        (w, g)
        for w, g in zip(case.wrt, gradients, strict=True)
        if numeric.shape_of(w, case.numeric_size) != (1, 1)
    ][:3]
    fig = _figure(2.6 * len(chosen) + 0.6, 2.6)
    axes = np.atleast_1d(fig.subplots(1, len(chosen)))
    for ax, (w, g) in zip(axes, chosen, strict=True):
        symbol = expr_to_latex(w)
        matrix = g.reshape(g.shape[0], -1)
        heatmap(
            ax,
            matrix,
            f"$\\partial L/\\partial {symbol}$",
            label=f"$\\partial L/\\partial {symbol}$",
        )
        ax.set_xlabel("column" if matrix.shape[1] > 1 else "")
        ax.set_ylabel("row")
    said = ", ".join(f"$\\partial L/\\partial {expr_to_latex(w)}$" for w, _ in chosen)
    caption = (
        f"The gradients {said} of case ``{text_to_latex(case.name)}'' ({_sizes(case)}) at the "
        "random inputs of the checks, computed by the checked NumPy code of the closed form: "
        "each has the shape of its input, entry by entry the derivative by that entry. Red "
        "entries are positive (increasing that entry increases the loss), blue negative."
    )
    width = min(0.9, 0.1 + 0.27 * len(chosen))  # a single vector should not fill the page
    return Figure(f"gradients-{_slug(case.name)}", _pdf(fig), caption, f"{width:.2f}\\linewidth")


def _square(m: np.ndarray) -> bool:
    return m.shape[0] == m.shape[1]


def step_size_errors(case: Case, seed: int = 0):
    """Relative errors of central differences and of the complex step, against h.

    The derivative is taken along a seeded random direction of ``case.wrt[0]`` and
    compared with the closed form; returns (h for differences, their errors, h for the
    complex step, its errors).
    """
    args, f, grad, values = case_inputs(case, seed)
    position = args.index(case.wrt[0])
    rng = np.random.default_rng(seed + 1)
    direction = rng.standard_normal(values[position].shape)
    exact = _directional(f, grad, values, position, direction)

    def shifted(h):
        moved = list(values)
        moved[position] = values[position] + h * direction
        return np.asarray(f(*moved))

    steps_fd = np.logspace(-15, -1, 57)
    steps_cs = np.logspace(-20, -1, 39)
    fd = np.array([_relative((shifted(h) - shifted(-h)) / (2 * h), exact) for h in steps_fd])
    cs = np.array([_relative(np.imag(shifted(1j * h)) / h, exact) for h in steps_cs])
    return steps_fd, fd, steps_cs, cs


def step_size_curve(case: Case, seed: int = 0) -> Figure:
    """The V of central differences against h, with the complex step beside it."""
    steps_fd, fd, steps_cs, cs = step_size_errors(case, seed)
    fig = _figure(6.4, 2.8)
    left, right = fig.subplots(1, 2, sharey=True)
    left.loglog(steps_fd, fd, "o-", markersize=2.5, color="tab:blue")
    left.axvline(FD_STEP, color="gray", linestyle=":", linewidth=1)
    left.set_title("central differences", fontsize=10)
    left.set_ylabel("relative error")
    right.loglog(steps_cs, cs, "o-", markersize=2.5, color="tab:green")
    right.set_title("complex step", fontsize=10)
    from matplotlib.ticker import LogLocator  # matplotlib is optional: import it on use

    for ax in (left, right):
        ax.set_xlabel("step size h")
        ax.xaxis.set_major_locator(LogLocator(numticks=5))
        ax.grid(True, which="major", linewidth=0.3)
    best = int(np.argmin(fd))
    sizes = _sizes(case)
    where = f"case ``{text_to_latex(case.name)}''" + (f", {sizes}" if sizes else "")
    used = "$h = 10^{-5}$ the check uses"
    if _truncation_shows(fd):
        left_text = (
            f"the error falls as $h^2$ until rounding, which grows as $\\varepsilon/h$, takes "
            f"over: the best step is near $h = {num(steps_fd[best], 0)}$ with error "
            f"${num(fd[best])}$ (dotted: the {used})"
        )
    else:  # at most quadratic along the line: the central difference is exact but for rounding
        left_text = (
            "the function is at most quadratic along this direction, so central differences "
            "make no truncation error and only rounding's $\\varepsilon/h$ is left: the "
            f"error falls as $h$ grows, {_at_largest(fd[-1], steps_fd[-1])} (dotted: the {used})"
        )
    caption = (
        f"Checking the gradient with respect to ${expr_to_latex(case.wrt[0])}$ ({where}) "
        f"along a random direction. Left: central differences; {left_text}. Right: the "
        f"complex step has no subtraction, so its error stays near "
        f"${num(float(np.median(cs[:20])), 0)}$ for every small $h$."
    )
    return Figure("step-size", _pdf(fig), caption, r"0.95\linewidth")


def _truncation_shows(errors: np.ndarray) -> bool:
    """Whether the error of central differences rises again at large h (the h² of the
    third derivative): at the largest step it is 100 times its smallest, or more. On a
    function at most quadratic along the line it never does."""
    return bool(errors[-1] > 100 * max(float(np.min(errors)), 1e-17))


def _at_largest(error: float, h: float) -> str:
    if error <= 1e-17:  # the floor of _relative: no error at all
        return f"and at $h = {num(h, 0)}$ the difference is exact"
    return f"to ${num(error)}$ at $h = {num(h, 0)}$"


def _directional(f, grad, values, position, direction) -> np.ndarray:
    """The exact derivative of f along ``direction``, from the closed-form gradient."""
    g = np.asarray(grad(*values)[0])
    out = np.asarray(f(*values))
    if out.size == 1:  # a scalar loss: the gradient has the shape of the input
        return np.asarray(np.sum(g * direction))
    return g @ direction.reshape(-1, 1)  # a Jacobian, numerator layout


def _relative(estimate: np.ndarray, exact: np.ndarray) -> float:
    error = float(np.linalg.norm(np.real(estimate) - exact))
    # Floor at 1e-17 so an exact zero still shows on a log axis.
    return max(error / max(float(np.linalg.norm(exact)), 1e-300), 1e-17)


def attention_matrices(named: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """P = softmax(QKᵀ/√d) by rows (masked if a mask is given) and ∂L/∂S.

    For L = Σ G ⊙ (PV), the upstream gradient is ∂L/∂P = GVᵀ, and the row softmax's
    Jacobian turns it into ∂L/∂S = P ⊙ (∂L/∂P − rowsum(P ⊙ ∂L/∂P)).
    """
    q, k, v, g = (named[n] for n in ("Q", "K", "V", "G"))
    mask = _mask(named)
    scores = q @ k.T / np.sqrt(k.shape[1])
    p = numeric.softmax(scores, axis=1) if mask is None else numeric.masked_softmax(scores, mask)
    upstream = g @ v.T
    return p, p * (upstream - np.sum(p * upstream, axis=1, keepdims=True))


def attention_maps(case: Case, seed: int = 0) -> Figure:
    """Heatmaps of P and ∂L/∂S at the case's seeded inputs."""
    args, _, _, values = case_inputs(case, seed)
    named = {a.name: v for a, v in zip(args, values, strict=True)}
    p, d_scores = attention_matrices(named)
    fig = _figure(6.4, 2.9)
    left, right = fig.subplots(1, 2)
    heatmap(left, p, "attention P (rows sum to 1)", diverging=False)
    heatmap(right, d_scores, "∂L/∂S (rows sum to 0)")
    for ax in (left, right):
        ax.set_xlabel("key")
        ax.set_ylabel("query")
    masked = " with the causal mask (zeros above the diagonal)" if _mask(named) is not None else ""
    caption = (
        f"Case ``{text_to_latex(case.name)}'' ({_sizes(case)}){masked}. Left: the attention matrix "
        r"$P = \operatorname{softmax}_{\mathrm{row}}(QK^{\top}/\sqrt{d})$. Right: "
        r"$\partial L/\partial S = P \odot (\partial L/\partial P - "
        r"\operatorname{rowsum}(P \odot \partial L/\partial P))$ with "
        r"$\partial L/\partial P = GV^{\top}$; its largest row sum is "
        f"${num(float(np.max(np.abs(d_scores.sum(axis=1)))))}$ in absolute value."
    )
    return Figure(f"attention-{_slug(case.name)}", _pdf(fig), caption, r"0.95\linewidth")


def heads_of(case: Case) -> list[sp.MatrixSymbol]:
    """The attention matrices (masked softmaxes) among the stages of ``case``: its heads."""
    if case.stages is None:
        return []
    return [k for k, v in case.stages.definitions.items() if isinstance(v, MaskedSoftmax)]


# Each head's terms are computed apart and summed: float64 rounding, far below this.
SHARES_TOLERANCE = 1e-10


def head_matrices(case: Case, seed: int = 0):
    """(heads, their terms of the input's gradient, each head's attention matrix, each
    term's value, the largest gap between the terms' sum and the checked gradient), at
    the checks' seeded inputs, computed by the case's checked staged code."""
    heads, stages = heads_of(case), case.stages
    if stages is None or len(heads) < 2:
        raise ValueError(f"case {case.name!r} has no heads to draw")
    terms = sp.MatAdd.make_args(stages.gradients[0])
    uses = [stage_order(stages.definitions, [t]) for t in terms]
    pairs = list(zip(terms, uses, strict=True))
    shares = [sp.MatAdd(*[t for t, used in pairs if head in used]) for head in heads]
    args = list(case.samplers)
    code = compile_stages(args, stages.definitions, [*heads, *shares], case.numeric_size)
    inputs = numeric.sample_inputs(case.samplers, case.numeric_size, seed)
    values = [np.real(np.asarray(v)) for v in code(*(np.asarray(inputs[a]) for a in args))]
    probs, parts = values[: len(heads)], values[len(heads) :]
    total = np.real(case_functions(case)[2](*(np.asarray(inputs[a]) for a in args))[0])
    return heads, shares, probs, parts, float(np.max(np.abs(sum(parts) - total)))


def draw_heads(fig, names: list[str], probs, parts, term: str) -> None:
    """Two rows of heatmaps on ``fig``: each head's attention matrix (titled and its
    colour bar labelled by its name), and below it its term of the input's gradient
    (colour bar ``term``). Shared by the handouts' figure and the notebooks' plot."""
    axes = np.atleast_2d(fig.subplots(2, len(names)))
    for number, (name, p, part) in enumerate(zip(names, probs, parts, strict=True)):
        top, bottom = axes[0, number], axes[1, number]
        heatmap(top, p, f"head {number + 1}: {name}", diverging=False, annotate=False,
                label=name)  # fmt: skip
        top.set_xlabel("key")
        top.set_ylabel("query")
        heatmap(bottom, part, f"head {number + 1}", annotate=False, label=term)
        bottom.set_xlabel("column")
        bottom.set_ylabel("row")


def head_maps(case: Case, seed: int = 0) -> Figure:
    """Each head's attention matrix and its term of the input's gradient."""
    heads, shares, probs, parts, gap = head_matrices(case, seed)
    wrt = expr_to_latex(case.wrt[0])
    fig = _figure(2.2 * len(heads) + 0.4, 4.6)
    names = [f"${expr_to_latex(head)}$" for head in heads]
    draw_heads(fig, names, probs, parts, f"its term of $\\partial L/\\partial {wrt}$")
    said = ", ".join(f"${expr_to_latex(t)}$" for t in shares)
    caption = (
        f"Case ``{text_to_latex(case.name)}'' ({_sizes(case)}), at the random inputs of the "
        "checks. Top: each head's attention matrix (causal: zeros above the diagonal); the "
        "heads share the input but attend differently. Bottom: each head's term of "
        f"$\\partial L/\\partial {wrt}$ ({said}); "
        + (
            f"the terms add up to $\\partial L/\\partial {wrt}$ as the checked code "
            f"computes it, to ${num(gap)}$."
            if gap <= SHARES_TOLERANCE
            else f"the terms do \\textbf{{not}} add up to $\\partial L/\\partial {wrt}$ as "
            f"the checked code computes it: they differ by ${num(gap)}$."
        )
    )
    return Figure(f"heads-{_slug(case.name)}", _pdf(fig), caption, r"0.8\linewidth")


def _mask(named: dict[str, np.ndarray]) -> np.ndarray | None:
    """A square 0/1 input other than Q, K, V, G is the attention mask."""
    for name, value in named.items():
        if name in ATTENTION_INPUTS or value.ndim != 2 or value.shape[0] != value.shape[1]:
            continue
        if np.all((value == 0) | (value == 1)):
            return value
    return None
