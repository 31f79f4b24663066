"""Jobs and the schedule: the whole night, and one job per KPI (derived from ``orchestration.lib.kpis``)."""

import dagster as dg

from config.kpis import KPIS, Kpi

# Everything: ingest whatever landing files are new, rebuild and test the models, run the
# checks, publish each KPI whose checks passed.
nightly_refresh = dg.define_asset_job(
    name="nightly_refresh",
    selection=dg.AssetSelection.all(),
    description="Load new landing files, build and test every KPI, and publish the KPIs whose checks pass.",
)


def kpi_job_name(kpi: Kpi) -> str:
    return f"{kpi.name}_refresh"


# One KPI's path only, from its landing files to its publication: every asset tagged with it.
# Its publication carries the other KPIs' last published versions unchanged.
kpi_refresh = {
    kpi.name: dg.define_asset_job(
        name=kpi_job_name(kpi),
        selection=dg.AssetSelection.tag("kpi", kpi.name),
        description=f"{kpi.title}: load its new landing files, build and test it, and publish it if its checks pass.",
    )
    for kpi in KPIS
}

JOBS = [nightly_refresh, *kpi_refresh.values()]

nightly_refresh_schedule = dg.ScheduleDefinition(
    name="nightly_refresh_schedule",
    job=nightly_refresh,
    cron_schedule="0 2 * * *",
    execution_timezone="Asia/Tokyo",
    # On from the moment the daemon runs: the night is meant to run unattended (stop it in the UI).
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="02:00 JST, after the operational systems' nightly exports have landed.",
)


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(
        jobs=JOBS,
        schedules=[nightly_refresh_schedule],
        # One process, one step at a time: the working DuckDB file has exactly one writer.
        executor=dg.in_process_executor,
    )
