"""explainer.attention: MLA naive ≡ absorb, measured cache = V2 Table 1, decoupled RoPE,
top-k sparse attention, incremental decoding, bad input."""

import pytest
import torch
import torch.nn.functional as F

from explainer import costs
from explainer.attention import (
    ATTENTION_KINDS,
    MLA,
    SHAPE_CONTROLS,
    AttentionConfig,
    apply_rotary_emb,
    attention_macs,
    formula_bytes_per_token,
    lightning_index_scores,
    make_attention,
    make_retrieval_task,
    precompute_freqs_cis,
    retrieval_accuracy,
    topk_sparse_attention,
)

TOY = AttentionConfig(dim=32, n_heads=4, q_lora_rank=12, kv_lora_rank=16, qk_nope_head_dim=8,
                      qk_rope_head_dim=4, v_head_dim=8, max_seq_len=24, n_kv_groups=2,
                      max_batch_size=2, index_topk=6)
V3 = AttentionConfig.from_model("deepseek_v3_671b", dim=64, q_lora_rank=0, max_seq_len=2,
                                n_kv_groups=8)
V2 = AttentionConfig.from_model("deepseek_v2_236b", dim=64, q_lora_rank=0, max_seq_len=2,
                                n_kv_groups=8)
# a shape with unequal key/value widths and an odd 2·d_h, so the formula mapping is tested
ODD = AttentionConfig(dim=16, n_heads=6, kv_lora_rank=10, qk_nope_head_dim=5,
                      qk_rope_head_dim=2, v_head_dim=4, max_seq_len=3, n_kv_groups=3)


def _pair(config=TOY, rope="decoupled", seed=0):
    torch.manual_seed(seed)
    naive = MLA(config, "naive", rope=rope).double()
    absorb = MLA(config, "absorb", rope=rope).double()
    absorb.load_state_dict(naive.state_dict())
    return naive, absorb


def _x(b=2, s=10, dim=TOY.dim, seed=1):
    return torch.randn(b, s, dim, generator=torch.Generator().manual_seed(seed),
                       dtype=torch.float64)


# ------------------------------------------------------------------ naive ≡ absorb
def test_naive_and_absorb_share_parameter_names():
    naive = make_attention("mla_naive", TOY)
    absorb = make_attention("mla_absorb", TOY)
    assert naive.state_dict().keys() == absorb.state_dict().keys()
    assert {"wq_a.weight", "q_norm.weight", "wq_b.weight", "wkv_a.weight", "kv_norm.weight",
            "wkv_b.weight", "wo.weight"} == set(naive.state_dict())
    # and they really start different, so load_state_dict matters
    assert not torch.equal(naive.wkv_b.weight, absorb.wkv_b.weight)


def test_naive_equals_absorb_at_every_decoding_step():
    naive, absorb = _pair()
    x = _x()
    # prefill 4 tokens, then decode one token at a time
    assert torch.allclose(naive(x[:, :4], 0), absorb(x[:, :4], 0), rtol=1e-10, atol=1e-12)
    for t in range(4, x.shape[1]):
        a, b = naive(x[:, t:t + 1], t), absorb(x[:, t:t + 1], t)
        assert torch.allclose(a, b, rtol=1e-10, atol=1e-12), t


def test_absorb_is_not_trivially_equal_to_a_different_model():
    naive, absorb = _pair()
    with torch.no_grad():
        absorb.wkv_b.weight[0, 0] += 0.5  # change W^UK of head 0
    x = _x()
    assert not torch.allclose(naive(x, 0), absorb(x, 0), atol=1e-6)


def test_decoupled_rope_counterexample_rotating_the_latent_breaks_absorption():
    naive, absorb = _pair(rope="coupled")
    x = _x(s=6)
    # one token at position 0: every rotation is the identity, so the paths agree ...
    assert torch.allclose(naive(x[:, :1], 0), absorb(x[:, :1], 0), rtol=1e-10, atol=1e-12)
    # ... and once positions differ, W^UK no longer commutes with the rotation
    gap = (naive(x[:, 1:], 1) - absorb(x[:, 1:], 1)).abs().max()
    assert gap > 1e-3
    # the published (decoupled) design with the same weights agrees
    dn, da = _pair(rope="decoupled")
    dn.load_state_dict(naive.state_dict())
    da.load_state_dict(naive.state_dict())
    assert torch.allclose(dn(x, 0), da(x, 0), rtol=1e-10, atol=1e-12)


