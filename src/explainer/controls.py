"""Controls, declared once: a Vega-Lite param for the page, an ipywidget for JupyterLab.

A chapter that lets the reader move something declares the control once, in the
library, next to the computation it drives::

    PRICE = Slider("usd_per_gpu_hour", "$ per GPU-hour", 0.5, 8.0, 0.1, default=2.0)

and uses it twice without repeating its name, range, default or label:

* ``PRICE.param()`` is the ``alt.param`` bound to an HTML slider, for a chart that
  recomputes in the browser (the static book page, no kernel);
* ``PRICE.widget()`` is the matching ``ipywidgets`` slider for JupyterLab, where
  the library recomputes in Python.

:func:`explainer.widgets.live_or_static` takes the controls, the Python
computation and the static chart, checks that the chart binds every control
exactly as declared, and shows one or the other. So the two versions of a
control cannot drift apart.

A :class:`Button` is the one control with no page equivalent: a cell whose
controls include one runs its computation only when the button is clicked
(training runs in JupyterLab).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import altair as alt
import numpy as np

from explainer.checks import check_bool, check_number

__all__ = ["Button", "Choice", "Control", "Slider", "Text", "bound_params", "check_bound",
           "spec_nodes"]

# one look for every live control: labels wide enough to read, sliders that fit a phone
_STYLE = {"description_width": "initial"}
_LAYOUT = {"width": "100%", "max_width": "560px"}


def _check_name(name: str) -> None:
    if not isinstance(name, str) or not name.isidentifier():
        raise ValueError(f"name must be a Python identifier (it names a Vega-Lite param), got {name!r}")


def _check_label(field: str, value: Any, control: Any, *, empty: bool = False) -> None:
    if not isinstance(value, str) or (not empty and not value.strip()):
        what = "a string" if empty else "a non-empty string"
        raise ValueError(f"{field} of control {control!r} must be {what}, got {value!r}")


@dataclass(frozen=True)
class Slider:
    """A number in ``[min, max]`` moved by ``step`` (integers when all four are whole).

    Attributes:
        name: the param's name in Vega expressions and the keyword the computation receives.
        label: what the reader sees next to the slider.
        min, max, step, default: the range, its granularity and the starting value.
    """

    name: str
    label: str
    min: float
    max: float
    step: float
    default: float

    def __post_init__(self) -> None:
        _check_name(self.name)
        _check_label("label", self.label, self.name)
        for k in ("min", "max", "step", "default"):
            check_number(f"{k} of slider {self.name!r}", getattr(self, k))
        if not self.min < self.max:
            raise ValueError(f"slider {self.name!r}: min ({self.min}) must be below max ({self.max})")
        if not 0 < self.step <= self.max - self.min:
            raise ValueError(f"slider {self.name!r}: step must be in (0, max - min], got {self.step}")
        if not self.min <= self.default <= self.max:
            raise ValueError(f"slider {self.name!r}: default must be in [{self.min}, {self.max}], "
                             f"got {self.default}")

    @property
    def is_int(self) -> bool:
        """True when every number of the slider is whole (an integer slider)."""
        return all(float(v).is_integer() for v in (self.min, self.max, self.step, self.default))

    def check(self, value: Any) -> float:
        """``value`` if it lies in the slider's range, else a ``ValueError`` naming the control."""
        if (isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating))
                or not self.min <= value <= self.max):
            raise ValueError(f"{self.name} must be in [{self.min}, {self.max}], got {value!r}")
        return value

    def param(self) -> alt.Parameter:
        """The Vega-Lite param bound to an HTML range input."""
        return alt.param(name=self.name, value=self.default,
                         bind=alt.binding_range(min=self.min, max=self.max, step=self.step,
                                                name=self.label + " "))

    def widget(self) -> Any:
        """The matching ipywidgets slider (``IntSlider`` or ``FloatSlider``)."""
        import ipywidgets as w

        cls = w.IntSlider if self.is_int else w.FloatSlider
        num = int if self.is_int else float
        kw = {} if self.is_int else {"readout_format": _readout(self.step)}
        return cls(value=num(self.default), min=num(self.min), max=num(self.max),
                   step=num(self.step), description=self.label, continuous_update=False,
                   style=_STYLE, layout=w.Layout(**_LAYOUT), **kw)

    def bind_spec(self) -> dict[str, Any]:
        """The ``bind`` part of :meth:`param` as it appears in a chart's JSON."""
        return self.param().param.to_dict()["bind"]


