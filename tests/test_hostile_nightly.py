"""The real nightly job on hostile deliveries: nothing personal leaks, refused files hold nothing back, a collapse does."""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg
import pytest

from tests import hostile
from tests.conftest import query

pytestmark = pytest.mark.pipeline  # real processes: make test-fast leaves this file out

KPI_MARTS = {
    "call_center": ("call_center_monthly", "call_center_reconciliation"),
    "national_pension": (
        "national_pension_payment_rate",
        "national_pension_insured_persons",
        "national_pension_reconciliation",
    ),
    "employer": ("employer_collection", "employer_delinquent_establishments", "employer_reconciliation"),
}


def _published_marts(paths) -> dict[str, list[tuple]]:
    if not paths.published_db.exists():
        return {}
    return {
        m: query(paths.published_db, f"select * from marts.{m} order by all") for ms in KPI_MARTS.values() for m in ms
    }


def _assert_published_only_with_every_blocking_check_passing(result, before, after) -> None:
    """A KPI whose publish step ran passed every blocking check on its assets; any other KPI's marts did not move."""
    published = {
        e.asset_key.path[1] for e in result.get_asset_materialization_events() if e.asset_key.path[0] == "published"
    }
    failed_blocking = [
        e for e in result.get_asset_check_evaluations() if not e.passed and e.severity == dg.AssetCheckSeverity.ERROR
    ]
    for kpi, marts in KPI_MARTS.items():
        if kpi in published:
            assert not [
                e
                for e in failed_blocking
                if kpi in e.asset_key.to_user_string() or any(m in e.asset_key.to_user_string() for m in marts)
            ]
        else:
            for mart in marts:
                assert after.get(mart) == before.get(mart), f"{mart} moved while {kpi} was held back"


def _numbers_of_first_records(path, count=50) -> list[str]:
    lines = path.read_bytes().decode("cp932").split("\r\n")[1 : count + 1]
    return sorted({line.split(",")[0] for line in lines if line})


