"""Figures of "What happened next": releases, sparsity, prices and the predictions' verdicts.

Data come from :mod:`explainer.outcomes`; every chart ends with :func:`finish` and every table goes
through :func:`explainer.tables.table`.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

from explainer.figures._base import check_frames, finish
from explainer.outcomes import VERDICTS
from explainer.tables import human, table

__all__ = ["activation_chart", "activation_table", "compute_table", "outcomes_table",
           "price_chart", "price_table", "timeline", "verdict_chart"]

_FAMILY_COLORS = {"V2": "#999999", "V3": "#0072B2", "V4": "#D55E00"}
_VERDICT_COLORS = ["#009E73", "#56B4E9", "#D55E00", "#E69F00", "#999999"]
_TIER_LABELS = {"flagship": "flagship", "reasoning": "reasoning (R1)", "fast": "fast, cheap tier"}
_TIER_COLORS = ["#0072B2", "#CC79A7", "#E69F00"]


def _short(model: str) -> str:
    return model.replace("DeepSeek-", "").replace(" (preview)", "")


def timeline(releases: pd.DataFrame) -> alt.Chart:
    """DeepSeek's releases and API updates from V2 to the latest, one row each.

    Args:
        releases: :func:`explainer.outcomes.load_releases`.
    """
    data = releases.assign(name=releases["model"].map(_short),
                           when=releases["date"].dt.strftime("%d %b %Y"),
                           what=releases["kind"].map({"release": "new model",
                                                      "update": "update of a model"}))
    order = list(data["name"])
    fam = alt.Scale(domain=list(_FAMILY_COLORS), range=list(_FAMILY_COLORS.values()))
    chart = (
        alt.Chart(data, title=alt.Title(["DeepSeek's releases,", "May 2024 to October 2026"],
                                        subtitle=["Filled: a new model; hollow: an update"]))
        .mark_point(size=90, strokeWidth=2, shape="circle")
        .encode(
            y=alt.Y("name:N", sort=order, title=None, axis=alt.Axis(labelLimit=140)),
            x=alt.X("date:T", title="release date",
                    axis=alt.Axis(format="%Y", tickCount="year", labelAngle=0)),
            color=alt.Color("family:N", title="generation", scale=fam,
                            legend=alt.Legend(orient="bottom", columns=3)),
            fill=alt.condition(alt.datum.kind == "release",
                               alt.Fill("family:N", scale=fam, legend=None),
                               alt.value("transparent")),
            tooltip=[alt.Tooltip("model:N"), alt.Tooltip("when:N", title="date"),
                     alt.Tooltip("what:N", title="kind"), alt.Tooltip("note:N")],
        )
        .properties(height=alt.Step(24))
    )
    return finish(chart, description=(
        f"DeepSeek's {len(data)} releases and updates from V2 (May 2024) to V4.1-Flash "
        "(October 2026), one row each in date order: the V3 family fills 2025 and the V4 "
        "family starts in April 2026."))


def activation_table(table_df: pd.DataFrame):
    """Total and activated parameters: computed from each config, and as DeepSeek publishes them.

    Args:
        table_df: :func:`explainer.outcomes.activation_table`.
    """
    df = pd.DataFrame({
        "total parameters (computed)": (table_df["total"]).to_numpy(),
        "total parameters (DeepSeek)": (table_df["published_total"]).to_numpy(),
        "activated per token (computed)": (table_df["activated"]).to_numpy(),
        "activated per token (DeepSeek)": (table_df["published_activated"]).to_numpy(),
        "share activated": (table_df["share"]).to_numpy(),
    }, index=pd.Index(table_df.index.map(_short), name="model"))
    return table(df, formats={c: "auto" for c in df.columns[:4]} | {"share activated": "pct"},
                 caption=("Parameters counted layer by layer from each published configuration, "
                          "beside the model cards' rounded figures. The computed activated "
                          "count includes the input embedding, as DeepSeek's count for V3 "
                          "does. A dash: DeepSeek publishes no separate figure for V3.2-Exp, "
                          "whose configuration repeats V3's shape and adds an indexer."))


def activation_chart(table_df: pd.DataFrame) -> alt.Chart:
    """The share of its parameters each model uses per token, V2 to V4 (bars, linear scale).

    Args:
        table_df: :func:`explainer.outcomes.activation_table`.
    """
    data = table_df.reset_index().assign(
        name=lambda d: d["model"].map(_short),
        family=lambda d: d["name"].str.slice(0, 2),
        label=lambda d: (d["share"] * 100).map(lambda v: f"{v:.1f}%"),
        total_text=lambda d: d["total"].map(human), active_text=lambda d: d["activated"].map(human))
    base = alt.Chart(data, title=alt.Title(["Share of the weights used", "for each token"],
                                           subtitle=["Computed from the configs"]))
    enc = {"y": alt.Y("name:N", sort=list(data["name"]), title=None,
                      axis=alt.Axis(labelLimit=120)),
           "x": alt.X("share:Q", title="activated ÷ total parameters",
                      axis=alt.Axis(format="%", tickCount=4), scale=alt.Scale(domain=[0, 0.12]))}
    bars = base.mark_bar().encode(
        **enc,
        color=alt.Color("family:N", scale=alt.Scale(domain=list(_FAMILY_COLORS),
                                                   range=list(_FAMILY_COLORS.values())),
                        legend=None),
        tooltip=[alt.Tooltip("model:N"), alt.Tooltip("total_text:N", title="total"),
                 alt.Tooltip("active_text:N", title="activated"), alt.Tooltip("label:N", title="share")])
    text = base.mark_text(align="left", dx=4).encode(**enc, text="label:N")
    return finish(alt.layer(bars, text), description=(
        "Horizontal bars of the share of parameters each model activates per token, computed "
        "from the configurations: V2 about 9%, V3 and V3.2 about 6%, V4-Flash about 5% and "
        "V4-Pro about 3%. Each generation got sparser, not denser."))


def compute_table(flops: pd.DataFrame):
    """Pre-training compute by 6·N·D beside the article's 1e26 for 'DeepSeek Next'.

    Args:
        flops: :func:`explainer.outcomes.training_flops`.
    """
    df = pd.DataFrame({
        "activated parameters": (flops["activated_params"]).to_numpy(),
        "training tokens": (flops["tokens"]).to_numpy(),
        "compute, FLOPs (6·N·D)": (flops["flops"]).to_numpy(),
        "share of the article's 10²⁶": (flops["flops"] / 1e26).to_numpy(),
        "MMLU, base model (5-shot)": flops["mmlu"].to_numpy(),
    }, index=pd.Index(flops.index.map(_short), name="model"))
    return table(df, formats={"activated parameters": "auto", "training tokens": "auto",
                              "compute, FLOPs (6·N·D)": "auto",
                              "share of the article's 10²⁶": "pct",
                              "MMLU, base model (5-shot)": "dec1"},
                 caption=("Pre-training compute by 6·N·D: six operations per activated parameter "
                          "per token, with the parameters and tokens DeepSeek published (V2 and "
                          "V3 reports, V4 report §1). Article 004 projected more than 10²⁶ for "
                          "the next model and an MMLU score above 90. MMLU of the base models: "
                          "V2 report; V3 report Table 3 (V3-Base); V4 report Table 1."))


def price_chart(prices: pd.DataFrame) -> alt.Chart:
    """DeepSeek's API input price over time, with the article's 2024 and 2026 price ranges.

    Args:
        prices: :func:`explainer.outcomes.load_prices`.
    """
    data = prices.assign(
        name=prices["model"].map(_short), tier_label=prices["tier"].map(_TIER_LABELS),
        when=prices["as_of"].dt.strftime("%b %Y"),
        reported=prices["is_secondary"].map({True: "reported by third parties",
                                             False: "DeepSeek's own page"}))
    start, end = data["as_of"].min() - pd.Timedelta(days=45), data["as_of"].max() + pd.Timedelta(days=45)
    bands = pd.DataFrame({"lo": [0.10, 0.50], "hi": [0.50, 5.00], "x0": [start, start],
                          "x1": [end, end], "band": ["article: 2024", "article: 2026"]})
    y = alt.Y("input_usd_per_mtok:Q", title="$ per million input tokens (log scale)",
              scale=alt.Scale(type="log", domain=[0.1, 5]),
              axis=alt.Axis(values=[0.1, 0.2, 0.5, 1, 2, 5], format="$.2~f"))
    shade = alt.Chart(bands).mark_rect(opacity=0.12).encode(
        x="x0:T", x2="x1:T", y=alt.Y("lo:Q", scale=alt.Scale(type="log", domain=[0.1, 5])),
        y2="hi:Q", color=alt.Color("band:N", scale=alt.Scale(range=["#999999", "#CC79A7"]),
                                   legend=None))
    band_text = alt.Chart(bands).mark_text(align="left", baseline="top", dx=4, dy=4,
                                           fontSize=11, color="#777777").encode(
        x="x0:T", y=alt.Y("hi:Q", scale=alt.Scale(type="log", domain=[0.1, 5])),
        text="band:N")
    tiers = alt.Scale(domain=list(_TIER_LABELS.values()), range=_TIER_COLORS)
    points = alt.Chart(data).mark_point(size=80, strokeWidth=2, shape="circle").encode(
        x=alt.X("as_of:T", title=None, axis=alt.Axis(format="%Y", tickCount="year")),
        y=y,
        color=alt.Color("tier_label:N", title=None, scale=tiers,
                        legend=alt.Legend(orient="bottom", columns=2)),
        fill=alt.condition(alt.datum.is_secondary, alt.value("transparent"),
                           alt.Fill("tier_label:N", scale=tiers, legend=None)),
        tooltip=[alt.Tooltip("name:N", title="model"), alt.Tooltip("when:N", title="as of"),
                 alt.Tooltip("input_usd_per_mtok:Q", title="$ per 1M input", format="$.3~f"),
                 alt.Tooltip("output_usd_per_mtok:Q", title="$ per 1M output", format="$.2f"),
                 alt.Tooltip("reported:N", title="source")])
    chart = alt.layer(shade, band_text, points, title=alt.Title(
        ["DeepSeek's API price,", "May 2024 to October 2026"],
        subtitle=["Hollow: third-party reports", "Shaded: article 004's ranges"]))
    return finish(chart, description=(
        "DeepSeek's price per million input tokens over time on a log scale, with article 004's "
        "2024 range ($0.10-0.50) and 2026 range ($0.50-5.00) shaded: the fast tier stays in the "
        "2024 range, the V4-Pro flagship sits inside the 2026 range."))


def price_table(prices: pd.DataFrame):
    """DeepSeek's API prices per million tokens over time, one row per model and date.

    Args:
        prices: :func:`explainer.outcomes.load_prices`.
    """
    df = pd.DataFrame({
        "as of": prices["as_of"].dt.strftime("%b %Y"),
        "model": prices["model"].map(_short),
        "input, $ per 1M tokens": prices["input_usd_per_mtok"],
        "cached input, $ per 1M": prices["input_cache_hit_usd_per_mtok"],
        "output, $ per 1M tokens": prices["output_usd_per_mtok"],
        "source": prices["is_secondary"].map({True: "third-party report",
                                              False: "DeepSeek"}),
    })
    def money(v: float) -> str:
        if pd.isna(v):
            return "—"
        digits = f"{v:.6f}".rstrip("0")  # keep DeepSeek's own precision, at least cents
        return "$" + (digits if len(digits.split(".")[1]) >= 2 else f"{v:.2f}")
    return table(df, index=False, formats={c: money for c in df.columns[2:5]},
                 caption=("DeepSeek's API prices in US dollars per million tokens: input on a "
                          "cache miss, input on a cache hit, output. From October 2026 DeepSeek "
                          "bills peak and off-peak hours; the peak price is shown (off-peak is "
                          "half). A dash: no cached price in the source."))


def outcomes_table(outcomes: pd.DataFrame, sources: pd.DataFrame | None = None):
    """Each prediction of the articles with its verdict, what happened and the sources.

    Args:
        outcomes: :func:`explainer.outcomes.load_outcomes`.
        sources: ``data/sources.csv`` indexed by ``source_id`` (to print titles); ``None``
            prints the ids.
    """
    order = {v: i for i, v in enumerate(VERDICTS)}
    o = outcomes.assign(rank=outcomes["verdict"].map(order)).sort_values(["rank"], kind="stable")

    def cite(ids: str) -> str:
        parts = [s.strip() for s in ids.split(";") if s.strip()]
        if sources is None:
            return "; ".join(parts)
        names = []
        for s in parts:
            if s == "book":
                names.append("this book's arithmetic")
            elif s in sources.index:
                title = sources.loc[s, "title"]
                kind = sources.loc[s, "kind"]
                names.append(title.split(" (")[0] + (" (secondary)" if kind == "secondary" else ""))
        return "; ".join(names)

    where = "article " + o["article"] + o["claim_id"].map(lambda c: f", ledger {c}" if c else "")
    df = pd.DataFrame({
        "prediction": o["prediction"] + " (" + where + ")",
        "verdict": o["verdict"],
        "what happened": o["what_happened"],
        "evidence dated": pd.to_datetime(o["evidence_date"].replace("", None)).dt.strftime("%b %Y"),
        "sources": o["source_id"].map(cite),
    })
    return table(df, index=False, caption=(
        "The articles' predictions and what happened, checked on 3 December 2026. In brackets: "
        "the article and, where it has one, the claim's row in the claims ledger. A dash under "
        "'evidence dated': no evidence found; those rows say in the data what was searched."))


def verdict_chart(counts: pd.Series) -> alt.Chart:
    """How many of the predictions got each verdict (bars, linear scale).

    Args:
        counts: :func:`explainer.outcomes.verdict_counts`.
    """
    data = counts.rename("n").rename_axis("verdict").reset_index()
    base = alt.Chart(data, title=alt.Title(f"{int(counts.sum())} predictions, checked",
                                           subtitle=["December 2026"]))
    enc = {"y": alt.Y("verdict:N", sort=list(VERDICTS), title=None),
           "x": alt.X("n:Q", title="predictions", axis=alt.Axis(tickMinStep=1, tickCount=4))}
    bars = base.mark_bar().encode(
        **enc, color=alt.Color("verdict:N", scale=alt.Scale(domain=list(VERDICTS),
                                                            range=_VERDICT_COLORS), legend=None),
        tooltip=["verdict:N", alt.Tooltip("n:Q", title="predictions")])
    text = base.mark_text(align="left", dx=4).encode(**enc, text="n:Q")
    return finish(alt.layer(bars, text), description=(
        "Bars counting the articles' predictions by verdict: " + ", ".join(
            f"{n} {v}" for v, n in counts.items()) + "."))


check_frames(globals())  # refuse a missing or malformed frame by name (issue #25)
