"""Golden LaTeX for expressions, steps, marks, rules and prose (workbench.render.latex, .prose)."""

from __future__ import annotations

import re

import pytest
import sympy as sp
from sympy.matrices.expressions.diagonal import DiagMatrix

from workbench.core.derivation import Result, Step
from workbench.core.functions import Elementwise, LogSoftmax, MaskedSoftmax, Softmax
from workbench.render.latex import (
    DEFAULT_STYLE,
    Mark,
    StepStyle,
    derivation_to_latex,
    expr_to_latex,
    mark_of,
    note_to_latex,
    notes_to_latex,
    number_to_latex,
    printed_names,
    rule_to_latex,
    step_to_latex,
    steps_to_latex,
)
from workbench.render.prose import text_to_latex

n, m, N = sp.symbols("n m N", integer=True, positive=True)
i, j, a, b = sp.symbols("i j a b", integer=True)
z, s = sp.MatrixSymbol("z", n, 1), sp.MatrixSymbol("s", n, 1)
W, W2 = sp.MatrixSymbol("W", n, m), sp.MatrixSymbol("W2", n, m)
S, M, Z = sp.MatrixSymbol("S", n, n), sp.MatrixSymbol("M", n, n), sp.MatrixSymbol("Z", N, n)
phat = sp.MatrixSymbol("phat", n, 1)
k0, k1 = sp.Symbol("_s0", integer=True), sp.Symbol("_s1", integer=True)  # canonical bound
x, u = sp.symbols("x u")
f, t = sp.Function("f"), sp.Dummy("t")
dummy_k = sp.Dummy("k", integer=True)

EXPRESSIONS = [
    (sp.Derivative(s[i, 0], z[j, 0]), r"\frac{\partial s_{i}}{\partial z_{j}}"),
    (W[a, b], r"W_{ab}"),
    (W[i + 1, j], r"W_{i + 1,j}"),
    (W2[a, b], r"[W_{2}]_{ab}"),
    (phat[i, 0], r"\hat{p}_{i}"),
    (sp.KroneckerDelta(i, j), r"\delta_{ij}"),
    (sp.KroneckerDelta(i, j + 1), r"\delta_{i,j + 1}"),
    (sp.Sum(z[k0, 0], (k0, 0, n - 1)), r"\sum_{k=0}^{n - 1} z_{k}"),
    (
        sp.Sum(W[k0, k1], (k0, 0, n - 1), (k1, 0, m - 1)),
        r"\sum_{l=0}^{m - 1} \sum_{k=0}^{n - 1} W_{kl}",
    ),
    (sp.Sum(z[k0, 0] + 1, (k0, 0, n - 1)), r"\sum_{k=0}^{n - 1} \left(z_{k} + 1\right)"),
    (sp.Sum(sp.exp(z[dummy_k, 0]), (dummy_k, 0, n - 1)), r"\sum_{k=0}^{n - 1} e^{z_{k}}"),
    (
        sp.exp(z[i, 0]) / sp.Sum(sp.exp(z[k0, 0]), (k0, 0, n - 1)),
        r"\frac{e^{z_{i}}}{\sum_{k=0}^{n - 1} e^{z_{k}}}",
    ),
    (
        sp.Derivative(sp.log(s[k0, 0]), z[j, 0]),
        r"\frac{\partial \log{\left(s_{k} \right)}}{\partial z_{j}}",
    ),
    (sp.Derivative(x * sp.exp(x), x), r"\frac{\partial}{\partial x} \left(x e^{x}\right)"),
    (sp.Derivative(x, x, 2), r"\frac{\partial^{2} x}{\partial x^{2}}"),
    (sp.Subs(sp.Derivative(f(t), t), t, u), r"f'\left(u\right)"),
    (sp.Heaviside(x, 0), r"H\left(x\right)"),
    (Softmax(z), r"\operatorname{softmax}\left(z\right)"),
    (Softmax(Z, 1), r"\operatorname{softmax}_{\mathrm{row}}\left(Z\right)"),
    (LogSoftmax(z), r"\log\operatorname{softmax}\left(z\right)"),
    (MaskedSoftmax(S, M), r"\operatorname{masked-softmax}\left(S, M\right)"),
    (Elementwise("tanh", z), r"\tanh\left(z\right)"),
    (Elementwise("sigmoid", z), r"\sigma\left(z\right)"),
    (Elementwise("relu", z), r"\operatorname{ReLU}\left(z\right)"),
    (Elementwise("square", z), r"z^{\circ 2}"),
    (DiagMatrix(s) - s * s.T, r"\operatorname{diag}\left(s\right) - s s^{\top}"),
    (sp.HadamardProduct(S, M), r"S \odot M"),
    # A negated product keeps the grouping of its factors; before the fix it printed
    # "- S \odot M S", which reads as -S ⊙ (M S).
    (sp.MatMul(-1, sp.HadamardProduct(S, M), S), r"- \left(S \odot M\right) S"),
    (sp.MatMul(-2, S, M), r"- 2 S M"),
    (sp.MatMul(sp.Rational(-1, 2), S, M), r"- \frac{1}{2} S M"),
    # A 1 × 1 over a 1 × 1 is a ratio of numbers (PCA's λ); a column over one is not.
    (z.T * S * z * (z.T * z).I, r"\frac{z^{\top} S z}{z^{\top} z}"),
    (-2 * z.T * S * z * (z.T * z).I, r"- \frac{2 z^{\top} S z}{z^{\top} z}"),
    (S * z * (z.T * z).I, r"S z \left(z^{\top} z\right)^{-1}"),
    (sp.OneMatrix(N, 1), r"\mathbf{1}_{N}"),
    (sp.OneMatrix(1, N), r"\mathbf{1}_{N}^{\top}"),
    (sp.Identity(n), r"I_{n}"),
    (sp.Symbol("NLL"), r"\mathrm{NLL}"),
    (sp.Symbol("W1"), r"W_{1}"),
]


