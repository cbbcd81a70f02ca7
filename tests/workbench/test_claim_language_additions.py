"""What the claim language gained so that `workbench show`'s closed forms can be pasted back.

Each failed before its addition: ``ones``, the activations' derivatives and ``square`` were
unknown functions, ``lambda`` was refused as a Python keyword, and ``phi``/``phi_prime``
had no meaning anywhere.
"""

from __future__ import annotations

import pytest
import sympy as sp

from workbench.errors import ParseError
from workbench.render.text import to_text
from workbench.verify.interpret import Scope, build, declare
from workbench.verify.parsing import parse


def _build(text, shapes=None, **scope):
    return build(parse(text), Scope(declare(shapes or {}), **scope))


def test_ones_is_the_matrix_of_ones():
    assert _build("ones(2, 3)") == sp.ImmutableMatrix(sp.ones(2, 3))
    assert _build("ones(2, 2) @ x", {"x": (2, 1)}) == sp.ImmutableMatrix(
        [[sp.Symbol("x[0]", real=True) + sp.Symbol("x[1]", real=True)]] * 2
    )


@pytest.mark.parametrize("text", ["ones(0, 2)", "ones(2, 11)", "ones(x, 2)", "ones(1/2, 2)"])
def test_ones_needs_small_whole_sizes(text):
    with pytest.raises(ParseError, match=r"ones\(m, n\) needs whole numbers"):
        _build(text)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("tanh_prime", 1 - sp.tanh(sp.Symbol("x", real=True)) ** 2),
        ("relu_prime", sp.Heaviside(sp.Symbol("x", real=True), 0)),
        ("square", sp.Symbol("x", real=True) ** 2),
    ],
)
def test_the_derivatives_of_the_activations(name, value):
    assert _build(f"{name}(x)") == value


def test_sigmoid_prime_is_the_derivative_of_sigmoid():
    x = sp.Symbol("x", real=True)
    difference = _build("sigmoid_prime(x)") - sp.diff(_build("sigmoid(x)"), x)
    assert sp.simplify(difference) == 0


def test_phi_is_defined_only_by_a_scope():
    with pytest.raises(ParseError, match="activation of a catalogue result's case"):
        _build("phi_prime(x)")
    x = sp.Symbol("x", real=True)
    assert _build("phi_prime(x)", functions={"phi_prime": lambda u: 1 - sp.tanh(u) ** 2}) == (
        1 - sp.tanh(x) ** 2
    )


def test_lambda_is_a_name():
    assert _build("2*lambda") == 2 * sp.Symbol("lambda", real=True)


def test_the_text_printer_writes_the_inverse_and_the_identity_in_the_claim_language():
    """Failed before: X**(-1) (entrywise in the claim language) and I (an unknown name)."""
    X = sp.MatrixSymbol("X", 2, 2)
    text = to_text(sp.Inverse(X.T) * X + 2 * sp.Identity(2))
    assert "**" not in text and "inv(X.T)" in text and "eye(2)" in text
    explicit = _build(text, {"X": (2, 2)})
    X2 = sp.ImmutableMatrix(2, 2, lambda i, j: sp.Symbol(f"X[{i},{j}]", real=True))
    assert sp.simplify(explicit - (X2.T.inv() * X2 + 2 * sp.eye(2))) == sp.zeros(2, 2)


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("((W2.T @ (s - y)) * phi_prime(a)) @ x.T", "((W2.T @ (s - y))*phi_prime(a)) @ x.T"),
        ("W2.T @ (s - y) * phi(a)", "(W2.T @ (s - y))*phi(a)"),
        ("2*A @ x", "2*A @ x"),  # a scalar coefficient reads unambiguously
    ],
)
def test_the_parsed_claim_groups_an_entrywise_product_inside_a_matrix_product(text, shown):
    """Failed before: ``W2.T @ (s - y)*phi_prime(a) @ x.T``, right by precedence (``*`` and
    ``@`` bind equally, left to right) but read by a person as ``W2.T @ ((s - y)*φ′(a))``."""
    from workbench.verify.claim_format import unparse

    assert unparse(parse(text)) == shown
    assert unparse(parse(shown)) == shown


_X, _Y = sp.MatrixSymbol("X", 2, 2), sp.MatrixSymbol("Y", 2, 2)
_v = sp.MatrixSymbol("v", 2, 1)
_a, _b = sp.symbols("a b")
_VALUES = {
    _X: sp.ImmutableMatrix([[1, 2], [3, 5]]),
    _Y: sp.ImmutableMatrix([[2, -1], [1, 4]]),
    _v: sp.ImmutableMatrix([[3], [-2]]),
    _a: sp.Rational(1, 3),
    _b: sp.Integer(2),
}


