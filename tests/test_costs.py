"""Tests for explainer.costs: hand-computed values, bad input, and scaling properties."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from explainer import architecture, costs
from explainer.data import load_sources


# --------------------------------------------------------------------------- compute
def test_training_flops_is_six_n_d():
    assert costs.training_flops(2, 3) == 36.0
    # DeepSeek-V3: 6 * 37e9 * 14.8e12 = 3.2856e24
    assert costs.training_flops(37e9, 14.8e12) == pytest.approx(3.2856e24, rel=1e-12)


def test_training_flops_accepts_arrays():
    out = costs.training_flops(np.array([1.0, 2.0]), 10)
    assert isinstance(out, np.ndarray)
    np.testing.assert_array_equal(out, [60.0, 120.0])


def test_inference_flops_per_token_is_two_n():
    assert costs.inference_flops_per_token(37e9) == 74e9
    np.testing.assert_array_equal(costs.inference_flops_per_token(np.array([1, 5])), [2.0, 10.0])


def test_gpu_hours_divides_by_peak_mfu_and_seconds():
    # 3600 * 1e12 FLOPs on a 1e12 FLOP/s GPU at 50% MFU: 2 hours
    assert costs.gpu_hours(3.6e15, 1e12, 0.5) == pytest.approx(2.0, rel=1e-15)
    assert costs.gpu_hours(7.2e15, 2e12, 1.0) == pytest.approx(1.0, rel=1e-15)


def test_training_cost_reproduces_v3_table_1():
    # 2,788K H800 GPU-hours at $2 = $5.576M (V3 report Table 1)
    assert costs.training_cost_usd(2_788_000, 2.0) == 5_576_000.0
    assert costs.training_cost_usd(2_664_000, 2.0) == 5_328_000.0


@pytest.mark.parametrize(
    ("kind", "extra", "elements_per_layer"),
    [
        ("mha", {}, 2 * 128 * 128),  # 2·n_h·d_h
        ("gqa", {"n_kv_groups": 8}, 2 * 8 * 128),  # 2·n_g·d_h
        ("mqa", {}, 2 * 128),  # 2·d_h
        ("mla", {"kv_lora_rank": 512, "qk_rope_head_dim": 64}, 512 + 64),  # d_c + d_h^R
    ],
)
def test_kv_cache_matches_v2_table_1(kind, extra, elements_per_layer):
    got = costs.kv_cache_bytes_per_token(kind, n_layers=60, n_heads=128, head_dim=128, **extra)
    assert got == elements_per_layer * 60 * 2


def test_kv_cache_mla_equals_gqa_with_2_25_groups_at_v2_sizes():
    # V2 report: MLA's cache ≈ (9/2)·d_h·l, i.e. GQA with 2.25 groups
    mla = costs.kv_cache_bytes_per_token("mla", n_layers=60, n_heads=128, head_dim=128,
                                         kv_lora_rank=512, qk_rope_head_dim=64)
    assert mla == 4.5 * 128 * 60 * 2


def test_kv_cache_bytes_per_element_scales():
    kw = dict(n_layers=2, n_heads=4, head_dim=8)
    assert costs.kv_cache_bytes_per_token("mha", **kw, bytes_per_element=1) == 2 * 4 * 8 * 2
    assert costs.kv_cache_bytes_per_token("mqa", **kw, bytes_per_element=4) == 2 * 8 * 2 * 4


# --------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("bad", [0, -1, float("nan"), float("inf"), "x", np.array([1.0, 0.0])])
def test_training_flops_rejects_non_positive(bad):
    with pytest.raises(ValueError, match="active_params"):
        costs.training_flops(bad, 1e12)
    with pytest.raises(ValueError, match="tokens"):
        costs.training_flops(1e9, bad)


@pytest.mark.parametrize("mfu", [0, -0.1, 1.01, 2])
def test_gpu_hours_rejects_mfu_outside_unit_interval(mfu):
    with pytest.raises(ValueError, match=r"mfu must lie in \(0, 1\]|mfu must be finite and > 0"):
        costs.gpu_hours(1e20, 1e15, mfu)


def test_gpu_hours_accepts_mfu_of_one():
    assert costs.gpu_hours(3.6e15, 1e12, 1) == pytest.approx(1.0)


def test_cost_rejects_bad_price_and_hours():
    with pytest.raises(ValueError, match="usd_per_gpu_hour"):
        costs.training_cost_usd(10, 0)
    with pytest.raises(ValueError, match="gpu_hours"):
        costs.training_cost_usd(-5, 2)
    with pytest.raises(ValueError, match="peak_flops_per_gpu"):
        costs.gpu_hours(1e20, 0, 0.5)
    with pytest.raises(ValueError, match="active_params"):
        costs.inference_flops_per_token(0)


def test_kv_cache_rejects_unknown_kind_and_missing_fields():
    kw = dict(n_layers=2, n_heads=4, head_dim=8)
    with pytest.raises(ValueError, match="kind must be one of"):
        costs.kv_cache_bytes_per_token("mxa", **kw)
    with pytest.raises(ValueError, match="n_kv_groups"):
        costs.kv_cache_bytes_per_token("gqa", **kw)
    with pytest.raises(ValueError, match=r"n_kv_groups must be in \[1, n_heads=4\]"):
        costs.kv_cache_bytes_per_token("gqa", **kw, n_kv_groups=5)
    with pytest.raises(ValueError, match="kv_lora_rank"):
        costs.kv_cache_bytes_per_token("mla", **kw, kv_lora_rank=16)
    with pytest.raises(ValueError, match="n_layers"):
        costs.kv_cache_bytes_per_token("mha", n_layers=0, n_heads=4, head_dim=8)
    with pytest.raises(ValueError, match="head_dim"):
        costs.kv_cache_bytes_per_token("mha", n_layers=1, n_heads=4, head_dim=2.5)


# --------------------------------------------------------------------------- what-if JS
def _eval_vega_arithmetic(expr: str, values: dict[str, float]) -> float:
    """Evaluate the (pure arithmetic) Vega expression in Python."""
    assert re.fullmatch(r"[\w\s.*/+()-]+", expr), expr  # no function calls beyond arithmetic
    return eval(expr, {"__builtins__": {}}, dict(values))  # noqa: S307 - checked above


@pytest.mark.parametrize(
    "point",
    [
        (2.0, 0.3463, 14.8, 37.0, 989.4),
        (1.0, 1.0, 1.0, 1.0, 1.0),
        (4.5, 0.05, 30.0, 405.0, 1978.9),
    ],
)
def test_what_if_expression_agrees_with_library(point):
    values = dict(zip(costs.WHAT_IF_PARAMS, point))
    js_side = _eval_vega_arithmetic(costs.what_if_cost_expr(), values)
    assert js_side == pytest.approx(costs.what_if_cost_usd(*point), rel=1e-12)


def test_what_if_reproduces_v3_pretraining_at_its_implied_mfu():
    flops = costs.training_flops(37e9, 14.8e12)
    mfu = flops / (2_664_000 * 3600 * 989.4e12)
    assert costs.what_if_cost_usd(2.0, mfu, 14.8, 37.0, 989.4) == pytest.approx(5_328_000, rel=1e-9)


# --------------------------------------------------------------------------- data
@pytest.mark.parametrize("loader", [costs.load_models, costs.load_training_runs,
                                    costs.load_prices, costs.load_seed_table,
                                    costs.load_gpus, costs.load_clusters])
def test_tables_carry_resolving_source_ids(loader):
    df = loader()
    assert "source_id" in df.columns and df["source_id"].notna().all()
    known = set(load_sources().index)
    ids = set(df["source_id"].str.split(";").explode().str.strip())
    assert ids <= known


def test_v3_stages_add_up_to_table_1_total():
    v3 = costs.load_training_runs().loc["DeepSeek-V3"]
    assert v3["gpu_hours"].sum() == 2_788_000
    assert v3["reported_usd"].sum() == 5_576_000
    models = costs.load_models()
    assert models.loc["DeepSeek-V3", "gpu_hours"] == v3["gpu_hours"].sum()


def test_configs_match_models_table_to_a_billion():
    models = costs.load_models()
    for name, model in [("deepseek_v2_236b", "DeepSeek-V2"), ("deepseek_v3_671b", "DeepSeek-V3")]:
        p = architecture.param_counts(architecture.load_config(name))
        assert round(p["total"] / 1e9) == models.loc[model, "total_params"] / 1e9


# --------------------------------------------------------------------------- properties
_pos = st.floats(min_value=1e-3, max_value=1e6, allow_nan=False, allow_infinity=False)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(n=_pos, d=_pos, k=st.floats(min_value=0.1, max_value=100))
def test_costs_scale_linearly_in_tokens_and_params(n, d, k):
    base = costs.training_flops(n, d)
    assert math.isclose(costs.training_flops(k * n, d), k * base, rel_tol=1e-12)
    assert math.isclose(costs.training_flops(n, k * d), k * base, rel_tol=1e-12)
    usd = costs.what_if_cost_usd(2.0, 0.4, d, n, 989.4)
    assert math.isclose(costs.what_if_cost_usd(2.0, 0.4, k * d, n, 989.4), k * usd, rel_tol=1e-12)
    assert math.isclose(costs.what_if_cost_usd(2.0, 0.4, d, k * n, 989.4), k * usd, rel_tol=1e-12)


@settings(max_examples=40, deadline=None, derandomize=True)
@given(n_layers=st.integers(1, 128), n_heads=st.integers(1, 256), head_dim=st.integers(1, 256))
def test_kv_cache_order_mha_ge_gqa_ge_mqa(n_layers, n_heads, head_dim):
    kw = dict(n_layers=n_layers, n_heads=n_heads, head_dim=head_dim)
    mha = costs.kv_cache_bytes_per_token("mha", **kw)
    gqa = costs.kv_cache_bytes_per_token("gqa", **kw, n_kv_groups=max(1, n_heads // 2))
    mqa = costs.kv_cache_bytes_per_token("mqa", **kw)
    assert mha >= gqa >= mqa
    assert costs.kv_cache_bytes_per_token("gqa", **kw, n_kv_groups=1) == mqa
    assert costs.kv_cache_bytes_per_token("gqa", **kw, n_kv_groups=n_heads) == mha


def test_api_cost_bills_thinking_as_output_tokens():
    # R1 list prices: $0.55 in, $2.19 out per million; 500 prompt + (400 answer + 3,000 thinking)
    expected = (500 * 0.55 + 3400 * 2.19) / 1e6
    assert costs.api_cost_usd(500, 3400, 0.55, 2.19) == pytest.approx(expected)
    assert costs.api_cost_usd(0, 1_000_000, 1.0, 2.19) == pytest.approx(2.19)
    got = costs.api_cost_usd(np.array([0, 1e6]), 0, 0.55, 2.19)
    assert np.allclose(got, [0.0, 0.55])


@pytest.mark.parametrize("kwargs, name", [
    (dict(input_tokens=-1, output_tokens=0, usd_per_m_input=1, usd_per_m_output=1), "input_tokens"),
    (dict(input_tokens=0, output_tokens=float("nan"), usd_per_m_input=1, usd_per_m_output=1),
     "output_tokens"),
    (dict(input_tokens=0, output_tokens=0, usd_per_m_input=0, usd_per_m_output=1),
     "usd_per_m_input"),
])
def test_api_cost_rejects_bad_input(kwargs, name):
    with pytest.raises(ValueError, match=name):
        costs.api_cost_usd(**kwargs)


def test_loaders_are_indexed_the_way_chapters_read_them():
    assert costs.load_models().index.name == "model"
    assert costs.load_prices().index.name == "model"
    assert costs.load_seed_table().index.name == "model"
    assert costs.load_gpus().index.name == "gpu"
    assert costs.load_clusters().loc["documented", "gpus"] == 2048
    runs = costs.load_training_runs()
    assert runs.index.names == ["model", "stage"]
    assert runs.loc[("DeepSeek-V3", "pre-training"), "gpu_hours"] == 2_664_000


def test_costs_still_exports_the_architecture_names_older_callers_use():
    assert costs.load_config is architecture.load_config
    assert costs.param_counts is architecture.param_counts
    assert costs.ModelConfig is architecture.ModelConfig


def test_attention_flops_is_kaplans_term_for_plain_multi_head_attention():
    # Kaplan et al. 2020 Table 1: forward 2·n_layer·n_ctx·d_attn, training 3x that
    n_layer, n_ctx, n_heads, d_head = 12, 1024, 12, 64
    got = costs.attention_training_flops_per_token(n_layer, n_ctx, n_heads, d_head, d_head)
    assert got == 6 * n_layer * n_ctx * (n_heads * d_head)
    # half of PaLM's 12·L·H·Q·T, which counts the whole window
    assert got == 12 * n_layer * n_heads * d_head * n_ctx / 2
    with pytest.raises(ValueError, match="seq_len"):
        costs.attention_training_flops_per_token(2, 0, 2, 8, 8)


@pytest.mark.parametrize("point", [(2.0, 0.346, 14.8, 37.0, 989.4, 2048),
                                   (9.5, 0.05, 450.0, 1999.0, 1978.9, 100_000)])
def test_browser_expressions_agree_with_library(point):
    usd, mfu, tok, act, peak, n = point
    env = dict(zip(costs.WHAT_IF_PARAMS, point[:5]), n_gpus=n)
    flops = _eval_vega_arithmetic(costs.what_if_flops_expr(), env)
    assert flops == pytest.approx(costs.training_flops(act * 1e9, tok * 1e12), rel=1e-12)
    hours = _eval_vega_arithmetic(costs.gpu_hours_expr(costs.what_if_flops_expr()), env)
    assert hours == pytest.approx(costs.gpu_hours(flops, peak * 1e12, mfu), rel=1e-12)
    days_expr = costs.days_expr(costs.gpu_hours_expr(costs.what_if_flops_expr()))
    days = _eval_vega_arithmetic(days_expr, env)
    assert days == pytest.approx(hours / n / 24, rel=1e-12)


def test_what_if_defaults_are_v3_pretraining_from_the_data():
    from explainer import facts

    v3 = facts.training_compute().loc["DeepSeek-V3"]
    gpus = costs.load_gpus().loc["H800"]
    assert costs.MFU.default == round(v3["mfu"], 3)
    assert costs.TOKENS.default == v3["training_tokens"] / 1e12
    assert costs.ACTIVE_PARAMS.default == v3["active_params"] / 1e9
    assert costs.PEAK.options == (round(gpus["peak_bf16_dense_flops"] / 1e12, 1),
                                  round(gpus["peak_fp8_dense_flops"] / 1e12, 1))
    assert costs.PRICE.default == facts.training_bill().usd_per_gpu_hour
    assert costs.N_GPUS.default == costs.load_clusters().loc["documented", "gpus"]
    assert costs.what_if_cost_usd(*(c.default for c in costs.WHAT_IF_CONTROLS)) == pytest.approx(
        5_328_000, rel=2e-3)


def test_kv_cache_table_has_every_design_per_model():
    from explainer import architecture

    t = costs.kv_cache_table({"V3": architecture.load_config("deepseek_v3_671b")})
    assert list(t["attention"]) == ["MHA", "GQA", "MQA", "MLA"]
    assert t.set_index("attention").loc["MLA", "bytes per token"] == (512 + 64) * 61 * 2