@pytest.mark.parametrize(("expr", "expected"), EXPRESSIONS, ids=[e for _, e in EXPRESSIONS])
def test_expression_golden(expr, expected):
    assert expr_to_latex(expr) == expected


@pytest.mark.parametrize(("expr", "expected"), EXPRESSIONS, ids=[e for _, e in EXPRESSIONS])
def test_expression_golden_reads_back(expr, expected):
    """The reader of workbench.verify.latex_reader inverts every golden line of the printer."""
    from workbench.render.latex import printed_names
    from workbench.verify.latex_reader import read_back

    value, verdict = read_back(expected, expr, printed_names(expr))
    assert verdict.equal, f"{expected!r} reads as {value}"


def _step(rule="quotient rule"):
    return Step(before=x + x, after=2 * x, rule=rule, statement="", note="Add x to itself.")


STEP_LINES = [
    (Mark.PROVED, r"&= 2 x \tag*{(3)~algebra~\ensuremath{\checkmark}\textsubscript{S}}"),
    (Mark.TESTED, r"&= 2 x \tag*{(3)~algebra~\ensuremath{\checkmark}\textsubscript{N}}"),
    (Mark.FAILED, r"&= 2 x \tag*{(3)~algebra~\ensuremath{\times}~failed}"),
    (Mark.UNDECIDED, r"&= 2 x \tag*{(3)~algebra~?~undecided}"),
    (Mark.UNCHECKED, r"&= 2 x \tag*{(3)~algebra~not checked}"),
]


@pytest.mark.parametrize(("mark", "expected"), STEP_LINES, ids=[m.value for m, _ in STEP_LINES])
def test_step_golden(mark, expected):
    assert step_to_latex(_step("algebra"), 3, mark) == expected


@pytest.mark.parametrize("mark", [Mark.FAILED, Mark.UNDECIDED, Mark.UNCHECKED])
def test_a_step_not_passed_carries_no_check_mark(mark):
    assert "checkmark" not in step_to_latex(_step(), 1, mark)


