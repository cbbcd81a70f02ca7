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

import numpy as np
import sympy as sp

from workbench.checks import directional
from workbench.checks.equivalence import check_equal
from workbench.checks.report import CheckResult
from workbench.checks.runner import (
    _item,
    _summarise,
    concrete_assumptions,
    explicit_forward,
    instantiate_result,
    run_parallel,
    substitute,
    sympy_gradient,
)
from workbench.codegen import numeric
from workbench.core import algebra
from workbench.core.derivation import Case, Derivation

# Up to this many input entries at a size, SymPy's gradient is written out entry by entry
# and each entry compared (where a symbolic tier can, it proves the equality); beyond, the
# comparison runs along random directions (workbench.checks.directional), whose cost follows the
# size of the definition rather than the number of entries of its Jacobian.
ENTRYWISE_INPUTS = 12


def check_sympy_diff(derivation: Derivation, budget: float, seed: int) -> CheckResult:
    """SymPy's diff at concrete sizes against the derived result (or, where a case has no
    general-n result, the closed form). The closed form itself was compared with the
    derived result at general sizes by the ``closed form`` check."""
    resolved = {
        r.label: algebra.resolve(r.derived, derivation.definitions) for r in derivation.results
    }

    def entrywise(case: Case, sizes) -> list[dict]:
        return _identity_items(derivation, case, sizes, budget, seed) + _entrywise_items(
            derivation, case, sizes, resolved, budget, seed
        )

    def along_directions(case: Case, all_sizes) -> list[dict]:
        # One task per case: SymPy's directional derivatives are taken once, for every size.
        try:
            prepared = _directional_check(derivation, case, resolved)
        except directional.Unsupported:
            prepared = None
        items = []
        for sizes in all_sizes:
            items += _identity_items(derivation, case, sizes, budget, seed)
            try:
                if prepared is None:
                    raise directional.Unsupported("not prepared")
                items += _directional_items(derivation, case, sizes, prepared, seed)
            except directional.Unsupported:  # something the evaluator does not know
                items += _entrywise_items(derivation, case, sizes, resolved, budget, seed)
        return items

    tasks = []
    for case in derivation.cases:
        large = [s for s in case.sizes if _input_entries(case, s) > ENTRYWISE_INPUTS]
        tasks += [lambda case=case, s=s: entrywise(case, s) for s in case.sizes if s not in large]
        if large:
            tasks.append(lambda case=case, large=large: along_directions(case, large))
    items = [item for batch in run_parallel(tasks) for item in batch]
    return _summarise("sympy diff", items)


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
        items.append(_item(f"[{case.name}] {name} at {_size_label(sizes)}", verdict))
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
        items.append(_item(f"[{case.name}] d/d{wrt.name}: {what} at {_size_label(sizes)}", verdict))
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
        _item(
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
