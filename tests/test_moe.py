"""explainer.moe and explainer.moe_lm: routing, balancing, dispatch, the tiny LM."""

import math

import pytest
import torch

from explainer import moe_lm
from explainer.data import DATA_DIR
from explainer.moe import (
    MoE,
    MoEConfig,
    dispatch_gather,
    dispatch_grouped,
    dispatch_naive,
    expert_load,
    imbalance,
    load_balance_loss,
    route,
    update_bias,
)
from explainer.moe_lm import encode, load, load_corpus, routing_table, save, train

# softmax of these logits is exactly [0.1, 0.2, 0.3, 0.4]
LOG_P = torch.log(torch.tensor([[0.1, 0.2, 0.3, 0.4]]))


def _experts(n_experts=4, d=8, inter=6, seed=0):
    g = torch.Generator().manual_seed(seed)
    w1 = torch.randn(n_experts, d, inter, generator=g)
    w2 = torch.randn(n_experts, inter, d, generator=g)
    w3 = torch.randn(n_experts, d, inter, generator=g)
    return w1, w2, w3


# ------------------------------------------------------------------ route
def test_route_softmax_picks_top_k_with_their_probabilities():
    w, i = route(LOG_P, 2)
    assert i.tolist() == [[3, 2]]
    assert torch.allclose(w, torch.tensor([[0.4, 0.3]]))


def test_route_bias_changes_choice_but_not_weights():
    w0, i0 = route(LOG_P, 2)
    w1, i1 = route(LOG_P, 2, bias=torch.tensor([0.0, 0.5, 0.0, 0.0]))
    assert i1.tolist() == [[1, 3]]  # biased scores 0.1, 0.7, 0.3, 0.4
    assert torch.allclose(w1, torch.tensor([[0.2, 0.4]]))  # unbiased probabilities
    # expert 3 is chosen either way, with the same weight
    assert w0[0, i0[0].tolist().index(3)] == w1[0, i1[0].tolist().index(3)]


def test_route_uniform_bias_changes_nothing():
    logits = torch.randn(5, 6, generator=torch.Generator().manual_seed(1))
    w0, i0 = route(logits, 3)
    w1, i1 = route(logits, 3, bias=torch.full((6,), 7.0))
    assert torch.equal(i0, i1) and torch.equal(w0, w1)


def test_route_sigmoid_normalises_over_chosen_then_scales():
    logits = torch.tensor([[math.log(3), 0.0, -math.log(3)]])  # sigmoid: 0.75, 0.5, 0.25
    w, i = route(logits, 2, score_func="sigmoid", route_scale=2.5)
    assert i.tolist() == [[0, 1]]
    assert torch.allclose(w, torch.tensor([[1.5, 1.0]]))  # 2.5 * [0.6, 0.4]


@pytest.mark.parametrize("kwargs, match", [
    (dict(top_k=5), "top_k"),
    (dict(top_k=0), "top_k"),
    (dict(top_k=2, score_func="relu"), "score_func"),
    (dict(top_k=2, bias=torch.zeros(3)), "bias"),
    (dict(top_k=2, route_scale=0.0), "route_scale"),
])
def test_route_bad_input_raises_value_error(kwargs, match):
    with pytest.raises(ValueError, match=match):
        route(LOG_P, **kwargs)


def test_route_rejects_1d_logits():
    with pytest.raises(ValueError, match="logits"):
        route(torch.zeros(4), 1)


# ------------------------------------------------------------------ balancing
def test_update_bias_moves_against_load():
    b = update_bias(torch.zeros(4), torch.tensor([4, 2, 2, 0]), gamma=0.001)
    assert torch.allclose(b, torch.tensor([-0.001, 0.0, 0.0, 0.001]))


def test_update_bias_bad_input():
    with pytest.raises(ValueError, match="expert_load"):
        update_bias(torch.zeros(4), torch.zeros(3), 0.1)
    with pytest.raises(ValueError, match="gamma"):
        update_bias(torch.zeros(4), torch.zeros(4), -0.1)