def test_a_step_without_a_verdict_is_shown_unchecked():
    result = Result("2x", (_step(), _step()), 2 * x)
    out = steps_to_latex(result, {1: Mark.PROVED})  # step 2 has no verdict
    first, second = out.splitlines()[2:4]
    assert "checkmark" in first
    assert "checkmark" not in second and "not checked" in second


def test_steps_golden():
    result = Result("2x", (_step(),), 2 * x)
    assert steps_to_latex(result, {1: Mark.TESTED}) == (
        "\\begin{align*}\n2 x\n"
        r"&= 2 x \tag*{(1)~quotient rule~\ensuremath{\checkmark}\textsubscript{N}}"
        "\n\\end{align*}"
    )
    assert notes_to_latex(result) == (
        "\\begin{description}\n\\item[(1)] Add x to itself.\n\\end{description}"
    )


def test_a_style_cannot_give_an_unearned_mark_a_check():
    marks = dict(DEFAULT_STYLE.marks)
    marks[Mark.UNCHECKED] = r"\checkmark?"
    with pytest.raises(ValueError, match="unchecked"):
        StepStyle(marks=marks)


@pytest.mark.parametrize(
    ("equal", "method", "mark"),
    [
        (True, "proved", Mark.PROVED),
        (True, "tested", Mark.TESTED),
        (False, "failed", Mark.FAILED),
        (False, "proved", Mark.FAILED),  # a disproof is never a check mark
        (None, "undecided", Mark.UNDECIDED),
    ],
)
def test_mark_of_a_verdict(equal, method, mark):
    assert mark_of(equal, method) is mark


def test_derivation_without_a_report_claims_nothing():
    from workbench.core import registry

    out = derivation_to_latex(registry.get("softmax-jacobian"))
    assert out.startswith("\\begin{align*}") and "checkmark" not in out
    assert out.count("not checked") == len(registry.get("softmax-jacobian").steps)


RULES = [
    ("definition", "definition", r"\textsf{definition}"),
    ("fold definition", "fold definition", r"\textsf{fold definition}"),
    ("quotient rule", "quotient rule", r"\textsf{quotient rule}"),
    ("chain rule", "chain rule", r"\textsf{chain rule}"),
    ("Kronecker delta", "Kronecker delta", r"\textsf{Kronecker delta}"),
    ("known result", "known result", r"\textsf{known result}"),
    ("split sum", "split sum", r"\textsf{split sum}"),
    ("assumption", "assumption", r"\textsf{assumption}"),
]


@pytest.mark.parametrize(("rule", "plain", "sans"), RULES, ids=[r for r, _, _ in RULES])
def test_rule_golden(rule, plain, sans):
    assert rule_to_latex(rule) == plain
    assert rule_to_latex(rule, StepStyle(rule=r"\textsf{{{}}}")) == sans


def test_every_rule_of_the_vocabulary_renders_in_ascii():
    from workbench.core.rules import VOCABULARY

    for rule in VOCABULARY:
        assert rule_to_latex(rule.name).isascii()
        assert text_to_latex(rule().statement).isascii(), rule.name


