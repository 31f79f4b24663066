"""Write-audit-publish: promote audited marts to a new, immutable published DuckDB file.

The working database keeps, in schema ``publication``, the last published (audited) version
of every mart and a log row per mart. Publishing a KPI:

1. builds a new file in ``published/versions/`` from the KPI's fresh marts plus the last
   good version of every other mart (read from the working database, never from the file
   analysts have open), with ``marts.publication_log``; checkpoints and closes it;
2. records the new state in the working database;
3. atomically repoints the ``published/warehouse.duckdb`` symlink (``os.replace``).

Analysts' read-only connections keep reading the version they opened; nothing here ever
writes to, or even opens, a published file after it is finished. A finished version is made
read-only (mode 0444) before it is published, so an analyst's default read-write connection
fails at once ("Permission denied") instead of writing into it and locking every other reader
out. Old versions beyond ``keep`` are deleted (an open reader on Linux keeps its file until it
closes). What a killed publication left (a ``.building`` file, a half-made link) goes at the
next one.
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import polars as pl

from ingest.config import WarehousePaths
from orchestration.catalog import table_exists

LOG_SCHEMA = pl.Schema(
    {
        "mart": pl.Utf8,
        "kpi": pl.Utf8,
        "version_run_id": pl.Utf8,
        "built_at": pl.Datetime("us", "UTC"),
        "checks_passed": pl.Boolean,
        "checks_evaluated": pl.Int64,
        "published_at": pl.Datetime("us", "UTC"),
        "latest_attempt_run_id": pl.Utf8,
        "latest_attempt_at": pl.Datetime("us", "UTC"),
        "latest_attempt_passed": pl.Boolean,
        "latest_attempt_failures": pl.Utf8,
    }
)


@dataclass(frozen=True)
class Attempt:
    """What this run's checks said about one mart."""

    checks_evaluated: int
    failures: tuple[str, ...] = ()

    @property
    def passed(self) -> bool:
        return not self.failures


@dataclass(frozen=True)
class PublishResult:
    path: Path
    fresh: tuple[str, ...]
    carried: tuple[str, ...]
    log: pl.DataFrame
    row_counts: dict[str, int] = field(default_factory=dict)


def _version_name(kpi: str, now: dt.datetime) -> str:
    return f"warehouse_{now:%Y%m%dT%H%M%S%f}_{kpi}.duckdb"


def _previous_log(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    con.execute("create schema if not exists publication")
    if not table_exists(con, "publication", "log"):
        return pl.DataFrame(schema=LOG_SCHEMA)
    return pl.from_arrow(con.execute("select * from publication.log").to_arrow_table()).cast(LOG_SCHEMA)


def _updated_log(
    previous: pl.DataFrame, kpi: str, fresh: list[str], attempts: dict[str, tuple[str, Attempt]], run_id: str, now: dt.datetime
) -> pl.DataFrame:
    rows = {r["mart"]: r for r in previous.iter_rows(named=True)}
    for mart in fresh:
        _, attempt = attempts.get(mart, (kpi, Attempt(0)))
        rows[mart] = {
            "mart": mart, "kpi": kpi, "version_run_id": run_id, "built_at": now, "checks_passed": True,
            "checks_evaluated": attempt.checks_evaluated, "published_at": now,
        }
    # Record this run's verdict on every mart it checked, including marts held back.
    for mart, (mart_kpi, attempt) in attempts.items():
        row = rows.setdefault(mart, {"mart": mart, "kpi": mart_kpi, "checks_passed": False, "checks_evaluated": 0})
        row.update(
            latest_attempt_run_id=run_id,
            latest_attempt_at=now,
            latest_attempt_passed=attempt.passed,
            latest_attempt_failures="; ".join(attempt.failures) or None,
        )
    return pl.DataFrame(list(rows.values()), schema=LOG_SCHEMA).sort("kpi", "mart")


def _point_symlink(link: Path, target: Path) -> None:
    temporary = link.with_name(f".{link.name}.{uuid.uuid4().hex}")
    os.symlink(os.path.relpath(target, link.parent), temporary)
    os.replace(temporary, link)  # atomic: readers see the old or the new version, never neither


PUBLISHED_MODE = 0o444


def last_published_at(con: duckdb.DuckDBPyConnection, kpi: str) -> dt.datetime | None:
    """When the KPI last published (from the working database's record), or None if it never did."""
    if not table_exists(con, "publication", "log"):
        return None
    return con.execute("select max(published_at) from publication.log where kpi = ?", [kpi]).fetchall()[0][0]


def _sweep(paths: WarehousePaths, versions: Path) -> None:
    """Remove what an interrupted publication left: the version it was building, the link it was making."""
    for leftover in [*versions.glob("*.building"), *versions.glob("*.building.wal"), *paths.published_dir.glob(".*.duckdb.*")]:
        leftover.unlink(missing_ok=True)


def _prune(versions: Path, keep: int, current: Path) -> None:
    files = sorted(versions.glob("warehouse_*.duckdb"))
    for old in files[:-keep] if keep > 0 else []:
        if old != current:
            old.unlink(missing_ok=True)


def publish(
    working: duckdb.DuckDBPyConnection,
    paths: WarehousePaths,
    kpi: str,
    fresh: list[str],
    attempts: dict[str, tuple[str, Attempt]],
    run_id: str,
    keep: int = 5,
) -> PublishResult:
    """Publish ``fresh`` marts (tables of schema marts in the ``working`` connection) of ``kpi``.

    ``attempts`` maps every mart this run checked to (its KPI, what the checks said).
    """
    now = dt.datetime.now(dt.UTC)
    versions = paths.published_dir / "versions"
    versions.mkdir(parents=True, exist_ok=True)
    _sweep(paths, versions)
    final = versions / _version_name(kpi, now)
    building = final.with_name(final.name + ".building")

    try:
        log = _updated_log(_previous_log(working), kpi, fresh, attempts, run_id, now)
        previously_published = working.execute(
            "select table_name from information_schema.tables where table_schema = 'publication' and table_name <> 'log'"
        ).fetchall()
        carried = sorted(m for (m,) in previously_published if m not in fresh)

        working.execute(f"attach '{building}' as building")
        try:
            working.execute("create schema building.marts")
            for mart in fresh:
                working.execute(f"create table building.marts.{mart} as select * from marts.{mart}")
            for mart in carried:
                working.execute(f"create table building.marts.{mart} as select * from publication.{mart}")
            working.register("publication_log_frame", log.to_arrow())
            working.execute("create table building.marts.publication_log as select * from publication_log_frame")
            row_counts = {
                m: working.execute(f"select count(*) from building.marts.{m}").fetchone()[0] for m in [*fresh, *carried]
            }
            working.execute("checkpoint building")
        finally:
            working.execute("detach building")

        # The file is complete and closed: record it as the state to carry forward, then repoint.
        working.execute("begin transaction")
        for mart in fresh:
            working.execute(f"create or replace table publication.{mart} as select * from marts.{mart}")
        working.execute("create or replace table publication.log as select * from publication_log_frame")
        working.execute("commit")
        working.unregister("publication_log_frame")
    except BaseException:
        building.unlink(missing_ok=True)
        raise

    os.chmod(building, PUBLISHED_MODE)
    os.replace(building, final)
    _point_symlink(paths.published_db, final)
    _prune(versions, keep, final)
    return PublishResult(final, tuple(fresh), tuple(carried), log, row_counts)
