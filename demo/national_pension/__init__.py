"""Demo National Pension premium ledger (国民年金保険料 収納台帳), calibrated to the agency report.

Record shape: one record per insured person and premium fiscal year, with the twelve-month
repeating group a mainframe prints (納付区分 and 納付日 for April..March). At national scale
that is ~15 million records per premium year; one record per person and month would be twelve
times as many rows for the same information (see README, "Premium ledger").

Files: one CP932 file per processing month (処理年月), holding the records that changed in
that month, each printed in full. A record whose late payments arrive after the premium
year's current-year close (April of FY+1) appears twice: as it stood at the close and as it
stands after its last payment; the loader keeps the latest version of each record.
Formats vary by file as they do across mainframe jobs: R02.04.30, R020430 or
令和２年４月３０日 with full-width digits and numbers.

Calibration (all in plain Python over a few thousand cells, then one DuckDB query per
premium year expands them into records):
1. National months due per premium month come from the published months paid and rates.
2. The cumulative months paid by each as-of month end is fixed by the published curve, the
   current-year, past-year and final rates (at unrounded targets chosen inside every
   published rounding window, including the points figures derived from two rates).
3. Each month's increment is split into on-time payments of the newly due month and late
   payments of earlier months (a hazard on the unpaid remainder, within the two-year limit).
4. Okinawa is solved the same way against its own published rates; the rest of the country
   is allocated to the other 46 prefectures with illustrative rate differences.
5. Slots in each (premium year, prefecture, month) are laid out as contiguous ranges (paid by
   as-of k, unpaid, exempt categories), so a person keeps a stable position across months.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from demo.national_pension import collection
from demo.national_pension.calibration import calibrate
from demo.national_pension.records import records_sql, versions_sql
from demo.national_pension.targets import FISCAL_YEARS
from demo.printing import generator_database, print_monthly, wareki_print_macros
from ingest.specs import NATIONAL_PENSION_LEDGER

# The person-year pivot holds a batch's persons in one hash aggregate: the whole country at
# national scale (15M persons a year) outgrows the memory limit, the largest prefecture does not.
# So a batch holds no more persons than the largest prefecture, or than this many, whichever is
# more: one batch at small scales, where 47 statements would cost more than the work.
PERSONS_PER_BATCH = 500_000


def _prefecture_batches(con, fiscal_year: int) -> list[list[str]]:
    """The year's prefectures, in code order, grouped into batches to expand into records together."""
    persons = con.execute(
        "select prefecture_code, max(hi) from cells where premium_fiscal_year = ? group by all order by 1",
        [fiscal_year],
    ).fetchall()
    limit = max(PERSONS_PER_BATCH, *(n for _, n in persons))
    batches: list[list[str]] = [[]]
    held = 0
    for code, n in persons:
        if held + n > limit:
            batches.append([])
            held = 0
        batches[-1].append(code)
        held += n
    return batches


def generate(landing_dir: Path, scale: float, seed: int, progress=None) -> list[Path]:
    """Write one CP932 ledger file per processing month into ``landing_dir``; returns the files.

    Files are written under a temporary name and renamed into place, so the loader never sees
    half a file. Re-running with the same scale and seed rewrites identical bytes.
    """
    landing_dir.mkdir(parents=True, exist_ok=True)
    cells = calibrate(scale, seed)
    written: list[Path] = []
    with (
        tempfile.TemporaryDirectory(dir=landing_dir.parent, prefix=".np_generate_") as tmp,
        generator_database(Path(tmp)) as con,
    ):
        con.execute(wareki_print_macros())
        con.register("cells_frame", cells.to_arrow())
        con.execute("create table cells as select * from cells_frame")
        con.execute(
            "create table lines (processing_month date, line varchar, fiscal_year integer, prefecture_code varchar, j bigint)"
        )
        for fy in FISCAL_YEARS:
            batches = _prefecture_batches(con, fy)
            con.execute(f"create or replace temp table records as {records_sql(fy, seed, batches[0])}")
            for batch in batches[1:]:
                con.execute(f"insert into records {records_sql(fy, seed, batch)}")
            con.execute(
                f"insert into lines select processing_month, line, {fy}, prefecture_code, j from ({versions_sql(fy, seed)})"
            )
        written += print_monthly(
            con, "fiscal_year, prefecture_code, j", landing_dir, NATIONAL_PENSION_LEDGER, "\r\n", progress
        )
    # the collection actions on the ledger's persons, and the contractor's reports (collection.py)
    written += collection.generate(landing_dir, scale, seed)
    return written
