"""explainer.tables: numbers written for readers, no bare index, no NaN, bad input refused."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from explainer.tables import FORMATS, human, table


@pytest.mark.parametrize("value, text", [
    (2_664_000, "2.66 million"), (5.576e6, "5.58 million"), (1.9e9, "1.9 billion"),
    (14.8e12, "14.8 trillion"), (3.2856e24, "3.29 × 10²⁴"), (0.0001234, "1.23 × 10⁻⁴"),
    (9.9999e24, "1 × 10²⁵"), (1234, "1,234"), (74.0, "74"), (0.34, "0.34"), (12.25, "12.2"),
    (0, "0"), (-2_500_000, "-2.5 million"), (float("nan"), "—"), (None, "—"), ("text", "text"),
    (math.inf, "∞"),
])
def test_human_writes_numbers_as_a_reader_would(value, text):
    assert human(value) == text


def test_human_keeps_the_digits_asked_for():
    assert human(5.576e6, 4) == "5.576 million"
    assert human(3.2856e24, 2) == "3.3 × 10²⁴"


@pytest.mark.parametrize("digits", [0, 16, 2.5, True, "3"])
def test_human_refuses_bad_digits(digits):
    with pytest.raises(ValueError, match="digits"):
        human(1.0, digits)


def _cells(styler) -> list[str]:
    html = styler.to_html()
    import re
    return re.findall(r'<td id="[^"]+" class="data[^"]*" >([^<]*)</td>', html)


def test_table_formats_each_column_and_writes_no_nan_or_bare_index():
    df = pd.DataFrame({"GPU-hours": [2_664_000, 119_000], "cost": [5.328e6, float("nan")],
                       "share": [0.955, 0.043]},
                      index=pd.Index(["pre-training", "context extension"], name="stage"))
    t = table(df, formats={"cost": "usd", "share": "pct"}, caption="A dash: not reported.")
    cells = _cells(t)
    assert cells == ["pre-training", "2.66 million", "$5.33 million", "96%",
                     "context extension", "119,000", "—", "4.3%"]
    html = t.to_html()
    assert "nan" not in html.lower().replace("nanoplot", "")
    assert "A dash: not reported." in html and "tex2jax_ignore" in html
    assert list(t.data.columns) == ["stage", "GPU-hours", "cost", "share"]


def test_a_range_index_is_dropped_and_a_named_one_kept():
    assert list(table(pd.DataFrame({"a": [1, 2]})).data.columns) == ["a"]
    named = table(pd.DataFrame({"a": [1]}, index=["x"]), index="model")
    assert list(named.data.columns) == ["model", "a"]
    assert list(table(pd.DataFrame({"a": [1]}, index=["x"]), index=False).data.columns) == ["a"]


def test_table_html_is_the_same_twice():
    df = pd.DataFrame({"a": [1.5, 2.5]})
    assert table(df).to_html() == table(df).to_html()


def test_digits_suffix():
    cells = _cells(table(pd.DataFrame({"c": [5.576e6]}), formats={"c": "usd:4"}))
    assert cells == ["$5.576 million"]


@pytest.mark.parametrize("kwargs, match", [
    ({"formats": {"missing": "usd"}}, "formats names columns"),
    ({"formats": {"a": "bogus"}}, "format 'bogus'"),
])
def test_table_refuses_bad_formats(kwargs, match):
    with pytest.raises(ValueError, match=match):
        table(pd.DataFrame({"a": [1]}), **kwargs)


def test_table_refuses_a_non_frame():
    with pytest.raises(ValueError, match="df must be a pandas DataFrame"):
        table([1, 2, 3])


def test_every_named_format_writes_text():
    for name, fmt in FORMATS.items():
        assert isinstance(fmt(1.5), str) and fmt(float("nan")) == "—", name


def test_data_never_becomes_markup():
    hostile = "\"'><img src=x onerror=alert(1)>"
    html = table(pd.DataFrame({hostile: [hostile], "n": [1]}), caption=hostile).to_html()
    assert "<img" not in html and "&lt;img" in html


@pytest.mark.parametrize("kwargs, name", [
    (dict(df=pd.DataFrame()), "df"),
    (dict(formats="dec1"), "formats"),
    (dict(formats={"a": 3}), "formats"),
    (dict(caption=3), "caption"),
    (dict(index=1), "index"),
    (dict(index=""), "index"),
    (dict(wrap="no"), "wrap"),
])
def test_table_names_a_bad_argument(kwargs, name):
    args = {"df": pd.DataFrame({"a": [1.5]}), **kwargs}
    with pytest.raises(ValueError, match=f"^{name} "):
        table(**args)


@pytest.mark.parametrize("value", [[1, 2], {"a": 1}, object()])
def test_human_refuses_what_is_not_a_number_or_text(value):
    with pytest.raises(ValueError, match="^v must be a number"):
        human(value)


def test_human_writes_numpy_numbers():
    import numpy as np

    assert human(np.float64(2.664e6)) == "2.66 million" and human(np.int64(1234)) == "1,234"
