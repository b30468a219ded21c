"""Figures of "The DeepSeek story, the short version" (the primer).

Two charts put a number behind two of the primer's ideas: how much of a Mixture-of-Experts
model one token uses (:func:`parameters`), and how much memory Multi-head Latent Attention
saves per conversation (:func:`kv_cache`). Seven diagrams draw the ideas themselves, without
data: a language model writing one token at a time (:func:`language_model`), attention
(:func:`attention`, after the query/key/value picture of Vaswani et al. 2017, "Attention Is
All You Need", and Alammar's "The Illustrated Transformer"), a reasoning model's thinking
tokens (:func:`reasoning`), Mixture-of-Experts routing with a shared expert (:func:`moe`,
after DeepSeekMoE, arXiv 2401.06066), multi-token prediction (:func:`mtp`, after V3 §2.2),
GRPO's group grading (:func:`grpo`, after DeepSeekMath §4.1) and distillation
(:func:`distillation`).

The diagrams are Altair charts like every other picture in the book, so they follow the
page's light or dark mode, keep their text at a readable size on a phone, draw in
JupyterLab, and carry a description for screen readers. They are laid out on a canvas
:data:`DESIGN_WIDTH` units wide, a phone's text column: a wider page stretches them
sideways only, so what fits on a phone fits everywhere. Boxes are tinted, not filled, so
the theme's text colour reads on them in both modes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import altair as alt
import numpy as np
import pandas as pd

from explainer.figures._base import check_frames, finish

__all__ = [
    "ATTENTION_EXAMPLE",
    "DESIGN_WIDTH",
    "attention",
    "attention_weights",
    "distillation",
    "grpo",
    "kv_cache",
    "language_model",
    "moe",
    "mtp",
    "parameters",
    "reasoning",
]

_TOTAL, _ACTIVE = "total parameters", "activated per token"

DESIGN_WIDTH = 330  # x units of a diagram: the text column of a 390 px phone screen
_LINE = "#888888"  # connectors: mid grey reads on light and dark pages
_MUTED = "#999999"  # text of parts that do no work
_TONES = {"plain": "#888888", "blue": "#0072B2", "orange": "#E69F00", "green": "#009E73",
          "red": "#D55E00"}  # Okabe-Ito, as in explainer.charts.PALETTE
_TINT = 0.16  # fill opacity of a tinted box: the theme's text colour stays readable on it
_LEADING = 2  # pixels between lines of a text mark (Vega's default line height: size + 2)
_DIAGRAM = {"explainer": {"diagram": True}}  # usermeta: a picture of an idea, its data is layout

# The attention diagram's sentence and how well each token's key matches the query of its
# last token, "it" (illustrative dot products, not a trained model's).
ATTENTION_EXAMPLE = pd.DataFrame({
    "token": ["The", "cat", "was", "hungry", "so", "it"],
    "match": [0.3, 2.8, 0.1, 1.1, 0.0, 1.5],
})


# ----------------------------------------------------------------------------- charts
def parameters(models: pd.DataFrame, names: list[str] | tuple[str, ...]) -> alt.LayerChart:
    """Total against activated parameters, in billions, one bar pair per model.

    Args:
        models: :func:`explainer.costs.load_models` (indexed by model, with
            ``total_params``, ``active_params`` and ``architecture`` columns).
        names: the models to draw, in order (rows of ``models``).

    Returns:
        A layered bar chart: a light bar for the total and a dark one for the share a
        token activates, each pair under a line naming the model and both figures (the
        labels sit above the bars, so a phone's width leaves them whole).

    Raises:
        ValueError: a name is not a row of ``models``.
    """
    missing = [n for n in names if n not in models.index]
    if missing:
        raise ValueError(f"names must be rows of models {list(models.index)}, got {missing}")
    rows = models.loc[list(names)]
    kind = {"moe": "MoE", "dense": "dense"}
    data = pd.DataFrame({
        "model": [f"{n} ({kind.get(a, a)})" for n, a in zip(rows.index, rows["architecture"])],
        _TOTAL: rows["total_params"].to_numpy() / 1e9,
        _ACTIVE: rows["active_params"].to_numpy() / 1e9,
    })
    data["label"] = [f"{m}: {a:,.0f}B of {t:,.0f}B per token" if a < t else f"{m}: all {t:,.0f}B"
                     for m, a, t in zip(data["model"], data[_ACTIVE], data[_TOTAL])]
    return _labelled_bars(
        data, total=_TOTAL, part=_ACTIVE, x_title="billions of parameters",
        title=["Parameters a model has,", "and the share one token uses"],
        description=(
            "For each model a light bar shows all its parameters and a dark bar the "
            "parameters one token activates. The Mixture-of-Experts models use a small share "
            "of theirs; the dense model uses all of its parameters for every token."))


def kv_cache(gb: pd.Series, model: str, context: int) -> alt.LayerChart:
    """KV-cache gigabytes for one conversation of ``context`` tokens, per attention design.

    Args:
        gb: gigabytes per context, indexed by design name (``"MHA"``, ``"GQA"``, ``"MLA"``,
            ...), e.g. a column of :func:`explainer.costs.kv_cache_table` times the context.
        model: whose layer and head sizes the figures use (for the title).
        context: the context length in tokens (for the title).

    Returns:
        A bar chart, one bar per design under a line naming it and its gigabytes, MLA
        highlighted.

    Raises:
        ValueError: ``gb`` is empty or holds a non-positive value.
    """
    if len(gb) == 0 or not (gb > 0).all():
        raise ValueError(f"gb must hold positive gigabytes per design, got {gb.to_dict()}")
    data = pd.DataFrame({"design": gb.index, "GB": gb.to_numpy()})
    data["label"] = [f"{d}: {v:,.1f} GB" for d, v in zip(data["design"], data["GB"])]
    data["kind"] = ["MLA" if d.startswith("MLA") else "other" for d in data["design"]]
    return _labelled_bars(
        data, total="GB", part=None, x_title="gigabytes of cache (BF16)",
        title=[f"KV cache of one {context // 1024}K-token", f"conversation ({model})"],
        highlight="kind", description=(
            "One bar per attention design: the memory a model of this size keeps for one long "
            "conversation. Multi-head Latent Attention's bar is a small fraction of plain "
            "multi-head attention's."))


def _labelled_bars(data: pd.DataFrame, *, total: str, part: str | None, x_title: str,
                   title: list[str], description: str,
                   highlight: str | None = None) -> alt.LayerChart:
    """Horizontal bars on a linear scale from zero, each under its own full-width label."""
    y = alt.Y("label:N", sort=list(data["label"]), axis=None,
              scale=alt.Scale(paddingInner=0.62, paddingOuter=0.45))
    x = alt.X(f"{total}:Q", title=x_title, axis=alt.Axis(tickCount=4, grid=True),
              scale=alt.Scale(domain=[0, float(data[total].max())], nice=True))
    base = alt.Chart(data)
    if highlight:
        bars = [base.mark_bar(cornerRadiusEnd=2).encode(
            x=x, y=y, color=alt.Color(f"{highlight}:N", legend=None, scale=alt.Scale(
                domain=["MLA", "other"], range=["#D55E00", "#999999"])),
            tooltip=["label:N"])]
    else:
        bars = [base.mark_bar(color="#56B4E9", opacity=0.45).encode(
                    x=x, y=y, tooltip=["label:N"]),
                base.mark_bar(color="#0072B2").encode(x=f"{part}:Q", y=y)]
    # the label: left-aligned at zero, just above its bar (band centre minus half a band)
    text = base.mark_text(align="left", baseline="bottom", dy=-9, fontSize=12).encode(
        x=alt.datum(0), y=y, text="label:N")
    chart = alt.layer(*bars, text).properties(height=46 * len(data), title=title)
    return finish(chart, description=description)


# ----------------------------------------------------------------------------- diagrams
@dataclass
class _Sketch:
    """A diagram on a :data:`DESIGN_WIDTH` × ``height`` canvas (y grows downwards)."""

    height: int
    boxes: list[dict[str, Any]] = field(default_factory=list)
    texts: list[dict[str, Any]] = field(default_factory=list)
    lines: list[dict[str, Any]] = field(default_factory=list)
    heads: list[dict[str, Any]] = field(default_factory=list)

    def box(self, x: float, y: float, w: float, h: float, text: str = "", *,
            tone: str = "plain", solid: bool = False, size: int = 12) -> None:
        """A rounded box, tinted (or ``solid``), with centred text (lines split by \\n)."""
        self.boxes.append({"x": x, "x2": x + w, "y": y, "y2": y + h, "tone": tone,
                           "fill_opacity": 0.9 if solid else _TINT})
        if text:
            self.text(x + w / 2, y + h / 2, text, size=size, color="#FFFFFF" if solid else "")

    def text(self, x: float, y: float, text: str, *, align: str = "center", size: int = 12,
             color: str = "", bold: bool = False, italic: bool = False) -> None:
        """Text whose block of lines is centred vertically on ``y``; ``color`` "" takes the
        theme's text colour."""
        style = f"{align}-{'bold' if bold else 'normal'}-{'italic' if italic else 'normal'}"
        first = y - text.count("\n") * (size + _LEADING) / 2  # Vega puts line 1 on y
        self.texts.append({"text": text, "x": x, "y": first, "size": size, "color": color,
                           "style": style})

    def arrow(self, *points: tuple[float, float], head: bool = True,
              dashed: bool = False) -> None:
        """A polyline of horizontal and vertical segments, with a head at its last point."""
        for (x, y), (x2, y2) in zip(points, points[1:]):
            self.lines.append({"x": x, "y": y, "x2": x2, "y2": y2,
                               "dash": "dashed" if dashed else "solid"})
        if head:
            (x, y), (x2, y2) = points[-2], points[-1]
            shape = ("triangle-right" if x2 > x else "triangle-left" if x2 < x
                     else "triangle-down" if y2 > y else "triangle-up")
            self.heads.append({"x": x2, "y": y2, "shape": shape})

    def chart(self, title: list[str], description: str) -> alt.LayerChart:
        """The layered Altair chart, through :func:`finish`."""
        xs = alt.Scale(domain=[0, DESIGN_WIDTH], nice=False, zero=False)
        ys = alt.Scale(domain=[0, self.height], nice=False, zero=False, reverse=True)

        def xy(x: str = "x", y: str = "y") -> dict[str, Any]:
            return {"x": alt.X(f"{x}:Q", scale=xs, axis=None),
                    "y": alt.Y(f"{y}:Q", scale=ys, axis=None)}

        layers: list[alt.Chart] = []
        if self.lines:
            lines = pd.DataFrame(self.lines)
            for dash, pattern in (("solid", [1, 0]), ("dashed", [4, 3])):
                if (lines["dash"] == dash).any():
                    layers.append(alt.Chart(lines).transform_filter(
                        alt.datum.dash == dash).mark_rule(
                        color=_LINE, strokeWidth=1.5, strokeDash=pattern).encode(
                        **xy(), x2="x2:Q", y2="y2:Q"))
        if self.heads:
            layers.append(alt.Chart(pd.DataFrame(self.heads)).mark_point(
                filled=True, size=55, color=_LINE, opacity=1).encode(
                **xy(), shape=alt.Shape("shape:N", scale=None)))
        if self.boxes:
            tone = alt.Color("tone:N", legend=None, scale=alt.Scale(
                domain=list(_TONES), range=list(_TONES.values())))
            layers.append(alt.Chart(pd.DataFrame(self.boxes)).mark_rect(
                cornerRadius=4, strokeWidth=1.2).encode(
                **xy(), x2="x2:Q", y2="y2:Q", fill=tone, stroke=tone,
                fillOpacity=alt.FillOpacity("fill_opacity:Q", scale=None)))
        texts = pd.DataFrame(self.texts)
        for style in dict.fromkeys(texts["style"]):
            align, weight, slant = style.split("-")
            mine = texts[texts["style"] == style]
            for coloured in (False, True):
                if not ((mine["color"] != "") == coloured).any():
                    continue
                enc: dict[str, Any] = {**xy(), "text": alt.Text("text:N"),
                                       "size": alt.Size("size:Q", scale=None)}
                if coloured:
                    enc["color"] = alt.Color("color:N", scale=None)
                keep = (alt.datum.style == style) & (
                    (alt.datum.color != "") if coloured else (alt.datum.color == ""))
                layers.append(alt.Chart(texts).transform_filter(keep).mark_text(
                    align=align, baseline="middle", fontWeight=weight, fontStyle=slant,
                    lineBreak="\n").encode(**enc))
        chart = alt.layer(*layers).properties(height=self.height, title=title, usermeta=_DIAGRAM)
        return finish(chart, description=description)


def language_model() -> alt.LayerChart:
    """A language model reads the tokens so far, scores every possible next token, picks one
    and runs again.

    Returns:
        A diagram (no data): token boxes, the model, bars for a few candidate next tokens,
        and a dashed arrow from the picked token back to the text.
    """
    s = _Sketch(height=268)
    s.text(0, 8, "the text so far, as tokens", align="left", size=11)
    for i, tok in enumerate(["The", "cat", "sat", "on", "the"]):
        s.box(i * 58, 20, 52, 26, tok)
    s.arrow((142, 50), (142, 70))
    s.box(0, 74, 284, 48, "the model: a stack of layers,\neach = attention + feed-forward",
          tone="blue")
    s.arrow((142, 126), (142, 146))
    s.text(0, 156, "a probability for each possible next token", align="left", size=11)
    for i, (tok, p) in enumerate([("mat", 0.52), ("floor", 0.28), ("sofa", 0.12),
                                  ("moon", 0.03)]):
        y = 170 + i * 20
        s.text(44, y + 7, tok, align="right", size=11)
        s.box(50, y, 220 * p, 14, tone="blue", solid=i == 0)
    s.arrow((50 + 220 * 0.52 + 6, 177), (312, 177), (312, 33), (288, 33), dashed=True)
    s.text(0, 260, "pick one (here “mat”), add it to the text, run again", align="left",
           size=11)
    return s.chart(["A language model continues", "text one token at a time"], (
        "Diagram: the tokens so far, “The cat sat on the”, go into the model, a stack of "
        "layers each made of attention and a feed-forward block. It outputs a probability for "
        "every possible next token (mat, floor, sofa, moon); one is picked, added to the text, "
        "and the model runs again."))


def attention_weights(match: pd.Series | np.ndarray | list[float]) -> np.ndarray:
    """Attention weights from match scores: the softmax, so they are positive and add up to 1.

    Args:
        match: how well each earlier token's key matches the query (query · key).

    Returns:
        The weights, in the same order.

    Raises:
        ValueError: ``match`` is empty or holds a value that is not finite.
    """
    m = np.asarray(match, dtype=float)
    if m.size == 0 or not np.isfinite(m).all():
        raise ValueError(f"match must hold finite scores, got {m.tolist()}")
    e = np.exp(m - m.max())  # shifted for stability; the softmax is unchanged
    return e / e.sum()


def attention(example: pd.DataFrame = ATTENTION_EXAMPLE) -> alt.LayerChart:
    """One token's query compared with the keys of the tokens before it: weights, then the
    weighted sum of their values.

    Args:
        example: one row per token of a short sentence, in order, with ``token`` and
            ``match`` (how well its key matches the query of the last token, which asks).

    Returns:
        A diagram: each token with a bar for its weight (a linear scale, so lengths
        compare), and the sum the last token takes in.

    Raises:
        ValueError: ``example`` lacks a column, has fewer than two rows or more than eight.
    """
    if not {"token", "match"} <= set(example.columns) or not 2 <= len(example) <= 8:
        raise ValueError("example must have columns token and match and 2 to 8 rows, got "
                         f"{list(example.columns)} with {len(example)} rows")
    weights = attention_weights(example["match"])
    tokens = list(example["token"])
    me, top = tokens[-1], tokens[int(np.argmax(weights))]
    n = len(tokens)
    s = _Sketch(height=100 + 30 * n)
    s.text(0, 20, "token\n(its key)", align="left", size=11, bold=True)
    s.text(80, 20, f"match with the query of “{me}”,\nturned into a weight", align="left",
           size=11, bold=True)
    for i, (tok, w) in enumerate(zip(tokens, weights)):
        y = 46 + 30 * i
        s.box(0, y, 64, 24, tok, tone="orange" if i == n - 1 else "plain")
        s.box(80, y + 5, 190 * w, 14, tone="blue", solid=True)
        s.text(80 + 190 * w + 6, y + 12, f"{w:.0%}" + (" (itself)" if i == n - 1 else ""),
               align="left", size=11)
    y = 46 + 30 * n
    s.arrow((165, y - 2), (165, y + 14))
    s.box(0, y + 18, DESIGN_WIDTH, 50, (
        f"what “{me}” takes in: the tokens' values,\nadded up with these weights, so "
        f"mostly\nwhat “{top}” carries"), tone="blue")
    return s.chart(["Attention: one token looks", "back at the tokens before it"], (
        f"Diagram: the token “{me}” compares its query with the key of each token before it, "
        "and with its own. A closer match gets a larger weight; the weights add up to 100%. "
        + ", ".join(f"{t} {w:.0%}" for t, w in zip(tokens, weights)) + ". What "
        f"“{me}” takes in is the values of those tokens added up with these weights, so "
        f"mostly what “{top}” carries."))


def reasoning() -> alt.LayerChart:
    """Answering directly against reasoning first: the thinking tokens come before the answer.

    Returns:
        A diagram (no data) of the two ways to answer.
    """
    s = _Sketch(height=150)
    s.text(0, 9, "answering directly", align="left", size=11, italic=True)
    s.box(0, 20, 66, 26, "question", size=11)
    s.arrow((70, 33), (92, 33))
    s.box(96, 20, 56, 26, "answer", tone="blue", size=11)
    s.text(0, 65, "reasoning first", align="left", size=11, italic=True)
    s.box(0, 76, 66, 26, "question", size=11)
    s.arrow((70, 89), (80, 89))
    for i in range(4):
        s.box(84 + 40 * i, 76, 36, 26, "step", tone="orange", size=11)
    s.arrow((244, 89), (258, 89))
    s.box(262, 76, 56, 26, "answer", tone="blue", size=11)
    s.arrow((84, 106), (84, 112), (240, 112), (240, 106), head=False)
    s.text(162, 132, "thinking tokens: generated one by one,\nand billed as output", size=11)
    return s.chart(["A reasoning model writes", "its working before the answer"], (
        "Diagram: a direct model writes the answer right after the question; a reasoning "
        "model first writes a chain of intermediate steps, thinking tokens that are generated "
        "and billed like any output, then the answer."))


def moe() -> alt.LayerChart:
    """A router sends a token to a shared expert and to two of eight routed experts.

    Returns:
        A diagram (no data): the token, the router, the experts (the two picked ones
        highlighted), and the sum of the three outputs.
    """
    s = _Sketch(height=262)
    s.box(125, 0, 80, 24, "a token")
    s.arrow((165, 28), (165, 44))
    s.box(120, 48, 90, 24, "router", tone="orange")
    s.arrow((165, 76), (165, 90), head=False)
    s.arrow((30, 90), (244, 90), head=False)
    s.box(0, 112, 60, 28, "shared", tone="green", solid=True)
    picked = (2, 5)
    for i in range(8):
        x = 70 + 32 * i
        if i in picked:
            s.box(x, 112, 28, 28, f"E{i + 1}", tone="blue", solid=True, size=11)
        else:
            s.box(x, 112, 28, 28, tone="plain")
            s.text(x + 14, 126, f"E{i + 1}", size=11, color=_MUTED)
    centres = [30] + [70 + 32 * i + 14 for i in picked]
    for x in centres:
        s.arrow((x, 90), (x, 108))
        s.arrow((x, 144), (x, 158), head=False)
    s.arrow((centres[0], 158), (centres[-1], 158), head=False)
    s.arrow((165, 158), (165, 170))
    s.box(153, 174, 24, 22, "+", size=14)
    s.text(185, 185, "their outputs are added", align="left", size=11)
    s.text(0, 216, "green: the shared expert, which every token visits", align="left",
           size=11)
    s.text(0, 233, "blue: the 2 routed experts the router picked", align="left", size=11)
    s.text(0, 250, "grey: experts that do no work for this token", align="left", size=11)
    return s.chart(["Mixture-of-Experts: many experts,", "a few at work per token"], (
        "Diagram: a router sends a token to two of eight routed experts and to one shared "
        "expert that every token visits; their three outputs are added. The other six "
        "experts do no work for this token."))


def mtp() -> alt.LayerChart:
    """The main model predicts the next token; an extra module predicts the one after it.

    Returns:
        A diagram (no data) of multi-token prediction with one extra module.
    """
    s = _Sketch(height=202)
    s.text(0, 8, "what the model has read", align="left", size=11)
    for i, tok in enumerate(["The", "cat", "sat", "on"]):
        s.box(i * 50, 18, 44, 24, tok)
    s.arrow((97, 46), (97, 60))
    s.box(0, 64, 194, 28, "main model", tone="blue")
    s.arrow((198, 78), (214, 78))
    s.box(218, 64, 112, 28, "next: “the”", tone="blue")
    s.arrow((97, 96), (97, 110))
    s.box(0, 114, 194, 28, "extra MTP module", tone="orange")
    s.arrow((198, 128), (214, 128))
    s.box(218, 114, 112, 28, "after that: “mat”", tone="orange", size=11)
    s.text(0, 168, "training: both guesses are graded", align="left", size=11)
    s.text(0, 188, "serving: “mat” is a draft, checked next step", align="left", size=11)
    return s.chart(["Multi-token prediction:", "one more guess per position"], (
        "Diagram: the main model reads “The cat sat on” and predicts the next token, “the”; "
        "an extra module, fed by the main model, predicts the token after it, “mat”. In "
        "training both guesses are graded; in serving the extra guess is a draft the main "
        "model checks in its next step (speculative decoding)."))


def grpo() -> alt.LayerChart:
    """GRPO grades each of a group of answers against the group's average.

    Returns:
        A diagram (no data): one question, six sampled answers, each marked right or wrong
        and made more or less likely.
    """
    s = _Sketch(height=214)
    right = [True, False, True, True, False, False]
    centres = [14 + 28 * i for i in range(len(right))]
    s.box(0, 71, 70, 26, "question", size=11)
    s.arrow((74, 84), (84, 84), head=False)
    s.arrow((84, centres[0]), (84, centres[-1]), head=False)
    for i, (ok, c) in enumerate(zip(right, centres)):
        s.arrow((84, c), (96, c))
        s.box(100, c - 10, 66, 20, f"answer {'ABCDEF'[i]}", size=11)
        colour = _TONES["green"] if ok else _TONES["red"]
        s.text(182, c, "✓" if ok else "✗", size=15, color=colour)
        s.text(196, c, "more likely" if ok else "less likely", align="left", size=11,
               color=colour)
    s.text(0, 184, "a program checks each answer; those above\nthe group's average are made "
           "more likely", align="left", size=11)
    return s.chart(["GRPO: each answer is graded", "against its own group"], (
        "Diagram: for one question the model samples six answers; a program marks each right "
        "or wrong; answers better than the group's average are made more likely, worse ones "
        "less likely."))


def distillation() -> alt.LayerChart:
    """A large model writes worked solutions and a small model is trained on them.

    Returns:
        A diagram (no data) of distillation.
    """
    s = _Sketch(height=206)
    s.box(80, 0, 170, 30, "large model (R1)", tone="blue")
    s.arrow((165, 34), (165, 58))
    s.text(175, 46, "writes", align="left", size=11)
    for k in range(3):
        s.box(92 + 4 * k, 62 + 4 * k, 146, 30, tone="plain")
    s.text(169, 85, "worked solutions", size=12)
    s.arrow((165, 104), (165, 128))
    s.text(175, 116, "trained on", align="left", size=11)
    s.box(80, 132, 170, 30, "small model", tone="green")
    s.text(165, 188, "it learns to imitate the large model's\nreasoning, and never sees its "
           "parameters", size=11)
    return s.chart(["Distillation: a large model", "teaches a small one"], (
        "Diagram: a large model writes worked solutions, and a small model is trained on "
        "them. The small model learns to imitate the large one's reasoning; it never sees the "
        "large model's parameters."))


check_frames(globals())  # refuse a missing or malformed frame by name (issue #25)
