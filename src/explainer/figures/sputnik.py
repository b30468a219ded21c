"""Figures of "The Sputnik moment": the timeline, V3 against Llama 3.1, the bill per request.

Each function takes what :mod:`explainer.story` and :mod:`explainer.facts` compute
and returns an Altair chart with its description (:func:`explainer.figures.finish`).
"""

from __future__ import annotations

import altair as alt
import pandas as pd

from explainer import story
from explainer.controls import Choice
from explainer.figures._base import finish

__all__ = ["MEASURE", "bill", "bill_at", "tenth", "timeline"]

# the measures of explainer.facts.one_tenth (a test checks they match its index)
MEASURE = Choice("measure", "Measure", options=(
    "GPU-hours (reported)", "training FLOPs (6·N·D)", "training FLOPs (6·N·D vs published)"),
    default="GPU-hours (reported)")

# titles in short lines: a title wider than the page squeezes the plot to nothing on a phone
_BILL_TITLE = alt.Title("What 1,000 requests cost at list prices",
                        subtitle=["R1 at DeepSeek's cache-miss input price;",
                                  "OpenAI prices are secondary"])


def timeline(events: pd.DataFrame) -> alt.Chart:
    """The story's dated events, coloured by kind, shaped by who reported them.

    Args:
        events: :func:`explainer.story.load_events`.
    """
    kind_pick = alt.selection_point(fields=["kind"], bind="legend")
    chart = (
        alt.Chart(events[["date", "event", "kind", "reported by", "source", "note"]],
                  # anchored right: the long event labels leave the plot narrow
                  title=alt.Title(["From DeepSeek-V3 to R1,", "the market's reaction, and after"],
                                  subtitle=["Circles: dated by DeepSeek's repositories;",
                                            "squares: known from news reports.",
                                            "Click a colour in the legend to pick out one kind."],
                                  anchor="end"))
        .mark_point(size=120, filled=True)
        .encode(
            x=alt.X("date:T", title=None, axis=alt.Axis(format="%b %Y"),
                    scale=alt.Scale(domain=["2024-12-01", "2025-10-31"])),
            y=alt.Y("event:N", title=None, sort=alt.EncodingSortField("date"),
                    # labels get about half the page: whole on a desktop, cut short on a phone
                    axis=alt.Axis(labelLimit=alt.ExprRef(
                        "min(430, max(120, containerSize()[0] * 0.6))"))),
            color=alt.Color("kind:N", title=None,
                            legend=alt.Legend(orient="top", direction="vertical")),
            shape=alt.Shape("reported by:N", legend=None,  # named in the subtitle
                            sort=["DeepSeek's repository", "secondary (news, third party)"],
                            scale=alt.Scale(range=["circle", "square"])),
            opacity=alt.condition(kind_pick, alt.value(1.0), alt.value(0.15)),
            tooltip=[alt.Tooltip("date:T", format="%Y-%m-%d"), "event", "reported by", "source",
                     "note"],
        )
        .add_params(kind_pick)
        .properties(height=230)
    )
    first, last = events.loc[events["date"].idxmin()], events.loc[events["date"].idxmax()]
    return finish(chart, description=(
        f"Timeline of {len(events)} dated events of the DeepSeek story, from "
        f"{first['date']:%B %Y} ({first['event']}) to {last['date']:%B %Y} ({last['event']}), "
        "coloured by kind (release, market, response). The point's shape tells events dated "
        "by DeepSeek's repositories from those known from news reports."))


