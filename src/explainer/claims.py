"""The claims ledger: every checkable claim in the five seed articles, with a verdict.

``data/claims.csv`` holds one row per claim: a short phrase quoted verbatim from a
seed article (``../shared/seeds/``), the claim in plain words, a verdict, what the
best available source says and the ``source_id`` of that source in
``data/sources.csv``. The primary sources the verdicts were checked against are
DeepSeek's own papers and repositories (the DeepSeek-V2, V3 and R1 technical
reports, their READMEs and configs, the DualPipe README and the open-infra-index
"day 6" note); where only news or blog pages exist the row cites a ``sec_*``
(secondary) source and says so.

Every *unverifiable* row says in ``searched`` what was looked for, where and when
(*unverifiable* means "looked, and no source settles it", not "not looked up"), and
every *supported*, *approximate* or *wrong* row cites at least one primary or
secondary source besides the seed article itself.

This module loads and validates the ledger, counts it (:func:`verdict_totals`,
:func:`verdict_counts`, :func:`source_support`), picks the claims that matter most
(:data:`HEADLINES`, :func:`headline_claims`) and redoes the arithmetic some verdicts
rest on (:func:`recomputed_claims`). The HTML lives in :mod:`explainer.ledger_html` (the
appendix's table, the verdicts page's list, each chapter's "What the articles said"), the
charts and tables in :mod:`explainer.figures.ledger`.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from explainer.checks import check_bool
from explainer.data import SEEDS_DIR, load_sources, read_csv, split_source_ids
from explainer.tables import human

__all__ = [
    "ARTICLE_NAMES",
    "CHAPTERS",
    "CHECKED_VERDICTS",
    "COLUMNS",
    "HEADLINES",
    "LEDGER_PAGE",
    "TOPICS",
    "VERDICTS",
    "VERDICT_COLORS",
    "VERDICT_MEANINGS",
    "article_name",
    "headline_claims",
    "load_claims",
    "recomputed_claims",
    "seed_label",
    "source_support",
    "validate_claims",
    "verdict_counts",
    "verdict_totals",
]

VERDICTS = ("supported", "approximate", "wrong", "projection", "unverifiable")
# verdicts a source settled: each must cite a primary or secondary source besides the seed
CHECKED_VERDICTS = ("supported", "approximate", "wrong")
# Okabe-Ito hues (as in explainer.charts.PALETTE) plus grey for "unverifiable"
VERDICT_COLORS = {
    "supported": "#009E73",
    "approximate": "#E69F00",
    "wrong": "#D55E00",
    "projection": "#CC79A7",
    "unverifiable": "#7F7F7F",
}
# what each verdict means, in the words the ledger page and the verdicts page use
VERDICT_MEANINGS = {
    "supported": "the best source says the same",
    "approximate": "right in substance or order of magnitude, off in a detail (a rounded figure, "
                   "the wrong model, a loose word)",
    "wrong": "the source says otherwise",
    "projection": "a forecast, target or future-dated figure: nothing to check yet",
    "unverifiable": "we looked, and no source we could find settles it; the ledger says what "
                    "was searched",
}
# short reader-facing names of the five articles, by the first three characters of the file
ARTICLE_NAMES = {
    "000": "OpenAI talent",
    "001": "rift at OpenAI",
    "002": "Sputnik moment",
    "003": "origins",
    "004": "scale pivot",
}
# the claims that matter most, grouped as the verdicts page shows them: (claim_id, headline) or
# (claim_id, headline, page): the page that checks the claim when it is not the row's ``chapter``
# (the forecasts are checked against what DeepSeek did next in chapters/what_next.ipynb)
HEADLINES = {
    "The money": (
        ("C015", "The $6 million training bill"),
        ("C003", "R1 cost 96% less to train"),
        ("C057", "One-tenth of Llama 3.1's computing"),
    ),
    "The models": (
        ("C002", "R1 rivals OpenAI's o1", "at_a_glance"),
    ),
    "The techniques": (
        ("C065", "Mixture-of-Experts uses a small part of the model per token"),
        ("C012", "Multi-head Latent Attention recognises patterns"),
        ("C067", "DeepSeek pioneered multi-token prediction"),
        ("C013", "DualPipe is a pathway for reasoning"),
        ("C005", "Reasoning models stop predicting the next token"),
    ),
    "The forecasts": (
        ("C089", "DeepSeek is worth $500 billion", "what_next"),
        ("C093", "DeepSeek plans to double its headcount", "what_next"),
        ("C088", "Its next model: over 10²⁶ FLOPs, MMLU above 90", "what_next"),
    ),
}
COLUMNS = (
    "claim_id", "seed_file", "quote", "claim", "verdict",
    "primary_says", "source_id", "explanation", "topic", "chapter", "searched",
)
TOPICS = (
    "cost", "reasoning", "moe", "mla", "mtp", "dualpipe", "benchmarks", "market",
    "talent", "openai", "hardware", "openness", "scale", "company",
)
# book pages (chapters/<name>.ipynb) a claim can point to; "" = none
CHAPTERS = ("sputnik", "lean_lab", "one_stack", "scale_pivot", "costs", "reasoning", "moe",
            "attention", "training_system", "grpo", "mtp")
LEDGER_PAGE = "claims_ledger"
# every column must be filled except these ("searched" is required for unverifiable rows)
_OPTIONAL = frozenset({"chapter", "searched"})
# source kinds that count as evidence (sources.csv: primary, secondary, seed, derived)
_EVIDENCE_KINDS = frozenset({"primary", "secondary"})
_ID_RE = re.compile(r"C\d{3}")
_SEED_RE = re.compile(r"\d{3}")  # a seed article's file name starts with its number


def _check_ledger(df, columns: tuple[str, ...]) -> pd.DataFrame:
    """``df`` if it is a DataFrame with ``columns`` (a ledger from :func:`load_claims`)."""
    if not isinstance(df, pd.DataFrame) or not set(columns) <= set(df.columns):
        got = (f"columns {list(df.columns)}" if isinstance(df, pd.DataFrame)
               else type(df).__name__)
        raise ValueError(f"df must be the claims ledger (load_claims()), a DataFrame with "
                         f"columns {list(columns)}, got {got}")
    return df


def _check_seed_file(seed_file) -> str:
    """``seed_file`` if it is a seed article's file name (``"004_e09b04f53abad312.txt"``)."""
    if not isinstance(seed_file, str) or not _SEED_RE.match(seed_file):
        raise ValueError(f"seed_file must be a seed article's file name starting with its "
                         f"three-digit number (e.g. '004_e09b04f53abad312.txt'), got "
                         f"{seed_file!r}")
    return seed_file


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
    if check_seeds is not None:
        check_bool("check_seeds", check_seeds)
    df = read_csv("claims.csv", dtype=str, keep_default_na=False)
    if check_seeds is None:
        check_seeds = SEEDS_DIR.is_dir()
    validate_claims(df, check_seeds=check_seeds)
    return df


