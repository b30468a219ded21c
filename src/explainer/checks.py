"""Input checks for the library's public entry points, declared once.

The book's promise: bad input gets a clear ``ValueError`` naming the parameter, the allowed
range and the value, never a silent wrong number, a hang or a deep torch traceback. Each public
function states its constraints at its top with these helpers, so every message has one shape::

    n_micro = check_int("n_micro", n_micro, 1, 1024)
    # ValueError: n_micro must be an int in [1, 1024], got 0

The rules, the same everywhere:

* ``bool`` is not a number (``True`` is refused where an int is expected); numpy integer and
  floating scalars are accepted and returned as Python ``int``/``float``.
* NaN is always refused; an infinity only where ``finite=False`` *and* the range allows it.
* A seed is an int in ``[0, 2**63 - 1]`` (what :meth:`torch.Generator.manual_seed` takes).

The checks run once per call at public entry points, never inside a loop, so they cost nothing
measurable. (Why a helper module and not ``pydantic.validate_call`` or ``beartype``: see
CONTRIBUTING, "Validating input".)
"""

from __future__ import annotations

import math
from collections.abc import Collection
from typing import Any

import numpy as np

__all__ = [
    "SEED_MAX",
    "check_bool",
    "check_choice",
    "check_device",
    "check_int",
    "check_number",
    "check_seed",
    "check_tensor",
    "check_text",
]

SEED_MAX = 2**63 - 1  # largest seed accepted (torch.Generator.manual_seed takes up to 2**64 - 1)


def _fmt(v: float) -> str:
    """A bound as a reader writes it: ints in full, floats short (``0.5``, ``1e+06``)."""
    return str(v) if isinstance(v, (int, np.integer)) else f"{v:g}"


def _range(lo: float | None, hi: float | None, lo_open: bool = False,
           hi_open: bool = False) -> str:
    """``in [lo, hi]``, ``in (lo, hi)``, ``>= lo`` or ``<= hi`` as a reader writes it."""
    if lo is not None and hi is not None:
        return f"in {'(' if lo_open else '['}{_fmt(lo)}, {_fmt(hi)}{')' if hi_open else ']'}"
    if lo is not None:
        return f"{'>' if lo_open else '>='} {_fmt(lo)}"
    if hi is not None:
        return f"{'<' if hi_open else '<='} {_fmt(hi)}"
    return ""


def _is_int(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def check_int(name: str, value: Any, lo: int | None = None, hi: int | None = None) -> int:
    """``value`` as a Python int if it is an integer in ``[lo, hi]`` (a bound ``None``: open).

    Raises:
        ValueError: a non-integer (``bool`` and ``2.0`` included) or a value out of range;
            the message names ``name``, the range and the value.
    """
    what = f"an int {_range(lo, hi)}".rstrip()
    if not _is_int(value):
        raise ValueError(f"{name} must be {what}, got {value!r}")
    v = int(value)
    if (lo is not None and v < lo) or (hi is not None and v > hi):
        raise ValueError(f"{name} must be {what}, got {v}")
    return v


def check_number(name: str, value: Any, lo: float | None = None, hi: float | None = None, *,
                 lo_open: bool = False, hi_open: bool = False, finite: bool = True) -> float:
    """``value`` as a Python float if it is a real number in the range.

    Args:
        name: the parameter's name, for the message.
        value: the value to check (int, float or a numpy scalar; not ``bool``).
        lo, hi: bounds (``None``: unbounded on that side).
        lo_open, hi_open: exclude the bound itself (``(0, 1)`` rather than ``[0, 1]``).
        finite: refuse ``inf`` and ``-inf`` (NaN is always refused).

    Raises:
        ValueError: naming ``name``, the allowed range and the value.
    """
    rng = _range(lo, hi, lo_open, hi_open)
    what = f"a {'finite ' if finite else ''}number {rng}".rstrip()
    if not isinstance(value, (int, float, np.integer, np.floating)) or isinstance(
            value, (bool, np.bool_)):
        raise ValueError(f"{name} must be {what}, got {value!r}")
    v = float(value)
    if math.isnan(v) or (finite and math.isinf(v)):
        raise ValueError(f"{name} must be {what}, got {v!r}")
    if ((lo is not None and (v < lo or (lo_open and v == lo)))
            or (hi is not None and (v > hi or (hi_open and v == hi)))):
        raise ValueError(f"{name} must be {what}, got {v!r}")
    return v


def check_choice(name: str, value: Any, options: Collection[Any]) -> Any:
    """``value`` if it is one of ``options``, else ``ValueError`` listing them."""
    def same(option: Any) -> bool:  # True == 1 in Python: a bool matches only a bool
        try:
            return bool(option == value) and isinstance(option, bool) == isinstance(value, bool)
        except (TypeError, ValueError, RuntimeError):  # e.g. an array or a tensor
            return False

    if not any(same(o) for o in options):
        raise ValueError(f"{name} must be one of {list(options)!r}, got {value!r}")
    return value


def check_device(name: str, value: Any) -> Any:
    """A ``torch.device`` from ``"cpu"``, ``"cuda"``, ... that this machine has."""
    import torch

    if not isinstance(value, (str, torch.device)):
        raise ValueError(f"{name} must be a torch device such as 'cpu' or 'cuda', got {value!r}")
    try:
        device = torch.device(value)
    except (RuntimeError, TypeError):
        raise ValueError(f"{name} must be a torch device such as 'cpu' or 'cuda', got "
                         f"{value!r}") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"{name} must be one this machine has: {str(device)!r} is not available")
    return device


