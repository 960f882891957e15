"""Tests for cosp_helpers.rates: log-log slope fits."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from cosp_helpers.rates import SlopeFit, fit_loglog_slope


@pytest.mark.parametrize("c, a", [(1.0, -1.0), (3.2, -0.75), (0.01, 2.5), (5.0, 0.0)])
def test_exact_power_law_is_recovered(c, a):
    x = np.geomspace(1, 1e4, 9)
    fit = fit_loglog_slope(x, c * x**a)
    assert isinstance(fit, SlopeFit)
    # log/polyfit round-off only: a few ulps of log values of order 10
    assert fit.slope == pytest.approx(a, abs=1e-12)
    assert fit.intercept == pytest.approx(math.log(c), abs=1e-11)
    assert fit.stderr < 1e-12
    assert fit.r2 == pytest.approx(1.0, abs=1e-12)


def test_lists_and_integers_are_accepted():
    fit = fit_loglog_slope([1, 10, 100], [1, 0.1, 0.01])
    assert fit.slope == pytest.approx(-1.0, abs=1e-12) and fit.intercept == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_noisy_power_law_matches_scipy_and_its_stderr(seed):
    rng = np.random.default_rng(seed)
    sigma, n = 0.1, 50
    x = np.geomspace(1, 1e4, n)
    y = 2.0 * x**-0.5 * np.exp(sigma * rng.normal(size=n))
    fit = fit_loglog_slope(x, y)
    ref = stats.linregress(np.log(x), np.log(y))  # reference implementation of the same OLS fit
    assert fit.slope == pytest.approx(ref.slope, rel=1e-10)
    assert fit.intercept == pytest.approx(ref.intercept, rel=1e-10)
    assert fit.stderr == pytest.approx(ref.stderr, rel=1e-8)
    assert fit.r2 == pytest.approx(ref.rvalue**2, rel=1e-10)
    # the true slope lies within 4 of the fit's own standard errors
    assert abs(fit.slope + 0.5) < 4 * fit.stderr
    # stderr estimates sigma / sqrt(Sxx); with 48 degrees of freedom its relative spread is
    # 1/sqrt(2*48) = 10%, so 40% is 4 standard deviations
    lx = np.log(x)
    assert fit.stderr == pytest.approx(sigma / math.sqrt(np.sum((lx - lx.mean()) ** 2)), rel=0.4)
    assert 0.9 < fit.r2 < 1.0


def test_two_points_have_no_stderr():
    fit = fit_loglog_slope([2.0, 8.0], [1.0, 4.0])
    assert fit.slope == pytest.approx(1.0, abs=1e-12)
    assert math.isnan(fit.stderr)
    assert fit.r2 == pytest.approx(1.0)


def test_constant_y_has_zero_slope_and_r2_one():
    fit = fit_loglog_slope([1.0, 2.0, 3.0], [5.0, 5.0, 5.0])
    assert fit.slope == pytest.approx(0.0, abs=1e-12)
    assert fit.r2 == 1.0


def test_r2_of_uncorrelated_data_is_small():
    x = np.arange(1.0, 9.0)
    y = np.array([1.0, 2.0, 1.0, 2.0, 2.0, 1.0, 2.0, 1.0])  # antisymmetric pattern: no trend
    fit = fit_loglog_slope(x, y)
    assert abs(fit.slope) < 0.2 and fit.r2 < 0.1


@pytest.mark.parametrize(
    "fit, x, expected",
    [
        (SlopeFit(-1.0, math.log(2.0), 0.0, 1.0), [1.0, 2.0, 4.0], [2.0, 1.0, 0.5]),
        (SlopeFit(0.5, 0.0, 0.0, 1.0), np.array([4.0, 9.0]), [2.0, 3.0]),
        (SlopeFit(2.0, math.log(3.0), 0.1, 0.9), 10, 300.0),
    ],
)
def test_slope_fit_predict(fit, x, expected):
    np.testing.assert_allclose(fit.predict(x), expected, rtol=1e-14)


def test_predict_inverts_the_fit():
    x = np.geomspace(3, 300, 7)
    y = 0.7 * x**-1.3
    fit = fit_loglog_slope(x, y)
    np.testing.assert_allclose(fit.predict(x), y, rtol=1e-11)
    assert fit.predict([3000.0])[0] == pytest.approx(0.7 * 3000.0**-1.3, rel=1e-10)  # extrapolation


@pytest.mark.parametrize(
    "x, y, match",
    [
        ([[1.0, 2.0]], [1.0, 2.0], "x must be 1-D"),
        ([1.0, 2.0], [[1.0, 2.0]], "y must be 1-D"),
        (3.0, 2.0, "x must be 1-D"),
        ([0.0, 1.0], [1.0, 2.0], "x must hold positive finite values"),
        ([-1.0, 1.0], [1.0, 2.0], "x must hold positive finite values"),
        ([1.0, math.inf], [1.0, 2.0], "x must be finite"),
        ([1.0, 2.0], [1.0, 0.0], "y must hold positive finite values"),
        ([1.0, 2.0], [1.0, math.nan], "y must be finite"),
        ([1.0, 2.0], [-1.0, 2.0], "y must hold positive finite values"),
        ([1.0, 2.0, 3.0], [1.0, 2.0], r"x and y must have the same shape, got \(3,\) and \(2,\)"),
        ([1.0], [1.0], "at least 2 points"),
        ([], [], "at least 2 points"),
        ([2.0, 2.0, 2.0], [1.0, 2.0, 3.0], "x values are all equal"),
    ],
)
def test_fit_loglog_slope_errors(x, y, match):
    with pytest.raises(ValueError, match=match):
        fit_loglog_slope(x, y)
