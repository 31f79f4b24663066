"""kill -9 the nightly job during ingest and during a dbt step, with a real daemon running the queue.

After each kill: no plaintext scratch, no orphan dbt process writing the working database, no
run stuck STARTED in front of the queue; and the night that follows ends equal to a clean run.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from commands import launch
from config.layout import REPO_ROOT, WarehousePaths
from ingest import lake
from tests import hostile
from tests.waiting import wait_until

pytestmark = pytest.mark.pipeline  # real processes: make test-fast leaves this file out


KPI_MARTS = (
    "call_center_monthly",
    "call_center_reconciliation",
    "national_pension_payment_rate",
    "national_pension_insured_persons",
    "national_pension_reconciliation",
    "employer_collection",
    "delinquent_establishments",
    "employer_reconciliation",
)


def _dbt_processes(working_db: Path) -> list[int]:
    """Pids of dbt processes working on this data directory."""
    pids = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ")
            except OSError:
                continue
            if b"warehouse-dbt" in cmdline and str(working_db).encode() in cmdline:
                pids.append(int(proc.name))
    return pids


def _parent(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


SIGKILL_BIT = 1 << (signal.SIGKILL - 1)  # the pending-signal masks in /proc/<pid>/status, bit n-1 for signal n
PF_EXITING = 0x4  # <linux/sched.h>: the task is in do_exit and runs no more user code


def _dying(pid: int) -> bool:
    """The kernel is ending ``pid``: SIGKILL pending, or exit under way, or already gone.

    A process killed while a DuckDB thread waits on the disk (an fsync on a busy machine) can take
    seconds to disappear, but from the moment SIGKILL is pending it runs no user code and so writes
    nothing more. That moment is what "dies with its run" means; how long the kernel takes to free
    the memory is not.
    """
    try:
        status = dict(
            line.split(":\t", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":\t" in line
        )
        flags = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[6])
    except (FileNotFoundError, ProcessLookupError):
        return True
    pending = int(status["SigPnd"], 16) | int(status["ShdPnd"], 16)
    return status["State"][0] in "ZX" or bool(pending & SIGKILL_BIT) or bool(flags & PF_EXITING)


def _status(instance: dg.DagsterInstance, run_id: str) -> dg.DagsterRunStatus:
    return instance.get_run_by_id(run_id).status


def _marts(database: Path) -> dict[str, list[tuple]]:
    with duckdb.connect(str(database), read_only=True) as con:
        return {m: con.execute(f"select * from marts.{m} order by all").fetchall() for m in KPI_MARTS}


@pytest.fixture
def dagster_home(tmp_path, monkeypatch) -> Path:
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(REPO_ROOT / "orchestration" / "dagster.yaml", home / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    return home


def test_kills_during_ingest_and_dbt_leave_nothing_behind_and_the_queue_moves(
    landed, first_night, dagster_home, tmp_path
):
    # The session's first night is the clean run to compare with: the same extracts, the same night,
    # and (copied here before anything loads) the same pseudonymisation key.
    shutil.copytree(first_night.data_dir / "secrets", landed.data_dir / "secrets")
    env = {**os.environ, "WAREHOUSE_SENSOR_INTERVAL_SECONDS": "5"}  # the dead-run reaper's round, 30 s by default
    instance = dg.DagsterInstance.get()
    numbers = hostile.delivered_numbers(landed.landing_dir("national_pension"))

    # 1. An in-process run (as `make demo` runs it), killed while the ledger is being ingested.
    code = (
        "import dagster as dg\nfrom orchestration.definitions import defs\n"
        "defs().resolve_job_def('nightly_refresh').execute_in_process(instance=dg.DagsterInstance.get())\n"
    )
    worker = subprocess.Popen(
        [sys.executable, "-c", code], cwd=REPO_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )

    def ledger_ingest_started():
        runs = instance.get_runs()
        if not runs:
            return None
        steps = instance.all_logs(runs[0].run_id, of_type=dg.DagsterEventType.STEP_START)
        return runs[0].run_id if any("national_pension" in (e.step_key or "") for e in steps) else None

    dead_run = wait_until(ledger_ingest_started, 120, "the ledger ingest to start")
    time.sleep(0.5)
    worker.send_signal(signal.SIGKILL)
    worker.wait()
    assert _status(instance, dead_run) == dg.DagsterRunStatus.STARTED  # nothing reported its end
    assert hostile.empty(landed.scratch)  # decoded copies had no name
    # It noted its attempt before changing anything: the next publication records it as failed.
    with duckdb.connect(str(landed.working_db), read_only=True) as con:
        noted = {
            kpi
            for run, kpi in con.execute("select run_id, kpi from publication.attempts").fetchall()
            if run == dead_run
        }
    assert "national_pension" in noted, noted

    # 2. The daemon: the dead run is failed, so the queued run behind it starts; kill it in its dbt step.
    log = tmp_path / "daemon.log"
    with launch.daemon(env, log):
        queued = launch.submit(instance, "nightly_refresh", env, log)
        wait_until(lambda: _status(instance, dead_run) == dg.DagsterRunStatus.FAILURE, 120, "the dead run to be failed")
        assert "is gone" in " ".join(e.message for e in instance.all_logs(dead_run) if e.message)
        [dbt] = wait_until(lambda: _dbt_processes(landed.working_db), 240, "the queued run to reach a dbt step")
        its_folder = f"*_dbt-{queued[:7]}-*"
        wait_until(lambda: list(landed.dbt_invocations.glob(its_folder)), 30, "its dbt target folder in the data dir")
        run_worker = _parent(dbt)
        os.kill(run_worker, signal.SIGKILL)
        # No orphan writes on: at once the kernel is ending dbt, and soon it is gone.
        wait_until(
            lambda: all(_dying(pid) for pid in _dbt_processes(landed.working_db)),
            2,
            "dbt to be killed with its run",
            poll=0.05,
        )
        wait_until(lambda: not _dbt_processes(landed.working_db), 60, "the killed dbt to exit")
        wait_until(lambda: _status(instance, queued) == dg.DagsterRunStatus.FAILURE, 120, "the killed run to be failed")

        # 3. The next run cleans up and ends as a clean run would.
        final = launch.submit(instance, "nightly_refresh", env, log)
        wait_until(
            lambda: _status(instance, final) in (dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE),
            300,
            "the last run",
        )
        assert _status(instance, final) == dg.DagsterRunStatus.SUCCESS

    assert not instance.get_runs(filters=dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED]))
    with duckdb.connect(str(landed.working_db), read_only=True) as con:  # every verdict is in the log now
        assert con.execute("select count(*) from publication.attempts").fetchone() == (0,)
    assert not _dbt_processes(landed.working_db)
    assert hostile.empty(landed.scratch)
    assert hostile.empty(Path(f"{landed.working_db}.tmp"))  # DuckDB's spill of a killed process
    assert not list((landed.published_dir / "versions").glob("*.building*"))
    # the lake: nothing half-written left, and its manifest names exactly the loads raw holds
    assert not [p for p in landed.lake_raw.rglob("*") if p.name.startswith(".tmp-")]
    with duckdb.connect(str(landed.working_db), read_only=True) as con:
        assert lake.exported_load_ids(landed.lake_raw) == {
            load_id for (load_id,) in con.execute("select load_id from raw.load_manifest").fetchall()
        }
    leftovers = [
        p for p in landed.dbt_invocations.glob("*_dbt-*") if p.name.rsplit("-", 2)[-2] in (dead_run[:7], queued[:7])
    ]
    assert not leftovers  # the killed runs' dbt target folders went at the next dbt step
    assert (
        hostile.numbers_outside_raw(landed.data_dir, numbers) == []
    )  # the lake by value: a pseudonym's hex is no number
    assert hostile.numbers_in_files(dagster_home, numbers, skip=()) == []

    assert _marts(landed.published_db) == _marts(WarehousePaths(first_night.data_dir).published_db)


def test_a_dbt_process_killed_by_a_signal_is_retried(landed, defs, instance):
    """The OOM killer's SIGKILL to dbt alone (its step lives on) is machine trouble, retried like any
    other; a failing test is not (tests/test_publication_gate.py)."""
    killed: list[int] = []

    def kill_the_first_dbt() -> None:
        [pid, *_] = wait_until(lambda: _dbt_processes(landed.working_db), 240, "a dbt step", poll=0.05)
        os.kill(pid, signal.SIGKILL)
        killed.append(pid)

    killer = threading.Thread(target=kill_the_first_dbt, daemon=True)
    killer.start()
    result = defs.resolve_job_def("call_center_refresh").execute_in_process(instance=instance, raise_on_error=False)
    killer.join(1)
    assert killed, "no dbt process was killed"
    retried = [e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_UP_FOR_RETRY]
    assert [e.step_key for e in retried] == ["call_center_dbt"], [e.message for e in retried]
    failure = [e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_FAILURE]
    assert not failure and result.success  # the retry built the KPI and it published
    assert "dbt was killed by SIGKILL (exit -9)" in repr(retried[0].event_specific_data)  # the step said why
