"""Approximation experiments: error against number of parameters for a family of approximants.

An *approximant builder* takes a target ``f`` (a function of points ``(n, d) -> (n,)``), the
dimension ``d`` and a size, and returns an :class:`Approximant`: a ``predict`` function and the
number of parameters it stands for. :func:`run_approximation_experiment` measures the error of a
builder at several sizes on shared random test points, so that the log-log slope of error against
parameters can be fitted (see :mod:`cosp_helpers.rates`).

Two classical builders are provided, on the grid of ``k^d`` equal cubes of side ``h = 1/k``:

* :func:`piecewise_constant`: the value of ``f`` at each cell's centre (``k^d`` parameters).
  For ``f`` with bounded first derivatives the error is ``O(h) = O(N^{-1/d})``.
* :func:`piecewise_linear`: the tangent plane of ``f`` at each centre (``(d+1) k^d`` parameters).
  For ``f`` with bounded second derivatives the error is ``O(h^2) = O(N^{-2/d})``.

Both are local polynomials of degree ``s - 1`` and reach the rate ``N^{-s/d}`` of the curse of
dimensionality (memo 6.5). Their ``predict`` looks up only the cells its inputs fall in, so the
error of a table with ``10^9`` cells can be measured without storing it; the table it stands for
is fully determined by ``f`` and ``k``.
"""

from __future__ import annotations

import math
from typing import Callable, NamedTuple, Sequence

import numpy as np
from tqdm.auto import tqdm

from ._checks import as_generator, check_allocation, check_int, check_points, check_size

__all__ = [
    "Approximant",
    "piecewise_constant",
    "piecewise_linear",
    "smooth_target",
    "ApproximationResult",
    "run_approximation_experiment",
]

Target = Callable[[np.ndarray], np.ndarray]

_FD_STEP = 1e-5  # central differences: truncation ~ f''' * 1e-10, round-off ~ 1e-16 / 1e-5


class Approximant(NamedTuple):
    """An approximation of a target: how to evaluate it, and how many numbers define it.

    Examples
    --------
    >>> ap = Approximant(predict=lambda x: np.zeros(len(x)), n_params=0)
    >>> ap.predict(np.ones((3, 2))).tolist(), ap.n_params
    ([0.0, 0.0, 0.0], 0)
    """

    predict: Callable[[np.ndarray], np.ndarray]  # (n, d) -> (n,)
    n_params: int


def _cell_centres(x: np.ndarray, k: int) -> np.ndarray:
    idx = np.clip(np.floor(x * k), 0, k - 1)  # (n, d) cell index per axis; x = 1 goes to the last cell
    return (idx + 0.5) / k


def _check_target(f: Target) -> None:
    if not callable(f):
        raise TypeError(f"f must be callable (points (n, d) -> values (n,)), got {type(f).__name__}")


# The parameter count of a grid builder is stored in ApproximationResult.n_params, an int64 array, and fitted on
# log-log axes (rates.fit_loglog_slope needs numbers): a table of more than 2**63 - 1 numbers has no count there.
_MAX_PARAMS = 2**63 - 1


def _check_builder_args(f: Target, d: int, k: int, linear: bool = False) -> tuple[int, int]:
    """``d`` (a dimension) and ``k``, with the table's ``k**d`` (``(d + 1) k**d`` if ``linear``) parameters within int64."""
    _check_target(f)
    d, k = check_size("d", d), check_int("k", k, minimum=1)
    per_cell = d + 1 if linear else 1
    # compare logarithms first, so that k**d is never formed when it is huge
    if k > 1 and (d * math.log2(k) > 64 or per_cell * k**d > _MAX_PARAMS):
        log10 = math.log10(per_cell) + d * math.log10(k)
        raise ValueError(f"d = {d} with k = {k} makes a table of about 10^{log10:.4g} parameters; at most 2**63 - 1 "
                         "(int64, the dtype of ApproximationResult.n_params) are allowed: lower d or k")
    return d, k


def piecewise_constant(f: Target, d: int, k: int) -> Approximant:
    """Approximate ``f`` on ``[0, 1]^d`` by its value at the centre of each of ``k^d`` cells.

    Parameters
    ----------
    f : callable
        Maps points of shape ``(n, d)`` to values of shape ``(n,)``.
    d : int
        Dimension, ``1 <= d <= 2**24``.
    k : int
        Cells per axis, ``k >= 1``; the approximant has ``k^d`` parameters, at most ``2**63 - 1`` (int64).

    Examples
    --------
    >>> ap = piecewise_constant(lambda x: x.sum(1), d=2, k=4)
    >>> ap.n_params, ap.predict(np.array([[0.1, 0.9]])).tolist()
    (16, [1.0])
    """
    d, k = _check_builder_args(f, d, k)

    def predict(x: np.ndarray) -> np.ndarray:
        x = check_points("x", x, d)
        return np.asarray(f(_cell_centres(x, k)), dtype=float)

    return Approximant(predict, k**d)


def _gradient(f: Target, c: np.ndarray) -> np.ndarray:
    n, d = c.shape
    grad = np.empty((n, d))
    for i in range(d):
        step = np.zeros(d)
        step[i] = _FD_STEP
        grad[:, i] = (f(c + step) - f(c - step)) / (2 * _FD_STEP)
    return grad


