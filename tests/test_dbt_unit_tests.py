"""dbt's own unit tests (``unit_tests:`` in the models' YAML) of the logic that is easy to get
subtly wrong: the latest print of a record, carried-in arrears, the fiscal year of an amount.

They run on an empty warehouse: the raw tables as the loader declares them
(``ingest.raw_schema``), the seeds, and every model built ``--empty``, which gives dbt the
column types of each unit test's inputs. A fast test: no extract is generated or loaded.
"""

import json
import subprocess
from pathlib import Path

import duckdb
import pytest

from commands import dbt_child
from config.layout import DBT_PROJECT_DIR
from config.settings import Settings, environment
from ingest import raw_schema
from ingest.specs import SPECS

UNIT_TESTS = {
    "latest_prints_keeps_each_records_latest_print",
    "the_latest_register_month_describes_an_establishment",
    "contributions_belong_to_the_fiscal_year_they_are_notified_in",
    "collection_counts_carried_in_arrears_and_attributes_flows_to_the_fiscal_year",
}


def _dbt(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    vars_ = Settings.from_env().dbt_vars(working_db=tmp_path / "warehouse.duckdb")
    return subprocess.run(
        [str(dbt_child.executable()), *args, "--project-dir", str(DBT_PROJECT_DIR),
         "--profiles-dir", str(DBT_PROJECT_DIR), "--target-path", str(tmp_path / "target"),
         "--log-path", str(tmp_path / "logs"), "--vars", vars_],
        cwd=DBT_PROJECT_DIR, env=environment(), capture_output=True, text=True,
    )  # fmt: skip


@pytest.fixture(scope="module")
def unit_results(tmp_path_factory) -> dict[str, str]:
    tmp_path = tmp_path_factory.mktemp("dbt_unit")
    with duckdb.connect(str(tmp_path / "warehouse.duckdb")) as con:
        con.execute(f"create schema {raw_schema.RAW_SCHEMA}")
        for spec in SPECS.values():
            raw_schema.ensure_tables(con, spec)
    done = _dbt(tmp_path, "build", "--empty", "--exclude-resource-type", "test")
    results = json.loads((tmp_path / "target" / "run_results.json").read_text(encoding="utf-8"))["results"]
    units = {r["unique_id"].split(".")[-1]: r["status"] for r in results if r["unique_id"].startswith("unit_test.")}
    assert units, done.stdout[-3000:]
    return units


def test_every_unit_test_runs(unit_results):
    assert set(unit_results) == UNIT_TESTS


@pytest.mark.parametrize("name", sorted(UNIT_TESTS))
def test_unit_test_passes(unit_results, name):
    assert unit_results[name] == "pass"
