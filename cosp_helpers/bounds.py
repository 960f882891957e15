"""Convolution as a sparse matrix, and norm-based Rademacher bounds for dense, locally connected and convolutional networks, with Monte Carlo estimates of empirical Rademacher complexity.

**Convolution as a sparse matrix.** A 1-D signal ``x`` in ``R^n`` is cut into **patches** of ``K`` consecutive coordinates, one starting every
``s`` coordinates (the stride): patch ``p`` is ``x[p s : p s + K]``, for ``p = 0, ..., P - 1`` with
``P = (n - K) // s + 1`` ("valid" patches, no padding; coordinates after the last patch are not read).
Neighbouring patches share ``O = K - s`` coordinates (the **overlap**); ``s = K`` means no overlap.

Three layers map ``P`` patches to ``P`` output positions, each with ``C_out`` channels:

* **convolutional** (``connectivity="conv"``): every position applies the same kernel -- local and shared;
* **locally connected** (``"local"``): every position has its own kernel -- local, no weight sharing;
* **dense** (``"dense"``): every output unit reads the whole input -- neither local nor shared.

Each is a linear map followed (in a network) by a ReLU, so each has a matrix ``W`` of shape
``(P C_out, n C_in)``; for a convolution it is the **Toeplitz** matrix of the kernel, with the kernel
repeated along a staircase. Activations are channel-last, ``(batch, positions, channels)``, and flatten
position-major, which fixes the row and column order of these matrices. Layers have no biases: the norm
bounds below are for bias-free networks.

:class:`LocalNet` stacks such layers into a tree: ``n = K^L`` inputs, kernel ``K`` and stride ``K`` in
every layer (non-overlapping patches, so the receptive fields form a ``K``-ary tree), ``C`` channels,
ReLUs, and a last layer with one output -- the architecture of memo §8.1 (Theorems 11-12), with one
channel when ``channels=1``.

**Rademacher complexity.** The **empirical Rademacher complexity** of a class ``H`` of real functions on a sample ``x_1..x_m`` is

    R_S(H) = E_sigma sup_{h in H} (1/m) sum_i sigma_i h(x_i),     sigma_i = ±1 independent and fair

(no absolute value, as in Golowich, Rakhlin & Shamir 2018). Two families of functions live here.

**Bounds** (plain formulas in norms of the weights and of the data):

* :func:`golowich_bound` -- Golowich, Rakhlin & Shamir (2018), Theorem 1: for bias-free networks of depth
  ``L`` with 1-Lipschitz, positively homogeneous activations (ReLU),
  ``R_S <= (sqrt(2 log(2) L) + 1) prod_l ||W_l||_F sqrt(sum_i ||x_i||^2) / m``, with :func:`grs_factor`;
* :func:`kernel_bound` -- the same shape with the norms of the **kernels** (per-position weights) of a
  tree-shaped network with non-overlapping patches instead of the norms of the whole (Toeplitz) matrices:
  memo §8.1, Theorems 11-12. ``constant="proof"`` uses the factor ``2^(L-1)`` that the memo's proof gives
  (and that the notebook proves for locally connected networks); ``constant="memo"`` uses the factor
  ``sqrt(2 log(2) L) + 1`` that Theorem 12 states;
* :func:`tree_toeplitz_ratio` -- how much larger the first is than the second for a convolutional tree;
  :func:`overlap_factor` -- Conjecture 5's ``sqrt(K / (K - O))`` for overlapping patches, and its worst case;
* :func:`generalization_bound` -- from a Rademacher bound to a bound on the generalization gap of a
  1-Lipschitz loss with values in ``[0, c]``.

**Monte Carlo estimates** for two-layer linear classes whose supremum has a closed form
(:func:`rademacher_sup`): ``f(x) = sum_p a_p <w_p, r_p(x)>`` with a readout ``||a|| <= 1`` and ``P`` hidden
units, unit ``p`` reading its receptive field ``r_p(x)``: the whole of ``x`` (``"dense"``), patch ``p``
with its own weights (``"local"``) or patch ``p`` with a shared kernel (``"conv"``); and the linear class
``{<w, x> : ||w|| <= B}`` (``"linear"``). :func:`rademacher_mc` averages over random signs and reports a
standard error; :func:`rademacher_exact` enumerates all ``2^m`` sign vectors; :func:`jensen_bound` is the
closed-form upper bound ``E||.|| <= sqrt(E||.||^2)``.

:func:`overlap_summary` is the compute function of the notebook's kernel-and-overlap explorer.

References
----------
N. Golowich, A. Rakhlin, O. Shamir, "Size-independent sample complexity of neural networks", COLT 2018,
Theorem 1. T. Poggio, CBMM Memo 138 (2023), §3 (Theorem 2) and §8.1 (Theorems 11-12, Lemma 4, Conjecture 5).
T. Galanti, M. Xu, L. Galanti, T. Poggio, "Norm-based generalization bounds for sparse neural networks",
NeurIPS 2023. M. Mohri, A. Rostamizadeh, A. Talwalkar, Foundations of Machine Learning (2nd ed., 2018),
Theorem 3.3 and Lemma 5.7.
"""

from __future__ import annotations

import math
from typing import NamedTuple, Sequence

import numpy as np
import torch
from torch import nn

from ._checks import (
    MAX_SIZE,
    as_generator,
    as_torch_generator,
    check_allocation,
    check_array,
    check_int,
    check_open_interval,
    check_points,
    check_positive,
    check_size,
)

__all__ = [
    "n_patches",
    "extract_patches",
    "patch_multiplicity",
    "toeplitz_matrix",
    "LocalLayer",
    "LocalNet",
    "grs_factor",
    "golowich_bound",
    "kernel_bound",
    "tree_toeplitz_ratio",
    "overlap_factor",
    "generalization_bound",
    "MonteCarlo",
    "rademacher_sup",
    "rademacher_mc",
    "rademacher_exact",
    "jensen_bound",
    "overlap_summary",
]

_CONNECTIVITIES = ("dense", "local", "conv")


def _check_geometry(
    n: object, kernel_size: object, stride: object, n_name: str = "n", size: bool = False
) -> tuple[int, int, int]:
    """``n``, ``K``, ``s``; with ``size`` (an array of ``n`` positions is built), ``n`` is a size of at most ``2**24``."""
    n = check_size(n_name, n) if size else check_int(n_name, n, minimum=1)
    k = check_int("kernel_size", kernel_size, minimum=1)
    s = check_int("stride", stride, minimum=1)
    if k > n:
        raise ValueError(f"kernel_size must be <= the signal length {n_name} = {n}, got {k}")
    return n, k, s


