"""Figures and tables of "What did it cost?".

Charts take what :mod:`explainer.facts` and :mod:`explainer.costs` compute and
return Altair charts with a description (:func:`explainer.figures.finish`); the
``*_table`` functions only rename and scale columns for display. The what-if chart
binds the controls declared in :mod:`explainer.costs` and computes in the browser
with the library's own expressions; :func:`what_if_table` is its live twin.
"""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from explainer import costs, facts
from explainer.controls import Choice
from explainer.figures._base import finish

__all__ = [
    "MODEL_SIZE",
    "api_prices",
    "bill_table",
    "compute_table",
    "kv_cache",
    "kv_cache_curve",
    "mfu",
    "params_table",
    "seed_check_table",
    "seed_flops",
    "what_if",
    "what_if_table",
]

# which model's layer and head sizes the KV-cache chart shows
MODEL_SIZE = Choice("model_size", "Layer and head sizes of", options=("DeepSeek-V2", "DeepSeek-V3"),
                    default="DeepSeek-V3")
_DESIGNS = ["MHA", "GQA", "MQA", "MLA"]
_WHAT_IF_RUN = "your what-if run"


# --------------------------------------------------------------------------- tables
def bill_table(bill: facts.Bill) -> pd.DataFrame:
    """A :class:`explainer.facts.Bill` stage by stage with a total row, readable columns."""
    return bill.with_total().rename(columns={
        "gpu_hours": "GPU-hours", "usd_per_gpu_hour": "$ per GPU-hour (assumed)",
        "reported_usd": "reported $", "usd": "recomputed $"})


def compute_table(comp: pd.DataFrame) -> pd.DataFrame:
    """:func:`explainer.facts.training_compute` with readable columns."""
    return pd.DataFrame({
        "active params (B)": comp["active_params"] / 1e9,
        "tokens (T)": comp["training_tokens"] / 1e12,
        "6·N·D FLOPs": comp["flops_6nd"],
        "published FLOPs": comp["reported_flops"],
        "GPU-hours used": comp["gpu_hours"],
        "hours counted": comp["hours_basis"],
        "GPU": comp["gpu_type"],
        "TFLOP/s per GPU": comp["tflops_per_gpu"],
        "implied MFU (BF16)": comp["mfu"],
    })


def seed_check_table(check: pd.DataFrame) -> pd.DataFrame:
    """:func:`explainer.facts.seed_table_check` with readable columns."""
    return pd.DataFrame({
        "article: active params (B)": check["article_active_params"] / 1e9,
        "data: active params (B)": check["active_params"] / 1e9,
        "article: FLOPs": check["article_flops"],
        "6·N·D FLOPs": check["flops_6nd"],
        "article ÷ 6·N·D": check["article_over_6nd"],
        "article: MMLU": check["article_mmlu"],
        "data: MMLU (5-shot, base)": check["mmlu_5shot"],
        "article: $ per M tokens": check["article_usd_per_mtok"],
        "data: $ in / out": [f"{i:.2f} / {o:.2f}" if pd.notna(i) else "" for i, o in
                             zip(check["input_usd_per_mtok"], check["output_usd_per_mtok"])],
    })


def params_table(counts: dict[str, dict[str, int]], models: pd.DataFrame) -> pd.DataFrame:
    """Parameter counts part by part (billions) beside the published totals.

    Args:
        counts: ``{model: explainer.architecture.param_counts(config)}``.
        models: :func:`explainer.costs.load_models`.
    """
    parts = ["embedding", "head", "attention", "dense_ffn", "shared_experts", "routed_experts",
             "gates", "norms", "activated_routed_experts", "total", "activated"]
    out = pd.DataFrame({m: {k: p[k] / 1e9 for k in parts} for m, p in counts.items()})
    out.loc["published total"] = [models.loc[m, "total_params"] / 1e9 for m in out.columns]
    out.loc["published activated"] = [models.loc[m, "active_params"] / 1e9 for m in out.columns]
    out.index.name = "billions of parameters"
    return out


