"""Writing handout files safely, and turning LaTeX into PDF with pdflatex.

* :func:`write_outputs` writes every file atomically (a temporary file in the same
  folder, then ``os.replace``), and refuses to overwrite a file whose content differs
  unless forced — checked for all files before any is written.
* :func:`compile_pdf` runs pdflatex in a scratch folder until its cross-references
  settle, with a fixed ``SOURCE_DATE_EPOCH`` so the same source gives the same PDF bytes.
  It returns the log of the last pass, which :func:`overfull_boxes` reads: a line or a
  display that runs into the margin is a layout defect a reader sees.
  A LaTeX error raises :class:`~workbench.errors.LatexFailed` quoting the log lines that
  matter; no TeX raises :class:`~workbench.errors.TexNotFound` with the install command.

Example:
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> [status for _, status in write_outputs({folder / "a.tex": b"x"})]
    ['written']
    >>> overfull_boxes("Overfull \\\\hbox (50.3pt too wide) in paragraph at lines 7--9")
    (OverfullBox(kind='hbox', points=50.3, where='in paragraph at lines 7--9'),)
"""

from __future__ import annotations

import contextlib
import glob
import os
import re
import secrets
import shutil
import stat
import subprocess
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from workbench.errors import LatexFailed, OutputExists, TexNotFound

ENGINE = "pdflatex"
INSTALL = "sudo apt-get install texlive-latex-base texlive-latex-recommended"
# Any fixed date: PDFs carry their creation date, and a date that changes would make
# every rebuild "differ" from the file it replaces.
SOURCE_DATE_EPOCH = "1700000000"
MAX_PASSES = 3  # the table of contents needs two; a third settles page references
TIMEOUT = 180.0  # seconds for one pdflatex pass
LOG_CONTEXT = 6  # log lines quoted after each error line


@dataclass(frozen=True)
class PdfBuild:
    """A compiled PDF, the log of its last pass and how many passes it took."""

    pdf: bytes
    log: str
    passes: int

    @property
    def overfull(self) -> tuple[OverfullBox, ...]:
        """The boxes of the last pass that run past the text block."""
        return overfull_boxes(self.log)


@dataclass(frozen=True)
class OverfullBox:
    """One "Overfull \\hbox/\\vbox" warning of a pdflatex log.

    Attributes:
        kind: ``"hbox"`` (too wide: into the margin) or ``"vbox"`` (too tall).
        points: by how much, in TeX points (1 pt ≈ 0.35 mm).
        where: the rest of the warning: the source lines, or the display it came from.
    """

    kind: str
    points: float
    where: str

    def __str__(self) -> str:
        too = "wide" if self.kind == "hbox" else "high"
        return f"overfull {self.kind} ({self.points:g} pt too {too}) {self.where}"


OVERFULL = re.compile(r"^Overfull \\([hv]box) \((\d+(?:\.\d+)?)pt too (?:wide|high)\) (.*)$", re.M)


def overfull_boxes(log: str) -> tuple[OverfullBox, ...]:
    """Every overfull box a pdflatex log reports, in the order it reports them."""
    return tuple(
        OverfullBox(kind, float(points), where.strip())
        for kind, points, where in OVERFULL.findall(log)
    )


def find_engine() -> str:
    """The path of pdflatex, or :class:`TexNotFound` saying how to install it."""
    path = shutil.which(ENGINE)
    if path is None:
        raise TexNotFound(
            f"no TeX engine ({ENGINE}) found, so no PDF was made; install one with: "
            f"{INSTALL}  (the .tex files are written either way)"
        )
    return path


