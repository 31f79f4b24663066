"""Ingest assets: one per extract spec, loading new landing files into raw.<source>__<entity>.

Each carries four checks of what it loaded, evaluated in the same step. Loads are judged
until their KPI passes all its checks, so a problem holds the KPI back night after night until
a corrected file arrives or an operator accepts it with a run tag:

* ``volume`` (blocking): the deliveries hold about as many rows as the source's own history
  says (see ``ingest.judging.volume``); accepted by ``warehouse/accept-volume=true``;
* ``reject_rate`` (blocking): warns when any line was rejected, fails above
  ``WAREHOUSE_MAX_REJECT_RATE`` of a file's lines; accepted by ``warehouse/accept-rejects=true``;
* ``freshness`` (warning): the source has delivered what its cadence expects by the business
  date (see ``ingest.judging.freshness``); an overdue source marks its KPI stale;
* ``no_quarantined_files`` (warning): every landing entry of the source could be read; the
  ones that could not are listed, with why, and stay quarantined until fixed or removed.
"""

import functools

import dagster as dg

from config.kpis import KPIS, Kpi
from ingest import lake, raw_schema
from ingest.judging import freshness, volume
from ingest.loading.pseudonym_keys import PseudonymKeyError
from ingest.loading.source import LoadSummary, load_source, safe_message, unchanged_note
from ingest.specs import SPECS, ExtractSpec
from orchestration.defs.resources import STEP_RETRY, WarehouseResource
from orchestration.lib.kpis import asset_tags
from orchestration.lib.tags import ACCEPT_REJECTS_TAG, ACCEPT_VOLUME_TAG
from publication.log import last_passed_at, open_attempt


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
    problems, judged = volume.collapses(con, spec, last_passed_at(con, kpi))
    accepted = context.run.tags.get(ACCEPT_VOLUME_TAG) == "true"
    metadata = {"loads_judged": judged, "collapses": len(problems)}
    if problems:
        metadata["collapsed_deliveries"] = dg.MetadataValue.md("\n".join(f"- {p}" for p in problems))
        if accepted:
            metadata["accepted_by"] = f"run tag {ACCEPT_VOLUME_TAG}=true"
        else:
            context.log.error(f"{spec.raw_table}: volume collapse, {kpi} held back: " + "; ".join(problems))
    return dg.AssetCheckResult(check_name="volume", passed=not problems or accepted, metadata=metadata)


def _reject_rate_check(context, spec: ExtractSpec, con, kpi: str, max_rate: float) -> dg.AssetCheckResult:
    """Warn on any rejected line in the loads not yet passed; fail above ``max_rate`` of a file's lines."""
    judged = raw_schema.loads_since(raw_schema.loads_frame(con, spec), last_passed_at(con, kpi))
    with_rejects = [r for r in judged if r["rows_rejected"]]
    too_many = [r for r in with_rejects if r["rows_rejected"] > max_rate * r["rows_read"]]
    accepted = context.run.tags.get(ACCEPT_REJECTS_TAG) == "true"
    worst = max((r["rows_rejected"] / r["rows_read"] for r in with_rejects), default=0.0)
    metadata = {
        "loads_judged": len(judged),
        "rows_read": sum(r["rows_read"] for r in judged),
        "rows_rejected": sum(r["rows_rejected"] for r in judged),
        "worst_file_reject_rate": dg.MetadataValue.float(worst),
        "max_reject_rate": dg.MetadataValue.float(max_rate),
    }
    if with_rejects:
        metadata["files_with_rejects"] = _table(
            ("file", "version", "lines read", "rejected", "rate"),
            [
                (
                    r["file_name"],
                    r["file_version"],
                    r["rows_read"],
                    r["rows_rejected"],
                    f"{r['rows_rejected'] / r['rows_read']:.2%}",
                )
                for r in with_rejects
            ],
        )
    if too_many and accepted:
        metadata["accepted_by"] = f"run tag {ACCEPT_REJECTS_TAG}=true"
    elif too_many:
        context.log.error(
            f"{spec.raw_table}: {kpi} held back: more than {max_rate:.2%} of the lines rejected in "
            + ", ".join(f"{r['file_name']} ({r['rows_rejected']:,} of {r['rows_read']:,})" for r in too_many)
            + "; see raw.rejects and marts.load_quality"
        )
    elif with_rejects:
        context.log.warning(f"{spec.raw_table}: lines rejected in {len(with_rejects)} file(s); see raw.rejects")
    failed_hard = bool(too_many) and not accepted
    return dg.AssetCheckResult(
        check_name="reject_rate",
        passed=not with_rejects,
        severity=dg.AssetCheckSeverity.ERROR if failed_hard else dg.AssetCheckSeverity.WARN,
        metadata=metadata,
    )


