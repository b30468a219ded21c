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
    }


NAMES = ["greedy_breakdown", "sampling_curves", "price_of_thinking"]


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
    for name in NAMES:
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
