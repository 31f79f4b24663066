"""The real nightly_refresh job, end to end, on generated extracts in a temporary directory."""

import duckdb
import polars as pl
import pytest

from demo.call_center import Figures
from demo.national_pension.targets import Figures as NpFigures
from tests.conftest import SCALE, query

pytestmark = pytest.mark.pipeline  # real processes: make test-fast leaves this file out

CONTRACT = {
    "month": "DATE",
    "fiscal_year": "INTEGER",
    "dial_code": "VARCHAR",
    "dial_name_ja": "VARCHAR",
    "calls_offered": "BIGINT",
    "calls_answered": "BIGINT",
    "answer_rate": "DOUBLE",
}


def _published(paths, sql):
    return query(paths.published_db, sql)


def _assert_types(paths, mart: str, contract: dict[str, str]) -> None:
    """The published mart's columns have the contract's types."""
    columns = dict(
        _published(
            paths,
            "select column_name, data_type from information_schema.columns "
            f"where table_schema = 'marts' and table_name = '{mart}'",
        )
    )
    for name, data_type in contract.items():
        assert columns[name] == data_type, name


def test_nightly_refresh_publishes_every_kpi(after_first_night, first_night):
    result = first_night.result  # the session's first night, copied (conftest)
    assert result.success
    assert all(e.passed for e in result.get_asset_check_evaluations() if e.severity.value == "ERROR")
    materialized = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    assert {"raw/call_center__calls", "marts/call_center_monthly", "published/call_center"} <= materialized
    assert {
        "raw/national_pension__premium_ledger",
        "marts/national_pension_payment_rate",
        "published/national_pension",
    } <= materialized
    _assert_call_center_published(after_first_night)
    _assert_payment_rate_published(after_first_night)
    _assert_employer_published(after_first_night)

    log = _published(
        after_first_night,
        "select mart, checks_passed, latest_attempt_passed, version_run_id from marts.publication_log order by mart",
    )
    assert log == [
        (mart, True, True, result.run_id)
        for mart in (
            "call_center_monthly",
            "call_center_reconciliation",
            "employer_collection",
            "employer_delinquent_establishments",
            "employer_reconciliation",
            "national_pension_collection_actions",
            "national_pension_contractor_activity",
            "national_pension_coverage_and_collection",
            "national_pension_coverage_and_collection_by_prefecture",
            "national_pension_insured_persons",
            "national_pension_payment_rate",
            "national_pension_reconciliation",
        )
    ]


def _assert_call_center_published(landed):
    assert landed.published_db.is_symlink()
    _assert_types(landed, "call_center_monthly", CONTRACT)
    assert _published(
        landed,
        "select count(*) from (select month, dial_code from marts.call_center_monthly group by all having count(*) > 1)",
    ) == [(0,)]
    names = dict(_published(landed, "select distinct dial_code, dial_name_ja from marts.call_center_monthly"))
    assert names["appointment"] == "予約受付専用ダイヤル" and names["benefit_dial"] == "給付金専用ダイヤル"

    # Every published rate, recomputed here from the published mart independently of the
    # pipeline's own reconciliation model.
    with duckdb.connect(str(landed.published_db), read_only=True) as con:
        monthly = con.sql("select * from marts.call_center_monthly").pl()
    for r in Figures.load().frame.filter(pl.col("measure") == "answer_rate").iter_rows(named=True):
        rows = monthly.filter(pl.col("month").is_between(r["period_start"], r["period_end"]))
        if r["dial_code"]:
            rows = rows.filter(pl.col("dial_code") == r["dial_code"])
        rate = rows["calls_answered"].sum() / rows["calls_offered"].sum()
        assert round(100 * rate, 1) == r["published_value"], r["figure_id"]
    offered = monthly.filter(pl.col("fiscal_year") == 2019)["calls_offered"].sum()
    assert abs(offered - 7_029_030 * SCALE) <= 7 * 2

    statuses = dict(_published(landed, "select status, count(*) from marts.call_center_reconciliation group by 1"))
    assert statuses == {"match": 63, "known_discrepancy": 1}


NP_CONTRACT = {
    "premium_fiscal_year": "INTEGER",
    "as_of": "DATE",
    "prefecture_code": "VARCHAR",
    "prefecture_name_ja": "VARCHAR",
    "months_due": "BIGINT",
    "months_paid": "BIGINT",
    "payment_rate": "DOUBLE",
}