def n_patches(n: int, kernel_size: int, stride: int) -> int:
    """The number ``P = (n - K) // s + 1`` of valid patches of size ``K``, stride ``s``, in a signal of length ``n``.

    Parameters
    ----------
    n : int
        Signal length, >= 1.
    kernel_size : int
        Patch size ``K``, in ``1..n``.
    stride : int
        Step ``s`` between patch starts, >= 1; the overlap is ``K - s`` when ``s < K``.

    Returns
    -------
    int

    Examples
    --------
    >>> n_patches(16, 4, 4), n_patches(16, 4, 2), n_patches(16, 4, 1)
    (4, 7, 13)
    """
    n, k, s = _check_geometry(n, kernel_size, stride)
    return (n - k) // s + 1


def extract_patches(x: np.ndarray, kernel_size: int, stride: int) -> np.ndarray:
    """The patches ``x[..., p s : p s + K]`` of signals, stacked along a new axis: ``(..., n) -> (..., P, K)``.

    Parameters
    ----------
    x : numpy.ndarray
        One signal ``(n,)`` or a stack ``(..., n)`` of real numbers.
    kernel_size, stride : int
        As in :func:`n_patches`.

    Returns
    -------
    numpy.ndarray
        A read-only view of shape ``(..., P, K)``.

    Examples
    --------
    >>> extract_patches(np.arange(6.0), 4, 2)
    array([[0., 1., 2., 3.],
           [2., 3., 4., 5.]])
    >>> extract_patches(np.zeros((3, 16)), 4, 4).shape
    (3, 4, 4)
    """
    if not isinstance(x, np.ndarray):
        raise TypeError(f"x must be a numpy array of shape (..., n), got {type(x).__name__}")
    if x.ndim == 0:
        raise ValueError("x must have at least one axis (the signal), got a 0-d array")
    if not np.issubdtype(x.dtype, np.number) or np.iscomplexobj(x):
        raise TypeError(f"x must hold real numbers, got dtype {x.dtype}")
    if not np.all(np.isfinite(x)):
        raise ValueError("x must be finite, got NaN or inf")
    n, k, s = _check_geometry(x.shape[-1], kernel_size, stride)
    windows = np.lib.stride_tricks.sliding_window_view(x, k, axis=-1)  # (..., n - K + 1, K)
    return windows[..., ::s, :]


def patch_multiplicity(n: int, kernel_size: int, stride: int) -> np.ndarray:
    """How many patches contain each coordinate: ``c_j = #{p : p s <= j < p s + K}``.

    ``sum_p ||x^(p)||^2 = sum_j c_j x_j^2``, so ``max_j c_j`` is the factor by which overlapping patches can
    inflate the energy of a signal; with overlap ``O = K - s`` it is ``ceil(K / (K - O))`` away from the ends.

    Parameters
    ----------
    n, kernel_size, stride : int
        As in :func:`n_patches`; ``n`` at most ``2**24``.

    Returns
    -------
    numpy.ndarray of int, shape (n,)

    References
    ----------
    T. Poggio, CBMM Memo 138 (2023), §8.1, Conjecture 5 (the overlap factor ``sqrt(K / (K - O))``).

    Examples
    --------
    >>> patch_multiplicity(9, 4, 2)  # patches start at 0, 2, 4; the last coordinate is not read
    array([1, 1, 2, 2, 2, 2, 1, 1, 0])
    >>> int(patch_multiplicity(9, 3, 2).max())  # K = 3, O = 1: up to ceil(3 / 2) = 2 patches share a coordinate
    2
    """
    n, k, s = _check_geometry(n, kernel_size, stride, size=True)
    # +1 where a patch starts, -1 just after it ends; the running sum counts the patches covering each coordinate
    starts = np.arange(0, n - k + 1, s)
    steps = np.zeros(n + 1, dtype=np.int64)
    steps[starts] += 1
    steps[starts + k] -= 1
    return np.cumsum(steps[:n])


def toeplitz_matrix(kernel: np.ndarray, n: int, stride: int) -> np.ndarray:
    """The matrix of a convolution: the kernel placed at every patch, on a staircase.

    For a one-channel kernel ``w`` of length ``K`` the result is ``(P, n)`` with row ``p`` equal to ``w`` in
    columns ``p s .. p s + K - 1`` and zero elsewhere, so that ``W @ x`` is the cross-correlation
    ``(w . x^(0), ..., w . x^(P-1))``. A multichannel kernel ``(C_out, K, C_in)`` gives the
    ``(P C_out, n C_in)`` matrix acting on channel-last signals flattened position-major.

    Since every patch holds a copy of the kernel, ``||W||_F = sqrt(P) ||w||_F``.

    Parameters
    ----------
    kernel : numpy.ndarray
        Shape ``(K,)`` or ``(C_out, K, C_in)``.
    n : int
        Input length (positions), ``K <= n <= 2**24``; the matrix has at most ``2**28`` entries.
    stride : int
        Stride, >= 1.

    Returns
    -------
    numpy.ndarray

    References
    ----------
    T. Poggio, CBMM Memo 138 (2023), §8.1 ("a convolutional layer is represented by a Toeplitz matrix").

    Examples
    --------
    >>> toeplitz_matrix(np.array([1.0, 2.0]), 6, 2)
    array([[1., 2., 0., 0., 0., 0.],
           [0., 0., 1., 2., 0., 0.],
           [0., 0., 0., 0., 1., 2.]])
    >>> w = np.array([3.0, 4.0]); W = toeplitz_matrix(w, 8, 2)
    >>> float(np.linalg.norm(W)) == 2 * float(np.linalg.norm(w))  # sqrt(4 patches) * ||w|| = 2 * 5
    True
    """
    if not isinstance(kernel, np.ndarray):
        raise TypeError(f"kernel must be a numpy array of shape (K,) or (C_out, K, C_in), got {type(kernel).__name__}")
    kernel = check_array("kernel", kernel)
    if kernel.ndim == 1:
        kernel3 = kernel[None, :, None]
    elif kernel.ndim == 3:
        kernel3 = kernel
    else:
        raise ValueError(f"kernel must have shape (K,) or (C_out, K, C_in), got shape {kernel.shape}")
    c_out, k, c_in = kernel3.shape
    n, k, s = _check_geometry(n, k, stride, size=True)
    p_count = (n - k) // s + 1
    check_allocation("n, stride and the kernel's shape", p_count * c_out, n * c_in)
    w = np.zeros((p_count, c_out, n, c_in), dtype=float)
    for p in range(p_count):
        w[p, :, p * s : p * s + k, :] = kernel3
    matrix = w.reshape(p_count * c_out, n * c_in)
    return matrix


