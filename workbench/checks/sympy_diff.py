"""Check 2, ``sympy diff``: SymPy's own differentiation against the derived result.

At each of a case's concrete sizes, SymPy differentiates the definition and the result
is compared with the derived result (or, where a case has no general-n result, with the
closed form). Two ways, by size:

* entry by entry, while the inputs have at most ``ENTRYWISE_INPUTS`` entries: SymPy's
  gradient written out, each entry compared by :func:`~workbench.checks.equivalence.check_equal`
  (where a symbolic tier can, it proves the equality);
* along random directions beyond (:mod:`workbench.checks.directional`): SymPy's derivative of
  the definition along t, compared at exact random points with the derived result
  contracted with t. Its cost follows the size of the definition, not the number of
  entries of its Jacobian; anything the evaluator does not know falls back to entries.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import random
import re
from collections.abc import Callable

import numpy as np
import sympy as sp
from sympy.matrices.expressions.matexpr import MatrixElement

from workbench.checks import directional, network
from workbench.checks.concrete import (
    concrete_assumptions,
    explicit_forward,
    instantiate_result,
    substitute,
    sympy_gradient,
)
from workbench.checks.equivalence import check_equal
from workbench.checks.parallel import run_parallel
from workbench.checks.report import CheckResult, item, summarise
from workbench.checks.timebox import time_limit
from workbench.codegen import numeric
from workbench.core import algebra
from workbench.core.derivation import Case, Derivation
from workbench.errors import TimeBudgetExceeded

# Up to this many input entries at a size, SymPy's gradient is written out entry by entry
# and each entry compared (where a symbolic tier can, it proves the equality); beyond, the
# comparison runs along random directions (workbench.checks.directional), whose cost follows the
# size of the definition rather than the number of entries of its Jacobian.
ENTRYWISE_INPUTS = 12
# CPU seconds for SymPy's directional derivatives of one case, taken once for all sizes;
# beyond it the case's own sizes are written out entry by entry and the extra sizes skipped.
PREPARE_BUDGET = 6.0


def check_sympy_diff(derivation: Derivation, budget: float, seed: int) -> CheckResult:
    """SymPy's diff at concrete sizes against the derived result (or, where a case has no
    general-n result, the closed form). The closed form itself was compared with the
    derived result at general sizes by the ``closed form`` check."""
    # Only the results a case instantiates are read resolved (fully unfolded: for a
    # network's deep results that alone takes minutes).
    bound = {label for case in derivation.cases for label in case.results.values()}
    resolved = {
        r.label: algebra.resolve(r.derived, derivation.definitions)
        for r in derivation.results
        if r.label in bound
    }

    def entrywise(case: Case, sizes) -> list[dict]:
        return _identity_items(derivation, case, sizes, budget, seed) + _entrywise_items(
            derivation, case, sizes, resolved, budget, seed
        )

    def along_directions(case: Case, all_sizes, extra) -> list[dict]:
        # One task per case: SymPy's directional derivatives are taken once, for every size.
        try:
            with time_limit(PREPARE_BUDGET):
                prepared = _directional_check(derivation, case, resolved)
        except (directional.Unsupported, ValueError, TimeBudgetExceeded):
            prepared = None  # ValueError: a matrix without an entry formula
        items = []
        for sizes in [*all_sizes, *extra]:
            try:
                if prepared is None:
                    raise directional.Unsupported("not prepared")
                found = _directional_items(derivation, case, sizes, prepared, seed)
            except directional.Unsupported:  # something the evaluator does not know
                if sizes in extra:
                    continue  # written out entry by entry, a larger size costs minutes
                found = _entrywise_items(derivation, case, sizes, resolved, budget, seed)
            items += _identity_items(derivation, case, sizes, budget, seed) + found
        return items

    tasks: list[Callable[[], object]] = []
    for case in derivation.cases if derivation.network is None else ():
        large = [s for s in case.sizes if _input_entries(case, s) > ENTRYWISE_INPUTS]
        tasks += [functools.partial(entrywise, case, s) for s in case.sizes if s not in large]
        extra = [s for s in extra_sizes(case, seed) if s not in case.sizes]
        if large or extra:
            tasks.append(functools.partial(along_directions, case, large, extra))
    if derivation.network is None:
        tasks += result_tasks(derivation, budget, seed)
    else:  # every result and case against SymPy's diff of the network, stage by stage
        tasks.append(functools.partial(_network_items, derivation, seed))
        tasks += [
            functools.partial(_network_case_items, derivation, c, seed) for c in derivation.cases
        ]
    items = [item for batch in run_parallel(tasks) for item in batch]
    outcome = summarise("sympy diff", items)
    return dataclasses.replace(outcome, detail=f"{outcome.detail}{_sizes_said(items)}")


def _network_items(derivation: Derivation, seed: int) -> list[dict]:
    sizes = network.sizes_said(derivation)
    return [
        item(
            f"{result.label}: derived result against SymPy's diff, stage by stage, at {sizes}",
            verdict,
        )
        for result, verdict in network.result_verdicts(derivation, seed)
    ]


def _network_case_items(derivation: Derivation, case: Case, seed: int) -> list[dict]:
    return [
        item(
            f"[{case.name}] d/d{wrt.name}: closed form against SymPy's diff, stage by stage, "
            f"at {_size_label(sizes)}",
            verdict,
        )
        for wrt, sizes, verdict in network.case_verdicts(derivation, case, seed)
    ]


def _sizes_said(items: list[dict]) -> str:
    """How many sizes each case was compared at, and the largest: '; vector at 5 sizes
    (largest n=6)'."""
    per_case: dict[str, list[str]] = {}
    for entry in items:
        found = re.match(r"\[(?P<case>[^\]]+)\] d/d\S+: .* at (?P<sizes>.+)$", entry["what"])
        if found:
            seen = per_case.setdefault(found["case"], [])
            if found["sizes"] not in seen:
                seen.append(found["sizes"])
    said = []
    for case, sizes in per_case.items():
        largest = max(sizes, key=lambda label: sum(int(v) for v in re.findall(r"=(\d+)", label)))
        said.append(f"{case} at {len(sizes)} sizes (largest {largest})")
    return "; " + "; ".join(said) if said else ""


