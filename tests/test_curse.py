"""Tests for cosp_helpers.curse: exact counts, closed forms of concentration, Monte Carlo checks."""

from __future__ import annotations

import itertools
import math

import numpy as np
import scipy.integrate
import pytest

from cosp_helpers.curse import (
    BallEstimate,
    DistanceStats,
    ball_shell_fraction,
    ball_to_cube_ratio,
    cube_shell_fraction,
    summary,
    distance_cv,
    distance_statistics,
    grid_cells,
    monomial_count,
    monte_carlo_ball,
    params_for_accuracy,
    relative_contrast,
    table_bits_log10,
)

NAN, INF = float("nan"), float("inf")

# Bad values for the arguments checked through cosp_helpers._checks; each message names the argument.
BAD_REAL = [
    (NAN, ValueError, "must be finite"),
    (INF, ValueError, "must be finite"),
    (True, TypeError, "must be a real number"),
    ("0.1", TypeError, "must be a real number"),
    (None, TypeError, "must be a real number"),
]
BAD_POSITIVE = [(0.0, ValueError, "must be > 0"), (-1, ValueError, "must be > 0"), *BAD_REAL]
BAD_SEED = [
    (-1, ValueError, "must be >= 0"),
    (1.5, TypeError, "must be an int"),
    (True, TypeError, "must be an int"),
    (None, TypeError, "must be an int"),
]


def bad_int(minimum: int) -> list:
    """Bad values for an int argument that must be >= ``minimum``."""
    return [
        (minimum - 1, ValueError, f"must be >= {minimum}"),
        (-3, ValueError, f"must be >= {minimum}"),
        (float(minimum), TypeError, "must be an int"),
        (True, TypeError, "must be an int"),
        ("3", TypeError, "must be an int"),
        (None, TypeError, "must be an int"),
    ]


def bad_eps(high: float, closed: bool) -> list:
    """Bad values for eps in (0, high) or (0, high]."""
    bracket = r"\]" if closed else r"\)"
    interval = rf"must be in \(0, {high:g}{bracket}"
    above = high * 1.01 if closed else high
    return [(0.0, ValueError, interval), (-0.5, ValueError, interval), (above, ValueError, interval), *BAD_REAL]


# --- params_for_accuracy -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "eps, d, s", [(0.1, 2, 1), (0.1, 10, 10), (0.3, 2, 1), (0.01, 7, 2.5), (0.5, 100, 3), (1e-3, 50, 0.5)]
)
def test_params_for_accuracy_is_eps_to_minus_d_over_s(eps, d, s):
    # 10**(x) and eps**(-d/s) agree to a few ulps times the exponent (~1e-13 relative at x=100);
    # the result is also rounded to 9 decimals, which matters only for small values.
    assert params_for_accuracy(eps, d, s) == pytest.approx(eps ** (-d / s), rel=1e-12, abs=1e-9)


@pytest.mark.parametrize(
    "eps, d, s, expected", [(0.1, 2, 1, 100.0), (0.1, 10, 10, 10.0), (0.1, 300, 1, 1e300), (0.5, 1, 1, 2.0)]
)
def test_params_for_accuracy_exact_powers_of_ten(eps, d, s, expected):
    assert params_for_accuracy(eps, d, s) == expected


@pytest.mark.parametrize("eps, d, s", [(0.1, 301, 1), (0.1, 1000, 1), (1e-10, 100, 1), (0.5, 10_000, 1)])
def test_params_for_accuracy_overflow_is_refused(eps, d, s):
    with pytest.raises(ValueError, match=r"d = \d+ .* overflows float64"):
        params_for_accuracy(eps, d, s)


def test_params_for_accuracy_monotone():
    # more variables or a smaller eps cost more; more smoothness costs less
    assert params_for_accuracy(0.1, 3) < params_for_accuracy(0.1, 4) < params_for_accuracy(0.05, 4)
    assert params_for_accuracy(0.1, 4, s=2) < params_for_accuracy(0.1, 4, s=1)


# --- grid_cells --------------------------------------------------------------------------------


@pytest.mark.parametrize("d", [1, 2, 3, 10, 50])
def test_grid_cells_tenth_is_exact_power_of_ten(d):
    assert grid_cells(0.1, d) == 10**d


@pytest.mark.parametrize("eps, per_axis", [(1 - 0.9, 10), (1 / 49, 49), (1 / 98, 98), (1 / 107, 107)])
def test_grid_cells_floating_point_edge(eps, per_axis):
    # 1/eps lands just above the integer (1/(1-0.9) = 10.000000000000002), so a naive
    # ceil(1/eps) would add a whole extra cell per axis
    assert per_axis < 1 / eps < per_axis + 1e-9
    assert grid_cells(eps, 1) == per_axis
    assert grid_cells(eps, 3) == per_axis**3


