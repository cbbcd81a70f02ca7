"""The network route: a composed derivation's steps checked stage by stage.

Each test that shows a check passing also shows it failing on a planted mistake.
"""

from __future__ import annotations

import sympy as sp

from workbench.checks.network import NetworkRoute
from workbench.core.functions import Elementwise, derivative_of, phi

n = sp.Symbol("n", integer=True, positive=True)
p, k = sp.symbols("p k", integer=True)
x, w = sp.MatrixSymbol("x", n, 1), sp.MatrixSymbol("w", n, 1)
h, y = sp.MatrixSymbol("h", n, 1), sp.MatrixSymbol("y", n, 1)
L = sp.Symbol("L")


def _definitions():
    """y = x + tanh(h), h = w ∘ x: a residual around one stage; L = Σ y²."""
    return {
        h: sp.HadamardProduct(w, x),
        y: x + Elementwise("tanh", h),
        L: sp.Sum(y[k, 0] ** 2, (k, 0, n - 1)),
    }


SIZES = [{n: 2}, {n: 3}, {n: 5}]


def _route(**options) -> NetworkRoute:
    return NetworkRoute(_definitions(), L, SIZES, **options)


def test_the_gradient_of_a_stage_inside_the_network_is_the_chain_rule():
    """∂L/∂h = 2y ∘ tanh′(h): the route's ∂L/∂h comes from its reverse sweep; planted
    without the factor 2, it fails."""
    route = _route()
    right = 2 * y[p, 0] * (1 - sp.tanh(h[p, 0]) ** 2)
    assert route.compare(sp.Derivative(L, h[p, 0]), right, (p, 0), h).equal is True
    wrong = y[p, 0] * (1 - sp.tanh(h[p, 0]) ** 2)
    verdict = route.compare(sp.Derivative(L, h[p, 0]), wrong, (p, 0), h)
    assert verdict.equal is False and "differ at n=2" in verdict.detail


def test_a_residual_step_counts_both_paths():
    """∂L/∂x = ∂L/∂y + w ∘ ∂L/∂h (the skip path and the branch), as a step whose sides
    mention the gradients of inner stages; planted without the skip path, it fails."""
    route = _route()
    branch = w[p, 0] * sp.Derivative(L, h[p, 0])
    both = sp.Derivative(L, y[p, 0]) + branch
    assert route.compare(sp.Derivative(L, x[p, 0]), both, (p, 0), x).equal is True
    assert route.compare(sp.Derivative(L, x[p, 0]), branch, (p, 0), x).equal is False


def test_a_derivative_of_a_stage_by_an_input_is_sympys():
    """∂h[k]/∂w[p] = x[p]·δₖₚ, summed against ∂L/∂h: the inner derivative is taken by
    SymPy along ε; planted with w in place of x, it fails."""
    route = _route()
    chain = sp.Sum(sp.Derivative(L, h[k, 0]) * sp.Derivative(h[k, 0], w[p, 0]), (k, 0, n - 1))
    right = sp.Derivative(L, h[p, 0]) * x[p, 0]
    assert route.compare(chain, right, (p, 0), w).equal is True
    assert route.compare(chain, sp.Derivative(L, h[p, 0]) * w[p, 0], (p, 0), w).equal is False


def test_an_unspecified_function_is_replaced_by_the_same_stand_in_on_both_sides():
    """With φ unspecified: ∂L/∂h = 2y ∘ φ′(h) passes, 2y ∘ φ(h) fails."""
    definitions = {**_definitions(), y: x + Elementwise("phi", h)}
    route = NetworkRoute(definitions, L, SIZES)
    right = 2 * y[p, 0] * derivative_of(phi)(h[p, 0])
    assert route.compare(sp.Derivative(L, h[p, 0]), right, (p, 0), h).equal is True
    wrong = 2 * y[p, 0] * phi(h[p, 0])
    assert route.compare(sp.Derivative(L, h[p, 0]), wrong, (p, 0), h).equal is False


def test_the_arithmetic_is_sixty_digits_not_fifteen():
    """A claim off by one part in 10²⁰ is told apart (float64 arithmetic anywhere in
    the sweep would hide it)."""
    route = _route()
    right = 2 * y[p, 0] * (1 - sp.tanh(h[p, 0]) ** 2)
    nearly = right * (1 + sp.Rational(1, 10**20))
    assert route.compare(sp.Derivative(L, h[p, 0]), nearly, (p, 0), h).equal is False


def test_what_the_route_cannot_evaluate_is_undecided_not_passed():
    route = _route()
    second = sp.Derivative(L, h[p, 0], h[p, 0])
    verdict = route.compare(second, sp.S.Zero, (p, 0), h)
    assert verdict.equal is None and verdict.method == "undecided"
