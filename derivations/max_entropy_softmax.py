"""Maximum entropy is softmax: max H(p) s.t. Σp = 1, E_p[f] = F gives pⱼ = exp(λfⱼ)/Σₖ exp(λfₖ).

Of all distributions over n outcomes with a prescribed average of a feature f, the
one that assumes least — the maximum-entropy one — is the Boltzmann (softmax) form.
Derived from the stationarity of the Lagrangian ℒ = H(p) + λ₀(Σp − 1) + λ(Σpf − F):
each ∂ℒ/∂pⱼ = 0 makes pⱼ an exponential of λfⱼ, and normalisation fixes λ₀.

No numeric case: the result is the maximiser of a constrained problem. The derivative
∂ℒ/∂pⱼ is compared with SymPy's diff at n = 2, 3, 5; the maximiser with SymPy's solve of
the Lagrange conditions and with Newton's method.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from workbench.core import rules
from workbench.core.derivation import Chain, Derivation, Exercise
from workbench.core.functions import Elementwise, Softmax
from workbench.core.rules_stats import Solve

n = sp.Symbol("n", integer=True, positive=True)
j, k = sp.symbols("j k", integer=True)
p = sp.MatrixSymbol("p", n, 1)
f = sp.MatrixSymbol("f", n, 1)
lam0, lam, F = sp.symbols("lambda0 lambda F", real=True)
Lag = sp.Symbol("Lag")
SCALAR = (0, 0)


def _sum(term):
    return sp.Sum(term, (k, 0, n - 1))


DEFINITIONS = {
    Lag: -_sum(p[k, 0] * sp.log(p[k, 0]))
    + lam0 * (_sum(p[k, 0]) - 1)
    + lam * (_sum(p[k, 0] * f[k, 0]) - F),
}
STATIONARITY = -sp.log(p[j, 0]) - 1 + lam0 + lam * f[j, 0]
ONES = sp.OneMatrix(n, 1)
# The same, all j at once: λf + (λ₀ − 1)𝟏 − log p, entry by entry.
GRADIENT = lam * f + lam0 * ONES - ONES - Elementwise("log", p)
CLOSED_FORM = Softmax(lam * f)


def _normalisation(p_j: sp.Basic) -> tuple[sp.Basic, sp.Basic]:
    """Σₖ pₖ = 1 with pₖ in the stationary form: exp(λ₀ − 1) leaves the sum."""
    total = _sum(sp.expand(p_j.xreplace({j: k}), power_exp=True))
    return rules.SplitSums().apply(total, None), sp.Integer(1)


def _exercises() -> tuple[Exercise, ...]:
    energies = np.array([0.0, 1.0, 2.0])
    probs = np.exp(-energies) / np.exp(-energies).sum()
    mean = probs @ energies
    return (
        Exercise(
            prompt="Three states have energies f = (0, 1, 2). Which distribution of maximum "
            "entropy has mean energy E[f] = "
            f"{mean:.4f}? Check that λ = −1 gives it.",
            solution="The derivation says $p_j \\propto e^{\\lambda f_j}$. With $\\lambda = -1$: "
            f"$p = ({', '.join(f'{x:.4f}' for x in probs)})$ and $\\sum_j p_j f_j = "
            f"{mean:.4f}$, as required. A negative $\\lambda$ favours low energies: this is "
            "the Boltzmann distribution at temperature $T = -1/\\lambda = 1$.",
            source="Phase 3, Optimization: Lagrange multipliers (shared/seeds/002)",
        ),
        Exercise(
            prompt="Without the constraint on E[f] (only Σp = 1), what distribution maximises "
            "the entropy? What is its entropy for n outcomes?",
            solution="With no feature constraint, $\\lambda = 0$ and the stationarity "
            "condition $-\\log p_j - 1 + \\lambda_0 = 0$ makes every $p_j$ equal: the uniform "
            "distribution $p_j = 1/n$, with entropy $\\log n$ (one bit for a coin, "
            "$\\log_2 6 = 2.585$ bits for a die).",
            source="Phase 2, Probability & Statistics: entropy (shared/seeds/002)",
        ),
        Exercise(
            prompt="A classifier's softmax over logits z is a maximum-entropy distribution. "
            "Which constraint do the logits encode?",
            solution="Take one feature per class, $f = z$ and $\\lambda = 1$: softmax(z) is the "
            "highest-entropy distribution whose expected logit $\\sum_j p_j z_j$ is the one it "
            "attains. Scaling the logits by $1/T$ is choosing $\\lambda = 1/T$: a higher "
            "temperature gives a flatter, higher-entropy distribution.",
            source="Phase 3, Probability distributions: softmax (shared/seeds/003)",
        ),
    )


def build() -> Derivation:
    gradient = (
        Chain(sp.Derivative(Lag, p[j, 0]), DEFINITIONS)
        .apply(
            rules.Definition((Lag,)), "The Lagrangian: entropy plus a multiplier per constraint."
        )
        .apply(rules.Linearity(), "Into each sum; F and the multipliers are constants.")
        .apply(rules.ProductRule(), "pₖ log pₖ is a product.")
        .apply(rules.ChainRule(), "∂ log u = (1/u) ∂u.")
        .apply(rules.Differentiate(), "∂pₖ/∂pⱼ = δₖⱼ.")
        .apply(rules.CollapseDeltas(), "Each delta keeps only k = j.")
    )
    stationary = (gradient.current, sp.Integer(0))
    solved = Chain(p[j, 0], DEFINITIONS).apply(
        Solve(stationary, p[j, 0]),
        "Stationarity ∂ℒ/∂pⱼ = 0: log pⱼ = λ₀ − 1 + λfⱼ, an exponential of the feature.",
    )
    normalisation = _normalisation(solved.current)
    solved = solved.apply(
        Solve(normalisation, lam0),
        "The constraint Σₖ pₖ = 1 fixes λ₀: exp(λ₀ − 1) = 1/Σₖ exp(λfₖ), the normaliser.",
    )
    results = (
        gradient.result("∂ℒ/∂pⱼ", GRADIENT, (j, 0)),
        solved.result("pⱼ", CLOSED_FORM, (j, 0), assumptions=(stationary, normalisation)),
    )
    return Derivation(
        slug="max-entropy-softmax",
        title="Maximum entropy gives softmax",
        summary=(
            "Why softmax: it is the least-committal distribution that matches an expected "
            "feature. Lagrange multipliers turn the constrained maximisation into the "
            "Boltzmann form p ∝ exp(λf)."
        ),
        conventions="Natural logs. p and f are n×1 columns indexed 0..n−1; λ₀ is the "
        "multiplier of Σp = 1 and λ that of Σpf = F. The derivative is with respect to one "
        "entry pⱼ.",
        variables=(
            ("p", "n×1 probabilities, the unknowns"),
            ("f", "n×1 feature (energy, or logit) of each outcome"),
            ("F", "the prescribed mean of f"),
            ("λ₀, λ", "Lagrange multipliers"),
            ("ℒ", "the Lagrangian H(p) + λ₀(Σp − 1) + λ(Σpf − F)"),
        ),
        definitions=DEFINITIONS,
        results=results,
        cases=(),
        symbolic_checks=_symbolic_checks(results[1]),
        numeric_checks=NUMERIC_CHECKS,
        exercises=_exercises(),
        domain={"p": (0.05, 1.0)},
    )


# ---------------------------------------------------------------- independent routes
SIZE = 3


def _explicit(expr):
    ps, fs = sp.MatrixSymbol("p", SIZE, 1), sp.MatrixSymbol("f", SIZE, 1)
    names = {ps[i, 0]: sp.Symbol(f"p{i}", positive=True) for i in range(SIZE)}
    names |= {fs[i, 0]: sp.Symbol(f"f{i}", real=True) for i in range(SIZE)}
    return expr.subs(n, SIZE).doit().xreplace(names), [names[ps[i, 0]] for i in range(SIZE)]


def _symbolic_checks(solution):
    lagrangian, ps = _explicit(DEFINITIONS[Lag])
    derived = [_explicit(solution.derived.xreplace({j: i}))[0] for i in range(SIZE)]
    # λ₀ = 1 − log Z solves normalisation (checked by the first route below).
    z_sum = sum(sp.exp(lam * sp.Symbol(f"f{i}", real=True)) for i in range(SIZE))

    def stationarity():
        """SymPy's diff of the Lagrangian at n = 3, with the derived p and λ₀ = 1 − log Z."""
        at_solution = {**dict(zip(ps, derived, strict=True)), lam0: 1 - sp.log(z_sum)}
        return sp.Matrix([sp.diff(lagrangian, pi).subs(at_solution) for pi in ps]), sp.zeros(3, 1)

    def normalised():
        return sp.Add(*derived), sp.Integer(1)

    def solve_route():
        """SymPy's solve of ∂ℒ/∂pᵢ = 0 for each pᵢ (from SymPy's diff), then Σp = 1 for λ₀."""
        roots = [sp.solve(sp.diff(lagrangian, pi), pi) for pi in ps]
        if any(len(r) != 1 for r in roots):
            return sp.nan, 0
        multiplier = sp.solve(sp.Add(*[r[0] for r in roots]) - 1, lam0)
        if len(multiplier) != 1:
            return sp.nan, 0
        return sp.Matrix([r[0].subs(lam0, multiplier[0]) for r in roots]), sp.Matrix(derived)

    return (
        ("the derived p sums to one at n = 3", normalised),
        ("∂ℒ/∂pᵢ (SymPy's diff) vanishes at the derived p, n = 3", stationarity),
        ("SymPy's solve of the Lagrange conditions at n = 3", solve_route),
    )


