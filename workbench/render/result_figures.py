"""Figures of a result itself, drawn from its closed form (the ones the checks compared).

:mod:`workbench.render.figures` draws what a *case* is (a Jacobian, attention maps, the
step-size curve); this module draws what a *result* is, recognised by the shape of its
closed form, never by a slug:

* a quadratic form ``wᵀ S w`` (the variance of a projection) → the variance against the
  angle of a unit ``w`` in the plane, for a seeded covariance, with its eigen-directions;
* a closed form in a step count ``t`` and rates ``β`` (``γ(1 − β₁ᵗ)``) → the factor
  ``1 − βᵗ`` against ``t``: how biased the early steps are;
* a closed form in ``μ₁, σ₁, μ₂, σ₂`` (two one-dimensional Gaussians) → both densities at
  seeded parameters, with the KL the closed form gives and a quadrature beside it;
* a sum ``Σⱼ u_{i+j} w_j`` over a window → the banded Toeplitz matrix ``T`` with
  ``(T u)ᵢ`` that sum, read off the closed form by differentiating it;
* a softmax of a vector and one number (``softmax(λf)``, ``softmax(z − m𝟏)``) → each
  entry against that number: a family that moves, or one the shift leaves flat;
* a derivative ``∂ℓ/∂θ`` beside a result for ``θ`` itself (a score and its estimate) → the
  derivative against ``θ`` at seeded data, crossing zero at the estimate;
* a function of a joint table ``P`` and the product of its marginals ``p_x p_yᵀ``
  (mutual information) → its value for two binary variables against how often they
  agree, and for seeded random tables against their distance from independence;
* a softmax minus a vector of its shape, ``s − y`` with ``s = softmax(z)``, by that
  very ``z`` (the gradient of a cross-entropy in its logits) → bars of ``s``, the target
  and ``s − y`` per entry, at seeded logits and a seeded one-hot target (or, for a target
  defined from one-hot rows, ``p̂ = Yᵀ𝟏/N``, that definition at seeded rows);
* a column affine in the variable ``h`` with Jacobian a square ``H`` and one other vector
  ``g`` (``H h + g``, the gradient of a quadratic model) → the model's contours at a
  seeded positive-definite 2 × 2 ``H``, its minimiser ``−H⁻¹g``, one Newton step and one
  gradient step from ``h = 0``;
* a column affine in ``w`` with Jacobian a positive number times ``XᵀX``, in ``X``, ``w``
  and ``y`` alone (``2Xᵀ(Xw − y)``) → seeded points with a column of ones in ``X``, the
  line at the solution of the normal equations, and its residuals;
* a closed form of one variable (``exp(H)``) → its curve.

Every number comes from the result's closed form, at seeded values, through the
project's code generation (:func:`workbench.codegen.numeric.compile_numpy`) or SymPy.

Example:
    >>> from workbench.core import registry
    >>> [f.name for f in result_figures(registry.get("pca-variance"))]  # doctest: +SKIP
    ['variance-angle']
"""

from __future__ import annotations

import numpy as np
import sympy as sp
from sympy.matrices.expressions.matexpr import MatrixElement

from workbench.codegen import numeric
from workbench.core.algebra import expand_names
from workbench.core.derivation import Derivation, Result
from workbench.core.functions import Elementwise, Softmax
from workbench.render.drawing import Figure, _figure, _pdf, heatmap
from workbench.render.latex import expr_to_latex, text_to_latex
from workbench.render.latex import number_to_latex as num

STEPS = 5000  # steps t drawn for a bias factor 1 − βᵗ (β₂ = 0.999 needs thousands)
# The usual rates, where a rate is so named: momentum's β, Adam's β₁ and β₂.
RATES = {"beta": 0.9, "beta1": 0.9, "beta2": 0.999}
WINDOW = (8, 3)  # output length M and window K of the drawn Toeplitz matrix
ENTRIES = 4  # entries of the seeded vector a softmax family is drawn at
SAMPLES = 20  # seeded data points a score is drawn at
UNRANGED = (0.0, 3.0)  # where a variable with no sampling range is drawn
CLASSES = 6  # entries of the seeded logits a prediction minus a target is drawn at


def result_figures(derivation: Derivation, seed: int = 0) -> list[Figure]:
    """One figure per kind of result found in ``derivation`` (the first of each kind)."""
    out: dict[str, Figure] = {}
    for result in derivation.results:
        for kind, draw in DRAWERS:
            if kind not in out and _matches(kind, result, derivation.definitions):
                if kind == "score" and not _has_estimate(result, derivation.results):
                    continue  # a derivative with no estimate from a sample beside it
                wants = draw in (bias_factor, step_curve, score_zero)
                extra: dict = {"results": derivation.results} if wants else {}
                if draw in (joint_table, prediction_target):  # p_x = P𝟏, s = softmax(z)
                    extra = {"definitions": derivation.definitions}
                out[kind] = draw(result, seed, **extra)
    if not out:
        curves = one_variable_curves(derivation)
        if curves is not None:
            out["curves"] = curves
    return list(out.values())


def _curve_variable(derivation: Derivation, result: Result) -> sp.Symbol | None:
    """The one variable a closed form can be drawn against, or None.

    It must be the form's only free symbol and not the form itself; and it must have a
    range to draw over: the derivation's sampling domain, the non-negative integers for
    a step count (a positive integer symbol that is no case's size), or, for a real
    symbol with no range of its own (perplexity's entropy H), ``UNRANGED``.
    """
    form = result.closed_form
    free = form.free_symbols
    if len(free) != 1 or form in free:
        return None
    (variable,) = free
    if not isinstance(variable, sp.Symbol):
        return None
    sizes = {str(k) for case in derivation.cases for k in case.numeric_size}
    if str(variable) in derivation.domain:
        return variable
    if variable.is_integer and variable.is_positive and str(variable) not in sizes:
        return variable
    if variable.is_integer is None and variable.is_real is not False:
        return variable
    return None


def one_variable_curves(derivation: Derivation) -> Figure | None:
    """Each closed form of one variable drawn against it (at most two, side by side)."""
    chosen: list[tuple[Result, sp.Symbol]] = []
    for result in derivation.results:
        variable = _curve_variable(derivation, result)
        drawn = [other.closed_form for other, _ in chosen]
        if variable is not None and result.closed_form not in drawn:  # no curve twice
            chosen.append((result, variable))
    chosen = chosen[:2]
    if not chosen:
        return None
    fig = _figure(3.2 * len(chosen), 2.6)
    axes = np.atleast_1d(fig.subplots(1, len(chosen)))
    said = []
    for ax, (result, variable) in zip(axes, chosen, strict=True):
        f = numeric.compile_numpy([variable], result.closed_form)
        name = expr_to_latex(variable)
        ranged = str(variable) in derivation.domain
        if ranged or not (variable.is_integer and variable.is_positive):
            low, high = derivation.domain[str(variable)] if ranged else UNRANGED
            xs = np.linspace(low, high, 400)
            ax.plot(xs, np.broadcast_to(f(xs), xs.shape), color="tab:blue")
            where = rf"${num(low)} \le {name} \le {num(high)}$"
        else:
            xs = np.arange(0, 31).astype(float)
            ax.plot(xs, np.broadcast_to(f(xs), xs.shape), "o", markersize=3, color="tab:blue")
            where = rf"${name} = 0, \dots, 30$"
        ax.axhline(0, color="0.5", linewidth=0.5)
        ax.set_xlabel(f"${name}$")
        if isinstance(result.goal, sp.Symbol):  # the quantity the form is of: PPL, H
            ax.set_ylabel(f"${expr_to_latex(result.goal)}$")
        ax.set_title(f"${expr_to_latex(result.closed_form)}$", fontsize=9)
        ax.grid(True, linewidth=0.3)
        said.append(
            f"{text_to_latex(result.label)} (${expr_to_latex(result.closed_form)}$) for {where}"
        )
    caption = "The closed forms drawn against their variable: " + "; ".join(said) + "."
    return Figure("closed-forms", _pdf(fig), caption, r"0.85\linewidth")


