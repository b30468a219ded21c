"""Controls declared once: the page's Vega-Lite param and the JupyterLab widget agree."""

import pytest

from explainer.controls import Button, Choice, Slider, Text, bound_params


def test_a_slider_gives_the_same_range_to_the_page_and_the_widget():
    s = Slider("usd", "$ per GPU-hour", 0.5, 8.0, 0.1, default=2.0)
    p = s.param().param.to_dict()
    assert p == {"name": "usd", "value": 2.0,
                 "bind": {"input": "range", "min": 0.5, "max": 8.0, "step": 0.1,
                          "name": "$ per GPU-hour "}}
    w = s.widget()
    assert (w.min, w.max, w.step, w.value, w.description) == (0.5, 8.0, 0.1, 2.0, "$ per GPU-hour")
    assert type(w).__name__ == "FloatSlider" and w.readout_format == ".1f"
    assert type(Slider("k", "k", 1, 8, 1, default=2).widget()).__name__ == "IntSlider"


def test_a_choice_gives_the_same_options_and_labels_to_both():
    c = Choice("peak", "GPU peak", (989.5, 1979.0), 989.5, labels=("BF16", "FP8"))
    bind = c.param().param.to_dict()["bind"]
    assert bind == {"input": "select", "options": [989.5, 1979.0], "labels": ["BF16", "FP8"],
                    "name": "GPU peak "}
    assert c.widget().options == (("BF16", 989.5), ("FP8", 1979.0))
    radio = Choice("layer", "layer", (1, 2), 2, radio=True)
    assert radio.param().param.to_dict()["bind"]["input"] == "radio"
    assert type(radio.widget()).__name__ == "RadioButtons"


@pytest.mark.parametrize("kwargs, word", [
    (dict(min=5, max=1, step=1, default=2), "min"),
    (dict(min=0, max=1, step=0, default=0.5), "step"),
    (dict(min=0, max=1, step=0.1, default=2), "default"),
    (dict(min=0, max=float("nan"), step=0.1, default=0), "max"),
])
def test_a_slider_that_cannot_work_is_refused(kwargs, word):
    with pytest.raises(ValueError, match=word):
        Slider("x", "x", **kwargs)


def test_bad_choices_and_names_are_refused():
    with pytest.raises(ValueError, match="default"):
        Choice("x", "x", ("a", "b"), "c")
    with pytest.raises(ValueError, match="labels"):
        Choice("x", "x", ("a", "b"), "a", labels=("A",))
    with pytest.raises(ValueError, match="identifier"):
        Slider("two words", "x", 0, 1, 0.1, default=0)
    with pytest.raises(ValueError, match="must be in"):
        Slider("x", "x", 0, 1, 0.1, default=0).check(3)


def test_text_and_buttons_are_live_only():
    assert Text("prompt", "Prompt", default="hi").widget().value == "hi"
    assert Button("go", "Train").widget().description == "Train"
    assert not hasattr(Text("t", "t"), "param") and not hasattr(Button("b", "b"), "param")


def test_bound_params_finds_params_in_layers():
    import altair as alt
    import pandas as pd

    s = Slider("k", "k", 1, 8, 1, default=2)
    base = alt.Chart(pd.DataFrame({"x": [1]})).encode(x="x:Q")
    layered = alt.layer(base.mark_bar(), base.mark_text().add_params(s.param()))
    assert set(bound_params(layered)) == {"k"}


@pytest.mark.parametrize("make, word", [
    (lambda: Slider(3, "label", 0, 1, 0.1, default=0.5), "name"),
    (lambda: Slider("s", None, 0, 1, 0.1, default=0.5), "label"),
    (lambda: Slider("s", "S", True, 1, 0.1, default=0.5), "min"),
    (lambda: Slider("s", "S", 0, float("inf"), 0.1, default=0.5), "max"),
    (lambda: Choice("c", "C", "ab", default="a"), "options"),
    (lambda: Choice("c", "C", ("a", "a"), default="a"), "distinct"),
    (lambda: Choice("c", "C", ("a", "b"), default="a", labels="AB"), "labels"),
    (lambda: Choice("c", "C", ("a", "b"), default="a", radio="yes"), "radio"),
    (lambda: Text("t", "T", default=None), "default"),
    (lambda: Button("b", "B", tooltip=3), "tooltip"),
])
def test_every_field_of_a_control_is_checked(make, word):
    with pytest.raises(ValueError, match=word):
        make()


@pytest.mark.parametrize("value", [True, "0.5", None, float("nan")])
def test_a_slider_check_refuses_what_is_not_a_number_in_range(value):
    with pytest.raises(ValueError, match=r"^s must be in \[0, 1\]"):
        Slider("s", "S", 0, 1, 0.1, default=0.5).check(value)


def test_check_bound_names_a_bad_chart_or_control_list():
    from explainer.controls import check_bound

    s = Slider("s", "S", 0, 1, 0.1, default=0.5)
    with pytest.raises(ValueError, match="^chart "):
        check_bound("chart", [s])
    with pytest.raises(ValueError, match="^controls "):
        check_bound({}, s)


def test_a_slider_reads_every_value_it_can_take_exactly():
    """A 0.25 step shows 0.25 (it showed 0.2 or 0.3: one decimal from the step's magnitude)."""
    for step, value, shown in ((0.25, 0.25, "0.25"), (0.05, 1.35, "1.35"), (0.1, 0.3, "0.3"),
                               (5, 35, "35"), (0.125, 0.375, "0.375")):
        w = Slider("t", "temperature", 0, 2 if step < 1 else 100, step, default=value).widget()
        assert format(w.value, w.readout_format) == shown, (step, w.readout_format)
