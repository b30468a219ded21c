"""A tiny character-level language model whose feed-forward layers are MoE.

Small enough to train on a laptop CPU in about a minute, on the text of the five
seed articles (``explainer.data.SEEDS_DIR``, outside the repository), so the
MoE chapter can show routing collapse and its cures happening. The model is a
nanoGPT-style decoder (karpathy/nanoGPT ``model.py``: pre-norm blocks, causal
self-attention, learned positions) with :class:`explainer.moe.MoE` in place of
the MLP. Weights trained by ``scripts/train_moe.py`` are shipped in
``data/weights/moe_*.pt`` so the chapter only loads them.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn

from explainer.data import SEEDS_DIR
from explainer.moe import MoE, MoEConfig, imbalance

__all__ = [
    "LMConfig",
    "MoELM",
    "TrainResult",
    "encode",
    "load",
    "load_corpus",
    "routing_table",
    "save",
    "train",
]


@dataclass
class LMConfig:
    """The decoder around the MoE layers (one MoE feed-forward per block)."""

    vocab: str = ""  # the characters the model knows, in id order
    block_size: int = 64  # context length in characters
    n_layers: int = 2
    n_heads: int = 4
    moe: MoEConfig = field(default_factory=MoEConfig)

    def __post_init__(self) -> None:
        if isinstance(self.moe, dict):
            self.moe = MoEConfig(**self.moe)
        if len(self.vocab) < 2 or len(set(self.vocab)) != len(self.vocab):
            raise ValueError("vocab must be a string of at least 2 distinct characters")
        for name in ("block_size", "n_layers", "n_heads"):
            if not isinstance(getattr(self, name), int) or getattr(self, name) < 1:
                raise ValueError(f"{name} must be an int >= 1, got {getattr(self, name)!r}")
        if self.moe.d_model % self.n_heads:
            raise ValueError(
                f"moe.d_model={self.moe.d_model} must be divisible by n_heads={self.n_heads}"
            )


def load_corpus(seeds_dir: Path | str | None = None) -> str:
    """The seed articles' text, concatenated in file-name order.

    Raises:
        FileNotFoundError: the seeds folder or its ``*.txt`` files are missing.
    """
    folder = Path(seeds_dir) if seeds_dir is not None else SEEDS_DIR
    files = sorted(folder.glob("*.txt")) if folder.is_dir() else []
    if not files:
        raise FileNotFoundError(
            f"training corpus missing: no *.txt seed articles in {folder}. Set EXPLAINER_SEEDS "
            "or pass text=...; the chapter itself only needs the shipped data/weights/moe_*.pt"
        )
    return "\n\n".join(f.read_text(encoding="utf-8") for f in files)


def encode(text: str, vocab: str) -> torch.Tensor:
    """Character ids of ``text`` under ``vocab``; ValueError names unknown characters."""
    lookup = {ch: i for i, ch in enumerate(vocab)}
    unknown = sorted({ch for ch in text if ch not in lookup})
    if unknown:
        raise ValueError(f"text has characters outside the model's vocabulary: {unknown}")
    if not text:
        raise ValueError("text must not be empty")
    return torch.tensor([lookup[ch] for ch in text], dtype=torch.long)


class _Block(nn.Module):
    """Pre-norm transformer block: causal self-attention, then the MoE feed-forward."""

    def __init__(self, config: LMConfig):
        super().__init__()
        d = config.moe.d_model
        self.n_heads = config.n_heads
        self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.qkv = nn.Linear(d, 3 * d, bias=False)
        self.proj = nn.Linear(d, d, bias=False)
        self.moe = MoE(config.moe)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, T, C = x.shape
        q, k, v = self.qkv(self.ln1(x)).split(C, dim=2)  # 3 x (B, T, C)
        q, k, v = (t.view(B, T, self.n_heads, C // self.n_heads).transpose(1, 2) for t in (q, k, v))
        att = F.scaled_dot_product_attention(q, k, v, is_causal=True)  # (B, n_heads, T, C/n_heads)
        x = x + self.proj(att.transpose(1, 2).reshape(B, T, C))  # (B, T, C)
        return x + self.moe(self.ln2(x))


class MoELM(nn.Module):
    """Character-level decoder with MoE feed-forward layers."""

    def __init__(self, config: LMConfig):
        super().__init__()
        self.config = config
        d = config.moe.d_model
        self.tok = nn.Embedding(len(config.vocab), d)
        self.pos = nn.Embedding(config.block_size, d)
        self.blocks = nn.ModuleList(_Block(config) for _ in range(config.n_layers))
        self.ln_f = nn.LayerNorm(d)
        self.head = nn.Linear(d, len(config.vocab), bias=False)

    @property
    def moe_layers(self) -> list[MoE]:
        """The MoE layer of each block, bottom to top."""
        return [b.moe for b in self.blocks]

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        """Logits (B, T, vocab) for character ids (B, T)."""
        T = idx.shape[1]
        if T > self.config.block_size:
            raise ValueError(f"sequence length {T} exceeds block_size={self.config.block_size}")
        x = self.tok(idx) + self.pos(torch.arange(T, device=idx.device))  # (B, T, d_model)
        for block in self.blocks:
            x = block(x)
        return self.head(self.ln_f(x))

    def aux_loss(self) -> torch.Tensor:
        """Sum of the MoE layers' balance losses from the last forward (0 unless aux_loss)."""
        return sum(m.aux_loss for m in self.moe_layers)

    def update_biases(self) -> None:
        """One aux-loss-free bias step in every MoE layer (no-op unless balance="bias")."""
        for m in self.moe_layers:
            m.update_bias()

    def param_counts(self) -> dict[str, int]:
        """Total and per-token activated parameters of the whole model."""
        total = sum(p.numel() for p in self.parameters())
        moe = [m.config.param_counts() for m in self.moe_layers]
        inactive = sum(c["total"] - c["activated"] for c in moe)
        return {"total": total, "activated": total - inactive}


