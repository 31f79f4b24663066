"""The ``raw`` schema of the working database: every ``raw.*`` name and the queries on it, in one place.

* ``raw.<source>__<entity>``: typed rows of every loaded file version, with lineage columns;
  ``raw.<source>__<entity>__current`` shows the current version of each file (what dbt reads).
* ``raw.load_manifest``: one row per loaded file version: which file, which bytes, rows read,
  loaded and rejected, the run, and the pseudonymisation key id it was loaded under.
* ``raw.rejects``: every rejected line with its reason (personal identifiers masked).
* ``raw.quarantine``: landing entries refused as a whole (an empty or truncated file, a wrong
  header or encoding, a name that is not an extract's, a link out of landing), open until the
  entry is fixed or removed.
"""

from __future__ import annotations

import duckdb
import polars as pl

from ingest.specs import ExtractSpec

RAW_SCHEMA = "raw"

MANIFEST_DDL = f"""
create schema if not exists {RAW_SCHEMA};
create table if not exists {RAW_SCHEMA}.load_manifest (
    load_id bigint primary key,
    source varchar not null,
    file_name varchar not null,
    file_path varchar not null,
    file_version integer not null,
    size_bytes bigint not null,
    sha256 varchar not null,
    rows_read bigint not null,
    rows_loaded bigint not null,
    rows_rejected bigint not null,
    run_id varchar,
    loaded_at timestamptz not null,
    superseded_by_load_id bigint,
    mtime_ns bigint,
    entity varchar,
    pseudonym_key_id varchar,
    file_period date  -- the period the file's name gives: its day, or the first of its month
);
-- working databases created before these columns were recorded
alter table {RAW_SCHEMA}.load_manifest add column if not exists mtime_ns bigint;
alter table {RAW_SCHEMA}.load_manifest add column if not exists entity varchar;
alter table {RAW_SCHEMA}.load_manifest add column if not exists pseudonym_key_id varchar;
alter table {RAW_SCHEMA}.load_manifest add column if not exists file_period date;
create table if not exists {RAW_SCHEMA}.rejects (
    load_id bigint not null,
    source varchar not null,
    source_file varchar not null,
    line_number bigint not null,
    reason varchar not null,
    raw_line varchar,
    reason_kinds varchar[]  -- what was wrong, quoting nothing: counted in marts.load_quality
);
alter table {RAW_SCHEMA}.rejects add column if not exists reason_kinds varchar[];
create table if not exists {RAW_SCHEMA}.quarantine (
    source varchar not null,
    file_name varchar not null,
    reason varchar not null,
    line_number bigint,
    size_bytes bigint,
    sha256 varchar,
    first_seen_at timestamptz not null,
    first_seen_run_id varchar,
    last_seen_at timestamptz not null,
    resolved_at timestamptz
);
"""


def raw_table_ddl(spec: ExtractSpec) -> str:
    columns = ",\n    ".join(f"{c.name} {c.type}" for c in spec.columns)
    return f"""
create table if not exists {RAW_SCHEMA}.{spec.raw_table} (
    {columns},
    _load_id bigint not null,
    _source_file varchar not null,
    _line_number bigint not null
)"""


def current_view_ddl(spec: ExtractSpec) -> str:
    """Rows of the current version of each file: what dbt reads (superseded versions stay in raw),
    with ``_file_period``, the period its file's name gives (which print of a record is the
    latest is decided by it, never by the order files happened to arrive in)."""
    return f"""
create or replace view {RAW_SCHEMA}.{spec.raw_table}__current as
select t.*, m.file_period as _file_period from {RAW_SCHEMA}.{spec.raw_table} t
join {RAW_SCHEMA}.load_manifest m on t._load_id = m.load_id and m.superseded_by_load_id is null"""


