"""From maths to code: the NumPy that was checked, and latexify-py's reading of it.

Each case of a derivation is written as readable NumPy by
:func:`workbench.codegen.listing.case_listings` (a forward function and one function
for all its gradients); finite differences and the complex step run the functions
compiled from that text, and their report keeps the text
(:func:`workbench.checks.runner.case_functions`). The panel prints the report's text,
so what is printed is what was checked. latexify-py typesets plain Python functions as
formulas, but it reads *scalar* code: it silently drops keyword arguments
(``softmax(Z, axis=1)`` becomes ``softmax(Z)``), prints method calls such as
``x.dot(y)`` literally, and shows ``a*b`` as a product whatever the shapes.
:func:`latexify_problem` decides, from the source alone, whether its rendering can be
trusted; the handout shows the rendering only when it can.

Example:
    >>> latexify_problem("def f(t):\\n    return numpy.exp(t) / (1 + numpy.exp(t))\\n") is None
    True
    >>> latexify_problem("def g(z):\\n    return softmax(z, axis=0)\\n")
    'latexify-py would drop the argument axis=0 of softmax'
"""

from __future__ import annotations

import ast
from collections.abc import Sequence
from dataclasses import dataclass

from workbench.codegen import listing
from workbench.core.derivation import Case
from workbench.render.latex import expr_to_latex

NUMPY_PREFIXES = ("numpy", "np", "math")


@dataclass(frozen=True)
class CodePanel:
    """One function of the "from maths to code" panel.

    Attributes:
        title: what the function computes, e.g. ``"the gradients dQ, dK, dV"``.
        source: the generated NumPy source, as it was checked.
        latex: latexify-py's rendering (math mode), or None when it is not faithful.
        why_not: when ``latex`` is None, the reason in one sentence.
        checked: whether ``source`` is the text the finite-difference check ran.
    """

    title: str
    source: str
    latex: str | None
    why_not: str | None
    checked: bool = True


def latexify_problem(source: str, scalar_inputs: bool = True) -> str | None:
    """Why latexify-py would misrender the function in ``source``; None if it would not.

    Args:
        source: the Python source of one function.
        scalar_inputs: whether every argument is a scalar; latexify-py writes ``a*b``
            as a product, which misleads when ``a`` and ``b`` are arrays.
    """
    from latexify.codegen.expression_rules import BUILTIN_FUNCS

    nodes = list(ast.walk(ast.parse(source)))
    calls = [n for n in nodes if isinstance(n, ast.Call)]
    # Most telling first: a dropped argument changes the meaning without a trace.
    for call in calls:
        for keyword in call.keywords:
            value = ast.unparse(keyword.value)
            return f"latexify-py would drop the argument {keyword.arg}={value} of {_name(call)}"
    for node in nodes:
        if isinstance(node, ast.Attribute) and not _is_module_function(node):
            return f"latexify-py would print {ast.unparse(node)} literally"
    for call in calls:
        if _name(call) not in BUILTIN_FUNCS:
            return f"latexify-py does not know {ast.unparse(call.func)}"
    for node in nodes:
        if isinstance(node, ast.Subscript | ast.List | ast.Tuple | ast.Compare):
            return f"latexify-py does not render {ast.unparse(node)} faithfully"
    if not scalar_inputs:
        return "its inputs are matrices, and latexify-py reads code as scalar algebra"
    return None


def _name(call: ast.Call) -> str:
    func = call.func
    if isinstance(func, ast.Attribute) and _is_module_function(func):
        return func.attr
    return ast.unparse(func)


def _is_module_function(node: ast.Attribute) -> bool:
    """``numpy.exp``: a module's function, which latexify-py trims to ``exp``."""
    return isinstance(node.value, ast.Name) and node.value.id in NUMPY_PREFIXES


def latexify_source(source: str, name: str) -> str:
    """latexify-py's LaTeX for the function ``name`` defined in ``source``."""
    import latexify

    return latexify.get_latex(listing.compile_source(source, name), reduce_assignments=True)


def function_name(source: str) -> str:
    """The name of the (first) function ``source`` defines."""
    node = next(n for n in ast.parse(source).body if isinstance(n, ast.FunctionDef))
    return node.name


def case_panels(case: Case, checked: Sequence[str] | None = None) -> list[CodePanel]:
    """The forward function and the gradients of ``case``.

    Args:
        checked: the texts the finite-difference check ran (its report item's ``code``);
            None when it did not run, and then the code is generated here and marked
            as not checked.
    """
    sources = list(checked) if checked else [c.source for c in listing.case_listings(case)]
    scalar_inputs = all(tuple(a.shape) == (1, 1) for a in case.samplers)
    panels = []
    for number, source in enumerate(sources):
        name = function_name(source)
        if number == 0:
            title = "the function itself"
        else:
            what = "Jacobian" if name.startswith("jacobian") else "gradient"
            plural = "s" if len(case.wrt) > 1 else ""
            wrt = ", ".join(f"${expr_to_latex(w)}$" for w in case.wrt)
            title = f"the closed-form {what}{plural} with respect to {wrt}"
        problem = latexify_problem(source, scalar_inputs)
        latex = None
        if problem is None:
            try:
                latex = latexify_source(source, name)
            except ImportError:
                problem = "latexify-py is not installed"
            except Exception as exc:  # latexify refuses some code; then it is not shown
                problem = f"latexify-py could not read it ({type(exc).__name__})"
        panels.append(CodePanel(title, source, latex, problem, checked=bool(checked)))
    return panels
