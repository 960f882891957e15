"""Tests for cosp_helpers.bounds: the bound formulas against hand values, the closed-form suprema against
explicit maximisers and random feasible parameters, Monte Carlo against exact enumeration, the widget's
compute time, and every error the module raises."""

from __future__ import annotations

import math

import numpy as np
import pytest

from cosp_helpers.bounds import (
    MonteCarlo,
    generalization_bound,
    golowich_bound,
    grs_factor,
    jensen_bound,
    kernel_bound,
    overlap_factor,
    overlap_summary,
    rademacher_exact,
    rademacher_mc,
    rademacher_sup,
    tree_toeplitz_ratio,
)
from cosp_helpers.bounds import LocalNet, extract_patches


def sample(m: int = 10, n: int = 12, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((m, n))


def signs(draws: int, m: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 2, size=(draws, m)) * 2.0 - 1.0


# ----------------------------------------------------------------------------------------------------
# bound formulas
# ----------------------------------------------------------------------------------------------------


def test_grs_factor_values():
    assert grs_factor(1) == math.sqrt(2 * math.log(2)) + 1
    assert math.isclose(grs_factor(8), math.sqrt(16 * math.log(2)) + 1)


def test_golowich_bound_formula_and_its_B_form():
    x = sample(20, 5)
    norms = [1.5, 2.0, 0.5]
    expected = grs_factor(3) * 1.5 * np.sqrt(np.sum(x**2)) / 20
    assert math.isclose(golowich_bound(norms, x), expected, rel_tol=1e-12)
    b = np.linalg.norm(x, axis=1).max()  # with ||x_i|| <= B the bound is at most B (...) prod / sqrt(m)
    assert golowich_bound(norms, x) <= b * grs_factor(3) * 1.5 / math.sqrt(20)


def test_golowich_bound_holds_for_the_linear_class():
    # depth 1: the class {<w, x>: ||w|| <= B} has complexity (B/m) E||sum sigma_i x_i|| <= the bound
    x = sample(12, 6, seed=1)
    assert rademacher_exact(x, "linear", radius=2.0) <= golowich_bound([2.0], x)


def test_kernel_bound_constants():
    x = np.ones((9, 4))  # sqrt(sum ||x_i||^2) / m = 6 / 9
    assert math.isclose(kernel_bound([2.0, 3.0], x), 2 * 6.0 * 6 / 9, rel_tol=1e-12)
    assert math.isclose(kernel_bound([2.0, 3.0], x, constant="memo"), grs_factor(2) * 6.0 * 6 / 9, rel_tol=1e-12)


@pytest.mark.parametrize("depth", range(1, 9))
def test_tree_toeplitz_ratio_is_two_to_the_l_l_minus_one_over_four(depth):
    assert math.isclose(tree_toeplitz_ratio(2**depth, 2), 2 ** (depth * (depth - 1) / 4), rel_tol=1e-12)


@pytest.mark.parametrize("n, k", [(16, 2), (27, 3), (64, 4)])
def test_tree_toeplitz_ratio_matches_a_one_channel_network(n, k):
    net = LocalNet(n, channels=1, kernel_size=k, connectivity="conv", seed=0)
    x = sample(5, n)
    # same constant on both sides: the ratio of the bounds is the ratio of the norm products
    ratio = golowich_bound(net.frobenius_norms(), x) / kernel_bound(net.kernel_norms(), x, constant="memo")
    assert math.isclose(ratio, tree_toeplitz_ratio(n, k), rel_tol=1e-10)


def test_overlap_factor_values_and_worst_case():
    assert overlap_factor(4, 0) == 1.0
    assert overlap_factor(6, 3) == math.sqrt(2) == overlap_factor(6, 3, worst_case=True)  # stride 3 divides 6
    assert overlap_factor(3, 1) == math.sqrt(1.5) < overlap_factor(3, 1, worst_case=True) == math.sqrt(2)
    for k in range(1, 9):
        for o in range(k):
            assert overlap_factor(k, o) <= overlap_factor(k, o, worst_case=True)


def test_generalization_bound_formula():
    expected = 0.2 + 6 * math.sqrt(math.log(200) / 400)  # 2 R + 3 c sqrt(log(2 / 0.01) / (2 * 200)) with c = 2
    assert math.isclose(generalization_bound(0.1, 200, delta=0.01, loss_range=2.0), expected)


# ----------------------------------------------------------------------------------------------------
# closed-form suprema
# ----------------------------------------------------------------------------------------------------


def _value(sigma, x, weights, readout):
    """(1/m) sum_i sigma_i f(x_i) for f(x) = sum_p a_p <w_p, r_p(x)> given the receptive fields."""
    return float(sigma @ np.einsum("ipk,pk->ip", x, weights) @ readout) / len(sigma)


@pytest.mark.parametrize("k, s", [(4, 4), (4, 2), (3, 3)])
def test_suprema_are_attained_by_explicit_maximisers(k, s):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((9, 12))
    sigma = signs(1, 9, seed=3)[0]
    patches = extract_patches(x, k, s)  # (m, P, K)
    count = patches.shape[1]
    total = sigma @ x
    big = extract_patches(total, k, s)  # (P, K): the patches of S
    b = 1.7
    # local, per-unit norms: w_p along S_p, readout along (||S_p||)_p
    norms = np.linalg.norm(big, axis=1)
    local = _value(sigma, patches, b * big / norms[:, None], norms / np.linalg.norm(norms))
    assert math.isclose(local, rademacher_sup(sigma[None], x, "local", k, s, "unit", b)[0], rel_tol=1e-12)
    # local, Toeplitz norm: all of the budget on the patch with the largest ||S_p||
    best = int(np.argmax(norms))
    weights = np.zeros_like(big)
    weights[best] = b * big[best] / norms[best]
    local_t = _value(sigma, patches, weights, np.eye(count)[best])
    assert math.isclose(local_t, rademacher_sup(sigma[None], x, "local", k, s, "toeplitz", b)[0], rel_tol=1e-12)
    # conv: the top singular pair of the P x K matrix of patches of S
    u, svals, vt = np.linalg.svd(big)
    conv = _value(sigma, patches, np.tile(b * vt[0], (count, 1)), u[:, 0])
    assert math.isclose(conv, rademacher_sup(sigma[None], x, "conv", k, s, "unit", b)[0], rel_tol=1e-12)
    # dense, per-unit norms: every unit along S, readout uniform
    dense = float(sigma @ (x @ (b * total / np.linalg.norm(total)))) * math.sqrt(count) / 9
    assert math.isclose(dense, rademacher_sup(sigma[None], x, "dense", k, s, "unit", b)[0], rel_tol=1e-12)


@pytest.mark.parametrize("kind", ["local", "conv"])
def test_no_random_feasible_network_beats_the_supremum(kind):
    rng = np.random.default_rng(4)
    x = rng.standard_normal((8, 12))
    sigma = signs(1, 8, seed=5)[0]
    patches = extract_patches(x, 3, 3)  # P = 4
    sup = rademacher_sup(sigma[None], x, kind, 3, 3, "unit", 1.0)[0]
    for _ in range(2000):
        if kind == "conv":
            w = np.tile(rng.standard_normal(3), (4, 1))
        else:
            w = rng.standard_normal((4, 3))
        w /= np.linalg.norm(w, axis=1, keepdims=True)  # every unit at the norm bound
        a = rng.standard_normal(4)
        assert _value(sigma, patches, w, a / np.linalg.norm(a)) <= sup + 1e-12


def test_suprema_identities_and_inequalities():
    x = sample(30, 24, seed=6)
    sigma = signs(500, 30, seed=7)
    dense = rademacher_sup(sigma, x, "dense", 4, 4)
    local = rademacher_sup(sigma, x, "local", 4, 4)
    conv = rademacher_sup(sigma, x, "conv", 4, 4)
    linear = rademacher_sup(sigma, x, "linear")
    # non-overlapping patches: sum_p ||S_p||^2 = ||S||^2, so local = linear and dense = sqrt(P) local, draw by draw
    assert np.allclose(local, linear, rtol=1e-12) and np.allclose(dense, math.sqrt(6) * local, rtol=1e-12)
    # ||A||_op <= ||A||_F <= sqrt(rank) ||A||_op with rank <= min(P, K) = 4
    assert np.all(conv <= local * (1 + 1e-12)) and np.all(local <= 2 * conv * (1 + 1e-12))
    # the three normalisations of the same class
    assert np.allclose(rademacher_sup(sigma, x, "conv", 4, 4, "toeplitz"), conv / math.sqrt(6), rtol=1e-12)
    assert np.allclose(rademacher_sup(sigma, x, "conv", 4, 4, "parameters"), conv, rtol=1e-12)
    assert np.allclose(rademacher_sup(sigma, x, "dense", 4, 4, "toeplitz"), linear, rtol=1e-12)
    assert np.all(rademacher_sup(sigma, x, "local", 4, 4, "toeplitz") <= linear * (1 + 1e-12))


def test_suprema_scale_with_the_radius():
    x, sigma = sample(6, 8, seed=8), signs(10, 6, seed=9)
    for kind in ("linear", "dense", "local", "conv"):
        one = rademacher_sup(sigma, x, kind, 2, 2)
        assert np.allclose(rademacher_sup(sigma, x, kind, 2, 2, radius=3.0), 3 * one, rtol=1e-12)


# ----------------------------------------------------------------------------------------------------
# Monte Carlo, exact enumeration, Jensen
# ----------------------------------------------------------------------------------------------------


def test_exact_enumeration_on_a_hand_example():
    # x_1 = x_2 = 1 in R^1: |s1 + s2| / 2 over the four sign pairs is 1, 0, 0, 1
    assert rademacher_exact(np.ones((2, 1)), "linear") == 0.5
    # orthonormal points: ||sum sigma_i e_i|| = sqrt(m) for every sign vector
    assert math.isclose(rademacher_exact(np.eye(9), "linear"), 3 / 9, rel_tol=1e-12)


CLASSES = [("linear", "unit"), ("local", "unit"), ("conv", "unit"), ("dense", "toeplitz"), ("local", "parameters")]


@pytest.mark.parametrize("kind, norm", CLASSES)
def test_monte_carlo_agrees_with_exact_enumeration(kind, norm):
    x = sample(12, 12, seed=10)
    exact = rademacher_exact(x, kind, 3, 3, norm)
    est = rademacher_mc(x, kind, 3, 3, norm, n_draws=4000, seed=11)
    # the estimate is a mean of 4000 i.i.d. draws: within 4 standard errors except with probability ~6e-5
    assert isinstance(est, MonteCarlo) and est.n_draws == 4000
    assert abs(est.mean - exact) <= 4 * est.std_error


def test_monte_carlo_is_reproducible():
    x = sample(8, 8, seed=12)
    assert rademacher_mc(x, "conv", 2, 2, seed=3) == rademacher_mc(x, "conv", 2, 2, seed=3)


@pytest.mark.parametrize("kind, k, s", [("linear", None, None), ("dense", 3, 3), ("local", 3, 3), ("local", 4, 2)])
def test_jensen_bound_sandwiches_the_exact_value(kind, k, s):
    x = sample(10, 12, seed=13)
    exact = rademacher_exact(x, kind, k, s)
    bound = jensen_bound(x, kind, k, s)
    # E||Z|| <= sqrt(E||Z||^2) = bound, and E||Z|| >= bound / sqrt(2) (Khintchine-Kahane, Latała-Oleszkiewicz)
    assert bound / math.sqrt(2) <= exact <= bound


def test_jensen_bound_is_exact_for_orthonormal_points_and_bounds_conv():
    assert math.isclose(jensen_bound(np.eye(16), "linear"), rademacher_exact(np.eye(16), "linear"), rel_tol=1e-12)
    x = sample(10, 12, seed=14)
    assert rademacher_exact(x, "conv", 4, 2) <= jensen_bound(x, "conv", 4, 2) == jensen_bound(x, "local", 4, 2)


# ----------------------------------------------------------------------------------------------------
# the widget's compute function
# ----------------------------------------------------------------------------------------------------


def test_overlap_summary_values():
    out = overlap_summary(4, 2, n_inputs=64)
    assert out["stride"] == 2 and out["n_patches"] == 31
    assert math.isclose(out["toeplitz_ratio"], math.sqrt(31))
    assert out["conjecture"] == out["worst_case"] == math.sqrt(2)
    assert 1.0 < out["measured"] <= out["worst_case"]  # multiplicities are 1 at the ends and 2 inside
    assert math.isclose(out["net_ratio"], math.sqrt(31 / 2))
    assert out["toeplitz"].shape == (31, 64) and out["curve_conjecture"].shape == (4,)
    assert out["curve_conjecture"][2] == out["conjecture"]


# ----------------------------------------------------------------------------------------------------
# errors
# ----------------------------------------------------------------------------------------------------


def test_bound_errors():
    x = sample(3, 4)
    with pytest.raises(ValueError, match="depth must be >= 1, got 0"):
        grs_factor(0)
    with pytest.raises(TypeError, match="frobenius_norms must be a sequence"):
        golowich_bound(2.0, x)
    with pytest.raises(ValueError, match="kernel_norms must list one norm per layer"):
        kernel_bound([], x)
    with pytest.raises(ValueError, match="finite non-negative"):
        golowich_bound([1.0, -1.0], x)
    with pytest.raises(ValueError, match=r"constant must be one of \('proof', 'memo'\), got 'grs'"):
        kernel_bound([1.0], x, constant="grs")
    with pytest.raises(TypeError, match="x must be a numpy array"):
        golowich_bound([1.0], [[1.0]])
    with pytest.raises(ValueError, match="n_inputs must be a power of kernel_size = 2, got 12"):
        tree_toeplitz_ratio(12, 2)
    with pytest.raises(ValueError, match=r"overlap must be < kernel_size = 3 \(stride K - O >= 1\), got 3"):
        overlap_factor(3, 3)
    with pytest.raises(ValueError, match="overlap must be >= 0, got -1"):
        overlap_factor(3, -1)


def test_generalization_bound_errors():
    with pytest.raises(ValueError, match="rademacher must be finite and >= 0, got -0.1"):
        generalization_bound(-0.1, 10)
    with pytest.raises(TypeError, match="rademacher must be a real number"):
        generalization_bound("0.1", 10)
    with pytest.raises(ValueError, match=r"delta must be in \(0, 1\), got 1.0"):
        generalization_bound(0.1, 10, delta=1.0)
    with pytest.raises(ValueError, match="loss_range must be > 0"):
        generalization_bound(0.1, 10, loss_range=0.0)
    with pytest.raises(ValueError, match="m must be >= 1, got 0"):
        generalization_bound(0.1, 0)


def test_rademacher_errors():
    x = sample(4, 8)
    sigma = signs(3, 4)
    with pytest.raises(ValueError, match=r"kind must be one of \('linear', 'dense', 'local', 'conv'\), got 'sparse'"):
        rademacher_sup(sigma, x, "sparse", 2, 2)
    with pytest.raises(ValueError, match=r"norm must be one of \('unit', 'toeplitz', 'parameters'\), got 'max'"):
        rademacher_sup(sigma, x, "conv", 2, 2, norm="max")
    with pytest.raises(ValueError, match="kind 'local' needs kernel_size and stride"):
        rademacher_sup(sigma, x, "local")
    with pytest.raises(ValueError, match=r"sigma must be a numpy array of shape \(draws, m=4\), got \(3, 5\)"):
        rademacher_sup(signs(3, 5), x, "linear")
    with pytest.raises(ValueError, match="sigma must hold signs"):
        rademacher_sup(np.zeros((3, 4)), x, "linear")
    with pytest.raises(ValueError, match="radius must be > 0"):
        rademacher_sup(sigma, x, "linear", radius=0.0)
    with pytest.raises(ValueError, match="n_draws must be >= 2, got 1"):
        rademacher_mc(x, "linear", n_draws=1)
    with pytest.raises(ValueError, match="x must have at most 16 rows for exact enumeration"):
        rademacher_exact(sample(17, 2), "linear")
    with pytest.raises(ValueError, match="kind 'conv' needs kernel_size and stride"):
        jensen_bound(x, "conv")


def test_overlap_summary_errors():
    with pytest.raises(ValueError, match="overlap must be < kernel_size = 4"):
        overlap_summary(4, 4)
    with pytest.raises(ValueError, match="n_inputs must be >= 8, got 4"):
        overlap_summary(8, 0, n_inputs=4)
