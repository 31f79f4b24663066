"""Ingest assets: one per extract spec, loading new landing files into raw.<source>__<entity>."""


import dagster as dg

from ingest.load import IngestError, load_source
from ingest.specs import ExtractSpec
from orchestration.resources import WarehouseResource


def ingest_asset_key(spec: ExtractSpec) -> dg.AssetKey:
    return dg.AssetKey(["raw", spec.raw_table])


def _progress_logger(context: dg.AssetExecutionContext):
    def report(n: int, total: int, name: str) -> None:
        if n == total or n % max(1, total // 10) == 0:
            context.log.info(f"{n}/{total} landing files processed ({name})")

    return report


def build_ingest_asset(spec: ExtractSpec, kpi: str) -> dg.AssetsDefinition:
    @dg.asset(
        key=ingest_asset_key(spec),
        group_name=f"{kpi}_raw",
        kinds={"python", "duckdb"},
        description=f"{spec.description}\n\nLoads new or changed files matching `{spec.pattern}` from "
        f"data/landing/{spec.source}/ into raw.{spec.raw_table}; rejects go to raw.rejects, "
        "every load to raw.load_manifest.",
        tags={"layer": "raw", "kpi": kpi},
    )
    def _ingest(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
        paths = warehouse.paths
        with warehouse.working() as con:
            try:
                summary = load_source(
                    con, spec, paths.landing_dir(spec.source), paths.scratch, context.run_id, _progress_logger(context),
                    pseudonym_key=warehouse.pseudonym_key() if spec.needs_pseudonym_key else None,
                )
            except IngestError as err:
                context.log.error(str(err))
                raise
            total_rows = con.execute(f"select count(*) from raw.{spec.raw_table}__current").fetchone()[0]
            rejects = con.execute(
                "select source_file, line_number, reason from raw.rejects where source = ? order by load_id desc, line_number limit 10",
                [spec.source],
            ).fetchall()
        rejects_md = "| file | line | reason |\n|---|---|---|\n" + "\n".join(f"| {f} | {ln} | {r} |" for f, ln, r in rejects)
        return dg.MaterializeResult(
            metadata={
                "files_loaded": len(summary.loaded),
                "files_unchanged": len(summary.skipped_unchanged),
                "rows_loaded": summary.rows_loaded,
                "rows_rejected": summary.rows_rejected,
                "dagster/row_count": total_rows,
                "latest_rejects": dg.MetadataValue.md(rejects_md if rejects else "no rejects"),
            }
        )

    return _ingest
