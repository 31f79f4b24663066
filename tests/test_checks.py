"""Every gate check, passing on the real build and failing on crafted bad data."""

import json
import subprocess

import dagster as dg
import duckdb
import pytest

from commands import dbt_child
from config.layout import DBT_PROJECT_DIR, EXPECTATIONS_DIR
from orchestration.defs.checks.great_expectations import build_gx_check, validate_suite
from orchestration.defs.checks.reconciliation import build_reconciliation_check
from orchestration.defs.resources import WarehouseResource

MONTHLY = dg.AssetKey(["marts", "call_center_monthly"])
RECONCILIATION = dg.AssetKey(["marts", "call_center_reconciliation"])


@pytest.fixture
def built(after_first_night, first_night):
    """A working database after a successful nightly run (the session's, copied: see conftest)."""
    assert first_night.result.success
    return after_first_night


def _warehouse(paths) -> WarehouseResource:
    return WarehouseResource(
        overrides={
            "WAREHOUSE_DATA_DIR": str(paths.data_dir),
            "WAREHOUSE_SCALE": "0.01",
            "WAREHOUSE_DUCKDB_MEMORY_LIMIT": "2GB",
        }
    )


def _tamper(paths, *statements):
    with duckdb.connect(str(paths.working_db)) as con:
        for sql in statements:
            con.execute(sql)


def _dbt_test(paths, select: str) -> dict[str, str]:
    """Run `dbt test` on the working database; returns {test name: status}."""
    target = paths.data_dir / "dbt_target"
    subprocess.run(
        [
            str(dbt_child.executable()),
            "test",
            "--select",
            select,
            "--profiles-dir",
            str(DBT_PROJECT_DIR),
            "--target-path",
            str(target),
            "--vars",
            json.dumps({"working_db": str(paths.working_db), "scale": 0.01}),
        ],
        cwd=DBT_PROJECT_DIR,
        capture_output=True,
        text=True,
        check=False,
    )
    results = json.loads((target / "run_results.json").read_text())["results"]
    # the tests' results only: the project's on-run-start hook (Spark's raw views, nothing on DuckDB) runs too
    return {r["unique_id"].split(".")[2]: r["status"] for r in results if r["unique_id"].startswith("test.")}


def test_dbt_tests_pass_on_the_build_and_fail_on_crafted_rows(built):
    assert set(_dbt_test(built, "call_center_monthly").values()) == {"pass"}
    _tamper(
        built,
        # a duplicate grain row, answered > offered, a rate above 1, a null name and an unknown dial
        "insert into marts.call_center_monthly select * from marts.call_center_monthly limit 1",
        "update marts.call_center_monthly set calls_answered = calls_offered + 1, answer_rate = 1.2 "
        "where month = date '2019-05-01' and dial_code = 'nenkin_dial'",
        "update marts.call_center_monthly set dial_name_ja = null where month = date '2019-06-01' and dial_code = 'member_dial'",
        "update marts.call_center_monthly set dial_code = 'mystery_line' where month = date '2019-07-01' and dial_code = 'member_dial'",
    )
    status = _dbt_test(built, "call_center_monthly")
    assert status["unique_combination_of_columns_call_center_monthly_month__dial_code"] == "fail"
    assert status["expression_is_true_call_center_monthly_calls_answered_calls_offered"] == "fail"
    assert status["expression_is_true_call_center_monthly_answer_rate_between_0_and_1"] == "fail"
    assert status["not_null_call_center_monthly_dial_name_ja"] == "fail"
    assert status["relationships_call_center_monthly_dial_code__dial_code__ref_call_center_dials_"] == "fail"
    assert status["not_null_call_center_monthly_month"] == "pass"


def test_gx_check_passes_then_fails_on_a_bad_rate(built):
    check = build_gx_check(MONTHLY, "call_center_monthly")
    assert check(warehouse=_warehouse(built)).passed
    _tamper(
        built,
        "update marts.call_center_monthly set answer_rate = 1.5 where month = date '2020-04-01' and dial_code = 'appointment'",
    )
    result = check(warehouse=_warehouse(built))
    assert not result.passed
    assert result.metadata["failed_expectations"].value == 1
    assert "expect_column_values_to_be_between" in result.metadata["failures"].value


def test_gx_suite_rejects_a_frame_missing_a_contract_column(built):
    with duckdb.connect(str(built.working_db), read_only=True) as con:
        frame = con.sql("select * exclude (dial_name_ja) from marts.call_center_monthly").df()
    assert not validate_suite(frame, EXPECTATIONS_DIR / "call_center_monthly.json").success


def test_reconciliation_check_lists_the_failing_figures(built):
    check = build_reconciliation_check(RECONCILIATION, "call_center_reconciliation")
    ok = check(warehouse=_warehouse(built))
    assert (
        ok.passed and ok.metadata["figures_match"].value == 63 and ok.metadata["figures_known_discrepancy"].value == 1
    )
    _tamper(
        built,
        "update marts.call_center_reconciliation set recomputed_value = 99.9, status = 'mismatch' where figure_id = 'cc_fy2020_04_rate'",
    )
    failed = check(warehouse=_warehouse(built))
    assert not failed.passed
    assert "cc_fy2020_04_rate" in failed.metadata["mismatched_figures"].value


def test_reconciliation_model_flags_counts_at_the_wrong_scale(built):
    """The same data reconciled as if it were scale 0.02: every count misses, every rate still matches."""
    subprocess.run(
        [
            str(dbt_child.executable()),
            "build",
            "--select",
            "call_center_reconciliation",
            "--profiles-dir",
            str(DBT_PROJECT_DIR),
            "--target-path",
            str(built.data_dir / "dbt_target"),
            "--vars",
            json.dumps({"working_db": str(built.working_db), "scale": 0.02}),
        ],
        cwd=DBT_PROJECT_DIR,
        capture_output=True,
        check=False,
    )
    with duckdb.connect(str(built.working_db), read_only=True) as con:
        rows = dict(
            con.execute(
                "select unit, list_distinct(list(status)) from marts.call_center_reconciliation group by unit"
            ).fetchall()
        )
    assert sorted(rows["calls"]) == ["known_discrepancy", "mismatch"]
    assert rows["percent"] == ["match"]