def extra_sizes(case: Case, seed: int) -> list[dict]:
    """Two sizes beyond a case's own (which are small, for writing out entry by entry):
    every size at least 5, and a seeded random one (each size 2 to 7). Checked along
    random directions only; a case the directional route cannot read keeps its own."""
    symbols = sorted({s for sizes in case.sizes for s in sizes}, key=str)
    if not symbols:
        return []
    # A size that is the same in every size set is structural (one output column): kept.
    fixed = {s: case.sizes[0][s] for s in symbols if len({z.get(s) for z in case.sizes}) == 1}
    large = {
        s: fixed.get(s, max(5 + k, case.numeric_size.get(s, 0))) for k, s in enumerate(symbols)
    }
    rng = random.Random(f"sizes:{seed}:{case.name}")
    for _ in range(20):  # a size set of its own, not one of the case's
        chosen = {s: fixed.get(s, rng.randint(2, 7)) for s in symbols}
        if chosen not in case.sizes and chosen != large:
            return [large, chosen]
    return [large]


def _size_label(sizes) -> str:
    return ", ".join(f"{k}={v}" for k, v in sizes.items())


def _input_entries(case: Case, sizes) -> int:
    return sum(
        int(np.prod(numeric.shape_of(symbol, sizes))) for symbol in {*case.samplers, *case.wrt}
    )


def _compare_explicit(derivation: Derivation, a, b, assumptions, budget: float, seed: int):
    # Explicit expressions at concrete sizes are large: a short symbolic attempt, then
    # exact/high-precision points decide.
    return check_equal(
        a,
        b,
        assumptions=assumptions,
        domain=derivation.domain,
        budget=budget,
        seed=seed,
        symbolic_budget=min(0.1, budget),
    )


