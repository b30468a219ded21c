"""figures.reasoning: valid specs, controls from the library, descriptions, size, live twin."""

from __future__ import annotations

import pytest

from explainer import reasoning
from explainer.data import read_csv
from explainer.figures import reasoning as fig
from figure_checks import check_controls, check_spec

BUDGET = 300_000  # bytes of JSON per chart (CHAPTER_PATTERN rule 1)


@pytest.fixture(scope="module")
def charts():
    results, prices = read_csv("reasoning_results.csv"), read_csv("prices.csv")
    return {
        "greedy_breakdown": (fig.greedy_breakdown(results), []),
        "sampling_curves": (fig.sampling_curves(results), [fig.SAMPLE_TEMPERATURE]),
        "price_of_thinking": (fig.price_of_thinking(results, prices),
                              [fig.PRICE_TEMPERATURE, fig.PRICE_LIST]),
        "temperature_sheet": (fig.temperature_sheet("48765+25937", {
            0.0: ["48765+25937=5+7+0=12;6+3+1=10;7+9+1=17;8+5+1=14;4+2+1=07>074702."],
            2.0: ["48765+25937=5+8+0=13;6+30>>09;7+9+0=16;8+5+1=14;4+2+1=06>074693.",
                  "48765+25937=074758."]}), []),
    }


NAMES = ["greedy_breakdown", "sampling_curves", "price_of_thinking", "temperature_sheet"]


@pytest.mark.parametrize("name", NAMES)
def test_spec_validates_has_a_description_and_fits_the_budget(charts, name):
    check_spec(charts[name][0], BUDGET)


@pytest.mark.parametrize("name", NAMES)
def test_chart_binds_exactly_its_declared_controls(charts, name):
    check_controls(*charts[name])


def test_temperature_sliders_reach_exactly_the_library_temperatures(charts):
    for s in (fig.SAMPLE_TEMPERATURE, fig.PRICE_TEMPERATURE):
        n = round((s.max - s.min) / s.step)
        assert tuple(round(s.min + i * s.step, 6) for i in range(n + 1)) == reasoning.TEMPERATURES
    spec = charts["sampling_curves"][0].to_dict()
    temps = {row["temperature"] for ds in spec["datasets"].values() for row in ds}
    assert temps == set(reasoning.TEMPERATURES)


def test_legend_labels_are_short_enough_not_to_be_cut(charts):
    for name in NAMES[:3]:
        spec = charts[name][0].to_dict()
        labels = {row.get("series") or row.get("way") for ds in spec["datasets"].values()
                  for row in ds}
        assert labels and max(len(str(x)) for x in labels) <= 22


def test_price_chart_costs_match_the_token_counts_times_the_price(charts):
    prices = read_csv("prices.csv").set_index("model")["output_usd_per_mtok"]
    spec = charts["price_of_thinking"][0].to_dict()
    rows = [row for ds in spec["datasets"].values() for row in ds]
    for row in rows[:50]:
        assert row["usd"] == pytest.approx(row["tokens_per_problem"] * prices[row["price_list"]])


def test_sampler_live_reports_for_a_temperature():
    text = fig.sampler_live(reasoning.load_pretrained("cot"), 1.0, n=10, k=4).data
    assert "temperature 1.00" in text and "majority vote right" in text


def test_marked_lines_mark_each_character_that_differs_from_the_textbook():
    # a wrong carry in the first step, and the answer misread in its third digit
    lines, masks, off = fig.marked_lines(
        "48765+25937", "48765+25937=5+7+9=12;6+3+1=10;7+9+1=17;8+5+1=14;4+2+1=07>073702.")
    assert lines == ["5+7+9=12;6+3+1=10;7+9+1=17;", "8+5+1=14;4+2+1=07>073702."]
    assert masks == ["00001" + "0" * 22, "0" * 20 + "1" + "0" * 4]
    assert off == 1
    # a direct answer: digit by digit against the right answer, no steps
    assert fig.marked_lines("48765+25937", "48765+25937=074758.") == (
        ["074758."], ["0000110"], 0)
    # a step laid out wrongly (a stray ">") is marked where it differs; the answer is after
    # the last ">"
    lines, masks, off = fig.marked_lines(
        "48765+25937", "48765+25937=5+8+0=13;6+30>>09;7+9+0=16;8+5+1=14;4+2+1=06>074693.")
    assert lines[1].endswith(">074693.") and off == 4


def test_answer_sheet_needs_its_columns():
    import pandas as pd

    with pytest.raises(ValueError, match="lacks columns"):
        fig.answer_sheet(pd.DataFrame({"problem": ["1+2"]}), title="t", subtitle="s")


def test_votes_table_shows_percentages_with_a_dash_for_what_the_paper_does_not_report():
    html = fig.votes_table(read_csv("reasoning_results.csv"),
                           read_csv("reasoning_reference.csv")).to_html()
    for text in ("71.0%", "86.7%", "42.7%", "100.0%", "—", "does not report"):
        assert text in html
    assert "nan" not in html.lower()


def test_price_table_prices_tokens_at_r1s_output_price():
    table = fig.price_table(read_csv("reasoning_results.csv"), read_csv("prices.csv"))
    assert list(table.data["tokens per problem"]) == [7, 52, 64 * 52]
    html = table.to_html()
    for text in ("$15.33", "$113.88", "$7,288", "3,328"):
        assert text in html
