"""Shallow, deep and graph-shaped (binary-tree) models as torch modules.

* :class:`ShallowNet` -- one hidden layer: the "shallow network" of the MP theorem (memo §6.5).
* :class:`DeepNet` -- a dense multilayer perceptron: deep, but every unit sees every input.
* :class:`BinaryTreeNet` -- a network whose graph *is* a binary tree on ``n`` inputs: each of the
  ``n - 1`` nodes is a small MLP of its two children, the architecture of the deep networks in the MP
  theorem for binary-tree targets (Poggio et al. 2017, Fig. 1). The nodes of one level share no
  weights; they are evaluated together with batched matrix products, so a level costs one call.

:func:`parameter_count` gives each architecture's parameter count in closed form, and
:func:`width_for_budget` inverts it: the width whose count is nearest a parameter budget, to compare
architectures at matched size. :func:`count_parameters` counts a built module.

:func:`mp_counts` evaluates the two sizes the MP theorem (memo §6.5, Theorem 7) compares, shallow
``eps^(-n/m)`` against deep ``sum_v eps^(-d_v/m_v)``, with their constants set to 1;
:func:`mp_summary` is the compute function of the notebook's explorer.

Every constructor takes ``seed=``: weights are drawn from a local ``torch.Generator`` (PyTorch's
default scheme for linear layers, uniform on ``±1/sqrt(fan_in)`` for weights and biases), never from
the global generator.
"""

from __future__ import annotations

import math
from typing import NamedTuple, Sequence

import numpy as np
import torch
from torch import nn

from ._checks import (
    MAX_MODULES,
    MAX_SIZE,
    as_torch_generator,
    check_allocation,
    check_int,
    check_open_interval,
    check_positive,
    check_power_of_two,
    check_size,
)

__all__ = [
    "ShallowNet",
    "DeepNet",
    "BinaryTreeNet",
    "parameter_count",
    "width_for_budget",
    "count_parameters",
    "MPCounts",
    "mp_counts",
    "mp_summary",
]

_ACTIVATIONS = {"relu": nn.functional.relu, "softplus": nn.functional.softplus, "tanh": torch.tanh}
_ARCHITECTURES = ("shallow", "deep", "tree")


def _uniform(shape: tuple[int, ...], fan_in: int, generator: torch.Generator) -> nn.Parameter:
    bound = 1.0 / math.sqrt(fan_in)
    return nn.Parameter((torch.rand(shape, generator=generator) * 2 - 1) * bound)


def _check_activation(activation: str) -> str:
    if activation not in _ACTIVATIONS:
        raise ValueError(f"activation must be one of {tuple(_ACTIVATIONS)}, got {activation!r}")
    return activation


