"""Load new landing files into the working database's ``raw`` schema.

Guarantees, per file:
* one transaction: its raw rows, its rejects and its manifest entry commit together or not at all;
* rows read = rows loaded + rows rejected, recorded in ``raw.load_manifest``;
* the same bytes are never loaded twice (keyed on sha256); a changed file under a known
  name is loaded as a new version and supersedes the old one (raw keeps both; staging reads
  the current version only);
* landing files are only read, never modified or moved.

Row-level problems (field count, unparseable value, failed row rule, undecodable bytes) send
the row to ``raw.rejects`` with its reason. File-level problems (missing or wrong header)
raise ``MalformedFileError`` naming the file, line and reason; that file is rolled back, the
other files still load, and ``IngestError`` reports every failed file at the end.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import polars as pl

from ingest import japanese, pseudonym
from ingest.readers import DecodedFile, decode_file
from ingest.specs import Column, ExtractSpec

log = logging.getLogger(__name__)

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
    superseded_by_load_id bigint
);
create table if not exists {RAW_SCHEMA}.rejects (
    load_id bigint not null,
    source varchar not null,
    source_file varchar not null,
    line_number bigint not null,
    reason varchar not null,
    raw_line varchar
);
"""


class MalformedFileError(ValueError):
    def __init__(self, path: Path, line: int, reason: str):
        self.path, self.line, self.reason = path, line, reason
        super().__init__(f"{path}: line {line}: {reason}")


class IngestError(RuntimeError):
    """Some files could not be loaded; the others were committed."""

    def __init__(self, failures: list[MalformedFileError], summary: LoadSummary):
        self.failures, self.summary = failures, summary
        details = "\n".join(f"  - {f}" for f in failures)
        super().__init__(f"{len(failures)} landing file(s) could not be loaded and were left untouched:\n{details}")


@dataclass(frozen=True)
class FileLoad:
    load_id: int
    file_name: str
    file_version: int
    rows_read: int
    rows_loaded: int
    rows_rejected: int


@dataclass
class LoadSummary:
    source: str
    loaded: list[FileLoad] = field(default_factory=list)
    skipped_unchanged: list[str] = field(default_factory=list)

    @property
    def rows_loaded(self) -> int:
        return sum(f.rows_loaded for f in self.loaded)

    @property
    def rows_rejected(self) -> int:
        return sum(f.rows_rejected for f in self.loaded)


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
    """Rows of the current version of each file: what dbt reads (superseded versions stay in raw)."""
    return f"""
create or replace view {RAW_SCHEMA}.{spec.raw_table}__current as
select t.* from {RAW_SCHEMA}.{spec.raw_table} t
semi join {RAW_SCHEMA}.load_manifest m on t._load_id = m.load_id and m.superseded_by_load_id is null"""


def ensure_tables(con: duckdb.DuckDBPyConnection, spec: ExtractSpec) -> None:
    con.execute(MANIFEST_DDL)
    con.execute(raw_table_ddl(spec))
    con.execute(current_view_ddl(spec))


