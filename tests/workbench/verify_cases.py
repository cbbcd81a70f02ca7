"""The verifier's case table: (function, wrt, claim, shapes, verdict, diagnosis keyword).

Each result appears right and with its typical mistake; the keyword is a phrase the
diagnosis of a wrong claim must contain (None: only the verdict is checked). Sources:
the Matrix Cookbook (linear, quadratic, trace, inverse, determinant forms), activation
derivatives, and the losses of a first course in deep learning.
"""

from __future__ import annotations

from typing import NamedTuple


class Case(NamedTuple):
    function: str
    wrt: str
    claim: str
    shapes: dict
    verdict: str
    keyword: str | None = None
    layout: str | None = None


V3 = {"x": 3, "a": 3}
QUAD = {"x": 3, "A": "3x3"}
SQUARE2 = {"X": "2x2"}
SQUARE3 = {"X": "3x3"}
LSQ = {"x": 2, "b": 3, "A": "3x2"}

CASES: list[Case] = [
    # linear forms
    Case("a.T @ x", "x", "a", V3, "correct"),
    Case("a.T @ x", "x", "a.T", V3, "incorrect", "wrong shape"),
    Case("a.T @ x", "x", "a.T", V3, "correct", layout="jacobian"),
    Case("A @ x", "x", "A", QUAD, "correct"),
    Case("A @ x", "x", "A.T", QUAD, "incorrect", "transposed"),
    Case("A @ x", "x", "A.T", QUAD, "correct", layout="gradient"),
    # quadratic forms
    Case("x.T @ A @ x", "x", "(A + A.T) @ x", QUAD, "correct"),
    Case("x.T @ A @ x", "x", "2*A @ x", QUAD, "incorrect", "symmetric-only"),
    Case("x.T @ x", "x", "2x", {"x": 3}, "correct"),
    Case("x.T @ x", "x", "x", {"x": 3}, "incorrect", "constant factor"),
    Case("sum((A@x - b)**2)", "x", "2*A.T @ (A@x - b)", LSQ, "correct"),
    Case("sum((A@x - b)**2)", "x", "A.T @ (A@x - b)", LSQ, "incorrect", "constant factor"),
    Case("(A@x - b).T @ (A@x - b)", "x", "2*(A@x - b).T @ A", LSQ, "incorrect", "transposed"),
    # trace forms
    Case("trace(A @ X)", "X", "A.T", {"A": "3x3", "X": "3x3"}, "correct"),
    Case("trace(A @ X)", "X", "A", {"A": "3x3", "X": "3x3"}, "incorrect", "transposed"),
    Case("trace(X.T @ A @ X)", "X", "(A + A.T) @ X", {"A": "3x3", "X": "3x2"}, "correct"),
    Case("trace(X.T @ A @ X)", "X", "2*A @ X", {"A": "3x3", "X": "3x2"}, "incorrect", "symmetric"),
    # inverse and determinant
    Case("log(det(X))", "X", "inv(X).T", SQUARE3, "correct"),
    Case("log(det(X))", "X", "inv(X)", SQUARE3, "incorrect", "transposed"),
    Case("det(X)", "X", "det(X) * inv(X).T", SQUARE2, "correct"),
    Case("det(X)", "X", "-det(X) * inv(X).T", SQUARE2, "incorrect", "sign flipped"),
    Case(
        "a.T @ inv(X) @ b",
        "X",
        "-inv(X).T @ a @ b.T @ inv(X).T",
        {"a": 2, "b": 2, "X": "2x2"},
        "correct",
    ),
    Case(
        "a.T @ inv(X) @ b",
        "X",
        "inv(X).T @ a @ b.T @ inv(X).T",
        {"a": 2, "b": 2, "X": "2x2"},
        "incorrect",
        "sign flipped",
    ),
    # activations
    Case("sigmoid(x)", "x", "sigmoid(x) * (1 - sigmoid(x))", {}, "correct"),
    Case("sigmoid(x)", "x", "sigmoid(x) * (sigmoid(x) - 1)", {}, "incorrect", "sign flipped"),
    Case("tanh(x)", "x", "1 - tanh(x)^2", {}, "correct"),
    Case("tanh(x)", "x", "1 - tanh(x)", {}, "incorrect"),
    Case("relu(x)", "x", "step(x)", {}, "correct"),
    Case("relu(x)", "x", "relu(x)", {}, "incorrect"),
    Case("log(1 + exp(x))", "x", "sigmoid(x)", {}, "correct"),
    Case("log(1 + exp(x))", "x", "1/(1 + exp(x))", {}, "incorrect"),
    Case("tanh(z)", "z", "diag(1 - tanh(z)**2)", {"z": 3}, "correct"),
    Case("tanh(z)", "z", "1 - tanh(z)**2", {"z": 3}, "incorrect", "wrong shape"),
    Case(
        "softmax(z)", "z", "diag(softmax(z)) - outer(softmax(z), softmax(z))", {"z": 3}, "correct"
    ),
    Case("softmax(z)", "z", "diag(softmax(z))", {"z": 3}, "incorrect", "missing term"),
    # scalar calculus and domains
    Case("x**x", "x", "x**x * (1 + log(x))", {}, "correct"),
    Case("x**x", "x", "x * x**(x - 1)", {}, "incorrect"),
    Case("sqrt(x)", "x", "1/(2 sqrt(x))", {}, "correct"),
    Case("log(x)", "x", "1/abs(x)", {}, "correct"),  # equal wherever log x is real
    Case("abs(x)", "x", "sign(x)", {}, "correct"),
    Case("x**2 * sin(x)", "x", "2x sin(x) + x**2 cos(x)", {}, "correct"),
    Case("x**2 * sin(x)", "x", "2x sin(x)", {}, "incorrect", "missing term"),
    Case("x**2", "x", "2x + 1", {}, "incorrect", "extra term"),
    Case("x**2", "x", "2y", {}, "incorrect", "depends on y"),
    # losses
    Case("-sum(y * log(softmax(z)))", "z", "softmax(z)*sum(y) - y", {"z": 3, "y": 3}, "correct"),
    Case(
        "-sum(y * log(softmax(z)))",
        "z",
        "softmax(z) - y",
        {"z": 3, "y": 3},
        "incorrect",
        "assumption",
    ),
    Case("sum((x - y)**2)/2", "x", "x - y", {"x": 3, "y": 3}, "correct"),
    Case("sum((x - y)**2)/2", "x", "y - x", {"x": 3, "y": 3}, "incorrect", "sign flipped"),
    Case(
        "-(t*log(sigmoid(w.T@x)) + (1 - t)*log(1 - sigmoid(w.T@x)))",
        "w",
        "(sigmoid(w.T@x) - t) * x",
        {"w": 3, "x": 3},
        "correct",
    ),
    Case(
        "-(t*log(sigmoid(w.T@x)) + (1 - t)*log(1 - sigmoid(w.T@x)))",
        "w",
        "(t - sigmoid(w.T@x)) * x",
        {"w": 3, "x": 3},
        "incorrect",
        "sign flipped",
    ),
    Case("lam/2 * sum(w*w)", "w", "lam*w", {"w": 3}, "correct"),
    Case("lam/2 * sum(w*w)", "w", "lam*w/2", {"w": 3}, "incorrect", "constant factor"),
]
