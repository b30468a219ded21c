"""Tests for explainer.grpo: advantages, the GRPO loss against the papers' formula, rewards,
bad input, and a tiny training run."""

from __future__ import annotations

import math

import pytest
import torch

from explainer import grpo
from explainer.gpt import GPT
from explainer.grpo import (
    ADV_EPS,
    LOG_COLUMNS,
    accuracy_reward,
    format_reward,
    group_advantages,
    grpo_loss,
    k3_kl,
    length_reward,
    train_grpo,
)
from explainer.reasoning import Reasoner, ReasonerConfig, format_example

# ------------------------------------------------------------------------- advantages


def test_group_advantages_by_hand():
    rewards = torch.tensor([[1.0, 0.0, 0.0, 0.0], [1.0, 1.0, 1.0, 1.0], [1.0, 1.0, 0.0, 0.0]])
    adv = group_advantages(rewards)
    # row 0: mean 1/4; population std sqrt(3/16) (divide by G = 4, not G - 1)
    s0 = math.sqrt(3 / 16) + ADV_EPS
    expected0 = [0.75 / s0, -0.25 / s0, -0.25 / s0, -0.25 / s0]
    assert adv[0].tolist() == pytest.approx(expected0, rel=1e-6)
    assert adv[0, 0].item() == pytest.approx(1.7317, abs=1e-3)  # 0.75 / 0.4331
    assert adv[1].tolist() == [0.0, 0.0, 0.0, 0.0]  # all equal: no signal
    s2 = 0.5 + ADV_EPS  # mean 1/2, std 1/2
    assert adv[2].tolist() == pytest.approx([0.5 / s2, 0.5 / s2, -0.5 / s2, -0.5 / s2], rel=1e-6)
    assert adv.sum(dim=1).abs().max() < 1e-6  # each group's advantages sum to zero


def test_group_advantages_rejects_bad_input():
    with pytest.raises(ValueError, match="rewards"):
        group_advantages(torch.tensor([1.0, 0.0]))
    with pytest.raises(ValueError, match="rewards"):
        group_advantages(torch.tensor([[1.0, float("nan")]]))
    with pytest.raises(ValueError, match="eps"):
        group_advantages(torch.ones(2, 2), eps=0)


# ------------------------------------------------------------------------------ loss


def paper_objective(p, p_old, p_ref, adv, lengths, eps, beta):
    """DeepSeekMath eq. 3 / R1 eqs. 1-2 with plain Python floats, token by token.

    p, p_old, p_ref: lists (one per output) of lists of token probabilities.
    """
    total = 0.0
    for i, n in enumerate(lengths):
        acc = 0.0
        for t in range(n):
            rho = p[i][t] / p_old[i][t]
            clipped = min(max(rho, 1 - eps), 1 + eps)
            kl = p_ref[i][t] / p[i][t] - math.log(p_ref[i][t] / p[i][t]) - 1
            acc += min(rho * adv[i], clipped * adv[i]) - beta * kl
        total += acc / n
    return total / len(lengths)


def test_loss_equals_the_papers_formula_on_a_small_example():
    p = [[0.5, 0.9, 0.3], [0.2, 0.6, 0.7]]
    p_old = [[0.4, 0.9, 0.5], [0.25, 0.3, 0.1]]
    p_ref = [[0.45, 0.8, 0.3], [0.3, 0.5, 0.9]]
    adv = [1.2, -0.7]
    lengths = [3, 2]  # the second output has one padding position
    mask = torch.tensor([[1, 1, 1], [1, 1, 0]])
    lp = torch.tensor(p).log()
    got = grpo_loss(lp, torch.tensor(p_old).log(), torch.tensor(p_ref).log(),
                    torch.tensor(adv), mask, clip_eps=0.2, beta=0.04)
    want = -paper_objective(p, p_old, p_ref, adv, lengths, 0.2, 0.04)
    assert got.item() == pytest.approx(want, rel=1e-5)
    # the padding position does not count, whatever its values
    lp2 = lp.clone()
    lp2[1, 2] = -50.0
    got2 = grpo_loss(lp2, torch.tensor(p_old).log(), torch.tensor(p_ref).log(),
                     torch.tensor(adv), mask, clip_eps=0.2, beta=0.04)
    assert got2.item() == pytest.approx(want, rel=1e-5)


