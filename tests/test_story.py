"""Tests for explainer.story: the story chapters' computations, checked by hand and on grids."""

from __future__ import annotations

import itertools
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from explainer import costs, story

# toy prices (US dollars per million tokens) so the hand computations do not depend on data/
TOY = pd.DataFrame(
    {"api_model": ["chat", "reasoner"], "input_usd_per_mtok": [1.0, 3.0],
     "output_usd_per_mtok": [2.0, 5.0], "note": ["", ""]},
    index=pd.Index(["DeepSeek-V3", "DeepSeek-R1"], name="model"))


def _vega(expr: str, **names) -> float:
    """Evaluate one of our arithmetic-only Vega expressions (same syntax as Python's)."""
    return eval(expr, {"__builtins__": {}}, names)  # noqa: S307 (our own expressions)


def test_api_cost_expr_agrees_with_api_cost_usd_on_a_grid():
    expr = story.api_cost_expr("i", "o", "datum.pi", "datum.po")
    for i, o, pi, po in itertools.product([0, 1, 777, 20_000], [0, 5, 30_000],
                                          [0.07, 0.55, 15.0], [1.1, 60.0]):
        got = _vega(expr, i=i, o=o, datum=SimpleNamespace(pi=pi, po=po))
        assert got == pytest.approx(costs.api_cost_usd(i, o, pi, po), rel=1e-12)


def test_policy_costs_by_hand():
    # chat: 1000 * (500 * 1 + 400 * 2) / 1e6 = 1.3
    # reasoner: 1000 * (500 * 3 + 3400 * 5) / 1e6 = 18.5
    df = story.policy_costs(500, 400, 3000, shares=[0.0, 0.1, 1.0], prices=TOY)
    usd = df.set_index(["policy", "share"])["usd"]
    chat, always, routed = story.POLICIES
    assert usd[(chat, 0.1)] == pytest.approx(1.3)
    assert usd[(always, 0.1)] == pytest.approx(18.5)
    assert usd[(routed, 0.0)] == pytest.approx(1.3)
    assert usd[(routed, 0.1)] == pytest.approx(0.1 * 18.5 + 0.9 * 1.3)
    assert usd[(routed, 1.0)] == pytest.approx(18.5)


def test_policy_table_is_policy_costs_wide():
    wide = story.policy_table(500, 400, 3000, shares=[0.0, 0.5], prices=TOY)
    assert list(wide.columns) == list(story.POLICIES) and list(wide.index) == [0.0, 0.5]
    assert wide.loc[0.5, story.POLICIES[2]] == pytest.approx(0.5 * 18.5 + 0.5 * 1.3)


def test_policy_expressions_agree_with_policy_costs_on_a_grid():
    prices = costs.load_prices()
    exprs = story.policy_cost_exprs("datum.share", prices=prices)
    grid = itertools.product([50, 1234, 5000], [50, 400, 4000], [0, 3000, 30000])
    for p, a, t in grid:
        df = story.policy_costs(p, a, t, shares=[0.0, 0.35, 1.0], prices=prices)
        for _, row in df.iterrows():
            got = _vega(exprs[row["policy"]], prompt_tok=p, answer_tok=a, think_tok=t,
                        datum=SimpleNamespace(share=row["share"]))
            assert got == pytest.approx(row["usd"], rel=1e-12)


def test_policy_costs_reject_out_of_range_input():
    with pytest.raises(ValueError, match="think_tok must be in"):
        story.policy_costs(500, 400, -1)
    with pytest.raises(ValueError, match="prompt_tok must be in"):
        story.policy_costs(10**6, 400, 0)
    with pytest.raises(ValueError, match="shares must be fractions"):
        story.policy_costs(500, 400, 0, shares=[0.5, 1.5])


def test_bill_per_1k_by_hand_and_checked():
    prices = TOY.rename(index={"DeepSeek-V3": "a", "DeepSeek-R1": "b"})
    bill = story.bill_per_1k(1000, 4000, ("a", "b"), prices=prices)
    # a: 1000 * (1000 * 1 + 4000 * 2) / 1e6 = 9; b: 1000 * (1000 * 3 + 4000 * 5) / 1e6 = 23
    assert bill.to_dict() == pytest.approx({"a": 9.0, "b": 23.0})
    with pytest.raises(ValueError, match="in_tok must be in"):
        story.bill_per_1k(0, 4000)
    with pytest.raises(ValueError, match="models must be one of"):
        story.bill_per_1k(1000, 4000, ("nobody",))


@pytest.mark.parametrize("model", ["OpenAI o1", "OpenAI o3-mini"])
def test_bill_ratio_range_bounds_every_request(model):
    lo, hi = story.bill_ratio_range(model)
    assert lo <= hi
    rng = np.random.default_rng(0)
    for i, o in zip(rng.integers(100, 20_001, 50), rng.integers(100, 30_001, 50)):
        bills = story.bill_per_1k(int(i), int(o), ("DeepSeek-R1", model))
        assert lo - 1e-12 <= bills[model] / bills["DeepSeek-R1"] <= hi + 1e-12