def piecewise_linear(f: Target, d: int, k: int) -> Approximant:
    """Approximate ``f`` on ``[0, 1]^d`` by its tangent plane at the centre of each of ``k^d`` cells.

    Each cell holds ``f(c)`` and the gradient at its centre ``c`` (``d + 1`` numbers; the gradient
    by central differences with step ``1e-5``), so there are ``(d + 1) k^d`` parameters, at most ``2**63 - 1``
    (int64, like :func:`piecewise_constant`).

    Examples
    --------
    >>> ap = piecewise_linear(lambda x: 3 * x[:, 0] - x[:, 1], d=2, k=2)
    >>> ap.n_params, np.round(ap.predict(np.array([[0.3, 0.8]])), 6).tolist()  # exact for linear f
    (12, [0.1])
    """
    d, k = _check_builder_args(f, d, k, linear=True)

    def predict(x: np.ndarray) -> np.ndarray:
        x = check_points("x", x, d)
        c = _cell_centres(x, k)  # (n, d)
        return np.asarray(f(c), dtype=float) + (_gradient(f, c) * (x - c)).sum(1)

    return Approximant(predict, (d + 1) * k**d)


def smooth_target(d: int, seed: int | np.random.Generator = 0) -> Target:
    """A smooth test function of all ``d`` variables on ``[0, 1]^d``.

    ``f(x) = sin(2 pi w.x + phi) exp(-3 |x - c|^2 / d)`` with a random unit vector ``w``, phase
    ``phi`` and centre ``c`` in ``[0, 1]^d``: infinitely differentiable, with first and second
    derivatives of order 2 pi and (2 pi)^2 whatever ``d``, and not a function of fewer variables.

    Examples
    --------
    >>> f = smooth_target(3, seed=0)
    >>> f(np.zeros((2, 3))).shape
    (2,)
    """
    d = check_size("d", d)
    rng = as_generator(seed)
    w = rng.normal(size=d)
    w /= np.linalg.norm(w)
    phi = rng.uniform(0, 2 * np.pi)
    c = rng.uniform(0, 1, size=d)

    def f(x: np.ndarray) -> np.ndarray:
        x = check_points("x", x, d)
        return np.sin(2 * np.pi * x @ w + phi) * np.exp(-3.0 * ((x - c) ** 2).sum(1) / d)

    return f


class ApproximationResult(NamedTuple):
    """Errors of one approximant family at several sizes (arrays are aligned, one entry per size).

    Examples
    --------
    >>> res = run_approximation_experiment(lambda x: x[:, 0], 1, piecewise_constant, [4, 8], n_test=1000)
    >>> res.sizes.tolist(), res.n_params.tolist(), bool(np.all(res.max_error <= 1 / (2 * res.sizes)))
    ([4, 8], [4, 8], True)
    """

    d: int
    sizes: np.ndarray
    n_params: np.ndarray
    rms_error: np.ndarray  # root-mean-square error on the test points
    max_error: np.ndarray  # largest error on the test points (a lower estimate of the sup error)


def run_approximation_experiment(
    f: Target,
    d: int,
    build: Callable[[Target, int, int], Approximant],
    sizes: Sequence[int],
    n_test: int = 20_000,
    seed: int | np.random.Generator = 0,
    progress: bool = False,
) -> ApproximationResult:
    """Measure the error of ``build(f, d, size)`` for each size on the same uniform test points.

    Shared test points make the errors at different sizes comparable (their Monte Carlo noise is
    correlated), which steadies the fitted slope.

    Parameters
    ----------
    f : callable
        The target, points ``(n, d)`` to values ``(n,)``.
    d : int
        Dimension of ``[0, 1]^d``, at most ``2**24``.
    build : callable
        ``build(f, d, size) -> Approximant``, e.g. :func:`piecewise_constant`.
    sizes : sequence of int
        Sizes to try (for the grid builders, cells per axis), each ``>= 1``.
    n_test : int
        Number of uniform test points, at most ``2**24`` (and ``n_test * d <= 2**28``).
    seed : int or numpy.random.Generator
        For the test points.
    progress : bool
        Show a progress bar.

    Examples
    --------
    >>> res = run_approximation_experiment(lambda x: x[:, 0] ** 2, 1, piecewise_constant, [10, 20])
    >>> res.n_params.tolist(), bool(res.rms_error[1] < res.rms_error[0])
    ([10, 20], True)
    """
    _check_target(f)
    d = check_size("d", d)
    n_test = check_size("n_test", n_test)
    check_allocation("n_test and d", n_test, d)  # the test points
    if not callable(build):
        raise TypeError(f"build must be callable (f, d, size) -> Approximant, got {type(build).__name__}")
    sizes = list(sizes)
    if not sizes:
        raise ValueError("sizes must hold at least one size, got an empty sequence")
    sizes = [check_int("each size", size, minimum=1) for size in sizes]
    x = as_generator(seed).random((n_test, d))  # (n_test, d)
    y = np.asarray(f(x), dtype=float)
    if y.shape != (n_test,):
        raise ValueError(f"f must map points of shape (n, d) to values of shape (n,), got {y.shape}")
    n_params, rms, worst = [], [], []
    for size in tqdm(sizes, disable=not progress, desc=f"d={d}"):
        approximant = build(f, d, size)
        err = np.abs(approximant.predict(x) - y)
        n_params.append(approximant.n_params)
        rms.append(float(np.sqrt(np.mean(err**2))))
        worst.append(float(err.max()))
    return ApproximationResult(d, np.array(sizes), np.array(n_params), np.array(rms), np.array(worst))
