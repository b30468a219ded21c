"""What happened next: the articles' predictions set against DeepSeek's releases through 2026.

* :func:`load_outcomes` reads ``data/outcomes.csv``: each prediction of the articles (the claims
  ledger's ``projection`` rows, by claim id, and forecasts from article 004's prose), a verdict
  from :data:`VERDICTS`, what happened, the date of the evidence, the date it was checked and
  the sources.
* :func:`load_releases` and :func:`load_prices` read the release timeline and DeepSeek's API
  prices over time (``data/deepseek_releases.csv``, ``data/api_prices_history.csv``).
* :func:`activation_table` computes total and activated parameters from the published configs
  (:mod:`explainer.architecture` for V2 and V3, :mod:`explainer.architecture_v4` for V3.2 and V4)
  next to the figures DeepSeek publishes; :func:`training_flops` applies the 6·N·D rule
  (:func:`explainer.costs.training_flops`) to the releases whose token counts are published.
"""

from __future__ import annotations

import pandas as pd

from explainer import architecture, architecture_v4, costs
from explainer.data import read_csv

__all__ = ["VERDICTS", "activation_table", "load_outcomes", "load_prices", "load_releases",
           "missing_projection_outcomes", "training_flops", "verdict_counts"]

# the verdicts, from best to worst news for the article
VERDICTS = ("held", "partly", "failed", "too early to tell", "unknown")


def load_outcomes() -> pd.DataFrame:
    """``data/outcomes.csv`` indexed by ``outcome_id``, verdicts checked.

    Returns:
        Columns ``claim_id`` ("" for forecasts taken from the prose), ``article``,
        ``prediction``, ``verdict``, ``what_happened``, ``evidence_date``, ``checked``,
        ``source_id``, ``searched``.

    Raises:
        ValueError: a verdict is not one of :data:`VERDICTS`, or an ``unknown`` row does not say
            what was searched.
    """
    df = read_csv("outcomes.csv", dtype=str, keep_default_na=False).set_index("outcome_id")
    bad = sorted(set(df["verdict"]) - set(VERDICTS))
    if bad:
        raise ValueError(f"outcomes.csv: verdicts {bad} not in {VERDICTS}")
    silent = df.index[(df["verdict"] == "unknown") & (df["searched"] == "")].tolist()
    if silent:
        raise ValueError(f"outcomes.csv: 'unknown' rows must say what was searched: {silent}")
    return df


def _check_frame(name: str, df, columns: tuple[str, ...], *, index_ok: bool = False) -> None:
    """ValueError naming ``name`` unless ``df`` is a DataFrame with ``columns`` (or, with
    ``index_ok``, with them as columns or index names)."""
    have = set(df.columns) | (set(df.index.names) if index_ok else set()) \
        if isinstance(df, pd.DataFrame) else set()
    if not isinstance(df, pd.DataFrame) or not set(columns) <= have:
        got = (f"columns {list(df.columns)}" if isinstance(df, pd.DataFrame)
               else type(df).__name__)
        raise ValueError(f"{name} must be a DataFrame with columns {list(columns)}, got {got}")


def verdict_counts(outcomes: pd.DataFrame) -> pd.Series:
    """How many predictions got each verdict, in the order of :data:`VERDICTS`.

    Raises:
        ValueError: ``outcomes`` is not a frame with a ``verdict`` column.
    """
    _check_frame("outcomes", outcomes, ("verdict",))
    return outcomes["verdict"].value_counts().reindex(list(VERDICTS), fill_value=0)


def missing_projection_outcomes(outcomes: pd.DataFrame, claims: pd.DataFrame) -> list[str]:
    """Claim ids of the ledger's ``projection`` rows that have no outcome yet.

    Args:
        outcomes: :func:`load_outcomes`.
        claims: the claims ledger (:func:`explainer.claims.load_claims`), with ``claim_id``
            and ``verdict`` columns or a ``claim_id`` index.

    Raises:
        ValueError: a frame without the columns named above.
    """
    _check_frame("outcomes", outcomes, ("claim_id",))
    _check_frame("claims", claims, ("claim_id", "verdict"), index_ok=True)
    c = claims.reset_index() if "claim_id" not in claims.columns else claims
    wanted = set(c.loc[c["verdict"] == "projection", "claim_id"])
    return sorted(wanted - set(outcomes["claim_id"]))


