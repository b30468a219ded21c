"""Figures and tables of "What did it cost?".

Charts take what :mod:`explainer.facts` and :mod:`explainer.costs` compute and
return Altair charts with a description (:func:`explainer.figures.finish`); the
``*_table`` functions turn the same frames into tables for readers
(:func:`explainer.tables.table`: units in the headings, human numbers, a caption that
says what a dash means). The what-if chart binds the controls declared in
:mod:`explainer.costs` and computes in the browser with the library's own
expressions; :func:`what_if_table` is its live twin.

Bars compared by length use a linear scale from zero. Dot and line charts that span
orders of magnitude use a log scale, and their axis title says so.
"""

from __future__ import annotations

from typing import Any

import altair as alt
import numpy as np
import pandas as pd

from explainer import costs, facts
from explainer.controls import Choice
from explainer.data import load_sources
from explainer.figures._base import check_frames, finish
from explainer.tables import FORMATS, human, table

__all__ = [
    "MODEL_SIZE",
    "api_prices",
    "bill_table",
    "compute_table",
    "kv_cache",
    "kv_cache_curve",
    "kv_table",
    "mfu",
    "one_tenth_table",
    "params_table",
    "price_gap_table",
    "seed_check_table",
    "seed_flops",
    "what_if",
    "what_if_table",
]

# which model's layer and head sizes the KV-cache chart shows
MODEL_SIZE = Choice("model_size", "Layer and head sizes of", options=("DeepSeek-V2", "DeepSeek-V3"),
                    default="DeepSeek-V3")
_DESIGNS = ["MHA", "GQA", "MQA", "MLA"]
_DESIGN_NAMES = {"MHA": "MHA", "GQA": "GQA, 8 groups", "MQA": "MQA", "MLA": "MLA"}
_WHAT_IF_RUN = "Your what-if run"
_WHAT_IF_ROWS = [_WHAT_IF_RUN, "DeepSeek-V3, reported hours", "Llama 3.1 405B, reported hours"]
_POWERS = {1e24: "10²⁴", 1e25: "10²⁵", 1e26: "10²⁶"}


def _sources(ids: pd.Series) -> str:
    """The titles of the source ids in ``ids`` (``;``-separated), in order of first use."""
    seen = dict.fromkeys(i.strip() for v in ids.dropna() for i in str(v).split(";"))
    titles = load_sources()["title"]
    return "; ".join(titles[i] for i in seen if i in titles.index)


# --------------------------------------------------------------------------- tables
def _by_measure(df: pd.DataFrame, formats: dict[str, Any]) -> pd.DataFrame:
    """``df`` (one row per model, one column per measure) turned so that each measure is a
    row and each model a column, every value written out with its measure's format.

    A table of a few models and many measures fits a phone this way round.
    """
    out = pd.DataFrame({m: [(FORMATS[f] if isinstance(f, str) else f)(df.loc[m, c])
                            for c, f in formats.items()] for m in df.index},
                       index=list(formats))
    return out


def _sig4(v: Any) -> str:
    return "—" if pd.isna(v) else human(v, 4)


def bill_table(bill: facts.Bill) -> Any:
    """A :class:`explainer.facts.Bill` stage by stage with a total row, as a table for readers.

    The dollars are recomputed from hours and price; they equal the source's own
    (``bill.stages["reported_usd"]``, checked by the tests).
    """
    t = bill.with_total()
    df = pd.DataFrame({
        "GPU-hours": t["gpu_hours"],
        "price per GPU-hour (assumed)": t["usd_per_gpu_hour"],
        "cost (hours × price)": t["usd"],
    }, index=t.index.rename("stage"))
    runs = costs.load_training_runs().loc[bill.model]
    return table(df, formats={"GPU-hours": "count:4", "price per GPU-hour (assumed)": "usd",
                              "cost (hours × price)": "usd:4"},
                 caption=f"Source: {_sources(runs['source_id'])}. The dollars equal the "
                         f"source's own.")


