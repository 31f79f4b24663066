"""Alerts: one notification per failed run, per held-back KPI and per stale source, sent through apprise.

Two run-status sensors (evaluated by ``dagster-daemon``) read a finished run's event log and
send what it calls for:

* **run failed**: the job, the steps that failed and why;
* **KPI held back**: each blocking check that failed on any of the KPI's assets, with its
  description and figures (a reconciliation's mismatched figures, a file's rejected lines),
  or the publication it refused (a stale source when ``WAREHOUSE_STALE_BLOCKS=true``);
* **source stale**: each source whose delivery is overdue, and what its KPI published.

Every alert carries the run id and the address of the run's page in the UI. ``WAREHOUSE_ALERT_URLS``
holds apprise URLs (``mailto://``, ``slack://``, ``msteams://``, ``json://`` ..., separated by
blanks or commas); blank, alerts are only logged (the daemon's log, the sensor's ticks). An alert
that cannot be delivered is logged in full as an error, so it is never silently lost; the
sensor moves on rather than retrying one run's alerts for ever.

No alert quotes a line of data: checks' metadata names files, counts and figures, never a
person (see ``tests/test_personal_data.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import apprise
import dagster as dg

from config.kpis import KPIS, Kpi
from config.settings import Settings
from ingest.specs import SPECS, ExtractSpec
from orchestration.defs.ingest import ingest_asset_key
from orchestration.defs.jobs import kpi_job_name
from orchestration.lib import verdicts
from orchestration.lib.kpi_assets import kpi_keys
from orchestration.lib.tags import ACCEPT_REJECTS_TAG, ACCEPT_VOLUME_TAG

SUBJECT_PREFIX = "[pension warehouse]"
FRESHNESS_CHECK = "freshness"


@dataclass(frozen=True)
class Alert:
    kind: str  # kpi_held_back | run_failed | source_stale | source_recovered
    subject: str
    body: str


class AlertsResource(dg.ConfigurableResource):
    """Where alerts go (``WAREHOUSE_ALERT_URLS``) and where their links point (the UI's address).

    Both come from the settings when the alerts are sent, so the URLs, which may hold a password,
    are never part of the resource's configuration the UI shows; a test or a hand-built sensor
    context may give either here instead.
    """

    urls: str | None = None  # None: WAREHOUSE_ALERT_URLS
    ui_url: str | None = None  # None: WAREHOUSE_UI_URL, blank: http://<ui_host>:<ui_port>

    @property
    def targets(self) -> str:
        return self.urls if self.urls is not None else Settings.from_env().alert_urls.get_secret_value()

    @property
    def ui_base(self) -> str:
        settings = Settings.from_env()
        url = self.ui_url if self.ui_url is not None else settings.ui_url
        return (url.strip() or f"http://{settings.ui_host}:{settings.ui_port}").rstrip("/")

    def deliver(self, alerts: list[Alert], log: Callable[[str], None], error: Callable[[str], None]) -> int:
        """Send every alert to every URL; the number sent. Blank URLs: each alert is logged instead."""
        if not alerts:
            return 0
        if not self.targets.strip():
            for alert in alerts:
                log(f"alert (WAREHOUSE_ALERT_URLS is blank: logged only): {alert.subject}\n{alert.body}")
            return 0
        notifier = apprise.Apprise()
        if not notifier.add(self.targets):  # never quote the URLs: they may hold a password
            error(
                "WAREHOUSE_ALERT_URLS holds a URL apprise does not recognise (https://appriseit.com/); "
                f"{len(alerts)} alert(s) logged instead"
            )
        sent = 0
        for alert in alerts:
            if len(notifier) and notifier.notify(
                title=alert.subject, body=alert.body, body_format=apprise.NotifyFormat.TEXT
            ):
                sent += 1
            else:
                error(f"alert not delivered to every target of WAREHOUSE_ALERT_URLS: {alert.subject}\n{alert.body}")
        return sent


def _metadata_lines(metadata: Mapping[str, dg.MetadataValue]) -> list[str]:
    lines = []
    for key, value in metadata.items():
        text = str(value.value if isinstance(value, dg.MetadataValue) else value)
        if "\n" in text:
            lines += [f"    {key}:", *(f"      {line}" for line in text.splitlines())]
        else:
            lines.append(f"    {key}: {text}")
    return lines


def _step_failures(instance: dg.DagsterInstance, run_id: str) -> dict[str, tuple[str, bool]]:
    """Each failed step's key, why (a dg.Failure's description, else the error's message, whole), and
    whether a blocking check explains it (the step only carried a failed check's verdict)."""
    failures = {}
    for record in instance.all_logs(run_id, of_type=dg.DagsterEventType.STEP_FAILURE):
        data = record.get_dagster_event().step_failure_data
        described = data.user_failure_data.description if data.user_failure_data else None
        error = data.error.message.strip() if data.error and data.error.message.strip() else "unknown error"
        by_check = bool(data.error and data.error.cls_name == "DagsterAssetCheckFailedError")
        failures[str(record.step_key)] = (described or error, by_check)
    return failures


def _run_failure_message(instance: dg.DagsterInstance, run_id: str) -> str | None:
    records = instance.all_logs(run_id, of_type=dg.DagsterEventType.RUN_FAILURE)
    return records[-1].get_dagster_event().message if records else None


def _publish_step(kpi: Kpi) -> str:
    return f"published__{kpi.name}"


def _spec_of(key: dg.AssetKey) -> ExtractSpec | None:
    return next((spec for spec in SPECS.values() if ingest_asset_key(spec) == key), None)


def _kpi_of(spec: ExtractSpec) -> Kpi:
    return next(kpi for kpi in KPIS if spec in kpi.sources)


def _launch(kpi: Kpi, tag: str) -> str:
    return (
        f"launch {kpi_job_name(kpi)} with the tag {tag}=true (the UI's Launchpad, or: .venv/bin/dagster job launch "
        f'-w workspace.yaml -j {kpi_job_name(kpi)} --tags \'{{"{tag}": "true"}}\')'
    )


def remedy(kpi: Kpi, evaluation: dg.AssetCheckEvaluation) -> str:
    """What an operator does about a failed blocking check: the re-delivery, the accepting tag, or where to look."""
    spec = _spec_of(evaluation.asset_key)
    if evaluation.check_name == "volume" and spec is not None:
        return (
            f"Remedy: ask the {spec.source} system for the complete {spec.file_name} and deliver it under the same "
            "name (it loads as a new version; if its size and time are unchanged, make reload FILE=<its path>). "
            f"If the delivery really was this small (a holiday, an outage), accept it: {_launch(kpi, ACCEPT_VOLUME_TAG)}."
        )
    if evaluation.check_name == "reject_rate" and spec is not None:
        return (
            'Remedy: the rejected lines and their reasons are in raw.rejects (make dbt ARGS="show --inline '
            "'select * from raw.rejects order by _load_id desc limit 50'\"); ask for a corrected file under the "
            f"same name. If the rejects are acceptable, {_launch(kpi, ACCEPT_REJECTS_TAG)}."
        )
    if evaluation.check_name == "published_figures_reproduced":
        return (
            f"Remedy: the mismatched figures are listed above and in marts.{kpi.reconciliation}; a re-delivery that "
            "lost or doubled rows is the usual cause (compare the loads in marts.load_quality)."
        )
    return (
        "Remedy: open the check on the run's page for its failing rows (a dbt test shows its SQL); fix the data "
        f"at its source and re-deliver, or the model, then launch {kpi_job_name(kpi)}."
    )


def _freshness_before(instance: dg.DagsterInstance, run: dg.DagsterRun, key: dg.AssetKey) -> bool | None:
    """Whether the source's freshness check passed in the latest earlier run that evaluated it (None: none did)."""
    earlier = instance.get_run_records(
        dg.RunsFilter(
            statuses=[dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE],
            created_before=this.create_timestamp if (this := instance.get_run_record_by_id(run.run_id)) else None,
        ),
        limit=50,
    )
    for record in earlier:
        if record.dagster_run.run_id == run.run_id:
            continue
        for evaluation in verdicts.check_evaluations(instance, record.dagster_run.run_id):
            if evaluation.asset_key == key and evaluation.check_name == FRESHNESS_CHECK:
                return evaluation.passed
    return None


def run_alerts(
    instance: dg.DagsterInstance, run: dg.DagsterRun, kpi_keys: Mapping[str, set[dg.AssetKey]], ui_base: str
) -> list[Alert]:
    """What a finished run calls for, one mail per incident: each KPI held back (its failed checks, their
    figures and the remedy); a failure no check explains; a source that became overdue, or recovered."""
    link = f"{ui_base}/runs/{run.run_id}"
    footer = f"\nRun: {run.run_id} (job {run.job_name})\nOpen it: {link}\n"
    evaluations = verdicts.check_evaluations(instance, run.run_id)
    steps = _step_failures(instance, run.run_id)
    alerts = []

    grouped = verdicts.by_kpi(evaluations, kpi_keys)
    for kpi in KPIS:
        failed = verdicts.blocking_failures(grouped.get(kpi.name, []))
        refused = steps.get(_publish_step(kpi))
        if not failed and not refused:
            continue
        lines = [f"{kpi.title} was not published by this run; the published database keeps its last good version."]
        for evaluation in failed:
            lines.append(
                f"  - failed check {verdicts.failure_name(evaluation)}"
                + (f": {evaluation.description}" if evaluation.description else "")
            )
            lines += _metadata_lines(evaluation.metadata)
            lines.append(f"    {remedy(kpi, evaluation)}")
        if refused:
            lines.append(f"  - publication refused: {refused[0]}")
            lines.append(
                "    Remedy: deliver the overdue extract (see the source's freshness above), or accept stale "
                "figures with WAREHOUSE_STALE_BLOCKS=false."
            )
        lines.append(f"Owner: {kpi.owner}")
        alerts.append(Alert("kpi_held_back", f"{SUBJECT_PREFIX} KPI held back: {kpi.name}", "\n".join(lines) + footer))

    # A failure no check explains (a crash, a lock, a disk): said whole, with the run's own message.
    publish_steps = {_publish_step(kpi) for kpi in KPIS}
    unexplained = {step: why for step, (why, by_check) in steps.items() if not by_check and step not in publish_steps}
    if run.status == dg.DagsterRunStatus.FAILURE and (unexplained or not steps and not alerts):
        lines = [f"The run of {run.job_name} failed."]
        if unexplained:
            lines += ["Failed steps:", *(f"  - {step}: {why}" for step, why in sorted(unexplained.items()))]
        elif message := _run_failure_message(instance, run.run_id):
            lines.append(message)
        lines.append(
            "A KPI that did not pass keeps its last good version in the published database. Remedy: read the "
            f"step's error on the run's page, fix its cause, then launch {run.job_name} again."
        )
        alerts.append(
            Alert(
                "run_failed",
                f"{SUBJECT_PREFIX} run failed: {run.job_name} ({run.run_id[:8]})",
                "\n".join(lines) + footer,
            )
        )

    # A source's staleness is an incident when it starts and when it ends, not on every run between.
    for evaluation in evaluations:
        spec = _spec_of(evaluation.asset_key)
        if evaluation.check_name != FRESHNESS_CHECK or spec is None:
            continue
        before = _freshness_before(instance, run, evaluation.asset_key)
        kpi = _kpi_of(spec)
        if not evaluation.passed and before is not False:
            overdue = evaluation.metadata.get("overdue")
            lines = [
                f"The {spec.source} extract {spec.file_name} is overdue: "
                f"{overdue.value if overdue else evaluation.description}.",
                f"{kpi.name} is stale: it "
                + (
                    "is held back while WAREHOUSE_STALE_BLOCKS=true."
                    if _publish_step(kpi) in steps
                    else "publishes its last figures marked is_stale in marts.publication_log."
                ),
                *_metadata_lines(evaluation.metadata),
                "Remedy: ask the source system for the extract; it is loaded on the first run after it lands. "
                "This alert is not repeated while the source stays overdue; another says when it recovers.",
                f"Owner: {kpi.owner}",
            ]
            alerts.append(
                Alert(
                    "source_stale",
                    f"{SUBJECT_PREFIX} source stale: {spec.source}/{spec.entity}",
                    "\n".join(lines) + footer,
                )
            )
        elif evaluation.passed and before is False:
            lines = [
                f"The {spec.source} extract {spec.file_name} is delivered again: {kpi.name} is current.",
                f"Owner: {kpi.owner}",
            ]
            alerts.append(
                Alert(
                    "source_recovered",
                    f"{SUBJECT_PREFIX} source current again: {spec.source}/{spec.entity}",
                    "\n".join(lines) + footer,
                )
            )
    return alerts


def _alert(context: dg.RunStatusSensorContext, alerts: AlertsResource, kpi_keys) -> dg.SkipReason:
    run = context.dagster_run
    found = run_alerts(context.instance, run, kpi_keys, alerts.ui_base)
    sent = alerts.deliver(found, log=context.log.warning, error=context.log.error)
    return dg.SkipReason(f"run {run.run_id}: {len(found)} alert(s), {sent} sent")


def build_alert_sensors(kpi_keys: Mapping[str, set[dg.AssetKey]], interval_seconds: int) -> list[dg.SensorDefinition]:
    """``kpi_keys``: each KPI's asset keys, which say whose checks a failure holds back. The sensors
    look for finished runs every ``interval_seconds`` (``WAREHOUSE_SENSOR_INTERVAL_SECONDS``)."""

    @dg.run_failure_sensor(
        name="alert_on_run_failure",
        minimum_interval_seconds=interval_seconds,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Alerts (WAREHOUSE_ALERT_URLS) on a failed run, each KPI it held back and each stale source.",
    )
    def alert_on_run_failure(context: dg.RunFailureSensorContext, alerts: AlertsResource):
        return _alert(context, alerts, kpi_keys)

    @dg.run_status_sensor(
        run_status=dg.DagsterRunStatus.SUCCESS,
        name="alert_on_run_success",
        minimum_interval_seconds=interval_seconds,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Alerts (WAREHOUSE_ALERT_URLS) on each stale source of a run that succeeded.",
    )
    def alert_on_run_success(context: dg.RunStatusSensorContext, alerts: AlertsResource):
        return _alert(context, alerts, kpi_keys)

    return [alert_on_run_failure, alert_on_run_success]


@dg.definitions
def defs() -> dg.Definitions:
    """The alert sensors, and where alerts go (the ``alerts`` resource, from WAREHOUSE_ALERT_URLS)."""
    interval = Settings.from_env().sensor_interval_seconds  # read when the code location loads
    return dg.Definitions(sensors=build_alert_sensors(kpi_keys(), interval), resources={"alerts": AlertsResource()})
