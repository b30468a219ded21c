"""The primer's figures: valid specs, descriptions, size, and the data they draw."""

from __future__ import annotations

import pandas as pd
import pytest

from explainer import architecture, costs
from explainer.controls import bound_params
from explainer.figures import primer
from explainer.figures._base import spec_bytes

BUDGET = 300_000  # bytes of JSON per chart (CHAPTER_PATTERN rule 1)
NAMES = ["DeepSeek-V2", "DeepSeek-V3", "Llama 3.1 405B"]


def _kv_gb() -> pd.Series:
    kv = costs.kv_cache_table({"DeepSeek-V3": architecture.load_config("deepseek_v3_671b")})
    return kv.set_index("attention")["bytes per token"].loc[["MHA", "GQA", "MLA"]] * 131072 / 1e9


def _charts():
    return {"parameters": primer.parameters(costs.load_models(), NAMES),
            "kv_cache": primer.kv_cache(_kv_gb(), "DeepSeek-V3", 131072)}


@pytest.mark.parametrize("name", ["parameters", "kv_cache"])
def test_spec_validates_has_a_description_binds_nothing_and_fits(name):
    chart = _charts()[name]
    chart.to_dict(validate=True)
    assert len(chart.description) > 40
    assert bound_params(chart) == {}
    assert spec_bytes(chart) < BUDGET


def test_parameter_chart_draws_total_and_activated_billions_from_the_data():
    models = costs.load_models()
    data = _charts()["parameters"].data
    assert list(data["model"]) == ["DeepSeek-V2 (moe)", "DeepSeek-V3 (moe)", "Llama 3.1 405B (dense)"]
    assert list(data["total parameters"]) == list(models.loc[NAMES, "total_params"] / 1e9)
    assert data.loc[1, "label"] == "37B of 671B"
    assert data.loc[2, "activated per token"] == data.loc[2, "total parameters"]  # dense


def test_kv_cache_chart_labels_each_design_and_highlights_mla():
    data = _charts()["kv_cache"].data
    assert list(data["design"]) == ["MHA", "GQA", "MLA"]
    assert list(data["kind"]) == ["other", "other", "MLA"]
    assert data["GB"].iloc[0] / data["GB"].iloc[2] > 56  # MHA over MLA at V3's size


def test_bad_input_is_refused_with_the_parameter_named():
    with pytest.raises(ValueError, match="names must be rows of models"):
        primer.parameters(costs.load_models(), ["GPT-5"])
    with pytest.raises(ValueError, match="gb must hold positive"):
        primer.kv_cache(pd.Series({"MLA": 0.0}), "DeepSeek-V3", 4096)
