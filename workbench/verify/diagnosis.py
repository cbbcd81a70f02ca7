"""Say *which* usual mistake a wrong claim makes, in words.

Each check compares the claim with one variant of the truth at the test points:

* wrong shape, and whether it is the transpose (layout confusion);
* a name the function does not have;
* sign flipped, or off by a constant factor (the missing 2 of a quadratic form);
* transposed (a square derivative in the other layout);
* symmetric-only: right only when a square input is symmetric (2Ax for (A + Aᵀ)x);
* true only under an assumption: right only when a vector sums to one (softmax(z) − y);
* a missing or extra term (the −ssᵀ of the softmax Jacobian).

Example:
    >>> import sympy as sp
    >>> from workbench.verify.points import Problem, draw_points
    >>> x = sp.Symbol("x", real=True)
    >>> problem = Problem(claim=x, expected=2 * x, variables={"x": x})
    >>> diagnose(problem, draw_points({"x": x}, [2 * x]))[:48]
    'off by a constant factor: the claim is 1/2 times'
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction

import sympy as sp

from workbench.checks.timebox import time_limit
from workbench.render.unicode_math import to_unicode
from workbench.verify.interpret import Value, describe, is_matrix, shape
from workbench.verify.points import (
    FastValues,
    Point,
    Problem,
    entries,
    free_symbols,
    solve_facts,
)
from workbench.verify.regions import kinks, region_of, structure, winner

CLOSE = 1e-9  # relative agreement of two float evaluations that are mathematically equal
SIMPLIFY_SECONDS = 0.5
MAX_CONTESTS_DIAGNOSED = 8  # max/min whose winners are compared, widest first


def diagnose(problem: Problem, points: Sequence[Point]) -> str:
    """One sentence naming the mistake, or saying that none of the usual ones fits."""
    values = FastValues()
    claim_shape, true_shape = shape(problem.claim), shape(problem.expected)
    if claim_shape != true_shape:
        return _wrong_shape(problem, points, values, claim_shape, true_shape)
    checks = (
        _foreign_names,
        _proportional,
        _transposed,
        _transposed_factor,
        _symmetric_only,
        _assumption,
        _one_winner,
        _one_side,
        _scalar_factor,
    )
    for check in checks:
        message = check(problem, points, values)
        if message:
            return message
    return _missing_term(problem, points, values) or (
        "none of the usual mistakes (transpose, sign, constant factor, symmetric-only, "
        "missing term, unstated assumption) explains the difference; see the counterexample"
    )


# ---------------------------------------------------------------- numbers
def _factor(claimed: list[list[complex]], true: list[list[complex]]) -> Fraction | None:
    """The constant k with claimed = k·true at every point, when there is a simple one."""
    ratio = None
    for c_values, t_values in zip(claimed, true, strict=True):
        scale = max([1.0, *(abs(v) for v in c_values), *(abs(v) for v in t_values)])
        big = max(range(len(t_values)), key=lambda i: abs(t_values[i]))
        if abs(t_values[big]) <= CLOSE * scale:
            if any(abs(c) > CLOSE * scale for c in c_values):
                return None
            continue
        k = c_values[big] / t_values[big]
        if ratio is None:
            ratio = k
        if abs(k - ratio) > CLOSE * max(1.0, abs(ratio)):
            return None
        if any(abs(c - ratio * t) > CLOSE * scale for c, t in zip(c_values, t_values, strict=True)):
            return None
    if ratio is None or abs(ratio.imag) > CLOSE:
        return None
    nice = Fraction(ratio.real).limit_denominator(64)
    return nice if abs(float(nice) - ratio.real) <= CLOSE * max(1.0, abs(ratio.real)) else None


def _pairs(values: FastValues, points, claim: Value, expected: Value, minus: Value | None = None):
    """Values of ``claim`` and ``expected`` (minus ``minus``, if given) where all are defined."""
    claimed, true = [], []
    for point in points:
        c, t = values(claim, point), values(expected, point)
        m = values(minus, point) if minus is not None else None
        if c is None or t is None or (minus is not None and m is None):
            continue
        if m is not None:
            c = [a - b for a, b in zip(c, m, strict=True)]
        claimed.append(c)
        true.append(t)
    return claimed, true


def _times(k: Fraction) -> str:
    return str(k.numerator) if k.denominator == 1 else f"{k.numerator}/{k.denominator}"


# ---------------------------------------------------------------- the checks
def _wrong_shape(problem, points, values, claim_shape, true_shape) -> str:
    message = (
        f"wrong shape: {problem.subject} is {describe(claim_shape)} but {problem.noun} is "
        f"{describe(true_shape)}"
    )
    if problem.convention:
        message += f" ({problem.convention})"
    if claim_shape == true_shape[::-1] and is_matrix(problem.expected):
        claimed, true = _pairs(values, points, problem.claim, problem.expected.T)
        k = _factor(claimed, true) if claimed else None
        if k == 1:
            message += f"; {problem.subject} is its transpose: transposed (layout confusion)"
        elif k == -1:
            message += (
                f"; {problem.subject} is minus its transpose: transposed (layout confusion), "
                "sign flipped"
            )
    return message


def _foreign_names(problem: Problem, points, values) -> str | None:
    known = free_symbols([problem.expected])
    foreign = sorted({s.name.split("[")[0] for s in free_symbols([problem.claim]) - known})
    if not foreign:
        return None
    return f"{problem.subject} depends on {', '.join(foreign)}, but {problem.noun} does not"


def _proportional(problem: Problem, points, values) -> str | None:
    k = _factor(*_pairs(values, points, problem.claim, problem.expected))
    if k is None or k in (0, 1):
        return None
    if k == -1:
        return f"sign flipped: {problem.subject} is −1 times {problem.noun}"
    example = (
        " (a forgotten factor such as the 2 in ∂(xᵀx)/∂x = 2x)" if k in (2, Fraction(1, 2)) else ""
    )
    return (
        f"off by a constant factor: {problem.subject} is {_times(k)} times {problem.noun}{example}"
    )


def _transposed(problem: Problem, points, values) -> str | None:
    expected = problem.expected
    if not is_matrix(expected) or expected.shape[0] != expected.shape[1]:
        return None
    k = _factor(*_pairs(values, points, problem.claim, expected.T))
    if k is None:
        return None
    message = f"transposed (layout confusion): {problem.subject} is the transpose of {problem.noun}"
    if k != 1:
        message += " with the sign flipped" if k == -1 else f" times {_times(k)}"
    return message + (f"; {problem.convention}" if problem.convention else "")


def _transposed_factor(problem: Problem, points, values) -> str | None:
    """One square factor of the claim transposed makes it right: a transpose forgotten."""
    for change, variant in problem.transposed:
        if shape(variant) != shape(problem.expected):
            continue
        if _factor(*_pairs(values, points, variant, problem.expected)) == 1:
            message = (
                f"a transpose forgotten or misplaced: with {change}, {problem.subject} equals "
                f"{problem.noun}"
            )
            return message + (f"; {problem.convention}" if problem.convention else "")
    return None


def _scalar_factor(problem: Problem, points, values) -> str | None:
    """A claim off by one simple factor: the inner derivative of a chain (2x, b), or a
    constant left out (1/√d, 1/N, β), the same factor in every entry."""
    if is_matrix(problem.expected) and not _ratios_agree(problem, points):
        return None  # the entries' ratios differ at a test point: no common factor
    try:
        with time_limit(SIMPLIFY_SECONDS):
            ratio = _common_ratio(problem.expected, problem.claim)
    except Exception:  # out of time or SymPy gave up: no diagnosis, not an error
        return None
    if ratio is None:
        return None
    numerator, denominator = sp.fraction(ratio)
    if not ratio.free_symbols or isinstance(numerator, sp.Add) or sp.count_ops(ratio) > 6:
        return None
    first = next((e for e in entries(problem.claim) if e != 0), sp.S.Zero)
    if denominator.free_symbols and _shares_factor(first, denominator):
        return None  # 2x/(2x + 1) undoes the claim 2x + 1: a wrong term, not a factor
    variables = problem.variables.get(problem.wrt) if problem.wrt else None
    differentiated = free_symbols([variables]) if variables is not None else set()
    if differentiated and not ratio.free_symbols & differentiated:
        return (
            f"a constant factor left out: {problem.noun} is {problem.subject} times "
            f"{to_unicode(ratio)}, which does not depend on {problem.wrt}"
        )
    return (
        f"off by a factor {to_unicode(ratio)}: {problem.noun} is {problem.subject} times "
        f"{to_unicode(ratio)} (a forgotten factor, such as the inner derivative of a chain)"
    )


MAX_RATIO_ENTRIES = 16  # entries whose ratios are simplified, for a matrix claim


def _ratios_agree(problem: Problem, points: Sequence[Point]) -> bool:
    """Do expected/claim agree across the entries at the first test point? A cheap
    numeric look before the ratios are simplified."""
    if not points:
        return True
    ratios = []
    for true, claimed in zip(entries(problem.expected), entries(problem.claim), strict=True):
        a, b = (complex(sp.N(sp.sympify(e).xreplace(points[0]), 15)) for e in (true, claimed))
        if abs(a) < 1e-12 and abs(b) < 1e-12:
            continue
        if abs(b) < 1e-12:
            return False
        ratios.append(a / b)
    return all(abs(r - ratios[0]) <= 1e-9 * max(1.0, abs(ratios[0])) for r in ratios)


def _common_ratio(expected: Value, claim: Value) -> sp.Expr | None:
    """expected / claim when it is one expression for every entry (zeros where both are
    zero), else None."""
    if is_matrix(expected) != is_matrix(claim):
        return None
    pairs = list(zip(entries(expected), entries(claim), strict=True))
    if len(pairs) > MAX_RATIO_ENTRIES:
        return None
    ratio = None
    for true, claimed in pairs:
        true, claimed = sp.sympify(true), sp.sympify(claimed)
        if true == 0 and claimed == 0:
            continue
        if claimed == 0:
            return None
        this = sp.simplify(true / claimed)
        if ratio is None:
            ratio = this
        elif sp.simplify(this - ratio) != 0:
            return None
    return ratio


def _shares_factor(claim: sp.Expr, denominator: sp.Expr) -> bool:
    try:
        return sp.gcd(sp.expand(claim), sp.expand(denominator)).free_symbols != set()
    except Exception:  # not polynomial in any generators SymPy can find: assume it does
        return True


def _one_side(problem: Problem, points, values) -> str | None:
    """Right on one side of a kink and wrong on the other: a branch of a piecewise claim."""
    kink_list = kinks([problem.claim, problem.expected, *problem.defined])
    if not kink_list:
        return None
    for index, kink in enumerate(kink_list):
        right: set = set()
        wrong: set = set()
        for point in points:
            side = region_of(kink_list, point, values)[index]
            claimed, true = _pairs(values, [point], problem.claim, problem.expected)
            if side == 0 or not claimed:
                continue
            same = _factor(claimed, true) == 1
            (right if same else wrong).add(side)
        if right and wrong and not right & wrong:
            good, bad = ("> 0", "< 0") if 1 in right else ("< 0", "> 0")
            return (
                f"wrong on one side of a kink: {problem.subject} equals {problem.noun} where "
                f"{to_unicode(kink)} {good} but not where {to_unicode(kink)} {bad} (a branch of a "
                "step, abs, sign or relu is wrong or missing)"
            )
    return None


def _one_winner(problem: Problem, points, values) -> str | None:
    """Right where some arguments of a max/min win and wrong where others do: the
    indicator of the winning entry is wrong for those (a dropped or misplaced entry)."""
    found = structure([problem.claim, problem.expected, *problem.defined]).contests
    for contest in sorted(found, key=lambda c: -len(c.args))[:MAX_CONTESTS_DIAGNOSED]:
        right: set[int] = set()
        wrong: set[int] = set()
        for point in points:
            index = winner(contest, point, values)
            claimed, true = _pairs(values, [point], problem.claim, problem.expected)
            if index is None or not claimed:
                continue
            (right if _close(claimed[0], true[0]) else wrong).add(index)
        if right and wrong and not right & wrong:
            word = "largest" if contest.kind == "max" else "smallest"
            bad = _listed([to_unicode(contest.args[k]) for k in sorted(wrong)])
            good = _listed([to_unicode(contest.args[k]) for k in sorted(right)])
            return (
                f"wrong where {bad} is the {word}: {problem.subject} equals {problem.noun} "
                f"where {good} wins the {contest.kind}, but not where {bad} does (the "
                f"gradient of a {contest.kind} is 1 at the winning entry, 0 elsewhere)"
            )
    return None


def _listed(names: list[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"


def _close(left: list[complex], right: list[complex]) -> bool:
    scale = max([1.0, *(abs(v) for v in left), *(abs(v) for v in right)])
    return all(abs(a - b) <= CLOSE * scale for a, b in zip(left, right, strict=True))


def _moved(problem: Problem, points, values, move) -> list[Point]:
    """Points changed by ``move`` (then re-solved for the facts), where still admissible."""
    solved = solve_facts(problem.facts)
    out = []
    for point in points:
        new = move(dict(point))
        for symbol, expression in solved:
            new[symbol] = expression.xreplace(new)
        if all(values(v, new) is not None for v in (problem.expected, *problem.defined)):
            out.append(new)
    return out


def _agrees_on(problem: Problem, points, values) -> Fraction | None:
    if not points:
        return None
    claimed, true = _pairs(values, points, problem.claim, problem.expected)
    return _factor(claimed, true) if claimed else None


def _free(value: Value) -> bool:
    """Every entry its own symbol: an input the points can move. A case may fix one (the
    causal mask's 0/1 entries), and a fixed entry cannot be symmetrised or normalised."""
    return all(isinstance(e, sp.Symbol) for e in value) and len(set(value)) == len(value)


def _symmetric_only(problem: Problem, points, values) -> str | None:
    for name, value in problem.variables.items():
        if not is_matrix(value) or value.shape[0] != value.shape[1] or value.shape[0] < 2:
            continue
        if not _free(value):
            continue
        size = value.shape[0]

        def symmetrise(point, value=value, size=size):
            for i in range(size):
                for j in range(i + 1, size):
                    point[value[j, i]] = point[value[i, j]]
            return point

        k = _agrees_on(problem, _moved(problem, points, values, symmetrise), values)
        if k == 1:
            return (
                f"symmetric-only: {problem.subject} equals {problem.noun} only when {name} is "
                f"symmetric ({name} = {name}ᵀ), which is not assumed; e.g. 2Ax in place of "
                "(A + Aᵀ)x, the gradient of xᵀAx"
            )
    return None


def _assumption(problem: Problem, points, values) -> str | None:
    for name, value in problem.variables.items():
        if name == problem.wrt or not is_matrix(value) or value.shape == (1, 1):
            continue
        if not _free(value):
            continue
        rows = (
            [list(value)] if 1 in value.shape else [list(value.row(r)) for r in range(value.rows)]
        )
        if len(rows[0]) < 2:
            continue

        def normalise(point, rows=rows):
            for row in rows:
                point[row[-1]] = 1 - sum(point[s] for s in row[:-1])
            return point

        if _agrees_on(problem, _moved(problem, points, values, normalise), values) == 1:
            which = f"the entries of {name} sum" if len(rows) == 1 else f"each row of {name} sums"
            return (
                f"true only under an assumption: {problem.subject} equals {problem.noun} only when "
                f"{which} to 1 (Σ{name} = 1), which the function does not assume; e.g. "
                "softmax(z) − y, the cross-entropy gradient, needs Σy = 1"
            )
    return None


def _missing_term(problem: Problem, points, values) -> str | None:
    """The difference (truth − claim) is a multiple of one named term."""
    truth, claim = problem.expected, problem.claim
    for text, term in problem.claim_terms:
        same_shape = shape(term) == shape(problem.expected)
        k = _factor(*_pairs(values, points, truth, term, minus=claim)) if same_shape else None
        if k == -1:
            return (
                f"extra term: {problem.subject} has the term {_term(text, term)}, which "
                f"{problem.noun} lacks"
            )
        if k == -2:  # truth = claim − 2·term: the term belongs with the other sign
            return (
                f"a sign inside one term: {problem.subject}'s term {_term(text, term)} has the "
                f"wrong sign ({problem.noun} has {_term(text, term, Fraction(-1))} there)"
            )
    for text, term in problem.terms:
        if shape(term) != shape(problem.expected):
            continue
        k = _factor(*_pairs(values, points, truth, term, minus=claim))
        if k is None or k == 0:
            continue
        return f"missing term: {problem.noun} is {problem.subject} plus {_term(text, term, k)}"
    if not is_matrix(problem.expected):
        return _missing_scalar_term(problem, sp.sympify(truth) - sp.sympify(claim))
    return None


def _term(text: str, term: Value, k: Fraction = Fraction(1)) -> str:
    """k times a term: a scalar in mathematics (−x²·cos(x)); a matrix term as the claim
    wrote it (its entries written out would hide it)."""
    if not is_matrix(term):
        return to_unicode(sp.Rational(k.numerator, k.denominator) * term)
    return _scaled(k, text) if k != -1 else _negated(text)


def _negated(text: str) -> str:
    """−t for a term t as the claim wrote it: −x becomes x, x becomes −x."""
    if text[:1] in "-−":
        return text[1:]
    return _scaled(Fraction(-1), text)


def _scaled(k: Fraction, text: str) -> str:
    simple = text.replace("_", "").isalnum()
    wrapped = text if simple else f"({text})"
    if k == 1:
        return text
    if k == -1:
        return f"−{wrapped}"
    return f"{_times(k)}*{wrapped}"


def _missing_scalar_term(problem: Problem, difference: sp.Expr) -> str | None:
    """A scalar difference that simplifies to one product is a missing term."""
    try:
        with time_limit(SIMPLIFY_SECONDS):
            simple = sp.simplify(difference)
    except Exception:  # out of time or SymPy gave up: no diagnosis, not an error
        return None
    if simple == 0 or isinstance(simple, sp.Add) or sp.count_ops(simple) > 40:
        return None
    return f"missing term: {problem.noun} is {problem.subject} plus {to_unicode(simple)}"


__all__ = ["diagnose"]
