"""One small GPT: the decoder-only transformer every model in the book is built on.

What it is: a character-level, decoder-only transformer in the style of nanoGPT
(Karpathy, ``karpathy/nanoGPT`` ``model.py``; its parent minGPT ``mingpt/model.py``,
whose "adder" project sits on the same one model as our addition toy does).
Learned absolute position embeddings, pre-LayerNorm blocks, causal multi-head
self-attention, a GELU MLP, optionally tied input and output embeddings
(Press & Wolf 2017). Module names follow nanoGPT (``transformer.wte``, ``wpe``,
``h``, ``ln_f``, ``lm_head``, ``attn.c_attn``, ``attn.c_proj``), so the code
reads next to it; the feed-forward slot of a block is called ``ffn``, as in
DeepSeek-V3's ``inference/model.py`` ``Block``, because there it is either a
dense MLP or a Mixture-of-Experts layer, and here too.

Who uses it:

* ``explainer.reasoning`` (the addition toy of "Thinking out loud"): a dense
  model with tied embeddings, decoded in batches with the key/value cache
  (:func:`generate`).
* ``explainer.moe_lm`` (the MoE chapter's character LM): ``GPTConfig.moe`` set,
  so each block's feed-forward is :class:`explainer.moe.MoE` (V3 §2.1.2).
* Reinforcement learning (GRPO, R1 §2.2) needs per-token log-probabilities of
  sampled completions (:func:`token_logprobs`) and fast batched sampling
  (:func:`generate`).
* Multi-token prediction (V3 §2.2) needs the hidden state before the output
  head (``forward(..., return_hidden=True)``), the shared embedding
  (``transformer.wte``) and the shared output head (:meth:`GPT.output_head`),
  and a cache it can roll back after a rejected draft (:meth:`KVCache.crop`).

Conventions, one each for the whole book:

* **Tokens**: :class:`CharTokenizer` ``encode(text) -> list[int]`` (plain Python
  ints, one per character; wrap with ``torch.tensor`` to feed a model) and
  ``decode(ids) -> str``. Unknown characters raise ``ValueError`` naming them.
* **Checkpoints**: :func:`save` writes one file with the config, the state dict
  (float16 by default, to keep shipped weights small) and a free-form ``meta``
  dict (how it was trained, task settings); :func:`load` returns ``(model, meta)``
  with float32 weights in eval mode.
* **Training results**: :class:`TrainResult` (``model``, ``steps``, ``seconds``,
  ``history``), which each trainer extends with what it adds.
"""

from __future__ import annotations

import pickle
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn

from explainer.checks import check_bool, check_int, check_number, check_tensor, check_text
from explainer.moe import MoE, MoEConfig

__all__ = [
    "GPT",
    "MLP",
    "Block",
    "CausalSelfAttention",
    "CharTokenizer",
    "GPTConfig",
    "KVCache",
    "TrainResult",
    "TrainingClock",
    "generate",
    "load",
    "save",
    "token_logprobs",
]

_FORMAT = "explainer.gpt/1"  # tag stored in every checkpoint written by :func:`save`
# largest sizes a config accepts: far above any model of the book, and small enough that a
# typo (an extra digit or two) is refused instead of allocating memory for minutes
_MAX_VOCAB = 2**20
_MAX_BLOCK = 2**20
_MAX_LAYERS = 1024
_MAX_HEADS = 1024
_MAX_EMBD = 2**16
# below this temperature, softmax(logits / temperature) overflows float32 for ordinary logits;
# sampling then takes the numerically stable path (:func:`_softmax_temperature`)
_STABLE_BELOW = 1e-6


# --------------------------------------------------------------------------- tokens


