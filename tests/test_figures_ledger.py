"""Figures of the ledger and the verdicts page: charts that fit a phone, tables for people."""

import html

import pytest

from explainer import claims
from explainer.figures import ledger as figures
from explainer.figures._base import spec_bytes


@pytest.fixture(scope="module")
def ledger():
    return claims.load_claims(check_seeds=False)


def test_totals_chart_draws_one_linear_bar_per_verdict_with_room_for_its_label(ledger):
    spec = figures.totals_chart(ledger).to_dict()
    bars, labels = spec["layer"]
    assert bars["mark"]["type"] == "bar" and labels["mark"]["type"] == "text"
    enc = bars["encoding"]
    x = enc["x"]
    assert x["scale"].get("type", "linear") == "linear"  # bars compared by length
    top = claims.verdict_totals(ledger)["claims"].max()
    assert x["scale"]["domain"][0] == 0 and x["scale"]["domain"][1] >= 1.3 * top
    assert enc["y"]["sort"] == list(claims.VERDICTS)
    assert labels["encoding"]["text"]["field"] == "label"
    rows = spec["datasets"][spec["data"]["name"]]
    assert [r["verdict"] for r in rows] == list(claims.VERDICTS)
    assert all(r["claims"] > 0 for r in rows)  # no empty bar
    supported = next(r for r in rows if r["verdict"] == "supported")
    assert supported["label"] == f"{supported['claims']} ({supported['share']:.0%})"
    assert str(len(ledger)) in spec["title"]["text"] and "supported" in spec["description"]


def test_verdicts_chart_fits_a_phone(ledger):
    spec = figures.verdicts_chart(ledger).to_dict()
    articles = {r["article"] for r in spec["datasets"][spec["data"]["name"]]}
    assert articles == {"000 OpenAI talent", "001 rift at OpenAI", "002 Sputnik moment",
                        "003 origins", "004 scale pivot"}
    assert max(len(a) for a in articles) <= 20  # short labels, never ellipsised at 390 px
    legend = spec["encoding"]["color"]["legend"]
    assert legend["orient"] == "bottom" and legend["columns"] == 1  # narrower than the plot
    assert all(len(line) <= 30 for line in legend["title"])
    assert all(len(line) <= 30 for line in spec["title"]["subtitle"])
    assert spec["params"][0]["bind"] == "legend"
    assert spec_bytes(figures.verdicts_chart(ledger)) < 300_000


def test_verdict_table_gives_each_verdict_its_meaning_count_and_share(ledger):
    styler = figures.verdict_table(ledger)
    assert list(styler.data.columns) == ["verdict", "what it means", "claims", "share"]
    assert list(styler.data["verdict"]) == list(claims.VERDICTS)
    assert styler.data["claims"].sum() == len(ledger)
    page = styler.to_html()
    n = claims.verdict_totals(ledger).loc["supported", "claims"]
    assert f">{n}<" in page and f">{n / len(ledger):.0%}<" in page
    assert "nan" not in page.lower() and "None" not in page


def test_support_and_wrong_tables_are_for_people(ledger):
    support = figures.support_table(ledger)
    assert list(support.data.columns) == ["verdict", "primary", "secondary only", "neither",
                                          "all claims"]
    assert support.data["all claims"].sum() == len(ledger)
    wrong = figures.wrong_table(ledger)
    assert list(wrong.data.columns) == ["claim", "the article said", "what the source says"]
    assert len(wrong.data) == (ledger["verdict"] == "wrong").sum()
    page = wrong.to_html()
    longest = max(ledger.loc[ledger["verdict"] == "wrong", "primary_says"], key=len)
    assert longest in html.unescape(page)  # full cell text
    for styler in (support, wrong):
        assert "nan" not in styler.to_html().lower()


def test_arithmetic_table_shows_the_recomputed_figures(ledger):
    styler = figures.arithmetic_table(claims.recomputed_claims(ledger))
    assert list(styler.data.columns) == ["claim", "quantity", "the article says",
                                         "recomputed here", "ledger verdict"]
    page = styler.to_html()
    assert "1.02 × 10²⁴ FLOPs" in page and "$1.75 billion" in page
