"""The story chapters' data: seed-article tables, paper author counts, the event timeline.

The seed tables (``data/seed_tables/``) copy tables that seed article 004 prints
as data. Each row must be flagged as the article's (``status``), cite ``seed_004``,
and match the article: the printed cells, joined back into a markdown table row,
must occur verbatim in the article, and the numeric columns must be what the
printed text says. The articles live beside the checkout (``../shared/seeds``);
under CI their absence is a failure, elsewhere those checks are skipped with a
reason.
"""

from __future__ import annotations

import math
import os
import re

import pytest

from explainer.data import DATA_DIR, SEEDS_DIR, load_sources, read_csv, split_source_ids

SEED_004 = "004_e09b04f53abad312.txt"
STATUSES = {"projection", "article_estimate"}

# table -> the printed (as-in-the-article) columns, in the article's column order
PRINTED = {
    "seed_tables/seed004_valuations.csv": [
        "company", "strategy", "key_advantage", "key_risk", "funding_valuation_as_printed"],
    "seed_tables/seed004_eras.csv": [
        "metric", "efficiency_era_2024_as_printed", "scale_era_2026_as_printed"],
}


@pytest.fixture(scope="module")
def seed_004_lines() -> set[str]:
    path = SEEDS_DIR / SEED_004
    if not path.exists():
        if os.environ.get("CI"):
            pytest.fail(f"seed article missing under CI: {path}")
        pytest.skip(f"seed articles not beside the checkout ({SEEDS_DIR})")
    return {line.strip() for line in path.read_text(encoding="utf-8").splitlines()}


def _number(text: str) -> tuple[float, float]:
    """(low, high) of a printed figure: '~1e25 FLOPs' -> 1e25, '$0.10 - $0.50' -> (0.1, 0.5).

    An independent re-reading of the printed cell, to check the CSV's numeric columns.
    """
    scale = {"": 1.0, "B": 1e9, "T": 1e12}
    values = [float(m.group(1).replace(",", "")) * scale[m.group(2)]
              for m in re.finditer(r"((?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:e\d+)?)([BT]?)", text)
              if not re.fullmatch(r"20\d\d", m.group(1))]  # a year in brackets is not a value
    assert values, f"no number in {text!r}"
    return values[0], values[-1]


@pytest.mark.parametrize("name", sorted(PRINTED))
def test_seed_table_rows_are_flagged_and_cite_seed_004(name):
    df = read_csv(name, dtype={"source_id": str})
    assert len(df) >= 4
    assert set(df["source_id"]) == {"seed_004"}
    assert set(df["status"]) <= STATUSES, set(df["status"]) - STATUSES
    assert df[PRINTED[name]].notna().all().all()
    assert df["note"].str.strip().str.len().gt(0).all()


def test_seed_table_2026_figures_are_projections():
    vals = read_csv("seed_tables/seed004_valuations.csv")
    assert (vals.loc[vals["valuation_year"] == 2026, "status"] == "projection").all()
    assert (vals.loc[vals["valuation_year"] < 2026, "status"] == "article_estimate").all()
    eras = read_csv("seed_tables/seed004_eras.csv")
    assert (eras["status"] == "projection").all()  # every row carries a 2026 projection


@pytest.mark.parametrize("name", sorted(PRINTED))
def test_seed_table_rows_occur_verbatim_in_the_article(name, seed_004_lines):
    df = read_csv(name, dtype=str, keep_default_na=False)
    missing = [row for row in ("| " + " | ".join(r) + " |" for r in df[PRINTED[name]].values)
               if row not in seed_004_lines]
    assert not missing, f"rows not in {SEED_004}: {missing}"


def test_valuation_numbers_match_printed_text():
    df = read_csv("seed_tables/seed004_valuations.csv")
    for _, row in df.iterrows():
        low, _ = _number(row["funding_valuation_as_printed"])
        assert math.isclose(low, row["valuation_usd"]), row["company"]
        assert str(row["valuation_year"]) in row["funding_valuation_as_printed"]


