"""Charts of "Learning to think": the shipped GRPO runs (:mod:`explainer.grpo`).

Each function takes frames loaded from ``data/grpo_*.csv`` (or a live run's
``GRPOResult.log``) and returns an Altair chart through :func:`finish`.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

from explainer import grpo
from explainer.controls import Button, Slider
from explainer.figures._base import finish

__all__ = ["RUN", "SAMPLE_STEP", "distill_curves", "length_curve", "live_run", "pass_at_k",
           "run_curves", "sample_slider", "slip_curves"]

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
            x=alt.X("step:Q", title="RL step"),
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
        .encode(x=alt.X("step:Q", title="RL step"),
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
        .properties(width=300, height=200)
        .facet(facet=alt.Facet("student:N", title=None, sort=list(_STUDENT_BASES.values())),
               columns=2)
        .properties(title=alt.Title("A small model: distillation or reinforcement learning?",
                                    subtitle="Each panel: one starting student; held-out "
                                             "problems at temperature 1"))
    )
    return finish(chart, width=None, description=(
        "Held-out accuracy of the small student model against training time, trained on the "
        "large GRPO model's right answers or by GRPO on its own samples, for a student taught "
        "the scratchpad and for one that never saw it."))


# the step slider over the shipped run's recorded samples (every SAMPLE_EVERY steps)
SAMPLE_STEP = Slider("rl_step", "RL step", 0, grpo.STEPS, grpo.SAMPLE_EVERY, default=0)


def sample_slider(samples: pd.DataFrame, control: Slider = SAMPLE_STEP) -> alt.Chart:
    """Sample answers at the recorded RL steps, one row per problem, picked by a step slider.

    Args:
        samples: ``step``, ``problem``, ``text``, ``correct`` columns.
        control: the step slider (:data:`SAMPLE_STEP`).
    """
    df = samples.copy()
    df["completion"] = df["text"].str.partition("=")[2]
    df["verdict"] = df["correct"].map({1: "right", 0: "wrong"})
    df["line"] = df["problem"] + " → " + df["completion"]
    step = control.param()
    base = alt.Chart(df, title=alt.Title("What the model writes, step by step",
                                         subtitle="One sample per problem at temperature 1"))
    text = (
        base.mark_text(align="left", baseline="middle", font="monospace", fontSize=11, dx=4)
        .encode(y=alt.Y("problem:N", axis=None), x=alt.value(0), text="line:N",
                color=alt.Color("verdict:N", title=None,
                                scale=alt.Scale(domain=["right", "wrong"]),
                                legend=alt.Legend(orient="bottom")))
        .add_params(step)
        .transform_filter(f"datum.step == {control.name}")
        .properties(height=24 * df["problem"].nunique())
    )
    return finish(text, description=(
        "Sample answers to a few fixed problems at the chosen RL step, coloured by whether "
        "the answer is right; drag the slider to watch direct answers turn into scratchpads."))


RUN = Button("run_grpo", "Run GRPO for 3 minutes",
             tooltip="GRPO from the shipped base model, accuracy reward only")


def live_run(seconds: float = 180.0, seed: int = 1) -> None:
    """JupyterLab: run GRPO live from the shipped base, with a progress bar and a live curve.

    Calls ``explainer.grpo.train_grpo(load_pretrained("base"), seconds=seconds, seed=seed)``
    (the shipped recipe) and redraws :func:`run_curves` after every step.
    """
    from IPython.display import DisplayHandle, Markdown, display

    from explainer.reasoning import load_pretrained
    from explainer.widgets import progress

    handle = DisplayHandle()  # the curve, redrawn in place after every step
    handle.display(Markdown("*Sampling the first group...*"))
    bar = progress(range(grpo.STEPS), total=grpo.STEPS, desc="GRPO steps")
    rows: list[dict] = []

    def on_step(step: int, row: dict, policy: object) -> None:
        rows.append(row)
        bar.update(1)
        handle.update(run_curves(pd.DataFrame(rows), title="Your live GRPO run"))

    result = grpo.train_grpo(load_pretrained("base"), seconds=seconds, seed=seed,
                             callback=on_step)
    bar.close()
    last = result.log.iloc[-1]
    display(Markdown(f"Done: {result.steps} steps in {result.seconds:.0f} s; last step's "
                     f"samples {last['accuracy']:.0%} right, {last['scratchpad_share']:.0%} "
                     "with a scratchpad."))
