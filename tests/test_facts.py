"""Tests for explainer.facts: each story fact against a hand computation from the sources."""

from __future__ import annotations

import pytest

from explainer import facts


def test_v3_bill_is_table_1():
    bill = facts.training_bill("DeepSeek-V3")
    # V3 report Table 1: 2664K + 119K + 5K H800 GPU-hours at $2
    assert list(bill.stages.index) == ["pre-training", "context extension", "post-training"]
    assert bill.gpu_hours == 2_788_000
    assert bill.usd == 5_576_000
    assert bill.usd_per_gpu_hour == 2.0
    assert (bill.stages["usd"] == bill.stages["reported_usd"]).all()
    assert bill.share("pre-training") == pytest.approx(2664 / 2788)
    assert bill.days_on(2048) == pytest.approx(2_788_000 / 2048 / 24)
    total = bill.with_total().loc["total"]
    assert total["gpu_hours"] == 2_788_000 and total["usd_per_gpu_hour"] == 2.0


def test_bill_rejects_unknown_model_and_stage():
    with pytest.raises(ValueError, match="model must be one of"):
        facts.training_bill("DeepSeek-V2")  # V2 gives only a rate, no priced stages
    with pytest.raises(ValueError, match="stage must be one of"):
        facts.training_bill().share("fine-tuning")
    with pytest.raises(ValueError, match="n_gpus"):
        facts.training_bill().days_on(0)


def test_training_compute_uses_the_hours_the_flops_were_spent_in():
    comp = facts.training_compute()
    v3 = comp.loc["DeepSeek-V3"]
    assert v3["flops_6nd"] == pytest.approx(6 * 37e9 * 14.8e12)
    assert v3["gpu_hours"] == 2_664_000 and v3["hours_basis"] == "pre-training"
    # 3.2856e24 / (2.664e6 h * 3600 s) / 989.4 TFLOP/s
    assert v3["mfu"] == pytest.approx(3.2856e24 / (2.664e6 * 3600 * 989.4e12))
    assert comp.loc["DeepSeek-V2", "gpu_hours"] == pytest.approx(172_800 * 8.1)
    assert comp.loc["Llama 3.1 405B", "hours_basis"] == "reported total"
    assert comp.loc["Llama 3.1 405B", "mfu"] == pytest.approx(
        6 * 405e9 * 15e12 / (30.84e6 * 3600 * 989.4e12))
    fp8 = facts.training_compute("fp8")
    assert fp8.loc["DeepSeek-V3", "mfu"] == pytest.approx(v3["mfu"] * 989.4 / 1978.9)
    with pytest.raises(ValueError, match="precision"):
        facts.training_compute("fp4")


def test_reported_mfu_is_the_llama_3_papers_table_4():
    m = facts.reported_mfu("Llama 3.1 405B")
    assert list(m["mfu"]) == [0.43, 0.41, 0.38]
    assert list(m["tflops_per_gpu"]) == [430, 400, 380]
    # Meta's TFLOP/s per GPU over the H100's BF16 dense peak is its MFU, to the point it prints
    peak = 989.4
    assert ((m["tflops_per_gpu"] / peak - m["mfu"]).abs() < 0.01).all()
    assert facts.reported_mfu().index.names == ["model", "stage"]
    # measured, not derived: the estimate from total GPU-hours lies below every measurement
    assert facts.training_compute().loc["Llama 3.1 405B", "mfu"] < m["mfu"].min()
    with pytest.raises(ValueError, match="model must be one of"):
        facts.reported_mfu("DeepSeek-V3")  # DeepSeek published no measured MFU


def test_one_tenth_both_ways():
    r = facts.one_tenth()
    assert r.loc["GPU-hours (reported)", "ratio"] == pytest.approx(2.788 / 30.84)
    assert r.loc["training FLOPs (6·N·D)", "ratio"] == pytest.approx(
        (37e9 * 14.8e12) / (405e9 * 15e12))
    published = r.loc["training FLOPs (6·N·D vs published)", "ratio"]
    assert published == pytest.approx(3.2856e24 / 3.8e25)
    assert r["ratio"].between(0.08, 0.1).all()
    with pytest.raises(ValueError, match="reference"):
        facts.one_tenth(reference="Llama 2")


def test_api_price_gap_is_the_96_percent():
    gap = facts.api_price_gap()
    # R1 $0.55 / $2.19 against o1 $15 / $60 per million tokens
    assert gap.loc["input", "less"] == pytest.approx(1 - 0.55 / 15)
    assert gap.loc["output", "less"] == pytest.approx(1 - 2.19 / 60)
    assert round(gap.loc["input", "less"], 2) == round(gap.loc["output", "less"], 2) == 0.96
    assert gap.loc["output", "times"] == pytest.approx(60 / 2.19)
    v3_r1 = facts.api_price_gap("DeepSeek-V3", "DeepSeek-R1")
    assert v3_r1.loc["output", "times"] == pytest.approx(2.19 / 1.10)
    with pytest.raises(ValueError, match="model must be one of"):
        facts.api_price_gap("GPT-5")


