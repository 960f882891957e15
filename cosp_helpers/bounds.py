"""Norm-based Rademacher bounds for dense, locally connected and convolutional networks, and Monte Carlo estimates of empirical Rademacher complexity.

The **empirical Rademacher complexity** of a class ``H`` of real functions on a sample ``x_1..x_m`` is

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

from ._checks import as_generator, check_array, check_int, check_open_interval, check_points, check_positive
from .convolution import extract_patches, n_patches, patch_multiplicity, toeplitz_matrix

__all__ = [
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
        Number of sign vectors, >= 2.
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
    draws = check_int("n_draws", n_draws, minimum=2)
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
      :func:`~cosp_helpers.convolution.patch_multiplicity` (equal to the linear bound without overlap);
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
        Length of the layer's input.
    n_samples : int
        Size of the white-noise sample on which the energy factor is measured.
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
    n = check_int("n_inputs", n_inputs, minimum=k)
    samples = check_int("n_samples", n_samples, minimum=1)
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
