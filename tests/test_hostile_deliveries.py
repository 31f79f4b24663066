"""The second hostile round's families, one test each, on the loader itself: a byte-order mark's
offsets, rows from the future, files settled too early, identical bytes of two periods, a
same-size correction, a late register. Each failed before its fix."""

from __future__ import annotations

import codecs
import datetime as dt
import logging
import os
import re
import time

import duckdb
import pytest

from ingest.judging import volume
from ingest.landing.reload import request
from ingest.landing.scan import scan
from ingest.loading import pseudonyms
from ingest.loading.source import load_source
from ingest.specs import CALL_CENTER, EMPLOYER_ESTABLISHMENTS, NATIONAL_PENSION_LEDGER, ExtractSpec
from tests.conftest import query

CALLS_HEADER = ",".join(CALL_CENTER.header)


def _call(n: int, day: str) -> str:
    return f"C{day.replace('-', '')}{n:05d},nenkin_dial,{day}T09:00:00+09:00,false,,30,0,caller_abandoned"


def _deliver(paths, spec: ExtractSpec, name: str, lines: list[str], newline: str = "\n") -> None:
    folder = paths.landing_dir(spec.source)
    folder.mkdir(parents=True, exist_ok=True)
    bom = codecs.BOM_UTF8 if spec.encoding == "utf-8-sig" else b""
    text = newline.join([",".join(spec.header), *lines]) + newline
    (folder / name).write_bytes(bom + text.encode(spec.encoding.removesuffix("-sig")))


def _load(paths, spec: ExtractSpec, **kwargs):
    paths.working_db.parent.mkdir(parents=True, exist_ok=True)
    key = (lambda create: pseudonyms.load_key(paths.data_dir, {}, create=create)) if spec.needs_pseudonym_key else None
    with duckdb.connect(str(paths.working_db)) as con:
        return load_source(
            con, spec, paths.landing_dir(spec.source), paths.scratch, "test", pseudonym_key=key, **kwargs
        )


def _rejects(paths) -> list[tuple]:
    return query(paths.working_db, "select source_file, line_number, reason from raw.rejects order by all")


# ---- positions under a byte-order mark ---------------------------------------------------------------


def _establishment(n: int) -> str:
    return f"{n:08d},13,1301,一般,R01.05.01,"


def test_a_bad_byte_at_a_lines_start_after_a_byte_order_mark_rejects_that_line_only(paths):
    """utf-8-sig counted offsets after the mark: a smart quote opening line 102 once rejected line 101."""
    lines = [_establishment(n).encode() for n in range(1, 101)]
    lines[100 - 1] = _establishment(389955).encode()  # line 101, valid
    data = codecs.BOM_UTF8 + ",".join(EMPLOYER_ESTABLISHMENTS.header).encode() + b"\r\n"
    data += b"\r\n".join(lines) + b"\r\n" + b"\x93" + _establishment(101).encode() + b"\r\n"
    folder = paths.landing_dir("employer")
    folder.mkdir(parents=True)
    (folder / "establishments_202009.csv").write_bytes(data)
    summary = _load(paths, EMPLOYER_ESTABLISHMENTS)
    assert (summary.rows_loaded, summary.rows_rejected) == (100, 1)
    assert _rejects(paths) == [
        ("establishments_202009.csv", 102, "invalid utf-8-sig byte sequence 93 at byte 1 of the line")
    ]
    assert query(
        paths.working_db, "select count(*) from raw.employer__establishments where establishment_number = '00389955'"
    ) == [(1,)]


def test_a_bad_byte_on_line_one_counts_the_mark_as_part_of_the_line(paths):
    from ingest.decoding.strict import decode_lines

    _, rejects = decode_lines(codecs.BOM_UTF8 + b"ab\x93,cd\nx,y\n", "utf-8-sig")
    assert [(r.line_number, r.reason) for r in rejects] == [
        (1, "invalid utf-8-sig byte sequence 93 at byte 6 of the line")
    ]
    _, rejects = decode_lines(b"\xef\xbb\xbfh1,h2\nab,cd\n\x93x,y\n", "utf-8-sig")  # the reproduction
    assert [r.line_number for r in rejects] == [3]


# ---- rows from the future ---------------------------------------------------------------------------


