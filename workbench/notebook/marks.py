"""The marks a step earned, as a notebook shows them: text, colour, tooltip, LaTeX.

Shared by :mod:`workbench.notebook.display` and :mod:`workbench.notebook.stepper`.
"""

from __future__ import annotations

import html
from collections.abc import Mapping

from workbench.render.latex import Mark

# Only the two earned marks may hold a check mark (tests/workbench/test_display.py).
MARK_TEXT: Mapping[Mark, str] = {
    Mark.PROVED: "✓S",
    Mark.TESTED: "✓N",
    Mark.FAILED: "✗ failed",
    Mark.UNDECIDED: "? undecided",
    Mark.UNCHECKED: "not checked",
    Mark.ASSUMED: "assumed",
}
MARK_HINT: Mapping[Mark, str] = {
    Mark.PROVED: "proved symbolically",
    Mark.TESTED: "tested at exact or 50-digit random points",
    Mark.FAILED: "the check found the two sides different",
    Mark.UNDECIDED: "no tier decided within the time budget",
    Mark.UNCHECKED: "no check was run on this step",
    Mark.ASSUMED: "the step rests on a fact the result assumes; nothing checked that fact",
}
MARK_COLOUR: Mapping[Mark, str] = {
    Mark.PROVED: "#1a7f37",
    Mark.TESTED: "#1a7f37",
    Mark.FAILED: "#cf222e",
    Mark.UNDECIDED: "#9a6700",
    Mark.UNCHECKED: "#6e7781",
    Mark.ASSUMED: "#6e7781",
}
MARK_LATEX: Mapping[Mark, str] = {
    Mark.PROVED: r"\checkmark_{\mathrm{S}}",
    Mark.TESTED: r"\checkmark_{\mathrm{N}}",
    Mark.FAILED: r"\times\ \text{failed}",
    Mark.UNDECIDED: r"?\ \text{undecided}",
    Mark.UNCHECKED: r"\text{not checked}",
    Mark.ASSUMED: r"\text{assumed}",
}


def mark_html(mark: Mark) -> str:
    """One mark as a coloured span whose tooltip says what it means."""
    return (
        f"<span style='color:{MARK_COLOUR[mark]};white-space:nowrap' "
        f"title='{MARK_HINT[mark]}'>{html.escape(MARK_TEXT[mark])}</span>"
    )
