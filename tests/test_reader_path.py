"""The reader's path (issue #17): glossary terms, teaching order, and how chapters end.

Definitions the tests below rely on:

* **Prose** is the Markdown of a page (``.md`` files, and the Markdown cells of notebooks, in
  order) without headings, code (fenced blocks and inline code spans), links (their text and
  address), raw HTML blocks (the primer's diagrams), MyST comments and directive fence lines.
  Text printed by code cells is not prose: it is computed, not written.
* A page **uses** a glossary term where the term occurs in its prose as a whole word, in any
  case, with an optional plural ``s``/``es``, a space and a hyphen counting as the same
  ("KV cache" = "KV-cache"), and the longest term winning where two overlap ("Multi-head Latent
  Attention" is not also a use of "attention"). Terms with a qualifier in parentheses, such as
  "advantage (RL)", are ordinary English words elsewhere in the book: they are linked by hand and
  not matched.
* A page **links** a term with MyST's ``{term}`` role; a use inside a link is not counted again.
* A chapter **introduces** a term when the term's glossary entry says "Introduced in [...](page)"
  naming that chapter, and the chapter links the term. Most terms are introduced together by the
  primer; a technique chapter introduces the terms of its own technique. A term without an
  "Introduced in" line is defined only in the glossary (the appendix).

The tests: every page links each term at its first use; no chapter uses a term before the
chapter that introduces it (in table-of-contents order; the root page, which every reader sees
first and which links each term it uses, is exempt); every chapter ends with "What to take
away" (three to five sentences) and "Read further", whose addresses all come from
``data/sources.csv``. That the built index lists the terms is a property of the build, checked
in the browser test.
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import pandas as pd
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
GLOSSARY_DOC = "chapters/glossary"
# reference pages: they define or describe, and need no takeaways
REFERENCE_DOCS = {"chapters/intro", GLOSSARY_DOC, "chapters/how_made"}
# chapters whose owners are still moving them to the chapter pattern (issue #9); their term
# links and endings are added after that lands. Remove a chapter from here once it has them.
PENDING: set[str] = set()


# ----------------------------------------------------------------------------- pages
def toc_docs() -> list[str]:
    """Every page in table-of-contents order, the root first ("chapters/intro", ...)."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    return [toc["root"]] + [c["file"] for part in toc["parts"] for c in part["chapters"]]


def doc_path(doc: str) -> Path:
    """The file of a page (``.md`` or ``.ipynb``)."""
    for suffix in (".md", ".ipynb"):
        if (p := ROOT / f"{doc}{suffix}").exists():
            return p
    raise FileNotFoundError(doc)


def markdown_of(doc: str) -> list[str]:
    """The page's Markdown: the whole file, or each Markdown cell in order."""
    p = doc_path(doc)
    if p.suffix == ".md":
        return [p.read_text(encoding="utf-8")]
    cells = json.loads(p.read_text(encoding="utf-8"))["cells"]
    return ["".join(c["source"]) for c in cells if c["cell_type"] == "markdown"]


_FENCE = re.compile(r"^\s*(`{3,}|~{3,}|:{3,})(.*)$")
_ROLE_TERM = re.compile(r"\{term\}`([^`]*)`")
_ROLE_OTHER = re.compile(r"\{[a-z-]+\}`[^`]*`")
_CODE_SPAN = re.compile(r"(`+)(.+?)\1", re.S)
_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_AUTOLINK = re.compile(r"<https?://[^>]+>")
TERM_MARK = "\x00"  # a linked term in cleaned prose: \x00<target>\x00


def clean_prose(markdown: str) -> str:
    """Prose of one Markdown block (see the module docstring), with ``{term}`` roles kept as
    ``\\x00target\\x00`` markers and everything ignored blanked out."""
    out, fence, html = [], None, False
    for line in markdown.splitlines():
        m = _FENCE.match(line)
        if fence:
            if m and m.group(1)[0] == fence[0][0] and len(m.group(1)) >= len(fence[0]) \
                    and not m.group(2).strip():
                fence = None
            elif not fence[1]:  # inside a directive: its text is prose, its options are not
                if not line.lstrip().startswith(":"):
                    out.append(line)
            continue
        if m:
            info = m.group(2).strip()
            fence = (m.group(1), bool(info) and not info.startswith("{"))
            continue
        stripped = line.strip()
        if html:
            html = bool(stripped)
            continue
        if stripped.startswith("<") and not stripped.startswith("<http"):
            html = True
            continue
        if stripped.startswith(("#", "%")):
            continue
        out.append(line)
    text = "\n".join(out)

    def mark(match: re.Match) -> str:
        inner = match.group(1)
        target = re.search(r"<([^<>]+)>\s*$", inner)
        return f" {TERM_MARK}{(target.group(1) if target else inner).strip()}{TERM_MARK} "

    text = _ROLE_TERM.sub(mark, text)
    text = _ROLE_OTHER.sub(" ", text)
    text = _CODE_SPAN.sub(" ", text)
    text = _LINK.sub(" ", text)
    return _AUTOLINK.sub(" ", text)


