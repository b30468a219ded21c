"""The models run in the reader's browser (issue #24), on the built site, offline.

The page downloads no model and no runtime until a button is pressed; then the greedy text
in the page equals torch's, character for character; sampled answers are right about as
often as the Python model's; bad input gets a message beside the box.
"""

from __future__ import annotations

import pytest

from explainer import reasoning
from test_browser import PageVisit, _pages

pytestmark = pytest.mark.browser


def _panel_page(site, panel: str) -> str:
    """The first chapter page holding a panel of this kind."""
    for path in _pages():
        if path.startswith("chapters/") and f'data-panel="{panel}"' in (site / path).read_text():
            return path
    pytest.fail(f"no page of the book holds a {panel!r} panel")


def _run(page, form, **fields) -> None:
    for name, value in fields.items():
        el = form.locator(f"[name={name}]")
        if el.evaluate("e => e.tagName") == "SELECT":
            el.select_option(str(value))
        else:
            el.fill(str(value))
    runs = form.evaluate("f => Number(f.dataset.runs || 0)")
    form.locator("button[type=submit]").click()
    page.wait_for_function("([f, n]) => Number(f.dataset.runs || 0) > n",
                           arg=[form.element_handle(), runs], timeout=60_000)


def test_the_reasoner_runs_in_the_page_as_it_runs_in_python(browser, site_url, built_site):
    path = _panel_page(built_site, "reasoner")
    v = PageVisit(browser, f"{site_url}/{path}")
    try:
        page = v.page
        fetched = []
        page.on("request", lambda r: fetched.append(r.url))
        page.wait_for_timeout(300)
        assert not [u for u in fetched if u.endswith((".wasm", ".onnx", "ort.wasm.min.js"))], \
            "the runtime or a model was fetched before any button was pressed"
        form = page.locator('form.explainer-run[data-panel="reasoner"]').first
        problems = ["123+456", "99999+1", "4821+3659", "7+5"]
        for name in ("grpo", "cot", "direct"):
            want = [t[0] for t in reasoning.load_pretrained(name).generate(problems)]
            for problem, text in zip(problems, want):
                _run(page, form, problem=problem, model=name, temperature=0, samples=1)
                got = form.locator("li[data-text]").first.get_attribute("data-text")
                assert got == text, f"{name} on {problem}: page {got!r}, torch {text!r}"
        assert [u for u in fetched if u.endswith(".wasm")], "the runtime was never loaded"
        assert v.outside == [] and v.errors == [], (v.outside, v.errors)
    finally:
        v.close()


def test_sampled_answers_are_right_as_often_as_in_python(browser, site_url, built_site):
    """16 samples at temperature 1 on each of 8 five-digit problems from the base model
    (the one that errs often enough to compare): the page's share of right answers is
    within 0.15 of Python's over the same 128 samples (binomial sd at most 0.045 each)."""
    path = _panel_page(built_site, "reasoner")
    v = PageVisit(browser, f"{site_url}/{path}")
    try:
        page, form = v.page, v.page.locator('form.explainer-run[data-panel="reasoner"]').first
        problems = reasoning.make_problems(8, digits=5, seed=11)
        right = 0
        for p in problems:
            _run(page, form, problem=p, model="base", temperature=1, samples=16)
            right += form.locator(".explainer-run-right").count()
        page_share = right / (16 * len(problems))
        py = reasoning.load_pretrained("base")
        py_share = reasoning.accuracy(py, [p for p in problems for _ in range(16)],
                                      temperature=1.0, seed=5)
        assert abs(page_share - py_share) < 0.15, (page_share, py_share)
    finally:
        v.close()


