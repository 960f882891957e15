"""Tests for cosp_helpers.depth: closed forms against analytic values, the networks against the closed
forms, exact piece counts against a dense-grid reference, and every error the module raises."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from cosp_helpers.depth import (
    breakpoints,
    summary,
    hidden_widths,
    linear_pieces,
    nonzero_parameters,
    product_error,
    product_network,
    sawtooth,
    sawtooth_l2_floor,
    sawtooth_network,
    square_error,
    takagi,
    takagi_error,
    takagi_network,
    telgarsky_bound,
    tent,
    train_side_by_side,
    yarotsky_depth,
    yarotsky_product,
    yarotsky_square,
    yarotsky_square_network,
)
from cosp_helpers.networks import DeepNet, ShallowNet


def run(net: nn.Module, x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=float)
    inputs = x[:, None] if x.ndim == 1 else x
    with torch.no_grad():
        return net(torch.from_numpy(inputs).double()).numpy()[:, 0]


def dyadic(level: int) -> np.ndarray:
    """The points j / 2^level of [0, 1]; float64 holds them and their tent images exactly."""
    return np.arange(2**level + 1) / 2**level


# ----------------------------------------------------------------------------------------------------
# closed forms
# ----------------------------------------------------------------------------------------------------


def test_tent_values_and_support():
    x = np.linspace(-1, 2, 3001)
    expected = np.clip(2 * np.minimum(x, 1 - x), 0, None)  # 2 min(x, 1-x) on [0, 1], 0 outside
    assert np.array_equal(tent(x), expected)
    relu = lambda v: np.maximum(v, 0)  # noqa: E731
    assert np.allclose(tent(x), 2 * relu(x) - 4 * relu(x - 0.5) + 2 * relu(x - 1), atol=1e-15)


@pytest.mark.parametrize("k", range(0, 12))
def test_sawtooth_alternates_on_the_dyadic_grid(k):
    x = dyadic(k)
    expected = x if k == 0 else (np.arange(2**k + 1) % 2).astype(float)  # 1 at odd multiples of 2^-k
    assert np.array_equal(sawtooth(x, k), expected)


def test_sawtooth_composes_and_is_symmetric():
    x = np.linspace(0, 1, 1001)
    for a in range(4):
        for b in range(4):
            assert np.allclose(sawtooth(sawtooth(x, a), b), sawtooth(x, a + b), atol=1e-12)
    assert np.allclose(sawtooth(x, 5), sawtooth(1 - x, 5), atol=1e-12)


@pytest.mark.parametrize("m", range(0, 11))
def test_yarotsky_square_interpolates_and_errs_exactly_at_midpoints(m):
    nodes = dyadic(m)
    assert np.array_equal(yarotsky_square(nodes, m), nodes**2)  # exact: dyadic arithmetic in float64
    mid = (2 * np.arange(2**m) + 1) / 2 ** (m + 1)
    assert np.all(yarotsky_square(mid, m) - mid**2 == square_error(m))
    x = np.linspace(0, 1, 4097)
    err = yarotsky_square(x, m) - x**2
    assert err.min() >= 0 and err.max() <= square_error(m)  # above the convex x^2, never further than the bound


def test_yarotsky_square_against_a_reference_interpolant():
    x = np.random.default_rng(0).random(1000)
    for m in range(0, 8):
        nodes = dyadic(m)
        assert np.allclose(yarotsky_square(x, m), np.interp(x, nodes, nodes**2), atol=1e-14)


@pytest.mark.parametrize("m", range(0, 7))
def test_product_error_lies_in_minus_eps_two_eps_and_the_ends_are_attained(m):
    g = dyadic(m + 2)  # holds (0, 2^-m) and the midpoints where the errors peak
    x, y = np.meshgrid(g, g)
    err = yarotsky_product(x, y, m) - x * y
    eps = square_error(m)
    assert err.max() == 2 * eps == product_error(m)
    # -eps needs e(x) = e(y) = eps and (x+y)/2 on the grid, e.g. x = 2^-(m+1), y = 3 2^-(m+1): only for m >= 1
    assert err.min() == (-eps if m >= 1 else 0.0)
    assert float(yarotsky_product(0.0, 2.0**-m, m)) == product_error(m)
    assert np.array_equal(yarotsky_product(x, y, m), yarotsky_product(y, x, m))


def test_takagi_is_the_classical_takagi_function():
    x = np.random.default_rng(1).random(500)
    dist = lambda v: np.abs(v - np.round(v))  # noqa: E731 -- distance to the nearest integer
    classical = sum(dist(2.0**j * x) / 2.0**j for j in range(60))
    assert np.allclose(takagi(x), classical, atol=1e-14)
    assert np.allclose(takagi(x, 5), sum(dist(2.0**j * x) / 2.0**j for j in range(5)), atol=1e-14)


def test_takagi_partial_sums_interpolate_and_the_refinement_equation_holds():
    for n in range(0, 9):
        nodes = dyadic(n)
        assert np.array_equal(takagi(nodes, n), takagi(nodes))  # S_n = T at the points j / 2^n
    x = np.linspace(0, 1, 1001)
    assert np.allclose(takagi(x / 2), x / 2 + takagi(x) / 2, atol=1e-14)  # T(x/2) = x/2 + T(x)/2
    assert abs(float(takagi(1 / 3)) - 2 / 3) < 1e-15 and takagi(np.linspace(0, 1, 10001)).max() <= 2 / 3


@pytest.mark.parametrize("n", range(0, 21))
def test_takagi_error_is_attained(n):
    x = np.append(np.linspace(0, 1, 2**12 + 1), 1 / (3 * 2**n))
    tail = takagi(x) - takagi(x, n)
    # T is computed to 2^-60; the rest is float64 rounding of sums of numbers <= 2/3
    assert tail.min() >= -1e-15
    assert abs(tail.max() - takagi_error(n)) <= 1e-15


def test_error_formulas_and_depth_for_accuracy():
    assert [square_error(m) for m in range(3)] == [0.25, 1 / 16, 1 / 64]
    assert product_error(2) == 2 * square_error(2)
    assert takagi_error(3) == pytest.approx(2 / 3 / 8, rel=1e-15)
    for eps in (0.3, 1e-2, 1e-6, 1e-12):
        for kind, error in (("square", square_error), ("product", product_error)):
            m = yarotsky_depth(eps, kind)
            assert error(m) <= eps and (m == 0 or error(m - 1) > eps)
    assert yarotsky_depth(1e-6) == 9  # 2^-20 < 1e-6 < 2^-18


# ----------------------------------------------------------------------------------------------------
# networks
# ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("k", range(1, 9))
def test_sawtooth_network_is_exact_with_two_or_three_units(k):
    x = np.linspace(0, 1, 2**10 + 1)
    for units in (2, 3):
        net = sawtooth_network(k, units=units)
        assert hidden_widths(net) == (units,) * k
        assert np.array_equal(run(net, x), sawtooth(x, k))
    outside = np.array([-2.0, -0.1, 1.1, 3.0])
    assert np.array_equal(run(sawtooth_network(k, units=3), outside), np.zeros(4))  # 3 units: exact on R


@pytest.mark.parametrize("m", range(1, 11))
def test_square_and_takagi_networks_match_the_closed_forms(m):
    x = np.linspace(0, 1, 2**12 + 1)
    square, tak = yarotsky_square_network(m), takagi_network(m)
    assert hidden_widths(square) == hidden_widths(tak) == (3,) * m
    # the grid is dyadic and all weights are dyadic: both sides are exact
    assert np.array_equal(run(square, x), yarotsky_square(x, m))
    assert np.array_equal(run(tak, x), takagi(x, m))


@pytest.mark.parametrize("m", range(1, 6))
def test_product_network_matches_the_closed_form(m):
    g = dyadic(m + 2)
    x, y = np.meshgrid(g, g)
    net = product_network(m)
    assert hidden_widths(net) == (9,) * m
    out = run(net, np.column_stack([x.ravel(), y.ravel()])).reshape(x.shape)
    assert np.array_equal(out, yarotsky_product(x, y, m))


def test_parameter_counts():
    # sawtooth: first layer 2 weights + 1 bias (-1/2), then 4 weights + 1 bias per layer, 2 output weights
    for k in range(1, 6):
        assert nonzero_parameters(sawtooth_network(k)) == 3 + 5 * (k - 1) + 2
    # square: first layer 3 weights + 1 bias, then 7 weights + 1 bias per layer, 3 output weights
    for m in range(1, 6):
        assert nonzero_parameters(yarotsky_square_network(m)) == 4 + 8 * (m - 1) + 3
        assert nonzero_parameters(product_network(m)) == 3 * nonzero_parameters(yarotsky_square_network(m)) + 3
    with pytest.raises(TypeError, match="net must be a torch.nn.Module"):
        nonzero_parameters("net")


def test_hidden_widths_of_cosp_networks_and_bad_networks():
    assert hidden_widths(ShallowNet(1, 7, seed=0)) == (7,)
    assert hidden_widths(DeepNet(1, 5, 3, seed=0)) == (5, 5, 5)
    with pytest.raises(TypeError, match="net must be an nn.Sequential"):
        hidden_widths("net")
    with pytest.raises(TypeError, match="Linear, ReLU, Linear"):
        hidden_widths(nn.Sequential(nn.Linear(1, 3), nn.Tanh(), nn.Linear(3, 1)))
    with pytest.raises(TypeError, match="Linear, ReLU, Linear"):
        hidden_widths(nn.Sequential(nn.Linear(1, 3), nn.ReLU()))
    with pytest.raises(TypeError, match="ReLU activation"):
        hidden_widths(ShallowNet(1, 3, activation="tanh", seed=0))


# ----------------------------------------------------------------------------------------------------
# piece counting
# ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("k", range(1, 15))
def test_sawtooth_has_two_to_the_k_pieces(k):
    assert linear_pieces(sawtooth_network(k)) == 2**k
    assert np.array_equal(breakpoints(sawtooth_network(k)), dyadic(k)[1:-1])


def test_pieces_on_the_line_and_on_subintervals():
    assert linear_pieces(sawtooth_network(3, units=3), interval=(-1.0, 2.0)) == 8 + 2  # flat zero on each side
    assert linear_pieces(sawtooth_network(3), interval=(0.0, 0.25)) == 2
    assert linear_pieces(sawtooth_network(3), interval=(0.3, 0.35)) == 1


def test_cancelled_and_unused_units_leave_no_breakpoint():
    cancel = nn.Sequential(nn.Linear(1, 2), nn.ReLU(), nn.Linear(2, 1)).double()
    with torch.no_grad():
        cancel[0].weight.copy_(torch.tensor([[1.0], [1.0]]))
        cancel[0].bias.copy_(torch.tensor([-0.5, -0.5]))
        cancel[2].weight.copy_(torch.tensor([[1.0, -1.0]]))  # relu(x - 1/2) - relu(x - 1/2) = 0
    assert linear_pieces(cancel) == 1
    with torch.no_grad():
        cancel[2].weight.copy_(torch.tensor([[1.0, 0.0]]))
    assert breakpoints(cancel).tolist() == [0.5]


@pytest.mark.parametrize("seed", range(6))
def test_breakpoints_reproduce_random_networks_exactly(seed):
    # Reference: the piecewise-linear interpolant through the network's values at its breakpoints
    # must equal the network everywhere; a missed breakpoint would show as a gap of order its kink.
    torch.manual_seed(seed)  # the test's own draw; the library never seeds
    net = nn.Sequential(nn.Linear(1, 6), nn.ReLU(), nn.Linear(6, 5), nn.ReLU(), nn.Linear(5, 4), nn.ReLU(), nn.Linear(4, 1))
    net = net.double()
    with torch.no_grad():
        net[0].weight.mul_(8.0)  # move the first layer's breakpoints into [-1, 1]
    knots = np.concatenate([[-1.0], breakpoints(net, (-1.0, 1.0)), [1.0]])
    x = np.linspace(-1, 1, 20001)
    assert np.allclose(np.interp(x, knots, run(net, knots)), run(net, x), atol=1e-12, rtol=0)
    pieces = len(knots) - 1
    widths = hidden_widths(net)
    assert pieces <= math.prod(2 * w for w in widths) <= telgarsky_bound(sum(widths), len(widths))
    # every breakpoint is a real kink: the slopes on either side differ
    left, right = knots[1:-1] - 1e-7, knots[1:-1] + 1e-7
    mid = knots[1:-1]
    slope_l = (run(net, mid) - run(net, left)) / 1e-7
    slope_r = (run(net, right) - run(net, mid)) / 1e-7
    assert np.all(np.abs(slope_r - slope_l) > 1e-6)


@pytest.mark.parametrize("seed", range(4))
def test_shallow_networks_have_at_most_width_plus_one_pieces(seed):
    net = ShallowNet(1, 12, seed=seed)
    assert linear_pieces(net, (-5.0, 5.0)) <= 13
    knots = breakpoints(net, (-5.0, 5.0))
    w = net.layers[0].weight.detach().double().numpy()[:, 0]
    b = net.layers[0].bias.detach().double().numpy()
    hinges = np.sort(-b / w)
    assert np.allclose(knots, hinges[(hinges > -5) & (hinges < 5)], atol=1e-9)  # one breakpoint per unit, at -b/w


def test_breakpoints_errors():
    net = sawtooth_network(2)
    with pytest.raises(TypeError, match="interval must be a pair"):
        breakpoints(net, interval=0.5)
    with pytest.raises(ValueError, match="lo < hi"):
        breakpoints(net, interval=(1.0, 0.0))
    with pytest.raises(TypeError, match=r"interval\[0\] must be a real number"):
        breakpoints(net, interval=("0", 1.0))
    with pytest.raises(ValueError, match="rtol must be in"):
        linear_pieces(net, rtol=0.0)
    with pytest.raises(ValueError, match="1 input to 1 output"):
        linear_pieces(product_network(2))
    with pytest.raises(TypeError, match="net must be an nn.Sequential"):
        linear_pieces(np.zeros(3))


def test_telgarsky_bound_and_the_shallow_floor():
    assert telgarsky_bound(8, 4) == 256.0 and telgarsky_bound(5, 1) == 10.0
    assert telgarsky_bound(12, 3) == 8.0**3
    with pytest.raises(ValueError, match="units must be >= 1"):
        telgarsky_bound(0, 1)
    with pytest.raises(TypeError, match="layers must be an int"):
        telgarsky_bound(4, 2.0)
    # floor: 1/sqrt(12) for a constant, 0 from 2^(k-1) units on, decreasing in between
    assert sawtooth_l2_floor(0, 5) == pytest.approx(1 / math.sqrt(12), rel=1e-15)
    floors = [sawtooth_l2_floor(w, 5) for w in range(0, 20)]
    assert all(a > b for a, b in zip(floors[:16], floors[1:17])) and floors[16:] == [0.0] * 4
    assert sawtooth_l2_floor(8, 5) == pytest.approx(math.sqrt(0.5 / 12), rel=1e-15)
    with pytest.raises(ValueError, match="width must be >= 0"):
        sawtooth_l2_floor(-1, 3)
    with pytest.raises(ValueError, match="k must be >= 1"):
        sawtooth_l2_floor(2, 0)


def test_floor_against_least_squares_fits():
    # The best output layer for fixed hinges (a linear least-squares problem) can never beat the floor;
    # with hinges at every j / 2^k it reaches zero.
    k = 4
    x = (np.arange(2**14) + 0.5) / 2**14  # midpoint rule for the L2 norm on [0, 1]
    y = sawtooth(x, k)
    for width in (1, 2, 3, 5, 7, 8, 16):
        knots = np.linspace(0, 1, width, endpoint=False)
        features = np.column_stack([np.ones_like(x), np.maximum(x[:, None] - knots, 0)])
        coef, *_ = np.linalg.lstsq(features, y, rcond=None)
        rms = np.sqrt(np.mean((features @ coef - y) ** 2))
        assert rms >= sawtooth_l2_floor(width, k) - 1e-6  # 1e-6: the midpoint rule's quadrature error
    assert rms < 1e-12


# ----------------------------------------------------------------------------------------------------
# argument checks of the closed forms and builders
# ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call, exc, match",
    [
        (lambda: sawtooth(0.5, -1), ValueError, "k must be >= 0"),
        (lambda: sawtooth(0.5, 1.0), TypeError, "k must be an int"),
        (lambda: sawtooth("a", 1), TypeError, "x must be a real number"),
        (lambda: tent(np.array([1 + 2j])), TypeError, "x must hold real numbers"),
        (lambda: tent(np.array([True])), TypeError, "x must hold real numbers"),
        (lambda: yarotsky_square(0.5, -1), ValueError, "m must be >= 0"),
        (lambda: yarotsky_product(0.5, "b", 1), TypeError, "y must be a real number"),
        (lambda: takagi(0.5, -2), ValueError, "n must be >= 0"),
        (lambda: square_error(-1), ValueError, "m must be >= 0"),
        (lambda: product_error(True), TypeError, "m must be an int"),
        (lambda: takagi_error(-1), ValueError, "n must be >= 0"),
        (lambda: yarotsky_depth(0.0), ValueError, r"eps must be in \(0, 1\)"),
        (lambda: yarotsky_depth(1e-3, "cube"), ValueError, "kind must be 'square' or 'product'"),
        (lambda: sawtooth_network(0), ValueError, "k must be >= 1"),
        (lambda: sawtooth_network(2, units=4), ValueError, "units must be 2 or 3"),
        (lambda: yarotsky_square_network(0), ValueError, "m must be >= 1"),
        (lambda: product_network(1.5), TypeError, "m must be an int"),
        (lambda: takagi_network(0), ValueError, "n must be >= 1"),
        (lambda: summary(0), ValueError, "depth must be >= 1"),
        (lambda: summary(17), ValueError, "depth must be <= 16"),
    ],
)
def test_bad_arguments(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


# ----------------------------------------------------------------------------------------------------
# the explorer's compute
# ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("k", [1, 4, 8, 12])
def test_depth_summary_is_consistent(k):
    s = summary(k)
    assert s["pieces"] == 2**k and s["units"] == {"sawtooth": 2 * k, "square": 3 * k, "takagi": 3 * k}
    assert s["square_error"] == s["square_bound"] == square_error(k)  # the grid holds every midpoint
    assert abs(s["takagi_error"] - s["takagi_bound"]) <= 1e-15
    assert np.array_equal(s["sawtooth"], sawtooth(s["x"], k))
    assert np.allclose(s["takagi_approx"], takagi(s["x"], k), atol=1e-15)


# ----------------------------------------------------------------------------------------------------
# training shallow networks side by side
# ----------------------------------------------------------------------------------------------------


def _shallow_nets(widths, seed=0, dtype=torch.float32):
    from cosp_helpers.networks import ShallowNet

    return [ShallowNet(1, m, seed=seed + i).to(dtype) for i, m in enumerate(widths)]


@pytest.mark.parametrize("dtype, rtol", [(torch.float64, 1e-9), (torch.float32, 1e-3)])
@pytest.mark.parametrize("batch_size", [None, 16])
def test_side_by_side_equals_separate_training(dtype, rtol, batch_size):
    from cosp_helpers.training import train

    widths = [1, 3, 8]
    x = np.linspace(0, 1, 48)[:, None]
    y = np.column_stack([sawtooth(x[:, 0], 1), x[:, 0] ** 2, sawtooth(x[:, 0], 2)])
    together, alone = _shallow_nets(widths, dtype=dtype), _shallow_nets(widths, dtype=dtype)
    settings = dict(lr=0.01, steps=60, schedule="cosine", batch_size=batch_size, seed=3, progress=False, device="cpu")
    history = train_side_by_side(together, x, y, **settings)
    losses = [train(net, x, y[:, [j]], **settings).final_train_loss for j, net in enumerate(alone)]
    for a, b in zip(together, alone):
        for p, q in zip(a.parameters(), b.parameters()):
            assert p.shape == q.shape and torch.allclose(p, q, rtol=rtol, atol=rtol * 1e-2)
    assert history.steps[-1] == 60
    if batch_size is None:  # full batch: the recorded loss is the sum of the networks' losses
        assert math.isclose(history.final_train_loss, sum(losses), rel_tol=rtol)


def test_side_by_side_leaves_the_global_generator_and_other_units_alone():
    nets = _shallow_nets([2, 5])
    state = torch.get_rng_state()
    x = np.linspace(0, 1, 16)[:, None]
    before = [p.detach().clone() for p in nets[1].parameters()]
    # network 1's target is its own output: its loss starts at 0 with zero gradient, so it must not move
    with torch.no_grad():
        own = nets[1](torch.tensor(x, dtype=torch.float32)).numpy()
    train_side_by_side(nets, x, np.hstack([x, own]), optimizer="sgd", lr=0.1, steps=5, progress=False, device="cpu")
    assert torch.equal(torch.get_rng_state(), state)
    assert all(torch.equal(p, q) for p, q in zip(before, nets[1].parameters()))


@pytest.mark.parametrize(
    "nets, x, y, exc, match",
    [
        ("net", np.zeros((4, 1)), np.zeros((4, 1)), TypeError, "nets must be a non-empty list"),
        ([], np.zeros((4, 1)), np.zeros((4, 0)), TypeError, "nets must be a non-empty list"),
        ([nn.Linear(1, 1)], np.zeros((4, 1)), np.zeros((4, 1)), TypeError, r"nets\[0\] must be a cosp_helpers.ShallowNet"),
        ("two_inputs", np.zeros((4, 1)), np.zeros((4, 1)), ValueError, r"nets\[0\] must have one input and one output"),
        ("mixed_activation", np.zeros((4, 1)), np.zeros((4, 2)), ValueError, "nets must share one activation"),
        ("mixed_dtype", np.zeros((4, 1)), np.zeros((4, 2)), ValueError, "nets must share one dtype"),
        ("same_twice", np.zeros((4, 1)), np.zeros((4, 2)), ValueError, "nets must be distinct"),
        ("ok", [[0.0]] * 4, np.zeros((4, 1)), TypeError, "x_train must be a numpy array or a torch tensor"),
        ("ok", np.zeros(4), np.zeros((4, 1)), ValueError, r"x_train must have shape \(n, 1\)"),
        ("ok", np.zeros((4, 1)), np.zeros(4), ValueError, r"y_train must have shape \(n, 1\)"),
        ("ok", np.zeros((4, 1)), np.full((4, 1), np.nan), ValueError, "y_train must be finite"),
    ],
)
def test_side_by_side_errors(nets, x, y, exc, match):
    from cosp_helpers.networks import ShallowNet

    built = {
        "two_inputs": lambda: [ShallowNet(2, 3)],
        "mixed_activation": lambda: [ShallowNet(1, 2), ShallowNet(1, 2, activation="tanh")],
        "mixed_dtype": lambda: [ShallowNet(1, 2), ShallowNet(1, 2).double()],
        "same_twice": lambda: 2 * [ShallowNet(1, 2)],
        "ok": lambda: [ShallowNet(1, 2)],
    }
    if isinstance(nets, str) and nets in built:
        nets = built[nets]()
    with pytest.raises(exc, match=match):
        train_side_by_side(nets, x, y, steps=1, progress=False, device="cpu")