def compute_table(comp: pd.DataFrame) -> Any:
    """:func:`explainer.facts.training_compute` as a table for readers, one column per model.

    The numbers stay in ``comp``; the table's cells are text (each row has its own unit).
    """
    rows = {
        "activated parameters (N)": ("active_params", "count"),
        "training tokens (D)": ("training_tokens", "count"),
        "FLOPs by 6·N·D": ("flops_6nd", "auto"),
        "FLOPs as published": ("reported_flops", "auto"),
        "GPU-hours counted": ("gpu_hours", _sig4),
        "which GPU-hours": ("hours_basis", lambda v: v or "—"),
        "GPU": ("gpu_type", "text"),
        "trillion FLOPs per second per GPU": ("tflops_per_gpu", "int"),
        "estimated MFU (BF16 peak)": ("mfu", "pct"),
    }
    wide = pd.DataFrame({k: comp[c] for k, (c, _) in rows.items()}, index=comp.index)
    df = _by_measure(wide, {k: f for k, (_, f) in rows.items()})
    df.index.name = "per model"
    return table(df, caption="A dash: not published. GPT-4's N and D are leaks.")


def seed_check_table(check: pd.DataFrame) -> Any:
    """:func:`explainer.facts.seed_table_check` as a table for readers: article 004 beside our
    data, one column per model (the cells are text; the numbers stay in ``check``)."""
    prices = pd.Series([f"${i:.2f} / ${o:.2f}" if pd.notna(i) else np.nan for i, o in
                        zip(check["input_usd_per_mtok"], check["output_usd_per_mtok"])],
                       index=check.index)
    rows = {
        "activated parameters: article": (check["article_active_params"], "count"),
        "activated parameters: book's data": (check["active_params"], "count"),
        "training FLOPs: article": (check["article_flops"], "auto"),
        "training FLOPs: 6·N·D": (check["flops_6nd"], "auto"),
        "article ÷ 6·N·D": (check["article_over_6nd"], "times"),
        "MMLU (%): article": (check["article_mmlu"], "dec1"),
        "MMLU (%): book's data, base model, 5-shot": (check["mmlu_5shot"], "dec1"),
        "price per million tokens: article": (check["article_usd_per_mtok"], "usd"),
        "price per million tokens: book's data, input / output": (prices, "text"),
    }
    wide = pd.DataFrame({k: v for k, (v, _) in rows.items()}, index=check.index)
    df = _by_measure(wide, {k: f for k, (_, f) in rows.items()})
    df.index.name = "as the article names the model"
    return table(df, caption="A dash: no API price in the book's data.")


def one_tenth_table(tenth: pd.DataFrame, model: str = facts.V3,
                    reference: str = facts.LLAMA) -> Any:
    """:func:`explainer.facts.one_tenth` as a table: each measure, both models and the ratio.

    Args:
        tenth: :func:`explainer.facts.one_tenth` (columns ``model``, ``reference``, ``ratio``).
        model, reference: the two models' names, for the headings.
    """
    df = pd.DataFrame({model: tenth["model"], reference: tenth["reference"],
                       f"{model} as a share of {reference}": tenth["ratio"]},
                      index=tenth.index.rename("measure"))
    return table(df, formats={model: "auto", reference: "auto",
                              f"{model} as a share of {reference}": "pct"},
                 caption=f"{model} against {reference} on three measures of training compute: "
                         f"reported GPU-hours, 6·N·D for both, and 6·N·D against {reference}'s "
                         f"published FLOPs.")


def price_gap_table(gap: pd.DataFrame, model: str = facts.R1, reference: str = facts.O1) -> Any:
    """:func:`explainer.facts.api_price_gap` as a table: both prices and the saving.

    Args:
        gap: :func:`explainer.facts.api_price_gap` (indexed by ``input``/``output``).
        model, reference: the two models' names, for the headings.
    """
    rows = {"input": "input tokens (cache miss)", "output": "output tokens"}
    short_m = model.split("-")[-1]
    df = pd.DataFrame({model: gap["model_usd"], reference: gap["reference_usd"],
                       f"{short_m} cheaper by": gap["less"]})
    df.index = pd.Index([rows[i] for i in gap.index], name="per million")
    prices = costs.load_prices()
    return table(df, formats={model: "usd", reference: "usd", f"{short_m} cheaper by": "pct"},
                 caption=f"List prices at {model}'s launch. Sources: "
                         f"{_sources(prices.loc[[model, reference], 'source_id'])}.")


