"""Executing a chapter again gives the same text as the book build did.

Each chapter is executed once here, the way the book build does it (with
`EXPLAINER_BOOK_BUILD=1`), and every text a reader can see (streams, text/plain,
text/markdown and text/html outputs: the sentences, tables and charts) is compared with
the outputs the book build stored in ``_build/jupyter_execute/``. So every chapter is
executed twice in all, once by the build and once here, and compared in full.

Cells run under the book's per-cell timeout (:data:`explainer.execution.CELL_TIMEOUT`);
the root ``conftest.py`` installs the issue #10 guard, so a stalled cell fails the test
naming the cell. Needs the built book (``make book``; the ``built_site`` fixture builds it).
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
STORED = ROOT / "_build" / "jupyter_execute" / "chapters"
pytestmark = [pytest.mark.slow, pytest.mark.built]
_ADDRESS = re.compile(r" at 0x[0-9a-f]+")  # object reprs carry memory addresses
_SHOWN = ("text/plain", "text/markdown", "text/html")


def _texts(nb) -> list[str]:
    """Each cell's reader-visible text outputs; a stream's chunks joined (the build merges them)."""
    out = []
    for i, cell in enumerate(nb.cells):
        if cell.get("cell_type") != "code":
            continue
        streams: dict[str, str] = {}
        for o in cell.get("outputs", []):
            if o["output_type"] == "stream":
                streams[o["name"]] = streams.get(o["name"], "") + o["text"]
            elif "data" in o:
                for mime in _SHOWN:
                    if mime in o["data"]:
                        text = o["data"][mime]
                        text = "".join(text) if isinstance(text, list) else text
                        out.append(f"[{i}] {mime}: {_ADDRESS.sub(' at 0x', text)}")
        out += [f"[{i}] {name}: {text}" for name, text in sorted(streams.items())]
    return out


def _execute(path: Path):
    assert installed() == {"fix": True, "guard": True, "ipc": True}, "run under the repository's conftest.py"
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=CELL_TIMEOUT, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    return nb


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_chapter_text_outputs_are_reproducible(path, monkeypatch, built_site):
    stored_path = STORED / path.name
    assert stored_path.exists(), f"the book build stored no executed copy of {path.name}"
    stored = nbformat.read(stored_path, as_version=4)
    want = _texts(stored)
    assert want, f"{path.name}: no text outputs to compare"
    monkeypatch.setenv(BOOK_BUILD_ENV, "1")
    got = _texts(_execute(path))
    assert len(got) == len(want), f"{path.name}: {len(got)} outputs now, {len(want)} in the build"
    for g, w in zip(got, want):
        assert g == w, f"{path.name}: an output differs from the book build's"
