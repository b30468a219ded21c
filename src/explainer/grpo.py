"""GRPO: reinforcement learning with a group of samples as its own baseline (R1-Zero, in miniature).

What it teaches: DeepSeek-R1-Zero was trained from a base model by reinforcement
learning alone, with a *rule-based* reward (is the final answer right? is the
format right?) and no learned reward model or critic. The algorithm is GRPO,
Group Relative Policy Optimization, defined in DeepSeekMath (Shao et al. 2024,
arXiv 2402.03300, §4.1, eq. 3 and Algorithm 1) and used in the R1 paper (DeepSeek-AI
2025, arXiv 2501.12948, §2.2.1, eqs. 1–3; rewards §2.2.2). For every question ``q``
the old policy samples a *group* of ``G`` outputs ``o_1..o_G``; each gets a reward
``r_i``; the advantage of output ``i`` is its reward measured against its own group
(R1 eq. 3)::

    A_i = (r_i - mean(r_1..r_G)) / std(r_1..r_G)

so the group's mean plays the part that a value network (a critic as large as the
policy, in PPO) plays elsewhere. The policy then maximises the clipped surrogate of
PPO minus a KL penalty towards a frozen reference policy (R1 eq. 1, written per
token as in DeepSeekMath eq. 3)::

    J = mean_i [ 1/|o_i| sum_t ( min(rho_it A_i, clip(rho_it, 1-eps, 1+eps) A_i)
                                 - beta * D_KL,it ) ]
    rho_it = pi_theta(o_it | q, o_i<t) / pi_old(o_it | q, o_i<t)
    D_KL,it = pi_ref / pi_theta - log(pi_ref / pi_theta) - 1          (R1 eq. 2)

The KL estimator is Schulman's unbiased, always non-negative "k3" estimator
("Approximating KL divergence", 2020). Names follow the papers: ``group_size`` is
``G``, ``clip_eps`` is ``epsilon``, ``beta`` is ``beta``, ``iterations`` is
DeepSeekMath's ``mu`` (policy updates per batch of samples).

Choices this module makes where the papers leave room (each documented where used):

* ``std`` is the population standard deviation of the group (divide by ``G``), with
  ``eps = 1e-4`` added to it, so a group whose rewards are all equal gets advantage 0.
* The loss is normalised per sequence (mean over each output's own tokens), then
  averaged over outputs, as DeepSeekMath eq. 3 writes it.

The policy is the book's small GPT (:mod:`explainer.gpt`) playing the addition game of
:mod:`explainer.reasoning`; it starts from the shipped ``"base"`` model, trained by
supervised learning on a mixture in which the scratchpad is the minority.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
import torch

from explainer import gpt
from explainer.checks import check_int, check_number, check_seed, check_tensor, check_text
from explainer.reasoning import (
    _MAX_SECONDS,
    _MAX_STEPS,
    _MAX_WIDTH,
    MAX_DIGITS,
    MIXED,
    Reasoner,
    ReasonerConfig,
    _check_problems,
    _check_reasoner,
    _parse_problem,
    _prompt,
    decode,
    encode,
    format_example,
    load_pretrained,
    parse_answer,
    uses_scratchpad,
)

__all__ = [
    "ADV_EPS",
    "BETA",
    "CLIP_EPS",
    "GROUP_SIZE",
    "LR",
    "PROBLEMS_PER_STEP",
    "STEPS",
    "TEMPERATURE",
    "LOG_COLUMNS",
    "REWARDS",
    "SAMPLE_EVERY",
    "SAMPLE_PROBLEMS",
    "GRPOResult",
    "accuracy_reward",
    "format_reward",
    "group_advantages",
    "grpo_loss",
    "k3_kl",
    "length_reward",
    "RUN_CHECKPOINTS",
    "load_checkpoint",
    "load_eval",
    "load_log",
    "load_samples",
    "rollout_stats",
    "slipped_steps",
    "train_grpo",
]

ADV_EPS = 1e-4  # added to the group's std in group_advantages
_END = encode(".")[0]

# the shipped run's recipe: train_grpo's defaults (data/README.md, scripts/make_grpo.py)
STEPS = 150
GROUP_SIZE = 16
PROBLEMS_PER_STEP = 16
LR = 3e-4
BETA = 0.04
CLIP_EPS = 0.2
TEMPERATURE = 1.0

SAMPLE_EVERY = 10  # the shipped run records sample answers every this many steps
# the steps of the shipped run a reader can sample in the page ("learning to think"): 0 is the
# shipped base, STEPS the shipped GRPO model, the others data/weights/grpo_run/step_NNN.pt
# (scripts/make_grpo.py checkpoints: a rerun whose log equals the shipped run's to step 70)
RUN_CHECKPOINTS = (0, 1, 2, 3, 5, 10, 25, 50, STEPS)
SAMPLE_PROBLEMS = ("48765+25937", "31416+27183", "99999+1", "50505+49595")  # shown in the chapter

LOG_COLUMNS = ("step", "seconds", "reward", "accuracy", "scratchpad_share", "response_length",
               "right_with_slips", "kl", "loss")

# caps on train_grpo's sizes (a value past them is a typo): the shipped recipe samples
# 16 x 16 answers per step and updates once on them
_MAX_GROUP = 1024  # group_size and problems_per_step
_MAX_ITERATIONS = 100  # policy updates per batch of samples (DeepSeekMath uses 1)
_LONGEST = ReasonerConfig(fmt=MIXED).completion_len  # length_reward's denominator


# --------------------------------------------------------------------------- checks


def _check_finite(name: str, t: torch.Tensor, *, kind: str | None = "float") -> None:
    """A finite tensor: floating point (``kind="float"``), or any real dtype but bool
    (``kind=None``); ValueError naming ``name``."""
    check_tensor(name, t, kind=kind)
    if kind is None and (t.dtype == torch.bool or t.is_complex()):
        raise ValueError(f"{name} must be a real (integer or floating-point) torch.Tensor, "
                         f"got dtype {t.dtype}")
    if t.is_floating_point() and not bool(torch.isfinite(t).all()):
        raise ValueError(f"{name} has NaN or infinite entries")


def _check_same_shape(name: str, t: torch.Tensor, like_name: str, like: torch.Tensor) -> None:
    if t.shape != like.shape:
        raise ValueError(f"{name} must have {like_name}'s shape {tuple(like.shape)}, "
                         f"got {tuple(t.shape)}")


# ----------------------------------------------------------------------- advantages


def group_advantages(rewards: torch.Tensor, *, eps: float = ADV_EPS) -> torch.Tensor:
    """Group-relative advantages (R1 §2.2.1 eq. 3; DeepSeekMath §4.1.2 "outcome supervision").

    Each row is one question's group of ``G`` sampled outputs; every output's reward is
    compared with its own group: ``(r - mean) / (std + eps)``, where ``std`` is the
    population standard deviation of the row (``unbiased=False``: divide by ``G``).
    A group whose rewards are all equal (all right or all wrong) carries no signal
    and gets advantage 0.

    Args:
        rewards: ``(B, G)`` rewards of ``G`` outputs for each of ``B`` questions (a real
            dtype, not bool).
        eps: added to ``std`` (a finite number > 0) so that equal rewards do not divide
            by zero.

    Returns:
        ``(B, G)`` advantages (float32).

    Raises:
        ValueError: ``rewards`` is not a 2-D real tensor with at least one column, has
            NaNs, or ``eps`` is not a finite number > 0.
    """
    _check_finite("rewards", rewards, kind=None)
    if rewards.dim() != 2 or rewards.shape[1] < 1:
        raise ValueError(f"rewards must be (B, G) with G >= 1, got shape {tuple(rewards.shape)}")
    eps = check_number("eps", eps, 0, lo_open=True)
    return _group_advantages(rewards, eps)


def _group_advantages(rewards: torch.Tensor, eps: float = ADV_EPS) -> torch.Tensor:
    """:func:`group_advantages` without the checks (the training loop's call)."""
    r = rewards.float()
    mean = r.mean(dim=1, keepdim=True)  # (B, 1)
    std = r.std(dim=1, unbiased=False, keepdim=True)  # (B, 1)
    return (r - mean) / (std + eps)  # (B, G)


# ---------------------------------------------------------------------------- loss


def k3_kl(logp: torch.Tensor, ref_logp: torch.Tensor) -> torch.Tensor:
    """Per-token KL estimate towards the reference policy (R1 eq. 2, Schulman's k3).

    ``pi_ref/pi - log(pi_ref/pi) - 1`` from the log-probabilities of the sampled
    tokens; non-negative, and 0 exactly where the two policies agree.

    Args:
        logp: ``(N, T)`` log-probabilities under the current policy (floating point, finite).
        ref_logp: log-probabilities under the reference policy, of ``logp``'s shape.

    Returns:
        ``(N, T)`` per-token estimates.

    Raises:
        ValueError: a non-tensor, a non-float or non-finite tensor, or shapes that differ.
    """
    _check_finite("logp", logp)
    _check_finite("ref_logp", ref_logp)
    if logp.shape != ref_logp.shape:
        raise ValueError(f"logp and ref_logp must have the same shape, got "
                         f"{tuple(logp.shape)} and {tuple(ref_logp.shape)}")
    return _k3_kl(logp, ref_logp)


def _k3_kl(logp: torch.Tensor, ref_logp: torch.Tensor) -> torch.Tensor:
    """:func:`k3_kl` without the checks (the loss and the training loop's calls)."""
    log_ratio = ref_logp - logp  # log(pi_ref / pi_theta)
    return torch.exp(log_ratio) - log_ratio - 1


def grpo_loss(
    logp: torch.Tensor,
    old_logp: torch.Tensor,
    ref_logp: torch.Tensor,
    advantages: torch.Tensor,
    mask: torch.Tensor,
    *,
    clip_eps: float = CLIP_EPS,
    beta: float = BETA,
) -> torch.Tensor:
    """The GRPO objective, negated into a loss to minimise (R1 eq. 1–2; DeepSeekMath eq. 3).

    Per token: ``min(rho * A, clip(rho, 1 - clip_eps, 1 + clip_eps) * A) - beta * k3``
    with ``rho = exp(logp - old_logp)`` and ``k3`` from :func:`k3_kl`. Normalisation:
    each output's per-token terms are averaged over its own completion tokens
    (``mask``), then the outputs are averaged (``1/G sum_i 1/|o_i| sum_t``); the loss
    is minus that.

    Args:
        logp: ``(N, T)`` log-probabilities of the sampled tokens under the policy being
            trained (carries the gradient).
        old_logp: ``(N, T)`` the same under the policy that sampled them (no gradient).
        ref_logp: ``(N, T)`` the same under the frozen reference policy (no gradient).
        advantages: ``(N,)`` one advantage per output (:func:`group_advantages`, flattened).
        mask: ``(N, T)`` 1 (or True) on completion tokens, 0 on padding (bool or a real
            dtype); every row needs at least one completion token.
        clip_eps: the clipping range ``epsilon``, in (0, 1).
        beta: weight of the KL penalty, a finite number >= 0 (0 switches it off).

    Returns:
        A scalar tensor: ``-J``.

    Raises:
        ValueError: mismatched shapes, NaNs, an empty mask row, or ``clip_eps``/``beta``
            out of range (each names the argument).
    """
    for name, t in (("logp", logp), ("old_logp", old_logp), ("ref_logp", ref_logp),
                    ("advantages", advantages)):
        _check_finite(name, t)
    check_tensor("mask", mask)
    if mask.dtype != torch.bool:
        _check_finite("mask", mask, kind=None)
    if logp.dim() != 2:
        raise ValueError(f"logp must be (N, T), got shape {tuple(logp.shape)}")
    for name, t in (("old_logp", old_logp), ("ref_logp", ref_logp), ("mask", mask)):
        _check_same_shape(name, t, "logp", logp)
    if advantages.shape != logp.shape[:1]:
        raise ValueError(f"advantages must be (N,) = ({logp.shape[0]},), "
                         f"got shape {tuple(advantages.shape)}")
    check_number("clip_eps", clip_eps, 0, 1, lo_open=True, hi_open=True)
    check_number("beta", beta, 0)
    if bool((mask.to(logp.dtype).sum(dim=1) <= 0).any()):
        raise ValueError("mask must mark at least one completion token in every row")
    return _grpo_loss(logp, old_logp, ref_logp, advantages, mask, clip_eps, beta)


def _grpo_loss(logp: torch.Tensor, old_logp: torch.Tensor, ref_logp: torch.Tensor,
               advantages: torch.Tensor, mask: torch.Tensor, clip_eps: float,
               beta: float) -> torch.Tensor:
    """:func:`grpo_loss` without the checks (the training loop's call)."""
    m = mask.to(logp.dtype)
    lengths = m.sum(dim=1)  # (N,) |o_i|
    ratio = torch.exp(logp - old_logp)  # (N, T) rho
    adv = advantages.to(logp.dtype)[:, None]  # (N, 1)
    surrogate = torch.minimum(ratio * adv, ratio.clamp(1 - clip_eps, 1 + clip_eps) * adv)
    per_token = surrogate - beta * _k3_kl(logp, ref_logp) if beta else surrogate  # (N, T)
    per_output = (per_token * m).sum(dim=1) / lengths  # (N,) mean over each output's tokens
    return -per_output.mean()


# ------------------------------------------------------------------------- rewards


def _check_reward_args(problem: str, text: str, max_digits: int = _MAX_WIDTH) -> int:
    """The true sum of ``problem``; ValueError naming ``problem`` or ``text`` (not a string)."""
    a, b = _parse_problem(problem, max_digits)
    check_text("text", text, empty=True)
    return a + b


def accuracy_reward(problem: str, text: str) -> float:
    """1.0 if the answer parsed from ``text`` (either format) is exactly right, else 0.0.

    R1 §2.2.2's accuracy reward: a rule checks the final answer. Text that does not
    parse (cut off, garbled, empty) gets 0.0, never an exception.

    Raises:
        ValueError: ``problem`` is not ``"a+b"`` (operands of 1 to 18 digits), or ``text``
            is not a string.
    """
    truth = _check_reward_args(problem, text)
    return float(parse_answer(text, MIXED) == truth)


def format_reward(problem: str, text: str) -> float:
    """1.0 if ``text`` thinks in the prescribed format, whatever its answer, else 0.0.

    R1 §2.2.2's format reward asks the model to put its thinking between ``<think>``
    tags; here the prescribed format is the scratchpad: ``max_digits`` steps
    ``d+d+c=dd`` separated by ``;``, then ``>`` and an answer of the right width.
    It does not look at whether any digit is right.

    Raises:
        ValueError: ``problem`` is not ``"a+b"``, or ``text`` is not a string.
    """
    _check_reward_args(problem, text)
    body = text.partition("=")[2]
    steps, sep, answer = body.partition(">")
    parts = steps.split(";")
    ok = bool(sep) and len(parts) == MAX_DIGITS and all(
        len(s) == 8 and s[1] == s[3] == "+" and s[5] == "=" and (s[0] + s[2] + s[4] + s[6:])
        .isdigit() for s in parts
    ) and len(answer) == MAX_DIGITS + 2 and answer.endswith(".") and answer[:-1].isdigit()
    return float(ok)


def length_reward(problem: str, text: str) -> float:
    """Characters written after the prompt, over the longest possible completion (0 to 1).

    A deliberately bad reward, for the reward-hacking ablation: it pays for length,
    not for being right.

    Raises:
        ValueError: ``problem`` is not ``"a+b"``, or ``text`` is not a string.
    """
    _check_reward_args(problem, text)
    return min(len(text.partition("=")[2]), _LONGEST) / _LONGEST


def slipped_steps(problem: str, text: str, *, part: str = "any") -> int:
    """How many scratchpad steps of ``text`` differ from the textbook scratchpad of ``problem``.

    0 for an answer without a scratchpad. The accuracy reward never looks at the steps,
    so an answer can be right with slips in its working (and wrong with none): this
    counts what the reward ignores. A missing or extra step counts as a slip.

    Args:
        problem: ``"a+b"``.
        text: a generated answer (prompt included).
        part: ``"any"`` (the whole step ``a+b+c=ss``), ``"inputs"`` (the digits and carry
            before ``=``) or ``"sum"`` (the two digits after it); with ``"inputs"`` and
            ``"sum"`` a step that is not laid out ``d+d+d=dd`` counts as a slip.

    Raises:
        ValueError: ``part`` is not one of the three, ``problem`` is not ``"a+b"`` with
            operands of 1 to :data:`~explainer.reasoning.MAX_DIGITS` digits, or ``text`` is
            not a string.
    """
    if part not in ("any", "inputs", "sum"):
        raise ValueError(f"part must be 'any', 'inputs' or 'sum', got {part!r}")
    _check_reward_args(problem, text, MAX_DIGITS)
    if not uses_scratchpad(text):
        return 0
    written = text.partition("=")[2].partition(">")[0].split(";")
    textbook = format_example(problem, "cot").partition("=")[2].partition(">")[0].split(";")
    cut = {"any": slice(None), "inputs": slice(0, 5), "sum": slice(6, None)}[part]
    slips = sum(w[cut] != t[cut] or (part != "any" and len(w) != len(t))
                for w, t in zip(written, textbook))
    return slips + abs(len(written) - len(textbook))


REWARDS: dict[str, Callable[[str, str], float]] = {
    "accuracy": accuracy_reward,
    "format": format_reward,
    "length": length_reward,
}


# ------------------------------------------------------------------------ rollouts


def _rollout(
    policy: Reasoner, problems: Sequence[str], group_size: int, temperature: float,
    generator: torch.Generator,
) -> tuple[torch.Tensor, torch.Tensor, list[str], int]:
    """Sample ``group_size`` completions per problem (problem-major).

    Returns ``(idx, mask, texts, P)``: token ids ``(N, P + n)`` of prompt + completion,
    ``mask`` ``(N, n)`` on completion tokens up to and including the end mark (all of
    them if it never came), the texts (prompt + completion up to the end mark), and
    the prompt length ``P``.
    """
    cfg = policy.config
    prompts = [encode(_prompt(*_parse_problem(p, cfg.max_digits), cfg.max_digits))
               for p in problems for _ in range(group_size)]
    idx = torch.tensor(prompts, dtype=torch.long, device=policy.device)  # (N, P)
    policy.model.eval()
    comp = gpt.generate(policy.model, idx, cfg.completion_len, temperature=temperature,
                        generator=generator, stop_token=_END)  # (N, n)
    is_end = comp == _END
    first_end = torch.where(is_end.any(1), is_end.float().argmax(1), comp.shape[1] - 1)  # (N,)
    mask = torch.arange(comp.shape[1], device=comp.device)[None, :] <= first_end[:, None]
    texts = []
    for prompt_ids, c, e in zip(prompts, comp.tolist(), first_end.tolist()):
        texts.append(decode(prompt_ids) + decode(c[: e + 1]))
    return torch.cat([idx, comp], dim=1), mask, texts, idx.shape[1]


def _completion_logp(model: gpt.GPT, idx: torch.Tensor, P: int) -> torch.Tensor:
    """``(N, n)`` log-probabilities of the completion tokens ``idx[:, P:]``."""
    return gpt.token_logprobs(model, idx)[:, P - 1 :]


def rollout_stats(
    policy: Reasoner, problems: Sequence[str], *, temperature: float = TEMPERATURE,
    samples: int = 1, seed: int = 0,
) -> dict[str, float]:
    """Accuracy, scratchpad share and mean response length of sampled answers.

    Args:
        policy: a reasoner (any format).
        problems: a non-empty list of ``"a+b"`` strings.
        temperature: sampling temperature, finite, >= 0 (0: greedy).
        samples: answers per problem, 1 to 1024.
        seed: sampling seed, in [0, 2**63 - 1].

    Returns:
        ``{"accuracy", "scratchpad_share", "response_length", "accuracy_scratchpad",
        "accuracy_direct"}``: the fraction of answers exactly right, the fraction that
        wrote a scratchpad, the mean number of characters written after the prompt (end
        mark included), and the accuracy among answers with a scratchpad and among those
        without one (NaN where there are none).
    """
    _check_reasoner("policy", policy)
    problems = _check_problems(problems, policy.config.max_digits)
    check_seed("seed", seed)
    texts = policy.generate(problems, temperature=temperature, samples=samples, seed=seed)
    flat = [(p, t) for p, row in zip(problems, texts) for t in row]

    def mean(values: list[float]) -> float:
        return sum(values) / len(values) if values else float("nan")

    right = [accuracy_reward(p, t) for p, t in flat]
    thinks = [uses_scratchpad(t) for _, t in flat]
    return {
        "accuracy": mean(right),
        "scratchpad_share": mean([float(x) for x in thinks]),
        "response_length": mean([float(len(t.partition("=")[2])) for _, t in flat]),
        "accuracy_scratchpad": mean([r for r, x in zip(right, thinks) if x]),
        "accuracy_direct": mean([r for r, x in zip(right, thinks) if not x]),
    }


# ------------------------------------------------------------------------ training


@dataclass
class GRPOResult(gpt.TrainResult):
    """What :func:`train_grpo` returns.

    Attributes:
        policy: the trained :class:`~explainer.reasoning.Reasoner` (a copy; the
            starting model is left untouched).
        model, steps, seconds, history: as in :class:`explainer.gpt.TrainResult`;
            ``history`` is the per-step log (:attr:`log`).
    """

    policy: Reasoner

    @property
    def log(self) -> pd.DataFrame:
        """One row per RL step, columns :data:`LOG_COLUMNS`.

        ``reward``, ``accuracy``, ``scratchpad_share`` and ``response_length`` describe
        the step's own samples (fresh problems, sampled at the training temperature
        *before* that step's update, so they measure the policy on unseen problems);
        ``right_with_slips`` is the share of the right answers whose scratchpad has a
        step that differs from the textbook one (:func:`slipped_steps`; NaN if none was
        right); ``kl`` is the mean per-token k3 estimate towards the reference; ``loss``
        is the GRPO loss of the step's first update.
        """
        return self.history


def train_grpo(
    policy: Reasoner,
    *,
    steps: int | None = STEPS,
    group_size: int = GROUP_SIZE,
    problems_per_step: int = PROBLEMS_PER_STEP,
    lr: float = LR,
    beta: float = BETA,
    clip_eps: float = CLIP_EPS,
    temperature: float = TEMPERATURE,
    seed: int = 0,
    seconds: float | None = None,
    callback: Callable[[int, dict[str, float], Reasoner], Any] | None = None,
    reward: str | Callable[[str, str], float] = "accuracy",
    iterations: int = 1,
    digits: int = MAX_DIGITS,
) -> GRPOResult:
    """Train ``policy`` with GRPO (DeepSeekMath Algorithm 1, R1 §2.2) on addition problems.

    Each step draws ``problems_per_step`` fresh problems with ``digits``-digit operands,
    samples ``group_size`` answers to each at ``temperature`` from the current policy
    (which is then the "old" policy), scores them with ``reward``, turns rewards into
    group-relative advantages (:func:`group_advantages`), and takes ``iterations`` Adam
    steps on :func:`grpo_loss` (gradient norm clipped to 1). The reference policy for
    the KL term is a frozen copy of the starting ``policy``. The defaults are the
    shipped run's recipe.

    Args:
        policy: the starting reasoner (not modified: training works on a copy).
        steps: RL steps (each one batch of samples), 1 to 10**6; ``None`` to run on
            ``seconds`` only.
        group_size: ``G``, answers sampled per problem, 1 to 1024 (>= 2 for any signal).
        problems_per_step: problems per step (``B``), 1 to 1024.
        lr: Adam learning rate, in (0, 1).
        beta: KL weight (>= 0; 0 drops the KL term from the loss; the log still reports KL).
        clip_eps: clipping range, in (0, 1).
        temperature: sampling temperature (finite, > 0).
        seed: seeds the problems, the sampling and the weights' updates, in [0, 2**63 - 1].
        seconds: wall-clock budget, in (0, 86400]; training stops when spent (whichever of
            ``steps`` and ``seconds`` comes first). Time spent in ``callback`` is not
            counted, here or in the log's ``seconds``.
        callback: called as ``callback(step, row, policy)`` after every step, ``row``
            being that step's log entry; returning ``True`` stops training.
        reward: ``"accuracy"`` (the shipped run), ``"format"``, ``"length"`` (see
            :data:`REWARDS`), or a function ``(problem, text) -> float``.
        iterations: ``mu``, policy updates per batch of samples, 1 to 100.
        digits: operand width of the training problems, 1 to the policy's ``max_digits``.

    Returns:
        A :class:`GRPOResult` (``.policy``, ``.log``).

    Raises:
        ValueError: a non-positive size, an out-of-range ``lr``/``beta``/``clip_eps``/
            ``temperature``/``seconds``, or an unknown ``reward``.
    """
    _check_reasoner("policy", policy)
    if steps is None and seconds is None:
        raise ValueError("give steps (>= 1) or seconds (> 0), or both")
    if steps is not None:
        check_int("steps", steps, 1, _MAX_STEPS)
    check_int("group_size", group_size, 1, _MAX_GROUP)
    check_int("problems_per_step", problems_per_step, 1, _MAX_GROUP)
    check_int("iterations", iterations, 1, _MAX_ITERATIONS)
    check_int("digits", digits, 1, policy.config.max_digits)
    if seconds is not None:
        check_number("seconds", seconds, 0, _MAX_SECONDS, lo_open=True)
    check_number("lr", lr, 0, 1, lo_open=True, hi_open=True)
    check_number("beta", beta, 0)
    check_number("clip_eps", clip_eps, 0, 1, lo_open=True, hi_open=True)
    try:
        check_number("temperature", temperature, 0, lo_open=True)
    except ValueError as exc:
        raise ValueError(f"{exc} (GRPO samples)") from None
    check_seed("seed", seed)
    if callback is not None and not callable(callback):
        raise ValueError(f"callback must be None or callable, got {callback!r}")
    if isinstance(reward, str):
        if reward not in REWARDS:
            raise ValueError(f"reward must be one of {sorted(REWARDS)} or a function, "
                             f"got {reward!r}")
        reward_fn = REWARDS[reward]
    elif callable(reward):
        reward_fn = reward
    else:
        raise ValueError(f"reward must be a name or a function, got {reward!r}")

    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    new = Reasoner(copy.deepcopy(policy.model), policy.config, device=policy.device)
    new.meta = dict(policy.meta)
    model = new.model
    ref = copy.deepcopy(policy.model).eval()  # the reference: KL penalty (beta > 0) and the log
    for p in ref.parameters():
        p.requires_grad_(False)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    lo, hi = (0 if digits == 1 else 10 ** (digits - 1)), 10**digits
    rows: list[dict[str, float]] = []
    clock = gpt.TrainingClock()
    step = 0
    while (steps is None or step < steps) and (seconds is None or clock.seconds() < seconds):
        ops = torch.randint(lo, hi, (problems_per_step, 2), generator=gen).tolist()
        problems = [f"{a}+{b}" for a, b in ops]
        with torch.no_grad():
            idx, mask, texts, P = _rollout(new, problems, group_size, temperature, gen)
            ref_logp = _completion_logp(ref, idx, P)  # (N, n)
        rewards = torch.tensor([reward_fn(problems[i // group_size], t)
                                for i, t in enumerate(texts)]).view(problems_per_step, group_size)
        adv = group_advantages(rewards).flatten()  # (N,); checks the reward function's values
        model.train()
        first_loss = float("nan")
        old_logp = None
        for it in range(iterations):
            logp = _completion_logp(model, idx, P)  # (N, n)
            if old_logp is None:  # pi_old: the policy that sampled, before this step's updates
                old_logp = logp.detach()  # the same numbers a separate no-grad pass would give
            loss = _grpo_loss(logp, old_logp, ref_logp, adv, mask, clip_eps, beta)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            if it == 0:
                first_loss = loss.item()
        model.eval()
        step += 1
        m = mask.float()
        kl = float((_k3_kl(old_logp, ref_logp) * m).sum() / m.sum())  # logged even when beta = 0
        correct = [accuracy_reward(problems[i // group_size], t) for i, t in enumerate(texts)]
        slips = [slipped_steps(problems[i // group_size], t) > 0
                 for i, (t, c) in enumerate(zip(texts, correct)) if c]
        row = {
            "step": step,
            "seconds": clock.seconds(),
            "reward": float(rewards.float().mean()),
            "accuracy": sum(correct) / len(correct),
            "scratchpad_share": sum(map(uses_scratchpad, texts)) / len(texts),
            "response_length": float(m.sum(1).mean()),
            "right_with_slips": sum(slips) / len(slips) if slips else float("nan"),
            "kl": kl,
            "loss": first_loss,
        }
        rows.append(row)
        if callback is not None and clock.paused(callback, step, row, new):
            break
    seconds_spent = clock.seconds()
    new.meta = {"fmt": policy.fmt, "start": dict(policy.meta), "grpo": {
        "steps": step, "group_size": group_size, "problems_per_step": problems_per_step,
        "lr": lr, "beta": beta, "clip_eps": clip_eps, "temperature": temperature, "seed": seed,
        "reward": reward if isinstance(reward, str) else getattr(reward, "__name__", "custom"),
        "iterations": iterations, "train_seconds": round(seconds_spent, 1)}}
    log = pd.DataFrame(rows, columns=list(LOG_COLUMNS)).astype({"step": "int64"})
    return GRPOResult(model, step, seconds_spent, log, new)


# ------------------------------------------------------------------------- shipped


def load_log() -> pd.DataFrame:
    """The shipped runs' per-step logs (``data/grpo_log.csv``): ``run`` plus :data:`LOG_COLUMNS`.

    Runs: ``main`` (the shipped model's run) and the ablations (see ``data/README.md``).
    """
    from explainer.data import read_csv

    return read_csv("grpo_log.csv")


def load_samples() -> pd.DataFrame:
    """Sample answers of the main run every :data:`SAMPLE_EVERY` steps (``grpo_samples.csv``).

    Columns ``step`` (0 = the base model), ``problem``, ``text``, ``correct`` (0/1).
    """
    from explainer.data import read_csv

    return read_csv("grpo_samples.csv")


def load_checkpoint(step: int) -> Reasoner:
    """The shipped GRPO run's policy after ``step`` steps, one of :data:`RUN_CHECKPOINTS`.

    Step 0 is the shipped base (``load_pretrained("base")``), step :data:`STEPS` the shipped
    GRPO model; the steps between come from ``data/weights/grpo_run/``.

    Raises:
        ValueError: if ``step`` is not one of :data:`RUN_CHECKPOINTS`.
    """
    from explainer.data import data_path

    if isinstance(step, bool) or not isinstance(step, int) or step not in RUN_CHECKPOINTS:
        raise ValueError(f"step must be one of RUN_CHECKPOINTS {RUN_CHECKPOINTS}, got {step!r}")
    if step == 0:
        return load_pretrained("base")
    if step == STEPS:
        return load_pretrained("grpo")
    return Reasoner.load(data_path("weights", "grpo_run", f"step_{step:03d}.pt"))


def load_eval() -> pd.DataFrame:
    """Held-out evaluation of the base and GRPO models at temperature 1 (``data/grpo_eval.csv``).

    Indexed by ``(model, metric, k)``; column ``value`` (a fraction, or characters for
    ``response_length``), plus ``n_problems`` and ``samples``.
    """
    from explainer.data import read_csv

    return read_csv("grpo_eval.csv").set_index(["model", "metric", "k"]).sort_index()
