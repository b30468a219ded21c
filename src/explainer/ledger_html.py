"""The claims ledger as HTML: the appendix's filterable table and each chapter's summary.

:mod:`explainer.claims` loads and checks ``data/claims.csv``; this module turns it into
markup:

* :func:`ledger_html` -- the whole ledger as one filterable, sortable table for the
  appendix page. Its look and behaviour live in ``static/ledger.css`` and
  ``static/ledger.js``, which the book's Sphinx extension (:mod:`explainer.book`) loads
  on every page; ``standalone=True`` inlines both, for a page without the book around it.
* :func:`chapter_claims_html` / :func:`show_claims` -- the few rows that one chapter
  demonstrates, as a compact static table ("What the articles said").

Nothing here loads anything from the network.
"""

from __future__ import annotations

import html
from pathlib import Path

import pandas as pd

from explainer.claims import CHAPTERS, COLUMNS, LEDGER_PAGE, VERDICT_COLORS, VERDICTS, load_claims
from explainer.claims import seed_label
from explainer.data import load_sources, split_source_ids

__all__ = ["LEDGER_COLUMNS", "STATIC_FILES", "chapter_claims_html", "ledger_html", "show_claims"]

_STATIC = Path(__file__).parent / "static"
# the files explainer.book adds to every page (stylesheet, script)
STATIC_FILES = ("ledger.css", "ledger.js")

# (header, sort key) in table order; the sort key names the cell's data-key
LEDGER_COLUMNS = (
    ("id", "id"),
    ("article", "seed"),
    ("the article said", "quote"),
    ("in plain words", "claim"),
    ("verdict", "verdict"),
    ("what the source says, and why this verdict", "primary"),
    ("topic", "topic"),
    ("source", "source"),
    ("demonstrated in", "chapter"),
)


def _esc(value: object) -> str:
    """HTML-escape a cell value."""
    return html.escape("" if pd.isna(value) else str(value), quote=True)


def _badge(verdict: str) -> str:
    """A coloured verdict label (colours from :data:`explainer.claims.VERDICT_COLORS`)."""
    color = VERDICT_COLORS.get(verdict, "#7F7F7F")
    label = _esc(verdict)
    # inline, so the badge keeps its colour where ledger.css is not loaded (JupyterLab)
    style = (f"display:inline-block;padding:0 .45em;border-radius:.6em;font-size:.85em;"
             f"white-space:nowrap;color:#222;background:{color}33;border:1px solid {color}")
    return f'<span class="verdict-badge verdict-{label}" style="{style}">{label}</span>'


def _quote(text: object) -> str:
    """The article's phrase in italics (no added quote marks: some phrases start with one)."""
    return f'<span class="claim-quote" style="font-style:italic">{_esc(text)}</span>'


def _source_links(ids: object) -> str:
    """Links to the sources behind a row (secondary ones marked)."""
    sources = load_sources()
    parts = []
    for sid in split_source_ids(ids):
        if sid not in sources.index:
            parts.append(_esc(sid))
            continue
        src = sources.loc[sid]
        mark = " <small>(secondary)</small>" if src["kind"] == "secondary" else ""
        label = f'<span title="{_esc(src["title"])}">{_esc(sid)}</span>'
        if src["url"]:
            label = (f'<a href="{_esc(src["url"])}" title="{_esc(src["title"])}" '
                     f'rel="noopener">{_esc(sid)}</a>')
        parts.append(label + mark)
    return "<br>".join(parts)


def _chapter_link(chapter: object) -> str:
    """Link to the book page that demonstrates a claim, or an empty string."""
    if pd.isna(chapter) or not chapter:
        return ""
    return f'<a href="{_esc(chapter)}.html">{_esc(chapter)}</a>'