def _check_connectivity(connectivity: object) -> str:
    if connectivity not in _CONNECTIVITIES:
        raise ValueError(f"connectivity must be one of {_CONNECTIVITIES}, got {connectivity!r}")
    return str(connectivity)


def _layer_shape(n: int, k: int, s: int, c_in: int, c_out: int, connectivity: str) -> tuple[tuple[int, ...], int]:
    """The weight shape of a :class:`LocalLayer` and its fan-in."""
    out_positions = (n - k) // s + 1
    if connectivity == "conv":
        return (c_out, k * c_in), k * c_in
    if connectivity == "local":
        return (out_positions, c_out, k * c_in), k * c_in
    return (out_positions * c_out, n * c_in), n * c_in


class LocalLayer(nn.Module):
    """A bias-free layer from ``n`` positions to ``P`` patch positions: convolutional, locally connected or dense.

    Parameters
    ----------
    n_positions : int
        Input positions ``n``, at most ``2**24``.
    kernel_size, stride : int
        Patch geometry, as in :func:`n_patches`; ``P = (n - K) // s + 1`` output positions.
    in_channels, out_channels : int
        Channels per input and per output position, in ``1..2**24``; the weight tensor has at most ``2**28`` entries.
    connectivity : {"conv", "local", "dense"}
        ``"conv"``: one kernel ``(C_out, K C_in)`` for every position (local, shared); ``"local"``: a kernel per
        position, ``(P, C_out, K C_in)`` (local, not shared); ``"dense"``: a full ``(P C_out, n C_in)`` matrix
        (every unit reads every input).
    seed : int or numpy.random.Generator
        Seeds the initialisation, uniform on ``±1/sqrt(fan_in)`` (PyTorch's default for linear layers).

    Notes
    -----
    Input ``(batch, n, C_in)``, output ``(batch, P, C_out)``; no activation (a network adds it).

    Examples
    --------
    >>> layer = LocalLayer(8, 2, 2, 1, 3, connectivity="conv", seed=0)
    >>> layer(torch.zeros(5, 8, 1)).shape, layer.dense_matrix().shape
    (torch.Size([5, 4, 3]), (12, 8))
    >>> def size(c): return sum(p.numel() for p in LocalLayer(8, 2, 2, 1, 3, connectivity=c).parameters())
    >>> size("conv"), size("local"), size("dense")  # 3 x 2; 4 positions x 3 x 2; 12 x 8
    (6, 24, 96)
    """

    def __init__(
        self,
        n_positions: int,
        kernel_size: int,
        stride: int,
        in_channels: int,
        out_channels: int,
        *,
        connectivity: str = "conv",
        seed: int | np.random.Generator = 0,
    ) -> None:
        super().__init__()
        self.n_positions, self.kernel_size, self.stride = _check_geometry(
            n_positions, kernel_size, stride, "n_positions", size=True
        )
        self.in_channels = check_size("in_channels", in_channels)
        self.out_channels = check_size("out_channels", out_channels)
        self.connectivity = _check_connectivity(connectivity)
        self.out_positions = (self.n_positions - self.kernel_size) // self.stride + 1
        shape, fan_in = _layer_shape(
            self.n_positions, self.kernel_size, self.stride, self.in_channels, self.out_channels, self.connectivity
        )
        check_allocation("n_positions, kernel_size, stride, in_channels and out_channels", *shape)
        g = as_torch_generator(seed)
        bound = 1.0 / math.sqrt(fan_in)
        self.weight = nn.Parameter((torch.rand(shape, generator=g) * 2 - 1) * bound)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 3 or x.shape[1:] != (self.n_positions, self.in_channels):
            raise ValueError(f"x must have shape (batch, {self.n_positions}, {self.in_channels}), got {tuple(x.shape)}")
        batch = x.shape[0]
        if self.connectivity == "dense":
            out = x.reshape(batch, -1) @ self.weight.T  # (B, P C_out)
            return out.reshape(batch, self.out_positions, self.out_channels)
        if self.stride == self.kernel_size and self.out_positions * self.kernel_size == self.n_positions:
            # patches that tile the input: each is K consecutive positions, so (B, n, C_in) reshapes to them (a view)
            patches = x.reshape(batch, self.out_positions, -1)  # (B, P, K C_in), position-major
        else:
            patches = x.unfold(1, self.kernel_size, self.stride)  # (B, P, C_in, K)
            patches = patches.transpose(2, 3).reshape(batch, self.out_positions, -1)  # (B, P, K C_in), position-major
        if self.connectivity == "conv":
            return patches @ self.weight.T  # (B, P, C_out)
        # position p's kernel on position p's patches: one batch of P products (B, K C_in) x (K C_in, C_out)
        return torch.bmm(patches.transpose(0, 1), self.weight.transpose(1, 2)).transpose(0, 1)  # (B, P, C_out)

    def position_weights(self) -> np.ndarray:
        """The weights read by each output position, ``(P, C_out, K C_in)`` (``(P, C_out, n C_in)`` if dense).

        Examples
        --------
        >>> LocalLayer(8, 2, 2, 1, 3, connectivity="conv").position_weights().shape
        (4, 3, 2)
        """
        w = self.weight.detach().double().cpu().numpy()
        if self.connectivity == "conv":
            check_allocation("the layer's positions and kernel (one copy per position)", self.out_positions, *w.shape)
            return np.broadcast_to(w, (self.out_positions,) + w.shape).copy()
        if self.connectivity == "local":
            return w
        return w.reshape(self.out_positions, self.out_channels, -1)

    def position_norms(self) -> np.ndarray:
        """Frobenius norm of each output position's weights, shape ``(P,)``; all equal for a convolution.

        Examples
        --------
        >>> norms = LocalLayer(8, 2, 2, 1, 3, connectivity="conv", seed=1).position_norms()
        >>> norms.shape, bool(np.all(norms == norms[0]))
        ((4,), True)
        """
        w = self.position_weights()
        return np.sqrt((w**2).sum(axis=(1, 2)))

    def dense_matrix(self) -> np.ndarray:
        """The layer as a ``(P C_out, n C_in)`` matrix (float64): Toeplitz for ``"conv"``, block-sparse for ``"local"``.

        Examples
        --------
        >>> layer = LocalLayer(6, 2, 2, 1, 1, connectivity="local", seed=0)
        >>> bool(np.all(layer.dense_matrix()[0, 2:] == 0))  # position 0 reads inputs 0 and 1 only
        True
        """
        if self.connectivity == "dense":
            return self.weight.detach().double().cpu().numpy().copy()
        check_allocation("the layer's n_positions, stride and channels (the dense matrix)",
                         self.out_positions * self.out_channels, self.n_positions * self.in_channels)
        w = self.position_weights().reshape(self.out_positions, self.out_channels, self.kernel_size, self.in_channels)
        full = np.zeros((self.out_positions, self.out_channels, self.n_positions, self.in_channels))
        for p in range(self.out_positions):
            full[p, :, p * self.stride : p * self.stride + self.kernel_size, :] = w[p]
        return full.reshape(self.out_positions * self.out_channels, self.n_positions * self.in_channels)


