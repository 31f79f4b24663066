"""No basic pension number, in any print form, reaches any table, file or Dagster storage: a real
night after hostile re-deliveries that plant a number in every separator form in every field of
every extract, swept afterwards."""

from pathlib import Path

import duckdb
import pytest

from ingest.specs import CALL_CENTER, EMPLOYER_CONTRIBUTIONS, EMPLOYER_ESTABLISHMENTS, NATIONAL_PENSION_LEDGER, SPECS
from tests import hostile
from tests.conftest import query

numbers_found = hostile.numbers_in_database  # every text column of a DuckDB file, by shape and by the delivered numbers
PLANTED = "7394-058216"  # no demo person has it


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
    assert numbers_found(database, ["１２３４５６７８９０"], by_shape=False) == ["main.t.note"]


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
    # and every separator form, as planted below
    (tmp_path / "slash.log").write_text("x 7394/058216 y", encoding="utf-8")
    assert hostile.numbers_in_files(tmp_path, list(hostile.every_form(PLANTED).values()), skip=()) == ["slash.log"]


def _planted_lines(spec, base: str) -> list[str]:
    """``base`` with each field in turn replaced by the number in each print form the encoding has."""
    forms = [form for form in hostile.every_form(PLANTED).values() if hostile.encodable(spec, form)]
    lines = []
    for column in range(len(spec.columns)):
        for form in forms:
            fields = base.split(spec.delimiter)
            fields[column] = form
            lines.append(spec.delimiter.join(fields))
    return lines


def _redeliver_with(path: Path, spec, extra: list[str]) -> None:
    """The latest file of a source delivered again with ``extra`` lines after its own."""
    data = path.read_bytes()
    newline = b"\r\n" if b"\r\n" in data else b"\n"
    encoding = spec.encoding.removesuffix("-sig")
    path.write_bytes(data + newline.join(line.encode(encoding) for line in extra) + newline)


@pytest.fixture
def hostile_night(after_first_night, run_nightly, instance, tmp_path):
    """After a good night: the latest file of every source delivered again with a number planted in
    every field in every separator form, and the latest ledger with an undecodable and an
    unparseable record more; then a real night (held back by the rejects, as it should be)."""
    paths = after_first_night
    for spec, pattern in (
        (NATIONAL_PENSION_LEDGER, "premium_ledger_*.csv"),
        (CALL_CENTER, "cdr_*.csv"),
        (EMPLOYER_ESTABLISHMENTS, "establishments_*.csv"),
        (EMPLOYER_CONTRIBUTIONS, "contributions_*.tsv"),
    ):
        latest = max(paths.landing_dir(spec.source).glob(pattern))
        base = latest.read_bytes().decode(spec.encoding).splitlines()[1]
        _redeliver_with(latest, spec, _planted_lines(spec, base))
    ledger = max(paths.landing_dir("national_pension").glob("premium_ledger_*.csv"))
    first_record = ledger.read_bytes().split(b"\r\n")[1]
    with ledger.open("ab") as f:
        f.write(first_record.replace(b",", b",\x82\x20", 1) + b"\r\n")
        f.write(first_record.replace(b",", b",R99", 2) + b"\r\n")
    result = run_nightly()
    ingests = [e for e in result.get_asset_materialization_events() if e.asset_key.path[0] == "raw"]
    assert len(ingests) == len(SPECS), "every source was loaded, and its rejects reported in its metadata"
    return paths, tmp_path / "dagster"


def test_no_table_file_or_dagster_storage_holds_a_basic_pension_number(hostile_night):
    paths, dagster_storage = hostile_night
    samples = _numbers_in_landing(paths.landing_dir("national_pension"))
    assert len(samples) > 100
    planted = list(hostile.every_form(PLANTED).values())
    rejected = query(paths.working_db, "select source, count(*) from raw.rejects group by source order by source")
    assert [source for source, _ in rejected] == ["call_center", "employer", "national_pension"]
    assert numbers_found(paths.working_db, samples) == []
    assert numbers_found(paths.working_db, planted, by_shape=False) == []
    published = sorted(paths.published_dir.glob("versions/*.duckdb"))
    assert published
    for database in published:
        assert numbers_found(database, samples) == []
        assert numbers_found(database, planted, by_shape=False) == []
    assert hostile.numbers_in_files(paths.data_dir, samples + planted, skip=("landing", "working")) == []
    assert hostile.numbers_in_files(dagster_storage, samples + planted, skip=()) == []  # event log, run storage
    assert not list(paths.scratch.glob("*")), "decoded copies of the extracts must not outlive the load"
