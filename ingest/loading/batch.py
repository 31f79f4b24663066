"""What the bulk and the exact load paths share: the file on its way in, its load, its transaction."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl

from ingest.decoding.strict import DecodedFile


@dataclass(frozen=True)
class LandingFile:
    """A new or changed landing file on its way in: what it is, and which version it would be."""

    path: Path
    mtime_ns: int
    decoded: DecodedFile
    version: int
    previous_load_id: int | None
    period: tuple[dt.date, dt.date]  # the first and last day of the period its name gives


@dataclass(frozen=True)
class FileLoad:
    load_id: int
    file_name: str
    file_version: int
    rows_read: int
    rows_loaded: int
    rows_rejected: int


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """Commit what the block wrote, or roll all of it back."""
    con.execute("begin transaction")
    try:
        yield
    except BaseException:
        con.execute("rollback")
        raise
    con.execute("commit")


def manifest_frame(loads: list[tuple[LandingFile, FileLoad]]) -> pl.DataFrame:
    """The manifest rows of ``loads``, for ``raw_schema.record_loads``."""
    return pl.DataFrame(
        {
            "load_id": [load.load_id for _, load in loads],
            "file_name": [file.path.name for file, _ in loads],
            "file_path": [str(file.path) for file, _ in loads],
            "file_version": [load.file_version for _, load in loads],
            "size_bytes": [file.decoded.size_bytes for file, _ in loads],
            "sha256": [file.decoded.sha256 for file, _ in loads],
            "rows_read": [load.rows_read for _, load in loads],
            "rows_loaded": [load.rows_loaded for _, load in loads],
            "rows_rejected": [load.rows_rejected for _, load in loads],
            "mtime_ns": [file.mtime_ns for file, _ in loads],
            "previous_load_id": [file.previous_load_id for file, _ in loads],
            "file_period": [file.period[0] for file, _ in loads],
        },
        schema_overrides={"previous_load_id": pl.Int64, "file_period": pl.Date},
    )
