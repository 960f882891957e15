"""Tests of cosp_helpers.memory: linear associative memories, crosstalk, soft look-up."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate

from cosp_helpers import memory as mem


def _values(m: int, p: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((m, p))


# --- keys -----------------------------------------------------------------------------------------


def test_unit_keys_are_unit_and_reproducible() -> None:
    x = mem.unit_keys(16, 40, seed=3)
    assert x.shape == (16, 40)
    np.testing.assert_allclose(np.linalg.norm(x, axis=0), 1.0, rtol=1e-12)
    np.testing.assert_array_equal(x, mem.unit_keys(16, 40, seed=3))
    assert not np.array_equal(x, mem.unit_keys(16, 40, seed=4))
    rng = np.random.default_rng(0)
    assert mem.unit_keys(4, 2, seed=rng).shape == (4, 2)


def test_unit_keys_inner_products_have_variance_one_over_d() -> None:
    # For x, y uniform on the sphere, E (x . y)^2 = 1/d exactly. 3000 independent pairs (disjoint columns):
    # (x . y)^2 d has variance 2d/(d+2) < 2, so the standard error of the mean is < sqrt(2/3000) / d;
    # 4 standard errors leave a false-failure chance below 1e-4.
    d, n = 32, 3000
    x = mem.unit_keys(d, 2 * n, seed=1)
    c2 = np.sum(x[:, :n] * x[:, n:], axis=0) ** 2
    assert abs(c2.mean() - 1 / d) < 4 * math.sqrt(2 / n) / d


def test_correlated_keys_moments() -> None:
    # E x_i . x_j = rho and E |x|^2 = 1. With d = 400 and P = 300: the mean of the 44850 off-diagonal
    # entries deviates from rho mainly through the shared g-u terms, of standard deviation about
    # sqrt(2 rho (1 - rho) / (d P)) ~ 2e-3; the diagonal mean has standard deviation sqrt(2/(d P)) ~ 4e-3.
    # Tolerance 0.02 is about 5 such deviations.
    for rho in (0.0, 0.3, 0.8):
        x = mem.correlated_keys(400, 300, rho, seed=2)
        gram = x.T @ x
        assert abs(gram[np.triu_indices(300, 1)].mean() - rho) < 0.02
        assert abs(np.diag(gram).mean() - 1.0) < 0.02


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"d": 0, "n_pairs": 3}, ValueError),
        ({"d": 3, "n_pairs": 0}, ValueError),
        ({"d": 3.0, "n_pairs": 3}, TypeError),
        ({"d": 3, "n_pairs": 3, "seed": -1}, ValueError),
        ({"d": 3, "n_pairs": 3, "seed": "a"}, TypeError),
    ],
)
def test_unit_keys_errors(kwargs: dict, error: type) -> None:
    with pytest.raises(error):
        mem.unit_keys(**kwargs)


@pytest.mark.parametrize(("rho", "error"), [(1.0, ValueError), (-0.1, ValueError), (float("nan"), ValueError), ("0.5", TypeError)])
def test_correlated_keys_errors(rho: object, error: type) -> None:
    with pytest.raises(error, match="rho"):
        mem.correlated_keys(8, 4, rho)


# --- memories -------------------------------------------------------------------------------------


def test_correlation_memory_is_a_sum_of_outer_products() -> None:
    x, y = mem.unit_keys(7, 5, seed=0), _values(3, 5, 1)
    reference = sum(np.outer(y[:, j], x[:, j]) for j in range(5))
    np.testing.assert_allclose(mem.correlation_memory(x, y), reference, rtol=1e-12, atol=1e-14)
    q = np.linalg.qr(np.random.default_rng(0).standard_normal((7, 5)))[0]  # orthonormal keys: exact recall
    np.testing.assert_allclose(mem.correlation_memory(q, y) @ q, y, atol=1e-12)


@pytest.mark.parametrize(("d", "p"), [(64, 1), (64, 16), (64, 63), (64, 64)])
def test_pseudoinverse_memory_is_exact_when_p_at_most_d(d: int, p: int) -> None:
    # Random keys are independent with probability 1; at P = d the Gram matrix has condition number
    # of order d^2 ~ 4e3, so rounding errors stay near 1e-12 relative. 1e-9 leaves ample room.
    for rho in (0.0, 0.9):
        x, y = mem.correlated_keys(d, p, rho, seed=p), _values(5, p, p)
        a = mem.pseudoinverse_memory(x, y)
        assert mem.recall_error(a, x, y) < 1e-18
        np.testing.assert_allclose(a @ x, y, atol=1e-9)


@pytest.mark.parametrize(("d", "p"), [(20, 5), (20, 20), (20, 45)])
def test_pseudoinverse_memory_matches_numpy_pinv(d: int, p: int) -> None:
    x, y = mem.unit_keys(d, p, seed=7), _values(4, p, 8)
    np.testing.assert_allclose(mem.pseudoinverse_memory(x, y), y @ np.linalg.pinv(x), rtol=1e-7, atol=1e-9)


def test_pseudoinverse_memory_is_the_memo_formula_when_p_at_least_d() -> None:
    # Memo eq. (10), A = Y X^T (X X^T)^{-1}, exists (and equals Y X^+) when rank X = d <= P.
    x, y = mem.unit_keys(10, 30, seed=0), _values(3, 30, 1)
    memo = y @ x.T @ np.linalg.inv(x @ x.T)
    np.testing.assert_allclose(mem.pseudoinverse_memory(x, y), memo, rtol=1e-9, atol=1e-11)


def test_pseudoinverse_memory_has_minimum_norm() -> None:
    # P < d: every A + B (I - X X^+) is exact too; the pseudo-inverse one has rows in the span of the keys,
    # so it is orthogonal to those additions and has the smallest Frobenius norm.
    x, y = mem.unit_keys(12, 4, seed=0), _values(3, 4, 1)
    a = mem.pseudoinverse_memory(x, y)
    projector = np.eye(12) - x @ np.linalg.pinv(x)
    other = a + _values(3, 12, 2) @ projector
    np.testing.assert_allclose(other @ x, y, atol=1e-10)
    assert np.linalg.norm(a) < np.linalg.norm(other)
    np.testing.assert_allclose(a @ projector, 0.0, atol=1e-12)


def test_pseudoinverse_memory_falls_back_for_dependent_keys() -> None:
    x = mem.unit_keys(6, 3, seed=0)
    x = np.hstack([x, x[:, :1]])  # a repeated key: singular Gram matrix
    y = _values(2, 4, 1)
    np.testing.assert_allclose(mem.pseudoinverse_memory(x, y), y @ np.linalg.pinv(x), rtol=1e-9, atol=1e-12)


def test_recall_error_values() -> None:
    x, y = np.eye(2), np.array([[3.0, 4.0]])
    assert mem.recall_error(np.zeros((1, 2)), x, y) == 1.0
    assert mem.recall_error(np.array([[3.0, 0.0]]), x, y) == pytest.approx(16 / 25)


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: mem.correlation_memory([[1.0]], np.ones((1, 1))), TypeError, "keys"),
        (lambda: mem.correlation_memory(np.ones((2, 3)), np.ones((1, 2))), ValueError, "values"),
        (lambda: mem.correlation_memory(np.ones(3), np.ones((1, 3))), ValueError, "keys"),
        (lambda: mem.correlation_memory(np.ones((2, 2), dtype=complex), np.ones((1, 2))), TypeError, "keys"),
        (lambda: mem.correlation_memory(np.ones((2, 2), dtype=bool), np.ones((1, 2))), TypeError, "keys"),
        (lambda: mem.pseudoinverse_memory(np.full((2, 2), np.nan), np.ones((1, 2))), ValueError, "finite"),
        (lambda: mem.recall_error(np.ones((2, 2)), np.eye(2), np.ones((1, 2))), ValueError, "memory"),
        (lambda: mem.recall_error(np.ones((1, 2)), np.eye(2), np.zeros((1, 2))), ValueError, "values"),
    ],
)
def test_memory_errors(call, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        call()


# --- predictions ----------------------------------------------------------------------------------


def _mean_and_standard_error(samples: list[float]) -> tuple[float, float]:
    a = np.asarray(samples)
    return float(a.mean()), float(a.std(ddof=1) / math.sqrt(a.size))


@pytest.mark.parametrize(("d", "p"), [(64, 8), (64, 64), (128, 256)])
def test_crosstalk_of_unit_keys_matches_formula(d: int, p: int) -> None:
    # (P - 1)/d is an exact expectation; the tolerance is 4 standard errors of the mean over 40 trials
    # (plus 1% for the ratio-of-sums definition of recall_error, whose bias is O(1/(m P)) <= 1/512).
    errors = []
    for t in range(40):
        x, y = mem.unit_keys(d, p, seed=t), _values(16, p, 1000 + t)
        errors.append(mem.recall_error(mem.correlation_memory(x, y), x, y))
    mean, se = _mean_and_standard_error(errors)
    predicted = mem.crosstalk_variance(p, d)
    assert abs(mean - predicted) <= 4 * se + 0.01 * predicted


def test_crosstalk_given_the_keys_is_the_off_diagonal_gram_energy() -> None:
    # For fixed unit keys, averaging over Gaussian values: E|A X - Y|^2 / E|Y|^2 = (|G|_F^2 - P) / P,
    # G = X^T X. Averaged over 400 value draws with m = 8 (3200 Gaussian rows): relative standard error
    # about sqrt(2 / 3200) ~ 2.5%; tolerance 10%.
    x = mem.unit_keys(32, 20, seed=5)
    gram = x.T @ x
    exact = (np.sum(gram**2) - 20) / 20
    rng = np.random.default_rng(9)
    num = den = 0.0
    for _ in range(400):
        y = rng.standard_normal((8, 20))
        num += np.sum((mem.correlation_memory(x, y) @ x - y) ** 2)
        den += np.sum(y**2)
    assert abs(num / den - exact) < 0.1 * exact


@pytest.mark.parametrize("rho", [0.0, 0.2, 0.5])
def test_crosstalk_of_correlated_keys_matches_formula(rho: float) -> None:
    # Exact expectation (P + 1)(1 - rho^2)/d + (P - 1) rho^2. The shared direction makes every item's error
    # contain the same vector rho * sum_j y_j, so one trial fluctuates by ~ sqrt(2/m); 60 trials, 4 standard
    # errors, plus 1% for the ratio-of-sums bias.
    d, p = 64, 24
    errors = []
    for t in range(60):
        x, y = mem.correlated_keys(d, p, rho, seed=t), _values(16, p, 500 + t)
        errors.append(mem.recall_error(mem.correlation_memory(x, y), x, y))
    mean, se = _mean_and_standard_error(errors)
    predicted = mem.crosstalk_variance(p, d, rho, keys="correlated")
    assert abs(mean - predicted) <= 4 * se + 0.01 * predicted


def test_crosstalk_variance_values() -> None:
    assert mem.crosstalk_variance(1, 10) == 0.0
    assert mem.crosstalk_variance(65, 256) == 0.25
    assert mem.crosstalk_variance(9, 100, 0.0, keys="correlated") == pytest.approx(0.10)
    assert mem.crosstalk_variance(11, 100, 0.5, keys="correlated") == pytest.approx(12 * 0.75 / 100 + 10 * 0.25)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"n_pairs": 0, "d": 4}, ValueError, "n_pairs"),
        ({"n_pairs": 2, "d": 0}, ValueError, "d"),
        ({"n_pairs": 2, "d": 4, "rho": 0.1}, ValueError, "rho"),
        ({"n_pairs": 2, "d": 4, "rho": 1.0, "keys": "correlated"}, ValueError, "rho"),
        ({"n_pairs": 2, "d": 4, "keys": "gaussian"}, ValueError, "keys"),
    ],
)
def test_crosstalk_variance_errors(kwargs: dict, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        mem.crosstalk_variance(**kwargs)


@pytest.mark.parametrize(("d", "p"), [(32, 16), (32, 48), (32, 128)])
def test_least_squares_error_matches_measurement(d: int, p: int) -> None:
    # Exact expectation over the values: the residual is Y times a projector of rank P - min(d, P).
    # 30 trials with m = 16: the relative error is a ratio of chi-squares with >= 16 * 16 degrees of
    # freedom each; 4 standard errors plus 1% for the ratio bias.
    errors = []
    for t in range(30):
        x, y = mem.unit_keys(d, p, seed=t), _values(16, p, 300 + t)
        errors.append(mem.recall_error(mem.pseudoinverse_memory(x, y), x, y))
    mean, se = _mean_and_standard_error(errors)
    predicted = mem.least_squares_error(p, d)
    assert abs(mean - predicted) <= 4 * se + 0.01 * predicted + 1e-15


def test_least_squares_error_values_and_errors() -> None:
    assert mem.least_squares_error(5, 10) == 0.0
    assert mem.least_squares_error(10, 10) == 0.0
    assert mem.least_squares_error(40, 10) == 0.75
    with pytest.raises(ValueError, match="n_pairs"):
        mem.least_squares_error(0, 10)
    with pytest.raises(TypeError, match="d must be an int, got float 2.5"):
        mem.least_squares_error(3, 2.5)


# --- soft look-up ---------------------------------------------------------------------------------


def test_lookup_weights_rows_are_probabilities() -> None:
    x, q = mem.unit_keys(8, 30, seed=0), mem.unit_keys(8, 5, seed=1)
    for beta in (1e-3, 1.0, 30.0, 1e4):
        w = mem.lookup_weights(q, x, beta)
        assert w.shape == (5, 30)
        assert np.all(w >= 0)
        np.testing.assert_allclose(w.sum(axis=1), 1.0, rtol=1e-12)


def test_lookup_weights_reference_and_hot_limit() -> None:
    x, q = mem.unit_keys(5, 4, seed=2), mem.unit_keys(5, 3, seed=3)
    scores = 2.5 * q.T @ x
    reference = np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(mem.lookup_weights(q, x, 2.5), reference, rtol=1e-12)
    # beta -> 0: weights 1/P + O(beta); with |q . x| <= 1 the deviation is at most ~ 2 beta.
    np.testing.assert_allclose(mem.lookup_weights(q, x, 1e-8), 0.25, atol=1e-7)


def test_soft_lookup_tends_to_hard_lookup_with_the_margin_bound() -> None:
    # |soft - hard| <= (1 - w_top) max_j |y_j - y_top| and 1 - w_top <= (P - 1) exp(-beta * margin).
    x, y = mem.unit_keys(16, 12, seed=4), _values(3, 12, 5)
    q = x + 0.1 * mem.unit_keys(16, 12, seed=6)  # noisy versions of the stored keys
    hard = mem.hard_lookup(q, x, y)
    scores = q.T @ x
    top = np.sort(scores, axis=1)
    margins = top[:, -1] - top[:, -2]
    assert np.all(margins > 0)
    spread = max(np.linalg.norm(y[:, i] - y[:, j]) for i in range(12) for j in range(12))
    previous = np.inf
    for beta in (1.0, 5.0, 20.0, 80.0, 320.0):
        soft = mem.soft_lookup(q, x, y, beta)
        gaps = np.linalg.norm(soft - hard, axis=0)
        assert np.all(gaps <= 11 * np.exp(-beta * margins) * spread + 1e-12)
        assert gaps.max() <= previous + 1e-12 or beta <= 5.0
        previous = gaps.max()
    np.testing.assert_allclose(mem.soft_lookup(q, x, y, 1e5), hard, atol=1e-9)


def test_soft_lookup_blend_limit_is_the_mean_value() -> None:
    x, y = mem.unit_keys(6, 5, seed=0), _values(2, 5, 1)
    np.testing.assert_allclose(mem.soft_lookup(x, x, y, 1e-9), np.repeat(y.mean(axis=1, keepdims=True), 5, axis=1), atol=1e-8)


def test_hard_lookup_returns_stored_values() -> None:
    x, y = mem.unit_keys(10, 7, seed=0), _values(3, 7, 1)
    np.testing.assert_array_equal(mem.hard_lookup(x, x, y), y)


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: mem.lookup_weights(np.ones((3, 1)), np.ones((2, 4))), ValueError, "queries"),
        (lambda: mem.lookup_weights(np.ones((2, 1)), np.ones((2, 4)), beta=0.0), ValueError, "beta"),
        (lambda: mem.lookup_weights(np.ones((2, 1)), np.ones((2, 4)), beta=math.inf), ValueError, "beta"),
        (lambda: mem.lookup_weights(np.ones((2, 1)), np.ones((2, 4)), beta="1"), TypeError, "beta"),
        (lambda: mem.soft_lookup(np.ones((2, 1)), np.ones((2, 4)), np.ones((1, 3))), ValueError, "values"),
        (lambda: mem.hard_lookup(np.ones((2, 1)), np.ones((2, 4)), [[1.0]]), TypeError, "values"),
    ],
)
def test_lookup_errors(call, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        call()


def test_expected_leak_against_quadrature_and_large_d_form() -> None:
    # Reference: integrate exp(beta c) against the density of c = x . y, proportional to (1 - c^2)^((d-3)/2).
    for d, beta in ((8, 3.0), (64, 12.0), (128, 10.0)):
        density = lambda c: (1 - c * c) ** ((d - 3) / 2)  # noqa: E731
        norm = integrate.quad(density, -1, 1)[0]
        mgf = integrate.quad(lambda c: np.exp(beta * (c - 1)) * density(c), -1, 1)[0] / norm
        assert mem.expected_leak(2, d, beta) == pytest.approx(mgf, rel=1e-7)
        assert mem.expected_leak(11, d, beta) == pytest.approx(10 * mgf, rel=1e-7)
    # For large d the moment generating function tends to exp(beta^2 / (2 d)); at d = 1024, beta = 20 the
    # next correction is of relative order beta^4 / d^3 and 1/d, far below 1%.
    assert mem.expected_leak(2, 1024, 20.0) == pytest.approx(math.exp(-20 + 400 / 2048), rel=0.01)
    assert mem.expected_leak(1, 16, 2.0) == 0.0


def test_expected_leak_bounds_the_measured_leak() -> None:
    # E[leak] <= E[S] exactly, and E[leak] >= E[S] - E[S^2] since S/(1+S) >= S - S^2. Here E[S] ~ 2.7e-3 and
    # E[S^2] ~ E[S]^2 + (P-1) E exp(2 beta (c-1)) ~ 7.4e-6 + 1e-7, so the gap is ~ 0.3% of E[S]; we allow 1%
    # below, plus 4 standard errors of the mean over the 4 P stored keys either way.
    d, p, beta = 128, 256, 12.0
    leaks = []
    for t in range(4):
        x = mem.unit_keys(d, p, seed=t)
        leaks.extend(1 - np.diag(mem.lookup_weights(x, x, beta)))
    mean, se = _mean_and_standard_error(leaks)
    bound = mem.expected_leak(p, d, beta)
    assert mean <= bound + 4 * se
    assert mean >= 0.99 * bound - 4 * se


def test_expected_leak_errors() -> None:
    with pytest.raises(ValueError, match="d must be >= 2, got 1"):
        mem.expected_leak(3, 1, 1.0)
    with pytest.raises(ValueError, match="beta"):
        mem.expected_leak(3, 4, -1.0)


# --- explorer compute -----------------------------------------------------------------------------


def test_memory_summary_contents() -> None:
    s = mem.summary(40, 32, 0.2, beta=15.0, seed=1)
    assert set(s) >= {"errors", "predicted", "similarities", "norms2", "n_pairs", "d", "rho", "beta"}
    assert set(s["errors"]) == {"correlation", "pseudo-inverse", "softmax"}
    assert s["similarities"].shape == (40 * 39 // 2,) and s["norms2"].shape == (40,)
    assert s["predicted"]["pseudo-inverse"] == pytest.approx(0.2)
    # one trial of the least-squares error: a chi-square with m (P - d) = 256 degrees of freedom over one with
    # m P = 1280, relative standard deviation about sqrt(2/256) ~ 9%, i.e. 0.018 around 0.2; 0.1 is > 5 of them.
    assert abs(s["errors"]["pseudo-inverse"] - 0.2) < 0.1
    assert (s["n_pairs"], s["d"], s["rho"], s["beta"]) == (40, 32, 0.2, 15.0)
    assert mem.summary(10, 32, 0.0)["errors"]["pseudo-inverse"] < 1e-18


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"n_pairs": 2000, "d": 8, "rho": 0.0}, ValueError, "n_pairs"),
        ({"n_pairs": 4, "d": 512, "rho": 0.0}, ValueError, "d"),
        ({"n_pairs": 4, "d": 8, "rho": 1.5}, ValueError, "rho"),
        ({"n_pairs": 4, "d": 8, "rho": 0.0, "beta": 0.0}, ValueError, "beta"),
        ({"n_pairs": 4, "d": 8, "rho": 0.0, "m": 0}, ValueError, "m"),
    ],
)
def test_memory_summary_errors(kwargs: dict, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        mem.summary(**kwargs)
