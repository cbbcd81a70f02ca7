"""Transformer block backward: ∂L/∂X = ∂L/∂X₂ + the first layer norm's backward of ∂L/∂H₁.

One pre-norm block on a sequence X (T×n, one position per row):
H₁ = LN₁(X), Q = H₁W_q, K = H₁W_k, V = H₁W_v, O = attention(Q, K, V) with a causal
mask, X₂ = X + OW_o, H₂ = LN₂(X₂), Z = H₂W₁ + 1b₁ᵀ, U = φ(Z), Y = X₂ + UW₂ + 1b₂ᵀ,
and an upstream gradient G = ∂L/∂Y (L = Σ G ∘ Y). Backward, stage by stage:
∂L/∂U = GW₂ᵀ, ∂L/∂Z = ∂L/∂U ∘ φ′(Z), ∂L/∂H₂ = (∂L/∂Z)W₁ᵀ,
∂L/∂X₂ = G + LN₂-backward(∂L/∂H₂), ∂L/∂O = (∂L/∂X₂)W_oᵀ, ∂L/∂Q, ∂L/∂K, ∂L/∂V by the
attention gradient with upstream ∂L/∂O, ∂L/∂H₁ = (∂L/∂Q)W_qᵀ + (∂L/∂K)W_kᵀ + (∂L/∂V)W_vᵀ
and ∂L/∂X = ∂L/∂X₂ + LN₁-backward(∂L/∂H₁); each weight's gradient is its layer's input
transposed times the gradient of its output. The attention and layer-norm stages use
the catalogue's results (attention-gradient, layernorm-backward) as known backward
passes; the MLP stage repeats two-layer backprop's chain with G in place of δ₂.
"""

from __future__ import annotations

import sympy as sp
from sympy.matrices.expressions.matexpr import MatrixElement

from derivations import attention_gradient as att
from derivations import layernorm_backward as ln
from workbench.codegen import numeric
from workbench.core import rules
from workbench.core.algebra import expand_names_shared
from workbench.core.derivation import Case, Derivation, Exercise, Network, Result, Stages
from workbench.core.derivation import Chain as _Chain
from workbench.core.functions import Elementwise
from workbench.core.pieces import rewritten
from workbench.core.rules_compose import (
    ChainRuleThroughEach,
    GraphContext,
    ResidualChainRule,
    UseBackward,
)

# Sizes: T positions, n model width, d query/key width, e value width, m MLP width.
T, d, e = att.T, att.d, att.e
n = ln.n
m = sp.Symbol("m", integer=True, positive=True)
p, q = sp.symbols("p q", integer=True)
a, b = sp.symbols("a b", integer=True)  # bound in L's sum, never a free index
eps = ln.eps
L = sp.Symbol("L")

X, G = sp.MatrixSymbol("X", T, n), sp.MatrixSymbol("G", T, n)
gamma1, beta1 = sp.MatrixSymbol("gamma1", n, 1), sp.MatrixSymbol("beta1", n, 1)
gamma2, beta2 = sp.MatrixSymbol("gamma2", n, 1), sp.MatrixSymbol("beta2", n, 1)
Wq, Wk = sp.MatrixSymbol("W_q", n, d), sp.MatrixSymbol("W_k", n, d)
Wv, Wo = sp.MatrixSymbol("W_v", n, e), sp.MatrixSymbol("W_o", e, n)
W1, b1 = sp.MatrixSymbol("W1", n, m), sp.MatrixSymbol("b1", m, 1)
W2, b2 = sp.MatrixSymbol("W2", m, n), sp.MatrixSymbol("b2", n, 1)
Q, K, V, S, P, O, M = att.Q, att.K, att.V, att.S, att.P, att.O, att.M

