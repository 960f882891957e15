"""Tests of cosp_helpers.hierarchical: targets, the overlap metric, the spectral step, layer-wise training, kernel ridge."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from cosp_helpers import hierarchical
from cosp_helpers.hierarchical import (
    HierarchicalTarget,
    LayerwiseNet,
    fit_layerwise,
    kernel_ridge_rbf,
    spectral_first_layer,
    subspace_overlap,
)


# ---------------------------------------------------------------- targets


@pytest.mark.parametrize("d, k", [(8, 2), (32, 4), (64, 8)])
def test_target_rows_orthonormal_and_shapes(d, k):
    t = hierarchical.target(d, k, seed=3)
    assert isinstance(t, HierarchicalTarget)
    assert t.weights.shape == (k, d) and t.signs.shape == (k,)
    np.testing.assert_allclose(t.weights @ t.weights.T, np.eye(k), atol=1e-12)
    assert set(np.unique(t.signs)) <= {-1.0, 1.0}
    assert t.d == d and t.k == k and math.isclose(d**t.eps, k)
    x, y = t.sample(7, seed=0)
    assert x.shape == (7, d) and y.shape == (7,) and x.dtype == np.float32 and y.dtype == np.float32
    assert t.feature(x.astype(float)).shape == (7,)


def test_target_formula_against_explicit_hermite():
    t = hierarchical.target(10, 3, slope=2.0, seed=1)
    x = np.random.default_rng(0).normal(size=(50, 10))
    z = x @ t.weights.T
    he2, he3 = z**2 - 1, z**3 - 3 * z  # probabilists' Hermite polynomials
    h = sum(t.signs[i] * (he2[:, i] / math.sqrt(2) + he3[:, i] / math.sqrt(6)) for i in range(3)) / math.sqrt(3)
    np.testing.assert_allclose(t.feature(x), h, rtol=1e-12)
    np.testing.assert_allclose(t(x), np.tanh(2.0 * h), rtol=1e-12)


def test_normalisation_gives_unit_variance_feature():
    # z_i independent N(0, 1) (orthonormal rows), so Var h* = (1/k) sum_i Var sigma1(z_i) = Var sigma1(z)
    # = Var He2 / 2 + Var He3 / 6 = 2/2 + 6/6 = 2 (He2 and He3 are orthogonal).
    t = hierarchical.target(32, 4, seed=0)
    x = np.random.default_rng(1).normal(size=(400_000, 32))
    h = t.feature(x)
    # standard error of the sample variance is sqrt((E h^4 - 4) / n); E h^4 < 100 here, so SE < 0.016: 0.05 is > 3 SE
    assert abs(h.var() - 2.0) < 0.05
    assert abs(h.mean()) < 0.01  # standard error sqrt(2 / n) = 0.0022


def test_target_is_deterministic_and_seed_dependent():
    a, b, c = hierarchical.target(16, 4, seed=5), hierarchical.target(16, 4, seed=5), hierarchical.target(16, 4, seed=6)
    np.testing.assert_array_equal(a.weights, b.weights)
    assert not np.allclose(a.weights, c.weights)
    np.testing.assert_array_equal(a.sample(5, seed=2)[0], b.sample(5, seed=2)[0])


def test_target_depends_on_x_only_through_span():
    t = hierarchical.target(12, 3, seed=2)
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
        hierarchical.target(**kwargs)


def test_target_call_errors():
    t = hierarchical.target(8, 2)
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
    basis = hierarchical.target(d, k, seed=0).weights
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
    t = hierarchical.target(16, 3, seed=4)
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
    t = hierarchical.target(32, 4, seed=0)
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
    g = np.random.default_rng(seed).standard_normal((d, k))  # the first draw hierarchical.target makes
    r = hierarchical.target(d, k, seed=seed).weights @ g
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
    t = hierarchical.target(16, 3, seed=4)
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
    # the tie of magnitudes |+-0.1| broken by rounding either way (as eigh's output may be, depending on the CPU's kernels):
    # +0.1 still comes first, and is the one kept when only one of the pair makes the top k
    for shift in (-1e-15, 1e-15):
        rounded = values + np.array([shift, 0, 0, -shift, 0, 0, 0, 0])
        np.testing.assert_allclose(_canonical_top_eigenvectors(rounded, basis, 5), reference, atol=1e-12)
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
        # the network sums the same 34 terms in another order (standardisation folded into c): float32 rounding,
        # eps 6e-8 times 34 terms of size about 1, so 2e-6 absolute
        np.testing.assert_allclose(net(xt).numpy(), manual.numpy(), rtol=1e-6, atol=2e-6)
        np.testing.assert_allclose(net.hidden(xt).numpy(), (phi @ net.c + net.b).numpy(), rtol=1e-6, atol=2e-6)
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
    t = hierarchical.target(8, 2, seed=0)
    x, y = t.sample(1000, seed=1)
    xt, yt = t.sample(2000, seed=2)
    net, errors = fit_layerwise(x, y, 2, x_test=xt, y_test=yt, seed=0)
    var = float(yt.var())
    assert errors["joint"][1] < 0.05 * var
    assert errors["joint"][1] < errors["layer-wise"][1]
    assert subspace_overlap(net.w1, t.weights) > 0.99


def test_fit_layerwise_is_deterministic_and_can_skip_joint_stage():
    t = hierarchical.target(8, 2, seed=0)
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
    x, y = hierarchical.target(8, 2).sample(50)
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


# ---------------------------------------------------------------- controls and the second reduction


from cosp_helpers.hierarchical import (  # noqa: E402
    ProjectedMLP,
    fit_layerwise_side_by_side,
    best_unit_correlation,
    preactivations,
    probe_correlation,
    train_side_by_side,
)
from cosp_helpers.networks import DeepNet, ShallowNet  # noqa: E402
from cosp_helpers.training import train  # noqa: E402


def test_projected_mlp_is_a_deepnet_of_the_projection():
    w1 = np.linalg.qr(np.random.default_rng(0).normal(size=(12, 3)))[0].T  # (3, 12)
    net = ProjectedMLP(w1, width=8, depth=2, seed=4)
    x = torch.tensor(np.random.default_rng(1).normal(size=(20, 12)), dtype=torch.float32)
    reference = DeepNet(3, 8, 2, seed=4)  # same seed: the same head
    torch.testing.assert_close(net(x), reference(x @ torch.tensor(w1, dtype=torch.float32).T))
    assert sum(p.numel() for p in net.parameters()) == 3 * 12 + (3 + 1) * 8 + (8 + 1) * 8 + 9


def test_projected_mlp_errors():
    with pytest.raises(ValueError, match="w1"):
        ProjectedMLP(np.full((2, 5), np.nan))
    with pytest.raises(TypeError, match="w1"):
        ProjectedMLP([[1.0, 0.0]])
    with pytest.raises(ValueError, match="depth"):
        ProjectedMLP(np.eye(2, 5), depth=0)
    with pytest.raises(ValueError, match="width"):
        ProjectedMLP(np.eye(2, 5), width=0)


def _manual_adam_run(model, x, y, order_stream, steps, batch_size, lr, weight_decay):
    # the reference: one network alone, plain torch.optim.Adam, the same batches and the same cosine schedule
    opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda step: 0.5 * (1 + math.cos(math.pi * step / steps)))
    xt, yt = torch.tensor(x, dtype=torch.float32), torch.tensor(y, dtype=torch.float32)[:, None]
    order, position = order_stream.permutation(len(y)), 0
    for _ in range(steps):
        if position + batch_size > len(order):
            order, position = order_stream.permutation(len(y)), 0
        batch = torch.from_numpy(order[position : position + batch_size])
        position += batch_size
        opt.zero_grad()
        ((model(xt[batch]) - yt[batch]) ** 2).mean().backward()
        opt.step()
        sched.step()


def test_side_by_side_equals_training_each_network_alone():
    # Adam is elementwise and each member's parameters enter only its own loss term: members train independently.
    t = hierarchical.target(6, 2, seed=0)
    data = [t.sample(100, seed=1), t.sample(150, seed=2)]
    nets = [ShallowNet(6, 8, seed=1), ShallowNet(6, 8, seed=2)]
    alone = [ShallowNet(6, 8, seed=1), ShallowNet(6, 8, seed=2)]
    train_side_by_side(nets, data, steps=30, batch_size=32, lr=1e-2, weight_decay=1e-3, seed=7)
    root = int(np.random.default_rng(7).integers(2**62))
    for i, (net, (x, y)) in enumerate(zip(alone, data)):
        _manual_adam_run(net, x, y, np.random.default_rng([root, i]), 30, 32, 1e-2, 1e-3)
    for a, b in zip(nets, alone):
        for pa, pb in zip(a.parameters(), b.parameters()):
            torch.testing.assert_close(pa, pb, rtol=1e-4, atol=1e-5)


def test_side_by_side_member_does_not_depend_on_the_others():
    t = hierarchical.target(6, 2, seed=0)
    data = [t.sample(64, seed=1), t.sample(64, seed=2)]
    pair = [DeepNet(6, 8, 2, seed=1), DeepNet(6, 8, 2, seed=2)]
    single = [DeepNet(6, 8, 2, seed=1)]
    losses = train_side_by_side(pair, data, steps=20, batch_size=16, seed=3)
    train_side_by_side(single, data[:1], steps=20, batch_size=16, seed=3)
    for pa, pb in zip(pair[0].parameters(), single[0].parameters()):
        torch.testing.assert_close(pa, pb, rtol=1e-4, atol=1e-5)
    x, y = data[1]
    with torch.no_grad():
        direct = float(((pair[1](torch.tensor(x)) - torch.tensor(y)[:, None]) ** 2).mean())
    assert math.isclose(losses[1], direct, rel_tol=1e-5)


def test_side_by_side_learns_a_linear_target():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(512, 4))
    y = x @ np.array([1.0, -1.0, 0.5, 0.0])
    nets = [DeepNet(4, 16, 1, seed=0)]
    (loss,) = train_side_by_side(nets, [(x, y)], steps=300, batch_size=64, lr=1e-2)
    assert loss < 0.02 * y.var()


def _assert_same_parameters(a, b, rtol=1e-4, atol=1e-5):
    for (name, pa), pb in zip(a.named_parameters(), b.parameters()):
        torch.testing.assert_close(pa, pb, rtol=rtol, atol=atol, msg=name)


def test_side_by_side_full_batch_equals_train_alone():
    # full batch, members of different sizes (two of 120 rows, one of 90: two groups): each member follows cosp.train's
    # full-batch Adam (cosine schedule, coupled weight decay) up to float rounding
    t = hierarchical.target(6, 2, seed=0)
    data = [t.sample(120, seed=1), t.sample(90, seed=2), t.sample(120, seed=3)]
    nets = [DeepNet(6, 8, 2, seed=s) for s in (1, 2, 3)]
    alone = [DeepNet(6, 8, 2, seed=s) for s in (1, 2, 3)]
    losses = train_side_by_side(nets, data, steps=40, batch_size=None, lr=1e-2, weight_decay=1e-3)
    for net, (x, y), loss in zip(alone, data, losses):
        h = train(net, x, y[:, None], steps=40, lr=1e-2, weight_decay=1e-3, schedule="cosine", progress=False, device="cpu")
        assert math.isclose(h.final_train_loss, loss, rel_tol=1e-4)
    for a, b in zip(nets, alone):
        _assert_same_parameters(a, b)


def test_side_by_side_families_equal_separate_calls():
    # two architectures in one loop, each with its weight decay, equal each family trained alone with the same seed:
    # member i of every family sees the batches of data[i]
    t = hierarchical.target(6, 2, seed=0)
    data = [t.sample(100, seed=1), t.sample(150, seed=2)]
    w1 = np.eye(2, 6)
    together = [[DeepNet(6, 8, 2, seed=s) for s in (1, 2)], [ProjectedMLP(w1, 8, 1, seed=s) for s in (1, 2)]]
    apart = [[DeepNet(6, 8, 2, seed=s) for s in (1, 2)], [ProjectedMLP(w1, 8, 1, seed=s) for s in (1, 2)]]
    losses = train_side_by_side(together, data, steps=30, batch_size=32, lr=1e-2, weight_decay=[1e-2, 1e-3], seed=5)
    for family, wd, family_losses in zip(apart, (1e-2, 1e-3), losses):
        alone_losses = train_side_by_side(family, data, steps=30, batch_size=32, lr=1e-2, weight_decay=wd, seed=5)
        np.testing.assert_allclose(family_losses, alone_losses, rtol=1e-4)
    for family_a, family_b in zip(together, apart):
        for a, b in zip(family_a, family_b):
            _assert_same_parameters(a, b)


def test_side_by_side_keeps_frozen_parameters():
    t = hierarchical.target(6, 2, seed=0)
    x, y = t.sample(200, seed=1)
    net = LayerwiseNet(np.eye(2, 6), x, width=4, seed=0)
    net.w1.requires_grad_(False)
    before = net.w1.detach().clone()
    train_side_by_side([net], [(x, y)], steps=10, batch_size=None)
    torch.testing.assert_close(net.w1, before, rtol=0, atol=0)
    assert net.w1.requires_grad is False


def test_fit_layerwise_side_by_side_equals_separate_runs():
    # three data sets (two of 300 rows, one of 200): the batched stages give what fit_layerwise gives for each, up to
    # float rounding (40 + 40 Adam steps; longer runs amplify rounding where a network overfits)
    t = hierarchical.target(8, 2, seed=0)
    data = [t.sample(300, seed=1), t.sample(200, seed=2), t.sample(300, seed=3)]
    tests = [t.sample(500, seed=4)] * 3
    fits = fit_layerwise_side_by_side(data, 2, seeds=[5, 6, 7], tests=tests, head_steps=40, joint_steps=40)
    for (x, y), seed, (net, errors) in zip(data, (5, 6, 7), fits):
        net_alone, errors_alone = fit_layerwise(x, y, 2, x_test=tests[0][0], y_test=tests[0][1], seed=seed,
                                                head_steps=40, joint_steps=40)
        _assert_same_parameters(net, net_alone)
        assert list(errors) == list(errors_alone) == ["layer-wise", "joint"]
        for stage in errors:
            np.testing.assert_allclose(errors[stage], errors_alone[stage], rtol=1e-4)


def test_fit_layerwise_side_by_side_without_joint_stage_and_errors():
    t = hierarchical.target(8, 2, seed=0)
    data = [t.sample(100, seed=1), t.sample(120, seed=2)]
    fits = fit_layerwise_side_by_side(data, 2, seeds=[0, 1], head_steps=5, joint_steps=0)
    assert [list(errors) for _, errors in fits] == [["layer-wise"]] * 2 and fits[0][1]["layer-wise"][1] is None
    with pytest.raises(TypeError, match="data must be a non-empty list"):
        fit_layerwise_side_by_side([], 2, seeds=[])
    with pytest.raises(TypeError, match=r"data\[0\] must be an \(x, y\) pair"):
        fit_layerwise_side_by_side([data[0][0]], 2, seeds=[0])
    with pytest.raises(TypeError, match="seeds must be a list of 2"):
        fit_layerwise_side_by_side(data, 2, seeds=[0])
    with pytest.raises(TypeError, match="tests must be None or a list of 2"):
        fit_layerwise_side_by_side(data, 2, seeds=[0, 1], tests=data[:1])
    with pytest.raises(ValueError, match="head_steps must be >= 1"):
        fit_layerwise_side_by_side(data, 2, seeds=[0, 1], head_steps=0)


def test_side_by_side_errors():
    t = hierarchical.target(6, 2, seed=0)
    data = [t.sample(64, seed=1)]
    nets = [ShallowNet(6, 4, seed=0)]
    with pytest.raises(TypeError, match="models"):
        train_side_by_side([], data, steps=1)
    with pytest.raises(TypeError, match="models"):
        train_side_by_side(["net"], data, steps=1)
    with pytest.raises(TypeError, match="models"):
        train_side_by_side([torch.nn.Linear(6, 1)], data, steps=1)
    with pytest.raises(ValueError, match="architecture"):
        train_side_by_side([ShallowNet(6, 4), ShallowNet(6, 5)], data * 2, steps=1)
    with pytest.raises(TypeError, match="data"):
        train_side_by_side(nets, data * 2, steps=1)
    with pytest.raises(ValueError, match="steps"):
        train_side_by_side(nets, data, steps=0)
    with pytest.raises(ValueError, match="batch_size"):
        train_side_by_side(nets, data, steps=1, batch_size=65)
    with pytest.raises(ValueError, match="lr must be finite, got nan"):
        train_side_by_side(nets, data, steps=1, lr=float("nan"))
    with pytest.raises(ValueError, match="weight_decay"):
        train_side_by_side(nets, data, steps=1, weight_decay=-1.0)
    with pytest.raises(ValueError, match="x must be finite, got NaN or inf"):
        train_side_by_side(nets, [(np.full((64, 6), np.nan), np.zeros(64))], steps=1)
    with pytest.raises(ValueError, match="weight_decay must be one number or one per family"):
        train_side_by_side([nets, [ShallowNet(6, 3, seed=0)]], data, steps=1, weight_decay=[0.0])
    with pytest.raises(TypeError, match="one per model of a family"):
        train_side_by_side([nets, [ShallowNet(6, 3, seed=s) for s in (0, 1)]], data, steps=1)
    with pytest.raises(ValueError, match="rows, fewer than batch_size"):
        train_side_by_side(nets, [t.sample(10, seed=1)], steps=1, batch_size=16)
    with pytest.raises(ValueError, match="columns"):
        train_side_by_side([ShallowNet(6, 4, seed=0), ShallowNet(6, 4, seed=1)], data + [(np.zeros((64, 5)), np.zeros(64))], steps=1, batch_size=32)
    frozen = ShallowNet(6, 4, seed=1)
    frozen.layers[0].weight.requires_grad_(False)
    with pytest.raises(ValueError, match="frozen"):
        train_side_by_side([ShallowNet(6, 4, seed=0), frozen], data * 2, steps=1)
    with pytest.raises(ValueError, match="distinct"):
        train_side_by_side([nets[0], nets[0]], data * 2, steps=1)


def test_preactivations_by_hand():
    net = DeepNet(3, 4, 2, seed=0)
    x = np.random.default_rng(0).normal(size=(7, 3))
    a1, a2 = preactivations(net, x)
    w = [(layer.weight.detach().double().numpy(), layer.bias.detach().double().numpy()) for layer in net.layers]
    np.testing.assert_allclose(a1, x @ w[0][0].T + w[0][1], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(a2, np.maximum(a1, 0) @ w[1][0].T + w[1][1], rtol=1e-5, atol=1e-6)
    projected = ProjectedMLP(np.eye(2, 3), width=5, depth=1, seed=1)
    (b1,) = preactivations(projected, x)
    layer = projected.head.layers[0]
    np.testing.assert_allclose(b1, x[:, :2] @ layer.weight.detach().double().numpy().T + layer.bias.detach().double().numpy(),
                               rtol=1e-5, atol=1e-6)


def test_preactivations_errors():
    with pytest.raises(TypeError, match="model"):
        preactivations(LayerwiseNet(np.eye(2, 5), np.random.default_rng(0).normal(size=(20, 5))), np.zeros((3, 5)))
    with pytest.raises(TypeError, match="model"):
        preactivations(DeepNet(3, 4, 1, activation="tanh"), np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"x must have 3 columns, got shape \(2, 4\)"):
        preactivations(DeepNet(3, 4, 1), np.zeros((2, 4)))


def test_probe_correlation_values():
    rng = np.random.default_rng(0)
    z = rng.normal(size=(4000, 5))
    target = z[:, 0] ** 2  # not linear in z ...
    assert probe_correlation(z, target) < 0.1  # ... so a linear read-out of z misses it (held-out |corr| ~ 1/sqrt(2000))
    assert probe_correlation(np.c_[z, z**2], target) > 0.999999  # ... but of (z, z^2) carries it exactly
    noise = rng.normal(size=4000)
    # target = signal + noise with equal variances: the best read-out of the signal has correlation 1/sqrt(2)
    assert abs(probe_correlation(z[:, :1], z[:, 0] + noise) - 1 / math.sqrt(2)) < 0.03
    # invariant under an invertible linear map of the features
    a = rng.normal(size=(5, 5))
    assert math.isclose(probe_correlation(z @ a, z[:, 1] + noise), probe_correlation(z, z[:, 1] + noise), rel_tol=1e-6)


def test_probe_correlation_errors():
    z = np.random.default_rng(0).normal(size=(40, 2))
    with pytest.raises(ValueError, match="features"):
        probe_correlation(np.full((40, 2), np.nan), z[:, 0])
    with pytest.raises(ValueError, match="target"):
        probe_correlation(z, z[:30, 0])
    with pytest.raises(ValueError, match="rows"):
        probe_correlation(np.random.default_rng(0).normal(size=(40, 30)), z[:, 0])
    with pytest.raises(ValueError, match="constant"):
        probe_correlation(z, np.ones(40))
    with pytest.raises(ValueError, match="ridge"):
        probe_correlation(z, z[:, 0], ridge=-1.0)


def test_best_unit_correlation_values_and_errors():
    rng = np.random.default_rng(0)
    t = rng.normal(size=500)
    features = np.stack([np.ones(500), 3 * t + 1, rng.normal(size=500)], axis=1)
    assert math.isclose(best_unit_correlation(features, t), 1.0)
    assert math.isclose(best_unit_correlation(-features[:, 1:2], t), 1.0)  # the sign does not matter
    u = rng.normal(size=500)
    expected = abs(np.corrcoef(u, t)[0, 1])
    assert math.isclose(best_unit_correlation(u[:, None], t), expected, rel_tol=1e-9)
    with pytest.raises(ValueError, match="constant"):
        best_unit_correlation(features, np.ones(500))
    with pytest.raises(ValueError, match="target"):
        best_unit_correlation(features, t[:10])
    with pytest.raises(ValueError, match="features"):
        best_unit_correlation(np.full((500, 2), np.inf), t)
