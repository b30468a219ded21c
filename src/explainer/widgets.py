"""Live controls in JupyterLab, a static-but-interactive equivalent in the book.

Every interactive cell of a chapter is one call::

    live_or_static(controls, compute, static_chart, what="a price slider")

* ``controls`` are declared once (:mod:`explainer.controls`): each yields the
  Vega-Lite param that ``static_chart`` binds and the ipywidget shown live.
* In a live kernel (JupyterLab, nbmake) it displays :func:`live_panel`: the
  controls' ipywidgets, and below them ``compute(**values)`` (a chart, a table,
  text), recomputed by the library whenever a control changes.
* In the book build (:mod:`explainer.book` sets ``EXPLAINER_BOOK_BUILD=1`` for
  the kernels it starts) it displays ``static_chart``: an Altair chart whose
  sliders and dropdowns are Vega-Lite params, so it responds in the browser with
  no kernel. A widget is never published, so it can never show as broken
  ("Loading widget...") on the static page.
* In both, the static chart is checked to bind every control exactly as
  declared (:func:`explainer.controls.check_bound`): the page and the notebook
  cannot drift apart.

:func:`progress` follows the same rule for progress bars: a ``tqdm.auto`` bar
live, nothing in the book build.
"""

from __future__ import annotations

import html
import os
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

from explainer.controls import Button, Choice, Control, Slider, check_bound

__all__ = ["BOOK_BUILD_ENV", "BUDGET_ENV", "RUN_IT_YOURSELF", "at_values", "badge", "budget",
           "in_book_build", "live_or_static", "live_panel", "progress"]

BOOK_BUILD_ENV = "EXPLAINER_BOOK_BUILD"
# seconds a training button may run at most; set by the JupyterLab test (tests/test_lab.py)
# so that pressing every button stays short. Unset for readers: the buttons' own lengths.
BUDGET_ENV = "EXPLAINER_BUTTON_SECONDS"
T = TypeVar("T")


def budget(seconds: float) -> float:
    """``seconds``, or less where :data:`BUDGET_ENV` caps how long a button may train.

    Raises:
        ValueError: if the cap in the environment is not a positive number.
    """
    cap = os.environ.get(BUDGET_ENV)
    if cap is None:
        return seconds
    try:
        value = float(cap)
    except ValueError:
        value = float("nan")
    if not value > 0 or value == float("inf"):
        raise ValueError(f"{BUDGET_ENV} must be a positive number of seconds, got {cap!r}")
    return min(seconds, value)


def in_book_build() -> bool:
    """True when running inside the Jupyter Book build (no live kernel for readers)."""
    return os.environ.get(BOOK_BUILD_ENV) == "1"


def live_panel(controls: Sequence[Control], compute: Callable[..., Any]) -> Any:
    """The live version of an interactive cell: the controls' widgets above an output.

    Args:
        controls: the declared controls. Each non-button control's value is passed to
            ``compute`` as a keyword named after the control.
        compute: returns what to show (chart, table, text, or a tuple of them, shown in
            order) for the current values; ``None`` shows nothing. Anything it prints or
            displays lands in the output.

    Returns:
        an ``ipywidgets.VBox``. Without a :class:`~explainer.controls.Button` the output
        is computed at once and again on every change; with one, only on a click.
        The box's ``.redraw()`` recomputes with the current values (used by tests).
    """
    import ipywidgets as w
    from IPython.display import display

    boxes = {c.name: c.widget() for c in controls}
    values = {c.name: boxes[c.name] for c in controls if not isinstance(c, Button)}
    out = w.Output()

    def redraw(*_: Any) -> None:
        with out:
            out.clear_output(wait=True)
            result = compute(**{name: box.value for name, box in values.items()})
            for part in result if isinstance(result, tuple) else (result,):
                if part is not None:
                    display(part)

    buttons = [boxes[c.name] for c in controls if isinstance(c, Button)]
    if buttons:
        for b in buttons:
            b.on_click(redraw)
    else:
        for box in values.values():
            box.observe(redraw, names="value")
        redraw()
    panel = w.VBox([*boxes.values(), out])
    panel.redraw = redraw  # type: ignore[attr-defined]
    panel.output = out  # type: ignore[attr-defined]
    return panel


