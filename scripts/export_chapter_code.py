"""Write every chapter's code cells to plain .py files, so tools that read code can see them.

    python scripts/export_chapter_code.py [OUT_DIR]     # default: _build/chapter_code/

One file per notebook (``chapters/moe.ipynb`` -> ``OUT_DIR/moe.py``), each cell preceded by a
``# %% [cell N]`` marker. Used with the ``duplicates`` tool and ruff (CONTRIBUTING.md, "Checks");
the chapters themselves stay ``.ipynb`` (decision recorded in CONTRIBUTING.md).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def export(out_dir: Path) -> list[Path]:
    """Export each chapter's code cells to ``out_dir``; returns the files written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for nb_path in sorted((ROOT / "chapters").glob("*.ipynb")):
        cells = json.loads(nb_path.read_text())["cells"]
        chunks = [f"# %% [cell {i}]\n{''.join(c['source']).rstrip()}\n"
                  for i, c in enumerate(cells) if c["cell_type"] == "code"]
        target = out_dir / f"{nb_path.stem}.py"
        target.write_text(f"# code cells of chapters/{nb_path.name}\n\n" + "\n".join(chunks))
        written.append(target)
    return written


if __name__ == "__main__":
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "_build" / "chapter_code"
    for path in export(out):
        print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)
