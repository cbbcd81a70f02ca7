"""Matrix calculus identities: ∇aᵀx = a, ∇xᵀ A x = (A + Aᵀ)x, ∇tr(AXB) = AᵀBᵀ, ∇log det X = (X⁻¹)ᵀ.

The four gradients every derivation in machine learning leans on, each derived entry by
entry in index notation at general sizes; the log-determinant by Laplace expansion along
a row, whose cofactors do not involve that row. A fifth identity, the derivative of the
inverse ∂(X⁻¹)/∂t = −X⁻¹(∂X/∂t)X⁻¹, is checked by SymPy's own derivative at concrete
sizes, by finite differences and by the complex step.
"""

from __future__ import annotations

import numpy as np
import sympy as sp
from sympy.matrices.expressions.matexpr import MatrixExpr

from workbench.codegen import numeric
from workbench.core import rules
from workbench.core.algebra import canonical
from workbench.core.derivation import Case, Chain, Derivation, Exercise
from workbench.core.facts import Identity

n = sp.Symbol("n", integer=True, positive=True)
m = sp.Symbol("m", integer=True, positive=True)
d = sp.Symbol("d", integer=True, positive=True)
j, p, q = sp.symbols("j p q", integer=True)  # free indices
k, l, r = sp.symbols("k l r", integer=True)  # summation indices

x = sp.MatrixSymbol("x", n, 1)
a = sp.MatrixSymbol("a", n, 1)
A = sp.MatrixSymbol("A", n, n)
# tr(AXB): A is d×n, X is n×m, B is m×d, so AXB is square (d×d).
At = sp.MatrixSymbol("A", d, n)
X = sp.MatrixSymbol("X", n, m)
B = sp.MatrixSymbol("B", m, d)
# log det: a square S with cofactor matrix C; its inverse is sp.Inverse(S) itself.
S = sp.MatrixSymbol("X", n, n)
C = sp.MatrixSymbol("C", n, n)
# The derivative of the inverse, through tr(UᵀX⁻¹V) with U and V of size n×m.
U = sp.MatrixSymbol("U", n, m)
V = sp.MatrixSymbol("V", n, m)

f, g, h, L, D = sp.symbols("f g h L D")
DEFINITIONS = {
    f: sp.Sum(a[k, 0] * x[k, 0], (k, 0, n - 1)),
    g: sp.Sum(x[k, 0] * A[k, l] * x[l, 0], (k, 0, n - 1), (l, 0, n - 1)),
    h: sp.Sum(At[r, k] * X[k, l] * B[l, r], (k, 0, n - 1), (l, 0, m - 1), (r, 0, d - 1)),
    L: sp.log(D),
    # Laplace expansion of det X along row p. The cofactor C[p, k] is ± the determinant of
    # X without row p and column k, so it does not contain any entry of row p.
    D: sp.Sum(S[p, k] * C[p, k], (k, 0, n - 1)),
}


def cofactor_model(sizes, rng) -> dict:
    """What X, C and D mean at ``sizes``: a random exact X, its cofactors by their
    definition (signed minors) and its determinant. X⁻¹ is SymPy's inverse of that X."""
    size = int(sizes[n])
    while True:
        explicit = sp.Matrix(
            size, size, lambda *_: sp.Rational(rng.randint(-9, 9), rng.randint(1, 4))
        )
        if explicit.det() != 0:
            break
    return {
        S: explicit,
        C: sp.Matrix(size, size, lambda i, c: explicit.cofactor(i, c)),
        D: explicit.det(),
    }


# The adjugate formula for the inverse, X⁻¹ = adj(X)/det X with adj(X) = Cᵀ; checked by
# the facts check at n = 2, …, 5 for every p, q, not assumed.
ADJUGATE = Identity(
    C[p, q],
    D * sp.Inverse(S)[q, p],
    "the adjugate formula X⁻¹ = Cᵀ/det X",
    model=cofactor_model,
    sizes=({n: 2}, {n: 3}, {n: 4}, {n: 5}),
)


