"""Figures of "The DeepSeek story in ten minutes" (the primer).

Two small charts that put a number behind two of the primer's ideas: how much of a
Mixture-of-Experts model one token uses (:func:`parameters`), and how much memory
Multi-head Latent Attention saves per conversation (:func:`kv_cache`). Both take what
:mod:`explainer.costs` loads or computes; the primer's other pictures are diagrams
without numbers, written as inline SVG in the chapter's Markdown.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

from explainer.figures._base import finish

__all__ = ["kv_cache", "parameters"]

_TOTAL, _ACTIVE = "total parameters", "activated per token"


def parameters(models: pd.DataFrame, names: list[str] | tuple[str, ...]) -> alt.LayerChart:
    """Total against activated parameters, in billions, one bar pair per model.

    Args:
        models: :func:`explainer.costs.load_models` (indexed by model, with
            ``total_params``, ``active_params`` and ``architecture`` columns).
        names: the models to draw, in order (rows of ``models``).

    Returns:
        A layered bar chart: a light bar for the total and a dark one for the share a
        token activates, labelled with both figures.

    Raises:
        ValueError: a name is not a row of ``models``.
    """
    missing = [n for n in names if n not in models.index]
    if missing:
        raise ValueError(f"names must be rows of models {list(models.index)}, got {missing}")
    rows = models.loc[list(names)]
    data = pd.DataFrame({
        "model": [f"{n} ({a})" for n, a in zip(rows.index, rows["architecture"])],
        _TOTAL: rows["total_params"].to_numpy() / 1e9,
        _ACTIVE: rows["active_params"].to_numpy() / 1e9,
    })
    data["label"] = [f"{a:,.0f}B of {t:,.0f}B" for a, t in zip(data[_ACTIVE], data[_TOTAL])]
    order = list(data["model"])
    y = alt.Y("model:N", sort=order, title=None)
    base = alt.Chart(data, title="Parameters a model has, and the share one token uses")
    total = base.mark_bar(color="#56B4E9", opacity=0.45).encode(
        x=alt.X(f"{_TOTAL}:Q", title="billions of parameters",
                # room on the right for the labels
                scale=alt.Scale(domain=[0, 1.3 * float(data[_TOTAL].max())])), y=y,
        tooltip=["model", alt.Tooltip(f"{_TOTAL}:Q", format=",.0f"),
                 alt.Tooltip(f"{_ACTIVE}:Q", format=",.0f")])
    active = base.mark_bar(color="#0072B2").encode(x=f"{_ACTIVE}:Q", y=y)
    text = base.mark_text(align="left", dx=4, fontSize=11).encode(
        x=f"{_TOTAL}:Q", y=y, text="label:N")
    chart = alt.layer(total, active, text).properties(height=40 * len(data))
    return finish(chart, description=(
        "For each model a light bar shows all its parameters and a dark bar the parameters one "
        "token activates. The Mixture-of-Experts models use a small share of theirs; the dense "
        "model uses all of its parameters for every token."))


def kv_cache(gb: pd.Series, model: str, context: int) -> alt.Chart:
    """KV-cache gigabytes for one conversation of ``context`` tokens, per attention design.

    Args:
        gb: gigabytes per context, indexed by design name (``"MHA"``, ``"GQA"``, ``"MLA"``,
            ...), e.g. a column of :func:`explainer.costs.kv_cache_table` times the context.
        model: whose layer and head sizes the figures use (for the title).
        context: the context length in tokens (for the title).

    Returns:
        A bar chart, one labelled bar per design, MLA highlighted.

    Raises:
        ValueError: ``gb`` is empty or holds a non-positive value.
    """
    if len(gb) == 0 or not (gb > 0).all():
        raise ValueError(f"gb must hold positive gigabytes per design, got {gb.to_dict()}")
    data = pd.DataFrame({"design": gb.index, "GB": gb.to_numpy()})
    data["label"] = [f"{v:,.1f} GB" for v in data["GB"]]
    data["kind"] = ["MLA" if d == "MLA" else "other" for d in data["design"]]
    title = f"KV cache for one {context // 1024}K-token conversation, at {model}'s size"
    base = alt.Chart(data, title=title).encode(
        y=alt.Y("design:N", sort=list(data["design"]), title=None),
        x=alt.X("GB:Q", title="gigabytes (BF16)",
                scale=alt.Scale(domain=[0, 1.25 * float(data["GB"].max())])))
    bars = base.mark_bar().encode(
        color=alt.Color("kind:N", scale=alt.Scale(domain=["MLA", "other"],
                                                  range=["#D55E00", "#999999"]), legend=None),
        tooltip=["design", alt.Tooltip("GB:Q", format=",.1f")])
    text = base.mark_text(align="left", dx=4, fontSize=11).encode(text="label:N")
    chart = alt.layer(bars, text).properties(height=36 * len(data))
    return finish(chart, description=(
        "One bar per attention design: the memory a model of this size keeps for one long "
        "conversation. Multi-head Latent Attention's bar is a small fraction of plain multi-head "
        "attention's."))
