"""The story chapters' computations: timeline, prices per request, author lists, thinking cost.

What this module holds, for "The Sputnik moment", "A lean lab" and "One stack or two":

* **The timeline** (``data/story_events.csv``): dated releases from DeepSeek's own
  repositories, the market move and OpenAI's reply from news reports (flagged secondary).
* **What requests cost at list prices** (``data/prices.csv``): the API bill is
  :func:`explainer.costs.api_cost_usd` (reasoning tokens billed as output, as DeepSeek's
  pricing page and the R1 README say); :func:`api_cost_expr` is the same formula as a
  Vega expression, so a page can recompute it in the browser (tested on a grid).
* **The author lists** of the V2 report (arXiv 2405.04434), V3 report (arXiv 2412.19437)
  and R1 paper (arXiv 2501.12948), appendix A "Contributions and Acknowledgments"
  (``data/paper_authors.csv``, counted by ``scripts/count_paper_authors.py``).
* **What thinking costs**: how much longer the toy reasoner's scratchpad makes an answer
  (:mod:`explainer.reasoning`'s formats) and three routing policies for a chat model and a
  reasoning model at DeepSeek's list prices (deepseek-chat = V3, deepseek-reasoner = R1).

The controls the chapters move are declared here once (:mod:`explainer.controls`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from explainer.checks import check_int, check_seed, check_text
from explainer.controls import Slider
from explainer.costs import api_cost_usd, load_prices
from explainer.data import load_sources, read_csv
from explainer.facts import api_price_gap

__all__ = [
    "ANSWER_TOK",
    "BILL_CONTROLS",
    "BILL_MODELS",
    "IN_TOK",
    "OUT_TOK",
    "PAPERS",
    "POLICIES",
    "POLICY_CONTROLS",
    "PROMPT_TOK",
    "SHARES",
    "THINK_TOK",
    "TeamFacts",
    "api_cost_expr",
    "arxiv_months_between",
    "author_roles",
    "author_totals",
    "bill_per_1k",
    "bill_ratio_range",
    "event_date",
    "event_table",
    "load_events",
    "moment_days",
    "nvidia_drop",
    "policy_cost_exprs",
    "policy_costs",
    "policy_table",
    "price_multiples",
    "r1_names_on_v3",
    "scratchpad_lengths",
    "stack_prices",
    "team_facts",
]

# --------------------------------------------------------------------------- controls
IN_TOK = Slider("in_tok", "input tokens per request", 100, 20000, 100, default=1000)
OUT_TOK = Slider("out_tok", "output tokens per request (incl. thinking)", 100, 30000, 100,
                 default=4000)
BILL_CONTROLS = (IN_TOK, OUT_TOK)

PROMPT_TOK = Slider("prompt_tok", "prompt tokens", 50, 5000, 50, default=500)
ANSWER_TOK = Slider("answer_tok", "answer tokens", 50, 4000, 50, default=400)
THINK_TOK = Slider("think_tok", "thinking tokens", 0, 30000, 250, default=3000)
POLICY_CONTROLS = (PROMPT_TOK, ANSWER_TOK, THINK_TOK)

# the models of the request-bill comparison, R1 first (the base of the multiples)
BILL_MODELS = ("DeepSeek-R1", "OpenAI o3-mini", "OpenAI o1")
# the dual stack: the chat model and the reasoning model, as DeepSeek's API sold them
_CHAT, _REASONER = "DeepSeek-V3", "DeepSeek-R1"
POLICIES = ("always the chat model", "always the reasoning model", "route each request")
SHARES = tuple(round(s, 2) for s in np.linspace(0, 1, 21))  # share of requests that need reasoning
PAPERS = ("DeepSeek-V2", "DeepSeek-V3", "DeepSeek-R1")  # in publication order


_PRICE_COLUMNS = ("input_usd_per_mtok", "output_usd_per_mtok")
_EVENT_COLUMNS = ("date", "event", "kind", "reported by", "source")


def _indexed_prices(prices: pd.DataFrame | None, models: Sequence[str] = (),
                    columns: Sequence[str] = _PRICE_COLUMNS) -> pd.DataFrame:
    """The price table indexed by model (loaded from ``data/prices.csv`` when ``None``).

    ValueError naming ``prices`` if a given table lacks ``columns`` or a row for ``models``.
    """
    if prices is not None and not isinstance(prices, pd.DataFrame):
        raise ValueError(f"prices must be None or a DataFrame like data/prices.csv, got "
                         f"{type(prices).__name__}")
    p = load_prices() if prices is None else prices
    p = p.set_index("model") if "model" in p.columns else p
    missing = [c for c in columns if c not in p.columns]
    absent = [m for m in models if m not in p.index]
    if missing or absent:
        raise ValueError(f"prices must be a table like data/prices.csv: missing columns "
                         f"{missing} and rows {absent}")
    return p


def _known(name: str, value: str, allowed: Sequence[str]) -> None:
    if not isinstance(value, str) or value not in allowed:
        raise ValueError(f"{name} must be one of {list(allowed)}, got {value!r}")


def _names(name: str, values, allowed: Sequence[str]) -> list[str]:
    """A non-empty list or tuple of names from ``allowed``, else ValueError naming ``name``."""
    if isinstance(values, str) or not isinstance(values, (list, tuple)) or not values:
        raise ValueError(f"{name} must be a non-empty list or tuple of names from "
                         f"{list(allowed)}, got {values!r}")
    for v in values:
        _known(name, v, allowed)
    return list(values)


def _check_events(events, columns: Sequence[str] = _EVENT_COLUMNS) -> None:
    if not isinstance(events, pd.DataFrame) or not set(columns) <= set(events.columns):
        got = (f"columns {list(events.columns)}" if isinstance(events, pd.DataFrame)
               else type(events).__name__)
        raise ValueError(f"events must be the DataFrame of load_events() (columns "
                         f"{list(columns)}), got {got}")


# --------------------------------------------------------------------------- timeline
def load_events() -> pd.DataFrame:
    """``data/story_events.csv`` with parsed dates, each source's title and who reported it.

    Returns:
        The events in date order, with columns ``source`` (the title in
        ``data/sources.csv``) and ``reported by`` (DeepSeek's repository or a secondary
        report) added.
    """
    events = read_csv("story_events.csv", parse_dates=["date"]).sort_values("date", kind="stable")
    titles = load_sources()["title"]
    events["source"] = events["source_id"].map(titles)
    events["reported by"] = events["is_secondary"].map(
        {True: "secondary (news, third party)", False: "DeepSeek's repository"})
    return events.reset_index(drop=True)


def event_table(events: pd.DataFrame, kinds: Sequence[str] | None = None) -> pd.DataFrame:
    """The events to show a reader: date (``YYYY-MM-DD``), event, who reported it, source.

    Args:
        events: :func:`load_events`.
        kinds: keep only these kinds (``"release"``, ``"market"``, ``"response"``); all if ``None``.

    Raises:
        ValueError: ``events`` is not such a table, or ``kinds`` is not a non-empty list of
            kinds it holds.
    """
    _check_events(events)
    if kinds is not None:
        _names("kinds", kinds, sorted(events["kind"].unique()))
        events = events[events["kind"].isin(list(kinds))]
    return (events.assign(date=events["date"].dt.strftime("%Y-%m-%d"))
            [["date", "event", "reported by", "source"]].reset_index(drop=True))


def event_date(events: pd.DataFrame, starts_with: str) -> pd.Timestamp:
    """The date of the one event whose description starts with ``starts_with``.

    Raises:
        ValueError: if no event, or more than one, matches (or ``events`` is not a table of
            events).
    """
    _check_events(events, ("date", "event"))
    check_text("starts_with", starts_with)
    hit = events[events["event"].str.startswith(starts_with)]
    if len(hit) != 1:
        raise ValueError(f"starts_with must match exactly one event, {starts_with!r} matches "
                         f"{len(hit)}: {list(hit['event'])}")
    return hit["date"].iloc[0]


def moment_days(events: pd.DataFrame | None = None) -> int:
    """Days from R1's release to OpenAI's o3-mini: the span of the "Sputnik moment"."""
    ev = load_events() if events is None else events
    _check_events(ev, ("date", "event"))
    return int((event_date(ev, "OpenAI releases o3-mini")
                - event_date(ev, "DeepSeek-R1 ")).days)


def nvidia_drop(events: pd.DataFrame | None = None) -> tuple[float, float]:
    """Nvidia's one-day fall on 27 January 2025 as ``(percent, US dollars)`` (news reports)."""
    ev = load_events() if events is None else events
    _check_events(ev, ("kind", "unit", "value"))
    market = ev[ev["kind"] == "market"].set_index("unit")["value"]
    return float(market["percent"]), float(market["USD"])


