"""The claims ledger: data/claims.csv schema, quotes against the seed articles, HTML rendering."""

import os
import re

import pandas as pd
import pytest

from explainer import claims
from explainer.data import SEEDS_DIR, load_sources


@pytest.fixture(scope="module")
def ledger():
    return claims.load_claims(check_seeds=False)


@pytest.fixture(scope="module")
def seeds_dir():
    """The seed articles beside the checkout: required under CI, optional on a laptop."""
    if not SEEDS_DIR.is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"seed articles not found at {SEEDS_DIR} (CI is set: they must be there)")
        pytest.skip(f"seed articles not found at {SEEDS_DIR}; "
                    "set EXPLAINER_SEEDS or check out beside ../shared")
    return SEEDS_DIR


def _row(**overrides):
    """One valid ledger row (quote taken from seed 000), with fields overridden."""
    row = {
        "claim_id": "C001",
        "seed_file": "000_bb019eff18aa8781.txt",
        "quote": "R1 reasoning model that rivals OpenAI’s o1 series",
        "claim": "R1 is on a par with o1.",
        "verdict": "supported",
        "primary_says": "AIME 79.8 vs 79.2",
        "source_id": "r1_paper",
        "explanation": "level on DeepSeek's table",
        "topic": "benchmarks",
        "chapter": "reasoning",
    }
    row.update(overrides)
    return row


# ------------------------------------------------------------------ the ledger itself

def test_ledger_has_the_exact_columns_and_at_least_60_unique_claims(ledger):
    assert list(ledger.columns) == list(claims.COLUMNS)
    assert len(ledger) >= 60
    assert ledger["claim_id"].is_unique
    assert ledger["claim_id"].str.fullmatch(r"C\d{3}").all()
    # ids are stable and dense: C001..Cnnn in file order
    assert list(ledger["claim_id"]) == [f"C{i:03d}" for i in range(1, len(ledger) + 1)]


def test_ledger_fields_are_filled_and_from_the_allowed_sets(ledger):
    for col in claims.COLUMNS:
        if col != "chapter":
            assert (ledger[col].str.strip() != "").all(), f"empty {col}"
    assert set(ledger["verdict"]) <= set(claims.VERDICTS)
    assert set(ledger["topic"]) <= set(claims.TOPICS)
    assert set(ledger["chapter"]) <= set(claims.CHAPTERS) | {""}


def test_every_source_id_resolves(ledger):
    known = set(load_sources().index)
    used = {s.strip() for v in ledger["source_id"] for s in v.split(";")}
    assert used <= known, sorted(used - known)


def test_every_article_is_covered_and_every_verdict_is_used(ledger):
    assert ledger["seed_file"].nunique() == 5
    assert set(ledger["verdict"]) == set(claims.VERDICTS)


def test_every_seed_file_exists_and_every_quote_occurs_in_it(ledger, seeds_dir):
    for name in ledger["seed_file"].unique():
        assert (seeds_dir / name).is_file(), name
    texts = {n: " ".join((seeds_dir / n).read_text(encoding="utf-8").split())
             for n in ledger["seed_file"].unique()}
    missing = [(r.claim_id, r.quote) for r in ledger.itertuples()
               if " ".join(r.quote.split()) not in texts[r.seed_file]]
    assert not missing
    claims.validate_claims(ledger, seeds_dir)  # the library agrees


def test_quotes_are_short(ledger):
    words = ledger["quote"].str.split().str.len()
    assert (words <= 16).all(), ledger.loc[words > 16, ["claim_id", "quote"]]


def test_rows_citing_only_secondary_sources_say_so_or_are_not_supported(ledger):
    kind = load_sources()["kind"]
    for r in ledger.itertuples():
        kinds = {kind[s.strip()] for s in r.source_id.split(";")}
        if kinds == {"secondary"} and r.verdict == "supported":
            assert "secondary" in (r.primary_says + r.explanation).lower(), r.claim_id


# ------------------------------------------------------------------ validate_claims on bad input

@pytest.fixture()
def tiny_seeds(tmp_path):
    (tmp_path / "000_bb019eff18aa8781.txt").write_text(
        "DeepSeek’s R1 reasoning model that rivals OpenAI’s o1 series\nis here.", encoding="utf-8")
    return tmp_path


