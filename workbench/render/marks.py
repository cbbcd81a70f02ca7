"""What each step and each result earned, read from a check report.

The one place a report's verdicts become marks; every face (handouts, the notebook,
the terminal) asks here, so a mark is never set anywhere else.
"""

from __future__ import annotations

from collections.abc import Mapping

import sympy as sp
from sympy.matrices.expressions.matexpr import MatrixElement

from workbench.checks.report import DerivationReport
from workbench.core.derivation import Derivation
from workbench.render.latex import Mark, expr_to_latex, mark_of


def mark_from_item(item: Mapping) -> Mark:
    """The mark for one item of a check report (``passed`` and ``method``)."""
    if item.get("method") == "undecided":
        return Mark.UNDECIDED
    return mark_of(bool(item.get("passed")), str(item.get("method")))


def step_marks(derivation: Derivation, report: DerivationReport) -> dict[tuple[str, int], Mark]:
    """(result label, step number) → the mark the report's ``steps`` check earned.

    A step the report does not mention (the check was not run, or crashed before it)
    gets no entry, and so is rendered "not checked".
    """
    items = _items(report, "steps")
    marks = {}
    for result in derivation.results:
        for number, step in enumerate(result.steps, 1):
            # The name checks.py gives the step's item: "<label> step <n> (<rule>)".
            item = items.get(f"{result.label} step {number} ({step.rule})")
            if item is not None:
                marks[(result.label, number)] = _with_facts(
                    mark_from_item(item), _fact_items(report, result.label, number), step
                )
    return marks


def _fact_items(report: DerivationReport, label: str, number: int) -> list[Mapping]:
    return [
        item
        for item in _items(report, "facts").values()
        if item.get("result") == label and item.get("step") == number
    ]


def _with_facts(mark: Mark, fact_items: list[Mapping], step) -> Mark:
    """A step that rests on facts keeps its check mark only if every fact was checked:
    a fact that failed fails the step, an assumed one makes it "assumed", and facts the
    report did not judge (the facts check was not run) leave it "not checked"."""
    if not step.facts or not mark.earned:
        return mark
    if len(fact_items) < len(step.facts):
        return Mark.UNCHECKED
    if any(not item.get("passed") for item in fact_items):
        return Mark.FAILED
    if any(item.get("method") == "assumed" for item in fact_items):
        return Mark.ASSUMED
    return mark


def closed_form_mark(report: DerivationReport, label: str) -> Mark:
    """How the derived result was compared with its closed form, or UNCHECKED."""
    item = _items(report, "closed form").get(f"{label} against the closed form")
    return Mark.UNCHECKED if item is None else mark_from_item(item)


def _items(report: DerivationReport, check: str) -> dict[str, Mapping]:
    try:
        return {item["what"]: item for item in report.check(check).items}
    except KeyError:
        return {}


def boxed_form(result):
    """The closed form as the matrix box shows it: the whole matrix when the closed form
    is given as its entry at the result's index (kept so to be compared as matrices),
    e.g. ``(2XᵀX(w − w*))ⱼ`` → ``2XᵀX(w − w*)``; the closed form itself otherwise."""
    form = result.closed_form
    return form.parent if isinstance(form, MatrixElement) and _at_entry(form, result) else form


def _at_entry(element, result) -> bool:
    return result.entry is not None and tuple(element.args[1:]) == tuple(result.entry)


def matrix_lhs(result) -> str:
    """The left side of a closed form in matrix notation: ∂sᵢ/∂zⱼ → ∂s/∂z, ∂L/∂zⱼ → ∂L/∂z."""
    goal = result.goal
    if isinstance(goal, MatrixElement) and _at_entry(goal, result):
        return expr_to_latex(goal.parent)  # (2Xᵀ(Xw − y))ⱼ → 2Xᵀ(Xw − y)
    if not isinstance(goal, sp.Derivative):
        return expr_to_latex(goal)

    def whole(e):
        return getattr(e, "parent", e)

    (variable,) = goal.variables
    top, below = expr_to_latex(whole(goal.expr)), expr_to_latex(whole(variable))
    return rf"\frac{{\partial {top}}}{{\partial {below}}}"
