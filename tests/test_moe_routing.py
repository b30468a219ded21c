"""Group-limited routing and V3's balancing recipe in explainer.moe, checked against the math.

The reference gate below is written from DeepSeek-V3's report (§2.1.2, eq. 13-16, node-limited
routing) and the behaviour of ``Gate.forward`` in deepseek-ai/DeepSeek-V3 ``inference/model.py``,
one token at a time with sorted Python lists, so that it shares no code and no tensor tricks
with :func:`explainer.moe.route`. DeepSeek's code is not imported.
"""

import math

import numpy as np
import pytest
import torch

from explainer.architecture import load_config
from explainer.moe import (
    MoE,
    MoEConfig,
    gate_args,
    load_balance_loss,
    route,
    sequence_balance_loss,
)


# ------------------------------------------------------------------ independent reference gate
def reference_gate(logits, top_k, score_func, bias, route_scale, n_groups, topk_groups):
    """One dict {expert: weight} per token, computed in float32 with plain Python."""
    logits = np.asarray(logits, dtype=np.float32)
    n_experts = logits.shape[1]
    size = n_experts // n_groups
    out = []
    for z in logits:
        if score_func == "softmax":
            e = np.exp(z - z.max())
            s = e / e.sum()
        else:
            s = np.float32(1) / (np.float32(1) + np.exp(-z))
        sel = s if bias is None else s + np.asarray(bias, dtype=np.float32)
        allowed = list(range(n_experts))
        if n_groups > 1:
            group_score = []
            for g in range(n_groups):
                best = sorted(sel[g * size:(g + 1) * size], reverse=True)
                # with a bias: the sum of the group's top K_r / M = 2 scores; without: its maximum
                group_score.append(best[0] + best[1] if bias is not None else best[0])
            kept = sorted(range(n_groups), key=lambda g: -group_score[g])[:topk_groups]
            allowed = [e for g in kept for e in range(g * size, (g + 1) * size)]
        chosen = sorted(allowed, key=lambda e: -sel[e])[:top_k]  # selection on biased scores
        w = np.array([s[e] for e in chosen], dtype=np.float32)  # weights: unbiased scores
        if score_func == "sigmoid":
            w = w / w.sum()
        out.append(dict(zip(chosen, (w * np.float32(route_scale)).tolist())))
    return out


CASES = {
    # name: (n_experts, n_groups, topk_groups, top_k, score_func, route_scale, with_bias)
    "V3 (256 experts, 8 groups keep 4, top-8, sigmoid, bias)": (256, 8, 4, 8, "sigmoid", 2.5, True),
    "V2 (160 experts, 8 groups keep 3, top-6, softmax)": (160, 8, 3, 6, "softmax", 16.0, False),
    "V3 without group limit": (256, 1, 1, 8, "sigmoid", 2.5, True),
    "V2 without group limit": (160, 1, 1, 6, "softmax", 16.0, False),
    "V3 groups, no bias (group max)": (256, 8, 4, 8, "sigmoid", 2.5, False),
    "V2 groups with a bias (top-2 sum)": (160, 8, 3, 6, "softmax", 16.0, True),
}


def _inputs(n_experts, with_bias, tokens=384, seed=0):
    g = torch.Generator().manual_seed(seed)
    logits = 2.0 * torch.randn(tokens, n_experts, generator=g)  # (tokens, n_experts) float32
    bias = 0.1 * torch.randn(n_experts, generator=g) if with_bias else None
    return logits, bias


