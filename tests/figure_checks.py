"""Checks every figure test applies (CONTRIBUTING.md, chapter pattern rule on figure tests)."""

from __future__ import annotations

from explainer.controls import bound_params, check_bound
from explainer.figures._base import spec_bytes


def check_spec(chart, budget: int) -> None:
    """The spec validates against Vega-Lite's schema, says what it shows, and fits the page budget."""
    chart.to_dict(validate=True)
    assert len(chart.description) > 40
    assert spec_bytes(chart) < budget


def check_controls(chart, controls) -> None:
    """The chart binds exactly its declared controls (legend/scale selections aside), as declared."""
    inputs = {n for n, p in bound_params(chart).items() if p["bind"] not in ("legend", "scales")}
    assert inputs == {c.name for c in controls}
    check_bound(chart, controls)