@dataclass
class TrainResult:
    """What :func:`train` returns: the model and per-step records."""

    model: MoELM
    history: pd.DataFrame  # step, loss, imbalance (mean over layers), aux_loss
    loads: np.ndarray  # (steps, n_layers, n_routed_experts) token-slots per expert
    val_loss: float
    seconds: float


@torch.no_grad()
def _eval_loss(model: MoELM, data: torch.Tensor, block: int) -> float:
    """Mean next-character cross-entropy over non-overlapping windows of ``data``."""
    model.eval()
    n = (len(data) - 1) // block
    x = data[: n * block].view(n, block)  # (n, block)
    y = data[1 : n * block + 1].view(n, block)
    loss = F.cross_entropy(model(x).flatten(0, 1), y.flatten()).item()
    model.train()
    return loss


def train(
    moe: MoEConfig | None = None,
    *,
    steps: int = 300,
    batch_size: int = 32,
    block_size: int = 64,
    n_layers: int = 2,
    n_heads: int = 4,
    lr: float = 3e-3,
    seed: int = 0,
    text: str | None = None,
    device: str = "cpu",
    show_progress: bool = False,
) -> TrainResult:
    """Train a :class:`MoELM` on the seed articles and record per-step expert loads.

    Args:
        moe: the MoE layer config (balance mode, experts, top-k, gamma, ...).
        steps: optimizer steps (AdamW).
        batch_size: sequences per step, each ``block_size`` characters.
        block_size, n_layers, n_heads: decoder size.
        lr: learning rate.
        seed: seeds the weights and the batch order.
        text: training text; default :func:`load_corpus` (raises if missing).
            The last 10% is held out for ``val_loss``.
        device: ``"cpu"`` or ``"cuda"``.
        show_progress: a progress bar (silent in the book build).

    Returns:
        A :class:`TrainResult`.
    """
    if not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps must be an int >= 1, got {steps!r}")
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be an int >= 1, got {batch_size!r}")
    text = load_corpus() if text is None else text
    vocab = "".join(sorted(set(text)))
    config = LMConfig(vocab=vocab, block_size=block_size, n_layers=n_layers, n_heads=n_heads,
                      moe=moe or MoEConfig())
    data = encode(text, vocab)
    split = int(0.9 * len(data))
    train_data, val_data = data[:split], data[split:]
    if len(train_data) <= block_size + 1 or len(val_data) <= block_size + 1:
        raise ValueError(f"text too short for block_size={block_size}: {len(text)} characters")

    torch.manual_seed(seed)
    model = MoELM(config).to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.0)
    gen = torch.Generator().manual_seed(seed)
    offsets = torch.arange(block_size)
    rows, loads = [], []
    t0 = time.perf_counter()
    steps_iter = range(steps)
    if show_progress:
        from explainer.widgets import progress

        steps_iter = progress(steps_iter, desc="training")
    for step in steps_iter:
        starts = torch.randint(0, len(train_data) - block_size - 1, (batch_size,), generator=gen)
        x = train_data[starts[:, None] + offsets].to(device)  # (B, T)
        y = train_data[starts[:, None] + offsets + 1].to(device)  # (B, T)
        ce = F.cross_entropy(model(x).flatten(0, 1), y.flatten())
        aux = model.aux_loss()
        opt.zero_grad(set_to_none=True)
        (ce + aux).backward()
        opt.step()
        model.update_biases()
        layer_loads = torch.stack([m.last_routing.load for m in model.moe_layers])  # (L, E)
        loads.append(layer_loads.numpy())
        rows.append({
            "step": step + 1,
            "loss": ce.item(),
            "aux_loss": float(aux.detach()) if torch.is_tensor(aux) else float(aux),
            "imbalance": float(np.mean([imbalance(ld) for ld in layer_loads])),
        })
    seconds = time.perf_counter() - t0
    model = model.cpu()
    val = _eval_loss(model, val_data, block_size)
    model.eval()
    return TrainResult(model, pd.DataFrame(rows), np.stack(loads), val, seconds)