def test_validate_accepts_a_good_row_and_normalises_whitespace_only(tiny_seeds):
    claims.validate_claims(pd.DataFrame([_row()]), tiny_seeds)
    spaced = _row(quote="R1  reasoning model\nthat rivals OpenAI’s o1 series")
    claims.validate_claims(pd.DataFrame([spaced]), tiny_seeds)
    straight = _row(quote="R1 reasoning model that rivals OpenAI's o1 series")  # ' is not ’
    with pytest.raises(ValueError, match="quote .* not found"):
        claims.validate_claims(pd.DataFrame([straight]), tiny_seeds)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"verdict": "mostly true"}, r"C001: verdict 'mostly true' not one of"),
        ({"claim": ""}, r"C001: empty field 'claim'"),
        ({"primary_says": "  "}, r"C001: empty field 'primary_says'"),
        ({"source_id": "r1_paper;nope"}, r"C001: source_id 'nope' not in sources.csv"),
        ({"seed_file": "999_missing.txt"}, r"C001: seed file '999_missing.txt' not found"),
        ({"quote": "a phrase the article never uses"}, r"C001: quote .* not found in 000_"),
        ({"topic": "vibes"}, r"C001: topic 'vibes' not one of"),
        ({"chapter": "nowhere"}, r"C001: chapter 'nowhere' not one of"),
        ({"claim_id": "X1"}, r"X1: claim_id must look like C001"),
    ],
)
def test_validate_reports_each_problem(tiny_seeds, overrides, message):
    with pytest.raises(ValueError, match=message):
        claims.validate_claims(pd.DataFrame([_row(**overrides)]), tiny_seeds)


def test_validate_reports_duplicate_ids_and_all_problems_at_once(tiny_seeds):
    df = pd.DataFrame([_row(), _row(verdict="bad", source_id="nope")])
    with pytest.raises(ValueError) as err:
        claims.validate_claims(df, tiny_seeds)
    text = str(err.value)
    assert "claim_id not unique: ['C001']" in text
    assert "verdict 'bad'" in text and "source_id 'nope'" in text


def test_validate_rejects_wrong_columns(tiny_seeds):
    df = pd.DataFrame([_row()]).drop(columns="topic")
    with pytest.raises(ValueError, match="columns must be exactly"):
        claims.validate_claims(df, tiny_seeds)


def test_validate_can_skip_the_seed_files(tmp_path):
    # no seeds at all: only the schema is checked
    df = pd.DataFrame([_row(quote="anything")])
    claims.validate_claims(df, tmp_path / "absent", check_seeds=False)


# ------------------------------------------------------------------ rendering

def _tiny_ledger():
    return pd.DataFrame([
        _row(),
        _row(claim_id="C002", verdict="wrong", topic="moe", chapter="", source_id="sec_o3mini",
             seed_file="004_e09b04f53abad312.txt", quote="x < y & \"z\""),
        _row(claim_id="C003", verdict="projection", topic="scale", chapter="scale_pivot"),
    ])


def test_ledger_html_has_one_row_per_claim_with_data_attributes():
    page = claims.ledger_html(_tiny_ledger())
    assert page.count('<table id="claims-ledger-table"') == 1
    rows = re.findall(r'<tr class="claim-row" id="claim-(C\d+)" data-verdict="(\w+)" '
                      r'data-seed="([^"]+)" data-topic="(\w+)">', page)
    assert rows == [
        ("C001", "supported", "000_bb019eff18aa8781.txt", "benchmarks"),
        ("C002", "wrong", "004_e09b04f53abad312.txt", "moe"),
        ("C003", "projection", "000_bb019eff18aa8781.txt", "scale"),
    ]
    assert 'id="claims-ledger-count"' in page and "3 of 3 claims shown" in page


def test_ledger_html_has_filters_sort_headers_and_links():
    page = claims.ledger_html(_tiny_ledger())
    for key in ("seed", "verdict", "topic"):
        assert f'<select data-filter="{key}">' in page
    # verdict options: "all" plus the verdicts present, in VERDICTS order
    verdict_select = re.search(r'<select data-filter="verdict">(.*?)</select>', page).group(1)
    assert re.findall(r'value="(\w*)"', verdict_select) == ["", "supported", "wrong", "projection"]
    assert len(re.findall(r"<th data-sort-key=", page)) == len(claims._LEDGER_COLUMNS)
    assert 'href="https://arxiv.org/abs/2501.12948"' in page  # r1_paper's url
    assert "(secondary)" in page  # sec_o3mini is marked
    assert 'href="reasoning.html"' in page and 'href="scale_pivot.html"' in page
    assert "x &lt; y &amp; &quot;z&quot;" in page  # escaped
    assert "<script" in page and "src=" not in page.split("<script", 1)[1]  # inline JS only
    assert 'style.display = ok ? "" : "none"' in page


def test_ledger_html_rejects_a_frame_without_ledger_columns():
    with pytest.raises(ValueError, match="missing ledger columns"):
        claims.ledger_html(pd.DataFrame({"claim_id": ["C001"]}))


