"""Numbers stated in the exercises are recomputed with the workbench's own code."""

from __future__ import annotations

import numpy as np

from derivations import attention_gradient as att
from derivations import two_layer_backprop as tl
from workbench.checks.runner import case_functions
from workbench.codegen import numeric


def _fmt(values) -> list[str]:
    return [f"{v:.4f}" for v in np.ravel(values)]


def test_two_layer_hand_backprop_numbers():
    case = next(c for c in tl.build().cases if c.name == "tanh")
    sizes = {tl.d: 2, tl.m: 2, tl.n: 2}
    args = list(case.samplers)
    point = {
        "x": np.array([[1.0], [-1.0]]),
        "W1": np.eye(2),
        "b1": np.zeros((2, 1)),
        "W2": np.array([[1.0, -1.0], [0.0, 1.0]]),
        "b2": np.zeros((2, 1)),
        "y": np.array([[1.0], [0.0]]),
    }
    values = [point[a.name] for a in args]
    grads = dict(zip(case.wrt, case.gradients, strict=True))
    dW1 = numeric.compile_numpy(args, grads[tl.W1], sizes)(*values)
    db2 = numeric.compile_numpy(args, grads[tl.b2], sizes)(*values)  # δ₂ = ŷ − y
    db1 = numeric.compile_numpy(args, grads[tl.b1], sizes)(*values)  # δ₁
    solution = tl.EXERCISES[0].solution
    for number in [*_fmt(db2), *_fmt(db1), *_fmt(dW1)]:
        assert number in solution, number
    hidden = np.tanh(point["x"])
    assert all(v in solution for v in _fmt(hidden)) and f"{1 - hidden[0, 0] ** 2:.4f}" in solution


def test_attention_score_spread():
    rng = np.random.default_rng(0)
    d = 64
    scores = np.sum(rng.standard_normal((200_000, d)) * rng.standard_normal((200_000, d)), axis=1)
    assert abs(scores.std() - 8.0) < 0.05 and "= 8" in att.EXERCISES[1].solution
    assert abs((scores / np.sqrt(d)).std() - 1.0) < 0.01


def test_attention_score_gradient_rows_sum_to_zero():
    case = att.build().cases[0]
    args, _, _ = case_functions(case)
    inputs = numeric.sample_inputs(case.samplers, case.numeric_size, seed=3)
    values = [inputs[a] for a in args]
    dS = numeric.compile_numpy(
        args,
        att.expand_names(
            att.CLOSED["S"],
            {
                att.S: att.Q * att.K.T / att.sp.sqrt(att.d),
                att.P: att.Softmax(att.Q * att.K.T / att.sp.sqrt(att.d), axis=1),
            },
        ),
        case.numeric_size,
    )(*values)
    np.testing.assert_allclose(dS.sum(axis=1), 0.0, atol=1e-14)
