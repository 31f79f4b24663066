"""Printing generated lines as a source system would: encoding, BOM, line endings, atomic rename."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from config.settings import Settings
from ingest.specs import ExtractSpec


@contextmanager
def generator_database(tmp: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A file-backed DuckDB with a memory limit: at national scale generated lines spill to disk."""
    con = duckdb.connect(str(tmp / "generate.duckdb"), config={"memory_limit": Settings.from_env().duckdb_memory_limit})
    try:
        yield con
    finally:
        con.close()


def print_file(con: duckdb.DuckDBPyConnection, lines_sql: str, target: Path, spec: ExtractSpec, newline: str) -> Path:
    """Write the single ``line`` column of ``lines_sql`` to ``target`` as ``spec`` says the source prints it:
    its header, delimiter and encoding (``utf-8-sig``: one BOM at the start).

    DuckDB writes UTF-8 only, so lines go to a scratch file first and are transcoded in
    chunks (strict: the generators never print an unmappable character). The file appears
    under its final name only when complete, so a loader never sees half a file.
    """
    bom = spec.encoding == "utf-8-sig"
    encoding = "utf-8" if bom else spec.encoding  # utf-8-sig would put a BOM before every chunk
    header = spec.delimiter.join(spec.header)
    scratch = target.with_name(target.name + ".utf8")
    partial = target.with_name(target.name + ".partial")
    newline_sql = newline.replace("\r", "\\r").replace("\n", "\\n")
    con.execute(
        f"copy ({lines_sql}) to '{scratch}' (format csv, header false, quote '', escape '', delimiter '\t', new_line '{newline_sql}')"
    )
    with open(scratch, encoding="utf-8", newline="") as src, open(partial, "wb") as dst:
        dst.write(("\ufeff" if bom else "").encode(encoding) + (header + newline).encode(encoding))
        while chunk := src.read(1 << 24):
            dst.write(chunk.encode(encoding))
    scratch.unlink()
    os.replace(partial, target)
    return target


def print_monthly(
    con: duckdb.DuckDBPyConnection, order_by: str, landing_dir: Path, spec: ExtractSpec, newline: str, progress=None
) -> list[Path]:
    """One file per processing month of table ``lines`` (``processing_month``, ``line``), named as ``spec`` says."""
    months = [m for (m,) in con.execute("select distinct processing_month from lines order by 1").fetchall()]
    written = []
    for n, month in enumerate(months, start=1):
        lines_sql = f"select line from lines where processing_month = date '{month.isoformat()}' order by {order_by}"
        written.append(print_file(con, lines_sql, landing_dir / spec.name_for(month), spec, newline))
        if progress is not None:
            progress(n, len(months), written[-1])
    return written


def wareki_print_macros() -> str:
    """How the mainframe prints: three styles of wareki, chosen per file; style 2 uses full-width digits."""
    return """
create or replace temp macro fw(s) as translate(s, '0123456789-', '０１２３４５６７８９－');
create or replace temp macro _reiwa(d) as d >= date '2019-05-01';
create or replace temp macro _era(reiwa, style) as
    case when style = 2 then (case when reiwa then '令和' else '平成' end) else (case when reiwa then 'R' else 'H' end) end;
create or replace temp macro _num(n, style) as case when style = 2 then fw(n::varchar) else lpad(n::varchar, 2, '0') end;
create or replace temp macro _era_year(y, reiwa, style) as
    case when style = 2 and y - (case when reiwa then 2018 else 1988 end) = 1 then '元'
         else _num(y - (case when reiwa then 2018 else 1988 end), style) end;
create or replace temp macro wareki_text(d, style) as
    case when d is null then ''
         when style = 0 then _era(_reiwa(d), 0) || _era_year(year(d), _reiwa(d), 0) || '.' || _num(month(d), 0) || '.' || _num(day(d), 0)
         when style = 1 then _era(_reiwa(d), 1) || _era_year(year(d), _reiwa(d), 1) || _num(month(d), 1) || _num(day(d), 1)
         else _era(_reiwa(d), 2) || _era_year(year(d), _reiwa(d), 2) || '年' || _num(month(d), 2) || '月' || _num(day(d), 2) || '日'
    end;
create or replace temp macro wareki_month_text(d, style) as
    case when style = 0 then _era(_reiwa(d), 0) || _era_year(year(d), _reiwa(d), 0) || '.' || _num(month(d), 0)
         when style = 1 then _era(_reiwa(d), 1) || _era_year(year(d), _reiwa(d), 1) || _num(month(d), 1)
         else _era(_reiwa(d), 2) || _era_year(year(d), _reiwa(d), 2) || '年' || _num(month(d), 2) || '月'
    end;
create or replace temp macro fiscal_year_text(fy, style) as
    _era(fy >= 2019, style) || _era_year(fy, fy >= 2019, style) || case when style = 2 then '年度' else '' end;
"""