def _identity_items(derivation, case: Case, sizes, budget: float, seed: int) -> list[dict]:
    items = []
    assumptions = concrete_assumptions(case, sizes) if case.identities else []
    for name, lhs, rhs in case.identities:
        verdict = _compare_explicit(
            derivation,
            substitute(lhs.subs(sizes).as_explicit(), case.substitutions).doit(),
            substitute(rhs.subs(sizes).as_explicit(), case.substitutions).doit(),
            assumptions,
            budget,
            seed,
        )
        items.append(item(f"[{case.name}] {name} at {_size_label(sizes)}", verdict))
    return items


def _entrywise_items(derivation, case: Case, sizes, resolved, budget, seed) -> list[dict]:
    """SymPy's gradient written out entry by entry, each compared with the claim."""
    items = []
    assumptions = concrete_assumptions(case, sizes)
    forward = explicit_forward(case, sizes)
    for wrt, closed in zip(case.wrt, case.gradients, strict=True):
        truth = sympy_gradient(case, sizes, wrt, forward)
        if wrt in case.results:
            what = "derived result"
            claim = instantiate_result(
                derivation, case.results[wrt], case, sizes, resolved[case.results[wrt]]
            )
        else:
            what = "closed form"
            claim = substitute(closed.subs(sizes).as_explicit(), case.substitutions).doit()
        verdict = _compare_explicit(derivation, truth, claim, assumptions, budget, seed)
        items.append(item(f"[{case.name}] d/d{wrt.name}: {what} at {_size_label(sizes)}", verdict))
    return items


def _directional_check(derivation, case: Case, resolved) -> directional.DirectionalCheck:
    """SymPy's directional derivatives of the case's forward, with its claims."""
    claims = []
    for wrt, closed in zip(case.wrt, case.gradients, strict=True):
        if wrt in case.results:
            result = derivation.result(case.results[wrt])
            if result.entry is None:
                raise directional.Unsupported("a result without an entry")
            claims.append(directional.Claim(wrt, resolved[result.label], result.entry))
        else:
            p, q = sp.Dummy("p", integer=True), sp.Dummy("q", integer=True)
            claims.append(directional.Claim(wrt, closed[p, q], (p, q)))
    functions = {k: v for k, v in case.substitutions.items() if not isinstance(k, sp.MatrixSymbol)}
    return directional.DirectionalCheck(
        case.forward, claims, substitute=lambda e: substitute(e, functions)
    )


def _directional_items(derivation, case: Case, sizes, prepared, seed) -> list[dict]:
    """SymPy's derivative along random directions against each claim contracted with
    them (see :mod:`workbench.checks.directional`)."""
    verdicts = prepared.compare(
        list(case.samplers),
        sizes,
        fixed={
            old.name: _explicit_entries(new, sizes)
            for old, new in case.substitutions.items()
            if isinstance(old, sp.MatrixSymbol)
        },
        assumptions=concrete_assumptions(case, sizes),
        domain=derivation.domain,
        seed=f"{seed}:{case.name}:{_size_label(sizes)}",
    )
    label = _size_label(sizes)
    return [
        item(
            f"[{case.name}] d/d{claim.wrt.name}: "
            f"{'derived result' if claim.wrt in case.results else 'closed form'} at {label}",
            verdict,
        )
        for claim, verdict in zip(prepared.claims, verdicts, strict=True)
    ]


def _explicit_entries(matrix, sizes) -> list[list[sp.Basic]]:
    """A fixed matrix (a mask) written out at concrete sizes, as rows of numbers."""
    explicit = sp.ImmutableMatrix(matrix.subs(sizes).as_explicit())
    if not all(entry.is_Rational for entry in explicit):
        raise directional.Unsupported(f"{matrix} is not a matrix of numbers at {sizes}")
    return explicit.tolist()


# ---------------------------------------------------------------- every result
# Sizes at which a result that no case instantiates is written out (one value per size
# symbol, distinct symbols offset so that a transposed size is noticed).
RESULT_SIZES = (2, 3, 4)
# Sizes (with their cases) at which one result is written out.
RESULT_SETTINGS = 3
# A case's size set is used only with every size at most this: a definition written out
# whole grows with the product of its sizes (attention's at T = d = e = 8 takes minutes).
RESULT_MAX_SIZE = 5
# Index assignments compared per size: all of them up to this many, else a seeded sample.
RESULT_ENTRIES = 3


