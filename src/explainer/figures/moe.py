"""Figures of "Experts on call" (the MoE chapter): routing, balancing, dispatch across nodes.

Each function takes what :mod:`explainer.moe`, :mod:`explainer.moe_lm` and
:mod:`explainer.moe_dispatch` compute (or load from ``data/``) and returns an
Altair chart with its description (:func:`explainer.figures.finish`). The
page's controls are declared once here (presentational picks) or in the
library module they drive (``moe_dispatch.TOPK_GROUPS``); the ``*_live``
functions are what JupyterLab recomputes for the same controls.
"""

from __future__ import annotations

import json
import re
from typing import Any

import altair as alt
import pandas as pd

from explainer import moe, moe_dispatch
from explainer.controls import Button, Choice, Slider, Text
from explainer.figures._base import check_frames, finish
from explainer.tables import MISSING, human, table

__all__ = [
    "AT_STEP",
    "LOAD_LAYER",
    "LOAD_RUN",
    "RETRAIN",
    "RETRAIN_BALANCE",
    "RETRAIN_STEPS",
    "ROUTE_LAYER",
    "ROUTE_MODEL",
    "ROUTE_SENTENCE",
    "SENTENCE",
    "SIM_GAMMA",
    "SIM_K",
    "balance_views",
    "balance_views_table",
    "benchmark",
    "benchmark_table",
    "bias_settle_table",
    "bias_simulation",
    "bias_simulation_live",
    "expert_loads_at_step",
    "granularity",
    "granularity_table",
    "imbalance_curves",
    "load_heatmap",
    "nodes_per_token",
    "nodes_per_token_live",
    "params_table",
    "retrain_live",
    "retrain_note",
    "routing",
    "routing_live",
    "routing_routes",
    "runs_table",
    "sentence_load_table",
]

SENTENCE = "Each token visits only a few experts; most of the model rests."
_RUN_LABELS = [moe.RUN_LABELS[r] for r in moe.BALANCE_RUNS]

ROUTE_MODEL = Choice("which_model", "model", moe.BALANCE_RUNS, default="none",
                     labels=_RUN_LABELS)
ROUTE_LAYER = Choice("which_layer", "layer", (1, 2), default=2, radio=True)
ROUTE_SENTENCE = Text("sentence", "sentence", default=SENTENCE)
LOAD_RUN = Choice("load_run", "run", moe.BALANCE_RUNS, default="none", labels=_RUN_LABELS)
LOAD_LAYER = Choice("load_layer", "layer", (1, 2), default=2, radio=True)
AT_STEP = Slider("at_step", "training step", 25, 500, 25, default=500)  # the 25-step windows
SIM_GAMMA = Choice("sim_gamma", "gamma", moe.BIAS_SIM_GAMMAS, default=0.01, radio=True)
SIM_K = Choice("sim_k", "top_k", moe.BIAS_SIM_TOP_K, default=2, radio=True)
RETRAIN_BALANCE = Choice("balance", "balancing", moe.BALANCE_MODES, default="bias_seq_aux_loss")
RETRAIN_STEPS = Slider("steps", "training steps", 20, 300, 20, default=100)
RETRAIN = Button("retrain", "retrain the tiny LM")


# ------------------------------------------------------------------ routing made visible
def routing_routes(models: dict, sentence: str = SENTENCE) -> pd.DataFrame:
    """The chosen (character, expert) cells of ``sentence`` for each model and layer.

    Args:
        models: ``{run: model}`` (:func:`explainer.moe_lm.load_balance_models`).
        sentence: text made of characters the models know.
    """
    from explainer import moe_lm

    rows = []
    for name, model in models.items():
        t = moe_lm.routing_table(model, sentence)
        rows.append(t[t.chosen].assign(model=name))
    routes = pd.concat(rows)[["model", "layer", "position", "char", "expert", "weight", "rank"]]
    return routes.assign(weight=routes["weight"].round(3))


_WRAP = 16  # characters per row of the routing chart: each stays readable on a phone


