"""Handout layout: nothing runs into the margin, Monte Carlo checks say so, the pack in parts.

The overfull-box check reads pdflatex's own log. Two handouts compile in the default run
(the one whose long display rows ran 50 pt and 59 pt into the margin, and one whose
solutions held unbreakable tuples of numbers); every handout and the course pack compile
under ``slow`` in ``test_handout.py``.
"""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import sympy as sp

from workbench.checks.report import CheckResult, DerivationReport
from workbench.core import registry, stages
from workbench.render import handout_sections, layout, sampling, texbuild
from workbench.render.handout import Handout, build_handout, build_pack, pack_parts
from workbench.render.latex import expr_to_latex, number_to_latex

LOG = """\
Overfull \\hbox (50.2719pt too wide) detected at line 61
[]
Underfull \\hbox (badness 10000) in paragraph at lines 3--4
Overfull \\hbox (0.29117pt too wide) in paragraph at lines 309--310
Overfull \\vbox (12.0pt too high) has occurred while \\output is active
"""


def test_overfull_boxes_are_read_from_the_log():
    boxes = texbuild.overfull_boxes(LOG)
    assert [(b.kind, b.points) for b in boxes] == [
        ("hbox", 50.2719),
        ("hbox", 0.29117),
        ("vbox", 12.0),
    ]
    assert boxes[1].where == "in paragraph at lines 309--310"
    assert "50.2719 pt too wide" in str(boxes[0])
    assert texbuild.overfull_boxes(LOG.replace("Overfull", "Underfull")) == ()


def test_a_long_sum_is_split_between_its_terms():
    x = sp.symbols("x0:12")
    wide = sum(sp.cos(2 * sp.pi * xi / (i + 1)) * sp.sin(xi) for i, xi in enumerate(x))
    lines = layout.split_terms(wide)
    assert len(lines) > 1
    assert all(layout.display_width(line) <= layout.ROW_BUDGET for line in lines)
    assert all(line.startswith(("+", "-")) for line in lines[1:])
    assert layout.split_terms(x[0] + x[1]) == [expr_to_latex(x[0] + x[1])]  # short: one line


def test_tuples_in_inline_math_may_break():
    text = r"so $s = (0.0900, 0.2447, 0.6652)$ and \$5, then $a, b$"
    out = layout.breakable_inline(text)
    assert out.count(r"\allowbreak") == 3  # two in the tuple, one in $a, b$; not the \$
    assert layout.breakable_inline(out) == out  # applied twice: no double breaks


# ---------------------------------------------------------------- Monte Carlo
def test_monte_carlo_checks_are_named_and_explained():
    items = (
        {"what": "KL by sampling 400 000 draws from p (5 standard errors)", "passed": True,
         "method": "numeric", "max_rel_error": 3.1e-3, "tolerance": 6.2e-3},
        {"what": "KL by numerical integration (mpmath.quad) at random pairs", "passed": True,
         "method": "numeric", "max_rel_error": 2e-16, "tolerance": 1e-10},
    )  # fmt: skip
    table = handout_sections._computations_table(items)
    assert "& Monte Carlo &" in table and "& deterministic &" in table
    assert r"$N = 400\,000$ random draws" in table
    assert r"$5$ standard errors" in table and r"5.7 \times 10^{-7}" in table
    assert f"${number_to_latex(6.2e-3)}$ &" in table  # the tolerance, beside the error
    check = CheckResult("numeric", True, "numeric", 3.1e-3, items=items)
    row = handout_sections._check_row(None, check)
    assert "1 Monte Carlo, 1 deterministic" in row


@pytest.mark.parametrize(
    "name, expected",
    [
        ("E[mₜ], t = 1..12, by 20 000 simulated runs (5 standard errors)", (20000, "runs", 5)),
        ("perplexity of 100 000 sampled tokens (5 standard errors)", (100000, "tokens", 5)),
        ("H(0.9) by sampling 200 000 flips (5 standard errors)", (200000, "flips", 5)),
        ("numpy.fft: fft(x ⊛ y) against fft(x)·fft(y), N = 64", None),
        ("product, nats and bits forms at 200 random probabilities", None),
    ],
)
def test_monte_carlo_is_told_from_the_name(name, expected):
    found = sampling.monte_carlo(name)
    assert (found and (found.samples, found.unit, found.standard_errors)) == expected


