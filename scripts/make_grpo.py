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
* ``seeds``: the main run and the ``beta = 0`` run on seeds ``SEED_CHECK_SEEDS``; means of
  their last 20 steps (``data/grpo_seeds.csv``).
* ``student``: two starting points for the small student (:data:`explainer.distill.STUDENT`):
  ``reasoner_student_base.pt``, made by the base's two-stage recipe, and
  ``reasoner_student_direct_base.pt``, trained on direct answers only with the shipped direct
  model's recipe (it has never seen a scratchpad).
* ``distill``: from each student base, distillation (the shipped GRPO model as teacher)
  against GRPO for ``DISTILL_SECONDS`` of training each, with held-out accuracy every
  ``DISTILL_CHECK_EVERY`` steps (``data/grpo_distill.csv``; distillation from the direct student
  runs ``DISTILL_LONGER`` seconds) and the four trained students
  (``reasoner_student[_direct]_{distill,grpo}.pt``); the GRPO runs' per-step logs go to
  ``data/grpo_log.csv`` (runs ``student_grpo``, ``student_direct_grpo``). ``distill:<base>``
  redoes one base, ``distill:<base>:grpo`` one method.

* ``checkpoints``: the ``main`` run again, its policy saved at ``grpo.RUN_CHECKPOINTS``
  to ``data/weights/grpo_run/`` for the page's "learning to think" panel (checked: the rerun's
  log equals the shipped one up to the last checkpoint saved).

Usage: ``python scripts/make_grpo.py [base] [main] [eval] [ablations] [student] [distill]``
(``distill:<base>`` for one starting student).
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
ABLATION_STEPS = grpo.STEPS  # as long as the main run
ABLATIONS = {"beta0": {"beta": 0.0}, "format_reward": {"reward": "format"}}
# the never-saw-a-scratchpad student: the shipped direct model's recipe (600 steps, lr 3e-3).
# Trained as long as the other student base (3,000 steps) it answers directly 98.5% right
# (measured 2026-11-25), which leaves neither method anything to do.
STUDENT_DIRECT_STEPS = 600
SEED_CHECK_SEEDS = (1, 2)  # seed 0 is the main run and the beta0 ablation
DISTILL_BASES = ("student_base", "student_direct_base")  # the two starting students
DISTILL_SECONDS = 180  # training seconds for each run
# distillation gets longer from the student that never saw a scratchpad: in 180 s it learns the
# format but hardly the digits, while GRPO from that base cannot move at all (no sample is ever
# right, so every advantage is zero and its weights stay the base's, which the chapter checks)
DISTILL_LONGER = {"student_direct_base": 600}
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
    make_student_direct()


def make_student_direct() -> None:
    """The same student and training budget, never shown a scratchpad (cot_share 0)."""
    t0 = time.perf_counter()
    res = train("mixed", steps=STUDENT_DIRECT_STEPS, seed=0, cot_share=0.0,
                config=distill.STUDENT)
    res.reasoner.save(DATA_DIR / "weights" / "reasoner_student_direct_base.pt")
    stats = grpo.rollout_stats(res.reasoner, EVAL_PROBLEMS, temperature=1.0, samples=4, seed=0)
    print(f"student_direct_base: {res.steps} steps in {time.perf_counter() - t0:.0f} s; {stats}",
          flush=True)


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


def make_checkpoints() -> None:
    """The shipped run again (same seed, same recipe), its policy saved at the steps of
    :data:`explainer.grpo.RUN_CHECKPOINTS` to ``data/weights/grpo_run/step_NNN.pt`` (fp16;
    step 0 is the shipped base and the last step the shipped GRPO model, not saved again).

    One thread, the same seed: the rerun's per-step log must equal the shipped run's
    (``data/grpo_log.csv``, run ``main``; accuracy, scratchpad share and response length)
    at every step up to the last checkpoint saved, or nothing is written. Measured
    2026-12-03: equal through step 70; float rounding (loss differences of 1e-9 from step 2)
    then changes a sample and the two runs part, ending 0.0077 apart in weights. So the
    checkpoints stop at step 50 and the panel's last step is the shipped model itself."""
    out = DATA_DIR / "weights" / "grpo_run"
    shipped = pd.read_csv(DATA_DIR / "grpo_log.csv").query("run == 'main'").set_index("step")
    steps = [s for s in grpo.RUN_CHECKPOINTS if 0 < s < grpo.STEPS]
    saved: dict[int, dict] = {}
    parted: list[int] = []

    def record(step, row, policy):
        want = shipped.loc[step]
        if (abs(row["accuracy"] - want["accuracy"]) > 1e-5
                or abs(row["scratchpad_share"] - want["scratchpad_share"]) > 1e-5
                or abs(row["response_length"] - want["response_length"]) > 1e-3):
            parted.append(step)
        if step in steps:
            saved[step] = {k: v.detach().clone() for k, v in policy.model.state_dict().items()}
            print(f"step {step:3d} acc {row['accuracy']:.3f} (shipped log {want['accuracy']:.3f})",
                  flush=True)
        if step >= max(steps):
            raise _Stop

    try:
        res = grpo.train_grpo(load_pretrained("base"), seed=0, callback=record)
    except _Stop:
        pass
    if parted:
        raise SystemExit(f"the rerun parts from the shipped log at step {parted[0]}: "
                         "not writing checkpoints of a different run")
    out.mkdir(parents=True, exist_ok=True)
    policy = load_pretrained("base")
    for step, state in saved.items():
        policy.model.load_state_dict(state)
        policy.meta = {"grpo_step": step, "run": "main", "seed": 0}
        policy.save(out / f"step_{step:03d}.pt")
    print(f"wrote {len(saved)} checkpoints to {out}, each equal in its log to the shipped run")


