"""Tests of cosp_helpers.hierarchical: targets, the overlap metric, the spectral step, layer-wise training, kernel ridge."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from cosp_helpers.hierarchical import (
    HierarchicalTarget,
    LayerwiseNet,
    fit_layerwise,
    hierarchical_target,
    kernel_ridge_rbf,
    spectral_first_layer,
    subspace_overlap,
)


# ---------------------------------------------------------------- targets


@pytest.mark.parametrize("d, k", [(8, 2), (32, 4), (64, 8)])
def test_target_rows_orthonormal_and_shapes(d, k):
    t = hierarchical_target(d, k, seed=3)
    assert isinstance(t, HierarchicalTarget)
    assert t.weights.shape == (k, d) and t.signs.shape == (k,)
    np.testing.assert_allclose(t.weights @ t.weights.T, np.eye(k), atol=1e-12)
    assert set(np.unique(t.signs)) <= {-1.0, 1.0}
    assert t.d == d and t.k == k and math.isclose(d**t.eps, k)
    x, y = t.sample(7, seed=0)
    assert x.shape == (7, d) and y.shape == (7,) and x.dtype == np.float32 and y.dtype == np.float32
    assert t.feature(x.astype(float)).shape == (7,)


def test_target_formula_against_explicit_hermite():
    t = hierarchical_target(10, 3, slope=2.0, seed=1)
    x = np.random.default_rng(0).normal(size=(50, 10))
    z = x @ t.weights.T
    he2, he3 = z**2 - 1, z**3 - 3 * z  # probabilists' Hermite polynomials
    h = sum(t.signs[i] * (he2[:, i] / math.sqrt(2) + he3[:, i] / math.sqrt(6)) for i in range(3)) / math.sqrt(3)
    np.testing.assert_allclose(t.feature(x), h, rtol=1e-12)
    np.testing.assert_allclose(t(x), np.tanh(2.0 * h), rtol=1e-12)


def test_normalisation_gives_unit_variance_feature():
    # z_i independent N(0, 1) (orthonormal rows), so Var h* = (1/k) sum_i Var sigma1(z_i) = Var sigma1(z)
    # = Var He2 / 2 + Var He3 / 6 = 2/2 + 6/6 = 2 (He2 and He3 are orthogonal).
    t = hierarchical_target(32, 4, seed=0)
    x = np.random.default_rng(1).normal(size=(400_000, 32))
    h = t.feature(x)
    # standard error of the sample variance is sqrt((E h^4 - 4) / n); E h^4 < 100 here, so SE < 0.016: 0.05 is > 3 SE
    assert abs(h.var() - 2.0) < 0.05
    assert abs(h.mean()) < 0.01  # standard error sqrt(2 / n) = 0.0022


def test_target_is_deterministic_and_seed_dependent():
    a, b, c = hierarchical_target(16, 4, seed=5), hierarchical_target(16, 4, seed=5), hierarchical_target(16, 4, seed=6)
    np.testing.assert_array_equal(a.weights, b.weights)
    assert not np.allclose(a.weights, c.weights)
    np.testing.assert_array_equal(a.sample(5, seed=2)[0], b.sample(5, seed=2)[0])


def test_target_depends_on_x_only_through_span():
    t = hierarchical_target(12, 3, seed=2)
    x = np.random.default_rng(0).normal(size=(20, 12))
    orth = np.random.default_rng(1).normal(size=(20, 12))
    orth -= orth @ t.weights.T @ t.weights  # remove the component in span(W*)
    np.testing.assert_allclose(t(x + orth), t(x), atol=1e-12)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(d=1, k=1), ValueError, "d must be >= 2"),
        (dict(d=8, k=8), ValueError, "k must be < d"),
        (dict(d=8, k=0), ValueError, "k must be >= 1"),
        (dict(d=8.0, k=2), TypeError, "d must be an int"),
        (dict(d=8, k=2, slope=0.0), ValueError, "slope must be > 0"),
        (dict(d=8, k=2, seed=-1), ValueError, "seed must be >= 0"),
    ],
)
def test_target_errors(kwargs, error, match):
    with pytest.raises(error, match=match):
        hierarchical_target(**kwargs)


def test_target_call_errors():
    t = hierarchical_target(8, 2)
    with pytest.raises(ValueError, match="x must have 8 columns"):
        t.feature(np.zeros((3, 7)))
    with pytest.raises(TypeError, match="x must be a numpy array"):
        t([[0.0] * 8])
    with pytest.raises(ValueError, match="n must be >= 1"):
        t.sample(0)


# ---------------------------------------------------------------- overlap


def test_overlap_inside_outside_and_mixed():
    basis = np.eye(6)[:2]
    assert subspace_overlap(np.random.default_rng(0).normal(size=(5, 2)) @ basis, basis) == pytest.approx(1.0, abs=1e-12)
    assert subspace_overlap(np.eye(6)[2:], basis) == pytest.approx(0.0, abs=1e-12)
    # one row inside, one row outside, of equal norm: half
    assert subspace_overlap(np.array([[2.0, 0, 0, 0, 0, 0], [0, 0, 2.0, 0, 0, 0]]), basis) == pytest.approx(0.5)


def test_overlap_ignores_basis_scaling_and_mixing():
    rng = np.random.default_rng(1)
    basis = np.linalg.qr(rng.normal(size=(10, 3)))[0].T  # (3, 10) orthonormal rows
    mixed = rng.normal(size=(3, 3)) @ basis  # same row space, not orthonormal
    w = rng.normal(size=(4, 10))
    assert subspace_overlap(w, mixed) == pytest.approx(subspace_overlap(w, basis), rel=1e-10)
    assert subspace_overlap(torch.tensor(w), torch.tensor(basis)) == pytest.approx(subspace_overlap(w, basis), rel=1e-6)


def test_overlap_of_random_weights_is_k_over_d():
    # E ||g P||^2 / ||g||^2 = k/d for a rotation-invariant g; the mean of 4000 draws of a (3, 32) Gaussian matrix has a
    # standard deviation of about sqrt(2 (k/d)(1 - k/d) / (3 d + 2)) / sqrt(4000) ~ 0.0007 (Beta(3k/2, 3(d-k)/2)): 0.004 is > 5 SD
    d, k = 32, 4
    basis = hierarchical_target(d, k, seed=0).weights
    rng = np.random.default_rng(7)
    values = [subspace_overlap(rng.normal(size=(3, d)), basis) for _ in range(4000)]
    assert abs(np.mean(values) - k / d) < 0.004


def test_overlap_errors():
    basis = np.eye(4)[:2]
    with pytest.raises(ValueError, match="same number of columns"):
        subspace_overlap(np.ones((2, 3)), basis)
    with pytest.raises(ValueError, match="full row rank"):
        subspace_overlap(np.ones((2, 4)), np.array([[1.0, 0, 0, 0], [2.0, 0, 0, 0]]))
    with pytest.raises(ValueError, match="must not be all zero"):
        subspace_overlap(np.zeros((2, 4)), basis)
    with pytest.raises(TypeError, match="weights must be a numpy array or torch tensor"):
        subspace_overlap([[1.0, 0, 0, 0]], basis)
    with pytest.raises(ValueError, match="basis must have shape"):
        subspace_overlap(np.ones((2, 4)), np.ones(4))


# ---------------------------------------------------------------- spectral first layer


def test_spectral_layer_orthonormal_and_exact_on_noiseless_matrix():
    t = hierarchical_target(16, 3, seed=4)
    x, y = t.sample(500, seed=0)
    w1 = spectral_first_layer(x, y, 5)
    np.testing.assert_allclose(w1 @ w1.T, np.eye(5), atol=1e-10)
    # a reference: the same matrix built with an explicit loop
    yc = y.astype(float) - y.mean()
    m = sum(yc[i] * (np.outer(x[i], x[i]) - np.eye(16)) for i in range(len(y))) / len(y)
    values = np.linalg.eigvalsh(m)
    top = np.sort(np.abs(values))[::-1][:5]
    got = np.sort(np.abs(np.diag(w1 @ m @ w1.T)))[::-1]
    np.testing.assert_allclose(got, top, rtol=1e-8)


def test_spectral_overlap_follows_the_spiked_matrix_prediction():
    # BBP for a Wigner matrix with spikes mu_i: squared overlap 1 - sigma^2 / mu_i^2, sigma^2 = E[y^2] d / n.
    # For d = 32, k = 4, seed 0: mu_i ~ 0.37, E y^2 ~ 0.737 (Monte Carlo, 4e5 points), so at n = 4096 the prediction is 0.958.
    # Over 6 repetitions the measured mean is within 0.01 of it (spread of one run ~ 0.008); 0.02 leaves room for O(d/n) corrections.
    t = hierarchical_target(32, 4, seed=0)
    overlaps = [subspace_overlap(spectral_first_layer(*t.sample(4096, seed=s), 4), t.weights) for s in range(6)]
    xb, yb = t.sample(200_000, seed=99)
    z = xb.astype(float) @ t.weights.T
    mu = ((yb - yb.mean())[:, None] * (z**2 - 1)).mean(0)
    predicted = np.mean(1 - yb.var() * 32 / 4096 / mu**2)
    assert abs(np.mean(overlaps) - predicted) < 0.02


def test_target_qr_signs_are_canonical():
    # W* = Q^T from the QR factorisation G = QR of the target's Gaussian draw, with the columns of Q multiplied by sign(diag R):
    # then W* G = R' is upper triangular with a positive diagonal, whatever signs LAPACK returned.
    d, k, seed = 12, 4, 5
    g = np.random.default_rng(seed).standard_normal((d, k))  # the first draw hierarchical_target makes
    r = hierarchical_target(d, k, seed=seed).weights @ g
    np.testing.assert_allclose(np.tril(r, -1), 0, atol=1e-12)
    assert np.all(np.diag(r) > 0)


def _flip_and_rotate(vectors, cluster, seed):
    # another valid eigendecomposition: every vector's sign flipped at random, and a random rotation inside `cluster`
    rng = np.random.default_rng(seed)
    out = vectors * rng.choice([-1.0, 1.0], size=vectors.shape[1])
    rotation = np.linalg.qr(rng.standard_normal((len(cluster), len(cluster))))[0]
    out[:, cluster] = out[:, cluster] @ rotation
    return out


def test_spectral_layer_ignores_lapack_signs(monkeypatch):
    t = hierarchical_target(16, 3, seed=4)
    x, y = t.sample(500, seed=0)
    reference = spectral_first_layer(x, y, 3)
    true_eigh = np.linalg.eigh
    for seed in range(4):
        monkeypatch.setattr(np.linalg, "eigh", lambda a, s=seed: (lambda w, v: (w, _flip_and_rotate(v, [0], s)))(*true_eigh(a)))
        np.testing.assert_array_equal(spectral_first_layer(x, y, 3), reference)
    for row in reference:  # the sign rule: the entry of largest magnitude is positive
        assert row[np.argmax(np.abs(row))] > 0


def test_spectral_layer_canonical_basis_for_repeated_eigenvalues():
    from cosp_helpers.hierarchical import _canonical_top_eigenvectors

    d = 8
    basis = np.linalg.qr(np.random.default_rng(1).standard_normal((d, d)))[0]
    values = np.array([-0.1, 0.0, 0.05, 0.1, 0.2, 0.7, 0.7, 0.7])  # a triple eigenvalue on top, then 0.2, then a tie |-0.1| = 0.1
    reference = _canonical_top_eigenvectors(values, basis, 5)
    np.testing.assert_allclose(reference @ reference.T, np.eye(5), atol=1e-12)
    m = basis @ np.diag(values) @ basis.T
    top_span = basis[:, [5, 6, 7]]
    np.testing.assert_allclose(reference[:3] @ top_span @ top_span.T, reference[:3], atol=1e-12)  # rows 0-2 span the eigenspace
    np.testing.assert_allclose(np.abs(reference[3]), np.abs(basis[:, 4]), atol=1e-12)  # then the eigenvector of 0.2
    np.testing.assert_allclose(np.abs(reference[4]), np.abs(basis[:, 3]), atol=1e-12)  # the tie |+-0.1|: +0.1 first
    for seed in range(5):
        other = _flip_and_rotate(basis, [5, 6, 7], seed)
        np.testing.assert_allclose(_canonical_top_eigenvectors(values, other, 5), reference, atol=1e-12)
    # a near-repeated eigenvalue (gap 1e-12 of the scale) is treated as repeated; so is the output of eigh on m itself
    near = values + np.array([0, 0, 0, 0, 0, 0, 3e-13, 7e-13])
    np.testing.assert_allclose(_canonical_top_eigenvectors(near, _flip_and_rotate(basis, [5, 6, 7], 9), 5), reference, atol=1e-10)
    np.testing.assert_allclose(_canonical_top_eigenvectors(*np.linalg.eigh(m), 5), reference, atol=1e-7)


def test_spectral_errors():
    x = np.zeros((5, 4))
    with pytest.raises(ValueError, match="k must be <= 4"):
        spectral_first_layer(x, np.zeros(5), 5)
    with pytest.raises(ValueError, match=r"y must have shape \(5,\)"):
        spectral_first_layer(x, np.zeros(4), 2)
    with pytest.raises(TypeError, match="y must be a numpy array"):
        spectral_first_layer(x, [0.0] * 5, 2)


# ---------------------------------------------------------------- the three-layer network


def test_layerwise_net_shapes_and_standardised_features():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 9))
    w1 = np.linalg.qr(rng.normal(size=(9, 4)))[0].T
    net = LayerwiseNet(w1, x, width=5, seed=1)
    assert net.n_features == math.comb(4 + 3, 3) - 1  # monomials of degree 1..3 in 4 variables: 34
    xt = torch.tensor(x, dtype=torch.float32)
    with torch.no_grad():
        phi = (net._monomials(xt @ net.w1.T) - net.mean) / net.std
        assert phi.shape == (300, 34)
        np.testing.assert_allclose(phi.mean(0).numpy(), 0, atol=1e-5)
        np.testing.assert_allclose(phi.std(0).numpy(), 1, atol=1e-5)
        manual = torch.tanh((phi @ net.c + net.b)[:, None] @ net.g_in + net.g_bias) @ net.g_out + net.g_out_bias
        np.testing.assert_allclose(net(xt).numpy(), manual.numpy(), rtol=1e-6)
    assert net(xt).shape == (300, 1) and net.hidden(xt).shape == (300,)


def test_layerwise_net_errors():
    x = np.zeros((10, 5))
    with pytest.raises(ValueError, match="x must have 5 columns"):
        LayerwiseNet(np.eye(2, 5), np.zeros((10, 4)))
    with pytest.raises(ValueError, match="width must be >= 1"):
        LayerwiseNet(np.eye(2, 5), x, width=0)
    with pytest.raises(ValueError, match="w1 must have shape"):
        LayerwiseNet(np.ones(5), x)


def test_fit_layerwise_learns_a_tiny_target():
    # d = 8, k = 2, n = 1000: measured test errors 0.12 after the layer-wise stages and 1e-4 after the joint one, with
    # Var y = 0.69. We require the joint stage to explain more than 95% of the variance and to improve on the layer-wise one.
    t = hierarchical_target(8, 2, seed=0)
    x, y = t.sample(1000, seed=1)
    xt, yt = t.sample(2000, seed=2)
    net, errors = fit_layerwise(x, y, 2, x_test=xt, y_test=yt, seed=0)
    var = float(yt.var())
    assert errors["joint"][1] < 0.05 * var
    assert errors["joint"][1] < errors["layer-wise"][1]
    assert subspace_overlap(net.w1, t.weights) > 0.99


def test_fit_layerwise_is_deterministic_and_can_skip_joint_stage():
    t = hierarchical_target(8, 2, seed=0)
    x, y = t.sample(200, seed=1)
    _, a = fit_layerwise(x, y, 2, head_steps=20, joint_steps=0, seed=3)
    _, b = fit_layerwise(x, y, 2, head_steps=20, joint_steps=0, seed=3)
    assert a == b and list(a) == ["layer-wise"] and a["layer-wise"][1] is None


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(head_steps=0), ValueError, "head_steps must be >= 1"),
        (dict(joint_steps=-1), ValueError, "joint_steps must be >= 0"),
        (dict(lr=0.0), ValueError, "lr must be > 0"),
        (dict(x_test=np.zeros((3, 8))), ValueError, "give both x_test and y_test"),
        (dict(k=9), ValueError, "k must be <= 8"),
    ],
)
def test_fit_layerwise_errors(kwargs, error, match):
    x, y = hierarchical_target(8, 2).sample(50)
    kwargs = {"k": 2, **kwargs}
    with pytest.raises(error, match=match):
        fit_layerwise(x, y, **kwargs)


# ---------------------------------------------------------------- kernel ridge


def test_kernel_ridge_matches_a_direct_solve():
    rng = np.random.default_rng(0)
    x, xt, y = rng.normal(size=(40, 3)), rng.normal(size=(7, 3)), rng.normal(size=40)
    s2 = 1.7
    gram = np.exp(-((x[:, None, :] - x[None]) ** 2).sum(-1) / (2 * s2))
    cross = np.exp(-((xt[:, None, :] - x[None]) ** 2).sum(-1) / (2 * s2))
    expected = [cross @ np.linalg.solve(gram + r * np.eye(40), y) for r in (0.01, 1.0)]
    np.testing.assert_allclose(kernel_ridge_rbf(x, y, xt, [0.01, 1.0], bandwidth=s2), expected, rtol=1e-8, atol=1e-10)


def test_kernel_ridge_default_bandwidth_is_d_and_interpolates_with_tiny_ridge():
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(30, 5)), rng.normal(size=30)
    np.testing.assert_allclose(kernel_ridge_rbf(x, y, x, [1e-3]), kernel_ridge_rbf(x, y, x, [1e-3], bandwidth=5.0))
    # with ridge 1e-9 the fit at the training points reproduces y (the Gram matrix is well conditioned here)
    np.testing.assert_allclose(kernel_ridge_rbf(x, y, x, [1e-9])[0], y, atol=1e-5)


def test_kernel_ridge_errors():
    x, y = np.zeros((4, 2)), np.zeros(4)
    with pytest.raises(TypeError, match="ridges must be a non-empty sequence"):
        kernel_ridge_rbf(x, y, x, [])
    with pytest.raises(TypeError, match="ridges must be a non-empty sequence"):
        kernel_ridge_rbf(x, y, x, 0.1)
    with pytest.raises(ValueError, match=r"ridges\[i\] must be > 0"):
        kernel_ridge_rbf(x, y, x, [-1.0])
    with pytest.raises(ValueError, match="bandwidth must be > 0"):
        kernel_ridge_rbf(x, y, x, [1.0], bandwidth=0.0)
    with pytest.raises(ValueError, match="x_test must have 2 columns"):
        kernel_ridge_rbf(x, y, np.zeros((3, 3)), [1.0])
