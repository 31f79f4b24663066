"""Demo collection actions and the contractor's monthly reports, calibrated to the report's
国民年金収納対策にかかる令和２年度上半期の行動計画の進捗状況.

Collection actions (one CP932 file per processing month, April 2019 to September 2020): each
published count (a half-year's actions, a fiscal year's) is the scaled count, rounded once,
split over the months of its period with cumulative rounding, then over the prefectures in
proportion to the premium year's insured persons (the ledger's calibration), and each action
falls on a person of the ledger in that prefecture and year (a keyed draw of a slot: the same
basic pension number the ledger prints, so the two extracts join by person key).

The contractor's reports (one UTF-8 file per month, April to September 2020): the half-year's
plan and actual counts of each activity, scaled and split over the six months; the annual plan
is repeated on every month's row, as the contract stands.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

import polars as pl

from demo.allocation import allocate, round_half_up
from demo.figures import PublishedFigures
from demo.national_pension.calibration import calibrate
from demo.national_pension.records import pension_number_sql
from demo.printing import generator_database, print_file, print_monthly, wareki_print_macros
from ingest.specs import COLLECTION_ACTIONS, CONTRACTOR_ACTIVITY, CONTRACTOR_ACTIVITY_CODES

HALF_MONTHS = 6
# How a half-year's actions spread over its six months (April..September, October..March):
# special reminders go out in two waves; the rest follow the cases they escalate. One per action
# code of the spec (tests/test_collection_actions.py: a code added there needs its months here).
MONTH_WEIGHTS = {
    "1": (0.5, 1.5, 1.0, 0.6, 1.6, 0.8),
    "2": (0.8, 1.0, 1.2, 1.0, 1.0, 1.0),
    "3": (0.8, 1.0, 1.2, 1.0, 1.0, 1.0),
    "4": (0.7, 0.9, 1.1, 1.1, 1.1, 1.1),
}
CONTRACTOR_MONTH_WEIGHTS = (0.9, 0.95, 1.0, 1.0, 1.05, 1.1)


class Figures(PublishedFigures):
    """The published collection figures, read from the dbt seed the reconciliation also uses."""

    SEED = "published_np_collection_figures"

    def value(self, subject: str, code: str, fiscal_year: int, months: str, measure: str) -> int:
        [row] = self.frame.filter(
            (pl.col("subject") == subject)
            & (pl.col("code") == code)
            & (pl.col("fiscal_year") == fiscal_year)
            & (pl.col("months") == months)
            & (pl.col("measure") == measure)
        ).iter_rows(named=True)
        return int(row["published_value"])


def _month(fiscal_year: int, index: int) -> dt.date:
    """The first day of the fiscal year's ``index``-th month (0 = April)."""
    return dt.date(fiscal_year + (3 + index) // 12, (3 + index) % 12 + 1, 1)


def monthly_actions(figures: Figures, scale: float) -> dict[tuple[dt.date, str], int]:
    """(processing month, action code) -> actions at ``scale``: FY2019's two halves and FY2020's first."""
    out = {}
    for code in MONTH_WEIGHTS:
        h1_2019 = round_half_up(figures.value("office_action", code, 2019, "H1", "actions") * scale)
        fy_2019 = round_half_up(figures.value("office_action", code, 2019, "FY", "actions") * scale)
        h1_2020 = round_half_up(figures.value("office_action", code, 2020, "H1", "actions") * scale)
        for fiscal_year, first, total in ((2019, 0, h1_2019), (2019, 6, fy_2019 - h1_2019), (2020, 0, h1_2020)):
            for index, n in enumerate(allocate(total, list(MONTH_WEIGHTS[code]))):
                out[(_month(fiscal_year, first + index), code)] = n
    return out


def _persons(scale: float, seed: int) -> pl.DataFrame:
    """Insured persons (ledger slots) per premium year and prefecture, from the ledger's calibration."""
    return (
        calibrate(scale, seed)
        .group_by("premium_fiscal_year", "prefecture_code")
        .agg(pl.col("hi").max().alias("persons"))
        .sort("premium_fiscal_year", "prefecture_code")
    )


def _plan(actions: dict[tuple[dt.date, str], int], persons: pl.DataFrame) -> pl.DataFrame:
    """Actions per (processing month, code, prefecture), split in proportion to the year's persons."""
    rows = []
    for (month, code), n in actions.items():
        fiscal_year = month.year - (month.month < 4)
        year = persons.filter(pl.col("premium_fiscal_year") == fiscal_year)
        codes, weights = year["prefecture_code"].to_list(), year["persons"].to_list()
        for prefecture, (count, population) in zip(codes, zip(allocate(n, weights), weights, strict=True), strict=True):
            if count:
                rows.append((month, code, prefecture, count, population))
    schema = ["processing_month", "action_code", "prefecture_code", "n", "persons"]
    return pl.DataFrame(rows, schema=schema, orient="row")


def generate(landing_dir: Path, scale: float, seed: int, progress=None) -> list[Path]:
    """Write the collection actions and the contractor's reports into ``landing_dir``; returns the files."""
    landing_dir.mkdir(parents=True, exist_ok=True)
    figures = Figures.load()
    plan = _plan(monthly_actions(figures, scale), _persons(scale, seed))
    written: list[Path] = []
    with (
        tempfile.TemporaryDirectory(dir=landing_dir.parent, prefix=".np_collection_") as tmp,
        generator_database(Path(tmp)) as con,
    ):
        con.execute(wareki_print_macros())
        con.register("plan_frame", plan.to_arrow())
        sep = COLLECTION_ACTIONS.delimiter
        # every processing month of the period gets a file, an empty one too (no action that month)
        con.execute(
            f"""create table lines as
            with actions as (
                select p.processing_month, p.action_code, p.prefecture_code, a.i,
                    hash({seed}, p.processing_month, p.action_code, p.prefecture_code, a.i, 1) % p.persons as j,
                    hash({seed}, p.processing_month, p.action_code, p.prefecture_code, a.i, 2)
                        % day(last_day(p.processing_month)) as day_offset,
                    ((year(p.processing_month) * 12 + month(p.processing_month)) % 3)::integer as style
                from plan_frame p, range(p.n) a(i)
            )
            select processing_month, action_code, prefecture_code, i,
                concat_ws('{sep}',
                    case when style = 2 then fw(number) else number end,
                    case when style = 2 then fw(action_code) else action_code end,
                    wareki_text(processing_month + day_offset::integer, style),
                    case when style = 2 then fw(prefecture_code) else prefecture_code end,
                    wareki_month_text(processing_month, style)
                ) as line
            from (select *, {pension_number_sql(seed)} as number from actions)"""
        )
        months = [_month(2019, k) for k in range(18)]
        present = {m for (m,) in con.execute("select distinct processing_month from lines").fetchall()}
        written += print_monthly(
            con, "processing_month, action_code, prefecture_code, i", landing_dir, COLLECTION_ACTIONS, "\r\n"
        )
        for month in sorted(set(months) - present):
            written.append(
                print_file(con, "select '' as line where false", landing_dir / COLLECTION_ACTIONS.name_for(month),
                           COLLECTION_ACTIONS, "\r\n")
            )  # fmt: skip
        written += _contractor_reports(con, figures, scale, landing_dir)
    return sorted(written)


def _contractor_reports(con, figures: Figures, scale: float, landing_dir: Path) -> list[Path]:
    """The contractor's reports of April to September 2020: each activity's plan and actual, scaled."""
    lines: dict[dt.date, list[str]] = {_month(2020, k): [] for k in range(HALF_MONTHS)}
    for code in CONTRACTOR_ACTIVITY_CODES:
        annual = round_half_up(figures.value("contractor_activity", code, 2020, "FY", "annual_plan") * scale)
        planned = round_half_up(figures.value("contractor_activity", code, 2020, "H1", "planned") * scale)
        performed = round_half_up(figures.value("contractor_activity", code, 2020, "H1", "performed") * scale)
        weights = list(CONTRACTOR_MONTH_WEIGHTS)
        for index, (p, a) in enumerate(zip(allocate(planned, weights), allocate(performed, weights), strict=True)):
            month = _month(2020, index)
            lines[month].append(
                CONTRACTOR_ACTIVITY.delimiter.join((f"{month:%Y-%m}", code, str(annual), str(p), str(a)))
            )
    written = []
    for month, rows in lines.items():
        values = ", ".join(f"('{row}')" for row in rows)
        written.append(
            print_file(con, f"select * from (values {values}) t(line)", landing_dir / CONTRACTOR_ACTIVITY.name_for(month),
                       CONTRACTOR_ACTIVITY, "\n")
        )  # fmt: skip
    return written
