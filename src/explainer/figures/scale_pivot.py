"""Figures of "The scale pivot": article 004's tables, its projections and the scale what-if.

The what-if chart binds the what-if controls declared in :mod:`explainer.costs`
(plus :data:`explainer.costs.N_GPUS`) and computes FLOPs, GPU-hours, dollars and
days in the browser with the library's expressions; :func:`what_if_readout` is its
live twin, computed by the library.
"""

from __future__ import annotations

import textwrap

import altair as alt
import pandas as pd

from explainer import costs, facts
from explainer.figures._base import check_frames, finish
from explainer.tables import MISSING, human, table

__all__ = ["CONTROLS", "article_table", "era_multiples", "valuations", "what_if",
           "what_if_readout", "what_if_table"]

# the scale what-if: the cost calculator's controls plus the cluster size
CONTROLS = (*costs.WHAT_IF_CONTROLS, costs.N_GPUS)
_SCENARIO = "your scenario"
_KINDS = ["documented", "article's figure", _SCENARIO]


def article_table(check: pd.DataFrame):
    """Article 004's model table beside our sources and 6·N·D, one column per model.

    Args:
        check: :func:`explainer.facts.seed_table_check`.
    """
    def price(i: float, o: float) -> str:
        return MISSING if pd.isna(i) else f"${i:.2f} / ${o:.2f}"

    rows = {
        "activated parameters: the article": check["article_active_params"].map(human),
        "activated parameters: our sources": check["active_params"].map(human),
        "training FLOPs: the article": check["article_flops"].map(human),
        "training FLOPs: 6·N·D from our sources": check["flops_6nd"].map(human),
        "the article ÷ 6·N·D": check["article_over_6nd"].map(lambda v: f"{v:.2f}×"),
        "training FLOPs: published or estimated": check["reported_flops"].map(human),
        "MMLU score: the article": check["article_mmlu"].map(human),
        "MMLU score (5-shot): our sources": check["mmlu_5shot"].map(human),
        "price, $ per million tokens: the article": check["article_usd_per_mtok"].map(
            lambda v: f"${v:.2f}"),
        "price, $ per million tokens (input / output): the developer": [
            price(i, o) for i, o in zip(check["input_usd_per_mtok"], check["output_usd_per_mtok"])],
    }
    shown = pd.DataFrame(rows, index=check.index).T
    shown.index.name = "figure"
    shown.columns = [str(c) for c in check.index]
    return table(shown, caption=(
        "Article 004's model table, as printed, beside our sources: 6·N·D is six operations per "
        "activated parameter per training token. GPT-4's size and compute are leaks and "
        "estimates (secondary); Meta published Llama's compute. A dash: no figure published."))


def valuations(vals: pd.DataFrame) -> alt.Chart:
    """The valuations article 004 prints, coloured by the year they are for.

    Args:
        vals: :func:`explainer.facts.load_seed_valuations`.
    """
    data = vals.reset_index().assign(year=lambda d: d["valuation_year"].astype(str))
    chart = (
        alt.Chart(data, title=alt.Title(["Valuations printed in article 004", "(not verified)"],
                                        subtitle=["Pink: figures for 2026; orange: figures",
                                                  "for 2025; none comes with a source"]))
        .mark_bar()
        .encode(
            y=alt.Y("company:N", title=None, sort="-x"),
            x=alt.X("valuation_usd:Q", title="US dollars (as printed)",
                    axis=alt.Axis(labelExpr="'$' + format(datum.value / 1e9, ',.0f') + 'B'",
                                  tickCount=4)),
            color=alt.Color("year:N", title="valuation for",
                            scale=alt.Scale(domain=["2026", "2025"],
                                            range=["#CC79A7", "#E69F00"]),
                            legend=alt.Legend(orient="top")),
            tooltip=["company", "funding_valuation_as_printed", "status", "strategy", "key_risk",
                     "note"],
        )
        .properties(height=150)
    )
    by_year = data.groupby("year")["company"].apply(lambda s: ", ".join(s))
    return finish(chart, description=(
        f"Bars of the company valuations printed in article 004: {by_year.get('2026', '')} "
        f"for 2026 (projections), {by_year.get('2025', '')} for 2025. No DeepSeek valuation was "
        "found in a primary source."))


_WRAP = 40  # characters per label line: whole on a 390 px phone at the chart's font size
_LINE = 14  # pixels per label line
_TOP = 10  # pixels between the subtitle and the first label


