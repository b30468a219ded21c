"""What every figure shares: a description for screen readers and a width that fits the page."""

from __future__ import annotations

import functools
import inspect
import json
import re
from collections.abc import Callable
from typing import Any

import altair as alt
import pandas as pd

__all__ = ["MissingFieldError", "check_frames", "finish", "spec_bytes"]

_MIN_DESCRIPTION = 20  # characters: a sentence, not a label
_NAN = re.compile(r"\b(nan|NaN|inf)\b")


def finish(chart: Any, *, description: str, width: Any = "container") -> Any:
    """Give ``chart`` its description and (single views and layers) the page's width.

    Args:
        chart: an Altair chart built by a figure function.
        description: one or two sentences saying what the chart shows and what to see;
            it becomes the SVG's accessible name (Vega's ARIA support).
        width: ``"container"`` (fill the text column, down to a phone's width), a number
            of pixels, or ``None`` to leave the chart's own width alone (facets, concats).

    Raises:
        ValueError: if ``description`` is missing, shorter than a sentence, or quotes a
            missing number ("nan").
    """
    if not isinstance(description, str) or len(description.strip()) < _MIN_DESCRIPTION:
        raise ValueError(f"description must be a sentence of at least {_MIN_DESCRIPTION} "
                         f"characters saying what the chart shows, got {description!r}")
    if _NAN.search(description):
        raise ValueError(f"description must not say 'nan' (a number it quotes is missing from the "
                         f"data): {description!r}")
    missing = _unknown_fields(chart)
    if missing:
        raise MissingFieldError(missing[0], f"the chart's data lacks the field(s) {missing} "
                                            "that its encodings read: it would draw nothing")
    props: dict[str, Any] = {"description": description.strip()}
    if width is not None and isinstance(chart, (alt.Chart, alt.LayerChart)):
        props["width"] = width
    return chart.properties(**props)


class MissingFieldError(ValueError):
    """A chart encodes a field that its pandas data does not hold."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


def _unknown_fields(chart: Any, data: Any = None) -> list[str]:
    """Fields a single view or layer encodes that are neither columns of its pandas data nor
    made by its own transforms (views whose data is not a DataFrame are not checked)."""
    if isinstance(chart, alt.LayerChart):
        own = chart.data if isinstance(chart.data, pd.DataFrame) else data
        return [f for layer in chart.layer for f in _unknown_fields(layer, own)]
    if not isinstance(chart, alt.Chart):
        return []
    frame = chart.data if isinstance(chart.data, pd.DataFrame) else data
    if not isinstance(frame, pd.DataFrame):
        return []
    made: set[str] = set()
    for step in chart.transform if chart.transform is not alt.Undefined else []:
        t = step.to_dict(validate=False) if hasattr(step, "to_dict") else dict(step)
        for key in ("as", "groupby"):
            value = t.get(key)
            made.update([value] if isinstance(value, str) else value or [])
        for part in t.get("aggregate", []) + t.get("window", []) + t.get("joinaggregate", []):
            if isinstance(part, dict) and part.get("as"):
                made.add(part["as"])
    fields = []
    kwds = chart.encoding._kwds if chart.encoding is not alt.Undefined else {}
    for channel in kwds.values():
        for item in channel if isinstance(channel, list) else [channel]:
            shorthand = item if isinstance(item, str) else getattr(item, "shorthand", alt.Undefined)
            field = getattr(item, "field", alt.Undefined)
            if isinstance(shorthand, str) and shorthand:
                parsed = alt.utils.parse_shorthand(shorthand)
                if parsed.get("aggregate") == "count":
                    continue
                field = parsed.get("field", field)
            if isinstance(field, str):
                fields.append(field.replace("\\", ""))
    return [f for f in dict.fromkeys(fields) if f not in frame.columns and f not in made]


def spec_bytes(chart: Any) -> int:
    """Size of the chart's JSON spec (data included) as embedded in a page."""
    return len(json.dumps(chart.to_dict(), separators=(",", ":")).encode())


def _frame_params(fn: Callable[..., Any]) -> dict[str, bool]:
    """The parameters of ``fn`` annotated as a pandas frame or series: name -> may be None."""
    out = {}
    for name, p in inspect.signature(fn).parameters.items():
        note = str(p.annotation)
        if ("DataFrame" in note or "Series" in note) and not any(
                other in note for other in ("ndarray", "list", "dict", "Any")):
            out[name] = "None" in note
    return out


def _missing_name(err: Exception) -> str | None:
    """The column a pandas lookup failed on: ``df["x"]`` (KeyError), ``df.x``
    (AttributeError on a frame) or ``df.query("x == 1")`` (UndefinedVariableError)."""
    if isinstance(err, KeyError):
        return str(err.args[0]) if err.args else None
    text = str(err)
    if isinstance(err, AttributeError):
        m = re.match(r"'(DataFrame|Series)' object has no attribute '([^']+)'", text)
        return m.group(2) if m else None
    m = re.match(r"name '([^']+)' is not defined", text)
    return m.group(1) if m else None


def _guard(fn: Callable[..., Any], frames: dict[str, bool]) -> Callable[..., Any]:
    sig = inspect.signature(fn)

    @functools.wraps(fn)
    def checked(*args: Any, **kwargs: Any) -> Any:
        bound = sig.bind(*args, **kwargs)
        given = {n: bound.arguments[n] for n in frames if n in bound.arguments}
        for name, value in given.items():
            if value is None and frames[name]:
                continue
            note = str(sig.parameters[name].annotation)
            kinds = tuple(k for k, n in ((pd.DataFrame, "DataFrame"), (pd.Series, "Series")) if n in note)
            if not isinstance(value, kinds):
                kind = " or ".join(k.__name__ for k in kinds)
                raise ValueError(f"{name} must be a pandas {kind} (from the chapter's data), "
                                 f"got {type(value).__name__}")
            if value.empty:
                raise ValueError(f"{name} must have at least one row: there is nothing to draw")
        try:
            return fn(*args, **kwargs)
        except (KeyError, AttributeError, NameError, MissingFieldError) as err:
            missing = err.field if isinstance(err, MissingFieldError) else _missing_name(err)
            for name, value in given.items():
                if isinstance(value, pd.DataFrame) and missing and missing not in value.columns:
                    raise ValueError(f"{name} lacks {missing!r}, a column or row that "
                                     f"{fn.__name__} needs (its columns: {list(value.columns)[:12]})"
                                     ) from None
            raise

    return checked


def check_frames(namespace: dict[str, Any]) -> None:
    """Guard every public function of a figures module (pass its ``globals()``) whose
    parameters are annotated as pandas frames: a ``None`` where a frame belongs, an empty
    frame, or a frame missing a column the function reads is refused with a ``ValueError``
    naming the parameter, never a deep pandas ``KeyError`` or an empty chart."""
    module = namespace.get("__name__")
    for name, obj in list(namespace.items()):
        if (name.startswith("_") or not inspect.isfunction(obj)
                or obj.__module__ != module or hasattr(obj, "__wrapped__")):
            continue
        frames = _frame_params(obj)
        if frames:
            namespace[name] = _guard(obj, frames)
