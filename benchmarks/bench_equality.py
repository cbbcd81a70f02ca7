"""Bounded equality against plain SymPy: ``check_equal`` vs ``simplify(a - b) == 0``.

The family: SymPy's own Jacobian of softmax(z), J = ∂(exp(zᵢ)/Σₖ exp(zₖ))/∂zⱼ, against the
same Jacobian written in a different, equal form, sᵢ(δᵢⱼ − sⱼ) with the overflow-safe
sᵢ = 1/(1 + Σ_{k≠i} exp(zₖ − zᵢ)). For n = 2, 4, 8, 16, 32 each runs in this process
from a cleared SymPy cache (both have already run once on n = 3, so imports and first-use
costs are paid). ``simplify`` gets 120 CPU seconds and is interrupted after them;
``check_equal`` has its default budget (4 s). A wrong form (the diagonal alone, diag(s)) is
checked too: the verdict must be False.

Goal: a correct verdict at every n, and at least 20× faster where simplify finishes.

    python benchmarks/bench_equality.py            # up to ~5 minutes (simplify's timeouts)
    python benchmarks/bench_equality.py --sizes 2 4 8
"""

from __future__ import annotations

import argparse
import statistics
import time

from common import figure, mark_stopped, save, seconds, table, write

SIMPLIFY_LIMIT = 120.0
REPEAT_BELOW = 10.0  # seconds: simplify runs faster than this are timed 3 times
GOAL = 20.0


def family(n: int, wrong: bool = False):
    """(SymPy's Jacobian of softmax, the overflow-safe form; or the diagonal alone)."""
    import sympy as sp

    z = sp.symbols(f"z0:{n}")
    exps = [sp.exp(v) for v in z]
    total = sum(exps)
    truth = sp.Matrix(n, n, lambda i, j: sp.diff(exps[i] / total, z[j]))
    s = [1 / (1 + sum(sp.exp(z[k] - z[i]) for k in range(n) if k != i)) for i in range(n)]
    other = sp.Matrix(n, n, lambda i, j: s[i] * ((1 if i == j else 0) - (0 if wrong else s[j])))
    return truth, other


def timed(fn, limit: float | None = None):
    """(wall seconds, result) of ``fn()`` from a cold SymPy cache; (None, None) when it
    runs out of ``limit`` CPU seconds (it is interrupted, as the workbench's budgets do)."""
    from sympy.core.cache import clear_cache

    from workbench.checks.timebox import call_with_limit
    from workbench.errors import TimeBudgetExceeded

    clear_cache()
    start = time.perf_counter()
    try:
        result = call_with_limit(fn, limit) if limit else fn()
    except TimeBudgetExceeded:
        return None, None
    return time.perf_counter() - start, result


def checker(a, b):
    from workbench.checks.equivalence import check_equal

    def run():
        v = check_equal(a, b)
        return v.equal, v.method, v.tier

    return run


def simplifier(a, b):
    import sympy as sp

    return lambda: sp.simplify(a - b) == sp.zeros(*a.shape)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[2, 4, 8, 16, 32])
    args = parser.parse_args()

    warm_a, warm_b = family(3)  # first-use costs paid before anything is timed
    checker(warm_a, warm_b)()
    simplifier(warm_a, warm_b)()

    rows, plot = [], []
    for n in args.sizes:
        a, b = family(n)
        runs = [timed(checker(a, b)) for _ in range(3)]
        ours = statistics.median(t for t, _ in runs)
        equal, method, tier = runs[0][1]
        _, caught = timed(checker(*family(n, wrong=True)))
        theirs, simplified = timed(simplifier(a, b), SIMPLIFY_LIMIT)
        if theirs is not None and theirs < REPEAT_BELOW:  # fast enough to take a median too
            theirs = statistics.median([theirs, *(timed(simplifier(a, b))[0] for _ in range(2))])
        ratio = f"{theirs / ours:.0f}×" if theirs is not None else f"> {SIMPLIFY_LIMIT / ours:.0f}×"
        rows.append(
            [
                n,
                seconds(ours),
                f"{equal} ({method}, {tier})",
                "caught" if caught[0] is False else f"NOT caught ({caught})",
                seconds(theirs) if theirs is not None else f"> {SIMPLIFY_LIMIT:.0f} s (killed)",
                simplified if theirs is not None else "–",
                ratio,
            ]
        )
        plot.append((n, ours, theirs))
        print(rows[-1], flush=True)
    body = table(
        [
            "n",
            "check_equal",
            "its verdict",
            "diag(s) alone",
            "simplify(a − b)",
            "simplify says 0",
            "speed-up",
        ],
        rows,
    )
    finished = [(n, t, s) for n, t, s in plot if s is not None]
    worst = min((s / t for _, t, s in finished), default=None)
    body += (
        "\n\nGoal: a correct verdict at every n, and ≥ 20× faster where simplify finishes. "
        + (
            f"Smallest speed-up where simplify finished: {worst:.0f}× "
            f"({'met' if worst >= GOAL else 'NOT met'})."
            if worst is not None
            else ""
        )
        + " Times are wall seconds from a cleared SymPy cache, medians of 3 (simplify once"
        " where it takes over 10 s)."
    )
    write("bench_equality", "Bounded equality against simplify (softmax Jacobian family)", body)

    fig, ax = figure()
    ax.loglog([n for n, _, _ in plot], [t for _, t, _ in plot], "o-", label="check_equal")
    ax.loglog(
        [n for n, _, s in finished], [s for _, _, s in finished], "s-", label="simplify(a − b)"
    )
    killed = [n for n, _, s in plot if s is None]
    mark_stopped(ax, killed, SIMPLIFY_LIMIT, "C1", f"simplify killed at {SIMPLIFY_LIMIT:.0f} s")
    ax.set_xticks([n for n, _, _ in plot], [str(n) for n, _, _ in plot])
    ax.minorticks_off()
    ax.set_xlabel("n (softmax of n logits)")
    ax.set_ylabel("seconds")
    ax.set_title("Equal softmax Jacobians in two forms")
    ax.legend()
    save(fig, "bench_equality")


if __name__ == "__main__":
    main()
