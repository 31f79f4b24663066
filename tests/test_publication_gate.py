"""Write-audit-publish in the nightly job: a failing gate refuses publication of its KPI only;
readers are never disturbed. ``tests/test_publication.py`` tests ``publish`` itself."""

import hashlib

import duckdb
import pytest

from config.kpis import KPIS
from tests.conftest import next_night, query

pytestmark = pytest.mark.pipeline  # real nightly runs: make test-fast leaves this file out


def _fingerprint(paths):
    target = paths.published_db.resolve()
    return target, hashlib.sha256(target.read_bytes()).hexdigest()


def _check(result, name, asset="marts/call_center_reconciliation"):
    [evaluation] = [
        e
        for e in result.get_asset_check_evaluations()
        if e.check_name == name and e.asset_key.to_user_string() == asset
    ]
    return evaluation


def _assert_only_call_center_held_back(paths, before, first, second):
    """The old file is untouched; the new one carries the old call-center marts, and records that
    they were held back; the payment-rate marts, unchanged, keep their version and pass."""
    old_file, old_digest = before
    assert hashlib.sha256(old_file.read_bytes()).hexdigest() == old_digest
    assert paths.published_db.resolve() != old_file
    log = {
        mart: (version, passed)
        for mart, version, passed in query(
            paths.published_db, "select mart, version_run_id, latest_attempt_passed from marts.publication_log"
        )
    }
    assert log["call_center_monthly"] == (first.run_id, False)
    assert log["national_pension_payment_rate"] == (first.run_id, True)
    sql = "select * from marts.call_center_monthly order by month, dial_code"
    assert query(paths.published_db, sql) == query(old_file, sql)