def _lines(sentence: str, width: int = _WRAP) -> list[int]:
    """The row of each character when ``sentence`` is wrapped at spaces into ``width``-wide rows."""
    rows, row, used = [], 0, 0
    for word in re.findall(r"\S+\s*|\s+", sentence):
        if used and used + len(word) > width:
            row, used = row + 1, 0
        rows += [row] * len(word)
        used += len(word)
    return rows


def _routing_chart(routes: pd.DataFrame, sentence: str, n_experts: int,
                   title: list[str]) -> alt.FacetChart:
    """The routing heatmap, the sentence wrapped into rows of at most :data:`_WRAP` characters."""
    shown = [("␣" if c == " " else c) for c in sentence]
    rows = _lines(sentence)
    data = routes.assign(line=routes["position"].map(lambda p: rows[p]))
    hover = alt.selection_point(on="pointerover", fields=["position"], empty=False,
                                clear="pointerout")
    cells = (
        alt.Chart()
        .mark_rect(stroke="white")
        .encode(
            x=alt.X("position:O", title=None,
                    axis=alt.Axis(labelExpr=f"{json.dumps(shown)}[datum.value]", labelAngle=0,
                                  labelFontSize=13, labelPadding=2, ticks=False)),
            y=alt.Y("expert:O", title="expert",
                    scale=alt.Scale(domain=list(range(n_experts))),
                    axis=alt.Axis(labelFontSize=10, titleFontSize=11)),
            color=alt.Color("weight:Q", title="gating weight",
                            scale=alt.Scale(scheme="blues", domain=[0, 1]),
                            legend=alt.Legend(orient="bottom", gradientLength=160)),
            opacity=alt.condition(hover, alt.value(1.0), alt.value(0.85)),
            strokeWidth=alt.condition(hover, alt.value(2), alt.value(0.5)),
            tooltip=["char:N", "position:O", "layer:O", "expert:O", "rank:O", "weight:Q"],
        )
        .add_params(hover)
        .properties(width=alt.Step(18), height=alt.Step(10))
    )
    return (cells.facet(row=alt.Row("line:O", title=None, header=alt.Header(labels=False)),
                        data=data, spacing=8)
            .resolve_scale(x="independent")
            .properties(title=alt.Title(title, subtitle=[
                "Colour: gating weight of a chosen expert;", "blank: not chosen. Hover a cell."])))


def routing(routes: pd.DataFrame, sentence: str = SENTENCE, n_experts: int = 8) -> alt.FacetChart:
    """Which experts each character visits, for the model and layer picked under the chart.

    The sentence is wrapped into rows of at most 16 characters, so that every character
    keeps a readable column on a phone.

    Args:
        routes: :func:`routing_routes` for the three balancing runs' models.
        sentence: the sentence they route.
        n_experts: routed experts per layer (rows of each block).
    """
    chart = (_routing_chart(routes, sentence, n_experts,
                            ["Which experts each character", "of a sentence visits"])
             .add_params(ROUTE_MODEL.param(), ROUTE_LAYER.param())
             .transform_filter(f"datum.model == {ROUTE_MODEL.name} && "
                               f"datum.layer == {ROUTE_LAYER.name}"))
    return finish(chart, width=None, description=(
        f"Heatmap of the {len(sentence)} characters of a sentence, wrapped into "
        f"{max(_lines(sentence)) + 1} rows, against the {n_experts} routed experts of the model "
        "and layer picked below; a coloured cell means the router sent that character to that "
        "expert, darker for a larger gating weight."))


def routing_live(models: dict, sentence: str, which_model: str, which_layer: int):
    """JupyterLab: the routing chart for any sentence, or a message naming unknown characters."""
    from explainer import moe_lm

    model = models[which_model]
    sentence = sentence[: model.config.block_size]
    try:
        t = moe_lm.routing_table(model, sentence)
    except ValueError as err:
        return str(err)
    t = t[t.chosen & (t.layer == which_layer)].assign(model=which_model)
    title = [f"Layer {which_layer}", moe.RUN_LABELS[which_model]]
    return finish(_routing_chart(t, sentence, model.config.moe.n_routed_experts, title),
                  width=None, description=f"Routing of the typed sentence in layer {which_layer} of the "
                              f"model trained with {moe.RUN_LABELS[which_model]}.")


