"""The primer's figures: valid specs, descriptions, size, the data they draw, and diagrams
whose text stays on a phone-width canvas."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from explainer import architecture, costs
from explainer.controls import bound_params
from explainer.figures import primer
from explainer.figures._base import spec_bytes

BUDGET = 300_000  # bytes of JSON per chart (CHAPTER_PATTERN rule 1)
NAMES = ["DeepSeek-V2", "DeepSeek-V3", "Llama 3.1 405B"]
DIAGRAMS = ["language_model", "attention", "reasoning", "moe", "mtp", "grpo", "distillation"]


def _kv_gb() -> pd.Series:
    kv = costs.kv_cache_table({"DeepSeek-V3": architecture.load_config("deepseek_v3_671b")})
    return kv.set_index("attention")["bytes per token"].loc[["MHA", "GQA", "MLA"]] * 131072 / 1e9


def _charts():
    return {"parameters": primer.parameters(costs.load_models(), NAMES),
            "kv_cache": primer.kv_cache(_kv_gb(), "DeepSeek-V3", 131072),
            **{name: getattr(primer, name)() for name in DIAGRAMS}}


def _layer_data(chart, mark: str) -> pd.DataFrame:
    """The data of the first layer drawing ``mark`` (diagram layers carry their own data)."""
    return next(layer.data for layer in chart.layer
                if getattr(layer.mark, "type", layer.mark) == mark)


@pytest.mark.parametrize("name", ["parameters", "kv_cache", *DIAGRAMS])
def test_spec_validates_has_a_description_binds_nothing_and_fits(name):
    chart = _charts()[name]
    chart.to_dict(validate=True)
    assert len(chart.description) > 40
    assert bound_params(chart) == {}
    assert spec_bytes(chart) < BUDGET


def test_parameter_chart_draws_total_and_activated_billions_from_the_data():
    models = costs.load_models()
    data = _charts()["parameters"].data
    assert list(data["model"]) == ["DeepSeek-V2 (MoE)", "DeepSeek-V3 (MoE)",
                                   "Llama 3.1 405B (dense)"]
    assert list(data["total parameters"]) == list(models.loc[NAMES, "total_params"] / 1e9)
    assert data.loc[1, "label"] == "DeepSeek-V3 (MoE): 37B of 671B per token"
    assert data.loc[2, "label"] == "Llama 3.1 405B (dense): all 405B"
    assert data.loc[2, "activated per token"] == data.loc[2, "total parameters"]  # dense


def test_kv_cache_chart_labels_each_design_and_highlights_mla():
    data = _charts()["kv_cache"].data
    assert list(data["design"]) == ["MHA", "GQA", "MLA"]
    assert list(data["kind"]) == ["other", "other", "MLA"]
    assert data.loc[2, "label"] == f"MLA: {data.loc[2, 'GB']:,.1f} GB"
    assert data["GB"].iloc[0] / data["GB"].iloc[2] > 56  # MHA over MLA at V3's size


@pytest.mark.parametrize("name", ["parameters", "kv_cache"])
def test_bars_compared_by_length_start_at_zero_on_a_linear_scale(name):
    spec = _charts()[name].to_dict()
    x = spec["layer"][0]["encoding"]["x"]
    assert x["scale"]["domain"][0] == 0 and x["scale"].get("type", "linear") == "linear"


@pytest.mark.parametrize("name", DIAGRAMS)
def test_diagram_boxes_have_area_and_text_stays_on_the_phone_canvas(name):
    chart = _charts()[name]
    boxes = _layer_data(chart, "rect")
    assert ((boxes["x2"] - boxes["x"]) > 0).all() and ((boxes["y2"] - boxes["y"]) > 0).all()
    texts = pd.concat([layer.data for layer in chart.layer
                       if getattr(layer.mark, "type", layer.mark) == "text"]).drop_duplicates()
    for _, t in texts.iterrows():
        # an estimate of the widest line: 0.55 em per character (system sans measures ~0.5)
        width = max(len(line) for line in t["text"].split("\n")) * 0.55 * t["size"]
        align = t["style"].split("-")[0]
        left = {"left": t["x"], "center": t["x"] - width / 2, "right": t["x"] - width}[align]
        assert left >= -1 and left + width <= primer.DESIGN_WIDTH + 1, (name, t["text"])
    assert chart.to_dict()["usermeta"] == {"explainer": {"diagram": True}}


def test_attention_weights_are_a_softmax_of_the_matches():
    w = primer.attention_weights([0.0, np.log(3.0)])
    assert np.allclose(w, [0.25, 0.75])
    example = primer.ATTENTION_EXAMPLE
    w = primer.attention_weights(example["match"])
    assert abs(w.sum() - 1) < 1e-12 and example["token"][int(w.argmax())] == "cat"
    assert f"{w.max():.0%}" == "60%"
    bars = _layer_data(primer.attention(), "rect")
    weight_bars = bars[bars["fill_opacity"] > 0.5]  # the solid bars are the weights
    assert np.allclose((weight_bars["x2"] - weight_bars["x"]).to_numpy() / 190, w)


def test_bad_input_is_refused_with_the_parameter_named():
    with pytest.raises(ValueError, match="names must be rows of models"):
        primer.parameters(costs.load_models(), ["GPT-5"])
    with pytest.raises(ValueError, match="gb must hold positive"):
        primer.kv_cache(pd.Series({"MLA": 0.0}), "DeepSeek-V3", 4096)
    with pytest.raises(ValueError, match="match must hold finite scores"):
        primer.attention_weights([1.0, float("nan")])
    with pytest.raises(ValueError, match="example must have columns token and match"):
        primer.attention(pd.DataFrame({"token": ["it"], "match": [1.0]}))
