"""The claims ledger: data/claims.csv schema, quotes against the seed articles, HTML rendering."""

import os
import re
from pathlib import Path

import pandas as pd
import pytest

from explainer import claims, ledger_html, outcomes
from explainer.data import SEEDS_DIR, load_sources, split_source_ids
from explainer.figures import ledger as ledger_figures


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
        "searched": "",
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
        if col not in ("chapter", "searched"):
            assert (ledger[col].str.strip() != "").all(), f"empty {col}"
    assert set(ledger["verdict"]) <= set(claims.VERDICTS)
    assert set(ledger["topic"]) <= set(claims.TOPICS)
    assert set(ledger["chapter"]) <= set(claims.CHAPTERS) | {""}


def test_every_source_id_resolves(ledger):
    known = set(load_sources().index)
    used = {s for v in ledger["source_id"] for s in split_source_ids(v)}
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
        kinds = {kind[s] for s in split_source_ids(r.source_id)}
        if kinds == {"secondary"} and r.verdict == "supported":
            assert "secondary" in (r.primary_says + r.explanation).lower(), r.claim_id


def test_every_unverifiable_row_says_what_was_searched(ledger):
    """Unverifiable means "looked, and no source settles it": the row says where it looked."""
    rows = ledger[ledger["verdict"] == "unverifiable"]
    assert len(rows) > 0
    empty = rows.loc[rows["searched"].str.strip().str.len() < 20, "claim_id"].tolist()
    assert not empty, f"unverifiable rows without a 'searched' note: {empty}"
    # a note names when the search was made
    undated = rows.loc[~rows["searched"].str.contains(r"20\d\d-\d\d-\d\d"), "claim_id"].tolist()
    assert not undated, undated


def test_every_settled_verdict_cites_evidence_beyond_the_seed(ledger):
    """supported / approximate / wrong rows cite a primary or secondary source, not only the
    seed article or the book's own arithmetic."""
    kind = load_sources()["kind"]
    settled = ledger[ledger["verdict"].isin(claims.CHECKED_VERDICTS)]
    assert len(settled) > 0
    bare = [r.claim_id for r in settled.itertuples()
            if not {kind[s] for s in split_source_ids(r.source_id)} & {"primary", "secondary"}]
    assert not bare, bare


def test_source_support_splits_each_verdict_by_its_best_source(ledger):
    table = claims.source_support(ledger)
    assert list(table.index) == list(claims.VERDICTS)
    assert list(table.columns) == ["primary", "secondary only", "neither", "total"]
    assert table["total"].sum() == len(ledger)
    assert (table[["primary", "secondary only", "neither"]].sum(axis=1) == table["total"]).all()
    assert (table.loc[list(claims.CHECKED_VERDICTS), "neither"] == 0).all()
    # hand-checked rows: C002 cites r1_paper (primary), C038 only Andreessen's reported post
    tiny = ledger[ledger["claim_id"].isin(["C002", "C038"])]
    small = claims.source_support(tiny)
    assert small.loc["supported", "primary"] == 1 and small.loc["supported", "secondary only"] == 1
    assert small["total"].sum() == 2


def test_changed_verdicts_follow_their_evidence(ledger):
    """Rows re-judged for issue 18 (each change is listed in the closing note)."""
    verdict = ledger.set_index("claim_id")["verdict"]
    assert verdict["C067"] == "wrong"  # MTP was inspired by Gloeckle et al., not pioneered
    assert verdict["C083"] == "wrong"  # GPT-4 was $30/$60 or $10/$30; $5 was GPT-4o's input
    assert verdict["C031"] == "approximate"  # free users could only try o3-mini
    assert verdict["C080"] == verdict["C081"] == "approximate"  # both secondary estimates
    assert verdict["C037"] == verdict["C057"] == "supported"  # the same one-tenth comparison
    for cid in ("C021", "C028", "C038", "C049", "C017"):
        assert verdict[cid] == "supported", cid


