"""Readable generated code: sizes read from the inputs, the derivation's names, and the
text printed in a handout is the text the finite-difference check ran."""

from __future__ import annotations

import ast
import dataclasses
import inspect
import re

import numpy as np
import pytest
import sympy as sp

from workbench.checks import runner
from workbench.codegen import listing, numeric
from workbench.core import registry
from workbench.core.algebra import substitute

SLOW = {"layernorm-backward"}  # its code takes over 2 s to generate
CASES = [
    pytest.param(
        slug,
        index,
        id=f"{slug}[{case.name}]",
        marks=[pytest.mark.slow] if slug in SLOW else [],
    )
    for slug in registry.slugs()
    for index, case in enumerate(registry.get(slug).cases)
    # A composed network's listing is written stage by stage (listing.case_listings):
    # tested on its own below.
    if case.stages is None
]
GENERATED_NAME = re.compile(r"\bx\d+\b|_lambdifygenerated|\bnumpy\.")


def _case(slug: str, index: int):
    return registry.get(slug).cases[index]


def _bigger(sizes):
    """Every size one larger: code with a size typed in gives the wrong answer here."""
    return {k: v + 1 for k, v in sizes.items()}


def assert_size_free(case, code: listing.Listing, expr, sizes) -> None:
    """``code`` computes ``expr`` at ``sizes`` (not only at the size it was checked at)."""
    fixed = {k: v for k, v in case.substitutions.items() if k not in case.samplers}
    inputs = numeric.sample_inputs(case.samplers, sizes, seed=3)
    values = [inputs[a] for a in case.samplers]
    expected = numeric.compile_numpy(list(case.samplers), substitute(expr, fixed), sizes)(*values)
    got = code.function(*values)
    got = got if isinstance(got, tuple) else (got,)
    expected = expected if isinstance(expected, tuple) else (expected,)
    for g, e in zip(got, expected, strict=True):
        e = np.asarray(e, dtype=float)
        assert np.allclose(np.broadcast_to(np.asarray(g), e.shape), e, rtol=1e-10, atol=1e-12)
        assert np.asarray(g).size == e.size, "a result of the wrong shape"


@pytest.mark.parametrize(("slug", "index"), CASES)
def test_generated_code_has_no_size_typed_in_and_reads_as_numpy(slug, index):
    """At sizes one larger than the checked ones the code still computes the closed form,
    so no size is typed in (failed before: attention's 1/√d printed as (1/2), a batch
    mean as (1/5), broadcast_to(…, (5, 5))). See the planted mistake below."""
    case = _case(slug, index)
    forward, gradients = listing.case_listings(case)
    sizes = _bigger(case.numeric_size)
    assert_size_free(case, forward, case.forward, sizes)
    exprs = tuple(case.gradients)
    fixed = {k: v for k, v in case.substitutions.items() if k not in case.samplers}
    inputs = numeric.sample_inputs(case.samplers, sizes, seed=3)
    values = [inputs[a] for a in case.samplers]
    want = numeric.compile_numpy_all(
        list(case.samplers), [substitute(e, fixed) for e in exprs], sizes
    )(*values)
    got = gradients.function(*values)
    got = got if isinstance(got, tuple) else (got,)
    for g, e in zip(got, want, strict=True):
        assert np.allclose(np.asarray(g), np.asarray(e), rtol=1e-10, atol=1e-12)
    assert {name for name, _ in case.names} <= assigned(forward) | assigned(gradients)
    for code in (forward, gradients):
        assert not GENERATED_NAME.search(code.source), code.source
        assert "exp(-" not in code.source, code.source  # 1/√u, not exp(−log(u)/2)
        assert inspect.getsource(code.function) == code.source  # compiled from this text


def assigned(code: listing.Listing) -> set[str]:
    """The names a listing assigns."""
    tree = ast.parse(code.source)
    return {t.id for n in ast.walk(tree) if isinstance(n, ast.Assign) for t in n.targets
            if isinstance(t, ast.Name)}  # fmt: skip


