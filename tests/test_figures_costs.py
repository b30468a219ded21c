"""Tests for explainer.figures.costs: valid specs, declared controls bound, descriptions, size."""

from __future__ import annotations

import pytest

from explainer import architecture, costs, facts
from explainer.controls import bound_params, check_bound
from explainer.figures import costs as fig
from explainer.figures._base import spec_bytes

BUDGET = 300_000  # bytes of JSON per chart


def _charts():
    check = facts.seed_table_check()
    kv = costs.kv_cache_table({m: architecture.load_config(c) for m, c in
                               [("DeepSeek-V2", "deepseek_v2_236b"),
                                ("DeepSeek-V3", "deepseek_v3_671b")]})
    return {
        "mfu": fig.mfu(facts.with_attention()),
        "seed_flops": fig.seed_flops(check),
        "api_prices": fig.api_prices(costs.load_prices()),
        "kv_cache": fig.kv_cache(fig.kv_cache_curve(kv, 128 * 1024)),
        "what_if": fig.what_if(facts.training_bill(), costs.load_models()),
    }


@pytest.fixture(scope="module")
def charts():
    return _charts()


@pytest.mark.parametrize("name", ["mfu", "seed_flops", "api_prices", "kv_cache", "what_if"])
def test_chart_validates_has_description_and_fits_budget(charts, name):
    chart = charts[name]
    spec = chart.to_dict()  # validates against Altair's Vega-Lite schema
    assert len(spec["description"]) > 40
    assert spec_bytes(chart) < BUDGET


def test_what_if_binds_every_declared_control(charts):
    check_bound(charts["what_if"], costs.WHAT_IF_CONTROLS)
    assert set(bound_params(charts["what_if"])) == set(costs.WHAT_IF_PARAMS)
    assert costs.what_if_cost_expr() in str(charts["what_if"].to_dict())


def test_kv_cache_binds_its_model_choice(charts):
    check_bound(charts["kv_cache"], [fig.MODEL_SIZE])


def test_what_if_table_is_the_library_chain():
    t = fig.what_if_table(2.0, 0.346, 14.8, 37, 989.4)
    library = costs.what_if_cost_usd(2.0, 0.346, 14.8, 37, 989.4)
    assert t.data["cost (US$)"].iloc[0] == pytest.approx(library)
    assert t.data.set_index("run").loc["DeepSeek-V3, reported hours", "cost (US$)"] == 5_576_000
    assert "$5.58 million" in t.to_html() and "nan" not in t.to_html().lower()
    with pytest.raises(ValueError, match="mfu"):
        fig.what_if_table(2.0, 0.99, 14.8, 37, 989.4)


def test_what_if_bars_are_linear_from_zero_with_labels_above_them(charts):
    spec = charts["what_if"].to_dict()
    bar, text = spec["layer"]
    x = bar["encoding"]["x"]
    assert x["scale"].get("type", "linear") == "linear" and x["scale"]["zero"] is True
    assert "log" not in x["title"]
    # the names and costs sit above the bars (no y-axis labels eating the width)
    assert bar["encoding"]["y"]["axis"] is None and text["encoding"]["y"]["axis"] is None
    assert text["mark"]["x"] == 0 and text["encoding"]["text"]["field"] == "label"


def _cells(styler) -> str:
    return styler.to_html()


def test_tables_are_for_readers():
    comp = fig.compute_table(facts.training_compute())
    # one column per model, one row per measure, each row written in its own unit
    by_measure = comp.data.set_index("per model")
    assert by_measure.loc["GPU-hours counted", "DeepSeek-V3"] == "2.664 million"
    assert by_measure.loc["GPU-hours counted", "GPT-4"] == "—"
    assert by_measure.loc["estimated MFU (BF16 peak)", "DeepSeek-V3"] == "35%"
    assert "3.29 × 10²⁴" in _cells(comp)
    bill = fig.bill_table(facts.training_bill())
    assert bill.data.set_index("stage").loc["total", "cost (hours × price)"] == 5_576_000
    assert "$5.576 million" in _cells(bill)
    b = facts.training_bill()
    assert (b.stages["usd"] == b.stages["reported_usd"]).all()  # the caption's "equal"
    check = fig.seed_check_table(facts.seed_table_check())
    rows = check.data.set_index("as the article names the model")
    assert rows.loc["article ÷ 6·N·D", "DeepSeek-V2"] == "4.9×"
    assert rows.loc["price per million tokens: book's data, input / output", "GPT-4"] == "—"
    tenth = fig.one_tenth_table(facts.one_tenth())
    assert "9.0%" in _cells(tenth) and "8.6%" in _cells(tenth)
    gap = fig.price_gap_table(facts.api_price_gap())
    assert "96%" in _cells(gap) and "$60" in _cells(gap)
    kv = costs.kv_cache_table({m: architecture.load_config(c) for m, c in
                               [("DeepSeek-V2", "deepseek_v2_236b"),
                                ("DeepSeek-V3", "deepseek_v3_671b")]})
    kvt = fig.kv_table(kv, 128 * 1024)
    assert "56.9×" in _cells(kvt) and "9.21" in _cells(kvt)
    counts = {"DeepSeek-V3": architecture.param_counts(architecture.load_config("deepseek_v3_671b"))}
    params = fig.params_table(counts, costs.load_models())
    assert "671.03" in _cells(params) and "under 0.01" in _cells(params)
    for t in (comp, bill, check, tenth, gap, kvt, params):
        html = _cells(t).lower()
        assert "nan" not in html and "none" not in html and t.caption


def test_mfu_chart_sets_the_measured_band_beside_the_estimates(charts):
    spec = charts["mfu"].to_dict()
    values = next(iter(spec["datasets"].values()))
    measured = [v for v in values if v["measure"] == "measured by the developer"]
    llama = next(v for v in measured if v["model"] == "Llama 3.1 405B")
    assert (llama["lo"], llama["hi"], llama["label"]) == (0.38, 0.43, "38–43%")
    v3 = next(v for v in measured if v["model"] == "DeepSeek-V3")
    assert v3["label"] == "none published"
    assert "Meta measured 38% to 43%" in spec["description"]


@pytest.mark.parametrize("name", ["mfu", "seed_flops", "api_prices", "kv_cache"])
def test_legends_sit_below_and_log_scales_say_so(charts, name):
    spec = charts[name].to_dict()
    enc = spec.get("encoding") or spec["layer"][0]["encoding"]
    assert enc["color"]["legend"]["orient"] == "bottom"
    x = enc["x"]
    if x.get("scale", {}).get("type") == "log":
        assert "log scale" in x["title"]
