"""Linear associative memories and attention as a soft look-up table.

Convention (as in CBMM Memo 138, §7, where the memory solves ``A X = Y``): the ``P`` keys are the
**columns** of ``X`` (shape ``(d, P)``), the values the columns of ``Y`` (shape ``(m, P)``), queries the
columns of ``Q`` (shape ``(d, T)``). A memory is a matrix ``A`` (shape ``(m, d)``); recall is ``A q``.

* Keys: :func:`unit_keys` (uniform on the unit sphere) and :func:`correlated_keys` (Gaussian keys
  sharing one direction, pairwise inner products ``rho`` on average).
* Memories: :func:`correlation_memory` (``A = Y X^T``, the outer-product rule) and
  :func:`pseudoinverse_memory` (``A = Y X^+``, the minimum-norm least-squares solution of ``A X = Y``);
  :func:`recall_error` measures them.
* Predictions: :func:`crosstalk_variance` (the correlation memory's recall error, exact in expectation)
  and :func:`least_squares_error` (the pseudo-inverse memory's, past ``P = d``).
* Attention as a soft look-up: :func:`lookup_weights` (softmax of ``beta q . x_j`` over the keys),
  :func:`soft_lookup`, :func:`hard_lookup`, and :func:`expected_leak`, the mean weight a stored key's
  query leaks to the other keys.
* :func:`summary` is the compute function of the notebook's explorer.

References
----------
CBMM Memo 138 (Poggio 2023), §7 "Transformers as associative memories" and §6.10; T. Poggio, "It is
Compositional Sparsity", §5.2 and §8.1. T. Kohonen, "Correlation matrix memories", IEEE Trans. Computers
C-21 (1972); T. Kohonen, *Associative Memory: A System-Theoretical Approach* (Springer 1977) for the
pseudo-inverse ("optimal") memory. A. Vaswani et al., "Attention is all you need", NeurIPS 2017.
H. Ramsauer et al., "Hopfield networks is all you need", ICLR 2021.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
from scipy import linalg, special

from ._checks import as_generator, check_allocation, check_int, check_positive, check_real, check_real_array, check_size

__all__ = [
    "unit_keys",
    "correlated_keys",
    "correlation_memory",
    "pseudoinverse_memory",
    "recall_error",
    "crosstalk_variance",
    "least_squares_error",
    "lookup_weights",
    "soft_lookup",
    "hard_lookup",
    "expected_leak",
    "summary",
]


def _matrix(name: str, a: object, rows: int | None = None, cols: int | None = None) -> np.ndarray:
    """A finite real 2-D float array, optionally with a given number of rows / columns."""
    a = check_real_array(name, a)
    if a.ndim != 2 or a.shape[0] < 1 or a.shape[1] < 1:
        raise ValueError(f"{name} must be a non-empty 2-D array, got shape {a.shape}")
    if rows is not None and a.shape[0] != rows:
        raise ValueError(f"{name} must have {rows} rows, got shape {a.shape}")
    if cols is not None and a.shape[1] != cols:
        raise ValueError(f"{name} must have {cols} columns, got shape {a.shape}")
    return a


def _pairs(keys: object, values: object) -> tuple[np.ndarray, np.ndarray]:
    x = _matrix("keys", keys)
    y = _matrix("values", values, cols=x.shape[1])
    return x, y


# --- keys -----------------------------------------------------------------------------------------


def unit_keys(d: int, n_pairs: int, seed: int | np.random.Generator = 0) -> np.ndarray:
    """``n_pairs`` independent keys drawn uniformly on the unit sphere of ``R^d``, as columns.

    Parameters
    ----------
    d : int
        Dimension of a key (>= 1).
    n_pairs : int
        Number of keys ``P`` (>= 1).
    seed : int or numpy.random.Generator
        Source of randomness.

    Returns
    -------
    numpy.ndarray
        Shape ``(d, n_pairs)``; every column has norm 1.

    References
    ----------
    CBMM Memo 138, §7: "noise-like" keys.

    Examples
    --------
    >>> x = unit_keys(8, 5, seed=1)
    >>> x.shape, bool(np.allclose(np.linalg.norm(x, axis=0), 1.0))
    ((8, 5), True)
    """
    d = check_size("d", d)
    n = check_size("n_pairs", n_pairs)
    check_allocation("d and n_pairs", d, n)
    g = as_generator(seed).standard_normal((d, n))  # (d, P); a normalised Gaussian is uniform on the sphere
    return g / np.linalg.norm(g, axis=0)


def correlated_keys(d: int, n_pairs: int, rho: float, seed: int | np.random.Generator = 0) -> np.ndarray:
    """Gaussian keys sharing one direction: ``x_j = sqrt(rho) u + sqrt(1 - rho) g_j``.

    ``u`` is a random unit vector (common to all keys), ``g_j ~ N(0, I_d / d)`` independent. Then
    ``E |x_j|^2 = 1`` and ``E x_i . x_j = rho`` for ``i != j``; ``rho = 0`` gives independent Gaussian keys.

    Parameters
    ----------
    d : int
        Dimension of a key (>= 1).
    n_pairs : int
        Number of keys ``P`` (>= 1).
    rho : float
        Mean pairwise inner product, in ``[0, 1)``.
    seed : int or numpy.random.Generator
        Source of randomness.

    Returns
    -------
    numpy.ndarray
        Shape ``(d, n_pairs)``.

    References
    ----------
    CBMM Memo 138, §7 (the correlation memory needs noise-like, i.e. nearly uncorrelated, keys).

    Examples
    --------
    >>> x = correlated_keys(400, 300, 0.5, seed=0)
    >>> gram = x.T @ x
    >>> round(float(gram[np.triu_indices(300, 1)].mean()), 1), round(float(np.diag(gram).mean()), 1)
    (0.5, 1.0)
    """
    d = check_size("d", d)
    n = check_size("n_pairs", n_pairs)
    check_allocation("d and n_pairs", d, n)
    rho = check_real("rho", rho)
    if not 0.0 <= rho < 1.0:
        raise ValueError(f"rho must be in [0, 1), got {rho}")
    rng = as_generator(seed)
    u = rng.standard_normal(d)
    u /= np.linalg.norm(u)  # (d,), the shared direction
    g = rng.standard_normal((d, n)) / math.sqrt(d)  # (d, P), E|g_j|^2 = 1
    return math.sqrt(rho) * u[:, None] + math.sqrt(1.0 - rho) * g


# --- memories -------------------------------------------------------------------------------------


def correlation_memory(keys: np.ndarray, values: np.ndarray) -> np.ndarray:
    """The correlation (outer-product) memory ``A = Y X^T = sum_j y_j x_j^T``.

    Recall of a stored key is ``A x_k = y_k |x_k|^2 + sum_{j != k} y_j (x_j . x_k)``: exact for orthonormal
    keys, otherwise corrupted by crosstalk (see :func:`crosstalk_variance`).

    Parameters
    ----------
    keys : numpy.ndarray
        ``X``, shape ``(d, P)``, one key per column.
    values : numpy.ndarray
        ``Y``, shape ``(m, P)``, one value per column.

    Returns
    -------
    numpy.ndarray
        ``A``, shape ``(m, d)``.

    References
    ----------
    CBMM Memo 138, §7 (``A = Y X^T`` for noise-like ``X``); T. Kohonen (1972), correlation matrix memories.

    Examples
    --------
    >>> x, y = np.eye(3)[:, :2], np.array([[1.0, 2.0]])
    >>> correlation_memory(x, y) @ x  # orthonormal keys: exact recall
    array([[1., 2.]])
    """
    x, y = _pairs(keys, values)
    return y @ x.T  # (m, P) @ (P, d) -> (m, d)


def pseudoinverse_memory(keys: np.ndarray, values: np.ndarray) -> np.ndarray:
    """The pseudo-inverse memory ``A = Y X^+``: the minimum-norm least-squares solution of ``A X = Y``.

    With independent keys and ``P <= d``, ``X^+ = (X^T X)^{-1} X^T`` and recall is exact, ``A X = Y``. With
    ``rank X = d <= P``, ``X^+ = X^T (X X^T)^{-1}`` (the form of memo eq. 10) and ``A`` minimises
    ``|A X - Y|_F``. It is computed from the smaller of the two Gram matrices by a Cholesky solve (fast,
    for the explorer); if that Gram matrix is singular (dependent keys) it falls back to
    :func:`numpy.linalg.pinv`, which is the minimum-norm solution in every case.

    Parameters
    ----------
    keys : numpy.ndarray
        ``X``, shape ``(d, P)``.
    values : numpy.ndarray
        ``Y``, shape ``(m, P)``.

    Returns
    -------
    numpy.ndarray
        ``A``, shape ``(m, d)``.

    References
    ----------
    CBMM Memo 138, §7, eq. (10); T. Kohonen, *Associative Memory* (1977) (the "optimal" linear memory).

    Examples
    --------
    >>> x = unit_keys(6, 4, seed=0); y = np.arange(8.0).reshape(2, 4)
    >>> bool(np.allclose(pseudoinverse_memory(x, y) @ x, y))  # P = 4 <= d = 6: exact recall
    True
    """
    x, y = _pairs(keys, values)
    d, p = x.shape
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", linalg.LinAlgWarning)  # an ill-conditioned Gram matrix: use the SVD
            if p <= d:  # A = Y (X^T X)^{-1} X^T
                return linalg.solve(x.T @ x, y.T, assume_a="pos").T @ x.T  # (P, P) solve -> (m, P) @ (P, d)
            return linalg.solve(x @ x.T, x @ y.T, assume_a="pos").T  # A = Y X^T (X X^T)^{-1}, a (d, d) solve
    except (linalg.LinAlgError, linalg.LinAlgWarning):
        return y @ np.linalg.pinv(x)  # (m, P) @ (P, d)


def recall_error(memory: np.ndarray, keys: np.ndarray, values: np.ndarray) -> float:
    """Relative squared recall error ``|A X - Y|_F^2 / |Y|_F^2`` over the stored pairs.

    For values with i.i.d. zero-mean components this is (up to the fluctuation of ``|Y|_F^2``) the error
    variance per component divided by the value variance.

    Parameters
    ----------
    memory : numpy.ndarray
        ``A``, shape ``(m, d)``.
    keys : numpy.ndarray
        ``X``, shape ``(d, P)``; the queries (stored keys, possibly perturbed).
    values : numpy.ndarray
        ``Y``, shape ``(m, P)``; the values that should come back.

    Returns
    -------
    float
        ``>= 0``; 0 is perfect recall, 1 is what the zero memory achieves.

    References
    ----------
    CBMM Memo 138, §7.

    Examples
    --------
    >>> x = np.eye(2); y = np.array([[1.0, 1.0]])
    >>> recall_error(np.zeros((1, 2)), x, y), recall_error(y @ x.T, x, y)
    (1.0, 0.0)
    """
    a = _matrix("memory", memory)
    x, y = _pairs(keys, values)
    if a.shape != (y.shape[0], x.shape[0]):
        raise ValueError(f"memory must have shape (m, d) = {(y.shape[0], x.shape[0])} for these keys and values, got {a.shape}")
    norm = float(np.sum(y**2))
    if norm == 0.0:
        raise ValueError("values must not be all zero (the relative error is undefined)")
    return float(np.sum((a @ x - y) ** 2)) / norm


def crosstalk_variance(n_pairs: int, d: int, rho: float = 0.0, keys: str = "unit") -> float:
    """Expected recall error of the correlation memory, per value component and in units of the value variance.

    For stored key ``x_k`` the error is ``y_k (|x_k|^2 - 1) + sum_{j != k} y_j (x_j . x_k)``. With values
    independent of the keys, zero mean and variance ``s^2`` per component, the terms are uncorrelated and

    * ``keys="unit"`` (:func:`unit_keys`, ``rho`` must be 0): ``E (x_j . x_k)^2 = 1/d``, so the variance is
      ``s^2 (P - 1) / d``;
    * ``keys="correlated"`` (:func:`correlated_keys`): ``E (x_j . x_k)^2 = rho^2 + (1 - rho^2)/d`` and
      ``E (|x_k|^2 - 1)^2 = 2 (1 - rho^2)/d``, so the variance is ``s^2 [(P + 1)(1 - rho^2)/d + (P - 1) rho^2]``.

    Both are exact expectations (no large-``d`` approximation).

    Parameters
    ----------
    n_pairs : int
        ``P`` >= 1.
    d : int
        Key dimension >= 1.
    rho : float
        Mean pairwise inner product of the keys, in ``[0, 1)``; must be 0 for ``keys="unit"``.
    keys : {"unit", "correlated"}
        The key distribution.

    Returns
    -------
    float
        The predicted :func:`recall_error` of :func:`correlation_memory`.

    References
    ----------
    CBMM Memo 138, §7 (``A = Y X^T`` when ``X`` is noise-like); the derivation is in notebook 11.

    Examples
    --------
    >>> crosstalk_variance(65, 256)
    0.25
    >>> crosstalk_variance(10, 100, rho=0.0, keys="correlated")  # Gaussian keys: norms fluctuate too
    0.11
    """
    p = check_int("n_pairs", n_pairs, minimum=1)
    d = check_int("d", d, minimum=1)
    rho = check_real("rho", rho)
    if not 0.0 <= rho < 1.0:
        raise ValueError(f"rho must be in [0, 1), got {rho}")
    if keys == "unit":
        if rho != 0.0:
            raise ValueError(f"rho must be 0 for keys='unit' (use keys='correlated'), got {rho}")
        return (p - 1) / d
    if keys == "correlated":
        return (p + 1) * (1.0 - rho**2) / d + (p - 1) * rho**2
    raise ValueError(f"keys must be 'unit' or 'correlated', got {keys!r}")


def least_squares_error(n_pairs: int, d: int) -> float:
    """Expected recall error of the pseudo-inverse memory: ``max(0, 1 - d/P)``.

    ``A X = Y X^+ X`` projects each row of ``Y`` onto the row space of ``X``, of dimension ``min(d, P)``
    for keys in general position. For values with i.i.d. zero-mean components the expected fraction of
    ``|Y|_F^2`` left outside is ``(P - min(d, P)) / P``: 0 up to ``P = d``, then ``1 - d/P``.

    Parameters
    ----------
    n_pairs : int
        ``P`` >= 1.
    d : int
        Key dimension >= 1.

    Returns
    -------
    float
        The predicted :func:`recall_error` of :func:`pseudoinverse_memory`.

    References
    ----------
    CBMM Memo 138, §7, eq. (10) (the least-squares memory).

    Examples
    --------
    >>> least_squares_error(32, 64), least_squares_error(256, 64)
    (0.0, 0.75)
    """
    p = check_int("n_pairs", n_pairs, minimum=1)
    d = check_int("d", d, minimum=1)
    return max(0.0, 1.0 - d / p)


# --- attention as a soft look-up ------------------------------------------------------------------


def lookup_weights(queries: np.ndarray, keys: np.ndarray, beta: float = 1.0) -> np.ndarray:
    """Attention weights: for each query ``q``, ``softmax_j(beta q . x_j)`` over the keys.

    ``beta`` is the inverse temperature: ``beta -> 0`` gives uniform weights (a blend of all values),
    ``beta -> inf`` puts all weight on the most similar key (an exact look-up).

    Parameters
    ----------
    queries : numpy.ndarray
        ``Q``, shape ``(d, T)``, one query per column.
    keys : numpy.ndarray
        ``X``, shape ``(d, P)``.
    beta : float
        Inverse temperature, > 0 and finite.

    Returns
    -------
    numpy.ndarray
        Shape ``(T, P)``, one row per query (as the attention matrix ``softmax(Q K^T)``); rows sum to 1.

    References
    ----------
    CBMM Memo 138, §7 (the soft look-up) and §6.10 (``Q``, ``K``, ``V``); Vaswani et al. (2017).

    Examples
    --------
    >>> x = np.eye(3)
    >>> w = lookup_weights(x[:, :1], x, beta=50.0)
    >>> w.round(6), float(w.sum())
    (array([[1., 0., 0.]]), 1.0)
    """
    x = _matrix("keys", keys)
    q = _matrix("queries", queries, rows=x.shape[0])
    beta = check_positive("beta", beta)
    scores = beta * (q.T @ x)  # (T, P)
    scores -= scores.max(axis=1, keepdims=True)  # stable softmax: the largest score becomes 0
    w = np.exp(scores)
    return w / w.sum(axis=1, keepdims=True)


def soft_lookup(queries: np.ndarray, keys: np.ndarray, values: np.ndarray, beta: float = 1.0) -> np.ndarray:
    """Softmax attention read-out: ``sum_j softmax_j(beta q . x_j) y_j`` for each query.

    A kernel smoother (Nadaraya--Watson) with the kernel ``exp(beta q . x)``; with the linear kernel
    ``q . x`` and no normalisation it would be the correlation memory ``Y X^T q``.

    Parameters
    ----------
    queries : numpy.ndarray
        ``Q``, shape ``(d, T)``.
    keys : numpy.ndarray
        ``X``, shape ``(d, P)``.
    values : numpy.ndarray
        ``Y``, shape ``(m, P)``.
    beta : float
        Inverse temperature, > 0.

    Returns
    -------
    numpy.ndarray
        Shape ``(m, T)``, one retrieved value per query.

    References
    ----------
    CBMM Memo 138, §7 ("we sum up the value of each object proportional to the compatibility").

    Examples
    --------
    >>> x = np.eye(2); y = np.array([[0.0, 10.0]])
    >>> soft_lookup(x[:, :1], x, y, beta=1e-9).round(6)  # very hot: the mean of the values
    array([[5.]])
    """
    x, y = _pairs(keys, values)
    return y @ lookup_weights(queries, x, beta).T  # (m, P) @ (P, T) -> (m, T)


def hard_lookup(queries: np.ndarray, keys: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Exact look-up: the value of the key with the largest inner product with each query.

    Parameters
    ----------
    queries : numpy.ndarray
        ``Q``, shape ``(d, T)``.
    keys : numpy.ndarray
        ``X``, shape ``(d, P)``.
    values : numpy.ndarray
        ``Y``, shape ``(m, P)``.

    Returns
    -------
    numpy.ndarray
        Shape ``(m, T)``; ties go to the first key.

    References
    ----------
    CBMM Memo 138, §7 (the look-up table that attention softens).

    Examples
    --------
    >>> x = np.eye(2); y = np.array([[0.0, 10.0]])
    >>> hard_lookup(np.array([[0.2], [0.9]]), x, y)
    array([[10.]])
    """
    x, y = _pairs(keys, values)
    q = _matrix("queries", queries, rows=x.shape[0])
    return y[:, np.argmax(q.T @ x, axis=1)]


