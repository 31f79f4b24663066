"""The KPIs the warehouse publishes, declared once: the code location's assets, checks and jobs, the
publication, the dashboard and the operator commands derive from this (Dagster-free: the dashboard
and the notebooks read it too)."""

from __future__ import annotations

from dataclasses import dataclass

from ingest.specs import (
    CALL_CENTER,
    COLLECTION_ACTIONS,
    CONTRACTOR_ACTIVITY,
    EMPLOYER_CONTRIBUTIONS,
    EMPLOYER_ESTABLISHMENTS,
    NATIONAL_PENSION_LEDGER,
    ExtractSpec,
)


@dataclass(frozen=True)
class Kpi:
    name: str  # dbt tag, Dagster group prefix and publication unit
    title: str
    sources: tuple[ExtractSpec, ...]
    marts: tuple[str, ...]  # tables of schema `marts` that analysts read
    reconciliation: str  # the mart listing every published figure with its status
    gx_suites: tuple[str, ...]  # marts validated by expectations/<mart>.json
    owner: str  # who answers for the KPI's figures: the owner of every asset on its path, in the UI


CALL_CENTER_KPI = Kpi(
    name="call_center",
    title="Call-center answer rate (応答率)",
    sources=(CALL_CENTER,),
    marts=("call_center_monthly", "call_center_reconciliation"),
    reconciliation="call_center_reconciliation",
    gx_suites=("call_center_monthly",),
    owner="team:call-center-analytics",
)

NATIONAL_PENSION_KPI = Kpi(
    name="national_pension",
    title="National Pension payment rate (国民年金保険料 納付率)",
    sources=(NATIONAL_PENSION_LEDGER, COLLECTION_ACTIONS, CONTRACTOR_ACTIVITY),
    marts=(
        "national_pension_payment_rate",
        "national_pension_insured_persons",
        "national_pension_collection_actions",
        "national_pension_contractor_activity",
        "national_pension_coverage_and_collection",
        "national_pension_coverage_and_collection_by_prefecture",
        "national_pension_reconciliation",
    ),
    reconciliation="national_pension_reconciliation",
    gx_suites=("national_pension_payment_rate",),
    owner="team:national-pension-analytics",
)

EMPLOYER_KPI = Kpi(
    name="employer",
    title="Employer contributions: collection rate and arrears (厚生年金保険等の徴収)",
    sources=(EMPLOYER_ESTABLISHMENTS, EMPLOYER_CONTRIBUTIONS),
    marts=("employer_collection", "employer_delinquent_establishments", "employer_reconciliation"),
    reconciliation="employer_reconciliation",
    gx_suites=("employer_collection",),
    owner="team:employer-analytics",
)

KPIS: tuple[Kpi, ...] = (CALL_CENTER_KPI, NATIONAL_PENSION_KPI, EMPLOYER_KPI)

# Marts renamed in December 2026 to the one naming rule, ``<kpi>_<what it holds>``. Each former
# name stays in every published version as a view of the new table for one release (until the
# release of June 2027), so analysts' saved queries keep working while they move; then it goes.
FORMER_MART_NAMES = {
    "np_payment_rate": "national_pension_payment_rate",
    "np_insured_persons": "national_pension_insured_persons",
    "np_payment_rate_reconciliation": "national_pension_reconciliation",
    "delinquent_establishments": "employer_delinquent_establishments",
}
