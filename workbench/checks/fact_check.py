"""The ``facts`` check: every fact a chain relies on is checked here or stated as assumed.

A step's :attr:`~workbench.core.derivation.Step.facts` are what its rule brought in without
proving (see :mod:`workbench.core.facts`). Each one is judged by its kind:

* a :class:`~workbench.core.facts.Root` — put the value back into its condition (``∂E/∂h`` at
  ``h*``, the gradient at the solved point) and decide the equality;
* an :class:`~workbench.core.facts.Identity` — at each of its concrete sizes, give every
  symbol its meaning (cofactors, determinant, inverse of a random exact matrix) and
  compare both sides at every index value;
* a :class:`~workbench.core.facts.SolvedRecurrence` — the solution at t = 0 is the initial
  value, the solution satisfies the recurrence for general t, and it equals the
  iteration itself at t = 1, …, 8;
* a plain :class:`~workbench.core.facts.Fact` — nothing checks it: "assumed" when the result
  states it, else a failure (a fact nobody checked or stated).

The report has one item per use (result, step, fact), so every face can put "assumed"
or "failed" beside the step it concerns.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Mapping

import sympy as sp
from sympy.matrices.expressions.matexpr import MatrixElement

from workbench.checks.equivalence import check_equal
from workbench.checks.report import CheckResult
from workbench.checks.resolved import compare_resolved
from workbench.core.derivation import Derivation
from workbench.core.facts import Fact, Identity, Root, SolvedRecurrence

RECURRENCE_STEPS = 8  # the iteration is run to t = 8: cheap, and past every transient seen
PRECISION = 60  # digits, for identities whose meanings are not rational
ZERO_BELOW = sp.Float("1e-45", PRECISION)  # relative; 60-digit rounding is ~1e-58


def fact_uses(derivation: Derivation):
    """Every (result label, step number, step, fact) of the derivation, in order."""
    return [
        (result.label, number, step, fact)
        for result in derivation.results
        for number, step in enumerate(result.steps, 1)
        for fact in step.facts
    ]


def check_facts(derivation: Derivation, budget: float, seed: int) -> CheckResult:
    """The ``facts`` check: one item per fact used, checked or assumed (see module)."""
    items, verdicts = [], {}
    for label, number, step, fact in fact_uses(derivation):
        result = derivation.result(label)
        key = (fact.kind, fact.pair, getattr(fact, "condition", None), result.assumptions)
        if key not in verdicts:  # the same fact used twice is checked once
            verdicts[key] = judge(fact, derivation, result.assumptions, budget, seed)
        passed, method, detail = verdicts[key]
        items.append(
            {
                "what": f"{label} step {number} ({step.rule}): {fact.describe()}",
                "result": label,
                "step": number,
                "kind": fact.kind,
                "passed": passed,
                "method": method,
                "detail": detail,
            }
        )
    if not items:
        return CheckResult("facts", True, "proved", None, "no step relies on a fact")
    failed = [item for item in items if not item["passed"]]
    counts = {m: sum(item["method"] == m for item in items) for m in ("proved", "tested")}
    assumed = sorted(
        {item["what"].split(": ", 1)[1] for item in items if item["method"] == "assumed"}
    )
    said = f"{len(items)} uses of facts: {counts['proved']} proved, {counts['tested']} tested"
    said += f", {len(assumed)} assumed" + (f" ({'; '.join(assumed)})" if assumed else "")
    if failed:
        first = failed[0]
        detail = f"{len(failed)} of {len(items)} failed; first: {first['what']}: {first['detail']}"
        return CheckResult("facts", False, "failed", None, detail, items=tuple(items))
    # How the checked facts were decided; the assumed ones are named in the detail.
    checked = {item["method"] for item in items} - {"assumed"}
    method = "assumed" if not checked else "proved" if checked == {"proved"} else "tested"
    return CheckResult("facts", True, method, None, said, items=tuple(items))


def judge(fact: Fact, derivation: Derivation, stated, budget: float, seed: int):
    """(passed, method, detail) for one fact used by a result that states ``stated``."""
    try:
        if isinstance(fact, Root):
            return _root(fact, derivation, budget, seed)
        if isinstance(fact, SolvedRecurrence):
            return _recurrence(fact, derivation, budget, seed)
        if isinstance(fact, Identity) and fact.checkable:
            return _identity(fact, seed)
    except Exception as exc:  # a crashing fact check is a failed one, said as such
        return False, "error", f"{type(exc).__name__}: {exc}"
    if fact.pair in stated:
        return True, "assumed", "an assumption of the result, stated in it; not checked"
    return False, "unchecked", "nothing checks this fact and the result does not state it"


def _decide(a, b, derivation: Derivation, budget: float, seed: int):
    return compare_resolved(a, b, derivation, (), budget, seed)


def _root(fact: Root, derivation, budget, seed):
    lhs, rhs = (sp.sympify(side).xreplace({fact.lhs: fact.rhs}) for side in fact.condition)
    verdict = _decide(lhs, rhs, derivation, budget, seed)
    where = f"{fact.condition[0]} = {fact.condition[1]} at {fact.lhs} = {fact.rhs}"
    if verdict.equal is True:
        return True, verdict.method, f"the condition holds there ({verdict.tier}): {where}"
    return False, "failed", f"the condition does not hold there ({verdict.detail}): {where}"


def _recurrence(fact: SolvedRecurrence, derivation, budget, seed):
    r, solution = fact.lhs, fact.rhs
    t = r.t
    prev, k = r.update.variables
    at = {prev: solution.xreplace({t: t - 1}), k: t}
    checks = [
        ("x_0", solution.xreplace({t: 0}), r.initial),
        ("x_t = update(x_{t-1}, t)", solution, r.update.expr.xreplace(at)),
    ]
    proved, methods = True, []
    for name, a, b in checks:
        verdict = check_equal(a, b, domain=derivation.domain, budget=budget, seed=seed)
        if verdict.equal is not True:
            proved = False
            if verdict.equal is False:
                return False, "failed", f"{name} fails for the solution {solution}"
        methods.append(verdict.method)
    for value in range(1, RECURRENCE_STEPS + 1):
        iterated = r.xreplace({t: value})
        verdict = check_equal(
            iterated, solution.xreplace({t: value}), domain=derivation.domain, budget=budget
        )
        if verdict.equal is False:
            return False, "failed", f"the solution differs from the iteration at t = {value}"
    method = "proved" if proved and set(methods) == {"proved"} else "tested"
    return (
        True,
        method,
        (
            f"x_0 and the recurrence hold for the solution ({method}); "
            f"equal to the iteration at t = 1..{RECURRENCE_STEPS}"
        ),
    )


def _identity(fact: Identity, seed: int):
    compared, sizes_seen = 0, []
    for number, sizes in enumerate(fact.sizes):
        rng = random.Random(seed * 1000 + number)
        meanings = fact.model(sizes, rng) if fact.model is not None else {}
        lhs, rhs = (_concrete(side, sizes) for side in fact.pair)
        indices = sorted(
            (lhs - rhs).free_symbols & {s for s in _symbols(lhs, rhs) if _is_index(s)}, key=str
        )
        bound = _index_bound(fact.pair, sizes)
        for values in itertools.product(range(bound), repeat=len(indices)):
            at = dict(zip(indices, map(sp.Integer, values), strict=True))
            a, b = (_give_meaning(side.xreplace(at), meanings) for side in (lhs, rhs))
            if not _same_value(a, b):
                where = ", ".join(f"{s} = {v}" for s, v in at.items())
                return (
                    False,
                    "failed",
                    (f"fails at sizes {dict(sizes)}, {where}: {fact.lhs} = {a}, {fact.rhs} = {b}"),
                )
            compared += 1
        sizes_seen.append(dict(sizes))
    return (
        True,
        "tested",
        (f"holds at {compared} index values over sizes {sizes_seen}, at exact random points"),
    )


def _symbols(*exprs) -> set[sp.Symbol]:
    return {s for e in exprs for s in sp.sympify(e).free_symbols if isinstance(s, sp.Symbol)}


def _is_index(s: sp.Symbol) -> bool:
    return bool(s.is_integer) and not s.is_positive


def _concrete(expr, sizes: Mapping) -> sp.Basic:
    """Sizes put in: matrices get their concrete shapes, sums their concrete limits."""
    sizes = {sp.sympify(k): sp.Integer(v) for k, v in sizes.items()}
    matrices = {
        m: sp.MatrixSymbol(m.name, *(sp.sympify(d).xreplace(sizes) for d in m.shape))
        for m in sp.sympify(expr).atoms(sp.MatrixSymbol)
    }
    return sp.sympify(expr).xreplace({**matrices, **sizes})


def _index_bound(pair, sizes: Mapping) -> int:
    """Indices range up to the smallest dimension any of them indexes."""
    dims = [
        int(sp.sympify(e.parent.shape[axis]).subs(sizes))
        for side in pair
        for e in sp.sympify(side).atoms(MatrixElement)
        for axis, index in enumerate(e.indices)
        if isinstance(index, sp.Symbol)
    ]
    return min(dims) if dims else 1


def _give_meaning(expr, meanings: Mapping) -> sp.Basic:
    by_name = {getattr(k, "name", None): v for k, v in meanings.items()}

    def entry(e: MatrixElement):
        if isinstance(e.parent, sp.MatrixSymbol):
            return sp.sympify(by_name[e.parent.name][int(e.i), int(e.j)])
        # A compound matrix (X⁻¹): its matrices by their meanings, then SymPy computes it.
        explicit = e.parent.xreplace(
            {
                m: sp.ImmutableMatrix(by_name[m.name])
                for m in e.parent.atoms(sp.MatrixSymbol)
                if m.name in by_name
            }
        )
        return sp.ImmutableMatrix(explicit.doit())[int(e.i), int(e.j)]

    def meant(e) -> bool:
        if not isinstance(e, MatrixElement):
            return False
        if isinstance(e.parent, sp.MatrixSymbol):
            return e.parent.name in by_name
        names = {m.name for m in e.parent.atoms(sp.MatrixSymbol)}
        return bool(names) and names <= set(by_name)

    expr = expr.replace(meant, entry)
    scalars = {k: sp.sympify(v) for k, v in meanings.items() if isinstance(k, sp.Symbol)}
    return expr.xreplace(scalars).doit()


def _same_value(a, b) -> bool:
    difference = sp.expand(a - b)
    if difference == 0:
        return True
    if difference.free_symbols:
        return False  # a symbol the model gave no meaning: the identity is not closed
    scale = max(abs(sp.N(a, PRECISION)), abs(sp.N(b, PRECISION)), sp.Float(1, PRECISION))
    return bool(abs(sp.N(difference, PRECISION)) <= ZERO_BELOW * scale)