def test_a_name_the_closed_form_does_not_contain_is_not_printed():
    """The planted mistake for the check above: a name whose expression the closed form
    does not hold (dS = P ∘ S, a slip for P ∘ dP − …) is not assigned, so the test
    fails."""
    case = registry.get("attention-gradient").cases[0]
    names = dict(case.names)
    forgot = sp.HadamardProduct(names["P"], names["S"])
    wrong = dataclasses.replace(case, names=(*case.names[:3], ("dS", forgot)))
    _, gradients = listing.case_listings(wrong)
    assert "dS" not in assigned(gradients) and "dS" in assigned(listing.case_listings(case)[1])


def test_a_typed_in_size_is_caught():
    """The planted mistake: the batch mean written with B = 5 typed in."""
    case = registry.get("cross-entropy-gradient").cases[1]
    _, gradient = listing.case_listings(case)
    planted = gradient.source.replace("/ B", "/ 5").replace("    B = Z.shape[0]\n", "")
    assert planted != gradient.source
    wrong = dataclasses.replace(gradient, function=listing.compile_source(planted, "gradient"))
    assert_size_free(case, gradient, case.gradients[0], _bigger(case.numeric_size))
    with pytest.raises(AssertionError):
        assert_size_free(case, wrong, case.gradients[0], _bigger(case.numeric_size))


def test_attention_reads_as_the_derivation_writes_it():
    """Failed before: x0, x1, (1/2) for 1/√d and (5, 5) for T × T."""
    _, gradients = listing.case_listings(registry.get("attention-gradient").cases[0])
    assert gradients.source == (
        "def gradients(Q, K, V, G):\n"
        "    d = Q.shape[1]\n"
        "    S = Q @ K.T / np.sqrt(d)\n"
        "    P = softmax(S, axis=1)\n"
        "    dP = G @ V.T\n"
        "    dS = P * (dP - np.sum(P * dP, axis=1, keepdims=True))\n"
        "    dQ = dS @ K / np.sqrt(d)\n"
        "    dK = dS.T @ Q / np.sqrt(d)\n"
        "    dV = P.T @ G\n"
        "    return dQ, dK, dV\n"
    )


def test_backprop_and_layer_norm_use_the_names_of_the_mathematics():
    """δ₂ and δ₁ by name; layer norm's 1/√(σ² + ε) as a square root (failed before:
    exp(-1/2 log(…)) and broadcast_to(…, (6, 1)))."""
    _, backprop = listing.case_listings(registry.get("two-layer-backprop").cases[0])
    assert "    delta1 = (W2.T @ delta2) * (1.0 - h ** 2)\n" in backprop.source
    assert "    dW1 = delta1 @ x.T\n" in backprop.source
    _, norm = listing.case_listings(registry.get("layernorm-backward").cases[0])
    assert "    inv_std = 1 / np.sqrt(var + 1e-05)\n" in norm.source
    assert "broadcast_to" not in norm.source and "exp" not in norm.source


def test_a_name_of_the_case_is_found_inside_a_flattened_product():
    """SymPy flattens (cA)B and (a ∘ b) ∘ c; a named run of factors is still found."""
    n = sp.Symbol("n", integer=True, positive=True)
    A, B, x = sp.MatrixSymbol("A", n, n), sp.MatrixSymbol("B", n, n), sp.MatrixSymbol("x", n, 1)
    code = listing.listing(
        "f",
        [A, B, x],
        [("y", (A * B / 2) * x), ("z", sp.HadamardProduct(x, A * x, B * x))],
        names=(("C", A * B / 2), ("u", sp.HadamardProduct(x, A * x))),
    )
    assert "    C = A @ B / 2\n" in code.source and "    y = C @ x\n" in code.source
    assert "    z = (B @ x) * u\n" in code.source


def test_the_finite_difference_check_runs_the_printed_text(monkeypatch):
    """The report keeps the text the check ran; a planted edit of that text (a sign)
    makes the check fail, so it is the text that is evaluated, not another function."""
    derivation = registry.get("softmax-jacobian")
    report = runner._check_numeric(derivation, "central", seed=0)
    (item,) = report.items
    forward, jacobian = listing.case_listings(derivation.cases[0])
    assert item["code"] == [forward.source, jacobian.source] and report.passed

    planted = jacobian.source.replace("- s @ s.T", "+ s @ s.T")
    assert planted != jacobian.source
    wrong = dataclasses.replace(jacobian, source=planted, function=listing.compile_source(
        planted, "jacobian"
    ))  # fmt: skip
    monkeypatch.setattr(listing, "case_listings", lambda case: (forward, wrong))
    failed = runner._check_numeric(derivation, "central", seed=0)
    assert not failed.passed and failed.items[0]["code"][1] == planted