@pytest.mark.parametrize(
    "eps, d, expected",
    [
        (0.3, 2, 16), (0.5, 3, 8), (1.0, 5, 1), (0.25, 2, 16), (0.26, 2, 16), (0.24, 1, 5), (1 / 3, 2, 9),
        (0.01, 2, 10_000), (1e-8, 1, 10**8), (1e-5, 1, 100_000),  # 1/1e-5 = 99999.99999999999
    ],
)
def test_grid_cells_values(eps, d, expected):
    assert grid_cells(eps, d) == expected


def test_grid_cells_is_exact_for_huge_d():
    n = grid_cells(0.1, 1000)
    assert isinstance(n, int) and n == 10**1000


@pytest.mark.parametrize("eps, d", [(0.3, 3), (0.07, 2), (0.5, 4), (0.2, 3)])
def test_grid_cells_covers_the_cube_with_cells_of_side_at_most_eps(eps, d):
    per_axis = grid_cells(eps, 1)
    assert grid_cells(eps, d) == per_axis**d
    assert 1 / per_axis <= eps < 1 / (per_axis - 1)  # the fewest cells of side at most eps


# --- monomial_count ----------------------------------------------------------------------------


@pytest.mark.parametrize("d, k", [(d, k) for d in range(1, 5) for k in range(0, 5)])
def test_monomial_count_matches_brute_force(d, k):
    brute = sum(1 for exps in itertools.product(range(k + 1), repeat=d) if sum(exps) <= k)
    assert monomial_count(d, k) == brute


@pytest.mark.parametrize("d, k, expected", [(2, 2, 6), (100, 3, 176851), (1, 7, 8), (5, 0, 1), (3, 1, 4)])
def test_monomial_count_values(d, k, expected):
    assert monomial_count(d, k) == expected


# --- table_bits_log10 --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "d, levels, bits, expected",
    [
        (1000, 10, 1.0, 1000.0),
        (20, 2, 8.0, math.log10(8 * 2**20)),
        (3, 10, 1.0, 3.0),
        (1, 2, 1.0, math.log10(2)),
        (4, 7, 0.5, math.log10(0.5 * 7**4)),
    ],
)
def test_table_bits_log10_values(d, levels, bits, expected):
    assert table_bits_log10(d, levels=levels, bits_per_entry=bits) == pytest.approx(expected, rel=1e-12)


def test_table_bits_log10_thousand_is_exact():
    assert table_bits_log10(1000) == 1000.0
    assert table_bits_log10(1000) > 80  # more bits than protons in the universe (memo 6.3.1)


# --- shells and the ball -----------------------------------------------------------------------


@pytest.mark.parametrize("eps, d", [(0.25, 1), (0.1, 3), (0.05, 4), (0.5, 2), (0.3, 2)])
def test_cube_shell_fraction_counts_grid_cells(eps, d):
    # oracle by counting: the centres of a 20^d grid of equal cells; with eps a multiple of 1/20 every cell lies
    # wholly inside or wholly outside the shell, so the fraction of centres in the shell is its exact volume
    m = 20
    centres = (np.arange(m) + 0.5) / m
    grids = np.meshgrid(*[centres] * d, indexing="ij")
    in_shell = np.zeros(grids[0].shape, dtype=bool)
    for g in grids:
        in_shell |= (g < eps) | (g > 1 - eps)
    assert cube_shell_fraction(eps, d) == pytest.approx(in_shell.mean(), rel=1e-12)


@pytest.mark.parametrize("eps, d", [(0.5, 2), (0.1, 100), (1.0, 3), (0.05, 1), (0.3, 7)])
def test_ball_shell_fraction_integrates_the_radial_density(eps, d):
    # oracle by quadrature: the radius of a uniform point of the unit d-ball has density d r^(d-1) on [0, 1]
    shell, _ = scipy.integrate.quad(lambda r: d * r ** (d - 1), 1 - eps, 1, epsabs=0, epsrel=1e-13)
    assert ball_shell_fraction(eps, d) == pytest.approx(shell, rel=1e-11)


def test_cube_shell_fraction_at_large_d():
    # where counting cannot go: every coordinate avoids the shell independently, with probability 1 - 2 eps
    assert cube_shell_fraction(0.01, 1000) == pytest.approx(1 - math.prod([0.98] * 1000), rel=1e-12)


