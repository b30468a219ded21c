"""Tests for explainer.architecture: config validation and parameter counts by hand."""

from __future__ import annotations

import pytest

from explainer import architecture


def test_config_missing_or_unknown_field_is_rejected():
    d = architecture.load_config("toy").__dict__.copy()
    del d["kv_lora_rank"]
    with pytest.raises(ValueError, match=r"missing field\(s\) \['kv_lora_rank'\]"):
        architecture.param_counts(d)
    d["kv_lora_rank"] = 16
    d["n_kv_heads"] = 4
    with pytest.raises(ValueError, match="unknown field"):
        architecture.ModelConfig.from_dict(d)
    d.pop("n_kv_heads")
    d["n_activated_experts"] = 9
    with pytest.raises(ValueError, match="n_activated_experts"):
        architecture.ModelConfig.from_dict(d)
    d["n_activated_experts"] = 2
    d["dim"] = 0
    with pytest.raises(ValueError, match="dim"):
        architecture.ModelConfig.from_dict(d)
    with pytest.raises(ValueError, match="name must be one of"):
        architecture.load_config("gpt5")


# --------------------------------------------------------------------------- params
def test_param_counts_toy_by_hand():
    p = architecture.param_counts(architecture.load_config("toy"))
    # MLA per layer: wq_a 64·32 + wq_b 32·4·24 + wkv_a 64·24 + wkv_b 16·4·32 + wo 4·16·64
    assert p["attention"] == 4 * (2048 + 3072 + 1536 + 2048 + 4096) == 51_200
    assert p["dense_ffn"] == 3 * 64 * 256 == 49_152
    assert p["routed_experts"] == 3 * 8 * (3 * 64 * 32) == 147_456
    assert p["shared_experts"] == 3 * 1 * 6144 == 18_432
    assert p["gates"] == 3 * (8 * 64 + 8) == 1_560  # weight + bias (gate_bias)
    assert p["norms"] == 4 * (64 + 64 + 32 + 16) + 64 == 768
    assert p["embedding"] == p["head"] == 64_000
    assert p["total"] == 396_568
    assert p["activated_routed_experts"] == 3 * 2 * 6144
    assert p["activated"] == 396_568 - 147_456 + 36_864 == 285_976


def test_param_counts_v3_reproduce_published_sizes():
    p = architecture.param_counts(architecture.load_config("deepseek_v3_671b"))
    assert p["total"] == 671_026_419_200
    assert abs(p["total"] - 671e9) / 671e9 < 0.005  # "671B", rounded to a whole billion
    # "37B" activated; our count includes the 0.93B embedding and 0.93B head
    assert abs(p["activated"] - 37e9) / 37e9 < 0.03
    assert p["embedding"] == 129_280 * 7168


def test_param_counts_v2_reproduce_published_sizes():
    p = architecture.param_counts(architecture.load_config("deepseek_v2_236b"))
    assert abs(p["total"] - 236e9) / 236e9 < 0.005
    assert abs(p["activated"] - 21e9) / 21e9 < 0.03
    assert p["dense_ffn"] == 3 * 5120 * 12288  # one dense layer


def test_param_counts_without_query_compression_uses_wq():
    d = architecture.load_config("toy").__dict__.copy()
    d["q_lora_rank"] = 0
    p = architecture.param_counts(d)
    # wq 64·4·24 replaces wq_a + wq_b; q_norm disappears from the norms
    assert p["attention"] == 4 * (6144 + 1536 + 2048 + 4096)
    assert p["norms"] == 4 * (64 + 64 + 16) + 64


def test_v3_config_carries_deepseek_group_routing_fields():
    c = architecture.load_config("deepseek_v3_671b")
    # config_671B.json: 8 expert groups, tokens routed within at most 4 of them
    assert (c.n_expert_groups, c.n_limited_groups) == (8, 4)
    assert (c.n_routed_experts, c.n_activated_experts) == (256, 8)


@pytest.mark.parametrize("overrides, field", [
    ({"dim": True}, "dim"),
    ({"vocab_size": 2**70}, "vocab_size"),
    ({"score_func": "nope"}, "score_func"),
    ({"route_scale": float("inf")}, "route_scale"),
    ({"dtype": "fp4"}, "dtype"),
    ({"gate_bias": "yes"}, "gate_bias"),
    ({"n_expert_groups": 3}, "n_expert_groups"),  # 8 experts do not split in 3 groups
    ({"n_expert_groups": 2, "n_limited_groups": 3}, "n_limited_groups"),
    ({"name": 7}, "name"),
])
def test_every_config_field_is_checked(overrides, field):
    d = {**architecture.load_config("toy").__dict__, **overrides}
    with pytest.raises(ValueError, match=field):
        architecture.ModelConfig(**d)


def test_numpy_ints_become_python_ints():
    import numpy as np

    d = {**architecture.load_config("toy").__dict__, "dim": np.int64(64)}
    assert type(architecture.ModelConfig(**d).dim) is int


@pytest.mark.parametrize("config", [None, "toy", 3])
def test_param_counts_names_a_config_of_the_wrong_type(config):
    with pytest.raises(ValueError, match="^config must be"):
        architecture.param_counts(config)
