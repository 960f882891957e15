"""Tests for cosp_helpers.relu: unit counts, closed forms, reference implementations, errors."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from cosp_helpers.relu import (
    BoxIndicator,
    IntervalIndicator,
    MinNet,
    box_l2_error,
    count_relu_units,
    interval_indicator,
    interval_indicator_summary,
    interval_l2_error,
    symmetric_difference_threshold,
)


def _run(module: nn.Module, x: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return module(torch.as_tensor(np.asarray(x, dtype=float))).numpy()[:, 0]


# --- counting ----------------------------------------------------------------------------------


def test_count_relu_units_counts_every_call():
    relu = nn.ReLU()

    class Twice(nn.Module):
        def __init__(self):
            super().__init__()
            self.a, self.b, self.relu = nn.Linear(2, 5), nn.Linear(5, 3), relu

        def forward(self, x):
            return self.relu(self.b(self.relu(self.a(x))))  # the same ReLU module, applied to 5 then 3 values

    assert count_relu_units(Twice(), 2) == 8
    assert count_relu_units(nn.Linear(3, 2), 3) == 0


def test_count_relu_units_removes_its_hooks():
    net = IntervalIndicator(0.0, 1.0, 0.1)
    count_relu_units(net, 1)
    assert all(not m._forward_hooks for m in net.modules())


# --- the interval indicator --------------------------------------------------------------------


@pytest.mark.parametrize("x0, x1, eta", [(0.2, 0.6, 0.1), (0.0, 1.0, 0.5), (-3.0, 2.0, 0.01), (0.3, 0.31, 0.004)])
def test_interval_indicator_module_matches_closed_form(x0, x1, eta):
    x = np.concatenate([np.linspace(x0 - 1, x1 + 1, 2001), [x0, x0 + eta, x1 - eta, x1]])
    r = _run(IntervalIndicator(x0, x1, eta), x[:, None])
    ref = interval_indicator(x, x0, x1, eta)
    np.testing.assert_allclose(r, ref, rtol=0, atol=1e-12 / eta)  # rounding of an O(1) difference over eta
    chi = ((x >= x0) & (x < x1)).astype(float)
    assert np.all(ref <= chi)  # both ramps lie inside [x0, x1]
    np.testing.assert_allclose(interval_indicator([x0, x0 + eta, x1 - eta, x1], x0, x1, eta), [0, 1, 1, 0], atol=1e-12)


def test_interval_indicator_has_four_units_and_fixed_weights():
    net = IntervalIndicator(0.1, 0.9, 0.2)
    assert count_relu_units(net, 1) == 4
    assert not any(p.requires_grad for p in net.parameters())
    assert net.ramps.weight.dtype == torch.float64


@pytest.mark.parametrize("x0, x1, eta", [(0.2, 0.7, 0.05), (0.0, 1.0, 0.3), (0.123, 0.456, 0.0789)])
def test_interval_l2_error_against_the_midpoint_rule(x0, x1, eta):
    # (chi - R)^2 is a quadratic on each ramp and 0 elsewhere, except in the two cells holding the jumps
    # at x0 and x1 (each off by at most h). Midpoint error on a quadratic cell: h^3 f''/24 with f'' = 2/eta^2.
    m = 200_000
    h = 1 / m
    x = (np.arange(m) + 0.5) * h
    chi = ((x >= x0) & (x < x1)).astype(float)
    q = np.sum((chi - interval_indicator(x, x0, x1, eta)) ** 2) * h
    bound = 2 * h + (2 * eta / h + 4) * h**3 / (12 * eta**2) + 1e-12
    assert abs(q - 2 * eta / 3) <= bound
    assert interval_l2_error(eta) == pytest.approx(math.sqrt(2 * eta / 3), rel=1e-15)


def test_interval_l2_error_value():
    assert interval_l2_error(0.015) == pytest.approx(0.1, rel=1e-12)


# --- min and the box -----------------------------------------------------------------------------


@pytest.mark.parametrize("scale", [1e-3, 1.0, 1e3, 1e8])
def test_min_net_is_min_on_all_reals(scale):
    ab = np.random.default_rng(0).normal(size=(20_000, 2)) * scale
    got = _run(MinNet(), ab)
    # a - (a - b)_+ rounds once or twice: within a few ulps of max(|a|, |b|)
    np.testing.assert_allclose(got, ab.min(1), rtol=0, atol=4 * np.finfo(float).eps * np.abs(ab).max(1).max())
    integers = np.random.default_rng(1).integers(-10**6, 10**6, size=(5000, 2)).astype(float)
    np.testing.assert_array_equal(_run(MinNet(), integers), integers.min(1))  # exact: no rounding on integers


def test_min_net_units_and_the_memos_second_expression_is_the_max():
    assert count_relu_units(MinNet(), 2) == 3
    a, b = np.random.default_rng(2).normal(size=(2, 1000))
    np.testing.assert_allclose((a + b) / 2 + np.abs(a - b) / 2, np.maximum(a, b), atol=1e-15)
    np.testing.assert_allclose((a + b) / 2 - np.abs(a - b) / 2, np.minimum(a, b), atol=1e-15)


def test_box_indicator_is_min_of_the_two_trapezoids():
    box = BoxIndicator(0.1, 0.6, 0.3, 0.9, 0.05)
    assert count_relu_units(box, 2) == 11
    xy = np.random.default_rng(3).uniform(-0.2, 1.2, size=(10_000, 2))
    ref = np.minimum(interval_indicator(xy[:, 0], 0.1, 0.6, 0.05), interval_indicator(xy[:, 1], 0.3, 0.9, 0.05))
    np.testing.assert_allclose(_run(box, xy), ref, atol=1e-12)


def test_box_l2_error_against_an_aligned_midpoint_rule():
    # Knots on multiples of 1/m: inside each cell the error is a polynomial of degree <= 2 in one variable,
    # except on the cells crossed by the diagonals of the four eta x eta corners, where max(u, v)^2 has a kink.
    # Midpoint error on a cell where the integrand is a quadratic with second derivative 2/eta^2: h^4 / (12 eta^2);
    # such cells cover the ramps, at most 2 eta (w_x + w_y) / h^2 + 4 m of them. On a kinked cell the integrand
    # (Lipschitz 2/eta) varies by at most 2 h / eta: error <= h^2 * 2 h / eta, on at most 4 (eta/h + 2) cells.
    m, (x0, x1, y0, y1, eta) = 1000, (0.2, 0.7, 0.1, 0.6, 0.05)
    h = 1 / m
    t = (np.arange(m) + 0.5) * h
    rx = interval_indicator(t, x0, x1, eta)
    ry = interval_indicator(t, y0, y1, eta)
    chi_x, chi_y = (t >= x0) & (t < x1), (t >= y0) & (t < y1)
    err = (np.outer(chi_y, chi_x) - np.minimum(ry[:, None], rx[None, :])) ** 2
    q = err.sum() * h * h
    smooth_cells = 2 * eta * (x1 - x0 + y1 - y0) / h**2 + 4 * m
    bound = smooth_cells * h**4 / (12 * eta**2) + 4 * (eta / h + 2) * h**2 * 2 * h / eta
    assert abs(q - box_l2_error(x0, x1, y0, y1, eta) ** 2) <= bound
    assert bound < 1e-3 * q  # the check is sharp: the bound is under 0.1% of the value


# --- the hard threshold ------------------------------------------------------------------------


@pytest.mark.parametrize("eps", [1e-3, 0.5, 2.0])
def test_symmetric_difference_is_a_clipped_ramp(eps):
    x = np.linspace(-5, 5, 10_001)
    s = symmetric_difference_threshold(x, eps)
    np.testing.assert_allclose(s, np.clip((x + eps) / (2 * eps), 0, 1), atol=1e-12 / eps)
    assert np.all(s[x <= -eps] == 0.0)
    np.testing.assert_allclose(s[x >= eps], 1.0, rtol=0, atol=4 * np.finfo(float).eps * 5 / eps)


def test_symmetric_difference_is_an_exact_step_on_integers():
    z = np.arange(-10**6, 10**6 + 1, dtype=float)
    s = symmetric_difference_threshold(z, 0.5)
    np.testing.assert_array_equal(s, np.where(z > 0, 1.0, np.where(z < 0, 0.0, 0.5)))


# --- widget computations -----------------------------------------------------------------------


def test_interval_indicator_summary_clips_eta_and_measures():
    s = interval_indicator_summary(0.4, 0.5, 0.3)
    assert s["eta_used"] == pytest.approx(0.05)
    # midpoint rule on 20 000 cells: off by at most 2h + ... (see the quadrature test), far below 1e-4
    assert s["measured"] == pytest.approx(s["predicted"], abs=1e-4)
    assert s["x"].shape == s["chi"].shape == s["r"].shape == (20_000,)


# --- argument errors ---------------------------------------------------------------------------

ERRORS = [
    (count_relu_units, ("not a module", 1), TypeError, "module must be a torch.nn.Module"),
    (count_relu_units, (nn.ReLU(), 0), ValueError, "n_inputs must be >= 1"),
    (interval_indicator, ([0.5], 0.6, 0.2, 0.1), ValueError, "x1 must be > x0"),
    (interval_indicator, ([0.5], 0.2, 0.2, 0.1), ValueError, "x1 must be > x0"),
    (interval_indicator, ([0.5], 0.2, 0.6, 0.0), ValueError, r"eta must be in \(0, 0.2\]"),
    (interval_indicator, ([0.5], 0.2, 0.6, 0.25), ValueError, r"eta must be in \(0, 0.2\]"),
    (interval_indicator, ([0.5], "0", 0.6, 0.1), TypeError, "x0 must be a real number"),
    (interval_indicator, ([0.5], 0.0, math.inf, 0.1), ValueError, "x1 must be finite"),
    (IntervalIndicator, (0.0, 1.0, 0.6), ValueError, r"eta must be in \(0, 0.5\]"),
    (interval_l2_error, (0.0,), ValueError, "eta must be > 0"),
    (interval_l2_error, (None,), TypeError, "eta must be a real number"),
    (box_l2_error, (0.0, 1.0, 0.0, 0.1, 0.1), ValueError, r"eta must be in \(0, 0.05\]"),
    (box_l2_error, (0.0, 1.0, 0.5, 0.4, 0.1), ValueError, "y1 must be > y0"),  # the y-interval, named as such
    (BoxIndicator, (0.0, 0.5, 0.0, 0.1, 0.1), ValueError, r"eta must be in \(0, 0.05\]"),
    (symmetric_difference_threshold, ([1.0], 0.0), ValueError, "eps must be > 0"),
    (interval_indicator_summary, (0.5, 0.5, 0.1), ValueError, "x0 and x1 must satisfy 0 <= x0 < x1 <= 1"),
    (interval_indicator_summary, (0.5, 1.2, 0.1), ValueError, "x0 and x1 must satisfy"),
    (interval_indicator_summary, (0.1, 0.5, -0.1), ValueError, "eta must be > 0"),
    (interval_indicator_summary, (0.1, 0.5, 0.1, 10), ValueError, "n_points must be >= 100"),
]




@pytest.mark.parametrize("func, args, error, match", ERRORS, ids=[f"{e[0].__name__}-{i}" for i, e in enumerate(ERRORS)])
def test_argument_errors_name_the_argument(func, args, error, match):
    with pytest.raises(error, match=match):
        func(*args)
