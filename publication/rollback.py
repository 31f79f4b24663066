"""Point the published database back to an earlier version, and say so in ``marts.publication_log``.

(``python -m commands.versions`` is the command: `make versions`, `make rollback`.)

Published versions are immutable, so a rollback publishes a *new* version,
``warehouse_<time>_rollback.duckdb``: the marts of ``VERSION`` exactly, with a publication log
whose every row says when, from which version, to which and why (``rolled_back_at``,
``rolled_back_from``, ``rolled_back_to``, ``rollback_reason``). Analysts' open connections keep
the version they opened; the next connection sees the rollback.

The working database's record of what is published (schema ``publication``) follows, so later
publications carry the rolled-back marts, not the withdrawn ones. The withdrawn rows are
remembered (``withheld_fingerprint``): a later run publishes a KPI's marts again only once
they change (new deliveries, a fix), never the same withdrawn figures on the next quiet night.
The rollback holds the working database's lock while it works, so it never interleaves with
a run's publication.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import polars as pl

from config.kpis import FORMER_MART_NAMES
from config.layout import WarehousePaths
from publication import docs_site, version_files
from publication import scale as extract_scale
from publication.log import ROLLBACK_COLUMNS, normalized_log, stored_log, stored_marts
from publication.publish import fingerprint

_SOURCE = "rollback_source"
_SPECIAL = ("publication_log", "load_quality", extract_scale.TABLE)


def _current(mart: str) -> str:
    """A mart's name now: a version published before the marts were renamed holds their former names."""
    return FORMER_MART_NAMES.get(mart, mart)


class RollbackError(ValueError):
    """A rollback that cannot be made, with why."""


def _marts(con: duckdb.DuckDBPyConnection) -> list[str]:
    rows = con.execute(
        "select table_name from duckdb_tables() where database_name = ? and schema_name = 'marts' order by 1", [_SOURCE]
    ).fetchall()
    return [name for (name,) in rows if name not in _SPECIAL]


def rollback(working: duckdb.DuckDBPyConnection, paths: WarehousePaths, to: str, reason: str, keep: int = 5) -> Path:
    """Publish version ``to`` (a file name in published/versions) again as a new version; the new file's path."""
    folder = version_files.folder(paths)
    target = folder / to
    if Path(to).name != to or not target.is_file():
        known = ", ".join(v.name for v in version_files.listing(paths)) or "none"
        raise RollbackError(f"no published version {to!r} in {folder}; the versions kept: {known}")
    current = paths.published_db.resolve() if paths.published_db.exists() else None
    if target == current:
        raise RollbackError(f"{to} is the published version already")
    if not reason.strip():
        raise RollbackError("say why (--reason): the publication log records it for analysts")
    version_files.sweep(paths)
    now = dt.datetime.now(dt.UTC)
    final = folder / version_files.version_name("rollback", now)
    building = final.with_name(final.name + ".building")
    shown = dict(stored_log(working, "published_log").select("mart", "content_fingerprint").iter_rows())

    working.execute(f"attach '{target}' as {_SOURCE} (read_only)")
    try:
        marts = _marts(working)
        rows = {mart: fingerprint(working, f"{_SOURCE}.marts.{mart}") for mart in marts}
        log = normalized_log(working.sql(f"select * from {_SOURCE}.marts.publication_log").pl())
        log = log.with_columns(
            content_fingerprint=pl.col("mart").replace_strict(rows, default=pl.col("content_fingerprint")),
            rolled_back_at=pl.lit(now, pl.Datetime("us", "UTC")),
            rolled_back_from=pl.lit(current.name if current else None, pl.Utf8),
            rolled_back_to=pl.lit(to),
            rollback_reason=pl.lit(reason.strip()),
            rollback_ended_at=pl.lit(None, pl.Datetime("us", "UTC")),
            rollback_end_reason=pl.lit(None, pl.Utf8),
            # the rows withdrawn: those the current version shows, where they differ from the target's
            withheld_fingerprint=pl.col("mart").replace_strict(
                {m: fp for m, fp in shown.items() if fp is not None and fp != rows.get(m)},
                default=None,
                return_dtype=pl.Utf8,
            ),
        )
        working.register("rollback_log", log.to_arrow())
        try:
            version_files.attach_building(working, building)
            try:
                working.execute("create schema building.marts")
                for mart in [*marts, "load_quality"]:
                    working.execute(
                        f"create table building.marts.{_current(mart)} as select * from {_SOURCE}.marts.{mart}"
                    )
                working.execute("create table building.marts.publication_log as select * from rollback_log")
                extract_scale.create(working, "building", extract_scale.read(working, _SOURCE))
                working.execute("checkpoint building")
            finally:
                working.execute("detach building")
            version_files.add_former_names(building, FORMER_MART_NAMES)
            working.execute("begin transaction")
            for table in stored_marts(working):
                if table not in {_current(m) for m in marts}:
                    working.execute(f"drop table publication.{table}")
            for mart in marts:
                working.execute(
                    f"create or replace table publication.{_current(mart)} as select * from {_SOURCE}.marts.{mart}"
                )
            working.execute("create or replace table publication.log as select * from rollback_log")
            working.execute("create or replace table publication.published_log as select * from rollback_log")
            working.execute("commit")
        except BaseException:
            building.unlink(missing_ok=True)
            raise
        finally:
            working.unregister("rollback_log")
    finally:
        working.execute(f"detach {_SOURCE}")
    docs_site.copy_for(target, final)
    version_files.promote(building, final, paths)
    version_files.prune(folder, keep, final, also_keep=frozenset({target}))
    return final


