"""Pipeline bubbles and FP8 errors, simulated, next to the figures they should match.

Part 1 prints, for several stage counts and chunk durations, the bubble the
pipeline simulator measures (``explainer.pipeline.simulate``) next to the
DualPipe README / V3 report Table 2 formula, with the peak activations and
parameter copies per device. Part 2 prints the FP8 matmul error per scaling
scheme as the outlier grows, and the limited-precision accumulation error per
K with and without promotion to FP32 every 128 elements, next to the V3
report's "nearly 2%" at K = 4096.

    .venv/bin/python benchmarks/training_system.py
"""

from __future__ import annotations

import argparse

import pandas as pd

from explainer import fp8, pipeline

DURATIONS = (
    {"F": 1, "B": 2, "W": 1},  # the README figure: F = B - W = W, no overlap gain
    {"F": 1, "B": 2, "W": 1, "FB": 2},  # the same with F&B fully overlapped (FB = B)
    {"F": 2, "B": 3, "W": 1},  # F = B - W, W < F
    {"F": 3, "B": 7, "W": 2, "FB": 8},  # F < B - W: outside the formula's exact region
)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--pps", type=int, nargs="+", default=[4, 8, 16])
    a = p.parse_args(argv)
    pd.set_option("display.width", 160)

    t = pipeline.bubble_table(pps=a.pps, durations=DURATIONS)
    t["dur"] = t.apply(lambda r: f"F={r.F:g} B={r.B:g} W={r.W:g} FB={r.FB:g}", axis=1)
    print("Pipeline bubble per iteration: simulator vs README formula "
          "(n_micro = 2 * PP; time units of the durations)\n")
    cols = ["pp", "schedule", "devices", "bubble", "formula", "match", "formula_exact",
            "activations", "param_copies", "bubble_rate"]
    for dur, g in t.groupby("dur", sort=False):
        print(dur)
        print(g[cols].to_string(index=False, float_format=lambda v: f"{v:.3f}"))
        print()
    inside = t[t.formula_exact]
    print(f"inside the exact region: {int(inside.match.sum())}/{len(inside)} rows match; "
          f"outside: {int((~t.formula_exact & t.match).sum())}/{int((~t.formula_exact).sum())}\n")

    print("FP8 E4M3 matmul, median per-token relative error of x @ w.T (K = 1024)\n")
    sweep = fp8.outlier_sweep()
    wide = sweep.pivot(index="magnitude", columns="scheme", values="median")
    print(wide.to_string(float_format=lambda v: f"{v:.4f}"))
    print()

    print("Limited-precision accumulation (14 significant bits), max relative error over "
          "16x16 outputs; V3 report: nearly 2% at K = 4096 without promotion\n")
    rows = []
    for rounding in ("nearest", "truncate"):
        for inputs in ("uniform", "normal"):
            for promote in (None, 128):
                e = fp8.accumulation_error(inputs=inputs, rounding=rounding,
                                           promote_every=promote)
                rows.append(e)
    acc = pd.concat(rows)
    acc["promotion"] = acc.promote_every.map({0: "none", 128: "every 128"})
    wide = acc.pivot_table(index=["rounding", "inputs", "promotion"], columns="K",
                           values="max_rel_error")
    print(wide.to_string(float_format=lambda v: f"{v:.2e}"))


if __name__ == "__main__":
    main()
