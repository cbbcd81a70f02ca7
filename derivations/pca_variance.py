"""PCA: maximising the variance wᵀ S w subject to ‖w‖ = 1 gives S w = λw; λ is that variance.

The first principal component of centred data X is the unit direction along which the
projections X w vary most. Their variance is wᵀ S w with S = XᵀX/(N − 1); the Lagrangian's
stationarity condition is the eigenvalue equation S w = λw, and contracting it with w shows
that the multiplier λ is the variance itself, so the best direction is the eigenvector of
the largest eigenvalue, equivalently the first right singular vector of X.
"""

from __future__ import annotations

import dataclasses
from functools import partial

import numpy as np
import sympy as sp
from sympy.matrices.expressions.matexpr import MatrixElement

from workbench.codegen import numeric
from workbench.core import algebra, rules
from workbench.core.derivation import Case, Chain, Derivation, Exercise
from workbench.core.rules_extra import SquareOfSum, SumInside
from workbench.core.rules_stats import Solve

N = sp.Symbol("N", integer=True, positive=True)  # examples
n = sp.Symbol("n", integer=True, positive=True)  # features
j = sp.Symbol("j", integer=True)
a, k, l = sp.symbols("a k l", integer=True)
lam = sp.Symbol("lambda")

X = sp.MatrixSymbol("X", N, n)  # centred data, one example per row
S = sp.MatrixSymbol("S", n, n)  # the sample covariance (often written Σ)
w = sp.MatrixSymbol("w", n, 1)
variance, lagrangian = sp.symbols("V L")

QUADRATIC = sp.Sum(w[k, 0] * S[k, l] * w[l, 0], (k, 0, n - 1), (l, 0, n - 1))
NORM_SQUARED = sp.Sum(w[k, 0] ** 2, (k, 0, n - 1))
DEFINITIONS = {
    S: X.T * X / (N - 1),
    # The sample variance of the projections Xw (their mean is 0: X is centred).
    variance: sp.Sum(sp.Sum(X[a, k] * w[k, 0], (k, 0, n - 1)) ** 2, (a, 0, N - 1)) / (N - 1),
    lagrangian: QUADRATIC - lam * (NORM_SQUARED - 1),
}
# wᵀ·(½∂L/∂w) = 0 at a stationary point: wᵀ S w − λ wᵀw = 0.
CONTRACTED_CONDITION = (QUADRATIC - lam * NORM_SQUARED, sp.Integer(0))
HALF = sp.Rational(1, 2)  # the multiplier in the numeric case (code needs a number)

# A worked example: four centred points in the plane.
EXAMPLE = np.array([[-2.0, -1.0], [-1.0, -1.0], [1.0, 1.0], [2.0, 1.0]])


def is_gram_sum(e: sp.Basic) -> bool:
    """Σₐ X_ak X_al: the sum over examples that makes a covariance entry."""
    return (
        isinstance(e, sp.Sum)
        and len(e.limits) == 1
        and e.limits[0][2] == N - 1
        and isinstance(e.function, sp.Mul)
        and all(getattr(f, "parent", None) == X for f in e.function.args)
    )


def as_covariance(e: sp.Basic) -> sp.Basic:
    """Σₐ X_ak X_al = (N − 1)S_kl, the definition of S read backwards."""
    first, second = e.function.args
    return (N - 1) * S[first.j, second.j]


def is_transposed_entry(e: sp.Basic) -> bool:
    return isinstance(e, MatrixElement) and e.parent == S and e.j == j