def compile_pdf(tex: str, assets: Mapping[str, bytes] | None = None, name: str = "handout"):
    """Compile ``tex`` (with ``assets``: relative path → bytes, e.g. figures) to PDF.

    Returns:
        a :class:`PdfBuild`.

    Raises:
        TexNotFound: pdflatex is not installed.
        LatexFailed: pdflatex reported an error; the message quotes the log.
    """
    engine = find_engine()
    with tempfile.TemporaryDirectory(prefix="workbench-tex-") as scratch:
        folder = Path(scratch)
        (folder / f"{name}.tex").write_text(tex, encoding="utf-8")
        for relative, data in (assets or {}).items():
            target = folder / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        env = dict(os.environ, SOURCE_DATE_EPOCH=SOURCE_DATE_EPOCH, FORCE_SOURCE_DATE="1")
        log, passes = "", 0
        # LaTeX never asks for a rerun when only the table of contents changed.
        at_least = 2 if r"\tableofcontents" in tex else 1
        while passes < MAX_PASSES:
            passes += 1
            try:
                done = subprocess.run(
                    [engine, "-interaction=nonstopmode", "-halt-on-error", "-file-line-error",
                     f"{name}.tex"],
                    cwd=folder,
                    env=env,
                    stdin=subprocess.DEVNULL,
                    capture_output=True,
                    timeout=TIMEOUT,
                )  # fmt: skip
            except subprocess.TimeoutExpired:
                message = f"{ENGINE} took more than {TIMEOUT:.0f} s on {name}.tex"
                raise LatexFailed(message) from None
            log_file = folder / f"{name}.log"
            log = log_file.read_text(encoding="latin-1") if log_file.exists() else ""
            pdf = folder / f"{name}.pdf"
            if done.returncode != 0 or not pdf.exists():
                raise LatexFailed(latex_error(name, log or done.stdout.decode("latin-1"), tex))
            if passes >= at_least and not needs_rerun(log):
                break
        return PdfBuild(pdf.read_bytes(), log, passes)


def needs_rerun(log: str) -> bool:
    """Whether LaTeX asks for another pass (labels or the table of contents changed)."""
    return bool(re.search(r"Rerun to get|Label\(s\) may have changed|rerunfilecheck", log))


def latex_error(name: str, log: str, tex: str = "") -> str:
    """A message quoting the error lines of a pdflatex log, and the source line they name."""
    lines = log.splitlines()
    quoted: list[str] = []
    for n, line in enumerate(lines):
        if line.startswith("!") or re.match(r"^[^:\s]*\.tex:\d+: ", line):
            quoted += lines[n : n + LOG_CONTEXT]
            break
    if not quoted:  # no error line (killed, out of memory): the end of the log says why
        quoted = lines[-LOG_CONTEXT * 2 :]
    where = re.search(r"\.tex:(\d+):", "\n".join(quoted)) or re.search(
        r"^l\.(\d+)", "\n".join(quoted), re.M
    )
    source = tex.splitlines()
    if where and 0 < int(where.group(1)) <= len(source):
        number = int(where.group(1))
        quoted.append(f"source line {number}: {source[number - 1][:200]}")
    body = "\n".join(f"    {line}" for line in quoted)
    return f"{ENGINE} failed on {name}.tex; from its log:\n{body}"


def write_outputs(outputs: Mapping[Path, bytes], force: bool = False) -> list[tuple[str, str]]:
    """Write every file atomically; returns (file name, "written"/"unchanged"/"overwritten").

    Raises:
        OutputExists: some file exists with other content and ``force`` is False; then
            nothing is written.
    """
    differing = [
        path for path, data in outputs.items() if path.exists() and path.read_bytes() != data
    ]
    if differing and not force:
        names = ", ".join(str(p) for p in differing[:3]) + (" …" if len(differing) > 3 else "")
        raise OutputExists(f"{names} exists with different content; use --force to overwrite")
    report = []
    for path, data in outputs.items():
        if path.exists() and path.read_bytes() == data:
            report.append((str(path), "unchanged"))
            continue
        status = "overwritten" if path.exists() else "written"
        write_atomically(path, data)
        report.append((str(path), status))
    return report


def write_atomically(path: Path, data: bytes) -> None:
    """Replace ``path`` in one step: a reader sees the old file or the new one, never half.

    A new file gets the mode the umask gives (0644 under the usual 022); a replaced file
    keeps its own. Hidden temporary files that a killed run left beside ``path`` are
    removed first.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(path)
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        mode = None
    # The pid in the name tells a later run whether the writer is still alive.
    temporary = path.parent / f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
    # os.open applies the umask to 0o666, as open() does for any new file.
    handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(handle, "wb") as out:
            if mode is not None:
                os.fchmod(out.fileno(), mode)
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


STALE_SECONDS = 24 * 3600  # a temporary file this old is stale whoever wrote it


def remove_stale_temporaries(path: Path) -> list[Path]:
    """Remove ``.<name>.<pid>.<random>.tmp`` files beside ``path`` whose writer is gone.

    Returns:
        the files removed.
    """
    removed = []
    for candidate in path.parent.glob(f".{glob.escape(path.name)}.*.tmp"):
        pid = candidate.name[len(path.name) + 2 :].split(".", 1)[0]
        try:
            age = time.time() - candidate.stat().st_mtime
        except OSError:
            continue
        if (pid.isdigit() and _alive(int(pid))) and age < STALE_SECONDS:
            continue
        with contextlib.suppress(OSError):
            candidate.unlink()
            removed.append(candidate)
    return removed


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True
