"""Tests for cosp_helpers.approximation: grid approximants, the smooth target, the experiment runner."""

from __future__ import annotations

import math

import numpy as np
import pytest

from cosp_helpers.approximation import (
    Approximant,
    ApproximationResult,
    piecewise_constant,
    piecewise_linear,
    run_approximation_experiment,
    smooth_target,
)
from cosp_helpers.rates import fit_loglog_slope

BUILDERS = [piecewise_constant, piecewise_linear]


def _midpoints(m: int) -> np.ndarray:
    """m equally spaced midpoints of [0, 1], as points of shape (m, 1)."""
    return ((np.arange(m) + 0.5) / m)[:, None]


# --- piecewise_constant ------------------------------------------------------------------------


@pytest.mark.parametrize("builder", BUILDERS)
@pytest.mark.parametrize("d, k", [(1, 1), (1, 7), (2, 3), (3, 4)])
def test_builders_are_exact_on_constants(builder, d, k):
    ap = builder(lambda x: np.full(len(x), 3.7), d, k)
    x = np.random.default_rng(0).random((500, d))
    np.testing.assert_allclose(ap.predict(x), 3.7, rtol=0, atol=1e-12)


@pytest.mark.parametrize("d, k", [(1, 1), (1, 10), (2, 4), (3, 5), (5, 3)])
def test_piecewise_constant_n_params_and_reference(d, k):
    f = lambda x: np.sin(x @ np.arange(1, d + 1))  # noqa: E731
    ap = piecewise_constant(f, d, k)
    assert isinstance(ap, Approximant) and ap.n_params == k**d
    x = np.random.default_rng(1).random((300, d))
    x[0] = 0.0  # the first cell
    x[1] = 1.0  # the right edge belongs to the last cell
    centres = (np.minimum(np.floor(x * k), k - 1) + 0.5) / k
    np.testing.assert_array_equal(ap.predict(x), f(centres))


@pytest.mark.parametrize("k", [1, 2, 5, 10, 50])
def test_piecewise_constant_rms_error_of_identity_is_h_over_sqrt12(k):
    # on a cell of width h = 1/k the error x - c is uniform on [-h/2, h/2]: RMS h/sqrt(12) exactly.
    # m midpoints per cell give h^2/12 (1 - 1/m^2): relative deviation 1/(2 m^2) = 5e-7 for m = 1000.
    ap = piecewise_constant(lambda x: x[:, 0], 1, k)
    x = _midpoints(1000 * k)
    err = ap.predict(x) - x[:, 0]
    assert math.sqrt(np.mean(err**2)) == pytest.approx(1 / (k * math.sqrt(12)), rel=1e-6)
    assert np.max(np.abs(err)) == pytest.approx(0.5 / k, rel=1e-3)  # sup error h/2, reached at edges


@pytest.mark.parametrize("k", [4, 16, 64])
def test_piecewise_constant_rms_error_of_identity_on_random_points(k):
    # Monte Carlo check with the runner: e^2 has relative standard deviation sqrt(144/80 - 1) = 0.894,
    # so with n = 200_000 the RMS has relative SE 0.894 / (2 sqrt(n)) = 0.1%; 4 SE = 0.4%.
    res = run_approximation_experiment(lambda x: x[:, 0], 1, piecewise_constant, [k], n_test=200_000, seed=k)
    assert res.rms_error[0] == pytest.approx(1 / (k * math.sqrt(12)), rel=0.004)
    assert res.max_error[0] <= 0.5 / k + 1e-15


# --- piecewise_linear --------------------------------------------------------------------------


@pytest.mark.parametrize("k", [1, 2, 5])
def test_piecewise_linear_exact_on_affine_functions_in_d3(k):
    rng = np.random.default_rng(2)
    a, b = rng.normal(size=3) * 5, rng.normal()
    ap = piecewise_linear(lambda x: x @ a + b, 3, k)
    assert ap.n_params == 4 * k**3
    x = rng.random((2000, 3))
    # central differences are exact for affine f up to round-off: ~1e-16 * |f| / 1e-5 per slope
    np.testing.assert_allclose(ap.predict(x), x @ a + b, rtol=0, atol=1e-8)


@pytest.mark.parametrize("d, k", [(1, 3), (2, 2), (3, 4), (4, 2)])
def test_piecewise_linear_n_params(d, k):
    assert piecewise_linear(lambda x: x.sum(1), d, k).n_params == (d + 1) * k**d


@pytest.mark.parametrize("k", [1, 4, 20])
def test_piecewise_linear_error_of_square_is_exact(k):
    # for f(x) = x^2 the tangent at c misses by (x - c)^2: RMS sqrt(E e^4) = h^2 / sqrt(80) for
    # e uniform on [-h/2, h/2]; midpoints (m = 1000 per cell) add a relative O(1/m^2) deviation.
    ap = piecewise_linear(lambda x: x[:, 0] ** 2, 1, k)
    x = _midpoints(1000 * k)
    err = ap.predict(x) - x[:, 0] ** 2
    c = (np.floor(x[:, 0] * k) + 0.5) / k
    np.testing.assert_allclose(err, -((x[:, 0] - c) ** 2), rtol=0, atol=1e-10)
    assert math.sqrt(np.mean(err**2)) == pytest.approx(1 / (k**2 * math.sqrt(80)), rel=1e-5)