class CharTokenizer:
    """Character-level tokeniser: token id ``i`` is character ``vocab[i]``.

    Args:
        vocab: the characters the model knows, in id order (distinct, at least 2).
    """

    def __init__(self, vocab: str):
        if not isinstance(vocab, str) or len(vocab) < 2 or len(set(vocab)) != len(vocab):
            raise ValueError(f"vocab must be a string of at least 2 distinct characters, "
                             f"got {vocab!r}")
        self.vocab = vocab
        self.stoi = {ch: i for i, ch in enumerate(vocab)}

    def __len__(self) -> int:
        return len(self.vocab)

    def encode(self, text: str) -> list[int]:
        """Token ids of ``text``, one per character (a list of Python ints).

        Raises:
            ValueError: ``text`` has characters outside the vocabulary (they are named).
        """
        check_text("text", text, empty=True)
        bad = sorted(set(text) - self.stoi.keys())
        if bad:
            shown = f" {self.vocab!r}" if len(self.vocab) <= 40 else ""
            raise ValueError(f"text has characters outside the vocabulary{shown}: {bad}")
        return [self.stoi[ch] for ch in text]

    def decode(self, ids: Sequence[int] | torch.Tensor) -> str:
        """Text of token ``ids`` (inverse of :meth:`encode`).

        Raises:
            ValueError: ``ids`` is not a sequence (or 1-D integer tensor) of ids in
                ``[0, len(vocab) - 1]``.
        """
        if isinstance(ids, torch.Tensor):
            check_tensor("ids", ids, ndim=1, kind="int")
            ids = ids.tolist()
        elif isinstance(ids, (str, bytes)) or not isinstance(ids, Sequence):
            raise ValueError(f"ids must be a sequence of token ids, got {type(ids).__name__}")
        n = len(self.vocab)
        for i in ids:
            if isinstance(i, (bool, np.bool_)) or not isinstance(i, (int, np.integer)) \
                    or not 0 <= i < n:
                raise ValueError(f"ids must hold ints in [0, {n - 1}] (the vocabulary), got {i!r}")
        return "".join(self.vocab[i] for i in ids)


# --------------------------------------------------------------------------- config


