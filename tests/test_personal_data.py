"""No basic pension number reaches any table of the working or the published database."""

import duckdb
import pytest

from tests import hostile
from tests.conftest import query

numbers_found = hostile.numbers_in_database  # every text column of a DuckDB file, by shape and by the delivered numbers


def _numbers_in_landing(landing) -> list[str]:
    """Basic pension numbers as delivered, in every printed form (a sample from each file)."""
    return hostile.delivered_numbers(landing, per_file=3)


def test_the_scan_detects_a_planted_number(tmp_path):
    # The scanner itself must be able to fail.
    database = tmp_path / "planted.duckdb"
    with duckdb.connect(str(database)) as con:
        con.execute("create table t (note varchar, key varchar)")
        con.execute(
            "insert into t values ('caller gave １２３４５６７８９０ on the phone', 'a1b2c3d4e5f6071829304a5b6c7d8e9f')"
        )
    assert numbers_found(database, ["9999-999999"]) == ["main.t.note"]


def test_the_file_scan_finds_every_printed_form_and_nothing_else(tmp_path):
    # The file scanner must be able to fail, in each form and encoding a number is printed in.
    number = "0123-456789"
    forms = {"hyphen": number, "digits": "0123456789", "full_width": "０１２３－４５６７８９"}
    for name, form in forms.items():
        for encoding in ("utf-8", "cp932"):
            (tmp_path / f"{name}.{encoding}").write_bytes(b"\x00log: " + form.encode(encoding) + b", \xff")
            (tmp_path / f"run_{name}.{encoding}").write_bytes(b"99" + form.encode(encoding) + b"1234-000000")
    (tmp_path / "near_miss").write_text("0123-456788 9123456789 0123-45678 ０１２３４５６７８", encoding="utf-8")
    (tmp_path / "passwd").write_bytes(b"x root:x:0:0:root:/root:/bin/bash x")
    found = hostile.numbers_in_files(tmp_path, hostile.printed_forms([number]), skip=())
    assert sorted(found) == sorted(
        f"{run}{name}.{e}" for name in forms for e in ("utf-8", "cp932") for run in ("", "run_")
    )
    assert hostile.numbers_in_files(tmp_path, ["root:x:0:0:root:/root:/bin/bash"], skip=()) == ["passwd"]


@pytest.fixture
def published_run(after_first_night, run_nightly):
    # Rejected lines must not leak either: the latest ledger delivered again, after a good night,
    # with one undecodable and one unparseable record more.
    landed = after_first_night
    ledger = max(landed.landing_dir("national_pension").glob("premium_ledger_*.csv"))
    first_record = ledger.read_bytes().split(b"\r\n")[1]
    with ledger.open("ab") as f:
        f.write(first_record.replace(b",", b",\x82\x20", 1) + b"\r\n")
        f.write(first_record.replace(b",", b",R99", 2) + b"\r\n")
    result = run_nightly()
    assert result.success
    return landed


def test_no_table_holds_a_basic_pension_number(published_run):
    paths = published_run
    samples = _numbers_in_landing(paths.landing_dir("national_pension"))
    assert len(samples) > 100
    assert query(paths.working_db, "select count(*) from raw.rejects") == [(2,)]
    assert numbers_found(paths.working_db, samples) == []
    published = sorted(paths.published_dir.glob("versions/*.duckdb"))
    assert published
    for database in published:
        assert numbers_found(database, samples) == []
    assert not list(paths.scratch.glob("*")), "decoded copies of the extracts must not outlive the load"