def exercises() -> tuple[Exercise, ...]:
    covariance = EXAMPLE.T @ EXAMPLE / (len(EXAMPLE) - 1)
    values, vectors = np.linalg.eigh(covariance)
    top = vectors[:, -1] * np.sign(vectors[0, -1])
    singular = np.linalg.svd(EXAMPLE, compute_uv=False)
    return (
        Exercise(
            prompt="The centred points (−2, −1), (−1, −1), (1, 1), (2, 1) are given. Compute "
            "the covariance S = XᵀX/(N − 1), its eigenvalues and the first principal "
            "direction. What fraction of the variance does it explain?",
            solution=f"$S = \\begin{{pmatrix}} {covariance[0, 0]:.4f} & "
            f"{covariance[0, 1]:.4f} \\\\ {covariance[1, 0]:.4f} & {covariance[1, 1]:.4f} "
            f"\\end{{pmatrix}}$ with eigenvalues ${values[1]:.4f}$ and ${values[0]:.4f}$. The "
            f"first direction is $w = ({top[0]:.4f}, {top[1]:.4f})$; projecting onto it keeps "
            f"{values[1] / values.sum():.1%} of the total variance $\\operatorname{{tr}}"
            f"S = {values.sum():.4f}$.",
            source="Step 1, Linear algebra: coding project 'PCA implementation' (shared/seeds/004)",
        ),
        Exercise(
            prompt="For S = [[2, 1], [1, 2]], solve the Lagrange conditions S w = λw, ‖w‖ = 1 by "
            "hand. Which solution is the first principal component?",
            solution="$\\det(S - \\lambda I) = (2 - \\lambda)^2 - 1 = 0$ gives $\\lambda = "
            "3$ with $w = (1, 1)/\\sqrt{2}$ and $\\lambda = 1$ with $w = (1, -1)/\\sqrt{2}$. "
            "Both are stationary; since the variance along a stationary $w$ equals its "
            "$\\lambda$, the maximum is $\\lambda = 3$ along $(1, 1)/\\sqrt{2}$, explaining "
            "75% of the variance.",
            source="Phase 3, Optimization: Lagrange multipliers (shared/seeds/002)",
        ),
        Exercise(
            prompt="Let X = UDVᵀ be the SVD of the centred data. Show that the principal "
            "directions are the columns of V and the eigenvalues are dᵢ²/(N − 1). Check it "
            "on the four points above.",
            solution="$S = X^{\\top}X/(N - 1) = VDU^{\\top}UDV^{\\top}/(N - 1) = "
            "V\\,\\frac{D^2}{N - 1}\\,V^{\\top}$, an eigendecomposition. For the four points "
            f"the singular values are ${singular[0]:.4f}$ and ${singular[1]:.4f}$, and "
            f"${singular[0]:.4f}^2/3 = {singular[0] ** 2 / 3:.4f}$, the top eigenvalue. "
            "Libraries compute PCA this way: the SVD of $X$ never forms $X^{\\top}X$, which "
            "would square the condition number.",
            source="Phase 1, Linear algebra: diagonalization and SVD (shared/seeds/002)",
        ),
    )


# ---------------------------------------------------------------- independent routes
def sympy_solve_lagrange_system():
    """SymPy's solve of ∂L/∂w = 0 and ‖w‖ = 1 for S = [[2, 1], [1, 2]]: the multipliers
    found are the eigenvalues SymPy's eigenvals gives (3 and 1)."""
    w0, w1, mult = sp.symbols("w0 w1 lambda")
    sigma = sp.Matrix([[2, 1], [1, 2]])
    vec = sp.Matrix([w0, w1])
    lagr = (vec.T * sigma * vec)[0] - mult * ((vec.T * vec)[0] - 1)
    conditions = [sp.diff(lagr, v) for v in (w0, w1, mult)]
    multipliers = sorted({s[mult] for s in sp.solve(conditions, [w0, w1, mult], dict=True)})
    return sp.Matrix(multipliers), sp.Matrix(sorted(sigma.eigenvals()))