def result_routes(derivation: Derivation) -> dict[str, str]:
    """How the ``sympy diff`` check reads each result's *derived* expression.

    ``"case"``: a case instantiates it and compares it with SymPy's diff of the case's
    forward; ``"diff"``: a derivative compared, at concrete sizes, with SymPy's own diff
    of its definition; ``"definition"``: an identity (no fact, no rule that only holds
    under a condition) compared with SymPy's own evaluation of its definition. A result
    missing here is read by the derivation's own routes (its numeric or symbolic checks).
    """
    bound = {label for case in derivation.cases for label in case.results.values()}
    routes = {}
    for result in derivation.results:
        if result.label in bound:
            routes[result.label] = "case"
        elif result.goal.has(sp.Derivative):
            routes[result.label] = "diff"
        elif _is_identity(result):
            routes[result.label] = "definition"
    return routes


def _is_identity(result) -> bool:
    """An equality chain from definitions alone: every step an identity, no fact used."""
    return not result.assumptions and all(
        not step.assumptions and step.rule not in CONDITIONAL_RULES for step in result.steps
    )


# Rules whose ``after`` equals ``before`` only under a condition or in a limit: the
# derived expression is then not SymPy's evaluation of the goal's definition.
CONDITIONAL_RULES = frozenset(
    {
        "solve",
        "solve the linear condition",
        "solve the recurrence",
        "geometric sum",  # for a ≠ 1
        "unroll the recurrence",
        "linearity of expectation",
        "evaluate at",
    }
)


def result_tasks(derivation: Derivation, budget: float, seed: int) -> list:
    """The results no case instantiates, each against SymPy's own diff (or evaluation) of
    its definition, written out at concrete sizes: one task per result and size, each
    returning its items. Nothing of the rule helpers is used: definitions are unfolded,
    sums written out, a case's substitutions applied, and ``sympy.diff`` differentiates."""
    routes = result_routes(derivation)
    tasks = []
    for result in derivation.results:
        route = routes.get(result.label)
        if route in {"diff", "definition"}:
            tasks += [
                lambda result=result, case=case, sizes=sizes, route=route: _result_items(
                    derivation, result, route, case, sizes, budget, seed
                )
                for case, sizes in result_settings(derivation, result)
            ]
    return tasks


def result_items(derivation: Derivation, budget: float, seed: int) -> list[dict]:
    """The items of :func:`result_tasks`, run here."""
    return [item for task in result_tasks(derivation, budget, seed) for item in task()]


def result_settings(derivation: Derivation, result) -> list[tuple[Case | None, dict]]:
    """Where a result is written out: at each size of each case that gives every size
    symbol it needs (with that case's substitutions: a mask, a concrete activation), else
    at :data:`RESULT_SIZES` (distinct size symbols offset, so a transposed size shows)."""
    needed = algebra.size_symbols(result.goal) | algebra.size_symbols(result.derived)
    if not needed:
        return [(None, {})]
    inputs = _input_names(result, derivation.definitions)
    # A case that fixes a variable the result differentiates by (λ = 1/2, say) cannot
    # write it out.
    variables = {algebra.base(v) for d in result.goal.atoms(sp.Derivative) for v in d.variables}
    covering = [
        case
        for case in derivation.cases
        if inputs <= {m.name for m in (*case.samplers, *case.substitutions)}
        and not variables & set(case.substitutions)
    ]
    per_case = [
        [
            (case, dict(s))
            for s in case.sizes
            if needed <= set(s) and max(s.values(), default=0) <= RESULT_MAX_SIZE
        ]
        for case in covering
    ]
    # Round robin over the cases (a mask and none, say), at most RESULT_SETTINGS in all:
    # writing a large definition out costs about a second per size.
    settings = [
        setting
        for column in itertools.zip_longest(*per_case)
        for setting in column
        if setting is not None
    ][:RESULT_SETTINGS]
    if settings:
        return settings
    # No case has sizes this small: still with the covering cases' substitutions (a
    # mask), in turn, and every size they set (the definitions may need more than the
    # result names: d in S = QKᵀ/√d); without them a sum stays symbolic and doit tries
    # it in closed form, for minutes.
    settings = []
    for number, base in enumerate(RESULT_SIZES):
        case = covering[number % len(covering)] if covering else None
        symbols = needed | (set().union(*map(set, case.sizes)) if case is not None else set())
        ordered = sorted(symbols, key=str)
        settings.append((case, {s: base + offset for offset, s in enumerate(ordered)}))
    return settings


