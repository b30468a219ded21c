"""explainer.outcomes and explainer.architecture_v4: the predictions' outcomes and V4's counts."""

from __future__ import annotations

import pandas as pd
import pytest

from explainer import architecture_v4, outcomes
from explainer.claims import load_claims


def test_every_ledger_projection_has_an_outcome_with_a_source():
    found = outcomes.load_outcomes()
    assert outcomes.missing_projection_outcomes(found, load_claims()) == []
    assert (found["source_id"] != "").all() and (found["checked"] == "2026-12-03").all()


def test_unknown_outcomes_say_what_was_searched():
    found = outcomes.load_outcomes()
    unknown = found[found["verdict"] == "unknown"]
    assert len(unknown) > 0 and unknown["searched"].str.contains("search tool").all()


def test_verdict_counts_cover_every_verdict_in_order():
    counts = outcomes.verdict_counts(outcomes.load_outcomes())
    assert list(counts.index) == list(outcomes.VERDICTS) and counts.sum() == 20


def test_missing_projection_outcomes_names_the_rows_without_one():
    found = outcomes.load_outcomes()
    claims = load_claims().reset_index()
    extra = claims.iloc[:1].assign(claim_id="C999", verdict="projection")
    assert outcomes.missing_projection_outcomes(found, pd.concat([claims, extra])) == ["C999"]


@pytest.mark.parametrize("name, total, activated, without_embedding", [
    ("deepseek_v4_flash_284b", 284.3, 13.8, 13.3),   # card: 284B, 13B
    ("deepseek_v4_pro_1600b", 1573.0, 49.8, 48.9),   # card: 1.6T, 49B
])
def test_v4_counts_match_the_model_cards(name, total, activated, without_embedding):
    c = architecture_v4.v4_param_counts(architecture_v4.load_v4_config(name))
    assert round(c["total"] / 1e9, 1) == total
    assert round(c["activated"] / 1e9, 1) == activated
    assert round(c["activated_without_embedding"] / 1e9, 1) == without_embedding


def test_v4_pro_with_its_mtp_block_matches_the_checkpoint_total():
    c = architecture_v4.v4_param_counts(architecture_v4.load_v4_config("deepseek_v4_pro_1600b"))
    # main model + MTP block: 1,598.84B, the sum an independent review of the checkpoint gives
    assert round((c["total"] + c["mtp_total"]) / 1e9, 2) == 1598.84


def test_v4_counter_on_a_tiny_config_by_hand():
    tiny = {"vocab_size": 10, "dim": 4, "moe_inter_dim": 2, "n_layers": 1, "n_hash_layers": 1,
            "n_heads": 2, "n_routed_experts": 3, "n_shared_experts": 1, "n_activated_experts": 1,
            "q_lora_rank": 2, "head_dim": 4, "rope_head_dim": 2, "o_groups": 1, "o_lora_rank": 2,
            "index_n_heads": 1, "index_head_dim": 2, "hc_mult": 1, "compress_ratios": [0, 0]}
    c = architecture_v4.v4_param_counts(tiny)
    # attention: sink 2 + wq_a 8 + q_norm 2 + wq_b 16 + wkv 16 + kv_norm 4 + wo_a 16 + wo_b 8
    assert c["attention"] == 72
    expert = 3 * 4 * 2
    assert (c["routed_experts"], c["shared_experts"], c["gates"]) == (3 * expert, expert, 12)
    assert c["activated"] == c["total"] - 2 * expert


def test_v4_config_checks_its_layer_list():
    c = architecture_v4.load_v4_config("deepseek_v4_flash_284b")
    with pytest.raises(ValueError, match="n_layers \\+ 1"):
        architecture_v4.v4_param_counts(dict(c, compress_ratios=c["compress_ratios"][:-1]))
    with pytest.raises(ValueError, match="one of"):
        architecture_v4.load_v4_config("deepseek_v5")


def test_v32_adds_an_indexer_to_v3():
    c = architecture_v4.v32_param_counts()
    assert round(c["indexer"] / 1e9, 2) == 0.85 and round(c["total"] / 1e9) == 672


def test_activation_share_falls_from_v2_to_v4_pro():
    share = outcomes.activation_table()["share"]
    assert share["DeepSeek-V2"] > share["DeepSeek-V3"] > share["DeepSeek-V4-Flash"] > share["DeepSeek-V4-Pro"]


def test_training_flops_by_six_n_d():
    f = outcomes.training_flops()
    assert f.loc["DeepSeek-V4-Pro", "flops"] == pytest.approx(6 * 49e9 * 33e12)
    assert f.loc["DeepSeek-V4-Pro", "flops"] < 1e26


def test_prices_and_releases_are_in_date_order():
    assert outcomes.load_prices()["as_of"].is_monotonic_increasing
    assert outcomes.load_releases()["date"].is_monotonic_increasing


@pytest.mark.parametrize("change, word", [
    (lambda c: c.update(dim="7168"), "dim"),
    (lambda c: c.update(n_layers=0), "n_layers"),
    (lambda c: c.update(compress_ratios=4), "compress_ratios"),
    (lambda c: c.update(o_groups=7), "o_groups"),
])
def test_v4_config_fields_are_checked(change, word):
    c = architecture_v4.load_v4_config("deepseek_v4_flash_284b")
    change(c)
    with pytest.raises(ValueError, match=word):
        architecture_v4.v4_param_counts(c)


@pytest.mark.parametrize("frame, name", [("x", "outcomes"), (pd.DataFrame(), "outcomes")])
def test_outcome_functions_name_a_bad_frame(frame, name):
    with pytest.raises(ValueError, match=f"^{name} must be a DataFrame"):
        outcomes.verdict_counts(frame)
    with pytest.raises(ValueError, match="^claims must be a DataFrame"):
        outcomes.missing_projection_outcomes(outcomes.load_outcomes(), frame)
