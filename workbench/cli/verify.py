"""``workbench verify``: check a derivative worked out by hand. Light at import: no SymPy.

Registered by :mod:`workbench.cli.commands` through ``register(subparsers)``; the work is done by
:mod:`workbench.verify.api`, imported only when the command runs.
"""

from __future__ import annotations

import re
import sys

from workbench.cli import args as cli_args

DESCRIPTION = """\
Check a derivative worked out by hand (homework, a custom layer, a paper), and
if it is wrong, say where: a counterexample and the usual mistake it makes
(transposed, sign, constant factor, symmetric-only, missing term, an unstated
assumption, a wrong branch).

The verdict comes from bounded symbolic equality tiers, confirmed at exact
random points where the function is real and finite, and at points built on
each side of every kink of step, abs, sign or relu; a difference any of them
finds makes the claim wrong.

A Markdown note or a .tex file (workbench verify NOTE.md) is read for every
display ($$...$$, \\[...\\], align, aligned, equation) that chains '=' across
lines; each chain is checked step by step, and its file:line is printed with
"all n steps follow" or the first line that does not follow, and why.

Exit status: 0 the claim is right everywhere it is defined (a note: every chain
follows); 1 it is wrong (some chain does not follow); 2 the input could not be
understood (one line says what and where), the function is defined nowhere it
was tried, or a note has no derivation in it; 3 undecided: no verdict within
--timeout (give it longer).
"""

