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
import re
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
        expected: what the claim should equal, in the claim language (a matrix entry by
            entry), so that it can be typed back.
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
        expected_math: ``expected`` in Unicode mathematics, for a terminal (3x², not 3*x**2).
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
    expected_math: str | None = None

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
        if self.expected_math:
            out["expected_math"] = self.expected_math
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
    rows: list[tuple[str, Any]] = [("claim", report.parsed_claim)]  # a _TABLE row: lines
    if report.verdict == "incorrect":
        rows += _expected_rows(report.expected, report.expected_math)
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
        for n, (name, value) in enumerate(point.items()):
            rows += _input_rows("at" if n == 0 else "", name, value)
        if _same_shape(claimed, true):
            rows.append((_TABLE, _counterexample_table(claimed, true, digits)))
        else:  # a claim of the wrong shape: the two values, side by side
            rows += [("claimed", _short(claimed, digits)), ("true", _short(true, digits))]
    if report.detail:
        rows.append(("how", report.detail))
    key_width = max(len(k) for k, _ in rows if k != _TABLE)
    for key, value in rows:
        if key == _TABLE:
            lines += [f"  {' ' * key_width}  {line}".rstrip() for line in value]
        elif value:
            lines.append(_wrapped(f"  {key:<{key_width}}  ", value, width))
    return "\n".join(lines)


_TABLE = "\0table"  # a row of preformatted lines, under the other rows' values
TABLE_ENTRIES = 6  # entries of a matrix counterexample shown; every one is in --json


def _counterexample_table(claimed: Any, true: Any, digits: int) -> list[str]:
    """Claimed against true, one entry per line, marking each entry that differs: the
    differing entries first (in index order), at most ``TABLE_ENTRIES`` of them. Digits
    enough to tell the two apart (:func:`_digits_to_tell`)."""
    pairs = list(_entries(claimed, true))
    differ = [p for p in pairs if p[1] != p[2]]
    shown = (differ + [p for p in pairs if p[1] == p[2]])[:TABLE_ENTRIES]
    shown.sort(key=lambda p: pairs.index(p))
    cells = [
        (where, _short(c, digits), _short(t, digits), "≠" if c != t else "")
        for where, c, t in shown
    ]
    header = ("entry" if pairs[0][0] else "", "claimed", "true", "")
    widths = [max(len(row[k]) for row in [header, *cells]) for k in range(3)]
    out = []
    for row in [header, *cells]:
        entry, c, t, mark = row
        out.append(f"{entry:<{widths[0]}}  {c:>{widths[1]}}  {t:>{widths[2]}}  {mark}")
    if len(pairs) > len(shown):
        out.append(f"… {len(pairs) - len(shown)} more entries (all of them in --json)")
    return out


def _same_shape(a: Any, b: Any) -> bool:
    if isinstance(a, list) != isinstance(b, list):
        return False
    if not isinstance(a, list):
        return True
    return len(a) == len(b) and all(_same_shape(x, y) for x, y in zip(a, b, strict=True))


def _input_rows(key: str, name: str, value: Any) -> list[tuple[str, str]]:
    """An input of the counterexample: a matrix one row per line, under its first."""
    if not (isinstance(value, list) and value and isinstance(value[0], list) and len(value[0]) > 1):
        return [(key, f"{name} = {_short(value)}")]
    rows = [_short(row) for row in value]
    lead = f"{name} = ["
    lines = [lead + rows[0]] + [" " * len(lead) + row for row in rows[1:]]
    lines = [line + ("," if k < len(lines) - 1 else "]") for k, line in enumerate(lines)]
    return [(key if k == 0 else "", line) for k, line in enumerate(lines)]


def _entries(claimed: Any, true: Any):
    """(index text, claimed, true) per entry: '' for a scalar, [i] in a column, [i,j]."""
    if not (isinstance(claimed, list) and isinstance(true, list)):
        yield "", claimed, true
        return
    column = all(isinstance(row, list) and len(row) == 1 for row in claimed)
    for i, (row_c, row_t) in enumerate(zip(claimed, true, strict=True)):
        if not isinstance(row_c, list):
            yield f"[{i}]", row_c, row_t
            continue
        for j, (c, t) in enumerate(zip(row_c, row_t, strict=True)):
            yield (f"[{i}]" if column else f"[{i},{j}]"), c, t


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


CLAIM_FORM_NOTE = "(in the claim language, entry by entry: --json's expected)"
SHOWN_ENTRIES = 4  # entries of an expected matrix printed before "… more"


def _expected_rows(expected: str | None, math: str | None) -> list[tuple[str, str | None]]:
    """The "expected" rows: in mathematics (when given) and, for a scalar, in the claim
    language to type back ("as a claim"); a matrix's entries one per line, the first few."""
    entries = _split_entries(math or expected)
    if len(entries) == 1:
        rows = [("expected", _clip(math or expected))]
        if math and math != expected:
            rows.append(("as a claim", _clip(expected)))
        return rows
    shown = [_clip(entry) for entry in entries[:SHOWN_ENTRIES]]
    if len(entries) > SHOWN_ENTRIES:
        shown.append(f"… {len(entries) - SHOWN_ENTRIES} more entries")
    if math:
        shown.append(CLAIM_FORM_NOTE)
    return [("expected", shown[0]), *(("", line) for line in shown[1:])]


def _split_entries(text: str | None) -> list[str]:
    """``[0,1]: a; [1,0]: b`` → its entries; any other text is one."""
    return re.split(r"; (?=\[\d+(?:,\d+)?\]: )", text or "")


def _clip(text: str | None, width: int = 160) -> str | None:
    if text is None or len(text) <= width:
        return text
    return text[: width - 1] + "…"
