"""Sentences with computed numbers, shown as Markdown in a chapter."""

from __future__ import annotations

__all__ = ["say"]


def say(text: str) -> None:
    """Display ``text`` as Markdown (a sentence whose numbers were computed in the cell)."""
    from IPython.display import Markdown, display

    display(Markdown(text))
