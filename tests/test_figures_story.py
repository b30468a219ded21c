"""The story chapters' figures: valid specs, the controls the pages bind, descriptions, size."""

from __future__ import annotations

import pytest

from explainer import facts, story
from explainer.controls import bound_params, check_bound
from explainer.figures import lean_lab, one_stack, sputnik
from explainer.figures._base import spec_bytes

BUDGET = 300_000  # bytes of JSON per chart (CHAPTER_PATTERN rule 1)


def _charts():
    # name -> (chart, params bound to an input, number of legend selections)
    return {
        "sputnik.timeline": (sputnik.timeline(story.load_events()), set(), 1),
        "sputnik.tenth": (sputnik.tenth(facts.one_tenth()), {"measure"}, 0),
        "sputnik.bill": (sputnik.bill(story.price_multiples()), {"in_tok", "out_tok"}, 0),
        "sputnik.bill_at": (sputnik.bill_at(1000, 4000), set(), 0),
        "lean_lab.team": (lean_lab.team(story.author_roles()), set(), 1),
        "one_stack.policy": (one_stack.policy(), {"prompt_tok", "answer_tok", "think_tok"}, 0),
        "one_stack.policy_at": (one_stack.policy_at(500, 400, 3000), set(), 0),
    }


CHARTS = _charts()


@pytest.mark.parametrize("name", sorted(CHARTS))
def test_spec_validates_has_a_description_and_fits_the_budget(name):
    chart = CHARTS[name][0]
    chart.to_dict(validate=True)
    assert len(chart.description) > 40
    assert spec_bytes(chart) < BUDGET


@pytest.mark.parametrize("name", sorted(CHARTS))
def test_chart_binds_exactly_the_params_its_chapter_relies_on(name):
    chart, inputs, legends = CHARTS[name]
    bound = bound_params(chart)
    assert {n for n, p in bound.items() if p["bind"] != "legend"} == inputs
    assert sum(p["bind"] == "legend" for p in bound.values()) == legends


def test_static_charts_bind_their_controls_as_declared():
    check_bound(CHARTS["sputnik.bill"][0], story.BILL_CONTROLS)
    check_bound(CHARTS["one_stack.policy"][0], story.POLICY_CONTROLS)
    check_bound(CHARTS["sputnik.tenth"][0], [sputnik.MEASURE])


def test_measure_options_are_the_measures_of_one_tenth():
    assert list(sputnik.MEASURE.options) == list(facts.one_tenth().index)


def test_policy_chart_computes_in_the_browser_with_the_library_expressions():
    spec = CHARTS["one_stack.policy"][0].to_dict()
    calc = [t for t in spec["transform"] if "calculate" in t]
    assert {t["as"]: t["calculate"] for t in calc} == story.policy_cost_exprs("datum.share")


def test_bill_chart_computes_in_the_browser_with_the_library_expression():
    spec = CHARTS["sputnik.bill"][0].to_dict()
    (calc,) = [t for t in spec["transform"] if "calculate" in t]
    assert calc["calculate"] == "1000 * " + story.api_cost_expr(
        "in_tok", "out_tok", "datum.input_usd_per_mtok", "datum.output_usd_per_mtok")


def test_descriptions_state_numbers_true_of_the_data():
    tenth = facts.one_tenth()["ratio"]
    assert f"{tenth.min():.1%}" in CHARTS["sputnik.tenth"][0].description
    lo, hi = story.bill_ratio_range("OpenAI o1")
    assert f"{lo:.3g} to {hi:.3g} times R1's" in CHARTS["sputnik.bill"][0].description
    per_paper = story.author_totals()["entries"]
    team = CHARTS["lean_lab.team"][0].description
    assert f"from {per_paper.min()} to {per_paper.max()} entries" in team


def test_live_charts_recompute_for_new_values():
    a = sputnik.bill_at(100, 100).to_dict()["datasets"]
    b = sputnik.bill_at(20000, 30000).to_dict()["datasets"]
    assert a != b
    lines = one_stack.policy_at(50, 50, 0).data
    assert set(lines["policy"]) == set(story.POLICIES)
