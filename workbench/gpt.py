"""A tiny character-level GPT trained on nothing but the derived, verified gradients.

Token and position embeddings, transformer blocks, a final layer norm, an unembedding
and cross-entropy. Every gradient comes from generated NumPy
(:mod:`workbench.codegen.staged`) printed from the definitions and closed forms of
``transformer-block-backward`` (the block), ``layernorm-backward`` and
``cross-entropy-gradient`` (the head: ∂L/∂logits = softmax − y); the optimiser is Adam
with the moment recurrences and bias corrections of ``adam-bias-correction``, compiled
from those SymPy expressions. Nothing here differentiates by hand.

A root module of the package, above every layer: it uses the generated code and the
derivations' content, and no layer imports it (see :mod:`tests.workbench.test_layers`).

Example:
    >>> model = TinyGPT(GPTConfig(vocab=5, context=4, width=8, mlp=16, blocks=1), seed=0)
    >>> tokens = np.array([[0, 1, 2, 3, 4]])
    >>> loss, grads = model.loss_and_gradients(tokens[:, :-1], tokens[:, 1:])
    >>> round(float(loss), 1) > 0 and set(grads) == set(model.params)
    True
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache

import numpy as np
import sympy as sp

from derivations import adam_bias_correction as adam
from derivations import transformer_block_backward as tb
from workbench.codegen.staged import compile_stages, stage_order
from workbench.core.functions import Elementwise, LogSoftmax, Softmax

BLOCK_PARAMETERS = tuple(w.name for w in tb.PARAMETERS)
HEAD_PARAMETERS = ("gamma_f", "beta_f", "W_u")


@dataclass(frozen=True)
class GPTConfig:
    """Sizes of the model: vocabulary, context length T, width n, MLP width m, blocks."""

    vocab: int
    context: int = 64
    width: int = 64
    mlp: int = 256
    blocks: int = 2
    dtype: str = "float64"


# ---------------------------------------------------------------- generated code
def _concrete(expr):
    """ε = 10⁻⁵ and φ = GELU (tanh form), as in the derivation's numeric case."""
    expr = sp.sympify(expr).xreplace({tb.eps: tb.EPSILON})
    return expr.replace(
        lambda x: isinstance(x, Elementwise) and x.name in ("phi", "phi_prime"),
        lambda x: Elementwise(x.name.replace("phi", "gelu"), x.arg),
    )


BLOCK_ARGS = tuple(tb._samplers())  # X, G, the parameters, M
SLOPE = sp.MatrixSymbol("gelu_prime_Z", tb.T, tb.m)  # φ′(Z), kept by the forward pass


@cache
def block_functions(context: int, width: int, mlp: int):
    """(forward, forward-and-backward) of one block, generated at these sizes.

    The second returns Y, ∂L/∂X and every parameter's gradient, given G = ∂L/∂Y. Both take
    one sequence (T×n) or a batch (B×T×n); a parameter's gradient then comes per sequence.
    """
    sizes, definitions = _block_setting(context, width, mlp)
    forward = compile_stages(BLOCK_ARGS, definitions, [tb.Y], sizes, batched=True)
    gradients = [tb.Y, *(_concrete(tb.CODE_CLOSED[w]) for w in tb.WRT)]
    backward = compile_stages(BLOCK_ARGS, definitions, gradients, sizes, batched=True)
    return forward, backward


@cache
def block_step_functions(context: int, width: int, mlp: int):
    """(forward, backward) of one block for training, generated at these sizes: the
    forward returns Y and every stage it computed (:func:`forward_stages`), and the
    backward takes them after the block's arguments instead of computing the forward pass
    again. The backward returns ∂L/∂X per sequence and each parameter's gradient summed
    over the batch."""
    sizes, definitions = _block_setting(context, width, mlp)
    # GELU's slope φ′(Z) is computed in the forward pass, from the tanh that gives U.
    slope = Elementwise("gelu_prime", tb.Z)
    definitions = {k: v.xreplace({slope: SLOPE}) for k, v in definitions.items()}
    definitions[SLOPE] = slope
    saved = (*forward_stages(), SLOPE)
    forward = compile_stages(BLOCK_ARGS, definitions, [tb.Y, *saved], sizes, batched=True)
    gradients = [_concrete(tb.CODE_CLOSED[w]).xreplace({slope: SLOPE}) for w in tb.WRT]
    # ∂L/∂X per sequence, each weight's gradient summed over the batch.
    totals = [w in tb.PARAMETERS for w in tb.WRT]
    backward = compile_stages(
        (*BLOCK_ARGS, *saved), definitions, gradients, sizes, batched=True, totals=totals
    )
    return forward, backward


