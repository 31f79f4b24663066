"""The night tells the truth: overdue deliveries, stale marking, quiet nights, rejected lines, load quality."""

from __future__ import annotations

import datetime as dt

import dagster as dg
import pytest

from config.kpis import KPIS
from tests.conftest import next_night, query
from tests.smtp import EVERY_SOURCE_STALE, RECIPIENT, text

pytestmark = pytest.mark.pipeline  # real processes: make test-fast leaves this file out

LINK = "http://warehouse.example:3000/runs/"


def _by_subject(mails) -> dict[str, str]:
    assert all(m["To"] == RECIPIENT for m in mails)
    return {m["Subject"]: text(m) for m in mails}


def _evaluation(result, asset: str, check: str):
    [evaluation] = [
        e
        for e in result.get_asset_check_evaluations()
        if e.asset_key.to_user_string() == asset and e.check_name == check
    ]
    return evaluation


def _versions(paths) -> list:
    return sorted((paths.published_dir / "versions").glob("*.duckdb"))


def _log(paths, columns: str) -> dict:
    rows = query(paths.published_db, f"select mart, {columns} from marts.publication_log order by mart")
    return {row[0]: row[1:] for row in rows}


def test_quiet_nights_overdue_extracts_and_stale_kpis(
    after_first_night, first_night, run_nightly, monkeypatch, send_alerts
):
    first = first_night.result  # the session's first night, copied with its instance (conftest)
    assert first.success
    assert send_alerts(first, expected=0) == []  # a good night sends nothing
    for spec in (s for kpi in KPIS for s in kpi.sources):
        assert _evaluation(first, f"raw/{spec.raw_table}", "freshness").passed
    assert len(_versions(after_first_night)) == len(KPIS)
    log = _log(after_first_night, "data_as_of, data_changed_at, built_at, is_stale, version_run_id")
    assert log["call_center_monthly"][0] == dt.date(2020, 10, 31)  # the last day of calls
    assert log["national_pension_payment_rate"][0] == dt.date(2020, 9, 30)  # the last processing month
    assert {row[3] for row in log.values()} == {False}

    # A quiet night: nothing new arrived, so nothing is rebuilt and no version is written.
    quiet = run_nightly()
    assert quiet.success
    assert len(_versions(after_first_night)) == len(KPIS)
    assert _log(after_first_night, "data_as_of, data_changed_at, built_at, is_stale, version_run_id") == log
    publish = {
        e.asset_key.to_user_string(): e.materialization.metadata for e in quiet.get_asset_materialization_events()
    }
    assert publish["published/call_center"]["new_version_written"].value is False

    # Ten days on, the October ledger is overdue (due 2020-11-10), and so are the calls and the employer files.
    monkeypatch.setenv("WAREHOUSE_BUSINESS_DATE", "2020-11-11")
    late = run_nightly()
    assert late.success  # freshness warns; by default a stale KPI still publishes its last good figures
    ledger = _evaluation(late, "raw/national_pension__premium_ledger", "freshness")
    assert not ledger.passed and ledger.severity == dg.AssetCheckSeverity.WARN
    assert (
        ledger.metadata["overdue"].value == "premium_ledger_202010.csv expected by 2020-11-10; latest delivered: 202009"
    )
    calls = _evaluation(late, "raw/call_center__calls", "freshness")
    assert calls.metadata["overdue"].value == "cdr_20201101.csv expected by 2020-11-04; latest delivered: 20201031"
    # no figure changed, but the published file must now say stale: one new version says it for every KPI
    assert len(_versions(after_first_night)) == len(KPIS) + 1
    stale = _log(after_first_night, "is_stale, stale_reason, data_changed_at, latest_attempt_passed")
    assert stale["national_pension_payment_rate"][:2] == (
        True,
        # every overdue source of the KPI, in its sources' order
        "premium_ledger_202010.csv expected by 2020-11-10; latest delivered: 202009; "
        "collection_actions_202010.csv expected by 2020-11-10; latest delivered: 202009; "
        "contractor_activity_202010.csv expected by 2020-11-10; latest delivered: 202009",
    )
    assert all(row[0] for row in stale.values())
    assert (
        stale["national_pension_payment_rate"][2] == log["national_pension_payment_rate"][1]
    )  # the data itself did not change
    assert query(after_first_night.published_db, "select count(*) from marts.national_pension_payment_rate")[0][0] > 0

    # One alert by mail per stale source, with what is overdue, what the KPI did, the run and its link.
    stale_mail = _by_subject(send_alerts(late, expected=len(EVERY_SOURCE_STALE)))
    assert sorted(stale_mail) == EVERY_SOURCE_STALE
    ledger_mail = stale_mail["[pension warehouse] source stale: national_pension/premium_ledger"]
    assert (
        "premium_ledger_YYYYMM.csv is overdue: premium_ledger_202010.csv expected by 2020-11-10; latest delivered: 202009"
        in ledger_mail
    )
    assert "national_pension is stale: it publishes its last figures marked is_stale" in ledger_mail
    assert f"Run: {late.run_id} (job nightly_refresh)" in ledger_mail and f"Open it: {LINK}{late.run_id}" in ledger_mail

    # Where staleness must block, the stale KPIs are held back instead (their last good version stays).
    monkeypatch.setenv("WAREHOUSE_STALE_BLOCKS", "true")
    blocked = run_nightly()
    assert not blocked.success
    failures = [e for e in blocked.all_events if e.event_type == dg.DagsterEventType.STEP_FAILURE]
    assert {e.step_key for e in failures} == {f"published__{kpi.name}" for kpi in KPIS}
    held = _log(after_first_night, "latest_attempt_passed, latest_attempt_failures, version_run_id")
    assert held["national_pension_payment_rate"][0] is False
    assert (
        "stale: premium_ledger_202010.csv expected by 2020-11-10; latest delivered: 202009"
        in (held["national_pension_payment_rate"][1])
    )
    assert held["national_pension_payment_rate"][2] == first.run_id

    # One mail per KPI held back, with the remedy; the sources, still overdue, are not mailed again, and
    # the run's failure is the held-back KPIs', said in their mails, not a mail of its own.
    blocked_mail = _by_subject(send_alerts(blocked, expected=len(KPIS)))
    assert sorted(blocked_mail) == sorted(f"[pension warehouse] KPI held back: {kpi.name}" for kpi in KPIS)
    held_mail = blocked_mail["[pension warehouse] KPI held back: national_pension"]
    assert "Remedy: deliver the overdue extract" in held_mail and f"Open it: {LINK}{blocked.run_id}" in held_mail
    assert (
        "  - publication refused: national_pension held back, stale (WAREHOUSE_STALE_BLOCKS=true): "
        "premium_ledger_202010.csv expected by 2020-11-10; latest delivered: 202009"
    ) in held_mail
    assert "keeps its last good version" in held_mail and f"Run: {blocked.run_id}" in held_mail

    # The sources on time again (here: the night moved back to the one after the last extracts): one mail
    # each that says so, the incident's end.
    monkeypatch.setenv("WAREHOUSE_STALE_BLOCKS", "false")
    monkeypatch.setenv("WAREHOUSE_BUSINESS_DATE", "2020-11-01")
    recovered = run_nightly()
    assert recovered.success
    back = _by_subject(send_alerts(recovered, expected=len(EVERY_SOURCE_STALE)))
    assert sorted(back) == sorted(s.replace("source stale:", "source current again:") for s in EVERY_SOURCE_STALE)