def _redeliver_first_half(path):
    """A corrected re-delivery of ``path`` that lost the second half of its lines."""
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join(lines[: len(lines) // 2]) + "\n", encoding="utf-8")


def test_failing_reconciliation_refuses_publication_and_keeps_the_old_file(after_first_night, first_night, run_nightly):
    first = first_night.result  # the session's first night, copied (conftest)
    assert first.success
    # The report's own inconsistency passes, said in the check's description; a mismatch fails (below).
    known = _check(first, "published_figures_reproduced")
    assert known.passed and known.metadata["figures_known_discrepancy"].value == 1
    assert "known discrepancy cc_fy2019_apr_oct_offered_summary: published 7,029,027" in known.description
    assert "its own monthly table totals 7,029,030" in known.description
    before = _fingerprint(after_first_night)
    # A corrected re-delivery that drops half of a day's calls: the April figures no longer reconcile.
    path = after_first_night.landing_dir("call_center") / "cdr_20200415.csv"
    _redeliver_first_half(path)

    result = run_nightly()
    assert not result.success
    failed = _check(result, "published_figures_reproduced")
    assert not failed.passed
    assert "cc_fy2020_04_offered" in failed.metadata["mismatched_figures"].value
    assert "MISMATCH: " in failed.description and "cc_fy2020_04_offered" in failed.description
    published = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    assert "published/call_center" not in published and "published/national_pension" in published
    _assert_only_call_center_held_back(after_first_night, before, first, result)
    # night 1: one version per KPI; night 2: one, that records the call center held back (nothing else changed)
    assert len(list((after_first_night.published_dir / "versions").glob("*.duckdb"))) == len(KPIS) + 1


def test_failing_dbt_test_refuses_publication(after_first_night, first_night, run_nightly, monkeypatch):
    first = first_night.result  # the session's first night, copied (conftest)
    assert first.success
    before = _fingerprint(after_first_night)
    # A day of a usual size (its volume passes), one of whose calls reached a dial nobody declared.
    landing = after_first_night.landing_dir("call_center")
    day = (
        (landing / "cdr_20201026.csv")
        .read_text(encoding="utf-8")
        .replace("2020-10-26", "2020-11-02")
        .replace("CC20201026", "CC20201102")
    )
    extra = landing / "cdr_20201102.csv"
    extra.write_text(day + "X1,mystery_line,2020-11-02T10:00:00+09:00,false,,10,0,caller_abandoned\n", encoding="utf-8")
    next_night(monkeypatch, after_first_night)
    result = run_nightly()
    assert not result.success
    assert not _check(
        result,
        "relationships_stg_call_center__calls_dial_code__dial_code__ref_call_center_dials_",
        "staging/stg_call_center__calls",
    ).passed
    _assert_only_call_center_held_back(after_first_night, before, first, result)


def test_nothing_passes_on_the_first_night_so_nothing_is_published(landed, run_nightly):
    for path in landed.landing_dir("call_center").glob("cdr_201904*.csv"):
        path.unlink()
    for path in landed.landing_dir("national_pension").glob("premium_ledger_2019*.csv"):
        path.unlink()
    for path in landed.landing_dir("employer").glob("contributions_2019*.tsv"):
        path.unlink()
    assert not run_nightly().success
    assert not landed.published_db.exists()


def test_open_reader_neither_blocks_nor_sees_a_refresh(after_first_night, first_night, run_nightly, monkeypatch):
    assert first_night.result.success  # the first night: the session's, copied (conftest)
    analyst = duckdb.connect(str(after_first_night.published_db), read_only=True)
    try:
        before = analyst.execute("select sum(calls_offered) from marts.call_center_monthly").fetchone()[0]
        landing = after_first_night.landing_dir("call_center")
        template = (landing / "cdr_20201030.csv").read_text(encoding="utf-8")
        (landing / "cdr_20201102.csv").write_text(
            template.replace("2020-10-30", "2020-11-02").replace("CC20201030", "CC20201102"), encoding="utf-8"
        )
        next_night(monkeypatch, after_first_night)
        assert run_nightly().success
        assert analyst.execute("select sum(calls_offered) from marts.call_center_monthly").fetchone()[0] == before
    finally:
        analyst.close()
    with duckdb.connect(str(after_first_night.published_db), read_only=True) as fresh:
        after = fresh.execute("select sum(calls_offered) from marts.call_center_monthly").fetchone()[0]
    assert after == before + template.count("\n") - 1


def test_failing_collection_check_holds_back_only_the_employer_marts(after_first_night, first_night, run_nightly):
    first = first_night.result  # the session's first night, copied (conftest)
    assert first.success
    before = _fingerprint(after_first_night)
    # A corrected re-delivery of September 2020's contributions that lost half its records:
    # the September figures no longer reconcile.
    path = after_first_night.landing_dir("employer") / "contributions_202009.tsv"
    _redeliver_first_half(path)

    second = run_nightly()
    assert not second.success
    failed = _check(second, "published_figures_reproduced", "marts/employer_reconciliation")
    assert not failed.passed and "ec_pension_202009_determined" in failed.metadata["mismatched_figures"].value
    published = {e.asset_key.to_user_string() for e in second.get_asset_materialization_events()}
    assert {"published/call_center", "published/national_pension"} <= published
    assert "published/employer" not in published

    log = {
        mart: (version, passed, failures)
        for mart, version, passed, failures in query(
            after_first_night.published_db,
            "select mart, version_run_id, latest_attempt_passed, latest_attempt_failures from marts.publication_log",
        )
    }
    for mart in ("employer_collection", "employer_delinquent_establishments", "employer_reconciliation"):
        version, passed, failures = log[mart]
        assert (version, passed) == (first.run_id, False), mart
        assert "marts/employer_reconciliation: published_figures_reproduced" in failures
    for mart in (
        "call_center_monthly",
        "call_center_reconciliation",
        "national_pension_payment_rate",
        "national_pension_insured_persons",
        "national_pension_reconciliation",
    ):
        assert log[mart] == (first.run_id, True, None), mart  # unchanged: still the first night's version
    # Analysts still read the last good collection figures; the old file was never touched.
    sql = "select * from marts.employer_collection order by as_of, insurance_name_ja"
    assert query(after_first_night.published_db, sql) == query(before[0], sql)
    assert hashlib.sha256(before[0].read_bytes()).hexdigest() == before[1]


@pytest.mark.spark
def test_a_failing_check_holds_the_kpi_back_on_spark_too(after_first_night, first_night, run_nightly, monkeypatch):
    """The gate does not depend on the engine: the second night built on Spark (from the lake,
    its metastore new), the same mismatch holds the call center back and the rest is published."""
    first = first_night.result  # the session's first night (DuckDB), copied (conftest)
    monkeypatch.setenv("WAREHOUSE_ENGINE", "spark")
    monkeypatch.setenv("WAREHOUSE_SPARK_DRIVER_MEMORY", "2g")
    before = _fingerprint(after_first_night)
    _redeliver_first_half(after_first_night.landing_dir("call_center") / "cdr_20200415.csv")

    result = run_nightly()
    assert not result.success
    failed = _check(result, "published_figures_reproduced")
    assert not failed.passed and "cc_fy2020_04_offered" in failed.metadata["mismatched_figures"].value
    published = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    assert {"published/national_pension", "published/employer"} <= published
    assert "published/call_center" not in published
    _assert_only_call_center_held_back(after_first_night, before, first, result)
    # Spark built them: every KPI's marts are in its warehouse, the mismatch included
    warehouse = after_first_night.spark_warehouse / "marts.db"
    for mart in ("call_center_reconciliation", "national_pension_payment_rate", "employer_collection"):
        assert any((warehouse / mart).rglob("*.parquet")), mart
    with duckdb.connect() as con:
        mismatched = con.execute(
            "select status from read_parquet(?) where figure_id = 'cc_fy2020_04_offered'",
            [str(warehouse / "call_center_reconciliation" / "*.parquet")],
        ).fetchall()
    assert mismatched == [("mismatch",)]