@dataclass
class GPTConfig:
    """Size and switches of a :class:`GPT` (defaults: a laptop-CPU toy).

    Field names follow nanoGPT's ``GPTConfig``; ``moe`` and ``init_std`` are ours.
    """

    vocab_size: int = 16
    block_size: int = 64  # longest input (max_seq_len): rows of the position table
    n_layer: int = 2
    n_head: int = 4
    n_embd: int = 64
    dropout: float = 0.0  # on embeddings, attention weights and residual branches
    bias: bool = True  # biases in the attention and MLP Linear layers (LayerNorms always have one)
    tie_weights: bool = True  # output head shares the token embedding matrix (nanoGPT, minGPT)
    init_std: float | None = 0.02  # normal init of Linear/Embedding weights; None: PyTorch default
    vocab: str = ""  # the characters of a character-level model, in id order ("" if none)
    moe: MoEConfig | None = None  # None: dense GELU MLP; else an explainer.moe.MoE per block

    def __post_init__(self) -> None:
        if isinstance(self.moe, dict):
            self.moe = MoEConfig(**self.moe)
        if self.moe is not None and not isinstance(self.moe, MoEConfig):
            raise ValueError(f"moe must be None, a dict or an explainer.moe.MoEConfig, got "
                             f"{type(self.moe).__name__}")
        for name, most in (("vocab_size", _MAX_VOCAB), ("block_size", _MAX_BLOCK),
                           ("n_layer", _MAX_LAYERS), ("n_head", _MAX_HEADS),
                           ("n_embd", _MAX_EMBD)):
            setattr(self, name, check_int(name, getattr(self, name), 1, most))
        if self.n_embd % self.n_head:
            raise ValueError(f"n_embd ({self.n_embd}) must be a multiple of n_head ({self.n_head})")
        self.dropout = check_number("dropout", self.dropout, 0, 1, hi_open=True)
        if self.init_std is not None:
            self.init_std = check_number("init_std", self.init_std, 0, lo_open=True)
        check_bool("bias", self.bias)
        check_bool("tie_weights", self.tie_weights)
        check_text("vocab", self.vocab, empty=True)
        if self.vocab:
            CharTokenizer(self.vocab)  # distinct characters
            if len(self.vocab) != self.vocab_size:
                raise ValueError(f"vocab_size ({self.vocab_size}) must equal len(vocab) "
                                 f"({len(self.vocab)})")
        if self.moe is not None and self.moe.d_model != self.n_embd:
            raise ValueError(f"moe.d_model ({self.moe.d_model}) must equal n_embd ({self.n_embd})")

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (for checkpoints and JSON); ``GPTConfig(**d)`` rebuilds it."""
        return asdict(self)


# --------------------------------------------------------------------------- cache


@dataclass
class KVCache:
    """Keys and values of the positions already processed, one pair per layer.

    Pass the same cache to successive :meth:`GPT.forward` calls: each call reads
    the earlier positions and appends its own, and positions continue from
    :attr:`length`. :meth:`crop` drops the newest positions (e.g. a rejected draft).
    """

    layers: list[tuple[torch.Tensor, torch.Tensor] | None] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not isinstance(self.layers, list):
            raise ValueError(f"layers must be a list (one (keys, values) pair or None per "
                             f"layer), got {type(self.layers).__name__}")

    @property
    def length(self) -> int:
        """Positions cached so far."""
        first = self.layers[0] if self.layers else None
        return 0 if first is None else first[0].shape[2]

    def crop(self, length: int) -> None:
        """Keep only the first ``length`` positions."""
        length = check_int("length", length, 0, self.length)
        self.layers = [None if kv is None else (kv[0][:, :, :length], kv[1][:, :, :length])
                       for kv in self.layers]


# --------------------------------------------------------------------------- layers


class CausalSelfAttention(nn.Module):
    """Causal multi-head self-attention (nanoGPT), reading and filling a key/value cache."""

    def __init__(self, config: GPTConfig):
        _check_config(config)
        super().__init__()
        self.n_head = config.n_head
        self.dropout = config.dropout
        self.c_attn = nn.Linear(config.n_embd, 3 * config.n_embd, bias=config.bias)
        self.c_proj = nn.Linear(config.n_embd, config.n_embd, bias=config.bias)
        self.resid_dropout = nn.Dropout(config.dropout)

    def forward(
        self, x: torch.Tensor, past: tuple[torch.Tensor, torch.Tensor] | None = None
    ) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
        """Output ``(B, T, C)`` and the keys/values of all positions (past + these T)."""
        B, T, C = x.shape
        q, k, v = self.c_attn(x).split(C, dim=2)  # 3 x (B, T, C)
        # (B, T, C) -> (B, n_head, T, head_dim)
        q, k, v = (t.view(B, T, self.n_head, C // self.n_head).transpose(1, 2) for t in (q, k, v))
        P = 0
        if past is not None:
            P = past[0].shape[2]
            k, v = torch.cat([past[0], k], dim=2), torch.cat([past[1], v], dim=2)  # (B, h, P+T, d)
        # no past: the causal mask (for T = 1 it allows the one key, as no mask would; a plain
        # bool, so the model exports to ONNX with a dynamic T)
        mask, causal = None, P == 0
        if P and T > 1:  # query i sits at position P + i: it sees keys 0..P + i
            mask = torch.ones(T, P + T, dtype=torch.bool, device=x.device).tril(diagonal=P)
            causal = False
        y = F.scaled_dot_product_attention(
            q, k, v, attn_mask=mask, is_causal=causal,
            dropout_p=self.dropout if self.training else 0.0,
        )  # (B, n_head, T, head_dim)
        y = y.transpose(1, 2).contiguous().view(B, T, C)  # (B, T, C)
        return self.resid_dropout(self.c_proj(y)), (k, v)


class MLP(nn.Module):
    """The dense feed-forward: Linear, GELU, Linear (4x wider inside, as in GPT-2)."""

    def __init__(self, config: GPTConfig):
        _check_config(config)
        super().__init__()
        self.c_fc = nn.Linear(config.n_embd, 4 * config.n_embd, bias=config.bias)
        self.gelu = nn.GELU()
        self.c_proj = nn.Linear(4 * config.n_embd, config.n_embd, bias=config.bias)
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.dropout(self.c_proj(self.gelu(self.c_fc(x))))


FFNFactory = Callable[[GPTConfig, int], nn.Module]


def _check_config(config: Any) -> None:
    """ValueError unless ``config`` is a :class:`GPTConfig`."""
    if not isinstance(config, GPTConfig):
        raise ValueError(f"config must be an explainer.gpt.GPTConfig, got {type(config).__name__}")


def _check_ffn(ffn: Any) -> None:
    if ffn is not None and not callable(ffn):
        raise ValueError(f"ffn must be None or a factory ffn(config, layer_id) -> nn.Module, "
                         f"got {ffn!r}")


def _default_ffn(config: GPTConfig, layer_id: int) -> nn.Module:
    """Dense :class:`MLP`, or :class:`explainer.moe.MoE` when ``config.moe`` is set."""
    return MLP(config) if config.moe is None else MoE(config.moe)


class Block(nn.Module):
    """Pre-LayerNorm transformer block: ``x + attn(ln_1(x))``, then ``x + ffn(ln_2(x))``.

    Args:
        config: the model config.
        layer_id: index of the block, bottom first (passed to ``ffn``).
        ffn: factory ``ffn(config, layer_id) -> nn.Module`` for the feed-forward,
            a module mapping ``(B, T, n_embd)`` to the same shape. Default: a
            dense :class:`MLP`, or an MoE layer when ``config.moe`` is set.
    """

    def __init__(self, config: GPTConfig, layer_id: int = 0, ffn: FFNFactory | None = None):
        _check_config(config)
        check_int("layer_id", layer_id, 0, _MAX_LAYERS)
        _check_ffn(ffn)
        super().__init__()
        self.ln_1 = nn.LayerNorm(config.n_embd)
        self.attn = CausalSelfAttention(config)
        self.ln_2 = nn.LayerNorm(config.n_embd)
        self.ffn = (ffn or _default_ffn)(config, layer_id)

    def forward(
        self, x: torch.Tensor, past: tuple[torch.Tensor, torch.Tensor] | None = None
    ) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
        a, kv = self.attn(self.ln_1(x), past)
        x = x + a
        return x + self.ffn(self.ln_2(x)), kv


# --------------------------------------------------------------------------- model


class GPT(nn.Module):
    """Decoder-only transformer over token ids (nanoGPT ``GPT``).

    Args:
        config: sizes and switches.
        ffn: optional feed-forward factory for every block (see :class:`Block`).
            A model built with a custom factory is saved like any other, but
            :func:`load` rebuilds only the default (dense or ``config.moe``) kind.
    """

    def __init__(self, config: GPTConfig, *, ffn: FFNFactory | None = None):
        _check_config(config)
        _check_ffn(ffn)
        super().__init__()
        self.config = config
        self.transformer = nn.ModuleDict({
            "wte": nn.Embedding(config.vocab_size, config.n_embd),
            "wpe": nn.Embedding(config.block_size, config.n_embd),
            "drop": nn.Dropout(config.dropout),
            "h": nn.ModuleList(Block(config, i, ffn) for i in range(config.n_layer)),
            "ln_f": nn.LayerNorm(config.n_embd),
        })
        # a tied head owns no weight: logits use transformer.wte.weight
        self.lm_head = (None if config.tie_weights
                        else nn.Linear(config.n_embd, config.vocab_size, bias=False))
        if config.init_std is not None:
            self.apply(self._init_weights)

    def _init_weights(self, module: nn.Module) -> None:
        if isinstance(module, (nn.Linear, nn.Embedding)):
            nn.init.normal_(module.weight, mean=0.0, std=self.config.init_std)
        if isinstance(module, nn.Linear) and module.bias is not None:
            nn.init.zeros_(module.bias)

    def output_head(self, hidden: torch.Tensor) -> torch.Tensor:
        """Logits ``(..., vocab_size)`` from last-block hidden states ``(..., n_embd)``.

        The final LayerNorm, then the (tied or separate) output projection: the
        "shared output head" an MTP module reuses.
        """
        h = self.transformer.ln_f(hidden)
        weight = self.transformer.wte.weight if self.lm_head is None else self.lm_head.weight
        return F.linear(h, weight)  # (..., vocab_size)

    def forward(
        self,
        idx: torch.Tensor,
        *,
        kv_cache: KVCache | None = None,
        return_hidden: bool = False,
    ) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        """Next-token logits for every position of ``idx``.

        Args:
            idx: token ids ``(B, T)``.
            kv_cache: a :class:`KVCache` holding earlier positions of the same rows;
                ``idx`` continues after them and its keys/values are appended.
                ``None``: ``idx`` starts at position 0 and nothing is cached.
            return_hidden: also return the last block's output (before ``ln_f``).

        Returns:
            Logits ``(B, T, vocab_size)``; with ``return_hidden``, ``(logits, hidden)``
            where ``hidden`` is ``(B, T, n_embd)``.

        Raises:
            ValueError: ``idx`` not a 2-D integer tensor of ids in the vocabulary with at
                least one position, or more positions than ``config.block_size``.
        """
        # cheap checks only (no pass over the data): forward runs once per decoding step
        if not isinstance(idx, torch.Tensor) or idx.dim() != 2 or idx.shape[1] == 0 \
                or idx.is_floating_point() or idx.dtype == torch.bool:
            raise ValueError(f"idx must be a (B, T) integer tensor of token ids with T >= 1, "
                             f"got {_describe(idx)}")
        if kv_cache is not None and not isinstance(kv_cache, KVCache):
            raise ValueError(f"kv_cache must be None or a KVCache, got {type(kv_cache).__name__}")
        if not isinstance(return_hidden, bool):
            raise ValueError(f"return_hidden must be True or False, got {return_hidden!r}")
        T = idx.shape[1]
        start = 0 if kv_cache is None else kv_cache.length
        if start + T > self.config.block_size:
            raise ValueError(f"sequence length {start + T} exceeds block_size="
                             f"{self.config.block_size}")
        pos = torch.arange(start, start + T, device=idx.device)
        try:
            tok = self.transformer.wte(idx)  # (B, T, n_embd)
        except IndexError:  # an id outside the table: say which, not "index out of range in self"
            raise ValueError(f"idx must hold token ids in [0, {self.config.vocab_size - 1}] "
                             f"(vocab_size={self.config.vocab_size}), got ids from "
                             f"{int(idx.min())} to {int(idx.max())}") from None
        x = tok + self.transformer.wpe(pos)  # (B, T, n_embd)
        x = self.transformer.drop(x)
        blocks = self.transformer.h
        if kv_cache is not None and not kv_cache.layers:
            kv_cache.layers = [None] * len(blocks)
        for i, block in enumerate(blocks):
            x, kv = block(x, None if kv_cache is None else kv_cache.layers[i])
            if kv_cache is not None:
                kv_cache.layers[i] = kv
        logits = self.output_head(x)  # (B, T, vocab_size)
        return (logits, x) if return_hidden else logits

    # ---------------------------------------------------------------- MoE helpers

    @property
    def moe_layers(self) -> list[MoE]:
        """The MoE feed-forward of each block that has one, bottom to top."""
        return [b.ffn for b in self.transformer.h if isinstance(b.ffn, MoE)]

    def aux_loss(self) -> torch.Tensor:
        """Sum of the MoE layers' balance losses from the last forward (0 if none)."""
        return sum((m.aux_loss for m in self.moe_layers), torch.zeros(()))

    def update_biases(self) -> None:
        """One auxiliary-loss-free bias step in every MoE layer (no-op unless balance="bias")."""
        for m in self.moe_layers:
            m.update_bias()

    def param_counts(self) -> dict[str, int]:
        """Total parameters, and those activated per token (routed experts not chosen excluded)."""
        total = sum(p.numel() for p in self.parameters())
        moe = [m.config.param_counts() for m in self.moe_layers]
        inactive = sum(c["total"] - c["activated"] for c in moe)
        return {"total": total, "activated": total - inactive}


