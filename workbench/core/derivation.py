"""The derivation as data: steps, results, closed forms and numeric cases.

A :class:`Derivation` is immutable. It is built with :class:`Chain`, which applies one
rule at a time and records what SymPy computed; nothing here renders or checks.

Example:
    >>> import sympy as sp
    >>> from workbench.core import rules
    >>> x = sp.Symbol("x")
    >>> chain = Chain(sp.Derivative(sp.exp(2 * x), x))
    >>> chain.apply(rules.ChainRule(), "differentiate the outer exp").current
    exp(2*x)*Derivative(2*x, x)
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import sympy as sp

from workbench.core.algebra import canonical
from workbench.core.facts import Fact, pair_of
from workbench.core.rules import Context, Rule
from workbench.errors import DerivationError

if TYPE_CHECKING:
    import numpy as np

Sampler = Callable[["np.random.Generator", tuple[int, ...]], "np.ndarray"]
Pick = Callable[[sp.Basic, sp.Basic], "Shown"]  # (before, after) → what a note shows


@dataclass(frozen=True)
class Shown:
    """Equations a note shows, picked out of its step's own expressions (``lhs = rhs``,
    joined by "and"), so every face prints them with the indices and brackets the step
    prints; see :mod:`workbench.core.pieces`."""

    equations: tuple[tuple[sp.Basic, sp.Basic], ...]


@dataclass(frozen=True)
class Step:
    """One rewrite: ``after`` equals ``before`` by ``rule`` (under ``assumptions``).

    ``note`` may hold ``{}`` fields, one per entry of ``shown``: what the note shows of
    the step, printed by each face in the step's own notation (:func:`note_parts`).
    """

    before: sp.Basic
    after: sp.Basic
    rule: str
    statement: str
    note: str
    assumptions: tuple = ()
    facts: tuple[Fact, ...] = ()
    """What the rule brought in and did not prove (see :mod:`workbench.core.facts`)."""
    shown: tuple[Shown, ...] = ()


def note_parts(step: Step) -> list[str | Shown]:
    """The note as prose pieces and the :class:`Shown` equations between them, in order.

    Example:
        >>> import sympy as sp
        >>> x = sp.Symbol("x")
        >>> step = Step(x + x, 2 * x, "algebra", "", "So {}.", shown=(Shown(((x + x, 2 * x),)),))
        >>> [type(p).__name__ for p in note_parts(step)]
        ['str', 'Shown', 'str']
    """
    prose = step.note.split("{}")
    parts: list[str | Shown] = [prose[0]]
    for shown, text in zip(step.shown, prose[1:], strict=True):
        parts += [shown, text]
    return [p for p in parts if p != ""]


@dataclass(frozen=True)
class Result:
    """One derived quantity: its chain of steps and the closed form it is compared with.

    Attributes:
        label: what is derived, e.g. ``"∂s_i/∂z_j"``.
        steps: the chain, ``steps[0].before`` is the goal.
        closed_form: the textbook answer in matrix notation.
        entry: the index of ``closed_form`` that ``derived`` is an entry of, e.g. ``(i, j)``;
            None when the closed form is a scalar expression.
        wrt: the input this result differentiates with respect to, if it is a derivative.
        assumptions: facts the result relies on, e.g. ``Σ y = 1``.
    """

    label: str
    steps: tuple[Step, ...]
    closed_form: Any
    entry: tuple[sp.Basic, sp.Basic] | None = None
    wrt: sp.MatrixSymbol | None = None
    assumptions: tuple = ()

    @property
    def goal(self) -> sp.Basic:
        return self.steps[0].before

    @property
    def closed_entry(self) -> sp.Basic:
        """The closed form at ``entry`` (index notation), or itself when it is a scalar."""
        if self.entry is None or not isinstance(self.closed_form, sp.MatrixExpr):
            return self.closed_form
        return self.closed_form[self.entry]

    @property
    def derived(self) -> sp.Basic:
        return self.steps[-1].after

    def assumed(self, step: Step) -> tuple[Fact, ...]:
        """The facts ``step`` rests on that nothing checks and this result states:
        the step is shown "assumed", never with a check mark."""
        return tuple(f for f in step.facts if not f.checkable and pair_of(f) in self.assumptions)


@dataclass(frozen=True)
class Stages:
    """A case's forward and gradients written with named intermediates, for its code.

    A network's expressions over the inputs share most of their subexpressions; code
    generated from them as trees would repeat each shared piece wherever it occurs. With
    stages the generated function computes each named definition once, in dependency
    order (:mod:`workbench.codegen.staged`). ``forward`` and ``gradients`` must expand,
    through ``definitions``, to the case's own (build the case's from these with
    :func:`~workbench.core.algebra.expand_names_shared`, so they cannot differ).
    """

    definitions: Mapping[sp.MatrixSymbol, Any]
    forward: Any
    gradients: tuple[Any, ...]


@dataclass(frozen=True)
class Case:
    """A concrete numeric setting in which the closed form is checked.

    Attributes:
        name: e.g. ``"tanh"`` or ``"batched"``.
        forward: the function in matrix notation, 1×1 for a scalar loss.
        wrt: the inputs differentiated, in order.
        gradients: the closed forms, one per ``wrt`` (a Jacobian for a vector ``forward``).
        samplers: how to draw each input (all of them, ``wrt`` and constants).
        sizes: concrete sizes for the SymPy ``diff`` check (three or more).
        numeric_size: the size for finite differences and the complex step.
        results: for each ``wrt``, the general-n :class:`Result` label it instantiates, if any.
        assumptions: facts the inputs satisfy, as (lhs, rhs) pairs; or, when they depend on
            the size (one per row, say), a function from concrete sizes to such pairs.
        identities: (name, lhs, rhs) matrix expressions that must be equal, checked by
            SymPy at the concrete sizes and numerically at random inputs.
        kinks: given the inputs, a list of warnings for points at a non-differentiable kink.
        stages: the same forward and gradients over named intermediates, from which the
            numeric checks generate their code (see :class:`Stages`); None: from the
            expressions over the inputs.
        names: (name, matrix expression) of the intermediate arrays the generated code
            computes under the mathematics' names (``("dS", …)``), in the order computed.
    """

    name: str
    forward: Any
    wrt: tuple[sp.MatrixSymbol, ...]
    gradients: tuple[Any, ...]
    samplers: Mapping[sp.MatrixSymbol, Sampler]
    sizes: tuple[Mapping[sp.Symbol, int], ...]
    numeric_size: Mapping[sp.Symbol, int]
    results: Mapping[sp.MatrixSymbol, str] = field(default_factory=dict)
    substitutions: Mapping[sp.Basic, sp.Basic] = field(default_factory=dict)
    assumptions: tuple | Callable[[Mapping[sp.Symbol, int]], list] = ()
    identities: tuple[tuple[str, Any, Any], ...] = ()
    kinks: Callable[[Mapping[str, Any]], list[str]] | None = None
    stages: Stages | None = None
    names: tuple[tuple[str, Any], ...] = ()


@dataclass(frozen=True)
class Network:
    """A derivation whose results compose other results through named stages.

    Its steps mention the gradient of ``loss`` with respect to stages deep inside the
    network; they are checked stage by stage at ``sizes`` (see
    :mod:`workbench.checks.network`) instead of written out whole.

    Attributes:
        loss: the scalar every ``Derivative(loss, N[i, j])`` differentiates.
        sizes: three or more concrete size sets, each size symbol → int.
        fixed: inputs with given entries (a causal mask), as matrix expressions.
    """

    loss: sp.Symbol
    sizes: tuple[Mapping[sp.Symbol, int], ...]
    fixed: Mapping[sp.MatrixSymbol, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Exercise:
    """An exercise for the learner, with its worked solution (plain text with $math$)."""

    prompt: str
    solution: str
    source: str = ""  # where in the curriculum (shared/seeds) it comes from

    @property
    def cited(self) -> str:
        """The source as a handout cites it: the guide by its title, not by its file.

        Example:
            >>> Exercise("?", "!", "Step 5, attention (shared/seeds/004)").cited
            'Step 5, attention, in AI Math → ML Implementation Guide'
        """
        match = _SEED.search(self.source)
        if match is None:
            return self.source
        guide = GUIDES.get(match.group(1))
        where = self.source[: match.start()].rstrip()
        return f"{where}, in {guide}" if guide else where


# The curriculum's guides (shared/seeds), by number, under their own titles.
GUIDES = {
    "000": "Phase 0, Math Warm Up",
    "001": "Stage 01, Math Foundations",
    "002": "AI Math Roadmap: From Zero to Building GPT From Scratch",
    "003": "Mathematics for Generative AI Mastery",
    "004": "AI Math → ML Implementation Guide",
}
_SEED = re.compile(r"\(shared/seeds/(\d{3})\)\s*$")


@dataclass(frozen=True)
class Derivation:
    """A key result: how it is derived, what it should equal, and how to test it."""

    slug: str
    title: str
    summary: str
    conventions: str
    variables: tuple[tuple[str, str], ...]
    definitions: Mapping[sp.Basic, sp.Basic]
    results: tuple[Result, ...]
    cases: tuple[Case, ...]
    symbolic_checks: tuple[tuple[str, Callable[[], tuple[Any, Any]]], ...] = ()
    """Independent symbolic routes: (name, thunk returning (a, b)) with a == b expected,
    e.g. SymPy's own ``integrate`` or ``rsolve`` against the derived result."""
    numeric_checks: tuple[tuple[str, Callable[[int], tuple[Any, Any, float]]], ...] = ()
    """Independent numeric computations: (name, f(seed) → (computed, expected, rtol)),
    e.g. running an iteration, numerical integration, or ``numpy.fft``."""
    exercises: tuple[Exercise, ...] = ()
    domain: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    """Per input name, the interval exact random test points are drawn from
    (default (-2, 2)); e.g. counts that must stay positive under a log."""
    network: Network | None = None
    """For a result composed through named stages: how its steps are checked."""

    @property
    def steps(self) -> tuple[Step, ...]:
        return tuple(step for result in self.results for step in result.steps)

    def result(self, label: str) -> Result:
        for r in self.results:
            if r.label == label:
                return r
        raise KeyError(label)

    # The conveniences below are provided from the layers above the data model
    # (:mod:`workbench.facade`); the model itself imports no check and no face.
    def check(self, **options):
        """Run every check; see :func:`workbench.checks.check_derivation`."""
        return provided("check")(self, **options)

    def to_latex(self) -> str:
        """The chain of steps as a LaTeX ``align*`` block per result."""
        return provided("to_latex")(self)

    # A bare derivation has no check report, so it shows its steps without marks.
    def _repr_html_(self) -> str:
        return provided("html")(self)

    def _repr_latex_(self) -> str:
        return provided("latex")(self)


