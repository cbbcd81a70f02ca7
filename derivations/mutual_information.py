"""Mutual information: I(X;Y) = H(X) − H(X|Y) = KL(p(x,y) ‖ p(x)p(y)) ≥ 0.

How much knowing Y reduces the uncertainty about X. Writing the marginal p(x) as a
sum of the joint over y puts both entropies under one double sum, and the logs combine
into the KL divergence between the joint distribution and the product of its
marginals: zero exactly when X and Y are independent, positive otherwise.

No numeric case: the result is a value, not a derivative. SymPy's evaluation of the
definition at concrete sizes reads it, and NumPy's conditional entropies and sampling
check it numerically.
"""

from __future__ import annotations

import numpy as np
import sympy as sp
from sympy.matrices.expressions.matexpr import MatrixElement

from workbench.core import rules
from workbench.core.derivation import Chain, Derivation, Exercise
from workbench.core.functions import Elementwise
from workbench.core.rules_stats import CombineLogs, CombineSums

m, n = sp.symbols("m n", integer=True, positive=True)
a, b = sp.symbols("a b", integer=True)
P = sp.MatrixSymbol("P", m, n)  # the joint p(x = a, y = b)
px = sp.MatrixSymbol("p_x", m, 1)
py = sp.MatrixSymbol("p_y", n, 1)
I, H_X, H_XgY = sp.symbols("I H_X H_X|Y")
SCALAR = (0, 0)


def _double_sum(term):
    return sp.Sum(term, (b, 0, n - 1), (a, 0, m - 1))


DEFINITIONS = {
    px: P * sp.OneMatrix(n, 1),
    py: P.T * sp.OneMatrix(m, 1),
    H_X: -sp.Sum(px[a, 0] * sp.log(px[a, 0]), (a, 0, m - 1)),
    H_XgY: -_double_sum(P[a, b] * sp.log(P[a, b] / py[b, 0])),
    I: H_X - H_XgY,
}
PRODUCT_OF_MARGINALS = px * py.T
CLOSED_FORM = (
    sp.OneMatrix(1, m)
    * sp.HadamardProduct(P, Elementwise("log", P) - Elementwise("log", PRODUCT_OF_MARGINALS))
    * sp.OneMatrix(n, 1)
)


def _is_marginal_term(e: sp.Basic) -> bool:
    """p_x[a]·log p_x[a]: the summand of H(X)."""
    if not isinstance(e, sp.Mul):
        return False
    factors = [f for f in e.args if isinstance(f, MatrixElement) and f.parent == px]
    return len(factors) == 1 and sp.log(factors[0]) in e.args


def _as_sum_over_y(e: sp.Basic) -> sp.Basic:
    """p_x[a] = Σ_b P[a, b], used for the factor outside the log only."""
    element = next(f for f in e.args if isinstance(f, MatrixElement) and f.parent == px)
    rest = e / element
    k = sp.Dummy("b", integer=True)
    return sp.Sum(P[element.i, k] * rest, (k, 0, n - 1))


def _entropy(q: np.ndarray) -> float:
    q = q[q > 0]
    return float(-np.sum(q * np.log2(q)))


EXAMPLE = np.array([[0.4, 0.1], [0.1, 0.4]])  # X, Y: two fair coins that agree 80% of the time


def _exercises() -> tuple[Exercise, ...]:
    joint = EXAMPLE
    hx, hxy = _entropy(joint.sum(1)), _entropy(joint.ravel())
    info = 2 * hx - hxy
    return (
        Exercise(
            prompt="X and Y are fair coins that agree 80% of the time: p(x, y) = 0.4 when "
            "x = y and 0.1 otherwise. Compute H(X), H(X|Y) and I(X; Y) in bits.",
            solution=f"$H(X) = 1$ bit. Given $Y$, $X$ is a 80/20 coin: $H(X \\mid Y) = "
            f"H(0.8) = {hx - info:.4f}$ bits. So $I(X;Y) = {info:.4f}$ bits: seeing $Y$ "
            "removes about a quarter of a bit of the uncertainty about $X$.",
            source="Phase 4, Information Theory: joint, marginal, conditional entropy; mutual "
            "information (shared/seeds/002)",
        ),
        Exercise(
            prompt="Check the same number as KL(p(x,y) ‖ p(x)p(y)) and as H(X) + H(Y) − H(X,Y).",
            solution="The marginals are uniform, so $p(x)p(y) = 1/4$ everywhere and "
            "$\\mathrm{KL} = 2 \\cdot 0.4 \\log_2(0.4/0.25) + 2 \\cdot 0.1 \\log_2(0.1/0.25) "
            f"= {info:.4f}$. And $H(X,Y) = {hxy:.4f}$, so $1 + 1 - {hxy:.4f} = {info:.4f}$ "
            "bits: the three routes agree.",
            source="Phase 4, Information Theory: mutual information (shared/seeds/002)",
        ),
        Exercise(
            prompt="Why is I(X; Y) = 0 for independent X and Y, and never negative?",
            solution="Independence means $p(x,y) = p(x)p(y)$, so every log-ratio is "
            "$\\log 1 = 0$. In general $I$ is a KL divergence, and by Jensen's inequality "
            "$-\\mathrm{KL}(p \\,\\|\\, q) = \\mathbb{E}_p \\log(q/p) \\le \\log \\mathbb{E}_p "
            "(q/p) = \\log 1 = 0$. Conditioning never increases entropy on average.",
            source="Phase 2, Probability & Statistics: entropy, KL divergence (shared/seeds/002)",
        ),
    )


