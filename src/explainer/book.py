"""Sphinx extension for the book (listed in ``_config.yml``).

* Serves the vendored vega / vega-lite / vega-embed bundles (and their
  licences) from the site's ``_static/`` and loads them on every page, then
  ``explainer-charts.js``, which draws the charts written by
  :func:`explainer.charts.chart_html` in the page's light or dark mode.
* Drops sphinx-thebe's scripts (loaded twice by Jupyter Book 1, and unused).
* Exports the panel models to ONNX and installs onnxruntime-web from npm, served
  from ``_static/models`` and ``_static/ort`` (:func:`run_static`).
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
import shutil
import subprocess
from pathlib import Path
from typing import Any

from explainer.charts import CHARTS_JS, STATIC_DIR, VENDORED_JS
from explainer.widgets import BOOK_BUILD_ENV

__all__ = ["WORDS_PER_MINUTE", "reading_minutes", "setup"]


ORT_VERSION = "1.31.1"  # onnxruntime-web from npm: the page's model runtime
ORT_FILES = ("ort.wasm.min.js", "ort-wasm-simd-threaded.mjs", "ort-wasm-simd-threaded.wasm")
ORT_NPM_DIR = Path(__file__).resolve().parents[2] / ".cache" / "npm-ort"


# the npm package carries no licence file; its package.json says MIT (ONNX Runtime's licence)
ORT_LICENSE = f"""onnxruntime-web {ORT_VERSION} (npm), part of ONNX Runtime: MIT License

Copyright (c) Microsoft Corporation

Permission is hereby granted, free of charge, to any person obtaining a copy of this software and
associated documentation files (the "Software"), to deal in the Software without restriction,
including without limitation the rights to use, copy, modify, merge, publish, distribute,
sublicense, and/or sell copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all copies or
substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED, INCLUDING BUT
NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY, FITNESS FOR A PARTICULAR PURPOSE AND
NONINFRINGEMENT. IN NO EVENT SHALL THE AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM,
DAMAGES OR OTHER LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM, OUT
OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE SOFTWARE.
"""


def install_ort(npm_dir: Path = ORT_NPM_DIR) -> Path:
    """onnxruntime-web's ``dist/`` folder, installed from the npm registry on first use."""
    dist = npm_dir / "node_modules" / "onnxruntime-web" / "dist"
    if not all((dist / f).exists() for f in ORT_FILES):
        if shutil.which("npm") is None:
            raise RuntimeError("npm is needed to install onnxruntime-web for the book's model "
                               "panels (Debian: apt-get install npm)")
        npm_dir.mkdir(parents=True, exist_ok=True)
        subprocess.run(["npm", "install", "--prefix", str(npm_dir), "--no-save", "--no-audit",
                        "--no-fund", "--ignore-scripts", f"onnxruntime-web@{ORT_VERSION}"],
                       check=True, stdout=subprocess.DEVNULL)
    return dist


RUN_STATIC = ORT_NPM_DIR.parent / "run_static"  # shared by every build of this checkout


def run_static(root: Path = RUN_STATIC) -> Path:
    """The folder whose ``models/`` and ``ort/`` the site serves from ``_static/``.

    ``models/``: every panel model exported to ONNX from ``data/weights/`` (re-exported only
    when a checkpoint's hash changes, so every build of this checkout, the failing-build
    tests' copies included, shares one export) with ``models.json``; ``ort/``:
    onnxruntime-web's single-threaded WebAssembly runtime and its licence. Both are fetched
    by a page only when a reader presses a panel's button (``explainer-run.js``).
    """
    from filelock import FileLock

    from explainer.onnx_export import export_all

    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    # builds of one checkout may run at once (the failing-build tests on two pytest workers):
    # one exports and installs, the others wait and then find everything in place
    with FileLock(str(root.parent / "run_static.lock")):
        export_all(root / "models")
        dist = install_ort()
        (root / "ort").mkdir(parents=True, exist_ok=True)
        for name in ORT_FILES:
            shutil.copy2(dist / name, root / "ort" / name)
        (root / "ort" / "onnxruntime-web.LICENSE.txt").write_text(ORT_LICENSE)
    return root


def _add_static(app: Any, config: Any) -> None:
    """Add the vendored bundles and the model panels' files to the static path (config-inited)."""
    config.html_static_path.append(str(STATIC_DIR))
    config.html_static_path.append(str(run_static()))


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
    # reference tables (the claims ledger) are looked up, not read through
    prose = re.sub(r'<div id="claims-ledger-wrap".*?</table>', " ", prose, flags=re.S)
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


# Extensions Jupyter Book loads that do not declare whether they are safe for parallel reading,
# checked by reading them (versions pinned by jupyter-book 1.0.4.post1):
PARALLEL_SAFE = {
    # only replaces TocTreeCollector.assign_section_numbers, which Sphinx calls in the main
    # process after every document is read, on the merged environment
    "sphinx_multitoc_numbering": "0.1.3",
    # per-document transforms that annotate each doctree (no shared state) and LaTeX settings
    # for the latex builder
    "sphinx_jupyterbook_latex": "1.0.0",
}


def _allow_parallel_read(app: Any) -> None:
    """Let ``make book`` execute several chapters at once (Sphinx's parallel reading; see
    ``scripts/jupyter_book_jobs.py``).

    Sphinx reads serially, and warns (which ``-W`` fails), if any extension does not declare
    that it is safe for parallel reading; the ones in :data:`PARALLEL_SAFE` are marked safe,
    at the versions read. Another version is left undeclared, so the build says so.
    """
    for name, version in PARALLEL_SAFE.items():
        ext = app.extensions.get(name)
        if (ext is not None and getattr(ext.module, "__version__", None) == version
                and ext.parallel_read_safe is None):
            ext.parallel_read_safe = True


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
    app.add_js_file("explainer-run.js")  # model panels: load the runtime only on a press
    app.connect("builder-inited", _allow_parallel_read)  # after every extension is loaded
    return {"version": "0.1", "parallel_read_safe": True, "parallel_write_safe": True}