def test_bias_balancing_reduces_imbalance_on_skewed_input():
    g = torch.Generator().manual_seed(0)
    skew = torch.tensor([3.0, 2.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0])
    logits = torch.randn(512, 8, generator=g) + skew  # (tokens, experts): experts 0-2 favoured
    bias = torch.zeros(8)
    before = imbalance(expert_load(route(logits, 2)[1], 8))
    for _ in range(200):
        _, idx = route(logits, 2, bias=bias)
        bias = update_bias(bias, expert_load(idx, 8), gamma=0.01)
    after = imbalance(expert_load(route(logits, 2, bias=bias)[1], 8))
    assert before > 3.0  # nearly everything on experts 0-2
    assert after < 1.2


def test_load_balance_loss_is_alpha_when_balanced_and_grows_with_collapse():
    uniform = torch.full((4, 4), 0.25)
    idx = torch.tensor([[0], [1], [2], [3]])
    assert torch.isclose(load_balance_loss(uniform, idx, alpha=0.5), torch.tensor(0.5))
    onehot = torch.zeros(4, 4)
    onehot[:, 0] = 1.0
    collapsed = load_balance_loss(onehot, torch.zeros(4, 1, dtype=torch.long))
    assert torch.isclose(collapsed, torch.tensor(4.0))


def test_load_balance_loss_gradient_pushes_away_from_busy_expert():
    logits = torch.tensor([[2.0, 0.0, 0.0], [2.0, 0.0, 0.0]], requires_grad=True)
    probs = logits.softmax(-1)
    load_balance_loss(probs, probs.topk(1).indices).backward()
    assert logits.grad[0, 0] > 0 and logits.grad[0, 1] < 0  # descent lowers expert 0


def test_imbalance_range():
    assert imbalance(torch.tensor([2, 2, 2, 2])) == 1.0
    assert imbalance(torch.tensor([8, 0, 0, 0])) == 4.0
    with pytest.raises(ValueError, match="load"):
        imbalance(torch.zeros(3))


# ------------------------------------------------------------------ dispatch
@pytest.mark.parametrize("top_k", [1, 2, 4])
def test_grouped_and_gather_dispatch_equal_naive_reference(top_k):
    g = torch.Generator().manual_seed(top_k)
    x = torch.randn(37, 8, generator=g)
    w, i = route(torch.randn(37, 4, generator=g), top_k)
    w1, w2, w3 = _experts()
    ref = dispatch_naive(x, w, i, w1, w2, w3)
    assert torch.allclose(dispatch_grouped(x, w, i, w1, w2, w3), ref, atol=1e-5)
    assert torch.allclose(dispatch_gather(x, w, i, w1, w2, w3), ref, atol=1e-5)


def test_grouped_dispatch_handles_idle_experts():
    x = torch.randn(5, 8, generator=torch.Generator().manual_seed(3))
    i = torch.zeros(5, 1, dtype=torch.long)  # everything to expert 0
    w = torch.ones(5, 1)
    w1, w2, w3 = _experts()
    ref = dispatch_naive(x, w, i, w1, w2, w3)
    assert torch.allclose(dispatch_grouped(x, w, i, w1, w2, w3), ref, atol=1e-5)


def test_dispatch_rejects_mismatched_shapes():
    w1, w2, w3 = _experts()
    with pytest.raises(ValueError, match="weights and indices"):
        dispatch_grouped(torch.zeros(3, 8), torch.zeros(3, 2), torch.zeros(3, 1, dtype=torch.long),
                         w1, w2, w3)
    with pytest.raises(ValueError, match="d_model"):
        dispatch_grouped(torch.zeros(3, 5), torch.zeros(3, 1), torch.zeros(3, 1, dtype=torch.long),
                         w1, w2, w3)


# ------------------------------------------------------------------ module
def test_moe_module_matches_naive_reference_and_exposes_routing():
    torch.manual_seed(0)
    cfg = MoEConfig(d_model=8, n_routed_experts=6, n_shared_experts=1, n_activated_experts=2,
                    moe_inter_dim=4)
    moe = MoE(cfg)
    x = torch.randn(3, 5, 8)  # (B, T, d_model)
    y = moe(x)
    assert y.shape == x.shape
    flat = x.reshape(-1, 8)
    w, i = route(moe.gate(flat), 2)
    s = moe.shared
    ref = dispatch_naive(flat, w, i, moe.w1, moe.w2, moe.w3) + s["w2"](
        torch.nn.functional.silu(s["w1"](flat)) * s["w3"](flat))
    assert torch.allclose(y.reshape(-1, 8), ref, atol=1e-5)
    r = moe.last_routing
    assert r.indices.shape == (15, 2) and r.weights.shape == (15, 2)
    assert int(r.load.sum()) == 15 * 2  # tokens x top_k