def build() -> Derivation:
    chain = (
        Chain(I, DEFINITIONS)
        .apply(rules.Definition((I,)), "Mutual information: the drop in entropy of X given Y.")
        .apply(rules.Definition((H_X, H_XgY)), "Both entropies written out.")
        .apply(
            rules.Rewrite(_is_marginal_term, _as_sum_over_y),
            "The marginal outside the log is a sum of the joint: p(x) = Σ_y p(x, y).",
        )
        .apply(CombineSums(), "Both terms are now sums over the same (x, y): one double sum.")
        .apply(CombineLogs(), "log(p(x,y)/p(y)) − log p(x) = log(p(x,y)/(p(x)p(y))).")
    )
    result = chain.result("I(X;Y)", CLOSED_FORM, SCALAR)
    return Derivation(
        slug="mutual-information",
        title="Mutual information",
        summary=(
            "Mutual information measures how much one variable tells about another. Written "
            "out, the entropy difference H(X) − H(X|Y) is the KL divergence from the joint "
            "distribution to the product of its marginals, so it is never negative."
        ),
        conventions="Natural logs in the derivation (nats); the exercises use bits. The joint "
        "distribution is an m×n matrix P with P[a, b] = p(x = a, y = b); marginals are "
        "columns, p_x = P1 and p_y = Pᵀ1.",
        variables=(
            ("P", "m×n joint distribution of X and Y, entries > 0"),
            ("p_x", "m×1 marginal of X, p_x = P1"),
            ("p_y", "n×1 marginal of Y, p_y = Pᵀ1"),
            ("H_X, H_X|Y", "entropy of X and conditional entropy of X given Y"),
        ),
        definitions=DEFINITIONS,
        results=(result,),
        cases=(),
        symbolic_checks=SYMBOLIC_CHECKS,
        numeric_checks=NUMERIC_CHECKS,
        exercises=_exercises(),
        domain={"P": (0.05, 1.0)},
    )


# ---------------------------------------------------------------- independent routes
ROWS, COLS = 2, 3


def _symbols():
    return sp.Matrix(ROWS, COLS, lambda r, c: sp.Symbol(f"P{r}{c}", positive=True))


def _entropies_route():
    """At 2×3, H(X) + H(Y) − H(X,Y) written out by SymPy, against the derived result."""
    joint = _symbols()
    rows = [sum(joint[i, :]) for i in range(ROWS)]
    cols = [sum(joint[:, j]) for j in range(COLS)]
    h_x = -sum(v * sp.log(v) for v in rows)
    h_y = -sum(v * sp.log(v) for v in cols)
    h_xy = -sum(v * sp.log(v) for v in joint)
    concrete = sp.MatrixSymbol("P", ROWS, COLS)
    names = {concrete[i, j]: joint[i, j] for i in range(ROWS) for j in range(COLS)}
    return h_x + h_y - h_xy, _derived_at_size().xreplace(names)


def _derived_at_size():
    from workbench.core.algebra import instantiate, resolve

    derivation = build()
    resolved = resolve(derivation.results[0].derived, derivation.definitions)
    return instantiate(resolved, {m: ROWS, n: COLS})


SYMBOLIC_CHECKS = (("H(X) + H(Y) − H(X,Y) at 2×3", _entropies_route),)


def _random_joint(rng, rows=3, cols=4):
    joint = rng.gamma(1.0, size=(rows, cols))
    return joint / joint.sum()


def _kl_numpy(joint):
    product = np.outer(joint.sum(1), joint.sum(0))
    return float(np.sum(joint * np.log(joint / product)))


def _conditional_route(seed: int):
    """H(X) − Σ_b p(y_b) H(X | Y = y_b), from the columns of P, against the KL form."""
    joint = _random_joint(np.random.default_rng(seed))
    p_x, p_y = joint.sum(1), joint.sum(0)
    h_x = -np.sum(p_x * np.log(p_x))
    conditional = sum(
        p_y[col] * -np.sum((joint[:, col] / p_y[col]) * np.log(joint[:, col] / p_y[col]))
        for col in range(joint.shape[1])
    )
    return h_x - conditional, _kl_numpy(joint), 1e-12


def _monte_carlo(seed: int):
    """Mean of log p(x,y)/(p(x)p(y)) over 200 000 sampled pairs; 5 standard errors."""
    rng = np.random.default_rng(seed)
    joint = _random_joint(rng)
    cells = rng.choice(joint.size, size=200_000, p=joint.ravel())
    rows, cols = np.unravel_index(cells, joint.shape)
    ratio = np.log(joint[rows, cols] / (joint.sum(1)[rows] * joint.sum(0)[cols]))
    expected = _kl_numpy(joint)
    return ratio.mean(), expected, float(5 * ratio.std() / np.sqrt(cells.size) / expected)


NUMERIC_CHECKS = (
    ("H(X) − H(X|Y) from conditional distributions (NumPy)", _conditional_route),
    ("sampling 200 000 pairs (5 standard errors)", _monte_carlo),
)