# --------------------------------------------------------------------------- decoding


def _describe(x: Any) -> str:
    """A tensor's shape and dtype, or another value's type, for an error message."""
    if isinstance(x, torch.Tensor):
        return f"shape {tuple(x.shape)}, dtype {x.dtype}"
    return type(x).__name__


def _check_model(model: Any, name: str = "model") -> None:
    if not isinstance(model, GPT):
        raise ValueError(f"{name} must be an explainer.gpt.GPT, got {type(model).__name__}")


def _check_ids(name: str, idx: Any, vocab_size: int, min_len: int = 1) -> None:
    """``idx``: a ``(B, T)`` integer tensor, ``T >= min_len``, ids in ``[0, vocab_size)``."""
    check_tensor(name, idx, ndim=2, kind="int")
    if idx.shape[0] < 1 or idx.shape[1] < min_len:
        raise ValueError(f"{name} must be (B, T) with B >= 1 and T >= {min_len}, got shape "
                         f"{tuple(idx.shape)}")
    lo, hi = int(idx.min()), int(idx.max())
    if lo < 0 or hi >= vocab_size:
        raise ValueError(f"{name} must hold token ids in [0, {vocab_size - 1}] "
                         f"(vocab_size={vocab_size}), got ids from {lo} to {hi}")


