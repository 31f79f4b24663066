"""SQL that types and validates extract fields, shared by both load paths.

Both paths hand ``parse_sql`` a relation of field texts (``<column>__text``, trimmed, blank =
NULL) plus ``n_fields``; it adds one typed column per spec column and ``_reasons``, the list
of everything wrong with the row (empty = valid). The exact path gets its texts by splitting
physical lines; the bulk path gets them from DuckDB's CSV reader.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from ingest.loading.pseudonyms import NUMBER_PATTERN
from ingest.specs import Column, ExtractSpec

REDACTED = "<redacted>"
BLANK_LINE = "blank line"  # the reason, and its kind, of a line with nothing but blanks


def sql_str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _unquoted(sql: str) -> str:
    """The text inside one pair of double quotes that wraps the whole field; anything else as it is
    (an unbalanced quote stays, and fails the field's grammar)."""
    return f"""case when length({sql}) >= 2 and starts_with({sql}, '"') and ends_with({sql}, '"') then {sql}[2:-2] else {sql} end"""


def field_text(sql: str) -> str:
    """A field as the spec sees it: surrounding blanks and one pair of wrapping double quotes removed, empty = NULL."""
    # trim() costs ten times a contains() test (it copies every string), and almost no field
    # has a blank or a quote to remove, so only those that could are trimmed.
    return f"""nullif(case when contains({sql}, ' ') or contains({sql}, '"') then {_unquoted(f"trim({sql})")} else {sql} end, '')"""


def text_columns_sql(spec: ExtractSpec) -> str:
    """read_csv's ``columns`` for the spec: every field as text, typed later by ``parse_sql``."""
    return "{" + ", ".join(f"'{c.name}': 'VARCHAR'" for c in spec.columns) + "}"


def line_texts_sql(spec: ExtractSpec, lines_table: str) -> str:
    """Field texts of every data line of ``lines_table`` (line_number, line), split on the delimiter.

    A blank line (nothing but blanks) is a line read like any other, with no fields (``n_fields``
    0): ``parse_sql`` rejects it as such, so rows read = loaded + rejected counts every line.
    """
    texts = ", ".join(f"{field_text(f'f[{i}]')} as {c.name}__text" for i, c in enumerate(spec.columns, start=1))
    return f"""
    select 0 as file_index, line_number, line, case when trim(line) = '' then 0 else len(f) end as n_fields, {texts}
    from (select line_number, line, string_split(line, {sql_str(spec.delimiter)}) as f
          from {lines_table} where line_number > 1)"""


def column_texts_sql(spec: ExtractSpec, relation: str, keep: str, trim: bool = True) -> str:
    """Field texts of a relation with one VARCHAR column per spec column (its reader checked the field count).

    ``trim=False`` when no field holds a blank or a quote: the reader's texts (empty = NULL)
    already are the field texts, and skipping the tests saves a third of the scan.
    """
    texts = ", ".join(f"{field_text(c.name) if trim else c.name} as {c.name}__text" for c in spec.columns)
    return f"select {keep}, {len(spec.columns)} as n_fields, {texts} from {relation}"


def _where(position: int, c: Column) -> str:
    """SQL naming where a field that does not parse is, and how long it is: never its text.

    Any field of any extract may hold what it should not (a basic pension number typed into a
    note, a line shifted by a stray delimiter), and a reason goes to logs, the Dagster event log
    and the UI. The text itself stays in ``raw.rejects.raw_line``, masked.
    """
    length = f"length({c.name}__text)"
    return f"'field {position}, ' || {length} || case when {length} = 1 then ' character' else ' characters' end"


def _day(c: Column) -> str:
    """SQL of a date column's day, or a timestamp's day in Japan (where the agency's days are counted)."""
    return f"cast(timezone('Asia/Tokyo', {c.name}) as date)" if c.type == "TIMESTAMPTZ" else c.name


def _date_list(dates: Sequence[dt.date]) -> str:
    return "[" + ", ".join(f"date '{d.isoformat()}'" for d in dates) + "]"


def _dated(spec: ExtractSpec, periods: Sequence[tuple[dt.date, dt.date]], business_date: dt.date | None):
    """(condition, reason, kind) of the dates a row may not have: its own period outside its file's
    (``periods``: each file's first and last day, by ``file_index``), an event after the business date.

    A parsed date cannot hold anything but a date, so a reason may say it."""
    by_name = {c.name: c for c in spec.columns}
    if spec.period_column is not None and periods:
        column = by_name[spec.period_column]
        first = f"{_date_list([p[0] for p in periods])}[cast(file_index as bigint) + 1]"
        last = f"{_date_list([p[1] for p in periods])}[cast(file_index as bigint) + 1]"
        if column.type == "TIMESTAMPTZ":  # the period's instants in Japan: no time zone conversion per row
            starts = "[" + ", ".join(f"timestamptz '{p[0]} 00:00:00+09:00'" for p in periods) + "]"
            ends = "[" + ", ".join(f"timestamptz '{p[1] + dt.timedelta(days=1)} 00:00:00+09:00'" for p in periods) + "]"
            index = "[cast(file_index as bigint) + 1]"
            outside = f"not ({column.name} >= {starts}{index} and {column.name} < {ends}{index})"
        else:
            outside = f"{column.name} not between {first} and {last}"
        span = f"case when {first} = {last} then strftime({first}, '%Y-%m-%d') else strftime({first}, '%Y-%m') end"
        yield (
            outside,
            f"'{spec.period_column} ' || strftime({_day(column)}, '%Y-%m-%d') || ' is outside the file''s period ' || {span}",
            f"{spec.period_column} outside the file's period",
        )
    if business_date is not None:
        for c in spec.columns:
            if c.happened:
                yield (
                    f"{_day(c)} > date '{business_date.isoformat()}'",
                    f"'{c.name} ' || strftime({_day(c)}, '%Y-%m-%d') || ' is after the business date {business_date}'",
                    f"{c.name} after the business date",
                )


def _problems(
    spec: ExtractSpec, periods: Sequence[tuple[dt.date, dt.date]] = (), business_date: dt.date | None = None
) -> list[tuple[str, str, str]]:
    """(condition, reason, kind) of everything that can be wrong with a row that is not blank.

    Neither quotes the line: the reason says where (field and length), the kind only what, so
    kinds can be counted and published (``marts.load_quality``).
    """
    n = len(spec.columns)
    problems = [(f"n_fields <> {n}", f"'expected {n} fields, found ' || n_fields", f"expected {n} fields")]
    for position, c in enumerate(spec.columns, start=1):
        if c.required:
            problems.append((f"{c.name}__text is null", f"'{c.name}: missing value'", f"{c.name}: missing value"))
        problems.append(
            (
                f"{c.name}__text is not null and {c.name} is null",
                f"'{c.name}: cannot parse ' || {_where(position, c)} || ' as {c.type}'",
                f"{c.name}: cannot parse as {c.type}",
            )
        )
    for rule in spec.rules:
        problems.append((f"not coalesce(({rule.condition}), true)", sql_str(rule.reason), rule.reason))
    problems.extend(_dated(spec, periods, business_date))
    return problems


def parse_sql(
    spec: ExtractSpec,
    texts_sql: str,
    materialized: bool = True,
    periods: Sequence[tuple[dt.date, dt.date]] = (),
    business_date: dt.date | None = None,
) -> str:
    """Type and validate the field texts of ``texts_sql``: adds one column per spec column and ``_reasons``.

    ``materialized``: compute the texts once (they feed several lookups); pass False when
    ``texts_sql`` merely scans a table. ``periods``: the first and last day of each file's
    period, by the texts' ``file_index`` (a row of another period is rejected); ``business_date``:
    no event may be dated after it (None: not judged).
    """
    problems = _problems(spec, periods, business_date)
    # Low-cardinality columns with a costly parse (wareki dates: a few thousand distinct texts
    # among millions of fields) are parsed once per distinct text and joined back.
    templates = list(dict.fromkeys(c.parse for c in spec.columns if c.parse_distinct))
    lookups = "".join(
        f"""
_lookup_{i} as (
    select text, {Column("text", c.type, parse=template).parse_sql("text")} as value
    from (select distinct unnest([{", ".join(f"{c.name}__text" for c in spec.columns if c.parse == template)}]) as text from texts)
),"""
        for i, template in enumerate(templates)
        for c in [next(c for c in spec.columns if c.parse == template)]
    )
    joins = "".join(
        f"\n    left join _lookup_{templates.index(c.parse)} as _{c.name} on _{c.name}.text = texts.{c.name}__text"
        for c in spec.columns
        if c.parse_distinct
    )
    values = ",\n        ".join(
        f"_{c.name}.value as {c.name}" if c.parse_distinct else f"{c.parse_sql(c.name + '__text')} as {c.name}"
        for c in spec.columns
    )
    checks = ",\n            ".join(f"case when {condition} then {reason} end" for condition, reason, _ in problems)
    kinds = ",\n            ".join(f"case when {condition} then {sql_str(kind)} end" for condition, _, kind in problems)
    blank = sql_str(BLANK_LINE)
    return f"""
with texts as {"" if materialized else "not materialized "}({texts_sql}
),
{lookups}
typed as (
    select texts.*,
        {values}
    from texts{joins}
)
select *,
    case when n_fields = 0 then [{blank}] else list_filter([
            {checks}
        ], lambda r: r is not null) end as _reasons,
    case when n_fields = 0 then [{blank}] else list_filter([
            {kinds}
        ], lambda r: r is not null) end as _reason_kinds
from typed
"""


def redacted(sql: str) -> str:
    """SQL of ``sql``'s text with anything shaped like a basic pension number masked, in any print form."""
    return f"regexp_replace({sql}, {sql_str(NUMBER_PATTERN)}, '{REDACTED}', 'g')"