# --------------------------------------------------------------------------- charts
def mfu(att: pd.DataFrame) -> alt.Chart:
    """Implied MFU by 6·N·D alone and with attention counted, per model.

    Args:
        att: :func:`explainer.facts.with_attention`.
    """
    long = pd.concat([
        pd.DataFrame({"model": att.index, "count": "6·N·D only", "MFU": att["mfu"].to_numpy()}),
        pd.DataFrame({"model": att.index, "count": "6·N·D + attention",
                      "MFU": att["mfu_with_attention"].to_numpy()}),
    ])
    order = ["6·N·D only", "6·N·D + attention"]
    chart = (
        alt.Chart(long, title=alt.Title("Implied MFU against the BF16 peak",
                                        subtitle="attention at each run's pre-training length "
                                                 "(V3 4K tokens, Llama 8K)"))
        .mark_bar()
        .encode(
            y=alt.Y("model:N", title=None),
            yOffset=alt.YOffset("count:N", sort=order),
            x=alt.X("MFU:Q", title="model-FLOPs utilisation", axis=alt.Axis(format="%"),
                    scale=alt.Scale(domain=[0, 0.5])),
            color=alt.Color("count:N", sort=order, title=None, legend=alt.Legend(orient="top")),
            tooltip=["model", "count", alt.Tooltip("MFU:Q", format=".1%")],
        )
        .properties(height=150)
    )
    v3, llama = att.loc[facts.V3], att.loc[facts.LLAMA]
    return finish(chart, description=(
        f"Bars of implied model-FLOPs utilisation. By 6·N·D alone DeepSeek-V3 reaches "
        f"{v3['mfu']:.0%} and Llama 3.1 405B {llama['mfu']:.0%}; counting attention over the "
        f"context raises V3 to {v3['mfu_with_attention']:.0%} and Llama to "
        f"{llama['mfu_with_attention']:.0%}, because attention is a larger share of V3's work."))


def seed_flops(check: pd.DataFrame) -> alt.Chart:
    """Seed article 004's training FLOPs beside 6·N·D and published estimates (log scale).

    Args:
        check: :func:`explainer.facts.seed_table_check`.
    """
    long = pd.concat([
        pd.DataFrame({"model": check.index, "estimate": "seed article 004",
                      "FLOPs": check["article_flops"].to_numpy()}),
        pd.DataFrame({"model": check.index, "estimate": "6·N·D from our data",
                      "FLOPs": check["flops_6nd"].to_numpy()}),
        pd.DataFrame({"model": check.index, "estimate": "published (secondary)",
                      "FLOPs": check["reported_flops"].to_numpy()}),
    ]).dropna()
    chart = (
        alt.Chart(long, title=alt.Title("Training compute: the article's table against 6·N·D",
                                        subtitle="log scale; GPT-4's inputs are leaked estimates"))
        .mark_point(size=140, filled=True)
        .encode(
            x=alt.X("FLOPs:Q", scale=alt.Scale(type="log", domain=[5e23, 1e26]),
                    axis=alt.Axis(format=".0e")),
            y=alt.Y("model:N", title=None),
            color=alt.Color("estimate:N", title=None, legend=alt.Legend(orient="top")),
            tooltip=["model", "estimate", alt.Tooltip("FLOPs:Q", format=".3g")],
        )
        .properties(height=160)
    )
    v2 = check.loc["DeepSeek-V2", "article_over_6nd"]
    return finish(chart, description=(
        "Dot plot of training FLOPs on a log scale for DeepSeek-V2, GPT-4 and Llama 3 405B: "
        "the figure printed in seed article 004, 6·N·D from our data, and any published "
        f"estimate. For GPT-4 and Llama they sit close together; for V2 the article's is "
        f"{v2:.1f} times 6·N·D."))


