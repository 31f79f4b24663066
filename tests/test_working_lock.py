"""One writer, and it waits: another process on the working database is waited out, or named with what to do."""

from __future__ import annotations

import subprocess
import sys
import threading
import time

import dagster as dg
import duckdb
import pytest

from commands import working_lock
from demo import deliver_next_day, deliver_next_night

pytestmark = pytest.mark.pipeline  # real processes: make test-fast leaves this file out


WAITING = "working database locked by"  # how a step says it waits (commands.working_lock)


def _hold(path, seconds: float | None) -> subprocess.Popen:
    """Another process with a read-only connection on ``path`` (an analyst's notebook, say) for
    ``seconds``; with None, until its stdin is closed."""
    until = "sys.stdin.read()" if seconds is None else f"time.sleep({seconds})"
    code = (
        f"import duckdb, sys, time\ncon = duckdb.connect({str(path)!r}, read_only=True)\n"
        f"print('held', flush=True)\n{until}\n"
    )
    holder = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    return holder


def _hold_until_a_run_waits(path, instance: dg.DagsterInstance, timeout: float = 180) -> subprocess.Popen:
    """A read-only connection on ``path`` held until a new run of ``instance`` says it waits for it,
    then closed, as an analyst would close a notebook: the run must wait, whatever the machine's load
    (a hold of a few seconds may end before a slow run's first write)."""
    holder = _hold(path, None)
    earlier = {run.run_id for run in instance.get_runs()}

    def release_once_waited() -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            runs = [run.run_id for run in instance.get_runs() if run.run_id not in earlier]
            if any(WAITING in (r.user_message or "") for run in runs for r in instance.all_logs(run)):
                break
            time.sleep(0.2)
        holder.stdin.close()  # the connection closes with the process

    threading.Thread(target=release_once_waited, daemon=True).start()
    return holder


def test_a_lock_is_waited_out_and_its_holder_named(tmp_path):
    path = tmp_path / "warehouse.duckdb"
    duckdb.connect(str(path)).close()
    holder = _hold(path, 3)
    messages = []
    started = time.monotonic()
    try:
        con = working_lock.connect(
            path, read_only=False, config={}, wait_seconds=60, published=tmp_path / "p.duckdb", log=messages.append
        )
        con.close()
    finally:
        holder.wait()
    assert 2 < time.monotonic() - started < 30
    assert messages and f"PID {holder.pid}" in messages[0] and "retrying in 1 s" in messages[0]


def test_a_lock_that_outlasts_the_wait_fails_with_what_to_do(tmp_path):
    path = tmp_path / "warehouse.duckdb"
    duckdb.connect(str(path)).close()
    holder = _hold(path, 60)
    try:
        with pytest.raises(working_lock.WorkingDatabaseLocked) as raised:
            working_lock.connect(path, read_only=False, config={}, wait_seconds=2, published=tmp_path / "p.duckdb")
    finally:
        holder.kill()
        holder.wait()
    message = raised.value.description
    assert f"held by PID {holder.pid}" in message and "import duckdb" in message  # the holder's command line
    assert "Only the pipeline may open this file, even read-only" in message
    assert f"Query the published database {tmp_path / 'p.duckdb'} instead" in message
    assert not raised.value.allow_retries  # it has waited already


def test_the_nightly_run_waits_for_a_foreign_lock_and_fails_clearly_when_it_outlasts_the_wait(
    after_first_night, run_nightly, instance, monkeypatch
):
    landed = after_first_night
    # A new day of calls, so the night must write (a quiet night only reads); and an analyst's
    # read-only connection on the working database until the night waits for it: it waits it out.
    deliver_next_day(landed)
    holder = _hold_until_a_run_waits(landed.working_db, instance)
    try:
        waited = run_nightly()
    finally:
        holder.wait()
    assert waited.success
    said = [r.user_message for r in instance.all_logs(waited.run_id) if WAITING in (r.user_message or "")]
    assert said and f"PID {holder.pid}" in said[0]
    # ... and for longer than the pipeline may wait: the steps fail with the documented message, not retried.
    monkeypatch.setenv("WAREHOUSE_LOCK_WAIT_SECONDS", "2")
    deliver_next_night(landed)  # new calls and a new ledger month: both ingest steps must write
    holder = _hold(landed.working_db, 120)
    try:
        locked = run_nightly()
    finally:
        holder.kill()
        holder.wait()
    assert not locked.success
    failures = [e for e in locked.all_events if e.event_type == dg.DagsterEventType.STEP_FAILURE]
    assert {e.step_key for e in failures} >= {"raw__call_center__calls", "raw__national_pension__premium_ledger"}
    for event in failures:
        description = event.step_failure_data.user_failure_data.description
        assert f"held by PID {holder.pid}" in description and "Query the published database" in description
    assert not [e for e in locked.all_events if e.event_type == dg.DagsterEventType.STEP_UP_FOR_RETRY]


def test_hand_run_tools_work_on_a_copy_taken_through_the_wait(paths):
    from commands.working_copy import copy_working

    paths.working_db.parent.mkdir(parents=True)
    with duckdb.connect(str(paths.working_db)) as con:
        con.execute("create schema marts; create table marts.alpha as select range as v from range(5)")
    holder = _hold(paths.working_db, 3)  # the copy waits for a foreign lock like the pipeline does
    try:
        schema = paths.data_dir / "sandbox" / "schema.duckdb"
        copy_working(paths, schema, schema_only=True, wait_seconds=60)
    finally:
        holder.wait()
    full = paths.data_dir / "sandbox" / "full.duckdb"
    copy_working(paths, full, schema_only=False, wait_seconds=60)
    with duckdb.connect(str(schema), read_only=True) as con:
        assert con.execute("select count(*) from marts.alpha").fetchone() == (0,)  # the catalog, no rows
    with duckdb.connect(str(full), read_only=True) as con:
        assert con.execute("select sum(v) from marts.alpha").fetchone() == (10,)
    with duckdb.connect(str(paths.working_db)) as con:  # nothing holds the working database afterwards
        assert con.execute("select count(*) from marts.alpha").fetchone() == (5,)
