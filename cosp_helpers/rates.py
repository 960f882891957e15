"""Rates from data: the slope of a straight line through ``(log x, log y)``.

A rate ``y ~ C x^a`` is a straight line of slope ``a`` on log-log axes. The fit is ordinary least
squares on the logarithms; the standard error of the slope is the textbook one for a straight line
(it measures scatter about the line, not the bias of a pre-asymptotic range).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ._checks import check_array

__all__ = ["SlopeFit", "fit_loglog_slope"]


class SlopeFit(NamedTuple):
    """``log y = intercept + slope * log x`` (natural logarithms).

    Examples
    --------
    >>> fit = SlopeFit(slope=-0.5, intercept=0.0, stderr=0.0, r2=1.0)
    >>> fit.predict([4.0, 100.0]).tolist()
    [0.5, 0.1]
    """

    slope: float
    intercept: float
    stderr: float  # standard error of the slope (nan with only two points)
    r2: float  # coefficient of determination of the log-log fit

    def predict(self, x: np.ndarray) -> np.ndarray:
        """``exp(intercept) * x**slope``."""
        return np.exp(self.intercept) * check_array("x", x) ** self.slope


def fit_loglog_slope(x: np.ndarray, y: np.ndarray) -> SlopeFit:
    """Fit ``y = C x^a`` by least squares on ``log y`` against ``log x``.

    Parameters
    ----------
    x, y : array_like, shape (n,)
        Positive, finite values; ``n >= 2``; ``x`` not all equal.

    Returns
    -------
    SlopeFit

    Examples
    --------
    >>> fit = fit_loglog_slope([1, 10, 100], [1, 0.1, 0.01])
    >>> round(fit.slope, 12), round(fit.r2, 12)
    (-1.0, 1.0)
    >>> fit.predict([1000]).round(12).tolist()
    [0.001]
    """
    x = check_array("x", x)
    y = check_array("y", y)
    for name, v in (("x", x), ("y", y)):
        if v.ndim != 1:
            raise ValueError(f"{name} must be 1-D, got shape {v.shape}")
        if not np.all(np.isfinite(v)) or not np.all(v > 0):
            raise ValueError(f"{name} must hold positive finite values, got {v.tolist()}")
    if x.shape != y.shape:
        raise ValueError(f"x and y must have the same shape, got {x.shape} and {y.shape}")
    if x.size < 2:
        raise ValueError(f"x and y must hold at least 2 points to fit a slope, got {x.size}")
    lx, ly = np.log(x), np.log(y)
    if np.ptp(lx) == 0:
        raise ValueError("x values are all equal: the slope is undefined")
    slope, intercept = np.polyfit(lx, ly, 1)
    resid = ly - (intercept + slope * lx)
    ss_tot = float(np.sum((ly - ly.mean()) ** 2))
    r2 = 1.0 - float(np.sum(resid**2)) / ss_tot if ss_tot > 0 else 1.0
    n = x.size
    stderr = float(np.sqrt(np.sum(resid**2) / (n - 2) / np.sum((lx - lx.mean()) ** 2))) if n > 2 else float("nan")
    return SlopeFit(float(slope), float(intercept), stderr, r2)