def _grad(ratio: float, adv: float, eps: float = 0.2) -> float:
    old = torch.zeros(1, 1)
    logp = torch.full((1, 1), math.log(ratio), requires_grad=True)
    loss = grpo_loss(logp, old, old, torch.tensor([adv]), torch.ones(1, 1), clip_eps=eps, beta=0.0)
    loss.backward()
    return logp.grad.item()


def test_clipping_stops_the_gradient_where_it_should():
    # positive advantage: no push beyond 1 + eps; negative: no push below 1 - eps
    assert _grad(1.5, +1.0) == 0.0
    assert _grad(0.5, -1.0) == 0.0
    # inside the range, or on the side the min keeps unclipped: gradient -A * rho
    assert _grad(1.1, +1.0) == pytest.approx(-1.1)
    assert _grad(0.5, +1.0) == pytest.approx(-0.5)  # ratio too low but advantage positive
    assert _grad(1.5, -1.0) == pytest.approx(1.5)  # ratio too high but advantage negative
    assert _grad(0.9, -2.0) == pytest.approx(1.8)


def test_kl_term_is_zero_when_policies_agree():
    torch.manual_seed(0)
    lp = torch.randn(3, 5).log_softmax(-1).requires_grad_(True)
    assert k3_kl(lp, lp.detach()).abs().max().item() == 0.0
    old = lp.detach() + 0.05 * torch.randn(3, 5)
    adv, mask = torch.tensor([0.5, -1.0, 2.0]), torch.ones(3, 5)
    with_kl = grpo_loss(lp, old, lp.detach(), adv, mask, beta=0.5)
    without = grpo_loss(lp, old, lp.detach(), adv, mask, beta=0.0)
    assert with_kl.item() == without.item()
    g1 = torch.autograd.grad(with_kl, lp)[0]
    g0 = torch.autograd.grad(without, lp)[0]
    assert torch.allclose(g1, g0)  # k3's gradient vanishes at agreement too
    # and it is positive (pulls back) when they disagree
    assert k3_kl(lp.detach(), lp.detach() + 0.3).min().item() > 0


def test_grpo_loss_rejects_bad_input():
    lp, adv, mask = torch.zeros(2, 3), torch.zeros(2), torch.ones(2, 3)
    with pytest.raises(ValueError, match="old_logp"):
        grpo_loss(lp, torch.zeros(2, 4), lp, adv, mask)
    with pytest.raises(ValueError, match="advantages"):
        grpo_loss(lp, lp, lp, torch.zeros(3), mask)
    with pytest.raises(ValueError, match="ref_logp"):
        grpo_loss(lp, lp, torch.full((2, 3), float("nan")), adv, mask)
    with pytest.raises(ValueError, match="clip_eps"):
        grpo_loss(lp, lp, lp, adv, mask, clip_eps=1.5)
    with pytest.raises(ValueError, match="clip_eps"):
        grpo_loss(lp, lp, lp, adv, mask, clip_eps=0)
    with pytest.raises(ValueError, match="beta"):
        grpo_loss(lp, lp, lp, adv, mask, beta=-0.1)
    with pytest.raises(ValueError, match="mask"):
        grpo_loss(lp, lp, lp, adv, torch.tensor([[1, 1, 1], [0, 0, 0]]))


# --------------------------------------------------------------------------- rewards


def test_rewards_on_right_wrong_and_unparseable_answers():
    right_cot = format_example("123+456", "cot")
    right_direct = format_example("123+456", "direct")
    assert accuracy_reward("123+456", right_cot) == 1.0
    assert accuracy_reward("123+456", right_direct) == 1.0
    assert accuracy_reward("123+456", right_direct.replace("579", "578")) == 0.0
    for junk in ("00123+00456=", "00123+00456=3+6+0=09;2+5", "", "=.", ">.", "\u00e9"):
        assert accuracy_reward("123+456", junk) == 0.0  # never an exception on a string
        assert format_reward("123+456", junk) == 0.0
    for not_text in (None, 42):  # a caller's bug, not a policy's answer: refused (issue 25)
        for reward in (accuracy_reward, format_reward, length_reward):
            with pytest.raises(ValueError, match="^text must be a string"):
                reward("123+456", not_text)
    with pytest.raises(ValueError, match="^problem must look like"):
        accuracy_reward("bogus", right_cot)  # it scored 0.0
    # format: the scratchpad's shape, right or wrong digits
    assert format_reward("123+456", right_cot) == 1.0
    assert format_reward("123+456", right_cot.replace("09;", "08;")) == 1.0
    assert format_reward("123+456", right_direct) == 0.0
    assert length_reward("123+456", right_cot) == 1.0
    assert 0 < length_reward("123+456", right_direct) < 0.2


