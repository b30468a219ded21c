"""Figures of "Predicting two tokens at once" (multi-token prediction, speculative decoding).

Each function takes what :mod:`explainer.mtp` computes or loads from ``data/`` and returns an
Altair chart with its description (:func:`explainer.figures.finish`), except
:func:`passage_html`, which marks the accepted drafted characters of a generated passage
in HTML (colour *and* underline, with a legend). :data:`PROMPT` is the reader's prompt for
the live generator (:func:`passage_live`).
"""

from __future__ import annotations

import html

import altair as alt
import pandas as pd

from explainer.controls import Text
from explainer.figures._base import check_frames, finish
from explainer.tables import table

__all__ = [
    "PROMPT",
    "acceptance_by_class",
    "against_v3",
    "held_out_curves",
    "module_diagram",
    "passage_html",
    "passage_live",
    "size_trend",
    "size_trend_table",
    "step_costs",
]

PROMPT = Text("prompt", "prompt", default="The ship sailed on, and the",
              placeholder="type a prompt and press Enter")

_RUN_LABELS = {"plain": "next token only", "mtp": "with MTP, depth 1"}


# ------------------------------------------------------------------ the module


def module_diagram(n_layer: int = 4) -> alt.LayerChart:
    """Boxes and arrows: the main model and one MTP module (V3 §2.2, Figure 3), side by side.

    Args:
        n_layer: transformer blocks of the main model (written in its box), an int in
            [1, 1000].

    Raises:
        ValueError: if ``n_layer`` is not such an int.
    """
    if isinstance(n_layer, bool) or not isinstance(n_layer, int) or not 1 <= n_layer <= 1000:
        raise ValueError(f"n_layer must be an int in [1, 1000], got {n_layer!r}")
    boxes = pd.DataFrame([  # centre x, centre y, label, part
        (1.0, 0.0, "t1 ... ti", "main"),
        (1.0, 1.0, "embedding", "shared"),
        (1.0, 2.3, f"{n_layer} blocks", "main"),
        (1.0, 4.0, "output head", "shared"),
        (1.0, 4.8, "next: t(i+1)", "main"),
        (3.3, 0.0, "t(i+1)", "mtp"),
        (3.3, 1.0, "embedding", "shared"),
        (2.2, 2.0, "RMSNorm(h)", "mtp"),
        (3.3, 2.0, "RMSNorm(E)", "mtp"),
        (2.75, 2.75, "concat, M_k", "mtp"),
        (2.75, 3.4, "block TRM_k", "mtp"),
        (2.75, 4.05, "output head", "shared"),
        (2.75, 4.8, "t(i+2)", "mtp"),
    ], columns=["cx", "cy", "label", "part"])
    boxes = boxes.assign(x=boxes.cx - 0.47, x2=boxes.cx + 0.47, y=boxes.cy - 0.22,
                         y2=boxes.cy + 0.22)
    arrows = pd.DataFrame([  # from (x, y) to (x2, y2): box edge to box edge
        (1.0, 0.22, 1.0, 0.78), (1.0, 1.22, 1.0, 2.08), (1.0, 2.52, 1.0, 3.78),
        (1.0, 4.22, 1.0, 4.58), (1.47, 2.3, 1.73, 2.05), (3.3, 0.22, 3.3, 0.78),
        (3.3, 1.22, 3.3, 1.78), (2.3, 2.22, 2.6, 2.53), (3.2, 2.22, 2.9, 2.53),
        (2.75, 2.97, 2.75, 3.18), (2.75, 3.62, 2.75, 3.83), (2.75, 4.27, 2.75, 4.58),
    ], columns=["x", "y", "x2", "y2"])
    xs, ys = alt.Scale(domain=[0.4, 3.85]), alt.Scale(domain=[5.15, -0.35])
    x, y = alt.X("x:Q", axis=None, scale=xs), alt.Y("y:Q", axis=None, scale=ys)
    colour = alt.Color("part:N", title="part", scale=alt.Scale(
        domain=["main", "mtp", "shared"], range=["#4c78a8", "#f58518", "#54a24b"]),
        legend=alt.Legend(orient="bottom", columns=1, labelLimit=300,
                          labelExpr="datum.label == 'mtp' ? 'MTP module (depth k)'"
                          " : datum.label == 'main' ? 'main model' : 'shared by both'"))
    chart = alt.layer(
        alt.Chart(arrows).mark_rule(strokeWidth=1.5, color="gray").encode(
            x=x, y=y, x2="x2:Q", y2="y2:Q"),
        alt.Chart(arrows).mark_point(shape="triangle-down", size=30, filled=True,
                                     color="gray").encode(x=alt.X("x2:Q", axis=None, scale=xs),
                                                          y=alt.Y("y2:Q", axis=None, scale=ys)),
        alt.Chart(boxes).mark_rect(opacity=0.3, cornerRadius=4).encode(
            x=x, x2="x2:Q", y=y, y2="y2:Q", color=colour),
        alt.Chart(boxes).mark_text(fontSize=10).encode(
            x=alt.X("cx:Q", axis=None, scale=xs), y=alt.Y("cy:Q", axis=None, scale=ys),
            text="label:N"),
    ).properties(height=400, title="One MTP module beside the main model")
    return finish(chart, description=(
        "Diagram: on the left the main model turns tokens into a hidden state h(i) and, through "
        "the output head, predicts the next token. On the right the MTP module normalises h(i) "
        "and the embedding of the next token, concatenates and projects them (M_k), runs one "
        "transformer block and, through the same output head, predicts the token after next."))