def _input_names(result, definitions) -> set[str]:
    """The matrices a result's goal and derived expression rest on, by name, as
    unfolding them would leave them (a name inside an entry of a product, (Hh + g)[j],
    stays): walked through the definitions instead, since a network's deepest result
    unfolded is the whole network (a minute for the transformer block)."""
    seen: set = set()
    found: set[str] = set()

    def unfolded(expr) -> set:
        """The names unfolding replaces: entries' parents and scalars."""
        parents = {e.parent for e in expr.atoms(MatrixElement) if e.parent in definitions}
        scalars = {s for s in algebra.free_symbols(expr) if not isinstance(s, sp.MatrixSymbol)}
        return parents | (scalars & set(definitions))

    stack = []
    for expr in (sp.sympify(result.goal), sp.sympify(result.derived)):
        names = unfolded(expr)
        found |= {m.name for m in expr.atoms(sp.MatrixSymbol) if m not in names}
        stack += list(names)
    while stack:
        name = stack.pop()
        if name in seen:
            continue
        seen.add(name)
        body = sp.sympify(definitions[name])
        for m in body.atoms(sp.MatrixSymbol) | (algebra.free_symbols(body) & set(definitions)):
            if m in definitions:
                stack.append(m)
            elif isinstance(m, sp.MatrixSymbol):
                found.add(m.name)
    return found


def _result_items(derivation, result, route, case, sizes, budget, seed) -> list[dict]:
    definitions = derivation.definitions
    substitutions = {} if case is None else _sized_substitutions(case, sizes)
    indices = sorted(
        algebra.index_symbols(result.goal) | algebra.index_symbols(result.derived), key=str
    )
    ranges = index_ranges(result.goal, indices, sizes)
    combos = list(itertools.product(*(range(r) for r in ranges)))
    if len(combos) > RESULT_ENTRIES:
        combos = random.Random(f"{seed}:{result.label}:{sizes}").sample(combos, RESULT_ENTRIES)
    truth_at = _SympySide(result.goal, definitions, sizes, substitutions)
    claim_at = _SympySide(result.derived, definitions, sizes, substitutions)
    what = "SymPy's diff" if route == "diff" else "SymPy's evaluation"
    where = f" [{case.name}]" if case is not None and len(derivation.cases) > 1 else ""
    items = []
    for combo in combos:
        values = dict(zip(indices, combo, strict=True))
        verdict = _compare_explicit(
            derivation, truth_at(values), claim_at(values), [], budget, seed
        )
        label = _size_label({**sizes, **values}) or "a random point"
        items.append(
            item(
                f"{result.label}: derived result against {what} of its definition"
                f"{where} at {label}",
                verdict,
            )
        )
    return items


def _sized_substitutions(case: Case, sizes) -> dict:
    """A case's substitutions with their matrices written out at ``sizes``."""
    return {
        old: sp.ImmutableMatrix(algebra.instantiate(new, sizes).as_explicit())
        if isinstance(new, sp.MatrixExpr)
        else new
        for old, new in case.substitutions.items()
    }


