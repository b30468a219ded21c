"""The claims ledger as HTML: the appendix's table, the verdicts page and each chapter's summary.

:mod:`explainer.claims` loads and checks ``data/claims.csv``; this module turns it into
markup:

* :func:`ledger_html` -- the whole ledger as one filterable, sortable table for the
  appendix page: four columns (the claim, what the article said, the verdict, what the
  sources say) that fit the text column, and on a phone one card per claim with its
  verdict first. Its look and behaviour live in ``static/ledger.css`` and
  ``static/ledger.js``, which the book's Sphinx extension (:mod:`explainer.book`) loads
  on every page; ``standalone=True`` inlines both, for a page without the book around it.
* :func:`headlines_html` -- the claims that matter most (:data:`explainer.claims.HEADLINES`),
  each with its verdict, a link to the chapter that checks it and one to its ledger row.
* :func:`chapter_claims_html` / :func:`show_claims` -- the few rows that one chapter
  demonstrates, as a compact static table ("What the articles said").

Nothing here loads anything from the network.
"""

from __future__ import annotations

import html
import json
from functools import cache
from pathlib import Path

import pandas as pd

from explainer.claims import CHAPTERS, COLUMNS, LEDGER_PAGE, VERDICT_COLORS, VERDICTS, load_claims
from explainer.claims import seed_label
from explainer.data import load_sources, split_source_ids

__all__ = ["LEDGER_COLUMNS", "STATIC_FILES", "TOPIC_LABELS", "chapter_claims_html",
           "chapter_title", "headlines_html", "ledger_html", "show_claims"]

_STATIC = Path(__file__).parent / "static"
_CHAPTERS_DIR = Path(__file__).resolve().parents[2] / "chapters"
# the files explainer.book adds to every page (stylesheet, script)
STATIC_FILES = ("ledger.css", "ledger.js")

# how the ledger's topics read on the page (the data keeps the short keys)
TOPIC_LABELS = {"moe": "Mixture-of-Experts", "mla": "attention (MLA)",
                "mtp": "multi-token prediction", "dualpipe": "DualPipe", "openai": "OpenAI"}