# ------------------------------------------------------------------ training


def held_out_curves(log: pd.DataFrame) -> alt.Chart:
    """Held-out next-token loss of the main model during training, one line per run.

    The final losses are not in the legend (a phone would cut them off); the chapter
    states them in the sentence above the chart, and the tooltips give every point.

    Args:
        log: ``mtp_training_log.csv`` (rows with a held-out evaluation are plotted).
    """
    if not isinstance(log, pd.DataFrame) or not {"run", "step", "held_out_main"} <= set(log):
        raise ValueError("log must be the MTP training log, with columns run, step and "
                         "held_out_main")
    unknown = set(log.run) - set(_RUN_LABELS)
    if unknown:
        raise ValueError(f"log has runs {sorted(unknown)}; run must be one of "
                         f"{sorted(_RUN_LABELS)}")
    pts = log.dropna(subset=["held_out_main"])[["run", "step", "held_out_main"]].copy()
    pts["run"] = pts.run.map(_RUN_LABELS)
    chart = alt.Chart(pts, title=alt.Title(["Main model's held-out loss", "(nats per character)"])
                      ).mark_line(point=True).encode(
        x=alt.X("step:Q", title="training step", axis=alt.Axis(tickCount=4)),
        y=alt.Y("held_out_main:Q", title="held-out loss", scale=alt.Scale(zero=False)),
        color=alt.Color("run:N", title=None, sort=list(_RUN_LABELS.values()),
                        legend=alt.Legend(orient="bottom", columns=1, labelLimit=300)),
        strokeDash=alt.StrokeDash("run:N", sort=list(_RUN_LABELS.values()), legend=None),
        tooltip=[alt.Tooltip("run:N", title="run"), alt.Tooltip("step:Q", title="step"),
                 alt.Tooltip("held_out_main:Q", title="held-out loss", format=".3f")],
    ).properties(height=260)
    return finish(chart, description=(
        "Held-out next-character loss of the main model against training step, for the model "
        "trained on the next token only and the one trained with the extra MTP loss."))


# ------------------------------------------------------------------ decoding


