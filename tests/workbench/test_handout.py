"""Handouts: honest marks, code panels, figures, files, the CLI, and (slow) real PDFs."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import sympy as sp

from workbench.checks.report import CheckResult, DerivationReport
from workbench.cli import main
from workbench.codegen.numeric import softmax as stable_softmax
from workbench.core import registry
from workbench.errors import LatexFailed, OutputExists, TexNotFound
from workbench.render import codepanel, figures, texbuild
from workbench.render.handout import HandoutOptions, available_slugs, build_handout, make_handouts
from workbench.render.latex import Mark
from workbench.render.marks import closed_form_mark, matrix_lhs, step_marks

IN_CI = os.environ.get("CI", "").lower() in {"1", "true"}
SLUG = "softmax-jacobian"


def require(tool: str) -> str:
    """The tool's path; skipped without it locally, a failure without it in CI."""
    path = shutil.which(tool)
    if path is None:
        message = f"{tool} is not installed (.ci/run installs it with apt-get)"
        if IN_CI:
            pytest.fail(f"CI=true but {message}")
        pytest.skip(message)
    return path


@pytest.fixture(scope="module")
def derivation():
    return registry.get(SLUG)


@pytest.fixture(scope="module")
def report(derivation):
    return derivation.check()


def with_step_items(report: DerivationReport, items) -> DerivationReport:
    """The report with its ``steps`` check replaced by one holding ``items``."""
    checks = tuple(
        replace(c, items=tuple(items), passed=all(i["passed"] for i in items))
        if c.name == "steps"
        else c
        for c in report.checks
    )
    return replace(report, checks=checks)


# ---------------------------------------------------------------- honesty
def test_marks_come_from_the_real_report(derivation, report):
    marks = step_marks(derivation, report)
    assert len(marks) == len(derivation.steps)  # every step found in the report
    assert all(mark.earned for mark in marks.values())


def test_failed_undecided_and_missing_steps_get_no_check_mark(derivation, report):
    label = derivation.results[0].label
    item = {"passed": True, "method": "proved"}
    items = [
        {**item, "what": f"{label} step {n} ({step.rule})"}
        for n, step in enumerate(derivation.results[0].steps, 1)
    ]
    items[1] = {**items[1], "passed": False, "method": "failed"}
    items[2] = {**items[2], "passed": False, "method": "undecided"}
    del items[3]  # step 4 was never checked
    doctored = with_step_items(report, items)
    marks = step_marks(derivation, doctored)
    assert (marks[(label, 2)], marks[(label, 3)]) == (Mark.FAILED, Mark.UNDECIDED)
    assert (label, 4) not in marks

    handout = build_handout(derivation, doctored)
    rows = [line for line in handout.tex.splitlines() if r"\tag*{(" in line]
    assert len(rows) == len(derivation.results[0].steps)
    assert "checkmark" in rows[0]
    for number in (2, 3, 4):
        assert "checkmark" not in rows[number - 1], rows[number - 1]
    assert "failed" in rows[1] and "undecided" in rows[2] and "not checked" in rows[3]
    assert "Not verified" in handout.tex  # and the handout says so up front
    assert not handout.passed
    # The title page too: it said "verified handout" above a report that failed.
    assert "verified handout" not in handout.tex and "handout, not verified" in handout.tex
    assert "--- verified handout}" in build_handout(derivation, report).tex


def test_a_report_without_the_steps_check_marks_nothing(derivation, report):
    bare = replace(report, checks=tuple(c for c in report.checks if c.name != "steps"))
    assert step_marks(derivation, bare) == {}
    tex = build_handout(derivation, bare).tex
    steps_block = tex[tex.index(r"\begin{align*}") : tex.index(r"\end{align*}")]
    assert "checkmark" not in steps_block


def test_closed_form_mark(derivation, report):
    label = derivation.results[0].label
    assert closed_form_mark(report, label) is Mark.PROVED
    assert closed_form_mark(replace(report, checks=()), label) is Mark.UNCHECKED


