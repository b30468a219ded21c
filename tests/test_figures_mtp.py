"""figures.mtp: specs validate, carry descriptions, stay small; the passage HTML marks drafts."""

from __future__ import annotations

import pytest

from explainer import mtp
from explainer.figures import mtp as fig
from explainer.figures._base import spec_bytes


@pytest.fixture(scope="module")
def results():
    return mtp.load_results()


def _check(chart, budget=60_000):
    spec = chart.to_dict()  # validates against the Vega-Lite schema
    assert len(spec.get("description", "")) > 20
    assert spec_bytes(chart) < budget


def test_charts(results):
    _check(fig.module_diagram())
    _check(fig.held_out_curves(results["log"]))
    _check(fig.acceptance_by_class(results["acceptance"]))
    _check(fig.against_v3(results["benchmark"], results["v3"]))
    _check(fig.step_costs(results["benchmark"]))
    _check(fig.size_trend(results["trend"]))


def test_size_trend_table_has_both_seeds(results):
    html = fig.size_trend_table(results["trend"]).to_html()
    assert "seed 1 (nats/char)" in html and "12 blocks, width 48" in html
    assert "nan" not in html.lower()


def test_passage_html_marks_accepted_drafts_with_two_cues():
    out = fig.passage_html("ab", "c<d", [False, True, False]).data
    assert out.count('<span class="mtp-accepted">') == 1 + 1  # one character, one in the legend
    assert '<span class="mtp-accepted">&lt;</span>' in out  # escaped
    assert "text-decoration:underline" in out and "background" in out  # colour and underline
    with pytest.raises(ValueError, match="marks"):
        fig.passage_html("ab", "cd", [True])


def test_shipped_passage_matches_the_model(results):
    for t, p in results["passage"].groupby("temperature"):
        context, text, marks, _ = mtp.passage(p.prompt.iloc[0], temperature=t)
        assert text == "".join(p.char) and marks == list(p.accepted_draft)


def test_live_passage_reports_bad_characters():
    out = fig.passage_live("caf\u00e9")
    assert "outside the vocabulary" in out.data
    assert "mtp-passage" in fig.passage_live(fig.PROMPT.default).data


def test_loss_legend_names_the_runs_only(results):
    # the finals once sat in the legend and a phone cut them off: they belong in the text
    spec = fig.held_out_curves(results["log"]).to_dict()
    labels = {row["run"] for rows in spec["datasets"].values() for row in rows}
    assert labels == {"next token only", "with MTP, depth 1"}


@pytest.mark.parametrize("call, name", [
    (lambda r: fig.module_diagram(0), "n_layer"),
    (lambda r: fig.module_diagram(2.5), "n_layer"),
    (lambda r: fig.held_out_curves("log"), "log"),
    (lambda r: fig.against_v3(r["benchmark"].drop(columns="speedup"), r["v3"]), "bench"),
    (lambda r: fig.against_v3(r["benchmark"], "v3"), "v3"),
    (lambda r: fig.step_costs(r["benchmark"].drop(columns="draft_ms")), "bench"),
    (lambda r: fig.size_trend(r["trend"].drop(columns="seed")), "trend"),
])
def test_bad_input_names_the_parameter(results, call, name):
    with pytest.raises(ValueError, match=rf"^{name} "):
        call(results)
