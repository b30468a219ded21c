"""Pipeline schedules: bubbles against the DualPipe README table, dependencies, memory.

The dependency and idle-time checks below re-derive everything from the
timeline rows, independently of the simulator's own bookkeeping.
"""

import itertools
import math
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from explainer.pipeline import (
    README_TABLE,
    SCHEDULES,
    bubble_table,
    formula_exact,
    overlap_step_time,
    readme_bubble,
    simulate,
    timeline_grid,
)


def _micro_counts(schedule, pp):
    """A few valid micro-batch counts per schedule."""
    if schedule == "dualpipe":
        return (2 * pp, 2 * pp + 4)
    return (pp, pp + 3, 2 * pp)


def _idle_from_gaps(result):
    """Per-device idle time as leading gap + gaps between chunks + trailing gap."""
    tl = result.timeline.drop_duplicates(["device", "start", "end"])
    makespan = tl["end"].max()
    idle = []
    for d in range(result.n_devices):
        g = tl[tl["device"] == d].sort_values("start")
        t, gaps = 0.0, 0.0
        for row in g.itertuples():
            gaps += row.start - t
            t = row.end
        idle.append(gaps + makespan - t)
    return idle


def _check_schedule(result):
    """Every chunk once, dependencies kept, one chunk at a time per device."""
    tl = result.timeline
    pp = result.pp
    chains = tl["direction"] if result.schedule == "dualpipe" else 0
    tl = tl.assign(chain=chains)
    n_chain = 2 if result.schedule == "dualpipe" else 1
    per_chain = result.n_micro // n_chain

    parts = {}
    for r in tl.itertuples():
        key = (r.part, r.chain, r.stage, r.micro)
        assert key not in parts, f"chunk {key} ran twice"
        parts[key] = r
    home = {}
    for c, s, m in itertools.product(range(n_chain), range(pp), range(per_chain)):
        f, b = parts[("F", c, s, m)], parts[("B", c, s, m)]
        # one stage of one pipeline always lives on the same device
        assert home.setdefault((c, s), f.device) == f.device == b.device
        if s > 0:  # forward waits for the upstream stage
            assert f.start >= parts[("F", c, s - 1, m)].end
        assert b.start >= f.end  # no backward before its forward
        if s < pp - 1:  # backward waits for the downstream gradient
            assert b.start >= parts[("B", c, s + 1, m)].end
        w = parts.get(("W", c, s, m))
        assert (w is not None) == (b.kind == "BI")
        if w is not None:
            assert w.start >= b.end and w.device == b.device
    assert len(parts) == len(tl)

    # an FB pair is two rows on one interval, nothing else overlaps
    fb = tl[tl["kind"] == "FB"]
    assert (fb.groupby(["device", "start", "end"]).size() == 2).all()
    for d, g in tl.drop_duplicates(["device", "start", "end"]).groupby("device"):
        g = g.sort_values("start")
        assert (g["start"].values[1:] >= g["end"].values[:-1]).all(), f"device {d} overlaps"
        assert (g["end"] - g["start"] > 0).all()


def test_one_f_one_b_hand_computed():
    # pp=2, n=2, F=1, B=2: device 1 runs F0 1-2, B0 2-4, F1 4-5, B1 5-7;
    # device 0 runs F0 0-1, F1 1-2, B0 4-6, B1 7-9. Makespan 9, busy 6 each.
    r = simulate("1f1b", pp=2, n_micro=2, F=1, B=2, W=0)
    d0 = r.timeline[r.timeline.device == 0][["start", "end"]].values.tolist()
    d1 = r.timeline[r.timeline.device == 1][["start", "end"]].values.tolist()
    assert d0 == [[0, 1], [1, 2], [4, 6], [7, 9]]
    assert d1 == [[1, 2], [2, 4], [4, 5], [5, 7]]
    assert r.makespan == 9 and r.busy == (6, 6) and r.bubble == 3


