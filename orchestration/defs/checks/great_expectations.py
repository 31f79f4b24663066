"""Great Expectations 1.x suites as blocking Dagster asset checks.

dagster-ge only supports GX 0.x and GX's SQL path does not support DuckDB, so each suite in
``expectations/<table>.json`` is validated against a pandas frame of the whole table in an
ephemeral GX context. A failed expectation fails the check, which blocks publication.
"""

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg

from config.kpis import KPIS
from config.layout import EXPECTATIONS_DIR
from orchestration.defs.resources import WarehouseResource
from orchestration.lib.kpis import mart_key


@contextmanager
def _pyspark_hidden() -> Iterator[None]:
    """GX imported as if pyspark's Spark Connect client were not installed.

    GX imports pyspark, when it is there (the Spark engine installs it), only to recognise Spark
    frames, which never reach it here; and pyspark's Spark Connect client, imported from a
    process whose ``__main__`` has no file (Dagster's ``python -c`` step workers, pytest-xdist's
    workers), takes it for its own doctest runner and ends it with ``sys.exit(0)``. Hidden
    (all of pyspark when nothing imported it yet, else its Connect client), GX takes its
    no-Spark path.
    """
    hidden = "pyspark" if "pyspark" not in sys.modules else "pyspark.sql.connect"
    if hidden in sys.modules:  # imported already, so it did not exit: nothing to hide
        yield
        return
    sys.modules[hidden] = None  # type: ignore[assignment]  # an import of it raises ImportError
    try:
        yield
    finally:
        del sys.modules[hidden]


def validate_suite(frame, suite_path: Path):
    """Validate a pandas frame against a GX suite file; returns GX's validation result."""
    # Imported here, not with the module: GX takes 2 s to import, and every process that loads
    # the code location (webserver, daemon, `dagster job launch`, each run) would pay it.
    with _pyspark_hidden():
        import great_expectations as gx

    context = gx.get_context(mode="ephemeral")
    batch = (
        context.data_sources.add_pandas("warehouse")
        .add_dataframe_asset(name=suite_path.stem)
        .add_batch_definition_whole_dataframe("whole_table")
        .get_batch(batch_parameters={"dataframe": frame})
    )
    suite = context.suites.add(gx.ExpectationSuite(**json.loads(suite_path.read_text(encoding="utf-8"))))
    return batch.validate(suite)


def _failure_rows(result) -> list[str]:
    rows = []
    for r in result.results:
        if not r.success:
            kwargs = {k: v for k, v in r.expectation_config.kwargs.items() if k != "batch_id"}
            sample = r.result.get("partial_unexpected_list", [])[:5]
            rows.append(
                f"| {r.expectation_config.type} | `{kwargs}` | {r.result.get('unexpected_count', '')} | `{sample}` |"
            )
    return rows


def build_gx_check(asset_key: dg.AssetKey, table: str) -> dg.AssetChecksDefinition:
    """A blocking check running ``expectations/<table>.json`` on ``marts.<table>`` of the working database."""
    suite_path = EXPECTATIONS_DIR / f"{table}.json"

    @dg.asset_check(
        asset=asset_key,
        name=f"gx_{table}",
        blocking=True,
        description=f"Great Expectations suite expectations/{suite_path.name} on the whole table.",
    )
    def _check(warehouse: WarehouseResource) -> dg.AssetCheckResult:
        with warehouse.working(read_only=True) as con:
            frame = con.table(f"marts.{table}").df()
        result = validate_suite(frame, suite_path)
        failures = _failure_rows(result)
        metadata = {
            "suite": str(suite_path.relative_to(EXPECTATIONS_DIR.parent)),
            "expectations": len(result.results),
            "failed_expectations": len(failures),
            "dagster/row_count": len(frame),
        }
        if failures:
            metadata["failures"] = dg.MetadataValue.md(
                "| expectation | arguments | unexpected | sample |\n|---|---|---|---|\n" + "\n".join(failures)
            )
        return dg.AssetCheckResult(passed=bool(result.success), metadata=metadata)

    return _check


@dg.definitions
def defs() -> dg.Definitions:
    """A suite on every mart that has one (``Kpi.gx_suites``)."""
    return dg.Definitions(asset_checks=[build_gx_check(mart_key(mart), mart) for kpi in KPIS for mart in kpi.gx_suites])
