"""Check a derivation written as lines: each line must equal the line before it.

The format::

    diff(log(1 + exp(x)), x)
    = exp(x)/(1 + exp(x))      # chain rule
    = sigmoid(x)

One expression per line; every line after the first starts with ``=``; text after ``#``
is a note; blank lines are skipped. The first line may be ``diff(F, x)``, whose value is
the true derivative (in the layout asked for). The whole file is parsed before anything
is checked, so a typo anywhere is an error (exit 2) rather than a wrong step.

Example:
    >>> [(n, text) for n, text, _ in read_steps("diff(x**2, x)\\n\\n= 2x  # power rule")]
    [(1, 'diff(x**2, x)'), (3, ' 2x  ')]
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path

import sympy as sp

from workbench.errors import ParseError
from workbench.render.latex import expr_to_latex
from workbench.verify import assume as assumptions
from workbench.verify.claim_format import claim_latex, shown_claim
from workbench.verify.decision import compare, value_math, value_text
from workbench.verify.interpret import Scope, Value, declare, is_matrix
from workbench.verify.parsing import Binary, Call, Name, Node, Number, Subscript
from workbench.verify.points import Problem, unmet_facts
from workbench.verify.problems import (
    build_input,
    by_square_of,
    check_layout,
    check_wrt,
    derivative,
    function_call_wrt,
    inputs,
    names_in,
    parse_input,
    shapes_from,
)
from workbench.verify.report import VerifyReport

MAX_LINES = 60
MAX_CHARACTERS = 60_000
MAX_BYTES = 4 * MAX_CHARACTERS  # UTF-8 takes at most four bytes a character


def read_file(path: Path, source: str, limit: int = MAX_BYTES) -> str:
    """The text of a steps file, read without trusting it.

    Only a regular file is read (a FIFO with no writer would wait for ever, ``/dev/zero``
    never ends), it is opened without blocking, and at most :data:`MAX_BYTES` bytes are
    read (``limit``), so a huge file costs no memory before it is refused.

    Raises:
        ParseError: one line saying what is wrong with the file.
    """
    try:
        handle = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as error:
        raise ParseError(f"{source}: cannot read: {error.strerror or error}") from None
    try:
        if not stat.S_ISREG(os.fstat(handle).st_mode):
            raise ParseError(f"{source}: not a regular file")
        with os.fdopen(handle, "rb", closefd=False) as stream:
            data = stream.read(limit + 1)
    except OSError as error:
        raise ParseError(f"{source}: cannot read: {error.strerror or error}") from None
    finally:
        os.close(handle)
    if len(data) > limit:
        raise ParseError(f"{source}: too long (more than {limit} bytes)")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ParseError(f"{source}: not UTF-8 text (byte {error.start + 1})") from None


def read_steps(text: str, source: str = "steps") -> list[tuple[int, str, int]]:
    """(line number, expression text, column offset of that text) for each line that counts."""
    if len(text) > MAX_CHARACTERS:
        raise ParseError(f"{source}: too long ({len(text)} characters, at most {MAX_CHARACTERS})")
    lines: list[tuple[int, str, int]] = []
    for number, raw in enumerate(text.splitlines(), 1):
        body = raw.split("#", 1)[0]
        stripped = body.lstrip()
        if not stripped.strip():
            continue
        offset = len(body) - len(stripped)
        where = f"{source} line {number}"
        if not lines and stripped.startswith("="):
            raise ParseError(f"{where}: the first line is an expression, without '='", offset + 1)
        if lines:
            if not stripped.startswith("="):
                raise ParseError(
                    f"{where}: every line after the first starts with '=' (the claim that it "
                    "equals the line before)",
                    offset + 1,
                )
            stripped, offset = stripped[1:], offset + 1
        lines.append((number, stripped, offset))
        if len(lines) > MAX_LINES:
            raise ParseError(f"{source}: more than {MAX_LINES} steps")
    if len(lines) < 2:
        raise ParseError(f"{source}: a steps file needs a first line and at least one '= ...' line")
    return lines


def verify_steps(
    text: str, source: str, shapes: Mapping | None, layout: str | None, seed: int
) -> VerifyReport:
    """The report on every step, stopping at the first that does not follow."""
    check_layout(layout)
    return verify_lines(read_steps(text, source), source, shapes, layout, seed)


Reader = Callable[[str, str, int], Node]
"""(text, where, column offset) → the parsed line; a ParseError names ``where``."""


def verify_lines(
    lines: Sequence[tuple[int, str, int]],
    source: str,
    shapes: Mapping | None,
    layout: str | None,
    seed: int,
    *,
    read: Reader = parse_input,
    definitions: Sequence[tuple[str, int, str, int]] = (),
    assume: Sequence[str] = (),
    equations: Sequence[tuple[int, str, str]] = (),
    refused: Sequence[tuple[str, str]] = (),
) -> VerifyReport:
    """:func:`verify_steps` of lines already split: (line number, text, column offset).

    Args:
        read: parses one line (the claim language by default; a note passes its LaTeX
            reader).
        definitions: (name, line number, text, offset) read in order before the lines:
            each name then stands for its value, so ``diff(L, z)`` differentiates what
            ``L`` was defined to be.
        assume: ``--assume`` texts (:mod:`workbench.verify.assume`): ``y one-hot``,
            ``0 < p < 1``, ``A symmetric``.
        equations: (line number, left, right) in the language ``read`` reads: facts
            every test point satisfies, such as Σₖ yₖ = 1; the verdict says "given" them.
        refused: (name, why) of definitions given in a form not read: the lines cannot
            be read if they use the name (left free, it would judge them wrongly).

    Besides the first, a line that is a whole ``diff(F, x)`` (a note's
    ``\\frac{\\partial}{\\partial z}(...)``) has the true derivative as its value.
    """
    check_layout(layout)
    declared = shapes_from(shapes)
    matrices = [name for name, dims in declared.items() if dims != (1, 1)]  # ⊙ in LaTeX
    stated = assumptions.read(assume, Scope(declare(declared)))
    scope = stated.scope
    nodes = [read(t, f"{source} line {n}", off) for n, t, off in lines]
    sides = {
        (number, text): read(text, f"{source} line {number}", 0)
        for number, left, right in equations
        for text in (left, right)
    }
    definition_nodes = []
    # definitions that cannot be read, by name
    unread: dict[str, ParseError] = {name: ParseError(why) for name, why in refused}
    uses: dict[str, list[str]] = {}  # a defined name → the variables its value uses
    for name, number, text, offset in definitions:
        where = f"{source} line {number}"
        try:
            node = read(text, where, offset)
            value = build_input(node, scope, where, offset)
        except ParseError as error:
            # Said only if something here uses the name (checked below, on the values):
            # a note's definition this chain does not use cannot make it unreadable.
            unread[name] = error
            continue
        # From here on the name stands for its value, in the names defined before it too:
        # H = -p log p ... and then p = 1/2 make H the entropy at 1/2.
        given = _given_value(scope.values.get(name, sp.Symbol(name, real=True)), value)
        updated = {
            other: (known.xreplace(given) if other in uses and given else known)
            for other, known in scope.values.items()
        }
        scope = Scope({**updated, name: value}, scope.open, scope.functions)
        definition_nodes.append(node)
        uses[name] = _names_through(node, uses)
    facts, said = list(stated.facts), list(stated.said)
    for number, left, right in equations:
        where = f"{source} line {number}"
        built = [build_input(sides[(number, text)], scope, where) for text in (left, right)]
        try:
            facts += assumptions.equation_facts(*built)
        except ParseError as error:
            raise ParseError(f"{where}: {error}") from None
        if unmet_facts(facts):
            # A fact no test point meets would leave every point outside it: what the
            # steps are judged on would not be what the note states.
            raise ParseError(
                f"{where}: no test point can be made to satisfy {' '.join(left.split())} = "
                f"{' '.join(right.split())} (it is linear in none of its names, nor in the "
                "square of one), so the steps cannot be checked given it"
            )
        said.append(f"{' '.join(left.split())} = {' '.join(right.split())}")
    values, defined, function_nodes, convention = [], [], [], ""
    for node, (number, _, offset) in zip(nodes, lines, strict=True):
        where = f"{source} line {number}"
        if isinstance(node, Call) and node.function == "diff":
            by_square = _squared_name(node.args[1])
            if by_square is not None:  # ∂ℓ/∂σ²: by the variance as one variable
                node = replace(node, args=(node.args[0], by_square))
            function_node, wrt = function_call_wrt(_whole_variable(node), where, offset)
            for used in _names_through(function_node, uses):
                if used in unread:  # ∂L/∂V of an L that could not be read: say why
                    raise unread[used]
            check_wrt(wrt, _names_through(function_node, uses), where)
            function = build_input(function_node, scope, where, offset)
            try:
                value, layout_words = derivative(function, scope.lookup(wrt, 0), wrt, layout)
                if by_square is not None:
                    value = by_square_of(value, scope.lookup(wrt, 0), wrt)
            except ParseError as error:
                raise ParseError(f"{where}: {error}") from None
            convention = convention or layout_words
            values.append(value)
            defined.append(function)
            function_nodes.append(function_node)
        else:
            values.append(build_input(node, scope, where, offset))
    _check_unread(unread, [*values, *defined, *(side for fact in facts for side in fact)])
    named = {name for name, *_ in definitions}
    variables = inputs(
        [name for name in names_in(*definition_nodes, *nodes) if name not in named], scope
    )

    records: list[dict] = []
    methods = set()
    for k in range(1, len(lines)):
        number, previous = lines[k][0], lines[k - 1][0]
        is_derivative = _is_diff(nodes[k - 1]) or _is_diff(nodes[k])
        noun = f"line {previous}" + (" (the derivative)" if _is_diff(nodes[k - 1]) else "")
        problem = Problem(
            claim=values[k],
            expected=values[k - 1],
            variables=variables,
            defined=tuple(defined),
            facts=tuple(facts),
            domain=stated.domain,
            positive_definite=stated.positive_definite,
            noun=noun,
            subject=f"line {number}",
            convention=convention if is_derivative else "",
        )
        outcome = compare(problem, seed, [*function_nodes, nodes[k - 1], nodes[k]], nodes[k], scope)
        methods.add(outcome.method)
        records.append(
            {
                "line": number,
                "text": shown_claim(lines[k][1], nodes[k]),
                "valid": outcome.verdict == "correct",
                "method": outcome.method,
                "detail": outcome.detail,
            }
        )
        if outcome.verdict == "incorrect":
            return VerifyReport(
                verdict="incorrect",
                method=outcome.method,
                parsed_claim=shown_claim(lines[k][1], nodes[k]),
                expected=value_text(values[k - 1]),
                expected_math=value_math(values[k - 1]),
                counterexample=outcome.counterexample,
                diagnosis=f"line {number} does not follow from line {previous}: "
                + (outcome.diagnosis or ""),
                first_invalid_line=number,
                kind="steps",
                claim_latex=claim_latex(nodes[k], matrices),
                expected_latex=expr_to_latex(values[k - 1]),
                convention=convention,
                detail=f"line {number}: {outcome.detail}",
                steps=tuple(records),
                assumptions=tuple(said),
            )
    method = "symbolic" if methods == {"symbolic"} else "numeric"
    return VerifyReport(
        verdict="correct",
        method=method,
        parsed_claim=shown_claim(lines[-1][1], nodes[-1]),
        expected=value_text(values[0]),
        first_invalid_line=None,
        kind="steps",
        claim_latex=claim_latex(nodes[-1], matrices),
        expected_latex=expr_to_latex(values[0]),
        convention=convention,
        detail=f"all {len(records)} steps follow ({method})",
        steps=tuple(records),
        assumptions=tuple(said),
    )


def _check_unread(unread: Mapping[str, ParseError], values: Sequence) -> None:
    """The error of a definition that could not be read, if any value uses its name
    (it is then a free symbol there, which would judge the step with the wrong thing).

    Raises:
        ParseError: that definition's own error.
    """
    if not unread:
        return
    for value in values:
        for symbol in sp.sympify(value).free_symbols:
            name = str(symbol).split("[")[0]
            if name in unread:
                raise unread[name]


def _given_value(old: Value, new: Value) -> dict:
    """Each symbol of a name's value before it was defined → its defined value (entry by
    entry), or nothing when the shapes differ (the definition is then refused later)."""
    if is_matrix(old) and is_matrix(new) and old.shape == new.shape:
        pairs = list(zip(old, new, strict=True))
    elif not is_matrix(old) and not is_matrix(new):
        pairs = [(old, new)]
    else:
        return {}
    return {a: b for a, b in pairs if isinstance(a, sp.Symbol)}


def _squared_name(variable: Node) -> Name | None:
    """σ of ``σ^{2}`` (the variable of ∂ℓ/∂σ²), else None."""
    if (
        isinstance(variable, Binary)
        and variable.op == "**"
        and isinstance(variable.left, Name)
        and isinstance(variable.right, Number)
        and variable.right.text == "2"
    ):
        return variable.left
    return None


def _is_diff(node: Node) -> bool:
    return isinstance(node, Call) and node.function == "diff"


def _names_through(node: Node, uses: Mapping[str, list[str]]) -> list[str]:
    """The names ``node`` uses, with each defined name followed by the names it stands for."""
    out: list[str] = []
    for name in names_in(node):
        out += [name, *uses.get(name, ())]
    return list(dict.fromkeys(out))


def _whole_variable(node: Call) -> Call:
    """``diff(L, z_j)`` with the index j free (a note's ∂L/∂z_j, the gradient entry by
    entry) as ``diff(L, z)``: the derivative by the whole of z."""
    function, variable = node.args
    if (
        isinstance(variable, Subscript)
        and isinstance(variable.base, Name)
        and all(isinstance(i, Name) for i in variable.indices)
    ):
        return replace(node, args=(function, variable.base))
    return node
