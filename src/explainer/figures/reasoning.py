"""Charts and live cells of "Thinking out loud" (:mod:`explainer.reasoning`).

Each chart takes the book's results (``data/reasoning_results.csv``, ``data/prices.csv``)
and returns an Altair chart through :func:`finish`. The controls are declared once
here; their ranges come from the library (:data:`explainer.reasoning.TEMPERATURES`).
"""

from __future__ import annotations

from typing import Any

import altair as alt
import pandas as pd

from explainer import reasoning
from explainer.tables import table
from explainer.charts import PALETTE
from explainer.controls import Button, Choice, Slider, Text
from explainer.figures._base import check_frames, finish

__all__ = [
    "ANSWER_MARK",
    "PRICE_LIST",
    "PRICE_TEMPERATURE",
    "SAMPLE_TEMPERATURE",
    "TRAIN",
    "answer_sheet",
    "ask",
    "ask_live",
    "greedy_breakdown",
    "marked_lines",
    "price_of_thinking",
    "temperature_sheet",
    "sampler_live",
    "sampling_curves",
    "train_live",
    "votes_table",
    "price_table",
]

_T = reasoning.TEMPERATURES
_T_STEP = round(_T[1] - _T[0], 6)
SAMPLE_TEMPERATURE = Slider("temperature", "Sampling temperature", min(_T), max(_T), _T_STEP,
                            default=1.5)
PRICE_TEMPERATURE = Slider("price_temperature", "Sampling temperature", min(_T), max(_T), _T_STEP,
                           default=1.0)
PRICE_LIST = Choice("price_list", "Output price of", ("DeepSeek-R1", "OpenAI o1"),
                    default="DeepSeek-R1")
