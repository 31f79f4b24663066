import hashlib
import os
import shutil

import duckdb
import pytest

from ingest.loading.source import load_source
from ingest.specs import CALL_CENTER
from tests.conftest import query

HEADER = ",".join(CALL_CENTER.header)
GOOD = [
    "C1,nenkin_dial,2020-04-01T09:00:00+09:00,true,2020-04-01T09:01:00+09:00,60,300,agent_release",
    "C2,appointment,2020-04-01T09:05:00+09:00,false,,30,0,caller_abandoned",
]


def _write(path, lines, encoding="utf-8"):
    """``lines`` as the file ``path``; a day's file holds that day's calls, so GOOD's day becomes the file's."""
    path.parent.mkdir(parents=True, exist_ok=True)
    day = CALL_CENTER.period(path.name)
    if day is not None and isinstance(lines[0], str):
        lines = [line.replace("2020-04-01", day.isoformat()) for line in lines]
    path.write_bytes(
        ("\n".join(lines) + "\n").encode(encoding) if isinstance(lines[0], str) else b"\n".join(lines) + b"\n"
    )
    return path


def _load(paths, run_id="test"):
    with duckdb.connect(str(paths.working_db)) as con:
        return load_source(con, CALL_CENTER, paths.landing_dir("call_center"), paths.scratch, run_id)


def _query(paths, sql):
    return query(paths.working_db, sql)


@pytest.fixture
def landing(paths):
    paths.working_db.parent.mkdir(parents=True, exist_ok=True)
    return paths.landing_dir("call_center")


def test_manifest_accounts_for_every_row(landed):
    landed.working_db.parent.mkdir(parents=True)
    summary = _load(landed)
    files = sorted(landed.landing_dir("call_center").glob("cdr_*.csv"))
    assert len(summary.loaded) == len(files)
    rows = _query(
        landed,
        "select file_name, size_bytes, sha256, rows_read, rows_loaded, rows_rejected, run_id, file_version "
        "from raw.load_manifest order by file_name",
    )
    assert len(rows) == len(files)
    for (name, size, sha, read, loaded, rejected, run_id, version), path in zip(rows, files, strict=True):
        data = path.read_bytes()
        assert name == path.name and size == len(data) and sha == hashlib.sha256(data).hexdigest()
        assert read == loaded + rejected == data.count(b"\n") - 1
        assert run_id == "test" and version == 1
    assert _query(landed, "select count(*) from raw.call_center__calls")[0][0] == sum(r[4] for r in rows)


def test_redelivery_loads_nothing_twice(landing, paths):
    _write(landing / "cdr_20200401.csv", [HEADER, *GOOD])
    assert _load(paths).rows_loaded == 2
    again = _load(paths)
    assert again.loaded == [] and again.skipped_unchanged == ["cdr_20200401.csv"]
    shutil.copy(landing / "cdr_20200401.csv", landing / "cdr_20200401_copy.csv")  # same bytes, new name
    assert _load(paths).loaded == []
    assert _query(paths, "select count(*) from raw.call_center__calls") == [(2,)]


def test_changed_file_is_a_new_version_that_supersedes_the_old(landing, paths):
    _write(landing / "cdr_20200401.csv", [HEADER, *GOOD])
    _load(paths)
    _write(landing / "cdr_20200401.csv", [HEADER, GOOD[0]])  # corrected re-delivery
    summary = _load(paths)
    assert [(f.file_name, f.file_version, f.rows_loaded) for f in summary.loaded] == [("cdr_20200401.csv", 2, 1)]
    assert _query(paths, "select file_version, superseded_by_load_id from raw.load_manifest order by load_id") == [
        (1, 2),
        (2, None),
    ]
    assert _query(paths, "select count(*) from raw.call_center__calls") == [(3,)]  # history kept
    assert _query(paths, "select call_id from raw.call_center__calls__current") == [("C1",)]