def test_a_report_of_another_derivation_is_refused(derivation, report):
    with pytest.raises(ValueError, match="report of"):
        build_handout(derivation, replace(report, slug="cross-entropy-gradient"))


# ---------------------------------------------------------------- contents
def test_exercises_cite_the_curriculums_guides_by_title_not_by_file(derivation, report):
    """Failed before the fix: every exercise ended "(shared/seeds/002)", a path of this
    repository, in a handout meant for a class."""
    from workbench.core.derivation import GUIDES

    tex = build_handout(derivation, report).tex
    assert "shared/seeds" not in tex and "(From: " in tex
    for slug in registry.slugs():
        for exercise in registry.get(slug).exercises:
            assert "shared/" not in exercise.cited, (slug, exercise.source)
            assert any(title in exercise.cited for title in GUIDES.values()), exercise.cited


def test_a_case_named_by_its_formula_keeps_its_symbols_in_the_heading():
    """Failed before the fix: the headings capitalised every case name, printing aᵀx as
    Aᵀx and xᵀAx as XᵀAx (other symbols), and tr(AXB), log det X as plain words."""
    from workbench.render.handout_sections import case_title
    from workbench.render.latex import text_to_latex

    names = [c.name for c in registry.get("matrix-calculus-identities").cases]
    headings = [text_to_latex(case_title(name)) for name in names]
    assert headings[:4] == [
        r"$a^{\top}x$",
        r"$x^{\top} A x$",
        r"$\operatorname{tr} (A X B )$",
        r"$\log \det (X)$",
    ], headings
    assert case_title("causal mask") == "Causal mask" and case_title("relu") == "relu"


def test_handout_contents_in_order(derivation, report):
    tex = build_handout(derivation, report).tex
    headings = re.findall(r"\\section\{([^}]*)\}", tex)
    assert headings == [
        "Notation and conventions",
        "The derivation",
        "Seeing the result",
        "From maths to code",
        "What was checked",
        "Exercises",
        "Worked solutions",
        "Appendix: the step of the finite-difference check",
    ]
    assert r"\boxed{\frac{\partial s}{\partial z} = \operatorname{diag}\left(s\right)" in tex
    assert r"\begin{lstlisting}" in tex and "def jacobian(z):" in tex
    assert "ran exactly this code" in tex and "latexify-py" not in tex  # no disclaimer
    assert "Listing only" not in tex
    assert r"$n = 2$ \textcolor{wbgreen}" in tex  # a size SymPy's diff was checked at
    assert tex.isascii()


def test_matrix_lhs(derivation):
    assert matrix_lhs(derivation.results[0]) == r"\frac{\partial s}{\partial z}"
    nll = registry.get("nll-equals-cross-entropy")
    assert [matrix_lhs(r) for r in nll.results] == [
        r"\mathrm{NLL}",
        "H",
        r"\frac{\partial \mathrm{NLL}}{\partial z}",
    ]


def test_available_slugs_are_the_catalogue_modules_that_exist():
    found = available_slugs()
    assert SLUG in found and set(found) <= set(registry.slugs())
    assert list(found) == [s for s in registry.slugs() if s in found]  # catalogue order


# ---------------------------------------------------------------- code panel
LATEXIFY = [
    ("def f(t):\n    return numpy.exp(t) / (1 + numpy.exp(t))\n", True, None),
    ("def f(a, b):\n    return a * b + numpy.sqrt(a)\n", True, None),
    (
        "def g(Z):\n    return softmax(Z, axis=1)\n",
        True,
        "latexify-py would drop the argument axis=1 of softmax",
    ),
    (
        "def g(z):\n    x0 = softmax(z)\n    return numpy.diagflat(x0) + (x0).dot(x0.T)\n",
        True,
        "latexify-py would print x0.dot literally",
    ),
    ("def g(z):\n    return numpy.diagflat(z)\n", True, "latexify-py does not know numpy.diagflat"),
    ("def g(z):\n    return z[0]\n", True, "latexify-py does not render z[0] faithfully"),
    (
        "def f(a, b):\n    return a * b\n",
        False,
        "its inputs are matrices, and latexify-py reads code as scalar algebra",
    ),
]