# -------------------------------------------------------------------------- training


def _tiny_policy(seed: int = 0) -> Reasoner:
    torch.manual_seed(seed)
    cfg = ReasonerConfig(fmt="mixed", n_layer=1, n_head=2, n_embd=16)
    return Reasoner(GPT(cfg.gpt_config()), cfg)


def test_train_grpo_runs_logs_and_leaves_the_start_untouched():
    policy = _tiny_policy()
    before = {k: v.clone() for k, v in policy.model.state_dict().items()}
    calls = []
    res = train_grpo(policy, steps=3, group_size=4, problems_per_step=2, lr=1e-2, seed=3,
                     callback=lambda step, row, pol: calls.append(step), reward="length")
    assert list(res.log.columns) == list(LOG_COLUMNS) and len(res.log) == 3 == res.steps
    assert calls == [1, 2, 3]
    assert res.log["step"].tolist() == [1, 2, 3]
    assert ((res.log["accuracy"] >= 0) & (res.log["accuracy"] <= 1)).all()
    assert (res.log["kl"] >= 0).all() and res.log["kl"].iloc[0] == 0.0  # first sample: no drift
    assert all(torch.equal(before[k], v) for k, v in policy.model.state_dict().items())
    changed = any(not torch.equal(before[k], v) for k, v in res.policy.model.state_dict().items())
    assert changed  # a reward that varies inside groups moves the weights
    assert res.policy.meta["grpo"]["steps"] == 3
    # same seed, same run
    again = train_grpo(policy, steps=3, group_size=4, problems_per_step=2, lr=1e-2, seed=3,
                       reward="length")
    assert again.log.drop(columns="seconds").equals(res.log.drop(columns="seconds"))


def test_train_grpo_callback_can_stop_and_rejects_bad_sizes():
    policy = _tiny_policy()
    res = train_grpo(policy, steps=5, group_size=2, problems_per_step=1, seed=0,
                     callback=lambda step, row, pol: step >= 2)
    assert res.steps == 2
    for kw in ({"steps": 0}, {"group_size": 0}, {"problems_per_step": -1}, {"iterations": 0},
               {"steps": None}, {"seconds": 0}, {"lr": 0}, {"beta": -1}, {"clip_eps": 1},
               {"temperature": 0}, {"reward": "vibes"}):
        name = next(iter(kw))
        with pytest.raises(ValueError, match=name if name != "steps" or kw[name] else "steps"):
            train_grpo(policy, **kw)
    with pytest.raises(ValueError, match="policy"):
        train_grpo("not a model")


def test_defaults_are_the_shipped_recipe():
    import inspect

    sig = inspect.signature(train_grpo)
    assert sig.parameters["steps"].default == grpo.STEPS
    assert sig.parameters["beta"].default == grpo.BETA
    assert sig.parameters["reward"].default == "accuracy"


# --------------------------------------------------------------------- shipped models


def test_shipped_base_and_grpo_models_on_fresh_held_out_problems():
    from explainer.reasoning import MAX_DIGITS, load_pretrained, make_problems

    held_out = make_problems(200, digits=MAX_DIGITS, seed=4242)
    base = grpo.rollout_stats(load_pretrained("base"), held_out, temperature=1.0, seed=1)
    after = grpo.rollout_stats(load_pretrained("grpo"), held_out, temperature=1.0, seed=1)
    # the base mostly answers directly and wrongly; GRPO made it think out loud
    assert base["accuracy"] < 0.35 and base["scratchpad_share"] < 0.4
    assert after["scratchpad_share"] > 0.95 and after["response_length"] > 2 * base[
        "response_length"]
    assert after["accuracy"] > base["accuracy"] + 0.4
    assert after["accuracy"] >= 0.9  # the target, on problems no run has seen
    # the base can think, it just rarely chooses to: its scratchpads are mostly right
    assert base["accuracy_scratchpad"] > 0.85 and base["accuracy_direct"] < 0.05
    # both parse either format
    for name in ("base", "grpo"):
        answers = load_pretrained(name).solve(held_out[:5], temperature=1.0, samples=3, seed=0)
        assert len(answers) == 5 and all(len(row) == 3 for row in answers)


