"""The National Pension premium ledger: monthly CP932 prints, wareki dates, one row per person and fiscal year."""

from __future__ import annotations

from ingest.loading import grammars as f
from ingest.specs.model import Cadence, Column, ExtractSpec, RowRule, Volume

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
PREMIUM_STATUS_CODES = ("1", "2", "3", "4", "5", "6", "7", "8", "9")  # see seed np_premium_statuses
DUE_STATUS_CODES = ("1", "6", "7", "8", "9")
# How a month's premium was paid (納付経路); see seed np_payment_channels. 3-6 go through the
# multi-payment network (マルチペイメント: credit card, convenience store, internet banking, Pay-easy).
PAYMENT_CHANNEL_CODES = ("1", "2", "3", "4", "5", "6")

# The columns the mainframe prints alike in the ledger and the collection actions: the same
# person has the same person_key in both (one key).
PERSON_KEY = Column(
    "person_key",
    "VARCHAR",
    parse=f.PENSION_NUMBER,
    sensitive=True,
    parse_distinct=True,
    description="Keyed pseudonym (HMAC-SHA256, 128 bits, hex) of the basic pension number 基礎年金番号; "
    "the number itself is never stored.",
)
PREFECTURE = Column(
    "prefecture_code",
    "VARCHAR",
    parse=f.PREFECTURE_CODE,
    parse_distinct=True,
    description="JIS prefecture code of residence, '01'-'47'.",
)
PROCESSING_MONTH = Column(
    "processing_month",
    "DATE",
    parse=f.WAREKI_MONTH,
    parse_distinct=True,
    description="Processing month (処理年月) the record was printed in; first of the month.",
)