# ------------------------------------------------------------------ collapse and cures
def imbalance_curves(log: pd.DataFrame, runs: pd.DataFrame) -> alt.Chart:
    """Max / mean expert load over training for the three balancing runs.

    Args:
        log: :func:`explainer.moe.load_training_log`.
        runs: :func:`explainer.moe.load_runs` (for the held-out loss in the legend).
    """
    curves = log[log.run.isin(moe.BALANCE_RUNS)].assign(strategy=lambda d: d.run.map(
        lambda r: f"{moe.RUN_LABELS[r]} ({runs.loc[r, 'val_loss']:.3f})"))
    zoom = alt.selection_interval(bind="scales", encodings=["x"])
    chart = (
        alt.Chart(curves[["strategy", "step", "imbalance", "loss"]],
                  title=alt.Title(["Load imbalance during training", "(max load / mean load)"],
                                  subtitle=["Each batch, mean of the two MoE layers;",
                                            "5-step averages; drag or scroll to zoom"]))
        .mark_line()
        .encode(x=alt.X("step:Q", title="training step"),
                y=alt.Y("imbalance:Q", title="max load / mean load",
                        scale=alt.Scale(domain=[1, 4])),
                color=alt.Color("strategy:N", title="run (held-out loss)",
                                legend=alt.Legend(orient="bottom", columns=1, labelLimit=320)),
                tooltip=["strategy:N", "step:Q", alt.Tooltip("imbalance:Q", format=".2f"),
                         alt.Tooltip("loss:Q", format=".3f", title="training loss")])
        .add_params(zoom)
        .properties(height=280)
    )
    return finish(chart, description=(
        "Line chart of load imbalance (busiest expert's load over the mean, 1 is even) over "
        "500 training steps for three runs: no balancing, the auxiliary loss and bias "
        "balancing. All rise early; the unbalanced run stays far above the other two."))


def load_heatmap(loads: pd.DataFrame, n_experts: int = 8) -> alt.Chart:
    """Every expert's share of the token-slots over training, for the run and layer picked.

    Args:
        loads: :func:`explainer.moe.load_expert_load`.
        n_experts: routed experts per layer (for the even share in the subtitle).
    """
    data = loads.loc[loads.run.isin(moe.BALANCE_RUNS), ["run", "step", "layer", "expert",
                                                         "share"]]
    chart = (
        alt.Chart(data, title=alt.Title("Expert load over training",
                                        subtitle="Share of token-slots per 25-step window; an "
                                        f"even split is {1 / n_experts:.3f} per expert"))
        .mark_rect()
        .encode(x=alt.X("step:O", title="training step (end of window)"),
                y=alt.Y("expert:O", title="routed expert"),
                color=alt.Color("share:Q", title="share",
                                scale=alt.Scale(scheme="oranges", domain=[0, 0.5])),
                tooltip=["run:N", "layer:O", "step:O", "expert:O",
                         alt.Tooltip("share:Q", format=".3f")])
        .add_params(LOAD_RUN.param(), LOAD_LAYER.param())
        .transform_filter(f"datum.run == {LOAD_RUN.name} && datum.layer == {LOAD_LAYER.name}")
        .properties(height=200)
    )
    return finish(chart, description=(
        "Heatmap of each routed expert's share of the token-slots (rows) in every 25-step "
        "window of training (columns), for the run and layer picked below; dark rows are "
        "experts that took over, pale rows experts left idle."))