class _SympySide:
    """An expression at concrete sizes, then at concrete indices: every derivative taken
    by ``sympy.diff`` of its body, unfolded (the variable's own name held, a partial
    derivative in the computation graph) and written out; then every name unfolded.

    The sums are written out once per size, indices still free; each entry then only
    substitutes its indices.
    """

    def __init__(self, expr: sp.Basic, definitions, sizes, substitutions):
        self.definitions = definitions
        self.defined = {
            name.name: name for name in definitions if isinstance(name, sp.MatrixSymbol)
        }
        self.sizes = sizes
        self.substitutions = substitutions
        self.unexpanded: dict[sp.Dummy, tuple] = {}
        marked = {}
        for d in _outermost(expr):
            dummy = sp.Dummy("D")
            variables = [v for v, count in d.variable_count for _ in range(count)]
            held = {algebra.base(v) for v in variables}
            # A derivative inside the body is SymPy's too: ``doit`` takes it.
            body = algebra.unfold(d.expr, definitions, keep=held)
            self.unexpanded[dummy] = (body, variables)
            marked[d] = dummy
        self.unexpanded_rest = algebra.unfold(expr.xreplace(marked), definitions)
        self.held: dict | None
        self.rest: sp.Basic | None
        try:
            self.held = {
                dummy: (self._written_out(body), variables)
                for dummy, (body, variables) in self.unexpanded.items()
            }
            self.rest = self._written_out(self.unexpanded_rest)
        except (IndexError, TypeError):
            # A sum over a shifted index, or an explicit matrix, cannot be written out
            # with its index free: each entry is written out on its own.
            self.held, self.rest = None, None

    def _written_out(self, expr, at=None):
        at = self.sizes if at is None else at
        return substitute(algebra.instantiate(expr, at), self.substitutions).doit()

    def __call__(self, values) -> sp.Basic:
        at = {**self.sizes, **values}
        if self.held is not None:
            try:
                return self._evaluate(self.held, self.rest, at)
            except (IndexError, TypeError):
                pass
        # Each entry written out on its own: slower, and sure to stay in range.
        held = {
            dummy: (self._written_out(body, at), variables)
            for dummy, (body, variables) in self.unexpanded.items()
        }
        return self._evaluate(held, self._written_out(self.unexpanded_rest, at), at)

    def _evaluate(self, held, rest, at) -> sp.Basic:
        derivatives = {}
        for dummy, (body, variables) in held.items():
            body = algebra.instantiate(body, at)
            derivative = sp.diff(body, *[algebra.instantiate(v, at) for v in variables])
            derivatives[dummy] = self._unfold_held(derivative, variables)
        return algebra.instantiate(rest.xreplace(derivatives), at)

    def _unfold_held(self, expr, variables):
        """The names a derivative held fixed, unfolded after it is taken (at concrete
        sizes and entries, so by name)."""
        for _ in range(16):  # definitions nest a few levels deep
            held = {
                e
                for e in expr.atoms(MatrixElement)
                if getattr(e.parent, "name", None) in self.defined
            }
            scalars = {v for v in variables if v in self.definitions}
            if not held and not expr.free_symbols & scalars:
                return expr
            entries = {
                e: self._written_out(
                    algebra.unfold(
                        self.definitions[self.defined[e.parent.name]][e.i, e.j], self.definitions
                    )
                )
                for e in held
            }
            entries.update(
                {v: self._written_out(algebra.unfold(v, self.definitions)) for v in scalars}
            )
            expr = expr.xreplace(entries)
        raise RecursionError("definitions do not terminate")


def _outermost(expr: sp.Basic) -> list[sp.Derivative]:
    """The derivatives in ``expr`` that no other derivative contains."""
    if isinstance(expr, sp.Derivative):
        return [expr]
    return list(dict.fromkeys(d for arg in expr.args for d in _outermost(arg)))


def index_ranges(goal: sp.Basic, indices, sizes) -> list[int]:
    """Each free index's range: the dimension of a matrix the goal indexes with it."""
    ranges = []
    for index in indices:
        for element in goal.atoms(MatrixElement):
            dims = [sp.sympify(d).subs(sizes) for d in element.parent.shape]
            position = [p for p, e in enumerate((element.i, element.j)) if e == index]
            if position:
                ranges.append(int(dims[position[0]]))
                break
        else:
            # An index that labels no matrix entry (a frequency, say) runs over the one
            # size there is.
            if len(sizes) != 1:
                raise ValueError(f"index {index} of {goal} indexes no matrix")
            ranges.append(int(next(iter(sizes.values()))))
    return ranges