TRAIN = Button("train", "Train both for 60 s each",
               tooltip="Train a fresh direct model and a fresh CoT model from scratch, 60 s each")

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
                            legend=alt.Legend(orient="top", columns=1, labelLimit=300)),
            tooltip=["series", "digits", "carries", "accuracy_pct", "n_problems"],
        )
        .properties(width=290, height=180)  # one column of panels: readable on a phone
        .facet(facet=alt.Facet("panel:N", title=None, sort=["by columns that carry (five digits)"],
                               header=alt.Header(labelFontSize=12, labelFontWeight=600)),
               columns=1)
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
                    scale=alt.Scale(type="log"),
                    axis=alt.Axis(labelOverlap="greedy", labelSeparation=6, format="$,~r")),
            y=alt.Y("pct:Q", title="solved by majority vote (%)",
                    scale=alt.Scale(domain=[0, 100])),
            color=alt.Color("way:N", title=None,
                            legend=alt.Legend(orient="bottom", columns=1, labelLimit=300),
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
    """Notebook: fresh samples at ``temperature``; returns a Markdown summary.

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


def ask(problem: str, model: str, temperature: float, samples: int, seed: int = 0) -> Any:
    """Notebook twin of the page's "ask the model" panel: ``samples`` answers of a shipped
    reasoner to one addition, each marked right or wrong, with the majority vote.

    Returns:
        a reader's table of the answers, captioned with the count right and the vote.

    Raises:
        ValueError: on an addition the models cannot read, an unknown model, or a value out
            of range.
    """
    if not isinstance(problem, str):
        raise ValueError(f"problem must be an addition such as 123+456, got {problem!r}")
    problem = problem.replace(" ", "")
    if model not in reasoning.PRETRAINED:
        raise ValueError(f"model must be one of {reasoning.PRETRAINED}, got {model!r}")
    r = reasoning.load_pretrained(model)
    texts = r.generate([problem], temperature=temperature, samples=samples, seed=seed)[0]
    answers = [reasoning.parse_answer(t, r.config.fmt) for t in texts]
    truth = sum(int(x) for x in problem.split("+"))
    vote = reasoning.majority_vote(answers)
    df = pd.DataFrame({"what the model wrote": [t.partition("=")[2] for t in texts],
                       "right": ["yes" if a == truth else "no" for a in answers]})
    right = sum(a == truth for a in answers)
    said = "no answer" if vote is None else f"{vote} ({'right' if vote == truth else 'wrong'})"
    return table(df, index=False, wrap=True, caption=(
        f"{right} of {samples} right ({problem} = {truth}) at temperature {temperature:g}"
        + (f"; majority vote: {said}." if samples > 1 else ".")))


def ask_live(models: tuple[str, ...], *, default_model: str, problem: str = "48765+25937",
             samples: int = 1, temperature: float = 0.0) -> tuple[tuple[Any, ...], Any]:
    """The controls and computation of :func:`ask` for :func:`explainer.panels.show`'s
    ``live`` (the same choices as the page's panel)."""
    from explainer.onnx_export import PANEL_LABELS

    controls = (
        Text("problem", "addition", default=problem, placeholder="123+456"),
        Choice("model", "model", tuple(models), default_model,
               labels=tuple(PANEL_LABELS.get(m, m) for m in models)),
        Slider("temperature", "temperature", 0.0, 2.0, 0.05, default=float(temperature)),
        Slider("samples", "samples", 1, 16, 1, default=samples),
        Button("ask", "Run the model"),
    )
    return controls, ask


def train_live(seconds: float = 60.0) -> None:
    """Notebook: train a fresh model of each format from scratch, then compare them.

    Each format trains for ``seconds`` (same seed, same settings), printing its loss and
    held-out accuracy every 100 steps, with a progress bar per run; a last line gives
    both held-out accuracies on the same 200 fresh problems.
    """
    import time

    from explainer.widgets import budget, progress

    seconds = budget(seconds)
    check = reasoning.make_problems(200, digits=reasoning.MAX_DIGITS, seed=77)
    done = {}
    for fmt in reasoning.FORMATS:
        total = int(seconds)
        bar = progress(range(total), total=total, desc=f"{fmt}, seconds")
        state = {"t": 0, "t0": time.perf_counter()}

        def report(step: int, loss: float, model: reasoning.Reasoner) -> None:
            if step % 100 == 0:
                print(f"{fmt:>6} step {step:4d}  loss {loss:.4f}  held-out "
                      f"{reasoning.accuracy(model, check):.1%}")
            now = min(int(time.perf_counter() - state["t0"]), total)
            if now > state["t"]:
                bar.update(now - state["t"])
                state["t"] = now

        result = reasoning.train(fmt, seconds=seconds, seed=0, callback=report)
        bar.update(total - state["t"])  # the clock ran out: show the bar full, not stopped short
        bar.close()
        done[fmt] = (result.steps, reasoning.accuracy(result.reasoner, check))
    print("done, " + "; ".join(f"{fmt}: {steps} steps, held-out {acc:.1%}"
                                for fmt, (steps, acc) in done.items()))


# ---------------------------------------------------------------- answers, slips marked

ANSWER_MARK = "differs from the textbook working"
_PITCH = 7.6  # px per character: 12 px monospace is about 7.2 px wide, plus a little air
_LINE = 17  # px between lines
_BLOCK = 3 * _LINE + 8  # heading, two lines of working, a gap
_STEPS_ON_FIRST_LINE = 3  # the working wraps after the third step, so it fits a phone


def _diff(written: str, textbook: str) -> str:
    """A mask of ``written``: ``1`` where a character differs from ``textbook`` (or has none)."""
    if len(written) != len(textbook):  # a step laid out differently: all of it is off
        return "1" * len(written) if written else ""
    return "".join("0" if w == t else "1" for w, t in zip(written, textbook))


def marked_lines(problem: str, text: str) -> tuple[list[str], list[str], int]:
    """What the model wrote after the prompt, as the sheet's lines, with slips marked.

    Every character is compared with the textbook answer in the same format
    (:func:`explainer.reasoning.format_example`): a scratchpad step by step (a step of a
    different length is off as a whole), the answer after the last ``>`` and a direct
    answer digit by digit. The working wraps after its third step.

    Args:
        problem: ``"a+b"``.
        text: a generated answer, prompt included.

    Returns:
        ``(lines, masks, steps_off)``: the lines, a string of ``0``/``1`` per line (``1``:
        the character differs from the textbook), and the number of scratchpad steps
        that differ (as :func:`explainer.grpo.slipped_steps` counts them; 0 without one).
    """
    completion = text.partition("=")[2]
    if not reasoning.uses_scratchpad(text):
        textbook = reasoning.format_example(problem, "direct").partition("=")[2]
        return [completion], [_diff(completion, textbook)], 0
    textbook = reasoning.format_example(problem, "cot").partition("=")[2]
    steps, _, answer = completion.rpartition(">")  # a stray ">" inside a step stays in it
    book_steps, _, book_answer = textbook.partition(">")
    written, book = steps.split(";"), book_steps.split(";")
    masks = [_diff(w, book[i]) if i < len(book) else "1" * len(w) for i, w in enumerate(written)]
    steps_off = sum("1" in m or not w for w, m in zip(written, masks)) + max(0, len(book)
                                                                              - len(written))
    answer_mask = "".join("0" if i < len(book_answer) and ch == book_answer[i] else "1"
                          for i, ch in enumerate(answer))
    k = _STEPS_ON_FIRST_LINE
    first = ";".join(written[:k]) + (";" if len(written) > k else "")
    first_mask = "0".join(masks[:k]) + ("0" if len(written) > k else "")
    second = ";".join(written[k:]) + ">" + answer
    second_mask = "0".join(masks[k:]) + "0" + answer_mask
    return [first, second], [first_mask, second_mask], steps_off


def _verdict(problem: str, text: str, steps_off: int) -> str:
    right = reasoning.parse_answer(text, reasoning.MIXED) == sum(map(int, problem.split("+")))
    word = "right" if right else "wrong"
    if not reasoning.uses_scratchpad(text):
        return f"{word}, no working"
    if steps_off:
        return f"{word}, {steps_off} step{'s' if steps_off > 1 else ''} off"
    return word


def answer_sheet(answers: pd.DataFrame, *, title: str, subtitle: str | list[str],
                 control: Slider | None = None) -> alt.LayerChart:
    """Model answers, one block each, with every character that differs from the textbook marked.

    A marked character is bold, underlined and drawn in the palette's first colour (which
    the page lightens in dark mode), so it does not rest on colour alone.

    Args:
        answers: one row per answer: ``label`` (the block's heading), ``problem``
            (``"a+b"``) and ``text`` (what the model wrote, prompt included); with
            ``control``, also a column named after it (the value at which the row shows).
        title, subtitle: the chart's title lines.
        control: a slider that picks the rows shown (``None``: all rows, in order).

    Raises:
        ValueError: a column is missing.
    """
    need = {"label", "problem", "text"} | ({control.name} if control is not None else set())
    missing = need - set(answers.columns)
    if missing:
        raise ValueError(f"answers lacks columns {sorted(missing)}")
    key = control.name if control is not None else None
    rows: list[dict[str, Any]] = []
    slot: dict[Any, int] = {}
    for _, a in answers.iterrows():
        group = a[key] if key else None
        slot[group] = slot.get(group, 0) + 1
        lines, masks, off = marked_lines(a["problem"], a["text"])
        at = ({key: group} if key else {}) | {"answer": slot[group]}
        heading = f"{a['label']}: {_verdict(a['problem'], a['text'], off)}"
        rows.append(at | {"line": 0, "text": heading, "marks": ""})
        rows += [at | {"line": j, "text": line, "marks": mask.replace("0", "·").replace("1", "^")}
                 for j, (line, mask) in enumerate(zip(lines, masks), 1)]
    df = pd.DataFrame(rows)  # marks: ^ under each character that differs from the textbook
    x_px, y_px = alt.X("px:Q", scale=None, axis=None), alt.Y("y:Q", scale=None, axis=None)
    marked = alt.Color("what:N", title=None, scale=alt.Scale(domain=[ANSWER_MARK]),
                       legend=alt.Legend(orient="bottom", labelLimit=400))
    base = alt.Chart(df).transform_calculate(
        y=f"{_BLOCK} * (datum.answer - 1) + {_LINE} * (datum.line + 0.5)")
    if control is not None:
        base = base.transform_filter(f"datum.{key} == {control.name}")
    chars = (base.transform_filter("datum.line > 0")
             .transform_calculate(ch="split(datum.text, '')", mk="split(datum.marks, '')")
             .transform_flatten(["ch", "mk"])
             .transform_window(i="row_number()", groupby=["answer", "line"])  # 1, 2, ... per line
             .transform_calculate(hit="datum.mk == '^'", px=f"{_PITCH} * datum.i",
                                  px0=f"{_PITCH} * (datum.i - 0.5) + 0.5",
                                  px1=f"{_PITCH} * (datum.i + 0.5) - 0.5",
                                  under="datum.y + 8", what=f"'{ANSWER_MARK}'"))
    text_kw = {"font": "monospace", "fontSize": 12, "align": "center", "baseline": "middle"}
    plain = chars.transform_filter("!datum.hit").mark_text(**text_kw).encode(
        x=x_px, y=y_px, text="ch:N")
    if control is not None:
        plain = plain.add_params(control.param())
    slipped = chars.transform_filter("datum.hit").mark_text(fontWeight="bold", **text_kw).encode(
        x=x_px, y=y_px, text="ch:N", color=marked)
    under = chars.transform_filter("datum.hit").mark_rule(strokeWidth=1.5).encode(
        x=alt.X("px0:Q", scale=None, axis=None), x2="px1:Q",
        y=alt.Y("under:Q", scale=None, axis=None), color=marked)
    heads = (base.transform_filter("datum.line == 0")
             .mark_text(align="left", baseline="middle", fontSize=12, fontWeight=600, dx=2)
             .encode(x=alt.value(0), y=y_px, text="text:N"))
    chart = alt.layer(plain, slipped, under, heads).properties(
        height=max(slot.values()) * _BLOCK, title=alt.Title(title, subtitle=subtitle))
    return finish(chart, description=(
        "Answers written by the model, each under a heading that says whether it is right; "
        "every character that differs from the textbook working is bold, underlined and "
        "coloured."))



def temperature_sheet(problem: str, samples: dict[float, list[str]]) -> alt.LayerChart:
    """Sampled answers to one problem at several temperatures, slips marked (:func:`answer_sheet`).

    Args:
        problem: ``"a+b"``.
        samples: temperature -> the texts sampled at it (prompt included). At temperature 0
            (greedy) every sample is the same answer, so only the first is shown; the others
            are headed "temperature T, #n" (the n-th sample).
    """
    rows = []
    for t, texts in samples.items():
        if t == 0:
            rows.append({"label": "greedy (temperature 0)", "problem": problem, "text": texts[0]})
            continue
        rows += [{"label": f"temperature {t:g}, #{i}", "problem": problem, "text": text}
                 for i, text in enumerate(texts, 1)]
    return answer_sheet(pd.DataFrame(rows), title=f"{problem.replace('+', ' + ')}, sampled",
                        subtitle=["The CoT model's answers: greedy, then three", "samples (#1 to #3) at each temperature"])

# ----------------------------------------------------------------------------- tables


def _pct1(v: Any) -> str:
    """A fraction as a percentage with one decimal (an em dash where missing)."""
    return "—" if v is None or pd.isna(v) else f"{100 * float(v):.1f}%"


def votes_table(results: pd.DataFrame, reference: pd.DataFrame) -> Any:
    """Single samples, majority votes and pass@64: R1-Zero on AIME 2024 beside the toy models.

    R1-Zero's figures come from the R1 paper's Table 2 (``data/reasoning_reference.csv``);
    the toy's from ``data/reasoning_results.csv`` (CoT at temperature 1.5, direct at 0.25,
    the temperatures where each shows the effect most clearly).
    """
    samp = results.query("experiment == 'sampling'").set_index(
        ["model", "metric", "temperature", "k"])["value"]
    r1z = reference.set_index(["model", "metric"])["value"]
    rows = [("DeepSeek-R1-Zero on AIME 2024 (R1 paper, Table 2)",
             r1z[("DeepSeek-R1-Zero", "pass@1")] / 100, r1z[("DeepSeek-R1-Zero", "cons@64")] / 100,
             None)]
    for model, temperature, name in (("cot", 1.5, "toy CoT model, temperature 1.5"),
                                     ("direct", 0.25, "toy direct model, temperature 0.25")):
        rows.append((name, samp[(model, "pass_at_k", temperature, 1)],
                     samp[(model, "majority_at_k", temperature, 64)],
                     samp[(model, "pass_at_k", temperature, 64)]))
    cols = ["model", "one sample right", "majority of 64 right", "at least one of 64 right"]
    df = pd.DataFrame(rows, columns=cols)
    return table(df, index=False, formats={c: _pct1 for c in cols[1:]}, caption=(
        "Share of problems answered right: by one sample (pass@1), by the majority of 64 "
        "samples (cons@64) and by at least one of 64 samples (pass@64). A dash: the paper "
        "does not report it."))


def price_table(results: pd.DataFrame, prices: pd.DataFrame) -> Any:
    """Tokens per problem and their price at DeepSeek-R1's output price, per way of answering."""
    tokens = results.query("experiment == 'sampling' and metric == 'tokens_per_sample' "
                           "and temperature == 0").set_index("model")["value"]
    usd = float(prices.set_index("model").loc["DeepSeek-R1", "output_usd_per_mtok"])
    rows = [("direct, one greedy answer", tokens["direct"]),
            ("CoT, one greedy answer", tokens["cot"]),
            ("CoT, majority of 64 samples", 64 * tokens["cot"])]
    df = pd.DataFrame(rows, columns=["way of answering", "tokens per problem"])
    df["cost of a million problems (USD)"] = df["tokens per problem"] * usd
    return table(df, index=False, formats={"tokens per problem": "count",
                                           "cost of a million problems (USD)": "usd"},
                 caption=f"Output tokens priced at DeepSeek-R1's ${usd:.2f} per million "
                         "output tokens (one token is one character here).")


check_frames(globals())  # refuse a missing or malformed frame by name (issue #25)
