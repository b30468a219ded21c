"""Reasoning: a toy transformer that adds numbers, with and without thinking out loud.

What it teaches: a model that writes its intermediate steps (a *chain of thought*)
before the answer solves problems that the same model, trained on the same budget,
gets wrong when it must answer straight away; and sampling several answers and
voting (R1's "cons@64") recovers accuracy that single samples lose.

The model is the book's one small GPT (:mod:`explainer.gpt`, in the style of
nanoGPT): a tiny character-level decoder-only transformer with learned absolute
position embeddings, pre-LayerNorm blocks, causal self-attention, a GELU MLP and
tied input and output embeddings, decoded in batches with a key/value cache
(:func:`explainer.gpt.generate`). This module adds the task: the formats, the
problems, the metrics, training, and :class:`Reasoner` to ask it questions.

The task is multi-digit addition, in two formats with the same model size and
training budget (both operands are zero-padded to ``max_digits`` columns, like a
schoolchild lining up the columns before adding):

* ``"direct"`` (answer only)::

      00123+00456=000579.

* ``"cot"`` (a scratchpad of per-column sums, least-significant column first,
  each step ``a+b+carry_in=two-digit sum``, then ``>`` and the answer)::

      00123+00456=3+6+0=09;2+5+0=07;1+4+0=05;0+0+0=00;0+0+0=00>000579.

A third model format, ``"mixed"``, is one model trained on both: each training
example is a scratchpad example with probability ``cot_share`` (the minority) and a
direct one otherwise; it writes either and :func:`parse_answer` reads either. That
is the "base" model the reinforcement-learning chapter starts from
(:mod:`explainer.grpo`): it has seen the scratchpad, like R1's "cold start" data,
but rarely chooses it.

The scratchpad is the "reasoning format" idea of Nye et al. 2021 ("Show your work:
scratchpads for intermediate computation", arXiv 2112.00114) and of Lee et al. 2023
("Teaching arithmetic to small transformers", arXiv 2307.03381). ``pass_at_k`` is
the unbiased estimator of Chen et al. 2021 (Codex, arXiv 2107.03374);
``majority_vote`` is the consensus (cons@k) metric of the DeepSeek-R1 paper
(arXiv 2501.12948, Table 2).
"""

from __future__ import annotations

import math
import numbers
import re
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import torch
import torch.nn.functional as F

from explainer import gpt
from explainer.checks import check_device, check_int, check_number, check_seed, check_text
from explainer.gpt import (
    _MAX_EMBD,
    _MAX_HEADS,
    _MAX_LAYERS,
    GPT,
    CharTokenizer,
    GPTConfig,
    _check_model,
)

__all__ = [
    "FORMATS",
    "MAX_DIGITS",
    "MIXED",
    "MODEL_FORMATS",
    "PRETRAINED",
    "TEMPERATURES",
    "VOCAB",
    "Reasoner",
    "ReasonerConfig",
    "TrainResult",
    "accuracy",
    "count_carries",
    "decode",
    "encode",
    "format_example",
    "load_pretrained",
    "majority_vote",
    "make_problems",
    "parse_answer",
    "pass_at_k",
    "train",
    "uses_scratchpad",
]

FORMATS = ("direct", "cot")
MIXED = "mixed"  # a model trained on a mixture of both formats (writes either)
MODEL_FORMATS = (*FORMATS, MIXED)
# sampling temperatures of the shipped sampling results (data/reasoning_results.csv)
TEMPERATURES = (0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0)
MAX_DIGITS = 5  # the operand width the shipped models were trained on
VOCAB = "0123456789+=;>."  # character-level: digits, operators, step separator, answer marker, end
_TOKENIZER = CharTokenizer(VOCAB)
_END = _TOKENIZER.stoi["."]
_PROBLEM_RE = re.compile(r"^(\d+)\+(\d+)$")
_WEIGHTS = {"direct": "reasoner_direct.pt", "cot": "reasoner_cot.pt",
            "base": "reasoner_base.pt", "grpo": "reasoner_grpo.pt",
            "student_base": "reasoner_student_base.pt",
            "student_distill": "reasoner_student_distill.pt",
            "student_grpo": "reasoner_student_grpo.pt",
            "student_direct_base": "reasoner_student_direct_base.pt",
            "student_direct_distill": "reasoner_student_direct_distill.pt",
            "student_direct_grpo": "reasoner_student_direct_grpo.pt"}
