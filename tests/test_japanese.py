"""The one module every source uses for wareki dates and full-width digits."""

import datetime as dt

import duckdb
import pytest

from ingest.loading import japanese


@pytest.fixture(scope="module")
def con():
    con = duckdb.connect()
    japanese.register(con)
    return con


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("令和2年4月30日", dt.date(2020, 4, 30)),
        ("令和２年４月３０日", dt.date(2020, 4, 30)),
        ("令和元年5月1日", dt.date(2019, 5, 1)),
        ("R02.04.30", dt.date(2020, 4, 30)),
        ("Ｒ０２．０４．３０", dt.date(2020, 4, 30)),
        ("R020430", dt.date(2020, 4, 30)),
        (" R020430 ", dt.date(2020, 4, 30)),
        ("H31.04.30", dt.date(2019, 4, 30)),
        ("平成29年3月31日", dt.date(2017, 3, 31)),
        ("S64.01.07", dt.date(1989, 1, 7)),
        ("H01.01.08", dt.date(1989, 1, 8)),
        # not dates, or dates that never existed
        ("R02.02.30", None),
        ("平成31年5月1日", None),  # 平成 ended on 30 April 2019
        ("令和元年4月30日", None),  # 令和 began on 1 May 2019
        ("S64.01.08", None),
        ("R00.04.01", None),
        ("R02.04", None),  # a month, not a date
        ("2020-04-30", None),
        ("R2430", None),
        ("", None),
        (None, None),
        # truncated or loosely printed: a digits-only style is fixed-width, a kanji style keeps its terminators
        ("R01.10.1", None),  # R01.10.1x cut short, not 1 October
        ("R2/4/30", None),  # no source prints slashes, and R2/4/3 would be a cut R2/4/30
        ("R2.4.30", None),
        ("R0204301", None),
        ("R02.0430", None),
        ("令和２年９月１", None),  # 令和２年９月１０日 cut short
        ("令和２年９月１０", None),
        ("R元.10.01", None),  # 元 only with the era name
        ("令和2年4月30日x", None),
        ("R02.04.30\x00", None),
        ("R02. 04.30", None),
        ("令和01年5月1日", dt.date(2019, 5, 1)),
    ],
)
def test_wareki_date(con, text, expected):
    assert con.execute("select wareki_date(?)", [text]).fetchone()[0] == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("令和2年9月", dt.date(2020, 9, 1)),
        ("令和２年９月", dt.date(2020, 9, 1)),
        ("R02.09", dt.date(2020, 9, 1)),
        ("R0209", dt.date(2020, 9, 1)),
        ("H31.04", dt.date(2019, 4, 1)),
        ("R02.13", None),
        ("R02.09.30", None),  # a date, not a month
        ("R02.9", None),  # truncated
        ("R029", None),
        ("令和２年９", None),
        ("令和元年5月", dt.date(2019, 5, 1)),
        ("令和元年4月", None),  # 令和 began in May
    ],
)
def test_wareki_month(con, text, expected):
    assert con.execute("select wareki_month(?)", [text]).fetchone()[0] == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("令和2年度", 2020),
        ("令和２年度", 2020),
        ("令和元年度", 2019),
        ("平成31年度", 2019),
        ("R02", 2020),
        ("R2年度", 2020),
        ("H29", 2017),
        ("平成32年度", None),  # 平成 ended before its 32nd fiscal year began
        ("昭和64年度", None),
        ("R0", None),
        ("2020", None),
        ("R2", None),  # digits only: fixed width
        ("R020", None),
        ("令和２年", None),  # a calendar year, not a fiscal year
        ("令和2", None),
        ("R元年度", None),
    ],
)
def test_wareki_fiscal_year(con, text, expected):
    assert con.execute("select wareki_fiscal_year(?)", [text]).fetchone()[0] == expected


def test_halfwidth(con):
    assert con.execute("select halfwidth('１２３４－５６７８９０　Ｒ０２．０４')").fetchone()[0] == "1234-567890 R02.04"


def test_halfwidth_leaves_ascii_alone(con):
    assert con.execute("select halfwidth('R02.04 1,234'), halfwidth(NULL)").fetchone() == ("R02.04 1,234", None)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1,234,567", 1234567),
        ("1234567", 1234567),
        ("0", 0),
        ("１，２３４", 1234),
        ("▲12,345", -12345),
        ("△5", -5),
        ("-7", -7),
        (" 12 ", 12),
        ("　１２　", 12),
        ("▲１，０００", -1000),
        # not amounts
        ("1,23", None),
        ("12,345,67", None),
        ("1234,567", None),
        ("1.5", None),
        ("+5", None),
        ("▲", None),
        ("--1", None),
        ("1-", None),
        ("1 2", None),
        ("abc", None),
        ("99999999999999999999", None),  # beyond BIGINT
        ("", None),
        (None, None),
        ("0,123", None),  # no leading zero
        ("0123", None),
        ("1e3", None),
        ("0x10", None),
        ("1_000", None),
    ],
)
def test_yen_amount(con, text, expected):
    assert con.execute("select yen_amount(?)", [text]).fetchone()[0] == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1,234,567", 1234567),
        ("１，２３４", 1234),
        ("0", 0),
        (" 12 ", 12),
        # a sign is a reject: received, written-off and deferred amounts are never negative
        ("▲212,873", None),
        ("△5", None),
        ("-212,873", None),
        ("+5", None),
        ("1.5", None),
    ],
)
def test_yen_amount_unsigned(con, text, expected):
    assert con.execute("select yen_amount_unsigned(?)", [text]).fetchone()[0] == expected