# --------------------------------------------------------------------------- prices
def api_cost_expr(input_tokens: str, output_tokens: str, usd_per_m_input: str,
                  usd_per_m_output: str) -> str:
    """:func:`explainer.costs.api_cost_usd` as a Vega expression.

    Args:
        input_tokens, output_tokens, usd_per_m_input, usd_per_m_output: Vega expressions
            (param names such as ``"in_tok"``, fields such as ``"datum.output_usd_per_mtok"``
            or numbers written as text).

    Returns:
        An expression in US dollars for one request.

    Raises:
        ValueError: an argument that is not a non-empty string.
    """
    for name, expr in (("input_tokens", input_tokens), ("output_tokens", output_tokens),
                       ("usd_per_m_input", usd_per_m_input),
                       ("usd_per_m_output", usd_per_m_output)):
        check_text(name, expr)
    return (f"(({input_tokens}) * ({usd_per_m_input}) "
            f"+ ({output_tokens}) * ({usd_per_m_output})) / 1e6")


def price_multiples(models: Sequence[str] = BILL_MODELS) -> pd.DataFrame:
    """List prices of ``models`` and each price as a multiple of the first model's.

    The multiples are :func:`explainer.facts.api_price_gap`'s ``times`` (what each API
    bills for a million input or output tokens, against the first model).

    Returns:
        Indexed by model: ``input_usd_per_mtok``, ``output_usd_per_mtok``,
        ``is_secondary``, ``input × first`` and ``output × first``.
    """
    p = _indexed_prices(None)
    models = _names("models", models, list(p.index))
    table = p.loc[list(models), ["input_usd_per_mtok", "output_usd_per_mtok", "is_secondary"]]
    times = pd.DataFrame({m: api_price_gap(models[0], m)["times"] for m in models}).T
    return table.assign(**{"input × first": times["input"], "output × first": times["output"]})