def _names(expr) -> set[str]:
    return {str(s) for s in getattr(expr, "free_symbols", set())}


def _matches(kind: str, result: Result, definitions=None) -> bool:
    form = result.closed_form
    if kind == "quadratic form":
        return (
            isinstance(form, sp.MatMul)
            and len(form.args) == 3
            and form.args[0] == form.args[2].T
            and form.args[1].is_square
        )
    if kind == "bias factor":
        return _bias_factor(form) is not None
    if kind == "step curve":
        return _bias_factor(form) is None and _step_curve(form) is not None
    if kind == "error model":
        return _error_slope(result) is not None
    if kind == "two gaussians":
        return _names(form) == {"mu1", "sigma1", "mu2", "sigma2"}
    if kind == "softmax family":
        return _softmax_family(form) is not None
    if kind == "score":
        return _score(result) is not None
    if kind == "joint table":
        return _joint_table(form) is not None
    if kind == "prediction minus target":
        return _prediction_target(result, definitions) is not None
    if kind == "quadratic model":
        return _newton(result) is not None
    if kind == "least squares":
        return _least_squares(result) is not None
    if kind == "toeplitz":
        return isinstance(form, sp.Sum) and any(
            isinstance(s, sp.MatrixSymbol) for s in form.free_symbols
        ) and "i" in _names(form)  # fmt: skip
    return False


def _bias_factor(form) -> tuple[sp.Expr, sp.Symbol] | None:
    """(1 − βᵗ, β) when ``form`` is a scale times exactly 1 − βᵗ in a step count t."""
    symbols = {str(s): s for s in getattr(form, "free_symbols", ())}
    rates = [symbols[n] for n in sorted(symbols) if n in RATES]
    if "t" not in symbols or len(rates) != 1 or form.has(sp.Sum):
        return None
    scale = {s: 1 for s in symbols.values() if s not in (symbols["t"], rates[0])}
    factor = form.subs(scale)
    if sp.expand(factor - (1 - rates[0] ** symbols["t"])) != 0:
        return None
    return factor, rates[0]


# ---------------------------------------------------------------- the figures
def variance_angle(result: Result, seed: int = 0) -> Figure:
    """wᵀSw for w = (cos θ, sin θ) against θ, at a seeded 2 × 2 covariance S."""
    _, s_sym, w = result.closed_form.args
    rng = np.random.default_rng(seed)
    points = rng.standard_normal((200, 2)) @ np.array([[2.0, 0.0], [1.2, 0.6]])
    points -= points.mean(axis=0)
    cov = points.T @ points / (len(points) - 1)
    theta = sp.Symbol("theta")
    unit = sp.ImmutableMatrix([sp.cos(theta), sp.sin(theta)])
    # The closed form itself, at a concrete S and w (xreplace: the symbols' sizes are n).
    concrete = result.closed_form.xreplace({s_sym: sp.ImmutableMatrix(cov), w: unit}).doit()
    variance = sp.lambdify(theta, sp.Matrix(concrete)[0, 0], "numpy")
    angles = np.linspace(0, np.pi, 361)
    values = np.broadcast_to(variance(angles), angles.shape)
    eigenvalues, vectors = np.linalg.eigh(cov)
    top = np.arctan2(vectors[1, 1], vectors[0, 1]) % np.pi
    fig = _figure(6.4, 2.8)
    left, right = fig.subplots(1, 2, width_ratios=[1.3, 1])
    left.scatter(points[:, 0], points[:, 1], s=3, color="0.5")
    colours = ("tab:orange", "tab:blue")
    for value, vector, colour in zip(eigenvalues, vectors.T, colours, strict=True):
        left.plot(*np.outer([-1, 1], vector * np.sqrt(value) * 2).T, color=colour, linewidth=2)
    left.set_aspect("equal")
    left.set_title("centred data, directions of $S$", fontsize=9)
    right.plot(np.degrees(angles), values, color="tab:blue")
    right.axvline(np.degrees(top), color="tab:blue", linestyle=":")
    right.axhline(eigenvalues[1], color="tab:blue", linestyle="--", linewidth=0.8)
    right.axhline(eigenvalues[0], color="tab:orange", linestyle="--", linewidth=0.8)
    right.set_xlabel(r"angle $\theta$ of $w = (\cos\theta, \sin\theta)$ (degrees)")
    right.set_ylabel(r"$w^{\top} S w$")
    caption = (
        f"The variance of the projection, ${expr_to_latex(result.closed_form)}$, for unit "
        r"$w = (\cos\theta, \sin\theta)$ and the covariance $S$ of 200 seeded points (left). "
        f"It is largest, ${num(eigenvalues[1])} = \\lambda_1$, along the top eigenvector "
        f"(blue, $\\theta = {num(float(np.degrees(top)), 3)}^\\circ$) and smallest, "
        f"${num(eigenvalues[0])} = \\lambda_2$, at right angles to it (orange): the curve "
        "never leaves the band between the eigenvalues, which is the result."
    )
    return Figure("variance-angle", _pdf(fig), caption, r"0.9\linewidth")


def bias_factor(result: Result, seed: int = 0, results=()) -> Figure:
    """1 − βᵗ against t for every rate β of the results: how biased the early moments are."""
    fig = _figure(5.2, 2.8)
    ax = fig.add_subplot()
    steps = np.arange(1, STEPS + 1)
    said = []
    for other in results or (result,):
        found = _bias_factor(other.closed_form)
        if found is None:
            continue
        factor, rate = found
        symbols = {str(s): s for s in factor.free_symbols}
        rates = [str(rate)]
        values = sp.lambdify(symbols["t"], factor.subs(rate, RATES[rates[0]]), "numpy")(steps)
        ax.plot(steps, values, label=f"${expr_to_latex(factor)}$, ${expr_to_latex(rate)} = "
                f"{RATES[rates[0]]}$ ({text_to_latex(other.label)})")  # fmt: skip
        said.append((expr_to_latex(factor.subs(symbols["t"], 10)), float(values[9])))
    ax.set_xscale("log")
    ax.set_xlabel("step $t$ (log scale)")
    ax.set_ylabel(r"$1 - \beta^{t}$")
    ax.set_ylim(0, 1.05)
    ax.legend(fontsize=7, loc="upper left")
    ax.grid(True, linewidth=0.3)
    at_ten = "; ".join(f"${f} = {num(v, 3)}$" for f, v in said)
    caption = (
        "The bias of the moments: each boxed expectation is the true moment times "
        f"$1 - \\beta^{{t}}$, drawn here at the usual rates. After ten steps {at_ten}. "
        r"Dividing by $1 - \beta^{t}$ removes the bias; it matters most while "
        r"$\beta^{t}$ is far from $0$."
    )
    return Figure("bias-factor", _pdf(fig), caption, r"0.75\linewidth")