def _softmax_temperature(logits: torch.Tensor, temperature: float,
                         dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """``softmax(logits / temperature)`` over the last axis, finite for any ``temperature > 0``.

    For ordinary temperatures this is the plain formula (so seeded samples are unchanged).
    Below :data:`_STABLE_BELOW`, ``logits / temperature`` would overflow to infinity and
    softmax would return NaN (``inf - inf``); there the maximum is subtracted first and the
    division is done in float64, so the result tends to the argmax (ties shared) as it should.
    """
    if temperature >= _STABLE_BELOW:
        return F.softmax(logits.to(dtype) / temperature, dim=-1)
    x = logits.double()
    x = (x - x.amax(dim=-1, keepdim=True)) / temperature  # <= 0, the maximum exactly 0
    return F.softmax(x, dim=-1).to(dtype)


@torch.no_grad()
def generate(
    model: GPT,
    idx: torch.Tensor,
    max_new_tokens: int,
    *,
    temperature: float = 0.0,
    generator: torch.Generator | None = None,
    stop_token: int | None = None,
) -> torch.Tensor:
    """Batched decoding with a key/value cache: the new tokens after prompts ``idx``.

    Args:
        model: the model (put it in eval mode first).
        idx: prompt token ids ``(B, P)``, all rows the same length.
        max_new_tokens: most tokens to write per row (>= 1); ``P + max_new_tokens - 1``
            must fit in ``block_size`` (the last token is never fed back).
        temperature: 0 for greedy (argmax); > 0 (finite) samples from
            softmax(logits / temperature). A tiny temperature (even ``1e-300``) is handled
            stably and samples the argmax.
        generator: CPU generator for sampling (seeded: same tokens); ``None``: global RNG.
        stop_token: a row that writes it is finished: later positions repeat it,
            and decoding stops once every row has finished.

    Returns:
        New token ids ``(B, n)``, ``n <= max_new_tokens``.

    Raises:
        ValueError: a bad argument (named), or a prompt plus ``max_new_tokens`` that does
            not fit ``block_size``.
    """
    _check_model(model)
    _check_ids("idx", idx, model.config.vocab_size)
    max_new_tokens = check_int("max_new_tokens", max_new_tokens, 1, model.config.block_size)
    temperature = check_number("temperature", temperature, 0)
    if generator is not None and not isinstance(generator, torch.Generator):
        raise ValueError(f"generator must be None or a torch.Generator, got {generator!r}")
    if stop_token is not None:
        stop_token = check_int("stop_token", stop_token, 0, model.config.vocab_size - 1)
    if idx.shape[1] + max_new_tokens - 1 > model.config.block_size:
        raise ValueError(f"prompt length {idx.shape[1]} + max_new_tokens {max_new_tokens} - 1 "
                         f"exceeds block_size={model.config.block_size}")
    cache = KVCache()
    logits = model(idx, kv_cache=cache)[:, -1]  # (B, vocab)
    done = torch.zeros(idx.shape[0], dtype=torch.bool, device=idx.device)
    out = []
    for step in range(max_new_tokens):
        if temperature == 0:
            nxt = logits.argmax(-1)  # (B,)
        else:
            probs = _softmax_temperature(logits, temperature)  # (B, vocab)
            # sample on the CPU so a seeded generator gives the same text on any device
            nxt = torch.multinomial(probs.cpu(), 1, generator=generator).squeeze(1).to(idx.device)
        if stop_token is not None:
            nxt = torch.where(done, torch.full_like(nxt, stop_token), nxt)  # finished rows: stop
            done |= nxt == stop_token
        out.append(nxt)
        if step == max_new_tokens - 1 or bool(done.all()):
            break
        logits = model(nxt[:, None], kv_cache=cache)[:, -1]
    return torch.stack(out, dim=1)  # (B, n)


def token_logprobs(model: GPT, idx: torch.Tensor) -> torch.Tensor:
    """Log-probability of each token of ``idx`` given the tokens before it.

    What a policy-gradient method such as GRPO needs for sampled completions:
    slice the completion columns and mask padding. Differentiable (no ``no_grad``).

    Args:
        model: the model.
        idx: token ids ``(B, T)``, ``T >= 2``.

    Returns:
        ``(B, T - 1)``: entry ``[b, t]`` is ``log p(idx[b, t + 1] | idx[b, :t + 1])``.
    """
    _check_model(model)
    _check_ids("idx", idx, model.config.vocab_size, min_len=2)
    logp = F.log_softmax(model(idx[:, :-1]).float(), dim=-1)  # (B, T-1, vocab)
    return logp.gather(-1, idx[:, 1:, None]).squeeze(-1)  # (B, T-1)


# --------------------------------------------------------------------------- files


def save(model: GPT, path: str | Path, *, meta: dict | None = None, half: bool = True) -> None:
    """Write config, weights and ``meta`` to one file (what :func:`load` reads).

    Args:
        model: the model.
        path: file to write.
        meta: free-form record saved alongside: how it was trained, task settings. Plain
            values only (``None``, bool, int, float, str, and lists, tuples and dicts with
            string keys of them); numpy scalars and arrays are converted to Python values.
        half: store floating-point tensors as float16 (halves the file).

    Raises:
        ValueError: ``model`` not a :class:`GPT`, or ``meta`` holding a value that
            :func:`load` could not read back (the message names its key).
    """
    _check_model(model)
    _check_path(path, writable=True)
    meta = _check_meta(meta)
    check_bool("half", half)
    state = {k: v.detach().to("cpu", torch.float16) if half and v.is_floating_point()
             else v.detach().cpu() for k, v in model.state_dict().items()}
    torch.save({"format": _FORMAT, "config": model.config.to_dict(), "meta": meta,
                "state_dict": state}, path)


def _check_path(path: Any, *, exists: bool = False, writable: bool = False) -> Path:
    """A file path: an existing file (``exists``) or one in an existing folder (``writable``)."""
    if not isinstance(path, (str, Path)) or not str(path):
        raise ValueError(f"path must be a file path (str or pathlib.Path), got {path!r}")
    if exists and not Path(path).is_file():
        raise ValueError(f"path must be an existing file, got {str(path)!r}")
    if writable and not Path(path).parent.is_dir():
        raise ValueError(f"path must be in an existing folder, got {str(path)!r}")
    return Path(path)


def _check_meta(meta: Any) -> dict:
    """``meta`` (``None`` or a dict) made of plain values, as :func:`save` stores it."""
    if meta is not None and not isinstance(meta, dict):
        raise ValueError(f"meta must be None or a dict, got {type(meta).__name__}")
    return _plain(meta or {}, "meta")


def _plain(value: Any, where: str) -> Any:
    """``value`` with numpy scalars and arrays made Python values; ValueError naming
    ``where`` (e.g. ``meta['acc']``) for anything a ``weights_only`` load cannot read."""
    if isinstance(value, (np.generic, np.ndarray)):  # before float: np.float64 is a float
        return _plain(value.tolist(), where)
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        out = [_plain(v, f"{where}[{i}]") for i, v in enumerate(value)]
        return out if isinstance(value, list) else tuple(out)
    if isinstance(value, dict):
        bad = [k for k in value if not isinstance(k, str)]
        if bad:
            raise ValueError(f"{where} keys must be strings, got {bad[0]!r}")
        return {k: _plain(v, f"{where}[{k!r}]") for k, v in value.items()}
    raise ValueError(f"{where} must hold plain values (None, bool, int, float, str, list, "
                     f"tuple, dict) that load() can read back, got {type(value).__name__}: "
                     f"{value!r}")


def _check_device(device: Any) -> torch.device:
    try:
        return torch.device(device)
    except (RuntimeError, TypeError):
        raise ValueError(f"device must be a torch device such as 'cpu' or 'cuda', got "
                         f"{device!r}") from None


def load(path: str | Path, *, device: str | torch.device = "cpu") -> tuple[GPT, dict]:
    """Read a file written by :func:`save`.

    Returns:
        ``(model, meta)``: the model with float32 weights, on ``device``, in eval mode,
        and the ``meta`` dict it was saved with.

    Raises:
        ValueError: ``path`` is not an existing file, the file was not written by
            :func:`save` (e.g. an older format), or ``device`` is not a device.
    """
    path = _check_path(path, exists=True)
    device = _check_device(device)
    try:
        blob = torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError) as exc:
        raise ValueError(f"path {str(path)!r} is not a readable {_FORMAT} checkpoint (a "
                         f"non-plain value in its meta, or not a checkpoint at all): "
                         f"{str(exc).splitlines()[0]}") from None
    if not isinstance(blob, dict) or blob.get("format") != _FORMAT:
        raise ValueError(f"path {str(path)!r} is not an {_FORMAT} checkpoint (convert older "
                         "files with scripts/convert_weights.py)")
    model = GPT(GPTConfig(**blob["config"]))
    model.load_state_dict({k: v.float() if v.is_floating_point() else v
                           for k, v in blob["state_dict"].items()})
    return model.to(device).eval(), dict(blob["meta"])