def validate_claims(
    df: pd.DataFrame, seeds_dir: str | Path | None = None, *, check_seeds: bool = True
) -> None:
    """Check the ledger's schema and that every quote is really in its article.

    Rules: the columns are exactly :data:`COLUMNS`; no field but ``chapter`` and
    ``searched`` is empty; ``claim_id`` looks like ``C001`` and is unique; ``verdict`` is
    one of :data:`VERDICTS`, ``topic`` one of :data:`TOPICS`, ``chapter`` one of
    :data:`CHAPTERS` or empty; every ``source_id`` (``;``-separated) is in
    ``data/sources.csv``; an *unverifiable* row says what was ``searched``; a row whose
    verdict is in :data:`CHECKED_VERDICTS` cites a source of kind primary or secondary;
    and, with ``check_seeds``, every ``seed_file`` exists in ``seeds_dir`` and contains its
    ``quote`` (whitespace normalised, nothing else).

    Args:
        df: the ledger.
        seeds_dir: folder holding the seed articles; ``None`` means
            :data:`explainer.data.SEEDS_DIR`.
        check_seeds: whether to open the seed files (seed file missing, quote not found).

    Raises:
        ValueError: listing every problem found, one per line, each naming the row.
    """
    if not isinstance(df, pd.DataFrame):
        raise ValueError(f"df must be the claims ledger, a DataFrame, got {type(df).__name__}")
    if list(df.columns) != list(COLUMNS):
        raise ValueError(f"columns must be exactly {list(COLUMNS)}, got {list(df.columns)} "
                         "(df, the ledger)")
    check_bool("check_seeds", check_seeds)
    problems: list[str] = []
    sources = load_sources()
    known_sources = set(sources.index)
    kinds = sources["kind"].to_dict()
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
        ids = split_source_ids(row["source_id"])
        for sid in ids:
            if sid not in known_sources:
                problems.append(f"{cid}: source_id {sid!r} not in sources.csv")
        searched = "" if pd.isna(row["searched"]) else str(row["searched"]).strip()
        if row["verdict"] == "unverifiable" and not searched:
            problems.append(f"{cid}: unverifiable but 'searched' is empty: say what was looked "
                            "for, where and when")
        if row["verdict"] in CHECKED_VERDICTS and ids and not any(
                kinds.get(sid) in _EVIDENCE_KINDS for sid in ids):
            problems.append(f"{cid}: verdict {row['verdict']!r} needs a primary or secondary "
                            f"source besides the seed article, got {ids}")
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


