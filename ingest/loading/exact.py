"""The exact path: one file, line by line, every bad line to ``raw.rejects`` with its line and reason.

Lines are split at line feeds by numpy, not by DuckDB's CSV reader, whose state machine
gives up on mixed line ends (an LF file ending ``\\r\\n\\r\\n``, a CRLF file with one bare LF)
without saying where. Here LF, CRLF and any mix of them read alike, a stray NUL or carriage
return stays in its field (and fails that field's grammar), and line numbers are those of an
editor.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path

import duckdb
import numpy as np
import polars as pl
import pyarrow as pa

from ingest import raw_schema
from ingest.loading.batch import FileLoad, LandingFile, manifest_frame
from ingest.loading.pseudonyms import NUMBER_PATTERN
from ingest.loading.rows import REDACTED, line_texts_sql, parse_sql, redacted
from ingest.specs import ExtractSpec

MAX_LINE_BYTES = 1 << 24  # a longer line is not a record of any extract here
_CHUNK_BYTES = 1 << 26


class LineTooLong(ValueError):
    def __init__(self, line_number: int):
        self.line_number = line_number
        super().__init__(f"line {line_number} is longer than {MAX_LINE_BYTES >> 20} MiB")


def _lines(first_number: int, data: bytes, ends: np.ndarray) -> pa.Table:
    """Lines of ``data`` ending at the line feeds ``ends`` (each line keeps its terminator)."""
    offsets = np.empty(len(ends) + 1, dtype=np.int64)
    offsets[0] = 0
    offsets[1:] = ends + 1
    lengths = np.diff(offsets)
    if len(lengths) and lengths.max() > MAX_LINE_BYTES:
        raise LineTooLong(first_number + int(np.argmax(lengths > MAX_LINE_BYTES)))
    text = pa.Array.from_buffers(pa.large_string(), len(ends), [None, pa.py_buffer(offsets), pa.py_buffer(data)])
    numbers = pa.array(np.arange(first_number, first_number + len(ends), dtype=np.int64))
    return pa.table({"line_number": numbers, "line": text})


def line_batches(path: Path) -> Iterator[pa.Table]:
    """(line_number, line) of every physical line of a UTF-8 file, in order, in batches; lines split at LF."""
    number, carry = 1, b""
    with path.open("rb") as f:
        while block := f.read(_CHUNK_BYTES):
            data = carry + block
            ends = np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == 10)
            if not len(ends):
                if len(data) > MAX_LINE_BYTES:
                    raise LineTooLong(number)
                carry = data
                continue
            body = int(ends[-1]) + 1
            yield _lines(number, data[:body], ends)
            number += len(ends)
            carry = data[body:]
    if carry:  # a last line without a terminator
        yield _lines(number, carry + b"\n", np.array([len(carry)], dtype=np.int64))


def _read_lines(con: duckdb.DuckDBPyConnection, utf8_path: Path) -> None:
    con.execute("create or replace temp table _lines (line_number bigint, line varchar)")
    for batch in line_batches(utf8_path):
        con.register("_line_batch", batch)
        try:
            # terminators off; a byte-order mark is part of line 1 only
            con.execute(
                """insert into _lines
                   select line_number, rtrim(rtrim(case when line_number = 1 then ltrim(line, chr(65279)) else line end,
                                                   chr(10)), chr(13))
                   from _line_batch"""
            )
        finally:
            con.unregister("_line_batch")


def masked_line(spec: ExtractSpec, line: str) -> str:
    """A line as raw.rejects may keep it: sensitive fields and anything shaped like a personal number masked."""
    if any(c.sensitive for c in spec.columns):
        fields = line.split(spec.delimiter)
        for i, c in enumerate(spec.columns):
            if c.sensitive and i < len(fields):
                fields[i] = REDACTED
        line = spec.delimiter.join(fields)
    return re.sub(NUMBER_PATTERN, REDACTED, line)


def load_exact(
    con: duckdb.DuckDBPyConnection,
    spec: ExtractSpec,
    file: LandingFile,
    run_id: str | None,
    key_id: str | None,
    business_date: dt.date | None = None,
) -> FileLoad:
    """Load one file line by line inside the caller's transaction; every bad row to raw.rejects.

    A row dated outside its file's period, or an event after ``business_date``, is rejected."""
    path, decoded = file.path, file.decoded
    load_id = raw_schema.next_load_id(con)
    _read_lines(con, decoded.utf8_path)
    if decoded.rejects:  # blanked by the strict decode and rejected for their bytes: not blank lines too
        con.execute(
            "delete from _lines where list_contains(?, line_number)", [[r.line_number for r in decoded.rejects]]
        )
    parsed = parse_sql(spec, line_texts_sql(spec, "_lines"), periods=[file.period], business_date=business_date)
    con.execute(f"create or replace temp table _parsed as {parsed}")
    names = ", ".join(c.name for c in spec.columns)
    con.execute(
        f"""insert into {raw_schema.RAW_SCHEMA}.{spec.raw_table} ({names}, _load_id, _source_file, _line_number)
            select {names}, ?, ?, line_number from _parsed where len(_reasons) = 0 order by line_number""",
        [load_id, path.name],
    )
    line = "line"
    for c in spec.columns:  # a sensitive field is masked even when it is not a valid identifier
        if c.sensitive:
            line = f"replace({line}, coalesce({c.name}__text, '{REDACTED}'), '{REDACTED}')"
    con.execute(
        f"""insert into {raw_schema.RAW_SCHEMA}.rejects
            select ?, ?, ?, line_number, array_to_string(_reasons, '; '), {redacted(line)}, _reason_kinds
            from _parsed where len(_reasons) > 0""",
        [load_id, spec.source, path.name],
    )
    if decoded.rejects:
        frame = pl.DataFrame(
            {
                "line_number": [r.line_number for r in decoded.rejects],
                "reason": [r.reason for r in decoded.rejects],
                "raw_line": [masked_line(spec, r.raw_line) for r in decoded.rejects],
                "reason_kinds": [[r.kind] for r in decoded.rejects],
            }
        )
        con.register("_decode_rejects", frame.to_arrow())
        con.execute(
            f"insert into {raw_schema.RAW_SCHEMA}.rejects select ?, ?, ?, line_number, reason, raw_line, reason_kinds from _decode_rejects",
            [load_id, spec.source, path.name],
        )
        con.unregister("_decode_rejects")

    loaded, rejected, distinct_lines = con.execute(
        "select count(*) filter (len(_reasons) = 0), count(*) filter (len(_reasons) > 0), count(distinct line_number) from _parsed"
    ).fetchall()[0]
    if loaded + rejected != distinct_lines:  # one row per line, or the parse SQL is wrong: nothing commits
        raise RuntimeError(f"{path.name}: the parse produced {loaded + rejected} rows for {distinct_lines} lines")
    rejected += len(decoded.rejects)
    load = FileLoad(load_id, path.name, file.version, loaded + rejected, loaded, rejected)
    raw_schema.record_loads(con, spec, manifest_frame([(file, load)]), run_id, key_id)
    # Raw text, personal data included, goes now (or with the caller's rollback when anything failed).
    con.execute("drop table _lines; drop table _parsed")
    return load
