"""Jobs."""

import dagster as dg

# Everything: ingest whatever landing files are new, rebuild and test the models, run the
# checks, publish each KPI whose checks passed.
nightly_refresh = dg.define_asset_job(
    name="nightly_refresh",
    selection=dg.AssetSelection.all(),
    description="Load new landing files, build and test every KPI, and publish the KPIs whose checks pass.",
)