def api_prices(prices: pd.DataFrame) -> alt.Chart:
    """API list prices per million input and output tokens (log scale).

    Args:
        prices: :func:`explainer.costs.load_prices`.
    """
    long = prices.reset_index().melt(id_vars=["model"],
                                     value_vars=["input_usd_per_mtok", "output_usd_per_mtok"],
                                     var_name="tokens", value_name="usd_per_mtok")
    long["tokens"] = long["tokens"].map({"input_usd_per_mtok": "input (cache miss)",
                                         "output_usd_per_mtok": "output"})
    chart = (
        alt.Chart(long, title=alt.Title("API list prices, US dollars per million tokens",
                                        subtitle="log scale; OpenAI prices from secondary copies "
                                                 "of its price page"))
        .mark_point(size=120, filled=True)
        .encode(
            y=alt.Y("model:N", title=None, sort=alt.EncodingSortField("usd_per_mtok", op="max")),
            x=alt.X("usd_per_mtok:Q", title="USD per 1M tokens",
                    scale=alt.Scale(type="log", domain=[0.1, 100])),
            shape=alt.Shape("tokens:N", title=None),
            color=alt.Color("tokens:N", title=None, legend=alt.Legend(orient="top")),
            tooltip=["model", "tokens", alt.Tooltip("usd_per_mtok:Q", format="$.2f")],
        )
        .properties(height=200)
    )
    return finish(chart, description=(
        f"Dot plot of the API list prices of {len(prices)} models per million input and output "
        "tokens, on a log scale. DeepSeek-R1's markers sit the same distance left of OpenAI o1's "
        "for input and output: a constant factor of about 27."))


def kv_cache_curve(table: pd.DataFrame, context: int) -> pd.DataFrame:
    """Cache size per sequence from 1K tokens to ``context`` for each row of
    :func:`explainer.costs.kv_cache_table` (29 points, log-spaced)."""
    ctx = np.unique(np.geomspace(1024, context, 29).round().astype(int))
    return pd.DataFrame([
        {"model size": r["model size"], "attention": r["attention"], "context tokens": int(n),
         "cache GB": r["bytes per token"] * n / 1e9}
        for _, r in table.iterrows() for n in ctx
    ])


def kv_cache(curve: pd.DataFrame) -> alt.Chart:
    """KV cache of one sequence against context length, one line per attention design.

    The page's select (:data:`MODEL_SIZE`) picks whose layer and head sizes are used.

    Args:
        curve: :func:`kv_cache_curve`.
    """
    pick = MODEL_SIZE.param()
    chart = (
        alt.Chart(curve, title=alt.Title("KV cache for one sequence, by attention design",
                                         subtitle="BF16; MHA/GQA/MQA are the same model with a "
                                                  "different attention (GQA: 8 groups)"))
        .mark_line(point=True)
        .encode(
            x=alt.X("context tokens:Q", scale=alt.Scale(type="log", base=2),
                    axis=alt.Axis(values=[1024, 4096, 16384, 65536, 131072],
                                  labelExpr="datum.value / 1024 + 'K'")),
            y=alt.Y("cache GB:Q", scale=alt.Scale(type="log"), title="cache (GB, log scale)"),
            color=alt.Color("attention:N", sort=_DESIGNS, title=None,
                            legend=alt.Legend(orient="top")),
            tooltip=["model size", "attention", "context tokens",
                     alt.Tooltip("cache GB:Q", format=".2f")],
        )
        .add_params(pick)
        .transform_filter(alt.datum["model size"] == pick)
        .properties(height=300)
    )
    return finish(chart, description=(
        "Log-log line chart of the KV cache one sequence needs, from 1K to 128K tokens of "
        "context, for multi-head, grouped-query, multi-query and multi-head latent attention at "
        "the chosen model's sizes. The lines are parallel; MLA sits just above MQA and far below "
        "MHA."))


