"""dbt models, seeds and tests: one @dbt_assets step per KPI, so each KPI is gated on its own.

A KPI whose inputs have not changed since its last good build is not rebuilt (see
orchestration.rebuilds); its checks and publication still run.
"""


import os
import shutil
from collections.abc import Iterator, Mapping
from graphlib import TopologicalSorter
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, DbtProject, dbt_assets

from ingest.config import DBT_PROJECT_DIR
from orchestration.kpis import Kpi
from orchestration.rebuilds import (
    REBUILD_TAG,
    inputs_sha256,
    last_good_build,
    record_good_build,
)
from orchestration.resources import WarehouseResource, dbt_resource

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
# Like DbtProject.prepare_if_dev(), but with the venv's own dbt: the stock preparer looks for
# `dbt` on PATH, which an unactivated venv does not provide. `make setup` parses ahead of time.
if os.getenv("DAGSTER_IS_DEV_CLI") or not dbt_project.manifest_path.exists():
    dbt_resource().cli(["parse", "--quiet"], target_path=dbt_project.target_path).wait()


def _keep_partial_parse(invocation_target: Path) -> None:
    state = invocation_target / "partial_parse.msgpack"
    if state.exists():
        # the invocation folder sits in the project's target folder, where dagster-dbt seeds from
        staged = invocation_target.parent / f".{invocation_target.name}.partial_parse.msgpack"
        shutil.copyfile(state, staged)
        os.replace(staged, invocation_target.parent / state.name)  # atomic: steps may run in parallel


_LIVE_STATUSES = [dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.CANCELING]


def _sweep_dead_invocations(context: dg.AssetExecutionContext, target: Path) -> None:
    """Remove the invocation folders (``<op>-<run id[:7]>-<uuid>``) that runs no longer in progress left
    behind: a killed step never reached its own clean-up."""
    live = {record.dagster_run.run_id[:7] for record in context.instance.get_run_records(dg.RunsFilter(statuses=_LIVE_STATUSES))}
    for folder in target.glob("*_dbt-*-*"):
        if folder.is_dir() and folder.name.rsplit("-", 2)[-2] not in live:
            shutil.rmtree(folder, ignore_errors=True)
            context.log.info(f"removed {folder.name}, left by a run that ended without cleaning up")


class WarehouseTranslator(DagsterDbtTranslator):
    """Keys dbt nodes by schema (marts/call_center_monthly); sources map to ingest assets via meta."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] in ("model", "seed", "snapshot"):
            return dg.AssetKey([dbt_resource_props["schema"], dbt_resource_props["name"]])
        return super().get_asset_key(dbt_resource_props)

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        kpi = next(iter(dbt_resource_props.get("tags") or []), "shared")
        return f"{kpi}_{dbt_resource_props['schema']}"


def _with_row_counts(context: dg.AssetExecutionContext, warehouse: WarehouseResource, events: list) -> Iterator:
    """The events, each output with its table's row count.

    dbt holds the working database while it runs, so row counts are read once it exits, and
    before anything is yielded: no connection stays open across a yield.
    """
    keys = {e.output_name: context.asset_key_for_output(e.output_name) for e in events if isinstance(e, dg.Output)}
    with warehouse.working(read_only=True) as con:
        rows = {name: con.execute(f'select count(*) from "{k.path[0]}"."{k.path[1]}"').fetchall()[0][0] for name, k in keys.items()}
    for event in events:
        if isinstance(event, dg.Output):
            event = event.with_metadata({**event.metadata, "dagster/row_count": rows[event.output_name]})
        yield event


def _standing(context: dg.AssetExecutionContext) -> list[dg.Output]:
    """Outputs reporting the selected tables as they stand, upstream first (Dagster's rule for multi-assets)."""
    selected, deps = context.selected_asset_keys, context.assets_def.asset_deps
    order = TopologicalSorter({key: deps.get(key, set()) & selected for key in selected}).static_order()
    return [dg.Output(None, context.assets_def.get_output_name_for_asset_key(key), metadata={"rebuilt": False}) for key in order]


def build_dbt_assets(kpi: Kpi) -> dg.AssetsDefinition:
    @dbt_assets(
        manifest=dbt_project.manifest_path,
        select=f"tag:{kpi.name}",
        name=f"{kpi.name}_dbt",
        dagster_dbt_translator=WarehouseTranslator(),
        project=dbt_project,
    )
    def _dbt(context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource):
        with warehouse.working(read_only=True) as con:
            inputs = inputs_sha256(con, kpi, DBT_PROJECT_DIR, warehouse.dbt_vars())
            unchanged = inputs is not None and inputs == last_good_build(con, kpi)
        if unchanged and context.run.tags.get(REBUILD_TAG) != "true":
            context.log.info(
                f"{kpi.name}: no new loads and no project change since its last good dbt build; its tables stand "
                f"(tag the run {REBUILD_TAG}=true to build anyway)"
            )
            yield from _with_row_counts(context, warehouse, _standing(context))
            return
        _sweep_dead_invocations(context, Path(dbt_project.project_dir) / dbt_project.target_path)
        invocation = dbt.cli(["build", "--vars", warehouse.dbt_vars()], context=context, raise_on_error=False)
        yield from _with_row_counts(context, warehouse, list(invocation.stream()))
        # Each invocation gets its own target folder (a few MB); once the events are streamed
        # and any error read from its dbt.log, nothing needs it, so it goes rather than piling up.
        # Its partial-parse state is kept first: dagster-dbt seeds the next invocation with it,
        # and one parsed with tonight's --vars spares every later step a full re-parse (~3 s).
        error = None if invocation.is_successful() else invocation.get_error()
        _keep_partial_parse(invocation.target_path)
        shutil.rmtree(invocation.target_path, ignore_errors=True)
        if error is not None:
            raise error
        if inputs is not None and not context.is_subset:
            with warehouse.working() as con:
                record_good_build(con, kpi, inputs, context.run_id)

    return _dbt
