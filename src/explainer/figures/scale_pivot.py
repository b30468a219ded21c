"""Figures of "The scale pivot": seed article 004's projections and the scale what-if.

The what-if chart binds the what-if controls declared in :mod:`explainer.costs`
(plus :data:`explainer.costs.N_GPUS`) and computes FLOPs, GPU-hours, dollars and
days in the browser with the library's expressions; :func:`what_if_readout` is its
live twin, computed by the library.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

from explainer import costs, facts
from explainer.figures._base import finish

__all__ = ["CONTROLS", "era_multiples", "valuations", "what_if", "what_if_readout"]

# the scale what-if: the cost calculator's controls plus the cluster size
CONTROLS = (*costs.WHAT_IF_CONTROLS, costs.N_GPUS)
_SCENARIO = "your scenario"
_KINDS = ["documented", "article's figure", _SCENARIO]


def valuations(vals: pd.DataFrame) -> alt.Chart:
    """The valuations seed article 004 prints, coloured by the year they are for.

    Args:
        vals: :func:`explainer.facts.load_seed_valuations`.
    """
    data = vals.reset_index().assign(year=lambda d: d["valuation_year"].astype(str))
    chart = (
        alt.Chart(data, title=alt.Title("Valuations printed in seed article 004 (not verified)",
                                        subtitle="Pink: figures for 2026; orange: figures for "
                                                 "2025; none comes with a source"))
        .mark_bar()
        .encode(
            y=alt.Y("company:N", title=None, sort="-x"),
            x=alt.X("valuation_usd:Q", title="US dollars (as printed)",
                    axis=alt.Axis(labelExpr="'$' + format(datum.value / 1e9, ',.0f') + 'B'")),
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
        f"Bars of the company valuations printed in seed article 004: {by_year.get('2026', '')} "
        f"for 2026 (projections), {by_year.get('2025', '')} for 2025. No DeepSeek valuation was "
        "found in a primary source."))


def era_multiples(mult: pd.DataFrame) -> alt.LayerChart:
    """Each era metric's 2026 value as a multiple of its 2024 value (log scale).

    Args:
        mult: :func:`explainer.facts.era_multiples`.
    """
    data = mult.reset_index().assign(
        label=lambda d: d["printed_2024"] + " → " + d["printed_2026"])
    base = alt.Chart(data, title=alt.Title(
        "Seed article 004: \"2026 (Scale Era, Projected)\" against \"2024 (Efficiency Era)\"",
        subtitle="2026 value as a multiple of the 2024 value; ranges where the article prints "
                 "ranges; every value is the article's")).encode(
        y=alt.Y("metric:N", title=None, sort=list(data["metric"]),
                axis=alt.Axis(labelLimit=220)),
        tooltip=["metric", "printed_2024", "printed_2026", alt.Tooltip("low:Q", format=".2~f"),
                 alt.Tooltip("high:Q", format=".2~f")],
    )
    chart = alt.layer(
        base.mark_rule(strokeWidth=8, opacity=0.5).encode(
            x=alt.X("low:Q", title="2026 ÷ 2024 (log scale; 1 = no change)",
                    scale=alt.Scale(type="log", domain=[0.4, 60])),
            x2="high:Q"),
        base.mark_point(size=90, filled=True).encode(x="high:Q"),
        base.mark_point(size=90, filled=True).encode(x="low:Q"),
        base.mark_text(align="left", dx=10, dy=-10, fontSize=11).encode(x="high:Q", text="label:N"),
        alt.Chart(pd.DataFrame({"x": [1.0]})).mark_rule(strokeDash=[4, 4]).encode(x="x:Q"),
    ).properties(height=220)
    return finish(chart, description=(
        "Range chart of the multiple by which seed article 004 projects each metric to change "
        "from 2024 to 2026, on a log scale: model size 5 times, training compute 10 times, "
        "inference cost 1 to 50 times (ranges), hardware self-sufficiency 2 times (20% to 40%), "
        "and the number of start-ups about halved."))


def _references() -> pd.DataFrame:
    refs = facts.scale_references().reset_index()
    return pd.concat([refs, pd.DataFrame([{"run": _SCENARIO, "flops": 0.0, "kind": _SCENARIO}])],
                     ignore_index=True)


def what_if(refs: pd.DataFrame | None = None) -> alt.VConcatChart:
    """FLOPs of documented and projected runs and of the reader's scenario, with GPU-hours,
    rental dollars and days on the chosen cluster, computed in the browser.

    Args:
        refs: :func:`explainer.facts.scale_references` (default: loaded).
    """
    data = _references() if refs is None else pd.concat(
        [refs.reset_index(), pd.DataFrame([{"run": _SCENARIO, "flops": 0.0, "kind": _SCENARIO}])],
        ignore_index=True)
    order = list(data["run"])
    hours = costs.gpu_hours_expr("datum.flops2")
    base = alt.Chart(data).transform_calculate(
        flops2=f"datum.run == '{_SCENARIO}' ? {costs.what_if_flops_expr()} : datum.flops",
    ).transform_calculate(
        hours=hours,
        usd=f"datum.hours * {costs.PRICE.name}",
        days=costs.days_expr("datum.hours"),
    ).transform_calculate(
        label="format(datum.flops2, '.2~e') + ' FLOPs · ' + format(datum.hours / 1e6, ',.2f') "
              "+ 'M GPU-h · $' + format(datum.usd / 1e6, ',.1f') + 'M · ' "
              "+ format(datum.days, ',.0f') + ' days'",
    )
    bars = base.mark_bar().encode(
        y=alt.Y("run:N", title=None, sort=order),
        x=alt.X("flops2:Q", title="training compute (FLOPs, log scale)",
                scale=alt.Scale(type="log", domain=[1e23, 1e28], clamp=True)),
        color=alt.Color("kind:N", title=None, legend=alt.Legend(orient="top"),
                        scale=alt.Scale(domain=_KINDS, range=["#0072B2", "#CC79A7", "#E69F00"])),
        tooltip=["run", "kind", alt.Tooltip("flops2:Q", title="FLOPs", format=".3~e"),
                 alt.Tooltip("hours:Q", title="GPU-hours", format=",.0f"),
                 alt.Tooltip("usd:Q", title="US$", format="$,.0f"),
                 alt.Tooltip("days:Q", title="days", format=",.0f")],
    ).properties(width=300, height=200)
    labels = base.mark_text(align="left", fontSize=11, x=8).encode(
        y=alt.Y("run:N", sort=order, title=None), text="label:N",
    ).properties(width=300, height=170,
                 title="FLOPs · GPU-hours · rental dollars · days on the chosen cluster")
    chart = alt.vconcat(bars, labels, spacing=12).add_params(
        *(c.param() for c in CONTROLS)).properties(
        title=alt.Title("What-if: training compute, GPU-hours, rental dollars and days",
                        subtitle="every bar's GPU-hours, dollars and days use the sliders' MFU, "
                                 "price, peak and cluster size"))
    return finish(chart, width=None, description=(
        "Horizontal bars of training FLOPs on a log scale for DeepSeek-V2 and V3, Llama 3.1 "
        "405B, the article's 2024 average and its projected DeepSeek Next, and a scenario set by "
        "the sliders; below, each run's GPU-hours, rental dollars and days on the chosen cluster "
        "at the sliders' MFU, price and GPU peak. At the defaults the scenario is V3's "
        "pre-training."))


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
