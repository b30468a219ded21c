"""Benchmark explainer.grpo: wall time of GRPO from the shipped base to 90% held-out accuracy.

For each of 3 seeds, runs ``train_grpo(load_pretrained("base"), seed=s, steps=None,
seconds=LIMIT)`` (the shipped recipe) and, every ``CHECK_EVERY`` steps, measures
accuracy at temperature 1 on 200 held-out five-digit problems (one sample each; the
checking time is not counted). Prints the training seconds at which each seed first
reached 90% (or "not reached" within the limit), then the median and the worst, and
the shipped base and GRPO models' held-out accuracy for reference.

Prints the load average too: the machine is shared, so times depend on what else runs.
Usage: ``.venv/bin/python benchmarks/grpo.py [limit_seconds]`` (default 600).
"""

from __future__ import annotations

import os
import statistics
import sys
import time

import torch

from explainer import grpo
from explainer.reasoning import MAX_DIGITS, load_pretrained, make_problems

TARGET = 0.90
CHECK_EVERY = 5
SEEDS = (1, 2, 3)


def main(argv: list[str]) -> int:
    limit = float(argv[0]) if argv else 600.0
    torch.set_num_threads(1)
    print(f"torch {torch.__version__}, threads 1, cpus {os.cpu_count()}, "
          f"load average {os.getloadavg()}")
    held_out = make_problems(200, digits=MAX_DIGITS, seed=2025)
    for name in ("base", "grpo"):
        stats = grpo.rollout_stats(load_pretrained(name), held_out, temperature=1.0, seed=0)
        print(f"shipped {name:4s}: accuracy at T=1 {stats['accuracy']:.1%}, scratchpad "
              f"{stats['scratchpad_share']:.1%}, {stats['response_length']:.1f} characters")
    times: list[float] = []
    for seed in SEEDS:
        state = {"check": 0.0, "hit": None, "best": 0.0}

        def check(step, row, policy, state=state):
            if step % CHECK_EVERY:
                return False
            t = time.perf_counter()
            acc = grpo.rollout_stats(policy, held_out, temperature=1.0, seed=0)["accuracy"]
            state["check"] += time.perf_counter() - t
            state["best"] = max(state["best"], acc)
            print(f"  seed {seed} step {step:3d}: {acc:.1%} at {row['seconds']:.0f} s "
                  f"(load {os.getloadavg()[0]:.1f})", flush=True)
            if acc >= TARGET:
                state["hit"] = row["seconds"]
                return True
            return False

        grpo.train_grpo(load_pretrained("base"), seed=seed, steps=None, seconds=limit,
                        callback=check)
        hit = state["hit"]
        print(f"seed {seed}: " + (f"{hit:.0f} s to {TARGET:.0%}" if hit is not None
                                  else f"not reached in {limit:.0f} s") +
              f" (best held-out accuracy {state['best']:.1%})")
        times.append(hit if hit is not None else float("inf"))
    print(f"median {statistics.median(times):.0f} s, worst {max(times):.0f} s "
          f"(target: 180 s), load average {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
