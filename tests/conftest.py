"""Shared fixtures: repository paths, the built site, a local server, headless Chromium."""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import subprocess
import threading
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SITE = ROOT / "_build" / "html"
CHROMIUM = "/usr/bin/chromium"
# flags that keep Chromium from calling home on a closed network
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


@pytest.fixture(scope="session")
def built_site() -> Path:
    """The built book; built with `make book` if it is not there yet (once, when the
    browser tests run in parallel workers: the first to take the lock builds it)."""
    with _lock("book"):
        if not (SITE / "chapters" / "intro.html").exists():
            subprocess.run(["make", "book"], cwd=ROOT, check=True)
    return SITE


def _lock(name: str):
    """A lock shared by pytest-xdist workers (and concurrent runs) on one checkout."""
    from filelock import FileLock

    (ROOT / ".cache").mkdir(exist_ok=True)
    return FileLock(str(ROOT / ".cache" / f"{name}.lock"))


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep pytest output clean
        pass


class _QuietServer(http.server.ThreadingHTTPServer):
    def handle_error(self, request, client_address):  # a page closed mid-download: not news
        pass


@pytest.fixture(scope="session")
def site_url(built_site: Path):
    """Serve the built site on 127.0.0.1 (only) on a free port."""
    handler = functools.partial(_QuietHandler, directory=str(built_site))
    server = _QuietServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def _ensure_chromium() -> None:
    """Install Debian's chromium with apt when it is missing."""
    if Path(CHROMIUM).exists():
        return
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run([*sudo, "apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run([*sudo, "apt-get", "install", "-y", "-qq", "chromium"], check=True, env=env)
    assert shutil.which(CHROMIUM), "apt-get installed chromium but /usr/bin/chromium is missing"


AXE_VERSION = "4.14.1"  # axe-core from npm, installed under .cache/ by the test setup
AXE_DIR = ROOT / ".cache" / "npm"


@pytest.fixture(scope="session")
def axe_js() -> str:
    """axe-core's browser bundle, installed from the npm registry on first use."""
    path = AXE_DIR / "node_modules" / "axe-core" / "axe.min.js"
    with _lock("npm-axe"):
        if not path.exists():
            AXE_DIR.mkdir(parents=True, exist_ok=True)
            subprocess.run(["npm", "install", "--prefix", str(AXE_DIR), "--no-save", "--no-audit",
                            "--no-fund", f"axe-core@{AXE_VERSION}"], check=True)
    return path.read_text()


@pytest.fixture(scope="session")
def browser():
    """Headless Debian Chromium driven by Playwright (never `playwright install`)."""
    from playwright.sync_api import sync_playwright

    with _lock("chromium"):
        _ensure_chromium()
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()
