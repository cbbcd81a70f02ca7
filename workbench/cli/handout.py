"""``workbench handout``: derivations as LaTeX handouts and PDFs (a plug-in of the CLI).

Light at import: argparse only. SymPy, matplotlib and TeX are reached when it runs.

Example:
    >>> import argparse
    >>> parser = argparse.ArgumentParser(prog="workbench")
    >>> register(parser.add_subparsers(dest="command"))
    >>> parser.parse_args(["handout", "--all", "-o", "out"]).all
    True
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from workbench.cli import args as cli_args
from workbench.errors import HandoutError

DESCRIPTION = """\
Write each derivation as a standalone LaTeX handout: what the result is for, notation,
the derivation as numbered steps with their rules, the boxed result and its closed form
in matrix notation, the NumPy code that was checked, a table of what was checked and
the errors measured, figures, and exercises with worked solutions.

The derivation is checked first, and every step's mark comes from that check report:
  ✓S  proved symbolically      ✓N  tested numerically (exact random points)
  ✗   failed                   "not checked" / "undecided": no check mark is shown.
"""

EPILOG = """\
files written in DIR:
  <slug>.tex             the handout (compiles with pdflatex on its own)
  <slug>.pdf             with --pdf
  <slug>.log             with --pdf, when a line runs into the margin: pdflatex's log
  figures/<slug>-*.pdf   its figures (vector graphics, drawn by matplotlib)
  course-pack.tex/.pdf   with --combined: title page, contents, every handout in order

examples:
  workbench handout softmax-jacobian -o handouts
  workbench handout --all -o handouts --pdf --combined

A file that exists with different content is kept unless --force is given. --pdf needs
pdflatex; on Debian/Ubuntu: sudo apt-get install texlive-latex-base texlive-latex-recommended

Exit status: 0 written; 1 written, but some derivation failed a check (its handout
says so); 2 an error (nothing compiled, or a file kept).
"""


def register(subparsers) -> None:
    """Add the ``handout`` subcommand to the ``workbench`` parser."""
    p = subparsers.add_parser(
        "handout",
        help="write derivations as LaTeX handouts (and PDFs with --pdf)",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=cli_args.FittingHelpFormatter,
    )
    p.add_argument("slugs", nargs="*", metavar="SLUG", help="derivations (see `workbench list`)")
    p.add_argument("--all", action="store_true", help="every derivation in the catalogue")
    p.add_argument("-o", "--output", required=True, metavar="DIR", help="folder to write to")
    p.add_argument("--pdf", action="store_true", help="also compile each handout with pdflatex")
    p.add_argument(
        "--combined",
        action="store_true",
        help="also write one course pack: title page, contents, every derivation in order",
    )
    p.add_argument("--force", action="store_true", help="overwrite files that differ")
    p.add_argument(
        "--seed", type=cli_args.seed, default=0, help="seed of the checks' random points"
    )
    p.add_argument("--quiet", action="store_true", help="no progress on stderr")
    p.set_defaults(run=_run)


def _run(args) -> int:
    if args.all == bool(args.slugs):
        raise HandoutError("name the derivations (SLUG ...) or give --all, not both")
    # lazy: `workbench --help` and `list` start without SymPy
    from workbench.core import registry

    for slug in args.slugs:
        registry.title(slug)  # unknown slugs fail here, before SymPy loads
    start = time.monotonic()

    def say(message: str) -> None:
        if not args.quiet:
            print(f"[{time.monotonic() - start:6.1f}s] {message}", file=sys.stderr, flush=True)

    # lazy: `workbench --help` and `list` start without SymPy
    from workbench.render.handout import HandoutOptions, available_slugs, make_handouts

    slugs = list(args.slugs)
    if args.all:
        slugs = list(available_slugs())
        planned = registry.planned()
        if planned:
            say(f"skipped {len(planned)} planned derivation(s) with no module yet")
    output = Path(args.output)
    if output.exists() and not output.is_dir():
        raise HandoutError(f"{output} exists and is not a folder; name a folder with -o")
    options = HandoutOptions(output, args.pdf, args.combined, args.force, args.seed)
    try:
        written, failed = make_handouts(slugs, options, say)
    except OSError as error:  # unwritable folder, full disk, a folder where a file goes
        raise HandoutError(
            f"cannot write the handouts in {output}: {describe_os_error(error)}"
        ) from None
    for path, status in written:
        print(f"{status:<11} {path}")
    if failed:
        print(
            f"workbench: {len(failed)} derivation(s) failed a check: {', '.join(failed)}; "
            "their handouts say so and mark the failed steps",
            file=sys.stderr,
        )
        return 1
    return 0


def describe_os_error(error: OSError) -> str:
    """``path: reason`` in one line, e.g. ``out/a.tex: Permission denied``."""
    reason = error.strerror or type(error).__name__
    return f"{error.filename}: {reason}" if error.filename else reason
