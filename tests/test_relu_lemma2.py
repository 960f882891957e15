"""Tests for cosp_helpers.relu (Lemma 2): trees, Lemma 2 networks against tables and their error bounds, unit counts, errors."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from cosp_helpers.approximation import piecewise_constant
from cosp_helpers.relu import (
    Constituent,
    FlatGridNet,
    NodeGridNet,
    TreeGridNet,
    TreeTarget,
    binary_tree_target,
    constituent,
    flat_grid_units,
    node_approximation_summary,
    tree_error_bounds,
    tree_grid_units,
)
from cosp_helpers.relu import BoxIndicator, count_relu_units

NAMES = ["tilted average", "power mean", "maximum", "distance", "product", "ripple"]
# Rounding: a ramp divides an O(1) difference by eta, so a flat part is exact to ~2e-16 / eta.
# With eta_fraction 1e-6 and k <= 20 that is <= 5e-9; we allow 1e-7 wherever this enters.
ROUNDING = 1e-7


def _run(module: nn.Module, x: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return module(torch.as_tensor(np.asarray(x, dtype=float))).numpy()[:, 0]


def _mixed_tree(n: int) -> TreeTarget:
    return binary_tree_target(n, [constituent(NAMES[i % 3]) for i in range(n - 1)])


# --- constituents and trees --------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_constituent_range_and_lipschitz_constant(name):
    g = constituent(name)
    t = np.linspace(0, 1, 401)
    a, b = np.meshgrid(t, t)
    v = g.fn(a, b)
    assert g.lo - 1e-12 <= v.min() and v.max() <= g.hi + 1e-12
    assert v.min() == pytest.approx(g.lo, abs=1e-3) and v.max() == pytest.approx(g.hi, abs=1e-3)  # the range is tight
    rng = np.random.default_rng(4)
    p = rng.random((200_000, 2))
    q = np.clip(p + rng.uniform(-1e-4, 1e-4, size=p.shape), 0, 1)
    ratio = np.abs(g.fn(*p.T) - g.fn(*q.T)) / np.abs(p - q).max(1)
    assert ratio.max() <= g.lipschitz * (1 + 1e-6)  # never above the constant (1e-6: rounding of tiny differences)
    assert ratio.max() >= 0.95 * g.lipschitz  # and the constant is nearly reached: it is not a loose bound


def test_tree_target_composes_with_affine_maps():
    spread = Constituent("spread", lambda a, b: 3 * a - b, 3.0, -1.0, 3.0)  # range [-1, 3]
    f = binary_tree_target(4, [spread, constituent("product"), constituent("maximum")])
    x = np.random.default_rng(5).random((100, 4))
    left = (3 * x[:, 0] - x[:, 1] + 1) / 4
    right = x[:, 2] * x[:, 3]
    np.testing.assert_allclose(f(x), np.maximum(left, right), atol=1e-15)
    values = f.node_values(x)
    assert [v.shape for v in values] == [(100, 2), (100, 1)]
    assert f.n_inputs == 4 and f.depth == 2


@pytest.mark.parametrize("depth", [1, 2, 3, 5])
def test_tree_error_bounds_closed_forms(depth):
    n, k, rho = 2**depth, 7, 1e-6
    own = (0.5 + rho) / k
    ones = tree_error_bounds(binary_tree_target(n, constituent("maximum")), k, rho)
    assert [len(level) for level in ones] == [n // 2**j for j in range(1, depth + 1)]
    assert ones[-1][0] == pytest.approx(depth * own, rel=1e-12)  # L = 1: errors add up level by level
    twos = tree_error_bounds(binary_tree_target(n, constituent("product")), k, rho)
    assert twos[-1][0] == pytest.approx((2 ** (depth + 1) - 2) * own, rel=1e-12)  # L = 2: 2 + 4 + ... + 2^depth


def test_tree_error_bounds_scale_as_one_over_k():
    f = _mixed_tree(8)
    assert tree_error_bounds(f, 10)[-1][0] == pytest.approx(tree_error_bounds(f, 1)[-1][0] / 10, rel=1e-12)


# --- Lemma 2 networks ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("k", [1, 3, 8])
def test_node_grid_net_equals_the_piecewise_constant_table(name, k):
    g = constituent(name)
    net = NodeGridNet(g, k)
    assert count_relu_units(net, 2) == 3 * k * k + 8 * k
    ab = np.random.default_rng(6).random((4000, 2))
    ab[:2] = [[0.0, 0.0], [1.0, 1.0]]  # the corners of the square belong to the first and last cells
    gap = np.ceil(ab * k) / k - ab  # distance to the knot just above
    clear = ~((gap > 0) & (gap < net.eta) & (np.ceil(ab * k) < k)).any(1)  # no coordinate inside a ramp
    assert clear.sum() >= 3990  # ramps cover 2 (k - 1) eta of the square's width: a handful of points at most
    table = piecewise_constant(lambda p: g.fn(p[:, 0], p[:, 1]), 2, k).predict(ab[clear])
    np.testing.assert_allclose(_run(net, ab[clear]), table, rtol=0, atol=ROUNDING)


def test_node_grid_net_equals_a_sum_of_box_indicators():
    # the fused layers compute exactly sum_ij g(c_i, c_j) Phi_ij with the memo's 11-unit boxes, ramps included
    g, k, rho = constituent("ripple"), 4, 0.4
    eta = rho / k
    net = NodeGridNet(g, k, eta_fraction=rho)
    ab = np.random.default_rng(7).uniform(-0.1, 1.1, size=(3000, 2))
    cells = [(j / k - eta, (j + 1) / k if j < k - 1 else 1 + eta) for j in range(k)]
    c = (np.arange(k) + 0.5) / k
    ref = sum(g.fn(c[i], c[j]) * _run(BoxIndicator(*cells[i], *cells[j], eta), ab) for i in range(k) for j in range(k))
    np.testing.assert_allclose(_run(net, ab), ref, atol=1e-11)


def test_node_grid_net_indicators_sum_to_one_along_an_axis():
    ones = Constituent("one", lambda a, b: np.ones_like(a), 0.0, 0.0, 2.0)
    net = NodeGridNet(ones, 5, eta_fraction=0.8)  # wide ramps
    a = np.linspace(0, 1, 1001)
    ab = np.stack([a, np.full_like(a, 0.42)], axis=1)  # b in [0.4, 0.44], the flat part of cell 2 when eta = 0.16
    np.testing.assert_allclose(_run(net, ab), 1.0, atol=1e-12)


@pytest.mark.parametrize("n, k", [(2, 5), (4, 3), (8, 4), (16, 2)])
def test_tree_grid_net_units_and_bound(n, k):
    f = _mixed_tree(n)
    net = TreeGridNet(f, k)
    assert count_relu_units(net, n) == tree_grid_units(n, k) == (n - 1) * (3 * k * k + 8 * k)
    x = np.random.default_rng(8).random((3000, n))
    trace = net.trace(x, batch_size=1000)
    assert not trace.corner.any()  # corners have probability < 1e-10 here
    with torch.no_grad():
        np.testing.assert_array_equal(net(torch.as_tensor(x)).numpy()[:, 0], trace.output)
    truth = f.node_values(x)
    bounds = tree_error_bounds(f, k)
    for got, want, bound in zip(trace.outputs, truth, bounds):
        assert np.all(np.abs(got - want) <= bound + ROUNDING)  # every node, at every point
    assert [u.shape for u in trace.inputs] == [(3000, n // 2 ** (j + 1), 2) for j in range(f.depth)]


def test_tree_grid_net_flags_corners_when_ramps_are_wide():
    f = _mixed_tree(4)
    x = np.random.default_rng(9).random((20_000, 4))
    k, rho = 6, 0.3
    trace = TreeGridNet(f, k, eta_fraction=rho).trace(x)
    # at the first level a node's two inputs are both in ramps with probability ((k - 1) eta)^2 each, independently
    p_first = 1 - (1 - ((k - 1) * rho / k) ** 2) ** 2
    assert trace.corner.mean() >= p_first - 4 * math.sqrt(p_first * (1 - p_first) / len(x))
    err = np.abs(trace.output - f(x))
    assert np.all(err[~trace.corner] <= tree_error_bounds(f, k, rho)[-1][0] + ROUNDING)  # off corners the bound holds


@pytest.mark.parametrize("n, k", [(1, 5), (2, 4), (3, 3), (4, 5)])
def test_flat_grid_net_units_and_table(n, k):
    f = lambda x: np.sin(x @ np.arange(1.0, n + 1))  # noqa: E731
    net = FlatGridNet(f, n, k)
    assert count_relu_units(net, n) == flat_grid_units(n, k) == k**n + 4 * k * n
    x = np.random.default_rng(10).random((2000, n))
    np.testing.assert_allclose(_run(net, x), piecewise_constant(f, n, k).predict(x), atol=ROUNDING)


def test_unit_formulas():
    assert tree_grid_units(2, 1) == 11  # one node, one cell: the memo's 11-unit box
    assert [tree_grid_units(n, 10) // (n - 1) for n in (2, 4, 64)] == [380] * 3  # exactly linear in n - 1
    assert flat_grid_units(64, 10) == 10**64 + 2560


# --- widget computations -----------------------------------------------------------------------


@pytest.mark.parametrize("name", ["ripple", "product"])
def test_node_approximation_summary(name):
    s = node_approximation_summary(name, 5, resolution=40)
    assert s["true"].shape == s["approx"].shape == (40, 40)
    assert s["units"] == 3 * 25 + 40 and s["max_error"] <= s["bound"]
    assert s["max_error"] >= 0.5 * s["bound"]  # the bound L h / 2 is nearly reached on a 40 x 40 grid


# --- argument errors ---------------------------------------------------------------------------

ERRORS = [
    (constituent, ("sine",), ValueError, "name must be one of"),
    (binary_tree_target, (6, constituent("maximum")), ValueError, r"n must be a power of 2 \(>= 2\), got 6"),
    (binary_tree_target, (1, constituent("maximum")), ValueError, "n must be >= 2"),
    (binary_tree_target, (4, [constituent("maximum")] * 2), ValueError, "sequence of n - 1 = 3"),
    (binary_tree_target, (2, ["maximum"]), ValueError, "constituents must be one Constituent"),
    (binary_tree_target, (2, Constituent("flat", np.add, 1.0, 1.0, 1.0)), ValueError, "must have hi > lo"),
    (tree_error_bounds, ("tree", 3), TypeError, "target must be a TreeTarget"),
    (tree_error_bounds, (binary_tree_target(2, constituent("maximum")), 0), ValueError, "k must be >= 1"),
    (tree_error_bounds, (binary_tree_target(2, constituent("maximum")), 2, 1.5), ValueError,
     r"eta_fraction must be in \(0, 1\]"),
    (NodeGridNet, ("maximum", 3), TypeError, "g must be a Constituent"),
    (NodeGridNet, (constituent("maximum"), 2.0), TypeError, "k must be an int"),
    (NodeGridNet, (constituent("maximum"), 3, 0.0), ValueError, r"eta_fraction must be in \(0, 1\]"),
    (TreeGridNet, ("tree", 3), TypeError, "target must be a TreeTarget"),
    (FlatGridNet, ("f", 2, 3), TypeError, "f must be callable"),
    (FlatGridNet, (np.sum, 21, 2), ValueError, r"k\*\*n must be <= 1048576"),
    (FlatGridNet, (lambda x: x, 2, 3), ValueError, "f must map points of shape"),
    (tree_grid_units, (1, 3), ValueError, "n must be >= 2"),
    (tree_grid_units, (4, 0), ValueError, "k must be >= 1"),
    (flat_grid_units, (0, 3), ValueError, "n must be >= 1"),
    (flat_grid_units, (3, 1.5), TypeError, "k must be an int"),
    (node_approximation_summary, ("sine", 3), ValueError, "name must be one of"),
    (node_approximation_summary, ("ripple", 0), ValueError, "k must be >= 1"),
    (node_approximation_summary, ("ripple", 3, 1), ValueError, "resolution must be >= 2"),
]




@pytest.mark.parametrize("func, args, error, match", ERRORS, ids=[f"{e[0].__name__}-{i}" for i, e in enumerate(ERRORS)])
def test_argument_errors_name_the_argument(func, args, error, match):
    with pytest.raises(error, match=match):
        func(*args)


def test_trace_argument_errors():
    net = TreeGridNet(binary_tree_target(4, constituent("maximum")), 2)
    with pytest.raises(ValueError, match=r"x must have shape \(N, 4\)"):
        net.trace(np.zeros((3, 2)))
    with pytest.raises(ValueError, match="batch_size must be >= 1"):
        net.trace(np.zeros((3, 4)), batch_size=0)
    with pytest.raises(ValueError, match=r"x must have shape \(N, 4\)"):
        binary_tree_target(4, constituent("maximum")).node_values(np.zeros(4))