def _freshness_check(context, spec: ExtractSpec, con, business_date) -> dg.AssetCheckResult:
    status = freshness.delivery(con, spec, business_date)
    metadata = {
        "business_date": str(business_date),
        "latest_delivered": spec.period_label(status.latest_period) if status.latest_period else "none",
        "cadence": f"{spec.cadence.adjective}, {spec.cadence.grace_days} days' grace",
    }
    if status.overdue:
        metadata["overdue"] = status.overdue
        context.log.warning(f"{spec.raw_table}: overdue: {status.overdue}")
    return dg.AssetCheckResult(
        check_name="freshness",
        passed=status.overdue is None,
        severity=dg.AssetCheckSeverity.WARN,
        metadata=metadata,
        description=status.overdue,
    )


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
        "files_quarantined_tonight": len(summary.refused),
        "rows_loaded": summary.rows_loaded,
        "rows_rejected": summary.rows_rejected,
        "dagster/row_count": total_rows,
        "latest_rejects": _table(("file", "line", "reason"), rejects) if rejects else dg.MetadataValue.md("no rejects"),
    }


def build_ingest_asset(spec: ExtractSpec, kpi: Kpi) -> dg.AssetsDefinition:
    key = ingest_asset_key(spec)

    @dg.asset(
        key=key,
        group_name=f"{kpi.name}_raw",
        kinds={"python", "duckdb"},
        description=f"{spec.description}\n\nLoads new or changed files named `{spec.file_name}` from "
        f"data/landing/{spec.source}/ into raw.{spec.raw_table}; rejects go to raw.rejects, files refused as a "
        "whole to raw.quarantine, every load to raw.load_manifest.",
        tags=asset_tags(kpi, "raw"),
        owners=[kpi.owner],
        retry_policy=STEP_RETRY,
        check_specs=[
            dg.AssetCheckSpec(
                "volume",
                asset=key,
                blocking=True,
                description="Tonight's deliveries hold about as many rows as the source's history says.",
            ),
            dg.AssetCheckSpec(
                "reject_rate",
                asset=key,
                blocking=True,
                description="No line rejected (warns); above WAREHOUSE_MAX_REJECT_RATE of a file, holds the KPI back.",
            ),
            dg.AssetCheckSpec(
                "freshness",
                asset=key,
                blocking=False,
                description=f"The {spec.cadence.adjective} delivery is in by its due date (period end + "
                f"{spec.cadence.grace_days} days) on the business date.",
            ),
            dg.AssetCheckSpec(
                "no_quarantined_files",
                asset=key,
                description="Every landing entry of the source could be read (the quarantine is empty).",
            ),
        ],
    )
    def _ingest(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
        paths = warehouse.paths
        with warehouse.working() as con:
            open_attempt(con, kpi.name, context.run.run_id)  # a kill from here on is recorded by the next run
            try:
                summary = load_source(
                    con,
                    spec,
                    paths.landing_dir(spec.source),
                    paths.scratch,
                    context.run.run_id,
                    _progress_logger(context),
                    pseudonym_key=(lambda create: warehouse.pseudonym_key(create=create))
                    if spec.needs_pseudonym_key
                    else None,
                    settle_seconds=warehouse.settings.settle_seconds,
                    landing_root=paths.landing,
                    business_date=warehouse.settings.night,
                    reload_root=paths.reload_requests,
                )
            except (PseudonymKeyError, FileNotFoundError) as err:
                raise dg.Failure(description=str(err), allow_retries=False) from None
            except Exception as err:  # the message may come from DuckDB, which quotes what it read
                # retried (STEP_RETRY): ingest is one transaction per batch, so a retry starts clean
                raise dg.Failure(description=f"{spec.raw_table}: ingest failed: {safe_message(spec, err)}") from None
            # The open raw layer (Parquet any engine reads) gains the loads just committed. Every
            # source's, so that the lake's manifest never names a load it lacks (ingest.lake).
            exported = lake.export(con, list(SPECS.values()), paths.lake_raw)
            if exported.loads:
                context.log.info(f"lake: {exported.loads} loads ({exported.rows} rows) written to {paths.lake_raw}")
            for entry in summary.waiting:
                context.log.info(f"not taken yet: {spec.source}/{entry}")
            if summary.skipped_unchanged:
                context.log.info(unchanged_note(summary))
            checks = [
                _volume_check(context, spec, con, kpi.name),
                _reject_rate_check(context, spec, con, kpi.name, warehouse.settings.max_reject_rate),
                _freshness_check(context, spec, con, warehouse.settings.night),
                _quarantine_check(context, spec, con),
            ]
            metadata = _summary_metadata(
                summary, raw_schema.current_row_count(con, spec), raw_schema.latest_rejects(con, spec)
            )
        return dg.MaterializeResult(metadata=metadata, check_results=checks)

    return _ingest


@functools.cache
def kpi_ingest_assets() -> dict[str, tuple[dg.AssetsDefinition, ...]]:
    """Each KPI's ingest assets, one per extract spec of its sources, built once per process."""
    return {kpi.name: tuple(build_ingest_asset(spec, kpi) for spec in kpi.sources) for kpi in KPIS}


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(assets=[asset for assets in kpi_ingest_assets().values() for asset in assets])
