"""Sphinx extension for the book (listed in ``_config.yml``).

* Serves the vendored vega / vega-lite / vega-embed bundles (and their
  licences) from the site's ``_static/`` and loads them on every page, after a
  tiny script that records their versions in ``VEGA_DEBUG`` so Altair's HTML
  never reaches for a CDN (see :mod:`explainer.charts`).
* Drops sphinx-thebe's scripts (loaded twice by Jupyter Book 1, and unused).
* Marks the build for the notebook kernels it starts
  (``EXPLAINER_BOOK_BUILD=1``), so charts are rendered as HTML,
  :func:`explainer.widgets.live_or_static` publishes static charts instead of
  ipywidgets, and progress bars stay quiet.
"""

from __future__ import annotations

import os
from typing import Any

from explainer.charts import STATIC_DIR, VENDORED_JS, vega_debug_js
from explainer.widgets import BOOK_BUILD_ENV

__all__ = ["setup"]


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


def setup(app: Any) -> dict[str, Any]:
    """Sphinx entry point."""
    os.environ[BOOK_BUILD_ENV] = "1"  # inherited by the kernels MyST-NB starts
    app.connect("config-inited", _add_static)
    app.connect("html-page-context", _drop_thebe)
    app.add_js_file(None, body=vega_debug_js(), priority=190)
    for i, name in enumerate(VENDORED_JS):
        app.add_js_file(name, priority=191 + i)
    app.add_css_file("explainer.css")
    return {"version": "0.1", "parallel_read_safe": True, "parallel_write_safe": True}
