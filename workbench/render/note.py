"""A derivation as a Markdown note: for a note-taking app and for a code-hosting site.

The note is made, like a handout, from the derivation the checks ran on and from their
report (:mod:`workbench.render.marks` decides every mark, so a mark not earned is never
printed). Its mathematics is ``$…$`` and ``$$…$$`` in the LaTeX of
:mod:`workbench.render.latex`, which uses only commands MathJax and KaTeX know
(:data:`MATHJAX_COMMANDS`); rule names, marks and notes are plain Markdown beside it,
so they render everywhere. Results it builds on, and results that build on it, are
``[[slug]]`` links: the note of each is ``<slug>.md`` in the same folder.

Order: title; what it is for; links; notation (each name's
space, each definition, the intervals test points are drawn from), in the form
``workbench verify`` reads back; each result with the facts it assumes, its chain as one
``aligned`` display with numbered steps, then each step's rule, mark and note; the closed
form and its mark; what was checked.

Example:
    >>> from workbench.core import registry
    >>> derivation = registry.get("softmax-jacobian")
    >>> note = build_note(derivation, derivation.check())          # doctest: +SKIP
    >>> note.startswith("# Softmax Jacobian")                       # doctest: +SKIP
    True
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import sympy as sp

from workbench.checks.report import DerivationReport
from workbench.core import registry
from workbench.core.derivation import Derivation, note_parts
from workbench.render.latex import Mark, assumptions_to_latex, expr_to_latex, shown_to_latex
from workbench.render.marks import closed_form_mark, matrix_lhs, step_marks
from workbench.render.texbuild import write_outputs

MARK_WORDS = {
    Mark.PROVED: "✓ proved symbolically",
    Mark.TESTED: "✓ tested numerically",
    Mark.FAILED: "✗ failed",
    Mark.UNDECIDED: "? undecided (out of time)",
    Mark.UNCHECKED: "not checked",
    Mark.ASSUMED: "assumed (rests on a fact the result assumes)",
}
"""How each mark reads in a note; only the earned ones carry ✓."""

CHECK_WORDS = {
    "steps": "every step",
    "facts": "the facts the steps rely on",
    "closed form": "derived result = closed form",
    "sympy diff": "SymPy's own derivative at concrete sizes",
    "finite differences": "finite differences",
    "complex step": "complex step",
    "numeric identity": "identities, numerically",
    "independent symbolic": "independent symbolic routes",
    "numeric": "independent computations",
}
METHOD_WORDS = {
    "proved": "proved symbolically",
    "tested": "tested at exact random points",
    "central": "central differences, h = 1e-5",
    "complex-step": "complex step, h = 1e-20",
    "numeric": "float64 evaluation at random inputs",
    "assumed": "assumed, not checked",
    "failed": "failed",
    "error": "crashed",
}

# Every command a note's mathematics may use: MathJax 3 and KaTeX both know these.
MATHJAX_COMMANDS = frozenset(
    re.findall(
        r"\S+",
        r"""
    \! \, \: \; \Big \Bigg \Delta \Gamma \Im \Lambda \Omega \Phi \Pi \Psi \Re \Sigma
    \Theta \Upsilon \Vert \Xi \\ \acute \aleph \alpha \approx \arg \ast \backslash \bar
    \begin \beta \big \bigg \binom \bmod \breve \cap \cdot \cdots \check \chi \circ \cos
    \cosh \cup \dagger \dbinom \ddot \ddots \delta \det \dfrac \displaystyle \dot \dots
    \ell \emptyset \end \epsilon \equiv \eta \exists \exp \forall \frac \gamma \ge \geq
    \grave \hat \hbar \imath \in \inf \infty \int \iota \jmath \kappa \lVert \lambda
    \langle \lceil \ldots \le \left \leq \lfloor \lim \limits \ln \log \lvert \mapsto
    \mathbb \mathbf \mathcal \mathit \mathrm \mathsf \max \mid \min \mu \nabla \neq
    \nolimits \nu \odot \omega \operatorname \oplus \otimes \overline \partial \phi \pi
    \pmod \prime \prod \propto \psi \qquad \quad \rVert \rangle \rceil \rfloor \rho
    \right \rightarrow \rvert \setminus \sigma \sim \sin \sinh \sqrt \star \subset
    \subseteq \sum \sup \tanh \tau \tbinom \text \textstyle \tfrac \theta \tilde \times
    \to \top \underline \upsilon \varepsilon \varnothing \varphi \varrho \varsigma
    \vartheta \vdots \vec \vee \vert \wedge \widehat \widetilde \xi \zeta \{ \| \}
    """,
    )
)


def build_note(derivation: Derivation, report: DerivationReport) -> str:
    """The note of ``derivation``, its marks from ``report``.

    Raises:
        ValueError: ``report`` is of another derivation.
    """
    if report.slug != derivation.slug:
        raise ValueError(f"report of {report.slug!r} given for {derivation.slug!r}")
    marks = step_marks(derivation, report)
    out = [f"# {derivation.title}", ""]
    # No result line up front: the module's one-line statement is typed text no check
    # reads, and a stated "$u = s$" would be read back as a definition of the note. Each
    # result is stated in its own section, with its closed form and mark.
    out += [derivation.summary, ""]
    out += _links(derivation.slug)
    out += _notation(derivation)
    declared = _matrices(_expressions(derivation))  # as the Notation declares them
    for result in derivation.results:
        out += _result(derivation, result, marks, report, declared)
    out += _checked(report)
    return "\n".join(out).rstrip() + "\n"


def _links(slug: str) -> list[str]:
    uses = registry.builds_on(slug)
    used_by = [s for s in registry.slugs() if slug in registry.builds_on(s)]
    out = []
    if uses:
        out.append("Builds on: " + ", ".join(f"[[{s}]] ({registry.title(s)})" for s in uses) + ".")
    if used_by:
        out.append("Used in: " + ", ".join(f"[[{s}]] ({registry.title(s)})" for s in used_by) + ".")
    return [*out, ""] if out else []


def _notation(derivation: Derivation) -> list[str]:
    """Each matrix's space, each definition and each assumed fact, one item a line, in
    the form a reader of the note (``workbench verify``) takes them from."""
    out = ["## Notation", ""]
    out += [f"- {name}: {meaning}" for name, meaning in derivation.variables]
    if derivation.conventions:
        out += ["", f"Conventions: {derivation.conventions}"]
    exprs = _expressions(derivation)
    spaces = [_space(name, symbol) for name, symbol in _matrices(exprs).items()]
    if spaces:
        out += ["", "Shapes: " + ", ".join(spaces) + "."]
    definitions = [
        f"- ${_definition(name, value)}$" for name, value in derivation.definitions.items()
    ]
    if definitions:
        out += ["", "Definitions:", "", *definitions]
    bounds = _domain(derivation, exprs)
    if bounds:
        out += ["", "Test points are drawn from " + ", ".join(bounds) + "."]
    return [*out, ""]


def _expressions(derivation: Derivation) -> list:
    """Every expression the note prints: definitions, and each result's goal and steps."""
    exprs = [*derivation.definitions, *derivation.definitions.values()]
    for result in derivation.results:
        exprs += [result.goal, *(s.after for s in result.steps)]
    return exprs