def test_rope_is_a_rotation_and_relative():
    f = precompute_freqs_cis(8, 16)
    q, k = torch.randn(2, 1, 1, 8, dtype=torch.float64).unbind(0)
    rq = lambda p: apply_rotary_emb(q[None].expand(1, 1, 1, 8).clone(), f[p:p + 1])  # noqa: E731
    rk = lambda p: apply_rotary_emb(k[None].clone(), f[p:p + 1])  # noqa: E731
    assert torch.allclose(rq(5).norm(), q.norm())
    # score depends on the offset only: (3, 1) and (12, 10)
    assert torch.allclose((rq(3) * rk(1)).sum(), (rq(12) * rk(10)).sum())


# ------------------------------------------------------------------ incremental decoding
@pytest.mark.parametrize("kind", ATTENTION_KINDS)
def test_incremental_decoding_equals_full_forward(kind):
    torch.manual_seed(0)
    full = make_attention(kind, TOY, dtype=torch.float64)
    step = make_attention(kind, TOY, dtype=torch.float64)
    step.load_state_dict(full.state_dict())
    x = _x(s=9)
    out_full = full(x, 0)
    out_step = torch.cat([step(x[:, :3], 0)] + [step(x[:, t:t + 1], t) for t in range(3, 9)], 1)
    assert torch.allclose(out_full, out_step, rtol=1e-10, atol=1e-12)


def test_causality_future_tokens_do_not_change_the_past():
    m = make_attention("gqa", TOY, dtype=torch.float64)
    x = _x(s=8)
    a = m(x, 0)[:, :5]
    x2 = x.clone()
    x2[:, 5:] += 1.0
    m.reset_cache()
    assert torch.allclose(m(x2, 0)[:, :5], a)


def test_gqa_matches_an_independent_sdpa_reference():
    torch.manual_seed(0)
    m = make_attention("gqa", TOY, dtype=torch.float64)
    x = _x(b=1, s=7)
    c = TOY
    q = m.wq_b(m.q_norm(m.wq_a(x))).view(1, 7, 4, c.qk_head_dim)
    k = m.wk(x).view(1, 7, 2, c.qk_head_dim)
    v = m.wv(x).view(1, 7, 2, c.v_head_dim)
    f = precompute_freqs_cis(c.qk_rope_head_dim, 7)
    rot = lambda t: torch.cat([t[..., :8], apply_rotary_emb(t[..., 8:], f)], -1)  # noqa: E731
    q, k = rot(q), rot(k)
    k, v = k.repeat_interleave(2, dim=2), v.repeat_interleave(2, dim=2)  # group g -> heads
    o = F.scaled_dot_product_attention(q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2),
                                       is_causal=True)
    ref = m.wo(o.transpose(1, 2).reshape(1, 7, -1))
    assert torch.allclose(m(x, 0), ref, rtol=1e-10, atol=1e-12)


# ------------------------------------------------------------------ measured cache = formula
@pytest.mark.parametrize("config", [TOY, V2, V3, ODD], ids=["toy", "v2", "v3", "odd"])
@pytest.mark.parametrize("kind", ATTENTION_KINDS)
def test_measured_cache_equals_costs_formula(config, kind):
    m = make_attention(kind, config, device="meta", dtype=torch.bfloat16)
    assert m.cache_bytes_per_token() == formula_bytes_per_token(kind, config, bytes_per_element=2)


def test_measured_cache_follows_dtype_and_is_filled_by_decoding():
    m32 = make_attention("mla_absorb", TOY)
    m64 = make_attention("mla_absorb", TOY, dtype=torch.float64)
    assert m64.cache_bytes_per_token() == 2 * m32.cache_bytes_per_token() == \
        formula_bytes_per_token("mla_absorb", TOY, 8)
    m32(_x(s=3).float(), 0)
    assert m32.kv_cache[:, :3].abs().sum() > 0 and m32.kv_cache[:, 3:].abs().sum() == 0


def test_v3_shape_40960_vs_576_elements_per_token_per_layer():
    el = {k: make_attention(k, V3, device="meta", dtype=torch.bfloat16).cache_bytes_per_token() / 2
          for k in ATTENTION_KINDS}
    assert el["mla_naive"] == el["mha"] == 40_960 == 128 * (128 + 64 + 128)
    assert el["mla_absorb"] == 576 == 512 + 64
    # the formula side, by hand: Table 1's MHA row with d_h = (192 + 128) / 2 = 160
    assert costs.kv_cache_bytes_per_token("mha", n_layers=1, n_heads=128,
                                          head_dim=160) == 2 * 40_960
    # absorb is far below MHA and GQA-8, but MQA's single 320-wide pair is smaller still
    assert el["mqa"] == 320 < el["mla_absorb"] < el["gqa"] == 8 * 320 < el["mha"]


