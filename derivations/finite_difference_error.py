"""Finite-difference error: central difference error ≈ h²f′′′/6 + ε|f|/h, best h ∝ cube root of ε.

Why gradient checks use h ≈ 1e-5 and the complex step h = 1e-20. Taylor's theorem gives
the truncation error of (f(x + h) − f(x − h))/(2h), which shrinks like h²; rounding in the
two evaluations of f adds up to ε|f|/h, which grows as h shrinks. Minimising their sum
gives h* ∝ ε^(1/3) and a best error ∝ ε^(2/3) ≈ 1e-11. The complex step Im f(x + ih)/h has
the same h² truncation but subtracts nothing, so h can be tiny.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import sympy as sp

from workbench.core import rules
from workbench.core.derivation import Case, Chain, Derivation, Exercise
from workbench.core.rules_extra import EvaluateAt
from workbench.core.rules_stats import Solve

x = sp.Symbol("x", real=True)
h = sp.Symbol("h", positive=True)
# The value and derivatives of f at x: f, f′, f′′, f′′′, f⁽⁴⁾, f⁽⁵⁾.
DERIVATIVES = tuple(
    sp.Symbol(name, real=True) for name in ("f", "f'", "f''", "f'''", "f^{(4)}", "f^{(5)}")
)
f0, f1, f2, f3, f4, f5 = DERIVATIVES
eps, size, curvature = sp.symbols("epsilon F M", positive=True)  # ε, |f(x)|, |f′′′(x)|

f_plus, f_minus, f_complex = sp.symbols("f_+ f_- f_c")  # f(x + h), f(x − h), f(x + ih)
central, complex_step, total = sp.symbols("D C E")


def taylor(step: sp.Basic) -> sp.Basic:
    """f(x + step) = Σ_{m ≤ 5} f⁽ᵐ⁾(x)·stepᵐ/m!: exact for quintics, O(step⁶) for smooth f."""
    return sum(d * step**m / sp.factorial(m) for m, d in enumerate(DERIVATIVES))


DEFINITIONS = {
    f_plus: taylor(h),
    f_minus: taylor(-h),
    f_complex: taylor(sp.I * h),
    central: (f_plus - f_minus) / (2 * h),
    complex_step: sp.im(f_complex) / h,
    # Truncation bounded by h²M/6, rounding: each f carries a relative error ≤ ε, so
    # the difference of two is off by ≤ 2εF, divided by 2h.
    total: h**2 * curvature / 6 + eps * size / h,
}
BEST_STEP = (3 * eps * size / curvature) ** sp.Rational(1, 3)
STATIONARY = (sp.diff(DEFINITIONS[total], h), sp.Integer(0))

EPS64 = float(np.finfo(np.float64).eps)


def central_difference(fun, point: np.ndarray, step: float) -> np.ndarray:
    return (fun(point + step) - fun(point - step)) / (2 * step)


def exercises() -> tuple[Exercise, ...]:
    steps = (1e-1, 1e-3, 1e-5, 1e-7, 1e-9, 1e-11)
    errors = [abs(central_difference(np.sin, np.array(1.0), s) - np.cos(1.0)) for s in steps]
    best = (3 * EPS64) ** (1 / 3)
    table = ", ".join(
        f"$10^{{{int(np.log10(s))}}}$: {e:.1e}" for s, e in zip(steps, errors, strict=True)
    )
    tiny = 1e-20
    complex_error = abs(np.imag(np.sin(1.0 + 1j * tiny)) / tiny - np.cos(1.0))
    return (
        Exercise(
            prompt="Estimate sin′(1) by the central difference for h = 10⁻¹, 10⁻³, …, 10⁻¹¹ "
            "and compare with cos 1. Where is the error smallest, and why does it grow again?",
            solution=f"The errors are {table}. They fall like $h^2 |f'''|/6 = h^2 \\cos(1)/6$ "
            "until rounding takes over: $\\sin(1 \\pm h)$ agree in more and more leading "
            "digits, and their difference keeps only the rest, an error of about "
            "$\\varepsilon|f|/h$. The best $h$ is near $(3\\varepsilon)^{1/3} \\approx "
            f"{best:.1e}$, with an error near $10^{{-11}}$.",
            source="Phase 3, Numerical methods: numerical differentiation, floating point "
            "precision (shared/seeds/002)",
        ),
        Exercise(
            prompt="Show that the forward difference (f(x + h) − f(x))/h has error ≈ h f′′/2, "
            "and find its best h and best error in float64.",
            solution="Taylor: $(f(x + h) - f(x))/h = f' + hf''/2 + O(h^2)$. With rounding "
            "$2\\varepsilon|f|/h$, the total $h|f''|/2 + 2\\varepsilon|f|/h$ is smallest at "
            "$h = 2\\sqrt{\\varepsilon|f|/|f''|} \\approx 3 \\times 10^{-8}$, with an error "
            "near $\\sqrt{\\varepsilon} \\approx 10^{-8}$: a thousand times worse than the "
            "central difference, which is why gradient checks use central differences.",
            source="Phase 3, Numerical methods: gradient checking (shared/seeds/002)",
        ),
        Exercise(
            prompt="Estimate sin′(1) by the complex step Im sin(1 + ih)/h with h = 10⁻²⁰. What "
            "does the central difference give at the same h?",
            solution=f"The complex step is off by {complex_error:.1e}, at the level of float64 "
            "itself: $\\operatorname{Im} f(x + ih) = hf'(x) - h^3f'''(x)/6 + \\dots$ "
            "involves no subtraction of nearly equal numbers, so $h$ can be as small as "
            "we like. The central difference at $h = 10^{-20}$ gives exactly 0, because "
            "$1 \\pm 10^{-20}$ rounds to 1 in float64.",
            source="Step 6, Numerical methods: precision comparison (shared/seeds/004)",
        ),
    )


# ---------------------------------------------------------------- independent routes
def sympy_series_central() -> tuple[sp.Basic, sp.Basic]:
    """SymPy's series in h of (f(x + h) − f(x − h))/(2h) − f′(x) for an arbitrary f,
    against the derived error with f⁽ᵐ⁾ read as SymPy's derivatives of f."""
    fun = sp.Function("f")
    series = sp.series((fun(x + h) - fun(x - h)) / (2 * h) - fun(x).diff(x), h, 0, 5)
    derived = build().result("central difference − f′").derived
    as_derivatives = {d: fun(x).diff(x, m) for m, d in enumerate(DERIVATIVES)}
    return series.removeO().doit(), derived.xreplace(as_derivatives)