def test_issue_23_rows_follow_their_evidence(ledger):
    """Rows re-judged for issue 23 (each change is listed in the closing note)."""
    rows = ledger.set_index("claim_id")
    # C093: both translations of DeepSeek's post are cited; most read "all departments"
    assert rows.loc["C093", "verdict"] == "supported"
    assert set(split_source_ids(rows.loc["C093", "source_id"])) == {
        "sec_deepseek_hiring_post", "sec_deepseek_hiring"}
    assert "many teams" in rows.loc["C093", "primary_says"]
    # C044: the $3.2B is ChatGPT plus the API
    assert "sec_openai_revenue_split" in rows.loc["C044", "source_id"]
    assert "ChatGPT subscriptions plus direct API sales" in rows.loc["C044", "primary_says"]
    # C019: the README puts the weights under MIT and notes the bases' original licences
    says = rows.loc["C019", "primary_says"]
    assert "model weights are released under the MIT licence" in says
    assert "originally licensed under Apache 2.0" in says
    # C107 / C111: dated; the 2026 round is cited; C089 re-judged on the reported valuation
    for cid in ("C107", "C111", "C089"):
        assert "sec_deepseek_funding_2026" in rows.loc[cid, "source_id"], cid
        assert "2026" in rows.loc[cid, "primary_says"] + rows.loc[cid, "explanation"], cid
    assert (rows.loc["C107", "verdict"], rows.loc["C111", "verdict"]) == ("wrong", "supported")
    assert rows.loc["C089", "verdict"] == "wrong"
    # C010: the 32,768-token limit is in §3
    assert "32,768 generated tokens per answer (R1 paper §3" in rows.loc["C010", "primary_says"]


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
        ({"verdict": "unverifiable"}, r"C001: unverifiable but 'searched' is empty"),
        ({"verdict": "unverifiable", "searched": "  "}, r"C001: unverifiable but 'searched'"),
        ({"source_id": "seed_000"}, r"C001: verdict 'supported' needs a primary or secondary"),
        ({"verdict": "wrong", "source_id": "seed_000;book"},
         r"C001: verdict 'wrong' needs a primary or secondary source"),
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
    page = ledger_html.ledger_html(_tiny_ledger())
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
    page = ledger_html.ledger_html(_tiny_ledger())
    for key in ("seed", "verdict", "topic"):
        assert f'<select data-filter="{key}">' in page
    # verdict options: "all" plus the verdicts present, in VERDICTS order
    verdict_select = re.search(r'<select data-filter="verdict">(.*?)</select>', page).group(1)
    assert re.findall(r'value="(\w*)"', verdict_select) == ["", "supported", "wrong", "projection"]
    assert len(re.findall(r"<th data-sort-key=", page)) == len(ledger_html.LEDGER_COLUMNS)
    assert 'href="https://arxiv.org/abs/2501.12948"' in page  # r1_paper's url
    assert "(secondary)" in page  # sec_o3mini is marked
    assert 'href="reasoning.html"' in page and 'href="scale_pivot.html"' in page
    assert "x &lt; y &amp; &quot;z&quot;" in page  # escaped
    # the book serves the CSS and JS from static/ (explainer.book); no script in the markup
    assert "<script" not in page and "<style" not in page


def test_ledger_css_and_js_are_static_files_the_book_loads(monkeypatch):
    from explainer import book
    from explainer.charts import STATIC_DIR
    from explainer.widgets import BOOK_BUILD_ENV

    monkeypatch.setenv(BOOK_BUILD_ENV, "")  # book.setup sets it; restored after the test

    for name in ledger_html.STATIC_FILES:
        assert (STATIC_DIR / name).is_file(), name
    js = (STATIC_DIR / "ledger.js").read_text(encoding="utf-8")
    assert 'r.style.display = ok ? "" : "none"' in js
    assert "getElementById" not in js  # looks inside its wrapper (the page reuses the id)
    css, script = ledger_html.STATIC_FILES

    class App:  # records what the extension registers
        def __init__(self):
            self.css, self.js = [], []

        def connect(self, *args):
            pass

        def add_css_file(self, name, **kw):
            self.css.append(name)

        def add_js_file(self, name, **kw):
            self.js.append(name)

    app = App()
    book.setup(app)
    assert css in app.css and script in app.js
    page = ledger_html.ledger_html(_tiny_ledger(), standalone=True)
    assert page.count("<script>") == 1 and "<style>" in page and "src=" not in page


def test_ledger_html_has_four_columns_with_every_field_of_a_claim():
    page = ledger_html.ledger_html(_tiny_ledger())
    heads = re.findall(r'<th data-sort-key="(\w+)"', page)
    assert heads == ["id", "quote", "verdict", "primary"]  # the verdict is within four columns
    row = re.search(r'<tr class="claim-row" id="claim-C001".*?</tr>', page).group(0)
    assert re.findall(r'<td data-key="(\w+)"', row) == heads
    assert "article 000" in row and "In plain words: R1 is on a par with o1." in row
    assert "level on DeepSeek&#x27;s table" in row and "Topic: benchmarks" in row
    assert f'href="reasoning.html">{ledger_html.chapter_title("reasoning")}</a>' in row
    assert "tex2jax_ignore" in page  # two dollar amounts in a row are not typeset as maths


