"""Attention gradient: ∂L/∂V = PᵀG, ∂L/∂S = P ⊙ (∂L/∂P − rowsum(∂L/∂P ⊙ P)), ∂L/∂Q = (∂L/∂S)K/√d.

Scaled dot-product attention S = QKᵀ/√d, P = softmax over each row of S, O = PV, with
an upstream gradient G = ∂L/∂O (so L = Σ G ⊙ O). Derived at general sizes with a 0/1
mask M inside the softmax, so one derivation covers plain attention (M all ones) and
causal attention (M lower triangular): the masked softmax has the same Jacobian form.
"""

from __future__ import annotations

import sympy as sp
from sympy.matrices.expressions.matexpr import MatrixElement

from workbench.codegen import numeric
from workbench.core import rules
from workbench.core.algebra import canonical, expand_names
from workbench.core.derivation import Case, Chain, Derivation, Exercise, Result
from workbench.core.functions import MaskedSoftmax, Softmax
from workbench.core.pieces import kept, rewritten
from workbench.core.rules_stats import CombineSums

T = sp.Symbol("T", integer=True, positive=True)  # sequence length
d = sp.Symbol("d", integer=True, positive=True)  # query/key width
e = sp.Symbol("e", integer=True, positive=True)  # value width
p, q = sp.symbols("p q", integer=True)
a, b = sp.symbols("a b", integer=True)

Q, K = sp.MatrixSymbol("Q", T, d), sp.MatrixSymbol("K", T, d)
V, G = sp.MatrixSymbol("V", T, e), sp.MatrixSymbol("G", T, e)
M = sp.MatrixSymbol("M", T, T)  # 0/1 mask; all ones for plain attention
S, P, O = sp.MatrixSymbol("S", T, T), sp.MatrixSymbol("P", T, T), sp.MatrixSymbol("O", T, e)
L = sp.Symbol("L")
dP = sp.MatrixSymbol("dP", T, T)  # ∂L/∂P, named once it is derived
dS = sp.MatrixSymbol("dS", T, T)  # ∂L/∂S, likewise
ones = sp.OneMatrix(T, 1)

DEFINITIONS = {
    L: sp.Sum(G[a, b] * O[a, b], (a, 0, T - 1), (b, 0, e - 1)),
    O: P * V,
    P: MaskedSoftmax(S, M),
    S: Q * K.T / sp.sqrt(d),
    dP: G * V.T,
    dS: sp.HadamardProduct(P, dP - sp.HadamardProduct(dP, P) * ones * ones.T),
}

# Closed forms in matrix notation. ∂L/∂P and ∂L/∂S are written with GVᵀ itself, so that
# their boxes read without a name; ∂L/∂Q and ∂L/∂K keep the factor ∂L/∂S = dS, boxed
# just above them, as a teacher writes them: (1/√d) dS K, not dS multiplied out.
dP_closed = G * V.T
dS_closed = sp.HadamardProduct(P, dP_closed - sp.HadamardProduct(dP_closed, P) * ones * ones.T)
CLOSED = {
    "V": P.T * G,
    "P": dP_closed,
    "S": dS_closed,
    "Q": dS * K / sp.sqrt(d),
    "K": dS.T * Q / sp.sqrt(d),
}
# dS written out, the transposed one first (as dS_closed.T prints and is checked).
WRITTEN_OUT = {sp.Transpose(dS): dS_closed.T, dS: dS_closed}


def written_out(closed):
    """A closed form with dS written out, built as the product it abbreviates (the trees
    the numeric cases check: ``dS_closed * K / sqrt(d)``)."""
    return closed.xreplace(WRITTEN_OUT).doit() if closed.has(dS) else closed


