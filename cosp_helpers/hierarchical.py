"""Hierarchical Gaussian targets and layer-wise training (Dandi, Pesce, Zdeborová & Krzakala 2025).

A *single-index Gaussian hierarchical target* on ``x ~ N(0, I_d)`` is built in two steps:

    z = W* x            (k, with k = d^eps; W* has orthonormal rows)
    h*(x) = k^(-1/2) sum_i a_i sigma1(z_i)      (a scalar feature, a_i = +-1)
    y = sigma2(h*(x))

The factor ``k^(-1/2) = d^(-eps/2)`` is the paper's normalisation: with orthonormal rows the ``z_i``
are independent standard Gaussians, so ``Var h* = Var sigma1(z)``. We use the paper's example
``sigma1 = He2 + He3`` with the Hermite polynomials *normalised* to unit variance (``He2/sqrt(2) + He3/sqrt(6)``),
so that ``Var h* = Var sigma1(z) = 1 + 1 = 2`` exactly, and ``sigma2 = tanh(slope * .)``. These are the
orthonormal Hermite polynomials of the paper's theory (its appendix C.3.4); the authors' simulation code
scales ``He_j`` by ``1/j!`` instead (``Var sigma1 = 1/2 + 1/6 = 2/3``).

* :func:`target` draws one such target (a :class:`HierarchicalTarget`).
* :func:`subspace_overlap` -- the fraction of a weight matrix's squared Frobenius norm inside a subspace
  (1 inside, ``k/d`` on average for random weights).
* :func:`spectral_first_layer` -- the first layer's estimate of ``span(W*)``: the top eigenvectors of
  ``(1/n) sum_i y_i (x_i x_i^T - I)``, the direction a large first gradient step moves the weights to.
* :class:`LayerwiseNet` and :func:`fit_layerwise` -- a three-layer network trained layer by layer;
  :func:`fit_layerwise_side_by_side` trains several of them (one per data set) together.
* :func:`kernel_ridge_rbf` -- a Gaussian-kernel ridge regression baseline in closed form.
* :class:`ProjectedMLP` -- a generic ReLU network on top of a width-``k`` linear first layer (e.g. the spectral
  step): the control that has the three-layer network's first layer but no polynomial middle layer.
* :func:`train_side_by_side` -- several networks of one architecture, each with its own data, trained
  together by mini-batch Adam (one batched computation instead of a loop over networks).
* :func:`preactivations`, :func:`probe_correlation`, :func:`best_unit_correlation` -- how much of the
  hidden feature ``h*`` a network's layers carry: the "second reduction".
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from ._checks import (
    as_generator,
    check_allocation,
    check_array,
    check_int,
    check_points,
    check_positive,
    check_real,
    check_size,
)
from .networks import DeepNet
from .training import _lr_factor, _Optimizer, evaluate, train

__all__ = [
    "HierarchicalTarget",
    "target",
    "subspace_overlap",
    "spectral_first_layer",
    "LayerwiseNet",
    "fit_layerwise",
    "fit_layerwise_side_by_side",
    "kernel_ridge_rbf",
    "ProjectedMLP",
    "train_side_by_side",
    "preactivations",
    "probe_correlation",
    "best_unit_correlation",
]


def _sigma1(z: np.ndarray) -> np.ndarray:
    # He2/sqrt(2) + He3/sqrt(6) (probabilists' Hermite, each normalised): mean 0, variance 1 + 1 = 2 under N(0, 1)
    return (z**2 - 1) / math.sqrt(2) + (z**3 - 3 * z) / math.sqrt(6)


@dataclass(frozen=True)
class HierarchicalTarget:
    """A single-index hierarchical Gaussian target ``y = tanh(slope * h*(x))``.

    Attributes
    ----------
    weights : numpy.ndarray
        ``W*``, shape (k, d), orthonormal rows.
    signs : numpy.ndarray
        The ``a_i = +-1``, shape (k,).
    slope : float
        The slope of ``sigma2 = tanh(slope * .)``.

    Examples
    --------
    >>> t = target(16, 4, seed=0)
    >>> t.d, t.k, round(t.eps, 3)
    (16, 4, 0.5)
    """

    weights: np.ndarray
    signs: np.ndarray
    slope: float

    @property
    def d(self) -> int:
        """Input dimension."""
        return self.weights.shape[1]

    @property
    def k(self) -> int:
        """Number of rows of ``W*`` (the dimension of the hidden subspace)."""
        return self.weights.shape[0]

    @property
    def eps(self) -> float:
        """The exponent with ``k = d^eps``."""
        return math.log(self.k) / math.log(self.d)

    def feature(self, x: np.ndarray) -> np.ndarray:
        """The scalar feature ``h*(x) = k^(-1/2) sum_i a_i sigma1(w_i . x)``, shape (n,), for ``x`` of shape (n, d)."""
        x = check_points("x", x, self.d)
        return _sigma1(x @ self.weights.T) @ self.signs / math.sqrt(self.k)  # (n, k) @ (k,)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """The target ``y = tanh(slope * h*(x))``, shape (n,)."""
        return np.tanh(self.slope * self.feature(x))

    def sample(self, n: int, seed: int | np.random.Generator = 0) -> tuple[np.ndarray, np.ndarray]:
        """``n`` Gaussian inputs and their targets: ``x`` of shape (n, d), ``y`` of shape (n,), both float32."""
        n = check_int("n", n, minimum=1)
        x = as_generator(seed).standard_normal((n, self.d))
        return x.astype(np.float32), self(x).astype(np.float32)


def target(d: int, k: int, *, slope: float = 3.0, seed: int | np.random.Generator = 0) -> HierarchicalTarget:
    """Draw a hierarchical Gaussian target: ``W*`` with orthonormal rows and random signs ``a_i``.

    Parameters
    ----------
    d : int
        Input dimension, >= 2.
    k : int
        Rows of ``W*`` (the paper's ``d^eps``), ``1 <= k < d``.
    slope : float
        ``sigma2(h) = tanh(slope * h)``; the paper's example uses 3. Must be > 0.
    seed : int or numpy.random.Generator
        Randomness for ``W*`` (a QR factor of a Gaussian matrix, so its row space is uniform) and ``a``.

    Returns
    -------
    HierarchicalTarget

    References
    ----------
    Y. Dandi, L. Pesce, L. Zdeborová, F. Krzakala, "The computational advantage of depth: learning
    high-dimensional hierarchical functions with gradient descent", arXiv:2502.13961 (2025).

    Examples
    --------
    >>> t = target(32, 4, seed=1)
    >>> bool(np.allclose(t.weights @ t.weights.T, np.eye(4)))
    True
    >>> x, y = t.sample(5, seed=0)
    >>> x.shape, y.shape
    ((5, 32), (5,))
    """
    d = check_size("d", d, minimum=2)
    k = check_int("k", k, minimum=1)
    check_allocation("d and k", d, k)
    if k >= d:
        raise ValueError(f"k must be < d = {d}, got {k}")
    slope = check_positive("slope", slope)
    rng = as_generator(seed)
    q, r = np.linalg.qr(rng.standard_normal((d, k)))  # (d, k)
    q = q * np.sign(np.diag(r))  # sign fix: makes the row space Haar-distributed
    signs = rng.choice([-1.0, 1.0], size=k)
    return HierarchicalTarget(weights=q.T.copy(), signs=signs, slope=slope)


def _as_matrix(name: str, value: object) -> np.ndarray:
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    if not isinstance(value, np.ndarray):
        raise TypeError(f"{name} must be a numpy array or torch tensor of shape (rows, d), got {type(value).__name__}")
    if value.ndim != 2 or value.shape[0] < 1:
        raise ValueError(f"{name} must have shape (rows, d) with rows >= 1, got shape {value.shape}")
    return check_array(name, value)


def subspace_overlap(weights: np.ndarray | torch.Tensor, basis: np.ndarray | torch.Tensor) -> float:
    """Fraction of ``||weights||_F^2`` that lies in the row space of ``basis``.

    ``||weights P||_F^2 / ||weights||_F^2``, with ``P`` the orthogonal projector onto the span of the
    rows of ``basis`` (which need not be orthonormal). It is 1 when every row of ``weights`` lies in
    the span, 0 when every row is orthogonal to it, and ``k/d`` in expectation for rotation-invariant
    random weights (``k`` = rank of ``basis``).

    Parameters
    ----------
    weights : numpy.ndarray or torch.Tensor
        Shape (p, d), e.g. a first-layer weight matrix; not all zero.
    basis : numpy.ndarray or torch.Tensor
        Shape (k, d), e.g. ``W*``; full row rank.

    Returns
    -------
    float in [0, 1]

    References
    ----------
    Dandi et al. (2025), arXiv:2502.13961: the first layer recovers ``span(W*)``.

    Examples
    --------
    >>> basis = np.eye(4)[:2]                          # span(e1, e2) in R^4
    >>> subspace_overlap(np.array([[3.0, 4.0, 0, 0]]), basis)
    1.0
    >>> subspace_overlap(np.array([[1.0, 0, 1.0, 0]]), basis)
    0.5
    """
    w, b = _as_matrix("weights", weights), _as_matrix("basis", basis)
    if w.shape[1] != b.shape[1]:
        raise ValueError(f"weights and basis must have the same number of columns, got shapes {w.shape} and {b.shape}")
    if b.shape[0] >= b.shape[1] + 1 or np.linalg.matrix_rank(b) < b.shape[0]:
        raise ValueError(f"basis must have full row rank (independent rows), got rank {np.linalg.matrix_rank(b)} for shape {b.shape}")
    total = float(np.sum(w**2))
    if total == 0:
        raise ValueError("weights must not be all zero")
    q, _ = np.linalg.qr(b.T)  # (d, k): orthonormal basis of the row space
    return float(np.sum((w @ q) ** 2) / total)


def _check_xy(x: object, y: object) -> tuple[np.ndarray, np.ndarray]:
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu().numpy()
    if isinstance(y, torch.Tensor):
        y = y.detach().cpu().numpy()
    x = check_points("x", x)
    if not isinstance(y, np.ndarray):
        raise TypeError(f"y must be a numpy array of shape (n,), got {type(y).__name__}")
    y = check_array("y", y)
    y = y.reshape(-1) if y.ndim == 2 and y.shape[1] == 1 else y
    if y.shape != (x.shape[0],):
        raise ValueError(f"y must have shape ({x.shape[0]},) to match x, got {y.shape}")
    return x, y


def spectral_first_layer(x: np.ndarray, y: np.ndarray, k: int) -> np.ndarray:
    """Estimate ``span(W*)``: the ``k`` eigenvectors of largest ``|eigenvalue|`` of ``M``.

    ``M = (1/n) sum_i (y_i - mean(y)) (x_i x_i^T - I)``. Its expectation is
    ``W*^T diag(mu) W*`` with ``mu_i = E[y He2(z_i)]``: only directions inside ``span(W*)`` carry signal,
    and the sign of ``mu_i`` follows ``a_i``, hence the absolute value. For a two-layer network with
    small output weights, one gradient step on the first layer moves each row ``w`` by a vector
    proportional to ``M w`` (from the second Hermite coefficient of the activation): a large first step
    is one power iteration of ``M``, and this function takes the limit.

    Parameters
    ----------
    x : numpy.ndarray
        Inputs, shape (n, d).
    y : numpy.ndarray
        Targets, shape (n,) or (n, 1).
    k : int
        Number of directions to keep, ``1 <= k <= d``.

    Returns
    -------
    numpy.ndarray
        Shape (k, d), orthonormal rows: the eigenvectors, ordered by ``|eigenvalue|`` (descending; for equal
        ``|eigenvalue|`` the positive eigenvalue first), each with its entry of largest magnitude positive.
        The output depends on ``M`` only, not on the signs or bases LAPACK happens to return: for a
        (near-)repeated eigenvalue (within ``1e-8 max|eigenvalue|``) the rows of that eigenvalue are a fixed
        canonical basis of its eigenspace (the orthonormalised projection of a fixed seeded Gaussian matrix).
        If the ``k``-th and ``(k+1)``-th ``|eigenvalue|`` are (nearly) equal, the top-``k`` span itself is not
        determined by ``M``; no choice of basis can fix that.

    References
    ----------
    Dandi et al. (2025), arXiv:2502.13961, the first (layer-wise) training step.

    Examples
    --------
    >>> t = target(16, 2, seed=0)
    >>> x, y = t.sample(4000, seed=1)
    >>> w1 = spectral_first_layer(x, y, 2)
    >>> w1.shape, subspace_overlap(w1, t.weights) > 0.9
    ((2, 16), True)
    """
    x, y = _check_xy(x, y)
    d = x.shape[1]
    k = check_int("k", k, minimum=1, maximum=d)
    yc = y - y.mean()
    m = (x * yc[:, None]).T @ x / len(y) - yc.mean() * np.eye(d)  # (d, d); yc.mean() = 0 up to rounding
    eigenvalues, vectors = np.linalg.eigh(m)
    return _canonical_top_eigenvectors(eigenvalues, vectors, k)


_CLUSTER_RTOL = 1e-8
"""Eigenvalues closer than this times ``max |eigenvalue|`` count as one repeated eigenvalue.

Rounding moves an eigenvector of a symmetric matrix by about ``eps ||M|| / gap``; below a gap of
``1e-8 ||M||`` that is more than ``1e-8``, and the individual vectors are no longer determined by ``M``.
"""


def _canonical_top_eigenvectors(eigenvalues: np.ndarray, vectors: np.ndarray, k: int) -> np.ndarray:
    # The k eigenvectors of largest |eigenvalue|, as rows, made independent of LAPACK's choices:
    # * order: by |eigenvalue| descending, ties broken by the eigenvalue (positive first), a stable sort; magnitudes
    #   within the cluster tolerance below of the largest in their run count as tied, so that the rounding of eigh
    #   (|-0.1 + 1e-17| > |0.1 - 1e-17|) cannot put -lambda before +lambda;
    # * sign: each vector's entry of largest magnitude (first such index) is made positive;
    # * (near-)repeated eigenvalues, within _CLUSTER_RTOL * max|eigenvalue|: any basis of their eigenspace is as valid
    #   as another, so the cluster's vectors are replaced by the orthonormalised projections P G of a fixed Gaussian G
    #   (seeded) onto the eigenspace (QR with a positive diagonal of R), which depends on the eigenspace only.
    d = vectors.shape[0]
    scale = float(np.max(np.abs(eigenvalues))) if eigenvalues.size else 0.0
    tol = _CLUSTER_RTOL * scale
    magnitude = np.abs(eigenvalues)
    tier = np.empty(eigenvalues.size, dtype=np.int64)  # 0 for the largest magnitudes, then 1, ...: equal within tol
    leader, rank = None, -1
    for j in np.argsort(-magnitude, kind="stable"):
        if leader is None or leader - magnitude[j] > tol:
            leader, rank = magnitude[j], rank + 1
        tier[j] = rank
    order = np.lexsort((-eigenvalues, tier))  # primary key last: magnitude tier, then the eigenvalue descending
    chosen = order[:k]
    rows = []
    done = set()
    fixed = np.random.default_rng(20250214).standard_normal((d, d))  # the fixed G, one column per kept direction
    for position, index in enumerate(chosen):
        if index in done:
            continue
        cluster = [j for j in chosen if abs(eigenvalues[j] - eigenvalues[index]) <= tol and j not in done]
        done.update(cluster)
        if len(cluster) == 1:
            v = vectors[:, index]
            v = v * (1.0 if v[int(np.argmax(np.abs(v)))] >= 0 else -1.0)
            rows.append(v[None, :])
            continue
        # the whole eigenspace of this eigenvalue (also the members that did not make the top k)
        members = [j for j in range(eigenvalues.size) if abs(eigenvalues[j] - eigenvalues[index]) <= tol]
        span = vectors[:, members]  # (d, m): orthonormal basis of the eigenspace
        projected = span @ (span.T @ fixed[:, position : position + len(cluster)])  # P G, (d, len(cluster))
        q, r = np.linalg.qr(projected)
        rows.append((q * np.sign(np.diag(r))).T)
    return np.concatenate(rows, axis=0)


def _monomial_index(k: int) -> tuple[torch.Tensor, ...]:
    # The monomials of degree 1, 2, 3 in k variables, in the order of itertools.combinations_with_replacement:
    # * i2, j2, p3, l3 write them as products of columns: degree 2 is z_i z_j = z[i2] * z[j2], and degree 3 reuses
    #   degree 2, z_i z_j z_l = (z_i z_j) z_l = deg2[p3] * z[l3] (for _monomials);
    # * slot places the coefficient of each monomial of degree 2 and 3 in the (k, k + k^2) matrix G of
    #   _layerwise_hidden: z_i z_l (i <= l) at row l, column i; z_i z_j z_l (i <= j <= l) at row l, column k + k i + j.
    pairs = list(itertools.combinations_with_replacement(range(k), 2))
    triples = list(itertools.combinations_with_replacement(range(k), 3))
    i2, j2 = (torch.tensor([pair[a] for pair in pairs], dtype=torch.long) for a in (0, 1))
    p3 = torch.tensor([pairs.index(t[:2]) for t in triples], dtype=torch.long)
    l3 = torch.tensor([t[2] for t in triples], dtype=torch.long)
    slot = [l * (k + k * k) + i for i, l in pairs] + [l * (k + k * k) + k + k * i + j for i, j, l in triples]
    return i2, j2, p3, l3, torch.tensor(slot, dtype=torch.long)


def _monomials(z: torch.Tensor, index: tuple[torch.Tensor, ...]) -> torch.Tensor:
    # z (..., k) -> (..., C(k + 3, 3) - 1): z, then the monomials of degree 2, then those of degree 3
    i2, j2, p3, l3, _ = index
    degree2 = z.index_select(-1, i2) * z.index_select(-1, j2)
    return torch.cat([z, degree2, degree2.index_select(-1, p3) * z.index_select(-1, l3)], dim=-1)


def _layerwise_hidden(p: dict[str, torch.Tensor], index: tuple[torch.Tensor, ...], x: torch.Tensor) -> torch.Tensor:
    # LayerwiseNet's unit h = c . (phi(z) - mean) / std + b as a function of its parameters and buffers p; with a
    # leading "members" axis on x (members, n, d) and on every entry of p, several networks at once (train_side_by_side).
    # The 34 monomials are not formed: with e = c / std, the cubic polynomial sum_f e_f phi_f(z) equals
    # sum_l z_l (G [z; z (x) z])_l, where row l of G holds the coefficients of the monomials whose largest index is l.
    # The same function with about a fifth of the memory traffic (what bounds the speed here); the layout is
    # feature-major, (..., features, n), so that each feature is one contiguous row.
    k = p["w1"].shape[-2]
    z = p["w1"] @ x.transpose(-1, -2)  # (..., k, n)
    e = p["c"] / p["std"]  # (..., features)
    g = torch.zeros(*e.shape[:-1], k * (k + k * k), dtype=e.dtype).index_copy(-1, index[4], e[..., k:])
    g = g.unflatten(-1, (k, k + k * k))  # (..., k, k + k^2)
    products = torch.cat([z, (z[..., :, None, :] * z[..., None, :, :]).flatten(-3, -2)], dim=-2)  # (..., k + k^2, n)
    offset = p["b"] - (e * p["mean"]).sum(-1, keepdim=True)  # (..., 1)
    return (z * (g @ products + e[..., :k, None])).sum(-2) + offset  # (..., n)


def _layerwise_apply(p: dict[str, torch.Tensor], index: tuple[torch.Tensor, ...], x: torch.Tensor) -> torch.Tensor:
    # LayerwiseNet's output as a function of p, with or without the leading members axis (feature-major inside)
    h = _layerwise_hidden(p, index, x)  # (..., n)
    hidden = torch.tanh(p["g_in"].transpose(-1, -2) * h[..., None, :] + p["g_bias"][..., :, None])  # (..., width, n)
    return (p["g_out"].transpose(-1, -2) @ hidden).transpose(-1, -2) + p["g_out_bias"][..., None, :]  # (..., n, 1)


class LayerwiseNet(nn.Module):
    """A three-layer network for hierarchical targets: ``x -> z -> h -> y``.

    * layer 1: ``z = W1 x`` (k units, linear), the estimate of ``W* x``;
    * layer 2: ``h = c . phi(z) + b``, a single unit reading all monomials of degree 1-3 of ``z``,
      standardised (``C(k+3, 3) - 1`` features: a wide polynomial layer, enough to represent ``h*``);
    * layer 3: ``y = g(h)``, a one-input network with ``width`` tanh units.

    Parameters
    ----------
    w1 : numpy.ndarray
        Initial first-layer weights, shape (k, d).
    x : numpy.ndarray
        Inputs (n, d) used to fix the standardisation of ``phi`` (means and standard deviations).
    width : int
        Hidden units of layer 3.
    seed : int or numpy.random.Generator
        Initialisation of layers 2 and 3.

    References
    ----------
    Dandi et al. (2025), arXiv:2502.13961 (the three-layer network trained layer-wise).

    Examples
    --------
    >>> net = LayerwiseNet(np.eye(3, 8), np.random.default_rng(0).normal(size=(50, 8)), seed=0)
    >>> net(torch.zeros(5, 8)).shape, net.n_features
    (torch.Size([5, 1]), 19)
    """

    def __init__(self, w1: np.ndarray, x: np.ndarray, width: int = 16, *, seed: int | np.random.Generator = 0) -> None:
        super().__init__()
        w1 = _as_matrix("w1", w1)
        x = check_points("x", x, w1.shape[1])
        width = check_size("width", width)
        gen = torch.Generator().manual_seed(int(as_generator(seed).integers(2**62)))
        self.w1 = nn.Parameter(torch.tensor(w1, dtype=torch.float32))  # (k, d)
        self._index = _monomial_index(w1.shape[0])
        with torch.no_grad():
            phi = self._monomials(torch.tensor(x, dtype=torch.float32) @ self.w1.T)  # (n, features)
        self.register_buffer("mean", phi.mean(0))
        self.register_buffer("std", phi.std(0).clamp_min(1e-6))
        self.n_features = phi.shape[1]
        self.c = nn.Parameter(torch.randn(self.n_features, generator=gen) / math.sqrt(self.n_features))
        self.b = nn.Parameter(torch.zeros(1))
        self.g_in = nn.Parameter(torch.randn(1, width, generator=gen))  # (1, width)
        self.g_bias = nn.Parameter(torch.randn(width, generator=gen))
        self.g_out = nn.Parameter(torch.randn(width, 1, generator=gen) / math.sqrt(width))
        self.g_out_bias = nn.Parameter(torch.zeros(1))

    def _monomials(self, z: torch.Tensor) -> torch.Tensor:
        return _monomials(z, self._index)  # (n, features)

    def _state(self) -> dict[str, torch.Tensor]:
        return dict(self.named_parameters()) | dict(self.named_buffers())

    def hidden(self, x: torch.Tensor) -> torch.Tensor:
        """The layer-2 unit ``h``, shape (n,)."""
        return _layerwise_hidden(self._state(), self._index, x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return _layerwise_apply(self._state(), self._index, x)  # (n, 1)


def fit_layerwise(
    x: np.ndarray,
    y: np.ndarray,
    k: int,
    *,
    head_steps: int = 200,
    joint_steps: int = 200,
    lr: float = 1e-2,
    width: int = 16,
    x_test: np.ndarray | None = None,
    y_test: np.ndarray | None = None,
    seed: int | np.random.Generator = 0,
) -> tuple[LayerwiseNet, dict[str, tuple[float, float | None]]]:
    """Train a :class:`LayerwiseNet` layer by layer, then briefly all together.

    1. Layer 1: ``W1 = spectral_first_layer(x, y, k)`` (frozen in step 2).
    2. Layer 2: ``c`` by ridge regression of ``y`` on the standardised monomials (a closed-form start),
       then layers 2 and 3 by ``head_steps`` full-batch Adam steps on the frozen features.
    3. All layers jointly, ``joint_steps`` Adam steps (0 to skip), starting from step 2.

    Parameters
    ----------
    x, y : numpy.ndarray
        Training inputs (n, d) and targets (n,).
    k : int
        First-layer width (the dimension of ``span(W*)`` if known).
    head_steps, joint_steps : int
        Adam steps of stages 2 and 3 (cosine schedule), >= 1 and >= 0.
    lr : float
        Adam learning rate of both stages.
    width : int
        Units of layer 3.
    x_test, y_test : numpy.ndarray, optional
        A test set, evaluated after each stage.
    seed : int or numpy.random.Generator
        Initialisation of layers 2 and 3.

    Returns
    -------
    (LayerwiseNet, dict)
        The trained network, and ``{"layer-wise": (train MSE, test MSE), "joint": (...)}``
        (test MSE None without a test set; "joint" only when ``joint_steps > 0``).

    References
    ----------
    Dandi et al. (2025), arXiv:2502.13961, the layer-wise procedure (their theorem uses fresh samples
    for each layer; here every stage reuses the same ``n`` samples).

    Examples
    --------
    >>> t = target(8, 2, seed=0)
    >>> x, y = t.sample(1000, seed=1)
    >>> net, errors = fit_layerwise(x, y, 2, head_steps=50, joint_steps=50)
    >>> sorted(errors), errors["joint"][0] < 0.5 * float(np.var(y))
    (['joint', 'layer-wise'], True)
    """
    x, y = _check_xy(x, y)
    head_steps, joint_steps, lr = _check_stages(head_steps, joint_steps, lr)
    if (x_test is None) != (y_test is None):
        raise ValueError("give both x_test and y_test, or neither")
    test = None if x_test is None else _check_xy(x_test, y_test)
    net = _layerwise_start(x, y, k, width, seed)
    xt, yt = torch.tensor(x, dtype=torch.float32), torch.tensor(y, dtype=torch.float32)[:, None]
    settings = dict(lr=lr, schedule="cosine", progress=False, device="cpu")
    if test is not None:
        settings.update(x_test=test[0].astype(np.float32), y_test=test[1].astype(np.float32)[:, None])
    errors: dict[str, tuple[float, float | None]] = {}
    net.w1.requires_grad_(False)
    h = train(net, xt, yt, steps=head_steps, eval_every=head_steps, **settings)
    errors["layer-wise"] = (h.final_train_loss, h.final_test_loss)
    net.w1.requires_grad_(True)
    if joint_steps:
        h = train(net, xt, yt, steps=joint_steps, eval_every=joint_steps, **settings)
        errors["joint"] = (h.final_train_loss, h.final_test_loss)
    return net, errors


def _check_stages(head_steps: int, joint_steps: int, lr: float) -> tuple[int, int, float]:
    return (check_size("head_steps", head_steps), check_size("joint_steps", joint_steps, minimum=0),
            check_positive("lr", lr))


def _layerwise_start(x: np.ndarray, y: np.ndarray, k: int, width: int, seed: int | np.random.Generator) -> LayerwiseNet:
    # stage 1 (the spectral first layer) and the closed-form start of layer 2: ridge regression of y on the
    # standardised monomials, the resulting unit scaled to unit variance
    net = LayerwiseNet(spectral_first_layer(x, y, k), x, width, seed=seed)
    xt, yt = torch.tensor(x, dtype=torch.float32), torch.tensor(y, dtype=torch.float32)
    with torch.no_grad():
        phi = ((net._monomials(xt @ net.w1.T) - net.mean) / net.std).double()  # (n, features)
        gram = phi.T @ phi / len(y) + 1e-3 * torch.eye(net.n_features, dtype=torch.float64)
        c = torch.linalg.solve(gram, phi.T @ (yt.double() - yt.mean()) / len(y))
        net.c.copy_((c / (phi @ c).std()).float())
    return net


def _mse(net: nn.Module, x: np.ndarray, y: np.ndarray) -> float:
    return evaluate(net, x, np.asarray(y)[:, None], device="cpu")  # y: (n,), the networks' outputs: (n, 1)


def fit_layerwise_side_by_side(
    data: list[tuple[np.ndarray, np.ndarray]],
    k: int,
    *,
    seeds: list[int],
    tests: list[tuple[np.ndarray, np.ndarray]] | None = None,
    head_steps: int = 200,
    joint_steps: int = 200,
    lr: float = 1e-2,
    width: int = 16,
) -> list[tuple[LayerwiseNet, dict[str, tuple[float, float | None]]]]:
    """:func:`fit_layerwise` for several data sets at once: the same stages, trained side by side.

    Network ``i`` is built and started exactly as ``fit_layerwise(*data[i], k, seed=seeds[i])`` builds it
    (spectral first layer, ridge start of layer 2); stages 2 and 3 are full-batch Adam on each network's own
    data, run for all the networks together by :func:`train_side_by_side`. Each network follows the steps it
    would follow alone, up to float rounding: the objective is the sum of the networks' mean squared errors,
    and Adam acts entry by entry.

    Parameters
    ----------
    data : list of (numpy.ndarray, numpy.ndarray)
        One training set ``(x, y)`` per network, ``x`` of shape (n_i, d) (the same ``d`` for all), ``y`` of shape (n_i,).
    k : int
        First-layer width.
    seeds : list of int
        One initialisation seed per network (``fit_layerwise``'s ``seed``).
    tests : list of (numpy.ndarray, numpy.ndarray), optional
        One test set per network, evaluated after each stage.
    head_steps, joint_steps, lr, width
        As in :func:`fit_layerwise`.

    Returns
    -------
    list of (LayerwiseNet, dict)
        What :func:`fit_layerwise` returns, one pair per data set, in order.

    References
    ----------
    Dandi et al. (2025), arXiv:2502.13961, the layer-wise procedure.

    Examples
    --------
    >>> t = target(8, 2, seed=0)
    >>> fits = fit_layerwise_side_by_side([t.sample(500, seed=1), t.sample(1000, seed=2)], 2, seeds=[0, 1],
    ...                                   head_steps=50, joint_steps=50)
    >>> len(fits), sorted(fits[1][1])
    (2, ['joint', 'layer-wise'])
    """
    if not isinstance(data, (list, tuple)) or len(data) == 0:
        raise TypeError(f"data must be a non-empty list of (x, y) pairs, got {type(data).__name__}")
    pairs = []
    for i, pair in enumerate(data):
        if not isinstance(pair, (list, tuple)) or len(pair) != 2:
            raise TypeError(f"data[{i}] must be an (x, y) pair")
        pairs.append(_check_xy(*pair))
    if not isinstance(seeds, (list, tuple)) or len(seeds) != len(pairs):
        raise TypeError(f"seeds must be a list of {len(pairs)} seeds, one per data set, got {seeds!r}")
    if tests is not None and (not isinstance(tests, (list, tuple)) or len(tests) != len(pairs)):
        raise TypeError(f"tests must be None or a list of {len(pairs)} (x, y) pairs, one per data set")
    tests = None if tests is None else [_check_xy(*pair) for pair in tests]
    head_steps, joint_steps, lr = _check_stages(head_steps, joint_steps, lr)
    nets = [_layerwise_start(x, y, k, width, seed) for (x, y), seed in zip(pairs, seeds)]
    errors: list[dict[str, tuple[float, float | None]]] = [{} for _ in nets]

    def record(stage: str) -> None:
        for i, net in enumerate(nets):
            errors[i][stage] = (_mse(net, *pairs[i]), None if tests is None else _mse(net, *tests[i]))

    for net in nets:
        net.w1.requires_grad_(False)
    train_side_by_side(nets, pairs, steps=head_steps, batch_size=None, lr=lr)
    record("layer-wise")
    for net in nets:
        net.w1.requires_grad_(True)
    if joint_steps:
        train_side_by_side(nets, pairs, steps=joint_steps, batch_size=None, lr=lr)
        record("joint")
    return list(zip(nets, errors))


def kernel_ridge_rbf(
    x: np.ndarray, y: np.ndarray, x_test: np.ndarray, ridges: list[float] | tuple[float, ...], bandwidth: float | None = None
) -> np.ndarray:
    """Gaussian-kernel ridge regression, in closed form, for several ridge parameters at once.

    ``K(x, x') = exp(-||x - x'||^2 / (2 s^2))`` with ``s^2 = bandwidth`` (default ``d``, the typical
    half squared distance between two Gaussian points); prediction
    ``K(x_test, X) (K(X, X) + lambda I)^{-1} y`` for each ``lambda`` in ``ridges`` (a Cholesky solve each).

    Parameters
    ----------
    x, y : numpy.ndarray
        Training inputs (n, d) and targets (n,).
    x_test : numpy.ndarray
        Test inputs (m, d).
    ridges : sequence of float
        Ridge parameters ``lambda > 0``.
    bandwidth : float, optional
        ``s^2 > 0``.

    Returns
    -------
    numpy.ndarray
        Predictions, shape (len(ridges), m).

    References
    ----------
    B. Schölkopf, A. Smola, *Learning with Kernels* (2002), ch. 4; a shallow baseline of Dandi et al. (2025).

    Examples
    --------
    >>> x = np.linspace(-1, 1, 30)[:, None]
    >>> kernel_ridge_rbf(x, np.sin(x[:, 0]), np.array([[0.5]]), [1e-6], bandwidth=0.1).round(3)
    array([[0.479]])
    """
    x, y = _check_xy(x, y)
    x_test = check_points("x_test", x_test, x.shape[1])
    if isinstance(ridges, (str, bytes)) or not hasattr(ridges, "__len__") or len(ridges) == 0:
        raise TypeError(f"ridges must be a non-empty sequence of positive floats, got {ridges!r}")
    ridges = [check_positive("ridges[i]", r) for r in ridges]
    s2 = float(x.shape[1]) if bandwidth is None else check_positive("bandwidth", bandwidth)

    xs, ts, ys = (torch.tensor(v, dtype=torch.float64) for v in (x, x_test, y))
    gram = torch.exp(-torch.cdist(xs, xs) ** 2 / (2 * s2))  # (n, n)
    cross = torch.exp(-torch.cdist(ts, xs) ** 2 / (2 * s2))  # (m, n)
    eye = torch.eye(len(y), dtype=torch.float64)
    # one Cholesky solve per ridge (torch's LAPACK: several times faster here than numpy's for n ~ 2000)
    out = [cross @ torch.cholesky_solve(ys[:, None], torch.linalg.cholesky(gram + r * eye))[:, 0] for r in ridges]
    return torch.stack(out).numpy()


class ProjectedMLP(nn.Module):
    """A ReLU network that sees ``x`` only through ``k`` linear features: ``x -> z = W1 x -> DeepNet(z)``.

    With ``W1`` from :func:`spectral_first_layer` it has the same first layer as :class:`LayerwiseNet`
    (``k`` linear units at the spectral estimate of ``span(W*)``, trained further with the rest), but a
    generic middle: ``depth`` hidden layers of ``width`` ReLU units instead of the exact degree-1-3
    polynomial layer. ``depth=1`` is a two-layer network whose first-layer weights are confined to a
    ``k``-dimensional span; ``depth=2`` a three-layer one.

    Parameters
    ----------
    w1 : numpy.ndarray
        Initial first layer, shape (k, d).
    width : int
        Units of each ReLU layer, >= 1.
    depth : int
        Number of ReLU layers, >= 1.
    seed : int or numpy.random.Generator
        Initialisation of the ReLU layers (as :class:`~cosp_helpers.networks.DeepNet`).

    References
    ----------
    Dandi et al. (2025), arXiv:2502.13961, section 2: after the first layer has learned ``W*``, a two-layer
    network is a random-feature model of ``z = W* x``; a three-layer one can also learn ``h*``.

    Examples
    --------
    >>> net = ProjectedMLP(np.eye(4, 32), width=16, depth=2, seed=0)
    >>> net(torch.zeros(5, 32)).shape, sum(p.numel() for p in net.parameters()) == 4 * 32 + 5 * 16 + 17 * 16 + 17
    (torch.Size([5, 1]), True)
    """

    def __init__(self, w1: np.ndarray, width: int = 64, depth: int = 1, *, seed: int | np.random.Generator = 0) -> None:
        super().__init__()
        w1 = _as_matrix("w1", w1)
        width = check_size("width", width)
        depth = check_size("depth", depth)
        check_allocation("width and depth", width, width, depth)
        self.w1 = nn.Parameter(torch.tensor(w1, dtype=torch.float32))  # (k, d)
        self.head = DeepNet(w1.shape[0], width, depth, seed=seed)  # k -> width -> ... -> 1

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(x @ self.w1.T)  # (n, k) -> (n, 1)


_SIDE_BY_SIDE = "DeepNet, ShallowNet, ProjectedMLP or LayerwiseNet"


def _check_models(models: object) -> list[nn.Module]:
    if not isinstance(models, (list, tuple)) or len(models) == 0:
        raise TypeError(f"models must be a non-empty list of {_SIDE_BY_SIDE}, got {type(models).__name__}")
    for i, m in enumerate(models):
        if not isinstance(m, (DeepNet, ProjectedMLP, LayerwiseNet)):
            raise TypeError(f"models[{i}] must be a {_SIDE_BY_SIDE}, got {type(m).__name__}")

    def signature(m: nn.Module) -> tuple:
        # class, parameter names, shapes and trainability, activation: what the stacked forward pass relies on
        head = m.head if isinstance(m, ProjectedMLP) else m
        return (type(m) is LayerwiseNet, isinstance(m, ProjectedMLP), getattr(head, "activation", None),
                [(name, tuple(p.shape), p.requires_grad) for name, p in m.named_parameters()])

    first = signature(models[0])
    for i, m in enumerate(models):
        if signature(m) != first:
            raise ValueError(f"models must share one architecture (and the same frozen parameters); models[{i}] differs from models[0]")
    if len({id(m) for m in models}) != len(models):
        raise ValueError("models must be distinct modules (the same module appears twice)")
    if not any(p.requires_grad for p in models[0].parameters()):
        raise ValueError("models have no trainable parameters")
    return list(models)


def _stacked(models: list[nn.Module]) -> dict[str, torch.Tensor]:
    # every parameter and buffer of the members, stacked along a new first axis (members, *shape), as fresh
    # tensors; the parameters the members train are leaves that require grad
    states = [dict(m.named_parameters()) | dict(m.named_buffers()) for m in models]
    trained = {name for name, p in models[0].named_parameters() if p.requires_grad}
    return {name: torch.stack([s[name].detach() for s in states]).requires_grad_(name in trained) for name in states[0]}


def _stacked_forward(model: nn.Module, p: dict[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    # x (members, batch, d) -> (members, batch, 1): every member's network at once, by batched products;
    # `model` (one of the members) supplies the architecture, `p` the stacked parameters
    if isinstance(model, LayerwiseNet):
        return _layerwise_apply(p, model._index, x)
    prefix = ""
    if isinstance(model, ProjectedMLP):
        x = torch.bmm(x, p["w1"].transpose(1, 2))  # (members, batch, k)
        model, prefix = model.head, "head."
    activation = {"relu": torch.relu, "tanh": torch.tanh, "softplus": nn.functional.softplus}[model.activation]
    depth = len(model.layers)
    for j in range(depth):
        weight, bias = p[f"{prefix}layers.{j}.weight"], p[f"{prefix}layers.{j}.bias"]  # (members, out, in), (members, out)
        x = torch.baddbmm(bias[:, None, :], x, weight.transpose(1, 2))  # (members, batch, out)
        if j < depth - 1:
            x = activation(x)
    return x


def _batch_rows(lengths: list[int], steps: int, batch_size: int, root: int) -> np.ndarray:
    # (steps, members, batch_size) row indices: member i walks through fresh permutations of its n_i rows, drawn from
    # the stream [root, i], and skips an epoch's last incomplete batch. Drawn before training, in one place.
    rows = np.empty((steps, len(lengths), batch_size), dtype=np.int64)
    for i, n in enumerate(lengths):
        stream = np.random.default_rng([root, i])
        order, position = stream.permutation(n), 0
        for step in range(steps):
            if position + batch_size > n:  # epoch done: reshuffle
                order, position = stream.permutation(n), 0
            rows[step, i] = order[position : position + batch_size]
            position += batch_size
    return rows


def train_side_by_side(
    models: list[nn.Module] | list[list[nn.Module]],
    data: list[tuple[np.ndarray, np.ndarray]],
    *,
    steps: int,
    batch_size: int | None = 128,
    lr: float = 1e-2,
    weight_decay: float | list[float] = 0.0,
    seed: int | np.random.Generator = 0,
) -> list[float] | list[list[float]]:
    """Train several networks, each on its own data, with Adam, in place, in one batched computation.

    Network ``i`` takes ``steps`` Adam steps on batches of ``batch_size`` rows of ``data[i]`` (a fresh
    permutation of its rows each epoch; a last incomplete batch is skipped), or on all its rows at every step
    (``batch_size=None``, full batch), with learning rate ``lr`` decaying to 0 on a half cosine and L2 weight
    decay ``weight_decay``. Parameters with ``requires_grad=False`` stay fixed. Network ``i``'s batches depend on
    ``seed`` and ``i`` only.

    ``models`` is one *family* (a list of networks of one architecture, network ``i`` for ``data[i]``) or a list
    of families of different architectures, each as long as ``data``, with one ``weight_decay`` per family: network
    ``i`` of every family then sees the same batches, those of ``data[i]``. Each family's parameters are stacked
    along a new first axis and evaluated together by batched matrix products (full batch: one batched evaluation
    per distinct number of rows), and all families share one loop, one backward pass and one Adam update. The
    loss is the sum of the networks' mean squared errors; since each network's parameters enter only its own
    term and Adam acts entry by entry, every network follows the steps it would follow alone (up to the rounding
    of the batched products).

    Parameters
    ----------
    models : list of networks, or list of lists of networks
        DeepNet, ShallowNet, ProjectedMLP or LayerwiseNet; within a family the same architecture and the same
        frozen parameters. Their parameters are overwritten with the trained values.
    data : list of (numpy.ndarray, numpy.ndarray)
        One ``(x, y)`` per network of a family: ``x`` of shape (n_i, d), ``y`` of shape (n_i,) or (n_i, 1),
        n_i >= batch_size.
    steps : int
        Adam steps, >= 1.
    batch_size : int or None
        Rows per step and network, >= 1; None for full batch.
    lr : float
        Initial learning rate, > 0.
    weight_decay : float, or list of float (one per family)
        L2 coefficient (Adam's ``weight_decay``), >= 0.
    seed : int or numpy.random.Generator
        Drives the batches.

    Returns
    -------
    list of float, or list of lists of float
        Each network's final mean squared error on its whole training set (a list per family when ``models``
        is a list of families).

    References
    ----------
    D. P. Kingma, J. Ba, "Adam: a method for stochastic optimization", ICLR 2015.

    Examples
    --------
    >>> t = target(8, 2, seed=0)
    >>> data = [t.sample(256, seed=s) for s in (1, 2)]
    >>> nets = [DeepNet(8, 16, 2, seed=s) for s in (1, 2)]
    >>> losses = train_side_by_side(nets, data, steps=200, batch_size=64)
    >>> len(losses), all(loss < float(np.var(data[0][1])) for loss in losses)
    (2, True)
    >>> wide, narrow = [DeepNet(8, 32, 1, seed=s) for s in (1, 2)], [DeepNet(8, 4, 1, seed=s) for s in (1, 2)]
    >>> [len(f) for f in train_side_by_side([wide, narrow], data, steps=50, batch_size=64, weight_decay=[0.0, 1e-3])]
    [2, 2]
    """
    several = isinstance(models, (list, tuple)) and len(models) > 0 and all(isinstance(f, (list, tuple)) for f in models)
    families = [_check_models(f) for f in models] if several else [_check_models(models)]
    members = len(families[0])
    if not isinstance(data, (list, tuple)) or any(len(f) != len(data) for f in families):
        raise TypeError(f"data must be a list of (x, y) pairs, one per model of a family ({members}), got {type(data).__name__}"
                        + (f" of length {len(data)}" if isinstance(data, (list, tuple)) else ""))
    steps = check_int("steps", steps, minimum=1, maximum=10**6)
    if batch_size is not None:
        batch_size = check_int("batch_size", batch_size, minimum=1)
    lr = check_positive("lr", lr)
    decays = list(weight_decay) if isinstance(weight_decay, (list, tuple)) else [weight_decay] * len(families)
    if len(decays) != len(families):
        raise ValueError(f"weight_decay must be one number or one per family ({len(families)}), got {weight_decay!r}")
    decays = [check_real("weight_decay", value) for value in decays]
    if min(decays) < 0:
        raise ValueError(f"weight_decay must be >= 0, got {weight_decay}")
    root = int(as_generator(seed).integers(2**62))
    pairs = []
    for i, pair in enumerate(data):
        if not isinstance(pair, (list, tuple)) or len(pair) != 2:
            raise TypeError(f"data[{i}] must be an (x, y) pair")
        x, y = _check_xy(*pair)
        if batch_size is not None and len(y) < batch_size:
            raise ValueError(f"data[{i}] has {len(y)} rows, fewer than batch_size = {batch_size}")
        if pairs and x.shape[1] != pairs[0][0].shape[1]:
            raise ValueError(f"data[{i}] has {x.shape[1]} columns, data[0] has {pairs[0][0].shape[1]}")
        pairs.append((x, y))
    d = pairs[0][0].shape[1]
    if batch_size is None:
        # full batch: the members with the same number of rows form one group, evaluated as one stacked network
        # on its members' data (no padding); each group sees its members' slices of the stacked parameters
        groups = []
        for n in sorted({len(y) for _, y in pairs}):
            chosen = [i for i, (_, y) in enumerate(pairs) if len(y) == n]
            xg = torch.stack([torch.as_tensor(pairs[i][0], dtype=torch.float32) for i in chosen])  # (group, n, d)
            yg = torch.stack([torch.as_tensor(pairs[i][1], dtype=torch.float32) for i in chosen])[..., None]  # (group, n, 1)
            groups.append((None if len(chosen) == members else torch.tensor(chosen), xg, yg))
    else:
        # mini-batches: the rows of every step, drawn up front, as indices into the members' data padded to the longest
        longest = max(len(y) for _, y in pairs)
        flat_x, flat_y = torch.zeros(members * longest, d), torch.zeros(members * longest, 1)
        for i, (x, y) in enumerate(pairs):
            flat_x[i * longest : i * longest + len(y)] = torch.as_tensor(x, dtype=torch.float32)
            flat_y[i * longest : i * longest + len(y), 0] = torch.as_tensor(y, dtype=torch.float32)
        rows = _batch_rows([len(y) for _, y in pairs], steps, batch_size, root)
        rows = torch.from_numpy(rows + longest * np.arange(members)[None, :, None]).reshape(steps, -1)

    stacks = [_stacked(f) for f in families]
    # one Adam per family, for its own weight decay: the fused update of torch.optim.Adam(fused=True) with one
    # parameter group per family, without torch.optim's wrappers (they import torch._dynamo; see training._Optimizer)
    optimizers = [
        _Optimizer("adam", [t for t in p.values() if t.requires_grad], momentum=0.0, weight_decay=wd) for p, wd in zip(stacks, decays)
    ]
    for step in range(steps):
        for opt in optimizers:
            opt.zero_grad()
        if batch_size is None:
            batches = groups
        else:
            xb = flat_x.index_select(0, rows[step]).view(members, batch_size, d)  # (members, batch, d)
            batches = [(None, xb, flat_y.index_select(0, rows[step]).view(members, batch_size, 1))]
        loss = 0.0
        for family, p in zip(families, stacks):
            for chosen, xb, yb in batches:
                part = p if chosen is None else {name: t.index_select(0, chosen) for name, t in p.items()}
                loss = loss + ((_stacked_forward(family[0], part, xb) - yb) ** 2).mean(dim=(1, 2)).sum()
        if not torch.isfinite(loss):
            raise FloatingPointError(f"the training loss became {float(loss)}; lower lr (now {lr:g})")
        loss.backward()
        for opt in optimizers:
            opt.step(lr * _lr_factor(step, steps, "cosine"))
    with torch.no_grad():
        for family, p in zip(families, stacks):
            for i, model in enumerate(family):
                for name, value in model.named_parameters():
                    value.copy_(p[name][i])
    losses = [[_mse(model, x, y) for model, (x, y) in zip(family, pairs)] for family in families]
    return losses if several else losses[0]


def preactivations(model: nn.Module, x: np.ndarray | torch.Tensor) -> list[np.ndarray]:
    """The pre-activations of every ReLU layer of a :class:`DeepNet`/:class:`ShallowNet` or :class:`ProjectedMLP`.

    Layer ``j`` gives ``a_j = W_j r_{j-1} + b_j`` with ``r_0`` the network's input (``x``, or ``z = W1 x`` for
    a :class:`ProjectedMLP`) and ``r_j = relu(a_j)``. ``a_2`` is what Dandi et al. call ``h_2(x)``: the
    second layer's pre-activations, the quantity their theorem shows to align with ``h*``.

    Parameters
    ----------
    model : DeepNet, ShallowNet or ProjectedMLP
        With ReLU activations.
    x : numpy.ndarray or torch.Tensor
        Inputs, shape (n, d).

    Returns
    -------
    list of numpy.ndarray
        One (n, width) float64 array per hidden layer, first layer first.

    Examples
    --------
    >>> net = DeepNet(3, width=4, depth=2, seed=0)
    >>> a = preactivations(net, np.ones((5, 3)))
    >>> len(a), a[1].shape
    (2, (5, 4))
    """
    head = model.head if isinstance(model, ProjectedMLP) else model
    if not isinstance(head, DeepNet) or head.activation != "relu":
        raise TypeError(f"model must be a ReLU DeepNet, ShallowNet or ProjectedMLP, got {type(model).__name__}")
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu().numpy()
    d = model.w1.shape[1] if isinstance(model, ProjectedMLP) else head.n_inputs
    x = check_points("x", x, d)
    out = []
    with torch.no_grad():
        r = torch.tensor(x, dtype=torch.float32)
        if isinstance(model, ProjectedMLP):
            r = r @ model.w1.T  # (n, k)
        for layer in head.layers[:-1]:
            a = layer(r)  # (n, width)
            out.append(a.double().numpy())
            r = torch.relu(a)
    return out


def probe_correlation(features: np.ndarray, target: np.ndarray, *, ridge: float = 1e-8) -> float:
    """How well a linear read-out of ``features`` reproduces ``target``, measured on held-out rows.

    The rows are split in two halves: an affine least-squares fit (with a ridge ``ridge`` relative to the
    features' scale) on the first half, and the Pearson correlation between the fit and ``target`` on the
    second half. 1 means the features carry ``target`` linearly; about 0 means they carry nothing of it. A
    held-out half keeps a wide layer from scoring by fitting noise.

    Parameters
    ----------
    features : numpy.ndarray
        Shape (n, p), n >= 2 (p + 2).
    target : numpy.ndarray
        Shape (n,), not constant on either half.
    ridge : float
        >= 0.

    Returns
    -------
    float in [-1, 1]

    Examples
    --------
    >>> z = np.random.default_rng(0).normal(size=(1000, 3))
    >>> round(probe_correlation(z, z @ [1.0, -2.0, 0.5] + 3), 6)
    1.0
    """
    f = check_array("features", features, ndim=2, allow_empty=False)
    t = check_array("target", target, ndim=1, allow_empty=False)
    if len(t) != len(f):
        raise ValueError(f"target must have {len(f)} entries to match features, got {len(t)}")
    ridge = check_real("ridge", ridge)
    if ridge < 0:
        raise ValueError(f"ridge must be >= 0, got {ridge}")
    half = len(t) // 2
    if half < f.shape[1] + 2:
        raise ValueError(f"features needs at least 2 (p + 2) = {2 * (f.shape[1] + 2)} rows for p = {f.shape[1]} columns, got {len(t)}")
    design = np.concatenate([f, np.ones((len(t), 1))], axis=1)  # (n, p + 1)
    fit, held = design[:half], design[half:]
    if np.std(t[:half]) == 0 or np.std(t[half:]) == 0:
        raise ValueError("target must not be constant on either half of the rows")
    gram = fit.T @ fit / half
    gram += ridge * np.trace(gram) / gram.shape[0] * np.eye(gram.shape[0])
    coef = np.linalg.solve(gram, fit.T @ t[:half] / half)
    prediction = held @ coef
    if np.std(prediction) == 0:
        return 0.0
    return float(np.corrcoef(prediction, t[half:])[0, 1])


def best_unit_correlation(features: np.ndarray, target: np.ndarray) -> float:
    """The largest ``|Pearson correlation|`` between one column of ``features`` and ``target``.

    For ``features`` = a layer's pre-activations this is the best single unit's alignment with ``target``:
    the quantity (per unit, as a cosine) that Dandi et al. plot as the overlap ``M_h`` of ``h_2`` with ``h*``.
    Constant columns count as 0.

    Parameters
    ----------
    features : numpy.ndarray
        Shape (n, p), n >= 2.
    target : numpy.ndarray
        Shape (n,), not constant.

    Returns
    -------
    float in [0, 1]

    Examples
    --------
    >>> t = np.array([1.0, 2.0, 3.0, 4.0])
    >>> round(best_unit_correlation(np.stack([t**0, -2 * t, np.array([1.0, -1, 1, -1])], axis=1), t), 12)
    1.0
    """
    f = check_array("features", features, ndim=2, allow_empty=False)
    t = check_array("target", target, ndim=1, allow_empty=False)
    if len(t) != len(f) or len(t) < 2:
        raise ValueError(f"target must have {len(f)} >= 2 entries to match features, got {len(t)}")
    tc = t - t.mean()
    if not np.any(tc):
        raise ValueError("target must not be constant")
    fc = f - f.mean(axis=0)  # (n, p)
    norms = np.linalg.norm(fc, axis=0) * np.linalg.norm(tc)
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = np.where(norms > 0, np.abs(tc @ fc) / np.where(norms > 0, norms, 1.0), 0.0)
    return float(min(1.0, corr.max()))