def _matrices(exprs) -> dict[str, sp.MatrixSymbol]:
    """Each matrix by its printed name, as first met."""
    matrices: dict[str, sp.MatrixSymbol] = {}
    for expr in exprs:
        for symbol in sp.sympify(expr).atoms(sp.MatrixSymbol):
            matrices.setdefault(expr_to_latex(symbol), symbol)
    return matrices


def _space(name: str, symbol: sp.MatrixSymbol) -> str:
    """``$A \\in \\mathbb{R}^{n \\times n}$``: the declaration the reader takes back."""
    rows, cols = (expr_to_latex(d) for d in symbol.shape)
    space = rows if cols == "1" else rf"{rows} \times {cols}"
    return rf"${name} \in \mathbb{{R}}^{{{space}}}$"


def _shapes_here(result, declared: dict[str, sp.MatrixSymbol]) -> list[str]:
    """The declarations a result needs where a name it uses has another shape than the
    one declared last (matrix-calculus identities: A is n×n in xᵀAx, d×n in tr(AXB)):
    the reader takes a name's last declaration before a derivation. ``declared`` is
    updated to what the note declares after this result."""
    own = _matrices([result.goal, *(s.after for s in result.steps)])
    changed = {name: symbol for name, symbol in own.items() if declared.get(name) != symbol}
    declared.update(changed)
    return [_space(name, symbol) for name, symbol in changed.items()]


def _definition(name: sp.Basic, value: sp.Basic) -> str:
    """``name = value`` in LaTeX; a matrix given entry by entry (a ``FunctionMatrix``,
    which is no notation a reader knows) as its entry: ``T_{ij} = \\sum_k …``, with
    index letters the entry does not use otherwise."""
    if not isinstance(value, sp.FunctionMatrix) or not isinstance(value.lamda, sp.Lambda):
        return f"{expr_to_latex(name)} = {expr_to_latex(value)}"
    rows, cols = value.lamda.variables
    body = value.lamda.expr
    taken = {str(s) for s in body.atoms(sp.Symbol)} | {str(name)}  # bound ones too
    letters = [sp.Symbol(c, integer=True) for c in "ijklmnpqrs" if c not in taken]
    row, col = letters[0], letters[1]
    entry = body.xreplace({rows: row, cols: col})
    index = expr_to_latex(row) if value.shape[1] == 1 else f"{row}{col}"
    return f"{expr_to_latex(name)}_{{{index}}} = {expr_to_latex(entry)}"


