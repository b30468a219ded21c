"""Every figure function refuses a missing or malformed frame by name (issue #25).

Each public function of every ``explainer.figures`` module that takes pandas frames is called
with ``None`` where a frame belongs (unless ``None`` is allowed), an empty frame, a frame of
the wrong kind, and a frame without the columns it reads. Each call must end in a
``ValueError`` naming that parameter: never a deep pandas ``KeyError``, an ``AttributeError``
or an empty chart. ``finish`` refuses a description that quotes a missing number and a chart
whose encodings read a field its data lacks.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import altair as alt
import pandas as pd
import pytest

import explainer.figures as figures
from explainer.figures._base import _frame_params, finish


def _cases():
    for info in pkgutil.iter_modules(figures.__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"explainer.figures.{info.name}")
        for name, fn in sorted(vars(module).items()):
            if name.startswith("_") or not inspect.isfunction(fn) or fn.__module__ != module.__name__:
                continue
            frames = _frame_params(inspect.unwrap(fn))
            sig = inspect.signature(fn)
            required = [p for p, v in sig.parameters.items()
                        if v.default is inspect.Parameter.empty
                        and v.kind not in (v.VAR_POSITIONAL, v.VAR_KEYWORD)]
            for param, optional in frames.items():
                series = "Series" in str(sig.parameters[param].annotation)
                wrong_kind = pd.DataFrame({"x": [1]}) if series else pd.Series([1.0])
                bad = {"empty": pd.Series(dtype=float) if series else pd.DataFrame(),
                       "wrong kind": wrong_kind if "DataFrame" not in str(
                           sig.parameters[param].annotation) or not series else None}
                if not optional:
                    bad["None"] = None
                if not series and set(required) <= {param}:  # no other argument to invent
                    bad["without its columns"] = pd.DataFrame({"unexpected": [1.0, 2.0]})
                for case, value in bad.items():
                    if case == "wrong kind" and value is None:
                        continue
                    yield pytest.param(fn, param, required, frames, value,
                                       id=f"{info.name}.{name}({param}: {case})")


CASES = list(_cases())


def test_there_are_cases_in_every_module():
    modules = {c.id.split(".")[0] for c in CASES}
    assert len(CASES) > 250 and len(modules) >= 14, (len(CASES), sorted(modules))


@pytest.mark.parametrize("fn, param, required, frames, value", CASES)
def test_a_malformed_frame_is_refused_by_name(fn, param, required, frames, value):
    kwargs = {p: pd.DataFrame({"unexpected": [1.0]}) for p in required if p in frames}
    for p in required:
        if p not in frames:
            kwargs[p] = 1  # other arguments: any value (the frame is checked first)
    kwargs[param] = value
    with pytest.raises(ValueError, match=param):
        fn(**kwargs)


def test_finish_refuses_a_description_with_a_missing_number():
    chart = alt.Chart(pd.DataFrame({"a": [1]})).mark_point().encode(x="a:Q")
    with pytest.raises(ValueError, match="nan"):
        finish(chart, description="The share of right answers is nan% after training.")
    finish(chart, description="The share of right answers is 94% after a financial year.")


def test_finish_refuses_a_chart_that_reads_a_field_its_data_lacks():
    data = pd.DataFrame({"a": [1], "b": [2]})
    with pytest.raises(ValueError, match="'c'"):
        finish(alt.Chart(data).mark_point().encode(x="a:Q", y="c:Q"),
               description="A point for each run, by size and loss.")
    made = alt.Chart(data).transform_calculate(c="datum.a * 2").mark_point().encode(
        x="a:Q", y="c:Q", tooltip=["b", alt.Tooltip("count():Q")])
    finish(made, description="A point for each run, by size and loss.")
    layered = alt.layer(alt.Chart().mark_point().encode(x="a:Q"),
                        alt.Chart().mark_line().encode(x="zz:Q"), data=data)
    with pytest.raises(ValueError, match="'zz'"):
        finish(layered, description="A point for each run, by size and loss.")
