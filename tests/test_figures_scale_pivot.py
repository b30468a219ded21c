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
