"""The open raw layer: every load of the working database's ``raw`` tables, as immutable Parquet.

    lake/raw/<source>__<entity>/_load_id=<id>/data_0.parquet   the rows one load committed
    lake/raw/<source>__<entity>/_load_id=0/data_0.parquet      the table's columns, no row
    lake/raw/load_manifest/load_manifest.parquet                the manifest of the loads above

The working database stays the loader's transactional store (a load, its rejects and its
manifest row commit together, and the volume and reject checks query it); the lake is what
any other engine reads: dbt on Spark builds from it (``dbt_project/macros/lake.sql``). Rows
are the raw tables' own, lineage columns and pseudonyms included: no basic pension number
reaches the lake, because none reaches ``raw``.

Why a reader never takes a half-written load:
* a load's folder is written under a ``.tmp-`` name (which Spark's and DuckDB's globs skip)
  and renamed into place whole;
* the lake's manifest, the only list of loads a reader goes by, is rewritten (temporary file,
  then rename) only after every load it names is in place. A load folder the manifest does not
  name yet (a run killed between the two) is written again by the next export.

A load never changes once committed, so an export writes only the loads the lake's manifest
lacks: a night costs what is new. Supersession (a re-delivered file) changes only the
manifest's ``superseded_by_load_id``, as in the working database.
"""

from __future__ import annotations

import logging
import os
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

import duckdb

from ingest import raw_schema
from ingest.specs import ExtractSpec

log = logging.getLogger(__name__)

MANIFEST = "load_manifest"
# The manifest's columns a reader needs: which load, of which file and period, current or not.
# file_path (a landing path on this machine) and the run stay in the working database.
MANIFEST_COLUMNS = (
    "load_id",
    "source",
    "entity",
    "file_name",
    "file_version",
    "file_period",
    "sha256",
    "rows_read",
    "rows_loaded",
    "rows_rejected",
    "loaded_at",
    "superseded_by_load_id",
    "pseudonym_key_id",
)
_TMP = ".tmp-"


@dataclass(frozen=True)
class LakeExport:
    loads: int  # loads written this time
    rows: int


def table_dir(lake_raw: Path, spec: ExtractSpec) -> Path:
    return lake_raw / spec.raw_table


def manifest_path(lake_raw: Path) -> Path:
    return lake_raw / MANIFEST / f"{MANIFEST}.parquet"


def load_glob(lake_raw: Path, spec: ExtractSpec) -> str:
    """What a reader scans: every load folder, not the temporary ones (``.tmp-`` does not match ``_load_id=``)."""
    return str(table_dir(lake_raw, spec) / "_load_id=*" / "*.parquet")


def exported_load_ids(lake_raw: Path) -> set[int]:
    """The loads the lake's manifest names (those a reader may take)."""
    path = manifest_path(lake_raw)
    if not path.exists():
        return set()
    with duckdb.connect() as con:
        rows = con.execute(f"select load_id from read_parquet('{_sql_path(path)}')").fetchall()
    return {load_id for (load_id,) in rows}


def export(con: duckdb.DuckDBPyConnection, specs: list[ExtractSpec], lake_raw: Path) -> LakeExport:
    """Write every committed load of ``specs`` that the lake lacks, then the lake's manifest.

    Runs where the working database is written (under its lock), after the loads committed."""
    done = exported_load_ids(lake_raw)
    loads = rows = 0
    for spec in specs:
        raw_schema.ensure_tables(con, spec)
        _write_schema(con, spec, lake_raw)
        if not raw_schema.has_loads(con, spec):
            continue
        wanted = [
            load_id
            for (load_id,) in con.execute(
                f"select load_id from {raw_schema.RAW_SCHEMA}.load_manifest where source = ? and entity = ? order by 1",
                [spec.source, spec.entity],
            ).fetchall()
            if load_id not in done
        ]
        if wanted:
            rows += _write_loads(con, spec, lake_raw, wanted)
            loads += len(wanted)
    if loads or not manifest_path(lake_raw).exists() or _manifest_changed(con, lake_raw):
        _write_manifest(con, lake_raw)
    return LakeExport(loads, rows)


