"""Generated NumPy for a network written as named stages: one line per definition.

:func:`~workbench.codegen.numeric.compile_numpy_all` expands every name into the inputs before
printing, which for a whole transformer block (a dozen stages, each gradient mentioning
the one above) builds trees too large to print in reasonable time. Here each named
definition (``Q = H1 W_q``, ``dZ = (G W₂ᵀ) ∘ φ′(Z)``, …) is printed on its own with the
stable printer, in dependency order, so the generated function computes every
intermediate once and reads like the derivation's list of definitions. This is the fast
code, sizes fixed, batched if asked, that :mod:`workbench.gpt` trains with; the code the
checks run and a handout prints is the readable listing of the same stages
(:func:`workbench.codegen.listing.case_listings`).

Example:
    >>> import numpy as np, sympy as sp
    >>> x, y = sp.MatrixSymbol("x", 2, 1), sp.MatrixSymbol("y", 2, 1)
    >>> f = compile_stages([x], {y: 2 * x}, [y.T * y])
    >>> float(np.asarray(f(np.array([[1.0], [2.0]]))[0]).ravel()[0])
    20.0
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
import sympy as sp
from sympy.printing.precedence import PRECEDENCE

from workbench.codegen.numeric import HELPERS
from workbench.codegen.printer import StableNumPyPrinter, prepare
from workbench.core.functions import Elementwise


class _StagePrinter(StableNumPyPrinter):
    dtype_of = ""  # an argument's name: matrices of ones take its dtype (float32 stays so)
    # Batched: every array may carry leading batch axes (B×T×n for a T×n matrix), so a
    # transpose swaps the last two axes, sums and softmaxes count axes from the end, and a
    # broadcast keeps the batch axes.
    batched = False

    def _print_Transpose(self, expr):
        if not self.batched:
            return super()._print_Transpose(expr)
        return f"{self.parenthesize(expr.arg, PRECEDENCE['Pow'])}.mT"

    def _axis(self, axis) -> int:
        return int(axis) - 2 if self.batched else int(axis)

    def _broadcast(self, text: str, rows: int, cols: int) -> str:
        if self.batched:
            return f"spread({text}, {rows}, {cols})"
        return super()._broadcast(text, rows, cols)

    def _print_HadamardPower(self, expr):
        return f"({self._print(expr.base)})**({self._print(expr.exp)})"

    def _print_HadamardProduct(self, expr):
        # A ∘ φ′(Z) with A a new array (a product, a sum): the slope is multiplied into A
        # piece by piece (``times=``), with no array of the slope's own.
        if len(expr.args) == 2:
            for slope, other in (expr.args, reversed(expr.args)):
                if (
                    isinstance(slope, Elementwise)
                    and slope.name in FUSED_TIMES
                    and _is_new_array(other)
                ):
                    arg = self._print(slope.arg)
                    return f"{slope.name}({arg}, times={self._print(other)})"
        # a * b rather than numpy.multiply(a, b): NumPy reuses a temporary operand of an
        # operator in place (a large array with no other reference), never a call's.
        return "(" + " * ".join(self._factor(a) for a in expr.args) + ")"

    def _print_OneMatrix(self, expr):
        rows, cols = (int(d) for d in expr.shape)
        return f"numpy.ones(({rows}, {cols}), dtype={self.dtype_of}.dtype)"


FUSED_TIMES = frozenset({"gelu", "gelu_prime"})  # helpers that take ``times=``


def _is_new_array(expr) -> bool:
    """Whether the printed ``expr`` evaluates to an array that nothing else holds: a
    product of two or more matrices, or a sum (never a name, a view or a broadcast)."""
    if isinstance(expr, sp.MatMul):
        return len(expr.as_coeff_matrices()[1]) >= 2
    return isinstance(expr, sp.MatAdd)


def spread(array: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """A broadcast view of ``array`` as ``rows``×``cols`` matrices, batch axes kept."""
    return np.broadcast_to(array, (*array.shape[:-2], rows, cols))


def batch_total(array: np.ndarray) -> np.ndarray:
    """The sum of a batch of matrices (leading axes summed; a matrix is itself)."""
    return array.reshape(-1, *array.shape[-2:]).sum(axis=0)


def batch_product(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """Σ over the batch of firstᵀ @ second, as one product of the batch stacked by rows:
    a weight's gradient (H₂ᵀ dZ) without a product per sequence."""
    return first.reshape(-1, first.shape[-1]).T @ second.reshape(-1, second.shape[-1])


BATCH_HELPERS = {"spread": spread, "batch_total": batch_total, "batch_product": batch_product}


def stage_order(definitions: Mapping, wanted: Sequence) -> list:
    """The defined names ``wanted`` needs, each after the names its definition mentions."""
    out, seen = [], set()

    def visit(name):
        if name in seen or name not in definitions:
            return
        seen.add(name)
        for used in sorted(definitions[name].atoms(sp.MatrixSymbol), key=str):
            visit(used)
        out.append(name)

    for expr in wanted:
        for used in sorted(expr.atoms(sp.MatrixSymbol), key=str):
            visit(used)
    return out


