"""Tests for explainer.distill: rejection sampling keeps exactly the right answers, a
distillation step learns the kept texts, bad input, and the shipped comparison."""

from __future__ import annotations

import pytest
import torch

from explainer import distill
from explainer.distill import STUDENT, distill as run_distill, rejection_sample
from explainer.gpt import GPT
from explainer.reasoning import (
    MIXED,
    Reasoner,
    ReasonerConfig,
    _examples,
    format_example,
)


class _Oracle(Reasoner):
    """A 'teacher' that writes the textbook scratchpad, wrong on every third problem."""

    def __init__(self):
        cfg = ReasonerConfig(fmt=MIXED, n_layer=1, n_head=2, n_embd=8)
        super().__init__(GPT(cfg.gpt_config()), cfg)

    def generate(self, problems, *, temperature=1.0, samples=1, seed=None, batch_size=4096):
        out = []
        for i, p in enumerate(problems):
            text = format_example(p, "cot")
            if i % 3 == 2:  # corrupt the answer's last digit
                d = text[-2]
                text = text[:-2] + str((int(d) + 1) % 10) + "."
            out.append([text] * samples)
        return out


def _tiny_student(seed=0):
    torch.manual_seed(seed)
    cfg = ReasonerConfig(fmt=MIXED, n_layer=1, n_head=2, n_embd=16)
    return Reasoner(GPT(cfg.gpt_config()), cfg)


def test_rejection_sample_keeps_exactly_the_right_answers():
    problems = ["12+34", "99999+1", "5+5", "70000+30000", "1+1", "4+4"]
    kept = rejection_sample(_Oracle(), problems, seed=0)
    # problems 2 and 5 (0-based) were answered wrongly by construction
    assert kept == [format_example(p, "cot") for i, p in enumerate(problems) if i % 3 != 2]


def test_a_distillation_step_lowers_the_loss_on_the_kept_texts():
    student, teacher = _tiny_student(), _Oracle()
    probe = rejection_sample(teacher, ["12+34", "99999+1", "31416+27183"], seed=0)
    x, y = _examples(probe, 5)

    def loss_of(model):
        with torch.no_grad():
            logits = model(x)
            return torch.nn.functional.cross_entropy(
                logits.reshape(-1, logits.shape[-1]), y.reshape(-1), ignore_index=-1).item()

    res = run_distill(student, teacher, steps=20, batch_size=16, lr=1e-2, seed=0)
    assert loss_of(res.policy.model) < 0.8 * loss_of(student.model)
    assert list(res.log.columns) == list(distill.LOG_COLUMNS) and len(res.log) == 20
    assert res.log["kept"].between(0.6, 0.7).all()  # two in three kept, every step
    assert res.policy.meta["distill"]["steps"] == 20
    # the starting student is untouched, and the run is reproducible
    again = run_distill(student, teacher, steps=20, batch_size=16, lr=1e-2, seed=0)
    assert again.log.drop(columns="seconds").equals(res.log.drop(columns="seconds"))


def test_distill_rejects_bad_input():
    student, teacher = _tiny_student(), _Oracle()
    for kw in ({"steps": 0}, {"batch_size": 0}, {"seconds": -1}, {"lr": 0},
               {"temperature": -1}):
        name = next(iter(kw))
        with pytest.raises(ValueError, match=name):
            run_distill(student, teacher, **{"steps": 1, **kw})
    with pytest.raises(ValueError, match="steps"):
        run_distill(student, teacher)
    with pytest.raises(ValueError, match="teacher"):
        run_distill(student, "a model")
    six = Reasoner(GPT(ReasonerConfig(fmt=MIXED, max_digits=6, n_layer=1, n_head=2,
                                      n_embd=8).gpt_config()),
                   ReasonerConfig(fmt=MIXED, max_digits=6, n_layer=1, n_head=2, n_embd=8))
    with pytest.raises(ValueError, match="max_digits"):
        run_distill(student, six, steps=1)


@pytest.mark.parametrize("kwargs, name", [
    ({"steps": 2**70}, "steps"),  # was a run that never ended
    ({"steps": None, "seconds": float("inf")}, "seconds"),
    ({"seconds": 1e9}, "seconds"),
    ({"batch_size": True}, "batch_size"),
    ({"lr": float("nan")}, "lr"),
    ({"temperature": float("inf")}, "temperature"),
    ({"seed": "x"}, "seed"),
    ({"seed": 2**70}, "seed"),
    ({"callback": "print"}, "callback"),
])
def test_distill_refuses_values_that_would_hang_or_fail_later(kwargs, name):
    with pytest.raises(ValueError, match=f"^{name} "):
        run_distill(_tiny_student(), _Oracle(), **{"steps": 1, **kwargs})


@pytest.mark.parametrize("problems", ["12+34", [], ["12+x"], [12]])
def test_rejection_sample_refuses_anything_but_a_list_of_problems(problems):
    with pytest.raises(ValueError, match="^problems"):
        rejection_sample(_Oracle(), problems)


def test_student_is_smaller_than_the_teacher():
    from explainer.reasoning import load_pretrained

    teacher = load_pretrained("grpo")
    n = lambda cfg: sum(p.numel() for p in GPT(cfg.gpt_config()).parameters())  # noqa: E731
    assert n(STUDENT) < 0.35 * n(teacher.config)


def test_shipped_comparison_and_students():
    from explainer.distill import load_comparison
    from explainer.reasoning import load_pretrained

    checks = load_comparison()
    assert set(checks["base"]) == {"student_base", "student_direct_base"}
    assert set(checks["run"]) == {"distill", "grpo"}
    starts = checks[checks["step"] == 0].groupby("base")["accuracy"].nunique()
    assert (starts == 1).all()  # both runs of a base start from the same checked model
    for name in ("student_base", "student_distill", "student_grpo", "student_direct_base",
                 "student_direct_distill", "student_direct_grpo"):
        assert load_pretrained(name).config == STUDENT
    # from the student that never saw a scratchpad, GRPO almost never samples a right answer
    # (so almost every advantage is zero) and its held-out accuracy stays at zero
    from explainer.grpo import load_log

    log = load_log()
    rl = log[log["run"] == "student_direct_grpo"]
    assert len(rl) > 100 and (rl["reward"] > 0).mean() < 0.05
    ends = checks.sort_values("seconds").groupby(["base", "run"])["accuracy"].last()
    assert ends[("student_direct_base", "grpo")] == 0
    assert ends[("student_direct_base", "distill")] > 0.5  # distillation teaches it
