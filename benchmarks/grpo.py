"""Benchmark explainer.grpo: wall time of GRPO from the shipped base to 90% held-out accuracy.

For each of 3 seeds, runs ``train_grpo(load_pretrained("base"), seed=s, steps=None,
seconds=LIMIT)`` (the shipped recipe) and, every ``CHECK_EVERY`` steps, measures
accuracy at temperature 1 on 200 held-out five-digit problems (``CHECK_SAMPLES`` samples
each, so 800 answers; the checking time is not counted: ``train_grpo`` leaves callback
time out of its clock). Prints the training seconds at which each seed first
reached 90% and 95% (or "not reached" within the limit), the held-out accuracy at the
end of the budget, the median and the worst over seeds, and the shipped base and GRPO
models' held-out accuracy for reference.

Prints the load average too: the machine is shared, so times depend on what else runs.
Usage: ``.venv/bin/python benchmarks/grpo.py [limit_seconds]`` (default 180).
"""

from __future__ import annotations

import os
import statistics
import sys

import torch

from explainer import grpo
from explainer.reasoning import MAX_DIGITS, load_pretrained, make_problems

TARGETS = (0.90, 0.95)  # held-out accuracy at temperature 1; the target is 90%
CHECK_EVERY = 5
CHECK_SAMPLES = 4
SEEDS = (1, 2, 3)


def main(argv: list[str]) -> int:
    limit = float(argv[0]) if argv else 180.0
    torch.set_num_threads(1)
    print(f"torch {torch.__version__}, threads 1, cpus {os.cpu_count()}, "
          f"load average {os.getloadavg()}")
    held_out = make_problems(200, digits=MAX_DIGITS, seed=2025)
    for name in ("base", "grpo"):
        stats = grpo.rollout_stats(load_pretrained(name), held_out, temperature=1.0,
                                   samples=CHECK_SAMPLES, seed=0)
        print(f"shipped {name:4s}: accuracy at T=1 {stats['accuracy']:.1%}, scratchpad "
              f"{stats['scratchpad_share']:.1%}, {stats['response_length']:.1f} characters")
    first: dict[float, list[float]] = {t: [] for t in TARGETS}
    finals: list[float] = []
    for seed in SEEDS:
        hits: dict[float, float] = {}
        last = {"acc": float("nan"), "seconds": 0.0, "step": 0}

        def check(step, row, policy, hits=hits, last=last):
            if step % CHECK_EVERY:
                return False
            acc = grpo.rollout_stats(policy, held_out, temperature=1.0, samples=CHECK_SAMPLES,
                                     seed=0)["accuracy"]
            last.update(acc=acc, seconds=row["seconds"], step=step)
            for t in TARGETS:
                if acc >= t and t not in hits:
                    hits[t] = row["seconds"]
            if step % (4 * CHECK_EVERY) == 0:
                print(f"  seed {seed} step {step:3d}: {acc:.1%} at {row['seconds']:.0f} s "
                      f"(load {os.getloadavg()[0]:.1f})", flush=True)
            return False

        grpo.train_grpo(load_pretrained("base"), seed=seed, steps=None, seconds=limit,
                        callback=check)
        for t in TARGETS:
            first[t].append(hits.get(t, float("inf")))
        finals.append(last["acc"])
        print(f"seed {seed}: " + ", ".join(
            f"{t:.0%} first at {hits[t]:.0f} s" if t in hits else f"{t:.0%} not reached"
            for t in TARGETS) + f"; {last['acc']:.1%} at step {last['step']} "
              f"({last['seconds']:.0f} s)", flush=True)
    for t in TARGETS:
        print(f"time to {t:.0%}: median {statistics.median(first[t]):.0f} s, worst "
              f"{max(first[t]):.0f} s (limit {limit:.0f} s)")
    print(f"held-out accuracy after {limit:.0f} s: median {statistics.median(finals):.1%}, "
          f"worst {min(finals):.1%}; load average {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
