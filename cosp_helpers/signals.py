"""Translation-invariant, image-like signals: non-linear Gaussian processes on a ring of pixels.

The data of notebook 09, in the style of Ingrosso & Goldt (2022): a Gaussian process with a
translation-invariant covariance on a ring of ``d`` pixels, passed through the pointwise
nonlinearity ``erf(g z) / Z``, which makes it non-Gaussian (patches of nearly +-1 with sharp edges)
while keeping a covariance known in closed form. The Gaussian control has that same covariance and
nothing beyond it.

* :func:`periodic_covariance` -- the covariance ``exp(-dist(i, j)^2 / xi^2)`` on the ring;
* :func:`nlgp_covariance` -- the covariance after the nonlinearity (the arcsine formula);
* :func:`symmetric_sqrt` -- the basis-independent square root the samplers use;
* :func:`nlgp_samples` -- signals of one correlation length, non-Gaussian or the Gaussian control;
* :func:`nlgp_dataset` -- two balanced classes that differ only in correlation length.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.special import erf

from ._checks import as_generator, check_allocation, check_bool, check_int, check_positive, check_size

__all__ = ["nlgp_covariance", "nlgp_dataset", "nlgp_samples", "periodic_covariance", "symmetric_sqrt"]


# --- data: non-linear Gaussian processes on a ring ---------------------------------------------


def periodic_covariance(d: int, xi: float) -> np.ndarray:
    """The translation-invariant covariance ``C_ij = exp(-dist(i, j)^2 / xi^2)`` on a ring of ``d`` pixels.

    ``dist(i, j) = min(|i - j|, d - |i - j|)`` is the distance around the ring, so the matrix is
    circulant: every pixel sees the same neighbourhood (translation invariance, periodic boundary).
    Wrapping the distance can make a few eigenvalues slightly negative when ``xi`` is not small
    against ``d`` (of order ``exp(-(d/2)^2 / xi^2)``); the samplers clip them to 0.

    Parameters
    ----------
    d : int
        Number of pixels, >= 2.
    xi : float
        Correlation length in pixels, > 0.

    Returns
    -------
    numpy.ndarray, shape (d, d)
        Unit diagonal.

    References
    ----------
    A. Ingrosso, S. Goldt, "Data-driven emergence of convolutional structure in neural networks",
    PNAS 119 (2022).

    Examples
    --------
    >>> C = periodic_covariance(6, 1.0)
    >>> C[0, :4].round(4).tolist()  # exp(0), exp(-1), exp(-4), exp(-9)
    [1.0, 0.3679, 0.0183, 0.0001]
    >>> bool(C[0, 1] == C[0, 5] == C[3, 4])  # the ring: pixel 5 is a neighbour of pixel 0
    True
    """
    d = check_size("d", d, minimum=2)
    check_allocation("d", d, d)
    xi = check_positive("xi", xi)
    i = np.arange(d)
    gap = np.abs(i[:, None] - i[None, :])
    dist = np.minimum(gap, d - gap)
    return np.exp(-(dist**2) / xi**2)


def _erf_norm(gain: float) -> float:
    # Var erf(g z) for z ~ N(0, 1) is (2/pi) arcsin(2 g^2 / (1 + 2 g^2)); Z is its square root
    return math.sqrt(2 / math.pi * math.asin(2 * gain**2 / (1 + 2 * gain**2)))


def nlgp_covariance(d: int, xi: float, gain: float) -> np.ndarray:
    """Covariance of the non-linear Gaussian process ``x = erf(g z) / Z``, ``z ~ N(0, C)``, in closed form.

    For jointly Gaussian ``z_i, z_j`` with unit variances and correlation ``c``,
    ``E[erf(g z_i) erf(g z_j)] = (2/pi) arcsin(2 g^2 c / (1 + 2 g^2))``; ``Z`` normalises the
    variances to 1. A Gaussian vector with this covariance is the *Gaussian control*: same
    second-order statistics, none of the higher-order ones.

    Parameters
    ----------
    d : int
        Number of pixels, >= 2.
    xi : float
        Correlation length of ``z`` (see :func:`periodic_covariance`), > 0.
    gain : float
        The gain ``g`` > 0; large gains push ``x`` towards ``sign(z)``, far from Gaussian.

    Returns
    -------
    numpy.ndarray, shape (d, d)
        Unit diagonal, circulant.

    References
    ----------
    A. Ingrosso, S. Goldt, PNAS 119 (2022); C. K. I. Williams, "Computing with infinite networks",
    NeurIPS 1997 (the arcsine formula).

    Examples
    --------
    >>> S = nlgp_covariance(8, 2.0, gain=3.0)
    >>> float(S[0, 0]), bool(np.all(S[0, 1:5] < periodic_covariance(8, 2.0)[0, 1:5]))
    (1.0, True)
    """
    gain = check_positive("gain", gain)
    C = periodic_covariance(d, xi)
    return (2 / math.pi) * np.arcsin(2 * gain**2 * C / (1 + 2 * gain**2)) / _erf_norm(gain) ** 2


def symmetric_sqrt(cov: np.ndarray) -> np.ndarray:
    """The symmetric positive semidefinite square root ``S`` of a covariance, ``S @ S = cov``, ``S = S.T``.

    Unlike ``V diag(sqrt(lambda))`` built from the eigenvectors ``V`` (or a Cholesky factor of a
    singular matrix), ``S = V diag(sqrt(lambda)) V.T`` does not depend on which basis the eigensolver
    returns inside a repeated eigenvalue: it is a sum of ``sqrt(lambda)`` times the projector onto each
    eigenspace, and those projectors are unique. A circulant covariance on a ring has its eigenvalues
    in equal pairs (the cosine and sine of each frequency), so the eigenvector factor would change
    from one LAPACK build to another, and with it every sample; the symmetric root changes only by
    rounding. Negative eigenvalues from rounding are clipped to 0.

    Parameters
    ----------
    cov : numpy.ndarray, shape (d, d)
        Symmetric, finite.

    Returns
    -------
    numpy.ndarray, shape (d, d)

    Examples
    --------
    >>> C = periodic_covariance(16, 1.5)  # positive definite: no eigenvalue is clipped
    >>> S = symmetric_sqrt(C)
    >>> bool(np.allclose(S @ S, C, atol=1e-12)), bool(np.array_equal(S, S.T))
    (True, True)
    """
    if not isinstance(cov, np.ndarray) or cov.ndim != 2 or cov.shape[0] != cov.shape[1]:
        raise TypeError(f"cov must be a square numpy array, got {type(cov).__name__} {getattr(cov, 'shape', '')}")
    if not np.issubdtype(cov.dtype, np.floating) or not np.all(np.isfinite(cov)):
        raise ValueError("cov must hold finite floating-point numbers")
    if not np.allclose(cov, cov.T, rtol=0, atol=1e-12 * max(1.0, float(np.abs(cov).max()))):
        raise ValueError("cov must be symmetric")
    values, vectors = np.linalg.eigh(cov)
    root = (vectors * np.sqrt(np.clip(values, 0.0, None))) @ vectors.T
    return (root + root.T) / 2  # exactly symmetric


def _gaussian(n: int, cov: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    # z = xi @ S with S the symmetric square root: basis-independent (see symmetric_sqrt)
    return rng.standard_normal((n, cov.shape[0])) @ symmetric_sqrt(cov)  # (n, d)


def nlgp_samples(
    n: int, d: int, xi: float, gain: float, seed: int | np.random.Generator = 0, gaussian: bool = False
) -> np.ndarray:
    """``n`` signals of ``d`` pixels from the non-linear Gaussian process, or from its Gaussian control.

    Parameters
    ----------
    n : int
        Number of signals, >= 1.
    d : int
        Pixels per signal, >= 2.
    xi : float
        Correlation length in pixels, > 0.
    gain : float
        Gain ``g`` > 0 of ``erf(g z) / Z``.
    seed : int or numpy.random.Generator
    gaussian : bool
        False: ``x = erf(g z) / Z`` with ``z ~ N(0, C)``. True: ``x ~ N(0, S)`` with ``S`` the
        covariance of the former (:func:`nlgp_covariance`).

    Returns
    -------
    numpy.ndarray, shape (n, d)
        Mean 0, unit variance per pixel.

    References
    ----------
    A. Ingrosso, S. Goldt, PNAS 119 (2022).

    Examples
    --------
    >>> x = nlgp_samples(4000, 16, 2.0, gain=5.0, seed=0)
    >>> bool(np.abs(x).max() <= 1 / 0.9)  # |erf| < 1, and Z > 0.9 for this gain
    True
    >>> round(float(x.var()), 1)
    1.0
    """
    n = check_size("n", n)
    check_allocation("n and d", n, check_size("d", d, minimum=2))
    check_bool("gaussian", gaussian)
    rng = as_generator(seed)
    if gaussian:
        return _gaussian(n, nlgp_covariance(d, xi, gain), rng)
    gain = check_positive("gain", gain)
    z = _gaussian(n, periodic_covariance(d, xi), rng)
    return erf(gain * z) / _erf_norm(gain)


def nlgp_dataset(
    n: int,
    d: int,
    xis: tuple[float, float],
    gain: float,
    seed: int | np.random.Generator = 0,
    gaussian: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """A balanced two-class data set: label ``c`` signals have correlation length ``xis[c]``.

    Parameters
    ----------
    n : int
        Number of signals, even, >= 2; half of each class, in random order.
    d : int
        Pixels per signal, >= 2.
    xis : pair of float
        Correlation lengths of class 0 and class 1, both > 0 and different.
    gain : float
        Gain of the non-linearity (also fixes the control's covariance).
    seed : int or numpy.random.Generator
    gaussian : bool
        Draw both classes from their Gaussian controls instead.

    Returns
    -------
    x : numpy.ndarray, shape (n, d), float32
    y : numpy.ndarray, shape (n,), int64
        Labels 0 and 1.

    References
    ----------
    A. Ingrosso, S. Goldt, PNAS 119 (2022): the task of telling two correlation lengths apart.

    Examples
    --------
    >>> x, y = nlgp_dataset(10, 8, (1.0, 3.0), gain=3.0, seed=0)
    >>> x.shape, x.dtype.name, int(y.sum())
    ((10, 8), 'float32', 5)
    """
    n = check_size("n", n, minimum=2)
    check_allocation("n and d", n, check_size("d", d, minimum=2))
    if n % 2:
        raise ValueError(f"n must be even (half of each class), got {n}")
    if not isinstance(xis, (tuple, list)) or len(xis) != 2:
        raise ValueError(f"xis must be a pair (xi0, xi1) of correlation lengths, got {xis!r}")
    xi0, xi1 = check_positive("xis[0]", xis[0]), check_positive("xis[1]", xis[1])
    if xi0 == xi1:
        raise ValueError(f"xis must hold two different correlation lengths, got {xis!r}")
    rng = as_generator(seed)
    parts = [nlgp_samples(n // 2, d, xi, gain, seed=rng, gaussian=gaussian) for xi in (xi0, xi1)]
    x = np.concatenate(parts).astype(np.float32)
    y = np.repeat(np.array([0, 1], dtype=np.int64), n // 2)
    order = rng.permutation(n)
    return x[order], y[order]
