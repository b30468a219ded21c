"""Story facts, computed once: the numbers several chapters quote, each from ``data/``.

The articles' round numbers come back in more than one chapter: DeepSeek-V3's
training bill (2.788M GPU-hours, $5.576M), "one-tenth" of Llama 3.1's compute,
the "96%" price gap between R1 and o1, and seed article 004's compute table set
against 6·N·D. Each is a function here, built from the tables in ``data/`` with
the arithmetic of :mod:`explainer.costs`, so every chapter quotes the same figure
and a test pins it.

* :func:`training_bill`: a model's GPU-hours and dollars stage by stage (V3
  report, Table 1), the dollars recomputed with :func:`~explainer.costs.training_cost_usd`.
* :func:`training_compute`: 6·N·D per model, the GPU-hours those FLOPs were spent
  in, and the throughput and model-FLOPs utilisation (MFU) that implies.
* :func:`with_attention`: the same MFU once attention over the context is counted.
* :func:`reported_mfu`: the MFU a developer *measured* during training (Llama 3.1
  405B: 38-43%, Llama 3 paper Table 4), to set beside those estimates.
* :func:`one_tenth`: V3 against Llama 3.1 405B in GPU-hours and in FLOPs.
* :func:`api_price_gap`: how much less one API bills than another per million
  input and output tokens, through :func:`~explainer.costs.api_cost_usd`.
* :func:`seed_table_check`: seed article 004's printed table beside our data.
* :func:`benchmark_gaps`: R1 against o1-1217 on the ten benchmarks of the R1
  paper's Table 4, and :func:`benchmark_summary` (leads, near-ties, widest gap).
* :func:`load_seed_valuations`, :func:`load_seed_eras` and :func:`era_multiples`:
  seed article 004's other two tables (projections) and the jump each era metric implies.
* :func:`projected_run`: what a run of given FLOPs takes at a measured MFU (the
  scale chapter's "DeepSeek Next" at V3's efficiency).

Frames come indexed the way the chapters read them (by model, stage or measure).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from explainer import costs
from explainer.checks import check_int, check_number
from explainer.data import read_csv

__all__ = [
    "LLAMA",
    "O1",
    "R1",
    "SEED_MODELS",
    "V3",
    "Bill",
    "O1_1217",
    "api_price_gap",
    "era_multiples",
    "load_seed_eras",
    "load_seed_valuations",
    "scale_references",
    "benchmark_gaps",
    "benchmark_summary",
    "one_tenth",
    "projected_run",
    "reported_mfu",
    "seed_table_check",
    "training_bill",
    "training_compute",
    "with_attention",
]

V3 = "DeepSeek-V3"
LLAMA = "Llama 3.1 405B"
R1 = "DeepSeek-R1"
O1 = "OpenAI o1"
O1_1217 = "OpenAI o1-1217"  # the o1 snapshot of the R1 paper's Table 4
# seed article 004's model names -> the rows of data/models.csv they describe
SEED_MODELS = {"DeepSeek-V2": "DeepSeek-V2", "GPT-4": "GPT-4", "Llama 3 405B": LLAMA}
_PRECISIONS = {"bf16": "peak_bf16_dense_flops", "fp8": "peak_fp8_dense_flops"}


def _known(name: str, value: str, allowed) -> str:
    allowed = list(allowed)
    if value not in allowed:
        raise ValueError(f"{name} must be one of {allowed}, got {value!r}")
    return value


def _frame(name: str, df, columns: tuple[str, ...], made_by: str) -> pd.DataFrame:
    """``df`` if it is a non-empty DataFrame with ``columns``, else ValueError naming them."""
    if not isinstance(df, pd.DataFrame) or df.empty or not set(columns) <= set(df.columns):
        got = (f"columns {list(df.columns)} ({len(df)} rows)" if isinstance(df, pd.DataFrame)
               else type(df).__name__)
        raise ValueError(f"{name} must be a non-empty DataFrame with columns {list(columns)} "
                         f"({made_by}), got {got}")
    return df


_BILL_COLUMNS = ("gpu_hours", "usd_per_gpu_hour", "reported_usd", "usd")
_ERA_COLUMNS = ("value_2026_low", "value_2024_high", "value_2026_high", "value_2024_low",
                "efficiency_era_2024_as_printed", "scale_era_2026_as_printed", "unit")


# --------------------------------------------------------------------------- the bill
@dataclass(frozen=True)
class Bill:
    """A training run's GPU-hours and rental dollars, stage by stage.

    Attributes:
        model: the model (a row of ``data/training_runs.csv``).
        stages: indexed by ``stage``; columns ``gpu_hours``, ``usd_per_gpu_hour``
            (the rental price the source assumes), ``reported_usd`` and ``usd``
            (recomputed with :func:`explainer.costs.training_cost_usd`).
    """

    model: str
    stages: pd.DataFrame

    def __post_init__(self) -> None:
        runs = costs.load_training_runs()
        _known("model", self.model, runs.index.get_level_values("model").unique())
        _frame("stages", self.stages, _BILL_COLUMNS, "training_bill(model).stages")

    @property
    def gpu_hours(self) -> float:
        """All stages' GPU-hours (V3: 2.788M)."""
        return float(self.stages["gpu_hours"].sum())

    @property
    def usd(self) -> float:
        """All stages' recomputed dollars (V3: $5.576M)."""
        return float(self.stages["usd"].sum())

    @property
    def usd_per_gpu_hour(self) -> float:
        """The assumed rental price (one price for every stage, checked)."""
        rates = self.stages["usd_per_gpu_hour"].unique()
        if len(rates) != 1:
            raise ValueError(f"{self.model}'s stages assume different prices: {list(rates)}")
        return float(rates[0])

    def share(self, stage: str) -> float:
        """Fraction of the GPU-hours spent in ``stage``."""
        _known("stage", stage, self.stages.index)
        return float(self.stages.loc[stage, "gpu_hours"]) / self.gpu_hours

    def days_on(self, n_gpus: int) -> float:
        """Wall-clock days if all ``n_gpus`` ran every GPU-hour of the bill."""
        n_gpus = check_int("n_gpus", n_gpus, 1, 2**24)
        return self.gpu_hours / n_gpus / 24

    def with_total(self) -> pd.DataFrame:
        """:attr:`stages` with a ``total`` row (the form Table 1 prints)."""
        out = self.stages.copy()
        out.loc["total"] = out.sum(numeric_only=True)
        out.loc["total", "usd_per_gpu_hour"] = self.usd_per_gpu_hour
        return out