def seed_label(seed_file: str) -> str:
    """Short reader-facing name of a seed article ("000: OpenAI Talent Joins ...")."""
    _check_seed_file(seed_file)
    sources = load_sources()
    sid = f"seed_{seed_file[:3]}"
    if sid in sources.index:
        title = sources.loc[sid, "title"].removeprefix("Seed article: ").strip('"')
        return f"{seed_file[:3]}: {title}"
    return seed_file


def article_name(seed_file: str) -> str:
    """Short name of an article for charts: ``"004 scale pivot"`` (:data:`ARTICLE_NAMES`)."""
    key = _check_seed_file(seed_file)[:3]
    return f"{key} {ARTICLE_NAMES[key]}" if key in ARTICLE_NAMES else str(seed_file)


def verdict_totals(df: pd.DataFrame) -> pd.DataFrame:
    """How many claims got each verdict, and what share of all claims that is.

    Args:
        df: the ledger (see :func:`load_claims`).

    Returns:
        One row per verdict in :data:`VERDICTS` order (zeros kept), index named
        ``verdict``; columns ``claims`` (int) and ``share`` (a fraction of all claims).
    """
    _check_ledger(df, ("verdict",))
    counts = df["verdict"].value_counts().reindex(list(VERDICTS), fill_value=0).astype(int)
    out = pd.DataFrame({"claims": counts, "share": counts / max(len(df), 1)})
    out.index.name = "verdict"
    return out


def headline_claims(df: pd.DataFrame) -> pd.DataFrame:
    """The ledger rows of :data:`HEADLINES`, in its order, with their group and headline.

    Args:
        df: the ledger (see :func:`load_claims`).

    Returns:
        The rows, with two columns added in front: ``group`` and ``headline``; ``chapter``
        is the page that checks the claim (the entry's own page where it names one).

    Raises:
        ValueError: a claim named in :data:`HEADLINES` is not in ``df``.
    """
    _check_ledger(df, ("claim_id", "chapter"))
    picks = [(group, *item) for group, items in HEADLINES.items() for item in items]
    ids = [p[1] for p in picks]
    missing = [cid for cid in ids if cid not in set(df["claim_id"])]
    if missing:
        raise ValueError(f"HEADLINES names claims not in the ledger: {missing}")
    rows = df.set_index("claim_id").loc[ids].reset_index()
    rows["chapter"] = [p[3] if len(p) > 3 else ch for p, ch in zip(picks, rows["chapter"])]
    rows.insert(0, "headline", [p[2] for p in picks])
    rows.insert(0, "group", [p[0] for p in picks])
    return rows


