"""Each check can fail: a wrong closed form and a wrong step are caught."""

from __future__ import annotations

import dataclasses

from sympy.matrices.expressions.diagonal import DiagMatrix

from derivations import cross_entropy_gradient as ce
from derivations import softmax_jacobian as sj
from workbench.checks.runner import check_derivation
from workbench.core.algebra import expand_names


def _with_closed_form(derivation, closed):
    result = dataclasses.replace(derivation.results[0], closed_form=closed)
    case = dataclasses.replace(
        derivation.cases[0], gradients=(expand_names(closed, derivation.definitions),)
    )
    return dataclasses.replace(derivation, results=(result,), cases=(case,))


def test_correct_softmax_jacobian_passes():
    assert check_derivation(sj.build()).passed


def test_missing_term_in_closed_form_is_caught_three_ways():
    # diag(s) alone: the classic mistake of forgetting −s sᵀ.
    wrong = _with_closed_form(sj.build(), DiagMatrix(sj.s))
    report = check_derivation(wrong)
    assert not report.check("closed form").passed
    assert not report.check("finite differences").passed
    assert not report.check("complex step").passed
    assert report.check("steps").passed  # the steps themselves are still right


def test_batch_gradient_without_the_mean_is_caught():
    # (S − Y) instead of (S − Y)/B: the forgotten 1/B of a mean loss.
    derivation = ce.build()
    batch = derivation.cases[1]
    wrong = dataclasses.replace(batch, gradients=(batch.gradients[0] * ce.B,))
    report = check_derivation(dataclasses.replace(derivation, cases=(wrong,)))
    assert not report.check("finite differences").passed
    assert not report.check("complex step").passed
    assert not report.check("sympy diff").passed


def test_a_wrong_step_is_caught():
    derivation = sj.build()
    result = derivation.results[0]
    steps = list(result.steps)
    # The delta-collapse step claims Σₖ exp(zₖ) δₖⱼ = exp(zₖ) ... with the wrong sign.
    broken = dataclasses.replace(steps[5], after=-steps[5].after)
    steps[5] = broken
    steps[6] = dataclasses.replace(steps[6], before=broken.after)
    bad = dataclasses.replace(
        derivation, results=(dataclasses.replace(result, steps=tuple(steps)),)
    )
    report = check_derivation(bad, only=("steps",))
    step_check = report.check("steps")
    assert not step_check.passed
    failed = [item["what"] for item in step_check.items if not item["passed"]]
    assert any("step 6" in what for what in failed)


def test_a_step_that_needs_an_unstated_assumption_is_caught():
    derivation = ce.build()
    result = derivation.results[0]
    last = result.steps[-1]
    unstated = dataclasses.replace(last, assumptions=())  # drop Σ y = 1
    steps = (*result.steps[:-1], unstated)
    bad = dataclasses.replace(derivation, results=(dataclasses.replace(result, steps=steps),))
    assert not check_derivation(bad, only=("steps",)).passed


def test_report_is_json_ready():
    import json

    report = check_derivation(sj.build())
    document = json.loads(json.dumps(report.to_dict()))
    assert document["slug"] == "softmax-jacobian"
    for check in document["checks"]:
        assert {"name", "passed", "method", "max_error"} <= set(check)


# ---------------------------------------------------------------- SymPy's diff at larger sizes
def test_sympy_diff_along_directions_catches_a_wrong_result():
    # Past a dozen input entries, SymPy's derivative is taken along random directions
    # (workbench.checks.directional). The same mistake as above, now in the derived result.
    from sympy import KroneckerDelta

    derivation = sj.build()
    result = derivation.results[0]
    wrong = sj.s[sj.i, 0] * KroneckerDelta(sj.i, sj.j)  # diag(s): −sᵢsⱼ forgotten
    steps = (*result.steps[:-1], dataclasses.replace(result.steps[-1], after=wrong))
    large = dataclasses.replace(derivation.cases[0], sizes=({sj.n: 13}, {sj.n: 32}))
    right = dataclasses.replace(derivation, cases=(large,))
    bad = dataclasses.replace(right, results=(dataclasses.replace(result, steps=steps),))
    good = check_derivation(right, only=("sympy diff",)).check("sympy diff")
    assert good.passed and {item["tier"] for item in good.items} == {"directional"}
    caught = check_derivation(bad, only=("sympy diff",)).check("sympy diff")
    assert not caught.passed
    assert all(not item["passed"] for item in caught.items)