# Intermediates: the row statistics and outputs of the two layer norms, the MLP.
mu1, var1 = sp.MatrixSymbol("mu1", T, 1), sp.MatrixSymbol("sigma_sq_1", T, 1)
mu2, var2 = sp.MatrixSymbol("mu2", T, 1), sp.MatrixSymbol("sigma_sq_2", T, 1)
Xh1, H1 = sp.MatrixSymbol("xhat1", T, n), sp.MatrixSymbol("H1", T, n)
X2 = sp.MatrixSymbol("X2", T, n)
Xh2, H2 = sp.MatrixSymbol("xhat2", T, n), sp.MatrixSymbol("H2", T, n)
Z, U = sp.MatrixSymbol("Z", T, m), sp.MatrixSymbol("U", T, m)
F, Y = sp.MatrixSymbol("F", T, n), sp.MatrixSymbol("Y", T, n)

ONES_T, ONES_N = sp.OneMatrix(T, 1), sp.OneMatrix(n, 1)

# Names for the gradients backpropagation hands from stage to stage (dZ = ∂L/∂Z, …):
# a chain uses the stage above it by name, so each result stays the size of one stage.
dZ, dH2, dX2 = (
    sp.MatrixSymbol("dZ", T, m),
    sp.MatrixSymbol("dH2", T, n),
    sp.MatrixSymbol("dX2", T, n),
)
dO, dQ, dK = sp.MatrixSymbol("dO", T, e), sp.MatrixSymbol("dQ", T, d), sp.MatrixSymbol("dK", T, d)
dV, dH1 = sp.MatrixSymbol("dV", T, e), sp.MatrixSymbol("dH1", T, n)
dP, dS = att.dP, att.dS  # ∂L/∂P and ∂L/∂S, as attention-gradient names them


def _layer_norm_definitions(x, mean, variance, normalised, out, gamma, beta) -> dict:
    """Row-wise layer norm of x (T×n): each row's mean and (1/n) variance."""
    centred = x - mean * ONES_N.T
    return {
        mean: x * ONES_N / n,
        variance: sp.HadamardProduct(centred, centred) * ONES_N / n,
        normalised: sp.HadamardProduct(
            centred, sp.HadamardPower(variance + eps * ONES_T, sp.Rational(-1, 2)) * ONES_N.T
        ),
        out: sp.HadamardProduct(ONES_T * gamma.T, normalised) + ONES_T * beta.T,
    }


DEFINITIONS = {
    L: sp.Sum(G[a, b] * Y[a, b], (a, 0, T - 1), (b, 0, n - 1)),
    **_layer_norm_definitions(X, mu1, var1, Xh1, H1, gamma1, beta1),
    Q: H1 * Wq,
    K: H1 * Wk,
    V: H1 * Wv,
    S: att.DEFINITIONS[S],
    P: att.DEFINITIONS[P],
    O: att.DEFINITIONS[O],
    X2: X + O * Wo,
    **_layer_norm_definitions(X2, mu2, var2, Xh2, H2, gamma2, beta2),
    Z: H2 * W1 + ONES_T * b1.T,
    U: Elementwise("phi", Z),
    F: U * W2 + ONES_T * b2.T,
    Y: X2 + F,
}


# ---------------------------------------------------------------- closed forms
# Built with the constructors, not * and +: the operators call doit() on the whole tree
# at every node, which on these nested forms takes tens of seconds.
def _mul(*factors):
    return sp.MatMul(*factors)


def _add(*terms):
    return sp.MatAdd(*terms)


def _minus(a, b):
    return sp.MatAdd(a, sp.MatMul(-1, b))


def _ones(rows):
    return sp.OneMatrix(rows, 1)


def layer_norm_backward(upstream, normalised, variance, gamma):
    """The layer-norm closed form applied to every row: scale ∘ (g − mean g − x̂ ∘ mean(g ∘ x̂))."""
    rows = upstream.shape[0]
    g = sp.HadamardProduct(upstream, _mul(_ones(rows), gamma.T))
    mean_g = _mul(1 / n, g, ONES_N, ONES_N.T)
    mean_gx = _mul(1 / n, sp.HadamardProduct(g, normalised), ONES_N, ONES_N.T)
    scale = _mul(
        sp.HadamardPower(_add(variance, _mul(eps, _ones(rows))), sp.Rational(-1, 2)), ONES_N.T
    )
    return sp.HadamardProduct(
        scale, _minus(_minus(g, mean_g), sp.HadamardProduct(normalised, mean_gx))
    )