@pytest.mark.parametrize(("source", "scalar", "problem"), LATEXIFY)
def test_when_latexify_is_faithful(source, scalar, problem):
    assert codepanel.latexify_problem(source, scalar) == problem


def test_latexify_renders_a_faithful_function():
    latex = codepanel.latexify_source(LATEXIFY[0][0], "f")
    assert latex == r"f(t) = \frac{\exp t}{1 + \exp t}"


def test_panels_of_a_case_show_the_checked_code(derivation, report):
    checked = next(c for c in report.checks if c.name == "finite differences").items[0]["code"]
    forward, jacobian = codepanel.case_panels(derivation.cases[0], checked)
    assert forward.source == "def forward(z):\n    return softmax(z, axis=0)\n"
    assert jacobian.source == (
        "def jacobian(z):\n    s = softmax(z, axis=0)\n    return np.diagflat(s) - s @ s.T\n"
    )
    assert jacobian.checked and jacobian.latex is None and "axis=0" in jacobian.why_not
    namespace = {"np": np, "softmax": stable_softmax}
    exec(jacobian.source, namespace)  # the listing runs, and is the Jacobian
    z = np.array([[0.0], [0.0]])
    assert np.allclose(namespace["jacobian"](z), [[0.25, -0.25], [-0.25, 0.25]])
    assert not codepanel.case_panels(derivation.cases[0])[0].checked  # no report: said so


LISTING = re.compile(r"\\begin\{lstlisting\}\n(.*?)\\end\{lstlisting\}", re.S)


def test_the_printed_code_is_the_code_the_finite_difference_check_ran(derivation, report):
    """Printed = checked: every listing in the handout is, character for character, a
    text the finite-difference check evaluated (its report keeps them). Fails on a
    planted edit of one listing."""

    def printed_is_checked(tex: str) -> bool:
        ran = [code for c in report.checks if c.name == "finite differences"
               for item in c.items for code in item["code"]]  # fmt: skip
        return bool(ran) and LISTING.findall(tex) == ran

    tex = build_handout(derivation, report).tex
    assert printed_is_checked(tex)
    planted = tex.replace("s @ s.T", "s.T @ s", 1)
    assert planted != tex and not printed_is_checked(planted)


# ---------------------------------------------------------------- figures
def test_figures_fit_the_cases(derivation):
    names = [f.name for f in figures.figures_for(derivation)]
    assert names == ["jacobian-vector", "step-size"]
    assert [f.name for f in figures.figures_for(registry.get("cross-entropy-gradient"))] == [
        "prediction-target",  # its closed form s − y, drawn
        "gradients-vector",  # a scalar loss: its gradient, not a Jacobian
        "step-size",
    ]


def test_the_attention_derivation_gets_p_and_its_score_gradient():
    if "attention-gradient" not in available_slugs():
        pytest.skip("attention-gradient has no module yet")
    made = figures.figures_for(registry.get("attention-gradient"))
    pictures = [f for f in made if f.name.startswith("attention-")]
    assert len(pictures) == len(registry.get("attention-gradient").cases)
    assert any("causal mask" in f.caption for f in pictures)