class TraceOf(MatrixExpr):
    """tr(M) of a square matrix expression, as a 1×1 matrix."""

    arg = property(lambda self: self.args[0])
    shape = property(lambda self: (sp.Integer(1), sp.Integer(1)))

    def _entry(self, i, j, **kwargs):
        index = sp.Dummy("k", integer=True)
        return sp.Sum(self.arg[index, index], (index, 0, self.arg.shape[0] - 1))

    def _numpycode(self, printer):
        return f"numpy.trace({printer._print(self.arg)}).reshape(1, 1)"

    def _latex(self, printer):
        return rf"\operatorname{{tr}}\left({printer._print(self.arg)}\right)"

    def _sympystr(self, printer):
        return f"trace({printer._print(self.arg)})"


class LogDet(MatrixExpr):
    """log det M of a square matrix (positive determinant), as a 1×1 matrix."""

    arg = property(lambda self: self.args[0])
    shape = property(lambda self: (sp.Integer(1), sp.Integer(1)))

    def _entry(self, i, j, **kwargs):
        return sp.log(self.arg.as_explicit().det())  # concrete sizes only

    def _numpycode(self, printer):
        return f"numpy.log(numpy.linalg.det({printer._print(self.arg)})).reshape(1, 1)"

    def _latex(self, printer):
        return rf"\log\det\left({printer._print(self.arg)}\right)"

    def _sympystr(self, printer):
        return f"logdet({printer._print(self.arg)})"


class Cofactors(MatrixExpr):
    """The cofactor matrix of a square matrix (concrete sizes only): the matrix the
    Laplace expansion's C stands for, so that SymPy can differentiate det X itself."""

    arg = property(lambda self: self.args[0])
    shape = property(lambda self: self.arg.shape)

    def _entry(self, i, j, **kwargs):
        return self.arg.as_explicit().cofactor(i, j)

    def as_explicit(self):
        return sp.ImmutableMatrix(self.arg.as_explicit().cofactor_matrix())


def is_laplace_sum(e: sp.Basic) -> bool:
    """Σₖ X_pk C_pk, up to the name of k: the determinant, expanded along row p."""
    return isinstance(e, sp.Sum) and canonical(e) == canonical(DEFINITIONS[D])


