"""Figures of a result that say what it is: a prediction minus a target, a Newton step on
a quadratic model, least squares and its residuals.

Each figure is chosen by the shape of a closed form, its caption's numbers are recomputed
here with plain NumPy from the seeded inputs the figure drew, and a planted mistake in the
closed form either stops the figure being chosen or changes what its caption says.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import sympy as sp

from workbench.core import registry
from workbench.render.latex import number_to_latex as num
from workbench.render.result_figures import (
    _matches,
    least_squares,
    least_squares_values,
    newton_step,
    newton_values,
    prediction_target,
    prediction_target_values,
    result_figures,
)


def _named(expr) -> dict[str, sp.MatrixSymbol]:
    return {str(s): s for s in expr.free_symbols if isinstance(s, sp.MatrixSymbol)}


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max())
    return e / e.sum()


@pytest.mark.parametrize(
    "slug, name",
    [
        ("cross-entropy-gradient", "prediction-target"),
        ("nll-equals-cross-entropy", "prediction-target"),
        ("newton-step", "newton-step"),
        ("least-squares", "least-squares"),
    ],
)
def test_each_result_gets_the_figure_of_its_shape(slug, name):
    figures = result_figures(registry.get(slug))
    assert [f.name for f in figures] == [name]
    assert "-0.00" not in figures[0].caption


def test_a_network_bias_gradient_s_minus_y_is_not_drawn_as_logits():
    """∂L/∂b₂ = s − y in two-layer backprop has the shape, but b₂ is not the softmax's
    argument (z = W₂h + b₂ is): drawing it at seeded logits would not be that result."""
    assert result_figures(registry.get("two-layer-backprop")) == []


# ---------------------------------------------------------------- s − y
def test_the_cross_entropy_bars_are_softmax_minus_target():
    derivation = registry.get("cross-entropy-gradient")
    (result,) = derivation.results
    logits, probs, target, gradient = prediction_target_values(result, derivation.definitions)
    s = _softmax(logits)
    assert np.allclose(probs, s, rtol=1e-14, atol=0)
    assert np.count_nonzero(target) == 1 and target.sum() == 1
    assert np.max(np.abs(gradient - (s - target))) < 1e-15
    hot = int(np.argmax(target))
    caption = prediction_target(result, definitions=derivation.definitions).caption
    total = float(gradient.sum())
    assert abs(total) < 1e-15 and abs(float((s - target).sum())) < 1e-15
    assert f"sum to ${num(total)}$, zero up to rounding" in caption
    push = float((s - target)[hot, 0])
    assert f"the largest push, ${num(push)}$, is at $j = {hot}$, the target's entry" in caption
    assert "every other entry is $s_j$ itself" in caption


def test_a_plus_sign_instead_of_minus_is_not_drawn_and_does_not_sum_to_zero():
    """The planted mistake s + y: no longer the shape (not chosen), and drawn anyway, its
    caption's sum is 2, said to be not zero."""
    derivation = registry.get("cross-entropy-gradient")
    (result,) = derivation.results
    names = _named(result.closed_form)
    wrong = replace(result, closed_form=names["s"] + names["y"])
    assert _matches("prediction minus target", result, derivation.definitions)
    assert not _matches("prediction minus target", wrong, derivation.definitions)
    broken = replace(derivation, results=(wrong,))
    assert "prediction-target" not in [f.name for f in result_figures(broken)]
    caption = prediction_target(wrong, definitions=derivation.definitions).caption
    logits, _, target, gradient = prediction_target_values(wrong, derivation.definitions)
    assert abs(float((_softmax(logits) + target).sum()) - 2) < 1e-15
    assert f"sum to ${num(float(gradient.sum()))}$, not zero" in caption
    assert "zero up to rounding" not in caption


def test_the_nll_target_is_the_label_frequencies_and_the_bars_are_s_minus_them():
    derivation = registry.get("nll-equals-cross-entropy")
    result = next(r for r in derivation.results if r.label.startswith("∂NLL"))
    logits, probs, target, gradient = prediction_target_values(result, derivation.definitions)
    s = _softmax(logits)
    assert np.allclose(probs, s, rtol=1e-14, atol=0)
    assert abs(float(target.sum()) - 1) < 1e-15
    assert np.allclose(target * 20, np.round(target * 20), atol=1e-12)  # counts of 20 labels
    assert np.max(np.abs(gradient - (s - target))) < 1e-15
    caption = prediction_target(result, definitions=derivation.definitions).caption
    below = ", ".join(str(j) for j in np.flatnonzero((s - target).ravel() < 0))
    assert rf"negative at $j = {below}$, exactly where $\hat{{p}}_j > s_j$" in caption
    assert f"sum to ${num(float(gradient.sum()))}$, zero up to rounding" in caption


def test_the_nll_figure_with_the_target_added_says_so():
    derivation = registry.get("nll-equals-cross-entropy")
    result = next(r for r in derivation.results if r.label.startswith("∂NLL"))
    names = _named(result.closed_form)
    wrong = replace(result, closed_form=names["s"] + names["phat"])
    assert not _matches("prediction minus target", wrong, derivation.definitions)
    caption = prediction_target(wrong, definitions=derivation.definitions).caption
    assert "not zero" in caption and "exactly where" not in caption


