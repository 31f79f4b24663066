"""What the working database holds: the one place the pipeline asks DuckDB's catalog."""

from pathlib import Path

import duckdb


def table_exists(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    return (
        con.execute(
            "select count(*) from duckdb_tables() where schema_name = ? and table_name = ?", [schema, table]
        ).fetchall()[0][0]
        > 0
    )


def copy_database(con: duckdb.DuckDBPyConnection, target: Path, schema_only: bool) -> None:
    """The connection's database into a new file ``target``: every table and view, or, ``schema_only``, without rows."""
    (source,) = con.execute("select current_database()").fetchall()[0]
    con.execute(f"attach '{target}' as database_copy (read_write)")  # the source may be open read-only
    try:
        con.execute(f"copy from database {source} to database_copy" + (" (schema)" if schema_only else ""))
    finally:
        con.execute("detach database_copy")
