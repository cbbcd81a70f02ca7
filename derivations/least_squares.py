"""Least squares: ∇‖X w − y‖² = 2Xᵀ(X w − y), so w* = (XᵀX)⁻¹Xᵀy; ridge: w* = (XᵀX + λI)⁻¹Xᵀy.

Linear regression in three lines. The gradient of the squared residual is derived entry
by entry at general sizes; rewriting it as 2XᵀX(w − w*) shows that it vanishes exactly
at the solution of the normal equations XᵀXw = Xᵀy (XᵀX invertible), and that the
Hessian 2XᵀX is positive semidefinite, so that point is the minimum. An L2 penalty λ‖w‖²
adds λI to XᵀX, which makes it invertible for any λ > 0.
"""

from __future__ import annotations

import dataclasses
from functools import partial

import numpy as np
import sympy as sp
from sympy.matrices.expressions.matexpr import MatrixElement

from workbench.checks.concrete import derived_at_random_inputs
from workbench.codegen import numeric
from workbench.core import rules
from workbench.core.derivation import Case, Chain, Derivation, Exercise
from workbench.core.rules_extra import CollectLinear, ExpandMatrix, SolveLinear

N = sp.Symbol("N", integer=True, positive=True)  # examples
d = sp.Symbol("d", integer=True, positive=True)  # features
j = sp.Symbol("j", integer=True)
a, b = sp.symbols("a b", integer=True)
lam = sp.Symbol("lambda", positive=True)

X = sp.MatrixSymbol("X", N, d)
y = sp.MatrixSymbol("y", N, 1)
w = sp.MatrixSymbol("w", d, 1)
r = sp.MatrixSymbol("r", N, 1)  # residuals
L, R = sp.symbols("L R")  # the squared error and its ridge version

DEFINITIONS = {
    r: X * w - y,
    L: sp.Sum(r[a, 0] ** 2, (a, 0, N - 1)),
    R: L + lam * sp.Sum(w[b, 0] ** 2, (b, 0, d - 1)),
}
GRADIENT = 2 * X.T * (X * w - y)
RIDGE_GRADIENT = GRADIENT + 2 * lam * w
NORMAL = sp.Inverse(X.T * X) * X.T * y
RIDGE = sp.Inverse(X.T * X + lam * sp.Identity(d)) * X.T * y

# A worked example: fit y ≈ w₀ + w₁x to four points (the first column of X is ones).
EXAMPLE_X = np.array([[1.0, 0.0], [1.0, 1.0], [1.0, 2.0], [1.0, 3.0]])
EXAMPLE_Y = np.array([1.0, 3.0, 2.0, 5.0])
HALF = sp.Rational(1, 2)  # the penalty of the ridge case (numeric code needs a number)


