"""DeepSeek-V3.2 and DeepSeek-V4 shapes and their parameter counts, from the published configs.

:mod:`explainer.architecture` counts the MLA + MoE transformer of DeepSeek-V2 and V3. Two later
releases change that shape, so they get their own counters here, each following DeepSeek's own
reference code layer by layer:

* **DeepSeek-V3.2(-Exp)** keeps V3's shape and adds, in every layer, the "lightning indexer" of
  DeepSeek Sparse Attention (``Indexer`` in deepseek-ai/DeepSeek-V3.2-Exp ``inference/model.py``:
  ``wq_b``, ``wk``, ``k_norm``, ``weights_proj``). :func:`v32_param_counts` checks that the config's
  V3 fields equal V3's and adds the indexer to :func:`explainer.architecture.param_counts`.
* **DeepSeek-V4** (Pro and Flash, April 2026; V4 report, arXiv 2606.19348) replaces MLA's latent KV
  with one shared 512-wide key/value head, a grouped low-rank output projection
  (``o_groups``, ``o_lora_rank``), per-layer KV *compressors* (``compress_ratios``: 4 = "CSA", with an
  indexer; 128 = "HCA"; 0 = sliding window only), hash-routed MoE in the first ``n_hash_layers`` and
  Manifold-Constrained Hyper-Connections (``hc_mult`` copies of the residual stream).
  :func:`v4_param_counts` counts the weights that ``Block``, ``Attention``, ``Compressor``,
  ``Indexer``, ``Gate``, ``MoE``, ``MTPBlock`` and ``Transformer`` of V4's ``inference/model.py``
  create. Field names are those of its ``ModelArgs`` (= the keys of ``inference/config.json``).

Counts are logical parameters: an FP4 expert weight stored two to a byte counts twice, and the
quantisation scales, the integer hash table ``tid2eid`` and the buffers are not parameters.
"""

from __future__ import annotations

import json
from typing import Any

from explainer import architecture
from explainer.checks import check_choice, check_int
from explainer.data import data_path

__all__ = ["V4_CONFIG_NAMES", "V4_FIELDS", "load_v4_config", "v32_param_counts", "v4_param_counts"]

# file stems under data/configs/
V4_CONFIG_NAMES = ("deepseek_v4_flash_284b", "deepseek_v4_pro_1600b")
# the ModelArgs fields the count reads (V4 inference/model.py)
V4_FIELDS = ("vocab_size", "dim", "moe_inter_dim", "n_layers", "n_hash_layers", "n_heads",
             "n_routed_experts", "n_shared_experts", "n_activated_experts", "q_lora_rank",
             "head_dim", "rope_head_dim", "o_groups", "o_lora_rank", "index_n_heads",
             "index_head_dim", "hc_mult", "compress_ratios")
# V3's fields that V3.2-Exp's config must repeat unchanged
_V3_SHAPE = ("vocab_size", "dim", "inter_dim", "moe_inter_dim", "n_layers", "n_dense_layers",
             "n_heads", "n_routed_experts", "n_shared_experts", "n_activated_experts",
             "q_lora_rank", "kv_lora_rank", "qk_nope_head_dim", "qk_rope_head_dim", "v_head_dim")


def load_v4_config(name: str) -> dict[str, Any]:
    """Load ``data/configs/<name>.json`` (a DeepSeek-V4 ``inference/config.json`` plus name/source).

    Args:
        name: one of :data:`V4_CONFIG_NAMES`.

    Returns:
        The config as a dict with the ``ModelArgs`` keys, ``name`` and ``source_id``.

    Raises:
        ValueError: unknown name, a missing field, or ``compress_ratios`` not one entry per layer
            plus one for the multi-token-prediction block.
    """
    check_choice("name", name, V4_CONFIG_NAMES)
    with open(data_path("configs", f"{name}.json")) as f:
        config = json.load(f)
    _check_v4(config)
    return config