# --------------------------------------------------------------------------- training


class TrainingClock:
    """Wall-clock training time that leaves out the time spent in callbacks.

    The book's RL and distillation loops stop on a ``seconds`` budget and log the
    seconds at each step; a callback that evaluates or redraws a chart (the benchmark,
    the JupyterLab button) should not eat into that budget, so its time is excluded.
    """

    def __init__(self) -> None:
        self._start = time.perf_counter()
        self._paused = 0.0

    def seconds(self) -> float:
        """Seconds since the clock started, minus the time spent inside :meth:`paused`."""
        return time.perf_counter() - self._start - self._paused

    def paused(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Call ``fn(*args)`` with the clock stopped; return what it returns."""
        if not callable(fn):
            raise ValueError(f"fn must be callable, got {fn!r}")
        t = time.perf_counter()
        try:
            return fn(*args)
        finally:
            self._paused += time.perf_counter() - t


@dataclass
class TrainResult:
    """What the book's trainers return; each adds its own fields.

    Attributes:
        model: the trained :class:`GPT` (eval mode).
        steps: optimizer steps taken.
        seconds: wall-clock training time.
        history: one row per logged step (at least ``step`` and ``loss`` columns).
    """

    model: GPT
    steps: int
    seconds: float
    history: pd.DataFrame