def sympy_series_complex_step() -> tuple[sp.Basic, sp.Basic]:
    """SymPy's series in h of Im sin(a(x + ih))/h − f′ for f = sin(ax), against the derived
    complex-step error with SymPy's derivatives of sin(ax) put in."""
    a = sp.Symbol("a", real=True)
    fun = sp.sin(a * x)
    shifted = sp.im(sp.expand_complex(fun.subs(x, x + sp.I * h))) / h
    series = sp.series(shifted - sp.diff(fun, x), h, 0, 5).removeO()
    derived = build().result("complex step − f′").derived
    return sp.expand(series), derived.xreplace(
        {d: sp.diff(fun, x, m) for m, d in enumerate(DERIVATIVES)}
    )


def numeric_truncation_of_sin(seed: int):
    """Measured central-difference errors of sin at random x, h ∈ [1e-3, 1e-2], against
    −h²cos(x)/6: the h⁴ term and rounding (≲1e-13/h²·…) leave ≲1e-4 relative."""
    rng = np.random.default_rng(seed)
    points, steps = rng.uniform(0.2, 1.2, 20), np.logspace(-3, -2, 20)
    measured = central_difference(np.sin, points, steps) - np.cos(points)
    return measured, -(steps**2) * np.cos(points) / 6, 1e-3


