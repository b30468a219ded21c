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
    assert t["cost (US$)"].iloc[0] == pytest.approx(library)
    assert t.loc["DeepSeek-V3, reported GPU-hours", "cost (US$)"] == 5_576_000
    with pytest.raises(ValueError, match="mfu"):
        fig.what_if_table(2.0, 0.99, 14.8, 37, 989.4)


def test_tables_keep_the_rows_and_rename():
    comp = fig.compute_table(facts.training_compute())
    assert comp.loc["DeepSeek-V3", "GPU-hours used"] == 2_664_000
    assert fig.bill_table(facts.training_bill()).loc["total", "recomputed $"] == 5_576_000
    assert "article ÷ 6·N·D" in fig.seed_check_table(facts.seed_table_check()).columns
