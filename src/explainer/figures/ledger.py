"""Figures of the claims ledger appendix: how the seed articles' claims hold up.

Each function takes the ledger (:func:`explainer.claims.load_claims`) and returns an
Altair chart with its description (:func:`explainer.figures.finish`).
"""

from __future__ import annotations

import altair as alt
import pandas as pd

from explainer.claims import VERDICT_COLORS, VERDICTS, seed_label
from explainer.figures._base import finish

__all__ = ["verdict_scale", "verdicts_chart"]


def verdict_scale() -> alt.Scale:
    """The verdicts' colours, in :data:`explainer.claims.VERDICTS` order."""
    return alt.Scale(domain=list(VERDICTS), range=[VERDICT_COLORS[v] for v in VERDICTS])


def verdicts_chart(df: pd.DataFrame) -> alt.Chart:
    """Stacked bar of verdicts per article; click a legend entry to highlight one verdict.

    Args:
        df: the ledger (see :func:`explainer.claims.load_claims`).

    Returns:
        An Altair chart (import :mod:`explainer.charts` first for the book's theme).
    """
    counts = (
        df.assign(article=df["seed_file"].map(seed_label))
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
            x=alt.X("claims:Q", title="claims checked", stack="zero"),
            y=alt.Y("article:N", title=None, sort="ascending", axis=alt.Axis(labelLimit=230)),
            color=alt.Color(
                "verdict:N", scale=verdict_scale(),
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
            height=alt.Step(34),
        )
    )
    return finish(chart, description=(
        "Stacked bars, one per seed article, counting the article's claims by verdict: "
        "supported, approximate, wrong, projection and unverifiable."))
