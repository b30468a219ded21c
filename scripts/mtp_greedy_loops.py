"""Does a better-trained MTP model stop looping at temperature 0? Writes data/mtp_greedy_loops.csv.

The chapter's greedy passage loops. Is that because the model is small and short-trained? This
compares the shipped ``mtp`` model (2,000 steps) with the same model and recipe trained three
times as long (6,000 steps; its weights are not shipped), on what the chapter reports: held-out
loss (nats per character), and the share of distinct word trigrams in greedy text
(:func:`explainer.mtp.distinct_trigram_share`: 1.0 means no three words repeat), over the
decoding benchmark's 16 held-out prompts (96 characters each) and for the chapter's passage.

    # the longer run (about 10 minutes with 2 threads on the 2-core machine, nothing else running)
    .venv/bin/python scripts/train_mtp.py --steps 6000 --runs mtp --threads 2 \\
        --partial /tmp/mtp_long --save --weights-dir /tmp/mtp_long
    .venv/bin/python scripts/mtp_greedy_loops.py /tmp/mtp_long/mtp_d1.pt

Decoding is speculative (the chapter's decoder), which writes exactly the greedy text.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd
import torch

from explainer import mtp
from explainer.data import DATA_DIR
from train_mtp import BLOCK, MAX_D, evaluate

PROMPTS, TOKENS = 16, 96  # as benchmarks/mtp.py


def measure(model: mtp.MTPLM, steps: int, label: str) -> dict:
    held = torch.tensor(model.tokenizer.encode(mtp.held_out_text()))
    loss = evaluate(model, held, BLOCK - 1 - MAX_D)["main"]
    shares = []
    for prompt in mtp.held_out_prompts(PROMPTS):
        text, _ = model.generate(prompt, TOKENS, speculative=True, temperature=0.0)
        shares.append(mtp.distinct_trigram_share(text))
    text, _ = model.generate(mtp.PASSAGE_PROMPT[-mtp.PASSAGE_CONTEXT:], mtp.PASSAGE_TOKENS,
                             speculative=True, temperature=0.0)
    return {"model": label, "steps": steps, "held_out_main_loss": loss, "prompts": PROMPTS,
            "tokens_per_prompt": TOKENS,
            "mean_distinct_trigram_share": sum(shares) / len(shares),
            "loop_free_prompts": sum(s == 1.0 for s in shares),
            "passage_distinct_trigram_share": mtp.distinct_trigram_share(text),
            "passage": text, "source_id": "mtp_training"}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("longer", type=Path, help="the longer run's weights (mtp_d1.pt)")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    torch.manual_seed(0)
    longer, meta = mtp.load(args.longer)
    shipped = mtp.load_pretrained("mtp")
    rows = [measure(shipped, int(mtp.load_results()["runs"].loc["mtp", "steps"]), "shipped"),
            measure(longer, int(meta["steps"]), "trained longer")]
    table = pd.DataFrame(rows)
    table.to_csv(DATA_DIR / "mtp_greedy_loops.csv", index=False, float_format="%.4f")
    print(table.drop(columns="passage").to_string())


if __name__ == "__main__":
    main()
