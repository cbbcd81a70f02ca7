"""Notebook display: earned marks only, the static fallback, and the stepper's bounds."""

from __future__ import annotations

from dataclasses import replace
from html import unescape

import pytest

from workbench.checks.report import CheckResult, DerivationReport
from workbench.core import registry
from workbench.notebook.display import (
    derivation_html,
    derivation_latex,
    marks_for,
    show,
    step_through,
    tabulate,
)
from workbench.notebook.marks import MARK_HINT, MARK_LATEX, MARK_TEXT
from workbench.notebook.stepper import NO_WIDGETS_NOTE, Stepper, StepperState, frames
from workbench.render.latex import Mark

CHECK = "✓"


def earned_marks(html: str) -> int:
    """How many step marks in ``html`` hold a check mark (the legend is not a mark)."""
    return html.count(f"{MARK_TEXT[Mark.PROVED]}</span>") + html.count(
        f"{MARK_TEXT[Mark.TESTED]}</span>"
    )


@pytest.fixture(scope="module")
def softmax():
    return registry.get("softmax-jacobian")


@pytest.fixture(scope="module")
def report(softmax):
    return softmax.check(only=("steps",))


def steps_report(derivation, verdicts: dict[int, tuple[bool, str]]) -> DerivationReport:
    """A report whose ``steps`` check covers only the step numbers in ``verdicts``."""
    result = derivation.results[0]
    items = tuple(
        {
            "what": f"{result.label} step {n} ({result.steps[n - 1].rule})",
            "passed": passed,
            "method": method,
        }
        for n, (passed, method) in verdicts.items()
    )
    check = CheckResult("steps", all(p for p, _ in verdicts.values()), "tested", items=items)
    return DerivationReport(derivation.slug, derivation.title, (check,))


# ---------------------------------------------------------------- marks are earned
def test_only_earned_marks_hold_a_check_mark():
    for mark in Mark:
        assert (CHECK in MARK_TEXT[mark]) == mark.earned
        assert ("checkmark" in MARK_LATEX[mark]) == mark.earned


def test_an_unchecked_derivation_shows_no_marks(softmax):
    assert marks_for(softmax) is None
    html, latex, text = softmax._repr_html_(), softmax._repr_latex_(), str(show(softmax))
    for rendering in (html, latex, text):
        assert CHECK not in rendering and "checkmark" not in rendering
    # No marks at all, not even "not checked" beside each step.
    assert MARK_HINT[Mark.UNCHECKED] not in html
    assert MARK_LATEX[Mark.UNCHECKED] not in latex
    assert f"] {MARK_TEXT[Mark.UNCHECKED]}" not in text
    assert "show(d, check=True)" in softmax._repr_html_()


def test_a_passing_report_marks_every_step(softmax, report):
    view = show(softmax, report)
    steps = len(softmax.results[0].steps)
    assert report.passed
    assert set(view.marks.values()) <= {Mark.PROVED, Mark.TESTED}
    assert len(view.marks) == steps
    assert earned_marks(view._repr_html_()) == steps
    assert view._repr_latex_().count("checkmark") == steps


def test_check_true_runs_the_step_checks(softmax):
    marks = marks_for(softmax, check=True)
    assert marks is not None and all(m.earned for m in marks.values())


def test_failed_undecided_and_missing_steps_earn_no_check_mark(softmax):
    verdicts = {1: (True, "proved"), 2: (False, "failed"), 3: (False, "undecided")}
    report = steps_report(softmax, verdicts)
    marks = marks_for(softmax, report)
    assert marks[(softmax.results[0].label, 1)] is Mark.PROVED
    assert marks[(softmax.results[0].label, 2)] is Mark.FAILED
    assert marks[(softmax.results[0].label, 3)] is Mark.UNDECIDED
    html = derivation_html(softmax, marks)
    assert earned_marks(html) == 1  # step 1 only
    assert html.count(CHECK) == 1 + 2  # and the legend's two
    assert "✗ failed" in html and "? undecided" in html
    assert html.count(MARK_HINT[Mark.UNCHECKED]) == len(softmax.results[0].steps) - 3
    assert derivation_latex(softmax, marks).count("checkmark") == 1


def test_a_report_of_another_derivation_is_refused(softmax, report):
    other = registry.get("cross-entropy-gradient")
    with pytest.raises(ValueError, match="softmax-jacobian"):
        show(other, report)


def test_a_passed_check_with_a_failed_step_item_still_fails_that_step(softmax, report):
    # Marks follow each step's own verdict, never the summary.
    check = report.check("steps")
    items = list(check.items)
    items[0] = {**items[0], "passed": False, "method": "failed"}
    tampered = replace(report, checks=(replace(check, items=tuple(items)),))
    marks = marks_for(softmax, tampered)
    assert marks[(softmax.results[0].label, 1)] is Mark.FAILED


# ---------------------------------------------------------------- check tables
def test_the_report_table_shows_every_check_and_its_numbers(softmax):
    report = softmax.check(seed=0)
    view = tabulate(report)
    html = view._repr_html_()
    for check in report.checks:
        assert check.name in html
        if check.max_error is not None:
            assert f"{check.max_error:.1e}" in html
    assert "passed every check run" in str(view)


