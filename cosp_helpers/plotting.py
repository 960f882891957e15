"""Plot helpers for figures a class can read from the back row.

Every helper takes ``ax=None`` (a new figure is made when it is None) and returns the Axes. None
of them changes matplotlib's global settings; a notebook that wants large type everywhere applies
:func:`lecture_rc` itself, e.g. ``plt.rcParams.update(lecture_rc())``.
"""

from __future__ import annotations

from typing import Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes

from ._checks import check_array, check_real
from .rates import SlopeFit

__all__ = ["lecture_rc", "get_ax", "plot_loglog", "annotate_slope"]


def lecture_rc() -> dict[str, object]:
    """matplotlib settings for projection: large type, thick lines, a colour-blind-safe cycle.

    Examples
    --------
    >>> lecture_rc()["font.size"]
    14
    """
    from cycler import cycler

    # Okabe & Ito (2008) colour-blind-safe palette
    colours = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442"]
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
