"""live_or_static: widgets live, static charts in the book build."""

import IPython.display
import pytest

from explainer import widgets


@pytest.fixture
def shown(monkeypatch):
    out = []
    monkeypatch.setattr(IPython.display, "display", lambda *objs, **kw: out.extend(objs))
    return out


def test_live_kernel_shows_the_widget(monkeypatch, shown):
    monkeypatch.delenv(widgets.BOOK_BUILD_ENV, raising=False)
    result = widgets.live_or_static(lambda: "WIDGET", "STATIC")
    assert result is None and shown == ["WIDGET"]


def test_book_build_shows_the_static_chart_and_never_builds_the_widget(monkeypatch, shown):
    monkeypatch.setenv(widgets.BOOK_BUILD_ENV, "1")

    def boom():
        raise AssertionError("widget built in the book build")

    result = widgets.live_or_static(boom, "STATIC", what="a slider")
    assert result is None
    assert shown[-1] == "STATIC" and len(shown) == 2
    assert "a slider" in shown[0].data


def test_progress_is_silent_in_the_book_build(monkeypatch):
    monkeypatch.setenv(widgets.BOOK_BUILD_ENV, "1")
    bar = widgets.progress(range(3))
    assert bar.disable and list(bar) == [0, 1, 2]
    monkeypatch.delenv(widgets.BOOK_BUILD_ENV)
    assert not widgets.progress(range(3), file=open("/dev/null", "w")).disable
