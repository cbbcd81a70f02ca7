"""Accuracy against step size: finite differences and the complex step, h = 1e-1 … 1e-12.

For the first case of each Tier 1 result, at its numeric size and seeded inputs, the
generated closed-form gradient is compared with central differences (f(x + h) − f(x − h))/2h
and with the complex step Im f(x + ih)/h, for every coordinate, at each step h. The error
is normwise relative, as in `workbench.checks.gradcheck`:
max |estimate − analytic| / max |analytic|.
Central differences trade truncation (≈ h²f‴/6) against rounding (≈ ε|f|/h): a V with its
bottom near h = ε^(1/3) ≈ 1e-5. The complex step has no subtraction, so its error falls
with h² and stays at rounding level (~1e-16) once h is small.

    python benchmarks/bench_accuracy.py
"""

from __future__ import annotations

from common import figure, save, table, write

STEPS = [10.0**-k for k in range(1, 13)]
RESULTS = (
    "softmax-jacobian",
    "cross-entropy-gradient",
    "nll-equals-cross-entropy",
    "two-layer-backprop",
    "attention-gradient",
)


def sweep(slug: str):
    """{method: [error at each h]} for the first case of ``slug``."""
    from workbench.checks.gradcheck import check_gradient
    from workbench.checks.runner import case_functions
    from workbench.codegen import numeric
    from workbench.core import registry

    case = registry.get(slug).cases[0]
    args, f, grad = case_functions(case)
    inputs = numeric.sample_inputs(case.samplers, case.numeric_size, 0)
    values = [inputs[a] for a in args]
    positions = [args.index(w) for w in case.wrt]
    errors = {}
    for method in ("central", "complex-step"):
        errors[method] = [
            check_gradient(
                f, grad, *values, method=method, step=h, wrt=positions, max_coordinates=10**6
            ).max_rel_error
            for h in STEPS
        ]
    return case.name, errors


def main() -> None:
    sweeps = {slug: sweep(slug) for slug in RESULTS}
    header = ["h"] + [f"{slug} ({kind})" for slug in RESULTS for kind in ("FD", "CS")]
    rows = []
    for i, h in enumerate(STEPS):
        row = [f"{h:.0e}"]
        for slug in RESULTS:
            errors = sweeps[slug][1]
            row += [f"{errors['central'][i]:.1e}", f"{errors['complex-step'][i]:.1e}"]
        rows.append(row)
    summary = []
    for slug in RESULTS:
        name, errors = sweeps[slug]
        best = min(range(len(STEPS)), key=lambda i: errors["central"][i])
        best_cs = min(errors["complex-step"])
        summary.append(
            [
                slug,
                name,
                f"1e-{best + 1}",
                f"{errors['central'][best]:.1e}",
                f"{errors['central'][4]:.1e}",
                f"{best_cs:.1e}",
                f"{errors['complex-step'][-1]:.1e}",
            ]
        )
    body = (
        table(header, rows)
        + "\n\n"
        + table(
            [
                "result",
                "case",
                "optimum h (central)",
                "best central error",
                "central error at h = 1e-5 (the default)",
                "best complex-step error",
                "complex step at h = 1e-12",
            ],
            summary,
        )
        + "\n\nNormwise relative errors of the generated closed-form gradient against each "
        "estimate, every coordinate, seed 0. The checks use h = 1e-5 with tolerance 1e-7 "
        "(central) and h = 1e-20 with tolerance 1e-12 (complex step)."
    )
    write("bench_accuracy", "Finite differences and the complex step against step size", body)

    fig, ax = figure()
    for index, slug in enumerate(RESULTS):
        errors = sweeps[slug][1]
        color = f"C{index}"
        ax.loglog(STEPS, errors["central"], "o-", color=color, ms=3, label=slug)
        ax.loglog(STEPS, errors["complex-step"], "--", color=color, lw=1)
    ax.invert_xaxis()
    ax.set_xlabel("step h")
    ax.set_ylabel("relative error")
    ax.set_title("Central differences (solid) and complex step (dashed)")
    ax.legend(fontsize=7)
    save(fig, "bench_accuracy")


if __name__ == "__main__":
    main()
