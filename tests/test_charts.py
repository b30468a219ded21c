"""The shared Altair set-up: vendored JS matches Altair, output works offline and is accessible."""

import json
import re

import altair as alt
import pandas as pd
import pytest

from explainer import charts
from explainer.widgets import BOOK_BUILD_ENV

DESCRIPTION = "Two bars: x of 1 and 2 against y of 3 and 4."


def _chart(description=DESCRIPTION, n=2):
    df = pd.DataFrame({"x": range(1, n + 1), "y": range(3, n + 3)})
    c = alt.Chart(df, title="t").mark_bar().encode(x="x:Q", y="y:Q")
    return c.properties(description=description) if description else c


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
    assert (charts.STATIC_DIR / charts.CHARTS_JS).exists()


def _bundle(chart):
    bundle = chart._repr_mimebundle_()
    return bundle[0] if isinstance(bundle, tuple) else bundle


def test_live_kernels_get_the_vegalite_mime_type_only(monkeypatch):
    monkeypatch.delenv(BOOK_BUILD_ENV, raising=False)
    assert alt.renderers.active == "explainer" and alt.theme.active == "explainer"
    bundle = _bundle(_chart())
    # no text/html: JupyterLab would prefer it to its own (offline) Vega renderer
    assert set(bundle) == {charts.VEGALITE_MIME, "text/plain"}
    assert bundle[charts.VEGALITE_MIME]["mark"]["type"] == "bar"
    assert bundle["text/plain"] == "<Altair chart: t>"


@pytest.mark.parametrize("book", [True, False])
def test_a_chart_without_a_description_is_refused(monkeypatch, book):
    monkeypatch.setattr(charts, "REQUIRE_DESCRIPTION", True)
    if book:
        monkeypatch.setenv(BOOK_BUILD_ENV, "1")
    else:
        monkeypatch.delenv(BOOK_BUILD_ENV, raising=False)
    with pytest.raises(ValueError, match="no description"):
        _bundle(_chart(description=None))


def test_the_book_build_gets_an_accessible_figure_with_no_loader(monkeypatch):
    monkeypatch.setenv(BOOK_BUILD_ENV, "1")
    html = _bundle(_chart())["text/html"]
    assert re.search(r'<div class="explainer-chart" id="chart-[0-9a-f]{10}-\d+" role="figure" '
                     r'aria-label="t" aria-describedby="chart-[0-9a-f]{10}-\d+-desc">', html)
    assert DESCRIPTION in html
    spec = json.loads(re.search(r'class="explainer-chart-spec">(.*?)</script>', html).group(1))
    assert spec["description"] == DESCRIPTION and spec["mark"]["type"] == "bar"
    # nothing is loaded from anywhere: the page's explainer-charts.js draws it
    assert "cdn" not in html and "src=" not in html and "<script>" not in html


def test_the_data_behind_a_chart_is_a_table_under_it():
    html = charts.chart_html(_chart().to_dict())
    table = re.search(r'<details class="explainer-chart-data">.*</details>', html, re.S).group(0)
    assert "<summary>Show the data: t</summary>" in table
    assert table.count("<tr>") == 3  # header + 2 rows
    assert "<td>1</td><td>3</td>" in table and "<td>2</td><td>4</td>" in table
    assert "Download" not in table


def test_large_data_shows_the_first_rows_and_offers_all_as_csv():
    n = charts.TABLE_ROWS + 15
    html = charts.chart_html(_chart(n=n).to_dict())
    assert html.count("<tr>") == charts.TABLE_ROWS + 1
    assert f"{n} rows, first {charts.TABLE_ROWS} shown" in html
    assert f'download="chart-data.csv">Download all {n} rows (CSV)' in html


def test_a_spec_cannot_close_its_script_tag():
    spec = _chart(description="A sneaky </script><b>description</b> here.").to_dict()
    html = charts.chart_html(spec)
    body = re.search(r'class="explainer-chart-spec">(.*?)</script>', html, re.S).group(1)
    assert json.loads(body)["description"].startswith("A sneaky </script>")


def test_chart_ids_are_unique_on_a_page_and_reproducible():
    spec = _chart().to_dict()
    ids = [re.search(r'id="(chart-[0-9a-f]{10})-(\d+)"', charts.chart_html(spec)) for _ in range(3)]
    assert len({m.group(0) for m in ids}) == 3  # unique
    assert len({m.group(1) for m in ids}) == 1  # same spec -> same digest


def test_theme_sets_the_book_palette():
    spec = _chart().to_dict()
    assert spec["config"]["range"]["category"] == charts.PALETTE


def test_jupyterlab_gets_a_fixed_width_instead_of_the_pages_container(monkeypatch):
    monkeypatch.delenv(BOOK_BUILD_ENV, raising=False)
    chart = alt.layer(_chart().properties(width="container"), _chart()).properties(
        width="container", description=DESCRIPTION)
    spec = _bundle(chart)[charts.VEGALITE_MIME]
    assert spec["width"] == charts.LAB_WIDTH and "container" not in json.dumps(spec)
    monkeypatch.setenv(BOOK_BUILD_ENV, "1")
    assert '"width":"container"' in _bundle(chart)["text/html"]


def test_a_diagram_has_a_description_but_no_data_table():
    from explainer.charts import chart_html, is_diagram

    spec = {"description": "an idea", "data": {"values": [{"x": 1}]}, "mark": "point",
            "usermeta": {"explainer": {"diagram": True}}}
    assert is_diagram(spec) and "explainer-chart-data" not in chart_html(spec)
    plain = {k: v for k, v in spec.items() if k != "usermeta"}
    assert not is_diagram(plain) and "explainer-chart-data" in chart_html(plain)


@pytest.mark.parametrize("hostile", ["<!--<script>", "</script><script>alert(1)</script>",
                                     "\"'><img src=x onerror=alert(1)>", "a\u2028b"])
def test_chart_json_is_safe_inside_its_script_element(hostile):
    import json

    from explainer.charts import chart_html, json_script

    spec = {"description": hostile, "title": hostile, "data": {"values": [{"x": hostile, "y": 1}]}}
    text = json_script(spec)
    assert "<" not in text and ">" not in text and "&" not in text and "\u2028" not in text
    assert json.loads(text) == spec
    html = chart_html(spec)
    body = html.split('class="explainer-chart-spec">', 1)[1].split("</script>", 1)[0]
    assert json.loads(body) == spec


def test_chart_json_has_no_nan_or_infinity():
    import json

    from explainer.charts import json_script

    text = json_script({"values": [float("nan"), float("inf"), 1.5]})
    assert json.loads(text) == {"values": [None, None, 1.5]} and "NaN" not in text
