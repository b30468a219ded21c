"""Charts and live cells of "Thinking out loud" (:mod:`explainer.reasoning`).

Each chart takes the shipped results (``data/reasoning_results.csv``, ``data/prices.csv``)
and returns an Altair chart through :func:`finish`. The controls are declared once
here; their ranges come from the library (:data:`explainer.reasoning.TEMPERATURES`).
"""

from __future__ import annotations

from typing import Any

import altair as alt
import pandas as pd

from explainer import reasoning
from explainer.charts import PALETTE
from explainer.controls import Button, Choice, Slider
from explainer.figures._base import finish

__all__ = [
    "FORMAT",
    "PRICE_LIST",
    "PRICE_TEMPERATURE",
    "SAMPLE_TEMPERATURE",
    "TRAIN",
    "greedy_breakdown",
    "price_of_thinking",
    "sampler_live",
    "sampling_curves",
    "train_live",
]

_T = reasoning.TEMPERATURES
_T_STEP = round(_T[1] - _T[0], 6)
SAMPLE_TEMPERATURE = Slider("temperature", "Sampling temperature", min(_T), max(_T), _T_STEP,
                            default=1.5)
PRICE_TEMPERATURE = Slider("price_temperature", "Sampling temperature", min(_T), max(_T), _T_STEP,
                           default=1.0)
PRICE_LIST = Choice("price_list", "Output price of", ("DeepSeek-R1", "OpenAI o1"),
                    default="DeepSeek-R1")
FORMAT = Choice("fmt", "format", reasoning.FORMATS, default="cot", radio=True)
TRAIN = Button("train", "Train for 60 s", tooltip="Train a fresh model from scratch for 60 s")

# short legend labels (long ones were cut off on narrow pages)
_GREEDY_NAMES = {"direct": "direct, 600 steps", "cot": "CoT, 600 steps",
                 "direct_2x": "direct, 1,200 steps"}
_SERIES = ["CoT, pass@k", "CoT, majority", "direct, pass@k", "direct, majority"]


def greedy_breakdown(results: pd.DataFrame) -> alt.FacetChart:
    """Greedy accuracy by carrying columns and by operand width, one line per model."""
    df = results[results["experiment"].isin(["by_carries", "by_digits"])].copy()
    df["series"] = df["model"].map(_GREEDY_NAMES)
    df["accuracy_pct"] = (100 * df["value"]).round(1)
    df["panel"] = df["experiment"].map({"by_carries": "by columns that carry (five digits)",
                                        "by_digits": "by digits per operand"})
    df["x"] = df["carries"].where(df["experiment"] == "by_carries", df["digits"]).astype(int)
    df = df[["x", "accuracy_pct", "series", "panel", "digits", "carries", "n_problems"]]
    chart = (
        alt.Chart(df)
        .mark_line(point=True)
        .encode(
            x=alt.X("x:O", title=None, axis=alt.Axis(labelAngle=0)),
            y=alt.Y("accuracy_pct:Q", title="exact-match accuracy (%)",
                    scale=alt.Scale(domain=[0, 100])),
            color=alt.Color("series:N", title=None, sort=list(_GREEDY_NAMES.values()),
                            legend=alt.Legend(orient="top", columns=3, labelLimit=300)),
            tooltip=["series", "digits", "carries", "accuracy_pct", "n_problems"],
        )
        .properties(width=260, height=220)
        .facet(facet=alt.Facet("panel:N", title=None,
                               sort=["by columns that carry (five digits)"]), columns=2)
        .resolve_scale(x="independent")
        .properties(title=alt.Title("Where the direct model fails",
                                    subtitle="Greedy answers; hover a point for its numbers"))
    )
    return finish(chart, width=None, description=(
        "Greedy exact-match accuracy of the direct and chain-of-thought models by how many "
        "columns carry and by operand width: the CoT line sits at the top everywhere."))


def _sampling(results: pd.DataFrame) -> pd.DataFrame:
    df = results[(results["experiment"] == "sampling")
                 & results["metric"].isin(["pass_at_k", "majority_at_k"])
                 & (results["temperature"] > 0)].copy()
    df["series"] = (df["model"].map({"direct": "direct", "cot": "CoT"}) + ", "
                    + df["metric"].map({"pass_at_k": "pass@k", "majority_at_k": "majority"}))
    df["pct"] = (100 * df["value"]).round(1)
    return df[["series", "temperature", "k", "pct"]]


def sampling_curves(results: pd.DataFrame, control: Slider = SAMPLE_TEMPERATURE) -> alt.Chart:
    """pass@k and majority vote over k samples, CoT and direct, at the slider's temperature."""
    temp = control.param()
    chart = (
        alt.Chart(_sampling(results), title=alt.Title(
            "More samples: pass@k and majority vote over k samples",
            subtitle="200 five-digit problems, 64 samples each; the slider sets the temperature"))
        .mark_line(point=True)
        .encode(
            x=alt.X("k:Q", title="samples per problem (k)", scale=alt.Scale(type="log", base=2),
                    axis=alt.Axis(values=[1, 2, 4, 8, 16, 32, 64])),
            y=alt.Y("pct:Q", title="problems solved (%)", scale=alt.Scale(domain=[0, 100])),
            color=alt.Color("series:N", title=None, sort=_SERIES,
                            legend=alt.Legend(orient="bottom", columns=2, labelLimit=300),
                            scale=alt.Scale(domain=_SERIES,
                                            range=[PALETTE[i] for i in (0, 0, 3, 3)])),
            strokeDash=alt.StrokeDash("series:N", sort=_SERIES, legend=None, scale=alt.Scale(
                domain=_SERIES, range=[[1, 0], [6, 3], [1, 0], [6, 3]])),
            tooltip=["series", "temperature", "k", "pct"],
        )
        .add_params(temp)
        .transform_filter(f"datum.temperature == {control.name}")
        .properties(height=300)
    )
    return finish(chart, description=(
        "Share of problems solved by at least one of k samples (pass@k, solid) and by the "
        "majority vote of k samples (dashed), for the CoT and direct models."))


