"""Nights on both engines, for the equality tests (tests/test_spark_equality.py).

A night here is what the nightly job's ingest and dbt steps do, without Dagster around them
(``engines.local_night``): load every landing file, write the lake, then ``dbt build`` on a
target. DuckDB builds in the working database; Spark builds from the lake into its warehouse
folder, whose marts are then copied into a DuckDB file of their own, so that the two are
compared with one reader.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import duckdb
from dotenv import dotenv_values

from config.layout import REPO_ROOT, WarehousePaths
from engines import local_night

SCALE = 0.002  # the smallest demo scale the reconciliation still reproduces every rate at
REL_TOLERANCE = 1e-12  # rates (and any float) within 1e-12 of each other, relative to their size


def environment(paths: WarehousePaths, **extra: str) -> dict[str, str]:
    env = {name: value or "" for name, value in dotenv_values(REPO_ROOT / "defaults.env").items()}
    env |= {"WAREHOUSE_DATA_DIR": str(paths.data_dir), "WAREHOUSE_SCALE": str(SCALE)}
    env |= {"WAREHOUSE_DUCKDB_MEMORY_LIMIT": "2GB", "WAREHOUSE_SPARK_DRIVER_MEMORY": "2g"}
    return {**os.environ, **env, **extra}


def load_night(paths: WarehousePaths, business_date) -> None:
    local_night.load_landed(paths, business_date, "engine-test")


def dbt(paths: WarehousePaths, target: str, *args: str) -> dict[str, str]:
    return local_night.run_dbt(environment(paths), target, *args)


def spark_marts(paths: WarehousePaths, into: Path) -> Path:
    return local_night.copy_spark_marts(paths, into)


def duckdb_marts(paths: WarehousePaths, into: Path) -> Path:
    """The marts DuckDB built, copied out of the working database (which the next night changes)."""
    with duckdb.connect(str(into)) as con:
        con.execute(f"attach '{paths.working_db}' as working (read_only)")
        con.execute("create schema marts")
        for (name,) in con.execute(
            "select table_name from duckdb_tables() where database_name = 'working' and schema_name = 'marts'"
        ).fetchall():
            con.execute(f"create table marts.{name} as select * from working.marts.{name}")
    return into


def _tables(database: Path) -> dict[str, tuple[list[str], list[str], list[tuple]]]:
    """Each mart: its column names, their types, and its rows (sorted by every column but floats first)."""
    found = {}
    with duckdb.connect(str(database), read_only=True) as con:
        names = [
            n for (n,) in con.execute("select table_name from duckdb_tables() where schema_name = 'marts'").fetchall()
        ]
        for name in names:
            described = con.execute(f"describe marts.{name}").fetchall()
            columns, types = [d[0] for d in described], [d[1] for d in described]
            exact = [c for c, t in zip(columns, types, strict=True) if t not in ("DOUBLE", "FLOAT")]
            order = ", ".join(f'"{c}"' for c in exact + [c for c in columns if c not in exact])
            found[name] = (columns, types, con.execute(f"select * from marts.{name} order by {order}").fetchall())
    return found


def _same(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or abs(a - b) <= REL_TOLERANCE * max(1.0, abs(a), abs(b))
    return a == b


def differences(duck: Path, spark: Path) -> list[str]:
    """What differs between the marts of two databases: tables, columns, types, row counts, values
    (integers, strings, dates exactly; floats within REL_TOLERANCE). Empty: equal."""
    left, right = _tables(duck), _tables(spark)
    found = []
    if set(left) != set(right):
        found.append(
            f"tables: only DuckDB {sorted(set(left) - set(right))}, only Spark {sorted(set(right) - set(left))}"
        )
    for name in sorted(set(left) & set(right)):
        (lc, lt, lrows), (rc, rt, rrows) = left[name], right[name]
        if (lc, lt) != (rc, rt):
            found.append(f"{name}: columns {list(zip(lc, lt, strict=True))} != {list(zip(rc, rt, strict=True))}")
            continue
        if len(lrows) != len(rrows):
            found.append(f"{name}: {len(lrows)} rows on DuckDB, {len(rrows)} on Spark")
            continue
        for number, (lrow, rrow) in enumerate(zip(lrows, rrows, strict=True)):
            unequal = [c for c, a, b in zip(lc, lrow, rrow, strict=True) if not _same(a, b)]
            if unequal:
                found.append(f"{name} row {number}: {[(c, lrow[lc.index(c)], rrow[lc.index(c)]) for c in unequal]}")
                break
    return found


def statuses(database: Path, mart: str) -> dict[str, str]:
    with duckdb.connect(str(database), read_only=True) as con:
        return dict(con.execute(f"select figure_id, status from marts.{mart}").fetchall())