def _step_curve(form) -> tuple[sp.Symbol, sp.Symbol] | None:
    """(t, β) when ``form`` is a closed form in a step count t and one rate β, no sum."""
    symbols = {str(s): s for s in getattr(form, "free_symbols", ())}
    rates = [symbols[n] for n in sorted(symbols) if n in RATES]
    if "t" not in symbols or len(rates) != 1 or form.has(sp.Sum):
        return None
    return symbols["t"], rates[0]


def step_curve(result: Result, seed: int = 0, results=()) -> Figure:
    """The closed form against the step t at three rates β, with any limit the results give."""
    found = _step_curve(result.closed_form)
    if found is None:
        raise ValueError(f"{result.label}: not a closed form in a step count and one rate")
    t, rate = found
    scale = {s: 1 for s in sorted(result.closed_form.free_symbols, key=str) if s not in (t, rate)}
    curve = result.closed_form.subs(scale)
    limits = [
        other
        for other in results
        if other is not result
        and rate in other.closed_form.free_symbols
        and t not in other.closed_form.free_symbols
    ]
    fig = _figure(5.2, 2.8)
    ax = fig.add_subplot()
    steps = np.arange(0, 51)
    for value, colour in zip((0.5, 0.8, 0.9), ("tab:green", "tab:orange", "tab:blue"), strict=True):
        ys = sp.lambdify(t, curve.subs(rate, value), "numpy")(steps)
        ax.plot(steps, np.broadcast_to(ys, steps.shape), color=colour,
                label=f"${expr_to_latex(rate)} = {value}$")  # fmt: skip
        for other in limits[:1]:
            level = float(other.closed_form.subs(scale).subs(rate, value))
            ax.axhline(level, color=colour, linestyle=":", linewidth=1)
    names = ", ".join(f"${expr_to_latex(s)} = 1$" for s in scale)
    ax.set_xlabel("step $t$")
    ax.set_ylabel(f"${expr_to_latex(curve)}$" if len(expr_to_latex(curve)) < 40 else "")
    ax.legend(fontsize=7, loc="lower right")
    ax.grid(True, linewidth=0.3)
    limit = (
        f"; dotted, the {text_to_latex(limits[0].label)} "
        f"${expr_to_latex(limits[0].closed_form)}$ it tends to"
        if limits
        else ""
    )
    caption = (
        f"{text_to_latex(result.label)}: ${expr_to_latex(result.closed_form)}$ against the "
        f"step $t$ ({names}) at three rates{limit}. The larger "
        f"${expr_to_latex(rate)}$, the longer the memory and the slower the approach."
    )
    return Figure("step-curve", _pdf(fig), caption, r"0.75\linewidth")


def _error_slope(result: Result) -> sp.Symbol | None:
    """h when the result is dE/dh, a sum of powers of a step h (an error model's slope)."""
    goal, form = result.goal, result.closed_form
    if not isinstance(goal, sp.Derivative) or len(goal.variables) != 1:
        return None
    (h,) = goal.variables
    if not isinstance(h, sp.Symbol) or not isinstance(goal.expr, sp.Symbol):
        return None
    powers = []
    for term in sp.Add.make_args(sp.expand(form)):
        _, part = term.as_independent(h)
        power = (
            sp.Integer(1) if part == h else (part.exp if part.is_Pow and part.base == h else None)
        )
        if power is None or not power.is_number:
            return None
        powers.append(power)
    # Terms that fall and terms that grow with h: the error they integrate to has a minimum.
    return h if min(powers) < -1 and max(powers) > -1 else None


def error_model(result: Result, seed: int = 0) -> Figure:
    """E(h) = ∫ dE/dh dh on log-log axes, each term and the best step where dE/dh = 0."""
    h = _error_slope(result)
    # Sorted by name: the same figure and caption on every run (sets have no fixed order).
    symbols = {str(s): s for s in sorted(result.closed_form.free_symbols, key=str) if s != h}
    # The machine epsilon where the form names one; every other constant 1.
    values = {s: (2.0**-52 if n in ("epsilon", "eps") else 1.0) for n, s in symbols.items()}
    error = sp.integrate(sp.expand(result.closed_form), h)
    steps = np.logspace(-10, 0, 400)
    fig = _figure(5.2, 2.8)
    ax = fig.add_subplot()
    for term in sp.Add.make_args(error):
        ys = sp.lambdify(h, term.subs(values), "numpy")(steps)
        ax.loglog(steps, np.abs(np.broadcast_to(ys, steps.shape)), linestyle=":",
                  label=f"${expr_to_latex(term)}$")  # fmt: skip
    total = sp.lambdify(h, error.subs(values), "numpy")(steps)
    ax.loglog(steps, total, color="black", label=f"$E = {expr_to_latex(error)}$")
    best = [r for r in sp.solve(result.closed_form.subs(values), h) if r.is_real and r > 0]
    said = ""
    if best:
        at = float(best[0])
        ax.axvline(at, color="tab:red", linewidth=0.8)
        said = f" The slope vanishes at $h^* = {num(at)}$ (red), the best step."
    ax.set_xlabel(f"step ${expr_to_latex(h)}$")
    ax.set_ylabel("error $E$")
    ax.legend(fontsize=7)
    ax.grid(True, which="major", linewidth=0.3)
    constants = ", ".join(
        f"${expr_to_latex(s)} = {'2^{-52}' if v != 1.0 else '1'}$" for s, v in values.items()
    )
    caption = (
        f"The error model whose slope is the boxed ${expr_to_latex(result.goal)} = "
        f"{expr_to_latex(result.closed_form)}$: integrated in ${expr_to_latex(h)}$, "
        f"$E = {expr_to_latex(error)}$ ({constants}), with each of its terms dotted: one "
        f"falls and one grows with the step, so their sum has a minimum.{said}"
    )
    return Figure("error-model", _pdf(fig), caption, r"0.75\linewidth")


def two_gaussians(result: Result, seed: int = 0) -> Figure:
    """Both densities at seeded parameters, their log ratio, and the KL of the closed form."""
    symbols = {str(s): s for s in result.closed_form.free_symbols}
    rng = np.random.default_rng(seed)
    values = {
        "mu1": round(float(rng.uniform(-1, 1)), 2),
        "sigma1": round(float(rng.uniform(0.5, 1.2)), 2),
        "mu2": round(float(rng.uniform(-1, 1)), 2),
        "sigma2": round(float(rng.uniform(0.8, 2.0)), 2),
    }
    kl = float(result.closed_form.subs({symbols[k]: v for k, v in values.items()}))
    m1, s1, m2, s2 = (values[k] for k in ("mu1", "sigma1", "mu2", "sigma2"))
    x = np.linspace(min(m1 - 4 * s1, m2 - 4 * s2), max(m1 + 4 * s1, m2 + 4 * s2), 2001)
    p = np.exp(-((x - m1) ** 2) / (2 * s1**2)) / (s1 * np.sqrt(2 * np.pi))
    q = np.exp(-((x - m2) ** 2) / (2 * s2**2)) / (s2 * np.sqrt(2 * np.pi))
    integrand = p * np.log(p / q)
    quadrature = float(np.sum((integrand[1:] + integrand[:-1]) / 2 * np.diff(x)))
    fig = _figure(5.6, 2.8)
    ax = fig.add_subplot()
    ax.plot(x, p, label=rf"$p = N(\mu_1, \sigma_1^2)$, $\mu_1 = {m1}$, $\sigma_1 = {s1}$")
    ax.plot(x, q, label=rf"$q = N(\mu_2, \sigma_2^2)$, $\mu_2 = {m2}$, $\sigma_2 = {s2}$")
    ax.fill_between(x, integrand, color="tab:red", alpha=0.25, label=r"$p \log(p/q)$")
    ax.axhline(0, color="0.5", linewidth=0.5)
    ax.set_xlabel("$x$")
    ax.set_ylabel("density")
    ax.legend(fontsize=7)
    caption = (
        r"Two Gaussians $p$ and $q$ at seeded parameters, and $p\log(p/q)$, whose area is "
        rf"$\mathrm{{KL}}(p \,\|\, q)$. The boxed closed form gives ${num(kl)}$; the "
        f"trapezoid rule on the drawn curve gives ${num(quadrature)}$. The red area dips "
        "below zero where $q > p$; the total never does."
    )
    return Figure("two-gaussians", _pdf(fig), caption, r"0.8\linewidth")