def expert_loads_at_step(loads: pd.DataFrame, n_experts: int = 8) -> alt.LayerChart:
    """Layer 2's expert loads at one training step, the three runs side by side (a slider).

    Args:
        loads: :func:`explainer.moe.load_expert_load`.
        n_experts: routed experts per layer (the even share, a grey line).
    """
    layer2 = loads[(loads.layer == 2) & loads.run.isin(moe.BALANCE_RUNS)].assign(
        strategy=lambda d: d.run.map(moe.RUN_LABELS))[["strategy", "step", "expert", "share"]]
    bars = (
        alt.Chart()
        .mark_bar()
        .encode(x=alt.X("expert:O", title="routed expert", axis=alt.Axis(labelAngle=0)),
                xOffset=alt.XOffset("strategy:N", sort=_RUN_LABELS),
                y=alt.Y("share:Q", title="share of token-slots", scale=alt.Scale(domain=[0, 0.5])),
                color=alt.Color("strategy:N", title=None, sort=_RUN_LABELS,
                                legend=alt.Legend(orient="bottom", columns=1, labelLimit=320)),
                tooltip=["strategy:N", "step:Q", "expert:O", alt.Tooltip("share:Q", format=".3f")])
        .add_params(AT_STEP.param())
        .transform_filter(f"datum.step == {AT_STEP.name}")
    )
    even = alt.Chart().mark_rule(color="#888", strokeDash=[4, 3],
                                 description=f"even split: each expert 1/{n_experts}").encode(
        y=alt.datum(1 / n_experts))
    chart = alt.layer(bars, even, data=layer2).properties(
        height=220, title=alt.Title(["Expert loads at one training step", "(layer 2)"],
                                    subtitle=["Slide through training; the grey line",
                                              "is an even split"]))
    return finish(chart, description=(
        "Grouped bar chart, one bar per balancing run for each routed expert: its share of "
        "layer 2's token-slots at the training step picked with the slider; the grey line is "
        "an even split."))


def bias_simulation(sim: pd.DataFrame) -> alt.Chart:
    """Imbalance after each bias update on a skewed router, for the gamma and top_k picked.

    Args:
        sim: :func:`explainer.moe.bias_simulation` rows for every gamma and top_k of
            :data:`SIM_GAMMA` and :data:`SIM_K`.
    """
    chart = (
        alt.Chart(sim[["step", "imbalance", "gamma", "top_k"]].round({"imbalance": 2}),
                  title=alt.Title("Bias balancing alone, on a skewed router",
                                  subtitle="Imbalance (max / mean load) after each bias update; "
                                  "pick gamma and top_k"))
        .mark_line()
        .encode(x=alt.X("step:Q", title="bias updates",
                        scale=alt.Scale(domain=[0, int(sim.step.max())], nice=False)),
                y=alt.Y("imbalance:Q", title="max load / mean load",
                        scale=alt.Scale(domain=[1, 8])),
                tooltip=["gamma:Q", "top_k:O", "step:Q", "imbalance:Q"])
        .add_params(SIM_GAMMA.param(), SIM_K.param())
        .transform_filter(f"datum.gamma == {SIM_GAMMA.name} && datum.top_k == {SIM_K.name}")
        .properties(height=240)
    )
    return finish(chart, description=(
        "Line chart of the load imbalance of a fixed router that favours three of eight "
        "experts, after each of 150 bias updates, for the bias speed gamma and the top_k "
        "picked below; with gamma 0 it stays high, with a positive gamma it falls towards 1."))


def bias_simulation_live(sim_gamma: float, sim_k: int) -> alt.Chart:
    """JupyterLab: :func:`explainer.moe.bias_simulation` recomputed for one gamma and top_k."""
    data = moe.bias_simulation(sim_gamma, sim_k)
    chart = (alt.Chart(data, title=f"Skewed router, gamma {sim_gamma}, top-{sim_k}")
             .mark_line()
             .encode(x=alt.X("step:Q", title="bias updates"),
                     y=alt.Y("imbalance:Q", title="max load / mean load",
                             scale=alt.Scale(domain=[1, 8])))
             .properties(height=220))
    return finish(chart, description=f"Imbalance after each bias update with gamma {sim_gamma} "
                                     f"and top-{sim_k} routing, recomputed live.")