def save(model: MoELM, path: Path | str, *, half: bool = True) -> None:
    """Save config + weights (float16 by default, to keep shipped files small)."""
    state = {k: (v.half() if half and v.is_floating_point() else v)
             for k, v in model.state_dict().items()}
    cfg = asdict(model.config)
    torch.save({"config": cfg, "state_dict": state}, path)


def load(path: Path | str) -> MoELM:
    """Load a model written by :func:`save` (weights back in float32, eval mode)."""
    ckpt = torch.load(path, map_location="cpu", weights_only=True)
    model = MoELM(LMConfig(**ckpt["config"]))
    model.load_state_dict({k: v.float() if v.is_floating_point() else v
                           for k, v in ckpt["state_dict"].items()})
    return model.eval()


@torch.no_grad()
def routing_table(model: MoELM, text: str) -> pd.DataFrame:
    """Which experts each character of ``text`` is routed to, in every layer.

    Returns:
        One row per (position, layer, expert): ``position``, ``char``, ``layer``
        (1-based), ``expert``, ``weight`` (gating weight, 0 if not chosen),
        ``chosen`` (bool), ``rank`` (1 = top choice, 0 if not chosen).
    """
    ids = encode(text, model.config.vocab)[: model.config.block_size]
    model.eval()
    model(ids[None])  # fills last_routing of every MoE layer
    rows = []
    for layer, m in enumerate(model.moe_layers, start=1):
        r = m.last_routing
        for pos, ch in enumerate(text[: len(ids)]):
            chosen = {int(e): (rank + 1, float(w))
                      for rank, (e, w) in enumerate(zip(r.indices[pos], r.weights[pos]))}
            for e in range(m.config.n_routed_experts):
                rank, w = chosen.get(e, (0, 0.0))
                rows.append({"position": pos, "char": ch, "layer": layer, "expert": e,
                             "weight": w, "chosen": rank > 0, "rank": rank})
    return pd.DataFrame(rows)
