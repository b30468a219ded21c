"""The training-system chapter's figures: valid specs, bound controls, descriptions, size."""

from __future__ import annotations

import itertools

import pandas as pd
import pytest

from explainer import fp8, pipeline
from explainer.controls import bound_params, check_bound
from explainer.figures import training_system as ts
from explainer.figures._base import spec_bytes

BUDGET = 300_000  # bytes of JSON per chart (CHAPTER_PATTERN rule 1)


@pytest.fixture(scope="module")
def charts():
    tl, runs = pipeline.timeline_grid(pipeline.SCHEDULES, ts.STAGES.options, ts.MICRO.options,
                                      **ts.GANTT_DURATIONS)
    table = pd.concat([pipeline.bubble_table(pps=(2, 4, 8), durations=(d,)).assign(durations=k)
                       for k, d in ts.BUBBLE_DURATIONS.items()])
    acc = fp8.accumulation_error((128, 256), n=4)
    return {
        "gantt": (ts.gantt(tl, runs), {"schedule", "pp", "n_micro"}),
        "gantt_at": (ts.gantt_at("zb1p", 4, 16), set()),
        "bubbles": (ts.bubbles(table), {"durations"}),
        "outliers": (ts.outliers(fp8.outlier_sweep((1e2, 1e5), n_tokens=8, dim=256,
                                                   n_out=128)), set()),
        "accumulation": (ts.accumulation(acc, 0.02, 4096), set()),
        "overlap": (ts.overlap(pipeline.overlap_step_time(1, 1), "1 : 1"), set()),
    }


@pytest.mark.parametrize("name", ["gantt", "gantt_at", "bubbles", "outliers", "accumulation",
                                  "overlap"])
def test_spec_validates_binds_its_params_and_fits(charts, name):
    chart, params = charts[name]
    chart.to_dict(validate=True)
    assert len(chart.description) > 40
    assert set(bound_params(chart)) == params
    assert spec_bytes(chart) < BUDGET


def test_gantt_binds_the_declared_controls(charts):
    check_bound(charts["gantt"][0], ts.GANTT_CONTROLS)


def test_gantt_holds_every_option_combination():
    tl, runs = pipeline.timeline_grid(pipeline.SCHEDULES, ts.STAGES.options, ts.MICRO.options)
    combos = set(itertools.product(pipeline.SCHEDULES, ts.STAGES.options, ts.MICRO.options))
    assert set(zip(runs.schedule, runs.pp, runs.n_micro)) == combos


def test_browser_run_id_matches_python():
    # evaluate the Vega expression with Python semantics for indexof
    expr = ts._run_id_expr().replace("indexof(", "_indexof(")
    ids = set()
    for s, pp, n in itertools.product(pipeline.SCHEDULES, ts.STAGES.options, ts.MICRO.options):
        env = {"_indexof": lambda a, v: a.index(v), ts.SCHEDULE.name: s, ts.STAGES.name: pp,
               ts.MICRO.name: n}
        got = eval(expr, {}, env)  # noqa: S307 (our own expression)
        assert got == ts._run_id(s, pp, n)
        ids.add(got)
    assert len(ids) == len(pipeline.SCHEDULES) * len(ts.STAGES.options) * len(ts.MICRO.options)


def test_bubble_chart_filters_on_the_chosen_durations(charts):
    import json

    spec = json.dumps(charts["bubbles"][0].to_dict())
    assert "datum.durations === durations" in spec.replace("(", "").replace(")", "")


def _text(styler) -> str:
    import re

    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", styler.to_html()))


def test_memory_table_reads_like_the_readme():
    rows = pipeline.bubble_table(pps=(4, 8, 16))
    t = ts.memory_table(rows)
    assert list(t.data["schedule"]) == ["1F1B", "ZB1P", "DualPipe", "DualPipeV"]
    assert list(t.data["peak activations at 4 / 8 / 16 stages"]) == [
        "4 / 8 / 16", "4 / 8 / 16", "5 / 9 / 17", "5 / 9 / 17"]
    assert list(t.data["parameters"]) == [1, 1, 2, 2]
    assert list(t.data["devices"]) == ["PP", "PP", "PP", "PP/2"]
    assert "nan" not in _text(t).lower()
    with pytest.raises(ValueError, match="^rows "):
        ts.memory_table(rows[rows.schedule != "zb1p"])


def test_storage_table_shows_bytes_and_the_ratio():
    rows = pd.DataFrame({"bf16": [2 * 16384], "fp8": [16384 + 4]}, index=["one block"])
    html = _text(ts.storage_table(rows))
    assert "32,768" in html and "16,388" in html and "50.01%" in html
    with pytest.raises(ValueError, match="^rows "):
        ts.storage_table(pd.DataFrame({"bf16": [1]}))


def test_scale_format_table_shows_the_small_cost_of_powers_of_two():
    import torch

    w = torch.randn(128, 256, generator=torch.Generator().manual_seed(1)) * 0.02
    e = fp8.scale_format_errors(fp8.outlier_activations(16, 256, magnitude=1e4), w)
    t = ts.scale_format_table(e)
    html = _text(t)
    assert list(t.data.columns) == ["measure", "any scale (V3)", "power of two (V3.1, V3.2)"]
    assert "median error of a matrix product" in html and "e-0" not in html
    assert t.data.iloc[0, 2] > t.data.iloc[0, 1]  # rounding the scale up costs a little
    with pytest.raises(ValueError, match="^errors "):
        ts.scale_format_table(e.drop(columns="top_mean"))


@pytest.mark.parametrize("name", ["gantt", "bubbles", "outliers", "accumulation"])
def test_legends_sit_below_the_plot(charts, name):
    # at 390 px a legend beside or above the plot is cut off (issue 22)
    spec = charts[name][0].to_dict()
    spec.pop("config", None)  # the book's theme sets legend fonts for every chart
    legends = []

    def walk(node):
        if isinstance(node, dict):
            if "legend" in node and isinstance(node["legend"], dict):
                legends.append(node["legend"])
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(spec)
    assert legends and all(lg.get("orient") == "bottom" for lg in legends)