def test_v2_mla_cache_equals_gqa_with_2_25_groups():
    mla = make_attention("mla_absorb", V2, device="meta", dtype=torch.bfloat16)
    d_h = V2.qk_nope_head_dim  # 128, V2 Table 1's per-head dim
    assert mla.cache_bytes_per_token() / 2 / (2 * d_h) == 2.25
    gqa = {g: costs.kv_cache_bytes_per_token("gqa", n_layers=1, n_heads=128, head_dim=d_h,
                                              n_kv_groups=g) for g in (2, 3)}
    assert gqa[2] < mla.cache_bytes_per_token() < gqa[3]


# ------------------------------------------------------------------ sparse attention
def _qkv(b=2, h=3, s=10, d=8, seed=0):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(b, h, s, d, generator=g, dtype=torch.float64) for _ in range(3)]


@pytest.mark.parametrize("top_k", [10, 50])
def test_sparse_with_top_k_equal_to_length_is_dense_causal_attention(top_k):
    q, k, v = _qkv()
    scores = torch.randn(2, 10, 10, dtype=torch.float64)
    dense = F.scaled_dot_product_attention(q, k, v, is_causal=True)
    assert torch.allclose(topk_sparse_attention(q, k, v, scores, top_k), dense)


def test_sparse_attends_only_to_the_chosen_keys():
    q, k, v = _qkv(b=1, h=1, s=6, d=4)
    scores = torch.zeros(1, 6, 6, dtype=torch.float64)
    scores[0, :, 0] = 1.0  # every query's best key is token 0
    out = topk_sparse_attention(q, k, v, scores, 1)
    assert torch.allclose(out, v[:, :, :1].expand_as(out))


def test_sparse_decode_row_matches_last_row_of_full_sequence():
    q, k, v = _qkv()
    scores = torch.randn(2, 10, 10, dtype=torch.float64)
    full = topk_sparse_attention(q, k, v, scores, 3)
    last = topk_sparse_attention(q[:, :, -1:], k, v, scores[:, -1:], 3)
    assert torch.allclose(full[:, :, -1:], last)


def test_lightning_index_scores_by_hand():
    q = torch.tensor([[[[1.0, 0.0], [0.0, 1.0]]]])  # (1, 1, 2 heads, 2)
    k = torch.tensor([[[2.0, -1.0], [-3.0, 4.0]]])  # (1, 2 keys, 2)
    w = torch.tensor([[[0.5, 2.0]]])
    # key 0: 0.5·relu(2) + 2·relu(-1) = 1; key 1: 0.5·relu(-3) + 2·relu(4) = 8
    assert lightning_index_scores(q, k, w).tolist() == [[[1.0, 8.0]]]


def test_attention_work_is_l_times_k_instead_of_l_squared():
    L, k = 1024, 32
    dense = attention_macs(L, 16)
    sparse = attention_macs(L, 16, top_k=k)
    assert dense["pairs"] == L * (L + 1) // 2
    assert sparse["pairs"] == k * (k + 1) // 2 + (L - k) * k
    assert attention_macs(2 * L, 16, top_k=k)["attention"] < 2.1 * sparse["attention"]
    assert attention_macs(2 * L, 16)["attention"] > 3.9 * dense["attention"]


def test_retrieval_accuracy_rises_with_k_and_dense_is_exact():
    task = make_retrieval_task(1024, batch=8, seed=0)
    dense = retrieval_accuracy(task, None)
    assert dense == {"accuracy": 1.0, "recall": 1.0}
    acc = [retrieval_accuracy(task, k)["recall"] for k in (1, 16, 256)]
    assert acc[0] < acc[1] < acc[2]
    assert retrieval_accuracy(task, 1024)["accuracy"] == 1.0


# ------------------------------------------------------------------ bad input
@pytest.mark.parametrize("field, value, match", [
    ("n_kv_groups", 3, "n_kv_groups"),
    ("qk_rope_head_dim", 5, "qk_rope_head_dim"),
    ("n_heads", 0, "n_heads"),
    ("kv_lora_rank", 2.5, "kv_lora_rank"),
    ("q_lora_rank", -1, "q_lora_rank"),
    ("rope_theta", 0, "rope_theta"),
])
def test_bad_config_raises_value_error_naming_the_field(field, value, match):
    with pytest.raises(ValueError, match=match):
        AttentionConfig(**{field: value})


