"""Figures of "Attention that remembers less": measured caches, decode times, sparse retrieval.

The data come from :mod:`explainer.attention` and from ``benchmarks/attention.py``'s
files (``data/attention_*.csv``). The page's sliders are the library's declared
controls (:data:`explainer.attention.SHAPE_CONTROLS`, :data:`~explainer.attention.TOP_K_LOG2`).
"""

from __future__ import annotations

from typing import Any

import altair as alt
import pandas as pd

from explainer import attention
from explainer.figures._base import finish

__all__ = ["LABELS", "cache_at_shape", "cache_vs_context", "decode_time", "retrieval_at",
           "shape_table", "sparse_accuracy", "sparse_work"]

# make_attention kind -> the name the page uses
LABELS = {"mha": "MHA", "gqa": "GQA", "mqa": "MQA", "mla_naive": "MLA-naive",
          "mla_absorb": "MLA-absorb", "mla_sparse": "sparse MLA"}
_ORDER = list(LABELS.values())
_CONTEXT_AXIS = alt.Axis(values=[1024, 2048, 4096, 8192, 16384, 32768],
                         labelExpr="datum.value / 1024 + 'K'")


def _by_context(bench: pd.DataFrame, field: str, title: str, subtitle: str,
                y_title: str, fmt: str) -> alt.Chart:
    """Log-log lines of ``field`` against context length, one per method."""
    return (
        alt.Chart(bench[["method", "context_tokens", field]],
                  title=alt.Title(title, subtitle=subtitle))
        .mark_line(point=True)
        .encode(
            x=alt.X("context_tokens:Q", title="context (tokens)", axis=_CONTEXT_AXIS,
                    scale=alt.Scale(type="log", base=2)),
            y=alt.Y(f"{field}:Q", title=y_title, scale=alt.Scale(type="log")),
            color=alt.Color("method:N", sort=_ORDER, title=None,
                            legend=alt.Legend(orient="top", columns=3)),
            tooltip=["method", "context_tokens", alt.Tooltip(f"{field}:Q", format=fmt)],
        )
        .properties(height=300)
    )


def cache_vs_context(bench: pd.DataFrame) -> alt.Chart:
    """Measured cache size against context, one line per design (one layer, float32).

    Args:
        bench: ``data/attention_benchmark.csv``.
    """
    chart = _by_context(bench, "cache_mb", "Cache of one layer, measured from the held tensors",
                        "float32, 16 heads; log scales", "cache (MB, log scale)", ".2f")
    per_tok = bench.groupby("method")["cache_bytes_per_token"].first()
    return finish(chart, description=(
        "Straight parallel lines on log scales: each design's cache grows in proportion to the "
        f"context. MHA and MLA-naive hold {per_tok['MHA']:.0f} bytes per token, MLA-absorb "
        f"{per_tok['MLA-absorb']:.0f}, MQA {per_tok['MQA']:.0f}."))


def decode_time(bench: pd.DataFrame) -> alt.Chart:
    """Measured time to decode one token against context, one line per design.

    Args:
        bench: ``data/attention_benchmark.csv``.
    """
    chart = _by_context(bench, "ms_per_token", "Time to decode one token on this CPU",
                        "one layer, batch 1, one thread; CPU time, median of 21; log scales",
                        "ms per token (log scale)", ".2f")
    last = bench[bench.context_tokens == bench.context_tokens.max()].set_index("method")
    fastest = last["ms_per_token"].idxmin()
    return finish(chart, description=(
        "Decode time per token rises with the context for every design. At "
        f"{int(bench.context_tokens.max()) // 1024}K tokens {fastest} is "
        f"fastest ({last.loc[fastest, 'ms_per_token']:.1f} ms) and MHA slowest "
        f"({last.loc['MHA', 'ms_per_token']:.1f} ms)."))


def cache_at_shape() -> alt.Chart:
    """Cache elements per token per layer at the shape the sliders pick, computed in the browser.

    The expressions are :func:`explainer.attention.cache_elements_expr` (tested against the
    library's formula and the measured caches).
    """
    exprs = attention.cache_elements_expr()
    kinds = list(exprs)
    calc = f"({exprs[kinds[-1]]})"
    for k in reversed(kinds[:-1]):  # datum.kind == 'mha' ? (...) : datum.kind == 'gqa' ? ...
        calc = f"datum.kind == '{k}' ? ({exprs[k]}) : {calc}"
    data = pd.DataFrame({"kind": kinds, "design": [LABELS[k] for k in kinds]})
    chart = (
        alt.Chart(data, title=alt.Title(
            "Cache elements per token per layer at your shape",
            subtitle="Move the sliders; V2 Table 1's formulas, evaluated in your browser"))
        .mark_bar()
        .encode(
            y=alt.Y("design:N", sort=_ORDER, title=None),
            x=alt.X("elements:Q", title="elements cached per token per layer",
                    scale=alt.Scale(type="log")),
            color=alt.Color("design:N", sort=_ORDER, legend=None),
            tooltip=["design", alt.Tooltip("elements:Q", format=",")],
        )
        .transform_calculate(elements=calc)
        .add_params(*(c.param() for c in attention.SHAPE_CONTROLS))
        .properties(height=200)
    )
    return finish(chart, description=(
        "Horizontal bars, log scale: elements each design caches per token per layer at the "
        "shape the sliders set. MHA and MLA-naive are equal; MLA-absorb depends only on the "
        "latent and rotary widths, not on the number of heads."))