def test_every_sampling_check_of_the_registry_is_recognised():
    """A check that samples must show as Monte Carlo: its error is noise, not a defect."""
    for slug in registry.slugs():
        for name, _ in registry.get(slug).numeric_checks:
            if "standard error" in name:
                assert sampling.monte_carlo(name) is not None, (slug, name)


# ---------------------------------------------------------------- course pack
def _stub(slug: str) -> Handout:
    return Handout(slug, "", f"\\section{{{slug}}}\n", (), True)


def test_the_pack_comes_in_parts_tier_1_first_then_each_stage():
    slugs = list(registry.slugs())
    parts = pack_parts([_stub(s) for s in slugs])
    titles = [title for title, _ in parts]
    assert titles[0] == "Tier 1: the five key results"
    assert [h.slug for h in parts[0][1]] == [s for s in slugs if s in stages.KEY_RESULTS]
    placed = [h.slug for _, members in parts for h in members]
    assert sorted(placed) == sorted(slugs)  # every handout once
    for title, members in parts[1:]:
        stage = title.lower()
        assert all(stages.stage_of(h.slug) == stage for h in members), title
    tex, _ = build_pack([_stub(s) for s in slugs])
    assert tex.count("\\part{") == len(parts)
    assert "\\setcounter{tocdepth}{1}" in tex  # parts and handouts, no subsections


# ---------------------------------------------------------------- real PDFs
def require_pdflatex() -> None:
    """Skipped without pdflatex locally; a failure in CI, which installs it."""
    if shutil.which("pdflatex") is None:
        message = "pdflatex is not installed (.ci/run installs it with apt-get)"
        if os.environ.get("CI", "").lower() in {"1", "true"}:
            pytest.fail(f"CI=true but {message}")
        pytest.skip(message)


def overfull_of(handout: Handout, folder: Path) -> list[str]:
    """Compile; on overfull boxes keep the PDF and its log side by side in ``folder``."""
    build = texbuild.compile_pdf(handout.tex, handout.assets, handout.slug)
    if build.overfull:
        (folder / f"{handout.slug}.pdf").write_bytes(build.pdf)
        (folder / f"{handout.slug}.log").write_text(build.log, encoding="latin-1")
    return [str(b) for b in build.overfull]


@pytest.fixture(scope="module")
def convolution():
    derivation = registry.get("convolution-theorem")
    return derivation, derivation.check()


def test_convolution_handout_has_no_overfull_box(convolution, tmp_path):
    require_pdflatex()
    assert overfull_of(build_handout(*convolution), tmp_path) == [], tmp_path


def test_the_overfull_check_catches_a_display_that_is_not_broken(
    convolution, tmp_path, monkeypatch
):
    """Planted: the rows printed as one line each, as before; steps (8) ran 50 and 59 pt out."""
    require_pdflatex()
    from workbench.render.latex import steps_to_latex

    monkeypatch.setattr(layout, "steps_block", steps_to_latex)
    found = overfull_of(build_handout(*convolution), tmp_path)
    assert found and all("detected at line" in b for b in found)
    assert (tmp_path / "convolution-theorem.log").exists()  # the evidence is kept


@pytest.mark.slow
def test_solutions_with_tuples_of_numbers_stay_in_the_margins(tmp_path):
    require_pdflatex()
    derivation = registry.get("cross-entropy-gradient")
    report = derivation.check()
    handout = build_handout(derivation, report)
    assert overfull_of(handout, tmp_path) == [], tmp_path
    unbroken = replace(
        handout, tex=handout.tex.replace(r"\allowbreak ", "").replace(r"\sloppy", "")
    )
    assert overfull_of(unbroken, tmp_path), "planted: without the breaks the solution overflows"


# ---------------------------------------------------------------- figures
def test_heatmap_cells_never_read_minus_zero():
    """Failed before the fix: a value of -0.001 was written "-0.00"."""
    from matplotlib.figure import Figure as MplFigure

    from workbench.render.figures import heatmap

    ax = MplFigure().add_subplot()
    heatmap(ax, [[-0.001, 0.5], [-0.5, 0.0]], "")
    assert [t.get_text() for t in ax.texts] == ["0.00", "0.50", "-0.50", "0.00"]