def toeplitz(result: Result, seed: int = 0) -> Figure:
    """The matrix T with (T u)ᵢ the closed form, by differentiating it in each u_m."""
    form = result.closed_form
    sizes = {str(s): s for s in form.free_symbols if isinstance(s, sp.Symbol)}
    m, k = WINDOW
    window = {sizes["K"]: k} if "K" in sizes else {}
    form = form.subs(window)  # the inputs' sizes then hold K = k too
    matrices = [s for s in form.free_symbols if isinstance(s, sp.MatrixSymbol)]
    # The weights have the window's length K; the signal is the longer input.
    weights = next(s for s in matrices if s.shape[0] == k)
    signal = next(s for s in matrices if s is not weights)
    positions = np.zeros((m, m + k - 1), dtype=int)
    for row in range(m):
        entry = form.subs(sizes["i"], row).doit()
        for col in range(m + k - 1):
            weight = sp.diff(entry, signal[col, 0])
            if weight != 0:
                positions[row, col] = int(weight.args[1]) + 1  # w[j, 0] → j + 1
    fig = _figure(5.2, 2.6)
    ax = fig.add_subplot()
    heatmap(ax, positions, "", diverging=False, annotate=False, colorbar=False)
    for (r, c), value in np.ndenumerate(positions):
        if value:
            ax.text(c, r, f"${weights}_{value - 1}$", ha="center", va="center", fontsize=8,
                    color="white" if value < k else "black")  # fmt: skip
    ax.set_xlabel(f"column $m$: entry ${signal}_m$")
    ax.set_ylabel("row $i$")
    caption = (
        rf"The matrix $T$ with $(T{signal})_i = {expr_to_latex(result.closed_form)}$, read "
        rf"off the closed form as $T_{{im}} = \partial (T{signal})_i/\partial {signal}_m$ at "
        f"$K = {k}$ and "
        f"{m} outputs: each row is the window ${weights}$ shifted one place to the right, "
        "constant along every diagonal (a Toeplitz matrix), so the convolution is a "
        "matrix product."
    )
    return Figure("toeplitz", _pdf(fig), caption, r"0.7\linewidth")


def _softmax_family(form) -> tuple[sp.Symbol, sp.MatrixSymbol] | None:
    """(the number, the vector) when ``form`` is a softmax of one vector and one number."""
    if not isinstance(form, Softmax):
        return None
    numbers = [s for s in form.free_symbols if isinstance(s, sp.Symbol) and not s.is_integer]
    vectors = [s for s in form.free_symbols if isinstance(s, sp.MatrixSymbol)]
    if len(numbers) != 1 or len(vectors) != 1 or vectors[0].shape[1] != 1:
        return None
    return numbers[0], vectors[0]


def softmax_family(result: Result, seed: int = 0) -> Figure:
    """Each entry of the softmax against its number, at a seeded vector of ENTRIES entries."""
    found = _softmax_family(result.closed_form)
    if found is None:
        raise ValueError(f"{result.label}: not a softmax of one vector and one number")
    number, vector = found
    sizes = {d: ENTRIES for d in vector.shape if isinstance(d, sp.Symbol)}
    f = numeric.compile_numpy([number, vector], result.closed_form, sizes)
    values = np.round(np.random.default_rng(seed).standard_normal((ENTRIES, 1)), 2)
    grid = np.linspace(-3, 3, 121)
    curves = np.hstack([np.asarray(f(float(g), values)).reshape(-1, 1) for g in grid])
    fig = _figure(5.2, 2.8)
    ax = fig.add_subplot()
    v_tex, n_tex = expr_to_latex(vector), expr_to_latex(number)
    for i, row in enumerate(curves):
        ax.plot(grid, row, label=f"entry {i + 1}, ${v_tex}_{{{i + 1}}} = {num(values[i, 0])}$")
    ax.set_xlabel(f"${n_tex}$")
    ax.set_ylabel(f"${expr_to_latex(result.closed_form)}_i$")
    ax.set_ylim(0, 1.02)
    ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.0, 0.5))
    ax.grid(True, linewidth=0.3)
    spread = float(np.max(curves.max(axis=1) - curves.min(axis=1)))
    off = float(np.max(np.abs(curves.sum(axis=0) - 1)))  # measured, not assumed
    total = f"the entries sum to $1$ to within ${num(off)}$ throughout"
    if spread < 1e-12:
        said = (
            f"every entry is flat (it moves by at most ${num(spread)}$): changing "
            f"${n_tex}$ changes nothing, and {total}"
        )
    else:
        top, bottom = int(np.argmax(values)), int(np.argmin(values))
        said = (
            f"at ${n_tex} = 0$ every entry is $1/{ENTRIES}$; as ${n_tex}$ grows the weight "
            f"goes to the largest entry ({top + 1}), as it falls to the smallest "
            f"({bottom + 1}); {total}"
        )
    caption = (
        f"{text_to_latex(result.label)}: ${expr_to_latex(result.closed_form)}$ for a seeded "
        f"${v_tex}$ with {ENTRIES} entries (legend), against ${n_tex}$, computed by the "
        f"generated NumPy code of the closed form: {said}."
    )
    return Figure("softmax-family", _pdf(fig), caption, r"0.8\linewidth")


def _score(result: Result) -> sp.Symbol | None:
    """θ when the result is a derivative ∂ℓ/∂θ of a scalar by a scalar θ (a score)."""
    goal = result.goal
    if not isinstance(goal, sp.Derivative) or len(goal.variables) != 1:
        return None
    (theta,) = goal.variables
    if not isinstance(theta, sp.Symbol) or not isinstance(goal.expr, sp.Symbol):
        return None
    return theta


def _has_estimate(score: Result, results) -> bool:
    """A result gives the score's variable from one column of samples (μ̂ = 𝟏ᵀx/N)."""
    theta = _score(score)
    for other in results:
        if other.goal == theta:
            data = [s for s in other.closed_form.free_symbols if isinstance(s, sp.MatrixSymbol)]
            return len(data) == 1 and data[0].shape[1] == 1
    return False