def numeric_best_step(seed: int):
    """log₁₀ of the h that minimises the measured RMS error of central differences of exp
    over 400 random x (a grid of 141 steps), against log₁₀ h* = log₁₀(3ε)^(1/3) ≈ −5.06.
    The rounding model ε|f|/h is a bound, not the mean, so the measured optimum sits a
    little lower: within half a decade (rtol 0.1 of 5.06) is the stated tolerance."""
    rng = np.random.default_rng(seed)
    points, steps = rng.uniform(0.0, 1.0, 400), np.logspace(-9, -2, 141)
    rms = [
        np.sqrt(np.mean((central_difference(np.exp, points, s) / np.exp(points) - 1) ** 2))
        for s in steps
    ]
    predicted = sp.lambdify((eps, size, curvature), BEST_STEP)(EPS64, 1.0, 1.0)
    return np.log10(steps[int(np.argmin(rms))]), np.log10(predicted), 0.1


def numeric_complex_step(seed: int):
    """The complex step at h = 1e-20 for f = exp(x)·sin(x) against the exact derivative:
    float64 accuracy (1e-15), where the central difference at that h returns 0."""
    rng = np.random.default_rng(seed)
    points = rng.uniform(-2.0, 2.0, 10)

    def fun(z):
        return np.exp(z) * np.sin(z)

    estimate = np.imag(fun(points + 1e-20j)) / 1e-20
    return estimate, np.exp(points) * (np.sin(points) + np.cos(points)), 1e-15


def build() -> Derivation:
    truncation = (
        Chain(central - f1, DEFINITIONS)
        .apply(rules.Definition((central,)), "The central difference D = (f(x + h) − f(x − h))/2h.")
        .apply(
            rules.Definition((f_plus, f_minus)),
            "Taylor: f(x ± h) = f ± h f′ + h²f′′/2 ± h³f′′′/6 + …",
        )
        .apply(
            rules.Algebra("expand"), "Even powers cancel in the difference: h²f′′′/6 is left first."
        )
    )
    complex_error = (
        Chain(complex_step - f1, DEFINITIONS)
        .apply(rules.Definition((complex_step,)), "The complex step C = Im f(x + ih)/h.")
        .apply(
            rules.Definition((f_complex,)),
            "Taylor at x + ih: the odd powers of ih are imaginary, the even ones real.",
        )
        .apply(rules.Algebra("expand"), "Im keeps h f′ − h³f′′′/6 + …: nothing is subtracted.")
    )
    slope = (
        Chain(sp.Derivative(total, h), DEFINITIONS)
        .apply(rules.Definition((total,)), "Total error: truncation h²M/6 plus rounding εF/h.")
        .apply(rules.Linearity(), "Differentiate term by term.")
        .apply(rules.ChainRule(), "∂h² = 2h ∂h and ∂h⁻¹ = −h⁻² ∂h.")
        .apply(rules.Differentiate(), "∂h/∂h = 1.")
    )
    best = Chain(h, DEFINITIONS).apply(
        Solve(STATIONARY, h),
        "Where the slope vanishes, hM/3 = εF/h²: h³ = 3εF/M. The error falls before this h "
        "and rises after it, so it is the minimum: h* grows like the cube root of ε.",
    )
    smallest = (
        Chain(total, DEFINITIONS)
        .apply(rules.Definition((total,)), "The total error bound.")
        .apply(
            # The facts check puts h* back into the stationarity condition ∂E/∂h = 0.
            EvaluateAt(((h, BEST_STEP),), condition=STATIONARY),
            "At the best step h*: the smallest error grows like ε to the power 2/3, not like ε.",
        )
    )
    derivation = Derivation(
        slug="finite-difference-error",
        title="The error of finite differences",
        summary=(
            "How accurate a numerical derivative can be. The central difference trades "
            "truncation (h²) against rounding (ε/h); the best step is near the cube root "
            "of ε, about 1e-5, and the complex step avoids the trade-off altogether."
        ),
        conventions="f is smooth and real on the real line; f, f′, …, f⁽⁵⁾ are its value and "
        "derivatives at x. ε is the float64 machine epsilon (2.2e-16), F = |f(x)| and "
        "M = |f′′′(x)| ≠ 0. The Taylor model is exact for quintics, O(h⁶) otherwise.",
        variables=(
            ("h", "the step, h > 0"),
            ("f, f′, …, f⁽⁵⁾", "the value and derivatives of f at x"),
            ("f₊, f₋, f_c", "f(x + h), f(x − h) and f(x + ih)"),
            ("D, C", "the central difference and the complex step estimates of f′(x)"),
            ("E", "the total error bound h²M/6 + εF/h"),
            ("ε, F, M", "machine epsilon, |f(x)| and |f′′′(x)|"),
        ),
        definitions=DEFINITIONS,
        results=(
            truncation.result("central difference − f′", h**2 * f3 / 6 + h**4 * f5 / 120, (0, 0)),
            complex_error.result("complex step − f′", -(h**2) * f3 / 6 + h**4 * f5 / 120, (0, 0)),
            slope.result("∂E/∂h", h * curvature / 3 - eps * size / h**2, (0, 0)),
            best.result("best step h*", BEST_STEP, (0, 0), assumptions=(STATIONARY,)),
            smallest.result(
                "smallest error E(h*)",
                sp.Rational(3, 2)
                * (eps * size) ** sp.Rational(2, 3)
                * (curvature / 3) ** sp.Rational(1, 3),
                (0, 0),
            ),
        ),
        cases=(),
        symbolic_checks=(
            ("SymPy's series of the central difference of an arbitrary f", sympy_series_central),
            ("SymPy's series of Im sin(a(x + ih))/h", sympy_series_complex_step),
        ),
        numeric_checks=(
            ("float64 central differences of sin against −h²f′′′/6", numeric_truncation_of_sin),
            ("measured best h for exp against the cube root of 3ε, in log₁₀", numeric_best_step),
            ("complex step at h = 1e-20 against the exact derivative", numeric_complex_step),
        ),
        exercises=exercises(),
    )
    # Routes that read the derived optimum, so a wrong h* or E(h*) cannot pass, and a
    # numeric case for the slope of the error bound.
    best_step, smallest_error = (
        derivation.result("best step h*"),
        derivation.result("smallest error E(h*)"),
    )
    return dataclasses.replace(
        derivation,
        cases=(*derivation.cases, _numeric_case()),
        symbolic_checks=(
            *derivation.symbolic_checks,
            *_optimum_checks(best_step, smallest_error),
        ),
    )


