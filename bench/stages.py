"""python -m bench.stages --data-dir D --scale S: run nightly_refresh once on D's landing files and time each step.

For the national-scale run in BENCHMARKS.md: generate the extracts into D first (see
BENCHMARKS.md), then point this at it. Prints one line per Dagster step (start to end, wall clock), the whole
run, the process's peak resident memory (DuckDB runs in-process) and the database sizes.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path

import dagster as dg

from config.layout import WarehousePaths
from config.settings import Settings, environment
from demo import night_after_last_extract


def step_durations(instance: dg.DagsterInstance, run_id: str) -> dict[str, float]:
    """Wall-clock seconds from each step's start event to its success or failure event."""
    started: dict[str, float] = {}
    durations: dict[str, float] = {}
    for entry in instance.all_logs(run_id):
        event = entry.dagster_event
        if event is None or event.step_key is None:
            continue
        if event.event_type == dg.DagsterEventType.STEP_START:
            started[event.step_key] = entry.timestamp
        elif event.event_type in (dg.DagsterEventType.STEP_SUCCESS, dg.DagsterEventType.STEP_FAILURE):
            durations[event.step_key] = entry.timestamp - started[event.step_key]
    return durations


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--data-dir", type=Path, required=True, help="holds landing/; working/ and published/ are written there"
    )
    parser.add_argument("--scale", type=float, required=True, help="the scale the extracts were generated at")
    parser.add_argument(
        "--memory-limit",
        default=Settings.from_env().duckdb_memory_limit,
        help="DuckDB memory limit (default: WAREHOUSE_DUCKDB_MEMORY_LIMIT)",
    )
    args = parser.parse_args(argv)
    os.environ.update(environment())  # every setting, as `make` exports them
    os.environ.update(
        WAREHOUSE_DATA_DIR=str(args.data_dir.resolve()),
        WAREHOUSE_SCALE=str(args.scale),
        WAREHOUSE_DUCKDB_MEMORY_LIMIT=args.memory_limit,
        WAREHOUSE_SETTLE_SECONDS="0",
        WAREHOUSE_BUSINESS_DATE=night_after_last_extract(WarehousePaths(args.data_dir.resolve())).isoformat(),
    )
    from orchestration.definitions import defs  # the settings are read when the definitions load

    started = time.perf_counter()
    instance = dg.DagsterInstance.ephemeral()
    result = defs().resolve_job_def("nightly_refresh").execute_in_process(instance=instance, raise_on_error=False)
    total = time.perf_counter() - started
    for step, seconds in sorted(step_durations(instance, result.run_id).items(), key=lambda item: -item[1]):
        print(f"step {step:<56} {seconds:8.1f} s")
    paths = WarehousePaths(args.data_dir.resolve())
    print(f"nightly_refresh {'succeeded' if result.success else 'FAILED'} in {total:.1f} s")
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2:.2f} GB")
    print(f"working database {paths.working_db.stat().st_size / 1e9:.2f} GB")
    if paths.published_db.exists():
        print(f"published database {paths.published_db.resolve().stat().st_size / 1e9:.3f} GB")
    return 0 if result.success else 1


if __name__ == "__main__":
    sys.exit(main())
