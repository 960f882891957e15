"""Plot helpers for figures a class can read from the back row, and that every reader can read.

Every helper takes ``ax=None`` (a new figure is made when it is None) and returns the Axes. None
of them changes matplotlib's global settings; a notebook that wants large type everywhere applies
:func:`lecture_rc` itself, e.g. ``plt.rcParams.update(lecture_rc())``.

Two rules for every figure of the course:

* it is shown with :func:`show`, which attaches a one-line text alternative (the ``alt`` of the image
  on the book's pages and in the slides, what a screen reader reads);
* its colours come from :data:`OKABE_ITO` (the cycle ``C0``-``C7`` under :func:`lecture_rc`), greys, or a
  colour map of :data:`COLOUR_MAPS`: colours that stay apart for readers with any of the three kinds of
  colour blindness (``tests/test_plotting.py`` checks the palette under simulated protanopia, deuteranopia
  and tritanopia).
"""

from __future__ import annotations

from typing import Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ._checks import check_array, check_real
from .rates import SlopeFit

__all__ = ["OKABE_ITO", "COLOUR_MAPS", "lecture_rc", "show", "get_ax", "plot_loglog", "annotate_slope"]

#: The colour cycle of :func:`lecture_rc` (``C0`` to ``C7`` in that order): the palette of Okabe & Ito (2008),
#: chosen to stay distinguishable under protanopia, deuteranopia and tritanopia. Yellow comes last: it is
#: pale on white, for areas rather than lines.
OKABE_ITO: dict[str, str] = {
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "bluish green": "#009E73",
    "reddish purple": "#CC79A7",
    "orange": "#E69F00",
    "sky blue": "#56B4E9",
    "black": "#000000",
    "yellow": "#F0E442",
}

#: Colour maps the course's figures use: perceptually uniform sequential maps whose lightness alone orders
#: the values (so they read in any colour vision, and in grey), greys, and ColorBrewer's red-blue diverging
#: map, whose two arms differ in lightness and in the blue-yellow direction that every dichromat keeps.
COLOUR_MAPS = ("viridis", "cividis", "magma", "inferno", "plasma", "gray", "Greys", "RdBu", "RdBu_r")

ALT_MAX_CHARS = 300


def lecture_rc() -> dict[str, object]:
    """matplotlib settings for projection: large type, thick lines, a colour-blind-safe cycle.

    Examples
    --------
    >>> lecture_rc()["font.size"]
    14
    """
    from cycler import cycler

    colours = list(OKABE_ITO.values())
    return {
        "font.size": 14,
        "axes.titlesize": 16,
        "axes.labelsize": 15,
        "xtick.labelsize": 13,
        "ytick.labelsize": 13,
        "legend.fontsize": 12,
        "lines.linewidth": 2.5,
        "lines.markersize": 7,
        "axes.grid": True,
        "grid.alpha": 0.3,
        "axes.prop_cycle": cycler(color=colours),
        "figure.figsize": (8.0, 5.0),
        "figure.dpi": 100,
        "figure.constrained_layout.use": True,
    }


def check_alt(alt: object) -> str:
    """Return ``alt`` if it is a usable text alternative for a figure: one line of 10 to 300 characters."""
    if not isinstance(alt, str):
        raise TypeError(f"alt must be a one-line description of the figure (a str), got {type(alt).__name__}")
    text = alt.strip()
    if "\n" in text or not 10 <= len(text) <= ALT_MAX_CHARS:
        raise ValueError(f"alt must be one line of 10 to {ALT_MAX_CHARS} characters describing the figure, got {alt!r}")
    return text