def _block_setting(context: int, width: int, mlp: int) -> tuple[dict, dict]:
    """The block's sizes and its definitions made concrete (ε, φ = GELU), L left out, with
    the gradients' code forms (attention's dP and dS named, each computed once)."""
    sizes = {tb.T: context, tb.n: width, tb.d: width, tb.e: width, tb.m: mlp}
    named = {**tb.DEFINITIONS, **tb.CODE_GRADIENTS}
    definitions = {k: _concrete(v) for k, v in named.items() if k != tb.L}
    return sizes, definitions


def forward_stages() -> tuple[sp.MatrixSymbol, ...]:
    """The block's forward stages (H₁, Q, …, Z, U, F), in the order they are computed."""
    forward = {k: v for k, v in tb.DEFINITIONS.items() if k != tb.L}
    return tuple(s for s in stage_order(forward, [tb.Y]) if s != tb.Y)


# The head: final layer norm (the block's row-wise definitions), unembedding W_u, and the
# mean cross-entropy over positions against one-hot targets Y_t.
V_SIZE = sp.Symbol("V", integer=True, positive=True)
Xf, Yt = sp.MatrixSymbol("X_f", tb.T, tb.n), sp.MatrixSymbol("Y_t", tb.T, V_SIZE)
gamma_f, beta_f = sp.MatrixSymbol("gamma_f", tb.n, 1), sp.MatrixSymbol("beta_f", tb.n, 1)
Wu = sp.MatrixSymbol("W_u", tb.n, V_SIZE)
mu_f, var_f = sp.MatrixSymbol("mu_f", tb.T, 1), sp.MatrixSymbol("sigma_sq_f", tb.T, 1)
xhat_f, H_f = sp.MatrixSymbol("xhat_f", tb.T, tb.n), sp.MatrixSymbol("H_f", tb.T, tb.n)
logits, d_logits = sp.MatrixSymbol("logits", tb.T, V_SIZE), sp.MatrixSymbol("dlogits", tb.T, V_SIZE)
d_hf = sp.MatrixSymbol("dH_f", tb.T, tb.n)


@cache
def head_function(context: int, width: int, vocab: int):
    """Loss (summed over positions), ∂/∂X_f, ∂/∂γ_f, ∂/∂β_f, ∂/∂W_u for one sequence, or
    for a batch (B×T×n): ∂/∂X_f per sequence, the loss and the rest summed over it."""
    definitions = {
        **tb._layer_norm_definitions(Xf, mu_f, var_f, xhat_f, H_f, gamma_f, beta_f),
        logits: H_f * Wu,
        # cross-entropy-gradient: ∂L/∂z = softmax(z) − y, row by row.
        d_logits: Softmax(logits, axis=1) - Yt,
        d_hf: d_logits * Wu.T,
    }
    definitions = {k: _concrete(v) for k, v in definitions.items()}
    ones_t, ones_v = sp.OneMatrix(tb.T, 1), sp.OneMatrix(V_SIZE, 1)
    loss = -(ones_t.T * sp.HadamardProduct(Yt, LogSoftmax(logits, axis=1)) * ones_v)
    outputs = [
        loss,
        _concrete(tb.layer_norm_backward(d_hf, xhat_f, var_f, gamma_f)),
        sp.HadamardProduct(d_hf, xhat_f).T * ones_t,
        d_hf.T * ones_t,
        H_f.T * d_logits,
    ]
    sizes = {tb.T: context, tb.n: width, V_SIZE: vocab}
    args = (Xf, Yt, gamma_f, beta_f, Wu)
    totals = (True, False, True, True, True)  # the loss and the weights' gradients
    return compile_stages(args, definitions, outputs, sizes, batched=True, totals=totals)