def training_bill(model: str = V3) -> Bill:
    """The stages of ``model``'s training run with GPU-hours and dollars.

    Args:
        model: a model with priced stages in ``data/training_runs.csv`` (``"DeepSeek-V3"``).

    Returns:
        A :class:`Bill`; for V3, 2,788,000 GPU-hours and $5,576,000 at $2 per GPU-hour.

    Raises:
        ValueError: ``model`` has no stages with GPU-hours and a price.
    """
    runs = costs.load_training_runs()
    priced = runs.dropna(subset=["gpu_hours", "usd_per_gpu_hour_assumed"])
    _known("model", model, priced.index.get_level_values("model").unique())
    st = priced.loc[model, ["gpu_hours", "usd_per_gpu_hour_assumed", "reported_usd"]]
    st = st.rename(columns={"usd_per_gpu_hour_assumed": "usd_per_gpu_hour"})
    st["usd"] = costs.training_cost_usd(st["gpu_hours"].to_numpy(),
                                        st["usd_per_gpu_hour"].to_numpy())
    return Bill(model=model, stages=st)


# --------------------------------------------------------------------------- 6·N·D
def _pretraining_hours(models: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """GPU-hours in which each model's 6·N·D FLOPs were spent, and what they cover."""
    runs = costs.load_training_runs()
    hours = models["gpu_hours"].astype(float).copy()
    basis = pd.Series(np.where(hours.notna(), "reported total", ""), index=models.index)
    for model in models.index:
        if (model, "pre-training") not in runs.index:
            continue
        pre = runs.loc[(model, "pre-training")]
        if pd.notna(pre["gpu_hours"]):
            hours[model], basis[model] = pre["gpu_hours"], "pre-training"
        elif pd.notna(pre["gpu_hours_per_trillion_tokens"]):
            hours[model] = pre["gpu_hours_per_trillion_tokens"] * pre["tokens"] / 1e12
            basis[model] = "pre-training (rate × tokens)"
    return hours, basis


def training_compute(precision: str = "bf16") -> pd.DataFrame:
    """6·N·D for every model in ``data/models.csv``, and the MFU the GPU-hours imply.

    The FLOPs are divided by the GPU-hours they were spent in: V3's pre-training
    hours (2.664M, the run that saw the 14.8T tokens; not the 2.788M total), V2's
    pre-training rate times its tokens, and the reported total elsewhere.

    Args:
        precision: ``"bf16"`` or ``"fp8"``: which dense peak the MFU is measured against.

    Returns:
        Indexed by ``model``: ``active_params``, ``training_tokens``, ``flops_6nd``,
        ``reported_flops``, ``gpu_hours`` (the hours used), ``hours_basis``,
        ``gpu_type``, ``tflops_per_gpu`` and ``mfu`` (NaN where hours or peak are unknown).
    """
    _known("precision", precision, _PRECISIONS)
    models = costs.load_models()
    gpus = costs.load_gpus()
    hours, basis = _pretraining_hours(models)
    out = pd.DataFrame({
        "active_params": models["active_params"].astype(float),
        "training_tokens": models["training_tokens"].astype(float),
        "flops_6nd": costs.training_flops(models["active_params"].to_numpy(float),
                                          models["training_tokens"].to_numpy(float)),
        "reported_flops": models["reported_flops"],
        "gpu_hours": hours,
        "hours_basis": basis,
        "gpu_type": models["gpu_type"],
    }, index=models.index)
    flops_per_s = out["flops_6nd"] / (out["gpu_hours"] * costs.SECONDS_PER_HOUR)
    out["tflops_per_gpu"] = flops_per_s / 1e12
    out["mfu"] = flops_per_s / out["gpu_type"].map(gpus[_PRECISIONS[precision]])
    return out


def with_attention(precision: str = "bf16") -> pd.DataFrame:
    """Implied MFU by 6·N·D and with the attention term added, for the models whose
    attention shape is in ``data/attention_shapes.csv`` (V3 and Llama 3.1 405B).

    Attention per token is :func:`explainer.costs.attention_training_flops_per_token`
    at the pre-training sequence length (V3 4K, Llama 8K).

    Returns:
        Indexed by ``model``: ``flops_6n`` (6·N per token), ``attention`` (per token),
        ``attention_share`` (attention ÷ 6·N), ``mfu`` (6·N·D only) and
        ``mfu_with_attention`` (``mfu × (1 + attention_share)``).
    """
    comp = training_compute(precision)
    shapes = costs.load_attention_shapes()
    out = pd.DataFrame(index=shapes.index)
    out["flops_6n"] = 6.0 * comp.loc[shapes.index, "active_params"]
    out["attention"] = [costs.attention_training_flops_per_token(
        r.n_layers, r.seq_len, r.n_heads, r.qk_head_dim, r.v_head_dim) for r in shapes.itertuples()]
    out["attention_share"] = out["attention"] / out["flops_6n"]
    out["mfu"] = comp.loc[shapes.index, "mfu"]
    out["mfu_with_attention"] = out["mfu"] * (1 + out["attention_share"])
    return out


def reported_mfu(model: str | None = None) -> pd.DataFrame:
    """The MFU a developer *measured* during training, as published (not derived from GPU-hours).

    An estimate from total GPU-hours (:func:`training_compute`) counts every hour of
    the run, pauses and restarts included; a measured MFU is taken over training steps.
    The two answer different questions, so a chapter shows both.

    Args:
        model: a model with measured figures in ``data/training_runs.csv``, or ``None`` for all.

    Returns:
        Indexed by ``(model, stage)`` (by ``stage`` when ``model`` is given):
        ``tflops_per_gpu`` (TFLOP/s per GPU), ``mfu`` (fraction of the BF16 dense peak)
        and ``gpu_type``. Llama 3.1 405B: 43%, 41% and 38% (Llama 3 paper, Table 4).

    Raises:
        ValueError: ``model`` has no measured figures.
    """
    runs = costs.load_training_runs().dropna(subset=["reported_mfu_bf16"])
    out = runs[["reported_tflops_per_gpu", "reported_mfu_bf16", "gpu_type"]].rename(columns={
        "reported_tflops_per_gpu": "tflops_per_gpu", "reported_mfu_bf16": "mfu"})
    if model is None:
        return out
    _known("model", model, out.index.get_level_values("model").unique())
    return out.loc[model]


def one_tenth(model: str = V3, reference: str = LLAMA) -> pd.DataFrame:
    """``model`` against ``reference`` on each measure of training compute.

    Args:
        model, reference: rows of ``data/models.csv``.

    Returns:
        Indexed by ``measure``: ``"GPU-hours (reported)"``, ``"training FLOPs (6·N·D)"``
        and ``"training FLOPs (6·N·D vs published)"`` (the reference's published
        FLOPs; NaN if none); columns ``model``, ``reference`` and ``ratio``. For V3
        against Llama 3.1 405B every ratio is about 0.09.
    """
    comp = training_compute()
    _known("model", model, comp.index)
    _known("reference", reference, comp.index)
    models = costs.load_models()
    rows = {
        "GPU-hours (reported)": (models.loc[model, "gpu_hours"],
                                 models.loc[reference, "gpu_hours"]),
        "training FLOPs (6·N·D)": (comp.loc[model, "flops_6nd"], comp.loc[reference, "flops_6nd"]),
        "training FLOPs (6·N·D vs published)": (comp.loc[model, "flops_6nd"],
                                                 comp.loc[reference, "reported_flops"]),
    }
    out = pd.DataFrame(rows, index=["model", "reference"]).T.astype(float)
    out.index.name = "measure"
    out["ratio"] = out["model"] / out["reference"]
    return out


# --------------------------------------------------------------------------- prices
def api_price_gap(model: str = R1, reference: str = O1) -> pd.DataFrame:
    """How much less ``model``'s API bills than ``reference``'s, per million tokens.

    Each side is what :func:`explainer.costs.api_cost_usd` bills for a million
    input (cache-miss) tokens, or a million output tokens, at ``data/prices.csv``.

    Args:
        model, reference: rows of ``data/prices.csv``.

    Returns:
        Indexed by ``tokens`` (``"input"``, ``"output"``): ``model_usd``,
        ``reference_usd``, ``times`` (reference ÷ model) and ``less`` (1 − model ÷
        reference). R1 against o1: 96% less on both.
    """
    prices = costs.load_prices()
    _known("model", model, prices.index)
    _known("reference", reference, prices.index)
    rows = {}
    for kind, (i, o) in {"input": (1e6, 0), "output": (0, 1e6)}.items():
        billed = [costs.api_cost_usd(i, o, prices.loc[m, "input_usd_per_mtok"],
                                     prices.loc[m, "output_usd_per_mtok"])
                  for m in (model, reference)]
        rows[kind] = billed
    out = pd.DataFrame(rows, index=["model_usd", "reference_usd"]).T
    out.index.name = "tokens"
    out["times"] = out["reference_usd"] / out["model_usd"]
    out["less"] = 1 - out["model_usd"] / out["reference_usd"]
    return out


# --------------------------------------------------------------------------- seed 004
def seed_table_check() -> pd.DataFrame:
    """Seed article 004's compute table beside ``data/`` and 6·N·D.

    Returns:
        Indexed by the article's model names (:data:`SEED_MODELS`; its projected
        "DeepSeek Next" row has nothing to check against): ``model`` (our row),
        ``article_active_params``, ``active_params``, ``article_flops``, ``flops_6nd``,
        ``reported_flops``, ``article_over_6nd``, ``article_mmlu``, ``mmlu_5shot``,
        ``article_usd_per_mtok``, ``input_usd_per_mtok``, ``output_usd_per_mtok``.
    """
    seed = costs.load_seed_table().loc[list(SEED_MODELS)]
    ours = list(SEED_MODELS.values())
    comp = training_compute().loc[ours]
    models = costs.load_models().loc[ours]
    prices = costs.load_prices().reindex(ours)
    out = pd.DataFrame({
        "model": ours,
        "article_active_params": seed["active_params"].to_numpy(float),
        "active_params": comp["active_params"].to_numpy(),
        "article_flops": seed["training_flops"].to_numpy(float),
        "flops_6nd": comp["flops_6nd"].to_numpy(),
        "reported_flops": comp["reported_flops"].to_numpy(float),
        "article_mmlu": seed["mmlu"].to_numpy(float),
        "mmlu_5shot": models["mmlu_5shot"].to_numpy(float),
        "article_usd_per_mtok": seed["inference_usd_per_mtok"].to_numpy(float),
        "input_usd_per_mtok": prices["input_usd_per_mtok"].to_numpy(float),
        "output_usd_per_mtok": prices["output_usd_per_mtok"].to_numpy(float),
    }, index=pd.Index(list(SEED_MODELS), name="article model"))
    out.insert(5, "article_over_6nd", out["article_flops"] / out["flops_6nd"])
    return out


# --------------------------------------------------------------------------- projections
def projected_run(flops: float, *, mfu: float, usd_per_gpu_hour: float, gpu: str = "H800",
                  precision: str = "bf16") -> pd.Series:
    """GPU-hours, dollars and the activated-parameter budget of a run of ``flops``.

    Args:
        flops: the run's training FLOPs. > 0.
        mfu: the model-FLOPs utilisation assumed to hold, in (0, 1].
        usd_per_gpu_hour: rental price. > 0.
        gpu: a row of ``data/gpus.csv``.
        precision: ``"bf16"`` or ``"fp8"``, the peak ``mfu`` is measured against.

    Returns:
        ``flops``, ``gpu_hours``, ``usd``; divide ``gpu_hours`` by a cluster's GPUs
        and 24 for wall-clock days.
    """
    _known("precision", precision, _PRECISIONS)
    gpus = costs.load_gpus()
    _known("gpu", gpu, gpus.index)
    hours = costs.gpu_hours(flops, gpus.loc[gpu, _PRECISIONS[precision]], mfu)
    return pd.Series({"flops": float(flops), "gpu_hours": hours,
                      "usd": costs.training_cost_usd(hours, usd_per_gpu_hour)})


# --------------------------------------------------------------------------- benchmarks
def benchmark_gaps(model: str = R1, reference: str = O1_1217) -> pd.DataFrame:
    """``data/benchmarks.csv`` side by side, in the paper's order, with the gap.

    Args:
        model, reference: the two models of the table (R1 and o1-1217).

    Returns:
        Indexed by ``benchmark``: ``metric``, ``model``, ``reference`` (scores as
        printed), ``gap`` (model minus reference, in points, rounded to 0.1) and
        ``source_id``.
    """
    scores = read_csv("benchmarks.csv")
    _known("model", model, scores["model"].unique())
    _known("reference", reference, scores["model"].unique())
    wide = scores.pivot_table(index=["benchmark", "metric"], columns="model", values="score",
                              sort=False)
    out = pd.DataFrame({"model": wide[model], "reference": wide[reference]}).reset_index(level=1)
    out["gap"] = (out["model"] - out["reference"]).round(1)
    out["source_id"] = scores.groupby("benchmark")["source_id"].first()
    return out


def benchmark_summary(gaps: pd.DataFrame | None = None, *, near: float = 1.0) -> pd.Series:
    """What the benchmark table says in a sentence's worth of numbers.

    Args:
        gaps: a :func:`benchmark_gaps` frame (default: R1 against o1-1217).
        near: a gap smaller than this many points counts as a near-tie. > 0.

    Returns:
        ``n`` (benchmarks), ``model_ahead``, ``reference_ahead``, ``near`` (count of
        near-ties), ``widest`` (the benchmark with the largest absolute gap) and
        ``widest_gap`` (its signed gap). All ten: R1 ahead on 5; widest SimpleQA, -16.9.
    """
    g = benchmark_gaps() if gaps is None else _frame("gaps", gaps, ("gap",), "benchmark_gaps()")
    near = check_number("near", near, 0, lo_open=True)
    widest = g["gap"].abs().idxmax()
    return pd.Series({"n": len(g), "model_ahead": int((g["gap"] > 0).sum()),
                      "reference_ahead": int((g["gap"] < 0).sum()),
                      "near": int((g["gap"].abs() < near).sum()),
                      "widest": widest, "widest_gap": float(g.loc[widest, "gap"])})


# --------------------------------------------------------------------------- seed 004's projections
def load_seed_valuations() -> pd.DataFrame:
    """``data/seed_tables/seed004_valuations.csv`` indexed by ``company``, as printed."""
    return read_csv("seed_tables/seed004_valuations.csv").set_index("company")


def load_seed_eras() -> pd.DataFrame:
    """``data/seed_tables/seed004_eras.csv`` indexed by ``metric``, as printed."""
    return read_csv("seed_tables/seed004_eras.csv").set_index("metric")


def era_multiples(eras: pd.DataFrame | None = None) -> pd.DataFrame:
    """How many times its 2024 value the article projects for each metric in 2026.

    Args:
        eras: :func:`load_seed_eras` (default: loaded).

    Returns:
        Indexed by ``metric``: ``low`` and ``high`` (the smallest and largest ratio
        the printed ranges allow: 2026 low ÷ 2024 high, 2026 high ÷ 2024 low), the
        two columns as printed, and ``unit``.
    """
    e = load_seed_eras() if eras is None else _frame("eras", eras, _ERA_COLUMNS,
                                                     "load_seed_eras()")
    return pd.DataFrame({
        "low": e["value_2026_low"] / e["value_2024_high"],
        "high": e["value_2026_high"] / e["value_2024_low"],
        "printed_2024": e["efficiency_era_2024_as_printed"],
        "printed_2026": e["scale_era_2026_as_printed"],
        "unit": e["unit"],
    })


def scale_references() -> pd.DataFrame:
    """Training runs to set a scenario against: DeepSeek's documented ones and the article's.

    Returns:
        Indexed by ``run``: ``flops`` and ``kind`` (``"documented"`` or
        ``"article's figure"``): DeepSeek-V2 and V3 by 6·N·D, Llama 3.1 405B as
        published (secondary), the article's 2024 average and its "DeepSeek Next".
    """
    comp = training_compute()
    eras = load_seed_eras()
    seed = costs.load_seed_table()
    rows = [
        ("DeepSeek-V2 (6·N·D)", comp.loc["DeepSeek-V2", "flops_6nd"], "documented"),
        ("DeepSeek-V3 (6·N·D)", comp.loc[V3, "flops_6nd"], "documented"),
        ("Llama 3.1 405B (secondary)", comp.loc[LLAMA, "reported_flops"], "documented"),
        ("article: 2024 average", eras.loc["Avg. Training Compute", "value_2024_low"],
         "article's figure"),
        ("article: DeepSeek Next", seed.loc["DeepSeek Next", "training_flops"], "article's figure"),
    ]
    out = pd.DataFrame(rows, columns=["run", "flops", "kind"]).set_index("run")
    out["flops"] = out["flops"].astype(float)
    return out