@pytest.mark.parametrize(
    "slug, name",
    [
        ("pca-variance", "variance-angle"),
        ("adam-bias-correction", "bias-factor"),
        ("gaussian-kl", "two-gaussians"),
        ("convolution-theorem", "toeplitz"),
        ("bernoulli-entropy", "closed-forms"),
        ("gradient-descent-parabola", "closed-forms"),
        ("momentum-as-ewma", "step-curve"),
        ("finite-difference-error", "error-model"),
    ],
)
def test_a_result_gets_the_figure_of_its_closed_form(slug, name):
    from workbench.render.result_figures import result_figures

    assert [f.name for f in result_figures(registry.get(slug))] == [name]


def test_the_bias_figure_needs_exactly_one_minus_beta_to_the_t():
    """Momentum's (1 − βᵗ)/(1 − β) is not a bias factor: drawn as one, its caption lied."""
    from workbench.render.result_figures import _bias_factor

    beta, t, gamma = sp.symbols("beta1 t gamma")
    assert _bias_factor(gamma * (1 - beta**t)) == (1 - beta**t, beta)
    assert _bias_factor(gamma * (1 - beta**t) / (1 - beta)) is None
    assert _bias_factor(gamma * (1 - beta ** (t + 1))) is None


def test_the_toeplitz_figure_reads_the_band_off_the_closed_form():
    from workbench.render.result_figures import toeplitz

    result = registry.get("convolution-theorem").results[2]
    caption = toeplitz(result).caption
    assert "shifted one place to the right" in caption and "$K = 3$" in caption


def test_step_size_plot_only_once_in_an_appendix_and_figures_stay_put(derivation_report):
    derivation, report = derivation_report
    tex = build_handout(derivation, report).tex
    assert tex.count("step-size.pdf") == 1
    assert tex.index("Appendix: the step of the finite-difference check") < tex.index(
        "step-size.pdf"
    )
    assert tex.index("Worked solutions") < tex.index("step-size.pdf")
    assert "\\begin{figure}[H]" in tex and "[!htbp]" not in tex
    assert "pca-variance-variance-angle.pdf" in tex


@pytest.fixture(scope="module")
def derivation_report():
    """PCA with an empty report: where figures go does not depend on the verdicts (and an
    empty report marks nothing, so the handout says it is not verified)."""
    derivation = registry.get("pca-variance")
    return derivation, DerivationReport(derivation.slug, derivation.title, ())


def test_a_scalar_loss_gets_heatmaps_of_its_gradients():
    """Labelled in the inputs' symbols; file names stay ASCII ("aᵀx" made a Unicode path)."""
    derivation = registry.get("matrix-calculus-identities")
    from workbench.render.figures import figures_for

    names = [f.name for f in figures_for(derivation)]
    assert "gradients-a-x" in names and all(n.isascii() for n in names)
    figure = next(f for f in figures_for(derivation) if f.name == "gradients-a-x")
    assert r"$\partial L/\partial x$" in figure.caption


def test_a_derivation_without_cases_shows_the_code_of_its_independent_computations(convolution):
    """Failed before: "From maths to code" held one paragraph and no listing (ten handouts
    had nothing else in it). Now it shows each independent computation the checks ran,
    and each listing, run, computes what the check computed (printed = run). Planted:
    the listing of one route under another's title computes something else."""
    import functools
    import importlib

    import numpy as np

    derivation, _ = convolution
    tex = build_handout(*convolution).tex
    section = tex.split("From maths to code}", 1)[1].split("\\section", 1)[0]
    assert "there is no generated code to show" in section
    assert section.count("\\begin{lstlisting}") == len(derivation.numeric_checks) == 3
    module = importlib.import_module("derivations.convolution_theorem")
    listings = re.findall(r"\\begin\{lstlisting\}\n(.*?)\\end\{lstlisting\}", section, re.S)

    def run(source, route):
        namespace = dict(vars(module))
        exec(source, namespace)  # the listing as printed, in its module's names
        (name,) = re.findall(r"^def (\w+)", source, re.M)
        function = namespace[name]
        if isinstance(route, functools.partial):
            function = functools.partial(function, *route.args, **route.keywords)
        return function(0)

    for source, (_, route) in zip(listings, derivation.numeric_checks, strict=True):
        printed, ran = run(source, route), route(0)
        assert all(np.array_equal(a, b) for a, b in zip(printed[:2], ran[:2], strict=True))
    swapped = run(listings[2], derivation.numeric_checks[0][1])
    assert not np.array_equal(swapped[0], derivation.numeric_checks[0][1](0)[0])


