"""Run tags an operator sets on a launch (the launchpad's tags, or `dagster job launch --tags`)."""

# Build a KPI's dbt models even when nothing it reads has changed (orchestration.lib.rebuilds).
REBUILD_TAG = "warehouse/rebuild"
# Accept tonight's deliveries whatever their volume: a source that really did shrink (a
# holiday, a purge) passes its `volume` check once, and is judged against the new level after.
ACCEPT_VOLUME_TAG = "warehouse/accept-volume"
# Accept the rejected lines of the deliveries not yet published: a file that really has more
# bad lines than WAREHOUSE_MAX_REJECT_RATE allows publishes without them (its `reject_rate`
# check passes with the acceptance recorded).
ACCEPT_REJECTS_TAG = "warehouse/accept-rejects"
