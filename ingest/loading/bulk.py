"""The bulk path: a batch of files in one DuckDB CSV scan, for files whose every line is a valid row.

The reader drops any line it cannot split into exactly the spec's fields (``ignore_errors``),
and only valid rows are inserted; a file whose inserted rows fall short of its physical lines
is taken out of the batch again and left to the exact path, which explains every bad line.
Only files with one line-end convention throughout come here: DuckDB's reader fails on a mix
(see ``ingest.loading.exact``), and whatever else it fails on sends the whole batch the exact way.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import polars as pl

from ingest import raw_schema
from ingest.loading.batch import FileLoad, LandingFile, manifest_frame
from ingest.loading.rows import column_texts_sql, parse_sql, sql_str, text_columns_sql
from ingest.specs import ExtractSpec


def eligible(spec: ExtractSpec, file: LandingFile) -> bool:
    """Whether the bulk reader can vouch for the file: valid in its encoding, one line-end convention,
    complete, and exactly the spec's delimiters on every line (DuckDB's reader would ignore a trailing one)."""
    decoded = file.decoded
    lines = decoded.data_lines + 1  # with the header
    return (
        not decoded.rejects
        and decoded.endings.uniform
        and decoded.endings.terminated
        and decoded.delimiters.get(spec.delimiter) == (len(spec.columns) - 1) * lines
    )


def load_bulk(
    con: duckdb.DuckDBPyConnection,
    spec: ExtractSpec,
    files: list[LandingFile],
    run_id: str | None,
    key_id: str | None,
    business_date: dt.date | None = None,
) -> list[FileLoad]:
    """Load the files whose every line is a valid row, inside the caller's transaction; returns their loads.

    Line numbers come from the scan's order: a temp table created from one scan keeps it
    (DuckDB preserves insertion order), so rowid is the position.
    """
    scan = (
        f"read_csv(?, columns = {text_columns_sql(spec)}, header = true, delim = {sql_str(spec.delimiter)}, quote = '', "
        "escape = '', auto_detect = false, strict_mode = true, null_padding = false, ignore_errors = true, max_line_size = 16777216)"
    )
    trim = not all(f.decoded.plain_fields for f in files)
    # Temp tables hold raw text, personal data included: dropped here, or gone with the
    # caller's rollback when anything fails.
    con.execute(
        f"create or replace temp table _texts as {column_texts_sql(spec, scan, keep='file_index', trim=trim)}",
        [[str(f.decoded.utf8_path) for f in files]],
    )
    first_id = raw_schema.next_load_id(con)
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
    parsed = parse_sql(
        spec,
        "select rowid as _position, * from _texts",
        materialized=False,
        periods=[f.period for f in files],
        business_date=business_date,
    )
    con.execute(
        f"""insert into {raw_schema.RAW_SCHEMA}.{spec.raw_table} ({names}, _load_id, _source_file, _line_number)
            select {names}, f.load_id, f.source_file, p._position - f.first_position + 2
            from ({parsed}) p join _files f using (file_index)
            where len(p._reasons) = 0"""
    )
    inserted = dict(
        con.execute(
            f"select _load_id, count(*) from {raw_schema.RAW_SCHEMA}.{spec.raw_table} where _load_id >= ? group by all",
            [first_id],
        ).fetchall()
    )
    con.execute("drop table _texts; drop table _files")
    short = {first_id + i for i, f in enumerate(files) if inserted.get(first_id + i, 0) != f.decoded.data_lines}
    if short:
        con.execute(
            f"delete from {raw_schema.RAW_SCHEMA}.{spec.raw_table} where _load_id in ({', '.join(map(str, sorted(short)))})"
        )
    loads = [
        (
            file,
            FileLoad(first_id + i, file.path.name, file.version, file.decoded.data_lines, file.decoded.data_lines, 0),
        )
        for i, file in enumerate(files)
        if first_id + i not in short
    ]
    if loads:
        raw_schema.record_loads(con, spec, manifest_frame(loads), run_id, key_id)
    return [load for _, load in loads]