def chapter_claims_html(chapter: str, df: pd.DataFrame | None = None) -> str:
    """Compact static HTML table of the ledger rows a chapter demonstrates.

    Args:
        chapter: one of :data:`explainer.claims.CHAPTERS`.
        df: the ledger; ``None`` loads it with :func:`explainer.claims.load_claims`.

    Returns:
        HTML: a table (id, quote, verdict, what the source says, source) and a link to
        the full ledger page.

    Raises:
        ValueError: ``chapter`` is not one of :data:`explainer.claims.CHAPTERS`.
    """
    if chapter not in CHAPTERS:
        raise ValueError(f"chapter must be one of {list(CHAPTERS)}, got {chapter!r}")
    if df is None:
        df = load_claims()
    rows = df[df["chapter"] == chapter]
    ledger = f"{LEDGER_PAGE}.html"
    if rows.empty:
        return (f'<p class="claims-summary">No claims in the ledger point to this page yet; '
                f'see the <a href="{ledger}">full claims ledger</a>.</p>')
    body = "\n".join(
        f'<tr class="claim-row" data-verdict="{_esc(r.verdict)}">'
        f'<td><a href="{ledger}#claim-{_esc(r.claim_id)}">{_esc(r.claim_id)}</a></td>'
        f"<td>{_quote(r.quote)}</td>"
        f"<td>{_badge(r.verdict)}</td>"
        f"<td>{_esc(r.primary_says)}</td>"
        f"<td>{_source_links(r.source_id)}</td></tr>"
        for r in rows.itertuples(index=False)
    )
    n = len(rows)
    return (
        f'<table class="claims-summary" data-chapter="{_esc(chapter)}">\n'
        "<thead><tr><th>id</th><th>the article said</th><th>verdict</th>"
        "<th>what the source says</th><th>source</th></tr></thead>\n"
        f"<tbody>\n{body}\n</tbody></table>\n"
        f'<p class="claims-summary-note">{n} claim{"s" if n != 1 else ""} from the seed '
        f'articles; every claim is in the <a href="{ledger}">full claims ledger</a>.</p>'
    )


def show_claims(chapter: str, df: pd.DataFrame | None = None, *, collapsed: bool = True) -> None:
    """Display :func:`chapter_claims_html` in the notebook (plain HTML, no widget).

    The rows close the chapter, after its takeaways and further reading, so by default they
    are folded into a ``<details>`` element ("What the articles said") that the reader opens.

    Args:
        chapter: one of :data:`explainer.claims.CHAPTERS`.
        df: the ledger; ``None`` loads it with :func:`explainer.claims.load_claims`.
        collapsed: fold the table into a closed ``<details>``; ``False`` shows it open.

    Raises:
        ValueError: ``chapter`` is not one of :data:`explainer.claims.CHAPTERS`.
    """
    from IPython.display import HTML, display

    page = chapter_claims_html(chapter, df)
    if collapsed:
        n = page.count('class="claim-row"')
        what = f"{n} claim{'s' if n != 1 else ''} from the seed articles" if n else "no claims yet"
        page = (f'<details class="claims-details"><summary><strong>What the articles said'
                f"</strong>: {what}, with verdicts and sources (click to open)</summary>\n"
                f"{page}\n</details>")
    display(HTML(page))


def _options(values: list[str], labels: dict[str, str] | None = None) -> str:
    """``<option>`` elements: "all" first, then each value."""
    labels = labels or {}
    opts = ['<option value="">all</option>']
    opts += [f'<option value="{_esc(v)}">{_esc(labels.get(v, v))}</option>' for v in values]
    return "".join(opts)