def test_multi_head_attention_gets_each_heads_weights_and_its_share_of_the_gradient():
    """The heads figure: one attention matrix per head, and the heads' terms of ∂L/∂H
    adding up to the checked ∂L/∂H. Planted: a term of ∂L/∂H that belongs to no head
    (2 ∂L/∂H in place of ∂L/∂H) leaves a gap the caption states."""
    from dataclasses import replace

    import sympy as sp

    from workbench.core.derivation import Stages

    made = figures.figures_for(registry.get("multi-head-attention"))
    (heads,) = [f for f in made if f.name.startswith("heads-")]
    assert "dQ_{1} W_{q1}^{\\top}" in heads.caption and "dV_{2} W_{v2}^{\\top}" in heads.caption
    assert re.search(r"to \$(\d\.\d) \\times 10\^\{-1[5-7]\}\$", heads.caption), heads.caption
    assert not any(f.name.startswith("heads-") for f in figures.figures_for(
        registry.get("attention-gradient")))  # fmt: skip
    case = registry.get("multi-head-attention").cases[0]
    stages = case.stages
    extra = sp.MatMul(sp.MatrixSymbol("G", *stages.gradients[0].shape), sp.Identity(8))
    planted = replace(
        case,
        stages=Stages(
            stages.definitions,
            stages.forward,
            (sp.MatAdd(stages.gradients[0], extra), *stages.gradients[1:]),
        ),
    )
    caption = figures.head_maps(planted).caption
    assert "do \\textbf{not} add up" in caption and "the terms add up" not in caption, caption


def test_step_size_curve_is_a_v_and_the_complex_step_is_flat(derivation):
    steps_fd, fd, steps_cs, cs = figures.step_size_errors(derivation.cases[0])
    best = int(np.argmin(fd))
    assert 0 < best < len(fd) - 1  # a V: worse on both sides
    assert fd[best] < 1e-9 < fd[0] and fd[-1] > 100 * fd[best]
    assert 1e-8 < steps_fd[best] < 1e-3
    assert np.max(cs[steps_cs < 1e-10]) < 1e-14


def attention_case(mask: bool) -> tuple:
    t, d = sp.Symbol("T", integer=True, positive=True), sp.Symbol("d", integer=True)
    q, k, v, g = (sp.MatrixSymbol(name, t, d) for name in "QKVG")
    inputs = {q: lambda r, s: r.standard_normal(s), k: lambda r, s: r.standard_normal(s)}
    inputs |= {v: lambda r, s: r.standard_normal(s), g: lambda r, s: r.standard_normal(s)}
    if mask:
        inputs[sp.MatrixSymbol("M", t, t)] = lambda r, s: np.tril(np.ones(s))
    from workbench.core.derivation import Case

    case = Case(
        name="causal" if mask else "full",
        forward=sp.OneMatrix(1, t) * sp.HadamardProduct(g, v) * sp.OneMatrix(d, 1),
        wrt=(v,),
        gradients=(g,),
        samplers=inputs,
        sizes=(),
        numeric_size={t: 4, d: 3},
    )
    return case, inputs


@pytest.mark.parametrize("mask", [False, True])
def test_attention_gradient_agrees_with_finite_differences(mask):
    rng = np.random.default_rng(1)
    named = {n: rng.standard_normal((4, 3)) for n in "QKVG"}
    if mask:
        named["M"] = np.tril(np.ones((4, 4)))
    p, d_scores = figures.attention_matrices(named)
    scores = named["Q"] @ named["K"].T / np.sqrt(3)

    def loss(s):
        from workbench.codegen.numeric import masked_softmax, softmax

        probs = softmax(s, axis=1) if not mask else masked_softmax(s, named["M"])
        return float(np.sum(named["G"] * (probs @ named["V"])))

    numeric = np.zeros_like(scores)
    for index in np.ndindex(scores.shape):
        step = np.zeros_like(scores)
        step[index] = 1e-6
        numeric[index] = (loss(scores + step) - loss(scores - step)) / 2e-6
    assert np.allclose(p.sum(axis=1), 1) and np.allclose(d_scores.sum(axis=1), 0)
    assert np.allclose(d_scores, numeric, atol=1e-8)
    if mask:
        assert np.all(p[np.triu_indices(4, 1)] == 0)


@pytest.mark.parametrize("mask", [False, True])
def test_attention_figure_is_drawn_for_any_case_with_q_k_v_g(mask):
    case, _ = attention_case(mask)
    from workbench.core.derivation import Derivation

    d = Derivation("attention", "A", "", "", (), {}, (), (case,))
    made = figures.figures_for(d)
    assert [f.name for f in made] == [f"attention-{case.name}", "step-size"]
    assert made[0].pdf.startswith(b"%PDF") and ("causal mask" in made[0].caption) == mask


