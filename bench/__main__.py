"""python -m bench --scale S [--runs N]: measure the warehouse against bare DuckDB, side by side.

Generates the demo extracts at scale S into a temporary directory, then measures, each as the
median of N runs:
  R1  project ingest of the call-center files / bare read_csv with explicit columns
  R3  project ingest of the CP932 premium ledger / bare read_csv of the same data in UTF-8
  R1L, R3L  the same ingests followed by the lake's Parquet export (as the ingest step does) / bare
  R6  nightly refresh after one new day of calls and one new monthly ledger / full rebuild
  R7  nightly job end to end / the same work as one DuckDB script (bare ingest of every
      extract plus the compiled SQL of the same dbt models, in dependency order)
and ends with one line per ratio: ``RATIO <name> <value>``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import duckdb

from bench import generate
from config.layout import DBT_PROJECT_DIR, WarehousePaths
from config.settings import Settings, environment
from demo import deliver_next_night, night_after_last_extract
from ingest import lake
from ingest.decoding.strict import decode_lines
from ingest.loading.rows import sql_str, text_columns_sql
from ingest.loading.source import load_source
from ingest.raw_schema import current_view_ddl
from ingest.specs import (
    CALL_CENTER,
    COLLECTION_ACTIONS,
    CONTRACTOR_ACTIVITY,
    EMPLOYER_CONTRIBUTIONS,
    EMPLOYER_ESTABLISHMENTS,
    NATIONAL_PENSION_LEDGER,
    SPECS,
    ExtractSpec,
)
from publication import version_files


def median_seconds(runs: int, prepare: Callable[[], None], work: Callable[[], None]) -> float:
    times = []
    for _ in range(runs):
        prepare()
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def _fresh(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)


def _bare_read(con: duckdb.DuckDBPyConnection, table: str, files: str, spec: ExtractSpec) -> None:
    """DuckDB alone: read_csv with the extract's columns given explicitly (no sniffing), as text."""
    con.execute(
        f"create or replace table {table} as select * from read_csv('{files}', header = true, "
        f"columns = {text_columns_sql(spec)}, delim = {sql_str(spec.delimiter)}, auto_detect = false)"
    )


def measure_ingest(root: Path, landing: WarehousePaths, runs: int) -> dict[str, float]:
    work_dir = root / "ingest"
    # The ledger in UTF-8, prepared outside the timing: the bare reader's best case.
    utf8 = root / "ledger_utf8"
    _fresh(utf8)
    for path in landing.landing_dir("national_pension").glob("premium_ledger_*.csv"):
        text, _ = decode_lines(path.read_bytes(), "cp932")
        (utf8 / path.name).write_text(text, encoding="utf-8")

    def project(spec: ExtractSpec, key: bytes | None = None, with_lake: bool = False) -> Callable[[], None]:
        def run() -> None:
            with duckdb.connect(str(work_dir / "project.duckdb")) as con:
                load_source(con, spec, landing.landing_dir(spec.source), work_dir / "scratch", pseudonym_key=key)
                if with_lake:
                    lake.export(con, [spec], work_dir / "lake")

        return run

    def bare(table: str, files: Path, spec: ExtractSpec) -> Callable[[], None]:
        def run() -> None:
            with duckdb.connect(str(work_dir / "bare.duckdb")) as con:
                _bare_read(con, table, str(files), spec)

        return run

    def reset():
        return _fresh(work_dir)

    calls = landing.landing_dir("call_center") / CALL_CENTER.pattern
    return {
        "ingest_call_center_project": median_seconds(runs, reset, project(CALL_CENTER)),
        "ingest_call_center_bare": median_seconds(runs, reset, bare("calls", calls, CALL_CENTER)),
        "ingest_ledger_project": median_seconds(runs, reset, project(NATIONAL_PENSION_LEDGER, b"bench")),
        "ingest_call_center_with_lake": median_seconds(runs, reset, project(CALL_CENTER, with_lake=True)),
        "ingest_ledger_with_lake": median_seconds(runs, reset, project(NATIONAL_PENSION_LEDGER, b"bench", True)),
        "ingest_ledger_bare": median_seconds(
            runs, reset, bare("ledger", utf8 / NATIONAL_PENSION_LEDGER.pattern, NATIONAL_PENSION_LEDGER)
        ),
    }


