"""Japanese operational formats as DuckDB SQL macros: full-width digits, wareki dates, yen amounts.

Every source that prints these formats parses them with these macros (spec columns name
them in their ``parse`` templates), so the rules live in one place and run vectorised.

Each macro accepts exactly the styles the source systems print and returns NULL for
anything else, so a value is never read with a changed meaning. A style made of digits
alone is fixed-width (R02.04.30, R020430): a truncated ``R01.10.1`` is a reject, not the
1st of October. A style whose parts carry a terminator (年, 月, 日, 年度) may drop leading
zeros, since truncation would cut its terminator too (令和２年９月１ is a reject).

* ``halfwidth(s)``: full-width digits, letters used in era abbreviations, and punctuation
  (０-９, Ｍ Ｔ Ｓ Ｈ Ｒ, －．／，and the ideographic space) become ASCII.
* ``wareki_date(s)``: R02.04.30, R020430, 令和2年4月30日, 令和元年5月1日, H31.04.30 -> DATE.
  NULL when the text is not such a date, when the date does not exist (R02.02.30), or when it
  falls outside its era (平成31年5月1日 or 令和元年4月30日 never existed).
* ``wareki_month(s)``: R02.09, R0209, 令和2年9月 -> first of the month.
* ``wareki_fiscal_year(s)``: R02, H29, R2年度, 令和2年度, 令和元年度 -> the Gregorian year the
  fiscal year starts in (令和2年度 = 2020).
* ``yen_amount(s)``: 1,234,567 / 1234567 / １，２３４ / ▲12,345 (▲, △ or - marks a negative)
  -> BIGINT, for the columns that may be negative (an adjustment).
* ``yen_amount_unsigned(s)``: the same without a sign, for amounts that cannot be negative
  (determined, received, written off, deferred): ▲212,873 there is a reject.
"""

from __future__ import annotations

import duckdb

# Era -> (abbreviation, year before its first year, first day, last day).
ERAS = {
    "明治": ("M", 1867, "1868-01-25", "1912-07-29"),
    "大正": ("T", 1911, "1912-07-30", "1926-12-24"),
    "昭和": ("S", 1925, "1926-12-25", "1989-01-07"),
    "平成": ("H", 1988, "1989-01-08", "2019-04-30"),
    "令和": ("R", 2018, "2019-05-01", "9999-12-31"),
}

_ABBR = "([" + "".join(abbr for abbr, *_ in ERAS.values()) + "])"
_KANJI = "(" + "|".join(ERAS) + ")"
_KANJI_YEAR = r"(元|\d{1,2})"
# Each shape has its own groups; exactly one shape matches, so a part is the concatenation of
# its groups across shapes (era = abbreviated era || kanji era, and so on).
_DATE = (
    rf"^(?:{_ABBR}(?:(\d{{2}})(\d{{2}})(\d{{2}})|(\d{{2}})\.(\d{{2}})\.(\d{{2}}))"
    rf"|{_KANJI}{_KANJI_YEAR}年(\d{{1,2}})月(\d{{1,2}})日)$"
)
_DATE_GROUPS = ["ea", "fy", "fm", "fd", "dy", "dm", "dd", "ek", "ky", "km", "kd"]
_MONTH = rf"^(?:{_ABBR}(?:(\d{{2}})(\d{{2}})|(\d{{2}})\.(\d{{2}}))|{_KANJI}{_KANJI_YEAR}年(\d{{1,2}})月)$"
_MONTH_GROUPS = ["ea", "fy", "fm", "dy", "dm", "ek", "ky", "km"]
_FISCAL_YEAR = rf"^(?:{_ABBR}(?:(\d{{2}})|(\d{{1,2}})年度)|{_KANJI}{_KANJI_YEAR}年度)$"
_FISCAL_YEAR_GROUPS = ["ea", "fy", "sy", "ek", "ky"]

_FULLWIDTH = "０１２３４５６７８９ＭＴＳＨＲ－．／，　"
_HALFWIDTH = "0123456789MTSHR-./, "

