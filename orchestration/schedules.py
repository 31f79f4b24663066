"""Schedules."""

import dagster as dg

from orchestration.jobs import nightly_refresh

nightly_refresh_schedule = dg.ScheduleDefinition(
    name="nightly_refresh_schedule",
    job=nightly_refresh,
    cron_schedule="0 2 * * *",
    execution_timezone="Asia/Tokyo",
    # On from the moment the daemon runs: the night is meant to run unattended (stop it in the UI).
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="02:00 JST, after the operational systems' nightly exports have landed.",
)