class DeepNet(nn.Module):
    """A dense MLP: ``n_inputs -> width -> ... -> width -> n_outputs`` with ``depth`` hidden layers.

    Parameters
    ----------
    n_inputs : int
        Input dimension, in ``1..2**24``.
    width : int
        Units per hidden layer, in ``1..2**24``.
    depth : int
        Number of hidden layers, in ``1..2**14`` (``depth=1`` is a shallow network; each layer is a module of its
        own, built in about a millisecond).
    n_outputs : int
        Output dimension, in ``1..2**24``; the parameters (see Notes) are at most ``2**28`` in all.
    activation : {"relu", "softplus", "tanh"}
        Nonlinearity of the hidden units.
    seed : int or numpy.random.Generator
        Seeds the initialisation (a local generator).

    Notes
    -----
    Input ``(batch, n_inputs)``, output ``(batch, n_outputs)``. Parameters:
    ``(n_inputs + 1) width + (depth - 1)(width + 1) width + (width + 1) n_outputs``.

    References
    ----------
    T. Poggio, CBMM Memo 138 (2023), §6.5; T. Poggio, H. Mhaskar, L. Rosasco, B. Miranda, Q. Liao,
    "Why and when can deep-but not shallow-networks avoid the curse of dimensionality", Int. J.
    Automation and Computing 14 (2017).

    Examples
    --------
    >>> net = DeepNet(8, width=10, depth=3, seed=0)
    >>> net(torch.zeros(5, 8)).shape
    torch.Size([5, 1])
    >>> count_parameters(net) == parameter_count("deep", 8, 10, depth=3) == 9 * 10 + 2 * 11 * 10 + 11
    True
    """

    def __init__(
        self,
        n_inputs: int,
        width: int,
        depth: int,
        n_outputs: int = 1,
        *,
        activation: str = "relu",
        seed: int | np.random.Generator = 0,
    ) -> None:
        super().__init__()
        self.n_inputs = check_size("n_inputs", n_inputs)
        self.width = check_size("width", width)
        self.depth = check_int("depth", depth, minimum=1, maximum=MAX_MODULES)
        self.n_outputs = check_size("n_outputs", n_outputs)
        self.activation = _check_activation(activation)
        total = parameter_count("deep", self.n_inputs, self.width, depth=self.depth, n_outputs=self.n_outputs)
        check_allocation("n_inputs, width, depth and n_outputs", total)  # all the parameters
        g = as_torch_generator(seed)
        sizes = [self.n_inputs] + [self.width] * self.depth + [self.n_outputs]
        self.layers = nn.ModuleList()
        for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
            layer = nn.utils.skip_init(nn.Linear, fan_in, fan_out)  # no draw from the global generator
            layer.weight = _uniform((fan_out, fan_in), fan_in, g)
            layer.bias = _uniform((fan_out,), fan_in, g)
            self.layers.append(layer)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        act = _ACTIVATIONS[self.activation]
        for layer in self.layers[:-1]:
            x = act(layer(x))  # (batch, width)
        return self.layers[-1](x)  # (batch, n_outputs)

    def _stacked_forward(self, params: dict[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
        """The forward pass of ``M`` networks of this shape at once, for :func:`~cosp_helpers.training.train_ensemble`.

        ``params`` maps each name of :meth:`named_parameters` to the ``M`` members' values stacked on a
        first axis; ``x`` is one ``(batch, n_inputs)`` input shared by the members. Returns
        ``(M, batch, n_outputs)``: member ``i``'s output is this module's forward with ``params[...][i]``.
        """
        act = _ACTIVATIONS[self.activation]
        last = len(self.layers) - 1
        h = x
        for i in range(last + 1):
            weight, bias = params[f"layers.{i}.weight"], params[f"layers.{i}.bias"]  # (M, out, in), (M, out)
            h = torch.baddbmm(bias.unsqueeze(1), h.expand(weight.shape[0], *h.shape[-2:]), weight.transpose(1, 2))
            if i < last:
                h = act(h)  # (M, batch, width)
        return h


class ShallowNet(DeepNet):
    """A network with one hidden layer: ``n_inputs -> width -> n_outputs``.

    The shallow class of the MP theorem: ``sum_k a_k sigma(<w_k, x> + b_k) + c``. It is a
    :class:`DeepNet` with ``depth=1``; parameters ``(n_inputs + 2) width + 1`` for one output.

    Parameters
    ----------
    n_inputs, width, n_outputs, activation, seed
        As in :class:`DeepNet`.

    References
    ----------
    T. Poggio, CBMM Memo 138 (2023), §6.5 (Theorem 7).

    Examples
    --------
    >>> net = ShallowNet(8, width=100, seed=0)
    >>> count_parameters(net), parameter_count("shallow", 8, 100)
    (1001, 1001)
    """

    def __init__(
        self,
        n_inputs: int,
        width: int,
        n_outputs: int = 1,
        *,
        activation: str = "relu",
        seed: int | np.random.Generator = 0,
    ) -> None:
        super().__init__(n_inputs, width, 1, n_outputs, activation=activation, seed=seed)


class BinaryTreeNet(nn.Module):
    """A network shaped like a binary tree on ``n_inputs`` (a power of 2) inputs.

    Level 1 has ``n/2`` nodes, node ``j`` reading inputs ``2j`` and ``2j+1``; level ``l`` has ``n/2^l``
    nodes, node ``j`` reading the outputs of nodes ``2j`` and ``2j+1`` of level ``l-1``; the single
    node of level ``log2 n`` is the output. Each node is an MLP ``2 -> node_width -> ... -> 1``
    with ``node_depth`` hidden layers; nodes share no weights. Node ``j`` of level ``l`` depends on
    the inputs ``j 2^l, ..., (j+1) 2^l - 1`` only (its subtree) -- the locality the MP theorem needs.

    Parameters
    ----------
    n_inputs : int
        A power of 2, ``2 <= n_inputs <= 2**24``.
    node_width : int
        Hidden units per layer of each node, in ``1..2**24``; the parameters (see Notes) are at most ``2**28``.
    node_depth : int
        Hidden layers per node, >= 1; the ``2 (node_depth + 1)`` parameter tensors of each of the ``log2 n_inputs``
        levels are at most ``2**14`` in all (each is built on its own).
    activation : {"relu", "softplus", "tanh"}
        Nonlinearity of the hidden units (node outputs are linear).
    seed : int or numpy.random.Generator
        Seeds the initialisation (a local generator).

    Notes
    -----
    Input ``(batch, n_inputs)``, output ``(batch, 1)``. Parameters:
    ``(n_inputs - 1) [3 Q + (node_depth - 1)(Q + 1) Q + Q + 1]`` with ``Q = node_width``.
    :meth:`node_outputs` returns every node's output, level by level.

    References
    ----------
    T. Poggio, H. Mhaskar, L. Rosasco, B. Miranda, Q. Liao (2017), Fig. 1 and Theorem 2;
    T. Poggio, CBMM Memo 138 (2023), §6.5.

    Examples
    --------
    >>> net = BinaryTreeNet(8, node_width=4, seed=0)
    >>> net(torch.zeros(5, 8)).shape, [v.shape[1] for v in net.node_outputs(torch.zeros(5, 8))]
    (torch.Size([5, 1]), [4, 2, 1])
    >>> count_parameters(net) == parameter_count("tree", 8, 4) == 7 * (4 * 4 + 1)
    True
    """

    def __init__(
        self,
        n_inputs: int,
        node_width: int,
        node_depth: int = 1,
        *,
        activation: str = "relu",
        seed: int | np.random.Generator = 0,
    ) -> None:
        super().__init__()
        self.n_inputs = check_power_of_two("n_inputs", n_inputs)
        check_size("n_inputs", self.n_inputs)
        self.node_width = check_size("node_width", node_width)
        self.node_depth = check_int("node_depth", node_depth, minimum=1)
        levels = self.n_inputs.bit_length() - 1
        if 2 * (self.node_depth + 1) * levels > MAX_MODULES:
            raise ValueError(f"node_depth = {self.node_depth} with n_inputs = {self.n_inputs} ({levels} levels) asks for "
                             f"{2 * (self.node_depth + 1) * levels} parameter tensors; at most {MAX_MODULES} are built")
        self.activation = _check_activation(activation)
        total = parameter_count("tree", self.n_inputs, self.node_width, node_depth=self.node_depth)
        check_allocation("n_inputs, node_width and node_depth", total)  # all the parameters
        g = as_torch_generator(seed)
        q = self.node_width
        self.levels = nn.ModuleList()
        nodes = self.n_inputs // 2
        while nodes >= 1:
            level = nn.ParameterList()
            level.append(_uniform((nodes, 2, q), 2, g))  # input weights, (nodes, 2, Q)
            level.append(_uniform((nodes, 1, q), 2, g))  # input biases, (nodes, 1, Q)
            for _ in range(self.node_depth - 1):
                level.append(_uniform((nodes, q, q), q, g))
                level.append(_uniform((nodes, 1, q), q, g))
            level.append(_uniform((nodes, q, 1), q, g))  # output weights, (nodes, Q, 1)
            level.append(_uniform((nodes, 1, 1), q, g))  # output biases, (nodes, 1, 1)
            self.levels.append(level)
            nodes //= 2

    def node_outputs(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Outputs of every node: a list over levels of tensors ``(batch, nodes_at_level)``.

        Examples
        --------
        >>> net = BinaryTreeNet(4, node_width=3, seed=1)
        >>> out = net.node_outputs(torch.ones(2, 4))
        >>> [tuple(v.shape) for v in out], bool(torch.equal(out[-1], net(torch.ones(2, 4))))
        ([(2, 2), (2, 1)], True)
        """
        return self._run(x, keep_levels=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self._run(x, keep_levels=False)  # (batch, 1)

    def _run(self, x: torch.Tensor, keep_levels: bool):
        if x.ndim != 2 or x.shape[1] != self.n_inputs:
            raise ValueError(f"x must have shape (batch, {self.n_inputs}), got {tuple(x.shape)}")
        act = _ACTIVATIONS[self.activation]
        batch = x.shape[0]
        v = x.reshape(batch, -1, 2).transpose(0, 1)  # (nodes, batch, 2): node j reads x[2j], x[2j+1]
        outputs = []
        for level in self.levels:
            h = act(torch.baddbmm(level[1], v, level[0]))  # (nodes, batch, Q)
            for i in range(2, len(level) - 2, 2):
                h = act(torch.baddbmm(level[i + 1], h, level[i]))  # (nodes, batch, Q)
            out = torch.baddbmm(level[-1], h, level[-2])  # (nodes, batch, 1)
            nodes = out.shape[0]
            if keep_levels:
                outputs.append(out[:, :, 0].T)  # (batch, nodes)
            if nodes > 1:
                v = out.reshape(nodes // 2, 2, batch).transpose(1, 2)  # (nodes/2, batch, 2): children 2j, 2j+1
        return outputs if keep_levels else out[0]  # out[0]: (batch, 1), the root

    def _stacked_forward(self, params: dict[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
        """The forward pass of ``M`` trees of this shape at once, for :func:`~cosp_helpers.training.train_ensemble`.

        ``params`` maps each name of :meth:`named_parameters` to the ``M`` members' values stacked on a
        first axis; ``x`` is one ``(batch, n_inputs)`` input shared by the members. Returns ``(M, batch, 1)``.
        The members' nodes of one level are one batch of small products, ``(M * nodes, batch, Q)``.
        """
        act = _ACTIVATIONS[self.activation]
        batch = x.shape[0]
        members = params["levels.0.0"].shape[0]
        v = x.reshape(batch, -1, 2).transpose(0, 1)  # (nodes, batch, 2), the same for every member
        v = v.unsqueeze(0).expand(members, *v.shape).reshape(-1, batch, 2)  # (M * nodes, batch, 2)
        for index, level in enumerate(self.levels):
            tensors = [params[f"levels.{index}.{i}"].flatten(0, 1) for i in range(len(level))]  # (M * nodes, ...)
            h = act(torch.baddbmm(tensors[1], v, tensors[0]))  # (M * nodes, batch, Q)
            for i in range(2, len(tensors) - 2, 2):
                h = act(torch.baddbmm(tensors[i + 1], h, tensors[i]))
            out = torch.baddbmm(tensors[-1], h, tensors[-2])  # (M * nodes, batch, 1)
            nodes = out.shape[0] // members
            if nodes > 1:  # children 2j, 2j+1 of each member feed its node j of the next level
                v = out.reshape(members * nodes // 2, 2, batch).transpose(1, 2)  # (M * nodes/2, batch, 2)
        return out  # (M, batch, 1): one root per member


def parameter_count(
    architecture: str,
    n_inputs: int,
    width: int,
    *,
    depth: int | None = None,
    node_depth: int = 1,
    n_outputs: int = 1,
) -> int:
    """The number of parameters of an architecture, in closed form.

    Parameters
    ----------
    architecture : {"shallow", "deep", "tree"}
        :class:`ShallowNet`, :class:`DeepNet` (needs ``depth``) or :class:`BinaryTreeNet`
        (``width`` is the node width; ``node_depth`` its hidden layers; one output).
    n_inputs : int
        Input dimension (a power of 2 for ``"tree"``).
    width : int
        Hidden width, >= 1.
    depth : int, optional
        Hidden layers of ``"deep"``.
    node_depth : int
        Hidden layers per node of ``"tree"``.
    n_outputs : int
        Outputs of ``"shallow"`` and ``"deep"``.

    Returns
    -------
    int

    References
    ----------
    T. Poggio et al. (2017): a shallow network with N units in n dimensions has (n + 2) N + 1
    parameters; a binary tree has n - 1 nodes.

    Examples
    --------
    >>> parameter_count("shallow", 8, 10), parameter_count("deep", 8, 10, depth=2), parameter_count("tree", 8, 10)
    (101, 211, 287)
    """
    if architecture not in _ARCHITECTURES:
        raise ValueError(f"architecture must be one of {_ARCHITECTURES}, got {architecture!r}")
    w = check_int("width", width, minimum=1)
    if architecture == "tree":
        n = check_power_of_two("n_inputs", n_inputs)
        nd = check_int("node_depth", node_depth, minimum=1)
        per_node = 3 * w + (nd - 1) * (w + 1) * w + w + 1
        return (n - 1) * per_node
    n = check_int("n_inputs", n_inputs, minimum=1)
    k = check_int("n_outputs", n_outputs, minimum=1)
    if architecture == "shallow":
        layers = 1
    elif depth is None:
        raise ValueError("architecture 'deep' needs depth (the number of hidden layers), got None")
    else:
        layers = check_int("depth", depth, minimum=1)
    return (n + 1) * w + (layers - 1) * (w + 1) * w + (w + 1) * k


def width_for_budget(
    architecture: str,
    n_inputs: int,
    budget: int,
    *,
    depth: int | None = None,
    node_depth: int = 1,
    n_outputs: int = 1,
) -> int:
    """The width whose parameter count is nearest ``budget`` (ties go to the smaller width).

    The count is increasing in the width, so the answer is one of the two widths that bracket the
    budget; the count then misses the budget by at most half the parameters of one more unit.

    Parameters
    ----------
    architecture, n_inputs, depth, node_depth, n_outputs
        As in :func:`parameter_count`.
    budget : int
        The target number of parameters, at least the count at width 1.

    Returns
    -------
    int

    Examples
    --------
    >>> width_for_budget("shallow", 8, 1000), width_for_budget("tree", 8, 1000), width_for_budget("deep", 8, 1000, depth=3)
    (100, 35, 20)
    >>> parameter_count("tree", 8, 35), parameter_count("tree", 8, 36)  # 1000 lies between: 35 is nearer
    (987, 1015)
    """

    def count(w: int) -> int:
        return parameter_count(architecture, n_inputs, w, depth=depth, node_depth=node_depth, n_outputs=n_outputs)

    budget = check_int("budget", budget, minimum=1)
    smallest = count(1)
    if budget < smallest:
        raise ValueError(f"budget must be >= {smallest} (the {architecture!r} count at width 1), got {budget}")
    high = 1
    while count(high) < budget:
        high *= 2
    low = high // 2 if high > 1 else 1
    while high - low > 1:  # invariant: count(low) < budget <= count(high), or low == high == 1
        mid = (low + high) // 2
        if count(mid) < budget:
            low = mid
        else:
            high = mid
    return low if budget - count(low) <= count(high) - budget else high


def count_parameters(model: nn.Module) -> int:
    """The number of trainable parameters of ``model``.

    Examples
    --------
    >>> count_parameters(torch.nn.Linear(3, 2))
    8
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


class MPCounts(NamedTuple):
    """The sizes the MP theorem compares, as log10 and as numbers (``inf`` beyond ``1e300``).

    Examples
    --------
    >>> c = mp_counts(8, 2, 0.1)  # shallow 0.1^(-8/2), deep 7 * 0.1^(-2/2)
    >>> c.log10_shallow, c.shallow, c.deep
    (4.0, 10000.0, 70.0)
    """

    log10_shallow: float
    log10_deep: float
    shallow: float
    deep: float


def _from_log10(value: float) -> float:
    return math.inf if value > 300 else float(10.0**value)


def mp_counts(
    n_inputs: int,
    smoothness: float,
    eps: float,
    node_dims: Sequence[int] | None = None,
    node_smoothness: Sequence[float] | None = None,
) -> MPCounts:
    """Shallow and deep network sizes for accuracy ``eps`` in the MP theorem (constants set to 1).

    ``N_s = eps^(-n/m)`` with ``m = min_v m_v``, and ``N_d = sum_v eps^(-d_v/m_v)`` over the nodes
    ``v`` of the target's graph, ``d_v`` being a node's number of inputs. By default the graph is
    a binary tree on ``n_inputs`` leaves: ``n - 1`` nodes with ``d_v = 2``, so
    ``N_d = (n - 1) eps^(-2/m)``.

    Parameters
    ----------
    n_inputs : int
        Number of inputs ``n`` (source nodes), ``2 <= n <= 2**24`` (the default graph has ``n - 1`` nodes).
    smoothness : float
        The constituents' smoothness ``m`` (used for every node unless ``node_smoothness`` is given), > 0.
    eps : float
        Accuracy, in (0, 1).
    node_dims : sequence of int, optional
        In-degree ``d_v >= 1`` of every node; default: ``[2] * (n - 1)``.
    node_smoothness : sequence of float, optional
        ``m_v > 0`` of every node (same length as ``node_dims``); default: ``smoothness`` everywhere.
        ``m`` in ``N_s`` is then ``min_v m_v``, as in the theorem.

    Returns
    -------
    MPCounts

    References
    ----------
    T. Poggio, CBMM Memo 138 (2023), §6.5, Theorem 7; Poggio, Mhaskar, Rosasco, Miranda, Liao (2017),
    Theorem 2 (the binary-tree case).

    Examples
    --------
    >>> mp_counts(8, 1, 0.1).shallow, mp_counts(8, 1, 0.1).deep  # 10^8 against 7 * 10^2
    (100000000.0, 700.0)
    >>> mp_counts(4, 2, 0.01, node_dims=[3, 2], node_smoothness=[3, 1]).deep  # 0.01^(-1) + 0.01^(-2)
    10100.0
    """
    n = check_size("n_inputs", n_inputs, minimum=2)
    m = check_positive("smoothness", smoothness)
    eps = check_open_interval("eps", eps, 0.0, 1.0)
    dims = [2] * (n - 1) if node_dims is None else [check_int("node_dims[i]", d, minimum=1) for d in node_dims]
    if not dims:
        raise ValueError("node_dims must list at least one node, got an empty sequence")
    if node_smoothness is None:
        ms = [m] * len(dims)
    else:
        ms = [check_positive("node_smoothness[i]", v) for v in node_smoothness]
        if len(ms) != len(dims):
            raise ValueError(f"node_smoothness must have one entry per node ({len(dims)}), got {len(ms)}")
        m = min(ms)
    log_inv_eps = -math.log10(eps)
    log10_shallow = n / m * log_inv_eps
    terms = np.array([d / mv * log_inv_eps for d, mv in zip(dims, ms)])
    top = float(terms.max())
    if top <= 300:
        deep = float(np.sum(10.0**terms))
        log10_deep = math.log10(deep)
    else:  # log-sum-exp, so that nothing overflows
        log10_deep = top + math.log10(float(np.sum(10.0 ** (terms - top))))
        deep = _from_log10(log10_deep)
    return MPCounts(log10_shallow, log10_deep, _from_log10(log10_shallow), deep)


def mp_summary(n_inputs: int, smoothness: float, eps: float, n_max: int = 64) -> dict[str, object]:
    """Everything the MP-theorem explorer draws, for one choice of ``n``, ``m`` and ``eps``.

    The binary-tree sizes of :func:`mp_counts` at the chosen values, and the curves
    ``n' -> log10 N_s(n')`` and ``n' -> log10 N_d(n')`` for ``n' = 2 .. max(n, n_max)``.

    Parameters
    ----------
    n_inputs : int
        Number of inputs, ``2 <= n <= 2**24``.
    smoothness : float
        Smoothness ``m`` of the constituents, > 0.
    eps : float
        Accuracy, in (0, 1).
    n_max : int
        Last dimension of the curves (at least ``n_inputs``), at most ``2**24``.

    Returns
    -------
    dict
        Keys ``n``, ``m``, ``eps``, ``counts`` (an :class:`MPCounts`), ``dims``,
        ``log10_shallow_curve``, ``log10_deep_curve``.

    Examples
    --------
    >>> out = mp_summary(8, 2, 0.1)
    >>> out["counts"].log10_shallow, len(out["dims"]), float(out["log10_deep_curve"][0])
    (4.0, 63, 1.0)
    """
    counts = mp_counts(n_inputs, smoothness, eps)
    n_max = check_int("n_max", n_max, minimum=2, maximum=MAX_SIZE)
    dims = np.arange(2, max(int(n_inputs), n_max) + 1)
    log_inv_eps = -math.log10(eps)
    return {
        "n": int(n_inputs),
        "m": float(smoothness),
        "eps": float(eps),
        "counts": counts,
        "dims": dims,
        "log10_shallow_curve": dims / smoothness * log_inv_eps,
        "log10_deep_curve": np.log10(dims - 1) + 2 / smoothness * log_inv_eps,
    }
