"""Figures of "Keeping the GPUs busy": pipeline schedules, bubbles, FP8 errors, overlap.

The numbers come from :mod:`explainer.pipeline` (the schedule simulator) and
:mod:`explainer.fp8` (E4M3 quantization and accumulation); this module only
draws them, and sets the chapter's tables for readers
(:func:`explainer.tables.table`). The Gantt chart's three controls are declared
once here (:data:`GANTT_CONTROLS`): on the page they switch between precomputed
runs, in JupyterLab they rerun the simulator.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

from explainer import pipeline
from explainer.controls import Choice
from explainer.figures._base import check_frames, finish
from explainer.tables import table

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
    "memory_table",
    "outliers",
    "overlap",
    "scale_format_table",
    "storage_table",
]

SCHEDULE_LABELS = {"1f1b": "1F1B", "zb1p": "ZB1P (zero bubble)", "dualpipe": "DualPipe",
                   "dualpipev": "DualPipeV"}
SCHEDULE = Choice("schedule", "schedule", pipeline.SCHEDULES, default="1f1b",
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
_KIND_LABELS = {"F": "forward (F)", "B": "backward (B)", "BI": "input part (B − W)",
                "W": "weights part (W)", "FB": "F and B paired"}
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
                        legend=alt.Legend(orient="bottom", columns=2, labelLimit=160,
                                          labelExpr=labels + " : datum.value")),
        tooltip=[alt.Tooltip("k:N", title="chunk (F, B, BI, W, FB)"),
                 alt.Tooltip("m:Q", title="micro-batch"),
                 alt.Tooltip("dir:Q", title="direction (1 = reverse)"),
                 alt.Tooltip("t0:Q", title="start"), alt.Tooltip("t1:Q", title="end")],
    )
    note = pd.DataFrame({
        "r": [_run_id(*k) for k in zip(summary["schedule"], summary["pp"], summary["n_micro"])],
        "text": [f"bubble {r.bubble:g} of {r.makespan:g} (formula: {r.formula:g})"
                 for r in summary.itertuples()]})
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
                          ["F = W = 1, B = 2, F&B = 3 time units",
                           "(the DualPipe README's figure)"],
                          f"datum.r == {_run_id_expr()}")
    chart = chart.add_params(*(c.param() for c in GANTT_CONTROLS))
    return finish(chart, description=(
        "A Gantt chart: one row per device, one bar per chunk of work, coloured by kind, for "
        "the chosen schedule, stage count and micro-batch count. White gaps are the pipeline "
        "bubble; DualPipe's gaps are the shortest."))


def gantt_at(schedule: str, pp: int, n_micro: int) -> alt.LayerChart:
    """The same Gantt chart for one run, simulated now (JupyterLab)."""
    tl, summary = pipeline.timeline_grid((schedule,), (pp,), (n_micro,), **GANTT_DURATIONS)
    return finish(_gantt_layers(tl, summary, [f"{SCHEDULE_LABELS[schedule]}, {pp} stages, "
                                              f"{n_micro} micro-batches", "F = W = 1, B = 2"]),
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
                        legend=alt.Legend(orient="bottom", columns=2, labelLimit=170)),
    ).transform_filter(alt.datum.durations == pick)
    lines = base.mark_line(strokeDash=[4, 3]).encode(y=alt.Y("formula:Q", title="bubble "
                                                             "(time units per iteration)"))
    points = base.mark_point(filled=True, size=70).encode(
        y="bubble:Q",
        shape=alt.Shape("match:N", scale=alt.Scale(domain=[True, False],
                                                   range=["circle", "cross"]), legend=None),
        tooltip=[alt.Tooltip("name:N", title="schedule"),
                 alt.Tooltip("pp:Q", title="stages"),
                 alt.Tooltip("bubble:Q", title="simulated bubble", format=".3~f"),
                 alt.Tooltip("formula:Q", title="README formula", format=".3~f"),
                 alt.Tooltip("match:N", title="equal")])
    chart = alt.layer(lines, points).add_params(pick).properties(
        height=300, title=alt.Title(
            ["Bubble against stages:", "simulated (points), formula (dashed)"],
            subtitle=["micro-batches = 2 × stages; a cross marks a point", "off its formula; "
                      "DualPipeV draws over DualPipe"]))
    return finish(chart, description=(
        "Pipeline bubble against the number of stages for four schedules: points are the "
        "simulator's measurement, dashed lines the DualPipe README formulas. With the README "
        "figure's durations every point sits on its line."))


_SCHEME_LABELS = {"bf16": "BF16", "fp8 per-tensor": "FP8, one scale per tensor",
                  "fp8 tile/block": "FP8, V3's tiles and blocks"}


def outliers(sweep: pd.DataFrame) -> alt.Chart:
    """Matmul error against outlier size, per scheme (:func:`explainer.fp8.outlier_sweep`)."""
    data = sweep.assign(scheme=sweep["scheme"].map(_SCHEME_LABELS))
    chart = alt.Chart(data).mark_line(point=True).encode(
        x=alt.X("magnitude:Q", scale=alt.Scale(type="log"),
                title=["outlier size, × a typical value", "(log scale)"],
                axis=alt.Axis(format="~s", tickCount=4)),
        y=alt.Y("median:Q", scale=alt.Scale(type="log"),
                title=["median error per token", "(log scale)"],
                axis=alt.Axis(format="~%")),
        color=alt.Color("scheme:N", title=None, sort=list(_SCHEME_LABELS.values()),
                        legend=alt.Legend(orient="bottom", columns=1, labelLimit=300)),
        tooltip=[alt.Tooltip("scheme:N", title="scheme"),
                 alt.Tooltip("magnitude:Q", title="outlier size", format="~e"),
                 alt.Tooltip("median:Q", title="median error", format=".2%")],
    ).properties(height=280, title=alt.Title(
        ["FP8 matrix-product error", "as one outlier grows"],
        subtitle=["128 tokens × 1024 channels, 4 outlier tokens", "in 2 channels; exact sums"]))
    return finish(chart, description=(
        "Median per-token relative error of a matmul against outlier size for BF16, FP8 with "
        "one scale per tensor and FP8 with V3's 1x128 / 128x128 scales. Per-tensor FP8 matches "
        "the fine-grained scheme until the outlier exceeds E4M3's range, then its error climbs."))


def _spaced_ticks(ks) -> list:
    """Tick values on a log-2 axis, the largest kept, each at least 4 times the next one down."""
    kept = []
    for k in sorted(set(int(k) for k in ks), reverse=True):
        if not kept or kept[-1] / k >= 4:
            kept.append(k)
    return sorted(kept)


def accumulation(errors: pd.DataFrame, reported: float, k_reported: int) -> alt.LayerChart:
    """Accumulation error against K with and without promotion, next to the report's figure.

    Args:
        errors: :func:`explainer.fp8.accumulation_error` rows (several settings).
        reported: The V3 report's maximum relative error (about 0.02).
        k_reported: The K it was measured at (4096).
    """
    data = errors.assign(
        setting=errors["promote_every"].map(lambda p: f"promoted every {p}" if p else
                                            "no promotion") + ", "
        + errors["rounding"].map({"nearest": "rounding", "truncate": "truncating"}))
    lines = alt.Chart(data).mark_line(point=True).encode(
        x=alt.X("K:Q", scale=alt.Scale(type="log", base=2),
                title="numbers summed, K (log scale)",
                axis=alt.Axis(values=_spaced_ticks(errors["K"]), format=",")),
        y=alt.Y("max_rel_error:Q", scale=alt.Scale(type="log"),
                title=["largest relative error", "(log scale)"], axis=alt.Axis(format="~%")),
        color=alt.Color("setting:N", title=None, legend=alt.Legend(orient="bottom", columns=1,
                                                                   labelLimit=300)),
        tooltip=[alt.Tooltip("setting:N", title="setting"), alt.Tooltip("K:Q", title="K"),
                 alt.Tooltip("max_rel_error:Q", title="largest error", format=".2~%")],
    )
    mark = pd.DataFrame({"K": [k_reported], "err": [reported],
                         "label": [f"V3 report: nearly {reported:.0%}"]})
    point = alt.Chart(mark).mark_point(shape="diamond", size=140, filled=True,
                                       color="gray").encode(x="K:Q", y="err:Q")
    label = alt.Chart(mark).mark_text(align="right", dx=-10, fontSize=12).encode(
        x="K:Q", y="err:Q", text="label:N")
    chart = alt.layer(lines, point, label).properties(height=300, title=alt.Title(
        ["Summing K products in 14 bits,", "with and without FP32 promotion"],
        subtitle=["16 × 16 outputs of two random [0, 1) matrices", "on the E4M3 grid"]))
    return finish(chart, description=(
        "Maximum relative error of a dot product summed in a 14-bit accumulator against K: "
        "without promotion it grows with K (faster with truncation than with rounding); "
        "promoting to FP32 every 128 elements keeps it flat. A diamond marks the V3 report's "
        "figure."))


def overlap(times: dict, subtitle) -> alt.Chart:
    """Bars of step time: serial, overlapped (minus the SMs lent), ideal.

    Args:
        times: :func:`explainer.pipeline.overlap_step_time` output.
        subtitle: The assumptions, in words (a string, or a list of short lines).
    """
    names = {"serial": "one after the other",
             "overlapped": "overlapped",
             "ideal": "perfect overlap"}
    data = pd.DataFrame({"how": [names[k] for k in names], "time": [times[k] for k in names]})
    chart = alt.Chart(data).mark_bar().encode(
        y=alt.Y("how:N", sort=list(names.values()), title=None,
                axis=alt.Axis(labelLimit=140)),
        x=alt.X("time:Q", title="step time (× compute alone)",
                scale=alt.Scale(domain=[0, max(2.0, data.time.max())]),
                axis=alt.Axis(tickCount=4)),
        tooltip=[alt.Tooltip("how:N", title="schedule"),
                 alt.Tooltip("time:Q", title="step time", format=".2f")],
    ).properties(height=120, title=alt.Title(["Hiding all-to-all", "behind computation"],
                                             subtitle=subtitle))
    return finish(chart, description=(
        "Three bars of step time relative to computation alone: computing then communicating, "
        "overlapping them while 20 of 132 SMs run the communication, and a perfect overlap."))


def _pct2(v) -> str:
    """A fraction as a percentage with two decimals (0.0216 -> 2.16%)."""
    return f"{100 * float(v):.2f}%"


def memory_table(rows: pd.DataFrame):
    """What each schedule holds per device: the simulator's counts, as the README tabulates them.

    Args:
        rows: :func:`explainer.pipeline.bubble_table` rows for one set of durations,
            every schedule of :data:`explainer.pipeline.SCHEDULES` at each stage count.

    Returns:
        A reader's table (:func:`explainer.tables.table`): one row per schedule, the peak
        activations per device at each stage count, the stages' parameters per device and
        the devices a run with PP stages needs.
    """
    need = {"schedule", "pp", "activations", "param_copies", "devices"}
    if not isinstance(rows, pd.DataFrame) or not need <= set(rows.columns):
        raise ValueError(f"rows must be a bubble_table DataFrame with columns {sorted(need)}")
    if set(rows.schedule) != set(pipeline.SCHEDULES):
        raise ValueError(f"rows must cover every schedule {pipeline.SCHEDULES}")
    peaks = rows.pivot_table(index="schedule", columns="pp", values="activations",
                             aggfunc="max")  # (schedule, pp)
    stages = " / ".join(str(p) for p in peaks.columns)
    per = rows.groupby("schedule").agg(params=("param_copies", "max"),
                                       devices=("devices", "first"), pp=("pp", "first"))
    out = pd.DataFrame({
        f"peak activations at {stages} stages": [" / ".join(str(int(v)) for v in row)
                                                 for row in peaks.values],
        "parameters": per.loc[peaks.index, "params"].values,
        "devices": [("PP" if d == p else "PP/2") for d, p in
                    zip(per.loc[peaks.index, "devices"], per.loc[peaks.index, "pp"])],
    }, index=peaks.index).loc[list(pipeline.SCHEDULES)]
    out.index = [SCHEDULE_LABELS[s].replace(" (zero bubble)", "") for s in out.index]
    out.index.name = "schedule"
    return table(out, caption=(
        "Per device, counted from the simulated timelines: the peak activations held (in "
        "micro-batches' worth of one stage), the parameters held (in stages' worth) and the "
        "devices a run with PP stages needs. Durations of the README figure, micro-batches = "
        "2 × stages."))


def storage_table(rows: pd.DataFrame):
    """Bytes in BF16 and in FP8 (scales included) for a few of V3's tensors.

    Args:
        rows: One row per tensor, indexed by what it is, with columns ``bf16``
            and ``fp8`` (bytes, from :func:`explainer.fp8.storage_bytes`).

    Returns:
        A reader's table with the FP8 / BF16 ratio.
    """
    if not isinstance(rows, pd.DataFrame) or not {"bf16", "fp8"} <= set(rows.columns):
        raise ValueError("rows must be a DataFrame with columns 'bf16' and 'fp8' (bytes)")
    out = pd.DataFrame({"BF16 (bytes)": rows["bf16"], "FP8 with its scales (bytes)": rows["fp8"],
                        "FP8 ÷ BF16": rows["fp8"] / rows["bf16"]}, index=rows.index)
    out.index.name = "tensor"
    return table(out, formats={"BF16 (bytes)": "count", "FP8 with its scales (bytes)": "count",
                               "FP8 ÷ BF16": _pct2},
                 caption="Bytes to store or send one tensor; each FP8 scale is a 4-byte FP32 "
                         "number.")


def scale_format_table(errors: pd.DataFrame):
    """Power-of-two (``ue8m0``) scales against FP32 ones: :func:`explainer.fp8.scale_format_errors`.

    Args:
        errors: The rows :func:`explainer.fp8.scale_format_errors` returns.

    Returns:
        A reader's table: one row per measure, one column per scale format.
    """
    need = {"scale_fmt", "round_trip_median", "matmul_median", "top_mean", "subnormal_share"}
    if not isinstance(errors, pd.DataFrame) or not need <= set(errors.columns):
        raise ValueError(f"errors must be a scale_format_errors DataFrame with columns "
                         f"{sorted(need)}")
    names = {"fp32": "any scale (V3)", "ue8m0": "power of two (V3.1, V3.2)"}
    rows = {"round_trip_median": "median error per number",
            "matmul_median": "median error of a matrix product",
            "subnormal_share": "numbers in E4M3's coarse lowest range"}
    out = errors.set_index("scale_fmt")[list(rows)].T.rename(index=rows, columns=names)
    out.index.name = "measure"
    return table(out, formats={c: _pct2 for c in out.columns}, caption=(
        "FP8 with one scale per 1×128 tile of the activations (256 tokens with outliers) and "
        "per 128×128 block of the weights; the product's error is per token, against exact "
        "sums."))


check_frames(globals())  # refuse a missing or malformed frame by name (issue #25)