EPILOG = """\
examples:
  workbench verify --function "log(1 + exp(x))" --wrt x --claim "sigmoid(x)"
  workbench verify --function "x.T @ A @ x" --wrt x --claim "2*A @ x" \\
      --shape x=3 A=3x3
  workbench verify --function "log(det(X))" --wrt X --claim "inv(X).T" \\
      --shape X=3x3
  workbench verify --function "softmax(z)" --wrt z --claim "diag(softmax(z))" \\
      --shape z=3
  workbench verify --function "-sum(y * log(softmax(z)))" --wrt z \\
      --claim "softmax(z) - y" --shape z=3 y=3 --assume "sum(y) = 1"
  workbench verify --function "sqrt(x**2)" --wrt x --claim 1 --assume "x > 0"
  workbench verify --function "max(x)" --wrt x --claim "1 - step(max(x) - x)" \\
      --shape x=4
  workbench verify --function "sum(min(X, axis=0))" --wrt X \\
      --claim "1 - step(X - ones(2, 1) @ min(X, axis=0))" --shape X=2x3
  workbench verify --steps derivation.txt --json
  workbench verify softmax-jacobian --claim "diag(s) - s @ s.T"
  workbench verify cross-entropy-gradient --claim "s - y" --wrt z
  workbench verify examples/softmax_cross_entropy.md
  workbench verify attention-gradient --result dL/dP --claim "G @ V.T"
  workbench verify momentum-as-ewma --result 1 \\
      --claim "sum(beta**(t - k)*g(k) for k in 1..t)"

the language:
  names        letters, digits, _; --shape z=4 is a 4×1 column, --shape X=3x2 a
               matrix; undeclared names are scalars, and a scalar cannot take .T, @, trace,
               det, inv, diag, outer or softmax: the error names the --shape to add
  constants    e (Euler's number, so e^x is exp(x)) and pi; every other name is a
               variable
  operators    + - * / (scalar, or entry by entry), ** or ^ (power), @ (matrix
               product), .T (transpose), parentheses; 2x and 3(x+1) multiply
  indexing     0-based, as in NumPy: x[0] (an entry), X[1, 2], X[1] or X[1, :] (a
               row), X[:, 2] (a column); x[k], S[k, l], u[i + j] with indices of
               a sum; an index no sum binds makes the vector: s[j] - y[j] is s - y
  sums         sum(w[k]**2 for k in 0..n-1): k runs from 0 to n-1, both ends
               included (as the limits of Σ); range(n) and range(a, b) as in
               Python; nest them or write two: sum(S[k, l] for k in 0..n-1 for l
               in 0..n-1); n is the length of what k indexes
  sequences    with SLUG, a sequence over time steps is called at a step:
               sum(beta**(t - k)*g(k) for k in 1..t) (momentum-as-ewma)
  derivatives  with SLUG, f''' is the third derivative of an unspecified f (one
               prime each: f''''' is the fifth), as `workbench show` prints it:
               workbench verify finite-difference-error --result 1 \\
                 --claim "f'''*h**2/6 + f'''''*h**4/120"
  functions    exp log sqrt sin cos tanh sigmoid relu step abs sign erf cosh sinh
               atan softplus log_sigmoid gelu (exact, x·Φ(x)) gelu_tanh (the tanh
               form) (entry by entry); max(a, b) min(a, b) clamp(x, lo, hi) (entry
               by entry: clamp(x, -1, 1)); max(x) min(x) (the largest, smallest
               entry: its gradient is 1 at that entry, 0 elsewhere, written
               1 - step(max(x) - x); each entry is tested as the winner, never at
               a tie);
               sum mean (over all entries: mean(z)) norm (2-norm, Frobenius
               for a matrix) trace det inv diag (vector → diagonal matrix)
               outer(u, v) softmax log_softmax logsumexp cumsum (of a vector)
               eye(n) ones(n) ones(m, n) zeros(n) zeros(m, n)
               tanh_prime sigmoid_prime relu_prime square (entry by entry);
               with SLUG, phi and phi_prime: the case's activation and its derivative
               (so a closed form printed by `workbench show` can be pasted back)
  axis=        sum mean logsumexp softmax log_softmax max min take axis=0 (down
               each column) or axis=1 (along each row, one example per row), as in
               NumPy: softmax(X, axis=1) is a softmax per row, sum(X, axis=0) a row
               of sums, max(X, axis=1) a column of row maxima
  a 1×1 result counts as a scalar. A claim may start with '-': --claim -2*x

assumptions (--assume, repeatable; the verdict then says "given ..."):
  EXPR = EXPR          a fact every test point satisfies: sum(y) = 1
  x > 0, 0 < p < 1     the interval the entries of a name are drawn from
  y one-hot            tested as sum(y) = 1 (entries not forced to 0 and 1)
  A symmetric          entries below the diagonal are those above (not of --wrt)
  X positive definite  every test point draws X as B B.T + I
  A wrong claim is still rejected; only where it is tested changes.

layouts:
  gradient     a scalar's derivative has the shape of --wrt (the default for
               scalars)
  jacobian     J[i, j] = ∂fᵢ/∂xⱼ, m×n (the default for vector functions)

LaTeX (any text with a backslash, a brace or $ is read as LaTeX; --function,
--claim, --assume and steps lines):
  products     juxtaposition, \\cdot, \\times: the matrix product (scaling by a
               scalar); \\odot, \\circ: entry by entry, looser than juxtaposition
  powers       x^\\top x^T x^{\\intercal}: transpose; X^{-1} X^{2} of a square
               matrix: inverse, matrix power; ^{\\circ 2}: entry by entry
  subscripts   W_{2} is a declared W2 (or W_2); x_1 of a declared vector is its
               FIRST entry (x[0]); W_{12}, W_{1,2}: row 1, column 2; x_1 of an
               undeclared x is a scalar named x_1
  indices      \\sum_{k=1}^{n} and \\sum_{k=0}^{n-1} both run over the whole
               range; n is then the length indexed (also in \\frac{1}{n});
               \\sum_k has no limits; a free index makes the vector: s_j - y_j
               is s - y (two free indices: the matrix, rows by the first in
               alphabetical order); \\delta_{ij}; \\prod likewise; g_k of a
               sequence is g(k); f''' and f^{(5)} are derivatives, as above
  derivatives  \\frac{\\partial f}{\\partial x}, \\frac{d}{dx} f, \\nabla_x f: at the
               top of a steps file's first line, diff(f, x) (z_j with j free:
               with respect to z); inside a formula, by one entry or scalar
  functions    \\log \\ln \\exp \\sin \\cos \\tanh \\sqrt \\det e^{x} \\sigma(x)
               \\sigma'(x) \\tanh'(x) \\operatorname{softmax} \\mathrm{diag}
               \\operatorname{tr} \\max(a, b) \\max(x) \\max_i x_i \\min_k z_k
               \\lVert x \\rVert |x|; \\log s_k takes the next factor
  names        \\mathbf{x} \\boldsymbol{\\theta}: x, theta; \\alpha: alpha; \\hat{y}:
               y_hat; \\mathbf{1}_{n}: ones(n); I_{n}: eye(n)
  workbench verify --function '-\\sum_k y_k \\log \\operatorname{softmax}(z)_k' \\
      --wrt z --claim '\\frac{e^{z_j}}{\\sum_k e^{z_k}} - y_j' --shape z=3 y=3 \\
      --assume '\\sum_k y_k = 1'

steps file: one expression per line; every line after the first starts with '='
and claims equality with the line before; '#' starts a note; the first line may
be diff(F, x):
  diff(log(1 + exp(x)), x)
  = exp(x)/(1 + exp(x))      # chain rule
  = sigmoid(x)

notes (NOTE.md, NOTE.tex): a chain is a display's rows, split at = and at the
line breaks \\\\; \\text{...} remarks, \\tag, \\label, & and end punctuation are dropped.
The note itself declares what the names are, as a learner writes it:
  $z \\in \\mathbb{R}^n$, $W \\in \\mathbb{R}^{m \\times n}$, "where W is 3×4"
  $n = 4$ (a size; a size never given is 4, then 3, 5: the report says so)
  $s = \\operatorname{softmax}(z)$   a definition: s stands for it from there
  $\\sum_k y_k = 1$, "y is one-hot", $x > 0$   facts every test point meets
--shape wins over the note. A display "L = ..." of one '=' defines L; a
chain starting "L &= ..." defines L by its second line and checks the rest.
"""


