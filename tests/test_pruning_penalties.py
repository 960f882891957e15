"""Tests for cosp_helpers.pruning (penalties, statistics, threshold and global pruning): penalties against closed forms (lasso and ridge on an
orthonormal design), weight statistics, magnitude histograms, pruning invariants, and every error."""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest
import torch

from cosp_helpers import pruning
from cosp_helpers.networks import BinaryTreeNet, DeepNet, count_parameters
from cosp_helpers.pruning import (
    MagnitudeHistogram,
    WeightStats,
    flat_weights,
    l1_penalty,
    l2_penalty,
    magnitude_histogram,
    parameter_norm,
    prune_small_weights,
    prune_to_fraction,
    remove_pruning,
    weight_statistics,
)
from cosp_helpers.training import evaluate, train


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _linear(weight, bias):
    net = torch.nn.Linear(len(weight), 1)
    with torch.no_grad():
        net.weight.copy_(torch.tensor([weight], dtype=torch.float32))
        net.bias.fill_(bias)
    return net


def _data(n=64, d=8, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(n, d, generator=g) * 2 - 1
    y = x[:, : d // 2].sum(1, keepdim=True) * x[:, d // 2 :].sum(1, keepdim=True) / d
    return x, y


# --- penalties ---------------------------------------------------------------------------------


def test_penalties_analytic_values():
    net = _linear([3.0, -4.0], 0.5)
    assert l1_penalty(0.25)(net).item() == 0.25 * 7.5
    assert l2_penalty(0.5)(net).item() == 0.25 * (9 + 16 + 0.25)
    assert l1_penalty(0.0)(net).item() == 0.0
    assert parameter_norm(net, 1) == 7.5
    assert parameter_norm(net, 2) == math.sqrt(25.25)
    assert parameter_norm(net, 1, names=["weight"]) == 7.0


def test_penalty_of_a_model_without_parameters_is_zero():
    assert l1_penalty(1.0)(torch.nn.ReLU()).item() == 0.0


def test_penalty_repr_names_the_strength():
    assert repr(l1_penalty(0.001)).startswith("l1_penalty(0.001)")
    assert "||theta||_2^2" in repr(l2_penalty(2))


def test_l1_gradient_is_strength_times_sign():
    net = _linear([3.0, -4.0, 0.0], -0.5)
    l1_penalty(0.3)(net).backward()
    # d|w|/dw = sign(w), with sign(0) = 0 in torch
    assert torch.equal(net.weight.grad, 0.3 * torch.tensor([[1.0, -1.0, 0.0]]))
    assert torch.equal(net.bias.grad, torch.tensor([-0.3]))


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_l2_penalty_equals_weight_decay(optimizer):
    x, y = _data()
    a, b = DeepNet(8, 6, 2, seed=3), DeepNet(8, 6, 2, seed=3)
    train(a, x, y, optimizer=optimizer, lr=0.01, steps=60, weight_decay=0.05, progress=False, device="cpu")
    train(b, x, y, optimizer=optimizer, lr=0.01, steps=60, penalty=l2_penalty(0.05), progress=False, device="cpu")
    # The same gradient lambda*theta, added by the optimizer in one run and by autograd in the other:
    # only float32 rounding differs (about 1e-7 relative per step, over 60 steps).
    for p, q in zip(a.parameters(), b.parameters()):
        assert torch.allclose(p, q, rtol=0, atol=1e-5)


def _orthonormal_design(n=200, d=6, seed=0):
    # columns of x are orthogonal with x^T x / n = I, so the regularized problems decouple
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.standard_normal((n, d)))
    x = math.sqrt(n) * q
    w_true = np.array([1.5, -0.8, 0.3, 0.05, -0.02, 0.0])
    y = x @ w_true + 0.1 * rng.standard_normal(n)
    b = x.T @ y / n  # the least-squares solution
    return torch.tensor(x, dtype=torch.float64), torch.tensor(y[:, None], dtype=torch.float64), b


def _fit_linear(x, y, penalty):
    net = torch.nn.Linear(x.shape[1], 1, bias=False).double()
    with torch.no_grad():
        net.weight.zero_()
    train(net, x, y, lr=0.02, steps=3000, penalty=penalty, schedule="cosine", progress=False, device="cpu")
    return net.weight.detach().numpy()[0]


def test_l1_training_reaches_the_lasso_soft_threshold():
    # mean((x w - y)^2) + lam ||w||_1 = sum_j (w_j^2 - 2 b_j w_j + lam |w_j|) + const:
    # the minimiser is the soft threshold w_j = sign(b_j) max(|b_j| - lam / 2, 0)
    x, y, b = _orthonormal_design()
    lam = 0.2
    expected = np.sign(b) * np.maximum(np.abs(b) - lam / 2, 0)
    assert np.sum(expected == 0) >= 2  # the test needs coordinates that the threshold kills
    w = _fit_linear(x, y, l1_penalty(lam))
    # Adam's steps shrink with the cosine schedule to 0; the last ones are below 1e-5, and the
    # measured error is about 2e-7 (1e-15 for ridge). A wrong factor (lam instead of lam / 2) would miss by 0.1.
    assert np.max(np.abs(w - expected)) < 1e-4


def test_l2_training_reaches_the_ridge_solution():
    # sum_j ((1 + lam / 2) w_j^2 - 2 b_j w_j): w_j = b_j / (1 + lam / 2), shrunk but never zero
    x, y, b = _orthonormal_design()
    lam = 0.5
    w = _fit_linear(x, y, l2_penalty(lam))
    assert np.max(np.abs(w - b / (1 + lam / 2))) < 1e-4  # same schedule and reasoning as the lasso test


@pytest.mark.parametrize("factory", [l1_penalty, l2_penalty])
def test_penalty_errors(factory):
    with pytest.raises(ValueError, match="strength must be >= 0, got -1.0"):
        factory(-1.0)
    with pytest.raises(ValueError, match="strength must be finite"):
        factory(float("nan"))
    with pytest.raises(TypeError, match="strength must be a real number"):
        factory("0.1")
    with pytest.raises(TypeError, match="model must be a torch.nn.Module, got int"):
        factory(0.1)(3)


def test_parameter_norm_errors():
    with pytest.raises(ValueError, match="order must be 1 or 2, got 3"):
        parameter_norm(torch.nn.Linear(2, 1), 3)
    with pytest.raises(ValueError, match="no trainable parameters"):
        parameter_norm(torch.nn.ReLU())


# --- statistics and histograms -----------------------------------------------------------------


def test_weight_statistics_counts():
    net = _linear([0.5, 1e-4, -2e-3, 0.0], 1e-3)
    s = weight_statistics(net, 1e-3)
    assert s == WeightStats(("bias", "weight"), (1, 4), (1, 2), 1e-3)  # |w| <= threshold: ties count
    assert s.fractions == (1.0, 0.5) and s.total == 5 and s.total_near_zero == 3
    assert weight_statistics(net, 0.0).near_zero == (0, 1)  # threshold 0: exact zeros only
    assert weight_statistics(net, 10.0).total_fraction == 1.0
    assert weight_statistics(net, 1e-3, names=["weight"]).names == ("weight",)


def test_weight_statistics_on_a_tree_net_per_level():
    net = BinaryTreeNet(8, 4, seed=0)
    s = weight_statistics(net, 1e9)
    assert s.total == count_parameters(net)
    assert s.names[:4] == ("levels.0.0", "levels.0.1", "levels.0.2", "levels.0.3")
    assert s.sizes[:4] == (4 * 2 * 4, 4 * 4, 4 * 4, 4)


def test_weight_statistics_errors():
    net = torch.nn.Linear(2, 1)
    with pytest.raises(ValueError, match="threshold must be >= 0, got -0.1"):
        weight_statistics(net, -0.1)
    with pytest.raises(TypeError, match="threshold must be a real number"):
        weight_statistics(net, None)
    with pytest.raises(TypeError, match="model must be a torch.nn.Module, got list"):
        weight_statistics([1.0], 0.1)
    with pytest.raises(ValueError, match=r"unknown parameter names \['wieght'\]; the model has bias, weight"):
        weight_statistics(net, 0.1, names=["wieght"])
    with pytest.raises(TypeError, match="not a single string"):
        weight_statistics(net, 0.1, names="weight")
    with pytest.raises(ValueError, match="names selected none"):
        weight_statistics(net, 0.1, names=[])


def test_frozen_parameters_are_left_out():
    net = _linear([1.0, 2.0], 3.0)
    net.bias.requires_grad_(False)
    assert weight_statistics(net, 0.0).names == ("weight",)
    assert flat_weights(net).tolist() == [1.0, 2.0]


def test_flat_weights_concatenates_in_name_order():
    net = DeepNet(3, 4, 2, seed=1)
    w = flat_weights(net)
    named = dict(net.named_parameters())
    order = sorted(named, key=lambda n: (n.split(".")[1], n.split(".")[2]))  # layers.<i>.bias before .weight
    reference = np.concatenate([named[n].detach().double().reshape(-1).numpy() for n in order])
    assert w.dtype == np.float64 and np.array_equal(w, reference)
    assert w.size == count_parameters(net)


def test_magnitude_histogram_partitions_the_weights():
    rng = np.random.default_rng(0)
    w = np.concatenate([rng.normal(0, 0.3, 500), rng.normal(0, 1e-7, 200), np.zeros(30), [50.0, -80.0]])
    h = magnitude_histogram(w, low=-6, high=1, bins=14)
    assert isinstance(h, MagnitudeHistogram)
    assert int(h.counts.sum()) + h.below + h.above == w.size
    assert h.above == 2 and h.zeros == 30
    assert h.below == int(np.sum(np.abs(w) < 1e-6))
    assert np.allclose(np.diff(h.edges), 0.5)


def test_magnitude_histogram_bin_edges_are_inclusive_at_the_ends():
    h = magnitude_histogram([1e-3, 1e-2, 10.0], low=-3, high=1, bins=4)
    assert h.counts.tolist() == [1, 1, 0, 1] and h.below == 0 and h.above == 0


def test_magnitude_histogram_errors():
    with pytest.raises(ValueError, match="low must be < high, got low=1.0, high=1.0"):
        magnitude_histogram([1.0], low=1, high=1)
    with pytest.raises(ValueError, match="bins must be >= 1, got 0"):
        magnitude_histogram([1.0], bins=0)
    with pytest.raises(ValueError, match="weights must be finite"):
        magnitude_histogram([1.0, np.nan])
    with pytest.raises(TypeError, match="low must be a real number"):
        magnitude_histogram([1.0], low="a")


# --- pruning -----------------------------------------------------------------------------------


@pytest.mark.parametrize("make", [lambda: DeepNet(8, 6, 2, seed=2), lambda: BinaryTreeNet(8, 4, seed=2)])
def test_prune_small_weights_zeroes_exactly_the_counted_weights(make):
    net = make()
    x, _ = _data()
    threshold = 0.2
    before = flat_weights(net)
    counted = weight_statistics(net, threshold)
    stats = prune_small_weights(net, threshold)
    after = flat_weights(net)
    assert stats.near_zero == counted.near_zero and stats.threshold == 0.0
    assert np.array_equal(after, np.where(np.abs(before) <= threshold, 0.0, before))
    # reference: the same network with the weights zeroed by hand computes the same function
    reference = make()
    with torch.no_grad():
        for p in reference.parameters():
            p[p.abs() <= threshold] = 0.0
    assert torch.equal(net(x), reference(x))


@pytest.mark.parametrize("make", [lambda: DeepNet(8, 6, 2, seed=4), lambda: BinaryTreeNet(8, 4, seed=4)])
def test_pruned_weights_stay_zero_through_training(make):
    net = make()
    x, y = _data()
    prune_to_fraction(net, 0.6)
    zeros = flat_weights(net) == 0
    history = train(
        net, x, y, lr=0.01, steps=40, weight_decay=1e-3, penalty=l1_penalty(1e-4), progress=False, device="cpu"
    )
    after = flat_weights(net)
    assert np.all(after[zeros] == 0)
    assert np.all(after[~zeros] != flat_weights(make())[~zeros])  # the others did train
    assert history.final_train_loss < history.train_loss[0]
    assert evaluate(net, x, y, device="cpu") == pytest.approx(history.final_train_loss, rel=1e-6)


def test_penalties_see_the_masked_weights():
    net = _linear([3.0, -0.1, 2.0], 0.5)
    prune_small_weights(net, 0.2)
    assert l1_penalty(1.0)(net).item() == pytest.approx(5.5)
    assert parameter_norm(net, 1) == pytest.approx(5.5)


def test_pruning_twice_combines_the_masks():
    net = _linear([3.0, -0.1, 2.0, 0.5], 1.0)
    prune_small_weights(net, 0.2)
    stats = prune_small_weights(net, 0.6, names=["weight"])
    assert stats.names == ("weight",) and stats.near_zero == (2,)
    assert net.weight.tolist() == [[3.0, 0.0, 2.0, 0.0]]


def test_prune_to_fraction_removes_the_smallest_weights_over_all_tensors():
    net = DeepNet(8, 10, 2, seed=5)
    before = np.abs(flat_weights(net))
    stats = prune_to_fraction(net, 0.7)
    after = flat_weights(net)
    k = before.size - round(0.7 * before.size)
    assert stats.total_near_zero == k == int(np.sum(after == 0))
    # oracle: numpy's sort of all the magnitudes together (no ties among the magnitudes of a random init)
    assert np.array_equal(after == 0, np.isin(np.arange(before.size), np.argsort(before)[:k]))


def test_prune_to_fraction_again_is_iterative_and_reads_the_trained_weights():
    x, y = _data()
    net = BinaryTreeNet(8, 4, seed=9)
    prune_to_fraction(net, 0.8)
    train(net, x, y, lr=0.05, steps=5, progress=False, device="cpu")  # moves w_orig; a module's w is refreshed lazily
    weights = flat_weights(net)  # the masked weights after training
    alive = weights != 0
    stats = prune_to_fraction(net, 0.5)
    after = flat_weights(net)
    assert stats.total_near_zero == weights.size - round(0.5 * weights.size)
    assert np.all(after[~alive] == 0)  # pruned weights stay pruned
    dropped = alive & (after == 0)
    assert np.abs(weights[dropped]).max() <= np.abs(weights[after != 0]).min()  # by the trained magnitudes
    with pytest.raises(ValueError, match="keep must be <= the fraction already surviving"):
        prune_to_fraction(net, 0.6)


def test_prune_to_fraction_ends():
    net = _linear([1.0, 2.0], 3.0)
    assert prune_to_fraction(net, 1.0).total_near_zero == 0
    assert prune_to_fraction(net, 0.0).total_fraction == 1.0
    assert net(torch.ones(1, 2)).item() == 0.0


def test_prune_to_fraction_on_selected_tensors_only():
    net = _linear([0.01, 2.0], 0.001)
    prune_to_fraction(net, 0.5, names=["weight"])
    assert net.weight.tolist() == [[0.0, 2.0]] and net.bias.item() == pytest.approx(0.001)


def test_pruning_errors():
    net = torch.nn.Linear(2, 1)
    with pytest.raises(ValueError, match=r"keep must be in \[0, 1\], got 1.5"):
        prune_to_fraction(net, 1.5)
    with pytest.raises(ValueError, match="threshold must be >= 0"):
        prune_small_weights(net, -1.0)
    with pytest.raises(TypeError, match="model must be a torch.nn.Module"):
        prune_small_weights("net", 0.1)
    with pytest.raises(TypeError, match="model must be a torch.nn.Module"):
        remove_pruning(None)


def test_remove_pruning_makes_it_permanent():
    x, y = _data()
    net = BinaryTreeNet(8, 4, seed=6)
    prune_to_fraction(net, 0.5)
    out = net(x)
    assert remove_pruning(net) == len(list(net.parameters())) == 12
    assert not any(n.endswith("_orig") for n, _ in net.named_parameters())
    assert not any(n.endswith("_mask") for n, _ in net.named_buffers())
    assert torch.equal(net(x), out)
    assert remove_pruning(net) == 0  # nothing left to remove
    zeros = flat_weights(net) == 0
    train(net, x, y, lr=0.01, steps=5, progress=False, device="cpu")
    assert np.any(flat_weights(net)[zeros] != 0)  # free again


def test_pruning_curve_ends_and_leaves_the_model_alone():
    x, y = _data()
    net = DeepNet(8, 6, 2, seed=7)
    train(net, x, y, lr=0.01, steps=50, progress=False, device="cpu")
    train(net, x, y, lr=0.01, steps=1, progress=False, device="cpu")  # leave autograd history on nothing
    before = flat_weights(net)
    curve = pruning.curve(net, x, y, [1.0, 0.5, 0.0], device="cpu")
    assert curve[0] == pytest.approx(evaluate(net, x, y, device="cpu"), rel=1e-7)
    assert curve[2] == pytest.approx(float((y**2).mean()), rel=1e-6)  # all weights zero: the output is 0
    assert np.array_equal(flat_weights(net), before)


def test_pruning_curve_of_a_pruned_model_after_training():
    # a pruned model carries masked weights with autograd history after a training step; copying must still work
    x, y = _data()
    net = BinaryTreeNet(8, 4, seed=8)
    prune_to_fraction(net, 0.8)
    train(net, x, y, lr=0.01, steps=3, progress=False, device="cpu")
    curve = pruning.curve(net, x, y, [0.8], device="cpu")
    assert curve[0] == pytest.approx(evaluate(net, x, y, device="cpu"), rel=1e-7)


def test_pruning_curve_errors():
    net = torch.nn.Linear(2, 1)
    x, y = np.zeros((3, 2)), np.zeros((3, 1))
    with pytest.raises(ValueError, match="keep must be a non-empty sequence"):
        pruning.curve(net, x, y, [])
    with pytest.raises(ValueError, match="keep must be a non-empty sequence"):
        pruning.curve(net, x, y, [0.5, 2.0])
    with pytest.raises(TypeError, match="model must be a torch.nn.Module"):
        pruning.curve(copy, x, y, [0.5])


# --- several penalized runs at once ----------------------------------------------------------------


def _separate_and_batched(make, steps=30, members=4, shared=False, **extra):
    """Train ``members`` networks with train_penalized and, separately, with train; return both."""
    from cosp_helpers.pruning import train_penalized

    g = np.random.default_rng(0)
    xs = [g.uniform(-1, 1, (96, 8)).astype(np.float32) for _ in range(members)]
    if shared:
        xs = [xs[0]] * members
    ys = [(x[:, :1] * x[:, 1:2] + np.sin(x[:, 2:3] * x[:, 5:6])).astype(np.float32) for x in xs]
    xt = g.uniform(-1, 1, (50, 8)).astype(np.float32)
    yt = (xt[:, :1] * xt[:, 1:2]).astype(np.float32)
    lrs, decays, l1s = [0.02, 0.005, 0.02, 0.01][:members], [1e-3, 0.0, 0.0, 1e-2][:members], [0.0, 1e-4, 1e-2, 0.0][:members]
    nets = [make(s) for s in range(members)]
    refs = [copy.deepcopy(n) for n in nets]
    batched = train_penalized(nets, xs[0] if shared else xs, ys[0] if shared else ys, x_test=xt, y_test=yt, lr=lrs, steps=steps,
                              weight_decay=decays, l1=l1s, schedule="cosine", warmup=5, eval_every=10, device="cpu", **extra)
    separate = [
        train(r, xs[i], ys[i], x_test=xt, y_test=yt, lr=lrs[i], steps=steps, weight_decay=decays[i],
              penalty=l1_penalty(l1s[i]) if l1s[i] else None, schedule="cosine", warmup=5, eval_every=10, progress=False, device="cpu")
        for i, r in enumerate(refs)
    ]  # fmt: skip
    return nets, refs, batched, separate


@pytest.mark.parametrize(
    "make",
    [
        lambda s: BinaryTreeNet(8, 6, seed=s),
        lambda s: BinaryTreeNet(8, 4, node_depth=2, seed=s),
        lambda s: DeepNet(8, 10, depth=2, seed=s),
        lambda s: pruning_wired(s),
        lambda s: pruning_wired(s, additive=True),
        lambda s: torch.nn.Sequential(torch.nn.Linear(8, 7, bias=True), torch.nn.Tanh(), torch.nn.Linear(7, 1)),
    ],
    ids=["tree", "deep-tree", "dense", "wired", "additive", "generic"],
)
@pytest.mark.parametrize("shared", [False, True])
def test_train_penalized_gives_each_member_its_separate_run(make, shared):
    torch.manual_seed(0)
    nets, refs, batched, separate = _separate_and_batched(make, shared=shared)
    for net, ref, hb, hs in zip(nets, refs, batched, separate):
        for (name, p), q in zip(net.named_parameters(), ref.parameters()):
            assert p.shape == q.shape
            torch.testing.assert_close(p, q, rtol=1e-4, atol=2e-5, msg=name)
        assert hb.steps == hs.steps == [0, 10, 20, 30]
        np.testing.assert_allclose(hb.train_loss, hs.train_loss, rtol=1e-4, atol=1e-7)
        np.testing.assert_allclose(hb.test_loss, hs.test_loss, rtol=1e-4, atol=1e-7)


def pruning_wired(seed, additive=False):
    from cosp_helpers.circuits import WiredTreeNet

    if additive:
        return WiredTreeNet([[[0, 1], [2, 3], [4, 5], [6, 7]]], 5, seed=seed, additive=True)
    return WiredTreeNet([[[0, 1, 2], [2, 3, 4], [4, 5, 6], [6, 7, 0]], [[0, 1, 2], [2, 3, 0]], [[0, 1]]], 5, seed=seed)


def test_train_penalized_l1_switches_weights_off():
    from cosp_helpers.pruning import train_penalized

    x, y = _data(n=128)
    nets = [DeepNet(8, 12, depth=1, seed=0), DeepNet(8, 12, depth=1, seed=0)]
    train_penalized(nets, x, y, lr=0.01, steps=400, l1=[0.0, 1e-2], device="cpu")
    assert weight_statistics(nets[1], 1e-3).total_fraction > weight_statistics(nets[0], 1e-3).total_fraction + 0.2


def test_train_penalized_errors():
    from cosp_helpers.pruning import train_penalized

    x, y = _data(n=16)
    nets = [DeepNet(8, 4, depth=1, seed=s) for s in range(2)]
    kw = {"lr": 0.01, "steps": 2, "device": "cpu"}
    with pytest.raises(TypeError, match="models"):
        train_penalized(nets[0], x, y, **kw)
    with pytest.raises(TypeError, match="models\\[1\\]"):
        train_penalized([nets[0], "net"], x, y, **kw)
    with pytest.raises(ValueError, match="distinct"):
        train_penalized([nets[0], nets[0]], x, y, **kw)
    with pytest.raises(ValueError, match="architecture"):
        train_penalized([nets[0], DeepNet(8, 5, depth=1, seed=0)], x, y, **kw)
    pruned = DeepNet(8, 4, depth=1, seed=2)
    prune_to_fraction(pruned, 0.5)
    with pytest.raises(ValueError, match="buffers or hooks"):
        train_penalized([pruned], x, y, **kw)
    with pytest.raises(ValueError, match="lr"):
        train_penalized(nets, x, y, lr=[0.01], steps=2, device="cpu")
    with pytest.raises(ValueError, match="lr"):
        train_penalized(nets, x, y, lr=0.0, steps=2, device="cpu")
    with pytest.raises(ValueError, match="weight_decay"):
        train_penalized(nets, x, y, weight_decay=-1.0, **kw)
    with pytest.raises(ValueError, match="l1"):
        train_penalized(nets, x, y, l1=[0.0, -1e-3], **kw)
    with pytest.raises(ValueError, match="x_train"):
        train_penalized(nets, [x], y, **kw)
    with pytest.raises(ValueError, match="x_train"):
        train_penalized(nets, [x, x[:8]], y, **kw)
    with pytest.raises(ValueError, match="same number of samples"):
        train_penalized(nets, x, y[:8], **kw)
    with pytest.raises(ValueError, match="same shape"):
        train_penalized(nets, x, y[:, 0], **kw)
    with pytest.raises(ValueError, match="x_test and y_test"):
        train_penalized(nets, x, y, x_test=x, **kw)
    with pytest.raises(ValueError, match="schedule"):
        train_penalized(nets, x, y, schedule="linear", **kw)
    with pytest.raises(ValueError, match="warmup"):
        train_penalized(nets, x, y, warmup=5, **kw)
    with pytest.raises(ValueError, match="eval_every"):
        train_penalized(nets, x, y, eval_every=0, **kw)
    with pytest.raises(ValueError, match="steps"):
        train_penalized(nets, x, y, lr=0.01, steps=0, device="cpu")
    with pytest.raises(FloatingPointError, match="models\\[1\\]"):
        train_penalized(nets, x, y, lr=[0.01, 1e30], steps=20, device="cpu")
