"""Convolution theorem: DFT(x ⊛ y) = DFT(x)·DFT(y) (⊛ circular); a conv layer is a Toeplitz product.

The DFT turns circular convolution into entrywise multiplication, which is why a long
convolution costs O(N log N) by FFT instead of O(N²). Derived at general N in real
arithmetic: with X_q = Cₓ − i·Sₓ (cosine and sine sums), the real and imaginary parts of
DFT(x ⊛ y)_q are those of X_qY_q. The step that matters is a reindexing: as n runs over
0..N−1, so does l = (n − m) mod N. Separately, the "convolution" of a neural network layer
(a sliding dot product) is a product with a banded Toeplitz matrix.

No numeric case: the results are identities of finite sums (the DFT of a cyclic
convolution, a Toeplitz product), not derivatives. SymPy's evaluation of the definitions
at N = 2, 3, 5 reads them, and numpy.fft and numpy.correlate check them at N = 64.
"""

from __future__ import annotations

import numpy as np
import sympy as sp
from sympy.discrete.convolutions import convolution as sympy_convolution
from sympy.discrete.transforms import fft as sympy_fft

from workbench.core import rules
from workbench.core.algebra import canonical, instantiate
from workbench.core.derivation import Chain, Derivation, Exercise
from workbench.core.rules_extra import AngleAddition, DropPeriod, FlattenSums, ReindexModulo

N = sp.Symbol("N", integer=True, positive=True)  # signal length (circular)
q = sp.Symbol("q", integer=True)  # the frequency (k in many texts; k here is a bound index)
n, m, r, c_ = sp.symbols("n m r c", integer=True)
x = sp.MatrixSymbol("x", N, 1)
y = sp.MatrixSymbol("y", N, 1)
conv = sp.MatrixSymbol("c", N, 1)  # c = x ⊛ y
angle = 2 * sp.pi * q / N  # the q-th frequency, per sample

Cx, Sx, Cy, Sy = sp.symbols("C_x S_x C_y S_y")

# Toeplitz: M outputs of a kernel w of length K slid over an input of length M + K − 1.
M = sp.Symbol("M", integer=True, positive=True)
K = sp.Symbol("K", integer=True, positive=True)
i, j = sp.symbols("i j", integer=True)
signal = sp.MatrixSymbol("u", M + K - 1, 1)
kernel = sp.MatrixSymbol("w", K, 1)
T = sp.MatrixSymbol("T", M, M + K - 1)

DEFINITIONS = {
    conv: sp.FunctionMatrix(
        N, 1, sp.Lambda((r, c_), sp.Sum(x[m, 0] * y[sp.Mod(r - m, N), 0], (m, 0, N - 1)))
    ),
    Cx: sp.Sum(x[n, 0] * sp.cos(angle * n), (n, 0, N - 1)),
    Sx: sp.Sum(x[n, 0] * sp.sin(angle * n), (n, 0, N - 1)),
    Cy: sp.Sum(y[n, 0] * sp.cos(angle * n), (n, 0, N - 1)),
    Sy: sp.Sum(y[n, 0] * sp.sin(angle * n), (n, 0, N - 1)),
    # Row i of T holds the kernel, shifted right by i: T[i, m] = w[m − i] (0 ≤ m − i < K).
    T: sp.FunctionMatrix(
        M,
        M + K - 1,
        sp.Lambda((r, c_), sp.Sum(kernel[j, 0] * sp.KroneckerDelta(c_, r + j), (j, 0, K - 1))),
    ),
}
TRIG_SUMS = {canonical(DEFINITIONS[s]): s for s in (Cx, Sx, Cy, Sy)}
# DFT(x)_q = Σₙ xₙ exp(−2πi·q·n/N) = Cₓ − i·Sₓ; so Re(X_q·Y_q) and Im(X_q·Y_q) are:
REAL_PART = Cx * Cy - Sx * Sy
IMAGINARY_PART = -(Cx * Sy + Sx * Cy)
SLIDING = sp.Sum(kernel[j, 0] * signal[i + j, 0], (j, 0, K - 1))

