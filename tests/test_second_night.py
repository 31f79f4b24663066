"""The second night, after the session's first (conftest ``after_first_night``): only what is new is
loaded and rebuilt, and a new monthly ledger supersedes the earlier prints of its records."""

import pytest

from orchestration.lib.rebuilds import REBUILD_TAG
from tests.conftest import next_night, query

pytestmark = pytest.mark.pipeline  # real processes: make test-fast leaves this file out


def _published(paths, sql):
    return query(paths.published_db, sql)


def test_second_night_loads_only_the_new_file_and_rebuilds_only_its_kpi(
    after_first_night, first_night, run_nightly, defs, instance, monkeypatch
):
    first = first_night.result  # the session's first night, copied (conftest)
    assert first.success
    landing = after_first_night.landing_dir("call_center")
    # A new day arrives (November is outside the report's window, so figures still reconcile).
    template = (landing / "cdr_20201030.csv").read_text(encoding="utf-8")
    (landing / "cdr_20201102.csv").write_text(
        template.replace("2020-10-30", "2020-11-02").replace("CC20201030", "CC20201102"), encoding="utf-8"
    )
    next_night(monkeypatch, after_first_night)  # 3 November
    second = run_nightly()
    assert second.success
    metadata = {
        e.asset_key.to_user_string(): e.materialization.metadata for e in second.get_asset_materialization_events()
    }
    assert metadata["raw/call_center__calls"]["files_loaded"].value == 1
    assert metadata["raw/call_center__calls"]["files_unchanged"].value == len(list(landing.glob("cdr_*.csv"))) - 1
    november = _published(
        after_first_night, "select sum(calls_offered) from marts.call_center_monthly where month = date '2020-11-01'"
    )[0][0]
    assert november == template.count("\n") - 1

    # Only the call center had anything new: the other KPIs' tables stand, unbuilt...
    assert "rebuilt" not in metadata["marts/call_center_monthly"]
    for mart in (
        "marts/national_pension_payment_rate",
        "marts/employer_collection",
        "intermediate/int_national_pension__latest_prints",
    ):
        assert metadata[mart]["rebuilt"].value is False
        assert metadata[mart]["dagster/row_count"].value > 0
    evaluations = second.get_asset_check_evaluations()
    evaluated = {(e.asset_key.to_user_string(), e.check_name) for e in evaluations}
    ran = {(e.asset_key.to_user_string(), e.check_name) for e in evaluations if "rebuilt" not in e.metadata}
    tested = {asset.split("/")[1].split("__")[0] for asset, _ in ran if asset.startswith(("staging/", "intermediate/"))}
    assert tested == {"stg_call_center", "int_call_center"}  # only the rebuilt KPI's dbt tests ran
    # the others say why they did not, and whose result stands
    carried = [e for e in evaluations if "rebuilt" in e.metadata]
    assert carried and {e.asset_key.to_user_string().split("/")[1].split("_")[0] for e in carried} >= {"np", "employer"}
    for e in carried:
        assert e.passed and e.metadata["result_of_run"].value == first.run_id and e.metadata["found_in_that_run"].value
        assert e.description.startswith(f"Not re-run: nothing it reads changed since run {first.run_id}")
    # ...but every KPI's expectations and reconciliation ran, and every KPI published
    assert {
        ("marts/national_pension_payment_rate", "gx_national_pension_payment_rate"),
        ("marts/employer_reconciliation", "published_figures_reproduced"),
    } <= evaluated
    assert {f"published/{kpi}" for kpi in ("call_center", "national_pension", "employer")} <= set(metadata)

    forced = defs.resolve_job_def("nightly_refresh").execute_in_process(instance=instance, tags={REBUILD_TAG: "true"})
    assert forced.success
    assert not [e for e in forced.get_asset_materialization_events() if "rebuilt" in e.materialization.metadata]


def test_a_new_monthly_ledger_supersedes_earlier_prints(after_first_night, first_night, run_nightly):
    assert first_night.result.success  # the first night: the session's, copied (conftest)
    landing = after_first_night.landing_dir("national_pension")
    # October's processing month reprints some FY2020 records with a September premium paid on 15 October.
    september = (landing / "premium_ledger_202009.csv").read_bytes().decode("cp932").split("\r\n")
    october, paid = [september[0]], 0
    fy2020 = [line for line in september[1:] if line.split(",")[1:2] == ["令和２年度"]]
    for line in fy2020[:200]:
        fields = line.split(",")
        fields[3] = "令和２年１０月"
        # September's status, payment date and channel (the monthly group is of three fields)
        if fields[19] == "１" and fields[20] == "":
            fields[20], fields[21], paid = "令和２年１０月１５日", "１", paid + 1
        october.append(",".join(fields))
    (landing / "premium_ledger_202010.csv").write_bytes(("\r\n".join(october) + "\r\n").encode("cp932"))
    assert paid > 50

    second = run_nightly()
    assert second.success
    [ingest] = [
        e
        for e in second.get_asset_materialization_events()
        if e.asset_key.to_user_string() == "raw/national_pension__premium_ledger"
    ]
    assert ingest.materialization.metadata["files_loaded"].value == 1
    assert ingest.materialization.metadata["rows_loaded"].value == 200
    paid_by = dict(
        _published(
            after_first_night,
            """
        select as_of::varchar, sum(months_paid) from marts.national_pension_payment_rate
        where premium_fiscal_year = 2020 and as_of >= date '2020-09-30' group by 1""",
        )
    )
    # Only the reprinted September premiums were paid in October (the demo data ends on 30 September).
    assert paid_by["2020-10-31"] - paid_by["2020-09-30"] == paid
    # The earlier prints stay in raw; staging reads one row per person and premium year.
    assert query(
        after_first_night.working_db,
        "select count(*) from raw.national_pension__premium_ledger where processing_month = date '2020-10-01'",
    ) == [(200,)]
    statuses = dict(
        _published(after_first_night, "select status, count(*) from marts.national_pension_reconciliation group by 1")
    )
    # 221 payment figures (the curves, the collection table whole, Okinawa) and the 28 of the action plan
    assert statuses == {"match": 249}