def era_multiples(mult: pd.DataFrame) -> alt.LayerChart:
    """Each era metric's 2026 value as a multiple of its 2024 value (log scale).

    One row per metric: the article's two printed values above, the multiple below
    (a point, or a range where the article prints ranges).

    Args:
        mult: :func:`explainer.facts.era_multiples`.
    """
    rows, y = [], _TOP
    for metric, r in mult.iterrows():
        lines = textwrap.wrap(f"{metric}: {r['printed_2024']} → {r['printed_2026']}", _WRAP)
        top, y = y, y + _LINE * len(lines)
        rows.append({"metric": metric, "label": "\n".join(lines), "y_text": top, "y_dot": y + 10,
                     "low": r["low"], "high": r["high"], "printed_2024": r["printed_2024"],
                     "printed_2026": r["printed_2026"], "range": bool(r["high"] > r["low"])})
        y += 20 + 12
    data = pd.DataFrame(rows)
    x_scale = alt.Scale(type="log", domain=[0.25, 100], nice=False)
    x_axis = alt.Axis(values=[0.5, 1, 2, 5, 10, 50], grid=True,
                      labelExpr="format(datum.value, '~g') + '×'")
    y_dot = alt.Y("y_dot:Q", scale=None, axis=None)
    base = alt.Chart(data)
    tooltip = ["metric", "printed_2024", "printed_2026", alt.Tooltip("low:Q", format=".2~f"),
               alt.Tooltip("high:Q", format=".2~f")]
    chart = alt.layer(
        alt.Chart(pd.DataFrame({"x": [1.0]})).mark_rule(strokeDash=[4, 4], color="#888888")
        .encode(x=alt.X("x:Q", scale=x_scale)),
        base.transform_filter("datum.range").mark_rule(strokeWidth=8, opacity=0.5).encode(
            x=alt.X("low:Q", scale=x_scale), x2="high:Q", y=y_dot),
        base.mark_point(size=90, filled=True, opacity=1).encode(
            x=alt.X("high:Q", scale=x_scale, axis=x_axis,
                    title=["2026 value ÷ 2024 value", "(log scale; 1× = no change)"]),
            y=y_dot, tooltip=tooltip),
        base.transform_filter("datum.range").mark_point(size=90, filled=True, opacity=1).encode(
            x=alt.X("low:Q", scale=x_scale), y=y_dot, tooltip=tooltip),
        base.mark_text(align="left", baseline="top", fontSize=11, lineBreak="\n",
                       lineHeight=_LINE).encode(
            x=alt.value(0), y=alt.Y("y_text:Q", scale=None, axis=None), text="label:N"),
    ).properties(height=y, title=alt.Title(
        ["Article 004's \"scale era\" (2026)", "against its \"efficiency era\" (2024)"],
        subtitle=["Each metric's 2026 value as a multiple", "of its 2024 value; a bar where the",
                  "article prints ranges. Every value is", "the article's, none is sourced."]))
    return finish(chart, description=(
        "The multiple by which article 004 projects each metric to change from 2024 to 2026, "
        "on a log scale: model size 5 times, training compute 10 times, inference cost 1 to 50 "
        "times (ranges), hardware self-sufficiency 2 times (20% to 40%), and the number of "
        "start-ups about halved."))


def _references() -> pd.DataFrame:
    refs = facts.scale_references().reset_index()
    return pd.concat([refs, pd.DataFrame([{"run": _SCENARIO, "flops": 0.0, "kind": _SCENARIO}])],
                     ignore_index=True)