def score_zero(result: Result, seed: int = 0, results=()) -> Figure:
    """Each score ∂ℓ/∂θ against θ at seeded data, the other parameters at their estimates;
    the estimate of θ, where a result gives one, is where the curve crosses zero."""
    scores = [(r, t) for r in results or (result,) if (t := _score(r)) is not None][:2]
    estimates = {r.goal: r for r in results if isinstance(r.goal, sp.Symbol)}
    data = sorted(
        {
            s
            for r, _ in scores
            for s in r.closed_form.free_symbols
            if isinstance(s, sp.MatrixSymbol)
        },
        key=str,
    )
    sizes = {d: SAMPLES for x in data for d in x.shape if isinstance(d, sp.Symbol)}
    sizes |= {s: SAMPLES for r, _ in scores for s in r.closed_form.free_symbols if s in sizes}
    rng = np.random.default_rng(seed)
    values = {x: np.round(rng.normal(1.0, 0.7, numeric.shape_of(x, sizes)), 2) for x in data}
    at: dict[sp.Symbol, float] = {}
    for theta, estimate in estimates.items():
        free = [s for s in estimate.closed_form.free_symbols if s not in sizes]
        if all(s in values for s in free):
            f = numeric.compile_numpy(free, estimate.closed_form, sizes)
            at[theta] = float(np.asarray(f(*(values[s] for s in free))).ravel()[0])
    fig = _figure(3.2 * len(scores), 2.6)
    axes = np.atleast_1d(fig.subplots(1, len(scores)))
    said = []
    for ax, (score, theta) in zip(axes, scores, strict=True):
        others = sorted(
            (s for s in score.closed_form.free_symbols if s in at and s != theta), key=str
        )
        centre = at.get(theta, 1.0)
        low, high = (centre / 2, 3 * centre) if theta.is_positive else (centre - 2, centre + 2)
        grid = np.linspace(low, high, 200)
        args = [theta, *data, *others]
        f = numeric.compile_numpy(args, score.closed_form, sizes)
        fixed_values = [*(values[x] for x in data), *(at[o] for o in others)]
        ys = [float(np.asarray(f(g, *fixed_values)).ravel()[0]) for g in grid]
        name = expr_to_latex(theta)
        ax.plot(grid, ys, color="tab:blue")
        ax.axhline(0, color="0.5", linewidth=0.5)
        if theta in at:
            ax.axvline(at[theta], color="tab:red", linestyle=":")
            there = float(np.asarray(f(at[theta], *fixed_values)).ravel()[0])
            said.append(f"at $\\hat{{{name}}} = {num(at[theta])}$, "
                        f"${expr_to_latex(score.goal)} = {num(there)}$")  # fmt: skip
        fixed = ", ".join(rf"${expr_to_latex(o)} = \hat{{{expr_to_latex(o)}}}$" for o in others)
        ax.set_title(f"at {fixed}" if fixed else "", fontsize=8)
        ax.set_xlabel(f"${name}$")
        ax.set_ylabel(f"${expr_to_latex(score.goal)}$")
        ax.grid(True, linewidth=0.3)
    named = ", ".join(f"${expr_to_latex(x)}$" for x in data)
    caption = (
        f"The derived derivatives of the log-likelihood at {SAMPLES} seeded data points "
        f"{named}, each against its parameter with the other at its estimate, computed by "
        "the generated NumPy code of the closed forms; the red dotted line is the boxed "
        "estimate at the same data: " + "; ".join(said) + " (zero up to rounding: each "
        "estimate is where its derivative vanishes)."
    )
    return Figure("score-zero", _pdf(fig), caption, r"0.85\linewidth")


def _joint_table(form) -> sp.MatrixSymbol | None:
    """P when ``form`` holds log P and the log of an outer product of two vectors of
    P's sizes, uvᵀ: a joint table against the product of its marginals."""
    logs = [
        e.arg for e in sp.preorder_traversal(form) if isinstance(e, Elementwise) and e.name == "log"
    ]
    tables = [a for a in logs if isinstance(a, sp.MatrixSymbol) and a.shape[1] != 1]
    for table in tables:
        for arg in logs:
            if isinstance(arg, sp.MatMul) and len(arg.args) == 2:
                u, v = arg.args
                if u.shape == (table.shape[0], 1) and v.shape == (1, table.shape[1]):
                    return table
    return None


AGREEMENT = np.linspace(0.001, 0.999, 399)  # P(X = Y) of two fair binary variables
TABLES = (3, 4, 300)  # sizes and count of the seeded random joint tables


def joint_table(result: Result, seed: int = 0, definitions=None) -> Figure:
    """The closed form of a joint table P: for two fair binary variables against how often
    they agree, and for seeded random tables against their distance from p_x p_yᵀ."""
    table = _joint_table(result.closed_form)
    if table is None:
        raise ValueError(f"{result.label}: not a function of a joint table and its marginals")
    form = expand_names(result.closed_form, {
        k: v for k, v in (definitions or {}).items() if isinstance(k, sp.MatrixSymbol)
    })  # fmt: skip
    rows, cols = table.shape

    def compiled(m: int, n: int):
        return numeric.compile_numpy([table], form, {rows: m, cols: n})

    def value(f, joint: np.ndarray) -> float:
        return float(np.asarray(f(joint)).reshape(()))

    two = compiled(2, 2)
    curve = np.array([value(two, np.array([[a, 1 - a], [1 - a, a]]) / 2) for a in AGREEMENT])
    m, n, count = TABLES
    rng = np.random.default_rng(seed)
    f = compiled(m, n)
    distances, infos = [], []
    for _ in range(count):
        joint = rng.dirichlet(np.ones(m * n)).reshape(m, n)
        product = np.outer(joint.sum(1), joint.sum(0))
        mixed = product + rng.uniform(0, 1) ** 2 * (joint - product)  # towards independence
        distances.append(0.5 * float(np.abs(mixed - product).sum()))
        infos.append(value(f, mixed))
    name = f"${result.label}$"  # I(X;Y): the derivation's own symbol
    p, px, py = expr_to_latex(table), r"p_x", r"p_y"
    fig = _figure(6.4, 2.7)
    left, right = fig.subplots(1, 2)
    left.plot(AGREEMENT, curve, color="tab:blue")
    left.axhline(np.log(2), color="0.5", linewidth=0.6, linestyle=":")
    left.axvline(0.5, color="tab:red", linewidth=0.6, linestyle=":")
    left.set_xlabel(r"$a = P(X = Y)$, $X, Y$ fair coins")
    left.set_ylabel(f"{name} (nats)")
    left.set_ylim(0, 0.75)
    left.grid(True, linewidth=0.3)
    right.scatter(distances, infos, s=4, color="tab:blue")
    right.set_xlabel(rf"$\frac{{1}}{{2}}\sum |{p} - {px} {py}^\top|$")
    right.set_ylabel(f"{name} (nats)")
    right.grid(True, linewidth=0.3)
    middle = value(two, np.array([[0.25, 0.25], [0.25, 0.25]]))
    caption = (
        f"{name} $= {expr_to_latex(result.closed_form)}$, computed by the generated NumPy "
        "code of the closed form. Left: two fair binary variables that agree with "
        rf"probability $a$, ${p} = \frac{{1}}{{2}}\left(\begin{{smallmatrix}} a & 1 - a \\ "
        rf"1 - a & a \end{{smallmatrix}}\right)$: at $a = 1/2$ (red) ${p} = {px}{py}^\top$ "
        f"and the value is ${num(middle)}$; it rises to ${num(curve[-1])}$ at "
        rf"$a = {num(AGREEMENT[-1])}$, towards $\log 2 \approx {num(np.log(2))}$ "
        "(dotted), one bit, as either variable comes to determine the other. Right: "
        rf"{count} seeded random ${m} \times {n}$ joint tables, each moved part of the way "
        "towards the product of its marginals, against their distance from it: every "
        rf"value is $\ge 0$ (smallest ${num(min(infos))}$, zero up to rounding) and it "
        "falls to $0$ with the "
        "distance, as a KL divergence does."
    )
    return Figure("joint-table", _pdf(fig), caption, r"0.9\linewidth")


