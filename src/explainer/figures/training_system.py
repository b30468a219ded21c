"""Figures of "Keeping the GPUs busy": pipeline schedules, bubbles, FP8 errors, overlap.

The numbers come from :mod:`explainer.pipeline` (the schedule simulator) and
:mod:`explainer.fp8` (E4M3 quantization and accumulation); this module only
draws them. The Gantt chart's three controls are declared once here
(:data:`GANTT_CONTROLS`): on the page they switch between precomputed runs,
in JupyterLab they rerun the simulator.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

from explainer import pipeline
from explainer.controls import Choice
from explainer.figures._base import finish

__all__ = [
    "BUBBLE_DURATIONS",
    "GANTT_CONTROLS",
    "MICRO",
    "SCHEDULE",
    "STAGES",
    "accumulation",
    "bubbles",
    "gantt",
    "gantt_at",
    "outliers",
    "overlap",
]

SCHEDULE_LABELS = {"1f1b": "1F1B", "zb1p": "ZB1P (zero bubble)", "dualpipe": "DualPipe",
                   "dualpipev": "DualPipeV"}
SCHEDULE = Choice("schedule", "schedule", pipeline.SCHEDULES, default="dualpipe",
                  labels=tuple(SCHEDULE_LABELS[s] for s in pipeline.SCHEDULES))
STAGES = Choice("pp", "pipeline stages", (4, 8), default=8)
MICRO = Choice("n_micro", "micro-batches", (16, 24), default=16)
GANTT_CONTROLS = (SCHEDULE, STAGES, MICRO)
GANTT_DURATIONS = {"F": 1, "B": 2, "W": 1}  # the README figure's proportions

# duration sets for the bubble chart: (label, durations)
BUBBLE_DURATIONS = {
    "F = W = 1, B = 2 (README figure)": {"F": 1, "B": 2, "W": 1},
    "same, F&B fully overlapped (FB = B)": {"F": 1, "B": 2, "W": 1, "FB": 2},
    "F = 3, B = 7, W = 2, FB = 8": {"F": 3, "B": 7, "W": 2, "FB": 8},
}

_KINDS = ["F", "B", "BI", "W", "FB"]
_KIND_LABELS = {"F": "forward", "B": "full backward", "BI": "backward for input",
                "W": "backward for weights", "FB": "overlapped forward & backward"}
_KIND_COLORS = ["#f0a030", "#4caf50", "#a5d66f", "#6baed6", "#8c6bb1"]


def _run_id(schedule, pp, n_micro):
    """One integer per (schedule, stages, micro-batches): keeps the page's data small."""
    return pipeline.SCHEDULES.index(schedule) * 10000 + pp * 100 + n_micro


def _run_id_expr() -> str:
    """:func:`_run_id` of the three controls' values, as a Vega expression."""
    names = ", ".join(f"'{s}'" for s in pipeline.SCHEDULES)
    return (f"indexof([{names}], {SCHEDULE.name}) * 10000 + {STAGES.name} * 100 "
            f"+ {MICRO.name}")


def _gantt_layers(tl: pd.DataFrame, summary: pd.DataFrame, subtitle,
                  cond: str = "true") -> alt.LayerChart:
    """Bars per device and time, plus a line of text with the bubble (both filtered by cond)."""
    # short column names: the page embeds every row of every precomputed run
    run = [_run_id(*k) for k in zip(tl["schedule"], tl["pp"], tl["n_micro"])]
    data = pd.DataFrame({"r": run, "d": tl["device"], "t0": tl["start"], "t1": tl["end"],
                         "k": tl["kind"], "m": tl["micro"], "dir": tl["direction"]})
    labels = " : ".join(f"datum.value == '{k}' ? '{v}'" for k, v in _KIND_LABELS.items())
    bars = alt.Chart(data).transform_filter(cond).mark_bar(
        stroke="white", strokeWidth=0.5).encode(
        x=alt.X("t0:Q", title="time (units of one forward chunk)"),
        x2="t1:Q",
        y=alt.Y("d:O", title="device"),
        color=alt.Color("k:N", title=None, sort=_KINDS,
                        scale=alt.Scale(domain=_KINDS, range=_KIND_COLORS),
                        legend=alt.Legend(orient="bottom", columns=2, labelLimit=260,
                                          labelExpr=labels + " : datum.value")),
        tooltip=[alt.Tooltip("k:N", title="chunk (F, B, BI, W, FB)"),
                 alt.Tooltip("m:Q", title="micro-batch"),
                 alt.Tooltip("dir:Q", title="direction (1 = reverse)"),
                 alt.Tooltip("t0:Q", title="start"), alt.Tooltip("t1:Q", title="end")],
    )
    note = pd.DataFrame({
        "r": [_run_id(*k) for k in zip(summary["schedule"], summary["pp"], summary["n_micro"])],
        "text": [f"bubble {r.bubble:g} (README formula {r.formula:g}), iteration "
                 f"{r.makespan:g}, {r.devices} devices" for r in summary.itertuples()]})
    text = alt.Chart(note).transform_filter(cond).mark_text(
        align="left", baseline="bottom", dy=-4, fontSize=12).encode(
        x=alt.value(0), y=alt.value(0), text="text:N")
    return alt.layer(bars, text).properties(
        height=alt.Step(22), title=alt.Title("One training iteration, chunk by chunk",
                                             subtitle=subtitle))