def _readout(step: float) -> str:
    """A readout format with as many decimals as the step needs: every value the slider can
    take reads exactly (a 0.25 step shows 0.25, not 0.2 or 0.3; 0.1 shows 0.1)."""
    from decimal import Decimal

    exponent = Decimal(repr(float(step))).normalize().as_tuple().exponent
    return f".{max(0, -int(exponent))}f"


@dataclass(frozen=True)
class Choice:
    """One of a few ``options`` (dropdown, or radio buttons with ``radio=True``).

    ``labels`` (same length as ``options``) are what the reader sees; the param's
    value and the computation's keyword get the option itself.
    """

    name: str
    label: str
    options: tuple[Any, ...]
    default: Any
    labels: tuple[str, ...] | None = None
    radio: bool = False

    def __post_init__(self) -> None:
        _check_name(self.name)
        _check_label("label", self.label, self.name)
        if not isinstance(self.options, (list, tuple)):
            raise ValueError(f"choice {self.name!r}: options must be a list or tuple, got "
                             f"{self.options!r}")
        object.__setattr__(self, "options", tuple(self.options))
        if len(self.options) < 2:
            raise ValueError(f"choice {self.name!r}: options needs at least 2 entries")
        if any(not isinstance(o, (str, int, float, type(None))) for o in self.options):
            raise ValueError(f"choice {self.name!r}: options must be strings, numbers or None "
                             f"(a Vega-Lite select holds JSON values), got {list(self.options)}")
        if len(set(self.options)) != len(self.options):
            raise ValueError(f"choice {self.name!r}: options must be distinct, got "
                             f"{list(self.options)}")
        if self.labels is not None:
            if not isinstance(self.labels, (list, tuple)):
                raise ValueError(f"choice {self.name!r}: labels must be a list or tuple of "
                                 f"strings, got {self.labels!r}")
            object.__setattr__(self, "labels", tuple(self.labels))
            if len(self.labels) != len(self.options):
                raise ValueError(f"choice {self.name!r}: labels must match options one to one "
                                 f"({len(self.labels)} labels, {len(self.options)} options)")
            if any(not isinstance(lab, str) for lab in self.labels):
                raise ValueError(f"choice {self.name!r}: labels must be strings, got "
                                 f"{list(self.labels)}")
        check_bool("radio", self.radio)
        if self.default not in self.options:
            raise ValueError(f"choice {self.name!r}: default {self.default!r} is not one of "
                             f"{list(self.options)}")

    def check(self, value: Any) -> Any:
        """``value`` if it is one of the options, else a ``ValueError`` naming the control."""
        if value not in self.options:
            raise ValueError(f"{self.name} must be one of {list(self.options)}, got {value!r}")
        return value

    def param(self) -> alt.Parameter:
        """The Vega-Lite param bound to a select (or radio) input."""
        binding = alt.binding_radio if self.radio else alt.binding_select
        kw = {"labels": list(self.labels)} if self.labels else {}
        return alt.param(name=self.name, value=self.default,
                         bind=binding(options=list(self.options), name=self.label + " ", **kw))

    def widget(self) -> Any:
        """The matching ipywidgets ``Dropdown`` (or ``RadioButtons``)."""
        import ipywidgets as w

        labels = self.labels or tuple(str(o) for o in self.options)
        cls = w.RadioButtons if self.radio else w.Dropdown
        # as wide as the sliders, so that a long option reads whole ("BF16 dense", not "BF16 de")
        return cls(options=list(zip(labels, self.options)), value=self.default,
                   description=self.label, style=_STYLE, layout=w.Layout(**_LAYOUT))

    def bind_spec(self) -> dict[str, Any]:
        """The ``bind`` part of :meth:`param` as it appears in a chart's JSON."""
        return self.param().param.to_dict()["bind"]


