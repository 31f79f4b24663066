"""What an extract spec is made of: columns and their grammars, row rules, volume and cadence.

A spec is data, not code: the loader turns it into SQL. Each column names its raw DuckDB
type and its grammar (a template of ``ingest.loading.grammars`` over ``{v}``, the trimmed field text,
which yields NULL when the text is not exactly a valid value). Row rules are SQL conditions
over the parsed columns; a row that fails one goes to ``raw.rejects`` with the rule's reason.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

# Placeholders of a file-name template: the delivery's period, printed in its name.
_NAME_FIELDS = {"YYYY": r"(?P<year>[0-9]{4})", "MM": r"(?P<month>[0-9]{2})", "DD": r"(?P<day>[0-9]{2})"}


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    parse: str  # a grammar of ingest.loading.grammars: the typed value, or NULL when the text does not follow it
    required: bool = True
    description: str = ""
    sensitive: bool = False  # personal data: masked in raw.rejects.raw_line whatever its grammar
    # Parse each distinct text once and join the values back: pays off whenever a text repeats
    # (codes, wareki dates, a person's number across fiscal years), since the macros cost far
    # more per value than a hash-join probe does.
    parse_distinct: bool = False
    # The date of something that has happened (a call, a payment): never after the business date.
    # A timestamp is judged by its day in Japan.
    happened: bool = False

    def parse_sql(self, text_sql: str) -> str:
        return self.parse.format(v=text_sql, type=self.type)


@dataclass(frozen=True)
class RowRule:
    reason: str
    condition: str  # SQL over parsed column names; a row passes when it is true or NULL


@dataclass(frozen=True)
class Volume:
    """How a delivery's row count is judged against the source's own history (the ``volume`` check).

    A collapse (a file cut short at a line boundary, an export that stopped early) passes
    every row-level check, so it is caught by comparing counts: a re-delivered file with its
    previous version, a new file with the median of comparable earlier files.
    """

    redelivery_floor: float = 0.25  # a new version keeps at least this share of the rows of the one it replaces
    new_file_floor: float | None = None  # share of the comparable median a new file reaches; None: deltas vary too much
    same_weekday: bool = False  # daily extracts: compare with the same day of the week (Saturdays are small)
    history: int = 8  # comparable earlier files the median is taken over


@dataclass(frozen=True)
class Cadence:
    """How often the source delivers, and how late a delivery may be before it counts as missing.

    A delivery covers one period (a day, or a processing month) and is expected by the end of
    that period plus ``grace_days``: premium_ledger_202010.csv by 2020-11-10 with 10 days' grace.
    """

    unit: str  # "day" or "month": the period one file covers, as its name's YYYYMMDD or YYYYMM says
    grace_days: int

    def __post_init__(self):
        if self.unit not in ("day", "month"):
            raise ValueError(f"cadence unit {self.unit!r}: day or month")

    @property
    def adjective(self) -> str:
        return {"day": "daily", "month": "monthly"}[self.unit]

    def period_end(self, period: dt.date) -> dt.date:
        if self.unit == "day":
            return period
        following = (period.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
        return following - dt.timedelta(days=1)

    def next_period(self, period: dt.date) -> dt.date:
        return self.period_end(period) + dt.timedelta(days=1)

    def expected_by(self, period: dt.date) -> dt.date:
        return self.period_end(period) + dt.timedelta(days=self.grace_days)


@dataclass(frozen=True)
class ExtractSpec:
    source: str  # landing sub-directory; raw table prefix
    entity: str
    file_name: str  # name of each delivery, its period as YYYY, MM and DD: cdr_YYYYMMDD.csv
    encoding: str  # Python codec used for strict decoding
    columns: tuple[Column, ...]
    header: tuple[str, ...]  # header labels exactly as the source system prints them
    cadence: Cadence  # when deliveries are expected: the ``freshness`` check
    rules: tuple[RowRule, ...] = ()
    delimiter: str = ","
    description: str = ""
    # The column whose date (a timestamp's day in Japan) is the period the row itself belongs
    # to: it must lie within its file's period (a day, or a month), as the file's name gives it.
    # None: the rows carry no period of their own (the register: a full print every month).
    period_column: str | None = None
    volume: Volume = Volume()

    def __post_init__(self):
        if len(self.header) != len(self.columns):
            raise ValueError(f"{self.source}: header has {len(self.header)} labels for {len(self.columns)} columns")
        if self.period_column is not None and self.period_column not in {c.name for c in self.columns}:
            raise ValueError(f"{self.source}: period_column {self.period_column} is not a column")
        if ("DD" in self.file_name) != (self.cadence.unit == "day"):
            raise ValueError(f"{self.file_name}: its name's period and the {self.cadence.adjective} cadence disagree")

    @property
    def raw_table(self) -> str:
        return f"{self.source}__{self.entity}"

    @property
    def pattern(self) -> str:
        """Glob of the deliveries' names: cdr_YYYYMMDD.csv -> cdr_*.csv."""
        return re.sub("(YYYY|MM|DD)+", "*", self.file_name)

    @property
    def name_regex(self) -> re.Pattern[str]:
        template = re.escape(self.file_name)
        for placeholder, group in _NAME_FIELDS.items():
            template = template.replace(placeholder, group)
        return re.compile(template)

    def period(self, name: str) -> dt.date | None:
        """The period a delivery's name gives (a day, or the first of a month); None when the name
        does not follow ``file_name`` exactly or names no real date (cdr_20190231.csv)."""
        match = self.name_regex.fullmatch(name)
        if match is None:
            return None
        parts = match.groupdict()
        try:
            return dt.date(int(parts["year"]), int(parts["month"]), int(parts.get("day") or 1))
        except ValueError:
            return None

    def name_for(self, period: dt.date) -> str:
        """The delivery name of a period: cdr_YYYYMMDD.csv, 2020-11-01 -> cdr_20201101.csv."""
        return (
            self.file_name.replace("YYYY", f"{period:%Y}").replace("MM", f"{period:%m}").replace("DD", f"{period:%d}")
        )

    def period_bounds(self, name: str) -> tuple[dt.date, dt.date] | None:
        """The first and last day of the period a delivery's name gives; None when it gives none."""
        period = self.period(name)
        return None if period is None else (period, self.cadence.period_end(period))

    def period_label(self, period: dt.date) -> str:
        """A period as the deliveries' names print it: 202009, or 20201031."""
        return f"{period:%Y%m%d}" if "DD" in self.file_name else f"{period:%Y%m}"

    @property
    def has_personal_data(self) -> bool:
        return any(c.sensitive for c in self.columns)

    @property
    def needs_pseudonym_key(self) -> bool:
        return any("pseudonymise(" in c.parse for c in self.columns)
