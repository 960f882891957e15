"""Tests for cosp_helpers.splines: the rescaling inequality and path norm on hand cases, balanced
rescaling leaves the function unchanged, knots of hand-built networks, TV(f') of known splines,
the linear program and the exact TV regression against closed forms, and every error."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from cosp_helpers import splines
from cosp_helpers.networks import DeepNet, ShallowNet  # noqa: E402
from cosp_helpers.splines import (  # noqa: E402
    Knots,
    SplineNet,
    UnitWeights,
    balance,
    interpolant_tv,
    knots,
    min_tv_interpolant,
    path_norm,
    plot_spline,
    slope_tv,
    tv_regression,
    unit_weights,
    weight_decay_cost,
)


def _units(w, b, v, a=0.0, c=0.0):
    return UnitWeights(np.array(w, float), np.array(b, float), np.array(v, float), a, c)


# --- path norm and the rescaling inequality -----------------------------------------------------


def test_path_norm_and_weight_decay_hand_cases():
    # v = 12, w = (1, 2, 2): ||w|| = 3, so the path norm is 36 and weight decay (144 + 9) / 2 = 76.5
    v, w = np.array([12.0]), np.array([[1.0, 2.0, 2.0]])
    assert path_norm(v, w) == 36.0
    assert weight_decay_cost(v, w) == 76.5
    # two 1-D units: |3|*|1| + |-2|*|2| = 7; (9 + 4 + 1 + 4) / 2 = 9
    assert path_norm(np.array([3.0, -2.0]), np.array([1.0, 2.0])) == 7.0
    assert weight_decay_cost(np.array([3.0, -2.0]), np.array([1.0, 2.0])) == 9.0


def test_rescaling_inequality_minimum_over_alpha():
    # min over alpha > 0 of (v^2 / alpha^2 + alpha^2 ||w||^2) / 2 equals |v| ||w||, attained at alpha^2 = |v| / ||w||
    rng = np.random.default_rng(0)
    for _ in range(20):
        v, w = rng.normal(size=1), rng.normal(size=(1, 4))
        alphas = np.exp(np.linspace(-5, 5, 200_001))
        costs = 0.5 * (v[0] ** 2 / alphas**2 + alphas**2 * np.sum(w**2))
        # grid step 5e-5 in log alpha: the cost's relative excess near the minimum is about 2 (dlog)^2 < 1e-8
        assert costs.min() == pytest.approx(path_norm(v, w), rel=1e-8)
        assert weight_decay_cost(v, w) >= path_norm(v, w)


def test_balance_equalizes_and_keeps_the_function():
    rng = np.random.default_rng(1)
    w, b, v = rng.normal(size=30), rng.normal(size=30), rng.normal(size=30) * 5
    vb, wb, bb = balance(v, w, b)
    assert np.allclose(np.abs(vb), np.abs(wb), rtol=1e-12)
    assert weight_decay_cost(vb, wb) == pytest.approx(path_norm(v, w), rel=1e-12)
    assert path_norm(vb, wb) == pytest.approx(path_norm(v, w), rel=1e-12)  # the path norm is rescaling-invariant
    x = np.linspace(-4, 4, 1001)
    before, after = splines.values(_units(w, b, v), x), splines.values(_units(wb, bb, vb), x)
    assert np.max(np.abs(before - after)) < 1e-12 * np.max(np.abs(before))  # float64 rounding only
    assert np.array_equal(np.sign(wb), np.sign(w)) and np.array_equal(np.sign(vb), np.sign(v))


def test_balance_multidimensional_keeps_shape_and_skips_dead_units():
    v = np.array([4.0, 0.0, 2.0])
    w = np.array([[1.0, 0.0], [3.0, 4.0], [0.0, 0.0]])
    vb, wb, bb = balance(v, w)
    assert bb is None and wb.shape == (3, 2)
    assert vb[0] == 2.0 and np.allclose(wb[0], [2.0, 0.0])
    assert vb[1] == 0.0 and np.array_equal(wb[1], w[1])  # no balanced scaling: unchanged
    assert vb[2] == 2.0 and np.array_equal(wb[2], w[2])


# --- the network ---------------------------------------------------------------------------------


def test_spline_net_matches_numpy_and_weight_decay():
    net = SplineNet(20, seed=3).double()
    with torch.no_grad():
        net.a.fill_(0.7)
        net.c.fill_(-0.2)
    x = np.linspace(-2, 2, 101)
    out = net(torch.tensor(x[:, None])).detach().numpy()[:, 0]
    u = unit_weights(net)
    assert np.allclose(out, splines.values(u, x), rtol=0, atol=1e-12)
    assert float(net.weight_decay().detach()) == pytest.approx(weight_decay_cost(u.v, u.w), rel=1e-12)
    assert (u.a, u.c) == (0.7, -0.2)


def test_spline_net_seeded_and_without_linear_term():
    a, b = SplineNet(8, seed=5), SplineNet(8, seed=5)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    plain = SplineNet(8, linear_term=False, seed=5)
    assert plain.a is None and sum(p.numel() for p in plain.parameters()) == 3 * 8 + 1
    assert unit_weights(plain).a == 0.0
    # initial ranges as documented
    assert float(a.w.detach().abs().max()) < 1 and float(a.v.detach().abs().max()) < 1 / 8**0.5


def test_unit_weights_from_a_shallow_net():
    net = ShallowNet(1, 6, seed=0).double()
    u = unit_weights(net)
    x = np.linspace(-3, 3, 50)
    out = net(torch.tensor(x[:, None])).detach().numpy()[:, 0]
    assert np.allclose(out, splines.values(u, x), atol=1e-12)


# --- knots and TV(f') -----------------------------------------------------------------------------


def test_knots_of_hand_built_networks():
    # |x| = relu(x) + relu(-x): one knot at 0 with slope jump 2
    k = knots(_units([1.0, -1.0], [0.0, 0.0], [1.0, 1.0]))
    assert np.array_equal(k.locations, [0.0]) and np.array_equal(k.jumps, [2.0])
    # a hat on [0, 2] peaking at 1: relu(x) - 2 relu(x - 1) + relu(x - 2); units in scrambled order and scales
    u = _units([2.0, -3.0, 0.5], [-2.0, 0.0, -1.0], [-1.0, 1 / 3, 2.0])
    k = knots(u)
    assert np.allclose(k.locations, [0.0, 1.0, 2.0]) and np.allclose(k.jumps, [1.0, -2.0, 1.0])
    assert slope_tv(u) == pytest.approx(4.0)


def test_knots_tolerance_merge_and_constant_units():
    u = _units([1.0, 1.0, 1.0, 0.0], [0.0, -0.01, -1.0, 5.0], [1.0, 1.0, 1e-3, 7.0])
    assert len(knots(u).locations) == 3  # the w = 0 unit is a constant: no knot
    assert len(knots(u, tol=1e-3).locations) == 2  # |jump| = 1e-3 is not > tol
    merged = knots(u, merge=0.02)
    assert np.allclose(merged.jumps, [2.0, 1e-3]) and merged.locations[0] == pytest.approx(0.005)
    empty = knots(_units([0.0], [1.0], [1.0]))  # only a constant unit
    assert isinstance(empty, Knots) and empty.locations.size == 0 and empty.jumps.size == 0


def test_slope_tv_with_cancelling_units_and_linear_term():
    # two units at the same breakpoint with opposite jumps cancel exactly; the linear term adds no knot
    u = _units([1.0, 2.0], [-1.0, -2.0], [1.0, -0.5], a=3.0)
    assert slope_tv(u) == 0.0 and path_norm(u.v, u.w) == 2.0
    # TV(f') of a known spline against a fine-grid finite-difference estimate of int |f''|
    u = _units([1.0, -2.0, 1.5, 1.0], [0.3, 0.2, -0.6, -0.9], [0.7, -1.2, 0.4, -0.9], a=0.5)
    x = np.linspace(-3, 3, 60_001)
    slopes = np.diff(splines.values(u, x)) / np.diff(x)
    # exact up to rounding: the finite-difference slopes are exact on cells without a knot, and a knot inside a
    # cell splits its jump between the two neighbouring differences; rounding adds about 1e-12 per cell, 6e-8 in all
    assert np.sum(np.abs(np.diff(slopes))) == pytest.approx(slope_tv(u), rel=1e-6)


# --- reference solutions --------------------------------------------------------------------------


def test_interpolant_tv_and_lp_agree():
    rng = np.random.default_rng(2)
    x = np.sort(rng.uniform(-1, 1, 10))
    y = rng.normal(size=10)
    grid = np.union1d(np.linspace(-1, 1, 801), x)  # candidate knots include the data points
    u, tv = min_tv_interpolant(x, y, grid)
    assert np.allclose(splines.values(u, x), y, atol=1e-9)
    # connect-the-dots is a minimizer (averaging f' over the gaps cannot raise TV); the LP may only match it
    assert tv == pytest.approx(interpolant_tv(x, y), rel=1e-7)
    assert tv <= interpolant_tv(x, y) * (1 + 1e-9) + 1e-12
    assert len(u.w) <= len(x) - 2  # a vertex of the LP: at most N - 2 knots
    # knots restricted to a grid that misses the data can only do worse (the feasible set shrinks)
    # (knots at the midpoints between the data: one data point per linear piece, so an interpolant exists)
    _, midpoints = min_tv_interpolant(x, y, (x[1:] + x[:-1]) / 2)
    assert midpoints >= tv * (1 - 1e-9)


def test_tv_regression_zero_strength_interpolates():
    x = np.array([-1.0, -0.3, 0.1, 0.5, 1.0])
    y = np.array([0.2, -0.5, 0.9, 0.1, 0.4])
    fit = tv_regression(x, y, 0.0)
    assert np.allclose(fit.fitted, y, atol=1e-12)
    assert fit.tv == pytest.approx(interpolant_tv(x, y), rel=1e-12)


def test_tv_regression_optimality_conditions_and_large_strength():
    rng = np.random.default_rng(4)
    x = np.sort(rng.uniform(-1, 1, 12))
    y = np.sin(3 * x) + 0.1 * rng.normal(size=12)
    for strength in (1e-3, 1e-2, 1e-1):
        fit = tv_regression(x, y, strength)
        # KKT of the lasso in the jumps, with the residual r of the fit (the line is free):
        # 2/n <phi_j, r> = -strength sign(u_j) on the support, and |2/n <phi_j, r>| <= strength off it
        r = fit.fitted - y
        corr = 2 / len(x) * np.maximum(x[:, None] - x[None, 1:-1], 0).T @ r
        u = fit.weights.v
        on = np.abs(u) > 1e-10
        assert np.allclose(corr[on], -strength * np.sign(u[on]), rtol=1e-6, atol=1e-10)
        assert np.all(np.abs(corr[~on]) <= strength * (1 + 1e-6))
        # the line is optimal: residual orthogonal to 1 and x
        assert abs(r.sum()) < 1e-10 and abs(r @ x) < 1e-10
        # no random perturbation of the jumps does better (the problem is convex: a local check suffices)
        for _ in range(20):
            du = rng.normal(size=u.size) * 1e-3
            alt = UnitWeights(fit.weights.w, fit.weights.b, u + du, fit.weights.a, fit.weights.c)
            f = splines.values(alt, x)
            coef = np.polyfit(x, y - (f - fit.weights.a * x - fit.weights.c), 1)  # refit the free line
            f = f - fit.weights.a * x - fit.weights.c + np.polyval(coef, x)
            assert np.mean((f - y) ** 2) + strength * np.sum(np.abs(u + du)) >= fit.objective - 1e-12
    line = np.polyfit(x, y, 1)
    big = tv_regression(x, y, 100.0)
    assert big.tv == 0.0 and np.allclose(big.fitted, np.polyval(line, x), atol=1e-12)


# --- plotting -------------------------------------------------------------------------------------


def test_plot_spline_draws_knots_inside_the_interval():
    import matplotlib.pyplot as plt

    u = _units([1.0, 1.0], [0.0, -5.0], [1.0, 1.0])  # knots at 0 and 5
    fig, ax = plt.subplots()
    out = plot_spline(u, np.array([0.0]), np.array([0.0]), label="f", ax=ax)
    assert out is ax and len(ax.lines) == 3
    assert ax.lines[0].get_label() == "f: 1 knots in view" and len(ax.lines[1].get_xdata()) == 1
    plt.close(fig)


# --- errors ---------------------------------------------------------------------------------------


def test_errors():
    good = _units([1.0], [0.0], [1.0])
    with pytest.raises(ValueError, match="width must be >= 1"):
        SplineNet(0)
    with pytest.raises(TypeError, match="linear_term must be True or False"):
        SplineNet(3, linear_term=1)
    with pytest.raises(TypeError, match="weights must be a UnitWeights"):
        knots((np.ones(1), np.ones(1), np.ones(1), 0.0, 0.0))
    with pytest.raises(ValueError, match="1-D arrays of one length"):
        knots(UnitWeights(np.ones(2), np.ones(1), np.ones(2), 0.0, 0.0))
    with pytest.raises(ValueError, match="must be finite"):
        knots(UnitWeights(np.array([np.nan]), np.ones(1), np.ones(1), 0.0, 0.0))
    with pytest.raises(ValueError, match="tol must be >= 0, got -1.0"):
        knots(good, tol=-1.0)
    with pytest.raises(ValueError, match="merge must be >= 0"):
        knots(good, merge=-0.1)
    with pytest.raises(TypeError, match="x must be a numpy array"):
        splines.values(good, [0.0, 1.0])
    with pytest.raises(TypeError, match="net must be a SplineNet or a ShallowNet"):
        unit_weights(DeepNet(1, 4, depth=2))
    with pytest.raises(TypeError, match="net must be a SplineNet or a ShallowNet"):
        unit_weights(ShallowNet(2, 4))
    with pytest.raises(ValueError, match="v must be 1-D"):
        path_norm(np.ones((2, 2)), np.ones(2))
    with pytest.raises(ValueError, match="w must have shape"):
        weight_decay_cost(np.ones(3), np.ones(2))
    with pytest.raises(ValueError, match="b must have the shape of v"):
        balance(np.ones(3), np.ones(3), np.ones(2))
    with pytest.raises(ValueError, match="strictly increasing"):
        interpolant_tv(np.array([0.0, 0.0, 1.0]), np.zeros(3))
    with pytest.raises(ValueError, match="at least 2 points"):
        interpolant_tv(np.array([0.0]), np.zeros(1))
    with pytest.raises(ValueError, match="x and y must be 1-D arrays of one length"):
        tv_regression(np.array([0.0, 1.0]), np.zeros(3), 0.1)
    with pytest.raises(ValueError, match="strength must be >= 0"):
        tv_regression(np.array([0.0, 1.0, 2.0]), np.zeros(3), -0.1)
    with pytest.raises(ValueError, match="tol must be a number > 0"):
        tv_regression(np.array([0.0, 1.0, 2.0]), np.zeros(3), 0.1, tol=0)
    with pytest.raises(ValueError, match="grid must be a non-empty 1-D array"):
        min_tv_interpolant(np.array([0.0, 1.0, 2.0]), np.zeros(3), np.zeros((2, 2)))
    with pytest.raises(ValueError, match="no interpolant has its knots on grid"):
        min_tv_interpolant(np.array([0.0, 1.0, 2.0]), np.array([0.0, 1.0, 0.0]), np.array([5.0]))
    with pytest.raises(ValueError, match="interval must be"):
        plot_spline(good, interval=(1.0, 0.0))


# --- several nets trained at once -----------------------------------------------------------------


@pytest.mark.parametrize("linear_term", [True, False])
def test_train_spline_nets_matches_separate_training_bit_for_bit(linear_term):
    from cosp_helpers.training import train

    x = np.linspace(-1, 1, 10, dtype=np.float32)[:, None]
    y = np.sin(3 * x).astype(np.float32)
    strengths = [0.0, 1e-2, 0.0, 0.3]
    seeds = [0, 1, 2, 1]
    together = [SplineNet(20, linear_term=linear_term, seed=s) for s in seeds]
    histories = splines.train_spline_nets(together, x, y, strengths, lr=0.02, steps=150, schedule="cosine", warmup=5,
                                          device="cpu")
    for net, s, seed, h in zip(together, strengths, seeds, histories):
        alone = SplineNet(20, linear_term=linear_term, seed=seed)
        penalty = (lambda m, s=s: s * m.weight_decay()) if s > 0 else None
        ref = train(alone, x, y, lr=0.02, steps=150, schedule="cosine", warmup=5, penalty=penalty, progress=False,
                    device="cpu")
        for (name, p), q in zip(net.named_parameters(), alone.parameters()):
            assert torch.equal(p, q), name
        assert h.steps == ref.steps and h.train_loss == ref.train_loss and h.final_train_loss == ref.final_train_loss
        assert h.test_loss == [] and h.final_test_loss is None


def test_train_spline_nets_one_net_and_errors():
    x = np.linspace(-1, 1, 6, dtype=np.float32)[:, None]
    y = np.abs(x)
    (h,) = splines.train_spline_nets([SplineNet(4)], x, y, np.array([0.1]), lr=0.05, steps=3)
    assert h.steps == [0, 1, 2, 3] and np.isfinite(h.final_train_loss)
    net = SplineNet(4)
    with pytest.raises(TypeError, match="nets must be a non-empty list"):
        splines.train_spline_nets([], x, y, [], steps=1)
    with pytest.raises(TypeError, match=r"nets\[1\] must be a SplineNet"):
        splines.train_spline_nets([net, ShallowNet(1, 4)], x, y, [0.0, 0.0], steps=1)
    with pytest.raises(ValueError, match="one shape"):
        splines.train_spline_nets([net, SplineNet(5)], x, y, [0.0, 0.0], steps=1)
    with pytest.raises(ValueError, match="one shape"):
        splines.train_spline_nets([net, SplineNet(4, linear_term=False)], x, y, [0.0, 0.0], steps=1)
    with pytest.raises(ValueError, match="distinct"):
        splines.train_spline_nets([net, net], x, y, [0.0, 0.0], steps=1)
    with pytest.raises(ValueError, match="one strength per net"):
        splines.train_spline_nets([net], x, y, [0.0, 0.1], steps=1)
    with pytest.raises(ValueError, match=r"strengths\[0\] must be >= 0"):
        splines.train_spline_nets([net], x, y, [-0.1], steps=1)
    with pytest.raises(ValueError, match=r"strengths\[0\] must be finite"):
        splines.train_spline_nets([net], x, y, [float("nan")], steps=1)
    with pytest.raises(TypeError, match="strengths must be a sequence"):
        splines.train_spline_nets([net], x, y, 0.1, steps=1)
    with pytest.raises(TypeError, match="strengths must be a 1-D sequence"):
        splines.train_spline_nets([net], x, y, np.zeros((1, 1)), steps=1)
    with pytest.raises(ValueError, match=r"x_train must have shape \(n, 1\)"):
        splines.train_spline_nets([net], np.zeros((6, 2), np.float32), y, [0.0], steps=1)
    with pytest.raises(ValueError, match=r"y_train must have shape \(n, 1\)"):
        splines.train_spline_nets([net], x, y[:, 0], [0.0], steps=1)
    with pytest.raises(ValueError, match="steps must be"):
        splines.train_spline_nets([net], x, y, [0.0], steps=0)