def _optimum_checks(best_step, smallest_error):
    bound = DEFINITIONS[total]

    def stationary():
        """SymPy's diff of E vanishes at the derived h*."""
        return sp.diff(bound, h).subs(h, best_step.derived), sp.Integer(0)

    def minimum():
        """SymPy's second derivative of E at the derived h* is M > 0: a minimum."""
        return sp.diff(bound, h, 2).subs(h, best_step.derived), curvature

    def value():
        """E at the derived h*, by SymPy, against the derived smallest error."""
        return bound.subs(h, best_step.derived), smallest_error.derived

    return (
        ("SymPy's diff of E vanishes at the derived h*", stationary),
        ("SymPy's E″ at the derived h* is M > 0", minimum),
        ("E at the derived h* against the derived E(h*)", value),
    )


def _numeric_case() -> Case:
    """The error bound E(h) against its slope ∂E/∂h at random h: SymPy's diff, finite
    differences, complex step. Moderate constants (ε = 1/100, F = 2, M = 3) keep h near 1,
    where a finite difference of E itself is accurate; a scalar case, without sizes."""
    step = sp.MatrixSymbol("h", 1, 1)
    constants = {eps: sp.Rational(1, 100), size: sp.Integer(2), curvature: sp.Integer(3)}
    at_input = {h: step[0, 0], **constants}
    slope = h * curvature / 3 - eps * size / h**2
    return Case(
        name="E(h) at random h",
        forward=sp.ImmutableMatrix([[DEFINITIONS[total].xreplace(at_input)]]),
        wrt=(step,),
        gradients=(sp.ImmutableMatrix([[slope.xreplace(at_input)]]),),
        samplers={step: lambda rng, shape: rng.uniform(0.2, 2.0, shape)},
        sizes=({},),
        numeric_size={},
    )
