"""Tables made for readers: human numbers with units, no bare index, no NaN.

Every table a chapter shows goes through :func:`table`, which returns a pandas
:class:`~pandas.io.formats.style.Styler` (pandas' own, well-kept table formatter; see
CONTRIBUTING, "Tables"): the book renders its HTML, JupyterLab renders the same HTML,
and ``.data`` keeps the numbers for tests. Numbers are written the way a person reads
them (``2.66 million``, ``$5.33 million``, ``3.29 × 10²⁴``, ``34%``), a missing value is
an em dash with its meaning in the caption, the index becomes an ordinary first
column (or is dropped), and wide tables scroll inside their own box on a phone
(``explainer.css``; the same rule is inlined for JupyterLab). The table carries
MathJax's ``tex2jax_ignore`` and ``mathjax_ignore`` classes (MathJax 2 and 3: JupyterLab 4
heeds only the second), so JupyterLab never typesets two dollar amounts as maths.

Formats are named per column (``formats={"GPU-hours": "count", "cost": "usd:4"}``; a
``:N`` suffix on ``auto``, ``count`` or ``usd`` keeps N significant figures);
columns without one are formatted by their type (integers ``count``, floats ``auto``).
"""

from __future__ import annotations

import hashlib
import html
import math
import numbers
from collections.abc import Callable, Mapping
from typing import Any

import pandas as pd

__all__ = ["FORMATS", "human", "table"]

_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")
MISSING = "—"


def _missing(v: Any) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA or v is pd.NaT


def _sig(v: float, digits: int = 3) -> str:
    """``v`` to ``digits`` significant figures, thousands separated, no trailing zeros."""
    if v == 0:
        return "0"
    decimals = max(0, digits - 1 - int(math.floor(math.log10(abs(v)))))
    s = f"{v:,.{decimals}f}"
    if "." in s:
        s = s.rstrip("0").rstrip(".")
    return s


def human(v: Any, digits: int = 3) -> str:
    """A number as a reader writes it: ``2.66 million``, ``3.29 × 10²⁴``, ``0.0042``, ``1,234``.

    Args:
        v: a number (int or float); ``None``/NaN give an em dash, text is returned as is.
        digits: significant figures kept (1-15).

    Raises:
        ValueError: if ``digits`` is not an int in 1..15, or ``v`` is not a number, text,
            ``None`` or NaN.
    """
    if isinstance(digits, bool) or not isinstance(digits, int) or not 1 <= digits <= 15:
        raise ValueError(f"digits must be an int in 1..15, got {digits!r}")
    if _missing(v):
        return MISSING
    if isinstance(v, str):
        return v
    if isinstance(v, bool):
        return "yes" if v else "no"
    if not isinstance(v, numbers.Real):
        raise ValueError(f"v must be a number, a string or None, got {type(v).__name__}: {v!r}")
    v = float(v)
    if math.isinf(v):
        return "∞" if v > 0 else "−∞"
    a = abs(v)
    if a >= 1e15 or (0 < a < 1e-3):
        exp = int(math.floor(math.log10(a)))
        mant = v / 10 ** exp
        m = _sig(mant, digits)
        if m in ("10", "-10"):  # rounding carried: 9.996e24 -> 10 x 10^24
            m, exp = ("1" if v > 0 else "-1"), exp + 1
        return f"{m} × 10{str(exp).translate(_SUPERSCRIPT)}"
    for size, word in ((1e12, "trillion"), (1e9, "billion"), (1e6, "million")):
        if a >= size:
            return f"{_sig(v / size, digits)} {word}"
    if a >= 1000 or float(v).is_integer():
        return f"{v:,.0f}"
    return _sig(v, digits)


def _usd(v: Any) -> str:
    if _missing(v):
        return MISSING
    s = human(abs(float(v)))
    if abs(float(v)) < 1000 and not float(v).is_integer():
        s = f"{abs(float(v)):,.2f}"
    return ("−$" if float(v) < 0 else "$") + s


def _pct(v: Any) -> str:
    return MISSING if _missing(v) else f"{100 * float(v):.{0 if abs(v) >= 0.1 else 1}f}%"


def _fixed(decimals: int) -> Callable[[Any], str]:
    return lambda v: MISSING if _missing(v) else f"{float(v):,.{decimals}f}"


def _times(v: Any) -> str:
    return MISSING if _missing(v) else f"{_sig(float(v), 3)}×"


def _count(v: Any) -> str:
    if _missing(v):
        return MISSING
    return human(v) if abs(float(v)) >= 1e6 else f"{float(v):,.0f}"


def _text(v: Any) -> str:
    return MISSING if _missing(v) else str(v)


FORMATS: dict[str, Callable[[Any], str]] = {
    "auto": human,           # 3 significant figures, million/billion/trillion, × 10ⁿ
    "count": _count,         # 1,234 below a million, "2.66 million" above
    "usd": _usd,             # $0.14, $5.33 million
    "pct": _pct,             # a fraction as 34% (0.3% below 10%)
    "times": _times,         # a ratio as 11.0×
    "int": _fixed(0), "dec1": _fixed(1), "dec2": _fixed(2), "dec3": _fixed(3), "dec4": _fixed(4),
    "text": _text,
}


