"""Which assets belong to which KPI: a KPI's verdict is every check on any of them (sources to marts)."""

from __future__ import annotations

import functools

import dagster as dg

from config.kpis import KPIS
from orchestration.defs.dbt import kpi_dbt_assets
from orchestration.defs.ingest import kpi_ingest_assets


@functools.cache
def kpi_keys() -> dict[str, frozenset[dg.AssetKey]]:
    """``{kpi: every asset key of its ingest and dbt steps}``, from the assets the definitions hold."""
    ingest, dbt = kpi_ingest_assets(), kpi_dbt_assets()
    return {
        kpi.name: frozenset(key for asset in [*ingest[kpi.name], dbt[kpi.name]] for key in asset.keys) for kpi in KPIS
    }