def exercises() -> tuple[Exercise, ...]:
    gram, moment = EXAMPLE_X.T @ EXAMPLE_X, EXAMPLE_X.T @ EXAMPLE_Y
    fit = np.linalg.solve(gram, moment)
    ridge = np.linalg.solve(gram + np.eye(2), moment)
    residual = EXAMPLE_X @ fit - EXAMPLE_Y
    return (
        Exercise(
            prompt="Fit a line y ≈ w₀ + w₁x to the points (0, 1), (1, 3), (2, 2), (3, 5) by "
            "solving the normal equations XᵀX w = Xᵀy by hand, with a column of ones in X for "
            "the intercept. Check with numpy.linalg.lstsq.",
            solution=f"$X^{{\\top}}X = \\begin{{pmatrix}} {gram[0, 0]:.0f} & {gram[0, 1]:.0f} "
            f"\\\\ {gram[1, 0]:.0f} & {gram[1, 1]:.0f} \\end{{pmatrix}}$ and $X^{{\\top}}y = "
            f"({moment[0]:.0f}, {moment[1]:.0f})$, so $w^* = ({fit[0]:.4f}, {fit[1]:.4f})$: "
            f"intercept {fit[0]:.2f} and slope {fit[1]:.2f}. The residuals $Xw^* - y = "
            f"({', '.join(f'{v:.2f}' for v in residual)})$ sum to zero and are orthogonal to "
            "each column of $X$: that is what $X^{\\top}(Xw - y) = 0$ says.",
            source="Step 1, Linear algebra: coding project 'linear regression' (shared/seeds/004)",
        ),
        Exercise(
            prompt="Redo the fit with ridge regression, λ = 1. Which coefficient shrinks, "
            "and why does ridge always have a unique solution?",
            solution=f"$w^*_\\lambda = (X^{{\\top}}X + I)^{{-1}}X^{{\\top}}y = ({ridge[0]:.4f}, "
            f"{ridge[1]:.4f})$: the penalty pulls the coefficients towards 0 (here the norm "
            f"falls from {np.linalg.norm(fit):.4f} to {np.linalg.norm(ridge):.4f}). For any "
            "$v \\ne 0$, $v^{\\top}(X^{\\top}X + \\lambda I)v = \\|Xv\\|^2 + \\lambda\\|v\\|^2 "
            "> 0$, so the matrix is positive definite and invertible even when features are "
            "collinear or $d > N$.",
            source="Step 4, Optimization: regularization (shared/seeds/004)",
        ),
        Exercise(
            prompt="Run gradient descent w ← w − η·2Xᵀ(X w − y) on the same data from w = 0 with "
            "η = 0.02. Roughly how many steps until it is within 10⁻⁶ of w*, and what "
            "decides the speed?",
            solution=f"It takes {_steps_to_converge(0.02)} steps. In the eigenbasis of "
            "$X^{\\top}X$ each error component shrinks by $|1 - 2\\eta\\mu|$ per step, for "
            f"each eigenvalue $\\mu$ ({', '.join(f'{v:.3f}' for v in np.linalg.eigvalsh(gram))})"
            ": the smallest eigenvalue sets the pace and the largest caps $\\eta < 1/\\mu_"
            "{\\max}$, as for the one-dimensional parabola.",
            source="Phase 3, Optimization: gradient descent, convex functions (shared/seeds/002)",
        ),
    )


def _steps_to_converge(lr: float, tolerance: float = 1e-6) -> int:
    target = np.linalg.lstsq(EXAMPLE_X, EXAMPLE_Y, rcond=None)[0]
    weights, steps = np.zeros(2), 0
    while np.max(np.abs(weights - target)) > tolerance:
        weights = weights - lr * 2 * EXAMPLE_X.T @ (EXAMPLE_X @ weights - EXAMPLE_Y)
        steps += 1
    return steps


# ---------------------------------------------------------------- independent routes
def _explicit_problem(rows: int, cols: int):
    sizes = {N: rows, d: cols}
    return sizes, X.subs(sizes).as_explicit(), y.subs(sizes).as_explicit()


def sympy_solve_normal_equations():
    """SymPy's solve of ∂L/∂w = 0 (its own diff) at N = 3, d = 2, against (XᵀX)⁻¹Xᵀy."""
    sizes, xs, ys = _explicit_problem(3, 2)
    unknowns = sp.symbols("w0 w1")
    loss = sum((sum(xs[i, c] * unknowns[c] for c in range(2)) - ys[i]) ** 2 for i in range(3))
    conditions = [sp.diff(loss, u) for u in unknowns]
    solution = sp.solve(conditions, unknowns, dict=True, simplify=False)[0]
    return sp.Matrix([solution[u] for u in unknowns]), NORMAL.subs(sizes).as_explicit()


def sympy_solve_ridge():
    sizes, xs, ys = _explicit_problem(2, 2)
    unknowns = sp.symbols("w0 w1")
    loss = sum((sum(xs[i, c] * unknowns[c] for c in range(2)) - ys[i]) ** 2 for i in range(2))
    loss += lam * sum(u**2 for u in unknowns)
    conditions = [sp.diff(loss, u) for u in unknowns]
    solution = sp.solve(conditions, unknowns, dict=True, simplify=False)[0]
    return sp.Matrix([solution[u] for u in unknowns]), RIDGE.subs(sizes).as_explicit()