def price_of_thinking(results: pd.DataFrame, prices: pd.DataFrame) -> alt.Chart:
    """Majority-vote accuracy against the cost of the tokens written, per price list.

    The cost for each price list is computed here in Python (no browser-side formula);
    the page's controls only filter rows.
    """
    tokens = results.query("experiment == 'sampling' and metric == 'tokens_per_sample'")
    per_sample = tokens.set_index(["model", "temperature"])["value"]
    cost = results.query("experiment == 'sampling' and metric == 'majority_at_k' "
                         "and temperature > 0").copy()
    cost["tokens_per_problem"] = [k * per_sample[(m, t)] for m, t, k in
                                  zip(cost["model"], cost["temperature"], cost["k"])]
    cost["pct"] = (100 * cost["value"]).round(1)
    cost["way"] = cost["model"].map({"direct": "direct, majority of k",
                                     "cot": "CoT, majority of k"})
    price = prices.set_index("model")["output_usd_per_mtok"]
    frames = []
    for name in PRICE_LIST.options:
        frames.append(cost.assign(price_list=name,
                                  usd=cost["tokens_per_problem"] * float(price[name])))
    df = pd.concat(frames)[["way", "k", "temperature", "pct", "tokens_per_problem", "usd",
                            "price_list"]]
    temp, pick = PRICE_TEMPERATURE.param(), _choice_param(PRICE_LIST)
    chart = (
        alt.Chart(df, title=alt.Title("The price of thinking: accuracy vs. cost of tokens",
                                      subtitle="200 five-digit problems; k = 1 ... 64 samples"))
        .transform_filter(f"datum.temperature == {PRICE_TEMPERATURE.name}")
        .transform_filter(f"datum.price_list == {PRICE_LIST.name}")
        .mark_line(point=True)
        .encode(
            x=alt.X("usd:Q", title="USD per million problems (log scale)",
                    scale=alt.Scale(type="log")),
            y=alt.Y("pct:Q", title="solved by majority vote (%)",
                    scale=alt.Scale(domain=[0, 100])),
            color=alt.Color("way:N", title=None,
                            legend=alt.Legend(orient="bottom", labelLimit=300),
                            scale=alt.Scale(range=[PALETTE[0], PALETTE[3]])),
            tooltip=["way", "k", "temperature", "pct",
                     alt.Tooltip("tokens_per_problem:Q", format=".0f"),
                     alt.Tooltip("usd:Q", format="$,.2f")],
        )
        .add_params(temp, pick)
        .properties(height=300)
    )
    return finish(chart, description=(
        "Majority-vote accuracy against the price of the tokens written per million problems, "
        "for CoT and direct answers at the chosen temperature and price list."))


def _choice_param(choice: Choice) -> Any:
    """The page param of a :class:`Choice` (a dropdown)."""
    return choice.param()


def sampler_live(model: reasoning.Reasoner, temperature: float, *, n: int = 100,
                 k: int = 16, seed: int = 0) -> Any:
    """JupyterLab: fresh samples at ``temperature``; returns a Markdown summary.

    Samples ``k`` answers to each of ``n`` fixed problems and reports the share of single
    samples right, of majority votes right and of problems with at least one right answer,
    with three sampled texts for the first problem.
    """
    from IPython.display import Markdown

    problems = reasoning.make_problems(n, digits=reasoning.MAX_DIGITS, seed=99)
    truths = [sum(map(int, p.split("+"))) for p in problems]
    texts = model.generate(problems[:1], temperature=temperature, samples=3, seed=seed)[0]
    answers = model.solve(problems, temperature=temperature, samples=k, seed=seed)
    p1 = sum(a == t for row, t in zip(answers, truths) for a in row) / (n * k)
    vote = sum(reasoning.majority_vote(row) == t for row, t in zip(answers, truths)) / n
    anyk = sum(t in row for row, t in zip(answers, truths)) / n
    shown = "\n".join(f"    {t}" for t in texts)
    return Markdown(f"Three samples for {problems[0]} = {truths[0]}:\n\n{shown}\n\n"
                    f"{n} problems, {k} samples each at temperature {temperature:.2f}: single "
                    f"sample right {p1:.1%}, majority vote right {vote:.1%}, at least one right "
                    f"{anyk:.1%}.")


def train_live(fmt: str) -> None:
    """JupyterLab: train a fresh ``fmt`` model for 60 s, printing loss and held-out accuracy."""
    from explainer.widgets import progress

    check = reasoning.make_problems(200, digits=reasoning.MAX_DIGITS, seed=77)
    bar = progress(range(60), total=60, desc="seconds")
    state = {"t": 0}

    def report(step: int, loss: float, model: reasoning.Reasoner) -> None:
        if step % 100 == 0:
            print(f"step {step:4d}  loss {loss:.4f}  held-out "
                  f"{reasoning.accuracy(model, check):.1%}")
        import time

        now = int(time.perf_counter() - state.setdefault("t0", time.perf_counter()))
        if now > state["t"]:
            bar.update(min(now, 60) - state["t"])
            state["t"] = min(now, 60)

    result = reasoning.train(fmt, seconds=60, seed=0, callback=report)
    bar.close()
    print(f"done: {result.steps} steps in {result.seconds:.0f} s; held-out "
          f"{reasoning.accuracy(result.reasoner, check):.1%}")
