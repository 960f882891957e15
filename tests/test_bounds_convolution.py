"""Tests for cosp_helpers.bounds (convolution as a sparse matrix): patches against direct slicing, Toeplitz matrices against numpy and
torch convolutions, every layer against its own dense matrix, and every error the module raises."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch.nn import functional as F

from cosp_helpers.bounds import (
    LocalLayer,
    LocalNet,
    extract_patches,
    n_patches,
    patch_multiplicity,
    toeplitz_matrix,
)

GEOMETRIES = [(16, 4, 4), (16, 4, 2), (17, 3, 2), (10, 5, 1), (8, 8, 3), (9, 2, 5)]


# ----------------------------------------------------------------------------------------------------
# patches
# ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("n, k, s", GEOMETRIES)
def test_n_patches_counts_the_valid_starts(n, k, s):
    starts = [p for p in range(0, n) if p % s == 0 and p + k <= n]
    assert n_patches(n, k, s) == len(starts)


@pytest.mark.parametrize("n, k, s", GEOMETRIES)
def test_extract_patches_matches_slicing(n, k, s):
    x = np.random.default_rng(0).standard_normal((3, n))
    patches = extract_patches(x, k, s)
    expected = np.stack([x[:, p * s : p * s + k] for p in range(n_patches(n, k, s))], axis=1)
    assert patches.shape == (3, n_patches(n, k, s), k)
    assert np.array_equal(patches, expected)
    assert np.array_equal(extract_patches(x[0], k, s), expected[0])  # a single signal


@pytest.mark.parametrize("n, k, s", GEOMETRIES)
def test_multiplicity_counts_patches_and_weights_the_energy(n, k, s):
    counts = patch_multiplicity(n, k, s)
    index_patches = extract_patches(np.arange(n), k, s)
    assert np.array_equal(counts, np.bincount(index_patches.ravel(), minlength=n))
    assert counts.sum() == n_patches(n, k, s) * k
    x = np.random.default_rng(1).standard_normal(n)
    assert math.isclose(np.sum(extract_patches(x, k, s) ** 2), counts @ x**2, rel_tol=1e-12)


@pytest.mark.parametrize("k, overlap", [(4, 0), (4, 2), (3, 1), (5, 3), (8, 7), (6, 4)])
def test_multiplicity_reaches_ceil_k_over_stride_inside_a_long_signal(k, overlap):
    s = k - overlap
    n = 20 * k
    counts = patch_multiplicity(n, k, s)
    assert counts.max() == math.ceil(k / s)
    read = (n - k) // s * s + k  # coordinates up to the end of the last patch are read, the rest are not
    assert counts[:read].min() >= 1 and counts[read:].sum() == 0


# ----------------------------------------------------------------------------------------------------
# Toeplitz matrices
# ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("n, k, s", GEOMETRIES)
def test_toeplitz_matrix_is_the_strided_cross_correlation(n, k, s):
    rng = np.random.default_rng(2)
    w, x = rng.standard_normal(k), rng.standard_normal(n)
    matrix = toeplitz_matrix(w, n, s)
    assert matrix.shape == (n_patches(n, k, s), n)
    assert np.allclose(matrix @ x, np.correlate(x, w, mode="valid")[::s], atol=1e-12)
    # every row holds one copy of the kernel: ||W||_F = sqrt(P) ||w|| (memo §8.1)
    assert math.isclose(np.linalg.norm(matrix), math.sqrt(n_patches(n, k, s)) * np.linalg.norm(w), rel_tol=1e-12)


def test_multichannel_toeplitz_matches_torch_conv1d():
    rng = np.random.default_rng(3)
    c_out, k, c_in, n, s = 3, 4, 2, 14, 2
    kernel = rng.standard_normal((c_out, k, c_in))
    x = rng.standard_normal((n, c_in))  # channel-last
    out = toeplitz_matrix(kernel, n, s) @ x.ravel()  # position-major flattening
    torch_out = F.conv1d(
        torch.tensor(x.T[None]), torch.tensor(kernel.transpose(0, 2, 1)), stride=s
    )[0].numpy()  # (c_out, P)
    assert np.allclose(out.reshape(-1, c_out), torch_out.T, atol=1e-12)


# ----------------------------------------------------------------------------------------------------
# layers and networks
# ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("connectivity", ["conv", "local", "dense"])
@pytest.mark.parametrize("n, k, s", [(16, 4, 4), (16, 4, 2), (12, 3, 2)])
def test_layer_equals_its_dense_matrix(connectivity, n, k, s):
    layer = LocalLayer(n, k, s, 2, 3, connectivity=connectivity, seed=4).double()
    x = torch.randn(5, n, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        out = layer(x).reshape(5, -1).numpy()
    assert np.allclose(out, x.reshape(5, -1).numpy() @ layer.dense_matrix().T, atol=1e-12)


@pytest.mark.parametrize("connectivity", ["conv", "local"])
@pytest.mark.parametrize("n, k, s", [(16, 4, 4), (16, 2, 2), (17, 4, 4), (16, 4, 2), (12, 3, 2)])
def test_layer_output_and_gradients_equal_the_unfolded_patches(connectivity, n, k, s):
    # the reference: patches cut with unfold, then one product per position, in float64
    layer = LocalLayer(n, k, s, 2, 3, connectivity=connectivity, seed=9).double()
    x = torch.randn(6, n, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(2), requires_grad=True)
    patches = x.unfold(1, k, s).transpose(2, 3).reshape(6, layer.out_positions, -1)
    weights = layer.weight if connectivity == "local" else layer.weight.expand(layer.out_positions, -1, -1)
    expected = torch.einsum("bpi,poi->bpo", patches, weights)
    out = layer(x)
    assert out.shape == expected.shape == (6, layer.out_positions, 3)
    assert torch.allclose(out, expected, rtol=1e-12, atol=1e-12)
    grads = torch.autograd.grad(out.square().sum(), [x, layer.weight])
    expected_grads = torch.autograd.grad(expected.square().sum(), [x, layer.weight])
    for g, e in zip(grads, expected_grads):
        assert torch.allclose(g, e, rtol=1e-12, atol=1e-12)


def test_conv_layer_equals_torch_conv1d_and_has_shared_position_norms():
    layer = LocalLayer(16, 4, 2, 2, 3, connectivity="conv", seed=5).double()
    x = torch.randn(4, 16, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    kernel = layer.weight.detach().reshape(3, 4, 2).permute(0, 2, 1)  # (C_out, C_in, K)
    with torch.no_grad():
        expected = F.conv1d(x.transpose(1, 2), kernel, stride=2).transpose(1, 2)
        assert torch.allclose(layer(x), expected, atol=1e-12)
    norms = layer.position_norms()
    assert np.allclose(norms, np.linalg.norm(layer.weight.detach().numpy()), rtol=1e-12)
    assert math.isclose(np.linalg.norm(layer.dense_matrix()), math.sqrt(7) * norms[0], rel_tol=1e-12)


def test_local_layer_with_equal_kernels_is_the_convolution():
    conv = LocalLayer(12, 3, 3, 1, 2, connectivity="conv", seed=6).double()
    local = LocalLayer(12, 3, 3, 1, 2, connectivity="local", seed=7).double()
    with torch.no_grad():
        local.weight.copy_(conv.weight.expand_as(local.weight))
    assert np.array_equal(local.dense_matrix(), conv.dense_matrix())


def test_local_layer_reads_only_its_patch():
    layer = LocalLayer(16, 4, 4, 1, 2, connectivity="local", seed=8)
    matrix = layer.dense_matrix().reshape(4, 2, 16)
    for p in range(4):
        outside = np.delete(matrix[p], np.s_[4 * p : 4 * p + 4], axis=1)
        assert np.all(outside == 0) and np.all(matrix[p][:, 4 * p : 4 * p + 4] != 0)


def test_parameter_counts_of_the_three_connectivities():
    def size(connectivity):
        return sum(p.numel() for p in LocalLayer(32, 4, 4, 3, 5, connectivity=connectivity).parameters())

    counts = {c: size(c) for c in ("conv", "local", "dense")}
    assert counts == {"conv": 5 * 4 * 3, "local": 8 * 5 * 4 * 3, "dense": 8 * 5 * 32 * 3}


@pytest.mark.parametrize("connectivity", ["conv", "local", "dense"])
def test_network_is_the_composition_of_its_matrices(connectivity):
    net = LocalNet(27, channels=4, kernel_size=3, connectivity=connectivity, seed=9).double()
    assert net.depth == 3
    x = torch.randn(6, 27, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    h = x.numpy().T
    matrices = net.dense_matrices()
    for matrix in matrices[:-1]:
        h = np.maximum(matrix @ h, 0)
    with torch.no_grad():
        assert np.allclose((matrices[-1] @ h).T, net(x).numpy(), atol=1e-12)
    assert np.allclose(net.frobenius_norms(), [np.linalg.norm(m) for m in matrices], rtol=1e-12)


def test_one_channel_tree_frobenius_over_kernel_norms_is_sqrt_positions():
    net = LocalNet(32, channels=1, kernel_size=2, connectivity="conv", seed=10)
    ratios = np.array(net.frobenius_norms()) / np.array(net.kernel_norms())
    assert np.allclose(ratios, np.sqrt([16, 8, 4, 2, 1]), rtol=1e-12)


def test_local_net_kernel_norms_are_the_largest_position_norms():
    net = LocalNet(8, channels=3, connectivity="local", seed=11)
    for norm, layer in zip(net.kernel_norms(), net.layers):
        blocks = layer.position_weights()
        assert math.isclose(norm, max(np.linalg.norm(b) for b in blocks), rel_tol=1e-12)


def test_networks_are_reproducible_from_their_seed():
    a, b = LocalNet(16, 4, seed=3), LocalNet(16, 4, seed=3)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    c = LocalNet(16, 4, seed=4)
    assert not torch.equal(next(a.parameters()), next(c.parameters()))


# ----------------------------------------------------------------------------------------------------
# errors
# ----------------------------------------------------------------------------------------------------


def test_geometry_errors():
    with pytest.raises(ValueError, match="kernel_size must be <= the signal length n = 4, got 5"):
        n_patches(4, 5, 1)
    with pytest.raises(ValueError, match="stride must be >= 1, got 0"):
        patch_multiplicity(8, 2, 0)
    with pytest.raises(TypeError, match="kernel_size must be an int"):
        n_patches(8, 2.5, 1)


def test_extract_patches_errors():
    with pytest.raises(TypeError, match="x must be a numpy array"):
        extract_patches([1.0, 2.0], 1, 1)
    with pytest.raises(ValueError, match="at least one axis"):
        extract_patches(np.array(1.0), 1, 1)
    with pytest.raises(TypeError, match="real numbers"):
        extract_patches(np.ones(4, dtype=complex), 2, 1)
    with pytest.raises(ValueError, match="kernel_size must be <="):
        extract_patches(np.ones(3), 4, 1)


def test_toeplitz_errors():
    with pytest.raises(TypeError, match="kernel must be a numpy array"):
        toeplitz_matrix([1.0, 2.0], 4, 1)
    with pytest.raises(ValueError, match=r"kernel must have shape \(K,\) or \(C_out, K, C_in\), got shape \(2, 2\)"):
        toeplitz_matrix(np.ones((2, 2)), 4, 1)
    with pytest.raises(ValueError, match="kernel_size must be <= the signal length"):
        toeplitz_matrix(np.ones(5), 4, 1)


def test_layer_errors():
    with pytest.raises(ValueError, match=r"connectivity must be one of \('dense', 'local', 'conv'\), got 'sparse'"):
        LocalLayer(8, 2, 2, 1, 1, connectivity="sparse")
    with pytest.raises(ValueError, match="in_channels must be >= 1, got 0"):
        LocalLayer(8, 2, 2, 0, 1)
    layer = LocalLayer(8, 2, 2, 1, 1)
    with pytest.raises(ValueError, match=r"x must have shape \(batch, 8, 1\), got \(3, 8\)"):
        layer(torch.zeros(3, 8))


def test_network_errors():
    with pytest.raises(ValueError, match="n_inputs must be a power of kernel_size = 2, got 12"):
        LocalNet(12, 2)
    with pytest.raises(ValueError, match="kernel_size must be >= 2, got 1"):
        LocalNet(8, 2, kernel_size=1)
    with pytest.raises(ValueError, match="n_inputs must be >= 3, got 2"):
        LocalNet(2, 2, kernel_size=3)
    with pytest.raises(ValueError, match=r"x must have shape \(batch, 8\), got \(2, 4\)"):
        LocalNet(8, 2)(torch.zeros(2, 4))
    with pytest.raises(ValueError, match="kernel_norms needs connectivity 'conv' or 'local'"):
        LocalNet(8, 2, connectivity="dense").kernel_norms()
