"""Charts: one Altair set-up shared by every chapter.

What this module does, once, on import:

* registers and enables the book's chart theme (``"explainer"``);
* registers and enables a renderer that gives JupyterLab the Vega-Lite mime
  type (drawn natively, offline) and gives the book build ``text/html`` (what
  MyST-NB publishes in the static page);
* keeps that HTML free of CDN loads in the book: the site serves the vendored
  vega / vega-lite / vega-embed bundles from ``_static/`` (see
  :mod:`explainer.book`) and sets the global ``VEGA_DEBUG`` to the versions
  Altair asks for, which makes Altair's "universal" template skip its loader.

The versions come from Altair itself (``alt.VEGA_VERSION`` and friends); the
bundles in ``static/`` are refreshed by ``scripts/vendor_vega.sh`` and a test
checks they match.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from pathlib import Path
from typing import Any

import altair as alt
from altair.utils.html import spec_to_html

from explainer.widgets import in_book_build

__all__ = [
    "PALETTE",
    "STATIC_DIR",
    "VENDORED_JS",
    "VEGA_VERSIONS",
    "chart_html",
    "enable",
    "vega_debug_js",
]

STATIC_DIR = Path(__file__).parent / "static"
# load order matters: vega-lite needs vega, vega-embed needs both
VENDORED_JS = ("vega.min.js", "vega-lite.min.js", "vega-embed.min.js")
# the keys Altair's universal template looks up in the global VEGA_DEBUG
VEGA_VERSIONS = {
    "vega_version": alt.VEGA_VERSION,
    "vegalite_version": alt.VEGALITE_VERSION,
    "vegaembed_version": alt.VEGAEMBED_VERSION,
}
# JupyterLab 4 renders Vega-Lite natively (offline) only up to the v5 mime type,
# with the Vega 5 / Vega-Lite 5 it bundles; Altair 6 writes v6 specs, which that
# renderer draws (tests/test_lab.py checks the chapters' charts do). Altair's own
# default would be text/html loading vega from a CDN.
VEGALITE_MIME = "application/vnd.vegalite.v5+json"

# colour-blind-safe (Okabe-Ito), in the order series are assigned
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"]
_FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif"
# embed options: SVG output (crisp, inspectable); no "open in the Vega editor" link (it would leave the site)
_EMBED_OPTIONS = {"renderer": "svg", "actions": {"export": True, "source": False, "compiled": False, "editor": False}}
_counter = itertools.count()


def vega_debug_js() -> str:
    """JavaScript that records the served library versions in ``VEGA_DEBUG``."""
    return f"window.VEGA_DEBUG = {json.dumps(VEGA_VERSIONS, sort_keys=True)};"


def chart_html(spec: dict[str, Any]) -> str:
    """HTML (div + script) drawing a Vega-Lite ``spec`` with the page's vega-embed.

    The div id is derived from the spec and a per-kernel counter, so executing a
    notebook twice gives the same output.
    """
    digest = hashlib.sha1(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:10]
    return spec_to_html(
        spec,
        "vega-lite",
        vega_version=alt.VEGA_VERSION,
        vegalite_version=alt.VEGALITE_VERSION,
        vegaembed_version=alt.VEGAEMBED_VERSION,
        output_div=f"chart-{digest}-{next(_counter)}",
        embed_options=_EMBED_OPTIONS,
        fullhtml=False,
        template="universal",
    )


def _renderer(spec: dict[str, Any], **_metadata: Any) -> dict[str, Any]:
    """Altair renderer: HTML in the book build, the Vega-Lite mime type elsewhere.

    JupyterLab would prefer a ``text/html`` part over its own Vega renderer, and
    that HTML loads vega from a CDN outside the book; so live kernels get only
    the Vega-Lite mime type JupyterLab draws itself, and only the book gets HTML.
    """
    title = spec.get("title")
    if isinstance(title, dict):
        title = title.get("text")
    text = f"<Altair chart{': ' + str(title) if title else ''}>"
    if in_book_build():
        return {"text/html": chart_html(spec), "text/plain": text}
    return {VEGALITE_MIME: spec, "text/plain": text}


def _theme() -> dict[str, Any]:
    """The book's chart theme: readable sizes, one palette, quiet axes."""
    return {
        "config": {
            "view": {"continuousWidth": 520, "continuousHeight": 300, "stroke": None},
            "font": _FONT,
            "range": {"category": PALETTE},
            "title": {"fontSize": 15, "anchor": "start", "fontWeight": 600, "subtitleColor": "#555"},
            "axis": {"labelFontSize": 12, "titleFontSize": 12, "gridColor": "#e6e6e6",
                     "domainColor": "#888", "tickColor": "#888"},
            "legend": {"labelFontSize": 12, "titleFontSize": 12},
            "bar": {"color": PALETTE[0]},
            "line": {"color": PALETTE[0], "strokeWidth": 2.5},
            "point": {"color": PALETTE[0], "filled": True},
        }
    }


def enable() -> None:
    """Make the book's theme and renderer the active ones (idempotent)."""
    if "explainer" not in alt.theme.names():
        alt.theme.register("explainer", enable=False)(_theme)
    alt.theme.enable("explainer")
    alt.renderers.register("explainer", _renderer)
    alt.renderers.enable("explainer")


enable()
