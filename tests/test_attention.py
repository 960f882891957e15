"""Tests for cosp_helpers.attention: sparse normalizations, the transformer's blocks, attention sparsity, RIP."""

from __future__ import annotations

import itertools
import math

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from cosp_helpers.attention import (  # noqa: E402
    TinyTransformer,
    sparsity,
    coherence,
    normalize_scores,
    plot_attention,
    restricted_isometry_constant,
    sparsemax,
    thresholded_softmax,
)
from cosp_helpers.attention import pointer_task  # noqa: E402

# --- sparsemax and the thresholded softmax -------------------------------------------------------------


@pytest.mark.parametrize(
    "z, expected",
    [
        ([1.0, 0.5, -1.0], [0.75, 0.25, 0.0]),  # support {1, 2}: tau = (1 + 0.5 - 1)/2 = 0.25
        ([3.0, 0.0, 0.0], [1.0, 0.0, 0.0]),  # one dominant score: tau = 2
        ([0.2, 0.2, 0.2, 0.2], [0.25] * 4),  # ties: uniform
        ([0.5, 0.3, 0.1], [0.5333333, 0.3333333, 0.1333333]),  # all in: tau = (0.9 - 1)/3 = -1/30
    ],
)
def test_sparsemax_hand_computed(z, expected):
    assert torch.allclose(sparsemax(torch.tensor(z)), torch.tensor(expected), atol=1e-6)


def _projection_reference(z: np.ndarray) -> np.ndarray:
    # Euclidean projection onto the simplex by bisection on tau (sum max(z - tau, 0) = 1 is decreasing in tau)
    lo, hi = z.min() - 1, z.max()
    for _ in range(200):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if np.maximum(z - mid, 0).sum() > 1 else (lo, mid)
    return np.maximum(z - (lo + hi) / 2, 0)


def test_sparsemax_matches_a_bisection_reference_and_dim():
    z = torch.randn(6, 9, generator=torch.Generator().manual_seed(0)) * 2
    p = sparsemax(z)
    for row, ref in zip(p.numpy(), z.numpy()):
        assert np.allclose(row, _projection_reference(ref.astype(float)), atol=1e-6)
    assert torch.allclose(sparsemax(z.T, dim=0), p.T)


def test_sparsemax_gradient_matches_finite_differences():
    z = torch.tensor([[0.9, 0.5, 0.1, -1.0]], dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda t: sparsemax(t), (z,))  # piecewise linear; z is away from the kinks


def test_thresholded_softmax_drops_and_renormalizes():
    z = torch.log(torch.tensor([[0.5, 0.3, 0.15, 0.05]]))
    p = thresholded_softmax(z, 0.1)
    assert torch.allclose(p, torch.tensor([[0.5, 0.3, 0.15, 0.0]]) / 0.95)
    assert torch.allclose(thresholded_softmax(z, 0.0), torch.softmax(z, -1))
    # a threshold above every weight keeps the largest entry only: no row is emptied
    assert torch.allclose(thresholded_softmax(torch.zeros(1, 4) + torch.tensor([0.0, 0.1, 0.0, 0.0]), 0.9),
                          torch.tensor([[0.0, 1.0, 0.0, 0.0]]))


@pytest.mark.parametrize("kind", ["softmax", "thresholded", "sparsemax"])
def test_normalized_rows_sum_to_one(kind):
    z = torch.randn(4, 3, 7, generator=torch.Generator().manual_seed(1)) * 3
    p = normalize_scores(z, kind, threshold=0.2)
    assert torch.all(p >= 0)
    assert torch.allclose(p.sum(-1), torch.ones(4, 3), atol=1e-6)


def test_normalization_errors():
    with pytest.raises(ValueError, match="kind"):
        normalize_scores(torch.zeros(3), "hardmax")
    with pytest.raises(ValueError, match="threshold"):
        thresholded_softmax(torch.zeros(3), 1.0)
    with pytest.raises(ValueError, match="threshold"):
        thresholded_softmax(torch.zeros(3), -0.1)
    with pytest.raises(TypeError, match="z must"):
        sparsemax([1.0, 2.0])
    with pytest.raises(TypeError, match="z must"):
        thresholded_softmax(np.zeros(3), 0.1)
    with pytest.raises(ValueError, match="scalar"):
        sparsemax(torch.tensor(1.0))


# --- the transformer ----------------------------------------------------------------------------------


