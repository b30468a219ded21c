"""Figures of the claims ledger and the verdicts page: how the articles' claims hold up.

Each chart function takes the ledger (:func:`explainer.claims.load_claims`) and returns an
Altair chart with its description (:func:`explainer.figures.finish`); each ``*_table``
function returns a table for readers (:func:`explainer.tables.table`).
"""

from __future__ import annotations

import altair as alt
import pandas as pd

from explainer.claims import (VERDICT_COLORS, VERDICT_MEANINGS, VERDICTS,
                              article_name, source_support, verdict_totals)
from explainer.figures._base import check_frames, finish
from explainer.tables import table

__all__ = ["arithmetic_table", "support_table", "totals_chart",
           "verdict_scale", "verdict_table", "verdicts_chart", "wrong_table"]


def verdict_scale() -> alt.Scale:
    """The verdicts' colours, in :data:`explainer.claims.VERDICTS` order."""
    return alt.Scale(domain=list(VERDICTS), range=[VERDICT_COLORS[v] for v in VERDICTS])


def totals_chart(df: pd.DataFrame) -> alt.Chart:
    """One bar per verdict, its length the number of claims, labelled with count and share.

    Args:
        df: the ledger (see :func:`explainer.claims.load_claims`).

    Returns:
        An Altair chart (import :mod:`explainer.charts` first for the book's theme).
    """
    totals = verdict_totals(df).reset_index()
    totals["label"] = [f"{n} ({s:.0%})" for n, s in zip(totals["claims"], totals["share"])]
    top = int(totals["claims"].max())
    base = alt.Chart(totals).encode(
        y=alt.Y("verdict:N", sort=list(VERDICTS), title=None,
                axis=alt.Axis(labelFontSize=13, labelLimit=120)),
        x=alt.X("claims:Q", title="claims", scale=alt.Scale(domain=[0, round(top * 1.35)]),
                axis=alt.Axis(tickCount=4)),
        tooltip=["verdict:N", "claims:Q", alt.Tooltip("share:Q", format=".0%")],
    )
    bars = base.mark_bar().encode(
        color=alt.Color("verdict:N", scale=verdict_scale(), legend=None))
    labels = base.mark_text(align="left", dx=4, fontSize=12).encode(text="label:N")
    chart = (bars + labels).properties(
        title=alt.Title(f"How the {len(df)} claims hold up",
                        subtitle=["claims per verdict, and their share"]),
        height=alt.Step(30),
    )
    return finish(chart, description=(
        f"Horizontal bars, one per verdict, counting the {len(df)} checkable claims of the five "
        "articles: " + ", ".join(f"{v} {n}" for v, n in zip(totals["verdict"], totals["claims"]))
        + "."))


def verdicts_chart(df: pd.DataFrame) -> alt.Chart:
    """Stacked bar of verdicts per article; click a legend entry to highlight one verdict.

    Args:
        df: the ledger (see :func:`explainer.claims.load_claims`).

    Returns:
        An Altair chart (import :mod:`explainer.charts` first for the book's theme).
    """
    counts = (
        df.assign(article=df["seed_file"].map(article_name))
        .groupby(["article", "verdict"], as_index=False)
        .size()
        .rename(columns={"size": "claims"})
    )
    counts["order"] = counts["verdict"].map(VERDICTS.index)
    pick = alt.selection_point(fields=["verdict"], bind="legend")
    chart = (
        alt.Chart(counts)
        .mark_bar()
        .encode(
            x=alt.X("claims:Q", title="claims", stack="zero", axis=alt.Axis(tickCount=5)),
            y=alt.Y("article:N", title=None, sort="ascending", axis=alt.Axis(labelLimit=130)),
            color=alt.Color(
                "verdict:N", scale=verdict_scale(),
                legend=alt.Legend(title=["verdict", "(click one to highlight it)"],
                                  orient="bottom", columns=1, labelLimit=110),
            ),
            order=alt.Order("order:Q"),
            opacity=alt.condition(pick, alt.value(1.0), alt.value(0.2)),
            tooltip=["article:N", "verdict:N", "claims:Q"],
        )
        .add_params(pick)
        .properties(
            title=alt.Title("Verdicts per article",
                            subtitle=["how each article's", "checkable claims hold up"]),
            height=alt.Step(34),
        )
    )
    return finish(chart, description=(
        "Stacked bars, one per article, counting the article's claims by verdict: "
        "supported, approximate, wrong, projection and unverifiable."))


def verdict_table(df: pd.DataFrame):
    """Each verdict with what it means, how many claims got it and their share.

    Args:
        df: the ledger (see :func:`explainer.claims.load_claims`).

    Returns:
        A table for readers (:func:`explainer.tables.table`).
    """
    totals = verdict_totals(df)
    shown = pd.DataFrame({
        "verdict": totals.index,
        "what it means": [VERDICT_MEANINGS[v] for v in totals.index],
        "claims": totals["claims"].to_numpy(),
        "share": totals["share"].to_numpy(),
    })
    return table(shown, index=False, formats={"share": "pct"},
                 caption=f"The {len(df)} claims by verdict; share of all claims.")


def support_table(df: pd.DataFrame):
    """For each verdict, how many claims cite a primary source and how many only secondary.

    Args:
        df: the ledger (see :func:`explainer.claims.load_claims`).

    Returns:
        A table for readers (:func:`explainer.tables.table`): one row per verdict.
    """
    support = source_support(df).rename(columns={"total": "all claims"})
    return table(support, caption="Claims by the best source they cite: a primary one, secondary "
                                   "ones only, or neither (the article or our arithmetic).")


def wrong_table(df: pd.DataFrame):
    """The claims the sources contradict: the article's phrase and what the source says.

    Args:
        df: the ledger (see :func:`explainer.claims.load_claims`).

    Returns:
        A table for readers (:func:`explainer.tables.table`), full cell text.
    """
    wrong = df.loc[df["verdict"] == "wrong", ["claim_id", "quote", "primary_says"]]
    shown = wrong.rename(columns={"claim_id": "claim", "quote": "the article said",
                                  "primary_says": "what the source says"})
    return table(shown.reset_index(drop=True), index=False,
                 caption=f"The {len(shown)} claims marked wrong.")


def arithmetic_table(checks: pd.DataFrame):
    """The recomputed figures behind five verdicts (:func:`explainer.claims.recomputed_claims`).

    Args:
        checks: :func:`explainer.claims.recomputed_claims`.

    Returns:
        A table for readers (:func:`explainer.tables.table`).
    """
    shown = checks[["claim", "quantity", "article_says", "recomputed", "verdict"]].rename(
        columns={"article_says": "the article says", "recomputed": "recomputed here",
                 "verdict": "ledger verdict"})
    return table(shown, index=False,
                 caption="Five figures, recomputed from the data.")


check_frames(globals())  # refuse a missing or malformed frame by name (issue #25)
