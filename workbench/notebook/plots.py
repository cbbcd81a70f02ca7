"""Plots for notebooks, drawn from a derivation's own cases with its checked NumPy code.

Every function returns a :class:`Plot` (a matplotlib figure and a caption) that a
notebook shows as an image with its caption; pyplot is never used, so nothing is drawn
twice and no global figure state is kept. Each number in a caption is computed from the
compiled closed form at the seeded inputs the checks use. As in :mod:`workbench.render.figures`
(the handouts' figures), a plot is chosen by what a case *is*, never by its slug:
:func:`plots_for` draws every plot that fits.

Example:
    >>> from workbench.core import registry
    >>> d = registry.get("softmax-jacobian")
    >>> plot_jacobian(d).caption[:16]                               # doctest: +SKIP
    'The Jacobian ∂s/'
"""

from __future__ import annotations

import numpy as np
import sympy as sp
from sympy.matrices.expressions.matexpr import MatrixElement

from workbench.codegen import numeric
from workbench.core.derivation import Case, Derivation
from workbench.notebook.canvas import Plot, Plots, _figure
from workbench.notebook.curves import plot_result_curves
from workbench.render.figures import (
    ATTENTION_INPUTS,
    SHARES_TOLERANCE,
    attention_matrices,
    case_inputs,
    draw_heads,
    head_matrices,
    heads_of,
    heatmap,
    step_size_errors,
)
from workbench.render.unicode_math import SUBSCRIPT


def _case(derivation: Derivation, case: str | None) -> Case:
    for c in derivation.cases:
        if case is None or c.name == case:
            return c
    names = ", ".join(c.name for c in derivation.cases) or "none"
    raise ValueError(f"{derivation.slug} has no case {case!r} (cases: {names})")


def _evaluate(c: Case, seed: int):
    """The case's compiled functions and its seeded inputs, as the checks use them."""
    args, f, grad, values = case_inputs(c, seed)
    return args, f, grad, [np.asarray(v, dtype=float) for v in values]


def is_vector_output(c: Case) -> bool:
    rows, cols = numeric.shape_of(c.forward, c.numeric_size)
    return cols == 1 and rows > 1


# ---------------------------------------------------------------- the plots
def plot_jacobian(derivation: Derivation, case: str | None = None, seed: int = 0) -> Plot:
    """The closed-form Jacobian of a vector-valued case at the seeded input, as a heatmap."""
    c = _case(derivation, case)
    _, _, grad, values = _evaluate(c, seed)
    jacobian = np.real(grad(*values)[0])
    wrt = c.wrt[0].name
    fig = _figure(4.4, 3.5)
    ax = fig.add_subplot()
    heatmap(
        ax, jacobian, f"Jacobian $J_{{ij}}$ with respect to ${wrt}$", fontsize=7, label="$J_{ij}$"
    )
    ax.set_xlabel(f"$j$ (entry ${wrt}_j$)")
    ax.set_ylabel("$i$ (entry $i$ of the output)")
    caption = (
        f"The Jacobian of case '{c.name}' at the random {wrt} of the checks, from the checked "
        f"closed form: the largest row sum is {np.max(np.abs(jacobian.sum(axis=1))):.1e}"
    )
    if jacobian.shape[0] == jacobian.shape[1]:
        caption += f", and max |J − Jᵀ| = {np.max(np.abs(jacobian - jacobian.T)):.1e}"
    return Plot(fig, caption + ". Red is positive, blue negative.")