def shape_table(**values: Any) -> Any:
    """JupyterLab: run every design at the reader's shape (:func:`attention.shape_report`)."""
    from IPython.display import Markdown

    try:
        return attention.shape_report(**values).rename(index=LABELS)
    except ValueError as err:
        return Markdown(f"**That shape is refused:** {err}")


def sparse_accuracy(curve: pd.DataFrame) -> alt.LayerChart:
    """Retrieval accuracy against keys kept per query, one line per length; a slider for k.

    Args:
        curve: ``data/attention_sparse_retrieval.csv`` (:func:`attention.retrieval_curve`).
    """
    k = attention.TOP_K_LOG2
    pick = k.param()
    data = curve[["seq_len", "top_k", "accuracy", "recall"]].assign(
        length=lambda d: (d.seq_len // 1024).astype(str) + "K tokens",
        share=lambda d: d.top_k / d.seq_len)
    base = alt.Chart(data).encode(
        x=alt.X("top_k:Q", title="keys kept per query (k, log scale)",
                scale=alt.Scale(type="log", base=2)),
        y=alt.Y("accuracy:Q", title="retrieval accuracy", scale=alt.Scale(domain=[0, 1])),
        color=alt.Color("length:N", title="sequence", sort=["1K tokens", "4K tokens",
                                                            "16K tokens"],
                        legend=alt.Legend(orient="top")),
    )
    at_k = alt.datum.top_k == alt.expr.pow(2, pick)
    lines = base.mark_line(point=True).encode(
        tooltip=["length", "top_k", alt.Tooltip("accuracy:Q", format=".3f"),
                 alt.Tooltip("recall:Q", format=".3f"), alt.Tooltip("share:Q", format=".2%")])
    rule = (alt.Chart(data).mark_rule(strokeDash=[4, 3], color="#777")
            .encode(x="top_k:Q").transform_filter(at_k))
    labels = (base.mark_text(align="left", dx=6, fontSize=12)
              .encode(text="label:N")
              .transform_filter(at_k)
              .transform_calculate(label="format(datum.accuracy, '.0%') + ' of '"
                                         " + datum.length"))
    chart = (alt.layer(lines, rule, labels, title=alt.Title(
        "Key-value retrieval with top-k sparse attention",
        subtitle="Needles in the first quarter; untrained 8-dim indexer; 256 queries per length"))
        .add_params(pick).properties(height=300))
    full = curve[curve.accuracy >= 1.0].groupby("seq_len")["top_k"].min()
    return finish(chart, description=(
        "Accuracy rises with k at every length and reaches 100% once k covers the needle: "
        + ", ".join(f"k = {int(v):,} at {L // 1024}K tokens" for L, v in full.items())
        + ". Longer sequences need a larger k with the same noisy indexer."))


def retrieval_at(top_k_log2: int) -> pd.DataFrame:
    """JupyterLab: re-run the retrieval task at k = 2^top_k_log2 (64 queries per length)."""
    k = 2 ** int(top_k_log2)
    curve = attention.retrieval_curve(top_ks=[k], batch=16)
    # retrieval_curve adds each length's dense row: keep k's row, or the dense one if k >= L
    rows = curve[curve.top_k == curve.seq_len.clip(upper=k)]
    return rows.set_index("seq_len")[["top_k", "accuracy", "recall", "attention_pairs",
                                      "dense_pairs"]]


def sparse_work(work: pd.DataFrame) -> alt.Chart:
    """Query-key pairs of full causal attention against length: dense vs top-k.

    Args:
        work: rows of ``seq_len``, ``method`` and ``pairs`` (:func:`attention.attention_macs`).
    """
    chart = (
        alt.Chart(work[["seq_len", "method", "pairs"]], title=alt.Title(
            "Attention work: query-key pairs scored over a whole sequence",
            subtitle="Counted exactly; log scales"))
        .mark_line(point=True)
        .encode(
            x=alt.X("seq_len:Q", title="sequence length (tokens)",
                    scale=alt.Scale(type="log", base=2), axis=_CONTEXT_AXIS),
            y=alt.Y("pairs:Q", title="query-key pairs (log scale)", scale=alt.Scale(type="log")),
            color=alt.Color("method:N", title=None, legend=alt.Legend(orient="top")),
            tooltip=["method", "seq_len", alt.Tooltip("pairs:Q", format=",")],
        )
        .properties(height=280)
    )
    return finish(chart, description=(
        "On log scales the dense line climbs twice as steeply as the top-k line: doubling "
        "the length quadruples dense attention's pairs (L squared) but only about doubles "
        "top-k's (L times k, once L is well above k)."))