def check_seed(name: str, value: Any) -> int:
    """A random seed: an int in ``[0, 2**63 - 1]``."""
    return check_int(name, value, 0, SEED_MAX)


def check_bool(name: str, value: Any) -> bool:
    """``value`` if it is ``True`` or ``False`` (numpy's ``bool_`` too), else ``ValueError``."""
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def check_text(name: str, value: Any, *, empty: bool = False) -> str:
    """``value`` if it is a string (non-empty unless ``empty``)."""
    if not isinstance(value, str) or (not empty and not value):
        what = "a string" if empty else "a non-empty string"
        raise ValueError(f"{name} must be {what}, got {value!r}")
    return value


def check_tensor(name: str, value: Any, *, ndim: int | None = None, kind: str | None = None,
                 finite: bool = False, nonempty: bool = False) -> Any:
    """``value`` if it is a ``torch.Tensor`` of the right rank and kind.

    Args:
        name: the parameter's name, for the message.
        value: the tensor.
        ndim: required number of dimensions (``None``: any).
        kind: ``"float"`` (floating point) or ``"int"`` (integer, not bool), or ``None``.
        finite: refuse NaN and infinities (float tensors).
        nonempty: refuse a tensor with no elements.
    """
    import torch  # not at module top: the checks are used by modules that never touch torch

    shape = f" with {ndim} dimension{'s' if ndim != 1 else ''}" if ndim is not None else ""
    kinds = {"float": "a floating-point ", "int": "an integer ", None: "a "}
    what = f"{kinds[kind]}torch.Tensor{shape}"
    if not isinstance(value, torch.Tensor):
        raise ValueError(f"{name} must be {what}, got {type(value).__name__}")
    if ndim is not None and value.dim() != ndim:
        raise ValueError(f"{name} must be {what}, got shape {tuple(value.shape)}")
    if kind == "float" and not value.is_floating_point():
        raise ValueError(f"{name} must be {what}, got dtype {value.dtype}")
    if kind == "int" and (value.is_floating_point() or value.is_complex()
                          or value.dtype == torch.bool):
        raise ValueError(f"{name} must be {what}, got dtype {value.dtype}")
    if nonempty and value.numel() == 0:
        raise ValueError(f"{name} must not be empty, got shape {tuple(value.shape)}")
    if finite and value.is_floating_point() and not bool(torch.isfinite(value).all()):
        raise ValueError(f"{name} must be finite (no inf or nan)")
    return value
