"""``workbench verify NOTE.md``: check every derivation of a note, step by step.

:mod:`workbench.verify.notes` finds the chains and the declarations; here each chain is
checked as a steps file whose lines are LaTeX (:func:`~workbench.verify.steps.verify_lines`
with the LaTeX reader), in a child process with its own time limit, with the note's
shapes (merged with ``--shape``, which wins), definitions (``s = \\operatorname{softmax}(z)``)
and stated facts (``\\sum_k y_k = 1``, "y is one-hot", ``x > 0``). A size the note names
but never gives (the ``n`` of ``\\mathbb{R}^n``) takes a default, and the report says so.

Example:
    >>> report = check_note("$$\\n(x+1)^2 &= x^2 + 2x + 1 \\\\\\\\\\n&= x^2 + 1\\n$$\\n")
    >>> report.verdict, report.chains[0].report.first_invalid_line    # doctest: +SKIP
    ('incorrect', 3)
"""

from __future__ import annotations

import functools
import os
import re
import textwrap
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workbench.errors import ParseError
from workbench.verify import notes as scan
from workbench.verify.api import DEFAULT_TIMEOUT, run_bounded
from workbench.verify.interpret import MAX_SIZE
from workbench.verify.parsing import Node
from workbench.verify.problems import located, parse_input
from workbench.verify.report import MARK, VerifyReport, _dumps
from workbench.verify.steps import verify_lines

MAX_BYTES = 4 * scan.MAX_CHARACTERS
DEFAULT_SIZES = (4, 3, 5, 6, 2)  # distinct, so a transposed W (m×n against n×m) shows
NOTE_SUFFIXES = (".md", ".markdown", ".tex", ".txt")


@dataclass(frozen=True)
class ChainReport:
    """One chain of a note: where it is, how many steps, and the steps report."""

    line: int
    steps: int
    report: VerifyReport
    defines: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "line": self.line,
            "steps": self.steps,
            "verdict": self.report.verdict,
            "first_invalid_line": self.report.first_invalid_line,
            "defines": self.defines,
            "report": self.report.to_dict(),
        }


@dataclass(frozen=True)
class NoteReport:
    """What ``workbench verify NOTE.md`` found.

    Attributes:
        source: the file as named.
        chains: one report per chain, in the order of the note.
        shapes: each shape used, in words, with where it came from.
        given: the facts the note states, in words.
        skipped: chains beyond the cap, not checked.
        error: the one-line message when the note could not be read at all, or has no
            derivation in it (a note with none is a mistake, exit 2).
    """

    source: str
    chains: tuple[ChainReport, ...] = ()
    shapes: tuple[str, ...] = ()
    given: tuple[str, ...] = ()
    skipped: int = 0
    error: str | None = None

    @property
    def verdict(self) -> str:
        """``correct`` when every chain follows; ``incorrect`` when some chain does not;
        ``error`` when the note, or a chain of it, cannot be read; else ``undecided``."""
        verdicts = {c.report.verdict for c in self.chains}
        if self.error:
            return "error"
        if "incorrect" in verdicts:
            return "incorrect"
        if "error" in verdicts:
            return "error"
        if "undecided" in verdicts:
            return "undecided"
        return "correct"

    @property
    def exit_status(self) -> int:
        return {"correct": 0, "incorrect": 1, "error": 2, "undecided": 3}[self.verdict]

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.source,
            "verdict": self.verdict,
            "error": self.error,
            "shapes": list(self.shapes),
            "given": list(self.given),
            "chains": [c.to_dict() for c in self.chains],
            "skipped": self.skipped,
        }

    def to_json(self) -> str:
        return _dumps(self.to_dict())

    def render(self, width: int = 80) -> str:
        """For each chain its ``file:line`` and "all n steps follow", or the first line
        that does not follow with the reason, counterexample and diagnosis."""
        if self.error:
            return f"error: {self.error}"
        noun = "chain" if len(self.chains) == 1 else "chains"
        # A long path wraps like the rest (a clone in a temporary folder made it 82 wide).
        head = f"{self.source}: {len(self.chains)} {noun} of equalities"
        lines = textwrap.wrap(head, width, subsequent_indent="  ", break_on_hyphens=False)
        for label, items in (("shapes", self.shapes), ("given", self.given)):
            if items:
                # a short item stays on one line ("d = 3 by default", not "d" / "= 3")
                kept = [i.replace(" ", "\xa0") if len(i) <= width - 10 else i for i in items]
                wrapped = textwrap.wrap(
                    f"{label}: " + "; ".join(kept), width, subsequent_indent="  "
                )
                lines += [line.replace("\xa0", " ") for line in wrapped]
        for chain in self.chains:
            report = chain.report
            where = f"{self.source}:{chain.line}"
            mark = MARK[report.verdict]
            if report.verdict == "correct":
                said = f"all {chain.steps} steps follow ({report.method})"
                if chain.steps == 1:
                    said = f"the step follows ({report.method})"
                lines += textwrap.wrap(f"{mark} {where}  {said}", width, subsequent_indent="    ")
                continue
            if report.verdict == "incorrect":
                head = f"line {report.first_invalid_line} does not follow"
            elif report.verdict == "error":
                head = "cannot be read"
            else:
                head = "undecided"
            lines += textwrap.wrap(f"{mark} {where}  {head}", width, subsequent_indent="    ")
            if report.verdict == "error":
                body = ["  " + line for line in textwrap.wrap(report.error or "", width - 4)]
            elif report.verdict == "undecided" and not report.steps:  # out of time: say so
                body = ["  " + line for line in textwrap.wrap(report.detail, width - 4)]
            else:  # the steps report's rows, under the chain they belong to
                body = report.render(width - 2).splitlines()[1:]
            lines += ["  " + line for line in body]
        if self.skipped:
            lines.append(
                f"{self.skipped} more chain(s) not checked: at most {scan.MAX_CHAINS} a note"
            )
        return "\n".join(lines)