def test_bad_rows_go_to_rejects_with_line_and_reason(landing, paths):
    lines = [
        HEADER,
        GOOD[0],
        "C3,nenkin_dial,2020-04-01T09:00:00+09:00,true,2020-04-01T09:01:00+09:00,60,300",  # 7 fields
        "C4,nenkin_dial,yesterday,true,2020-04-01T09:01:00+09:00,60,300,agent_release",
        "C5,nenkin_dial,2020-04-01T09:00:00+09:00,false,,-5,0,caller_abandoned",
        "C6,nenkin_dial,2020-04-01T09:00:00+09:00,true,,60,300,agent_release",
        "C7,nenkin_dial,2020-04-01T09:00:00+09:00,false,,60,0,hung_up_by_cat",
        "",
        GOOD[1],
    ]
    _write(landing / "cdr_20200401.csv", lines)
    summary = _load(paths)
    assert (summary.rows_loaded, summary.rows_rejected) == (2, 6)
    rejects = dict(_query(paths, "select line_number, reason from raw.rejects order by line_number"))
    assert rejects[3] == "expected 8 fields, found 7; disconnect_reason: missing value"
    # where the field is and how long, never its text (any field may hold what it should not)
    assert rejects[4] == "received_at: cannot parse field 3, 9 characters as TIMESTAMPTZ"
    assert rejects[5] == "negative duration"
    assert rejects[6] == "answered call without answered_at"
    assert rejects[7] == "unknown disconnect_reason"
    assert rejects[8] == "blank line"  # a line read like any other: the accounting counts it
    assert _query(paths, "select _line_number from raw.call_center__calls order by 1") == [(2,), (9,)]
    assert _query(paths, "select rows_read, rows_loaded, rows_rejected from raw.load_manifest") == [(8, 2, 6)]


def test_invalid_utf8_byte_rejects_the_line_and_loads_the_rest(landing, paths):
    rows = [
        HEADER.encode(),
        GOOD[0].encode(),
        b"C9,nenkin_dial,2020-04-01T09:00:00+09:00,true,\xff,60,300,agent_release",
        GOOD[1].encode(),
    ]
    _write(landing / "cdr_20200401.csv", rows)
    summary = _load(paths)
    assert (summary.rows_loaded, summary.rows_rejected) == (2, 1)
    [(line, reason, raw)] = _query(paths, "select line_number, reason, raw_line from raw.rejects")
    assert line == 3 and "invalid utf-8 byte sequence ff" in reason and "\\xff" in raw


def test_malformed_file_is_quarantined_and_leaves_nothing_half_loaded(landing, paths):
    good = _write(landing / "cdr_20200401.csv", [HEADER, *GOOD])
    bad = _write(landing / "cdr_20200402.csv", ["id;dial;when", *GOOD])
    before = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in (good, bad)}
    summary = _load(paths)  # a refused file does not fail the load: the good one beside it commits
    [refusal] = summary.refused
    assert (refusal.file_name, refusal.line_number) == ("cdr_20200402.csv", 1)
    assert refusal.reason.startswith("header does not match the call_center spec")
    assert summary.rows_loaded == 2
    assert _query(paths, "select distinct _source_file from raw.call_center__calls") == [("cdr_20200401.csv",)]
    assert _query(paths, "select file_name from raw.load_manifest") == [("cdr_20200401.csv",)]
    assert _query(paths, "select count(*) from raw.rejects") == [(0,)]
    assert _query(paths, "select file_name, line_number, resolved_at is null from raw.quarantine") == [
        ("cdr_20200402.csv", 1, True)
    ]
    assert {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in (good, bad)} == before
    # Refused again the next night, it stays one open entry; fixed and re-delivered, it loads and is released.
    assert [r.file_name for r in _load(paths).refused] == ["cdr_20200402.csv"]
    assert _query(paths, "select count(*) from raw.quarantine") == [(1,)]
    _write(bad, [HEADER, GOOD[0].replace("C1", "C8")])
    fixed = _load(paths)
    assert fixed.rows_loaded == 1 and fixed.refused == []
    assert _query(paths, "select file_name, resolved_at is not null from raw.quarantine") == [
        ("cdr_20200402.csv", True)
    ]


def test_empty_file_is_quarantined(landing, paths):
    (landing / "cdr_20200403.csv").parent.mkdir(parents=True, exist_ok=True)
    (landing / "cdr_20200403.csv").write_bytes(b"")
    [refusal] = _load(paths).refused
    assert (refusal.file_name, refusal.line_number, refusal.reason) == (
        "cdr_20200403.csv",
        1,
        "empty file: expected a header line",
    )


def _call_ids_by_line(path):
    """(call_id, line number) of every data line of a file, as an editor would number them."""
    lines = path.read_bytes().decode("utf-8", errors="replace").split("\n")
    return sorted((line.split(",")[0], n) for n, line in enumerate(lines, start=1) if n > 1 and line.startswith("C"))


