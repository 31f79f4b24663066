"""The open raw layer (ingest.lake): every load as Parquet, equal to the working database's raw
tables, written in proportion to what is new, and never half-visible to a reader."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import pytest

from ingest import lake
from ingest.loading.source import load_source
from ingest.specs import SPECS
from tests import hostile

pytestmark = pytest.mark.pipeline


def _lake_rows(lake_raw: Path, spec) -> str:
    return f"select * from read_parquet('{lake.load_glob(lake_raw, spec)}', hive_partitioning = true)"


def _differences(con: duckdb.DuckDBPyConnection, lake_raw: Path) -> dict[str, int]:
    """Rows in one and not the other, per raw table and the manifest (0 everywhere: equal)."""
    found = {}
    for spec in SPECS.values():
        columns = ", ".join([c.name for c in spec.columns] + ["_load_id", "_source_file", "_line_number"])
        working = f"select {columns} from raw.{spec.raw_table}"
        parquet = f"select {columns} from ({_lake_rows(lake_raw, spec)})"
        found[spec.raw_table] = con.execute(
            f"select count(*) from (({working} except all {parquet}) union all ({parquet} except all {working}))"
        ).fetchone()[0]
    manifest = f"select {', '.join(lake.MANIFEST_COLUMNS)} from raw.load_manifest"
    exported = f"select * from read_parquet('{lake.manifest_path(lake_raw)}')"
    found["load_manifest"] = con.execute(
        f"select count(*) from (({manifest} except all {exported}) union all ({exported} except all {manifest}))"
    ).fetchone()[0]
    return found


def _leftovers(lake_raw: Path) -> list[Path]:
    return [p for p in lake_raw.rglob("*") if p.name.startswith(".tmp-")]


def test_the_night_leaves_every_load_in_the_lake_equal_to_raw(after_first_night):
    paths = after_first_night
    with duckdb.connect(str(paths.working_db), read_only=True) as con:
        assert _differences(con, paths.lake_raw) == dict.fromkeys(
            [*(s.raw_table for s in SPECS.values()), "load_manifest"], 0
        )
        loads = con.execute("select count(*) from raw.load_manifest").fetchone()[0]
        # the partition folders are the loads: one per load that kept a row
        kept = con.execute(
            " union ".join(f"select distinct _load_id from raw.{s.raw_table}" for s in SPECS.values())
        ).fetchall()
    folders = [p for p in paths.lake_raw.glob("*/_load_id=*") if p.is_dir() and p.name != "_load_id=0"]
    assert len(folders) == len(kept) > 0 and loads >= len(kept)
    # and each table's columns, without rows, for a reader that comes before a source's first load
    assert {p.parent.name for p in paths.lake_raw.glob("*/_load_id=0")} == {s.raw_table for s in SPECS.values()}
    assert not _leftovers(paths.lake_raw)
    # the lake holds pseudonyms only: no basic pension number, in any form
    numbers = hostile.delivered_numbers(paths.landing_dir("national_pension"))
    assert hostile.numbers_in_lake(paths.lake_raw, numbers) == []
    # and the scan can fail: a number planted in a text column is found
    assert hostile.numbers_in_text(f"x{numbers[0]}x", numbers)


def test_a_night_writes_only_what_is_new_and_a_redelivery_supersedes_in_the_manifest(after_first_night):
    paths = after_first_night
    spec = SPECS["call_center__calls"]
    folders_before = {p: p.stat().st_mtime_ns for p in paths.lake_raw.glob("*/_load_id=*")}  # schema folders too
    with duckdb.connect(str(paths.working_db)) as con:
        assert lake.export(con, list(SPECS.values()), paths.lake_raw) == lake.LakeExport(0, 0)

        # a re-delivery of one file with a line fewer: a new version, which supersedes the old
        delivered = sorted(paths.landing_dir(spec.source).glob("cdr_*.csv"))[-1]
        lines = delivered.read_bytes().splitlines(keepends=True)
        delivered.write_bytes(b"".join(lines[:-1]))
        summary = load_source(con, spec, paths.landing_dir(spec.source), paths.scratch, "test")
        [new] = summary.loaded
        exported = lake.export(con, list(SPECS.values()), paths.lake_raw)
        assert exported == lake.LakeExport(1, len(lines) - 2)
        assert _differences(con, paths.lake_raw)[spec.raw_table] == 0
        superseded = duckdb.sql(
            f"""select load_id from read_parquet('{lake.manifest_path(paths.lake_raw)}')
                where superseded_by_load_id = {new.load_id}"""
        ).fetchall()
    assert len(superseded) == 1
    # the loads already there were not written again
    assert {p: p.stat().st_mtime_ns for p in folders_before} == folders_before


def test_an_export_cut_short_leaves_the_lake_as_it_was_and_the_next_one_completes_it(after_first_night, monkeypatch):
    paths = after_first_night
    spec = SPECS["call_center__calls"]
    manifest_before = lake.manifest_path(paths.lake_raw).read_bytes()
    with duckdb.connect(str(paths.working_db)) as con:
        delivered = sorted(paths.landing_dir(spec.source).glob("cdr_*.csv"))
        for file in delivered[-2:]:  # two re-deliveries: two new loads to export
            file.write_bytes(file.read_bytes().replace(b"\n", b"\r\n"))
        load_source(con, spec, paths.landing_dir(spec.source), paths.scratch, "test")

        renames = []
        real_replace = os.replace

        def dies_after_the_first_folder(src, dst):  # the process dying between two renames
            if renames:
                raise KeyboardInterrupt("killed")
            renames.append(dst)
            real_replace(src, dst)

        monkeypatch.setattr(lake.os, "replace", dies_after_the_first_folder)
        with pytest.raises(KeyboardInterrupt):
            lake.export(con, list(SPECS.values()), paths.lake_raw)
        monkeypatch.setattr(lake.os, "replace", real_replace)

        # A reader goes by the lake's manifest, which is as it was: the folder in place is not named yet.
        assert lake.manifest_path(paths.lake_raw).read_bytes() == manifest_before
        assert len(renames) == 1 and Path(renames[0]).is_dir()
        # the two new loads, and the two they superseded (current in the lake's manifest, not in raw's: both ways)
        assert _differences(con, paths.lake_raw)["load_manifest"] == 2 + 2 * 2

        exported = lake.export(con, list(SPECS.values()), paths.lake_raw)
        assert exported.loads == 2
        assert set(_differences(con, paths.lake_raw).values()) == {0}
    assert not _leftovers(paths.lake_raw)


def test_before_any_delivery_every_table_is_there_with_its_columns_and_no_row(tmp_path):
    lake_raw = tmp_path / "lake" / "raw"
    with duckdb.connect(str(tmp_path / "working.duckdb")) as con:
        assert lake.export(con, list(SPECS.values()), lake_raw) == lake.LakeExport(0, 0)
    assert lake.exported_load_ids(lake_raw) == set()
    for spec in SPECS.values():
        with duckdb.connect() as con:
            rows = con.execute(_lake_rows(lake_raw, spec))
            names = [d[0] for d in rows.description]
            assert rows.fetchall() == []
        assert set(names) == {c.name for c in spec.columns} | {"_load_id", "_source_file", "_line_number"}
