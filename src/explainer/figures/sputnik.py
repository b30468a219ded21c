"""Figures of "The Sputnik moment": the eleven days, the bill per request, and their tables.

Each chart function takes what :mod:`explainer.story` computes and returns an Altair chart
with its description (:func:`explainer.figures.finish`); each ``*_table`` function returns
a table made for readers (:func:`explainer.tables.table`).
"""

from __future__ import annotations

import textwrap

import altair as alt
import pandas as pd

from explainer import story
from explainer.figures._base import check_frames, finish
from explainer.tables import table

__all__ = ["bill", "bill_at", "event_table", "price_table", "timeline"]

# titles in short lines: a title wider than the page squeezes the plot to nothing on a phone
_BILL_TITLE = alt.Title(["What 1,000 requests cost", "at list prices"],
                        subtitle=["R1 at DeepSeek's cache-miss input price;",
                                  "OpenAI prices are secondary"])
_REPORTED = {False: "DeepSeek's repository", True: "news reports (secondary)"}  # tooltips


# --------------------------------------------------------------------------- tables
def event_table(events: pd.DataFrame, kinds: list[str] | None = None):
    """The dated events for a reader: date, what happened, and the source (secondary flagged).

    Args:
        events: :func:`explainer.story.load_events`.
        kinds: keep only these kinds (``"release"``, ``"market"``, ``"response"``); all if ``None``.
    """
    rows = story.event_table(events, kinds)
    shown = pd.DataFrame({
        "date": pd.to_datetime(rows["date"]).dt.strftime("%-d %b %Y"),
        "what happened": rows["event"],
        "source": rows["source"],
    })
    caption = "Releases are dated by DeepSeek's own repositories and model cards"
    if rows["reported by"].str.startswith("secondary").any():
        caption += ("; the market move and OpenAI's reply are known only from news reports and "
                    "third-party summaries (secondary)")
    return table(shown, index=False, caption=caption + ".")


def price_table(prices: pd.DataFrame):
    """List prices per million tokens, and the output price as a multiple of the first model's.

    Args:
        prices: :func:`explainer.story.price_multiples` (the first row is the base), indexed
            by model name.
    """
    if not isinstance(prices.index[0], str):
        raise ValueError(f"prices must be indexed by model name, got {prices.index[0]!r} first")
    base = prices.index[0].removeprefix("DeepSeek-")
    times = f"output price, × {base}'s"
    shown = pd.DataFrame({
        "model": prices.index + prices["is_secondary"].map({True: " *", False: ""}),
        "input": prices["input_usd_per_mtok"],
        "output": prices["output_usd_per_mtok"],
        times: prices["output × first"],
    })
    return table(shown, index=False,
                 formats={"input": "usd", "output": "usd", times: "times"}, caption=(
                     "API list prices at launch, in US dollars per million tokens (input at the "
                     "cache-miss price). * Prices copied by a third party (secondary)."))


# --------------------------------------------------------------------------- timeline
_WRAP = 40  # characters per label line: whole on a 390 px phone at the chart's font size
_LINE = 14  # pixels per label line
_DAY_PAD = 1.6  # days of room either side of the eleven days, for the arrows


def _months_between(a: pd.Timestamp, b: pd.Timestamp) -> int:
    """Whole months from ``a`` to ``b`` (b later)."""
    return (b.year - a.year) * 12 + b.month - a.month - (b.day < a.day)


def _timeline_rows(events: pd.DataFrame) -> tuple[pd.DataFrame, int, int]:
    """One row per event: its label (wrapped), day after R1's release, position, shape, pixels.

    Returns:
        The rows, the span of the moment in days, and the chart's height in pixels.
    """
    r1 = story.event_date(events, "DeepSeek-R1 ")
    span = story.moment_days(events)
    rows, y = [], 34  # room at the top for the bracket over the eleven days
    for _, e in events.iterrows():
        day = int((e["date"] - r1).days)
        if day < 0:
            when, pos, shape = f"{-day} days before", -_DAY_PAD + 0.4, "triangle-left"
        elif day > span:
            when = f"{_months_between(r1, e['date'])} months after"
            pos, shape = span + _DAY_PAD - 0.4, "triangle-right"
        else:
            when, pos = f"day {day}", float(day)
            shape = "square" if e["is_secondary"] else "circle"
        head = f"{e['date']:%-d %b %Y}, {when}: "
        lines = textwrap.wrap(head + e["event"], _WRAP)
        top, y = y, y + _LINE * len(lines)
        rows.append({"label": "\n".join(lines), "y_text": top, "y_dot": y + 9, "day": day,
                     "pos": pos, "in_window": 0 <= day <= span, "shape": shape,
                     "date": e["date"], "event": e["event"], "kind": e["kind"],
                     "reported by": _REPORTED[bool(e["is_secondary"])], "source": e["source"],
                     "note": e["note"]})
        y += 18 + 14  # the dot's row, then a gap before the next label
    return pd.DataFrame(rows), span, y