def bill_per_1k(in_tok: float, out_tok: float, models: Sequence[str] = BILL_MODELS, *,
                prices: pd.DataFrame | None = None) -> pd.Series:
    """US dollars for 1,000 requests of ``in_tok`` input and ``out_tok`` output tokens each.

    Output tokens include the reasoning ("thinking") tokens, billed as output.

    Returns:
        A Series indexed by model, named ``"USD per 1,000 requests"``.
    """
    IN_TOK.check(in_tok)
    OUT_TOK.check(out_tok)
    p = _indexed_prices(prices)
    models = _names("models", models, list(p.index))
    usd = [1000 * api_cost_usd(in_tok, out_tok, p.loc[m, "input_usd_per_mtok"],
                               p.loc[m, "output_usd_per_mtok"]) for m in models]
    return pd.Series(usd, index=pd.Index(list(models), name="model"),
                     name="USD per 1,000 requests")


def bill_ratio_range(model: str, base: str = BILL_MODELS[0]) -> tuple[float, float]:
    """The smallest and largest ratio of ``model``'s bill to ``base``'s, over every request.

    A bill is a positive mix of the input and the output price, so its ratio lies
    between the two price ratios (the mediant inequality) and reaches each in the limit
    of all-input or all-output requests.

    Returns:
        ``(low, high)``: the two price ratios of :func:`explainer.facts.api_price_gap`.
    """
    known = list(_indexed_prices(None).index)
    _known("model", model, known)
    _known("base", base, known)
    lo, hi = sorted(float(t) for t in api_price_gap(base, model)["times"])
    return lo, hi


def stack_prices(*, prices: pd.DataFrame | None = None) -> pd.DataFrame:
    """The dual stack's API: the chat model (V3) and the reasoning model (R1), with prices."""
    p = _indexed_prices(prices, (_CHAT, _REASONER),
                        ("api_model", *_PRICE_COLUMNS, "note"))
    return p.loc[[_CHAT, _REASONER], ["api_model", "input_usd_per_mtok", "output_usd_per_mtok",
                                      "note"]]


# --------------------------------------------------------------------------- policies
def _stack_prices_tuple(prices: pd.DataFrame | None) -> tuple[float, float, float, float]:
    s = stack_prices(prices=prices)
    return (float(s.loc[_CHAT, "input_usd_per_mtok"]), float(s.loc[_CHAT, "output_usd_per_mtok"]),
            float(s.loc[_REASONER, "input_usd_per_mtok"]),
            float(s.loc[_REASONER, "output_usd_per_mtok"]))


