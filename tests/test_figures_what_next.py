"""explainer.figures.what_next: charts with descriptions, reader-ready tables."""

from __future__ import annotations

import re

from explainer import outcomes
from explainer.data import load_sources
from explainer.figures import what_next


def _cells(styler) -> list[str]:
    return re.findall(r">([^<>]*)</td>", styler.to_html())


def test_charts_build_and_describe_themselves():
    charts = [what_next.timeline(outcomes.load_releases()),
              what_next.activation_chart(outcomes.activation_table()),
              what_next.price_chart(outcomes.load_prices()),
              what_next.verdict_chart(outcomes.verdict_counts(outcomes.load_outcomes()))]
    for chart in charts:
        spec = chart.to_dict()
        assert len(spec["description"]) > 40


def test_price_chart_names_its_log_scale():
    spec = what_next.price_chart(outcomes.load_prices()).to_dict()
    assert "log scale" in str(spec)


def test_activation_table_prints_human_numbers_and_a_dash():
    cells = _cells(what_next.activation_table(outcomes.activation_table()))
    assert "1.57 trillion" in cells and "1.6 trillion" in cells and "3.2%" in cells
    assert "—" in cells and "nan" not in " ".join(cells).lower().split()


def test_compute_table_shows_the_share_of_1e26():
    cells = _cells(what_next.compute_table(outcomes.training_flops()))
    assert "9.7 × 10²⁴" in cells and "9.7%" in cells and "90.1" in cells


def test_price_table_keeps_deepseeks_precision():
    cells = _cells(what_next.price_table(outcomes.load_prices()))
    assert "$0.435" in cells and "$0.003625" in cells and "$1.32" in cells


def test_outcomes_table_has_every_prediction_and_no_raw_missing_values():
    styler = what_next.outcomes_table(outcomes.load_outcomes(), load_sources())
    assert len(styler.data) == 20
    html = styler.to_html()
    assert "ledger C088" in html and "(secondary)" in html and ">None<" not in html