# ---------------------------------------------------------------- a prediction minus a target
def _softmax_and_target(form, definitions) -> tuple[sp.MatrixSymbol, sp.MatrixSymbol] | None:
    """(s, t) when the only names in ``form`` are s, defined as the softmax of one vector,
    and a vector t of its shape (a target)."""
    symbols: set = getattr(form, "free_symbols", set())
    if len(symbols) != 2 or not all(isinstance(x, sp.MatrixSymbol) for x in symbols):
        return None
    softmaxes = [
        x
        for x in symbols
        if isinstance(softmax := (definitions or {}).get(x), Softmax)
        and isinstance(softmax.args[0], sp.MatrixSymbol)
        and softmax.args[0].shape == x.shape
    ]
    if len(softmaxes) != 1:
        return None
    (s,) = softmaxes
    (target,) = symbols - {s}
    return (s, target) if target.shape == s.shape and s.shape[1] == 1 else None


def _prediction_target(result: Result, definitions) -> tuple[sp.MatrixSymbol, ...] | None:
    """(s, t) when the closed form is s − t, s the softmax of the vector the result
    differentiates by and t a target of its shape: the gradient of a cross-entropy in
    its logits (not in a bias that only feeds them, as in a network's ∂L/∂b₂ = s − y)."""
    form = result.closed_form
    found = _softmax_and_target(form, definitions)
    if found is None or form != found[0] - found[1]:
        return None
    return found if definitions[found[0]].args[0] == result.wrt else None


def prediction_target_values(result: Result, definitions, seed: int = 0):
    """(z, s, the target, the closed form) as arrays, at a seeded z of CLASSES entries and
    a seeded target, each computed by the generated NumPy code: s from its definition,
    the closed form with s written out. A target with no definition is one-hot at a seeded
    entry; one defined from one-hot rows (p̂ = Yᵀ𝟏/N) is its definition at SAMPLES
    seeded rows. Any closed form in s and the target is evaluated (s + y too)."""
    found = _softmax_and_target(result.closed_form, definitions)
    if found is None:
        raise ValueError(f"{result.label}: not a closed form in a softmax and a target")
    s, target = found
    softmax = definitions[s]
    (z,) = softmax.args[:1]
    length = s.shape[0]
    sizes: dict = {length: CLASSES} if isinstance(length, sp.Symbol) else {}
    rng = np.random.default_rng(seed)
    logits = np.round(1.5 * rng.standard_normal((CLASSES, 1)), 2)
    made = definitions.get(target)
    if made is None:
        wanted = np.zeros((CLASSES, 1))
        wanted[int(rng.integers(CLASSES)), 0] = 1.0
    else:
        (rows,) = [x for x in made.free_symbols if isinstance(x, sp.MatrixSymbol)]
        sizes |= {d: SAMPLES for d in rows.shape if d not in sizes}
        labels = np.eye(CLASSES)[rng.integers(CLASSES, size=SAMPLES)]
        wanted = np.asarray(numeric.compile_numpy([rows], made, sizes)(labels)).reshape(-1, 1)
    probs = np.asarray(numeric.compile_numpy([z], softmax, sizes)(logits)).reshape(-1, 1)
    written = expand_names(result.closed_form, {s: softmax})
    gradient = numeric.compile_numpy([z, target], written, sizes)(logits, wanted)
    return logits, probs, wanted, np.asarray(gradient, dtype=float).reshape(-1, 1)


def _entries(indices: list[int]) -> str:
    return ", ".join(map(str, indices)) or r"\text{none}"


def prediction_target(result: Result, seed: int = 0, definitions=None) -> Figure:
    """Bars of s, of the target and of the closed form s − t per entry, at seeded values."""
    definitions = definitions or {}
    found = _softmax_and_target(result.closed_form, definitions)
    if found is None:
        raise ValueError(f"{result.label}: not a closed form in a softmax and a target")
    s, target = found
    z = definitions[s].args[0]
    _, probs, wanted, gradient = prediction_target_values(result, definitions, seed)
    s_tex, t_tex, z_tex = (expr_to_latex(x) for x in (s, target, z))
    goal = expr_to_latex(result.goal)
    entries = np.arange(CLASSES)
    fig = _figure(5.6, 2.8)
    ax = fig.add_subplot()
    bars = (
        (probs, f"${s_tex}_j$", "tab:blue"),
        (wanted, f"${t_tex}_j$", "0.6"),
        (gradient, text_to_latex(result.label), "tab:red"),  # ∂L/∂zⱼ as the steps write it
    )
    for offset, (values, label, colour) in zip((-0.27, 0.0, 0.27), bars, strict=True):
        ax.bar(entries + offset, values.ravel(), width=0.27, color=colour, label=label)
    ax.axhline(0, color="0.3", linewidth=0.6)
    ax.set_xticks(entries)
    ax.set_xlabel(f"entry $j$ of ${z_tex}$")
    tallest = max(float(np.max(np.abs(b[0]))) for b in bars)
    ax.set_ylim(-1.1 * tallest, 1.1 * tallest)
    ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.0, 0.5))
    ax.grid(True, axis="y", linewidth=0.3)
    total = float(gradient.sum())
    push = int(np.argmax(np.abs(gradient)))
    if np.count_nonzero(wanted) == 1:
        top = int(np.argmax(wanted))
        where = (
            f"the target is one-hot at $j = {top}$, and the largest push, "
            f"${num(float(gradient[push, 0]))}$, is at $j = {push}$"
            + (", the target's entry" if push == top else "")
            + (
                f"; every other entry is ${s_tex}_j$ itself: a step against the gradient "
                "lowers each wrong logit by the probability it holds"
                if np.allclose(np.delete(gradient, top), np.delete(probs, top), atol=1e-15)
                else ""
            )
        )
    else:
        below = [int(i) for i in np.flatnonzero(gradient.ravel() < 0)]
        above = [int(i) for i in np.flatnonzero(wanted.ravel() > probs.ravel())]
        where = (
            f"${t_tex}$ is the distribution of {SAMPLES} seeded one-hot labels, and the "
            f"gradient is negative at $j = {_entries(below)}$, "
            + (
                f"exactly where ${t_tex}_j > {s_tex}_j$"
                if below == above
                else f"but ${t_tex}_j > {s_tex}_j$ at $j = {_entries(above)}$"
            )
            + "; the largest in size, "
            f"${num(float(gradient[push, 0]))}$, is at $j = {push}$"
        )
    summed = (
        f"zero up to rounding, because ${s_tex}$ and ${t_tex}$ both sum to $1$: a step "
        "against it leaves the sum of the logits where it was"
        if abs(total) < 1e-12
        else "not zero"
    )
    caption = (
        f"${goal} = {expr_to_latex(result.closed_form)}$ for seeded "
        f"logits ${z_tex}$ with {CLASSES} entries, ${s_tex} = "
        rf"\operatorname{{softmax}}({z_tex})$, computed by the generated NumPy code of the "
        f"closed form: {where}. Its entries sum to ${num(total)}$, {summed}."
    )
    return Figure("prediction-target", _pdf(fig), caption, r"0.8\linewidth")