def timeline(events: pd.DataFrame) -> alt.LayerChart:
    """The eleven days from R1's release to o3-mini, with what came before and after.

    The x axis counts days after R1's release; each event is a row with its label above
    its mark, and a line from day 0 shows how long after the release it came. Events
    outside the eleven days sit at the edges as arrows (their labels say how far).

    Args:
        events: :func:`explainer.story.load_events`.
    """
    rows, span, height = _timeline_rows(events)
    x_scale = alt.Scale(domain=[-_DAY_PAD, span + _DAY_PAD], nice=False)
    kind_pick = alt.selection_point(fields=["kind"], bind="legend")
    base = alt.Chart(rows)
    # ticks and grid lines only on the days something happened
    marked = sorted({0, span, *rows.loc[rows["in_window"], "day"]})
    axis = alt.Axis(values=marked, grid=True, format="d")
    r1_day = rows.loc[rows["day"] == 0, "date"].iloc[0]
    x = alt.X("pos:Q", scale=x_scale, axis=axis,
              title=["days after R1's release", f"({r1_day:%-d %B %Y})"])
    y_dot = alt.Y("y_dot:Q", scale=None, axis=None)
    elapsed = base.transform_filter("datum.in_window && datum.day > 0").mark_rule(
        strokeWidth=2, color="#888888").encode(x=alt.X("zero:Q", scale=x_scale), x2="pos:Q", y=y_dot
    ).transform_calculate(zero="0")
    dots = base.mark_point(size=130, filled=True).encode(
        x=x, y=y_dot,
        color=alt.Color("kind:N", title=None, sort=["release", "market", "response"],
                        legend=alt.Legend(orient="bottom", direction="horizontal")),
        shape=alt.Shape("shape:N", scale=None),
        opacity=alt.condition(kind_pick, alt.value(1.0), alt.value(0.15)),
        tooltip=[alt.Tooltip("date:T", format="%-d %B %Y"), "event", "reported by", "source",
                 "note"],
    ).add_params(kind_pick)
    labels = base.mark_text(align="left", baseline="top", fontSize=11, lineBreak="\n",
                            lineHeight=_LINE).encode(
        x=alt.value(0), y=alt.Y("y_text:Q", scale=None, axis=None), text="label:N")
    bracket = pd.DataFrame({"start": [0], "end": [span], "y": [26],
                            "text": [f"the {span} days: R1 to o3-mini"]})
    over = alt.Chart(bracket)
    span_rule = over.mark_rule(strokeWidth=2, color="#D55E00").encode(
        x=alt.X("start:Q", scale=x_scale), x2="end:Q", y=alt.Y("y:Q", scale=None))
    ends = over.transform_fold(["start", "end"], as_=["which", "at"]).mark_tick(
        orient="vertical", size=10, thickness=2, color="#D55E00").encode(
        x=alt.X("at:Q", scale=x_scale), y=alt.Y("y:Q", scale=None))
    span_text = over.transform_calculate(mid="(datum.start + datum.end) / 2").mark_text(
        baseline="bottom", dy=-4, fontSize=12, fontWeight="bold", color="#D55E00").encode(
        x=alt.X("mid:Q", scale=x_scale), y=alt.Y("y:Q", scale=None), text="text:N")
    chart = alt.layer(elapsed, span_rule, ends, span_text, labels, dots).properties(
        height=height,
        title=alt.Title([f"The {span} days, and what", "came before and after"],
                        subtitle=["Circles: dated by DeepSeek's repositories;",
                                  "squares: known from news reports;",
                                  "arrows: outside the eleven days.",
                                  "Click a kind in the legend to pick it out."]))
    first, last = events.loc[events["date"].idxmin()], events.loc[events["date"].idxmax()]
    nv = rows.loc[rows["kind"] == "market", "day"].iloc[0]
    return finish(chart, description=(
        f"Timeline of {len(events)} dated events of the DeepSeek story, on an axis of days after "
        f"R1's release. R1 is day 0, Nvidia's one-day fall day {nv} and OpenAI's o3-mini day "
        f"{span}: the {span} days of the 'Sputnik moment'. Before them, {first['event']} "
        f"({first['date']:%B %Y}); after them, up to {last['event']} ({last['date']:%B %Y}), "
        "shown as arrows at the edges."))


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


check_frames(globals())  # refuse a missing or malformed frame by name (issue #25)
