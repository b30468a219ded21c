"""Figures of "R1 and o1 at a glance": the R1 paper's Table 4, R1 against o1-1217.

:func:`table` shows the ten scores as a table for readers. :func:`scores` draws them
as paired bars; on the page the :data:`MIN_GAP` slider hides benchmarks where the two
models are closer than a threshold (in the browser), and in a live notebook
:func:`scores_at` redraws the same chart filtered in Python.

Who measured what (R1 paper, §3, "Baselines"): DeepSeek ran R1 itself; for
o1-1217, whose API was hard to reach from mainland China, the paper quotes OpenAI's
official reports. The table's caption and the chart's subtitle say so.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

from typing import Any

from explainer import facts
from explainer.controls import Slider
from explainer.data import load_sources
from explainer.figures._base import check_frames, finish
from explainer.tables import table as reader_table

__all__ = ["MIN_GAP", "WHO_MEASURED", "scores", "scores_at", "table"]

MIN_GAP = Slider("min_gap", "Only gaps of at least (points)", 0, 20, 0.1, default=0)


WHO_MEASURED = ("DeepSeek-R1's scores are DeepSeek's own measurements; OpenAI o1-1217's are "
                "OpenAI's official reports, which the paper quotes (§3, Baselines)")


def _signed(v: Any) -> str:
    return "—" if pd.isna(v) else f"{v:+.1f}".replace("-", "−")


def table(gaps: pd.DataFrame) -> Any:
    """:func:`explainer.facts.benchmark_gaps` as a table for readers, its source in the caption.

    The numbers are in the returned table's ``.data``: ``benchmark``, ``R1``,
    ``o1-1217`` and ``R1 − o1`` (the gap in points).
    """
    # short headings, so that four columns fit a phone; the caption names the models
    df = pd.DataFrame({"R1": gaps["model"], "o1-1217": gaps["reference"],
                       "R1 − o1": gaps["gap"]})
    df.index = gaps.index.rename("benchmark")  # the metrics: the chapter's prose and the chart
    titles = load_sources().loc[gaps["source_id"].unique(), "title"]
    return reader_table(df, formats={"R1": "dec1", "o1-1217": "dec1", "R1 − o1": _signed},
                        caption=f"{WHO_MEASURED}. R1 − o1: the gap in points. Source: "
                                f"{'; '.join(titles)}, Table 4.")


def _long(gaps: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for bench, r in gaps.iterrows():
        for col, name in (("model", facts.R1), ("reference", facts.O1_1217)):
            rows.append({"benchmark": bench, "metric": r["metric"], "model": name,
                         "score": r[col], "gap": r["gap"]})
    return pd.DataFrame(rows)


def scores(gaps: pd.DataFrame, min_gap: float | None = None) -> alt.Chart:
    """Paired bars of R1's and o1-1217's scores per benchmark.

    Args:
        gaps: :func:`explainer.facts.benchmark_gaps`.
        min_gap: ``None`` for the page (the :data:`MIN_GAP` slider filters in the
            browser), or a number of points: only benchmarks with at least that gap.
    """
    order = list(gaps.index)
    data = _long(gaps)
    models = [facts.R1, facts.O1_1217]
    if min_gap is not None:
        data = data[data["gap"].abs() >= MIN_GAP.check(min_gap)]
    chart = (
        alt.Chart(data, title=alt.Title(
            ["DeepSeek-R1 vs OpenAI o1-1217,", "as printed in the R1 paper"],
            subtitle=["o1's scores: OpenAI's own reports.", "The slider hides benchmarks where",
                      "the two are closer than the threshold."]))
        .mark_bar()
        .encode(
            # fixed domains: a benchmark the slider hides leaves its place empty, and a chart
            # with every bar hidden keeps its axes (JupyterLab's Vega 5 hangs on an empty
            # band scale)
            x=alt.X("benchmark:N", title=None, sort=order, scale=alt.Scale(domain=order),
                    axis=alt.Axis(labelAngle=-45)),
            xOffset=alt.XOffset("model:N", scale=alt.Scale(domain=models)),
            y=alt.Y("score:Q", title="score (see metric)", scale=alt.Scale(domain=[0, 100])),
            color=alt.Color("model:N", title=None, scale=alt.Scale(domain=models),
                            legend=alt.Legend(orient="bottom")),
            tooltip=["benchmark", "metric", "model", "score",
                     alt.Tooltip("gap:Q", title="R1 minus o1")],
        )
        .properties(height=280)
    )
    if min_gap is None:
        chart = chart.add_params(MIN_GAP.param()).transform_filter(
            f"abs(datum.gap) >= {MIN_GAP.name}")
    s = facts.benchmark_summary(gaps)
    who = "o1's" if s["widest_gap"] < 0 else "R1's"
    return finish(chart, description=(
        f"Paired bars of DeepSeek-R1's and OpenAI o1-1217's scores on the {s['n']} benchmarks of "
        f"the R1 paper's Table 4 (R1 measured by DeepSeek, o1 as OpenAI reported it). R1 is "
        f"ahead on {s['model_ahead']}, o1 on "
        f"{s['reference_ahead']}; the widest gap is {s['widest']}, "
        f"{abs(s['widest_gap']):.1f} points in {who} favour."))


def scores_at(min_gap: float) -> alt.Chart:
    """The live twin of :func:`scores`: the chart with only gaps of at least ``min_gap`` points.

    Also prints how many benchmarks remain, the line shown above the live chart.
    """
    gaps = facts.benchmark_gaps()
    kept = int((gaps["gap"].abs() >= MIN_GAP.check(min_gap)).sum())
    print(f"{kept} of {len(gaps)} benchmarks differ by at least {min_gap:.1f} points")
    return scores(gaps, min_gap=min_gap)


check_frames(globals())  # refuse a missing or malformed frame by name (issue #25)