def attention_backward(upstream, probs, queries, keys, values, named: bool = False) -> dict:
    """The attention-gradient closed forms with upstream ∂L/∂O: ∂L/∂Q, ∂L/∂K, ∂L/∂V, written
    with dP = ∂L/∂P and dS = ∂L/∂S; ``named``: with those two names (and their definitions
    in the dict), so that code computes each once."""
    ones = _ones(probs.shape[0])
    scale = 1 / sp.sqrt(queries.shape[1])
    d_probs = _mul(upstream, values.T)
    d_scores = sp.HadamardProduct(
        probs, _minus(d_probs, _mul(sp.HadamardProduct(d_probs, probs), ones, ones.T))
    )
    names = {dP: d_probs, dS: d_scores.xreplace({d_probs: dP})} if named else {}
    d_scores = dS if named else d_scores
    return {
        **names,
        dQ: _mul(scale, d_scores, keys),
        dK: _mul(scale, d_scores.T, queries),
        dV: _mul(probs.T, upstream),
    }


def named_closed_forms(named_attention: bool = False) -> tuple[dict, dict]:
    """(closed forms, gradient-name definitions), each stage written with the names of the
    forward intermediates and of the gradient of the stage above it; ``named_attention``:
    attention's dP and dS named as well (the code's forms, :data:`CODE_GRADIENTS`)."""
    d_u = _mul(G, W2.T)
    grads = {dZ: sp.HadamardProduct(d_u, Elementwise("phi_prime", Z)), dH2: _mul(dZ, W1.T)}
    grads[dX2] = _add(G, layer_norm_backward(dH2, Xh2, var2, gamma2))
    grads[dO] = _mul(dX2, Wo.T)
    grads.update(attention_backward(dO, P, Q, K, V, named_attention))
    grads[dH1] = _add(_mul(dQ, Wq.T), _mul(dK, Wk.T), _mul(dV, Wv.T))
    ones = ONES_T
    closed = {
        "F": G,
        "U": d_u,
        "Z": grads[dZ],
        W2: _mul(U.T, G),
        b2: _mul(G.T, ones),
        W1: _mul(H2.T, dZ),
        b1: _mul(dZ.T, ones),
        "H2": grads[dH2],
        gamma2: _mul(sp.HadamardProduct(dH2, Xh2).T, ones),
        beta2: _mul(dH2.T, ones),
        "X2": grads[dX2],
        Wo: _mul(O.T, dX2),
        "O": grads[dO],
        "Q": grads[dQ],
        "K": grads[dK],
        "V": grads[dV],
        Wq: _mul(H1.T, dQ),
        Wk: _mul(H1.T, dK),
        Wv: _mul(H1.T, dV),
        "H1": grads[dH1],
        gamma1: _mul(sp.HadamardProduct(dH1, Xh1).T, ones),
        beta1: _mul(dH1.T, ones),
        X: _add(dX2, layer_norm_backward(dH1, Xh1, var1, gamma1)),
    }
    return closed, grads


CLOSED, GRADIENTS = named_closed_forms()
DEFINITIONS.update(GRADIENTS)
# The same closed forms with attention's dP and dS named, for generated code: the checked
# forms are these with the two names written out (the same trees; a test compares them).
CODE_CLOSED, CODE_GRADIENTS = named_closed_forms(named_attention=True)
NAME_OF = {"Z": dZ, "H2": dH2, "X2": dX2, "O": dO, "Q": dQ, "K": dK, "V": dV, "H1": dH1}


# ---------------------------------------------------------------- the chains
class Chain(_Chain):
    """A chain whose rules ask the graph of names what depends on what (fast, same answer)."""

    def __init__(self, start, definitions=None):
        super().__init__(start, definitions)
        self.context = GraphContext(dict(definitions or {}))


def _through(target, intermediate, known: Result, note: str) -> _Chain:
    """∂L/∂target through one intermediate whose gradient is already derived."""
    return (
        Chain(sp.Derivative(L, target), DEFINITIONS)
        .apply(rules.ChainRuleThrough(intermediate), note)
        .apply(use(known), f"Use {known.label}, derived above.")
    )