def _day_with_bad_lines(landing, bad_every: int) -> tuple[int, int]:
    """A new day of calls (2020-11-02, a Monday, from 2020-10-26) with every ``bad_every``-th call's
    wait time unreadable; returns (lines, bad lines)."""
    template = (landing / "cdr_20201026.csv").read_text(encoding="utf-8")
    header, *calls = template.replace("2020-10-26", "2020-11-02").replace("CC20201026", "CC20201102").splitlines()
    bad = 0
    for i in range(0, len(calls), bad_every):
        fields = calls[i].split(",")
        fields[5] = "4.2e1"  # wait_seconds: an integer's grammar has no exponent
        calls[i], bad = ",".join(fields), bad + 1
    (landing / "cdr_20201102.csv").write_text("\n".join([header, *calls]) + "\n", encoding="utf-8")
    return len(calls), bad


def test_rejected_lines_warn_hold_back_only_their_kpi_and_show_in_load_quality(
    after_first_night, first_night, run_nightly, send_alerts, monkeypatch
):
    first = first_night.result  # the session's first night, copied (conftest)
    assert first.success
    landing = after_first_night.landing_dir("call_center")

    # A new day with a tenth of its lines bad: far above the 1% allowed, so the call center is held back.
    lines, bad = _day_with_bad_lines(landing, bad_every=10)
    next_night(monkeypatch, after_first_night)
    second = run_nightly()
    assert not second.success
    rate = _evaluation(second, "raw/call_center__calls", "reject_rate")
    assert not rate.passed and rate.severity == dg.AssetCheckSeverity.ERROR
    assert rate.metadata["rows_rejected"].value == bad
    assert "cdr_20201102.csv" in rate.metadata["files_with_rejects"].value
    assert _evaluation(second, "raw/call_center__calls", "volume").passed  # the day has its usual size
    published = {e.asset_key.to_user_string() for e in second.get_asset_materialization_events()}
    assert "published/call_center" not in published and "published/national_pension" in published
    log = _log(after_first_night, "version_run_id, latest_attempt_passed, latest_attempt_failures")
    assert log["call_center_monthly"][:2] == (first.run_id, False)
    assert "raw/call_center__calls: reject_rate" in log["call_center_monthly"][2]
    assert log["national_pension_payment_rate"][1] is True
    assert query(
        after_first_night.published_db, "select count(*) from marts.call_center_monthly where month = date '2020-11-01'"
    ) == [(0,)]

    # By mail, one incident, one mail: the call center held back, the failing check, its figures and the remedy.
    mail = _by_subject(send_alerts(second, expected=1))
    assert set(mail) == {"[pension warehouse] KPI held back: call_center"}
    held = mail["[pension warehouse] KPI held back: call_center"]
    assert "  - failed check raw/call_center__calls: reject_rate" in held
    assert "Remedy: the rejected lines and their reasons are in raw.rejects" in held
    assert "launch call_center_refresh with the tag warehouse/accept-rejects=true" in held
    assert f"    rows_rejected: {bad}\n" in held and "| cdr_20201102.csv | 1 |" in held
    assert f"Open it: {LINK}{second.run_id}" in held and "Owner: team:call-center-analytics" in held
    assert "4.2e1" not in held  # figures and file names, never a line of data

    # The same day re-delivered with one bad line: it warns, and publishes without that line.
    _day_with_bad_lines(landing, bad_every=lines)
    third = run_nightly()
    assert third.success
    warned = _evaluation(third, "raw/call_center__calls", "reject_rate")
    assert not warned.passed and warned.severity == dg.AssetCheckSeverity.WARN
    assert warned.metadata["rows_rejected"].value == 1
    november = query(
        after_first_night.published_db,
        "select sum(calls_offered) from marts.call_center_monthly where month = date '2020-11-01'",
    )
    assert november == [(lines - 1,)]

    # marts.load_quality, in the published file: one row per loaded file version, balanced, reasons counted.
    quality = query(
        after_first_night.published_db,
        """
        select file_name, file_version, rows_read, rows_loaded, rows_rejected, reject_reasons, is_current
        from marts.load_quality where file_name = 'cdr_20201102.csv' order by file_version""",
    )
    assert [(q[1], q[2], q[3], q[4], q[6]) for q in quality] == [
        (1, lines, lines - bad, bad, False),
        (2, lines, lines - 1, 1, True),
    ]
    assert quality[0][5] == [{"reason": "wait_seconds: cannot parse as INTEGER", "lines": bad}]
    assert "4.2e1" not in str(quality)  # a reason counts kinds, and never quotes a line
    unbalanced = query(
        after_first_night.published_db,
        "select count(*) from marts.load_quality where rows_read <> rows_loaded + rows_rejected",
    )
    assert unbalanced == [(0,)]
    loads = query(after_first_night.published_db, "select count(*), count(distinct load_id) from marts.load_quality")[0]
    # every file version the night loaded, each once: calls (and two of the night), ledgers, actions, the
    # contractor's reports, employer files
    ledgers = len(list(after_first_night.landing_dir("national_pension").glob("premium_ledger_*.csv")))
    assert 100 < ledgers <= 126  # processing months April 2010 to September 2020 that changed a record
    assert loads[0] == loads[1] == 368 + 1 + 1 + ledgers + 18 + 6 + 19