def test_shell_fractions_special_values():
    assert cube_shell_fraction(0.25, 1) == 0.5
    assert cube_shell_fraction(0.5, 4) == 1.0  # the whole cube is within 1/2 of its boundary
    assert ball_shell_fraction(0.5, 2) == 0.75
    assert ball_shell_fraction(1.0, 5) == 1.0


@pytest.mark.parametrize(
    "func, eps",
    [(cube_shell_fraction, 0.05), (ball_shell_fraction, 0.05), (cube_shell_fraction, 0.2), (ball_shell_fraction, 0.01)],
)
def test_shell_fractions_increase_with_d_towards_one(func, eps):
    values = np.array([func(eps, d) for d in range(1, 1000)])
    assert np.all((values > 0) & (values <= 1))
    assert np.all(np.diff(values) >= 0)  # non-decreasing; the float saturates just below 1
    below = values[values < 0.999]
    assert len(below) >= 3 and np.all(np.diff(below) > 0)  # strictly increasing before that
    assert values[-1] > 0.99


@pytest.mark.parametrize("d", [*range(1, 11), 20, 50, 100])
def test_ball_to_cube_ratio_matches_gamma_formula(d):
    expected = math.pi ** (d / 2) / (math.gamma(d / 2 + 1) * 2**d)
    assert ball_to_cube_ratio(d) == pytest.approx(expected, rel=1e-13)  # exp/lgamma round-off only


def test_ball_to_cube_ratio_known_values():
    assert ball_to_cube_ratio(1) == pytest.approx(1.0, rel=1e-15, abs=0)  # the segment fills [-1, 1]
    assert ball_to_cube_ratio(2) == pytest.approx(math.pi / 4, rel=1e-14)
    assert ball_to_cube_ratio(3) == pytest.approx(math.pi / 6, rel=1e-14)


def test_ball_to_cube_ratio_decreases_and_stays_finite_for_large_d():
    values = [ball_to_cube_ratio(d) for d in range(1, 60)]
    assert all(a > b for a, b in zip(values, values[1:]))

def test_ball_to_cube_ratio_for_large_d_matches_recurrence():
    # V_d / 2^d = (V_{d-2} / 2^{d-2}) * pi / (2 d): an independent reference, accurate to ~d ulps
    ref = {1: 1.0, 2: math.pi / 4}
    for d in range(3, 301):
        ref[d] = ref[d - 2] * math.pi / (2 * d)
    for d in (101, 200, 299, 300):
        assert ball_to_cube_ratio(d) == pytest.approx(ref[d], rel=1e-11)
    # the naive formula overflows in its denominator (gamma(151) * 2^300 > 1e308) and returns 0
    assert math.pi**150 / (math.gamma(151) * 2.0**300) == 0.0
    assert 1e-280 < ball_to_cube_ratio(300) < 1e-278


@pytest.mark.parametrize("d", [2, 3, 4, 5, 6])
def test_monte_carlo_ball_within_four_standard_errors(d):
    eps = 0.2
    est = monte_carlo_ball(d, eps=eps, n_samples=100_000, seed=d)
    assert isinstance(est, BallEstimate) and est.d == d
    # binomial standard errors reported by the estimator itself; 4 SE ~ 6e-5 two-sided false alarm
    assert abs(est.ratio - ball_to_cube_ratio(d)) < 4 * est.ratio_se
    assert abs(est.shell - ball_shell_fraction(eps, d)) < 4 * est.shell_se
    assert est.hits == round(est.ratio * 100_000)
    assert est.ratio_se == pytest.approx(math.sqrt(est.ratio * (1 - est.ratio) / 100_000))
    assert est.shell_se == pytest.approx(math.sqrt(est.shell * (1 - est.shell) / est.hits))


def test_monte_carlo_ball_is_deterministic_and_accepts_generators():
    a = monte_carlo_ball(3, 0.1, n_samples=5000, seed=11)
    b = monte_carlo_ball(3, 0.1, n_samples=5000, seed=np.random.default_rng(11))
    assert a == b
    assert monte_carlo_ball(3, 0.1, n_samples=5000, seed=12) != a


def test_monte_carlo_ball_chunks_match_a_one_pass_reference():
    # with d=6 a chunk holds 333_333 samples, so 400_000 samples take two chunks
    d, n, eps = 6, 400_000, 0.2
    est = monte_carlo_ball(d, eps, n_samples=n, seed=3)
    norms = np.linalg.norm(np.random.default_rng(3).uniform(-1.0, 1.0, size=(n, d)), axis=1)
    inside = norms <= 1.0
    assert est.hits == int(inside.sum())
    assert est.ratio == est.hits / n
    assert est.shell == pytest.approx(np.mean(norms[inside] > 1 - eps), rel=1e-15)


