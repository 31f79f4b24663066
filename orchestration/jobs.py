"""Jobs: the whole night, and one per KPI (derived from ``orchestration.kpis``)."""

import dagster as dg

from orchestration.kpis import KPIS, Kpi

# Everything: ingest whatever landing files are new, rebuild and test the models, run the
# checks, publish each KPI whose checks passed.
nightly_refresh = dg.define_asset_job(
    name="nightly_refresh",
    selection=dg.AssetSelection.all(),
    description="Load new landing files, build and test every KPI, and publish the KPIs whose checks pass.",
)


def kpi_job_name(kpi: Kpi) -> str:
    return f"{kpi.name}_refresh"


# One KPI's path only, from its landing files to its publication: every asset tagged with it.
# Its publication carries the other KPIs' last published versions unchanged.
kpi_refresh = {
    kpi.name: dg.define_asset_job(
        name=kpi_job_name(kpi),
        selection=dg.AssetSelection.tag("kpi", kpi.name),
        description=f"{kpi.title}: load its new landing files, build and test it, and publish it if its checks pass.",
    )
    for kpi in KPIS
}

JOBS = [nightly_refresh, *kpi_refresh.values()]
