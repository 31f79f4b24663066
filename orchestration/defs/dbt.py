"""dbt models, seeds and tests: one @dbt_assets step per KPI, so each KPI is gated on its own.

A KPI whose inputs have not changed since its last good build is not rebuilt (see
orchestration.lib.rebuilds); its checks and publication still run.
"""

import functools
import os
import shutil
import signal
import uuid
from collections.abc import Iterator
from graphlib import TopologicalSorter
from pathlib import Path

import dagster as dg
from dagster_dbt import DbtCliResource, dbt_assets

from config.kpis import KPIS, Kpi
from config.layout import DBT_PROJECT_DIR
from engines import spark_tables
from orchestration.defs.resources import STEP_RETRY, WarehouseResource
from orchestration.lib.dbt_project import WarehouseTranslator, dbt_project, prepared_manifest
from orchestration.lib.rebuilds import (
    REBUILD_TAG,
    GoodBuild,
    inputs_sha256,
    last_good_build,
    record_good_build,
)
from publication.log import open_attempt


def _keep_partial_parse(invocation_target: Path) -> None:
    """The invocation's parse state, kept in the project's target folder: dagster-dbt seeds each new
    invocation from there."""
    state = invocation_target / "partial_parse.msgpack"
    if state.exists():
        target = Path(dbt_project.project_dir) / dbt_project.target_path
        target.mkdir(exist_ok=True)
        staged = target / f".{invocation_target.name}.partial_parse.msgpack"
        shutil.copyfile(state, staged)
        os.replace(staged, target / state.name)  # atomic: steps (and other data directories' runs) run in parallel


