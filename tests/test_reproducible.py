"""Executing a chapter twice gives the same text outputs.

Each chapter is executed twice here, the way the book build does it (with
`EXPLAINER_BOOK_BUILD=1`), and every text output (streams, text/plain) of the
two runs is compared. Cells run under the book's per-cell timeout
(:data:`explainer.execution.CELL_TIMEOUT`); the root ``conftest.py`` installs the
issue #10 guard, so a stalled cell fails the test naming the cell.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from explainer.execution import CELL_TIMEOUT, installed
from explainer.widgets import BOOK_BUILD_ENV

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "chapters").glob("*.ipynb"))
pytestmark = pytest.mark.slow
_ADDRESS = re.compile(r" at 0x[0-9a-f]+")  # object reprs carry memory addresses


def _texts(nb) -> list[str]:
    """Each cell's text outputs; a stream's chunks joined (the build merges them)."""
    out = []
    for i, cell in enumerate(nb.cells):
        streams: dict[str, str] = {}
        for o in cell.get("outputs", []):
            if o["output_type"] == "stream":
                streams[o["name"]] = streams.get(o["name"], "") + o["text"]
            elif "data" in o and "text/plain" in o["data"]:
                out.append(f"[{i}] {_ADDRESS.sub(' at 0x', o['data']['text/plain'])}")
        out += [f"[{i}] {name}: {text}" for name, text in sorted(streams.items())]
    return out


def _execute(path: Path):
    assert installed() == {"fix": True, "guard": True}, "run under the repository's conftest.py"
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=CELL_TIMEOUT, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    return nb


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_chapter_text_outputs_are_reproducible(path, monkeypatch):
    monkeypatch.setenv(BOOK_BUILD_ENV, "1")
    first = _texts(_execute(path))
    assert first, f"{path.name}: no text outputs to compare"
    assert _texts(_execute(path)) == first