# ---------------------------------------------------------------- affine gradients
def _column(form):
    """The matrix a closed form is an entry of (``(H h + g)ⱼ`` → ``H h + g``), or itself."""
    return form.parent if isinstance(form, MatrixElement) else form


def _jacobian(form, variable: sp.MatrixSymbol, sizes: dict) -> sp.Matrix | None:
    """The Jacobian of the column ``form`` in the column ``variable``, written out at
    concrete ``sizes``, when ``form`` is affine in it (the Jacobian is free of it)."""
    column = sp.Matrix(form.subs(sizes).as_explicit())
    entries = list(sp.Matrix(variable.subs(sizes).as_explicit()))
    jacobian = column.jacobian(entries)
    return None if jacobian.has(*entries) else jacobian


def _newton(result: Result) -> tuple[sp.MatrixSymbol, sp.MatrixSymbol, sp.MatrixSymbol] | None:
    """(H, g, h) when the closed form is a column affine in the result's variable h with
    Jacobian the square H and one other vector g: the gradient of a quadratic model
    gᵀh + ½hᵀHh."""
    form, h = _column(result.closed_form), result.wrt
    symbols: set = getattr(form, "free_symbols", set())
    if h is None or h not in symbols or len(symbols) != 3 or form.shape != h.shape:
        return None
    if not all(isinstance(x, sp.MatrixSymbol) for x in symbols) or h.shape[1] != 1:
        return None
    squares = [x for x in symbols if x.shape == (h.shape[0], h.shape[0])]
    vectors = [x for x in symbols if x.shape == h.shape and x != h]
    if len(squares) != 1 or len(vectors) != 1:
        return None
    size = {h.shape[0]: 2} if isinstance(h.shape[0], sp.Symbol) else {}
    jacobian = _jacobian(form, h, size)
    square = sp.Matrix(squares[0].subs(size).as_explicit())
    if jacobian is None or (jacobian - square).applyfunc(sp.expand) != sp.zeros(*square.shape):
        return None
    return squares[0], vectors[0], h


NEWTON_GRID = 61  # points a side of the grid the quadratic model is drawn on


def newton_values(result: Result, seed: int = 0) -> dict:
    """The Newton figure's numbers, at a seeded positive-definite 2 × 2 H and a seeded g,
    from the closed form ∇m(h) by the generated NumPy code: ∇m at h* = −H⁻¹g, one Newton
    step −H⁻¹∇m(0) from h = 0, and one gradient step −η∇m(0) with η = 1/λ_max(H)."""
    found = _newton(result)
    if found is None:
        raise ValueError(f"{result.label}: not the gradient of a quadratic model")
    H, g, h = found
    sizes = {h.shape[0]: 2} if isinstance(h.shape[0], sp.Symbol) else {}
    rng = np.random.default_rng(seed)
    angle = rng.uniform(0, np.pi)
    turn = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    hessian = turn @ np.diag([3.0, 0.5]) @ turn.T
    g_value = np.round(rng.standard_normal((2, 1)), 2)
    gradient = numeric.compile_numpy([H, g, h], _column(result.closed_form), sizes)

    def grad(at: np.ndarray) -> np.ndarray:
        return np.asarray(gradient(hessian, g_value, at), dtype=float).reshape(2, 1)

    best = -np.linalg.solve(hessian, g_value)
    at_zero = grad(np.zeros((2, 1)))
    newton = -np.linalg.solve(hessian, at_zero)
    rate = 1.0 / float(np.linalg.eigvalsh(hessian)[-1])
    cosine = float((-g_value).ravel() @ newton.ravel()) / (
        float(np.linalg.norm(g_value)) * float(np.linalg.norm(newton))
    )
    return {
        "H": hessian,
        "g": g_value,
        "best": best,
        "newton": newton,
        "descent": -rate * at_zero,
        "rate": rate,
        "grad": grad,
        "residual": float(np.linalg.norm(grad(best))),
        "landing": float(np.linalg.norm(newton - best)),
        "angle": float(np.degrees(np.arccos(np.clip(cosine, -1.0, 1.0)))),
    }


def newton_step(result: Result, seed: int = 0) -> Figure:
    """Contours of the quadratic model with its minimiser, a Newton step and a gradient step."""
    found = _newton(result)
    if found is None:
        raise ValueError(f"{result.label}: not the gradient of a quadratic model")
    H, g, h = found
    v = newton_values(result, seed)
    best, newton, descent = v["best"].ravel(), v["newton"].ravel(), v["descent"].ravel()
    reach = 1.4 * max(float(np.max(np.abs(best))), float(np.max(np.abs(descent))), 0.5)
    axis = np.linspace(-reach, reach, NEWTON_GRID)
    # m(h) − f = ∇m(h/2)ᵀh: the midpoint rule is exact for a gradient affine in h.
    model = np.array(
        [[float(v["grad"](np.array([[a], [b]]) / 2).ravel() @ [a, b]) for a in axis] for b in axis]
    )
    h_tex, H_tex, g_tex = (expr_to_latex(x) for x in (h, H, g))
    fig = _figure(4.4, 3.4)
    ax = fig.add_subplot()
    low, high = float(model.min()), float(model.max())
    levels = low + (high - low) * np.linspace(0, 1, 16)[1:] ** 2  # close near the minimum
    lines = ax.contour(axis, axis, model, levels=levels, cmap="viridis", linewidths=0.7)
    bar = fig.colorbar(lines, ax=ax, shrink=0.8, label=f"$m({h_tex}) - f$")
    bar.set_ticks(np.linspace(low, high, 5)[1:-1].round(2))  # not at every uneven level
    ax.plot(*best, "*", color="tab:red", markersize=10, zorder=5,
            label=f"${h_tex}^* = -{H_tex}^{{-1}}{g_tex}$")  # fmt: skip
    arrow = {"length_includes_head": True, "head_width": 0.04 * reach, "zorder": 4}
    ax.arrow(0, 0, *newton, color="tab:red", **arrow)
    ax.arrow(0, 0, *descent, color="tab:blue", **arrow)
    ax.plot([], [], color="tab:red", label=f"Newton step $-{H_tex}^{{-1}}{g_tex}$")
    ax.plot([], [], color="tab:blue", label=rf"gradient step $-\eta {g_tex}$")
    ax.plot(0, 0, "o", color="black", markersize=3)
    ax.set_aspect("equal")
    ax.set_xlabel(f"${h_tex}_0$")
    ax.set_ylabel(f"${h_tex}_1$")
    fig.legend(fontsize=7, loc="outside lower center", ncol=3)
    eigen = np.linalg.eigvalsh(v["H"])
    zero = "zero up to rounding" if v["residual"] < 1e-10 else "not zero"
    landed = (
        "lands on it exactly" if v["landing"] == 0 else f"lands within ${num(v['landing'])}$ of it"
    )
    caption = (
        f"The quadratic model $m({h_tex}) = f + {g_tex}^{{\\top}}{h_tex} + \\tfrac12 "
        f"{h_tex}^{{\\top}}{H_tex}{h_tex}$ at a seeded positive-definite ${H_tex}$ "
        f"(eigenvalues ${num(float(eigen[1]))}$ and ${num(float(eigen[0]))}$) and a seeded "
        f"${g_tex}$, drawn from the boxed ${expr_to_latex(result.goal)} = "
        f"{expr_to_latex(result.closed_form)}$ by the generated NumPy code "
        f"($m({h_tex}) - f = \\nabla m({h_tex}/2)^{{\\top}}{h_tex}$, exact for a gradient "
        f"affine in ${h_tex}$). At the minimiser ${h_tex}^* = -{H_tex}^{{-1}}{g_tex}$ (star) "
        f"the closed form has norm ${num(v['residual'])}$, {zero}. One Newton step from "
        f"${h_tex} = 0$ (red) {landed}; the gradient step "
        f"$-\\eta {g_tex}$ (blue, $\\eta = 1/\\lambda_{{\\max}} = {num(v['rate'], 2)}$) "
        f"points ${num(v['angle'], 2)}^\\circ$ away from the Newton direction: straight "
        "downhill across the contours, not towards the minimum."
    )
    return Figure("newton-step", _pdf(fig), caption, r"0.7\linewidth")


