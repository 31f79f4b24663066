"""A run's verdict on each KPI, as pure functions over check evaluations: no run, no instance."""

import dagster as dg

from config.kpis import CALL_CENTER_KPI, EMPLOYER_KPI, NATIONAL_PENSION_KPI
from orchestration.lib import verdicts
from orchestration.lib.kpi_assets import kpi_keys
from orchestration.lib.kpis import mart_key
from publication.log import Attempt

KPI_KEYS = kpi_keys()  # the code location's own: every asset of each KPI, sources to marts
CALLS = dg.AssetKey(["raw", "call_center__calls"])
MONTHLY = mart_key("call_center_monthly")
COLLECTION = mart_key("employer_collection")


def _evaluation(key: dg.AssetKey, check: str, passed: bool, severity=dg.AssetCheckSeverity.ERROR):
    return dg.AssetCheckEvaluation(asset_key=key, check_name=check, passed=passed, severity=severity)


def test_a_failed_blocking_check_on_a_source_holds_back_every_mart_of_its_kpi_only():
    verdict = verdicts.attempts(
        [
            _evaluation(CALLS, "reject_rate", passed=False),
            _evaluation(MONTHLY, "gx_suite", passed=True),
            _evaluation(MONTHLY, "reconciliation", passed=False),
            _evaluation(COLLECTION, "gx_suite", passed=True),
        ],
        KPI_KEYS,
    )
    failures = ("marts/call_center_monthly: reconciliation", "raw/call_center__calls: reject_rate")  # sorted
    assert verdict == {
        "call_center_monthly": ("call_center", Attempt(3, failures)),
        "call_center_reconciliation": ("call_center", Attempt(3, failures)),
        **{mart: ("employer", Attempt(1)) for mart in EMPLOYER_KPI.marts},
    }
    assert not verdict["call_center_monthly"][1].passed and verdict["employer_collection"][1].passed


def test_a_failed_warning_only_warns_and_a_kpi_with_no_checks_keeps_its_last_attempt():
    evaluations = [_evaluation(COLLECTION, "volume", passed=False, severity=dg.AssetCheckSeverity.WARN)]
    verdict = verdicts.attempts(evaluations, KPI_KEYS)
    assert {mart: attempt for mart, (_, attempt) in verdict.items()} == {m: Attempt(1) for m in EMPLOYER_KPI.marts}
    assert not set(verdict) & {*CALL_CENTER_KPI.marts, *NATIONAL_PENSION_KPI.marts}
    assert verdicts.blocking_failures(evaluations) == []


def test_evaluations_are_grouped_by_the_kpi_whose_asset_they_judge():
    unknown = _evaluation(dg.AssetKey(["marts", "not_a_kpis"]), "gx_suite", passed=False)
    grouped = verdicts.by_kpi([_evaluation(CALLS, "freshness", True), unknown], KPI_KEYS)
    assert list(grouped) == ["call_center"] and [e.check_name for e in grouped["call_center"]] == ["freshness"]
    assert verdicts.failure_name(unknown) == "marts/not_a_kpis: gx_suite"