@pytest.mark.parametrize("pp", [1, 2, 3, 4, 5, 8])
def test_1f1b_bubble_equals_readme_for_any_durations(pp):
    for n, (F, B) in itertools.product(_micro_counts("1f1b", pp), [(1, 2), (3, 7), (2.5, 1)]):
        r = simulate("1f1b", pp=pp, n_micro=n, F=F, B=B, W=0.5)
        assert r.bubble == readme_bubble("1f1b", pp=pp, F=F, B=B, W=0.5) == (pp - 1) * (F + B)
        assert set(r.idle) == {r.bubble}  # every device idles the same


@pytest.mark.parametrize("pp", [1, 2, 3, 4, 6, 8])
def test_zb1p_bubble_equals_readme_when_w_fits(pp):
    # W <= F and W <= B - W: each held-back W fits the gap it fills
    for n, (F, B, W) in itertools.product(
            _micro_counts("zb1p", pp), [(1, 2, 1), (3, 7, 2), (2, 3, 1.5), (4, 9, 0)]):
        assert formula_exact("zb1p", F=F, B=B, W=W)
        r = simulate("zb1p", pp=pp, n_micro=n, F=F, B=B, W=W)
        assert r.bubble == (pp - 1) * (F + B - 2 * W) == readme_bubble("zb1p", pp=pp, F=F, B=B, W=W)
        assert set(r.idle) == {r.bubble}


@pytest.mark.parametrize("schedule", ["dualpipe", "dualpipev"])
@pytest.mark.parametrize("pp", [2, 4, 6, 8, 10])
def test_dualpipe_bubble_equals_readme_when_f_equals_input_backward(schedule, pp):
    # F = B - W, W <= F; the overlap FB anywhere in [B, F + B]
    for F, W in [(1, 1), (2, 1), (3, 0.5), (2.5, 2.5)]:
        B = F + W
        assert formula_exact(schedule, F=F, B=B, W=W)
        for FB, n in itertools.product([B, (F + 2 * B) / 2, F + B], _micro_counts(schedule, pp)):
            r = simulate(schedule, pp=pp, n_micro=n, F=F, B=B, W=W, FB=FB)
            expect = (pp / 2 - 1) * (FB + B - 3 * W)
            assert r.bubble == expect == readme_bubble(schedule, pp=pp, F=F, B=B, W=W, FB=FB)


def test_random_durations_inside_the_exact_region_match():
    rng = random.Random(0)
    for _ in range(40):
        s = rng.choice(SCHEDULES)
        pp = rng.choice([2, 4, 6, 8])
        n = rng.choice(_micro_counts(s, pp))
        W = rng.randint(0, 6)
        F = rng.randint(max(W, 1), 10)
        B = F + W if s.startswith("dual") else W + rng.randint(max(W, 1), 10)
        FB = rng.randint(max(F, B), F + B)
        assert formula_exact(s, F=F, B=B, W=W)
        r = simulate(s, pp=pp, n_micro=n, F=F, B=B, W=W, FB=FB)
        assert r.bubble == readme_bubble(s, pp=pp, F=F, B=B, W=W, FB=FB), (s, pp, n, F, B, W)


def test_formulas_are_not_exact_outside_their_region():
    # ZB1P with W longer than a forward: held-back W's spill, bubble grows
    r = simulate("zb1p", pp=4, n_micro=8, F=1, B=5, W=2)
    assert not formula_exact("zb1p", F=1, B=5, W=2)
    assert r.bubble > readme_bubble("zb1p", pp=4, F=1, B=5, W=2)
    # DualPipe with F != B - W: the simulated bubble departs from the formula
    for pp in (4, 6, 8):
        r = simulate("dualpipe", pp=pp, n_micro=2 * pp, F=3, B=7, W=2, FB=10)
        assert r.bubble != readme_bubble("dualpipe", pp=pp, F=3, B=7, W=2, FB=10)