PRETRAINED = tuple(_WEIGHTS)  # names load_pretrained knows

# caps on sizes that allocate or loop: a value past them is a typo, not an experiment
_MAX_WIDTH = 18  # operand digits: sums stay below 2**63 (the training operands are int64)
_MAX_SAMPLES = 1024  # answers per problem (the book samples at most 64)
_MAX_ROWS = 2**20  # problems x samples decoded by one call (the book decodes at most 12,800)
_MAX_BATCH = 2**16  # rows decoded together, or problems per training step
_MAX_PROBLEMS = 2**20  # make_problems(n)
_MAX_PASS_N = 2**16  # pass_at_k's n: math.comb stays fast (the book uses 64)
_MAX_STEPS = 10**6  # training steps (the shipped runs take at most 2,000)
_MAX_SECONDS = 24 * 3600.0  # a training budget of more than a day is a typo


# --------------------------------------------------------------------------- text


def encode(text: str) -> list[int]:
    """Token ids of ``text`` as a list of ints, one per character of :data:`VOCAB`.

    The book's one convention (:class:`explainer.gpt.CharTokenizer`).

    Raises:
        ValueError: ``text`` has a character outside :data:`VOCAB`.
    """
    return _TOKENIZER.encode(text)


def decode(ids: Sequence[int]) -> str:
    """Text of token ``ids`` (inverse of :func:`encode`)."""
    return _TOKENIZER.decode(ids)


def _check_fmt(fmt: str, allowed: tuple[str, ...] = FORMATS) -> None:
    if fmt not in allowed:
        raise ValueError(f"fmt must be one of {allowed}, got {fmt!r}")


def _parse_problem(problem: str, max_digits: int) -> tuple[int, int]:
    """Operands of ``"a+b"``, checking the form and the width."""
    m = _PROBLEM_RE.match(problem) if isinstance(problem, str) else None
    if m is None:
        raise ValueError(f"problem must look like '123+456' (digits, '+', digits), got {problem!r}")
    if max(len(m.group(1)), len(m.group(2))) > max_digits:
        raise ValueError(
            f"problem {problem!r}: operands must have 1 to {max_digits} digits (the trained range)"
        )
    return int(m.group(1)), int(m.group(2))


def _is_list(value: Any) -> bool:
    """A list, tuple, array or Series (not a string, a mapping or a number)."""
    return (not isinstance(value, (str, bytes, Mapping)) and hasattr(value, "__len__")
            and hasattr(value, "__iter__"))


def _check_problems(problems: Any, max_digits: int, *, single: bool = False) -> list[str]:
    """A non-empty list of ``"a+b"`` strings of at most ``max_digits`` digits (``single``: a
    lone string stands for a list of one); ValueError naming ``problems`` and the bad one."""
    if single and isinstance(problems, str):
        problems = [problems]
    if not _is_list(problems) or not len(problems):
        raise ValueError(f"problems must be a non-empty list of 'a+b' strings, got {problems!r}")
    for i, p in enumerate(problems):
        try:
            _parse_problem(p, max_digits)
        except ValueError as exc:
            raise ValueError(f"problems[{i}]: {exc}") from None
    return list(problems)


def _check_device(device: Any) -> torch.device:
    """A ``torch.device`` this machine has (ValueError naming ``device``)."""
    return check_device("device", device)


def _check_reasoner(name: str, value: Any) -> None:
    if not isinstance(value, Reasoner):
        raise ValueError(f"{name} must be an explainer.reasoning.Reasoner, got "
                         f"{type(value).__name__}")


def _prompt(a: int, b: int, max_digits: int) -> str:
    return f"{a:0{max_digits}d}+{b:0{max_digits}d}="