def test_backprop_gets_its_computational_graph_read_off_the_forward_expression():
    from workbench.render.graph_figure import computational_graph, graph_nodes, wants_graph

    case = registry.get("two-layer-backprop").cases[0]
    labels = [node.label for node in graph_nodes(case.forward)]
    assert {"W1", "b1", "W2", "b2", "x", "y"} <= set(labels)
    # The loss comes last, with its sign: −yᵀ log s was drawn as a bare product, L = yᵀ log s.
    assert "tanh (entrywise)" in labels and labels[-1] == "$-1 \\times$ product"
    assert wants_graph(case)
    # Inputs are written as the derivation writes them, W₂ and not the program's W2
    # (failed before the fix: the boxes and the caption said W2, b1).
    shown = {node.shown for node in graph_nodes(case.forward) if not node.children}
    assert {"$W_{2}$", "$b_{1}$", "$x$"} <= shown and "W2" not in shown
    caption = computational_graph(case).caption
    assert "$W_{2}$" in caption and "$W2$" not in caption
    # A forward built with literal matrices and tuples would draw the code, not the maths.
    assert not wants_graph(registry.get("logistic-regression-gradient").cases[0])


def test_a_staged_network_gets_the_graph_of_its_stages_read_off_its_definitions():
    """The block's handout draws its forward pass as the network of its named stages,
    residual connections included. Planted: the block without its second residual
    (Y = F) loses the edge X₂ → Y in the figure's graph."""
    from workbench.core.derivation import Stages
    from workbench.render.figures import figures_for
    from workbench.render.graph_figure import stage_layers

    block = registry.get("transformer-block-backward")
    (case,) = block.cases
    assert "stages-gelu" in [f.name for f in figures_for(block)]
    layer, uses = stage_layers(case)
    by_name = {str(k): [str(u) for u in v] for k, v in uses.items()}
    assert set(by_name["X2"]) == {"X", "O", "W_o"} and set(by_name["Y"]) == {"X2", "F"}
    assert len(uses) == 19 and all(layer[u] < layer[k] for k, v in uses.items() for u in v)
    definitions = dict(case.stages.definitions)
    (y,) = [k for k in definitions if str(k) == "Y"]
    (f,) = [k for k in definitions if str(k) == "F"]
    definitions[y] = f
    planted = replace(case, stages=Stages(definitions, case.stages.forward, case.stages.gradients))
    assert "X2" not in [str(u) for u in stage_layers(planted)[1][y]]


def test_the_error_model_is_the_integral_of_the_boxed_slope_and_marks_its_minimum():
    from workbench.render.result_figures import error_model

    result = next(r for r in registry.get("finite-difference-error").results if r.label == "∂E/∂h")
    caption = error_model(result).caption
    assert r"E = \frac{F \varepsilon}{h} + \frac{M h^{2}}{6}" in caption
    assert "h^* = 8.7" in caption  # (3ε)^(1/3) at M = F = 1, ε = 2^-52


def _own_figures(slug: str) -> list[str]:
    """The figures of a handout other than the step-size plot, which shows the check."""
    from workbench.render.figures import figures_for

    return [f.name for f in figures_for(registry.get(slug)) if f.name != "step-size"]


@pytest.mark.parametrize("slug", registry.slugs())
def test_every_handout_has_a_figure_of_its_own(slug):
    """Failed before: five handouts (softmax shift, Gaussian MLE, perplexity, mutual
    information, maximum entropy) had none. See the planted mistake below."""
    assert _own_figures(slug), f"{slug}: no figure of its result"


def test_a_handout_whose_figure_is_removed_has_none_of_its_own(monkeypatch):
    """The planted mistake: without the softmax-family or the joint-table drawer, the
    test above goes red."""
    from workbench.render import result_figures

    kept = tuple(d for d in result_figures.DRAWERS if d[0] not in ("softmax family", "joint table"))
    monkeypatch.setattr(result_figures, "DRAWERS", kept)
    assert _own_figures("max-entropy-softmax") == [] and _own_figures("mutual-information") == []


