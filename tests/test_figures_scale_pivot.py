"""Tests for explainer.figures.scale_pivot: valid specs, declared controls bound, live twin."""

from __future__ import annotations

import pytest

from explainer import costs, facts
from explainer.controls import bound_params, check_bound
from explainer.figures import scale_pivot as fig
from explainer.figures._base import spec_bytes


@pytest.mark.parametrize("make", [
    lambda: fig.valuations(facts.load_seed_valuations()),
    lambda: fig.era_multiples(facts.era_multiples()),
    lambda: fig.what_if(facts.scale_references()),
])
def test_chart_validates_has_description_and_fits_budget(make):
    chart = make()
    spec = chart.to_dict()
    assert len(spec["description"]) > 40
    assert spec_bytes(chart) < 300_000


def test_what_if_binds_the_cost_controls_and_the_cluster_size():
    chart = fig.what_if()
    check_bound(chart, fig.CONTROLS)
    assert set(bound_params(chart)) == {c.name for c in fig.CONTROLS}
    spec = str(chart.to_dict())
    assert costs.what_if_flops_expr() in spec and costs.days_expr("datum.hours") in spec


def test_what_if_readout_matches_v3_and_the_projection():
    v3 = facts.training_compute().loc["DeepSeek-V3"]
    out = fig.what_if_readout(2.0, v3["mfu"], 14.8, 37, 989.4, 100_000)
    assert out.loc["your scenario", "GPU-hours"] == pytest.approx(v3["gpu_hours"])
    nxt = out.loc["article: DeepSeek Next"]
    assert round(nxt["GPU-hours"] / 1e6, 1) == 81.1
    assert round(nxt["days on 100,000 GPUs"]) == 34
    with pytest.raises(ValueError, match="n_gpus"):
        fig.what_if_readout(2.0, 0.3, 14.8, 37, 989.4, 10)


def test_valuation_description_names_the_2026_figures():
    d = fig.valuations(facts.load_seed_valuations()).to_dict()["description"]
    assert "DeepSeek, ByteDance for 2026" in d


def test_era_chart_draws_ranges_only_where_the_article_prints_ranges():
    mult = facts.era_multiples()
    spec = fig.era_multiples(mult).to_dict()
    (rows,) = [d for d in spec["datasets"].values() if d and "metric" in d[0]]
    assert [r["range"] for r in rows] == list(mult["high"] > mult["low"])
    assert sum(r["range"] for r in rows) == 1  # inference cost: a bar from 1x to 50x
    # the rule layer draws only those rows, so no zero-length rule is drawn
    rules = [layer for layer in spec["layer"] if layer["mark"]["type"] == "rule"
             and "x2" in layer.get("encoding", {})]
    assert rules and all(layer["transform"] == [{"filter": "datum.range"}] for layer in rules)
    # the printed values sit above each row, in lines that fit a phone
    assert all(len(line) <= fig._WRAP for r in rows for line in r["label"].split("\n"))
    assert rows[0]["label"].startswith("Avg. Model Size (Chinese AI): ~100B")


def test_article_table_puts_the_article_beside_our_sources():
    check = facts.seed_table_check()
    t = fig.article_table(check)
    assert list(t.data.columns) == ["figure", *check.index]
    html = t.to_html()
    for text in ("5 × 10²⁴", "1.02 × 10²⁴", "4.90×", "21 billion", "$0.14 / $0.28", "—"):
        assert text in html, text
    assert "nan" not in html.lower().replace("nanometre", "")


def test_what_if_table_formats_the_live_readout():
    t = fig.what_if_table(2.0, 0.346, 14.8, 37, 989.4, 2048)
    assert list(t.data.columns) == ["run", "FLOPs", "GPU-hours", "rental, US dollars",
                                    "days on 2,048 GPUs"]
    assert "million" in t.to_html() and "e+" not in t.to_html()


def test_titles_call_the_article_an_article():
    for chart in (fig.valuations(facts.load_seed_valuations()),
                  fig.era_multiples(facts.era_multiples()), fig.what_if()):
        spec = chart.to_dict()
        assert "seed" not in str(spec.get("title", "")).lower()
        assert "seed" not in spec["description"].lower()
