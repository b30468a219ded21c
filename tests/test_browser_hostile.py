"""Hostile data cannot break or script a page (issue #25, web safety).

Charts, tables and sentences built by the library from strings such as ``<!--<script>``,
``</script>`` and ``"'><img src=x onerror=...>`` are put on a page that loads the built
site's own scripts; every chart must still draw, and no planted handler may run.
"""

from __future__ import annotations

import altair as alt
import pandas as pd
import pytest

from explainer.charts import chart_html
from explainer.figures import finish
from explainer.tables import table
from explainer.text import escape_dollars, escape_html

pytestmark = pytest.mark.browser

HOSTILE = ["<!--<script>", "</script><script>window.__pwned = 1</script>",
           "\"'><img src=x onerror=\"window.__pwned = 1\">", "javascript:window.__pwned=1",
           "$5 & <b>$6</b>"]


def _chart(text: str) -> str:
    df = pd.DataFrame({"label": [text, "plain"], "value": [1.0, float("nan")]})
    chart = alt.Chart(df, title=text).mark_bar().encode(x="value:Q", y="label:N")
    return chart_html(finish(chart, description=f"A bar chart whose labels hold {text}").to_dict())


def test_hostile_strings_neither_break_nor_script_the_page(browser, site_url, built_site):
    import markdown_it

    head = "".join(f'<script src="{site_url}/_static/{n}"></script>'
                   for n in ("vega.min.js", "vega-lite.min.js", "vega-embed.min.js",
                             "explainer-charts.js"))
    md = markdown_it.MarkdownIt("commonmark", {"html": True})
    parts = [_chart(t) for t in HOSTILE]
    parts.append(table(pd.DataFrame({"claim": HOSTILE, "value": range(len(HOSTILE))})).to_html())
    parts += [md.render(escape_dollars(escape_html(f"A sentence with {t} in it."))) for t in HOSTILE]
    page = browser.new_page()
    try:
        errors = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.set_content(f"<!doctype html><html><head><meta charset='utf-8'>{head}</head><body>"
                         f"<main><article>{''.join(parts)}<p id='end'>end</p></article></main></body></html>")
        page.wait_for_function("() => [...document.querySelectorAll('div[id^=\"chart-\"]')]"
                               ".every(d => d.querySelector('svg.marks'))", timeout=30_000)
        page.wait_for_timeout(300)
        assert page.locator("div[id^='chart-'] svg.marks").count() == len(HOSTILE)
        assert page.locator("#end").count() == 1, "a string swallowed the rest of the page"
        assert page.evaluate("window.__pwned") is None, "a planted handler ran"
        assert page.locator("main img, main b").count() == 0, "data became markup"
        assert errors == []
    finally:
        page.close()