def _check_v4(c: dict[str, Any]) -> None:
    """ValueError naming the config field that is missing or out of range."""
    if not isinstance(c, dict):
        raise ValueError(f"config must be a dict with the keys of V4_FIELDS, got "
                         f"{type(c).__name__}")
    missing = [k for k in V4_FIELDS if k not in c]
    if missing:
        raise ValueError(f"V4 config is missing field(s) {missing}")
    for k in V4_FIELDS:
        if k != "compress_ratios":
            low = 0 if k == "n_hash_layers" else 1
            check_int(f"config field {k}", c[k], low, architecture._MAX_SIZE)
    if c["n_hash_layers"] > c["n_layers"] or c["n_activated_experts"] > c["n_routed_experts"]:
        raise ValueError("config fields n_hash_layers must be <= n_layers and "
                         "n_activated_experts <= n_routed_experts")
    if (c["n_heads"] * c["head_dim"]) % c["o_groups"]:
        raise ValueError(f"config field o_groups must divide n_heads * head_dim, got "
                         f"{c['o_groups']}")
    if not isinstance(c["compress_ratios"], (list, tuple)):
        raise ValueError(f"config field compress_ratios must be a list, got "
                         f"{c['compress_ratios']!r}")
    if len(c["compress_ratios"]) != c["n_layers"] + 1:
        raise ValueError(f"compress_ratios must have n_layers + 1 = {c['n_layers'] + 1} entries "
                         f"(the last is the MTP block), got {len(c['compress_ratios'])}")
    if set(c["compress_ratios"]) - {0, 4, 128}:
        raise ValueError(f"compress_ratios must be 0, 4 or 128, got {sorted(set(c['compress_ratios']))}")
    if c["n_shared_experts"] != 1:
        raise ValueError("V4's MoE has exactly one shared expert (model.py asserts it)")


def _compressor(c: dict[str, Any], ratio: int, head_dim: int) -> int:
    """``Compressor``: ape + wkv + wgate + norm; ratio 4 overlaps windows, doubling the width."""
    coff = 2 if ratio == 4 else 1
    return ratio * coff * head_dim + 2 * c["dim"] * coff * head_dim + head_dim


