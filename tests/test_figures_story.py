"""The story chapters' figures and tables: valid specs, the controls the pages bind,
descriptions, size, the timeline's eleven days, and tables made for readers."""

from __future__ import annotations

import pandas as pd
import pytest

from explainer import story
from explainer.controls import bound_params, check_bound
from explainer.figures import lean_lab, one_stack, sputnik
from explainer.figures._base import spec_bytes

BUDGET = 300_000  # bytes of JSON per chart (CHAPTER_PATTERN rule 1)


def _charts():
    # name -> (chart, params bound to an input, number of legend selections)
    return {
        "sputnik.timeline": (sputnik.timeline(story.load_events()), set(), 1),
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


def _layers(chart):
    return chart.to_dict()["layer"]


def test_timeline_counts_days_from_r1_and_shows_the_eleven_days():
    events = story.load_events()
    rows, span, height = sputnik._timeline_rows(events)
    assert span == story.moment_days(events) == 11
    by_start = {e[:12]: r for e, r in zip(rows["event"], rows.itertuples())}
    assert by_start["DeepSeek-R1 "].day == 0 and by_start["OpenAI relea"].day == span
    assert {r.day for r in rows.itertuples() if r.kind == "market"} == {7}
    # events outside the eleven days sit at the edges, as arrows, and say how far away they are
    outside = rows[~rows["in_window"]]
    assert set(outside["shape"]) == {"triangle-left", "triangle-right"}
    assert outside["label"].str.contains("days before|months after").all()
    assert rows["label"].iloc[0].startswith("26 Dec 2024, 25 days before")
    # labels are wrapped to whole lines that fit a phone, stacked without overlapping
    assert max(len(line) for lab in rows["label"] for line in lab.split("\n")) <= sputnik._WRAP
    assert (rows["y_dot"].diff().dropna() > 0).all() and height > rows["y_dot"].max()
    spec = CHARTS["sputnik.timeline"][0].to_dict()
    assert spec["width"] == "container" and spec["height"] == height
    texts = [d for d in spec["datasets"].values() if d and "text" in d[0]]
    assert texts == [[{"start": 0, "end": 11, "y": 26, "text": "the 11 days: R1 to o3-mini"}]]


def test_timeline_draws_no_zero_length_rule():
    rows, _, _ = sputnik._timeline_rows(story.load_events())
    drawn = rows[rows["in_window"] & (rows["day"] > 0)]  # the rule layer's filter
    assert len(drawn) == 3 and (drawn["pos"] > 0).all()


def test_event_table_is_for_readers():
    events = story.load_events()
    t = sputnik.event_table(events)
    assert list(t.data.columns) == ["date", "what happened", "source"]
    assert t.data["date"].iloc[0] == "26 Dec 2024" and len(t.data) == len(events)
    html = t.to_html()
    assert "secondary" in html and "NaN" not in html and "reported by" not in html
    releases = sputnik.event_table(events, ["release"])
    assert len(releases.data) == (events["kind"] == "release").sum()
    assert "secondary" not in releases.caption


def test_price_table_shows_dollars_and_multiples_of_r1():
    t = sputnik.price_table(story.price_multiples())
    html = t.to_html()
    for text in ("$0.55", "$2.19", "$60", "27.4×", "OpenAI o1 *", "secondary"):
        assert text in html, text
    assert list(t.data.columns) == ["model", "input", "output", "output price, × R1's"]


def test_stack_and_author_tables_are_for_readers():
    stack = one_stack.stack_table(story.stack_prices())
    html = stack.to_html()
    assert "$0.27" in html and "$2.19" in html and "deepseek-reasoner" in html
    assert list(stack.data.columns)[0] == "model"
    totals = lean_lab.totals_table(story.author_totals())
    assert list(totals.data.columns) == ["paper", "entries", "names", "marked as left",
                                         "also on V3"]
    assert totals.data["paper"].tolist() == ["DeepSeek-V2 (May 2024)", "DeepSeek-V3 (Dec 2024)",
                                             "DeepSeek-R1 (Jan 2025)"]
    assert not totals.data.isna().any().any() and not pd.isna(stack.data).any().any()


def test_policy_chart_keeps_its_axis_width_when_the_sliders_move():
    axis = CHARTS["one_stack.policy"][0].to_dict()["encoding"]["y"]["axis"]
    assert axis["minExtent"] == axis["maxExtent"]  # labels may widen; the plot must not move
