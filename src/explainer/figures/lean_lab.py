"""Figures of "A lean lab": who signed DeepSeek's V2, V3 and R1 papers, by role.

The counts are :func:`explainer.story.author_roles` (appendix A of each paper).
"""

from __future__ import annotations

import altair as alt
import pandas as pd

from explainer import story
from explainer.figures._base import check_frames, finish
from explainer.tables import table

__all__ = ["team", "totals_table"]


def totals_table(totals: pd.DataFrame):
    """The three author lists in numbers: entries, distinct names, departures, overlap with V3.

    Args:
        totals: :func:`explainer.story.author_totals` (indexed by paper).
    """
    # arXiv ids start with the year and month of the first version: 2405.04434 is May 2024
    month = pd.to_datetime(totals["arxiv"].astype(str).str[:4], format="%y%m")
    shown = pd.DataFrame({
        "paper": totals.index + " (" + month.dt.strftime("%b %Y").to_numpy() + ")",
        "entries": totals["entries"].to_numpy(),
        "names": totals["unique_names"].to_numpy(),
        "marked as left": totals["marked_departed"].to_numpy(),
        "also on V3": totals["names_also_in_v3"].to_numpy(),
    })
    return table(shown, index=False, caption=(
        "Each paper's \"Contributions and Acknowledgments\" list: its entries, the distinct names "
        "in it (one person can appear in two roles), the names marked as having left the team, "
        "and the names also on the V3 report."))


def team(roles: pd.DataFrame) -> alt.Chart:
    """Stacked bars of the names in each paper's author list, by role; the legend highlights.

    Args:
        roles: :func:`explainer.story.author_roles` (one row per paper and role).
    """
    order = list(dict.fromkeys(roles["role"]))  # roles in file order, each once
    role_pick = alt.selection_point(fields=["role"], bind="legend")
    chart = (
        alt.Chart(roles[["paper", "role", "entries", "marked_departed", "note"]],
                  # short lines: a title wider than the page squeezes the plot on a phone
                  title=alt.Title(["Names in the author lists",
                                   "of three DeepSeek papers, by role"],
                                  subtitle=["Counted from each paper's appendix A;",
                                            "click a role in the legend to highlight it"]))
        .mark_bar()
        .encode(
            x=alt.X("paper:N", title=None, sort=list(story.PAPERS),
                    axis=alt.Axis(labelAngle=0)),
            y=alt.Y("entries:Q", title="names listed"),
            color=alt.Color("role:N", title="role", sort=order,
                            legend=alt.Legend(orient="bottom", columns=1, labelLimit=320)),
            opacity=alt.condition(role_pick, alt.value(1.0), alt.value(0.2)),
            order=alt.Order("role_order:Q"),
            tooltip=["paper", "role", "entries", "marked_departed", "note"],
        )
        .transform_calculate(role_order=f"indexof({order!r}, datum.role)")
        .add_params(role_pick)
        .properties(height=260)
    )
    per_paper = roles.groupby("paper")["entries"].sum()
    return finish(chart, description=(
        "Stacked bars of the names listed in the DeepSeek-V2, V3 and R1 papers' author lists, "
        f"by role: from {per_paper.min()} to {per_paper.max()} entries per paper, most of them "
        "in research and engineering (V2, V3) or among the contributors (R1)."))


check_frames(globals())  # refuse a missing or malformed frame by name (issue #25)
