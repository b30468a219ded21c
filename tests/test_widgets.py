"""live_or_static: widgets live, static charts in the book build."""

import altair as alt
import IPython.display
import pandas as pd
import pytest

from explainer import widgets
from explainer.controls import Button, Choice, Slider


@pytest.fixture
def shown(monkeypatch):
    out = []
    monkeypatch.setattr(IPython.display, "display", lambda *objs, **kw: out.extend(objs))
    return out


def test_progress_is_silent_in_the_book_build(monkeypatch):
    monkeypatch.setenv(widgets.BOOK_BUILD_ENV, "1")
    bar = widgets.progress(range(3))
    assert bar.disable and list(bar) == [0, 1, 2]
    monkeypatch.delenv(widgets.BOOK_BUILD_ENV)
    assert not widgets.progress(range(3), file=open("/dev/null", "w")).disable


# -- the declared-once form: live_or_static(controls, compute, static) -----------------------

K = Slider("k", "top k", 1, 8, 1, default=2)
MODE = Choice("mode", "mode", ("a", "b"), "a")


def _static(controls=(K, MODE)):
    chart = alt.Chart(pd.DataFrame({"x": [1, 2, 3]})).mark_bar().encode(x="x:Q")
    return chart.add_params(*[c.param() for c in controls])


def test_live_panel_recomputes_with_the_declared_controls():
    calls = []
    panel = widgets.live_panel([K, MODE], lambda k, mode: calls.append((k, mode)))
    assert calls == [(2, "a")]  # computed once with the defaults
    slider, dropdown = panel.children[:2]
    assert (slider.min, slider.max, slider.step, slider.description) == (1, 8, 1, "top k")
    slider.value = 5
    dropdown.value = "b"
    assert calls[-2:] == [(5, "a"), (5, "b")]


def test_a_button_runs_the_computation_only_when_clicked():
    calls = []
    go = Button("go", "Train")
    panel = widgets.live_panel([K, go], lambda k: calls.append(k))
    assert calls == []
    panel.children[0].value = 3
    assert calls == []
    panel.children[1].click()
    assert calls == [3]


def test_book_build_shows_the_static_chart_bound_to_the_controls(monkeypatch, shown):
    monkeypatch.setenv(widgets.BOOK_BUILD_ENV, "1")
    chart = _static()
    widgets.live_or_static([K, MODE], lambda **_: pytest.fail("computed in the build"), chart,
                           what="a slider")
    assert shown[-1] is chart and "A slider, run in Python" in shown[0].data and len(shown) == 2
    assert "controls below work on this page" in shown[0].data


def test_a_live_kernel_shows_the_widgets_driving_the_pages_chart_and_the_computation(
        monkeypatch, shown):
    monkeypatch.delenv(widgets.BOOK_BUILD_ENV, raising=False)
    static = _static()
    widgets.live_or_static([K, MODE], lambda k, mode: f"{k}{mode}", static)
    # outside a kernel the Output widget passes what compute returned straight to display:
    # the page's chart at the widgets' values (its own page controls dropped), then compute's
    chart, text, box = shown
    params = {p["name"]: p for p in chart.to_dict()["params"]}
    assert params["k"]["value"] == 2 and params["mode"]["value"] == "a"
    assert not any("bind" in p for p in params.values())
    assert all("bind" in p for p in static.to_dict()["params"])  # the page's chart untouched
    assert text == "2a" and type(box).__name__ == "VBox"
    assert [type(w).__name__ for w in box.children] == ["IntSlider", "Dropdown", "Output"]
    box.children[0].value = 5
    assert {p["name"]: p["value"] for p in shown[-2].to_dict()["params"]}["k"] == 5
    assert shown[-1] == "5a"


def test_at_values_refuses_a_name_the_chart_has_no_param_for():
    with pytest.raises(ValueError, match="not found: \\['nope'\\]"):
        widgets.at_values(_static(), {"nope": 1})


def test_a_button_only_cell_says_the_page_shows_the_books_own_run(monkeypatch, shown):
    monkeypatch.setenv(widgets.BOOK_BUILD_ENV, "1")
    widgets.live_or_static([Button("go", "Train")], lambda: None, "NOTE", what="a training button")
    assert "the book's own run" in shown[0].data and shown[-1] == "NOTE"


@pytest.mark.parametrize("book", ["1", ""])
def test_a_static_chart_that_drifted_from_its_controls_is_refused(monkeypatch, shown, book):
    monkeypatch.setenv(widgets.BOOK_BUILD_ENV, book)
    drifted = Slider("k", "top k", 1, 16, 1, default=2)
    with pytest.raises(ValueError, match="differs from its declaration"):
        widgets.live_or_static([K, MODE], lambda **_: None, _static((drifted, MODE)))
    with pytest.raises(ValueError, match="does not bind control 'mode'"):
        widgets.live_or_static([K, MODE], lambda **_: None, _static((K,)))


def test_the_badge_is_one_short_line_with_a_link_and_no_build_talk():
    from explainer.widgets import RUN_IT_YOURSELF, badge

    on_page = badge("sliders for price and <MFU>", page_controls=True)
    assert RUN_IT_YOURSELF in on_page and "Sliders for price and &lt;MFU&gt;" in on_page
    assert "controls below work on this page" in on_page
    assert "book's own run" in badge("a training button", page_controls=False)
    assert "JupyterLab" not in on_page and "this cell" not in on_page
    with pytest.raises(ValueError, match="what"):
        badge("  ", page_controls=True)


def test_the_badge_says_controls_work_here_only_when_a_chart_binds_them(monkeypatch, shown):
    monkeypatch.setenv(widgets.BOOK_BUILD_ENV, "1")
    widgets.live_or_static([K], lambda k: None, "a table of precomputed samples", what="a slider")
    assert "book's own run" in shown[0].data and "controls below" not in shown[0].data
    shown.clear()
    widgets.live_or_static([Button("go", "Train")], lambda: None, None, what="a button")
    assert len(shown) == 1 and "explainer-badge" in shown[0].data
