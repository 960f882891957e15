"""Hand-wired ReLU constructions: the interval indicator, min, the 2-D indicator, the hard threshold.

Every network here is a ``torch.nn.Module`` built from ``nn.Linear`` layers whose weights are
set by formula (nothing is trained) and ``nn.ReLU`` layers; :func:`count_relu_units` counts the
ReLU units by running the module once. The constructions follow CBMM Memo 138, §6.8
("Neural networks: splines viewpoint"):

* :class:`IntervalIndicator` -- 4 units: 0 before ``x0``, a ramp up to 1 at ``x0 + eta``, flat,
  a ramp down from ``x1 - eta`` to 0 at ``x1``; its L2 distance to the indicator of
  ``[x0, x1)`` is ``sqrt(2 eta / 3)`` (:func:`interval_l2_error`).
* :class:`MinNet` -- 3 units, ``min(a, b) = a_+ - (-a)_+ - (a - b)_+``, exact on all reals.
* :class:`BoxIndicator` -- 11 units, ``min(R_x(x), R_y(y))`` (:func:`box_l2_error`).
* :func:`symmetric_difference_threshold` -- ``((x + eps)_+ - (x - eps)_+) / (2 eps)``.

:mod:`cosp_helpers.lemma2` assembles these pieces into the deep network of Lemma 2.

All modules compute in float64 by default: a ramp of width ``eta`` divides by ``eta``, so the
rounding error of a flat part is about ``1e-16 / eta``.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from ._checks import check_array, check_int, check_open_interval, check_positive, check_real

__all__ = [
    "count_relu_units",
    "interval_indicator",
    "interval_l2_error",
    "box_l2_error",
    "symmetric_difference_threshold",
    "IntervalIndicator",
    "MinNet",
    "BoxIndicator",
    "interval_indicator_summary",
]

_RAMP_SIGNS = (1.0, -1.0, -1.0, 1.0)  # R = [(x-x0)_+ - (x-x0-eta)_+ - (x-x1+eta)_+ + (x-x1)_+] / eta


# --- counting ----------------------------------------------------------------------------------


def count_relu_units(module: nn.Module, n_inputs: int) -> int:
    """Count the ReLU units of ``module`` by running it once on one input of ``n_inputs`` numbers.

    Every call of an ``nn.ReLU`` submodule during the forward pass contributes the number of
    values it rectifies per sample. Nothing is inferred from the module's structure.

    Parameters
    ----------
    module : torch.nn.Module
        Takes inputs of shape ``(batch, n_inputs)``.
    n_inputs : int
        Input width, ``>= 1``.

    Returns
    -------
    int

    References
    ----------
    CBMM Memo 138, §6.8: the unit counts 4, 3 and 11 of the indicator construction.

    Examples
    --------
    >>> count_relu_units(nn.Sequential(nn.Linear(3, 5), nn.ReLU(), nn.Linear(5, 2), nn.ReLU()), 3)
    7
    """
    if not isinstance(module, nn.Module):
        raise TypeError(f"module must be a torch.nn.Module, got {type(module).__name__}")
    n_inputs = check_int("n_inputs", n_inputs, minimum=1)
    counted: list[int] = []
    hooks = [m.register_forward_hook(lambda _m, _i, out: counted.append(out[0].numel()))
             for m in module.modules() if isinstance(m, nn.ReLU)]
    dtype = next((p.dtype for p in module.parameters()), torch.float64)
    try:
        with torch.no_grad():
            module(torch.zeros(1, n_inputs, dtype=dtype))
    finally:
        for hook in hooks:
            hook.remove()
    return sum(counted)


# --- closed forms ------------------------------------------------------------------------------


def _check_interval(x0: object, x1: object, eta: object, names: tuple[str, str] = ("x0", "x1")) -> tuple[float, float, float]:
    lo, hi = names
    x0, x1 = check_real(lo, x0), check_real(hi, x1)
    if not x0 < x1:
        raise ValueError(f"{hi} must be > {lo}, got {lo}={x0}, {hi}={x1}")
    eta = check_open_interval("eta", eta, 0.0, (x1 - x0) / 2, closed_right=True)
    return x0, x1, eta


def interval_indicator(x: np.ndarray, x0: float, x1: float, eta: float) -> np.ndarray:
    """The trapezoid ``R_{x0,x1}`` in closed form: ``clip(min(x - x0, x1 - x) / eta, 0, 1)``.

    0 for ``x <= x0`` and ``x >= x1``, 1 on ``[x0 + eta, x1 - eta]``, linear ramps in between.
    This is the reference that :class:`IntervalIndicator` computes with 4 ReLU units.

    Parameters
    ----------
    x : array_like
        Points.
    x0, x1 : float
        The interval, ``x0 < x1``.
    eta : float
        Ramp width, ``0 < eta <= (x1 - x0) / 2``.

    Returns
    -------
    numpy.ndarray
        Same shape as ``x``.

    References
    ----------
    CBMM Memo 138, §6.8 ("a specific construction").

    Examples
    --------
    >>> interval_indicator(np.array([0.0, 0.25, 0.5, 0.95, 1.0]), 0.2, 1.0, 0.1).round(12).tolist()
    [0.0, 0.5, 1.0, 0.5, 0.0]
    """
    x0, x1, eta = _check_interval(x0, x1, eta)
    x = check_array("x", x)
    return np.clip(np.minimum(x - x0, x1 - x) / eta, 0.0, 1.0)


def interval_l2_error(eta: float) -> float:
    """``||chi_[x0,x1) - R_{x0,x1}||_{L2} = sqrt(2 eta / 3)``, whatever the interval.

    Each of the two ramps differs from the indicator by a linear function running from 1 to 0
    over a width ``eta``: ``int_0^eta (t / eta)^2 dt = eta / 3`` each.

    Parameters
    ----------
    eta : float
        Ramp width, ``> 0``.

    Returns
    -------
    float

    References
    ----------
    CBMM Memo 138, §6.8: ``||chi - R||_{L2[0,1]} <= eps`` for a suitable 4-unit ``R``.

    Examples
    --------
    >>> round(interval_l2_error(0.015), 6)
    0.1
    """
    return math.sqrt(2 * check_positive("eta", eta) / 3)


def box_l2_error(x0: float, x1: float, y0: float, y1: float, eta: float) -> float:
    """``||chi_I - min(R_x, R_y)||_{L2}`` for ``I = [x0, x1) x [y0, y1)``: ``sqrt((2 eta/3)(w_x + w_y - eta))``.

    ``w_x = x1 - x0`` and ``w_y = y1 - y0``. The error lives inside ``I``, where it equals
    ``max(1 - R_x, 1 - R_y)^2``; the ramps carry ``1 - R`` uniformly over ``[0, 1]`` on a set of
    length ``2 eta`` per axis, and ``E[max(U, V)^2] = 1/2`` for independent uniforms gives the
    corner term. The formula holds on any domain that contains ``I``.

    Parameters
    ----------
    x0, x1, y0, y1 : float
        The box, ``x0 < x1``, ``y0 < y1``.
    eta : float
        Ramp width, ``0 < eta <= min(w_x, w_y) / 2``.

    Returns
    -------
    float

    References
    ----------
    CBMM Memo 138, §6.8 (the bound ``||chi_I - Phi_I||^2 <= c eps^2``; here ``c = w_x + w_y - eta``).

    Examples
    --------
    >>> round(box_l2_error(0, 1, 0, 1, 0.1) ** 2, 6)  # (0.2 / 3) * 1.9
    0.126667
    """
    _, _, eta = _check_interval(x0, x1, eta)
    _check_interval(y0, y1, eta, ("y0", "y1"))
    return math.sqrt(2 * eta / 3 * ((x1 - x0) + (y1 - y0) - eta))


def symmetric_difference_threshold(x: np.ndarray, eps: float) -> np.ndarray:
    """``((x + eps)_+ - (x - eps)_+) / (2 eps)``: two ReLU units that make a step of width ``2 eps``.

    It equals ``clip((x + eps) / (2 eps), 0, 1)``: exactly 0 for ``x <= -eps``, exactly 1 for
    ``x >= eps`` (in exact arithmetic; in floating point up to the rounding of ``x +- eps``).

    Parameters
    ----------
    x : array_like
        Points.
    eps : float
        Half-width, ``> 0``.

    Returns
    -------
    numpy.ndarray

    References
    ----------
    CBMM Memo 138, end of §6.8 (the hard threshold from a symmetric difference ratio).

    Examples
    --------
    >>> symmetric_difference_threshold(np.array([-2.0, -1.0, 0.0, 0.5, 1.0, 3.0]), 1.0).tolist()
    [0.0, 0.0, 0.5, 0.75, 1.0, 1.0]
    """
    eps = check_positive("eps", eps)
    x = check_array("x", x)
    return (np.maximum(x + eps, 0.0) - np.maximum(x - eps, 0.0)) / (2 * eps)


# --- the three small networks ------------------------------------------------------------------


def _set(layer: nn.Linear, weight: np.ndarray, bias: np.ndarray | None = None) -> nn.Linear:
    with torch.no_grad():
        layer.weight.copy_(torch.as_tensor(weight, dtype=layer.weight.dtype))
        bias = np.zeros(layer.out_features) if bias is None else bias
        layer.bias.copy_(torch.as_tensor(bias, dtype=layer.bias.dtype))
    layer.requires_grad_(False)
    return layer


def _ramp_layers(
    intervals: list[list[tuple[float, float]]], eta: float, dtype: torch.dtype
) -> tuple[nn.Linear, nn.Linear]:
    """Layers for interval indicators on several input axes: ``intervals[a]`` lists axis a's intervals.

    Returns ``ramps`` (inputs -> 4 units per interval, followed by a ReLU) and ``combine`` (the
    ramp units -> one indicator per interval, linear), indicators ordered axis by axis.
    """
    n_axes, n_ind = len(intervals), sum(len(row) for row in intervals)
    w_r, b_r, w_c = np.zeros((4 * n_ind, n_axes)), np.zeros(4 * n_ind), np.zeros((n_ind, 4 * n_ind))
    row = 0
    for axis, row_intervals in enumerate(intervals):
        for x0, x1 in row_intervals:
            units = slice(4 * row, 4 * row + 4)
            w_r[units, axis] = 1.0
            b_r[units] = [-x0, -(x0 + eta), -(x1 - eta), -x1]  # knots of the trapezoid
            w_c[row, units] = np.array(_RAMP_SIGNS) / eta
            row += 1
    ramps = _set(nn.Linear(n_axes, 4 * n_ind, dtype=dtype), w_r, b_r)
    combine = _set(nn.Linear(4 * n_ind, n_ind, dtype=dtype), w_c)
    return ramps, combine


class IntervalIndicator(nn.Module):
    """``R_{x0,x1}``: an approximate indicator of ``[x0, x1)`` with 4 ReLU units in one layer.

    ``R(x) = [(x - x0)_+ - (x - x0 - eta)_+ - (x - x1 + eta)_+ + (x - x1)_+] / eta``: it rises
    from 0 at ``x0`` to 1 at ``x0 + eta``, stays 1 up to ``x1 - eta`` and falls to 0 at ``x1``.
    Both ramps lie inside ``[x0, x1]``, so ``R <= chi_[x0,x1)`` everywhere.

    Parameters
    ----------
    x0, x1 : float
        The interval, ``x0 < x1`` (any reals).
    eta : float
        Ramp width, ``0 < eta <= (x1 - x0) / 2``.
    dtype : torch.dtype
        Of the weights and of the inputs it accepts.

    References
    ----------
    CBMM Memo 138, §6.8 ("at most 4 units in one layer").

    Examples
    --------
    >>> r = IntervalIndicator(0.2, 0.6, 0.1)
    >>> r(torch.tensor([[0.1], [0.25], [0.4], [0.6]], dtype=torch.float64)).squeeze(1).round(decimals=12).tolist()
    [0.0, 0.5, 1.0, 0.0]
    >>> count_relu_units(r, 1)
    4
    """

    def __init__(self, x0: float, x1: float, eta: float, dtype: torch.dtype = torch.float64) -> None:
        super().__init__()
        self.x0, self.x1, self.eta = _check_interval(x0, x1, eta)
        self.ramps, self.combine = _ramp_layers([[(self.x0, self.x1)]], self.eta, dtype)
        self.relu = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, 1) -> (B, 1)
        return self.combine(self.relu(self.ramps(x)))


class MinNet(nn.Module):
    """``phi(a, b) = a_+ - (-a)_+ - (a - b)_+ = min(a, b)`` with 3 ReLU units, exact on all reals.

    ``a_+ - (-a)_+ = a``, and ``a - (a - b)_+`` is ``b`` when ``a > b`` and ``a`` otherwise.

    Parameters
    ----------
    dtype : torch.dtype
        Of the weights.

    References
    ----------
    CBMM Memo 138, §6.8 (the first line of the definition of ``phi``; the memo's second
    expression, ``(a + b)/2 + |a - b|/2``, is the maximum).

    Examples
    --------
    >>> MinNet()(torch.tensor([[3.0, -2.0], [-1.5, 4.0]], dtype=torch.float64)).squeeze(1).tolist()
    [-2.0, -1.5]
    >>> count_relu_units(MinNet(), 2)
    3
    """

    def __init__(self, dtype: torch.dtype = torch.float64) -> None:
        super().__init__()
        self.units = _set(nn.Linear(2, 3, dtype=dtype), np.array([[1.0, 0.0], [-1.0, 0.0], [1.0, -1.0]]))
        self.relu = nn.ReLU()
        self.out = _set(nn.Linear(3, 1, dtype=dtype), np.array([[1.0, -1.0, -1.0]]))

    def forward(self, ab: torch.Tensor) -> torch.Tensor:  # (B, 2) -> (B, 1)
        return self.out(self.relu(self.units(ab)))


class BoxIndicator(nn.Module):
    """``Phi_I(x, y) = phi(R_{x0,x1}(x), R_{y0,y1}(y))``: an approximate indicator of a box, 11 units.

    Parameters
    ----------
    x0, x1, y0, y1 : float
        The box ``I = [x0, x1) x [y0, y1)``.
    eta : float
        Ramp width of both 1-D indicators.
    dtype : torch.dtype
        Of the weights.

    References
    ----------
    CBMM Memo 138, §6.8 ("a two layered network with 11 units total").

    Examples
    --------
    >>> box = BoxIndicator(0.0, 0.5, 0.5, 1.0, 0.05)
    >>> xy = torch.tensor([[0.25, 0.75], [0.75, 0.75], [0.25, 0.525]], dtype=torch.float64)
    >>> box(xy).squeeze(1).round(decimals=12).tolist()
    [1.0, 0.0, 0.5]
    >>> count_relu_units(box, 2)
    11
    """

    def __init__(
        self, x0: float, x1: float, y0: float, y1: float, eta: float, dtype: torch.dtype = torch.float64
    ) -> None:
        super().__init__()
        _check_interval(x0, x1, eta)
        _check_interval(y0, y1, eta, ("y0", "y1"))
        self.rx = IntervalIndicator(x0, x1, eta, dtype)
        self.ry = IntervalIndicator(y0, y1, eta, dtype)
        self.min = MinNet(dtype)

    def forward(self, xy: torch.Tensor) -> torch.Tensor:  # (B, 2) -> (B, 1)
        return self.min(torch.cat([self.rx(xy[:, :1]), self.ry(xy[:, 1:2])], dim=1))


# --- widget computations -----------------------------------------------------------------------


def interval_indicator_summary(x0: float, x1: float, eta: float, n_points: int = 20_000) -> dict:
    """Data for the interval-indicator explorer: the network on ``[0, 1]`` and its L2 error.

    ``eta`` is reduced to ``(x1 - x0) / 2`` when it is larger (the widest trapezoid that still
    reaches 1); ``eta_used`` says what was drawn. The error is measured by the midpoint rule on
    ``n_points`` cells of ``[0, 1]``.

    Parameters
    ----------
    x0, x1 : float
        The interval, ``0 <= x0 < x1 <= 1``.
    eta : float
        Requested ramp width, ``> 0``.
    n_points : int
        Midpoints of ``[0, 1]``, ``>= 100``.

    Returns
    -------
    dict
        ``x``, ``chi``, ``r`` (arrays), ``x0``, ``x1``, ``eta`` (as asked), ``eta_used``, ``measured``,
        ``predicted`` (= sqrt(2 eta_used / 3)).

    References
    ----------
    CBMM Memo 138, §6.8.

    Examples
    --------
    >>> s = interval_indicator_summary(0.2, 0.8, 0.1)
    >>> abs(s["measured"] - s["predicted"]) < 1e-3, s["eta_used"]
    (True, 0.1)
    """
    x0, x1 = check_real("x0", x0), check_real("x1", x1)
    if not 0 <= x0 < x1 <= 1:
        raise ValueError(f"x0 and x1 must satisfy 0 <= x0 < x1 <= 1, got x0={x0}, x1={x1}")
    eta_used = min(check_positive("eta", eta), (x1 - x0) / 2)
    n_points = check_int("n_points", n_points, minimum=100)
    x = (np.arange(n_points) + 0.5) / n_points
    with torch.no_grad():
        r = IntervalIndicator(x0, x1, eta_used)(torch.as_tensor(x[:, None])).numpy()[:, 0]
    chi = ((x >= x0) & (x < x1)).astype(float)
    measured = math.sqrt(np.mean((chi - r) ** 2))
    return {"x": x, "chi": chi, "r": r, "x0": x0, "x1": x1, "eta": eta, "eta_used": eta_used,
            "measured": measured, "predicted": interval_l2_error(eta_used)}
