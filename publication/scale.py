"""The scale of the extracts a published version was built from, recorded in it (``marts.extract_scale``).

Below 1.0 (a demo), every count and amount is that fraction of the report's; rates are ratios of
two counts at the same scale, and are not affected. 1.0 for real extracts. A version written
before the table existed is taken as real.
"""

from __future__ import annotations

import duckdb

TABLE = "extract_scale"


def create(con: duckdb.DuckDBPyConnection, database: str, scale: float) -> None:
    """``<database>.marts.extract_scale``: one row, the scale."""
    con.execute(f"create table {database}.marts.{TABLE} as select cast(? as double) as scale", [scale])


def read(con: duckdb.DuckDBPyConnection, database: str | None = None) -> float:
    """The scale a version recorded (``database``: an attached one; None: the connection's own)."""
    where = "table_schema = 'marts' and table_name = ?" + (" and table_catalog = ?" if database else "")
    found = con.execute(
        f"select count(*) from information_schema.tables where {where}", [TABLE, *([database] if database else [])]
    ).fetchall()[0][0]
    if not found:
        return 1.0
    prefix = f"{database}." if database else ""
    return float(con.execute(f"select scale from {prefix}marts.{TABLE}").fetchall()[0][0])
