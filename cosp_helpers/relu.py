"""Hand-wired ReLU networks: the interval indicator, min, the 2-D indicator, the hard threshold, and Lemma 2's deep network for binary-tree functions.

Every network here is a ``torch.nn.Module`` built from ``nn.Linear`` layers whose weights are set by formula
(nothing is trained) and ``nn.ReLU`` layers; :func:`count_relu_units` counts the ReLU units by running the
module once. The constructions follow CBMM Memo 138, §6.8 ("Neural networks: splines viewpoint").

The pieces:

* :class:`IntervalIndicator` -- 4 units: 0 before ``x0``, a ramp up to 1 at ``x0 + eta``, flat, a ramp down
  from ``x1 - eta`` to 0 at ``x1``; its L2 distance to the indicator of ``[x0, x1)`` is ``sqrt(2 eta / 3)``
  (:func:`interval_l2_error`).
* :class:`MinNet` -- 3 units, ``min(a, b) = a_+ - (-a)_+ - (a - b)_+``, exact on all reals.
* :class:`BoxIndicator` -- 11 units, ``min(R_x(x), R_y(y))`` (:func:`box_l2_error`).
* :func:`symmetric_difference_threshold` -- ``((x + eps)_+ - (x - eps)_+) / (2 eps)``.

Lemma 2, assembled from them. A binary-tree function (:class:`TreeTarget`, :func:`binary_tree_target`)
composes Lipschitz constituents of two variables (:func:`constituent`). Lemma 2's network replaces each
constituent by a piecewise-constant approximation on a ``k x k`` grid, a sum of 2-D indicators weighted by
the cell values:

* :class:`NodeGridNet`, :class:`TreeGridNet` -- ``3 k^2 + 8 k`` units per node, so ``(n - 1)(3 k^2 + 8 k)``
  for the tree (:func:`tree_grid_units`); :func:`tree_error_bounds` is the error bound that propagates
  through the tree's Lipschitz constants.
* :class:`FlatGridNet` -- the shallow alternative, one unit per cell of a ``k^n`` grid
  (:func:`flat_grid_units`).

All modules compute in float64 by default: a ramp of width ``eta`` divides by ``eta``, so the rounding
error of a flat part is about ``1e-16 / eta``.
"""

from __future__ import annotations

from dataclasses import dataclass
import itertools
import math
from typing import Callable, NamedTuple, Sequence

import numpy as np
import torch
from torch import nn

from ._checks import (
    MAX_ELEMENTS,
    MAX_MODULES,
    check_allocation,
    check_array,
    check_exact_power,
    check_int,
    check_open_interval,
    check_positive,
    check_power_of_two,
    check_real,
    check_size,
)

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
    "Constituent",
    "constituent",
    "TreeTarget",
    "binary_tree_target",
    "tree_error_bounds",
    "NodeGridNet",
    "TreeTrace",
    "TreeGridNet",
    "FlatGridNet",
    "tree_grid_units",
    "flat_grid_units",
    "node_approximation_summary",
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
        Input width, in ``1..2**24``.

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
    n_inputs = check_size("n_inputs", n_inputs)
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


# === Lemma 2: deep networks for binary-tree functions ========================================================

_MAX_FLAT_CELLS = 2**20  # a FlatGridNet stores one weight row per cell
# A NodeGridNet's largest weight matrix is the (3k^2, 2k) matrix of its min units: 6k^3 numbers, at most
# MAX_ELEMENTS = 2**28, hence k <= 355.
_MAX_NODE_K = 355  # 6 * 355**3 <= 2**28 < 6 * 356**3


# --- binary-tree targets -----------------------------------------------------------------------