def gantt(timelines: pd.DataFrame, summary: pd.DataFrame) -> alt.LayerChart:
    """Gantt chart of precomputed runs, switched by the schedule/stages/micro-batch controls.

    Args:
        timelines, summary: :func:`explainer.pipeline.timeline_grid` over the
            options of :data:`GANTT_CONTROLS`.
    """
    chart = _gantt_layers(timelines, summary,
                          "F = W = 1, B = 2, F&B = 3 time units (the DualPipe README's figure)",
                          f"datum.r == {_run_id_expr()}")
    chart = chart.add_params(*(c.param() for c in GANTT_CONTROLS))
    return finish(chart, description=(
        "A Gantt chart: one row per device, one bar per chunk of work, coloured by kind, for "
        "the chosen schedule, stage count and micro-batch count. White gaps are the pipeline "
        "bubble; DualPipe's gaps are the shortest."))


def gantt_at(schedule: str, pp: int, n_micro: int) -> alt.LayerChart:
    """The same Gantt chart for one run, simulated now (JupyterLab)."""
    tl, summary = pipeline.timeline_grid((schedule,), (pp,), (n_micro,), **GANTT_DURATIONS)
    return finish(_gantt_layers(tl, summary, f"{SCHEDULE_LABELS[schedule]}, {pp} stages, "
                                             f"{n_micro} micro-batches; F = W = 1, B = 2"),
                  description=("A Gantt chart of one simulated iteration: one row per device, "
                               "one bar per chunk; white gaps are the bubble."))


def bubbles(table: pd.DataFrame) -> alt.LayerChart:
    """Simulated bubble (points) against the README formula (lines) per schedule.

    Args:
        table: :func:`explainer.pipeline.bubble_table` rows with a ``durations``
            label column (one of :data:`BUBBLE_DURATIONS`).
    """
    pick = alt.param(name="durations", value=next(iter(BUBBLE_DURATIONS)),
                     bind=alt.binding_select(options=list(BUBBLE_DURATIONS),
                                             name="chunk durations "))
    data = table.assign(name=table["schedule"].map(SCHEDULE_LABELS))
    base = alt.Chart(data).encode(
        x=alt.X("pp:Q", title="pipeline stages (PP)", scale=alt.Scale(zero=False)),
        color=alt.Color("name:N", title=None, sort=[SCHEDULE_LABELS[s] for s in
                                                    pipeline.SCHEDULES],
                        legend=alt.Legend(orient="top", labelLimit=200)),
    ).transform_filter(alt.datum.durations == pick)
    lines = base.mark_line(strokeDash=[4, 3]).encode(y=alt.Y("formula:Q", title="bubble "
                                                             "(time units per iteration)"))
    points = base.mark_point(filled=True, size=70).encode(
        y="bubble:Q", shape=alt.Shape("match:N", title="simulated = formula",
                                      legend=alt.Legend(orient="bottom")),
        tooltip=["name:N", "pp:Q", "bubble:Q", "formula:Q", "match:N"])
    chart = alt.layer(lines, points).add_params(pick).properties(
        height=300, title=alt.Title("Bubble against stages: simulated (points) and README "
                                    "formula (dashed)",
                                    subtitle="n_micro = 2 x PP; DualPipeV draws over "
                                             "DualPipe (same bubble, half the devices)"))
    return finish(chart, description=(
        "Pipeline bubble against the number of stages for four schedules: points are the "
        "simulator's measurement, dashed lines the DualPipe README formulas. With the README "
        "figure's durations every point sits on its line."))


