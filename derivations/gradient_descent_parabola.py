"""Gradient descent on a parabola: on f(x) = (x − c)², xₖ = c + (x₀ − c)(1 − 2η)ᵏ; seed: 3 − 3·0.8ᵏ.

Each step of x ← x − η f′(x) multiplies the distance to the minimum by 1 − 2η, so the
iterates approach c geometrically when 0 < η < 1, overshoot and oscillate when
1/2 < η < 1, and diverge when η > 1. The recurrence is solved by SymPy's rsolve; the
seed's exercise (c = 3, x₀ = 0, η = 0.1, 50 steps) gives xₖ = 3 − 3·0.8ᵏ and
f(xₖ) = 9·0.64ᵏ, plotted by :func:`plot_iterates`.

No numeric case: the results solve a recurrence; they are not gradients of an input. The
one derivative, the step, is compared with SymPy's diff of f; the solutions are
substituted back into the recurrence by SymPy and compared with 50 steps run in float64.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

import numpy as np
import sympy as sp

from workbench.core import rules
from workbench.core.derivation import Chain, Derivation, Exercise
from workbench.core.rules_extra import Factor
from workbench.core.rules_stats import Recurrence, SolveRecurrence

x, c, x0 = sp.symbols("x c x_0", real=True)
eta = sp.Symbol("eta", positive=True)
k = sp.Symbol("k", integer=True, positive=True)  # the step count
j = sp.Symbol("j", integer=True)
f = sp.Symbol("f")

DEFINITIONS = {f: (x - c) ** 2}
# The seed's exercise: minimise (x − 3)² from x = 0 with η = 0.1, for 50 steps.
SEED = {c: sp.Integer(3), x0: sp.Integer(0), eta: sp.Rational(1, 10)}
SEED_STEPS = 50
SEED_GIVEN = tuple(SEED.items())  # what the seed's results assume, as (name, value)
SCALAR = (0, 0)  # the closed forms are scalars

ONE_STEP = (1 - 2 * eta) * (x - c)
GENERAL = c + (x0 - c) * (1 - 2 * eta) ** k
SEED_ITERATES = 3 - 3 * sp.Rational(4, 5) ** k
SEED_LOSSES = 9 * sp.Rational(16, 25) ** k


def run_gradient_descent(
    steps: int = SEED_STEPS, lr: float = 0.1, start: float = 0.0, minimum: float = 3.0
) -> np.ndarray:
    """x₀, …, x_steps of x ← x − η·2(x − c), run in float64 (the simulation, not the formula)."""
    iterates = [start]
    for _ in range(steps):
        iterates.append(iterates[-1] - lr * 2.0 * (iterates[-1] - minimum))
    return np.array(iterates)


def plot_iterates(path: str | Path, steps: int = SEED_STEPS) -> Path:
    """Plot the seed's run: xₖ and f(xₖ) over ``steps`` steps, simulated and solved.

    Example:
        >>> plot_iterates("/tmp/gd.png")   # doctest: +SKIP
    """
    from matplotlib.figure import Figure  # optional dependency ('handout' extra)

    path = Path(path)
    iterates = run_gradient_descent(steps)
    ks = np.arange(steps + 1)
    solved_x = sp.lambdify(k, SEED_ITERATES, "numpy")(ks)
    solved_f = sp.lambdify(k, SEED_LOSSES, "numpy")(ks)
    fig = Figure(figsize=(8.0, 3.2), layout="constrained")
    left, right = fig.subplots(1, 2)
    left.plot(ks, solved_x, color="0.6", label=r"$3 - 3\cdot 0.8^k$")
    left.plot(ks, iterates, "o", markersize=3, label="gradient descent")
    left.axhline(3.0, color="0.8", linestyle="--", linewidth=0.8)
    left.set(xlabel="step $k$", ylabel="$x_k$", title=r"iterates ($\eta = 0.1$)")
    left.legend(loc="lower right")
    right.semilogy(ks, solved_f, color="0.6", label=r"$9\cdot 0.64^k$")
    right.semilogy(ks, (iterates - 3.0) ** 2, "o", markersize=3, label="$f(x_k)$")
    right.set(xlabel="step $k$", ylabel="$f(x_k) = (x_k - 3)^2$", title="loss (log scale)")
    right.legend(loc="upper right")
    fig.savefig(path)
    return path


def _convergence_region() -> sp.Set:
    """The step sizes for which |1 − 2η| < 1, solved by SymPy."""
    return sp.solve_univariate_inequality(
        sp.Abs(1 - 2 * eta) < 1, eta, relational=False, domain=sp.Interval(0, sp.oo)
    )


def exercises() -> tuple[Exercise, ...]:
    seed_run = run_gradient_descent()
    region = _convergence_region()
    wild = run_gradient_descent(steps=4, lr=1.1)
    return (
        Exercise(
            prompt="Minimise f(x) = (x − 3)² starting at x = 0 with η = 0.1. Plot x and f(x) "
            "over 50 steps. How close is x₅₀ to 3, and by what factor does f fall per step?",
            solution=f"$x_1 = {seed_run[1]:.4f}$, $x_2 = {seed_run[2]:.4f}$, $x_3 = "
            f"{seed_run[3]:.4f}$: each step multiplies the distance $3 - x_k$ by $1 - 2\\eta "
            f"= 0.8$, so $x_k = 3 - 3 \\cdot 0.8^k$ and $x_{{50}} = {seed_run[50]:.8f}$. The "
            f"loss $f(x_k) = 9 \\cdot 0.64^k$ falls by the factor $0.64$ per step, to "
            f"${(seed_run[50] - 3) ** 2:.3e}$ after 50 steps: a straight line on a log scale "
            "(linear convergence). \\texttt{plot\\_iterates(path)} draws both panels.",
            source="Stage 01, Math Foundations: exercise 'Gradient descent on a parabola' "
            "(shared/seeds/001)",
        ),
        Exercise(
            prompt="For which learning rates does gradient descent on (x − 3)² converge? "
            "What happens at η = 0.5, at η = 1 and at η = 1.1?",
            solution=f"It converges exactly when $|1 - 2\\eta| < 1$, that is for $\\eta \\in "
            f"{sp.latex(region)}$. At $\\eta = 0.5$ the factor is 0: one step lands on 3. At "
            "$\\eta = 1$ the factor is $-1$: the iterates jump between 0 and 6 forever. At "
            f"$\\eta = 1.1$ the factor is $-1.2$: $x = {', '.join(f'{v:.3f}' for v in wild)}, "
            "\\dots$ oscillates with growing amplitude. For a parabola with curvature "
            "$f'' = a$, the same analysis gives $\\eta < 2/a$.",
            source="Phase 3, Optimization: gradient descent, learning rate (shared/seeds/002)",
        ),
        Exercise(
            prompt="Write the gradient descent update rule from memory, and derive the "
            "recurrence it gives for the error eₖ = xₖ − 3 on f(x) = (x − 3)².",
            solution="$\\theta \\leftarrow \\theta - \\eta \\nabla L(\\theta)$. With $f'(x) = "
            "2(x - 3)$: $x_{k+1} - 3 = x_k - 3 - 2\\eta(x_k - 3)$, i.e. $e_{k+1} = (1 - 2\\eta)"
            "e_k$, so $e_k = (1 - 2\\eta)^k e_0$: a geometric sequence, which is what "
            "\\texttt{rsolve} finds.",
            source="Stage 01, Math Foundations: minimum viable understanding (shared/seeds/001)",
        ),
    )


# ---------------------------------------------------------------- independent routes
def _gd_update(value: sp.Basic) -> sp.Basic:
    """One step x − η f′(x), with f′ from SymPy's own diff of (x − c)²."""
    return value - eta * sp.diff((x - c) ** 2, x).subs(x, value)


