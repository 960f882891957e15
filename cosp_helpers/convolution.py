"""Convolution as a sparse matrix: patches, locally connected and convolutional layers and networks, Toeplitz matrices.

A 1-D signal ``x`` in ``R^n`` is cut into **patches** of ``K`` consecutive coordinates, one starting every
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
bounds of :mod:`cosp_helpers.bounds` are for bias-free networks.

:class:`LocalNet` stacks such layers into a tree: ``n = K^L`` inputs, kernel ``K`` and stride ``K`` in
every layer (non-overlapping patches, so the receptive fields form a ``K``-ary tree), ``C`` channels,
ReLUs, and a last layer with one output -- the architecture of memo §8.1 (Theorems 11-12), with one
channel when ``channels=1``.

References
----------
T. Poggio, CBMM Memo 138 (2023), §8.1; T. Galanti, M. Xu, L. Galanti, T. Poggio, "Norm-based
generalization bounds for sparse neural networks", NeurIPS 2023.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from ._checks import as_generator, as_torch_generator, check_array, check_int

__all__ = [
    "n_patches",
    "extract_patches",
    "patch_multiplicity",
    "toeplitz_matrix",
    "LocalLayer",
    "LocalNet",
]

_CONNECTIVITIES = ("dense", "local", "conv")


def _check_geometry(n: object, kernel_size: object, stride: object, n_name: str = "n") -> tuple[int, int, int]:
    n = check_int(n_name, n, minimum=1)
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
        As in :func:`n_patches`.

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
    n, k, s = _check_geometry(n, kernel_size, stride)
    counts = np.zeros(n, dtype=np.int64)
    for start in range(0, n - k + 1, s):
        counts[start : start + k] += 1
    return counts


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
        Input length (positions), >= K.
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
    n, k, s = _check_geometry(n, k, stride)
    p_count = (n - k) // s + 1
    w = np.zeros((p_count, c_out, n, c_in), dtype=float)
    for p in range(p_count):
        w[p, :, p * s : p * s + k, :] = kernel3
    matrix = w.reshape(p_count * c_out, n * c_in)
    return matrix


def _check_connectivity(connectivity: object) -> str:
    if connectivity not in _CONNECTIVITIES:
        raise ValueError(f"connectivity must be one of {_CONNECTIVITIES}, got {connectivity!r}")
    return str(connectivity)


class LocalLayer(nn.Module):
    """A bias-free layer from ``n`` positions to ``P`` patch positions: convolutional, locally connected or dense.

    Parameters
    ----------
    n_positions : int
        Input positions ``n``.
    kernel_size, stride : int
        Patch geometry, as in :func:`n_patches`; ``P = (n - K) // s + 1`` output positions.
    in_channels, out_channels : int
        Channels per input and per output position, >= 1.
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
        self.n_positions, self.kernel_size, self.stride = _check_geometry(n_positions, kernel_size, stride, "n_positions")
        self.in_channels = check_int("in_channels", in_channels, minimum=1)
        self.out_channels = check_int("out_channels", out_channels, minimum=1)
        self.connectivity = _check_connectivity(connectivity)
        self.out_positions = (self.n_positions - self.kernel_size) // self.stride + 1
        g = as_torch_generator(seed)
        fan_in = self.kernel_size * self.in_channels
        if self.connectivity == "conv":
            shape: tuple[int, ...] = (self.out_channels, fan_in)
        elif self.connectivity == "local":
            shape = (self.out_positions, self.out_channels, fan_in)
        else:
            fan_in = self.n_positions * self.in_channels
            shape = (self.out_positions * self.out_channels, fan_in)
        bound = 1.0 / math.sqrt(fan_in)
        self.weight = nn.Parameter((torch.rand(shape, generator=g) * 2 - 1) * bound)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 3 or x.shape[1:] != (self.n_positions, self.in_channels):
            raise ValueError(f"x must have shape (batch, {self.n_positions}, {self.in_channels}), got {tuple(x.shape)}")
        batch = x.shape[0]
        if self.connectivity == "dense":
            out = x.reshape(batch, -1) @ self.weight.T  # (B, P C_out)
            return out.reshape(batch, self.out_positions, self.out_channels)
        patches = x.unfold(1, self.kernel_size, self.stride)  # (B, P, C_in, K)
        patches = patches.transpose(2, 3).reshape(batch, self.out_positions, -1)  # (B, P, K C_in), position-major
        if self.connectivity == "conv":
            return patches @ self.weight.T  # (B, P, C_out)
        return torch.einsum("bpi,poi->bpo", patches, self.weight)  # (B, P, C_out)

    def position_weights(self) -> np.ndarray:
        """The weights read by each output position, ``(P, C_out, K C_in)`` (``(P, C_out, n C_in)`` if dense).

        Examples
        --------
        >>> LocalLayer(8, 2, 2, 1, 3, connectivity="conv").position_weights().shape
        (4, 3, 2)
        """
        w = self.weight.detach().double().cpu().numpy()
        if self.connectivity == "conv":
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
        A power of ``kernel_size``, at least ``kernel_size``.
    channels : int
        Channels ``C`` of the hidden layers, >= 1.
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
        n = check_int("n_inputs", n_inputs, minimum=k)
        depth = round(math.log(n, k))
        if k**depth != n:
            raise ValueError(f"n_inputs must be a power of kernel_size = {k}, got {n}")
        self.n_inputs, self.kernel_size, self.depth = n, k, depth
        self.channels = check_int("channels", channels, minimum=1)
        self.connectivity = _check_connectivity(connectivity)
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