def plot_sweep(
    derivation: Derivation, case: str | None = None, entry: int = 0, span: float = 3.0, seed=0
) -> Plot:
    """Each output as one entry of the (column) input moves, with the closed form's tangents.

    For a scalar output (a loss) there is one curve, and the tangent's slope is entry
    ``entry`` of the gradient; for a vector output, one curve per output, and the slopes
    are column ``entry`` of the Jacobian.
    """
    c = _case(derivation, case)
    args, f, grad, values = _evaluate(c, seed)
    position = args.index(c.wrt[0])
    x0 = values[position]
    if x0.shape[1] != 1:
        raise ValueError(f"case {c.name!r}: {c.wrt[0].name} is a matrix; sweep a column input")
    derivative = np.real(grad(*values)[0])
    # Numerator layout: row i holds ∂(output i)/∂x; a scalar's gradient is one such row.
    jacobian = derivative.reshape(1, -1) if not is_vector_output(c) else derivative
    centre = float(x0[entry, 0])

    def outputs_at(v: float) -> np.ndarray:
        moved = list(values)
        moved[position] = x0.copy()
        moved[position][entry, 0] = v
        return np.real(np.asarray(f(*moved))).ravel()

    t = np.linspace(centre - span, centre + span, 121)
    curves = np.array([outputs_at(v) for v in t])
    h = 1e-5
    slopes = (outputs_at(centre + h) - outputs_at(centre - h)) / (2 * h)
    fig = _figure(5.6, 3.4)
    ax = fig.add_subplot()
    wrt = c.wrt[0].name
    at = outputs_at(centre)
    name = _output_name(derivation)
    moved = f"{wrt}{_sub(entry)}"
    for i in range(curves.shape[1]):
        label = f"{name}{_sub(i)}" if curves.shape[1] > 1 else name
        (line,) = ax.plot(t, curves[:, i], label=label)
        near = np.linspace(centre - 0.8, centre + 0.8, 2)
        ax.plot(near, at[i] + jacobian[i, entry] * (near - centre), "--", color=line.get_color())
        ax.plot([centre], [at[i]], "o", color=line.get_color(), markersize=3)
    ax.axvline(centre, color="gray", linestyle=":", linewidth=1)
    ax.set_xlabel(f"{moved} (the other inputs held at the checked point)")
    ax.set_ylabel(f"{name}ᵢ" if curves.shape[1] > 1 else name)
    ax.legend(fontsize=7, ncol=2)
    gap = float(np.max(np.abs(slopes - jacobian[:, entry])))
    what = "column" if curves.shape[1] > 1 else "entry"
    source = "Jacobian" if curves.shape[1] > 1 else "gradient"
    caption = (
        f"{_outputs(name, curves.shape[1])} as {moved} moves (case '{c.name}'). Dashed: "
        f"tangents whose slopes are {what} {entry} of the closed-form {source} at the "
        f"dotted point; they differ from central differences of the curves by at most "
        f"{gap:.1e}."
    )
    return Plot(fig, caption)


def _sub(number: int) -> str:
    return str(number).translate(SUBSCRIPT)


def _output_name(derivation: Derivation) -> str:
    """The name the derivation gives its output: s of ∂sᵢ/∂zⱼ, L of ∂L/∂z (else "f")."""
    goal = derivation.results[0].goal if derivation.results else None
    expr = getattr(goal, "expr", None)
    if isinstance(expr, MatrixElement):
        expr = expr.parent
    return (
        sp.pretty(expr, use_unicode=True) if isinstance(expr, sp.Symbol | sp.MatrixSymbol) else "f"
    )


def _outputs(name: str, count: int) -> str:
    """ "The outputs s₀ … s₅" or "L", for a caption's start."""
    if count == 1:
        return f"The function {name}"
    return f"The outputs {name}{_sub(0)} … {name}{_sub(count - 1)}"


def plot_tangent(derivation: Derivation, case: str | None = None, seed: int = 0) -> Plot:
    """A scalar case along a random direction through the checked point, and its tangent."""
    c = _case(derivation, case)
    args, f, grad, values = _evaluate(c, seed)
    positions = [args.index(w) for w in c.wrt]
    rng = np.random.default_rng(seed + 1)
    direction = [rng.standard_normal(values[p].shape) for p in positions]
    norm = float(np.sqrt(sum(np.sum(d * d) for d in direction)))
    direction = [d / norm for d in direction]  # unit length, so t is a distance
    slope = float(
        sum(np.sum(np.real(g) * d) for g, d in zip(grad(*values), direction, strict=True))
    )

    def loss_at(t: float) -> float:
        moved = list(values)
        for p, d in zip(positions, direction, strict=True):
            moved[p] = values[p] + t * d
        return float(np.real(f(*moved)))

    t = np.linspace(-1.5, 1.5, 121)
    loss = np.array([loss_at(v) for v in t])
    central = (loss_at(1e-5) - loss_at(-1e-5)) / 2e-5
    fig = _figure(5.2, 3.2)
    ax = fig.add_subplot()
    ax.plot(t, loss, label="the function along the direction")
    near = np.linspace(-0.5, 0.5, 2)
    ax.plot(near, loss_at(0.0) + slope * near, "--", label="tangent from the closed form")
    ax.plot([0], [loss_at(0.0)], "o", color="black", markersize=4)
    ax.set_xlabel("t (distance along a random unit direction)")
    ax.legend(fontsize=8)
    names = ", ".join(w.name for w in c.wrt)
    caption = (
        f"The function along a random direction in ({names}) through the checked point "
        f"(case '{c.name}'). The closed-form gradient predicts the slope {slope:.6f}; a central "
        f"difference of the curve gives {central:.6f} (difference {abs(slope - central):.1e})."
    )
    return Plot(fig, caption)


def plot_gradients(derivation: Derivation, case: str | None = None, seed: int = 0) -> Plot:
    """Each closed-form gradient of a case at the seeded inputs, one heatmap per input."""
    c = _case(derivation, case)
    _, _, grad, values = _evaluate(c, seed)
    grads = grad(*values)
    fig = _figure(2.6 * len(grads) + 0.6, 3.0)
    for ax, w, g in zip(fig.subplots(1, len(grads), squeeze=False)[0], c.wrt, grads, strict=True):
        heatmap(ax, np.real(g), f"∂L/∂{w.name}", fontsize=7, label=f"∂L/∂{w.name}")
    pairs = zip(c.wrt, grads, strict=True)
    shapes = ", ".join(f"{w.name}: {g.shape[0]}×{g.shape[1]}" for w, g in pairs)
    caption = (
        f"The closed-form gradients at the checked inputs ({shapes}; case '{c.name}'); "
        "each has the shape of its input."
    )
    return Plot(fig, caption)