PROSE = [
    ("The delta keeps only yⱼ.", "The delta keeps only $y_{j}$."),
    ("∂sᵢ/∂zⱼ", r"$\partial s_{i}/\partial z_{j}$"),
    (
        "Write sᵢ out: exp(zᵢ) divided by the sum of all exp(zₖ).",
        r"Write $s_{i}$ out: $\exp (z_{i})$ divided by the sum of all $\exp (z_{k})$.",
    ),
    (
        "Use ∂sₖ/∂zⱼ = sₖ(δₖⱼ − sⱼ); sₖ cancels.",
        r"Use $\partial s_{k}/\partial z_{j} = s_{k}(\delta_{kj} - s_{j})$; $s_{k}$ cancels.",
    ),
    (
        "The targets form a distribution: Σₖ yₖ = 1.",
        r"The targets form a distribution: "
        r"$\sum_{k} y_{k} = 1$.",
    ),
    ("∂ log u = (1/u) ∂u.", r"$\partial \log u = (1/u) \partial u$."),
    (
        "n×1 probabilities, s = softmax(z)",
        r"$n\times 1$ probabilities, "
        r"$s = \operatorname{softmax} (z)$",
    ),
    ("KL(p̂ ‖ s)", r"$\mathrm{KL} (\hat{p} \| s)$"),
    ("Σ_k f_k δ_kj → f_j", r"$\sum_{k} f_{k} \delta_{kj} \to f_{j}$"),
    ("Yᵀ1/N", r"$Y^{\top}1/N$"),
    # One superscript: X^{-}^{\top} is a double superscript, which stops pdflatex.
    ("the (p, q) entry of X⁻ᵀ.", r"the (p, q) entry of $X^{-\top}$."),
    ("100% of a & {c} — “quoted” café", r"100\% of a \& \{c\} --- ``quoted'' caf{\'e}"),
    ("kept $\\frac{1}{2}$ as is", "kept $\\frac{1}{2}$ as is"),
    ("a < b | c_d", r"a \textless{} b \textbar{} $c_{d}$"),
    ("T×T 0/1 mask", r"$T\times T\ 0/1$ mask"),  # math mode would glue T0/1
    ("S = QKᵀ/√d", r"$S = Q K^{\top}/\sqrt d$"),  # a product of two matrices
    ("O = PV: rows", "$O = P V$: rows"),
    ("NLL = H(p̂, p)", r"$\mathrm{NLL} = H(\hat{p}, p)$"),  # one name
    ("The CPU is fast", "The CPU is fast"),
    # The radical over the whole parenthesis (it covered the "(" alone), a subscript after
    # a call (printed as a literal underscore), the expectation as the formulas print it
    # (𝔼, not E), and DFT as one name in a formula (it broke a heading in two).
    ("x̂ = (x − μ)/√(σ² + ε)", r"$\hat{x} = (x - \mu )/\sqrt{\sigma^{2} + \varepsilon}$"),
    ("DFT(x)_q at q", r"$\mathrm{DFT} (x)_{q}$ at q"),
    ("E[gₖ] = γ", r"$\mathbb{E}[g_{k}] = \gamma$"),
    ("Re DFT(x ⊛ y) at q", r"Re $\mathrm{DFT} (x \circledast y)$ at q"),
]


# x^{a}^{b} or x_{a}_{b}: "Double superscript", a pdflatex error.
DOUBLE_SCRIPT = re.compile(r"([\^_])(\{[^{}]*\}|\\?\w)\1")


@pytest.mark.parametrize(("text", "expected"), PROSE, ids=[t for t, _ in PROSE])
def test_prose_golden(text, expected):
    assert text_to_latex(text) == expected


def test_prose_of_every_derivation_is_pdflatex_safe():
    """All the Unicode a derivation writes becomes ASCII LaTeX, with balanced $ signs."""
    from workbench.core import registry
    from workbench.render.handout import available_slugs

    for slug in available_slugs():
        d = registry.get(slug)
        texts = [d.title, d.summary, d.conventions, registry.statement(slug)]
        texts += [t for pair in d.variables for t in pair]
        texts += [r.label for r in d.results]
        texts += [t for e in d.exercises for t in (e.prompt, e.solution, e.source)]
        outs = [text_to_latex(text) for text in texts]
        # a note as the handout prints it: its {} fields filled from the step
        outs += [note_to_latex(step) for step in d.steps]
        texts += [step.note for step in d.steps]
        for text, out in zip(texts, outs, strict=True):
            assert out.isascii(), (slug, text, out)
            assert len(re.findall(r"(?<!\\)\$", out)) % 2 == 0, (slug, text, out)
            assert not DOUBLE_SCRIPT.search(out), (slug, text, out)


@pytest.mark.parametrize(
    ("x", "digits", "expected"),
    [
        (2.84e-17, 1, r"2.8 \times 10^{-17}"),
        (1e-5, 0, "10^{-5}"),
        (0.25, 1, "0.25"),
        (1234.5, 1, r"1.2 \times 10^{3}"),
        (0.0, 1, "0"),
    ],
)
def test_number_golden(x, digits, expected):
    assert number_to_latex(x, digits) == expected