def test_calls_of_another_day_or_after_the_business_date_are_rejected(paths):
    day = "2020-11-02"
    _deliver(
        paths,
        CALL_CENTER,
        "cdr_20201102.csv",
        [*(_call(n, day) for n in range(20)), *(_call(n, "2021-03-15") for n in range(5))],
    )
    summary = _load(paths, CALL_CENTER, business_date=dt.date(2020, 11, 2))
    assert (summary.rows_loaded, summary.rows_rejected) == (20, 5)
    reasons = {reason for *_, reason in _rejects(paths)}
    assert reasons == {
        "received_at 2021-03-15 is outside the file's period 2020-11-02; received_at 2021-03-15 is after the business date 2020-11-02"
    }
    assert query(paths.working_db, "select max(received_at)::date from raw.call_center__calls") == [
        (dt.date(2020, 11, 2),)
    ]


def _ledger_line(number: str, processing: str = "R02.10", paid: str = "R02.05.20") -> str:
    return ",".join([number, "R02", "13", processing, "1", paid, "2"] + [""] * 33)  # April paid by debit


def test_ledger_prints_of_a_later_month_or_future_payments_are_rejected(paths):
    lines = [_ledger_line(f"1234-{n:06d}") for n in range(10)]
    lines += [_ledger_line(f"2345-{n:06d}", processing="令和３年３月", paid="R03.01.05") for n in range(3)]
    lines += [_ledger_line(f"3456-{n:06d}", paid="R02.10.31") for n in range(2)]  # October's, but after 20 October
    lines += [_ledger_line(f"4567-{n:06d}", processing="R02.11", paid="R02.10.02") for n in range(2)]
    _deliver(paths, NATIONAL_PENSION_LEDGER, "premium_ledger_202010.csv", lines, "\r\n")
    summary = _load(paths, NATIONAL_PENSION_LEDGER, business_date=dt.date(2020, 10, 20))
    kinds = query(paths.working_db, "select unnest(reason_kinds) as k, count(*) from raw.rejects group by k order by k")
    assert kinds == [
        ("paid_on_apr after the business date", 5),  # the 3 printed for March 2021, and 31 October on 20 October
        ("processing_month outside the file's period", 5),  # the 3 of March 2021, the 2 of November
    ]
    assert (summary.rows_loaded, summary.rows_rejected) == (10, 7)
    assert query(paths.working_db, "select distinct processing_month from raw.national_pension__premium_ledger") == [
        (dt.date(2020, 10, 1),)
    ]


def test_a_file_of_a_later_period_than_the_business_date_is_refused_whole(paths):
    _deliver(
        paths, NATIONAL_PENSION_LEDGER, "premium_ledger_202103.csv", [_ledger_line("1234-567890", "R03.03")], "\r\n"
    )
    _deliver(paths, CALL_CENTER, "cdr_20201103.csv", [_call(1, "2020-11-03")])
    business_date = dt.date(2020, 11, 2)
    ledger = _load(paths, NATIONAL_PENSION_LEDGER, business_date=business_date)
    calls = _load(paths, CALL_CENTER, business_date=business_date)
    assert [r.reason for r in ledger.refused] == [
        "its period begins 2021-03-01, after the business date 2020-11-02: a file from the future, or a wrong WAREHOUSE_BUSINESS_DATE"
    ]
    assert [r.file_name for r in calls.refused] == ["cdr_20201103.csv"] and not calls.loaded and not ledger.loaded
    again = _load(paths, CALL_CENTER, business_date=dt.date(2020, 11, 4))  # its night comes: it loads
    assert [f.rows_loaded for f in again.loaded] == [1]


# ---- files taken before they are whole ------------------------------------------------------------------


def test_a_modification_time_in_the_future_is_not_settled(paths):
    path = paths.landing_dir("call_center") / "cdr_20190402.csv"
    _deliver(paths, CALL_CENTER, path.name, [_call(n, "2019-04-02") for n in range(5)])
    future = time.time() + 3600
    os.utime(path, (future, future))
    found = scan(CALL_CENTER, path.parent, paths.landing, settle_seconds=60)
    assert found.deliveries == [] and found.settling == []  # waiting, without holding the batch back
    assert re.match(r"cdr_20190402\.csv: modified 3[56]\d\ds in the future", found.waiting[0]), found.waiting
    assert _load(paths, CALL_CENTER, settle_seconds=60).loaded == []
    past = time.time() - 120
    os.utime(path, (past, past))
    assert [f.rows_loaded for f in _load(paths, CALL_CENTER, settle_seconds=60).loaded] == [5]


def _weeks_of_calls(paths, last_day: int = 28) -> None:
    for day in range(1, last_day + 1):
        date = dt.date(2020, 4, day)
        if date.weekday() != 6:  # closed on Sundays
            _deliver(
                paths,
                CALL_CENTER,
                CALL_CENTER.name_for(date),
                [_call(n, str(date)) for n in range(100 if date.weekday() == 5 else 500)],
            )