EXERCISES = (
    Exercise(
        prompt="Show that every row of $\\partial L/\\partial S$ sums to zero. What does "
        "that mean for adding the same number to every score in a row?",
        solution="Row $p$ sums to "
        "$\\sum_q P_{pq}(\\mathrm{dP}_{pq} - \\sum_k P_{pk} \\mathrm{dP}_{pk}) = "
        "\\sum_q P_{pq} \\mathrm{dP}_{pq} - "
        "(\\sum_q P_{pq})(\\sum_k P_{pk} \\mathrm{dP}_{pk}) = 0$, since "
        "$\\sum_q P_{pq} = 1$. The softmax of a row does not change when a constant is added "
        "to the row, so the loss cannot either: the gradient has no component along "
        "$\\mathbf{1}$.",
        source="Phase 4, Transformers math: attention, softmax (shared/seeds/003)",
    ),
    Exercise(
        prompt="Queries and keys have independent entries of mean 0 and variance 1. What is "
        "the standard deviation of a score $q \\cdot k$ for $d = 64$, with and without the "
        "$1/\\sqrt{d}$?",
        solution="$q \\cdot k = \\sum_{i=1}^{d} q_i k_i$ is a sum of $d$ independent terms of "
        "variance 1, so its variance is $d$: standard deviation $\\sqrt{64} = 8$ unscaled, "
        "and $1$ after dividing by $\\sqrt{d}$. With scores spread over $\\pm 16$ the row "
        "softmax is nearly one-hot and $P \\odot (\\mathrm{dP} - \\ldots)$ nearly vanishes: the "
        "scaling keeps gradients alive.",
        source="Step 5, Information theory and transformers: custom attention (shared/seeds/004)",
    ),
    Exercise(
        prompt="With a causal mask, which entries of $P$ and of $\\partial L/\\partial S$ are "
        "zero, and what does that say about $\\partial L/\\partial K$ for the last "
        "position?",
        solution="Masked entries ($q > p$) have $P_{pq} = 0$, and since "
        "$\\partial L/\\partial S = P \\odot (\\ldots)$ they are 0 in the gradient too. "
        "The last key is seen only by the last query, so row $T - 1$ (positions count "
        "from 0) of "
        "$\\partial L/\\partial K = (\\partial L/\\partial S)^{\\top} Q/\\sqrt{d}$ "
        "gets a contribution from the last query alone.",
        source="Final phase: implement transformers and attention (shared/seeds/002)",
    ),
)


def is_masked_exp(x: sp.Basic) -> bool:
    """A product holding M[r,c]·exp(S[r,c]): the numerator of P[r,c]."""
    return isinstance(x, sp.Mul) and _masked_pair(x) is not None


def _masked_pair(product: sp.Mul):
    for factor in product.args:
        if isinstance(factor, sp.exp) and getattr(factor.args[0], "parent", None) == S:
            r, c = factor.args[0].i, factor.args[0].j
            if M[r, c] in product.args:
                return factor, r, c
    return None


def as_probability(x: sp.Mul) -> sp.Basic:
    """M[r,c]·exp(S[r,c]) = P[r,c]·Σₖ M[r,k] exp(S[r,k]): the definition of P read backwards.

    Every such pair in the product is folded.
    """
    while (pair := _masked_pair(x)) is not None:
        factor, r, c = pair
        k = sp.Dummy("k", integer=True)
        row_total = sp.Sum(M[r, k] * sp.exp(S[r, k]), (k, 0, T - 1))
        x = x / (factor * M[r, c]) * P[r, c] * row_total
    return x


def is_upstream_entry(x: sp.Basic) -> bool:
    """Σₖ G[r,k] V[c,k]: the entry (GVᵀ)[r,c] = ∂L/∂P[r,c], written out."""
    return _upstream_index(x) is not None


def _upstream_index(x: sp.Basic):
    if not isinstance(x, sp.Sum) or len(x.limits) != 1:
        return None
    for entry in x.function.atoms(MatrixElement):
        if entry.parent == G:
            row = entry.i
            for other in x.function.atoms(MatrixElement):
                if other.parent == V and canonical(x) == canonical((G * V.T)[row, other.i]):
                    return row, other.i
    return None


def as_upstream(x: sp.Basic) -> sp.Basic:
    """Σₖ G[r,k] V[c,k] → dP[r,c]: the result ∂L/∂P = GVᵀ read backwards."""
    return dP[_upstream_index(x)]


def _score_pair(product: sp.Basic):
    """The factors P[r,c] and (dP[r,c] − Σₖ P[r,k] dP[r,k]) of a product, with (r, c)."""
    if not isinstance(product, sp.Mul):
        return None
    for weight in product.args:
        if not (isinstance(weight, MatrixElement) and weight.parent == P):
            continue
        entry = sp.expand(canonical(DEFINITIONS[dS][weight.i, weight.j]))
        for gap in product.args:
            if isinstance(gap, sp.Add) and sp.expand(canonical(weight * gap)) == entry:
                return weight, gap
    return None