def test_cache_overflow_raises():
    m = make_attention("mla_absorb", TOY)
    m(torch.randn(1, 20, TOY.dim), 0)
    with pytest.raises(ValueError, match="max_seq_len"):
        m(torch.randn(1, 5, TOY.dim), 20)


@pytest.mark.parametrize("call, match", [
    (lambda m: m(torch.randn(1, 3, 7), 0), "dim"),
    (lambda m: m(torch.randn(3, 2, TOY.dim), 0), "max_batch_size"),
    (lambda m: m(torch.randn(1, 2, TOY.dim), 4), "gap"),
    (lambda m: m(torch.randn(1, 2, TOY.dim), -1), "start_pos"),
    (lambda m: m(torch.randn(1, 2, TOY.dim), 0, torch.ones(3, 2, dtype=torch.cfloat)),
     "freqs_cis"),
])
def test_bad_calls_raise_value_error(call, match):
    with pytest.raises(ValueError, match=match):
        call(make_attention("mla_naive", TOY))


def test_bad_kinds_and_sparse_args_raise():
    with pytest.raises(ValueError, match="kind"):
        make_attention("mla", TOY)
    with pytest.raises(ValueError, match="attn_impl"):
        MLA(TOY, "fast")
    q, k, v = _qkv()
    with pytest.raises(ValueError, match="top_k"):
        topk_sparse_attention(q, k, v, torch.zeros(2, 10, 10), 0)
    with pytest.raises(ValueError, match="index_scores"):
        topk_sparse_attention(q, k, v, torch.zeros(2, 10, 9), 3)
    with pytest.raises(ValueError, match="k must"):
        topk_sparse_attention(q, k[:, :, :5], v, torch.zeros(2, 10, 5), 3)
    with pytest.raises(ValueError, match="n_tokens"):
        make_attention("mha", TOY).fill_cache_random_(TOY.max_seq_len)


def test_retrieval_dense_shortcut_equals_keeping_every_key():
    task = make_retrieval_task(256, batch=4, seed=3)
    assert retrieval_accuracy(task, None)["accuracy"] == retrieval_accuracy(task, 256)["accuracy"]


# ------------------------------------------------------------------ the chapter's controls
def _reachable_shapes():
    """Every shape the page's controls can set (each range, end to end), as control values."""
    import itertools

    from explainer.controls import Choice

    axes = []
    for c in SHAPE_CONTROLS:
        if isinstance(c, Choice):
            axes.append(list(c.options))
        else:
            n = int(round((c.max - c.min) / c.step))
            axes.append([int(c.min + i * c.step) for i in range(n + 1)])
    names = [c.name for c in SHAPE_CONTROLS]
    return [dict(zip(names, v)) for v in itertools.product(*axes)]


def _config(values):
    return AttentionConfig(n_heads=values["n_heads"], kv_lora_rank=values["kv_lora_rank"],
                           qk_nope_head_dim=values["head_dim"],
                           qk_rope_head_dim=values["qk_rope_head_dim"],
                           v_head_dim=values["head_dim"], n_kv_groups=values["n_kv_groups"])


def test_every_shape_the_controls_reach_is_accepted():
    shapes = _reachable_shapes()
    assert len(shapes) > 10_000
    for values in shapes:
        _config(values)  # raises on a shape the modules refuse (groups not dividing heads)
    top = {c.name: c.options[-1] if hasattr(c, "options") else c.max for c in SHAPE_CONTROLS}
    v3 = AttentionConfig.from_model("deepseek_v3_671b")
    assert (top["n_heads"], top["head_dim"], top["qk_rope_head_dim"], top["kv_lora_rank"]) == (
        v3.n_heads, v3.qk_nope_head_dim, v3.qk_rope_head_dim, v3.kv_lora_rank)  # V3 reachable


def test_browser_cache_expressions_agree_with_the_library():
    from explainer.attention import cache_elements_expr

    exprs = cache_elements_expr()
    for values in _reachable_shapes()[::997]:
        c = _config(values)
        for kind, expr in exprs.items():
            js = eval(expr, {"__builtins__": {}}, dict(values))
            assert js == formula_bytes_per_token(kind, c, 1), kind