def is_note_path(text: str) -> bool:
    """Whether a positional argument names a note (``.md``, ``.tex``) rather than a slug."""
    return text.lower().endswith(NOTE_SUFFIXES) or os.sep in text


def check_note(
    note: str | os.PathLike,
    *,
    shapes: Mapping[str, int | str] | None = None,
    source: str | None = None,
    seed: int = 0,
    timeout: float = DEFAULT_TIMEOUT,
    isolate: bool = True,
) -> NoteReport:
    """Check every chain of a Markdown note or ``.tex`` file (a path, or the text).

    Args:
        note: the text, or a path (read at most :data:`MAX_BYTES` bytes, regular files only).
        shapes: ``--shape`` declarations; they win over the note's own.
        timeout: seconds for each chain.

    Example:
        >>> check_note("no mathematics here").exit_status
        2
    """
    tex = False
    if isinstance(note, os.PathLike):
        path = Path(note)
        source = source or str(path)
        tex = path.suffix.lower() == ".tex"
        # lazy: the file reader shares the steps file's guards
        from workbench.verify.steps import read_file

        try:
            note = read_file(path, source, MAX_BYTES)
        except ParseError as error:
            return NoteReport(source, error=str(error))
    source = source or "note"
    try:
        found = scan.read_note(note, source, tex)
        sizes, used = _shapes(found, shapes or {})
    except ParseError as error:
        return NoteReport(source, error=str(error))
    if not found.chains and not found.skipped:
        # A user who runs verify on a note expects a derivation in it: a file with
        # none is a mistake (the wrong file, or steps not in display math), not a pass.
        defined = ", ".join(dict.fromkeys(_name(d.name) for d in found.definitions))
        said = f"; it defines {defined} but derives nothing" if defined else ""
        return NoteReport(
            source,
            error=f"{source}: no derivation to check: no display ($$...$$, \\[...\\], "
            f"align) chains '=' from one row to the next{said}",
        )
    given = [
        f"{e.left} = {e.right} (line {e.line}{'' if e.until is None else f' to {e.until}'})"
        for e in found.equations
    ]
    given += [f"{text} (line {line})" for text, line in found.assume]
    definitions = [(str(n), line, str(k), 0) for n, (k, line) in sizes.items()]
    # A name the note both defines and declares is its definition: the declared shape
    # only says what size that value has.
    given_shapes = {name for name in (shapes or {})}
    definitions += [
        (_name(d.name), d.line, d.text, 0)
        for d in found.definitions
        if _name(d.name) not in given_shapes and _name(d.name) not in sizes and not d.entry
    ]
    refused = [
        (
            _name(d.name),
            d.line,
            f"line {d.line}: {d.entry} = …: a vector or matrix defined "
            f"entry by entry is not read; define {_name(d.name)} whole",
        )
        for d in found.definitions
        if d.entry
    ]
    defined_names = {name for name, *_ in definitions if name not in given_shapes}
    for name in defined_names:
        used.pop(name, None)
    reports = []
    for chain in found.chains:
        lines = [(p.line, p.text, 0) for p in chain.parts]
        here = _shapes(found, shapes or {}, chain.parts[0].line)[1]
        here = {k: v for k, v in here.items() if k not in defined_names}
        before = [d for d in definitions if d[1] <= chain.parts[0].line or d[0] in sizes]
        work = functools.partial(
            verify_lines,
            lines,
            source,
            here,
            None,
            seed,
            read=read_formula,
            definitions=before,
            assume=[text for text, _ in found.assume],
            equations=[
                (e.line, e.left, e.right) for e in found.equations if e.holds_at(chain.line)
            ],
            refused=[(n, m) for n, line, m in refused if line <= chain.parts[0].line],
        )
        report = run_bounded(work, timeout, isolate, kind="steps")
        reports.append(ChainReport(chain.line, chain.steps, report, chain.defines))
    return NoteReport(
        source,
        tuple(reports),
        _said(found, used, sizes) + _redeclared(found, shapes or {}, used),
        tuple(given),
        found.skipped,
    )


