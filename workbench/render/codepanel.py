"""From maths to code: the NumPy that was checked, and latexify-py's reading of it.

Each case of a derivation lambdifies its closed form to NumPy
(:func:`workbench.codegen.numeric.source`);
that source, renamed for a reader, is the listing. latexify-py can typeset plain Python
functions as formulas, but it reads *scalar* code: it silently drops keyword arguments
(``softmax(Z, axis=1)`` becomes ``softmax(Z)``), prints method calls such as ``x.dot(y)``
literally, and shows ``a*b`` as a product whatever the shapes. :func:`latexify_problem`
decides, from the source alone, whether its rendering can be trusted; the handout shows
the rendering only when it can.

Example:
    >>> latexify_problem("def f(t):\\n    return numpy.exp(t) / (1 + numpy.exp(t))\\n") is None
    True
    >>> latexify_problem("def g(z):\\n    return softmax(z, axis=0)\\n")
    'latexify-py would drop the argument axis=0 of softmax'
"""

from __future__ import annotations

import ast
import linecache
from dataclasses import dataclass

import numpy as np
import sympy as sp

from workbench.codegen import numeric
from workbench.core.derivation import Case

NUMPY_PREFIXES = ("numpy", "np", "math")


@dataclass(frozen=True)
class CodePanel:
    """One function of the "from maths to code" panel.

    Attributes:
        title: what the function computes, e.g. ``"gradient with respect to z"``.
        source: the generated NumPy source, as it was checked.
        latex: latexify-py's rendering (math mode), or None when it is not faithful.
        why_not: when ``latex`` is None, the reason in one sentence.
    """

    title: str
    source: str
    latex: str | None
    why_not: str | None


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

    # latexify reads source through inspect, which reads linecache: register it there.
    filename = f"<workbench-code-{abs(hash(source))}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    namespace: dict = {"numpy": np}
    exec(compile(source, filename, "exec"), namespace)
    return latexify.get_latex(namespace[name], reduce_assignments=True)


def rename(source: str, name: str) -> str:
    """The lambdified source with its generated name replaced by a reader's one."""
    return source.replace("def _lambdifygenerated(", f"def {name}(", 1).rstrip() + "\n"


def case_panels(case: Case) -> list[CodePanel]:
    """The forward function and every closed-form gradient of ``case``, at its test size."""
    args = list(case.samplers)
    sizes = case.numeric_size
    scalar_inputs = all(numeric.shape_of(a, sizes) == (1, 1) for a in args)
    rows, cols = (int(sp.sympify(d).subs(sizes)) for d in case.forward.shape)
    kind = "grad" if (rows, cols) == (1, 1) else "jacobian"
    functions = [("forward", "the function itself", case.forward)]
    functions += [
        (f"{kind}_{wrt.name}", f"the closed form of d/d{wrt.name}", gradient)
        for wrt, gradient in zip(case.wrt, case.gradients, strict=True)
    ]
    panels = []
    for name, title, expr in functions:
        source = rename(numeric.source(args, expr, sizes), name)
        problem = latexify_problem(source, scalar_inputs)
        latex = None
        if problem is None:
            try:
                latex = latexify_source(source, name)
            except ImportError:
                problem = "latexify-py is not installed"
            except Exception as exc:  # latexify refuses some code; then it is not shown
                problem = f"latexify-py could not read it ({type(exc).__name__})"
        panels.append(CodePanel(title, source, latex, problem))
    return panels
