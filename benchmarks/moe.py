"""MoE layer forward: naive loop vs gather loop vs grouped dispatch vs a dense FFN.

One MoE layer (routed SwiGLU experts + shared expert, ``explainer.moe``) at
4,096 tokens and d_model 256, against a dense SwiGLU FFN with the same *total*
parameters (hidden width = (n_shared + n_routed) * moe_inter_dim). All four are
timed side by side in one run: interleaved repeats, median wall time, a fixed
thread count. The MoE/dense time ratio is printed next to the ideal ratio,
activated / total parameters.

    .venv/bin/python benchmarks/moe.py            # prints, and writes data/moe_benchmark.csv
    .venv/bin/python benchmarks/moe.py --no-write # prints only
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time

import pandas as pd
import torch
import torch.nn.functional as F

from explainer.data import DATA_DIR
from explainer.moe import (
    MoEConfig,
    dispatch_gather,
    dispatch_grouped,
    dispatch_naive,
    expert_load,
    imbalance,
    route,
)


def main(argv: list[str] | None = None) -> pd.DataFrame:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--tokens", type=int, default=4096)
    p.add_argument("--d-model", type=int, default=256)
    p.add_argument("--n-routed-experts", type=int, default=32)
    p.add_argument("--n-shared-experts", type=int, default=1)
    p.add_argument("--top-k", type=int, default=4)
    p.add_argument("--moe-inter-dim", type=int, default=128)
    p.add_argument("--repeats", type=int, default=9)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--device", default="cpu")
    p.add_argument("--no-write", action="store_true")
    a = p.parse_args(argv)

    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    dev = torch.device(a.device)
    cfg = MoEConfig(d_model=a.d_model, n_routed_experts=a.n_routed_experts,
                    n_shared_experts=a.n_shared_experts, n_activated_experts=a.top_k,
                    moe_inter_dim=a.moe_inter_dim)
    d, h, E = a.d_model, a.moe_inter_dim, a.n_routed_experts
    x = torch.randn(a.tokens, d, device=dev)
    gate = torch.randn(E, d, device=dev) / d**0.5
    w1 = torch.randn(E, d, h, device=dev) / d**0.5
    w3 = torch.randn(E, d, h, device=dev) / d**0.5
    w2 = torch.randn(E, h, d, device=dev) / h**0.5
    hs = a.n_shared_experts * h  # shared experts fused into one SwiGLU
    s1, s3 = torch.randn(d, hs, device=dev) / d**0.5, torch.randn(d, hs, device=dev) / d**0.5
    s2 = torch.randn(hs, d, device=dev) / max(hs, 1) ** 0.5
    hd = (a.n_shared_experts + E) * h  # dense FFN with the same total expert parameters
    d1, d3 = torch.randn(d, hd, device=dev) / d**0.5, torch.randn(d, hd, device=dev) / d**0.5
    d2 = torch.randn(hd, d, device=dev) / hd**0.5

    def shared(x):
        return (F.silu(x @ s1) * (x @ s3)) @ s2 if hs else 0.0

    def moe(dispatch):
        def run():
            weights, indices = route(x @ gate.T, a.top_k)  # (tokens, top_k)
            return dispatch(x, weights, indices, w1, w2, w3) + shared(x)
        return run

    impls = {
        "naive loop (every expert on every token)": moe(dispatch_naive),
        "gather loop (DeepSeek-V3 model.py style)": moe(dispatch_gather),
        "grouped dispatch (sorted by expert)": moe(dispatch_grouped),
        "dense FFN, same total params": lambda: (F.silu(x @ d1) * (x @ d3)) @ d2,
    }
    sync = torch.cuda.synchronize if dev.type == "cuda" else (lambda: None)
    with torch.no_grad():
        ref = impls["naive loop (every expert on every token)"]()
        for name, fn in impls.items():  # warm-up, and check the MoE variants agree
            out = fn()
            if "dense" not in name:
                assert torch.allclose(out, ref, atol=1e-3, rtol=1e-3), name
        times = {name: [] for name in impls}
        for _ in range(a.repeats):
            for name, fn in impls.items():
                sync()
                t0 = time.perf_counter()
                fn()
                sync()
                times[name].append(time.perf_counter() - t0)
        load = expert_load(route(x @ gate.T, a.top_k)[1], E)

    counts = cfg.param_counts()
    dense_params = 3 * d * hd
    ideal = counts["activated"] / counts["total"]
    med = {k: statistics.median(v) for k, v in times.items()}
    t_dense = med["dense FFN, same total params"]
    where = f"{a.device}, {a.threads} thread(s), {platform.machine()}"
    rows = [{"implementation": k, "median_ms": round(1e3 * t, 2),
             "ratio_to_dense": round(t / t_dense, 3), "ideal_ratio": round(ideal, 3),
             "tokens": a.tokens, "d_model": d, "n_routed_experts": E,
             "n_shared_experts": a.n_shared_experts, "top_k": a.top_k, "moe_inter_dim": h,
             "moe_total_params": counts["total"], "moe_activated_params": counts["activated"],
             "dense_params": dense_params, "repeats": a.repeats, "where": where,
             "source_id": "book"} for k, t in med.items()]
    df = pd.DataFrame(rows)
    print(f"MoE layer forward, {a.tokens} tokens, d_model {d}: {E} routed experts "
          f"(top-{a.top_k}) + "
          f"{a.n_shared_experts} shared, expert width {h}; dense FFN width {hd}; {where}; "
          f"median of {a.repeats}; routing imbalance {imbalance(load):.2f}")
    print(f"MoE params: total {counts['total']:,}, activated {counts['activated']:,}; "
          f"dense {dense_params:,}")
    for r in rows:
        print(f"  {r['implementation']:42s} {r['median_ms']:9.2f} ms   "
              f"x{r['ratio_to_dense']:.3f} of dense")
    g = med["grouped dispatch (sorted by expert)"]
    print(f"ideal MoE/dense ratio (activated/total params): {ideal:.3f}; grouped measured: "
          f"{g / t_dense:.3f}; grouped is "
          f"{med['naive loop (every expert on every token)'] / g:.1f}x "
          f"faster than the naive loop; grouped / gather-loop time: "
          f"{g / med['gather loop (DeepSeek-V3 model.py style)']:.2f}")
    if not a.no_write:
        df.to_csv(DATA_DIR / "moe_benchmark.csv", index=False)
    return df


if __name__ == "__main__":
    main()
