"""The learner's side of a notebook: the curriculum's contents, and "your turn" prompts.

:func:`contents` lists every stage of the curriculum with its results (title and the
result in one line, or "planned" when its module does not exist yet); :func:`your_turn`
shows a derivation's exercises with their worked solutions folded away, and how to
check an answer of one's own with :mod:`workbench.verify.api`.

Example:
    >>> from workbench.core import registry
    >>> "check_catalogue_claim" in your_turn(registry.get("softmax-jacobian"))._repr_html_()
    True
"""

from __future__ import annotations

import html
from dataclasses import dataclass

from workbench.core import registry, stages
from workbench.core.derivation import Derivation


@dataclass(frozen=True)
class ContentsView:
    """Each stage and its results, in curriculum order."""

    rows: tuple[tuple[str, str, str, str], ...]  # (stage, slug, title, statement or "")

    def _repr_html_(self) -> str:
        out, current = [], None
        for stage, slug, title, statement in self.rows:
            if stage != current:
                heading = f"<th colspan='3' style='text-align:left'>{html.escape(stage)}</th>"
                out.append(f"<tr>{heading}</tr>")
                current = stage
            what = html.escape(statement) if statement else "<i style='color:#6e7781'>planned</i>"
            out.append(
                f"<tr><td style='text-align:left'><code>{html.escape(slug)}</code></td>"
                f"<td style='text-align:left'>{html.escape(title)}</td>"
                f"<td style='text-align:left'>{what}</td></tr>"
            )
        return f"<table>{''.join(out)}</table>"

    def __repr__(self) -> str:
        return "\n".join(
            f"{stage:<28} {slug:<30} {statement or '(planned)'}"
            for stage, slug, _, statement in self.rows
        )


def contents() -> ContentsView:
    """Every stage and its results; results without a module yet are listed as planned."""
    rows = []
    available = set(registry.slugs())
    for stage, slugs in stages.STAGES:
        for slug in slugs:
            if slug in available:
                rows.append((stage, slug, registry.title(slug), registry.statement(slug)))
            else:
                rows.append((stage, slug, "", ""))
    return ContentsView(tuple(rows))


@dataclass(frozen=True)
class YourTurn:
    """A derivation's exercises (solutions folded) and how to check an answer of one's own."""

    derivation: Derivation

    def _repr_html_(self) -> str:
        d = self.derivation
        parts = [f"<h4>Your turn: {html.escape(d.title)}</h4>"]
        for number, exercise in enumerate(d.exercises, 1):
            parts.append(
                f"<p><b>{number}.</b> {html.escape(exercise.prompt)}</p>"
                f"<details><summary>worked solution</summary>"
                f"<p>{html.escape(exercise.solution)}</p></details>"
            )
        parts.append(self._claim_hint())
        return "".join(parts)

    def _claim_hint(self) -> str:
        d = self.derivation
        if not d.cases:
            return (
                "<p>Check a derivative of your own with "
                "<code>check_claim(function, wrt, claim, shapes=...)</code>.</p>"
            )
        names = "; ".join(f"{name}: {meaning}" for name, meaning in d.variables)
        wrt = ", ".join(sorted({w.name for c in d.cases for w in c.wrt}))
        call = html.escape(f'check_catalogue_claim("{d.slug}", claim, wrt=...)')
        return (
            f"<p>Check your own closed form with <code>{call}</code>, written in the "
            f"derivation's symbols ({html.escape(names)}), differentiating with respect to "
            f"one of {html.escape(wrt)}. Convention: {html.escape(d.conventions)}</p>"
        )

    def __repr__(self) -> str:
        lines = [f"Your turn: {self.derivation.title}"]
        lines += [f"{n}. {e.prompt}" for n, e in enumerate(self.derivation.exercises, 1)]
        return "\n".join(lines)


def your_turn(derivation: Derivation) -> YourTurn:
    """The derivation's exercises, solutions folded away, and how to check your own answer."""
    return YourTurn(derivation)
