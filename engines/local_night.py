"""A night without Dagster: every landed file loaded, the lake written, dbt run on a target.

What the nightly job's ingest and dbt steps do, in one process and without their checks, for
the engine equality tests (tests/test_spark_equality.py) and the engine benchmark
(``python -m bench.engines``).
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
import uuid
from collections.abc import Mapping
from pathlib import Path

import duckdb

from config.layout import BIN, DBT_PROJECT_DIR, WarehousePaths
from config.settings import Settings
from engines import spark_tables
from ingest import lake
from ingest.loading import pseudonyms
from ingest.loading.source import load_source
from ingest.specs import SPECS


def load_landed(paths: WarehousePaths, business_date: dt.date, run_id: str = "local-night") -> None:
    """Ingest every landed file of every source, then write the lake, as the ingest steps do."""
    paths.scratch.mkdir(parents=True, exist_ok=True)
    paths.working_db.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(paths.working_db)) as con:
        for spec in SPECS.values():
            load_source(
                con,
                spec,
                paths.landing_dir(spec.source),
                paths.scratch,
                run_id,
                pseudonym_key=(lambda create: pseudonyms.load_key(paths.data_dir, create=create))
                if spec.needs_pseudonym_key
                else None,
                business_date=business_date,
            )
        lake.export(con, list(SPECS.values()), paths.lake_raw)


class DbtRanNothing(RuntimeError):
    pass


def run_dbt(env: Mapping[str, str], target: str, *args: str) -> dict[str, str]:
    """``dbt <args>`` on ``target`` with the settings of ``env``; returns ``{unique_id: status}`` of
    every node it ran (a failing test included: its status says it, not dbt's exit code)."""
    settings = Settings.from_env(env)
    target_path = settings.paths.dbt_invocations / f"{target}-{uuid.uuid4().hex[:8]}"
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
        env=dict(env),
        cwd=settings.paths.data_dir,
        capture_output=True,
        text=True,
    )
    results_file = target_path / "run_results.json"
    if not results_file.exists():
        raise DbtRanNothing(f"dbt {' '.join(args)} on {target} ran nothing:\n{completed.stdout[-4000:]}")
    results = json.loads(results_file.read_text())["results"]
    shutil.rmtree(target_path, ignore_errors=True)
    return {r["unique_id"]: r["status"] for r in results}


def copy_spark_marts(paths: WarehousePaths, into: Path) -> Path:
    """Every mart Spark built, copied into a DuckDB file of its own."""
    folder = paths.spark_warehouse / "marts.db"
    names = sorted(p.name for p in folder.iterdir() if p.is_dir())
    with duckdb.connect(str(into)) as con:
        spark_tables.copy_tables(con, paths.spark_warehouse, [("marts", name) for name in names])
    return into