def test_nightly_with_hostile_deliveries(landed, run_nightly, instance, monkeypatch):
    np_landing = landed.landing_dir("national_pension")
    cc_landing = landed.landing_dir("call_center")
    september = (np_landing / "premium_ledger_202009.csv").read_bytes()
    numbers = _numbers_of_first_records(np_landing / "premium_ledger_202009.csv")
    header, rest = september.split(b"\r\n", 1)
    (np_landing / "premium_ledger_202010.csv").write_bytes(rest[:200_000].rsplit(b"\r\n", 1)[0] + b"\r\n")  # no header
    (np_landing / "premium_ledger_202011.csv").write_bytes(
        september[:100_000].replace(b"\r\n", b"\r")
    )  # CR-only line ends
    (np_landing / "premium_ledger_202012.csv").write_bytes(
        b"\xef\xbb\xbf" + september[:50_000].decode("cp932", "ignore").encode("utf-8")
    )
    (cc_landing / "cdr_20201102.csv").write_bytes(b"")  # zero bytes
    (cc_landing / "cdr_20201103.csv").symlink_to("/etc/passwd")
    october = (
        (cc_landing / "cdr_20201026.csv")
        .read_bytes()
        .replace(b"2020-10-26", b"2020-11-04")
        .replace(b"CC20201026", b"CC20201104")
    )
    (cc_landing / "cdr_20201104.csv").write_bytes(october.rstrip(b"\n") + b"\r\n\r\n")  # mixed line ends: loads exactly
    (cc_landing / "CDR_20201105.csv").write_bytes(october)
    (cc_landing / "cdr_20201106.csv.gz").write_bytes(b"\x1f\x8b")
    (cc_landing / "incoming").mkdir()
    # The night of 1 December: every file above is of an earlier period; this one is from the future.
    monkeypatch.setenv("WAREHOUSE_BUSINESS_DATE", "2020-12-01")
    (cc_landing / "cdr_20201215.csv").write_bytes(october.replace(b"2020-11-04", b"2020-12-15"))

    before = _published_marts(landed)
    night1 = run_nightly()
    after = _published_marts(landed)
    assert night1.success
    _assert_published_only_with_every_blocking_check_passing(night1, before, after)
    published = {
        e.asset_key.path[1] for e in night1.get_asset_materialization_events() if e.asset_key.path[0] == "published"
    }
    assert published == set(KPI_MARTS)  # refused files held nothing back
    quarantine = dict(
        query(landed.working_db, "select file_name, reason from raw.quarantine where resolved_at is null")
    )
    assert set(quarantine) == {
        "premium_ledger_202010.csv",
        "premium_ledger_202011.csv",
        "premium_ledger_202012.csv",
        "cdr_20201102.csv",
        "cdr_20201103.csv",
        "CDR_20201105.csv",
        "cdr_20201106.csv.gz",
        "cdr_20201215.csv",
        "incoming",
    }
    assert "UTF-8 with a byte-order mark" in quarantine["premium_ledger_202012.csv"]
    assert quarantine["cdr_20201215.csv"].startswith("its period begins 2020-12-15, after the business date 2020-12-01")
    warned = {
        (e.asset_key.to_user_string(), e.check_name) for e in night1.get_asset_check_evaluations() if not e.passed
    }
    assert ("raw/call_center__calls", "no_quarantined_files") in warned
    assert ("raw/national_pension__premium_ledger", "no_quarantined_files") in warned
    november = query(
        landed.published_db, "select sum(calls_offered) from marts.call_center_monthly where month = date '2020-11-01'"
    )
    assert november == [(october.count(b"\n") - 1,)]

    # Nothing personal in any log or file: the header-less ledger's first records, the /etc/passwd link.
    dagster_home = instance.root_directory
    assert numbers and hostile.numbers_in_files(Path(dagster_home), numbers, skip=()) == []
    assert hostile.numbers_outside_raw(landed.data_dir, numbers) == []
    assert hostile.numbers_in_database(landed.working_db, numbers) == []
    for version in (landed.published_dir / "versions").glob("*.duckdb"):
        assert hostile.numbers_in_database(version, numbers) == []
    with open("/etc/passwd", "rb") as passwd:
        passwd_line = passwd.readline().strip()
    assert hostile.numbers_in_files(Path(dagster_home), [passwd_line.decode()], skip=()) == []

    # Night 2, nothing new: the zero-byte file stays quarantined and still holds nothing back.
    night2 = run_nightly()
    assert night2.success
    assert {
        e.asset_key.path[1] for e in night2.get_asset_materialization_events() if e.asset_key.path[0] == "published"
    } == set(KPI_MARTS)

    # Night 3: a day re-delivered cut to 10 calls. Every row is valid; its volume holds the call center back.
    path = cc_landing / "cdr_20200415.csv"
    lines = path.read_bytes().split(b"\n")
    path.write_bytes(b"\n".join(lines[:11]) + b"\n")
    before = _published_marts(landed)
    night3 = run_nightly()
    after = _published_marts(landed)
    _assert_published_only_with_every_blocking_check_passing(night3, before, after)
    [check] = [
        e
        for e in night3.get_asset_check_evaluations()
        if e.check_name == "volume" and "call_center" in e.asset_key.to_user_string()
    ]
    assert not check.passed and "cdr_20200415.csv v2: 10 rows" in check.metadata["collapsed_deliveries"].value
    published = {
        e.asset_key.path[1] for e in night3.get_asset_materialization_events() if e.asset_key.path[0] == "published"
    }
    assert published == {"national_pension", "employer"}
    log = dict(query(landed.published_db, "select mart, latest_attempt_failures from marts.publication_log"))
    assert "raw/call_center__calls: volume" in log["call_center_monthly"]
    # still held back the next night: the collapse is judged until the KPI publishes again
    night4 = run_nightly()
    assert "call_center" not in {
        e.asset_key.path[1] for e in night4.get_asset_materialization_events() if e.asset_key.path[0] == "published"
    }
    assert os.path.exists(landed.published_db)
