"""figures.grpo: valid specs, the step slider, slips marked, descriptions, size."""

from __future__ import annotations

import re
from pathlib import Path

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
        "ablation_curves": (fig.ablation_curves(log), []),
        "samples_at": (fig.samples_at(samples, 140), []),
        "answers": (fig.answers(list(zip(samples["problem"][:2], samples["text"][:2])),
                                title="Two answers", subtitle="at step 0"), []),
    }


NAMES = ["run_curves", "length_curve", "pass_at_k", "sample_slider", "slip_curves",
         "distill_curves", "ablation_curves", "samples_at", "answers"]
ROOT = Path(__file__).resolve().parents[1]


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


def _rows(chart):
    return [row for ds in chart.to_dict()["datasets"].values() for row in ds]


def test_sample_viewer_marks_exactly_the_characters_that_differ_from_the_textbook(charts):
    from explainer.reasoning import format_example

    samples = grpo.load_samples()
    rows = [r for r in _rows(charts["sample_slider"][0]) if r["line"] > 0]
    assert len(rows) == 2 * len(samples) - (samples["text"].str.count(">") == 0).sum()
    assert all(len(r["marks"]) == len(r["text"]) for r in rows)
    # step 140, 48765+25937: "0+7+0=12" where the textbook has "5+7+0=12"; one character
    late = [r for r in rows if r["rl_step"] == 140 and r["text"].startswith("0+7+0=12;")]
    assert len(late) == 1 and late[0]["marks"] == "^" + "·" * (len(late[0]["text"]) - 1)
    # a textbook answer has nothing marked
    book = format_example("48765+25937", "cot").partition("=")[2]
    assert [r["marks"].count("^") for r in rows if r["rl_step"] == 10
            and book.startswith(r["text"])] == [0]


def test_steps_off_in_the_headings_are_the_library_count_of_slipped_steps():
    from explainer.figures.reasoning import marked_lines

    for _, s in grpo.load_samples().iterrows():
        off = marked_lines(s["problem"], s["text"])[2]
        assert off == grpo.slipped_steps(s["problem"], s["text"])


def test_sample_viewer_wraps_the_working_to_fit_a_phone(charts):
    rows = _rows(charts["sample_slider"][0])
    assert max(len(r["text"]) for r in rows if r["line"] > 0) <= 30
    assert max(len(r["text"]) for r in rows if r["line"] == 0) <= 45


def test_sample_viewer_for_one_step_refuses_a_step_that_was_not_recorded():
    with pytest.raises(ValueError, match="no samples recorded at step 5"):
        fig.samples_at(grpo.load_samples(), 5)


def test_ablation_chart_draws_each_run_and_the_format_runs_reward_as_its_own_line(charts):
    rows = _rows(charts["ablation_curves"][0])
    lines = {(r["run"], r["what"]) for r in rows}
    assert lines == {("accuracy reward", "right answers"),
                     ("accuracy reward, beta = 0", "right answers"),
                     ("format reward", "right answers"),
                     ("format reward", "reward paid")}


def test_how_made_grpo_history_matches_its_data_files():
    from explainer.data import read_csv

    text = (ROOT / "chapters" / "how_made.md").read_text()
    section = text[text.index("## How the GRPO chapter's model came to be"):]
    section = section[:section.index("\n## ")]
    shown = [int(x) for x in re.findall(r"\*\*(\d+)%\*\*", section)]
    first = read_csv("grpo_first_attempt.csv").set_index(["model", "metric"])["value"]
    now = grpo.load_eval()["value"]
    expected = [first[("base", "accuracy")], first[("base", "scratchpad_share")],
                first[("base", "accuracy_scratchpad")], first[("grpo", "accuracy")],
                now[("base", "accuracy_scratchpad", 1)], now[("grpo", "accuracy", 1)]]
    assert shown == [round(100 * v) for v in expected]