def ensure_tables(con: duckdb.DuckDBPyConnection, spec: ExtractSpec) -> None:
    con.execute(MANIFEST_DDL)
    con.execute(raw_table_ddl(spec))
    con.execute(current_view_ddl(spec))
    # loads recorded before the manifest named their entity or period: the file name says them
    con.execute(
        f"update {RAW_SCHEMA}.load_manifest set entity = ? where entity is null and source = ? and regexp_full_match(file_name, ?)",
        [spec.entity, spec.source, spec.name_regex.pattern],
    )
    unknown = con.execute(
        f"select distinct file_name from {RAW_SCHEMA}.load_manifest where file_period is null and source = ? and entity = ?",
        [spec.source, spec.entity],
    ).fetchall()
    for (name,) in unknown:
        con.execute(
            f"update {RAW_SCHEMA}.load_manifest set file_period = ? where file_name = ? and source = ?",
            [spec.period(name), name, spec.source],
        )


def has_manifest(con: duckdb.DuckDBPyConnection) -> bool:
    return (
        con.execute(
            "select count(*) from duckdb_tables() where schema_name = ? and table_name = 'load_manifest'", [RAW_SCHEMA]
        ).fetchall()[0][0]
        > 0
    )


def known_loads(con: duckdb.DuckDBPyConnection, spec: ExtractSpec) -> list[tuple]:
    """(file_name, sha256, file_version, load_id, size_bytes, mtime_ns, is_current) of the source's loads, oldest first."""
    return con.execute(
        f"""select file_name, sha256, file_version, load_id, size_bytes, mtime_ns, superseded_by_load_id is null
            from {RAW_SCHEMA}.load_manifest where source = ? order by load_id""",
        [spec.source],
    ).fetchall()


def current_loads(con: duckdb.DuckDBPyConnection, sources: list[str]) -> list[tuple[str, int]]:
    """(source, load_id) of the current file versions of ``sources``, in order."""
    return con.execute(
        f"""select source, load_id from {RAW_SCHEMA}.load_manifest
            where list_contains(?, source) and superseded_by_load_id is null order by all""",
        [sorted(sources)],
    ).fetchall()


def current_file_names(con: duckdb.DuckDBPyConnection, spec: ExtractSpec) -> list[str]:
    """Names of the spec's files whose current version is loaded."""
    rows = con.execute(
        f"""select file_name from {RAW_SCHEMA}.load_manifest
            where source = ? and entity = ? and superseded_by_load_id is null order by file_name""",
        [spec.source, spec.entity],
    ).fetchall()
    return [name for (name,) in rows]


def current_files(con: duckdb.DuckDBPyConnection) -> dict[tuple[str, str], tuple[int, int | None]]:
    """``{(source, file_name): (size_bytes, mtime_ns)}`` of every file's current loaded version."""
    if not has_manifest(con):
        return {}
    rows = con.execute(
        f"select source, file_name, size_bytes, mtime_ns from {RAW_SCHEMA}.load_manifest where superseded_by_load_id is null"
    ).fetchall()
    return {(source, name): (size, mtime) for source, name, size, mtime in rows}


def pseudonym_key_ids(con: duckdb.DuckDBPyConnection, spec: ExtractSpec) -> list[str]:
    """Ids of the keys the source's loads were pseudonymised under (loads before ids were recorded have none)."""
    rows = con.execute(
        f"select distinct pseudonym_key_id from {RAW_SCHEMA}.load_manifest where source = ? and pseudonym_key_id is not null order by 1",
        [spec.source],
    ).fetchall()
    return [key_id for (key_id,) in rows]


def has_loads(con: duckdb.DuckDBPyConnection, spec: ExtractSpec) -> bool:
    return (
        con.execute(f"select count(*) from {RAW_SCHEMA}.load_manifest where source = ?", [spec.source]).fetchall()[0][0]
        > 0
    )


def next_load_id(con: duckdb.DuckDBPyConnection) -> int:
    return con.execute(f"select coalesce(max(load_id), 0) + 1 from {RAW_SCHEMA}.load_manifest").fetchall()[0][0]


def record_loads(
    con: duckdb.DuckDBPyConnection, spec: ExtractSpec, frame: pl.DataFrame, run_id: str | None, key_id: str | None
) -> None:
    """Manifest rows of new loads (``frame``: one row each, with ``previous_load_id``), and the
    supersession of each file's previous version: one statement each."""
    con.register("_new_loads", frame.to_arrow())
    try:
        con.execute(
            f"""insert into {RAW_SCHEMA}.load_manifest by name
                select * exclude (previous_load_id), ? as source, ? as entity, ? as run_id, now() as loaded_at,
                       ? as pseudonym_key_id
                from _new_loads""",
            [spec.source, spec.entity, run_id, key_id],
        )
        con.execute(
            f"""update {RAW_SCHEMA}.load_manifest m set superseded_by_load_id = n.load_id
                from _new_loads n where m.load_id = n.previous_load_id"""
        )
    finally:
        con.unregister("_new_loads")