def register(subparsers) -> None:
    """Add ``verify`` to the ``workbench`` command line."""
    p = subparsers.add_parser(
        "verify",
        help="check a hand-derived gradient, Jacobian or chain of steps",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=cli_args.FittingHelpFormatter,
    )
    p.add_argument(
        "slug",
        nargs="?",
        metavar="SLUG|NOTE",
        help="a catalogue result (workbench list), or a note to check (NOTE.md, NOTE.tex)",
    )
    p.add_argument(
        "--function", metavar="F", help="the function, e.g. 'x.T @ A @ x' or 'x^\\top A x'"
    )
    p.add_argument("--wrt", metavar="X", help="the variable differentiated with respect to")
    p.add_argument("--claim", metavar="G", help="the claimed derivative")
    p.add_argument("--steps", metavar="FILE", help="a file of steps, one per line")
    p.add_argument(
        "--shape",
        action="extend",
        nargs="+",
        default=[],
        metavar="NAME=N|NAME=MxN",
        help="declare a column vector (z=4) or a matrix (X=3x2); repeatable",
    )
    p.add_argument("--layout", choices=("gradient", "jacobian"), help="see 'layouts' below")
    p.add_argument(
        "--assume",
        action="append",
        default=[],
        metavar="A",
        help="what the inputs satisfy (repeatable): 'sum(y) = 1', 'x > 0', '0 < p < 1', "
        "'y one-hot', 'A symmetric', 'X positive definite'",
    )
    p.add_argument("--case", help="with SLUG: which of its cases (default: the first)")
    p.add_argument(
        "--result",
        metavar="LABEL",
        help="with SLUG: any of its results by label, e.g. 'dL/dP' (or '∂L/∂P'), "
        "checked against its closed form",
    )
    p.add_argument("--json", action="store_true", help="print one JSON document on stdout")
    p.add_argument(
        "--seed", type=cli_args.seed, default=0, help="seed for random points (default 0)"
    )
    p.add_argument(
        "--timeout",
        type=cli_args.seconds,
        default=None,
        help="seconds before giving up (default 20; for a note, per chain)",
    )
    p.set_defaults(run=_run)