# --- smooth_target -----------------------------------------------------------------------------


@pytest.mark.parametrize("d", [1, 2, 5, 30])
def test_smooth_target_deterministic_bounded_and_seed_dependent(d):
    x = np.random.default_rng(3).random((1000, d))
    a, b, other = smooth_target(d, seed=4)(x), smooth_target(d, seed=4)(x), smooth_target(d, seed=5)(x)
    assert a.shape == (1000,)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, other)
    assert np.all(np.abs(a) <= 1.0) and np.all(np.abs(other) <= 1.0)  # |sin| <= 1 and exp(-...) <= 1
    assert np.ptp(a) > 0.1  # not a constant


def test_smooth_target_matches_its_formula_and_accepts_generators():
    d = 4
    f = smooth_target(d, seed=np.random.default_rng(8))
    rng = np.random.default_rng(8)
    w = rng.normal(size=d)
    w /= np.linalg.norm(w)
    phi, c = rng.uniform(0, 2 * np.pi), rng.uniform(0, 1, size=d)
    x = np.random.default_rng(9).random((200, d))
    expected = np.sin(2 * np.pi * x @ w + phi) * np.exp(-3.0 * ((x - c) ** 2).sum(1) / d)
    np.testing.assert_allclose(f(x), expected, rtol=1e-13, atol=1e-15)
    np.testing.assert_array_equal(f(x), smooth_target(d, seed=8)(x))


def test_smooth_target_depends_on_every_variable():
    d = 6
    f = smooth_target(d, seed=0)
    x = np.random.default_rng(1).random((50, d))
    for i in range(d):
        moved = x.copy()
        moved[:, i] += 0.05
        assert np.max(np.abs(f(moved) - f(x))) > 1e-3


# --- run_approximation_experiment --------------------------------------------------------------


@pytest.mark.parametrize(
    "d, builder, sizes, order",
    [
        (1, piecewise_constant, [64, 128, 256, 512, 1024], 1),
        (1, piecewise_linear, [64, 128, 256, 512, 1024], 2),
        (2, piecewise_constant, [16, 32, 64, 128], 1),
        (2, piecewise_linear, [16, 32, 64, 128], 2),
    ],
)
@pytest.mark.parametrize("seed", [0, 1])
def test_experiment_slopes_match_the_curse_rates(d, builder, sizes, order, seed):
    # error ~ N^{-order/d}; measured deviations of the fitted slope are below 0.5% over seeds 0..3,
    # so 3% leaves a wide margin for the pre-asymptotic range and the test-point noise
    res = run_approximation_experiment(smooth_target(d, seed=seed), d, builder, sizes, n_test=20_000, seed=seed)
    fit = fit_loglog_slope(res.n_params, res.rms_error)
    assert fit.slope == pytest.approx(-order / d, rel=0.03)


def test_experiment_result_fields():
    f = smooth_target(2, seed=0)
    res = run_approximation_experiment(f, 2, piecewise_linear, (2, 4, 8), n_test=500, seed=1)
    assert isinstance(res, ApproximationResult) and res.d == 2
    np.testing.assert_array_equal(res.sizes, [2, 4, 8])
    np.testing.assert_array_equal(res.n_params, [3 * 4, 3 * 16, 3 * 64])
    assert res.rms_error.shape == res.max_error.shape == (3,)
    assert np.all(res.rms_error <= res.max_error) and np.all(res.rms_error > 0)
    assert np.all(np.diff(res.rms_error) < 0)
    # reference: the same test points, drawn from the same seed
    x = np.random.default_rng(1).random((500, 2))
    err = np.abs(piecewise_linear(f, 2, 4).predict(x) - f(x))
    assert res.rms_error[1] == pytest.approx(np.sqrt(np.mean(err**2)), rel=1e-12)
    assert res.max_error[1] == pytest.approx(err.max(), rel=1e-12)


def test_experiment_is_deterministic_and_accepts_generators_and_iterables(capsys):
    f = smooth_target(1, seed=0)
    a = run_approximation_experiment(f, 1, piecewise_constant, [3, 9], n_test=300, seed=5)
    b = run_approximation_experiment(
        f, 1, piecewise_constant, iter([3, 9]), n_test=300, seed=np.random.default_rng(5), progress=True
    )
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)
    c = run_approximation_experiment(f, 1, piecewise_constant, [3, 9], n_test=300, seed=6)
    assert not np.array_equal(a.rms_error, c.rms_error)
    assert "d=1" in capsys.readouterr().err  # the progress bar, when asked for


def test_experiment_custom_builder_is_called_with_each_size():
    calls = []

    def build(f, d, size):
        calls.append((d, size))
        return Approximant(lambda x: np.zeros(len(x)), size * 10)

    res = run_approximation_experiment(lambda x: np.ones(len(x)), 3, build, [1, 2, 5], n_test=10)
    assert calls == [(3, 1), (3, 2), (3, 5)]
    np.testing.assert_array_equal(res.n_params, [10, 20, 50])
    np.testing.assert_array_equal(res.rms_error, [1.0, 1.0, 1.0])