@cache
def adam_update():
    """Adam's step compiled from the derivation's recurrences and bias corrections.

    m ← β₁m + (1 − β₁)g, v ← β₂v + (1 − β₂)g², θ ← θ − α m̂/(√v̂ + ε) with
    m̂ = m/(1 − β₁ᵗ) and v̂ = v/(1 − β₂ᵗ), the factors E[mₜ]/E[g] and E[vₜ]/E[g²] derived
    in ``adam-bias-correction``.
    """
    theta, g, m_prev, v_prev, lr, eps_ = sp.symbols("theta g m v lr eps")
    m_update, v_update = adam.m.update, adam.v.update
    x, _ = m_update.variables
    m_new = m_update.expr.xreplace({x: m_prev}).replace(adam.grad, lambda _: g)
    x, _ = v_update.variables
    v_new = v_update.expr.xreplace({x: v_prev}).replace(adam.grad_sq, lambda _: g**2)
    bias_m = sp.cancel(adam.MEAN_M / adam.gamma)  # 1 − β₁ᵗ
    bias_v = sp.cancel(adam.MEAN_V / adam.s)  # 1 − β₂ᵗ
    step = lr * (m_new / bias_m) / (sp.sqrt(v_new / bias_v) + eps_)
    symbols = (theta, g, m_prev, v_prev, adam.t, lr, adam.beta1, adam.beta2, eps_)
    return sp.lambdify(symbols, (theta - step, m_new, v_new), modules="numpy")