def live_or_static(controls: Sequence[Control], compute: Callable[..., Any], static: Any, *,
                   what: str = "controls") -> None:
    """Display live controls in a kernel, or ``static`` in the book build.

    Args:
        controls: the cell's declared controls (:mod:`explainer.controls`).
        compute: the library computation, called as ``compute(**values)`` live.
        static: what the static page shows instead: an Altair chart binding every
            slider and choice in ``controls`` (checked), or, for a cell whose only
            controls are buttons or text, a note or a chart of precomputed results, or
            ``None`` (the badge alone).
        what: words for the note on the static page ("a temperature slider").

    Returns nothing, so that a call ending a cell does not display twice.
    """
    from IPython.display import HTML, display

    if hasattr(static, "to_dict"):
        check_bound(static, controls)
    if in_book_build():
        chart = hasattr(static, "to_dict")  # a chart binds the controls (checked above)
        display(HTML(badge(what, page_controls=chart and any(isinstance(c, (Slider, Choice))
                                                             for c in controls))))
        if static is not None:
            display(static)
        return
    if hasattr(static, "to_dict") and any(isinstance(c, (Slider, Choice)) for c in controls):
        # the page's chart, following the widgets, above the live computation: the notebook
        # shows the picture the caption describes, and the numbers Python recomputed
        def both(**values: Any) -> Any:
            result = compute(**values)
            if hasattr(result, "to_dict"):  # already a chart: the picture itself
                return result
            return at_values(static, values), result

        display(live_panel(controls, both))
        return
    display(live_panel(controls, compute))


def at_values(chart: Any, values: dict[str, Any]) -> Any:
    """A copy of ``chart`` whose params named in ``values`` take those values, unbound (the
    notebook's widgets drive it, so the chart's own page controls are dropped).

    Raises:
        ValueError: if a name in ``values`` is not a param of the chart.
    """
    import altair as alt

    copy = chart.copy(deep=True)
    found: set[str] = set()

    def items(node: Any, attr: str) -> list[Any]:
        got = getattr(node, attr, alt.Undefined)
        return [] if got is alt.Undefined or got is None else list(got)

    def walk(node: Any) -> None:
        for p in items(node, "params"):
            if getattr(p, "name", None) in values:
                p.value = values[p.name]
                p.bind = alt.Undefined
                found.add(p.name)
        for attr in ("layer", "hconcat", "vconcat", "concat"):
            for sub in items(node, attr):
                walk(sub)

    walk(copy)
    missing = set(values) - found
    if missing:
        raise ValueError(f"values must name params of the chart; not found: {sorted(missing)}")
    return copy


RUN_IT_YOURSELF = "how_made.html#run-it-yourself"


def badge(what: str, *, page_controls: bool) -> str:
    """The one short badge the page shows where a live notebook version exists.

    Args:
        what: what the notebook offers ("sliders for price and MFU").
        page_controls: whether this page's chart has working controls of its own.
    """
    if not isinstance(what, str) or not what.strip():
        raise ValueError(f"what must be a non-empty string, got {what!r}")
    here = ("The controls below work on this page." if page_controls
            else "This page shows the book's own run.")
    return (f'<p class="explainer-badge"><a href="{RUN_IT_YOURSELF}">Live in the notebook</a> '
            f'<span>{html.escape(what[0].upper() + what[1:])}, run in Python. {here}</span></p>')


def progress(iterable: Iterable[T], **kwargs: Any) -> Iterable[T]:
    """``tqdm.auto`` progress bar in a live session; silent in the book build."""
    from tqdm.auto import tqdm

    return tqdm(iterable, disable=in_book_build() or kwargs.pop("disable", False), **kwargs)
