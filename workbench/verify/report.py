"""The verifier's report: one immutable, JSON-ready record, readable in a terminal and a notebook.

Example:
    >>> report = VerifyReport(verdict="correct", method="symbolic", parsed_claim="2*x",
    ...                       expected="2*x")
    >>> report.exit_status, report.to_dict()["verdict"]
    (0, 'correct')
"""

from __future__ import annotations

import html
import json
import textwrap
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

LATEX_WIDTH = 300  # longer expected values (explicit matrices) are left out of the display
EXIT_STATUS = {"correct": 0, "incorrect": 1, "error": 2, "undecided": 3}
MARK = {"correct": "✓", "incorrect": "✗", "error": "!", "undecided": "?"}
WIDTH = 80  # the text report's width where the caller gives none (not a terminal)


@dataclass(frozen=True)
class VerifyReport:
    """What the verifier decided about one claim or one steps file.

    Attributes:
        verdict: ``"correct"`` (right everywhere it is defined), ``"incorrect"``,
            ``"error"`` (the input could not be understood), or ``"undecided"`` (no
            decision within the time limit: neither right nor wrong was shown).
        method: ``"symbolic"`` (proved by an equality tier) or ``"numeric"`` (exact /
            30-digit random points); None for an error.
        parsed_claim: the claim as read, in a form that reads back: canonical claim
            language for a plain claim, the LaTeX as typed for a LaTeX one.
        expected: what the claim should equal (SymPy text).
        counterexample: for a wrong claim, ``{"point", "claimed", "true"}``.
        diagnosis: for a wrong claim, the usual mistake it makes, in words.
        first_invalid_line: for a steps file, the 1-based line of the first wrong step.
        kind: ``"claim"``, ``"steps"`` or ``"catalogue"``.
        claim_latex, expected_latex: the same, as LaTeX.
        convention: the layout, in words.
        detail: how the verdict was reached (tier, points, finite differences).
        steps: for a steps file, one record per step.
        confirmation: the finite-difference check of the claim, when one was run.
        error: the one-line message, for an error.
        seconds: time spent.
        assumptions: what ``--assume`` stated, in words; the verdict holds given them.
    """

    verdict: str
    method: str | None
    parsed_claim: str | None
    expected: str | None
    counterexample: Mapping[str, Any] | None = None
    diagnosis: str | None = None
    first_invalid_line: int | None = None
    kind: str = "claim"
    claim_latex: str | None = None
    expected_latex: str | None = None
    convention: str = ""
    detail: str = ""
    steps: tuple[Mapping[str, Any], ...] = field(default=())
    confirmation: Mapping[str, Any] | None = None
    error: str | None = None
    seconds: float = 0.0
    assumptions: tuple[str, ...] = ()

    @property
    def exit_status(self) -> int:
        """0 correct, 1 incorrect, 2 error, 3 undecided: the command line's exit status."""
        return EXIT_STATUS[self.verdict]

    def __bool__(self) -> bool:
        return self.verdict == "correct"

    def to_dict(self) -> dict[str, Any]:
        """The JSON document ``workbench verify --json`` prints."""
        out: dict[str, Any] = {
            "verdict": self.verdict,
            "method": self.method,
            "parsed_claim": self.parsed_claim,
            "expected": self.expected,
            "counterexample": dict(self.counterexample) if self.counterexample else None,
            "diagnosis": self.diagnosis,
        }
        if self.kind == "steps":
            out["first_invalid_line"] = self.first_invalid_line
            out["steps"] = [dict(s) for s in self.steps]
        out.update(
            kind=self.kind,
            convention=self.convention,
            detail=self.detail,
            confirmation=dict(self.confirmation) if self.confirmation else None,
            error=self.error,
            seconds=round(self.seconds, 3),
        )
        if self.assumptions:
            out["assumptions"] = list(self.assumptions)
        if self.claim_latex or self.expected_latex:  # for a notebook or a web page
            out["latex"] = {"claim": self.claim_latex, "expected": self.expected_latex}
        return out

    def to_json(self) -> str:
        """:meth:`to_dict` as indented JSON, with a matrix of numbers kept on one line."""
        return _dumps(self.to_dict())

    def render(self, width: int = WIDTH) -> str:
        """Plain text for a terminal ``width`` columns wide."""
        return render_text(self, width)

    def _repr_latex_(self) -> str:
        """The claim in LaTeX, the verdict, and for a wrong claim where it fails."""
        words = f"{self.verdict} ({self.method})" if self.method else self.verdict
        lines = [rf"\text{{{MARK[self.verdict]} {words}:}}\quad {self.claim_latex or ''}"]
        if self.expected_latex and len(self.expected_latex) <= LATEX_WIDTH:
            relation = "=" if self.verdict == "correct" else r"\neq"
            lines[0] += rf"\;{relation}\; {self.expected_latex}"
        if self.diagnosis:
            lines.append(rf"\text{{{_latex_text(self.diagnosis)}}}")
        if self.counterexample:
            point = self.counterexample.get("point", {})
            at = ",\\; ".join(f"{_latex_text(k)} = {_latex_value(v)}" for k, v in point.items())
            lines.append(rf"\text{{at }} {at}")
            claimed = _latex_value(self.counterexample.get("claimed"))
            true = _latex_value(self.counterexample.get("true"))
            lines.append(rf"\text{{claimed }} {claimed} \quad \text{{true }} {true}")
        if self.error:
            lines.append(rf"\text{{{_latex_text(self.error)}}}")
        body = r" \\ ".join(lines)
        return rf"$\displaystyle \begin{{array}}{{l}} {body} \end{{array}}$"

    def _repr_html_(self) -> str:
        colour = {"correct": "#1a7f37", "incorrect": "#cf222e"}.get(self.verdict, "#9a6700")
        rows = [("claim", rf"\({self.claim_latex}\)" if self.claim_latex else self.parsed_claim)]
        if self.convention:
            rows.append(("convention", self.convention))
        if self.diagnosis:
            rows.append(("diagnosis", self.diagnosis))
        if self.first_invalid_line is not None:
            rows.append(("first invalid line", str(self.first_invalid_line)))
        if self.counterexample:
            for key in ("point", "claimed", "true"):
                rows.append((key, json.dumps(self.counterexample.get(key), ensure_ascii=False)))
        if self.error:
            rows.append(("error", self.error))
        if self.detail:
            rows.append(("how", self.detail))
        body = "".join(
            f"<tr><th style='text-align:left'>{html.escape(k)}</th>"
            f"<td style='text-align:left'>{html.escape(v or '')}</td></tr>"
            for k, v in rows
        )
        method = f" ({self.method})" if self.method else ""
        given = f", given {'; '.join(self.assumptions)}" if self.assumptions else ""
        title = f"{MARK[self.verdict]} {self.verdict}{method}{given}"
        return f"<div><b style='color:{colour}'>{html.escape(title)}</b><table>{body}</table></div>"