def what_if(refs: pd.DataFrame | None = None) -> alt.LayerChart:
    """FLOPs of documented and projected runs and of the reader's scenario, with GPU-hours,
    rental dollars and days on the chosen cluster, computed in the browser.

    One row per run: its name and the numbers above, its training compute as a point on a
    log scale below.

    Args:
        refs: :func:`explainer.facts.scale_references` (default: loaded).

    Raises:
        ValueError: if ``refs`` lacks the ``flops`` or ``kind`` column or its runs' names.
    """
    if refs is not None:
        lacking = sorted({"flops", "kind"} - set(refs.columns))
        if lacking or "run" not in [refs.index.name, *refs.columns]:
            raise ValueError(f"refs must have the columns flops and kind and the runs' names "
                             f"(index or column 'run'), lacking {lacking or ['run']}")
    data = _references() if refs is None else pd.concat(
        [refs.reset_index(), pd.DataFrame([{"run": _SCENARIO, "flops": 0.0, "kind": _SCENARIO}])],
        ignore_index=True)
    row = 3 * _LINE + 20 + 12  # three lines of text, the point's row, a gap
    data["y_text"] = [_TOP + i * row for i in range(len(data))]
    data["y_dot"] = data["y_text"] + 3 * _LINE + 10
    hours = costs.gpu_hours_expr("datum.flops2")

    def big(v: str, unit: str, prefix: str = "") -> str:
        """A Vega expression writing ``v`` as '2.67 million' or '81.1 billion'."""
        return (f"({v} >= 1e9 ? '{prefix}' + format({v} / 1e9, ',.3~r') + ' billion{unit}' "
                f": '{prefix}' + format({v} / 1e6, ',.3~r') + ' million{unit}')")

    base = alt.Chart(data).transform_calculate(
        flops2=f"datum.run == '{_SCENARIO}' ? {costs.what_if_flops_expr()} : datum.flops",
    ).transform_calculate(
        hours=hours,
        usd=f"datum.hours * {costs.PRICE.name}",
        days=costs.days_expr("datum.hours"),
    ).transform_calculate(
        label="datum.run + '\\n' + replace(format(datum.flops2, '.2~e'), 'e+', 'e') + ' FLOPs, ' "
              f"+ {big('datum.hours', ' GPU-hours')} + '\\n' + {big('datum.usd', '', '$')} "
              "+ ' to rent, ' + format(datum.days, datum.days < 10 ? '.1f' : ',.0f') "
              "+ ' days on the cluster'",
    )
    x_scale = alt.Scale(type="log", domain=[1e21, 1e28], clamp=True, nice=False)
    dots = base.mark_point(size=110, filled=True, opacity=1).encode(
        x=alt.X("flops2:Q", scale=x_scale,
                title=["training compute (FLOPs, log scale)"],
                axis=alt.Axis(values=[1e22, 1e24, 1e26, 1e28], grid=True,
                              labelExpr="'1e' + format(log(datum.value) / LN10, '.0f')")),
        y=alt.Y("y_dot:Q", scale=None, axis=None),
        color=alt.Color("kind:N", title=None, legend=alt.Legend(orient="bottom", columns=2),
                        scale=alt.Scale(domain=_KINDS, range=["#0072B2", "#CC79A7", "#E69F00"])),
        tooltip=["run", "kind", alt.Tooltip("flops2:Q", title="FLOPs", format=".3~e"),
                 alt.Tooltip("hours:Q", title="GPU-hours", format=",.0f"),
                 alt.Tooltip("usd:Q", title="US$", format="$,.0f"),
                 alt.Tooltip("days:Q", title="days", format=",.0f")],
    )
    labels = base.mark_text(align="left", baseline="top", fontSize=11, lineBreak="\n",
                            lineHeight=_LINE).encode(
        x=alt.value(0), y=alt.Y("y_text:Q", scale=None, axis=None), text="label:N")
    chart = alt.layer(labels, dots).add_params(*(c.param() for c in CONTROLS)).properties(
        height=_TOP + len(data) * row - 12,
        title=alt.Title(["What-if: compute, GPU-hours,", "rental dollars and days"],
                        subtitle=["Every run's GPU-hours, dollars and days",
                                  "use the sliders' MFU, price, peak", "and cluster size."]))
    return finish(chart, description=(
        "Training FLOPs on a log scale for DeepSeek-V2 and V3, Llama 3.1 405B, the article's "
        "2024 average and its projected DeepSeek Next, and a scenario set by the sliders; above "
        "each point, that run's GPU-hours, rental dollars and days on the chosen cluster at the "
        "sliders' MFU, price and GPU peak. At the defaults the scenario is V3's pre-training."))


def what_if_readout(usd_per_gpu_hour: float, mfu: float, tokens_t: float, active_params_b: float,
                    peak_tflops: float, n_gpus: int) -> pd.DataFrame:
    """The live twin of :func:`what_if`: each run's FLOPs, GPU-hours, dollars and days.

    Keywords are the names of :data:`CONTROLS`.
    """
    values = (usd_per_gpu_hour, mfu, tokens_t, active_params_b, peak_tflops, n_gpus)
    for c, v in zip(CONTROLS, values):
        c.check(v)
    refs = _references().set_index("run")
    refs.loc[_SCENARIO, "flops"] = costs.training_flops(active_params_b * 1e9, tokens_t * 1e12)
    hours = costs.gpu_hours(refs["flops"].to_numpy(), peak_tflops * 1e12, mfu)
    return pd.DataFrame({
        "FLOPs": refs["flops"],
        "GPU-hours": hours,
        "rental US$": costs.training_cost_usd(hours, usd_per_gpu_hour),
        f"days on {n_gpus:,} GPUs": hours / n_gpus / 24,
    }, index=refs.index)


def what_if_table(usd_per_gpu_hour: float, mfu: float, tokens_t: float, active_params_b: float,
                  peak_tflops: float, n_gpus: int):
    """:func:`what_if_readout` as a table for readers (the live notebook's output).

    Keywords are the names of :data:`CONTROLS`.
    """
    out = what_if_readout(usd_per_gpu_hour, mfu, tokens_t, active_params_b, peak_tflops, n_gpus)
    days = f"days on {n_gpus:,} GPUs"
    return table(out.rename(columns={"rental US$": "rental, US dollars"}), index="run",
                 formats={"FLOPs": "auto", "GPU-hours": "count", "rental, US dollars": "usd",
                          days: "count"},
                 caption="Each run at the chosen MFU, price, GPU peak and cluster size.")


check_frames(globals())  # refuse a missing or malformed frame by name (issue #25)