def test_monte_carlo_ball_without_hits():
    est = monte_carlo_ball(400, 1.0, n_samples=1000, seed=3)  # the ball is ~1e-300 of the cube
    assert est.hits == 0 and est.ratio == 0.0 and est.ratio_se == 0.0
    assert math.isnan(est.shell) and math.isnan(est.shell_se)


def test_monte_carlo_ball_d1_and_full_shell():
    est = monte_carlo_ball(1, eps=1.0, n_samples=1000, seed=0)
    assert est.ratio == 1.0 and est.hits == 1000 and est.shell == 1.0 and est.shell_se == 0.0


# --- distances ---------------------------------------------------------------------------------


def test_distance_cv_from_moments_by_quadrature():
    # the moments of Z = x - y, x and y uniform on [0, 1], by the midpoint rule (relative error O(1/m^2) = 1e-6) ...
    u = (np.arange(1000) + 0.5) / 1000
    z = u[:, None] - u[None, :]
    m2, m4 = np.mean(z**2), np.mean(z**4)
    # ... then the delta method: D = sqrt(S), S = sum of d such Z^2, so std(D)/E(D) ~ std(S) / (2 E S)
    for d in (1, 7, 100, 10_000):
        assert distance_cv(d) == pytest.approx(math.sqrt(d * (m4 - m2**2)) / (2 * d * m2), rel=1e-5)


def test_distance_statistics_cv_matches_asymptotic_formula_at_d100():
    d = 100
    stats = distance_statistics(d, n_points=1000, n_queries=200, seed=0)
    assert isinstance(stats, DistanceStats) and stats.d == d
    # The exact CV exceeds sqrt(7/(20d)) by a relative O(1/d) term, measured (4e6 pairs) at about
    # +0.34/d: +3.4% at d=10, +0.34% at d=100. With 200 queries x 1000 points the estimate's
    # relative spread over seeds is about 0.9%, so 5% is more than 4 standard deviations.
    assert stats.cv == pytest.approx(distance_cv(d), rel=0.05)
    # mean distance: sqrt(E D^2) = sqrt(d/6), minus the same O(1/d) relative correction
    assert stats.mean == pytest.approx(math.sqrt(d / 6), rel=0.01)


def test_distance_statistics_relative_contrast_decreases_with_d():
    contrasts = [distance_statistics(d, n_points=1000, n_queries=20, seed=0).contrast for d in (2, 10, 100)]
    # measured: about 84, 2.9 and 0.43 -- each step divides the contrast by several times
    assert contrasts[0] > 3 * contrasts[1] > 9 * contrasts[2] > 0


def test_distance_statistics_reference_computation():
    d, n_points, n_queries = 5, 50, 4
    stats = distance_statistics(d, n_points=n_points, n_queries=n_queries, seed=np.random.default_rng(9))
    rng = np.random.default_rng(9)
    points, queries = rng.random((n_points, d)), rng.random((n_queries, d))
    dist = np.linalg.norm(queries[:, None, :] - points[None, :, :], axis=2)
    assert stats.mean == pytest.approx(dist.mean(), rel=1e-12)
    assert stats.cv == pytest.approx(dist.std() / dist.mean(), rel=1e-10)
    contrast = np.mean([(row.max() - row.min()) / row.min() for row in dist])
    assert stats.contrast == pytest.approx(contrast, rel=1e-9)
    assert distance_statistics(d, n_points=n_points, n_queries=n_queries, seed=9) == stats


@pytest.mark.parametrize(
    "distances, expected",
    [([1.0, 2.0, 4.0], 3.0), ([2.0, 2.0], 0.0), ([5, 1], 4.0), (np.array([0.5, 0.25, 1.0]), 3.0)],
)
def test_relative_contrast_values(distances, expected):
    assert relative_contrast(np.asarray(distances)) == pytest.approx(expected, rel=1e-15)


# --- summary -----------------------------------------------------------------------------