class LocalNet(nn.Module):
    """A bias-free ReLU network shaped like a ``K``-ary tree: convolutional, locally connected or dense.

    ``n = K^L`` inputs. Layer ``l = 1..L`` maps ``n / K^(l-1)`` positions to ``n / K^l`` with kernel ``K`` and
    stride ``K`` (non-overlapping patches); layers ``1..L-1`` have ``channels`` output channels and a
    ReLU, the last has one output and no activation. With ``connectivity="dense"`` every layer has the same
    input and output sizes but every unit reads the whole layer below.

    Parameters
    ----------
    n_inputs : int
        A power of ``kernel_size``, at least ``kernel_size`` and at most ``2**24``.
    channels : int
        Channels ``C`` of the hidden layers, in ``1..2**24``; each layer's weights hold at most ``2**28`` numbers.
    kernel_size : int
        ``K >= 2``.
    connectivity : {"conv", "local", "dense"}
        As in :class:`LocalLayer`.
    seed : int or numpy.random.Generator
        Seeds the initialisation (one draw per layer from a local generator).

    Notes
    -----
    Input ``(batch, n)``, output ``(batch, 1)``. With ``channels=1`` and ``K = 2`` this is the binary-tree
    network of memo §8.1 (Theorem 11).

    References
    ----------
    T. Poggio, CBMM Memo 138 (2023), §8.1; T. Poggio, H. Mhaskar, L. Rosasco, B. Miranda, Q. Liao (2017), Fig. 1.

    Examples
    --------
    >>> net = LocalNet(16, channels=4, connectivity="conv", seed=0)
    >>> net(torch.zeros(3, 16)).shape, net.depth, [m.shape for m in net.dense_matrices()]
    (torch.Size([3, 1]), 4, [(32, 16), (16, 32), (8, 16), (1, 8)])
    """

    def __init__(
        self,
        n_inputs: int,
        channels: int,
        kernel_size: int = 2,
        *,
        connectivity: str = "conv",
        seed: int | np.random.Generator = 0,
    ) -> None:
        super().__init__()
        k = check_int("kernel_size", kernel_size, minimum=2)
        n = check_int("n_inputs", n_inputs, minimum=k, maximum=MAX_SIZE)
        depth = round(math.log(n, k))
        if k**depth != n:
            raise ValueError(f"n_inputs must be a power of kernel_size = {k}, got {n}")
        self.n_inputs, self.kernel_size, self.depth = n, k, depth
        self.channels = check_size("channels", channels)
        self.connectivity = _check_connectivity(connectivity)
        positions, c_in = n, 1
        for level in range(1, depth + 1):  # every layer's weights must fit before any is drawn
            c_out = self.channels if level < depth else 1
            shape, _ = _layer_shape(positions, k, k, c_in, c_out, self.connectivity)
            check_allocation("n_inputs, channels and connectivity", *shape)
            positions, c_in = positions // k, c_out
        rng = as_generator(seed)
        self.layers = nn.ModuleList()
        positions, c_in = n, 1
        for level in range(1, depth + 1):
            c_out = self.channels if level < depth else 1
            self.layers.append(LocalLayer(positions, k, k, c_in, c_out, connectivity=self.connectivity, seed=rng))
            positions, c_in = positions // k, c_out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 2 or x.shape[1] != self.n_inputs:
            raise ValueError(f"x must have shape (batch, {self.n_inputs}), got {tuple(x.shape)}")
        h = x.unsqueeze(-1)  # (B, n, 1)
        for layer in self.layers[:-1]:
            h = torch.relu(layer(h))  # (B, positions, C)
        return self.layers[-1](h)[:, :, 0]  # (B, 1)

    def dense_matrices(self) -> list[np.ndarray]:
        """Each layer as a matrix (float64), input to output: ``f(x) = W_L relu(... relu(W_1 x))``.

        Examples
        --------
        >>> net = LocalNet(4, channels=2, seed=0)
        >>> x = torch.randn(5, 4, dtype=torch.float64); W1, W2 = net.dense_matrices()
        >>> y = W2 @ np.maximum(W1 @ x.numpy().T, 0)
        >>> bool(np.allclose(y.T, net.double()(x).detach().numpy()))
        True
        """
        return [layer.dense_matrix() for layer in self.layers]

    def frobenius_norms(self) -> list[float]:
        """``||W_l||_F`` of each layer's matrix (the Toeplitz matrix for a convolution).

        Examples
        --------
        >>> net = LocalNet(8, channels=1, seed=0)  # one channel: ||W_l||_F = sqrt(positions) ||w_l||
        >>> [round(f / k, 12) for f, k in zip(net.frobenius_norms(), net.kernel_norms())]
        [2.0, 1.414213562373, 1.0]
        """
        return [float(np.sqrt(np.sum(layer.position_norms() ** 2))) for layer in self.layers]

    def kernel_norms(self) -> list[float]:
        """Per layer, the largest Frobenius norm of one position's kernel: ``M_l = max_p ||W_{l,p}||_F``.

        For a convolution every position has the same kernel, so ``M_l`` is the kernel's norm. The
        kernel-norm bounds need local connectivity; a dense network has no kernels and raises.

        Examples
        --------
        >>> net = LocalNet(4, channels=3, connectivity="conv", seed=0)
        >>> bool(np.isclose(net.kernel_norms()[0], net.layers[0].weight.detach().norm().item()))
        True
        """
        if self.connectivity == "dense":
            raise ValueError("kernel_norms needs connectivity 'conv' or 'local'; a dense network has no kernels")
        return [float(layer.position_norms().max()) for layer in self.layers]


