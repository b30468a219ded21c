"""explainer.mtp: V3's MTP modules (§2.2), their loss, and lossless speculative decoding."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from explainer import mtp
from explainer.gpt import GPTConfig
from explainer.mtp import MTPLM, MTPConfig, MTPModule, accept_or_resample

VOCAB = "abcdefgh ."


def tiny(depth: int | None = 2, seed: int = 0, bias: bool = True) -> MTPLM:
    torch.manual_seed(seed)
    cfg = GPTConfig(vocab_size=len(VOCAB), vocab=VOCAB, block_size=96, n_layer=2, n_head=2,
                    n_embd=16, bias=bias, init_std=0.3)  # large init: peaked, varied predictions
    return MTPLM(cfg, MTPConfig(depth=depth) if depth else None).eval()


# ---------------------------------------------------------------- module


@pytest.mark.parametrize("bias", [True, False])
def test_module_shapes_and_parameter_count(bias):
    d = 16
    m = tiny(depth=3, bias=bias)
    assert len(m.mtp) == 3 and [mod.k for mod in m.mtp] == [1, 2, 3]
    mod = m.mtp[0]
    assert tuple(mod.proj.weight.shape) == (d, 2 * d)  # M_k is d x 2d, no bias
    assert mod.proj.bias is None
    # by hand: 2 RMSNorm weights (d each), M_k (2d^2), block: 2 LayerNorms (2d each),
    # c_attn 3d^2, attn c_proj d^2, MLP 4d^2 + 4d^2; biases 3d + d + 4d + d
    by_hand = 2 * d + 2 * d * d + 2 * 2 * d + 12 * d * d + (9 * d if bias else 0)
    assert sum(p.numel() for p in mod.parameters()) == by_hand == mtp.module_param_count(d, bias)
    assert m.param_counts()["mtp"] == 3 * by_hand
    # embedding and output head are shared: no extra vocabulary-sized matrix
    assert all(p.shape[0] != len(VOCAB) for p in m.mtp.parameters())
    h, emb = torch.randn(2, 5, d), torch.randn(2, 5, d)
    out, (k, v) = mod(h, emb)
    assert out.shape == (2, 5, d) and k.shape == (2, 2, 5, d // 2)


def test_module_follows_eq_21():
    """h' = M_k [RMSNorm(h); RMSNorm(Emb)], written out independently of the module."""
    m = tiny(depth=1)
    mod = m.mtp[0]
    with torch.no_grad():
        mod.hnorm.weight.uniform_(0.5, 1.5)
        mod.enorm.weight.uniform_(0.5, 1.5)
    h, e = torch.randn(1, 4, 16), torch.randn(1, 4, 16)

    def rms(x, w):
        return x / torch.sqrt((x * x).mean(-1, keepdim=True) + torch.finfo(x.dtype).eps) * w

    x = torch.cat([rms(h, mod.hnorm.weight), rms(e, mod.enorm.weight)], -1) @ mod.proj.weight.T
    want, _ = mod.block(x)
    got, _ = mod(h, e)
    torch.testing.assert_close(got, want, atol=1e-5, rtol=1e-5)


def test_losses_by_hand():
    m = tiny(depth=2)
    seq = torch.randint(0, len(VOCAB), (3, 12), generator=torch.Generator().manual_seed(0))
    out = m.losses(seq, lam=0.5)
    T = 12 - 1 - 2
    logits, h = m.gpt(seq[:, :T], return_hidden=True)
    main = F.cross_entropy(logits.reshape(-1, len(VOCAB)), seq[:, 1:T + 1].reshape(-1))
    per = []
    for k in (1, 2):
        h, _ = m.mtp[k - 1](h, m.gpt.transformer.wte(seq[:, k:k + T]))
        per.append(F.cross_entropy(m.gpt.output_head(h).reshape(-1, len(VOCAB)),
                                   seq[:, k + 1:k + 1 + T].reshape(-1)))
    torch.testing.assert_close(out["main"], main)
    torch.testing.assert_close(out["mtp"], 0.5 / 2 * (per[0] + per[1]))
    torch.testing.assert_close(out["total"], main + 0.5 / 2 * (per[0] + per[1]))
    assert out["depth_1"].item() > 0 and out["depth_2"].item() > 0