def test_the_run_panel_samples_each_step_as_python_does(browser, site_url, built_site):
    """Greedy answers at three steps of the GRPO run equal torch's; "every step, in turn"
    fills one row per checkpoint, with more scratchpads at the end than at step 0; a
    problem the model cannot read is named beside the box."""
    from explainer import grpo

    path = _panel_page(built_site, "run")
    v = PageVisit(browser, f"{site_url}/{path}")
    try:
        page, form = v.page, v.page.locator('form.explainer-run[data-panel="run"]').first
        problems = ["48765+25937", "99999+1", "7+5"]
        for step in (0, 2, grpo.STEPS):
            want = [t[0] for t in grpo.load_checkpoint(step).generate(problems)]
            _run(page, form, problems=", ".join(problems), step=step, samples=1, temperature=0)
            got = [li.get_attribute("data-text") for li in form.locator("li[data-text]").all()]
            assert got == want, f"step {step}: page {got}, torch {want}"
        runs = form.evaluate("f => Number(f.dataset.runs || 0)")
        form.locator("button[data-action=sweep]").click()
        page.wait_for_function("([f, n]) => Number(f.dataset.runs || 0) > n",
                               arg=[form.element_handle(), runs], timeout=120_000)
        rows = form.locator("tr[data-step]")
        assert [int(r.get_attribute("data-step")) for r in rows.all()] == list(grpo.RUN_CHECKPOINTS)
        share = lambda i: int(rows.nth(i).locator("td").first.inner_text().split("%")[0])  # noqa: E731
        assert share(len(grpo.RUN_CHECKPOINTS) - 1) > share(0)
        _run(page, form, problems="12+3, 4a+1")
        assert '"4a+1"' in form.locator(".explainer-run-status").inner_text()
        assert form.locator("input[name=problems]").get_attribute("aria-invalid") == "true"
        assert v.outside == [] and v.errors == [], (v.outside, v.errors)
    finally:
        v.close()


@pytest.mark.parametrize("text, says", [
    ("12a+3", '"a"'), ("123456+1", "1 to 5 digits"), ("", "Type an addition"),
])
def test_bad_input_gets_a_message_beside_the_box(browser, site_url, built_site, text, says):
    path = _panel_page(built_site, "reasoner")
    v = PageVisit(browser, f"{site_url}/{path}")
    try:
        page, form = v.page, v.page.locator('form.explainer-run[data-panel="reasoner"]').first
        _run(page, form, problem=text)
        status = form.locator(".explainer-run-status").inner_text()
        assert says in status, status
        assert form.locator("input[name=problem]").get_attribute("aria-invalid") == "true"
        assert v.errors == []
    finally:
        v.close()


def test_speculative_decoding_in_the_page_is_lossless_and_matches_python(browser, site_url,
                                                                          built_site):
    from explainer import mtp

    path = _panel_page(built_site, "mtp")
    v = PageVisit(browser, f"{site_url}/{path}")
    try:
        page, form = v.page, v.page.locator('form.explainer-run[data-panel="mtp"]').first
        lm = mtp.load_pretrained("mtp")
        for prompt, n in (("The main model checks the draft", 50), ("Mixture of experts", 30)):
            _run(page, form, prompt=prompt, chars=n)
            want, _ = lm.generate(prompt, n)
            _, stats = lm.generate(prompt, n, speculative=True)
            data = form.evaluate("f => ({...f.dataset})")
            assert data["plain"] == want and data["speculative"] == want, (prompt, data, want)
            assert abs(float(data["acceptance"]) - stats["acceptance_rate"]) < 1e-9
            marked = form.locator("mark.explainer-run-accepted").count()
            assert marked == sum(stats["marks"]), "the accepted drafts are not all marked"
        _run(page, form, prompt="x" * (lm.gpt.config.block_size - 10), chars=30)  # too long
        assert "at most" in form.locator(".explainer-run-status").inner_text()
        _run(page, form, prompt="naïve", chars=5)
        assert '"ï"' in form.locator(".explainer-run-status").inner_text()
        assert v.errors == [] and v.outside == []
    finally:
        v.close()


def test_the_experts_panel_routes_as_the_python_models_do(browser, site_url, built_site):
    from explainer import moe_lm
    from explainer.data import data_path

    path = _panel_page(built_site, "moe")
    v = PageVisit(browser, f"{site_url}/{path}")
    try:
        page, form = v.page, v.page.locator('form.explainer-run[data-panel="moe"]').first
        text = "Experts on call, two per character."
        _run(page, form, sentence=text)
        figs = form.locator("figure.explainer-run-routing")
        assert figs.count() == 3
        for i in range(3):
            run = figs.nth(i).get_attribute("data-run")
            got = [int(x) for x in figs.nth(i).get_attribute("data-experts").split(",")]
            model = moe_lm.load(data_path("weights", f"moe_{run}.pt"))
            model(__import__("torch").tensor([moe_lm.encode(text, model.config.vocab)]))
            want = [int(e) for m in model.moe_layers for row in m.last_routing.indices
                    for e in row]
            assert got == want, run
        _run(page, form, sentence="ünïcode")
        assert "never saw" in form.locator(".explainer-run-status").inner_text()
        assert v.errors == [] and v.outside == []
    finally:
        v.close()
