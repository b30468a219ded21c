"""Train the MoE chapter's tiny char-level LMs and write their logs and weights.

Writes (all derived, source_id "book"):
  data/moe_runs.csv           one row per run: config, final loss, imbalance, params
  data/moe_training_log.csv   per 5-step window: loss, aux loss, load imbalance
  data/moe_expert_load.csv    per 25-step window, layer and expert: share of token-slots
  data/weights/moe_{none,aux_loss,bias}.pt   the three balancing runs (float16)

Needs the seed articles (explainer.data.SEEDS_DIR). About 3-5 minutes on 2 CPU cores:

    .venv/bin/python scripts/train_moe.py
"""

from __future__ import annotations

import argparse
import math
import sys

import pandas as pd
import torch

from explainer.data import DATA_DIR
from explainer.moe import MoEConfig
from explainer.moe_lm import save, train

LOG_EVERY = 5  # steps averaged into one row of moe_training_log.csv
LOAD_EVERY = 25  # steps averaged into one row of moe_expert_load.csv
D_MODEL = 64

# (run, family, MoEConfig overrides). "balance" family: same layer, three cures.
# "granularity" family: same total and activated expert width (256 / 64 hidden
# units), split coarse, fine, or fine + 1 shared (DeepSeekMoE, arXiv 2401.06066).
RUNS = [
    ("none", "balance", dict(balance="none")),
    ("aux_loss", "balance", dict(balance="aux_loss")),
    ("bias", "balance", dict(balance="bias")),
    ("sigmoid_none", "score_func", dict(balance="none", score_func="sigmoid")),
    ("sigmoid_bias", "score_func", dict(balance="bias", score_func="sigmoid")),
    ("coarse", "granularity", dict(balance="bias", n_routed_experts=4, n_shared_experts=0,
                                   n_activated_experts=1, moe_inter_dim=64)),
    ("fine", "granularity", dict(balance="bias", n_routed_experts=16, n_shared_experts=0,
                                 n_activated_experts=4, moe_inter_dim=16)),
    ("fine_shared", "granularity", dict(balance="bias", n_routed_experts=15, n_shared_experts=1,
                                        n_activated_experts=3, moe_inter_dim=16)),
]
BASE = dict(d_model=D_MODEL, n_routed_experts=8, n_shared_experts=1, n_activated_experts=2,
            moe_inter_dim=32, score_func="softmax", gamma=0.01, aux_alpha=0.01)
SHIPPED = {"none", "aux_loss", "bias"}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=500)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    torch.set_num_threads(2)

    runs, logs, loads = [], [], []
    for name, family, overrides in RUNS:
        cfg = MoEConfig(**{**BASE, **overrides})
        res = train(cfg, steps=args.steps, seed=args.seed)
        h = res.history
        tail = h.iloc[-50:]
        counts = res.model.param_counts()
        runs.append({
            "run": name, "family": family, "score_func": cfg.score_func, "balance": cfg.balance,
            "n_routed_experts": cfg.n_routed_experts, "n_shared_experts": cfg.n_shared_experts,
            "top_k": cfg.n_activated_experts, "moe_inter_dim": cfg.moe_inter_dim,
            "gamma": cfg.gamma if cfg.balance == "bias" else 0.0,
            "aux_alpha": cfg.aux_alpha if cfg.balance == "aux_loss" else 0.0,
            "steps": args.steps, "final_loss": round(tail.loss.mean(), 4),
            "val_loss": round(res.val_loss, 4), "final_imbalance": round(tail.imbalance.mean(), 3),
            "max_imbalance": cfg.n_routed_experts / cfg.n_activated_experts,
            "total_params": counts["total"], "activated_params": counts["activated"],
            "combinations": math.comb(cfg.n_routed_experts, cfg.n_activated_experts),
            "train_seconds": round(res.seconds, 1), "source_id": "book",
        })
        win = (h.step - 1) // LOG_EVERY
        g = h.groupby(win).agg(step=("step", "max"), loss=("loss", "mean"),
                               aux_loss=("aux_loss", "mean"), imbalance=("imbalance", "mean"))
        logs.append(g.assign(run=name).round(4))
        n_win = args.steps // LOAD_EVERY
        # (windows, LOAD_EVERY, layers, experts) -> mean share per window
        ld = res.loads[: n_win * LOAD_EVERY].reshape(n_win, LOAD_EVERY, *res.loads.shape[1:])
        share = ld.sum(axis=1) / ld.sum(axis=(1, 3))[..., None]  # (windows, layers, experts)
        for w in range(n_win):
            for layer in range(share.shape[1]):
                for e in range(share.shape[2]):
                    loads.append({"run": name, "step": (w + 1) * LOAD_EVERY, "layer": layer + 1,
                                  "expert": e, "share": round(float(share[w, layer, e]), 4)})
        if name in SHIPPED:
            save(res.model, DATA_DIR / "weights" / f"moe_{name}.pt")
        print(f"{name:13s} loss {tail.loss.mean():.3f} val {res.val_loss:.3f} "
              f"imbalance {tail.imbalance.mean():.2f} ({res.seconds:.0f}s)", file=sys.stderr)

    pd.DataFrame(runs).to_csv(DATA_DIR / "moe_runs.csv", index=False)
    cols = ["run", "step", "loss", "aux_loss", "imbalance"]
    pd.concat(logs)[cols].assign(source_id="book").to_csv(
        DATA_DIR / "moe_training_log.csv", index=False)
    pd.DataFrame(loads).assign(source_id="book").to_csv(
        DATA_DIR / "moe_expert_load.csv", index=False)


if __name__ == "__main__":
    main()