def test_mtp_loss_zero_when_lambda_zero():
    m = tiny(depth=2)
    seq = torch.randint(0, len(VOCAB), (2, 10), generator=torch.Generator().manual_seed(1))
    out = m.losses(seq, lam=0.0)
    assert out["mtp"].item() == 0.0
    assert out["total"].item() == out["main"].item()
    assert m.losses(seq, lam=0.3)["mtp"].item() > 0
    # with lambda = 0 the MTP modules get no gradient at all
    m.train()
    m.losses(seq, lam=0.0)["total"].backward()
    assert all(p.grad is None or float(p.grad.abs().max()) == 0 for p in m.mtp.parameters())


# ---------------------------------------------------------------- decoding


PROMPTS = ["a", "abc def", "hh.g", "ba ba ba ", "edcba"]


@pytest.mark.parametrize("seed", [0, 1])
def test_speculative_greedy_equals_plain_greedy(seed):
    m = tiny(depth=2, seed=seed)
    accepted = 0
    for prompt in PROMPTS:
        plain, s0 = m.generate(prompt, 60)
        assert s0["forward_passes"] == 60 and s0["drafted"] == 0
        for depth in (1, 2):
            text, s = m.generate(prompt, 60, speculative=True, draft_depth=depth)
            assert text == plain, (prompt, depth)
            assert len(s["marks"]) == 60
            accepted += s["accepted"]
    assert accepted > 0  # the drafts are sometimes right, so the check is not vacuous


@pytest.mark.parametrize("T", [1, 2, 3])
def test_decoding_pass_equals_the_gpt_forward(T):
    """mtp._extend (both decoders' main-model pass) computes exactly GPT.forward with a cache."""
    from explainer.gpt import KVCache

    m = tiny(depth=1, seed=2)
    ids = torch.tensor([[i % len(VOCAB) for i in range(20)]])
    a, b = KVCache(), KVCache()
    with torch.no_grad():
        assert torch.equal(m.gpt(ids[:, :12], kv_cache=a), mtp._extend(m.gpt, ids[:, :12], b)[0])
        want = m.gpt(ids[:, 12:12 + T], kv_cache=a, return_hidden=True)
        got = mtp._extend(m.gpt, ids[:, 12:12 + T], b)
    assert torch.equal(want[0], got[0]) and torch.equal(want[1], got[1])
    assert all(torch.equal(x[0], y[0]) and torch.equal(x[1], y[1])
               for x, y in zip(a.layers, b.layers))


def test_distinct_trigram_share():
    assert mtp.distinct_trigram_share("the same the same the same the same") == 2 / 6
    assert mtp.distinct_trigram_share("Call me Ishmael. Some years ago") == 1.0
    assert mtp.distinct_trigram_share("two words") == 1.0


def test_build_corpus_keeps_paragraphs_in_order(tmp_path):
    for i, name in enumerate(mtp.MOBY_DICK_PARTS):
        (tmp_path / name).write_text(f"CHAPTER {i}.\n\nParagraph {i}, which is long enough\n"
                                     f"to be kept \u2014 folded to ASCII.\n", encoding="utf-8")
    text = mtp.build_corpus(tmp_path)
    paras = text.strip().split("\n\n")
    assert len(paras) == len(mtp.MOBY_DICK_PARTS)  # the short headings are dropped
    assert paras[0] == "Paragraph 0, which is long enough to be kept -- folded to ASCII."
    assert text.isascii()


def test_shipped_corpus_is_moby_dick():
    text = mtp.load_corpus()
    assert text.startswith("Call me Ishmael.") and 1_000_000 < len(text) < 3_000_000


def test_forward_pass_accounting():
    m = tiny(depth=1)
    text, s = m.generate("abc", 50, speculative=True)
    # the prompt pass writes one token; every later pass writes 1 + (accepted drafts)
    assert s["forward_passes"] - 1 + s["accepted"] >= 49
    assert s["forward_passes"] - 1 + s["accepted"] <= 50
    assert sum(s["marks"]) <= s["accepted"]
    assert s["tokens_per_pass"] == pytest.approx(50 / s["forward_passes"])


@pytest.mark.parametrize("draft_depth", [1, 2])
def test_drafts_match_full_recomputation(draft_depth):
    """The cached, incremental drafts equal the MTP modules run on the final text in one go."""
    m = tiny(depth=2, seed=3)
    prompt = "abc def"
    text, s = m.generate(prompt, 40, speculative=True, draft_depth=draft_depth)
    full = torch.tensor([m.tokenizer.encode(prompt + text)])
    with torch.no_grad():
        _, h = m.gpt(full, return_hidden=True)
        h1, _ = m.mtp[0](h[:, :-1], m.gpt.transformer.wte(full[:, 1:]))
        d1 = m.gpt.output_head(h1).argmax(-1)[0]  # d1[j]: depth-1 draft of token j + 2
    P = len(prompt)
    checked = 0
    for index, ch, depth, ok in s["drafts"]:
        if depth == 1:  # drafted from position P + index - 2 of the final text
            assert VOCAB[int(d1[P + index - 2])] == ch
            checked += 1
    assert checked > 5


