"""Tests for cosp_helpers.superposition: Köppen's psi against an independent reference, its invariants,
the inner sums, the separation property, Sprecher's iteration and the entropy counts."""

from __future__ import annotations

import math
import re
from fractions import Fraction

import numpy as np
import pytest

from cosp_helpers.superposition import (
    bad_shift_count,
    entropy_bits,
    gamma_adic_digits,
    gamma_adic_grid,
    holder_exponent,
    image_separation,
    inner_sums,
    koppen_beta,
    koppen_psi,
    psi_float_depth,
    psi_staircase,
    sprecher_outer,
    constants,
    vitushkin_crossover,
)

U = 2.0**-53


def reference_psi(j: int, k: int, gamma: int, n: int) -> Fraction:
    """Köppen's recursion read straight from its definition, one point at a time, in exact arithmetic."""
    if k == 1:
        return Fraction(j, gamma)  # psi_1(d) = d (j = gamma gives psi(1) = 1)
    i_k = j % gamma
    if j == gamma**k:  # the point 1 has digit 0 at every level
        return reference_psi(gamma ** (k - 1), k - 1, gamma, n)
    b = (n**k - 1) // (n - 1)
    if i_k < gamma - 1:
        return reference_psi(j // gamma, k - 1, gamma, n) + Fraction(i_k, gamma**b)
    left = reference_psi(j - 1, k, gamma, n)  # d - gamma^-k has last digit gamma - 2
    right = reference_psi((j + 1) // gamma, k - 1, gamma, n)  # d + gamma^-k lies on the coarser grid
    return (left + right) / 2


# ---------------------------------------------------------------- beta, grid, digits


def test_beta_values():
    assert [koppen_beta(k, 2) for k in range(1, 7)] == [1, 3, 7, 15, 31, 63]
    assert [koppen_beta(k, 3) for k in range(1, 5)] == [1, 4, 13, 40]
    for k in range(1, 8):  # beta(k + 1) = n beta(k) + 1
        assert koppen_beta(k + 1, 4) == 4 * koppen_beta(k, 4) + 1


def test_grid_and_digits_round_trip():
    x = gamma_adic_grid(3, 6)
    assert len(x) == 217 and x[0] == 0 and x[-1] == 1
    j = np.arange(216)
    digits = gamma_adic_digits(j, 3, 6)
    assert digits.shape == (216, 3) and digits.max() == 5
    assert np.array_equal(digits @ np.array([36, 6, 1]), j)


# ---------------------------------------------------------------- Köppen's psi


@pytest.mark.parametrize("gamma, n, k", [(6, 2, 4), (7, 2, 3), (8, 3, 3), (10, 2, 3)])
def test_psi_matches_the_reference_recursion_exactly(gamma, n, k):
    fast = koppen_psi(k, gamma, n, exact=True)
    assert len(fast) == gamma**k + 1
    assert all(fast[j] == reference_psi(j, k, gamma, n) for j in range(0, gamma**k + 1, max(1, gamma**k // 400)))


def test_psi_first_level_is_the_identity_and_ends_are_fixed():
    for gamma in (6, 9):
        assert koppen_psi(1, gamma, exact=True).tolist() == [Fraction(i, gamma) for i in range(gamma + 1)]
        psi = koppen_psi(4, gamma, exact=True)
        assert psi[0] == 0 and psi[-1] == 1


def test_psi_hand_value():
    # 11/36 has digits (1, 5): (psi_2(1/6 + 4/36) + psi_1(2/6)) / 2 = (1/6 + 4/216 + 2/6) / 2 = 7/27
    assert koppen_psi(2, 6, exact=True)[11] == Fraction(7, 27)


@pytest.mark.parametrize("gamma, n, k", [(6, 2, 5), (7, 2, 4), (8, 3, 4)])
def test_psi_is_strictly_increasing_in_exact_arithmetic(gamma, n, k):
    psi = koppen_psi(k, gamma, n, exact=True)
    assert all(b > a for a, b in zip(psi[:-1], psi[1:]))


def test_psi_levels_are_consistent():
    coarse = koppen_psi(3, 6, exact=True)
    fine = koppen_psi(4, 6, exact=True)
    assert np.array_equal(fine[::6], coarse)  # psi_4 = psi_3 on D_3


def test_psi_known_increments():
    k, gamma = 3, 6
    psi = koppen_psi(k, gamma, exact=True)
    step = Fraction(1, gamma ** koppen_beta(k))
    for cell in range(gamma ** (k - 1)):
        base = cell * gamma
        for i in range(1, gamma - 1):  # digits below gamma - 1: exact steps gamma**-beta(k)
            assert psi[base + i] - psi[base + i - 1] == step
        # the last two increments of the cell are equal halves of what is left
        assert psi[base + gamma - 1] - psi[base + gamma - 2] == psi[base + gamma] - psi[base + gamma - 1]


def test_float_psi_is_within_the_round_off_bound():
    for k in range(1, 6):
        exact = koppen_psi(k, 6, exact=True)
        approx = koppen_psi(k, 6)
        err = max(abs(float(e - Fraction(a))) for e, a in zip(exact, approx))
        assert err <= 2 * k * U, (k, err)  # each level adds at most 2u (docstring of koppen_psi)


def test_float_depth_is_where_float_monotonicity_ends():
    depth = psi_float_depth(6, 2)
    assert depth == 4
    assert np.all(np.diff(koppen_psi(depth, 6)) > 0)
    assert not np.all(np.diff(koppen_psi(depth + 1, 6)) > 0)  # 6**-31 is below the round-off
    assert psi_float_depth(8, 3) == 3 and psi_float_depth(10, 2) == 3


# ---------------------------------------------------------------- Hölder exponent


def test_max_increment_obeys_the_halving_recursion():
    est = holder_exponent(6, 6)
    for k in range(1, 6):
        predicted = (est.max_increment[k - 1] - 4 * 6.0 ** -koppen_beta(k + 1)) / 2
        assert math.isclose(est.max_increment[k], predicted, rel_tol=1e-12)  # float values within 2ku of exact
    assert est.max_increment[0] == pytest.approx(1 / 6, rel=1e-15)


@pytest.mark.parametrize("gamma", [6, 7, 10])
def test_holder_exponent_is_log_gamma_2_within_the_derived_bound(gamma):
    est = holder_exponent(5, gamma)
    assert est.predicted == pytest.approx(math.log(2) / math.log(gamma))
    assert abs(est.exponent - est.predicted) <= est.bound + 1e-12
    assert est.bound < 1e-3
    # not Lipschitz: M_k gamma**k grows by almost gamma/2 per level
    growth = est.lipschitz_ratio[2:] / est.lipschitz_ratio[1:-1]
    assert np.all(np.abs(growth / (gamma / 2) - 1) < 1e-3)


# ---------------------------------------------------------------- constants and inner sums


def test_constants():
    c = constants(2, 6)
    assert c.m == 4 and c.a == pytest.approx(1 / 30) and c.domain_max == pytest.approx(1 - 4 / 30)
    assert c.lambdas[0] == 1.0
    assert c.lambdas[1] == pytest.approx(1 / 6 + 6.0**-3 + 6.0**-7 + 6.0**-15, rel=1e-15)
    c3 = constants(3, 8)
    assert c3.lambdas[2] == pytest.approx(8.0**-2 + 8.0**-8 + 8.0**-26, rel=1e-15)  # (p - 1) beta(r) = 2, 8, 26


def grid_points(k: int, gamma: int, n: int) -> np.ndarray:
    c = constants(n, gamma)
    x = gamma_adic_grid(k, gamma)
    x = x[x < c.domain_max]
    return np.stack([g.ravel() for g in np.meshgrid(*[x] * n, indexing="ij")], axis=1)


def test_inner_sum_for_q0_is_the_weighted_psi():
    pts = grid_points(2, 6, 2)
    psi = koppen_psi(2, 6)
    j = np.rint(pts * 36).astype(int)
    lam = constants(2, 6).lambdas
    assert np.allclose(inner_sums(pts, 2, 6)[0], psi[j[:, 0]] + lam[1] * psi[j[:, 1]], rtol=0, atol=1e-15)


def test_inner_sums_agree_across_depths():
    # the same points seen on a finer grid: psi_{k+1} adds the digit q at level k + 1, the tail the rest
    pts = grid_points(2, 6, 2)
    assert np.allclose(inner_sums(pts, 2, 6), inner_sums(pts, 3, 6), rtol=0, atol=1e-14)
    pts3 = grid_points(1, 8, 3)
    assert np.allclose(inner_sums(pts3, 1, 8), inner_sums(pts3, 2, 8), rtol=0, atol=1e-14)


def test_inner_sums_increase_in_each_coordinate():
    x = gamma_adic_grid(3, 6)
    x = x[x < constants(2, 6).domain_max]
    for other in (0.0, 1 / 6):
        xi = inner_sums(np.stack([x, np.full_like(x, other)], axis=1), 3, 6)
        assert np.all(np.diff(xi, axis=1) > 0)
        xi2 = inner_sums(np.stack([np.full_like(x, other), x], axis=1), 3, 6)
        assert np.all(np.diff(xi2, axis=1) > 0)


def test_bad_shift_count_matches_exact_rational_reference():
    gamma, n, depth, level = 6, 2, 2, 1
    pts = grid_points(depth, gamma, n)
    fast = bad_shift_count(pts, depth, level, gamma)
    a = Fraction(1, gamma * (gamma - 1))
    delta = Fraction(gamma - 2, gamma - 1)  # good part of a level cell, in units of gamma**-level
    slow = []
    for x in pts:
        count = 0
        for q in range(2 * n + 1):
            ys = [(Fraction(round(float(xp) * gamma**depth), gamma**depth) + q * a) * gamma**level for xp in x]
            count += any(y - math.floor(y) > delta for y in ys)
        slow.append(count)
    assert np.array_equal(fast, slow)


@pytest.mark.parametrize("gamma, n, depth", [(6, 2, 3), (7, 2, 3), (8, 3, 2)])
def test_at_most_n_shifts_are_bad(gamma, n, depth):
    pts = grid_points(depth, gamma, n)
    for level in range(1, depth + 1):
        bad = bad_shift_count(pts, depth, level, gamma)
        assert bad.max() == (n if level < depth else 0)  # at most n, and reached; on the cube grid itself none


def test_image_separation_positive_and_matches_pairwise_reference():
    for level, gamma, n in [(1, 6, 2), (2, 6, 2), (3, 6, 2), (1, 8, 3), (2, 8, 3), (2, 10, 2)]:
        assert image_separation(level, gamma, n) > 0, (level, gamma, n)
    # brute force over all pairs at level 1, gamma 6: left ends psi(d1) + lambda_2 psi(d2)
    lam = constants(2, 6).lambdas
    left = np.array([i / 6 + lam[1] * j / 6 for i in range(6) for j in range(6)])
    tail = sum(6.0 ** -koppen_beta(r) for r in range(2, 8))
    length = 4 * tail * lam.sum()
    gaps = [abs(u - v) - length for i, u in enumerate(left) for v in left[i + 1 :]]
    assert image_separation(1, 6) == pytest.approx(min(gaps) / length, rel=1e-9)


def test_continuing_psi_past_one_breaks_separation():
    # Why the module keeps x_p + q a in [0, 1): with psi(1 + y) = 1 + psi(y) (an integer digit in Köppen's
    # recursion), cubes whose shifted corner lies past 1 get images that overlap others, at every level.
    lam = constants(2, 6).lambdas
    for level in (1, 2):
        psi = koppen_psi(level, 6)
        idx = np.arange(6**level + 6**level // 6)  # corners up to about 1 + 1/6
        values = idx // 6**level + psi[idx % 6**level]
        left = np.sort((values[:, None] + lam[1] * values[None, :]).ravel())
        length = 4 * sum(6.0 ** -koppen_beta(r) for r in range(level + 1, level + 5)) * lam.sum()
        assert (np.diff(left) - length).min() < 0  # overlap
        assert image_separation(level, 6) > 0  # while corners in [0, 1) stay separated


# ---------------------------------------------------------------- Sprecher's iteration


def smooth(x: np.ndarray) -> np.ndarray:
    return np.sin(2 * np.pi * x[:, 0]) * np.cos(np.pi * x[:, 1]) + 0.5 * x[:, 0] * x[:, 1]


def test_sprecher_bound_holds_every_iteration_and_the_outer_functions_reproduce_the_residual():
    res = sprecher_outer(smooth, depth=3, levels=[1, 2, 2, 3])
    assert np.all(res.max_bad <= 2)
    # |f_r| <= eta_r |f_{r-1}| at every point; 1e-12 covers the round-off of the sums (values of order 1)
    assert np.all(res.sup_error[1:] <= res.bound * res.sup_error[:-1] + 1e-12)
    xi = inner_sums(res.points, 3, 6)
    f = smooth(res.points / res.constants.domain_max)
    rebuilt = f - sum(res.outer(q, xi[q]) for q in range(5))
    assert np.allclose(rebuilt, res.residual, rtol=0, atol=1e-12)
    assert res.ratio.shape == (4,)


def test_sprecher_first_step_contracts_for_a_smooth_function_at_a_fine_level():
    res = sprecher_outer(smooth, depth=4, levels=[3])
    assert res.eps[0] < 1 / 3  # fine cubes: f varies little on each
    assert res.bound[0] < 1 and res.ratio[0] <= res.bound[0]


def test_sprecher_constant_function_is_removed_in_one_step():
    res = sprecher_outer(lambda x: np.full(len(x), 2.0), depth=3, levels=[2])
    assert res.eps[0] == 0 and np.abs(res.residual).max() < 1e-13  # every chi_q is the constant 2/5


def test_sprecher_interpolates_when_the_grid_is_the_cube_level():
    res = sprecher_outer(smooth, depth=2, levels=[2])
    assert res.max_bad[0] == 0  # each grid point is good for every shift, alone in its cube
    assert np.abs(res.residual).max() < 1e-13


# ---------------------------------------------------------------- counting


def test_entropy_bits_values():
    assert entropy_bits(0.01, 2, 1) == 10000.0
    assert entropy_bits(0.1, 3, 1.5, count=5) == 500.0
    with pytest.raises(ValueError, match=r"n = 100 .* overflows float64"):
        entropy_bits(1e-10, 100, 1)


def test_vitushkin_crossover():
    eps = vitushkin_crossover(3, 1, 2, 1, count=10)
    assert eps == pytest.approx(0.1)
    assert entropy_bits(eps * 0.999, 3, 1) > entropy_bits(eps * 0.999, 2, 1, count=10)
    assert entropy_bits(eps * 1.001, 3, 1) < entropy_bits(eps * 1.001, 2, 1, count=10)
    assert vitushkin_crossover(2, 2, 1, 1, count=3) == 0.0  # n/r = 1 = k/s
    assert vitushkin_crossover(2, 4, 1, 1) == 0.0  # n/r < k/s
    assert vitushkin_crossover(8, 2, 2, 2, count=7) == pytest.approx(7 ** (-1 / 3))


# ---------------------------------------------------------------- widget compute


def test_staircase_fields_and_cap():
    out = psi_staircase(3, 6)
    assert out["k_shown"] == 3 and len(out["x"]) == len(out["psi"]) == 217 and len(out["increments"]) == 216
    assert out["min_increment"] == pytest.approx(6.0**-7)
    assert abs(out["level_exponent"] - out["predicted_exponent"]) < 1e-3
    assert math.isnan(psi_staircase(1, 6)["level_exponent"])
    assert psi_staircase(12, 6)["k_shown"] == 6 and psi_staircase(12, 12)["k_shown"] == 4
    # increments agree with exact arithmetic, including the tiny ones float64 cannot resolve at depth 6
    deep = psi_staircase(6, 6)
    exact = koppen_psi(6, 6, exact=True)
    exact_inc = np.array([float(b - a) for a, b in zip(exact[:-1], exact[1:])])
    assert np.allclose(deep["increments"], exact_inc, rtol=1e-12, atol=0)  # relative error about k u per level
    assert np.all(deep["increments"] > 0)


# ---------------------------------------------------------------- errors

PTS = grid_points(1, 6, 2)

ERRORS = [
    (lambda: koppen_beta(0, 2), ValueError, "k must be >= 1"),
    (lambda: koppen_beta(2, 1), ValueError, "n must be >= 2"),
    (lambda: koppen_beta(2.0, 2), TypeError, "k must be an int"),
    (lambda: gamma_adic_grid(0, 6), ValueError, "k must be >= 1"),
    (lambda: gamma_adic_grid(2, 1), ValueError, "gamma must be >= 2"),
    (lambda: gamma_adic_grid(10, 6), ValueError, "at most 10,000,000"),
    (lambda: gamma_adic_digits(36, 2, 6), ValueError, "j must lie in"),
    (lambda: gamma_adic_digits(-1, 2, 6), ValueError, "j must lie in"),
    (lambda: gamma_adic_digits(1.5, 2, 6), TypeError, "j must hold integers"),
    (lambda: koppen_psi(2, 5), ValueError, "gamma must be >= 6"),
    (lambda: koppen_psi(2, 7, n=3), ValueError, "gamma must be >= 8"),
    (lambda: koppen_psi(2, 6, n=1), ValueError, "n must be >= 2"),
    (lambda: koppen_psi(0, 6), ValueError, "k must be >= 1"),
    (lambda: koppen_psi(2, 6, exact=1), TypeError, "exact must be a bool"),
    (lambda: koppen_psi(7, 6, exact=True), ValueError, "at most 100,000"),
    (lambda: koppen_psi(10, 6), ValueError, "at most 10,000,000"),
    (lambda: psi_float_depth(5, 2), ValueError, "gamma must be >= 6"),
    (lambda: holder_exponent(2, 6), ValueError, "k_max must be >= 3"),
    (lambda: holder_exponent(10, 6), ValueError, "at most 10,000,000"),
    (lambda: constants(1, 6), ValueError, "n must be >= 2"),
    (lambda: constants(2, 5), ValueError, "gamma must be >= 6"),
    (lambda: inner_sums([[0.0, 0.0]], 1, 6), TypeError, "points must be a numpy array"),
    (lambda: inner_sums(np.zeros((3, 1)), 1, 6), ValueError, "points must have shape"),
    (lambda: inner_sums(np.zeros(3), 1, 6), ValueError, "points must have shape"),
    (lambda: inner_sums(np.zeros((3, 2), dtype=complex), 1, 6), TypeError, "real dtype"),
    (lambda: inner_sums(np.array([[0.1, 0.0]]), 1, 6), ValueError, "depth-1 grid"),
    (lambda: inner_sums(np.array([[1.0, 0.0]]), 1, 6), ValueError, "x_p + q a < 1"),
    (lambda: inner_sums(np.array([[0.0, 32 / 36]]), 2, 6), ValueError, "x_p + q a < 1"),
    (lambda: inner_sums(np.array([[-1 / 6, 0.0]]), 1, 6), ValueError, "x_p + q a < 1"),
    (lambda: inner_sums(PTS, 0, 6), ValueError, "k must be >= 1"),
    (lambda: inner_sums(PTS, 1, 5), ValueError, "gamma must be >= 6"),
    (lambda: bad_shift_count(PTS, 1, 2, 6), ValueError, "level must be <= 1"),
    (lambda: bad_shift_count(PTS, 1, 0, 6), ValueError, "level must be >= 1"),
    (lambda: image_separation(4, 6), ValueError, "level must be <= 3"),
    (lambda: image_separation(0, 6), ValueError, "level must be >= 1"),
    (lambda: image_separation(3, 10), ValueError, "level must be <= 2"),
    (lambda: sprecher_outer(3.0, 2, [1]), TypeError, "f must be callable"),
    (lambda: sprecher_outer(smooth, 2, []), ValueError, "levels must be a non-empty sequence"),
    (lambda: sprecher_outer(smooth, 2, "12"), ValueError, "levels must be a non-empty sequence"),
    (lambda: sprecher_outer(smooth, 2, 1), ValueError, "levels must be a non-empty sequence"),
    (lambda: sprecher_outer(smooth, 2, [3]), ValueError, "levels[r] must be <= 2"),
    (lambda: sprecher_outer(smooth, 5, [4]), ValueError, "levels[r] must be <= 3"),
    (lambda: sprecher_outer(smooth, 2, [0]), ValueError, "levels[r] must be >= 1"),
    (lambda: sprecher_outer(smooth, 0, [1]), ValueError, "depth must be >= 1"),
    (lambda: sprecher_outer(smooth, 6, [1]), ValueError, "at most 4,000,000"),
    (lambda: sprecher_outer(smooth, 2, [1], progress=1), TypeError, "progress must be a bool"),
    (lambda: sprecher_outer(lambda x: x, 2, [1]), ValueError, "f must return"),
    (lambda: sprecher_outer(lambda x: np.full(len(x), np.nan), 2, [1]), ValueError, "f must return"),
    (lambda: sprecher_outer(smooth, 2, [1], gamma=5), ValueError, "gamma must be >= 6"),
    (lambda: entropy_bits(0.0, 2, 1), ValueError, "eps must be in (0, 1)"),
    (lambda: entropy_bits(0.1, 0, 1), ValueError, "n must be >= 1"),
    (lambda: entropy_bits(0.1, 2, 0), ValueError, "r must be > 0"),
    (lambda: entropy_bits(0.1, 2, 1, count=0), ValueError, "count must be >= 1"),
    (lambda: vitushkin_crossover(0, 1, 1, 1), ValueError, "n must be >= 1"),
    (lambda: vitushkin_crossover(2, 1, 0, 1), ValueError, "k must be >= 1"),
    (lambda: vitushkin_crossover(2, -1, 1, 1), ValueError, "r must be > 0"),
    (lambda: vitushkin_crossover(2, 1, 1, float("nan")), ValueError, "s must be finite"),
    (lambda: vitushkin_crossover(2, 1, 1, 1, count=0), ValueError, "count must be >= 1"),
    (lambda: psi_staircase(0, 6), ValueError, "k must be >= 1"),
    (lambda: psi_staircase(2, 5), ValueError, "gamma must be >= 6"),
    (lambda: psi_staircase(2, 6, max_points=5), ValueError, "max_points must be >= 6"),
]


@pytest.mark.parametrize("call, error, message", ERRORS, ids=[e[2] for e in ERRORS])
def test_errors_name_the_argument(call, error, message):
    with pytest.raises(error, match=re.escape(message)):
        call()


def test_outer_rejects_a_bad_shift():
    res = sprecher_outer(smooth, depth=2, levels=[1])
    with pytest.raises(ValueError, match="q must be <= 4"):
        res.outer(5, np.zeros(3))