# classes that keep MathJax from typesetting two dollar amounts as maths ($5.6M ... $6M)
_NO_MATH = "tex2jax_ignore mathjax_ignore"
# (header, sort key) in table order; the sort key names the cell's data-key
LEDGER_COLUMNS = (
    ("claim", "id"),
    ("the article said", "quote"),
    ("verdict", "verdict"),
    ("what the sources say, and why this verdict", "primary"),
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


def _source_links(ids: object, sep: str = "<br>") -> str:
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
    return sep.join(parts)


@cache
def chapter_title(chapter: str) -> str:
    """The title of a book page (its first heading), or ``chapter`` itself if not found.

    Args:
        chapter: a page name such as ``"costs"`` (``chapters/costs.ipynb``).
    """
    path = _CHAPTERS_DIR / f"{chapter}.ipynb"
    if path.is_file():
        for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
            if cell["cell_type"] == "markdown":
                for line in "".join(cell["source"]).splitlines():
                    if line.startswith("# "):
                        return line[2:].strip()
    return chapter


def _chapter_link(chapter: object) -> str:
    """Link to the book page that demonstrates a claim (named by its title), or ``""``."""
    if pd.isna(chapter) or not chapter:
        return ""
    return f'<a href="{_esc(chapter)}.html">{_esc(chapter_title(str(chapter)))}</a>'


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
        f'<table class="claims-summary {_NO_MATH}" data-chapter="{_esc(chapter)}">\n'
        "<thead><tr><th>id</th><th>the article said</th><th>verdict</th>"
        "<th>what the source says</th><th>source</th></tr></thead>\n"
        f"<tbody>\n{body}\n</tbody></table>\n"
        f'<p class="claims-summary-note">{n} claim{"s" if n != 1 else ""} from the '
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
        what = f"{n} claim{'s' if n != 1 else ''} from the articles" if n else "no claims yet"
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


def _outcome_html(o: object) -> str:
    """What happened to a projection (a row of :func:`explainer.outcomes.load_outcomes`)."""
    return (f'<span class="claim-outcome" data-outcome="{_esc(o.verdict)}"><strong>What happened'
            f" (checked {_esc(o.checked)}): {_esc(o.verdict)}.</strong> {_esc(o.what_happened)} "
            f"Sources: {_source_links(o.source_id, sep=', ')}. "
            '<a href="what_next.html">What happened next</a></span>')


def _row_html(r: object, seed_names: dict[str, str], outcome: object | None = None) -> str:
    """One ``<tr class="claim-row">`` of the ledger table (see :func:`ledger_html`)."""
    order = (f"{VERDICTS.index(r.verdict)} {r.verdict}" if r.verdict in VERDICTS
             else str(r.verdict))
    meta = [f"Sources: {_source_links(r.source_id, sep=', ')}",
            f"Topic: {_esc(TOPIC_LABELS.get(r.topic, r.topic))}"]
    if r.chapter:
        meta.append(f"Shown in: {_chapter_link(r.chapter)}")
    cells = [
        f'<td data-key="id" data-value="{_esc(r.claim_id)}">'
        f'<span class="claim-id">{_esc(r.claim_id)}</span> '
        f'<span class="claim-article" title="{_esc(seed_names[r.seed_file])}">'
        f"article {_esc(r.seed_file[:3])}</span></td>",
        f'<td data-key="quote">{_quote(r.quote)}'
        f'<span class="claim-plain">In plain words: {_esc(r.claim)}</span></td>',
        f'<td data-key="verdict" data-value="{_esc(order)}">{_badge(r.verdict)}</td>',
        f'<td data-key="primary"><span class="claim-source-says">{_esc(r.primary_says)}</span>'
        f'<span class="claim-why"><em>{_esc(r.explanation)}</em></span>'
        + (_outcome_html(outcome) if outcome is not None else "")
        + f'<span class="claim-meta">{" · ".join(meta)}</span></td>',
    ]
    return (f'<tr class="claim-row" id="claim-{_esc(r.claim_id)}" data-verdict="{_esc(r.verdict)}" '
            f'data-seed="{_esc(r.seed_file)}" data-topic="{_esc(r.topic)}">'
            + "".join(cells) + "</tr>")


def ledger_html(df: pd.DataFrame, *, outcomes: pd.DataFrame | None = None,
                standalone: bool = False) -> str:
    """The whole ledger as one filterable, sortable HTML table.

    The markup: a ``<select data-filter="seed|verdict|topic">`` per filter (value ``""``
    means all), a search box, the count "N of M claims shown" in ``#claims-ledger-count``,
    and ``<table id="claims-ledger-table">`` with one ``<tr class="claim-row"
    id="claim-C001" data-verdict data-seed data-topic>`` per claim, in four columns
    (:data:`LEDGER_COLUMNS`): the claim's id and article; the article's phrase and the
    claim in plain words; the verdict; what the sources say, why this verdict, the
    sources, the topic and the chapter that shows it. ``static/ledger.js`` makes clicking
    a ``<th data-sort-key>`` sort by that column (again: reverse), hides rows a filter
    excludes (``style.display = "none"``), and brings the table into view when the page
    is opened with ``?article=003`` or ``#claim-C015``. ``static/ledger.css`` turns each
    row into a card with the verdict first on a narrow screen.

    Args:
        df: the ledger (see :func:`explainer.claims.load_claims`).
        outcomes: what happened to the projections (:func:`explainer.outcomes.load_outcomes`):
            a row whose ``claim_id`` is a claim's adds "What happened" to that claim.
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
    by_claim = {} if outcomes is None else {
        o.claim_id: o for o in outcomes.itertuples() if getattr(o, "claim_id", "")}
    body = [_row_html(r, seed_names, by_claim.get(r.claim_id)) for r in df.itertuples(index=False)]
    head = "".join(f'<th data-sort-key="{key}" data-key="{key}" scope="col" tabindex="0">'
                   f"{_esc(label)}</th>"
                   for label, key in LEDGER_COLUMNS)
    controls = (
        '<div class="claims-ledger-controls">'
        f'<label>article <select data-filter="seed">{_options(seeds, seed_names)}</select></label>'
        f'<label>verdict <select data-filter="verdict">{_options(verdicts)}</select></label>'
        f'<label>topic <select data-filter="topic">{_options(topics, TOPIC_LABELS)}</select>'
        "</label>"
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
        f'<div id="claims-ledger-wrap" class="claims-ledger-wrap {_NO_MATH}">{style}\n'
        f"{controls}\n"
        '<div class="claims-ledger-scroll">'
        f'<table id="claims-ledger-table" class="claims-ledger-table" data-claims="{n}">\n'
        '<caption class="claims-ledger-sort-hint">Click a column heading to sort by it; '
        "click again to reverse.</caption>\n"
        f"<thead><tr>{head}</tr></thead>\n"
        "<tbody>\n" + "\n".join(body) + "\n</tbody></table></div>\n"
        f"{script}</div>"
    )


def _headline_outcome(o: object) -> str:
    """"→ partly (2026)": what happened to a headline claim since, linked to what_next."""
    year = str(o.evidence_date)[:4] or str(o.checked)[:4]
    return (f'<span class="claims-headline-outcome">→ <a href="what_next.html">'
            f"what happened: {_esc(o.verdict)} ({_esc(year)})</a></span>")


def headlines_html(rows: pd.DataFrame, outcomes: pd.DataFrame | None = None) -> str:
    """The claims that matter most, as a list for people: one short card per claim, by group.

    Each card: our headline for the claim and its verdict, why this verdict (the ledger's
    one-line explanation), and links to the chapter that checks it and to its row in the
    ledger (``claims_ledger.html#claim-C015``), whose first column names the article.

    Args:
        rows: :func:`explainer.claims.headline_claims` (the ledger's rows with ``group``
            and ``headline`` in front).
        outcomes: what happened since (:func:`explainer.outcomes.load_outcomes`): a claim
            with a row here gets "→ what happened: partly (2026)" after its verdict, linked
            to the chapter *What happened next* (the ledger's verdict judges the claim as the
            article made it; the outcome, whether it came true).

    Returns:
        HTML: one list per group, the group as a bold lead-in (not a heading, so the page's
        own headings stay the only ones in its table of contents).

    Raises:
        ValueError: ``rows`` lacks ``group`` or ``headline``.
    """
    if not {"group", "headline"} <= set(rows.columns):
        raise ValueError("rows must come from explainer.claims.headline_claims "
                         "(columns 'group' and 'headline')")
    ledger = f"{LEDGER_PAGE}.html"
    after = {} if outcomes is None else {
        o.claim_id: o for o in outcomes.itertuples(index=False) if o.claim_id}
    parts = [f'<div class="claims-headlines {_NO_MATH}">']
    for group, items in rows.groupby("group", sort=False):
        parts.append(f'<p class="claims-headlines-group"><strong>{_esc(group)}</strong></p>'
                     '<ul class="claims-headlines-list">')
        for r in items.itertuples(index=False):
            cid = _esc(r.claim_id)
            links = [f'<a href="{ledger}#claim-{cid}">ledger row {cid}</a>']
            if r.chapter:
                links.insert(0, _chapter_link(r.chapter))
            parts.append(
                f'<li class="claims-headline" data-verdict="{_esc(r.verdict)}" '
                f'data-claim="{_esc(r.claim_id)}">'
                f'<span class="claims-headline-title">{_esc(r.headline)}</span> '
                f"{_badge(r.verdict)}"
                + (_headline_outcome(after[r.claim_id]) if r.claim_id in after else "")
                + f'<span class="claims-headline-why">{_esc(r.explanation)}</span>'
                f'<span class="claims-headline-links">{" · ".join(links)}</span></li>'
            )
        parts.append("</ul>")
    parts.append("</div>")
    return "\n".join(parts)