@pytest.mark.parametrize("d, s, eps", [(4, 2, 0.01), (1, 1, 0.1), (30, 1.5, 0.3), (3, 1, 0.5)])
def test_curse_summary_consistent_with_the_individual_functions(d, s, eps):
    out = summary(d=d, s=s, eps=eps)
    keys = {"d", "s", "eps", "log10_params", "log10_grid_cells", "log10_monomials", "dims", "log10_params_curve"}
    assert set(out) == keys
    assert (out["d"], out["s"], out["eps"]) == (d, s, eps)
    assert out["log10_params"] == pytest.approx(math.log10(params_for_accuracy(eps, d, s)), rel=1e-9, abs=1e-9)
    assert out["log10_grid_cells"] == pytest.approx(math.log10(grid_cells(eps, d)), rel=1e-12, abs=1e-12)
    degree = round(grid_cells(eps, 1))
    assert out["log10_monomials"] == pytest.approx(math.log10(monomial_count(d, degree)), rel=1e-12)
    np.testing.assert_array_equal(out["dims"], np.arange(1, max(d, 100) + 1))
    expected_curve = [math.log10(params_for_accuracy(eps, int(k), s)) for k in out["dims"]]
    np.testing.assert_allclose(out["log10_params_curve"], expected_curve, rtol=1e-9, atol=1e-9)


def test_curse_summary_example_and_no_overflow():
    out = summary(d=4, s=2, eps=0.01)
    assert (out["log10_params"], out["log10_grid_cells"]) == (4.0, 8.0)
    big = summary(d=2000, s=1, eps=0.01)  # 10^4000 parameters: only their log is returned
    assert big["log10_params"] == pytest.approx(4000.0) and big["log10_grid_cells"] == pytest.approx(4000.0)
    assert len(big["dims"]) == 2000 and big["log10_params_curve"][-1] == pytest.approx(4000.0)


# --- argument errors ---------------------------------------------------------------------------

SIGNATURES = [
    (
        params_for_accuracy,
        {"eps": 0.1, "d": 2, "s": 1.0},
        {"eps": bad_eps(1, False), "d": bad_int(1), "s": BAD_POSITIVE},
    ),
    (grid_cells, {"eps": 0.1, "d": 2}, {"eps": bad_eps(1, True), "d": bad_int(1)}),
    (monomial_count, {"d": 2, "k": 2}, {"d": bad_int(1), "k": bad_int(0)}),
    (table_bits_log10, {"d": 3}, {"d": bad_int(1), "levels": bad_int(2), "bits_per_entry": BAD_POSITIVE}),
    (cube_shell_fraction, {"eps": 0.1, "d": 2}, {"eps": bad_eps(0.5, True), "d": bad_int(1)}),
    (ball_shell_fraction, {"eps": 0.1, "d": 2}, {"eps": bad_eps(1, True), "d": bad_int(1)}),
    (ball_to_cube_ratio, {"d": 2}, {"d": bad_int(1)}),
    (distance_cv, {"d": 2}, {"d": bad_int(1)}),
    (
        distance_statistics,
        {"d": 2, "n_points": 5, "n_queries": 2},
        {"d": bad_int(1), "n_points": bad_int(2), "n_queries": bad_int(1), "seed": BAD_SEED},
    ),
    (
        monte_carlo_ball,
        {"d": 2, "eps": 0.1, "n_samples": 10},
        {"d": bad_int(1), "eps": bad_eps(1, True), "n_samples": bad_int(1), "seed": BAD_SEED},
    ),
    (summary, {"d": 2, "s": 1.0, "eps": 0.1}, {"d": bad_int(1), "s": BAD_POSITIVE, "eps": bad_eps(1, False)}),
]

ERROR_CASES = [
    pytest.param(func, {**base, name: value}, error, f"{name} {match}", id=f"{func.__name__}-{name}={value!r}")
    for func, base, arguments in SIGNATURES
    for name, bad in arguments.items()
    for value, error, match in bad
]


@pytest.mark.parametrize("func, kwargs, error, match", ERROR_CASES)
def test_argument_errors_name_the_argument(func, kwargs, error, match):
    with pytest.raises(error, match=match):
        func(**kwargs)


@pytest.mark.parametrize(
    "distances, match",
    [
        (np.array([1.0]), "distances must be a 1-D array of at least 2 values"),
        (np.array([]), "distances must be a 1-D array of at least 2 values"),
        (np.ones((2, 2)), "distances must be a 1-D array of at least 2 values"),
        (np.array(3.0), "distances must be a 1-D array of at least 2 values"),
        (np.array([1.0, 0.0]), "distances must all be > 0"),
        (np.array([1.0, -2.0]), "distances must all be > 0"),
        (np.array([1.0, NAN]), "distances must be finite"),
    ],
)
def test_relative_contrast_errors(distances, match):
    with pytest.raises(ValueError, match=match):
        relative_contrast(distances)
