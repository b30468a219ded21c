"""Data with provenance: load the book's CSV files and check their sources.

Every table in ``data/`` carries a ``source_id`` column whose values resolve in
``data/sources.csv`` (see ``data/README.md``). Loading goes through
:func:`read_csv`, which refuses a table with an unknown ``source_id``.
"""

from __future__ import annotations

import math
import os
from functools import lru_cache
from pathlib import Path

import pandas as pd

__all__ = ["DATA_DIR", "SEEDS_DIR", "DataFileNotFoundError", "data_path", "load_sources",
           "read_csv", "split_source_ids"]

_REPO = Path(__file__).resolve().parents[2]
DATA_DIR = Path(os.environ.get("EXPLAINER_DATA", _REPO / "data"))
# the five seed articles live beside the checkout, not in it (../shared/seeds)
SEEDS_DIR = Path(os.environ.get("EXPLAINER_SEEDS", _REPO.parent / "shared" / "seeds"))


class DataFileNotFoundError(FileNotFoundError, ValueError):
    """A file under ``data/`` that is not there: a ``FileNotFoundError`` and, like every bad
    argument of the library, a ``ValueError``."""


def split_source_ids(value: object) -> list[str]:
    """The source ids in one ``source_id`` cell: ``"v3_report; book"`` -> ``["v3_report", "book"]``.

    Several sources are separated by ``;``; blanks around them are dropped, and an empty or
    missing cell (``None``, ``NaN``, ``pd.NA``, ``""``) gives ``[]``.

    Raises:
        ValueError: ``value`` is neither a string nor a missing cell.
    """
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return []
    if not isinstance(value, str):
        raise ValueError(f"value must be a source_id cell (a string of ids separated by ';', "
                         f"or a missing cell), got {value!r}")
    return [s.strip() for s in value.split(";") if s.strip()]


def data_path(*parts: str) -> Path:
    """Path of a file under ``data/``.

    Raises:
        ValueError: a part is not a non-empty string.
        DataFileNotFoundError: the file is absent (a ``FileNotFoundError`` and a ``ValueError``).
    """
    if not parts or any(not isinstance(p, str) or not p for p in parts):
        raise ValueError(f"parts must be non-empty strings (a path under data/), got {parts!r}")
    path = DATA_DIR.joinpath(*parts)
    if not path.exists():
        raise DataFileNotFoundError(f"parts {parts!r}: {path} not found (data_dir={DATA_DIR})")
    return path


_URL_SCHEMES = ("https://", "http://")  # what a source's address may be (a page links it)


@lru_cache(maxsize=1)
def load_sources() -> pd.DataFrame:
    """``data/sources.csv`` indexed by ``source_id``.

    Raises:
        ValueError: a ``url`` is neither empty nor an ``http(s)://`` address (a
            ``javascript:`` or ``data:`` URL would become a live link in the ledger).
    """
    df = pd.read_csv(data_path("sources.csv"), keep_default_na=False).set_index("source_id")
    if "url" in df.columns:
        bad = [sid for sid, url in df["url"].items()
               if url.strip() and not url.strip().lower().startswith(_URL_SCHEMES)]
        if bad:
            raise ValueError(f"sources.csv: url must be empty or start with http:// or https://; "
                             f"rows {bad} do not")
    return df


def read_csv(name: str, **kwargs) -> pd.DataFrame:
    """Read ``data/<name>`` and check that every ``source_id`` resolves.

    Args:
        name: file name under ``data/`` (e.g. ``"benchmarks.csv"``).
        **kwargs: passed to :func:`pandas.read_csv`.

    Returns:
        The table as a DataFrame.

    Raises:
        ValueError: ``name`` is not a file under ``data/`` (then also a ``FileNotFoundError``),
            or a row's ``source_id`` is missing from ``data/sources.csv``.
    """
    if not isinstance(name, str) or not name:
        raise ValueError(f"name must be a file name under data/, got {name!r}")
    if not (DATA_DIR / name).is_file():
        raise DataFileNotFoundError(f"name must be a file under data/, got {name!r} "
                                    f"({DATA_DIR / name} not found)")
    df = pd.read_csv(data_path(name), **kwargs)
    if "source_id" in df.columns:
        ids = {sid for value in df["source_id"] for sid in split_source_ids(value)}
        unknown = sorted(ids - set(load_sources().index))
        if unknown:
            raise ValueError(f"{name}: source_id not in sources.csv: {unknown}")
    return df
