"""The tables dbt built on Spark, copied into the working database.

With ``WAREHOUSE_ENGINE=spark`` dbt builds from the Parquet lake into Spark's warehouse folder
(``<schema>.db/<table>/``, Parquet). Everything after dbt (the Great Expectations suites, the
reconciliation gate, publication) reads the working database, as on DuckDB: so each table a
Spark step built is copied in, whole, under its own name, and nothing after it can tell the
engines apart. Views (staging) are Spark's alone and are not copied.

A copy replaces the table in one statement, inside the step that built it and under the working
database's lock: a reader sees the table before or after, never between.
"""

from __future__ import annotations

from pathlib import Path

import duckdb


class SparkTableMissing(RuntimeError):
    pass


def table_folder(warehouse: Path, schema: str, name: str) -> Path:
    return warehouse / f"{schema}.db" / name


def copy_tables(con: duckdb.DuckDBPyConnection, warehouse: Path, relations: list[tuple[str, str]]) -> dict[str, int]:
    """Copy each ``(schema, name)`` Spark wrote as a table into the working database; returns the
    row count of each copied, as ``schema.name``. A relation without a folder is a view: skipped."""
    copied = {}
    for schema, name in relations:
        folder = table_folder(warehouse, schema, name)
        if not folder.is_dir():
            continue
        if not any(folder.rglob("*.parquet")):
            # Spark writes one file with the schema even for an empty result: none means a table
            # not written (or written elsewhere): failing here is better than guessing its columns.
            raise SparkTableMissing(f"{schema}.{name}: Spark's table folder {folder} holds no Parquet file")
        glob = str(folder / "**" / "*.parquet").replace("'", "''")
        con.execute(f"create schema if not exists {schema}")
        con.execute(
            f"""create or replace table {schema}.{name} as
                select * from read_parquet('{glob}', hive_partitioning = true)"""
        )
        copied[f"{schema}.{name}"] = con.execute(f"select count(*) from {schema}.{name}").fetchall()[0][0]
    return copied
