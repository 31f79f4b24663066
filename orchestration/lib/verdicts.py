"""A run's verdict on each KPI, from its asset-check evaluations: pure functions over the event log.

The KPI is the unit of publication, so a KPI is held back by any blocking (ERROR) check that
failed on any of its assets (sources, staging, marts), not only on its marts. Publication
records the verdict (``orchestration.defs.publication``); alerts report it (``orchestration.defs.alerts``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping

import dagster as dg

from config.kpis import KPIS
from publication.log import Attempt


def check_evaluations(instance: dg.DagsterInstance, run_id: str) -> list[dg.AssetCheckEvaluation]:
    """Every asset-check evaluation the run recorded, in order."""
    return [
        record.dagster_event.event_specific_data
        for record in instance.all_logs(run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION)
    ]


def by_kpi(
    evaluations: Iterable[dg.AssetCheckEvaluation], kpi_keys: Mapping[str, set[dg.AssetKey]]
) -> dict[str, list[dg.AssetCheckEvaluation]]:
    """The evaluations of each KPI's assets; a KPI none of whose checks ran has no entry."""
    grouped: dict[str, list[dg.AssetCheckEvaluation]] = {}
    for evaluation in evaluations:
        for kpi_name, keys in kpi_keys.items():
            if evaluation.asset_key in keys:
                grouped.setdefault(kpi_name, []).append(evaluation)
    return grouped


def blocking_failures(evaluations: Iterable[dg.AssetCheckEvaluation]) -> list[dg.AssetCheckEvaluation]:
    """The failed evaluations that hold a KPI back (a failed WARN check only warns)."""
    return [e for e in evaluations if not e.passed and e.severity == dg.AssetCheckSeverity.ERROR]


def failure_name(evaluation: dg.AssetCheckEvaluation) -> str:
    return f"{evaluation.asset_key.to_user_string()}: {evaluation.check_name}"


def attempts(
    evaluations: Iterable[dg.AssetCheckEvaluation], kpi_keys: Mapping[str, set[dg.AssetKey]]
) -> dict[str, tuple[str, Attempt]]:
    """The run's verdict per published mart: ``{mart: (kpi, Attempt)}``; every mart of a KPI shares it."""
    grouped = by_kpi(evaluations, kpi_keys)
    verdict = {}
    for kpi in KPIS:
        evals = grouped.get(kpi.name)
        if not evals:
            continue  # its log rows keep their last attempt
        failures = tuple(sorted(failure_name(e) for e in blocking_failures(evals)))
        verdict.update({mart: (kpi.name, Attempt(len(evals), failures)) for mart in kpi.marts})
    return verdict


UNRECORDED = "the run ended before its verdict was recorded (killed, or its process died)"


def unrecorded(
    instance: dg.DagsterInstance,
    notes: Iterable[tuple[str, str, dt.datetime]],
    this_run_id: str,
    kpi_keys: Mapping[str, set[dg.AssetKey]],
) -> dict[str, tuple[str, Attempt]]:
    """The verdicts earlier runs never recorded, per mart: ``notes`` are the (run_id, kpi, started_at)
    of attempts left open (``publication_log.open_attempts``). A run that held the KPI back failed
    with its checks' failures; one that ended without any failing check was killed, and failed so."""
    verdict: dict[str, tuple[str, Attempt]] = {}
    by_kpi_name = {kpi.name: kpi for kpi in KPIS}
    for run_id, kpi_name, started_at in notes:  # oldest first: a later note of the same KPI wins
        if run_id == this_run_id or kpi_name not in by_kpi_name:
            continue
        evaluations = by_kpi(check_evaluations(instance, run_id), kpi_keys).get(kpi_name, [])
        failures = tuple(sorted(failure_name(e) for e in blocking_failures(evaluations))) or (UNRECORDED,)
        attempt = Attempt(len(evaluations), failures, run_id=run_id, at=started_at)
        verdict.update({mart: (kpi_name, attempt) for mart in by_kpi_name[kpi_name].marts})
    return verdict