def test_the_run_checkpoints_are_the_shipped_runs_steps():
    """Step 3 of the page's run is what three steps of the shipped recipe make of the base
    (seed 0, one thread; the checkpoint is stored in fp16), and the run is loaded in order:
    step 0 is the base, the last step the shipped GRPO model."""
    from explainer.reasoning import load_pretrained

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        res = train_grpo(load_pretrained("base"), steps=3, seed=0)
    finally:
        torch.set_num_threads(threads)
    stored = grpo.load_checkpoint(3).model.state_dict()
    base = load_pretrained("base").model.state_dict()
    rerun = {k: v.half().float() for k, v in res.policy.model.state_dict().items()}
    flat = lambda d: torch.cat([d[k].flatten() for k in sorted(d)])  # noqa: E731
    same = (flat(rerun) == flat(stored)).float().mean()
    moved = (flat(stored) != flat(base)).float().mean()
    # rounding to fp16 may tip the odd entry by one unit; three steps move most entries
    assert same > 0.999 and moved > 0.5, (float(same), float(moved))
    for step, name in ((0, "base"), (grpo.STEPS, "grpo")):
        want = load_pretrained(name).model.state_dict()
        got = grpo.load_checkpoint(step).model.state_dict()
        assert all(torch.equal(got[k], want[k]) for k in want)


@pytest.mark.parametrize("step", [4, -1, True, "3", 3.0, grpo.STEPS + 1])
def test_load_checkpoint_refuses_a_step_that_was_not_saved(step):
    with pytest.raises(ValueError, match="step must be one of RUN_CHECKPOINTS"):
        grpo.load_checkpoint(step)


def test_rollout_stats_splits_accuracy_by_format():
    from explainer.reasoning import MIXED

    class Fixed(Reasoner):
        def generate(self, problems, *, temperature=1.0, samples=1, seed=None, batch_size=4096):
            right_cot = format_example("12+34", "cot")
            wrong_cot = right_cot[:-2] + "7."  # 46 -> 47
            return [[right_cot, wrong_cot, "00012+00034=000046.", "00012+00034=000045."]]

    cfg = ReasonerConfig(fmt=MIXED, n_layer=1, n_head=2, n_embd=8)
    stats = grpo.rollout_stats(Fixed(GPT(cfg.gpt_config()), cfg), ["12+34"], samples=4)
    assert stats["accuracy"] == 0.5 and stats["scratchpad_share"] == 0.5
    assert stats["accuracy_scratchpad"] == 0.5 and stats["accuracy_direct"] == 0.5
    cot_len = len(format_example("12+34", "cot").partition("=")[2])
    assert stats["response_length"] == (2 * cot_len + 2 * len("000046.")) / 4


def test_slipped_steps_counts_what_the_accuracy_reward_ignores():
    from explainer.grpo import slipped_steps

    textbook = format_example("50505+49595", "cot")
    assert slipped_steps("50505+49595", textbook) == 0
    # a wrong first step ("0+5" instead of "5+5") but the right answer: reward 1, one slip
    slipped = textbook.replace("=5+5+0=10;", "=0+5+0=10;", 1)
    assert slipped != textbook and accuracy_reward("50505+49595", slipped) == 1.0
    assert slipped_steps("50505+49595", slipped) == 1
    assert slipped_steps("50505+49595", "50505+49595=100100.") == 0  # no scratchpad
    short = textbook.replace(";5+4+1=10>", ">", 1)  # the last step left out
    assert slipped_steps("50505+49595", short) == 1


def test_slipped_steps_by_part():
    from explainer.grpo import slipped_steps

    textbook = format_example("50505+49595", "cot")
    copy_slip = textbook.replace("=5+5+0=10;", "=0+5+0=10;", 1)  # wrong input, right sum
    sum_slip = textbook.replace("=5+5+0=10;", "=5+5+0=11;", 1)  # right inputs, wrong sum
    assert [slipped_steps("50505+49595", copy_slip, part=p) for p in ("any", "inputs", "sum")] \
        == [1, 1, 0]
    assert [slipped_steps("50505+49595", sum_slip, part=p) for p in ("any", "inputs", "sum")] \
        == [1, 0, 1]
    with pytest.raises(ValueError, match="part"):
        slipped_steps("1+1", textbook, part="middle")


@pytest.mark.parametrize("problems", ["12+34", []])
def test_rollout_stats_refuses_a_string_or_nothing(problems):
    from explainer.reasoning import load_pretrained

    with pytest.raises(ValueError, match="problems must be a non-empty list"):
        grpo.rollout_stats(load_pretrained("cot"), problems, temperature=0)