def test_a_wrong_backprop_gradient_is_caught_and_named():
    # Batched two-layer net, ∂L/∂W₁ without the activation's slope φ′(a): the error
    # signal skipped the nonlinearity. Only that input's comparison fails.
    import sympy as sp

    from derivations import two_layer_backprop as tl
    from workbench.core import registry
    from workbench.core.functions import Elementwise, Softmax

    derivation = registry.get("two-layer-backprop")
    batch = next(c for c in derivation.cases if c.name.startswith("batch"))
    ones = sp.OneMatrix(tl.B, 1)
    hidden = Elementwise("tanh", tl.X * tl.W1.T + ones * tl.b1.T)
    delta2 = (Softmax(hidden * tl.W2.T + ones * tl.b2.T, axis=1) - tl.Y) / tl.B
    no_slope = (delta2 * tl.W2).T * tl.X
    gradients = tuple(
        no_slope if w == tl.W1 else g for w, g in zip(batch.wrt, batch.gradients, strict=True)
    )
    wrong = dataclasses.replace(batch, gradients=gradients, sizes=batch.sizes[-1:])
    # Without the results: the case alone is checked (no case would bind them, and the
    # check would also write each out against SymPy's diff of the definition).
    check = check_derivation(
        dataclasses.replace(derivation, cases=(wrong,), results=()), only=("sympy diff",)
    ).check("sympy diff")
    failed = {item["what"].split(":")[0] for item in check.items if not item["passed"]}
    assert failed == {"[batch (tanh)] d/dW1"}


def test_numeric_checks_judge_each_gradient_against_its_own_scale():
    """Failed before the fix: L = 100 xᵀx + yᵀy with ∂L/∂y off by 1e-6 (central) or 1e-10
    (complex step) relative passed, since the error was measured against the scale of
    ∂L/∂x, about 100 times larger."""
    import sympy as sp

    from workbench.codegen import numeric
    from workbench.core.derivation import Case

    n = sp.Symbol("n", integer=True, positive=True)
    x, y = sp.MatrixSymbol("x", n, 1), sp.MatrixSymbol("y", n, 1)

    def case(error):
        return Case(
            name="two scales",
            forward=100 * x.T * x + y.T * y,
            wrt=(x, y),
            gradients=(200 * x, 2 * (1 + sp.Float(error)) * y),
            samplers={x: numeric.logits(1.0), y: numeric.logits(1.0)},
            sizes=({n: 2},),
            numeric_size={n: 4},
        )

    for check, error in (("finite differences", 1e-6), ("complex step", 1e-10)):
        right = dataclasses.replace(sj.build(), cases=(case(0.0),))
        wrong = dataclasses.replace(sj.build(), cases=(case(error),))
        assert check_derivation(right, only=(check,)).checks[0].passed
        report = check_derivation(wrong, only=(check,)).checks[0]
        assert not report.passed, report.detail
        (item,) = report.items
        assert item["block_errors"]["y"] > item["tolerance"] > item["block_errors"]["x"]


