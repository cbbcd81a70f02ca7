"""Log-sum-exp gradient: ∇ log Σₖ exp zₖ = softmax(z), and LSE(z) = m + log Σₖ exp(zₖ − m).

Log-sum-exp is the normaliser of softmax (log sᵢ = zᵢ − LSE(z)) and a smooth maximum:
max z ≤ LSE(z) ≤ max z + log n. Its gradient is the softmax, derived at general n by the
chain rule; subtracting m = max zₖ inside and adding it back outside is how every
library computes it without overflow.
"""

from __future__ import annotations

import mpmath
import numpy as np
import sympy as sp
from sympy.matrices.expressions.matexpr import MatrixExpr

from derivations import softmax_jacobian as sj
from workbench.codegen import numeric
from workbench.core import rules
from workbench.core.derivation import Case, Chain, Derivation, Exercise
from workbench.core.functions import Softmax
from workbench.core.rules_stats import ExpandLogs

n, j, z, s = sj.n, sj.j, sj.z, sj.s
k = sp.Symbol("k", integer=True)
m = sp.Symbol("m", real=True)  # any number; in code, max_k z_k
L = sp.Symbol("L")


class LogSumExp(MatrixExpr):
    """log Σₖ exp(xₖ) of a column vector, as a 1×1 matrix.

    Printed to NumPy as the max-subtracting helper ``logsumexp`` of
    :mod:`workbench.codegen.numeric`, so generated code never overflows.
    """

    arg = property(lambda self: self.args[0])

    @property
    def shape(self):
        return (sp.Integer(1), sp.Integer(1))

    def _entry(self, i, j, **kwargs):
        x = self.arg
        r = sp.Dummy("k", integer=True)
        return sp.log(sp.Sum(sp.exp(x[r, 0]), (r, 0, x.shape[0] - 1)))

    def _numpycode(self, printer):
        return f"logsumexp({printer._print(self.arg)}, axis=0)"

    def _latex(self, printer):
        return rf"\operatorname{{LSE}}\left({printer._print(self.arg)}\right)"

    def _sympystr(self, printer):
        return f"logsumexp({printer._print(self.arg)})"


DEFINITIONS = {s: Softmax(z), L: sp.log(sp.Sum(sp.exp(z[k, 0]), (k, 0, n - 1)))}
SHIFTED_FORM = m * sp.OneMatrix(1, 1) + LogSumExp(z - m * sp.OneMatrix(n, 1))

SEED_LOGITS = (1.0, 2.0, 3.0)


def direct_lse(x: np.ndarray) -> float:
    """log Σ exp(x) exactly as written: overflows past x ≈ 709."""
    return float(np.log(np.sum(np.exp(x))))


def stable_lse(x: np.ndarray) -> float:
    """The workbench's helper: m + log Σ exp(x − m)."""
    return float(numeric.logsumexp(np.asarray(x, dtype=float)))


def exercises() -> tuple[Exercise, ...]:
    seed = np.array(SEED_LOGITS)
    lse, big = stable_lse(seed), seed + 1000.0
    with np.errstate(over="ignore"):
        overflowed = direct_lse(big)
    probs = np.exp(seed - lse)
    return (
        Exercise(
            prompt="Compute LSE(z) = log Σ exp zₖ for z = (1, 2, 3), then log softmax(z) = "
            "z − LSE(z), and check that exponentiating gives probabilities summing to one.",
            solution=f"$\\operatorname{{LSE}}(z) = \\log(e + e^2 + e^3) = {lse:.4f}$, so "
            f"$\\log s = ({1 - lse:.4f}, {2 - lse:.4f}, {3 - lse:.4f})$ and "
            f"$s = ({probs[0]:.4f}, {probs[1]:.4f}, {probs[2]:.4f})$, summing to "
            f"${probs.sum():.4f}$. LSE is the log of softmax's denominator; its gradient, "
            "derived here, is softmax itself.",
            source="Stage 01, Math Foundations: exercise 'Softmax intuition' (shared/seeds/001)",
        ),
        Exercise(
            prompt="Compute LSE(1001, 1002, 1003) as written and with the max subtracted. "
            "Why is LSE called a smooth maximum?",
            solution=f"As written, $e^{{1001}}$ overflows and the result is ${overflowed}$. "
            f"With $m = 1003$: $1003 + \\log(e^{{-2}} + e^{{-1}} + 1) = {stable_lse(big):.4f}$, "
            f"that is $1000 + {lse:.4f}$. Because the largest term is $e^{{m}}$ and there are "
            "$n$ terms, $\\max_k z_k \\le \\operatorname{LSE}(z) \\le \\max_k z_k + \\log n$: "
            "LSE is a maximum with a smooth corner, and its gradient, softmax, is a soft "
            "one-hot pointer at the largest entry.",
            source="Week 0.1, Algebra & functions: how log(exp(x)) behaves (shared/seeds/000)",
        ),
        Exercise(
            prompt="Using the gradient derived here, show that the Hessian of LSE is "
            "diag(s) − s sᵀ, and explain why LSE is convex.",
            solution="The Hessian is the Jacobian of the gradient $s = "
            "\\operatorname{softmax}(z)$, which is $\\operatorname{diag}(s) - ss^{\\top}$. For "
            "any $v$, $v^{\\top}(\\operatorname{diag}(s) - ss^{\\top})v = \\sum_k s_k v_k^2 - "
            "(\\sum_k s_k v_k)^2$, the variance of $v$ under the distribution $s$, which is "
            "$\\ge 0$. A positive semidefinite Hessian everywhere means LSE is convex, which "
            "is why the softmax cross-entropy is convex in the logits.",
            source="Phase 1, Calculus: gradients, Jacobians, Hessians (shared/seeds/002)",
        ),
    )