SCHEMA_LOAD_ID = 0  # no load has it: the partition of a table's schema, without rows


def _write_schema(con: duckdb.DuckDBPyConnection, spec: ExtractSpec, lake_raw: Path) -> None:
    """``_load_id=0/``: the table's columns and no row, so that a reader finds every table (and its
    columns) before the source's first delivery. No manifest row names it, so it adds nothing."""
    final = table_dir(lake_raw, spec) / f"_load_id={SCHEMA_LOAD_ID}"
    if final.exists():
        return
    final.parent.mkdir(parents=True, exist_ok=True)
    staging = final.parent / f"{_TMP}{uuid.uuid4().hex}"
    staging.mkdir()
    try:
        con.execute(
            f"""copy (select * exclude (_load_id) from {raw_schema.RAW_SCHEMA}.{spec.raw_table} limit 0)
                to '{_sql_path(staging / "data_0.parquet")}' (format parquet)"""
        )
        os.replace(staging, final)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _write_loads(con: duckdb.DuckDBPyConnection, spec: ExtractSpec, lake_raw: Path, load_ids: list[int]) -> int:
    target = table_dir(lake_raw, spec)
    target.mkdir(parents=True, exist_ok=True)
    _sweep(target)
    staging = target / f"{_TMP}{uuid.uuid4().hex}"
    ids = ", ".join(str(i) for i in load_ids)
    count = con.execute(
        f"select count(*) from {raw_schema.RAW_SCHEMA}.{spec.raw_table} where _load_id in ({ids})"
    ).fetchall()[0][0]
    try:
        if count:
            # No sort: a raw table holds each load's rows in line order (the loaders insert them so,
            # and DuckDB keeps insertion order), which a sort here would only pay for again.
            con.execute(
                f"""copy (select * from {raw_schema.RAW_SCHEMA}.{spec.raw_table} where _load_id in ({ids}))
                    to '{_sql_path(staging)}' (format parquet, partition_by (_load_id), compression snappy)"""
            )
        for load_id in load_ids:
            written = staging / f"_load_id={load_id}"
            final = target / f"_load_id={load_id}"
            if final.exists():  # written by a run killed before its manifest named it: no reader took it
                shutil.rmtree(final)
            if written.exists():
                os.replace(written, final)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    log.info("lake: %s: %d loads, %d rows written", spec.raw_table, len(load_ids), count)
    return count


def _manifest_query() -> str:
    return f"select {', '.join(MANIFEST_COLUMNS)} from {raw_schema.RAW_SCHEMA}.load_manifest order by load_id"


def _manifest_changed(con: duckdb.DuckDBPyConnection, lake_raw: Path) -> bool:
    """Whether the working database's manifest differs from the lake's (a supersession, say)."""
    differs = con.execute(
        f"""select count(*) from (
                (({_manifest_query()}) except all (select * from read_parquet('{_sql_path(manifest_path(lake_raw))}')))
                union all
                ((select * from read_parquet('{_sql_path(manifest_path(lake_raw))}')) except all ({_manifest_query()}))
            )"""
    ).fetchall()[0][0]
    return differs > 0


def _write_manifest(con: duckdb.DuckDBPyConnection, lake_raw: Path) -> None:
    path = manifest_path(lake_raw)
    path.parent.mkdir(parents=True, exist_ok=True)
    _sweep(path.parent)
    temporary = path.parent / f"{_TMP}{uuid.uuid4().hex}.parquet"
    try:
        con.execute(f"copy ({_manifest_query()}) to '{_sql_path(temporary)}' (format parquet)")
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def _sweep(folder: Path) -> None:
    """Remove what a killed export left (only one process writes the lake: the working database's writer)."""
    for leftover in folder.glob(f"{_TMP}*"):
        if leftover.is_dir():
            shutil.rmtree(leftover, ignore_errors=True)
        else:
            leftover.unlink(missing_ok=True)


def _sql_path(path: Path) -> str:
    return str(path).replace("'", "''")
