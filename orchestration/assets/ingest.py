"""Ingest assets: one per extract spec, loading new landing files into raw.<source>__<entity>.

Each carries two checks of what it loaded, evaluated in the same step:

* ``volume`` (blocking): tonight's deliveries hold about as many rows as the source's own
  history says (see ``ingest.volume``); a collapse holds the KPI back until a complete file
  is re-delivered or a run tagged ``warehouse/accept-volume=true`` accepts it;
* ``no_quarantined_files`` (warning): every landing entry of the source could be read; the
  ones that could not are listed, with why, and stay quarantined until fixed or removed.
"""

import dagster as dg

from ingest import raw_schema, volume
from ingest.load import LoadSummary, PseudonymKeyError, load_source, safe_message
from ingest.specs import ExtractSpec
from orchestration.publication import last_published_at
from orchestration.resources import WarehouseResource
from orchestration.tags import ACCEPT_VOLUME_TAG


def ingest_asset_key(spec: ExtractSpec) -> dg.AssetKey:
    return dg.AssetKey(["raw", spec.raw_table])


def _progress_logger(context: dg.AssetExecutionContext):
    def report(n: int, total: int, name: str) -> None:
        if n == total or n % max(1, total // 10) == 0:
            context.log.info(f"{n}/{total} landing files processed ({name})")

    return report


def _table(header: tuple[str, ...], rows: list[tuple]) -> dg.MetadataValue:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join("" if v is None else str(v).replace("|", "\\|") for v in row) + " |" for row in rows]
    return dg.MetadataValue.md("\n".join(lines))


def _volume_check(context, spec: ExtractSpec, con, kpi: str) -> dg.AssetCheckResult:
    problems, judged = volume.collapses(con, spec, last_published_at(con, kpi))
    accepted = context.run.tags.get(ACCEPT_VOLUME_TAG) == "true"
    metadata = {"loads_judged": judged, "collapses": len(problems)}
    if problems:
        metadata["collapsed_deliveries"] = dg.MetadataValue.md("\n".join(f"- {p}" for p in problems))
        if accepted:
            metadata["accepted_by"] = f"run tag {ACCEPT_VOLUME_TAG}=true"
        else:
            context.log.error(f"{spec.raw_table}: volume collapse, {kpi} held back: " + "; ".join(problems))
    return dg.AssetCheckResult(check_name="volume", passed=not problems or accepted, metadata=metadata)


def _quarantine_check(context, spec: ExtractSpec, con) -> dg.AssetCheckResult:
    entries = raw_schema.open_quarantine(con, spec.source)
    metadata = {"quarantined_files": len(entries)}
    if entries:
        metadata["quarantine"] = _table(("file", "reason", "line", "first seen"), entries)
        for name, reason, line, _ in entries:
            context.log.warning(f"quarantined {spec.source}/{name}: {reason}" + (f" (line {line})" if line else ""))
    return dg.AssetCheckResult(
        check_name="no_quarantined_files", passed=not entries, severity=dg.AssetCheckSeverity.WARN, metadata=metadata
    )


def _summary_metadata(summary: LoadSummary, total_rows: int, rejects: list[tuple]) -> dict:
    return {
        "files_loaded": len(summary.loaded),
        "files_unchanged": len(summary.skipped_unchanged),
        "files_waiting": dg.MetadataValue.md("\n".join(f"- {w}" for w in summary.waiting) or "none"),
        "files_duplicate": dg.MetadataValue.md("\n".join(f"- {d}" for d in summary.duplicates) or "none"),
        "files_quarantined_tonight": len(summary.refused),
        "rows_loaded": summary.rows_loaded,
        "rows_rejected": summary.rows_rejected,
        "dagster/row_count": total_rows,
        "latest_rejects": _table(("file", "line", "reason"), rejects) if rejects else dg.MetadataValue.md("no rejects"),
    }


def build_ingest_asset(spec: ExtractSpec, kpi: str) -> dg.AssetsDefinition:
    key = ingest_asset_key(spec)

    @dg.asset(
        key=key,
        group_name=f"{kpi}_raw",
        kinds={"python", "duckdb"},
        description=f"{spec.description}\n\nLoads new or changed files named `{spec.file_name}` from "
        f"data/landing/{spec.source}/ into raw.{spec.raw_table}; rejects go to raw.rejects, files refused as a "
        "whole to raw.quarantine, every load to raw.load_manifest.",
        tags={"layer": "raw", "kpi": kpi},
        check_specs=[
            dg.AssetCheckSpec("volume", asset=key, blocking=True,
                              description="Tonight's deliveries hold about as many rows as the source's history says."),
            dg.AssetCheckSpec("no_quarantined_files", asset=key,
                              description="Every landing entry of the source could be read (the quarantine is empty)."),
        ],
    )
    def _ingest(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
        paths = warehouse.paths
        with warehouse.working() as con:
            try:
                summary = load_source(
                    con, spec, paths.landing_dir(spec.source), paths.scratch, context.run_id, _progress_logger(context),
                    pseudonym_key=(lambda create: warehouse.pseudonym_key(create=create)) if spec.needs_pseudonym_key else None,
                    settle_seconds=warehouse.settle_seconds_value, landing_root=paths.landing,
                )
            except (PseudonymKeyError, FileNotFoundError) as err:
                raise dg.Failure(description=str(err)) from None
            except Exception as err:  # the message may come from DuckDB, which quotes what it read
                raise dg.Failure(description=f"{spec.raw_table}: ingest failed: {safe_message(spec, err)}") from None
            for entry in summary.waiting:
                context.log.info(f"not taken yet: {spec.source}/{entry}")
            for entry in summary.duplicates:
                context.log.warning(f"not loaded, a duplicate: {spec.source}/{entry}")
            checks = [_volume_check(context, spec, con, kpi), _quarantine_check(context, spec, con)]
            metadata = _summary_metadata(summary, raw_schema.current_row_count(con, spec), raw_schema.latest_rejects(con, spec))
        return dg.MaterializeResult(metadata=metadata, check_results=checks)

    return _ingest