def plot_attention(derivation: Derivation, case: str | None = None, seed: int = 0) -> Plot:
    """The attention matrix P and ∂L/∂S at the seeded inputs of an attention case."""
    c = _case(derivation, case)
    args, _, _, values = _evaluate(c, seed)
    p, d_scores = attention_matrices({a.name: v for a, v in zip(args, values, strict=True)})
    fig = _figure(7.0, 3.0)
    left, right = fig.subplots(1, 2)
    heatmap(left, p, "attention P (rows sum to 1)", diverging=False, fontsize=7)
    heatmap(right, d_scores, "∂L/∂S (rows sum to 0)", fontsize=7)
    for ax in (left, right):
        ax.set_xlabel("key")
        ax.set_ylabel("query")
    caption = (
        f"Which key each query attends to (left), and the gradient of the scores (right), "
        f"in case '{c.name}'. Row sums: P {np.max(np.abs(p.sum(axis=1) - 1)):.1e} from 1, "
        f"∂L/∂S {np.max(np.abs(d_scores.sum(axis=1))):.1e} from 0."
    )
    return Plot(fig, caption)


def plot_heads(derivation: Derivation, case: str | None = None, seed: int = 0) -> Plot:
    """Each head's attention matrix and its term of the input's gradient (several heads)."""
    c = _case(derivation, case)
    heads, _, probs, parts, gap = head_matrices(c, seed)
    wrt = c.wrt[0].name
    fig = _figure(2.6 * len(heads) + 0.4, 5.2)
    draw_heads(fig, [head.name for head in heads], probs, parts, f"its term of ∂L/∂{wrt}")
    caption = (
        f"Each head's attention matrix (top; causal, zeros above the diagonal) in case "
        f"'{c.name}', and its term of ∂L/∂{wrt} (bottom). The heads read the same input and "
        f"attend differently; "
        + (
            f"their terms add up to the checked ∂L/∂{wrt} to {gap:.1e}."
            if gap <= SHARES_TOLERANCE
            else f"their terms do NOT add up to the checked ∂L/∂{wrt}: they differ by {gap:.1e}."
        )
    )
    return Plot(fig, caption)


def plot_step_size(derivation: Derivation, case: str | None = None, seed: int = 0) -> Plot:
    """The error of central differences and of the complex step against the step size h."""
    c = _case(derivation, case)
    steps_fd, fd, steps_cs, cs = step_size_errors(c, seed)
    fig = _figure(6.4, 2.8)
    left, right = fig.subplots(1, 2, sharey=True)
    left.loglog(steps_fd, fd, "o-", markersize=2.5)
    left.axvline(1e-5, color="gray", linestyle=":", linewidth=1)
    left.set_title("central differences", fontsize=10)
    left.set_ylabel("relative error")
    right.loglog(steps_cs, cs, "o-", markersize=2.5, color="tab:green")
    right.set_title("complex step", fontsize=10)
    for ax in (left, right):
        ax.set_xlabel("step size h")
    best = int(np.argmin(fd))
    caption = (
        f"Checking case '{c.name}': central differences are best near h = {steps_fd[best]:.0e} "
        f"(error {fd[best]:.1e}; dotted, the h = 1e-5 the check uses): truncation falls as "
        f"h², rounding grows as ε/h. The complex step has no subtraction: its median error "
        f"for h ≤ 1e-10 is {np.median(cs[steps_cs <= 1e-10]):.1e}."
    )
    return Plot(fig, caption)


def plots_for(derivation: Derivation, seed: int = 0) -> Plots:
    """Every plot that fits: Jacobian and sweep (vector outputs), attention maps,
    tangent (scalar outputs), the heads of attention with several, and curves of
    one-variable results (:mod:`display_curves`)."""
    out = []
    for c in derivation.cases:
        if is_vector_output(c):
            out += [plot_jacobian(derivation, c.name, seed), plot_sweep(derivation, c.name)]
        elif {a.name for a in c.samplers} >= ATTENTION_INPUTS:
            out.append(plot_attention(derivation, c.name, seed))
        else:
            out.append(plot_tangent(derivation, c.name, seed))
    several = next((c for c in derivation.cases if len(heads_of(c)) >= 2), None)
    if several is not None:
        out.append(plot_heads(derivation, several.name, seed))
    curves = plot_result_curves(derivation)
    if curves is not None:
        out.append(curves)
    return Plots(tuple(out), derivation.title)