def kv_table(kv: pd.DataFrame, context: int) -> Any:
    """KV cache of one ``context``-token sequence per attention design and model size, in GB.

    Args:
        kv: :func:`explainer.costs.kv_cache_table`.
        context: tokens in the sequence (131,072 for "128K").
    """
    gb = kv.pivot(index="attention", columns="model size", values="bytes per token").loc[
        _DESIGNS] * context / 1e9
    short = {m: m.replace("DeepSeek-", "") for m in gb.columns}
    df = gb.rename(columns=lambda m: f"{short[m]} sizes (GB)")
    last = gb.columns[-1]
    df.insert(len(df.columns), f"relative to MLA ({short[last]})", gb[last] / gb.loc["MLA", last])
    df.index = pd.Index([_DESIGN_NAMES[d] for d in df.index], name="attention")
    return table(df, formats={c: "auto" for c in df.columns[:-1]} | {df.columns[-1]: "times"},
                 caption=f"One sequence of {context:,} tokens, BF16, at the layer and head sizes "
                         f"of DeepSeek-V2 and V3.")


_PARTS = {"embedding": "input embedding", "head": "output head", "attention": "attention (MLA)",
          "dense_ffn": "dense feed-forward layers", "shared_experts": "shared experts",
          "routed_experts": "routed experts, all", "gates": "routers",
          "norms": "norms", "activated_routed_experts": "routed experts one token uses",
          "total": "total", "activated": "activated per token"}


def _billions(v: Any) -> str:
    return "—" if pd.isna(v) else "under 0.01" if 0 < v < 0.005 else f"{v:,.2f}"


def params_table(counts: dict[str, dict[str, int]], models: pd.DataFrame) -> Any:
    """Parameter counts part by part (billions) beside the published totals, as a table.

    Args:
        counts: ``{model: explainer.architecture.param_counts(config)}``.
        models: :func:`explainer.costs.load_models`.
    """
    out = pd.DataFrame({m: {_PARTS[k]: p[k] / 1e9 for k in _PARTS} for m, p in counts.items()})
    out.loc["published total"] = [models.loc[m, "total_params"] / 1e9 for m in out.columns]
    out.loc["published activated"] = [models.loc[m, "active_params"] / 1e9 for m in out.columns]
    out = out.rename(columns=lambda m: f"{m} (billions)")
    out.index.name = "part of the model"
    return table(out, formats={c: _billions for c in out.columns},
                 caption="Parameters counted from DeepSeek's published configs, part by part, "
                         "in billions, with the published totals below.")


# --------------------------------------------------------------------------- charts
_MFU_MEASURES = ["estimate: 6·N·D ÷ GPU-hours", "estimate with attention",
                 "measured by the developer"]


