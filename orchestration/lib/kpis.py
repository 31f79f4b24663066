"""What a KPI is to Dagster: the asset key of its marts, the tags of every asset on its path."""

from __future__ import annotations

import dagster as dg

from config.kpis import Kpi

# The layers of the flow, as every asset's ``layer`` tag names them (dbt nodes: their schema).
LAYERS = ("raw", "reference", "staging", "intermediate", "marts", "published")


def asset_tags(kpi: Kpi, layer: str) -> dict[str, str]:
    """The tags every asset carries, Python and dbt alike: filter the UI on ``kpi`` or ``layer``."""
    if layer not in LAYERS:
        raise ValueError(f"layer {layer!r} is not one of {LAYERS}")
    return {"kpi": kpi.name, "layer": layer}


def mart_key(mart: str) -> dg.AssetKey:
    """The asset key of a mart (dbt's schema ``marts``): marts/call_center_monthly."""
    return dg.AssetKey(["marts", mart])
