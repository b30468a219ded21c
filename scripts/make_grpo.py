"""Regenerate the reinforcement-learning chapter's weights and logs (``explainer.grpo``).

Stages (run all, or name some):

* ``base``: the mixed-format base model, ``data/weights/reasoner_base.pt``.
* ``main``: the shipped GRPO run from it (accuracy reward only, the defaults of
  ``train_grpo``), ``data/weights/reasoner_grpo.pt``, its per-step log (run ``main`` in
  ``data/grpo_log.csv``) and sample answers at chosen steps (``data/grpo_samples.csv``).
* ``eval``: held-out accuracy, scratchpad share, length and pass@k (k = 1..64) of the
  base and GRPO models at temperature 1 (``data/grpo_eval.csv``).
* ``ablations``: the same run with ``beta = 0`` and with a hackable reward
  for ``ABLATION_STEPS`` steps (runs ``beta0``, ``format_reward`` in ``data/grpo_log.csv``).
* ``student``: the small student's own base, made by the same recipe as ``base`` at
  :data:`explainer.distill.STUDENT`'s size (``data/weights/reasoner_student_base.pt``).
* ``distill``: distillation (the shipped GRPO model as teacher) against GRPO, both from
  the student's base for ``DISTILL_SECONDS`` of training each, with held-out accuracy
  every ``DISTILL_CHECK_EVERY`` steps (``data/grpo_distill.csv``) and both students
  (``reasoner_student_distill.pt``, ``reasoner_student_grpo.pt``).

Usage: ``python scripts/make_grpo.py [base] [main] [eval] [ablations] [student] [distill]``.
Single-threaded (``torch.set_num_threads(1)``); wall times depend on the machine's load.
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import replace

import pandas as pd
import torch

from explainer import distill, grpo
from explainer.data import DATA_DIR
from explainer.reasoning import (
    MAX_DIGITS,
    ReasonerConfig,
    load_pretrained,
    make_problems,
    pass_at_k,
    train,
)

# the base recipe (both sizes): scratchpad-only pre-training, then the mixture
BASE_COT_STEPS = 2000  # stage 1: train("cot", ...) from scratch
BASE_STEPS = 1000  # stage 2: mixture steps (longer runs start to learn direct answers)
BASE_COT_SHARE = 0.25
BASE_LR = 3e-4
EVAL_PROBLEMS = make_problems(200, digits=MAX_DIGITS, seed=2026)  # held out from every run
EVAL_SAMPLES = 64
KS = (1, 2, 4, 8, 16, 32, 64)
ABLATION_STEPS = 40  # shorter than the main run (CPU time); compare with its first 40 steps
ABLATIONS = {"beta0": {"beta": 0.0}, "format_reward": {"reward": "format"}}
DISTILL_SECONDS = 180  # training seconds for each of the two students
DISTILL_CHECK_EVERY = 10  # steps between held-out checks (not counted in the seconds)
DISTILL_CHECK_PROBLEMS = make_problems(200, digits=MAX_DIGITS, seed=2027)


def _save_csv(df: pd.DataFrame, name: str) -> None:
    df.assign(source_id="book").to_csv(DATA_DIR / name, index=False, float_format="%.6g")
    print(f"wrote data/{name} ({len(df)} rows)")


def _merge_log(run: str, log: pd.DataFrame) -> None:
    path = DATA_DIR / "grpo_log.csv"
    old = pd.read_csv(path) if os.path.exists(path) else None
    new = log.assign(run=run)[["run", *grpo.LOG_COLUMNS]]
    if old is not None:
        new = pd.concat([old[old["run"] != run].drop(columns="source_id"), new])
    _save_csv(new.reset_index(drop=True), "grpo_log.csv")


def _make_base(config: ReasonerConfig, name: str) -> None:
    t0 = time.perf_counter()
    cot = train("cot", steps=BASE_COT_STEPS, seed=0, config=replace(config, fmt="cot"))
    res = train("mixed", steps=BASE_STEPS, seed=0, cot_share=BASE_COT_SHARE, lr=BASE_LR,
                init=cot.reasoner, config=replace(config, fmt="mixed"))
    res.reasoner.save(DATA_DIR / "weights" / f"reasoner_{name}.pt")
    stats = grpo.rollout_stats(res.reasoner, EVAL_PROBLEMS, temperature=1.0, samples=4, seed=0)
    print(f"{name}: {BASE_COT_STEPS} + {res.steps} steps in {time.perf_counter() - t0:.0f} s; "
          f"{stats}", flush=True)


def make_base() -> None:
    _make_base(ReasonerConfig(fmt="mixed"), "base")


def make_student() -> None:
    _make_base(distill.STUDENT, "student_base")


def _samples_at(step: int, policy, rows: list[dict]) -> None:
    texts = policy.generate(grpo.SAMPLE_PROBLEMS, temperature=1.0, samples=1, seed=0)
    for p, (t,) in zip(grpo.SAMPLE_PROBLEMS, texts):
        rows.append({"step": step, "problem": p, "text": t,
                     "correct": int(grpo.accuracy_reward(p, t))})


def make_main() -> None:
    base = load_pretrained("base")
    samples: list[dict] = []
    _samples_at(0, base, samples)

    def record(step, row, policy):
        if step % grpo.SAMPLE_EVERY == 0:
            _samples_at(step, policy, samples)
        print(f"step {step:3d} {row['seconds']:6.0f}s acc {row['accuracy']:.3f} "
              f"scratch {row['scratchpad_share']:.3f} len {row['response_length']:.1f} "
              f"kl {row['kl']:.4f}", flush=True)

    res = grpo.train_grpo(base, seed=0, callback=record)
    res.policy.save(DATA_DIR / "weights" / "reasoner_grpo.pt")
    _merge_log("main", res.log)
    _save_csv(pd.DataFrame(samples), "grpo_samples.csv")


def make_eval() -> None:
    rows = []
    truth = [sum(map(int, p.split("+"))) for p in EVAL_PROBLEMS]
    for name in ("base", "grpo"):
        model = load_pretrained(name)
        stats = grpo.rollout_stats(model, EVAL_PROBLEMS, temperature=1.0, samples=EVAL_SAMPLES,
                                   seed=0)
        for metric, value in stats.items():
            rows.append({"model": name, "metric": metric, "k": 1, "value": value})
        answers = model.solve(EVAL_PROBLEMS, temperature=1.0, samples=EVAL_SAMPLES, seed=0)
        correct = [sum(a == t for a in row) for row, t in zip(answers, truth)]
        for k in KS:
            value = sum(pass_at_k(EVAL_SAMPLES, c, k) for c in correct) / len(correct)
            rows.append({"model": name, "metric": "pass_at_k", "k": k, "value": value})
        print(name, stats)
    _save_csv(pd.DataFrame(rows).assign(temperature=1.0, n_problems=len(EVAL_PROBLEMS),
                                        samples=EVAL_SAMPLES), "grpo_eval.csv")


def make_ablations() -> None:
    base = load_pretrained("base")
    for run, kw in ABLATIONS.items():
        res = grpo.train_grpo(base, seed=0, steps=ABLATION_STEPS, **kw)
        print(run, res.log.iloc[-1].to_dict(), flush=True)
        _merge_log(run, res.log)


def make_distill() -> None:
    student, teacher = load_pretrained("student_base"), load_pretrained("grpo")
    rows = []

    def checker(run):
        def check(step, row, policy):
            if step % DISTILL_CHECK_EVERY == 0:
                stats = grpo.rollout_stats(policy, DISTILL_CHECK_PROBLEMS, temperature=1.0,
                                           seed=0)
                rows.append({"run": run, "step": step, "seconds": row["seconds"], **stats})
                print(run, rows[-1], flush=True)
        return check

    start = grpo.rollout_stats(student, DISTILL_CHECK_PROBLEMS, temperature=1.0, seed=0)
    for run in ("distill", "grpo"):
        rows.append({"run": run, "step": 0, "seconds": 0.0, **start})
    res = distill.distill(student, teacher, seconds=DISTILL_SECONDS, seed=0,
                          callback=checker("distill"))
    res.policy.save(DATA_DIR / "weights" / "reasoner_student_distill.pt")
    res = grpo.train_grpo(student, steps=None, seconds=DISTILL_SECONDS, seed=0,
                          callback=checker("grpo"))
    res.policy.save(DATA_DIR / "weights" / "reasoner_student_grpo.pt")
    _save_csv(pd.DataFrame(rows), "grpo_distill.csv")


if __name__ == "__main__":
    torch.set_num_threads(1)
    stages = sys.argv[1:] or ["base", "main", "eval", "ablations", "student", "distill"]
    for stage in stages:
        {"base": make_base, "main": make_main, "eval": make_eval, "ablations": make_ablations,
         "student": make_student, "distill": make_distill}[stage]()