def near_identity(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    """Sampler: I + a small random matrix: well conditioned, determinant near 1 > 0."""
    return np.eye(shape[0]) + 0.3 * rng.standard_normal(shape) / np.sqrt(shape[0])


def _vec(values: np.ndarray) -> str:
    return "(" + ", ".join(f"{v:.0f}" for v in values) + ")"


def exercises() -> tuple[Exercise, ...]:
    a_vec, x_vec = np.array([1.0, 2.0, 3.0]), np.array([4.0, 5.0, 6.0])
    mat = np.array([[2.0, 1.0], [0.0, 3.0]])
    point = np.array([1.0, -1.0])
    return (
        Exercise(
            prompt="For a = (1, 2, 3) and x = (4, 5, 6) compute aᵀx by hand and in NumPy. "
            "What is its gradient with respect to x, and why?",
            solution=f"$a^{{\\top}}x = 4 + 10 + 18 = {a_vec @ x_vec:.0f}$. Since $a^{{\\top}}x = "
            "\\sum_k a_k x_k$, the partial derivative in $x_j$ keeps only the $k = j$ term: "
            "$\\partial(a^{\\top}x)/\\partial x = a = (1, 2, 3)$, whatever $x$ is.",
            source="Stage 01, Math Foundations: exercise 'Dot product by hand' (shared/seeds/001)",
        ),
        Exercise(
            prompt="For A = [[2, 1], [0, 3]] and x = (1, −1), compute xᵀ A x and its gradient. "
            "Why is the gradient not simply 2A x?",
            solution=f"$x^{{\\top}}Ax = {point @ mat @ point:.0f}$ and $(A + A^{{\\top}})x = "
            f"{_vec((mat + mat.T) @ point)}$. $x$ appears twice, "
            "once on each side of $A$, so both $Ax$ and $A^{\\top}x$ appear; only for a "
            f"symmetric $A$ is it $2Ax$ (here $2Ax = {_vec(2 * mat @ point)}$, "
            "which is wrong).",
            source="Phase 3, Vector calculus: gradients, Jacobians (shared/seeds/003)",
        ),
        Exercise(
            prompt="Differentiate X X⁻¹ = I with respect to a scalar t to find ∂(X⁻¹)/∂t. "
            "Then use it to find the derivative of log det(X + tE) at t = 0.",
            solution="The product rule gives $\\dot{X}X^{-1} + X\\,\\partial_t(X^{-1}) = 0$, "
            "so $\\partial_t(X^{-1}) = -X^{-1}\\dot{X}X^{-1}$. By the chain rule and the "
            "log-determinant gradient, $\\frac{d}{dt}\\log\\det(X + tE)|_{t=0} = "
            "\\sum_{pq} (X^{-\\top})_{pq}E_{pq} = \\operatorname{tr}(X^{-1}E)$. (SymPy's "
            "matrix calculus returns 0 for $\\partial \\log\\det X/\\partial X$ at symbolic "
            "size, a known wrong answer: the concrete-size checks are why it is caught.)",
            source="Phase 1, Linear algebra: matrix inverse, determinant, trace (shared/seeds/002)",
        ),
    )


# ---------------------------------------------------------------- independent routes
def _at(expr, sizes):
    return expr.subs(sizes).as_explicit()


def sympy_matrix_diff_linear():
    """SymPy's matrix calculus at symbolic size, (aᵀx).diff(x), compared at n = 3."""
    return _at((a.T * x).diff(x), {n: 3}), _at(a, {n: 3})


def sympy_matrix_diff_quadratic():
    return _at((x.T * A * x).diff(x), {n: 3}), _at((A + A.T) * x, {n: 3})


def sympy_matrix_diff_trace():
    sizes = {n: 3, m: 2, d: 2}
    return _at(sp.Trace(At * X * B).diff(X), sizes), _at(At.T * B.T, sizes)


def _explicit_square(size: int) -> sp.Matrix:
    return sp.Matrix(size, size, lambda i, c: sp.Symbol(f"X{i}{c}"))


def sympy_laplace_expansion():
    """The facts the log-det derivation uses, by SymPy at n = 3 for row p = 1:
    det X = Σₖ X[p,k]·C[p,k] with C the cofactor matrix, and row p of C free of row p."""
    explicit = _explicit_square(3)
    cofactors = explicit.adjugate().T
    expansion = sum(explicit[1, c] * cofactors[1, c] for c in range(3))
    row = set(explicit.row(1))
    free = sp.Integer(int(not any(cofactors[1, c].has(*row) for c in range(3))))
    return sp.Matrix([explicit.det(), 1]), sp.Matrix([expansion, free])


def sympy_adjugate_formula():
    """C = det(X)·X⁻ᵀ at n = 3: the adjugate formula used in the last step."""
    explicit = _explicit_square(3)
    return explicit.adjugate().T, explicit.det() * explicit.inv().T


def numeric_logdet_slogdet(seed: int):
    """Directional derivative of log|det| by numpy.linalg.slogdet, central differences in
    float64 at h = 1e-6 (error ~1e-10), against tr(X⁻¹E) = Σ (X⁻ᵀ ∘ E)."""
    rng = np.random.default_rng(seed)
    mat, direction = near_identity(rng, (5, 5)), rng.standard_normal((5, 5))
    step = 1e-6
    plus = np.linalg.slogdet(mat + step * direction)[1]
    minus = np.linalg.slogdet(mat - step * direction)[1]
    return (plus - minus) / (2 * step), np.sum(np.linalg.inv(mat).T * direction), 1e-7


def build() -> Derivation:
    linear = (
        Chain(sp.Derivative(f, x[j, 0]), DEFINITIONS)
        .apply(rules.Definition((f,)), "aᵀx = Σₖ aₖxₖ.")
        .apply(rules.Linearity(), "a is a constant: the derivative moves inside the sum.")
        .apply(rules.Differentiate(), "∂xₖ/∂xⱼ = δₖⱼ.")
        .apply(rules.CollapseDeltas(), "The delta keeps k = j.")
    )
    quadratic = (
        Chain(sp.Derivative(g, x[j, 0]), DEFINITIONS)
        .apply(rules.Definition((g,)), "xᵀ A x = Σₖ Σₗ xₖ Aₖₗ xₗ.")
        .apply(rules.Linearity(), "A is a constant: the derivative moves inside both sums.")
        .apply(rules.ProductRule(), "x appears twice: the product rule gives two terms.")
        .apply(rules.Differentiate(), "∂xₖ/∂xⱼ = δₖⱼ and ∂xₗ/∂xⱼ = δₗⱼ.")
        .apply(
            rules.CollapseDeltas(),
            "One delta keeps k = j, the other l = j: (A x)ⱼ and (Aᵀx)ⱼ.",
        )
    )
    trace = (
        Chain(sp.Derivative(h, X[p, q]), DEFINITIONS)
        .apply(rules.Definition((h,)), "tr(AXB) = Σᵣ (AXB)ᵣᵣ = Σᵣ Σₖ Σₗ Aᵣₖ Xₖₗ Bₗᵣ.")
        .apply(rules.Linearity(), "A and B are constants.")
        .apply(rules.Differentiate(), "∂Xₖₗ/∂X_pq = δ_kp δ_lq.")
        .apply(rules.CollapseDeltas(), "The deltas keep k = p and l = q: Σᵣ Aᵣₚ B_qr = (AᵀBᵀ)_pq.")
    )
    log_det = (
        Chain(sp.Derivative(L, S[p, q]), DEFINITIONS)
        .apply(rules.Definition((L,)), "L = log D with D = det X.")
        .apply(rules.ChainRule(), "∂ log D = (1/D) ∂D.")
        .apply(
            rules.Definition((D,)),
            "Expand det X along row p (Laplace): D = Σₖ X_pk C_pk, cofactors C.",
        )
        .apply(
            rules.Linearity(),
            "The cofactors C_pk of row p leave out row p: constant in X_pq.",
        )
        .apply(rules.Differentiate(), "∂X_pk/∂X_pq = δ_kq.")
        .apply(rules.CollapseDeltas(), "The delta keeps k = q: ∂D/∂X_pq = C_pq.")
        .apply(
            rules.Fold(is_laplace_sum, lambda e: D, free_only=False),
            "The sum in the denominator is det X again.",
        )
        .apply(
            rules.Substitute(ADJUGATE),
            "The adjugate formula X⁻¹ = Cᵀ/det X: C_pq = D·(X⁻¹)_qp, the (p, q) entry of X⁻ᵀ.",
        )
    )
    results = (
        linear.result("∂(aᵀx)/∂xⱼ", a, (j, 0), x),
        quadratic.result("∂(xᵀ A x)/∂xⱼ", (A + A.T) * x, (j, 0), x),
        trace.result("∂tr(AXB)/∂X_pq", At.T * B.T, (p, q), X),
        log_det.result(
            "∂log det X/∂X_pq", sp.Transpose(sp.Inverse(S)), (p, q), S, assumptions=(ADJUGATE,)
        ),
    )
    sizes = ({n: 2}, {n: 3}, {n: 4})
    cases = (
        Case(
            name="aᵀx",
            forward=a.T * x,
            wrt=(x,),
            gradients=(a,),
            samplers={x: numeric.logits(), a: numeric.logits()},
            sizes=sizes,
            numeric_size={n: 6},
            results={x: results[0].label},
        ),
        Case(
            name="xᵀ A x",
            forward=x.T * A * x,
            wrt=(x, A),
            gradients=((A + A.T) * x, x * x.T),
            samplers={x: numeric.logits(), A: numeric.weights()},
            sizes=sizes,
            numeric_size={n: 5},
            results={x: results[1].label},
        ),
        Case(
            name="tr(AXB)",
            forward=TraceOf(At * X * B),
            wrt=(X,),
            gradients=(At.T * B.T,),
            samplers={At: numeric.weights(), X: numeric.weights(), B: numeric.weights()},
            sizes=({n: 2, m: 2, d: 2}, {n: 3, m: 2, d: 2}, {n: 2, m: 3, d: 1}),
            numeric_size={n: 4, m: 3, d: 2},
            results={X: results[2].label},
        ),
        Case(
            name="log det(X)",
            forward=LogDet(S),
            wrt=(S,),
            gradients=(sp.Inverse(S).T,),
            samplers={S: near_identity},
            # What the derivation's name C stands for: the cofactors of X.
            substitutions={C: Cofactors(S)},
            sizes=({n: 1}, {n: 2}, {n: 3}),
            numeric_size={n: 4},
        ),
        Case(
            # ∂(X⁻¹)/∂t = −X⁻¹ẊX⁻¹ in gradient form: d/dt tr(UᵀX⁻¹V) = tr(UᵀẎV) with
            # Ẏ = −X⁻¹ẊX⁻¹ is Σ_pq Ẋ_pq (−X⁻ᵀUVᵀX⁻ᵀ)_pq for every direction Ẋ.
            name="tr(UᵀX⁻¹V), the derivative of the inverse",
            forward=TraceOf(U.T * sp.Inverse(S) * V),
            wrt=(S,),
            gradients=(-sp.Inverse(S).T * U * V.T * sp.Inverse(S).T,),
            samplers={S: near_identity, U: numeric.logits(), V: numeric.logits()},
            sizes=({n: 1, m: 1}, {n: 2, m: 1}, {n: 2, m: 2}),
            numeric_size={n: 4, m: 3},
            names=(("Xinv", sp.Inverse(S)),),
        ),
    )
    return Derivation(
        slug="matrix-calculus-identities",
        title="Matrix calculus identities",
        summary=(
            "The gradients of the linear form, the quadratic form, the trace of a product "
            "and the log-determinant, and the derivative of the inverse: the vocabulary "
            "of least squares, Gaussians and backpropagation, derived entry by entry."
        ),
        conventions="Gradients of scalars, denominator layout: ∂f/∂X has the shape of X, "
        "(∂f/∂X)_pq = ∂f/∂X_pq. Vectors are columns; indices run from 0.",
        variables=(
            ("x, a", "n×1 vectors"),
            ("A", "n×n in the quadratic form; d×n in tr(AXB)"),
            ("X", "n×m in tr(AXB); n×n (invertible, det X > 0) for log det and the inverse"),
            ("B", "m×d"),
            ("C", "n×n cofactors of X: C_pk = (−1)ᵖ⁺ᵏ det(X without row p, column k)"),
            ("D, X⁻¹", "det X and the inverse, X⁻¹ = Cᵀ/det X"),
            ("U, V", "n×m, for the derivative of the inverse through tr(UᵀX⁻¹V)"),
        ),
        definitions=DEFINITIONS,
        results=results,
        cases=cases,
        symbolic_checks=(
            ("SymPy's matrix diff (symbolic n), at n = 3: ∂(aᵀx)/∂x", sympy_matrix_diff_linear),
            ("SymPy's matrix diff (symbolic n), at n = 3: ∂(xᵀAx)/∂x", sympy_matrix_diff_quadratic),
            ("SymPy's matrix diff (symbolic sizes): ∂tr(AXB)/∂X", sympy_matrix_diff_trace),
            (
                "SymPy, n = 3: Laplace expansion along a row, cofactors free of it",
                sympy_laplace_expansion,
            ),
            ("SymPy, n = 3: adjugate formula C = det(X)·X⁻ᵀ", sympy_adjugate_formula),
        ),
        numeric_checks=(("log|det| by slogdet, directional difference", numeric_logdet_slogdet),),
        exercises=exercises(),
    )
