"""A stepper: one step of a derivation at a time, with Previous/Next buttons.

The state is a plain object (:class:`StepperState`, a position moved within bounds),
so it is tested without a browser. The buttons are ipywidgets, imported only when the
stepper is displayed; without ipywidgets the same call displays every step as a static
list, and the widget's display data carries that list too, for viewers with no widget
support (a rendered notebook on a web page, say). Marks are the ones a check report
earned (:func:`workbench.notebook.display.marks_for`); with none, no mark is shown.

Example:
    >>> from workbench.core import registry
    >>> stepper = Stepper(registry.get("softmax-jacobian"), widgets=False)
    >>> stepper.state.position, stepper.next(), stepper.state.position
    (0, True, 1)
    >>> stepper.current.step.rule
    'quotient rule'
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from workbench.core.derivation import note_parts
from workbench.notebook.marks import MARK_TEXT, mark_html
from workbench.render.latex import Mark, expr_to_latex, shown_to_latex
from workbench.render.text import note_to_text, to_text

if TYPE_CHECKING:
    import sympy as sp

    from workbench.core.derivation import Derivation, Step

NO_WIDGETS_NOTE = "ipywidgets is not available here, so every step is listed."


@dataclass(frozen=True)
class Frame:
    """What the stepper shows at one position: one step of one result, and its mark."""

    label: str
    number: int  # the step's number within its result, from 1
    steps_in_result: int
    goal: sp.Basic
    step: Step
    mark: Mark | None  # None: nothing was checked, so no mark is shown


def frames(derivation: Derivation, marks: Mapping[tuple[str, int], Mark] | None) -> tuple:
    """Every step of every result, in order, each with its earned mark (or None)."""
    out = []
    for result in derivation.results:
        for number, step in enumerate(result.steps, 1):
            mark = None if marks is None else marks.get((result.label, number), Mark.UNCHECKED)
            out.append(Frame(result.label, number, len(result.steps), result.goal, step, mark))
    return tuple(out)


class StepperState:
    """A position in ``0 .. count − 1``; :meth:`next` and :meth:`previous` stop at the ends.

    Example:
        >>> state = StepperState(2)
        >>> state.previous(), state.next(), state.next(), state.position
        (False, True, False, 1)
    """

    def __init__(self, count: int):
        if count < 1:
            raise ValueError("a stepper needs at least one step")
        self.count = count
        self.position = 0

    @property
    def at_start(self) -> bool:
        return self.position == 0

    @property
    def at_end(self) -> bool:
        return self.position == self.count - 1

    def next(self) -> bool:
        """Move one step on; False (and no move) at the last step."""
        if self.at_end:
            return False
        self.position += 1
        return True

    def previous(self) -> bool:
        """Move one step back; False (and no move) at the first step."""
        if self.at_start:
            return False
        self.position -= 1
        return True


def _math(latex: str) -> str:
    return html.escape(rf"\(\displaystyle {latex}\)")


def note_html(step) -> str:
    """A step's note as HTML: escaped prose, and what it shows of the step as MathJax."""
    return "".join(
        html.escape(p)
        if isinstance(p, str)
        else _math(shown_to_latex(p)).replace(r"\displaystyle ", "")
        for p in note_parts(step)
    )


def frame_html(frame: Frame, index: int, total: int) -> str:
    """One frame: where we are, the step's two sides, its rule, its mark, the note."""
    where = f"<b>{html.escape(frame.label)}</b> — step {frame.number} of {frame.steps_in_result}"
    if total > frame.steps_in_result:  # several results: say where we are overall too
        where += f" <span style='color:#6e7781'>({index + 1} of {total} in all)</span>"
    mark = f" &nbsp; {mark_html(frame.mark)}" if frame.mark is not None else ""
    return (
        f"<div style='margin:0.4em 0'>{where}"
        f"<div style='margin:0.3em 0 0 1em'>{_math(expr_to_latex(frame.step.before))}</div>"
        f"<div style='margin:0.3em 0 0 1em'>{_math('= ' + expr_to_latex(frame.step.after))}</div>"
        f"<div>rule: <b>{html.escape(frame.step.rule)}</b>{mark}"
        f" <span style='color:#6e7781'>— {html.escape(frame.step.statement)}</span></div>"
        f"<div style='background:#f6f8fa;padding:0.3em 0.6em;margin-top:0.3em'>"
        f"{note_html(frame.step)}</div></div>"
    )


