"""Convert the shipped weights to the explainer.gpt checkpoint format (run once).

Before ``explainer.gpt`` existed, ``explainer.reasoning`` and ``explainer.moe_lm``
each had their own transformer and file layout:

* ``reasoner_*.pt``: ``{"config": ReasonerConfig, "meta": training record,
  "state_dict"}`` with keys ``wte``, ``wpe``, ``blocks.i.{ln_1, attn.c_attn,
  attn.c_proj, ln_2, mlp.0, mlp.2}``, ``ln_f`` (output head tied to ``wte``);
* ``moe_*.pt``: ``{"config": LMConfig, "state_dict"}`` with keys ``tok``, ``pos``,
  ``blocks.i.{ln1, ln2, qkv, proj, moe.*}``, ``ln_f``, ``head``.

This script renames the keys to :class:`explainer.gpt.GPT`'s (nanoGPT names:
``transformer.wte``, ``transformer.h.i.attn.c_attn``, ``...ffn...``, ``lm_head``),
writes the :class:`explainer.gpt.GPTConfig` and a ``meta`` dict, and keeps every
tensor exactly as stored (float16), so the converted models compute the same
numbers. Files already converted are left alone. Usage:

    .venv/bin/python scripts/convert_weights.py [FILES...]   # default: data/weights/*.pt
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import torch

from explainer import gpt
from explainer.data import DATA_DIR
from explainer.moe import MoEConfig
from explainer.moe_lm import lm_config
from explainer.reasoning import ReasonerConfig

_REASONER_KEYS = [  # (old pattern, new name)
    (r"^wte\.", "transformer.wte."),
    (r"^wpe\.", "transformer.wpe."),
    (r"^ln_f\.", "transformer.ln_f."),
    (r"^blocks\.(\d+)\.mlp\.0\.", r"transformer.h.\1.ffn.c_fc."),
    (r"^blocks\.(\d+)\.mlp\.2\.", r"transformer.h.\1.ffn.c_proj."),
    (r"^blocks\.(\d+)\.", r"transformer.h.\1."),  # ln_1, attn.c_attn, attn.c_proj, ln_2
]
_MOE_KEYS = [
    (r"^tok\.", "transformer.wte."),
    (r"^pos\.", "transformer.wpe."),
    (r"^ln_f\.", "transformer.ln_f."),
    (r"^head\.", "lm_head."),
    (r"^blocks\.(\d+)\.ln1\.", r"transformer.h.\1.ln_1."),
    (r"^blocks\.(\d+)\.ln2\.", r"transformer.h.\1.ln_2."),
    (r"^blocks\.(\d+)\.qkv\.", r"transformer.h.\1.attn.c_attn."),
    (r"^blocks\.(\d+)\.proj\.", r"transformer.h.\1.attn.c_proj."),
    (r"^blocks\.(\d+)\.moe\.", r"transformer.h.\1.ffn."),
]


def _rename(state: dict, rules: list[tuple[str, str]]) -> dict:
    out = {}
    for key, value in state.items():
        for pattern, repl in rules:
            new, n = re.subn(pattern, repl, key)
            if n:
                break
        else:
            raise ValueError(f"no rule for key {key!r}")
        out[new] = value
    return out


def convert(path: Path) -> str:
    """Convert one file in place; returns what was done."""
    blob = torch.load(path, map_location="cpu", weights_only=True)
    if blob.get("format") is not None:
        return "already converted"
    if "moe" in blob["config"]:  # the MoE LM
        old = dict(blob["config"])
        config = lm_config(old["vocab"], MoEConfig(**old["moe"]), block_size=old["block_size"],
                           n_layers=old["n_layers"], n_heads=old["n_heads"])
        state, meta = _rename(blob["state_dict"], _MOE_KEYS), dict(blob.get("meta", {}))
    else:  # a reasoner
        task = ReasonerConfig(**blob["config"])
        config = task.gpt_config()
        state = _rename(blob["state_dict"], _REASONER_KEYS)
        meta = {"reasoner": dict(blob["config"]), "train": dict(blob.get("meta", {}))}
    model = gpt.GPT(config)
    model.load_state_dict({k: v.float() for k, v in state.items()})  # strict: every key matches
    torch.save({"format": gpt._FORMAT, "config": config.to_dict(), "meta": meta,
                "state_dict": state}, path)  # the stored float16 tensors, unchanged
    return f"converted ({len(state)} tensors)"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", type=Path)
    args = parser.parse_args(argv)
    files = args.files or sorted((DATA_DIR / "weights").glob("*.pt"))
    for path in files:
        print(f"{path.name}: {convert(path)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
