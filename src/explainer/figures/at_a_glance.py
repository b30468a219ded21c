"""Figures of "R1 and o1 at a glance": the R1 paper's Table 4, R1 against o1-1217.

:func:`scores` draws the ten benchmarks as paired bars; on the page the
:data:`MIN_GAP` slider hides benchmarks where the two models are closer than a
threshold (in the browser), and in JupyterLab :func:`scores_at` redraws the same
chart filtered in Python.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

from explainer import facts
from explainer.controls import Slider
from explainer.figures._base import finish

__all__ = ["MIN_GAP", "scores", "scores_at", "table"]

MIN_GAP = Slider("min_gap", "Only gaps of at least (points)", 0, 20, 0.1, default=0)


def table(gaps: pd.DataFrame) -> pd.DataFrame:
    """:func:`explainer.facts.benchmark_gaps` with the models' names as column headings."""
    return gaps.rename(columns={"model": facts.R1, "reference": facts.O1_1217,
                                "gap": "R1 minus o1"})


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
    if min_gap is not None:
        data = data[data["gap"].abs() >= MIN_GAP.check(min_gap)]
    chart = (
        alt.Chart(data, title=alt.Title(
            "DeepSeek-R1 vs OpenAI o1-1217, as reported in the R1 paper",
            subtitle="Slide to hide benchmarks where the two are closer than the threshold"))
        .mark_bar()
        .encode(
            x=alt.X("benchmark:N", title=None, sort=order, axis=alt.Axis(labelAngle=-30)),
            xOffset="model:N",
            y=alt.Y("score:Q", title="score (see metric)", scale=alt.Scale(domain=[0, 100])),
            color=alt.Color("model:N", title=None, legend=alt.Legend(orient="top")),
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
        f"the R1 paper's Table 4. R1 is ahead on {s['model_ahead']}, o1 on "
        f"{s['reference_ahead']}; the widest gap is {s['widest']}, "
        f"{abs(s['widest_gap']):.1f} points in {who} favour."))


def scores_at(min_gap: float) -> alt.Chart:
    """The live twin of :func:`scores`: the chart with only gaps of at least ``min_gap`` points.

    Also prints how many benchmarks remain, the line JupyterLab shows above the chart.
    """
    gaps = facts.benchmark_gaps()
    kept = int((gaps["gap"].abs() >= MIN_GAP.check(min_gap)).sum())
    print(f"{kept} of {len(gaps)} benchmarks differ by at least {min_gap:.1f} points")
    return scores(gaps, min_gap=min_gap)