# ---------------------------------------------------------------- Newton step
def test_the_newton_figure_reads_its_numbers_off_the_model_gradient():
    derivation = registry.get("newton-step")
    first, second = derivation.results
    v = newton_values(first)
    H, g = v["H"], v["g"]
    assert np.allclose(H, H.T) and np.min(np.linalg.eigvalsh(H)) > 0
    best = -np.linalg.inv(H) @ g
    residual = float(np.linalg.norm(H @ best + g))
    assert residual < 1e-15 and abs(v["residual"] - residual) < 1e-15
    newton = -np.linalg.inv(H) @ g  # the step from h = 0, where the gradient is g
    cosine = float(-g.ravel() @ newton.ravel()) / (np.linalg.norm(g) * np.linalg.norm(newton))
    angle = float(np.degrees(np.arccos(cosine)))
    assert abs(v["angle"] - angle) < 1e-9
    caption = newton_step(first).caption
    assert f"has norm ${num(v['residual'])}$, zero up to rounding" in caption
    assert f"points ${num(angle, 2)}^\\circ$ away" in caption
    assert "lands on it exactly" in caption or f"within ${num(v['landing'])}$" in caption
    assert v["landing"] < 1e-15
    # The factored form H(h − h*) is the same model gradient: the same numbers.
    assert _matches("quadratic model", second)
    assert abs(newton_values(second)["angle"] - angle) < 1e-9


def test_a_newton_figure_with_the_gradient_sign_flipped_misses_the_minimum():
    """The planted mistake H h − g: still affine with Jacobian H (drawn), but its norm at
    −H⁻¹g is 2‖g‖, and the Newton step from 0 lands 2‖h*‖ away."""
    derivation = registry.get("newton-step")
    result = derivation.results[0]
    names = _named(result.closed_form)
    wrong = replace(result, closed_form=names["H"] * names["h"] - names["g"])
    assert _matches("quadratic model", wrong)
    v = newton_values(wrong)
    g, best = v["g"], -np.linalg.solve(v["H"], v["g"])
    assert abs(v["residual"] - 2 * float(np.linalg.norm(g))) < 1e-12
    assert abs(v["landing"] - 2 * float(np.linalg.norm(best))) < 1e-12
    caption = newton_step(wrong).caption
    assert f"has norm ${num(v['residual'])}$, not zero" in caption
    assert "zero up to rounding" not in caption and "exactly" not in caption


def test_a_gradient_that_is_not_affine_in_h_is_not_a_quadratic_model():
    result = registry.get("newton-step").results[0]
    names = _named(result.closed_form)
    h = names["h"]
    cubic = replace(result, closed_form=names["H"] * h + names["g"] * (h.T * h))
    assert not _matches("quadratic model", cubic)


# ---------------------------------------------------------------- least squares
def test_the_least_squares_figure_is_zero_gradient_at_the_normal_equations():
    derivation = registry.get("least-squares")
    result = derivation.results[0]
    v = least_squares_values(result)
    X, y = v["X"], v["y"]
    assert X.shape == (20, 2) and np.all(X[:, 0] == 1)
    fit = np.linalg.lstsq(X, y, rcond=None)[0]
    assert np.allclose(v["best"], fit, rtol=1e-12)
    norm = float(np.linalg.norm(2 * X.T @ (X @ v["best"] - y)))
    assert norm < 1e-12 and abs(v["norm"] - norm) < 1e-12
    total = float(np.sum(X @ v["best"] - y))
    assert abs(total) < 1e-12 and abs(v["sum"] - total) < 1e-13
    caption = least_squares(result).caption
    assert f"has norm ${num(v['norm'])}$ at $w^*$, zero up to rounding" in caption
    assert f"residuals sum to ${num(v['sum'])}$" in caption
    assert f"$w^* = ({num(float(fit[0]))}, {num(float(fit[1]))})$" in caption


def test_a_least_squares_gradient_with_the_target_added_is_not_zero_at_w_star():
    """The planted mistake 2Xᵀ(Xw + y): still affine with Jacobian 2XᵀX (drawn), but at
    the solution of the normal equations its norm is ‖4Xᵀy‖."""
    derivation = registry.get("least-squares")
    result = derivation.results[0]
    names = _named(result.closed_form)
    X, w, y = names["X"], names["w"], names["y"]
    wrong = replace(result, closed_form=2 * X.T * (X * w + y))
    assert _matches("least squares", wrong)
    v = least_squares_values(wrong)
    assert abs(v["norm"] - float(np.linalg.norm(4 * v["X"].T @ v["y"]))) < 1e-9
    caption = least_squares(wrong).caption
    assert f"has norm ${num(v['norm'])}$ at $w^*$, not zero" in caption


def test_ridge_and_a_gradient_not_of_x_transpose_x_are_not_least_squares():
    derivation = registry.get("least-squares")
    assert not _matches("least squares", derivation.results[1])  # λ: ridge
    names = _named(derivation.results[0].closed_form)
    X, w, y = names["X"], names["w"], names["y"]
    wrong = replace(derivation.results[0], closed_form=-2 * X.T * (X * w - y))
    assert not _matches("least squares", wrong)  # a negative multiple: a maximum
