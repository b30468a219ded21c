"""Repository hygiene: stripped notebooks, table of contents, data provenance."""

import json
import re
from pathlib import Path

import pandas as pd
import pytest
import yaml

from explainer import data

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "chapters").glob("*.ipynb"))
CSVS = sorted(p for p in (ROOT / "data").rglob("*.csv") if p.name != "sources.csv")


def _toc_files():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]]
    for part in toc["parts"]:
        assert part.get("caption") and part.get("numbered"), part
        files += [c["file"] for c in part["chapters"]]
    return files


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.name)
def test_notebooks_are_committed_without_outputs(nb):
    cells = json.loads(nb.read_text())["cells"]
    dirty = [i for i, c in enumerate(cells) if c["cell_type"] == "code" and (c["outputs"] or c["execution_count"])]
    assert not dirty, f"{nb.name}: cells {dirty} carry outputs; strip them before committing"


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.name)
def test_every_notebook_cell_has_a_unique_id(nb):
    """nbformat 4.5 cell ids (a missing id is a warning today and an error in future nbformat)."""
    cells = json.loads(nb.read_text())["cells"]
    ids = [c.get("id") for c in cells]
    assert None not in ids, f"{nb.name}: cells {[i for i, x in enumerate(ids) if x is None]} have no id"
    assert len(set(ids)) == len(ids), f"{nb.name}: duplicate cell ids"


def test_every_chapter_is_in_the_toc_and_every_toc_entry_exists():
    toc = set(_toc_files())
    pages = {str(p.relative_to(ROOT).with_suffix("")) for p in (ROOT / "chapters").glob("*") if p.suffix in {".ipynb", ".md"}}
    assert pages == toc


def test_sources_table_is_well_formed():
    src = pd.read_csv(ROOT / "data" / "sources.csv", keep_default_na=False)
    assert list(src.columns) == ["source_id", "title", "kind", "where", "url"]
    assert src["source_id"].is_unique
    assert src["source_id"].str.fullmatch(r"[a-z0-9_]+").all()
    assert set(src["kind"]) <= {"primary", "secondary", "seed", "derived"}
    assert (src["title"] != "").all() and (src["where"] != "").all()


@pytest.mark.parametrize("csv", CSVS, ids=lambda p: str(p.relative_to(ROOT / "data")))
def test_every_data_row_has_a_source_that_resolves(csv):
    df = pd.read_csv(csv)
    assert "source_id" in df.columns, f"{csv.name} has no source_id column"
    ids = df["source_id"]
    assert ids.notna().all() and (ids.astype(str).str.strip() != "").all(), f"{csv.name}: empty source_id"
    known = set(data.load_sources().index)
    used = {s.strip() for v in ids.astype(str) for s in v.split(";")}
    assert used <= known, f"{csv.name}: unknown source_id {sorted(used - known)}"


def test_every_data_file_is_documented_in_the_data_readme():
    readme = (ROOT / "data" / "README.md").read_text()
    for p in CSVS + sorted((ROOT / "data").rglob("*.json")):
        rel = p.relative_to(ROOT / "data")
        folder = f"{rel.parent}/" if rel.parent != Path(".") else None
        assert str(rel) in readme or (folder and folder in readme), f"data/README.md does not mention {rel}"


def test_read_csv_refuses_unknown_sources(tmp_path, monkeypatch):
    (tmp_path / "sources.csv").write_text("source_id,title,kind,where,url\na,A,primary,x,\n")
    (tmp_path / "t.csv").write_text("v,source_id\n1,a\n2,b\n")
    monkeypatch.setattr(data, "DATA_DIR", tmp_path)
    data.load_sources.cache_clear()
    try:
        with pytest.raises(ValueError, match=r"source_id not in sources.csv: \['b'\]"):
            data.read_csv("t.csv")
    finally:
        data.load_sources.cache_clear()


def test_no_cdn_in_the_library_or_chapters():
    pattern = re.compile(r"cdn\.jsdelivr|unpkg\.com|cdnjs")
    for p in [*ROOT.glob("src/explainer/*.py"), *NOTEBOOKS, ROOT / "_config.yml"]:
        assert not pattern.search(p.read_text()), p


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.name)
def test_money_in_chapter_prose_is_not_typeset_as_maths(nb):
    """JupyterLab reads ``$…$`` in a Markdown cell as maths (issue #29): dollars are written
    ``\\$`` (the book renders it as ``$``); code spans and fenced code are left alone."""
    from explainer.text import escape_dollars

    for i, cell in enumerate(json.loads(nb.read_text())["cells"]):
        if cell["cell_type"] != "markdown":
            continue
        src = "".join(cell["source"])
        parts = src.split("```")
        bare = [p for p in parts[::2] if escape_dollars(p) != p]
        assert not bare, f"{nb.name} cell {i}: a bare $ in {bare[0][:80]!r}"


def test_a_source_url_with_another_scheme_is_refused(tmp_path, monkeypatch):
    """A ``javascript:`` address in sources.csv would become a live link in the ledger."""
    src = (ROOT / "data" / "sources.csv").read_text()
    hostile = src + 'evil,Evil,secondary,nowhere,javascript:alert(1)\n'
    (tmp_path / "sources.csv").write_text(hostile)
    monkeypatch.setattr(data, "data_path", lambda *parts: tmp_path.joinpath(*parts))
    data.load_sources.cache_clear()
    try:
        with pytest.raises(ValueError, match=r"url must be empty or start with http"):
            data.load_sources()
    finally:
        data.load_sources.cache_clear()
