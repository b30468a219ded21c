"""Tests for explainer.figures.at_a_glance: the ten-benchmark chart, its slider and live twin."""

from __future__ import annotations

import html

import pytest

from explainer import facts
from explainer.controls import bound_params, check_bound
from explainer.figures import at_a_glance as fig
from explainer.figures._base import spec_bytes


def test_page_chart_binds_the_slider_and_says_what_it_shows():
    chart = fig.scores(facts.benchmark_gaps())
    spec = chart.to_dict()
    check_bound(chart, [fig.MIN_GAP])
    assert "SimpleQA, 16.9 points in o1's favour" in spec["description"]
    assert len(spec["data"]["values"] if "values" in spec["data"] else
               next(iter(spec["datasets"].values()))) == 20
    assert spec_bytes(chart) < 300_000
    # the slider reaches past the widest gap, so it can hide every benchmark
    assert fig.MIN_GAP.max > facts.benchmark_gaps()["gap"].abs().max()


@pytest.mark.parametrize("threshold, left", [(0, 10), (1, 6), (5, 2), (17, 0)])
def test_live_chart_filters_in_python(threshold, left):
    chart = fig.scores_at(threshold)
    assert not bound_params(chart)
    spec = chart.to_dict()
    values = next(iter(spec["datasets"].values())) if "datasets" in spec else []
    assert len({v["benchmark"] for v in values}) == left


def test_table_is_for_readers_and_says_who_measured_what():
    t = fig.table(facts.benchmark_gaps())
    assert {"R1", "o1-1217", "R1 − o1"} <= set(t.data.columns)
    page = t.to_html()
    assert "−16.9" in page and "+0.6" in page and "source_id" not in page
    # R1 paper §3, Baselines: o1-1217's scores are OpenAI's official reports, not DeepSeek's runs
    caption = html.unescape(t.caption)  # the table escapes its caption for HTML
    assert "OpenAI's official reports" in caption and "DeepSeek's own measurements" in caption
    assert "DeepSeek-R1 paper" in caption
    with pytest.raises(ValueError, match="min_gap"):
        fig.scores_at(-1)