class _Stop(Exception):
    """Ends a rerun at its last checkpoint."""


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


def make_seeds() -> None:
    """The main recipe and the beta = 0 ablation on more seeds: means of the last 20 steps."""
    base = load_pretrained("base")
    rows = []
    for seed in SEED_CHECK_SEEDS:
        for beta in (grpo.BETA, 0.0):
            res = grpo.train_grpo(base, seed=seed, beta=beta)
            tail = res.log[res.log["step"] > grpo.STEPS - 20].mean(numeric_only=True)
            rows.append({"beta": beta, "seed": seed, **{k: tail[k] for k in (
                "accuracy", "kl", "right_with_slips", "response_length")}})
            print(rows[-1], flush=True)
    _save_csv(pd.DataFrame(rows), "grpo_seeds.csv")


def make_distill(bases: tuple[str, ...] = DISTILL_BASES,
                 methods: tuple[str, ...] = ("distill", "grpo")) -> None:
    teacher = load_pretrained("grpo")
    rows: list[dict] = []
    for base in bases:
        student = load_pretrained(base)
        name = base.removesuffix("_base")  # student, student_direct

        def checker(run, base=base):
            def check(step, row, policy):
                if step % DISTILL_CHECK_EVERY == 0:
                    stats = grpo.rollout_stats(policy, DISTILL_CHECK_PROBLEMS, temperature=1.0,
                                               seed=0)
                    rows.append({"base": base, "run": run, "step": step,
                                 "seconds": row["seconds"], **stats})
                    print(base, run, step, f"{row['seconds']:.0f}s", f"{stats['accuracy']:.3f}",
                          flush=True)
            return check

        start = grpo.rollout_stats(student, DISTILL_CHECK_PROBLEMS, temperature=1.0, seed=0)
        for run in methods:
            rows.append({"base": base, "run": run, "step": 0, "seconds": 0.0, **start})
        if "distill" in methods:
            seconds = DISTILL_LONGER.get(base, DISTILL_SECONDS)
            res = distill.distill(student, teacher, seconds=seconds, seed=0,
                                  callback=checker("distill"))
            res.policy.save(DATA_DIR / "weights" / f"reasoner_{name}_distill.pt")
        if "grpo" in methods:
            res = grpo.train_grpo(student, steps=None, seconds=DISTILL_SECONDS, seed=0,
                                  callback=checker("grpo"))
            res.policy.save(DATA_DIR / "weights" / f"reasoner_{name}_grpo.pt")
            _merge_log(f"{name}_grpo", res.log)  # its per-step log, beside the main run's
    new = pd.DataFrame(rows)
    path = DATA_DIR / "grpo_distill.csv"  # read at the end: other bases may be running beside
    old = pd.read_csv(path).drop(columns="source_id") if os.path.exists(path) else None
    if old is not None:
        done = set(zip(new["base"], new["run"]))
        old = old[[pair not in done for pair in zip(old["base"], old["run"])]]
        new = pd.concat([old, new])
    _save_csv(new.sort_values(["base", "run", "step"]).reset_index(drop=True),
              "grpo_distill.csv")


if __name__ == "__main__":
    torch.set_num_threads(1)
    stages = sys.argv[1:] or ["base", "main", "eval", "ablations", "student", "distill"]
    for stage in stages:
        if stage.startswith("distill:"):  # distill:<base>[:<method>], one starting student
            _, base, method = (stage + ":").split(":")[:3]
            make_distill((base,), (method,) if method else ("distill", "grpo"))
            continue
        {"base": make_base, "main": make_main, "eval": make_eval, "ablations": make_ablations,
         "seeds": make_seeds, "student": make_student, "student_direct": make_student_direct,
         "distill": make_distill, "checkpoints": make_checkpoints}[stage]()
