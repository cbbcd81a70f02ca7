"""The tiny GPT: its generated gradients against PyTorch autograd, and the derived Adam step.

The comparison with PyTorch can fail: with Adam's bias correction dropped (planted, below)
it does at step 1. They skip where PyTorch is not installed (it is in the bench extra).
"""

from __future__ import annotations

import numpy as np
import pytest

from workbench import gpt

CONFIG = gpt.GPTConfig(vocab=7, context=6, width=8, mlp=16, blocks=2)


def _data(seed=0):
    rng = np.random.default_rng(seed)
    return gpt.batches(rng.integers(0, CONFIG.vocab, size=400), 3, CONFIG.context, seed)


def _compare_with_pytorch(steps: int, torch, update=None) -> tuple[list, dict]:
    """Relative loss differences per step, and step 0's gradient differences by name."""
    model = gpt.TinyGPT(CONFIG, seed=1)
    optimiser = gpt.Adam(lr=3e-3)
    state = optimiser.state(model.params)
    params = {k: torch.tensor(v, requires_grad=True) for k, v in model.params.items()}
    reference_opt = torch.optim.Adam(params.values(), lr=3e-3, betas=(0.9, 0.999), eps=1e-8)
    data = _data()
    losses, gradients = [], {}
    for step in range(steps):
        x, y = next(data)
        loss, grads = model.loss_and_gradients(x, y)
        reference_opt.zero_grad()
        reference = gpt.torch_loss(params, torch.tensor(x), torch.tensor(y), CONFIG)
        reference.backward()
        losses.append(abs(loss - reference.item()) / abs(reference.item()))
        if step == 0:
            for name, g in grads.items():
                ref = params[name].grad.numpy()
                gradients[name] = float(np.max(np.abs(g - ref)) / np.max(np.abs(ref)))
        if update is None:
            optimiser.step(model.params, grads, state, step + 1)
        else:
            update(model.params, grads, state, step + 1)
        reference_opt.step()
    return losses, gradients


def test_every_gradient_at_step_zero_equals_pytorch_autograd():
    """In float64, from the same initialisation and batch, to 1e-10 relative."""
    torch = pytest.importorskip("torch")
    losses, gradients = _compare_with_pytorch(1, torch)
    assert set(gradients) == set(gpt.TinyGPT(CONFIG).params)
    assert losses[0] <= 1e-10 and max(gradients.values()) <= 1e-10, gradients


def test_the_loss_equals_pytorch_for_fifty_adam_steps():
    torch = pytest.importorskip("torch")
    losses, _ = _compare_with_pytorch(50, torch)
    assert max(losses) <= 1e-10, losses


def test_adam_without_its_bias_correction_is_caught_at_step_one():
    """The comparison can fail: Adam with the bias corrections dropped (planted) moves
    the parameters 10× too far at t = 1, and the next loss differs from PyTorch's."""
    torch = pytest.importorskip("torch")

    def uncorrected(params, grads, state, t):
        for name, value in params.items():
            m, v = state[name]
            m, v = 0.9 * m + 0.1 * grads[name], 0.999 * v + 0.001 * grads[name] ** 2
            params[name] = value - 3e-3 * m / (np.sqrt(v) + 1e-8)
            state[name] = (m, v)

    losses, _ = _compare_with_pytorch(2, torch, update=uncorrected)
    assert losses[0] <= 1e-10 and losses[1] > 1e-6


def test_adam_update_is_the_bias_corrected_step():
    update = gpt.adam_update()
    theta, m, v = update(1.0, 0.5, 0.0, 0.0, 1, 0.1, 0.9, 0.999, 0.0)
    # At t = 1 the corrected moments are g and g², so the step is lr·sign(g).
    assert theta == pytest.approx(0.9, rel=1e-14)
    assert m == pytest.approx(0.05) and v == pytest.approx(0.00025)


