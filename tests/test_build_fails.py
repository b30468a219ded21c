"""The build fails loudly: a raising cell or a broken reference exits non-zero.

Each test copies the book's real `_config.yml` into a temporary folder with a
minimal table of contents, plants one fault, and runs `jupyter-book build` with
the flags the Makefile uses. A clean copy must build, so the failures are due to
the planted faults and nothing else.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


def _make_setting(name: str) -> str:
    """A setting as written in the Makefile (single source of truth)."""
    m = re.search(rf"^{name} \??:?= (.+)$", (ROOT / "Makefile").read_text(), re.M)
    assert m, f"Makefile has no {name} line"
    return m.group(1).strip()


def _make_flags() -> list[str]:
    return _make_setting("JB_FLAGS").split()


# `make book` reads (and executes) chapters in parallel Sphinx workers; so does every build
# here (more than 5 documents, or Sphinx reads serially), so a fault in a worker must fail it
EXTRA_PAGES = 5


def _book(tmp_path: Path, chapter_cells: list, page_md: str = "# Notes\n\nPlain text.\n") -> Path:
    book = tmp_path / "book"
    (book / "chapters").mkdir(parents=True)
    shutil.copy(ROOT / "_config.yml", book / "_config.yml")
    extra = "".join(f"      - file: chapters/extra{i}\n" for i in range(EXTRA_PAGES))
    (book / "_toc.yml").write_text(
        "format: jb-book\nroot: chapters/intro\nparts:\n  - caption: Test\n    numbered: true\n"
        "    chapters:\n      - file: chapters/page\n      - file: chapters/nb\n" + extra
    )
    (book / "chapters" / "intro.md").write_text("# Intro\n\nA test book.\n")
    for i in range(EXTRA_PAGES):
        (book / "chapters" / f"extra{i}.md").write_text(f"# Extra {i}\n\nMore text.\n")
    (book / "chapters" / "page.md").write_text(page_md)
    nb = nbformat.v4.new_notebook(cells=chapter_cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, book / "chapters" / "nb.ipynb")
    return book


def _build(book: Path) -> subprocess.CompletedProcess:
    """`make book`'s command (the Makefile's JB, with its BOOK_JOBS) on ``book``."""
    jobs = _make_setting("BOOK_JOBS")
    assert _make_setting("JB") == "$(PY) scripts/jupyter_book_jobs.py $(BOOK_JOBS)"
    cmd = [sys.executable, str(ROOT / "scripts" / "jupyter_book_jobs.py"), jobs, "build", str(book)]
    result = subprocess.run(cmd + _make_flags(), capture_output=True, text=True, timeout=600)
    assert "doing serial read" not in result.stdout + result.stderr, "the build did not run in parallel"
    return result


def _cells(*sources):
    return [nbformat.v4.new_markdown_cell("# Chapter")] + [nbformat.v4.new_code_cell(s) for s in sources]


def test_clean_copy_builds(tmp_path):
    book = _book(tmp_path, _cells("import explainer.charts\nprint(6 * 37e9 * 14.8e12)"),
                 page_md="# Notes\n\nSee [the chapter](nb.ipynb).\n")
    result = _build(book)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    html = (book / "_build" / "html" / "chapters" / "nb.html").read_text()
    assert "3.2856e+24" in html  # the cell really was executed


def test_a_raising_cell_fails_the_build(tmp_path):
    book = _book(tmp_path, _cells("x = 1", "raise RuntimeError('planted failure')"))
    result = _build(book)
    log = result.stdout + result.stderr
    assert result.returncode != 0
    assert "planted failure" in log


def test_a_broken_reference_fails_the_build(tmp_path):
    book = _book(tmp_path, _cells("x = 1"), page_md="# Notes\n\nSee [a missing chapter](missing.ipynb).\n")
    result = _build(book)
    log = result.stdout + result.stderr
    assert result.returncode != 0
    assert "missing.ipynb" in log


def test_stderr_output_fails_the_build(tmp_path):
    book = _book(tmp_path, _cells("import warnings\nwarnings.warn('planted warning')"))
    result = _build(book)
    assert result.returncode != 0
    assert "stderr was found in the cell outputs" in result.stdout + result.stderr