def _assert_payment_rate_published(landed):
    _assert_types(landed, "national_pension_payment_rate", NP_CONTRACT)
    codes = _published(landed, "select distinct prefecture_code from marts.national_pension_payment_rate order by 1")
    assert [c for (c,) in codes] == [f"{i:02d}" for i in range(1, 48)]
    assert _published(
        landed,
        "select prefecture_name_ja from marts.national_pension_payment_rate where prefecture_code = '47' limit 1",
    ) == [("沖縄県",)]
    # as_of spans the May after the premium year starts to the end of FY+2 (or the data's end).
    spans = _published(
        landed,
        "select premium_fiscal_year, min(as_of)::varchar, max(as_of)::varchar "
        "from marts.national_pension_payment_rate group by 1 order by 1",
    )
    assert spans == [(fy, f"{fy}-05-31", min(f"{fy + 3}-03-31", "2020-09-30")) for fy in range(2010, 2021)]
    # Every published rate and count, recomputed here from the published marts, independently
    # of the pipeline's own reconciliation model.
    with duckdb.connect(str(landed.published_db), read_only=True) as con:
        rates = con.sql("select * from marts.national_pension_payment_rate").pl()
        insured = con.sql("select * from marts.national_pension_insured_persons").pl()

    def rate(fy, as_of, prefecture):
        rows = rates.filter((pl.col("premium_fiscal_year") == fy) & (pl.col("as_of") == as_of))
        if prefecture:
            rows = rows.filter(pl.col("prefecture_code") == prefecture)
        return 100 * rows["months_paid"].sum() / rows["months_due"].sum(), rows["months_paid"].sum()

    for r in NpFigures.load().frame.iter_rows(named=True):
        fy, as_of, pref, published = r["premium_fiscal_year"], r["as_of"], r["prefecture_code"], r["published_value"]
        if r["measure"] == "payment_rate":
            assert abs(rate(fy, as_of, pref)[0] - published) <= 0.5 * 10 ** -r["decimals"], r["figure_id"]
        elif r["measure"] == "payment_rate_points":
            points = rate(fy, as_of, pref)[0] - rate(r["reference_fiscal_year"], r["reference_as_of"], pref)[0]
            assert round(points, r["decimals"]) == published, r["figure_id"]
        elif r["measure"] == "months_paid":
            assert abs(rate(fy, as_of, pref)[1] - published * SCALE) <= 0.5, r["figure_id"]
        elif r["measure"] == "insured_persons":  # the table's other rows: the reconciliation (249 match, below)
            assert abs(insured.filter(pl.col("as_of") == as_of)["insured_persons"].sum() - published * SCALE) <= 0.5, r[
                "figure_id"
            ]
    statuses = dict(_published(landed, "select status, count(*) from marts.national_pension_reconciliation group by 1"))
    # 221 payment figures (the curves, the collection table whole, Okinawa) and the 28 of the action plan
    assert statuses == {"match": 249}


EMPLOYER_CONTRACT = {
    "as_of": "DATE",
    "insurance_name_ja": "VARCHAR",
    "determined_yen": "BIGINT",
    "collected_yen": "BIGINT",
    "written_off_yen": "BIGINT",
    "arrears_yen": "BIGINT",
    "deferred_yen": "BIGINT",
    "collection_rate": "DOUBLE",
    "collection_rate_excl_deferral": "DOUBLE",
}


def _assert_employer_published(landed):
    _assert_types(landed, "employer_collection", EMPLOYER_CONTRACT)
    columns = {
        c
        for (c,) in _published(
            landed,
            "select column_name from information_schema.columns where table_name = 'employer_delinquent_establishments'",
        )
    }
    assert {"as_of", "covered_establishments", "delinquent_establishments", "delinquent_share"} <= columns
    # Rates come out of the yen amounts; recomputed here from the published mart, not the pipeline's reconciliation.
    rows = {
        (as_of.isoformat(), name): (determined, collected, written_off, arrears, deferred)
        for as_of, name, determined, collected, written_off, arrears, deferred in _published(
            landed,
            "select as_of, insurance_name_ja, determined_yen, collected_yen, written_off_yen, arrears_yen, deferred_yen "
            "from marts.employer_collection",
        )
    }
    determined, collected, written_off, arrears, deferred = rows[("2020-09-30", "厚生年金保険")]
    assert arrears == determined - collected - written_off
    assert (
        round(100 * collected / determined, 1) == 96.1 and round(100 * collected / (determined - deferred), 1) == 97.9
    )
    assert (
        abs(arrears / 1e8 - 6368 * SCALE) <= 0.5 * SCALE
        and abs((arrears - deferred) / 1e8 - 3325 * SCALE) <= 0.5 * SCALE
    )
    determined, collected, *_ = rows[("2020-09-30", "船員保険")]
    assert round(100 * collected / determined, 1) == 91.8  # not 176/192 = 91.7: the yen amounts decide
    shares = dict(
        _published(
            landed,
            "select as_of::varchar, round(100 * delinquent_share, 1) from marts.employer_delinquent_establishments",
        )
    )
    assert shares["2020-03-31"] == 5.8 and shares["2020-09-30"] == 6.4
    statuses = dict(_published(landed, "select status, count(*) from marts.employer_reconciliation group by 1"))
    assert statuses == {"match": 47}
