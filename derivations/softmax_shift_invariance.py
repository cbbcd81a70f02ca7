"""Softmax shift invariance: softmax(z + c·1) = softmax(z), so stable code subtracts max zₖ.

Adding the same number c to every logit multiplies the numerator and the denominator of
each softmax probability by e^c, which cancels. With c = −max zₖ every exponent is at
most 0, so nothing overflows: softmax(z)ᵢ = exp(zᵢ − m)/Σₖ exp(zₖ − m). Derived at
general n in index notation.

No numeric case: the results are identities between values of softmax, not derivatives
of an input. SymPy's evaluation of the definitions at n = 2, 3, 5 reads them (the sympy
diff check), and the numeric routes shift the logits in float64.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from derivations import softmax_jacobian as sj
from workbench.codegen import numeric
from workbench.core import rules
from workbench.core.derivation import Chain, Derivation, Exercise
from workbench.core.functions import Softmax
from workbench.core.rules_extra import SplitExponential

n, i, z, s = sj.n, sj.i, sj.z, sj.s
c = sp.Symbol("c", real=True)  # the shift
m = sp.Symbol("m", real=True)  # any number; in code, max_k z_k
t = sp.MatrixSymbol("t", n, 1)  # the shifted logits
u = sp.MatrixSymbol("u", n, 1)  # their softmax
ones = sp.OneMatrix(n, 1)

DEFINITIONS = {s: Softmax(z), t: z + c * ones, u: Softmax(t)}
STABLE_FORM = Softmax(z - m * ones)

SEED_LOGITS = np.array([1.0, 2.0, 3.0])
SEED_SHIFTED = np.array([101.0, 102.0, 103.0])


def direct_softmax(x: np.ndarray) -> np.ndarray:
    """exp(x)/Σ exp(x) exactly as written: no shift, so it overflows past x ≈ 709."""
    e = np.exp(x)
    return e / np.sum(e)


def _fmt(values: np.ndarray) -> str:
    return "(" + ", ".join(f"{v:.4f}" for v in values) + ")"


def exercises() -> tuple[Exercise, ...]:
    """The seed's exercise with its numbers computed here (direct and stable softmax)."""
    seed_probs = direct_softmax(SEED_LOGITS)
    shifted = direct_softmax(SEED_SHIFTED)
    big = SEED_LOGITS + 1000.0
    with np.errstate(over="ignore", invalid="ignore"):
        overflowed = direct_softmax(big)
    stable = numeric.softmax(big.reshape(-1, 1)).ravel()
    return (
        Exercise(
            prompt="Implement softmax and apply it to [1, 2, 3] and to [101, 102, 103]. "
            "Same output? Why or why not?",
            solution=f"Both give ${_fmt(seed_probs)}$ (the second computes "
            f"${_fmt(shifted)}$). The logits differ by $c = 100$ in every entry, and "
            "$e^{z_i + c}/\\sum_k e^{z_k + c} = e^{c}e^{z_i}/(e^{c}\\sum_k e^{z_k})$: the "
            "factor $e^{c}$ cancels. Softmax only sees differences between logits.",
            source="Stage 01, Math Foundations: exercise 'Softmax intuition' (shared/seeds/001)",
        ),
        Exercise(
            prompt="Now try [1001, 1002, 1003] with the formula exactly as written, and "
            "again after subtracting the largest logit first.",
            solution="As written, $e^{1001}$ overflows float64 (the largest double is about "
            f"$e^{{709.8}}$), giving $\\infty/\\infty$ = {_fmt(overflowed)}. Subtracting "
            "$m = \\max_k z_k = 1003$ first computes $\\operatorname{softmax}(z - m\\mathbf{1})"
            f" = {_fmt(stable)}$, the same as for [1, 2, 3]: every exponent is $\\le 0$, so "
            "every $e^{z_k - m} \\le 1$, and the largest is exactly 1, so the sum is at "
            "least 1 and never underflows to zero.",
            source="Phase 3, Numerical methods: floating point precision (shared/seeds/002)",
        ),
        Exercise(
            prompt="Differentiate softmax(z + c·1) with respect to c. What does the answer say "
            "about the rows of the softmax Jacobian?",
            solution="By the result it does not depend on $c$, so the derivative is 0. By the "
            "chain rule it is also $\\sum_j \\partial s_i/\\partial z_j = (J\\mathbf{1})_i$. "
            "So $J\\mathbf{1} = 0$: every row of the Jacobian sums to zero, which the "
            "softmax Jacobian $\\operatorname{diag}(s) - ss^{\\top}$ confirms.",
            source="Phase 3, Vector calculus: gradients, Jacobians (shared/seeds/003)",
        ),
    )


def is_exp_of_logit(e: sp.Basic) -> bool:
    return isinstance(e, sp.exp) and getattr(e.args[0], "parent", None) == z