PROVIDERS: dict[str, Callable[..., Any]] = {}
"""What the layers above provide to a :class:`Derivation`: ``check``, ``to_latex``,
``html`` and ``latex``. Filled in by :mod:`workbench.facade`."""

FACADE = "workbench.facade"


def provided(name: str) -> Callable[..., Any]:
    """The function the upper layers provide for ``name``.

    The facade module is loaded by name on first use, as a plug-in is: the data model
    names the place its conveniences come from, not the checks or faces behind them.
    """
    if name not in PROVIDERS:
        importlib.import_module(FACADE)
    return PROVIDERS[name]


class Chain:
    """Builds a chain of steps: each :meth:`apply` asks SymPy for the next expression."""

    def __init__(self, start: sp.Basic, definitions: Mapping[sp.Basic, sp.Basic] | None = None):
        self.context = Context(dict(definitions or {}))
        self.current = start
        self.steps: list[Step] = []

    def apply(self, rule: Rule, note: str, *show: Pick) -> Chain:
        """The next step by ``rule``. Each ``{}`` in ``note`` is filled by one of ``show``:
        a pick (:mod:`workbench.core.pieces`) of what the step did, taken from the step's
        own expressions, so the note's indices are the step's."""
        # Bound summation variables get canonical names, so steps read k, l, ... and
        # equal sums look equal.
        after = canonical(rule.apply(self.current, self.context))
        if after == self.current:
            raise DerivationError(f"rule {rule.name!r} changed nothing at: {self.current}")
        if note.count("{}") != len(show):
            raise DerivationError(f"note {note!r} has {note.count('{}')} fields for {len(show)}")
        self.steps.append(
            Step(
                before=self.current,
                after=after,
                rule=rule.name,
                statement=rule.statement,
                note=note,
                assumptions=tuple(rule.assumptions),
                facts=tuple(rule.facts_in(self.current, after)),
                shown=tuple(pick(self.current, after) for pick in show),
            )
        )
        self.current = after
        return self

    def result(self, label: str, closed_form, entry=None, wrt=None, assumptions=()) -> Result:
        if not self.steps:
            raise DerivationError(f"{label}: a result needs at least one step")
        entry = tuple(entry) if entry is not None else None
        # Assumptions may be given as Facts; the result keeps their (lhs, rhs) pairs.
        pairs = tuple(pair_of(a) for a in assumptions)
        return Result(label, tuple(self.steps), closed_form, entry, wrt, pairs)
