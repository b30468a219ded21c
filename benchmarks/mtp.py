"""Self-speculative decoding with the chapter's MTP model, beside DeepSeek-V3's figures.

One run measures, on prompts cut from the held-out text, at batch 1 on the CPU, one thread:

* the acceptance rate of the drafted tokens (V3 §5.4.3: 85-90% for the second token);
* main-model forward passes per written token, with the sanity check
  tokens per pass ~ 1 + accepted drafts per pass (for depth 1: 1 + acceptance rate);
* wall-clock tokens per second, speculative against plain decoding of the *same* model
  (V3: 1.8x): ``--rounds`` rounds (at least 5), each decoding every prompt plainly and
  speculatively in turn (interleaved, so a change in machine load hits both); the median
  over rounds and the spread (lowest and highest round) are reported;
* that greedy speculative text is identical to plain greedy text on every prompt;
* the pieces of a step (median milliseconds, interleaved): a plain step, the verifying pass
  over two tokens, and the draft (the MTP module fed with the verify pass's hidden state);
* the showcase passages (greedy and sampled) and the share of distinct word trigrams in each.

Writes (derived, source_id ``mtp_benchmark``):

  data/mtp_benchmark.csv    one row per temperature
  data/mtp_acceptance.csv   acceptance by character class of the drafted character
  data/mtp_passage.csv      the passages, character by character, with their marks

    nice -n 10 .venv/bin/python benchmarks/mtp.py [--prompts 16] [--tokens 96] [--rounds 7]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

import pandas as pd
import torch

from explainer import mtp
from explainer.data import DATA_DIR
from explainer.gpt import KVCache

PROMPT_CHARS = 24
TEMPERATURES = (0.0, mtp.SAMPLE_TEMPERATURE)


def prompts(n: int) -> list[str]:
    """``n`` prompts of 24 characters: paragraph openings of the held-out text, in order."""
    return mtp.held_out_prompts(n, PROMPT_CHARS)


@torch.no_grad()
def pass_costs(model: mtp.MTPLM, reps: int = 300) -> dict[str, float]:
    """Median milliseconds of the pieces of a decoding step, 48 positions in.

    ``main_1``: a plain step (the main model on one token); ``main_verify``: the main model on
    two tokens (a speculative step's pass); ``draft``: the MTP module on the verify pass's
    last hidden state and the token just chosen, the shared head and the argmax.
    """
    ids = torch.tensor([model.tokenizer.encode(mtp.held_out_text()[:51])])
    prefix, nxt = ids[:, :48], ids[:, 48:]
    cache = KVCache()
    _, h = mtp._extend(model.gpt, prefix, cache)
    _, kv = model.mtp[0](h[:, :47], model.gpt.transformer.wte(ids[:, 1:48]))

    def main_pass(n: int) -> None:
        mtp._extend(model.gpt, nxt[:, :n], cache)
        cache.crop(48)

    def draft() -> None:
        x, _ = model.mtp[0](h[:, -1:], model.gpt.transformer.wte(nxt[:, :1]), kv)
        int(model.gpt.output_head(x[0, -1]).argmax())

    pieces = {"main_1_ms": lambda: main_pass(1), "main_verify_ms": lambda: main_pass(2),
              "draft_ms": draft}
    times: dict[str, list[float]] = {k: [] for k in pieces}
    for _ in range(reps):  # interleaved, so a change in machine load hits all three alike
        for k, fn in pieces.items():
            t0 = time.perf_counter()
            fn()
            times[k].append(time.perf_counter() - t0)
    return {k: 1000 * statistics.median(v) for k, v in times.items()}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prompts", type=int, default=16)
    parser.add_argument("--tokens", type=int, default=96)
    parser.add_argument("--rounds", type=int, default=7, help="timed rounds (median kept)")
    args = parser.parse_args(argv)
    if args.rounds < 5:
        parser.error("--rounds must be at least 5 (the median of at least five runs)")
    torch.set_num_threads(1)
    where = (f"CPU {platform.machine()}, 1 thread, {os.cpu_count()} cores shared with other "
             "work, batch 1")
    ps = prompts(args.prompts)
    model = mtp.load_pretrained("mtp")
    n_tok = args.tokens * len(ps)
    rows, classes = [], []
    for temperature in TEMPERATURES:
        plain_rate, spec_rate, ratio = [], [], []
        for r in range(args.rounds):
            plain_s = spec_s = 0.0
            acc = drafted = passes = 0
            identical = True
            by_class: dict[str, list[int]] = {}
            for i, prompt in enumerate(ps):  # plain, then speculative, prompt by prompt
                kw = dict(temperature=temperature, seed=i)
                plain, sp = model.generate(prompt, args.tokens, **kw)
                spec, ss = model.generate(prompt, args.tokens, speculative=True, **kw)
                plain_s += sp["seconds"]
                spec_s += ss["seconds"]
                identical &= plain == spec
                acc += ss["accepted"]
                drafted += ss["drafted"]
                passes += ss["forward_passes"]
                for _, ch, _, ok in ss["drafts"]:
                    c = by_class.setdefault(mtp.char_class(ch), [0, 0])
                    c[0] += 1
                    c[1] += ok
            plain_rate.append(n_tok / plain_s)
            spec_rate.append(n_tok / spec_s)
            ratio.append(plain_s / spec_s)
        costs = pass_costs(model)
        rounds = passes - len(ps)  # passes after each prompt's first
        tpp = n_tok / passes
        rows.append({
            "model": "mtp", "draft_depth": 1, "temperature": temperature, "prompts": len(ps),
            "tokens_per_prompt": args.tokens, "rounds": args.rounds,
            "drafted": drafted, "accepted": acc, "acceptance_rate": acc / drafted,
            "forward_passes": passes, "tokens_per_pass": tpp, "accepted_per_step": acc / rounds,
            "plain_tokens_per_s": statistics.median(plain_rate),
            "plain_tokens_per_s_low": min(plain_rate), "plain_tokens_per_s_high": max(plain_rate),
            "spec_tokens_per_s": statistics.median(spec_rate),
            "spec_tokens_per_s_low": min(spec_rate), "spec_tokens_per_s_high": max(spec_rate),
            "speedup": statistics.median(ratio), "speedup_low": min(ratio),
            "speedup_high": max(ratio),
            "identical_to_plain": identical if temperature == 0 else None,
            **costs,
            # what the step costs predict: tokens per pass x (plain step / speculative step)
            "predicted_speedup": tpp * costs["main_1_ms"]
            / (costs["main_verify_ms"] + costs["draft_ms"]),
            "main_layers": model.gpt.config.n_layer, "mtp_layers": model.depth,
            "where": where, "source_id": "mtp_benchmark",
        })
        for cls, (n, ok) in sorted(by_class.items()):
            classes.append({"model": "mtp", "draft_depth": 1, "temperature": temperature,
                            "char_class": cls, "drafted": n, "accepted": ok,
                            "acceptance_rate": ok / n, "source_id": "mtp_benchmark"})
        r = rows[-1]
        print(f"T={temperature}: acceptance {r['acceptance_rate']:.1%}, tokens/pass "
              f"{r['tokens_per_pass']:.2f} (1 + accepted/step = {1 + r['accepted_per_step']:.2f}); "
              f"plain {r['plain_tokens_per_s']:.0f} tok/s ({min(plain_rate):.0f}-"
              f"{max(plain_rate):.0f}), speculative {r['spec_tokens_per_s']:.0f} tok/s "
              f"({min(spec_rate):.0f}-{max(spec_rate):.0f}); speed-up {r['speedup']:.2f}x "
              f"({min(ratio):.2f}-{max(ratio):.2f}, median of {args.rounds} rounds); identical "
              f"{r['identical_to_plain']}; step (ms): plain {r['main_1_ms']:.2f}, verify "
              f"{r['main_verify_ms']:.2f}, draft {r['draft_ms']:.2f} -> predicted "
              f"{r['predicted_speedup']:.2f}x", flush=True)
    bench = pd.DataFrame(rows)
    bench.to_csv(DATA_DIR / "mtp_benchmark.csv", index=False, float_format="%.4f")
    pd.DataFrame(classes).to_csv(DATA_DIR / "mtp_acceptance.csv", index=False,
                                 float_format="%.4f")
    frames = []
    for temperature in TEMPERATURES:
        context, text, marks, _ = mtp.passage(temperature=temperature)
        frames.append(pd.DataFrame({"temperature": temperature, "index": range(len(text)),
                                    "char": list(text), "accepted_draft": marks,
                                    "prompt": context, "source_id": "mtp_benchmark"}))
        print(f"passage T={temperature} (distinct word trigrams "
              f"{mtp.distinct_trigram_share(text):.0%}): {context}|{text}")
    pd.concat(frames).to_csv(DATA_DIR / "mtp_passage.csv", index=False)
    v3 = pd.read_csv(DATA_DIR / "mtp_v3.csv").set_index("quantity")
    d1 = bench[bench.temperature == 0].iloc[0]
    print(f"\nV3 (§5.4.3): acceptance {v3.loc['acceptance_rate', 'low']:.0%}-"
          f"{v3.loc['acceptance_rate', 'high']:.0%}, speed-up {v3.loc['speedup_tps', 'low']}x; "
          f"here (greedy): acceptance {d1.acceptance_rate:.0%}, tokens/pass "
          f"{d1.tokens_per_pass:.2f}, plain {d1.plain_tokens_per_s:.0f} tok/s vs speculative "
          f"{d1.spec_tokens_per_s:.0f} tok/s, speed-up {d1.speedup:.2f}x "
          f"({d1.speedup_low:.2f}-{d1.speedup_high:.2f}), identical {d1.identical_to_plain} "
          f"({where})")


if __name__ == "__main__":
    main()