class Constituent(NamedTuple):
    """A function of two variables on ``[0, 1]^2`` with a known Lipschitz constant and range.

    ``lipschitz`` bounds ``|g(p) - g(q)| / max(|p_1 - q_1|, |p_2 - q_2|)`` (the max-norm; for
    smooth ``g`` it is the largest ``|dg/da| + |dg/db|``), and ``[lo, hi]`` contains every value.

    Examples
    --------
    >>> g = constituent("power mean"); g.lipschitz, g.lo, g.hi
    (1.0, 0.0, 1.0)
    >>> round(float(g.fn(np.array(0.6), np.array(0.8))) ** 2, 12)
    0.5
    """

    name: str
    fn: Callable[[np.ndarray, np.ndarray], np.ndarray]
    lipschitz: float
    lo: float
    hi: float


_CATALOGUE: dict[str, tuple[Callable[[np.ndarray, np.ndarray], np.ndarray], float]] = {
    # name: (g(a, b), Lipschitz constant in the max-norm); every range is [0, 1]
    "tilted average": (lambda a, b: (a + b) / 2 + 0.4 * np.sin(2 * np.pi * (a - b)) / (2 * np.pi), 1.0),
    "power mean": (lambda a, b: np.sqrt((a * a + b * b) / 2), 1.0),
    "maximum": (lambda a, b: np.maximum(a, b), 1.0),
    "distance": (lambda a, b: np.abs(a - b), 2.0),
    "product": (lambda a, b: a * b, 2.0),
    "ripple": (lambda a, b: (1 + np.sin(2 * np.pi * a) * np.sin(2 * np.pi * b)) / 2, math.pi),
}


def constituent(name: str) -> Constituent:
    """A constituent from a small catalogue, each mapping ``[0, 1]^2`` onto ``[0, 1]``.

    ==================  ==============================================  ===========
    name                g(a, b)                                         Lipschitz
    ==================  ==============================================  ===========
    "tilted average"    (a + b)/2 + 0.4 sin(2 pi (a - b)) / (2 pi)      1
    "power mean"        sqrt((a^2 + b^2) / 2)                           1
    "maximum"           max(a, b)                                       1
    "distance"          abs(a - b)                                      2
    "product"           a b                                             2
    "ripple"            (1 + sin(2 pi a) sin(2 pi b)) / 2               pi
    ==================  ==============================================  ===========

    The constants are exact in the max-norm: the tilted average has ``|g_a| + |g_b| = 1``
    because both partial derivatives ``1/2 +- 0.4 cos`` are positive; the ripple's
    ``pi (|cos A sin B| + |sin A cos B|) = pi max|sin(A +- B)|`` reaches ``pi``.

    Parameters
    ----------
    name : str
        One of the names above.

    Returns
    -------
    Constituent

    References
    ----------
    CBMM Memo 138, §6.8 (Lipschitz constituents of a binary tree, as in Lemma 2).

    Examples
    --------
    >>> constituent("ripple").lipschitz == math.pi
    True
    """
    if name not in _CATALOGUE:
        raise ValueError(f"name must be one of {sorted(_CATALOGUE)}, got {name!r}")
    fn, lipschitz = _CATALOGUE[name]
    return Constituent(name, fn, lipschitz, 0.0, 1.0)