def test_chapter_claims_html_lists_only_that_chapter_and_links_to_the_ledger():
    page = claims.chapter_claims_html("scale_pivot", _tiny_ledger())
    assert re.findall(r'href="claims_ledger.html#claim-(C\d+)"', page) == ["C003"]
    assert 'href="claims_ledger.html"' in page and "1 claim from" in page
    empty = claims.chapter_claims_html("moe", _tiny_ledger())
    assert "<table" not in empty and 'href="claims_ledger.html"' in empty


def test_show_claims_displays_html_and_rejects_unknown_chapters(monkeypatch):
    import IPython.display

    shown = []
    monkeypatch.setattr(IPython.display, "display", lambda obj: shown.append(obj))
    assert claims.show_claims("reasoning", _tiny_ledger()) is None
    assert len(shown) == 1 and isinstance(shown[0], IPython.display.HTML)
    assert 'href="claims_ledger.html#claim-C001"' in shown[0].data
    with pytest.raises(ValueError, match=r"chapter must be one of \['sputnik'"):
        claims.show_claims("appendix", _tiny_ledger())


def test_every_chapter_named_in_the_ledger_exists(ledger):
    from pathlib import Path

    chapters = Path(__file__).resolve().parents[1] / "chapters"
    for name in set(ledger["chapter"]) - {""}:
        assert (chapters / f"{name}.ipynb").exists(), name


def test_verdict_counts_and_chart(ledger):
    counts = claims.verdict_counts(ledger)
    assert list(counts.columns) == list(claims.VERDICTS)
    assert counts.to_numpy().sum() == len(ledger)
    spec = claims.verdicts_chart(ledger).to_dict()
    assert spec["mark"]["type"] == "bar"
    assert spec["encoding"]["color"]["scale"]["domain"] == list(claims.VERDICTS)
    assert spec["params"][0]["bind"] == "legend"


# ------------------------------------------------------------- the table's JavaScript, in Chromium

VISIBLE_IDS = ("() => [...document.querySelectorAll('#claims-ledger-table tr.claim-row')]"
               ".filter(r => r.style.display !== 'none').map(r => r.id)")


@pytest.mark.browser
def test_ledger_table_filters_searches_and_sorts_in_a_browser(browser):
    """The self-contained table alone on a page (no book build needed)."""
    page = browser.new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    # as on the book page: the section titled "Claims ledger" gets the id "claims-ledger" too,
    # and holds other tables before the ledger
    page.set_content('<html><body><section id="claims-ledger"><h1>Claims ledger</h1>'
                     '<table><tbody><tr><td>another table</td></tr></tbody></table>'
                     f"{claims.ledger_html(_tiny_ledger())}</section></body></html>")
    count = page.locator("#claims-ledger-count")
    assert page.evaluate(VISIBLE_IDS) == ["claim-C001", "claim-C002", "claim-C003"]
    assert count.inner_text() == "3 of 3 claims shown"

    page.select_option("select[data-filter=verdict]", "wrong")
    assert page.evaluate(VISIBLE_IDS) == ["claim-C002"]
    assert count.inner_text() == "1 of 3 claims shown"
    page.select_option("select[data-filter=topic]", "scale")  # filters combine: nothing left
    assert page.evaluate(VISIBLE_IDS) == [] and count.inner_text() == "0 of 3 claims shown"
    page.select_option("select[data-filter=verdict]", "")
    assert page.evaluate(VISIBLE_IDS) == ["claim-C003"]
    page.select_option("select[data-filter=topic]", "")
    page.select_option("select[data-filter=seed]", "004_e09b04f53abad312.txt")
    assert page.evaluate(VISIBLE_IDS) == ["claim-C002"]
    page.select_option("select[data-filter=seed]", "")

    page.fill("#claims-ledger-search", "X < Y")  # case-insensitive, matches the escaped quote
    assert page.evaluate(VISIBLE_IDS) == ["claim-C002"]
    page.fill("#claims-ledger-search", "")

    order = "() => [...document.querySelectorAll('#claims-ledger-table tr.claim-row')].map(r => r.id)"
    header = page.locator('#claims-ledger-table th[data-sort-key="verdict"]')
    header.click()  # VERDICTS order: supported, wrong, projection
    assert page.evaluate(order) == ["claim-C001", "claim-C002", "claim-C003"]
    assert header.get_attribute("aria-sort") == "ascending"
    header.click()
    assert page.evaluate(order) == ["claim-C003", "claim-C002", "claim-C001"]
    assert header.get_attribute("aria-sort") == "descending"
    page.locator('#claims-ledger-table th[data-sort-key="topic"]').click()  # benchmarks, moe, scale
    assert page.evaluate(order) == ["claim-C001", "claim-C002", "claim-C003"]
    assert errors == []
    page.close()
