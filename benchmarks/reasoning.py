"""Benchmark explainer.reasoning: accuracy, retraining time, sampling speed.

Prints:
1. the shipped models' greedy exact-match accuracy, direct vs CoT, on a fixed
   held-out set of 1,000 five-digit problems (the same set as tests/test_reasoning.py);
2. the wall-clock time to retrain the CoT model from scratch (the shipped recipe,
   ``train("cot", steps=600, seed=0)``) until it first reaches >= 90% on 200
   held-out problems (checked every 50 steps; the checking time is not counted);
3. the time to sample 1,000 answers (CoT and direct, temperature 1.0).

It also prints the machine's load average, because the training time depends on
what else is running. Usage: ``.venv/bin/python benchmarks/reasoning.py [--no-train]``
"""

from __future__ import annotations

import os
import sys
import time

import torch

from explainer.reasoning import MAX_DIGITS, accuracy, load_pretrained, make_problems, train


def main(argv: list[str]) -> int:
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, "
          f"cpus {os.cpu_count()}, load average {os.getloadavg()}")
    held_out = make_problems(1000, digits=MAX_DIGITS, seed=2025)
    models = {fmt: load_pretrained(fmt) for fmt in ("direct", "cot")}
    for fmt, model in models.items():
        t = time.perf_counter()
        acc = accuracy(model, held_out)
        print(f"shipped {fmt:6s}: {acc:.1%} greedy exact match on 1,000 held-out "
              f"{MAX_DIGITS}-digit problems ({time.perf_counter() - t:.2f} s)")

    for fmt, model in models.items():
        problems = make_problems(1000, digits=MAX_DIGITS, seed=1)
        t = time.perf_counter()
        model.solve(problems, temperature=1.0, seed=0)
        print(f"sample 1,000 answers ({fmt}, T=1.0): {time.perf_counter() - t:.2f} s")

    if "--no-train" in argv:
        return 0
    check = make_problems(200, digits=MAX_DIGITS, seed=77)
    spent = {"eval": 0.0}
    reached: dict[str, float] = {}
    t0 = time.perf_counter()

    def callback(step: int, loss: float, reasoner) -> bool:
        t = time.perf_counter()
        train_s = t - t0 - spent["eval"]  # wall clock minus earlier checks
        acc = accuracy(reasoner, check)
        spent["eval"] += time.perf_counter() - t
        print(f"  step {step:4d}  loss {loss:.4f}  held-out {acc:.1%}  "
              f"training time {train_s:.1f} s", flush=True)
        if acc >= 0.9:
            reached.update(step=step, seconds=train_s, acc=acc)
            return True
        return False

    print("retraining CoT from scratch (shipped recipe: steps=600, seed=0) ...")
    train("cot", steps=600, seed=0, callback=callback)
    if reached:
        print(f"CoT reached {reached['acc']:.1%} (>= 90%) at step {reached['step']} after "
              f"{reached['seconds']:.1f} s of training")
    else:
        print("CoT did not reach 90% within 600 steps")
    print(f"load average after training: {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
