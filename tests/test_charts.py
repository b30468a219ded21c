"""The shared Altair set-up: vendored JS matches Altair, output works offline."""

import json
import re

import altair as alt
import pandas as pd

from explainer import charts
from explainer.widgets import BOOK_BUILD_ENV


def _chart():
    return alt.Chart(pd.DataFrame({"x": [1, 2], "y": [3, 4]}), title="t").mark_bar().encode(x="x:Q", y="y:Q")


def test_vendored_bundles_match_the_versions_altair_asks_for():
    versions = json.loads((charts.STATIC_DIR / "VERSIONS.json").read_text())
    assert versions["vega-lite"] == alt.VEGALITE_VERSION
    assert versions["vega"].split(".")[0] == alt.VEGA_VERSION.split(".")[0]
    assert versions["vega-embed"].split(".")[0] == alt.VEGAEMBED_VERSION.split(".")[0]
    # the bundles themselves carry the same version strings
    vl = (charts.STATIC_DIR / "vega-lite.min.js").read_text()
    assert f'"{alt.VEGALITE_VERSION}"' in vl[:2000]
    assert f'version="{versions["vega"]}"' in (charts.STATIC_DIR / "vega.min.js").read_text()
    for name in charts.VENDORED_JS:
        assert (charts.STATIC_DIR / name.replace(".min.js", ".LICENSE.txt")).exists()


def test_vega_debug_records_the_versions_the_template_checks():
    js = charts.vega_debug_js()
    recorded = json.loads(js.split("=", 1)[1].rstrip(";"))
    assert recorded == {"vega_version": alt.VEGA_VERSION, "vegalite_version": alt.VEGALITE_VERSION,
                        "vegaembed_version": alt.VEGAEMBED_VERSION}
    html = charts.chart_html(_chart().to_dict())
    # the template skips loading a library whose version VEGA_DEBUG already holds
    assert f'maybeLoadScript("vega-lite", "{alt.VEGALITE_VERSION}")' in html


def _bundle():
    bundle = _chart()._repr_mimebundle_()
    return bundle[0] if isinstance(bundle, tuple) else bundle


def test_live_kernels_get_the_vegalite_mime_type_only(monkeypatch):
    monkeypatch.delenv(BOOK_BUILD_ENV, raising=False)
    assert alt.renderers.active == "explainer" and alt.theme.active == "explainer"
    bundle = _bundle()
    # no text/html: JupyterLab would prefer it to its own (offline) Vega renderer
    assert set(bundle) == {charts.VEGALITE_MIME, "text/plain"}
    assert bundle[charts.VEGALITE_MIME]["mark"]["type"] == "bar"
    assert bundle["text/plain"] == "<Altair chart: t>"


def test_the_book_build_gets_html_drawn_by_the_sites_vega_embed(monkeypatch):
    monkeypatch.setenv(BOOK_BUILD_ENV, "1")
    bundle = _bundle()
    assert set(bundle) == {"text/html", "text/plain"}
    assert '"renderer": "svg"' in bundle["text/html"]
    assert '"editor": false' in bundle["text/html"]


def test_chart_ids_are_unique_on_a_page_and_reproducible():
    spec = _chart().to_dict()
    ids = [re.search(r'<div id="(chart-[0-9a-f]{10})-(\d+)"', charts.chart_html(spec)) for _ in range(3)]
    assert len({m.group(0) for m in ids}) == 3  # unique
    assert len({m.group(1) for m in ids}) == 1  # same spec -> same digest


def test_theme_sets_the_book_palette():
    spec = _chart().to_dict()
    assert spec["config"]["range"]["category"] == charts.PALETTE
