"""Data with provenance: load the book's CSV files and check their sources.

Every table in ``data/`` carries a ``source_id`` column whose values resolve in
``data/sources.csv`` (see ``data/README.md``). Loading goes through
:func:`read_csv`, which refuses a table with an unknown ``source_id``.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

import pandas as pd

__all__ = ["DATA_DIR", "SEEDS_DIR", "data_path", "load_sources", "read_csv", "split_source_ids"]

_REPO = Path(__file__).resolve().parents[2]
DATA_DIR = Path(os.environ.get("EXPLAINER_DATA", _REPO / "data"))
# the five seed articles live beside the checkout, not in it (../shared/seeds)
SEEDS_DIR = Path(os.environ.get("EXPLAINER_SEEDS", _REPO.parent / "shared" / "seeds"))


def split_source_ids(value: object) -> list[str]:
    """The source ids in one ``source_id`` cell: ``"v3_report; book"`` -> ``["v3_report", "book"]``.

    Several sources are separated by ``;``; blanks around them are dropped, and an empty or
    missing cell (``None``, ``NaN``, ``""``) gives ``[]``.
    """
    if value is None or (isinstance(value, float) and value != value):  # None or NaN
        return []
    return [s.strip() for s in str(value).split(";") if s.strip()]


def data_path(*parts: str) -> Path:
    """Path of a file under ``data/``; raises ``FileNotFoundError`` if absent."""
    path = DATA_DIR.joinpath(*parts)
    if not path.exists():
        raise FileNotFoundError(f"{path} not found (data_dir={DATA_DIR})")
    return path


@lru_cache(maxsize=1)
def load_sources() -> pd.DataFrame:
    """``data/sources.csv`` indexed by ``source_id``."""
    return pd.read_csv(data_path("sources.csv"), keep_default_na=False).set_index("source_id")


def read_csv(name: str, **kwargs) -> pd.DataFrame:
    """Read ``data/<name>`` and check that every ``source_id`` resolves.

    Args:
        name: file name under ``data/`` (e.g. ``"benchmarks.csv"``).
        **kwargs: passed to :func:`pandas.read_csv`.

    Returns:
        The table as a DataFrame.

    Raises:
        ValueError: a row's ``source_id`` is missing from ``data/sources.csv``.
    """
    df = pd.read_csv(data_path(name), **kwargs)
    if "source_id" in df.columns:
        ids = {sid for value in df["source_id"] for sid in split_source_ids(value)}
        unknown = sorted(ids - set(load_sources().index))
        if unknown:
            raise ValueError(f"{name}: source_id not in sources.csv: {unknown}")
    return df
