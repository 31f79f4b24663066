"""The loader's promises under things going wrong: a lost key, a revert, a file still arriving, a crash, a collapse."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import duckdb
import pytest

from ingest.decoding.strict import decode_file
from ingest.judging import volume
from ingest.loading import pseudonyms
from ingest.loading.pseudonym_keys import PseudonymKeyError
from ingest.loading.source import load_source
from ingest.specs import CALL_CENTER, NATIONAL_PENSION_LEDGER
from tests.conftest import query

HEADER = ",".join(CALL_CENTER.header)


def _call(n: int, day: str = "2020-04-01") -> str:
    return f"C{day.replace('-', '')}{n:05d},nenkin_dial,{day}T09:00:00+09:00,false,,30,0,caller_abandoned"


def _write_calls(path, count: int, day: str | None = None) -> None:
    """``count`` calls of the file's own day (a row of another day is a reject)."""
    day = day or CALL_CENTER.period(path.name).isoformat()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join([HEADER, *(_call(n, day) for n in range(count))]) + "\n", encoding="utf-8")


def _load_calls(paths, **kwargs):
    paths.working_db.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(paths.working_db)) as con:
        return load_source(con, CALL_CENTER, paths.landing_dir("call_center"), paths.scratch, "test", **kwargs)


# ---- the pseudonymisation key ---------------------------------------------------------------------

LEDGER_HEADER = ",".join(NATIONAL_PENSION_LEDGER.header)


def _ledger_line(number: str, processing: str = "R0209") -> str:
    return ",".join([number, "R02", "13", processing, "1", "R02.05.20", "2"] + [""] * 33)  # April paid by debit


def _load_ledger(paths, numbers: list[str], name: str = "premium_ledger_202009.csv"):
    landing = paths.landing_dir("national_pension")
    landing.mkdir(parents=True, exist_ok=True)
    month = NATIONAL_PENSION_LEDGER.period(name)
    processing = f"R{month.year - 2018:02d}{month.month:02d}"  # printed in the file's own month
    lines = [_ledger_line(number, processing) for number in numbers]
    (landing / name).write_bytes(("\r\n".join([LEDGER_HEADER, *lines]) + "\r\n").encode("cp932"))
    paths.working_db.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(paths.working_db)) as con:
        return load_source(
            con,
            NATIONAL_PENSION_LEDGER,
            landing,
            paths.scratch,
            "test",
            pseudonym_key=lambda create: pseudonyms.load_key(paths.data_dir, {}, create=create),
        )


def test_a_lost_key_is_never_replaced_and_a_restored_key_loads_on(paths):
    _load_ledger(paths, ["1234-567890", "1234-567891"])
    key_file = pseudonyms.key_file(paths.data_dir)
    backup = key_file.read_bytes()
    [(key_id,)] = query(paths.working_db, "select distinct pseudonym_key_id from raw.load_manifest")
    assert key_id == pseudonyms.key_id(backup.strip())

    key_file.unlink()  # lost
    with pytest.raises(FileNotFoundError, match="key file is missing"):
        _load_ledger(paths, ["1234-567892"], "premium_ledger_202010.csv")
    assert not key_file.exists()  # no new key was made

    key_file.write_bytes(backup)
    key_file.chmod(0o600)
    summary = _load_ledger(paths, ["1234-567890", "1234-567893"], "premium_ledger_202010.csv")
    assert summary.rows_loaded == 2
    # the same person has the same key in both months
    assert query(paths.working_db, "select count(distinct person_key) from raw.national_pension__premium_ledger") == [
        (3,)
    ]


def test_a_load_under_another_key_is_refused(paths, monkeypatch):
    _load_ledger(paths, ["1234-567890"])
    other = b"another key from the vault"
    landing = paths.landing_dir("national_pension")
    (landing / "premium_ledger_202010.csv").write_bytes(
        (LEDGER_HEADER + "\r\n" + _ledger_line("1234-567890") + "\r\n").encode("cp932")
    )
    with (
        duckdb.connect(str(paths.working_db)) as con,
        pytest.raises(PseudonymKeyError, match="is not the key its loads used"),
    ):
        load_source(con, NATIONAL_PENSION_LEDGER, landing, paths.scratch, "test", pseudonym_key=other)
    assert query(paths.working_db, "select count(*) from raw.load_manifest") == [(1,)]


# ---- versions: current by delivery ----------------------------------------------------------------


def test_a_revert_is_current_again(paths):
    path = paths.landing_dir("call_center") / "cdr_20190402.csv"
    _write_calls(path, 40)
    original = path.read_bytes()
    _load_calls(paths)
    path.write_bytes(b"".join(original.splitlines(keepends=True)[:11]))  # shortened re-delivery: version 2
    _load_calls(paths)
    path.write_bytes(original)  # the original bytes restored: version 3, current again
    summary = _load_calls(paths)
    assert [(f.file_name, f.file_version, f.rows_loaded) for f in summary.loaded] == [("cdr_20190402.csv", 3, 40)]
    assert query(paths.working_db, "select count(*) from raw.call_center__calls__current") == [(40,)]
    assert query(
        paths.working_db, "select file_version, superseded_by_load_id is null from raw.load_manifest order by 1"
    ) == [
        (1, False),
        (2, False),
        (3, True),
    ]


