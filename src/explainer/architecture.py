"""Architectures: the shape of a DeepSeek MLA + MoE transformer and its parameter count.

* :class:`ModelConfig` holds a model's shape with the field names of ``ModelArgs``
  in deepseek-ai/DeepSeek-V3's ``inference/model.py`` (``n_expert_groups`` and
  ``n_limited_groups`` included: V3 routes each token to experts in at most 4 of
  8 groups, V3 report §2.1.2), so a config JSON of that repository loads as is.
* :func:`load_config` reads ``data/configs/<name>.json``.
* :func:`param_counts` counts the weights the layers of ``inference/model.py``
  create (``MLA``, ``MLP``, ``Gate``, ``Expert``, ``MoE``, ``Block``,
  ``Transformer``), part by part, and the parameters a token activates. It
  reproduces the published "671B total, 37B activated" (V3) and "236B, 21B" (V2).

What a shape costs to train or serve is :mod:`explainer.costs`'s business.
"""

from __future__ import annotations

import json
from dataclasses import MISSING, dataclass, fields
from typing import Any

from explainer.checks import check_bool, check_choice, check_int, check_number
from explainer.data import data_path

__all__ = ["CONFIG_NAMES", "DTYPES", "SCORE_FUNCS", "ModelConfig", "load_config",
           "param_counts"]

# file stems under data/configs/
CONFIG_NAMES = ("deepseek_v2_236b", "deepseek_v3_671b", "toy")
SCORE_FUNCS = ("softmax", "sigmoid")  # ModelArgs.score_func: V2 softmax, V3 sigmoid
DTYPES = ("bf16", "fp8")  # ModelArgs.dtype
_MAX_SIZE = 2**24  # any size field: DeepSeek's largest is vocab_size = 129280


@dataclass(frozen=True)
class ModelConfig:
    """A DeepSeek MLA + MoE transformer's shape, with ``ModelArgs`` field names.

    Fields without a default must be given. ``gate_bias`` makes explicit what
    DeepSeek's ``model.py`` decides with ``dim == 7168``: V3's router carries a
    per-expert bias (auxiliary-loss-free balancing, V3 report §2.1.2).
    """

    vocab_size: int
    dim: int
    inter_dim: int  # FFN width of the dense layers
    moe_inter_dim: int  # FFN width of one expert
    n_layers: int
    n_dense_layers: int  # the first layers keep a dense FFN
    n_heads: int
    n_routed_experts: int
    n_shared_experts: int
    n_activated_experts: int  # routed experts per token (top-k)
    q_lora_rank: int  # 0 = no query compression
    kv_lora_rank: int  # d_c
    qk_nope_head_dim: int  # d_h
    qk_rope_head_dim: int  # d_h^R
    v_head_dim: int
    n_expert_groups: int = 1
    n_limited_groups: int = 1
    score_func: str = "softmax"
    route_scale: float = 1.0
    gate_bias: bool = False
    dtype: str = "bf16"
    name: str = ""
    source_id: str = ""

    def __post_init__(self) -> None:
        for f in fields(self):
            if f.type == "int":
                low = 0 if f.name in ("q_lora_rank", "n_dense_layers", "n_shared_experts") else 1
                v = check_int(f"config field {f.name}", getattr(self, f.name), low, _MAX_SIZE)
                object.__setattr__(self, f.name, v)  # numpy ints become Python ints
        check_choice("config field score_func", self.score_func, SCORE_FUNCS)
        check_choice("config field dtype", self.dtype, DTYPES)
        object.__setattr__(self, "route_scale", check_number(
            "config field route_scale", self.route_scale, 0, lo_open=True))
        check_bool("config field gate_bias", self.gate_bias)
        for name in ("name", "source_id"):
            if not isinstance(getattr(self, name), str):
                raise ValueError(f"config field {name} must be a string, got "
                                 f"{getattr(self, name)!r}")
        if self.n_routed_experts % self.n_expert_groups:
            raise ValueError(f"config field n_expert_groups must divide n_routed_experts="
                             f"{self.n_routed_experts}, got {self.n_expert_groups}")
        if self.n_limited_groups > self.n_expert_groups:
            raise ValueError(f"config field n_limited_groups must be in [1, n_expert_groups="
                             f"{self.n_expert_groups}], got {self.n_limited_groups}")
        if self.n_dense_layers > self.n_layers:
            raise ValueError(
                f"config field n_dense_layers must be in [0, n_layers={self.n_layers}], "
                f"got {self.n_dense_layers}")
        if self.n_activated_experts > self.n_routed_experts:
            raise ValueError(
                f"config field n_activated_experts must be in [1, n_routed_experts="
                f"{self.n_routed_experts}], got {self.n_activated_experts}")

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ModelConfig:
        """Build from a dict (a parsed config JSON); ValueError names missing or unknown fields."""
        if not isinstance(d, dict):
            raise ValueError(f"config must be a dict of ModelArgs fields, got {type(d).__name__}")
        names = {f.name for f in fields(cls)}
        required = {f.name for f in fields(cls)
                    if f.default is MISSING and f.default_factory is MISSING}
        unknown = sorted(set(d) - names)
        if unknown:
            raise ValueError(f"config has unknown field(s) {unknown}; allowed: {sorted(names)}")
        missing = sorted(required - set(d))
        if missing:
            raise ValueError(f"config is missing field(s) {missing}")
        return cls(**d)