def _centred_data(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    mixing = rng.standard_normal((4, 4)) * np.array([3.0, 1.5, 0.7, 0.2])
    data = rng.standard_normal((50, 4)) @ mixing.T
    return data - data.mean(axis=0)


def numeric_eigenvalues_against_svd(seed: int):
    """Eigenvalues of S (numpy.linalg.eigh) against dᵢ²/(N − 1) from numpy.linalg.svd."""
    data = _centred_data(seed)
    values = np.linalg.eigvalsh(data.T @ data / (len(data) - 1))[::-1]
    singular = np.linalg.svd(data, compute_uv=False)
    return values, singular**2 / (len(data) - 1), 1e-10


def numeric_direction_against_svd(seed: int):
    """The top eigenvector of S against the first right singular vector (sign aligned)."""
    data = _centred_data(seed)
    top = np.linalg.eigh(data.T @ data / (len(data) - 1))[1][:, -1]
    first = np.linalg.svd(data)[2][0]
    return top * np.sign(top @ first), first, 1e-8


def numeric_variance_of_projections(seed: int):
    """np.var(Xw, ddof=1) along the top eigenvector equals the top eigenvalue, and no
    random unit direction (of 2000) has a larger variance."""
    data = _centred_data(seed)
    values, vectors = np.linalg.eigh(data.T @ data / (len(data) - 1))
    rng = np.random.default_rng(seed + 1)
    directions = rng.standard_normal((2000, 4))
    directions /= np.linalg.norm(directions, axis=1, keepdims=True)
    best_random = np.max(np.var(data @ directions.T, axis=0, ddof=1))
    along_top = np.var(data @ vectors[:, -1], ddof=1)
    return np.array([along_top, max(best_random, values[-1])]), np.full(2, values[-1]), 1e-10


def build() -> Derivation:
    projected = (
        Chain(variance, DEFINITIONS)
        .apply(rules.Definition((variance,)), "The sample variance of the projections X w.")
        .apply(SquareOfSum(), "(Σₗ X_rl wₗ)² = Σₗ Σₖ X_rk wₖ X_rl wₗ for each example r.")
        .apply(SumInside(N - 1), "Sum over the examples k first.")
        .apply(rules.SplitSums(), "w does not depend on the example: it leaves the inner sum.")
        .apply(
            rules.Fold(is_gram_sum, as_covariance, free_only=False),
            "Σᵣ X_rk X_rl = (N − 1)S_kl: the variance along w is wᵀ S w.",
        )
    )
    stationarity = (
        Chain(sp.Derivative(lagrangian, w[j, 0]), DEFINITIONS)
        .apply(rules.Definition((lagrangian,)), "L = wᵀ S w − λ(wᵀw − 1).")
        .apply(rules.Linearity(), "S and λ are constants.")
        .apply(rules.ProductRule(), "w appears twice in wᵀ S w.")
        .apply(rules.ChainRule(), "∂wₖ² = 2wₖ ∂wₖ.")
        .apply(rules.Differentiate(), "∂wₖ/∂wⱼ = δₖⱼ.")
        .apply(rules.CollapseDeltas(), "The deltas leave (S w)ⱼ + (Sᵀw)ⱼ − 2λwⱼ.")
        .apply(
            rules.Rewrite(is_transposed_entry, lambda e: S[e.j, e.i]),
            "S = XᵀX/(N − 1) is symmetric: 2(S w − λw)ⱼ. Zero exactly when S w = λw.",
        )
    )
    constraint = (
        Chain(sp.Derivative(lagrangian, lam), DEFINITIONS)
        .apply(rules.Definition((lagrangian,)), "Differentiate L in the multiplier.")
        .apply(rules.Linearity(), "Only the constraint term contains λ.")
        .apply(rules.Differentiate(), "Zero exactly when wᵀw = 1: the constraint.")
    )
    multiplier = Chain(lam, DEFINITIONS).apply(
        Solve(CONTRACTED_CONDITION, lam),
        "Multiply S w = λw by wᵀ: wᵀ S w = λwᵀw. So λ = wᵀ S w/wᵀw, which is wᵀ S w, the "
        "variance along w, for a unit w: the largest eigenvalue gives the most variance.",
    )
    gradient_result = stationarity.result("∂L/∂wⱼ", 2 * (S * w - lam * w), (j, 0), w)
    results = (
        projected.result("variance of X w", w.T * S * w, (0, 0)),
        gradient_result,
        constraint.result("∂L/∂λ", sp.Identity(1) - w.T * w, (0, 0)),
        multiplier.result(
            "λ at a stationary point",
            w.T * S * w * (w.T * w).I,  # the Rayleigh quotient wᵀSw/wᵀw
            (0, 0),
            assumptions=(CONTRACTED_CONDITION,),
        ),
    )
    covariance = X.T * X / (N - 1)
    case = Case(
        name="Lagrangian, λ = 1/2",
        # λ stays a name: the code takes it as an argument, λ = 1/2 by default.
        forward=w.T * covariance * w - lam * (w.T * w - sp.Identity(1)),
        wrt=(w,),
        gradients=(2 * (covariance * w - lam * w),),
        samplers={X: numeric.logits(), w: numeric.logits()},
        sizes=({N: 3, n: 2}, {N: 3, n: 3}, {N: 4, n: 2}),
        numeric_size={N: 8, n: 4},
        results={w: gradient_result.label},
        substitutions={lam: HALF},  # the value the checks use, and the code's default
    )
    derivation = Derivation(
        slug="pca-variance",
        title="PCA as variance maximisation",
        summary=(
            "Why the principal components are eigenvectors of the covariance matrix: the "
            "Lagrange conditions for the direction of largest variance are the eigenvalue "
            "equation, and the multiplier is the variance captured."
        ),
        conventions="X is N×n, centred (each column has mean 0), one example per row; "
        "S = XᵀX/(N − 1). Gradients in denominator layout (n×1). w is a unit column vector.",
        variables=(
            ("X", "N×n centred data"),
            ("S", "n×n sample covariance, S = XᵀX/(N − 1), symmetric (often called capital sigma)"),
            ("w", "n×1 direction, wᵀw = 1"),
            ("V", "the sample variance of the projections Xw"),
            ("L, λ", "the Lagrangian wᵀ S w − λ(wᵀw − 1) and its multiplier"),
        ),
        definitions=DEFINITIONS,
        results=results,
        cases=(case,),
        symbolic_checks=(
            (
                "SymPy's solve of the Lagrange system, S = [[2, 1], [1, 2]]",
                sympy_solve_lagrange_system,
            ),
        ),
        numeric_checks=(
            (
                "eigenvalues of S against squared singular values/(N − 1)",
                numeric_eigenvalues_against_svd,
            ),
            (
                "top eigenvector against the first right singular vector",
                numeric_direction_against_svd,
            ),
            (
                "variance along it is λ₁; no random direction beats it",
                numeric_variance_of_projections,
            ),
        ),
        exercises=exercises(),
    )
    # A route that reads the derived multiplier, so a wrong λ cannot pass.
    multiplier_result = derivation.result("λ at a stationary point")
    return dataclasses.replace(
        derivation,
        symbolic_checks=(
            *derivation.symbolic_checks,
            (
                "the derived λ at each eigenvector of S = [[2, 1], [1, 2]] is its eigenvalue",
                partial(_derived_multiplier_at_eigenvectors, multiplier_result),
            ),
        ),
    )


def _derived_multiplier_at_eigenvectors(multiplier_result):
    """The derived λ, written out at n = 2 with S = [[2, 1], [1, 2]] and w each of its
    eigenvectors (SymPy's eigenvects), against the eigenvalue of that eigenvector."""
    sigma = sp.Matrix([[2, 1], [1, 2]])
    at_two = algebra.instantiate(multiplier_result.derived, {n: 2})
    found, expected = [], []
    for value, _, vectors in sigma.eigenvects():
        entries = {
            sp.MatrixSymbol("S", 2, 2)[a, b]: sigma[a, b] for a in range(2) for b in range(2)
        }
        entries.update({sp.MatrixSymbol("w", 2, 1)[a, 0]: vectors[0][a] for a in range(2)})
        found.append(at_two.xreplace(entries))
        expected.append(value)
    return sp.Matrix(found), sp.Matrix(expected)