def mfu(att: pd.DataFrame, reported: pd.DataFrame | None = None) -> alt.LayerChart:
    """Estimated MFU (by 6·N·D alone and with attention) beside any MFU a developer measured.

    Args:
        att: :func:`explainer.facts.with_attention`.
        reported: :func:`explainer.facts.reported_mfu` (default: loaded), indexed by
            ``(model, stage)``; each model's measured range is drawn as a band.
    """
    reported = facts.reported_mfu() if reported is None else reported
    rows = []
    for model, r in att.iterrows():
        for measure, col in zip(_MFU_MEASURES, ("mfu", "mfu_with_attention")):
            rows.append({"model": model, "measure": measure, "lo": 0.0, "hi": r[col],
                         "at": r[col], "label": f"{r[col]:.0%}"})
        if model in reported.index.get_level_values("model"):
            m = reported.loc[model, "mfu"]
            rows.append({"model": model, "measure": _MFU_MEASURES[2], "lo": m.min(),
                         "hi": m.max(), "at": m.max(),
                         "label": f"{100 * m.min():.0f}–{m.max():.0%}"})
        else:
            rows.append({"model": model, "measure": _MFU_MEASURES[2], "lo": np.nan,
                         "hi": np.nan, "at": 0.0, "label": "none published"})
    data = pd.DataFrame(rows)
    base = alt.Chart(data, title=alt.Title(
        "How busy were the GPUs?",
        subtitle=["MFU: the share of the GPU's BF16 peak", "spent on the model's arithmetic"],
    )).encode(
        y=alt.Y("model:N", title=None, sort=list(att.index)),
        yOffset=alt.YOffset("measure:N", sort=_MFU_MEASURES),
    )
    bars = base.mark_bar().encode(
        x=alt.X("hi:Q", title="MFU",
                scale=alt.Scale(domain=[0, 0.55]),
                axis=alt.Axis(format="%", values=[0, 0.1, 0.2, 0.3, 0.4, 0.5])),
        x2="lo:Q",
        color=alt.Color("measure:N", sort=_MFU_MEASURES, title=None,
                        legend=alt.Legend(orient="bottom", columns=1, labelLimit=330)),
        tooltip=["model", "measure", alt.Tooltip("label:N", title="MFU")],
    )
    text = base.mark_text(align="left", dx=3, fontSize=11).encode(x="at:Q", text="label:N")
    chart = alt.layer(bars, text).properties(height=190)
    v3, llama = att.loc[facts.V3], att.loc[facts.LLAMA]
    m = reported.loc[facts.LLAMA, "mfu"]
    return finish(chart, description=(
        f"Bars of model-FLOPs utilisation against the BF16 peak. Estimated from GPU-hours, "
        f"DeepSeek-V3 reaches {v3['mfu']:.0%} ({v3['mfu_with_attention']:.0%} with attention "
        f"counted) and Llama 3.1 405B {llama['mfu']:.0%} ({llama['mfu_with_attention']:.0%}). "
        f"Meta measured {m.min():.0%} to {m.max():.0%} during Llama's pre-training, a band that "
        f"reaches past both of V3's estimates; DeepSeek published no measured figure."))


def seed_flops(check: pd.DataFrame) -> alt.Chart:
    """Article 004's training FLOPs beside 6·N·D and published figures (dots, log scale).

    Args:
        check: :func:`explainer.facts.seed_table_check`.
    """
    order = ["article 004", "6·N·D (book's data)", "published figure"]
    long = pd.concat([
        pd.DataFrame({"model": check.index, "estimate": name, "FLOPs": check[col].to_numpy()})
        for name, col in zip(order, ("article_flops", "flops_6nd", "reported_flops"))
    ]).dropna()
    label = " : ".join(f"datum.value == {v:.0e} ? '{s}'" for v, s in _POWERS.items()) + " : ''"
    chart = (
        alt.Chart(long, title=alt.Title("Article 004's compute, checked",
                                        subtitle=["training FLOPs; GPT-4's inputs are",
                                                  "leaked estimates"]))
        .mark_point(size=140, filled=True)
        .encode(
            x=alt.X("FLOPs:Q", title="training FLOPs (log scale)",
                    scale=alt.Scale(type="log", domain=[5e23, 1e26]),
                    axis=alt.Axis(values=list(_POWERS), labelExpr=label)),
            y=alt.Y("model:N", title=None),
            # one legend for both: same field, same domain, same legend (no sort, which splits it)
            color=alt.Color("estimate:N", title=None, scale=alt.Scale(domain=order),
                            legend=alt.Legend(orient="bottom", columns=1, labelLimit=330)),
            shape=alt.Shape("estimate:N", title=None, scale=alt.Scale(domain=order),
                            legend=alt.Legend(orient="bottom", columns=1, labelLimit=330)),
            tooltip=["model", "estimate", alt.Tooltip("FLOPs:Q", format=".3g")],
        )
        .properties(height=150)
    )
    v2 = check.loc["DeepSeek-V2", "article_over_6nd"]
    return finish(chart, description=(
        "Dot plot of training FLOPs on a log scale for DeepSeek-V2, GPT-4 and Llama 3 405B: "
        "the figure printed in article 004, 6·N·D from the book's data, and any published "
        f"figure. For GPT-4 and Llama they sit close together; for V2 the article's is "
        f"{v2:.1f} times 6·N·D."))


