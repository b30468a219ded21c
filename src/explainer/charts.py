"""Charts: one Altair set-up shared by every chapter.

What this module does, once, on import:

* registers and enables the book's chart theme (``"explainer"``);
* registers and enables a renderer that gives JupyterLab the Vega-Lite mime
  type (drawn natively, offline) and gives the book build ``text/html`` (what
  MyST-NB publishes in the static page);
* writes that HTML itself (:func:`chart_html`), with no loader and no CDN: the
  site serves the vendored vega / vega-lite / vega-embed bundles from
  ``_static/`` (see :mod:`explainer.book`), and ``static/explainer-charts.js``
  draws every chart as SVG in the page's light or dark mode, again whenever the
  reader switches mode;
* makes every chart accessible: the renderer refuses a chart without a
  ``description`` (see :func:`explainer.figures.finish`); on the page the chart
  is a named ``role="figure"`` described by it, and a keyboard-reachable
  disclosure under it holds the plotted values as a table.

The versions come from Altair itself (``alt.VEGA_VERSION`` and friends); the
bundles in ``static/`` are refreshed by ``scripts/vendor_vega.sh`` and a test
checks they match.
"""

from __future__ import annotations

import csv
import hashlib
import html
import io
import itertools
import json
import math
import urllib.parse
from pathlib import Path
from typing import Any

import altair as alt

from explainer.tables import human
from explainer.controls import spec_nodes
from explainer.widgets import in_book_build

__all__ = [
    "PALETTE",
    "STATIC_DIR",
    "CHARTS_JS",
    "VENDORED_JS",
    "VEGA_VERSIONS",
    "chart_html",
    "data_tables_html",
    "enable",
]

STATIC_DIR = Path(__file__).parent / "static"
# load order matters: vega-lite needs vega, vega-embed needs both
VENDORED_JS = ("vega.min.js", "vega-lite.min.js", "vega-embed.min.js")
# draws every chart in the page's colour mode (static/explainer-charts.js)
CHARTS_JS = "explainer-charts.js"
# every chart must say what it shows (screen readers; explainer.figures.finish sets it)
REQUIRE_DESCRIPTION = True
LAB_WIDTH = 520  # pixels: a chart's width in JupyterLab, where "container" has no fixed column
TABLE_ROWS = 60  # rows shown per dataset under a chart; larger data is also offered as CSV
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
_counter = itertools.count()


_JSON_ESCAPES = {ord("<"): "\\u003C", ord(">"): "\\u003E", ord("&"): "\\u0026",
                 0x2028: "\\u2028", 0x2029: "\\u2029"}


def _finite(value: Any) -> Any:
    """``value`` with every NaN or infinite float replaced by ``None`` (JSON has neither)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def json_script(value: Any) -> str:
    """JSON that is safe inside a ``<script type="application/json">`` element.

    As Django's ``json_script``: ``<``, ``>`` and ``&`` are written as ``\\u`` escapes, so
    no data string (``</script>``, ``<!--<script>``) can end the element or open a comment
    that swallows the page; NaN and infinities become ``null`` (browsers cannot parse them).
    """
    return json.dumps(_finite(value), separators=(",", ":"), allow_nan=False).translate(
        _JSON_ESCAPES)


def chart_html(spec: dict[str, Any]) -> str:
    """HTML for one chart on a book page: a labelled figure, its spec, and its data as a table.

    The page's own vega-embed draws it (``static/explainer-charts.js``), as SVG, in the
    page's light or dark mode. The container is ``role="figure"``, named by the chart's
    title and described by its ``description``; under the chart a keyboard-reachable
    "Show the data" disclosure holds the plotted values as an HTML table (or, for large
    data, the first rows and a CSV download); a diagram (:func:`is_diagram`) has none. The div id is derived from the spec and a
    per-kernel counter, so executing a notebook twice gives the same output.
    """
    digest = hashlib.sha1(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:10]
    chart_id = f"chart-{digest}-{next(_counter)}"
    title = _title_text(spec) or "Chart"
    description = str(spec.get("description") or "")
    spec_json = json_script(spec)
    return (
        f'<div class="explainer-chart" id="{chart_id}" role="figure" '
        f'aria-label="{html.escape(title)}" aria-describedby="{chart_id}-desc">\n'
        f'<p class="explainer-sr-only" id="{chart_id}-desc">{html.escape(description)}</p>\n'
        f'<div class="explainer-chart-view"></div>\n'
        f'<script type="application/json" class="explainer-chart-spec">{spec_json}</script>\n'
        f"{'' if is_diagram(spec) else data_tables_html(spec, title)}</div>"
    )


def is_diagram(spec: dict[str, Any]) -> bool:
    """A picture of an idea (``usermeta: {"explainer": {"diagram": true}}``): its data is
    layout, so the page gives it a description but no "Show the data" table."""
    meta = spec.get("usermeta") if isinstance(spec, dict) else None
    return bool(isinstance(meta, dict) and (meta.get("explainer") or {}).get("diagram"))


def _title_text(spec: dict[str, Any]) -> str:
    """The chart's title as plain text (first of the layers/facets that has one)."""
    title = spec.get("title")
    if isinstance(title, dict):
        title = title.get("text")
    if isinstance(title, list):
        title = " ".join(map(str, title))
    if title:
        return str(title)
    for key in ("layer", "vconcat", "hconcat", "concat"):
        for sub in spec.get(key, []) or []:
            if isinstance(sub, dict) and (t := _title_text(sub)):
                return t
    if isinstance(spec.get("spec"), dict):
        return _title_text(spec["spec"])
    return ""


