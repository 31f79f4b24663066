"""Load new landing files into the working database's ``raw`` schema.

Guarantees, per file:
* one transaction: its raw rows, its rejects and its manifest entry commit together or not at
  all (clean files of a bulk batch share theirs; a file with bad lines has its own);
* rows read = rows loaded + rows rejected, recorded in ``raw.load_manifest``;
* the same bytes are never loaded twice (keyed on sha256); a changed file under a known
  name is loaded as a new version and supersedes the old one (raw keeps both; staging reads
  the current version only);
* landing files are only read, never modified or moved.

Row-level problems (field count, unparseable value, failed row rule, undecodable bytes) send
the row to ``raw.rejects`` with its reason. File-level problems (missing or wrong header)
raise ``MalformedFileError`` naming the file, line and reason; that file is rolled back, the
other files still load, and ``IngestError`` reports every failed file at the end.

Two paths, one result: the bulk path reads a batch of files in one DuckDB CSV scan (fast,
for files whose every line is a valid row); the exact path reads one file line by line and
explains every bad line. A file the bulk path cannot vouch for goes the exact way.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import polars as pl

from ingest import japanese, pseudonym
from ingest.parse import (
    REDACTED,
    column_texts_sql,
    line_texts_sql,
    parse_sql,
    redacted,
    sql_str,
    text_columns_sql,
)
from ingest.readers import DecodedFile, decode_file, fingerprint, is_utf8
from ingest.specs import ExtractSpec

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
    superseded_by_load_id bigint,
    mtime_ns bigint
);
-- working databases created before mtime_ns was recorded
alter table {RAW_SCHEMA}.load_manifest add column if not exists mtime_ns bigint;
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


@dataclass(frozen=True)
class LandingFile:
    """A new or changed landing file on its way in: what it is, and which version it would be."""

    path: Path
    mtime_ns: int
    decoded: DecodedFile
    version: int
    previous_load_id: int | None


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


def header_problem(spec: ExtractSpec, header: str) -> str | None:
    """Why a file's first line is not the spec's header, or None when it is."""
    if header == "":
        return "empty file: expected a header line"
    found = [h.strip().strip('"') for h in header.split(spec.delimiter)]
    if found != list(spec.header):
        return f"header does not match the {spec.source} spec: expected {list(spec.header)}, found {found}"
    return None


def _next_load_id(con: duckdb.DuckDBPyConnection) -> int:
    return con.execute(f"select coalesce(max(load_id), 0) + 1 from {RAW_SCHEMA}.load_manifest").fetchall()[0][0]


def _record_loads(con: duckdb.DuckDBPyConnection, spec: ExtractSpec, loads: list[tuple[LandingFile, FileLoad]], run_id: str | None) -> None:
    """Manifest rows of the loads, and the supersession of each file's previous version: one statement each."""
    frame = pl.DataFrame(
        {
            "load_id": [load.load_id for _, load in loads],
            "file_name": [file.path.name for file, _ in loads],
            "file_path": [str(file.path) for file, _ in loads],
            "file_version": [load.file_version for _, load in loads],
            "size_bytes": [file.decoded.size_bytes for file, _ in loads],
            "sha256": [file.decoded.sha256 for file, _ in loads],
            "rows_read": [load.rows_read for _, load in loads],
            "rows_loaded": [load.rows_loaded for _, load in loads],
            "rows_rejected": [load.rows_rejected for _, load in loads],
            "mtime_ns": [file.mtime_ns for file, _ in loads],
            "previous_load_id": [file.previous_load_id for file, _ in loads],
        },
        schema_overrides={"previous_load_id": pl.Int64},
    )
    con.register("_new_loads", frame.to_arrow())
    try:
        con.execute(
            f"""insert into {RAW_SCHEMA}.load_manifest by name
                select * exclude (previous_load_id), ? as source, ? as run_id, now() as loaded_at from _new_loads""",
            [spec.source, run_id],
        )
        con.execute(
            f"""update {RAW_SCHEMA}.load_manifest m set superseded_by_load_id = n.load_id
                from _new_loads n where m.load_id = n.previous_load_id"""
        )
    finally:
        con.unregister("_new_loads")


def _load_exact(con: duckdb.DuckDBPyConnection, spec: ExtractSpec, file: LandingFile, run_id: str | None) -> FileLoad:
    """The exact path: one file, line by line, every bad row to raw.rejects with its line and reason."""
    path, decoded = file.path, file.decoded
    problem = header_problem(spec, decoded.header)
    if problem:
        raise MalformedFileError(path, 1, problem)
    load_id = _next_load_id(con)
    _read_lines(con, decoded.utf8_path)
    con.execute(f"create or replace temp table _parsed as {parse_sql(spec, line_texts_sql(spec, '_lines'))}")

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
            select ?, ?, ?, line_number, {redacted(spec, "array_to_string(_reasons, '; ')")}, {redacted(spec, line)}
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

    loaded, rejected, distinct_lines = con.execute(
        "select count(*) filter (len(_reasons) = 0), count(*) filter (len(_reasons) > 0), count(distinct line_number) from _parsed"
    ).fetchall()[0]
    if loaded + rejected != distinct_lines:  # one row per line, or the parse SQL is wrong: nothing commits
        raise RuntimeError(f"{path}: the parse produced {loaded + rejected} rows for {distinct_lines} lines")
    rejected += len(decoded.rejects)
    load = FileLoad(load_id, path.name, file.version, loaded + rejected, loaded, rejected)
    _record_loads(con, spec, [(file, load)], run_id)
    con.execute("drop table _lines; drop table _parsed")  # raw text, personal data included, goes now
    return load