def is_exp_of_logit(e: sp.Basic) -> bool:
    return isinstance(e, sp.exp) and getattr(e.args[0], "parent", None) == z


def times_exp_m(e: sp.Basic) -> sp.Basic:
    """exp(zₐ) = e^m · exp(zₐ − m)."""
    return sp.exp(m) * sp.exp(e.args[0] - m)


# ---------------------------------------------------------------- independent routes
def sympy_shift_identity() -> tuple[sp.Basic, sp.Basic]:
    """SymPy's explicit LSE at n = 4 against m + LSE(z − m·1) (random points decide)."""
    size = {n: 4}
    plain = LogSumExp(z).subs(size).as_explicit().doit()[0, 0]
    return plain, SHIFTED_FORM.subs(size).as_explicit().doit()[0, 0]


def numeric_against_mpmath(seed: int):
    """The stable helper at logits near ±1000 against 50-digit mpmath (direct exp overflows)."""
    rng = np.random.default_rng(seed)
    computed, expected = [], []
    for offset in (-1000.0, 0.0, 1000.0):
        x = offset + 3.0 * rng.standard_normal(8)
        with mpmath.workdps(50):
            exact = mpmath.log(mpmath.fsum(mpmath.exp(mpmath.mpf(v)) for v in x))
        computed.append(stable_lse(x))
        expected.append(float(exact))
    # Relative to max |LSE| ≈ 1000: float64 rounding of x itself is ~1e-16 relative.
    return np.array(computed), np.array(expected), 1e-14


def build() -> Derivation:
    gradient = (
        Chain(sp.Derivative(L, z[j, 0]), DEFINITIONS)
        .apply(rules.Definition((L,)), "L = LSE(z) is the log of the sum of exponentials.")
        .apply(rules.ChainRule(), "∂ log u = (1/u) ∂u, with u the sum.")
        .apply(rules.Linearity(), "The derivative of a sum is the sum of the derivatives.")
        .apply(rules.ChainRule(), "∂ exp(zₖ) = exp(zₖ) ∂zₖ.")
        .apply(rules.Differentiate(), "∂zₖ/∂zⱼ = δₖⱼ.")
        .apply(rules.CollapseDeltas(), "The delta keeps only the k = j term.")
        .apply(
            rules.Fold(sj.is_exp_of_logit, sj.exp_in_terms_of_s),
            "exp(zⱼ) over the sum of all exp(zₖ) is sⱼ: the gradient is the softmax.",
        )
    )
    shifted = (
        Chain(L, DEFINITIONS)
        .apply(rules.Definition((L,)), "Write LSE(z) out.")
        .apply(
            rules.Rewrite(is_exp_of_logit, times_exp_m),
            "Multiply and divide each exponential by exp(m).",
        )
        .apply(rules.SplitSums(), "exp(m) is the same in every term: it leaves the sum.")
        .apply(ExpandLogs(), "log(exp(m)·S) = m + log S.")
    )
    gradient_result = gradient.result("∂L/∂zⱼ", s, (j, 0), z)
    case = Case(
        name="vector",
        forward=LogSumExp(z),
        wrt=(z,),
        gradients=(Softmax(z),),
        samplers={z: numeric.logits(3.0)},
        sizes=({n: 2}, {n: 3}, {n: 4}),
        numeric_size={n: 7},
        results={z: gradient_result.label},
    )
    return Derivation(
        slug="log-sum-exp-gradient",
        title="Log-sum-exp gradient",
        summary=(
            "The gradient of log-sum-exp is softmax: the identity behind the softmax "
            "cross-entropy gradient, and the stable way (subtract the max, add it back) to "
            "compute the log of a sum of exponentials."
        ),
        conventions="Gradient, denominator layout: ∂L/∂z has the shape of z (n×1). Natural "
        "logs. m is any real number (in code, m = maxₖ zₖ).",
        variables=(
            ("z", "n×1 logits"),
            ("L", "L = LSE(z) = log Σₖ exp zₖ"),
            ("s", "n×1 probabilities, s = softmax(z)"),
            ("m", "the number subtracted for stability"),
        ),
        definitions=DEFINITIONS,
        results=(gradient_result, shifted.result("LSE(z), stable form", SHIFTED_FORM, (0, 0))),
        cases=(case,),
        symbolic_checks=(("SymPy, n = 4: LSE(z) = m + LSE(z − m·1)", sympy_shift_identity),),
        numeric_checks=(("stable LSE near ±1000 against 50-digit mpmath", numeric_against_mpmath),),
        exercises=exercises(),
    )
