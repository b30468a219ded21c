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
    }


NAMES = ["cache_vs_context", "decode_time", "cache_at_shape", "sparse_accuracy", "sparse_work"]


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
    assert list(table.index) == ["MHA", "GQA", "MQA", "MLA-naive", "MLA-absorb"]
    refused = fig.shape_table(n_heads=6, head_dim=8, qk_rope_head_dim=2, kv_lora_rank=16,
                              n_kv_groups=4)
    assert "n_kv_groups" in refused.data


def test_retrieval_at_live_twin_keeps_k_or_dense_rows():
    t = fig.retrieval_at(11)  # k = 2048: dense at 1K, 2048 at 4K and 16K
    assert t["top_k"].to_dict() == {1024: 1024, 4096: 2048, 16384: 2048}