@pytest.mark.parametrize(
    "expr",
    [
        (_a + _b) * _X * _X,  # printed "(a + b)*X**2" before: ** is entrywise in claims
        sp.MatPow(_X, -2) * _Y,
        sp.MatMul(-1, sp.HadamardProduct(_X, _Y), _X),
        _X.T * _Y + 2 * sp.Identity(2),
        sp.OneMatrix(2, 2) * sp.Inverse(_X) * _v,
        sp.DiagMatrix(_v) * _Y - _v * _v.T,
    ],
    ids=str,
)
def test_the_claim_printer_prints_what_the_claim_language_reads_back(expr):
    """``to_claim`` then parse and build, at numbers: the same matrix as SymPy's own."""
    from workbench.codegen.claim_text import to_claim

    scope = Scope({str(k): v for k, v in _VALUES.items()})
    claimed = build(parse(to_claim(expr)), scope)
    assert sp.ImmutableMatrix(claimed) == sp.ImmutableMatrix(expr.subs(_VALUES).doit())


# ---------------------------------------------------------------- more functions
# Each function: a right claim (✓) and a wrong one (✗) about its derivative. Before
# these were added, every line was "unknown function".
FUNCTION_CLAIMS = [
    ("gelu(x)", "(1 + erf(x/sqrt(2)))/2 + x*exp(-x**2/2)/sqrt(2*pi)", "(1 + erf(x/sqrt(2)))/2"),
    (
        "gelu_tanh(x)",
        "(1 + tanh(sqrt(2/pi)*(x + 0.044715*x**3)))/2"
        " + x*(1 - tanh(sqrt(2/pi)*(x + 0.044715*x**3))**2)"
        "*sqrt(2/pi)*(1 + 3*0.044715*x**2)/2",
        "(1 + tanh(sqrt(2/pi)*(x + 0.044715*x**3)))/2",
    ),
    ("softplus(x)", "sigmoid(x)", "sigmoid(-x)"),
    ("log_sigmoid(x)", "1 - sigmoid(x)", "sigmoid(x)"),
    ("erf(x)", "2*exp(-x**2)/sqrt(pi)", "2*exp(-x**2)"),
    ("cosh(x)", "sinh(x)", "cosh(x)"),
    ("sinh(x)", "cosh(x)", "sinh(x)"),
    ("atan(x)", "1/(1 + x**2)", "1/(1 - x**2)"),
    ("clamp(x, -1, 1)", "step(1 - abs(x))", "1"),
    ("max(x, 0)", "step(x)", "1"),
    ("min(x, 0)", "step(-x)", "step(x)"),
]
VECTOR_CLAIMS = [  # z is a 4-vector
    ("logsumexp(z)", "softmax(z)", "exp(z)"),
    ("mean(z)", "ones(4)/4", "ones(4)"),
    ("norm(z)", "z/norm(z)", "z"),
    ("sum(log_softmax(z))", "ones(4) - 4*softmax(z)", "ones(4) - softmax(z)"),
    ("sum(cumsum(z))", "5*ones(4) - cumsum(ones(4))", "cumsum(ones(4))"),
    ("sum(zeros(4) + z*ones(4))", "ones(4)", "zeros(4)"),
]


@pytest.mark.parametrize(("function", "right", "wrong"), FUNCTION_CLAIMS)
def test_a_scalar_function_right_and_wrong(function, right, wrong):
    from workbench.verify.api import check_claim

    assert check_claim(function, "x", right).verdict == "correct"
    assert check_claim(function, "x", wrong).verdict == "incorrect"


@pytest.mark.parametrize(("function", "right", "wrong"), VECTOR_CLAIMS)
def test_a_vector_function_right_and_wrong(function, right, wrong):
    from workbench.verify.api import check_claim

    shapes = {"z": "4"}
    assert check_claim(function, "z", right, shapes=shapes).verdict == "correct"
    assert check_claim(function, "z", wrong, shapes=shapes).verdict == "incorrect"


@pytest.mark.parametrize("function", ["norm(z)", "logsumexp(z)", "cumsum(z)", "log_softmax(z)"])
def test_a_vector_function_of_an_undeclared_name_asks_for_its_shape(function):
    with pytest.raises(ParseError, match="add --shape z=N"):
        _build(function)


def test_ones_and_zeros_of_one_size_are_columns():
    assert _build("ones(3)") == sp.ImmutableMatrix(sp.ones(3, 1))
    assert _build("zeros(2, 3)") == sp.ImmutableMatrix(sp.zeros(2, 3))
    with pytest.raises(ParseError, match="takes 1 or 2 arguments"):
        _build("ones(1, 2, 3)")