def expected_leak(n_pairs: int, d: int, beta: float) -> float:
    """Upper bound on the mean weight a stored key leaks to the others, for :func:`unit_keys`.

    Query with a stored unit key ``x_k``: the weight on it is ``1 / (1 + S)`` with
    ``S = sum_{j != k} exp(beta (x_j . x_k - 1))``, so the leak ``1 - w_k = S / (1 + S) <= S``. For keys
    uniform on the sphere ``x_j . x_k`` has density proportional to ``(1 - c^2)^{(d-3)/2}``, whose moment
    generating function is ``Gamma(d/2) (2/beta)^nu I_nu(beta)``, ``nu = d/2 - 1``. Hence
    ``E[leak] <= E[S] = (P - 1) Gamma(d/2) (2/beta)^nu e^{-beta} I_nu(beta)``, with near equality when it
    is small. For ``beta`` much smaller than ``d`` it is close to ``(P - 1) exp(-beta + beta^2 / (2d))``.

    Parameters
    ----------
    n_pairs : int
        ``P`` >= 1.
    d : int
        Key dimension >= 2.
    beta : float
        Inverse temperature, > 0.

    Returns
    -------
    float
        ``E[S]``.

    References
    ----------
    CBMM Memo 138, §7 (soft look-up); H. Ramsauer et al. (2021) for the retrieval error of softmax
    (modern Hopfield) memories.

    Examples
    --------
    >>> round(expected_leak(512, 128, 10.0), 4)
    0.0342
    """
    p = check_int("n_pairs", n_pairs, minimum=1)
    d = check_int("d", d, minimum=2)
    beta = check_positive("beta", beta)
    # Gamma(d/2) (2/beta)^nu I_nu(beta) = 0F1(; d/2; beta^2/4), the series sum_k (beta^2/4)^k / (k! (d/2)_k)
    mgf = special.hyp0f1(d / 2.0, beta**2 / 4.0)
    if math.isfinite(mgf):
        return float((p - 1) * mgf * math.exp(-beta))
    nu = d / 2.0 - 1.0  # very large beta: the same in logs, with ive(nu, b) = I_nu(b) e^{-b} (no overflow)
    log_mgf = special.gammaln(d / 2.0) + nu * math.log(2.0 / beta) + math.log(special.ive(nu, beta))
    return (p - 1) * math.exp(log_mgf)