def tenth(compare: pd.DataFrame) -> alt.Chart:
    """DeepSeek-V3's training compute as a share of Llama 3.1 405B's, one measure at a time.

    Args:
        compare: :func:`explainer.facts.one_tenth` (indexed by measure; columns ``model``,
            ``reference``, ``ratio``).
    """
    rows = []
    for measure, r in compare.iterrows():
        rows += [{"model": "DeepSeek-V3", "measure": measure, "amount": r["model"],
                  "share of Llama": r["ratio"]},
                 {"model": "Llama 3.1 405B", "measure": measure, "amount": r["reference"],
                  "share of Llama": 1.0}]
    pick = MEASURE.param()
    chart = (
        alt.Chart(pd.DataFrame(rows),
                  title=alt.Title(["DeepSeek-V3 used about a tenth of",
                                   "Llama 3.1 405B's training compute"],
                                  subtitle=["Each bar as a share of Llama 3.1 405B,",
                                            "on the chosen measure"]))
        .mark_bar()
        .encode(
            y=alt.Y("model:N", title=None),
            x=alt.X("share of Llama:Q", title="share of Llama 3.1 405B",
                    axis=alt.Axis(format="%"), scale=alt.Scale(domain=[0, 1])),
            color=alt.Color("model:N", legend=None),
            tooltip=["model", "measure", alt.Tooltip("amount:Q", format=".3s"),
                     alt.Tooltip("share of Llama:Q", format=".1%")],
        )
        .add_params(pick)
        .transform_filter(f"datum.measure == {MEASURE.name}")
        .properties(height=110)
    )
    return finish(chart, description=(
        "Two bars, DeepSeek-V3 and Llama 3.1 405B, as a share of Llama's training compute; "
        "a dropdown picks the measure (reported GPU-hours or 6·N·D FLOPs). On every measure "
        f"V3's bar stops between {compare['ratio'].min():.1%} and {compare['ratio'].max():.1%}."))


def _bill_bars(data: pd.DataFrame, title: alt.Title) -> alt.Chart:
    return (
        alt.Chart(data, title=title)
        .mark_bar()
        .encode(
            y=alt.Y("model:N", title=None, sort=list(story.BILL_MODELS)),
            x=alt.X("usd:Q", title="US dollars per 1,000 requests"),
            color=alt.Color("model:N", legend=None),
            tooltip=["model", alt.Tooltip("usd:Q", format="$,.2f")],
        )
        .properties(height=120)
    )


def _bill_description(prices: pd.DataFrame) -> str:
    lo, hi = (prices[["input × first", "output × first"]].min(axis=1),
              prices[["input × first", "output × first"]].max(axis=1))
    o1, o3 = "OpenAI o1", "OpenAI o3-mini"
    return ("Bars of what 1,000 requests cost through the APIs of DeepSeek-R1, OpenAI o3-mini "
            f"and OpenAI o1 at list prices. At any request size o1's bar is {lo[o1]:.3g} to "
            f"{hi[o1]:.3g} times R1's and o3-mini's {lo[o3]:.3g} to {hi[o3]:.3g} times.")


def bill(prices: pd.DataFrame) -> alt.Chart:
    """The bill for 1,000 requests, recomputed in the browser from two token sliders.

    The formula is :func:`explainer.story.api_cost_expr` (tested against
    :func:`explainer.costs.api_cost_usd`); the sliders are :data:`explainer.story.IN_TOK`
    and :data:`explainer.story.OUT_TOK`.

    Args:
        prices: :func:`explainer.story.price_multiples` of :data:`explainer.story.BILL_MODELS`.
    """
    rows = prices.loc[list(story.BILL_MODELS), ["input_usd_per_mtok", "output_usd_per_mtok"]]
    usd = "1000 * " + story.api_cost_expr(story.IN_TOK.name, story.OUT_TOK.name,
                                          "datum.input_usd_per_mtok",
                                          "datum.output_usd_per_mtok")
    chart = (_bill_bars(rows.reset_index(names="model"), _BILL_TITLE)
             .transform_calculate(usd=usd)
             .add_params(story.IN_TOK.param(), story.OUT_TOK.param()))
    return finish(chart, description=_bill_description(prices))


def bill_at(in_tok: float, out_tok: float) -> alt.Chart:
    """The same bars for one request size, computed in Python (:func:`explainer.story.bill_per_1k`).

    Args:
        in_tok, out_tok: tokens per request (output includes thinking).
    """
    usd = story.bill_per_1k(in_tok, out_tok).rename("usd").reset_index()
    title = alt.Title(_BILL_TITLE.text, subtitle=[f"{in_tok:,} input and {out_tok:,} output",
                                                  "tokens per request"])
    return finish(_bill_bars(usd, title),
                  description=_bill_description(story.price_multiples(story.BILL_MODELS)))
