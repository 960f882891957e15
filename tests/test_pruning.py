"""Tests for cosp_helpers.pruning: exact mask sparsity, rewinding, the IMP loop, locality metrics on
known masks, the beta-lasso step, and every error."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch

from cosp_helpers.networks import ShallowNet
from cosp_helpers.pruning import (
    BetaLasso,
    IMPResult,
    displacement_histogram,
    iterative_magnitude_pruning,
    prune_to_fraction,
    random_mask_like,
    remaining_fraction,
    rewind,
    ring_locality,
    ring_spread,
    snapshot,
)
from cosp_helpers.signals import nlgp_dataset


pytestmark = pytest.mark.usefixtures("one_torch_thread")


# --- pruning --------------------------------------------------------------------------------------


def _prune(net, name, keep):
    """Prune one tensor alone (layer-wise) and return its 0/1 mask."""
    prune_to_fraction(net, keep, names=[name])
    module, _, local = name.rpartition(".")
    return getattr(net.get_submodule(module) if module else net, local + "_mask").detach().clone()


@pytest.mark.parametrize("keep", [1.0, 0.5, 0.3, 0.125, 0.01, 1 / 1600])
def test_prune_to_fraction_keeps_exactly_the_requested_number(keep):
    net = ShallowNet(40, 40, n_outputs=2, seed=0)
    mask = _prune(net, "layers.0.weight", keep)
    assert int(mask.sum()) == round(keep * 1600)
    assert remaining_fraction(net, "layers.0.weight") == round(keep * 1600) / 1600
    # the survivors are the largest |w|: every kept magnitude >= every pruned one
    w = net.layers[0].weight_orig.detach().abs()
    if 0 < mask.sum() < mask.numel():
        assert w[mask == 1].min() >= w[mask == 0].max()
    # and the effective weight is exactly zero off the mask
    assert torch.all(net.layers[0].weight[mask == 0] == 0)


def test_repeated_pruning_is_iterative_and_exact():
    net = ShallowNet(40, 40, seed=1)
    for r in range(1, 8):
        prune_to_fraction(net, 0.5**r, names=["layers.0.weight"])
        assert int(net.layers[0].weight_mask.sum()) == round(1600 * 0.5**r)
    # masks are nested: a later mask is contained in an earlier one (it only removes)
    net2 = ShallowNet(40, 40, seed=1)
    first = _prune(net2, "layers.0.weight", 0.5)
    with torch.no_grad():  # scramble the weights so that magnitude alone would pick other entries
        net2.layers[0].weight_orig.copy_(torch.randn(40, 40, generator=torch.Generator().manual_seed(0)))
    second = _prune(net2, "layers.0.weight", 0.25)
    assert torch.all(second <= first) and int(second.sum()) == 400


def test_prune_errors():
    net = torch.nn.Linear(4, 3)
    with pytest.raises(ValueError, match="keep must be in"):
        prune_to_fraction(net, -0.1, names=["weight"])
    with pytest.raises(ValueError, match="keep must be in"):
        prune_to_fraction(net, 1.5, names=["weight"])
    with pytest.raises(TypeError, match="keep"):
        prune_to_fraction(net, "half", names=["weight"])
    with pytest.raises(ValueError, match="names holds unknown parameter names"):
        prune_to_fraction(net, 0.5, names=["weights"])
    with pytest.raises(TypeError, match="names must be an iterable of parameter names"):
        prune_to_fraction(net, 0.5, names="weight")
    with pytest.raises(ValueError, match="name must be one of"):
        remaining_fraction(net, "missing.weight")
    with pytest.raises(TypeError, match="name"):
        remaining_fraction(net, 0)
    with pytest.raises(TypeError, match="model"):
        remaining_fraction("net", "weight")
    prune_to_fraction(net, 0.5, names=["weight"])
    with pytest.raises(ValueError, match="cannot revive"):
        prune_to_fraction(net, 0.75, names=["weight"])


def test_rewind_restores_initial_values_and_keeps_masks():
    net = ShallowNet(8, 6, n_outputs=2, seed=3)
    start = snapshot(net)
    x, y = nlgp_dataset(64, 8, (1.0, 3.0), 3.0, seed=0)
    opt = torch.optim.SGD(net.parameters(), lr=0.5)
    for _ in range(5):  # move every parameter away from its initial value
        opt.zero_grad()
        torch.nn.functional.cross_entropy(net(torch.from_numpy(x)), torch.from_numpy(y)).backward()
        opt.step()
    assert not torch.equal(net.layers[0].weight, start["layers.0.weight"])
    mask = _prune(net, "layers.0.weight", 0.25)
    rewind(net, start)
    assert torch.equal(net.layers[0].weight_orig, start["layers.0.weight"])
    assert torch.equal(net.layers[0].weight, start["layers.0.weight"] * mask)  # survivors: initial values
    assert torch.equal(net.layers[0].weight_mask, mask)
    for name in ("layers.0.bias", "layers.1.weight", "layers.1.bias"):  # unpruned parameters: restored too
        module_name, _, local = name.rpartition(".")
        assert torch.equal(getattr(net.get_submodule(module_name), local), start[name])
    # the snapshot is a copy: changing the network after rewinding leaves it alone, and its names drop "_orig"
    saved = start["layers.0.weight"].clone()
    with torch.no_grad():
        net.layers[0].weight_orig.add_(1.0)
    assert torch.equal(start["layers.0.weight"], saved)
    assert sorted(snapshot(net)) == sorted(start)


def test_rewind_errors():
    net = torch.nn.Linear(3, 2)
    with pytest.raises(TypeError, match="state"):
        rewind(net, [1, 2])
    with pytest.raises(ValueError, match="exactly the model's parameters"):
        rewind(net, {"weight": torch.zeros(2, 3)})
    with pytest.raises(ValueError, match="shape"):
        rewind(net, {"weight": torch.zeros(3, 2), "bias": torch.zeros(2)})
    with pytest.raises(TypeError, match="model"):
        snapshot(None)


def test_imp_loop_records_exact_fractions_nested_masks_and_rewinds():
    net = ShallowNet(20, 10, seed=0)
    start = snapshot(net)
    seen = []

    def fit(model):
        # record what each round starts from, then "train" by adding 1 to every weight
        seen.append(model.layers[0].weight.detach().clone())
        with torch.no_grad():
            for p in model.parameters():
                p.add_(1.0)
        return float(len(seen))

    result = iterative_magnitude_pruning(net, fit, ["layers.0.weight"], rounds=3, keep_per_round=0.4)
    assert isinstance(result, IMPResult) and result.rounds == 3
    assert result.fractions == [1.0, 80 / 200, 32 / 200, 13 / 200]  # round(200 * 0.4**r) = 80, 32, 12.8 -> 13
    assert result.scores == [1.0, 2.0, 3.0, 4.0]
    masks = [m["layers.0.weight"] for m in result.masks]
    for earlier, later in itertools.pairwise(masks):
        assert np.all(later <= earlier)
    for r, m in enumerate(masks):  # each round starts from the initial values on its mask
        assert torch.equal(seen[r], start["layers.0.weight"] * torch.from_numpy(m))
    # recorded weights are the trained ones, zero off the mask
    w3 = result.weights[3]["layers.0.weight"]
    assert np.all(w3[masks[3] == 0] == 0) and np.allclose(
        w3[masks[3] == 1], start["layers.0.weight"].numpy()[masks[3] == 1] + 1
    )


def test_imp_errors():
    net = torch.nn.Linear(4, 1)
    with pytest.raises(TypeError, match="fit"):
        iterative_magnitude_pruning(net, None, ["weight"], 1, 0.5)
    with pytest.raises(TypeError, match="names"):
        iterative_magnitude_pruning(net, lambda m: 0.0, "weight", 1, 0.5)
    with pytest.raises(ValueError, match="at least one"):
        iterative_magnitude_pruning(net, lambda m: 0.0, [], 1, 0.5)
    with pytest.raises(ValueError, match="name must be one of"):
        iterative_magnitude_pruning(net, lambda m: 0.0, ["w"], 1, 0.5)
    with pytest.raises(ValueError, match="rounds"):
        iterative_magnitude_pruning(net, lambda m: 0.0, ["weight"], -1, 0.5)
    for bad in (0.0, 1.0):
        with pytest.raises(ValueError, match="keep_per_round"):
            iterative_magnitude_pruning(net, lambda m: 0.0, ["weight"], 1, bad)


# --- locality ---------------------------------------------------------------------------------------


def test_ring_locality_on_known_masks():
    d = 40
    one = np.zeros((1, d))
    one[0, 7] = 1
    pair = np.zeros((1, d))
    pair[0, [7, 8]] = 1
    opposite = np.zeros((1, d))
    opposite[0, [0, 20]] = 1
    block = np.zeros((1, d))
    block[0, 10:15] = 1
    spread = np.zeros((1, d))
    spread[0, ::8] = 1  # 5 pixels evenly around the ring
    r = ring_locality(np.vstack([one, pair, opposite, block, spread]))
    # closed forms: 1; |1 + e^{i t}| / 2 = cos(t/2) with t = 2 pi / d; 0; a block of 5: sin(5 t/2) / (5 sin(t/2)); 0
    t = 2 * np.pi / d
    expected = [1.0, math.cos(t / 2), 0.0, math.sin(5 * t / 2) / (5 * math.sin(t / 2)), 0.0]
    assert np.allclose(r, expected, atol=1e-12)
    # a local mask is far more concentrated than a non-local one of the same size
    assert r[3] > 0.9
    assert r[4] < 0.1


def test_ring_locality_is_translation_invariant_and_scale_free():
    w = np.random.default_rng(0).normal(size=(5, 30))
    base = ring_locality(w)
    assert np.allclose(ring_locality(np.roll(w, 11, axis=1)), base)
    assert np.allclose(ring_locality(-3.0 * w), base)
    assert np.allclose(ring_locality(torch.from_numpy(w)), base)
    mask = (np.abs(w) > 1).astype(float)
    assert np.allclose(ring_locality(mask, power=1), ring_locality(mask, power=3), equal_nan=True)


def test_ring_locality_all_zero_row_is_nan():
    r = ring_locality(np.array([[0.0, 0.0, 0.0], [1.0, 0.0, 0.0]]))
    assert math.isnan(r[0]) and r[1] == 1.0


def test_ring_spread_matches_the_standard_deviation_of_a_narrow_bump():
    # a Gaussian bump of std s (in |w|^2, power=1 on w = bump) on a big ring: circular std ~ s
    d, s = 400, 4.0
    k = np.arange(d)
    bump = np.exp(-((k - 200) ** 2) / (2 * s**2))[None, :]
    # for a wrapped normal, R = exp(-sigma_angle^2 / 2), so the circular std is exactly s up to the truncation of the tails
    assert ring_spread(bump, power=1)[0] == pytest.approx(s, rel=1e-6)
    assert ring_spread(np.eye(5))[0] == 0.0
    assert np.isinf(ring_spread(np.ones((1, 6))))[0]


def test_random_mask_like_keeps_counts_and_is_uniform():
    mask = np.zeros((200, 10))
    mask[:, :3] = 1  # 3 survivors per row, all at the start
    rnd = random_mask_like(mask, seed=0)
    assert np.array_equal(rnd.sum(axis=1), mask.sum(axis=1))
    assert set(np.unique(rnd)) <= {0.0, 1.0}
    # each pixel survives with probability 3/10: over 200 rows, count ~ Binomial(200, 0.3), sd 6.5; 4 sd = 26
    assert np.all(np.abs(rnd.sum(axis=0) - 60) < 26)
    assert np.array_equal(rnd, random_mask_like(mask, seed=0)) and not np.array_equal(
        rnd, random_mask_like(mask, seed=1)
    )
    # a random mask of a local mask's sparsity is much less local on average
    assert np.nanmean(ring_locality(rnd)) < 0.5 < np.nanmean(ring_locality(mask))


def test_displacement_histogram_known_values_and_random_expectation():
    m = np.zeros((2, 8))
    m[0, [0, 1, 2]] = 1
    m[1, [0, 4]] = 1
    # row 0: (0,1),(1,2) at 1, (0,2) at 2; row 1: (0,4) at 4
    assert displacement_histogram(m).tolist() == [0, 2, 1, 0, 1]
    # a full row of d = 9 pixels: each distance 1..4 is realised by 9 pairs
    assert displacement_histogram(np.ones((1, 9))).tolist() == [0, 9, 9, 9, 9]
    # odd d: the pairs total C(k, 2) per row
    rnd = random_mask_like(np.tile([1.0] * 5 + [0.0] * 16, (50, 1)), seed=0)
    assert displacement_histogram(rnd).sum() == 50 * 10


def test_locality_errors():
    with pytest.raises(ValueError, match="shape"):
        ring_locality(np.ones(5))
    with pytest.raises(ValueError, match="shape"):
        ring_locality(np.ones((3, 1)))
    with pytest.raises(TypeError, match="weights"):
        ring_locality([[1.0, 0.0]])
    with pytest.raises(ValueError, match="power"):
        ring_locality(np.ones((2, 3)), power=0)
    with pytest.raises(TypeError, match="mask"):
        random_mask_like("mask")
    with pytest.raises(ValueError, match="seed"):
        random_mask_like(np.ones((2, 3)), seed=-2)
    with pytest.raises(ValueError, match="shape"):
        displacement_histogram(np.ones((2, 3, 4)))


# --- beta-lasso -------------------------------------------------------------------------------------


def test_beta_lasso_step_by_hand():
    w = torch.nn.Parameter(torch.tensor([0.5, -0.5, 0.011, -0.3, 0.0]))
    w.grad = torch.tensor([0.1, 0.1, 0.0, -1.0, 0.1])
    lr, lam, beta = 0.1, 0.01, 2.0
    BetaLasso([w], lr=lr, lam=lam, beta=beta).step()
    # theta - lr (grad + lam sign theta); then |theta| < beta lam = 0.02 -> 0 (sign(0) = 0)
    raw = np.array([0.5 - 0.1 * 0.11, -0.5 - 0.1 * (0.1 - 0.01), 0.011 - 0.001, -0.3 - 0.1 * (-1.01), 0.0 - 0.01])
    expected = np.where(np.abs(raw) < 0.02, 0.0, raw)
    assert np.allclose(w.detach().numpy(), expected, atol=1e-7)
    # the small weight (0.01 after the step) and the one a gradient moved from 0 to -0.01 are cut; the rest move as SGD + l1
    assert np.count_nonzero(expected) == 3 and w.detach()[2] == 0.0 and w.detach()[4] == 0.0


def test_beta_lasso_is_sgd_when_lam_is_zero_and_groups_can_differ():
    torch.manual_seed(0)
    a = torch.nn.Parameter(torch.randn(6))
    b = torch.nn.Parameter(a.detach().clone())
    grad = torch.randn(6)
    a.grad, b.grad = grad.clone(), grad.clone()
    BetaLasso([a], lr=0.3, lam=0.0, beta=10.0).step()
    torch.optim.SGD([b], lr=0.3).step()
    assert torch.equal(a, b)
    # per-group lam: the first group is thresholded, the second is not
    u = torch.nn.Parameter(torch.tensor([0.01, 1.0]))
    v = torch.nn.Parameter(torch.tensor([0.01, 1.0]))
    u.grad, v.grad = torch.zeros(2), torch.zeros(2)
    BetaLasso([{"params": [u]}, {"params": [v], "lam": 0.0}], lr=0.1, lam=0.05, beta=1.0).step()
    assert u.detach().tolist() == pytest.approx([0.0, 0.995]) and v.detach().tolist() == pytest.approx([0.01, 1.0])


def test_beta_lasso_zeros_stay_zero_without_gradient_support():
    # a weight the loss ignores: lam sign(w) pulls it to the threshold and it is cut; then sign(0) = 0 keeps it there
    w = torch.nn.Parameter(torch.tensor([0.2]))
    opt = BetaLasso([w], lr=0.1, lam=0.1, beta=1.0)
    for _ in range(30):
        opt.zero_grad()
        (0.0 * w).sum().backward()
        opt.step()
    assert float(w.detach()) == 0.0


def test_beta_lasso_errors():
    w = [torch.nn.Parameter(torch.zeros(2))]
    with pytest.raises(ValueError, match="lr must be > 0, got 0.0"):
        BetaLasso(w, lr=0.0, lam=0.1, beta=1.0)
    with pytest.raises(ValueError, match="lam"):
        BetaLasso(w, lr=0.1, lam=-0.1, beta=1.0)
    with pytest.raises(ValueError, match="beta"):
        BetaLasso(w, lr=0.1, lam=0.1, beta=-1.0)
    with pytest.raises(TypeError, match="lam"):
        BetaLasso(w, lr=0.1, lam="0.1", beta=1.0)
