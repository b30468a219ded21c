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

import altair as alt
import pandas as pd

from explainer import moe, moe_dispatch
from explainer.controls import Button, Choice, Slider, Text
from explainer.figures._base import finish

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
    "benchmark",
    "bias_simulation",
    "bias_simulation_live",
    "expert_loads_at_step",
    "granularity",
    "imbalance_curves",
    "load_heatmap",
    "nodes_per_token",
    "nodes_per_token_live",
    "retrain_live",
    "retrain_note",
    "routing",
    "routing_live",
    "routing_routes",
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
        models: ``{run: model}`` (:func:`explainer.moe.load_balance_models`).
        sentence: text made of characters the models know.
    """
    from explainer import moe_lm

    rows = []
    for name, model in models.items():
        t = moe_lm.routing_table(model, sentence)
        rows.append(t[t.chosen].assign(model=name))
    routes = pd.concat(rows)[["model", "layer", "position", "char", "expert", "weight", "rank"]]
    return routes.assign(weight=routes["weight"].round(3))


def _routing_chart(routes: pd.DataFrame, sentence: str, n_experts: int, title: str) -> alt.Chart:
    shown = [("␣" if c == " " else c) for c in sentence]
    hover = alt.selection_point(on="pointerover", fields=["position"], empty=False,
                                clear="pointerout")
    return (
        alt.Chart(routes, title=alt.Title(title, subtitle="Colour: gating weight of a chosen "
                                          "expert; blank: not chosen. Hover a character."))
        .mark_rect(stroke="white")
        .encode(
            x=alt.X("position:O", title="character of the sentence",
                    axis=alt.Axis(labelExpr=f"{json.dumps(shown)}[datum.value]", labelAngle=0,
                                  labelFontSize=12)),
            y=alt.Y("expert:O", title="routed expert",
                    scale=alt.Scale(domain=list(range(n_experts)))),
            color=alt.Color("weight:Q", title="weight",
                            scale=alt.Scale(scheme="blues", domain=[0, 1])),
            opacity=alt.condition(hover, alt.value(1.0), alt.value(0.85)),
            strokeWidth=alt.condition(hover, alt.value(2), alt.value(0.5)),
            tooltip=["char:N", "position:O", "layer:O", "expert:O", "rank:O", "weight:Q"],
        )
        .add_params(hover)
        .properties(height=190)
    )


def routing(routes: pd.DataFrame, sentence: str = SENTENCE, n_experts: int = 8) -> alt.Chart:
    """Which experts each character visits, for the model and layer picked under the chart.

    Args:
        routes: :func:`routing_routes` for the three shipped models.
        sentence: the sentence they route.
        n_experts: routed experts per layer (rows of the chart).
    """
    chart = (_routing_chart(routes, sentence, n_experts,
                            "Which experts each character of a sentence visits")
             .add_params(ROUTE_MODEL.param(), ROUTE_LAYER.param())
             .transform_filter(f"datum.model == {ROUTE_MODEL.name} && "
                               f"datum.layer == {ROUTE_LAYER.name}"))
    return finish(chart, description=(
        f"Heatmap of the {len(sentence)} characters of a sentence (columns) against the "
        f"{n_experts} routed experts (rows) of the model and layer picked below; a coloured cell "
        "means the router sent that character to that expert, darker for a larger gating weight."))


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
    title = f"Layer {which_layer}, {moe.RUN_LABELS[which_model]}"
    return finish(_routing_chart(t, sentence, model.config.moe.n_routed_experts, title),
                  description=f"Routing of the typed sentence in layer {which_layer} of the "
                              f"model trained with {moe.RUN_LABELS[which_model]}.")


# ------------------------------------------------------------------ collapse and cures
def imbalance_curves(log: pd.DataFrame, runs: pd.DataFrame) -> alt.Chart:
    """Max / mean expert load over training for the three balancing runs.

    Args:
        log: :func:`explainer.moe.load_training_log`.
        runs: :func:`explainer.moe.load_runs` (for the held-out loss in the legend).
    """
    curves = log[log.run.isin(moe.BALANCE_RUNS)].assign(strategy=lambda d: d.run.map(
        lambda r: f"{moe.RUN_LABELS[r]} (held-out loss {runs.loc[r, 'val_loss']:.3f})"))
    zoom = alt.selection_interval(bind="scales", encodings=["x"])
    chart = (
        alt.Chart(curves[["strategy", "step", "imbalance", "loss"]],
                  title=alt.Title("Load imbalance during training (max load / mean load)",
                                  subtitle="Mean over the two MoE layers, 5-step averages; "
                                  "drag or scroll to zoom"))
        .mark_line()
        .encode(x=alt.X("step:Q", title="training step"),
                y=alt.Y("imbalance:Q", title="max load / mean load",
                        scale=alt.Scale(domain=[1, 4])),
                color=alt.Color("strategy:N", title=None,
                                legend=alt.Legend(orient="top", columns=1, labelLimit=500)),
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


def expert_loads_at_step(loads: pd.DataFrame, n_experts: int = 8) -> alt.Chart:
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
        .encode(x=alt.X("expert:O", title="routed expert"),
                y=alt.Y("share:Q", title="share of token-slots", scale=alt.Scale(domain=[0, 0.5])),
                color=alt.Color("strategy:N", legend=None),
                tooltip=["strategy:N", "step:Q", "expert:O", alt.Tooltip("share:Q", format=".3f")])
        .add_params(AT_STEP.param())
        .transform_filter(f"datum.step == {AT_STEP.name}")
        .properties(width=180, height=180)
    )
    even = alt.Chart().mark_rule(color="#888", strokeDash=[4, 3],
                                 description=f"even split: each expert 1/{n_experts}").encode(
        y=alt.datum(1 / n_experts))
    chart = alt.layer(bars, even, data=layer2).facet(
        column=alt.Column("strategy:N", title=None, sort=_RUN_LABELS)).properties(
        title=alt.Title("Expert loads at one training step (layer 2)",
                        subtitle="Slide through training; the grey line is an even split"))
    return finish(chart, width=None, description=(
        "Three bar charts, one per balancing run, of each routed expert's share of layer 2's "
        "token-slots at the training step picked with the slider; the grey line is an even "
        "split."))


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


def benchmark(bench: pd.DataFrame) -> alt.Chart:
    """Median forward time of one MoE layer per implementation, next to a dense layer.

    Args:
        bench: :func:`explainer.moe.load_benchmark`.
    """
    data = bench.reset_index()[["implementation", "median_ms", "ratio_to_dense", "ideal_ratio"]]
    chart = (
        alt.Chart(data, title=alt.Title("One layer's forward pass, 4,096 tokens",
                                        subtitle="Median wall time; the dense layer has the MoE "
                                        "layer's total parameters"))
        .mark_bar()
        .encode(y=alt.Y("implementation:N", title=None, sort="-x",
                        axis=alt.Axis(labelLimit=400)),
                x=alt.X("median_ms:Q", title="milliseconds (median)"),
                tooltip=["implementation:N", "median_ms:Q", "ratio_to_dense:Q", "ideal_ratio:Q"])
        .properties(height=160)
    )
    return finish(chart, description=(
        "Bar chart of the median time of one forward pass on a CPU for a dense feed-forward "
        "layer and three implementations of an MoE layer with the same total parameters."))


# ------------------------------------------------------------------ dispatch across nodes
def _nodes_chart(dist: pd.DataFrame, n_nodes: int) -> alt.LayerChart:
    label = f"'at most ' + datum.limit + ' nodes (M = ' + datum.limit + ')'"
    base = alt.Chart(dist).transform_calculate(
        routing=f"datum.limit == 0 ? 'no limit' : {label}")
    bars = base.mark_bar().encode(
        x=alt.X("nodes:O", title="nodes a token's 8 experts occupy",
                scale=alt.Scale(domain=list(range(1, n_nodes + 1)))),
        xOffset=alt.XOffset("routing:N"),
        y=alt.Y("share:Q", title="share of tokens", axis=alt.Axis(format="%"),
                scale=alt.Scale(domain=[0, 1])),
        color=alt.Color("routing:N", title=None, legend=alt.Legend(orient="top"),
                        scale=alt.Scale(range=["#4c78a8", "#bbbbbb"])),
        tooltip=["routing:N", "nodes:O", alt.Tooltip("share:Q", format=".1%"),
                 alt.Tooltip("mean_nodes:Q", format=".2f", title="mean nodes"),
                 alt.Tooltip("ib_bytes:Q", format=",.0f", title="InfiniBand bytes per token"),
                 alt.Tooltip("ib_us:Q", format=".2f", title="InfiniBand µs per token")])
    text = base.transform_filter("datum.nodes == 1").transform_calculate(
        line="datum.routing + ': ' + format(datum.mean_nodes, '.2f') + ' nodes, ' + "
             "format(datum.ib_bytes / 1000, ',.1f') + ' kB over InfiniBand per token'"
    ).mark_text(align="right", x="width", dx=-4, fontSize=12).encode(
        y=alt.Y("limit:O", axis=None, sort="descending", scale=alt.Scale(range=[12, 32])),
        text="line:N")
    return alt.layer(bars, text).resolve_scale(y="independent").properties(height=260)


def nodes_per_token(dist: pd.DataFrame) -> alt.LayerChart:
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
                 "Nodes per token, DeepSeek-V3's layout (256 experts on 8 nodes, top-8)",
                 subtitle="Synthetic router scores; grey: no limit, blue: node-limited routing")))
    return finish(chart, description=(
        "Grouped bar chart of the share of tokens whose eight routed experts sit on 1 to "
        f"{n_nodes} nodes, with no limit (grey) and with at most M nodes (blue, M picked "
        "below), with each routing's mean nodes and InfiniBand kilobytes per token."))


def nodes_per_token_live(topk_groups: int) -> alt.LayerChart:
    """JupyterLab: routes a fresh synthetic batch with and without the limit ``topk_groups``."""
    dist = moe_dispatch.node_distribution((None, topk_groups))
    chart = _nodes_chart(dist, moe_dispatch.V3_CLUSTER.n_nodes).properties(
        title=f"Nodes per token, no limit vs at most {topk_groups}")
    return finish(chart, description=f"Share of tokens by the number of nodes their experts "
                                     f"occupy, with no limit and with at most {topk_groups}.")


def retrain_note():
    """What the retraining cell shows on the static page: a note (training needs a kernel)."""
    from IPython.display import Markdown

    return Markdown("*Retraining needs a live kernel and the seed articles; on this page the "
                    "shipped runs charted above stand in for it.*")


def retrain_live(balance: str, steps: int):
    """JupyterLab: retrain the chapter's tiny LM with another balancing mode (CPU, a minute).

    The layer is the shipped bias run's (8 routed experts, top-2, gamma 0.01) with
    ``balance`` swapped, so V3's recipe (``"bias_seq_aux_loss"``) can be tried
    without touching the shipped runs. Needs the seed articles (they live beside
    the repository); returns their absence as a message.
    """
    from explainer import moe_lm
    from explainer.data import data_path

    base = moe_lm.load(data_path("weights", "moe_bias.pt")).config.moe
    cfg = moe.MoEConfig(**{**base.to_dict(), "balance": balance})
    try:
        res = moe_lm.train(cfg, steps=steps, show_progress=True)
    except FileNotFoundError as err:
        return str(err)
    tail = res.history.imbalance.iloc[-10:].mean()
    chart = (alt.Chart(res.history, title=f"{balance}, {steps} steps: held-out loss "
                       f"{res.val_loss:.3f}, final imbalance {tail:.2f}")
             .mark_line().encode(x=alt.X("step:Q", title="training step"),
                                 y=alt.Y("imbalance:Q", title="max load / mean load"))
             .properties(height=200))
    return finish(chart, description=f"Load imbalance while retraining the tiny model with "
                                     f"balancing mode {balance} for {steps} steps.")
