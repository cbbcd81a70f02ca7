"""The ``workbench`` command line. SymPy is imported only by commands that need it."""

from __future__ import annotations

import argparse
import functools
import json
import os
import sys
import time
from collections.abc import Sequence

from workbench.cli import args as cli_args
from workbench.errors import WorkbenchError

DESCRIPTION = """\
Derive, verify and render the mathematics of machine learning.

Every result in the catalogue is derived step by step by SymPy from its definitions,
compared with its textbook closed form, and checked three independent ways: each step
is valid; SymPy's own differentiation agrees at several concrete sizes; the NumPy
closed form agrees with finite differences and the complex step at random inputs.
"""

EPILOG = """\
examples:
  workbench list                           the results, in curriculum order
  workbench show softmax-jacobian          the steps of one derivation
  workbench check                          derive and verify everything (exit 0 = all passed)
  workbench check cross-entropy-gradient --json   one JSON document for scripts

conventions: vectors are columns; the gradient of a scalar has the shape of its
variable (denominator layout); a Jacobian is m×n with J[i, j] = ∂fᵢ/∂xⱼ (numerator
layout); indices run from 0 to n−1.
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="workbench",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=cli_args.FittingHelpFormatter,
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("list", help="list the results (slug and title)")
    p.add_argument("--json", action="store_true", help="print JSON")

    p = sub.add_parser("show", help="show the steps of one derivation")
    p.add_argument("slug", help="a slug from `workbench list`")

    p = sub.add_parser(
        "check",
        help="derive and verify results (all when no slug is given)",
        description="Derive and verify results. Exit status 0 only if every check passed.",
    )
    p.add_argument("slugs", nargs="*", metavar="SLUG", help="slugs to check (default: all)")
    p.add_argument("--json", action="store_true", help="print one JSON document on stdout")
    p.add_argument(
        "--seed", type=cli_args.seed, default=0, help="seed for random points (default 0)"
    )
    p.add_argument(
        "--budget",
        type=cli_args.seconds,
        default=None,
        help="CPU seconds per equality decision (default 20)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress on stderr")

    p = sub.add_parser(
        "rules",
        help="list the rule vocabulary a step may name",
        description="Every rule a derivation's step may name, once each, with the statement "
        "of each of its forms (a law applied to different objects has several forms).",
    )
    p.add_argument("--json", action="store_true", help='print [{"name", "statements"}, ...]')
    for plugin in _plugins():
        plugin.register(sub)
    return parser


PLUGINS = ("workbench.cli.verify", "workbench.cli.handout", "workbench.cli.note")
"""Modules that add subcommands: each has ``register(subparsers)``, which adds a parser
and sets ``run=function(args) -> exit status`` as its default. Kept light: no SymPy."""


def _plugins():
    import importlib

    for name in PLUGINS:
        try:
            yield importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:  # a missing dependency inside the plugin is a real error
                raise


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    tokens = list(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(attach_dash_values(tokens, _option_strings(parser)))
    if args.command is None:
        parser.print_help()
        return 0
    try:
        run = getattr(args, "run", None) or COMMANDS[args.command]
        return run(args)
    except WorkbenchError as exc:
        if args.debug:
            raise
        print(f"workbench: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("workbench: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return _reader_went_away()


# Options whose value is a formula, which may start with '-' (a negated term).
EXPRESSION_OPTIONS = ("--function", "--claim")


def attach_dash_values(tokens: list[str], options: set[str]) -> list[str]:
    """``--claim -2*x`` as ``--claim=-2*x``: argparse takes a value starting with '-' for
    an option of its own and stops. A following token that is one of ``options`` is
    left alone (``--claim --json`` still says the claim is missing).

    Example:
        >>> attach_dash_values(["verify", "--claim", "-2*x", "--json"], {"--json"})
        ['verify', '--claim=-2*x', '--json']
    """
    out: list[str] = []
    position = 0
    while position < len(tokens):
        token = tokens[position]
        following = tokens[position + 1] if position + 1 < len(tokens) else None
        if (
            token in EXPRESSION_OPTIONS
            and following is not None
            and following.startswith("-")
            and following.split("=", 1)[0] not in options
        ):
            out.append(f"{token}={following}")
            position += 2
            continue
        out.append(token)
        position += 1
    return out


def _option_strings(parser: argparse.ArgumentParser) -> set[str]:
    """Every option string of ``parser`` and its subcommands."""
    found: set[str] = set()
    for action in parser._actions:  # argparse keeps no public list of them
        found.update(action.option_strings)
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                found |= _option_strings(sub)
    return found


SIGPIPE_STATUS = 128 + 13  # what a shell reports for a program stopped by SIGPIPE


def _reader_went_away() -> int:
    """The output's reader closed the pipe (``workbench show … | head``): stop quietly,
    as other command-line tools do. Later writes, such as the interpreter's flush at
    exit, go to /dev/null instead of raising again."""
    import contextlib
    import os

    # Suppressed: stdout without a file descriptor (replaced in a test or a notebook).
    with contextlib.suppress(AttributeError, OSError, ValueError):
        target = sys.stdout.fileno()
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, target)
        os.close(devnull)
    return SIGPIPE_STATUS


def _list(args) -> int:
    # lazy: `workbench --help` and `list` start without SymPy
    from workbench.core import registry

    rows = [(s, registry.title(s), registry.statement(s)) for s in registry.slugs()]
    if args.json:
        print(json.dumps([{"slug": s, "title": t, "result": r} for s, t, r in rows], indent=2))
        return 0
    width = max(len(s) for s, _, _ in rows)
    for slug, title, _ in rows:
        print(f"{slug:<{width}}  {title}")
    return 0


def _show(args) -> int:
    # lazy: `workbench --help` and `list` start without SymPy
    from workbench.core import registry

    registry.title(args.slug)  # unknown slugs fail here, before SymPy loads
    # lazy: `workbench --help` and `list` start without SymPy
    from workbench.render.text import render_steps

    print(fit_lines(render_steps(registry.get(args.slug)), cli_args.terminal_width()))
    return 0


def fit_lines(text: str, width: int) -> str:
    """Each line wrapped to ``width``, its continuation indented under its own start."""
    import textwrap  # lazy: `workbench --help` and `list` start without SymPy

    out = []
    for line in text.splitlines():
        if len(line) <= width:
            out.append(line)
            continue
        body = line.lstrip(" ")
        indent = " " * (len(line) - len(body))
        out += textwrap.wrap(
            body,
            width,
            initial_indent=indent,
            subsequent_indent=indent + "    ",
            break_on_hyphens=False,
        )
    return "\n".join(out)


def _check(args) -> int:
    # lazy: `workbench --help` and `list` start without SymPy
    from workbench.core import registry

    chosen = list(args.slugs) or list(registry.slugs())
    for slug in chosen:
        registry.title(slug)  # fail fast, with the list of known slugs
    options = {"seed": args.seed}
    if args.budget is not None:
        options["budget"] = args.budget
    start = time.monotonic()
    reports = _check_slugs(chosen, options, start, args.quiet)

    if args.json:
        print(json.dumps({"results": [r.to_dict() for r in reports]}, indent=2))
    else:
        print(render_table(reports, cli_args.terminal_width()))
        passed = sum(r.passed for r in reports)
        noun = "derivation" if len(reports) == 1 else "derivations"
        print(
            f"\n{passed} of {len(reports)} {noun} passed every check "
            f"({time.monotonic() - start:.1f}s)."
        )
    return 0 if all(r.passed for r in reports) else 1


# Column headers where the table must be narrow: two short lines each.
SHORT_HEADER = {
    "finite differences": "finite diffs",
    "independent symbolic": "indep. symbolic",
    "numeric": "indep. numeric",
}
MARK_LEGEND = (
    "✓S proved symbolically · ✓N tested at random points · a number: worst relative error "
    "· assumed (+A: some): facts the result assumes, not checked"
)


def render_table(reports, width: int = 80) -> str:
    """The summary table: one row per derivation, one column per check, ``width`` wide.

    Where the full words (``✓ proved``, one-line headers) do not fit, each cell takes its
    short form (``✓S``, ``✓N``) with a legend under the table, headers break between
    words and slugs at their hyphens. A failed check's detail follows, wrapped.
    """
    import textwrap  # lazy: `workbench --help` and `list` start without SymPy

    short_method = {"proved": "S", "tested": "N"}

    def cell(check, short: bool) -> str:
        if check.passed and not check.earned:  # nothing checked: every fact is assumed
            return "assumed"
        mark = "✓" if check.passed else "✗"
        if check.max_error is not None:
            sampled = "†" if worst_is_sampled(check) else ""  # explained under the table
            return f"{mark} {check.max_error:.0e}{sampled}"
        some_assumed = "+A" if check.assumed else ""
        if short and check.method in short_method:
            return mark + short_method[check.method] + some_assumed
        return f"{mark} {check.method}" + (" + assumed" if check.assumed else "")

    names: list[str] = []
    for report in reports:
        names += [c.name for c in report.checks if c.name not in names]

    def layout(short: bool) -> list[str]:
        gap = " " if short else "  "
        headers = [
            ["derivation"],
            *[(SHORT_HEADER.get(n, n).split() if short else [n]) for n in names],
        ]
        rows = []
        for report in reports:
            by_name = {c.name: c for c in report.checks}
            rows.append([cell(by_name[n], short) if n in by_name else "-" for n in names])
        widths = [max(len(w) for w in h) for h in headers[1:]]
        widths = [max(w, *(len(r[i]) for r in rows)) for i, w in enumerate(widths)]
        room = width - sum(widths) - len(gap) * len(widths)
        slug_width = max(len("derivation"), min(room, max(len(r.slug) for r in reports)))
        widths = [slug_width, *widths]
        depth = max(len(h) for h in headers)
        out = []
        for line in range(depth):  # headers sit on their last line, as in a spreadsheet
            words = [h[line - depth + len(h)] if line >= depth - len(h) else "" for h in headers]
            out.append(gap.join(w.ljust(n) for w, n in zip(words, widths, strict=True)))
        out.append(gap.join("─" * n for n in widths))
        for report, row in zip(reports, rows, strict=True):
            # A slug too long for its column stands on a line of its own, whole.
            first = report.slug if len(report.slug) <= slug_width else ""
            if not first:
                out.append(report.slug)
            cells = zip([first, *row], widths, strict=True)
            out.append(gap.join(c.ljust(n) for c, n in cells))
        return [line.rstrip() for line in out]

    lines = layout(short=False)
    short = max(len(line) for line in lines) > width
    if short:
        lines = layout(short=True) + textwrap.wrap(MARK_LEGEND, width)
    lines += monte_carlo_notes(reports, width)
    for report in reports:
        for check in report.checks:
            if not check.passed:
                lines.append("")
                lines += textwrap.wrap(
                    f"✗ {report.slug} / {check.name}: {check.detail}",
                    width,
                    subsequent_indent="  ",
                )
    return "\n".join(lines)


MONTE_CARLO_LEGEND = (
    "†: the worst error is a Monte Carlo estimate's, sampling noise of order 1/√N for "
    "N samples, not a loose float tolerance; each estimate has its own tolerance:"
)


def monte_carlo_items(check) -> list:
    """The items of ``check`` that average random samples, with what their names say
    about the sampling (:func:`workbench.render.sampling.monte_carlo`)."""
    from workbench.render import sampling  # lazy: `workbench --help` starts without it

    found = []
    for item in check.items:
        sampled = sampling.monte_carlo(str(item.get("what", "")))
        if sampled is not None:
            found.append((item, sampled))
    return found


def worst_is_sampled(check) -> bool:
    """Whether the check's worst error is a Monte Carlo estimate's."""
    found = monte_carlo_items(check)
    if not found or check.max_error is None:
        return False
    worst = max(item.get("max_rel_error", 0.0) for item, _ in found)
    return worst >= check.max_error


def monte_carlo_notes(reports, width: int) -> list[str]:
    """Under the table: for each derivation with a Monte Carlo check, its samples, worst
    error and tolerance, so that 3e-03 beside a ✓ is not read as a float tolerance."""
    import textwrap  # lazy: as above

    notes = []
    for report in reports:
        for check in report.checks:
            if not worst_is_sampled(check):
                continue
            found = monte_carlo_items(check)
            item, sampled = max(found, key=lambda pair: pair[0].get("max_rel_error", 0.0))
            within = "≤" if item.get("passed") else ">"
            k = sampled.standard_errors
            how = f" ({k} standard errors)" if k is not None else ""
            several = len(found) > 1
            estimates = (
                f"{len(found)} Monte Carlo estimates" if several else "a Monte Carlo estimate"
            )
            notes.append(
                f"{report.slug}: {estimates} from {sampled.samples:,} {sampled.unit}"
                f"{' each' if several else ''}; {'worst ' if several else ''}error "
                f"{item.get('max_rel_error', float('nan')):.0e} {within} its tolerance "
                f"{item.get('tolerance', float('nan')):.0e}{how}"
            )
    if not notes:
        return []
    lines = textwrap.wrap(MONTE_CARLO_LEGEND, width)
    for note in notes:
        lines += textwrap.wrap(note, width, initial_indent="  ", subsequent_indent="    ")
    return lines


def _check_slugs(chosen: list[str], options: dict, start: float, quiet: bool) -> list:
    """Each derivation checked, in order. Several derivations share the worker processes
    one derivation each (its own checks then run in that process), which keeps both cores
    busy where one derivation's checks alone leave one idle."""
    # lazy: `workbench --help` and `list` start without the check runner and pools
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from workbench.checks.parallel import default_workers  # lazy: as above
    from workbench.checks.timebox import fork_is_safe  # lazy: as above

    work = functools.partial(_check_one, options=options, start=start, quiet=quiet)
    workers = min(default_workers(), len(chosen))
    if workers < 2 or not fork_is_safe():
        return [work(slug) for slug in chosen]
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        return list(pool.map(functools.partial(_in_worker, work), chosen))


