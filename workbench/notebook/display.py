"""Derivations in a notebook: the chain of steps with earned marks, and check tables.

A derivation shown here carries a mark beside a step only when a real check report
earned it (✓S proved symbolically, ✓N tested numerically, as in the handouts); without
a report there are no marks at all, and ``check=True`` runs the step checks first.
IPython is never imported here: the views are plain objects with ``_repr_html_`` /
``_repr_latex_``, which Jupyter finds by itself. The stepper with Next/Previous buttons
is :func:`step_through` (ipywidgets, imported lazily, in :mod:`workbench.notebook.stepper`).

Example:
    >>> from workbench.core import registry
    >>> d = registry.get("softmax-jacobian")
    >>> "✓" in show(d)._repr_html_()              # no report: no marks
    False
    >>> view = show(d, check=True)                 # runs the step checks    # doctest: +SKIP
    >>> tabulate(d.check())                        # the checks and their numbers # doctest: +SKIP
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from workbench.notebook.marks import (
    MARK_LATEX,
    MARK_TEXT,
    mark_html,
)
from workbench.notebook.stepper import Stepper, note_html
from workbench.render.latex import Mark, expr_to_latex
from workbench.render.marks import boxed_form, matrix_lhs, step_marks
from workbench.render.text import note_to_text, to_text

if TYPE_CHECKING:
    from workbench.checks.report import DerivationReport
    from workbench.core.derivation import Derivation, Result

__all__ = [
    "DerivationView",
    "ReportView",
    "derivation_html",
    "derivation_latex",
    "derivation_text",
    "mark_html",
    "marks_for",
    "show",
    "step_through",
    "tabulate",
]

Marks = Mapping[tuple[str, int], Mark]

LEGEND = "✓S proved symbolically · ✓N tested at random points · marks come from the checks run"
UNCHECKED_NOTE = "Steps not checked yet: show(d, check=True) runs the step checks."


# ---------------------------------------------------------------- marks
def marks_for(
    derivation: Derivation,
    report: DerivationReport | None = None,
    *,
    check: bool = False,
    seed: int = 0,
) -> dict[tuple[str, int], Mark] | None:
    """(result label, step number) → the mark a report earned; None when nothing was checked.

    Args:
        report: a report of ``derivation``'s checks; its ``steps`` check decides.
        check: with no report, run the step and fact checks now.
    """
    if report is None and check:
        # The facts check too: a step resting on a fact earns its mark only with it.
        report = derivation.check(only=("steps", "facts"), seed=seed)
    if report is None:
        return None
    if report.slug != derivation.slug:
        raise ValueError(f"report of {report.slug!r} given for {derivation.slug!r}")
    return step_marks(derivation, report)


def _mark(marks: Marks | None, label: str, number: int) -> Mark | None:
    if marks is None:
        return None
    return marks.get((label, number), Mark.UNCHECKED)


# ---------------------------------------------------------------- renderings
def _math(latex: str, display: bool = True) -> str:
    """LaTeX for MathJax inside HTML (escaped: MathJax reads the decoded text)."""
    body = rf"\displaystyle {latex}" if display else latex
    return html.escape(rf"\({body}\)")


def _cell(content: str, style: str = "") -> str:
    return f"<td style='text-align:left;vertical-align:middle;{style}'>{content}</td>"


def result_html(result: Result, marks: Marks | None = None) -> str:
    """One result's chain as an HTML table: goal, then (n), = after, rule, mark, note."""
    rows = [f"<tr>{_cell('')}{_cell(_math(expr_to_latex(result.goal)))}</tr>"]
    for number, step in enumerate(result.steps, 1):
        mark = _mark(marks, result.label, number)
        rows.append(
            "<tr>"
            + _cell(f"({number})", "color:#6e7781")
            + _cell(_math("= " + expr_to_latex(step.after)))
            + _cell(f"<i title='{html.escape(step.statement)}'>{html.escape(step.rule)}</i>")
            + (_cell(mark_html(mark)) if mark is not None else "")
            + _cell(note_html(step), "font-size:90%;min-width:14em")
            + "</tr>"
        )
    closed = _math(f"{matrix_lhs(result)} = {expr_to_latex(boxed_form(result))}")
    return (
        f"<p><b>{html.escape(result.label)}</b></p>"
        f"<div style='overflow-x:auto'><table>{''.join(rows)}</table></div>"
        f"<p>closed form: {closed}</p>"
    )


def derivation_html(derivation: Derivation, marks: Marks | None = None) -> str:
    """The whole derivation as HTML with MathJax math; marks only where ``marks`` has them."""
    parts = [
        f"<h4>{html.escape(derivation.title)}</h4>",
        f"<p>{html.escape(derivation.summary)}</p>",
        f"<p><i>Convention:</i> {html.escape(derivation.conventions)}</p>",
    ]
    parts += [result_html(result, marks) for result in derivation.results]
    footer = LEGEND if marks is not None else UNCHECKED_NOTE
    parts.append(f"<p style='color:#6e7781;font-size:85%'>{html.escape(footer)}</p>")
    return f"<div class='workbench-derivation'>{''.join(parts)}</div>"


def _latex_text(text: str) -> str:
    """Plain text made safe inside ``\\text{...}`` for MathJax and LaTeX alike."""
    for char in "\\{}_#%&$^~":
        text = text.replace(char, " ")
    return text


