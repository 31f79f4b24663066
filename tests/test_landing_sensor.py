"""The landing sensor's decisions, on a real landing folder and working database (no daemon)."""

from __future__ import annotations

import datetime as dt
import json
import os
import time

import dagster as dg
import duckdb

from ingest import raw_schema
from orchestration.defs.landing_sensor import evaluate
from orchestration.defs.resources import WarehouseResource


def _deliver(folder, name: str, age_seconds: float = 600) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text("header\n", encoding="utf-8")
    then = time.time() - age_seconds
    os.utime(path, (then, then))


def test_the_landing_sensor_requests_one_run_per_settled_batch_of_files_not_loaded(tmp_path):
    warehouse = WarehouseResource(overrides={"WAREHOUSE_DATA_DIR": str(tmp_path), "WAREHOUSE_SETTLE_SECONDS": "60"})
    calls, ledger = tmp_path / "landing" / "call_center", tmp_path / "landing" / "national_pension"
    _deliver(calls, "cdr_20201101.csv")

    # The first evaluation notes what is there and requests nothing.
    first = evaluate(None, 0, warehouse)
    assert isinstance(first, dg.SensorResult) and not first.run_requests
    stat = (calls / "cdr_20201101.csv").stat()
    assert json.loads(first.cursor) == {"mtime_ns": stat.st_mtime_ns, "at": ["call_center/cdr_20201101.csv"]}

    # New files: nothing while a run is in progress, nor while one is still arriving.
    _deliver(calls, "cdr_20201102.csv")
    _deliver(calls, "cdr_20201103.csv", age_seconds=5)
    assert "in progress" in evaluate(first.cursor, 1, warehouse).skip_message
    assert "still arriving: call_center/cdr_20201103.csv" in evaluate(first.cursor, 0, warehouse).skip_message

    # Settled: one run of the call center's own job for the batch; then nothing more.
    _deliver(calls, "cdr_20201103.csv")
    batch = evaluate(first.cursor, 0, warehouse)
    [request] = batch.run_requests
    assert request.job_name == "call_center_refresh"
    assert request.tags["warehouse/landed-files"] == "2: call_center/cdr_20201102.csv, call_center/cdr_20201103.csv"
    assert evaluate(batch.cursor, 0, warehouse).skip_message == "no new landing files"
    assert evaluate(batch.cursor, 0, warehouse).skip_message == "no new landing files"

    # Files of two KPIs are one run of the whole night.
    _deliver(calls, "cdr_20201104.csv")
    _deliver(ledger, "premium_ledger_202010.csv")
    [both] = evaluate(batch.cursor, 0, warehouse).run_requests
    assert both.job_name == "nightly_refresh" and both.run_key != request.run_key

    # A file the working database has already loaded, unchanged, is not new (a run took it meanwhile).
    _deliver(calls, "cdr_20201105.csv")
    stat = (calls / "cdr_20201105.csv").stat()
    warehouse.paths.working_db.parent.mkdir(parents=True)
    with duckdb.connect(str(warehouse.paths.working_db)) as con:
        con.execute(raw_schema.MANIFEST_DDL)
        con.execute(
            """insert into raw.load_manifest (load_id, source, file_name, file_path, file_version, size_bytes, sha256,
                       rows_read, rows_loaded, rows_rejected, loaded_at, mtime_ns)
                       values (1, 'call_center', 'cdr_20201105.csv', '', 1, ?, '', 0, 0, 0, now(), ?)""",
            [stat.st_size, stat.st_mtime_ns],
        )
    cursor = json.dumps({"mtime_ns": stat.st_mtime_ns - 1, "at": []})  # a mark from before it landed
    loaded = evaluate(cursor, 0, warehouse)
    assert not loaded.run_requests
    assert "all loaded already" in loaded.skip_reason.skip_message


def test_the_cursor_stays_small_whatever_the_number_of_files(tmp_path):
    """A high-water mark, not a listing: ten thousand landed days make a cursor of a few dozen bytes,
    and the next file is still new; a reset cursor ({}) takes every file not loaded."""
    warehouse = WarehouseResource(overrides={"WAREHOUSE_DATA_DIR": str(tmp_path), "WAREHOUSE_SETTLE_SECONDS": "60"})
    calls = tmp_path / "landing" / "call_center"
    calls.mkdir(parents=True)
    then = time.time() - 3600
    for day in range(10_000):
        path = calls / f"cdr_{dt.date(1990, 1, 1) + dt.timedelta(days=day):%Y%m%d}.csv"  # 27 years of days
        path.write_text("header\n", encoding="utf-8")
        os.utime(path, (then + day / 1000, then + day / 1000))
    first = evaluate(None, 0, warehouse)
    assert len(first.cursor) < 200, len(first.cursor)
    _deliver(calls, "cdr_20201101.csv")
    [request] = evaluate(first.cursor, 0, warehouse).run_requests
    assert request.tags["warehouse/landed-files"] == "1: call_center/cdr_20201101.csv"
    [everything] = evaluate("{}", 0, warehouse).run_requests
    assert everything.tags["warehouse/landed-files"].startswith("10001: ")