# --- the explorer's compute -----------------------------------------------------------------------


def summary(
    n_pairs: int, d: int, rho: float, beta: float = 20.0, m: int = 32, seed: int | np.random.Generator = 0
) -> dict[str, object]:
    """Store ``n_pairs`` pairs with :func:`correlated_keys` and measure three memories' recall errors.

    Parameters
    ----------
    n_pairs : int
        ``P`` in ``1..1024``.
    d : int
        Key dimension in ``2..256``.
    rho : float
        Key correlation in ``[0, 1)``.
    beta : float
        Inverse temperature of the softmax look-up, > 0.
    m : int
        Value dimension in ``1..256``; values are standard Gaussian.
    seed : int or numpy.random.Generator
        Source of randomness.

    Returns
    -------
    dict
        ``errors`` (dict: ``correlation``, ``pseudo-inverse``, ``softmax`` measured :func:`recall_error`),
        ``predicted`` (dict: ``correlation`` from :func:`crosstalk_variance`, ``pseudo-inverse`` from
        :func:`least_squares_error`), ``similarities`` (the off-diagonal ``x_i . x_j``), ``norms2``
        (``|x_j|^2``), and the inputs ``n_pairs``, ``d``, ``rho``, ``beta``.

    References
    ----------
    CBMM Memo 138, §7.

    Examples
    --------
    >>> s = summary(16, 64, 0.0)
    >>> s["errors"]["pseudo-inverse"] < 1e-20, abs(s["errors"]["correlation"] - s["predicted"]["correlation"]) < 0.15
    (True, True)
    """
    p = check_int("n_pairs", n_pairs, minimum=1, maximum=1024)
    d = check_int("d", d, minimum=2, maximum=256)
    m = check_int("m", m, minimum=1, maximum=256)
    rng = as_generator(seed)
    x = correlated_keys(d, p, rho, seed=rng)  # checks rho
    y = rng.standard_normal((m, p))
    gram = x.T @ x  # (P, P)
    errors = {
        "correlation": recall_error(correlation_memory(x, y), x, y),
        "pseudo-inverse": recall_error(pseudoinverse_memory(x, y), x, y),
        "softmax": float(np.sum((soft_lookup(x, x, y, beta) - y) ** 2) / np.sum(y**2)),
    }
    predicted = {
        "correlation": crosstalk_variance(p, d, rho, keys="correlated"),
        "pseudo-inverse": least_squares_error(p, d),
    }
    return {
        "errors": errors,
        "predicted": predicted,
        "similarities": gram[np.triu_indices(p, 1)],
        "norms2": np.diag(gram).copy(),
        "n_pairs": p,
        "d": d,
        "rho": float(rho),
        "beta": float(beta),
    }
