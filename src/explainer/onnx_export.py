"""The book's models as ONNX files, so that a reader's browser can run them.

What it does: exports each committed checkpoint in ``data/weights/`` (the one source of
truth) to an ONNX graph ``idx (batch, T) int64 -> logits (batch, T, vocab) float32`` with
``torch.onnx.export(..., dynamo=True)`` (the ``torch.export``-based exporter of torch 2.x,
which writes the graph through ``onnxscript``), plus a manifest ``models.json`` that tells
the page's script each model's vocabulary, context length and task. The book build calls
:func:`export_reasoners` (:mod:`explainer.book`); the page runs the files with
``onnxruntime-web`` (WebAssembly, one thread), loaded only when a reader presses a button.

Each export is cached next to the build by the checkpoint's SHA-256, so an unchanged
weight file is not exported again. :func:`onnx_logits` runs an exported file with the
Python ``onnxruntime``: the parity tests compare it with torch's logits.
"""

from __future__ import annotations

import hashlib
import json
import logging
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch

from explainer import reasoning
from explainer.data import data_path
from explainer.gpt import GPT

__all__ = ["MANIFEST", "PANEL_REASONERS", "export_gpt", "export_reasoners", "onnx_logits"]

MANIFEST = "models.json"
MAX_BATCH = 64  # rows one call may decode together (the page samples at most 16)
# the reasoners a reader can pick in the page (the GRPO model first: the default)
PANEL_REASONERS = ("grpo", "cot", "direct", "base", "student_distill", "student_grpo")
_LABELS = {"grpo": "after reinforcement learning (GRPO)", "cot": "trained with scratchpads",
           "direct": "trained on answers only", "base": "before reinforcement learning",
           "student_distill": "small model, distilled", "student_grpo": "small model, GRPO"}


class _Logits(torch.nn.Module):
    """``GPT`` with a plain ``idx -> logits`` signature for the exporter."""

    def __init__(self, model: GPT):
        super().__init__()
        self.model = model

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        return self.model(idx)


def export_gpt(model: GPT, path: str | Path) -> Path:
    """Write ``model`` (eval mode, CPU) as ONNX: ``idx (batch, T) -> logits (batch, T, vocab)``.

    Args:
        model: a :class:`explainer.gpt.GPT` (dense feed-forward).
        path: the ``.onnx`` file to write (weights inside the file).

    Returns:
        ``path`` as a :class:`~pathlib.Path`.

    Raises:
        ValueError: if ``model`` is not a GPT or ``path`` does not end in ``.onnx``.
    """
    if not isinstance(model, GPT):
        raise ValueError(f"model must be an explainer.gpt.GPT, got {type(model).__name__}")
    path = Path(path)
    if path.suffix != ".onnx":
        raise ValueError(f"path must end in .onnx, got {str(path)!r}")
    model = model.cpu().eval()
    block = model.config.block_size
    example = torch.zeros((2, min(4, block)), dtype=torch.long)
    batch = torch.export.Dim("batch", min=1, max=MAX_BATCH)
    T = torch.export.Dim("T", min=2, max=block)
    path.parent.mkdir(parents=True, exist_ok=True)
    quiet = [logging.getLogger(n) for n in ("torch.onnx", "onnxscript", "torch.export")]
    levels = [q.level for q in quiet]
    for q in quiet:
        q.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")
            torch.onnx.export(_Logits(model), (example,), str(path), input_names=["idx"],
                              output_names=["logits"], dynamic_shapes={"idx": {0: batch, 1: T}},
                              dynamo=True, opset_version=18, external_data=False, verbose=False)
    finally:
        for q, lv in zip(quiet, levels):
            q.setLevel(lv)
    return path


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def export_reasoners(out_dir: str | Path, names: tuple[str, ...] = PANEL_REASONERS) -> dict[str, Any]:
    """Export the named reasoners into ``out_dir`` and write its ``models.json``.

    A file whose checkpoint has not changed since the last export (the same SHA-256 as
    recorded in the folder's ``models.json``) is reused.

    Args:
        out_dir: a folder (created if needed).
        names: models from :data:`explainer.reasoning.PRETRAINED`.

    Returns:
        the manifest: ``{"reasoners": {name: {...}}}`` with each model's file, label,
        vocabulary, format, operand width, prompt and completion lengths, and bytes.

    Raises:
        ValueError: if a name is not a shipped reasoner.
    """
    bad = [n for n in names if n not in reasoning.PRETRAINED]
    if not names or bad:
        raise ValueError(f"names must be shipped reasoners {reasoning.PRETRAINED}, got {bad or names}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    entries: dict[str, Any] = {}
    try:
        before = json.loads((out / MANIFEST).read_text())["reasoners"]
    except (OSError, ValueError, KeyError):
        before = {}
    for name in names:
        weights = data_path("weights", reasoning._WEIGHTS[name])
        onnx_path = out / f"reasoner_{name}.onnx"
        digest = _sha256(Path(weights))
        r = reasoning.load_pretrained(name)
        if not (onnx_path.exists() and before.get(name, {}).get("weights_sha256") == digest):
            export_gpt(r.model, onnx_path)
        cfg = r.config
        entries[name] = {"file": onnx_path.name, "label": _LABELS.get(name, name),
                         "vocab": reasoning.VOCAB, "fmt": cfg.fmt, "max_digits": cfg.max_digits,
                         "prompt_len": cfg.prompt_len, "completion_len": cfg.completion_len,
                         "block_size": cfg.block_size, "bytes": onnx_path.stat().st_size,
                         "weights_sha256": digest}
    manifest = {"reasoners": entries}
    (out / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True))
    return manifest


def onnx_logits(path: str | Path, idx: torch.Tensor | np.ndarray) -> np.ndarray:
    """Run an exported file with the Python ``onnxruntime`` (CPU, one thread).

    Args:
        path: a file written by :func:`export_gpt`.
        idx: token ids ``(batch, T)``.

    Returns:
        logits ``(batch, T, vocab)`` as float32.
    """
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    ids = np.asarray(idx, dtype=np.int64)
    if ids.ndim != 2:
        raise ValueError(f"idx must be 2-D (batch, T), got shape {ids.shape}")
    return session.run(["logits"], {"idx": ids})[0]