def test_scalar_code_reads_as_a_formula():
    """A 1×1 input is a number: h, not h[0, 0] inside numpy.array([[…]])."""
    forward, gradient = listing.case_listings(registry.get("finite-difference-error").cases[0])
    assert forward.source == "def forward(h):\n    return h ** 2 / 2 + 1 / (50 * h)\n"
    assert gradient.source == "def gradient(h):\n    return h - 1 / (50 * h ** 2)\n"
    tree = ast.parse(gradient.source)
    assert not any(isinstance(n, ast.Subscript) for n in ast.walk(tree))


def test_a_networks_code_is_one_readable_line_per_stage_with_no_size_typed_in():
    """The transformer block's code, which its checks run and its handout prints, is
    written stage by stage like any listing: sizes read from the inputs, 1/√(σ² + ε)
    as such, a line per stage under the stage's name. It printed ``def generated``,
    ``broadcast_to(mu1, (6, 8))``, ``(1/8)*`` for 1/n and ``(1/2)*Q @ K.T`` for 1/√d.
    At sizes one larger than the checked ones it computes what the stage-by-stage code
    generated at those sizes computes; planted, that code generated at the checked
    sizes cannot run there."""
    from workbench.codegen.staged import compile_stages

    (case,) = registry.get("transformer-block-backward").cases
    forward, gradients = listing.case_listings(case)
    for code in (forward, gradients):
        assert not GENERATED_NAME.search(code.source), code.source
        assert "exp(-" not in code.source and "(1/" not in code.source, code.source
        assert inspect.getsource(code.function) == code.source
    stages = case.stages
    names = "mu1 sigma_sq_1 xhat1 H1 Q K V S P O X2 H2 Z U dZ dH2 dX2 dO dP dS dQ dK dV dH1"
    assert set(names.split()) <= assigned(gradients)  # each stage under its own name
    assert gradients.source.startswith("def gradients(")
    fixed = {k: v for k, v in case.substitutions.items() if k not in case.samplers}
    definitions = {k: substitute(v, fixed) for k, v in stages.definitions.items()}
    outputs = [substitute(g, fixed) for g in stages.gradients]
    args = list(case.samplers)
    sizes = _bigger(case.numeric_size)
    inputs = numeric.sample_inputs(case.samplers, sizes, seed=3)
    values = [inputs[a] for a in args]
    want = compile_stages(args, definitions, outputs, sizes)(*values)
    for g, e in zip(gradients.function(*values), want, strict=True):
        assert np.allclose(g, e, rtol=1e-10, atol=1e-12)
    typed_in = compile_stages(args, definitions, outputs, case.numeric_size)
    with pytest.raises(ValueError):
        typed_in(*values)


@pytest.mark.parametrize(("slug", "index"), [("pca-variance", 0), ("least-squares", 1)])
def test_a_multiplier_is_an_argument_of_the_code_not_a_number_typed_in(slug, index):
    """PCA's and ridge's λ = 1/2 was typed into their cases, so the code read ``+ 1 / 2 -
    w.T @ w / 2`` and never named λ. Now λ is ``lam=0.5``: called with λ = 2 the gradient
    is the formula's at λ = 2 (code with ½ typed in ignores it), and −λ(wᵀw − 1) is
    subtracted last, as the formula is written."""
    case = _case(slug, index)
    forward, gradients = listing.case_listings(case)
    for code in (forward, gradients):
        assert "lam=0.5" in code.source and "1 / 2" not in code.source, code.source
    inputs = numeric.sample_inputs(case.samplers, case.numeric_size, seed=3)
    values = [inputs[a] for a in case.samplers]
    fixed = {k: v for k, v in case.substitutions.items() if k not in case.samplers}
    lam = next(iter(fixed))
    exact = substitute(case.gradients[0], {lam: 2})
    want = numeric.compile_numpy(list(case.samplers), exact, case.numeric_size)
    np.testing.assert_allclose(gradients.function(*values, lam=2.0), want(*values), rtol=1e-12)
    if slug == "pca-variance":
        assert forward.source.rstrip().endswith("- lam * (w.T @ w - 1)")
