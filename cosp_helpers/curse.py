"""The curse of dimensionality in numbers: counts that explode with d, and concentration of measure.

Exact counts (grid cells, monomials, table sizes, parameters ``eps**(-d/s)``) and the closed forms
of volume and distance concentration, with Monte Carlo estimators to check them against.

References
----------
CBMM Memo 138, section 6.3.1 (the 10^1000-bit table) and 6.5 (``W = O(eps^{-d/s})``);
DeVore, Howard & Micchelli (1989); Beyer, Goldstein, Ramakrishnan & Shaft (1999).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from ._checks import (
    as_generator,
    check_allocation,
    check_array,
    check_exact_power,
    check_int,
    check_open_interval,
    check_positive,
    check_size,
)

__all__ = [
    "params_for_accuracy",
    "grid_cells",
    "monomial_count",
    "table_bits_log10",
    "cube_shell_fraction",
    "ball_shell_fraction",
    "ball_to_cube_ratio",
    "distance_cv",
    "relative_contrast",
    "DistanceStats",
    "distance_statistics",
    "BallEstimate",
    "monte_carlo_ball",
    "summary",
]

def _cells_per_axis(eps: float) -> int:
    return math.ceil(1.0 / eps - 1e-9)  # e.g. 1 / (1 - 0.9) is 10.000000000000002 in floating point


def params_for_accuracy(eps: float, d: int, s: float = 1.0) -> float:
    """Parameters needed for accuracy ``eps`` on a ``d``-variable function with ``s`` derivatives.

    ``W = eps**(-d/s)``: the rate, with its constant set to 1, of the curse of dimensionality for
    the Sobolev ball ``W^s`` on ``[0, 1]^d`` (memo 6.5; lower bound for continuous parameter
    selection by DeVore, Howard & Micchelli 1989). Beyond ``1e300`` the float64 result would overflow
    and a ``ValueError`` is raised: the count's log10, ``-d/s log10(eps)``, is ``summary(...)["log10_params"]``.

    Parameters
    ----------
    eps : float
        Target accuracy, ``0 < eps < 1``.
    d : int
        Number of variables, ``d >= 1``.
    s : float
        Smoothness (number of bounded derivatives), ``s > 0``.

    Examples
    --------
    >>> params_for_accuracy(0.1, d=2, s=1)
    100.0
    >>> params_for_accuracy(0.1, d=10, s=10)
    10.0
    """
    eps = check_open_interval("eps", eps, 0.0, 1.0)
    d = check_int("d", d, minimum=1)
    s = check_positive("s", s)
    log10 = -d / s * math.log10(eps)
    if log10 > 300:
        raise ValueError(f"d = {d} with eps = {eps:g} and s = {s:g} gives eps**(-d/s) = 10^{log10:.6g} parameters, which "
                         "overflows float64 (values beyond 1e300 are refused); its log10 is -d/s * log10(eps), "
                         "as summary() returns")
    return float(round(10.0**log10, 9))


def grid_cells(eps: float, d: int) -> int:
    """Number of cubes of side at most ``eps`` needed to tile ``[0, 1]^d``: ``ceil(1/eps)**d``.

    Parameters
    ----------
    eps : float
        Side of a cell, ``0 < eps <= 1``.
    d : int
        Dimension, ``d >= 1``; the count may have at most ``2**24`` bits (``d log2 ceil(1/eps) <= 2**24``,
        e.g. ``d <= 5_050_445`` for ``eps = 0.1``): larger exact integers take too long to build, and
        :func:`table_bits_log10` or :func:`summary` give their logarithm.

    Returns
    -------
    int
        An exact (possibly huge) Python integer.

    Examples
    --------
    >>> grid_cells(0.1, 3)
    1000
    >>> len(str(grid_cells(0.1, 1000)))  # 10^1000 cells: 1001 digits
    1001
    """
    eps = check_open_interval("eps", eps, 0.0, 1.0, closed_right=True)
    d = check_int("d", d, minimum=1)
    per_axis = _cells_per_axis(eps)
    check_exact_power(f"d = {d} and eps = {eps:g}", per_axis, d, "the number of cells ceil(1/eps)**d")
    return per_axis**d


def monomial_count(d: int, k: int) -> int:
    """Number of monomials of degree at most ``k`` in ``d`` variables: ``C(d + k, k)``.

    It is the dimension of the space of polynomials of degree ``<= k`` on ``R^d``.

    Examples
    --------
    >>> monomial_count(2, 2)  # 1, x, y, x^2, xy, y^2
    6
    >>> monomial_count(100, 3)
    176851
    """
    d = check_int("d", d, minimum=1)
    k = check_int("k", k, minimum=0)
    return math.comb(d + k, k)


def table_bits_log10(d: int, levels: int = 10, bits_per_entry: float = 1.0) -> float:
    """log10 of the bits in a look-up table of a function of ``d`` variables, each cut into ``levels``.

    A table with one entry per cell of the grid has ``levels**d`` entries; at ``bits_per_entry``
    bits each it needs ``levels**d * bits_per_entry`` bits (memo 6.3.1: ``d = 1000`` and ten levels
    already need ``10^1000`` bits, against about ``10^80`` protons in the universe).

    Examples
    --------
    >>> table_bits_log10(1000, levels=10)
    1000.0
    >>> round(table_bits_log10(20, levels=2, bits_per_entry=8), 3)  # 2^20 bytes = 1 MiB
    6.924
    """
    d = check_int("d", d, minimum=1)
    levels = check_int("levels", levels, minimum=2)
    bits_per_entry = check_positive("bits_per_entry", bits_per_entry)
    return d * math.log10(levels) + math.log10(bits_per_entry)


def cube_shell_fraction(eps: float, d: int) -> float:
    """Fraction of the unit cube's volume within ``eps`` of its boundary: ``1 - (1 - 2 eps)^d``.

    Examples
    --------
    >>> cube_shell_fraction(0.25, 1)
    0.5
    >>> cube_shell_fraction(0.01, 1000) > 0.999999  # almost everything is near the boundary
    True
    """
    eps = check_open_interval("eps", eps, 0.0, 0.5, closed_right=True)
    d = check_int("d", d, minimum=1)
    return 1.0 - (1.0 - 2.0 * eps) ** d


def ball_shell_fraction(eps: float, d: int) -> float:
    """Fraction of the unit ball's volume within ``eps`` of its sphere: ``1 - (1 - eps)^d``.

    Examples
    --------
    >>> ball_shell_fraction(0.5, 2)
    0.75
    >>> ball_shell_fraction(0.1, 100) > 0.9999
    True
    """
    eps = check_open_interval("eps", eps, 0.0, 1.0, closed_right=True)
    d = check_int("d", d, minimum=1)
    return 1.0 - (1.0 - eps) ** d


def ball_to_cube_ratio(d: int) -> float:
    """Volume of the unit ball over that of its enclosing cube ``[-1, 1]^d``: ``pi^{d/2} / (Gamma(d/2+1) 2^d)``.

    Computed through ``lgamma`` so that it stays accurate for large ``d``.

    Examples
    --------
    >>> round(ball_to_cube_ratio(2), 6)  # pi / 4
    0.785398
    >>> ball_to_cube_ratio(20) < 1e-7
    True
    """
    d = check_int("d", d, minimum=1)
    log_ratio = 0.5 * d * math.log(math.pi) - math.lgamma(0.5 * d + 1) - d * math.log(2.0)
    return math.exp(log_ratio)


def distance_cv(d: int) -> float:
    """Leading-order coefficient of variation of the distance between two uniform points of ``[0,1]^d``.

    With ``Z = x - y`` per coordinate, ``E Z^2 = 1/6`` and ``Var Z^2 = 1/15 - 1/36 = 7/180``; the
    squared distance has mean ``d/6`` and variance ``7d/180``, and the delta method gives
    ``std(D)/E(D) ~ sqrt(7 / (20 d))``, with a relative correction of order ``1/d``.

    Examples
    --------
    >>> round(distance_cv(7), 4)
    0.2236
    """
    d = check_int("d", d, minimum=1)
    return math.sqrt(7.0 / (20.0 * d))


def relative_contrast(distances: np.ndarray) -> float:
    """``(max - min) / min`` of a set of distances from one query (Beyer et al. 1999).

    Parameters
    ----------
    distances : numpy.ndarray, shape (n,)
        At least two positive distances.

    Examples
    --------
    >>> relative_contrast(np.array([1.0, 2.0, 4.0]))
    3.0
    """
    distances = check_array("distances", distances)
    if distances.ndim != 1 or distances.size < 2:
        raise ValueError(f"distances must be a 1-D array of at least 2 values, got shape {distances.shape}")
    if not np.all(distances > 0):
        raise ValueError("distances must all be > 0 (a query coincides with a point)")
    return float((distances.max() - distances.min()) / distances.min())


class DistanceStats(NamedTuple):
    """Distances from random queries to random points in ``[0, 1]^d`` (see :func:`distance_statistics`).

    Examples
    --------
    >>> DistanceStats(d=2, mean=0.5, cv=0.4, contrast=10.0).cv
    0.4
    """

    d: int
    mean: float  # mean distance
    cv: float  # standard deviation / mean, pooled over queries
    contrast: float  # mean over queries of (max - min) / min


def distance_statistics(d: int, n_points: int = 1000, n_queries: int = 20, seed: int | np.random.Generator = 0) -> DistanceStats:
    """Sample ``n_points`` and ``n_queries`` uniform points in ``[0, 1]^d`` and summarise their distances.

    ``d``, ``n_points`` and ``n_queries`` are at most ``2**24`` each, and the arrays of points ``(n_points, d)``,
    queries ``(n_queries, d)`` and distances ``(n_queries, n_points)`` at most ``2**28`` numbers each.

    Examples
    --------
    >>> stats = distance_statistics(50, n_points=500, n_queries=10, seed=1)
    >>> abs(stats.cv / distance_cv(50) - 1) < 0.1
    True
    """
    d = check_size("d", d)
    n_points = check_size("n_points", n_points, minimum=2)
    n_queries = check_size("n_queries", n_queries)
    check_allocation("n_points and d", n_points, d)
    check_allocation("n_queries and d", n_queries, d)
    check_allocation("n_queries and n_points", n_queries, n_points)
    rng = as_generator(seed)
    points = rng.random((n_points, d))  # (P, d)
    queries = rng.random((n_queries, d))  # (Q, d)
    sq = (queries**2).sum(1)[:, None] + (points**2).sum(1)[None, :] - 2.0 * queries @ points.T  # (Q, P)
    dist = np.sqrt(np.maximum(sq, 1e-300))  # every entry > 0 and finite: relative_contrast row by row, at once
    nearest, farthest = dist.min(axis=1), dist.max(axis=1)
    contrast = float(np.mean((farthest - nearest) / nearest))
    return DistanceStats(d=d, mean=float(dist.mean()), cv=float(dist.std() / dist.mean()), contrast=contrast)


class BallEstimate(NamedTuple):
    """Monte Carlo estimates, with standard errors, of the ball/cube ratio and the shell fraction.

    Examples
    --------
    >>> est = monte_carlo_ball(1, eps=0.5, n_samples=1000)
    >>> est.ratio, est.ratio_se, est.hits  # in d = 1 the "ball" [-1, 1] is the whole cube
    (1.0, 0.0, 1000)
    """

    d: int
    ratio: float
    ratio_se: float
    shell: float  # fraction of the ball's points within eps of the sphere
    shell_se: float
    hits: int  # number of samples that fell in the ball


def monte_carlo_ball(d: int, eps: float, n_samples: int = 200_000, seed: int | np.random.Generator = 0) -> BallEstimate:
    """Estimate the ball/cube volume ratio and the ball's shell fraction from uniform samples of ``[-1, 1]^d``.

    A sample is in the ball if its norm is at most 1, and in the shell if, moreover, its norm
    exceeds ``1 - eps``. Standard errors are binomial: ``sqrt(p (1 - p) / n)``. No formula for the
    ball is used, so the estimates check :func:`ball_to_cube_ratio` and :func:`ball_shell_fraction`.
    ``d`` and ``n_samples`` are at most ``2**24``, and ``n_samples * d`` (the uniform numbers drawn, in chunks)
    at most ``2**28``.

    Examples
    --------
    >>> est = monte_carlo_ball(2, eps=0.5, n_samples=100_000, seed=0)
    >>> abs(est.ratio - ball_to_cube_ratio(2)) < 4 * est.ratio_se
    True
    """
    d = check_size("d", d)
    eps = check_open_interval("eps", eps, 0.0, 1.0, closed_right=True)
    n_samples = check_size("n_samples", n_samples)
    check_allocation("n_samples and d", n_samples, d)  # drawn in chunks, but all of them drawn
    rng = as_generator(seed)
    norms = np.empty(n_samples)
    chunk = max(1, 2_000_000 // d)  # bounded memory: at most ~16 MB per chunk
    for start in range(0, n_samples, chunk):
        stop = min(n_samples, start + chunk)
        x = rng.uniform(-1.0, 1.0, size=(stop - start, d))  # (chunk, d)
        norms[start:stop] = np.sqrt((x * x).sum(1))
    inside = norms <= 1.0
    hits = int(inside.sum())
    ratio = hits / n_samples
    shell = float(np.mean(norms[inside] > 1.0 - eps)) if hits else math.nan
    shell_se = math.sqrt(shell * (1 - shell) / hits) if hits else math.nan
    return BallEstimate(d, ratio, math.sqrt(ratio * (1 - ratio) / n_samples), shell, shell_se, hits)


def _log10_comb(n: int, k: int) -> float:
    """``log10 C(n, k)``: exact while ``C(n, k)`` has at most about a million bits, through ``lgamma`` beyond
    (``math.comb`` of a ``2**24``-bit result would take minutes)."""
    log10 = (math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)) / math.log(10)
    return math.log10(math.comb(n, k)) if log10 < 300_000 else log10


def summary(d: int, s: float, eps: float) -> dict[str, object]:
    """Everything the curse-of-dimensionality widget shows, for one choice of ``d``, ``s`` and ``eps``.

    Returns log10 counts, so that nothing overflows: parameters ``eps^{-d/s}``, grid cells
    ``ceil(1/eps)^d``, monomials of degree ``ceil(1/eps)``, and the curve ``d' -> log10 W(d')`` for
    ``d' = 1..max(d, 100)`` at the same ``s`` and ``eps`` (``d`` at most ``2**24``, the length of that curve).

    Examples
    --------
    >>> out = summary(d=4, s=2, eps=0.01)
    >>> out["log10_params"], out["log10_grid_cells"]
    (4.0, 8.0)
    """
    d = check_size("d", d)
    check_positive("s", s)
    eps = check_open_interval("eps", eps, 0.0, 1.0)
    degree = _cells_per_axis(eps)
    dims = np.arange(1, max(d, 100) + 1)
    return {
        "d": d,
        "s": s,
        "eps": eps,
        "log10_params": round(-d / s * math.log10(eps), 9),
        "log10_grid_cells": d * math.log10(degree),
        "log10_monomials": _log10_comb(d + degree, degree),
        "dims": dims,
        "log10_params_curve": -dims / s * math.log10(eps),
    }
