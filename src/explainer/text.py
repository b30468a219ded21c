"""Sentences with computed numbers, shown as Markdown in a chapter.

Dollar amounts are escaped (``\\$``) outside code spans: the book's Markdown renders ``\\$`` as
``$``, and JupyterLab, which typesets ``$…$`` as maths, then shows money as money.
"""

from __future__ import annotations

import re

__all__ = ["escape_dollars", "escape_html", "say"]

_CODE_SPAN = re.compile(r"(`+)(?:.*?)\1", re.S)
_BARE_DOLLAR = re.compile(r"(?<!\\)\$")


def escape_dollars(markdown: str) -> str:
    """``markdown`` with every ``$`` outside code spans written ``\\$`` (idempotent).

    Raises:
        ValueError: if ``markdown`` is not a string.
    """
    if not isinstance(markdown, str):
        raise ValueError(f"markdown must be a string, got {type(markdown).__name__}")
    out, last = [], 0
    for m in _CODE_SPAN.finditer(markdown):
        out.append(_BARE_DOLLAR.sub(r"\\$", markdown[last:m.start()]))
        out.append(m.group(0))
        last = m.end()
    out.append(_BARE_DOLLAR.sub(r"\\$", markdown[last:]))
    return "".join(out)


def escape_html(markdown: str) -> str:
    """``markdown`` with ``<``, ``>`` and ``&`` outside code spans written as entities, so that
    text interpolated from data can never open an HTML tag in the page (idempotent).

    Raises:
        ValueError: if ``markdown`` is not a string.
    """
    if not isinstance(markdown, str):
        raise ValueError(f"markdown must be a string, got {type(markdown).__name__}")
    out, last = [], 0

    def esc(s: str) -> str:
        s = re.sub(r"&(?!(?:[a-zA-Z]+|#\d+|#x[0-9a-fA-F]+);)", "&amp;", s)
        return s.replace("<", "&lt;").replace(">", "&gt;")

    for m in _CODE_SPAN.finditer(markdown):
        out.append(esc(markdown[last:m.start()]))
        out.append(m.group(0))
        last = m.end()
    out.append(esc(markdown[last:]))
    return "".join(out)


def say(text: str) -> None:
    """Display ``text`` as Markdown (a sentence whose numbers were computed in the cell).

    HTML in ``text`` is shown as text (:func:`escape_html`), and dollars stay dollars in
    JupyterLab (:func:`escape_dollars`).

    Raises:
        ValueError: if ``text`` is not a non-empty string.
    """
    from IPython.display import Markdown, display

    if not isinstance(text, str) or not text:
        raise ValueError(f"text must be a non-empty string, got {text!r}")
    display(Markdown(escape_dollars(escape_html(text))))