def use(known: Result) -> rules.UseResult:
    """A result derived above, by its gradient name where it has one (∂L/∂Z[r,c] → dZ[r,c])."""
    name = NAME_OF.get(known.label.removeprefix("∂L/∂").replace("₂", "2").replace("₁", "1"))
    value = known.derived if name is None else name[known.goal.variables[0].indices]
    return rules.UseResult(known.goal, value, known.label)


def _linear_layer(chain: _Chain, definition, note: str, wrt: str) -> _Chain:
    """Definition, linearity, derivatives, deltas, for the variable named ``wrt``. The
    notes' entries are read off the steps (``{}``: :func:`rewritten`), so their index
    letters are the steps' own."""
    written = (rewritten,) * note.count("{}")
    return (
        chain.apply(rules.Definition(definition), note, *written)
        .apply(rules.Linearity(), f"Only the terms that hold {wrt} depend on it.")
        .apply(rules.Differentiate(), "{}.", rewritten)
        .apply(rules.CollapseDeltas(), "The deltas pick out one row or column.")
    )


def _attention_results() -> dict[str, Result]:
    built = att.build()
    return {r.label: r for r in built.results}


def _layer_norm_result() -> Result:
    return ln.build().result("∂L/∂xⱼ")


def _layer_norm_use(known: Result, out, x, normalised, mean, variance, gamma, label: str):
    return UseBackward(
        derived=known.derived,
        index=(ln.j,),
        upstream=ln.G,
        output=out,
        wrt=x,
        rowwise={
            ln.x: x,
            ln.xhat: normalised,
            ln.gamma: gamma,
            ln.mu: mean,
            ln.var: variance,
        },
        label=label,
    )


def _attention_use(known: Result, wrt) -> UseBackward:
    derived = known.derived
    for name in (att.dS, att.dP):  # attention's named gradients, unfolded: the block has none
        derived = derived.replace(
            lambda e, name=name: isinstance(e, MatrixElement) and e.parent == name,
            lambda e, name=name: att.DEFINITIONS[name][e.i, e.j],
        )
    return UseBackward(
        derived=derived,
        index=(att.p, att.q),
        upstream=att.G,
        output=O,
        wrt=wrt,
        label=f"attention-gradient {known.label}",
    )


