"""Publish assets: one per KPI, downstream of its marts, so Dagster's blocking checks gate it.

A KPI whose checks fail has its publish step skipped; the other KPIs still publish and their
new file carries the failed KPI's last good version. Publish steps run at the lowest
priority, so by the time one runs every check of the run has been evaluated and the
publication log can record held-back marts too.
"""

from collections.abc import Mapping
from functools import partial

import dagster as dg
import polars as pl

from config.kpis import KPIS, Kpi
from ingest import raw_schema
from ingest.judging import freshness
from orchestration.defs.resources import STEP_RETRY, WarehouseResource
from orchestration.lib import verdicts
from orchestration.lib.kpi_assets import kpi_keys
from orchestration.lib.kpis import asset_tags, mart_key
from orchestration.lib.rebuilds import last_good_build
from publication import docs_site, version_files
from publication.log import Attempt, KpiState, close_attempts, last_passed_at, open_attempts
from publication.publish import PublishResult, publish


def publish_for_run(
    context: dg.AssetExecutionContext | dg.OpExecutionContext,
    warehouse: WarehouseResource,
    con,
    kind: str,
    marts: list[str],
    attempts: dict[str, tuple[str, Attempt]],
    states: Mapping[str, KpiState],
) -> PublishResult:
    """``publication.publish`` as a run of this code location calls it: the settings' versions kept,
    stale rule and scale, the docs site built beside the version."""
    return publish(
        con,
        warehouse.paths,
        kind,
        marts,
        attempts,
        context.run.run_id,
        keep=warehouse.settings.published_versions_kept,
        states=states,
        stale_blocks=warehouse.settings.stale_blocks,
        site=partial(docs_site.build, settings=warehouse.settings, log=context.log.warning),
        scale=warehouse.settings.scale,
    )


def run_attempts(
    context: dg.AssetExecutionContext, kpi_keys: Mapping[str, set[dg.AssetKey]]
) -> dict[str, tuple[str, Attempt]]:
    """This run's verdict per published mart, so far: ``{mart: (kpi, Attempt)}`` (see ``orchestration.lib.verdicts``)."""
    return verdicts.attempts(verdicts.check_evaluations(context.instance, context.run.run_id), kpi_keys)


def kpi_state(con, kpi: Kpi, business_date) -> KpiState:
    """When the KPI was last rebuilt, the last day all its loads cover, how many of them it has not
    published yet, and whether any source is overdue."""
    deliveries = [freshness.delivery(con, spec, business_date) for spec in kpi.sources]
    covered = [d.covers_until for d in deliveries]
    overdue = [d.overdue for d in deliveries if d.overdue]
    build = last_good_build(con, kpi)
    since = last_passed_at(con, kpi.name)
    unpublished = (
        sum(len(raw_schema.loads_since(raw_schema.loads_frame(con, spec), since)) for spec in kpi.sources)
        if raw_schema.has_manifest(con)
        else 0
    )
    return KpiState(
        built_at=build.built_at if build else None,
        loaded_as_of=None if None in covered else min(covered),  # as current as its least current source
        stale_reason="; ".join(overdue) or None,
        unpublished_loads=unpublished,
    )


def _markdown_preview(con, table: str, limit: int = 10) -> str:
    frame = con.sql(f"select * from {table} limit {limit}").pl()
    header = "| " + " | ".join(frame.columns) + " |\n|" + "---|" * len(frame.columns)
    body = "\n".join("| " + " | ".join(str(v) for v in row) + " |" for row in frame.iter_rows())
    return f"{header}\n{body}"


def build_publish_asset(kpi: Kpi, kpi_keys: Mapping[str, set[dg.AssetKey]]) -> dg.AssetsDefinition:
    """``kpi_keys``: every KPI's asset keys, so the log can record the other KPIs' verdicts too."""

    @dg.asset(
        key=["published", kpi.name],
        deps=[mart_key(m) for m in kpi.marts],
        group_name="published",
        kinds={"duckdb"},
        op_tags={"dagster/priority": -100},
        tags=asset_tags(kpi, "published"),
        owners=[kpi.owner],
        retry_policy=STEP_RETRY,
        description=f"{kpi.title}: publishes {', '.join('marts.' + m for m in kpi.marts)} into a new version of "
        "data/published/warehouse.duckdb once every blocking check upstream has passed.",
    )
    def _publish(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
        if (problem := version_files.protection_problem(warehouse.paths)) is not None:
            context.log.warning(problem)
        with warehouse.working() as con:
            preview = _markdown_preview(con, f"marts.{kpi.marts[0]}")
            states = {k.name: kpi_state(con, k, warehouse.settings.night) for k in KPIS}
            # Verdicts earlier runs never recorded (killed), then this run's: one log tells both.
            this_run = run_attempts(context, kpi_keys)
            earlier = {
                mart: verdict
                for mart, verdict in verdicts.unrecorded(
                    context.instance, open_attempts(con), context.run.run_id, kpi_keys
                ).items()
                if mart not in this_run
            }
            attempts = {**earlier, **this_run}
            result = publish_for_run(context, warehouse, con, kpi.name, list(kpi.marts), attempts, states)
            close_attempts(con, {mart_kpi for mart_kpi, _ in attempts.values()})
        for mart_kpi, attempt in dict(earlier.values()).items():
            context.log.warning(
                f"{mart_kpi}: run {attempt.run_id} recorded no verdict; recorded now as failed: {'; '.join(attempt.failures)}"
            )
        state = states[kpi.name]
        held_back = result.log.filter(pl.col("latest_attempt_passed").eq(False))
        if state.is_stale and warehouse.settings.stale_blocks:
            raise dg.Failure(
                description=f"{kpi.name} held back, stale (WAREHOUSE_STALE_BLOCKS=true): {state.stale_reason}; "
                "its last good version stays published",
                allow_retries=False,
            )
        if state.is_stale:
            context.log.warning(f"{kpi.name} is stale, its figures published marked so: {state.stale_reason}")
        if result.wrote_version:
            context.log.info(f"published {result.path.name}: fresh {result.fresh}, carried {result.carried}")
        else:
            context.log.info(f"{kpi.name}: nothing changed since {result.path.name}; no new version written")
        return dg.MaterializeResult(
            metadata={
                "published_file": dg.MetadataValue.path(str(result.path)),
                "docs_site": dg.MetadataValue.path(str(version_files.docs_link(warehouse.paths).resolve())),
                "new_version_written": result.wrote_version,
                "data_as_of": str(state.loaded_as_of),
                "is_stale": state.is_stale,
                "stale_reason": state.stale_reason or "none",
                "fresh_marts": ", ".join(result.fresh) or "none",
                "carried_marts": ", ".join(result.carried) or "none",
                "held_back_marts": ", ".join(held_back["mart"].to_list()) or "none",
                "dagster/row_count": sum(result.row_counts[m] for m in result.fresh),
                "row_counts": dg.MetadataValue.json(result.row_counts),
                "preview": dg.MetadataValue.md(preview),
            }
        )

    return _publish


@dg.definitions
def defs() -> dg.Definitions:
    """One publish asset per KPI; each knows every KPI's assets, so its log records their verdicts too."""
    return dg.Definitions(assets=[build_publish_asset(kpi, kpi_keys()) for kpi in KPIS])