def test_block_code_is_finite_at_huge_scores_in_float32_and_float64():
    _, backward = gpt.block_functions(6, 8, 16)
    rng = np.random.default_rng(0)
    shapes = {"X": (6, 8), "G": (6, 8), **gpt._block_shapes(CONFIG)}
    for dtype in (np.float64, np.float32):
        values = {k: rng.standard_normal(s).astype(dtype) for k, s in shapes.items()}
        values["W_q"] *= 300  # scores of order 10⁴: exp would overflow without the shift
        values["W_k"] *= 300
        args = [values[k] for k in ("X", "G", *gpt.BLOCK_PARAMETERS)]
        out = backward(*args, np.tril(np.ones((6, 6), dtype)))
        assert all(np.all(np.isfinite(o)) for o in out)
        assert out[0].dtype == dtype


def test_training_reports_every_step_and_lowers_the_loss(capsys):
    """train() calls on_step once per step with the loss it returns; with Adam's step
    size set to zero (planted) nothing is learnt and the loss does not fall."""
    ids = np.tile(np.arange(CONFIG.vocab), 60)  # a text with a pattern to learn
    seen = []
    model = gpt.TinyGPT(CONFIG, seed=0)
    losses = gpt.train(model, ids, 40, 4, gpt.Adam(lr=1e-2), on_step=lambda s, x: seen.append(x))
    assert seen == losses and len(losses) == 40
    assert np.mean(losses[-5:]) < 0.5 * np.mean(losses[:5])
    frozen = gpt.train(gpt.TinyGPT(CONFIG, seed=0), ids, 40, 4, gpt.Adam(lr=0.0))
    assert np.mean(frozen[-5:]) > 0.9 * np.mean(frozen[:5])
    gpt.train(gpt.TinyGPT(CONFIG, seed=0), ids, 3, 4, on_step=gpt.print_every(2))
    assert capsys.readouterr().out.splitlines()[0].split()[:2] == ["step", "0"]


def test_unigram_entropy_of_a_uniform_text_is_log_of_its_alphabet():
    assert gpt.unigram_entropy(np.arange(8).repeat(3)) == pytest.approx(np.log(8))


def test_padded_logits_equal_the_logits_of_the_unpadded_window():
    """Sampling pads on the right; failed before this fix if the mask let padding leak."""
    model = gpt.TinyGPT(CONFIG, seed=2)
    tokens = np.array([1, 2, 3])
    short = gpt.TinyGPT(gpt.GPTConfig(**{**CONFIG.__dict__, "context": 3}), seed=2)
    short.params = {k: (v[:3] if k == "position_embedding" else v) for k, v in model.params.items()}
    np.testing.assert_allclose(model.logits(tokens), short.logits(tokens), rtol=1e-12)


@pytest.mark.parametrize("method", ["central", "complex-step"])
def test_generated_block_gradients_pass_finite_differences_and_the_complex_step(method):
    """∂L/∂X and all twelve parameter gradients of one generated block, L = Σ G ∘ Y.

    Failed before this fix (planted): with the layer norm's mean(g ∘ x̂) term dropped from
    the closed form, the check failed with relative error 2.3e-2.
    """
    from workbench.gradcheck import check_gradient

    _, backward = gpt.block_functions(6, 8, 16)
    rng = np.random.default_rng(3)
    shapes = {"X": (6, 8), "G": (6, 8), **gpt._block_shapes(CONFIG)}
    values = {k: rng.standard_normal(s) / np.sqrt(s[0]) for k, s in shapes.items()}
    values["X"] = rng.standard_normal((6, 8))
    mask = np.tril(np.ones((6, 6)))
    names = ("X", "G", *gpt.BLOCK_PARAMETERS)
    inputs = [values[k] for k in names]

    def loss(*xs):
        return np.sum(xs[1] * backward(*xs, mask)[0])

    def grads(*xs):
        _, d_x, *rest = backward(*xs, mask)
        return (d_x, *rest)

    wrt = [0, *range(2, len(names))]
    report = check_gradient(loss, grads, *inputs, method=method, wrt=wrt, seed=0)
    assert report.passed, report.max_rel_error


