"""Train the MTP chapter's character LMs, with and without multi-token prediction.

Three runs share everything (the book's small GPT, the batches, the seed, the steps) except
the objective: ``plain`` (next token only), ``mtp`` (V3's MTP at depth 1, lambda 0.3) and
``mtp2`` (depth 2). Writes (derived, source_id ``mtp_training``):

  data/mtp_corpus.txt          the training text, rebuilt from the book's prose with --corpus
  data/mtp_training_log.csv    per logged step: training losses; held-out losses every eval
  data/mtp_runs.csv            one row per run: final held-out main and MTP losses, params, time
  data/weights/mtp_{plain,d1,d2}.pt   the three models (float16)
  data/mtp_seed_check.csv      plain and mtp trained again with seed 1 (held-out loss only)

About 10-15 minutes per run on one busy CPU core:

    .venv/bin/python scripts/train_mtp.py [--corpus]

or, to share the runs between processes (as for the shipped files):

    for r in plain mtp mtp2; do .venv/bin/python scripts/train_mtp.py --runs $r \\
        --partial /tmp/mtp & done; wait; .venv/bin/python scripts/train_mtp.py --merge /tmp/mtp

and the second-seed check (its weights are not kept: use a scratch EXPLAINER_DATA):

    for r in plain mtp; do EXPLAINER_DATA=/tmp/scratch .venv/bin/python scripts/train_mtp.py \\
        --runs $r --seed 1 --partial /tmp/s1 & done; wait
    .venv/bin/python scripts/train_mtp.py --seed-check /tmp/s1
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path

import pandas as pd
import torch

from explainer.data import DATA_DIR
from explainer.gpt import GPTConfig
from explainer.mtp import (CORPUS_FILE, PRETRAINED, MTPLM, MTPConfig, build_corpus, save,
                           split_corpus)

RUNS = [("plain", None), ("mtp", MTPConfig(depth=1, lam=0.3)),
        ("mtp2", MTPConfig(depth=2, lam=0.3))]
MAX_D = 2
SIZE = dict(block_size=96, n_layer=4, n_head=4, n_embd=64, dropout=0.0, bias=True,
            tie_weights=True)
LOG_EVERY, EVAL_EVERY = 20, 200


@torch.no_grad()
def evaluate(model: MTPLM, data: torch.Tensor, T: int) -> dict[str, float]:
    """Held-out losses over non-overlapping windows (the same windows for every run)."""
    model.eval()
    w = T + 1 + MAX_D
    n = len(data) // w
    seq = data[: n * w].view(n, w)
    out = {}
    for i in range(0, n, 64):
        part = model.losses(seq[i:i + 64, : T + 1 + model.depth])
        for k, v in part.items():
            out[k] = out.get(k, 0.0) + float(v) * len(seq[i:i + 64]) / n
    model.train()
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--batch", type=int, default=12)
    parser.add_argument("--context", type=int, default=93, help="training window T")
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--corpus", action="store_true", help="rebuild data/mtp_corpus.txt")
    parser.add_argument("--runs", nargs="+", default=[r for r, _ in RUNS],
                        help="train only these runs (several processes can share the work)")
    parser.add_argument("--partial", type=Path, default=None,
                        help="write this process's log rows to DIR/<run>_*.csv, not data/")
    parser.add_argument("--merge", type=Path, default=None,
                        help="only merge DIR/<run>_*.csv (all runs) into data/")
    parser.add_argument("--seed-check", type=Path, default=None,
                        help="only write DIR/{plain,mtp}_runs.csv (another seed) to "
                             "data/mtp_seed_check.csv")
    args = parser.parse_args(argv)
    if args.seed_check:
        rows = pd.concat([pd.read_csv(args.seed_check / f"{r}_runs.csv") for r in ("plain", "mtp")])
        rows[["run", "seed", "steps", "held_out_main_loss", "source_id"]].to_csv(
            DATA_DIR / "mtp_seed_check.csv", index=False, float_format="%.4f")
        return
    if args.merge:
        for kind in ("log", "runs"):
            frames = [pd.read_csv(args.merge / f"{name}_{kind}.csv") for name, _ in RUNS]
            out = "mtp_training_log.csv" if kind == "log" else "mtp_runs.csv"
            pd.concat(frames).to_csv(DATA_DIR / out, index=False, float_format="%.4f")
        return
    torch.set_num_threads(args.threads)

    if args.corpus:
        (DATA_DIR / CORPUS_FILE).write_text(build_corpus(Path(__file__).resolve().parents[1]),
                                            encoding="utf-8")
    train_text, held_text = split_corpus()
    vocab = "".join(sorted(set(train_text + held_text)))
    config = GPTConfig(vocab_size=len(vocab), vocab=vocab, **SIZE)
    stoi = {c: i for i, c in enumerate(vocab)}
    train_data = torch.tensor([stoi[c] for c in train_text])
    held_data = torch.tensor([stoi[c] for c in held_text])
    T = args.context
    print(f"corpus: {len(train_text)} train / {len(held_text)} held-out characters, "
          f"vocab {len(vocab)}")

    logs, runs = [], []
    for name, mtp in RUNS:
        if name not in args.runs:
            continue
        torch.manual_seed(args.seed)
        model = MTPLM(config, mtp)
        opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.0)
        sched = torch.optim.lr_scheduler.LambdaLR(
            opt, lambda s: min(1.0, (s + 1) / 100) * 0.5 * (1 + math.cos(math.pi * s / args.steps)))
        gen = torch.Generator().manual_seed(args.seed)  # same batches for every run
        offsets = torch.arange(T + 1 + MAX_D)
        t0, window = time.perf_counter(), []
        for step in range(1, args.steps + 1):
            starts = torch.randint(0, len(train_data) - len(offsets), (args.batch,), generator=gen)
            seq = train_data[starts[:, None] + offsets][:, : T + 1 + model.depth]
            loss = model.losses(seq)
            opt.zero_grad(set_to_none=True)
            loss["total"].backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            window.append({k: v.item() for k, v in loss.items()})
            if step % LOG_EVERY == 0:
                row = {"run": name, "step": step, "depth": model.depth,
                       **{f"train_{k}": sum(w[k] for w in window) / len(window)
                          for k in window[0]}}
                window = []
                if step % EVAL_EVERY == 0 or step == args.steps:
                    held = evaluate(model, held_data, T)
                    row.update({f"held_out_{k}": v for k, v in held.items()})
                    print(name, step, f"{time.perf_counter() - t0:.0f}s",
                          {k: round(v, 3) for k, v in row.items() if k.startswith("held")})
                logs.append(row)
        seconds = time.perf_counter() - t0
        final = evaluate(model, held_data, T)
        counts = model.param_counts()
        runs.append({"run": name, "depth": model.depth, "lam": mtp.lam if mtp else 0.0,
                     "steps": args.steps, "batch": args.batch, "context": T, "lr": args.lr,
                     "seed": args.seed, "held_out_main_loss": final["main"],
                     **{f"held_out_depth_{k}_loss": final[f"depth_{k}"]
                        for k in range(1, model.depth + 1)},
                     "main_params": counts["main"], "mtp_params": counts["mtp"],
                     "train_seconds": round(seconds, 1), "source_id": "mtp_training"})
        save(model, DATA_DIR / "weights" / PRETRAINED[name],
             meta={"run": name, "steps": args.steps, "seed": args.seed, "context": T})
    log = pd.DataFrame(logs)
    log["source_id"] = "mtp_training"
    if args.partial:
        args.partial.mkdir(parents=True, exist_ok=True)
        for name in args.runs:
            log[log.run == name].to_csv(args.partial / f"{name}_log.csv", index=False)
            pd.DataFrame([r for r in runs if r["run"] == name]).to_csv(
                args.partial / f"{name}_runs.csv", index=False)
    else:
        log.to_csv(DATA_DIR / "mtp_training_log.csv", index=False, float_format="%.4f")
        pd.DataFrame(runs).to_csv(DATA_DIR / "mtp_runs.csv", index=False, float_format="%.4f")
    print(pd.DataFrame(runs).to_string())


if __name__ == "__main__":
    main()