# What only the plain language writes: @, **, .T, x[0], *, and words of two letters or
# more that are not a function the LaTeX reader also knows by its bare word.
_PLAIN_ONLY = re.compile(r"@|\*|\.T\b|\[|_prime\b|\bdiff\(")
_WORD = re.compile(r"[A-Za-z]{2,}")


def is_plain(text: str) -> bool:
    """Is a formula of a note written in the plain language rather than in LaTeX?

    A note's mathematics is LaTeX, where ``X w`` is the matrix product; a formula
    without a backslash or a brace is still LaTeX (``r = X w - y``, ``2a + 2b``) unless
    it uses what only the plain language writes (``x.T @ W``, ``a*b``, ``x**2``,
    ``theta``).

    Example:
        >>> is_plain("X w - y"), is_plain("x.T @ W @ u"), is_plain("log(x) + 2a")
        (False, True, False)
    """
    # lazy: the LaTeX reader is loaded only for notes and LaTeX input
    from workbench.verify import latex_input

    if latex_input.is_latex(text):
        return False
    if _PLAIN_ONLY.search(text):
        return True
    return any(
        word.group(0) not in latex_input.WORD_FUNCTIONS or text[word.end() : word.end() + 1] != "("
        for word in _WORD.finditer(text)
    )


def read_formula(text: str, where: str, offset: int = 0) -> Node:
    """One part of a chain: LaTeX through the LaTeX reader (:func:`is_plain` says which),
    the plain language through the claim parser."""
    try:
        # lazy: the LaTeX reader is loaded only for notes and LaTeX input
        from workbench.verify import latex_input
    except ImportError:
        if "\\" not in text:
            return parse_input(text, where, offset)
        raise ParseError(f"{where}: this version cannot read LaTeX formulas") from None
    if is_plain(text):
        return parse_input(text, where, offset)
    try:
        return latex_input.parse_latex(text)
    except ParseError as error:
        raise located(error, where, offset) from None


# ---------------------------------------------------------------- shapes
def _name(written: str) -> str:
    """The claim language's name for what the note writes (``notes.claim_name``)."""
    return scan.claim_name(written)


def _shapes(found: scan.Note, given: Mapping[str, int | str], at: int | None = None):
    """(size name → (number, line)) and name → "N" or "MxN" for every shape used. At line
    ``at``, a name declared more than once has the shape of its last declaration before
    that line (a section that redeclares A, for a result where A has another size), or,
    declared only after it, its first."""
    dims = {d for shape in found.shapes for d in shape.dims}
    sizes = {name: size for name, size in found.sizes.items() if name in dims}
    defaults: dict[str, int] = {}
    for shape in found.shapes:
        for dim in shape.dims:
            if not dim.isdigit() and dim not in sizes and dim not in defaults:
                if len(defaults) >= len(DEFAULT_SIZES):
                    raise ParseError(f"line {shape.line}: too many sizes without a value")
                defaults[dim] = DEFAULT_SIZES[len(defaults)]
    used: dict[str, str] = {}
    latest = {_name(shape.name): shape for shape in found.shapes if at and shape.line <= at}
    for shape in found.shapes:
        if _name(shape.name) in latest and latest[_name(shape.name)] is not shape:
            continue
        numbers = []
        for dim in shape.dims:
            value = int(dim) if dim.isdigit() else (sizes.get(dim, (defaults.get(dim), 0))[0])
            if value is None or not 1 <= int(value) <= MAX_SIZE:
                raise ParseError(
                    f"line {shape.line}: {shape.said}: sizes from 1 to {MAX_SIZE} are supported"
                )
            numbers.append(str(value))
        used.setdefault(_name(shape.name), "x".join(numbers))
    used.update({name: str(size) for name, size in given.items()})
    sizes.update({name: (value, 0) for name, value in defaults.items()})
    return sizes, used


def _redeclared(found: scan.Note, given: Mapping[str, int | str], used) -> tuple[str, ...]:
    """Each later declaration that changes a name's shape, as the chains after it read it:
    ``A 5×4 from line 77``."""
    current, out = dict(used), []
    for shape in sorted(found.shapes, key=lambda s: s.line):
        name = _name(shape.name)
        spec = _shapes(found, given, shape.line)[1].get(name)
        if name in given or spec is None or spec == current.get(name):
            continue
        current[name] = spec
        out.append(f"{name} {spec.replace('x', '×')}" + ("" if "x" in spec else "×1")
                   + f" from line {shape.line}")  # fmt: skip
    return tuple(out)


def _said(found: scan.Note, used: Mapping[str, str], sizes) -> tuple[str, ...]:
    out = [
        f"{name} {spec.replace('x', '×')}" + ("" if "x" in spec else "×1")
        for name, spec in used.items()
    ]
    for name, (value, line) in sizes.items():
        if line:
            out.append(f"{name} = {value} (line {line})")
        else:
            out.append(f"{name} = {value} by default (the note gives no size for {name})")
    return tuple(out)


__all__ = ["ChainReport", "NoteReport", "check_note", "is_note_path", "is_plain", "read_formula"]
