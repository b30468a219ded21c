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
    _check(fig.by_depth(results["benchmark"], results["v3"]))


def test_passage_html_marks_accepted_drafts_with_two_cues():
    out = fig.passage_html("ab", "c<d", [False, True, False]).data
    assert out.count('<span class="mtp-accepted">') == 1 + 1  # one character, one in the legend
    assert '<span class="mtp-accepted">&lt;</span>' in out  # escaped
    assert "text-decoration:underline" in out and "background" in out  # colour and underline
    with pytest.raises(ValueError, match="marks"):
        fig.passage_html("ab", "cd", [True])


def test_shipped_passage_matches_the_model(results):
    p = results["passage"]
    context, text, marks, _ = mtp.passage(p.prompt.iloc[0])
    assert text == "".join(p.char) and marks == list(p.accepted_draft)


def test_live_passage_reports_bad_characters():
    out = fig.passage_live("caf\u00e9")
    assert "outside the vocabulary" in out.data
    assert "mtp-passage" in fig.passage_live(fig.PROMPT.default).data


def test_loss_legend_names_the_runs_only(results):
    # the finals once sat in the legend and a phone cut them off: they belong in the text
    spec = fig.held_out_curves(results["log"]).to_dict()
    labels = {row["run"] for rows in spec["datasets"].values() for row in rows}
    assert labels == {"next token only", "with MTP, depth 1", "with MTP, depth 2"}


@pytest.mark.parametrize("call, name", [
    (lambda r: fig.module_diagram(0), "n_layer"),
    (lambda r: fig.module_diagram(2.5), "n_layer"),
    (lambda r: fig.held_out_curves("log"), "log"),
    (lambda r: fig.by_depth(r["benchmark"].drop(columns="speedup"), r["v3"]), "bench"),
    (lambda r: fig.by_depth(r["benchmark"], "v3"), "v3"),
])
def test_bad_input_names_the_parameter(results, call, name):
    with pytest.raises(ValueError, match=rf"^{name} "):
        call(results)
