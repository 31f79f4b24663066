"""The volume check: does a delivery hold about as many rows as the source's own history says it should?

A file cut short at a line boundary, or an export that stopped early, passes every row-level
check and would publish. Its row count gives it away (see ``ExtractSpec.volume``):

* a re-delivered file must keep ``redelivery_floor`` of the rows of the version it replaces;
* a new file must reach ``new_file_floor`` of the median of the ``history`` comparable files
  before it (same weekday for daily extracts), once there are at least three of them.

Only loads made since the KPI last passed its checks are judged, so a collapse holds its KPI back
night after night until a complete file is re-delivered, or an operator accepts it.
"""

from __future__ import annotations

import bisect
import datetime as dt
import statistics

import duckdb

from ingest import raw_schema
from ingest.specs import ExtractSpec

MIN_HISTORY = 3


def collapses(con: duckdb.DuckDBPyConnection, spec: ExtractSpec, since: dt.datetime | None) -> tuple[list[str], int]:
    """(what is wrong with each collapsed current load, number of loads judged) for loads made after ``since``."""
    if not raw_schema.has_manifest(con):
        return [], 0
    loads = raw_schema.loads_frame(con, spec)
    current = [r for r in loads.iter_rows(named=True) if r["is_current"]]
    periods = {r["file_name"]: spec.period(r["file_name"]) for r in current}
    judged = raw_schema.loads_since(loads, since)
    volume, problems = spec.volume, []

    def group(period: dt.date) -> int:
        return period.weekday() if volume.same_weekday else 0

    history: dict[int, list[tuple[dt.date, int]]] = {}  # comparable files, by period
    for r in current:
        if (period := periods[r["file_name"]]) is not None:
            history.setdefault(group(period), []).append((period, r["rows_loaded"]))
    for files in history.values():
        files.sort()
    for load in judged:
        name, rows = load["file_name"], load["rows_loaded"]
        replaced = load["replaced_rows_loaded"]
        if replaced:
            if rows < volume.redelivery_floor * replaced:
                problems.append(
                    f"{name} v{load['file_version']}: {rows:,} rows, {rows / replaced:.0%} of the {replaced:,} of the version "
                    f"it replaces (at least {volume.redelivery_floor:.0%} expected)"
                )
            continue
        period = periods[name]
        if volume.new_file_floor is None or period is None:
            continue
        files = history[group(period)]
        position = bisect.bisect_left(files, (period,))
        earlier = files[max(0, position - volume.history) : position]
        if len(earlier) < MIN_HISTORY:
            continue
        median = statistics.median(count for _, count in earlier)
        if rows < volume.new_file_floor * median:
            kind = f"{period:%A}s" if volume.same_weekday else "files"
            problems.append(
                f"{name}: {rows:,} rows, {rows / median:.0%} of the median {median:,.0f} of the {len(earlier)} previous {kind} "
                f"(at least {volume.new_file_floor:.0%} expected)"
            )
    return problems, len(judged)
