"""Sphinx extension for the book (listed in ``_config.yml``).

* Serves the vendored vega / vega-lite / vega-embed bundles (and their
  licences) from the site's ``_static/`` and loads them on every page, then
  ``explainer-charts.js``, which draws the charts written by
  :func:`explainer.charts.chart_html` in the page's light or dark mode.
* Drops sphinx-thebe's scripts (loaded twice by Jupyter Book 1, and unused).
* Puts a reading time under each chapter's title, and shows repository and
  issue links only when ``_config.yml`` names a repository.
* Marks the build for the notebook kernels it starts
  (``EXPLAINER_BOOK_BUILD=1``), so charts are rendered as HTML,
  :func:`explainer.widgets.live_or_static` publishes static charts instead of
  ipywidgets, and progress bars stay quiet.
"""

from __future__ import annotations

import html
import os
import re
from typing import Any

from explainer.charts import CHARTS_JS, STATIC_DIR, VENDORED_JS
from explainer.widgets import BOOK_BUILD_ENV

__all__ = ["WORDS_PER_MINUTE", "reading_minutes", "setup"]


def _add_static(app: Any, config: Any) -> None:
    """Add the vendored bundles to the static path (config-inited hook)."""
    config.html_static_path.append(str(STATIC_DIR))


def _drop_thebe(app: Any, pagename: str, templatename: str, context: dict, doctree: Any) -> None:
    """Remove sphinx-thebe's scripts (html-page-context hook).

    Jupyter Book 1 always loads sphinx-thebe, whose inline config script lands
    on every page twice (a console error: THEBE_JS_URL already declared) and
    points at a CDN. The book has no live-kernel buttons, so it needs neither.
    """
    def is_thebe(script: Any) -> bool:
        body = getattr(script, "attributes", {}).get("body", "")
        return "thebe" in str(script) or "THEBE_JS_URL" in body

    if "script_files" in context:
        context["script_files"] = [s for s in context["script_files"] if not is_thebe(s)]


WORDS_PER_MINUTE = 200  # a common figure for reading prose on a screen
_TAGS = re.compile(r"<(script|style)\b.*?</\1>|<[^>]+>", re.S)


def reading_minutes(body_html: str) -> int:
    """Minutes to read a page's prose at :data:`WORDS_PER_MINUTE` (code and folds excluded)."""
    prose = re.sub(r'<div class="cell_input.*?</div>\s*</div>\s*</div>', " ", body_html, flags=re.S)
    prose = re.sub(r"<details.*?</details>", " ", prose, flags=re.S)
    words = len(html.unescape(_TAGS.sub(" ", prose)).split())
    return max(1, round(words / WORDS_PER_MINUTE))


def _reading_time(app: Any, pagename: str, templatename: str, context: dict, doctree: Any) -> None:
    """Put 'About N minutes to read' under each chapter's title (html-page-context hook)."""
    body = context.get("body", "")
    if not pagename.startswith("chapters/") or "</h1>" not in body:
        return
    n = reading_minutes(body)
    note = (f'<p class="explainer-reading-time">About {n} minute{"s" if n != 1 else ""} '
            "to read</p>")
    context["body"] = body.replace("</h1>", "</h1>" + note, 1)


def _repository_links(app: Any, config: Any) -> None:
    """Repository, issue and edit links exactly when ``_config.yml`` names a repository.

    Jupyter Book refuses the buttons without ``repository.url``, so ``_config.yml`` leaves
    them off and this turns them on once a URL is set; without one there is no dead link.
    """
    opts = config.html_theme_options
    on = bool(str(opts.get("repository_url", "") or "").strip())
    for key in ("use_repository_button", "use_issues_button", "use_edit_page_button"):
        opts[key] = on


def setup(app: Any) -> dict[str, Any]:
    """Sphinx entry point."""
    os.environ[BOOK_BUILD_ENV] = "1"  # inherited by the kernels MyST-NB starts
    app.connect("config-inited", _add_static)
    app.connect("html-page-context", _drop_thebe)
    app.connect("html-page-context", _reading_time)
    app.connect("config-inited", _repository_links)
    for i, name in enumerate(VENDORED_JS):
        app.add_js_file(name, priority=191 + i)
    app.add_js_file(CHARTS_JS, priority=195)  # draws the charts, light or dark
    app.add_css_file("explainer.css")
    app.add_css_file("ledger.css")  # the claims ledger table (explainer.ledger_html)
    app.add_js_file("ledger.js")  # its filters and sorting; a no-op on other pages
    return {"version": "0.1", "parallel_read_safe": True, "parallel_write_safe": True}
