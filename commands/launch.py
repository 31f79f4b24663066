"""Run a job through the code location, as the UI and the schedule do, from a terminal.

A run made with ``execute_in_process`` belongs to no code location: the UI's job page and
Overview never show it. Launched here, the run is submitted to the instance's queue, a
``dagster-daemon`` started for the purpose takes it from there and runs it in its own process,
and the UI lists it with the job like any scheduled night. Everything the daemon and the run
print goes to a log file; the caller sees the steps as they finish.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg

from config.layout import BIN, REPO_ROOT, WORKSPACE

_STEP_EVENTS = {
    dg.DagsterEventType.STEP_SUCCESS,
    dg.DagsterEventType.STEP_FAILURE,
    dg.DagsterEventType.STEP_UP_FOR_RETRY,
}


@contextmanager
def daemon(env: dict[str, str], log: Path) -> Iterator[subprocess.Popen]:
    """``dagster-daemon run`` on the workspace, for as long as the block runs; its output to ``log``."""
    with log.open("ab") as out:
        process = subprocess.Popen(
            [str(BIN / "dagster-daemon"), "run", "-w", str(WORKSPACE)],
            cwd=REPO_ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            yield process
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait()


def submit(
    instance: dg.DagsterInstance, job: str, env: dict[str, str], log: Path, tags: dict[str, str] | None = None
) -> str:
    """Submit a run of ``job`` to the instance's queue (``dagster job launch``); its run id."""
    before = {r.run_id for r in instance.get_runs(dg.RunsFilter(job_name=job))}
    command = [str(BIN / "dagster"), "job", "launch", "-w", str(WORKSPACE), "-j", job]
    if tags:
        command += ["--tags", json.dumps(tags)]
    with log.open("ab") as out:
        subprocess.run(command, cwd=REPO_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, check=True)
    [run_id] = [r.run_id for r in instance.get_runs(dg.RunsFilter(job_name=job)) if r.run_id not in before]
    return run_id


def wait(
    instance: dg.DagsterInstance,
    run_id: str,
    on_step: Callable[[dg.EventLogEntry], None] = lambda _: None,
    daemon_process: subprocess.Popen | None = None,
    timeout: float = 6 * 3600,
) -> dg.DagsterRun:
    """Wait for the run to finish, calling ``on_step`` for each step that ends (or is retried)."""
    seen, deadline = 0, time.monotonic() + timeout
    while True:
        records = instance.all_logs(run_id, of_type=_STEP_EVENTS)
        for record in records[seen:]:
            on_step(record)
        seen = len(records)
        run = instance.get_run_by_id(run_id)
        if run is None:
            raise RuntimeError(f"run {run_id} is not in the instance (deleted while it ran?)")
        if run.is_finished:
            return run
        if daemon_process is not None and daemon_process.poll() is not None:
            raise RuntimeError(f"dagster-daemon exited ({daemon_process.returncode}) before run {run_id} finished")
        if time.monotonic() > deadline:
            raise TimeoutError(f"run {run_id} still {run.status.value} after {timeout:.0f} s")
        time.sleep(1)


def write_event_log(instance: dg.DagsterInstance, run_id: str, log: Path) -> None:
    """The run's whole event log, one line per event, appended to ``log``."""
    with log.open("a", encoding="utf-8") as out:
        out.write(f"\n=== event log of run {run_id} ===\n")
        for record in instance.all_logs(run_id):
            stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(record.timestamp))
            event = record.dagster_event.event_type_value if record.dagster_event else "LOG"
            message = record.user_message or (record.dagster_event.message if record.dagster_event else "") or ""
            out.write(
                f"{stamp} {logging.getLevelName(record.level):<7} {record.step_key or '-':<40} {event:<28} {message}\n"
            )
