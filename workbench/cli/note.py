"""``workbench note``: a derivation as a Markdown note (a plug-in of the CLI).

Light at import: argparse only. SymPy is reached when it runs.

Example:
    >>> import argparse
    >>> parser = argparse.ArgumentParser(prog="workbench")
    >>> register(parser.add_subparsers(dest="command"))
    >>> parser.parse_args(["note", "softmax-jacobian", "-o", "notes"]).output
    'notes'
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from workbench.cli import args as cli_args
from workbench.errors import HandoutError

DESCRIPTION = """\
Write a derivation as a Markdown note for a note-taking app (Obsidian, Logseq,
Joplin) or a code-hosting site: the result, notation, the steps as $$ display
math with the rule and the mark each step earned, the closed form, what was
checked, and [[links]] to the results it builds on and those built on it.

The derivation is checked first; a mark is printed only when the check earned
it: "✓ proved symbolically", "✓ tested numerically"; otherwise "✗ failed",
"? undecided", "not checked" or "assumed". The mathematics uses only commands
MathJax and KaTeX know, and `workbench verify NOTE.md` reads the note back.
"""

EPILOG = """\
examples:
  workbench note cross-entropy-gradient -o notes
  workbench verify notes/cross-entropy-gradient.md
  workbench note --all -o notes --force

files written in DIR (default: the current folder):
  <slug>.md     the note; [[slug]] links name the other notes in DIR

A file that exists with different content is kept unless --force is given.

Exit status: 0 written; 1 written, but some derivation failed a check (its note
says so); 2 an error (a file kept, an unknown slug).
"""


def register(subparsers) -> None:
    """Add the ``note`` subcommand to the ``workbench`` parser."""
    p = subparsers.add_parser(
        "note",
        help="write derivations as Markdown notes with [[links]]",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=cli_args.FittingHelpFormatter,
    )
    p.add_argument("slugs", nargs="*", metavar="SLUG", help="derivations (see `workbench list`)")
    p.add_argument("--all", action="store_true", help="every derivation in the catalogue")
    p.add_argument("-o", "--output", default=".", metavar="DIR", help="folder to write to")
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

    # lazy: as above
    from workbench.cli.handout import describe_os_error
    from workbench.render.handout import available_slugs  # lazy: as above
    from workbench.render.note import write_notes  # lazy: as above

    slugs = list(available_slugs()) if args.all else list(args.slugs)
    output = Path(args.output)
    if output.exists() and not output.is_dir():
        raise HandoutError(f"{output} exists and is not a folder; name a folder with -o")
    try:
        written, failed = write_notes(slugs, output, args.force, args.seed, say)
    except OSError as error:
        raise HandoutError(
            f"cannot write the notes in {output}: {describe_os_error(error)}"
        ) from None
    for path, status in written:
        print(f"{status:<11} {path}")
    if failed:
        print(
            f"workbench: {len(failed)} derivation(s) failed a check: {', '.join(failed)}; "
            "their notes say so and mark the failed steps",
            file=sys.stderr,
        )
        return 1
    return 0