def test_sampling_is_reproducible_with_seed():
    m = tiny(depth=1)
    a = m.generate("abc", 40, temperature=1.0, speculative=True, seed=7)
    b = m.generate("abc", 40, temperature=1.0, speculative=True, seed=7)
    assert a[0] == b[0] and a[1]["accepted"] == b[1]["accepted"]


def test_acceptance_rule_keeps_the_distribution():
    """Chi-square: draft from q, accept/resample against p; the output must follow p."""
    p = torch.tensor([0.6, 0.3, 0.1], dtype=torch.float64)
    q = torch.tensor([0.2, 0.3, 0.5], dtype=torch.float64)
    gen = torch.Generator().manual_seed(1234)
    n = 20000
    counts = torch.zeros(3)
    accepted = 0
    for _ in range(n):
        x = int(torch.multinomial(q, 1, generator=gen))
        ok, tok = accept_or_resample(p, q, x, gen)
        counts[tok] += 1
        accepted += ok
    expected = p * n
    chi2 = float(((counts - expected) ** 2 / expected).sum())
    assert chi2 < 13.8  # chi-square, 2 degrees of freedom, p = 0.001
    # the acceptance probability is sum_x min(p, q) = 0.2 + 0.3 + 0.1 = 0.6 (Leviathan Thm 3.5)
    assert abs(accepted / n - 0.6) < 4 * math.sqrt(0.6 * 0.4 / n)
    # the naive rule (keep every draft) would follow q and fail the same test
    naive = torch.bincount(torch.multinomial(q, n, replacement=True, generator=gen), minlength=3)
    assert float(((naive - expected) ** 2 / expected).sum()) > 1000


def test_acceptance_rule_two_token_chain():
    """Depth-2 drafts (two chained draft/verify steps) keep the main model's distribution.

    The third written token after a prompt passes through both drafts when the first is
    accepted; its exact marginal under the main model is summed over the first two tokens.
    """
    m = tiny(depth=2, seed=5)
    prompt = m.tokenizer.encode("ab")
    n = 500
    counts = torch.zeros(len(VOCAB), dtype=torch.float64)
    for seed in range(n):
        text, _ = m.generate("ab", 3, temperature=1.0, speculative=True, seed=seed,
                             draft_depth=2)
        counts[m.tokenizer.stoi[text[2]]] += 1
    with torch.no_grad():
        ctx = torch.tensor([prompt + [a, b] for a in range(len(VOCAB)) for b in range(len(VOCAB))])
        p3 = F.softmax(m.gpt(ctx)[:, -1].double(), -1)  # (V*V, V)
        first = F.softmax(m.gpt(torch.tensor([prompt]))[0, -1].double(), -1)  # (V,)
        ctx2 = torch.tensor([prompt + [a] for a in range(len(VOCAB))])
        second = F.softmax(m.gpt(ctx2)[:, -1].double(), -1)  # (V, V)
    joint = (first[:, None] * second).reshape(-1)  # P(t1, t2)
    expected = (joint[:, None] * p3).sum(0) * n
    keep = expected >= 5
    chi2 = float((((counts - expected) ** 2 / expected)[keep]).sum())
    assert chi2 < 27.9  # chi-square, <= 9 degrees of freedom, p = 0.001


# ---------------------------------------------------------------- bad input


def test_bad_inputs():
    m = tiny(depth=1)
    with pytest.raises(ValueError, match="prompt"):
        m.generate("abz", 5)
    with pytest.raises(ValueError, match="prompt"):
        m.generate("", 5)
    with pytest.raises(ValueError, match="depth"):
        MTPConfig(depth=0)
    with pytest.raises(ValueError, match="depth"):
        MTPConfig(depth=-1)
    with pytest.raises(ValueError, match="draft_depth"):
        m.generate("ab", 5, speculative=True, draft_depth=2)
    with pytest.raises(ValueError, match="draft_depth"):
        m.generate("ab", 5, speculative=True, draft_depth=0)
    with pytest.raises(ValueError, match="n_tokens"):
        m.generate("ab", 0)
    with pytest.raises(ValueError, match="n_tokens"):
        m.generate("ab", 500)
    with pytest.raises(ValueError, match="temperature"):
        m.generate("ab", 5, temperature=-1)
    with pytest.raises(ValueError, match="speculative"):
        tiny(depth=None).generate("ab", 5, speculative=True)
    with pytest.raises(ValueError, match="name"):
        mtp.load_pretrained("nope")


