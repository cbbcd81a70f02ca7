"""Train a tiny character-level GPT on Aesop's fables with the derived gradients only.

    OMP_NUM_THREADS=1 python examples/tiny_gpt.py --steps 1500
    python examples/tiny_gpt.py --compare 50      # against PyTorch autograd, float64

Training shows a progress bar with the loss and writes the loss curve beside this script
(tiny_gpt_loss.png); at the end it prints the text's unigram entropy and samples.
"""

from __future__ import annotations

import argparse
import sys
import textwrap
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from workbench import gpt  # noqa: E402


def compare(steps: int, seed: int = 0) -> int:
    """The same model, initialisation and batches in PyTorch: loss per step, step-0 grads."""
    import torch

    text = (HERE / "aesop.txt").read_text(encoding="utf-8")
    chars, ids = gpt.encode(text)
    config = gpt.GPTConfig(vocab=len(chars), context=16, width=16, mlp=32, blocks=2)
    model = gpt.TinyGPT(config, seed=seed)
    optimiser = gpt.Adam(lr=3e-3)
    state = optimiser.state(model.params)
    params = {k: torch.tensor(v, requires_grad=True) for k, v in model.params.items()}
    torch_opt = torch.optim.Adam(params.values(), lr=3e-3, betas=(0.9, 0.999), eps=1e-8)
    worst_loss = worst_grad = 0.0
    data = gpt.batches(ids, 4, config.context, seed)
    for step in range(steps):
        x, y = next(data)
        loss, grads = model.loss_and_gradients(x, y)
        torch_opt.zero_grad()
        reference = gpt.torch_loss(params, torch.tensor(x), torch.tensor(y), config)
        reference.backward()
        error = abs(loss - reference.item()) / abs(reference.item())
        worst_loss = max(worst_loss, error)
        if step == 0:
            for name, g in grads.items():
                ref = params[name].grad.numpy()
                worst_grad = max(worst_grad, float(np.max(np.abs(g - ref)) / np.max(np.abs(ref))))
            print(f"step 0 gradients: {len(grads)} arrays, worst relative error {worst_grad:.1e}")
        if step % 10 == 0 or step == steps - 1:
            print(
                f"step {step:3d}  loss {loss:.12f}  torch {reference.item():.12f}  rel {error:.1e}"
            )
        optimiser.step(model.params, grads, state, step + 1)
        torch_opt.step()
    ok = worst_loss <= 1e-10 and worst_grad <= 1e-10
    print(f"worst relative loss difference over {steps} steps: {worst_loss:.1e} (tolerance 1e-10)")
    print("equal" if ok else "DIFFERENT")
    return 0 if ok else 1


def train(steps: int, seed: int = 0) -> int:
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    text = (HERE / "aesop.txt").read_text(encoding="utf-8")
    chars, ids = gpt.encode(text)
    split = int(0.9 * len(ids))
    config = gpt.GPTConfig(vocab=len(chars), context=64, width=64, mlp=256, blocks=2)
    model = gpt.TinyGPT(config, seed=seed)
    start = time.monotonic()
    columns = (TextColumn("training"), BarColumn(), TextColumn("{task.fields[loss]}"))
    with Progress(*columns, TimeRemainingColumn()) as progress:
        task = progress.add_task("train", total=steps, loss="")

        def show(step: int, loss: float) -> None:
            progress.update(task, advance=1, loss=f"loss {loss:.3f}")
            if not progress.console.is_terminal and step % 50 == 0:
                progress.console.print(f"step {step}: loss {loss:.3f}")  # a log, not a bar

        losses = gpt.train(model, ids[:split], steps, 16, gpt.Adam(lr=2e-3), seed, show)
    held_out = gpt.batches(ids[split:], 16, config.context, seed + 1)
    validation = np.mean([model.loss_and_gradients(*next(held_out))[0] for _ in range(4)])
    entropy = gpt.unigram_entropy(ids)
    print(f"{steps} steps in {time.monotonic() - start:.0f} s")
    print(f"unigram entropy of the text: {entropy:.3f} nats/char")
    print(f"final training loss (mean of last 50 steps): {np.mean(losses[-50:]):.3f} nats/char")
    print(f"held-out loss: {validation:.3f} nats/char")
    _plot(losses, entropy, HERE / "tiny_gpt_loss.png")
    rng = np.random.default_rng(seed)
    prompt = [chars.index(ch) for ch in "THE "]
    sample = model.sample(prompt, 300, rng)
    text = "".join(chars[i] for i in sample)
    print("sample:\n" + "\n".join(textwrap.fill(line, 79) for line in text.splitlines()))
    return 0


def _plot(losses, entropy: float, path: Path) -> None:
    gpt.loss_figure(losses, entropy).savefig(path, dpi=120)
    print(f"loss curve: {path.name}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--compare", type=int, metavar="STEPS", help="compare with PyTorch")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.compare:
        return compare(args.compare, args.seed)
    return train(args.steps, args.seed)


if __name__ == "__main__":
    sys.exit(main())