def derive() -> tuple[Result, ...]:
    """Every result of the block, in the order backpropagation meets them."""
    # The MLP: two-layer backprop's chain, with the upstream gradient G in place of δ₂.
    d_f = (
        Chain(sp.Derivative(L, F[p, q]), DEFINITIONS)
        .apply(rules.Definition((L,)), "L = Σ G ∘ Y: G is the gradient arriving from above.")
        .apply(rules.Linearity(), "G is held fixed.")
        .apply(rules.Definition((Y,)), "Y = X₂ + F: the MLP's output is added to its input.")
        .apply(rules.Linearity(), "X₂ does not depend on F.")
        .apply(rules.Differentiate(), "{}.", rewritten)
        .apply(rules.CollapseDeltas(), "One term survives.")
        .result("∂L/∂F", CLOSED["F"], (p, q), F)
    )
    fc2 = "F = UW₂ + 1b₂ᵀ: {}."
    w2 = _linear_layer(
        _through(W2[p, q], F, d_f, "W₂ reaches L only through F."),
        (F,),
        fc2,
        "W₂",
    ).result("∂L/∂W₂", CLOSED[W2], (p, q), W2)
    b2_ = _linear_layer(
        _through(b2[p, 0], F, d_f, "b₂ reaches L only through F."),
        (F,),
        fc2,
        "b₂",
    ).result("∂L/∂b₂", CLOSED[b2], (p, 0), b2)
    d_u = _linear_layer(
        _through(U[p, q], F, d_f, "U reaches L only through F."),
        (F,),
        fc2,
        "U",
    ).result("∂L/∂U", CLOSED["U"], (p, q), U)
    d_z = (
        _through(Z[p, q], U, d_u, "Z reaches L only through the activations U.")
        .apply(rules.Definition((U,)), "U = φ(Z), entry by entry.")
        .apply(rules.ChainRule(), "∂φ(u) = φ′(u) ∂u.")
        .apply(rules.Differentiate(), "{}.", rewritten)
        .apply(rules.CollapseDeltas(), "Only entry (p, q): δ₁ = ∂L/∂U ∘ φ′(Z).")
        .result("∂L/∂Z", CLOSED["Z"], (p, q), Z)
    )
    fc1 = "Z = H₂W₁ + 1b₁ᵀ: {}."
    w1 = _linear_layer(
        _through(W1[p, q], Z, d_z, "W₁ reaches L only through Z."),
        (Z,),
        fc1,
        "W₁",
    ).result("∂L/∂W₁", CLOSED[W1], (p, q), W1)
    b1_ = _linear_layer(
        _through(b1[p, 0], Z, d_z, "b₁ reaches L only through Z."),
        (Z,),
        fc1,
        "b₁",
    ).result("∂L/∂b₁", CLOSED[b1], (p, 0), b1)
    d_h2 = _linear_layer(
        _through(H2[p, q], Z, d_z, "H₂ reaches L only through Z."),
        (Z,),
        fc1,
        "H₂",
    ).result("∂L/∂H₂", CLOSED["H2"], (p, q), H2)

    # The second layer norm: its parameters, then the residual connection around the MLP.
    ln2 = "H₂ = γ₂ ∘ x̂₂ + β₂ in every row."
    g2 = _linear_layer(
        _through(gamma2[p, 0], H2, d_h2, "γ₂ reaches L only through H₂."),
        (H2,),
        ln2,
        "γ₂",
    ).result("∂L/∂γ₂", CLOSED[gamma2], (p, 0), gamma2)
    be2 = _linear_layer(
        _through(beta2[p, 0], H2, d_h2, "β₂ reaches L only through H₂."),
        (H2,),
        ln2,
        "β₂",
    ).result("∂L/∂β₂", CLOSED[beta2], (p, 0), beta2)
    dy = (
        Chain(sp.Derivative(L, Y[p, q]), DEFINITIONS)
        .apply(rules.Definition((L,)), "L = Σ G ∘ Y.")
        .apply(rules.Linearity(), "G is held fixed.")
        .apply(rules.Differentiate(), "{}.", rewritten)
        .apply(rules.CollapseDeltas(), "One term survives.")
        .result("∂L/∂Y", G, (p, q), Y)
    )
    layer_norm = _layer_norm_result()
    d_x2 = (
        Chain(sp.Derivative(L, X2[p, q]), DEFINITIONS)
        .apply(
            ResidualChainRule(skip=Y, through=H2),
            "Y = X₂ + MLP(LN₂(X₂)): X₂ reaches L along the skip path and through H₂.",
        )
        .apply(use(dy), "∂L/∂Y = G.")
        .apply(use(d_h2), "Use ∂L/∂H₂, derived above.")
        .apply(
            _layer_norm_use(layer_norm, H2, X2, Xh2, mu2, var2, gamma2, "LN₂"),
            "layernorm-backward, row by row, with upstream ∂L/∂H₂: row p of H₂ depends "
            "only on row p of X₂.",
        )
        .apply(rules.CollapseDeltas(), "The skip path contributes G_pq.")
        .result("∂L/∂X₂", CLOSED["X2"], (p, q), X2)
    )

    # Attention: the output projection, then the catalogue's attention gradient.
    proj = "X₂ = X + O W_o: {}."
    wo = _linear_layer(
        _through(Wo[p, q], X2, d_x2, "W_o reaches L only through X₂."),
        (X2,),
        proj,
        "W_o",
    ).result("∂L/∂W_o", CLOSED[Wo], (p, q), Wo)
    d_o = _linear_layer(
        _through(O[p, q], X2, d_x2, "O reaches L only through X₂."),
        (X2,),
        proj,
        "O",
    ).result("∂L/∂O", CLOSED["O"], (p, q), O)
    known = _attention_results()
    qkv = {}
    for name, symbol in (("Q", Q), ("K", K), ("V", V)):
        qkv[name] = (
            _through(symbol[p, q], O, d_o, f"{name} reaches L only through the output O.")
            .apply(
                _attention_use(known[f"∂L/∂{name}"], symbol),
                f"attention-gradient's ∂L/∂{name}, with upstream ∂L/∂O in place of G.",
            )
            .result(f"∂L/∂{name}", CLOSED[name], (p, q), symbol)
        )
    projections = []
    for name, symbol, weight in (("q", Q, Wq), ("k", K, Wk), ("v", V, Wv)):
        projections.append(
            _linear_layer(
                _through(weight[p, q], symbol, qkv[name.upper()], f"W_{name} acts through it."),
                (symbol,),
                f"{name.upper()} = H₁W_{name}.",
                f"W_{name}",
            ).result(f"∂L/∂W_{name}", CLOSED[weight], (p, q), weight)
        )
    d_h1 = (
        Chain(sp.Derivative(L, H1[p, q]), DEFINITIONS)
        .apply(ChainRuleThroughEach((Q, K, V)), "H₁ feeds the queries, the keys and the values.")
        .apply(use(qkv["Q"]), "Use ∂L/∂Q, derived above.")
        .apply(use(qkv["K"]), "Use ∂L/∂K.")
        .apply(use(qkv["V"]), "Use ∂L/∂V.")
        .apply(rules.Definition((Q, K, V)), "Q = H₁W_q, K = H₁W_k, V = H₁W_v.")
        .apply(rules.Linearity(), "The weights are constants.")
        .apply(rules.Differentiate(), "{}.", rewritten)
        .apply(rules.CollapseDeltas(), "Three products with the transposed weights.")
        .result("∂L/∂H₁", CLOSED["H1"], (p, q), H1)
    )
    ln1 = "H₁ = γ₁ ∘ x̂₁ + β₁ in every row."
    g1 = _linear_layer(
        _through(gamma1[p, 0], H1, d_h1, "γ₁ reaches L only through H₁."),
        (H1,),
        ln1,
        "γ₁",
    ).result("∂L/∂γ₁", CLOSED[gamma1], (p, 0), gamma1)
    be1 = _linear_layer(
        _through(beta1[p, 0], H1, d_h1, "β₁ reaches L only through H₁."),
        (H1,),
        ln1,
        "β₁",
    ).result("∂L/∂β₁", CLOSED[beta1], (p, 0), beta1)
    d_x = (
        Chain(sp.Derivative(L, X[p, q]), DEFINITIONS)
        .apply(
            ResidualChainRule(skip=X2, through=H1),
            "X₂ = X + attention(LN₁(X)): X reaches L along the skip path and through H₁.",
        )
        .apply(use(d_x2), "Use ∂L/∂X₂, derived above.")
        .apply(use(d_h1), "Use ∂L/∂H₁, derived above.")
        .apply(
            _layer_norm_use(layer_norm, H1, X, Xh1, mu1, var1, gamma1, "LN₁"),
            "layernorm-backward, row by row, with upstream ∂L/∂H₁.",
        )
        .apply(rules.CollapseDeltas(), "The skip path contributes (∂L/∂X₂)_pq.")
        .result("∂L/∂X", CLOSED[X], (p, q), X)
    )
    return (
        d_f, w2, b2_, d_u, d_z, w1, b1_, d_h2, g2, be2, dy, d_x2, wo, d_o,
        *qkv.values(), *projections, d_h1, g1, be1, d_x,
    )  # fmt: skip


