"""Charts of "Learning to think": the book's GRPO runs (:mod:`explainer.grpo`).

Each function takes frames loaded from ``data/grpo_*.csv`` (or a live run's
``GRPOResult.log``) and returns an Altair chart through :func:`finish`.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

from explainer import grpo
from explainer.controls import Button, Choice, Slider, Text
from explainer.figures._base import check_frames, finish
from explainer.figures.reasoning import answer_sheet

__all__ = ["CHECKPOINT", "CHECKPOINT_CONTROLS", "RUN", "SAMPLE_STEP", "ablation_curves", "answers",
           "checkpoint_answers", "distill_curves", "length_curve", "live_run", "pass_at_k", "run_curves", "sample_slider", "samples_at", "slip_curves"]

_METRICS = {"accuracy": "answers exactly right", "scratchpad_share": "answers with a scratchpad"}


def run_curves(log: pd.DataFrame, *, runs: dict[str, str] | None = None,
               title: str = "GRPO from the base model") -> alt.Chart:
    """Accuracy and scratchpad share (%, left) per RL step, one line per metric and run.

    Args:
        log: per-step log with ``step``, ``accuracy``, ``scratchpad_share`` and (if
            ``runs`` is given) ``run`` columns.
        runs: run name -> label to draw (default: the whole frame as one run).
        title: chart title.
    """
    df = log.copy()
    if runs is None:
        df["run_label"] = ""
    else:
        df = df[df["run"].isin(runs)]
        df["run_label"] = df["run"].map(runs) + ": "
    long = df.melt(id_vars=["step", "run_label"], value_vars=list(_METRICS),
                   var_name="metric", value_name="value")
    long["series"] = long["run_label"] + long["metric"].map(_METRICS)
    chart = _percent_by_step(
        long, title=alt.Title(title, subtitle="Fresh problems each step, sampled at "
                              "temperature 1 before the step's update"),
        y_title="% of sampled answers", height=280)
    return finish(chart, description=(
        "Share of sampled answers that are exactly right and share that write a scratchpad, "
        "per step of reinforcement learning; only correctness was rewarded."))


def _percent_by_step(df: pd.DataFrame, *, title: alt.Title, y_title: str, height: int,
                     sort: list[str] | None = None) -> alt.Chart:
    """Lines of ``value`` (a fraction, drawn as %) per RL ``step``, one per ``series``."""
    df = df.assign(pct=(100 * df["value"]).round(1))[["step", "series", "pct"]]
    return (
        alt.Chart(df, title=title)
        .mark_line()
        .encode(
            x=alt.X("step:Q", title="RL step", scale=alt.Scale(nice=False)),
            y=alt.Y("pct:Q", title=y_title, scale=alt.Scale(domain=[0, 100])),
            color=alt.Color("series:N", title=None, sort=sort,
                            legend=alt.Legend(orient="bottom", columns=1, labelLimit=400)),
            tooltip=["series", "step", "pct"],
        )
        .properties(height=height)
    )


def length_curve(log: pd.DataFrame) -> alt.Chart:
    """Mean response length (characters written after the prompt) per RL step."""
    chart = (
        alt.Chart(log[["step", "response_length"]].round(2),
                  title=alt.Title("Answers grow longer though length is never rewarded"))
        .mark_line()
        .encode(x=alt.X("step:Q", title="RL step", scale=alt.Scale(nice=False)),
                y=alt.Y("response_length:Q", title="characters per answer"),
                tooltip=["step", "response_length"])
        .properties(height=220)
    )
    return finish(chart, description=(
        "Mean number of characters the model writes per answer at each RL step: it rises as "
        "the model switches from direct answers to the scratchpad."))


def slip_curves(log: pd.DataFrame, runs: dict[str, str]) -> alt.Chart:
    """Share of right answers whose scratchpad has a slipped step, per RL step and run.

    Args:
        log: per-step log with ``run``, ``step`` and ``right_with_slips`` columns.
        runs: run name -> label, in legend order.
    """
    df = log[log["run"].isin(runs)][["run", "step", "right_with_slips"]].dropna()
    df = df.assign(series=df["run"].map(runs), value=df["right_with_slips"])
    chart = _percent_by_step(
        df, title=alt.Title("Right answers, sloppy working", subtitle="Share of each step's "
                            "right answers with a wrong step in the scratchpad"),
        y_title="% of right answers", height=260, sort=list(runs.values()))
    return finish(chart, description=(
        "Per RL step, the share of right answers whose written working contains a step that "
        "differs from the textbook scratchpad; the reward only checks the final answer."))


def pass_at_k(evals: pd.DataFrame) -> alt.Chart:
    """pass@k (k = 1..64, log axis) of the base and GRPO models at temperature 1."""
    df = evals[evals["metric"] == "pass_at_k"].copy()
    df["model_label"] = df["model"].map({"base": "base model", "grpo": "after GRPO"})
    df["pct"] = (100 * df["value"]).round(1)
    chart = (
        alt.Chart(df, title=alt.Title("pass@k before and after reinforcement learning",
                                      subtitle="Held-out problems, 64 samples each, temperature 1"))
        .mark_line(point=True)
        .encode(
            x=alt.X("k:Q", title="samples per problem (k)", scale=alt.Scale(type="log", base=2),
                    axis=alt.Axis(values=[1, 2, 4, 8, 16, 32, 64])),
            y=alt.Y("pct:Q", title="problems with a right answer among k (%)",
                    scale=alt.Scale(domain=[0, 100])),
            color=alt.Color("model_label:N", title=None,
                            legend=alt.Legend(orient="bottom", labelLimit=400)),
            tooltip=["model_label", "k", "pct"],
        )
        .properties(height=260)
    )
    return finish(chart, description=(
        "Chance that at least one of k sampled answers is right, for the base model and the "
        "model after GRPO: RL lifts k = 1 far more than k = 64."))


_STUDENT_BASES = {"student_base": "student taught the scratchpad (base recipe)",
                  "student_direct_base": "student that never saw a scratchpad"}


def distill_curves(checks: pd.DataFrame) -> alt.Chart:
    """Held-out accuracy of the small student against training seconds, distilled vs GRPO.

    One panel per starting student.

    Args:
        checks: ``data/grpo_distill.csv``: ``base`` (``student_base``,
            ``student_direct_base``), ``run`` (``distill``/``grpo``), ``seconds``, ``accuracy``.
    """
    df = checks[["base", "run", "seconds", "accuracy"]].copy()
    df["method"] = df["run"].map({"distill": "distillation from the GRPO model",
                                  "grpo": "GRPO on its own samples"})
    df["student"] = df["base"].map(_STUDENT_BASES)
    df["pct"] = (100 * df["accuracy"]).round(1)
    df["seconds"] = df["seconds"].round(1)
    chart = (
        alt.Chart(df)
        .mark_line(point=alt.OverlayMarkDef(size=12))
        .encode(
            x=alt.X("seconds:Q", title="training time (s, one CPU thread)"),
            y=alt.Y("pct:Q", title="answers exactly right (%)", scale=alt.Scale(domain=[0, 100])),
            color=alt.Color("method:N", title=None,
                            legend=alt.Legend(orient="top", columns=1, labelLimit=400)),
            tooltip=["student", "method", "seconds", "pct"],
        )
        .properties(width=290, height=180)  # one column of panels: readable on a phone
        .facet(facet=alt.Facet("student:N", title=None, sort=list(_STUDENT_BASES.values()),
                               header=alt.Header(labelFontSize=12, labelFontWeight=600)),
               columns=1)
        .properties(title=alt.Title(["A small model: distillation", "or reinforcement learning?"],
                                    subtitle=["Each panel: one starting student;",
                                              "held-out problems at temperature 1"]))
    )
    return finish(chart, width=None, description=(
        "Held-out accuracy of the small student model against training time, trained on the "
        "large GRPO model's right answers or by GRPO on its own samples, for a student taught "
        "the scratchpad and for one that never saw it."))


# the step slider over the book's run's recorded samples (every SAMPLE_EVERY steps)
SAMPLE_STEP = Slider("rl_step", "RL step", 0, grpo.STEPS, grpo.SAMPLE_EVERY, default=0)


def _sample_rows(samples: pd.DataFrame) -> pd.DataFrame:
    df = samples.rename(columns={"step": SAMPLE_STEP.name})
    return df.assign(label=df["problem"].str.replace("+", " + ", regex=False))


def sample_slider(samples: pd.DataFrame, control: Slider = SAMPLE_STEP) -> alt.LayerChart:
    """Sample answers at the recorded RL steps, one block per problem, picked by a step slider.

    Each character that differs from the textbook working is marked
    (:func:`explainer.figures.reasoning.answer_sheet`).

    Args:
        samples: ``step``, ``problem``, ``text`` columns (:func:`explainer.grpo.load_samples`).
        control: the step slider (:data:`SAMPLE_STEP`).
    """
    return answer_sheet(_sample_rows(samples), control=control,
                        title="What the model writes, step by step",
                        subtitle=["One sample per problem at temperature 1;",
                                  "drag the slider through the run"])


def samples_at(samples: pd.DataFrame, rl_step: int) -> alt.LayerChart:
    """The same sheet as :func:`sample_slider` for one recorded step (the notebook's slider)."""
    rows = _sample_rows(samples[samples["step"] == rl_step])
    if rows.empty:
        raise ValueError(f"no samples recorded at step {rl_step!r}; steps are "
                         f"{sorted(samples['step'].unique())}")
    return answer_sheet(rows.drop(columns=[SAMPLE_STEP.name]),
                        title=f"What the model writes at step {rl_step}",
                        subtitle="One sample per problem at temperature 1")


def answers(pairs: list[tuple[str, str]], *, title: str, subtitle: str) -> alt.LayerChart:
    """A few answers, each marked against the textbook working, headed by its problem.

    Args:
        pairs: ``(problem, text)`` pairs, ``text`` being what the model wrote.
        title, subtitle: the chart's title lines.
    """
    rows = pd.DataFrame(pairs, columns=["problem", "text"])
    rows["label"] = rows["problem"].str.replace("+", " + ", regex=False)
    return answer_sheet(rows, title=title, subtitle=subtitle)


_ABLATION_RUNS = {"main": "accuracy reward", "beta0": "accuracy reward, beta = 0",
                  "format_reward": "format reward"}
_ABLATION_WHAT = ["right answers", "reward paid"]


def ablation_curves(log: pd.DataFrame) -> alt.Chart:
    """Right answers per RL step for the three runs, and the reward the format run was paid.

    Colour tells the runs apart; the dashed line (named in the subtitle) is the format run's
    reward. The accuracy runs' reward *is* their share of right answers, so only the format
    run gets a second line.

    Args:
        log: per-step log with ``run`` (``main``, ``beta0``, ``format_reward``),
            ``step``, ``accuracy`` and ``reward`` columns.
    """
    parts = [log[log["run"].isin(_ABLATION_RUNS)].assign(value=lambda d: d["accuracy"],
                                                          what=_ABLATION_WHAT[0]),
             log[log["run"] == "format_reward"].assign(value=lambda d: d["reward"],
                                                       what=_ABLATION_WHAT[1])]
    df = pd.concat(parts)[["run", "step", "value", "what"]]
    df = df.assign(pct=(100 * df["value"]).round(1), run=df["run"].map(_ABLATION_RUNS))
    runs = list(_ABLATION_RUNS.values())
    chart = (
        alt.Chart(df.drop(columns="value"), title=alt.Title(
            "Ablations: three runs from the same base",
            subtitle=["Solid: share of each step's answers that are right;",
                      "dashed: the reward the format run was paid"]))
        .mark_line(strokeWidth=2)
        .encode(
            x=alt.X("step:Q", title="RL step", scale=alt.Scale(nice=False)),
            y=alt.Y("pct:Q", title="% of sampled answers", scale=alt.Scale(domain=[0, 100])),
            color=alt.Color("run:N", title=None, sort=runs,
                            legend=alt.Legend(orient="bottom", direction="vertical",
                                              labelLimit=400)),
            strokeDash=alt.StrokeDash("what:N", sort=_ABLATION_WHAT, legend=None,  # subtitle says
                                      scale=alt.Scale(domain=_ABLATION_WHAT,
                                                      range=[[1, 0], [5, 3]])),
            tooltip=["run", "what", "step", "pct"],
        )
        .properties(height=280)
    )
    return finish(chart, description=(
        "Share of sampled answers that are exactly right at each RL step, for the run paid "
        "for right answers, the same run without the KL penalty and the run paid for the "
        "scratchpad format, with the reward the format run was paid (dashed): nearly 100% "
        "while its accuracy falls."))


CHECKPOINT = Choice("step", "training step", grpo.RUN_CHECKPOINTS, 0,
                    labels=tuple("0 (the base)" if s == 0 else str(s) for s in grpo.RUN_CHECKPOINTS))
CHECKPOINT_CONTROLS = (
    Text("problems", "additions", default=", ".join(grpo.SAMPLE_PROBLEMS),
         placeholder="123+456, 99999+1"),
    CHECKPOINT,
    Button("sample_step", "Sample this step", tooltip="four answers to each, at temperature 1"),
)


def checkpoint_answers(problems: str, step: int, samples: int = 4, temperature: float = 1.0,
                       seed: int = 0) -> object:
    """Notebook twin of the page's "sample the run" panel: the shipped run's policy at
    ``step`` (:func:`explainer.grpo.load_checkpoint`) answers each addition in ``problems``
    (comma-separated) ``samples`` times, with the same seed at every step.

    Returns:
        a table of the answers, captioned with the shares that wrote a scratchpad and were
        right.

    Raises:
        ValueError: on an empty list, more than 8 additions, or one the model cannot read.
    """
    from explainer.reasoning import uses_scratchpad
    from explainer.tables import table

    if not isinstance(problems, str):
        raise ValueError(f"problems must be a string of comma-separated additions, got {problems!r}")
    items = [p.replace(" ", "") for p in problems.replace(";", ",").split(",") if p.strip()]
    if not 1 <= len(items) <= 8:
        raise ValueError(f"problems must hold 1 to 8 additions, got {len(items)}")
    policy = grpo.load_checkpoint(step)
    texts = policy.generate(items, temperature=temperature, samples=samples, seed=seed)
    rows = [{"addition": p, "answer": t.partition("=")[2], "scratchpad": uses_scratchpad(t),
             "right": bool(grpo.accuracy_reward(p, t))}
            for p, group in zip(items, texts) for t in group]
    df = pd.DataFrame(rows)
    caption = (f"Step {step}: {df['scratchpad'].mean():.0%} of {len(df)} answers wrote a "
               f"scratchpad, {df['right'].mean():.0%} were right (temperature {temperature:g}).")
    return table(df.assign(scratchpad=df["scratchpad"].map({True: "yes", False: "no"}),
                           right=df["right"].map({True: "yes", False: "no"})),
                 caption=caption, index=False)


RUN = Button("run_grpo", "Rerun GRPO (150 steps)",
             tooltip="GRPO from the book's base model, accuracy reward only")


def live_run(seconds: float = 300.0, seed: int = 1) -> None:
    """Notebook: rerun GRPO from the base model, redrawing the curve after every step.

    Calls ``explainer.grpo.train_grpo(load_pretrained("base"), seconds=seconds, seed=seed)``
    (the chapter's recipe, :data:`explainer.grpo.STEPS` steps unless ``seconds`` runs out
    first), redraws :func:`run_curves` in its own output after every step, and ends with
    held-out accuracy measured as the chapter measures it: four answers at temperature 1
    to each of the same 200 fresh problems.
    """
    import ipywidgets as w
    from IPython.display import Markdown, display

    from explainer.reasoning import MAX_DIGITS, load_pretrained, make_problems
    from explainer.widgets import budget, progress

    curve = w.Output()  # updated by setting its outputs, which works from any callback
    display(curve)
    curve.append_display_data(Markdown("*Sampling the first group...*"))
    bar = progress(range(grpo.STEPS), total=grpo.STEPS, desc="GRPO steps")
    rows: list[dict] = []

    def on_step(step: int, row: dict, policy: object) -> None:
        rows.append(row)
        bar.update(1)
        curve.outputs = ()
        curve.append_display_data(run_curves(pd.DataFrame(rows), title="Your GRPO run"))

    base = load_pretrained("base")
    result = grpo.train_grpo(base, seconds=budget(seconds), seed=seed, callback=on_step)
    bar.total = result.steps  # a run the clock stopped early still ends with a full bar
    bar.refresh()
    bar.close()
    held_out = make_problems(200, digits=MAX_DIGITS, seed=2025)
    before = grpo.rollout_stats(base, held_out, temperature=1.0, samples=4, seed=0)
    after = grpo.rollout_stats(result.policy, held_out, temperature=1.0, samples=4, seed=0)
    display(Markdown(
        f"Done: {result.steps} steps in {result.seconds:.0f} s. On 200 held-out problems, four "
        f"answers each at temperature 1: **{after['accuracy']:.0%}** right (the base model: "
        f"{before['accuracy']:.0%}), {after['scratchpad_share']:.0%} with a scratchpad."))


check_frames(globals())  # refuse a missing or malformed frame by name (issue #25)