def test_price_multiples_start_at_one_and_match_the_prices():
    table = story.price_multiples()
    assert list(table.index) == list(story.BILL_MODELS)
    assert table.iloc[0][["input × first", "output × first"]].tolist() == [1.0, 1.0]
    o1 = table.loc["OpenAI o1"]
    assert o1["output × first"] == pytest.approx(
        o1["output_usd_per_mtok"] / table.iloc[0]["output_usd_per_mtok"])


def test_events_are_sorted_and_attributed():
    ev = story.load_events()
    assert ev["date"].is_monotonic_increasing
    assert ev["reported by"].notna().all() and ev["source"].notna().all()
    o3 = ev.loc[ev["event"].str.startswith("OpenAI releases o3"), "date"].iloc[0]
    r1 = ev.loc[ev["event"].str.startswith("DeepSeek-R1 and"), "date"].iloc[0]
    assert story.moment_days(ev) == (o3 - r1).days > 0
    with pytest.raises(ValueError, match="exactly one event"):
        story.event_date(ev, "DeepSeek")  # several events start with it
    pct, usd = story.nvidia_drop(ev)
    assert pct < 0 and usd < 0


def test_event_table_shows_dates_as_text_and_filters_kinds():
    ev = story.load_events()
    releases = story.event_table(ev, ["release"])
    assert list(releases.columns) == ["date", "event", "reported by", "source"]
    assert len(releases) == (ev["kind"] == "release").sum()
    assert releases["date"].str.fullmatch(r"\d{4}-\d{2}-\d{2}").all()
    assert len(story.event_table(ev)) == len(ev)
    with pytest.raises(ValueError, match="kinds must be one of"):
        story.event_table(ev, ["rumour"])


def test_arxiv_months_between():
    assert story.arxiv_months_between("2405.04434", "2412.19437") == 7
    assert story.arxiv_months_between("2412.19437", "2501.12948") == 1
    with pytest.raises(ValueError, match="arXiv id"):
        story.arxiv_months_between("2413.00001", "2501.12948")


def test_team_facts_are_consistent_with_the_author_table():
    f = story.team_facts()
    totals = story.author_totals()
    assert list(totals.index) == list(story.PAPERS)
    assert f.v3_names <= f.v3_entries and f.r1_in_v3 <= f.r1_names
    # every V3 name is either on V2 or new
    assert f.v3_new_names + totals.loc["DeepSeek-V2", "names_also_in_v3"] == f.v3_names
    roles = story.author_roles()
    assert "all roles" not in set(roles["role"])
    assert roles.groupby("paper")["entries"].sum().to_dict() == totals["entries"].to_dict()
    assert f.re_growth == pytest.approx(f.re_v3 / f.re_v2 - 1)
    assert story.r1_names_on_v3() == pytest.approx(f.r1_in_v3 / f.r1_names)


def test_scratchpad_lengths_count_the_completion_only():
    lengths = story.scratchpad_lengths(20, digits=5, seed=1)
    # direct: a 6-digit padded sum and the end mark, e.g. "000579."
    assert (lengths["direct"] == 7).all()
    assert (lengths["cot"] > lengths["direct"]).all()
    assert lengths.equals(story.scratchpad_lengths(20, digits=5, seed=1))


@pytest.mark.parametrize("call, name", [
    (lambda: story.policy_costs(500, 400, 3000, shares=(0.5, float("nan"))), "shares"),
    (lambda: story.policy_costs(500, 400, 3000, shares="ab"), "shares"),
    (lambda: story.policy_costs(500, 400, 3000, prices="prices.csv"), "prices"),
    (lambda: story.policy_costs(500, 400, 3000, prices=TOY.drop(index="DeepSeek-R1")), "prices"),
    (lambda: story.bill_per_1k(True, 4000), "in_tok"),
    (lambda: story.bill_per_1k(1000, 4000, models="DeepSeek-R1"), "models"),
    (lambda: story.bill_per_1k(1000, 4000, models=()), "models"),
    (lambda: story.bill_ratio_range("GPT-9"), "model"),
    (lambda: story.event_table("events"), "events"),
    (lambda: story.event_table(story.load_events(), kinds="release"), "kinds"),
    (lambda: story.event_date(story.load_events(), ""), "starts_with"),
    (lambda: story.moment_days(pd.DataFrame()), "events"),
    (lambda: story.scratchpad_lengths(0), "n"),
    (lambda: story.scratchpad_lengths(3, digits=True), "digits"),
    (lambda: story.scratchpad_lengths(3, seed=2**70), "seed"),
    (lambda: story.arxiv_months_between(2405.04434, "2412.19437"), "first"),
    (lambda: story.api_cost_expr("in_tok", None, "1", "2"), "output_tokens"),
])
def test_bad_arguments_are_named(call, name):
    with pytest.raises(ValueError, match=f"^{name} "):
        call()