def _block(c: dict[str, Any], layer: int) -> dict[str, int]:
    """One ``Block`` (or the Block inside ``MTPBlock``): attention, MoE, norms, hyper-connections."""
    d, h, hd, g = c["dim"], c["n_heads"], c["head_dim"], c["o_groups"]
    ratio = c["compress_ratios"][layer]
    attn = (h  # attn_sink, one per head
            + d * c["q_lora_rank"] + c["q_lora_rank"]  # wq_a, q_norm
            + c["q_lora_rank"] * h * hd  # wq_b
            + d * hd + hd  # wkv: one shared key/value head, kv_norm
            + (h * hd // g) * (g * c["o_lora_rank"])  # wo_a, grouped low-rank output
            + g * c["o_lora_rank"] * d)  # wo_b
    if ratio:
        attn += _compressor(c, ratio, hd)
        if ratio == 4:  # CSA layers select compressed entries with an indexer
            ih, ihd = c["index_n_heads"], c["index_head_dim"]
            attn += c["q_lora_rank"] * ih * ihd + d * ih + _compressor(c, 4, ihd)
    expert = 3 * d * c["moe_inter_dim"]  # SwiGLU w1, w2, w3
    hashed = layer < c["n_hash_layers"]
    gate = c["n_routed_experts"] * d + (0 if hashed else c["n_routed_experts"])  # weight (+ bias)
    mix = (2 + c["hc_mult"]) * c["hc_mult"]
    hyper = 2 * (mix * c["hc_mult"] * d + mix + 3)  # hc_{attn,ffn}_{fn,base,scale}
    return {"attention": attn, "gates": gate, "shared_experts": expert, "norms": 2 * d,
            "hyper_connections": hyper,
            "routed_experts": c["n_routed_experts"] * expert,
            "activated_routed_experts": c["n_activated_experts"] * expert}


def v4_param_counts(config: dict[str, Any]) -> dict[str, int]:
    """Total and activated parameters of a DeepSeek-V4 model, part by part.

    The main model (embedding, ``n_layers`` blocks, final norm, output head, the head's
    hyper-connection weights) is counted apart from the multi-token-prediction block, as DeepSeek's
    model cards do for V3 ("671B" without the MTP module).

    Args:
        config: a dict with the keys of :data:`V4_FIELDS` (e.g. :func:`load_v4_config`).

    Returns:
        Dict of ints: ``total`` and ``activated`` (main model; ``activated`` counts the whole
        embedding, as :func:`explainer.architecture.param_counts` does for V3),
        ``activated_without_embedding``, ``mtp_total``, the parts ``embedding``, ``head``,
        ``attention``, ``gates``, ``shared_experts``, ``routed_experts``,
        ``activated_routed_experts``, ``norms``, ``hyper_connections``, and ``csa_layers``,
        ``hca_layers``, ``window_layers`` (how many of the ``n_layers`` blocks compress by 4, by 128
        or not at all).
    """
    _check_v4(config)
    c = config
    d, hc = c["dim"], c["hc_mult"]
    parts = {"embedding": c["vocab_size"] * d, "head": c["vocab_size"] * d}
    keys = ("attention", "gates", "shared_experts", "norms", "hyper_connections",
            "routed_experts", "activated_routed_experts")
    for k in keys:
        parts[k] = 0
    for layer in range(c["n_layers"]):
        for k, v in _block(c, layer).items():
            parts[k] += v
    parts["norms"] += d  # final norm
    parts["hyper_connections"] += hc * hc * d + hc + 1  # hc_head_{fn,base,scale}
    total = sum(parts[k] for k in ("embedding", "head", *keys[:-1]))
    activated = total - parts["routed_experts"] + parts["activated_routed_experts"]
    mtp = _block(c, c["n_layers"])
    mtp_total = (sum(v for k, v in mtp.items() if k != "activated_routed_experts")
                 + 2 * d * d + 3 * d  # e_proj, h_proj; enorm, hnorm, norm
                 + hc * hc * d + hc + 1)  # its own hc_head weights; embed and head are shared
    ratios = c["compress_ratios"][:c["n_layers"]]
    out = dict(parts, total=total, activated=activated,
               activated_without_embedding=activated - parts["embedding"], mtp_total=mtp_total,
               csa_layers=ratios.count(4), hca_layers=ratios.count(128),
               window_layers=ratios.count(0))
    return {k: int(v) for k, v in out.items()}


def v32_param_counts() -> dict[str, int]:
    """DeepSeek-V3.2-Exp's parameters: V3's shape plus a lightning indexer in every layer.

    Reads ``data/configs/deepseek_v32_exp_671b.json`` (DeepSeek's ``config_671B_v3.2.json``),
    checks that its MLA and MoE fields equal V3's, and adds the indexer's weights (V3.2-Exp
    ``inference/model.py``, ``Indexer``: ``wq_b``, ``wk``, ``k_norm`` with weight and bias,
    ``weights_proj``), which every token passes through.

    Returns:
        :func:`explainer.architecture.param_counts` of V3 with ``indexer`` added and ``total``
        and ``activated`` raised by it.

    Raises:
        ValueError: the V3.2 config's V3 fields differ from V3's.
    """
    with open(data_path("configs", "deepseek_v32_exp_671b.json")) as f:
        v32 = json.load(f)
    v3 = architecture.load_config("deepseek_v3_671b")
    differ = [k for k in _V3_SHAPE if v32[k] != getattr(v3, k)]
    if differ:
        raise ValueError(f"V3.2-Exp's config differs from V3's in {differ}")
    counts = architecture.param_counts(v3)
    ih, ihd = v32["index_n_heads"], v32["index_head_dim"]
    per_layer = v32["q_lora_rank"] * ih * ihd + v32["dim"] * ihd + 2 * ihd + v32["dim"] * ih
    counts["indexer"] = v32["n_layers"] * per_layer
    counts["total"] += counts["indexer"]
    counts["activated"] += counts["indexer"]
    return counts