def test_the_report_table_says_when_a_check_failed():
    failed = CheckResult("finite differences", False, "central", 0.5, "1 of 1 failed")
    report = DerivationReport("x", "X", (failed,))
    assert "did NOT pass" in tabulate(report)._repr_html_()
    assert CHECK not in tabulate(report)._repr_html_()


# ---------------------------------------------------------------- the stepper
def test_the_state_stops_at_both_ends():
    state = StepperState(3)
    assert state.at_start and not state.at_end
    assert state.previous() is False and state.position == 0
    assert state.next() and state.next() and state.position == 2
    assert state.at_end and state.next() is False and state.position == 2
    assert state.previous() and state.position == 1
    with pytest.raises(ValueError):
        StepperState(0)


def test_frames_cover_every_step_of_every_result():
    derivation = registry.get("nll-equals-cross-entropy")
    all_frames = frames(derivation, None)
    assert len(all_frames) == len(derivation.steps)
    assert [f.step for f in all_frames] == list(derivation.steps)
    assert all(f.mark is None for f in all_frames)


def test_without_widgets_the_stepper_lists_every_step(softmax, report):
    stepper = step_through(softmax, report, widgets=False)
    bundle = stepper._repr_mimebundle_()
    assert set(bundle) == {"text/html", "text/plain"}
    assert NO_WIDGETS_NOTE in bundle["text/html"]
    for step in softmax.steps:
        assert step.note.replace("'", "&#x27;") in bundle["text/html"]
        assert step.note in bundle["text/plain"]
    assert earned_marks(bundle["text/html"]) == len(softmax.steps)


def test_an_unchecked_stepper_shows_no_marks(softmax):
    bundle = Stepper(softmax, None, widgets=False)._repr_mimebundle_()
    assert CHECK not in bundle["text/html"] and CHECK not in bundle["text/plain"]


def test_the_widget_buttons_move_within_bounds(softmax, report):
    pytest.importorskip("ipywidgets")
    stepper = step_through(softmax, report, widgets=True)
    stepper.widget()
    controls = stepper._controls
    count = len(softmax.steps)
    assert controls["previous"].disabled and not controls["next"].disabled
    assert controls["position"].value == f"step 1 of {count}"
    assert softmax.steps[0].note in controls["body"].value
    controls["previous"].click()
    assert stepper.state.position == 0
    for _ in range(count + 2):  # more clicks than steps: stops at the last
        controls["next"].click()
    assert stepper.state.position == count - 1
    assert controls["next"].disabled and not controls["previous"].disabled
    assert controls["position"].value == f"step {count} of {count}"
    assert softmax.steps[-1].rule in controls["body"].value
    controls["previous"].click()
    assert stepper.current.step is softmax.steps[-2]


def test_the_widget_carries_the_static_list_for_viewers_without_widgets(softmax, report):
    pytest.importorskip("ipywidgets")
    bundle = step_through(softmax, report, widgets=True)._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert bundle["text/html"].count("rule:") == len(softmax.steps)


# ---------------------------------------------------------------- plots and prompts
def test_plots_fit_what_a_case_is(softmax):
    pytest.importorskip("matplotlib")
    from workbench.notebook.plots import plots_for

    plots = plots_for(softmax).plots
    assert plots[0].caption.startswith("The Jacobian") and "tangents" in plots[1].caption
    assert plots[0]._repr_png_().startswith(b"\x89PNG")
    assert "<figcaption" in plots[0]._repr_html_()


@pytest.mark.slow
def test_attention_gets_its_attention_maps():
    pytest.importorskip("matplotlib")
    from workbench.notebook.plots import plots_for

    attention = plots_for(registry.get("attention-gradient"))
    assert all("attends" in p.caption for p in attention.plots)
    png = attention.plots[0]._repr_png_()
    assert png.startswith(b"\x89PNG")
    assert "<figcaption" in attention.plots[0]._repr_html_()


def test_several_heads_get_one_plot_of_their_attention_and_their_shares():
    """The notebook's heads plot, like the handout's figure, labels its colour bars and
    says how closely the heads' terms add up to the checked ∂L/∂H."""
    pytest.importorskip("matplotlib")
    from workbench.notebook.plots import plots_for

    plots = plots_for(registry.get("multi-head-attention")).plots
    (heads,) = [p for p in plots if "Each head's attention matrix" in p.caption]
    gap = float(heads.caption.rsplit(" to ", 1)[1].rstrip("."))
    assert gap < 1e-12, heads.caption
    bars = [ax.get_ylabel() for ax in heads.figure.axes if ax.get_label() == "<colorbar>"]
    assert sorted(bars) == ["P1", "P2", "its term of ∂L/∂H", "its term of ∂L/∂H"], bars


