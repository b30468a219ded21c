"""The claims ledger: every checkable claim in the five seed articles, with a verdict.

``data/claims.csv`` holds one row per claim: a short phrase quoted verbatim from a
seed article (``../shared/seeds/``), the claim in plain words, a verdict, what the
best available source says and the ``source_id`` of that source in
``data/sources.csv``. The primary sources the verdicts were checked against are
DeepSeek's own papers and repositories (the DeepSeek-V2, V3 and R1 technical
reports, their READMEs and configs, the DualPipe README and the open-infra-index
"day 6" note); where only news or blog pages exist the row cites a ``sec_*``
(secondary) source and says so.

This module loads and validates the ledger, and renders it three ways:

* :func:`ledger_html` -- the whole ledger as one self-contained, filterable and
  sortable HTML table (inline JavaScript, no libraries, no network), for the
  appendix page;
* :func:`show_claims` -- the few rows that one chapter demonstrates, as a compact
  static table ("What the articles said");
* :func:`verdicts_chart` -- an Altair stacked bar of verdicts per article.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import pandas as pd

from explainer.data import SEEDS_DIR, load_sources, read_csv

__all__ = [
    "CHAPTERS",
    "COLUMNS",
    "LEDGER_PAGE",
    "TOPICS",
    "VERDICTS",
    "VERDICT_COLORS",
    "chapter_claims_html",
    "ledger_html",
    "load_claims",
    "seed_label",
    "show_claims",
    "validate_claims",
    "verdict_counts",
    "verdicts_chart",
]

VERDICTS = ("supported", "approximate", "wrong", "projection", "unverifiable")
# Okabe-Ito hues (as in explainer.charts.PALETTE) plus grey for "unverifiable"
VERDICT_COLORS = {
    "supported": "#009E73",
    "approximate": "#E69F00",
    "wrong": "#D55E00",
    "projection": "#CC79A7",
    "unverifiable": "#7F7F7F",
}
COLUMNS = (
    "claim_id", "seed_file", "quote", "claim", "verdict",
    "primary_says", "source_id", "explanation", "topic", "chapter",
)
TOPICS = (
    "cost", "reasoning", "moe", "mla", "mtp", "dualpipe", "benchmarks", "market",
    "talent", "openai", "hardware", "openness", "scale", "company",
)
# book pages (chapters/<name>.ipynb) a claim can point to; "" = none
CHAPTERS = ("sputnik", "lean_lab", "one_stack", "scale_pivot", "costs", "reasoning", "moe")
LEDGER_PAGE = "claims_ledger"
# every column must be filled except these
_OPTIONAL = frozenset({"chapter"})
_ID_RE = re.compile(r"C\d{3}")


def _norm_ws(text: str) -> str:
    """Collapse runs of whitespace to one space (the only normalisation quotes get)."""
    return " ".join(text.split())


def load_claims(*, check_seeds: bool | None = None) -> pd.DataFrame:
    """Read and validate ``data/claims.csv``.

    Args:
        check_seeds: also check that each quote occurs in its seed article. ``None``
            (default) checks when the seeds folder (:data:`explainer.data.SEEDS_DIR`)
            exists; the articles are not part of the repository.

    Returns:
        The ledger, one row per claim, all columns as strings (empty ``chapter`` is ``""``).

    Raises:
        ValueError: the ledger breaks a rule (see :func:`validate_claims`).
    """
    df = read_csv("claims.csv", dtype=str, keep_default_na=False)
    if check_seeds is None:
        check_seeds = SEEDS_DIR.is_dir()
    validate_claims(df, check_seeds=check_seeds)
    return df


def validate_claims(
    df: pd.DataFrame, seeds_dir: str | Path | None = None, *, check_seeds: bool = True
) -> None:
    """Check the ledger's schema and that every quote is really in its article.

    Rules: the columns are exactly :data:`COLUMNS`; no field but ``chapter`` is empty;
    ``claim_id`` looks like ``C001`` and is unique; ``verdict`` is one of
    :data:`VERDICTS`, ``topic`` one of :data:`TOPICS`, ``chapter`` one of
    :data:`CHAPTERS` or empty; every ``source_id`` (``;``-separated) is in
    ``data/sources.csv``; and, with ``check_seeds``, every ``seed_file`` exists in
    ``seeds_dir`` and contains its ``quote`` (whitespace normalised, nothing else).

    Args:
        df: the ledger.
        seeds_dir: folder holding the seed articles; ``None`` means
            :data:`explainer.data.SEEDS_DIR`.
        check_seeds: whether to open the seed files (seed file missing, quote not found).

    Raises:
        ValueError: listing every problem found, one per line, each naming the row.
    """
    if list(df.columns) != list(COLUMNS):
        raise ValueError(f"columns must be exactly {list(COLUMNS)}, got {list(df.columns)}")
    problems: list[str] = []
    known_sources = set(load_sources().index)
    seeds = Path(seeds_dir) if seeds_dir is not None else SEEDS_DIR
    seed_text: dict[str, str | None] = {}
    dup = df["claim_id"][df["claim_id"].duplicated()].tolist()
    if dup:
        problems.append(f"claim_id not unique: {sorted(set(dup))}")
    for i, row in df.reset_index(drop=True).iterrows():
        cid = str(row["claim_id"]) or f"row {i}"
        for col in COLUMNS:
            value = row[col]
            if col not in _OPTIONAL and (pd.isna(value) or not str(value).strip()):
                problems.append(f"{cid}: empty field {col!r}")
        if row["claim_id"] and not _ID_RE.fullmatch(str(row["claim_id"])):
            problems.append(f"{cid}: claim_id must look like C001")
        if row["verdict"] not in VERDICTS:
            problems.append(f"{cid}: verdict {row['verdict']!r} not one of {list(VERDICTS)}")
        if row["topic"] and row["topic"] not in TOPICS:
            problems.append(f"{cid}: topic {row['topic']!r} not one of {list(TOPICS)}")
        chapter = "" if pd.isna(row["chapter"]) else row["chapter"]
        if chapter and chapter not in CHAPTERS:
            problems.append(f"{cid}: chapter {chapter!r} not one of {list(CHAPTERS)} or empty")
        for sid in _split_ids(row["source_id"]):
            if sid not in known_sources:
                problems.append(f"{cid}: source_id {sid!r} not in sources.csv")
        if check_seeds and row["seed_file"]:
            name = str(row["seed_file"])
            if name not in seed_text:
                path = seeds / name
                exists = path.is_file()
                seed_text[name] = _norm_ws(path.read_text(encoding="utf-8")) if exists else None
            text = seed_text[name]
            if text is None:
                problems.append(f"{cid}: seed file {name!r} not found in {seeds}")
            elif row["quote"] and _norm_ws(str(row["quote"])) not in text:
                problems.append(f"{cid}: quote {row['quote']!r} not found in {name}")
    if problems:
        raise ValueError("claims ledger has problems:\n" + "\n".join(problems))


def _split_ids(value: object) -> list[str]:
    """Source ids in a ``;``-separated cell."""
    if pd.isna(value):
        return []
    return [s.strip() for s in str(value).split(";") if s.strip()]


def seed_label(seed_file: str) -> str:
    """Short reader-facing name of a seed article ("000: OpenAI Talent Joins ...")."""
    sources = load_sources()
    sid = f"seed_{seed_file[:3]}"
    if sid in sources.index:
        title = sources.loc[sid, "title"].removeprefix("Seed article: ").strip('"')
        return f"{seed_file[:3]}: {title}"
    return seed_file


def verdict_counts(df: pd.DataFrame) -> pd.DataFrame:
    """Claims per article and verdict: one row per seed, one column per verdict (zeros kept)."""
    table = pd.crosstab(df["seed_file"], df["verdict"])
    return table.reindex(columns=list(VERDICTS), fill_value=0).sort_index()


def verdicts_chart(df: pd.DataFrame):
    """Stacked bar of verdicts per article; click a legend entry to highlight one verdict.

    Args:
        df: the ledger (see :func:`load_claims`).

    Returns:
        An Altair chart (import :mod:`explainer.charts` first for the book's theme).
    """
    import altair as alt

    counts = (
        df.assign(article=df["seed_file"].map(seed_label))
        .groupby(["article", "verdict"], as_index=False)
        .size()
        .rename(columns={"size": "claims"})
    )
    counts["order"] = counts["verdict"].map(VERDICTS.index)
    pick = alt.selection_point(fields=["verdict"], bind="legend")
    return (
        alt.Chart(counts)
        .mark_bar()
        .encode(
            x=alt.X("claims:Q", title="claims checked", stack="zero"),
            y=alt.Y("article:N", title=None, sort="ascending",
                    axis=alt.Axis(labelLimit=230)),
            color=alt.Color(
                "verdict:N",
                scale=alt.Scale(domain=list(VERDICTS), range=[VERDICT_COLORS[v] for v in VERDICTS]),
                legend=alt.Legend(title="verdict (click to highlight)", orient="bottom",
                                  columns=3),
            ),
            order=alt.Order("order:Q"),
            opacity=alt.condition(pick, alt.value(1.0), alt.value(0.2)),
            tooltip=["article:N", "verdict:N", "claims:Q"],
        )
        .add_params(pick)
        .properties(
            title=alt.Title("Verdicts per article",
                            subtitle="How the checkable claims in each seed article hold up"),
            width=380,
            height=alt.Step(34),
        )
    )


# ---------------------------------------------------------------- HTML rendering

_BADGE_STYLE = (
    "display:inline-block;padding:0 .45em;border-radius:.6em;font-size:.85em;"
    "white-space:nowrap;color:#222;background:{bg};border:1px solid {fg}"
)


def _esc(value: object) -> str:
    """HTML-escape a cell value."""
    return html.escape("" if pd.isna(value) else str(value), quote=True)


def _badge(verdict: str) -> str:
    """A coloured verdict label."""
    color = VERDICT_COLORS.get(verdict, "#7F7F7F")
    style = _BADGE_STYLE.format(bg=color + "33", fg=color)
    label = _esc(verdict)
    return f'<span class="verdict-badge verdict-{label}" style="{style}">{label}</span>'


def _quote(text: object) -> str:
    """The article's phrase, set in italics (no added quote marks: some phrases start with one)."""
    return f'<span class="claim-quote" style="font-style:italic">{_esc(text)}</span>'


def _source_links(ids: object) -> str:
    """Links to the sources behind a row (secondary ones marked)."""
    sources = load_sources()
    parts = []
    for sid in _split_ids(ids):
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


def _chapter_link(chapter: object, prefix: str = "") -> str:
    """Link to the book page that demonstrates a claim, or an empty string."""
    if pd.isna(chapter) or not chapter:
        return ""
    return f'<a href="{prefix}{_esc(chapter)}.html">{_esc(chapter)}</a>'


def chapter_claims_html(chapter: str, df: pd.DataFrame | None = None) -> str:
    """Compact static HTML table of the ledger rows a chapter demonstrates.

    Args:
        chapter: one of :data:`CHAPTERS`.
        df: the ledger; ``None`` loads it with :func:`load_claims`.

    Returns:
        HTML: a table (id, quote, verdict, what the source says, source) and a link to
        the full ledger page.

    Raises:
        ValueError: ``chapter`` is not one of :data:`CHAPTERS`.
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


def show_claims(chapter: str, df: pd.DataFrame | None = None) -> None:
    """Display :func:`chapter_claims_html` in the notebook (plain HTML, no widget).

    Args:
        chapter: one of :data:`CHAPTERS`.
        df: the ledger; ``None`` loads it with :func:`load_claims`.

    Raises:
        ValueError: ``chapter`` is not one of :data:`CHAPTERS`.
    """
    from IPython.display import HTML, display

    display(HTML(chapter_claims_html(chapter, df)))


# (header, sort key, column) in table order; the sort key names the cell's data-key
_LEDGER_COLUMNS = (
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

# scoped by class, not by id: the book page's own section id is also "claims-ledger"
_LEDGER_CSS = """
.claims-ledger-wrap {font-size: .86em}
.claims-ledger-wrap .claims-ledger-controls {display:flex;flex-wrap:wrap;gap:.5em 1em;
  align-items:center;margin:.5em 0}
.claims-ledger-wrap select {max-width:22em}
.claims-ledger-scroll {overflow-x:auto;max-width:100%}
table.claims-ledger-table {border-collapse:collapse;width:100%;min-width:56em}
table.claims-ledger-table td[data-key=quote], table.claims-ledger-table td[data-key=claim]
  {min-width:10em}
table.claims-ledger-table td[data-key=primary] {min-width:16em}
table.claims-ledger-table th, table.claims-ledger-table td {border-bottom:1px solid #ddd;
  padding:.3em .4em;vertical-align:top;text-align:left}
table.claims-ledger-table th[data-sort-key] {cursor:pointer;user-select:none;white-space:nowrap}
table.claims-ledger-table th[aria-sort=ascending]::after {content:" \\25B2"}
table.claims-ledger-table th[aria-sort=descending]::after {content:" \\25BC"}
table.claims-ledger-table tr:target {outline:2px solid #0072B2}
"""

# Filtering and sorting, in plain JavaScript (runs once, right after the table). Every
# element is looked up inside the wrapper, never with getElementById: on the book page the
# section titled "Claims ledger" has the id "claims-ledger" (the table is "claims-ledger-table").
_LEDGER_JS = """
(function () {
  var script = document.currentScript;
  var wrap = (script && script.closest(".claims-ledger-wrap"))
    || document.querySelector("div.claims-ledger-wrap");
  var table = wrap && wrap.querySelector("table.claims-ledger-table");
  if (!table) { return; }
  var tbody = table.tBodies[0];
  var rows = Array.prototype.slice.call(tbody.querySelectorAll("tr.claim-row"));
  var selects = wrap.querySelectorAll("select[data-filter]");
  var search = wrap.querySelector("input.claims-ledger-search");
  var count = wrap.querySelector(".claims-ledger-count");
  function apply() {
    var want = {};
    Array.prototype.forEach.call(selects, function (s) { want[s.dataset.filter] = s.value; });
    var needle = search ? search.value.trim().toLowerCase() : "";
    var shown = 0;
    rows.forEach(function (r) {
      var ok = true;
      for (var key in want) {
        if (want[key] !== "" && r.dataset[key] !== want[key]) { ok = false; }
      }
      if (ok && needle && r.textContent.toLowerCase().indexOf(needle) < 0) { ok = false; }
      r.style.display = ok ? "" : "none";
      if (ok) { shown += 1; }
    });
    count.textContent = shown + " of " + rows.length + " claims shown";
  }
  Array.prototype.forEach.call(selects, function (s) { s.addEventListener("change", apply); });
  if (search) { search.addEventListener("input", apply); }
  var heads = table.querySelectorAll("th[data-sort-key]");
  Array.prototype.forEach.call(heads, function (th) {
    th.addEventListener("click", function () {
      var key = th.dataset.sortKey;
      var dir = th.getAttribute("aria-sort") === "ascending" ? -1 : 1;
      Array.prototype.forEach.call(heads, function (h) { h.removeAttribute("aria-sort"); });
      th.setAttribute("aria-sort", dir === 1 ? "ascending" : "descending");
      function val(r) {
        var cell = r.querySelector('td[data-key="' + key + '"]');
        return cell ? (cell.dataset.value || cell.textContent).trim() : "";
      }
      rows.sort(function (a, b) {
        return dir * val(a).localeCompare(val(b), undefined, {numeric: true});
      });
      rows.forEach(function (r) { tbody.appendChild(r); });
    });
  });
  apply();
})();
"""


def _options(values: list[str], labels: dict[str, str] | None = None) -> str:
    """``<option>`` elements: "all" first, then each value."""
    labels = labels or {}
    opts = ['<option value="">all</option>']
    opts += [f'<option value="{_esc(v)}">{_esc(labels.get(v, v))}</option>' for v in values]
    return "".join(opts)


def ledger_html(df: pd.DataFrame) -> str:
    """The whole ledger as one filterable, sortable HTML table (self-contained).

    The markup: a ``<select data-filter="seed|verdict|topic">`` per filter (value
    ``""`` means all), a search box, the count "N of M claims shown" in
    ``#claims-ledger-count``, and ``<table id="claims-ledger-table">`` with one
    ``<tr class="claim-row" id="claim-C001" data-verdict data-seed data-topic>`` per
    claim. Clicking a ``<th data-sort-key>`` sorts by that column (again: reverse).
    Rows hidden by a filter get ``style.display = "none"``. Inline CSS and
    JavaScript only: nothing is loaded from the network.

    Args:
        df: the ledger (see :func:`load_claims`).

    Returns:
        The HTML, to show with ``IPython.display.HTML``.
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
        cells = [
            cell("id", _esc(r.claim_id)),
            cell("seed",
                 f'<span title="{_esc(seed_names[r.seed_file])}">{_esc(r.seed_file[:3])}</span>',
                 r.seed_file),
            cell("quote", _quote(r.quote)),
            cell("claim", _esc(r.claim)),
            cell("verdict", _badge(r.verdict), f"{VERDICTS.index(r.verdict)} {r.verdict}"
                 if r.verdict in VERDICTS else str(r.verdict)),
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
                   for label, key in _LEDGER_COLUMNS)
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
    return (
        f'<div id="claims-ledger-wrap" class="claims-ledger-wrap"><style>{_LEDGER_CSS}</style>\n'
        f"{controls}\n"
        '<div class="claims-ledger-scroll">'
        f'<table id="claims-ledger-table" class="claims-ledger-table" data-claims="{n}">\n'
        f"<thead><tr>{head}</tr></thead>\n"
        "<tbody>\n" + "\n".join(body) + "\n</tbody></table></div>\n"
        f"<script>{_LEDGER_JS}</script></div>"
    )