# ------------------------------------------------------------------ fine-grained experts, CPU
def granularity(log: pd.DataFrame, runs: list[str] | tuple[str, ...] = (
        "coarse", "fine", "fine_shared")) -> alt.Chart:
    """Training loss of the coarse, fine and fine + shared runs.

    Args:
        log: :func:`explainer.moe.load_training_log`.
        runs: the granularity runs.
    """
    curves = log[log.run.isin(runs)].assign(setup=lambda d: d.run.map(moe.RUN_LABELS))
    chart = (
        alt.Chart(curves[["setup", "step", "loss", "imbalance"]],
                  title=alt.Title("Training loss: coarse vs fine vs fine + shared experts",
                                  subtitle="Same total and activated expert width; 5-step "
                                  "averages; hover for values"))
        .mark_line()
        .encode(x=alt.X("step:Q", title="training step"),
                y=alt.Y("loss:Q", title="training loss (nats per character)",
                        scale=alt.Scale(zero=False)),
                color=alt.Color("setup:N", title=None,
                                legend=alt.Legend(orient="top", columns=1, labelLimit=500)),
                tooltip=["setup:N", "step:Q", alt.Tooltip("loss:Q", format=".3f"),
                         alt.Tooltip("imbalance:Q", format=".2f")])
        .properties(height=260)
    )
    return finish(chart, description=(
        "Line chart of training loss over 500 steps for three expert layouts with the same "
        "total and activated expert width: 4 coarse experts, 16 fine ones, and 15 fine plus "
        "one shared. The three curves stay close."))


# the benchmark's implementations (data/moe_benchmark.csv) in words short enough for a phone
_BENCH_NAMES = {
    "dense FFN, same total params": "dense layer",
    "naive loop (every expert on every token)": "naive loop",
    "gather loop (DeepSeek-V3 model.py style)": "gather loop (V3's)",
    "grouped dispatch (sorted by expert)": "grouped dispatch",
}


def benchmark(bench: pd.DataFrame) -> alt.Chart:
    """Median forward time of one MoE layer per implementation, next to a dense layer.

    Args:
        bench: :func:`explainer.moe.load_benchmark`.
    """
    data = (bench.reset_index()[["implementation", "median_ms", "ratio_to_dense"]]
            .assign(name=lambda d: d.implementation.map(_BENCH_NAMES)))
    chart = (
        alt.Chart(data, title=alt.Title(["One layer's forward pass,", "4,096 tokens, on a CPU"],
                                        subtitle=["Median time; the dense layer has the",
                                                  "MoE layer's total parameters"]))
        .mark_bar()
        .encode(y=alt.Y("name:N", title=None, sort="-x"),
                x=alt.X("median_ms:Q", title="milliseconds", axis=alt.Axis(tickCount=4)),
                tooltip=[alt.Tooltip("implementation:N"),
                         alt.Tooltip("median_ms:Q", format=".1f", title="median ms"),
                         alt.Tooltip("ratio_to_dense:Q", format=".2f",
                                     title="time / dense layer's")])
        .properties(height=160)
    )
    return finish(chart, description=(
        "Bar chart of the median time of one forward pass on a CPU for a dense feed-forward "
        "layer and three implementations of an MoE layer with the same total parameters: "
        "the naive loop takes about as long as the dense layer, the two loops that skip idle "
        "experts far less."))


# ------------------------------------------------------------------ dispatch across nodes
def _nodes_chart(dist: pd.DataFrame, n_nodes: int) -> alt.Chart:
    """Grouped bars of nodes per token; each legend entry carries its routing's means."""
    label = ("(datum.limit == 0 ? 'no limit' : 'M = ' + datum.limit) + ': ' + "
             "format(datum.mean_nodes, '.2f') + ' nodes, ' + "
             "format(datum.ib_bytes / 1000, ',.1f') + ' kB'")
    return (
        alt.Chart(dist).transform_calculate(routing=label)
        .mark_bar()
        .encode(
            x=alt.X("nodes:O", title="nodes a token's 8 experts occupy",
                    scale=alt.Scale(domain=list(range(1, n_nodes + 1))),
                    axis=alt.Axis(labelAngle=0)),
            xOffset=alt.XOffset("routing:N"),
            y=alt.Y("share:Q", title="share of tokens", axis=alt.Axis(format="%", tickCount=5),
                    scale=alt.Scale(domain=[0, 1])),
            # "M = ..." sorts before "no limit ...": blue is always the limit, grey no limit
            color=alt.Color("routing:N", title=["on average, per token:",
                                                "nodes, kB over InfiniBand"],
                            legend=alt.Legend(orient="bottom", columns=1, labelLimit=320,
                                              titleLimit=320),
                            scale=alt.Scale(range=["#4c78a8", "#bbbbbb"])),
            tooltip=["routing:N", "nodes:O", alt.Tooltip("share:Q", format=".1%"),
                     alt.Tooltip("mean_nodes:Q", format=".2f", title="mean nodes"),
                     alt.Tooltip("ib_bytes:Q", format=",.0f", title="InfiniBand bytes per token"),
                     alt.Tooltip("ib_us:Q", format=".2f", title="InfiniBand µs per token")])
        .properties(height=240)
    )


