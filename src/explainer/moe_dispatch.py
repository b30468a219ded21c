"""Expert-parallel dispatch across nodes, simulated: what group-limited routing buys.

DeepSeek-V3 spreads each MoE layer's 256 routed experts over 64 GPUs in 8 nodes
(4 experts per GPU, 32 per node; V3 report §3.2 and §4.2). A token's hidden state
has to travel to every GPU that hosts one of its 8 chosen experts (*dispatch*) and
the experts' outputs travel back (*combine*). Inside a node that traffic rides
NVLink (160 GB/s); between nodes it rides InfiniBand (50 GB/s), 3.2 times slower
(§3.2.2). V3's kernels send a token over InfiniBand **once per target node**, to
the GPU with the same in-node index, which forwards it over NVLink to the GPUs
that host its experts. So the InfiniBand traffic of a token is proportional to
the number of *other* nodes its experts occupy, and node-limited routing (the
experts' groups are the nodes, ``n_limited_groups = M = 4``) caps it.

This module counts that traffic for a batch of routing decisions:

* :class:`Cluster` places experts on GPUs and nodes (contiguous blocks, so group
  ``g`` of :func:`explainer.moe.route` is node ``g``);
* :func:`token_traffic` counts, per token, the distinct nodes and GPUs its experts
  occupy, the InfiniBand copies (remote nodes) and the NVLink hops;
* :func:`traffic_summary` turns the counts into bytes with V3's widths (dispatch in
  FP8, one byte per value; combine in BF16, two bytes; §3.3.3) and into time with
  the report's bandwidths, read from ``data/``;
* :func:`simulate` routes synthetic tokens through V3's gate with and without the
  group limit.

The tokens are synthetic: every router logit an independent standard normal, so no
expert and no node is preferred. That is the worst case for locality; a trained
router may cluster a token's experts more, which would lower the unlimited figures.
The numbers are a model of the traffic, not a measurement of DeepSeek's cluster.
FP8 scaling factors (one per 128 values) and message headers are left out.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import pandas as pd
import torch

from explainer.checks import check_choice, check_int, check_number, check_seed, check_tensor
from explainer.controls import Slider
from explainer.data import read_csv
from explainer.moe import route

__all__ = [
    "TOPK_GROUPS",
    "V3_CLUSTER",
    "Cluster",
    "comm_constants",
    "node_distribution",
    "simulate",
    "synthetic_logits",
    "token_traffic",
    "traffic_summary",
]


_MAX_EXPERTS = 2**16  # experts a cluster may hold (V3: 256)
_MAX_TOKENS = 2**20  # synthetic tokens per simulation (the chapter uses 4096)
_SCORE_FUNCS = ("softmax", "sigmoid")
_TRAFFIC_COLUMNS = ("nodes", "gpus", "remote_nodes", "remote_experts", "nvlink_hops")
_CONSTANT_KEYS = ("nvlink_gb_per_s", "ib_gb_per_s", "dispatch_bytes", "combine_bytes",
                  "hidden_dim")


def _check_cluster(cluster) -> None:
    if not isinstance(cluster, Cluster):
        raise ValueError(f"cluster must be a Cluster, got {type(cluster).__name__}")


@dataclass(frozen=True)
class Cluster:
    """Experts placed on ``n_nodes`` nodes of ``gpus_per_node`` GPUs, contiguously.

    Expert ``e`` lives on GPU ``e // experts_per_gpu`` (numbered across the
    cluster) of node ``e // experts_per_node``, so expert groups of equal size in
    :func:`explainer.moe.route` with ``n_groups = n_nodes`` are exactly the nodes.
    """

    n_nodes: int = 8
    gpus_per_node: int = 8
    n_experts: int = 256

    def __post_init__(self) -> None:
        for name, most in (("n_nodes", 1024), ("gpus_per_node", 64), ("n_experts", _MAX_EXPERTS)):
            object.__setattr__(self, name, check_int(name, getattr(self, name), 1, most))
        if self.n_experts % (self.n_nodes * self.gpus_per_node):
            raise ValueError(f"n_experts={self.n_experts} must split evenly over n_nodes * "
                             f"gpus_per_node = {self.n_nodes * self.gpus_per_node} GPUs")

    @property
    def n_gpus(self) -> int:
        """GPUs in the expert-parallel group."""
        return self.n_nodes * self.gpus_per_node

    @property
    def experts_per_gpu(self) -> int:
        """Routed experts on each GPU."""
        return self.n_experts // self.n_gpus

    @property
    def experts_per_node(self) -> int:
        """Routed experts on each node (one routing group)."""
        return self.n_experts // self.n_nodes


V3_CLUSTER = Cluster(n_nodes=8, gpus_per_node=8, n_experts=256)  # V3 §3.2, §4.2: EP64 on 8 nodes

TOPK_GROUPS = Slider("topk_groups", "nodes a token may use (M)", 1, 8, 1, default=4)


@lru_cache(maxsize=1)
def comm_constants() -> dict[str, float]:
    """V3's communication figures from ``data/``: bandwidths, byte widths, hidden size.

    Returns:
        ``nvlink_gb_per_s`` and ``ib_gb_per_s`` (V3 report §3.2.2, in
        ``training_system.csv``), ``dispatch_bytes`` and ``combine_bytes`` per value
        (FP8 and BF16, §3.3.3, in ``moe_dispatch.csv``), ``max_nodes_per_token``
        (M = 4) and ``hidden_dim`` (7168, V3's ``dim``, ``configs/deepseek_v3_671b.json``).
    """
    from explainer.architecture import load_config

    system = read_csv("training_system.csv").set_index("quantity")["value"]
    widths = read_csv("moe_dispatch.csv").set_index("quantity")["value"]
    return {
        "nvlink_gb_per_s": float(system["nvlink_bandwidth"]),
        "ib_gb_per_s": float(system["ib_bandwidth"]),
        "max_nodes_per_token": int(system["max_nodes_per_token"]),
        "dispatch_bytes": float(widths["dispatch_bytes_per_value"]),
        "combine_bytes": float(widths["combine_bytes_per_value"]),
        "hidden_dim": int(load_config("deepseek_v3_671b").dim),
    }


def token_traffic(indices: torch.Tensor, cluster: Cluster = V3_CLUSTER,
                  source_gpu: torch.Tensor | None = None) -> pd.DataFrame:
    """Per-token communication of one dispatch, counted the way V3's kernels send.

    Args:
        indices: (tokens, top_k) chosen experts (from :func:`explainer.moe.route`).
        cluster: where the experts live.
        source_gpu: (tokens,) GPU holding each token before dispatch; by default
            tokens are spread round-robin over all GPUs (token ``t`` on GPU
            ``t % n_gpus``).

    Returns:
        One row per token: ``nodes`` (distinct nodes hosting its experts), ``gpus``
        (distinct GPUs), ``remote_nodes`` (nodes other than its own: one
        InfiniBand copy each), ``remote_experts`` (chosen experts on other nodes:
        the InfiniBand copies of a plain all-to-all that sends one copy per expert)
        and ``nvlink_hops`` (NVLink copies: from the GPU where the token is, or
        where its InfiniBand copy lands, to each other target GPU of that node).

    Raises:
        ValueError: ``indices`` not a ``(tokens, top_k)`` integer tensor with at least one
            token, ``1 <= top_k <= n_experts`` and each expert in ``[0, n_experts)``;
            ``source_gpu`` not ``(tokens,)`` GPUs in ``[0, n_gpus)``.
    """
    _check_cluster(cluster)
    check_tensor("indices", indices, ndim=2, kind="int")
    tokens, top_k = indices.shape
    if tokens < 1 or not 1 <= top_k <= cluster.n_experts:
        raise ValueError(f"indices must be (tokens, top_k) with tokens >= 1 and top_k in "
                         f"[1, {cluster.n_experts}], got shape {tuple(indices.shape)}")
    if indices.min() < 0 or indices.max() >= cluster.n_experts:
        raise ValueError(f"indices must lie in [0, {cluster.n_experts - 1}] "
                         f"(cluster.n_experts={cluster.n_experts})")
    indices = indices.long()
    if source_gpu is None:
        source_gpu = torch.arange(tokens) % cluster.n_gpus
    check_tensor("source_gpu", source_gpu, kind="int")
    if source_gpu.shape != (tokens,):
        raise ValueError(f"source_gpu must have shape ({tokens},), got {tuple(source_gpu.shape)}")
    if source_gpu.min() < 0 or source_gpu.max() >= cluster.n_gpus:
        raise ValueError(f"source_gpu must lie in [0, {cluster.n_gpus - 1}] (cluster.n_gpus)")
    source_gpu = source_gpu.long()
    gpu = indices // cluster.experts_per_gpu  # (tokens, top_k) GPU of each chosen expert
    node = gpu // cluster.gpus_per_node  # (tokens, top_k)
    home_node = source_gpu // cluster.gpus_per_node  # (tokens,)
    local_index = source_gpu % cluster.gpus_per_node  # in-node index of the token's GPU
    on_gpu = torch.zeros(tokens, cluster.n_gpus, dtype=torch.bool)
    on_gpu.scatter_(1, gpu, True)  # (tokens, n_gpus): GPUs the token must reach
    per_node = on_gpu.reshape(tokens, cluster.n_nodes, cluster.gpus_per_node)
    node_hit = per_node.any(dim=-1)  # (tokens, n_nodes)
    rows = torch.arange(tokens)
    remote = node_hit.clone()
    remote[rows, home_node] = False
    # on every reached node the copy enters at the GPU with the token's in-node index
    # (its own GPU on the home node); each other target GPU there costs one NVLink hop
    entry_is_target = per_node[rows, :, local_index]  # (tokens, n_nodes)
    hops = per_node.sum(dim=-1) - (entry_is_target & node_hit).long()
    return pd.DataFrame({
        "nodes": node_hit.sum(dim=1).numpy(),
        "gpus": on_gpu.sum(dim=1).numpy(),
        "remote_nodes": remote.sum(dim=1).numpy(),
        "remote_experts": (node != home_node[:, None]).sum(dim=1).numpy(),
        "nvlink_hops": hops.sum(dim=1).numpy(),
    })


def traffic_summary(traffic: pd.DataFrame, constants: dict[str, float] | None = None
                    ) -> dict[str, float]:
    """Means per token and per MoE layer: nodes, bytes over each link, and link time.

    Bytes count dispatch (``hidden_dim`` values at ``dispatch_bytes``) plus combine
    (``hidden_dim`` values at ``combine_bytes``) along the same paths. Times are the
    bytes of one token divided by one GPU's bandwidth on that link, in
    microseconds: a GPU that dispatches ``B`` tokens spends ``B`` times as long.

    Args:
        traffic: rows from :func:`token_traffic`.
        constants: :func:`comm_constants` (the default) or a dict with the same keys.

    Returns:
        ``nodes``, ``remote_nodes``, ``ib_bytes``, ``ib_bytes_per_expert_copy`` (a plain
        all-to-all), ``nvlink_bytes``, ``ib_us``, ``nvlink_us`` and ``max_nodes``.

    Raises:
        ValueError: ``traffic`` not a non-empty frame with :func:`token_traffic`'s columns,
            or ``constants`` missing a key or holding a value that is not a positive number.
    """
    if not isinstance(traffic, pd.DataFrame) or traffic.empty or not set(
            _TRAFFIC_COLUMNS) <= set(traffic.columns):
        raise ValueError(f"traffic must be a non-empty DataFrame from token_traffic() with "
                         f"columns {list(_TRAFFIC_COLUMNS)}, got {_frame_summary(traffic)}")
    if constants is not None:
        if not isinstance(constants, dict) or not set(_CONSTANT_KEYS) <= set(constants):
            raise ValueError(f"constants must be None or a dict with keys "
                             f"{list(_CONSTANT_KEYS)}, got {constants!r}")
        for k in _CONSTANT_KEYS:
            check_number(f"constants[{k!r}]", constants[k], 0, lo_open=True)
    c = comm_constants() if constants is None else constants
    per_copy = c["hidden_dim"] * (c["dispatch_bytes"] + c["combine_bytes"])  # bytes, both ways
    ib = traffic.remote_nodes.mean() * per_copy
    nvl = traffic.nvlink_hops.mean() * per_copy
    return {
        "nodes": float(traffic.nodes.mean()),
        "max_nodes": int(traffic.nodes.max()),
        "remote_nodes": float(traffic.remote_nodes.mean()),
        "ib_bytes": float(ib),
        "ib_bytes_per_expert_copy": float(traffic.remote_experts.mean() * per_copy),
        "nvlink_bytes": float(nvl),
        "ib_us": float(ib / (c["ib_gb_per_s"] * 1e9) * 1e6),
        "nvlink_us": float(nvl / (c["nvlink_gb_per_s"] * 1e9) * 1e6),
    }


def _frame_summary(x) -> str:
    if isinstance(x, pd.DataFrame):
        return f"a DataFrame with {len(x)} rows and columns {list(x.columns)}"
    return type(x).__name__


def synthetic_logits(tokens: int = 4096, n_experts: int = 256, seed: int = 0) -> torch.Tensor:
    """(tokens, n_experts) router logits, each an independent standard normal (seeded).

    ``tokens`` is at most 2**20 and ``n_experts`` at most 2**16 (a simulation, not a cluster).
    """
    tokens = check_int("tokens", tokens, 1, _MAX_TOKENS)
    n_experts = check_int("n_experts", n_experts, 1, _MAX_EXPERTS)
    seed = check_seed("seed", seed)
    g = torch.Generator().manual_seed(seed)
    return torch.randn(tokens, n_experts, generator=g)


def simulate(topk_groups: int | None = 4, *, tokens: int = 4096, seed: int = 0,
             cluster: Cluster = V3_CLUSTER, top_k: int = 8, score_func: str = "sigmoid",
             route_scale: float = 2.5) -> pd.DataFrame:
    """Route synthetic tokens through a V3-style gate and count their traffic.

    The gate is V3's (sigmoid scores, a bias, so a group scores the sum of its two
    best experts) with the bias at zero; each node is one routing group.

    Args:
        topk_groups: nodes (groups) each token may use, ``1..n_nodes``; ``None``
            routes with no group limit.
        tokens, seed: size and seed of the synthetic batch.
        cluster: expert placement (V3's by default).
        top_k, score_func, route_scale: the gate (V3's by default).

    Returns:
        :func:`token_traffic` rows, one per token.

    Raises:
        ValueError: any argument out of range (named), or ``top_k`` larger than the experts
            that ``topk_groups`` nodes hold.
    """
    _check_cluster(cluster)
    if topk_groups is not None and (isinstance(topk_groups, bool)
                                    or not isinstance(topk_groups, int)
                                    or not 1 <= topk_groups <= cluster.n_nodes):
        raise ValueError(f"topk_groups must be an int in [1, {cluster.n_nodes}] (n_nodes) or "
                         f"None (no limit), got {topk_groups!r}")
    reachable = cluster.n_experts if topk_groups is None else (topk_groups
                                                               * cluster.experts_per_node)
    top_k = check_int("top_k", top_k, 1, reachable)
    check_choice("score_func", score_func, _SCORE_FUNCS)
    route_scale = check_number("route_scale", route_scale, 0, lo_open=True)
    tokens = check_int("tokens", tokens, 1, _MAX_TOKENS)
    seed = check_seed("seed", seed)
    logits = synthetic_logits(tokens, cluster.n_experts, seed)
    groups = {} if topk_groups is None else {"n_groups": cluster.n_nodes,
                                             "topk_groups": topk_groups}
    _, indices = route(logits, top_k, score_func=score_func, route_scale=route_scale,
                       bias=torch.zeros(cluster.n_experts), **groups)
    return token_traffic(indices, cluster)


def node_distribution(topk_groups: list[int | None] | tuple[int | None, ...] = (None, 4), *,
                      tokens: int = 4096, seed: int = 0,
                      cluster: Cluster = V3_CLUSTER) -> pd.DataFrame:
    """Share of tokens whose experts occupy 1, 2, ... nodes, for each group limit.

    Returns:
        Long table: ``limit`` (``M`` or 0 for no limit), ``nodes``, ``share`` (of
        tokens), plus per-limit means ``mean_nodes``, ``ib_bytes`` and ``ib_us``
        (:func:`traffic_summary`), repeated on every row of that limit.

    Raises:
        ValueError: ``topk_groups`` not a non-empty list or tuple, or a value
            :func:`simulate` refuses (named).
    """
    if not isinstance(topk_groups, (list, tuple)) or not topk_groups:
        raise ValueError(f"topk_groups must be a non-empty list or tuple of group limits "
                         f"(ints, or None for no limit), got {topk_groups!r}")
    _check_cluster(cluster)
    frames = []
    for m in topk_groups:
        t = simulate(m, tokens=tokens, seed=seed, cluster=cluster)
        s = traffic_summary(t)
        share = t.nodes.value_counts(normalize=True).reindex(
            range(1, cluster.n_nodes + 1), fill_value=0.0)
        frames.append(pd.DataFrame({
            "limit": 0 if m is None else m, "nodes": share.index, "share": share.values,
            "mean_nodes": s["nodes"], "ib_bytes": s["ib_bytes"], "ib_us": s["ib_us"]}))
    return pd.concat(frames, ignore_index=True)