def _latex_text(text: str) -> str:
    """Plain text made safe inside ``\\text{...}``."""
    for char, escaped in (("\\", r"\backslash "), ("_", r"\_"), ("#", r"\#"), ("%", r"\%")):
        text = text.replace(char, escaped)
    return text.replace("{", r"\{").replace("}", r"\}").replace("&", r"\&").replace("$", r"\$")


def _latex_value(value: Any) -> str:
    """A number, or a matrix of numbers as a bmatrix, to 4 significant digits."""
    if isinstance(value, list):
        rows = [row if isinstance(row, list) else [row] for row in value]
        body = r" \\ ".join(" & ".join(_latex_value(v) for v in row) for row in rows)
        return rf"\begin{{bmatrix}} {body} \end{{bmatrix}}"
    if isinstance(value, float):
        return f"{value:.4g}"
    return rf"\text{{{_latex_text(str(value))}}}"


def _numeric(value: Any) -> bool:
    if isinstance(value, list):
        return all(_numeric(v) for v in value)
    return isinstance(value, int | float) and not isinstance(value, bool)


def _dumps(value: Any, level: int = 0) -> str:
    """JSON with two-space indents, except that numbers and lists of them stay on one line."""
    pad, end = "  " * (level + 1), "  " * level
    if isinstance(value, dict) and value:
        items = [f"{pad}{json.dumps(k)}: {_dumps(v, level + 1)}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + f"\n{end}}}"
    if isinstance(value, list) and value and not _numeric(value):
        items = [pad + _dumps(v, level + 1) for v in value]
        return "[\n" + ",\n".join(items) + f"\n{end}]"
    return json.dumps(value, ensure_ascii=False)