# Amounts as printed: plain digits or groups of three, no leading zero.
_DIGITS = r"(0|[1-9]\d*|[1-9]\d{0,2}(,\d{3})+)"


def _era_lookup(name: str, values: dict[str, str]) -> str:
    whens = " ".join(f"when era in ('{era}', '{ERAS[era][0]}') then {value}" for era, value in values.items())
    return f"create or replace temp macro {name}(era) as case {whens} end;"


def macros_sql() -> str:
    return rf"""
-- translate() costs about 0.5 µs a value; an ASCII string (byte length = character length,
-- both cheap) has nothing to translate, and most values are ASCII.
create or replace temp macro halfwidth(s) as
    case when strlen(s) = length(s) then s else translate(s, '{_FULLWIDTH}', '{_HALFWIDTH}') end;
{_era_lookup("_era_base", {era: str(base) for era, (_, base, _, _) in ERAS.items()})}
{_era_lookup("_era_start", {era: f"date '{start}'" for era, (_, _, start, _) in ERAS.items()})}
{_era_lookup("_era_end", {era: f"date '{end}'" for era, (_, _, _, end) in ERAS.items()})}

-- 元 (first year) is written only with an era name in kanji.
create or replace temp macro _era_year(y) as case when y = '元' then 1 else try_cast(y as integer) end;

-- A wareki day, month or fiscal year in the era's range, else NULL. Macros are expanded
-- textually, so each regex runs once per value and its groups are bound to a lambda parameter.
create or replace temp macro _in_era(era, y, value) as
    case when y >= 1 and value between _era_start(era) and _era_end(era) then value end;

create or replace temp macro wareki_date(s) as list_transform(
    [regexp_extract(trim(halfwidth(s)), '{_DATE}', {_DATE_GROUPS})],
    lambda p: _in_era(p.ea || p.ek, _era_year(p.fy || p.dy || p.ky),
                      try(make_date(_era_base(p.ea || p.ek) + _era_year(p.fy || p.dy || p.ky),
                                    try_cast(p.fm || p.dm || p.km as integer), try_cast(p.fd || p.dd || p.kd as integer))))
)[1];

create or replace temp macro wareki_month(s) as list_transform(
    [regexp_extract(trim(halfwidth(s)), '{_MONTH}', {_MONTH_GROUPS})],
    lambda p: _in_era(p.ea || p.ek, _era_year(p.fy || p.dy || p.ky),
                      try(make_date(_era_base(p.ea || p.ek) + _era_year(p.fy || p.dy || p.ky),
                                    try_cast(p.fm || p.dm || p.km as integer), 1)))
)[1];

-- The fiscal year must start inside its era: 平成31年度 = 令和元年度 = 2019, 平成32年度 is invalid.
create or replace temp macro wareki_fiscal_year(s) as list_transform(
    [regexp_extract(trim(halfwidth(s)), '{_FISCAL_YEAR}', {_FISCAL_YEAR_GROUPS})],
    lambda p: list_transform(
        [{{'era': p.ea || p.ek, 'y': _era_year(p.fy || p.sy || p.ky)}}],
        lambda f: case when f.y >= 1
                        and make_date(_era_base(f.era) + f.y, 4, 1) between date_trunc('year', _era_start(f.era)) and _era_end(f.era)
                       then _era_base(f.era) + f.y end
    )[1]
)[1];

-- Once the format is checked, ▲ and △ read as a minus sign and the cast ignores surrounding blanks.
create or replace temp macro yen_amount(s) as
    case when regexp_full_match(halfwidth(s), ' *[▲△-]?{_DIGITS} *')
         then try_cast(replace(replace(replace(halfwidth(s), ',', ''), '▲', '-'), '△', '-') as bigint) end;
create or replace temp macro yen_amount_unsigned(s) as
    case when regexp_full_match(halfwidth(s), ' *{_DIGITS} *') then try_cast(replace(halfwidth(s), ',', '') as bigint) end;
"""


def register(con: duckdb.DuckDBPyConnection) -> None:
    """Create the macros on ``con`` (temporary: they live as long as the connection)."""
    con.execute(macros_sql())