def test_chapter_title_reads_the_pages_heading():
    assert ledger_html.chapter_title("costs") == "What did it cost?"
    assert ledger_html.chapter_title("no_such_page") == "no_such_page"


def test_verdict_totals_count_every_claim_once(ledger):
    totals = claims.verdict_totals(ledger)
    assert list(totals.index) == list(claims.VERDICTS)
    assert totals["claims"].sum() == len(ledger)
    assert abs(totals["share"].sum() - 1) < 1e-12
    tiny = claims.verdict_totals(_tiny_ledger())
    assert tiny["claims"].tolist() == [1, 0, 1, 1, 0]


def test_headline_claims_follow_the_list_and_link_chapter_and_ledger_row(ledger):
    top = claims.headline_claims(ledger)
    picks = [item[0] for items in claims.HEADLINES.values() for item in items]
    assert top["claim_id"].tolist() == picks and top["claim_id"].is_unique
    assert top["group"].tolist()[0] == "The money" and (top["chapter"] != "").all()
    chapters = Path(__file__).resolve().parents[1] / "chapters"
    assert all((chapters / f"{c}.ipynb").exists() for c in top["chapter"])
    # a forecast links to the chapter that checks it against what happened
    assert top.set_index("claim_id").loc["C088", "chapter"] == "what_next"
    page = ledger_html.headlines_html(top)
    assert page.count('<li class="claims-headline"') == len(picks)
    for r in top.itertuples():
        assert f'href="claims_ledger.html#claim-{r.claim_id}"' in page
        assert f'href="{r.chapter}.html"' in page
    # a forecast shows its verdict, then what happened since, linked to what_next
    assert top.set_index("claim_id").loc["C002", "chapter"] == "at_a_glance"
    after = ledger_html.headlines_html(top, outcomes.load_outcomes())
    assert "what happened: partly (2026)" in after and after.count("claims-headline-outcome") == 3
    assert "claims-headline-outcome" not in page
    with pytest.raises(ValueError, match="HEADLINES names claims not in the ledger"):
        claims.headline_claims(_tiny_ledger())
    with pytest.raises(ValueError, match="headline_claims"):
        ledger_html.headlines_html(_tiny_ledger())


def test_recomputed_claims_redo_the_ledgers_arithmetic(ledger):
    checks = claims.recomputed_claims(ledger).set_index("claim")
    assert list(checks.index) == ["C077", "C069", "C057", "C003", "C101"]
    assert abs(checks.loc["C077", "value"] - 1.0206e24) < 1e21
    assert checks.loc["C077", "recomputed"] == "1.02 × 10²⁴ FLOPs"
    assert checks.loc["C057", "recomputed"] == "9.0%"
    assert checks.loc["C003", "recomputed"] == "96.4% less"
    assert checks.loc["C101", "recomputed"] == "$1.75 billion"
    assert checks["verdict"].tolist() == [ledger.set_index("claim_id").loc[c, "verdict"]
                                          for c in checks.index]


def test_ledger_html_rejects_a_frame_without_ledger_columns():
    with pytest.raises(ValueError, match="missing ledger columns"):
        ledger_html.ledger_html(pd.DataFrame({"claim_id": ["C001"]}))


def test_chapter_claims_html_lists_only_that_chapter_and_links_to_the_ledger():
    page = ledger_html.chapter_claims_html("scale_pivot", _tiny_ledger())
    assert re.findall(r'href="claims_ledger.html#claim-(C\d+)"', page) == ["C003"]
    assert 'href="claims_ledger.html"' in page and "1 claim from" in page
    empty = ledger_html.chapter_claims_html("moe", _tiny_ledger())
    assert "<table" not in empty and 'href="claims_ledger.html"' in empty


def test_show_claims_displays_html_and_rejects_unknown_chapters(monkeypatch):
    import IPython.display

    shown = []
    monkeypatch.setattr(IPython.display, "display", lambda obj: shown.append(obj))
    from explainer.ledger_html import show_claims

    assert show_claims("reasoning", _tiny_ledger()) is None
    assert len(shown) == 1 and isinstance(shown[0], IPython.display.HTML)
    assert 'href="claims_ledger.html#claim-C001"' in shown[0].data
    with pytest.raises(ValueError, match=r"chapter must be one of \['sputnik'"):
        show_claims("appendix", _tiny_ledger())


