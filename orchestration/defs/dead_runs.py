"""Runs whose process is gone are failed, so the run queue moves on.

A run killed with its whole process tree (kill -9 of an in-process run such as ``make demo``,
a reboot, an OOM kill of the code server) stays STARTED forever: nothing is left to report
its end, and with ``max_concurrent_runs: 1`` every later run waits in the queue behind it.
Dagster's run monitoring (enabled in ``dagster.yaml``) fails runs stuck starting, but it
can tell whether a started run's worker lives only for run launchers that track their
workers (Kubernetes, ECS, Docker); the default launcher used here does not.

So a sensor, evaluated by the daemon every ``WAREHOUSE_SENSOR_INTERVAL_SECONDS``, does it: a STARTED run's RUN_START
event records the pid of the process orchestrating it, and when no process with that pid,
started before the run did, exists any more, the run is reported failed. It assumes what this
deployment is (README, Operations): the runs and the daemon on one host.
"""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg

from config.settings import Settings


def _boot_time() -> float:
    for line in Path("/proc/stat").read_text().splitlines():
        if line.startswith("btime "):
            return float(line.split()[1])
    raise RuntimeError("/proc/stat has no btime")


def process_alive(pid: int, started_by: float) -> bool:
    """Whether process ``pid`` runs and was started by ``started_by`` (a pid reused later is another process)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return False
    fields = stat.rsplit(")", 1)[1].split()  # after "pid (comm)": the comm may hold blanks
    if fields[0] in ("Z", "X"):  # a zombie has finished
        return False
    started = _boot_time() + int(fields[19]) / os.sysconf("SC_CLK_TCK")
    return started <= started_by + 1.0  # clock-tick granularity


def fail_dead_runs(instance: dg.DagsterInstance) -> list[str]:
    """Report failed every STARTED run whose orchestrating process is gone; the ids of those runs."""
    failed = []
    for record in instance.get_run_records(dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED])):
        run = record.dagster_run
        starts = instance.all_logs(run.run_id, of_type=dg.DagsterEventType.RUN_START)
        if not starts or starts[-1].dagster_event is None or starts[-1].dagster_event.pid is None:
            continue
        start = starts[-1]
        pid = start.dagster_event.pid
        if process_alive(pid, start.timestamp):
            continue
        current = instance.get_run_by_id(run.run_id)
        if current is None or current.status != dg.DagsterRunStatus.STARTED:  # it ended while we looked
            continue
        instance.report_run_failed(
            current,
            f"The process that ran this run (pid {pid}) is gone: killed or crashed without reporting its end. "
            "Marked failed so the run queue moves on; the next run cleans up what it left and reloads what it had not committed.",
        )
        failed.append(run.run_id)
    return failed


def build_dead_run_reaper(interval_seconds: int) -> dg.SensorDefinition:
    """The sensor, evaluated every ``interval_seconds`` (``WAREHOUSE_SENSOR_INTERVAL_SECONDS``)."""

    @dg.sensor(
        name="dead_run_reaper",
        minimum_interval_seconds=interval_seconds,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Fails runs whose process is gone (killed or crashed), so the one-run-at-a-time queue moves on.",
    )
    def dead_run_reaper(context: dg.SensorEvaluationContext) -> dg.SkipReason:
        failed = fail_dead_runs(context.instance)
        if failed:
            context.log.warning(f"failed {len(failed)} run(s) whose process is gone: {', '.join(failed)}")
            return dg.SkipReason(f"marked failed: {', '.join(failed)}")
        return dg.SkipReason("no run has lost its process")

    return dead_run_reaper


@dg.definitions
def defs() -> dg.Definitions:
    interval = Settings.from_env().sensor_interval_seconds  # read when the code location loads
    return dg.Definitions(sensors=[build_dead_run_reaper(interval)])