def numeric_against_lstsq(seed: int):
    """(XᵀX)⁻¹Xᵀy by numpy.linalg.solve against numpy.linalg.lstsq (SVD-based) on a random,
    well-conditioned 20×4 problem: both backward stable, cond(X) ≈ 2, so ~1e-14."""
    rng = np.random.default_rng(seed)
    xs, ys = rng.standard_normal((20, 4)), rng.standard_normal(20)
    formula = np.linalg.solve(xs.T @ xs, xs.T @ ys)
    return formula, np.linalg.lstsq(xs, ys, rcond=None)[0], 1e-10


def numeric_ridge_as_augmented_lstsq(seed: int):
    """Ridge = least squares on X stacked over √λ·I with y stacked over zeros (lstsq)."""
    rng = np.random.default_rng(seed)
    xs, ys, penalty = rng.standard_normal((6, 8)), rng.standard_normal(6), rng.uniform(0.1, 2)
    formula = np.linalg.solve(xs.T @ xs + penalty * np.eye(8), xs.T @ ys)
    stacked = np.vstack([xs, np.sqrt(penalty) * np.eye(8)])
    padded = np.concatenate([ys, np.zeros(8)])
    return formula, np.linalg.lstsq(stacked, padded, rcond=None)[0], 1e-10


def build() -> Derivation:
    gradient = (
        Chain(sp.Derivative(L, w[j, 0]), DEFINITIONS)
        .apply(rules.Definition((L,)), "L = ‖r‖² = Σₖ rₖ², the squared residuals.")
        .apply(rules.Linearity(), "Differentiate the sum term by term.")
        .apply(rules.ChainRule(), "∂rₖ² = 2rₖ ∂rₖ.")
        .apply(rules.Definition((r,)), "rₖ = Σₗ X_kl wₗ − yₖ.")
        .apply(rules.Linearity(), "X and y are constants.")
        .apply(rules.Differentiate(), "∂wₗ/∂wⱼ = δₗⱼ.")
        .apply(rules.CollapseDeltas(), "The delta keeps l = j: Σₖ 2 X_kj rₖ = 2(Xᵀr)ⱼ.")
    )
    plain = gradient.result("∂L/∂wⱼ", GRADIENT, (j, 0), w)
    ridge_gradient = (
        Chain(sp.Derivative(R, w[j, 0]), DEFINITIONS)
        .apply(rules.Definition((R,)), "The ridge loss: L plus λ times Σₖ wₖ².")
        .apply(rules.Linearity(), "Differentiate the two parts separately.")
        .apply(
            rules.UseResult(plain.goal, plain.derived, "the least-squares gradient"),
            "The first part is the gradient just derived.",
        )
        .apply(rules.ChainRule(), "∂wₖ² = 2wₖ ∂wₖ.")
        .apply(rules.Differentiate(), "∂wₖ/∂wⱼ = δₖⱼ.")
        .apply(rules.CollapseDeltas(), "The delta keeps k = j: the penalty adds 2λwⱼ.")
    )
    normal = (
        Chain(MatrixElement(GRADIENT, j, 0), DEFINITIONS)
        .apply(ExpandMatrix(), "Multiply out the gradient 2Xᵀ(X w − y) derived above.")
        .apply(
            SolveLinear(w),
            "Affine in w: 2XᵀX(w − w*), zero exactly at w* = (XᵀX)⁻¹Xᵀy when XᵀX is "
            "invertible (X has independent columns). The Hessian 2XᵀX is positive "
            "semidefinite, so w* is the minimum.",
        )
    )
    ridge = (
        Chain(MatrixElement(RIDGE_GRADIENT, j, 0), DEFINITIONS)
        .apply(ExpandMatrix(), "Multiply out the ridge gradient.")
        .apply(
            CollectLinear(w),
            "Collect the terms in w: 2(XᵀX + λI)w − 2Xᵀy, zero exactly at w* = "
            "(XᵀX + λI)⁻¹Xᵀy; XᵀX + λI is positive definite for λ > 0, so always invertible.",
        )
    )
    results = (
        plain,
        ridge_gradient.result("∂R/∂wⱼ (ridge)", RIDGE_GRADIENT, (j, 0), w),
        # Matrix-level results: the closed form is the entry of a matrix expression, kept
        # whole (MatrixElement) so it is compared as matrices, not as expanded sums.
        normal.result(
            "∂L/∂w = 2XᵀX(w − w*)",
            MatrixElement(2 * X.T * X * (w - NORMAL), j, 0),
            (j, 0),
            w,
            assumptions=(SolveLinear.invertible(X.T * X),),  # X has independent columns
        ),
        ridge.result(
            "∂R/∂w = 2(XᵀX + λI)w − 2Xᵀy",
            MatrixElement(2 * (X.T * X + lam * sp.Identity(d)) * w - 2 * X.T * y, j, 0),
            (j, 0),
            w,
        ),
    )
    samplers = {X: numeric.weights(), y: numeric.logits(), w: numeric.logits()}
    sizes = ({N: 2, d: 2}, {N: 3, d: 2}, {N: 3, d: 3})
    cases = (
        Case(
            name="least squares",
            forward=(X * w - y).T * (X * w - y),
            wrt=(w,),
            gradients=(GRADIENT,),
            samplers=samplers,
            sizes=sizes,
            numeric_size={N: 8, d: 3},
            results={w: plain.label},
            names=(("r", X * w - y),),
        ),
        Case(
            name="ridge, λ = 1/2",
            # λ stays a name: the code takes it as an argument, λ = 1/2 by default.
            forward=(X * w - y).T * (X * w - y) + lam * w.T * w,
            wrt=(w,),
            gradients=(RIDGE_GRADIENT,),
            samplers=samplers,
            sizes=sizes,
            numeric_size={N: 8, d: 3},
            results={w: results[1].label},
            substitutions={lam: HALF},  # the value the checks use, and the code's default
            names=(("r", X * w - y),),
        ),
    )
    derivation = Derivation(
        slug="least-squares",
        title="Least squares and the normal equations",
        summary=(
            "The gradient of the squared error of a linear model, the normal equations it "
            "leads to, and ridge regression: the closed-form solution of linear regression."
        ),
        conventions="Gradient, denominator layout: ∂L/∂w has the shape of w (d×1). Rows of "
        "X are the N examples; L = ‖X w − y‖² (no 1/N; a constant factor does not move w*).",
        variables=(
            ("X", "N×d design matrix, one example per row"),
            ("y", "N×1 targets"),
            ("w", "d×1 weights"),
            ("r", "N×1 residuals, r = X w − y"),
            ("λ", "ridge penalty, λ > 0"),
        ),
        definitions=DEFINITIONS,
        results=results,
        cases=cases,
        symbolic_checks=(
            ("SymPy's solve of its own ∂L/∂w = 0, N = 3, d = 2", sympy_solve_normal_equations),
            ("SymPy's solve of the ridge condition, N = d = 2", sympy_solve_ridge),
        ),
        numeric_checks=(
            ("normal equations against numpy.linalg.lstsq", numeric_against_lstsq),
            ("ridge against lstsq on the augmented system", numeric_ridge_as_augmented_lstsq),
        ),
        exercises=exercises(),
    )
    # A route that reads the solved form, so a wrong w* cannot pass (the ridge form is
    # an identity, compared with SymPy's evaluation of its definition).
    routes = (
        (
            "the derived 2XᵀX(w − w*) against 2Xᵀ(X w − y) at random inputs",
            partial(derived_at_random_inputs, results[2], cases[0], DEFINITIONS),
        ),
    )
    return dataclasses.replace(derivation, numeric_checks=(*derivation.numeric_checks, *routes))
