"""Costs: what a model costs to train and to serve, computed from first principles.

What this module teaches, and where each formula comes from:

* **Training compute** ``C ≈ 6·N·D`` (forward ≈ 2ND, backward ≈ 4ND) with ``N`` the
  parameters a token actually touches (the *activated* parameters of a
  Mixture-of-Experts model) and ``D`` the training tokens. Kaplan et al. 2020
  (arXiv 2001.08361); EleutherAI's "Transformer Math 101"; nanoGPT's
  ``transformer_sizing.ipynb`` (``flops_needed = 6 * model_size * tokens_num``).
* **Inference compute** ``≈ 2·N`` FLOPs per generated token (one forward pass,
  attention over the context left out).
* **GPU-hours and dollars**: FLOPs / (peak FLOP/s × MFU) / 3600, times a rental
  price; DeepSeek-V3's report (Table 1) prices its run at $2 per H800 GPU-hour.
* **KV-cache size per token** for multi-head (MHA), grouped-query (GQA),
  multi-query (MQA) and multi-head latent attention (MLA): DeepSeek-V2 report,
  Table 1.
* Model shapes and parameter counts (``ModelConfig``, ``load_config``,
  ``param_counts``) describe architectures, not costs: they live in
  :mod:`explainer.architecture`.

Every function checks its input and raises :class:`ValueError` naming the bad
parameter. The arithmetic functions accept plain numbers or numpy arrays and
return a ``float`` for scalar input, an array otherwise.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from explainer.checks import check_int, check_text
from explainer.controls import Choice, Slider

# re-exported for callers written before the architecture module existed (moe chapter, attention)
from explainer.architecture import (  # noqa: F401
    CONFIG_NAMES,
    ModelConfig,
    load_config,
    param_counts,
)
from explainer.data import read_csv

__all__ = [
    "KV_KINDS",
    "ACTIVE_PARAMS",
    "MFU",
    "N_GPUS",
    "PEAK",
    "PRICE",
    "SECONDS_PER_HOUR",
    "TOKENS",
    "WHAT_IF_CONTROLS",
    "WHAT_IF_PARAMS",
    "api_cost_usd",
    "attention_training_flops_per_token",
    "days_expr",
    "gpu_hours_expr",
    "kv_cache_table",
    "load_attention_shapes",
    "what_if_flops_expr",
    "gpu_hours",
    "inference_flops_per_token",
    "kv_cache_bytes_per_token",
    "load_clusters",
    "load_gpus",
    "load_models",
    "load_prices",
    "load_seed_table",
    "load_training_runs",
    "training_cost_usd",
    "training_flops",
    "what_if_cost_expr",
    "what_if_cost_usd",
]

SECONDS_PER_HOUR = 3600
KV_KINDS = ("mha", "gqa", "mqa", "mla")

# --- the what-if calculator's controls, declared once for the cost and scale chapters.
# Defaults reproduce DeepSeek-V3's pre-training: $2 per GPU-hour (V3 report, Table 1), the MFU
# that 2.664M GPU-hours imply for 6·N·D (tests check it against explainer.facts), 14.8T
# tokens, 37B activated parameters, the H800's dense peaks (data/gpus.csv).
PRICE = Slider("usd_per_gpu_hour", "US$ per GPU-hour", 0.5, 10.0, 0.1, default=2.0)
MFU = Slider("mfu", "MFU", 0.05, 0.8, 0.005, default=0.346)
TOKENS = Slider("tokens_t", "training tokens (trillions)", 0.5, 500.0, 0.1, default=14.8)
ACTIVE_PARAMS = Slider("active_params_b", "activated parameters (billions)", 1, 2000, 1,
                       default=37)
PEAK = Choice("peak_tflops", "GPU peak (H800/H100, TFLOP/s)", options=(989.4, 1978.9),
              default=989.4, labels=("BF16 dense", "FP8 dense"))
N_GPUS = Slider("n_gpus", "GPUs in the cluster", 1024, 200_000, 16, default=2048)
WHAT_IF_CONTROLS = (PRICE, MFU, TOKENS, ACTIVE_PARAMS, PEAK)
# names of the Vega-Lite params the what-if chart binds to sliders (units in the name)
WHAT_IF_PARAMS = tuple(c.name for c in WHAT_IF_CONTROLS)

Number = float | int | np.ndarray


# --------------------------------------------------------------------------- checks
def _not_bool_or_text(name: str, value: Any, what: str) -> None:
    """ValueError for ``True``/``False``, text or bool arrays, which ``np.asarray`` would
    silently turn into 1.0, 0.0 or a parsed number."""
    if isinstance(value, (bool, np.bool_, str, bytes)) or (
            isinstance(value, np.ndarray) and value.dtype.kind in "bSU"):
        raise ValueError(f"{name} must be {what}, got {value!r}")


def _positive(name: str, value: Any) -> np.ndarray:
    """``value`` as a float array, or ValueError unless every element is finite and > 0."""
    _not_bool_or_text(name, value, "a positive number or array of numbers")
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(
            f"{name} must be a positive number or array of numbers, got {value!r}") from None
    if arr.size == 0 or not np.all(np.isfinite(arr)) or np.any(arr <= 0):
        raise ValueError(f"{name} must be finite and > 0, got {value!r}")
    return arr


def _fraction(name: str, value: Any) -> np.ndarray:
    """``value`` as a float array, or ValueError unless every element lies in (0, 1]."""
    arr = _positive(name, value)
    if np.any(arr > 1):
        raise ValueError(f"{name} must lie in (0, 1], got {value!r}")
    return arr


def _out(arr: np.ndarray) -> Number:
    """A 0-d result as a plain float; anything else unchanged."""
    return float(arr) if arr.ndim == 0 else arr


def _non_negative(name: str, value: Any) -> np.ndarray:
    """``value`` as a float array, or ValueError unless every element is finite and >= 0."""
    _not_bool_or_text(name, value, "a number >= 0 or an array of them")
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(
            f"{name} must be a number >= 0 or an array of them, got {value!r}") from None
    if arr.size == 0 or not np.all(np.isfinite(arr)) or np.any(arr < 0):
        raise ValueError(f"{name} must be finite and >= 0, got {value!r}")
    return arr


_MAX_SIZE = 2**24  # any layer, head, width or length count (V3's longest: 128K = 2**17 tokens)


def _positive_int(name: str, value: Any) -> int:
    """``value`` as an int, or ValueError unless it is a whole number in [1, 2**24]."""
    return check_int(name, value, 1, _MAX_SIZE)


def _expr(name: str, value: Any) -> str:
    """A Vega expression (a param name, a ``datum.`` field, a formula): a non-empty string."""
    return check_text(name, value)


# --------------------------------------------------------------------------- compute
def training_flops(active_params: Number, tokens: Number) -> Number:
    """Training compute by the 6·N·D rule.

    Args:
        active_params: parameters used per token, N (for an MoE model the
            *activated* parameters, e.g. 37e9 for DeepSeek-V3). > 0.
        tokens: training tokens, D. > 0.

    Returns:
        FLOPs, ``6 * active_params * tokens`` (float, or array if any input is one).

    Raises:
        ValueError: a size is zero, negative or not finite.
    """
    n = _positive("active_params", active_params)
    d = _positive("tokens", tokens)
    return _out(6.0 * n * d)  # forward 2ND + backward 4ND


def inference_flops_per_token(active_params: Number) -> Number:
    """Forward-pass compute per generated token by the 2·N rule (attention term left out).

    Args:
        active_params: parameters used per token. > 0.

    Returns:
        FLOPs per token, ``2 * active_params``.
    """
    return _out(2.0 * _positive("active_params", active_params))  # one multiply-add per weight


def attention_training_flops_per_token(n_layers: int, seq_len: int, n_heads: int,
                                       qk_head_dim: int, v_head_dim: int) -> float:
    """Training FLOPs per token of attention over the context, which 6·N·D leaves out.

    Per layer and token, the scores ``q·kᵀ`` cost ``2·T·n_h·d_qk`` multiply-adds
    over a window of ``T`` tokens and the weighted sum of values ``2·T·n_h·d_v``; a
    causal mask halves the average window, and the backward pass costs twice the
    forward. Hence ``3·n_layers·T·n_h·(d_qk + d_v)``. With ``d_qk = d_v`` it is
    Kaplan et al. 2020's ``6·n_layer·n_ctx·d_attn`` (Table 1, forward
    ``2·n_layer·n_ctx·d_attn``, times 3 for training), and half PaLM's
    ``12·L·H·Q·T`` (Chowdhery et al. 2022, App. B, which counts the full window).

    Args:
        n_layers: transformer layers. seq_len: training sequence length T.
        n_heads: attention heads n_h. qk_head_dim: per-head query/key width d_qk
            (MLA: ``qk_nope_head_dim + qk_rope_head_dim``). v_head_dim: per-head
            value width d_v. All whole numbers > 0.

    Returns:
        FLOPs per training token.
    """
    sizes = {"n_layers": n_layers, "seq_len": seq_len, "n_heads": n_heads,
             "qk_head_dim": qk_head_dim, "v_head_dim": v_head_dim}
    n, t, h, dqk, dv = (_positive_int(k, v) for k, v in sizes.items())
    return float(3 * n * t * h * (dqk + dv))


def gpu_hours(flops: Number, peak_flops_per_gpu: Number, mfu: Number) -> Number:
    """GPU-hours needed to do ``flops`` of work at a given model-FLOPs utilisation.

    Args:
        flops: total work in FLOPs. > 0.
        peak_flops_per_gpu: the GPU's peak FLOP/s at the precision used
            (e.g. 9.894e14 for H100/H800 BF16 dense). > 0.
        mfu: model-FLOPs utilisation, the fraction of peak actually achieved, in (0, 1].

    Returns:
        ``flops / (peak_flops_per_gpu * mfu) / 3600``.

    Raises:
        ValueError: a non-positive input, or ``mfu`` outside (0, 1].
    """
    c = _positive("flops", flops)
    peak = _positive("peak_flops_per_gpu", peak_flops_per_gpu)
    u = _fraction("mfu", mfu)
    return _out(c / (peak * u) / SECONDS_PER_HOUR)


def training_cost_usd(gpu_hours: Number, usd_per_gpu_hour: Number) -> Number:
    """Rental cost of ``gpu_hours`` at ``usd_per_gpu_hour`` (what DeepSeek-V3's Table 1 does).

    Args:
        gpu_hours: GPU-hours. > 0.
        usd_per_gpu_hour: rental price per GPU-hour in US dollars. > 0.

    Returns:
        US dollars, ``gpu_hours * usd_per_gpu_hour``.
    """
    h = _positive("gpu_hours", gpu_hours)
    p = _positive("usd_per_gpu_hour", usd_per_gpu_hour)
    return _out(h * p)


def api_cost_usd(input_tokens: Number, output_tokens: Number,
                 usd_per_m_input: Number, usd_per_m_output: Number) -> Number:
    """What an API bills for a request: tokens times the price per million tokens.

    Reasoning ("thinking") tokens are billed as output tokens, so they belong in
    ``output_tokens``.

    Args:
        input_tokens: prompt tokens. >= 0.
        output_tokens: generated tokens, reasoning included. >= 0.
        usd_per_m_input: US dollars per million input tokens. > 0.
        usd_per_m_output: US dollars per million output tokens. > 0.

    Returns:
        US dollars, ``(input_tokens * usd_per_m_input + output_tokens * usd_per_m_output) / 1e6``.
    """
    i = _non_negative("input_tokens", input_tokens)
    o = _non_negative("output_tokens", output_tokens)
    pi = _positive("usd_per_m_input", usd_per_m_input)
    po = _positive("usd_per_m_output", usd_per_m_output)
    return _out((i * pi + o * po) / 1e6)


def kv_cache_bytes_per_token(
    kind: str,
    *,
    n_layers: int,
    n_heads: int,
    head_dim: int,
    n_kv_groups: int | None = None,
    kv_lora_rank: int | None = None,
    qk_rope_head_dim: int | None = None,
    bytes_per_element: float = 2,
) -> float:
    """KV-cache bytes one token occupies, by DeepSeek-V2's Table 1.

    Elements cached per token and layer: MHA ``2·n_h·d_h`` (a key and a value per
    head); GQA ``2·n_g·d_h`` (one per group); MQA ``2·d_h`` (one shared pair); MLA
    ``d_c + d_h^R`` (the compressed latent plus the decoupled RoPE key, shared by
    all heads). Times ``n_layers`` and ``bytes_per_element``.

    Args:
        kind: ``"mha"``, ``"gqa"``, ``"mqa"`` or ``"mla"``.
        n_layers: transformer layers, l.
        n_heads: attention heads, n_h (used by MHA; checked for all kinds).
        head_dim: per-head dimension, d_h.
        n_kv_groups: KV groups n_g (GQA: required, 1 <= n_g <= n_heads; other kinds: None
            or a valid count, checked the same way).
        kv_lora_rank: KV compression dimension d_c (MLA only).
        qk_rope_head_dim: decoupled RoPE key dimension d_h^R (MLA only).
        bytes_per_element: 2 for BF16/FP16, 1 for FP8. > 0.

    Returns:
        Bytes per token (float).

    Raises:
        ValueError: unknown ``kind``, a size that is not a whole number > 0, or a
            field the kind needs left out.
    """
    if kind not in KV_KINDS:
        raise ValueError(f"kind must be one of {KV_KINDS}, got {kind!r}")
    n_layers = _positive_int("n_layers", n_layers)
    n_heads = _positive_int("n_heads", n_heads)
    head_dim = _positive_int("head_dim", head_dim)
    for name, value in (("n_kv_groups", n_kv_groups), ("kv_lora_rank", kv_lora_rank),
                        ("qk_rope_head_dim", qk_rope_head_dim)):
        if value is not None:  # checked whatever the kind: a bad value is a bug either way
            _positive_int(name, value)
    bpe = float(_positive("bytes_per_element", bytes_per_element))
    if kind == "mha":
        per_layer = 2 * n_heads * head_dim
    elif kind == "gqa":
        if n_kv_groups is None:
            raise ValueError("n_kv_groups is required for kind='gqa'")
        n_g = _positive_int("n_kv_groups", n_kv_groups)
        if n_g > n_heads:
            raise ValueError(f"n_kv_groups must be in [1, n_heads={n_heads}], got {n_g}")
        per_layer = 2 * n_g * head_dim
    elif kind == "mqa":
        per_layer = 2 * head_dim
    else:  # mla
        if kv_lora_rank is None or qk_rope_head_dim is None:
            raise ValueError("kv_lora_rank and qk_rope_head_dim are required for kind='mla'")
        d_c = _positive_int("kv_lora_rank", kv_lora_rank)
        d_r = _positive_int("qk_rope_head_dim", qk_rope_head_dim)
        per_layer = d_c + d_r  # latent c_KV plus the shared RoPE key k^R
    return float(per_layer * n_layers * bpe)


def kv_cache_table(configs: dict[str, Any], *, n_kv_groups: int = 8,
                   bytes_per_element: float = 2) -> pd.DataFrame:
    """KV-cache bytes per token of each attention design at each model's layer and head sizes.

    MHA, GQA and MQA are counterfactuals: the same layers, heads and head width
    (``qk_nope_head_dim``) with another attention design.

    Args:
        configs: ``{label: ModelConfig}`` (:func:`explainer.architecture.load_config`).
        n_kv_groups: groups for GQA (an illustrative choice).
        bytes_per_element: 2 for BF16.

    Returns:
        One row per model and design: ``model size``, ``attention`` (``"MHA"`` ...),
        ``bytes per token``.
    """
    if not isinstance(configs, dict) or not configs or not all(
            hasattr(c, "n_layers") and hasattr(c, "kv_lora_rank") for c in configs.values()):
        raise ValueError(f"configs must be a non-empty dict {{label: ModelConfig}} "
                         f"(explainer.architecture.load_config), got {configs!r}")
    rows = []
    for label, c in configs.items():
        for kind in KV_KINDS:
            b = kv_cache_bytes_per_token(kind, n_layers=c.n_layers, n_heads=c.n_heads,
                                         head_dim=c.qk_nope_head_dim, n_kv_groups=n_kv_groups,
                                         kv_lora_rank=c.kv_lora_rank,
                                         qk_rope_head_dim=c.qk_rope_head_dim,
                                         bytes_per_element=bytes_per_element)
            rows.append({"model size": label, "attention": kind.upper(), "bytes per token": b})
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- what-if
def what_if_flops_expr(prefix: str = "") -> str:
    """:func:`training_flops` as a Vega expression over the slider units (billions, trillions)."""
    check_text("prefix", prefix, empty=True)
    act, tok = prefix + ACTIVE_PARAMS.name, prefix + TOKENS.name
    return f"6 * ({act} * 1e9) * ({tok} * 1e12)"


def gpu_hours_expr(flops: str, peak_tflops: str = PEAK.name, mfu: str = MFU.name) -> str:
    """:func:`gpu_hours` as a Vega expression; the peak is in TFLOP/s (the slider's unit).

    Args:
        flops, peak_tflops, mfu: Vega expressions (param names or ``datum.`` fields).
    """
    flops, peak_tflops, mfu = (_expr(k, v) for k, v in (
        ("flops", flops), ("peak_tflops", peak_tflops), ("mfu", mfu)))
    return f"({flops}) / (({peak_tflops}) * 1e12 * ({mfu})) / 3600"


def days_expr(hours: str, n_gpus: str = N_GPUS.name) -> str:
    """Wall-clock days of ``hours`` GPU-hours on ``n_gpus`` GPUs, as a Vega expression."""
    hours, n_gpus = _expr("hours", hours), _expr("n_gpus", n_gpus)
    return f"({hours}) / ({n_gpus}) / 24"


def what_if_cost_expr(prefix: str = "") -> str:
    """The training-cost formula as a Vega expression over the what-if params.

    It is :func:`training_flops` → :func:`gpu_hours` → :func:`training_cost_usd`
    written out in the units the sliders use (billions of params, trillions of
    tokens, TFLOP/s), so the static page can recompute in the browser.

    Args:
        prefix: put before each param name (e.g. ``"datum."`` if the values are
            fields rather than params).

    Returns:
        An expression string in US dollars.
    """
    check_text("prefix", prefix, empty=True)
    hours = gpu_hours_expr(what_if_flops_expr(prefix), prefix + PEAK.name, prefix + MFU.name)
    return f"{hours} * {prefix + PRICE.name}"


def what_if_cost_usd(usd_per_gpu_hour: Number, mfu: Number, tokens_t: Number,
                     active_params_b: Number, peak_tflops: Number) -> Number:
    """Training cost in dollars from the what-if slider units, through the library.

    Args:
        usd_per_gpu_hour: rental price per GPU-hour.
        mfu: model-FLOPs utilisation in (0, 1].
        tokens_t: training tokens in trillions.
        active_params_b: activated parameters in billions.
        peak_tflops: GPU peak in TFLOP/s.

    Returns:
        US dollars.
    """
    price = _positive("usd_per_gpu_hour", usd_per_gpu_hour)
    mfu = _fraction("mfu", mfu)
    tokens_t = _positive("tokens_t", tokens_t)
    active_params_b = _positive("active_params_b", active_params_b)
    peak_tflops = _positive("peak_tflops", peak_tflops)
    with np.errstate(over="ignore"):
        steps = (6.0 * (active_params_b * 1e9) * (tokens_t * 1e12), peak_tflops * 1e12,
                 6.0 * (active_params_b * 1e9) * (tokens_t * 1e12)
                 / (peak_tflops * 1e12 * mfu) / SECONDS_PER_HOUR * price)
    if not all(np.all(np.isfinite(v)) for v in steps):
        raise ValueError("usd_per_gpu_hour, mfu, tokens_t, active_params_b and peak_tflops "
                         "must give a finite cost (below about 1e308 dollars)")
    flops = training_flops(active_params_b * 1e9, tokens_t * 1e12)
    hours = gpu_hours(flops, peak_tflops * 1e12, mfu)
    return training_cost_usd(hours, price)


# --------------------------------------------------------------------------- data
def load_models() -> pd.DataFrame:
    """``data/models.csv`` indexed by ``model``: params, tokens, reported GPU-hours and FLOPs."""
    return read_csv("models.csv").set_index("model")


def load_training_runs() -> pd.DataFrame:
    """``data/training_runs.csv`` indexed by ``(model, stage)``: GPU-hours and reported dollars.

    ``runs.loc["DeepSeek-V3"]`` is V3's stages, indexed by stage.
    """
    return read_csv("training_runs.csv").set_index(["model", "stage"])


def load_prices() -> pd.DataFrame:
    """``data/prices.csv`` indexed by ``model``: API prices in US dollars per million tokens."""
    return read_csv("prices.csv").set_index("model")


def load_gpus() -> pd.DataFrame:
    """``data/gpus.csv`` indexed by ``gpu``: peak FLOP/s per GPU type (BF16 and FP8, dense)."""
    return read_csv("gpus.csv").set_index("gpu")


def load_seed_table() -> pd.DataFrame:
    """``data/seed_flops_table.csv`` indexed by ``model``: seed article 004's table, as printed."""
    return read_csv("seed_flops_table.csv").set_index("model")


def load_clusters() -> pd.DataFrame:
    """``data/clusters.csv`` indexed by ``status`` (``documented``, ``projection``)."""
    return read_csv("clusters.csv").set_index("status")


def load_attention_shapes() -> pd.DataFrame:
    """``data/attention_shapes.csv`` indexed by ``model``: layers, heads, head widths and the
    pre-training sequence length, for :func:`attention_training_flops_per_token`."""
    return read_csv("attention_shapes.csv").set_index("model")
