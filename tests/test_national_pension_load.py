"""Loading the CP932 premium ledger: strict decoding, wareki parsing, pseudonymised numbers, redacted rejects."""

import hashlib
import hmac

import duckdb
import pytest

from ingest.loading.source import REDACTED, load_source
from ingest.specs import NATIONAL_PENSION_LEDGER as LEDGER
from tests.conftest import query

KEY = b"test-key"
HEADER = ",".join(LEDGER.header)


def record(
    number="1234-567890",
    fiscal_year="R02",
    prefecture="13",
    processing="R0209",
    april=("1", "R02.05.20", "2"),
    rest=("", "", ""),
):
    months = [april] + [rest] * 11
    return ",".join([number, fiscal_year, prefecture, processing] + [v for group in months for v in group])


def _load(paths, lines: list[bytes], key=KEY):
    landing = paths.landing_dir("national_pension")
    landing.mkdir(parents=True, exist_ok=True)
    (landing / "premium_ledger_202009.csv").write_bytes(b"\r\n".join(lines) + b"\r\n")
    paths.working_db.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(paths.working_db)) as con:
        return load_source(con, LEDGER, landing, paths.scratch, "test", pseudonym_key=key)


def _cp932(text: str) -> bytes:
    return text.encode("cp932")


def test_formats_parse_and_numbers_are_pseudonymised(paths):
    lines = [
        _cp932(HEADER),
        _cp932(record()),
        _cp932(
            record("１２３４－５６７８９１", "令和２年度", "１３", "令和２年９月", ("６", "令和２年５月２０日", "４"))
        ),
        _cp932(record("1234567892", "H30", "01", "R02.09", ("1", "H300520", "3"), ("2", "", ""))),
    ]
    summary = _load(paths, lines)
    assert (summary.rows_loaded, summary.rows_rejected) == (3, 0)
    rows = query(
        paths.working_db,
        "select person_key, premium_fiscal_year, prefecture_code, processing_month::varchar, status_apr, "
        "paid_on_apr::varchar, channel_apr, status_may from raw.national_pension__premium_ledger order by _line_number",
    )
    expected_keys = [
        hmac.new(KEY, n, hashlib.sha256).hexdigest()[:32] for n in (b"1234567890", b"1234567891", b"1234567892")
    ]
    assert [r[0] for r in rows] == expected_keys
    assert [r[1:] for r in rows] == [
        (2020, "13", "2020-09-01", "1", "2020-05-20", "2", None),
        (2020, "13", "2020-09-01", "6", "2020-05-20", "4", None),
        (2018, "01", "2020-09-01", "1", "2018-05-20", "3", "2"),
    ]


def test_invalid_cp932_byte_rejects_only_its_line(paths):
    bad = _cp932(record("1111-222222")).replace(b",R0209,", b",R02\x82\x20,")  # 0x82 needs a trail byte >= 0x40
    summary = _load(paths, [_cp932(HEADER), _cp932(record()), bad, _cp932(record("1234-567891"))])
    assert (summary.rows_loaded, summary.rows_rejected) == (2, 1)
    [(file, line, reason, raw_line)] = query(
        paths.working_db, "select source_file, line_number, reason, raw_line from raw.rejects"
    )
    assert (file, line) == ("premium_ledger_202009.csv", 3)
    assert reason == "invalid cp932 byte sequence 82 at byte 23 of the line"
    assert "1111-222222" not in raw_line and raw_line.startswith(REDACTED)


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        # a date that cannot be read leaves its channel without one: both reasons are given
        (
            record(april=("1", "R02.02.30", "1")),
            "paid_on_apr: cannot parse field 6, 9 characters as DATE; payment date and payment channel not printed together",
        ),
        (record(april=("0", "", ""), rest=("1", "", "")), "status_apr: cannot parse field 5, 1 character as VARCHAR"),
        (
            record(april=("1", "R02.05.20", "7")),
            "channel_apr: cannot parse field 7, 1 character as VARCHAR; payment date and payment channel not printed together",
        ),
        (record(april=("1", "R02.05.20", "")), "payment date and payment channel not printed together"),
        (record(april=("1", "", "2")), "payment date and payment channel not printed together"),
        (record(prefecture="48"), "prefecture_code: cannot parse field 3, 2 characters as VARCHAR"),
        (record(fiscal_year="平成32年度"), "premium_fiscal_year: cannot parse field 2, 6 characters as INTEGER"),
        (record(april=("2", "R02.05.20", "1")), "payment recorded for a month that is not due"),
        (record(april=("1", "R02.10.01", "1")), "payment dated after the processing month"),
        (record(april=("", "", "")), "no premium month has a status"),
        (record(number="123-4567890"), "person_key: cannot parse field 1, 11 characters as VARCHAR"),
    ],
)
def test_bad_records_are_rejected_with_their_reason_and_no_number(paths, line, reason):
    summary = _load(paths, [_cp932(HEADER), _cp932(record("1234-567899")), _cp932(line)])
    assert (summary.rows_loaded, summary.rows_rejected) == (1, 1)
    [(line_number, found, raw_line)] = query(paths.working_db, "select line_number, reason, raw_line from raw.rejects")
    assert line_number == 3 and found == reason
    assert "1234-567890" not in raw_line and "123-4567890" not in raw_line and raw_line.startswith(REDACTED)


def test_a_key_is_required(paths):
    with pytest.raises(ValueError, match="pseudonymisation key is required"):
        _load(paths, [_cp932(HEADER), _cp932(record())], key=None)
