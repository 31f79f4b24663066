"""A run as soon as new extracts land, instead of waiting for 02:00; never two runs at once.

Evaluated by ``dagster-daemon`` every ``WAREHOUSE_SENSOR_INTERVAL_SECONDS`` (30 s by default):

1. while any run is queued or in progress, it waits (the working database has one writer, and
   that run may take the new files itself);
2. while any landing file is still settling (modified within ``WAREHOUSE_SETTLE_SECONDS``), it
   waits, so a batch being copied in becomes one run, not one per file;
3. files modified after what its cursor saw last, and which the working database has not loaded
   in that state (``raw.load_manifest``), are new: one run for the batch, of the KPI's own job
   when they all feed one KPI, else of ``nightly_refresh``.

The cursor is a high-water mark, whatever the number of files: the latest modification time seen
and the names modified at that very time (a file system with coarse times may give a later file
the same time). A file replaced under an *older* time (a copy that kept its times) is not new to
the sensor; the next scheduled run takes it, or ``make reload FILE=...`` at once.

Its first evaluation only takes note of what lies in landing: files present before the sensor
was first turned on are the schedule's, or a run launched by hand. A file refused whole is
not requested again until it changes.
"""

from __future__ import annotations

import hashlib
import json

import dagster as dg
import duckdb

from commands import working_lock
from config.kpis import KPIS
from config.settings import Settings
from ingest import raw_schema
from ingest.landing.scan import scan
from ingest.specs import SPECS
from orchestration.defs.jobs import JOBS, kpi_job_name, nightly_refresh
from orchestration.defs.resources import WarehouseResource

LANDED_TAG = "warehouse/landed-files"
# Every status of a run that has not finished (a queued run will read the landing folder too).
UNFINISHED = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
]

Files = dict[str, tuple[int, int]]  # "<source>/<file name>" -> (size, mtime_ns)


def landed_files(warehouse: WarehouseResource) -> tuple[Files, list[str]]:
    """The deliveries in every landing folder, and the files still settling."""
    paths, files, settling = warehouse.paths, {}, []
    for spec in SPECS.values():
        found = scan(
            spec,
            paths.landing_dir(spec.source),
            paths.landing,
            warehouse.settings.settle_seconds,
            business_date=warehouse.settings.night,
        )
        files.update({f"{spec.source}/{d.path.name}": (d.size, d.mtime_ns) for d in found.deliveries})
        settling += [f"{spec.source}/{name}" for name in found.settling]
    return files, sorted(set(settling))


def loaded_files(warehouse: WarehouseResource) -> Files:
    """What the working database has loaded, read without waiting: a lock raises (the caller waits a tick)."""
    path = warehouse.paths.working_db
    if not path.exists():
        return {}
    with duckdb.connect(str(path), read_only=True) as con:
        return {
            f"{source}/{name}": (size, mtime) for (source, name), (size, mtime) in raw_schema.current_files(con).items()
        }


def job_for(files: list[str]) -> str:
    """The job that takes ``files``: their KPI's own, or the whole night's when they feed several."""
    sources = {name.split("/", 1)[0] for name in files}
    kpis = [kpi for kpi in KPIS if sources & {spec.source for spec in kpi.sources}]
    return kpi_job_name(kpis[0]) if len(kpis) == 1 else nightly_refresh.name


def _mark(cursor: str | None) -> dict:
    """A cursor's mark; ``{}`` (a reset: `dagster sensor cursor landing_sensor --set '{}'`) marks nothing seen."""
    mark = json.loads(cursor) if cursor else {}
    return mark if "mtime_ns" in mark else {"mtime_ns": 0, "at": []}


def high_water_mark(files: Files, before: str | None = None) -> str:
    """The cursor: the latest modification time among ``files`` (or the one ``before`` had, if later),
    and every name modified at that time."""
    seen = _mark(before)
    latest = max([seen["mtime_ns"], *(mtime for _, mtime in files.values())])
    at = {name for name, (_, mtime) in files.items() if mtime == latest}
    return json.dumps(
        {"mtime_ns": latest, "at": sorted(at | (set(seen["at"]) if latest == seen["mtime_ns"] else set()))}
    )


def _after(files: Files, cursor: str) -> list[str]:
    """The files modified after the cursor's mark (or at it, under a name it has not seen)."""
    mark = _mark(cursor)
    return sorted(
        name
        for name, (_, mtime) in files.items()
        if mtime > mark["mtime_ns"] or (mtime == mark["mtime_ns"] and name not in mark["at"])
    )


def evaluate(cursor: str | None, unfinished_runs: int, warehouse: WarehouseResource) -> dg.SensorResult | dg.SkipReason:
    """One evaluation: the run to request and the new cursor, or why not now."""
    files, settling = landed_files(warehouse)
    if cursor is None:
        return dg.SensorResult(
            skip_reason=f"first evaluation: {len(files)} landing file(s) noted, none requested",
            cursor=high_water_mark(files),
        )
    if unfinished_runs:
        return dg.SkipReason(f"{unfinished_runs} run(s) queued or in progress; new files wait for them to finish")
    if settling:
        return dg.SkipReason(f"{len(settling)} file(s) still arriving: {', '.join(settling[:5])}")
    changed = _after(files, cursor)
    if not changed:
        return dg.SkipReason("no new landing files")
    try:
        loaded = loaded_files(warehouse)
    except duckdb.IOException as err:
        if working_lock.is_lock_error(err):
            return dg.SkipReason("the working database is busy; looking again next tick")
        raise
    new = [name for name in changed if loaded.get(name) != files[name]]
    if not new:
        return dg.SensorResult(
            skip_reason=f"{len(changed)} changed file(s), all loaded already", cursor=high_water_mark(files, cursor)
        )
    batch = hashlib.sha256(json.dumps({name: files[name] for name in new}, sort_keys=True).encode()).hexdigest()[:16]
    request = dg.RunRequest(
        run_key=f"landing-{batch}",
        job_name=job_for(new),
        tags={LANDED_TAG: f"{len(new)}: {', '.join(new[:3])}" + (", ..." if len(new) > 3 else "")},
    )
    return dg.SensorResult(run_requests=[request], cursor=high_water_mark(files, cursor))


def build_landing_sensor(interval_seconds: int) -> dg.SensorDefinition:
    """The sensor, evaluated every ``interval_seconds`` (``WAREHOUSE_SENSOR_INTERVAL_SECONDS``)."""

    @dg.sensor(
        name="landing_sensor",
        jobs=JOBS,
        minimum_interval_seconds=interval_seconds,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Requests one run for each batch of new landing files, once they have settled and no run is in progress.",
    )
    def landing_sensor(context: dg.SensorEvaluationContext, warehouse: WarehouseResource):
        unfinished = len(context.instance.get_run_ids(dg.RunsFilter(statuses=UNFINISHED), limit=10))
        return evaluate(context.cursor, unfinished, warehouse)

    return landing_sensor


@dg.definitions
def defs() -> dg.Definitions:
    interval = Settings.from_env().sensor_interval_seconds  # read when the code location loads
    return dg.Definitions(sensors=[build_landing_sensor(interval)])