def _completion(a: int, b: int, fmt: str, max_digits: int) -> str:
    answer = f"{a + b:0{max_digits + 1}d}."
    if fmt == "direct":
        return answer
    steps, carry = [], 0
    for i in range(max_digits):  # column i, least-significant first
        da, db = (a // 10**i) % 10, (b // 10**i) % 10
        s = da + db + carry
        steps.append(f"{da}+{db}+{carry}={s:02d}")
        carry = s // 10
    return ";".join(steps) + ">" + answer


def format_example(problem: str, fmt: str, *, max_digits: int = MAX_DIGITS) -> str:
    """The full training text for ``problem``: padded prompt, then the target completion.

    Args:
        problem: ``"a+b"`` with operands of 1 to ``max_digits`` digits.
        fmt: ``"direct"`` (answer only) or ``"cot"`` (scratchpad, then answer).
        max_digits: operand width the prompt is padded to, 1 to 18.

    Returns:
        Text such as ``"00123+00456=000579."`` (direct).
    """
    _check_fmt(fmt)
    max_digits = check_int("max_digits", max_digits, 1, _MAX_WIDTH)
    a, b = _parse_problem(problem, max_digits)
    return _prompt(a, b, max_digits) + _completion(a, b, fmt, max_digits)


def parse_answer(text: str, fmt: str) -> int | None:
    """The integer answer in a generated ``text``, or ``None`` if it cannot be parsed.

    ``text`` is what :meth:`Reasoner.generate` returns (prompt included). Direct: the
    digits between ``=`` and the end mark ``.``. CoT: the digits between ``>`` and ``.``.
    Mixed: CoT if the completion has a ``>`` (see :func:`uses_scratchpad`), else direct.
    Never raises on odd text: any string that does not parse gives ``None``.

    Raises:
        ValueError: ``text`` is not a string, or ``fmt`` is not one of :data:`MODEL_FORMATS`.
    """
    _check_fmt(fmt, MODEL_FORMATS)
    check_text("text", text, empty=True)
    head, sep, body = text.partition("=")  # skip the prompt
    if not sep:
        return None
    if fmt == "cot" or (fmt == MIXED and ">" in body):
        _, sep, body = body.partition(">")
        if not sep:
            return None
    answer, end, _ = body.partition(".")
    if not end or not answer.isdigit():
        return None
    return int(answer)


def uses_scratchpad(text: str) -> bool:
    """Whether a generated ``text`` (prompt included) wrote a scratchpad (a ``>`` after ``=``).

    Any string may be asked (``""`` did not); anything else raises ``ValueError``.
    """
    check_text("text", text, empty=True)
    return ">" in text.partition("=")[2]


def make_problems(n: int, *, digits: int, seed: int) -> list[str]:
    """``n`` random addition problems whose operands both have exactly ``digits`` digits.

    Args:
        n: number of problems, 0 to 2**20.
        digits: operand width, 1 to :data:`MAX_DIGITS`.
        seed: seed of the random generator (same seed, same problems), in [0, 2**63 - 1].

    Returns:
        Problem strings such as ``"123+456"``.
    """
    n = check_int("n", n, 0, _MAX_PROBLEMS)
    if isinstance(digits, bool) or not isinstance(digits, int) or not 1 <= digits <= MAX_DIGITS:
        raise ValueError(f"digits must be an integer from 1 to {MAX_DIGITS}, got {digits!r}")
    seed = check_seed("seed", seed)
    g = torch.Generator().manual_seed(seed)
    lo = 0 if digits == 1 else 10 ** (digits - 1)
    ops = torch.randint(lo, 10**digits, (n, 2), generator=g).tolist()
    return [f"{a}+{b}" for a, b in ops]


def count_carries(problem: str) -> int:
    """Number of columns that produce a carry when adding ``problem`` by hand."""
    a, b = _parse_problem(problem, max_digits=10**6)
    carries = carry = 0
    while a or b or carry:
        carry = int(a % 10 + b % 10 + carry >= 10)
        carries += carry
        a, b = a // 10, b // 10
    return carries


# ------------------------------------------------------------------------ metrics


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k: chance that at least one of ``k`` of ``n`` samples is correct.

    Chen et al. 2021, eq. 1: ``1 - C(n - c, k) / C(n, k)`` with ``c`` correct samples.

    Raises:
        ValueError: unless ``1 <= n <= 2**16``, ``0 <= c <= n`` and ``1 <= k <= n`` (ints).
    """
    n = check_int("n", n, 1, _MAX_PASS_N)
    c = check_int("c", c, 0, n)
    k = check_int("k", k, 1, n)
    if n - c < k:
        return 1.0
    return 1.0 - math.comb(n - c, k) / math.comb(n, k)


def majority_vote(answers: Sequence[int | None]) -> int | None:
    """The most common parsed answer (cons@k); ``None`` answers do not vote.

    Ties go to the answer that appeared first; no parsable answer (or none at all) gives
    ``None``.

    Raises:
        ValueError: ``answers`` is not a list of ints and ``None``.
    """
    if not _is_list(answers):
        raise ValueError(f"answers must be a list of ints (or None), got {answers!r}")
    for a in answers:
        if a is not None and (isinstance(a, bool) or not isinstance(a, numbers.Integral)):
            raise ValueError(f"answers must hold ints (or None), got {a!r}")
    counts = Counter(a for a in answers if a is not None)
    if not counts:
        return None
    return counts.most_common(1)[0][0]  # most_common keeps first-seen order among ties


# -------------------------------------------------------------------------- model


@dataclass
class ReasonerConfig:
    """Size and task of a :class:`Reasoner` (small defaults that train on a laptop CPU)."""

    fmt: str = "cot"  # "direct" (answer only), "cot" (scratchpad, then answer) or "mixed"
    max_digits: int = MAX_DIGITS  # operand width the prompt is padded to (1 to 18)
    n_layer: int = 2  # 1 to 1024, as GPTConfig
    n_head: int = 4  # 1 to 1024
    n_embd: int = 64  # 1 to 2**16, a multiple of n_head

    def __post_init__(self) -> None:
        _check_fmt(self.fmt, MODEL_FORMATS)
        for name, most in (("max_digits", _MAX_WIDTH), ("n_layer", _MAX_LAYERS),
                           ("n_head", _MAX_HEADS), ("n_embd", _MAX_EMBD)):
            setattr(self, name, check_int(name, getattr(self, name), 1, most))
        if self.n_embd % self.n_head:
            raise ValueError(f"n_embd ({self.n_embd}) must be a multiple of n_head ({self.n_head})")

    @property
    def prompt_len(self) -> int:
        """Characters in a padded prompt ``"00123+00456="``."""
        return 2 * self.max_digits + 2

    @property
    def completion_len(self) -> int:
        """Characters the model writes after the prompt (end mark included)."""
        longest = "cot" if self.fmt == MIXED else self.fmt  # mixed: room for a scratchpad
        return len(_completion(0, 0, longest, self.max_digits))

    @property
    def block_size(self) -> int:
        """Longest input the model reads (whole example minus its last character)."""
        return self.prompt_len + self.completion_len - 1

    def gpt_config(self) -> GPTConfig:
        """The :class:`explainer.gpt.GPTConfig` of the model: dense, biased, tied embeddings."""
        return GPTConfig(vocab_size=len(VOCAB), block_size=self.block_size, n_layer=self.n_layer,
                         n_head=self.n_head, n_embd=self.n_embd, vocab=VOCAB)


# ------------------------------------------------------------------------ reasoner


@contextmanager
def _cpu_threads(n: int, device: torch.device) -> Iterator[None]:
    """Run with ``n`` CPU threads (decoding this tiny model is no faster with more,
    and one thread does not stall when other processes share the cores)."""
    old = torch.get_num_threads()
    if device.type == "cpu":
        torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(old)


class Reasoner:
    """A trained toy model plus the code to ask it addition problems.

    Args:
        model: the transformer (see :func:`load_pretrained`, :func:`train`).
        config: the task and size it was built for (``config.gpt_config()`` must
            match ``model.config``).
        device: where to run it (``"cpu"`` by default, ``"cuda"`` when asked).
    """

    def __init__(self, model: GPT, config: ReasonerConfig, *, device: str | torch.device = "cpu"):
        _check_model(model)
        if not isinstance(config, ReasonerConfig):
            raise ValueError(f"config must be an explainer.reasoning.ReasonerConfig, got "
                             f"{type(config).__name__}")
        device = _check_device(device)
        if model.config != config.gpt_config():
            raise ValueError(f"model.config {model.config} does not match config "
                             f"{config} (expected {config.gpt_config()})")
        self.device = device
        self.model = model.to(self.device).eval()
        self.config = config
        self.meta: dict[str, Any] = {}  # how it was trained (saved with the weights)

    @property
    def fmt(self) -> str:
        """``"direct"``, ``"cot"`` or ``"mixed"``."""
        return self.config.fmt

    def __repr__(self) -> str:
        n = sum(p.numel() for p in self.model.parameters())
        return f"Reasoner(fmt={self.fmt!r}, params={n:,}, {self.config})"

    def _check(self, problems: Sequence[str], temperature: float, samples: int,
               seed: int | None) -> list[str]:
        problems = _check_problems(problems, self.config.max_digits, single=True)
        check_number("temperature", temperature, 0)
        samples = check_int("samples", samples, 1, _MAX_SAMPLES)
        if len(problems) * samples > _MAX_ROWS:
            raise ValueError(f"samples x len(problems) must be at most {_MAX_ROWS}, got "
                             f"{samples} x {len(problems)}")
        if seed is not None:
            check_seed("seed", seed)
        return problems

    def generate(
        self,
        problems: Sequence[str],
        *,
        temperature: float = 0.0,
        samples: int = 1,
        seed: int | None = None,
        batch_size: int = 4096,
    ) -> list[list[str]]:
        """Raw generated text, reasoning trace included, ``samples`` per problem.

        Args:
            problems: a non-empty list of strings ``"a+b"`` with operands of 1 to
                ``config.max_digits`` digits (one string stands for a list of one).
            temperature: 0 for greedy decoding; > 0 (finite) samples from
                softmax(logits / temperature).
            samples: completions per problem, 1 to 1024 (and at most 2**20 rows in all).
            seed: seed for sampling (same seed, same text), in [0, 2**63 - 1]; ``None`` for
                fresh randomness.
            batch_size: rows decoded together (memory vs speed), 1 to 2**16.

        Returns:
            For each problem, a list of ``samples`` texts: the padded prompt, then what
            the model wrote up to and including its end mark ``.``.
        """
        problems = self._check(problems, temperature, samples, seed)
        batch_size = check_int("batch_size", batch_size, 1, _MAX_BATCH)
        cfg = self.config
        prompts = [_prompt(*_parse_problem(p, cfg.max_digits), cfg.max_digits) for p in problems]
        rows = [encode(p) for p in prompts for _ in range(samples)]  # problem-major
        gen = None
        if temperature > 0:
            gen = torch.Generator()
            gen.manual_seed(seed) if seed is not None else gen.seed()
        texts: list[str] = []
        for i in range(0, len(rows), batch_size):
            idx = torch.tensor(rows[i : i + batch_size], dtype=torch.long, device=self.device)
            with _cpu_threads(1, self.device):
                comp = gpt.generate(
                    self.model, idx, cfg.completion_len, temperature=float(temperature),
                    generator=gen, stop_token=_END,
                ).tolist()  # (rows, <= completion_len); finished rows padded with '.'
            for prompt_ids, c in zip(rows[i : i + batch_size], comp):
                text = decode(c)
                end = text.find(".")
                texts.append(decode(prompt_ids) + (text[: end + 1] if end >= 0 else text))
        return [texts[j * samples : (j + 1) * samples] for j in range(len(problems))]

    def solve(
        self,
        problems: Sequence[str],
        *,
        temperature: float = 0.0,
        samples: int = 1,
        seed: int | None = None,
    ) -> list[list[int | None]]:
        """Parsed integer answers, ``samples`` per problem (``None`` where unparsable).

        Args:
            problems: strings ``"a+b"`` with operands of 1 to ``config.max_digits`` digits.
            temperature: 0 for greedy decoding; > 0 (finite) to sample.
            samples: answers per problem, 1 to 1024.
            seed: seed for sampling (same seed, same answers).

        Returns:
            A list (one per problem) of lists of ``samples`` answers.
        """
        texts = self.generate(problems, temperature=temperature, samples=samples, seed=seed)
        return [[parse_answer(t, self.fmt) for t in row] for row in texts]

    def save(self, path: str | Path) -> None:
        """Save config + fp16 weights in one small file (what :func:`load_pretrained` reads).

        An :func:`explainer.gpt.save` checkpoint whose ``meta`` holds the task
        (``meta["reasoner"]``, a :class:`ReasonerConfig`) and the training record.
        """
        gpt.save(self.model, path, meta={"reasoner": asdict(self.config), "train": self.meta})

    @classmethod
    def load(cls, path: str | Path, *, device: str | torch.device = "cpu") -> Reasoner:
        """Load a file written by :meth:`save`."""
        model, meta = gpt.load(path)
        reasoner = cls(model, ReasonerConfig(**meta["reasoner"]), device=device)
        reasoner.meta = dict(meta.get("train", {}))
        return reasoner


def load_pretrained(fmt: str, *, device: str | torch.device = "cpu") -> Reasoner:
    """A shipped model from ``data/weights/``, by name (one of :data:`PRETRAINED`).

    ``"direct"`` and ``"cot"``: the two single-format models of "Thinking out loud".
    ``"base"``: the mixed-format model (scratchpad in a minority of its training
    examples) that reinforcement learning starts from; ``"grpo"``: that model after
    the shipped GRPO run (:mod:`explainer.grpo`). Both mixed models parse either format.
    ``"student_base"``: a smaller model (:data:`explainer.distill.STUDENT`) made by the
    base's recipe; ``"student_distill"`` and ``"student_grpo"``: it after distillation
    from ``"grpo"`` and after GRPO on its own, for the same training time. The three
    ``"student_direct_*"`` models are the same experiment from a student base trained
    on direct answers only (it has never seen a scratchpad).

    No network; takes milliseconds. How the weights were trained: ``data/README.md``.
    """
    _check_fmt(fmt, PRETRAINED)
    device = _check_device(device)
    from explainer.data import data_path

    return Reasoner.load(data_path("weights", _WEIGHTS[fmt]), device=device)


def accuracy(
    reasoner: Reasoner,
    problems: Sequence[str],
    *,
    temperature: float = 0.0,
    seed: int | None = None,
) -> float:
    """Fraction of ``problems`` whose (single) answer is exactly right.

    Raises:
        ValueError: ``reasoner`` is not a :class:`Reasoner`, ``problems`` is empty, a single
            string or holds a problem the model cannot read (a list of ``"a+b"`` is needed),
            or a bad ``temperature`` or ``seed`` (as :meth:`Reasoner.generate`).
    """
    _check_reasoner("reasoner", reasoner)
    problems = _check_problems(problems, reasoner.config.max_digits)
    answers = reasoner.solve(problems, temperature=temperature, seed=seed)
    truth = [sum(_parse_problem(p, reasoner.config.max_digits)) for p in problems]
    return sum(a[0] == t for a, t in zip(answers, truth)) / len(problems)


# ------------------------------------------------------------------------ training


@dataclass
class TrainResult(gpt.TrainResult):
    """What :func:`train` returns: the model, its learning curve and the :class:`Reasoner`.

    ``history`` has one row per logged interval: ``step`` and ``loss`` (mean
    training loss over the interval).
    """

    reasoner: Reasoner

    @property
    def losses(self) -> list[float]:
        """Mean training loss per logged interval."""
        return self.history["loss"].tolist()

    @property
    def logged_steps(self) -> list[int]:
        """The step at the end of each logged interval."""
        return self.history["step"].tolist()


def _random_operands(n: int, max_digits: int, g: torch.Generator) -> torch.Tensor:
    """(n, 2) operands: half uniform over 0..10^D-1, half with a random digit count."""
    width = torch.randint(1, max_digits + 1, (n, 2), generator=g)  # (n, 2) digit counts
    uniform_width = torch.rand(n, 1, generator=g) < 0.5
    width = torch.where(uniform_width, torch.full_like(width, max_digits), width)
    hi = 10**width
    return (torch.rand(n, 2, generator=g) * hi).long().clamp(max=hi - 1)


def _batch(
    fmt: str, max_digits: int, n: int, g: torch.Generator, cot_share: float = 0.0
) -> tuple[torch.Tensor, torch.Tensor]:
    """Inputs ``(n, T)`` and targets ``(n, T)``; prompt and padding positions in targets are -1.

    ``fmt="mixed"``: each row is a CoT example with probability ``cot_share``, else direct;
    direct rows are padded with end marks to the CoT length (the padding is not learned).
    """
    ops = _random_operands(n, max_digits, g).tolist()
    if fmt == MIXED:
        fmts = ["cot" if u < cot_share else "direct" for u in torch.rand(n, generator=g).tolist()]
    else:
        fmts = [fmt] * n
    texts = [_prompt(a, b, max_digits) + _completion(a, b, f, max_digits)
             for (a, b), f in zip(ops, fmts)]
    return _examples(texts, max_digits)


def _examples(texts: Sequence[str], max_digits: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Inputs ``(n, T)`` and targets ``(n, T)`` of whole examples ``prompt + completion``.

    Only the completion is learned: prompt positions and the end-mark padding of
    shorter rows are -1 in the targets. Used by :func:`train` and by distillation
    (:mod:`explainer.distill`), which learns from a teacher's sampled texts.
    """
    width = max(len(t) for t in texts)
    data = torch.tensor([encode(t.ljust(width, ".")) for t in texts], dtype=torch.long)  # (n, T+1)
    x, y = data[:, :-1], data[:, 1:].clone()
    y[:, : 2 * max_digits + 1] = -1  # learn only the completion (after '=')
    lengths = torch.tensor([len(t) for t in texts])  # (n,) true lengths, end mark included
    y[torch.arange(width - 1)[None, :] >= (lengths - 1)[:, None]] = -1  # padding after the end
    return x, y


def _lr_scale(frac: float, warm: float = 0.05) -> float:
    """Learning-rate multiplier at fraction ``frac`` of a run: warm-up, then cosine to 0.1."""
    if frac < warm:
        scale = frac / warm
    else:
        scale = 0.1 + 0.45 * (1 + math.cos(math.pi * (frac - warm) / (1 - warm)))
    return max(scale, 0.01)


def _supervised_step(model: GPT, opt: torch.optim.Optimizer, x: torch.Tensor,
                     y: torch.Tensor) -> float:
    """One next-token cross-entropy step on ``(x, y)`` (targets -1 ignored); returns the loss."""
    device = next(model.parameters()).device
    model.train()
    logits = model(x.to(device))  # (B, T, vocab)
    loss = F.cross_entropy(
        logits.reshape(-1, len(VOCAB)), y.to(device).reshape(-1), ignore_index=-1
    )  # (B*T, vocab) vs (B*T,); prompt positions are ignored
    opt.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()
    return loss.item()


def train(
    fmt: str,
    *,
    seconds: float | None = None,
    steps: int | None = None,
    seed: int = 0,
    config: ReasonerConfig | None = None,
    batch_size: int = 128,
    lr: float = 3e-3,
    device: str | torch.device = "cpu",
    log_every: int = 50,
    callback: Callable[[int, float, Reasoner], Any] | None = None,
    cot_share: float | None = None,
    init: Reasoner | None = None,
) -> TrainResult:
    """Train a fresh model from scratch on freshly generated problems.

    The learning rate warms up for 5% of the run, then decays as a cosine to 10%.
    With ``steps`` the run is deterministic for a given ``seed``; with only
    ``seconds`` the schedule follows the wall clock (so it depends on the machine).

    Args:
        fmt: ``"direct"``, ``"cot"`` or ``"mixed"`` (both formats in one model).
        seconds: wall-clock budget, in (0, 86400]; training stops when it is spent.
        steps: optimizer steps, 1 to 10**6 (at least one of ``steps``/``seconds`` is needed).
        seed: seed for the initial weights and the training problems, in [0, 2**63 - 1].
        config: model size (default :class:`ReasonerConfig` with ``fmt``).
        batch_size: problems per step, 1 to 2**16.
        lr: peak AdamW learning rate, in (0, 1).
        device: ``"cpu"`` or ``"cuda"``.
        log_every: steps per logged loss point, 1 to 10**6.
        callback: called as ``callback(step, loss, reasoner)`` at each log point;
            returning ``True`` stops training.
        cot_share: ``fmt="mixed"`` only (required there): the chance, in [0, 1], that a
            training example uses the scratchpad.
        init: start from a copy of this reasoner's weights instead of a fresh model
            (its model must have the same architecture as ``config``'s); it is not modified.

    Returns:
        A :class:`TrainResult` with the trained :class:`Reasoner` and its loss curve.
    """
    _check_fmt(fmt, MODEL_FORMATS)
    if (fmt == MIXED) != (cot_share is not None):
        raise ValueError("cot_share is required with fmt='mixed' and only allowed with it")
    if cot_share is not None:
        check_number("cot_share", cot_share, 0, 1)
    if seconds is None and steps is None:
        raise ValueError("give seconds (> 0) or steps (>= 1), or both")
    if seconds is not None:
        check_number("seconds", seconds, 0, _MAX_SECONDS, lo_open=True)
    if steps is not None:
        check_int("steps", steps, 1, _MAX_STEPS)
    check_seed("seed", seed)
    if config is not None and not isinstance(config, ReasonerConfig):
        raise ValueError(f"config must be None or an explainer.reasoning.ReasonerConfig, got "
                         f"{type(config).__name__}")
    check_int("batch_size", batch_size, 1, _MAX_BATCH)
    check_number("lr", lr, 0, 1, lo_open=True, hi_open=True)
    device = _check_device(device)
    check_int("log_every", log_every, 1, _MAX_STEPS)
    if callback is not None and not callable(callback):
        raise ValueError(f"callback must be None or callable, got {callback!r}")
    if init is not None:
        _check_reasoner("init", init)
    cfg = config or ReasonerConfig(fmt=fmt)
    if cfg.fmt != fmt:
        raise ValueError(f"config.fmt ({cfg.fmt!r}) must equal fmt ({fmt!r})")
    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed)
    model = GPT(cfg.gpt_config()).to(device)
    if init is not None:
        if init.model.config != cfg.gpt_config():
            raise ValueError(f"init's model config {init.model.config} does not match "
                             f"{cfg.gpt_config()}")
        model.load_state_dict(init.model.state_dict())
    opt = torch.optim.AdamW(model.parameters(), lr=lr, betas=(0.9, 0.98), weight_decay=0.01)
    reasoner = Reasoner(model, cfg, device=device)
    t0 = time.perf_counter()
    losses, logged, running, step = [], [], [], 0
    while True:
        elapsed = time.perf_counter() - t0
        frac = max(step / steps if steps else 0.0, elapsed / seconds if seconds else 0.0)
        if frac >= 1.0:
            break
        for group in opt.param_groups:
            group["lr"] = lr * _lr_scale(frac)
        x, y = _batch(fmt, cfg.max_digits, batch_size, g, cot_share or 0.0)
        running.append(_supervised_step(model, opt, x, y))
        step += 1
        if step % log_every == 0:
            losses.append(sum(running) / len(running))
            logged.append(step)
            running = []
            model.eval()
            if callback is not None and callback(step, losses[-1], reasoner):
                break
    model.eval()
    seconds_spent = time.perf_counter() - t0
    reasoner.meta = {"fmt": fmt, "steps": step, "batch_size": batch_size, "lr": lr, "seed": seed,
                     "train_seconds": round(seconds_spent, 1)}
    if cot_share is not None:
        reasoner.meta["cot_share"] = cot_share
    if init is not None:
        reasoner.meta["init"] = dict(init.meta)
    history = pd.DataFrame({"step": pd.Series(logged, dtype="int64"),
                            "loss": pd.Series(losses, dtype="float64")})
    return TrainResult(model, step, seconds_spent, history, reasoner)