# ----------------------------------------------------------------------------- glossary
@dataclass
class Entry:
    """One glossary entry: its term lines, its definition, and the page that introduces it."""

    terms: list[str]
    definition: str = ""
    introducer: str | None = None
    patterns: list[re.Pattern] = field(default_factory=list)


def _pattern(term: str) -> re.Pattern | None:
    """Whole-word, case-insensitive pattern of a term; ``None`` for qualified terms."""
    if re.search(r"\(.*\)\s*$", term):
        return None
    words = [re.escape(w) for w in re.split(r"[\s-]+", term.strip()) if w]
    body = r"[\s-]+".join(words)
    return re.compile(rf"(?<![\w-]){body}(?:e?s)?(?![\w-])", re.I)


@cache
def glossary() -> tuple[Entry, ...]:
    """The entries of the ``{glossary}`` directive in chapters/glossary.md."""
    text = doc_path(GLOSSARY_DOC).read_text(encoding="utf-8")
    block = re.search(r"^```\{glossary\}\n(.*?)^```", text, re.S | re.M)
    assert block, "chapters/glossary.md has no ```{glossary} block"
    entries: list[Entry] = []
    current: Entry | None = None
    for line in block.group(1).splitlines():
        if not line.strip() or line.startswith(":"):
            continue
        if line[0].isspace():
            assert current is not None, f"definition before any term: {line!r}"
            current.definition += " " + line.strip()
        elif current is not None and not current.definition:
            current.terms.append(line.strip())
        else:
            current = Entry(terms=[line.strip()])
            entries.append(current)
    for e in entries:
        m = re.search(r"Introduced in \[[^\]]*\]\(([^)#\s]+)", e.definition)
        if m:
            e.introducer = "chapters/" + Path(m.group(1)).with_suffix("").as_posix()
        e.patterns = [p for p in map(_pattern, e.terms) if p is not None]
    return tuple(entries)


def entry_of(term: str) -> Entry | None:
    """The entry a ``{term}`` target names (Sphinx matches terms case-insensitively)."""
    for e in glossary():
        if term.strip().lower() in (t.lower() for t in e.terms):
            return e
    return None


def term_events(doc: str) -> list[tuple[int, str, bool]]:
    """Every use of a glossary term in a page's prose, in order: (entry index, text, linked)."""
    return _term_events(ROOT, doc)


@cache
def _term_events(root: Path, doc: str) -> list[tuple[int, str, bool]]:
    entries = glossary()
    events = []
    for block in markdown_of(doc):
        text = clean_prose(block)
        hits = []  # (start, end, entry index, linked, text)
        for m in re.finditer(rf"{TERM_MARK}([^{TERM_MARK}]*){TERM_MARK}", text):
            e = entry_of(m.group(1))
            hits.append((m.start(), m.end(), entries.index(e) if e else -1, True, m.group(1)))
        plain = re.sub(rf"{TERM_MARK}[^{TERM_MARK}]*{TERM_MARK}",
                       lambda m: " " * len(m.group(0)), text)
        for i, e in enumerate(entries):
            for p in e.patterns:
                hits += [(m.start(), m.end(), i, False, m.group(0)) for m in p.finditer(plain)]
        hits.sort(key=lambda h: (h[0], -(h[1] - h[0])))
        end = -1
        for start, stop, i, linked, s in hits:
            if start >= end:
                events.append((i, s, linked))
                end = stop
    return events


# ----------------------------------------------------------------------------- tests
PAGES = [d for d in toc_docs() if d != GLOSSARY_DOC]
CHAPTERS = [d for d in toc_docs() if d not in REFERENCE_DOCS]


def test_glossary_parses_and_each_introducer_is_a_page_in_the_book():
    entries = glossary()
    assert len(entries) >= 40
    terms = [t.lower() for e in entries for t in e.terms]
    assert len(terms) == len(set(terms)), "a term appears twice in the glossary"
    docs = toc_docs()
    for e in entries:
        assert e.definition.strip(), e.terms
        assert e.introducer is None or e.introducer in docs, (e.terms, e.introducer)


@pytest.mark.parametrize("doc", PAGES)
def test_every_term_link_names_a_glossary_term(doc):
    unknown = [s for i, s, linked in term_events(doc) if linked and i < 0]
    assert not unknown, f"{doc}: {{term}} links to terms the glossary lacks: {unknown}"


@pytest.mark.parametrize("doc", PAGES)
def test_each_term_is_linked_at_its_first_use(doc):
    if doc in PENDING:
        pytest.skip(f"{doc} is being migrated; its term links come after")
    entries, seen, late = glossary(), set(), []
    for i, s, linked in term_events(doc):
        if i < 0 or i in seen:
            continue
        seen.add(i)
        if not linked:
            late.append(f"{s!r} ({entries[i].terms[0]})")
    assert not late, f"{doc} uses these terms before linking them: {late}"