@pytest.mark.parametrize(("share", "caught"), [(0.4, True), (0.6, False)])
def test_a_day_cut_at_a_line_end_is_held_back_by_its_volume(paths, share, caught):
    """A copy stalled at a line end past the settle time looks whole: the volume floor (50% of the
    4 previous same weekdays, under every real day of the demo) is what catches a 40% file."""
    _weeks_of_calls(paths)
    _load(paths, CALL_CENTER)
    loaded_before = query(paths.working_db, "select max(loaded_at) from raw.load_manifest")[0][0]
    _deliver(paths, CALL_CENTER, "cdr_20200430.csv", [_call(n, "2020-04-30") for n in range(int(500 * share))])
    _load(paths, CALL_CENTER)
    with duckdb.connect(str(paths.working_db)) as con:
        problems, judged = volume.collapses(con, CALL_CENTER, loaded_before)
    assert judged == 1
    assert bool(problems) is caught, problems


# ---- identical bytes of two periods ----------------------------------------------------------------------


def test_two_days_without_calls_are_two_deliveries(paths):
    """Header-only days print the same bytes: each is its own day's delivery, not a duplicate."""
    for day in ("20201101", "20201102"):
        _deliver(paths, CALL_CENTER, f"cdr_{day}.csv", [])
    summary = _load(paths, CALL_CENTER)
    assert sorted((f.file_name, f.rows_read) for f in summary.loaded) == [
        ("cdr_20201101.csv", 0),
        ("cdr_20201102.csv", 0),
    ]
    assert query(paths.working_db, "select max(file_period) from raw.load_manifest") == [(dt.date(2020, 11, 2),)]


# ---- a correction with the same size and time ------------------------------------------------------------


def test_a_same_size_same_time_correction_is_logged_and_read_on_request(paths, caplog):
    path = paths.landing_dir("call_center") / "cdr_20200401.csv"
    _deliver(paths, CALL_CENTER, path.name, [_call(n, "2020-04-01") for n in range(3)])
    _load(paths, CALL_CENTER)
    stat = path.stat()
    path.write_bytes(path.read_bytes().replace(b"caller_abandoned", b"system_busy_____"[:16]))  # same size
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # as cp -p or rsync -t leave it
    caplog.set_level(logging.INFO)
    assert _load(paths, CALL_CENTER, reload_root=paths.reload_requests).loaded == []
    assert "not read, unchanged since loaded" in caplog.text and "cdr_20200401.csv" in caplog.text

    marker = request(path, paths.landing, paths.reload_requests)
    assert marker.read_text().startswith("requested ")
    summary = _load(paths, CALL_CENTER, reload_root=paths.reload_requests)
    assert summary.rows_rejected == 3  # 'system_busy_____' is no disconnect reason: the new bytes were read
    assert [(f.file_name, f.file_version) for f in summary.loaded] == [("cdr_20200401.csv", 2)]
    assert not marker.exists()  # fulfilled
    assert "cdr_20200401.csv: read again on request (its bytes changed: loaded as a new version)" in caplog.text


def test_a_reload_request_names_a_landing_file(paths):
    outside = paths.data_dir / "elsewhere.csv"
    outside.parent.mkdir(parents=True)
    outside.write_text("x")
    with pytest.raises(ValueError, match="not a file of a landing folder"):
        request(outside, paths.landing, paths.reload_requests)
    stray = paths.landing_dir("call_center") / "notes.txt"
    stray.parent.mkdir(parents=True)
    stray.write_text("x")
    with pytest.raises(ValueError, match="call_center delivers cdr_YYYYMMDD.csv; notes.txt is none of them"):
        request(stray, paths.landing, paths.reload_requests)


# ---- a late, older register ----------------------------------------------------------------------------


def test_each_register_row_carries_its_registers_month(paths):
    """The register's month, not the load order, decides (int_employer__establishments; its dbt unit test)."""
    _deliver(paths, EMPLOYER_ESTABLISHMENTS, "establishments_202009.csv", [_establishment(1)])
    _load(paths, EMPLOYER_ESTABLISHMENTS)
    _deliver(
        paths, EMPLOYER_ESTABLISHMENTS, "establishments_202008.csv", [_establishment(1).replace(",1301,", ",1302,")]
    )
    _load(paths, EMPLOYER_ESTABLISHMENTS)
    assert query(
        paths.working_db,
        "select _source_file, _load_id, _file_period, office_code from raw.employer__establishments__current order by _load_id",
    ) == [
        ("establishments_202009.csv", 1, dt.date(2020, 9, 1), "1301"),
        ("establishments_202008.csv", 2, dt.date(2020, 8, 1), "1302"),
    ]