@dataclass(frozen=True)
class TreeTarget:
    """A compositional function with a binary-tree graph on ``[0, 1]^n``, ``n = 2^depth``.

    ``levels[0]`` holds the ``n/2`` constituents that read the inputs in pairs ``(x_1, x_2),
    (x_3, x_4), ...``; ``levels[j]`` the ``n / 2^(j+1)`` constituents of level ``j``; the last level
    holds the root. Between levels each value ``y`` of a constituent with range ``[lo, hi]`` is
    mapped affinely to ``u = (y - lo) / (hi - lo)`` in ``[0, 1]``, the domain of its parent.
    Build one with :func:`binary_tree_target`.

    Examples
    --------
    >>> f = binary_tree_target(4, constituent("maximum"))
    >>> f.n_inputs, f.depth, f(np.array([[0.1, 0.7, 0.3, 0.2]])).tolist()
    (4, 2, [0.7])
    """

    levels: tuple[tuple[Constituent, ...], ...]

    @property
    def n_inputs(self) -> int:
        """Number of input variables ``n``."""
        return 2 * len(self.levels[0])

    @property
    def depth(self) -> int:
        """Number of levels, ``log2 n``."""
        return len(self.levels)

    def node_values(self, x: np.ndarray) -> list[np.ndarray]:
        """The value of every constituent at the points ``x`` (shape ``(N, n)``): one ``(N, m_j)`` array per level."""
        u = check_array("x", x)
        if u.ndim != 2 or u.shape[1] != self.n_inputs:
            raise ValueError(f"x must have shape (N, {self.n_inputs}), got {u.shape}")
        values = []
        for level in self.levels:
            y = np.stack([g.fn(u[:, 2 * i], u[:, 2 * i + 1]) for i, g in enumerate(level)], axis=1)  # (N, m)
            values.append(y)
            lo, hi = np.array([g.lo for g in level]), np.array([g.hi for g in level])
            u = (y - lo) / (hi - lo)
        return values

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return self.node_values(x)[-1][:, 0]


def binary_tree_target(n: int, constituents: Constituent | Sequence[Constituent]) -> TreeTarget:
    """The binary-tree function on ``n = 2^depth`` inputs with the given constituents.

    Parameters
    ----------
    n : int
        Number of inputs, a power of 2, ``2 <= n <= 2**24``.
    constituents : Constituent or sequence of Constituent
        One constituent for every node, or ``n - 1`` of them listed level by level from the
        inputs up, left to right.

    Returns
    -------
    TreeTarget

    References
    ----------
    CBMM Memo 138, §6.8 (Lemma 2), §6.5 (binary-tree compositional functions).

    Examples
    --------
    >>> f = binary_tree_target(4, [constituent("maximum"), constituent("product"), constituent("distance")])
    >>> [[g.name for g in level] for level in f.levels]
    [['maximum', 'product'], ['distance']]
    >>> f(np.array([[0.1, 0.7, 0.5, 0.6]])).round(2).tolist()  # |max(0.1, 0.7) - 0.5 * 0.6|
    [0.4]
    """
    n = check_power_of_two("n", n)
    check_size("n", n)
    if isinstance(constituents, Constituent):
        constituents = [constituents] * (n - 1)
    constituents = list(constituents)
    if len(constituents) != n - 1 or not all(isinstance(g, Constituent) for g in constituents):
        raise ValueError(
            "constituents must be one Constituent or a sequence of n - 1 = "
            f"{n - 1} of them, got {len(constituents)} items"
        )
    for g in constituents:
        if not g.hi > g.lo:
            raise ValueError(f"constituent {g.name!r} must have hi > lo, got [{g.lo}, {g.hi}]")
    levels, start, m = [], 0, n // 2
    while m >= 1:
        levels.append(tuple(constituents[start:start + m]))
        start, m = start + m, m // 2
    return TreeTarget(tuple(levels))