@pytest.mark.parametrize("doc", [d for d in toc_docs()[1:] if d != GLOSSARY_DOC])
def test_no_chapter_uses_a_term_before_the_chapter_that_introduces_it(doc):
    if doc in PENDING:
        pytest.skip(f"{doc} is being migrated; its term links come after")
    docs, entries = toc_docs(), glossary()
    here = docs.index(doc)
    early = []
    for i in sorted({i for i, _, _ in term_events(doc) if i >= 0}):
        intro = entries[i].introducer or GLOSSARY_DOC
        if docs.index(intro) > here:
            early.append(f"{entries[i].terms[0]} (introduced in {intro})")
    assert not early, f"{doc} uses terms introduced only later: {early}"


def test_each_introducer_links_the_terms_it_introduces():
    entries = glossary()
    missing = []
    for i, e in enumerate(entries):
        if e.introducer and e.introducer not in PENDING and \
                not any(j == i and linked for j, _, linked in term_events(e.introducer)):
            missing.append(f"{e.terms[0]} ({e.introducer})")
    assert not missing, f"these chapters do not link the terms they introduce: {missing}"


def _sections(doc: str) -> list[tuple[str, str]]:
    """(level-2 heading, the Markdown under it up to the next level-2 heading), in order."""
    text = "\n".join(markdown_of(doc))
    parts = re.split(r"^## +(.+)$", text, flags=re.M)
    return list(zip(parts[1::2], parts[2::2]))


@pytest.mark.parametrize("doc", CHAPTERS)
def test_each_chapter_ends_with_takeaways_and_further_reading(doc):
    if doc in PENDING:
        pytest.skip(f"{doc} is being migrated; its ending comes after")
    heads = [h.strip() for h, _ in _sections(doc)]
    tail = [h for h in heads if h != "What the articles said"][-2:]
    assert tail == ["What to take away", "Read further"], f"{doc} ends with {heads[-3:]}"
    takeaway = dict(_sections(doc))["What to take away"]
    sentences = re.findall(r"[^.!?]+[.!?](?=\s|$)", clean_prose(takeaway))
    assert 3 <= len(sentences) <= 5, f"{doc}: 'What to take away' has {len(sentences)} sentences"


@pytest.mark.parametrize("doc", CHAPTERS)
def test_further_reading_cites_sources_from_the_data(doc):
    sections = dict(_sections(doc))
    if "Read further" not in sections:
        pytest.skip(f"{doc} has no 'Read further' section yet")
    urls = re.findall(r"\]\((https?://[^)\s]+)\)", sections["Read further"])
    known = set(pd.read_csv(ROOT / "data" / "sources.csv", keep_default_na=False)["url"])
    assert urls, f"{doc}: 'Read further' lists no links"
    assert set(urls) <= known, f"{doc}: addresses not in data/sources.csv: {set(urls) - known}"


# ----------------------------------------------------------------------------- the matcher
def test_matcher_on_a_hand_made_page(tmp_path, monkeypatch):
    """The rules of the module docstring, on prose whose answer is known."""
    text = ("A {term}`token <token>` is `token` code; [token](x.md) is a link.\n\n"
            "## Tokens in a heading\n\nTokens again. The KV-cache grows. "
            "Multi-head Latent Attention is not plain attention.\n\n"
            "```python\nGPU = 1\n```\n\n<figure>\nGPU\n</figure>\n")
    page = tmp_path / "chapters" / "fake.md"
    page.parent.mkdir()
    page.write_text(text)
    entries = glossary()  # read from the repository before ROOT moves
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    names = [(entries[i].terms[0], linked) for i, _, linked in term_events("chapters/fake")]
    assert names == [("token", True), ("token", False), ("KV cache", False),
                     ("MLA", False), ("attention", False)]


def test_show_claims_folds_the_rows_into_a_closed_section(monkeypatch):
    import IPython.display

    from explainer.claims import CHAPTERS, load_claims
    from explainer.ledger_html import show_claims

    shown = []
    monkeypatch.setattr(IPython.display, "display", lambda obj: shown.append(obj.data))
    ledger = load_claims(check_seeds=False)
    chapter = ledger["chapter"].value_counts().index[0]
    assert chapter in CHAPTERS
    show_claims(chapter, ledger)
    show_claims(chapter, ledger, collapsed=False)
    folded, open_ = shown
    n = int((ledger["chapter"] == chapter).sum())
    assert folded.startswith('<details class="claims-details"><summary>')
    assert "<details open" not in folded and f"{n} claims from the articles" in folded
    assert folded.count('class="claim-row"') == open_.count('class="claim-row"') == n
    assert "<details" not in open_
