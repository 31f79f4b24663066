"""The quarantine's bookkeeping: files refused as a whole, kept in ``raw.quarantine`` until they load.

A refused file stays in landing and is judged again every run. Its entry is resolved once
the name is no longer refused (it loaded, or it was taken away); a file still settling is
left as it is until it can be judged.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl

from ingest import raw_schema
from ingest.landing.scan import LandingScan, Refusal
from ingest.loading.batch import transaction
from ingest.specs import ExtractSpec

_REFUSAL_SCHEMA = {
    "file_name": pl.String,
    "reason": pl.String,
    "line_number": pl.Int64,
    "size_bytes": pl.Int64,
    "sha256": pl.String,
}


def record(
    con: duckdb.DuckDBPyConnection,
    spec: ExtractSpec,
    landing_dir: Path,
    found: LandingScan,
    refused: list[Refusal],
    waiting: list[str],
    run_id: str | None,
) -> None:
    """This run's refusals go to raw.quarantine; entries this spec answers for that are no longer refused are resolved.

    ``waiting`` holds "<name>: why" for the files not taken yet: they are judged again once they settle.
    """
    present = [p.name for p in landing_dir.iterdir()] if landing_dir.is_dir() else []
    still_open = [name for name, *_ in raw_schema.open_quarantine(con, spec.source)]
    settling = {entry.split(": ", 1)[0] for entry in waiting}
    names = sorted({n for n in present + still_open if found.answers_for(spec, n)} - settling)
    frame = pl.DataFrame(
        [(r.file_name, r.reason, r.line_number, r.size_bytes, r.sha256) for r in refused],
        schema=_REFUSAL_SCHEMA,
        orient="row",
    )
    with transaction(con):
        raw_schema.update_quarantine(con, spec.source, names, frame, run_id)