def tree_error_bounds(target: TreeTarget, k: int, eta_fraction: float = 1e-6) -> list[np.ndarray]:
    """Bounds on the error of every node of :class:`TreeGridNet` ``(target, k)``, level by level.

    A node ``v`` with Lipschitz constant ``L_v`` makes its own error ``L_v (h/2 + eta)`` (the
    distance from a point to the centre of the cell it is assigned to, ``h = 1/k``,
    ``eta = eta_fraction * h``) and passes on its children's errors, each divided by its
    child's range to put it in the parent's units, times ``L_v``::

        E_v <= L_v (h/2 + eta) + L_v max_c E_c / (hi_c - lo_c).

    The bound holds at every point where no node has both inputs inside ramps (see
    :class:`TreeGridNet`). It is proportional to ``1/k``.

    Parameters
    ----------
    target : TreeTarget
    k : int
        Cells per axis at every node, ``>= 1``.
    eta_fraction : float
        Ramp width as a fraction of a cell, in ``(0, 1]``.

    Returns
    -------
    list of numpy.ndarray
        ``bounds[j][i]`` for node ``i`` of level ``j``; the root's is ``bounds[-1][0]``.

    References
    ----------
    CBMM Memo 138, §6.8 (Lemma 2, whose count does not show this accumulation) and §6.5.

    Examples
    --------
    >>> f = binary_tree_target(8, constituent("maximum"))  # L = 1 everywhere: the bound is depth * h / 2
    >>> [round(float(b[0]), 6) for b in tree_error_bounds(f, 10)]
    [0.05, 0.1, 0.15]
    """
    if not isinstance(target, TreeTarget):
        raise TypeError(f"target must be a TreeTarget, got {type(target).__name__}")
    k = check_int("k", k, minimum=1)
    eta_fraction = check_open_interval("eta_fraction", eta_fraction, 0.0, 1.0, closed_right=True)
    own = (0.5 + eta_fraction) / k
    bounds, below, ranges = [], None, None
    for level in target.levels:
        lip = np.array([g.lipschitz for g in level])
        passed = 0.0 if below is None else np.maximum(below[0::2] / ranges[0::2], below[1::2] / ranges[1::2])
        below = lip * (own + passed)
        ranges = np.array([g.hi - g.lo for g in level])
        bounds.append(below)
    return bounds


# --- Lemma 2 networks --------------------------------------------------------------------------


def _grid_intervals(k: int, eta: float) -> list[tuple[float, float]]:
    """Cell j of ``[0, 1]``: the trapezoid rises over ``(j/k - eta, j/k)`` and falls over ``((j+1)/k - eta, (j+1)/k)``.

    Neighbouring ramps overlap exactly, so the k indicators sum to 1 on ``[0, 1]``; the last one
    is stretched to fall after 1, so that the point 1 belongs to the last cell.
    """
    return [(j / k - eta, (j + 1) / k if j < k - 1 else 1 + eta) for j in range(k)]


def _check_grid(k: object, eta_fraction: object, node: bool = True) -> tuple[int, float]:
    """``k`` and ``eta_fraction``; with ``node``, ``k`` is the grid of a :class:`NodeGridNet`, at most 355."""
    k = check_int("k", k, minimum=1, maximum=_MAX_NODE_K if node else None)
    return k, check_open_interval("eta_fraction", eta_fraction, 0.0, 1.0, closed_right=True)


