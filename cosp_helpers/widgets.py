"""Interactive explorers: sliders that drive a plain, tested compute function and a plot.

An :class:`Explorer` splits each widget into ``compute(**values) -> result``, a plain function that
is unit-tested and timed (it must answer in well under 100 ms), and ``draw(result, ax)``, which only
plots. A notebook shows the explorer, then calls ``explorer.show_static()`` (or ``draw(compute(...))``
itself) so that a run without a live kernel -- a rendered page, a test -- still shows the figure.
"""

from __future__ import annotations

import statistics
import time
from typing import Any, Callable

import ipywidgets as widgets
import matplotlib.pyplot as plt
from IPython.display import clear_output
from matplotlib.axes import Axes

from ._checks import check_int, check_positive, check_real
from .plotting import check_alt, show

__all__ = ["Explorer", "int_slider", "float_slider", "log_slider", "dropdown"]


def _check_description(description: object) -> str:
    if not isinstance(description, str):
        raise TypeError(
            f"description must be a string (the control's label), got {type(description).__name__} {description!r}"
        )
    return description


def _check_range(value: float, low: float, high: float, names: tuple[str, str, str]) -> None:
    if not low < high:
        raise ValueError(f"{names[1]} must be < {names[2]}, got {names[1]}={low}, {names[2]}={high}")
    if not low <= value <= high:
        raise ValueError(f"{names[0]} must be in [{names[1]}, {names[2]}] = [{low}, {high}], got {value}")


def int_slider(description: str, value: int, min: int, max: int, step: int = 1) -> widgets.IntSlider:
    """An integer slider that updates only when released (so slow plots do not pile up).

    Examples
    --------
    >>> s = int_slider("d", 3, 1, 10); (s.value, s.max, s.continuous_update)
    (3, 10, False)
    """
    description = _check_description(description)
    value, min, max = check_int("value", value), check_int("min", min), check_int("max", max)
    step = check_int("step", step, minimum=1)
    _check_range(value, min, max, ("value", "min", "max"))
    return widgets.IntSlider(value=value, min=min, max=max, step=step, description=description, continuous_update=False)


def float_slider(description: str, value: float, min: float, max: float, step: float) -> widgets.FloatSlider:
    """A float slider that updates only when released.

    Examples
    --------
    >>> float_slider("eta", 0.1, 0.0, 0.5, 0.01).value
    0.1
    """
    description = _check_description(description)
    value, min, max = check_real("value", value), check_real("min", min), check_real("max", max)
    step = check_positive("step", step)
    _check_range(value, min, max, ("value", "min", "max"))
    return widgets.FloatSlider(
        value=value, min=min, max=max, step=step, description=description, continuous_update=False
    )


def log_slider(
    description: str, value: float, min_exp: float, max_exp: float, step: float = 0.1
) -> widgets.FloatLogSlider:
    """A slider over ``10**min_exp .. 10**max_exp`` on a log scale.

    Examples
    --------
    >>> s = log_slider("eps", 0.01, -3, 0); (s.value, s.min, s.max)
    (0.01, -3.0, 0.0)
    """
    description = _check_description(description)
    min_exp, max_exp = check_real("min_exp", min_exp), check_real("max_exp", max_exp)
    step = check_positive("step", step)
    if not min_exp < max_exp or max(abs(min_exp), abs(max_exp)) > 300:
        raise ValueError(f"min_exp must be < max_exp, both within ±300 (float range), got {min_exp}, {max_exp}")
    value = check_positive("value", value)
    if not 10**min_exp <= value <= 10**max_exp:
        raise ValueError(
            f"value must be in [10**min_exp, 10**max_exp] = [{10**min_exp:g}, {10**max_exp:g}], got {value}"
        )
    return widgets.FloatLogSlider(
        value=value, base=10, min=min_exp, max=max_exp, step=step, description=description, continuous_update=False
    )


def dropdown(description: str, options: list[Any], value: Any = None) -> widgets.Dropdown:
    """A drop-down list; ``options`` holds values or ``(label, value)`` pairs; the first is selected by default.

    Examples
    --------
    >>> dropdown("notebook", [("00 Start here", 0), ("01 The curse", 1)]).value
    0
    """
    description = _check_description(description)
    if not options:
        raise ValueError("options must hold at least one choice, got none")
    extra = {} if value is None else {"value": value}
    return widgets.Dropdown(options=options, description=description, **extra)