def test_seed_table_check_against_6nd():
    chk = facts.seed_table_check()
    assert list(chk.index) == ["DeepSeek-V2", "GPT-4", "Llama 3 405B"]
    assert chk.loc["DeepSeek-V2", "article_over_6nd"] == pytest.approx(5e24 / (6 * 21e9 * 8.1e12))
    assert chk.loc["Llama 3 405B", "article_over_6nd"] == pytest.approx(3e25 / (6 * 405e9 * 15e12))
    assert chk.loc["GPT-4", "article_over_6nd"] == pytest.approx(2e25 / (6 * 277e9 * 13e12))
    v2, llama = chk.loc["DeepSeek-V2"], chk.loc["Llama 3 405B"]
    assert v2["article_usd_per_mtok"] == v2["input_usd_per_mtok"]
    assert llama["article_mmlu"] == 87.8 and llama["mmlu_5shot"] == 85.2


def test_projected_run_inverts_the_measured_mfu():
    comp = facts.training_compute()
    mfu = comp.loc["DeepSeek-V3", "mfu"]
    # V3's own FLOPs at V3's MFU must give back its pre-training hours and dollars
    back = facts.projected_run(comp.loc["DeepSeek-V3", "flops_6nd"], mfu=mfu, usd_per_gpu_hour=2.0)
    assert back["gpu_hours"] == pytest.approx(2_664_000) and back["usd"] == pytest.approx(5_328_000)
    nxt = facts.projected_run(1e26, mfu=mfu, usd_per_gpu_hour=2.0)
    assert nxt["gpu_hours"] == pytest.approx(2_664_000 * 1e26 / 3.2856e24)
    with pytest.raises(ValueError, match="mfu"):
        facts.projected_run(1e26, mfu=1.5, usd_per_gpu_hour=2.0)
    with pytest.raises(ValueError, match="gpu must be one of"):
        facts.projected_run(1e26, mfu=0.3, usd_per_gpu_hour=2.0, gpu="TPU")


def test_benchmark_gaps_all_ten():
    g = facts.benchmark_gaps()
    assert len(g) == 10 and g.index[0] == "AIME 2024" and g.index[-1] == "SimpleQA"
    assert g.loc["Aider-Polyglot", "gap"] == pytest.approx(53.3 - 61.7)
    assert g.loc["DROP", "gap"] == pytest.approx(92.2 - 90.2)
    s = facts.benchmark_summary(g)
    # R1 ahead on AIME, MATH-500, LiveCodeBench, SWE-bench, DROP; widest: SimpleQA 30.1 vs 47.0
    assert (s["n"], s["model_ahead"], s["reference_ahead"]) == (10, 5, 5)
    assert s["widest"] == "SimpleQA" and s["widest_gap"] == pytest.approx(-16.9)
    assert facts.benchmark_summary(g, near=1.0)["near"] == 4
    with pytest.raises(ValueError, match="near"):
        facts.benchmark_summary(g, near=0)


def test_with_attention_raises_v3_more_than_llama():
    w = facts.with_attention()
    # V3: 3·61·4096·128·(192+128) per token against 6·37e9;
    # Llama: 3·126·8192·128·256 against 6·405e9
    assert w.loc["DeepSeek-V3", "attention"] == 3 * 61 * 4096 * 128 * 320
    share = w.loc["DeepSeek-V3", "attention_share"]
    assert share == pytest.approx(3 * 61 * 4096 * 128 * 320 / 222e9)
    assert w.loc["Llama 3.1 405B", "attention"] == 3 * 126 * 8192 * 128 * 256
    assert w.loc["DeepSeek-V3", "attention_share"] > 3 * w.loc["Llama 3.1 405B", "attention_share"]
    comp = facts.training_compute()
    assert w.loc["DeepSeek-V3", "mfu_with_attention"] == pytest.approx(
        comp.loc["DeepSeek-V3", "mfu"] * (1 + w.loc["DeepSeek-V3", "attention_share"]))


def test_era_multiples_are_not_all_five_to_ten():
    m = facts.era_multiples()
    assert m.loc["Avg. Model Size (Chinese AI)", "low"] == pytest.approx(5)
    assert m.loc["Avg. Training Compute", "high"] == pytest.approx(10)
    assert m.loc["AI Hardware Self-Sufficiency", "low"] == pytest.approx(2)  # 20% -> 40%
    assert m.loc["Number of AI Startups (China)", "low"] == pytest.approx(800 / 1500)
    # inference cost: $0.10-0.50 -> $0.50-5.00, anywhere from 1x to 50x
    assert (m.loc["Inference Cost (per 1M tokens)", ["low", "high"]] == [1.0, 50.0]).all()


def test_scale_references_and_valuation_years():
    r = facts.scale_references()
    assert r.loc["DeepSeek-V3 (6·N·D)", "flops"] == pytest.approx(6 * 37e9 * 14.8e12)
    assert r.loc["article: DeepSeek Next", "flops"] == 1e26
    assert set(r["kind"]) == {"documented", "article's figure"}
    v = facts.load_seed_valuations()
    assert v.loc["DeepSeek", "valuation_year"] == v.loc["ByteDance", "valuation_year"] == 2026
