"""Demo employer extracts: the covered-establishment register and monthly contribution records.

Two extracts, as the agency's systems would export them:
* ``establishments_YYYYMM.csv``: the register of covered establishments (適用事業所), saved
  from a spreadsheet: UTF-8 with a BOM, wareki dates (令和2年4月1日).
* ``contributions_YYYYMM.tsv``: one record per establishment, insurance type and premium
  month (決定額, 調整額 printed with ▲ when negative, 収納額 and 収納日, 不納欠損額, 納付猶予の
  特例 approvals), tab-separated with thousands separators, one file per processing month
  holding the records whose last event fell in that month.

Calibration works in yen at the published 億円 level. For each insurance type the flows of
FY2019 and FY2020 to date (carried-in arrears, monthly determinations, on-time and late
collections, write-offs, deferrals) are solved so that September 2019 and September 2020
reproduce the 徴収状況 table, the deferral figures and FY2019's 99.1%, with the yen amounts
chosen inside every rounding window (seamen's 176/192 億円 must still give 91.8%). Delinquent
establishments are a fixed pool (142,139 through FY2019, 158,215 at September 2020, scaled):
only pool members ever leave an amount unpaid past its deadline. Each group of records
(insurance, month, fate) has an exact yen target, split over its records by cumulative
rounding, so totals are exact and every record's amount is positive.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

import polars as pl

from config.layout import seed_csv
from demo.employer.flows import Figures
from demo.employer.records import (
    AMOUNTS_SQL,
    draw,
    establishments_sql,
    group_targets,
    lines_sql,
    records_sql,
    roles,
)
from demo.printing import (
    generator_database,
    print_file,
    print_monthly,
    wareki_print_macros,
)
from ingest.specs import EMPLOYER_CONTRIBUTIONS, EMPLOYER_ESTABLISHMENTS

REGISTER_MONTH = dt.date(2020, 9, 1)  # the register is delivered as it stands at the end of the data


def generate(landing_dir: Path, scale: float, seed: int, progress=None) -> list[Path]:
    """Write the establishment register and the monthly contribution files into ``landing_dir``."""
    landing_dir.mkdir(parents=True, exist_ok=True)
    figures = Figures.load()
    r, timeline = roles(figures, scale)
    prefectures = (
        pl.read_csv(seed_csv("prefectures"), schema_overrides={"prefecture_code": pl.Utf8})
        .with_columns(hi=pl.col("population_2020_thousands").cum_sum() / pl.col("population_2020_thousands").sum())
        .with_columns(lo=pl.col("hi").shift(1, fill_value=0.0))
    )
    written: list[Path] = []
    with (
        tempfile.TemporaryDirectory(dir=landing_dir.parent, prefix=".employer_generate_") as tmp,
        generator_database(Path(tmp)) as con,
    ):
        con.execute(wareki_print_macros())
        for name, frame in [
            ("timeline", timeline),
            ("prefecture_bands", prefectures),
            ("targets", group_targets(figures, scale)),
        ]:
            con.register(f"{name}_frame", frame.to_arrow())
            con.execute(f"create table {name} as select * from {name}_frame")
        con.execute(f"""
            create table opening_starts as
            select k, openings, {r.initial}
                + coalesce(sum(openings) over (order by k rows between unbounded preceding and 1 preceding), 0) as first_i
            from timeline;
            create table closing_starts as
            select k, closures, {r.initial}
                - coalesce(sum(closures) over (order by k rows between unbounded preceding and 1 preceding), 0) as last_i
            from timeline;
        """)
        con.execute(f"""
            create table establishments as
            select b.*, p.prefecture_code,
                lpad(((i * 7919 + {seed}) % 100000000)::varchar, 8, '0') as number,
                p.prefecture_code || lpad(floor({draw(seed, "i", "'office'")} * 10)::integer::varchar, 2, '0') as office_code
            from ({establishments_sql(r, seed)}) b
            join prefecture_bands p on b.prefecture_draw >= p.lo and b.prefecture_draw < p.hi
        """)
        con.execute(f"create table records as {records_sql(seed)}")
        con.execute(f"create table amounts as {AMOUNTS_SQL}")
        con.execute(f"create table lines as {lines_sql(seed)}")

        register = f"""
            select concat_ws('{EMPLOYER_ESTABLISHMENTS.delimiter}', number, prefecture_code, office_code,
                             case when ship_owner then '船舶' else '一般' end,
                             wareki_text(opened_on, 2), wareki_text(closed_on, 2)) as line
            from establishments order by number"""
        written.append(
            print_file(
                con,
                register,
                landing_dir / EMPLOYER_ESTABLISHMENTS.name_for(REGISTER_MONTH),
                EMPLOYER_ESTABLISHMENTS,
                "\r\n",
            )
        )
        written += print_monthly(
            con, "number, insurance, premium_month", landing_dir, EMPLOYER_CONTRIBUTIONS, "\n", progress
        )
    return written
