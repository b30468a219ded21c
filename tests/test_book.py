"""explainer.book: reading time, and repository links only when a repository is named."""

from __future__ import annotations

from types import SimpleNamespace

from explainer import book


def test_reading_minutes_counts_prose_not_code_or_folds():
    prose = "<p>" + "word " * 600 + "</p>"
    code = ('<div class="cell_input docutils container"><div class="highlight"><pre>'
            + "x = 1 " * 5000 + "</pre></div>\n</div>\n</div>")
    fold = "<details><summary>Show</summary>" + "hidden " * 5000 + "</details>"
    assert book.reading_minutes(prose) == 3
    assert book.reading_minutes(prose + code + fold) == 3
    assert book.reading_minutes("<p>hi</p>") == 1


def test_reading_time_goes_under_a_chapter_title_only():
    ctx = {"body": "<h1>Title</h1><p>" + "word " * 400 + "</p>"}
    book._reading_time(None, "chapters/costs", "page.html", ctx, None)
    assert "<h1>Title</h1><p class=\"explainer-reading-time\">About 2 minutes to read</p>" in ctx["body"]
    other = {"body": "<h1>Index</h1>"}
    book._reading_time(None, "genindex", "page.html", other, None)
    assert other["body"] == "<h1>Index</h1>"


def test_repository_links_follow_the_configured_url():
    for url, on in (("", False), ("  ", False), ("https://github.com/o/r", True)):
        opts = {"repository_url": url, "use_repository_button": not on}
        book._repository_links(None, SimpleNamespace(html_theme_options=opts))
        assert opts["use_repository_button"] is on and opts["use_issues_button"] is on
        assert opts["use_edit_page_button"] is on
