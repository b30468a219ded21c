"""Book benchmarks: build and test times, and the size of the built site.

Prints figures; asserts nothing. Run from the repository root (`make bench`
runs it). Measures, in one run and in this order:

1. cold full build (`make book`: doctrees and outputs removed, every notebook executed);
2. `pytest --nbmake chapters/`;
3. cached rebuild (`make book-quick` twice: the first fills the jupyter-cache, the
   second is the timed one, with nothing changed);
4. total bytes of `_build/html`, of the vendored JS, and the largest page.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SITE = ROOT / "_build" / "html"


def _timed(cmd: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, cwd=ROOT, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t0


def main() -> None:
    py = sys.executable
    cold = _timed(["make", "book"])
    nbmake = _timed([py, "-m", "pytest", "-q", "--nbmake", "--nbmake-timeout=300", "chapters"])
    _timed(["make", "book-quick"])  # fill the cache
    cached = _timed(["make", "book-quick"])
    subprocess.run(["make", "book"], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)  # leave a full build

    pages = sorted(SITE.rglob("*.html"), key=lambda p: p.stat().st_size)
    total = sum(p.stat().st_size for p in SITE.rglob("*") if p.is_file())
    vendored = sum((SITE / "_static" / n).stat().st_size for n in ("vega.min.js", "vega-lite.min.js", "vega-embed.min.js"))
    n_notebooks = len(list((ROOT / "chapters").glob("*.ipynb")))
    print(f"notebooks                    {n_notebooks}")
    print(f"cold full build (make book)  {cold:7.1f} s")
    print(f"pytest --nbmake chapters/    {nbmake:7.1f} s")
    print(f"cached rebuild (book-quick)  {cached:7.1f} s   ({cold / cached:.1f}x faster than cold)")
    print(f"built site, all files        {total / 1e6:7.2f} MB ({len(pages)} HTML pages)")
    print(f"vendored vega JS             {vendored / 1e6:7.2f} MB (loaded once, cached by the browser)")
    print(f"largest page                 {pages[-1].stat().st_size / 1e3:7.1f} KB ({pages[-1].relative_to(SITE)})")
    print(f"median page                  {pages[len(pages) // 2].stat().st_size / 1e3:7.1f} KB")


if __name__ == "__main__":
    main()
