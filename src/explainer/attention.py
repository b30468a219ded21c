"""Attention that remembers less: Multi-head Latent Attention, its cache, top-k sparse attention.

What this module teaches:

* **The KV cache.** A decoder keeps, for every earlier token and every layer, what
  attention needs to look back at. Multi-head attention (MHA) keeps a key and a value
  per head; grouped-query attention (GQA) one pair per group of heads; multi-query
  attention (MQA) one pair for all heads (:class:`GQA` covers all three).
* **Multi-head Latent Attention** (:class:`MLA`; DeepSeek-V2 report §2.1, arXiv
  2405.04434; DeepSeek-V3 ``inference/model.py``). Keys and values are
  up-projections (``wkv_b``) of one small latent vector per token, ``kv_lora_rank``
  wide, made by ``wkv_a`` and normalised by ``kv_norm``. Two decoding paths run over
  the *same* parameters, as V3's ``attn_impl``:

  - ``"naive"`` decompresses the new token's latent into per-head keys and values
    and caches those (an MHA-sized cache);
  - ``"absorb"`` caches only the latent plus one small rotary key, and folds the key
    up-projection into the query and the value up-projection into the output
    (V2 §2.1.2: "W^UK can be absorbed into W^Q, and W^UV into W^O").
* **Decoupled RoPE** (V2 §2.1.3). Rotary position embedding rotates keys by their
  position; a rotation sitting between the query and ``W^UK`` stops the absorption.
  MLA therefore gives each head a small extra query part (``qk_rope_head_dim``) that
  is rotated, matched by one rotated key shared by all heads, while the large
  ``qk_nope_head_dim`` part carries no position. ``MLA(..., rope="coupled")`` is the
  counterexample: it rotates the nope parts too (the per-head keys in ``naive``,
  the compressed latent in ``absorb``) and the two paths then disagree.
* **Measured cache**: every module holds its cache as tensors and
  :meth:`cache_bytes_per_token` divides their bytes by the token slots; it equals
  :func:`explainer.costs.kv_cache_bytes_per_token` (DeepSeek-V2 Table 1), see
  :func:`formula_bytes_per_token` for the correspondence.
* **Top-k sparse attention** in the spirit of DeepSeek Sparse Attention (DSA,
  DeepSeek-V3.2-Exp ``inference/model.py``, class ``Indexer``):
  :func:`topk_sparse_attention` attends, for each query, only to the ``top_k``
  earlier tokens an indexer scores highest, so the main attention does L·k work
  instead of L². :func:`lightning_index_scores` is the indexer's score,
  ``I[t, s] = sum_j w[t, j] · ReLU(q[t, j] · k[s])``. Our toy simplifies DSA: no FP8
  quantisation of the indexer's keys and queries, no Hadamard rotation
  (``rotate_activation``), no RoPE inside the indexer, index queries made from the
  token's hidden state rather than from the query latent, and no training of the
  indexer (V3.2-Exp trains it to mimic the dense attention distribution).

Layouts: V3 caches ``(batch, seq, heads, dim)``; we cache per-head tensors
head-major ``(batch, heads, seq, dim)`` so each head's scores are one contiguous
matrix product on a CPU. YaRN context extension follows V3: when ``max_seq_len`` exceeds
``original_seq_len`` the rotary frequencies are stretched (:func:`precompute_freqs_cis`) and
the softmax scale is multiplied by ``(0.1 · mscale · ln(rope_factor) + 1)^2``, for every
design (V3 has only MLA; the others get the same rotation so they stay comparable).

References: DeepSeek-V2 report (arXiv 2405.04434) §2.1 and Table 1; DeepSeek-V3
report (arXiv 2412.19437) §2.1.1; deepseek-ai/DeepSeek-V3 ``inference/model.py``
(``MLA``, ``precompute_freqs_cis``, ``apply_rotary_emb``); deepseek-ai/DeepSeek-V3.2-Exp
``inference/model.py`` (``Indexer``, sparse ``MLA``); GQA (Ainslie et al. 2023,
arXiv 2305.13245); MQA (Shazeer 2019, arXiv 1911.02150).
"""

from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass, fields
from typing import NamedTuple

import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn

from explainer import costs
from explainer.checks import SEED_MAX, check_int, check_number, check_seed, check_tensor
from explainer.controls import Choice, Slider

__all__ = [
    "ATTENTION_KINDS",
    "BENCH_CONFIG",
    "AttentionConfig",
    "GQA",
    "LightningIndexer",
    "MLA",
    "RetrievalTask",
    "SparseMLA",
    "apply_rotary_emb",
    "attention_macs",
    "work_curve",
    "formula_bytes_per_token",
    "lightning_index_scores",
    "make_attention",
    "make_retrieval_task",
    "precompute_freqs_cis",
    "retrieval_accuracy",
    "retrieval_curve",
    "SHAPE_CONTROLS",
    "TOP_K_LOG2",
    "cache_elements_expr",
    "shape_report",
    "topk_sparse_attention",
]

# the five exact designs the issue names, plus DSA-style sparse MLA
ATTENTION_KINDS = ("mha", "gqa", "mqa", "mla_naive", "mla_absorb", "mla_sparse")
_MAX_SIZE = 2**24  # any size or length (V3's longest context: 128K = 2**17 tokens)
_ZERO_OK = ("q_lora_rank",)  # 0 = no query compression (V3's ModelArgs convention)
_FLOATS = {"rope_theta": 1, "rope_factor": 0, "mscale": 0}  # real-valued fields, lower bounds


# --------------------------------------------------------------------------- config
@dataclass(frozen=True)
class AttentionConfig:
    """One attention layer's shape, with DeepSeek-V3 ``ModelArgs`` field names.

    Defaults are a toy that runs in milliseconds on a CPU. ``n_kv_groups`` is used
    by ``"gqa"`` only; the ``index_*`` fields by ``"mla_sparse"`` only (V3.2-Exp's
    ``index_n_heads``, ``index_head_dim``, ``index_topk``).
    """

    dim: int = 64
    n_heads: int = 4
    q_lora_rank: int = 0  # 0: queries straight from x with wq (as V2-Lite)
    kv_lora_rank: int = 32  # d_c, the latent width
    qk_nope_head_dim: int = 16  # d_h, the position-free part of a query/key head
    qk_rope_head_dim: int = 8  # d_h^R, the rotary part (decoupled in MLA)
    v_head_dim: int = 16
    max_seq_len: int = 128
    n_kv_groups: int = 2  # n_g for GQA
    max_batch_size: int = 1
    rope_theta: float = 10000.0
    index_n_heads: int = 2
    index_head_dim: int = 16
    index_topk: int = 32
    # YaRN (V3's ModelArgs defaults; on whenever max_seq_len > original_seq_len, as in V3)
    original_seq_len: int = 4096  # the length the model was pre-trained at
    rope_factor: float = 40.0  # s, how far the slow rotary pairs are stretched
    beta_fast: int = 32  # pairs turning more than beta_fast times in original_seq_len: kept
    beta_slow: int = 1  # pairs turning less than beta_slow times: divided by rope_factor
    mscale: float = 1.0  # softmax scale grows by (0.1 · mscale · ln(rope_factor) + 1)^2

    def __post_init__(self) -> None:
        for f in fields(self):
            v = getattr(self, f.name)
            if f.name in _FLOATS:
                check_number(f.name, v, _FLOATS[f.name], lo_open=True)
                continue
            check_int(f.name, v, 0 if f.name in _ZERO_OK else 1, _MAX_SIZE)
        if self.qk_rope_head_dim % 2:
            raise ValueError(
                f"qk_rope_head_dim must be even (RoPE rotates pairs), got {self.qk_rope_head_dim}")
        if self.n_kv_groups > self.n_heads or self.n_heads % self.n_kv_groups:
            raise ValueError(
                f"n_kv_groups must divide n_heads={self.n_heads} (1 <= n_kv_groups <= n_heads), "
                f"got {self.n_kv_groups}")

    @property
    def yarn(self) -> bool:
        """Whether YaRN is on: V3 switches it on when ``max_seq_len > original_seq_len``."""
        return self.max_seq_len > self.original_seq_len

    @property
    def qk_head_dim(self) -> int:
        """Width of one query/key head: ``qk_nope_head_dim + qk_rope_head_dim``."""
        return self.qk_nope_head_dim + self.qk_rope_head_dim

    @classmethod
    def from_model(cls, model: costs.ModelConfig | str, **overrides) -> AttentionConfig:
        """The attention shape of a DeepSeek config (``costs.load_config`` name or object)."""
        m = costs.load_config(model) if isinstance(model, str) else model
        kw = {f.name: getattr(m, f.name) for f in fields(cls) if hasattr(m, f.name)}
        kw.update(overrides)
        return cls(**kw)