class Explorer(widgets.VBox):
    """Controls above a figure; moving a control recomputes and redraws.

    Parameters
    ----------
    name : str
        A short name, used in timing reports.
    compute : callable
        ``compute(**values) -> result``, where ``values`` maps each control's name to its value.
    draw : callable
        ``draw(result, ax) -> None``; it must draw on the Axes it is given.
    controls : dict of str to ipywidgets.ValueWidget
        The keyword names of ``compute`` and their widgets.
    figsize : tuple of float
        Size of the figure drawn at each update.
    alt : str
        The figure's one-line text alternative (see :func:`cosp_helpers.plotting.show`), a template that
        :meth:`str.format` fills with the controls' values at each update, e.g. ``"Error against width, k = {k}"``.

    Examples
    --------
    >>> ex = Explorer("square", lambda a: a * a, lambda r, ax: ax.plot([0, r]), {"a": int_slider("a", 3, 0, 9)},
    ...               alt="A line from 0 to a squared, a = {a}")
    >>> ex.alt_text()
    'A line from 0 to a squared, a = 3'
    >>> ex.values(), ex.compute(**ex.values())
    ({'a': 3}, 9)
    >>> seconds = ex.time_compute(repeats=3)  # the median of 3 calls; benchmarks/widgets.py holds the budget
    """

    def __init__(
        self,
        name: str,
        compute: Callable[..., Any],
        draw: Callable[[Any, Axes], None],
        controls: dict[str, widgets.ValueWidget],
        figsize: tuple[float, float] = (8.0, 4.5),
        *,
        alt: str,
    ) -> None:
        if not isinstance(name, str) or not name:
            raise ValueError(f"name must be a non-empty string, got {name!r}")
        if not callable(compute) or not callable(draw):
            raise TypeError("compute and draw must be callable")
        if not controls:
            raise ValueError("controls must hold at least one widget, got none")
        for key, control in controls.items():
            if not isinstance(control, widgets.ValueWidget):
                raise TypeError(f"control {key!r} must be an ipywidgets value widget, got {type(control).__name__}")
        check_alt(alt)
        self.alt = alt
        self.name = name
        self.compute = compute
        self.draw = draw
        self.controls = dict(controls)
        self.figsize = figsize
        self.output = widgets.Output()
        for control in self.controls.values():
            control.observe(self._on_change, names="value")
        self._drawn = False
        self.alt_text()  # a template that names no control fails here, not at the first redraw
        super().__init__([widgets.HBox(list(self.controls.values())), self.output])

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        if not self._drawn:  # draw the first figure when the explorer is first shown
            self.update()
        return super()._repr_mimebundle_(**kwargs)

    def values(self) -> dict[str, Any]:
        """The controls' current values, by keyword name."""
        return {key: control.value for key, control in self.controls.items()}

    def alt_text(self) -> str:
        """The figure's text alternative at the current values."""
        try:
            return check_alt(self.alt.format(**self.values()))
        except (KeyError, IndexError) as error:
            raise ValueError(
                f"alt {self.alt!r} names {error} in braces, but the controls are {sorted(self.controls)}"
            ) from None

    def render(self) -> plt.Figure:
        """Compute at the current values and draw on a new figure; return the figure."""
        result = self.compute(**self.values())
        fig, ax = plt.subplots(figsize=self.figsize)
        self.draw(result, ax)
        return fig

    def update(self) -> None:
        """Redraw inside the widget's output area."""
        self._drawn = True
        with self.output:
            clear_output(wait=True)
            fig = self.render()
            show(fig, alt=self.alt_text())

    def show_static(self) -> None:
        """Show the figure once at the current values, outside the widget (the static fallback)."""
        fig = self.render()
        show(fig, alt=self.alt_text())

    def time_compute(self, repeats: int = 20) -> float:
        """Median wall time, in seconds, of one ``compute`` call at the current values."""
        repeats = check_int("repeats", repeats, minimum=1)
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            self.compute(**self.values())
            times.append(time.perf_counter() - start)
        return statistics.median(times)

    def _on_change(self, change: dict[str, Any]) -> None:
        self.update()