# ---------------------------------------------------------------- numeric cases
PARAMETERS = (gamma1, beta1, Wq, Wk, Wv, Wo, gamma2, beta2, W1, b1, W2, b2)
WRT = (X, *PARAMETERS)
EPSILON = ln.EPSILON


def concrete(body, activation: str):
    """A matrix expression made concrete: φ the activation, ε = 10⁻⁵, and 1/√(σ² + ε) as
    exp(−log(σ² + ε)/2) (analytic, for the complex step)."""
    body = sp.sympify(body).xreplace({eps: EPSILON})
    body = body.replace(
        lambda x: isinstance(x, sp.HadamardPower) and x.exp == sp.Rational(-1, 2),
        lambda x: ln._rsqrt(x.base),
    )
    return body.replace(
        lambda x: isinstance(x, Elementwise) and x.name in ("phi", "phi_prime"),
        lambda x: Elementwise(x.name.replace("phi", activation), x.arg),
    )


def _in_inputs(exprs, activation: str) -> list:
    """Matrix expressions over names, written over the inputs. Each definition is made
    concrete while it is small, then every name is expanded once and shared: written
    out as a tree, the gradient of X alone took half a minute to build."""
    forward = {k: concrete(v, activation) for k, v in DEFINITIONS.items() if k != L}
    return expand_names_shared([concrete(e, activation) for e in exprs], forward)