def acceptance_by_class(acc: pd.DataFrame, temperature: float = 0.0) -> alt.Chart:
    """Acceptance rate of depth-1 drafts by the class of the drafted character.

    Args:
        acc: ``mtp_acceptance.csv``.
        temperature: the decoding whose drafts are drawn (0: greedy).
    """
    d = acc[(acc.model == "mtp") & (acc.draft_depth == 1)
            & (acc.temperature == temperature)].copy()
    if d.empty:
        raise ValueError(f"temperature must be one of {sorted(set(acc.temperature))} (the "
                         f"benchmark's), got {temperature!r}")
    d["label"] = d.apply(lambda r: f"{r.char_class} ({r.drafted} drafted)", axis=1)
    chart = alt.Chart(d, title=f"Where the draft is accepted ({_setting(temperature)})"
                      ).mark_bar().encode(
        y=alt.Y("label:N", title=None, sort="-x"),
        x=alt.X("acceptance_rate:Q", title="acceptance rate", axis=alt.Axis(format="%"),
                scale=alt.Scale(domain=[0, 1])),
        tooltip=["char_class", "drafted", "accepted",
                 alt.Tooltip("acceptance_rate:Q", format=".1%")],
    ).properties(height=alt.Step(28))
    return finish(chart, description=(
        "Bars: the share of drafted characters the main model accepted, by the class of the "
        "drafted character (letter, space, punctuation, digit, newline), with the number drafted."))


_SETTINGS = {0.0: "greedy"}


def _setting(t: float) -> str:
    return _SETTINGS.get(float(t), f"sampled, T = {t:g}")


def _check_bench(bench: pd.DataFrame, need: set[str]) -> None:
    if not isinstance(bench, pd.DataFrame) or not need <= set(bench.columns):
        raise ValueError(f"bench must be the MTP benchmark, with columns {sorted(need)}")


def against_v3(bench: pd.DataFrame, v3: pd.DataFrame) -> alt.VConcatChart:
    """Acceptance rate, characters per pass and speed-up (with its spread), beside V3's figures.

    Args:
        bench: ``mtp_benchmark.csv`` (one row per temperature).
        v3: ``mtp_v3.csv`` indexed by quantity.

    Raises:
        ValueError: if ``bench`` lacks the benchmark's columns or ``v3`` V3's figures.
    """
    _check_bench(bench, {"temperature", "acceptance_rate", "speedup", "speedup_low",
                         "speedup_high", "tokens_per_pass"})
    if (not isinstance(v3, pd.DataFrame)
            or not {"acceptance_rate", "speedup_tps"} <= set(v3.index) or "low" not in v3):
        raise ValueError("v3 must be mtp_v3.csv indexed by quantity, with acceptance_rate "
                         "and speedup_tps")
    d = bench.copy()
    d["setting"] = [_setting(t) for t in d.temperature]
    panels_spec = [  # measure, column, axis title, axis format, reference lines
        ("acceptance rate", "acceptance_rate", "drafts accepted", "%",
         [(v3.loc["acceptance_rate", "low"], "V3: 85-90%")]),
        ("characters per pass", "tokens_per_pass", "characters per main-model pass", "~g",
         [(2.0, "every draft accepted")]),
        ("speed-up (tokens/s)", "speedup", "speed-up (× plain decoding)", "~g",
         [(v3.loc["speedup_tps", "low"], "V3: 1.8x"), (1.0, "no gain")]),
    ]
    panels = []
    for measure, col, title, fmt, refs in panels_spec:
        cols = ["setting", col] + (["speedup_low", "speedup_high"] if col == "speedup" else [])
        data = d[cols].rename(columns={col: "value"})
        bars = alt.Chart(data).mark_bar(color="#3182bd").encode(
            y=alt.Y("setting:N", title=None, sort=None, axis=alt.Axis(labelLimit=130)),
            x=alt.X("value:Q", title=title, scale=alt.Scale(zero=True),
                    axis=alt.Axis(format=fmt, tickCount=4)),
            tooltip=[alt.Tooltip("setting:N", title="setting"),
                     alt.Tooltip("value:Q", title=measure, format=".3f")],
        )
        layer = bars
        if col == "speedup":  # the spread over the timed rounds
            layer = layer + alt.Chart(data).mark_rule(strokeWidth=2).encode(
                y=alt.Y("setting:N", sort=None), x="speedup_low:Q", x2="speedup_high:Q",
                tooltip=[alt.Tooltip("speedup_low:Q", title="slowest round", format=".2f"),
                         alt.Tooltip("speedup_high:Q", title="fastest round", format=".2f")])
        if refs:
            r = pd.DataFrame(refs, columns=["ref", "what"])
            layer = layer + alt.Chart(r).mark_rule(strokeDash=[4, 3], color="gray").encode(
                x="ref:Q", tooltip=[alt.Tooltip("what:N", title="reference")])
        panels.append(layer.properties(width=200, height=alt.Step(26), title=measure))
    chart = alt.vconcat(*panels)
    return finish(chart, width=None, description=(
        "Three bar panels, greedy and sampled decoding: the acceptance rate of the drafts, the "
        "characters written per pass of the main model, and the measured speed-up in tokens "
        "per second with a line for its spread over the timed rounds; dashed lines mark V3's "
        "85% acceptance and 1.8x speed-up, two characters per pass and the break-even of 1."))