@pytest.mark.parametrize("name", list(CASES))
def test_route_matches_reference_gate(name):
    n_experts, n_groups, topk_groups, top_k, score_func, scale, with_bias = CASES[name]
    logits, bias = _inputs(n_experts, with_bias)
    weights, indices = route(logits, top_k, score_func=score_func, bias=bias, route_scale=scale,
                             n_groups=n_groups, topk_groups=topk_groups)
    assert weights.dtype == torch.float32
    ref = reference_gate(logits.numpy(), top_k, score_func,
                         None if bias is None else bias.numpy(), scale, n_groups, topk_groups)
    for t, expected in enumerate(ref):
        got = dict(zip(indices[t].tolist(), weights[t].tolist()))
        assert set(got) == set(expected), f"token {t}: chosen experts differ"
        for e, w in expected.items():
            # gate values g (before route_scale, in [0, 1]) agree within 1e-6; the scaled
            # weights then within 1e-6 * route_scale (V2's 16 makes one float32 ulp ~1e-6)
            assert abs(got[e] - w) / scale <= 1e-6, f"token {t}, expert {e}: {got[e]} vs {w}"


def test_published_configs_route_with_their_group_settings():
    v3 = gate_args(load_config("deepseek_v3_671b"))
    assert v3 == {"top_k": 8, "score_func": "sigmoid", "route_scale": 2.5, "n_groups": 8,
                  "topk_groups": 4}
    v2 = gate_args(load_config("deepseek_v2_236b"))
    assert v2 == {"top_k": 6, "score_func": "softmax", "route_scale": 16.0, "n_groups": 8,
                  "topk_groups": 3}
    logits, bias = _inputs(256, True, tokens=64, seed=3)
    w, i = route(logits, **v3, bias=bias)
    ref = reference_gate(logits.numpy(), 8, "sigmoid", bias.numpy(), 2.5, 8, 4)
    assert all(set(i[t].tolist()) == set(ref[t]) for t in range(64))


