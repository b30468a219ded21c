"""Build a few chapters only, into their own folder, for a quick look (not the book).

    .venv/bin/python scripts/build_some.py costs at_a_glance          # -> _build/some-costs/html
    .venv/bin/python benchmarks/site_audit.py --site _build/some-costs/html --only costs at_a_glance

The partial book holds the intro, the named chapters, the glossary and "How this book was
made" (so term links resolve); links to other chapters do not, so it builds without -W.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def main(names: list[str]) -> None:
    if not names:
        sys.exit("usage: build_some.py CHAPTER [CHAPTER ...]")
    for n in names:
        if not (ROOT / "chapters" / f"{n}.ipynb").exists() and not (ROOT / "chapters" / f"{n}.md").exists():
            sys.exit(f"no chapter named {n!r} in chapters/")
    out = ROOT / "_build" / f"some-{names[0]}"
    out.mkdir(parents=True, exist_ok=True)
    toc = {"format": "jb-book", "root": "chapters/intro", "parts": [{"caption": "Some", "numbered": True,
           "chapters": [{"file": f"chapters/{n}"} for n in names]
           + [{"file": "chapters/glossary"}, {"file": "chapters/how_made"}]}]}
    toc_path = out / "_toc.yml"
    toc_path.write_text(yaml.safe_dump(toc, sort_keys=False))
    jb = ROOT / ".venv" / "bin" / "jupyter-book"
    subprocess.run([str(jb), "build", str(ROOT), "--toc", str(toc_path), "--path-output", str(out)],
                   cwd=ROOT, check=True)
    print(f"Built: {out / '_build' / 'html'}")


if __name__ == "__main__":
    main(sys.argv[1:])