@pytest.mark.parametrize(
    "slug, name, said",
    [
        ("max-entropy-softmax", "softmax-family", "every entry is $1/4$"),
        ("softmax-shift-invariance", "softmax-family", "every entry is flat"),
        ("gaussian-mle", "score-zero", r"\frac{\partial \ell}{\partial \mu} = 0$"),
        ("perplexity", "closed-forms", r"$0 \le H \le 3$"),
        ("mutual-information", "joint-table", r"every value is $\ge 0$"),
    ],
)
def test_the_new_result_figures_say_what_they_measured(slug, name, said):
    from workbench.render.result_figures import result_figures

    (figure,) = result_figures(registry.get(slug))
    assert figure.name == name and said in figure.caption


def test_the_joint_table_figure_is_computed_from_the_closed_form():
    """The value the caption gives at P(X = Y) = 0.999 is Σ P log(P / p_x p_yᵀ) computed
    here directly; a planted mistake in the closed form (the marginals' log doubled)
    changes it, so the figure draws the closed form, not a formula of its own."""
    from workbench.core.functions import Elementwise
    from workbench.render.result_figures import AGREEMENT, joint_table

    derivation = registry.get("mutual-information")
    (result,) = derivation.results
    a = AGREEMENT[-1]
    joint = np.array([[a, 1 - a], [1 - a, a]]) / 2
    direct = float(np.sum(joint * np.log(joint / np.outer(joint.sum(1), joint.sum(0)))))
    said = f"rises to ${number_to_latex(direct)}$"
    assert said in joint_table(result, definitions=derivation.definitions).caption
    outer = next(
        e for e in sp.preorder_traversal(result.closed_form)
        if isinstance(e, Elementwise) and isinstance(e.arg, sp.MatMul)
    )  # fmt: skip
    wrong = result.closed_form.xreplace({outer: 2 * outer})
    planted = joint_table(replace(result, closed_form=wrong), definitions=derivation.definitions)
    assert said not in planted.caption


def test_the_step_size_caption_says_what_its_curve_does():
    """On least squares (quadratic in w) central differences make no truncation error: the
    curve only falls as h grows. The caption said "falls as h² until rounding takes over:
    the best step is near h = 0.032" for it as for every case; it now says so only where
    the error rises again at large h (two-layer backprop), and a case with no sizes gets
    no empty parentheses."""
    from workbench.render.figures import _truncation_shows, step_size_curve, step_size_errors

    quadratic = registry.get("least-squares").cases[0]
    curved = registry.get("two-layer-backprop").cases[0]
    assert not _truncation_shows(step_size_errors(quadratic)[1])
    assert _truncation_shows(step_size_errors(curved)[1])
    caption = step_size_curve(quadratic).caption
    assert "at most quadratic" in caption and "$h^2$" not in caption and "best step" not in caption
    assert "falls as $h^2$" in step_size_curve(curved).caption
    bare = step_size_curve(registry.get("finite-difference-error").cases[0]).caption
    assert ", )" not in bare and "''" in bare


def test_a_graph_shows_each_minus_sign_once():
    """−λAB: the factor −λ is a node of its own (−1 × λ); the product of it with A and B
    has no number left. It printed "−λ × product" beside a λ node: λ twice."""
    from workbench.render.graph_figure import graph_nodes

    a, b, lam = sp.MatrixSymbol("A", 2, 2), sp.MatrixSymbol("B", 2, 2), sp.Symbol("lambda")
    labels = [node.label for node in graph_nodes(-lam * a * b)]
    assert labels == ["lambda", "$-1 \\times$ product", "A", "B", "product"]


def test_a_route_given_the_closed_form_says_what_it_was_given():
    """A route built with functools.partial (the KL's quadrature, given the closed form
    it compares with) shows that argument under its listing: its source alone does not."""
    derivation = registry.get("gaussian-kl")
    tex = build_handout(derivation, derivation.check()).tex
    section = tex.split("From maths to code}", 1)[1].split("\\section", 1)[0]
    from workbench.render.latex import expr_to_latex

    (_, quadrature), *_ = derivation.numeric_checks
    given = quadrature.args[0]
    assert f"Run with \\texttt{{kl}} ${{}} = {expr_to_latex(given)}$." in section