def test_module_k_is_a_depth():
    assert MTPModule(tiny(depth=1).gpt.config, 2).k == 2


def test_save_load_roundtrip(tmp_path):
    m = tiny(depth=2)
    mtp.save(m, tmp_path / "m.pt", half=False)
    back, _ = mtp.load(tmp_path / "m.pt")
    assert back.depth == 2
    assert m.generate("abc", 20)[0] == back.generate("abc", 20)[0]


# ---------------------------------------------------------------- issue 25: bad input, edges


@pytest.mark.parametrize("call, name", [
    (lambda m: MTPModule(m.gpt.config, 0), "k"),
    (lambda m: MTPModule(m.gpt.config, True), "k"),
    (lambda m: MTPModule("config", 1), "config"),
    (lambda m: MTPConfig(lam=float("inf")), "lam"),
    (lambda m: m.generate("ab", 5, seed="x"), "seed"),
    (lambda m: m.generate("ab", 5, seed=2**70), "seed"),
    (lambda m: m.generate("ab", 5, seed=-1), "seed"),
    (lambda m: m.generate("ab", 5, temperature=float("inf")), "temperature"),
    (lambda m: m.generate("ab", 5, draft_depth="2"), "draft_depth"),
    (lambda m: m.generate("ab", 5, speculative="yes"), "speculative"),
    (lambda m: m.losses(torch.tensor([[0, 1, 2, 99]])), "seq"),
    (lambda m: m.losses(torch.tensor([[0, 1, 2, 3]]), lam=float("nan")), "lam"),
    (lambda m: accept_or_resample(torch.tensor([0.5, 0.5]), torch.tensor([1.0]), 0), "p and q"),
    (lambda m: accept_or_resample(torch.tensor([0.5, 0.5]), torch.tensor([0.5, 0.5]), 2),
     "draft"),
    (lambda m: accept_or_resample(torch.tensor([1.0, -1.0]), torch.tensor([0.5, 0.5]), 0), "p"),
    (lambda m: mtp.char_class(""), "ch"),
    (lambda m: mtp.char_class("ab"), "ch"),
    (lambda m: mtp.build_corpus("/nonexistent"), "data_dir"),
    (lambda m: mtp.save(m, "/nonexistent/dir/m.pt"), "path"),
    (lambda m: mtp.load("/nonexistent/m.pt"), "path"),
])
def test_bad_arguments_are_named(call, name):
    with pytest.raises(ValueError, match=f"^{name} "):
        call(tiny(depth=1))


@pytest.mark.parametrize("temperature", [1e-30, 1e-320])
def test_a_tiny_temperature_samples_like_greedy(temperature):
    m = tiny(depth=2)
    greedy = m.generate("abc", 12)[0]
    assert m.generate("abc", 12, temperature=temperature, seed=0)[0] == greedy
    assert m.generate("abc", 12, temperature=temperature, seed=0, speculative=True,
                      draft_depth=2)[0] == greedy


def test_held_out_prompts_are_openings_of_held_out_paragraphs():
    held = mtp.held_out_text()
    ps = mtp.held_out_prompts(16)
    assert len(ps) == len(set(ps)) == 16
    assert all(len(p) == 24 and ("\n\n" + p) in ("\n\n" + held) for p in ps)
    with pytest.raises(ValueError, match="n must be"):
        mtp.held_out_prompts(0)


def test_the_greedy_loop_file_matches_the_shipped_run():
    """data/mtp_greedy_loops.csv's shipped row is the shipped model: its steps and held-out loss
    are those of mtp_runs.csv, and its passage is the chapter's greedy passage."""
    r = mtp.load_results()
    shipped, run = r["loops"].loc["shipped"], r["runs"].loc["mtp"]
    assert shipped.steps == run.steps
    assert abs(shipped.held_out_main_loss - run.held_out_main_loss) < 1e-3
    greedy = r["passage"][r["passage"].temperature == 0]
    assert shipped.passage == "".join(greedy.char)
