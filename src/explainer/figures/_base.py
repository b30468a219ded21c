"""What every figure shares: a description for screen readers and a width that fits the page."""

from __future__ import annotations

import json
from typing import Any

import altair as alt

__all__ = ["finish", "spec_bytes"]

_MIN_DESCRIPTION = 20  # characters: a sentence, not a label


def finish(chart: Any, *, description: str, width: Any = "container") -> Any:
    """Give ``chart`` its description and (single views and layers) the page's width.

    Args:
        chart: an Altair chart built by a figure function.
        description: one or two sentences saying what the chart shows and what to see;
            it becomes the SVG's accessible name (Vega's ARIA support).
        width: ``"container"`` (fill the text column, down to a phone's width), a number
            of pixels, or ``None`` to leave the chart's own width alone (facets, concats).

    Raises:
        ValueError: if ``description`` is missing or shorter than a sentence.
    """
    if not isinstance(description, str) or len(description.strip()) < _MIN_DESCRIPTION:
        raise ValueError(f"description must be a sentence of at least {_MIN_DESCRIPTION} "
                         f"characters saying what the chart shows, got {description!r}")
    props: dict[str, Any] = {"description": description.strip()}
    if width is not None and isinstance(chart, (alt.Chart, alt.LayerChart)):
        props["width"] = width
    return chart.properties(**props)


def spec_bytes(chart: Any) -> int:
    """Size of the chart's JSON spec (data included) as embedded in a page."""
    return len(json.dumps(chart.to_dict(), separators=(",", ":")).encode())