SEED_X, SEED_Y = np.array([1.0, 2.0, 3.0, 4.0]), np.array([1.0, 0.0, 0.0, 1.0])


def circular_convolution(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """(x ⊛ y)ₙ = Σₘ xₘ y₍ₙ₋ₘ₎ mod N, summed directly: O(N²)."""
    size = len(first)
    return np.array(
        [sum(first[a] * second[(b - a) % size] for a in range(size)) for b in range(size)]
    )


def toeplitz_matrix(weights: np.ndarray, outputs: int) -> np.ndarray:
    """The M × (M + K − 1) matrix with the kernel on its band: T[i, i + j] = w[j]."""
    matrix = np.zeros((outputs, outputs + len(weights) - 1))
    for row in range(outputs):
        matrix[row, row : row + len(weights)] = weights
    return matrix


def exercises() -> tuple[Exercise, ...]:
    circular = circular_convolution(SEED_X, SEED_Y)
    spectrum = np.fft.fft(SEED_X) * np.fft.fft(SEED_Y)
    back = np.fft.ifft(spectrum).real
    signal_values, weights = np.array([1.0, 2.0, 4.0, 7.0, 11.0]), np.array([1.0, 0.0, -1.0])
    sliding = np.correlate(signal_values, weights, mode="valid")
    matrix = toeplitz_matrix(weights, len(sliding))

    def vec(v):
        return "(" + ", ".join(f"{a:.0f}" for a in v) + ")"

    def cvec(v):
        return "(" + ", ".join(f"{a.real:.0f}{a.imag:+.0f}i" for a in v) + ")"

    return (
        Exercise(
            prompt="Compute the circular convolution of x = (1, 2, 3, 4) and y = (1, 0, 0, 1) "
            "directly, then as ifft(fft(x)·fft(y)) with NumPy.",
            solution=f"Directly, $(x \\circledast y)_n = x_n + x_{{(n-3) \\bmod 4}}$ gives "
            f"${vec(circular)}$. The spectra multiply to ${cvec(spectrum)}$, and the inverse "
            f"FFT of that is ${vec(back)}$ again (up to rounding of order $10^{{-16}}$).",
            source="Phase 5, Fourier analysis: DFT, FFT, convolutions (shared/seeds/002)",
        ),
        Exercise(
            prompt="A 1-D convolution layer (as deep-learning libraries define it, without "
            "flipping) slides w = (1, 0, −1) over u = (1, 2, 4, 7, 11). Write the output as a "
            "product Tu with a Toeplitz matrix T and compute it.",
            solution="$o_i = \\sum_j w_j u_{i+j}$; row $i$ of $T$ holds $w$ starting in "
            f"column $i$. $T$ has rows {'; '.join(vec(row) for row in matrix)}, and $Tu = "
            f"{vec(sliding)}$: the kernel takes differences two apart. The gradient of a "
            "loss with respect to $u$ is then $T^{\\top}g$, a convolution with the flipped "
            "kernel.",
            source="Phase 5, Fourier analysis: convolutions (1D, 2D) (shared/seeds/002)",
        ),
        Exercise(
            prompt="How many multiplications does a direct circular convolution of length "
            "N = 4096 take, and how many does the FFT route take (three FFTs of N log₂ N/2 "
            "complex multiplications each, plus N)?",
            solution=f"Directly $N^2 = {4096**2:,}$; by FFT about $3 \\cdot 4096 \\cdot 12/2 "
            f"+ 4096 = {3 * 4096 * 12 // 2 + 4096:,}$, over 200 times fewer. This is why "
            "long convolutions (and some attention variants) are computed in the frequency "
            "domain.",
            source="Phase 5, Fourier analysis: DFT, FFT (shared/seeds/002)",
        ),
    )


def is_trig_sum(e: sp.Basic) -> bool:
    return isinstance(e, sp.Sum) and canonical(e) in TRIG_SUMS


# ---------------------------------------------------------------- independent routes
def _explicit_signals(size: int):
    return (
        [x.subs(N, size)[a, 0] for a in range(size)],
        [y.subs(N, size)[a, 0] for a in range(size)],
    )


def sympy_cyclic_convolution():
    """SymPy's own cyclic convolution (sympy.discrete) at N = 4 against the definition of c."""
    xs, ys = _explicit_signals(4)
    ours = sp.Matrix(4, 1, lambda a, _: DEFINITIONS[conv][a, 0].subs(N, 4).doit())
    ours = ours.applyfunc(lambda e: e.xreplace({x: x.subs(N, 4), y: y.subs(N, 4)}))
    return sp.Matrix(sympy_convolution(xs, ys, cycle=4)), ours


def sympy_fft_of_convolution():
    """SymPy's exact FFT at N = 4 (roots of unity ±1, ±i): fft(x ⊛ y) = fft(x)·fft(y)."""
    xs, ys = _explicit_signals(4)
    left = sympy_fft(sympy_convolution(xs, ys, cycle=4))
    right = [a * b for a, b in zip(sympy_fft(xs), sympy_fft(ys), strict=True)]
    return sp.Matrix([sp.expand(v) for v in left]), sp.Matrix([sp.expand(v) for v in right])


def sympy_toeplitz_product():
    """T·u with SymPy's explicit matrices at M = 3, K = 2 against the sliding sums."""
    sizes = {M: 3, K: 2}
    taps = kernel.subs(sizes)
    # T[a, b] = Σⱼ wⱼ δ(b, a + j), summed term by term (deltasummation would index w out
    # of range off the band).
    explicit_t = sp.Matrix(
        3, 4, lambda a, b: sum(taps[t, 0] * sp.KroneckerDelta(b, a + t) for t in range(2))
    )
    product = explicit_t * signal.subs(sizes).as_explicit()
    sliding = sp.Matrix(3, 1, lambda a, _: instantiate(SLIDING, {**sizes, i: a}))
    return product, sliding


def _stack(values: np.ndarray) -> np.ndarray:
    """Real and imaginary parts side by side (the numeric checks compare real arrays)."""
    return np.concatenate([values.real, values.imag])


def numeric_fft_of_convolution(seed: int):
    """numpy.fft.fft of the direct circular convolution against fft(x)·fft(y), N = 64.
    Both are sums of 64 terms of size ~1 in float64: ~1e-13 relative to the largest entry."""
    rng = np.random.default_rng(seed)
    first, second = rng.standard_normal(64), rng.standard_normal(64)
    direct = np.fft.fft(circular_convolution(first, second))
    return _stack(direct), _stack(np.fft.fft(first) * np.fft.fft(second)), 1e-11


def numeric_convolution_by_fft(seed: int):
    """ifft(fft(x)·fft(y)) against the direct O(N²) sum, N = 64."""
    rng = np.random.default_rng(seed)
    first, second = rng.standard_normal(64), rng.standard_normal(64)
    by_fft = np.fft.ifft(np.fft.fft(first) * np.fft.fft(second)).real
    return by_fft, circular_convolution(first, second), 1e-11


def numeric_toeplitz(seed: int):
    """T·u with the banded matrix against numpy.correlate(u, w, 'valid')."""
    rng = np.random.default_rng(seed)
    weights, values = rng.standard_normal(5), rng.standard_normal(20)
    product = toeplitz_matrix(weights, 16) @ values
    return product, np.correlate(values, weights, mode="valid"), 1e-12


def _dft_part(start: sp.Basic, last_note: str) -> Chain:
    return (
        Chain(start, DEFINITIONS)
        .apply(
            rules.Definition((conv,)), "Write out cₖ = Σₗ xₗ y₍ₖ₋ₗ₎, the index k − l taken mod N."
        )
        .apply(FlattenSums(), "The trigonometric factor moves inside the inner sum.")
        .apply(
            rules.SwapSums(), "Swap the order: the output index inside, the input index outside."
        )
        .apply(
            rules.SplitSums(),
            "The input value does not depend on the output index: it leaves the inner sum.",
        )
        .apply(
            ReindexModulo(N),
            "Sum over the lag instead, (output − input) mod N: as the output index runs over "
            "0..N−1 so does the lag, once each; the output index is (input + lag) mod N.",
        )
        .apply(DropPeriod(N), "cos and sin have period 2π and q is an integer: drop the mod N.")
        .apply(AngleAddition(), "The angle of input + lag splits into the angle of each.")
        .apply(
            rules.SplitSums(),
            "Each term is a product of a sum over the input and a sum over the lag.",
        )
        .apply(
            rules.Fold(is_trig_sum, lambda e: TRIG_SUMS[canonical(e)], free_only=False), last_note
        )
    )


def build() -> Derivation:
    real = _dft_part(
        sp.Sum(conv[n, 0] * sp.cos(angle * n), (n, 0, N - 1)),
        "The cosine and sine sums of x and y: CₓC_y − SₓS_y = Re(X_q·Y_q).",
    )
    imaginary = _dft_part(
        -sp.Sum(conv[n, 0] * sp.sin(angle * n), (n, 0, N - 1)),
        "−(CₓS_y + SₓC_y) = Im(X_q·Y_q), since X_q = Cₓ − i·Sₓ and Y_q = C_y − i·S_y.",
    )
    toeplitz = (
        Chain(canonical((T * signal)[i, 0]), DEFINITIONS)
        .apply(rules.Definition((T,)), "Row i of T is the kernel shifted right by i places.")
        .apply(FlattenSums(), "One double sum, over the columns and over the kernel taps.")
        .apply(rules.SwapSums(), "Sum over the columns first, for each tap.")
        .apply(
            rules.CollapseDeltas(),
            "For each tap the delta keeps one column: i plus the tap. A sliding dot product.",
        )
    )
    return Derivation(
        slug="convolution-theorem",
        title="The convolution theorem",
        summary=(
            "The discrete Fourier transform turns circular convolution into entrywise "
            "multiplication, which makes long convolutions fast; and a convolution layer is "
            "multiplication by a banded Toeplitz matrix."
        ),
        conventions="Indices run from 0; (x ⊛ y)ₙ = Σₘ xₘ y₍ₙ₋ₘ₎, the index n − m taken "
        "mod N. DFT(x)_q = Σₙ xₙ exp(−2πi·q·n/N) = Cₓ − i·Sₓ with Cₓ = Σₙ xₙ cos(2π·q·n/N), "
        "Sₓ = Σₙ xₙ sin(2π·q·n/N) (NumPy's sign). A convolution layer computes "
        "oᵢ = Σⱼ wⱼ uᵢ₊ⱼ (no flip).",
        variables=(
            ("x, y", "N×1 signals; c = x ⊛ y their circular convolution"),
            ("q", "a frequency, an integer (often called k)"),
            ("Cₓ, Sₓ, C_y, S_y", "cosine and sine sums: DFT(x)_q = Cₓ − i·Sₓ, likewise y"),
            ("u, w", "an input of length M + K − 1 and a kernel of length K"),
            ("T", "M×(M + K − 1) Toeplitz matrix, T[i, i + j] = wⱼ"),
        ),
        definitions=DEFINITIONS,
        results=(
            real.result("Re DFT(x ⊛ y) at frequency q", REAL_PART, (0, 0)),
            imaginary.result("Im DFT(x ⊛ y) at frequency q", IMAGINARY_PART, (0, 0)),
            toeplitz.result("(T u)ᵢ", SLIDING, (i, 0)),
        ),
        cases=(),
        symbolic_checks=(
            ("SymPy's cyclic convolution, N = 4", sympy_cyclic_convolution),
            ("SymPy's exact fft, N = 4: fft(x ⊛ y) = fft(x)·fft(y)", sympy_fft_of_convolution),
            ("SymPy's explicit T·u, M = 3, K = 2", sympy_toeplitz_product),
        ),
        numeric_checks=(
            ("numpy.fft: fft(x ⊛ y) against fft(x)·fft(y), N = 64", numeric_fft_of_convolution),
            ("numpy.fft: ifft(fft(x)·fft(y)) against the direct sum", numeric_convolution_by_fft),
            ("banded Toeplitz product against numpy.correlate", numeric_toeplitz),
        ),
        exercises=exercises(),
    )