def times_exp_m(e: sp.Basic) -> sp.Basic:
    """exp(zₐ) = e^m · exp(zₐ − m): multiply and divide by the same positive number."""
    return sp.exp(m) * sp.exp(e.args[0] - m)


# ---------------------------------------------------------------- independent routes
def _explicit(matrix_expr, size: int) -> sp.Matrix:
    return matrix_expr.subs(n, size).as_explicit().doit()


def sympy_shifted_equals_plain() -> tuple[sp.Matrix, sp.Matrix]:
    """SymPy's explicit softmax at n = 3: softmax(z + c·1) against softmax(z)."""
    return _explicit(Softmax(z + c * ones), 3), _explicit(Softmax(z), 3)


def sympy_derivative_in_c() -> tuple[sp.Matrix, sp.Matrix]:
    """SymPy's diff at n = 4: ∂/∂c softmax(z + c·1) is the zero vector."""
    return _explicit(Softmax(z + c * ones), 4).diff(c), sp.zeros(4, 1)


def numeric_seed_example(seed: int):
    """The seed's numbers: direct softmax of [101, 102, 103] against that of [1, 2, 3]."""
    return direct_softmax(SEED_SHIFTED), direct_softmax(SEED_LOGITS), 1e-12


def numeric_random_shift(seed: int):
    """Random logits and a shift up to ±50 (direct exp stays far from overflow there)."""
    rng = np.random.default_rng(seed)
    logits, shift = 2.0 * rng.standard_normal(7), rng.uniform(-50, 50)
    return direct_softmax(logits + shift), direct_softmax(logits), 1e-12


def numeric_stable_at_1000(seed: int):
    """The max-subtracting helper at logits near 1000 (direct exp overflows there)."""
    rng = np.random.default_rng(seed)
    logits = 2.0 * rng.standard_normal((7, 1))
    # float64 spacing at 1000 is 1.1e-13, so z + 1000 − 1000 is off by that much: ~1e-13.
    return numeric.softmax(logits + 1000.0).ravel(), direct_softmax(logits.ravel()), 1e-11


def build() -> Derivation:
    invariance = (
        Chain(u[i, 0], DEFINITIONS)
        .apply(rules.Definition((u,)), "uᵢ is the softmax of the shifted logits t.")
        .apply(rules.Definition((t,)), "Each shifted logit is tₖ = zₖ + c.")
        .apply(SplitExponential(), "exp(zₖ + c) = exp(zₖ)·exp(c), above and in every term below.")
        .apply(rules.SplitSums(), "exp(c) is common to every term: it leaves the sum and cancels.")
        .apply(
            rules.Fold(sj.is_exp_of_logit, sj.exp_in_terms_of_s),
            "What is left is the softmax of z itself.",
        )
    )
    stable = (
        Chain(s[i, 0], DEFINITIONS)
        .apply(rules.Definition((s,)), "Write sᵢ out.")
        .apply(
            rules.Rewrite(is_exp_of_logit, times_exp_m),
            "Multiply and divide every exponential by exp(m): exp(zₖ) = exp(m)·exp(zₖ − m).",
        )
        .apply(rules.SplitSums(), "exp(m) leaves the sum and cancels against the numerator's.")
    )
    return Derivation(
        slug="softmax-shift-invariance",
        title="Softmax shift invariance",
        summary=(
            "Adding the same constant to every logit leaves softmax unchanged. That is why "
            "softmax([1, 2, 3]) equals softmax([101, 102, 103]), and why every stable "
            "implementation subtracts the largest logit before exponentiating."
        ),
        conventions="Vectors are columns; 1 is the all-ones vector; indices run 0..n−1. "
        "The shift c and the subtracted m are any real numbers (in code, m = maxₖ zₖ).",
        variables=(
            ("z", "n×1 logits"),
            ("s", "n×1 probabilities, s = softmax(z)"),
            ("c", "a real shift added to every logit"),
            ("t, u", "the shifted logits t = z + c·1 and their softmax u"),
            ("m", "the number subtracted for stability, m = maxₖ zₖ in code"),
        ),
        definitions=DEFINITIONS,
        results=(
            invariance.result("softmax(z + c·1)ᵢ", s, (i, 0)),
            stable.result("softmax(z)ᵢ, stable form", STABLE_FORM, (i, 0)),
        ),
        cases=(),
        symbolic_checks=(
            ("SymPy, n = 3: softmax(z + c·1) = softmax(z)", sympy_shifted_equals_plain),
            ("SymPy's diff, n = 4: ∂ softmax(z + c·1)/∂c = 0", sympy_derivative_in_c),
        ),
        numeric_checks=(
            ("seed: softmax([101,102,103]) = softmax([1,2,3]), direct exp", numeric_seed_example),
            ("random z, shift c ∈ [−50, 50], direct exp", numeric_random_shift),
            ("max-subtracting softmax at z + 1000 vs direct softmax(z)", numeric_stable_at_1000),
        ),
        exercises=exercises(),
    )