def nodes_per_token(dist: pd.DataFrame) -> alt.Chart:
    """How many nodes a token's experts occupy, with no limit and with the M picked below.

    Args:
        dist: :func:`explainer.moe_dispatch.node_distribution` with ``None`` (no limit)
            and every M from 1 to the number of nodes.
    """
    c = moe_dispatch.TOPK_GROUPS
    n_nodes = int(dist.nodes.max())
    chart = (_nodes_chart(dist, n_nodes).add_params(c.param())
             .transform_filter(f"datum.limit == 0 || datum.limit == {c.name}")
             .properties(title=alt.Title(
                 ["Nodes each token reaches,", "DeepSeek-V3's layout"],
                 subtitle=["256 experts on 8 nodes, 8 per token;",
                           "synthetic router scores"])))
    return finish(chart, description=(
        "Grouped bar chart of the share of tokens whose eight routed experts sit on 1 to "
        f"{n_nodes} nodes, with no limit (grey) and with at most M nodes (blue, M picked "
        "below); the legend gives each routing's mean nodes and InfiniBand kilobytes per "
        "token."))


def nodes_per_token_live(topk_groups: int) -> alt.Chart:
    """JupyterLab: routes a fresh synthetic batch with and without the limit ``topk_groups``."""
    dist = moe_dispatch.node_distribution((None, topk_groups))
    chart = _nodes_chart(dist, moe_dispatch.V3_CLUSTER.n_nodes).properties(
        title=["Nodes per token:", f"no limit vs at most {topk_groups}"])
    return finish(chart, description=f"Share of tokens by the number of nodes their experts "
                                     f"occupy, with no limit and with at most {topk_groups}.")


def retrain_note():
    """What the training cell shows on the static page: a note (training needs a kernel)."""
    from IPython.display import Markdown

    return Markdown("*Training takes a minute or more of computing, so it is not run on this "
                    "page: the three runs charted above stand in for it.*")


def retrain_live(balance: str, steps: int):
    """JupyterLab: train the chapter's tiny LM again with any balancing mode (CPU, a minute).

    The layer is the bias run's (8 routed experts, top-2, gamma 0.01) with ``balance``
    swapped, so V3's recipe (``"bias_seq_aux_loss"``) can be tried. The text is the one
    the repository ships, Melville's *Moby-Dick* (``data/mtp_corpus.txt``, as the MTP
    chapter's models), not the articles the three charted runs were trained on.
    """
    from explainer import moe_lm, mtp
    from explainer.data import data_path

    base = moe_lm.load(data_path("weights", "moe_bias.pt")).config.moe
    cfg = moe.MoEConfig(**{**base.to_dict(), "balance": balance})
    res = moe_lm.train(cfg, steps=steps, text=mtp.load_corpus(), show_progress=True)
    tail = res.history.imbalance.iloc[-10:].mean()
    chart = (alt.Chart(res.history, title=[f"{balance}, {steps} steps on Moby-Dick:",
                                           f"held-out loss {res.val_loss:.3f}, "
                                           f"final imbalance {tail:.2f}"])
             .mark_line().encode(x=alt.X("step:Q", title="training step"),
                                 y=alt.Y("imbalance:Q", title="max load / mean load"))
             .properties(height=200))
    return finish(chart, description=f"Load imbalance while training the tiny model on the "
                                     f"text of Moby-Dick with balancing mode {balance} for "
                                     f"{steps} steps.")