# --- argument errors ---------------------------------------------------------------------------

BAD_INT = [(0, ValueError, "must be >= 1"), (-1, ValueError, "must be >= 1"), (2.0, TypeError, "must be an int"),
           (True, TypeError, "must be an int"), ("2", TypeError, "must be an int")]


@pytest.mark.parametrize("builder", BUILDERS)
@pytest.mark.parametrize("name", ["d", "k"])
@pytest.mark.parametrize("value, error, match", BAD_INT)
def test_builder_int_errors(builder, name, value, error, match):
    kwargs = {"f": lambda x: x.sum(1), "d": 2, "k": 3, name: value}
    with pytest.raises(error, match=f"{name} {match}"):
        builder(**kwargs)


@pytest.mark.parametrize("value, error, match", BAD_INT)
def test_smooth_target_d_errors(value, error, match):
    with pytest.raises(error, match=f"d {match}"):
        smooth_target(value)


@pytest.mark.parametrize("builder", BUILDERS)
@pytest.mark.parametrize("f", [None, 3, "x.sum(1)"])
def test_builders_reject_non_callable_targets(builder, f):
    with pytest.raises(TypeError, match="f must be callable"):
        builder(f, 2, 3)


@pytest.mark.parametrize(
    "x, error, match",
    [
        ([[0.1, 0.2]], TypeError, "x must be a numpy array"),
        (np.array([[0.1 + 0j, 0.2]]), TypeError, r"x must hold real numbers \(have a real dtype\)"),
        (np.array([[True, False]]), TypeError, r"x must hold real numbers \(have a real dtype\)"),
        (np.array([["a", "b"]]), TypeError, r"x must hold real numbers \(have a real dtype\)"),
        (np.array([0.1, 0.2]), ValueError, r"x must have shape \(n, d\)"),
        (np.zeros((0, 2)), ValueError, r"x must have shape \(n, d\) with n >= 1"),
        (np.zeros((1, 2, 1)), ValueError, r"x must have shape \(n, d\)"),
        (np.zeros((4, 3)), ValueError, "x must have 2 columns"),
    ],
)
@pytest.mark.parametrize("make", [lambda: piecewise_constant(lambda x: x.sum(1), 2, 3).predict,
                                  lambda: piecewise_linear(lambda x: x.sum(1), 2, 3).predict,
                                  lambda: smooth_target(2, seed=0)], ids=["constant", "linear", "target"])
def test_point_errors(make, x, error, match):
    with pytest.raises(error, match=match):
        make()(x)


def test_point_checks_accept_integer_arrays():
    ap = piecewise_constant(lambda x: x.sum(1), 2, 2)
    assert ap.predict(np.array([[0, 1]])).tolist() == [1.0]  # cells (0, 1): centres 0.25 + 0.75


@pytest.mark.parametrize(
    "value, error, match",
    [
        (-1, ValueError, "seed must be >= 0"),
        (0.5, TypeError, "seed must be an int"),
        (True, TypeError, "seed must be an int"),
    ],
)
def test_smooth_target_seed_errors(value, error, match):
    with pytest.raises(error, match=match):
        smooth_target(2, seed=value)


_F = lambda x: x.sum(1)  # noqa: E731
_RUN = {"f": _F, "d": 2, "build": piecewise_constant, "sizes": [2], "n_test": 10}


@pytest.mark.parametrize(
    "changes, error, match",
    [(({"d": v}), e, f"d {m}") for v, e, m in BAD_INT]
    + [(({"n_test": v}), e, f"n_test {m}") for v, e, m in BAD_INT]
    + [
        ({"build": None}, TypeError, "build must be callable"),
        ({"build": "piecewise_constant"}, TypeError, "build must be callable"),
        ({"sizes": []}, ValueError, "sizes must hold at least one size"),
        ({"sizes": ()}, ValueError, "sizes must hold at least one size"),
        ({"sizes": iter([])}, ValueError, "sizes must hold at least one size"),
        ({"sizes": [2, 0]}, ValueError, "each size must be >= 1"),
        ({"sizes": [1.5]}, TypeError, "each size must be an int"),
        ({"sizes": [True]}, TypeError, "each size must be an int"),
        ({"f": lambda x: x}, ValueError, r"f must map points of shape \(n, d\) to values of shape \(n,\)"),
        ({"f": lambda x: x.sum()}, ValueError, r"f must map points of shape \(n, d\) to values of shape \(n,\)"),
        ({"seed": -3}, ValueError, "seed must be >= 0"),
        ({"seed": 2.0}, TypeError, "seed must be an int"),
    ],
)
def test_run_approximation_experiment_errors(changes, error, match):
    with pytest.raises(error, match=match):
        run_approximation_experiment(**{**_RUN, **changes})


@pytest.mark.parametrize("f", [3, None])
def test_run_approximation_experiment_rejects_non_callable_target(f):
    with pytest.raises(TypeError, match="f must be callable"):
        run_approximation_experiment(f, 2, piecewise_constant, [2], n_test=10)
