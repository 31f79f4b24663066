"""Printing generated lines as a source system would: encoding, BOM, line endings, atomic rename."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb


@contextmanager
def generator_database(tmp: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A file-backed DuckDB with a memory limit: at national scale generated lines spill to disk."""
    con = duckdb.connect(str(tmp / "generate.duckdb"), config={"memory_limit": os.environ.get("WAREHOUSE_DUCKDB_MEMORY_LIMIT", "8GB")})
    try:
        yield con
    finally:
        con.close()


def print_file(
    con: duckdb.DuckDBPyConnection, lines_sql: str, target: Path, header: str, encoding: str, newline: str, bom: bool = False
) -> Path:
    """Write the single ``line`` column of ``lines_sql`` to ``target`` under ``header``.

    DuckDB writes UTF-8 only, so lines go to a scratch file first and are transcoded in
    chunks (strict: the generators never print an unmappable character). The file appears
    under its final name only when complete, so a loader never sees half a file.
    """
    scratch = target.with_name(target.name + ".utf8")
    partial = target.with_name(target.name + ".partial")
    newline_sql = newline.replace("\r", "\\r").replace("\n", "\\n")
    con.execute(
        f"copy ({lines_sql}) to '{scratch}' (format csv, header false, quote '', escape '', delimiter '\t', new_line '{newline_sql}')"
    )
    with open(scratch, encoding="utf-8", newline="") as src, open(partial, "wb") as dst:
        dst.write(("\ufeff" if bom else "").encode(encoding) + (header + newline).encode(encoding))
        while chunk := src.read(1 << 24):
            dst.write(chunk.encode(encoding))
    scratch.unlink()
    os.replace(partial, target)
    return target
