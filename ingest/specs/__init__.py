"""Extract specifications: what a landing file must look like, declared once per source.

One module per source (``call_center``, ``national_pension``, ``employer``) declares its
extracts with the building blocks of ``model``; ``SPECS`` lists them all, by raw table.
"""

from __future__ import annotations

from ingest.specs.call_center import CALL_CENTER
from ingest.specs.employer import EMPLOYER_CONTRIBUTIONS, EMPLOYER_ESTABLISHMENTS, ESTABLISHMENT_NUMBER, INSURANCE_NAMES
from ingest.specs.model import Cadence, Column, ExtractSpec, RowRule, Volume
from ingest.specs.national_pension import (
    COLLECTION_ACTION_CODES,
    COLLECTION_ACTIONS,
    CONTRACTOR_ACTIVITY,
    CONTRACTOR_ACTIVITY_CODES,
    DUE_STATUS_CODES,
    NATIONAL_PENSION_LEDGER,
    PAYMENT_CHANNEL_CODES,
    PREMIUM_MONTHS,
    PREMIUM_STATUS_CODES,
)

__all__ = [
    "CALL_CENTER",
    "COLLECTION_ACTIONS",
    "COLLECTION_ACTION_CODES",
    "CONTRACTOR_ACTIVITY",
    "CONTRACTOR_ACTIVITY_CODES",
    "DUE_STATUS_CODES",
    "EMPLOYER_CONTRIBUTIONS",
    "EMPLOYER_ESTABLISHMENTS",
    "ESTABLISHMENT_NUMBER",
    "INSURANCE_NAMES",
    "NATIONAL_PENSION_LEDGER",
    "PAYMENT_CHANNEL_CODES",
    "PREMIUM_MONTHS",
    "PREMIUM_STATUS_CODES",
    "SPECS",
    "Cadence",
    "Column",
    "ExtractSpec",
    "RowRule",
    "Volume",
]

SPECS: dict[str, ExtractSpec] = {
    spec.raw_table: spec
    for spec in (
        CALL_CENTER,
        NATIONAL_PENSION_LEDGER,
        COLLECTION_ACTIONS,
        CONTRACTOR_ACTIVITY,
        EMPLOYER_ESTABLISHMENTS,
        EMPLOYER_CONTRIBUTIONS,
    )
}