class NodeGridNet(nn.Module):
    """One node of Lemma 2: ``sum_ij g(c_i, c_j) Phi_ij(a, b)`` over the ``k x k`` grid, ``3k^2 + 8k`` units.

    Layers: 4 ramp units for each of the ``k`` intervals of each input (``8k`` units), a linear
    layer forming the ``2k`` interval indicators, 3 units per cell for ``min`` (``3k^2`` units),
    and a linear read-out weighting cell ``(i, j)`` by ``g`` at its centre ``(c_i, c_j)``,
    ``c_i = (i + 1/2)/k``. The ramps of width ``eta = eta_fraction / k`` sit just below each knot
    ``j/k``, so along each axis the indicators sum to 1: a point inside one ramp gets a convex
    combination of two neighbouring cell values. The table is kept in the buffer ``cell_values``
    (``k x k``, row ``i`` for the first input's cell).

    Parameters
    ----------
    g : Constituent
    k : int
        Cells per axis, ``1 <= k <= 355`` (the ``(3k^2, 2k)`` weights of the min units hold at most ``2**28``
        numbers).
    eta_fraction : float
        Ramp width as a fraction of a cell, in ``(0, 1]``.
    dtype : torch.dtype

    References
    ----------
    CBMM Memo 138, §6.8 ("one node in the graph ... contains O(k^2) units").

    Examples
    --------
    >>> net = NodeGridNet(constituent("product"), k=4)
    >>> round(net(torch.tensor([[0.3, 0.9]], dtype=torch.float64)).item(), 6)  # g at the centre (0.375, 0.875)
    0.328125
    >>> count_relu_units(net, 2) == 3 * 4**2 + 8 * 4
    True
    """

    def __init__(self, g: Constituent, k: int, eta_fraction: float = 1e-6, dtype: torch.dtype = torch.float64) -> None:
        super().__init__()
        if not isinstance(g, Constituent):
            raise TypeError(f"g must be a Constituent, got {type(g).__name__}")
        self.k, self.eta_fraction = _check_grid(k, eta_fraction)
        self.eta = self.eta_fraction / self.k
        cells = _grid_intervals(self.k, self.eta)
        self.ramps, self.indicators = _ramp_layers([cells, cells], self.eta, dtype)  # 2 -> 8k -> 2k
        kk = self.k * self.k
        i, j = np.divmod(np.arange(kk), self.k)  # cell (i, j) pairs R_x[i] with R_y[j]
        w_min = np.zeros((3 * kk, 2 * self.k))
        w_min[3 * np.arange(kk), i] = 1.0  # (R_x)_+
        w_min[3 * np.arange(kk) + 1, i] = -1.0  # (-R_x)_+
        w_min[3 * np.arange(kk) + 2, i] = 1.0  # (R_x - R_y)_+
        w_min[3 * np.arange(kk) + 2, self.k + j] = -1.0
        self.mins = _set(nn.Linear(2 * self.k, 3 * kk, dtype=dtype), w_min)
        centres = (np.arange(self.k) + 0.5) / self.k
        values = np.asarray(g.fn(centres[i], centres[j]), dtype=float)  # (k^2,)
        self.register_buffer("cell_values", torch.as_tensor(values.reshape(self.k, self.k), dtype=dtype))
        w_values = (values[:, None] * np.array([1.0, -1.0, -1.0])).reshape(1, -1)  # phi = (.)_+ - (.)_+ - (.)_+
        self.values = _set(nn.Linear(3 * kk, 1, dtype=dtype), w_values)
        self.relu = nn.ReLU()

    def forward(self, ab: torch.Tensor) -> torch.Tensor:  # (B, 2) -> (B, 1)
        r = self.indicators(self.relu(self.ramps(ab)))  # (B, 2k): R_x[0..k-1], R_y[0..k-1]
        return self.values(self.relu(self.mins(r)))  # (B, 3k^2) -> (B, 1)


class TreeTrace(NamedTuple):
    """What :meth:`TreeGridNet.trace` records: outputs, each node's inputs and outputs, corner points.

    Examples
    --------
    >>> net = TreeGridNet(binary_tree_target(4, constituent("maximum")), k=3)
    >>> t = net.trace(np.full((5, 4), 0.5)); t.output.shape, t.inputs[1].shape, t.outputs[0].shape
    ((5,), (5, 1, 2), (5, 2))
    """

    output: np.ndarray  # (N,) the network's value
    inputs: list[np.ndarray]  # per level, (N, m_j, 2): the inputs each node received, in [0, 1]
    outputs: list[np.ndarray]  # per level, (N, m_j): each node's output, before normalization
    corner: np.ndarray  # (N,) True where some node had both inputs strictly inside ramps