def block_output(activation: str = "gelu"):
    """Y, the block's output, over the inputs."""
    return _in_inputs([Y], activation)[0]


def block_gradients(activation: str = "gelu") -> tuple:
    """∂L/∂X and every parameter's gradient, over the inputs and G, in the order of WRT."""
    return tuple(_in_inputs([CLOSED[w] for w in WRT], activation))


def _samplers() -> dict:
    gain = lambda rng, shape: 1 + 0.1 * rng.standard_normal(shape)  # noqa: E731
    return {
        X: numeric.logits(1.0),
        G: numeric.logits(1.0),
        gamma1: gain,
        beta1: numeric.logits(0.1),
        Wq: numeric.weights(),
        Wk: numeric.weights(),
        Wv: numeric.weights(),
        Wo: numeric.weights(),
        gamma2: gain,
        beta2: numeric.logits(0.1),
        W1: numeric.weights(),
        b1: numeric.logits(0.1),
        W2: numeric.weights(),
        b2: numeric.logits(0.1),
        M: numeric.causal_mask(),
    }


SIZES = (
    {T: 2, n: 2, d: 1, e: 1, m: 1},
    {T: 3, n: 2, d: 1, e: 1, m: 2},
    {T: 2, n: 3, d: 2, e: 1, m: 1},
)
NUMERIC_SIZE = {T: 6, n: 8, d: 4, e: 4, m: 16}
# Where the steps and SymPy's diff are checked stage by stage (workbench.checks.network):
# every size varies across the sets, and within a set the sizes differ where they can,
# so that a transposed index or a swapped size shows; the last has T and n at least 5.
NETWORK_SIZES = (
    {T: 2, n: 3, d: 2, e: 1, m: 4},
    {T: 3, n: 2, d: 1, e: 2, m: 3},
    {T: 3, n: 4, d: 2, e: 3, m: 2},
    {T: 5, n: 6, d: 3, e: 2, m: 7},
)


def _case(name: str, activation: str) -> Case:
    """The block with φ = ``activation``: L = Σ G ∘ Y, every gradient at once.

    Written once with the block's names (the stages its code computes, each once) and
    expanded from that into the inputs for SymPy (:func:`expand_names_shared`), so the
    two cannot differ.
    """
    stages = {k: concrete(v, activation) for k, v in DEFINITIONS.items() if k != L}
    named_forward = _mul(sp.OneMatrix(1, T), sp.HadamardProduct(G, Y), ONES_N)
    named_gradients = tuple(concrete(CLOSED[w], activation) for w in WRT)
    forward, *gradients = expand_names_shared([named_forward, *named_gradients], stages)
    # The code's stages name attention's dP and dS as well (CODE_GRADIENTS): the same
    # forms, each computed once; written out they are the trees above.
    code = {**DEFINITIONS, **CODE_GRADIENTS}
    code_stages = {k: concrete(v, activation) for k, v in code.items() if k != L}
    code_gradients = tuple(concrete(CODE_CLOSED[w], activation) for w in WRT)
    return Case(
        name=name,
        forward=forward,
        wrt=WRT,
        gradients=tuple(gradients),
        samplers=_samplers(),
        sizes=SIZES,
        numeric_size=NUMERIC_SIZE,
        substitutions={eps: EPSILON, M: att.CausalMask(T)},
        stages=Stages(code_stages, named_forward, code_gradients),
    )