@pytest.mark.parametrize("schedule", SCHEDULES)
def test_bubble_is_the_worst_devices_idle_time_in_the_timeline(schedule):
    r = simulate(schedule, pp=6, n_micro=12, F=3, B=7, W=2, FB=9)
    idle = _idle_from_gaps(r)
    assert idle == pytest.approx(list(r.idle))
    assert r.bubble == pytest.approx(max(idle))


@pytest.mark.parametrize("schedule", SCHEDULES)
def test_every_schedule_respects_dependencies(schedule):
    rng = random.Random(1)
    for pp in (2, 4, 6):
        for n in _micro_counts(schedule, pp):
            F, W = rng.uniform(0.5, 3), rng.uniform(0, 2)
            B = W + rng.uniform(0.5, 3)
            FB = rng.uniform(max(F, B), F + B)
            _check_schedule(simulate(schedule, pp=pp, n_micro=n, F=F, B=B, W=W, FB=FB))


def test_dualpipe_places_stages_from_both_ends():
    r = simulate("dualpipe", pp=8, n_micro=20, F=1, B=2, W=1)
    tl = r.timeline
    for d in range(8):
        g = tl[tl.device == d]
        assert set(g[g.direction == 0].stage) == {d}
        assert set(g[g.direction == 1].stage) == {7 - d}
    assert (tl[tl.part == "F"].groupby("device").size() == 20).all()
    v = simulate("dualpipev", pp=8, n_micro=10, F=1, B=2, W=1)
    assert v.n_devices == 4
    assert {d: set(g.stage) for d, g in v.timeline.groupby("device")} == {
        0: {0, 7}, 1: {1, 6}, 2: {2, 5}, 3: {3, 4}}


