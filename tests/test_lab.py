"""JupyterLab: every chapter runs, reads and responds as it does on the web (issue #29).

Starts JupyterLab on 127.0.0.1 over a temporary copy of `chapters/` (so nothing
it saves touches the repository), with every request off 127.0.0.1 refused, and
for each chapter: runs all cells; fails on an error output, on anything written to
stderr, on text typeset as maths (a `$` amount read as LaTeX), on MyST markup shown
literally, on a chart that draws nothing; then moves every live control (slider,
dropdown) and presses every button, and fails if the output beside it does not
change. Training buttons run under a short budget (`EXPLAINER_BUTTON_SECONDS`).
The at-a-glance test also types a value and checks the recomputed numbers.

Every wait is bounded, and a wait that runs out fails naming the cells JupyterLab
still shows as running (``[*]``), so a stalled cell is a loud failure (issue #10).
"""

from __future__ import annotations

import http.client
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.browser
TOKEN = "explainer-test"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


BUTTON_SECONDS = "3"  # how long a training button may run in this test
CHAPTERS = sorted(p.stem for p in (ROOT / "chapters").glob("*.ipynb"))


def _start_lab(work: Path):
    """Start JupyterLab on a free port; ``(process, url)``, or ``(None, None)`` if it exits."""
    import json
    import os

    port = _free_port()
    # every cell rendered (not windowed), so that the checks see the whole notebook
    tracker = work / "settings" / "@jupyterlab" / "notebook-extension" / "tracker.jupyterlab-settings"
    tracker.parent.mkdir(parents=True, exist_ok=True)
    tracker.write_text(json.dumps({"windowingMode": "none"}))
    cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root", "--ip=127.0.0.1",
           f"--port={port}", "--ServerApp.port_retries=0", f"--IdentityProvider.token={TOKEN}",
           f"--ServerApp.root_dir={work / 'chapters'}",
           f"--LabApp.user_settings_dir={work / 'settings'}", f"--LabApp.workspaces_dir={work / 'ws'}",
           "--LabApp.news_url=", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
           # window.jupyterapp: the next chapter opens in the same page (no reload of JupyterLab)
           "--LabApp.expose_app_in_browser=True"]
    env = {**os.environ, "EXPLAINER_BUTTON_SECONDS": BUTTON_SECONDS}
    env.pop("EXPLAINER_BOOK_BUILD", None)
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    url = f"http://127.0.0.1:{port}"
    for _ in range(240):
        if proc.poll() is not None:  # the port was taken meanwhile: the caller tries another
            return None, None
        try:
            urllib.request.urlopen(f"{url}/api/status?token={TOKEN}", timeout=1)
            return proc, url
        except (OSError, http.client.HTTPException):
            # not up yet; HTTPException: something else (a kernel's ZMQ socket) answered on
            # the port before JupyterLab bound it, and Lab will exit (port_retries=0)
            time.sleep(0.5)
    proc.kill()
    pytest.fail(f"JupyterLab did not answer on {url} within 120 s")


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    work = tmp_path_factory.mktemp("lab")
    shutil.copytree(ROOT / "chapters", work / "chapters")
    for _attempt in range(3):  # a free port can be taken (by a kernel) before Lab binds it
        proc, url = _start_lab(work)
        if proc is not None:
            break
    else:
        pytest.fail("JupyterLab did not start on any of 3 free ports")
    yield url
    proc.terminate()
    proc.wait(timeout=30)


def _running_cells(page) -> str:
    """The cells JupyterLab marks as running or queued (``[*]``), with their first line."""
    found = []
    cells = page.locator(".jp-Notebook .jp-CodeCell")
    for i in range(cells.count()):
        cell = cells.nth(i)
        try:
            prompt = cell.locator(".jp-InputPrompt").first.inner_text(timeout=1_000)
            if "*" in prompt:
                src = cell.locator(".cm-content").first.inner_text(timeout=1_000)
                found.append(f"code cell {i} {prompt.strip()} {src.strip().splitlines()[:1]}")
        except PlaywrightTimeout:  # a cell JupyterLab has not rendered (windowed notebook)
            continue
    return "; ".join(found) or "none shown"