def test_every_chapter_named_in_the_ledger_exists(ledger):
    from pathlib import Path

    chapters = Path(__file__).resolve().parents[1] / "chapters"
    for name in set(ledger["chapter"]) - {""}:
        assert (chapters / f"{name}.ipynb").exists(), name


def test_verdict_counts_and_chart(ledger):
    counts = claims.verdict_counts(ledger)
    assert list(counts.columns) == list(claims.VERDICTS)
    assert counts.to_numpy().sum() == len(ledger)
    chart = ledger_figures.verdicts_chart(ledger)
    spec = chart.to_dict()  # validates against Altair's Vega-Lite schema
    assert spec["mark"]["type"] == "bar"
    assert spec["encoding"]["color"]["scale"]["domain"] == list(claims.VERDICTS)
    assert spec["params"][0]["bind"] == "legend"
    assert len(spec["description"]) > 20
    from explainer.figures._base import spec_bytes

    assert spec_bytes(chart) < 300_000


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
                     f"{ledger_html.ledger_html(_tiny_ledger(), standalone=True)}"
                     "</section></body></html>")
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
    page.locator('#claims-ledger-table th[data-sort-key="id"]').click()  # C001, C002, C003
    assert page.evaluate(order) == ["claim-C001", "claim-C002", "claim-C003"]
    page.locator('#claims-ledger-table th[data-sort-key="id"]').press("Enter")  # keyboard too
    assert page.evaluate(order) == ["claim-C003", "claim-C002", "claim-C001"]
    assert errors == []
    page.close()


@pytest.mark.browser
def test_ledger_fits_the_text_column_and_shows_the_verdict_first_on_a_phone(browser):
    """690 px column: the four columns fit without scrolling; 390 px: one card per claim,
    the verdict on its first line and inside the screen."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    table = ledger_html.ledger_html(_tiny_ledger(), standalone=True)
    page.set_content(f'<html><body><div id="col" style="width:690px">{table}</div></body></html>')
    fits = "() => { const t = document.querySelector('#claims-ledger-table');" \
           " return t.getBoundingClientRect().width <= 690 + 0.5; }"
    assert page.evaluate(fits)
    page.set_viewport_size({"width": 390, "height": 800})
    page.evaluate("document.getElementById('col').style.width = '358px'")
    boxes = page.evaluate("""() => {
      const row = document.querySelector('#claim-C002');
      const box = k => row.querySelector('td[data-key="' + k + '"]').getBoundingClientRect();
      return {verdict: box('verdict'), quote: box('quote'), id: box('id'),
              display: getComputedStyle(row).display, width: window.innerWidth};
    }""")
    assert boxes["display"] == "flex"  # a card
    assert boxes["verdict"]["right"] <= boxes["width"]
    assert boxes["verdict"]["top"] < boxes["quote"]["top"]  # the verdict comes first
    assert boxes["verdict"]["left"] <= boxes["id"]["left"]
    # the filter still hides cards
    page.select_option("select[data-filter=verdict]", "wrong")
    assert page.evaluate(VISIBLE_IDS) == ["claim-C002"]
    page.close()


@pytest.mark.browser
@pytest.mark.parametrize(("suffix", "target"), [("?article=004", "#claims-ledger-wrap"),
                                                ("#claim-C003", "#claim-C003")])
def test_a_link_to_an_articles_claims_lands_on_the_table(browser, tmp_path, suffix, target):
    """The intro's "?article=004" and the verdicts page's "#claim-C003" scroll the table (or
    the row) into view, even when the content above it grows after the page loads."""
    page_file = tmp_path / "ledger.html"
    page_file.write_text(
        '<html><body><div id="above" style="height:4000px">charts</div>'
        f"{ledger_html.ledger_html(_tiny_ledger(), standalone=True)}"
        '<div style="height:2000px"></div>'
        # a chart drawn late: the content above the table grows by 1500 px
        "<script>setTimeout(() => { document.getElementById('above').style.height = "
        "'5500px'; }, 300);</script></body></html>", encoding="utf-8")
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.goto(page_file.as_uri() + suffix)
    page.wait_for_timeout(900)
    top = page.evaluate(f"document.querySelector('{target}').getBoundingClientRect().top")
    assert 0 <= top < 120, top
    if suffix.startswith("?"):
        assert page.evaluate(VISIBLE_IDS) == ["claim-C002"]
    page.close()
