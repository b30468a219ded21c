"""The book as one PDF, printed from the built site by the Chromium the browser tests use.

    .venv/bin/python scripts/make_pdf.py [--site _build/html] [--out _build/pdf/cheaper-by-design.pdf]

`make pdf` runs it after `make book`. Each page of the book, in table-of-contents order, is
opened in headless Chromium (offline, light mode) so that its charts draw; the drawn article
(its charts as SVG, so vectors in the PDF) is then gathered into one print document with a
title page and a table of contents, and printed with page numbers. What only makes sense on
screen is adjusted for paper: code folds are dropped (the checks ran when the book was built),
reader folds ("What the articles said") are opened, chart data disclosures are dropped (the
chart is drawn), and every interactive control or model panel prints in its default state with
a line saying where the live version is.
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import html
import http.server
import sys
import threading
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from conftest import CHROMIUM, CHROMIUM_ARGS  # noqa: E402

# Runs in each chapter page once its charts are drawn: returns the article, ready for paper.
PREPARE = """() => {
  const art = document.querySelector('article.bd-article').cloneNode(true);
  art.querySelectorAll('details.hide, details.explainer-chart-data, .headerlink, script, '
                       + 'template, .explainer-reading-time, .vega-actions, details[title]')
     .forEach(e => e.remove());
  art.querySelectorAll('details').forEach(d => d.setAttribute('open', ''));
  const note = text => { const p = document.createElement('p'); p.className = 'print-live-note';
                         p.textContent = text; return p; };
  art.querySelectorAll('.vega-bindings').forEach(b => {
    b.querySelectorAll('input, select').forEach(i => i.setAttribute('disabled', ''));
    b.after(note('On the web edition these controls move the chart; printed here at their first setting.'));
  });
  art.querySelectorAll('form.explainer-run').forEach(f => {
    f.replaceWith(note('On the web edition a panel here runs the model in your browser.'));
  });
  art.querySelectorAll('.explainer-badge').forEach(b => b.remove());
  art.querySelectorAll('[id]').forEach(e => { e.id = '%PREFIX%' + e.id; });
  return art.innerHTML;
}"""

PRINT_CSS = """
@page { size: A4; margin: 18mm 16mm 20mm 16mm; }
html, body { background: #fff !important; color: #111; }
body { font-size: 10.5pt; line-height: 1.45; margin: 0; }
.print-title { break-after: page; padding-top: 35%; text-align: center; }
.print-title h1 { font-size: 30pt; margin: 0 0 0.4em; }
.print-title p { font-size: 13pt; color: #444; }
.print-toc { break-after: page; }
.print-toc ol { font-size: 12pt; line-height: 1.9; }
.print-toc a { color: #111; text-decoration: none; }
section.print-chapter { break-before: page; }
section.print-chapter h1 { font-size: 20pt; }
.print-live-note { font-size: 9pt; font-style: italic; color: #555; }
.explainer-chart, figure, table, pre { break-inside: avoid; }
.explainer-chart svg.marks { max-width: 100% !important; height: auto !important; }
a { color: #0a4ea8; }
.cell_output .output.text_html, .explainer-chart-table, .pst-scrollable-table-container { overflow: visible !important; }
"""


def chapters(root: Path = ROOT) -> list[str]:
    toc = yaml.safe_load((root / "_toc.yml").read_text())
    return [toc["root"]] + [c["file"] for part in toc["parts"] for c in part["chapters"]]


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def build_pdf(site: Path, out: Path) -> dict:
    """Print the built site at ``site`` into ``out``; returns the figures of the run."""
    from playwright.sync_api import sync_playwright

    if not (site / "index.html").exists():
        raise SystemExit(f"no built site at {site}: run `make book` first")
    t0 = time.perf_counter()
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_Quiet, directory=str(site)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    parts, toc_items, heads = [], [], ""
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 900, "height": 1200})
        page.route("**/*", lambda r: r.continue_() if r.request.url.startswith(
            (url, "data:", "blob:")) else r.abort())
        for i, name in enumerate(chapters()):
            page.goto(f"{url}/{name}.html", wait_until="load")
            page.evaluate("document.documentElement.dataset.theme = 'light'; "
                          "document.documentElement.dataset.mode = 'light'")
            page.wait_for_function("() => [...document.querySelectorAll('div[id^=\"chart-\"]')]"
                                   ".every(d => d.querySelector('svg.marks'))", timeout=60_000)
            page.wait_for_timeout(300)
            if not heads:  # the site's own stylesheets, absolute, for the print document
                heads = page.evaluate("() => [...document.querySelectorAll('link[rel=stylesheet]')]"
                                      ".map(l => `<link rel=\"stylesheet\" href=\"${l.href}\">`).join('')")
            title = page.evaluate("() => (document.querySelector('article h1') || {}).innerText || ''")
            title = title.replace("#", "").strip()
            body = page.evaluate(PREPARE.replace("%PREFIX%", f"p{i}-"))
            parts.append(f'<section class="print-chapter" id="chapter-{i}">{body}</section>')
            toc_items.append(f'<li><a href="#chapter-{i}">{html.escape(title)}</a></li>')
        today = dt.date.today().strftime("%-d %B %Y")
        doc = (f"<!doctype html><html lang='en' data-theme='light' data-mode='light'><head>"
               f"<meta charset='utf-8'><title>{html.escape(config['title'])}</title>{heads}"
               f"<style>{PRINT_CSS}</style></head><body><main class='bd-main'>"
               f"<div class='print-title'><h1>{html.escape(config['title'])}</h1>"
               f"<p>DeepSeek's efficiency story, run and checked</p>"
               f"<p>{html.escape(config.get('author', ''))} · printed {today}</p></div>"
               f"<nav class='print-toc'><h2>Contents</h2><ol>{''.join(toc_items)}</ol></nav>"
               f"{''.join(parts)}</main></body></html>")
        (site / "_print.html").write_text(doc)
        page.goto(f"{url}/_print.html", wait_until="load")
        page.wait_for_timeout(500)
        out.parent.mkdir(parents=True, exist_ok=True)
        page.pdf(path=str(out), format="A4", print_background=True, display_header_footer=True,
                 header_template="<span></span>",
                 footer_template="<div style='font-size:8pt;width:100%;text-align:center;color:#555'>"
                                 f"{html.escape(config['title'])} · "
                                 "<span class='pageNumber'></span> / <span class='totalPages'></span></div>",
                 margin={"top": "18mm", "bottom": "20mm", "left": "16mm", "right": "16mm"})
        browser.close()
    (site / "_print.html").unlink()
    server.shutdown()
    return {"chapters": len(parts), "seconds": time.perf_counter() - t0,
            "bytes": out.stat().st_size}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--site", type=Path, default=ROOT / "_build" / "html")
    ap.add_argument("--out", type=Path, default=ROOT / "_build" / "pdf" / "cheaper-by-design.pdf")
    args = ap.parse_args()
    r = build_pdf(args.site, args.out)
    from pypdf import PdfReader

    pages = len(PdfReader(str(args.out)).pages)
    print(f"Wrote {args.out}: {pages} pages, {r['bytes'] / 1e6:.1f} MB, {r['chapters']} chapters, "
          f"{r['seconds']:.0f} s")


if __name__ == "__main__":
    main()
