"""Write-audit-publish: promote audited marts to a new, immutable published DuckDB file.

The working database keeps, in schema ``publication``, the last published (audited) version
of every mart, a log row per mart (``log``: the latest state; ``published_log``: the state the
current published file shows) and the ``load_quality`` it published. Publishing a KPI:

1. compares the KPI's marts with their last published version (a fingerprint of their rows):
   a mart whose rows did not change is not published again, and keeps its ``data_changed_at``;
2. if nothing changed (no mart, no load, no KPI's status: held back, stale, as of) it writes
   no file: the log row records the attempt, and the next version any KPI publishes carries it;
3. otherwise builds a new file in ``published/versions/`` from the KPI's changed marts plus
   the last good version of every other mart (read from the working database, never from the
   file analysts have open), with ``marts.publication_log`` and ``marts.load_quality``;
   checkpoints and closes it; records the new state in the working database; makes its dbt
   docs site (``publication.docs_site``); atomically repoints the ``published/docs.html``
   and ``published/warehouse.duckdb`` symlinks (``os.replace``).

A stale KPI (a source overdue, see ``ingest.judging.freshness``) keeps publishing its last good
figures, marked ``is_stale`` with the reason; with ``stale_blocks`` staleness holds it back.

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
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import polars as pl

from config.kpis import FORMER_MART_NAMES
from config.layout import WarehousePaths
from ingest import raw_schema
from publication import log as publication_log
from publication import scale as extract_scale
from publication import version_files
from publication.duckdb_files import table_exists
from publication.load_quality import LOAD_QUALITY_SQL
from publication.log import VISIBLE_STATE, Attempt, KpiState, stored_log


@dataclass(frozen=True)
class PublishResult:
    path: Path | None  # the published file after this step (None: nothing ever published)
    fresh: tuple[str, ...]  # marts whose new rows this step published
    carried: tuple[str, ...]
    log: pl.DataFrame
    row_counts: dict[str, int] = field(default_factory=dict)
    wrote_version: bool = True  # False: nothing had changed, no new file


def fingerprint(con: duckdb.DuckDBPyConnection, relation: str) -> str:
    """Of a table's rows, in any order: equal rows, equal fingerprint."""
    count, total = con.execute(f"select count(*), coalesce(sum(hash(t)), 0)::varchar from {relation} as t").fetchall()[
        0
    ]
    return f"{count}:{total}"


def publish(
    working: duckdb.DuckDBPyConnection,
    paths: WarehousePaths,
    kpi: str,
    marts: list[str],
    attempts: dict[str, tuple[str, Attempt]],
    run_id: str,
    keep: int = 5,
    states: Mapping[str, KpiState] | None = None,
    stale_blocks: bool = False,
    site: Callable[[duckdb.DuckDBPyConnection, Path], Path | None] | None = None,
    scale: float = 1.0,
) -> PublishResult:
    """Publish the ``marts`` of ``kpi`` (tables of schema marts in the ``working`` connection) that changed.

    ``attempts`` maps every mart this run checked to (its KPI, what the checks said); ``states``
    every KPI's state (when rebuilt, as of, stale), recorded whichever KPI publishes; ``site``
    makes the new version's docs site before it is shown (``publication.docs_site.build``);
    ``scale`` the extracts' scale (1.0 for real extracts), recorded in ``marts.extract_scale`` so that
    every reader can say when counts and amounts are a demo's fraction of the report's.
    """
    states = states or {}
    now = dt.datetime.now(dt.UTC)
    versions = version_files.folder(paths)
    version_files.sweep(paths)
    working.execute(raw_schema.MANIFEST_DDL)  # marts.load_quality reads it, even before the first load
    publication_log.rename_former_marts(working)
    previous = stored_log(working, "log")
    if stale_blocks:
        attempts = publication_log.held_back_as_stale(attempts, kpi, marts, states)
    own = states.get(kpi)
    publishes = not (stale_blocks and own is not None and own.is_stale)
    candidates = marts if publishes else []
    published_fingerprints = dict(previous.select("mart", "content_fingerprint").iter_rows())
    withheld = dict(previous.select("mart", "withheld_fingerprint").iter_rows())
    changed = {}
    for mart in candidates:
        rows = fingerprint(working, f"marts.{mart}")
        if rows == withheld.get(mart):
            continue  # the rows a rollback withdrew: unchanged since, they stay withdrawn
        if rows != published_fingerprints.get(mart) or not table_exists(working, "publication", mart):
            changed[mart] = rows
    log = publication_log.updated_log(previous, kpi, marts, changed, attempts, states, run_id, now, publishes)
    quality = fingerprint(working, f"({LOAD_QUALITY_SQL})")
    quality_changed = not table_exists(working, "publication", "load_quality") or quality != fingerprint(
        working, "publication.load_quality"
    )
    shown = stored_log(working, "published_log")
    state_changed = not log.select(VISIBLE_STATE).equals(shown.select(VISIBLE_STATE))
    current = paths.published_db.resolve() if paths.published_db.exists() else None
    if not (changed or quality_changed or state_changed) and current is not None:
        working.register("publication_log_frame", log.to_arrow())
        working.execute("create or replace table publication.log as select * from publication_log_frame")
        working.unregister("publication_log_frame")
        if site is not None and not version_files.site_of(current).exists() and site(working, current):
            version_files.point_symlink(version_files.docs_link(paths), version_files.site_of(current))
        return PublishResult(current, (), tuple(sorted(published_fingerprints)), log, wrote_version=False)

    final = versions / version_files.version_name(kpi, now)
    building = final.with_name(final.name + ".building")
    fresh = sorted(changed)
    try:
        carried = [m for m in publication_log.stored_marts(working) if m not in changed]

        version_files.attach_building(working, building)
        try:
            working.execute("create schema building.marts")
            for mart in fresh:
                working.execute(f"create table building.marts.{mart} as select * from marts.{mart}")
            for mart in carried:
                working.execute(f"create table building.marts.{mart} as select * from publication.{mart}")
            working.register("publication_log_frame", log.to_arrow())
            working.execute("create table building.marts.publication_log as select * from publication_log_frame")
            working.execute(f"create table building.marts.load_quality as {LOAD_QUALITY_SQL}")
            extract_scale.create(working, "building", scale)
            row_counts = {
                m: working.execute(f"select count(*) from building.marts.{m}").fetchall()[0][0]
                for m in [*fresh, *carried]
            }
            working.execute("checkpoint building")
        finally:
            working.execute("detach building")
        version_files.add_former_names(building, FORMER_MART_NAMES)

        # The file is complete and closed: record it as the state to carry forward, then repoint.
        working.execute("begin transaction")
        for mart in fresh:
            working.execute(f"create or replace table publication.{mart} as select * from marts.{mart}")
        working.execute("create or replace table publication.log as select * from publication_log_frame")
        working.execute("create or replace table publication.published_log as select * from publication_log_frame")
        working.execute(f"create or replace table publication.load_quality as {LOAD_QUALITY_SQL}")
        working.execute("commit")
        working.unregister("publication_log_frame")
    except BaseException:
        building.unlink(missing_ok=True)
        raise

    if site is not None:
        site(working, final)
    version_files.promote(building, final, paths)
    rolled_back_to = frozenset(versions / name for name in log["rolled_back_to"].drop_nulls().unique())
    version_files.prune(versions, keep, final, also_keep=rolled_back_to)
    return PublishResult(final, tuple(fresh), tuple(carried), log, row_counts)