def test_moe_bias_mode_updates_bias_from_accumulated_load():
    torch.manual_seed(0)
    moe = MoE(MoEConfig(d_model=8, n_routed_experts=4, n_activated_experts=1, moe_inter_dim=4,
                        balance="bias", gamma=0.5)).train()
    moe(torch.randn(40, 8))
    load = moe.last_routing.load.float()
    moe.update_bias()
    assert torch.allclose(moe.expert_bias, 0.5 * torch.sign(load.mean() - load))


def test_moe_param_counts():
    c = MoEConfig(d_model=4, n_routed_experts=8, n_shared_experts=1, n_activated_experts=2,
                  moe_inter_dim=2)
    # expert: 3*4*2 = 24; gate 32; shared 24
    assert c.param_counts() == {"total": 32 + 24 + 8 * 24, "activated": 32 + 24 + 2 * 24}
    assert sum(p.numel() for p in MoE(c).parameters()) == c.param_counts()["total"]


@pytest.mark.parametrize("kwargs, match", [
    (dict(n_activated_experts=9), "n_activated_experts"),
    (dict(n_activated_experts=0), "n_activated_experts"),
    (dict(balance="dropout"), "balance"),
    (dict(score_func="tanh"), "score_func"),
    (dict(gamma=-1.0), "gamma"),
])
def test_moe_config_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        MoEConfig(**kwargs)


def test_moe_rejects_wrong_width():
    with pytest.raises(ValueError, match="d_model"):
        MoE(MoEConfig(d_model=8, moe_inter_dim=4))(torch.zeros(2, 7))


# ------------------------------------------------------------------ tiny LM
TEXT = "the experts route tokens; the router learns. " * 40


def test_train_records_loads_and_learns():
    res = train(MoEConfig(d_model=16, n_routed_experts=4, n_activated_experts=2, moe_inter_dim=8,
                          balance="bias", gamma=0.01),
                steps=30, batch_size=4, block_size=16, n_heads=2, text=TEXT, lr=1e-2)
    assert res.loads.shape == (30, 2, 4)
    assert (res.loads.sum(axis=2) == 4 * 16 * 2).all()  # batch x block x top_k per layer
    assert res.history.loss.iloc[-5:].mean() < res.history.loss.iloc[:5].mean()
    assert any(m.expert_bias.abs().sum() > 0 for m in res.model.moe_layers)


def test_train_raises_when_corpus_missing(tmp_path, monkeypatch):
    with pytest.raises(FileNotFoundError, match="corpus"):
        load_corpus(tmp_path)
    monkeypatch.setattr(moe_lm, "SEEDS_DIR", tmp_path / "nowhere")
    with pytest.raises(FileNotFoundError, match="training corpus missing"):
        train(steps=1)


def test_encode_names_unknown_characters():
    with pytest.raises(ValueError, match="'z'"):
        encode("az", "ab")


def test_save_load_roundtrip(tmp_path):
    res = train(MoEConfig(d_model=8, n_routed_experts=4, n_activated_experts=1, moe_inter_dim=4),
                steps=2, batch_size=2, block_size=8, n_heads=2, text=TEXT)
    save(res.model, tmp_path / "m.pt", half=False)
    m = load(tmp_path / "m.pt")
    ids = torch.tensor(encode("the rout", m.config.vocab))[None]  # encode gives a list of ints
    assert torch.equal(m(ids), res.model(ids))


@pytest.mark.parametrize("name", ["none", "aux_loss", "bias"])
def test_shipped_weights_route_a_sentence(name):
    model = load(DATA_DIR / "weights" / f"moe_{name}.pt")
    assert model.config.moe.balance == name
    table = routing_table(model, "Experts share the work.")
    k = model.config.moe.n_activated_experts
    per_token = table.groupby(["layer", "position"]).chosen.sum()
    assert (per_token == k).all()
