"""Nights on both engines, for the equality tests (tests/test_spark_equality.py).

A night here is what the nightly job's ingest and dbt steps do, without Dagster around them:
load every landing file (``ingest.loading.source``), write the lake (``ingest.lake``), then
``dbt build`` on a target. DuckDB builds in the working database; Spark builds from the lake
into its warehouse folder, whose tables are then copied into a DuckDB file of their own
(``engines.spark_tables``) so that the two are compared with one reader.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import uuid
from pathlib import Path

import duckdb
from dotenv import dotenv_values

from config.layout import BIN, DBT_PROJECT_DIR, REPO_ROOT, WarehousePaths
from config.settings import Settings
from engines import spark_tables
from ingest import lake
from ingest.loading import pseudonyms
from ingest.loading.source import load_source
from ingest.specs import SPECS

SCALE = 0.002  # the smallest demo scale the reconciliation still reproduces every rate at
REL_TOLERANCE = 1e-12  # rates (and any float) within 1e-12 of each other, relative to their size


def environment(paths: WarehousePaths, **extra: str) -> dict[str, str]:
    env = {name: value or "" for name, value in dotenv_values(REPO_ROOT / "defaults.env").items()}
    env |= {"WAREHOUSE_DATA_DIR": str(paths.data_dir), "WAREHOUSE_SCALE": str(SCALE)}
    env |= {"WAREHOUSE_DUCKDB_MEMORY_LIMIT": "2GB", "WAREHOUSE_SPARK_DRIVER_MEMORY": "2g"}
    return {**os.environ, **env, **extra}


def load_night(paths: WarehousePaths, business_date) -> None:
    """Ingest every landed file, as the ingest steps do, then write the lake."""
    paths.scratch.mkdir(parents=True, exist_ok=True)
    paths.working_db.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(paths.working_db)) as con:
        for spec in SPECS.values():
            load_source(
                con,
                spec,
                paths.landing_dir(spec.source),
                paths.scratch,
                "engine-test",
                pseudonym_key=(lambda create: pseudonyms.load_key(paths.data_dir, create=create))
                if spec.needs_pseudonym_key
                else None,
                business_date=business_date,
            )
        lake.export(con, list(SPECS.values()), paths.lake_raw)


def dbt(paths: WarehousePaths, target: str, *args: str) -> dict[str, str]:
    """Run dbt on ``target``; returns ``{unique_id: status}`` of every node it ran (a failing test
    included: its status says it, the command's exit code is not what is compared)."""
    env = environment(paths)
    settings = Settings.from_env(env)
    target_path = paths.data_dir / "dbt" / f"{target}-{uuid.uuid4().hex[:8]}"
    completed = subprocess.run(
        [
            str(BIN / "dbt"),
            *args,
            "--target",
            target,
            "--vars",
            settings.dbt_vars(),
            "--target-path",
            str(target_path),
            "--profiles-dir",
            str(DBT_PROJECT_DIR),
            "--project-dir",
            str(DBT_PROJECT_DIR),
        ],  # fmt: skip
        env=env,
        cwd=paths.data_dir,
        capture_output=True,
        text=True,
    )
    results_file = target_path / "run_results.json"
    if not results_file.exists():
        raise AssertionError(f"dbt {' '.join(args)} on {target} ran nothing:\n{completed.stdout[-4000:]}")
    results = json.loads(results_file.read_text())["results"]
    shutil.rmtree(target_path, ignore_errors=True)
    return {r["unique_id"]: r["status"] for r in results}


def spark_marts(paths: WarehousePaths, into: Path) -> Path:
    """The marts Spark built, copied into a DuckDB file of their own."""
    folder = paths.spark_warehouse / "marts.db"
    names = sorted(p.name for p in folder.iterdir() if p.is_dir())
    with duckdb.connect(str(into)) as con:
        spark_tables.copy_tables(con, paths.spark_warehouse, [("marts", name) for name in names])
    return into


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
