"""What a reader sees, per chapter, on the built site (issue #22): prints a table.

For every chapter page: visible code lines, raw pandas tables, charts with empty marks,
chart labels clipped or ellipsised at 390 px, and build-talk phrases. Opens the site that
`make book` left in `_build/html` in headless Chromium, offline, at 1280 px and at 390 px.
Optional: `--shots DIR` also saves full-page screenshots (1280 and 390 px, light and dark).

    .venv/bin/python benchmarks/site_audit.py [--shots DIR] [--detail]
"""

from __future__ import annotations

import argparse
import functools
import http.server
import sys
import threading
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from conftest import CHROMIUM, CHROMIUM_ARGS  # noqa: E402
from site_audit import audit_page  # noqa: E402

SITE = ROOT / "_build" / "html"


def chapters() -> list[str]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    return [toc["root"]] + [c["file"] for part in toc["parts"] for c in part["chapters"]]


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--shots", type=Path, help="save screenshots here")
    ap.add_argument("--detail", action="store_true", help="list each finding")
    ap.add_argument("--only", nargs="*", help="chapter names (e.g. costs moe)")
    ap.add_argument("--site", type=Path, default=SITE, help="a built site (default _build/html)")
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_Quiet, directory=str(args.site)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    names = [c for c in chapters() if not args.only or c.split("/")[-1] in args.only]
    names += [f"chapters/{n}" for n in args.only or [] if f"chapters/{n}" not in names]
    print(f"{'chapter':<28}{'code lines':>11}{'raw tables':>11}{'empty charts':>13}"
          f"{'clipped@390':>12}{'build talk':>11}")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        for name in names:
            found = {}
            for width in (1280, 390):
                page = b.new_page(viewport={"width": width, "height": 900})
                page.route("**/*", lambda r: r.continue_() if r.request.url.startswith(
                    (url, "data:", "blob:")) else r.abort())
                page.goto(f"{url}/{name}.html", wait_until="load")
                page.wait_for_timeout(1500)
                found[width] = audit_page(page)
                if args.shots:
                    args.shots.mkdir(parents=True, exist_ok=True)
                    stem = name.split("/")[-1]
                    page.screenshot(path=str(args.shots / f"{stem}-{width}-light.png"), full_page=True)
                    page.evaluate("document.documentElement.dataset.theme = 'dark'")
                    page.wait_for_timeout(800)
                    page.screenshot(path=str(args.shots / f"{stem}-{width}-dark.png"), full_page=True)
                page.close()
            wide, phone = found[1280], found[390]
            empty = sorted(set(wide["empty_charts"]) | set(phone["empty_charts"]))
            print(f"{name.split('/')[-1]:<28}{wide['code_lines']:>11}{wide['raw_tables']:>11}"
                  f"{len(empty):>13}{len(phone['clipped']):>12}{len(wide['build_talk']):>11}")
            if args.detail:
                for e in empty:
                    print("    empty:", e)
                for c in phone["clipped"]:
                    print("    clipped:", c)
                for t in wide["build_talk"]:
                    print("    talk:", t)
        b.close()
    server.shutdown()


if __name__ == "__main__":
    main()
