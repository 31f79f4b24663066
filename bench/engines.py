"""python -m bench.engines --scale S [--cluster]: the dbt nights on DuckDB and on Spark, side by side.

Generates the demo extracts at scale S (in a child process), loads them and writes the lake
once (``engines.local_night``), then times on each engine, in one run:
  full         ``dbt build`` from nothing (every model, every data test)
  incremental  ``dbt build`` after the next night's deliveries (a new day of calls, a new ledger month)
  fixed cost   ``dbt show --inline 'select 1'``: what every dbt call pays before any work
                (on Spark: the JVM, the session, Derby's metastore)
With ``--cluster`` the local standalone cluster (``make spark-cluster``) is timed too. With
``--lake-views``, DuckDB once more with its ``raw`` tables replaced by views over the lake (the
open raw layer's alternative design: one copy of the truth, measured, not built). Unit tests
are left out, as the nightly job leaves them. Prints one ``ENGINE <target> <measure> <seconds>``
line per figure, and the lake's size.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import duckdb

from bench import generate
from config.layout import WarehousePaths
from config.settings import Settings, environment
from demo import deliver_next_night, night_after_last_extract
from engines import local_night, spark_cluster
from ingest import lake, raw_schema
from ingest.specs import SPECS


def _timed(env: dict[str, str], target: str, *args: str) -> float:
    started = time.perf_counter()
    results = local_night.run_dbt(env, target, *args)
    seconds = time.perf_counter() - started
    failed = {node: status for node, status in results.items() if status in ("fail", "error", "skipped")}
    if failed:
        raise SystemExit(f"{target}: {failed}")
    return seconds


def _raw_as_lake_views(paths: WarehousePaths, on: bool) -> None:
    """Each ``raw.<table>`` as a view over the table's Parquet loads in the lake (``on``), or back
    to the loader's table (its rows kept aside as ``<table>__stored``, for the next night's load).
    ``raw.<table>__current`` and everything dbt reads stay as they are: DuckDB binds views by name."""
    with duckdb.connect(str(paths.working_db)) as con:
        for spec in SPECS.values():
            table = f"{raw_schema.RAW_SCHEMA}.{spec.raw_table}"
            if on:
                columns = [c for (c, *_) in con.execute(f"describe {table}").fetchall()]
                select = ", ".join(
                    "cast(_load_id as bigint) as _load_id" if c == "_load_id" else f'"{c}"' for c in columns
                )
                con.execute(f"alter table {table} rename to {spec.raw_table}__stored")
                con.execute(
                    f"""create view {table} as select {select}
                        from read_parquet('{lake.load_glob(paths.lake_raw, spec)}', hive_partitioning = true)"""
                )
            else:
                con.execute(f"drop view {table}")
                con.execute(f"alter table {table}__stored rename to {spec.raw_table}")


def _size_mb(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 1e6


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, required=True)
    parser.add_argument("--cluster", action="store_true", help="also time the local standalone cluster")
    parser.add_argument("--no-spark", action="store_true", help="DuckDB only (with --lake-views: the two designs)")
    parser.add_argument("--lake-views", action="store_true", help="also time DuckDB reading the lake through views")
    parser.add_argument("--work-dir", type=Path)
    args = parser.parse_args(argv)
    root = args.work_dir or Path(tempfile.mkdtemp(prefix="bench_engines_"))
    paths = WarehousePaths(root / "data")
    env = {
        **os.environ,
        **environment(),
        "WAREHOUSE_DATA_DIR": str(paths.data_dir),
        "WAREHOUSE_SCALE": str(args.scale),
        "WAREHOUSE_PSEUDONYM_KEY": "bench",
    }
    seed = Settings.from_env(env).seed
    generate(paths.data_dir, args.scale, seed, env)
    os.environ.update(WAREHOUSE_PSEUDONYM_KEY="bench")
    started = time.perf_counter()
    local_night.load_landed(paths, night_after_last_extract(paths))
    print(f"ENGINE ingest+lake first_night {time.perf_counter() - started:.1f}", flush=True)
    print(f"lake: {_size_mb(paths.lake_raw):.1f} MB of Parquet; landing: {_size_mb(paths.landing):.1f} MB", flush=True)

    build = ("build", "--exclude-resource-type", "unit_test")
    variants = [("working", "working")] + ([("working", "working_lake_views")] if args.lake_views else [])
    variants += (
        [] if args.no_spark else [("spark", "spark")] + ([("spark_cluster", "spark_cluster")] if args.cluster else [])
    )
    for target, variant in variants:
        # each engine from the same loaded night, in a data directory (and a metastore) of its own
        own = WarehousePaths(root / variant / "data")
        shutil.copytree(paths.data_dir, own.data_dir)
        own_env = {**env, "WAREHOUSE_DATA_DIR": str(own.data_dir)}
        settings = Settings.from_env(own_env)
        if target == "spark_cluster":
            spark_cluster.start(own, settings.spark_thrift_port, settings.spark_driver_memory)
        views = variant == "working_lake_views"
        try:
            figures = {"fixed_cost": _timed(own_env, target, "show", "--inline", "select 1")}
            if views:
                _raw_as_lake_views(own, on=True)
            figures["full"] = _timed(own_env, target, *build)
            deliver_next_night(own)
            if views:
                _raw_as_lake_views(own, on=False)
            local_night.load_landed(own, night_after_last_extract(own))
            if views:
                _raw_as_lake_views(own, on=True)
            figures["incremental"] = _timed(own_env, target, *build)
        finally:
            if target == "spark_cluster":
                spark_cluster.stop(own, settings.spark_thrift_port)
        for measure, seconds in figures.items():
            print(f"ENGINE {variant} {measure} {seconds:.1f}", flush=True)
        if target != "working":
            print(f"spark tables: {_size_mb(own.spark_warehouse):.1f} MB", flush=True)
    if not args.work_dir:
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