def frame_text(frame: Frame) -> str:
    mark = f" {MARK_TEXT[frame.mark]}" if frame.mark is not None else ""
    return (
        f"{frame.label} — step {frame.number} of {frame.steps_in_result}\n"
        f"     {to_text(frame.step.before)}\n   = {to_text(frame.step.after)}\n"
        f"   [{frame.step.rule}]{mark} {note_to_text(frame.step)}"
    )


def widgets_available() -> bool:
    try:
        import ipywidgets  # noqa: F401
    except ImportError:
        return False
    return True


class Stepper:
    """Steps through a derivation: :meth:`next`, :meth:`previous`, and buttons that call them.

    Args:
        derivation: what to step through.
        marks: (result label, step number) → earned mark, or None when unchecked.
        widgets: use ipywidgets buttons (default: when ipywidgets can be imported).
    """

    def __init__(
        self,
        derivation: Derivation,
        marks: Mapping[tuple[str, int], Mark] | None = None,
        *,
        widgets: bool | None = None,
    ):
        self.derivation = derivation
        self.frames = frames(derivation, marks)
        self.state = StepperState(len(self.frames))
        self.use_widgets = widgets_available() if widgets is None else widgets
        self._controls: dict[str, Any] | None = None

    @property
    def current(self) -> Frame:
        return self.frames[self.state.position]

    def next(self) -> bool:
        moved = self.state.next()
        self._refresh()
        return moved

    def previous(self) -> bool:
        moved = self.state.previous()
        self._refresh()
        return moved

    def current_html(self) -> str:
        return frame_html(self.current, self.state.position, len(self.frames))

    def static_html(self) -> str:
        """Every frame, one after another: the display without widgets."""
        total = len(self.frames)
        body = "<hr style='margin:0.2em 0'>".join(
            frame_html(frame, index, total) for index, frame in enumerate(self.frames)
        )
        title = f"<h4>{html.escape(self.derivation.title)}</h4>"
        return f"<div class='workbench-steps'>{title}{body}</div>"

    def __str__(self) -> str:
        return "\n\n".join(frame_text(frame) for frame in self.frames)

    # ------------------------------------------------------------ the widget
    def widget(self):
        """The ipywidgets box: the current frame between Previous and Next buttons."""
        if self._controls is None:
            import ipywidgets as w

            previous = w.Button(description="◀ Previous", layout=w.Layout(width="9em"))
            following = w.Button(description="Next ▶", layout=w.Layout(width="9em"))
            position = w.Label()
            body = w.HTMLMath()
            previous.on_click(lambda _: self.previous())
            following.on_click(lambda _: self.next())
            box = w.VBox([w.HBox([previous, following, position]), body])
            self._controls = {
                "previous": previous,
                "next": following,
                "position": position,
                "body": body,
                "box": box,
            }
            self._refresh()
        return self._controls["box"]

    def _refresh(self) -> None:
        if self._controls is None:
            return
        c = self._controls
        c["previous"].disabled = self.state.at_start
        c["next"].disabled = self.state.at_end
        c["position"].value = f"step {self.state.position + 1} of {len(self.frames)}"
        c["body"].value = self.current_html()

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict[str, Any]:
        static = self.static_html()
        if not self.use_widgets or not widgets_available():
            note = f"<p style='color:#6e7781'>{NO_WIDGETS_NOTE}</p>"
            return {"text/html": note + static, "text/plain": str(self)}
        bundle = dict(self.widget()._repr_mimebundle_())
        # A viewer without a widget manager shows the static list instead.
        bundle["text/html"] = static
        bundle["text/plain"] = str(self)
        return bundle