def policy_costs(prompt_tok: float, answer_tok: float, think_tok: float,
                 shares: Sequence[float] = SHARES, *,
                 prices: pd.DataFrame | None = None) -> pd.DataFrame:
    """US dollars per 1,000 requests under each of :data:`POLICIES`, by share needing reasoning.

    The chat model answers with ``answer_tok`` tokens; the reasoning model thinks for
    ``think_tok`` tokens first (billed as output). Routing sends the share that needs
    reasoning to the reasoning model and the rest to the chat model.

    Args:
        prompt_tok, answer_tok, think_tok: tokens per request, within the sliders' ranges.
        shares: fractions of requests that need reasoning, each in [0, 1].
        prices: the price table (``data/prices.csv`` when ``None``).

    Returns:
        Long form: ``share``, ``policy``, ``usd`` (one row per share and policy).
    """
    PROMPT_TOK.check(prompt_tok)
    ANSWER_TOK.check(answer_tok)
    THINK_TOK.check(think_tok)
    try:
        s = np.asarray(shares, dtype=float)
    except (TypeError, ValueError):
        s = np.full(0, np.nan)  # refused just below
    if (isinstance(shares, str) or s.ndim != 1 or len(s) == 0
            or not ((s >= 0) & (s <= 1)).all()):  # NaN fails both comparisons
        raise ValueError(f"shares must be fractions in [0, 1], got {shares!r}")
    pin_c, pout_c, pin_r, pout_r = _stack_prices_tuple(prices)
    chat = 1000 * api_cost_usd(prompt_tok, answer_tok, pin_c, pout_c)
    reason = 1000 * api_cost_usd(prompt_tok, answer_tok + think_tok, pin_r, pout_r)
    usd = {POLICIES[0]: np.full_like(s, chat), POLICIES[1]: np.full_like(s, reason),
           POLICIES[2]: s * reason + (1 - s) * chat}
    return pd.DataFrame([{"share": float(x), "policy": p, "usd": float(usd[p][i])}
                         for p in POLICIES for i, x in enumerate(s)])


def policy_table(prompt_tok: float, answer_tok: float, think_tok: float,
                 shares: Sequence[float] = SHARES, *,
                 prices: pd.DataFrame | None = None) -> pd.DataFrame:
    """:func:`policy_costs` wide: indexed by ``share``, one column per policy (:data:`POLICIES`)."""
    long = policy_costs(prompt_tok, answer_tok, think_tok, shares, prices=prices)
    return long.pivot(index="share", columns="policy", values="usd")[list(POLICIES)]


def policy_cost_exprs(share: str = "datum.share", *, prices: pd.DataFrame | None = None,
                      ) -> dict[str, str]:
    """:func:`policy_costs` as Vega expressions over the params of :data:`POLICY_CONTROLS`.

    Args:
        share: the expression for the share of requests that need reasoning.

    Returns:
        ``{policy: expression}`` in US dollars per 1,000 requests, for each of :data:`POLICIES`.
    """
    check_text("share", share)
    pin_c, pout_c, pin_r, pout_r = _stack_prices_tuple(prices)
    p, a, t = PROMPT_TOK.name, ANSWER_TOK.name, THINK_TOK.name
    chat = f"1000 * {api_cost_expr(p, a, repr(pin_c), repr(pout_c))}"
    reason = f"1000 * {api_cost_expr(p, f'{a} + {t}', repr(pin_r), repr(pout_r))}"
    return {POLICIES[0]: chat, POLICIES[1]: reason,
            POLICIES[2]: f"({share}) * {reason} + (1 - ({share})) * {chat}"}


def scratchpad_lengths(n: int = 200, *, digits: int = 5, seed: int = 0) -> pd.DataFrame:
    """Characters the toy reasoner writes after ``=``, answering directly and with a scratchpad.

    Uses :func:`explainer.reasoning.make_problems` and the two training formats of
    :func:`explainer.reasoning.format_example` (the prompt up to ``=`` is not counted).

    Args:
        n: problems, 1 to 10**6.
        digits: operand width, 1 to :data:`explainer.reasoning.MAX_DIGITS`.
        seed: seed of the problems.

    Returns:
        One row per problem, columns ``direct`` and ``cot``.
    """
    from explainer.reasoning import FORMATS, MAX_DIGITS, format_example, make_problems

    n = check_int("n", n, 1, 10**6)
    digits = check_int("digits", digits, 1, MAX_DIGITS)
    seed = check_seed("seed", seed)

    problems = make_problems(n, digits=digits, seed=seed)
    return pd.DataFrame({fmt: [len(format_example(p, fmt).partition("=")[2]) for p in problems]
                         for fmt in FORMATS})