def api_prices(prices: pd.DataFrame) -> alt.Chart:
    """API list prices per million input and output tokens (dots, log scale).

    Args:
        prices: :func:`explainer.costs.load_prices`.
    """
    long = prices.reset_index().melt(id_vars=["model"],
                                     value_vars=["input_usd_per_mtok", "output_usd_per_mtok"],
                                     var_name="tokens", value_name="usd_per_mtok")
    long["tokens"] = long["tokens"].map({"input_usd_per_mtok": "input (cache miss)",
                                         "output_usd_per_mtok": "output"})
    chart = (
        alt.Chart(long, title=alt.Title("API list prices", subtitle=[
            "US dollars per million tokens; OpenAI's", "from copies of its price page"]))
        .mark_point(size=120, filled=True)
        .encode(
            y=alt.Y("model:N", title=None, sort=alt.EncodingSortField("usd_per_mtok", op="max")),
            x=alt.X("usd_per_mtok:Q", title="$ per million tokens (log scale)",
                    scale=alt.Scale(type="log", domain=[0.1, 100]),
                    axis=alt.Axis(values=[0.1, 1, 10, 100], format="$~g")),
            shape=alt.Shape("tokens:N", title=None, legend=alt.Legend(orient="bottom")),
            color=alt.Color("tokens:N", title=None, legend=alt.Legend(orient="bottom")),
            tooltip=["model", "tokens", alt.Tooltip("usd_per_mtok:Q", format="$.2f")],
        )
        .properties(height=200)
    )
    factor = (prices.loc[facts.O1, "output_usd_per_mtok"]
              / prices.loc[facts.R1, "output_usd_per_mtok"])
    return finish(chart, description=(
        f"Dot plot of the API list prices of {len(prices)} models per million input and output "
        "tokens, on a log scale. DeepSeek-R1's markers sit the same distance left of OpenAI o1's "
        f"for input and output: a constant factor of about {factor:.0f}."))


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
        alt.Chart(curve, title=alt.Title("KV cache for one sequence", subtitle=[
            "BF16; MHA, GQA (8 groups) and MQA are the", "same model with another attention"]))
        .mark_line(point=True)
        .encode(
            x=alt.X("context tokens:Q", title="context, tokens (log scale)",
                    scale=alt.Scale(type="log", base=2),
                    axis=alt.Axis(values=[1024, 4096, 16384, 65536, 131072],
                                  labelExpr="datum.value / 1024 + 'K'")),
            y=alt.Y("cache GB:Q", scale=alt.Scale(type="log"), title="cache (GB, log scale)"),
            color=alt.Color("attention:N", sort=_DESIGNS, title=None,
                            legend=alt.Legend(orient="bottom")),
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


def _dollars(usd: str) -> str:
    """A Vega expression writing ``usd`` dollars as "$5.33 million" (or billion, or plain)."""
    return (f"({usd} >= 1e9 ? '$' + format({usd} / 1e9, ',.2f') + ' billion' : "
            f"{usd} >= 1e6 ? '$' + format({usd} / 1e6, ',.2f') + ' million' : "
            f"'$' + format({usd}, ',.0f'))")


def what_if(bill: facts.Bill, models: pd.DataFrame) -> alt.LayerChart:
    """The training-cost calculator: a what-if bar and two re-priced reported runs.

    The what-if bar is :func:`explainer.costs.what_if_cost_expr` evaluated in the
    browser; the reference bars multiply reported GPU-hours by the price slider. The
    bars share a linear scale from zero, so their lengths compare as the costs do; each
    bar's name and cost sit above it, so no label needs the chart's width.

    Args:
        bill: :func:`explainer.facts.training_bill` of DeepSeek-V3 (all stages).
        models: :func:`explainer.costs.load_models` (Llama 3.1 405B's reported hours).
    """
    bars = pd.DataFrame({
        "run": _WHAT_IF_ROWS,
        "reported_gpu_hours": [np.nan, bill.gpu_hours, models.loc[facts.LLAMA, "gpu_hours"]],
    })
    base = (
        alt.Chart(bars, title=alt.Title("What would the training run cost?", subtitle=[
            "FLOPs (6·N·D) ÷ (peak × MFU) = GPU-hours;", "GPU-hours × price = dollars"]))
        .transform_calculate(usd=f"isValid(datum.reported_gpu_hours) ? datum.reported_gpu_hours"
                                 f" * {costs.PRICE.name} : {costs.what_if_cost_expr()}")
        .transform_calculate(musd="datum.usd / 1e6",
                             label=f"datum.run + ': ' + {_dollars('datum.usd')}")
        .encode(y=alt.Y("run:N", title=None, sort=_WHAT_IF_ROWS, axis=None))
    )
    chart = alt.layer(
        base.mark_bar(size=16, yOffset=9).encode(
            x=alt.X("musd:Q", title="cost, million US dollars",
                    scale=alt.Scale(zero=True, nice=True),
                    axis=alt.Axis(tickCount=4, format=",~r", labelOverlap=True)),
            color=alt.Color("run:N", legend=None, sort=_WHAT_IF_ROWS),
            tooltip=["run", alt.Tooltip("musd:Q", title="million US$", format=",.3f")]),
        base.mark_text(align="left", x=0, yOffset=-9, fontSize=12).encode(text="label:N"),
    ).add_params(*(c.param() for c in costs.WHAT_IF_CONTROLS)).properties(height=alt.Step(48))
    at_defaults = costs.what_if_cost_usd(*(c.default for c in costs.WHAT_IF_CONTROLS))
    llama = models.loc[facts.LLAMA, "gpu_hours"] * costs.PRICE.default
    return finish(chart, description=(
        "Horizontal bars of training cost in US dollars on a linear scale: a what-if run "
        "computed in the browser from the sliders (price, MFU, tokens, activated parameters, "
        "GPU peak), and the reported GPU-hours of DeepSeek-V3 and Llama 3.1 405B at the chosen "
        f"price. At the defaults the what-if bar is V3's pre-training, about "
        f"${at_defaults / 1e6:.1f} million, against ${bill.gpu_hours * costs.PRICE.default / 1e6:.1f}"
        f" million for V3's whole bill and ${llama / 1e6:.1f} million for Llama."))


def what_if_table(usd_per_gpu_hour: float, mfu: float, tokens_t: float, active_params_b: float,
                  peak_tflops: float) -> Any:
    """The live twin of :func:`what_if`: the same chain computed by the library, as a table.

    Keywords are the names of :data:`explainer.costs.WHAT_IF_CONTROLS`. The numbers
    are in the returned table's ``.data`` (columns ``training FLOPs``, ``GPU-hours``,
    ``cost (US$)``).
    """
    for c, v in zip(costs.WHAT_IF_CONTROLS,
                    (usd_per_gpu_hour, mfu, tokens_t, active_params_b, peak_tflops)):
        c.check(v)
    flops = costs.training_flops(active_params_b * 1e9, tokens_t * 1e12)
    hours = costs.gpu_hours(flops, peak_tflops * 1e12, mfu)
    bill = facts.training_bill()
    llama_hours = costs.load_models().loc[facts.LLAMA, "gpu_hours"]
    df = pd.DataFrame({
        "training FLOPs": [flops, np.nan, np.nan],
        "GPU-hours": [hours, bill.gpu_hours, llama_hours],
        "cost (US$)": [costs.training_cost_usd(hours, usd_per_gpu_hour),
                       costs.training_cost_usd(bill.gpu_hours, usd_per_gpu_hour),
                       costs.training_cost_usd(llama_hours, usd_per_gpu_hour)],
    }, index=pd.Index(_WHAT_IF_ROWS, name="run"))
    return table(df, formats={"GPU-hours": "count", "cost (US$)": "usd"},
                 caption="Your what-if run beside the reported GPU-hours of DeepSeek-V3 and "
                         "Llama 3.1 405B at your price. A dash: the reported runs are priced "
                         "from their hours, not from FLOPs.")


check_frames(globals())  # refuse a missing or malformed frame by name (issue #25)
