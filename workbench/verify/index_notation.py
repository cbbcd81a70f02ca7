r"""Index notation at the declared sizes: sums written out, free indices made a vector.

LaTeX input (:mod:`workbench.verify.latex_input`) writes what learners write —
``\sum_{k=1}^{n} y_k \log s_k``, ``s_j - y_j``, ``\delta_{ij}``, ``W_{ij}`` — as the nodes
:class:`~workbench.verify.parsing.Subscript`, :class:`~workbench.verify.parsing.Sum`,
:class:`~workbench.verify.parsing.Kronecker` and :class:`~workbench.verify.parsing.Derivative`.
This module gives them their value at the concrete sizes of the scope, as
:mod:`workbench.verify.interpret` does for the rest of the language:

* a sum is written out term by term (at most :data:`MAX_TERMS` terms);
* an index counts from 0 when its sum starts at 0 and from 1 otherwise, so
  ``\sum_{k=0}^{n-1}`` and ``\sum_{k=1}^{n}`` both cover the whole range; a literal
  subscript counts from 1 (``x_1`` is the plain language's ``x[0]``);
* a name in a sum's upper limit (the n of ``\sum_{k=1}^{n}``) is a size: the length of
  what the index indexes, and it has that value wherever else it is written
  (``\frac{1}{n}``);
* an index that no sum binds is free: the expression is the vector over its range (the
  matrix, rows by the first in alphabetical order, for two), so ``s_j - y_j`` is ``s - y``.

Example:
    >>> from workbench.verify.interpret import Scope, declare
    >>> from workbench.verify.latex_input import parse_latex
    >>> scope = Scope(declare({"x": (3, 1)}))
    >>> build_top(parse_latex(r"\frac{1}{n} \sum_{i=1}^{n} x_i"), scope)
    x[0]/3 + x[1]/3 + x[2]/3
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import sympy as sp

from workbench.errors import ParseError
from workbench.verify.claim_format import unparse
from workbench.verify.interpret import (
    CONSTANTS,
    MissingShape,
    Scope,
    Value,
    build,
    describe,
    extremum,
    is_matrix,
    register,
    shape,
)
from workbench.verify.parsing import (
    Derivative,
    Index,
    Kronecker,
    Name,
    Node,
    Number,
    Subscript,
    Sum,
    children,
    walk,
)

MAX_TERMS = 1000  # terms of one written-out sum or product


def build_top(node: Node, scope: Scope) -> Value:
    """The value of a whole expression: sizes named, free indices made a vector or matrix."""
    sizes = _sizes(node, scope)
    scope = replace(scope, bound={**(scope.bound or {}), **sizes})
    free = sorted(_free_indices(node, scope))
    if not free:
        return build(node, scope)
    if len(free) > 2:
        raise ParseError(
            f"free indices {', '.join(free)}: at most two (a vector or a matrix) can be left "
            "free; bind the others with a sum",
            node.column,
        )
    extents = []
    for name in free:
        extent = _extent(name, node, scope)
        if extent is None:
            raise ParseError(
                f"the free index {name} indexes nothing with a declared shape, so its range "
                "is not known",
                node.column,
            )
        extents.append(extent)
    rows, cols = extents if len(extents) == 2 else (extents[0], 1)
    # A free index's value: the position from 0 in the plain language's x[j], from 1 in
    # LaTeX's x_j (mathematics counts from 1; both then mean the same entry).
    first = 0 if any(isinstance(n, Index) for n in walk(node)) else 1

    def entry(i: int, j: int) -> Value:
        positions = (i, j)[: len(free)]
        bound = {name: (p + first, first) for name, p in zip(free, positions, strict=True)}
        value = build(node, replace(scope, bound={**(scope.bound or {}), **bound}))
        if is_matrix(value):
            raise ParseError(
                f"with the free index {', '.join(free)} each entry must be a scalar, but this "
                f"one is {describe(shape(value))}",
                node.column,
            )
        return value

    return sp.ImmutableMatrix(rows, cols, lambda i, j: entry(int(i), int(j)))


# ---------------------------------------------------------------- ranges
def _sizes(node: Node, scope: Scope) -> dict[str, tuple[int, int]]:
    """Size names → (size, 1), from every sum whose upper limit names a size."""
    sizes: dict[str, tuple[int, int]] = {}
    for sub in walk(node):
        if not isinstance(sub, Sum) or sub.upper is None:
            continue
        unknown = [
            n.name
            for n in walk(sub.upper)
            if isinstance(n, Name)
            and n.name not in scope.values
            and n.name not in CONSTANTS
            and n.name not in (scope.bound or {})
        ]
        names = list(dict.fromkeys(unknown))
        if not names:
            continue
        if len(names) > 1:
            raise ParseError(
                f"the upper limit of the sum over {sub.index} names {' and '.join(names)}: "
                "write it with one size (n or n - 1)",
                sub.column,
            )
        extent = _extent(sub.index, sub.body, scope)
        if extent is None:
            raise ParseError(
                f"the sum over {sub.index} runs to {unparse(sub.upper)}, but nothing "
                f"{sub.index} indexes has a declared shape: declare it (--shape NAME=N)",
                sub.column,
            )
        (name,) = names
        if name in sizes and sizes[name][0] != extent:
            raise ParseError(
                f"the size {name} is {sizes[name][0]} in one sum and {extent} in another",
                sub.column,
            )
        sizes[name] = (extent, 1)
    return sizes


def _extent(index: str, node: Node, scope: Scope, seen: frozenset[str] = frozenset()) -> int | None:
    """The length of what ``index`` indexes in ``node``; None if nothing declared. An index
    met only in δ (``\\delta_{ij}``) has the range of its partner."""
    found: set[int] = set()
    partners: list[str] = []
    for sub in walk(node):
        if isinstance(sub, Kronecker):
            pair = [sub.first, sub.second]
            names = [n.name if isinstance(n, Name) else None for n in pair]
            if index in names:
                other = names[1 - names.index(index)]
                if other is not None and other != index and other not in seen:
                    partners.append(other)
        if isinstance(sub, Index):
            found |= _index_extents(index, sub, scope)
        if not isinstance(sub, Subscript):
            continue
        for position, idx in enumerate(sub.indices):
            if not (isinstance(idx, Name) and idx.name == index):
                continue
            matrix = _entry_of(sub, scope)
            if matrix is None:
                continue
            rows, cols = matrix.shape
            if len(sub.indices) == 1 and 1 in (rows, cols):
                found.add(rows * cols)
            elif len(sub.indices) == 2 and 1 not in (rows, cols):
                found.add((rows, cols)[position])
    if not found:
        for other in partners:
            extent = _extent(other, node, scope, seen | {index})
            if extent is not None:
                found.add(extent)
                break
    if len(found) > 1:
        raise ParseError(
            f"{index} indexes things of different lengths ({', '.join(map(str, sorted(found)))})",
            node.column,
        )
    return found.pop() if found else None


def _index_extents(index: str, node: Index, scope: Scope) -> set[int]:
    """The lengths ``index`` runs over where it is written alone in ``x[k]``, ``S[k, l]``."""
    written = [
        p for p, idx in enumerate(node.indices) if isinstance(idx, Name) and idx.name == index
    ]
    if not written:
        return set()
    matrix = _value_of(node.operand, scope)
    if matrix is None:
        return set()
    rows, cols = matrix.shape
    if len(node.indices) == 1:
        return {rows * cols if 1 in (rows, cols) else rows}
    return {(rows, cols)[p] for p in written}


def _value_of(node: Node, scope: Scope) -> Value | None:
    """The declared vector or matrix ``node`` is; None if it is not one."""
    try:
        value = build(node, scope)
    except ParseError:
        return None
    return value if is_matrix(value) else None


def _free_indices(node: Node, scope: Scope) -> set[str]:
    """Index names no sum binds, used on an entry of a declared vector or matrix."""
    bound = scope.bound or {}
    free: set[str] = set()
    stack: list[tuple[Node, frozenset[str]]] = [(node, frozenset())]
    while stack:
        current, inside = stack.pop()
        if isinstance(current, Sum):
            for limit in (current.lower, current.upper):
                if limit is not None:
                    stack.append((limit, inside))
            stack.append((current.body, inside | {current.index}))
            continue
        if isinstance(current, Subscript) and _entry_of(current, scope) is not None:
            free |= _index_names(current.indices, inside, bound, scope)
        elif isinstance(current, Index):
            written = [i for i in current.indices if not isinstance(i, int | None)]
            if written and _value_of(current.operand, scope) is not None:
                free |= _index_names(written, inside, bound, scope)
        elif isinstance(current, Kronecker):
            free |= _index_names((current.first, current.second), inside, bound, scope)
        stack.extend((child, inside) for child in children(current))
    return free


def _index_names(indices, inside, bound, scope: Scope) -> set[str]:
    return {
        n.name
        for idx in indices
        for n in walk(idx)
        if isinstance(n, Name)
        and n.name not in inside
        and n.name not in bound
        and n.name not in scope.values
        and n.name not in CONSTANTS
    }


def _entry_of(node: Subscript, scope: Scope) -> Value | None:
    """The declared vector or matrix ``node`` takes an entry of; None if it is a name."""
    base = node.base
    if isinstance(base, Name):
        if any(name in scope.values for name in _spelled(base.name, node.text)):
            return None
        value = scope.values.get(base.name)
        return value if is_matrix(value) else None
    try:
        value = build(base, scope)
    except ParseError:
        return None
    return value if is_matrix(value) else None


def _spelled(base: str, text: str) -> tuple[str, str]:
    """The names a subscripted name may have been declared as: W_{2} is W2 or W_2."""
    return base + text, f"{base}_{text}"


# ---------------------------------------------------------------- values
def _subscript(node: Subscript, scope: Scope) -> Value:
    base = node.base
    if isinstance(base, Name):
        for name in _spelled(base.name, node.text):
            if name in scope.values:
                return scope.values[name]
        if base.name in scope.functions and base.name not in scope.values:
            if len(node.indices) != 1:  # g_k: a sequence's value at step k
                raise ParseError(f"{unparse(node)}: a sequence has one step index", node.column)
            return scope.functions[base.name](build(node.indices[0], scope))
        value = scope.values.get(base.name)
        if value is None or not is_matrix(value):
            indexed = [n.name for n in _names(node.indices) if _is_index(n.name, scope)]
            if indexed and value is None:
                raise MissingShape(
                    f"{base.name}_{node.text}: {base.name} is indexed by {indexed[0]} but has "
                    f"no declared shape: add --shape {base.name}=N (N a size)",
                    node.column,
                )
            if indexed:
                raise ParseError(f"{base.name} is a scalar: it has no entries", node.column)
            return sp.Symbol(f"{base.name}_{node.text}", real=True)
    else:
        value = build(base, scope)
        if not is_matrix(value):
            raise ParseError(f"a subscript of a scalar ({unparse(node)})", node.column)
    return _entry(value, node, scope)


def _names(nodes) -> list[Name]:
    return [n for idx in nodes for n in walk(idx) if isinstance(n, Name)]


def _is_index(name: str, scope: Scope) -> bool:
    return name in (scope.bound or {})


def _entry(matrix: Value, node: Subscript, scope: Scope) -> Value:
    rows, cols = matrix.shape
    indices = node.indices
    what = unparse(node)
    if 1 in (rows, cols):
        if len(indices) == 2 and node.text.isdigit():  # x_{10}: one index of two digits
            indices = (Number(node.text, node.column),)
        if len(indices) != 1:
            raise ParseError(f"{what}: a vector's entry has one index", node.column)
        position = _position(indices[0], scope, node)
        _in_range(what, position, rows * cols, node)
        return list(matrix)[position]
    if len(indices) != 2:
        raise ParseError(
            f"{what}: an entry of the {describe(matrix.shape)} matrix has two indices, "
            "e.g. W_{ij} or W_{1,2}",
            node.column,
        )
    row, col = (_position(idx, scope, node) for idx in indices)
    _in_range(what, row, rows, node)
    _in_range(what, col, cols, node)
    return matrix[row, col]


def _in_range(what: str, position: int, extent: int, node: Node) -> None:
    if not 0 <= position < extent:
        raise ParseError(
            f"{what} is out of range: the entry at position {position + 1} of {extent}",
            node.column,
        )


def _position(index: Node, scope: Scope, node: Node) -> int:
    """0-based position of one index: a literal counts from 1; a bound index from the
    first value of its sum."""
    if isinstance(index, Number):
        if not index.text.isdigit():
            raise ParseError(f"an index is a whole number, not {index.text}", index.column)
        if int(index.text) == 0:
            raise ParseError(
                f"{unparse(node)}: a written subscript counts from 1, as in mathematics (the "
                "first entry is _1; the plain language's x[0])",
                index.column,
            )
        return int(index.text) - 1
    value = build(index, scope)
    if not getattr(value, "is_Integer", False):
        raise ParseError(
            f"the index {unparse(index)} is not a whole number (is it bound by a sum?)",
            index.column,
        )
    bound = scope.bound or {}
    bases = [bound[n.name][1] for n in _names((index,)) if n.name in bound]
    return int(value) - (bases[0] if bases else 1)


def _sum(node: Sum, scope: Scope) -> Value:
    bound = scope.bound or {}
    if node.lower is None or node.upper is None:
        extent = _extent(node.index, node.body, scope)
        if extent is None:
            raise ParseError(
                f"the {node.op} over {node.index} has no limits and nothing it indexes has a "
                f"declared shape: give the limits or declare it",
                node.column,
            )
        first, last, base = 1, extent, 1
    else:
        first, last = (_limit(limit, node, scope) for limit in (node.lower, node.upper))
        base = 0 if first == 0 else 1
    count = last - first + 1
    if count > MAX_TERMS:
        raise ParseError(f"a sum of {count} terms is too long (at most {MAX_TERMS})", node.column)
    if node.op in ("max", "min"):  # \max_i x_i: the largest term
        terms = [
            build(node.body, replace(scope, bound={**bound, node.index: (value, base)}))
            for value in range(first, last + 1)
        ]
        if any(is_matrix(term) for term in terms):
            raise ParseError(
                f"each term of the {node.op} over {node.index} must be a scalar", node.column
            )
        return extremum(sp.Max if node.op == "max" else sp.Min, terms)
    total: Value = sp.Integer(0 if node.op == "sum" else 1)
    for value in range(first, last + 1):
        inner = replace(scope, bound={**bound, node.index: (value, base)})
        term = build(node.body, inner)
        if is_matrix(term) and not is_matrix(total) and value == first:
            total = term
            continue
        if is_matrix(term) != is_matrix(total) or (is_matrix(term) and term.shape != total.shape):
            raise ParseError(
                f"the terms of the sum over {node.index} have different shapes", node.column
            )
        total = total + term if node.op == "sum" else _times(total, term)
    return total


def _times(a: Value, b: Value) -> Value:
    if is_matrix(a):
        return sp.ImmutableMatrix(a.shape[0], a.shape[1], lambda i, j: a[i, j] * b[i, j])
    return a * b


def _limit(limit: Node, node: Sum, scope: Scope) -> int:
    value = build(limit, scope)
    if not getattr(value, "is_Integer", False):
        raise ParseError(
            f"a limit of the sum over {node.index} is {unparse(limit)}: it must be a whole "
            "number or a size such as n or n - 1",
            node.column,
        )
    return int(value)


def _kronecker(node: Kronecker, scope: Scope) -> Value:
    first, second = (_position(idx, scope, node) for idx in (node.first, node.second))
    return sp.Integer(1 if first == second else 0)


def derivative(node: Derivative, scope: Scope) -> Value:
    """∂body/∂variable for a scalar variable (an entry, or a scalar name)."""
    variable = build(node.variable, scope)
    square = variable.base if _is_square(variable) else None
    if square is not None:  # ∂(1/σ²)/∂σ²: by the square as one variable, F′(σ)/(2σ)
        body = build(node.body, scope)
        if is_matrix(body):
            return body.applyfunc(lambda e: sp.diff(e, square) / (2 * square))
        return sp.diff(body, square) / (2 * square)
    if not isinstance(variable, sp.Symbol):
        raise ParseError(
            f"inside a formula, a derivative is read with respect to one entry or one scalar, "
            f"not {unparse(node.variable)} ({describe(shape(variable))}): differentiate a "
            "whole vector on a steps file's first line",
            node.column,
        )
    itself = isinstance(node.variable, Name) and node.variable.name == getattr(
        node.body, "name", None
    )  # ∂x/∂x = 1, as a chain rule written out shows it
    if isinstance(node.body, Name) and node.body.name not in scope.values and not itself:
        # ∂L/∂z_k of a name defined nowhere would be 0: say so rather than judge with it
        raise ParseError(
            f"{unparse(node)}: {node.body.name} is not defined in terms of "
            f"{unparse(node.variable)}, so its derivative cannot be worked out here; "
            "write what it is a function of",
            node.column,
        )
    body = build(node.body, scope)
    if is_matrix(body):
        return body.applyfunc(lambda e: sp.diff(e, variable))
    return sp.diff(body, variable)


def _is_square(value: Value) -> bool:
    return isinstance(value, sp.Pow) and value.exp == 2 and isinstance(value.base, sp.Symbol)


BUILDERS: dict[type, Callable[..., Value]] = {
    Subscript: _subscript,
    Sum: _sum,
    Kronecker: _kronecker,
    Derivative: derivative,
}

register(BUILDERS, build_top)
