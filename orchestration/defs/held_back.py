"""A held-back KPI is published as held back, as soon as its run ends.

When a run holds a KPI back, its publish step is skipped (a blocking check failed). If another
KPI of the same run publishes, that version records the verdict. If none does (a per-KPI job, a
night that held everything back, a run killed mid-way), the verdict would wait for the next
publication, and analysts would read "passed" meanwhile. So a run-failure sensor queues
``record_held_back`` right after such a run: it writes a new version with the same marts and a
``publication_log`` that says the latest attempt failed and why (``publication.publish`` with no
mart to publish). With no open attempt left, it does nothing and writes nothing.
"""

import dagster as dg

from config.kpis import KPIS
from config.settings import Settings
from orchestration.defs.jobs import JOBS
from orchestration.defs.publication import kpi_state, publish_for_run
from orchestration.defs.resources import STEP_RETRY, WarehouseResource
from orchestration.lib import verdicts
from orchestration.lib.kpi_assets import kpi_keys
from publication.log import close_attempts, open_attempts

FOR_RUN_TAG = "warehouse/held-back-run"
VERSION_KIND = "held_back"  # the version file's name says what wrote it (version_files.version_name)


@dg.op(retry_policy=STEP_RETRY, description="Records the verdicts the failed run left open in a new published version.")
def record_verdicts(context: dg.OpExecutionContext, warehouse: WarehouseResource) -> dg.Output[None]:
    with warehouse.working() as con:
        left_open = verdicts.unrecorded(context.instance, open_attempts(con), context.run.run_id, kpi_keys())
        if not left_open:
            context.log.info("no verdict left unrecorded: the run's own publication recorded them")
            return dg.Output(None, metadata={"new_version_written": False})
        states = {k.name: kpi_state(con, k, warehouse.settings.night) for k in KPIS}
        result = publish_for_run(context, warehouse, con, VERSION_KIND, [], left_open, states)
        close_attempts(con, {kpi for kpi, _ in left_open.values()})
    held = sorted({f"{kpi}: {'; '.join(a.failures)}" for kpi, a in left_open.values()})
    context.log.warning(f"published as held back ({result.path.name}): " + " | ".join(held))
    return dg.Output(
        None,
        metadata={
            "new_version_written": result.wrote_version,
            "published_file": dg.MetadataValue.path(str(result.path)),
            "held_back": dg.MetadataValue.md("\n".join(f"- {h}" for h in held)),
        },
    )


@dg.job(
    description="Right after a run that held a KPI back: a new published version whose publication_log says so.",
    executor_def=dg.in_process_executor,
)
def record_held_back():
    record_verdicts()


def build_held_back_sensor(interval_seconds: int) -> dg.SensorDefinition:
    @dg.run_failure_sensor(
        name="publish_held_back",
        monitored_jobs=JOBS,
        request_job=record_held_back,
        minimum_interval_seconds=interval_seconds,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Queues record_held_back after a failed warehouse run, so the banner names a held-back KPI at once.",
    )
    def publish_held_back(context: dg.RunFailureSensorContext):
        run_id = context.dagster_run.run_id
        return dg.RunRequest(run_key=run_id, tags={FOR_RUN_TAG: run_id})

    return publish_held_back


@dg.definitions
def defs() -> dg.Definitions:
    interval = Settings.from_env().sensor_interval_seconds  # read when the code location loads
    return dg.Definitions(jobs=[record_held_back], sensors=[build_held_back_sensor(interval)])