def _domain(derivation: Derivation, exprs) -> list[str]:
    """Each input's interval of test points (``derivation.domain``) as a bound the reader
    takes back: ``$0.05 \\le q \\le 1$`` (every entry of q)."""
    names: dict[str, sp.Basic] = {}
    for expr in exprs:
        for atom in sp.sympify(expr).atoms(sp.Symbol, sp.MatrixSymbol):
            names.setdefault(str(atom.name), atom)
    out = []
    for name, (low, high) in derivation.domain.items():
        written = expr_to_latex(names[name]) if name in names else name
        out.append(rf"${low:g} \le {written} \le {high:g}$")
    return out


def _result(derivation, result, marks, report, declared) -> list[str]:
    rows = [
        rf"&= {expr_to_latex(step.after)} && \text{{({number})}}"
        for number, step in enumerate(result.steps, 1)
    ]
    facts = assumptions_to_latex(derivation, result)
    # The facts of this result only, in its own section: the reader holds a fact stated
    # in a section with a derivation to the next heading.
    given = ["Assumed here: " + ", ".join(facts) + ".", ""] if facts else []
    redeclared = _shapes_here(result, declared)
    given = (["Shapes here: " + ", ".join(redeclared) + ".", ""] if redeclared else []) + given
    lines = [
        f"## {result.label}",
        "",
        *given,
        "$$",
        r"\begin{aligned}",
        f"{expr_to_latex(result.goal)}",
        *[row + r" \\" for row in rows[:-1]],
        rows[-1],
        r"\end{aligned}",
        "$$",
        "",
    ]
    for number, step in enumerate(result.steps, 1):
        mark = marks.get((result.label, number), Mark.UNCHECKED)
        lines.append(f"{number}. **{step.rule}** — {MARK_WORDS[mark]}. {note_markdown(step)}")
    closed = closed_form_mark(report, result.label)
    lhs = matrix_lhs(result) if isinstance(result.goal, sp.Derivative) else None
    form = expr_to_latex(result.closed_form)
    lines += [
        "",
        f"Closed form ({MARK_WORDS[closed]}):",
        "",
        "$$",
        f"{lhs} = {form}" if lhs else form,
        "$$",
        "",
    ]
    return lines


def note_markdown(step) -> str:
    """A step's note in Markdown: its prose, and what it shows of the step as ``$…$``."""
    return "".join(p if isinstance(p, str) else f"${shown_to_latex(p)}$" for p in note_parts(step))


def _checked(report: DerivationReport) -> list[str]:
    out = ["## What was checked", ""]
    for check in report.checks:
        verdict = "✓" if check.earned else ("✗ failed" if not check.passed else "assumed")
        how = METHOD_WORDS.get(check.method, check.method)
        error = "" if check.max_error is None else f", worst relative error {check.max_error:.1e}"
        out.append(f"- {CHECK_WORDS.get(check.name, check.name)}: {verdict} ({how}{error})")
    passed = "passed every check" if report.passed else "did **not** pass every check"
    out += ["", f"The derivation {passed} (`workbench check {report.slug}`)."]
    return out


def write_notes(
    slugs: list[str],
    out_dir: Path,
    force: bool = False,
    seed: int = 0,
    say: Callable[[str], None] = lambda _: None,
) -> tuple[list[tuple[str, str]], list[str]]:
    """Check each derivation and write ``out_dir/<slug>.md``.

    Returns:
        (file, "written"/"unchanged"/"overwritten") for every note, and the slugs whose
        checks did not all pass.

    Raises:
        OutputExists: a note exists with other content and ``force`` is off; then
            nothing is written.
    """
    notes: dict[Path, bytes] = {}
    failed = []
    for slug in slugs:
        say(f"{slug}: checking")
        derivation = registry.get(slug)
        report = derivation.check(seed=seed)
        if not report.passed:
            failed.append(slug)
        notes[out_dir / f"{slug}.md"] = build_note(derivation, report).encode("utf-8")
    return write_outputs(notes, force), failed


def commands_in(math: str) -> set[str]:
    r"""The LaTeX commands a formula uses: ``\frac{a}{b} \cdot c`` → {``\frac``, ``\cdot``}."""
    return set(re.findall(r"\\[A-Za-z]+\*?|\\[^A-Za-z]", math))


def math_of(note: str) -> list[str]:
    """Every ``$…$`` and ``$$…$$`` of a note, in order."""
    found = re.findall(r"\$\$(.+?)\$\$|\$([^$\n]+)\$", note, flags=re.S)
    return [display or inline for display, inline in found]


__all__ = ["MARK_WORDS", "MATHJAX_COMMANDS", "build_note", "commands_in", "math_of", "write_notes"]
