"""Handouts: a derivation and its check report as a standalone LaTeX document.

The handout is made from the derivation object the checks ran on and from their report,
so every mark it prints was earned: a step shows ✓ only when the report's ``steps``
check passed it (S: proved symbolically, N: tested numerically), and a failed or unrun
check is said to be so. Nothing here knows any particular result: every derivation in
the registry gets a handout, with the figures that fit its cases.

Order of a handout: what the result is for; notation and conventions; the derivation as
numbered steps; the result, boxed, and its closed form in matrix notation (with figures);
from maths to code; what was checked; exercises; worked solutions.

Example:
    >>> from workbench.core import registry, stages
    >>> derivation = registry.get("softmax-jacobian")
    >>> handout = build_handout(derivation, derivation.check())       # doctest: +SKIP
    >>> handout.tex.startswith(r"\\documentclass")                       # doctest: +SKIP
    True
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from workbench.checks.report import DerivationReport
from workbench.core import registry, stages
from workbench.core.derivation import Derivation
from workbench.errors import LatexFailed
from workbench.render import handout_sections as sections
from workbench.render.figures import Figure, figures_for
from workbench.render.latex import Mark, StepStyle, text_to_latex
from workbench.render.layout import FIT
from workbench.render.marks import step_marks
from workbench.render.texbuild import compile_pdf, find_engine, write_outputs

PREAMBLE = (
    r"""\documentclass[11pt,a4paper]{article}
\usepackage[margin=2.2cm]{geometry}
\usepackage{amsmath,amssymb}
\usepackage{graphicx}
\usepackage{float}
\usepackage{booktabs}
\usepackage{tabularx}
\usepackage{xcolor}
\usepackage{listings}
\usepackage[hidelinks]{hyperref}
\allowdisplaybreaks
\setlength{\parindent}{0pt}
\setlength{\parskip}{0.6\baselineskip}
\definecolor{wbgreen}{rgb}{0.0,0.45,0.2}
\definecolor{wbred}{rgb}{0.75,0.0,0.0}
\definecolor{wbgray}{rgb}{0.45,0.45,0.45}
\definecolor{wbcode}{rgb}{0.96,0.96,0.96}
\lstset{language=Python, basicstyle=\ttfamily\footnotesize, breaklines=true, columns=fullflexible,
  keepspaces=true, frame=single, backgroundcolor=\color{wbcode}, rulecolor=\color{wbgray},
  showstringspaces=false, escapeinside={(*@}{@*)}}