class TreeGridNet(nn.Module):
    """Lemma 2's deep network: a :class:`NodeGridNet` at every node of a binary tree, ``(n-1)(3k^2+8k)`` units.

    Between levels each node's output ``y`` is mapped affinely to ``(y - lo) / (hi - lo)``
    (no units: it can be folded into the next linear layer). At points where no node has both
    inputs inside ramps, the error at every node obeys :func:`tree_error_bounds`.

    Parameters
    ----------
    target : TreeTarget
        At most ``2**14`` nodes (each is a :class:`NodeGridNet` of its own, built in about a millisecond).
    k : int
        Cells per axis at every node, ``1 <= k <= 355``; the ``6 k^3`` min weights of the ``n - 1`` nodes are
        at most ``2**28`` numbers in all.
    eta_fraction : float
        Ramp width as a fraction of a cell, in ``(0, 1]``.
    dtype : torch.dtype

    References
    ----------
    CBMM Memo 138, §6.8 (Lemma 2 and the construction before it).

    Examples
    --------
    >>> f = binary_tree_target(4, constituent("tilted average"))
    >>> net = TreeGridNet(f, k=6)
    >>> count_relu_units(net, 4) == tree_grid_units(4, 6)
    True
    >>> x = np.random.default_rng(0).random((1000, 4))
    >>> bool(np.abs(net.trace(x).output - f(x)).max() <= tree_error_bounds(f, 6)[-1][0])
    True
    """

    def __init__(
        self, target: TreeTarget, k: int, eta_fraction: float = 1e-6, dtype: torch.dtype = torch.float64
    ) -> None:
        super().__init__()
        if not isinstance(target, TreeTarget):
            raise TypeError(f"target must be a TreeTarget, got {type(target).__name__}")
        self.target, self.dtype = target, dtype
        self.k, self.eta_fraction = _check_grid(k, eta_fraction)
        nodes = 2 * len(target.levels[0]) - 1
        if nodes > MAX_MODULES:
            raise ValueError(f"target has {nodes} nodes; a TreeGridNet builds at most {MAX_MODULES}, one module each")
        weights = nodes * 6 * self.k**3  # the (3k^2, 2k) min weights of every node
        if weights > MAX_ELEMENTS:
            raise ValueError(f"k = {self.k} with the target's {nodes} nodes asks for {nodes} x 6k^3 = {weights:.3g} weights; "
                             f"at most {MAX_ELEMENTS} (2 GiB of float64) are allowed: lower k")
        self.eta = self.eta_fraction / self.k
        self.levels = nn.ModuleList(
            nn.ModuleList(NodeGridNet(g, self.k, self.eta_fraction, dtype) for g in level) for level in target.levels
        )
        for j, level in enumerate(target.levels):
            self.register_buffer(f"lo_{j}", torch.tensor([g.lo for g in level], dtype=dtype))
            self.register_buffer(f"span_{j}", torch.tensor([g.hi - g.lo for g in level], dtype=dtype))

    def _run(self, x: torch.Tensor, record: list | None = None) -> torch.Tensor:
        u = x  # (B, n)
        for j, level in enumerate(self.levels):
            pairs = u.reshape(len(u), len(level), 2)  # (B, m, 2)
            y = torch.cat([node(pairs[:, i]) for i, node in enumerate(level)], dim=1)  # (B, m)
            if record is not None:
                record.append((pairs, y))
            u = (y - getattr(self, f"lo_{j}")) / getattr(self, f"span_{j}")
        return y  # (B, 1) at the root

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, n) -> (B, 1)
        return self._run(x)

    def _in_ramp(self, u: np.ndarray) -> np.ndarray:
        knot = np.ceil(u * self.k)  # the knot j/k just above u
        gap = knot / self.k - u
        return (knot >= 1) & (knot <= self.k - 1) & (gap > 0) & (gap < self.eta)

    def trace(self, x: np.ndarray, batch_size: int = 8192) -> TreeTrace:
        """Run the network on points ``x`` of shape ``(N, n)`` in batches and record every node."""
        x = check_array("x", x)
        if x.ndim != 2 or x.shape[1] != self.target.n_inputs:
            raise ValueError(f"x must have shape (N, {self.target.n_inputs}), got {x.shape}")
        batch_size = check_int("batch_size", batch_size, minimum=1)
        parts: list[list] = []
        with torch.no_grad():
            for start in range(0, len(x), batch_size):
                record: list = []
                self._run(torch.as_tensor(x[start:start + batch_size], dtype=self.dtype), record)
                parts.append(record)
        inputs = [np.concatenate([p[j][0].numpy() for p in parts]) for j in range(len(self.levels))]
        outputs = [np.concatenate([p[j][1].numpy() for p in parts]) for j in range(len(self.levels))]
        corner = np.zeros(len(x), dtype=bool)
        for u in inputs:
            ramp = self._in_ramp(u)  # (N, m, 2)
            corner |= (ramp[:, :, 0] & ramp[:, :, 1]).any(axis=1)
        return TreeTrace(outputs[-1][:, 0], inputs, outputs, corner)


