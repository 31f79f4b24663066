"""The dbt project as the code location sees it: where it is, its manifest made ready, and how its
nodes become assets (keys, groups, tags, owners, check descriptions).

Importing this module does no work. The manifest is made by set-up (`make setup` runs `dbt parse`);
under `dagster dev` it is made again when the definitions load, as ``DbtProject.prepare_if_dev()``
does, but with this environment's own dbt: the stock preparer runs the `dbt` on PATH, which a
virtual environment used without activating it does not put there.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtProject

from config.kpis import KPIS, Kpi
from config.layout import DBT_PROJECT_DIR
from config.settings import Settings
from orchestration.defs.resources import dbt_resource
from orchestration.lib.kpis import asset_tags

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)


def prepared_manifest() -> str:
    """The manifest's path, parsed anew under `dagster dev`; a clear error where set-up has not made it."""
    if os.getenv("DAGSTER_IS_DEV_CLI"):  # what DbtProject.prepare_if_dev() tests
        dbt_resource().cli(
            ["parse", "--quiet", "--vars", Settings.from_env().dbt_vars()], target_path=dbt_project.target_path
        ).wait()
    if not dbt_project.manifest_path.exists():
        raise FileNotFoundError(
            f"{dbt_project.manifest_path} is missing: run `make setup` (it parses the dbt project), "
            "or start the UI with `make ui`, which parses it."
        )
    return str(dbt_project.manifest_path)


def kpi_of(dbt_resource_props: Mapping[str, Any]) -> Kpi:
    """The KPI a dbt node belongs to: the KPI folder in its path (models/<layer>/<kpi>/, seeds/<kpi>/)."""
    by_name = {kpi.name: kpi for kpi in KPIS}
    folders = dbt_resource_props["fqn"][1:-1]
    [kpi] = {by_name[folder] for folder in folders if folder in by_name}
    return kpi


def _quoted_list(values: Any) -> str:
    return ", ".join(f"`{v}`" for v in values) if isinstance(values, list) else f"`{values}`"


def describe_test(test: Mapping[str, Any]) -> str:
    """A one-line description of a dbt test: its own YAML ``description``, else one said from its arguments."""
    if test.get("description"):
        return test["description"]
    metadata = test.get("test_metadata") or {}
    kwargs, column = metadata.get("kwargs", {}), f"`{test.get('column_name')}`"
    said = {
        "not_null": lambda: f"{column} is never null.",
        "unique": lambda: f"{column} is unique.",
        "accepted_values": lambda: f"{column} only takes the values {_quoted_list(kwargs.get('values', []))}.",
        "relationships": lambda: f"Every {column} exists as `{kwargs.get('field')}` in {kwargs.get('to')}.",
        "unique_combination_of_columns": lambda: (
            f"One row per {_quoted_list(kwargs.get('combination_of_columns', []))}."
        ),
        "expression_is_true": lambda: f"Every row satisfies `{kwargs.get('expression')}`.",
        "never_decreasing": lambda: (
            f"{column} never decreases with `{kwargs.get('order_by')}` within each "
            f"{_quoted_list(kwargs.get('partition_by', []))}."
        ),
    }
    if metadata.get("name") in said:
        return said[metadata["name"]]()
    return f"dbt test {test['name']}."


class WarehouseTranslator(DagsterDbtTranslator):
    """Keys dbt nodes by schema (marts/call_center_monthly); sources map to ingest assets via meta.

    The KPI and the layer come from the node's path and schema, so dbt assets carry the same
    ``kpi``/``layer`` tags, groups and owners as the Python ones.
    """

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] in ("model", "seed", "snapshot"):
            return dg.AssetKey([dbt_resource_props["schema"], dbt_resource_props["name"]])
        return super().get_asset_key(dbt_resource_props)

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        return f"{kpi_of(dbt_resource_props).name}_{dbt_resource_props['schema']}"

    def get_tags(self, dbt_resource_props: Mapping[str, Any]) -> Mapping[str, str]:
        return asset_tags(kpi_of(dbt_resource_props), layer=dbt_resource_props["schema"])

    def get_owners(self, dbt_resource_props: Mapping[str, Any]) -> Sequence[str] | None:
        return [kpi_of(dbt_resource_props).owner]

    def get_asset_check_spec(
        self, asset_spec: dg.AssetSpec, manifest: Mapping[str, Any], unique_id: str, project: DbtProject | None
    ) -> dg.AssetCheckSpec | None:
        spec = super().get_asset_check_spec(asset_spec, manifest, unique_id, project)
        if spec is None or spec.description:
            return spec
        # every other attribute as dagster-dbt made it (a check spec is a record: _replace is its copy)
        return spec._replace(description=describe_test(manifest["nodes"][unique_id]))