# Each route reads the derived result it checks (bound in build()), so a wrong
# derivation cannot pass it.
def sympy_solution_satisfies_recurrence(solution) -> tuple[sp.Basic, sp.Basic]:
    """x_{k+1} − (x_k − η f′(x_k)) for the derived solution, at general k."""
    return solution.subs(k, k + 1) - _gd_update(solution), sp.Integer(0)


def sympy_solution_starts_at_x0(solution) -> tuple[sp.Basic, sp.Basic]:
    return solution.subs(k, 0), x0


def sympy_seed_is_general(solution, iterates) -> tuple[sp.Basic, sp.Basic]:
    """The general solution at the seed's numbers against the seed's own solution."""
    return solution.xreplace(SEED), iterates


def sympy_telescoping_sum(solution) -> tuple[sp.Basic, sp.Basic]:
    """xₖ = x₀ − η Σ_{j<k} f′(xⱼ), the sum done by SymPy's summation (a geometric series)."""
    slopes = sp.diff((x - c) ** 2, x).subs(x, solution.subs(k, j))
    return x0 - eta * sp.summation(slopes, (j, 0, k - 1)), solution


def numeric_seed_iterates(iterates, seed: int):
    """The seed's 50 steps, run in float64, against the derived 3 − 3·0.8ᵏ."""
    closed = sp.lambdify(k, iterates, "numpy")
    return run_gradient_descent(), closed(np.arange(SEED_STEPS + 1)), 1e-12


def numeric_seed_losses(losses_derived, seed: int):
    """log f(xₖ) of the run against log(9·0.64ᵏ): compares the tiny late losses too.

    xₖ − 3 loses about 1e-11 relative accuracy by k = 50 (x₅₀ ≈ 3 − 4e-5), so log f is off
    by ~2e-11 at most: 1e-9 of the largest |log f| is a safe bound.
    """
    losses = (run_gradient_descent() - 3.0) ** 2
    closed = sp.lambdify(k, sp.log(losses_derived), "numpy")
    return np.log(losses), closed(np.arange(SEED_STEPS + 1)), 1e-9