@pytest.mark.parametrize("block", ["standard", "parallel", "memo"])
@pytest.mark.parametrize("kind", ["softmax", "thresholded", "sparsemax"])
def test_transformer_shapes_and_attention_rows(block, kind):
    net = TinyTransformer((5, 8, 8), seq_len=8, n_classes=5, d_model=16, n_heads=2, n_layers=2, block=block,
                          attention=kind, seed=0)
    x = torch.as_tensor(pointer_task(4, seed=0).tokens)
    assert net(x).shape == (4, 8, 5)
    maps = net.attention_maps(x)
    assert maps.shape == (2, 4, 2, 8, 8)
    assert np.allclose(maps.sum(-1), 1, atol=1e-6) and maps.min() >= 0


def _torch_reference(blk):
    """PyTorch's own pre-LN encoder layer and multi-head attention, holding the weights of one of our blocks."""
    d_model, d_mlp = blk.out.in_features, blk.mlp[0].out_features
    layer = torch.nn.TransformerEncoderLayer(d_model, blk.n_heads, dim_feedforward=d_mlp, dropout=0.0,
                                             activation="relu", batch_first=True, norm_first=True)
    with torch.no_grad():
        layer.self_attn.in_proj_weight.copy_(blk.qkv.weight)  # rows: all heads' queries, then keys, then values
        layer.self_attn.in_proj_bias.copy_(blk.qkv.bias)
        layer.self_attn.out_proj.weight.copy_(blk.out.weight)
        layer.self_attn.out_proj.bias.copy_(blk.out.bias)
        for ours, theirs in ((blk.mlp[0], layer.linear1), (blk.mlp[2], layer.linear2),
                             (blk.ln1, layer.norm1), (blk.ln2, layer.norm2)):
            theirs.weight.copy_(ours.weight)
            theirs.bias.copy_(ours.bias)
    layer.eval()
    return layer


def test_block_forms_match_torch_reference_layers():
    # oracle: torch.nn.TransformerEncoderLayer(norm_first=True) is the standard pre-LN block; its attention
    # (torch.nn.MultiheadAttention) and its MLP give the other two forms
    h = torch.randn(3, 8, 16, generator=torch.Generator().manual_seed(0))
    for form in ("standard", "parallel", "memo"):
        net = TinyTransformer((5,), seq_len=8, n_classes=5, d_model=16, n_heads=2, block=form, seed=1)
        blk = net.blocks[0]
        ref = _torch_reference(blk)
        with torch.no_grad():
            y = blk(h)
            attn = lambda z: ref.self_attn(z, z, z, need_weights=False)[0]  # noqa: E731
            mlp = lambda z: ref.linear2(torch.relu(ref.linear1(z)))  # noqa: E731
            if form == "standard":
                expected = ref(h)
            elif form == "parallel":
                expected = h + mlp(ref.norm1(h)) + attn(ref.norm1(h))
            else:
                expected = h + mlp(ref.norm2(h + attn(ref.norm1(h))))
            _, weights = ref.self_attn(ref.norm1(h), ref.norm1(h), ref.norm1(h), average_attn_weights=False)
        assert y.shape == h.shape
        assert torch.allclose(y, expected, atol=1e-5), form  # float32, O(1) values: a few ulps times the depth of the sums
        assert torch.allclose(blk.weights, weights, atol=1e-6), form  # the attention map kept is PyTorch's, per head
    # the three forms differ: same weights (same seed), different outputs
    outs = [TinyTransformer((5,), seq_len=8, n_classes=5, d_model=16, block=f, seed=1).blocks[0](h)
            for f in ("standard", "parallel", "memo")]
    assert not torch.allclose(outs[0], outs[1]) and not torch.allclose(outs[0], outs[2])


def test_transformer_seeding_is_local_and_reproducible():
    state = torch.random.get_rng_state()
    a = TinyTransformer((5, 8), seq_len=8, n_classes=3, seed=3)
    assert torch.equal(state, torch.random.get_rng_state())  # the global generator is untouched
    b = TinyTransformer((5, 8), seq_len=8, n_classes=3, seed=3)
    c = TinyTransformer((5, 8), seq_len=8, n_classes=3, seed=4)
    pa, pb, pc = (torch.cat([p.flatten() for p in m.parameters()]) for m in (a, b, c))
    assert torch.equal(pa, pb) and not torch.equal(pa, pc)


def test_transformer_one_field_accepts_2d_input_and_attention_is_permutation_equivariant():
    net = TinyTransformer((6,), seq_len=5, n_classes=2, d_model=8, n_heads=1, seed=0)
    net.position.weight.data.zero_()  # without positions, attention only sees content
    x = torch.tensor([[0, 1, 2, 3, 4]])
    perm = torch.tensor([2, 0, 4, 1, 3])
    a = net.attention_maps(x)[0, 0, 0]
    b = net.attention_maps(x[:, perm])[0, 0, 0]
    assert np.allclose(b, a[perm][:, perm], atol=1e-6)


