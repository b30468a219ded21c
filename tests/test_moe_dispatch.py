"""explainer.moe_dispatch: nodes per token and bytes across nodes, by hand and by brute force."""

import math

import pandas as pd
import pytest
import torch

from explainer.moe_dispatch import (
    TOPK_GROUPS,
    V3_CLUSTER,
    Cluster,
    comm_constants,
    node_distribution,
    simulate,
    token_traffic,
    traffic_summary,
)

TINY = Cluster(n_nodes=2, gpus_per_node=2, n_experts=8)  # 2 experts per GPU, 4 per node


def test_token_traffic_by_hand():
    # token 0 on GPU 0 (node 0, in-node index 0); experts 0 (GPU 0), 3 (GPU 1), 4 (GPU 2), 7 (GPU 3)
    # token 1 on GPU 3 (node 1, in-node index 1); experts 0 and 1, both on GPU 0
    t = token_traffic(torch.tensor([[0, 3, 4, 7], [0, 1, 0, 1]]), TINY,
                      source_gpu=torch.tensor([0, 3]))
    assert t.nodes.tolist() == [2, 1]
    assert t.gpus.tolist() == [4, 1]
    assert t.remote_nodes.tolist() == [1, 1]
    assert t.remote_experts.tolist() == [2, 4]
    # token 0: node 0 from GPU 0 to GPU 1; node 1 enters at GPU 2 (a target), on to GPU 3
    # token 1: enters node 0 at in-node index 1 (GPU 1, not a target), one hop to GPU 0
    assert t.nvlink_hops.tolist() == [2, 1]


