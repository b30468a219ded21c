"""explainer.text: money stays money in JupyterLab, code spans stay as written."""

from __future__ import annotations

import pytest

from explainer.text import escape_dollars


@pytest.mark.parametrize("src, out", [
    ("$5.6M at $2 per GPU-hour", r"\$5.6M at \$2 per GPU-hour"),
    (r"already \$2", r"already \$2"),
    ("code `a = '$'` and $3", r"code `a = '$'` and \$3"),
    ("no money", "no money"),
])
def test_escape_dollars(src, out):
    assert escape_dollars(src) == out
    assert escape_dollars(out) == out  # idempotent


def test_escape_dollars_refuses_non_text():
    with pytest.raises(ValueError, match="markdown must be a string"):
        escape_dollars(3)


@pytest.mark.parametrize("src, out", [
    ("a <b>bold</b> claim", "a &lt;b&gt;bold&lt;/b&gt; claim"),
    ("<!--<script>", "&lt;!--&lt;script&gt;"),
    ("x < y and `a<b`", "x &lt; y and `a<b`"),
    ("AT&T &amp; co", "AT&amp;T &amp; co"),
])
def test_escape_html_keeps_data_from_opening_tags(src, out):
    from explainer.text import escape_html

    assert escape_html(src) == out
    assert escape_html(out) == out