def step_costs(bench: pd.DataFrame) -> alt.Chart:
    """Milliseconds of a plain step against a speculative step (verify pass + draft), greedy.

    Args:
        bench: ``mtp_benchmark.csv``; the greedy row's ``main_1_ms``, ``main_verify_ms`` and
            ``draft_ms`` (medians) are drawn.
    """
    _check_bench(bench, {"temperature", "main_1_ms", "main_verify_ms", "draft_ms"})
    g = bench[bench.temperature == 0].iloc[0]
    rows = pd.DataFrame([
        ("plain: one step", "main pass, 1 char", g.main_1_ms, 0),
        ("speculative: one step", "main pass, 2 chars", g.main_verify_ms, 0),
        ("speculative: one step", "MTP draft", g.draft_ms, 1),
    ], columns=["step", "piece", "ms", "order"])
    chart = alt.Chart(rows, title=alt.Title(["What a step costs", "(milliseconds, median)"])
                      ).mark_bar().encode(
        y=alt.Y("step:N", title=None, sort=None, axis=alt.Axis(labelLimit=170)),
        x=alt.X("sum(ms):Q", title="milliseconds", axis=alt.Axis(tickCount=4)),
        color=alt.Color("piece:N", title=None, sort=list(rows.piece),
                        scale=alt.Scale(range=["#9ecae1", "#3182bd", "#e6550d"]),
                        legend=alt.Legend(orient="bottom", columns=1, labelLimit=200)),
        order=alt.Order("order:Q"),
        tooltip=[alt.Tooltip("piece:N", title="piece"), alt.Tooltip("ms:Q", format=".3f")],
    ).properties(height=alt.Step(34))
    return finish(chart, description=(
        "Two stacked bars in milliseconds: a plain decoding step (the main model on one "
        "character) and a speculative step (the main model checking two characters, plus the "
        "MTP module drafting the next one)."))


def _trend_frame(trend: pd.DataFrame) -> pd.DataFrame:
    need = {"size", "blocks", "width", "main_params", "run", "seed", "held_out_main_loss"}
    if not isinstance(trend, pd.DataFrame) or not need <= set(trend.columns):
        raise ValueError(f"trend must be mtp_size_trend.csv, with columns {sorted(need)}")
    d = trend.copy()
    d["objective"] = d.run.map(_RUN_LABELS)
    return d


def size_trend(trend: pd.DataFrame) -> alt.LayerChart:
    """Held-out loss against main-model size, plain and MTP, one point per random seed.

    Args:
        trend: ``mtp_size_trend.csv``.
    """
    d = _trend_frame(trend)
    order = list(_RUN_LABELS.values())
    base = alt.Chart(d).encode(
        x=alt.X("main_params:Q", title="main-model parameters (log scale)",
                scale=alt.Scale(type="log"), axis=alt.Axis(tickCount=4, format="~s")),
        y=alt.Y("held_out_main_loss:Q", title="held-out loss", scale=alt.Scale(zero=False)),
        color=alt.Color("objective:N", title=None, sort=order,
                        legend=alt.Legend(orient="bottom", columns=1, labelLimit=300)),
    )
    points = base.mark_point(filled=True, size=60).encode(
        shape=alt.Shape("objective:N", sort=order, legend=None),
        tooltip=[alt.Tooltip("objective:N"), alt.Tooltip("main_params:Q", format=","),
                 alt.Tooltip("seed:Q", title="random seed"),
                 alt.Tooltip("held_out_main_loss:Q", title="held-out loss", format=".3f")])
    lines = base.mark_line().encode(y="mean(held_out_main_loss):Q",
                                    strokeDash=alt.StrokeDash("objective:N", sort=order,
                                                              legend=None))
    chart = (lines + points).properties(
        height=260, title=alt.Title(["Held-out loss by model size", "(nats per character)"]))
    return finish(chart, description=(
        "Held-out next-character loss of the main model against its number of parameters "
        "(log scale), for models trained on the next token only and with the MTP loss; one "
        "point per random seed, lines through the means."))