def derivation_latex(derivation: Derivation, marks: Marks | None = None) -> str:
    """Every result's chain as ``align*``, rule and mark in a right column (MathJax-safe)."""
    blocks = []
    for result in derivation.results:
        rows = [expr_to_latex(result.goal)]
        for number, step in enumerate(result.steps, 1):
            mark = _mark(marks, result.label, number)
            tag = rf"\text{{({number}) {_latex_text(step.rule)}}}"
            if mark is not None:
                tag += rf"\quad {MARK_LATEX[mark]}"
            rows.append(rf"&= {expr_to_latex(step.after)} && {tag}")
        body = " \\\\\n".join(rows)
        blocks.append(f"\\begin{{align*}}\n{body}\n\\end{{align*}}")
    return "\n".join(blocks)


def derivation_text(derivation: Derivation, marks: Marks | None = None) -> str:
    """Plain text: numbered steps with rule, mark and note (for terminals and fallbacks)."""
    lines = [f"{derivation.title} ({derivation.slug})", derivation.summary]
    for result in derivation.results:
        lines += ["", f"── {result.label} ──", f"   {to_text(result.goal)}"]
        for number, step in enumerate(result.steps, 1):
            mark = _mark(marks, result.label, number)
            suffix = f" {MARK_TEXT[mark]}" if mark is not None else ""
            lines.append(f"{number:>2}. = {to_text(step.after)}")
            lines.append(f"      [{step.rule}]{suffix} {note_to_text(step)}")
    lines += ["", LEGEND if marks is not None else UNCHECKED_NOTE]
    return "\n".join(lines)


# ---------------------------------------------------------------- views
@dataclass(frozen=True)
class DerivationView:
    """A derivation and the marks its checks earned (None: unchecked), ready to display."""

    derivation: Derivation
    marks: Mapping[tuple[str, int], Mark] | None = None

    def _repr_html_(self) -> str:
        return derivation_html(self.derivation, self.marks)

    def _repr_latex_(self) -> str:
        return derivation_latex(self.derivation, self.marks)

    def __str__(self) -> str:
        return derivation_text(self.derivation, self.marks)

    def _repr_pretty_(self, printer, cycle: bool) -> None:
        printer.text(str(self))


def show(
    derivation: Derivation,
    report: DerivationReport | None = None,
    *,
    check: bool = False,
    seed: int = 0,
) -> DerivationView:
    """The chain of steps, each with its rule, note and (if checked) its earned mark.

    Args:
        report: ``derivation.check(...)``; its ``steps`` check decides the marks.
        check: with no report, run the step checks now.
    """
    return DerivationView(derivation, marks_for(derivation, report, check=check, seed=seed))


def step_through(
    derivation: Derivation,
    report: DerivationReport | None = None,
    *,
    check: bool = False,
    widgets: bool | None = None,
):
    """One step at a time with Next/Previous buttons; a static list without ipywidgets.

    See :class:`workbench.notebook.stepper.Stepper`.
    """
    return Stepper(derivation, marks_for(derivation, report, check=check), widgets=widgets)


@dataclass(frozen=True)
class ReportView:
    """A check report as a table: each check, how it was decided, its numbers."""

    report: DerivationReport

    def rows(self) -> list[tuple[str, str, str, str, str, str]]:
        """(mark, check, method, worst error, seconds, detail) per check."""
        out = []
        for c in self.report.checks:
            error = f"{c.max_error:.1e}" if c.max_error is not None else ""
            out.append((_check_mark(c), c.name, c.method, error, f"{c.seconds:.2f}", c.detail))
        return out

    def _repr_html_(self) -> str:
        head = "".join(
            f"<th style='text-align:left'>{h}</th>"
            for h in ("", "check", "decided by", "worst relative error", "seconds", "detail")
        )
        body = ""
        for row in self.rows():
            colour = {"✓": "#1a7f37", "assumed": "#6e7781"}.get(row[0], "#cf222e")
            cells = [_cell(f"<b style='color:{colour}'>{row[0]}</b>")]
            cells += [_cell(html.escape(value)) for value in row[1:]]
            body += f"<tr>{''.join(cells)}</tr>"
        verdict = "passed every check run" if self.report.passed else "did NOT pass"
        title = f"{self.report.title}: {verdict} ({self.report.seconds:.1f} s)"
        return f"<div><b>{html.escape(title)}</b><table><tr>{head}</tr>{body}</table></div>"

    def __str__(self) -> str:
        verdict = "passed every check run" if self.report.passed else "did NOT pass"
        lines = [f"{self.report.title}: {verdict} ({self.report.seconds:.1f} s)"]
        lines += [
            f"  {m} {name:<20} {how:<13} {err:>8}  {detail}"
            for m, name, how, err, _, detail in self.rows()
        ]
        return "\n".join(lines)

    def _repr_pretty_(self, printer, cycle: bool) -> None:
        printer.text(str(self))


def _check_mark(check) -> str:
    """✓ only for a check that earned it; "assumed" for one that rests on assumptions."""
    if not check.passed:
        return "✗"
    return "✓" if check.earned else "assumed"


def tabulate(report: DerivationReport) -> ReportView:
    """The report of :meth:`Derivation.check` as a table that shows every number."""
    return ReportView(report)