def test_bulk_and_exact_paths_share_one_batch_and_number_lines_alike(landing, paths):
    """Clean files take the bulk path; each file with a bad line is redone exactly, alone."""
    clean = [
        _write(landing / f"cdr_2020040{d}.csv", [HEADER, *(GOOD[i % 2].replace("C", f"C{d}{i}", 1) for i in range(5))])
        for d in (1, 2)
    ]
    bad_row = _write(
        landing / "cdr_20200403.csv",
        [HEADER, GOOD[0].replace("C1", "C31"), GOOD[0].replace(",60,", ",-1,"), GOOD[1].replace("C2", "C33")],
    )
    blank_line = _write(
        landing / "cdr_20200404.csv", [HEADER, GOOD[0].replace("C1", "C41"), "", GOOD[1].replace("C2", "C43")]
    )
    quoted = _write(
        landing / "cdr_20200405.csv", [HEADER, GOOD[0].replace("C1", "C51"), GOOD[1].replace("C2", '"C5,2"')]
    )
    summary = _load(paths)
    assert {f.file_name: (f.rows_read, f.rows_loaded, f.rows_rejected) for f in summary.loaded} == {
        clean[0].name: (5, 5, 0),
        clean[1].name: (5, 5, 0),
        bad_row.name: (3, 2, 1),
        blank_line.name: (3, 2, 1),
        quoted.name: (2, 1, 1),
    }
    for path in (*clean, bad_row, blank_line):
        loaded = _query(
            paths,
            f"select call_id, _line_number from raw.call_center__calls where _source_file = '{path.name}' order by 1",
        )
        assert loaded == [(c, n) for c, n in _call_ids_by_line(path) if c != "C1"]  # the negative-duration row kept C1
    rejects = _query(paths, "select source_file, line_number, reason from raw.rejects order by 1")
    assert [(f, n) for f, n, _ in rejects] == [(bad_row.name, 3), (blank_line.name, 3), (quoted.name, 3)]
    assert rejects[0][2] == "negative duration" and rejects[1][2] == "blank line"
    assert rejects[2][2].startswith("expected 8 fields, found 9;")


def test_unchanged_name_size_and_mtime_are_not_read_again(landing, paths):
    path = _write(landing / "cdr_20200401.csv", [HEADER, *GOOD])
    _load(paths)
    stat = path.stat()
    # Same size, same mtime: by the documented rule the file is not read (so its new bytes are not seen) ...
    path.write_bytes(path.read_bytes().replace(b"C1,", b"C9,"))
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert _load(paths).skipped_unchanged == [path.name]
    # ... and any new mtime makes it read, hashed and loaded as a new version (an earlier one: a
    # modification time in the future is not settled).
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns - 1_000_000_000))
    assert [(f.file_name, f.file_version) for f in _load(paths).loaded] == [(path.name, 2)]
    assert _query(paths, "select call_id from raw.call_center__calls__current order by 1") == [("C2",), ("C9",)]
    # a touched file with the bytes of its current version is hashed and skipped
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns - 2_000_000_000))
    again = _load(paths)
    assert again.loaded == [] and again.skipped_unchanged == [path.name]


@pytest.mark.parametrize("with_plain_file", [True, False])
def test_blanks_and_quotes_around_fields_are_removed_on_the_bulk_path(landing, paths, with_plain_file):
    """A batch of plain files skips trimming; a batch with one padded file trims every field."""
    padded = _write(
        landing / "cdr_20200402.csv",
        [
            HEADER,
            GOOD[0].replace("C1,", " C7 ,"),
            GOOD[1].replace("C2,", '"C8",').replace(",30,", ", 30 ,"),
        ],
    )  # every untrimmed text would pass validation too: only trimming tells them apart
    if with_plain_file:
        _write(landing / "cdr_20200401.csv", [HEADER, *GOOD])
    summary = _load(paths)
    assert summary.rows_rejected == 0
    assert _query(
        paths,
        f"select call_id, wait_seconds, disconnect_reason from raw.call_center__calls where _source_file = '{padded.name}' order by 1",
    ) == [
        ("C7", 60, "agent_release"),
        ("C8", 30, "caller_abandoned"),
    ]