def test_a_tangent_plot_reports_the_slopes_it_compared():
    pytest.importorskip("matplotlib")
    from workbench.notebook.plots import plot_tangent

    caption = plot_tangent(registry.get("cross-entropy-gradient")).caption
    predicted, measured = [float(w.rstrip(";")) for w in caption.split() if _number(w)][:2]
    assert predicted == pytest.approx(measured, abs=1e-8)


def _number(word: str) -> bool:
    try:
        float(word.rstrip(";"))
    except ValueError:
        return False
    return "." in word


def test_your_turn_folds_the_solutions_away(softmax):
    from workbench.notebook.guide import your_turn

    html = your_turn(softmax)._repr_html_()
    assert html.count("<details>") == len(softmax.exercises)
    assert 'check_catalogue_claim("softmax-jacobian", claim' in unescape(html)


def _one_step(goal, closed, domain=None):
    """A one-result derivation: ``goal`` differentiated in one step."""
    from workbench.core import rules
    from workbench.core.derivation import Chain, Derivation

    result = Chain(goal).apply(rules.Differentiate(), "differentiate").result("r", closed)
    return Derivation("toy", "Toy", "", "", (), {}, (result,), (), domain=domain or {})


def test_a_result_in_one_variable_is_drawn_with_its_closed_form():
    pytest.importorskip("matplotlib")
    import sympy as sp

    from workbench.notebook.curves import one_variable, plot_result_curves

    x = sp.Symbol("x")
    derivation = _one_step(sp.Derivative(x**3, x), 3 * x**2)
    variable, expr, fixed = one_variable(derivation, derivation.results[0])
    assert (variable, expr, fixed) == (x, 3 * x**2, {})
    assert "largest gap at the dots is 0.0e+00" in plot_result_curves(derivation).caption


def test_a_step_count_is_drawn_with_the_other_symbols_held_and_said():
    pytest.importorskip("matplotlib")
    import sympy as sp

    from workbench.notebook.curves import one_variable, plot_result_curves

    t, beta = sp.Symbol("t", integer=True, positive=True), sp.Symbol("beta")
    goal, closed = sp.Derivative(beta**t, beta), t * beta ** (t - 1)
    derivation = _one_step(goal, closed, {"beta": (0.1, 0.9)})
    variable, _, fixed = one_variable(derivation, derivation.results[0])
    assert variable == t and fixed == {beta: 0.5}
    assert "Held fixed: r with beta = 0.5." in plot_result_curves(derivation).caption


def test_results_in_matrix_sizes_or_many_symbols_get_no_curve(softmax):
    from workbench.notebook.curves import plot_result_curves

    assert plot_result_curves(softmax) is None


def test_curves_do_not_unfold_results_by_a_matrix_entry(monkeypatch):
    """Before the fix the calculus notebook never finished: every transformer-block result
    (∂L/∂W₂[p,q], …) was unfolded into the whole block before it was found to be in no one
    scalar. Planted: without the entry test in one_variable, resolve is called."""
    from workbench.notebook import curves

    unfolded = []
    monkeypatch.setattr(curves.algebra, "resolve", lambda *args: unfolded.append(args))
    block = registry.get("transformer-block-backward")
    assert all(curves.one_variable(block, r) is None for r in block.results)
    assert curves.plot_result_curves(block) is None
    assert not unfolded  # (one_variable catches what resolve raises: count the calls)


def test_the_terminal_orders_a_sum_as_the_handouts_do():
    """Failed before the fix: `workbench show` printed SymPy's order, -phat + s and
    (1 - 2*eta)*(-c + x), where the handouts print s − p̂ and x − c. The text still reads
    back as the same expression."""
    import sympy as sp

    from workbench.render.text import closed_form_text, to_text
    from workbench.verify import check_catalogue_claim

    nll = registry.get("nll-equals-cross-entropy").result("∂NLL/∂zⱼ")
    assert closed_form_text(nll.closed_form) == "s - phat"
    x, c, eps, var = sp.symbols("x c epsilon sigma_sq")
    assert to_text(x - c) == "x - c" and to_text(sp.sqrt(var + eps)) == "sqrt(sigma_sq + epsilon)"
    report = check_catalogue_claim("nll-equals-cross-entropy", "s - phat", result="∂NLL/∂zⱼ")
    assert report.verdict == "correct", report.detail


def test_the_sweep_labels_its_curves_in_the_derivations_symbols():
    """Failed before the fix: the legend said "output 0 … output 5", the y axis had no
    label, the x axis said z[0] and the caption began "Case 'vector'"."""
    pytest.importorskip("matplotlib")
    from workbench.notebook.plots import plot_sweep

    plot = plot_sweep(registry.get("softmax-jacobian"))
    ax = plot.figure.axes[0]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [f"s{c}" for c in "₀₁₂₃₄₅"]
    assert ax.get_ylabel() == "sᵢ" and ax.get_xlabel().startswith("z₀ ")
    assert plot.caption.startswith("The outputs s₀ … s₅ as z₀ moves (case 'vector')")
    scalar = plot_sweep(registry.get("cross-entropy-gradient"))
    assert scalar.figure.axes[0].get_ylabel() == "L" and scalar.caption.startswith("The function L")