NATIONAL_PENSION_LEDGER = ExtractSpec(
    source="national_pension",
    entity="premium_ledger",
    file_name="premium_ledger_YYYYMM.csv",
    encoding="cp932",
    description=(
        "National Pension premium ledger (国民年金保険料 収納台帳) as the mainframe prints it, one CP932 file per "
        "processing month: one record per first-category insured person and premium fiscal year, with the "
        "twelve-month repeating group of status (納付区分), payment date (納付日) and payment channel (納付経路). "
        "A record reappears, in "
        "full, in every processing month it changes; the latest processing month wins."
    ),
    header=("基礎年金番号", "保険料年度", "都道府県コード", "処理年月")
    + tuple(
        label
        for _, month in PREMIUM_MONTHS
        for label in (f"{month}月納付区分", f"{month}月納付日", f"{month}月納付経路")
    ),
    columns=(
        PERSON_KEY,
        Column(
            "premium_fiscal_year",
            "INTEGER",
            parse=f.WAREKI_FISCAL_YEAR,
            parse_distinct=True,
            description="Premium fiscal year (保険料年度), e.g. 令和2年度 = 2020.",
        ),
        PREFECTURE,
        PROCESSING_MONTH,
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
                happened=True,
                description=f"{month}月 premium payment date.",
            ),
            Column(
                f"channel_{name}",
                "VARCHAR",
                required=False,
                parse_distinct=True,
                parse=f.halfwidth_code(PAYMENT_CHANNEL_CODES),
                description=f"{month}月 premium payment channel code (blank when unpaid).",
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
            "payment date and payment channel not printed together",
            " and ".join(f"((paid_on_{n} is null) = (channel_{n} is null))" for n, _ in PREMIUM_MONTHS),
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
    # premium_ledger_202009.csv is the print of processing month 2020-09: every record in it says so.
    period_column="processing_month",
    # A month's file holds only the records that changed (a few hundred to a full reprint at the
    # year's close), so a new month has no floor; a re-delivery keeps at least a quarter of its rows.
    volume=Volume(),
    # Printed once a month for the processing month; the 10 days' grace is the agency's own deadline.
    cadence=Cadence("month", grace_days=10),
)


# What the pension offices do to collect unpaid premiums, in the order a case escalates;
# see seed np_collection_action_types.
COLLECTION_ACTION_CODES = ("1", "2", "3", "4")  # special reminder, final reminder, demand notice, seizure

COLLECTION_ACTIONS = ExtractSpec(
    source="national_pension",
    entity="collection_actions",
    file_name="collection_actions_YYYYMM.csv",
    encoding="cp932",
    description=(
        "National Pension collection actions (国民年金 強制徴収・催告 実施記録) as the same mainframe prints "
        "them, one CP932 file per processing month: one record per action taken on an insured person "
        "with unpaid premiums (特別催告状, 最終催告状, 督促状 sent; 差押 executed), dated in wareki."
    ),
    header=("基礎年金番号", "処分区分", "実施日", "都道府県コード", "処理年月"),
    columns=(
        PERSON_KEY,
        Column(
            "action_code",
            "VARCHAR",
            parse=f.halfwidth_code(COLLECTION_ACTION_CODES),
            parse_distinct=True,
            description="Action (処分区分): 1 special reminder 特別催告状, 2 final reminder 最終催告状, "
            "3 demand notice 督促状, 4 seizure 差押執行 (seed np_collection_action_types).",
        ),
        Column(
            "action_date",
            "DATE",
            parse=f.WAREKI_DATE,
            parse_distinct=True,
            happened=True,
            description="Date the notice was sent or the seizure executed (実施日).",
        ),
        PREFECTURE,
        PROCESSING_MONTH,
    ),
    # An action is printed in the processing month it was entered in, which may be after the
    # day it was taken (a seizure executed on the 30th, entered in the next month), never before.
    rules=(RowRule("action dated after its processing month", "action_date <= last_day(processing_month)"),),
    # collection_actions_202009.csv prints the actions of processing month 2020-09.
    period_column="processing_month",
    # Special reminders go out in waves, and seizures stopped in the spring of 2020: a month
    # holds anything from none to a wave, so a new month has no floor.
    volume=Volume(),
    cadence=Cadence("month", grace_days=10),
)

# The outsourced contractor's (市場化テスト受託事業者) activities; see seed np_contractor_activities.
CONTRACTOR_ACTIVITY_CODES = ("1", "2", "3")  # telephone, door-to-door, letters

CONTRACTOR_ACTIVITY = ExtractSpec(
    source="national_pension",
    entity="contractor_activity",
    file_name="contractor_activity_YYYYMM.csv",
    encoding="utf-8",
    description=(
        "The collection contractor's monthly activity report (市場化テスト 月次実績報告), one UTF-8 file per "
        "month: for each activity, its annual plan, the month's plan and the month's actual count. Counts "
        "only: the contractor reports no person."
    ),
    header=("報告年月", "活動区分", "年間計画件数", "当月計画件数", "当月実績件数"),
    columns=(
        Column(
            "report_month",
            "DATE",
            parse=f.ISO_MONTH,
            parse_distinct=True,
            happened=True,
            description="Month reported (YYYY-MM); first of the month.",
        ),
        Column(
            "activity_code",
            "VARCHAR",
            parse=f.halfwidth_code(CONTRACTOR_ACTIVITY_CODES),
            parse_distinct=True,
            description="Activity (活動区分): 1 telephone 電話勧奨, 2 door-to-door 戸別訪問, 3 letters 文書勧奨 "
            "(seed np_contractor_activities).",
        ),
        Column(
            "annual_plan",
            "INTEGER",
            parse=f.INTEGER,
            description="Planned count for the fiscal year (年間計画件数), as the contract stands that month.",
        ),
        Column("planned", "INTEGER", parse=f.INTEGER, description="Planned count for the month (当月計画件数)."),
        Column("performed", "INTEGER", parse=f.INTEGER, description="Actual count in the month (当月実績件数)."),
    ),
    rules=(RowRule("negative count", "annual_plan >= 0 and planned >= 0 and performed >= 0"),),
    period_column="report_month",
    # Three rows a month, one per activity: a re-delivery that lost one is caught by its floor.
    volume=Volume(redelivery_floor=1.0),
    # Due by the 10th of the next month, as the contract asks (the ledger's deadline too).
    cadence=Cadence("month", grace_days=10),
)
