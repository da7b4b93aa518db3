"""Figures without pyplot: every plot in sim/ is a :class:`matplotlib.figure.Figure` saved here.

No module in sim/ calls ``matplotlib.use`` or keeps pyplot state: importing a
plotting module leaves a notebook's backend alone, and a Figure made here is
never registered with pyplot (nothing to close, no memory held by a figure
manager). A returned Figure displays in Jupyter as its last expression.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from sim.atomic_io import atomic_write_bytes

if TYPE_CHECKING:
    from matplotlib.figure import Figure

DPI = 110
"""Resolution of the PNGs a run and a sweep write [dots per inch]."""


Layout = Literal["constrained", "compressed", "tight"] | None


def new_figure(width_in: float, height_in: float, *, layout: Layout = None) -> Figure:
    """An empty figure of ``width_in`` x ``height_in`` [inch], outside pyplot."""
    from matplotlib.figure import Figure

    return Figure(figsize=(width_in, height_in), layout=layout)


def subplots(
    nrows: int, ncols: int, *, figsize: tuple[float, float], **kwargs: Any
) -> tuple[Figure, Any]:
    """``(figure, axes)`` as ``pyplot.subplots`` returns them, outside pyplot."""
    fig = new_figure(*figsize, layout=kwargs.pop("layout", None))
    return fig, fig.subplots(nrows, ncols, **kwargs)


def palette() -> list[str]:
    """The colours of matplotlib's current property cycle, in order."""
    import matplotlib

    return list(matplotlib.rcParams["axes.prop_cycle"].by_key()["color"])


def save_figure(fig: Figure, path: Path, dpi: int = DPI) -> Path:
    """Write ``fig`` as a PNG at ``path`` atomically (a reader sees the whole image or none)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    atomic_write_bytes(Path(path), buffer.getvalue())
    return Path(path)
