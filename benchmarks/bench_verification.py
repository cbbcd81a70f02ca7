"""Verification cost against size: the full check of three Tier 1 results as they grow.

For each size, every case of the derivation is checked at that one size (SymPy's own
derivative compared with the derived result there; finite differences and the complex
step there too), and the steps and closed form at general size as always: the full
`check_derivation`, timed on the wall clock with the default worker processes.
Beside it, in the same run: SymPy's diff check as it worked before this work (SymPy's
gradient written out entry by entry, each entry instantiated and compared), under a
CPU-time limit; and two mistakes that must still be caught at every size:

* a wrong closed form (softmax: diag(s) without −ssᵀ; attention: ∂L/∂Q without 1/√d;
  two-layer net: ∂L/∂W₁ without φ′(a)), caught by the closed-form, finite-difference
  and complex-step checks;
* the same mistake in the derived result, caught by SymPy's diff at that size.

Goals on this 2-core machine: softmax n = 32 under 5 s, attention T = d = 8 under 10 s,
the 8-16-4 net under 10 s.

    python benchmarks/bench_verification.py            # ~10 minutes
    python benchmarks/bench_verification.py --quick    # the largest size of each only
"""

from __future__ import annotations

import argparse
import dataclasses
import time

from common import figure, mark_stopped, save, seconds, table, write

BEFORE_LIMIT = 60.0  # CPU seconds for the entry-by-entry method at one size


def softmax_family():
    from sympy.matrices.expressions.diagonal import DiagMatrix

    import derivations.softmax_jacobian as sj
    from workbench.core.algebra import expand_names

    def sizes(k):
        return {sj.n: k}

    def wrong_closed(derivation):
        closed = DiagMatrix(sj.s)
        result = dataclasses.replace(derivation.results[0], closed_form=closed)
        case = dataclasses.replace(
            derivation.cases[0], gradients=(expand_names(closed, derivation.definitions),)
        )
        return dataclasses.replace(derivation, results=(result,), cases=(case,))

    def wrong_derived(derivation):
        import sympy as sp

        return _with_derived(derivation, 0, sj.s[sj.i, 0] * sp.KroneckerDelta(sj.i, sj.j))

    return "softmax-jacobian", "n", [2, 4, 8, 16, 32], sizes, wrong_closed, wrong_derived, 5.0


def attention_family():
    import sympy as sp

    import derivations.attention_gradient as ag

    def sizes(k):
        return {ag.T: k, ag.d: k, ag.e: k}

    root = sp.sqrt(ag.d)

    def wrong_closed(derivation):
        results = tuple(
            dataclasses.replace(r, closed_form=r.closed_form * root) if r.label == "∂L/∂Q" else r
            for r in derivation.results
        )
        cases = tuple(
            dataclasses.replace(
                c,
                gradients=tuple(
                    g * root if w == ag.Q else g for w, g in zip(c.wrt, c.gradients, strict=True)
                ),
            )
            for c in derivation.cases
        )
        return dataclasses.replace(derivation, results=results, cases=cases)

    def wrong_derived(derivation):
        index = [r.label for r in derivation.results].index("∂L/∂Q")
        return _with_derived(derivation, index, derivation.results[index].derived * root)

    return (
        "attention-gradient",
        "T = d = e",
        [2, 3, 4, 6, 8],
        sizes,
        wrong_closed,
        wrong_derived,
        10.0,
    )


def network_family():
    import sympy as sp

    import derivations.two_layer_backprop as tl
    from workbench.core.functions import Elementwise, Softmax

    shapes = {2: (2, 2, 2), 4: (3, 4, 2), 8: (4, 8, 3), 12: (6, 12, 4), 16: (8, 16, 4)}

    def sizes(k):
        d, m, n = shapes[k]
        return {tl.d: d, tl.m: m, tl.n: n, tl.B: 2}

    def without_slope(case):
        """∂L/∂W₁ with the activation's slope φ′(a) left out."""
        if case.name.startswith("batch"):
            ones = sp.OneMatrix(tl.B, 1)
            hidden = Elementwise("tanh", tl.X * tl.W1.T + ones * tl.b1.T)
            delta2 = (Softmax(hidden * tl.W2.T + ones * tl.b2.T, axis=1) - tl.Y) / tl.B
            return (delta2 * tl.W2).T * tl.X
        hidden = Elementwise(case.name, tl.W1 * tl.x + tl.b1)
        delta2 = Softmax(tl.W2 * hidden + tl.b2) - tl.y
        return (tl.W2.T * delta2) * tl.x.T

    def wrong_closed(derivation):
        results = tuple(
            dataclasses.replace(r, closed_form=tl.W2.T * (tl.s - tl.y) * tl.x.T)
            if r.label == "∂L/∂W₁"
            else r
            for r in derivation.results
        )
        cases = tuple(
            dataclasses.replace(
                c,
                gradients=tuple(
                    without_slope(c) if w == tl.W1 else g
                    for w, g in zip(c.wrt, c.gradients, strict=True)
                ),
            )
            for c in derivation.cases
        )
        return dataclasses.replace(derivation, results=results, cases=cases)

    def wrong_derived(derivation):
        index = [r.label for r in derivation.results].index("∂L/∂W₁")
        derived = derivation.results[index].derived.replace(
            lambda e: isinstance(e, sp.Subs), lambda e: sp.Integer(1)
        )
        return _with_derived(derivation, index, derived)

    return (
        "two-layer-backprop",
        "d-m-n (batch 2)",
        [2, 4, 8, 12, 16],
        sizes,
        wrong_closed,
        wrong_derived,
        10.0,
        shapes,
    )