# the small width benchmarks/attention.py times (16 heads; a latent 4x a head, as in V2/V3)
BENCH_CONFIG = AttentionConfig(dim=256, n_heads=16, q_lora_rank=0, kv_lora_rank=128,
                               qk_nope_head_dim=32, qk_rope_head_dim=16, v_head_dim=32,
                               max_seq_len=32769, n_kv_groups=4, index_n_heads=4,
                               index_head_dim=32, index_topk=512)


# --------------------------------------------------------------------------- RoPE
def precompute_freqs_cis(dim: int, max_seq_len: int, theta: float = 10000.0, *,
                         original_seq_len: int | None = None, rope_factor: float = 40.0,
                         beta_fast: int = 32, beta_slow: int = 1) -> torch.Tensor:
    """Rotary factors ``exp(i · pos · freq_j)`` for every position, with V3's YaRN.

    ``freq_j = theta^(-2j/dim)``. When ``original_seq_len`` is given and ``max_seq_len``
    exceeds it, YaRN stretches the slow pairs as V3's ``precompute_freqs_cis`` does: pairs
    that turn fewer than ``beta_slow`` times within ``original_seq_len`` tokens are divided
    by ``rope_factor``, pairs that turn more than ``beta_fast`` times are kept, and a linear
    ramp over the pair index blends the ones in between (V3's ``find_correction_range``,
    ``linear_ramp_factor``; the "NTK-by-parts" ramp of YaRN, arXiv 2309.00071).

    Args:
        dim: rotated width (even).
        max_seq_len: positions 0 .. max_seq_len - 1.
        theta: RoPE base.
        original_seq_len: the pre-training length; ``None`` turns YaRN off.
        rope_factor: YaRN's scale s.
        beta_fast, beta_slow: rotation counts bounding the ramp.

    Returns:
        complex128 tensor (max_seq_len, dim // 2).
    """
    if check_int("dim", dim, 2, _MAX_SIZE) % 2:
        raise ValueError(f"dim must be a positive even int, got {dim!r}")
    max_seq_len = check_int("max_seq_len", max_seq_len, 1, _MAX_SIZE)
    theta = check_number("theta", theta, 1, lo_open=True)
    if original_seq_len is not None:
        check_int("original_seq_len", original_seq_len, 1, _MAX_SIZE)
    rope_factor = check_number("rope_factor", rope_factor, 0, lo_open=True)
    check_int("beta_fast", beta_fast, 1, _MAX_SIZE)
    check_int("beta_slow", beta_slow, 1, _MAX_SIZE)
    inv = 1.0 / theta ** (torch.arange(0, dim, 2, dtype=torch.float64) / dim)  # (dim/2,)
    if original_seq_len is not None and max_seq_len > original_seq_len:
        def correction_dim(rotations: float) -> float:  # the pair index that turns `rotations` times
            return dim * math.log(original_seq_len / (rotations * 2 * math.pi)) / (
                2 * math.log(theta))

        low = max(math.floor(correction_dim(beta_fast)), 0)
        high = min(math.ceil(correction_dim(beta_slow)), dim - 1)
        if low == high:
            high += 0.001
        ramp = ((torch.arange(dim // 2, dtype=torch.float64) - low) / (high - low)).clamp(0, 1)
        smooth = 1 - ramp  # 1: keep the pair's frequency, 0: divide it by rope_factor
        inv = inv / rope_factor * (1 - smooth) + inv * smooth
    ang = torch.outer(torch.arange(max_seq_len, dtype=torch.float64), inv)  # (T, dim/2)
    return torch.polar(torch.ones_like(ang), ang)


def apply_rotary_emb(x: torch.Tensor, freqs_cis: torch.Tensor) -> torch.Tensor:
    """Rotate consecutive pairs of ``x``'s last dim by ``freqs_cis`` (V3's convention).

    Real arithmetic in ``x``'s dtype, so float64 stays float64.

    Args:
        x: (batch, seq, heads, d) with d even.
        freqs_cis: complex (seq, d // 2).

    Returns:
        Tensor shaped like ``x``.
    """
    check_tensor("x", x, ndim=4, kind="float", finite=True, nonempty=True)
    if x.shape[-1] % 2:
        raise ValueError(f"x's last dim must be even (pairs are rotated), got {tuple(x.shape)}")
    check_tensor("freqs_cis", freqs_cis, ndim=2, nonempty=True)
    if not freqs_cis.is_complex() or not bool(torch.isfinite(torch.view_as_real(freqs_cis)).all()):
        raise ValueError(f"freqs_cis must be a finite complex tensor (precompute_freqs_cis), got "
                         f"dtype {freqs_cis.dtype}")
    if bool(((freqs_cis.abs() - 1).abs() > 1e-4).any()):
        raise ValueError("freqs_cis must hold rotations, complex numbers of modulus 1 "
                         "(precompute_freqs_cis)")
    b, s, h, d = x.shape
    if freqs_cis.shape != (s, d // 2):
        raise ValueError(f"freqs_cis must have shape ({s}, {d // 2}) to match x, got "
                         f"{tuple(freqs_cis.shape)}")
    return _apply_rotary_emb(x, freqs_cis)


def _apply_rotary_emb(x: torch.Tensor, freqs_cis: torch.Tensor) -> torch.Tensor:
    """:func:`apply_rotary_emb` without its checks (the layers, once per call)."""
    b, s, h, d = x.shape
    if freqs_cis.shape != (s, d // 2):
        raise ValueError(f"freqs_cis must have shape ({s}, {d // 2}), got {tuple(freqs_cis.shape)}")
    f = freqs_cis.to(x.device)
    cos = f.real.to(x.dtype).view(1, s, 1, d // 2)
    sin = f.imag.to(x.dtype).view(1, s, 1, d // 2)
    x0, x1 = x.reshape(b, s, h, d // 2, 2).unbind(-1)  # (B, S, H, d/2) each
    return torch.stack([x0 * cos - x1 * sin, x0 * sin + x1 * cos], dim=-1).reshape(b, s, h, d)


# --------------------------------------------------------------------------- shared base
class _Attention(nn.Module):
    """Query projection, RoPE bookkeeping, cache checks and measured cache size."""

    def __init__(self, config: AttentionConfig) -> None:
        super().__init__()
        if not isinstance(config, AttentionConfig):
            raise ValueError(f"config must be an AttentionConfig, got {type(config).__name__}")
        c = self.config = config
        self.n_heads = c.n_heads
        self.qk_nope_head_dim, self.qk_rope_head_dim = c.qk_nope_head_dim, c.qk_rope_head_dim
        self.qk_head_dim, self.v_head_dim = c.qk_head_dim, c.v_head_dim
        if c.q_lora_rank == 0:
            self.wq = nn.Linear(c.dim, c.n_heads * c.qk_head_dim, bias=False)
        else:  # low-rank queries, V2 eq. 37-38
            self.wq_a = nn.Linear(c.dim, c.q_lora_rank, bias=False)
            self.q_norm = nn.RMSNorm(c.q_lora_rank, eps=1e-6)
            self.wq_b = nn.Linear(c.q_lora_rank, c.n_heads * c.qk_head_dim, bias=False)
        self.wo = nn.Linear(c.n_heads * c.v_head_dim, c.dim, bias=False)
        self.softmax_scale = c.qk_head_dim ** -0.5
        if c.yarn:  # V3: a sharper softmax to go with the stretched rotations
            self.softmax_scale *= (0.1 * c.mscale * math.log(c.rope_factor) + 1.0) ** 2
        self.freqs_cis = precompute_freqs_cis(
            c.qk_rope_head_dim, c.max_seq_len, c.rope_theta, original_seq_len=c.original_seq_len,
            rope_factor=c.rope_factor, beta_fast=c.beta_fast, beta_slow=c.beta_slow)
        self.n_cached = 0  # tokens currently valid in the cache

    # -- pieces
    def _queries(self, x: torch.Tensor, freqs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(q_nope, q_pe) of shapes (B, S, H, nope) and (B, S, H, rope), q_pe rotated."""
        b, s, _ = x.shape
        q = self.wq(x) if self.config.q_lora_rank == 0 else self.wq_b(self.q_norm(self.wq_a(x)))
        q = q.view(b, s, self.n_heads, self.qk_head_dim)
        q_nope, q_pe = torch.split(q, [self.qk_nope_head_dim, self.qk_rope_head_dim], dim=-1)
        return q_nope, _apply_rotary_emb(q_pe, freqs)

    def _cache_names(self) -> tuple[str, ...]:
        raise NotImplementedError

    def cache_tensors(self) -> dict[str, torch.Tensor]:
        """The cache buffers this module holds, by name (full ``max_seq_len`` slots)."""
        return {n: getattr(self, n) for n in self._cache_names()}

    def cache_bytes_per_token(self) -> float:
        """Bytes one cached token occupies in this layer, measured from the held cache tensors.

        Sum of the cache tensors' bytes divided by their token slots
        (``max_batch_size · max_seq_len``).
        """
        c = self.config
        total = sum(t.numel() * t.element_size() for t in self.cache_tensors().values())
        return float(total / (c.max_batch_size * c.max_seq_len))

    def reset_cache(self) -> None:
        """Forget the cached tokens (the buffers keep their size)."""
        self.n_cached = 0

    @torch.no_grad()
    def fill_cache_random_(self, n_tokens: int, seed: int = 0) -> None:
        """Pretend ``n_tokens`` tokens were seen: fill the cache with seeded random numbers.

        For timing decode steps at a long context without decoding every token.
        """
        if not isinstance(n_tokens, int) or not 0 <= n_tokens < self.config.max_seq_len:
            raise ValueError(
                f"n_tokens must be an int in [0, max_seq_len={self.config.max_seq_len}), "
                f"got {n_tokens!r}")
        g = torch.Generator().manual_seed(seed)
        for t in self.cache_tensors().values():
            seq_dim = 1 if t.dim() == 3 else 2  # latent caches (B, T, C); per-head (B, H, T, D)
            part = t.narrow(seq_dim, 0, n_tokens)
            part.copy_(torch.randn(part.shape, generator=g, dtype=torch.float32))
        self.n_cached = n_tokens

    def _check_call(self, x: torch.Tensor, start_pos: int, freqs_cis: torch.Tensor | None):
        """Validate a call; returns (end_pos, freqs for the new positions)."""
        c = self.config
        if not isinstance(x, torch.Tensor) or x.dim() != 3 or x.shape[-1] != c.dim:
            shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
            raise ValueError(f"x must have shape (batch, seq, dim={c.dim}), got {shape}")
        if not x.is_floating_point():
            raise ValueError(f"x must be a floating-point tensor, got dtype {x.dtype}")
        if freqs_cis is not None and not isinstance(freqs_cis, torch.Tensor):
            raise ValueError(f"freqs_cis must be None or a complex torch.Tensor, got "
                             f"{type(freqs_cis).__name__}")
        b, s, _ = x.shape
        if not 1 <= b <= c.max_batch_size:
            raise ValueError(
                f"x's batch must be in [1, max_batch_size={c.max_batch_size}], got {b}")
        if s < 1:
            raise ValueError("x must hold at least one token (seq >= 1)")
        if isinstance(start_pos, bool) or not isinstance(start_pos, int) or start_pos < 0:
            raise ValueError(f"start_pos must be an int >= 0, got {start_pos!r}")
        if start_pos > self.n_cached:
            raise ValueError(
                f"start_pos={start_pos} would leave a gap: only {self.n_cached} tokens are cached")
        end = start_pos + s
        if end > c.max_seq_len:
            raise ValueError(
                f"cache overflow: positions up to {end} exceed max_seq_len={c.max_seq_len}")
        if freqs_cis is None:
            freqs_cis = self.freqs_cis[start_pos:end]
        return end, freqs_cis

    @staticmethod
    def _causal_mask(s: int, start_pos: int, end: int, device, dtype) -> torch.Tensor | None:
        """Additive (S, T) mask: query i (at start_pos + i) sees keys t <= start_pos + i."""
        if s == 1:
            return None
        t = torch.arange(end, device=device)
        i = torch.arange(start_pos, end, device=device)
        return torch.zeros(s, end, dtype=dtype, device=device).masked_fill(
            t[None, :] > i[:, None], float("-inf"))


# --------------------------------------------------------------------------- MHA / GQA / MQA
class GQA(_Attention):
    """Grouped-query attention: ``n_kv_heads`` key/value heads shared by groups of query heads.

    MHA is ``n_kv_heads = n_heads``, MQA ``n_kv_heads = 1``. Heads have the same shape
    as MLA's: keys ``qk_nope_head_dim + qk_rope_head_dim`` wide with RoPE on the last
    ``qk_rope_head_dim`` dims, values ``v_head_dim`` wide, so only the cache differs.
    Cache: ``k_cache`` (B, n_kv_heads, T, qk_head_dim) and ``v_cache``
    (B, n_kv_heads, T, v_head_dim).
    """

    def __init__(self, config: AttentionConfig, n_kv_heads: int) -> None:
        super().__init__(config)
        if not (isinstance(n_kv_heads, int) and not isinstance(n_kv_heads, bool)
                and 1 <= n_kv_heads <= config.n_heads
                and config.n_heads % n_kv_heads == 0):
            raise ValueError(f"n_kv_heads must divide n_heads={config.n_heads}, got {n_kv_heads!r}")
        c = config
        self.n_kv_heads = n_kv_heads
        self.wk = nn.Linear(c.dim, n_kv_heads * c.qk_head_dim, bias=False)
        self.wv = nn.Linear(c.dim, n_kv_heads * c.v_head_dim, bias=False)
        shape = (c.max_batch_size, n_kv_heads, c.max_seq_len)
        self.register_buffer("k_cache", torch.zeros(*shape, c.qk_head_dim), persistent=False)
        self.register_buffer("v_cache", torch.zeros(*shape, c.v_head_dim), persistent=False)

    def _cache_names(self) -> tuple[str, ...]:
        return ("k_cache", "v_cache")

    def forward(self, x: torch.Tensor, start_pos: int,
                freqs_cis: torch.Tensor | None = None) -> torch.Tensor:
        """Attend from ``x``'s tokens (positions start_pos..) to everything cached; append them.

        Args:
            x: (batch, seq, dim).
            start_pos: position of ``x``'s first token.
            freqs_cis: complex (seq, qk_rope_head_dim // 2); default: the module's table.

        Returns:
            (batch, seq, dim).
        """
        end, freqs = self._check_call(x, start_pos, freqs_cis)
        b, s, _ = x.shape
        nkv, g = self.n_kv_heads, self.n_heads // self.n_kv_heads
        q_nope, q_pe = self._queries(x, freqs)
        q = torch.cat([q_nope, q_pe], dim=-1)  # (B, S, H, dk)
        k = self.wk(x).view(b, s, nkv, self.qk_head_dim)
        k_nope, k_pe = torch.split(k, [self.qk_nope_head_dim, self.qk_rope_head_dim], dim=-1)
        k = torch.cat([k_nope, apply_rotary_emb(k_pe, freqs)], dim=-1)  # (B, S, nkv, dk)
        v = self.wv(x).view(b, s, nkv, self.v_head_dim)
        self.k_cache[:b, :, start_pos:end] = k.transpose(1, 2)
        self.v_cache[:b, :, start_pos:end] = v.transpose(1, 2)
        self.n_cached = end
        # queries grouped by their kv head: (B, nkv, g*S, dk)
        q = q.view(b, s, nkv, g, self.qk_head_dim).permute(0, 2, 3, 1, 4).reshape(b, nkv, g * s, -1)
        scores = q @ self.k_cache[:b, :, :end].transpose(-1, -2) * self.softmax_scale
        scores = scores.view(b, nkv, g, s, end)  # (B, nkv, g, S, T)
        mask = self._causal_mask(s, start_pos, end, x.device, scores.dtype)
        if mask is not None:
            scores = scores + mask
        probs = scores.softmax(dim=-1).view(b, nkv, g * s, end)
        o = probs @ self.v_cache[:b, :, :end]  # (B, nkv, g*S, dv)
        o = o.view(b, nkv, g, s, self.v_head_dim).permute(0, 3, 1, 2, 4)  # (B, S, nkv, g, dv)
        return self.wo(o.reshape(b, s, self.n_heads * self.v_head_dim))


# --------------------------------------------------------------------------- MLA
class MLA(_Attention):
    """Multi-head Latent Attention with V3's ``naive`` and ``absorb`` decoding paths.

    Parameters (identical for both paths): ``wq`` or ``wq_a``/``q_norm``/``wq_b``;
    ``wkv_a`` (dim -> kv_lora_rank + qk_rope_head_dim: the latent and the shared rotary
    key); ``kv_norm``; ``wkv_b`` (kv_lora_rank -> n_heads·(qk_nope_head_dim +
    v_head_dim): W^UK and W^UV stacked per head); ``wo``.

    Caches: ``naive`` holds ``k_cache`` (B, H, T, qk_head_dim) and ``v_cache``
    (B, H, T, v_head_dim); ``absorb`` holds ``kv_cache`` (B, T, kv_lora_rank) and
    ``pe_cache`` (B, T, qk_rope_head_dim).

    Args:
        config: the shape.
        attn_impl: ``"naive"`` or ``"absorb"``.
        rope: ``"decoupled"`` (MLA as published) or ``"coupled"``, the counterexample
            that also rotates the position-free parts: per-head keys and queries in
            ``naive``, the compressed latent (and the absorbed query) in ``absorb``.
            Needs even ``qk_nope_head_dim`` and ``kv_lora_rank``.
    """

    def __init__(self, config: AttentionConfig, attn_impl: str = "absorb", *,
                 rope: str = "decoupled") -> None:
        super().__init__(config)
        if attn_impl not in ("naive", "absorb"):
            raise ValueError(f"attn_impl must be 'naive' or 'absorb', got {attn_impl!r}")
        if rope not in ("decoupled", "coupled"):
            raise ValueError(f"rope must be 'decoupled' or 'coupled', got {rope!r}")
        c = config
        if rope == "coupled" and (c.qk_nope_head_dim % 2 or c.kv_lora_rank % 2):
            raise ValueError("rope='coupled' needs even qk_nope_head_dim and kv_lora_rank")
        self.attn_impl, self.rope = attn_impl, rope
        self.kv_lora_rank = c.kv_lora_rank
        self.wkv_a = nn.Linear(c.dim, c.kv_lora_rank + c.qk_rope_head_dim, bias=False)
        self.kv_norm = nn.RMSNorm(c.kv_lora_rank, eps=1e-6)
        self.wkv_b = nn.Linear(c.kv_lora_rank, c.n_heads * (c.qk_nope_head_dim + c.v_head_dim),
                               bias=False)
        B, T = c.max_batch_size, c.max_seq_len
        if attn_impl == "naive":
            self.register_buffer("k_cache", torch.zeros(B, c.n_heads, T, c.qk_head_dim),
                                 persistent=False)
            self.register_buffer("v_cache", torch.zeros(B, c.n_heads, T, c.v_head_dim),
                                 persistent=False)
        else:
            self.register_buffer("kv_cache", torch.zeros(B, T, c.kv_lora_rank), persistent=False)
            self.register_buffer("pe_cache", torch.zeros(B, T, c.qk_rope_head_dim),
                                 persistent=False)
        if rope == "coupled":
            self._freqs_nope = precompute_freqs_cis(c.qk_nope_head_dim, T, c.rope_theta)
            self._freqs_latent = precompute_freqs_cis(c.kv_lora_rank, T, c.rope_theta)

    def _cache_names(self) -> tuple[str, ...]:
        return ("k_cache", "v_cache") if self.attn_impl == "naive" else ("kv_cache", "pe_cache")

    def _latent(self, x: torch.Tensor, freqs: torch.Tensor):
        """Normalised latent c_KV (B, S, C) and rotated shared key k_pe (B, S, rope)."""
        kv, k_pe = torch.split(self.wkv_a(x), [self.kv_lora_rank, self.qk_rope_head_dim], dim=-1)
        k_pe = apply_rotary_emb(k_pe.unsqueeze(2), freqs).squeeze(2)  # one key for all heads
        return self.kv_norm(kv), k_pe

    def _wkv_b(self) -> tuple[torch.Tensor, torch.Tensor]:
        """W^UK (H, nope, C) and W^UV (H, v, C), views of ``wkv_b.weight``."""
        w = self.wkv_b.weight.view(self.n_heads, -1, self.kv_lora_rank)  # (H, nope + v, C)
        return w[:, : self.qk_nope_head_dim], w[:, self.qk_nope_head_dim:]

    def forward(self, x: torch.Tensor, start_pos: int,
                freqs_cis: torch.Tensor | None = None) -> torch.Tensor:
        """Attend from ``x``'s tokens to everything cached and append them to the cache.

        Args:
            x: (batch, seq, dim).
            start_pos: position of ``x``'s first token.
            freqs_cis: complex (seq, qk_rope_head_dim // 2); default: the module's table.

        Returns:
            (batch, seq, dim).
        """
        end, freqs = self._check_call(x, start_pos, freqs_cis)
        b, s, _ = x.shape
        H = self.n_heads
        q_nope, q_pe = self._queries(x, freqs)  # (B, S, H, nope), (B, S, H, rope)
        kv, k_pe = self._latent(x, freqs)  # (B, S, C), (B, S, rope)
        if self.rope == "coupled":
            q_nope = apply_rotary_emb(q_nope, self._freqs_nope[start_pos:end])
        mask = self._causal_mask(s, start_pos, end, x.device, x.dtype)
        if self.attn_impl == "naive":
            kvh = self.wkv_b(kv).view(b, s, H, self.qk_nope_head_dim + self.v_head_dim)
            k_nope, v = torch.split(kvh, [self.qk_nope_head_dim, self.v_head_dim], dim=-1)
            if self.rope == "coupled":  # rotate the per-head keys (what RoPE does in MHA)
                k_nope = apply_rotary_emb(k_nope, self._freqs_nope[start_pos:end])
            k = torch.cat([k_nope, k_pe.unsqueeze(2).expand(b, s, H, -1)], dim=-1)  # (B,S,H,dk)
            self.k_cache[:b, :, start_pos:end] = k.transpose(1, 2)
            self.v_cache[:b, :, start_pos:end] = v.transpose(1, 2)
            q = torch.cat([q_nope, q_pe], dim=-1).transpose(1, 2)  # (B, H, S, dk)
            scores = q @ self.k_cache[:b, :, :end].transpose(-1, -2) * self.softmax_scale
            if mask is not None:
                scores = scores + mask
            o = scores.softmax(dim=-1) @ self.v_cache[:b, :, :end]  # (B, H, S, dv)
            o = o.transpose(1, 2)  # (B, S, H, dv)
        else:
            w_uk, w_uv = self._wkv_b()
            if self.rope == "coupled":  # "rotate the compressed keys directly"
                kv = apply_rotary_emb(kv.unsqueeze(2), self._freqs_latent[start_pos:end]).squeeze(2)
            self.kv_cache[:b, start_pos:end] = kv
            self.pe_cache[:b, start_pos:end] = k_pe
            q_c = torch.einsum("bshd,hdc->bshc", q_nope, w_uk)  # W^UK absorbed into the query
            scores = (q_c.reshape(b, s * H, -1) @ self.kv_cache[:b, :end].transpose(1, 2)
                      + q_pe.reshape(b, s * H, -1) @ self.pe_cache[:b, :end].transpose(1, 2))
            scores = scores.view(b, s, H, end) * self.softmax_scale  # (B, S, H, T)
            if mask is not None:
                scores = scores + mask[:, None, :]
            o_c = scores.softmax(dim=-1).view(b, s * H, end) @ self.kv_cache[:b, :end]
            o = torch.einsum("bshc,hdc->bshd", o_c.view(b, s, H, -1), w_uv)  # W^UV absorbed
        self.n_cached = end
        return self.wo(o.reshape(b, s, H * self.v_head_dim))


# --------------------------------------------------------------------------- sparse (DSA-style)
def lightning_index_scores(q_index: torch.Tensor, k_index: torch.Tensor,
                           weights: torch.Tensor) -> torch.Tensor:
    """The lightning indexer's score ``I[t, s] = sum_j w[t, j] · ReLU(q[t, j] · k[s])``.

    DeepSeek-V3.2-Exp's ``Indexer`` (FP8 there, full precision here): a few index
    heads ``j`` per query, one index key per token shared by all heads.

    Args:
        q_index: (batch, q_len, index_n_heads, index_head_dim).
        k_index: (batch, k_len, index_head_dim).
        weights: (batch, q_len, index_n_heads), per-query head weights.

    Returns:
        (batch, q_len, k_len) scores.
    """
    for name, t, ndim in (("q_index", q_index, 4), ("k_index", k_index, 3),
                          ("weights", weights, 3)):
        check_tensor(name, t, ndim=ndim, kind="float", finite=True, nonempty=True)
    b, sq, nh, d = q_index.shape
    if k_index.shape[0] != b or k_index.shape[2] != d:
        raise ValueError(f"k_index must have shape ({b}, k_len, {d}) to match q_index, got "
                         f"{tuple(k_index.shape)}")
    if weights.shape != (b, sq, nh):
        raise ValueError(f"weights must have shape {(b, sq, nh)} to match q_index, got "
                         f"{tuple(weights.shape)}")
    return _lightning_index_scores(q_index, k_index, weights)


def _lightning_index_scores(q_index: torch.Tensor, k_index: torch.Tensor,
                            weights: torch.Tensor) -> torch.Tensor:
    """:func:`lightning_index_scores` without its checks (the indexer's forward pass)."""
    logits = torch.einsum("bshd,btd->bsht", q_index, k_index).relu()  # (B, Sq, nh, T)
    return torch.einsum("bsht,bsh->bst", logits, weights)


def _check_top_k(top_k) -> int:
    """``top_k`` if it is an int in [1, 2**24]."""
    return check_int("top_k", top_k, 1, _MAX_SIZE)


def topk_sparse_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor,
                          index_scores: torch.Tensor, top_k: int) -> torch.Tensor:
    """Causal attention where each query sees only its ``top_k`` best-indexed earlier keys.

    The queries are the *last* ``q_len`` positions of the ``k_len`` keys (``q_len =
    k_len`` for a whole sequence, 1 for a decode step). For each query, the keys at or
    before its position are ranked by ``index_scores`` (shared by all heads); the
    ``top_k`` best are gathered and a softmax attention runs over them alone, so the
    work is ``q_len · top_k`` query-key pairs per head instead of about ``q_len · k_len``.
    With ``top_k >= k_len`` it is exactly dense causal attention.

    Args:
        q: (batch, heads, q_len, head_dim).
        k: (batch, heads, k_len, head_dim), k_len >= q_len.
        v: (batch, heads, k_len, v_dim).
        index_scores: (batch, q_len, k_len).
        top_k: keys kept per query, >= 1.

    Returns:
        (batch, heads, q_len, v_dim).
    """
    for name, t in (("q", q), ("k", k), ("v", v)):
        if not isinstance(t, torch.Tensor) or t.dim() != 4:
            raise ValueError(f"{name} must be a 4-D tensor (batch, heads, seq, head_dim)")
        check_tensor(name, t, ndim=4, kind="float", finite=True, nonempty=True)
    check_tensor("index_scores", index_scores, ndim=3, kind="float", finite=True)
    b, h, sq, d = q.shape
    sk = k.shape[2]
    if k.shape[:2] != (b, h) or k.shape[3] != d or sk < sq:
        raise ValueError(f"k must have shape ({b}, {h}, k_len>={sq}, {d}) to match q, got "
                         f"{tuple(k.shape)}")
    if v.shape[:3] != k.shape[:3]:
        raise ValueError(f"v must have shape ({b}, {h}, {sk}, v_dim), got {tuple(v.shape)}")
    if index_scores.shape != (b, sq, sk):
        raise ValueError(
            f"index_scores must have shape {(b, sq, sk)}, got {tuple(index_scores.shape)}")
    kk = min(_check_top_k(top_k), sk)
    pos = torch.arange(sk - sq, sk, device=q.device)  # each query's position
    future = torch.arange(sk, device=q.device)[None, :] > pos[:, None]  # (Sq, Sk)
    idx_scores = index_scores.masked_fill(future, float("-inf"))
    idx = idx_scores.topk(kk, dim=-1).indices  # (B, Sq, kk)
    invalid = future.expand(b, sq, sk).gather(-1, idx)  # picked a future key (too few earlier)
    flat = idx.reshape(b, 1, sq * kk, 1)
    k_sel = k.gather(2, flat.expand(b, h, sq * kk, d)).view(b, h, sq, kk, d)
    v_sel = v.gather(2, flat.expand(b, h, sq * kk, v.shape[3])).view(b, h, sq, kk, -1)
    scores = torch.einsum("bhqd,bhqkd->bhqk", q, k_sel) * d ** -0.5  # (B, H, Sq, kk)
    scores = scores.masked_fill(invalid[:, None], float("-inf"))
    return torch.einsum("bhqk,bhqkv->bhqv", scores.softmax(dim=-1), v_sel)


class LightningIndexer(nn.Module):
    """A small DSA-style indexer: index queries and weights from x, one index key per token.

    Names follow V3.2-Exp's ``Indexer`` (``wq`` for its ``wq_b``, ``wk``, ``k_norm``,
    ``weights_proj``). Simplified: queries from x (not from the query latent), no RoPE,
    no Hadamard rotation, no FP8, untrained. Holds ``k_cache`` (B, T, index_head_dim).
    """

    def __init__(self, config: AttentionConfig) -> None:
        super().__init__()
        c = config
        self.n_heads, self.head_dim = c.index_n_heads, c.index_head_dim
        self.wq = nn.Linear(c.dim, c.index_n_heads * c.index_head_dim, bias=False)
        self.wk = nn.Linear(c.dim, c.index_head_dim, bias=False)
        self.k_norm = nn.LayerNorm(c.index_head_dim)
        self.weights_proj = nn.Linear(c.dim, c.index_n_heads, bias=False)
        self.register_buffer("k_cache", torch.zeros(c.max_batch_size, c.max_seq_len,
                                                    c.index_head_dim), persistent=False)

    def forward(self, x: torch.Tensor, start_pos: int) -> torch.Tensor:
        """Cache the new tokens' index keys; return (B, S, end) scores over all cached keys."""
        b, s, _ = x.shape
        end = start_pos + s
        self.k_cache[:b, start_pos:end] = self.k_norm(self.wk(x))
        q = self.wq(x).view(b, s, self.n_heads, self.head_dim)
        w = self.weights_proj(x) * (self.n_heads ** -0.5 * self.head_dim ** -0.5)  # as V3.2
        return _lightning_index_scores(q, self.k_cache[:b, :end], w)


class SparseMLA(MLA):
    """MLA (absorb path) whose every query attends to the ``index_topk`` keys an indexer picks.

    The shape of DeepSeek-V3.2-Exp's sparse MLA decode path: latent cache plus one
    small index key per token (``indexer.k_cache``), an indexer pass over all cached
    tokens (cheap: ``index_n_heads · index_head_dim`` per token), then attention over
    ``index_topk`` gathered latents only. Cache per token: ``kv_lora_rank +
    qk_rope_head_dim + index_head_dim`` elements.
    """

    def __init__(self, config: AttentionConfig) -> None:
        super().__init__(config, "absorb")
        self.indexer = LightningIndexer(config)

    def _cache_names(self) -> tuple[str, ...]:
        return ("kv_cache", "pe_cache")

    def cache_tensors(self) -> dict[str, torch.Tensor]:
        return {**super().cache_tensors(), "indexer.k_cache": self.indexer.k_cache}

    def forward(self, x: torch.Tensor, start_pos: int,
                freqs_cis: torch.Tensor | None = None) -> torch.Tensor:
        """As :meth:`MLA.forward`, attending to the indexer's top ``index_topk`` keys only."""
        end, freqs = self._check_call(x, start_pos, freqs_cis)
        b, s, _ = x.shape
        H = self.n_heads
        q_nope, q_pe = self._queries(x, freqs)
        kv, k_pe = self._latent(x, freqs)
        self.kv_cache[:b, start_pos:end] = kv
        self.pe_cache[:b, start_pos:end] = k_pe
        index = self.indexer(x, start_pos)  # (B, S, T)
        w_uk, w_uv = self._wkv_b()
        q_c = torch.einsum("bshd,hdc->bshc", q_nope, w_uk)  # (B, S, H, C)
        # one "key" per token: [latent, rope key]; one "query" per head: [q_c, q_pe]
        keys = torch.cat([self.kv_cache[:b, :end], self.pe_cache[:b, :end]], dim=-1)
        qcat = torch.cat([q_c, q_pe], dim=-1).transpose(1, 2)  # (B, H, S, C + rope)
        keys = keys.unsqueeze(1)  # (B, 1, T, C + rope), shared by heads
        vals = self.kv_cache[:b, :end].unsqueeze(1)  # (B, 1, T, C)
        kk = min(self.config.index_topk, end)
        pos = torch.arange(start_pos, end, device=x.device)
        future = torch.arange(end, device=x.device)[None, :] > pos[:, None]  # (S, T)
        idx = index.masked_fill(future, float("-inf")).topk(kk, dim=-1).indices  # (B, S, kk)
        invalid = future.expand(b, s, end).gather(-1, idx)
        k_sel = keys[:, 0].gather(1, idx.reshape(b, s * kk, 1).expand(-1, -1, keys.shape[-1]))
        v_sel = vals[:, 0].gather(1, idx.reshape(b, s * kk, 1).expand(-1, -1, vals.shape[-1]))
        k_sel = k_sel.view(b, s, kk, -1)  # (B, S, kk, C + rope)
        v_sel = v_sel.view(b, s, kk, -1)  # (B, S, kk, C)
        scores = torch.einsum("bhsc,bskc->bhsk", qcat, k_sel) * self.softmax_scale
        scores = scores.masked_fill(invalid[:, None], float("-inf"))
        o_c = torch.einsum("bhsk,bskc->bshc", scores.softmax(dim=-1), v_sel)  # (B, S, H, C)
        o = torch.einsum("bshc,hdc->bshd", o_c, w_uv)
        self.n_cached = end
        return self.wo(o.reshape(b, s, H * self.v_head_dim))


# --------------------------------------------------------------------------- factory
def make_attention(kind: str, config: AttentionConfig | None = None, *, device=None,
                   dtype=None) -> _Attention:
    """Build one attention layer.

    Args:
        kind: one of :data:`ATTENTION_KINDS`: ``"mha"``, ``"gqa"`` (``config.n_kv_groups``
            kv heads), ``"mqa"``, ``"mla_naive"``, ``"mla_absorb"``, ``"mla_sparse"``.
        config: the shape (default ``AttentionConfig()``).
        device: e.g. ``"cuda"``, or ``"meta"`` to measure a cache without allocating it.
        dtype: e.g. ``torch.float64`` for exactness tests, ``torch.bfloat16``.

    Returns:
        An ``nn.Module`` called as ``module(x, start_pos, freqs_cis=None)``.
    """
    config = AttentionConfig() if config is None else config
    if kind not in ATTENTION_KINDS:
        raise ValueError(f"kind must be one of {ATTENTION_KINDS}, got {kind!r}")
    with torch.device(device) if device is not None else contextlib.nullcontext():
        if kind in ("mha", "gqa", "mqa"):
            n_kv = {"mha": config.n_heads, "gqa": config.n_kv_groups, "mqa": 1}[kind]
            module = GQA(config, n_kv)
        elif kind == "mla_sparse":
            module = SparseMLA(config)
        else:
            module = MLA(config, kind.removeprefix("mla_"))
    return module if dtype is None else module.to(dtype=dtype)


def formula_bytes_per_token(kind: str, config: AttentionConfig,
                            bytes_per_element: float = 2) -> float:
    """``costs.kv_cache_bytes_per_token`` for one layer of ``kind`` at ``config``'s shape.

    The correspondence: V2's Table 1 gives keys and values one width ``d_h``; our heads
    have keys ``qk_nope_head_dim + qk_rope_head_dim`` and values ``v_head_dim`` wide,
    so ``d_h`` is their mean (2·n·d_h = n·(d_k + d_v)). ``mla_naive`` caches what MHA
    caches. ``mla_absorb`` is Table 1's MLA row, ``kv_lora_rank + qk_rope_head_dim``.
    ``mla_sparse`` adds the indexer's key, ``index_head_dim`` (not in Table 1).
    """
    if kind not in ATTENTION_KINDS:
        raise ValueError(f"kind must be one of {ATTENTION_KINDS}, got {kind!r}")
    c = config
    two_dh = c.qk_head_dim + c.v_head_dim  # 2·d_h
    # pass 2·d_h with half the bytes when d_h would be fractional: same product
    dh, bpe = (two_dh // 2, bytes_per_element) if two_dh % 2 == 0 else (two_dh,
                                                                        bytes_per_element / 2)
    kw = dict(n_layers=1, n_heads=c.n_heads, head_dim=dh, bytes_per_element=bpe)
    if kind in ("mha", "mla_naive"):
        return costs.kv_cache_bytes_per_token("mha", **kw)
    if kind == "gqa":
        return costs.kv_cache_bytes_per_token("gqa", n_kv_groups=c.n_kv_groups, **kw)
    if kind == "mqa":
        return costs.kv_cache_bytes_per_token("mqa", **kw)
    mla = costs.kv_cache_bytes_per_token(
        "mla", n_layers=1, n_heads=c.n_heads, head_dim=c.qk_nope_head_dim,
        kv_lora_rank=c.kv_lora_rank, qk_rope_head_dim=c.qk_rope_head_dim,
        bytes_per_element=bytes_per_element)
    return mla + (c.index_head_dim * bytes_per_element if kind == "mla_sparse" else 0.0)


# --------------------------------------------------------------------------- work and a task
def attention_macs(seq_len: int, head_dim: int, *, q_len: int | None = None,
                   top_k: int | None = None, n_heads: int = 1, index_head_dim: int = 0,
                   index_n_heads: int = 0) -> dict[str, int]:
    """Multiply-adds of causal attention for ``q_len`` queries at the end of ``seq_len`` keys.

    Counts query-key pairs exactly (query i sees ``seq_len - q_len + i + 1`` keys, or
    ``min(top_k, that)`` with ``top_k``); each pair costs ``head_dim`` for the score and
    ``head_dim`` for the value mix, per head. The indexer scores every causal pair at
    ``index_n_heads · index_head_dim`` per pair (its work stays quadratic, only cheap).

    Returns:
        ``{"pairs", "attention", "indexer", "total"}`` (ints).
    """
    seq_len = check_int("seq_len", seq_len, 1, _MAX_SIZE)
    if q_len is not None:
        check_int("q_len", q_len, 1, seq_len)
    for name, value, low in (("head_dim", head_dim, 1), ("n_heads", n_heads, 1),
                             ("index_head_dim", index_head_dim, 0),
                             ("index_n_heads", index_n_heads, 0)):
        check_int(name, value, low, _MAX_SIZE)
    q_len = seq_len if q_len is None else q_len
    if not (isinstance(seq_len, int) and isinstance(q_len, int) and 1 <= q_len <= seq_len):
        raise ValueError(f"need ints 1 <= q_len <= seq_len, got q_len={q_len!r}, "
                         f"seq_len={seq_len!r}")
    seen = torch.arange(seq_len - q_len + 1, seq_len + 1, dtype=torch.int64)  # keys per query
    dense_pairs = int(seen.sum())
    pairs = dense_pairs if top_k is None else int(seen.clamp(max=_check_top_k(top_k)).sum())
    attn = pairs * 2 * head_dim * n_heads
    indexer = dense_pairs * index_head_dim * index_n_heads if top_k is not None else 0
    return {"pairs": pairs, "attention": attn, "indexer": indexer, "total": attn + indexer}


def work_curve(seq_lens=(1024, 2048, 4096, 8192, 16384, 32768), top_k: int = 512,
               head_dim: int = 32) -> pd.DataFrame:
    """Query-key pairs of full causal attention, dense and top-k, for each length.

    Returns:
        Rows of ``seq_len``, ``method`` (``"dense"`` or ``"top-<k>"``), ``pairs`` and
        ``macs`` (:func:`attention_macs`, one head, indexer not included).
    """
    _check_top_k(top_k)
    check_int("head_dim", head_dim, 1, _MAX_SIZE)
    rows = []
    for L in seq_lens:
        for method, k in (("dense", None), (f"top-{top_k}", top_k)):
            w = attention_macs(L, head_dim, top_k=k)
            rows.append({"seq_len": L, "method": method, "pairs": w["pairs"],
                         "macs": w["attention"]})
    return pd.DataFrame(rows)


class RetrievalTask(NamedTuple):
    """A key-value retrieval batch: queries at the end ask for values planted far back."""

    q: torch.Tensor  # (B, 1, n_needles, head_dim), the last n_needles positions
    k: torch.Tensor  # (B, 1, seq_len, head_dim)
    v: torch.Tensor  # (B, 1, seq_len, n_values), one-hot labels
    answers: torch.Tensor  # (B, n_needles) label each query must return
    needle_pos: torch.Tensor  # (B, n_needles) where the answers sit


def make_retrieval_task(seq_len: int, *, batch: int = 16, n_needles: int = 4,
                        head_dim: int = 32, n_values: int = 16, sharpness: float = 16.0,
                        seed: int = 0) -> RetrievalTask:
    """Key-value retrieval in a long sequence; needs no training.

    Every token carries a random unit key and a random label (one-hot value). The
    last ``n_needles`` tokens are queries, each equal to ``sharpness · sqrt(head_dim)``
    times the key of a "needle" token planted in the first quarter of the sequence, so
    the answer is at least ``3/4 · seq_len`` tokens away. Dense attention finds it;
    sparse attention finds it only if the needle is among the ``top_k`` it keeps.
    """
    n_needles = check_int("n_needles", n_needles, 1, 1024)
    if not (isinstance(seq_len, int) and seq_len >= 4 * n_needles + 4):
        raise ValueError(f"seq_len must be an int >= 4·n_needles + 4, got {seq_len!r}")
    check_int("seq_len", seq_len, 1, 2**20)
    batch = check_int("batch", batch, 1, 1024)
    head_dim = check_int("head_dim", head_dim, 1, 1024)
    n_values = check_int("n_values", n_values, 1, 1024)
    if batch * seq_len * (head_dim + n_values) > 2**27:
        raise ValueError(f"batch · seq_len · (head_dim + n_values) must be at most 2**27 "
                         f"(memory), got {batch * seq_len * (head_dim + n_values)}")
    sharpness = check_number("sharpness", sharpness, 0, lo_open=True)
    g = torch.Generator().manual_seed(check_seed("seed", seed))
    k = F.normalize(torch.randn(batch, 1, seq_len, head_dim, generator=g), dim=-1)
    labels = torch.randint(n_values, (batch, seq_len), generator=g)
    v = F.one_hot(labels, n_values).to(k.dtype).unsqueeze(1)  # (B, 1, L, n_values)
    quarter = seq_len // 4
    needle_pos = torch.stack([torch.randperm(quarter, generator=g)[:n_needles]
                              for _ in range(batch)])  # (B, n_needles)
    q = k[:, 0].gather(1, needle_pos[..., None].expand(-1, -1, head_dim)).unsqueeze(1)
    q = q * sharpness * head_dim ** 0.5  # undo topk_sparse_attention's 1/sqrt(d)
    return RetrievalTask(q, k, v, labels.gather(1, needle_pos), needle_pos)


def retrieval_accuracy(task: RetrievalTask, top_k: int | None, *, index_head_dim: int = 8,
                       seed: int = 1) -> dict[str, float]:
    """Accuracy of dense (``top_k=None``) or top-k sparse attention on ``task``.

    The indexer is hand-built, not trained: one index head whose keys and queries are
    a random projection of the true keys and queries down to ``index_head_dim`` dims,
    scored with ReLU as :func:`lightning_index_scores` does. A small projection is a
    cheap but noisy ranking, so the needle is not always its top-1.

    Returns:
        ``{"accuracy", "recall"}``: fraction of queries answered right, and fraction
        whose needle was among the kept keys (1.0 for dense).
    """
    if not isinstance(task, RetrievalTask):
        raise ValueError(f"task must be a RetrievalTask (make_retrieval_task), got "
                         f"{type(task).__name__}")
    index_head_dim = check_int("index_head_dim", index_head_dim, 1, 1024)
    seed = check_seed("seed", seed)
    b, _, n_q, d = task.q.shape
    L = task.k.shape[2]
    pos = torch.arange(L - n_q, L)
    future = torch.arange(L)[None, :] > pos[:, None]  # (n_q, L)
    if top_k is None:  # dense causal attention, no indexer
        scores = (task.q @ task.k.transpose(-1, -2)) * d ** -0.5  # (B, 1, n_q, L)
        out = scores.masked_fill(future, float("-inf")).softmax(-1) @ task.v
        pred = out[:, 0].argmax(-1)
        return {"accuracy": float((pred == task.answers).float().mean()), "recall": 1.0}
    top_k = _check_top_k(top_k)
    g = torch.Generator().manual_seed(seed)
    proj = torch.randn(d, index_head_dim, generator=g) / index_head_dim ** 0.5
    q_idx = (task.q[:, 0] @ proj).unsqueeze(2)  # (B, n_q, 1, d_idx)
    k_idx = task.k[:, 0] @ proj  # (B, L, d_idx)
    scores = lightning_index_scores(q_idx, k_idx, torch.ones(b, n_q, 1))  # (B, n_q, L)
    out = topk_sparse_attention(task.q, task.k, task.v, scores, top_k)  # (B, 1, n_q, V)
    pred = out[:, 0].argmax(-1)
    kept = scores.masked_fill(future, float("-inf")).topk(min(top_k, L), dim=-1).indices
    recall = (kept == task.needle_pos[..., None]).any(-1).float().mean()
    return {"accuracy": float((pred == task.answers).float().mean()), "recall": float(recall)}


def retrieval_curve(seq_lens=(1024, 4096, 16384), top_ks=None, *, index_head_dim: int = 8,
                    batch: int = 16, n_needles: int = 4, seed: int = 0) -> pd.DataFrame:
    """Retrieval accuracy of top-k sparse attention for every (sequence length, k).

    Args:
        seq_lens: sequence lengths L.
        top_ks: keys kept per query; default powers of two from 1 to the longest L
            (values above L are skipped).
        index_head_dim, batch, n_needles, seed: see :func:`make_retrieval_task` and
            :func:`retrieval_accuracy`.

    Returns:
        One row per (L, k): ``seq_len``, ``top_k``, ``accuracy``, ``recall``,
        ``attention_pairs`` (query-key pairs the queries score), ``dense_pairs``.
        Dense attention is the row with ``top_k == seq_len`` (computed without the indexer;
        keeping every key gives the same result, which the tests check).
    """
    for name, value in (("seq_lens", seq_lens), ("top_ks", top_ks)):
        if value is not None and (not isinstance(value, (list, tuple)) or not value):
            raise ValueError(f"{name} must be a non-empty list or tuple of ints, got {value!r}")
    if seq_lens is None:
        raise ValueError("seq_lens must be a non-empty list or tuple of ints, got None")
    seq_lens = [check_int(f"seq_lens[{i}]", L, 1, 2**20) for i, L in enumerate(seq_lens)]
    if top_ks is not None:
        top_ks = [_check_top_k(k) for k in top_ks]
    batch = check_int("batch", batch, 1, 1024)
    n_needles = check_int("n_needles", n_needles, 1, 1024)
    index_head_dim = check_int("index_head_dim", index_head_dim, 1, 1024)
    seed = check_seed("seed", seed)
    if seed == SEED_MAX:
        raise ValueError(f"seed must be an int in [0, {SEED_MAX - 1}] (seed + 1 seeds the "
                         f"indexer), got {seed}")
    if top_ks is None:
        top_ks = [2 ** i for i in range(int(math.log2(max(seq_lens))) + 1)]
    rows = []
    for L in seq_lens:
        task = make_retrieval_task(L, batch=batch, n_needles=n_needles, seed=seed)
        for k in sorted({k for k in top_ks if k < L} | {L}):
            dense = k == L  # same result as keeping every key, computed without the indexer
            r = retrieval_accuracy(task, None if dense else k, index_head_dim=index_head_dim,
                                   seed=seed + 1)
            work = attention_macs(L, 1, q_len=n_needles, top_k=k)
            rows.append({"seq_len": L, "top_k": k, **r, "attention_pairs": work["pairs"],
                         "dense_pairs": attention_macs(L, 1, q_len=n_needles)["pairs"]})
    return pd.DataFrame(rows)



# --------------------------------------------------------------------------- reader's controls
# the shape a reader picks (chapter "Attention that remembers less"); one head width is used
# for qk_nope_head_dim and v_head_dim, as in DeepSeek-V2/V3
# Every shape the controls reach is valid: heads come in multiples of 16 and GQA's groups
# are powers of two up to 16, so the groups always divide the heads. The largest shape is
# DeepSeek-V3's own (128 heads, heads 128 wide, rotary key 64, latent 512).
SHAPE_CONTROLS = (
    Slider("n_heads", "heads", 16, 128, 16, default=16),
    Slider("head_dim", "head width (keys' position-free part, values)", 8, 128, 8, default=32),
    Slider("qk_rope_head_dim", "rotary key width", 2, 64, 2, default=16),
    Slider("kv_lora_rank", "latent width (kv_lora_rank)", 16, 512, 16, default=128),
    Choice("n_kv_groups", "GQA groups", (1, 2, 4, 8, 16), default=4, radio=True),
)
# keys kept per query in the sparse retrieval task, as a power of two
TOP_K_LOG2 = Slider("top_k_log2", "keys kept per query, k = 2^", 0, 14, 1, default=6)


def cache_elements_expr() -> dict[str, str]:
    """Cache elements per token per layer as Vega expressions over :data:`SHAPE_CONTROLS`.

    For the page's chart, which recomputes in the browser; a test checks each against
    :func:`formula_bytes_per_token` (and so against the measured caches) on every shape
    the controls reach.

    Returns:
        ``{kind: expression}`` for the five exact kinds.
    """
    kv = "(head_dim + qk_rope_head_dim + head_dim)"  # key width + value width, one head
    return {
        "mha": f"n_heads * {kv}",
        "gqa": f"n_kv_groups * {kv}",
        "mqa": kv,
        "mla_naive": f"n_heads * {kv}",
        "mla_absorb": "kv_lora_rank + qk_rope_head_dim",
    }


def shape_report(n_heads: int = 16, head_dim: int = 32, qk_rope_head_dim: int = 16,
                 kv_lora_rank: int = 128, n_kv_groups: int = 4, *, steps: int = 6,
                 seed: int = 0) -> pd.DataFrame:
    """Build every design at a reader's shape, decode ``steps`` tokens, measure the caches.

    Runs the modules (float64, a 64-wide toy model around the chosen heads): naive and
    absorb MLA share one set of weights and their outputs are compared at every step.

    Returns:
        One row per kind: ``kind``, ``measured elements per token`` (from the held
        cache tensors), ``Table 1 formula``, ``vs MHA``, ``max |naive - absorb|`` (MLA rows).

    Raises:
        ValueError: a shape :class:`AttentionConfig` refuses (e.g. groups not dividing heads).
    """
    steps = check_int("steps", steps, 1, 1024)
    seed = check_int("seed", seed, 0, SEED_MAX - 1)  # seed + 1 seeds the input
    for name, value in (("n_heads", n_heads), ("head_dim", head_dim),
                        ("qk_rope_head_dim", qk_rope_head_dim), ("kv_lora_rank", kv_lora_rank)):
        check_int(name, value, 1, 1024)  # the controls reach 128 heads, 512 latent width
    c = AttentionConfig(dim=64, n_heads=n_heads, q_lora_rank=0, kv_lora_rank=kv_lora_rank,
                        qk_nope_head_dim=head_dim, qk_rope_head_dim=qk_rope_head_dim,
                        v_head_dim=head_dim, max_seq_len=steps, n_kv_groups=n_kv_groups)
    x = torch.randn(1, steps, c.dim, generator=torch.Generator().manual_seed(seed + 1),
                    dtype=torch.float64)
    torch.manual_seed(seed)
    mods = {k: make_attention(k, c, dtype=torch.float64) for k in ATTENTION_KINDS[:5]}
    mods["mla_absorb"].load_state_dict(mods["mla_naive"].state_dict())
    gap = 0.0
    with torch.no_grad():
        for t in range(steps):
            outs = {k: m(x[:, t:t + 1], t) for k, m in mods.items()}
            gap = max(gap, float((outs["mla_naive"] - outs["mla_absorb"]).abs().max()))
    mha = mods["mha"].cache_bytes_per_token()
    rows = [{"kind": k, "measured elements per token": m.cache_bytes_per_token() / 8,
             "Table 1 formula": formula_bytes_per_token(k, c, 8) / 8,
             "vs MHA": m.cache_bytes_per_token() / mha,
             "max |naive - absorb|": gap if k.startswith("mla") else float("nan")}
            for k, m in mods.items()]
    return pd.DataFrame(rows).set_index("kind")