def test_shape_report_measures_and_checks_absorb():
    from explainer.attention import shape_report

    r = shape_report(**{c.name: c.default for c in SHAPE_CONTROLS}, steps=3)
    assert (r["measured elements per token"] == r["Table 1 formula"]).all()
    assert r.loc["mla_absorb", "measured elements per token"] == 128 + 16
    assert r.loc["mla_naive", "max |naive - absorb|"] < 1e-12
    with pytest.raises(ValueError, match="n_kv_groups"):
        shape_report(n_heads=6, n_kv_groups=4)


# ------------------------------------------------------------------ YaRN (V3's long-context rotary)
def _paper_ratio(dim=64, theta=10000.0, original=4096):
    """YaRN paper (arXiv 2309.00071), NTK-by-parts: r(d) = L / lambda_d, lambda_d = 2 pi / theta_d."""
    import math

    theta_d = torch.tensor([theta ** (-2 * d / dim) for d in range(dim // 2)], dtype=torch.float64)
    return theta_d, original / (2 * math.pi / theta_d)


def test_yarn_keeps_fast_pairs_and_divides_slow_ones_by_the_factor():
    theta_d, r = _paper_ratio()
    f = precompute_freqs_cis(64, 4097, original_seq_len=4096, rope_factor=40.0, beta_fast=32,
                             beta_slow=1)
    got = f[1].angle()  # position 1: the angle is the frequency itself
    fast, slow = r > 32, r < 1  # the paper: gamma = 1 above beta, 0 below alpha
    assert fast.any() and slow.any()
    assert torch.allclose(got[fast], theta_d[fast], rtol=1e-12)
    assert torch.allclose(got[slow], theta_d[slow] / 40, rtol=1e-12)
    mid = ~fast & ~slow
    assert ((got[mid] < theta_d[mid]) & (got[mid] > theta_d[mid] / 40)).all()
    # V3's ramp runs over pair indices: floor(64 ln(4096 / (2 pi 32)) / (2 ln 1e4)) = 10 to
    # ceil(64 ln(4096 / (2 pi)) / (2 ln 1e4)) = 23; pairs up to 10 keep their frequency
    assert torch.allclose(got[:11], theta_d[:11], rtol=1e-12)
    assert torch.allclose(got[23:], theta_d[23:] / 40, rtol=1e-12)
    assert (got[11:23] / theta_d[11:23]).diff().lt(0).all()  # the blend falls pair by pair


def test_yarn_is_off_up_to_the_original_length():
    plain = precompute_freqs_cis(16, 64)
    assert torch.equal(precompute_freqs_cis(16, 64, original_seq_len=64), plain)
    c = AttentionConfig(max_seq_len=64, original_seq_len=64)
    assert not c.yarn and make_attention("mla_absorb", c).softmax_scale == c.qk_head_dim ** -0.5


def test_yarn_sharpens_the_softmax_by_the_papers_temperature():
    import math

    c = AttentionConfig(max_seq_len=65, original_seq_len=64)
    assert c.yarn
    sqrt_inv_t = 0.1 * math.log(40) + 1  # YaRN paper and V3 report §4.3: sqrt(1/t) = 0.1 ln s + 1
    for kind in ("mha", "mla_naive", "mla_absorb"):
        m = make_attention(kind, c)
        assert math.isclose(m.softmax_scale, c.qk_head_dim ** -0.5 * sqrt_inv_t ** 2)


def test_naive_and_absorb_still_agree_with_yarn_on():
    c = AttentionConfig(max_seq_len=10, original_seq_len=4, rope_factor=8.0)
    torch.manual_seed(0)
    naive = make_attention("mla_naive", c, dtype=torch.float64)
    absorb = make_attention("mla_absorb", c, dtype=torch.float64)
    absorb.load_state_dict(naive.state_dict())
    x = torch.randn(1, 10, c.dim, dtype=torch.float64)
    with torch.no_grad():
        for t in range(10):
            assert torch.allclose(naive(x[:, t:t + 1], t), absorb(x[:, t:t + 1], t), atol=1e-12)


def test_v3_defaults_switch_yarn_on_like_v3s_model_args():
    v3 = AttentionConfig.from_model("deepseek_v3_671b", max_seq_len=4096 * 4)
    assert v3.yarn and (v3.original_seq_len, v3.rope_factor, v3.beta_fast, v3.beta_slow,
                        v3.mscale) == (4096, 40.0, 32, 1, 1.0)
    with pytest.raises(ValueError, match="rope_factor"):
        AttentionConfig(rope_factor=0)
