"""The reader of the workbench's LaTeX: golden readings, planted mistakes, clear errors."""

from __future__ import annotations

import pytest
import sympy as sp

from workbench.core.functions import Elementwise, phi
from workbench.errors import ParseError
from workbench.render.latex import expr_to_latex, printed_names
from workbench.verify.latex_reader import MAX_DEPTH, MAX_LENGTH, read_back, read_latex

n = sp.Symbol("n", integer=True, positive=True)
i, j, k = sp.symbols("i j k", integer=True)
z = sp.MatrixSymbol("z", n, 1)
s = sp.MatrixSymbol("s", n, 1)
W = sp.MatrixSymbol("W", n, n)
W2 = sp.MatrixSymbol("W2", n, n)
A, B = sp.MatrixSymbol("A", n, n), sp.MatrixSymbol("B", n, n)
x = sp.Symbol("x")
SCOPE = {"z": z, "s": s, "W": W, "W_{2}": W2, "A": A, "B": B, "i": i, "j": j, "n": n, "x": x}


@pytest.mark.parametrize(
    ("latex", "expected"),
    [
        (r"\frac{\partial s_{i}}{\partial z_{j}}", sp.Derivative(s[i, 0], z[j, 0])),
        (r"\delta_{ij} - s_{j}", sp.KroneckerDelta(i, j) - s[j, 0]),
        (r"W_{ij} + [W_{2}]_{ji}", W[i, j] + W2[j, i]),
        (r"W_{i,j + 1}", W[i, j + 1]),
        (r"\sum_{k=0}^{n - 1} e^{z_{k}}", sp.Sum(sp.exp(z[k, 0]), (k, 0, n - 1))),
        (r"\frac{e^{x}}{\left(1 + e^{- x}\right)^{2}}", sp.exp(x) / (1 + sp.exp(-x)) ** 2),
        (r"\operatorname{diag}\left(s\right) - s s^{\top}", sp.DiagMatrix(s) - s * s.T),
        (r"\left(A B\right)^{-1}", sp.Inverse(A * B)),
        (r"A \odot B", sp.HadamardProduct(A, B)),
        (r"\mathbf{1}_{n \times n} A", sp.OneMatrix(n, n) * A),
        (r"\varphi'\left(z\right)", Elementwise("phi_prime", z)),
        (r"\sqrt[3]{x} + \sqrt{x}", sp.root(x, 3) + sp.sqrt(x)),
        (r"\log{\left(x \right)} \cos{\left(\pi x \right)}", sp.log(x) * sp.cos(sp.pi * x)),
        (r"a + - \frac{1}{n} b", sp.Symbol("a") - sp.Symbol("b") / n),
        (r"\left(A + B\right)^{\circ - \frac{1}{2}}", sp.HadamardPower(A + B, sp.Rational(-1, 2))),
    ],
)
def test_golden_readings(latex, expected):
    assert read_back(latex, expected, printed_names(expected))[1].equal


def test_the_derivative_of_an_activation_reads_as_the_printer_stores_it():
    u = sp.Symbol("u")
    value = read_latex(r"\phi'\left(u\right)", {"u": u, r"\phi": phi})
    assert isinstance(value, sp.Subs) and value.doit() == sp.Derivative(phi(u), u)


@pytest.mark.parametrize(
    ("printed", "planted"),
    [
        # The planted mistakes a printer could make; each must be caught by read_back.
        (r"W_{ij}", r"W_{ji}"),  # indices swapped
        (r"\left(A + B\right) A", r"A + B A"),  # grouping dropped
        (r"- \frac{1}{n} s_{i}", r"\frac{1}{n} s_{i}"),  # sign dropped
        (r"\sum_{k=0}^{n - 1} s_{k}", r"\sum_{k=1}^{n - 1} s_{k}"),  # a limit off by one
        (r"A^{\top} B", r"A B^{\top}"),  # the transpose moved
    ],
)
def test_a_planted_printing_mistake_is_caught(printed, planted):
    source = read_latex(printed, SCOPE)
    assert read_back(printed, source, SCOPE)[1].equal
    assert read_back(planted, source, SCOPE)[1].equal is False


def test_the_attention_grouping_bug_is_refused_as_ambiguous():
    """The text the printer wrote before its fix: ⊙ next to a product, no parentheses."""
    G, V, P = (sp.MatrixSymbol(name, n, n) for name in "GVP")
    scope = {"G": G, "V": V, "P": P, "T": n}
    text = r"- \left(G V^{\top}\right) \odot P \mathbf{1}_{T \times T} + G V^{\top}"
    with pytest.raises(ParseError, match=r"ambiguous product.*column 3\)"):
        read_latex(text, scope)


@pytest.mark.parametrize(
    ("latex", "message", "column"),
    [
        (r"x + \foo", "unknown command", 5),
        (r"\left(x + 1", "expected", 12),
        (r"\frac{x}{0}", "division by zero", 1),
        (r"x = 1", "unexpected '='", 3),
        (r"A + s", "cannot add", 3),
        (r"s A", "cannot multiply", 1),
        (r"__import__('os')", "unexpected", 1),
        (r"\sum_{k=0}^{n} - ", "operand is missing", 18),
        ("", "empty expression", 1),
        (r"x^{\circ 3}", "for a matrix and a rational", 12),
    ],
)
def test_bad_latex_is_one_parse_error_with_its_column(latex, message, column):
    """Entrywise powers: failed before this fix (planted) if x^{∘ 3} of a scalar was read."""
    with pytest.raises(ParseError, match=message) as caught:
        read_latex(latex, SCOPE)
    assert caught.value.column == column


def test_length_and_depth_are_bounded():
    with pytest.raises(ParseError, match="too long"):
        read_latex("x + " * (MAX_LENGTH // 4 + 1) + "x")
    deep = r"\left(" * (MAX_DEPTH + 1) + "x" + r"\right)" * (MAX_DEPTH + 1)
    with pytest.raises(ParseError, match="too deep"):
        read_latex(deep)


def test_names_that_print_alike_are_refused():
    """Two different symbols printed as ``x`` could never be read back apart."""
    with pytest.raises(ValueError, match="both print as 'x'"):
        printed_names(sp.Symbol("x") + sp.Symbol("x", positive=True))


def test_names_of_keys_every_name_by_its_printed_latex():
    expr = W2[i, j] * sp.Symbol("sigma2") + sp.Symbol("NLL")
    scope = printed_names(expr)
    assert scope["W_{2}"] == W2 and scope[r"\mathrm{NLL}"] == sp.Symbol("NLL")
    assert read_back(expr_to_latex(expr), expr, scope)[1].equal


def test_a_number_and_a_one_by_one_matrix_print_and_read_as_a_teacher_writes():
    """A 1 × 1 identity prints as 1 (1 − wᵀw, m + LSE(…): I₁ was printed) and reads back so.

    Planted: reading back ``2 - w^{\\top} w`` against 1 − wᵀw is rejected; before the
    printer change the first assertion failed ('I_{1} - w^{\\top} w').
    """
    w, m = sp.MatrixSymbol("w", 3, 1), sp.Symbol("m")
    form = sp.Identity(1) - w.T * w
    assert expr_to_latex(form) == r"1 - w^{\top} w"
    assert expr_to_latex(m * sp.OneMatrix(1, 1) + w.T * w) == r"m + w^{\top} w"
    _, verdict = read_back(r"1 - w^{\top} w", form, printed_names(form))
    assert verdict.equal
    _, planted = read_back(r"2 - w^{\top} w", form, printed_names(form))
    assert not planted.equal