# ---------------------------------------------------------------- facts and the independent route
def test_an_assumed_fact_is_shown_assumed_in_every_face():
    """Σ y = 1 is an assumption of ∂L/∂z: its step is marked "assumed", never ✓, in the
    report's marks, the LaTeX, the notebook and the terminal (failed before the facts
    check: the step carried ✓S)."""
    from workbench.notebook.display import MARK_TEXT, result_html
    from workbench.render.handout import HANDOUT_STYLE, step_marks
    from workbench.render.latex import Mark, steps_to_latex
    from workbench.render.text import render_steps

    derivation = ce.build()
    report = check_derivation(derivation, only=("steps", "facts"))
    facts = report.check("facts")
    assert facts.passed and [item["method"] for item in facts.items] == ["assumed"]
    marks = step_marks(derivation, report)
    result = derivation.results[0]
    number = next(n for n, step in enumerate(result.steps, 1) if step.facts)
    assert marks[(result.label, number)] is Mark.ASSUMED
    assert all(m.earned for (label, n), m in marks.items() if n != number)
    latex = steps_to_latex(result, {n: m for (_, n), m in marks.items()}, HANDOUT_STYLE)
    assert latex.count("assumed") == 1
    assert MARK_TEXT[Mark.ASSUMED] in result_html(result, marks)
    assert "assumed: Σ_k=0..n-1 (y[k]) = 1" in render_steps(derivation)


def test_a_step_whose_fact_failed_is_marked_failed():
    """The facts check's verdict reaches the step: a failed fact fails the step's mark."""
    from workbench.render.handout import step_marks
    from workbench.render.latex import Mark

    derivation = ce.build()
    report = check_derivation(derivation, only=("steps", "facts"))
    facts = report.check("facts")
    broken = dataclasses.replace(
        facts, passed=False, items=tuple({**item, "passed": False} for item in facts.items)
    )
    doctored = dataclasses.replace(report, checks=(report.check("steps"), broken))
    assert Mark.FAILED in step_marks(derivation, doctored).values()
    without = dataclasses.replace(report, checks=(report.check("steps"),))
    assert Mark.UNCHECKED in step_marks(derivation, without).values()


def test_identity_fact_is_checked_at_several_sizes():
    import sympy as sp

    from derivations import matrix_calculus_identities as mc
    from workbench.checks.fact_check import judge

    passed, method, detail = judge(mc.ADJUGATE, mc.build(), (), 5.0, 0)
    assert passed and method == "tested" and "{n: 5}" in detail
    transposed = dataclasses.replace(mc.ADJUGATE, rhs=mc.D * sp.Inverse(mc.S)[mc.p, mc.q])
    assert judge(transposed, mc.build(), (), 5.0, 0)[0] is False


def test_independent_route_decides_a_wrong_derivative_at_several_sizes():
    import sympy as sp

    from workbench.checks.step_check import check_step

    x = sp.Symbol("x")
    assert check_step(sp.Derivative(x**3, x), 3 * x**2, {}).equal is True
    assert check_step(sp.Derivative(x**3, x), 2 * x**2, {}).equal is False
    n = sp.Symbol("n", integer=True, positive=True)
    j, k = sp.symbols("j k", integer=True)
    z = sp.MatrixSymbol("z", n, 1)
    total = sp.Sum(z[k, 0] ** 2, (k, 0, n - 1))
    right = check_step(sp.Derivative(total, z[j, 0]), 2 * z[j, 0], {})
    assert right.equal is True and any(v[n] >= 4 for v in right.sizes)
    # Σ_k z_k δ_kj collapsed twice over: what a doubled delta collapse would give.
    assert check_step(sp.Derivative(total, z[j, 0]), 4 * z[j, 0], {}).equal is False


def test_independent_route_uses_the_steps_facts():
    """Under Σ y = 1 the cross-entropy gradient's last step holds; without it, it does not."""
    from workbench.checks.step_check import check_step

    derivation = ce.build()
    step = next(step for step in derivation.results[0].steps if step.assumptions)
    assert check_step(step.before, step.after, derivation.definitions, step.assumptions).equal
    assert check_step(step.before, step.after, derivation.definitions, ()).equal is False


