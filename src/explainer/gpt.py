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

import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn

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
        bad = sorted(set(text) - self.stoi.keys())
        if bad:
            shown = f" {self.vocab!r}" if len(self.vocab) <= 40 else ""
            raise ValueError(f"text has characters outside the vocabulary{shown}: {bad}")
        return [self.stoi[ch] for ch in text]

    def decode(self, ids: Sequence[int] | torch.Tensor) -> str:
        """Text of token ``ids`` (inverse of :meth:`encode`)."""
        return "".join(self.vocab[int(i)] for i in ids)


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
        for name in ("vocab_size", "block_size", "n_layer", "n_head", "n_embd"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be an int >= 1, got {value!r}")
        if self.n_embd % self.n_head:
            raise ValueError(f"n_embd ({self.n_embd}) must be a multiple of n_head ({self.n_head})")
        if not isinstance(self.dropout, (int, float)) or not 0 <= self.dropout < 1:
            raise ValueError(f"dropout must be a number in [0, 1), got {self.dropout!r}")
        if self.init_std is not None and not self.init_std > 0:
            raise ValueError(f"init_std must be > 0 or None, got {self.init_std!r}")
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

    @property
    def length(self) -> int:
        """Positions cached so far."""
        first = self.layers[0] if self.layers else None
        return 0 if first is None else first[0].shape[2]

    def crop(self, length: int) -> None:
        """Keep only the first ``length`` positions."""
        if not 0 <= length <= self.length:
            raise ValueError(f"length must be in 0..{self.length}, got {length!r}")
        self.layers = [None if kv is None else (kv[0][:, :, :length], kv[1][:, :, :length])
                       for kv in self.layers]


# --------------------------------------------------------------------------- layers


class CausalSelfAttention(nn.Module):
    """Causal multi-head self-attention (nanoGPT), reading and filling a key/value cache."""

    def __init__(self, config: GPTConfig):
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
        super().__init__()
        self.c_fc = nn.Linear(config.n_embd, 4 * config.n_embd, bias=config.bias)
        self.gelu = nn.GELU()
        self.c_proj = nn.Linear(4 * config.n_embd, config.n_embd, bias=config.bias)
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.dropout(self.c_proj(self.gelu(self.c_fc(x))))


FFNFactory = Callable[[GPTConfig, int], nn.Module]


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
            ValueError: more positions than ``config.block_size``.
        """
        T = idx.shape[1]
        start = 0 if kv_cache is None else kv_cache.length
        if start + T > self.config.block_size:
            raise ValueError(f"sequence length {start + T} exceeds block_size="
                             f"{self.config.block_size}")
        pos = torch.arange(start, start + T, device=idx.device)
        x = self.transformer.wte(idx) + self.transformer.wpe(pos)  # (B, T, n_embd)
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
        temperature: 0 for greedy (argmax); > 0 samples from softmax(logits / temperature).
        generator: CPU generator for sampling (seeded: same tokens); ``None``: global RNG.
        stop_token: a row that writes it is finished: later positions repeat it,
            and decoding stops once every row has finished.

    Returns:
        New token ids ``(B, n)``, ``n <= max_new_tokens``.
    """
    if not isinstance(max_new_tokens, int) or max_new_tokens < 1:
        raise ValueError(f"max_new_tokens must be an int >= 1, got {max_new_tokens!r}")
    if not isinstance(temperature, (int, float)) or not temperature >= 0:
        raise ValueError(f"temperature must be a number >= 0, got {temperature!r}")
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
            probs = F.softmax(logits.float() / temperature, dim=-1)  # (B, vocab)
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
    if idx.dim() != 2 or idx.shape[1] < 2:
        raise ValueError(f"idx must be (B, T) with T >= 2, got shape {tuple(idx.shape)}")
    logp = F.log_softmax(model(idx[:, :-1]).float(), dim=-1)  # (B, T-1, vocab)
    return logp.gather(-1, idx[:, 1:, None]).squeeze(-1)  # (B, T-1)


# --------------------------------------------------------------------------- files


def save(model: GPT, path: str | Path, *, meta: dict | None = None, half: bool = True) -> None:
    """Write config, weights and ``meta`` to one file (what :func:`load` reads).

    Args:
        model: the model.
        path: file to write.
        meta: free-form record saved alongside (plain Python values only): how it was
            trained, task settings.
        half: store floating-point tensors as float16 (halves the file).
    """
    state = {k: v.detach().to("cpu", torch.float16) if half and v.is_floating_point()
             else v.detach().cpu() for k, v in model.state_dict().items()}
    torch.save({"format": _FORMAT, "config": model.config.to_dict(), "meta": dict(meta or {}),
                "state_dict": state}, path)


def load(path: str | Path, *, device: str | torch.device = "cpu") -> tuple[GPT, dict]:
    """Read a file written by :func:`save`.

    Returns:
        ``(model, meta)``: the model with float32 weights, on ``device``, in eval mode,
        and the ``meta`` dict it was saved with.

    Raises:
        ValueError: the file was not written by :func:`save` (e.g. an older format).
    """
    blob = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(blob, dict) or blob.get("format") != _FORMAT:
        raise ValueError(f"{path} is not an {_FORMAT} checkpoint (convert older files with "
                         "scripts/convert_weights.py)")
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