def outliers(sweep: pd.DataFrame) -> alt.Chart:
    """Matmul error against outlier size, per scheme (:func:`explainer.fp8.outlier_sweep`)."""
    chart = alt.Chart(sweep).mark_line(point=True).encode(
        x=alt.X("magnitude:Q", scale=alt.Scale(type="log"),
                title="outlier size (times a typical activation)", axis=alt.Axis(format="~e")),
        y=alt.Y("median:Q", scale=alt.Scale(type="log"),
                title="median relative error of x @ w.T per token"),
        color=alt.Color("scheme:N", title=None, legend=alt.Legend(orient="top")),
        tooltip=["scheme:N", alt.Tooltip("magnitude:Q", format="~e"),
                 alt.Tooltip("median:Q", format=".2%")],
    ).properties(height=280, title=alt.Title(
        "FP8 matmul error as one activation outlier grows",
        subtitle="128 tokens x 1024 channels, 4 outlier tokens in 2 channels; exact float64 sums"))
    return finish(chart, description=(
        "Median per-token relative error of a matmul against outlier size for BF16, FP8 with "
        "one scale per tensor and FP8 with V3's 1x128 / 128x128 scales. Per-tensor FP8 matches "
        "the fine-grained scheme until the outlier exceeds E4M3's range, then its error climbs."))


def accumulation(errors: pd.DataFrame, reported: float, k_reported: int) -> alt.LayerChart:
    """Accumulation error against K with and without promotion, next to the report's figure.

    Args:
        errors: :func:`explainer.fp8.accumulation_error` rows (several settings).
        reported: The V3 report's maximum relative error (about 0.02).
        k_reported: The K it was measured at (4096).
    """
    data = errors.assign(
        setting=errors["promote_every"].map(lambda p: "promoted every 128" if p else
                                            "no promotion") + ", " + errors["rounding"])
    lines = alt.Chart(data).mark_line(point=True).encode(
        x=alt.X("K:Q", scale=alt.Scale(type="log", base=2), title="inner dimension K"),
        y=alt.Y("max_rel_error:Q", scale=alt.Scale(type="log"),
                title="max relative error over outputs"),
        color=alt.Color("setting:N", title=None, legend=alt.Legend(orient="top", columns=2,
                                                                   labelLimit=260)),
        tooltip=["setting:N", "K:Q", alt.Tooltip("max_rel_error:Q", format=".2e")],
    )
    mark = pd.DataFrame({"K": [k_reported], "err": [reported],
                         "label": [f"V3 report: nearly {reported:.0%} at K = {k_reported}"]})
    point = alt.Chart(mark).mark_point(shape="diamond", size=140, filled=True,
                                       color="black").encode(x="K:Q", y="err:Q")
    label = alt.Chart(mark).mark_text(align="right", dx=-10, fontSize=12).encode(
        x="K:Q", y="err:Q", text="label:N")
    chart = alt.layer(lines, point, label).properties(height=300, title=alt.Title(
        "A 14-bit accumulator over K, with and without promotion to FP32",
        subtitle="16 x 16 outputs of two random [0, 1) matrices put on the E4M3 grid"))
    return finish(chart, description=(
        "Maximum relative error of a dot product summed in a 14-bit accumulator against K: "
        "without promotion it grows with K (faster with truncation than with rounding); "
        "promoting to FP32 every 128 elements keeps it flat. A diamond marks the V3 report's "
        "figure."))


def overlap(times: dict, subtitle: str) -> alt.Chart:
    """Bars of step time: serial, overlapped (minus the SMs lent), ideal.

    Args:
        times: :func:`explainer.pipeline.overlap_step_time` output.
        subtitle: The assumptions, in words.
    """
    names = {"serial": "compute, then communicate",
             "overlapped": "overlapped, 20 SMs lent to communication",
             "ideal": "perfect overlap"}
    data = pd.DataFrame({"how": [names[k] for k in names], "time": [times[k] for k in names]})
    chart = alt.Chart(data).mark_bar().encode(
        y=alt.Y("how:N", sort=list(names.values()), title=None,
                axis=alt.Axis(labelLimit=300)),
        x=alt.X("time:Q", title="step time (computation alone = 1)"),
        tooltip=["how:N", alt.Tooltip("time:Q", format=".2f")],
    ).properties(height=120, title=alt.Title("Hiding all-to-all behind computation",
                                             subtitle=subtitle))
    return finish(chart, description=(
        "Three bars of step time relative to computation alone: computing then communicating, "
        "overlapping them while 20 of 132 SMs run the communication, and a perfect overlap."))