EXERCISES = (
    Exercise(
        prompt="Why does ∂L/∂X have two terms, and what would training a deep stack of blocks "
        "look like without the first?",
        solution="The residual $X_2 = X + \\mathrm{attention}(\\mathrm{LN}_1(X))$ gives X two "
        "paths to the loss: the skip path, which hands $\\partial L/\\partial X_2$ down "
        "unchanged, and the path through $H_1$. Without the skip path every block multiplies "
        "the gradient by its own Jacobian, and a product of many such factors shrinks or "
        "grows geometrically; with it the identity term carries the gradient to the first "
        "layer whatever the branches do.",
        source="Final phase: implement transformers (shared/seeds/002)",
    ),
    Exercise(
        prompt="Show that every row of $\\partial L/\\partial X - \\partial L/\\partial X_2$ sums "
        "to zero.",
        solution="That difference is LN₁'s backward pass applied to each row, "
        "$(g - \\bar g - \\hat x\\,\\overline{g\\hat x})/\\sqrt{\\sigma^2 + \\varepsilon}$, and "
        "$\\sum_j (g_j - \\bar g) = 0$ and $\\sum_j \\hat x_j = 0$. Adding a constant to a row "
        "of X changes nothing after LN₁, so only the skip path can see it.",
        source="Phase 3, Vector calculus: gradients, Jacobians (shared/seeds/003)",
    ),
    Exercise(
        prompt="Count the multiply-adds of the backward pass for T positions, width n, head "
        "width d = e = n and MLP width m = 4n, and compare with the forward pass.",
        solution="Forward: Q, K, V and the output projection cost $4Tn^2$, the scores and "
        "$PV$ $2T^2n$, the MLP $8Tn^2$: $12Tn^2 + 2T^2n$. Backward: every product appears twice "
        "(once for the input's gradient, once for the weight's), $24Tn^2 + 4T^2n$, about twice "
        "the forward pass, as for any network.",
        source="Final phase: mini-GPT (shared/seeds/002)",
    ),
)


def build() -> Derivation:
    results = derive()
    return Derivation(
        slug="transformer-block-backward",
        title="Transformer block backward",
        summary=(
            "The backward pass of one pre-norm transformer block, composed from results "
            "derived earlier: the MLP's backprop, layer norm's backward pass row by row, "
            "and the attention gradient, joined by the chain rule at the two residual "
            "connections. Every gradient a GPT needs for its blocks."
        ),
        conventions="Gradients, denominator layout: ∂L/∂W has the shape of W. Rows of X (T×n) "
        "are positions; weights multiply from the right (Q = H₁W_q). G = ∂L/∂Y is given "
        "(L = Σ G ∘ Y). Layer norms normalise each row (1/n variance, ε = 10⁻⁵); attention "
        "is causal (mask M lower triangular). dZ, dH₂, … name the gradients ∂L/∂Z, ∂L/∂H₂, ….",
        variables=(
            ("X, Y", "T×n input and output of the block"),
            ("γ₁, β₁, γ₂, β₂", "n×1 layer-norm gains and shifts"),
            ("H₁, H₂", "T×n layer-norm outputs"),
            ("x̂₁, x̂₂; σ²₁, σ²₂", "their normalised rows (T×n); row variances (T×1)"),
            ("W_q, W_k, W_v, W_o", "n×d, n×d, n×e, e×n attention projections"),
            ("Q, K, V, S, P, O", "queries, keys, values, scores, weights, attention output"),
            ("X₂", "T×n residual stream after attention: X₂ = X + O W_o"),
            ("W₁, b₁, W₂, b₂", "n×m, m×1, m×n, n×1 weights and biases of the MLP"),
            ("Z, U", "T×m pre-activations and activations U = φ(Z) (GELU, tanh form, in the case)"),
            ("G", "T×n upstream gradient ∂L/∂Y"),
        ),
        definitions=DEFINITIONS,
        results=results,
        cases=(_case("GELU", "gelu"),),
        exercises=EXERCISES,
        domain={"epsilon": (0.5, 2.0)},
        network=Network(L, NETWORK_SIZES, {M: att.CausalMask(T)}),
    )
