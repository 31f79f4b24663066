"""Run tags an operator sets on a launch (the launchpad's tags, or `dagster job launch --tags`)."""

# Build a KPI's dbt models even when nothing it reads has changed (orchestration.rebuilds).
REBUILD_TAG = "warehouse/rebuild"
# Accept tonight's deliveries whatever their volume: a source that really did shrink (a
# holiday, a purge) passes its `volume` check once, and is judged against the new level after.
ACCEPT_VOLUME_TAG = "warehouse/accept-volume"
