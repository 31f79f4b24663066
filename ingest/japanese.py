"""Japanese operational formats as DuckDB SQL macros: full-width digits and wareki dates.

Every source that prints these formats parses them with these macros (spec columns name
them in their ``parse`` templates), so the rules live in one place and run vectorised:

* ``halfwidth(s)``: full-width digits, letters used in era abbreviations, and punctuation
  (０-９, Ｍ Ｔ Ｓ Ｈ Ｒ, －．／ and the ideographic space) become ASCII.
* ``wareki_date(s)``: 令和2年4月30日, 令和元年5月1日, R02.04.30, R2/4/30, R020430, H31.04.30 ->
  DATE. NULL when the text is not such a date, when the date does not exist (R02.02.30), or
  when it falls outside its era (平成31年5月1日 or 令和元年4月30日 never existed).
* ``wareki_month(s)``: the same without a day (令和2年9月, R02.09, R0209) -> first of the month.
* ``wareki_fiscal_year(s)``: 令和2年度, R02, R2年度, H29 -> the Gregorian year the fiscal
  year starts in (令和2年度 = 2020).
* ``yen_amount(s)``: 1,234,567 / 1234567 / １，２３４ / ▲12,345 (negative) -> BIGINT.
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

_ERA = "(" + "|".join([*ERAS, *(abbr for abbr, *_ in ERAS.values())]) + ")"
# One pattern, two shapes: fixed width (R020430, R0209) or separated (令和2年4月30日, R02.04.30,
# R2/4/30, 令和2年9月, R02.09). Exactly one shape's groups are non-empty, so y = cy || sy.
_DATE = rf"^{_ERA}(?:(\d{{2}})(\d{{2}})(\d{{2}})?|(\d{{1,2}})[.年/](\d{{1,2}})(?:月|[.月/](\d{{1,2}})日?)?)$"
_FISCAL_YEAR = rf"^{_ERA}(\d{{1,2}})(?:年度)?$"

_FULLWIDTH = "０１２３４５６７８９ＭＴＳＨＲ－．／，　"
_HALFWIDTH = "0123456789MTSHR-./, "


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

create or replace temp macro _wareki_normalised(s) as replace(trim(halfwidth(s)), '元', '1');

-- Macros are expanded textually, so the regex runs once per value and its groups are bound
-- to a lambda parameter (p) rather than re-evaluated for every reference.
create or replace temp macro _wareki(s, want_day) as list_transform(
    [regexp_extract(_wareki_normalised(s), '{_DATE}', ['era', 'cy', 'cm', 'cd', 'sy', 'sm', 'sd'])],
    lambda p: list_transform(
        [{{'day': p.cd || p.sd,
           'value': try(make_date(_era_base(p.era) + try_cast(p.cy || p.sy as integer), try_cast(p.cm || p.sm as integer),
                                  coalesce(try_cast(nullif(p.cd || p.sd, '') as integer), 1)))}}],
        lambda d: case when (d.day <> '') = want_day and try_cast(p.cy || p.sy as integer) >= 1
                        and d.value between _era_start(p.era) and _era_end(p.era) then d.value end
    )[1]
)[1];

create or replace temp macro wareki_date(s) as _wareki(s, true);

-- Yen amounts as printed: 1,234,567 / 1234567 / full-width digits; ▲ (or △ or -) marks a negative.
-- Once the format is checked, ▲ and △ read as a minus sign and the cast ignores surrounding blanks.
create or replace temp macro yen_amount(s) as
    case when regexp_full_match(halfwidth(s), ' *[▲△-]?(\d{{1,3}}(,\d{{3}})+|\d+) *')
         then try_cast(replace(replace(replace(halfwidth(s), ',', ''), '▲', '-'), '△', '-') as bigint) end;
create or replace temp macro wareki_month(s) as _wareki(s, false);

-- The fiscal year must start inside its era: 平成31年度 = 令和元年度 = 2019, 平成32年度 is invalid.
create or replace temp macro wareki_fiscal_year(s) as list_transform(
    [regexp_extract(_wareki_normalised(s), '{_FISCAL_YEAR}', ['era', 'y'])],
    lambda p: case when try_cast(p.y as integer) >= 1
                    and make_date(_era_base(p.era) + try_cast(p.y as integer), 4, 1)
                        between date_trunc('year', _era_start(p.era)) and _era_end(p.era)
                   then _era_base(p.era) + try_cast(p.y as integer) end
)[1];
"""


def register(con: duckdb.DuckDBPyConnection) -> None:
    """Create the macros on ``con`` (temporary: they live as long as the connection)."""
    con.execute(macros_sql())