def _wait(page, locator, what: str, timeout_ms: int) -> None:
    """``locator.wait_for``; on time-out, fail naming what was awaited and the running cells."""
    try:
        locator.wait_for(timeout=timeout_ms)
    except PlaywrightTimeout:
        pytest.fail(f"{what} did not appear within {timeout_ms / 1000:.0f} s; "
                    f"cells still running: {_running_cells(page)}")


def _offline_page(browser):
    """A fresh context and page whose requests off 127.0.0.1 are refused and recorded."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    outside: list[str] = []

    def route(r):
        if urlparse(r.request.url).hostname == "127.0.0.1" or r.request.url.startswith(("data:", "blob:")):
            r.continue_()
        else:
            outside.append(r.request.url)
            r.abort()

    context.route("**/*", route)
    return context, context.new_page(), outside


def test_widgets_recompute_live_and_charts_draw_offline(lab, browser):
    context, page, outside = _offline_page(browser)
    try:
        _open_and_run_all(page, lab, "at_a_glance")
        slider = page.locator(".widget-slider").first
        _wait(page, slider, "the ipywidgets slider (Run All Cells)", 120_000)
        status = page.locator(".jp-OutputArea-output pre", has_text="benchmarks differ by at least")
        _wait(page, status.first, "the widget's status line", 60_000)
        assert "10 of 10 benchmarks differ by at least 0.0 points" in status.first.inner_text()
        # the chart inside the widget is drawn by JupyterLab's own Vega renderer
        # (cells are rendered lazily: bring the widget into view first)
        slider.scroll_into_view_if_needed()
        _wait(page, page.locator(".widget-output .vega-embed svg, .widget-output .vega-embed canvas")
              .first, "the chart inside the widget", 60_000)
        readout = slider.locator(".widget-readout")
        readout.click()
        page.keyboard.press("Control+A")
        page.keyboard.type("1.0")
        page.keyboard.press("Enter")
        _wait(page, page.locator(".jp-OutputArea-output pre",
                                 has_text="6 of 10 benchmarks differ by at least 1.0 points"),
              "the recomputed status line after typing 1.0", 60_000)
        assert outside == [], f"requests left 127.0.0.1: {outside}"
    finally:
        context.close()


def _shut_down_kernels(lab: str) -> None:
    """Stop every kernel the test started (each chapter gets a fresh one; idle ones cost CPU)."""
    import json

    with urllib.request.urlopen(f"{lab}/api/sessions?token={TOKEN}", timeout=10) as r:
        sessions = json.load(r)
    for s in sessions:
        req = urllib.request.Request(f"{lab}/api/sessions/{s['id']}?token={TOKEN}", method="DELETE")
        urllib.request.urlopen(req, timeout=30).close()


_KERNEL_READY = """() => {
  if (document.querySelector('.jp-Dialog')) return 'dialog';
  const name = document.querySelector('.jp-NotebookPanel-toolbar .jp-Toolbar-kernelName');
  const ind = document.querySelector('.jp-Notebook-ExecutionIndicator');
  return name && ind && !/No Kernel/.test(name.textContent) && ind.dataset.status === 'idle'
    ? 'idle' : false;
}"""


# In a JupyterLab page already open, with nothing in the way (no dialog): close every
# document (as closing its tab, without the "save changes?" question) and open the chapter.
_OPEN_IN_PLACE = """async path => {
  const app = window.jupyterapp;
  if (!app || document.querySelector('.jp-Dialog')) return false;
  for (const w of [...app.shell.widgets('main')]) {
    if (w.context) w.context.model.dirty = false;
    w.close();
  }
  await app.commands.execute('docmanager:open', {path});
  return true;
}"""


def _open_and_run_all(page, lab: str, chapter: str) -> None:
    """Open ``chapter`` in JupyterLab, in the page if it already holds JupyterLab (a reload
    costs 3-4 s), else loading JupyterLab with a workspace of its own, reset (only this
    notebook open); then Run All Cells from the menu, and wait until every cell has run."""
    if not (page.url.startswith(lab) and page.evaluate(_OPEN_IN_PLACE, f"{chapter}.ipynb")):
        page.goto(f"{lab}/lab/workspaces/{chapter}/tree/{chapter}.ipynb?reset&token={TOKEN}")
    page.wait_for_function("""path => {
        const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;
        return w && w.context && w.context.path === path
            && document.querySelector('.jp-Notebook .jp-Cell');
    }""", arg=f"{chapter}.ipynb", timeout=90_000, polling=100)
    assert page.locator(".jp-NotebookPanel").count() == 1, "another notebook is still open"
    # the kernel is up when the toolbar names it and reports idle (before it starts, the
    # indicator also reads idle, beside "No Kernel"); a JupyterLab that does not know which
    # kernel to start asks in a dialog instead
    ready = page.wait_for_function(_KERNEL_READY, timeout=90_000, polling=100).json_value()
    if ready == "dialog":
        page.locator(".jp-Dialog").get_by_role("button", name="Select").click(timeout=10_000)
        page.wait_for_function(f"() => ({_KERNEL_READY})() === 'idle'", timeout=90_000, polling=100)
    page.locator(".lm-MenuBar-item", has_text="Run").first.click()
    page.get_by_role("menuitem", name="Run All Cells", exact=True).click()
    _wait_until_idle(page, f"{chapter}: Run All Cells", 180_000)


def _wait_until_idle(page, what: str, timeout_ms: int) -> None:
    """Every code cell has run ([n]: prompts, none [*] or blank) and the kernel is idle."""
    try:
        page.wait_for_function("""() => {
            const prompts = [...document.querySelectorAll('.jp-Notebook .jp-CodeCell .jp-InputPrompt')];
            const ind = [...document.querySelectorAll('.jp-Notebook-ExecutionIndicator')];
            return prompts.length > 0 && prompts.every(p => /\\[\\d+\\]/.test(p.textContent))
                && ind.length > 0 && ind.every(i => i.dataset.status === 'idle');
        }""", timeout=timeout_ms, polling=500)
    except PlaywrightTimeout:
        pytest.fail(f"{what} did not finish within {timeout_ms / 1000:.0f} s; "
                    f"cells still running: {_running_cells(page)}")


_READS = """() => {
  const nb = document.querySelector('.jp-Notebook');
  const texts = sel => [...nb.querySelectorAll(sel)].map(e => e.innerText.slice(-400));
  const charts = [...nb.querySelectorAll('.vega-embed')].map(v => {
    const svg = v.querySelector('svg');
    return svg ? svg.querySelectorAll('path, rect, line, circle, text').length
               : (v.querySelector('canvas') ? 1 : 0);
  });
  const md = [...nb.querySelectorAll('.jp-MarkdownOutput, .jp-RenderedHTMLCommon')].map(e => e.innerText).join('\\n');
  return {
    errors: texts('[data-mime-type="application/vnd.jupyter.error"]'),
    stderr: texts('[data-mime-type="application/vnd.jupyter.stderr"]'),
    maths: [...nb.querySelectorAll('mjx-container, .MathJax, .katex, .math')].map(e => {
      const cell = e.closest('.jp-Cell'), all = [...nb.querySelectorAll('.jp-Cell')];
      const around = (e.closest('td, p, li') || e.parentElement).innerText.slice(0, 120);
      return 'cell ' + all.indexOf(cell) + ': ' + around.replace(/\\s+/g, ' ');
    }),
    literal_myst: (md.match(/\\{(term|ref|doc|numref|eq)\\}`[^`]*`|^\\([\\w-]+\\)=$/gm) || []).slice(0, 5),
    charts,
  };
}"""


@pytest.fixture(scope="module")
def lab_page(lab, browser):
    """One JupyterLab page for the chapters a worker opens: ``(page, requests off 127.0.0.1)``."""
    context, page, outside = _offline_page(browser)
    yield page, outside
    context.close()


@pytest.mark.slow
@pytest.mark.timeout(420)  # a page that stops responding (a renderer in a loop) fails, not hangs
@pytest.mark.parametrize("chapter", CHAPTERS)
def test_every_chapter_runs_reads_and_responds_in_jupyterlab(lab, lab_page, chapter):
    page, outside = lab_page
    outside.clear()
    try:
        _open_and_run_all(page, lab, chapter)
        shots = os.environ.get("EXPLAINER_LAB_SHOTS")  # a folder: keep a picture of each chapter
        if shots:
            Path(shots).mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(Path(shots) / f"{chapter}.png"))
        seen = page.evaluate(_READS)
        assert seen["errors"] == [], f"{chapter}: error outputs {seen['errors']}"
        assert seen["stderr"] == [], f"{chapter}: written to stderr {seen['stderr']}"
        assert seen["maths"] == [], f"{chapter}: text typeset as maths {seen['maths']}"
        assert seen["literal_myst"] == [], f"{chapter}: MyST markup shown as text {seen['literal_myst']}"
        assert all(n > 0 for n in seen["charts"]), f"{chapter}: a chart draws nothing {seen['charts']}"
        _move_every_control(page, chapter)
        seen = page.evaluate(_READS)
        assert seen["errors"] == [] and seen["stderr"] == [], (chapter, seen["errors"], seen["stderr"])
        assert outside == [], f"requests left 127.0.0.1: {outside}"
    finally:
        _shut_down_kernels(lab)


# what an output looks like: its HTML and the pixels of its canvases (JupyterLab draws
# charts on a canvas, whose HTML stays the same when the picture changes)
_LOOKS = "o => o.innerHTML + [...o.querySelectorAll('canvas')].map(c => c.toDataURL()).join()"


def _move_every_control(page, chapter: str) -> None:
    """Each live panel (a widget box with an output): move each slider one step, pick another
    option in each dropdown, press each button; the panel's output must change each time."""
    panels = page.locator(".jp-OutputArea-output .widget-vbox:has(> .widget-output)")
    for i in range(panels.count()):
        panel = panels.nth(i)
        panel.scroll_into_view_if_needed()
        out = panel.locator(":scope > .widget-output").last
        controls = [("slider", s) for s in panel.locator(".widget-slider").all()]
        controls += [("dropdown", d) for d in panel.locator(".widget-dropdown select").all()]
        controls += [("button", b) for b in panel.locator(":scope > button.jupyter-button, .widget-hbox > button.jupyter-button").all()]
        has_button = any(kind == "button" for kind, _ in controls)
        for kind, control in controls:
            before = out.evaluate(_LOOKS)
            if kind == "slider":  # type the other end of its range into its readout
                handle = control.locator(".noUi-handle").first
                low, high, now = (float(handle.get_attribute(a)) for a in
                                  ("aria-valuemin", "aria-valuemax", "aria-valuenow"))
                target = low if now != low else high
                control.locator(".widget-readout").click()
                page.keyboard.press("Control+A")
                page.keyboard.type(f"{target:g}")
                page.keyboard.press("Enter")
            elif kind == "dropdown":
                options = control.locator("option").all()
                current = control.evaluate("s => s.selectedIndex")
                control.select_option(index=(current + 1) % len(options))
            else:
                control.click()
            if has_button and kind != "button":
                continue  # a panel with a button recomputes only when it is pressed
            try:
                page.wait_for_function(
                    f"([o, b]) => ({_LOOKS})(o) !== b && !o.querySelector('.jp-OutputArea-output:empty')",
                    arg=[out.element_handle(), before], timeout=60_000, polling=250)
            except PlaywrightTimeout:
                pytest.fail(f"{chapter}: live panel {i}: moving a {kind} changed nothing")
            if kind == "button":
                _wait_until_idle(page, f"{chapter}: live panel {i}'s button", 180_000)