# ---------------------------------------------------------------- axis=
AXIS_CLAIMS = [  # X and Y are 2×3: a batch of two examples, one per row
    ("sum(logsumexp(X, axis=1))", "softmax(X, axis=1)", "softmax(X, axis=0)"),
    ("sum(logsumexp(X, axis=0))", "softmax(X, axis=0)", "softmax(X, axis=1)"),
    (
        "-sum(log_softmax(X, axis=1) * Y)",
        "softmax(X, axis=1) * (sum(Y, axis=1) @ ones(1, 3)) - Y",
        "softmax(X, axis=1) - Y",  # right only when each row of Y sums to 1
    ),
    ("sum(mean(X, axis=0))", "ones(2, 3)/2", "ones(2, 3)/3"),
    ("sum(mean(X, axis=1) * mean(X, axis=1))", "2*mean(X, axis=1) @ ones(1, 3)/3", "X"),
    ("sum(sum(X, axis=0) * sum(X, axis=0))", "2*ones(2, 1) @ sum(X, axis=0)", "2*X"),
    (
        "sum(softmax(X, axis=0) * Y)",
        "softmax(X, axis=0) * (Y - ones(2, 2) @ (softmax(X, axis=0) * Y))",
        "softmax(X, axis=0) * (Y - (softmax(X, axis=0) * Y) @ ones(3, 3))",
    ),
]


@pytest.mark.parametrize(("function", "right", "wrong"), AXIS_CLAIMS)
def test_a_batch_function_along_an_axis_right_and_wrong(function, right, wrong):
    from workbench.verify.api import check_claim

    shapes = {"X": "2x3", "Y": "2x3"}
    assert check_claim(function, "X", right, shapes=shapes).verdict == "correct"
    assert check_claim(function, "X", wrong, shapes=shapes).verdict == "incorrect"


def test_axis_gives_numpys_shapes_and_prints_back():
    from workbench.verify.claim_format import to_latex, unparse

    shapes = {"X": (2, 3)}
    assert _build("sum(X, axis=0)", shapes).shape == (1, 3)
    assert _build("mean(X, axis=1)", shapes).shape == (2, 1)
    assert _build("softmax(X, axis=1)", shapes).shape == (2, 3)
    node = parse("softmax(X, axis = 1)")
    assert unparse(node) == "softmax(X, axis=1)" and parse(unparse(node)) == node
    assert r"_{\text{axis}=1}" in to_latex(node)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("sum(X, axis=2)", "axis= is 0"),
        ("exp(X, axis=0)", "exp takes no axis="),
        ("sum(x, axis=0)", "add --shape x=N"),
    ],
)
def test_a_wrong_axis_is_one_clear_error(text, message):
    with pytest.raises(ParseError, match=message):
        _build(text, {"X": (2, 3)})


# ---------------------------------------------------------------- indexing
INDEX_CLAIMS = [  # (function, wrt, shapes, right, wrong)
    (
        "x[0]**2 + x[1]*x[2]",
        "x",
        {"x": "3"},
        "2*x[0]*eye(3)[:, 0] + x[2]*eye(3)[:, 1] + x[1]*eye(3)[:, 2]",
        "2*x[0]*eye(3)[:, 0]",
    ),
    ("X[0, 1]*X[1, 0]", "X", {"X": "2x2"}, "X.T*(ones(2, 2) - eye(2))", "X*(ones(2, 2) - eye(2))"),
    (
        "sum(X[1, :])",
        "X",
        {"X": "2x3"},
        "ones(2, 1) @ ones(1, 3) * (eye(2)[:, 1] @ ones(1, 3))",
        "ones(2, 3)",
    ),
    ("sum(X[1]**2)", "X", {"X": "2x3"}, "2*X*(eye(2)[:, 1] @ ones(1, 3))", "2*X"),
    ("x[1]", "x", {"x": "2"}, "eye(2)[1].T", "eye(2)[0].T"),
]


@pytest.mark.parametrize(("function", "wrt", "shapes", "right", "wrong"), INDEX_CLAIMS)
def test_an_indexed_entry_row_or_column_right_and_wrong(function, wrt, shapes, right, wrong):
    from workbench.verify.api import check_claim

    assert check_claim(function, wrt, right, shapes=shapes).verdict == "correct"
    assert check_claim(function, wrt, wrong, shapes=shapes).verdict == "incorrect"


def test_indices_are_numpys_and_print_back():
    from workbench.verify.claim_format import to_latex, unparse

    X = {"X": (2, 3)}
    assert _build("X[1, 2]", X) == sp.Symbol("X[1,2]", real=True)
    assert _build("X[1]", X).shape == (1, 3) and _build("X[:, 2]", X).shape == (2, 1)
    node = parse("(A @ x)[1]")
    assert unparse(node) == "(A @ x)[1]" and parse(unparse(node)) == node
    assert to_latex(parse("X[0, :]")) == "X_{0,:}"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("X[2, 0]", "index 2 is out of range"),
        ("X[0, 0, 0]", r"expected x\[i\] or X\[i, j\]"),
        ("X[-1]", "positions count from 0 \\(no negative indices\\)"),
        ("X[0.5]", "an index is a whole number from 0"),
        ("x[0]", "add --shape x=N"),
        ("X:", "unexpected ':'"),
    ],
)
def test_a_bad_index_is_one_clear_error(text, message):
    with pytest.raises(ParseError, match=message):
        _build(text, {"X": (2, 3)})