def load_config(name: str) -> ModelConfig:
    """Load ``data/configs/<name>.json``.

    Args:
        name: one of :data:`CONFIG_NAMES` (``"deepseek_v2_236b"``,
            ``"deepseek_v3_671b"``, ``"toy"``).

    Returns:
        The :class:`ModelConfig`.
    """
    check_choice("name", name, CONFIG_NAMES)
    with open(data_path("configs", f"{name}.json")) as f:
        return ModelConfig.from_dict(json.load(f))


def param_counts(config: ModelConfig | dict[str, Any]) -> dict[str, int]:
    """Total and activated parameters of a DeepSeek MLA + MoE model, part by part.

    Counts the weights ``inference/model.py`` creates (no biases on linears;
    RMSNorm weights included; input embedding and output head are separate
    matrices). The multi-token-prediction module of V3 is not part of the config
    and is not counted.

    Args:
        config: a :class:`ModelConfig` or a dict with its fields.

    Returns:
        Dict of ints: ``total``, ``activated`` and the parts ``embedding``,
        ``head``, ``attention``, ``dense_ffn``, ``routed_experts``,
        ``shared_experts``, ``gates``, ``norms``, ``activated_routed_experts``.
        ``activated`` counts every weight a token passes through, embedding
        row lookups included as the whole embedding (DeepSeek's convention).
    """
    if not isinstance(config, (ModelConfig, dict)):
        raise ValueError(f"config must be a ModelConfig or a dict of its fields, got "
                         f"{type(config).__name__}")
    c = config if isinstance(config, ModelConfig) else ModelConfig.from_dict(dict(config))
    qk_head_dim = c.qk_nope_head_dim + c.qk_rope_head_dim
    # --- MLA, one layer
    if c.q_lora_rank > 0:
        q = c.dim * c.q_lora_rank + c.q_lora_rank * c.n_heads * qk_head_dim  # wq_a, wq_b
        q_norm = c.q_lora_rank
    else:
        q = c.dim * c.n_heads * qk_head_dim  # wq
        q_norm = 0
    kv = (c.dim * (c.kv_lora_rank + c.qk_rope_head_dim)  # wkv_a: latent + RoPE key
          + c.kv_lora_rank * c.n_heads * (c.qk_nope_head_dim + c.v_head_dim))  # wkv_b
    wo = c.n_heads * c.v_head_dim * c.dim
    attn_layer = q + kv + wo
    # --- FFNs: SwiGLU, w1, w2, w3
    dense_mlp = 3 * c.dim * c.inter_dim
    expert = 3 * c.dim * c.moe_inter_dim
    gate = c.n_routed_experts * c.dim + (c.n_routed_experts if c.gate_bias else 0)
    n_moe = c.n_layers - c.n_dense_layers
    # --- norms: attn_norm + ffn_norm per block, q_norm + kv_norm in MLA, final norm
    norms = c.n_layers * (2 * c.dim + q_norm + c.kv_lora_rank) + c.dim
    parts = {
        "embedding": c.vocab_size * c.dim,
        "head": c.dim * c.vocab_size,
        "attention": c.n_layers * attn_layer,
        "dense_ffn": c.n_dense_layers * dense_mlp,
        "routed_experts": n_moe * c.n_routed_experts * expert,
        "shared_experts": n_moe * c.n_shared_experts * expert,
        "gates": n_moe * gate,
        "norms": norms,
    }
    total = sum(parts.values())
    parts["activated_routed_experts"] = n_moe * c.n_activated_experts * expert
    parts["total"] = total
    parts["activated"] = total - parts["routed_experts"] + parts["activated_routed_experts"]
    return {k: int(v) for k, v in parts.items()}
