"""Live controls in JupyterLab, a static-but-interactive equivalent in the book.

The pattern every chapter uses for ipywidgets:

    live_or_static(make_widget, static_chart)

* In a live kernel (JupyterLab, nbmake) it displays ``make_widget()``: real
  ipywidgets whose callbacks recompute with the library.
* In the book build (:mod:`explainer.book` sets ``EXPLAINER_BOOK_BUILD=1`` for
  the kernels it starts) it displays ``static_chart`` instead: an Altair chart
  whose sliders and dropdowns are Vega-Lite params, so it responds in the
  browser with no kernel. A widget is never published, so it can never show as
  broken ("Loading widget...") on the static page.

:func:`progress` follows the same rule for progress bars: a ``tqdm.auto`` bar
live, nothing in the book build.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

__all__ = ["BOOK_BUILD_ENV", "in_book_build", "live_or_static", "progress"]

BOOK_BUILD_ENV = "EXPLAINER_BOOK_BUILD"
T = TypeVar("T")


def in_book_build() -> bool:
    """True when running inside the Jupyter Book build (no live kernel for readers)."""
    return os.environ.get(BOOK_BUILD_ENV) == "1"


def live_or_static(make_widget: Callable[[], Any], static: Any, *, what: str = "controls") -> None:
    """Display live ipywidgets in a kernel, or ``static`` in the book build.

    Args:
        make_widget: zero-argument callable returning the widget to display live.
            Only called outside the book build.
        static: something IPython can display (usually an Altair chart with
            Vega-Lite params) shown on the static page instead.
        what: words for the note on the static page ("a temperature slider").

    Returns nothing, so that a call ending a cell does not display twice.
    """
    from IPython.display import Markdown, display

    if in_book_build():
        display(Markdown(
            f"*In JupyterLab this cell shows live {what} that recompute with the "
            "`explainer` library. On this page the chart below does the same from "
            "precomputed values, in your browser.*"
        ))
        display(static)
        return
    display(make_widget())


def progress(iterable: Iterable[T], **kwargs: Any) -> Iterable[T]:
    """``tqdm.auto`` progress bar in a live session; silent in the book build."""
    from tqdm.auto import tqdm

    return tqdm(iterable, disable=in_book_build() or kwargs.pop("disable", False), **kwargs)
