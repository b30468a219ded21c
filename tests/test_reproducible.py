"""Executing a chapter twice gives the same text outputs.

The book build keeps the notebooks it executed in `_build/jupyter_execute/`;
each chapter is executed once more here, the way the build does it (with
`EXPLAINER_BOOK_BUILD=1`), and every text output is compared with the build's.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from explainer.widgets import BOOK_BUILD_ENV

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "chapters").glob("*.ipynb"))
pytestmark = pytest.mark.browser  # needs the built book (make book), like the browser tests
_ADDRESS = re.compile(r" at 0x[0-9a-f]+")  # object reprs carry memory addresses


def _texts(nb) -> list[str]:
    out = []
    for i, cell in enumerate(nb.cells):
        for o in cell.get("outputs", []):
            if o["output_type"] == "stream":
                out.append(f"[{i}] {o['name']}: {o['text']}")
            elif "data" in o and "text/plain" in o["data"]:
                out.append(f"[{i}] {_ADDRESS.sub(' at 0x', o['data']['text/plain'])}")
    return out


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_chapter_text_outputs_are_reproducible(path, built_site, monkeypatch):
    executed = ROOT / "_build" / "jupyter_execute" / "chapters" / path.name
    assert executed.exists(), f"{executed} missing: build the book first"
    monkeypatch.setenv(BOOK_BUILD_ENV, "1")
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    first = _texts(nbformat.read(executed, as_version=4))
    assert first, f"{path.name}: the build kept no text outputs"
    assert _texts(nb) == first
