"""Figures of "One stack or two": what three routing policies cost at DeepSeek's list prices.

The costs are :func:`explainer.story.policy_costs` (Python, for JupyterLab) and
:func:`explainer.story.policy_cost_exprs` (the same formulas in the browser, tested
against it on a grid).
"""

from __future__ import annotations

import altair as alt
import pandas as pd

from explainer import story
from explainer.figures._base import check_frames, finish
from explainer.tables import table

__all__ = ["policy", "policy_at", "stack_table"]

# short lines: a title wider than the page squeezes the plot to nothing on a phone
_TITLE = ["What 1,000 requests cost", "under three policies"]
_DESCRIPTION = ("Three lines of US dollars per 1,000 requests against the share of requests that "
                "need reasoning: always the chat model (flat, lowest), always the reasoning model "
                "(flat, highest) and routing each request, which climbs from the first to the "
                "second.")


def stack_table(stack: pd.DataFrame):
    """The dual stack's two models as DeepSeek's API sold them, with prices per million tokens.

    Args:
        stack: :func:`explainer.story.stack_prices` (indexed by model; its ``note`` column
            says which price each is).
    """
    shown = pd.DataFrame({
        "API name": stack["api_model"],
        "input": stack["input_usd_per_mtok"],
        "output": stack["output_usd_per_mtok"],
    }, index=stack.index)
    notes = "; ".join(f"{m}: {n}" for m, n in stack["note"].items())
    return table(shown, index="model", formats={"input": "usd", "output": "usd"},
                 caption=f"DeepSeek's API list prices, in US dollars per million tokens ({notes}).")


def _lines(data: pd.DataFrame, subtitle: list[str]) -> alt.Chart:
    return (
        alt.Chart(data, title=alt.Title(_TITLE, subtitle=subtitle))
        .mark_line(point=True)
        .encode(
            x=alt.X("share:Q", title=["share of requests", "that need reasoning"],
                    axis=alt.Axis(format="%", values=[0, 0.25, 0.5, 0.75, 1])),
            # a fixed axis width: the labels' width changes as the sliders move, and the
            # plot must not grow out of its box when they do
            y=alt.Y("usd:Q", title="US dollars per 1,000 requests",
                    axis=alt.Axis(format="$,.2~f", minExtent=46, maxExtent=46)),
            color=alt.Color("policy:N", title=None, sort=list(story.POLICIES),
                            legend=alt.Legend(orient="bottom", direction="vertical",
                                              labelLimit=320)),
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
               ["At DeepSeek's list prices: chat is", "deepseek-chat (V3), reasoning is",
                "deepseek-reasoner (R1). Set the", "token counts with the sliders."])
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
    return finish(_lines(data, ["At DeepSeek's list prices, with",
                                f"{prompt_tok:,} prompt, {answer_tok:,} answer and",
                                f"{think_tok:,} thinking tokens per request"]),
                  description=_DESCRIPTION)


check_frames(globals())  # refuse a missing or malformed frame by name (issue #25)