def test_group_limit_keeps_experts_in_topk_groups_and_changes_most_choices():
    logits, bias = _inputs(256, True, tokens=2000, seed=1)
    _, grouped = route(logits, 8, score_func="sigmoid", bias=bias, n_groups=8, topk_groups=4)
    _, free = route(logits, 8, score_func="sigmoid", bias=bias)
    groups_used = torch.tensor([len(set((row // 32).tolist())) for row in grouped])
    free_groups = torch.tensor([len(set((row // 32).tolist())) for row in free])
    assert groups_used.max() <= 4
    assert (free_groups > 4).float().mean() > 0.3  # unlimited routing often spans 5+ groups
    same = [set(a.tolist()) == set(b.tolist()) for a, b in zip(grouped, free)]
    assert sum(same) / len(same) < 0.5  # the limit changes the chosen set for most tokens


def test_group_score_is_top2_sum_with_bias_and_max_without():
    # 2 groups of 3 experts; group 0 has the single best expert, group 1 the best pair
    logits = torch.log(torch.tensor([[0.30, 0.02, 0.02, 0.22, 0.22, 0.22]]))  # softmax = these
    _, i = route(logits, 1, n_groups=2, topk_groups=1)  # no bias: max 0.30 vs 0.22
    assert i.tolist() == [[0]]
    w, i = route(logits, 1, n_groups=2, topk_groups=1, bias=torch.zeros(6))  # 0.32 vs 0.44
    assert i[0, 0].item() in (3, 4, 5)
    assert torch.allclose(w, torch.tensor([[0.22]]))  # softmax weights are not renormalised


def test_bias_picks_groups_but_weights_stay_unbiased():
    logits = torch.tensor([[2.0, 1.5, 0.0, -0.5]])  # sigmoid scores, 2 groups of 2
    bias = torch.tensor([0.0, 0.0, 1.0, 1.0])
    w, i = route(logits, 2, score_func="sigmoid", bias=bias, n_groups=2, topk_groups=1,
                 route_scale=2.0)
    assert sorted(i[0].tolist()) == [2, 3]  # the bias moved the whole token to group 1
    s = torch.sigmoid(logits[0, 2:])
    assert torch.allclose(w[0], 2.0 * s / s.sum())


@pytest.mark.parametrize("kwargs, match", [
    (dict(top_k=2, n_groups=4, topk_groups=5), "topk_groups"),
    (dict(top_k=2, n_groups=3, topk_groups=1), "n_groups"),
    (dict(top_k=9, n_groups=4, topk_groups=2), "top_k"),
    (dict(top_k=2, n_groups=0, topk_groups=1), "n_groups"),
    (dict(top_k=1, n_groups=8, topk_groups=1, bias=torch.zeros(8)), "n_groups"),
])
def test_route_group_bad_input_names_the_argument(kwargs, match):
    with pytest.raises(ValueError, match=match):
        route(torch.zeros(3, 8), **kwargs)


@pytest.mark.parametrize("kwargs, match", [
    (dict(n_expert_groups=3), "n_expert_groups"),
    (dict(n_expert_groups=4, n_limited_groups=5), "n_limited_groups"),
    (dict(n_activated_experts=5, n_expert_groups=4, n_limited_groups=2), "n_activated_experts"),
    (dict(seq_alpha=-1.0), "seq_alpha"),
])
def test_moe_config_group_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        MoEConfig(**kwargs)


def test_ungrouped_defaults_are_unchanged():
    logits, bias = _inputs(16, True, tokens=50, seed=2)
    a = route(logits, 3, score_func="sigmoid", bias=bias, route_scale=2.5)
    b = route(logits, 3, score_func="sigmoid", bias=bias, route_scale=2.5, n_groups=1,
              topk_groups=1)
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])


# ------------------------------------------------------------------ sequence-wise balance loss
def reference_sequence_loss(scores, indices, alpha):
    """V3 eq. 17-20 for each sequence with explicit loops, averaged over the sequences."""
    n_seqs, T, n_experts = scores.shape
    top_k = indices.shape[2]
    losses = []
    for b in range(n_seqs):
        total = 0.0
        for i in range(n_experts):
            hits = sum(1 for t in range(T) if i in indices[b, t].tolist())
            f = n_experts / (top_k * T) * hits
            p = sum(float(scores[b, t, i] / scores[b, t].sum()) for t in range(T)) / T
            total += f * p
        losses.append(alpha * total)
    return sum(losses) / n_seqs


def test_sequence_loss_matches_equations_17_to_20():
    g = torch.Generator().manual_seed(4)
    scores = torch.sigmoid(torch.randn(3, 10, 6, generator=g))  # unnormalised, as V3's s_{i,t}
    indices = scores.topk(2, dim=-1).indices
    got = sequence_balance_loss(scores, indices, alpha=0.3)
    assert math.isclose(got.item(), reference_sequence_loss(scores, indices, 0.3), rel_tol=1e-5)


def test_sequence_loss_of_one_sequence_is_the_batch_loss():
    g = torch.Generator().manual_seed(5)
    probs = torch.randn(12, 8, generator=g).softmax(-1)
    indices = probs.topk(2, dim=-1).indices
    assert torch.isclose(sequence_balance_loss(probs[None], indices[None], alpha=1.0),
                         load_balance_loss(probs, indices, alpha=1.0))


def test_sequence_and_batch_losses_differ_on_a_multi_sequence_batch():
    # two sequences of 4 tokens over 4 experts (top-1): each sequence sends every token to
    # one expert, but the two sequences use different experts, two each
    probs = torch.tensor([[0.7, 0.1, 0.1, 0.1]] * 2 + [[0.1, 0.7, 0.1, 0.1]] * 2
                         + [[0.1, 0.1, 0.7, 0.1]] * 2 + [[0.1, 0.1, 0.1, 0.7]] * 2)
    indices = probs.argmax(-1, keepdim=True)  # (8, 1): experts 0,0,1,1,2,2,3,3
    batch = load_balance_loss(probs, indices, alpha=1.0)
    seq = sequence_balance_loss(probs.reshape(2, 4, 4), indices.reshape(2, 4, 1), alpha=1.0)
    assert torch.isclose(batch, torch.tensor(1.0))  # the batch as a whole is perfectly balanced
    # per sequence: f = (2, 2, 0, 0), P = (0.4, 0.4, 0.1, 0.1) -> 1.6
    assert torch.isclose(seq, torch.tensor(1.6))
    assert seq > batch


def test_sequence_loss_bad_input():
    with pytest.raises(ValueError, match="scores"):
        sequence_balance_loss(torch.ones(4, 3), torch.zeros(4, 1, dtype=torch.long))
    with pytest.raises(ValueError, match="indices"):
        sequence_balance_loss(torch.ones(2, 4, 3), torch.zeros(2, 3, 1, dtype=torch.long))
    with pytest.raises(ValueError, match="alpha"):
        sequence_balance_loss(torch.ones(1, 2, 3), torch.zeros(1, 2, 1, dtype=torch.long), -1)


# ------------------------------------------------------------------ the MoE layer
def test_moe_v3_recipe_uses_bias_and_sequence_loss():
    torch.manual_seed(0)
    cfg = MoEConfig(d_model=16, n_routed_experts=8, n_activated_experts=2, moe_inter_dim=8,
                    score_func="sigmoid", balance="bias_seq_aux_loss", seq_alpha=0.0001,
                    gamma=0.01, n_expert_groups=4, n_limited_groups=2)
    layer = MoE(cfg).train()
    layer.expert_bias.copy_(torch.linspace(-0.1, 0.1, 8))
    x = torch.randn(3, 5, 16)  # 3 sequences of 5 tokens
    layer(x)
    r = layer.last_routing
    # routing used the bias and the group limit exactly as route() does
    logits = layer.gate(x.reshape(-1, 16)).detach()
    _, idx = route(logits, **gate_args(cfg), bias=layer.expert_bias)
    assert torch.equal(r.indices, idx)
    assert all(len(set((row // 2).tolist())) <= 2 for row in r.indices)
    # the loss is the sequence-wise one, with V3's alpha, and it trains the gate
    scores = torch.sigmoid(logits)
    expected = sequence_balance_loss(scores.reshape(3, 5, 8), idx.reshape(3, 5, 2), 0.0001)
    assert torch.isclose(layer.aux_loss.detach(), expected)
    layer.aux_loss.backward()
    assert layer.gate.weight.grad is not None and layer.gate.weight.grad.abs().sum() > 0
    before = layer.expert_bias.clone()
    layer.update_bias()  # the bias half of the recipe still runs
    assert not torch.equal(before, layer.expert_bias)


def test_moe_sequence_loss_mode_without_bias():
    torch.manual_seed(1)
    cfg = MoEConfig(d_model=8, n_routed_experts=4, n_activated_experts=1, moe_inter_dim=4,
                    balance="seq_aux_loss", seq_alpha=1.0)
    layer = MoE(cfg).train()
    x = torch.randn(2, 6, 8)
    layer(x)
    probs = layer.gate(x).detach().softmax(-1)  # (2, 6, 4)
    expected = sequence_balance_loss(probs, layer.last_routing.indices.reshape(2, 6, 1), 1.0)
    assert torch.isclose(layer.aux_loss.detach(), expected)
    layer.update_bias()  # no bias in this mode: nothing moves
    assert torch.equal(layer.expert_bias, torch.zeros(4))


def test_sigmoid_weights_stay_finite_when_every_score_underflows():
    # sigmoid(-90) and below are 0 (or subnormal) in float32: the plain ratio was 0/0 = NaN
    for low in (-90.0, -200.0):
        w, i = route(torch.full((1, 8), low), 2, score_func="sigmoid", route_scale=2.5)
        assert torch.isfinite(w).all() and torch.allclose(w, torch.full((1, 2), 1.25))
    # rows with a normal sum keep the plain ratio exactly
    logits = torch.randn(16, 8, generator=torch.Generator().manual_seed(0))
    w, i = route(logits, 2, score_func="sigmoid")
    s = logits.sigmoid().gather(1, i)
    assert torch.equal(w, s / s.sum(dim=-1, keepdim=True))
