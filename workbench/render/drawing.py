"""What every figure is drawn with: the :class:`Figure` record, a matplotlib canvas that
never opens a window, reproducible PDF bytes, and the heatmap the handouts and notebooks
share (so both label alike).

The figure modules (:mod:`~workbench.render.figures` for cases,
:mod:`~workbench.render.result_figures` for closed forms,
:mod:`~workbench.render.graph_figure` for computational graphs) all draw with these.

Example:
    >>> cell(-0.001)
    '0.00'
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np

from workbench.core.derivation import Case
from workbench.errors import HandoutError
from workbench.render.latex import expr_to_latex


@dataclass(frozen=True)
class Figure:
    """One figure: a file name (no extension), its PDF bytes and its caption (LaTeX)."""

    name: str
    pdf: bytes
    caption: str
    width: str = r"0.8\linewidth"


def _figure(width: float, height: float):
    try:
        from matplotlib.figure import Figure as MplFigure
    except ImportError:
        raise HandoutError(
            "handouts need matplotlib: pip install 'derivation-workbench[handout]'"
        ) from None
    return MplFigure(figsize=(width, height), layout="constrained")


def _pdf(fig) -> bytes:
    buffer = io.BytesIO()
    # No creation date: the same figure gives the same bytes, so rebuilding is a no-op.
    fig.savefig(buffer, format="pdf", metadata={"CreationDate": None})
    return buffer.getvalue()


def heatmap(
    ax,
    values: np.ndarray,
    title: str,
    diverging: bool = True,
    fontsize: float = 6,
    annotate: bool = True,
    colorbar: bool = True,
    label: str = "",
) -> None:
    """A matrix as colours, with every entry written on it when it is small.

    Shared by the handouts' figures and the notebooks' plots, so both label alike.
    """
    values = np.real(np.asarray(values, dtype=complex)).reshape(np.shape(values)[0], -1)
    limit = float(np.max(np.abs(values))) or 1.0
    image = ax.imshow(
        values,
        cmap="RdBu_r" if diverging else "viridis",
        vmin=-limit if diverging else 0.0,
        vmax=limit if diverging else max(limit, 1e-300),
    )
    ax.set_title(title, fontsize=10)
    if colorbar:
        ax.figure.colorbar(image, ax=ax, shrink=0.8, label=label)
    rows, cols = values.shape
    if annotate and rows * cols <= 64:  # small enough to print every entry legibly
        for (r, c), v in np.ndenumerate(values):
            dark = abs(v) > 0.6 * limit if diverging else v < 0.5 * limit
            color = "white" if dark else "black"
            ax.text(c, r, cell(v), ha="center", va="center", fontsize=fontsize, color=color)
    ax.set_xticks(range(cols))
    ax.set_yticks(range(rows))


def cell(value: float) -> str:
    """A heatmap entry to two decimals; a value that rounds to zero is "0.00", never "-0.00".

    Example:
        >>> cell(-0.001), cell(-0.5), cell(0.25)
        ('0.00', '-0.50', '0.25')
    """
    text = f"{value:.2f}"
    return "0.00" if float(text) == 0 else text


def _sizes(case: Case) -> str:
    return ", ".join(f"${expr_to_latex(k)} = {v}$" for k, v in case.numeric_size.items())


def _slug(name: str) -> str:
    # ASCII only: the name becomes a file name that \\includegraphics must read.
    slug = "".join(c if c.isascii() and c.isalnum() else "-" for c in name.lower())
    return "-".join(part for part in slug.split("-") if part)
