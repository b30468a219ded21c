"""Notebook execution stress test: every chapter executed N times, every cell timed.

Issue #10: a cell that creates ipywidgets sometimes never completed from the
client's side while the kernel sat idle. This script executes chapters the way
nbmake and the book build do (a fresh kernel per run, :class:`nbclient.NotebookClient`,
the notebook's folder as working directory) and times each cell from the
client's side: from sending ``execute_request`` to having both the
``execute_reply`` and the kernel's ``idle`` status.

A *stall* is one execution of a cell that took more than ``--stall`` seconds
(default 20) although that cell's median over all runs is under ``--normal``
seconds (default 5); a cell that hits the per-cell ``--timeout`` counts as a
stall too (the run is then abandoned, as nbmake would fail it).

    .venv/bin/python benchmarks/stress.py                  # every chapter, 10 runs each
    .venv/bin/python benchmarks/stress.py moe -n 3         # one chapter, 3 runs
    .venv/bin/python benchmarks/stress.py --mode book      # as the book build runs them
    .venv/bin/python benchmarks/stress.py --json out.json  # also keep every timing
    .venv/bin/python benchmarks/stress.py --root /tmp/clone # chapters and library of a clone
    .venv/bin/python benchmarks/stress.py moe --no-fix     # nbclient unpatched (issue #10)

By default nbclient is patched with issue #10's fix (``explainer.execution.install``,
without its guard, so that a stall is measured rather than raised); ``--no-fix``
runs nbclient as installed, which is how the "before" figures were taken.

``--mode live`` (default) runs the chapters as nbmake and JupyterLab do, live
widgets included; ``--mode book`` sets ``EXPLAINER_BOOK_BUILD=1`` as the book
build and the reproducibility test do; ``--mode both`` alternates the two.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from dataclasses import asdict, dataclass, field
from importlib.metadata import version
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

ROOT = Path(__file__).resolve().parents[1]
BOOK_BUILD_ENV = "EXPLAINER_BOOK_BUILD"  # explainer.widgets.BOOK_BUILD_ENV (no import: no torch)
VERSIONS = ["ipykernel", "nbclient", "jupyter_client", "pyzmq", "ipywidgets", "comm", "tornado"]


@dataclass
class Run:
    """One execution of one chapter."""

    chapter: str
    mode: str
    run: int
    cells: dict[int, float] = field(default_factory=dict)  # code-cell index -> seconds
    wall: float = 0.0
    outcome: str = "ok"  # ok | timeout | error | dead
    failed_cell: int | None = None
    message: str = ""


def execute(path: Path, mode: str, run: int, timeout: float) -> Run:
    """Execute ``path`` once in a fresh kernel; time each code cell from the client side."""
    nb = nbformat.read(path, as_version=4)
    result = Run(chapter=path.stem, mode=mode, run=run)
    started: dict[int, float] = {}

    def on_cell_execute(cell, cell_index, **_):
        started[cell_index] = time.perf_counter()

    def on_cell_executed(cell, cell_index, **_):
        result.cells[cell_index] = time.perf_counter() - started[cell_index]

    client = NotebookClient(
        nb, timeout=timeout, kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
        on_cell_execute=on_cell_execute, on_cell_executed=on_cell_executed,
    )
    saved = os.environ.get(BOOK_BUILD_ENV)
    if mode == "book":
        os.environ[BOOK_BUILD_ENV] = "1"
    else:
        os.environ.pop(BOOK_BUILD_ENV, None)
    t0 = time.perf_counter()
    try:
        client.execute()
    except CellTimeoutError as err:
        result.outcome, result.message = "timeout", str(err).splitlines()[0]
    except DeadKernelError as err:
        result.outcome, result.message = "dead", str(err)
    except CellExecutionError as err:
        result.outcome, result.message = "error", str(err).strip().splitlines()[-1]
    finally:
        result.wall = time.perf_counter() - t0
        if saved is None:
            os.environ.pop(BOOK_BUILD_ENV, None)
        else:
            os.environ[BOOK_BUILD_ENV] = saved
    unfinished = sorted(set(started) - set(result.cells))
    if unfinished:  # the cell that timed out / raised: charge it the time it had
        result.failed_cell = unfinished[0]
        result.cells[unfinished[0]] = time.perf_counter() - started[unfinished[0]]
    return result


def stalls(runs: list[Run], stall: float, normal: float) -> list[tuple[int, int, float]]:
    """(run, cell, seconds) per stall: over ``stall`` s, for a cell whose median is < ``normal``."""
    times: dict[int, list[float]] = {}
    for r in runs:
        for i, s in r.cells.items():
            times.setdefault(i, []).append(s)
    median = {i: statistics.median(v) for i, v in times.items()}
    out = []
    for r in runs:
        for i, s in r.cells.items():
            timed_out = r.outcome == "timeout" and i == r.failed_cell
            if timed_out or (s > stall and median[i] < normal):
                out.append((r.run, i, s))
    return out


def summarize(chapter: str, runs: list[Run], stall: float, normal: float) -> dict:
    """Per chapter: runs, slowest cell (and its median), stalls, failures, wall times."""
    slow_run = max(runs, key=lambda r: max(r.cells.values(), default=0.0))
    slow_cell = max(slow_run.cells, key=slow_run.cells.get) if slow_run.cells else -1
    cell_times = [r.cells[slow_cell] for r in runs if slow_cell in r.cells]
    found = stalls(runs, stall, normal)
    return {
        "chapter": chapter, "runs": len(runs),
        "slowest_cell": slow_cell, "slowest_s": slow_run.cells.get(slow_cell, 0.0),
        "slowest_cell_median_s": statistics.median(cell_times) if cell_times else 0.0,
        "stalls": len(found), "stall_list": found,
        "failures": [(r.run, r.outcome, r.failed_cell, r.message)
                     for r in runs if r.outcome != "ok"],
        "wall_median_s": statistics.median(r.wall for r in runs),
        "wall_max_s": max(r.wall for r in runs),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("chapters", nargs="*", help="chapter names or paths (default: every chapter)")
    p.add_argument("-n", "--runs", type=int, default=10, help="executions per chapter (10)")
    p.add_argument("--timeout", type=float, default=60, help="per-cell timeout in seconds (60)")
    p.add_argument("--stall", type=float, default=20, help="a stall is a cell over this (20 s)...")
    p.add_argument("--normal", type=float, default=5, help="...whose median is under this (5 s)")
    p.add_argument("--mode", choices=["live", "book", "both"], default="live")
    p.add_argument("--json", type=Path, help="write every run's cell timings here")
    p.add_argument("--no-fix", action="store_true",
                   help="leave nbclient unpatched (reproduces issue #10)")
    p.add_argument("--root", type=Path, default=ROOT,
                   help="repository whose chapters/ and src/ to execute (default: this one)")
    args = p.parse_args(argv)
    if args.runs < 1:
        p.error(f"--runs must be >= 1, got {args.runs}")
    if not 0 < args.normal < args.stall <= args.timeout:
        p.error("need 0 < --normal < --stall <= --timeout")

    if not args.no_fix:
        from explainer.execution import install

        install(fix=True, guard=False)
    root = args.root.resolve()
    chapters = root / "chapters"
    if root != ROOT:  # the kernels import that clone's library, not this checkout's
        os.environ["PYTHONPATH"] = os.pathsep.join(
            [str(root / "src"), *filter(None, [os.environ.get("PYTHONPATH")])])
    paths = []
    for name in args.chapters or sorted(p.stem for p in chapters.glob("*.ipynb")):
        path = Path(name) if name.endswith(".ipynb") else chapters / f"{name}.ipynb"
        if not path.exists():
            p.error(f"no such chapter: {name} (looked for {path})")
        paths.append(path.resolve())
    modes = ["live", "book"] if args.mode == "both" else [args.mode]

    print(f"# stress: {root}: {len(paths)} chapter(s) x {args.runs} run(s), mode {args.mode}, "
          f"timeout {args.timeout:g} s/cell, stall = >{args.stall:g} s where median "
          f"<{args.normal:g} s, "
          f"nbclient {'UNPATCHED' if args.no_fix else 'with the issue #10 fix'}")
    print(f"# {platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs; "
          + ", ".join(f"{m} {version(m)}" for m in VERSIONS), flush=True)
    all_runs: list[Run] = []
    summaries = []
    t_start = time.perf_counter()
    for path in paths:
        runs = []
        for k in range(args.runs):
            r = execute(path, modes[k % len(modes)], k + 1, args.timeout)
            runs.append(r)
            worst = max(r.cells, key=r.cells.get) if r.cells else -1
            note = ("" if r.outcome == "ok"
                    else f"  {r.outcome.upper()} in cell {r.failed_cell}: {r.message}")
            print(f"{path.stem:>16} run {k + 1:>2} [{r.mode}] {r.wall:6.1f} s, slowest cell "
                  f"{worst} {r.cells.get(worst, 0.0):6.2f} s{note}", flush=True)
        all_runs += runs
        s = summarize(path.stem, runs, args.stall, args.normal)
        summaries.append(s)
        for run, cell, secs in s["stall_list"]:
            print(f"{path.stem:>16} STALL: run {run}, cell {cell}: {secs:.1f} s", flush=True)

    print(f"\n# summary ({(time.perf_counter() - t_start) / 60:.1f} min)")
    print(f"{'chapter':<16} {'runs':>4} {'slowest cell':>12} {'its max s':>9} {'its median s':>12} "
          f"{'stalls':>6} {'failed':>6} {'run median s':>12} {'run max s':>9}")
    for s in summaries:
        print(f"{s['chapter']:<16} {s['runs']:>4} {s['slowest_cell']:>12} {s['slowest_s']:>9.2f} "
              f"{s['slowest_cell_median_s']:>12.2f} {s['stalls']:>6} {len(s['failures']):>6} "
              f"{s['wall_median_s']:>12.1f} {s['wall_max_s']:>9.1f}")
    total_stalls = sum(s["stalls"] for s in summaries)
    total_failed = sum(len(s["failures"]) for s in summaries)
    print(f"{'total':<16} {sum(s['runs'] for s in summaries):>4} {'':>12} {'':>9} {'':>12} "
          f"{total_stalls:>6} {total_failed:>6}")
    for s in summaries:
        for run, outcome, cell, message in s["failures"]:
            print(f"FAILED {s['chapter']} run {run}: {outcome} in cell {cell}: {message}")
    if args.json:
        args.json.write_text(json.dumps({"args": {k: str(v) for k, v in vars(args).items()},
                                         "runs": [asdict(r) for r in all_runs],
                                         "summary": summaries}, indent=1))
    return 1 if total_stalls or total_failed else 0


if __name__ == "__main__":
    sys.exit(main())
