"""figures.moe: valid specs, the controls the MoE chapter binds, descriptions, size, live twins."""

from __future__ import annotations

import pytest

from explainer import moe, moe_dispatch, moe_lm
from explainer.figures import moe as fig
from figure_checks import check_controls, check_spec

BUDGET = 300_000  # bytes of JSON per chart (CHAPTER_PATTERN rule 1)


@pytest.fixture(scope="module")
def data():
    models = moe_lm.load_balance_models()
    return {
        "models": models,
        "routes": fig.routing_routes(models),
        "runs": moe.load_runs(),
        "log": moe.load_training_log(),
        "loads": moe.load_expert_load(),
        "bench": moe.load_benchmark(),
        "sim": moe.bias_simulation_grid(steps=20),
        "dist": moe_dispatch.node_distribution((None, *range(1, 9)), tokens=256),
    }


@pytest.fixture(scope="module")
def charts(data):
    # name -> (chart, the params the chapter binds to inputs, controls declared for the page)
    return {
        "routing": (fig.routing(data["routes"]), [fig.ROUTE_MODEL, fig.ROUTE_LAYER]),
        "imbalance_curves": (fig.imbalance_curves(data["log"], data["runs"]), []),
        "load_heatmap": (fig.load_heatmap(data["loads"]), [fig.LOAD_RUN, fig.LOAD_LAYER]),
        "expert_loads_at_step": (fig.expert_loads_at_step(data["loads"]), [fig.AT_STEP]),
        "bias_simulation": (fig.bias_simulation(data["sim"]), [fig.SIM_GAMMA, fig.SIM_K]),
        "granularity": (fig.granularity(data["log"]), []),
        "benchmark": (fig.benchmark(data["bench"]), []),
        "nodes_per_token": (fig.nodes_per_token(data["dist"]), [moe_dispatch.TOPK_GROUPS]),
    }


NAMES = ["routing", "imbalance_curves", "load_heatmap", "expert_loads_at_step",
         "bias_simulation", "granularity", "benchmark", "nodes_per_token"]


@pytest.mark.parametrize("name", NAMES)
def test_spec_validates_has_a_description_and_fits_the_budget(charts, name):
    check_spec(charts[name][0], BUDGET)


@pytest.mark.parametrize("name", NAMES)
def test_chart_binds_exactly_its_declared_controls(charts, name):
    check_controls(*charts[name])


def test_live_twins_build_charts_for_any_control_value(data):
    for m in (1, 8):
        fig.nodes_per_token_live(m).to_dict(validate=True)
    fig.bias_simulation_live(0.03, 4).to_dict(validate=True)
    live = fig.routing_live(data["models"], "the router", "bias", 1)
    live.to_dict(validate=True)


def test_routing_live_names_unknown_characters(data):
    message = fig.routing_live(data["models"], "routing ☃", "none", 2)
    assert isinstance(message, str) and "☃" in message


def test_control_ranges_come_from_the_library_and_data(data):
    steps = sorted(data["loads"].step.unique())
    assert (fig.AT_STEP.min, fig.AT_STEP.max, fig.AT_STEP.step) == (
        steps[0], steps[-1], steps[1] - steps[0])
    assert fig.SIM_GAMMA.options == moe.BIAS_SIM_GAMMAS
    assert fig.SIM_K.options == moe.BIAS_SIM_TOP_K
    assert fig.RETRAIN_BALANCE.options == moe.BALANCE_MODES
    assert fig.ROUTE_MODEL.options == fig.LOAD_RUN.options == moe.BALANCE_RUNS


def test_nodes_chart_embeds_every_limit_the_slider_reaches(data):
    spec = fig.nodes_per_token(data["dist"]).to_dict()
    slider = moe_dispatch.TOPK_GROUPS
    limits = {row["limit"] for ds in spec["datasets"].values() for row in ds}
    assert limits == {0, *range(int(slider.min), int(slider.max) + 1)}


def test_routing_chart_wraps_the_sentence_into_short_rows():
    rows = fig._lines(fig.SENTENCE)
    assert len(rows) == len(fig.SENTENCE) and rows == sorted(rows)
    lines = ["".join(c for c, r in zip(fig.SENTENCE, rows) if r == i) for i in set(rows)]
    assert "".join(lines) == fig.SENTENCE and max(map(len, lines)) <= 16
    assert all(not line.startswith(" ") for line in lines)  # breaks fall after spaces


def test_nodes_legend_carries_each_routings_means(data):
    spec = fig.nodes_per_token(data["dist"]).to_dict()
    calc = str(spec["transform"])
    assert "mean_nodes" in calc and "ib_bytes" in calc
    assert spec["encoding"]["color"]["legend"]["orient"] == "bottom"


def test_reader_tables_use_words_and_human_numbers(data):
    runs, log, loads = data["runs"], data["log"], data["loads"]
    params = moe.activated_params_table(data["models"]["bias"].param_counts())
    html = fig.params_table(params).to_html()
    assert "671 billion" in html and "—" in html and "NaN" not in html
    t = fig.sentence_load_table(data["routes"])
    assert len(t.data) == 6 and t.data["experts given no slot"].ge(0).all()
    assert "2.86" in fig.runs_table(runs, moe.BALANCE_RUNS).to_html()  # no balancing
    views = fig.balance_views(log, loads)
    assert round(views.loc["bias", "per_step"], 2) == round(runs.loc["bias", "final_imbalance"], 2)
    assert round(views.loc["aux_loss", "per_step"], 2) == round(
        runs.loc["aux_loss", "final_imbalance"], 2)
    assert list(fig.balance_views_table(views).data.columns) == [
        "run", "each batch", "pooled, layer 1", "pooled, layer 2"]
    settle = fig.bias_settle_table(data["sim"], last=5)
    assert list(settle.data["γ (bias step)"]) == [f"{g:g}" for g in moe.BIAS_SIM_GAMMAS]
    assert "1,820" in fig.granularity_table(runs).to_html()
    bench = fig.benchmark_table(data["bench"]).data
    assert len(bench) == 4 and not bench["implementation"].str.contains("params|model.py").any()


def test_retrain_trains_on_the_text_the_repository_ships(monkeypatch):
    from explainer import moe_lm, mtp

    seen = {}

    def fake_train(cfg, *, steps, text, show_progress):
        seen["text"], seen["balance"] = text, cfg.balance
        raise RuntimeError("stop before training")

    monkeypatch.setattr(moe_lm, "train", fake_train)
    with pytest.raises(RuntimeError, match="stop"):
        fig.retrain_live("bias_seq_aux_loss", 20)
    assert seen == {"text": mtp.load_corpus(), "balance": "bias_seq_aux_loss"}