def is_score_gradient(x: sp.Basic) -> bool:
    """A product holding P[r,c](dP[r,c] − Σₖ P[r,k] dP[r,k]): the entry dS[r,c], written out."""
    return _score_pair(x) is not None


def as_score_gradient(x: sp.Basic) -> sp.Basic:
    """P[r,c](dP[r,c] − Σₖ P[r,k] dP[r,k]) → dS[r,c]: the result ∂L/∂S read backwards."""
    weight, gap = _score_pair(x)
    return x / (weight * gap) * dS[weight.i, weight.j]


def build() -> Derivation:
    value = (
        Chain(sp.Derivative(L, V[p, q]), DEFINITIONS)
        .apply(rules.Definition((L,)), "L = Σ G ⊙ O: the upstream gradient G weights each output.")
        .apply(rules.Linearity(), "G is a constant; the derivative moves inside the sums.")
        .apply(rules.Definition((O,)), "O = PV: {}.", rewritten)
        .apply(rules.Linearity(), "P does not depend on V.")
        .apply(rules.Differentiate(), "{}.", rewritten)
        .apply(rules.CollapseDeltas(), "The deltas keep {}: Σₖ P_kp G_kq = (PᵀG)_pq.", kept)
    )
    probabilities = (
        Chain(sp.Derivative(L, P[p, q]), DEFINITIONS)
        .apply(rules.Definition((L,)), "L = Σ G ⊙ O.")
        .apply(rules.Linearity(), "The derivative moves inside the sums.")
        .apply(rules.Definition((O,)), "O = PV.")
        .apply(rules.Linearity(), "V does not depend on P.")
        .apply(rules.Differentiate(), "{}.", rewritten)
        .apply(rules.CollapseDeltas(), "The deltas keep {}: Σₖ G_pk V_qk = (GVᵀ)_pq.", kept)
    )
    v_result = value.result("∂L/∂V", CLOSED["V"], (p, q), V)
    p_result = probabilities.result("∂L/∂P", CLOSED["P"], (p, q), P)

    scores = (
        Chain(sp.Derivative(L, S[p, q]), DEFINITIONS)
        .apply(rules.ChainRuleThrough(P), "Chain rule through the attention weights P.")
        .apply(
            rules.UseResult(p_result.goal, p_result.derived, "∂L/∂P"),
            "Use ∂L/∂P = GVᵀ from above.",
        )
        .apply(rules.Definition((P,)), "{}: the masked softmax of row k.", rewritten)
        .apply(rules.QuotientRule(), "A quotient: differentiate numerator and denominator.")
        .apply(rules.Linearity(), "The mask is constant; the derivative enters the row sum.")
        .apply(rules.ChainRule(), "∂ exp(u) = exp(u) ∂u.")
        .apply(rules.Differentiate(), "{}: only row p of P depends on S_pq.", rewritten)
        .apply(
            rules.CollapseDeltas(),
            "The deltas keep {}: row p, column q, and column q in the row sum.",
            kept,
        )
        .apply(
            rules.Fold(is_masked_exp, as_probability, free_only=False),
            "Each M·exp(S) over its row sum is an attention weight P.",
        )
        .apply(
            rules.Fold(is_upstream_entry, as_upstream, free_only=False),
            "Each sum over the value width is an entry of GVᵀ = ∂L/∂P, named dP: the "
            "gradient is P_pq times the gap between dP at (p, q) and the P-weighted mean "
            "of row p of dP.",
        )
    )
    s_result = scores.result("∂L/∂S", CLOSED["S"], (p, q), S)

    def through_scores(target, picks: str, label: str, closed) -> Result:
        chain = (
            Chain(sp.Derivative(L, target), DEFINITIONS)
            .apply(rules.ChainRuleThrough(S), "Chain rule through the scores S.")
            .apply(
                rules.UseResult(s_result.goal, s_result.derived, "∂L/∂S"),
                "Use ∂L/∂S from above.",
            )
            .apply(rules.Definition((S,)), "S = QKᵀ/√d: {}.", rewritten)
            .apply(
                rules.Linearity(),
                f"Only one factor of each product depends on {target.parent.name}.",
            )
            .apply(rules.Differentiate(), "{}.", rewritten)
            .apply(rules.CollapseDeltas(), f"The deltas keep {{}}: {picks} of ∂L/∂S.", kept)
            .apply(
                CombineSums(inside=True),
                "Both sums run over k: one sum, its common factors collected.",
            )
            .apply(
                rules.Fold(is_score_gradient, as_score_gradient, free_only=False),
                "{}: each term holds an entry of ∂L/∂S, named dS, as derived above.",
                rewritten,
            )
        )
        return chain.result(label, closed, (p, q), target.parent)

    q_result = through_scores(Q[p, q], "row p", "∂L/∂Q", CLOSED["Q"])
    k_result = through_scores(K[p, q], "column p", "∂L/∂K", CLOSED["K"])
    results = (v_result, p_result, s_result, q_result, k_result)

    scores_of_inputs = Q * K.T / sp.sqrt(d)
    samplers = {
        Q: numeric.logits(1.0),
        K: numeric.logits(1.0),
        V: numeric.logits(1.0),
        G: numeric.logits(1.0),
    }
    sizes = ({T: 2, d: 2, e: 2}, {T: 3, d: 2, e: 1}, {T: 2, d: 3, e: 3})
    wrt = (Q, K, V)

    def case(name, weights, mask_sampler, substitutions):
        values = {S: scores_of_inputs, P: weights}
        gradients = tuple(expand_names(written_out(CLOSED[w.name]), values) for w in wrt)
        names = tuple(
            (name, expand_names(expr, values))
            for name, expr in (("S", S), ("P", P), ("dP", CLOSED["P"]), ("dS", CLOSED["S"]))
        )
        forward = sp.OneMatrix(1, T) * sp.HadamardProduct(G, weights * V) * sp.OneMatrix(e, 1)
        case_samplers = dict(samplers)
        if mask_sampler is not None:
            case_samplers[M] = mask_sampler
        return Case(
            name=name,
            forward=forward,
            wrt=wrt,
            gradients=gradients,
            samplers=case_samplers,
            sizes=sizes,
            numeric_size={T: 5, d: 4, e: 3},
            results={Q: "∂L/∂Q", K: "∂L/∂K", V: "∂L/∂V"},
            substitutions=substitutions,
            names=names,
        )

    plain = case("unmasked", Softmax(scores_of_inputs, axis=1), None, {M: sp.OneMatrix(T, T)})
    causal = case(
        "causal mask",
        MaskedSoftmax(scores_of_inputs, M),
        numeric.causal_mask(),
        {M: CausalMask(T)},
    )
    return Derivation(
        slug="attention-gradient",
        title="Scaled dot-product attention gradient",
        summary=(
            "The backward pass of one attention head: how the loss gradient reaches the "
            "queries, keys and values through the row-wise softmax. It is what every "
            "transformer layer computes in training, and what fused attention kernels "
            "reorganise."
        ),
        conventions="Gradients, denominator layout: ∂L/∂X has the shape of X. Rows index "
        "positions; G = ∂L/∂O is given (L = Σ G ⊙ O); the softmax runs along each row.",
        variables=(
            ("Q, K", "T×d queries and keys"),
            ("V", "T×e values"),
            ("S", "T×T scores, S = QKᵀ/√d"),
            ("M", "T×T 0/1 mask (all ones, or causal)"),
            ("P", "T×T attention weights, the masked row softmax of S"),
            ("O", "T×e output, O = PV"),
            ("G", "T×e upstream gradient ∂L/∂O"),
            ("dP, dS", "T×T, ∂L/∂P = GVᵀ and ∂L/∂S once derived"),
        ),
        definitions=DEFINITIONS,
        results=results,
        cases=(plain, causal),
        exercises=EXERCISES,
    )


class CausalMask(sp.MatrixExpr):
    """The T×T lower-triangular 0/1 matrix: position r attends to positions c ≤ r."""

    shape = property(lambda self: (self.args[0], self.args[0]))

    def _entry(self, i, j, **kwargs):
        return (
            sp.Piecewise((1, j <= i), (0, True))
            if not (i.is_Integer and j.is_Integer)
            else sp.Integer(1 if j <= i else 0)
        )