def numeric_random_parabola(solution, seed: int):
    """Random η ∈ (0, 1), x₀ and c: 50 steps against the derived general solution."""
    rng = np.random.default_rng(seed)
    lr, start, minimum = rng.uniform(0.01, 0.99), rng.normal(0, 5), rng.normal(0, 5)
    closed = sp.lambdify((k, eta, x0, c), solution, "numpy")
    expected = closed(np.arange(SEED_STEPS + 1), lr, start, minimum)
    return run_gradient_descent(SEED_STEPS, lr, start, minimum), expected, 1e-12


def build() -> Derivation:
    one_step = (
        Chain(x - eta * sp.Derivative(f, x) - c, DEFINITIONS)
        .apply(rules.Definition((f,)), "The step x − η f′(x), measured from the minimum c.")
        .apply(rules.ChainRule(), "∂(x − c)² = 2(x − c)·∂(x − c).")
        .apply(rules.Differentiate(), "∂(x − c)/∂x = 1.")
        .apply(Factor((x,)), "Collect the distance x − c: each step scales it by 1 − 2η.")
    )
    next_iterate = one_step.current + c  # x − η f′(x), as derived above
    iterate = Recurrence.of("x", lambda prev, _: next_iterate.xreplace({x: prev}), x0, k)
    general = Chain(iterate, DEFINITIONS).apply(
        SolveRecurrence(), "xₖ₊₁ = c + (1 − 2η)(xₖ − c) from x₀: SymPy's rsolve solves it."
    )
    seed_iterate = Recurrence.of(
        "x", lambda prev, _: next_iterate.xreplace({x: prev, **SEED}), SEED[x0], k
    )
    seed = Chain(seed_iterate, DEFINITIONS).apply(
        SolveRecurrence(), "The seed's numbers c = 3, x₀ = 0, η = 0.1: xₖ₊₁ = 3 + 0.8(xₖ − 3)."
    )
    losses = (
        Chain((seed_iterate - SEED[c]) ** 2, DEFINITIONS)
        .apply(SolveRecurrence(), "f(xₖ) = (xₖ − 3)² at the solved iterates.")
        .apply(rules.Algebra("expand"), "(−3·0.8ᵏ)² = 9·0.64ᵏ.")
    )
    results = (
        one_step.result("one step: xₖ₊₁ − c", ONE_STEP, SCALAR),
        general.result("xₖ", GENERAL, SCALAR),
        # The seed's results are for its numbers: stated with them (a note reads xₖ there
        # as the general iterate at c = 3, x₀ = 0, η = 0.1, and checks it so).
        seed.result("xₖ for the seed's numbers", SEED_ITERATES, SCALAR, assumptions=SEED_GIVEN),
        losses.result("f(xₖ) for the seed's numbers", SEED_LOSSES, SCALAR, assumptions=SEED_GIVEN),
    )
    solution, iterates, seed_losses = (r.derived for r in results[1:])
    return Derivation(
        slug="gradient-descent-parabola",
        title="Gradient descent on a parabola",
        summary=(
            "Gradient descent solved exactly on the simplest loss there is. The distance to "
            "the minimum shrinks by the factor 1 − 2η each step, which explains convergence, "
            "oscillation and divergence, and gives the seed's 3 − 3·0.8ᵏ."
        ),
        conventions="x ← x − η f′(x) with f(x) = (x − c)²; xₖ is the value after k steps, "
        "from x₀. The seed's exercise has c = 3, x₀ = 0, η = 0.1.",
        variables=(
            ("f", "the loss, f(x) = (x − c)²"),
            ("c", "the minimiser"),
            ("η", "the learning rate, η > 0"),
            ("x₀, xₖ", "the start and the iterate after k steps"),
        ),
        definitions=DEFINITIONS,
        results=results,
        cases=(),
        symbolic_checks=(
            (
                "the solution satisfies xₖ₊₁ = xₖ − η f′(xₖ) (SymPy's diff)",
                partial(sympy_solution_satisfies_recurrence, solution),
            ),
            ("the solution starts at x₀", partial(sympy_solution_starts_at_x0, solution)),
            (
                "the seed's solution is the general one at c = 3, x₀ = 0, η = 0.1",
                partial(sympy_seed_is_general, solution, iterates),
            ),
            (
                "telescoping: x₀ − η Σ f′(xⱼ) by SymPy's summation",
                partial(sympy_telescoping_sum, solution),
            ),
        ),
        numeric_checks=(
            (
                "seed: 50 steps in float64 against 3 − 3·0.8ᵏ",
                partial(numeric_seed_iterates, iterates),
            ),
            (
                "seed: log f(xₖ) against log(9·0.64ᵏ)",
                partial(numeric_seed_losses, seed_losses),
            ),
            (
                "random η ∈ (0, 1), x₀, c: 50 steps against the solution",
                partial(numeric_random_parabola, solution),
            ),
        ),
        exercises=exercises(),
    )