def show(fig: Figure | None = None, *, alt: str) -> None:
    """Show ``fig`` (default: the current figure) with ``alt`` as its text alternative, then close it.

    In a notebook the figure is displayed as a PNG whose output metadata carries ``alt``; the book and the
    slides write it into the image's ``alt`` attribute. Outside a notebook the figure is only closed.

    Parameters
    ----------
    fig : matplotlib Figure or None
        The figure to show; None takes the current figure.
    alt : str
        One line (10 to 300 characters) saying what the figure shows: its axes, what is plotted, and what a
        reader should see, e.g. ``"Test error against parameters, log-log: the tree's line lies lowest"``.

    Examples
    --------
    >>> fig, ax = plt.subplots(); _ = ax.plot([0, 1])
    >>> show(fig, alt="A straight line from 0 to 1")
    >>> plt.fignum_exists(fig.number)
    False
    >>> show(fig, alt="")
    Traceback (most recent call last):
    ...
    ValueError: alt must be one line of 10 to 300 characters describing the figure, got ''
    """
    text = check_alt(alt)
    if fig is None:
        fig = plt.gcf()
    elif not isinstance(fig, Figure):
        raise TypeError(f"fig must be a matplotlib Figure or None, got {type(fig).__name__}")
    _display(fig, text)
    plt.close(fig)


def _display(fig: Figure, alt: str) -> None:
    """Display ``fig`` in the running IPython kernel with ``alt`` in its PNG's metadata (no kernel: nothing)."""
    from IPython import get_ipython
    from IPython.display import display

    if get_ipython() is not None:
        display(fig, metadata={"image/png": {"alt": alt}})


def get_ax(ax: Axes | None = None, figsize: tuple[float, float] | None = None) -> Axes:
    """Return ``ax``, or the Axes of a new figure when ``ax`` is None.

    Examples
    --------
    >>> ax = get_ax(figsize=(3, 2)); ax.figure.get_size_inches().tolist()
    [3.0, 2.0]
    >>> plt.close("all")
    """
    if ax is None:
        _, ax = plt.subplots(figsize=figsize)
    elif not isinstance(ax, Axes):
        raise TypeError(f"ax must be a matplotlib Axes or None, got {type(ax).__name__}")
    return ax


def plot_loglog(
    x: Sequence[float] | np.ndarray,
    y: Sequence[float] | np.ndarray,
    fit: SlopeFit | None = None,
    label: str | None = None,
    ax: Axes | None = None,
    **style: object,
) -> Axes:
    """Plot ``y`` against ``x`` on log-log axes as markers, with the fitted line of ``fit`` if given.

    The legend entry reads ``label (slope -0.50)`` when a fit is given.

    Examples
    --------
    >>> from cosp_helpers.rates import fit_loglog_slope
    >>> ax = plot_loglog([1, 10, 100], [1, 0.1, 0.01], fit=fit_loglog_slope([1, 10, 100], [1, 0.1, 0.01]), label="toy")
    >>> ax.get_xscale(), ax.get_legend_handles_labels()[1]
    ('log', ['toy (slope -1.00)'])
    >>> plt.close("all")
    """
    x = check_array("x", x)
    y = check_array("y", y)
    if x.shape != y.shape or x.ndim != 1:
        raise ValueError(f"x and y must be 1-D arrays of the same shape, got {x.shape} and {y.shape}")
    ax = get_ax(ax)
    text = label if fit is None or label is None else f"{label} (slope {fit.slope:.2f})"
    (line,) = ax.plot(x, y, "o", label=text, **style)
    if fit is not None:
        grid = np.geomspace(x.min(), x.max(), 50)
        ax.plot(grid, fit.predict(grid), "-", color=line.get_color(), alpha=0.8)
    ax.set_xscale("log")
    ax.set_yscale("log")
    return ax


def annotate_slope(ax: Axes, x: float, y: float, slope: float, text: str | None = None) -> Axes:
    """Write a slope label (default ``slope -0.50``) at data point ``(x, y)`` of a log-log plot.

    Examples
    --------
    >>> ax = annotate_slope(get_ax(), 10, 1, -0.5); ax.texts[0].get_text()
    'slope -0.50'
    >>> plt.close("all")
    """
    x, y, slope = check_real("x", x), check_real("y", y), check_real("slope", slope)
    ax.annotate(text or f"slope {slope:.2f}", (x, y), textcoords="offset points", xytext=(6, 6))
    return ax