def _least_squares(
    result: Result,
) -> tuple[sp.MatrixSymbol, sp.MatrixSymbol, sp.MatrixSymbol] | None:
    """(X, w, y) when the closed form is a column affine in the result's variable w with
    Jacobian a positive number times XᵀX, for an N × d matrix X and an N-vector y and no
    other symbol: the gradient of a squared error ‖Xw − y‖²."""
    form, w = _column(result.closed_form), result.wrt
    symbols: set = getattr(form, "free_symbols", set())
    if w is None or w not in symbols or len(symbols) != 3 or form.shape != w.shape:
        return None
    if not all(isinstance(x, sp.MatrixSymbol) for x in symbols) or w.shape[1] != 1:
        return None
    designs = [x for x in symbols if x.shape[1] == w.shape[0] and x.shape[0] != x.shape[1]]
    if len(designs) != 1:
        return None
    (X,) = designs
    targets = [x for x in symbols if x.shape == (X.shape[0], 1)]
    if len(targets) != 1:
        return None
    sizes = {d: v for d, v in zip(X.shape, (3, 2), strict=True) if isinstance(d, sp.Symbol)}
    jacobian = _jacobian(form, w, sizes)
    gram = sp.Matrix((X.T * X).subs(sizes).as_explicit())
    if jacobian is None:
        return None
    scale = sp.simplify(jacobian[0, 0] / gram[0, 0])
    if not (scale.is_number and scale.is_positive):
        return None
    if (jacobian - scale * gram).applyfunc(sp.expand) != sp.zeros(*gram.shape):
        return None
    return X, w, targets[0]


def least_squares_values(result: Result, seed: int = 0) -> dict:
    """The least-squares figure's numbers at SAMPLES seeded points with X = [𝟏, x]: w*
    solving the normal equations XᵀXw = Xᵀy, the closed form there by the generated NumPy
    code, and the residuals Xw* − y."""
    found = _least_squares(result)
    if found is None:
        raise ValueError(f"{result.label}: not the gradient of a squared error")
    X, w, y = found
    sizes = {d: v for d, v in zip(X.shape, (SAMPLES, 2), strict=True) if isinstance(d, sp.Symbol)}
    rng = np.random.default_rng(seed)
    feature = np.sort(np.round(rng.uniform(0, 4, SAMPLES), 2))
    targets = np.round(1.0 + 0.8 * feature + 0.6 * rng.standard_normal(SAMPLES), 2)
    design = np.column_stack([np.ones(SAMPLES), feature])
    column = targets.reshape(-1, 1)
    best = np.linalg.solve(design.T @ design, design.T @ column)
    gradient = numeric.compile_numpy([X, w, y], _column(result.closed_form), sizes)
    at_best = np.asarray(gradient(design, best, column), dtype=float)
    residuals = (design @ best - column).ravel()
    return {
        "X": design,
        "y": targets,
        "best": best.ravel(),
        "norm": float(np.linalg.norm(at_best)),
        "residuals": residuals,
        "sum": float(residuals.sum()),
    }


def least_squares(result: Result, seed: int = 0) -> Figure:
    """The seeded data, the line at w*, the residuals, and the closed form at w*."""
    found = _least_squares(result)
    if found is None:
        raise ValueError(f"{result.label}: not the gradient of a squared error")
    X, w, y = found
    v = least_squares_values(result, seed)
    X_tex, w_tex, y_tex = (expr_to_latex(x) for x in (X, w, y))
    feature, targets, (intercept, slope) = v["X"][:, 1], v["y"], v["best"]
    fig = _figure(4.8, 2.8)
    ax = fig.add_subplot()
    fitted = intercept + slope * feature
    ax.vlines(feature, targets, fitted, color="tab:red", linewidth=0.8,
              label=f"residuals $({X_tex}{w_tex}^* - {y_tex})_a$")  # fmt: skip
    ax.plot(feature, fitted, color="tab:blue",
            label=f"$({X_tex}{w_tex}^*)_a = {w_tex}^*_0 + {w_tex}^*_1 {X_tex}_{{a1}}$")  # fmt: skip
    ax.plot(
        feature,
        targets,
        "o",
        color="black",
        markersize=3,
        label=f"data $({X_tex}_{{a1}}, {y_tex}_a)$",
    )
    ax.set_xlabel(f"${X_tex}_{{a1}}$ (and ${X_tex}_{{a0}} = 1$)")
    ax.set_ylabel(f"${y_tex}_a$")
    ax.legend(fontsize=7, loc="upper left")
    ax.grid(True, linewidth=0.3)
    zero = "zero up to rounding" if v["norm"] < 1e-10 else "not zero"
    caption = (
        f"Least squares on {SAMPLES} seeded points, the first column of ${X_tex}$ ones: the "
        f"line at ${w_tex}^* = ({num(float(intercept))}, {num(float(slope))})$, "
        f"which solves the normal equations ${X_tex}^{{\\top}}{X_tex}{w_tex} = "
        f"{X_tex}^{{\\top}}{y_tex}$, and the residuals (red). The boxed "
        f"${expr_to_latex(result.goal)} = {expr_to_latex(result.closed_form)}$, by the "
        f"generated NumPy code, has norm ${num(v['norm'])}$ at ${w_tex}^*$, {zero}. The "
        f"residuals sum to ${num(v['sum'])}$: the first entry of "
        f"${X_tex}^{{\\top}}({X_tex}{w_tex}^* - {y_tex}) = 0$ is their sum, because that "
        "column is ones."
    )
    return Figure("least-squares", _pdf(fig), caption, r"0.7\linewidth")


DRAWERS = (
    ("quadratic form", variance_angle),
    ("bias factor", bias_factor),
    ("step curve", step_curve),
    ("error model", error_model),
    ("two gaussians", two_gaussians),
    ("toeplitz", toeplitz),
    ("softmax family", softmax_family),
    ("score", score_zero),
    ("joint table", joint_table),
    ("prediction minus target", prediction_target),
    ("quadratic model", newton_step),
    ("least squares", least_squares),
)