@pytest.mark.parametrize("pp", [2, 4, 8])
def test_memory_and_parameters_match_the_readme_table(pp):
    one = simulate("1f1b", pp=pp, n_micro=2 * pp, F=1, B=2, W=1)
    zb = simulate("zb1p", pp=pp, n_micro=2 * pp, F=1, B=2, W=1)
    dual = simulate("dualpipe", pp=pp, n_micro=2 * pp, F=1, B=2, W=1)
    v = simulate("dualpipev", pp=pp, n_micro=2 * pp, F=1, B=2, W=1)
    assert one.peak_activations == tuple(pp - d for d in range(pp))  # 1F1B: PP on device 0
    assert zb.max_activations == pp and one.max_activations == pp
    assert dual.max_activations == pp + 1 and v.max_activations == pp + 1
    assert (one.param_copies, zb.param_copies, dual.param_copies, v.param_copies) == (1, 1, 2, 2)
    assert (one.n_devices, dual.n_devices, v.n_devices) == (pp, pp, pp // 2)
    table = README_TABLE.set_index("schedule")
    assert table.loc["dualpipe", "parameters"] == dual.param_copies


def test_dualpipe_beats_zb1p_beats_1f1b_at_equal_chunks():
    t = bubble_table(pps=(4, 8, 16), schedules=("1f1b", "zb1p", "dualpipe"))
    assert t["match"].all()
    for _, g in t.groupby("pp"):
        b = g.set_index("schedule")["bubble"]
        assert b["dualpipe"] < b["zb1p"] < b["1f1b"]


def test_simulation_is_deterministic():
    a = simulate("dualpipe", pp=6, n_micro=16, F=1.5, B=4, W=1, FB=5)
    b = simulate("dualpipe", pp=6, n_micro=16, F=1.5, B=4, W=1, FB=5)
    assert a.timeline.equals(b.timeline)


@pytest.mark.parametrize("kwargs, name", [
    (dict(schedule="dualpipe", pp=5, n_micro=20), "pp"),
    (dict(schedule="dualpipev", pp=3, n_micro=20), "pp"),
    (dict(schedule="dualpipe", pp=4, n_micro=6), "n_micro"),
    (dict(schedule="dualpipe", pp=4, n_micro=9), "n_micro"),
    (dict(schedule="1f1b", pp=4, n_micro=3), "n_micro"),
    (dict(schedule="zb1p", pp=0, n_micro=3), "pp"),
    (dict(schedule="gpipe", pp=4, n_micro=8), "schedule"),
    (dict(schedule="1f1b", pp=4, n_micro=8, F=-1), "F"),
    (dict(schedule="1f1b", pp=4, n_micro=8, B=-2), "B"),
    (dict(schedule="zb1p", pp=4, n_micro=8, W=-0.5), "W"),
    (dict(schedule="zb1p", pp=4, n_micro=8, W=2), "W"),
    (dict(schedule="dualpipe", pp=4, n_micro=8, FB=1), "FB"),
    (dict(schedule="dualpipe", pp=4, n_micro=8, FB=4), "FB"),
    (dict(schedule="1f1b", pp=4, n_micro=8, F=float("nan")), "F"),
])
def test_bad_input_names_the_parameter(kwargs, name):
    args = dict(F=1, B=2, W=1)
    args.update(kwargs)
    schedule = args.pop("schedule")
    with pytest.raises(ValueError, match=rf"^{name} "):
        simulate(schedule, **args)


def test_bubble_table_matches_up_to_float_rounding_at_non_integer_durations():
    durations = ({"F": 1.1, "B": 2.3, "W": 0.7}, {"F": 0.7, "B": 1.1, "W": 0.4},
                 {"F": 0.7, "B": 1.1, "W": 0.4, "FB": 1.5})
    t = bubble_table(pps=(4, 6, 8), durations=durations)
    # 1F1B and ZB1P: every row matches, although some differ from the formula in the last bits
    single = t[t.schedule.isin(["1f1b", "zb1p"])]
    assert single["match"].all()
    assert (single.bubble != single.formula).any()
    # 1.1 - 0.4 is not 0.7 in binary, yet F = B - W holds: DualPipe's formula is exact there
    assert formula_exact("dualpipe", F=0.7, B=1.1, W=0.4)
    dual = t[t.schedule.str.startswith("dual") & (t.F == 0.7)]
    assert dual["formula_exact"].all() and dual["match"].all()
    # and a real departure still reads as one: F = 1.1 is not B - W = 1.6
    off = t[t.schedule.str.startswith("dual") & (t.F == 1.1)]
    assert not off["match"].any() and not off["formula_exact"].any()


@pytest.mark.parametrize("kwargs, name", [
    (dict(schedules=()), "schedules"),
    (dict(schedules=("gpipe",)), "schedules"),
    (dict(pps=()), "pps"),
    (dict(pps=(3,), schedules=("dualpipe",)), "pp"),
    (dict(pps=(65,), schedules=("1f1b",)), r"pps\[0\]"),
    (dict(durations=()), "durations"),
    (dict(durations=({"F": 1, "B": 2},)), "durations"),
    (dict(durations=({"F": 1, "B": 2, "W": 1, "X": 0},)), "durations"),
    (dict(durations=({"F": 1, "B": 2, "W": 2},)), "W"),
    (dict(micro_per_stage=0), "micro_per_stage"),
    (dict(micro_per_stage=1.5), "micro_per_stage"),
])
def test_bubble_table_bad_input_names_the_parameter(kwargs, name):
    with pytest.raises(ValueError, match=rf"^{name} "):
        bubble_table(**{"pps": (4,), **kwargs})


@pytest.mark.parametrize("kwargs, name", [
    (dict(schedule="gpipe"), "schedule"),
    (dict(pp=0), "pp"),
    (dict(schedule="dualpipe", pp=5), "pp"),
    (dict(F=0), "F"),
    (dict(B=float("inf")), "B"),
    (dict(W=2), "W"),
    (dict(FB=0.5), "FB"),
])
def test_readme_bubble_and_formula_exact_bad_input_names_the_parameter(kwargs, name):
    args = {"schedule": "zb1p", "pp": 4, "F": 1, "B": 2, "W": 1, **kwargs}
    with pytest.raises(ValueError, match=rf"^{name} "):
        readme_bubble(**args)
    if "pp" not in kwargs and "FB" not in kwargs:
        args.pop("pp")
        with pytest.raises(ValueError, match=rf"^{name} "):
            formula_exact(**args)


# ------------------------------------------------------------------ issue 25: bad input, edges


@pytest.mark.parametrize("schedule, durations", [
    ("zb1p", dict(F=0.1, B=2, W=1.4)),  # 2W > F + B: (pp-1)(F+B-2W) would be -4.9
    ("dualpipe", dict(F=1, B=2, W=1.5, FB=2)),  # 3W > FB + B
    ("dualpipev", dict(F=1, B=2, W=1.9)),
])
def test_readme_bubble_refuses_durations_that_make_the_formula_negative(schedule, durations):
    with pytest.raises(ValueError, match="^W must be at most .* formula is negative"):
        readme_bubble(schedule, pp=8, **durations)
    # the simulator still measures those durations, and the tables leave the formula blank
    row = bubble_table(pps=(8,), durations=(durations,), schedules=(schedule,)).iloc[0]
    assert row.bubble >= 0 and math.isnan(row.formula) and not row.match


def test_readme_bubble_refuses_the_issue_example():
    with pytest.raises(ValueError, match="^W "):
        readme_bubble("zb1p", pp=8, F=1, B=2, W=5)


@pytest.mark.parametrize("kwargs, name", [
    (dict(compute=float("nan"), comm=1), "compute"),
    (dict(compute=1, comm=-1), "comm"),
    (dict(compute=1, comm=1, comm_sms=132), "comm_sms"),
    (dict(compute=1, comm=1, total_sms=0), "total_sms"),
    (dict(compute=True, comm=1), "compute"),
])
def test_overlap_step_time_names_the_bad_argument(kwargs, name):
    with pytest.raises(ValueError, match=f"^{name} "):
        overlap_step_time(**kwargs)


def test_timeline_grid_names_the_bad_list():
    for kwargs, name in ((dict(schedules=("gpipe",)), "schedules"), (dict(pps=()), "pps"),
                         (dict(n_micros=(0,)), r"n_micros\[0\]")):
        with pytest.raises(ValueError, match=f"^{name} "):
            timeline_grid(**kwargs)


# Hypothesis: for any durations simulate() accepts, every idle time is non-negative, the
# bubble is the worst of them, and the README formula is either refused or non-negative.
_durations = st.tuples(st.floats(0.01, 10), st.floats(0.01, 10), st.floats(0, 0.999),
                       st.floats(0, 1)).map(
    lambda t: dict(F=t[0], B=t[1], W=t[2] * t[1], FB=max(t[0], t[1]) + t[3] * min(t[0], t[1])))


@settings(max_examples=60, deadline=None, derandomize=True)
@given(durations=_durations, schedule=st.sampled_from(SCHEDULES), half_pp=st.integers(1, 4),
       extra=st.integers(0, 4))
def test_bubbles_are_never_negative(durations, schedule, half_pp, extra):
    pp = 2 * half_pp
    n_micro = 2 * (pp + extra) if schedule == "dualpipe" else pp + extra
    r = simulate(schedule, pp=pp, n_micro=n_micro, **durations)
    assert min(r.idle) >= -1e-9 * (durations["F"] + durations["B"])
    assert r.bubble == max(r.idle) and 0 <= r.bubble < r.makespan
    try:
        formula = readme_bubble(schedule, pp=pp, **durations)
    except ValueError as exc:
        assert str(exc).startswith("W must be at most")
    else:
        assert formula >= 0