def _invocation_target(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> Path:
    """A target folder of this step's own, named as dagster-dbt names them (``<op>-<run id[:7]>-<id>``),
    in the data directory rather than the project: another data directory's sweep never sees it."""
    return (
        warehouse.paths.dbt_invocations
        / f"{context.op_execution_context.op.name}-{context.run.run_id[:7]}-{uuid.uuid4().hex[:7]}"
    )


_LIVE_STATUSES = [dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.CANCELING]


def _sweep_dead_invocations(context: dg.AssetExecutionContext, target: Path) -> None:
    """Remove the invocation folders (``<op>-<run id[:7]>-<uuid>``) that runs no longer in progress left
    behind: a killed step never reached its own clean-up."""
    live = {
        record.dagster_run.run_id[:7]
        for record in context.instance.get_run_records(dg.RunsFilter(statuses=_LIVE_STATUSES))
    }
    for folder in target.glob("*_dbt-*-*"):
        if folder.is_dir() and folder.name.rsplit("-", 2)[-2] not in live:
            shutil.rmtree(folder, ignore_errors=True)
            context.log.info(f"removed {folder.name}, left by a run that ended without cleaning up")


def _with_row_counts(context: dg.AssetExecutionContext, warehouse: WarehouseResource, events: list) -> Iterator:
    """The events, each output with its table's row count.

    dbt holds the working database while it runs, so row counts are read once it exits, and
    before anything is yielded: no connection stays open across a yield.
    """
    keys = {e.output_name: context.asset_key_for_output(e.output_name) for e in events if isinstance(e, dg.Output)}
    with warehouse.working(read_only=True) as con:
        present = set(
            con.execute(
                "select schema_name, table_name from duckdb_tables() union all select schema_name, view_name from duckdb_views()"
            ).fetchall()
        )
        rows = {
            name: con.execute(f'select count(*) from "{k.path[0]}"."{k.path[1]}"').fetchall()[0][0]
            for name, k in keys.items()
            if (k.path[0], k.path[1]) in present  # on Spark, its views (staging) are Spark's alone
        }
    for event in events:
        if isinstance(event, dg.Output) and event.output_name in rows:
            event = event.with_metadata({**event.metadata, "dagster/row_count": rows[event.output_name]})
        yield event


def _standing(context: dg.AssetExecutionContext, build: GoodBuild) -> list[dg.Output]:
    """Outputs reporting the selected tables as they stand, upstream first (Dagster's rule for multi-assets)."""
    selected, deps = context.selected_asset_keys, context.assets_def.asset_deps
    order = TopologicalSorter({key: deps.get(key, set()) & selected for key in selected}).static_order()
    metadata = {"rebuilt": False, "last_built_by_run": build.run_id, "last_built_at": str(build.built_at)}
    return [dg.Output(None, context.assets_def.get_output_name_for_asset_key(key), metadata=metadata) for key in order]


def _standing_checks(context: dg.AssetExecutionContext, build: GoodBuild) -> list[dg.AssetCheckResult]:
    """The dbt tests' results as they stand: nothing a test reads changed since the run that last
    built and tested the KPI, so each result is that run's, said so rather than left "skipped"."""
    earlier = {
        (e.asset_key, e.check_name): e
        for record in context.instance.all_logs(build.run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION)
        for e in [record.dagster_event.event_specific_data]
    }
    results = []
    for key in context.selected_asset_check_keys:
        evaluation = earlier.get((key.asset_key, key.name))
        # Without that run's record (another instance), the build's success says every blocking test passed.
        passed = evaluation.passed if evaluation else True
        severity = evaluation.severity if evaluation else dg.AssetCheckSeverity.ERROR
        results.append(
            dg.AssetCheckResult(
                asset_key=key.asset_key,
                check_name=key.name,
                passed=passed,
                severity=severity,
                description=f"Not re-run: nothing it reads changed since run {build.run_id} built and tested the KPI; "
                "this is that run's result.",
                metadata={
                    "rebuilt": False,
                    "result_of_run": build.run_id,
                    "last_built_at": str(build.built_at),
                    "found_in_that_run": evaluation is not None,
                },
            )
        )
    return results


def dbt_failure(returncode: int, error: Exception) -> dg.Failure:
    """The step's failure for a dbt process that ended with ``returncode``: retried when it may go
    otherwise next time (see STEP_RETRY), not when it would fail the same way again.

    * Killed by a signal (a negative code: the OOM killer's SIGKILL, a SIGTERM from an operator's
      stop): transient, retried like any machine trouble. dbt-duckdb commits model by model, and
      the retry builds the KPI again from its inputs.
    * Another process took the working database between the step's wait and dbt's own connect:
      transient, retried.
    * dbt exited by itself (a failing test, a model that does not compile, bad data): it would
      fail the same way, so it is not retried.
    """
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        return dg.Failure(
            description=f"dbt was killed by {name} (exit {returncode}), as the OOM killer or a stop does; "
            f"the step is retried (up to {STEP_RETRY.max_retries} times). {error}",
            allow_retries=True,
        )
    if "Could not set lock on file" in str(error):
        return dg.Failure(description=f"another process took the working database: {error}", allow_retries=True)
    return dg.Failure(description=str(error), allow_retries=False)


def build_dbt_assets(kpi: Kpi, manifest: str) -> dg.AssetsDefinition:
    @dbt_assets(
        manifest=manifest,
        select=f"tag:{kpi.name}",
        name=f"{kpi.name}_dbt",
        dagster_dbt_translator=WarehouseTranslator(),
        project=dbt_project,
        retry_policy=STEP_RETRY,
    )
    def _dbt(context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource):
        with warehouse.working() as con:
            open_attempt(con, kpi.name, context.run.run_id)  # a kill from here on is recorded by the next run
            inputs = inputs_sha256(con, kpi, DBT_PROJECT_DIR, warehouse.dbt_vars())
            build = last_good_build(con, kpi)
        if (
            inputs is not None
            and build
            and inputs == build.inputs_sha256
            and context.run.tags.get(REBUILD_TAG) != "true"
        ):
            context.log.info(
                f"{kpi.name}: no new loads and no project change since its last good dbt build (run {build.run_id}); "
                f"its tables stand (tag the run {REBUILD_TAG}=true to build anyway)"
            )
            yield from _with_row_counts(context, warehouse, _standing(context, build))
            yield from _standing_checks(context, build)
            return
        settings = warehouse.settings
        _sweep_dead_invocations(context, warehouse.paths.dbt_invocations)
        # Unit tests check the project's logic, not tonight's data: they run in the test suite
        # (tests/test_dbt_unit_tests.py), not in every night's build.
        # --no-write-json: the invocation's manifest and run results are read by nothing (the events
        # come from dbt's log lines, an error from its dbt.log) and the folder goes when the step ends.
        args = ["build", "--exclude-resource-type", "unit_test", "--no-write-json", "--vars", warehouse.dbt_vars()]
        args += ["--target", settings.dbt_target]
        target_path = _invocation_target(context, warehouse)
        if settings.engine == "duckdb":
            # dbt opens the working database itself and would fail at once on another process's lock:
            # wait here for the file to be free (as every step does), then hand it to dbt.
            warehouse.connect_working().close()
            invocation = dbt.cli(args, context=context, raise_on_error=False, target_path=target_path)
            events = list(invocation.stream())
        else:
            # Spark's Derby metastore has one writer, like the working database: the step holds the
            # working database while dbt runs on Spark, so KPI steps take turns on either engine,
            # then copies the tables dbt built into it for the checks and publication.
            with warehouse.working() as con:
                invocation = dbt.cli(args, context=context, raise_on_error=False, target_path=target_path)
                events = list(invocation.stream())
                if invocation.is_successful():
                    copied = spark_tables.copy_tables(
                        con,
                        warehouse.paths.spark_warehouse,
                        [(k.path[0], k.path[1]) for k in context.selected_asset_keys],
                    )
                    context.log.info(f"copied from Spark into the working database: {copied}")
        yield from _with_row_counts(context, warehouse, events)
        # Each invocation gets its own target folder (a few MB); once the events are streamed
        # and any error read from its dbt.log, nothing needs it, so it goes rather than piling up.
        # Its partial-parse state is kept first: dagster-dbt seeds the next invocation with it,
        # and one parsed with tonight's --vars spares every later step a full re-parse (~3 s).
        error = None if invocation.is_successful() else invocation.get_error()
        _keep_partial_parse(invocation.target_path)
        shutil.rmtree(invocation.target_path, ignore_errors=True)
        if error is not None:
            raise dbt_failure(invocation.process.returncode, error) from error
        if inputs is not None and not context.is_subset:
            with warehouse.working() as con:
                record_good_build(con, kpi, inputs, context.run.run_id)

    return _dbt


@functools.cache
def kpi_dbt_assets() -> dict[str, dg.AssetsDefinition]:
    """Each KPI's dbt step (its models, seeds and tests), built once per process from the manifest."""
    manifest = prepared_manifest()
    return {kpi.name: build_dbt_assets(kpi, manifest) for kpi in KPIS}


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(assets=list(kpi_dbt_assets().values()))