def recomputed_claims(df: pd.DataFrame) -> pd.DataFrame:
    """The arithmetic behind five verdicts, redone with the book's library from ``data/``.

    V2's training FLOPs (6·N·D), V3's compute against Epoch AI's GPT-4 estimate, V3's
    GPU-hours against Llama 3.1 405B's, R1's API price against o1's, and renting 100,000
    GPUs for a year at V3's assumed $2 per GPU-hour.

    Args:
        df: the ledger (see :func:`load_claims`); each check is matched to its row by the
            article's exact phrase.

    Returns:
        One row per check: ``claim`` (its id), ``quantity``, ``article_says`` (text),
        ``value`` (the recomputed number), ``recomputed`` (``value`` as a reader reads it)
        and ``verdict`` (the ledger's).

    Raises:
        ValueError: a phrase is not in the ledger exactly once.
    """
    from explainer import costs, facts  # not at import time: chapters import this module

    _check_ledger(df, ("claim_id", "quote", "verdict"))
    compute = facts.training_compute()  # 6·N·D per model (the cost chapter's table)
    v2, v3 = compute.loc["DeepSeek-V2", "flops_6nd"], compute.loc["DeepSeek-V3", "flops_6nd"]
    gpt4 = compute.loc["GPT-4", "reported_flops"]  # Epoch AI's estimate (secondary)
    hours_ratio = facts.one_tenth().loc["GPU-hours (reported)", "ratio"]
    output_less = facts.api_price_gap().loc["output", "less"]
    rent = costs.training_cost_usd(100_000 * 24 * 365, 2.0)  # V3's assumed $2 per GPU-hour
    checks = [
        ("21B / 236B | ~5e24", "DeepSeek-V2's training compute (6·N·D)", "about 5 × 10²⁴ FLOPs",
         v2, human(v2) + " FLOPs"),
        ("performance comparable to GPT-4 with an estimated 70-80% less compute cost",
         "V3's compute against GPT-4's (Epoch AI's estimate)", "70-80% less",
         1 - v3 / gpt4, f"{1 - v3 / gpt4:.0%} less"),
        ("required only one-tenth of the computing resources needed for Meta’s comparable "
         "Llama 3.1 model", "V3's GPU-hours against Llama 3.1 405B's", "one-tenth",
         hours_ratio, f"{hours_ratio:.1%}"),
        ("trained with approximately 96% less cost compared to similar models from US labs",
         "R1's API price per output token against o1's", "96% less",
         output_less, f"{output_less:.1%} less"),
        ("The cost of a 100,000-GPU cluster is in the billions of dollars",
         "renting 100,000 GPUs for a year at $2 an hour", "billions of dollars",
         rent, f"${rent / 1e9:.2f} billion"),
    ]
    verdict = df.set_index("claim_id")["verdict"]
    rows = []
    for quote, quantity, says, value, shown in checks:
        ids = df.loc[df["quote"] == quote, "claim_id"]
        if len(ids) != 1:
            raise ValueError(f"phrase not in the ledger exactly once: {quote!r}")
        cid = ids.item()
        rows.append((cid, quantity, says, float(value), shown, verdict[cid]))
    return pd.DataFrame(rows, columns=["claim", "quantity", "article_says", "value",
                                       "recomputed", "verdict"])


def verdict_counts(df: pd.DataFrame) -> pd.DataFrame:
    """Claims per article and verdict: one row per seed, one column per verdict (zeros kept)."""
    _check_ledger(df, ("seed_file", "verdict"))
    table = pd.crosstab(df["seed_file"], df["verdict"])
    return table.reindex(columns=list(VERDICTS), fill_value=0).sort_index()


def source_support(df: pd.DataFrame) -> pd.DataFrame:
    """How many rows of each verdict rest on a primary source, and how many on secondary only.

    A row counts as ``primary`` if any of its sources is of kind primary, as ``secondary
    only`` if it cites secondary sources but no primary one, and as ``neither`` if it
    cites only the seed article or the book's own arithmetic (projections, mostly).

    Args:
        df: the ledger (see :func:`load_claims`).

    Returns:
        One row per verdict in :data:`VERDICTS` order, columns ``primary``, ``secondary
        only``, ``neither`` and ``total`` (zeros kept).
    """
    _check_ledger(df, ("verdict", "source_id"))
    kinds = load_sources()["kind"].to_dict()

    def support(ids: object) -> str:
        found = {kinds.get(sid) for sid in split_source_ids(ids)}
        if "primary" in found:
            return "primary"
        return "secondary only" if "secondary" in found else "neither"

    columns = ["primary", "secondary only", "neither"]
    table = pd.crosstab(df["verdict"], df["source_id"].map(support))
    table = table.reindex(index=list(VERDICTS), columns=columns, fill_value=0)
    table["total"] = table.sum(axis=1)
    table.index.name, table.columns.name = "verdict", None
    return table