def render_text(report: VerifyReport, width: int = WIDTH) -> str:
    """The report as a few aligned lines, for ``workbench verify`` without ``--json``;
    a long value wraps under itself, so every line fits ``width`` columns."""
    if report.verdict == "error":
        return _wrapped("error: ", report.error or "", width)
    if report.verdict == "undecided":
        return _wrapped("? undecided: ", report.detail, width)
    method = f" ({report.method})" if report.method else ""
    given = f", given {'; '.join(report.assumptions)}" if report.assumptions else ""
    lines = [_wrapped("", f"{MARK[report.verdict]} {report.verdict}{method}{given}", width)]
    rows = [("claim", report.parsed_claim)]
    if report.verdict == "incorrect":
        rows.append(("expected", _clip(report.expected)))
    if report.kind == "steps" and report.first_invalid_line is not None:
        rows.insert(0, ("line", str(report.first_invalid_line)))
    if report.verdict == "incorrect":
        rows.append(("diagnosis", report.diagnosis))
    if report.convention:
        rows.append(("convention", report.convention))
    if report.counterexample:
        point = report.counterexample.get("point", {})
        claimed, true = report.counterexample.get("claimed"), report.counterexample.get("true")
        digits = _digits_to_tell(claimed, true)
        rows.append(("at", ", ".join(f"{k} = {_short(v)}" for k, v in point.items())))
        rows.append(("claimed", _short(claimed, digits)))
        rows.append(("true", _short(true, digits)))
    if report.detail:
        rows.append(("how", report.detail))
    key_width = max(len(k) for k, _ in rows)
    lines += [_wrapped(f"  {k:<{key_width}}  ", v, width) for k, v in rows if v]
    return "\n".join(lines)


def _wrapped(lead: str, text: str, width: int) -> str:
    """``lead`` then ``text``, wrapped at spaces to ``width`` columns, continuation lines
    indented under the text. A word longer than a line (a long formula) is broken at
    ``width`` rather than left to run past it."""
    room = max(width - len(lead), 20)
    lines = textwrap.wrap(text, room, break_long_words=True, break_on_hyphens=False) or [""]
    return "\n".join([lead + lines[0], *(" " * len(lead) + line for line in lines[1:])])


def _short(value: Any, digits: int = 6) -> str:
    """Numbers to ``digits`` significant digits; a column as [a, b]ᵀ, a matrix as
    [[..], [..]]."""
    if isinstance(value, float):
        return f"{value:.{digits}g}"
    if isinstance(value, list):
        if value and all(isinstance(row, list) and len(row) == 1 for row in value):
            return "[" + ", ".join(_short(row[0], digits) for row in value) + "]ᵀ"
        return "[" + ", ".join(_short(v, digits) for v in value) + "]"
    return str(value)


MAX_SHOWN_DIGITS = 10  # what the counterexample carries (points.PLAIN_DIGITS)


def _digits_to_tell(claimed: Any, true: Any) -> int:
    """The fewest significant digits, from 6, at which every entry where the claimed and
    true values differ prints differently: a difference in the 8th digit must show."""

    def pairs(a, b):
        if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
            for x, y in zip(a, b, strict=True):
                yield from pairs(x, y)
        elif isinstance(a, float) and isinstance(b, float) and a != b:
            yield a, b

    differing = list(pairs(claimed, true))
    for digits in range(6, MAX_SHOWN_DIGITS + 1):
        if all(f"{a:.{digits}g}" != f"{b:.{digits}g}" for a, b in differing):
            return digits
    return MAX_SHOWN_DIGITS


def _clip(text: str | None, width: int = 160) -> str | None:
    if text is None or len(text) <= width:
        return text
    return text[: width - 1] + "…"