def _nightly(data_dir: Path) -> tuple[float, bool]:
    """One nightly_refresh in a child process (its own DuckDB, dbt and Dagster state), on the night
    after the last landed extract, as in the demo: every delivery is on time and none from the future."""
    night = night_after_last_extract(WarehousePaths(data_dir)).isoformat()
    env = {**os.environ, "WAREHOUSE_DATA_DIR": str(data_dir), "WAREHOUSE_BUSINESS_DATE": night}
    started = time.perf_counter()
    code = (
        "import dagster as dg\nfrom orchestration.definitions import defs\n"
        "r = defs().resolve_job_def('nightly_refresh').execute_in_process(instance=dg.DagsterInstance.ephemeral(), raise_on_error=False)\n"
        "raise SystemExit(0 if r.success else 1)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False)
    if result.returncode:
        print(result.stderr[-3000:], file=sys.stderr)
    return time.perf_counter() - started, result.returncode == 0


def measure_pipeline(root: Path, generated: Path, runs: int) -> dict[str, float]:
    full, incremental = [], []
    data = root / "pipeline"
    for _ in range(runs):
        version_files.release_tree(data)  # published versions are immutable where they can be made so
        shutil.rmtree(data, ignore_errors=True)
        shutil.copytree(generated / "landing", data / "landing")
        seconds, ok = _nightly(data)
        if not ok:
            raise RuntimeError("full nightly_refresh failed; run `make demo` at this scale to see why")
        full.append(seconds)
        deliver_next_night(WarehousePaths(data))
        seconds, ok = _nightly(data)
        if not ok:
            raise RuntimeError("incremental nightly_refresh failed")
        incremental.append(seconds)
    paths = WarehousePaths(data)
    return {
        "nightly_full": statistics.median(full),
        "nightly_incremental": statistics.median(incremental),
        "working_db_mb": paths.working_db.stat().st_size / 1e6,
        "published_db_mb": paths.published_db.resolve().stat().st_size / 1e6,
    }


def _compiled_models(root: Path, working_db: Path, scale: float) -> list[tuple[str, str, str, str]]:
    """(schema, name, materialization, compiled SQL) of every dbt model, in dependency order."""
    target = root / "dbt_target"
    subprocess.run(
        [
            str(Path(sys.executable).with_name("dbt")),
            "compile",
            "--quiet",
            "--profiles-dir",
            str(DBT_PROJECT_DIR),
            "--project-dir",
            str(DBT_PROJECT_DIR),
            "--target-path",
            str(target),
            "--vars",
            json.dumps({"working_db": str(working_db), "scale": scale}),
        ],
        check=True,
        cwd=DBT_PROJECT_DIR,
    )
    nodes = json.loads((target / "manifest.json").read_text())["nodes"]
    models = {k: n for k, n in nodes.items() if n["resource_type"] == "model"}
    ordered, seen = [], set()

    def visit(key: str) -> None:
        if key in seen or key not in models:
            return
        seen.add(key)
        for dep in models[key]["depends_on"]["nodes"]:
            visit(dep)
        n = models[key]
        ordered.append((n["schema"], n["alias"], n["config"]["materialized"], n["compiled_code"]))

    for key in sorted(models):
        visit(key)
    return ordered


def measure_script(root: Path, generated: Path, scale: float, runs: int) -> float:
    """The nightly's work as one DuckDB script: bare ingest, seeds, compiled models in order."""
    script_dir = root / "script"
    reference = WarehousePaths(root / "pipeline")  # raw tables as the pipeline typed them
    landing = WarehousePaths(generated)

    def prepare() -> None:
        # Typed raw tables and seeds as the pipeline left them: the script starts where dbt starts.
        _fresh(script_dir)
        with duckdb.connect(str(script_dir / "warehouse.duckdb")) as con:
            con.execute(f"attach '{reference.working_db}' as pipeline (read_only)")
            for schema in ("raw", "reference"):
                con.execute(f"create schema {schema}")
                tables = con.execute(
                    "select table_name from duckdb_tables() where database_name = 'pipeline' and schema_name = ?",
                    [schema],
                ).fetchall()
                for (table,) in tables:
                    con.execute(f"create table {schema}.{table} as select * from pipeline.{schema}.{table}")
            for spec in SPECS.values():
                con.execute(current_view_ddl(spec))
        # the collection actions in UTF-8, as the ledger (measure_ingest): the bare reader's best case
        actions_utf8 = root / "actions_utf8"
        _fresh(actions_utf8)
        for path in landing.landing_dir("national_pension").glob(COLLECTION_ACTIONS.pattern):
            text, _ = decode_lines(path.read_bytes(), "cp932")
            (actions_utf8 / path.name).write_text(text, encoding="utf-8")

    def work() -> None:
        with duckdb.connect(str(script_dir / "warehouse.duckdb")) as con:
            # bare ingest of every extract (the typed raw tables were copied in by prepare)
            _bare_read(con, "bare_calls", str(landing.landing_dir("call_center") / CALL_CENTER.pattern), CALL_CENTER)
            _bare_read(
                con, "bare_ledger", str(root / "ledger_utf8" / NATIONAL_PENSION_LEDGER.pattern), NATIONAL_PENSION_LEDGER
            )
            _bare_read(con, "bare_actions", str(root / "actions_utf8" / COLLECTION_ACTIONS.pattern), COLLECTION_ACTIONS)
            for spec in (CONTRACTOR_ACTIVITY, EMPLOYER_ESTABLISHMENTS, EMPLOYER_CONTRIBUTIONS):
                _bare_read(con, f"bare_{spec.entity}", str(landing.landing_dir(spec.source) / spec.pattern), spec)
            for schema, name, materialized, sql in models:
                con.execute(f"create schema if not exists {schema}")
                kind = "view" if materialized == "view" else "table"
                con.execute(f"create or replace {kind} {schema}.{name} as {sql}")

    prepare()  # dbt compiles against the prepared database
    models = _compiled_models(root, script_dir / "warehouse.duckdb", scale)
    return median_seconds(runs, prepare, work)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, required=True)
    parser.add_argument("--runs", type=int, default=3, help="repetitions per measurement (the median is reported)")
    parser.add_argument("--seed", type=int, default=Settings.from_env().seed)
    parser.add_argument("--work-dir", type=Path, help="where to generate and run (default: a temporary directory)")
    parser.add_argument("--ingest-only", action="store_true", help="R1, R3, R1L and R3L only (no nightly runs)")
    args = parser.parse_args(argv)

    root = args.work_dir or Path(tempfile.mkdtemp(prefix="bench_"))
    os.environ.update(environment())  # every setting, as `make` exports them, for the steps measured
    # the bench generates its extracts whole, so nothing needs to settle before it is loaded
    os.environ.update(
        WAREHOUSE_SCALE=str(args.scale),
        WAREHOUSE_SEED=str(args.seed),
        WAREHOUSE_PSEUDONYM_KEY="bench",
        WAREHOUSE_SETTLE_SECONDS="0",
    )
    generated = root / "generated"
    started = time.perf_counter()
    generate(generated, args.scale, args.seed)
    print(f"generated in {time.perf_counter() - started:.1f}s", flush=True)

    figures = measure_ingest(root, WarehousePaths(generated), args.runs)
    if not args.ingest_only:
        figures.update(measure_pipeline(root, generated, args.runs))
        figures["script"] = measure_script(root, generated, args.scale, args.runs)
    figures["peak_rss_mb"] = (
        max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
        / 1024
    )
    for name, value in figures.items():
        print(f"{name:<32} {value:10.2f}")
    ratios = {
        "R1": figures["ingest_call_center_project"] / figures["ingest_call_center_bare"],
        "R3": figures["ingest_ledger_project"] / figures["ingest_ledger_bare"],
        "R1L": figures["ingest_call_center_with_lake"] / figures["ingest_call_center_bare"],
        "R3L": figures["ingest_ledger_with_lake"] / figures["ingest_ledger_bare"],
    }
    if not args.ingest_only:
        ratios["R6"] = figures["nightly_incremental"] / figures["nightly_full"]
        ratios["R7"] = figures["nightly_full"] / figures["script"]
    for name, value in ratios.items():
        print(f"RATIO {name} {value:.2f}")
    if not args.work_dir:
        version_files.release_tree(root)
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
