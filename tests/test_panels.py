"""explainer.panels: labelled forms, escaped values, bad arguments refused."""

from __future__ import annotations

import re

import pytest

from explainer import panels


@pytest.mark.parametrize("make", [panels.reasoner, panels.run, panels.mtp, panels.moe])
def test_a_panel_is_a_labelled_form_with_a_button_and_an_output(make):
    html = make()
    assert html.startswith('<form class="explainer-run"')
    ids = re.findall(r'id="([^"]+)"', html)
    assert len(ids) == len(set(ids)), "duplicate ids"
    for target in re.findall(r'<label for="([^"]+)"', html):
        assert target in ids, f"a label points at no field: {target}"
    assert '<button type="submit">' in html and "<output" in html and 'role="status"' in html


def test_values_are_escaped_and_keys_keep_ids_apart():
    hostile = '"><script>alert(1)</script>'
    assert "<script>" not in panels.mtp(prompt=hostile)
    assert "<script>" not in panels.moe(sentence=hostile)
    assert "<script>" not in panels.run(problems=[hostile])
    a, b = panels.reasoner(key="a"), panels.reasoner(key="b")
    assert set(re.findall(r'id="([^"]+)"', a)).isdisjoint(re.findall(r'id="([^"]+)"', b))


@pytest.mark.parametrize("call, match", [
    (lambda: panels.reasoner(models=("nope",)), "models must be among"),
    (lambda: panels.reasoner(default_model="direct", models=("cot",)), "default_model"),
    (lambda: panels.reasoner(samples=17), "samples"),
    (lambda: panels.reasoner(temperature=3), "temperature"),
    (lambda: panels.mtp(chars=0), "chars"),
    (lambda: panels.mtp(prompt=""), "prompt"),
    (lambda: panels.moe(sentence="x"), "sentence"),
    (lambda: panels.moe(key="no spaces"), "key"),
    (lambda: panels.show("<p>not a panel</p>"), "panel must be"),
    (lambda: panels.show(panels.run(), live=("controls",)), "live must be"),
    (lambda: panels.run(step=4), "step must be one of"),
    (lambda: panels.run(step=True), "step must be one of"),
    (lambda: panels.run(problems="12+3"), "problems must be a list"),
    (lambda: panels.run(problems=[f"{i}+1" for i in range(9)]), "problems must be a list"),
    (lambda: panels.run(samples=0), "samples"),
    (lambda: panels.run(temperature=-1), "temperature"),
])
def test_bad_arguments_are_refused(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_the_run_panel_offers_every_checkpoint_of_the_run():
    from explainer import grpo

    steps = [int(s) for s in re.findall(r'<option value="(\d+)"', panels.run(step=25))]
    assert steps == list(grpo.RUN_CHECKPOINTS)
    assert '<option value="25" selected>' in panels.run(step=25)


def test_the_run_panels_notebook_twin_samples_the_checkpoint():
    """In JupyterLab the panel's place holds the same models run in Python: greedy answers at
    a step are that checkpoint's, and the caption counts scratchpads and right answers."""
    from explainer import grpo
    from explainer.figures.grpo import checkpoint_answers

    shown = checkpoint_answers("48765+25937, 99999+1", 150, samples=1, temperature=0.0)
    want = [t[0] for t in grpo.load_checkpoint(150).generate(["48765+25937", "99999+1"])]
    assert list(shown.data["answer"]) == [t.partition("=")[2] for t in want]
    assert "100% were right" in shown.caption and "2 answers" in shown.caption
    for bad, match in (("", "1 to 8 additions"), (", ".join(["1+1"] * 9), "1 to 8 additions"),
                       (12, "problems must be a string")):
        with pytest.raises(ValueError, match=match):
            checkpoint_answers(bad, 0)
    with pytest.raises(ValueError, match="step must be one of"):
        checkpoint_answers("1+1", 7)


def test_the_reasoner_panels_notebook_twin_asks_the_python_model():
    """In JupyterLab the "ask the model" panel's place holds the same choices, run in Python:
    greedy answers are the shipped model's, counted and voted in the caption."""
    from explainer import reasoning
    from explainer.figures.reasoning import ask, ask_live

    controls, compute = ask_live(("cot", "grpo"), default_model="grpo", samples=4)
    assert [c.name for c in controls] == ["problem", "model", "temperature", "samples", "ask"]
    assert compute is ask
    shown = ask("48765 + 25937", "cot", 0.0, 2)
    want = reasoning.load_pretrained("cot").generate(["48765+25937"])[0][0]
    assert list(shown.data["what the model wrote"]) == [want.partition("=")[2]] * 2
    assert shown.caption.startswith("2 of 2 right (48765+25937 = 74702)")
    assert "majority vote: 74702 (right)" in shown.caption
    for args, match in ((("12a+3", "cot", 0.0, 1), "problems"), (("1+2", "nope", 0.0, 1), "model"),
                        ((7, "cot", 0.0, 1), "problem must be")):
        with pytest.raises(ValueError, match=match):
            ask(*args)