# ---------------------------------------------------------------- files
def test_outputs_are_written_once_and_kept_unless_forced(tmp_path):
    target = tmp_path / "sub" / "a.tex"
    assert texbuild.write_outputs({target: b"one"}) == [(str(target), "written")]
    assert texbuild.write_outputs({target: b"one"}) == [(str(target), "unchanged")]
    other = tmp_path / "b.tex"
    with pytest.raises(OutputExists, match="--force"):
        texbuild.write_outputs({other: b"new", target: b"two"})
    assert target.read_bytes() == b"one" and not other.exists()  # nothing written
    assert texbuild.write_outputs({target: b"two"}, force=True) == [(str(target), "overwritten")]
    assert target.read_bytes() == b"two"
    assert sorted(p.name for p in target.parent.iterdir()) == ["a.tex"]  # no temporaries


def test_an_interrupted_write_leaves_the_old_file(tmp_path, monkeypatch):
    target = tmp_path / "a.tex"
    target.write_bytes(b"old")

    def crash(*args):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="disk full"):
        texbuild.write_atomically(target, b"new")
    assert target.read_bytes() == b"old" and [p.name for p in tmp_path.iterdir()] == ["a.tex"]


def test_missing_tex_says_how_to_install_it(monkeypatch):
    monkeypatch.setattr(texbuild.shutil, "which", lambda name: None)
    with pytest.raises(TexNotFound) as caught:
        texbuild.find_engine()
    message = str(caught.value)
    assert "apt-get install texlive-latex-base texlive-latex-recommended" in message
    assert "\n" not in message


LOG = """\
This is pdfTeX, Version 3.141592653-2.6-1.40.24
(./handout.tex
./handout.tex:3: Undefined control sequence.
l.3 \\frac{1}{\\nosuchmacro
                          {2}}
No pages of output.
"""


def test_a_latex_error_quotes_its_log_and_source():
    message = texbuild.latex_error("handout", LOG, "a\nb\n$\\frac{1}{\\nosuchmacro{2}}$\n")
    assert message.splitlines()[0] == "pdflatex failed on handout.tex; from its log:"
    assert "./handout.tex:3: Undefined control sequence." in message
    assert "l.3 \\frac{1}{\\nosuchmacro" in message
    assert "source line 3: $\\frac{1}{\\nosuchmacro{2}}$" in message


def test_rerun_is_detected():
    assert texbuild.needs_rerun("LaTeX Warning: Label(s) may have changed. Rerun to get")
    assert not texbuild.needs_rerun("Output written on handout.pdf (3 pages).")


# ---------------------------------------------------------------- command line
def test_cli_needs_slugs_or_all(tmp_path, capsys):
    assert main(["handout", "-o", str(tmp_path)]) == 2
    assert "--all" in capsys.readouterr().err
    assert main(["handout", "no-such-thing", "-o", str(tmp_path)]) == 2
    assert "unknown derivation" in capsys.readouterr().err


def test_cli_help_teaches(capsys):
    with pytest.raises(SystemExit):
        main(["handout", "--help"])
    out = capsys.readouterr().out
    assert "✓S" in out and "--combined" in out and "apt-get install" in out


def test_cli_writes_tex_and_figures_and_respects_existing_files(tmp_path, capsys):
    args = ["handout", SLUG, "-o", str(tmp_path), "--quiet"]
    assert main(args) == 0
    tex = tmp_path / f"{SLUG}.tex"
    assert tex.exists() and (tmp_path / "figures" / f"{SLUG}-step-size.pdf").exists()
    assert "written" in capsys.readouterr().out
    assert main(args) == 0  # the same bytes again: nothing to overwrite
    assert "unchanged" in capsys.readouterr().out
    tex.write_text("edited by hand")
    assert main(args) == 2
    assert "--force" in capsys.readouterr().err
    assert tex.read_text() == "edited by hand"
    assert main([*args, "--force"]) == 0
    assert tex.read_text().startswith(r"\documentclass")


