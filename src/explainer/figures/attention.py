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
from explainer.figures._base import check_frames, finish
from explainer.tables import table

__all__ = ["LABELS", "cache_at_shape", "cache_table", "cache_vs_context", "decode_time",
           "mla_cache_path", "retrieval_at", "retrieval_table", "shape_table", "sparse_accuracy",
           "sparse_work"]

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
                            legend=alt.Legend(orient="top", columns=2, labelLimit=200)),
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


def cache_at_shape() -> alt.LayerChart:
    """Cache elements per token per layer at the shape the sliders pick, computed in the browser.

    The expressions are :func:`explainer.attention.cache_elements_expr` (tested against the
    library's formula and the measured caches). Bars on a linear scale, each with its number;
    the scale leaves room for the longest bar's label.
    """
    exprs = attention.cache_elements_expr()
    kinds = list(exprs)
    calc = f"({exprs[kinds[-1]]})"
    for k in reversed(kinds[:-1]):  # datum.kind == 'mha' ? (...) : datum.kind == 'gqa' ? ...
        calc = f"datum.kind == '{k}' ? ({exprs[k]}) : {calc}"
    longest = f"max({exprs['mha']}, {exprs['mla_absorb']})"  # MHA >= GQA, MQA; absorb may win
    data = pd.DataFrame({"kind": kinds, "design": [LABELS[k] for k in kinds]})
    base = (
        alt.Chart(data, title=alt.Title(
            ["Numbers cached per token", "per layer, at your shape"],
            subtitle=["Move the controls: V2 Table 1's formulas,", "evaluated in your browser"]))
        .transform_calculate(elements=calc)
        .encode(
            y=alt.Y("design:N", sort=_ORDER, title=None),
            x=alt.X("elements:Q", title="numbers per token per layer",
                    scale=alt.Scale(domainMin=0, domainMax=alt.ExprRef(f"1.3 * {longest}"),
                                    nice=False),
                    axis=alt.Axis(tickCount=4, format=",.0f")),
            tooltip=["design", alt.Tooltip("elements:Q", format=",")],
        )
    )
    bars = base.mark_bar().encode(color=alt.Color("design:N", sort=_ORDER, legend=None))
    labels = base.mark_text(align="left", dx=4, fontSize=12).encode(
        text=alt.Text("elements:Q", format=","))
    chart = (alt.layer(bars, labels)
             .add_params(*(c.param() for c in attention.SHAPE_CONTROLS))
             .properties(height=200))
    return finish(chart, description=(
        "Horizontal bars on a linear scale, each labelled with its number: how many numbers "
        "each design caches per token per layer at the shape the controls set. MHA and "
        "MLA-naive are equal; MLA-absorb depends only on the latent and rotary widths, not "
        "on the number of heads."))


def shape_table(**values: Any) -> Any:
    """JupyterLab: run every design at the reader's shape (:func:`attention.shape_report`)."""
    from IPython.display import Markdown

    try:
        r = attention.shape_report(**values)
    except ValueError as err:
        return Markdown(f"**That shape is refused:** {err}")
    df = pd.DataFrame({
        "design": [LABELS[k] for k in r.index],
        "numbers cached per token, measured": r["measured elements per token"].values,
        "V2 Table 1's formula": r["Table 1 formula"].values,
        "relative to MHA": r["vs MHA"].values,
        "largest gap, naive vs absorbed MLA": r["max |naive - absorb|"].values,
    })
    return table(df, index=False, formats={"relative to MHA": "pct",
                                           "largest gap, naive vs absorbed MLA": "auto"},
                 caption="Each design built at your shape (in a 64-wide toy model), six tokens "
                         "decoded; — : not an MLA design.")


