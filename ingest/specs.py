"""Extract specifications: what a landing file must look like, declared once per source.

A spec is data, not code: the loader turns it into SQL. Each column names its raw DuckDB
type and its grammar (a template of ``ingest.fields`` over ``{v}``, the trimmed field text,
which yields NULL when the text is not exactly a valid value). Row rules are SQL conditions
over the parsed columns; a row that fails one goes to ``raw.rejects`` with the rule's reason.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from ingest import fields as f
from ingest.pseudonym import NUMBER_PATTERN

# Placeholders of a file-name template: the delivery's period, printed in its name.
_NAME_FIELDS = {"YYYY": r"(?P<year>[0-9]{4})", "MM": r"(?P<month>[0-9]{2})", "DD": r"(?P<day>[0-9]{2})"}


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    parse: str  # a grammar of ingest.fields: the typed value, or NULL when the text does not follow it
    required: bool = True
    description: str = ""
    sensitive: bool = False  # personal data: a reject reason never quotes its text
    # Parse each distinct text once and join the values back: pays off whenever a text repeats
    # (codes, wareki dates, a person's number across fiscal years), since the macros cost far
    # more per value than a hash-join probe does.
    parse_distinct: bool = False

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
    redact: str | None = None  # regex of personal identifiers masked in raw.rejects
    volume: Volume = Volume()
    lineage_columns: tuple[str, ...] = field(default=("_load_id", "_source_file", "_line_number"))

    def __post_init__(self):
        if len(self.header) != len(self.columns):
            raise ValueError(f"{self.source}: header has {len(self.header)} labels for {len(self.columns)} columns")
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

    def period_label(self, period: dt.date) -> str:
        """A period as the deliveries' names print it: 202009, or 20201031."""
        return f"{period:%Y%m%d}" if "DD" in self.file_name else f"{period:%Y%m}"

    @property
    def has_personal_data(self) -> bool:
        return any(c.sensitive for c in self.columns)

    @property
    def needs_pseudonym_key(self) -> bool:
        return any("pseudonymise(" in c.parse for c in self.columns)


CALL_CENTER = ExtractSpec(
    source="call_center",
    entity="calls",
    file_name="cdr_YYYYMMDD.csv",
    encoding="utf-8",
    description="Call detail records exported daily by the contact-center platform: one row per inbound call.",
    header=(
        "call_id",
        "dial",
        "received_at",
        "answered",
        "answered_at",
        "wait_seconds",
        "talk_seconds",
        "disconnect_reason",
    ),
    columns=(
        Column("call_id", "VARCHAR", parse=f.IDENTIFIER, description="Platform call identifier."),
        Column(
            "dial", "VARCHAR", parse=f.CODE, parse_distinct=True, description="Dial (queue) code the caller reached."
        ),
        Column(
            "received_at",
            "TIMESTAMPTZ",
            parse=f.ISO_TIMESTAMPTZ,
            description="When the call reached the queue (ISO-8601, +09:00).",
        ),
        Column(
            "answered", "BOOLEAN", parse=f.BOOLEAN, description="Whether an agent answered the call (true or false)."
        ),
        Column(
            "answered_at", "TIMESTAMPTZ", parse=f.ISO_TIMESTAMPTZ, required=False, description="When an agent answered."
        ),
        Column("wait_seconds", "INTEGER", parse=f.INTEGER, description="Seconds in queue before answer or disconnect."),
        Column(
            "talk_seconds", "INTEGER", parse=f.INTEGER, description="Seconds talking to an agent; 0 when unanswered."
        ),
        Column("disconnect_reason", "VARCHAR", parse=f.CODE, parse_distinct=True, description="Why the call ended."),
    ),
    rules=(
        RowRule("negative duration", "wait_seconds >= 0 and talk_seconds >= 0"),
        RowRule("answered call without answered_at", "not answered or answered_at is not null"),
        RowRule("unanswered call with answer or talk time", "answered or (answered_at is null and talk_seconds = 0)"),
        RowRule("answered before received", "answered_at is null or answered_at >= received_at"),
        RowRule(
            "unknown disconnect_reason",
            "disconnect_reason in ('caller_release', 'agent_release', 'caller_abandoned', 'system_busy')",
        ),
    ),
    # Saturdays carry a fifth of a weekday's calls; a day cut to a quarter of its weekday's median is a collapse.
    volume=Volume(new_file_floor=0.25, same_weekday=True),
    # Exported each morning for the day before; closed on Sundays, and a holiday can follow one.
    cadence=Cadence("day", grace_days=3),
)


# The premium ledger's repeating group, in fiscal order; column suffixes name the calendar month.
PREMIUM_MONTHS = (
    ("apr", 4),
    ("may", 5),
    ("jun", 6),
    ("jul", 7),
    ("aug", 8),
    ("sep", 9),
    ("oct", 10),
    ("nov", 11),
    ("dec", 12),
    ("jan", 1),
    ("feb", 2),
    ("mar", 3),
)
PREMIUM_STATUS_CODES = ("1", "2", "3", "4", "5", "6", "7", "8")  # see seed np_premium_statuses
DUE_STATUS_CODES = ("1", "6", "7", "8")