# ---------------------------------------------------------------- the model
class TinyGPT:
    """Parameters as NumPy arrays, shapes as in the derivation (gains are n×1 columns)."""

    def __init__(self, config: GPTConfig, seed: int = 0):
        self.config = config
        c = config
        rng = np.random.default_rng(seed)
        dtype = np.dtype(c.dtype)

        def normal(*shape, scale):
            return (scale * rng.standard_normal(shape)).astype(dtype)

        params = {
            "token_embedding": normal(c.vocab, c.width, scale=0.1),
            "position_embedding": normal(c.context, c.width, scale=0.1),
        }
        for b in range(c.blocks):
            for name, shape in _block_shapes(c).items():
                if name.startswith("gamma"):
                    params[f"{b}.{name}"] = np.ones(shape, dtype)
                elif name.startswith(("beta", "b1", "b2")):
                    params[f"{b}.{name}"] = np.zeros(shape, dtype)
                else:
                    params[f"{b}.{name}"] = normal(*shape, scale=1 / np.sqrt(shape[0]))
        params["gamma_f"] = np.ones((c.width, 1), dtype)
        params["beta_f"] = np.zeros((c.width, 1), dtype)
        params["W_u"] = normal(c.width, c.vocab, scale=1 / np.sqrt(c.width))
        self.params = params
        self.mask = np.tril(np.ones((c.context, c.context), dtype))

    def loss_and_gradients(self, inputs: np.ndarray, targets: np.ndarray):
        """Mean cross-entropy over a batch (B×T token ids) and every parameter's gradient."""
        c, p = self.config, self.params
        batch, length = inputs.shape
        forward, backward = block_step_functions(length, c.width, c.mlp)
        head = head_function(length, c.width, c.vocab)
        mask = self.mask[:length, :length]
        scale = 1.0 / (batch * length)
        eye = np.eye(c.vocab, dtype=p["W_u"].dtype)
        # The whole batch at once: the generated code takes B×T×n arrays (the weights are
        # shared) and returns each weight's gradient already summed over the batch.
        onehot = eye[inputs]
        x = onehot @ p["token_embedding"] + p["position_embedding"][:length]
        stream, saved = [x], []
        for b in range(c.blocks):
            x, *stages = forward(x, np.zeros_like(x), *self._block(b), mask)
            stream.append(x)
            saved.append(stages)
        loss, d_x, d_gf, d_bf, d_wu = head(x, eye[targets], *self._head())
        total = float(np.sum(loss)) * scale
        grads = {
            name: scale * g for name, g in zip(HEAD_PARAMETERS, (d_gf, d_bf, d_wu), strict=True)
        }
        upstream = scale * d_x
        for b in reversed(range(c.blocks)):
            args = (stream[b], upstream, *self._block(b), mask, *saved[b])
            upstream, *block_grads = backward(*args)
            for name, g in zip(BLOCK_PARAMETERS, block_grads, strict=True):
                grads[f"{b}.{name}"] = g
        # The embeddings: X₀ = onehot·E + P, so ∂L/∂E = onehotᵀ ∂L/∂X₀ and ∂L/∂P = ∂L/∂X₀.
        grads["token_embedding"] = onehot.reshape(-1, c.vocab).T @ upstream.reshape(-1, c.width)
        grads["position_embedding"] = np.zeros_like(p["position_embedding"])
        grads["position_embedding"][:length] = upstream.sum(axis=0)
        grads = {k: grads[k] for k in p}  # the parameters' order
        return total, grads

    def _block(self, b: int) -> list[np.ndarray]:
        return [self.params[f"{b}.{name}"] for name in BLOCK_PARAMETERS]

    def _head(self) -> list[np.ndarray]:
        return [self.params[name] for name in HEAD_PARAMETERS]

    def logits(self, tokens: np.ndarray) -> np.ndarray:
        """Next-token logits after the last of ``tokens`` (at most ``context`` of them).

        The window is padded on the right to the full context, so one generated function
        serves every length: with the causal mask no position sees the padding after it.
        """
        c, p = self.config, self.params
        length = len(tokens)
        forward, _ = block_functions(c.context, c.width, c.mlp)
        padded = np.zeros(c.context, dtype=np.int64)
        padded[:length] = tokens
        x = p["token_embedding"][padded] + p["position_embedding"]
        for b in range(c.blocks):
            x = forward(x, np.zeros_like(x), *self._block(b), self.mask)[0]
        h = (x - x.mean(1, keepdims=True)) / np.sqrt(x.var(1, keepdims=True) + 1e-5)
        h = h * p["gamma_f"].T + p["beta_f"].T
        return (h @ p["W_u"])[length - 1]

    def sample(self, prompt: list[int], count: int, rng: np.random.Generator, temperature=0.8):
        """Draw ``count`` tokens after ``prompt``, one at a time."""
        tokens = list(prompt)
        for _ in range(count):
            window = np.array(tokens[-self.config.context :])
            z = self.logits(window) / temperature
            probs = np.exp(z - z.max())
            tokens.append(int(rng.choice(len(probs), p=probs / probs.sum())))
        return tokens


def _block_shapes(c: GPTConfig) -> dict[str, tuple[int, int]]:
    n, m = c.width, c.mlp
    return {
        "gamma1": (n, 1), "beta1": (n, 1), "W_q": (n, n), "W_k": (n, n), "W_v": (n, n),
        "W_o": (n, n), "gamma2": (n, 1), "beta2": (n, 1), "W1": (n, m), "b1": (m, 1),
        "W2": (m, n), "b2": (n, 1),
    }  # fmt: skip


@dataclass(frozen=True)
class Adam:
    """Adam's settings; :meth:`step` applies the compiled update to every parameter."""

    lr: float = 3e-3
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8

    def state(self, params: dict) -> dict:
        return {k: (np.zeros_like(v), np.zeros_like(v)) for k, v in params.items()}

    def step(self, params: dict, grads: dict, state: dict, t: int) -> None:
        update = adam_update()
        for name, value in params.items():
            m, v = state[name]
            new, m, v = update(
                value, grads[name], m, v, t, self.lr, self.beta1, self.beta2, self.eps
            )
            params[name] = np.asarray(new, dtype=value.dtype)
            state[name] = (m, v)


