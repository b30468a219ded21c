"""Mixture-of-Experts: routing, load balancing and grouped dispatch you can watch.

What this module teaches:

* **Routing** (:func:`route`): each token scores every routed expert, keeps the
  ``top_k`` best and mixes their outputs with gating weights. The names follow
  DeepSeek's own ``ModelArgs`` / ``Gate`` (``n_routed_experts``,
  ``n_activated_experts``, ``n_expert_groups``, ``n_limited_groups``,
  ``score_func``, ``route_scale``), so the code can be read next to
  ``inference/model.py`` of deepseek-ai/DeepSeek-V3.
* **Group-limited routing** (``route(..., n_groups, topk_groups)``): the experts
  are split into ``n_groups`` equal groups (in V3 one group per node), each token
  keeps only its ``topk_groups`` best groups and chooses its experts inside them,
  which bounds how many nodes a token's hidden state must travel to (V3 report
  §2.1.2 "Node-Limited Routing", M = 4 of 8; V2 report §2.2.2, device-limited
  routing, M = 3 of 8 devices, §3.1.2). :func:`gate_args` reads these settings
  from a config.
* **Load balancing**, cures for routing collapse (a few experts take all
  tokens while the rest idle):

  - the auxiliary loss (:func:`load_balance_loss`), Switch/GShard style, in the
    expert-level form DeepSeek-V2 used (V2 report §2.2.3, eq. 23-25), counted
    over the whole batch;
  - DeepSeek-V3's auxiliary-loss-free balancing (V3 report §2.1.2): a per-expert
    bias is added to the scores *only to choose* the experts (the gating weights
    come from the unbiased scores) and nudged by ``gamma`` after every step
    (:func:`update_bias`);
  - V3's complementary *sequence-wise* balance loss (:func:`sequence_balance_loss`,
    V3 report eq. 17-20), which balances each sequence rather than the batch; V3
    combines it, with a tiny weight (alpha = 0.0001, §4.2), with the bias
    (``balance="bias_seq_aux_loss"``).
* **Shared + fine-grained experts** (DeepSeekMoE, arXiv 2401.06066): shared
  experts see every token; many small routed experts give more combinations.
* **Grouped dispatch** (:func:`dispatch_grouped`): token-slot pairs are sorted by
  expert id and each expert runs one matmul over its contiguous block, the
  CPU-sized cousin of the grouped GEMMs real MoE kernels use. The naive
  reference (:func:`dispatch_naive`) runs every expert on every token and masks.

References: DeepSeek-V3 report (arXiv 2412.19437) §2.1.2; DeepSeek-V2 report
(arXiv 2405.04434) §2.2.2-2.2.3; DeepSeekMoE (arXiv 2401.06066); DeepSeek-V3
``inference/model.py`` (``Gate``, ``MoE``, ``Expert``); Switch Transformer
(arXiv 2101.03961) for the auxiliary loss.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any, NamedTuple

import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn

from explainer.checks import check_choice, check_int, check_number, check_seed, check_tensor

__all__ = [
    "BALANCE_MODES",
    "BALANCE_RUNS",
    "BIAS_MODES",
    "BIAS_SIM_GAMMAS",
    "BIAS_SIM_TOP_K",
    "LOSS_MODES",
    "SCORE_FUNCS",
    "MoE",
    "MoEConfig",
    "RUN_LABELS",
    "Routing",
    "activated_params_table",
    "bias_simulation",
    "bias_simulation_grid",
    "dispatch_gather",
    "dispatch_grouped",
    "dispatch_naive",
    "expert_load",
    "format_params_table",
    "gate_args",
    "imbalance",
    "load_balance_loss",
    "load_benchmark",
    "load_expert_load",
    "load_runs",
    "load_training_log",
    "route",
    "sequence_balance_loss",
    "update_bias",
]

SCORE_FUNCS = ("softmax", "sigmoid")
BALANCE_MODES = ("none", "aux_loss", "bias", "seq_aux_loss", "bias_seq_aux_loss")
BIAS_MODES = ("bias", "bias_seq_aux_loss")  # modes that steer selection with a learned bias
LOSS_MODES = ("aux_loss", "seq_aux_loss", "bias_seq_aux_loss")  # modes that set MoE.aux_loss


# --------------------------------------------------------------------------- routing
def _scores(logits: torch.Tensor, score_func: str) -> torch.Tensor:
    """Token-to-expert affinities: softmax over experts (V2) or per-expert sigmoid (V3)."""
    if score_func not in SCORE_FUNCS:
        raise ValueError(f"score_func must be one of {SCORE_FUNCS}, got {score_func!r}")
    if score_func == "softmax":
        return logits.float().softmax(dim=-1)
    return logits.float().sigmoid()


def _check_groups(n_experts: int, top_k: int, n_groups: int, topk_groups: int,
                  with_bias: bool) -> None:
    """ValueError unless the group settings fit ``n_experts`` and ``top_k``."""
    for name, v in (("n_groups", n_groups), ("topk_groups", topk_groups)):
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise ValueError(f"{name} must be an int >= 1, got {v!r}")
    if n_experts % n_groups:
        raise ValueError(f"n_groups must divide n_experts={n_experts} into equal groups, "
                         f"got n_groups={n_groups}")
    if topk_groups > n_groups:
        raise ValueError(f"topk_groups must be in [1, n_groups={n_groups}], got {topk_groups}")
    per_group = n_experts // n_groups
    if n_groups > 1 and top_k > topk_groups * per_group:
        raise ValueError(
            f"top_k={top_k} is more than the {topk_groups * per_group} experts in the "
            f"topk_groups={topk_groups} kept groups of {per_group}: raise topk_groups or "
            "lower top_k"
        )
    if n_groups > 1 and with_bias and per_group < 2:
        raise ValueError(f"with a bias a group is scored by its two best experts, so n_groups "
                         f"must leave >= 2 experts per group (n_experts={n_experts}, "
                         f"n_groups={n_groups})")


def route(
    logits: torch.Tensor,
    top_k: int,
    *,
    score_func: str = "softmax",
    bias: torch.Tensor | None = None,
    route_scale: float = 1.0,
    n_groups: int = 1,
    topk_groups: int = 1,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Choose ``top_k`` experts per token and their gating weights (a pure function).

    Follows ``Gate.forward`` in DeepSeek-V3 ``inference/model.py`` step by step:

    1. scores ``s``: softmax over all experts (V2) or a per-expert sigmoid (V3 eq. 15);
    2. selection scores ``s + bias`` (bias, if any, steers the choice only: V3 eq. 16);
    3. with ``n_groups > 1`` (group-limited routing, V3 §2.1.2 "Node-Limited
       Routing"): the experts are split into ``n_groups`` contiguous groups; a
       group's score is the sum of its two best *selection* scores when there is a
       bias, its best score when there is none; each token keeps its
       ``topk_groups`` best groups and every expert outside them is masked out;
    4. the ``top_k`` best remaining selection scores give the experts;
    5. only then the weights: the chosen experts' *unbiased* scores ``s``
       (softmax is not renormalised after masking), divided by their sum for
       sigmoid (V3 eq. 13), times ``route_scale``.

    With ``n_groups=1`` (the default) step 3 is skipped, so older calls are unchanged.

    Precision: everything here is float32. The reference runs its gate in bf16:
    the linear layer's output is bf16, and the sigmoid is taken in bf16, so scores
    keep only 8 significant bits; nearby experts then tie (or swap order), the
    order of ties in ``topk`` decides, and a token can pick a different expert than
    the float32 computation (softmax is taken in float32 there, so V2-style gates
    lose precision only in their logits). The bias is float32 in the reference too.

    Args:
        logits: (tokens, n_experts) router logits ``x @ W_gate.T``.
        top_k: experts per token, ``1 <= top_k <= n_experts`` (and at most the
            experts in ``topk_groups`` groups).
        score_func: ``"softmax"`` (DeepSeek-V2) or ``"sigmoid"`` (DeepSeek-V3).
        bias: optional (n_experts,) balancing bias, used only to choose experts
            (and groups).
        route_scale: multiplies the final weights (V3 uses 2.5, V2 16).
        n_groups: equal groups of experts (``n_expert_groups``; V3 and V2: 8).
        topk_groups: groups each token may use (``n_limited_groups``; V3: 4, V2: 3).

    Returns:
        ``(weights, indices)``, both (tokens, top_k); indices sorted by selection score.

    Raises:
        ValueError: bad shapes, non-finite logits or bias, ``top_k``/``n_groups``/
            ``topk_groups``/``route_scale`` out of range, ``n_groups`` not dividing the
            experts, unknown ``score_func``.
    """
    check_tensor("logits", logits, ndim=2, kind="float", finite=True, nonempty=True)
    n_experts = logits.shape[1]
    top_k = check_int("top_k", top_k, 1)
    if top_k > n_experts:
        raise ValueError(f"top_k must be an int in [1, {n_experts}] (the experts in logits), "
                         f"got {top_k}")
    route_scale = check_number("route_scale", route_scale, 0, lo_open=True)
    check_choice("score_func", score_func, SCORE_FUNCS)
    _check_groups(n_experts, top_k, n_groups, topk_groups, bias is not None)
    if bias is not None:
        check_tensor("bias", bias, ndim=1, kind="float", finite=True)
        if bias.shape != (n_experts,):
            raise ValueError(
                f"bias must have shape ({n_experts},) to match logits, got {tuple(bias.shape)}"
            )
    return _route(logits, top_k, score_func=score_func, bias=bias, route_scale=route_scale,
                  n_groups=n_groups, topk_groups=topk_groups)