def size_trend_table(trend: pd.DataFrame):
    """The size trend as a table: one row per size and objective, the two seeds and their mean."""
    d = _trend_frame(trend)
    rows = []
    for (params, run), g in d.groupby(["main_params", "run"], sort=True):
        losses = g.sort_values("seed").held_out_main_loss.tolist()
        rows.append({"main model": f"{g.blocks.iloc[0]} blocks, width {g.width.iloc[0]}",
                     "parameters": params, "objective": _RUN_LABELS[run],
                     "seed 0 (nats/char)": losses[0],
                     "seed 1 (nats/char)": losses[1] if len(losses) > 1 else float("nan"),
                     "mean (nats/char)": sum(losses) / len(losses)})
    df = pd.DataFrame(rows).set_index("main model")
    return table(df, formats={"parameters": "count", "seed 0 (nats/char)": "dec3",
                              "seed 1 (nats/char)": "dec3", "mean (nats/char)": "dec3"},
                 caption="Held-out loss of the main model after the same training, by size, "
                         "objective and random seed (lower is better); a dash: that seed "
                         "was not run.", index="main model")


_STYLE = ("<style>.mtp-passage{font-family:monospace;white-space:pre-wrap;line-height:1.9;"
          "padding:.5em;border:1px solid rgba(127,127,127,.4);border-radius:4px}"
          ".mtp-accepted{background:rgba(230,145,0,.35);text-decoration:underline;"
          "text-decoration-thickness:2px;text-underline-offset:3px}"
          ".mtp-prompt{opacity:.7;font-style:italic}</style>")


def passage_html(context: str, text: str, marks: list[bool], stats: dict | None = None) -> str:
    """HTML of a generated passage; accepted drafted characters shaded and underlined.

    Args:
        context: the prompt (shown in italics).
        text: the written characters.
        marks: per character of ``text``: ``True`` if it was an accepted draft.
        stats: optional :meth:`explainer.mtp.MTPLM.generate` stats for a summary line.

    Returns:
        An ``IPython.display.HTML`` object (its ``.data`` is the markup).
    """
    from IPython.display import HTML

    if len(marks) != len(text):
        raise ValueError(f"marks must have one entry per character ({len(text)}), "
                         f"got {len(marks)}")
    spans = "".join(f'<span class="mtp-accepted">{html.escape(c)}</span>' if m
                    else html.escape(c) for c, m in zip(text, marks))
    n = sum(bool(m) for m in marks)
    summary = (f"{n} of {len(text)} characters were drafted by the MTP module and accepted")
    if stats:
        summary += (f"; {stats['forward_passes']} main-model passes wrote {len(text)} characters "
                    f"({stats['tokens_per_pass']:.2f} per pass)")
    legend = ('<p><span class="mtp-accepted">underlined and shaded</span>: drafted by the MTP '
              "module and accepted by the main model; plain: written by the main model itself; "
              "italic: the prompt.</p>")
    return HTML(f'{_STYLE}<div class="mtp-passage" role="figure" aria-label="Generated passage: '
                f'{html.escape(summary)}"><span class="mtp-prompt">{html.escape(context)}</span>'
                f"{spans}</div>{legend}<p>{html.escape(summary)}.</p>")


def passage_live(prompt: str):
    """JupyterLab: the highlighted passage for the reader's prompt, or the error message."""
    from IPython.display import Markdown

    from explainer import mtp

    try:
        context, text, marks, stats = mtp.passage(prompt)
    except ValueError as err:
        return Markdown(f"*{err}*")
    return passage_html(context, text, marks, stats)


check_frames(globals())  # refuse a missing or malformed frame by name (issue #25)
