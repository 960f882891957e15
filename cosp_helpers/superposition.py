"""Kolmogorov superposition, constructively: Köppen's inner function, the inner sums, Sprecher's outer iteration, and Vitushkin's counting.

Notation (Braun & Griebel 2009). ``n >= 2`` variables, a base ``gamma >= 2n + 2``, ``m = 2n`` so that
``q = 0, ..., 2n``; ``beta(k) = (n**k - 1) / (n - 1)``; ``D_k`` are the terminating gamma-adic points
``j * gamma**-k``; ``a = 1 / (gamma (gamma - 1))``; ``lambda_1 = 1`` and
``lambda_p = sum_{r >= 1} gamma**(-(p - 1) beta(r))``. Köppen's inner function is defined on ``D_k`` by

* ``psi_1(d) = d``;
* ``psi_k(d) = psi_{k-1}(d - i_k gamma**-k) + i_k gamma**-beta(k)`` when the last digit ``i_k < gamma - 1``;
* ``psi_k(d) = (psi_k(d - gamma**-k) + psi_{k-1}(d + gamma**-k)) / 2`` when ``i_k = gamma - 1``,

and ``psi`` is its continuous extension. The inner sums are ``xi_q(x) = sum_p lambda_p psi(x_p + q a)``, and
``f(x) = sum_q chi_q(xi_q(x))`` with outer functions ``chi_q`` that depend on ``f``.

Domain. The shifted arguments ``x_p + q a`` must stay in ``[0, 1)``, where the recursion above defines
``psi`` and where the separation of the cubes' images holds (checked in the tests; continuing ``psi`` past 1
by ``psi(x + 1) = psi(x) + 1`` makes some images overlap, also shown there). The inner sums and the outer
iteration therefore work on ``[0, 1 - m a)^n``; a function on ``[0, 1)^n`` is represented after rescaling
its arguments by ``1 - m a``.

References
----------
CBMM Memo 138, section 6.4 (Theorems 5 and 6). M. Köppen, On the training of a Kolmogorov network,
ICANN 2002. J. Braun & M. Griebel, On a constructive proof of Kolmogorov's superposition theorem,
Constr. Approx. 30 (2009). D. Sprecher, A numerical implementation of Kolmogorov's superpositions I
and II, Neural Networks 9 (1996) and 10 (1997). A. N. Kolmogorov & V. M. Tikhomirov, epsilon-entropy
and epsilon-capacity of sets in function spaces (1959). A. G. Vitushkin (1954).
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Callable, NamedTuple, Sequence

import numpy as np

from ._checks import check_array, check_exact_power, check_int, check_open_interval, check_positive
from .rates import fit_loglog_slope

__all__ = [
    "koppen_beta",
    "gamma_adic_grid",
    "gamma_adic_digits",
    "koppen_psi",
    "psi_float_depth",
    "HolderEstimate",
    "holder_exponent",
    "SuperpositionConstants",
    "constants",
    "inner_sums",
    "bad_shift_count",
    "image_separation",
    "SprecherResult",
    "sprecher_outer",
    "entropy_bits",
    "vitushkin_crossover",
    "psi_staircase",
]

_U = 2.0**-53  # unit round-off of float64
_MAX_FLOAT_GRID = 10**7  # grid points held in memory at once (80 MB of float64)
_MAX_EXACT_GRID = 10**5  # exact rational arithmetic is about 1000 times slower
# Plateaus of the outer functions are widened by _PAD on each side: a good point's xi_q lies in its image
# interval in exact arithmetic, but its float value can sit a few u outside (for q = gamma - 2 it is exactly
# the right end), where the next ramp may be steep. |xi| <= 2 and its float error is below 20 u = 2e-15, so
# 1e-13 covers it with a margin of 50; the finest image gaps float64 allows are far wider (about 5e-8).
_PAD = 1e-13


def _check_n(n: object) -> int:
    return check_int("n", n, minimum=2)


def _check_gamma(gamma: object, n: int) -> int:
    return check_int("gamma", gamma, minimum=2 * n + 2)  # gamma >= 2n + 2 (Braun & Griebel)


def _check_size(name: str, size: int, limit: int) -> None:
    if size > limit:
        raise ValueError(f"{name} would need {size:,} points; at most {limit:,} are allowed: lower k or gamma")


def _check_power_size(name: str, gamma: int, k: int, limit: int) -> None:
    """:func:`_check_size` for a grid of ``gamma**k + 1`` points, without forming ``gamma**k`` when it is huge."""
    if k * math.log10(gamma) > math.log10(limit) + 1:
        raise ValueError(f"{name} would need {gamma}**{k} + 1 points (about 10^{k * math.log10(gamma):.4g}); "
                         f"at most {limit:,} are allowed: lower k or gamma")
    _check_size(name, gamma**k + 1, limit)


# The indices j of the depth-k grid points j * gamma**-k are recovered from float64 points: exactly only while
# gamma**k <= 2**53 (and bad_shift_count's integer arithmetic, in int64, then stays below 2**63).
_MAX_GRID_INDEX = 2**53


def koppen_beta(k: int, n: int = 2) -> int:
    """The exponent ``beta(k) = (n**k - 1) / (n - 1) = 1 + n + ... + n**(k-1)`` of Köppen's increments.

    Parameters
    ----------
    k : int
        Level, ``k >= 1``; ``n**k`` may have at most ``2**24`` bits (``k log2 n <= 2**24``): larger exact
        integers take too long to build (and ``gamma**-beta(k)`` underflows float64 from ``k = 10`` on).
    n : int
        Number of variables, ``n >= 2``.

    Returns
    -------
    int

    References
    ----------
    Köppen (2002); Braun & Griebel (2009), section 2.

    Examples
    --------
    >>> [koppen_beta(k, 2) for k in range(1, 6)]
    [1, 3, 7, 15, 31]
    >>> koppen_beta(3, n=3)
    13
    """
    k = check_int("k", k, minimum=1)
    n = _check_n(n)
    check_exact_power(f"k = {k} and n = {n}", n, k, "n**k")
    return (n**k - 1) // (n - 1)


def gamma_adic_grid(k: int, gamma: int) -> np.ndarray:
    """The terminating gamma-adic points of depth ``k`` in ``[0, 1]``: ``j * gamma**-k`` for ``j = 0..gamma**k``.

    Parameters
    ----------
    k : int
        Depth, ``k >= 1``, with ``gamma**k + 1 <= 10**7`` points.
    gamma : int
        Base, ``gamma >= 2``.

    Returns
    -------
    numpy.ndarray, shape (gamma**k + 1,)

    Examples
    --------
    >>> gamma_adic_grid(1, 4).tolist()
    [0.0, 0.25, 0.5, 0.75, 1.0]
    """
    k = check_int("k", k, minimum=1)
    gamma = check_int("gamma", gamma, minimum=2)
    _check_power_size("the grid", gamma, k, _MAX_FLOAT_GRID)
    return np.arange(gamma**k + 1) / gamma**k


def gamma_adic_digits(j: int | Sequence[int] | np.ndarray, k: int, gamma: int) -> np.ndarray:
    """The base-gamma digits ``i_1 .. i_k`` of ``j * gamma**-k`` (most significant first).

    Parameters
    ----------
    j : int or array_like of int
        Indices ``0 <= j < gamma**k``.
    k : int
        Depth, ``k >= 1``, with ``gamma**(k - 1) < 2**63``: the digits are computed in int64.
    gamma : int
        Base, ``gamma >= 2``.

    Returns
    -------
    numpy.ndarray of int, shape ``(*j.shape, k)``

    Examples
    --------
    >>> gamma_adic_digits(11, 2, 6).tolist()  # 11/36 = 1/6 + 5/36
    [1, 5]
    >>> gamma_adic_digits([0, 35], 2, 6).tolist()
    [[0, 0], [5, 5]]
    """
    k = check_int("k", k, minimum=1)
    gamma = check_int("gamma", gamma, minimum=2)
    # the place values gamma**(k-1) .. 1 are int64: beyond 2**63 they would wrap around silently
    if (k - 1) * math.log2(gamma) > 64 or gamma ** (k - 1) >= 2**63:  # the logarithm first: no huge power
        raise ValueError(f"k = {k} with gamma = {gamma}: the place value gamma**(k - 1) must be < 2**63 (the digits are "
                         f"computed in int64), got about 2^{(k - 1) * math.log2(gamma):.4g}")
    arr = np.asarray(j)
    if not np.issubdtype(arr.dtype, np.integer):
        raise TypeError(f"j must hold integers, got dtype {arr.dtype}")
    if arr.size and (arr.min() < 0 or arr.max() >= gamma**k):
        raise ValueError(f"j must lie in [0, gamma**k) = [0, {gamma**k}), got values in [{arr.min()}, {arr.max()}]")
    powers = gamma ** np.arange(k - 1, -1, -1, dtype=np.int64)
    return (arr[..., None] // powers) % gamma


def koppen_psi(k: int, gamma: int, n: int = 2, exact: bool = False) -> np.ndarray:
    """Köppen's inner function ``psi_k`` at every point of :func:`gamma_adic_grid` ``(k, gamma)``.

    Level by level: a point with last digit ``i < gamma - 1`` adds ``i * gamma**-beta(k)`` to its parent;
    a point with last digit ``gamma - 1`` takes the mean of its left neighbour and the next point of the
    coarser grid (this is what makes ``psi`` continuous). ``psi_k`` agrees with ``psi_{k-1}`` on the coarser
    grid, ``psi(0) = 0`` and ``psi(1) = 1``.

    Floating point: each level adds at most ``2u`` (``u = 2**-53``) to the absolute error, so the float
    values are within ``2 k u`` of the exact ones; increments are therefore resolved while the smallest
    one, ``gamma**-beta(k)``, exceeds ``4 k u`` (see :func:`psi_float_depth`). Beyond that depth use
    ``exact=True`` to see strict monotonicity.

    Parameters
    ----------
    k : int
        Depth, ``k >= 1``; ``gamma**k`` at most ``10**7`` (``10**5`` with ``exact=True``).
    gamma : int
        Base, ``gamma >= 2n + 2``.
    n : int
        Number of variables, ``n >= 2``; it sets ``beta``.
    exact : bool
        Return :class:`fractions.Fraction` values (an object array) computed in rational arithmetic.

    Returns
    -------
    numpy.ndarray, shape (gamma**k + 1,)

    References
    ----------
    Köppen (2002); Braun & Griebel (2009), section 2, where continuity and monotonicity are proved.

    Examples
    --------
    >>> koppen_psi(1, 6).tolist() == gamma_adic_grid(1, 6).tolist()  # psi_1(d) = d
    True
    >>> koppen_psi(2, 6, exact=True)[11]  # digits (1, 5): (psi_2(1/6 + 4/36) + psi_1(2/6)) / 2
    Fraction(7, 27)
    """
    k = check_int("k", k, minimum=1)
    n = _check_n(n)
    gamma = _check_gamma(gamma, n)
    if not isinstance(exact, bool):
        raise TypeError(f"exact must be a bool, got {type(exact).__name__} {exact!r}")
    limit = _MAX_EXACT_GRID if exact else _MAX_FLOAT_GRID
    _check_power_size("koppen_psi(exact=True)" if exact else "koppen_psi", gamma, k, limit)
    if exact:
        values = np.array([Fraction(i, gamma) for i in range(gamma + 1)], dtype=object)
    else:
        values = np.arange(gamma + 1) / gamma
    for level in range(2, k + 1):
        b = koppen_beta(level, n)
        step = Fraction(1, gamma**b) if exact else float(gamma) ** -b
        parent = values[:-1]  # psi_{level-1} at the left end of each coarse cell
        new = np.empty(len(parent) * gamma + 1, dtype=values.dtype)
        for i in range(gamma - 1):  # digits 0 .. gamma-2: parent + i * step
            new[i:-1:gamma] = parent + i * step
        # digit gamma-1: the mean of the left neighbour (digit gamma-2) and the next coarse point
        new[gamma - 1 : -1 : gamma] = (parent + (gamma - 2) * step + values[1:]) / 2
        new[-1] = values[-1]
        values = new
    return values


def psi_float_depth(gamma: int, n: int = 2) -> int:
    """The deepest level ``k`` at which float64 resolves every increment of ``psi_k``.

    The smallest increment at level ``k`` is ``gamma**-beta(k)``; the float values of :func:`koppen_psi`
    are within ``2 k u`` of the exact ones, so a difference of two of them is certain to be positive when
    ``gamma**-beta(k) > 4 k u`` (``u = 2**-53``). This returns the largest such ``k``.

    Parameters
    ----------
    gamma : int
        Base, ``gamma >= 2n + 2``.
    n : int
        Number of variables, ``n >= 2``.

    Returns
    -------
    int

    Examples
    --------
    >>> psi_float_depth(6, 2)  # 6**-15 = 2e-12 is resolved, 6**-31 = 8e-25 is not
    4
    >>> psi_float_depth(8, 3)  # beta(3) = 13, beta(4) = 40
    3
    """
    n = _check_n(n)
    gamma = _check_gamma(gamma, n)
    k = 1
    while -koppen_beta(k + 1, n) * math.log(gamma) > math.log(4 * (k + 1) * _U):
        k += 1
    return k


class HolderEstimate(NamedTuple):
    """The largest increment of ``psi`` over gamma-adic intervals, level by level, and the fitted exponent.

    Examples
    --------
    >>> est = holder_exponent(5, 6)
    >>> est.levels.tolist(), round(est.predicted, 4)
    ([1, 2, 3, 4, 5], 0.3869)
    """

    levels: np.ndarray  # k = 1 .. k_max
    max_increment: np.ndarray  # M_k = max |psi(d + gamma**-k) - psi(d)| over d in D_k
    lipschitz_ratio: np.ndarray  # M_k / gamma**-k: bounded iff psi were Lipschitz
    exponent: float  # fitted slope of log M_k against log gamma**-k over k = 2 .. k_max
    predicted: float  # log_gamma 2
    bound: float  # largest possible |exponent - predicted| (from M_{k+1} = (M_k - (gamma-2) gamma**-beta(k+1)) / 2)


def holder_exponent(k_max: int, gamma: int, n: int = 2) -> HolderEstimate:
    """Estimate the Hölder exponent of Köppen's ``psi`` from its largest increments on gamma-adic grids.

    At level ``k`` the largest increment ``M_k`` over intervals of length ``gamma**-k`` obeys
    ``M_{k+1} = (M_k - (gamma - 2) gamma**-beta(k+1)) / 2``: the largest jump is split in two halves,
    minus a tiny step. So ``M_k ~ C 2**-k = C (gamma**-k)**(log_gamma 2)``: ``psi`` is Hölder with exponent
    ``log_gamma 2`` and no better, and ``M_k gamma**k`` grows like ``(gamma/2)**k``: not Lipschitz.

    The fit uses levels ``2 .. k_max``. A least-squares slope on equally spaced levels is a weighted mean of
    the level-to-level slopes, each of which differs from ``log_gamma 2`` by ``|log_gamma(1 - c_k)|`` with
    ``c_k = (gamma - 2) gamma**-beta(k+1) / M_k``; ``bound`` is the largest of these.

    Parameters
    ----------
    k_max : int
        Deepest level, ``k_max >= 3`` and ``gamma**k_max <= 10**7``.
    gamma : int
        Base, ``gamma >= 2n + 2``.
    n : int
        Number of variables, ``n >= 2``.

    Returns
    -------
    HolderEstimate

    References
    ----------
    Braun & Griebel (2009); REFERENCES.md section 2.

    Examples
    --------
    >>> est = holder_exponent(6, 6)
    >>> abs(est.exponent - est.predicted) <= est.bound + 1e-12
    True
    >>> bool(np.all(np.diff(est.lipschitz_ratio) > 0))
    True
    """
    k_max = check_int("k_max", k_max, minimum=3)
    n = _check_n(n)
    gamma = _check_gamma(gamma, n)
    _check_power_size("holder_exponent", gamma, k_max, _MAX_FLOAT_GRID)
    levels = np.arange(1, k_max + 1)
    # The big increments are far above round-off at every depth allowed here (M_k >= gamma**-1 2**-k).
    big = np.array([np.diff(koppen_psi(int(k), gamma, n)).max() for k in levels])
    h = float(gamma) ** -levels
    fit = fit_loglog_slope(h[1:], big[1:])
    c = [(gamma - 2) * float(gamma) ** -koppen_beta(int(k) + 1, n) / big[k - 1] for k in levels[1:-1]]
    bound = max(abs(math.log1p(-ck) / math.log(gamma)) for ck in c)
    return HolderEstimate(levels, big, big / h, float(fit.slope), math.log(2) / math.log(gamma), bound)


class SuperpositionConstants(NamedTuple):
    """The fixed numbers of the Sprecher–Köppen form of Kolmogorov's theorem.

    Examples
    --------
    >>> c = constants(2, 6)
    >>> c.m, round(c.a, 6), round(c.domain_max, 6)
    (4, 0.033333, 0.866667)
    """

    n: int
    gamma: int
    m: int  # 2n: the shifts are q = 0 .. m
    a: float  # 1 / (gamma (gamma - 1))
    lambdas: np.ndarray  # (n,) lambda_1 = 1, lambda_p = sum_r gamma**(-(p-1) beta(r))
    domain_max: float  # 1 - m a: x_p + q a < 1 for x_p < domain_max


def constants(n: int, gamma: int) -> SuperpositionConstants:
    """The shift ``a``, the weights ``lambda_p`` and the domain bound ``1 - 2n a`` for ``n`` variables.

    Parameters
    ----------
    n : int
        Number of variables, ``n >= 2``.
    gamma : int
        Base, ``gamma >= 2n + 2``.

    Returns
    -------
    SuperpositionConstants

    References
    ----------
    Sprecher (1996); Braun & Griebel (2009), Theorem 2.1 and section 3.

    Examples
    --------
    >>> lam = constants(2, 6).lambdas
    >>> lam[0], round(float(lam[1]), 9)  # 1/6 + 1/6**3 + 1/6**7 + ...
    (np.float64(1.0), 0.171299869)
    """
    n = _check_n(n)
    gamma = _check_gamma(gamma, n)
    lambdas = [1.0]
    for p in range(2, n + 1):
        terms, r = [], 1
        while (p - 1) * koppen_beta(r, n) * math.log10(gamma) < 330:  # further terms underflow to 0
            terms.append(float(gamma) ** -((p - 1) * koppen_beta(r, n)))
            r += 1
        lambdas.append(math.fsum(terms))
    m = 2 * n
    a = 1.0 / (gamma * (gamma - 1))
    return SuperpositionConstants(n, gamma, m, a, np.array(lambdas), 1.0 - m * a)


def _tail(k: int, gamma: int, n: int) -> float:
    """``tau_k = sum_{r > k} gamma**-beta(r)``: psi(d + c b_k) - psi(d) per unit of a constant digit c < gamma - 1."""
    terms, r = [], k + 1
    while koppen_beta(r, n) * math.log10(gamma) < 330:
        terms.append(float(gamma) ** -koppen_beta(r, n))
        r += 1
    return math.fsum(terms)


def _points_n(points: object) -> int:
    """The number of variables read from ``points`` (2 if the shape is unusable; the checks then report it)."""
    ok = isinstance(points, np.ndarray) and points.ndim == 2 and points.shape[1] >= 2
    return int(points.shape[1]) if ok else 2


def _grid_indices(points: object, k: int, consts: SuperpositionConstants) -> np.ndarray:
    """Integer indices ``j`` with ``points = j gamma**-k``, after checking shape, grid and domain."""
    if not isinstance(points, np.ndarray):
        raise TypeError(f"points must be a numpy array of shape (N, {consts.n}), got {type(points).__name__}")
    if points.ndim != 2 or points.shape[1] != consts.n or points.shape[0] < 1:
        raise ValueError(f"points must have shape (N, n) with N >= 1 and n >= 2, got shape {points.shape}")
    if not np.issubdtype(points.dtype, np.number) or np.issubdtype(points.dtype, np.complexfloating):
        raise TypeError(f"points must have a real dtype, got {points.dtype}")
    scaled = points.astype(float) * consts.gamma**k
    j = np.rint(scaled)
    if not np.all(np.abs(scaled - j) <= 1e-6):
        raise ValueError(f"points must lie on the depth-{k} grid j * {consts.gamma}**-{k}")
    if j.min() < 0 or np.any(points >= consts.domain_max):
        raise ValueError(f"points must lie in [0, 1 - 2n a) = [0, {consts.domain_max:.6g}), so that x_p + q a < 1")
    return j.astype(np.int64)


def inner_sums(points: np.ndarray, k: int, gamma: int) -> np.ndarray:
    """The inner sums ``xi_q(x) = sum_p lambda_p psi(x_p + q a)`` for ``q = 0 .. 2n`` at gamma-adic points.

    For ``x_p`` on the depth-``k`` grid, ``q a = q a_k + q b_k`` with ``a_k`` terminating at depth ``k`` and
    ``q b_k`` all of whose further digits equal ``q < gamma - 1``; so ``psi(x_p + q a) = psi_k(x_p + q a_k)
    + q tau_k`` with ``tau_k = sum_{r > k} gamma**-beta(r)``: exact up to floating point.

    Parameters
    ----------
    points : numpy.ndarray, shape (N, n)
        Points of the depth-``k`` grid in ``[0, 1 - 2n a)^n``; ``n`` is read from the shape.
    k : int
        Depth of the grid, ``k >= 1``, ``gamma**k <= 10**7``.
    gamma : int
        Base, ``gamma >= 2n + 2``.

    Returns
    -------
    numpy.ndarray, shape (2n + 1, N)

    References
    ----------
    Sprecher (1996); Braun & Griebel (2009), Theorem 2.1.

    Examples
    --------
    >>> xi = inner_sums(np.array([[0.0, 0.0], [1 / 6, 0.0]]), 1, 6)
    >>> xi.shape, float(xi[0, 1])  # q = 0: psi(1/6) + lambda_2 psi(0)
    ((5, 2), 0.16666666666666666)
    """
    n = _points_n(points)
    consts = constants(n, gamma)
    k = check_int("k", k, minimum=1)
    _check_power_size("inner_sums", gamma, k, _MAX_FLOAT_GRID)  # the grid of psi_k
    j = _grid_indices(points, k, consts)
    psi = koppen_psi(k, gamma, n)
    tail = _tail(k, gamma, n)
    out = np.empty((consts.m + 1, len(j)))
    for q in range(consts.m + 1):
        shift = q * (gamma ** (k - 1) - 1) // (gamma - 1)  # index of q a_k = q (gamma**-2 + ... + gamma**-k)
        out[q] = (psi[j + shift] + q * tail) @ consts.lambdas
    return out


def _membership(j: np.ndarray, depth: int, level: int, q: int, gamma: int) -> tuple[np.ndarray, np.ndarray]:
    """Cube index per coordinate at ``level`` for shift ``q``, and whether ``x_p + q a`` is in the cube (not a gap).

    ``x_p + q a`` lies in ``[d, d + delta]`` with ``delta = (gamma - 2) / ((gamma - 1) gamma**level)`` (good) or in
    the gap ``(d + delta, d + gamma**-level)`` (bad). In units of ``gamma**-depth / (gamma - 1)`` everything is an
    integer.
    """
    s = gamma ** (depth - level)
    period = s * (gamma - 1)
    w = (j % s) * (gamma - 1) + q * s  # offset of x_p + q a inside its level cell, in those units
    cube = j // s + q * (gamma ** (level - 1) - 1) // (gamma - 1) + w // period
    good = (w % period) <= (gamma - 2) * s
    return cube, good


def bad_shift_count(points: np.ndarray, k: int, level: int, gamma: int) -> np.ndarray:
    """For each point, how many of the ``2n + 1`` shifts ``q`` put some ``x_p + q a`` in a gap between level cubes.

    At ``level``, the cubes are ``[d - q a, d - q a + delta]`` per coordinate with
    ``delta = (gamma - 2) / ((gamma - 1) gamma**level)``; the gaps between them have length
    ``gamma**-level / (gamma - 1)``, and successive shifts move a point by exactly that much relative to its
    cell, so each coordinate is in a gap for at most one ``q``: at most ``n`` shifts are bad, at least ``n + 1``
    good. Computed in integer arithmetic.

    Parameters
    ----------
    points : numpy.ndarray, shape (N, n)
        Points of the depth-``k`` grid in ``[0, 1 - 2n a)^n``.
    k : int
        Depth of the points' grid, ``k >= 1`` with ``gamma**k <= 2**53`` (so that float64 points give their
        grid indices exactly).
    level : int
        Level of the cubes, ``1 <= level <= k``.
    gamma : int
        Base, ``gamma >= 2n + 2``.

    Returns
    -------
    numpy.ndarray of int, shape (N,)

    References
    ----------
    Sprecher (1996); Braun & Griebel (2009), section 3.

    Examples
    --------
    >>> x1, x2 = np.meshgrid(gamma_adic_grid(3, 6)[:180], gamma_adic_grid(3, 6)[:180])
    >>> bad = bad_shift_count(np.stack([x1.ravel(), x2.ravel()], axis=1), 3, 2, 6)
    >>> np.bincount(bad).tolist()  # points with 0, 1, 2 bad shifts: never more than n = 2
    [900, 13500, 18000]
    """
    n = _points_n(points)
    consts = constants(n, gamma)
    k = check_int("k", k, minimum=1)
    if k * math.log2(gamma) > 54 or gamma**k > _MAX_GRID_INDEX:  # the logarithm first: no huge power
        raise ValueError(f"k = {k} with gamma = {gamma}: gamma**k must be <= 2**53 so that float64 points give their "
                         f"grid indices exactly, got about 2^{k * math.log2(gamma):.4g}")
    level = check_int("level", level, minimum=1, maximum=k)
    j = _grid_indices(points, k, consts)
    bad = np.zeros(len(j), dtype=int)
    for q in range(consts.m + 1):
        _, good = _membership(j, k, level, q, gamma)
        bad += ~good.all(axis=1)
    return bad


def _image_left_ends(cubes: np.ndarray, psi: np.ndarray, lambdas: np.ndarray) -> np.ndarray:
    return psi[cubes] @ lambdas  # (C, n) cube indices -> (C,) sum_p lambda_p psi(d_p)


def image_separation(level: int, gamma: int, n: int = 2) -> float:
    """The smallest gap between the images ``xi_q(cube)`` of the level cubes, in units of an image's length.

    For every shift ``q`` the cube with corner ``d`` (``d`` in ``D_level^n``, ``[0, 1)^n``) is mapped by
    ``xi_q`` onto ``[sum_p lambda_p psi(d_p), ... + (gamma - 2) tau_level sum_p lambda_p]``, the same interval
    for every ``q``. Kolmogorov's construction needs these ``gamma**(level n)`` intervals to be disjoint,
    so that an outer function can take a separate value on each cube: a positive result says they are.

    Parameters
    ----------
    level : int
        Level of the cubes, ``level >= 1``, at most :func:`psi_float_depth` minus 1 (finer images are below
        float64 resolution) and ``gamma**(level n) <= 10**7``.
    gamma : int
        Base, ``gamma >= 2n + 2``.
    n : int
        Number of variables, ``n >= 2``.

    Returns
    -------
    float
        ``min gap / length``; positive means disjoint.

    References
    ----------
    Braun & Griebel (2009), section 3 (the disjointness of the image intervals).

    Examples
    --------
    >>> image_separation(2, 6) > 0
    True
    """
    n = _check_n(n)
    gamma = _check_gamma(gamma, n)
    level = check_int("level", level, minimum=1, maximum=psi_float_depth(gamma, n) - 1)
    _check_size("image_separation", gamma ** (level * n), _MAX_FLOAT_GRID)
    consts = constants(n, gamma)
    psi = koppen_psi(level, gamma, n)
    cubes = np.stack(np.unravel_index(np.arange(gamma ** (level * n)), (gamma**level,) * n), axis=1)
    left = np.sort(_image_left_ends(cubes, psi, consts.lambdas))
    length = (gamma - 2) * _tail(level, gamma, n) * consts.lambdas.sum()
    return float((np.diff(left) - length).min() / length)


class SprecherResult(NamedTuple):
    """What :func:`sprecher_outer` built and measured, iteration by iteration.

    Examples
    --------
    >>> res = sprecher_outer(lambda x: x[:, 0] + x[:, 1], depth=2, levels=[1, 2])
    >>> res.sup_error.shape, res.bound.shape, len(res.knots), len(res.knots[0])
    ((3,), (2,), 2, 5)
    """

    levels: tuple[int, ...]  # the cube level k_r of each iteration r = 1 .. R
    sup_error: np.ndarray  # (R + 1,) max |f_r| on the grid; entry 0 is max |f|
    rms_error: np.ndarray  # (R + 1,) root mean square of f_r on the grid
    eps: np.ndarray  # (R,) largest |f_{r-1}(x) - v_cube| / max |f_{r-1}| over good points
    max_bad: np.ndarray  # (R,) most shifts q that are bad at one grid point (<= n)
    bound: np.ndarray  # (R,) eta_r = (2 B + (m + 1 - B) eps_r) / (m + 1): max|f_r| <= eta_r max|f_{r-1}|
    points: np.ndarray  # (N, n) inner grid points x' in [0, 1 - 2n a)^n; f was evaluated at x' / (1 - 2n a)
    residual: np.ndarray  # (N,) f_R on the grid
    knots: tuple  # knots[r][q]: breakpoints of chi_q^(r+1) (left and right ends of the image intervals)
    values: tuple  # values[r][q]: chi_q^(r+1) at those knots (linear in between, constant outside)
    constants: SuperpositionConstants

    @property
    def ratio(self) -> np.ndarray:
        """``max|f_r| / max|f_{r-1}|``, the measured contraction of each iteration."""
        return self.sup_error[1:] / self.sup_error[:-1]

    def outer(self, q: int, y: np.ndarray) -> np.ndarray:
        """The outer function ``chi_q = sum_r chi_q^(r)`` at the values ``y``."""
        q = check_int("q", q, minimum=0, maximum=self.constants.m)
        y = check_array("y", y)
        return sum((np.interp(y, kn[q], va[q]) for kn, va in zip(self.knots, self.values)), np.zeros_like(y))


def sprecher_outer(
    f: Callable[[np.ndarray], np.ndarray],
    depth: int,
    levels: Sequence[int],
    gamma: int = 6,
    n: int = 2,
    progress: bool = False,
) -> SprecherResult:
    """Build the outer functions ``chi_q`` of ``f`` by Sprecher's iteration, on a gamma-adic grid.

    Start with ``f_0 = f``. Iteration ``r`` at cube level ``k_r``: for each shift ``q`` and each cube, take the
    value ``v`` of ``f_{r-1}`` at the cube's first grid point; let ``chi_q^(r)`` equal ``v / (2n + 1)`` on the
    cube's image interval (a plateau, widened by ``1e-13`` on each side to absorb round-off in ``xi_q``) and
    interpolate linearly across the gaps between intervals; then
    ``f_r = f_{r-1} - sum_q chi_q^(r)(xi_q)``. At a point, at least ``n + 1`` shifts are good and each removes
    ``f_{r-1}(x) / (2n + 1)`` up to ``eps_r``; the at most ``n`` bad ones add at most ``2 max|f_{r-1}| / (2n + 1)``
    each. Hence ``max|f_r| <= eta_r max|f_{r-1}|`` with ``eta_r = (2B + (2n + 1 - B) eps_r) / (2n + 1)``,
    which is recorded (``bound``) together with the measured ratio. ``eta_r < 1`` needs ``eps_r < 1/(n + 1)``.

    Everything is evaluated on the depth-``depth`` grid inside ``[0, 1 - 2n a)^n``; ``f`` is called once, on
    those points divided by ``1 - 2n a`` (so ``f`` lives on ``[0, 1)^n``).

    Parameters
    ----------
    f : callable
        ``f(x)`` with ``x`` of shape (N, n) in ``[0, 1)^n``, returning N finite values.
    depth : int
        Depth of the evaluation grid, ``depth >= 1``; at most ``4 * 10**6`` points in all (so ``gamma**depth``
        below about ``2 * 10**3`` for ``n = 2``).
    levels : sequence of int
        Cube level of each iteration, ``1 <= k_r <= depth`` and at most ``psi_float_depth(gamma, n) - 1``.
    gamma : int
        Base, ``gamma >= 2n + 2``.
    n : int
        Number of variables, ``n >= 2``.
    progress : bool
        Show a progress bar over the iterations.

    Returns
    -------
    SprecherResult

    References
    ----------
    Sprecher (1996, 1997); Braun & Griebel (2009), section 3 (the algorithm and its convergence proof).

    Examples
    --------
    >>> res = sprecher_outer(lambda x: np.sin(3 * x[:, 0]) * x[:, 1], depth=3, levels=[2])
    >>> bool(res.sup_error[1] <= res.bound[0] * res.sup_error[0])
    True
    """
    if not callable(f):
        raise TypeError(f"f must be callable, got {type(f).__name__}")
    n = _check_n(n)
    gamma = _check_gamma(gamma, n)
    depth = check_int("depth", depth, minimum=1)
    if isinstance(levels, (str, bytes)) or not isinstance(levels, Sequence) or len(levels) == 0:
        raise ValueError(f"levels must be a non-empty sequence of ints, got {levels!r}")
    finest = min(depth, psi_float_depth(gamma, n) - 1)
    levels = tuple(check_int("levels[r]", k, minimum=1, maximum=finest) for k in levels)
    if not isinstance(progress, bool):
        raise TypeError(f"progress must be a bool, got {type(progress).__name__} {progress!r}")
    consts = constants(n, gamma)
    m = consts.m
    # domain_max >= 2/3, so gamma**depth > 10**7 means more than 4 * 10**6 points per axis already
    if depth * math.log10(gamma) > 7:
        raise ValueError(f"sprecher_outer would need about (gamma**depth)**n = 10^{n * depth * math.log10(gamma):.4g} "
                         f"points; at most {4 * 10**6:,} are allowed: lower depth or gamma")
    per_axis = math.ceil(consts.domain_max * gamma**depth)  # j with j gamma**-depth < 1 - 2n a
    _check_size("sprecher_outer", per_axis**n, 4 * 10**6)
    j = np.stack(np.unravel_index(np.arange(per_axis**n), (per_axis,) * n), axis=1)  # (N, n)
    points = j / gamma**depth
    values = np.asarray(f(points / consts.domain_max), dtype=float)
    if values.shape != (len(points),) or not np.all(np.isfinite(values)):
        raise ValueError(
            f"f must return {len(points)} finite values for points of shape {points.shape}, got shape {values.shape}"
        )
    xi = inner_sums(points, depth, gamma)  # (m + 1, N)
    residual = values.copy()
    sup, rms = [np.abs(residual).max()], [np.sqrt(np.mean(residual**2))]
    eps_list, bad_list, bound_list, knots_all, values_all = [], [], [], [], []
    iterator = levels
    if progress:
        from tqdm.auto import tqdm

        iterator = tqdm(levels, desc="Sprecher iterations")
    for k in iterator:
        norm = np.abs(residual).max()
        psi_k = koppen_psi(k, gamma, n)
        length = (gamma - 2) * _tail(k, gamma, n) * consts.lambdas.sum()
        correction = np.zeros_like(residual)
        bad = np.zeros(len(points), dtype=int)
        worst, knots_r, values_r = 0.0, [], []
        for q in range(m + 1):
            cube, good = _membership(j, depth, k, q, gamma)
            inside = good.all(axis=1)
            bad += ~inside
            flat = np.ravel_multi_index(tuple(cube[inside].T), (gamma**k,) * n)
            ids, first, which = np.unique(flat, return_index=True, return_inverse=True)
            here = residual[inside]
            v = here[first]  # f_{r-1} at the first grid point of each cube
            if norm > 0:
                worst = max(worst, float(np.abs(here - v[which]).max() / norm))
            left = _image_left_ends(np.stack(np.unravel_index(ids, (gamma**k,) * n), axis=1), psi_k, consts.lambdas)
            order = np.argsort(left)
            left, v = left[order], v[order]
            if np.any(left[1:] - _PAD <= left[:-1] + length + _PAD):
                raise RuntimeError(f"image intervals overlap at level {k}: float64 cannot resolve them")
            kn = np.empty(2 * len(left))
            kn[0::2], kn[1::2] = left - _PAD, left + length + _PAD
            va = np.repeat(v, 2) / (m + 1)
            correction += np.interp(xi[q], kn, va)
            knots_r.append(kn)
            values_r.append(va)
        residual = residual - correction
        b = int(bad.max())
        eps_list.append(worst)
        bad_list.append(b)
        bound_list.append((2 * b + (m + 1 - b) * worst) / (m + 1))
        sup.append(np.abs(residual).max())
        rms.append(np.sqrt(np.mean(residual**2)))
        knots_all.append(tuple(knots_r))
        values_all.append(tuple(values_r))
    return SprecherResult(
        levels, np.array(sup), np.array(rms), np.array(eps_list), np.array(bad_list), np.array(bound_list),
        points, residual, tuple(knots_all), tuple(values_all), consts,
    )


def entropy_bits(eps: float, n: int, r: float, count: int = 1) -> float:
    """Bits to specify ``count`` functions of ``n`` variables and smoothness ``r`` to accuracy ``eps``.

    The value is ``count * eps**(-n/r)``. Kolmogorov & Tikhomirov: the eps-entropy (log2 of the smallest eps-net) of the unit ball of ``C^r`` on
    ``[0, 1]^n`` grows like ``eps**(-n/r)``; the constant is set to 1 here. Superpositions built from
    ``count`` constituent functions of ``k`` variables in ``C^s`` (``s >= 1``, so that errors propagate
    linearly) have eps-entropy at most of order ``count * eps**(-k/s)``. Beyond ``1e300`` the float64 result would
    overflow and a ``ValueError`` is raised; the log10 of the count is ``log10(count) - n/r log10(eps)``.

    Parameters
    ----------
    eps : float
        Accuracy, ``0 < eps < 1``.
    n : int
        Number of variables, ``n >= 1``.
    r : float
        Smoothness, ``r > 0``.
    count : int
        Number of functions, ``count >= 1``.

    Returns
    -------
    float

    References
    ----------
    Kolmogorov & Tikhomirov (1959); Vitushkin (1954); Lorentz (1962); memo section 6.4.

    Examples
    --------
    >>> entropy_bits(0.01, n=2, r=1)
    10000.0
    >>> entropy_bits(0.01, n=2, r=2, count=7)  # a binary tree on 8 inputs, C^2 constituents
    700.0
    """
    eps = check_open_interval("eps", eps, 0.0, 1.0)
    n = check_int("n", n, minimum=1)
    r = check_positive("r", r)
    count = check_int("count", count, minimum=1)
    log10 = math.log10(count) - n / r * math.log10(eps)
    if log10 > 300:
        raise ValueError(f"n = {n} with eps = {eps:g}, r = {r:g} and count = {count} gives count * eps**(-n/r) = "
                         f"10^{log10:.6g} bits, which overflows float64 (values beyond 1e300 are refused); its log10 is "
                         "log10(count) - n/r * log10(eps)")
    return float(round(10.0**log10, 9))


def vitushkin_crossover(n: int, r: float, k: int, s: float, count: int = 1) -> float:
    """The accuracy below which ``C^r`` functions of ``n`` variables outnumber superpositions of ``C^s`` ones.

    The superpositions have ``count`` constituents of ``k`` variables each.

    With ``count`` constituents, ``count * eps**(-k/s) < eps**(-n/r)`` for every ``eps`` below
    ``count**(-1 / (n/r - k/s))`` when ``n/r > k/s``: there are then too few superpositions to approximate
    every ``C^r`` function (Vitushkin's theorem). When ``n/r <= k/s`` the count gives no obstruction and
    this returns 0.0.

    Parameters
    ----------
    n, k : int
        Numbers of variables, ``n, k >= 1``.
    r, s : float
        Smoothness of the target and of the constituents, ``r, s > 0``.
    count : int
        Number of constituent functions, ``count >= 1``.

    Returns
    -------
    float
        The crossover accuracy in ``(0, 1]``, or 0.0 when there is none.

    References
    ----------
    Vitushkin (1954); Kolmogorov & Tikhomirov (1959); memo section 6.4, Theorem 6.

    Examples
    --------
    >>> vitushkin_crossover(3, 1, 2, 1, count=10)  # 10 eps**-2 < eps**-3 for eps < 1/10
    0.1
    >>> vitushkin_crossover(4, 2, 2, 1)  # n/r = k/s: no gap
    0.0
    """
    n = check_int("n", n, minimum=1)
    k = check_int("k", k, minimum=1)
    r = check_positive("r", r)
    s = check_positive("s", s)
    count = check_int("count", count, minimum=1)
    gap = n / r - k / s
    return float(count ** (-1.0 / gap)) if gap > 1e-12 else 0.0


def _psi_increments(k: int, gamma: int, n: int) -> np.ndarray:
    """``psi_k(d + gamma**-k) - psi_k(d)`` for every ``d`` in ``D_k``, each to full relative accuracy.

    A level-(k-1) increment ``D`` splits into ``gamma - 2`` steps ``s = gamma**-beta(k)`` and two halves
    ``(D - (gamma - 2) s) / 2``; ``D`` is far larger than ``(gamma - 2) s``, so nothing cancels.
    """
    inc = np.full(gamma, 1.0 / gamma)
    for level in range(2, k + 1):
        step = float(gamma) ** -koppen_beta(level, n)
        new = np.empty((len(inc), gamma))
        new[:, : gamma - 2] = step
        new[:, gamma - 2 :] = ((inc - (gamma - 2) * step) / 2)[:, None]
        inc = new.ravel()
    return inc


def psi_staircase(k: int, gamma: int, max_points: int = 50_000) -> dict[str, object]:
    """Compute for the staircase widget: ``psi_k`` (``n = 2``) on the depth-``k`` grid and its increments.

    The depth is capped so that the grid has at most ``max_points`` points (the widget must answer in well
    under 100 ms); ``k_shown`` is the depth used. The increments are computed by their own recursion, to full
    relative accuracy, rather than as differences of ``psi`` (float64 loses the small ones from depth 5 on).

    Parameters
    ----------
    k : int
        Requested depth, ``k >= 1``.
    gamma : int
        Base, ``gamma >= 6``.
    max_points : int
        Cap on ``gamma**k_shown``, ``max_points >= gamma``.

    Returns
    -------
    dict
        ``x``, ``psi``, ``increments`` (arrays); ``k``, ``k_shown``, ``gamma``; ``max_increment``,
        ``min_increment``; ``predicted_exponent`` (``log_gamma 2``) and ``level_exponent``, the measured
        ``log_gamma(M_{k-1} / M_k)`` (nan at ``k_shown = 1``).

    Examples
    --------
    >>> out = psi_staircase(3, 6)
    >>> out["k_shown"], len(out["psi"]), round(out["level_exponent"], 3)
    (3, 217, 0.387)
    >>> psi_staircase(9, 10)["k_shown"]  # 10**4 <= 50 000 < 10**5
    4
    """
    k = check_int("k", k, minimum=1)
    gamma = _check_gamma(gamma, 2)
    max_points = check_int("max_points", max_points, minimum=gamma)
    shown = min(k, int(math.floor(math.log(max_points) / math.log(gamma) + 1e-9)))
    psi = koppen_psi(shown, gamma)
    inc = _psi_increments(shown, gamma, 2)
    level_exp = math.nan
    if shown > 1:
        coarse = np.diff(koppen_psi(shown - 1, gamma)).max()
        level_exp = math.log(coarse / inc.max()) / math.log(gamma)
    return {
        "x": gamma_adic_grid(shown, gamma), "psi": psi, "increments": inc, "k": k, "k_shown": shown, "gamma": gamma,
        "max_increment": float(inc.max()), "min_increment": float(inc.min()),
        "predicted_exponent": math.log(2) / math.log(gamma), "level_exponent": level_exp,
    }