@dataclass(frozen=True)
class Text:
    """Free text typed by the reader (JupyterLab only: the page has no text computation)."""

    name: str
    label: str
    default: str = ""
    placeholder: str = ""

    def __post_init__(self) -> None:
        _check_name(self.name)
        _check_label("label", self.label, self.name)
        _check_label("default", self.default, self.name, empty=True)
        _check_label("placeholder", self.placeholder, self.name, empty=True)

    def widget(self) -> Any:
        """An ipywidgets ``Text`` box that reports on Enter or when it loses focus."""
        import ipywidgets as w

        return w.Text(value=self.default, placeholder=self.placeholder, description=self.label,
                      continuous_update=False, style=_STYLE, layout=w.Layout(**_LAYOUT))


@dataclass(frozen=True)
class Button:
    """A button: the cell's computation runs when it is clicked (never on its own)."""

    name: str
    label: str
    tooltip: str = field(default="")

    def __post_init__(self) -> None:
        _check_name(self.name)
        _check_label("label", self.label, self.name)
        _check_label("tooltip", self.tooltip, self.name, empty=True)

    def widget(self) -> Any:
        """An ipywidgets ``Button``."""
        import ipywidgets as w

        return w.Button(description=self.label, tooltip=self.tooltip or self.label,
                        layout=w.Layout(width="auto"))


Control = Slider | Choice | Text | Button


def spec_nodes(spec: Any, skip: tuple[str, ...] = ()) -> Iterator[dict[str, Any]]:
    """Every dict in a Vega-Lite spec (depth first), not descending into keys in ``skip``."""
    if isinstance(spec, dict):
        yield spec
        for k, v in spec.items():
            if k not in skip:
                yield from spec_nodes(v, skip)
    elif isinstance(spec, list):
        for v in spec:
            yield from spec_nodes(v, skip)


def bound_params(spec: Any) -> dict[str, dict[str, Any]]:
    """Every param with a ``bind`` in a chart (an Altair chart or its dict), by name."""
    if hasattr(spec, "to_dict"):
        spec = spec.to_dict()
    return {p["name"]: p for node in spec_nodes(spec) for p in node.get("params", []) or []
            if isinstance(p, dict) and "bind" in p and "name" in p}


def check_bound(chart: Any, controls: Sequence[Control]) -> None:
    """Raise ``ValueError`` unless ``chart`` binds each Slider/Choice exactly as declared.

    Text and Button controls have no page equivalent and are skipped.

    Raises:
        ValueError: ``chart`` is not an Altair chart or a spec dict, ``controls`` is not a
            list or tuple of controls, or a control is not bound as declared.
    """
    if not (hasattr(chart, "to_dict") or isinstance(chart, dict)):
        raise ValueError(f"chart must be an Altair chart or its spec dict, got "
                         f"{type(chart).__name__}")
    if not isinstance(controls, (list, tuple)) or any(
            not isinstance(c, (Slider, Choice, Text, Button)) for c in controls):
        raise ValueError(f"controls must be a list or tuple of Slider, Choice, Text and Button "
                         f"controls, got {controls!r}")
    params = bound_params(chart)
    for c in controls:
        if isinstance(c, (Text, Button)):
            continue
        if c.name not in params:
            raise ValueError(f"the static chart does not bind control {c.name!r} "
                             f"(it binds {sorted(params)}): build its params with control.param()")
        p = params[c.name]
        if p["bind"] != c.bind_spec() or p.get("value") != c.default:
            raise ValueError(f"the static chart's param {c.name!r} differs from its declaration: "
                             f"{p} vs bind={c.bind_spec()}, value={c.default!r}")
