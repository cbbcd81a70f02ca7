"""``--assume``: what a learner states about the inputs, and what it does to the checks.

Five forms, each changing where the claim is tested, never what counts as a difference:

* ``EXPR = EXPR`` (``sum(y) = 1``): a fact; at every test point it is solved for one
  entry (the last, by name), so every point satisfies it;
* ``x > 0``, ``p < 1``, ``0 < p < 1`` (``>=``, ``<=`` too): the interval every entry of
  the name is drawn from;
* ``y one-hot``: tested as Σy = 1 (what a softmax gradient uses); the entries are not
  forced to 0 and 1, so a claim that needs yᵢ² = yᵢ is not accepted;
* ``A symmetric``: the entries below the diagonal are the ones above it;
* ``X positive definite``: every test point draws X as BBᵀ + I (so symmetric too); it
  may be the variable differentiated by (only the points change), unlike ``symmetric``.

A point that an equality tier finds outside the assumptions does not count. The verdict
says "given …".

Example:
    >>> from workbench.verify.interpret import Scope, declare
    >>> stated = read(["sum(y) = 1", "0 < p < 1"], Scope(declare({"y": (3, 1)})), wrt="p")
    >>> stated.said, stated.domain["p"][0] > 0
    (('sum(y) = 1', '0 < p < 1'), True)
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

import sympy as sp

from workbench.errors import ParseError
from workbench.verify.interpret import Scope, Value, build, is_matrix
from workbench.verify.latex_input import parse_any, split_equation
from workbench.verify.parsing import Number, Unary, parse
from workbench.verify.points import DENOMINATOR, Fact, entries, says_nothing

MAX_ASSUMPTIONS = 20
SPAN = 4.0  # the width of a one-sided interval: x > 0 draws from (0, 4]

FORMS = (
    "EXPR = EXPR (sum(y) = 1), x > 0, 0 < p < 1, NAME one-hot, NAME symmetric "
    "or NAME positive definite"
)
_PROPERTY = re.compile(r"^\s*([A-Za-z_]\w*)\s+(one-hot|symmetric|positive definite)\s*$")
_COMPARISON = re.compile(r"(<=|>=|<|>)")


@dataclass(frozen=True)
class Assumptions:
    """What ``--assume`` stated, ready for the checks.

    Attributes:
        scope: the scope with the symmetric matrices made symmetric.
        said: each assumption in canonical words, for the report ("given …").
        facts: equations every test point satisfies.
        domain: name → the interval its entries are drawn from.
        positive_definite: the matrices drawn as BBᵀ + I.
    """

    scope: Scope
    said: tuple[str, ...] = ()
    facts: tuple[Fact, ...] = ()
    domain: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    positive_definite: frozenset[str] = frozenset()


def read(texts: Sequence[str], scope: Scope, wrt: str | None = None) -> Assumptions:
    """Read each ``--assume`` text against ``scope`` (the declared shapes).

    Raises:
        ParseError: a text in none of the forms, a bound that is not a number, a
            property of a name of the wrong shape (one line, naming the assumption).
    """
    if len(texts) > MAX_ASSUMPTIONS:
        raise ParseError(f"--assume: at most {MAX_ASSUMPTIONS} assumptions")
    said: list[str] = []
    facts: list[Fact] = []
    domain: dict[str, tuple[float, float]] = {}
    definite: set[str] = set()
    for text in texts:
        try:
            prop = _PROPERTY.match(text)
            if prop:
                name, kind = prop.groups()
                value = _declared(name, scope, kind)
                if kind == "one-hot":
                    _vector(name, value)
                    facts.append((sp.Add(*entries(value)), sp.Integer(1)))
                    said.append(f"{name} one-hot (tested as sum({name}) = 1)")
                else:
                    _square(name, value, kind)
                    if name == wrt and kind == "symmetric":
                        raise ParseError(
                            f"{name} is the variable differentiated by: a {kind} {name} "
                            "changes what its derivative means; assume it of another input"
                        )
                    if kind == "symmetric":
                        scope = _symmetric(scope, name, value)
                        said.append(f"{name} symmetric")
                    else:
                        definite.add(name)
                        said.append(f"{name} positive definite (drawn as BBᵀ + I)")
            elif "=" in text and not _COMPARISON.search(text.replace("=", "")):
                left, right = split_equation(text) or (text, "")
                if not right.strip():
                    raise ParseError("an equation has one '=' with a side on each")
                lhs, rhs = (build(parse_any(side), scope) for side in (left, right))
                facts += _equations(lhs, rhs)
                said.append(f"{left.strip()} = {right.strip()}")
            elif _COMPARISON.search(text):
                name, interval = _interval(text, scope)
                low, high = domain.get(name, (-float("inf"), float("inf")))
                low, high = max(low, interval[0]), min(high, interval[1])
                if not low < high:
                    raise ParseError(f"the bounds on {name} leave no values")
                domain[name] = (low, high)
                said.append(" ".join(_COMPARISON.sub(r" \1 ", text).split()))
            else:
                raise ParseError(f"expected {FORMS}")
        except ParseError as error:
            raise ParseError(f"--assume {text!r}: {error}") from None
    return Assumptions(scope, tuple(said), tuple(facts), domain, frozenset(definite))


def _declared(name: str, scope: Scope, kind: str) -> Value:
    value = scope.values.get(name)
    if value is None:
        raise ParseError(f"{name} has no declared shape: add --shape for a {kind} {name}")
    return value


def _vector(name: str, value: Value) -> None:
    if not (is_matrix(value) and 1 in value.shape):
        raise ParseError(f"{name} one-hot needs {name} to be a vector (--shape {name}=N)")


def _square(name: str, value: Value, kind: str) -> None:
    if not (is_matrix(value) and value.shape[0] == value.shape[1] and value.shape[0] > 1):
        raise ParseError(f"{name} {kind} needs a square matrix (--shape {name}=NxN)")


def _symmetric(scope: Scope, name: str, value: sp.ImmutableMatrix) -> Scope:
    size = value.shape[0]
    symmetric = sp.ImmutableMatrix(size, size, lambda i, j: value[min(i, j), max(i, j)])
    return replace(scope, values={**scope.values, name: symmetric})


def equation_facts(lhs: Value, rhs: Value) -> list[Fact]:
    """lhs = rhs as facts, entry by entry (a scalar side stands for every entry).

    Raises:
        ParseError: sides of different shapes, or an equation that holds for no input.
    """
    return _equations(lhs, rhs)


def _equations(lhs: Value, rhs: Value) -> list[Fact]:
    left, right = entries(lhs), entries(rhs)
    if len(right) == 1 and len(left) > 1:
        right = right * len(left)
    if len(left) != len(right):
        raise ParseError("the two sides of the equation have different shapes")
    out = [(a, b) for a, b in zip(left, right, strict=True) if not says_nothing(a - b)]
    if any(not (a - b).free_symbols for a, b in out):
        raise ParseError("the equation holds for no input (it is false)")
    return out


def _interval(text: str, scope: Scope) -> tuple[str, tuple[float, float]]:
    """``0 < p < 1`` → ("p", (1/97, 96/97)): strict bounds keep a grid step inside."""
    parts = [p.strip() for p in _COMPARISON.split(text)]
    if len(parts) not in (3, 5):
        raise ParseError("expected x > 0, x < 1 or 0 < x < 1")
    names = [p for p in parts[::2] if re.fullmatch(r"[A-Za-z_]\w*", p) and p not in ("e", "pi")]
    if len(names) != 1:
        raise ParseError("a bound compares one name with numbers, e.g. 0 < p < 1")
    (name,) = names
    low, high = -float("inf"), float("inf")
    step = 1 / DENOMINATOR
    for left, op, right in zip(parts[:-2:2], parts[1::2], parts[2::2], strict=True):
        if left == name:
            bound, below = _number(right), op in ("<", "<=")
        else:
            bound, below = _number(left), op in (">", ">=")
        strict = op in ("<", ">")
        if below:
            high = min(high, bound - step if strict else bound)
        else:
            low = max(low, bound + step if strict else bound)
    if low == -float("inf"):
        low = high - SPAN
    if high == float("inf"):
        high = low + SPAN
    return name, (low, high)


def _number(text: str) -> float:
    node = parse(text)
    negative = isinstance(node, Unary) and node.op == "-"
    inner = node.operand if isinstance(node, Unary) and negative else node
    if not isinstance(inner, Number):
        raise ParseError(f"a bound is a number, not {text!r}")
    value = float(inner.value)
    return -value if negative else value