def cache_table(elements: pd.Series) -> Any:
    """Numbers each design caches per token and layer, with the ratio to MHA.

    Args:
        elements: design name -> elements per token per layer (measured).
    """
    df = pd.DataFrame({"design": elements.index,
                       "numbers cached per token per layer": elements.values,
                       "relative to MHA": elements.values / elements["MHA"]})
    return table(df, index=False, formats={"relative to MHA": "pct"},
                 caption="Measured from the cache tensors of each design built at DeepSeek-V3's "
                         "attention shape (one layer; 2 bytes each in BF16).")


def retrieval_table(curve: pd.DataFrame) -> Any:
    """The smallest k at which top-k retrieval is always right, per sequence length.

    Args:
        curve: ``data/attention_sparse_retrieval.csv`` (:func:`attention.retrieval_curve`).
    """
    exact = curve[curve.accuracy == 1.0].groupby("seq_len")["top_k"].min()
    df = pd.DataFrame({"sequence length (tokens)": exact.index,
                       "smallest k with 100% accuracy": exact.values,
                       "share of the sequence kept": exact.values / exact.index})
    return table(df, index=False, formats={"share of the sequence kept": "pct"},
                 caption="k: earlier tokens each query keeps; 256 queries per length.")


def mla_cache_path(config: attention.AttentionConfig) -> alt.LayerChart:
    """A diagram of what MLA caches per token and its two decoding paths, at ``config``'s shape.

    Top: the numbers one token leaves in one layer's cache, drawn to scale, for plain
    multi-head attention (every head's key and value) and for MLA (the latent ``c_KV``,
    ``kv_lora_rank`` wide, plus the shared rotary key, ``qk_rope_head_dim`` wide).
    Below: MLA's two ways to decode, as in DeepSeek-V3's ``inference/model.py``
    (``attn_impl``): naive rebuilds and caches per-head keys and values; absorbed folds
    W^UK into the query and W^UV into the output and reads the latent directly.

    Args:
        config: the attention shape (e.g. ``AttentionConfig.from_model("deepseek_v3_671b")``).
    """
    c = config
    mha = int(attention.formula_bytes_per_token("mha", c, 1))
    mla = int(attention.formula_bytes_per_token("mla_absorb", c, 1))
    keys, values = c.n_heads * c.qk_head_dim, c.n_heads * c.v_head_dim
    W, H, x0 = 340, 560, 42  # drawing units are pixels; bars start at x0
    LINE = 13  # pixels between lines of a label
    span = W - x0 - 2

    def scaled(n: int) -> float:
        return span * n / mha

    boxes, texts, arrows = [], [], []

    def box(x, x2, y, y2, kind, lines, size=11, weight="normal"):
        boxes.append({"x": x, "x2": x2, "y": y, "y2": y2, "kind": kind})
        n = len(lines) if isinstance(lines, list) else 1  # centre the block of lines
        texts.append({"x": (x + x2) / 2, "y": (y + y2) / 2 - (n - 1) * LINE / 2, "text": lines,
                      "align": "center", "size": size, "weight": weight})

    def text(x, y, lines, align="left", size=11, weight="normal"):
        texts.append({"x": x, "y": y, "text": lines, "align": align, "size": size,
                      "weight": weight})

    def arrow(x, y, x2, y2):
        arrows.append({"x": x, "y": y, "x2": x2, "y2": y2})

    # to scale: what one token leaves in one layer's cache
    text(0, 8, "Numbers cached per token, per layer", weight="bold")
    text(0, 34, "MHA", weight="bold")
    boxes += [{"x": x0, "x2": x0 + scaled(keys), "y": 26, "y2": 42, "kind": "mha keys"},
              {"x": x0 + scaled(keys), "x2": x0 + span, "y": 26, "y2": 42, "kind": "mha values"}]
    text(x0, 54, f"keys {c.n_heads} × {c.qk_head_dim} + values {c.n_heads} × {c.v_head_dim} "
                 f"= {mha:,}", size=10.5)
    text(0, 80, "MLA", weight="bold")
    boxes += [{"x": x0, "x2": x0 + scaled(c.kv_lora_rank), "y": 72, "y2": 88, "kind": "cache"},
              {"x": x0 + scaled(c.kv_lora_rank), "x2": x0 + scaled(mla), "y": 72, "y2": 88,
               "kind": "rotary"}]
    text(x0 + scaled(mla) + 6, 80, f"latent {c.kv_lora_rank} + rotary key "
                                   f"{c.qk_rope_head_dim} = {mla:,} ({mha / mla:.0f}× less)",
         size=10.5)
    # the paths
    box(70, 270, 112, 144, "input", ["the new token's hidden vector", f"{c.dim:,} numbers"])
    arrow(170, 144, 170, 172)
    text(178, 158, "compress", size=10)
    boxes.append({"x": 14, "x2": 326, "y": 174, "y2": 238, "kind": "outline"})
    text(170, 186, f"MLA's cache: {mla:,} numbers per token", align="center", weight="bold")
    box(24, 240, 198, 230, "cache", [f"latent c_KV: {c.kv_lora_rank}"])
    box(246, 316, 198, 230, "rotary", ["rotary", f"key: {c.qk_rope_head_dim}"], size=10)
    arrow(110, 238, 85, 264)
    arrow(230, 238, 255, 264)
    text(85, 274, "naive path", align="center", weight="bold")
    text(255, 274, "absorbed path", align="center", weight="bold")
    text(255, 288, "(V3's default)", align="center", size=10)
    col = {"naive": (5, 165), "absorb": (175, 335)}
    steps = {
        "naive": [["W^UK and W^UV rebuild", "each head's key and", "value from the latent"],
                  ["and cache them, as", f"large as MHA: {mha:,}", "per token"],
                  ["attention head by head,", "as in multi-head", "attention"]],
        "absorb": [["W^UK is folded into the", "query: each head's query",
                    f"becomes {c.kv_lora_rank} wide"],
                   ["scores against the cached", "latents and rotary keys", "directly"],
                   ["mix the cached latents;", "W^UV and the output", "projection come after"]],
    }
    for path, (xa, xb) in col.items():
        for i, lines in enumerate(steps[path]):
            y = 300 + i * 68
            box(xa, xb, y, y + 50, path, lines, size=10.5)
            if i < 2:
                arrow((xa + xb) / 2, y + 50, (xa + xb) / 2, y + 66)
    arrow(85, 486, 150, 512)
    arrow(255, 486, 190, 512)
    box(70, 270, 514, 546, "input", ["the same output,", "to rounding error"])

    x_scale = alt.Scale(domain=[0, W], nice=False, zero=False)
    y_scale = alt.Scale(domain=[0, H], nice=False, zero=False, reverse=True)
    kinds = ["input", "cache", "rotary", "naive", "absorb", "mha keys", "mha values", "outline"]
    fills = ["#999999", "#4c78a8", "#72b7b2", "#f58518", "#54a24b", "#e4804f", "#f2b880",
             "#ffffff"]
    shapes = alt.Chart(pd.DataFrame(boxes)).mark_rect(strokeWidth=1).encode(
        x=alt.X("x:Q", scale=x_scale, axis=None), x2="x2:Q",
        y=alt.Y("y:Q", scale=y_scale, axis=None), y2="y2:Q",
        fill=alt.Fill("kind:N", scale=alt.Scale(domain=kinds, range=fills), legend=None),
        stroke=alt.Stroke("kind:N", scale=alt.Scale(domain=kinds, range=fills), legend=None),
        fillOpacity=alt.condition("datum.kind == 'outline'", alt.value(0), alt.value(0.35)),
        strokeDash=alt.condition("datum.kind == 'outline'", alt.value([4, 3]), alt.value([1, 0])),
    )
    outline = alt.Chart(pd.DataFrame([b for b in boxes if b["kind"] == "outline"])).mark_rect(
        fillOpacity=0, strokeDash=[4, 3], strokeWidth=1.2, stroke="#4c78a8").encode(
        x=alt.X("x:Q", scale=x_scale, axis=None), x2="x2:Q",
        y=alt.Y("y:Q", scale=y_scale, axis=None), y2="y2:Q")
    shapes = shapes.transform_filter("datum.kind != 'outline'")
    lines = alt.Chart(pd.DataFrame(arrows)).mark_rule(strokeWidth=1.3).encode(
        x=alt.X("x:Q", scale=x_scale, axis=None), x2="x2:Q",
        y=alt.Y("y:Q", scale=y_scale, axis=None), y2="y2:Q")
    heads = alt.Chart(pd.DataFrame(arrows)).mark_text(text="▼", fontSize=9, baseline="bottom",
                                                       dy=4).encode(
        x=alt.X("x2:Q", scale=x_scale, axis=None), y=alt.Y("y2:Q", scale=y_scale, axis=None),
        angle=alt.Angle("angle:Q"),
    ).transform_calculate(
        angle="-atan2(datum.x2 - datum.x, datum.y2 - datum.y) * 180 / PI")
    words = []
    for (align, size, weight), group in pd.DataFrame(texts).groupby(["align", "size", "weight"]):
        words.append(alt.Chart(group).mark_text(align=align, baseline="middle", fontSize=size,
                                                fontWeight=weight, lineHeight=LINE).encode(
            x=alt.X("x:Q", scale=x_scale, axis=None), y=alt.Y("y:Q", scale=y_scale, axis=None),
            text="text"))
    chart = alt.layer(shapes, outline, lines, heads, *words, title=alt.Title(
        ["What MLA keeps per token,", "and its two ways to decode"],
        subtitle=[f"DeepSeek-V3's shapes ({c.n_heads} heads), one layer"])
    ).properties(height=H).configure_view(stroke=None)
    return finish(chart, width=W, description=(
        f"Diagram. Drawn to scale at the top: per token and layer, plain multi-head attention "
        f"caches a key ({c.qk_head_dim} numbers) and a value ({c.v_head_dim}) for each of "
        f"{c.n_heads} heads, {mha:,} numbers; MLA caches a compressed latent of "
        f"{c.kv_lora_rank} numbers plus one rotary key of {c.qk_rope_head_dim} shared by all "
        f"heads, {mla:,} numbers, {mha / mla:.0f} times less. Below, MLA's two ways to decode: "
        "the naive path rebuilds every head's key and value from the latent and caches them, "
        "as large as MHA's cache; the absorbed path folds the key up-projection into the "
        "query and the value up-projection into the output, so it scores and mixes the "
        "cached latents directly. Both give the same output."))


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


def retrieval_at(top_k_log2: int) -> Any:
    """Notebook: re-run the retrieval task at k = 2^top_k_log2 (64 queries per length).

    Returns:
        a reader's table, one row per sequence length (``.data`` holds the numbers).
    """
    k = 2 ** int(top_k_log2)
    curve = attention.retrieval_curve(top_ks=[k], batch=16)
    # retrieval_curve adds each length's dense row: keep k's row, or the dense one if k >= L
    rows = curve[curve.top_k == curve.seq_len.clip(upper=k)]
    df = pd.DataFrame({"sequence length (tokens)": rows["seq_len"].to_numpy(),
                       "k kept": rows["top_k"].to_numpy(),
                       "accuracy": rows["accuracy"].to_numpy(),
                       "indexer recall": rows["recall"].to_numpy(),
                       "query-key pairs scored": rows["attention_pairs"].to_numpy(),
                       "pairs, full attention": rows["dense_pairs"].to_numpy()})
    return table(df, index=False, formats={"accuracy": "pct", "indexer recall": "pct"},
                 caption=f"Rerun just now at k = {k:,} (64 queries per length; where k is at "
                         f"least the length, attention is full).")


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


check_frames(globals())  # refuse a missing or malformed frame by name (issue #25)