# ------------------------------------------------------------------ tables for readers
def params_table(params: pd.DataFrame) -> Any:
    """Total and activated parameters per model, next to the papers' figures.

    Args:
        params: :func:`explainer.moe.activated_params_table`.
    """
    df = pd.DataFrame({
        "parameters, counted": params["total"],
        "activated per token, counted": params["activated"],
        "share activated": params["activated share"],
        "paper's figure (total / activated)": [
            MISSING if pd.isna(t) else f"{human(t)} / {human(a)}"
            for t, a in zip(params["published total"], params["published activated"])],
    }, index=params.index.rename("model"))
    return table(df, formats={"parameters, counted": "count:4",
                              "activated per token, counted": "count:4",
                              "share activated": "pct"},
                 caption="Parameters a model has and parameters each token uses, counted by the "
                         "library from each configuration; — : no published figure (the tiny "
                         "model is this chapter's own).")


def sentence_load_table(routes: pd.DataFrame, n_experts: int = 8) -> Any:
    """How the sentence's character-slots spread over the experts, per model and layer.

    Args:
        routes: :func:`routing_routes`.
        n_experts: routed experts per layer.
    """
    counts = (routes.groupby(["model", "layer", "expert"]).size()
              .unstack(fill_value=0).reindex(columns=range(n_experts), fill_value=0))
    counts = counts.loc[list(moe.BALANCE_RUNS)]
    top3 = counts.apply(lambda r: r.nlargest(3).sum() / r.sum(), axis=1)
    df = pd.DataFrame({
        "balancing": [moe.RUN_LABELS[m] for m, _ in counts.index],
        "layer": [layer for _, layer in counts.index],
        "slots of the 3 busiest experts": top3.values,
        "experts given no slot": (counts == 0).sum(axis=1).values,
    })
    return table(df, index=False, formats={"slots of the 3 busiest experts": "pct"},
                 caption=f"The sentence's character-slots ({int(counts.iloc[0].sum())} per layer: "
                         "each character goes to 2 experts), by model and layer. An even spread "
                         f"would give the 3 busiest of {n_experts} experts 38%.")


def runs_table(runs: pd.DataFrame, names: list[str] | tuple[str, ...]) -> Any:
    """Loss and imbalance at the end of training for the runs ``names``.

    Args:
        runs: :func:`explainer.moe.load_runs`.
        names: the runs (rows), in order.
    """
    r = runs.loc[list(names)]
    df = pd.DataFrame({
        "run": [moe.RUN_LABELS[n] for n in names],
        "imbalance": r["final_imbalance"].values,
        "held-out loss": r["val_loss"].values,
        "training loss": r["final_loss"].values,
    })
    return table(df, index=False, formats={"imbalance": "dec2", "held-out loss": "dec3",
                                           "training loss": "dec3"},
                 caption="Each run after 500 steps (one random seed): imbalance, max / mean "
                         "load per batch (1 is perfectly even, 4 total collapse), and training "
                         "loss, both over the last 50 steps; losses in nats per character.")


def balance_views(log: pd.DataFrame, loads: pd.DataFrame,
                  names: tuple[str, ...] = ("aux_loss", "bias"), n_experts: int = 8,
                  last: int = 50) -> pd.DataFrame:
    """End-of-training imbalance two ways: batch by batch, and over each 25-step window.

    Args:
        log: :func:`explainer.moe.load_training_log` (per-step imbalance, both layers).
        loads: :func:`explainer.moe.load_expert_load` (per-window shares, per layer).
        names: the runs.
        n_experts: routed experts per layer (max / mean load = max share · n_experts).
        last: steps at the end that count.

    Returns:
        Indexed by run: ``per_step`` (mean over the last ``last`` steps of each step's
        max / mean load, averaged over both layers), ``per_step_before`` (the same over the
        100 steps before those), and ``window_layer1``, ``window_layer2`` (the busiest
        expert's share of the last 25-step window, over the even share).
    """
    end = int(log.step.max())
    rows = {}
    for n in names:
        steps = log[log.run == n].set_index("step").imbalance
        win = loads[(loads.run == n) & (loads.step == loads.step.max())]
        peak = win.groupby("layer").share.max() * n_experts
        rows[n] = {"per_step": steps[steps.index > end - last].mean(),
                   "per_step_before": steps[(steps.index > end - last - 100)
                                            & (steps.index <= end - last)].mean(),
                   "window_layer1": peak.loc[1], "window_layer2": peak.loc[2]}
    return pd.DataFrame(rows).T