@pytest.mark.parametrize(
    "kwargs, error",
    [({"field_sizes": ()}, TypeError), ({"field_sizes": "abc"}, TypeError), ({"field_sizes": (0,)}, ValueError),
     ({"d_model": 10, "n_heads": 3}, ValueError), ({"n_layers": 5}, ValueError), ({"d_model": 512}, ValueError),
     ({"block": "post-ln"}, ValueError), ({"attention": "hardmax"}, ValueError),
     ({"attention": "thresholded", "threshold": 1.5}, ValueError), ({"seq_len": 0}, ValueError)],
)
def test_transformer_errors(kwargs, error):
    args = {"field_sizes": (5,), "seq_len": 4, "n_classes": 2, **kwargs}
    with pytest.raises(error):
        TinyTransformer(**args)


def test_transformer_rejects_bad_input_shape():
    net = TinyTransformer((5, 4), seq_len=4, n_classes=2, d_model=8)
    with pytest.raises(ValueError, match="x must have shape"):
        net(torch.zeros(2, 5, 2, dtype=torch.long))


# --- attention sparsity -------------------------------------------------------------------------------


def test_attention_sparsity_values_and_errors():
    one_hot = np.eye(4)
    assert sparsity(one_hot) == (0.0, 1.0)
    ent, nnz = sparsity(np.full((3, 5), 0.2))
    assert math.isclose(ent, math.log(5)) and nnz == 5.0
    with pytest.raises(ValueError, match="sum to 1"):
        sparsity(np.ones((2, 3)))
    with pytest.raises(ValueError, match="tol"):
        sparsity(one_hot, tol=-1)


# --- restricted isometry -------------------------------------------------------------------------------


def test_rip_of_orthogonal_matrix_is_zero_and_delta2_equals_coherence():
    q, _ = np.linalg.qr(np.random.default_rng(0).normal(size=(6, 6)))
    assert restricted_isometry_constant(q, 3) < 1e-12
    m = np.random.default_rng(1).normal(size=(5, 9))
    # 2x2 Gram matrices of unit columns have eigenvalues 1 +- |g_ij|: delta_2 is exactly the coherence
    assert math.isclose(restricted_isometry_constant(m, 2), coherence(m), rel_tol=1e-10)


def test_rip_against_brute_force_and_bounds():
    m = np.random.default_rng(2).normal(size=(6, 8))
    u = m / np.linalg.norm(m, axis=0)
    brute = 0.0
    for support in itertools.combinations(range(8), 3):
        eig = np.linalg.eigvalsh(u[:, support].T @ u[:, support])
        brute = max(brute, abs(eig[0] - 1), abs(eig[-1] - 1))
    exact = restricted_isometry_constant(m, 3)
    assert math.isclose(exact, brute, rel_tol=1e-12)
    assert exact <= 2 * coherence(m) + 1e-12  # Gershgorin: delta_s <= (s - 1) mu
    sampled = restricted_isometry_constant(m, 3, n_supports=10, seed=0)
    assert sampled <= exact + 1e-12  # sampling visits a subset of the supports: a lower bound
    assert restricted_isometry_constant(m, 3, n_supports=5000, seed=0) == pytest.approx(exact)  # 56 supports, all hit


def test_rip_rank_deficiency_gives_delta_one():
    m = np.random.default_rng(3).normal(size=(5, 2)) @ np.random.default_rng(4).normal(size=(2, 7))  # rank 2
    # any 3 columns of a rank-2 matrix are dependent: some 3-sparse v has M v = 0, so delta_3 >= 1
    assert restricted_isometry_constant(m, 3) >= 1 - 1e-9
    assert restricted_isometry_constant(m, 2) < 1  # generic pairs are independent


def test_rip_and_coherence_errors():
    m = np.eye(4)
    with pytest.raises(ValueError, match="s must"):
        restricted_isometry_constant(m, 5)
    with pytest.raises(ValueError, match="matrix must have 2 dimension"):
        restricted_isometry_constant(np.ones(4), 1)
    with pytest.raises(ValueError, match="zero column"):
        restricted_isometry_constant(np.zeros((3, 3)), 1)
    with pytest.raises(ValueError, match="too many"):
        restricted_isometry_constant(np.eye(40), 10)
    with pytest.raises(ValueError, match="n_supports"):
        restricted_isometry_constant(m, 2, n_supports=0)
    with pytest.raises(ValueError, match="at least 2 columns"):
        coherence(np.ones((3, 1)))


# --- pictures -------------------------------------------------------------------------------------------


def test_plot_attention_draws_and_checks_shape():
    ax = plot_attention(np.eye(4), parents=np.array([[0], [1], [2], [3]]))
    assert len(ax.collections) == 1  # the circles of the true parents
    plt.close("all")
    with pytest.raises(ValueError, match="attention must"):
        plot_attention(np.ones((2, 3)))
