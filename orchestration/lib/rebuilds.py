"""When a KPI's dbt build can be skipped: nothing its models read has changed since its last good build.

What a KPI's dbt build reads: the current loads of its sources (a load never changes; a
corrected re-delivery is a new load), the dbt project's files and the dbt vars. After a dbt
build of the whole KPI succeeds, the fingerprint of those inputs is recorded in the working
database. A later run with the same fingerprint would build the same tables and pass the
same tests, so it reports the KPI's tables as standing instead; the checks and the
publication downstream run as on any night. Employer data arrives monthly, so most nights
its models have nothing to do (26 s at national scale).

A run tagged ``warehouse/rebuild=true`` always builds.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import duckdb

from config.kpis import Kpi
from config.settings import Settings
from ingest import raw_schema
from orchestration.lib.tags import REBUILD_TAG
from publication.duckdb_files import table_exists

__all__ = ["REBUILD_TAG", "GoodBuild", "inputs_sha256", "last_good_build", "record_good_build"]

_BUILDS_DDL = """
create schema if not exists pipeline;
create table if not exists pipeline.dbt_builds (
    kpi varchar primary key,
    inputs_sha256 varchar not null,
    run_id varchar not null,
    built_at timestamptz not null
)"""


def _project_sha256(project_dir: Path) -> str:
    """Every file of the dbt project that can change what a build writes or what its tests say.

    Read from the files themselves rather than from the parsed manifest, which may be older.
    """
    files = [project_dir / name for name in ("dbt_project.yml", "profiles.yml", "packages.yml")]
    files += sorted(
        p for folder in ("models", "macros", "seeds", "tests", "snapshots") for p in (project_dir / folder).rglob("*")
    )
    digest = hashlib.sha256()
    for path in files:
        if path.is_file():
            digest.update(f"{path.relative_to(project_dir)}\0".encode() + path.read_bytes() + b"\0")
    return digest.hexdigest()


def inputs_sha256(con: duckdb.DuckDBPyConnection, kpi: Kpi, project_dir: Path, dbt_vars: str) -> str | None:
    """Fingerprint of what the KPI's dbt build reads; None before anything was ever loaded."""
    if not raw_schema.has_manifest(con):
        return None
    loads = raw_schema.current_loads(con, sorted({spec.source for spec in kpi.sources}))
    # Where the database lives is not what it holds: a data directory restored or moved elsewhere
    # builds nothing anew for that alone.
    variables = {name: value for name, value in json.loads(dbt_vars).items() if name not in Settings.LOCATION_VARS}
    return hashlib.sha256(json.dumps([loads, _project_sha256(project_dir), variables]).encode()).hexdigest()


@dataclass(frozen=True)
class GoodBuild:
    """The KPI's last successful build of all its dbt assets: what it read, which run, when."""

    inputs_sha256: str
    run_id: str
    built_at: dt.datetime


def last_good_build(con: duckdb.DuckDBPyConnection, kpi: Kpi) -> GoodBuild | None:
    if not table_exists(con, "pipeline", "dbt_builds"):
        return None
    rows = con.execute(
        "select inputs_sha256, run_id, built_at from pipeline.dbt_builds where kpi = ?", [kpi.name]
    ).fetchall()
    return GoodBuild(*rows[0]) if rows else None


def record_good_build(con: duckdb.DuckDBPyConnection, kpi: Kpi, inputs: str, run_id: str) -> None:
    con.execute(_BUILDS_DDL)
    con.execute("insert or replace into pipeline.dbt_builds values (?, ?, ?, now())", [kpi.name, inputs, run_id])
