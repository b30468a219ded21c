"""Figures of "One stack or two": what three routing policies cost at DeepSeek's list prices.

The costs are :func:`explainer.story.policy_costs` (Python, for JupyterLab) and
:func:`explainer.story.policy_cost_exprs` (the same formulas in the browser, tested
against it on a grid).
"""

from __future__ import annotations

import altair as alt
import pandas as pd

from explainer import story
from explainer.figures._base import finish

__all__ = ["policy", "policy_at"]

# short lines: a title wider than the page squeezes the plot to nothing on a phone
_TITLE = ["Cost of 1,000 requests under three policies,", "at DeepSeek's list prices"]
_DESCRIPTION = ("Three lines of US dollars per 1,000 requests against the share of requests that "
                "need reasoning: always the chat model (flat, lowest), always the reasoning model "
                "(flat, highest) and routing each request, which climbs from the first to the "
                "second.")


def _lines(data: pd.DataFrame, subtitle: list[str]) -> alt.Chart:
    return (
        alt.Chart(data, title=alt.Title(_TITLE, subtitle=subtitle))
        .mark_line(point=True)
        .encode(
            x=alt.X("share:Q", title="share of requests that need reasoning",
                    axis=alt.Axis(format="%")),
            y=alt.Y("usd:Q", title="US dollars per 1,000 requests"),
            color=alt.Color("policy:N", title=None, sort=list(story.POLICIES),
                            legend=alt.Legend(orient="top", direction="vertical",
                                              labelLimit=300)),
            tooltip=["policy:N", alt.Tooltip("share:Q", format=".0%"),
                     alt.Tooltip("usd:Q", format="$.2f")],
        )
        .properties(height=280)
    )


def policy(prices: pd.DataFrame | None = None) -> alt.Chart:
    """The three policies' cost, recomputed in the browser from three token sliders.

    Args:
        prices: the price table indexed by model (``data/prices.csv`` when ``None``).
    """
    exprs = story.policy_cost_exprs("datum.share", prices=prices)
    chart = (
        _lines(pd.DataFrame({"share": story.SHARES}),
               ["chat = deepseek-chat (V3), thinking = deepseek-reasoner (R1);",
                "token counts are yours to set"])
        .transform_calculate(**exprs)
        .transform_fold(list(story.POLICIES), as_=["policy", "usd"])
        .add_params(*(c.param() for c in story.POLICY_CONTROLS))
    )
    return finish(chart, description=_DESCRIPTION)


def policy_at(prompt_tok: float, answer_tok: float, think_tok: float) -> alt.Chart:
    """The same lines for one set of token counts, computed in Python.

    Args:
        prompt_tok, answer_tok, think_tok: tokens per request
            (:data:`explainer.story.POLICY_CONTROLS`).
    """
    data = story.policy_costs(prompt_tok, answer_tok, think_tok)
    return finish(_lines(data, [f"{prompt_tok:,} prompt, {answer_tok:,} answer and",
                                f"{think_tok:,} thinking tokens per request"]),
                  description=_DESCRIPTION)
