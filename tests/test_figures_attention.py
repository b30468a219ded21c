"""figures.attention: valid specs, the controls the attention chapter binds, descriptions, size."""

from __future__ import annotations

import pytest

from explainer import attention
from explainer.controls import bound_params, check_bound
from explainer.data import read_csv
from explainer.figures import attention as fig
from explainer.figures._base import spec_bytes

BUDGET = 300_000  # bytes of JSON per chart (CHAPTER_PATTERN rule 1)


@pytest.fixture(scope="module")
def charts():
    bench = read_csv("attention_benchmark.csv")
    curve = read_csv("attention_sparse_retrieval.csv")
    # name -> (chart, controls the page binds)
    return {
        "cache_vs_context": (fig.cache_vs_context(bench), []),
        "decode_time": (fig.decode_time(bench), []),
        "cache_at_shape": (fig.cache_at_shape(), list(attention.SHAPE_CONTROLS)),
        "sparse_accuracy": (fig.sparse_accuracy(curve), [attention.TOP_K_LOG2]),
        "sparse_work": (fig.sparse_work(attention.work_curve()), []),
        "mla_cache_path": (fig.mla_cache_path(V3), []),
    }


V3 = attention.AttentionConfig.from_model("deepseek_v3_671b", max_seq_len=1)
NAMES = ["cache_vs_context", "decode_time", "cache_at_shape", "sparse_accuracy", "sparse_work",
         "mla_cache_path"]


@pytest.mark.parametrize("name", NAMES)
def test_spec_validates_has_a_description_and_fits_the_budget(charts, name):
    chart, controls = charts[name]
    spec = chart.to_dict()  # validates against Altair's Vega-Lite schema
    assert len(spec["description"]) > 40
    assert spec_bytes(chart) < BUDGET
    assert set(bound_params(chart)) == {c.name for c in controls}
    check_bound(chart, controls)


def test_shape_table_live_twin_runs_and_refuses_bad_shapes():
    table = fig.shape_table(**{c.name: c.default for c in attention.SHAPE_CONTROLS})
    assert list(table.data["design"]) == ["MHA", "GQA", "MQA", "MLA-naive", "MLA-absorb"]
    html = table.to_html()
    assert "e-1" not in html and "NaN" not in html and "—" in html  # human numbers, em dashes
    refused = fig.shape_table(n_heads=6, head_dim=8, qk_rope_head_dim=2, kv_lora_rank=16,
                              n_kv_groups=4)
    assert "n_kv_groups" in refused.data


def test_shape_chart_bars_are_linear_from_zero_with_room_for_labels():
    spec = fig.cache_at_shape().to_dict()
    x = spec["layer"][0]["encoding"]["x"] if "encoding" not in spec else spec["encoding"]["x"]
    assert x["scale"].get("type", "linear") == "linear" and x["scale"]["domainMin"] == 0
    assert "max(" in x["scale"]["domainMax"]["expr"]


def test_mla_cache_path_takes_its_numbers_from_the_config():
    spec = fig.mla_cache_path(V3).to_dict()
    text = str(spec)
    for n in ("40,960", "576", "latent c_KV: 512", "key: 64", "7,168"):
        assert n in text, n
    small = attention.AttentionConfig(n_heads=4, kv_lora_rank=32, qk_rope_head_dim=8)
    small_text = str(fig.mla_cache_path(small).to_dict())
    assert "latent c_KV: 32" in small_text and "40,960" not in small_text


def test_reader_tables_have_units_and_no_raw_numbers():
    elements = {"MHA": 40960.0, "MQA": 320.0, "MLA-absorb": 576.0}
    import pandas as pd

    html = fig.cache_table(pd.Series(elements)).to_html()
    assert "40,960" in html and "1.4%" in html
    curve = read_csv("attention_sparse_retrieval.csv")
    t = fig.retrieval_table(curve)
    assert list(t.data.columns) == ["sequence length (tokens)", "smallest k with 100% accuracy",
                                    "share of the sequence kept"]
    assert "1,024" in t.to_html()


def test_retrieval_at_live_twin_keeps_k_or_dense_rows():
    t = fig.retrieval_at(11)  # k = 2048: dense at 1K, 2048 at 4K and 16K
    kept = dict(zip(t.data["sequence length (tokens)"], t.data["k kept"]))
    assert kept == {1024: 1024, 4096: 2048, 16384: 2048}
    assert "k = 2,048" in t.caption and "%" in t.to_html()