# Unicode has no subscript q (nor b, c, d, …): "δₖq" prints as δ_k q, the q outside the
# subscript. A Kronecker delta in a note is written δ_kq, which reads as δ_{kq}.
DELTA_SPLIT = re.compile(r"\\delta_\{[^}]*\}[A-Za-z]")


def test_a_delta_in_a_note_keeps_both_indices_in_its_subscript():
    assert DELTA_SPLIT.search(text_to_latex("δₖq"))  # the defect this test is for
    assert not DELTA_SPLIT.search(text_to_latex("δ_kq"))
    from workbench.core import registry

    split = [
        f"{slug}: {result.label} step {number}: {step.note}"
        for slug in registry.slugs()
        for result in registry.get(slug).results
        for number, step in enumerate(result.steps, 1)
        if step.note and DELTA_SPLIT.search(text_to_latex(step.note))
    ]
    assert not split, "\n".join(split)


def test_terms_print_in_a_teachers_order():
    """Positive terms first: s − p̂, x_j − μ, 2Sw − 2λw (SymPy wrote −p̂ + s, −μ + x_j).

    Planted: with SymPy's own order (``conventional_terms`` returning its input's terms
    unchanged) the first three assertions fail.
    """
    p, s, mu, lam = sp.symbols("p s mu lambda")
    n = sp.Symbol("n", integer=True, positive=True)
    x = sp.MatrixSymbol("x", n, 1)
    S, w = sp.MatrixSymbol("S", n, n), sp.MatrixSymbol("w", n, 1)
    j = sp.Symbol("j", integer=True)
    assert expr_to_latex(s - p) == "s - p"
    assert expr_to_latex(x[j, 0] - mu) == r"x_{j} - \mu"
    assert expr_to_latex(2 * S * w - 2 * lam * w) == r"2 S w - 2 \lambda w"
    assert expr_to_latex(-p - s) == "- p - s"  # all negative: order kept
    assert expr_to_latex(1 - p) == "1 - p"


def test_a_variance_prints_as_a_square_and_epsilon_as_the_prose_writes_it():
    """``sigma_sq`` is σ² (layer norm printed its ``sigma2`` as σ₂), ε is ``\\varepsilon``
    as in the notes (it printed ϵ). Planted: the old name ``sigma2`` prints σ₂ here."""
    v, e = sp.Symbol("sigma_sq"), sp.Symbol("epsilon")
    assert expr_to_latex(v) == r"\sigma^{2}"
    assert expr_to_latex(v**2) == r"\left(\sigma^{2}\right)^{2}"
    assert expr_to_latex(sp.sqrt(v + e)) == r"\sqrt{\sigma^{2} + \varepsilon}"
    assert expr_to_latex(sp.Symbol("sigma2")) == r"\sigma_{2}"  # σ₂: a second σ


def test_an_expectation_prints_as_blackboard_e_and_reads_back():
    """SymPy's Expectation printed an upright E where Adam's recurrences print 𝔼, and the
    reader refused \\mathbb{E} (it read the E of \\operatorname{E} only)."""
    from sympy.stats import Expectation, Normal

    from workbench.verify.latex_reader import read_latex

    x = Normal("X", 0, 1)
    tex = expr_to_latex(Expectation(x**2))
    assert tex == r"\mathbb{E}\left[X^{2}\right]"
    assert read_latex(tex, {"X": x}) == Expectation(x**2)


def test_the_variances_of_two_layers_print_as_squares_with_the_layer_below():
    """The transformer block's row variances, columns named ``sigma_sq_1`` and
    ``sigma_sq_2``, are σ²₁ and σ²₂, as a name, an entry and inside a formula. They were
    named ``sigma2_1`` and printed σ₂₁ (σ with the subscript 21); planted, that name
    still does."""
    from derivations import transformer_block_backward as tb

    assert expr_to_latex(tb.var1) == r"\sigma^{2}_{1}"
    assert expr_to_latex(tb.var2[tb.p, 0]) == r"[\sigma^{2}_{2}]_{p}"
    assert r"\left(\sigma^{2}_{2} + \varepsilon \mathbf{1}_{T}\right)" in expr_to_latex(
        tb.GRADIENTS[tb.dX2]
    )
    assert expr_to_latex(sp.MatrixSymbol("sigma2_1", 3, 1)) == r"\sigma_{2 1}"