def _brute_force(indices, cluster, source_gpu):
    rows = []
    for experts, src in zip(indices.tolist(), source_gpu.tolist()):
        gpus = {e // cluster.experts_per_gpu for e in experts}
        nodes = {g // cluster.gpus_per_node for g in gpus}
        home, local = divmod(src, cluster.gpus_per_node)
        hops = 0
        for n in nodes:
            entry = n * cluster.gpus_per_node + local
            hops += len([g for g in gpus if g // cluster.gpus_per_node == n and g != entry])
        far = [e for e in experts if e // cluster.experts_per_node != home]
        rows.append((len(nodes), len(gpus), len(nodes - {home}), len(far), hops))
    return rows


def test_token_traffic_matches_brute_force_on_v3_cluster():
    g = torch.Generator().manual_seed(0)
    indices = torch.stack([torch.randperm(256, generator=g)[:8] for _ in range(300)])
    source = torch.randint(0, 64, (300,), generator=g)
    t = token_traffic(indices, V3_CLUSTER, source_gpu=source)
    cols = ["nodes", "gpus", "remote_nodes", "remote_experts", "nvlink_hops"]
    assert [tuple(r) for r in t[cols].itertuples(index=False)] == _brute_force(
        indices, V3_CLUSTER, source)


def test_unlimited_routing_spreads_like_a_random_8_subset():
    # i.i.d. logits make the chosen 8 experts a uniform random subset of the 256: the expected
    # number of distinct nodes is 8 * (1 - C(224, 8) / C(256, 8))
    expected = 8 * (1 - math.comb(224, 8) / math.comb(256, 8))
    t = simulate(None, tokens=4096)
    assert abs(t.nodes.mean() - expected) < 0.05
    assert t.nodes.max() > 4


@pytest.mark.parametrize("m", [1, 2, 4])
def test_group_limit_caps_nodes_and_cuts_infiniband_bytes(m):
    limited, free = simulate(m, tokens=2048), simulate(None, tokens=2048)
    assert limited.nodes.max() <= m
    assert traffic_summary(limited)["ib_bytes"] < traffic_summary(free)["ib_bytes"]


def test_traffic_summary_arithmetic():
    t = token_traffic(torch.tensor([[0, 3, 4, 7], [0, 1, 0, 1]]), TINY,
                      source_gpu=torch.tensor([0, 3]))
    c = {"hidden_dim": 100, "dispatch_bytes": 1.0, "combine_bytes": 2.0, "ib_gb_per_s": 50.0,
         "nvlink_gb_per_s": 160.0}
    s = traffic_summary(t, c)
    assert s["nodes"] == 1.5 and s["max_nodes"] == 2
    assert s["ib_bytes"] == 1 * 300  # one remote node per token, 300 bytes there and back
    assert s["ib_bytes_per_expert_copy"] == 3 * 300
    assert s["nvlink_bytes"] == 1.5 * 300
    assert math.isclose(s["ib_us"], 300 / 50e9 * 1e6)
    assert math.isclose(s["nvlink_us"], 450 / 160e9 * 1e6)


def test_constants_come_from_the_v3_report_data():
    c = comm_constants()
    assert (c["nvlink_gb_per_s"], c["ib_gb_per_s"]) == (160.0, 50.0)
    assert (c["dispatch_bytes"], c["combine_bytes"], c["hidden_dim"]) == (1.0, 2.0, 7168)
    assert c["max_nodes_per_token"] == TOPK_GROUPS.default == 4
    assert TOPK_GROUPS.max == V3_CLUSTER.n_nodes
    assert V3_CLUSTER.experts_per_gpu == 4 and V3_CLUSTER.experts_per_node == 32


def test_node_distribution_shares_sum_to_one():
    d = node_distribution((None, 2), tokens=512)
    assert set(d.limit) == {0, 2}
    for _, part in d.groupby("limit"):
        assert math.isclose(part.share.sum(), 1.0)
    assert d[(d.limit == 2) & (d.nodes > 2)].share.sum() == 0


@pytest.mark.parametrize("call, match", [
    (lambda: Cluster(n_nodes=3, gpus_per_node=8, n_experts=256), "n_experts"),
    (lambda: Cluster(n_nodes=0), "n_nodes"),
    (lambda: simulate(0), "topk_groups"),
    (lambda: simulate(9), "topk_groups"),
    (lambda: token_traffic(torch.tensor([[0, 8]]), TINY), "indices"),
    (lambda: token_traffic(torch.tensor([[0, 1]]), TINY, source_gpu=torch.tensor([0, 1])),
     "source_gpu"),
])
def test_bad_input_raises_value_error(call, match):
    with pytest.raises(ValueError, match=match):
        call()


@pytest.mark.parametrize("call, name", [
    (lambda: simulate(1, cluster=TINY, top_k=5), "top_k"),  # 1 node of TINY holds 4 experts
    (lambda: simulate(2, cluster=TINY, top_k=2, score_func="nope"), "score_func"),
    (lambda: simulate(2, cluster=TINY, top_k=2, route_scale=float("nan")), "route_scale"),
    (lambda: simulate(2, cluster=TINY, top_k=2, seed="x"), "seed"),
    (lambda: simulate(2, cluster=TINY, top_k=2, tokens=2**40), "tokens"),
    (lambda: simulate(2, cluster="v3"), "cluster"),
    (lambda: node_distribution("ab", cluster=TINY), "topk_groups"),
    (lambda: token_traffic(torch.tensor([[0.0, 1.0]]), TINY), "indices"),
    (lambda: token_traffic(torch.zeros(0, 2, dtype=torch.long), TINY), "indices"),
    (lambda: token_traffic(torch.tensor([[0, 1]]), TINY, source_gpu=torch.tensor([4])),
     "source_gpu"),
    (lambda: traffic_summary(pd.DataFrame()), "traffic"),
    (lambda: traffic_summary(token_traffic(torch.tensor([[0, 1]]), TINY), {"hidden_dim": 1}),
     "constants"),
    (lambda: Cluster(n_nodes=True), "n_nodes"),
])
def test_bad_arguments_are_named(call, name):
    with pytest.raises(ValueError, match=f"^{name}"):
        call()


@pytest.mark.parametrize("bad, match", [
    ([[0, 4]], r"indices must be expert numbers in 0\.\.3"),
    ([[-1, 2]], r"indices must be expert numbers in 0\.\.3"),
    ([[3, 3]], "distinct experts"),
])
def test_every_dispatcher_refuses_the_same_bad_routing(bad, match):
    from explainer import moe

    torch.manual_seed(0)
    x = torch.randn(1, 8)
    w1, w3, w2 = torch.randn(4, 8, 6), torch.randn(4, 8, 6), torch.randn(4, 6, 8)
    idx = torch.tensor(bad)
    weights = torch.full(idx.shape, 0.5)
    for dispatch in (moe.dispatch_grouped, moe.dispatch_gather, moe.dispatch_naive):
        with pytest.raises(ValueError, match=match):
            dispatch(x, weights, idx, w1, w2, w3)
