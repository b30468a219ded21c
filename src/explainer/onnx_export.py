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
import torch.nn.functional as F

from explainer import reasoning
from explainer.data import data_path
from explainer.gpt import GPT

__all__ = ["MANIFEST", "PANEL_LABELS", "PANEL_REASONERS", "export_all", "export_gpt", "export_moe", "export_mtp",
           "export_reasoners", "export_run", "onnx_logits"]

MANIFEST = "models.json"
MAX_BATCH = 64  # rows one call may decode together (the page samples at most 16)
# the reasoners a reader can pick in the page (the GRPO model first: the default)
PANEL_REASONERS = ("grpo", "cot", "direct", "base", "student_distill", "student_grpo")
# what the page calls each reasoner in its model menu
PANEL_LABELS = {"grpo": "after reinforcement learning (GRPO)", "cot": "trained with scratchpads",
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
    _export(_Logits(model), (example,), path, (["idx"], ["logits"]), {"idx": {0: batch, 1: T}})
    return path


class _MainWithHidden(torch.nn.Module):
    """An MTP model's main model: ``idx -> (logits, hidden)`` (hidden: last block, before ``ln_f``)."""

    def __init__(self, model: GPT):
        super().__init__()
        self.model = model

    def forward(self, idx: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.model(idx, return_hidden=True)


class _Draft(torch.nn.Module):
    """MTP module 1 with the shared embedding and output head (V3 §2.2, eq. 21-23):
    ``(hidden h_j, next ids t_{j+1}) -> logits for t_{j+2}``, at every position j."""

    def __init__(self, lm: Any):
        super().__init__()
        self.gpt, self.module = lm.gpt, lm.mtp[0]

    def forward(self, hidden: torch.Tensor, next_ids: torch.Tensor) -> torch.Tensor:
        h1, _ = self.module(hidden, self.gpt.transformer.wte(next_ids))  # (B, T, d)
        return self.gpt.output_head(h1)  # (B, T, vocab)


def _export(module: torch.nn.Module, args: tuple, path: Path, names: tuple[list, list],
            dynamic: dict) -> None:
    quiet = [logging.getLogger(n) for n in ("torch.onnx", "onnxscript", "torch.export")]
    levels = [q.level for q in quiet]
    for q in quiet:
        q.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")
            torch.onnx.export(module.eval(), args, str(path), input_names=names[0],
                              output_names=names[1], dynamic_shapes=dynamic, dynamo=True,
                              opset_version=18, external_data=False, verbose=False)
    finally:
        for q, lv in zip(quiet, levels):
            q.setLevel(lv)


def export_mtp(out_dir: str | Path, name: str = "mtp") -> dict[str, Any]:
    """Export an MTP model for the page's speculative decoding: its main model
    (``idx -> logits, hidden``) and MTP module 1 (``hidden, next_ids -> draft logits``).

    Args:
        out_dir: a folder (created if needed).
        name: a shipped MTP model trained with MTP (``"mtp"``).

    Returns:
        the model's manifest entry (files, vocabulary, context length, bytes).

    Raises:
        ValueError: if ``name`` is not a shipped model with an MTP module.
    """
    from explainer import mtp

    if name not in mtp.PRETRAINED or name == "plain":
        raise ValueError(f"name must be an MTP model among {sorted(set(mtp.PRETRAINED) - {'plain'})}, "
                         f"got {name!r}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    lm = mtp.load_pretrained(name)
    cfg = lm.gpt.config
    main_path, draft_path = out / f"mtp_{name}_main.onnx", out / f"mtp_{name}_draft.onnx"
    batch = torch.export.Dim("batch", min=1, max=MAX_BATCH)
    T = torch.export.Dim("T", min=2, max=cfg.block_size)
    example = torch.zeros((2, 4), dtype=torch.long)
    _export(_MainWithHidden(lm.gpt), (example,), main_path, (["idx"], ["logits", "hidden"]),
            {"idx": {0: batch, 1: T}})
    hidden = torch.zeros((2, 4, cfg.n_embd))
    _export(_Draft(lm), (hidden, example), draft_path, (["hidden", "next_ids"], ["logits"]),
            {"hidden": {0: batch, 1: T}, "next_ids": {0: batch, 1: T}})
    return {"main": main_path.name, "draft": draft_path.name, "vocab": cfg.vocab,
            "block_size": cfg.block_size, "n_embd": cfg.n_embd,
            "bytes": main_path.stat().st_size + draft_path.stat().st_size}


class _Routing(torch.nn.Module):
    """An MoE character model (:mod:`explainer.moe_lm`): ``idx (1, T) -> experts (layers, T, k),
    weights (layers, T, k)``, the routing of :func:`explainer.moe.route` in every layer.

    The routed experts are summed densely (every expert on every character, weighted by the
    gate: zero for experts not chosen), which equals the model's grouped dispatch
    (:func:`explainer.moe.dispatch_grouped`) and exports without data-dependent shapes.
    """

    def __init__(self, model: GPT):
        super().__init__()
        self.model = model

    def forward(self, idx: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        from explainer import moe

        t = self.model.transformer
        T = idx.shape[1]
        x = t.wte(idx) + t.wpe(torch.arange(T))  # (1, T, d)
        experts, weights = [], []
        for block in t.h:
            a, _ = block.attn(block.ln_1(x))
            x = x + a
            h = block.ln_2(x)[0]  # (T, d)
            m = block.ffn
            c = m.config
            w, i = moe._route(m.gate(h), **moe.gate_args(c),  # unchecked: traceable
                              bias=m.expert_bias if c.balance in moe.BIAS_MODES else None)
            dense = torch.zeros(T, c.n_routed_experts).scatter(1, i, w)  # (T, E)
            hidden = torch.einsum("td,edf->etf", h, m.w1)  # (E, T, inter)
            gated = F.silu(hidden) * torch.einsum("td,edf->etf", h, m.w3)
            y = torch.einsum("etf,efd,te->td", gated, m.w2, dense)  # (T, d)
            if m.shared is not None:
                s = m.shared
                y = y + s["w2"](F.silu(s["w1"](h)) * s["w3"](h))
            x = x + y[None]
            experts.append(i)
            weights.append(w)
        return torch.stack(experts), torch.stack(weights)  # (layers, T, k) each


def export_moe(out_dir: str | Path, run: str) -> dict[str, Any]:
    """Export one MoE character model's routing (:class:`_Routing`) for the experts panel.

    Args:
        out_dir: a folder (created if needed).
        run: a balancing run of :data:`explainer.moe.BALANCE_RUNS`.

    Returns:
        its manifest entry (file, label, vocabulary, context, experts, top-k, bytes).

    Raises:
        ValueError: if ``run`` is not a shipped run.
    """
    from explainer import moe, moe_lm

    if run not in moe.BALANCE_RUNS:
        raise ValueError(f"run must be one of {moe.BALANCE_RUNS}, got {run!r}")
    model = moe_lm.load(data_path("weights", f"moe_{run}.pt")).eval()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"moe_{run}.onnx"
    T = torch.export.Dim("T", min=2, max=model.config.block_size)
    _export(_Routing(model), (torch.zeros((1, 4), dtype=torch.long),), path,
            (["idx"], ["experts", "weights"]), {"idx": {1: T}})
    c = model.config.moe
    return {"file": path.name, "label": moe.RUN_LABELS[run], "vocab": model.config.vocab,
            "block_size": model.config.block_size, "n_experts": c.n_routed_experts,
            "top_k": c.n_activated_experts, "n_layer": model.config.n_layer,
            "bytes": path.stat().st_size}


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
    before = _previous(out).get("reasoners", {})
    for name in names:
        weights = data_path("weights", reasoning._WEIGHTS[name])
        onnx_path = out / f"reasoner_{name}.onnx"
        digest = _sha256(Path(weights))
        r = reasoning.load_pretrained(name)
        if not (onnx_path.exists() and before.get(name, {}).get("weights_sha256") == digest):
            export_gpt(r.model, onnx_path)
        cfg = r.config
        entries[name] = {"file": onnx_path.name, "label": PANEL_LABELS.get(name, name),
                         "vocab": reasoning.VOCAB, "fmt": cfg.fmt, "max_digits": cfg.max_digits,
                         "prompt_len": cfg.prompt_len, "completion_len": cfg.completion_len,
                         "block_size": cfg.block_size, "bytes": onnx_path.stat().st_size,
                         "weights_sha256": digest}
    manifest = {"reasoners": entries}
    (out / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True))
    return manifest


def export_run(out_dir: str | Path, reasoners: dict[str, Any],
               before: dict[str, Any] | None = None) -> dict[str, Any]:
    """The shipped GRPO run at each of :data:`explainer.grpo.RUN_CHECKPOINTS`, for the
    "learning to think" panel: step 0 and the last step reuse the ``base`` and ``grpo``
    exports in ``reasoners`` (from :func:`export_reasoners`); the steps between are exported
    into ``out_dir`` as ``grpo_step_NNN.onnx`` (reused while their checkpoint is unchanged).

    Args:
        out_dir: a folder (created if needed).
        reasoners: the ``reasoners`` part of the manifest.
        before: the ``run`` part of the folder's previous manifest (read from its
            ``models.json`` when not given; :func:`export_all` reads it before
            :func:`export_reasoners` rewrites that file).

    Returns:
        ``{"steps": [...], "checkpoints": {step: {"file", "bytes", "weights_sha256"}}}``.

    Raises:
        ValueError: if ``reasoners`` lacks the ``base`` or ``grpo`` export.
    """
    from explainer import grpo

    missing = [n for n in ("base", "grpo") if n not in reasoners]
    if missing:
        raise ValueError(f"reasoners must hold the base and grpo exports, missing {missing}")
    out = Path(out_dir)
    if before is None:
        before = _previous(out).get("run", {})
    try:
        before = dict(before["checkpoints"])
    except (KeyError, TypeError, ValueError):
        before = {}
    checkpoints: dict[str, Any] = {}
    for step in grpo.RUN_CHECKPOINTS:
        ends = {0: "base", grpo.STEPS: "grpo"}
        if step in ends:
            r = reasoners[ends[step]]
            checkpoints[str(step)] = {k: r[k] for k in ("file", "bytes", "weights_sha256")}
            continue
        weights = Path(data_path("weights", "grpo_run", f"step_{step:03d}.pt"))
        digest = _sha256(weights)
        onnx_path = out / f"grpo_step_{step:03d}.onnx"
        if not (onnx_path.exists() and before.get(str(step), {}).get("weights_sha256") == digest):
            export_gpt(grpo.load_checkpoint(step).model, onnx_path)
        checkpoints[str(step)] = {"file": onnx_path.name, "bytes": onnx_path.stat().st_size,
                                  "weights_sha256": digest}
    return {"steps": list(grpo.RUN_CHECKPOINTS), "checkpoints": checkpoints}


def _previous(out: Path) -> dict[str, Any]:
    """The folder's last ``models.json`` (empty if there is none or it cannot be read)."""
    try:
        manifest = json.loads((out / MANIFEST).read_text())
    except (OSError, ValueError):
        return {}
    return manifest if isinstance(manifest, dict) else {}


def export_all(out_dir: str | Path) -> dict[str, Any]:
    """Every panel model: the reasoners (:func:`export_reasoners`), the GRPO run's checkpoints
    (:func:`export_run`), the MoE character models' routing (:func:`export_moe`) and the
    depth-1 MTP model (:func:`export_mtp`), with one ``models.json``; unchanged checkpoints
    are not re-exported.

    Args:
        out_dir: a folder (created if needed).

    Returns:
        the manifest: ``{"reasoners": {...}, "run": {...}, "moe": {run: {...}},
        "mtp": {"mtp": {...}}}``.
    """
    from explainer import mtp

    out = Path(out_dir)
    previous = _previous(out)  # read before export_reasoners rewrites models.json
    before, before_moe = previous.get("mtp", {}), previous.get("moe", {})
    manifest = export_reasoners(out)
    manifest["run"] = export_run(out, manifest["reasoners"], before=previous.get("run", {}))
    manifest["moe"] = {}
    from explainer import moe

    for run in moe.BALANCE_RUNS:
        digest = _sha256(Path(data_path("weights", f"moe_{run}.pt")))
        old = before_moe.get(run, {})
        if old.get("weights_sha256") == digest and (out / old.get("file", "-")).exists():
            manifest["moe"][run] = old
        else:
            manifest["moe"][run] = {**export_moe(out, run), "weights_sha256": digest}
    manifest["mtp"] = {}
    for name in ("mtp",):
        digest = _sha256(Path(data_path("weights", mtp.PRETRAINED[name])))
        old = before.get(name, {})
        if old.get("weights_sha256") == digest and all(
                (out / old[k]).exists() for k in ("main", "draft")):
            manifest["mtp"][name] = old
        else:
            manifest["mtp"][name] = {**export_mtp(out, name), "weights_sha256": digest}
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