def end_rollback(working: duckdb.DuckDBPyConnection, paths: WarehousePaths, reason: str, keep: int = 5) -> Path:
    """End the rollback the published version shows: a new version with the same marts, whose log no
    longer marks them rolled back and records when and why it ended (``rollback_ended_at``,
    ``rollback_end_reason``). The withdrawn figures are no longer withheld: the next run publishes
    the latest figures that pass their checks, as on any night."""
    if not paths.published_db.exists():
        raise RollbackError("nothing is published: there is no rollback to end")
    current = paths.published_db.resolve()
    if not reason.strip():
        raise RollbackError("say why (--reason): the publication log records it for analysts")
    log = stored_log(working, "published_log")
    if log["rolled_back_to"].drop_nulls().is_empty():
        raise RollbackError(f"{current.name} shows no rollback: there is none to end")
    version_files.sweep(paths)
    now = dt.datetime.now(dt.UTC)
    ended = log.with_columns(
        *(pl.lit(None, log.schema[c]).alias(c) for c in ROLLBACK_COLUMNS),
        rollback_ended_at=pl.when(pl.col("rolled_back_to").is_not_null()).then(pl.lit(now, pl.Datetime("us", "UTC"))),
        rollback_end_reason=pl.when(pl.col("rolled_back_to").is_not_null()).then(pl.lit(reason.strip())),
    )
    final = version_files.folder(paths) / version_files.version_name("rollback_end", now)
    building = final.with_name(final.name + ".building")
    working.register("ended_log", ended.to_arrow())
    try:
        version_files.attach_building(working, building)
        try:
            working.execute("create schema building.marts")
            for table in [*stored_marts(working), "load_quality"]:
                working.execute(f"create table building.marts.{table} as select * from publication.{table}")
            working.execute("create table building.marts.publication_log as select * from ended_log")
            extract_scale.create(working, "building", _version_scale(current))
            working.execute("checkpoint building")
        finally:
            working.execute("detach building")
        version_files.add_former_names(building, FORMER_MART_NAMES)
        working.execute("begin transaction")
        working.execute("create or replace table publication.log as select * from ended_log")
        working.execute("create or replace table publication.published_log as select * from ended_log")
        working.execute("commit")
    except BaseException:
        building.unlink(missing_ok=True)
        raise
    finally:
        working.unregister("ended_log")
    docs_site.copy_for(current, final)
    version_files.promote(building, final, paths)
    version_files.prune(version_files.folder(paths), keep, final)
    return final


def _version_scale(version: Path) -> float:
    with duckdb.connect(str(version), read_only=True) as con:
        return extract_scale.read(con)