# === Rademacher bounds and Monte Carlo estimates =============================================================

_KINDS = ("linear", "dense", "local", "conv")
_NORMS = ("unit", "toeplitz", "parameters")
_CONSTANTS = ("proof", "memo")
_MAX_EXACT = 16  # 2^16 sign vectors: exact enumeration stays well under a second


def grs_factor(depth: int) -> float:
    """Golowich, Rakhlin & Shamir's depth factor ``sqrt(2 log(2) L) + 1``.

    Parameters
    ----------
    depth : int
        Number of weight matrices ``L``, >= 1.

    Returns
    -------
    float

    References
    ----------
    N. Golowich, A. Rakhlin, O. Shamir, COLT 2018, Theorem 1.

    Examples
    --------
    >>> round(grs_factor(1), 4), round(grs_factor(4), 4)
    (2.1774, 3.3548)
    """
    depth = check_int("depth", depth, minimum=1)
    return math.sqrt(2 * math.log(2) * depth) + 1


def _check_norms(name: str, norms: object) -> np.ndarray:
    if isinstance(norms, (str, bytes)) or not hasattr(norms, "__len__"):
        kind = type(norms).__name__
        raise TypeError(f"{name} must be a sequence of non-negative numbers (one per layer), got {kind}")
    values = check_array("norms", norms)
    if values.ndim != 1 or values.size == 0:
        raise ValueError(f"{name} must list one norm per layer (at least one), got shape {values.shape}")
    if not np.all(np.isfinite(values)) or np.any(values < 0):
        raise ValueError(f"{name} must hold finite non-negative numbers, got {values.tolist()}")
    return values


def _data_term(x: object) -> tuple[float, int]:
    """``sqrt(sum_i ||x_i||^2)`` and ``m`` for a sample ``(m, d)``."""
    x = check_points("x", x)
    return float(np.sqrt(np.sum(x**2))), x.shape[0]


def golowich_bound(frobenius_norms: Sequence[float], x: np.ndarray) -> float:
    """Golowich-Rakhlin-Shamir bound: ``(sqrt(2 log(2) L) + 1) prod_l ||W_l||_F sqrt(sum_i ||x_i||^2) / m``.

    It bounds the empirical Rademacher complexity of bias-free depth-``L`` networks with 1-Lipschitz,
    positively homogeneous activations applied elementwise (e.g. ReLU) whose weight matrices satisfy
    ``||W_l||_F <= frobenius_norms[l]``. With ``||x_i|| <= B`` it is at most
    ``B (sqrt(2 log(2) L) + 1) prod_l ||W_l||_F / sqrt(m)``.

    Parameters
    ----------
    frobenius_norms : sequence of float
        ``||W_l||_F`` for ``l = 1..L`` (for a convolution, of its Toeplitz matrix).
    x : numpy.ndarray
        The sample, shape ``(m, d)``.

    Returns
    -------
    float

    References
    ----------
    N. Golowich, A. Rakhlin, O. Shamir, "Size-independent sample complexity of neural networks", COLT 2018,
    Theorem 1.

    Examples
    --------
    >>> x = np.ones((4, 9))  # ||x_i|| = 3, m = 4: sqrt(sum ||x_i||^2) / m = 6 / 4
    >>> round(golowich_bound([2.0, 0.5], x), 6) == round(grs_factor(2) * 1.0 * 1.5, 6)
    True
    """
    norms = _check_norms("frobenius_norms", frobenius_norms)
    data, m = _data_term(x)
    return grs_factor(norms.size) * float(np.prod(norms)) * data / m


def kernel_bound(kernel_norms: Sequence[float], x: np.ndarray, constant: str = "proof") -> float:
    """Kernel-norm bound for tree-shaped networks: ``c_L prod_l M_l sqrt(sum_i ||x_i||^2) / m``.

    ``M_l`` bounds the Frobenius norm of the weights of every position of layer ``l`` (the kernel, for a
    convolution). The patches must not overlap, the last layer is linear, the others are ReLU, no biases.

    Parameters
    ----------
    kernel_norms : sequence of float
        ``M_1..M_L``.
    x : numpy.ndarray
        The sample, shape ``(m, d)``.
    constant : {"proof", "memo"}
        ``"proof"``: ``c_L = 2^(L-1)``, the factor the memo's proof of Theorem 11 yields (its statement has
        ``2^L``), proved for locally connected and convolutional networks in the notebook;
        ``"memo"``: ``c_L = sqrt(2 log(2) L) + 1`` as stated in Theorem 12 (informal).

    Returns
    -------
    float

    References
    ----------
    T. Poggio, CBMM Memo 138 (2023), §8.1, Theorems 11 and 12; T. Galanti, M. Xu, L. Galanti, T. Poggio,
    NeurIPS 2023.

    Examples
    --------
    >>> x = np.ones((4, 16))  # sqrt(sum ||x_i||^2) / m = 8 / 4 = 2
    >>> kernel_bound([1.0, 1.0, 1.0], x)  # 2^(3-1) * 1 * 2
    8.0
    >>> kernel_bound([1.0, 1.0, 1.0], x, constant="memo") == grs_factor(3) * 2
    True
    """
    norms = _check_norms("kernel_norms", kernel_norms)
    if constant not in _CONSTANTS:
        raise ValueError(f"constant must be one of {_CONSTANTS}, got {constant!r}")
    data, m = _data_term(x)
    factor = 2.0 ** (norms.size - 1) if constant == "proof" else grs_factor(norms.size)
    return factor * float(np.prod(norms)) * data / m