def ledger_html(df: pd.DataFrame, *, standalone: bool = False) -> str:
    """The whole ledger as one filterable, sortable HTML table.

    The markup: a ``<select data-filter="seed|verdict|topic">`` per filter (value ``""``
    means all), a search box, the count "N of M claims shown" in ``#claims-ledger-count``,
    and ``<table id="claims-ledger-table">`` with one ``<tr class="claim-row"
    id="claim-C001" data-verdict data-seed data-topic>`` per claim. ``static/ledger.js``
    makes clicking a ``<th data-sort-key>`` sort by that column (again: reverse) and hides
    rows a filter excludes (``style.display = "none"``).

    Args:
        df: the ledger (see :func:`explainer.claims.load_claims`).
        standalone: inline ``static/ledger.css`` and ``static/ledger.js`` (for a page the
            book's extension does not serve, e.g. a test page); the book loads them itself.

    Returns:
        The HTML, to show with ``IPython.display.HTML``.

    Raises:
        ValueError: ``df`` lacks one of the ledger's columns.
    """
    missing = [c for c in COLUMNS if c not in df.columns]
    if missing:
        raise ValueError(f"df is missing ledger columns {missing}; expected {list(COLUMNS)}")
    seeds = sorted(df["seed_file"].unique())
    seed_names = {s: seed_label(s) for s in seeds}
    verdicts = [v for v in VERDICTS if v in set(df["verdict"])]
    topics = sorted(df["topic"].unique())
    n = len(df)

    def cell(key: str, content: str, value: str | None = None) -> str:
        attr = f' data-value="{_esc(value)}"' if value is not None else ""
        return f'<td data-key="{key}"{attr}>{content}</td>'

    body = []
    for r in df.itertuples(index=False):
        order = (f"{VERDICTS.index(r.verdict)} {r.verdict}" if r.verdict in VERDICTS
                 else str(r.verdict))
        cells = [
            cell("id", _esc(r.claim_id)),
            cell("seed",
                 f'<span title="{_esc(seed_names[r.seed_file])}">{_esc(r.seed_file[:3])}</span>',
                 r.seed_file),
            cell("quote", _quote(r.quote)),
            cell("claim", _esc(r.claim)),
            cell("verdict", _badge(r.verdict), order),
            cell("primary", f"{_esc(r.primary_says)}<br><em>{_esc(r.explanation)}</em>"),
            cell("topic", _esc(r.topic)),
            cell("source", _source_links(r.source_id), str(r.source_id)),
            cell("chapter", _chapter_link(r.chapter), str(r.chapter)),
        ]
        body.append(
            f'<tr class="claim-row" id="claim-{_esc(r.claim_id)}" data-verdict="{_esc(r.verdict)}" '
            f'data-seed="{_esc(r.seed_file)}" data-topic="{_esc(r.topic)}">'
            + "".join(cells) + "</tr>"
        )
    head = "".join(f'<th data-sort-key="{key}" scope="col">{_esc(label)}</th>'
                   for label, key in LEDGER_COLUMNS)
    controls = (
        '<div class="claims-ledger-controls">'
        f'<label>article <select data-filter="seed">{_options(seeds, seed_names)}</select></label>'
        f'<label>verdict <select data-filter="verdict">{_options(verdicts)}</select></label>'
        f'<label>topic <select data-filter="topic">{_options(topics)}</select></label>'
        '<label>search <input type="search" id="claims-ledger-search" class="claims-ledger-search" '
        'placeholder="words in any column"></label>'
        f'<span id="claims-ledger-count" class="claims-ledger-count" aria-live="polite">'
        f"{n} of {n} claims shown</span>"
        "</div>"
    )
    style = script = ""
    if standalone:
        css, js = ((_STATIC / name).read_text(encoding="utf-8") for name in STATIC_FILES)
        style, script = f"<style>{css}</style>", f"<script>{js}</script>"
    return (
        f'<div id="claims-ledger-wrap" class="claims-ledger-wrap">{style}\n'
        f"{controls}\n"
        '<div class="claims-ledger-scroll">'
        f'<table id="claims-ledger-table" class="claims-ledger-table" data-claims="{n}">\n'
        f"<thead><tr>{head}</tr></thead>\n"
        "<tbody>\n" + "\n".join(body) + "\n</tbody></table></div>\n"
        f"{script}</div>"
    )
