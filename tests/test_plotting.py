"""Tests for cosp_helpers.plotting: lecture settings, the colour-blind-safe palette, alt text and log-log helpers."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402

import itertools  # noqa: E402

import matplotlib.colors as mcolors  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from cosp_helpers import plotting as plotting_module  # noqa: E402
from cosp_helpers.plotting import (  # noqa: E402
    COLOUR_MAPS,
    OKABE_ITO,
    annotate_slope,
    get_ax,
    lecture_rc,
    plot_loglog,
    show,
)
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


# --- the palette under colour blindness -------------------------------------------------------------
#
# Dichromacy is simulated with the matrices of Machado, Oliveira & Fernandes (2009) at severity 1, which act on
# linear sRGB; colours are then compared in CIELAB (D65), where a difference of 2 to 3 is just noticeable side by
# side and 10 is plainly visible at a glance. Lines in a legend are small and apart, so the palette must keep every
# pair at least MIN_PAIR apart for every kind of colour vision, and every colour MIN_WHITE from the white page.
MACHADO_2009 = {
    "normal": np.eye(3),
    "protanopia": np.array(
        [[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216], [-0.003882, -0.048116, 1.051998]]
    ),
    "deuteranopia": np.array(
        [[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413], [-0.011820, 0.042940, 0.968881]]
    ),
    "tritanopia": np.array(
        [[1.255528, -0.076749, -0.178779], [-0.078411, 0.930809, 0.147602], [0.004733, 0.691367, 0.303900]]
    ),
}
MIN_PAIR = 15.0
MIN_WHITE = 20.0


def _lab(colour, vision: str) -> np.ndarray:
    """CIELAB (D65) of a matplotlib colour as seen with ``vision``."""
    srgb = np.asarray(mcolors.to_rgb(colour), dtype=float)
    linear = np.where(srgb <= 0.04045, srgb / 12.92, ((srgb + 0.055) / 1.055) ** 2.4)
    seen = np.clip(MACHADO_2009[vision] @ linear, 0.0, 1.0)
    xyz = np.array([[0.4124564, 0.3575761, 0.1804375], [0.2126729, 0.7151522, 0.0721750],
                    [0.0193339, 0.1191920, 0.9503041]]) @ seen  # fmt: skip
    t = xyz / np.array([0.95047, 1.0, 1.08883])
    f = np.where(t > (6 / 29) ** 3, np.cbrt(t), t / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def _closest_pair(colours, vision: str) -> tuple[float, tuple[str, str]]:
    return min(
        (float(np.linalg.norm(_lab(a, vision) - _lab(b, vision))), (a, b))
        for a, b in itertools.combinations(colours, 2)
    )


def test_lab_conversion_matches_known_values():
    assert np.allclose(_lab("white", "normal"), [100, 0, 0], atol=1e-3)
    assert np.allclose(_lab("black", "normal"), [0, 0, 0], atol=1e-9)
    assert np.allclose(_lab("#FF0000", "normal"), [53.24, 80.09, 67.20], atol=0.05)  # sRGB red, D65
    # the simulation keeps greys grey: each matrix's rows sum to 1 (to 6 decimals), so white and black are fixed
    for vision in ("protanopia", "deuteranopia", "tritanopia"):
        for grey in ("white", "black", "0.5"):
            assert np.allclose(_lab(grey, vision), _lab(grey, "normal"), atol=0.6), (vision, grey)


def test_the_lecture_cycle_is_the_okabe_ito_palette():
    cycle = lecture_rc()["axes.prop_cycle"].by_key()["color"]
    assert cycle == list(OKABE_ITO.values())
    assert len(set(cycle)) == 8


@pytest.mark.parametrize("vision", list(MACHADO_2009))
def test_the_palette_stays_distinct_for_every_colour_vision(vision):
    distance, pair = _closest_pair(list(OKABE_ITO.values()), vision)
    assert distance >= MIN_PAIR, f"{pair} are only {distance:.1f} apart in CIELAB with {vision}"
    for name, colour in OKABE_ITO.items():
        gap = float(np.linalg.norm(_lab(colour, vision) - _lab("white", vision)))
        assert gap >= MIN_WHITE, f"{name} is only {gap:.1f} from the white page with {vision}"


def test_the_palette_check_rejects_a_palette_that_is_not_colour_blind_safe():
    # matplotlib's default cycle (tab10) is distinct with normal vision, but not for a dichromat: the check must fail it
    tab10 = [f"tab:{name}" for name in ("blue", "orange", "green", "red", "purple", "brown", "pink", "olive")]
    assert _closest_pair(tab10, "normal")[0] >= MIN_PAIR
    distance, pair = _closest_pair(tab10, "protanopia")
    assert distance < MIN_PAIR / 2 and set(pair) == {"tab:orange", "tab:green"}, (distance, pair)
    assert _closest_pair(tab10, "deuteranopia")[0] < MIN_PAIR


@pytest.mark.parametrize("name", COLOUR_MAPS)
@pytest.mark.parametrize("vision", list(MACHADO_2009))
def test_every_allowed_colour_map_orders_its_values_by_lightness(name, vision):
    """Sequential maps get lighter (or darker) monotonically; diverging ones from each end to the centre."""
    cmap = plt.get_cmap(name)
    lightness = np.array([_lab(cmap(x)[:3], vision)[0] for x in np.linspace(0, 1, 65)])
    steps = np.diff(lightness)
    if name.startswith("RdBu"):
        centre = int(np.argmax(lightness))
        assert 28 <= centre <= 36, centre  # the lightest colour is the middle one
        assert np.all(steps[:centre] > 0) and np.all(steps[centre:] < 0), vision
        # and points at the same distance from the centre, on the two arms, are told apart as palette colours are
        for t in np.linspace(0.2, 0.5, 7):
            gap = float(np.linalg.norm(_lab(cmap(0.5 - t)[:3], vision) - _lab(cmap(0.5 + t)[:3], vision)))
            assert gap >= MIN_PAIR, f"{name} at 0.5 +- {t:.2f} is only {gap:.1f} apart with {vision}"
    else:
        sign = np.sign(steps.sum())
        assert np.all(sign * steps > -0.5), f"{name} is not monotone in lightness with {vision}"
        assert abs(lightness[-1] - lightness[0]) >= 50


def test_rainbow_colour_maps_fail_the_lightness_test():
    lightness = np.array([_lab(plt.get_cmap("jet")(x)[:3], "normal")[0] for x in np.linspace(0, 1, 65)])
    steps = np.diff(lightness)
    assert np.any(steps > 0.5) and np.any(steps < -0.5)  # jet is not ordered by lightness


# --- show: figures with a text alternative ---------------------------------------------------------------


def test_show_displays_the_figure_with_its_alt_text_and_closes_it(monkeypatch):
    shown = []
    monkeypatch.setattr(plotting_module, "_display", lambda fig, alt: shown.append((fig, alt)))
    fig, ax = plt.subplots()
    ax.plot([0, 1])
    show(fig, alt="  A straight line from 0 to 1  ")
    assert shown == [(fig, "A straight line from 0 to 1")]
    assert not plt.fignum_exists(fig.number)


def test_show_takes_the_current_figure_by_default(monkeypatch):
    shown = []
    monkeypatch.setattr(plotting_module, "_display", lambda fig, alt: shown.append(fig))
    fig = plt.figure()
    show(alt="The current figure, shown without a handle")
    assert shown == [fig] and isinstance(shown[0], Figure)


@pytest.mark.parametrize(
    "fig, alt, error, match",
    [
        (None, None, TypeError, "alt must be a one-line description of the figure"),
        (None, 3, TypeError, "got int"),
        (None, "", ValueError, "alt must be one line of 10 to 300 characters"),
        (None, "too short", ValueError, "10 to 300 characters"),
        (None, "x" * 301, ValueError, "10 to 300 characters"),
        (None, "first line\nsecond line", ValueError, "one line"),
        ("fig", "A caption long enough", TypeError, "fig must be a matplotlib Figure or None, got str"),
    ],
)
def test_show_rejects_bad_arguments(fig, alt, error, match):
    with pytest.raises(error, match=match):
        show(fig, alt=alt)


def test_show_in_a_kernel_puts_the_alt_text_in_the_png_metadata():
    """The real display path, through IPython's display formatter, as a notebook kernel runs it."""
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    published = []
    shell.display_pub.publish = lambda data, metadata=None, **kwargs: published.append((data, metadata))
    from matplotlib_inline.backend_inline import set_matplotlib_formats

    set_matplotlib_formats("png")
    try:
        fig, ax = plt.subplots(figsize=(2, 1))
        ax.plot([0, 1])
        show(fig, alt="A short rising line, drawn for the test")
    finally:
        InteractiveShell.clear_instance()
    ((data, metadata),) = published
    assert data["image/png"][:4] in (b"\x89PNG", "iVBO")  # raw bytes or base64 text
    assert metadata["image/png"]["alt"] == "A short rising line, drawn for the test"


# --- the colour check of rendered figures (tests/figure_colours.py, used on the book's pages) ----------------


def _lines_png(rc: dict) -> bytes:
    import io

    with plt.rc_context(rc):
        fig, ax = plt.subplots(figsize=(6, 4))
        x = np.linspace(0, 1, 50)
        for k in range(6):
            ax.plot(x, x ** (k + 1), label=f"x^{k + 1}")
        ax.legend()
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png")
        plt.close(fig)
    return buffer.getvalue()


def test_the_figure_colour_check_tells_the_palette_from_another():
    from figure_colours import OFF_PALETTE_MAX, off_palette_fraction

    ours, coloured = off_palette_fraction(_lines_png(lecture_rc()))
    assert coloured > 1000 and ours <= OFF_PALETTE_MAX, ours
    theirs, _ = off_palette_fraction(_lines_png({}))  # matplotlib's default cycle
    assert theirs > 0.5, theirs