def update_quarantine(
    con: duckdb.DuckDBPyConnection, source: str, names: list[str], refused: pl.DataFrame, run_id: str | None
) -> None:
    """Record this scan of the landing folder: ``refused`` (file_name, reason, line_number, size_bytes,
    sha256) are the entries refused now; open entries among ``names`` not refused any more are resolved.

    An entry refused again for the same reason keeps its first sighting; a new reason opens a new entry.
    """
    con.register("_refused", refused.to_arrow())
    try:
        con.execute(
            f"""update {RAW_SCHEMA}.quarantine q set resolved_at = now()
                where q.source = ? and q.resolved_at is null and list_contains(?, q.file_name)
                  and not exists (select 1 from _refused r where r.file_name = q.file_name and r.reason = q.reason)""",
            [source, names],
        )
        con.execute(
            f"""update {RAW_SCHEMA}.quarantine q set last_seen_at = now(), line_number = r.line_number,
                       size_bytes = r.size_bytes, sha256 = r.sha256
                from _refused r where q.source = ? and q.resolved_at is null and q.file_name = r.file_name and q.reason = r.reason""",
            [source],
        )
        con.execute(
            f"""insert into {RAW_SCHEMA}.quarantine
                select ?, r.file_name, r.reason, r.line_number, r.size_bytes, r.sha256, now(), ?, now(), null
                from _refused r
                where not exists (select 1 from {RAW_SCHEMA}.quarantine q
                                  where q.source = ? and q.resolved_at is null and q.file_name = r.file_name and q.reason = r.reason)""",
            [source, run_id, source],
        )
    finally:
        con.unregister("_refused")


def open_quarantine(con: duckdb.DuckDBPyConnection, source: str) -> list[tuple]:
    """(file_name, reason, line_number, first_seen_at) of the source's entries still refused."""
    return con.execute(
        f"""select file_name, reason, line_number, first_seen_at from {RAW_SCHEMA}.quarantine
            where source = ? and resolved_at is null order by file_name""",
        [source],
    ).fetchall()


def current_row_count(con: duckdb.DuckDBPyConnection, spec: ExtractSpec) -> int:
    return con.execute(f"select count(*) from {RAW_SCHEMA}.{spec.raw_table}__current").fetchall()[0][0]


def latest_rejects(con: duckdb.DuckDBPyConnection, spec: ExtractSpec, limit: int = 10) -> list[tuple]:
    """(source_file, line_number, reason) of the source's latest rejects."""
    return con.execute(
        f"""select source_file, line_number, reason from {RAW_SCHEMA}.rejects
            where source = ? order by load_id desc, line_number limit {int(limit)}""",
        [spec.source],
    ).fetchall()


def loads_since(loads: pl.DataFrame, since) -> list[dict]:
    """The current loads of ``loads`` (a ``loads_frame``) made after ``since`` (None: all): those the
    volume and reject-rate checks judge, not yet passed by their KPI."""
    return [r for r in loads.iter_rows(named=True) if r["is_current"] and (since is None or r["loaded_at"] > since)]


def loads_frame(con: duckdb.DuckDBPyConnection, spec: ExtractSpec) -> pl.DataFrame:
    """Every load of the spec's files, with the load each one superseded (``replaced_load_id``) and its row count."""
    return con.sql(
        f"""select m.load_id, m.file_name, m.file_version, m.rows_read, m.rows_loaded, m.rows_rejected, m.loaded_at,
                       m.superseded_by_load_id is null as is_current, p.load_id as replaced_load_id,
                       p.rows_loaded as replaced_rows_loaded
                from {RAW_SCHEMA}.load_manifest m
                left join {RAW_SCHEMA}.load_manifest p on p.superseded_by_load_id = m.load_id
                where m.source = ? and m.entity = ?
                order by m.load_id""",
        params=[spec.source, spec.entity],
    ).pl()
