"""The PDF edition (issue #28): printed from the built site, every chapter, no blank page."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.browser
_FOOTER = re.compile(r"Cheaper by design · \d+ / \d+")


@pytest.fixture(scope="module")
def pdf(built_site):
    """The PDF of this build, printed once per build (the tests may run on several pytest
    workers: the first prints it under a lock, the others read it)."""
    from filelock import FileLock

    out = ROOT / "_build" / "pdf-test" / "book.pdf"
    out.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(out.parent / "print.lock")):
        if not out.exists() or out.stat().st_mtime < (built_site / "index.html").stat().st_mtime:
            subprocess.run([sys.executable, str(ROOT / "scripts" / "make_pdf.py"), "--site",
                            str(built_site), "--out", str(out)], check=True, cwd=ROOT)
    from pypdf import PdfReader

    return PdfReader(str(out))


def test_every_chapter_is_in_the_pdf_in_book_order(pdf, built_site):
    sys.path.insert(0, str(ROOT / "scripts"))
    from make_pdf import chapters

    pages = [" ".join((p.extract_text() or "").split()) for p in pdf.pages]
    at = 2  # after the title page and the contents
    for name in chapters():
        html = (built_site / f"{name}.html").read_text()
        title = re.search(r"<h1>(.*?)</h1>", html, re.S)
        assert title, f"{name}: no title in the built page"
        inner = re.sub(r'<a class="headerlink".*?</a>', "", title.group(1), flags=re.S)
        heading = " ".join(__import__("html").unescape(re.sub(r"<[^>]+>", "", inner)).split())
        assert any(heading in p for p in pages), f"chapter title {heading!r} is not in the PDF"
        found = next((i for i in range(at, len(pages)) if heading in pages[i]), None)
        assert found is not None, f"{heading!r} does not follow the chapter before it"
        at = found
    assert len(pdf.pages) >= 3 * len(chapters())


def test_no_page_is_blank_and_every_page_is_numbered(pdf):
    total = len(pdf.pages)
    for i, page in enumerate(pdf.pages, start=1):
        text = page.extract_text() or ""
        assert f"{i} / {total}" in text, f"page {i} has no page number"
        body = _FOOTER.sub("", text).strip()
        contents = page.get_contents()
        drawing = len(contents.get_data()) if contents is not None else 0
        assert body or drawing > 5000, f"page {i} is blank"


def test_charts_print_as_vectors_and_controls_say_where_they_live(pdf):
    text = " ".join(p.extract_text() for p in pdf.pages)
    assert "On the web edition these controls move the chart" in text
    images = sum(len(p.images) for p in pdf.pages)
    assert images == 0, f"{images} raster images: charts should print as vectors"