# A function and its slope at the same point, computed by one helper from shared work:
# GELU's value and slope share x² and the tanh.
PAIRED = {"gelu": ("gelu_prime", "gelu_with_slope")}


def _paired_stages(definitions: Mapping, order: Sequence) -> dict:
    """{stage f(A): stage f′(A)} for each pair of stages :data:`PAIRED` computes at once."""
    by_value = {
        (definitions[s].name, definitions[s].arg): s
        for s in order
        if isinstance(definitions[s], Elementwise)
    }
    return {
        stage: by_value[(slope, arg)]
        for (name, arg), stage in by_value.items()
        if name in PAIRED and (slope := PAIRED[name][0], arg) in by_value
    }


def _numbers(expr):
    """√2 and friends as float literals: numpy.sqrt(2) is a float64 scalar, which would
    promote float32 arrays (NumPy 2 treats NumPy scalars as typed, Python floats not)."""
    return expr.replace(
        lambda x: isinstance(x, sp.Pow) and x.is_number and not x.is_Rational,
        lambda x: sp.Float(x.evalf(17), 17),
    )


def stages_source(
    args: Sequence[sp.MatrixSymbol],
    definitions: Mapping,
    outputs: Sequence,
    sizes: Mapping[sp.Symbol, int] | None = None,
    name: str = "generated",
    batched: bool = False,
    totals: Sequence[bool] = (),
) -> str:
    """The source of a function of ``args`` returning ``outputs``, one line per stage.

    ``batched``: the function also takes arrays with leading batch axes (B×T×n for a T×n
    argument) and returns each output with them; an argument without them (a weight) is
    shared by the batch, so a weight's gradient comes back per example, to be summed.

    An argument that ``definitions`` defines (a forward pass's saved ``Z``) is taken as
    given: its stage, and the stages only it needs, are not computed again.

    ``totals`` (batched only): for each output, whether it comes back summed over the
    batch (a weight's gradient) rather than per example."""
    sizes = dict(sizes or {})
    definitions = {k: v for k, v in definitions.items() if k not in set(args)}
    printer = _StagePrinter(
        {"fully_qualified_modules": True, "inline": True, "helpers": frozenset(HELPERS)}
    )
    printer.dtype_of = str(args[0].name)
    printer.batched = batched
    lines = [f"def {name}({', '.join(str(a.name) for a in args)}):"]
    order = stage_order(definitions, outputs)
    partners = _paired_stages(definitions, order)
    pair_of = {**partners, **{slope: value for value, slope in partners.items()}}
    done: set = set()
    for stage in order:
        if stage in done:
            continue  # computed with its partner, at the first of the two
        if stage in pair_of:  # f(A) and f′(A) together, where the first is needed
            value = stage if stage in partners else pair_of[stage]
            expr = prepare([_numbers(sp.sympify(definitions[value]).subs(sizes))])[0]
            helper = PAIRED[expr.name][1]
            lines.append(
                f"    {value.name}, {partners[value].name} = {helper}({printer.doprint(expr.arg)})"
            )
            done |= {value, partners[value]}
            continue
        expr = prepare([_numbers(sp.sympify(definitions[stage]).subs(sizes))])[0]
        lines.append(f"    {stage.name} = {printer.doprint(expr)}")
    results = []
    for n, e in enumerate(outputs):
        expr = prepare([_numbers(sp.sympify(e).subs(sizes))])[0]
        results.append(
            _total(printer, expr) if n < len(totals) and totals[n] else printer.doprint(expr)
        )
    lines.append(f"    return ({', '.join(results)},)")
    return "\n".join(lines) + "\n"


def _total(printer, expr) -> str:
    """``expr`` summed over the batch; Aᵀ B as one stacked product."""
    if isinstance(expr, sp.MatMul) and len(expr.args) == 2:
        first, second = expr.args
        if isinstance(first, sp.Transpose):
            return f"batch_product({printer.doprint(first.arg)}, {printer.doprint(second)})"
    return f"batch_total({printer.doprint(expr)})"


def compile_stages(
    args: Sequence[sp.MatrixSymbol],
    definitions: Mapping,
    outputs: Sequence,
    sizes: Mapping[sp.Symbol, int] | None = None,
    batched: bool = False,
    totals: Sequence[bool] = (),
) -> Callable:
    """Compile :func:`stages_source`; the function keeps its source as ``.source``."""
    source = stages_source(args, definitions, outputs, sizes, batched=batched, totals=totals)
    namespace: dict = {"numpy": np, **BATCH_HELPERS, **HELPERS}
    exec(compile(source, "<generated>", "exec"), namespace)  # our own printed source
    function = namespace["generated"]
    function.source = source
    return function
