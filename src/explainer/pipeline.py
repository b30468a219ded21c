"""Pipeline-parallel schedules, simulated: 1F1B, ZB1P, DualPipe and DualPipeV.

What this module teaches:

* **Pipeline parallelism** splits a model into ``pp`` stages of consecutive
  layers, one (or two) per device, and pushes ``n_micro`` micro-batches
  through them. A device that waits for its neighbour sits idle: that idle
  time is the *pipeline bubble*.
* **1F1B** (PipeDream-Flush, Harlap et al. 2018; Narayanan et al. 2021): after
  a warm-up of forwards, every device alternates one forward and one backward.
* **ZB1P** (ZB-H1 of "Zero Bubble Pipeline Parallelism", Qi et al. 2023, arXiv
  2401.10241): the backward is split into ``B - W`` (gradient for the input,
  needed upstream at once) and ``W`` (gradient for the weights, which can wait).
  Device ``d`` holds back its ``W`` chunks by ``d`` micro-batches and runs them
  where it would otherwise idle, at the same peak memory as 1F1B.
* **DualPipe** (DeepSeek-V3 report, arXiv 2412.19437, §3.2.1 and Table 2):
  micro-batches are fed from *both ends* of the pipeline at once, so device
  ``r`` holds stage ``r`` of one direction and stage ``pp - 1 - r`` of the
  other (two copies of the parameters). In the steady state a forward chunk of
  one direction is paired with a backward chunk of the other ("F&B"); on real
  hardware the pair hides each other's all-to-all and pipeline communication.
* **DualPipeV** (Sea AI Lab's "cut-in-half", in deepseek-ai/DualPipe): the same
  program on ``pp / 2`` devices, each holding stages ``r`` and ``pp - 1 - r`` of
  a single V-shaped pipeline.

The per-device programs (which chunk a device runs next) follow the eight
steps of ``DualPipe.step`` / ``DualPipeV.step`` in the deepseek-ai/DualPipe
repository (read, not copied: here they are lists of chunk tokens, not
``torch.distributed`` calls). The simulator is a list scheduler: every device
runs its program in order, and a chunk starts as soon as the device is free
and its inputs exist. Communication is free and instantaneous (that is what a
toy cannot show; see the chapter "Keeping the GPUs busy").

Dependencies (per micro-batch ``m`` of a pipeline, stage ``s``):

* forward ``F(s, m)`` needs ``F(s - 1, m)``;
* backward-for-input (the ``B`` of a full backward, or ``BI``) of ``(s, m)``
  needs ``F(s, m)`` and the backward-for-input of ``(s + 1, m)``;
* backward-for-weights ``W(s, m)`` needs ``BI(s, m)`` on the same device.

An overlapped pair ``FB`` takes ``FB`` time units; both of its outputs appear
at its end.

**How the bubble is measured.** From the timeline alone:
``T`` is the end of the last chunk on any device (every schedule starts at
0), ``busy[d]`` is the summed duration of the chunks device ``d`` runs (an
``FB`` pair counted once, for its ``FB`` duration), ``idle[d] = T - busy[d]``,
and **``bubble = max(idle)``**, the idle time of the worst device within one
iteration. For 1F1B and ZB1P every device does the same work, so all
``idle[d]`` are equal. This is the quantity the README table calls the
bubble: for 1F1B, ``T = n_micro (F + B) + (pp - 1)(F + B)``. The formulas are
*not* used by the simulator; comparing ``bubble`` with :func:`readme_bubble`
checks the schedule.

**Where the README formulas are exact.** Running the simulator over many
durations shows (and ``tests/test_pipeline.py`` pins) that

* 1F1B: ``(pp - 1)(F + B)`` for every ``F, B``;
* ZB1P: ``(pp - 1)(F + B - 2W)`` when ``W <= F`` and ``W <= B - W``: a held-back
  ``W`` must fit in the gap it fills (a wait for a forward, length ``F``, or
  for an input gradient, length ``B - W``);
* DualPipe and DualPipeV: ``(pp/2 - 1)(FB + B - 3W)`` when ``F = B - W`` and
  ``W <= F``, for any overlap ``max(F, B) <= FB <= F + B``. The README figure
  draws exactly this case (``F = W``, ``B = 2W``). With ``F != B - W`` the
  warm-up and cool-down waits mix ``F`` and ``B - W`` in proportions the
  one-line formula does not track, and the simulated bubble differs from it
  (``bubble_table`` and the chapter show by how much).

:func:`formula_exact` states these conditions.

**Activation memory.** A chunk's activations are held from the start of its
forward until its backward no longer needs them: the end of its full ``B``
(or of the ``B`` half of an ``FB`` pair), or the end of its ``W`` when the
backward is split. ``peak_activations[d]`` is the largest number held at once
on device ``d``, in micro-batches' worth of one stage's activations (frees at
an instant count before allocations at the same instant).

References: DeepSeek-V3 report §3.2.1, Figure 4-5, Table 2; deepseek-ai/DualPipe
(``dualpipe/dualpipe.py``, ``dualpipe/dualpipev.py``, README table); Qi et
al., Zero Bubble Pipeline Parallelism (arXiv 2401.10241), ZB-H1; Narayanan et
al. 2021 (arXiv 2104.04473) for 1F1B.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

import pandas as pd

from explainer.checks import check_choice, check_int, check_number

__all__ = [
    "README_TABLE",
    "SCHEDULES",
    "PipelineResult",
    "bubble_table",
    "formula_exact",
    "overlap_step_time",
    "readme_bubble",
    "simulate",
    "timeline_grid",
]

SCHEDULES = ("1f1b", "zb1p", "dualpipe", "dualpipev")

# The comparison table of the deepseek-ai/DualPipe README (V3 report Table 2):
# parameters and activations per device, devices, in units of one stage / PP.
README_TABLE = pd.DataFrame(
    [
        ("1f1b", "(PP-1)(F+B)", 1, "PP", "PP"),
        ("zb1p", "(PP-1)(F+B-2W)", 1, "PP", "PP"),
        ("dualpipe", "(PP/2-1)(F&B+B-3W)", 2, "PP+1", "PP"),
        ("dualpipev", "(PP/2-1)(F&B+B-3W)", 2, "PP+1", "PP/2"),
    ],
    columns=["schedule", "bubble", "parameters", "activations", "devices"],
)

_MAX_PP = 64
_MAX_MICRO = 1024
TIMELINE_COLUMNS = ["device", "start", "end", "kind", "micro", "direction", "stage", "part"]


@dataclass(frozen=True)
class PipelineResult:
    """One simulated training iteration.

    Attributes:
        schedule: One of :data:`SCHEDULES`.
        pp: Number of pipeline stages.
        n_micro: Number of micro-batches (for DualPipe, both directions together).
        n_devices: ``pp`` (``pp // 2`` for DualPipeV).
        durations: ``{"F", "B", "W", "FB"}`` chunk durations used.
        timeline: One row per chunk: ``device``, ``start``, ``end``, ``kind``
            (``F`` forward, ``B`` full backward, ``BI`` backward for input,
            ``W`` backward for weights, ``FB`` overlapped pair), ``micro`` (id
            within its direction), ``direction`` (0: data moves to higher
            device ids, 1: to lower), ``stage`` (model stage along the
            micro-batch's pipeline) and ``part`` (``F``, ``B`` or ``W``: the
            computation the row stands for). An ``FB`` pair is two rows with
            the same device, start and end, one with part ``F`` and one ``B``.
        makespan: End of the last chunk (the iteration time ``T``).
        busy: Per device, time spent computing.
        idle: Per device, ``makespan - busy``.
        bubble: ``max(idle)`` (see the module docstring).
        peak_activations: Per device, the most micro-batches' activations held.
        param_copies: Stages' parameters held per device (1 or 2): the
            "Parameter Per Device" column of the README table.
    """

    schedule: str
    pp: int
    n_micro: int
    n_devices: int
    durations: dict
    timeline: pd.DataFrame
    makespan: float
    busy: tuple
    idle: tuple
    bubble: float
    peak_activations: tuple
    param_copies: int

    @property
    def max_activations(self) -> int:
        """Largest per-device peak: the README's "Activation Per Device"."""
        return max(self.peak_activations)

    @property
    def bubble_rate(self) -> float:
        """Bubble as a fraction of the iteration time."""
        return self.bubble / self.makespan


# ----------------------------------------------------------------- validation
def _check_ints(name: str, values, low: int, high: int) -> tuple[int, ...]:
    """A non-empty list or tuple of ints in [low, high] (a single int is one), naming ``name``."""
    if isinstance(values, int) and not isinstance(values, bool):
        values = (values,)
    if not isinstance(values, (list, tuple)) or not values:
        raise ValueError(f"{name} must be a non-empty list or tuple of ints in "
                         f"[{low}, {high}], got {values!r}")
    return tuple(check_int(f"{name}[{i}]", v, low, high) for i, v in enumerate(values))


def _check_schedules(schedules) -> tuple[str, ...]:
    """A non-empty subset of :data:`SCHEDULES` (a single name is one), naming ``schedules``."""
    schedules = (schedules,) if isinstance(schedules, str) else schedules
    if (not isinstance(schedules, (list, tuple)) or not schedules
            or any(not isinstance(s, str) or s not in SCHEDULES for s in schedules)):
        raise ValueError(f"schedules must be a non-empty subset of {SCHEDULES}, "
                         f"got {schedules!r}")
    return tuple(schedules)


def _check_schedule_pp(schedule, pp) -> tuple[str, int]:
    """A known schedule and a stage count it accepts, else ValueError naming it."""
    check_choice("schedule", schedule, SCHEDULES)
    dual = schedule in ("dualpipe", "dualpipev")
    pp = check_int("pp", pp, 2 if dual else 1, _MAX_PP)
    if dual and pp % 2:
        raise ValueError(f"pp must be even for {schedule} (each device holds two "
                         f"stages), got {pp}")
    return schedule, pp


def _check_durations(F, B, W, FB=None) -> tuple[float, float, float, float]:
    """``F > 0``, ``B > 0``, ``0 <= W < B``, ``max(F, B) <= FB <= F + B`` (None: ``F + B``)."""
    F = check_number("F", F, 0, lo_open=True)
    B = check_number("B", B, 0, lo_open=True)
    W = check_number("W", W, 0)
    if W >= B:
        raise ValueError(f"W must be in [0, B) (it is part of the full backward "
                         f"B={B:g}), got {W:g}")
    if FB is None:
        FB = F + B  # no overlap gain: the pair runs back to back
    FB = check_number("FB", FB, 0, lo_open=True)
    if not max(F, B) <= FB <= F + B:
        raise ValueError(f"FB must be in [max(F, B), F + B] = [{max(F, B):g}, "
                         f"{F + B:g}], got {FB:g}")
    return F, B, W, FB


def _validate(schedule, pp, n_micro, F, B, W, FB):
    """Check the inputs of :func:`simulate`; return normalised values."""
    schedule, pp = _check_schedule_pp(schedule, pp)
    n_micro = check_int("n_micro", n_micro, 1, _MAX_MICRO)
    need = {"1f1b": pp, "zb1p": pp, "dualpipe": 2 * pp, "dualpipev": pp}[schedule]
    if n_micro < need:
        raise ValueError(f"n_micro must be >= {need} for {schedule} with pp={pp} "
                         f"(and <= {_MAX_MICRO}), got {n_micro}")
    if schedule == "dualpipe" and n_micro % 2:
        raise ValueError(f"n_micro must be even for dualpipe (half go each way), "
                         f"got {n_micro}")
    F, B, W, FB = _check_durations(F, B, W, FB)
    return schedule, pp, n_micro, F, B, W, FB


# ------------------------------------------------------------------ programs
# A program is a list of tokens per device:
#   ("F", phase)             forward of the next micro-batch of that phase
#   ("B", phase, split)      backward (split=True: input part only, W queued)
#   ("W",)                   the oldest queued backward-for-weights
#   ("FB", phase_f, phase_b) overlapped forward and (full) backward
def _program_1f1b(pp: int, n: int, device: int, zero_bubble: bool) -> list:
    """1F1B on one device; with ``zero_bubble`` the ZB-H1 variant."""
    warmup = pp - device - 1
    lag = device  # ZB-H1: W held back by `device` micro-batches
    prog, n_f, n_b, n_w = [], 0, 0, 0

    def backward():
        nonlocal n_b, n_w
        prog.append(("B", 0, zero_bubble))
        n_b += 1
        if zero_bubble and n_b - n_w > lag:
            prog.append(("W",))
            n_w += 1

    for _ in range(warmup):
        prog.append(("F", 0))
        n_f += 1
    while n_f < n:  # steady state: one forward, one backward
        prog.append(("F", 0))
        n_f += 1
        backward()
    while n_b < n:  # cool-down
        backward()
    if zero_bubble:
        prog += [("W",)] * (n - n_w)
    return prog


def _program_dual(half: int, n_half: int, rank: int, last: bool) -> list:
    """The eight steps of DualPipe(V).step for one device.

    Args:
        half: Devices in one half of DualPipe (``pp // 2``); for DualPipeV the
            number of devices.
        n_half: Micro-batches per phase (DualPipe: per direction; DualPipeV:
            all of them).
        rank: Position from the outer end (DualPipe: ``min(r, pp - 1 - r)``;
            DualPipeV: the device id).
        last: The device where the two phases meet (DualPipe's middle ranks,
            DualPipeV's last device).
    """
    outer = half - rank - 1  # devices between this one and the outer end
    p = []
    p += [("F", 0)] * (2 * outer)  # 1: nF0
    p += [("F", 0), ("F", 1)] * (rank + 1)  # 2: nF0F1
    p += [("B", 1, True), ("W",), ("F", 1)] * outer  # 3: nB1W1F1
    for i in range(n_half - 2 * half + rank + 1):  # 4: nF0B1F1B0 (main step)
        if i == 0 and last:  # not overlapped here: shorter bubble
            p += [("F", 0), ("B", 1, False)]
        else:
            p.append(("FB", 0, 1))
        p.append(("FB", 1, 0))
    p += [("B", 1, False), ("FB", 1, 0)] * outer  # 5: nB1F1B0
    split = False  # 6: nB1B0, the second half with split backward
    n6 = rank + 1
    for i in range(n6):
        if i == n6 // 2 and rank % 2 == 1:
            split = True
        p.append(("B", 1, split))
        if i == n6 // 2 and rank % 2 == 0:
            split = True
        p.append(("B", 0, split))
    p += [("W",), ("B", 0, True)] * outer  # 7: nWB0
    p += [("W",)] * (rank + 1)  # 8: nW
    return p


def _layout(schedule: str, pp: int, n: int):
    """Programs per device and ``where(device, phase) -> (direction, stage)``."""
    if schedule in ("1f1b", "zb1p"):
        progs = [_program_1f1b(pp, n, d, schedule == "zb1p") for d in range(pp)]
        return progs, lambda d, phase: (0, d)
    if schedule == "dualpipe":
        half = pp // 2
        progs = [_program_dual(half, n // 2, min(r, pp - 1 - r), r in (half - 1, half))
                 for r in range(pp)]

        def where(d, phase):
            direction = phase ^ int(d >= half)  # second half: phase 0 runs backwards
            return direction, (d if direction == 0 else pp - 1 - d)

        return progs, where
    n_dev = pp // 2  # dualpipev
    progs = [_program_dual(n_dev, n, r, r == n_dev - 1) for r in range(n_dev)]
    return progs, lambda d, phase: (phase, d if phase == 0 else pp - 1 - d)


# ----------------------------------------------------------------- simulator
def simulate(schedule: str, *, pp: int, n_micro: int, F: float, B: float, W: float,
             FB: float | None = None) -> PipelineResult:
    """Simulate one training iteration of a pipeline schedule.

    Args:
        schedule: ``"1f1b"``, ``"zb1p"``, ``"dualpipe"`` or ``"dualpipev"``.
        pp: Pipeline stages (1-64; even for the DualPipe family). DualPipeV
            runs them on ``pp // 2`` devices.
        n_micro: Micro-batches per iteration: at least ``pp`` for 1F1B, ZB1P
            and DualPipeV, at least ``2 * pp`` and even for DualPipe (half
            enter at each end).
        F: Time of a forward chunk (> 0).
        B: Time of a full backward chunk (> 0).
        W: Time of its backward-for-weights part, ``0 <= W < B``; the
            backward-for-input part takes ``B - W``.
        FB: Time of an overlapped forward-and-backward pair, in
            ``[max(F, B), F + B]``; ``None`` means ``F + B`` (no overlap gain).

    Returns:
        A :class:`PipelineResult` with the timeline, bubble, peak activations
        and parameter copies.

    Raises:
        ValueError: Unknown schedule, odd ``pp`` for DualPipe, too few
            micro-batches, negative or inconsistent durations.
    """
    schedule, pp, n, F, B, W, FB = _validate(schedule, pp, n_micro, F, B, W, FB)
    progs, where = _layout(schedule, pp, n)
    n_dev = len(progs)
    duration = {"F": F, "B": B, "BI": B - W, "W": W, "FB": FB}

    # Expand tokens into chunks: (kind, [(part, direction, stage, micro), ...]).
    steps = []
    for d, prog in enumerate(progs):
        n_f, n_b, w_queue, out = [0, 0], [0, 0], deque(), []

        def fwd(phase):
            direction, stage = where(d, phase)
            n_f[phase] += 1
            return ("F", direction, stage, n_f[phase] - 1)

        def bwd(phase, split):
            direction, stage = where(d, phase)
            n_b[phase] += 1
            if split:
                w_queue.append(("W", direction, stage, n_b[phase] - 1))
            return ("B", direction, stage, n_b[phase] - 1)

        for tok in prog:
            if tok[0] == "F":
                out.append(("F", [fwd(tok[1])]))
            elif tok[0] == "B":
                out.append(("BI" if tok[2] else "B", [bwd(tok[1], tok[2])]))
            elif tok[0] == "W":
                out.append(("W", [w_queue.popleft()]))
            else:
                out.append(("FB", [fwd(tok[1]), bwd(tok[2], False)]))
        steps.append(out)

    chain = (lambda direction: direction) if schedule == "dualpipe" else (lambda _: 0)
    done: dict[tuple, float] = {}  # (part, chain, stage, micro) -> end time

    def deps(part, direction, stage, micro):
        c = chain(direction)
        if part == "F":
            return [("F", c, stage - 1, micro)] if stage > 0 else []
        if part == "B":
            up = [("B", c, stage + 1, micro)] if stage < pp - 1 else []
            return [("F", c, stage, micro)] + up
        return [("B", c, stage, micro)]  # W after its backward-for-input

    rows, free_at, ptr = [], [0.0] * n_dev, [0] * n_dev
    remaining = sum(len(s) for s in steps)
    while remaining:
        progressed = False
        for d in range(n_dev):
            while ptr[d] < len(steps[d]):
                kind, parts = steps[d][ptr[d]]
                needed = [k for p in parts for k in deps(*p)]
                if any(k not in done for k in needed):
                    break
                start = max([free_at[d]] + [done[k] for k in needed])
                end = start + duration[kind]
                for part, direction, stage, micro in parts:
                    done[(part, chain(direction), stage, micro)] = end
                    rows.append((d, start, end, kind, micro, direction, stage, part))
                free_at[d], ptr[d] = end, ptr[d] + 1
                remaining -= 1
                progressed = True
        if not progressed:  # a schedule bug, never a user error
            raise RuntimeError(f"{schedule}: schedule deadlocked (pp={pp}, n_micro={n})")

    rows.sort(key=lambda r: (r[0], r[1], r[7]))  # device, start, part
    return _summarise(schedule, pp, n, dict(F=F, B=B, W=W, FB=FB), n_dev, rows,
                      chain=schedule == "dualpipe")


def _summarise(schedule, pp, n, durations, n_dev, rows, *, chain) -> PipelineResult:
    """Bubble, busy time and memory, measured from the timeline rows only."""
    makespan = max(r[2] for r in rows)
    busy = [0.0] * n_dev
    # an FB pair is two rows over one interval: count each interval once
    for d, start, end, kind, *_ in {r[:4] for r in rows}:
        busy[d] += end - start
    idle = tuple(makespan - b for b in busy)

    # rows: (device, start, end, kind, micro, direction, stage, part)
    split = {(r[0], r[5] if chain else 0, r[6], r[4]) for r in rows if r[3] == "W"}
    events = [[] for _ in range(n_dev)]  # (time, +1 alloc / -1 free)
    stages = [set() for _ in range(n_dev)]
    for d, start, end, kind, micro, direction, stage, part in rows:
        stages[d].add(stage)
        if part == "F":
            events[d].append((start, 1))
        elif part == "W" or (d, direction if chain else 0, stage, micro) not in split:
            events[d].append((end, -1))  # a full backward, or the W of a split one
    peaks = []
    for ev in events:
        level = peak = 0
        for _, delta in sorted(ev):  # at equal times, frees (-1) come first
            level += delta
            peak = max(peak, level)
        peaks.append(peak)
    tl = pd.DataFrame(rows, columns=TIMELINE_COLUMNS)
    return PipelineResult(schedule, pp, n, n_dev, durations, tl, makespan, tuple(busy),
                          idle, max(idle), tuple(peaks), max(len(s) for s in stages))


# ------------------------------------------------------------------ formulas
def readme_bubble(schedule: str, *, pp: int, F: float, B: float, W: float,
                  FB: float | None = None) -> float:
    """The bubble column of the DualPipe README table (V3 report Table 2).

    Args:
        schedule: One of :data:`SCHEDULES`.
        pp: Pipeline stages.
        F, B, W: Chunk durations as in :func:`simulate`.
        FB: Overlapped pair duration; ``None`` means ``F + B``.

    Returns:
        ``(pp-1)(F+B)``, ``(pp-1)(F+B-2W)`` or ``(pp/2-1)(FB+B-3W)``.

    Raises:
        ValueError: Unknown schedule, ``pp`` outside [1, 64] (even and >= 2
            for the DualPipe family), durations :func:`simulate` refuses, or a
            ``W`` so large that the formula goes negative (``2W > F + B`` for
            ZB1P, ``3W > FB + B`` for DualPipe(V)): no idle time is negative,
            and the README's formula does not describe those durations
            (:func:`simulate` measures the bubble for any ``W`` in ``[0, B)``).
    """
    schedule, pp = _check_schedule_pp(schedule, pp)
    F, B, W, FB = _check_durations(F, B, W, FB)
    value = _readme_formula(schedule, pp, F, B, W, FB)
    if value < 0 and not _close(value, 0.0, F + B):
        most, terms = ((F + B) / 2, "(F + B) / 2") if schedule == "zb1p" else (
            (FB + B) / 3, "(FB + B) / 3")
        raise ValueError(f"W must be at most {terms} = {most:g} for {schedule}'s README "
                         f"formula, got {W:g}: beyond it the formula is negative "
                         f"({value:g}), which no bubble can be; simulate() measures the "
                         f"bubble for any W in [0, B)")
    return max(value, 0.0) if schedule != "1f1b" else value


def _readme_formula(schedule: str, pp: int, F: float, B: float, W: float, FB: float) -> float:
    """The README table's bubble formula, unchecked."""
    if schedule == "1f1b":
        return (pp - 1) * (F + B)
    if schedule == "zb1p":
        return (pp - 1) * (F + B - 2 * W)
    return (pp / 2 - 1) * (FB + B - 3 * W)


def _formula_or_nan(schedule: str, pp: int, dur: dict) -> float:
    """:func:`readme_bubble`, or NaN where the formula would be negative (durations it
    does not describe); the durations themselves were checked by :func:`simulate`."""
    F, B, W = dur["F"], dur["B"], dur["W"]
    FB = dur.get("FB")
    FB = F + B if FB is None else FB
    value = _readme_formula(schedule, pp, F, B, W, FB)
    if value < 0 and not _close(value, 0.0, F + B):
        return math.nan
    return max(value, 0.0) if schedule != "1f1b" else value


def _close(a: float, b: float, unit: float) -> bool:
    """Equal up to float rounding: relative 1e-9, or 1e-9 of one chunk pair ``unit``."""
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9 * unit)


def formula_exact(schedule: str, *, F: float, B: float, W: float) -> bool:
    """Whether the simulator's bubble equals :func:`readme_bubble` exactly.

    Sufficient conditions (see the module docstring), found with the
    simulator and pinned by tests both ways: 1F1B always; ZB1P when ``W <= F`` and
    ``W <= B - W``; DualPipe(V) when ``F == B - W`` and ``W <= F``. The
    comparisons allow for float rounding (``1.1 - 0.4`` is not ``0.7`` in
    binary), up to a billionth of ``F + B``.

    Raises:
        ValueError: Unknown schedule, ``F`` or ``B`` not > 0, ``W`` not in ``[0, B)``.
    """
    check_choice("schedule", schedule, SCHEDULES)
    F, B, W, _ = _check_durations(F, B, W)
    unit = F + B

    def at_most(a, b):
        return a <= b or _close(a, b, unit)

    if schedule == "1f1b":
        return True
    if schedule == "zb1p":
        return at_most(W, F) and at_most(W, B - W)
    return _close(F, B - W, unit) and at_most(W, F)


def bubble_table(pps=(4, 8, 16), durations=({"F": 1, "B": 2, "W": 1},), *,
                 micro_per_stage: int = 2, schedules=SCHEDULES) -> pd.DataFrame:
    """Simulated bubbles next to the README formulas.

    Args:
        pps: Stage counts (even if a DualPipe schedule is included; 1-64).
        durations: Dicts with ``F``, ``B``, ``W`` and optionally ``FB``
            (the ranges of :func:`simulate`).
        micro_per_stage: ``n_micro = micro_per_stage * pp``, an int in
            [1, 16] (DualPipe needs at least 2).
        schedules: Which schedules to run, a non-empty subset of :data:`SCHEDULES`.

    Returns:
        One row per (durations, pp, schedule): the simulated ``bubble``, the
        ``formula`` value (NaN where :func:`readme_bubble` refuses the durations
        because the formula would be negative), ``match`` (equal up to float rounding: relative
        1e-9, or 1e-9 of ``F + B`` near zero, so ``0.1 + 0.2`` matches
        ``0.3``), ``formula_exact`` for those durations, peak activations
        (max over devices), parameter copies, devices, and the bubble as a
        share of the iteration.

    Raises:
        ValueError: An empty or unknown ``schedules``, ``pps`` or
            ``durations``, a ``durations`` dict with missing or unknown keys,
            ``micro_per_stage`` outside [1, 16], or any value
            :func:`simulate` refuses (it names the parameter).
    """
    schedules = _check_schedules(schedules)
    pps = _check_ints("pps", pps, 1, _MAX_PP)
    durations = (durations,) if isinstance(durations, dict) else durations
    if not isinstance(durations, (list, tuple)) or not durations:
        raise ValueError(f"durations must be a non-empty list or tuple of dicts with F, B "
                         f"and W, got {durations!r}")
    for dur in durations:
        if (not isinstance(dur, dict) or not {"F", "B", "W"} <= set(dur)
                or not set(dur) <= {"F", "B", "W", "FB"}):
            raise ValueError(f"durations must be dicts with keys F, B, W and optionally FB, "
                             f"got {dur!r}")
    micro_per_stage = check_int("micro_per_stage", micro_per_stage, 1, 16)
    rows = []
    for dur in durations:
        for pp in pps:
            for s in schedules:
                r = simulate(s, pp=pp, n_micro=micro_per_stage * pp, **dur)
                f = _formula_or_nan(s, pp, dur)
                fb = dur.get("FB")
                rows.append(dict(
                    F=dur["F"], B=dur["B"], W=dur["W"],
                    FB=dur["F"] + dur["B"] if fb is None else fb,
                    pp=pp, schedule=s, n_micro=r.n_micro, devices=r.n_devices,
                    bubble=r.bubble, formula=f,
                    match=_close(r.bubble, f, dur["F"] + dur["B"]),
                    formula_exact=formula_exact(s, F=dur["F"], B=dur["B"], W=dur["W"]),
                    activations=r.max_activations, param_copies=r.param_copies,
                    bubble_rate=r.bubble_rate,
                ))
    return pd.DataFrame(rows)


def timeline_grid(schedules=SCHEDULES, pps=(4, 8), n_micros=(16, 24), *, F: float = 1,
                  B: float = 2, W: float = 1, FB: float | None = None):
    """Timelines of several runs, stacked, for a chart that switches between them.

    Args:
        schedules, pps, n_micros: The grid (every combination must be valid).
        F, B, W, FB: Chunk durations, as in :func:`simulate`.

    Returns:
        ``(timelines, summary)``: the timelines with ``schedule``, ``pp`` and
        ``n_micro`` columns added (one row per ``FB`` pair, its ``part``
        dropped), and one summary row per run with ``bubble``, ``formula``
        (NaN where the README formula would be negative, as in
        :func:`bubble_table`), ``makespan``, ``devices``, ``activations`` and
        ``param_copies``.

    Raises:
        ValueError: an empty or unknown ``schedules``, ``pps`` or ``n_micros``,
            or any value :func:`simulate` refuses (it names the parameter).
    """
    schedules = _check_schedules(schedules)
    pps = _check_ints("pps", pps, 1, _MAX_PP)
    n_micros = _check_ints("n_micros", n_micros, 1, _MAX_MICRO)
    F, B, W, FB_checked = _check_durations(F, B, W, FB)
    frames, rows = [], []
    for s in schedules:
        for pp in pps:
            for n in n_micros:
                r = simulate(s, pp=pp, n_micro=n, F=F, B=B, W=W, FB=FB)
                tl = r.timeline
                tl = tl[~((tl["kind"] == "FB") & (tl["part"] == "B"))].drop(columns="part")
                frames.append(tl.assign(schedule=s, pp=pp, n_micro=n))
                rows.append(dict(schedule=s, pp=pp, n_micro=n, bubble=r.bubble,
                                 formula=_formula_or_nan(s, pp, dict(F=F, B=B, W=W,
                                                                     FB=FB_checked)),
                                 makespan=r.makespan, devices=r.n_devices,
                                 activations=r.max_activations, param_copies=r.param_copies))
    return pd.concat(frames, ignore_index=True), pd.DataFrame(rows)


def overlap_step_time(compute: float, comm: float, *, comm_sms: int = 20,
                      total_sms: int = 132) -> dict:
    """Step time with communication run after compute, or hidden under it.

    The arithmetic behind DualPipe's purpose (V3 report §3.2.1-3.2.2): when
    cross-node all-to-all takes about as long as computation (ratio about
    1:1), running them one after the other doubles the step; overlapping them
    costs only the SMs lent to communication (20 of the H800's 132), which
    slow computation by ``total_sms / (total_sms - comm_sms)``.

    Args:
        compute: Time of the computation on all SMs.
        comm: Time of the communication.
        comm_sms: SMs given to communication kernels while overlapping.
        total_sms: SMs on the GPU.

    Returns:
        ``{"serial", "overlapped", "ideal"}``: ``compute + comm``;
        ``max(compute * total / (total - comm_sms), comm)``; ``max(compute, comm)``.

    Raises:
        ValueError: ``compute`` or ``comm`` not a finite number >= 0, ``total_sms``
            not an int in [1, 10000], ``comm_sms`` not an int in [0, total_sms).
    """
    compute = check_number("compute", compute, 0)
    comm = check_number("comm", comm, 0)
    total_sms = check_int("total_sms", total_sms, 1, 10_000)
    comm_sms = check_int("comm_sms", comm_sms, 0, total_sms - 1)
    slowed = compute * total_sms / (total_sms - comm_sms)
    return {"serial": compute + comm, "overlapped": max(slowed, comm),
            "ideal": max(compute, comm)}