def _load_bulk(con: duckdb.DuckDBPyConnection, spec: ExtractSpec, files: list[LandingFile], run_id: str | None) -> list[FileLoad]:
    """The bulk path: many files in one DuckDB CSV scan, for files whose every line is a valid row.

    The reader drops any line it cannot split into exactly the spec's fields (ignore_errors),
    and only valid rows are inserted; a file whose inserted rows fall short of its physical
    lines is taken out of the batch again and left to the exact path, which explains every
    bad line. Line numbers come from the scan's order: a temp table created from one scan keeps
    it (DuckDB preserves insertion order), so rowid is the position.
    Runs inside the caller's transaction; returns the loads it recorded.
    """
    scan = (
        f"read_csv(?, columns = {text_columns_sql(spec)}, header = true, delim = {sql_str(spec.delimiter)}, quote = '', "
        "escape = '', auto_detect = false, strict_mode = true, null_padding = false, ignore_errors = true, max_line_size = 16777216)"
    )
    trim = not all(f.decoded.plain_fields for f in files)
    con.execute(
        f"create or replace temp table _texts as {column_texts_sql(spec, scan, keep='file_index', trim=trim)}",
        [[str(f.decoded.utf8_path) for f in files]],
    )
    first_id = _next_load_id(con)
    frame = pl.DataFrame(
        {
            "file_index": range(len(files)),
            "load_id": range(first_id, first_id + len(files)),
            "source_file": [f.path.name for f in files],
        },
        schema={"file_index": pl.Int64, "load_id": pl.Int64, "source_file": pl.String},
    )
    con.register("_batch_files", frame.to_arrow())
    con.execute(
        """create or replace temp table _files as
           select b.*, coalesce(p.first_position, 0) as first_position
           from _batch_files b left join (select file_index, min(rowid) as first_position from _texts group by all) p using (file_index)"""
    )
    con.unregister("_batch_files")
    names = ", ".join(c.name for c in spec.columns)
    parsed = parse_sql(spec, "select rowid as _position, * from _texts", materialized=False)
    con.execute(
        f"""insert into {RAW_SCHEMA}.{spec.raw_table} ({names}, _load_id, _source_file, _line_number)
            select {names}, f.load_id, f.source_file, p._position - f.first_position + 2
            from ({parsed}) p join _files f using (file_index)
            where len(p._reasons) = 0"""
    )
    inserted = dict(
        con.execute(
            f"select _load_id, count(*) from {RAW_SCHEMA}.{spec.raw_table} where _load_id >= ? group by all", [first_id]
        ).fetchall()
    )
    con.execute("drop table _texts; drop table _files")  # raw text, personal data included, goes now
    short = {first_id + i for i, f in enumerate(files) if inserted.get(first_id + i, 0) != f.decoded.data_lines}
    if short:
        con.execute(f"delete from {RAW_SCHEMA}.{spec.raw_table} where _load_id in ({', '.join(map(str, sorted(short)))})")
    loads = [
        (file, FileLoad(first_id + i, file.path.name, file.version, file.decoded.data_lines, file.decoded.data_lines, 0))
        for i, file in enumerate(files)
        if first_id + i not in short
    ]
    if loads:
        _record_loads(con, spec, loads, run_id)
    return [load for _, load in loads]