\emergencystretch=1.5em
"""
    + FIT
)

HANDOUT_STYLE = StepStyle(
    marks={
        Mark.PROVED: r"\textcolor{wbgreen}{\ensuremath{\checkmark}\textsubscript{S}}",
        Mark.TESTED: r"\textcolor{wbgreen}{\ensuremath{\checkmark}\textsubscript{N}}",
        Mark.FAILED: r"\textcolor{wbred}{\ensuremath{\times}~failed}",
        Mark.UNDECIDED: r"\textcolor{wbred}{?~undecided}",
        Mark.UNCHECKED: r"\textcolor{wbgray}{not checked}",
        Mark.ASSUMED: r"\textcolor{wbgray}{assumed}",
    },
    rule=r"\textsf{{{}}}",
)
"""Marks in colour, rule names in sans serif; the marks earned only by a passed check."""

PACK_TITLE = "The mathematics of machine learning, derived and checked"


@dataclass(frozen=True)
class Handout:
    """One derivation's handout.

    Attributes:
        slug: the derivation's slug; the files are ``<slug>.tex`` and ``<slug>.pdf``.
        tex: the standalone document.
        body: the same content as a ``\\section`` with subsections, for the course pack.
        figures: the figures it includes, each at ``figures/<slug>-<name>.pdf``.
        passed: whether every check in the report passed.
    """

    slug: str
    tex: str
    body: str
    figures: tuple[Figure, ...]
    passed: bool

    @property
    def assets(self) -> dict[str, bytes]:
        """Relative path → bytes of every file the document includes."""
        return {figure_path(self.slug, f): f.pdf for f in self.figures}


def figure_path(slug: str, figure: Figure) -> str:
    return f"figures/{slug}-{figure.name}.pdf"


# ---------------------------------------------------------------- documents
def build_handout(derivation: Derivation, report: DerivationReport, seed: int = 0) -> Handout:
    """The handout of ``derivation`` from the report of its checks.

    Args:
        derivation: what to present.
        report: ``derivation.check(seed=seed)``; its verdicts decide every mark.
        seed: the seed of the random inputs the figures use (the checks' seed).
    """
    if report.slug != derivation.slug:
        raise ValueError(f"report of {report.slug!r} given for {derivation.slug!r}")
    figures = tuple(figures_for(derivation, seed))
    paths = {f.name: figure_path(derivation.slug, f) for f in figures}
    context = sections.Context(
        derivation, report, step_marks(derivation, report), HANDOUT_STYLE, paths, figures, seed
    )
    standalone = sections.render(context, level=0)
    body = sections.render(context, level=1)
    title = text_to_latex(derivation.title)
    # "verified" only when the report says so: a handout with a failed or undecided check
    # says that on its title page, as in its first section.
    kind = "verified handout" if report.passed else "handout, not verified"
    tex = (
        PREAMBLE
        + f"\\title{{{title}}}\n\\author{{derivation workbench --- {kind}}}\n"
        + "\\date{}\n\\begin{document}\n\\maketitle\n"
        + standalone
        + "\n\\end{document}\n"
    )
    section = f"\\section{{{title}}}\\label{{sec:{derivation.slug}}}\n{body}"
    return Handout(derivation.slug, tex, section, figures, report.passed)


def pack_parts(handouts: list[Handout]) -> list[tuple[str, list[Handout]]]:
    """The course pack's parts: Tier 1 (the five key results), then each stage's others.

    A handout belongs to exactly one part; the order inside a part is the order given
    (the catalogue's). A slug of no stage goes to a last part, "further results", so
    nothing given is dropped. Empty parts are left out.
    """
    key = [h for h in handouts if h.slug in stages.KEY_RESULTS]
    parts = [("Tier 1: the five key results", key)]
    placed = {h.slug for h in key}
    for stage in stages.names():
        members = [h for h in handouts if h.slug not in placed and h.slug in stages.planned(stage)]
        placed.update(h.slug for h in members)
        parts.append((stage[:1].upper() + stage[1:], members))
    parts.append(("Further results", [h for h in handouts if h.slug not in placed]))
    return [(title, members) for title, members in parts if members]


def build_pack(handouts: list[Handout]) -> tuple[str, dict[str, bytes]]:
    """The course pack: a title page, contents (parts and handouts) and every handout.

    The handouts come in parts (:func:`pack_parts`); the contents list parts and
    handouts only, one level deep, so they fit on a page and a reader finds a result.
    """
    assets: dict[str, bytes] = {}
    for handout in handouts:
        assets.update(handout.assets)
    checked = sum(h.passed for h in handouts)
    chapters = []
    for title, members in pack_parts(handouts):
        chapters.append(f"\\part{{{text_to_latex(title)}}}\n")  # its first handout below it
        chapters.append("\n\\clearpage\n".join(h.body for h in members) + "\n\\clearpage\n")
    contents = "\n".join(chapters)
    tex = (
        PREAMBLE
        + "\\setcounter{tocdepth}{1}\n"
        + "\\begin{document}\n\\begin{titlepage}\n\\centering\n\\vspace*{5cm}\n"
        + f"{{\\LARGE\\bfseries {PACK_TITLE}\\par}}\n\\vspace{{1.5cm}}\n"
        + f"{{\\large {len(handouts)} derivations: the five key results first, then the "
        + "curriculum's stages in the order a learner meets them\\par}\n"
        + "\\vspace{1cm}\n"
        + "Every equation was produced by SymPy from its definitions and checked by the "
        + f"derivation workbench; {checked} of {len(handouts)} derivations passed every "
        + "check. Each step carries its mark: "
        + sections.legend(HANDOUT_STYLE)
        + "\n\\vfill\n\\end{titlepage}\n\\tableofcontents\n\\clearpage\n"
        + contents
        + "\n\\end{document}\n"
    )
    return tex, assets


# ---------------------------------------------------------------- files
@dataclass(frozen=True)
class HandoutOptions:
    """What ``workbench handout`` was asked for.

    Attributes:
        out_dir: where ``<slug>.tex``, ``<slug>.pdf`` and ``figures/`` go.
        pdf: also compile each document with pdflatex.
        combined: also write the course pack, ``course-pack.tex`` (and ``.pdf``).
        force: overwrite files whose content differs.
        seed: the seed of the checks' random points (and so of the figures).
    """

    out_dir: Path
    pdf: bool = False
    combined: bool = False
    force: bool = False
    seed: int = 0


PACK_NAME = "course-pack"


def available_slugs() -> tuple[str, ...]:
    """The catalogue's slugs whose module exists, in catalogue order.

    The catalogue may list a result before its module lands; ``--all`` means every
    result that can be built today.
    """
    import importlib.util

    return tuple(s for s in registry.slugs() if importlib.util.find_spec(registry.module_name(s)))


def make_handouts(
    slugs: list[str], options: HandoutOptions, say: Callable[[str], None] = lambda _: None
) -> tuple[list[tuple[str, str]], list[str]]:
    """Check each derivation, write its handout (and the pack), compile PDFs if asked.

    Returns:
        (file, status) for every file, and the slugs whose checks did not all pass.

    Raises:
        OutputExists: a file differs and ``force`` is off (nothing of that batch written).
        TexNotFound: ``pdf`` asked for and no pdflatex; the ``.tex`` files are written.
        LatexFailed: pdflatex failed; the message quotes its log.
    """

    handouts = []
    for slug in slugs:
        say(f"{slug}: checking")
        derivation = registry.get(slug)
        report = derivation.check(seed=options.seed)
        say(f"{slug}: {'passed' if report.passed else 'FAILED'}; drawing and writing")
        handouts.append(build_handout(derivation, report, options.seed))
    documents = {h.slug: (h.tex, h.assets) for h in handouts}
    if options.combined:
        documents[PACK_NAME] = build_pack(handouts)
    out = options.out_dir
    sources: dict[Path, bytes] = {}
    for name, (tex, assets) in documents.items():
        sources[out / f"{name}.tex"] = tex.encode("utf-8")
        sources.update({out / path: data for path, data in assets.items()})
    written = write_outputs(sources, options.force)
    if options.pdf:
        find_engine()
        pdfs, errors = {}, []
        for name, (tex, assets) in documents.items():
            say(f"{name}: pdflatex")
            try:
                build = compile_pdf(tex, assets, name)
            except LatexFailed as exc:  # the other documents still get their PDFs
                errors.append(exc)
                continue
            pdfs[out / f"{name}.pdf"] = build.pdf
            if build.overfull:  # a layout defect: keep the evidence beside the PDF
                pdfs[out / f"{name}.log"] = build.log.encode("latin-1")
                say(f"{name}: {len(build.overfull)} overfull box(es), first {build.overfull[0]}")
        written += write_outputs(pdfs, options.force)
        if errors:
            for path, status in written:
                say(f"{status} {path}")
            others = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
            raise LatexFailed(f"{errors[0]}{others}")
    return written, [h.slug for h in handouts if not h.passed]