def _route(logits: torch.Tensor, top_k: int, *, score_func: str, bias: torch.Tensor | None,
           route_scale: float, n_groups: int, topk_groups: int
           ) -> tuple[torch.Tensor, torch.Tensor]:
    """:func:`route` without its checks, for the layer's forward pass (called every step)."""
    tokens, n_experts = logits.shape
    scores = _scores(logits, score_func)  # (tokens, n_experts)
    choose_by = scores
    if bias is not None:
        choose_by = scores + bias  # bias steers selection only (V3 §2.1.2, eq. 16)
    if n_groups > 1:
        grouped = choose_by.reshape(tokens, n_groups, n_experts // n_groups)  # (T, G, E/G)
        if bias is None:
            group_score = grouped.amax(dim=-1)  # (T, G): best expert of the group
        else:
            group_score = grouped.topk(2, dim=-1).values.sum(dim=-1)  # (T, G): best two
        kept = group_score.topk(topk_groups, dim=-1).indices  # (T, topk_groups)
        keep = torch.zeros_like(group_score, dtype=torch.bool).scatter(1, kept, True)
        choose_by = grouped.masked_fill(~keep[..., None], float("-inf")).reshape(tokens, -1)
    indices = choose_by.topk(top_k, dim=-1).indices  # (tokens, top_k)
    weights = scores.gather(1, indices)  # (tokens, top_k), unbiased
    if score_func == "sigmoid":  # V3 eq. 13: the chosen scores divided by their sum
        total = weights.sum(dim=-1, keepdim=True)  # (tokens, 1)
        # Where every chosen sigmoid underflows (logits below about -87), the plain ratio is
        # 0/0; the same ratio is a softmax of the log-sigmoids, which cannot underflow. Rows
        # with a normal sum keep the plain ratio exactly.
        tiny = torch.finfo(total.dtype).tiny
        from_logs = F.logsigmoid(logits.float()).gather(1, indices).softmax(dim=-1)
        weights = torch.where(total >= tiny, weights / total.clamp_min(tiny), from_logs)
    return weights * route_scale, indices


def gate_args(config: Any) -> dict[str, Any]:
    """The :func:`route` keywords of a config that uses ``ModelArgs`` names.

    Works for :class:`MoEConfig` and for the published-model configs of
    :mod:`explainer.costs` (``load_config("deepseek_v3_671b")``): ``top_k`` from
    ``n_activated_experts``, ``n_groups``/``topk_groups`` from
    ``n_expert_groups``/``n_limited_groups``, plus ``score_func`` and ``route_scale``.
    Use as ``route(logits, **gate_args(config), bias=...)``.
    """
    names = ("n_activated_experts", "score_func", "route_scale", "n_expert_groups",
             "n_limited_groups")
    if not all(hasattr(config, n) for n in names):
        raise ValueError(f"config must be an MoEConfig or a model config with {', '.join(names)}"
                         f", got {type(config).__name__}")
    return {
        "top_k": config.n_activated_experts,
        "score_func": config.score_func,
        "route_scale": config.route_scale,
        "n_groups": config.n_expert_groups,
        "topk_groups": config.n_limited_groups,
    }


MAX_EXPERTS = 1024  # routed experts a layer may have (V3: 256)
MAX_SHARED = 64  # shared experts (V3: 1, V2: 2)
MAX_WIDTH = 2**16  # d_model and moe_inter_dim (V3: 7168 and 2048)


def expert_load(indices: torch.Tensor, n_experts: int) -> torch.Tensor:
    """Token-slots sent to each expert: (n_experts,) counts summing to tokens * top_k.

    ``indices`` may have any shape (it is flattened: (tokens, top_k) or (seqs, T, top_k));
    no tokens (an empty ``indices``) give all-zero counts.
    """
    check_tensor("indices", indices, kind="int")
    n_experts = check_int("n_experts", n_experts, 1, MAX_EXPERTS)
    if indices.numel() and (indices.min() < 0 or indices.max() >= n_experts):
        raise ValueError(f"indices must lie in [0, {n_experts - 1}] (n_experts={n_experts})")
    return _expert_load(indices, n_experts)


def _expert_load(indices: torch.Tensor, n_experts: int) -> torch.Tensor:
    """:func:`expert_load` without its checks (the layer's forward pass)."""
    return torch.bincount(indices.reshape(-1), minlength=n_experts)


def _check_counts(name: str, t: Any, *, positive_sum: bool = False) -> torch.Tensor:
    """``t`` if it is a non-empty 1-D tensor of finite counts ``>= 0`` (not bool)."""
    what = f"a non-empty 1-D tensor of finite counts >= 0{' with a positive sum' * positive_sum}"
    if (not isinstance(t, torch.Tensor) or t.dim() != 1 or t.numel() == 0
            or t.dtype == torch.bool or t.is_complex()):
        got = (f"shape {tuple(t.shape)}, dtype {t.dtype}" if isinstance(t, torch.Tensor)
               else type(t).__name__)
        raise ValueError(f"{name} must be {what}, got {got}")
    v = t.float()
    if not bool(torch.isfinite(v).all()) or bool((v < 0).any()) or (
            positive_sum and not v.sum() > 0):
        raise ValueError(f"{name} must be {what}, got {t.tolist() if t.numel() <= 8 else t}")
    return v


def imbalance(load: torch.Tensor) -> float:
    """Max load / mean load: 1.0 is perfect balance, n_experts / top_k is total collapse."""
    load = _check_counts("load", load, positive_sum=True)
    return float(load.max() / load.mean())


def update_bias(bias: torch.Tensor, expert_load: torch.Tensor, gamma: float) -> torch.Tensor:
    """DeepSeek-V3's auxiliary-loss-free bias update (V3 report §2.1.2).

    After each step an overloaded expert (load above the mean) has its bias
    decreased by ``gamma`` and an underloaded one increased by ``gamma``; an
    expert exactly at the mean keeps its bias. Returns a new tensor.

    Args:
        bias: (n_experts,) current bias.
        expert_load: (n_experts,) tokens routed to each expert in the step.
        gamma: bias update speed, ``>= 0`` (V3: 0.001, then 0.0 for the last 500B tokens).

    Returns:
        The updated (n_experts,) bias.
    """
    check_tensor("bias", bias, ndim=1, kind="float", finite=True)
    _check_counts("expert_load", expert_load)
    if expert_load.shape != bias.shape:
        raise ValueError(
            f"bias and expert_load must both have shape (n_experts,), got "
            f"{tuple(bias.shape)} and {tuple(expert_load.shape)}"
        )
    gamma = check_number("gamma", gamma, 0)
    return _update_bias(bias, expert_load, gamma)


def _update_bias(bias: torch.Tensor, expert_load: torch.Tensor, gamma: float) -> torch.Tensor:
    """:func:`update_bias` without its checks (the training loop and the simulation)."""
    load = expert_load.float()
    return bias + gamma * torch.sign(load.mean() - load).to(bias.dtype)


def load_balance_loss(
    probs: torch.Tensor, indices: torch.Tensor, alpha: float = 1.0
) -> torch.Tensor:
    """Expert-level auxiliary balance loss (Switch/GShard; DeepSeek-V2 eq. 23-25), batch-wise.

    ``L = alpha * sum_i f_i * P_i`` with ``f_i = n_experts / (top_k * T) * (tokens
    choosing i)`` (not differentiable) and ``P_i`` the mean score of expert ``i``
    (differentiable). It equals ``alpha`` at perfect balance and grows to
    ``alpha * n_experts / top_k`` when every token picks the same experts with
    full confidence, so its gradient pushes probability away from busy experts.

    ``T`` here is every token passed in (the whole batch). The V2 and V3 reports
    define ``T`` as the tokens of one sequence; :func:`sequence_balance_loss` is that
    form (the two agree for a batch of one sequence).

    Args:
        probs: (tokens, n_experts) normalised scores (rows sum to 1).
        indices: (tokens, top_k) chosen experts.
        alpha: balance factor (V2: alpha_1 = 0.003).

    Returns:
        A scalar tensor.
    """
    check_tensor("probs", probs, ndim=2, kind="float", finite=True, nonempty=True)
    check_tensor("indices", indices, ndim=2, kind="int")
    tokens, n_experts = probs.shape
    if indices.shape[0] != tokens or not 1 <= indices.shape[1] <= n_experts:
        raise ValueError(
            f"indices must be (tokens={tokens}, top_k <= {n_experts}) to match probs, got "
            f"{tuple(indices.shape)}"
        )
    if indices.min() < 0 or indices.max() >= n_experts:
        raise ValueError(f"indices must lie in [0, {n_experts - 1}] (the experts in probs)")
    alpha = check_number("alpha", alpha, 0)
    return _load_balance_loss(probs, indices, alpha)


def _load_balance_loss(probs: torch.Tensor, indices: torch.Tensor, alpha: float) -> torch.Tensor:
    """:func:`load_balance_loss` without its checks (the layer's forward pass)."""
    tokens, n_experts = probs.shape
    top_k = indices.shape[1]
    f = _expert_load(indices, n_experts).float() * n_experts / (top_k * tokens)  # (n_experts,)
    p = probs.float().mean(dim=0)  # (n_experts,)
    return alpha * (f * p).sum()


def sequence_balance_loss(
    scores: torch.Tensor, indices: torch.Tensor, alpha: float = 0.0001
) -> torch.Tensor:
    """DeepSeek-V3's complementary sequence-wise balance loss (V3 report eq. 17-20).

    The same ``alpha * sum_i f_i * P_i`` as :func:`load_balance_loss`, but ``f_i``
    and ``P_i`` are counted over the ``T`` tokens of *one sequence* (eq. 18, 20),
    with the affinities first normalised over all experts, ``s'_{i,t} = s_{i,t} /
    sum_j s_{j,t}`` (eq. 19; a no-op for softmax scores). The loss of a batch is
    the mean of its sequences' losses. A batch can be balanced as a whole while
    every sequence in it sends all its tokens to a few experts: the batch-wise
    loss then sits at its floor and this one does not.

    Args:
        scores: (n_seqs, T, n_experts) unbiased affinities ``s`` (sigmoid or softmax).
        indices: (n_seqs, T, top_k) chosen experts (after bias and group limits).
        alpha: balance factor (V3: 0.0001, "extremely small", §4.2).

    Returns:
        A scalar tensor; ``alpha`` when every sequence is perfectly balanced.
    """
    check_tensor("scores", scores, ndim=3, kind="float", finite=True, nonempty=True)
    if bool((scores < 0).any()):
        raise ValueError("scores must be affinities >= 0 (sigmoid or softmax scores)")
    n_seqs, seq_len, n_experts = scores.shape
    check_tensor("indices", indices, ndim=3, kind="int")
    if indices.shape[:2] != (n_seqs, seq_len) or not 1 <= indices.shape[2] <= n_experts:
        raise ValueError(f"indices must be (n_seqs={n_seqs}, T={seq_len}, top_k <= {n_experts}) "
                         f"to match scores, got {tuple(indices.shape)}")
    if indices.min() < 0 or indices.max() >= n_experts:
        raise ValueError(f"indices must lie in [0, {n_experts - 1}] (the experts in scores)")
    alpha = check_number("alpha", alpha, 0)
    return _sequence_balance_loss(scores, indices, alpha)


def _sequence_balance_loss(scores: torch.Tensor, indices: torch.Tensor,
                           alpha: float) -> torch.Tensor:
    """:func:`sequence_balance_loss` without its checks (the layer's forward pass)."""
    n_seqs, seq_len, n_experts = scores.shape
    top_k = indices.shape[2]
    chosen = torch.zeros(n_seqs, seq_len, n_experts, device=scores.device)
    chosen.scatter_(2, indices, 1.0)  # (n_seqs, T, n_experts): 1 where expert i is chosen
    f = chosen.sum(dim=1) * n_experts / (top_k * seq_len)  # (n_seqs, n_experts), eq. 18
    s = scores.float()
    p = (s / s.sum(dim=-1, keepdim=True)).mean(dim=1)  # (n_seqs, n_experts), eq. 19-20
    return alpha * (f * p).sum(dim=-1).mean()


# --------------------------------------------------------------------------- dispatch
def _swiglu(x: torch.Tensor, w1: torch.Tensor, w2: torch.Tensor, w3: torch.Tensor) -> torch.Tensor:
    """One SwiGLU expert, ``w2(silu(w1 x) * w3 x)`` as in DeepSeek's ``Expert``."""
    return (F.silu(x @ w1) * (x @ w3)) @ w2


def _check_dispatch(x, weights, indices, w1, w2, w3) -> None:
    """Shape checks shared by the dispatch functions."""
    check_tensor("x", x, ndim=2, kind="float", finite=True)
    check_tensor("weights", weights, ndim=2, kind="float", finite=True)
    check_tensor("indices", indices, ndim=2, kind="int")
    for name, w in (("w1", w1), ("w2", w2), ("w3", w3)):
        check_tensor(name, w, ndim=3, kind="float", finite=True)
    if weights.shape != indices.shape or weights.dim() != 2 or weights.shape[0] != x.shape[0]:
        raise ValueError(
            f"weights and indices must both be (tokens={x.shape[0]}, top_k), got "
            f"{tuple(weights.shape)} and {tuple(indices.shape)}"
        )
    n_experts, d_model, inter = w1.shape
    if d_model != x.shape[1] or w3.shape != w1.shape or w2.shape != (n_experts, inter, d_model):
        raise ValueError(
            "expert weights must be w1, w3: (n_experts, d_model, inter), w2: (n_experts, inter, "
            f"d_model) with d_model={x.shape[1]}; got {tuple(w1.shape)}, {tuple(w2.shape)}, "
            f"{tuple(w3.shape)}"
        )
    if indices.numel():
        lo, hi = int(indices.min()), int(indices.max())
        if lo < 0 or hi >= n_experts:
            raise ValueError(f"indices must be expert numbers in 0..{n_experts - 1}, got values "
                             f"from {lo} to {hi}")
        # a token routed twice to one expert is not a routing (route() never does it), and
        # the dispatchers would weigh the repeat differently
        if (indices.sort(dim=1).values.diff(dim=1) == 0).any():
            raise ValueError("indices must name distinct experts in each row (a top-k routing), "
                             "got a repeated expert")


def dispatch_grouped(x, weights, indices, w1, w2, w3) -> torch.Tensor:
    """Grouped dispatch: sort token-slots by expert, one matmul block per expert.

    Args:
        x: (tokens, d_model) inputs.
        weights: (tokens, top_k) gating weights from :func:`route`.
        indices: (tokens, top_k) chosen experts from :func:`route`.
        w1, w2, w3: stacked expert weights, (n_experts, d_model, inter),
            (n_experts, inter, d_model), (n_experts, d_model, inter).

    Returns:
        (tokens, d_model): ``sum_k weights[t, k] * expert_{indices[t, k]}(x[t])``.
    """
    _check_dispatch(x, weights, indices, w1, w2, w3)
    tokens, top_k = indices.shape
    n_experts = w1.shape[0]
    flat = indices.reshape(-1)  # (tokens * top_k,) expert of each token-slot
    order = torch.argsort(flat, stable=True)  # slots grouped by expert id
    counts = torch.bincount(flat, minlength=n_experts).tolist()
    token_of = order // top_k  # (tokens * top_k,) source token of each sorted slot
    xs = x[token_of]  # (tokens * top_k, d_model), contiguous per expert
    outs = [
        _swiglu(block, w1[e], w2[e], w3[e])
        for e, block in enumerate(xs.split(counts))
        if counts[e]
    ]
    out = torch.cat(outs) * weights.reshape(-1)[order, None].to(x.dtype)  # (tokens*top_k, d)
    return torch.zeros_like(x).index_add_(0, token_of, out)


def dispatch_gather(x, weights, indices, w1, w2, w3) -> torch.Tensor:
    """Per-expert gather loop, as in DeepSeek-V3 ``inference/model.py`` ``MoE.forward``.

    For each expert: find its tokens with ``torch.where`` (a scan over all
    slots), run it, add back. Same arguments and result as :func:`dispatch_grouped`.
    """
    _check_dispatch(x, weights, indices, w1, w2, w3)
    y = torch.zeros_like(x)
    counts = torch.bincount(indices.reshape(-1), minlength=w1.shape[0]).tolist()
    for e in range(w1.shape[0]):
        if counts[e] == 0:
            continue
        idx, slot = torch.where(indices == e)  # tokens routed to e, and which of their k slots
        y[idx] += _swiglu(x[idx], w1[e], w2[e], w3[e]) * weights[idx, slot, None].to(x.dtype)
    return y


def dispatch_naive(x, weights, indices, w1, w2, w3) -> torch.Tensor:
    """Naive reference: every expert runs on every token, unchosen ones weighted 0.

    Obviously correct and as costly as a dense layer with all experts' parameters.
    Same arguments and result as :func:`dispatch_grouped`.
    """
    _check_dispatch(x, weights, indices, w1, w2, w3)
    gates = torch.zeros(x.shape[0], w1.shape[0], dtype=x.dtype, device=x.device)
    gates = gates.scatter(1, indices, weights.to(x.dtype))  # (tokens, n_experts), 0 if unchosen
    y = torch.zeros_like(x)
    for e in range(w1.shape[0]):
        y = y + gates[:, e : e + 1] * _swiglu(x, w1[e], w2[e], w3[e])
    return y


# --------------------------------------------------------------------------- module
@dataclass
class MoEConfig:
    """One MoE feed-forward layer; defaults are a laptop-sized toy.

    Names follow DeepSeek-V3 ``ModelArgs``. ``balance`` picks the cure for
    routing collapse: ``"none"``, ``"aux_loss"`` (V2-style batch-wise loss, weight
    ``aux_alpha``), ``"bias"`` (V3 aux-loss-free, speed ``gamma``),
    ``"seq_aux_loss"`` (V3's sequence-wise loss alone, weight ``seq_alpha``) or
    ``"bias_seq_aux_loss"`` (V3's recipe: the bias plus the sequence-wise loss).
    ``n_expert_groups``/``n_limited_groups`` switch on group-limited routing
    (defaults: off).
    """

    d_model: int = 64
    n_routed_experts: int = 8
    n_shared_experts: int = 1
    n_activated_experts: int = 2  # top_k routed experts per token
    moe_inter_dim: int = 32  # hidden width of one expert
    score_func: str = "softmax"
    route_scale: float = 1.0
    balance: str = "none"
    gamma: float = 0.001  # bias update speed, V3 §2.1.2
    aux_alpha: float = 0.01  # batch-wise auxiliary loss weight (V2 alpha_1 = 0.003)
    n_expert_groups: int = 1  # groups of routed experts (V3: 8, one per node)
    n_limited_groups: int = 1  # groups a token may use (V3: 4 = M nodes)
    seq_alpha: float = 0.0001  # sequence-wise balance loss weight (V3 §4.2)

    def __post_init__(self) -> None:
        for name, lo, hi in (("d_model", 1, MAX_WIDTH), ("n_routed_experts", 1, MAX_EXPERTS),
                             ("n_shared_experts", 0, MAX_SHARED), ("moe_inter_dim", 1, MAX_WIDTH)):
            setattr(self, name, check_int(name, getattr(self, name), lo, hi))
        n = self.n_routed_experts
        k = self.n_activated_experts = check_int("n_activated_experts", self.n_activated_experts,
                                                 1, n)
        check_choice("score_func", self.score_func, SCORE_FUNCS)
        check_choice("balance", self.balance, BALANCE_MODES)
        for name in ("gamma", "aux_alpha", "seq_alpha"):
            setattr(self, name, check_number(name, getattr(self, name), 0))
        self.route_scale = check_number("route_scale", self.route_scale, 0, lo_open=True)
        try:
            _check_groups(n, k, self.n_expert_groups, self.n_limited_groups,
                          self.balance in BIAS_MODES)
        except ValueError as err:  # name the config fields, not route's arguments
            msg = str(err).replace("topk_groups", "n_limited_groups").replace(
                "top_k=", "n_activated_experts=")
            raise ValueError(msg.replace("n_groups", "n_expert_groups")) from None

    def param_counts(self) -> dict[str, int]:
        """Total and per-token activated parameters of the layer (gate included)."""
        expert = 3 * self.d_model * self.moe_inter_dim  # w1, w2, w3
        gate = self.d_model * self.n_routed_experts
        shared = self.n_shared_experts * expert
        return {
            "total": gate + shared + self.n_routed_experts * expert,
            "activated": gate + shared + self.n_activated_experts * expert,
        }

    def to_dict(self) -> dict:
        """Plain dict (for checkpoints and JSON)."""
        return asdict(self)


class Routing(NamedTuple):
    """Routing decisions of one forward call (detached, on CPU)."""

    indices: torch.Tensor  # (tokens, top_k)
    weights: torch.Tensor  # (tokens, top_k)
    load: torch.Tensor  # (n_routed_experts,) token-slots per expert


class MoE(nn.Module):
    """DeepSeekMoE feed-forward layer: shared experts + top-k routed experts.

    ``y = shared(x) + sum_{i in topk} g_i * expert_i(x)`` (V3 eq. 12). Routed
    experts are stored stacked (``w1``, ``w2``, ``w3``) so :func:`dispatch_grouped`
    can run one matmul per expert. After each call ``last_routing`` holds the
    indices, weights and per-expert load; ``aux_loss`` holds the balance loss of
    the loss modes (batch-wise for ``"aux_loss"``, sequence-wise for the
    ``seq`` modes; zero otherwise), and in training the load is accumulated for
    :meth:`update_bias` (the bias modes). For the sequence-wise loss a (batch, T,
    d_model) input is read as ``batch`` sequences of ``T`` tokens (more leading
    dimensions are flattened into the batch); a (T, d_model) input is one sequence.
    """

    def __init__(self, config: MoEConfig):
        super().__init__()
        if not isinstance(config, MoEConfig):
            raise ValueError(f"config must be an explainer.moe.MoEConfig, got "
                             f"{type(config).__name__}")
        self.config = c = config
        self.gate = nn.Linear(c.d_model, c.n_routed_experts, bias=False)
        bound_in, bound_mid = 1 / math.sqrt(c.d_model), 1 / math.sqrt(c.moe_inter_dim)
        shape_in = (c.n_routed_experts, c.d_model, c.moe_inter_dim)
        self.w1 = nn.Parameter(torch.empty(shape_in).uniform_(-bound_in, bound_in))
        self.w3 = nn.Parameter(torch.empty(shape_in).uniform_(-bound_in, bound_in))
        shape_out = (c.n_routed_experts, c.moe_inter_dim, c.d_model)
        self.w2 = nn.Parameter(torch.empty(shape_out).uniform_(-bound_mid, bound_mid))
        self.shared = None
        if c.n_shared_experts:
            inter = c.n_shared_experts * c.moe_inter_dim  # shared experts fused, as in V3
            self.shared = nn.ModuleDict({
                "w1": nn.Linear(c.d_model, inter, bias=False),
                "w2": nn.Linear(inter, c.d_model, bias=False),
                "w3": nn.Linear(c.d_model, inter, bias=False),
            })
        self.register_buffer("expert_bias", torch.zeros(c.n_routed_experts))
        self.register_buffer("_load_since_update", torch.zeros(c.n_routed_experts))
        self.last_routing: Routing | None = None
        self.aux_loss = torch.zeros(())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Apply the layer to (..., d_model) inputs."""
        c = self.config
        if x.shape[-1] != c.d_model:
            raise ValueError(f"x must end in d_model={c.d_model}, got shape {tuple(x.shape)}")
        shape = x.shape
        x = x.reshape(-1, c.d_model)  # (tokens, d_model)
        logits = self.gate(x)  # (tokens, n_routed_experts)
        weights, indices = _route(  # the config checked route's arguments once
            logits,
            **gate_args(c),
            bias=self.expert_bias if c.balance in BIAS_MODES else None,
        )
        y = dispatch_grouped(x, weights, indices, self.w1, self.w2, self.w3)
        if self.shared is not None:
            s = self.shared
            y = y + s["w2"](F.silu(s["w1"](x)) * s["w3"](x))
        load = _expert_load(indices, c.n_routed_experts)
        self.last_routing = Routing(indices.detach().cpu(), weights.detach().cpu(), load.cpu())
        if self.training and c.balance in BIAS_MODES:
            self._load_since_update += load.float()
        if c.balance in LOSS_MODES:
            probs = _scores(logits, c.score_func)
            if c.balance == "aux_loss":
                if c.score_func == "sigmoid":
                    probs = probs / probs.sum(dim=-1, keepdim=True)  # normalise, as V3's eq. 19
                self.aux_loss = _load_balance_loss(probs, indices, c.aux_alpha)
            else:
                seq_len = shape[-2] if len(shape) >= 3 else x.shape[0]
                self.aux_loss = _sequence_balance_loss(
                    probs.reshape(-1, seq_len, c.n_routed_experts),
                    indices.reshape(-1, seq_len, c.n_activated_experts), c.seq_alpha)
        return y.reshape(shape)

    @torch.no_grad()
    def update_bias(self) -> None:
        """Apply :func:`update_bias` with the load seen since the last call (bias modes only)."""
        if self.config.balance not in BIAS_MODES or self._load_since_update.sum() == 0:
            return
        new = update_bias(self.expert_bias, self._load_since_update, self.config.gamma)
        self.expert_bias.copy_(new)
        self._load_since_update.zero_()


# --------------------------------------------------------------------------- the bias, alone
BIAS_SIM_GAMMAS = (0.0, 0.001, 0.003, 0.01, 0.03, 0.1)  # bias update speeds the chapter compares
BIAS_SIM_TOP_K = (1, 2, 4)


def bias_simulation(gamma: float, top_k: int, *, steps: int = 150, n_experts: int = 8,
                    tokens: int = 1024, seed: int = 0) -> pd.DataFrame:
    """:func:`update_bias` alone on a fixed, skewed router: nothing is trained, only the bias moves.

    The router scores ``tokens`` random tokens (standard normal logits, seeded) with
    experts 0, 1 and 2 favoured by +3, +2 and +1; after each routing step the bias
    is updated from that step's load.

    Args:
        gamma: bias update speed, ``>= 0`` (0: the bias never moves).
        top_k: experts per token, in ``[1, n_experts]``.
        steps: update steps, in ``[1, 10**4]``.
        n_experts: experts, in ``[4, 1024]`` (three favoured ones and others).
        tokens: tokens routed per step, in ``[1, 2**16]``.
        seed: random seed of the logits.

    Returns:
        One row per step ``0..steps``: ``step``, ``imbalance`` (max / mean load,
        before that step's update), ``gamma``, ``top_k``.
    """
    gamma = check_number("gamma", gamma, 0)
    steps = check_int("steps", steps, 1, 10**4)
    n_experts = check_int("n_experts", n_experts, 4, MAX_EXPERTS)
    top_k = check_int("top_k", top_k, 1, n_experts)
    tokens = check_int("tokens", tokens, 1, 2**16)
    g = torch.Generator().manual_seed(check_seed("seed", seed))
    skew = torch.tensor([3.0, 2.0, 1.0] + [0.0] * (n_experts - 3))
    logits = torch.randn(tokens, n_experts, generator=g) + skew  # (tokens, n_experts)
    bias, rows = torch.zeros(n_experts), []
    for step in range(steps + 1):
        load = _expert_load(_route(logits, top_k, score_func="softmax", bias=bias,
                                   route_scale=1.0, n_groups=1, topk_groups=1)[1], n_experts)
        rows.append({"step": step, "imbalance": imbalance(load), "gamma": gamma, "top_k": top_k})
        bias = _update_bias(bias, load, gamma)
    return pd.DataFrame(rows)


def bias_simulation_grid(gammas: tuple[float, ...] = BIAS_SIM_GAMMAS,
                         top_ks: tuple[int, ...] = BIAS_SIM_TOP_K, **kwargs) -> pd.DataFrame:
    """:func:`bias_simulation` for every pair of ``gammas`` and ``top_ks``, stacked.

    ``kwargs`` go to :func:`bias_simulation` (``steps``, ``n_experts``, ``tokens``, ``seed``).
    """
    for name, values in (("gammas", gammas), ("top_ks", top_ks)):
        if not isinstance(values, (list, tuple)) or not values:
            raise ValueError(f"{name} must be a non-empty list or tuple, got {values!r}")
    gammas = [check_number(f"gammas[{i}]", g, 0) for i, g in enumerate(gammas)]
    top_ks = [check_int(f"top_ks[{i}]", k, 1, MAX_EXPERTS) for i, k in enumerate(top_ks)]
    return pd.concat([bias_simulation(g, k, **kwargs) for g in gammas for k in top_ks],
                     ignore_index=True)


# --------------------------------------------------------------------------- shipped runs
BALANCE_RUNS = ("none", "aux_loss", "bias")  # the three runs whose weights are shipped
RUN_LABELS = {
    "none": "no balancing", "aux_loss": "auxiliary loss (V2 style)",
    "bias": "bias balancing (V3 style)", "sigmoid_none": "sigmoid scores, no balancing",
    "sigmoid_bias": "sigmoid scores, bias balancing", "coarse": "coarse: 4 experts, top-1",
    "fine": "fine: 16 experts, top-4", "fine_shared": "fine + shared: 1 shared + 15, top-3",
}


def load_runs() -> pd.DataFrame:
    """``data/moe_runs.csv`` (made by ``scripts/train_moe.py``), indexed by ``run``."""
    from explainer.data import read_csv

    return read_csv("moe_runs.csv").set_index("run")


def load_training_log() -> pd.DataFrame:
    """``data/moe_training_log.csv``: per run, 5-step means of loss, aux loss and imbalance."""
    from explainer.data import read_csv

    return read_csv("moe_training_log.csv")


def load_expert_load() -> pd.DataFrame:
    """``data/moe_expert_load.csv``: each expert's share of token-slots per 25-step window."""
    from explainer.data import read_csv

    return read_csv("moe_expert_load.csv")


def load_benchmark() -> pd.DataFrame:
    """``data/moe_benchmark.csv`` (``benchmarks/moe.py``), indexed by ``implementation``."""
    from explainer.data import read_csv

    return read_csv("moe_benchmark.csv").set_index("implementation")


def activated_params_table(toy: dict[str, int]) -> pd.DataFrame:
    """Total and activated parameters: a tiny model next to DeepSeek-V2 and V3.

    V2 and V3 are counted from their published configurations
    (:func:`explainer.architecture.param_counts`) and set beside the papers'
    figures (``data/models.csv``).

    Args:
        toy: ``{"total": ..., "activated": ...}`` of the tiny model (``model.param_counts()``).

    Returns:
        Indexed by model: ``total``, ``activated``, ``published total``, ``published
        activated`` (blank for the tiny model), ``activated share``.
    """
    from explainer.architecture import load_config, param_counts
    from explainer.costs import load_models

    if not isinstance(toy, dict) or not {"total", "activated"} <= set(toy):
        raise ValueError(f"toy must be a dict with 'total' and 'activated' parameter counts "
                         f"(model.param_counts()), got {toy!r}")
    total = check_int("toy['total']", toy["total"], 1)
    check_int("toy['activated']", toy["activated"], 1, total)
    published = load_models()
    rows = [{"model": "this chapter's tiny MoE LM", "total": toy["total"],
             "activated": toy["activated"], "published total": None,
             "published activated": None}]
    for name, config in [("DeepSeek-V2", "deepseek_v2_236b"), ("DeepSeek-V3", "deepseek_v3_671b")]:
        counts = param_counts(load_config(config))
        rows.append({"model": name, "total": counts["total"], "activated": counts["activated"],
                     "published total": published.loc[name, "total_params"],
                     "published activated": published.loc[name, "active_params"]})
    table = pd.DataFrame(rows).set_index("model")
    table["activated share"] = table["activated"] / table["total"]
    return table


def format_params_table(table: pd.DataFrame) -> pd.DataFrame:
    """:func:`activated_params_table` as text for the page: counts with commas, share in %."""
    columns = ("total", "activated", "published total", "published activated",
               "activated share")
    if not isinstance(table, pd.DataFrame) or not set(columns) <= set(table.columns):
        raise ValueError(f"table must be a DataFrame of activated_params_table() with columns "
                         f"{list(columns)}, got "
                         f"{list(table.columns) if isinstance(table, pd.DataFrame) else table!r}")
    shown = table.copy().astype(object)
    for col in ("total", "activated", "published total", "published activated"):
        shown[col] = table[col].map(lambda v: "" if pd.isna(v) else f"{v:,.0f}")
    shown["activated share"] = table["activated share"].map("{:.1%}".format)
    return shown