def test_era_numbers_match_printed_text():
    df = read_csv("seed_tables/seed004_eras.csv")
    for _, row in df.iterrows():
        for era, printed in (("2024", "efficiency_era_2024_as_printed"),
                             ("2026", "scale_era_2026_as_printed")):
            low, high = _number(row[printed])
            assert math.isclose(low, row[f"value_{era}_low"]), (row["metric"], era)
            assert math.isclose(high, row[f"value_{era}_high"]), (row["metric"], era)


def test_number_reader_reads_the_article_formats():
    assert _number("~100B parameters") == (1e11, 1e11)
    assert _number("$0.10 - $0.50") == (0.1, 0.5)
    assert _number("~1,500") == (1500, 1500)
    assert _number("$300B+ (2026, est.)") == (3e11, 3e11)
    assert _number("~1e26 FLOPs") == (1e26, 1e26)


def test_paper_author_totals_add_up():
    df = read_csv("paper_authors.csv")
    assert list(df["paper"].unique()) == ["DeepSeek-V2", "DeepSeek-V3", "DeepSeek-R1"]
    for paper, rows in df.groupby("paper"):
        total = rows[rows["role"] == "all roles"].iloc[0]
        parts = rows[rows["role"] != "all roles"]
        assert total["entries"] == parts["entries"].sum(), paper
        assert total["marked_departed"] == parts["marked_departed"].sum(), paper
        # a name can appear in two roles, never more names than entries
        assert parts["unique_names"].max() <= total["unique_names"] <= total["entries"], paper
    r1 = df[(df["paper"] == "DeepSeek-R1") & (df["role"] == "all roles")].iloc[0]
    assert (r1["entries"], r1["unique_names"], r1["marked_departed"]) == (195, 194, 6)
    assert r1["names_also_in_v3"] == 191
    # V3 overlaps itself fully; no role can share more names with V3 than it has
    assert (df["names_also_in_v3"] <= df["unique_names"]).all()
    v3 = df[df["paper"] == "DeepSeek-V3"]
    assert (v3["names_also_in_v3"] == v3["unique_names"]).all()


def test_story_events_are_dated_sourced_and_flag_secondary_sources():
    df = read_csv("story_events.csv", parse_dates=["date"])
    assert df["date"].is_monotonic_increasing
    kinds = load_sources()["kind"]
    for _, row in df.iterrows():
        ids = split_source_ids(row["source_id"])
        assert row["is_secondary"] == any(kinds[i] == "secondary" for i in ids), row["event"]
    assert set(df["kind"]) <= {"release", "market", "response"}


def test_split_source_ids_reads_one_cell():
    assert split_source_ids("v3_report; llama31_card;book") == ["v3_report", "llama31_card", "book"]
    assert split_source_ids("r1_paper") == ["r1_paper"]
    assert split_source_ids("") == [] and split_source_ids(None) == []
    assert split_source_ids(float("nan")) == [] and split_source_ids(" ; ") == []


def test_seed_tables_are_listed_in_data_readme():
    text = (DATA_DIR / "README.md").read_text(encoding="utf-8")
    for name in [*PRINTED, "paper_authors.csv", "story_events.csv"]:
        assert name in text, f"{name} has no section in data/README.md"



def test_benchmarks_are_the_whole_of_table_4_where_o1_1217_is_reported():
    """All ten benchmarks of the R1 paper's Table 4 with an o1-1217 figure, one metric each."""
    df = read_csv("benchmarks.csv")
    assert set(df["source_id"]) == {"r1_paper"}
    assert set(df["model"]) == {"DeepSeek-R1", "OpenAI o1-1217"}
    assert df.groupby("benchmark")["model"].nunique().eq(2).all()
    scores = df.pivot_table(index="benchmark", columns="model", values="score")
    assert len(scores) == len(df) // 2 == 10
    # the two rows an earlier version missed, as printed in Table 4 (and the R1 README)
    assert tuple(scores.loc["DROP"]) == (92.2, 90.2)
    assert tuple(scores.loc["SimpleQA"]) == (30.1, 47.0)
    gap = scores["DeepSeek-R1"] - scores["OpenAI o1-1217"]
    assert int((gap > 0).sum()) == 5
    assert gap.abs().idxmax() == "SimpleQA" and round(-gap["SimpleQA"], 1) == 16.9
