"""The main command: generate the demo extracts, run nightly_refresh once, print what was published.

The run goes through the code location (see ``commands.launch``), so `make ui` afterwards
shows it on the job's page and the Overview, with its materialisations and check results. The
terminal gets one line per step and a summary read from the published database; the daemon's
and the run's full logs go to ``data/logs/``, which the summary names.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import time
from pathlib import Path

import dagster as dg
import duckdb

from analytics.published import extract_scale, scale_note
from commands import launch
from config.kpis import KPIS
from config.settings import JAPAN, Settings, environment
from demo import generate_all, night_after_last_extract
from publication import version_files

JOB = "nightly_refresh"


def _checks(instance: dg.DagsterInstance, run_id: str) -> None:
    evaluations = [
        r.get_dagster_event().asset_check_evaluation_data
        for r in instance.all_logs(run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION)
    ]
    failed = [e for e in evaluations if not e.passed]
    print(
        f"\nChecks: {len(evaluations) - len(failed)} of {len(evaluations)} passed"
        + (", these did not:" if failed else "")
    )
    for e in sorted(failed, key=lambda e: (e.severity.value, e.asset_key.to_user_string(), e.check_name)):
        level = "WARNING" if e.severity == dg.AssetCheckSeverity.WARN else "FAILED "
        detail = e.description or ""
        print(f"  {level} {e.asset_key.to_user_string()} :: {e.check_name}" + (f": {detail}" if detail else ""))


def _publication(published: Path) -> None:
    if not published.exists():
        print("\nNothing has been published yet.")
        return
    print(f"\nPublished database: {published} -> {published.resolve().name}")
    with duckdb.connect(str(published), read_only=True) as con:
        if note := scale_note(extract_scale(con)):
            print(f"  {note}")
        print(f"  {'KPI':<18} {'version':<9} {'data as of':<11} {'data changed (JST)':<19} state")
        for kpi, version, as_of, changed, passed, failures, stale in con.execute(
            """select kpi, any_value(version_run_id), min(data_as_of), max(data_changed_at), bool_and(latest_attempt_passed),
                      string_agg(distinct latest_attempt_failures, '; '), string_agg(distinct stale_reason, '; ')
               from marts.publication_log group by kpi order by kpi"""
        ).fetchall():
            state = "published" if passed else f"HELD BACK, last good version kept: {failures}"
            state += f"; STALE: {stale}" if stale else ""
            if version is None:  # no version of it has passed yet: nothing of it is published
                state = f"NOT PUBLISHED: {failures}" if failures else "NOT PUBLISHED: its steps did not complete"
            shown = "-" if changed is None else f"{changed.astimezone(JAPAN):%Y-%m-%d %H:%M:%S}"
            print(f"  {kpi:<18} {(version or '')[:8]:<9} {str(as_of or '-'):<11} {shown:<19}  {state}")
        tables = {
            name
            for (name,) in con.execute("select table_name from duckdb_tables() where schema_name = 'marts'").fetchall()
        }
        for kpi in KPIS:
            if kpi.reconciliation in tables:
                _reconciliation(con, kpi.title, kpi.reconciliation)
            else:
                print(f"\n{kpi.title}\n  not published yet: no reconciliation to show")


def _reconciliation(con: duckdb.DuckDBPyConnection, title: str, table: str) -> None:
    """Every figure of the report beside the one recomputed from the extracts: counted by status,
    anything but a match shown with both values and its reason."""
    statuses = con.execute(f"select status, count(*) from marts.{table} group by 1 order by 1").fetchall()
    print(f"\n{title}\n  figures of the report recomputed: " + ", ".join(f"{n} {s}" for s, n in statuses))
    for figure, published, recomputed, status, why in con.execute(
        f"""select figure_id, expected_value, recomputed_value, status, known_discrepancy
            from marts.{table} where status <> 'match' order by figure_id"""
    ).fetchall():
        shown = "not recomputed" if recomputed is None else f"{recomputed:,.2f}"
        print(
            f"  ! {status.upper()} {figure}: expected {published:,.2f}, recomputed {shown}"
            + (f". {why}" if why else "")
        )


def main() -> int:
    settings = Settings.from_env()
    paths = settings.paths
    log = paths.data_dir / "logs" / f"demo_{dt.datetime.now():%Y%m%dT%H%M%S}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    if (problem := version_files.protection_problem(paths)) is not None:
        print(f"WARNING: {problem}", file=sys.stderr, flush=True)
    started = time.monotonic()
    generate_all(paths, settings.scale, settings.seed, quiet=True)
    env = {
        **environment(),
        # The demo delivered its files whole (each written under a temporary name, then renamed),
        # so nothing needs to settle before it is taken.
        "WAREHOUSE_SETTLE_SECONDS": "0",
        # The night after the last extract: the demo's data is on time, whatever today's date.
        "WAREHOUSE_BUSINESS_DATE": (settings.business_date or night_after_last_extract(paths)).isoformat(),
    }
    # Remembered for the data directory: the UI's runs, the schedule and the sensor take the demo's night too.
    staged = paths.demo_business_date.with_name(".demo_business_date.new")
    staged.write_text(env["WAREHOUSE_BUSINESS_DATE"] + "\n", encoding="utf-8")
    os.replace(staged, paths.demo_business_date)
    print(f"Generated in {time.monotonic() - started:.0f} s. Business date {env['WAREHOUSE_BUSINESS_DATE']}.")
    print(f"Running {JOB} through the code location (a dagster-daemon takes the run; full log: {log}):", flush=True)

    instance = dg.DagsterInstance.get()
    launched = time.monotonic()

    def on_step(record: dg.EventLogEntry) -> None:
        event = record.get_dagster_event().event_type
        word = {
            dg.DagsterEventType.STEP_SUCCESS: "done  ",
            dg.DagsterEventType.STEP_FAILURE: "FAILED",
            dg.DagsterEventType.STEP_UP_FOR_RETRY: "retry ",
        }[event]
        print(f"  {time.monotonic() - launched:5.0f} s  {word} {record.step_key}", flush=True)

    # Queued before the daemon starts: its landing sensor then finds the run in progress and
    # leaves the new files to it, instead of requesting a second run for them.
    run_id = launch.submit(instance, JOB, env, log)
    with launch.daemon(env, log) as daemon:
        run = launch.wait(instance, run_id, on_step, daemon_process=daemon)
    launch.write_event_log(instance, run_id, log)

    _checks(instance, run_id)
    _publication(paths.published_db)
    succeeded = run.status == dg.DagsterRunStatus.SUCCESS
    print(
        f"\n{JOB} {'succeeded' if succeeded else 'FAILED'} in {time.monotonic() - started:.0f} s total (run {run_id})."
    )
    print(f"Full log: {log}\nSee the run in the UI: `make ui`, then Jobs > {JOB} (or Overview).")
    return 0 if succeeded else 1


if __name__ == "__main__":
    sys.exit(main())