NATIONAL_PENSION_LEDGER = ExtractSpec(
    source="national_pension",
    entity="premium_ledger",
    file_name="premium_ledger_YYYYMM.csv",
    encoding="cp932",
    description=(
        "National Pension premium ledger (国民年金保険料 収納台帳) as the mainframe prints it, one CP932 file per "
        "processing month: one record per first-category insured person and premium fiscal year, with the "
        "twelve-month repeating group of status (納付区分) and payment date (納付日). A record reappears, in "
        "full, in every processing month it changes; the latest processing month wins."
    ),
    header=("基礎年金番号", "保険料年度", "都道府県コード", "処理年月")
    + tuple(label for _, month in PREMIUM_MONTHS for label in (f"{month}月納付区分", f"{month}月納付日")),
    columns=(
        Column(
            "person_key",
            "VARCHAR",
            parse=f.PENSION_NUMBER,
            sensitive=True,
            parse_distinct=True,
            description="Keyed pseudonym (HMAC-SHA256, 128 bits, hex) of the basic pension number 基礎年金番号; "
            "the number itself is never stored.",
        ),
        Column(
            "premium_fiscal_year",
            "INTEGER",
            parse=f.WAREKI_FISCAL_YEAR,
            parse_distinct=True,
            description="Premium fiscal year (保険料年度), e.g. 令和2年度 = 2020.",
        ),
        Column(
            "prefecture_code",
            "VARCHAR",
            parse=f.PREFECTURE_CODE,
            parse_distinct=True,
            description="JIS prefecture code of residence, '01'-'47'.",
        ),
        Column(
            "processing_month",
            "DATE",
            parse=f.WAREKI_MONTH,
            parse_distinct=True,
            description="Processing month (処理年月) the record was printed in; first of the month.",
        ),
    )
    + tuple(
        column
        for name, month in PREMIUM_MONTHS
        for column in (
            Column(
                f"status_{name}",
                "VARCHAR",
                required=False,
                parse_distinct=True,
                parse=f.halfwidth_code(PREMIUM_STATUS_CODES),
                description=f"{month}月 premium status code (blank: not a first-category insured person that month).",
            ),
            Column(
                f"paid_on_{name}",
                "DATE",
                parse=f.WAREKI_DATE,
                required=False,
                parse_distinct=True,
                description=f"{month}月 premium payment date.",
            ),
        )
    ),
    rules=(
        RowRule(
            "payment recorded for a month that is not due",
            # a blank status with a date is not a due month either (NULL in (...) would pass the rule)
            " and ".join(
                f"(paid_on_{n} is null or coalesce(status_{n} in {f.sql_list(DUE_STATUS_CODES)}, false))"
                for n, _ in PREMIUM_MONTHS
            ),
        ),
        RowRule(
            "payment dated after the processing month",
            f"coalesce(greatest({', '.join(f'paid_on_{n}' for n, _ in PREMIUM_MONTHS)}), processing_month) <= last_day(processing_month)",
        ),
        RowRule(
            "no premium month has a status",
            f"coalesce({', '.join(f'status_{n}' for n, _ in PREMIUM_MONTHS)}) is not null",
        ),
    ),
    redact=NUMBER_PATTERN,
    # A month's file holds only the records that changed (a few hundred to a full reprint at the
    # year's close), so a new month has no floor; a re-delivery keeps at least a quarter of its rows.
    volume=Volume(),
    # Printed once a month for the processing month; the 10 days' grace is the agency's own deadline.
    cadence=Cadence("month", grace_days=10),
)

ESTABLISHMENT_NUMBER = f.fixed_digits(8)
INSURANCE_NAMES = ("厚生年金保険", "協会管掌健康保険", "船員保険")

EMPLOYER_ESTABLISHMENTS = ExtractSpec(
    source="employer",
    entity="establishments",
    file_name="establishments_YYYYMM.csv",
    encoding="utf-8-sig",
    description=(
        "Register of covered establishments (適用事業所), saved from a spreadsheet: UTF-8 with a BOM, wareki "
        "dates. One full register per delivery; the latest delivery describes every establishment."
    ),
    header=("事業所番号", "都道府県コード", "年金事務所コード", "事業所区分", "適用年月日", "全喪年月日"),
    columns=(
        Column(
            "establishment_number",
            "VARCHAR",
            parse=ESTABLISHMENT_NUMBER,
            parse_distinct=True,
            description="Establishment number (8 digits).",
        ),
        Column(
            "prefecture_code",
            "VARCHAR",
            parse=f.PREFECTURE_CODE,
            parse_distinct=True,
            description="JIS prefecture code, '01'-'47'.",
        ),
        Column(
            "office_code",
            "VARCHAR",
            parse=f.fixed_digits(4),
            parse_distinct=True,
            description="Pension office (年金事務所) code: prefecture code + office number.",
        ),
        Column(
            "establishment_kind",
            "VARCHAR",
            parse=f.one_of(("一般", "船舶")),
            parse_distinct=True,
            description="一般 (ordinary) or 船舶 (ship owner, liable for seamen's insurance).",
        ),
        Column(
            "covered_from", "DATE", parse=f.WAREKI_DATE, parse_distinct=True, description="Coverage start (適用年月日)."
        ),
        Column(
            "covered_until",
            "DATE",
            parse=f.WAREKI_DATE,
            parse_distinct=True,
            required=False,
            description="Coverage end (全喪年月日); blank while covered.",
        ),
    ),
    rules=(RowRule("coverage ends before it starts", "covered_until is null or covered_until >= covered_from"),),
    # Each delivery is the full register.
    volume=Volume(new_file_floor=0.8),
    # Printed once a month for the processing month; the 10 days' grace is the agency's own deadline.
    cadence=Cadence("month", grace_days=10),
)