def _datasets(spec: dict[str, Any]) -> list[list[dict[str, Any]]]:
    """The inline data a spec plots (Altair's consolidated ``datasets``, or ``data.values``)."""
    found = [rows for rows in (spec.get("datasets") or {}).values() if isinstance(rows, list)]
    for node in spec_nodes(spec, skip=("datasets", "values")):
        values = node["data"].get("values") if isinstance(node.get("data"), dict) else None
        if isinstance(values, list) and values and isinstance(values[0], dict):
            found.append(values)
    return found


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return html.escape(human(value, 4))  # 2.664 million, not 2.664e+06
    return html.escape(str(value))


def data_tables_html(spec: dict[str, Any], title: str = "chart") -> str:
    """A ``<details>`` disclosure with the chart's data as table(s) ("" if it has none).

    Up to ``TABLE_ROWS`` rows are shown per dataset; a larger dataset is also offered
    whole as a CSV download (a ``data:`` link, so nothing is fetched).
    """
    parts = []
    for rows in _datasets(spec):
        cols = list(dict.fromkeys(k for r in rows for k in r))
        head = "".join(f'<th scope="col">{html.escape(str(c))}</th>' for c in cols)
        body = "".join(
            "<tr>" + "".join(f"<td>{_cell(r.get(c, ''))}</td>" for c in cols) + "</tr>"
            for r in rows[:TABLE_ROWS]
        )
        caption = f"{len(rows)} rows" + (f", first {TABLE_ROWS} shown" if len(rows) > TABLE_ROWS else "")
        part = (f'<div class="explainer-chart-table"><table><caption>{caption}</caption>'
                f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>")
        if len(rows) > TABLE_ROWS:
            buf = io.StringIO()
            csv.DictWriter(buf, fieldnames=cols).writeheader()
            csv.DictWriter(buf, fieldnames=cols).writerows(rows)
            href = "data:text/csv;charset=utf-8," + urllib.parse.quote(buf.getvalue())
            part += f'<p><a href="{href}" download="chart-data.csv">Download all {len(rows)} rows (CSV)</a></p>'
        parts.append(part)
    if not parts:
        return ""
    return (f'<details class="explainer-chart-data"><summary>Show the data: '
            f"{html.escape(title)}</summary>{''.join(parts)}</details>\n")


def _renderer(spec: dict[str, Any], **_metadata: Any) -> dict[str, Any]:
    """Altair renderer: HTML in the book build, the Vega-Lite mime type elsewhere.

    JupyterLab would prefer a ``text/html`` part over its own Vega renderer, and
    that HTML loads vega from a CDN outside the book; so live kernels get only
    the Vega-Lite mime type JupyterLab draws itself, and only the book gets HTML.
    """
    title = _title_text(spec)
    if REQUIRE_DESCRIPTION and not str(spec.get("description") or "").strip():
        raise ValueError(
            f"chart {title!r} has no description: every chart states what it shows for screen "
            "readers; build it with explainer.figures.finish(chart, description=...)")
    text = f"<Altair chart{': ' + title if title else ''}>"
    if in_book_build():
        return {"text/html": chart_html(spec), "text/plain": text}
    return {VEGALITE_MIME: _fixed_width(spec), "text/plain": text}


def _fixed_width(spec: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``spec`` with ``width="container"`` replaced by :data:`LAB_WIDTH` pixels.

    The page's charts fill the text column; JupyterLab's renderer sizes an output to
    its content, so a chart that fills its container there has nothing to measure.
    """
    if isinstance(spec, dict):
        return {k: (LAB_WIDTH if k == "width" and v == "container" else _fixed_width(v))
                for k, v in spec.items()}
    if isinstance(spec, list):
        return [_fixed_width(v) for v in spec]
    return spec


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