def test_pdf_without_tex_still_writes_the_tex(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(texbuild.shutil, "which", lambda name: None)
    assert main(["handout", SLUG, "-o", str(tmp_path), "--pdf", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "apt-get install texlive-latex-base" in err and err.count("\n") == 1
    assert (tmp_path / f"{SLUG}.tex").exists() and not (tmp_path / f"{SLUG}.pdf").exists()


def test_a_derivation_that_fails_its_checks_exits_1(tmp_path, monkeypatch, report):
    failing = replace(report, checks=(CheckResult("steps", False, "failed", None, "x"),))
    derivation = registry.get(SLUG)
    monkeypatch.setattr(type(derivation), "check", lambda self, **_: failing)
    _, failed = make_handouts([SLUG], HandoutOptions(tmp_path))
    assert failed == [SLUG]
    assert "Not verified" in (tmp_path / f"{SLUG}.tex").read_text()


# ---------------------------------------------------------------- exercises
def _softmax(z):
    e = np.exp(np.asarray(z, float) - np.max(z))
    return e / e.sum()


def _entropy(p, base=np.e):
    p = np.asarray(p, float)
    return float(-(p * np.log(p)).sum() / np.log(base))


def exercise_numbers():
    """slug → (exercise index, numbers its solution must state to 4 decimals)."""
    s = _softmax([1, 2, 3])
    y = np.array([1.0, 0, 0])
    grad = s - y
    z_next = np.array([1.0, 2, 3]) - 1.0 * grad
    labels, p = [0, 0, 1, 0], np.array([0.6, 0.4])
    phat = np.bincount(labels, minlength=2) / len(labels)
    nll = -np.mean(np.log(p[labels]))
    return {
        "softmax-jacobian": [
            (0, [*s, *_softmax([101, 102, 103])]),
            (1, [0.25]),
            (2, [*(s * (1 - s)), -s[1] * s[2]]),
        ],
        "cross-entropy-gradient": [
            (0, [*s, -np.log(s[0]), *grad, *z_next, -np.log(_softmax(z_next)[0])]),
        ],
        "nll-equals-cross-entropy": [
            (0, [np.log(2), _entropy([0.9, 0.1], 2), _entropy([0.9, 0.1])]),
            (1, [nll, -(phat * np.log(p)).sum(), _entropy(phat), (phat * np.log(phat / p)).sum()]),
            (2, [_entropy(phat)]),
        ],
    }


@pytest.mark.parametrize("slug", sorted(exercise_numbers()))
def test_exercise_solutions_state_recomputed_numbers(slug):
    exercises = registry.get(slug).exercises
    assert 2 <= len(exercises) <= 3 and all(e.source for e in exercises)
    for index, numbers in exercise_numbers()[slug]:
        for number in numbers:
            assert f"{number:.4f}" in exercises[index].solution, (slug, index, number)


# ---------------------------------------------------------------- real PDFs (slow)
@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """Every available handout and the course pack, compiled by pdflatex."""
    require("pdflatex")
    out = tmp_path_factory.mktemp("handouts")
    options = HandoutOptions(out, pdf=True, combined=True)
    written, failed = make_handouts(list(available_slugs()), options)
    return out, written, failed


@pytest.mark.slow
def test_every_handout_and_the_pack_compile(built):
    out, written, _ = built
    names = [*available_slugs(), "course-pack"]
    pdfinfo = require("pdfinfo")  # pages live in compressed object streams: ask poppler
    for name in names:
        pdf = out / f"{name}.pdf"
        assert pdf.read_bytes().startswith(b"%PDF"), name
        info = subprocess.run([pdfinfo, str(pdf)], capture_output=True, text=True, check=True)
        pages = int(re.search(r"^Pages:\s+(\d+)", info.stdout, re.M).group(1))
        assert pages >= 1, name
    assert {Path(p).name for p, _ in written} >= {f"{n}.pdf" for n in names}


@pytest.mark.slow
@pytest.mark.parametrize("name", [*available_slugs(), "course-pack"])
def test_compiled_log_has_nothing_undefined_and_no_overfull_box(built, name):
    """Nothing undefined and nothing into the margin (the convolution steps ran 50 and
    59 pt out, and ten solutions and source lines up to 57 pt, before the layout fixes)."""
    out, _, _ = built
    tex = (out / f"{name}.tex").read_text()
    assets = {str(p.relative_to(out)): p.read_bytes() for p in (out / "figures").glob("*.pdf")}
    build = texbuild.compile_pdf(tex, assets, name)
    assert "undefined" not in build.log.lower(), name
    if build.overfull:  # keep the evidence beside the PDF for whoever fixes it
        (out / f"{name}.log").write_text(build.log, encoding="latin-1")
    assert [str(b) for b in build.overfull] == [], f"{name}: see {out / name}.log"
    assert build.pdf == (out / f"{name}.pdf").read_bytes()  # reproducible, byte for byte


@pytest.mark.slow
def test_first_page_is_not_blank(built, tmp_path):
    from matplotlib.image import imread

    out, _, _ = built
    subprocess.run(
        [require("pdftoppm"), "-png", "-r", "40", "-f", "1", "-l", "1", "-singlefile",
         str(out / f"{SLUG}.pdf"), str(tmp_path / "page")],
        check=True,
    )  # fmt: skip
    pixels = imread(tmp_path / "page.png")
    assert pixels.shape[0] > 100 and pixels.std() > 0.02  # ink on the page, not all white
    assert (pixels[..., :3] < 0.5).mean() > 0.005


@pytest.mark.slow
def test_a_latex_error_shows_the_log_lines():
    require("pdflatex")
    broken = "\\documentclass{article}\n\\begin{document}\n\\nosuchmacro\n\\end{document}\n"
    with pytest.raises(LatexFailed) as caught:
        texbuild.compile_pdf(broken, name="broken")
    message = str(caught.value)
    assert "Undefined control sequence" in message and "source line 3: \\nosuchmacro" in message


@pytest.mark.slow
def test_a_faithful_latexify_rendering_sits_beside_its_listing():
    require("pdflatex")
    from workbench.render import handout_sections
    from workbench.render.handout import PREAMBLE

    source = LATEXIFY[0][0]
    panel = codepanel.CodePanel("a logistic", source, codepanel.latexify_source(source, "f"), None)
    body = handout_sections._panel(panel)
    assert "latexify-py typesets it as" in body and r"\frac{\exp t}{1 + \exp t}" in body
    tex = PREAMBLE + "\\begin{document}\n" + body + "\n\\end{document}\n"
    build = texbuild.compile_pdf(tex, name="panel")
    assert build.pdf.startswith(b"%PDF") and "undefined" not in build.log.lower()


def test_a_course_pack_section_refers_to_itself_and_its_derivation_by_number():
    """In the course pack a derivation is a section, numbered in its part: it said "this
    handout" and "§2" (the standalone numbering) 52 and 26 times. Now it says "this
    section" and refers to its derivation through a label, §2 alone and §7.2 in the
    pack; the compiled log shows no undefined reference (the slow test above)."""
    two_layer = registry.get("two-layer-backprop")  # results stated up front: says § too
    handout = build_handout(two_layer, two_layer.check())
    label = r"\label{derivation:two-layer-backprop}"
    ref = r"\S\ref{derivation:two-layer-backprop}"
    for tex in (handout.tex, handout.body):
        assert tex.count(label) == 1 and ref in tex and r"\S 2" not in tex
    assert "this handout" not in handout.body and "this section" in handout.body
    assert "this handout" in handout.tex and "this section" not in handout.tex
