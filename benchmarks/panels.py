"""The models in the reader's browser (issue #24): page weight, time to first answer, speed.

For each page with a model panel, in headless Chromium on this machine, offline, against the
site `make book` left in `_build/html`: the bytes the page downloads before any button is
pressed, the bytes a first press adds (runtime + model), the time from the press to the first
answer, and the characters per second of a second, warm press. Prints a table; asserts
nothing. Goals from the issue: first answer within 2 s, at least 200 characters per second
for the reasoner.

    .venv/bin/python benchmarks/panels.py
"""

from __future__ import annotations

import functools
import http.server
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from conftest import CHROMIUM, CHROMIUM_ARGS  # noqa: E402

SITE = ROOT / "_build" / "html"
PANELS = [("reasoning", "reasoner", {"problem": "48765+25937", "samples": "1", "temperature": "0"}),
          ("grpo", "reasoner", {"problem": "48765+25937", "samples": "16", "temperature": "1"}),
          ("moe", "moe", {}),
          ("mtp", "mtp", {"chars": "60"})]


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def main() -> None:
    from playwright.sync_api import sync_playwright

    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_Quiet, directory=str(SITE)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    print(f"{'page':<12}{'panel':<10}{'before press':>14}{'press adds':>12}{'first answer':>14}"
          f"{'warm chars/s':>14}")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        for chapter, kind, fields in PANELS:
            page = browser.new_page()
            sizes: list[int] = []

            def on_response(r, sizes=sizes):
                try:
                    sizes.append(len(r.body()))
                except Exception:  # redirects and aborted requests have no body
                    pass

            page.on("response", on_response)
            page.goto(f"{url}/chapters/{chapter}.html", wait_until="networkidle")
            before = sum(sizes)
            form = page.locator(f'form.explainer-run[data-panel="{kind}"]').first
            for name, value in fields.items():
                form.locator(f"[name={name}]").fill(value)

            def press(n: int) -> float:
                t0 = time.perf_counter()
                form.locator("button[type=submit]").click()
                page.wait_for_function("([f, n]) => Number(f.dataset.runs || 0) >= n",
                                       arg=[form.element_handle(), n], timeout=120_000)
                return time.perf_counter() - t0

            first = press(1)
            page.wait_for_timeout(300)
            added = sum(sizes) - before
            press(2)
            cps = form.evaluate("f => f.dataset.charsPerSecond || ''")
            print(f"{chapter:<12}{kind:<10}{before / 1e6:>11.2f} MB{added / 1e6:>9.2f} MB"
                  f"{first:>12.2f} s{cps:>14}")
            page.close()
        browser.close()
    server.shutdown()


if __name__ == "__main__":
    main()