def balance_views_table(views: pd.DataFrame) -> Any:
    """:func:`balance_views` for readers."""
    df = pd.DataFrame({
        "run": [moe.RUN_LABELS[n] for n in views.index],
        "each batch": views["per_step"].values,
        "pooled, layer 1": views["window_layer1"].values,
        "pooled, layer 2": views["window_layer2"].values,
    })
    return table(df, index=False, formats={c: "dec2" for c in df.columns[1:]},
                 caption="Imbalance (max / mean load; 1 is even) at the end of training, "
                         "measured two ways. Each batch: every training batch's imbalance, "
                         "mean of both layers and of the last 50 steps. Pooled: the tokens "
                         "of the last 25 steps counted together, one layer at a time.")


def bias_settle_table(sim: pd.DataFrame, top_k: int = 2, last: int = 50) -> Any:
    """Where the bias-only simulation settles, by gamma (top-``top_k`` routing).

    Args:
        sim: :func:`explainer.moe.bias_simulation_grid`.
        top_k: experts per token.
        last: bias updates at the end that count.
    """
    tail = sim[(sim.top_k == top_k) & (sim.step > sim.step.max() - last)]
    g = tail.groupby("gamma").imbalance.agg(["mean", "max"])
    df = pd.DataFrame({"γ (bias step)": [f"{v:g}" for v in g.index],
                       "mean imbalance": g["mean"].values, "worst imbalance": g["max"].values})
    return table(df, index=False, formats={"mean imbalance": "dec2", "worst imbalance": "dec2"},
                 caption=f"Top-{top_k} routing on the skewed router: imbalance (max / mean "
                         f"load) over the last {last} of {int(sim.step.max())} bias updates.")


def granularity_table(runs: pd.DataFrame,
                      names: tuple[str, ...] = ("coarse", "fine", "fine_shared")) -> Any:
    """The three expert layouts: shape, combinations, held-out loss.

    Args:
        runs: :func:`explainer.moe.load_runs`.
        names: the granularity runs.
    """
    r = runs.loc[list(names)]
    df = pd.DataFrame({
        "layout": [moe.RUN_LABELS[n].split(":")[0] for n in names],
        "routed experts": r["n_routed_experts"].values,
        "shared experts": r["n_shared_experts"].values,
        "routed per token": r["top_k"].values,
        "hidden units per expert": r["moe_inter_dim"].values,
        "expert combinations": r["combinations"].values,
        "held-out loss (nats per character)": r["val_loss"].values,
    })
    return table(df, index=False, formats={"held-out loss (nats per character)": "dec3"},
                 caption="Same total expert width (256 hidden units per layer) and same width "
                         "per token (64), all with bias balancing, 500 steps, one random seed.")


def benchmark_table(bench: pd.DataFrame) -> Any:
    """The MoE-layer benchmark: median time and time relative to the dense layer.

    Args:
        bench: :func:`explainer.moe.load_benchmark`.
    """
    words = {"dense FFN, same total params": "dense layer, same total parameters",
             "gather loop (DeepSeek-V3 model.py style)": "gather loop (as in DeepSeek-V3's code)"}
    df = pd.DataFrame({
        "implementation": [words.get(n, n) for n in bench.index],
        "median time (ms)": bench["median_ms"].values,
        "time relative to the dense layer": bench["ratio_to_dense"].values,
    })
    return table(df, index=False, formats={"median time (ms)": "dec1",
                                           "time relative to the dense layer": "dec2"},
                 caption="One forward pass of 4,096 tokens on one CPU thread, median of "
                         f"{int(bench['repeats'].iloc[0])} runs. If only the activated "
                         "parameters cost time, an MoE layer would take "
                         f"{bench['ideal_ratio'].iloc[0]:.2f} of the dense layer's time.")


check_frames(globals())  # refuse a missing or malformed frame by name (issue #25)