def _with_derived(derivation, index, derived):
    result = derivation.results[index]
    last = dataclasses.replace(result.steps[-1], after=derived)
    changed = dataclasses.replace(result, steps=(*result.steps[:-1], last))
    results = tuple(changed if i == index else r for i, r in enumerate(derivation.results))
    return dataclasses.replace(derivation, results=results)


def at_size(derivation, sizes):
    """Every case checked at ``sizes`` only (numbers at the same size)."""
    cases = []
    for case in derivation.cases:
        relevant = {k: v for k, v in sizes.items() if _uses(case, k)}
        cases.append(dataclasses.replace(case, sizes=(relevant,), numeric_size=relevant))
    return dataclasses.replace(derivation, cases=tuple(cases))


def _uses(case, symbol) -> bool:
    import sympy as sp

    return any(symbol in sp.sympify(d).free_symbols for m in case.samplers for d in m.shape)


def entrywise_seconds(derivation, limit: float) -> float | None:
    """SymPy's diff check as before this work: every entry written out and compared."""
    from workbench.checks import sympy_diff
    from workbench.checks.timebox import call_with_limit
    from workbench.core import algebra
    from workbench.errors import TimeBudgetExceeded

    def run():
        resolved = {
            r.label: algebra.resolve(r.derived, derivation.definitions) for r in derivation.results
        }
        for case in derivation.cases:
            for sizes in case.sizes:
                items = sympy_diff._entrywise_items(derivation, case, sizes, resolved, 20.0, 0)
                assert all(item["passed"] for item in items), items

    start = time.perf_counter()
    try:
        call_with_limit(run, limit)
    except TimeBudgetExceeded:
        return None
    return time.perf_counter() - start


def main() -> None:
    from workbench.checks.runner import check_derivation
    from workbench.core import registry

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the largest size of each only")
    args = parser.parse_args()
    rows, goals, curves = [], [], {}
    for family in (softmax_family(), attention_family(), network_family()):
        slug, axis, ladder, sizes_of, wrong_closed, wrong_derived, goal, *labels = family
        labels = labels[0] if labels else {k: k for k in ladder}
        base = registry.get(slug)
        curve = []
        for k in ladder[-1:] if args.quick else ladder:
            derivation = at_size(base, sizes_of(k))
            start = time.perf_counter()
            report = check_derivation(derivation)
            total = time.perf_counter() - start
            per_check = {c.name: c.seconds for c in report.checks}
            closed = check_derivation(
                wrong_closed(derivation),
                only=("closed form", "finite differences", "complex step"),
            )
            caught_by = [c.name for c in closed.checks if not c.passed]
            derived = check_derivation(wrong_derived(derivation), only=("sympy diff",))
            before = entrywise_seconds(derivation, BEFORE_LIMIT)
            label = "-".join(map(str, labels[k])) if isinstance(labels[k], tuple) else k
            rows.append(
                [
                    slug,
                    f"{axis} = {label}",
                    "✓" if report.passed else "✗",
                    seconds(total),
                    seconds(per_check.get("steps")),
                    seconds(per_check.get("sympy diff")),
                    seconds(before) if before is not None else f"> {BEFORE_LIMIT:.0f} s",
                    ", ".join(caught_by) or "NOT caught",
                    "caught" if not derived.passed else "NOT caught",
                ]
            )
            curve.append((k, total, per_check.get("sympy diff"), before))
            print(rows[-1], flush=True)
        curves[slug] = (axis, curve, goal, labels)
        largest = curve[-1]
        goals.append(
            f"- {slug} at {axis} = {rows[-1][1].split('= ')[-1]}: full check "
            f"{largest[1]:.1f} s (goal < {goal:.0f} s: "
            f"{'met' if largest[1] < goal else 'NOT met'})"
        )
    body = table(
        [
            "result",
            "size",
            "passed",
            "full check",
            "steps",
            "sympy diff (directional)",
            "sympy diff entry by entry (before)",
            "wrong closed form caught by",
            "wrong derived result",
        ],
        rows,
    )
    body += (
        "\n\n"
        + "\n".join(goals)
        + "\n\nWall seconds with the default worker processes. The steps and the closed form "
        "are checked at general size, so their cost does not grow; the entry-by-entry "
        f"column is the previous method of the SymPy diff check alone (one process, "
        f"stopped after {BEFORE_LIMIT:.0f} CPU seconds)."
    )
    write("bench_verification", "Verification cost against size", body)
    plot(curves)


def plot(curves) -> None:
    fig, _ = figure()
    fig.set_size_inches(12, 4)
    fig.clf()
    for index, (slug, (axis, curve, goal, labels)) in enumerate(curves.items(), 1):
        ax = fig.add_subplot(1, 3, index)
        sizes = [k for k, *_ in curve]
        ax.semilogy(sizes, [t for _, t, _, _ in curve], "o-", label="full check")
        ax.semilogy(sizes, [s for _, _, s, _ in curve], "s-", label="sympy diff (directional)")
        finished = [(k, b) for k, _, _, b in curve if b is not None]
        if finished:
            ax.semilogy(*zip(*finished, strict=True), "^--", label="entry by entry (before)")
        stopped = [k for k, _, _, b in curve if b is None]
        mark_stopped(ax, stopped, BEFORE_LIMIT, "C2", f"before: stopped at {BEFORE_LIMIT:.0f} s")
        ax.axhline(goal, color="grey", ls=":", label=f"goal {goal:.0f} s")
        ax.set_title(slug)
        ax.set_xlabel(axis)
        if any(isinstance(v, tuple) for v in labels.values()):  # shapes: one tick per size
            ax.set_xticks(sizes, ["-".join(map(str, labels[k])) for k in sizes], fontsize=8)
        ax.set_ylabel("seconds")
        ax.legend(fontsize=7)
    save(fig, "bench_verification")


if __name__ == "__main__":
    main()
