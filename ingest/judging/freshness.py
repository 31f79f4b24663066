"""Expected deliveries: has the source delivered what its cadence says it should have by the business date?

The business date is the night being processed (``WAREHOUSE_BUSINESS_DATE``, default today),
not the wall clock: the demo's extracts end in 2020 and are fresh on the night after the last
one. What counts is the latest *period* delivered, read from the current loads' names, not
when anything was loaded: a re-delivery of an old month is not a new month.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import duckdb

from ingest import raw_schema
from ingest.specs import ExtractSpec


@dataclass(frozen=True)
class Delivery:
    """Where a source stands on the business date."""

    spec: ExtractSpec
    business_date: dt.date
    latest_period: dt.date | None  # of the current loads; None before the first load

    @property
    def covers_until(self) -> dt.date | None:
        """The last day the delivered data covers."""
        return None if self.latest_period is None else self.spec.cadence.period_end(self.latest_period)

    @property
    def next_period(self) -> dt.date | None:
        return None if self.latest_period is None else self.spec.cadence.next_period(self.latest_period)

    @property
    def overdue(self) -> str | None:
        """What is missing, or None while the source is on time."""
        if self.latest_period is None:
            return f"no {self.spec.file_name} delivered yet"
        next_period = self.spec.cadence.next_period(self.latest_period)
        expected_by = self.spec.cadence.expected_by(next_period)
        if self.business_date <= expected_by:
            return None
        return (
            f"{self.spec.name_for(next_period)} expected by {expected_by}; "
            f"latest delivered: {self.spec.period_label(self.latest_period)}"
        )


def delivery(con: duckdb.DuckDBPyConnection, spec: ExtractSpec, business_date: dt.date) -> Delivery:
    periods = (
        [spec.period(name) for name in raw_schema.current_file_names(con, spec)] if raw_schema.has_manifest(con) else []
    )
    return Delivery(spec, business_date, max((p for p in periods if p is not None), default=None))
