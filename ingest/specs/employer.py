"""The employers' extracts: the establishment register and the contribution records, monthly."""

from __future__ import annotations

from ingest.loading import grammars as f
from ingest.specs.model import Cadence, Column, ExtractSpec, RowRule, Volume

ESTABLISHMENT_NUMBER = f.fixed_digits(8)
# The key both extracts share: the register's and the contributions' numbers join on it.
ESTABLISHMENT_NUMBER_COLUMN = Column(
    "establishment_number",
    "VARCHAR",
    parse=ESTABLISHMENT_NUMBER,
    parse_distinct=True,
    description="Establishment number (8 digits).",
)
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
        ESTABLISHMENT_NUMBER_COLUMN,
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


def _date(name: str, description: str, happened: bool = False) -> Column:
    return Column(
        name,
        "DATE",
        parse=f.WAREKI_DATE,
        required=False,
        parse_distinct=True,
        happened=happened,
        description=description,
    )


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
        ESTABLISHMENT_NUMBER_COLUMN,
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
        _date("collected_on", "Date received (収納日).", happened=True),
        _amount("written_off_yen", "Amount written off (不納欠損額), yen."),
        _date("written_off_on", "Date written off.", happened=True),
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
    # contributions_202009.tsv is the print of processing month 2020-09: every record in it says so.
    period_column="processing_month",
    # Every month reprints each open record: about the same count month after month (the demo's
    # months hold 93% to 107% of the median of the months before), so a month under 80% is cut.
    volume=Volume(new_file_floor=0.8),
    # Printed once a month for the processing month; the 10 days' grace is the agency's own deadline.
    cadence=Cadence("month", grace_days=10),
)