def _maximise_entropy(seed: int):
    """Newton's method for max H(p) s.t. Ap = b (rows: 1ᵀ and fᵀ), from an infeasible start.

    Solves the KKT system with numpy.linalg at each step (Boyd & Vandenberghe §10.3) with
    a backtracking line search that keeps p > 0; then compares with softmax(λf), where
    F was generated from that λ.
    """
    rng = np.random.default_rng(seed)
    size = 6
    feature, true_lam = rng.normal(0, 1, size), rng.uniform(-1.5, 1.5)
    target = np.exp(true_lam * feature) / np.exp(true_lam * feature).sum()
    a = np.vstack([np.ones(size), feature])
    b = a @ target

    def residual(x, nu):
        return np.concatenate([np.log(x) + 1 + a.T @ nu, a @ x - b])

    x, nu = np.full(size, 1 / size), np.zeros(2)
    for _ in range(100):
        kkt = np.block([[np.diag(1 / x), a.T], [a, np.zeros((2, 2))]])
        step = np.linalg.solve(kkt, -residual(x, nu))
        dx, dnu = step[:size], step[size:]
        t = 1.0
        while np.any(x + t * dx <= 0) or np.linalg.norm(residual(x + t * dx, nu + t * dnu)) > (
            1 - 0.01 * t
        ) * np.linalg.norm(residual(x, nu)):
            t *= 0.5
            if t < 1e-12:
                break
        x, nu = x + t * dx, nu + t * dnu
        if np.linalg.norm(residual(x, nu)) < 1e-14:
            break
    return x, target, 1e-9


NUMERIC_CHECKS = (
    ("constrained maximisation by Newton's method (numpy.linalg)", _maximise_entropy),
)