def test_a_file_still_being_written_waits_for_the_settle_period(paths):
    path = paths.landing_dir("call_center") / "cdr_20190402.csv"
    _write_calls(path, 5)
    waiting = _load_calls(paths, settle_seconds=300)
    assert waiting.loaded == [] and waiting.waiting[0].startswith("cdr_20190402.csv: modified")
    old = time.time() - 301
    os.utime(path, (old, old))
    assert [f.rows_loaded for f in _load_calls(paths, settle_seconds=300).loaded] == [5]


# ---- decoded copies cannot outlive a crash -------------------------------------------------------


def test_decoded_copies_vanish_with_a_killed_process(tmp_path):
    """kill -9 while a CP932 file is decoded and read: nothing is left in scratch."""
    ledger = tmp_path / "premium_ledger_202009.csv"
    ledger.write_bytes(
        ("\r\n".join([LEDGER_HEADER, *(_ledger_line(f"1234-{n:06d}") for n in range(2000))]) + "\r\n").encode("cp932")
    )
    scratch = tmp_path / "scratch"
    script = textwrap.dedent(f"""
        import sys, time
        from pathlib import Path
        from ingest.decoding.strict import decode_file
        decoded = decode_file(Path({str(ledger)!r}), "cp932", Path({str(scratch)!r}))
        print(decoded.utf8_path, flush=True)
        time.sleep(60)
    """)
    child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        copy = child.stdout.readline().strip()
        assert copy.startswith("/proc/self/fd/")
        target = os.readlink(f"/proc/{child.pid}/fd/{copy.rsplit('/', 1)[1]}")
        assert target.endswith("(deleted)") and str(scratch) in target  # alive, in scratch, and nameless
        assert list(scratch.iterdir()) == []
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    assert list(scratch.iterdir()) == []


def test_named_leftovers_in_scratch_are_removed_by_the_next_load(paths):
    paths.scratch.mkdir(parents=True)
    (paths.scratch / "premium_ledger_202009.csv.1a2b.utf8").write_text(
        "1234-567890,R02\n"
    )  # as older versions left them
    _write_calls(paths.landing_dir("call_center") / "cdr_20190402.csv", 3)
    _load_calls(paths)
    assert list(paths.scratch.iterdir()) == []


def test_python_decode_path_copy_is_anonymous_too(tmp_path):
    path = tmp_path / "ledger.csv"
    path.write_bytes("番号\n".encode("cp932") + b"1,\x82\xff\n")  # iconv refuses: Python decodes
    decoded = decode_file(path, "cp932", tmp_path / "scratch")
    assert decoded.rejects and list((tmp_path / "scratch").iterdir()) == []
    decoded.close()


# ---- volume against the source's own history -------------------------------------------------------


def test_a_collapsed_redelivery_and_a_collapsed_day_are_flagged(paths):
    landing = paths.landing_dir("call_center")
    for day in range(1, 29):  # four weeks of weekdays and Saturdays (Sundays closed)
        date = f"2020-04-{day:02d}"
        weekday = time.strptime(date, "%Y-%m-%d").tm_wday
        if weekday != 6:
            _write_calls(landing / f"cdr_202004{day:02d}.csv", 80 if weekday == 5 else 440, date)
    _load_calls(paths)
    with duckdb.connect(str(paths.working_db)) as con:
        assert volume.collapses(con, CALL_CENTER, None) == ([], 24)  # small Saturdays are compared with Saturdays

    _write_calls(landing / "cdr_20200415.csv", 10, "2020-04-15")  # re-delivered, 440 -> 10
    _write_calls(landing / "cdr_20200430.csv", 40, "2020-04-30")  # a new Thursday at a tenth of the usual
    _write_calls(landing / "cdr_20200502.csv", 70, "2020-05-02")  # a normal Saturday
    _load_calls(paths)
    with duckdb.connect(str(paths.working_db)) as con:
        since = con.execute(
            "select max(loaded_at) from raw.load_manifest where file_version = 1 and file_name < 'cdr_20200429'"
        ).fetchone()[0]
        problems, judged = volume.collapses(con, CALL_CENTER, since)
    assert judged == 3
    assert problems == [
        "cdr_20200415.csv v2: 10 rows, 2% of the 440 of the version it replaces (at least 25% expected)",
        "cdr_20200430.csv: 40 rows, 9% of the median 440 of the 4 previous Thursdays (at least 50% expected)",
    ]
