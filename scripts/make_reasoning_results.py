"""Make data/reasoning_results.csv: the sweeps behind chapters/reasoning.ipynb.

Runs the shipped models (data/weights/reasoner_{direct,cot}.pt) on fixed, seeded
problem sets and writes one tidy table (about a minute on a quiet 2-core CPU):

The direct format also gets a reference model trained twice as long
(``data/weights/reasoner_direct_2x.pt``, label ``direct_2x``) for the two greedy tables.

* ``by_carries``: greedy accuracy on 5-digit problems by number of carries;
* ``by_digits``: greedy accuracy by operand width (1..5 digits);
* ``sampling``: for each temperature, 64 samples per problem; pass@k (unbiased,
  Chen et al. 2021), majority vote over k samples (averaged over the 64/k disjoint
  groups of k samples), and the mean number of tokens written per sample.

Usage: ``.venv/bin/python scripts/make_reasoning_results.py``
"""

from __future__ import annotations

import sys
import time
from collections import defaultdict

import pandas as pd

from explainer.data import DATA_DIR, data_path
from explainer.reasoning import (
    FORMATS,
    MAX_DIGITS,
    TEMPERATURES,
    Reasoner,
    count_carries,
    load_pretrained,
    majority_vote,
    make_problems,
    parse_answer,
    pass_at_k,
)

N_CARRIES = 3000  # 5-digit problems for the by-carries table
N_DIGITS = 500  # problems per width for the by-digits table
N_SAMPLED, SAMPLES = 200, 64  # problems x samples per temperature
KS = (1, 2, 4, 8, 16, 32, 64)
OUT = DATA_DIR / "reasoning_results.csv"


def _truth(problems: list[str]) -> list[int]:
    return [sum(map(int, p.split("+"))) for p in problems]


def _row(**kw) -> dict:
    base = dict(experiment="", model="", digits=MAX_DIGITS, carries=None, temperature=0.0, k=1,
                metric="", value=0.0, n_problems=0, source_id="book")
    base.update(kw)
    return base


def main() -> int:
    rows: list[dict] = []
    t0 = time.perf_counter()
    for fmt in (*FORMATS, "direct_2x"):
        if fmt == "direct_2x":  # same recipe, 1200 steps instead of 600
            model = Reasoner.load(data_path("weights", "reasoner_direct_2x.pt"))
        else:
            model = load_pretrained(fmt)

        problems = make_problems(N_CARRIES, digits=MAX_DIGITS, seed=2025)
        answers = model.solve(problems)
        by_c: dict[int, list[bool]] = defaultdict(list)
        for p, a, t in zip(problems, answers, _truth(problems)):
            by_c[count_carries(p)].append(a[0] == t)
        for c, ok in sorted(by_c.items()):
            rows.append(_row(experiment="by_carries", model=fmt, carries=c, metric="accuracy",
                             value=sum(ok) / len(ok), n_problems=len(ok)))

        for d in range(1, MAX_DIGITS + 1):
            problems = make_problems(N_DIGITS, digits=d, seed=100 + d)
            answers = model.solve(problems)
            acc = sum(a[0] == t for a, t in zip(answers, _truth(problems))) / len(problems)
            rows.append(_row(experiment="by_digits", model=fmt, digits=d, metric="accuracy",
                             value=acc, n_problems=len(problems)))

        if fmt == "direct_2x":
            continue
        problems = make_problems(N_SAMPLED, digits=MAX_DIGITS, seed=31)
        truth = _truth(problems)
        for temp in (0.0, *TEMPERATURES):
            samples = 1 if temp == 0 else SAMPLES
            texts = model.generate(problems, temperature=temp, samples=samples, seed=7)
            answers = [[parse_answer(t, model.fmt) for t in row] for row in texts]
            # tokens the model wrote after the prompt (end mark included)
            written = [len(t) - model.config.prompt_len for row in texts for t in row]
            rows.append(_row(experiment="sampling", model=fmt, temperature=temp,
                             metric="tokens_per_sample", value=sum(written) / len(written),
                             n_problems=len(problems)))
            for k in KS:
                if k > samples:
                    break
                pk = sum(pass_at_k(samples, sum(a == t for a in row), k)
                         for row, t in zip(answers, truth)) / len(problems)
                groups = samples // k  # disjoint groups of k samples per problem
                maj = sum(majority_vote(row[g * k:(g + 1) * k]) == t
                          for row, t in zip(answers, truth) for g in range(groups))
                rows.append(_row(experiment="sampling", model=fmt, temperature=temp, k=k,
                                 metric="pass_at_k", value=pk, n_problems=len(problems)))
                rows.append(_row(experiment="sampling", model=fmt, temperature=temp, k=k,
                                 metric="majority_at_k", value=maj / (groups * len(problems)),
                                 n_problems=len(problems)))
        print(f"{fmt}: done at {time.perf_counter() - t0:.0f} s", flush=True)

    df = pd.DataFrame(rows)
    df["carries"] = df["carries"].astype("Int64")
    df["value"] = df["value"].round(5)
    df.to_csv(OUT, index=False)
    print(f"wrote {OUT} ({len(df)} rows) in {time.perf_counter() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