def _block_inputs(rng, batch):
    shapes = {"X": (6, 8), "G": (6, 8), **gpt._block_shapes(CONFIG)}
    values = {k: rng.standard_normal(s) / np.sqrt(s[0]) for k, s in shapes.items()}
    values["X"], values["G"] = rng.standard_normal((2, batch, 6, 8))
    return [values[k] for k in ("X", "G", *gpt.BLOCK_PARAMETERS)]


def _disagreement(function, inputs, batch) -> float:
    """The worst relative difference between ``function`` on the whole batch and on each
    sequence alone (a weight's gradient per sequence)."""
    mask = np.tril(np.ones((6, 6)))
    together = function(*inputs, mask)
    worst = 0.0
    for row in range(batch):
        alone = function(inputs[0][row], inputs[1][row], *inputs[2:], mask)
        for a, b in zip(alone, together, strict=True):
            worst = max(worst, float(np.max(np.abs(b[row] - a)) / np.max(np.abs(a))))
    return worst


def test_the_block_code_on_a_batch_equals_it_on_each_sequence():
    """The training step runs the generated block on B×T×n arrays at once. It can fail:
    the same source with a plain transpose (.T reverses all three axes) disagrees."""
    from workbench.codegen.numeric import HELPERS
    from workbench.codegen.staged import BATCH_HELPERS

    _, backward = gpt.block_functions(6, 8, 16)
    inputs = _block_inputs(np.random.default_rng(4), batch=3)
    assert _disagreement(backward, inputs, 3) <= 1e-13
    namespace = {"numpy": np, **BATCH_HELPERS, **HELPERS}
    exec(backward.source.replace(".mT", ".T"), namespace)
    with pytest.raises(ValueError):  # shapes that do not line up
        _disagreement(namespace["generated"], inputs, 3)


def test_a_batched_training_step_equals_the_sum_of_its_sequences():
    """The mean loss and the gradients of a batch are those of its sequences, averaged."""
    model = gpt.TinyGPT(CONFIG, seed=5)
    x, y = next(_data(5))
    loss, grads = model.loss_and_gradients(x, y)
    parts = [model.loss_and_gradients(x[r : r + 1], y[r : r + 1]) for r in range(len(x))]
    assert loss == pytest.approx(np.mean([p[0] for p in parts]), rel=1e-13)
    for name, g in grads.items():
        mean = np.mean([p[1][name] for p in parts], axis=0)
        np.testing.assert_allclose(g, mean, rtol=1e-12, atol=1e-15 * np.max(np.abs(mean)))


def test_the_training_backward_from_saved_stages_equals_the_fused_backward():
    """Training passes the forward's stages to the backward instead of computing them
    again. It can fail: with two saved stages swapped (Q for K) the gradients differ."""
    forward, from_saved = gpt.block_step_functions(6, 8, 16)
    _, fused = gpt.block_functions(6, 8, 16)
    inputs = _block_inputs(np.random.default_rng(6), batch=3)
    mask = np.tril(np.ones((6, 6)))
    y, *stages = forward(*inputs, mask)
    expected = fused(*inputs, mask)
    np.testing.assert_array_equal(y, expected[0])
    got = from_saved(*inputs, mask, *stages)
    np.testing.assert_allclose(got[0], expected[1], rtol=1e-13, atol=1e-15)  # ∂L/∂X
    for a, b in zip(got[1:], expected[2:], strict=True):  # the weights': summed over the batch
        np.testing.assert_allclose(a, b.sum(axis=0), rtol=1e-13, atol=1e-14)
    names = [s.name for s in gpt.forward_stages()]
    q, k = names.index("Q"), names.index("K")
    stages[q], stages[k] = stages[k], stages[q]
    swapped = from_saved(*inputs, mask, *stages)
    assert np.max(np.abs(swapped[0] - expected[1])) > 1e-3
