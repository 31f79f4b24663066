"""dbt models, seeds and tests: one @dbt_assets step per KPI, so each KPI is gated on its own."""


from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, DbtProject, dbt_assets

from ingest.config import DBT_PROJECT_DIR
from orchestration.kpis import Kpi
from orchestration.resources import WarehouseResource

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
dbt_project.prepare_if_dev()


class WarehouseTranslator(DagsterDbtTranslator):
    """Keys dbt nodes by schema (marts/call_center_monthly); sources map to ingest assets via meta."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] in ("model", "seed", "snapshot"):
            return dg.AssetKey([dbt_resource_props["schema"], dbt_resource_props["name"]])
        return super().get_asset_key(dbt_resource_props)

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        kpi = next(iter(dbt_resource_props.get("tags") or []), "shared")
        return f"{kpi}_{dbt_resource_props['schema']}"


def build_dbt_assets(kpi: Kpi) -> dg.AssetsDefinition:
    @dbt_assets(
        manifest=dbt_project.manifest_path,
        select=f"tag:{kpi.name}",
        name=f"{kpi.name}_dbt",
        dagster_dbt_translator=WarehouseTranslator(),
        project=dbt_project,
    )
    def _dbt(context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource):
        yield from dbt.cli(["build", "--vars", warehouse.dbt_vars()], context=context).stream()

    return _dbt