def table(df: pd.DataFrame, *, formats: Mapping[str, str | Callable[[Any], str]] | None = None,
          caption: str | None = None, index: bool | str = True,
          wrap: bool = True) -> Any:
    """``df`` as a table for readers (a pandas ``Styler``; ``.data`` is the frame shown).

    Args:
        df: the rows to show, with reader-facing column names.
        formats: column name -> a name in :data:`FORMATS` or a function of one value.
            Columns not named get ``count`` (integers), ``auto`` (floats) or ``text``.
        caption: a sentence above the table (what it shows, what a dash means).
        index: ``True`` turns a meaningful index into the first column (named by its
            name, or by ``index`` when that is a string); ``False`` drops it.
        wrap: let long cells wrap (``False`` keeps each cell on one line).

    Raises:
        ValueError: if ``df`` is not a DataFrame with at least one column, a format name is
            unknown, a named column is not in ``df``, or another argument has the wrong type
            (each named).
    """
    if not isinstance(df, pd.DataFrame):
        raise ValueError(f"df must be a pandas DataFrame, got {type(df).__name__}")
    if len(df.columns) == 0:
        raise ValueError("df must have at least one column (a table with no columns shows "
                         "nothing)")
    if formats is not None and not isinstance(formats, Mapping):
        raise ValueError(f"formats must be None or a mapping of column name to format, got "
                         f"{type(formats).__name__}")
    bad = {k: f for k, f in (formats or {}).items() if not (isinstance(f, str) or callable(f))}
    if bad:
        raise ValueError(f"formats must map columns to format names or functions, got {bad}")
    if caption is not None and not isinstance(caption, str):
        raise ValueError(f"caption must be None or a string, got {caption!r}")
    if not isinstance(index, (bool, str)) or index == "":
        raise ValueError(f"index must be True, False or a column name, got {index!r}")
    if not isinstance(wrap, bool):
        raise ValueError(f"wrap must be True or False, got {wrap!r}")
    formats = dict(formats or {})
    if index is not False:
        df = df.reset_index() if _index_is_meaningful(df) else df.reset_index(drop=True)
        if isinstance(index, str):
            df = df.rename(columns={df.columns[0]: index})
    else:
        df = df.reset_index(drop=True)
    df.columns = [str(c) for c in df.columns]
    unknown = [c for c in formats if c not in df.columns]
    if unknown:
        raise ValueError(f"formats names columns not in the table: {unknown}; "
                         f"columns are {list(df.columns)}")
    funcs: dict[str, Callable[[Any], str]] = {}
    for col in df.columns:
        spec = formats.get(col)
        if spec is None:
            kind = df[col].dtype.kind
            spec = "count" if kind in "iu" else "auto" if kind == "f" else "text"
        if isinstance(spec, str):
            name, _, digits = spec.partition(":")
            if name in ("auto", "count", "usd") and digits.isdigit():
                funcs[col] = _with_digits(name, int(digits))
                continue
            if spec not in FORMATS:
                raise ValueError(f"format {spec!r} for column {col!r} is not one of "
                                 f"{sorted(FORMATS)}")
            spec = FORMATS[spec]
        funcs[col] = spec
    uid = hashlib.sha1(pd.util.hash_pandas_object(df.astype(str), index=False).values.tobytes()
                       + repr(list(df.columns)).encode()).hexdigest()[:10]
    numeric = [c for c in df.columns if df[c].dtype.kind in "iuf"]
    # escape="html": a cell or a column name from data can never become markup
    styler = (df.style.format(funcs, escape="html").format_index(escape="html", axis=1)
              .hide(axis="index").set_uuid(uid))
    styler = styler.set_table_attributes('class="explainer-table tex2jax_ignore mathjax_ignore"')
    styler = styler.set_table_styles([
        {"selector": "", "props": "border-collapse: collapse; font-size: 0.9em;"},
        {"selector": "th", "props": "text-align: left; padding: 0.25em 0.6em; "
                                    "border-bottom: 1px solid #8888; vertical-align: bottom;"},
        {"selector": "td", "props": "padding: 0.25em 0.6em; vertical-align: top;"
                                    + ("" if wrap else " white-space: nowrap;")},
        {"selector": "caption", "props": "caption-side: top; text-align: left; "
                                         "padding-bottom: 0.3em;"},
    ])
    if numeric:
        styler = styler.set_properties(subset=numeric, **{"text-align": "right",
                                                          "font-variant-numeric": "tabular-nums"})
    if caption:
        styler = styler.set_caption(html.escape(caption))
    return styler


def _with_digits(name: str, digits: int) -> Callable[[Any], str]:
    """``auto:4``, ``count:4``, ``usd:4``: the same formats with ``digits`` significant figures."""
    def fmt(v: Any) -> str:
        if _missing(v):
            return MISSING
        if name == "count" and abs(float(v)) < 1e6:
            return f"{float(v):,.0f}"
        s = human(abs(float(v)) if name == "usd" else v, digits)
        return ("−$" if float(v) < 0 else "$") + s if name == "usd" else s
    return fmt


def _index_is_meaningful(df: pd.DataFrame) -> bool:
    """A named index, or one that is not 0..n-1, carries information worth a column."""
    idx = df.index
    if isinstance(idx, pd.MultiIndex) or any(n is not None for n in idx.names):
        return True
    return not (idx.dtype.kind in "iu" and list(idx) == list(range(len(idx))))
