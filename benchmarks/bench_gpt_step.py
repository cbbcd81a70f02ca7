"""One training step of the tiny GPT (B = 16, T = 64, n = 64, 2 blocks), side by side.

Generated NumPy (workbench.gpt, the derived gradients), hand-written batched NumPy,
PyTorch eager and torch.compile (when it works here), each at one and at two threads
(a fresh process per thread count, so the BLAS pools start with the setting).

    python benchmarks/bench_gpt_step.py
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
from common import seconds, table, write

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

B, T, N, M_WIDTH, BLOCKS, VOCAB = 16, 64, 64, 256, 2, 60


def _best(run, repeats=5) -> float:
    run()  # warm: code generation, compilation, caches
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def _hand_written(params, x_ids, y_ids):
    """The same loss and gradients written by hand over the whole batch (B×T×n)."""
    p, g = params, {k: np.zeros_like(v) for k, v in params.items()}
    eps, scale = 1e-5, 1 / np.sqrt(N)
    mask = np.tril(np.ones((T, T), bool))

    def ln(x, gain, shift):
        mu = x.mean(-1, keepdims=True)
        inv = 1 / np.sqrt(x.var(-1, keepdims=True) + eps)
        xh = (x - mu) * inv
        return xh * gain.T + shift.T, (xh, inv)

    def ln_back(dy, gain, cache):
        xh, inv = cache
        dxh = dy * gain.T
        return inv * (dxh - dxh.mean(-1, keepdims=True) - xh * (dxh * xh).mean(-1, keepdims=True))

    c = np.sqrt(2 / np.pi)
    x = p["token_embedding"][x_ids] + p["position_embedding"]
    caches = []
    for b in range(BLOCKS):
        w = {k.split(".", 1)[1]: v for k, v in p.items() if k.startswith(f"{b}.")}
        h1, c1 = ln(x, w["gamma1"], w["beta1"])
        q, k, v = h1 @ w["W_q"], h1 @ w["W_k"], h1 @ w["W_v"]
        s = np.where(mask, q @ k.transpose(0, 2, 1) * scale, -np.inf)
        att = np.exp(s - s.max(-1, keepdims=True))
        att /= att.sum(-1, keepdims=True)
        o = att @ v
        x2 = x + o @ w["W_o"]
        h2, c2 = ln(x2, w["gamma2"], w["beta2"])
        z = h2 @ w["W1"] + w["b1"].T
        t = np.tanh(c * (z + 0.044715 * (z * z * z)))  # z**3 is ~100× slower in NumPy
        u = 0.5 * z * (1 + t)
        caches.append((x, h1, c1, q, k, v, att, o, x2, h2, c2, z, t, u, w))
        x = x2 + u @ w["W2"] + w["b2"].T
    hf, cf = ln(x, p["gamma_f"], p["beta_f"])
    logits = hf @ p["W_u"]
    shifted = logits - logits.max(-1, keepdims=True)
    probs = np.exp(shifted)
    probs /= probs.sum(-1, keepdims=True)
    loss = -np.mean(np.log(np.take_along_axis(probs, y_ids[..., None], -1)))
    dlogits = probs
    np.put_along_axis(
        dlogits, y_ids[..., None], np.take_along_axis(probs, y_ids[..., None], -1) - 1, -1
    )
    dlogits /= B * T
    g["W_u"] = np.einsum("btn,btv->nv", hf, dlogits)
    dhf = dlogits @ p["W_u"].T
    g["gamma_f"] = (dhf * cf[0]).sum((0, 1))[:, None]
    g["beta_f"] = dhf.sum((0, 1))[:, None]
    dx = ln_back(dhf, p["gamma_f"], cf)
    for b in reversed(range(BLOCKS)):
        _, h1, c1, q, k, v, att, o, _, h2, c2, z, t, u, w = caches[b]
        pre = f"{b}."
        g[pre + "W2"] = np.einsum("btm,btn->mn", u, dx)
        g[pre + "b2"] = dx.sum((0, 1))[:, None]
        du = dx @ w["W2"].T
        dz = du * (0.5 * (1 + t) + 0.5 * z * (1 - t**2) * c * (1 + 3 * 0.044715 * z**2))
        g[pre + "W1"] = np.einsum("btn,btm->nm", h2, dz)
        g[pre + "b1"] = dz.sum((0, 1))[:, None]
        dh2 = dz @ w["W1"].T
        g[pre + "gamma2"] = (dh2 * c2[0]).sum((0, 1))[:, None]
        g[pre + "beta2"] = dh2.sum((0, 1))[:, None]
        dx2 = dx + ln_back(dh2, w["gamma2"], c2)
        g[pre + "W_o"] = np.einsum("bte,btn->en", o, dx2)
        do = dx2 @ w["W_o"].T
        datt = do @ v.transpose(0, 2, 1)
        ds = att * (datt - (datt * att).sum(-1, keepdims=True)) * scale
        dq, dk, dv = ds @ k, ds.transpose(0, 2, 1) @ q, att.transpose(0, 2, 1) @ do
        for name, d in (("W_q", dq), ("W_k", dk), ("W_v", dv)):
            g[pre + name] = np.einsum("btn,btd->nd", h1, d)
        dh1 = dq @ w["W_q"].T + dk @ w["W_k"].T + dv @ w["W_v"].T
        g[pre + "gamma1"] = (dh1 * c1[0]).sum((0, 1))[:, None]
        g[pre + "beta1"] = dh1.sum((0, 1))[:, None]
        dx = dx2 + ln_back(dh1, w["gamma1"], c1)
    np.add.at(g["token_embedding"], x_ids, dx)
    g["position_embedding"] = dx.sum(0)
    return loss, g


def _products(backend):
    """The matrix products of one training step alone (the shapes the generated code
    multiplies, per block and in the head), in NumPy or in PyTorch: how much of the gap
    between the two is the matrix-product library's, not the code's."""
    rng = np.random.default_rng(1)
    bt, d, m = (B, T, N), N, M_WIDTH

    def a(*shape):
        x = rng.standard_normal(shape)
        return x if backend is np else backend.tensor(x)

    tn, tm, tt = a(*bt), a(B, T, m), a(B, T, T)
    nn, nm, mn, nv = a(d, d), a(d, m), a(m, d), a(d, VOCAB)
    rows_n, rows_m, rows_v, tv = a(B * T, d), a(B * T, m), a(B * T, VOCAB), a(B, T, VOCAB)
    tnt = tn.transpose(-1, -2) if backend is not np else tn.transpose(0, 2, 1)
    ttt = tt.transpose(-1, -2) if backend is not np else tt.transpose(0, 2, 1)

    def run():
        for _ in range(BLOCKS):
            for _ in range(4 + 1 + 3):  # Q, K, V, O W_o; dO; dH₁'s three
                tn @ nn
            tn @ tnt, tt @ tn, tn @ nm, tm @ mn  # S, O = PV, Z, F
            tn @ mn.T, tm @ nm.T, tn @ tnt  # ∂L/∂U = GW₂ᵀ, ∂L/∂H₂ = dZ W₁ᵀ, dP
            tt @ tn, ttt @ tn, ttt @ tn  # dQ, dK, dV
            for _ in range(4):  # the four attention weights' gradients
                rows_n.T @ rows_n
            rows_n.T @ rows_m, rows_m.T @ rows_n  # W₁, W₂
        tn @ nv, tv @ nv.T, rows_n.T @ rows_v  # the head: logits, ∂L/∂H_f, ∂L/∂W_u

    return run


def measure() -> dict:
    import torch

    from workbench import gpt

    threads = int(os.environ["OMP_NUM_THREADS"])
    torch.set_num_threads(threads)
    config = gpt.GPTConfig(vocab=VOCAB, context=T, width=N, mlp=M_WIDTH, blocks=BLOCKS)
    model = gpt.TinyGPT(config, seed=0)
    rng = np.random.default_rng(0)
    x = rng.integers(0, VOCAB, size=(B, T))
    y = rng.integers(0, VOCAB, size=(B, T))
    loss, grads = model.loss_and_gradients(x, y)
    hand_loss, hand = _hand_written(model.params, x, y)
    agree = max(float(np.max(np.abs(grads[k] - hand[k])) / np.max(np.abs(grads[k]))) for k in grads)
    params = {k: torch.tensor(v, requires_grad=True) for k, v in model.params.items()}
    tx, ty = torch.tensor(x), torch.tensor(y)

    def eager():
        for v in params.values():
            v.grad = None
        gpt.torch_loss(params, tx, ty, config).backward()

    out = {
        "threads": threads,
        "generated NumPy": _best(lambda: model.loss_and_gradients(x, y)),
        "hand-written NumPy": _best(lambda: _hand_written(model.params, x, y)),
        "PyTorch eager": _best(eager),
        "matrix products alone, NumPy": _best(_products(np)),
        "matrix products alone, PyTorch": _best(_products(torch)),
        "hand vs generated (max rel)": agree,
        "loss difference": abs(loss - hand_loss),
    }
    try:
        compiled = torch.compile(lambda: gpt.torch_loss(params, tx, ty, config))

        def run_compiled():
            for v in params.values():
                v.grad = None
            compiled().backward()

        out["torch.compile"] = _best(run_compiled)
    except Exception as exc:
        out["torch.compile"] = f"failed: {type(exc).__name__}"
    return out


def main() -> int:
    if os.environ.get("BENCH_GPT_CHILD"):
        print(json.dumps(measure()))
        return 0
    rows = []
    for threads in (1, 2):
        env = dict(os.environ, OMP_NUM_THREADS=str(threads), BENCH_GPT_CHILD="1")
        env.update(MKL_NUM_THREADS=str(threads), OPENBLAS_NUM_THREADS=str(threads))
        done = subprocess.run(
            [sys.executable, __file__], env=env, capture_output=True, text=True, check=True
        )
        rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
    names = [
        "generated NumPy",
        "hand-written NumPy",
        "PyTorch eager",
        "torch.compile",
        "matrix products alone, NumPy",
        "matrix products alone, PyTorch",
    ]
    print(f"one training step, B={B} T={T} n={N} m={M_WIDTH} blocks={BLOCKS} (float64, best of 5)")
    print(f"{'':32}" + "".join(f"{r['threads']} thread(s)".rjust(16) for r in rows))
    for name in names:
        cells = [r[name] for r in rows]
        text = [f"{c * 1e3:10.1f} ms" if isinstance(c, float) else str(c)[:15] for c in cells]
        print(f"{name:32}" + "".join(t.rjust(16) for t in text))
    agree = rows[0]["hand vs generated (max rel)"]
    print(f"hand-written vs generated gradients: max relative difference {agree:.1e}")
    eager, generated = rows[0]["PyTorch eager"], rows[0]["generated NumPy"]
    ratio = generated / eager
    met = "met" if ratio <= 1 else "NOT met"
    products = rows[0]["matrix products alone, NumPy"] / rows[0]["matrix products alone, PyTorch"]
    rest = (
        generated - rows[0]["matrix products alone, NumPy"],
        eager - rows[0]["matrix products alone, PyTorch"],
    )
    split = (
        f"one thread: generated {ratio:.2f}× eager; the same matrix products alone, NumPy "
        f"{products:.2f}× PyTorch; the step less its products, {rest[0] * 1e3:.1f} ms "
        f"against {rest[1] * 1e3:.1f} ms"
    )
    print(textwrap.fill(split, 80))
    body = table(
        ["one training step", *(f"{r['threads']} thread(s)" for r in rows)],
        [
            [
                name,
                *(seconds(r[name]) if isinstance(r[name], float) else r[name][:30] for r in rows),
            ]
            for name in names
        ],
    )
    body += (
        f"\n\n- goal: generated NumPy no slower than PyTorch eager at one thread: {met} "
        f"({ratio:.2f}× eager)\n- {split}\n"
        f"- B={B}, T={T}, n={N}, m={M_WIDTH}, {BLOCKS} blocks, float64, "
        f"best of 5; hand-written vs generated gradients: max relative difference {agree:.1e}"
    )
    write("bench_gpt_step", "One training step of the tiny GPT", body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