class FlatGridNet(nn.Module):
    """The shallow alternative: one unit per cell of the ``k^n`` grid on ``[0, 1]^n``, ``k^n + 4kn`` units.

    The ``kn`` interval indicators are shared by all cells (``4kn`` units, the same trapezoids as
    :class:`NodeGridNet`); cell ``(i_1, ..., i_n)`` gets one unit ``(R_{i_1}(x_1) + ... + R_{i_n}(x_n) - (n - 1))_+``,
    which is 1 inside the cell and 0 in every other cell (the cheapest indicator there is),
    weighted by ``f`` at the cell's centre.

    Parameters
    ----------
    f : callable
        Points ``(N, n)`` to values ``(N,)``, e.g. a :class:`TreeTarget`.
    n : int
        Number of inputs, in ``1..2**24``.
    k : int
        Cells per axis; ``k^n`` must be at most ``2^20``, and the ``(4kn, kn)`` weights of the indicators at
        most ``2**28`` numbers.
    eta_fraction : float
        Ramp width as a fraction of a cell, in ``(0, 1]``.
    dtype : torch.dtype

    References
    ----------
    CBMM Memo 138, §6.8 ("the number of units is proportional to k^n").

    Examples
    --------
    >>> net = FlatGridNet(lambda x: x.sum(1), n=3, k=4)
    >>> count_relu_units(net, 3) == flat_grid_units(3, 4)
    True
    >>> round(net(torch.tensor([[0.1, 0.6, 0.9]], dtype=torch.float64)).item(), 6)  # 0.125 + 0.625 + 0.875
    1.625
    """

    def __init__(self, f: Callable[[np.ndarray], np.ndarray], n: int, k: int, eta_fraction: float = 1e-6,
                 dtype: torch.dtype = torch.float64) -> None:
        super().__init__()
        if not callable(f):
            raise TypeError(f"f must be callable (points (N, n) -> values (N,)), got {type(f).__name__}")
        self.n = check_size("n", n)
        self.k, self.eta_fraction = _check_grid(k, eta_fraction, node=False)
        # compare logarithms first, so that k**n is never formed when it is huge
        if self.k > 1 and (self.n * math.log2(self.k) > 21 or self.k**self.n > _MAX_FLAT_CELLS):
            raise ValueError(
                f"k**n must be <= {_MAX_FLAT_CELLS} to build the network, got {self.k}**{self.n}; "
                "use flat_grid_units to count"
            )
        check_allocation("n and k", self.k**self.n, self.k * self.n)  # one weight row per cell
        check_allocation("n and k", self.k * self.n, 4 * self.k * self.n)  # ramps -> indicators
        self.eta = self.eta_fraction / self.k
        self.ramps, self.indicators = _ramp_layers([_grid_intervals(self.k, self.eta)] * self.n, self.eta, dtype)
        index = np.array(list(itertools.product(range(self.k), repeat=self.n)))  # (k^n, n)
        w_cells = np.zeros((len(index), self.k * self.n))
        w_cells[np.arange(len(index))[:, None], np.arange(self.n) * self.k + index] = 1.0
        bias = np.full(len(index), -(self.n - 1.0))  # 1 where all n indicators are 1, <= 0 elsewhere
        self.cells = _set(nn.Linear(self.k * self.n, len(index), dtype=dtype), w_cells, bias)
        values = np.asarray(f((index + 0.5) / self.k), dtype=float)
        if values.shape != (len(index),):
            raise ValueError(f"f must map points of shape (N, {self.n}) to values of shape (N,), got {values.shape}")
        self.values = _set(nn.Linear(len(index), 1, dtype=dtype), values[None, :])
        self.relu = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, n) -> (B, 1)
        r = self.indicators(self.relu(self.ramps(x)))  # (B, kn)
        return self.values(self.relu(self.cells(r)))  # (B, k^n) -> (B, 1)