def test_the_entry_of_a_one_by_one_matrix_prints_as_its_name():
    """p[0, 0] of a 1 × 1 p is the number p: p(1 − p), not p₀(1 − p₀) (logistic regression).

    Planted: without the rule it prints ``\\left(1 - p_{0}\\right) p_{0}``.
    """
    p = sp.MatrixSymbol("p", 1, 1)
    assert expr_to_latex(p[0, 0] * (1 - p[0, 0])) == r"\left(1 - p\right) p"
    assert "p" in printed_names(p[0, 0] * (1 - p[0, 0]))


def test_a_function_of_a_step_number_prints_as_a_sequence_and_reads_back():
    """Adam's and momentum's gradients g(k) printed as g(k) in the boxes and g_k in the
    notation; a one-letter function of an integer is now g_k, a function of a real stays
    g(x), and the reader takes g_{k} back to g(k) (planted: a real argument stays g(x))."""
    from workbench.verify.latex_reader import read_latex

    k, x, g = sp.Symbol("k", integer=True), sp.Symbol("x"), sp.Function("g")
    assert expr_to_latex(g(k)) == "g_{k}" and expr_to_latex(g(k + 1) ** 2) == "g_{k + 1}^{2}"
    assert expr_to_latex(g(x)) == r"g{\left(x \right)}"
    assert read_latex("g_{k + 1}", {"g": g, "k": k}) == g(k + 1)
    assert read_latex("g_{k}^{2}", {"g": g, "k": k}) == g(k) ** 2


def test_what_a_name_or_a_call_does_not_mean_is_not_printed():
    """Review findings, each a formula that would have printed other than it reads: a
    conditional expectation lost its condition (SymPy's printer drops it), a square
    matrix named M_sq printed as M², and f(0), a value of f, printed as a term f₀."""
    from sympy.stats import Expectation, Normal

    x = Normal("X", 0, 1)
    assert expr_to_latex(Expectation(x, x > 0)) == r"\mathbb{E}\left[X \mid X > 0\right]"
    assert expr_to_latex(sp.MatrixSymbol("M_sq", 3, 3)) == "M_{sq}"
    assert expr_to_latex(sp.Function("f")(sp.Integer(0))) == r"f{\left(0 \right)}"


def test_a_regulariser_comes_after_what_it_guards():
    """Failed before the fix: layer norm's steps printed √(ε + σ²) and its prose
    √(σ² + ε); SymPy orders ε first. Every step of layernorm-backward now prints σ² + ε,
    and the sum reads back as the same expression."""
    from workbench.core import registry
    from workbench.render.latex import steps_to_latex

    eps, var = sp.symbols("epsilon sigma_sq")
    assert expr_to_latex(sp.sqrt(var + eps)) == r"\sqrt{\sigma^{2} + \varepsilon}"
    assert expr_to_latex(eps - var) == r"\varepsilon - \sigma^{2}"  # a difference keeps its order
    derivation = registry.get("layernorm-backward")
    tex = "".join(steps_to_latex(r) for r in derivation.results)
    assert r"\sigma^{2} + \varepsilon" in tex and r"\varepsilon + \sigma" not in tex


def test_a_call_of_names_is_mathematics_but_prose_numbering_is_not():
    """tr(AXB), det(X), E(h) read as mathematics in a case's name or a note; review found
    that the first rule also took part A(i) and option B(ii) for formulas."""
    assert text_to_latex("tr(AXB)").startswith(r"$\operatorname{tr}")
    assert text_to_latex("E(h) at random h").startswith("$E(h)$")
    assert text_to_latex("part A(i) and option B(ii)") == "part A(i) and option B(ii)"
