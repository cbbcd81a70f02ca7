"""What a notebook plot is: a matplotlib figure with its caption, shown as an image.

Shared by :mod:`workbench.notebook.plots` and :mod:`workbench.notebook.curves`.
"""

from __future__ import annotations

import base64
import html
import io
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Plot:
    """A matplotlib figure and its caption; displays as an image with the caption."""

    figure: Any
    caption: str

    def png(self) -> bytes:
        buffer = io.BytesIO()
        self.figure.savefig(buffer, format="png", dpi=100)
        return buffer.getvalue()

    def _repr_png_(self) -> bytes:
        return self.png()

    def _repr_html_(self) -> str:
        data = base64.b64encode(self.png()).decode("ascii")
        return (
            f"<figure style='margin:0.5em 0'><img src='data:image/png;base64,{data}'/>"
            f"<figcaption style='font-size:90%'>{html.escape(self.caption)}</figcaption></figure>"
        )

    def __repr__(self) -> str:
        return f"Plot({self.caption!r})"


@dataclass(frozen=True)
class Plots:
    """Several plots shown one after another; says so when none fits."""

    plots: tuple[Plot, ...]
    title: str = ""

    def _repr_html_(self) -> str:
        if not self.plots:
            return f"<p><i>{html.escape(self.title)}: no plot fits this result.</i></p>"
        return "".join(p._repr_html_() for p in self.plots)

    def __repr__(self) -> str:
        return "\n".join(p.caption for p in self.plots) or f"{self.title}: no plot fits"


def _figure(width: float, height: float):
    from matplotlib.figure import Figure  # matplotlib is optional: import it on use

    return Figure(figsize=(width, height), layout="constrained")
