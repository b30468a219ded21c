"""explainer.panels: labelled forms, escaped values, bad arguments refused."""

from __future__ import annotations

import re

import pytest

from explainer import panels


@pytest.mark.parametrize("make", [panels.reasoner, panels.mtp, panels.moe])
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
])
def test_bad_arguments_are_refused(call, match):
    with pytest.raises(ValueError, match=match):
        call()
