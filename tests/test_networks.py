"""Tests for cosp_helpers.networks: closed-form counts, a reference tree, locality, seeding, budgets, errors."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from cosp_helpers.networks import (
    BinaryTreeNet,
    DeepNet,
    ShallowNet,
    count_parameters,
    mp_counts,
    mp_summary,
    parameter_count,
    width_for_budget,
)

# --- parameter counts ------------------------------------------------------------------------


@pytest.mark.parametrize("n", [1, 2, 8, 16])
@pytest.mark.parametrize("width", [1, 3, 50])
def test_shallow_count(n, width):
    expected = n * width + width + width + 1  # input weights, hidden biases, output weights, output bias
    assert parameter_count("shallow", n, width) == expected
    assert count_parameters(ShallowNet(n, width, seed=0)) == expected


@pytest.mark.parametrize("n, width, depth, outputs", [(8, 1, 1, 1), (8, 10, 3, 1), (4, 7, 2, 3), (16, 20, 4, 2)])
def test_deep_count(n, width, depth, outputs):
    expected = (n * width + width) + (depth - 1) * (width * width + width) + (width * outputs + outputs)
    assert parameter_count("deep", n, width, depth=depth, n_outputs=outputs) == expected
    assert count_parameters(DeepNet(n, width, depth, outputs, seed=0)) == expected


@pytest.mark.parametrize("n", [2, 4, 8, 32])
@pytest.mark.parametrize("q", [1, 5, 12])
def test_tree_count(n, q):
    one_layer = (n - 1) * (2 * q + q + q + 1)  # per node: 2 -> q weights and biases, q -> 1 weights and bias
    two_layers = (n - 1) * (2 * q + q + q * q + q + q + 1)
    assert parameter_count("tree", n, q) == one_layer
    assert parameter_count("tree", n, q, node_depth=2) == two_layers
    assert count_parameters(BinaryTreeNet(n, q, seed=0)) == one_layer
    assert count_parameters(BinaryTreeNet(n, q, node_depth=2, seed=0)) == two_layers


def test_count_parameters_skips_frozen():
    net = ShallowNet(3, 4, seed=0)
    net.layers[0].weight.requires_grad_(False)
    assert count_parameters(net) == parameter_count("shallow", 3, 4) - 12


# --- shapes and equivalences -----------------------------------------------------------------


@pytest.mark.parametrize("activation", ["relu", "softplus", "tanh"])
def test_shapes(activation):
    x = torch.rand(7, 8)
    assert ShallowNet(8, 5, activation=activation, seed=0)(x).shape == (7, 1)
    assert DeepNet(8, 5, 3, n_outputs=2, activation=activation, seed=0)(x).shape == (7, 2)
    assert BinaryTreeNet(8, 5, node_depth=2, activation=activation, seed=0)(x).shape == (7, 1)


def test_shallow_is_deep_with_one_layer():
    x = torch.rand(5, 6)
    assert torch.equal(ShallowNet(6, 9, seed=3)(x), DeepNet(6, 9, 1, seed=3)(x))


def test_deep_matches_a_reference_forward_pass():
    net = DeepNet(4, 6, 3, n_outputs=2, activation="tanh", seed=1)
    x = torch.rand(5, 4, generator=torch.Generator().manual_seed(0))
    h = x
    for layer in net.layers[:-1]:
        h = torch.tanh(h @ layer.weight.T + layer.bias)
    expected = h @ net.layers[-1].weight.T + net.layers[-1].bias
    torch.testing.assert_close(net(x), expected)


def reference_tree(net: BinaryTreeNet, x: torch.Tensor) -> list[torch.Tensor]:
    """Node-by-node evaluation with Python loops: the definition the batched version must match."""
    act = {"relu": torch.relu, "tanh": torch.tanh, "softplus": torch.nn.functional.softplus}[net.activation]
    values = [x[:, i] for i in range(x.shape[1])]
    levels = []
    for level in net.levels:
        params = list(level)
        outs = []
        for j in range(len(values) // 2):
            pair = torch.stack([values[2 * j], values[2 * j + 1]], dim=1)  # (batch, 2)
            h = act(pair @ params[0][j] + params[1][j])
            for i in range(2, len(params) - 2, 2):
                h = act(h @ params[i][j] + params[i + 1][j])
            outs.append((h @ params[-2][j] + params[-1][j])[:, 0])
        levels.append(torch.stack(outs, dim=1))
        values = outs
    return levels


@pytest.mark.parametrize("n, node_depth, activation", [(2, 1, "relu"), (8, 1, "relu"), (16, 2, "tanh"), (4, 3, "softplus")])
def test_tree_matches_the_node_by_node_reference(n, node_depth, activation):
    net = BinaryTreeNet(n, 5, node_depth=node_depth, activation=activation, seed=2)
    x = torch.rand(9, n, generator=torch.Generator().manual_seed(1)) * 2 - 1
    reference = reference_tree(net, x)
    for got, want in zip(net.node_outputs(x), reference):
        torch.testing.assert_close(got, want)
    torch.testing.assert_close(net(x), reference[-1])  # forward skips the per-level list: same root


@pytest.mark.parametrize("n", [4, 8, 16])
def test_tree_nodes_depend_only_on_their_subtree(n):
    net = BinaryTreeNet(n, 6, node_depth=2, activation="tanh", seed=0)  # tanh: no dead units, gradients nonzero
    x = (torch.rand(16, n, generator=torch.Generator().manual_seed(0)) * 2 - 1).requires_grad_(True)
    outputs = net.node_outputs(x)
    for level, values in enumerate(outputs, start=1):
        span = 2**level
        for j in range(values.shape[1]):
            (grad,) = torch.autograd.grad(values[:, j].sum(), x, retain_graph=True)
            inside = torch.zeros(n, dtype=torch.bool)
            inside[j * span : (j + 1) * span] = True
            assert torch.all(grad[:, ~inside] == 0), (level, j)  # exactly zero outside the subtree
            assert torch.all(grad[:, inside].abs().sum(0) > 0), (level, j)  # and every leaf inside matters


def test_tree_output_changes_when_inputs_of_different_subtrees_are_swapped():
    # the wiring is not accidentally symmetric: inputs 0 and 5 sit in different halves of the tree
    net = BinaryTreeNet(8, 6, seed=0)
    x = torch.rand(32, 8, generator=torch.Generator().manual_seed(0))
    swapped = x[:, [5, 1, 2, 3, 4, 0, 6, 7]]
    assert not torch.allclose(net(x), net(swapped))


# --- seeding ---------------------------------------------------------------------------------


@pytest.mark.parametrize("make", [lambda s: ShallowNet(8, 5, seed=s), lambda s: DeepNet(8, 5, 2, seed=s),
                                  lambda s: BinaryTreeNet(8, 5, seed=s)])
def test_seeding(make):
    state = torch.random.get_rng_state()
    a, b, c = make(1), make(1), make(2)
    assert torch.equal(torch.random.get_rng_state(), state)  # the global generator is untouched
    for pa, pb in zip(a.parameters(), b.parameters()):
        assert torch.equal(pa, pb)
    assert any(not torch.equal(pa, pc) for pa, pc in zip(a.parameters(), c.parameters()))
    gen = np.random.default_rng(1)
    assert all(torch.equal(p, q) for p, q in zip(make(gen).parameters(), make(np.random.default_rng(1)).parameters()))


def test_initialisation_is_uniform_on_one_over_sqrt_fan_in():
    net = DeepNet(50, 40, 2, seed=0)
    first = net.layers[0].weight
    bound = 1 / math.sqrt(50)
    assert first.abs().max() <= bound
    # the variance of U(-b, b) is b^2 / 3; with 2000 draws the sample variance is within 10% (about 5 SE)
    assert float(first.detach().var()) == pytest.approx(bound**2 / 3, rel=0.1)
    tree = BinaryTreeNet(8, 30, seed=0)
    assert tree.levels[0][0].abs().max() <= 1 / math.sqrt(2)
    assert tree.levels[0][-2].abs().max() <= 1 / math.sqrt(30)


# --- width for a budget ----------------------------------------------------------------------


CASES = [("shallow", 8, {}), ("shallow", 16, {}), ("deep", 8, {"depth": 3}), ("deep", 4, {"depth": 2}),
         ("tree", 8, {}), ("tree", 16, {"node_depth": 2}), ("tree", 4, {})]


@pytest.mark.parametrize("architecture, n, extra", CASES)
def test_width_for_budget_is_the_nearest_width(architecture, n, extra):
    counts = {w: parameter_count(architecture, n, w, **extra) for w in range(1, 2000)}
    for budget in [counts[1], counts[1] + 1, 100, 250, 1000, 2500, 10_000, 12_345]:
        if budget < counts[1]:
            continue
        w = width_for_budget(architecture, n, budget, **extra)
        nearest = min(counts, key=lambda v: (abs(counts[v] - budget), v))
        assert w == nearest, (budget, w, nearest)
        # within half the parameters of one more unit
        unit = counts[w + 1] - counts[w]
        assert abs(counts[w] - budget) <= unit / 2 + 0.5  # + 0.5: the unit may be odd


def test_width_for_budget_hits_exact_counts():
    for w in (1, 7, 64):
        assert width_for_budget("tree", 8, parameter_count("tree", 8, w)) == w
        assert width_for_budget("deep", 8, parameter_count("deep", 8, w, depth=3), depth=3) == w


# --- errors ----------------------------------------------------------------------------------


def test_constructor_errors():
    with pytest.raises(ValueError, match=r"n_inputs must be a power of 2 \(>= 2\), got 6"):
        BinaryTreeNet(6, 3)
    with pytest.raises(ValueError, match="n_inputs must be >= 2"):
        BinaryTreeNet(1, 3)
    with pytest.raises(ValueError, match="node_width must be >= 1"):
        BinaryTreeNet(8, 0)
    with pytest.raises(ValueError, match="node_depth must be >= 1"):
        BinaryTreeNet(8, 2, node_depth=0)
    with pytest.raises(ValueError, match="activation must be one of"):
        ShallowNet(8, 3, activation="sigmoid")
    with pytest.raises(ValueError, match="activation must be one of"):
        BinaryTreeNet(8, 3, activation="gelu")
    with pytest.raises(TypeError, match="width must be an int"):
        ShallowNet(8, 2.5)
    with pytest.raises(ValueError, match="depth must be >= 1"):
        DeepNet(8, 3, 0)
    with pytest.raises(ValueError, match="n_outputs must be >= 1"):
        DeepNet(8, 3, 2, n_outputs=0)
    with pytest.raises(ValueError, match="n_inputs must be >= 1"):
        ShallowNet(0, 3)
    with pytest.raises(ValueError, match="seed must be >= 0"):
        ShallowNet(8, 3, seed=-1)


def test_tree_input_shape_error():
    with pytest.raises(ValueError, match=r"x must have shape \(batch, 8\), got \(3, 4\)"):
        BinaryTreeNet(8, 3)(torch.zeros(3, 4))


def test_count_errors():
    with pytest.raises(ValueError, match="architecture must be one of"):
        parameter_count("cnn", 8, 3)
    with pytest.raises(ValueError, match="architecture 'deep' needs depth"):
        parameter_count("deep", 8, 3)
    with pytest.raises(ValueError, match="width must be >= 1"):
        parameter_count("shallow", 8, 0)
    with pytest.raises(ValueError, match="power of 2"):
        parameter_count("tree", 12, 3)
    with pytest.raises(ValueError, match=r"budget must be >= 11 \(the 'shallow' count at width 1\), got 10"):
        width_for_budget("shallow", 8, 10)
    with pytest.raises(TypeError, match="budget must be an int"):
        width_for_budget("shallow", 8, 1000.0)
    with pytest.raises(ValueError, match="architecture must be one of"):
        width_for_budget("wide", 8, 1000)
    with pytest.raises(TypeError, match="model must be a torch.nn.Module"):
        count_parameters([1, 2])


# --- the MP theorem's counts -----------------------------------------------------------------


@pytest.mark.parametrize("n, m, eps", [(2, 1, 0.1), (8, 2, 0.01), (16, 3.5, 0.3), (64, 1, 0.5)])
def test_mp_counts_binary_tree_closed_forms(n, m, eps):
    c = mp_counts(n, m, eps)
    assert c.shallow == pytest.approx(eps ** (-n / m), rel=1e-12)
    assert c.deep == pytest.approx((n - 1) * eps ** (-2 / m), rel=1e-12)
    assert c.log10_shallow == pytest.approx(math.log10(eps ** (-n / m)), rel=1e-12)
    assert c.log10_deep == pytest.approx(math.log10((n - 1) * eps ** (-2 / m)), rel=1e-12)


def test_mp_counts_general_graph():
    # a node with 3 inputs (m = 3) feeding one with 2 inputs (m = 1): N_d = eps^-1 + eps^-2, N_s uses min m = 1
    c = mp_counts(4, 2, 0.1, node_dims=[3, 2], node_smoothness=[3, 1])
    assert c.deep == pytest.approx(10 + 100)
    assert c.shallow == pytest.approx(0.1**-4)
    # without node_smoothness every node has the given m
    assert mp_counts(4, 2, 0.1, node_dims=[3, 2]).deep == pytest.approx(10**1.5 + 10)


def test_mp_counts_do_not_overflow():
    c = mp_counts(1000, 1, 0.01)
    assert c.log10_shallow == pytest.approx(2000) and c.shallow == math.inf
    assert c.deep == pytest.approx(999 * 1e4)
    # a huge deep count goes through log-sum-exp: 2 nodes of eps^-400 each
    big = mp_counts(2, 1, 0.1, node_dims=[400, 400])
    assert big.log10_deep == pytest.approx(400 + math.log10(2), rel=1e-12) and big.deep == math.inf


def test_mp_counts_deep_beats_shallow_exactly_when_expected():
    # (n - 1) eps^(-2/m) < eps^(-n/m)  <=>  log10(n - 1) < (n - 2)/m log10(1/eps)
    for n in range(3, 20):
        for eps in (0.5, 0.1, 0.01):
            c = mp_counts(n, 2, eps)
            assert (c.deep < c.shallow) == (math.log10(n - 1) < (n - 2) / 2 * -math.log10(eps))


def test_mp_summary_matches_mp_counts():
    out = mp_summary(10, 2, 0.05, n_max=40)
    assert list(out["dims"]) == list(range(2, 41))
    for n, ls, ld in zip(out["dims"], out["log10_shallow_curve"], out["log10_deep_curve"]):
        c = mp_counts(int(n), 2, 0.05)
        assert ls == pytest.approx(c.log10_shallow) and ld == pytest.approx(c.log10_deep)
    assert out["counts"] == mp_counts(10, 2, 0.05)
    assert len(mp_summary(100, 1, 0.1, n_max=64)["dims"]) == 99  # the curve reaches the chosen n


def test_mp_errors():
    with pytest.raises(ValueError, match="n_inputs must be >= 2"):
        mp_counts(1, 1, 0.1)
    with pytest.raises(ValueError, match="smoothness must be > 0"):
        mp_counts(8, 0, 0.1)
    with pytest.raises(ValueError, match=r"eps must be in \(0, 1\)"):
        mp_counts(8, 1, 1.0)
    with pytest.raises(ValueError, match="node_dims must list at least one node"):
        mp_counts(8, 1, 0.1, node_dims=[])
    with pytest.raises(ValueError, match=r"node_dims\[i\] must be >= 1"):
        mp_counts(8, 1, 0.1, node_dims=[2, 0])
    with pytest.raises(ValueError, match="node_smoothness must have one entry per node"):
        mp_counts(8, 1, 0.1, node_dims=[2, 2], node_smoothness=[1])
    with pytest.raises(ValueError, match=r"node_smoothness\[i\] must be > 0"):
        mp_counts(8, 1, 0.1, node_dims=[2], node_smoothness=[-1])
    with pytest.raises(ValueError, match="n_max must be >= 2"):
        mp_summary(8, 1, 0.1, n_max=1)
