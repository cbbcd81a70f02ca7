"""Generated gradient code against hand-written NumPy, PyTorch (CPU) autograd and `autograd`.

Three problems at realistic sizes, each timed for every competitor in the same run:

* softmax cross-entropy over a batch of 256 × 1000 logits (∂L/∂Z);
* a 784-256-10 tanh network on a batch of 128 (∂L/∂W₂, b₂, W₁, b₁);
* single-head attention at T = 256, d = 64 (∂L/∂Q, K, V for L = Σ G ∘ O).

"generated" is the closed form of the catalogue case lambdified by the workbench
(`numeric.compile_numpy_all`: every gradient of a case in one function, common
subexpressions shared); "generated, before" is how it was generated before this work
(one function per gradient, SymPy's product printing, no rewrites). The autodiff peers
run forward plus backward, as they must to produce a gradient. Everything is float64,
and every result is checked against the hand-written NumPy before it is timed.
Goal: generated within 1.2× of hand-written NumPy, and faster than PyTorch.

    python benchmarks/bench_codegen.py          # needs the `bench` extra (torch, autograd)
"""

from __future__ import annotations

from functools import partial

import numpy as np
from common import best_of, figure, save, seconds, table, write

GOAL_NUMPY_RATIO = 1.2


# ---------------------------------------------------------------- hand-written NumPy
def softmax_rows(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def numpy_cross_entropy(Z, Y):
    return ((softmax_rows(Z) - Y) / Z.shape[0],)


def numpy_net(X, W1, b1, W2, b2, Y):
    H = np.tanh(X @ W1.T + b1.T)
    D2 = (softmax_rows(H @ W2.T + b2.T) - Y) / X.shape[0]
    D1 = (D2 @ W2) * (1.0 - H * H)
    return D2.T @ H, D2.sum(axis=0)[:, None], D1.T @ X, D1.sum(axis=0)[:, None]


def numpy_attention(Q, K, V, G):
    scale = 1.0 / np.sqrt(Q.shape[1])
    P = softmax_rows((Q @ K.T) * scale)
    dP = G @ V.T
    dS = P * (dP - (dP * P).sum(axis=1, keepdims=True))
    return (dS @ K) * scale, (dS.T @ Q) * scale, P.T @ G


# ---------------------------------------------------------------- PyTorch
def torch_functions():
    import torch

    def cross_entropy(Z, Y):
        loss = -(Y * torch.log_softmax(Z, dim=1)).sum() / Z.shape[0]
        return torch.autograd.grad(loss, [Z])

    def net(X, W1, b1, W2, b2, Y):
        H = torch.tanh(X @ W1.T + b1.T)
        loss = -(Y * torch.log_softmax(H @ W2.T + b2.T, dim=1)).sum() / X.shape[0]
        return torch.autograd.grad(loss, [W2, b2, W1, b1])

    def attention(Q, K, V, G):
        P = torch.softmax((Q @ K.T) / Q.shape[1] ** 0.5, dim=1)
        return torch.autograd.grad((G * (P @ V)).sum(), [Q, K, V])

    return {"cross-entropy": cross_entropy, "net": net, "attention": attention}


def as_torch(arrays, differentiated):
    import torch

    return [
        torch.tensor(a, dtype=torch.float64, requires_grad=i in differentiated)
        for i, a in enumerate(arrays)
    ]


# ---------------------------------------------------------------- autograd (HIPS)
def autograd_functions():
    import autograd.numpy as anp
    from autograd import grad
    from autograd.scipy.special import logsumexp

    def log_softmax_rows(z):
        return z - logsumexp(z, axis=1, keepdims=True)

    def ce_loss(Z, Y):
        return -anp.sum(Y * log_softmax_rows(Z)) / Z.shape[0]

    def net_loss(W2, b2, W1, b1, X, Y):
        H = anp.tanh(anp.dot(X, W1.T) + b1.T)
        return -anp.sum(Y * log_softmax_rows(anp.dot(H, W2.T) + b2.T)) / X.shape[0]

    def attention_loss(Q, K, V, G):
        S = anp.dot(Q, K.T) / anp.sqrt(Q.shape[1])
        P = anp.exp(log_softmax_rows(S))
        return anp.sum(G * anp.dot(P, V))

    ce = grad(ce_loss, 0)
    net = grad(net_loss, (0, 1, 2, 3))
    attention = grad(attention_loss, (0, 1, 2))
    return {
        "cross-entropy": lambda Z, Y: (ce(Z, Y),),
        "net": lambda X, W1, b1, W2, b2, Y: net(W2, b2, W1, b1, X, Y),
        "attention": attention,
    }


# ---------------------------------------------------------------- the problems
def problems():
    """(name, slug, case name, sizes, inputs in the case's order, hand-written NumPy)."""
    import derivations.attention_gradient as ag
    import derivations.cross_entropy_gradient as ce
    import derivations.two_layer_backprop as tl

    rng = np.random.default_rng(0)

    def one_hot(rows, classes):
        return np.eye(classes)[rng.integers(classes, size=rows)]

    B, C = 256, 1000
    ce_inputs = [2.0 * rng.standard_normal((B, C)), one_hot(B, C)]
    b, d, m, n = 128, 784, 256, 10
    net_inputs = [
        rng.standard_normal((b, d)),
        rng.standard_normal((m, d)) / np.sqrt(d),
        0.1 * rng.standard_normal((m, 1)),
        rng.standard_normal((n, m)) / np.sqrt(m),
        0.1 * rng.standard_normal((n, 1)),
        one_hot(b, n),
    ]
    T, dk = 256, 64
    attention_inputs = [rng.standard_normal((T, dk)) for _ in range(4)]
    return [
        (
            "softmax cross-entropy, 256 × 1000",
            "cross-entropy",
            "cross-entropy-gradient",
            "batch mean",
            {ce.B: B, ce.n: C},
            ce_inputs,
            numpy_cross_entropy,
            (0,),
        ),
        (
            "784-256-10 tanh net, batch 128",
            "net",
            "two-layer-backprop",
            "batch (tanh)",
            {tl.B: b, tl.d: d, tl.m: m, tl.n: n},
            net_inputs,
            numpy_net,
            (1, 2, 3, 4),
        ),
        (
            "attention, T = 256, d = 64",
            "attention",
            "attention-gradient",
            "unmasked",
            {ag.T: T, ag.d: dk, ag.e: dk},
            attention_inputs,
            numpy_attention,
            (0, 1, 2),
        ),
    ]


def generated(slug: str, case_name: str, sizes):
    """(new, before): the case's gradients lambdified now, and as they were generated."""
    import sympy as sp
    from sympy.printing.numpy import NumPyPrinter

    from workbench.codegen import numeric
    from workbench.codegen import printer as codegen
    from workbench.core import registry

    derivation = registry.get(slug)
    case = next(c for c in derivation.cases if c.name == case_name)
    args = list(case.samplers)
    new = numeric.compile_numpy_all(args, case.gradients, sizes)

    class BeforePrinter(codegen.StableNumPyPrinter):
        _print_MatMul = NumPyPrinter._print_MatMul

    concrete = [a.subs(sizes) for a in args]
    printer = BeforePrinter({"fully_qualified_modules": True, "inline": True})
    separate = [
        sp.lambdify(concrete, g.subs(sizes), [numeric.HELPERS, "numpy"], printer=printer, cse=True)
        for g in case.gradients
    ]

    def before(*xs):
        return tuple(f(*xs) for f in separate)

    return new, before


def agree(reference, candidate) -> float:
    """Worst normwise relative difference over the gradients."""
    worst = 0.0
    for r, c in zip(reference, candidate, strict=True):
        c = np.asarray(c.detach() if hasattr(c, "detach") else c, dtype=float).reshape(r.shape)
        worst = max(worst, float(np.max(np.abs(r - c)) / np.max(np.abs(r))))
    return worst


def measure(threads: int) -> dict:
    """Time every contender on every problem, in this process (threads already set)."""
    import torch

    torch.set_num_threads(threads)
    torch_fns, autograd_fns = torch_functions(), autograd_functions()
    results = {"torch": torch.__version__, "problems": []}
    for title, key, slug, case_name, sizes, inputs, by_hand, differentiated in problems():
        new, before = generated(slug, case_name, sizes)
        tensors = as_torch(inputs, differentiated)
        contenders = {
            "hand-written NumPy": partial(by_hand, *inputs),
            "generated": partial(new, *inputs),
            "generated as before this work": partial(before, *inputs),
            "PyTorch autograd": partial(torch_fns[key], *tensors),
            "autograd": partial(autograd_fns[key], *inputs),
        }
        reference = by_hand(*inputs)
        worst = max(agree(reference, fn()) for fn in contenders.values())
        if worst > 1e-10:
            raise AssertionError(f"{title}: results disagree ({worst:.1e})")
        times = {name: best_of(fn, repeat=REPEAT) for name, fn in contenders.items()}
        results["problems"].append({"title": title, "times": times, "agree": worst})
    return results


def report(results: dict, threads: str) -> tuple[list, list[str]]:
    rows, verdicts = [], []
    for problem in results["problems"]:
        title, times = problem["title"], problem["times"]
        base = times["hand-written NumPy"]
        for name, t in times.items():
            rows.append([threads, title, name, seconds(t), f"{t / base:.2f}×"])
        ratio = times["generated"] / base
        faster = times["PyTorch autograd"] / times["generated"]
        verdicts.append(
            f"- {threads} thread(s), {title}: generated / NumPy = {ratio:.2f}× "
            f"({'met' if ratio <= GOAL_NUMPY_RATIO else 'NOT met'}); "
            f"PyTorch / generated = {faster:.2f}× ({'met' if faster > 1 else 'NOT met'}); "
            f"all results agree to {problem['agree']:.0e}"
        )
    return rows, verdicts


REPEAT = 15
THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def main() -> None:
    import argparse
    import json
    import os
    import subprocess
    import sys

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, help="(internal) measure with this many threads")
    args = parser.parse_args()
    if args.threads is not None:  # a child: the thread variables were set before NumPy loaded
        print(json.dumps(measure(args.threads)))
        return
    rows, verdicts, version, one_thread = [], [], "", {}
    # Each thread count in a fresh process: BLAS reads its thread count when it loads.
    for threads in (1, os.cpu_count() or 1):
        env = {**os.environ, **dict.fromkeys(THREAD_VARIABLES, str(threads))}
        out = subprocess.run(
            [sys.executable, __file__, "--threads", str(threads)],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        results = json.loads(out.stdout.strip().splitlines()[-1])
        if threads == 1:
            one_thread = results
        version = results["torch"]
        more_rows, more_verdicts = report(results, str(threads))
        rows += more_rows
        verdicts += more_verdicts
    body = (
        table(["threads", "problem", "implementation", "best time", "vs hand-written NumPy"], rows)
        + "\n\nGoals (generated within 1.2× of hand-written NumPy; faster than PyTorch):\n"
        + "\n".join(verdicts)
        + f"\n\nBest of {REPEAT} runs each, float64, PyTorch {version} (CPU). BLAS and PyTorch "
        "use the thread count of the first column. On this shared two-core machine the "
        "one-thread rows are the reproducible ones: with two threads, BLAS threads wait for "
        "a core whenever another process holds one, and single matrix products jump from "
        "0.2 ms to 4-20 ms."
    )
    write("bench_codegen", "Generated gradient code against NumPy and autodiff", body)
    plot(one_thread)


def plot(results: dict) -> None:
    """Bars: each implementation's time over hand-written NumPy's, per problem (one thread)."""
    fig, ax = figure()
    problems = results["problems"]
    names = list(problems[0]["times"])
    width = 0.8 / len(names)
    for k, name in enumerate(names):
        ratios = [p["times"][name] / p["times"]["hand-written NumPy"] for p in problems]
        ax.bar([i + k * width for i in range(len(problems))], ratios, width, label=name)
    ax.axhline(GOAL_NUMPY_RATIO, color="grey", linestyle="--", linewidth=1)
    ax.set_xticks([i + 0.4 - width / 2 for i in range(len(problems))])
    ax.set_xticklabels([p["title"].replace(", ", ",\n", 1) for p in problems], fontsize=8)
    ax.set_ylabel("time ÷ hand-written NumPy")
    ax.set_title("Gradient code, one thread (dashed: the 1.2× goal)")
    ax.legend(fontsize=7)
    save(fig, "bench_codegen")


if __name__ == "__main__":
    main()
