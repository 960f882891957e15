"""Tests for cosp_helpers.plotting: lecture settings and log-log helpers."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402

from cosp_helpers.plotting import annotate_slope, get_ax, lecture_rc, plot_loglog  # noqa: E402
from cosp_helpers.rates import fit_loglog_slope  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def _rc_snapshot() -> dict:
    return {key: repr(value) for key, value in plt.rcParams.items()}


def test_lecture_rc_keys_are_valid_and_large():
    rc = lecture_rc()
    assert set(rc) <= set(plt.rcParams)  # every key is a real rcParam
    assert {"font.size", "axes.labelsize", "lines.linewidth", "axes.prop_cycle", "figure.figsize"} <= set(rc)
    assert rc["font.size"] >= 14 and rc["lines.linewidth"] >= 2
    colours = rc["axes.prop_cycle"].by_key()["color"]
    assert len(colours) == len(set(colours)) == 8
    with matplotlib.rc_context(rc):  # matplotlib accepts every value
        assert plt.rcParams["font.size"] == rc["font.size"]


def test_lecture_rc_returns_a_fresh_dict():
    a = lecture_rc()
    a["font.size"] = 99
    assert lecture_rc()["font.size"] == 14


def test_helpers_do_not_touch_global_rcparams():
    before = _rc_snapshot()
    lecture_rc()
    ax = get_ax(figsize=(3, 2))
    fit = fit_loglog_slope([1, 10, 100], [2, 0.2, 0.02])
    plot_loglog([1, 10, 100], [2, 0.2, 0.02], fit=fit, label="a", ax=ax)
    annotate_slope(ax, 10, 0.2, fit.slope)
    plot_loglog([1, 2], [3, 4])
    assert _rc_snapshot() == before


def test_get_ax_new_figure_and_passthrough():
    ax = get_ax(figsize=(3.0, 2.0))
    assert isinstance(ax, Axes)
    assert ax.figure.get_size_inches().tolist() == [3.0, 2.0]
    assert get_ax(ax) is ax
    assert get_ax(None) is not ax


@pytest.mark.parametrize("bad", ["axes", 3, plt.figure, np.zeros(2)])
def test_get_ax_rejects_non_axes(bad):
    with pytest.raises(TypeError, match="ax must be a matplotlib Axes or None"):
        get_ax(bad)


def test_get_ax_rejects_a_figure():
    fig = plt.figure()
    with pytest.raises(TypeError, match="ax must be a matplotlib Axes"):
        get_ax(fig)


def test_plot_loglog_with_fit_draws_markers_and_the_fitted_line():
    x = np.array([1.0, 10.0, 100.0, 1000.0])
    y = 3.0 * x**-0.5
    fit = fit_loglog_slope(x, y)
    ax = plot_loglog(x, y, fit=fit, label="toy")
    assert isinstance(ax, Axes)
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    markers, line = ax.get_lines()
    np.testing.assert_allclose(markers.get_xdata(), x)
    np.testing.assert_allclose(markers.get_ydata(), y)
    assert markers.get_linestyle() == "None" and markers.get_marker() == "o"
    gx, gy = line.get_xdata(), line.get_ydata()
    assert len(gx) == 50 and gx[0] == pytest.approx(1.0) and gx[-1] == pytest.approx(1000.0)
    np.testing.assert_allclose(gy, 3.0 * gx**-0.5, rtol=1e-10)
    assert line.get_color() == markers.get_color()
    assert ax.get_legend_handles_labels()[1] == ["toy (slope -0.50)"]


def test_plot_loglog_without_fit_draws_only_markers():
    ax = plot_loglog([1, 2, 4], [1, 4, 16], label="plain", color="red")
    (markers,) = ax.get_lines()
    assert markers.get_label() == "plain" and markers.get_color() == "red"
    assert ax.get_xscale() == ax.get_yscale() == "log"


def test_plot_loglog_fit_without_label_and_existing_axes():
    _, ax = plt.subplots()
    fit = fit_loglog_slope([1, 2], [1, 2])
    out = plot_loglog([1, 2], [1, 2], fit=fit, ax=ax)
    assert out is ax and len(ax.get_lines()) == 2
    assert ax.get_legend_handles_labels()[1] == []  # no label given: nothing in the legend


@pytest.mark.parametrize(
    "x, y",
    [([1, 2, 3], [1, 2]), ([[1, 2]], [[1, 2]]), (3.0, 4.0), ([1, 2], [[1], [2]])],
)
def test_plot_loglog_shape_errors(x, y):
    with pytest.raises(ValueError, match="x and y must be 1-D arrays of the same shape"):
        plot_loglog(x, y)


def test_plot_loglog_rejects_non_axes():
    with pytest.raises(TypeError, match="ax must be a matplotlib Axes"):
        plot_loglog([1, 2], [1, 2], ax="not an axes")


@pytest.mark.parametrize(
    "slope, text, expected", [(-0.5, None, "slope -0.50"), (2.0, None, "slope 2.00"), (-1.0, "N^-1", "N^-1")]
)
def test_annotate_slope(slope, text, expected):
    ax = get_ax()
    out = annotate_slope(ax, 10.0, 0.5, slope, text=text)
    assert out is ax
    (annotation,) = ax.texts
    assert annotation.get_text() == expected
    assert annotation.xy == (10.0, 0.5)