def _in_worker(work, slug: str):
    os.environ["WORKBENCH_WORKERS"] = "1"  # this process is a worker already
    return work(slug)


def _check_one(slug: str, *, options: dict, start: float, quiet: bool):
    # lazy: `workbench --help` and `list` start without SymPy
    from workbench.core import registry

    def progress(message: str) -> None:
        if not quiet:
            print(f"[{time.monotonic() - start:6.1f}s] {message}", file=sys.stderr, flush=True)

    progress(f"{slug}: deriving")
    report = registry.get(slug).check(progress=progress, **options)
    progress(f"{slug}: {'passed' if report.passed else 'FAILED'} in {report.seconds:.1f}s")
    return report


def _rules(args) -> int:
    import textwrap  # lazy: `workbench --help` and `list` start without SymPy

    # lazy: `workbench --help` and `list` start without SymPy
    from workbench.core.vocabulary import entries

    if args.json:
        rows = [{"name": e.name, "statements": list(e.statements)} for e in entries()]
        print(json.dumps(rows, ensure_ascii=False, indent=1))
        return 0
    width = cli_args.terminal_width()
    for entry in entries():
        print(entry.name)
        for statement in entry.statements:
            print(
                textwrap.fill(statement, width, initial_indent="    ", subsequent_indent="      ")
            )
    return 0


COMMANDS = {"list": _list, "show": _show, "check": _check, "rules": _rules}

if __name__ == "__main__":
    sys.exit(main())