@contextmanager
def _transaction(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """Commit what the block wrote, or roll all of it back."""
    con.execute("begin transaction")
    try:
        yield
    except BaseException:
        con.execute("rollback")
        raise
    con.execute("commit")


def _discard_copy(path: Path, decoded: DecodedFile) -> None:
    """Delete a decoded UTF-8 copy (raw text, personal data included); never the landing file."""
    if decoded.utf8_path != path:
        decoded.utf8_path.unlink(missing_ok=True)


def _load_batch(
    con: duckdb.DuckDBPyConnection, spec: ExtractSpec, pending: list[LandingFile], run_id: str | None, summary: LoadSummary, scratch_dir: Path
) -> list[tuple[LandingFile, MalformedFileError]]:
    """Load a batch of new files: the clean ones in one bulk transaction, the others one by one
    on the exact path. Returns the files that could not be loaded, with why."""
    failures: list[tuple[LandingFile, MalformedFileError]] = []
    try:
        loads = []
        bulk = [f for f in pending if not f.decoded.rejects and header_problem(spec, f.decoded.header) is None]
        if bulk:
            with _transaction(con):
                loads = _load_bulk(con, spec, bulk, run_id)
            summary.loaded.extend(loads)
        in_bulk = {load.file_name for load in loads}
        for file in pending:
            if file.path.name in in_bulk:
                continue
            # the exact path decodes strictly, so a UTF-8 file DuckDB could not read is explained too
            if is_utf8(spec.encoding):
                file = LandingFile(file.path, file.mtime_ns, decode_file(file.path, spec.encoding, scratch_dir),
                                   file.version, file.previous_load_id)
            try:
                with _transaction(con):
                    summary.loaded.append(_load_exact(con, spec, file, run_id))
            except MalformedFileError as err:
                failures.append((file, err))
                log.error("%s", err)
            finally:
                _discard_copy(file.path, file.decoded)
    finally:
        for file in pending:
            _discard_copy(file.path, file.decoded)
    return failures


BULK_BATCH_BYTES = 1 << 30  # text per bulk scan: bounds the temp table under DuckDB's memory limit
READ_THREADS = 2  # files hashed and transcoded at once


def _batches(files: list[Path], limit: int = BULK_BATCH_BYTES) -> list[list[Path]]:
    batches: list[list[Path]] = [[]]
    size = 0
    for path in files:
        if batches[-1] and size + path.stat().st_size > limit:
            batches.append([])
            size = 0
        batches[-1].append(path)
        size += path.stat().st_size
    return [b for b in batches if b]


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

    A file whose name, size and modification time match its current load is not read again;
    any other file is hashed, and bytes already loaded (under any name) are skipped.
    New files go through the bulk path in batches, one transaction per batch; a file with any
    bad line goes through the exact path instead, one transaction per file.
    ``pseudonym_key`` is required when the spec pseudonymises a column (see ingest.pseudonym).
    """
    japanese.register(con)
    if spec.needs_pseudonym_key:
        if not pseudonym_key:
            raise ValueError(f"{spec.source}: its extracts carry basic pension numbers; a pseudonymisation key is required")
        pseudonym.register(con, pseudonym_key)
    ensure_tables(con, spec)
    known = con.execute(
        f"""select file_name, sha256, file_version, load_id, size_bytes, mtime_ns
            from {RAW_SCHEMA}.load_manifest where source = ? order by load_id""",
        [spec.source],
    ).fetchall()
    loaded_shas = {sha for _, sha, *_ in known}
    current = {name: (version, load_id, size, mtime) for name, _, version, load_id, size, mtime in known}

    summary, failures = LoadSummary(spec.source), []
    files = sorted(p for p in landing_dir.glob(spec.pattern) if p.is_file())
    candidates = []
    for path in files:
        stat = path.stat()
        if current.get(path.name, (None,) * 4)[2:] == (stat.st_size, stat.st_mtime_ns):
            summary.skipped_unchanged.append(path.name)
        else:
            candidates.append(path)
    utf8 = is_utf8(spec.encoding)
    done = len(files) - len(candidates)

    def landing_file(path: Path, decoded: DecodedFile) -> LandingFile | None:
        if decoded.sha256 in loaded_shas:
            summary.skipped_unchanged.append(path.name)
            _discard_copy(path, decoded)
            return None
        loaded_shas.add(decoded.sha256)
        version, previous = current.get(path.name, (0, None))[:2]
        return LandingFile(path, path.stat().st_mtime_ns, decoded, version + 1, previous)

    def read(path: Path) -> DecodedFile:
        return fingerprint(path) if utf8 else decode_file(path, spec.encoding, scratch_dir)

    # Files are hashed and transcoded in threads (hashlib, file I/O and iconv run outside the
    # GIL), one batch ahead, so the next batch decodes while DuckDB loads this one.
    batches = _batches(candidates)
    with ThreadPoolExecutor(max_workers=READ_THREADS) as pool:
        def read_ahead(number: int) -> list[tuple[Path, Future[DecodedFile]]]:
            return [(path, pool.submit(read, path)) for path in batches[number]] if number < len(batches) else []

        ahead = read_ahead(0)
        for number, batch in enumerate(batches, start=1):
            reads, ahead = ahead, read_ahead(number)
            try:
                pending = [f for path, future in reads if (f := landing_file(path, future.result())) is not None]
                for file, error in _load_batch(con, spec, pending, run_id, summary, scratch_dir):
                    failures.append(error)
                    loaded_shas.discard(file.decoded.sha256)  # the same bytes may come again, fixed or not
            except BaseException:
                for path, future in reads + ahead:  # no decoded copy is left behind in scratch
                    if not future.cancel() and future.exception() is None:
                        _discard_copy(path, future.result())
                raise
            done += len(batch)
            if progress is not None:
                progress(done, len(files), batch[-1].name)
    for load in summary.loaded:
        log.info("loaded %s v%d: %d read, %d loaded, %d rejected", load.file_name, load.file_version,
                 load.rows_read, load.rows_loaded, load.rows_rejected)
    if failures:
        raise IngestError(failures, summary)
    return summary