def tree_grid_units(n: int, k: int) -> int:
    """ReLU units of :class:`TreeGridNet`: ``(n - 1)(3k^2 + 8k)``, exactly linear in ``n - 1``.

    Parameters
    ----------
    n : int
        Number of inputs (``n - 1`` nodes), ``>= 2``.
    k : int
        Cells per axis, ``>= 1``.

    Returns
    -------
    int

    References
    ----------
    CBMM Memo 138, §6.8: ``(n - 1) O(k^2)`` units; with ``k ~ L / eps`` that is ``(n - 1) O(L^2 eps^-2)``.

    Examples
    --------
    >>> tree_grid_units(2, 1), tree_grid_units(16, 10)
    (11, 5700)
    """
    n, k = check_int("n", n, minimum=2), check_int("k", k, minimum=1)
    return (n - 1) * (3 * k * k + 8 * k)


def flat_grid_units(n: int, k: int) -> int:
    """ReLU units of :class:`FlatGridNet`: ``k^n + 4kn`` (an exact Python integer, however large).

    Parameters
    ----------
    n : int
        Number of inputs, ``>= 1``; ``k^n`` may have at most ``2**24`` bits (``n log2 k <= 2**24``): larger
        exact integers take too long to build.
    k : int
        Cells per axis, ``>= 1``.

    Returns
    -------
    int

    References
    ----------
    CBMM Memo 138, §6.8 ("the number of units is proportional to k^n").

    Examples
    --------
    >>> flat_grid_units(2, 10), flat_grid_units(16, 10) > 10**16
    (180, True)
    """
    n, k = check_int("n", n, minimum=1), check_int("k", k, minimum=1)
    check_exact_power(f"n = {n} and k = {k}", k, n, "the cell count k**n")
    return k**n + 4 * k * n


# --- widget computations -----------------------------------------------------------------------


def node_approximation_summary(name: str, k: int, resolution: int = 48) -> dict:
    """Data for the node explorer: a constituent and its :class:`NodeGridNet` on a ``resolution^2`` grid.

    Parameters
    ----------
    name : str
        A name accepted by :func:`constituent`.
    k : int
        Cells per axis, ``1 <= k <= 355`` (as in :class:`NodeGridNet`).
    resolution : int
        Grid points per axis (at the centres of ``resolution^2`` squares), ``>= 2``; the network's ``3k^2`` min
        units at the ``resolution^2`` points are at most ``2**28`` numbers.

    Returns
    -------
    dict
        ``true`` and ``approx`` (arrays ``(resolution, resolution)``, rows indexed by the second
        input ``b``), ``max_error`` on the grid, ``bound = L (1/(2k) + eta)``, ``units`` and ``k``.

    References
    ----------
    CBMM Memo 138, §6.8.

    Examples
    --------
    >>> s = node_approximation_summary("power mean", 8)
    >>> s["units"], bool(s["max_error"] <= s["bound"])
    (256, True)
    """
    g = constituent(name)
    k, _ = _check_grid(k, 1e-6)
    resolution = check_size("resolution", resolution, minimum=2)
    check_allocation("resolution and k", resolution * resolution, 3 * k * k)  # the min units at every grid point
    net = NodeGridNet(g, k)
    t = (np.arange(resolution) + 0.5) / resolution
    a, b = np.meshgrid(t, t)  # a varies along columns, b along rows
    with torch.no_grad():
        approx = net(torch.as_tensor(np.stack([a.ravel(), b.ravel()], axis=1))).numpy().reshape(resolution, resolution)
    true = g.fn(a, b)
    return {"name": name, "k": k, "true": true, "approx": approx, "max_error": float(np.abs(approx - true).max()),
            "bound": g.lipschitz * (0.5 + net.eta_fraction) / k, "units": count_relu_units(net, 2)}