def what_if(bill: facts.Bill, models: pd.DataFrame) -> alt.LayerChart:
    """The training-cost calculator: a what-if bar and two re-priced reported runs.

    The what-if bar is :func:`explainer.costs.what_if_cost_expr` evaluated in the
    browser; the reference bars multiply reported GPU-hours by the price slider.

    Args:
        bill: :func:`explainer.facts.training_bill` of DeepSeek-V3 (all stages).
        models: :func:`explainer.costs.load_models` (Llama 3.1 405B's reported hours).
    """
    bars = pd.DataFrame({
        "run": [_WHAT_IF_RUN, "DeepSeek-V3, reported GPU-hours",
                "Llama 3.1 405B, reported GPU-hours"],
        "reported_gpu_hours": [np.nan, bill.gpu_hours, models.loc[facts.LLAMA, "gpu_hours"]],
    })
    order = list(bars["run"])
    base = (
        alt.Chart(bars, title=alt.Title("What would the training run cost?",
                                        subtitle="6·N·D FLOPs ÷ (peak × MFU) × $ per GPU-hour; "
                                                 "move the sliders"))
        .transform_calculate(usd=f"isValid(datum.reported_gpu_hours) ? datum.reported_gpu_hours"
                                 f" * {costs.PRICE.name} : {costs.what_if_cost_expr()}")
        .transform_calculate(musd="datum.usd / 1e6",
                             label="format(datum.usd / 1e6, ',.2f') + ' M$'")
        .encode(y=alt.Y("run:N", title=None, sort=order, axis=alt.Axis(labelLimit=220)))
        .properties(height=150)
    )
    chart = alt.layer(
        base.mark_bar().encode(
            x=alt.X("musd:Q", title="million US dollars (log scale)",
                    scale=alt.Scale(type="log", domain=[0.01, 1000], clamp=True)),
            x2=alt.datum(0.01),
            color=alt.Color("run:N", legend=None, sort=order),
            tooltip=["run", alt.Tooltip("musd:Q", title="million $", format=",.3f")]),
        base.mark_text(align="left", dx=4).encode(x="musd:Q", text="label:N"),
    ).add_params(*(c.param() for c in costs.WHAT_IF_CONTROLS))
    return finish(chart, description=(
        "Horizontal bars of training cost in million US dollars on a log scale: a what-if run "
        "computed in the browser from the sliders (price, MFU, tokens, activated parameters, "
        "GPU peak), and the reported GPU-hours of DeepSeek-V3 and Llama 3.1 405B at the chosen "
        "price. At the defaults the what-if bar is V3's pre-training, about $5.3M."))


def what_if_table(usd_per_gpu_hour: float, mfu: float, tokens_t: float, active_params_b: float,
                  peak_tflops: float) -> pd.DataFrame:
    """The live twin of :func:`what_if`: the same chain computed by the library.

    Keywords are the names of :data:`explainer.costs.WHAT_IF_CONTROLS`.
    """
    for c, v in zip(costs.WHAT_IF_CONTROLS,
                    (usd_per_gpu_hour, mfu, tokens_t, active_params_b, peak_tflops)):
        c.check(v)
    flops = costs.training_flops(active_params_b * 1e9, tokens_t * 1e12)
    hours = costs.gpu_hours(flops, peak_tflops * 1e12, mfu)
    bill = facts.training_bill()
    llama_hours = costs.load_models().loc[facts.LLAMA, "gpu_hours"]
    return pd.DataFrame({
        "training FLOPs": [flops, np.nan, np.nan],
        "GPU-hours": [hours, bill.gpu_hours, llama_hours],
        "cost (US$)": [costs.training_cost_usd(hours, usd_per_gpu_hour),
                       costs.training_cost_usd(bill.gpu_hours, usd_per_gpu_hour),
                       costs.training_cost_usd(llama_hours, usd_per_gpu_hour)],
    }, index=[_WHAT_IF_RUN, "DeepSeek-V3, reported GPU-hours",
              "Llama 3.1 405B, reported GPU-hours"])