# --------------------------------------------------------------------------- authors
def author_totals() -> pd.DataFrame:
    """Per paper (index, in :data:`PAPERS` order): the ``all roles`` row of the author counts."""
    a = read_csv("paper_authors.csv", dtype={"arxiv": str})
    return a[a["role"] == "all roles"].set_index("paper").loc[list(PAPERS)]


def author_roles() -> pd.DataFrame:
    """The per-role rows of the author counts (every row but ``all roles``), in file order."""
    a = read_csv("paper_authors.csv", dtype={"arxiv": str})
    return a[a["role"] != "all roles"].reset_index(drop=True)


def arxiv_months_between(first: str, second: str) -> int:
    """Months from one arXiv id's month to another's (ids are ``YYMM.NNNNN``).

    Raises:
        ValueError: if an id does not start with a valid ``YYMM``.
    """
    def month(name: str, arxiv: str) -> int:
        head = arxiv.split(".")[0] if isinstance(arxiv, str) else ""
        if len(head) != 4 or not head.isdigit() or not 1 <= int(head[2:]) <= 12:
            raise ValueError(f"{name} must be an arXiv id like YYMM.NNNNN, got {arxiv!r}")
        return int(head[:2]) * 12 + int(head[2:])

    return month("second", second) - month("first", first)


@dataclass(frozen=True)
class TeamFacts:
    """What the three author lists show, counted from ``data/paper_authors.csv``.

    Attributes:
        re_v2, re_v3: names in the research and engineering role of the V2 and V3 reports.
        months_v2_v3: months between the two reports (arXiv ids).
        v3_entries, v3_names: entries and distinct names in the V3 list (two people
            appear in two roles).
        v3_new_names: distinct names on the V3 report that are not on the V2 report.
        departed_v3, departed_r1: names each list marks as having left the team.
        r1_names, r1_core: distinct names on the R1 paper, and its core contributors.
        r1_in_v3: R1 names that are also on the V3 report.
    """

    re_v2: int
    re_v3: int
    months_v2_v3: int
    v3_entries: int
    v3_names: int
    v3_new_names: int
    departed_v3: int
    departed_r1: int
    r1_names: int
    r1_core: int
    r1_in_v3: int

    @property
    def re_growth(self) -> float:
        """Relative growth of the research and engineering list from V2 to V3."""
        return self.re_v3 / self.re_v2 - 1

    @property
    def r1_share_in_v3(self) -> float:
        """Share of the R1 paper's names that are also on the V3 report."""
        return self.r1_in_v3 / self.r1_names


def team_facts() -> TeamFacts:
    """Count :class:`TeamFacts` from the author lists."""
    totals = author_totals()
    by_role = author_roles().set_index(["paper", "role"])["entries"]
    v2, v3, r1 = (totals.loc[p] for p in PAPERS)
    return TeamFacts(
        re_v2=int(by_role[("DeepSeek-V2", "Research & Engineering")]),
        re_v3=int(by_role[("DeepSeek-V3", "Research & Engineering")]),
        months_v2_v3=arxiv_months_between(v2["arxiv"], v3["arxiv"]),
        v3_entries=int(v3["entries"]), v3_names=int(v3["unique_names"]),
        # V2's names_also_in_v3 counts V2 names found on V3; the rest of V3 is new
        v3_new_names=int(v3["unique_names"] - v2["names_also_in_v3"]),
        departed_v3=int(v3["marked_departed"]), departed_r1=int(r1["marked_departed"]),
        r1_names=int(r1["unique_names"]),
        r1_core=int(by_role[("DeepSeek-R1", "Core Contributors")]),
        r1_in_v3=int(r1["names_also_in_v3"]),
    )


def r1_names_on_v3() -> float:
    """Share of the R1 paper's distinct names that are also on the V3 report."""
    return team_facts().r1_share_in_v3
