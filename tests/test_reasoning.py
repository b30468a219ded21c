"""Tests for explainer.reasoning: formats, metrics, shipped models, determinism, bad input."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from explainer import reasoning as rs
from explainer.reasoning import (
    MAX_DIGITS,
    VOCAB,
    ReasonerConfig,
    count_carries,
    decode,
    encode,
    format_example,
    load_pretrained,
    majority_vote,
    make_problems,
    parse_answer,
    pass_at_k,
    train,
)

# the fixed held-out set for the shipped models' accuracy targets
HELD_OUT = make_problems(1000, digits=MAX_DIGITS, seed=2025)


@pytest.fixture(scope="module")
def cot():
    return load_pretrained("cot")


@pytest.fixture(scope="module")
def direct():
    return load_pretrained("direct")


# ----------------------------------------------------------------- tokeniser, formats


def test_tokeniser_round_trips_every_character_and_a_full_example():
    assert decode(encode(VOCAB)) == VOCAB
    text = format_example("98765+4321", "cot")
    assert decode(encode(text)) == text
    assert encode("0") == [0] and encode(".") == [len(VOCAB) - 1]


def test_encode_rejects_characters_outside_the_vocabulary():
    with pytest.raises(ValueError, match="vocabulary"):
        encode("12a")


def test_formats_match_the_documented_examples():
    assert format_example("123+456", "direct") == "00123+00456=000579."
    assert format_example("123+456", "cot") == (
        "00123+00456=3+6+0=09;2+5+0=07;1+4+0=05;0+0+0=00;0+0+0=00>000579."
    )
    assert format_example("99999+1", "cot").endswith("9+0+1=10>100000.")


@pytest.mark.parametrize("digits", range(1, MAX_DIGITS + 1))
def test_scratchpad_arithmetic_is_right_for_every_problem(digits):
    for problem in make_problems(300, digits=digits, seed=digits):
        a, b = map(int, problem.split("+"))
        text = format_example(problem, "cot")
        body = text.split("=", 1)[1]
        steps, answer = body.rstrip(".").split(">")
        carry, digits_out = 0, []
        for i, step in enumerate(steps.split(";")):  # column i, least-significant first
            lhs, s = step.split("=")
            da, db, c = map(int, lhs.split("+"))
            assert (da, db) == ((a // 10**i) % 10, (b // 10**i) % 10)
            assert c == carry and int(s) == da + db + c and len(s) == 2
            carry = int(s) // 10
            digits_out.append(int(s) % 10)
        assert int(answer) == a + b == carry * 10**MAX_DIGITS + sum(
            d * 10**i for i, d in enumerate(digits_out)
        )
        assert parse_answer(text, "cot") == a + b
        assert parse_answer(format_example(problem, "direct"), "direct") == a + b


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 10**MAX_DIGITS - 1), st.integers(0, 10**MAX_DIGITS - 1))
def test_every_scratchpad_column_adds_up(a, b):
    body = format_example(f"{a}+{b}", "cot").split("=", 1)[1]
    steps, answer = body.rstrip(".").split(">")
    total = 0
    for i, step in enumerate(steps.split(";")):
        lhs, s = step.split("=")
        da, db, c = map(int, lhs.split("+"))
        assert int(s) == da + db + c
        total += (da + db) * 10**i
    assert int(answer) == total == a + b


def test_parse_answer_returns_none_for_unparsable_text():
    assert parse_answer("00001+00002=0000", "direct") is None  # no end mark
    assert parse_answer("00001+00002=1+2+0=03;", "cot") is None  # no answer marker
    assert parse_answer("00001+00002=>0+3.", "cot") is None  # not digits
    assert parse_answer("00001+00002=000003.", "direct") == 3


def test_make_problems_is_seeded_and_has_the_right_width():
    a = make_problems(50, digits=3, seed=7)
    assert a == make_problems(50, digits=3, seed=7)
    assert a != make_problems(50, digits=3, seed=8)
    assert all(len(x) == 3 for p in a for x in p.split("+"))


def test_count_carries_counts_columns_that_carry():
    assert count_carries("123+456") == 0
    assert count_carries("99999+1") == 5
    assert count_carries("15+5") == 1
    assert count_carries("55+55") == 2


# ------------------------------------------------------------------------- metrics


def test_pass_at_k_exact_values():
    assert pass_at_k(10, 0, 5) == 0.0
    assert pass_at_k(10, 10, 1) == 1.0
    assert pass_at_k(10, 3, 1) == pytest.approx(0.3)
    assert pass_at_k(4, 1, 2) == pytest.approx(0.5)  # 1 - C(3,2)/C(4,2) = 1 - 3/6
    assert pass_at_k(5, 2, 2) == pytest.approx(0.7)  # 1 - C(3,2)/C(5,2) = 1 - 3/10
    assert pass_at_k(5, 3, 3) == 1.0  # fewer than k wrong samples


def test_majority_vote_ignores_none_and_breaks_ties_by_first_seen():
    assert majority_vote([3, 5, 5, None, None, None]) == 5
    assert majority_vote([7, 2, 2, 7]) == 7
    assert majority_vote([None, None]) is None
    assert majority_vote([]) is None


@pytest.mark.parametrize(
    ("n", "c", "k"), [(0, 0, 1), (3, 4, 1), (3, -1, 1), (3, 1, 0), (3, 1, 4), (3.0, 1, 1)]
)
def test_pass_at_k_rejects_bad_arguments(n, c, k):
    with pytest.raises(ValueError):
        pass_at_k(n, c, k)


# ---------------------------------------------------------------- shipped models


def test_shipped_cot_model_is_at_least_95_percent_right(cot):
    assert rs.accuracy(cot, HELD_OUT) >= 0.95


def test_shipped_direct_model_is_clearly_worse_than_cot(cot, direct):
    acc_direct = rs.accuracy(direct, HELD_OUT[:500])
    acc_cot = rs.accuracy(cot, HELD_OUT[:500])
    assert acc_direct <= acc_cot - 0.2


def test_shipped_models_have_the_same_size_except_the_position_table(cot, direct):
    assert cot.config == ReasonerConfig(fmt="cot") and direct.config == ReasonerConfig(fmt="direct")
    shapes = {fmt: {k: v.shape for k, v in m.model.state_dict().items()}
              for fmt, m in (("cot", cot), ("direct", direct))}
    assert shapes["cot"].pop("transformer.wpe.weight") == (63, 64)  # one row per position
    assert shapes["direct"].pop("transformer.wpe.weight") == (18, 64)
    assert shapes["cot"] == shapes["direct"]
    assert sum(p.numel() for p in cot.model.parameters()) == 105_088


def test_shipped_models_record_the_same_training_budget(cot, direct):
    for fmt, m in (("cot", cot), ("direct", direct)):
        assert {k: m.meta[k] for k in ("fmt", "steps", "batch_size", "seed")} == {
            "fmt": fmt, "steps": 600, "batch_size": 128, "seed": 0}


def test_generate_returns_the_trace_that_solve_parses(cot):
    texts = cot.generate(["123+456", "99999+1"])
    assert texts[0][0] == format_example("123+456", "cot")
    assert texts[1][0] == format_example("99999+1", "cot")
    assert cot.solve(["123+456", "99999+1"]) == [[579], [100000]]


def test_solve_is_deterministic_under_a_seed(direct):
    problems = make_problems(20, digits=4, seed=3)
    a = direct.solve(problems, temperature=1.0, samples=8, seed=11)
    b = direct.solve(problems, temperature=1.0, samples=8, seed=11)
    c = direct.solve(problems, temperature=1.0, samples=8, seed=12)
    assert a == b and a != c
    assert len(a) == 20 and all(len(row) == 8 for row in a)


def test_greedy_ignores_the_seed(cot):
    problems = make_problems(10, digits=5, seed=4)
    assert cot.solve(problems, seed=1) == cot.solve(problems, seed=2)


def test_save_and_load_round_trip(tmp_path, cot):
    cot.save(tmp_path / "m.pt")
    again = rs.Reasoner.load(tmp_path / "m.pt")
    problems = make_problems(30, digits=5, seed=5)
    assert again.solve(problems) == cot.solve(problems)


# -------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"problems": ["12-3"]}, "problem must look like"),
        ({"problems": ["12+"]}, "problem must look like"),
        ({"problems": [" 1+2"]}, "problem must look like"),
        ({"problems": ["123456+1"]}, "1 to 5 digits"),
        ({"problems": ["1+2"], "temperature": -0.1}, "temperature"),
        ({"problems": ["1+2"], "samples": 0}, "samples"),
    ],
)
def test_solve_rejects_bad_input(cot, kwargs, match):
    with pytest.raises(ValueError, match=match):
        cot.solve(**kwargs)


def test_other_bad_inputs_raise_value_error():
    with pytest.raises(ValueError, match="digits must be"):
        make_problems(5, digits=MAX_DIGITS + 1, seed=0)
    with pytest.raises(ValueError, match="digits must be"):
        make_problems(5, digits=0, seed=0)
    with pytest.raises(ValueError, match="fmt must be one of"):
        load_pretrained("scratchpad")
    with pytest.raises(ValueError, match="seconds .* or steps"):
        train("cot")
    with pytest.raises(ValueError, match="steps must be"):
        train("cot", steps=0)


# ------------------------------------------------------------------------ training


def test_train_stops_when_its_time_budget_is_spent():
    cfg = ReasonerConfig(fmt="direct", max_digits=2, n_layer=1, n_head=2, n_embd=16)
    result = train("direct", seconds=0.3, config=cfg, batch_size=8, log_every=1000)
    assert result.steps >= 1 and 0.3 <= result.seconds < 5


def test_train_runs_and_lowers_the_loss_deterministically():
    cfg = ReasonerConfig(fmt="cot", max_digits=2, n_layer=1, n_head=2, n_embd=16)
    a = train("cot", steps=40, seed=0, config=cfg, batch_size=16, log_every=10)
    b = train("cot", steps=40, seed=0, config=cfg, batch_size=16, log_every=10)
    assert a.steps == 40 and a.logged_steps == [10, 20, 30, 40]
    assert a.losses == b.losses
    assert a.losses[-1] < a.losses[0]
    assert a.reasoner.model is a.model
    assert torch.equal(a.model.transformer.wte.weight, b.model.transformer.wte.weight)


# ------------------------------------------------------------------- mixed-format models


def test_mixed_batches_mix_formats_and_do_not_learn_the_padding():
    g = torch.Generator().manual_seed(0)
    x, y = rs._batch("mixed", 2, 200, g, cot_share=0.3)
    cot_rows = (x == VOCAB.index(">")).any(1)
    assert 0.15 < cot_rows.float().mean() < 0.45  # about cot_share of the rows
    direct = y[~cot_rows]
    n_learned = (direct != -1).sum(1)
    assert (n_learned == 4).all()  # "000579."-style answer for 2 digits: 3 digits + end mark
    assert ((y[cot_rows] != -1).sum(1) == ReasonerConfig(fmt="cot", max_digits=2)
            .completion_len).all()


def test_mixed_parsing_reads_either_format_and_train_checks_cot_share():
    assert parse_answer(format_example("123+456", "cot"), "mixed") == 579
    assert parse_answer(format_example("123+456", "direct"), "mixed") == 579
    assert rs.uses_scratchpad(format_example("1+2", "cot"))
    assert not rs.uses_scratchpad(format_example("1+2", "direct"))
    with pytest.raises(ValueError, match="cot_share"):
        train("mixed", steps=1)
    with pytest.raises(ValueError, match="cot_share"):
        train("cot", steps=1, cot_share=0.2)
    with pytest.raises(ValueError, match="cot_share"):
        train("mixed", steps=1, cot_share=1.5)


def test_init_starts_from_a_copy_of_the_given_weights():
    cfg = ReasonerConfig(fmt="mixed", max_digits=2, n_layer=1, n_head=2, n_embd=16)
    start = train("mixed", steps=1, seed=0, config=cfg, batch_size=4, cot_share=0.5).reasoner
    before = start.model.transformer.wte.weight.clone()
    res = train("mixed", steps=2, seed=1, config=cfg, batch_size=4, cot_share=0.5, lr=1e-9,
                init=start)
    assert torch.equal(start.model.transformer.wte.weight, before)  # not modified
    assert torch.allclose(res.model.transformer.wte.weight, before, atol=1e-6)  # tiny lr
    assert res.reasoner.meta["init"] == start.meta


@pytest.mark.parametrize("call, match", [
    (lambda r: r.generate(["1+2"], samples=True), "samples"),
    (lambda r: r.generate(["1+2"], batch_size=-1), "batch_size"),
    (lambda r: r.generate(["1+2"], temperature=float("inf")), "temperature"),
    (lambda r: rs.accuracy(r, []), "problems"),
    (lambda r: rs.accuracy(r, "12+34"), "problems"),
    (lambda r: rs.make_problems(3, digits=True, seed=0), "digits"),
])
def test_bad_arguments_get_a_clear_error(call, match):
    r = rs.load_pretrained("cot")
    with pytest.raises(ValueError, match=match):
        call(r)