def _usage_error(args) -> str | None:
    if args.slug and _is_note(args.slug):
        extra = [
            o
            for o, v in (
                ("--claim", args.claim),
                ("--wrt", args.wrt),
                ("--function", args.function),
                ("--steps", args.steps),
                ("--case", args.case),
                ("--assume", args.assume),
                ("--layout", args.layout),
            )
            if v
        ]
        if extra:
            return f"a note states its own claims and facts; drop {', '.join(extra)}"
        return None
    modes = [bool(args.steps), bool(args.slug), bool(args.function)]
    if sum(modes) != 1:
        return "give exactly one of --function F, --steps FILE, or SLUG (see workbench verify -h)"
    if args.function and not (args.wrt and args.claim):
        return "--function needs --wrt X and --claim G"
    if args.slug and not args.claim:
        return f"{args.slug}: give the claim with --claim G"
    if args.steps and (args.claim or args.wrt):
        return "--steps takes its claims from the file; drop --claim/--wrt"
    if args.slug and (args.shape or args.layout):
        return "a catalogue claim uses the result's own sizes and layout; drop --shape/--layout"
    if args.result and not args.slug:
        return "--result names a result of SLUG: give the slug first (workbench list)"
    if args.assume and not args.function:
        return "--assume works with --function (a catalogue result states its own assumptions)"
    return None


def _is_note(text: str) -> bool:
    return text.lower().endswith((".md", ".markdown", ".tex", ".txt")) or "/" in text


def _shapes(specs: list[str]) -> dict[str, str]:
    # lazy: `workbench --help` and `list` start without SymPy
    from workbench.errors import ParseError

    shapes: dict[str, str] = {}
    for spec in specs:
        name, equals, size = spec.partition("=")
        if not equals or not name or not re.fullmatch(r"[0-9]+(x[0-9]+)?", size.strip()):
            raise ParseError(f"--shape {spec!r}: expected NAME=N or NAME=MxN, e.g. z=4 or X=3x2")
        shapes[name.strip()] = size.strip()
    return shapes


def _run(args) -> int:
    # lazy: `workbench --help` and `list` start without SymPy
    from workbench.errors import WorkbenchError

    # lazy: `workbench --help` and `list` start without SymPy
    from workbench.verify import api as verify

    options = {"seed": args.seed}
    if args.timeout is not None:
        options["timeout"] = args.timeout
    problem = _usage_error(args)
    try:
        if problem:
            raise WorkbenchError(problem)
        shapes = _shapes(args.shape)
        if args.slug and _is_note(args.slug):
            return _note(args, shapes, options)
        if args.steps:
            from pathlib import Path

            report = verify.check_steps(
                Path(args.steps), shapes=shapes, layout=args.layout, source=args.steps, **options
            )
        elif args.slug:
            report = verify.check_catalogue_claim(
                args.slug, args.claim, wrt=args.wrt, case=args.case, result=args.result, **options
            )
        else:
            report = verify.check_claim(
                args.function,
                args.wrt,
                args.claim,
                shapes=shapes,
                layout=args.layout,
                assume=args.assume,
                **options,
            )
    except WorkbenchError as error:
        report = verify.error_report(str(error))
    if args.json:
        print(report.to_json())
    elif report.verdict == "error":
        print(f"workbench verify: error: {report.error}", file=sys.stderr)
    else:
        print(report.render(cli_args.terminal_width()))
    return report.exit_status


def _note(args, shapes: dict[str, str], options: dict) -> int:
    from pathlib import Path  # lazy: as above

    from workbench.verify.note_check import check_note  # lazy: as above

    report = check_note(Path(args.slug), shapes=shapes, source=args.slug, **options)
    if args.json:
        print(report.to_json())
    elif report.error:
        print(f"workbench verify: error: {report.error}", file=sys.stderr)
    else:
        print(report.render(cli_args.terminal_width()))
    return report.exit_status