# ---------------------------------------------------------------- training
def train(
    model: TinyGPT,
    ids: np.ndarray,
    steps: int,
    batch: int = 16,
    optimiser: Adam | None = None,
    seed: int = 0,
    on_step: Callable[[int, float], None] | None = None,
) -> list[float]:
    """Adam on random windows of ``ids`` for ``steps`` steps, in place; the loss of each
    step's batch. ``on_step(step, loss)`` is called after every step (a progress bar)."""
    optimiser = optimiser or Adam()
    state = optimiser.state(model.params)
    data = batches(ids, batch, model.config.context, seed)
    losses = []
    for step in range(steps):
        x, y = next(data)
        loss, grads = model.loss_and_gradients(x, y)
        optimiser.step(model.params, grads, state, step + 1)
        losses.append(float(loss))
        if on_step is not None:
            on_step(step, float(loss))
    return losses


def print_every(steps: int) -> Callable[[int, float], None]:
    """An ``on_step`` for :func:`train` that prints the step and its loss every ``steps``."""
    if steps < 1:
        raise ValueError(f"print every {steps} steps: give a whole number of steps, 1 or more")

    def show(step: int, loss: float) -> None:
        if step % steps == 0:
            print(f"step {step:4d}  loss {loss:.3f}")

    return show


def loss_figure(losses: list[float], entropy: float):
    """The training loss against the step, with the text's unigram entropy: the loss of
    the best model that ignores context, which a model that learnt anything goes below."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6, 3.5))
    ax = fig.add_subplot()
    ax.plot(losses, lw=0.8, label="training loss (batch)")
    ax.axhline(entropy, color="k", ls="--", lw=1, label=f"unigram entropy {entropy:.2f}")
    ax.set_xlabel("step")
    ax.set_ylabel("cross-entropy (nats/char)")
    ax.legend()
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------- data
def encode(text: str) -> tuple[list[str], np.ndarray]:
    """The characters of ``text`` (sorted) and the text as their indices."""
    chars = sorted(set(text))
    index = {ch: i for i, ch in enumerate(chars)}
    return chars, np.array([index[ch] for ch in text], dtype=np.int64)


def unigram_entropy(ids: np.ndarray) -> float:
    """H = −Σ p log p of the character frequencies, in nats: the loss of the best model
    that ignores context."""
    counts = np.bincount(ids).astype(float)
    probs = counts[counts > 0] / counts.sum()
    return float(-(probs * np.log(probs)).sum())


def batches(ids: np.ndarray, batch: int, context: int, seed: int) -> Iterator[tuple]:
    """Random windows: (inputs, targets) with targets the inputs shifted by one."""
    rng = np.random.default_rng(seed)
    while True:
        starts = rng.integers(0, len(ids) - context - 1, size=batch)
        x = np.stack([ids[s : s + context] for s in starts])
        y = np.stack([ids[s + 1 : s + context + 1] for s in starts])
        yield x, y


# ---------------------------------------------------------------- the same model in PyTorch
def torch_loss(params: dict, inputs, targets, config: GPTConfig):
    """The model written with PyTorch operations, for autograd to differentiate (float64)."""
    import torch
    import torch.nn.functional as F

    c = config
    p = params
    length = inputs.shape[1]
    x = p["token_embedding"][inputs] + p["position_embedding"][:length]
    mask = torch.tril(torch.ones(length, length, dtype=torch.bool))

    def norm(h, gain, shift):
        return F.layer_norm(h, (c.width,), gain.reshape(-1), shift.reshape(-1), eps=1e-5)

    for b in range(c.blocks):
        w = {name: p[f"{b}.{name}"] for name in BLOCK_PARAMETERS}
        h = norm(x, w["gamma1"], w["beta1"])
        q, k, v = h @ w["W_q"], h @ w["W_k"], h @ w["W_v"]
        scores = (q @ k.transpose(-1, -2)) / np.sqrt(c.width)
        attn = torch.softmax(scores.masked_fill(~mask, float("-inf")), dim=-1)
        x = x + (attn @ v) @ w["W_o"]
        h = norm(x, w["gamma2"], w["beta2"])
        u = F.gelu(h @ w["W1"] + w["b1"].reshape(-1), approximate="tanh")
        x = x + u @ w["W2"] + w["b2"].reshape(-1)
    h = norm(x, p["gamma_f"], p["beta_f"])
    out = h @ p["W_u"]
    return F.cross_entropy(out.reshape(-1, c.vocab), targets.reshape(-1))
