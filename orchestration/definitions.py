"""The code location: `dagster dev` from the repository root loads this module (see pyproject.toml)."""

import dagster as dg

from config.settings import Settings
from orchestration.alerts import alerts_from_env, build_alert_sensors
from orchestration.assets.dbt import build_dbt_assets
from orchestration.assets.ingest import build_ingest_asset
from orchestration.assets.publish import build_publish_asset
from orchestration.checks.great_expectations import build_gx_check
from orchestration.checks.reconciliation import build_reconciliation_check
from orchestration.dead_runs import build_dead_run_reaper
from orchestration.jobs import JOBS
from orchestration.kpis import KPIS
from orchestration.landing_sensor import build_landing_sensor
from orchestration.resources import dbt_resource, warehouse_from_env
from orchestration.schedules import nightly_refresh_schedule

ingest_assets = {kpi.name: [build_ingest_asset(spec, kpi) for spec in kpi.sources] for kpi in KPIS}
dbt_assets = {kpi.name: build_dbt_assets(kpi) for kpi in KPIS}
# Which assets belong to which KPI: a KPI's verdict is every check on any of them.
kpi_keys = {
    kpi.name: {key for asset in [*ingest_assets[kpi.name], dbt_assets[kpi.name]] for key in asset.keys} for kpi in KPIS
}
assets = [
    *(asset for kpi in KPIS for asset in ingest_assets[kpi.name]),
    *dbt_assets.values(),
    *(build_publish_asset(kpi, kpi_keys) for kpi in KPIS),
]
asset_checks = [
    *(build_gx_check(kpi.mart_key(mart), mart) for kpi in KPIS for mart in kpi.gx_suites),
    *(build_reconciliation_check(kpi.mart_key(kpi.reconciliation), kpi.reconciliation) for kpi in KPIS),
]

# Sensors are defined with their interval, so it is read when the code location loads; every other
# setting reaches the resources through EnvVar, at run time.
sensor_interval = Settings.from_env().sensor_interval_seconds

defs = dg.Definitions(
    assets=assets,
    asset_checks=asset_checks,
    jobs=JOBS,
    schedules=[nightly_refresh_schedule],
    sensors=[
        build_landing_sensor(sensor_interval),
        build_dead_run_reaper(sensor_interval),
        *build_alert_sensors(kpi_keys, sensor_interval),
    ],
    resources={"warehouse": warehouse_from_env(), "dbt": dbt_resource(), "alerts": alerts_from_env()},
    # One process, one step at a time: the working DuckDB file has exactly one writer.
    executor=dg.in_process_executor,
)
