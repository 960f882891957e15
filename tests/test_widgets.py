"""Tests for cosp_helpers.widgets: slider helpers and the Explorer."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import ipywidgets as widgets  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from cosp_helpers import plotting as plotting_module  # noqa: E402
from cosp_helpers import widgets as widgets_module  # noqa: E402
from cosp_helpers.widgets import Explorer, dropdown, float_slider, int_slider, log_slider  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


class Shown(list):
    """The figures an Explorer displayed, in order, with their text alternatives in ``alts``."""

    def __init__(self) -> None:
        super().__init__()
        self.alts: list[str] = []

    def __call__(self, fig: Figure, alt: str) -> None:
        self.append(fig)
        self.alts.append(alt)


@pytest.fixture
def shown(monkeypatch):
    """Capture what the Explorer displays instead of displaying it."""
    figures = Shown()
    monkeypatch.setattr(plotting_module, "_display", figures)
    monkeypatch.setattr(widgets_module, "clear_output", lambda wait=False: None)
    return figures


class Recorder:
    """compute and draw functions that record their calls."""

    def __init__(self):
        self.computed, self.drawn_on = [], []

    def compute(self, a, b=1.0):
        self.computed.append((a, b))
        return a * b

    def draw(self, result, ax):
        self.drawn_on.append(ax)
        ax.plot([0, 1], [0, result])


def _explorer(rec: Recorder | None = None) -> tuple[Explorer, Recorder]:
    rec = rec or Recorder()
    controls = {"a": int_slider("a", 3, 0, 9), "b": float_slider("b", 2.0, 0.0, 4.0, 0.5)}
    return Explorer(
        "product", rec.compute, rec.draw, controls, figsize=(4.0, 3.0), alt="Product of a = {a} and b = {b}"
    ), rec


# --- slider helpers ----------------------------------------------------------------------------


def test_int_slider():
    s = int_slider("n", 4, 1, 10, step=3)
    assert isinstance(s, widgets.IntSlider)
    assert (s.description, s.value, s.min, s.max, s.step) == ("n", 4, 1, 10, 3)
    assert s.continuous_update is False


def test_float_slider():
    s = float_slider("eps", 0.25, 0.0, 1.0, 0.05)
    assert isinstance(s, widgets.FloatSlider)
    assert (s.description, s.value, s.min, s.max, s.step) == ("eps", 0.25, 0.0, 1.0, 0.05)
    assert s.continuous_update is False


def test_log_slider():
    s = log_slider("lr", 1e-3, -5, -1, step=0.5)
    assert isinstance(s, widgets.FloatLogSlider)
    assert (s.description, s.base, s.min, s.max, s.step) == ("lr", 10, -5, -1, 0.5)
    assert s.value == pytest.approx(1e-3)
    assert s.continuous_update is False


def test_dropdown_defaults_to_the_first_option():
    dd = dropdown("kind", ["relu", "tanh"])
    assert isinstance(dd, widgets.Dropdown)
    assert dd.value == "relu" and dd.description == "kind"
    assert dropdown("kind", ["relu", "tanh"], value="tanh").value == "tanh"


def test_dropdown_label_value_pairs():
    dd = dropdown("d", [("two", 2), ("ten", 10)])
    assert dd.value == 2 and dd.label == "two"
    assert dropdown("d", [("two", 2), ("ten", 10)], value=10).label == "ten"


@pytest.mark.parametrize("options", [[], ()])
def test_dropdown_rejects_empty_options(options):
    with pytest.raises(ValueError, match="options must hold at least one choice"):
        dropdown("kind", options)


# --- Explorer ----------------------------------------------------------------------------------


def test_explorer_values_and_compute():
    ex, rec = _explorer()
    assert isinstance(ex, widgets.VBox)
    assert ex.values() == {"a": 3, "b": 2.0}
    assert ex.compute(**ex.values()) == 6.0
    assert rec.computed == [(3, 2.0)]
    assert ex.children[1] is ex.output
    assert list(ex.children[0].children) == list(ex.controls.values())


def test_explorer_render_returns_a_figure_drawn_by_draw():
    ex, rec = _explorer()
    fig = ex.render()
    assert isinstance(fig, Figure)
    assert fig.get_size_inches().tolist() == [4.0, 3.0]
    (ax,) = fig.axes
    assert rec.drawn_on == [ax] and isinstance(ax, Axes)
    assert ax.get_lines()[0].get_ydata().tolist() == [0, 6.0]


def test_explorer_update_draws_into_its_output_and_closes_the_figure(shown):
    ex, rec = _explorer()
    open_before = plt.get_fignums()
    ex.update()
    assert rec.computed == [(3, 2.0)]
    (fig,) = shown
    assert isinstance(fig, Figure) and fig.axes[0] is rec.drawn_on[0]
    assert plt.get_fignums() == open_before  # the figure was closed after display


def test_explorer_update_without_ipython_kernel_does_not_fail(capsys):
    ex, rec = _explorer()
    open_before = plt.get_fignums()
    ex.update()  # the real display path: outside a kernel the figure is drawn and closed, not printed
    assert rec.computed == [(3, 2.0)]
    assert "Figure" not in capsys.readouterr().out and plt.get_fignums() == open_before


def test_explorer_figures_carry_the_alt_text_at_the_current_values(shown):
    ex, _ = _explorer()
    ex.update()
    ex.controls["a"].value = 5
    assert shown.alts == ["Product of a = 3 and b = 2.0", "Product of a = 5 and b = 2.0"]


def test_explorer_show_static(shown):
    ex, rec = _explorer()
    ex.controls["a"].value = 5  # recomputes once through the observer
    ex.show_static()
    assert rec.computed == [(5, 2.0), (5, 2.0)]
    assert len(shown) == 2 and all(isinstance(f, Figure) for f in shown)
    assert shown[-1].axes[0].get_lines()[0].get_ydata().tolist() == [0, 10.0]


def test_changing_a_control_recomputes(shown):
    ex, rec = _explorer()
    assert rec.computed == []  # nothing computed before the explorer is shown or moved
    ex.controls["a"].value = 7
    ex.controls["b"].value = 0.5
    assert rec.computed == [(7, 2.0), (7, 0.5)]
    assert len(shown) == 2
    ex.controls["a"].value = 7  # same value: no change event
    assert len(rec.computed) == 2


def test_showing_the_explorer_draws_once(shown):
    ex, rec = _explorer()
    bundle = ex._repr_mimebundle_()
    assert isinstance(bundle, dict) and rec.computed == [(3, 2.0)]
    ex._repr_mimebundle_()
    assert rec.computed == [(3, 2.0)]  # already drawn: not drawn again


@pytest.mark.parametrize("repeats", [1, 3])
def test_time_compute(repeats):
    ex, rec = _explorer()
    seconds = ex.time_compute(repeats=repeats)
    assert len(rec.computed) == repeats
    assert 0 <= seconds < 1.0  # a product of two numbers
    assert rec.drawn_on == []  # timing never draws


def test_time_compute_measures_compute_time(monkeypatch):
    ex, _ = _explorer()
    ticks = iter(range(0, 1000, 5))  # a fake clock: each call to compute takes 5 "seconds"
    monkeypatch.setattr(widgets_module.time, "perf_counter", lambda: next(ticks))
    assert ex.time_compute(repeats=3) == 5


@pytest.mark.parametrize("repeats", [0, -2])
def test_time_compute_rejects_repeats_below_one(repeats):
    ex, _ = _explorer()
    with pytest.raises(ValueError, match="repeats must be >= 1"):
        ex.time_compute(repeats=repeats)


@pytest.mark.parametrize("repeats", [True, 2.5])
def test_time_compute_rejects_non_int_repeats(repeats):
    ex, _ = _explorer()
    with pytest.raises(TypeError, match="repeats must be an int"):
        ex.time_compute(repeats=repeats)


_OK = {
    "name": "x",
    "compute": lambda a: a,
    "draw": lambda r, ax: None,
    "controls": {"a": int_slider("a", 1, 0, 2)},
    "alt": "The identity at a = {a}",
}


@pytest.mark.parametrize(
    "changes, error, match",
    [
        ({"name": ""}, ValueError, "name must be a non-empty string"),
        ({"name": None}, ValueError, "name must be a non-empty string"),
        ({"name": 3}, ValueError, "name must be a non-empty string"),
        ({"compute": None}, TypeError, "compute and draw must be callable"),
        ({"compute": "a * a"}, TypeError, "compute and draw must be callable"),
        ({"draw": 1}, TypeError, "compute and draw must be callable"),
        ({"controls": {}}, ValueError, "controls must hold at least one widget"),
        ({"controls": None}, ValueError, "controls must hold at least one widget"),
        ({"controls": {"a": 3}}, TypeError, "control 'a' must be an ipywidgets value widget, got int"),
        (
            {"controls": {"a": int_slider("a", 1, 0, 2), "b": widgets.HBox()}},
            TypeError,
            "control 'b' must be an ipywidgets value widget",
        ),
        ({"alt": None}, TypeError, "alt must be a one-line description of the figure"),
        ({"alt": "short"}, ValueError, "alt must be one line of 10 to 300 characters"),
        ({"alt": "two\nlines of text"}, ValueError, "alt must be one line"),
        ({"alt": "The value of {b} here"}, ValueError, r"names 'b' in braces, but the controls are \['a'\]"),
    ],
)
def test_explorer_argument_errors(changes, error, match):
    with pytest.raises(error, match=match):
        Explorer(**{**_OK, **changes})