def tree_toeplitz_ratio(n_inputs: int, kernel_size: int) -> float:
    """``prod_l ||W_l||_F / ||w_l||`` for a one-channel convolutional ``K``-ary tree: ``prod_l sqrt(n / K^l)``.

    Layer ``l`` of the tree has ``n / K^l`` patches, each holding a copy of the kernel, so its Toeplitz matrix
    has ``||W_l||_F = sqrt(n / K^l) ||w_l||``. The Frobenius bound is larger than the kernel bound (same
    constant) by this product; for the binary tree on ``n = 2^L`` inputs it is ``2^(L(L-1)/4)``.

    Parameters
    ----------
    n_inputs : int
        A power of ``kernel_size``.
    kernel_size : int
        ``K >= 2``.

    Returns
    -------
    float

    References
    ----------
    T. Poggio, CBMM Memo 138 (2023), §3 (Theorem 2) and §8.1.

    Examples
    --------
    >>> tree_toeplitz_ratio(16, 2)  # sqrt(8 * 4 * 2 * 1) = 2^(4 * 3 / 4)
    8.0
    """
    k = check_int("kernel_size", kernel_size, minimum=2)
    n = check_int("n_inputs", n_inputs, minimum=k)
    depth = round(math.log(n, k))
    if k**depth != n:
        raise ValueError(f"n_inputs must be a power of kernel_size = {k}, got {n}")
    return math.sqrt(math.prod(n // k**level for level in range(1, depth + 1)))  # exact integer product, one root


def _check_overlap(kernel_size: object, overlap: object) -> tuple[int, int]:
    k = check_int("kernel_size", kernel_size, minimum=1)
    o = check_int("overlap", overlap, minimum=0)
    if o >= k:
        raise ValueError(f"overlap must be < kernel_size = {k} (stride K - O >= 1), got {o}")
    return k, o


def overlap_factor(kernel_size: int, overlap: int, worst_case: bool = False) -> float:
    """Conjecture 5's factor ``sqrt(K / (K - O))``, or its worst case ``sqrt(ceil(K / (K - O)))``.

    With stride ``s = K - O`` a coordinate lies in up to ``ceil(K / s)`` patches, so
    ``sum_p ||x^(p)||^2 <= ceil(K / s) ||x||^2``: the worst case. For signals whose energy is spread evenly the
    average multiplicity ``K / s`` is what counts. The two agree when ``K - O`` divides ``K``.

    Parameters
    ----------
    kernel_size : int
        ``K >= 1``.
    overlap : int
        ``O`` in ``0..K-1``.
    worst_case : bool
        Return ``sqrt(ceil(K / (K - O)))`` instead.

    Returns
    -------
    float

    References
    ----------
    T. Poggio, CBMM Memo 138 (2023), §8.1, Conjecture 5.

    Examples
    --------
    >>> overlap_factor(4, 2) == math.sqrt(2), overlap_factor(3, 1)
    (True, 1.224744871391589)
    >>> overlap_factor(3, 1, worst_case=True) == math.sqrt(2)  # a coordinate can lie in ceil(3 / 2) = 2 patches
    True
    """
    k, o = _check_overlap(kernel_size, overlap)
    if worst_case:
        return math.sqrt(math.ceil(k / (k - o)))
    return math.sqrt(k / (k - o))


def generalization_bound(rademacher: float, m: int, delta: float = 0.05, loss_range: float = 1.0) -> float:
    """``2 R + 3 c sqrt(log(2 / delta) / (2 m))``: bounds test minus training loss with probability ``1 - delta``.

    For a loss ``l(h(x), y)`` that is 1-Lipschitz in ``h(x)`` with values in ``[0, c]``, with probability at least
    ``1 - delta`` over the sample, every ``h`` in ``H`` has ``E l - E_S l <= 2 R_S(H) + 3 c sqrt(log(2/delta)/(2m))``
    (Talagrand's contraction lemma moves the Lipschitz loss out of ``R_S``). The bound is vacuous when it
    exceeds ``c``, since the gap never does.

    Parameters
    ----------
    rademacher : float
        A bound on ``R_S(H)``, >= 0 (scale it by ``c`` first if the loss is ``c``-Lipschitz).
    m : int
        Sample size, >= 1.
    delta : float
        Failure probability, in (0, 1).
    loss_range : float
        ``c > 0``.

    Returns
    -------
    float

    References
    ----------
    M. Mohri, A. Rostamizadeh, A. Talwalkar, Foundations of Machine Learning (2018), Theorem 3.3 and Lemma 5.7.

    Examples
    --------
    >>> round(generalization_bound(0.0, 1000, delta=0.05), 4)  # 3 sqrt(log(40) / 2000)
    0.1288
    """
    if isinstance(rademacher, bool) or not isinstance(rademacher, (int, float, np.floating, np.integer)):
        raise TypeError(f"rademacher must be a real number, got {type(rademacher).__name__}")
    if not math.isfinite(rademacher) or rademacher < 0:
        raise ValueError(f"rademacher must be finite and >= 0, got {rademacher}")
    m = check_int("m", m, minimum=1)
    delta = check_open_interval("delta", delta, 0.0, 1.0)
    c = check_positive("loss_range", loss_range)
    return 2 * float(rademacher) + 3 * c * math.sqrt(math.log(2 / delta) / (2 * m))


class MonteCarlo(NamedTuple):
    """A Monte Carlo average and its standard error (sample standard deviation / sqrt(draws)).

    Examples
    --------
    >>> MonteCarlo(mean=1.0, std_error=0.01, n_draws=100).std_error
    0.01
    """

    mean: float
    std_error: float
    n_draws: int


def _check_class(kind: object, norm: object, kernel_size: object, stride: object, n: int) -> tuple[int, int]:
    if kind not in _KINDS:
        raise ValueError(f"kind must be one of {_KINDS}, got {kind!r}")
    if norm not in _NORMS:
        raise ValueError(f"norm must be one of {_NORMS}, got {norm!r}")
    if kind == "linear":
        return 0, 0
    if kernel_size is None or stride is None:
        raise ValueError(f"kind {kind!r} needs kernel_size and stride (the receptive fields of its units)")
    return check_int("kernel_size", kernel_size, minimum=1), check_int("stride", stride, minimum=1)


def rademacher_sup(
    sigma: np.ndarray,
    x: np.ndarray,
    kind: str,
    kernel_size: int | None = None,
    stride: int | None = None,
    norm: str = "unit",
    radius: float = 1.0,
) -> np.ndarray:
    """``sup_{f in F} (1/m) sum_i sigma_i f(x_i)`` in closed form, for each row of signs ``sigma``.

    Write ``S = sum_i sigma_i x_i`` and ``S_p`` for its patches (the patches of a sum are the sums of the
    patches). The classes are ``f(x) = sum_p a_p <w_p, r_p(x)>`` with ``||a|| <= 1`` and ``P`` patches, or the
    linear class. Each class has ``B = radius`` in one of three normalisations:

    ============  =====================  ======================  =========================
    kind          ``norm="unit"``        ``norm="toeplitz"``     ``norm="parameters"``
                  every ``||w_p|| <= B``  ``||W||_F <= B``        sum of squared params <= B^2
    ============  =====================  ======================  =========================
    ``linear``    ``B ||S||``            same                    same
    ``dense``     ``B sqrt(P) ||S||``    ``B ||S||``             ``B ||S||``
    ``local``     ``B sqrt(sum_p ||S_p||^2)``  ``B max_p ||S_p||``  ``B max_p ||S_p||``
    ``conv``      ``B ||[S_p]||_op``     ``B ||[S_p]||_op / sqrt(P)``  ``B ||[S_p]||_op``
    ============  =====================  ======================  =========================

    all divided by ``m``; ``[S_p]`` is the ``P x K`` matrix of patches and ``||.||_op`` its largest singular
    value. (``W`` is the ``P x n`` matrix of the hidden layer; for ``conv`` its Frobenius norm is
    ``sqrt(P) ||w||``, and its parameters are the kernel alone.) Cauchy-Schwarz gives each entry, and the
    maximiser attains it.

    Parameters
    ----------
    sigma : numpy.ndarray
        Signs, shape ``(draws, m)``.
    x : numpy.ndarray
        Sample, shape ``(m, n)``.
    kind : {"linear", "dense", "local", "conv"}
        The class.
    kernel_size, stride : int, optional
        Receptive fields (required except for ``"linear"``); ``"dense"`` uses them only to count ``P``.
    norm : {"unit", "toeplitz", "parameters"}
        The normalisation (see the table).
    radius : float
        ``B > 0``.

    Returns
    -------
    numpy.ndarray, shape (draws,)

    Examples
    --------
    >>> x = np.eye(4); sigma = np.ones((1, 4))  # S = (1, 1, 1, 1), m = 4
    >>> float(rademacher_sup(sigma, x, "linear")[0])  # ||S|| / m = 2 / 4
    0.5
    >>> [float(rademacher_sup(sigma, x, k, 2, 2)[0]) for k in ("dense", "local", "conv")]
    [0.7071067811865476, 0.5, 0.5]
    """
    x = check_points("x", x)
    m, n = x.shape
    if not isinstance(sigma, np.ndarray) or sigma.ndim != 2 or sigma.shape[1] != m:
        shape = getattr(sigma, "shape", type(sigma).__name__)
        raise ValueError(f"sigma must be a numpy array of shape (draws, m={m}), got {shape}")
    if not np.all(np.abs(sigma) == 1):
        raise ValueError("sigma must hold signs +1 and -1 only")
    k, s = _check_class(kind, norm, kernel_size, stride, n)
    b = check_positive("radius", radius)
    total = sigma @ x  # (D, n): S = sum_i sigma_i x_i for each draw
    if kind == "linear":
        return b * np.linalg.norm(total, axis=1) / m
    patches = extract_patches(total, k, s)  # (D, P, K)
    count = patches.shape[1]
    if kind == "dense":
        value = np.linalg.norm(total, axis=1) * (math.sqrt(count) if norm == "unit" else 1.0)
    elif kind == "local":
        patch_norms = np.linalg.norm(patches, axis=2)  # (D, P)
        value = np.sqrt(np.sum(patch_norms**2, axis=1)) if norm == "unit" else patch_norms.max(axis=1)
    else:
        value = np.linalg.norm(patches, ord=2, axis=(1, 2))  # largest singular value of each P x K matrix
        if norm == "toeplitz":
            value = value / math.sqrt(count)
    return b * value / m


def _signs(draws: int, m: int, rng: np.random.Generator) -> np.ndarray:
    return rng.integers(0, 2, size=(draws, m)) * 2.0 - 1.0


def rademacher_mc(
    x: np.ndarray,
    kind: str,
    kernel_size: int | None = None,
    stride: int | None = None,
    norm: str = "unit",
    radius: float = 1.0,
    *,
    n_draws: int = 2000,
    seed: int | np.random.Generator = 0,
) -> MonteCarlo:
    """Monte Carlo estimate of the empirical Rademacher complexity of a class of :func:`rademacher_sup`.

    Parameters
    ----------
    x, kind, kernel_size, stride, norm, radius
        As in :func:`rademacher_sup`.
    n_draws : int
        Number of sign vectors, in ``2..2**24``; the signs ``(n_draws, m)``, the sums ``(n_draws, n)`` and, for
        ``"local"`` and ``"conv"``, the patches ``(n_draws, P, K)`` hold at most ``2**28`` numbers each.
    seed : int or numpy.random.Generator
        Drives the signs.

    Returns
    -------
    MonteCarlo
        Mean over the draws, its standard error, and the number of draws.

    Examples
    --------
    >>> x = np.eye(4)  # ||S|| = 2 whatever the signs
    >>> est = rademacher_mc(x, "linear", n_draws=100, seed=0)
    >>> est.mean, est.std_error
    (0.5, 0.0)
    """
    x = check_points("x", x)
    draws = check_size("n_draws", n_draws, minimum=2)
    m, n = x.shape
    check_allocation("n_draws and the rows of x", draws, m)  # the signs
    check_allocation("n_draws and the columns of x", draws, n)  # the sums S
    k, s = _check_class(kind, norm, kernel_size, stride, n)
    if kind in ("local", "conv") and k <= n:  # the patch norms copy the (draws, P, K) patches
        check_allocation("n_draws, kernel_size and stride", draws, (n - k) // s + 1, k)
    rng = as_generator(seed)
    values = rademacher_sup(_signs(draws, x.shape[0], rng), x, kind, kernel_size, stride, norm, radius)
    return MonteCarlo(float(values.mean()), float(values.std(ddof=1) / math.sqrt(draws)), draws)


def rademacher_exact(
    x: np.ndarray,
    kind: str,
    kernel_size: int | None = None,
    stride: int | None = None,
    norm: str = "unit",
    radius: float = 1.0,
) -> float:
    """The empirical Rademacher complexity exactly, averaging over all ``2^m`` sign vectors (``m <= 16``).

    Parameters
    ----------
    x, kind, kernel_size, stride, norm, radius
        As in :func:`rademacher_sup`; ``x`` has at most 16 rows.

    Returns
    -------
    float

    Examples
    --------
    >>> rademacher_exact(np.ones((2, 1)), "linear")  # |s1 + s2| / 2 is 1, 0, 0, 1 over the 4 sign pairs
    0.5
    """
    x = check_points("x", x)
    m = x.shape[0]
    if m > _MAX_EXACT:
        raise ValueError(f"x must have at most {_MAX_EXACT} rows for exact enumeration (2^m sign vectors), got {m}")
    codes = np.arange(2**m)[:, None] >> np.arange(m)[None, :]  # (2^m, m) bits
    sigma = 1.0 - 2.0 * (codes & 1)
    return float(rademacher_sup(sigma, x, kind, kernel_size, stride, norm, radius).mean())


def jensen_bound(
    x: np.ndarray,
    kind: str,
    kernel_size: int | None = None,
    stride: int | None = None,
    radius: float = 1.0,
) -> float:
    """Closed-form upper bound on the complexity of a ``norm="unit"`` class, from ``E||.|| <= sqrt(E||.||^2)``.

    ``E_sigma ||sum_i sigma_i v_i||^2 = sum_i ||v_i||^2`` (the cross terms vanish), so

    * ``linear``: ``B sqrt(sum_i ||x_i||^2) / m``; ``dense``: ``sqrt(P)`` times that;
    * ``local``: ``B sqrt(sum_p sum_i ||x_i^(p)||^2) / m = B sqrt(sum_j c_j sum_i x_ij^2) / m`` with ``c_j`` the
      :func:`patch_multiplicity` (equal to the linear bound without overlap);
    * ``conv``: the same as ``local`` (the shared class is contained in the local one).

    By the Khintchine-Kahane inequality with the optimal constant (Latała & Oleszkiewicz 1994), the first
    three are also at most ``sqrt(2)`` times the true value.

    Parameters
    ----------
    x, kind, kernel_size, stride, radius
        As in :func:`rademacher_sup`.

    Returns
    -------
    float

    Examples
    --------
    >>> jensen_bound(np.ones((4, 4)), "linear")  # sqrt(16) / 4
    1.0
    >>> jensen_bound(np.ones((4, 4)), "local", 2, 1)  # multiplicities 1, 2, 2, 1: sqrt(4 * 6) / 4
    1.224744871391589
    """
    x = check_points("x", x)
    m, n = x.shape
    k, s = _check_class(kind, "unit", kernel_size, stride, n)
    b = check_positive("radius", radius)
    energy = np.sum(x**2, axis=0)  # (n,): sum_i x_ij^2
    if kind == "linear":
        return b * math.sqrt(energy.sum()) / m
    if kind == "dense":
        return b * math.sqrt(n_patches(n, k, s) * energy.sum()) / m
    return b * math.sqrt(float(patch_multiplicity(n, k, s) @ energy)) / m


def overlap_summary(
    kernel_size: int, overlap: int, n_inputs: int = 64, n_samples: int = 64, seed: int = 0
) -> dict[str, object]:
    """Everything the kernel-and-overlap explorer draws, for one layer with kernel ``K`` and overlap ``O``.

    Parameters
    ----------
    kernel_size : int
        ``K`` in ``1..n_inputs``.
    overlap : int
        ``O`` in ``0..K-1`` (stride ``K - O``).
    n_inputs : int
        Length of the layer's input, at most ``2**24``.
    n_samples : int
        Size of the white-noise sample on which the energy factor is measured, at most ``2**24``
        (``n_samples * n_inputs <= 2**28``).
    seed : int
        Seeds that sample.

    Returns
    -------
    dict
        ``stride``, ``n_patches``, ``toeplitz`` (the ``P x n`` pattern of the layer, kernel entries 1..K),
        ``multiplicity``; ``toeplitz_ratio = sqrt(P)`` (Frobenius over kernel norm); ``conjecture``
        (``sqrt(K/(K-O))``), ``worst_case`` (``sqrt(ceil(K/(K-O)))``) and ``measured`` (the factor
        ``sqrt(sum_j c_j sum_i x_ij^2 / sum_i ||x_i||^2)`` on the sample); ``net_ratio = toeplitz_ratio / conjecture``;
        and the curves of these quantities against every overlap ``0..K-1`` (``overlaps``, ``curve_*``).

    Examples
    --------
    >>> out = overlap_summary(4, 2, n_inputs=16)
    >>> out["stride"], out["n_patches"], out["toeplitz"].shape, out["conjecture"] == math.sqrt(2)
    (2, 7, (7, 16), True)
    """
    k, o = _check_overlap(kernel_size, overlap)
    n = check_int("n_inputs", n_inputs, minimum=k, maximum=MAX_SIZE)
    samples = check_size("n_samples", n_samples)
    check_allocation("n_samples and n_inputs", samples, n)  # the white-noise sample
    check_allocation("kernel_size and n_inputs", k, n)  # a multiplicity curve of n numbers for each of K overlaps
    check_allocation("n_inputs, kernel_size and overlap", n_patches(n, k, k - o), n)  # the Toeplitz pattern
    x = np.random.default_rng(check_int("seed", seed, minimum=0)).standard_normal((samples, n))
    energy = np.sum(x**2, axis=0)

    def factors(ov: int) -> tuple[float, float, float, float]:
        stride = k - ov
        mult = patch_multiplicity(n, k, stride)
        return (
            math.sqrt(n_patches(n, k, stride)),
            overlap_factor(k, ov),
            overlap_factor(k, ov, worst_case=True),
            math.sqrt(float(mult @ energy) / float(energy.sum())),
        )

    overlaps = np.arange(k)
    curves = np.array([factors(int(ov)) for ov in overlaps])  # (K, 4)
    ratio, conjecture, worst, measured = curves[o]
    stride = k - o
    return {
        "kernel_size": k,
        "overlap": o,
        "stride": stride,
        "n_inputs": n,
        "n_patches": n_patches(n, k, stride),
        "toeplitz": toeplitz_matrix(np.arange(1.0, k + 1), n, stride),
        "multiplicity": patch_multiplicity(n, k, stride),
        "toeplitz_ratio": float(ratio),
        "conjecture": float(conjecture),
        "worst_case": float(worst),
        "measured": float(measured),
        "net_ratio": float(ratio / conjecture),
        "overlaps": overlaps,
        "curve_toeplitz_ratio": curves[:, 0],
        "curve_conjecture": curves[:, 1],
        "curve_worst_case": curves[:, 2],
        "curve_measured": curves[:, 3],
    }