def load_releases() -> pd.DataFrame:
    """``data/deepseek_releases.csv`` with ``date`` parsed, in date order."""
    df = read_csv("deepseek_releases.csv")
    df["date"] = pd.to_datetime(df["date"])
    return df.sort_values(["date", "model"], kind="stable").reset_index(drop=True)


def load_prices() -> pd.DataFrame:
    """``data/api_prices_history.csv`` with ``as_of`` parsed, in date order.

    Prices are US dollars per million tokens; ``input_usd_per_mtok`` is the cache-miss input
    price (the peak-hour one where DeepSeek bills peak and off-peak hours differently).
    """
    df = read_csv("api_prices_history.csv")
    df["as_of"] = pd.to_datetime(df["as_of"])
    return df.sort_values(["as_of", "model"], kind="stable").reset_index(drop=True)


def activation_table() -> pd.DataFrame:
    """Total and activated parameters, computed from each config beside the published figures.

    Returns:
        One row per model (index ``model``: DeepSeek-V2, -V3, -V3.2-Exp, -V4-Flash, -V4-Pro) with
        ``total`` and ``activated`` (computed; the activated count includes the embedding, as
        DeepSeek counts V3's 37B), ``published_total``, ``published_activated`` (model cards and
        reports), ``share`` (activated / total, computed) and ``date`` (first release).
    """
    rows = []
    for name, label in (("deepseek_v2_236b", "DeepSeek-V2"), ("deepseek_v3_671b", "DeepSeek-V3")):
        c = architecture.param_counts(architecture.load_config(name))
        rows.append((label, c["total"], c["activated"]))
    c = architecture_v4.v32_param_counts()
    rows.append(("DeepSeek-V3.2-Exp", c["total"], c["activated"]))
    for name, label in zip(architecture_v4.V4_CONFIG_NAMES,
                           ("DeepSeek-V4-Flash", "DeepSeek-V4-Pro")):
        c = architecture_v4.v4_param_counts(architecture_v4.load_v4_config(name))
        rows.append((label, c["total"], c["activated"]))
    df = pd.DataFrame(rows, columns=["model", "total", "activated"]).set_index("model")
    rel = load_releases().assign(key=lambda d: d["model"].str.replace(" (preview)", "", regex=False))
    rel = rel.drop_duplicates("key").set_index("key")
    df["published_total"] = rel["total_params"].reindex(df.index)
    df["published_activated"] = rel["activated_params"].reindex(df.index)
    df["share"] = df["activated"] / df["total"]
    df["date"] = rel["date"].reindex(df.index)
    return df


def training_flops() -> pd.DataFrame:
    """Pre-training compute by 6·N·D for the releases whose tokens are published.

    Uses each release's published activated parameters N and pre-training tokens D
    (``data/deepseek_releases.csv``).

    Returns:
        Index ``model``; columns ``activated_params``, ``tokens``, ``flops``, ``mmlu`` (base
        model, 5-shot, where published; NaN otherwise) and ``date``.
    """
    rel = load_releases().dropna(subset=["pretraining_tokens"])
    rel = rel.assign(model=rel["model"].str.replace(" (preview)", "", regex=False))
    flops = [costs.training_flops(n, d) for n, d in
             zip(rel["activated_params"], rel["pretraining_tokens"])]
    return pd.DataFrame({"activated_params": rel["activated_params"].to_numpy(),
                         "tokens": rel["pretraining_tokens"].to_numpy(), "flops": flops,
                         "mmlu": rel["mmlu_base_5shot"].to_numpy(),
                         "date": rel["date"].to_numpy()}, index=pd.Index(rel["model"], name="model"))
