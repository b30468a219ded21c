"""Distillation: a small model learns from a large reasoner's right answers (R1 §2.3.3, §4).

What it teaches: the R1 paper's finding for small models (DeepSeek-AI 2025, arXiv
2501.12948, §4.1 and Table 6) is that *distilling* a strong reasoning model into a
small one, that is, supervised fine-tuning of the small model on text the big model
wrote, beats running the same reinforcement learning on the small model itself:
DeepSeek-R1-Distill-Qwen-32B scored 72.6% on AIME 2024 (pass@1) where
DeepSeek-R1-Zero-Qwen-32B, trained by more than 10K RL steps, scored 47.0%.

The data of R1's distillation was made by *rejection sampling* (§2.3.3): the RL model
answers many prompts, and only the answers that a rule (or a judge) finds right are
kept. This module does the same on the fly, in miniature: every step the ``teacher``
samples one answer to each of ``batch_size`` fresh addition problems, the right ones
are kept (:func:`rejection_sample`), and the ``student`` takes one supervised step on
them (next-token cross-entropy on the completion, as :func:`explainer.reasoning.train`
does on generated examples). The teacher's sampling time counts in the budget, so a
comparison with :func:`explainer.grpo.train_grpo` at equal ``seconds`` is fair in wall
time.

Names: ``teacher`` is the large RL-trained model (R1 in the paper, the shipped
``"grpo"`` reasoner here), ``student`` the small one (Qwen/Llama in the paper,
:data:`STUDENT` here).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
import torch

from explainer import gpt
from explainer.checks import check_int, check_number, check_seed
from explainer.reasoning import (
    MIXED,
    Reasoner,
    ReasonerConfig,
    _examples,
    _lr_scale,
    _parse_problem,
    _random_operands,
    _supervised_step,
    parse_answer,
)

__all__ = [
    "BATCH_SIZE",
    "LOG_COLUMNS",
    "LR",
    "STUDENT",
    "DistillResult",
    "distill",
    "load_comparison",
    "rejection_sample",
]

# the student of the shipped comparison: the base reasoner's shape at half the width
# (2 layers, 4 heads, 32-dim embeddings: about a quarter of the teacher's parameters)
STUDENT = ReasonerConfig(fmt=MIXED, n_layer=2, n_head=4, n_embd=32)
BATCH_SIZE = 128  # problems the teacher answers per step
LR = 3e-3  # the student's peak AdamW learning rate (explainer.reasoning.train's default)
LOG_COLUMNS = ("step", "seconds", "kept", "loss")
_MAX_STEPS = 10**6  # a run of more steps than this is a typo (the shipped run takes 60)
_MAX_SECONDS = 24 * 3600.0  # a day: longer budgets are a typo, not a toy's training run
_MAX_BATCH = 4096


def _check_reasoner(name: str, model) -> None:
    if not isinstance(model, Reasoner):
        raise ValueError(f"{name} must be an explainer.reasoning.Reasoner, got "
                         f"{type(model).__name__}")


def _check_problems(problems, max_digits: int) -> list[str]:
    """A non-empty list of ``"a+b"`` strings the model can read; ValueError naming ``problems``."""
    if isinstance(problems, str) or not isinstance(problems, (list, tuple)) or not problems:
        raise ValueError(f"problems must be a non-empty list of 'a+b' strings, got {problems!r}")
    for p in problems:
        try:
            _parse_problem(p, max_digits)
        except ValueError as exc:
            raise ValueError(f"problems: {exc}") from None
    return list(problems)


def rejection_sample(
    teacher: Reasoner, problems: Sequence[str], *, temperature: float = 1.0,
    seed: int | None = None,
) -> list[str]:
    """The teacher's sampled answers that are exactly right (R1 §2.3.3's rejection sampling).

    Args:
        teacher: the model that writes the answers.
        problems: ``"a+b"`` strings.
        temperature: sampling temperature (0: greedy).
        seed: sampling seed.

    Returns:
        Whole texts ``prompt + completion`` (one sample per problem, wrong ones dropped),
        in the order of ``problems``.

    Raises:
        ValueError: ``teacher`` not a Reasoner, ``problems`` not a non-empty list of
            problems it can read, a negative or infinite ``temperature``, or a bad ``seed``.
    """
    _check_reasoner("teacher", teacher)
    problems = _check_problems(problems, teacher.config.max_digits)
    temperature = check_number("temperature", temperature, 0)
    if seed is not None:
        seed = check_seed("seed", seed)
    texts = teacher.generate(problems, temperature=temperature, samples=1, seed=seed)
    kept = []
    for p, (t,) in zip(problems, texts):
        try:
            right = parse_answer(t, MIXED) == sum(_parse_problem(p, teacher.config.max_digits))
        except (ValueError, TypeError):
            right = False
        if right:
            kept.append(t)
    return kept


@dataclass
class DistillResult(gpt.TrainResult):
    """What :func:`distill` returns.

    Attributes:
        policy: the trained student (a copy; the starting student is left untouched).
        model, steps, seconds, history: as in :class:`explainer.gpt.TrainResult`;
            ``history`` is the per-step log (:attr:`log`).
    """

    policy: Reasoner

    @property
    def log(self) -> pd.DataFrame:
        """One row per step, columns :data:`LOG_COLUMNS`: ``kept`` is the share of the
        teacher's answers that were right (and learned from), ``loss`` the student's loss."""
        return self.history


def distill(
    student: Reasoner,
    teacher: Reasoner,
    *,
    steps: int | None = None,
    seconds: float | None = None,
    batch_size: int = BATCH_SIZE,
    lr: float = LR,
    temperature: float = 1.0,
    seed: int = 0,
    callback: Callable[[int, dict[str, float], Reasoner], Any] | None = None,
) -> DistillResult:
    """Fine-tune ``student`` on ``teacher``'s right answers to fresh problems.

    Each step draws ``batch_size`` problems (the training distribution of
    :func:`explainer.reasoning.train`), lets the teacher answer each once at
    ``temperature``, keeps the right answers and takes one AdamW step on them. The
    learning rate warms up and decays as in :func:`explainer.reasoning.train`, over
    ``steps`` or over ``seconds`` of wall time (whichever ends the run first).

    Args:
        student: the small model to train (not modified: training works on a copy).
        teacher: the model whose answers are learned (same ``max_digits``).
        steps: optimizer steps, 1 to 10**6; ``None`` to run on ``seconds`` only.
        seconds: wall-clock budget, at most a day (86400), the teacher's sampling included
            (time spent in ``callback`` is not counted, here or in the log's ``seconds``).
        batch_size: problems per step, 1 to 4096.
        lr: peak learning rate, in (0, 1).
        temperature: the teacher's sampling temperature (>= 0, finite).
        seed: seeds the problems and the teacher's samples.
        callback: called as ``callback(step, row, student)`` after every step;
            returning ``True`` stops training.

    Returns:
        A :class:`DistillResult` (``.policy``, ``.log``).

    Raises:
        ValueError: a non-positive size, an out-of-range ``lr``/``temperature``/
            ``seconds``, neither ``steps`` nor ``seconds``, or models that disagree on
            ``max_digits``.
    """
    _check_reasoner("student", student)
    _check_reasoner("teacher", teacher)
    if student.config.max_digits != teacher.config.max_digits:
        raise ValueError(f"student and teacher must share max_digits, got "
                         f"{student.config.max_digits} and {teacher.config.max_digits}")
    if steps is None and seconds is None:
        raise ValueError("give steps (>= 1) or seconds (> 0), or both")
    if steps is not None:
        steps = check_int("steps", steps, 1, _MAX_STEPS)
    if seconds is not None:
        seconds = check_number("seconds", seconds, 0, _MAX_SECONDS, lo_open=True)
    batch_size = check_int("batch_size", batch_size, 1, _MAX_BATCH)
    lr = check_number("lr", lr, 0, 1, lo_open=True, hi_open=True)
    temperature = check_number("temperature", temperature, 0)
    seed = check_seed("seed", seed)
    if callback is not None and not callable(callback):
        raise ValueError(f"callback must be None or callable, got {callback!r}")

    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed)
    new = Reasoner(copy.deepcopy(student.model), student.config, device=student.device)
    model = new.model
    opt = torch.optim.AdamW(model.parameters(), lr=lr, betas=(0.9, 0.98), weight_decay=0.01)
    digits = student.config.max_digits
    rows: list[dict[str, float]] = []
    clock = gpt.TrainingClock()
    step = 0
    while True:
        elapsed = clock.seconds()
        frac = max(step / steps if steps else 0.0, elapsed / seconds if seconds else 0.0)
        if frac >= 1.0:
            break
        for group in opt.param_groups:
            group["lr"] = lr * _lr_scale(frac)
        ops = _random_operands(batch_size, digits, g).tolist()
        problems = [f"{a}+{b}" for a, b in ops]
        sample_seed = int(torch.randint(0, 2**31 - 1, (1,), generator=g))
        kept = rejection_sample(teacher, problems, temperature=temperature, seed=sample_seed)
        loss = float("nan")
        if kept:
            x, y = _examples(kept, digits)
            loss = _supervised_step(model, opt, x, y)
        model.eval()
        step += 1
        row = {"step": step, "seconds": clock.seconds(),
               "kept": len(kept) / batch_size, "loss": loss}
        rows.append(row)
        if callback is not None and clock.paused(callback, step, row, new):
            break
    seconds_spent = clock.seconds()
    new.meta = {"fmt": student.fmt, "start": dict(student.meta), "distill": {
        "teacher": dict(teacher.meta), "steps": step, "batch_size": batch_size, "lr": lr,
        "temperature": temperature, "seed": seed, "train_seconds": round(seconds_spent, 1)}}
    log = pd.DataFrame(rows, columns=list(LOG_COLUMNS)).astype({"step": "int64"})
    return DistillResult(model, step, seconds_spent, log, new)



def load_comparison() -> pd.DataFrame:
    """The shipped distillation-vs-GRPO comparison (``data/grpo_distill.csv``).

    One row per held-out check: ``run`` (``distill``/``grpo``), ``step`` (0 = the
    student's base), ``seconds`` (training seconds), and the
    :func:`explainer.grpo.rollout_stats` columns. How it was made: ``data/README.md``.
    """
    from explainer.data import read_csv

    return read_csv("grpo_distill.csv")
