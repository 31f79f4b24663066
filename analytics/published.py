"""The published database, as analysts open it: read-only, and never the pipeline's working file.

Its path is ``WAREHOUSE_PUBLISHED_DB`` if set, else ``<WAREHOUSE_DATA_DIR>/published/warehouse.duckdb``
(the data directory of ``defaults.env``, relative to the repository root), so a notebook,
the dashboard and a test all find the same file wherever they run from.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from config.settings import Settings
from publication import scale


class NoPublishedDatabase(FileNotFoundError):
    """Nothing has been published at the path: say what to run instead of DuckDB's bare error."""

    def __init__(self, path: Path):
        super().__init__(f"no published database at {path}: run make demo (or the nightly job) first")
        self.path = path


def published_path() -> Path:
    return Settings.from_env().published_db


def connect(path: Path | None = None) -> duckdb.DuckDBPyConnection:
    """A read-only connection to the current published version (the one the link shows now)."""
    path = published_path() if path is None else path
    if not path.exists():
        raise NoPublishedDatabase(path)
    return duckdb.connect(str(path), read_only=True)


def extract_scale(con: duckdb.DuckDBPyConnection) -> float:
    """The scale of the extracts the open version was built from: 1.0 for real extracts."""
    return scale.read(con)


def scale_note(scale: float) -> str:
    """What to say beside a count or an amount: nothing at national scale, the fraction at a demo's.

    Rates are ratios of two counts at the same scale, so they need no note.
    """
    if scale >= 1.0:
        return ""
    return (
        f"デモ規模 1/{round(1 / scale):,} · demo scale: counts and amounts are 1/{round(1 / scale):,} of the report's"
    )