def _amount(name: str, description: str, required: bool = False, signed: bool = False) -> Column:
    return Column(
        name,
        "BIGINT",
        parse=f.YEN_AMOUNT if signed else f.YEN_AMOUNT_UNSIGNED,
        required=required,
        description=description,
    )


def _date(name: str, description: str) -> Column:
    return Column(name, "DATE", parse=f.WAREKI_DATE, required=False, parse_distinct=True, description=description)


EMPLOYER_CONTRIBUTIONS = ExtractSpec(
    source="employer",
    entity="contributions",
    file_name="contributions_YYYYMM.tsv",
    encoding="utf-8",
    delimiter="\t",
    description=(
        "Contribution records per establishment, insurance type and premium month, tab-separated with thousands "
        "separators and ▲ for negative adjustments, one file per processing month: a record is printed, in full, "
        "in the month of its latest event (determination, payment, write-off, deferral); the latest print wins."
    ),
    header=(
        "事業所番号",
        "保険種別",
        "対象年月",
        "処理年月",
        "決定額",
        "調整額",
        "収納額",
        "収納日",
        "不納欠損額",
        "不納欠損日",
        "猶予許可額",
        "猶予開始日",
        "猶予終了日",
    ),
    columns=(
        Column(
            "establishment_number",
            "VARCHAR",
            parse=ESTABLISHMENT_NUMBER,
            parse_distinct=True,
            description="Establishment number.",
        ),
        Column(
            "insurance_name_ja",
            "VARCHAR",
            parse=f.one_of(INSURANCE_NAMES),
            parse_distinct=True,
            description="厚生年金保険, 協会管掌健康保険 or 船員保険.",
        ),
        Column(
            "premium_month",
            "DATE",
            parse=f.WAREKI_MONTH,
            parse_distinct=True,
            description="Premium month (対象年月); notified and due the month after.",
        ),
        Column(
            "processing_month",
            "DATE",
            parse=f.WAREKI_MONTH,
            parse_distinct=True,
            description="Processing month of this print.",
        ),
        _amount("determined_yen", "Determined amount (決定額), yen.", required=True),
        _amount(
            "adjustment_yen", "Adjustment to the determined amount (調整額), yen; negative printed with ▲.", signed=True
        ),
        _amount("collected_yen", "Amount received (収納額), yen."),
        _date("collected_on", "Date received (収納日)."),
        _amount("written_off_yen", "Amount written off (不納欠損額), yen."),
        _date("written_off_on", "Date written off."),
        _amount("deferred_yen", "Amount under the special deferral (納付猶予の特例), yen."),
        _date("deferred_from", "Start of the approved deferral period."),
        _date("deferred_until", "End of the approved deferral period."),
    ),
    rules=(
        RowRule("negative determined amount", "determined_yen >= 0"),
        RowRule(
            "amount received without a date, or a date without an amount",
            "(collected_yen is null) = (collected_on is null)",
        ),
        RowRule(
            "write-off without a date, or a date without an amount",
            "(written_off_yen is null) = (written_off_on is null)",
        ),
        RowRule(
            "incomplete deferral approval",
            "(deferred_yen is null) = (deferred_from is null) and (deferred_from is null) = (deferred_until is null)",
        ),
        RowRule(
            "received and written off exceed the determined amount",
            "coalesce(collected_yen, 0) + coalesce(written_off_yen, 0) <= determined_yen + coalesce(adjustment_yen, 0)",
        ),
    ),
    # Every month reprints each open record: about the same count month after month.
    volume=Volume(new_file_floor=0.5),
    # Printed once a month for the processing month; the 10 days' grace is the agency's own deadline.
    cadence=Cadence("month", grace_days=10),
)

SPECS: dict[str, ExtractSpec] = {
    spec.raw_table: spec
    for spec in (CALL_CENTER, NATIONAL_PENSION_LEDGER, EMPLOYER_ESTABLISHMENTS, EMPLOYER_CONTRIBUTIONS)
}