def test_independent_route_writes_an_inverse_out_at_every_size():
    """X⁻¹ is inverted from numbers, and a fact's other inputs are numbers: the log-det
    chain, the adjugate step under its fact too, is tested at all three size sets (the
    symbolic 4×4 inverse ran out of time, leaving one size), and stays exact there."""
    from derivations import matrix_calculus_identities as mc
    from workbench.checks.step_check import check_chain, check_step

    derivation = mc.build()
    result = next(r for r in derivation.results if r.wrt == mc.S)
    verdicts = check_chain(result.steps, derivation.definitions, domain=derivation.domain)
    assert [v.method for v in verdicts] == ["tested"] * len(result.steps)
    assert all(len(v.sizes) == 3 and max(s[mc.n] for s in v.sizes) == 4 for v in verdicts)
    step = next(step for step in result.steps if step.assumptions)
    right = check_step(step.before, step.after, derivation.definitions, step.assumptions)
    assert right.equal is True and len(right.sizes) == 3
    # C_pq/D = (X⁻¹)_pq would be the transposed adjugate: false for a general X.
    wrong = step.after.xreplace({mc.q: mc.p, mc.p: mc.q})
    assert wrong != step.after
    assert check_step(step.before, wrong, derivation.definitions, step.assumptions).equal is False


def test_independent_route_keeps_bound_and_differentiated_entries_symbolic():
    """Only the entry a derivative is taken by stays a symbol (the others are numbers at
    once), and a Subs's bound variable stays one until it is substituted."""
    import sympy as sp

    from workbench.checks.step_check import check_step
    from workbench.core.functions import Elementwise

    x, t = sp.symbols("x t")
    phi = sp.Function("phi")
    derivative = sp.Subs(sp.Derivative(phi(t), t), t, x**2)
    assert check_step(sp.Derivative(phi(x**2), x), 2 * x * derivative, {}).equal is True
    assert check_step(sp.Derivative(phi(x**2), x), 3 * x * derivative, {}).equal is False
    n = sp.Symbol("n", integer=True, positive=True)
    j, k = sp.symbols("j k", integer=True)
    z = sp.MatrixSymbol("z", n, 1)
    s = sp.MatrixSymbol("s", n, 1)
    # s = exp(z) entry by entry: ∂/∂s_j of Σ s_k² is 2 s_j, the other entries constants.
    definitions = {s: Elementwise("exp", z)}
    total = sp.Sum(s[k, 0] ** 2, (k, 0, n - 1))
    assert check_step(sp.Derivative(total, s[j, 0]), 2 * s[j, 0], definitions).equal is True
    assert check_step(sp.Derivative(total, s[j, 0]), 2 * z[j, 0], definitions).equal is False


def test_one_comparison_is_not_plural():
    """Plural agreement in the check report (a handout printed "1 computations")."""
    from workbench.checks.report import summarise

    one = {"what": "x", "passed": True, "method": "proved"}
    assert summarise("steps", [one]).detail == "1 comparison"
    assert summarise("steps", [one, one]).detail == "2 comparisons"


def test_a_result_no_small_case_covers_is_written_out_with_a_cases_substitutions():
    """Where every case is large (a benchmark's T = 32), ∂L/∂P is written out at small
    sizes still with a case's mask and every size its definitions use: without d, the
    sum in S = QKᵀ/√d stayed symbolic and SymPy's doit ran for minutes."""
    from derivations import attention_gradient as ag
    from workbench.checks.sympy_diff import result_settings

    derivation = ag.build()
    large = {ag.T: 32, ag.d: 32, ag.e: 32}
    cases = tuple(dataclasses.replace(case, sizes=(large,)) for case in derivation.cases)
    derivation = dataclasses.replace(derivation, cases=cases)
    settings = result_settings(derivation, derivation.result("∂L/∂P"))
    assert len(settings) == 3
    assert {case.name for case, _ in settings} == {case.name for case in cases}
    assert all(set(sizes) == {ag.T, ag.d, ag.e} for _, sizes in settings)
    assert all(max(sizes.values()) <= 6 for _, sizes in settings)