def _sql_str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def parse_sql(spec: ExtractSpec, lines_table: str) -> str:
    """SQL that splits, types and validates every data line of ``lines_table``.

    Output: line_number, line, one column per spec column, and ``_reasons`` (empty list = valid).
    """
    n = len(spec.columns)
    texts = ",\n        ".join(
        f"nullif(trim(trim(f[{i}]), '\"'), '') as {c.name}__text" for i, c in enumerate(spec.columns, start=1)
    )
    # Low-cardinality columns with a costly parse (wareki dates: a few thousand distinct texts
    # among millions of fields) are parsed once per distinct text and joined back.
    templates = list(dict.fromkeys(c.parse for c in spec.columns if c.parse_distinct))
    lookups = "".join(
        f"""
_lookup_{i} as (
    select text, {Column("text", c.type, parse=template).parse_sql("text")} as value
    from (select distinct unnest([{", ".join(f"{c.name}__text" for c in spec.columns if c.parse == template)}]) as text from texts)
),"""
        for i, template in enumerate(templates)
        for c in [next(c for c in spec.columns if c.parse == template)]
    )
    joins = "".join(
        f"\n    left join _lookup_{templates.index(c.parse)} as _{c.name} on _{c.name}.text = texts.{c.name}__text"
        for c in spec.columns
        if c.parse_distinct
    )
    values = ",\n        ".join(
        f"_{c.name}.value as {c.name}" if c.parse_distinct else f"{c.parse_sql(c.name + '__text')} as {c.name}"
        for c in spec.columns
    )
    checks = [f"case when n_fields <> {n} then 'expected {n} fields, found ' || n_fields end"]
    for c in spec.columns:
        if c.required:
            checks.append(f"case when {c.name}__text is null then '{c.name}: missing value' end")
        quoted = "'personal data'" if c.sensitive else f"{c.name}__text"
        checks.append(
            f"case when {c.name}__text is not null and {c.name} is null "
            f"then '{c.name}: cannot parse ' || {quoted} || ' as {c.type}' end"
        )
    for rule in spec.rules:
        checks.append(f"case when not coalesce(({rule.condition}), true) then {_sql_str(rule.reason)} end")
    reasons = ",\n            ".join(checks)
    return f"""
with split as (
    select line_number, line, string_split(line, {_sql_str(spec.delimiter)}) as f
    from {lines_table}
    where line_number > 1 and line <> ''
),
texts as (
    select line_number, line, len(f) as n_fields,
        {texts}
    from split
),
{lookups}
typed as (
    select texts.*,
        {values}
    from texts{joins}
)
select *,
    list_filter([
            {reasons}
        ], lambda r: r is not null) as _reasons
from typed
"""


REDACTED = "<redacted>"


def _redacted(spec: ExtractSpec, sql: str) -> str:
    """Personal identifiers never reach raw.rejects: mask them in reasons and lines."""
    return f"regexp_replace({sql}, {_sql_str(spec.redact)}, '{REDACTED}', 'g')" if spec.redact else sql


def _read_lines(con: duckdb.DuckDBPyConnection, utf8_path: Path) -> None:
    # One VARCHAR column per physical line: a delimiter that never occurs and no quoting.
    # row_number() over () follows the file order (DuckDB preserves insertion order).
    con.execute(
        """
        create or replace temp table _lines as
        select row_number() over () as line_number,
               rtrim(replace(coalesce(line, ''), chr(65279), ''), chr(13)) as line
        from read_csv(?, columns = {'line': 'VARCHAR'}, header = false, delim = chr(31),
                      quote = '', escape = '', auto_detect = false, max_line_size = 16777216)
        """,
        [str(utf8_path)],
    )


def _check_header(con: duckdb.DuckDBPyConnection, spec: ExtractSpec, path: Path) -> None:
    row = con.execute("select line from _lines where line_number = 1").fetchone()
    if row is None or row[0] == "":
        raise MalformedFileError(path, 1, "empty file: expected a header line")
    found = [h.strip().strip('"') for h in row[0].split(spec.delimiter)]
    if found != list(spec.header):
        raise MalformedFileError(
            path, 1, f"header does not match the {spec.source} spec: expected {list(spec.header)}, found {found}"
        )


