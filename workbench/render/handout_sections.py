"""The sections of a handout, each a function from one :class:`Context` to LaTeX.

:func:`render` puts them in the order the issue asks for; ``level`` 0 makes them
``\\section``s of a standalone handout, level 1 ``\\subsection``s of a course-pack chapter.
What is said comes from the derivation and its report; how it looks is LaTeX here.

Example:
    >>> HEADINGS[1]
    ('subsection', 'subsubsection')
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace

from workbench.checks.report import CheckResult, DerivationReport
from workbench.codegen.listing import bound_arguments, route_source
from workbench.core.derivation import Derivation, Result
from workbench.render import codepanel, layout, sampling
from workbench.render.figures import Figure
from workbench.render.latex import (
    Mark,
    StepStyle,
    assumptions_to_latex,
    expr_to_latex,
    notes_to_latex,
    number_to_latex,
    text_to_latex,
)
from workbench.render.marks import boxed_form, closed_form_mark, matrix_lhs
from workbench.render.prose import FUNCTION_WORDS

HEADINGS = (("section", "subsection"), ("subsection", "subsubsection"))
PASSED = r"\textcolor{wbgreen}{\ensuremath{\checkmark}}"
FAILED = r"\textcolor{wbred}{\ensuremath{\times}~failed}"
RAGGED = r">{\raggedright\arraybackslash}X"  # a table column that wraps without stretching
HOW = {
    "proved": "proved symbolically",
    "tested": "tested at exact random points",
    "central": r"central differences, $h = 10^{-5}$",
    "complex-step": r"complex step, $h = 10^{-20}$",
    "numeric": "float64 evaluation at random inputs",
    "failed": "failed",
    "error": "crashed",
}
CHECK_NAMES = {
    "steps": "every step",
    "closed form": "derived result = closed form",
    "sympy diff": "SymPy's own derivative",
    "finite differences": "finite differences",
    "complex step": "complex step",
    "numeric identity": "identities, numerically",
    "independent symbolic": "independent symbolic routes",
    "numeric": "independent computations",
}


@dataclass(frozen=True)
class Context:
    """Everything a section may use: the derivation, its report, the earned marks."""

    derivation: Derivation
    report: DerivationReport
    marks: Mapping[tuple[str, int], Mark]
    style: StepStyle
    figure_paths: Mapping[str, str]
    figures: tuple[Figure, ...]
    seed: int = 0  # of the checks' random points
    level: int = 0  # 0: a standalone handout; 1: a section of the course pack

    @property
    def this(self) -> str:
        """How the text names the document it is in."""
        return "this handout" if self.level == 0 else "this section"

    @property
    def derivation_ref(self) -> str:
        """A reference to the section holding the derivation, numbered as printed: §2 in
        a handout, §7.2 in the course pack (it said §2 there too)."""
        return rf"\S\ref{{derivation:{self.derivation.slug}}}"


def render(ctx: Context, level: int) -> str:
    """Every section of the handout in order, headed at ``level`` (0 or 1)."""
    ctx = replace(ctx, level=level)
    top, sub = HEADINGS[level]
    parts = [
        intro(ctx),
        _heading(top, "Notation and conventions") + notation(ctx),
        _heading(top, "The derivation")
        + f"\\label{{derivation:{ctx.derivation.slug}}}\n"
        + derivation(ctx, sub),
    ]
    pictures = [f for f in ctx.figures if f.name != "step-size"]
    if pictures:
        parts.append(_heading(top, "Seeing the result") + figures(ctx, pictures))
    parts.append(_heading(top, "From maths to code") + code(ctx, sub))
    parts.append(_heading(top, "What was checked") + checked(ctx))
    if ctx.derivation.exercises:
        parts.append(_heading(top, "Exercises") + exercises(ctx))
        parts.append(_heading(top, "Worked solutions") + solutions(ctx))
    step_size = [f for f in ctx.figures if f.name == "step-size"][:1]  # once, at the end
    if step_size:
        parts.append(
            _heading(top, "Appendix: the step of the finite-difference check")
            + _figure(ctx, step_size[0])
        )
    return "\n\n".join(parts)


def _heading(command: str, title: str) -> str:
    return f"\\{command}{{{title}}}\n"


def legend(style: StepStyle) -> str:
    """What the marks mean, in one sentence."""
    m = style.marks
    return (
        f"{m[Mark.PROVED]} proved symbolically; {m[Mark.TESTED]} tested numerically "
        f"(exact random points or 50-digit evaluation); {m[Mark.FAILED]}; "
        f"{m[Mark.UNDECIDED]} (out of time); {m[Mark.UNCHECKED]}."
    )


# ---------------------------------------------------------------- sections
def intro(ctx: Context) -> str:
    d, report = ctx.derivation, ctx.report
    counts = {mark: 0 for mark in Mark}
    for result in d.results:
        for number in range(1, len(result.steps) + 1):
            counts[ctx.marks.get((result.label, number), Mark.UNCHECKED)] += 1
    total = sum(counts.values())
    said = [
        f"{counts[Mark.PROVED]} proved symbolically",
        f"{counts[Mark.TESTED]} tested numerically",
    ]
    said += [f"{counts[m]} {m.value}" for m in (Mark.FAILED, Mark.UNDECIDED, Mark.UNCHECKED)]
    said = [s for s in said if not s.startswith("0 ")] or ["none checked"]
    out = [text_to_latex(d.summary), _stated(ctx)]
    out.append(
        rf"\textbf{{Machine-checked.}} Every equation in {ctx.this} was produced by SymPy "
        "from the definitions and checked by the derivation workbench: of its "
        f"{total} steps, {', '.join(said)}. The result was also compared with SymPy's own "
        "derivative at concrete sizes and with finite differences and the complex step "
        "(see \\emph{What was checked}). Marks: " + legend(ctx.style)
    )
    failed = [c.name for c in report.checks if not c.passed]
    if failed or not report.checks:
        what = (
            f"these checks did not pass: {text_to_latex(', '.join(failed))}"
            if failed
            else "no check was run on this derivation"
        )
        out.append(
            r"\fbox{\parbox{0.95\linewidth}{\textcolor{wbred}{\textbf{Not verified:}} "
            rf"{what}. A step without a \ensuremath{{\checkmark}} is not established; "
            "do not rely on it.}}"
        )
    return "\n\n".join(out)


# The handout states every result up front when there are at most this many; beyond it,
# it names them, and each is stated where it is derived.
STATED_AT_MOST = 6


def stated_results(derivation: Derivation, report: DerivationReport) -> list[tuple[Result, Mark]]:
    """The results the handout states at its top, each with the mark its comparison with the
    closed form earned; none when there are more than :data:`STATED_AT_MOST`. They are
    printed from the result objects the checks compared (:func:`matrix_lhs` =
    :func:`boxed_form`), never from typed text: a statement written by hand would be a
    formula nothing checked, printed under "machine-checked".

    Example:
        >>> from workbench.core import registry
        >>> empty = lambda d: DerivationReport(d.slug, d.title, ())
        >>> two_layer = registry.get("two-layer-backprop")
        >>> [(r.label, m.value) for r, m in stated_results(two_layer, empty(two_layer))][:2]
        [('∂L/∂W₂', 'unchecked'), ('∂L/∂b₂', 'unchecked')]
        >>> stated_results(registry.get("transformer-block-backward"), empty(two_layer))
        []
    """
    results = derivation.results
    if len(results) > STATED_AT_MOST:
        return []
    return [(result, closed_form_mark(report, result.label)) for result in results]


def _stated(ctx: Context) -> str:
    """The results up front, printed from the objects the checks compared, each with the
    mark of its comparison with the closed form (:func:`stated_results`);
    what every stated result assumes is said once, before them."""
    results = ctx.derivation.results
    stated = stated_results(ctx.derivation, ctx.report)
    if not stated:
        labels = ", ".join(text_to_latex(r.label) for r in results)
        return (
            rf"\textbf{{Results.}} Its {len(results)} results, {labels}, are each boxed in "
            rf"{ctx.derivation_ref} beside the closed form each was compared with."
        )
    assumed = [assumptions_to_latex(ctx.derivation, r) for r, _ in stated]
    common = [a for a in assumed[0] if all(a in other for other in assumed)]
    lines = []
    for (result, mark), own in zip(stated, assumed, strict=True):
        extra = ", ".join(a for a in own if a not in common)
        # The mark and what the result uses are scaled with it: a long "using" ran 26 pt
        # into the margin (Gaussian MLE).
        lines.append(
            layout.fit(
                rf"{matrix_lhs(result)} = {expr_to_latex(boxed_form(result))}"
                + rf"\qquad \text{{{ctx.style.marks[mark]}"
                + (f" (using {extra})" if extra else "")
                + "}"
            )
        )
    head = r"\textbf{Result" + ("s" if len(stated) > 1 else "") + "}"
    if common:
        head += f" (using {', '.join(common)})"
    return (
        head + f", in the closed form each derived result of {ctx.derivation_ref} was compared "
        "with; the "
        "mark is that comparison's:\n\\begin{gather*}\n"
        + " \\\\\n".join(lines)
        + "\n\\end{gather*}"
    )


def notation(ctx: Context) -> str:
    d = ctx.derivation
    rows = "\n".join(
        rf"{_name(name)} & {text_to_latex(meaning)} \\" for name, meaning in d.variables
    )
    return (
        f"{text_to_latex(d.conventions)}\n\n"
        # The meaning wraps (the transformer block's rows ran into the margin).
        f"\\begin{{tabularx}}{{\\linewidth}}{{@{{}}l{RAGGED}@{{}}}}\n\\toprule\n"
        "symbol & meaning and shape \\\\\n\\midrule\n"
        f"{rows}\n\\bottomrule\n\\end{{tabularx}}"
    )


def _name(name: str) -> str:
    if name.replace(",", "").replace(" ", "").isascii():
        # a name of several letters (dP, PPL) is one upright name, as the steps print it
        return "$" + re.sub(r"\b([A-Za-z]{2,})\b", r"\\mathrm{\1}", name) + "$"
    return text_to_latex(name)


def derivation(ctx: Context, sub: str) -> str:
    out = []
    for result in ctx.derivation.results:
        marks = {n: m for (label, n), m in ctx.marks.items() if label == result.label}
        out.append(_heading(sub, text_to_latex(result.label)))
        out.append(layout.steps_block(result, marks, ctx.style))
        out.append(r"\begingroup\small" + "\n" + notes_to_latex(result) + "\n\\endgroup")
        assumed = ", ".join(assumptions_to_latex(ctx.derivation, result))
        mark = ctx.style.marks[closed_form_mark(ctx.report, result.label)]
        derived, closed = expr_to_latex(result.derived), expr_to_latex(boxed_form(result))
        if derived == closed:  # a scalar result: its closed form is the same expression
            out.append(
                r"\textbf{Result}"
                + (f" (using {assumed})" if assumed else "")
                + f", the same as the closed form it was compared with: {mark}\n"
                + r"\begin{gather*}"
                + _box(rf"{expr_to_latex(result.goal)} = {derived}")
                + r"\end{gather*}"
            )
            continue
        out.append(
            r"\textbf{Result}"
            + (f" (using {assumed})" if assumed else "")
            + ", and the closed form in matrix notation that it was compared with; "
            + f"derived = closed form: {mark}\n"
            # One box a line: a long derived entry next to its closed form would overflow.
            + r"\begin{gather*}"
            + _box(rf"{expr_to_latex(result.goal)} = {expr_to_latex(result.derived)}")
            + " \\\\\n"
            + _box(rf"{matrix_lhs(result)} = {closed}")
            + r"\end{gather*}"
        )
    return "\n\n".join(out)


def _box(latex: str) -> str:
    """A boxed equation that never runs into the margin (scaled down when it would)."""
    return layout.fit(rf"\boxed{{{latex}}}", r"0.95\linewidth")


def figures(ctx: Context, chosen: list[Figure]) -> str:
    return "\n\n".join(_figure(ctx, f) for f in chosen)


def _figure(ctx: Context, figure: Figure) -> str:
    return (
        # [H]: here, never floated past the next heading into the exercises
        "\\begin{figure}[H]\n\\centering\n"
        f"\\includegraphics[width={figure.width}]{{{ctx.figure_paths[figure.name]}}}\n"
        f"\\caption{{{figure.caption}}}\n\\end{{figure}}"
    )


NO_CODE = (
    "This derivation has no numeric case: its result is a closed form that the checks "
    "compare symbolically{computations}, not the gradient of a function of arrays, so "
    "there is no generated code to show."
)


def listing_text(source: str) -> str:
    """Python source for a listing that pdflatex can set: a comment that is not ASCII
    (``# z + 1000 − 1000``) is typeset as prose, escaped out of the listing; any other
    character that is not ASCII is typeset on its own, escaped the same way.

    Example:
        >>> print(listing_text("x = 1  # about 1e−13"), end="")
        x = 1  # (*@about $1e-13$@*)
    """
    out = []
    for line in source.splitlines():
        code, hashed, comment = line.partition("# ")
        if hashed and not comment.isascii() and (not code.strip() or code.endswith("  ")):
            code, comment = code + "# ", f"(*@{text_to_latex(comment)}@*)"
        else:
            code, comment = line, ""
        code = "".join(c if c.isascii() else f"(*@{text_to_latex(c)}@*)" for c in code)
        out.append(code + comment)
    return "\n".join(out) + "\n"


def _route(what: str, route) -> str:
    """An independent computation: its description, its source, and what a
    ``functools.partial`` gave it (the closed form it compares with)."""
    listing = f"\\begin{{lstlisting}}\n{listing_text(route_source(route))}\\end{{lstlisting}}"
    out = f"\\textbf{{{text_to_latex(what[:1].upper() + what[1:])}.}}\n{listing}"
    given = bound_arguments(route)
    if given:
        said = ", ".join(
            f"\\texttt{{{name.replace('_', chr(92) + '_')}}} ${{}} = {expr_to_latex(value)}$"
            for name, value in given
        )
        out += f"\nRun with {said}."
    return out


ROUTES = (
    " The independent computations that the checks compared with it are NumPy (or "
    "mpmath) of their own, below as they ran (docstrings left out; the "
    "helpers they call are in the derivation's module). Each is a way to compute the "
    "result without the derivation: a learner can run it."
)


def code(ctx: Context, sub: str) -> str:
    d = ctx.derivation
    if not d.cases:  # said in one line, rather than an empty section
        computations = " and with independent computations" if d.numeric_checks else ""
        if not d.numeric_checks:
            return NO_CODE.format(computations=computations)
        intro = NO_CODE.format(computations=computations) + ROUTES
        return "\n\n".join([intro, *(_route(what, route) for what, route in d.numeric_checks)])
    panels = {case.name: codepanel.case_panels(case, _checked_code(ctx, case)) for case in d.cases}
    every = [p for ps in panels.values() for p in ps]
    out = [
        "Each case's closed forms as NumPy, generated by SymPy from the expressions that "
        "were checked: the sizes are read from the inputs, and the arrays carry the names "
        "of the derivation. Finite differences and the complex step ran exactly this code "
        "(see \\emph{What was checked})."
        + _helpers_said(every)
        + (
            " Beside scalar code, latexify-py's typesetting of it."
            if any(p.latex for p in every)
            else ""
        )
    ]
    for case in d.cases:
        out.append(_heading(sub, text_to_latex(case_title(case.name))))
        checked = all(p.checked for p in panels[case.name])
        at = f" at {_sizes(case.numeric_size)}" if case.numeric_size else ""
        out.append(
            f"Finite differences and the complex step ran this code{at}, at random inputs."
            if checked
            else _UNCHECKED_CODE
        )
        for panel in panels[case.name]:
            out.append(_panel(panel))
    return "\n\n".join(out)


# Words that begin a case's name as mathematics, not as a sentence: never capitalised.
MATH_WORDS = {*FUNCTION_WORDS, "relu", "sigmoid", "sin", "cos"}


def case_title(name: str) -> str:
    """A case's name as a heading: capitalised when it begins with an English word
    ("Causal mask"), as it is when it begins with mathematics ("aᵀx", "tr(AXB)",
    "log det(X)"), where a capital would change a symbol.

    Example:
        >>> case_title("causal mask"), case_title("aᵀx"), case_title("tr(AXB)")
        ('Causal mask', 'aᵀx', 'tr(AXB)')
    """
    first = re.match(r"[A-Za-z]+", name)
    word = first.group(0) if first else ""
    if len(word) < 3 or word in MATH_WORDS or name[len(word) :][:1] not in ("", " ", ",", "-"):
        return name
    return name[:1].upper() + name[1:]


_UNCHECKED_CODE = (
    r"\textcolor{wbred}{\textbf{Not checked:}} the finite-difference check did not run on "
    "this code."
)


def _helpers_said(panels) -> str:
    """A sentence naming the stable helpers the listings call, if they call any."""
    used = []
    for helper in HELPERS:
        call = re.compile(rf"(?<![\w.]){helper}\(")
        if any(call.search(p.source) for p in panels):
            used.append(f"\\texttt{{{helper.replace('_', chr(92) + '_')}}}")
    if not used:
        return ""
    names = used[0] if len(used) == 1 else ", ".join(used[:-1]) + " and " + used[-1]
    verb = (
        "is the numerically stable helper"
        if len(used) == 1
        else "are the numerically stable helpers"
    )
    return (
        f" {names} {verb} of \\texttt{{workbench.codegen.numeric}}, written in NumPy "
        "(a softmax subtracts the maximum first, a sigmoid never overflows)."
    )


HELPERS = ("softmax", "log_softmax", "logsumexp", "masked_softmax", "sigmoid", "relu", "relu_prime")


def _checked_code(ctx: Context, case) -> list[str] | None:
    """The code the finite-difference check ran on ``case``, from the report."""
    try:
        items = ctx.report.check("finite differences").items
    except KeyError:
        return None
    for item in items:
        if item.get("what") == f"[{case.name}]" and item.get("code"):
            return list(item["code"])
    return None


def _sizes(sizes: Mapping) -> str:
    return ", ".join(f"${expr_to_latex(k)} = {v}$" for k, v in sizes.items())


def _panel(panel: codepanel.CodePanel) -> str:
    listing = f"\\begin{{lstlisting}}\n{panel.source}\\end{{lstlisting}}"
    title = f"\\textbf{{{text_to_latex(panel.title[:1].upper() + panel.title[1:])}.}}"
    if panel.latex is None:
        return f"{title}\n{listing}"
    # Below the listing, not beside it: a line of code at half the width would break.
    return f"{title}\n{listing}\nlatexify-py typesets it as\n\\[ {panel.latex} \\]"


def checked(ctx: Context) -> str:
    report = ctx.report
    rows = (
        "\n".join(_check_row(ctx, c) for c in report.checks)
        or r"\multicolumn{4}{l}{no check was run} \\"
    )
    summary = (
        f"\\begin{{tabularx}}{{\\linewidth}}{{@{{}}ll{RAGGED}r@{{}}}}\n\\toprule\n"
        "check & verdict & how & "
        f"worst rel.\\ error \\\\\n\\midrule\n{rows}\n\\bottomrule\n\\end{{tabularx}}"
    )
    out = [
        f"The report of \\texttt{{workbench check {ctx.derivation.slug} --seed {ctx.seed}}}, "
        f"from which every mark in {ctx.this} is taken.",
        summary,
    ]
    if ctx.derivation.cases:
        out.append(_cases_table(ctx))
    try:
        computations = report.check("numeric").items
    except KeyError:
        computations = ()
    if computations:
        out.append(_computations_table(computations))
    return "\n\n".join(out)


def _computations_table(items) -> str:
    """Each independent computation with its error and its own tolerance; Monte Carlo
    estimates named as such, with their sample count and why their tolerance is wide."""
    rows: list[str] = []
    notes: list[str] = []
    for item in items:
        monte_carlo = sampling.monte_carlo(str(item["what"]))
        kind = "Monte Carlo" if monte_carlo else "deterministic"
        if monte_carlo and not notes:
            notes.append(sampling.explain(monte_carlo))
        error = number_to_latex(item["max_rel_error"])
        tolerance = number_to_latex(item.get("tolerance", float("nan")))
        rows.append(
            f"{text_to_latex(str(item['what']))} & {kind} & ${error}$ & ${tolerance}$ & "
            f"{_verdict(None, item['passed'])} \\\\"
        )
    return (
        "Independent computations: each compares the closed form with a computation that "
        "does not use it, within the tolerance given beside it.\n\n"
        f"\\begin{{tabularx}}{{\\linewidth}}{{@{{}}{RAGGED}lrrl@{{}}}}\n\\toprule\n"
        "computation & kind & rel.\\ error & tolerance & \\\\\n\\midrule\n"
        + "\n".join(rows)
        + "\n\\bottomrule\n\\end{tabularx}"
        + "".join(f"\n\n{note}" for note in notes)
    )


def _verdict(ctx: Context | None, passed: bool) -> str:
    """A whole check's verdict: a check mark only when the check passed."""
    return PASSED if passed else FAILED


def _check_row(ctx: Context, check: CheckResult) -> str:
    name = CHECK_NAMES.get(check.name, check.name)
    how = HOW.get(check.method, text_to_latex(check.method))
    if check.name == "numeric" and check.items:
        sampled = sum(bool(sampling.monte_carlo(str(i["what"]))) for i in check.items)
        kinds = [f"{sampled} Monte Carlo"] if sampled else []
        if sampled < len(check.items):
            kinds.append(f"{len(check.items) - sampled} deterministic")
        count = len(check.items)
        how = f"{count} computation{'s' if count > 1 else ''}: {', '.join(kinds)} (table below)"
    if check.name in ("steps", "closed form", "sympy diff") and check.items:
        methods = sorted({str(item.get("method")) for item in check.items})
        how = ", ".join(HOW.get(m, m) for m in methods)
        count = len(check.items)
        how = f"{count} comparison{'s' if count > 1 else ''}: {how}"
    error = "" if check.max_error is None else f"${number_to_latex(check.max_error)}$"
    verdict = _verdict(ctx, check.passed) if check.earned or not check.passed else "assumed"
    if check.earned and check.assumed:
        how += f"; {check.assumed} assumed, not checked"
    return f"{text_to_latex(name)} & {verdict} & {how} & {error} \\\\"


def _cases_table(ctx: Context) -> str:
    items = {}
    for name in ("sympy diff", "finite differences", "complex step"):
        try:
            items[name] = ctx.report.check(name).items
        except KeyError:
            items[name] = ()
    rows = []
    for case in ctx.derivation.cases:
        sizes = []
        for concrete in case.sizes:
            label = ", ".join(f"{k}={v}" for k, v in concrete.items())
            found = [
                i
                for i in items["sympy diff"]
                if i["what"].startswith(f"[{case.name}] ") and i["what"].endswith(f" at {label}")
            ]
            verdict = _verdict(ctx, all(i["passed"] for i in found)) if found else "(not run)"
            sizes.append(f"{_sizes(concrete)} {verdict}")
        errors = []
        for name in ("finite differences", "complex step"):
            match = [i for i in items[name] if i["what"] == f"[{case.name}]"]
            if match:
                error = number_to_latex(match[0]["max_rel_error"])
                errors.append(f"${error}$ {_verdict(ctx, match[0]['passed'])}")
            else:
                errors.append("(not run)")
        rows.append(
            f"{text_to_latex(case.name)} & {'; '.join(sizes)} & {errors[0]} & {errors[1]} \\\\"
        )
    return (
        "Per case: the sizes at which SymPy's own derivative of the definition was compared "
        "with the closed form, and the worst relative error of the NumPy closed form against "
        "finite differences and the complex step at random inputs.\n\n"
        f"\\begin{{tabularx}}{{\\linewidth}}{{@{{}}l{RAGGED}ll@{{}}}}\n\\toprule\n"
        "case & sizes compared symbolically & finite differences & complex step \\\\\n"
        "\\midrule\n" + "\n".join(rows) + "\n\\bottomrule\n\\end{tabularx}"
    )


def exercises(ctx: Context) -> str:
    items = "\n".join(
        rf"\item {text_to_latex(e.prompt)}"
        + (rf" {{\small\color{{wbgray}}(From: {text_to_latex(e.cited)}.)}}" if e.source else "")
        for e in ctx.derivation.exercises
    )
    return _list(items)


def solutions(ctx: Context) -> str:
    items = "\n".join(rf"\item {text_to_latex(e.solution)}" for e in ctx.derivation.exercises)
    return _list(items)


def _list(items: str) -> str:
    """A numbered list of prose with numbers in it, kept inside the margins.

    Tuples of numbers in inline math may break after their commas, and ``\\sloppy``
    lets a line stretch rather than push an unbreakable source note into the margin.
    """
    body = layout.breakable_inline(items)
    return f"\\begingroup\\sloppy\n\\begin{{enumerate}}\n{body}\n\\end{{enumerate}}\n\\endgroup"
