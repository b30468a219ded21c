"""figures.grpo: valid specs, the step slider the chapter binds, descriptions, size."""

from __future__ import annotations

import pytest

from explainer import distill, grpo
from explainer.figures import grpo as fig
from figure_checks import check_controls, check_spec

BUDGET = 300_000  # bytes of JSON per chart (CHAPTER_PATTERN rule 1)


@pytest.fixture(scope="module")
def charts():
    log, samples, ev = grpo.load_log(), grpo.load_samples(), grpo.load_eval().reset_index()
    main = log[log["run"] == "main"]
    return {
        "run_curves": (fig.run_curves(main), []),
        "length_curve": (fig.length_curve(main), []),
        "pass_at_k": (fig.pass_at_k(ev), []),
        "sample_slider": (fig.sample_slider(samples), [fig.SAMPLE_STEP]),
        "slip_curves": (fig.slip_curves(log, {"main": "beta 0.04", "beta0": "beta 0"}), []),
        "distill_curves": (fig.distill_curves(distill.load_comparison()), []),
    }


NAMES = ["run_curves", "length_curve", "pass_at_k", "sample_slider", "slip_curves",
         "distill_curves"]


@pytest.mark.parametrize("name", NAMES)
def test_spec_validates_has_a_description_and_fits_the_budget(charts, name):
    check_spec(charts[name][0], BUDGET)


@pytest.mark.parametrize("name", NAMES)
def test_chart_binds_exactly_its_declared_controls(charts, name):
    check_controls(*charts[name])


def test_step_slider_reaches_exactly_the_recorded_steps():
    steps = sorted(grpo.load_samples()["step"].unique())
    s = fig.SAMPLE_STEP
    assert list(range(int(s.min), int(s.max) + 1, int(s.step))) == steps
    assert (s.max, s.step) == (grpo.STEPS, grpo.SAMPLE_EVERY)


def test_distill_chart_has_one_panel_per_starting_student():
    from explainer import distill

    checks = distill.load_comparison()
    spec = fig.distill_curves(checks).to_dict()
    assert spec["facet"]["field"] == "student"
    values = next(iter(spec["datasets"].values()))
    assert {v["student"] for v in values} == set(fig._STUDENT_BASES.values())
    assert {v["method"] for v in values} == {"distillation from the GRPO model",
                                             "GRPO on its own samples"}