def _load_one(
    con: duckdb.DuckDBPyConnection,
    spec: ExtractSpec,
    path: Path,
    decoded: DecodedFile,
    version: int,
    previous_load_id: int | None,
    run_id: str | None,
) -> FileLoad:
    load_id = con.execute(f"select coalesce(max(load_id), 0) + 1 from {RAW_SCHEMA}.load_manifest").fetchone()[0]
    _read_lines(con, decoded.utf8_path)
    _check_header(con, spec, path)
    con.execute(f"create or replace temp table _parsed as {parse_sql(spec, '_lines')}")

    names = ", ".join(c.name for c in spec.columns)
    con.execute(
        f"""insert into {RAW_SCHEMA}.{spec.raw_table} ({names}, _load_id, _source_file, _line_number)
            select {names}, ?, ?, line_number from _parsed where len(_reasons) = 0 order by line_number""",
        [load_id, path.name],
    )
    line = "line"
    for c in spec.columns:  # a sensitive field is masked even when it is not a valid identifier
        if c.sensitive:
            line = f"replace({line}, coalesce({c.name}__text, '{REDACTED}'), '{REDACTED}')"
    con.execute(
        f"""insert into {RAW_SCHEMA}.rejects
            select ?, ?, ?, line_number, {_redacted(spec, "array_to_string(_reasons, '; ')")}, {_redacted(spec, line)}
            from _parsed where len(_reasons) > 0""",
        [load_id, spec.source, path.name],
    )
    if decoded.rejects:
        mask = re.compile(spec.redact) if spec.redact else None
        frame = pl.DataFrame(
            {
                "line_number": [r.line_number for r in decoded.rejects],
                "reason": [r.reason for r in decoded.rejects],
                "raw_line": [mask.sub(REDACTED, r.raw_line) if mask else r.raw_line for r in decoded.rejects],
            }
        )
        con.register("_decode_rejects", frame.to_arrow())
        con.execute(
            f"insert into {RAW_SCHEMA}.rejects select ?, ?, ?, line_number, reason, raw_line from _decode_rejects",
            [load_id, spec.source, path.name],
        )
        con.unregister("_decode_rejects")

    loaded, rejected = con.execute(
        "select count(*) filter (len(_reasons) = 0), count(*) filter (len(_reasons) > 0) from _parsed"
    ).fetchone()
    rejected += len(decoded.rejects)
    con.execute(
        f"insert into {RAW_SCHEMA}.load_manifest values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, null)",
        [
            load_id, spec.source, path.name, str(path), version, decoded.size_bytes, decoded.sha256,
            loaded + rejected, loaded, rejected, run_id, dt.datetime.now(dt.UTC),
        ],
    )
    if previous_load_id is not None:
        con.execute(
            f"update {RAW_SCHEMA}.load_manifest set superseded_by_load_id = ? where load_id = ?",
            [load_id, previous_load_id],
        )
    con.execute("drop table _lines; drop table _parsed")  # raw text, personal data included, goes now
    return FileLoad(load_id, path.name, version, loaded + rejected, loaded, rejected)


def load_source(
    con: duckdb.DuckDBPyConnection,
    spec: ExtractSpec,
    landing_dir: Path,
    scratch_dir: Path,
    run_id: str | None = None,
    progress: Callable[[int, int, str], None] | None = None,
    pseudonym_key: bytes | None = None,
) -> LoadSummary:
    """Load every new or changed landing file of ``spec``; raise IngestError after the good ones commit.

    ``pseudonym_key`` is required when the spec pseudonymises a column (see ingest.pseudonym).
    """
    japanese.register(con)
    if spec.needs_pseudonym_key:
        if not pseudonym_key:
            raise ValueError(f"{spec.source}: its extracts carry basic pension numbers; a pseudonymisation key is required")
        pseudonym.register(con, pseudonym_key)
    ensure_tables(con, spec)
    known = con.execute(
        f"""select file_name, sha256, file_version, load_id, superseded_by_load_id is null as current
            from {RAW_SCHEMA}.load_manifest where source = ?""",
        [spec.source],
    ).fetchall()
    loaded_shas = {sha for _, sha, *_ in known}
    current = {name: (version, load_id) for name, _, version, load_id, is_current in known if is_current}

    summary, failures = LoadSummary(spec.source), []
    files = sorted(p for p in landing_dir.glob(spec.pattern) if p.is_file())
    for n, path in enumerate(files, start=1):
        decoded = decode_file(path, spec.encoding, scratch_dir)
        try:
            if decoded.sha256 in loaded_shas:
                summary.skipped_unchanged.append(path.name)
                continue
            version, previous = current.get(path.name, (0, None))
            con.execute("begin transaction")
            try:
                result = _load_one(con, spec, path, decoded, version + 1, previous, run_id)
                con.execute("commit")
            except BaseException:
                con.execute("rollback")
                raise
            summary.loaded.append(result)
            loaded_shas.add(decoded.sha256)
            current[path.name] = (result.file_version, result.load_id)
            log.info("loaded %s v%d: %d read, %d loaded, %d rejected", path.name, result.file_version,
                     result.rows_read, result.rows_loaded, result.rows_rejected)
        except MalformedFileError as err:
            failures.append(err)
            log.error("%s", err)
        finally:
            if decoded.utf8_path != path:
                decoded.utf8_path.unlink(missing_ok=True)
        if progress is not None:
            progress(n, len(files), path.name)
    if failures:
        raise IngestError(failures, summary)
    return summary
