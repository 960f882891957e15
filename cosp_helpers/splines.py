"""Path norms, balanced rescaling and knot counting for 1-D ReLU fits.

A shallow ReLU network with one input computes a continuous piecewise-linear function (a *linear
spline*)

    f(x) = sum_k v_k relu(w_k x + b_k) + a x + c,

whose knots are the breakpoints ``t_k = -b_k / w_k``; at ``t_k`` the slope of unit ``k`` jumps by
``v_k |w_k|``. Weight decay on the input and output weights, ``1/2 sum_k (v_k^2 + w_k^2)``, is not a
function of ``f`` (rescaling a unit by ``(v/alpha, alpha w, alpha b)`` leaves ``f`` unchanged and
changes the cost), but its minimum over rescalings is the path norm ``sum_k |v_k| |w_k|`` -- in 1-D the
total variation of ``f'``, i.e. ``int |f''|`` (Savarese et al. 2019; Parhi & Nowak 2021, 2023).

* :class:`SplineNet` -- the network above as a torch module (the linear term ``a x + c`` is a free,
  unregularized skip connection, as in Parhi & Nowak), with :meth:`SplineNet.weight_decay`;
  :func:`train_spline_nets` trains several of them on the same data at once, each with its own strength.
* :class:`UnitWeights`, :func:`unit_weights`, :func:`values` -- its weights as numpy arrays,
  evaluated without torch.
* :func:`weight_decay_cost`, :func:`path_norm`, :func:`balance` -- the rescaling inequality
  ``1/2 (v^2 + ||w||^2) >= |v| ||w||`` and the rescaling that attains it (any input dimension).
* :class:`Knots`, :func:`knots`, :func:`slope_tv` -- breakpoints and slope jumps, exactly from the
  weights; ``TV(f')``.
* :func:`interpolant_tv`, :func:`min_tv_interpolant`, :func:`tv_regression` -- the reference values:
  the connect-the-dots interpolant, the minimal-``TV(f')`` interpolant (a linear program) and the exact
  minimizer of ``mean squared error + lambda TV(f')`` (a small lasso).
* :func:`plot_spline` -- the function, the data and the knots on one Axes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import torch
from matplotlib.axes import Axes
from scipy import optimize
from torch import nn

from ._checks import as_torch_generator, check_bool, check_int, check_real, check_real_array, check_size
from .plotting import get_ax
from .training import TrainHistory, train

__all__ = [
    "SplineNet",
    "train_spline_nets",
    "UnitWeights",
    "unit_weights",
    "values",
    "weight_decay_cost",
    "path_norm",
    "balance",
    "Knots",
    "knots",
    "slope_tv",
    "interpolant_tv",
    "min_tv_interpolant",
    "TVFit",
    "tv_regression",
    "plot_spline",
]


# --- the network -------------------------------------------------------------------------------


class SplineNet(nn.Module):
    """A wide one-hidden-layer ReLU network on the line, with a free linear term.

    ``f(x) = sum_k v_k relu(w_k x + b_k) + a x + c``; input ``(n, 1)``, output ``(n, 1)``.

    Parameters
    ----------
    width : int
        Number of ReLU units ``K >= 1``.
    linear_term : bool
        Include the skip connection ``a x`` (``c`` is always there). Without it the representation
        cost picks up a boundary term (Savarese et al. 2019).
    seed : int or numpy.random.Generator
        Seeds the initialisation: ``w_k, b_k`` uniform on ``(-1, 1)`` (PyTorch's default for fan-in 1),
        ``v_k`` uniform on ``(-1/sqrt(K), 1/sqrt(K))``, ``a = c = 0``.

    Notes
    -----
    Parameters are the tensors ``w, b, v`` of shape ``(K,)`` and scalars ``a`` (if ``linear_term``)
    and ``c``. :meth:`weight_decay` is the penalty on ``v`` and ``w`` only; biases and the linear
    term are not penalized, as in the theory.

    References
    ----------
    R. Parhi, R. D. Nowak, "Banach space representer theorems for neural networks and ridge
    splines", JMLR 22 (2021); P. Savarese, I. Evron, D. Soudry, N. Srebro, "How do infinite width
    bounded norm networks look in function space?", COLT 2019.

    Examples
    --------
    >>> net = SplineNet(50, seed=0)
    >>> net(torch.zeros(3, 1)).shape
    torch.Size([3, 1])
    >>> sum(p.numel() for p in net.parameters())
    152
    """

    def __init__(self, width: int, *, linear_term: bool = True, seed: int | np.random.Generator = 0) -> None:
        super().__init__()
        self.width = check_size("width", width)
        check_bool("linear_term", linear_term)
        g = as_torch_generator(seed)
        self.w = nn.Parameter(torch.rand(self.width, generator=g) * 2 - 1)
        self.b = nn.Parameter(torch.rand(self.width, generator=g) * 2 - 1)
        self.v = nn.Parameter((torch.rand(self.width, generator=g) * 2 - 1) / self.width**0.5)
        self.a = nn.Parameter(torch.zeros(())) if linear_term else None
        self.c = nn.Parameter(torch.zeros(()))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        hidden = torch.relu(x * self.w + self.b)  # (n, 1) * (K,) -> (n, K)
        out = hidden @ self.v + self.c  # (n,)
        if self.a is not None:
            out = out + self.a * x[:, 0]
        return out[:, None]  # (n, 1)

    def weight_decay(self) -> torch.Tensor:
        """``1/2 sum_k (v_k^2 + w_k^2)``: weight decay on the units' weights, biases excluded.

        Examples
        --------
        >>> net = SplineNet(2)
        >>> with torch.no_grad():
        ...     _ = net.v.copy_(torch.tensor([3.0, 0.0])), net.w.copy_(torch.tensor([1.0, 2.0]))
        >>> float(net.weight_decay().detach())  # (9 + 1 + 0 + 4) / 2
        7.0
        """
        return 0.5 * (self.v.square().sum() + self.w.square().sum())


class _SideBySide(nn.Module):
    """Several :class:`SplineNet` of one shape as one module: ``(n, 1) -> (members, n, 1)``.

    The members keep their own parameter tensors, so an optimizer updates each tensor as it would
    alone. The elementwise first layer runs on stacked copies of ``w`` and ``b`` (the same numbers);
    ``hidden @ v`` runs member by member, the product one :class:`SplineNet` computes (a batched
    product would sum in another order).
    """

    def __init__(self, nets: list[SplineNet]) -> None:
        super().__init__()
        self.members = nn.ModuleList(nets)
        self.linear_term = nets[0].a is not None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        nets = list(self.members)
        w, b = torch.stack([net.w for net in nets]), torch.stack([net.b for net in nets])  # (members, K)
        hidden = torch.relu(x * w[:, None, :] + b[:, None, :])  # (members, n, K)
        out = torch.stack([h @ net.v for h, net in zip(hidden, nets)]) + torch.stack([net.c for net in nets])[:, None]
        if self.linear_term:
            out = out + torch.stack([net.a for net in nets])[:, None] * x[:, 0]
        return out[..., None]  # (members, n, 1)


def _check_spline_nets(nets: object) -> list[SplineNet]:
    if not isinstance(nets, (list, tuple)) or not nets:
        raise TypeError(f"nets must be a non-empty list of SplineNet, got {type(nets).__name__}")
    for i, net in enumerate(nets):
        if not isinstance(net, SplineNet):
            raise TypeError(f"nets[{i}] must be a SplineNet, got {type(net).__name__}")
        if net.width != nets[0].width or (net.a is None) != (nets[0].a is None):
            raise ValueError(
                f"nets must share one shape (width and linear_term); nets[{i}] differs from nets[0]"
            )
    if len({id(net) for net in nets}) != len(nets):
        raise ValueError("nets must be distinct modules (the same SplineNet appears twice)")
    return list(nets)


def _check_strengths(strengths: object, count: int) -> list[float]:
    if isinstance(strengths, np.ndarray):
        if strengths.ndim != 1 or not (np.issubdtype(strengths.dtype, np.number) and strengths.dtype != bool):
            raise TypeError(f"strengths must be a 1-D sequence of real numbers, got an array of shape "
                            f"{strengths.shape} and dtype {strengths.dtype}")
        strengths = strengths.tolist()
    if not isinstance(strengths, (list, tuple)):
        raise TypeError(f"strengths must be a sequence of real numbers, one per net, got {type(strengths).__name__}")
    if len(strengths) != count:
        raise ValueError(f"strengths must hold one strength per net ({count}), got {len(strengths)}")
    values = [check_real(f"strengths[{i}]", s) for i, s in enumerate(strengths)]
    for i, s in enumerate(values):
        if s < 0:
            raise ValueError(f"strengths[{i}] must be >= 0, got {s}")
    return values


def _check_line_data(name: str, value: object) -> None:
    shape = getattr(value, "shape", None)
    if isinstance(value, (np.ndarray, torch.Tensor)) and (len(shape) != 2 or shape[1] != 1):
        raise ValueError(f"{name} must have shape (n, 1), got {tuple(shape)}")


def train_spline_nets(
    nets: Sequence[SplineNet],
    x_train: np.ndarray | torch.Tensor,
    y_train: np.ndarray | torch.Tensor,
    strengths: Sequence[float],
    *,
    lr: float = 1e-3,
    steps: int,
    schedule: str = "constant",
    warmup: int = 0,
    device: str | torch.device | None = None,
) -> list[TrainHistory]:
    """Train several :class:`SplineNet` on the same data at once, net ``i`` with weight decay ``strengths[i]``.

    Net ``i`` follows exactly the updates it would follow alone under
    ``cosp_helpers.training.train(nets[i], x_train, y_train, lr=lr, steps=steps, schedule=schedule,
    warmup=warmup, penalty=lambda m: strengths[i] * m.weight_decay())`` (no penalty for a strength of 0):
    full-batch Adam on the mean squared error plus ``strengths[i] * weight_decay()``. The objective of
    the joint run is the sum of the nets' objectives; they share no parameter, so each net's gradient
    is its own, and Adam acts on each parameter tensor element by element. The products are the ones a
    single net computes, so on a CPU the trained weights and the recorded losses agree with separate
    ``train`` calls bit for bit (the tests check it). One joint step costs far less than one step per
    net: for these small networks the time goes to per-operation overhead, which the nets now share.

    Parameters
    ----------
    nets : list of SplineNet
        One or more distinct nets of one width and one ``linear_term`` setting, initialised by the
        caller; trained in place.
    x_train, y_train : numpy.ndarray or torch.Tensor, shape (n, 1)
        The data, shared by the nets (cast to the nets' dtype).
    strengths : sequence of float
        One weight-decay strength ``>= 0`` per net; 0 trains without the penalty.
    lr, steps, schedule, warmup, device
        As in :func:`cosp_helpers.training.train` (full batch: no shuffling, so no seed).

    Returns
    -------
    list of TrainHistory
        One per net, in the order of ``nets``: its own mean squared error (without the penalty) at the
        steps ``train`` records; ``seconds`` is the wall time of the joint run, shared.

    References
    ----------
    D. P. Kingma, J. Ba, "Adam: a method for stochastic optimization", ICLR 2015.

    Examples
    --------
    >>> x = np.linspace(-1, 1, 8, dtype=np.float32)[:, None]; y = np.abs(x)
    >>> nets = [SplineNet(6, seed=0), SplineNet(6, seed=1)]
    >>> hs = train_spline_nets(nets, x, y, [0.0, 0.1], lr=0.05, steps=60)
    >>> len(hs), hs[0].steps[-1], bool(nets[1].weight_decay() < 1.0)
    (2, 60, True)
    """
    nets = _check_spline_nets(nets)
    values = _check_strengths(strengths, len(nets))
    _check_line_data("x_train", x_train)
    _check_line_data("y_train", y_train)
    penalized = [i for i, s in enumerate(values) if s > 0]
    recorded: list[list[float]] = []

    def loss(prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        # each net's mean squared error (the numbers of F.mse_loss); train records the losses without gradients
        member = (prediction - target).square().mean(dim=(1, 2))
        if not torch.is_grad_enabled():
            recorded.append(member.tolist())
        return member.sum()

    def penalty(model: nn.Module) -> torch.Tensor:
        members = [nets[i] for i in penalized]
        scale = torch.tensor([values[i] for i in penalized], dtype=members[0].v.dtype, device=members[0].v.device)
        squares = (torch.stack([net.v.square().sum() for net in members])
                   + torch.stack([net.w.square().sum() for net in members]))
        return (scale * (0.5 * squares)).sum()  # strength * weight_decay(), net by net

    history = train(
        _SideBySide(nets), x_train, y_train, loss=loss, lr=lr, steps=steps, schedule=schedule, warmup=warmup,
        penalty=penalty if penalized else None, device=device, progress=False,
    )  # fmt: skip
    if len(recorded) != len(history.steps):
        raise RuntimeError("the recorded losses do not match the recorded steps")  # train records once per step listed
    return [
        TrainHistory(
            steps=list(history.steps),
            train_loss=[row[i] for row in recorded],
            test_loss=[],
            final_train_loss=recorded[-1][i],
            final_test_loss=None,
            seconds=history.seconds,
        )
        for i in range(len(nets))
    ]


# --- weights as numpy arrays -------------------------------------------------------------------


class UnitWeights(NamedTuple):
    """The weights of ``f(x) = sum_k v_k relu(w_k x + b_k) + a x + c`` as float64 arrays.

    Attributes
    ----------
    w, b, v : numpy.ndarray
        Input weights, biases and output weights, each of shape ``(K,)``.
    a, c : float
        The linear term's slope and the constant.

    Examples
    --------
    >>> u = UnitWeights(np.array([1.0]), np.array([-0.5]), np.array([2.0]), 0.0, 1.0)
    >>> values(u, np.array([0.0, 1.0]))
    array([1., 2.])
    """

    w: np.ndarray
    b: np.ndarray
    v: np.ndarray
    a: float
    c: float


def _check_units(weights: object) -> UnitWeights:
    if not isinstance(weights, UnitWeights):
        raise TypeError(f"weights must be a UnitWeights (see unit_weights), got {type(weights).__name__}")
    w, b, v = (np.asarray(weights[i], dtype=float) for i in range(3))
    if not (w.ndim == b.ndim == v.ndim == 1 and w.shape == b.shape == v.shape):
        raise ValueError(
            f"weights.w, .b, .v must be 1-D arrays of one length, got shapes {w.shape}, {b.shape}, {v.shape}"
        )
    a, c = check_real("weights.a", weights.a), check_real("weights.c", weights.c)
    if not (np.all(np.isfinite(w)) and np.all(np.isfinite(b)) and np.all(np.isfinite(v))):
        raise ValueError("weights.w, .b, .v must be finite")
    return UnitWeights(w, b, v, a, c)


def unit_weights(net: nn.Module) -> UnitWeights:
    """The weights of a :class:`SplineNet`, or of a ``ShallowNet(1, K)``, as a :class:`UnitWeights`.

    Parameters
    ----------
    net : SplineNet or cosp_helpers.networks.ShallowNet
        A ``ShallowNet`` must have one input, one output and ReLU units (its ``a`` is 0).

    Returns
    -------
    UnitWeights
        float64 copies.

    Examples
    --------
    >>> u = unit_weights(SplineNet(4, seed=0))
    >>> u.w.shape, u.a, u.c
    ((4,), 0.0, 0.0)
    """
    with torch.no_grad():
        if isinstance(net, SplineNet):
            a = 0.0 if net.a is None else float(net.a)
            w, b, v = (t.detach().double().cpu().numpy().copy() for t in (net.w, net.b, net.v))
            return UnitWeights(w, b, v, a, float(net.c))
        layers = getattr(net, "layers", None)
        if (
            isinstance(net, nn.Module)
            and layers is not None
            and len(layers) == 2
            and getattr(net, "activation", None) == "relu"
            and layers[0].weight.shape[1] == 1
            and layers[1].weight.shape[0] == 1
        ):
            first, second = layers
            w = first.weight[:, 0].double().cpu().numpy().copy()
            b = first.bias.double().cpu().numpy().copy()
            v = second.weight[0].double().cpu().numpy().copy()
            return UnitWeights(w, b, v, 0.0, float(second.bias[0]))
    raise TypeError(
        f"net must be a SplineNet or a ShallowNet with 1 input, 1 output and relu units, got {type(net).__name__}"
    )


def values(weights: UnitWeights, x: np.ndarray) -> np.ndarray:
    """Evaluate ``f(x) = sum_k v_k relu(w_k x + b_k) + a x + c`` in float64.

    Parameters
    ----------
    weights : UnitWeights
    x : numpy.ndarray
        Points, any shape.

    Returns
    -------
    numpy.ndarray
        ``f(x)``, same shape as ``x``.

    Examples
    --------
    >>> u = UnitWeights(np.array([1.0, -1.0]), np.zeros(2), np.array([1.0, 1.0]), 0.0, 0.0)
    >>> values(u, np.array([-2.0, 0.5]))  # |x|
    array([2. , 0.5])
    """
    u = _check_units(weights)
    x = check_real_array("x", x)
    flat = x.reshape(-1, 1)  # (n, 1)
    out = np.maximum(flat * u.w + u.b, 0.0) @ u.v + u.a * flat[:, 0] + u.c  # (n,)
    return out.reshape(x.shape)


# --- the rescaling inequality ------------------------------------------------------------------


def _check_vw(v: object, w: object) -> tuple[np.ndarray, np.ndarray]:
    v = check_real_array("v", v)
    w = check_real_array("w", w)
    if v.ndim != 1:
        raise ValueError(f"v must be 1-D (one output weight per unit), got shape {v.shape}")
    if w.ndim == 1:
        w = w[:, None]
    if w.ndim != 2 or w.shape[0] != v.shape[0]:
        raise ValueError(f"w must have shape (K,) or (K, d) with K = len(v) = {v.shape[0]}, got shape {w.shape}")
    return v, w


def weight_decay_cost(v: np.ndarray, w: np.ndarray) -> float:
    """Weight decay on a layer of units: ``1/2 sum_k (v_k^2 + ||w_k||^2)``.

    Parameters
    ----------
    v : numpy.ndarray
        Output weights, shape ``(K,)``.
    w : numpy.ndarray
        Input weights, shape ``(K,)`` (one input) or ``(K, d)``.

    Returns
    -------
    float

    References
    ----------
    R. Parhi, R. D. Nowak, "Deep learning meets sparse regularization: a signal processing
    perspective", IEEE Signal Processing Magazine 40 (2023), §"weight decay".

    Examples
    --------
    >>> weight_decay_cost(np.array([3.0]), np.array([[1.0, 2.0, 2.0]]))  # (9 + 9) / 2
    9.0
    """
    v, w = _check_vw(v, w)
    return float(0.5 * (np.sum(v**2) + np.sum(w**2)))


def path_norm(v: np.ndarray, w: np.ndarray) -> float:
    """The path norm ``sum_k |v_k| ||w_k||``: weight decay at the optimal rescaling of every unit.

    By the AM-GM inequality ``1/2 (v^2 + ||w||^2) >= |v| ||w||``, with equality iff ``|v| = ||w||``;
    so ``path_norm(v, w) <= weight_decay_cost(v, w)``, with equality for balanced units.

    Parameters
    ----------
    v : numpy.ndarray
        Output weights, shape ``(K,)``.
    w : numpy.ndarray
        Input weights, shape ``(K,)`` or ``(K, d)``.

    Returns
    -------
    float

    References
    ----------
    B. Neyshabur, R. Tomioka, N. Srebro, "Norm-based capacity control in neural networks", COLT 2015;
    Parhi & Nowak (2023), IEEE SPM.

    Examples
    --------
    >>> v, w = np.array([12.0]), np.array([[1.0, 2.0, 2.0]])
    >>> path_norm(v, w), weight_decay_cost(v, w)
    (36.0, 76.5)
    """
    v, w = _check_vw(v, w)
    return float(np.sum(np.abs(v) * np.linalg.norm(w, axis=1)))


def balance(
    v: np.ndarray, w: np.ndarray, b: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Rescale each unit to ``(v/alpha, alpha w, alpha b)`` with ``alpha = sqrt(|v| / ||w||)``.

    ReLU is positively homogeneous, ``relu(alpha z) = alpha relu(z)`` for ``alpha > 0``, so the
    network's function does not change, and afterwards ``|v_k| = ||w_k||`` and
    ``weight_decay_cost == path_norm``. Units with ``v_k = 0`` or ``w_k = 0`` have no balanced
    scaling (the infimum over ``alpha`` is not attained) and are returned unchanged.

    Parameters
    ----------
    v : numpy.ndarray
        Output weights, shape ``(K,)``.
    w : numpy.ndarray
        Input weights, shape ``(K,)`` or ``(K, d)``.
    b : numpy.ndarray, optional
        Biases, shape ``(K,)``; they scale like ``w``. Biases are not part of the cost.

    Returns
    -------
    tuple
        ``(v, w, b)`` rescaled (``b`` is None if not given); ``w`` keeps its shape.

    References
    ----------
    Parhi & Nowak (2023), IEEE SPM; B. Neyshabur, R. Salakhutdinov, N. Srebro, "Path-SGD", NeurIPS 2015.

    Examples
    --------
    >>> v, w, _ = balance(np.array([12.0]), np.array([[1.0, 2.0, 2.0]]))
    >>> v, w
    (array([6.]), array([[2., 4., 4.]]))
    """
    v, w2 = _check_vw(v, w)
    norms = np.linalg.norm(w2, axis=1)
    ok = (v != 0) & (norms > 0)
    alpha = np.ones_like(v)
    alpha[ok] = np.sqrt(np.abs(v[ok]) / norms[ok])
    new_b = None
    if b is not None:
        b = check_real_array("b", b)
        if b.shape != v.shape:
            raise ValueError(f"b must have the shape of v, {v.shape}, got {b.shape}")
        new_b = b * alpha
    new_w = w2 * alpha[:, None]
    return v / alpha, new_w.reshape(np.shape(w)), new_b


# --- knots -------------------------------------------------------------------------------------


class Knots(NamedTuple):
    """Breakpoints of a linear spline and the jumps of its slope there.

    Attributes
    ----------
    locations : numpy.ndarray
        Sorted knot positions, shape ``(m,)``.
    jumps : numpy.ndarray
        ``f'(t+) - f'(t-)`` at each knot, shape ``(m,)``.

    Examples
    --------
    >>> k = Knots(np.array([0.0]), np.array([2.0])); len(k.locations)
    1
    """

    locations: np.ndarray
    jumps: np.ndarray


def knots(weights: UnitWeights, tol: float = 0.0, merge: float = 0.0) -> Knots:
    """The knots of ``f(x) = sum_k v_k relu(w_k x + b_k) + a x + c``, exactly from the weights.

    Unit ``k`` with ``w_k != 0`` has its breakpoint at ``t_k = -b_k / w_k``, where the slope of
    ``f`` jumps by ``v_k |w_k|`` (left to right, whatever the sign of ``w_k``). Units whose
    breakpoints lie within ``merge`` of each other (chained: sorted gaps ``<= merge``) are combined
    into one knot at their jump-weighted mean position, with the sum of their jumps; then knots
    with ``|jump| <= tol`` are dropped.

    Parameters
    ----------
    weights : UnitWeights
    tol : float
        Slope-change tolerance, ``>= 0``: a knot counts if its ``|jump| > tol``.
    merge : float
        Merge distance, ``>= 0``; 0 merges only breakpoints at exactly the same place.

    Returns
    -------
    Knots

    References
    ----------
    Parhi & Nowak (2023), IEEE SPM; Savarese et al., COLT 2019.

    Examples
    --------
    >>> u = UnitWeights(np.array([1.0, -2.0, 1.0]), np.array([0.0, 1.0, -1.0]), np.array([1.0, 1.0, 0.001]), 0.0, 0.0)
    >>> k = knots(u)  # breakpoints at 0, 0.5 and 1, slope jumps 1, 2 and 0.001
    >>> k.locations.tolist(), k.jumps.tolist()
    ([0.0, 0.5, 1.0], [1.0, 2.0, 0.001])
    >>> len(knots(u, tol=0.01).locations), knots(u, merge=0.5).jumps
    (2, array([3.001]))
    """
    u = _check_units(weights)
    tol = _check_nonnegative("tol", tol)
    merge = _check_nonnegative("merge", merge)
    active = u.w != 0
    t = -u.b[active] / u.w[active]
    s = u.v[active] * np.abs(u.w[active])
    order = np.argsort(t, kind="stable")
    t, s = t[order], s[order]
    if t.size == 0:
        return Knots(np.zeros(0), np.zeros(0))
    group = np.concatenate([[0], np.cumsum(np.diff(t) > merge)])  # a new group wherever the gap exceeds merge
    n_groups = group[-1] + 1
    jumps = np.bincount(group, weights=s, minlength=n_groups)
    weight = np.bincount(group, weights=np.abs(s), minlength=n_groups)
    plain = np.bincount(group, weights=t, minlength=n_groups) / np.bincount(group, minlength=n_groups)
    with np.errstate(invalid="ignore", divide="ignore"):
        centre = np.where(weight > 0, np.bincount(group, weights=np.abs(s) * t, minlength=n_groups) / weight, plain)
    keep = np.abs(jumps) > tol
    return Knots(centre[keep], jumps[keep])


def _check_nonnegative(name: str, value: object) -> float:
    value = check_real(name, value)
    if value < 0:
        raise ValueError(f"{name} must be >= 0, got {value}")
    return value


def slope_tv(weights: UnitWeights) -> float:
    """``TV(f') = int |f''|`` over the whole line: the sum of ``|jump|`` over the distinct knots.

    It is at most the path norm ``sum_k |v_k| |w_k|``, with equality unless units share a
    breakpoint with jumps of opposite signs.

    Parameters
    ----------
    weights : UnitWeights

    Returns
    -------
    float

    References
    ----------
    Savarese et al., COLT 2019; Parhi & Nowak, JMLR 22 (2021).

    Examples
    --------
    >>> u = UnitWeights(np.array([1.0, 1.0]), np.array([0.0, 0.0]), np.array([2.0, -0.5]), 0.0, 0.0)
    >>> slope_tv(u), path_norm(u.v, u.w)  # both units break at 0: jumps 2 and -0.5 partly cancel
    (1.5, 2.5)
    """
    return float(np.sum(np.abs(knots(weights).jumps)))


# --- reference solutions -----------------------------------------------------------------------


def _check_data(x: object, y: object) -> tuple[np.ndarray, np.ndarray]:
    x = check_real_array("x", x)
    y = check_real_array("y", y)
    if x.ndim != 1 or y.shape != x.shape:
        raise ValueError(f"x and y must be 1-D arrays of one length, got shapes {x.shape} and {y.shape}")
    if x.size < 2:
        raise ValueError(f"x must hold at least 2 points, got {x.size}")
    if np.any(np.diff(x) <= 0):
        raise ValueError("x must be strictly increasing (sort the data, and merge repeated x)")
    return x, y


def interpolant_tv(x: np.ndarray, y: np.ndarray) -> float:
    """``TV(f')`` of the connect-the-dots interpolant: ``sum_i |s_{i+1} - s_i|`` over its secant slopes.

    With a free linear term this is also the minimum of ``TV(f')`` over all interpolants: averaging
    ``f'`` over the intervals between the data does not increase its total variation.

    Parameters
    ----------
    x : numpy.ndarray
        Strictly increasing, shape ``(N,)``, ``N >= 2``.
    y : numpy.ndarray
        Values, shape ``(N,)``.

    Returns
    -------
    float

    References
    ----------
    T. Debarre, Q. Denoyelle, M. Unser, J. Fageot, "Sparsest piecewise-linear regression of
    one-dimensional data", J. Comput. Appl. Math. 406 (2022).

    Examples
    --------
    >>> interpolant_tv(np.array([0.0, 1.0, 2.0]), np.array([0.0, 1.0, 0.0]))  # slopes 1, -1
    2.0
    """
    x, y = _check_data(x, y)
    return float(np.sum(np.abs(np.diff(np.diff(y) / np.diff(x)))))


def _relu_design(x: np.ndarray, centres: np.ndarray) -> np.ndarray:
    return np.maximum(x[:, None] - centres[None, :], 0.0)  # (N, m)


def min_tv_interpolant(x: np.ndarray, y: np.ndarray, grid: np.ndarray) -> tuple[UnitWeights, float]:
    """The interpolant ``a x + c + sum_j u_j relu(x - g_j)`` with least ``sum_j |u_j|``, by linear programming.

    Candidate knots are the points ``g_j`` of ``grid``; the linear program (HiGHS, through
    ``scipy.optimize.linprog``) minimises ``sum_j (p_j + q_j)`` with ``u = p - q``, ``p, q >= 0``,
    subject to interpolating the data. Its vertex solution has at most ``N`` nonzero variables
    among ``(a, c, p, q)``, hence at most ``N - 2`` knots when ``a`` and ``c`` are used.

    Parameters
    ----------
    x, y : numpy.ndarray
        The data, ``x`` strictly increasing, shape ``(N,)``.
    grid : numpy.ndarray
        Candidate knot positions, 1-D.

    Returns
    -------
    tuple
        ``(weights, tv)``: the solution as :class:`UnitWeights` (``w = 1``, ``b = -grid``; units with
        ``u_j = 0`` dropped) and its ``TV(f') = sum_j |u_j|``.

    Raises
    ------
    ValueError
        If no interpolant has its knots on ``grid`` (grid too coarse); a grid containing ``x`` always works.

    References
    ----------
    Debarre et al., J. Comput. Appl. Math. 406 (2022); Parhi & Nowak, JMLR 22 (2021).

    Examples
    --------
    >>> x = np.array([0.0, 1.0, 2.0]); y = np.array([0.0, 1.0, 0.0])
    >>> u, tv = min_tv_interpolant(x, y, np.linspace(0, 2, 5))
    >>> round(tv, 9), u.w.size, np.allclose(values(u, x), y)
    (2.0, 1, True)
    """
    x, y = _check_data(x, y)
    grid = check_real_array("grid", grid)
    if grid.ndim != 1 or grid.size < 1:
        raise ValueError(f"grid must be a non-empty 1-D array, got shape {grid.shape}")
    phi = _relu_design(x, grid)  # (N, m)
    n, m = phi.shape
    # variables: a, c (free), p (m, >= 0), q (m, >= 0)
    cost = np.concatenate([[0.0, 0.0], np.ones(2 * m)])
    a_eq = np.hstack([x[:, None], np.ones((n, 1)), phi, -phi])
    bounds = [(None, None)] * 2 + [(0, None)] * (2 * m)
    res = optimize.linprog(cost, A_eq=a_eq, b_eq=y, bounds=bounds, method="highs")
    if res.status == 2:  # three data points on one linear piece that are not collinear
        raise ValueError(
            f"no interpolant has its knots on grid (it has {m} points); add candidate knots, e.g. the data points x"
        )
    if res.status != 0:  # pragma: no cover - bounded below by 0, so only numerical trouble is left
        raise RuntimeError(f"linprog failed: {res.message}")
    u = res.x[2 : 2 + m] - res.x[2 + m :]
    keep = np.abs(u) > 1e-12 * max(1.0, np.abs(u).max())
    weights = UnitWeights(np.ones(keep.sum()), -grid[keep], u[keep], float(res.x[0]), float(res.x[1]))
    return weights, float(np.sum(np.abs(u[keep])))


class TVFit(NamedTuple):
    """The exact minimizer of ``mean((f(x_i) - y_i)^2) + strength * TV(f')``, from :func:`tv_regression`.

    Attributes
    ----------
    weights : UnitWeights
        The solution as a linear spline with knots at interior data points (``w = 1``).
    fitted : numpy.ndarray
        ``f(x_i)``, shape ``(N,)`` (unique: the objective is strictly convex in them).
    tv : float
        ``TV(f')`` of the solution.
    mse : float
        Its mean squared error on the data.
    objective : float
        ``mse + strength * tv``.

    Examples
    --------
    >>> TVFit._fields
    ('weights', 'fitted', 'tv', 'mse', 'objective')
    """

    weights: UnitWeights
    fitted: np.ndarray
    tv: float
    mse: float
    objective: float


def tv_regression(x: np.ndarray, y: np.ndarray, strength: float, *, tol: float = 1e-13) -> TVFit:
    """Exactly minimise ``mean_i (f(x_i) - y_i)^2 + strength * TV(f')`` over linear splines ``f`` (any knots).

    Reduction: for the optimal ``f``, the connect-the-dots interpolant of its values at the data has
    the same fit and no larger ``TV(f')``, so knots at the ``N - 2`` interior data points suffice. The
    problem becomes a lasso in the jumps ``u_j`` there, with the line ``a x + c`` unpenalized: it is
    solved by L-BFGS-B on ``u = p - q`` (``p, q >= 0``), then polished on the support by solving the
    optimality conditions exactly (signs fixed), and the conditions are verified.

    Parameters
    ----------
    x, y : numpy.ndarray
        The data, ``x`` strictly increasing, shape ``(N,)``, ``N >= 2``.
    strength : float
        ``lambda >= 0``. At 0 the result is the connect-the-dots interpolant.
    tol : float
        Convergence tolerance of L-BFGS-B (projected gradient), > 0.

    Returns
    -------
    TVFit

    References
    ----------
    Parhi & Nowak, JMLR 22 (2021) (representer theorem: a solution with at most ``N - 2`` knots);
    R. Tibshirani, "Adaptive piecewise polynomial estimation via trend filtering", Ann. Stat. 42 (2014).

    Examples
    --------
    >>> x = np.linspace(-1, 1, 5); y = np.abs(x)
    >>> fit = tv_regression(x, y, 0.0)
    >>> round(fit.tv, 9), round(fit.mse, 12)
    (2.0, 0.0)
    >>> tv_regression(x, y, 10.0).tv  # a strong penalty leaves the least-squares line
    0.0
    """
    x, y = _check_data(x, y)
    strength = _check_nonnegative("strength", strength)
    if not (isinstance(tol, (int, float)) and tol > 0):
        raise ValueError(f"tol must be a number > 0, got {tol!r}")
    n = x.size
    centres = x[1:-1]
    phi = _relu_design(x, centres)  # (N, N - 2)
    line = np.stack([x, np.ones(n)], axis=1)  # (N, 2)
    q_line, _ = np.linalg.qr(line)
    project = np.eye(n) - q_line @ q_line.T  # removes the best line: the unpenalized part
    pa, py = project @ phi, project @ y
    m = centres.size
    if strength == 0 or m == 0:
        u = np.linalg.lstsq(pa, py, rcond=None)[0] if m else np.zeros(0)
    else:
        def objective(z: np.ndarray) -> tuple[float, np.ndarray]:
            r = pa @ (z[:m] - z[m:]) - py
            grad_u = 2.0 / n * (pa.T @ r)
            return float(r @ r / n + strength * z.sum()), np.concatenate([grad_u + strength, -grad_u + strength])

        res = optimize.minimize(objective, np.zeros(2 * m), jac=True, method="L-BFGS-B", bounds=[(0, None)] * (2 * m),
                                options={"ftol": 0.0, "gtol": tol, "maxiter": 10_000})
        u = res.x[:m] - res.x[m:]
        u = _polish(pa, py, u, strength, n)
    coef = np.linalg.lstsq(line, y - phi @ u, rcond=None)[0]  # the best line for these jumps
    weights = UnitWeights(np.ones(m), -centres, u, float(coef[0]), float(coef[1]))
    fitted = values(weights, x)
    tv = float(np.sum(np.abs(u)))
    mse = float(np.mean((fitted - y) ** 2))
    return TVFit(weights, fitted, tv, mse, mse + strength * tv)


def _polish(pa: np.ndarray, py: np.ndarray, u: np.ndarray, strength: float, n: int) -> np.ndarray:
    """Solve the lasso's optimality conditions exactly on the support and sign pattern of ``u``.

    On the support S with signs s: ``2/n A_S^T (A_S u_S - y) + strength s = 0``; off it,
    ``|2/n A_j^T (A u - y)| <= strength``. The polished ``u`` is kept only if it satisfies both.
    """
    scale = max(1.0, np.abs(u).max())
    support = np.abs(u) > 1e-9 * scale
    if not support.any():
        return np.zeros_like(u)
    signs = np.sign(u[support])
    a_s = pa[:, support]
    try:
        u_s = np.linalg.solve(a_s.T @ a_s, a_s.T @ py - 0.5 * n * strength * signs)
    except np.linalg.LinAlgError:
        return u
    polished = np.zeros_like(u)
    polished[support] = u_s
    grad = 2.0 / n * (pa.T @ (pa @ polished - py))
    if np.all(np.sign(u_s) == signs) and np.all(np.abs(grad[~support]) <= strength * (1 + 1e-9)):
        return polished
    return u


# --- plotting ----------------------------------------------------------------------------------


def plot_spline(
    weights: UnitWeights,
    x: np.ndarray | None = None,
    y: np.ndarray | None = None,
    *,
    interval: tuple[float, float] = (-1.0, 1.0),
    tol: float = 0.0,
    merge: float = 0.0,
    label: str | None = None,
    color: str = "C0",
    ax: Axes | None = None,
) -> Axes:
    """Draw ``f`` on ``interval``, its knots there (``|jump| > tol``) as markers, and the data.

    Parameters
    ----------
    weights : UnitWeights
    x, y : numpy.ndarray, optional
        Data points to draw as black dots.
    interval : tuple of float
        ``(low, high)`` with ``low < high``.
    tol, merge : float
        As in :func:`knots`.
    label : str, optional
        Legend label of the curve (the number of knots inside ``interval`` is appended).
    color : str
        Colour of the curve and its knots.
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> u = UnitWeights(np.array([1.0]), np.array([0.0]), np.array([1.0]), 0.0, 0.0)
    >>> ax = plot_spline(u, label="relu"); len(ax.lines)
    2
    """
    low, high = (check_real("interval[0]", interval[0]), check_real("interval[1]", interval[1]))
    if not low < high:
        raise ValueError(f"interval must be (low, high) with low < high, got {interval}")
    ax = get_ax(ax)
    k = knots(weights, tol=tol, merge=merge)
    inside = (k.locations >= low) & (k.locations <= high)
    grid = np.union1d(np.linspace(low, high, 401), k.locations[inside])  # exact corners
    text = None if label is None else f"{label}: {int(inside.sum())} knots in view"
    ax.plot(grid, values(weights, grid), color=color, lw=2.5, label=text)
    ax.plot(k.locations[inside], values(weights, k.locations[inside]), "o", ms=9, mfc="white", mec=color, mew=2)
    if x is not None and y is not None:
        ax.plot(x, y, "o", color="k", ms=7, zorder=5)
    ax.set(xlabel="x", ylabel="f(x)")
    return ax
