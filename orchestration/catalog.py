"""What the working database holds: the one place the pipeline asks DuckDB's catalog."""

import duckdb


def table_exists(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    return con.execute(
        "select count(*) from duckdb_tables() where schema_name = ? and table_name = ?", [schema, table]
    ).fetchall()[0][0] > 0
