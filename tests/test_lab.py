"""JupyterLab: a chapter's live widgets recompute, and charts draw offline.

Starts JupyterLab on 127.0.0.1 over a temporary copy of `chapters/` (so nothing
it saves touches the repository), opens the at-a-glance chapter in headless
Chromium with every request off 127.0.0.1 refused, runs all cells, then types
a new value into the ipywidgets slider and checks that Python recomputed the
table and redrew the chart.

Every wait is bounded, and a wait that runs out fails naming the cells JupyterLab
still shows as running (``[*]``), so a stalled cell is a loud failure (issue #10).
"""

from __future__ import annotations

import http.client
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


def _start_lab(work: Path):
    """Start JupyterLab on a free port; ``(process, url)``, or ``(None, None)`` if it exits."""
    port = _free_port()
    cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root", "--ip=127.0.0.1",
           f"--port={port}", "--ServerApp.port_retries=0", f"--IdentityProvider.token={TOKEN}",
           f"--ServerApp.root_dir={work / 'chapters'}",
           f"--LabApp.user_settings_dir={work / 'settings'}", f"--LabApp.workspaces_dir={work / 'ws'}",
           "--LabApp.news_url=", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
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


def test_widgets_recompute_live_and_charts_draw_offline(lab, browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    outside = []

    def route(r):
        if urlparse(r.request.url).hostname == "127.0.0.1" or r.request.url.startswith(("data:", "blob:")):
            r.continue_()
        else:
            outside.append(r.request.url)
            r.abort()

    context.route("**/*", route)
    page = context.new_page()
    try:
        page.goto(f"{lab}/lab/tree/at_a_glance.ipynb?token={TOKEN}")
        page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=90_000)
        select_kernel = page.locator(".jp-Dialog").get_by_role("button", name="Select")
        try:  # a fresh JupyterLab may ask which kernel to start
            select_kernel.click(timeout=10_000)
        except Exception:
            pass
        page.locator(".lm-MenuBar-item", has_text="Run").first.click()
        page.get_by_role("menuitem", name="Run All Cells", exact=True).click()
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
