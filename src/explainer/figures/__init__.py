"""Every chart a chapter draws, as a function of data that returns an Altair chart.

One module per chapter or concept (``figures.costs``, ``figures.moe``, ...); a
chapter cell that draws a chart is one call such as
``figures.costs.kv_cache(curve)``. Each function states in its chart's
``description`` what the chart shows (read by screen readers, required by
:func:`explainer.figures._base.finish`), builds its page controls from the
declarations in :mod:`explainer.controls`, and embeds only the data it plots.

Submodules are imported on first use (``figures.moe`` imports torch; ``figures.costs``
does not), so ``from explainer import figures`` is cheap.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["finish"]

from explainer.figures._base import finish  # noqa: E402


def __getattr__(name: str) -> Any:
    """Import ``explainer.figures.<name>`` on first access."""
    if name.startswith("_"):
        raise AttributeError(name)
    try:
        return importlib.import_module(f"{__name__}.{name}")
    except ModuleNotFoundError as err:
        if err.name == f"{__name__}.{name}":
            raise AttributeError(f"explainer.figures has no module {name!r}") from None
        raise
