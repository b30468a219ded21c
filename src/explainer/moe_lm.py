"""A tiny character-level language model whose feed-forward layers are MoE.

Small enough to train on a laptop CPU in about a minute, on the text of the five
seed articles (``explainer.data.SEEDS_DIR``, outside the repository), so the
MoE chapter can show routing collapse and its cures happening. The model is the
book's one small GPT (:mod:`explainer.gpt`, nanoGPT style: pre-norm blocks,
causal self-attention, learned positions) with ``GPTConfig.moe`` set, so every
block's feed-forward is :class:`explainer.moe.MoE` in place of the MLP; no
biases in the attention projections and a separate (untied) output head.
Weights trained by ``scripts/train_moe.py`` are shipped in
``data/weights/moe_*.pt`` (:func:`explainer.gpt.save` checkpoints) so the
chapter only loads them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

from explainer import gpt, moe
from explainer.checks import check_bool, check_device, check_int, check_number, check_seed, check_text
from explainer.data import SEEDS_DIR
from explainer.gpt import _MAX_BLOCK, _MAX_HEADS, _MAX_LAYERS, GPT, CharTokenizer, GPTConfig
from explainer.moe import MoEConfig, imbalance

__all__ = [
    "MoELM",
    "TrainResult",
    "encode",
    "lm_config",
    "load",
    "load_balance_models",
    "load_corpus",
    "routing_table",
    "save",
    "train",
]

MoELM = GPT  # the MoE LM is a GPT whose config has ``moe`` set (name kept for readers)

# caps on train's sizes (a value past them is a typo): the chapter's runs take 500 steps of 32
_MAX_STEPS = 10**6
_MAX_BATCH = 2**16


def _check_moe(moe: object) -> None:
    if moe is not None and not isinstance(moe, MoEConfig):
        raise ValueError(f"moe must be None or an explainer.moe.MoEConfig, got "
                         f"{type(moe).__name__}")


def _check_device(device: object) -> torch.device:
    """A ``torch.device`` this machine has (ValueError naming ``device``)."""
    return check_device("device", device)


def lm_config(
    vocab: str, moe: MoEConfig | None = None, *, block_size: int = 64, n_layers: int = 2,
    n_heads: int = 4,
) -> GPTConfig:
    """The :class:`explainer.gpt.GPTConfig` of the chapter's MoE LM.

    Args:
        vocab: the characters the model knows, in id order (distinct, at least 2; any
            characters).
        moe: the MoE layer of every block (its ``d_model`` is the model width); ``None``:
            :class:`explainer.moe.MoEConfig`'s defaults.
        block_size: context length in characters, 1 to 2**20.
        n_layers: transformer blocks, 1 to 1024.
        n_heads: attention heads, 1 to 1024 (must divide ``moe.d_model``).

    Raises:
        ValueError: naming the argument that is out of range or of the wrong kind.
    """
    check_text("vocab", vocab)
    _check_moe(moe)
    block_size = check_int("block_size", block_size, 1, _MAX_BLOCK)
    n_layers = check_int("n_layers", n_layers, 1, _MAX_LAYERS)
    n_heads = check_int("n_heads", n_heads, 1, _MAX_HEADS)
    moe = moe or MoEConfig()
    if moe.d_model % n_heads:
        raise ValueError(f"moe.d_model={moe.d_model} must be divisible by n_heads={n_heads}")
    return GPTConfig(vocab_size=len(vocab), block_size=block_size, n_layer=n_layers,
                     n_head=n_heads, n_embd=moe.d_model, bias=False, tie_weights=False,
                     init_std=None, vocab=vocab, moe=moe)


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


def encode(text: str, vocab: str) -> list[int]:
    """Character ids of ``text`` under ``vocab`` (a list of ints, as everywhere in the book).

    Raises:
        ValueError: ``text`` is empty or has characters outside ``vocab`` (they are named).
    """
    if not text:
        raise ValueError("text must not be empty")
    return CharTokenizer(vocab).encode(text)


@dataclass
class TrainResult(gpt.TrainResult):
    """What :func:`train` returns: the model and per-step records.

    ``history`` has one row per step: ``step``, ``loss``, ``aux_loss``,
    ``imbalance`` (mean over layers).
    """

    loads: np.ndarray  # (steps, n_layers, n_routed_experts) token-slots per expert
    val_loss: float


@torch.no_grad()
def _eval_loss(model: GPT, data: torch.Tensor, block: int) -> float:
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
    """Train an MoE :class:`explainer.gpt.GPT` on the seed articles; record expert loads per step.

    Args:
        moe: the MoE layer config (balance mode, experts, top-k, gamma, ...).
        steps: optimizer steps (AdamW), 1 to 10**6.
        batch_size: sequences per step, each ``block_size`` characters, 1 to 2**16.
        block_size, n_layers, n_heads: decoder size (see :func:`lm_config`).
        lr: learning rate, in (0, 1).
        seed: seeds the weights and the batch order, in [0, 2**63 - 1].
        text: training text (a non-empty string); default :func:`load_corpus` (raises if
            missing). The last 10% is held out for ``val_loss``.
        device: ``"cpu"`` or ``"cuda"``.
        show_progress: a progress bar (silent in the book build).

    Returns:
        A :class:`TrainResult`.

    Raises:
        ValueError: naming the argument that is out of range or of the wrong kind, or a
            text too short for ``block_size``.
    """
    _check_moe(moe)
    check_int("steps", steps, 1, _MAX_STEPS)
    check_int("batch_size", batch_size, 1, _MAX_BATCH)
    check_number("lr", lr, 0, 1, lo_open=True, hi_open=True)
    check_seed("seed", seed)
    if text is not None:
        check_text("text", text)
    device = _check_device(device)
    check_bool("show_progress", show_progress)
    text = load_corpus() if text is None else text
    vocab = "".join(sorted(set(text)))
    config = lm_config(vocab, moe, block_size=block_size, n_layers=n_layers, n_heads=n_heads)
    data = torch.tensor(encode(text, vocab))
    split = int(0.9 * len(data))
    train_data, val_data = data[:split], data[split:]
    if len(train_data) <= block_size + 1 or len(val_data) <= block_size + 1:
        raise ValueError(f"text too short for block_size={block_size}: {len(text)} characters")

    torch.manual_seed(seed)
    model = GPT(config).to(device)
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
    return TrainResult(model, steps, seconds, pd.DataFrame(rows), np.stack(loads), val)


def save(model: GPT, path: Path | str, *, half: bool = True) -> None:
    """Save config + weights (float16 by default): :func:`explainer.gpt.save`."""
    gpt.save(model, path, half=half)


def load(path: Path | str) -> GPT:
    """Load a model written by :func:`save` (weights back in float32, eval mode)."""
    model, _ = gpt.load(path)
    if model.config.moe is None or not model.config.vocab:
        raise ValueError(f"{path} is not an MoE character LM (config.moe and config.vocab unset)")
    return model


@torch.no_grad()
def load_balance_models() -> dict[str, GPT]:
    """The tiny LMs of :data:`explainer.moe.BALANCE_RUNS`, by run (``data/weights/moe_<run>.pt``)."""
    from explainer.data import data_path

    return {run: load(data_path("weights", f"moe_{run}.pt")) for run in moe.BALANCE_RUNS}


def routing_table(model: GPT, text: str) -> pd.DataFrame:
    """Which experts each character of ``text`` is routed to, in every layer.

    Args:
        model: an MoE character LM (:func:`load`, :func:`train`).
        text: characters of the model's vocabulary; only the first ``block_size`` are read.

    Returns:
        One row per (position, layer, expert): ``position``, ``char``, ``layer``
        (1-based), ``expert``, ``weight`` (gating weight, 0 if not chosen),
        ``chosen`` (bool), ``rank`` (1 = top choice, 0 if not chosen).

    Raises:
        ValueError: ``model`` is not an MoE character LM, or ``text`` is empty or has
            characters outside its vocabulary.
    """
    if not isinstance(model, GPT) or model.config.moe is None or not model.config.vocab:
        raise ValueError(f"model must be an MoE character LM (an explainer.gpt.GPT with "
                         f"config.moe and config.vocab set), got {type(model).__name__}")
    ids = torch.tensor(encode(text, model.config.vocab)[: model.config.block_size])
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
