"""Depth separation, constructively: tent-map compositions, linear-piece counts, Yarotsky's square and the Takagi partial sums.

Everything is built from the tent map ``g(x) = 2x`` on ``[0, 1/2]``, ``2(1 - x)`` on ``[1/2, 1]``, which one
ReLU layer computes exactly: ``g(x) = 2 relu(x) - 4 relu(x - 1/2)`` on ``[0, 1]``. Composing it doubles the
number of linear pieces at the cost of two more units.

* Closed forms in numpy (fast, for plots and widgets): :func:`tent`, :func:`sawtooth` (``g`` composed ``k``
  times), :func:`yarotsky_square` (``x - sum_s g^s(x) / 4^s``), :func:`yarotsky_product` and :func:`takagi`
  (the partial sums ``sum_{k<=n} 2^-k g^k``), with their exact sup errors :func:`square_error`,
  :func:`product_error`, :func:`takagi_error` and the depth needed for an accuracy, :func:`yarotsky_depth`.
* Hand-wired networks, ``torch.nn.Sequential`` of ``nn.Linear`` and ``nn.ReLU`` with weights set by formula
  (float64): :func:`sawtooth_network`, :func:`yarotsky_square_network`, :func:`product_network`,
  :func:`takagi_network`. :func:`hidden_widths` reads off their layers, :func:`nonzero_parameters` their size.
* Exact piece counting for any 1-D ReLU network (these or :class:`~cosp_helpers.networks.DeepNet`):
  :func:`breakpoints`, :func:`linear_pieces`; Telgarsky's upper bound :func:`telgarsky_bound` and the
  lower bound for one hidden layer, :func:`sawtooth_l2_floor`.
* :func:`train_side_by_side` trains one-input shallow networks (:class:`~cosp_helpers.networks.ShallowNet`) of
  any widths, each on its own target, as one module in one call of :func:`~cosp_helpers.training.train`.
* :func:`summary` is the compute function of the notebook's depth explorer.

References
----------
CBMM Memo 138 (Poggio 2023), §6.6 (the Takagi class). D. Yarotsky, "Error bounds for approximations with
deep ReLU networks", Neural Networks 94 (2017), Propositions 2-3. M. Telgarsky, "Representation benefits
of deep feedforward networks", arXiv:1509.08101 (2015); "Benefits of depth in neural networks", COLT
(2016). I. Daubechies, R. DeVore, S. Foucart, B. Hanin, G. Petrova, "Nonlinear approximation and (deep)
ReLU networks", Constr. Approx. 55 (2022).
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np
import torch
from torch import nn

from ._checks import check_int, check_open_interval, check_real
from .networks import _ACTIVATIONS, ShallowNet
from .training import TrainHistory, train

__all__ = [
    "tent",
    "sawtooth",
    "yarotsky_square",
    "yarotsky_product",
    "takagi",
    "square_error",
    "product_error",
    "takagi_error",
    "yarotsky_depth",
    "sawtooth_network",
    "yarotsky_square_network",
    "product_network",
    "takagi_network",
    "hidden_widths",
    "nonzero_parameters",
    "breakpoints",
    "linear_pieces",
    "telgarsky_bound",
    "sawtooth_l2_floor",
    "train_side_by_side",
    "summary",
]

_TAKAGI_MAX = 2.0 / 3.0  # max of the Takagi function on [0, 1] (attained e.g. at x = 1/3)
_TAKAGI_REFERENCE_TERMS = 60  # the tail after 60 terms is below 2^-60, far under float64 resolution of T
# The most compositions of the tent map (sawtooth k, Yarotsky m, Takagi n, and the hidden layers of their networks).
# g^k has 2^k pieces of width 2^-k, and float64 numbers in [1/2, 1] are 2^-53 apart: beyond k = 53 the pieces are
# narrower than the spacing of the inputs, and the terms 4^-m and 2^-n fall below the float64 resolution of the
# sums (the Takagi reference above stops at 60 terms). 64 keeps a margin above both.
_MAX_COMPOSITIONS = 64


def _real_array(name: str, x: object) -> np.ndarray:
    if isinstance(x, (bool, np.bool_)) or (isinstance(x, np.ndarray) and x.dtype == bool):
        raise TypeError(f"{name} must hold real numbers, got booleans")
    if np.iscomplexobj(x):
        raise TypeError(f"{name} must hold real numbers, got complex values")
    try:
        values = np.asarray(x, dtype=float)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a real number or an array of real numbers, got {type(x).__name__}") from None
    if not np.all(np.isfinite(values)):
        raise ValueError(f"{name} must be finite, got NaN or inf")
    return values


# ----------------------------------------------------------------------------------------------------
# Closed forms
# ----------------------------------------------------------------------------------------------------


def tent(x: np.ndarray | float) -> np.ndarray:
    """The tent map ``g``: ``2x`` on ``[0, 1/2]``, ``2(1 - x)`` on ``[1/2, 1]``, 0 outside ``[0, 1]``.

    Parameters
    ----------
    x : float or numpy.ndarray
        Points of the real line.

    Returns
    -------
    numpy.ndarray
        ``g(x) = 2 relu(x) - 4 relu(x - 1/2) + 2 relu(x - 1)``, same shape as ``x``.

    References
    ----------
    Telgarsky (2015), the map ``m``; Yarotsky (2017), eq. (3); the hat function ``H`` of Daubechies et al. (2022).

    Examples
    --------
    >>> tent(np.array([-1.0, 0.0, 0.25, 0.5, 0.75, 1.0, 2.0])).tolist()
    [0.0, 0.0, 0.5, 1.0, 0.5, 0.0, 0.0]
    """
    x = _real_array("x", x)
    return np.where((x >= 0) & (x <= 1), 2 * np.minimum(x, 1 - x), 0.0)


def sawtooth(x: np.ndarray | float, k: int) -> np.ndarray:
    """The ``k``-fold composition ``g^{∘k}`` of the tent map: ``2^{k-1}`` teeth, ``2^k`` linear pieces on ``[0, 1]``.

    Parameters
    ----------
    x : float or numpy.ndarray
        Points (outside ``[0, 1]`` the value is 0 for ``k >= 1``).
    k : int
        Number of compositions, ``0 <= k <= 64`` (``k = 0`` is the identity; beyond ``k = 53`` the ``2^k`` pieces
        are narrower than the spacing of float64 numbers).

    Returns
    -------
    numpy.ndarray

    References
    ----------
    Telgarsky (2015), Lemma on ``m^k``; Yarotsky (2017), Fig. 2.

    Examples
    --------
    >>> sawtooth(np.arange(9) / 8, 3).tolist()  # 1 at odd multiples of 1/8, 0 at even ones
    [0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 0.0]
    """
    k = check_int("k", k, minimum=0, maximum=_MAX_COMPOSITIONS)
    y = _real_array("x", x)
    for _ in range(k):
        y = tent(y)
    return y


def yarotsky_square(x: np.ndarray | float, m: int) -> np.ndarray:
    """Yarotsky's approximation of ``x**2``: ``f_m(x) = x - sum_{s=1}^m g^{∘s}(x) / 4^s``.

    On ``[0, 1]``, ``f_m`` is the piecewise-linear interpolant of ``x**2`` at the points ``j / 2^m``.

    Parameters
    ----------
    x : float or numpy.ndarray
        Points of ``[0, 1]``.
    m : int
        Number of terms, ``0 <= m <= 64`` (``f_0(x) = x``; from ``m = 27`` on the error ``2^{-2m-2}`` is below
        float64 resolution).

    Returns
    -------
    numpy.ndarray

    References
    ----------
    D. Yarotsky (2017), Proposition 2.

    Examples
    --------
    >>> yarotsky_square(np.array([0.0, 0.25, 0.5, 0.75, 1.0]), 2).tolist()  # exact at multiples of 1/4
    [0.0, 0.0625, 0.25, 0.5625, 1.0]
    """
    m = check_int("m", m, minimum=0, maximum=_MAX_COMPOSITIONS)
    x = _real_array("x", x)
    total, y = x.copy(), x
    for s in range(1, m + 1):
        y = tent(y)
        total = total - y / 4.0**s
    return total


def yarotsky_product(x: np.ndarray | float, y: np.ndarray | float, m: int) -> np.ndarray:
    """Approximate ``x * y`` on ``[0, 1]^2`` from three squares: ``2 f_m((x+y)/2) - f_m(x)/2 - f_m(y)/2``.

    This is ``xy = ((x+y)^2 - x^2 - y^2) / 2`` with ``(x+y)^2 = 4 ((x+y)/2)^2`` so that every argument of
    ``f_m`` stays in ``[0, 1]``. The error lies in ``[-eps, 2 eps]`` with ``eps = 2^{-2m-2}``.

    Parameters
    ----------
    x, y : float or numpy.ndarray
        Points of ``[0, 1]``, broadcast against each other.
    m : int
        Terms of each square, ``0 <= m <= 64``.

    Returns
    -------
    numpy.ndarray

    References
    ----------
    D. Yarotsky (2017), Proposition 3 (the polarization identity).

    Examples
    --------
    >>> float(yarotsky_product(0.5, 0.5, 1)), float(yarotsky_product(0.0, 0.5, 1))  # exact; off by 2^-3, the worst
    (0.25, 0.125)
    """
    m = check_int("m", m, minimum=0, maximum=_MAX_COMPOSITIONS)
    x, y = np.broadcast_arrays(_real_array("x", x), _real_array("y", y))
    return 2 * yarotsky_square((x + y) / 2, m) - 0.5 * yarotsky_square(x, m) - 0.5 * yarotsky_square(y, m)


def takagi(x: np.ndarray | float, n: int | None = None) -> np.ndarray:
    """Partial sums ``S_n = sum_{k=1}^n 2^{-k} g^{∘k}`` of the Takagi function ``T`` (memo 138, §6.6).

    With ``g`` the tent of height 1, ``2^{-k} g^{∘k}(x) = 2^{-(k-1)} dist(2^{k-1} x, Z)``, so ``T`` is the
    classical Takagi function ``sum_{j>=0} 2^{-j} dist(2^j x, Z)``. ``S_n`` is the piecewise-linear
    interpolant of ``T`` at the points ``j / 2^n``.

    Parameters
    ----------
    x : float or numpy.ndarray
        Points of ``[0, 1]``.
    n : int, optional
        Number of terms, ``0 <= n <= 64`` (the terms beyond ``n = 53`` are below float64 resolution);
        None gives ``T`` itself to float64 accuracy (60 terms).

    Returns
    -------
    numpy.ndarray

    References
    ----------
    CBMM Memo 138, §6.6; T. Takagi (1903); Daubechies et al. (2022), the Takagi class.

    Examples
    --------
    >>> float(takagi(0.5, 1)), float(takagi(0.5)), round(float(takagi(1 / 3)), 12)
    (0.5, 0.5, 0.666666666667)
    """
    n = _TAKAGI_REFERENCE_TERMS if n is None else check_int("n", n, minimum=0, maximum=_MAX_COMPOSITIONS)
    y = _real_array("x", x)
    total = np.zeros_like(y)
    for k in range(1, n + 1):
        y = tent(y)
        total = total + y / 2.0**k
    return total


def square_error(m: int) -> float:
    """The sup error of Yarotsky's square on ``[0, 1]``: ``max |f_m(x) - x^2| = 2^{-2m-2}``, exactly.

    Examples
    --------
    >>> square_error(0), square_error(3)
    (0.25, 0.00390625)
    """
    m = check_int("m", m, minimum=0)
    return 2.0 ** (-2 * m - 2)


def product_error(m: int) -> float:
    """The sup error of :func:`yarotsky_product` on ``[0, 1]^2``: ``2^{-2m-1}``, attained at ``(0, 2^{-m})``.

    Examples
    --------
    >>> product_error(1) == 2 * square_error(1)
    True
    """
    m = check_int("m", m, minimum=0)
    return 2.0 ** (-2 * m - 1)


def takagi_error(n: int) -> float:
    """The sup error of the Takagi partial sum: ``max |T - S_n| = (2/3) 2^{-n}`` (the tail is ``2^{-n} T(g^{∘n})``).

    Examples
    --------
    >>> takagi_error(0), takagi_error(1)
    (0.6666666666666666, 0.3333333333333333)
    """
    n = check_int("n", n, minimum=0)
    return _TAKAGI_MAX * 2.0**-n


def yarotsky_depth(eps: float, kind: str = "square") -> int:
    """The smallest ``m`` whose Yarotsky construction has sup error ``<= eps`` on ``[0, 1]`` (or ``[0, 1]^2``).

    Parameters
    ----------
    eps : float
        Target accuracy in ``(0, 1)``.
    kind : {"square", "product"}
        ``x^2`` (error ``2^{-2m-2}``) or ``x y`` (error ``2^{-2m-1}``).

    Returns
    -------
    int

    Examples
    --------
    >>> yarotsky_depth(1e-3), yarotsky_depth(1e-3, "product"), square_error(4) <= 1e-3 < square_error(3)
    (4, 5, True)
    """
    eps = check_open_interval("eps", eps, 0.0, 1.0)
    errors = {"square": square_error, "product": product_error}
    if kind not in errors:
        raise ValueError(f"kind must be 'square' or 'product', got {kind!r}")
    m = 0
    while errors[kind](m) > eps:
        m += 1
    return m


# ----------------------------------------------------------------------------------------------------
# Hand-wired networks
# ----------------------------------------------------------------------------------------------------

Layer = tuple[np.ndarray, np.ndarray]  # weight (out, in), bias (out,)


def _sequential(layers: list[Layer]) -> nn.Sequential:
    """``Linear, ReLU, Linear, ReLU, ..., Linear`` in float64 with the given weights."""
    modules: list[nn.Module] = []
    for i, (weight, bias) in enumerate(layers):
        linear = nn.Linear(weight.shape[1], weight.shape[0], dtype=torch.float64)
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(np.asarray(weight, dtype=float)))
            linear.bias.copy_(torch.from_numpy(np.asarray(bias, dtype=float)))
        modules.append(linear)
        if i < len(layers) - 1:
            modules.append(nn.ReLU())
    return nn.Sequential(*modules)


def _tent_series_layers(linear: float, coefficients: Sequence[float]) -> list[Layer]:
    """Layers of ``linear * x + sum_s coefficients[s-1] g^{∘s}(x)`` on ``[0, 1]``, width 3, depth ``len(coefficients)``.

    Hidden layer ``s`` holds ``a = relu(y)``, ``b = relu(y - 1/2)`` and ``c = relu(r)``, where
    ``y = g^{∘(s-1)}(x)`` and ``r`` is the sum of the first ``s - 1`` terms; then ``g(y) = 2a - 4b``.
    The running sum passes through a ReLU unchanged because it is ``>= 0`` on ``[0, 1]`` for the
    constructions used here (``f_m >= x^2`` and ``S_n >= 0``).
    """
    c = list(coefficients)
    layers: list[Layer] = [(np.array([[1.0], [1.0], [linear]]), np.array([0.0, -0.5, 0.0]))]
    for coef in c[:-1]:
        weight = np.array([[2.0, -4.0, 0.0], [2.0, -4.0, 0.0], [2.0 * coef, -4.0 * coef, 1.0]])
        layers.append((weight, np.array([0.0, -0.5, 0.0])))
    layers.append((np.array([[2.0 * c[-1], -4.0 * c[-1], 1.0]]), np.zeros(1)))
    return layers


def sawtooth_network(k: int, units: int = 2) -> nn.Sequential:
    """A ReLU network computing ``g^{∘k}``: ``k`` hidden layers of ``units`` units each, weights set by formula.

    Parameters
    ----------
    k : int
        Number of compositions (hidden layers), ``1 <= k <= 64``, as in :func:`sawtooth`.
    units : {2, 3}
        2: ``g(y) = 2 relu(y) - 4 relu(y - 1/2)``, exact on ``[0, 1]`` (which ``g`` maps into itself);
        3: adds ``+ 2 relu(y - 1)``, exact on the whole real line (0 outside ``[0, 1]``).

    Returns
    -------
    torch.nn.Sequential
        float64; input ``(batch, 1)``, output ``(batch, 1)``.

    References
    ----------
    Telgarsky (2015): the 2-node-per-layer network; Daubechies et al. (2022): ``H^{∘k}`` has width 2, depth ``k``.

    Examples
    --------
    >>> net = sawtooth_network(3)
    >>> hidden_widths(net), linear_pieces(net)
    ((2, 2, 2), 8)
    >>> net(torch.tensor([[0.125], [0.25]], dtype=torch.float64)).flatten().tolist()
    [1.0, 0.0]
    """
    k = check_int("k", k, minimum=1, maximum=_MAX_COMPOSITIONS)
    units = check_int("units", units)
    if units not in (2, 3):
        raise ValueError(f"units must be 2 or 3, got {units}")
    combine = np.array([2.0, -4.0, 2.0])[:units]  # g(y) = combine . (relu(y), relu(y - 1/2), relu(y - 1))
    bias = np.array([0.0, -0.5, -1.0])[:units]
    layers: list[Layer] = [(np.ones((units, 1)), bias)]
    layers += [(np.tile(combine, (units, 1)), bias) for _ in range(k - 1)]
    layers.append((combine[None, :], np.zeros(1)))
    return _sequential(layers)


def yarotsky_square_network(m: int) -> nn.Sequential:
    """A ReLU network computing Yarotsky's ``f_m`` exactly on ``[0, 1]``: ``m`` hidden layers of 3 units.

    Parameters
    ----------
    m : int
        Number of terms (hidden layers), ``1 <= m <= 64``, as in :func:`yarotsky_square`.

    Returns
    -------
    torch.nn.Sequential
        float64; ``3m`` ReLU units; sup error ``2^{-2m-2}`` against ``x^2`` on ``[0, 1]``.

    References
    ----------
    D. Yarotsky (2017), Proposition 2 and Fig. 2c.

    Examples
    --------
    >>> net = yarotsky_square_network(2)
    >>> hidden_widths(net), net(torch.tensor([[0.5]], dtype=torch.float64)).item()
    ((3, 3), 0.25)
    """
    m = check_int("m", m, minimum=1, maximum=_MAX_COMPOSITIONS)
    return _sequential(_tent_series_layers(1.0, [-(4.0**-s) for s in range(1, m + 1)]))


def product_network(m: int) -> nn.Sequential:
    """A ReLU network computing :func:`yarotsky_product` on ``[0, 1]^2``: three square networks side by side.

    Parameters
    ----------
    m : int
        Terms of each square (hidden layers), ``1 <= m <= 64``.

    Returns
    -------
    torch.nn.Sequential
        float64; input ``(batch, 2)``; ``m`` hidden layers of 9 units; sup error ``2^{-2m-1}``.

    References
    ----------
    D. Yarotsky (2017), Proposition 3.

    Examples
    --------
    >>> net = product_network(3)
    >>> hidden_widths(net), net(torch.tensor([[0.5, 0.75]], dtype=torch.float64)).item()
    ((9, 9, 9), 0.375)
    """
    m = check_int("m", m, minimum=1, maximum=_MAX_COMPOSITIONS)
    square = _tent_series_layers(1.0, [-(4.0**-s) for s in range(1, m + 1)])
    inputs = np.array([[0.5, 0.5], [1.0, 0.0], [0.0, 1.0]])  # (x+y)/2, x, y
    outputs = np.array([2.0, -0.5, -0.5])
    first_w, first_b = square[0]
    layers: list[Layer] = [(np.vstack([first_w @ inputs[i : i + 1] for i in range(3)]), np.tile(first_b, 3))]
    for weight, bias in square[1:-1]:
        layers.append((np.kron(np.eye(3), weight), np.tile(bias, 3)))  # block diagonal: three independent squares
    last_w, _ = square[-1]
    layers.append((np.hstack([o * last_w for o in outputs]), np.zeros(1)))
    return _sequential(layers)


def takagi_network(n: int) -> nn.Sequential:
    """A ReLU network computing the Takagi partial sum ``S_n`` exactly on ``[0, 1]``: ``n`` hidden layers of 3 units.

    Each layer carries the current tent ``g^{∘(s-1)}(x)`` (two units) and the running sum (one unit), so the
    width stays 3 however many terms are added; the error ``(2/3) 2^{-n}`` falls exponentially with depth.

    Parameters
    ----------
    n : int
        Number of terms (hidden layers), ``1 <= n <= 64``, as in :func:`takagi`.

    Returns
    -------
    torch.nn.Sequential
        float64; ``3n`` ReLU units (the running-sum unit of the first layer carries 0).

    References
    ----------
    CBMM Memo 138, §6.6; Daubechies et al. (2022), partial sums of the Takagi class.

    Examples
    --------
    >>> net = takagi_network(2)
    >>> hidden_widths(net), net(torch.tensor([[0.25]], dtype=torch.float64)).item()  # 0.5/2 + 1/4
    ((3, 3), 0.5)
    """
    n = check_int("n", n, minimum=1, maximum=_MAX_COMPOSITIONS)
    return _sequential(_tent_series_layers(0.0, [2.0**-k for k in range(1, n + 1)]))


def _affine_layers(net: object) -> list[Layer]:
    """The ``(weight, bias)`` pairs of a ReLU network, with a ReLU between consecutive pairs, as float64 arrays."""
    if isinstance(net, nn.Sequential):
        modules = list(net)
        linears = modules[0::2]
        relus = modules[1::2]
        if not modules or len(modules) % 2 == 0 or not all(isinstance(m, nn.Linear) for m in linears) or not all(
            isinstance(m, nn.ReLU) for m in relus
        ):
            raise TypeError("net must be an nn.Sequential of the form Linear, ReLU, Linear, ..., ReLU, Linear")
    elif isinstance(net, nn.Module) and isinstance(getattr(net, "layers", None), nn.ModuleList):
        if getattr(net, "activation", None) != "relu":
            raise TypeError(f"net must use the ReLU activation, got {getattr(net, 'activation', None)!r}")
        linears = list(net.layers)
        if not linears or not all(isinstance(m, nn.Linear) for m in linears):
            raise TypeError("net.layers must be a non-empty list of nn.Linear")
    else:
        raise TypeError(
            "net must be an nn.Sequential of Linear and ReLU layers or a cosp DeepNet/ShallowNet, "
            f"got {type(net).__name__}"
        )
    return [
        (m.weight.detach().cpu().double().numpy(), m.bias.detach().cpu().double().numpy()
         if m.bias is not None else np.zeros(m.out_features))
        for m in linears
    ]


def hidden_widths(net: nn.Module) -> tuple[int, ...]:
    """The widths of the hidden (ReLU) layers of a network: its depth is the length, its units the sum.

    Parameters
    ----------
    net : torch.nn.Module
        An ``nn.Sequential`` of ``Linear, ReLU, ..., Linear`` (as built here) or a cosp ``DeepNet``/``ShallowNet``.

    Returns
    -------
    tuple of int

    Examples
    --------
    >>> hidden_widths(sawtooth_network(4, units=3)), sum(hidden_widths(takagi_network(5)))
    ((3, 3, 3, 3), 15)
    """
    return tuple(weight.shape[0] for weight, _ in _affine_layers(net)[:-1])


def nonzero_parameters(net: nn.Module) -> int:
    """The number of nonzero weights and biases of ``net`` (the size measure of Yarotsky 2017).

    Examples
    --------
    >>> nonzero_parameters(sawtooth_network(1))  # weights 1, 1 and 2, -4; bias -1/2
    5
    """
    if not isinstance(net, nn.Module):
        raise TypeError(f"net must be a torch.nn.Module, got {type(net).__name__}")
    return int(sum(int(torch.count_nonzero(p.detach())) for p in net.parameters()))


# ----------------------------------------------------------------------------------------------------
# Counting linear pieces exactly
# ----------------------------------------------------------------------------------------------------


def _check_interval(interval: object) -> tuple[float, float]:
    if not isinstance(interval, (tuple, list)) or len(interval) != 2:
        raise TypeError(f"interval must be a pair (lo, hi), got {interval!r}")
    lo, hi = check_real("interval[0]", interval[0]), check_real("interval[1]", interval[1])
    if not lo < hi:
        raise ValueError(f"interval must satisfy lo < hi, got ({lo}, {hi})")
    return lo, hi


def _knots(net: nn.Module, lo: float, hi: float) -> tuple[np.ndarray, np.ndarray]:
    """All points of ``[lo, hi]`` where some unit switches, and the network's output there.

    Every unit's pre-activation is affine between consecutive knots, so a unit switches at most once
    inside an interval: where it does, a knot is inserted (by linear interpolation) and the values of all
    units there are interpolated too. The output is then affine between consecutive knots.
    """
    layers = _affine_layers(net)
    if layers[0][0].shape[1] != 1 or layers[-1][0].shape[0] != 1:
        raise ValueError(
            f"net must map 1 input to 1 output, got {layers[0][0].shape[1]} inputs and {layers[-1][0].shape[0]} outputs"
        )
    xs = np.array([lo, hi])
    values = xs[:, None]  # (knots, width): the previous layer's outputs at the knots
    for i, (weight, bias) in enumerate(layers):
        z = values @ weight.T + bias  # (knots, units): pre-activations, affine between knots
        if i == len(layers) - 1:
            return xs, z[:, 0]
        left, right = z[:-1], z[1:]
        interval, unit = np.nonzero(left * right < 0)  # a sign change strictly inside an interval
        t = left[interval, unit] / (left[interval, unit] - right[interval, unit])  # (crossings,) in (0, 1)
        new_x = xs[interval] + t * (xs[interval + 1] - xs[interval])
        new_z = left[interval] + t[:, None] * (right[interval] - left[interval])  # all units at the new knots
        new_z[np.arange(len(unit)), unit] = 0.0  # the switching unit is exactly 0 there
        order = np.argsort(np.concatenate([xs, new_x]), kind="stable")
        xs = np.concatenate([xs, new_x])[order]
        values = np.maximum(np.concatenate([z, new_z])[order], 0.0)
    raise AssertionError("unreachable")  # pragma: no cover


def breakpoints(net: nn.Module, interval: tuple[float, float] = (0.0, 1.0), rtol: float = 1e-9) -> np.ndarray:
    """The points inside ``interval`` where the 1-D ReLU network's slope changes, computed exactly.

    The knots of every layer are tracked (see the module notes), then adjacent pieces whose slopes agree
    to ``rtol`` times the largest slope are merged: a unit whose switch is cancelled by another, or
    whose contribution to the output is zero, leaves no breakpoint.

    Parameters
    ----------
    net : torch.nn.Module
        A ReLU network with one input and one output (see :func:`hidden_widths`).
    interval : pair of float
        ``(lo, hi)`` with ``lo < hi``.
    rtol : float
        Relative tolerance for equal slopes, in ``(0, 1)`` (rounding, not mathematics, needs it).

    Returns
    -------
    numpy.ndarray
        Sorted breakpoints in ``(lo, hi)``.

    References
    ----------
    Telgarsky (2015, 2016): a ReLU network on the line is piecewise affine.

    Examples
    --------
    >>> breakpoints(sawtooth_network(2)).tolist()
    [0.25, 0.5, 0.75]
    """
    lo, hi = _check_interval(interval)
    rtol = check_open_interval("rtol", rtol, 0.0, 1.0)
    xs, ys = _knots(net, lo, hi)
    keep = np.concatenate([[True], np.diff(xs) > 1e-14 * (hi - lo)])  # drop coincident knots
    xs, ys = xs[keep], ys[keep]
    if len(xs) <= 2:
        return np.array([])
    slopes = np.diff(ys) / np.diff(xs)
    scale = max(float(np.max(np.abs(slopes))), 1e-300)
    change = np.abs(np.diff(slopes)) > rtol * scale
    return xs[1:-1][change]


def linear_pieces(net: nn.Module, interval: tuple[float, float] = (0.0, 1.0), rtol: float = 1e-9) -> int:
    """The number of linear pieces of a 1-D ReLU network on ``interval``: ``len(breakpoints) + 1``.

    Parameters
    ----------
    net, interval, rtol
        As in :func:`breakpoints`.

    Returns
    -------
    int

    Examples
    --------
    >>> [linear_pieces(sawtooth_network(k)) for k in (1, 2, 3, 4)]
    [2, 4, 8, 16]
    >>> linear_pieces(sawtooth_network(3), interval=(0.0, 0.25))  # one tooth
    2
    """
    return len(breakpoints(net, interval, rtol)) + 1


def telgarsky_bound(units: int, layers: int) -> float:
    """Telgarsky's bound ``(2m/l)^l`` on the linear pieces of a 1-D ReLU network with ``m`` units in ``l`` layers.

    With ``m_i`` units in layer ``i``, the pieces are at most ``prod_i 2 m_i``, and by the AM-GM
    inequality this is at most ``(2m/l)^l`` for ``m = sum_i m_i``.

    Parameters
    ----------
    units : int
        Total number of ReLU units ``m >= 1``.
    layers : int
        Number of hidden layers ``l >= 1``.

    Returns
    -------
    float

    References
    ----------
    M. Telgarsky (2015), the sawtooth lemma (``(2m)^l`` with ``m`` units per layer); Telgarsky (2016).

    Examples
    --------
    >>> telgarsky_bound(8, 4), 2.0**4  # the depth-4 sawtooth network: bound 4^4 = 256, actual 16 pieces
    (256.0, 16.0)
    """
    m = check_int("units", units, minimum=1)
    l = check_int("layers", layers, minimum=1)  # noqa: E741 -- the papers' notation
    try:
        return (2.0 * m / l) ** l
    except OverflowError:
        raise ValueError(f"units = {m} and layers = {l} give (2m/l)^l = 10^{l * math.log10(2.0 * m / l):.6g}, which "
                         "overflows float64") from None


def sawtooth_l2_floor(width: int, k: int) -> float:
    """A lower bound on the L2 distance on ``[0, 1]`` between ``g^{∘k}`` and any one-hidden-layer ReLU network.

    A network with ``width`` units has at most ``width`` breakpoints, so at least ``2^{k-1} - width`` of the
    ``2^{k-1}`` teeth of ``g^{∘k}`` see an affine function; the best affine fit to a tooth is its mean
    ``1/2``, with mean squared error ``1/12``. Hence ``||f - g^{∘k}||_2 >= sqrt(max(0, 1 - width/2^{k-1}) / 12)``.

    Parameters
    ----------
    width : int
        Hidden units, ``>= 0`` (0: a constant).
    k : int
        Compositions, ``>= 1``.

    Returns
    -------
    float

    Examples
    --------
    >>> round(sawtooth_l2_floor(0, 3), 6), round(1 / 12**0.5, 6), sawtooth_l2_floor(4, 3)
    (0.288675, 0.288675, 0.0)
    """
    width = check_int("width", width, minimum=0)
    k = check_int("k", k, minimum=1)
    if k - 1 >= width.bit_length() + 54:
        # width / 2^(k-1) <= 2^-54: the correctly rounded (2^(k-1) - width) / 2^(k-1) is exactly 1.0, so the
        # result is sqrt(1/12) without forming 2^(k-1) (which for huge k would take forever)
        return math.sqrt(1.0 / 12.0)
    teeth = 2 ** (k - 1)
    return math.sqrt(max(0, teeth - width) / teeth / 12.0)


# ----------------------------------------------------------------------------------------------------
# Training shallow networks of different widths together
# ----------------------------------------------------------------------------------------------------


class _SideBySide(nn.Module):
    """``M`` one-input ShallowNets as one module: their hidden units side by side, output ``j`` is network ``j``."""

    def __init__(self, nets: list[ShallowNet]) -> None:
        super().__init__()
        first = nets[0].layers[0].weight
        self.activation = nets[0].activation
        # copies of the networks' parameters: no fresh initialisation, so the global generator is left alone
        with torch.no_grad():
            stacked = lambda tensors: nn.Parameter(torch.cat([t.to(first.device) for t in tensors]))
            self.hidden_weight = stacked(net.layers[0].weight for net in nets)  # (units, 1)
            self.hidden_bias = stacked(net.layers[0].bias for net in nets)  # (units,)
            self.out_weight = stacked(net.layers[1].weight[0] for net in nets)  # (units,)
            self.out_bias = stacked(net.layers[1].bias for net in nets)  # (M,)
        member = torch.repeat_interleave(torch.arange(len(nets)), torch.tensor([net.width for net in nets]))
        # membership[u, j] = 1 if hidden unit u belongs to network j: the readout is the block matrix membership * a
        self.register_buffer("membership", nn.functional.one_hot(member, len(nets)).to(first.dtype).to(first.device))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = _ACTIVATIONS[self.activation](nn.functional.linear(x, self.hidden_weight, self.hidden_bias))  # (batch, U)
        # column j sums network j's units only: the other entries of its column are exact zeros
        return torch.addmm(self.out_bias, h, self.membership * self.out_weight[:, None])  # (batch, M)

    @torch.no_grad()
    def write_back(self, nets: list[ShallowNet]) -> None:
        start = 0
        for j, net in enumerate(nets):
            units = slice(start, start + net.width)
            net.layers[0].weight.copy_(self.hidden_weight[units])
            net.layers[0].bias.copy_(self.hidden_bias[units])
            net.layers[1].weight[0].copy_(self.out_weight[units])
            net.layers[1].bias.copy_(self.out_bias[j : j + 1])
            start += net.width


def _summed_mse(prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    # the sum over the networks (columns) of each one's mean squared error over the batch
    return (prediction - target).square().sum() / prediction.shape[0]


def _check_side_by_side(nets: object, x_train: object, y_train: object) -> list[ShallowNet]:
    if not isinstance(nets, (list, tuple)) or not nets:
        raise TypeError(f"nets must be a non-empty list of cosp_helpers.ShallowNet, got {type(nets).__name__}")
    for i, net in enumerate(nets):
        if not isinstance(net, ShallowNet):
            raise TypeError(f"nets[{i}] must be a cosp_helpers.ShallowNet, got {type(net).__name__}")
        if net.n_inputs != 1 or net.n_outputs != 1:
            raise ValueError(f"nets[{i}] must have one input and one output, got {net.n_inputs} and {net.n_outputs}")
        if net.activation != nets[0].activation:
            raise ValueError(
                f"nets must share one activation; nets[{i}] has {net.activation!r}, nets[0] {nets[0].activation!r}"
            )
        if any(p.dtype != nets[0].layers[0].weight.dtype for p in net.parameters()):
            raise ValueError(f"nets must share one dtype; nets[{i}] differs from nets[0]")
        if not all(p.requires_grad for p in net.parameters()):
            raise ValueError(f"nets[{i}] has frozen parameters; train_side_by_side trains every parameter")
    if len({id(net) for net in nets}) != len(nets):
        raise ValueError("nets must be distinct networks (the same network appears twice)")
    for name, value, columns in (("x_train", x_train, 1), ("y_train", y_train, len(nets))):
        if not isinstance(value, (np.ndarray, torch.Tensor)):
            raise TypeError(f"{name} must be a numpy array or a torch tensor, got {type(value).__name__}")
        if value.ndim != 2 or value.shape[1] != columns:
            raise ValueError(f"{name} must have shape (n, {columns}), got {tuple(value.shape)}")
    return list(nets)


def train_side_by_side(
    nets: list[ShallowNet],
    x_train: np.ndarray | torch.Tensor,
    y_train: np.ndarray | torch.Tensor,
    *,
    optimizer: str = "adam",
    lr: float = 1e-3,
    steps: int,
    batch_size: int | None = None,
    weight_decay: float = 0.0,
    schedule: str = "constant",
    warmup: int = 0,
    seed: int | np.random.Generator = 0,
    device: str | torch.device | None = None,
    eval_every: int | None = None,
    progress: bool = True,
    desc: str | None = None,
) -> TrainHistory:
    """Train one-input ShallowNets of any widths side by side, each on its own target; update them in place.

    The networks' hidden units are put side by side in one module whose output column ``j`` is network
    ``j``, and :func:`~cosp_helpers.training.train` minimises the sum over ``j`` of network ``j``'s mean
    squared error against column ``j`` of ``y_train``. The networks share no parameters, so each one's
    gradient is the gradient of its own loss; Adam and SGD act element by element, and every network sees
    the same mini-batches (from ``seed``). Each network therefore follows the updates that
    :func:`~cosp_helpers.training.train` with the same arguments would give it alone, up to float rounding
    (the sums run in another order). Unlike :func:`~cosp_helpers.training.train_ensemble`, the networks
    may differ in width and in target; one step does the work of all of them at once, which is several
    times faster than a loop when the networks are small.

    Parameters
    ----------
    nets : list of cosp_helpers.ShallowNet
        Distinct networks with one input and one output, one activation and one dtype, initialised by the
        caller. Their parameters hold the trained values when the call returns.
    x_train : numpy.ndarray or torch.Tensor
        Inputs, shape ``(n, 1)``, shared by the networks.
    y_train : numpy.ndarray or torch.Tensor
        Targets, shape ``(n, len(nets))``: column ``j`` is network ``j``'s.
    optimizer, lr, steps, batch_size, weight_decay, schedule, warmup, seed, device, eval_every, progress, desc
        As in :func:`~cosp_helpers.training.train` (``steps`` is required).

    Returns
    -------
    TrainHistory
        Of the summed objective: its losses are the sums over the networks of their mean squared errors.

    Examples
    --------
    >>> from cosp_helpers.networks import ShallowNet
    >>> x = np.linspace(0, 1, 64)[:, None]
    >>> nets = [ShallowNet(1, 4, seed=1), ShallowNet(1, 16, seed=2)]
    >>> targets = np.hstack([x, sawtooth(x, 2)])  # column j is network j's target
    >>> h = train_side_by_side(nets, x, targets, lr=0.02, steps=300, progress=False, device="cpu")
    >>> h.steps[-1], h.final_train_loss < h.train_loss[0], [net.width for net in nets]
    (300, True, [4, 16])
    """
    nets = _check_side_by_side(nets, x_train, y_train)
    stack = _SideBySide(nets)
    history = train(
        stack, x_train, y_train, loss=_summed_mse, optimizer=optimizer, lr=lr, steps=steps, batch_size=batch_size,
        weight_decay=weight_decay, schedule=schedule, warmup=warmup, seed=seed, device=device, eval_every=eval_every,
        progress=progress, desc=desc,
    )  # fmt: skip
    stack.write_back(nets)
    return history


# ----------------------------------------------------------------------------------------------------
# The explorer's compute function
# ----------------------------------------------------------------------------------------------------


def summary(depth: int) -> dict[str, object]:
    """Everything the depth explorer draws for ``depth = k``: ``g^{∘k}``, ``f_k`` vs ``x^2``, ``S_k`` vs ``T``.

    The grid has spacing ``2^{-(k+3)}`` (at least 2049 points), so it holds every breakpoint and every
    midpoint of the constructions: the measured sup errors of ``f_k`` are exact, and the Takagi error is
    measured on the grid plus the point ``1 / (3 2^k)`` where it is attained.

    Parameters
    ----------
    depth : int
        ``k`` in ``1..16``.

    Returns
    -------
    dict
        ``x``, ``sawtooth``, ``square``, ``square_approx``, ``takagi``, ``takagi_approx`` (arrays on the grid);
        ``depth``, ``pieces`` (``2^k``), ``units`` (a dict of the three constructions' units: ``2k``, ``3k``, ``3k``),
        ``square_error`` and ``takagi_error`` (measured sup errors), ``square_bound``, ``takagi_bound`` (exact).

    Examples
    --------
    >>> s = summary(3)
    >>> s["pieces"], s["units"], s["square_error"] == s["square_bound"] == 2.0**-8
    (8, {'sawtooth': 6, 'square': 9, 'takagi': 9}, True)
    """
    k = check_int("depth", depth, minimum=1, maximum=16)
    x = np.linspace(0.0, 1.0, 2 ** max(k + 3, 11) + 1)
    square_approx = yarotsky_square(x, k)
    points = np.append(x, 1.0 / (3 * 2**k))  # the grid and the point where T - S_k is largest
    t_full, t_partial = takagi(points), takagi(points, k)
    return {
        "depth": k,
        "x": x,
        "sawtooth": sawtooth(x, k),
        "square": x**2,
        "square_approx": square_approx,
        "takagi": t_full[:-1],
        "takagi_approx": t_partial[:-1],
        "pieces": 2**k,
        "units": {"sawtooth": 2 * k, "square": 3 * k, "takagi": 3 * k},
        "square_error": float(np.max(np.abs(square_approx - x**2))),
        "square_bound": square_error(k),
        "takagi_error": float(np.max(np.abs(t_full - t_partial))),
        "takagi_bound": takagi_error(k),
    }
