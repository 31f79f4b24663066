"""What the National Pension generator calibrates to: the report's figures and unrounded targets inside their rounding windows."""

from __future__ import annotations

import calendar
import datetime as dt

import polars as pl

from demo.figures import PublishedFigures

FISCAL_YEARS = (2017, 2018, 2019, 2020)
DATA_END = dt.date(2020, 9, 30)  # the last processing month of the demo extracts
OKINAWA = "47"
# Okinawa's share of first-category insured persons runs above its population share.
OKINAWA_WEIGHT = 1.3

# Unrounded national rate targets (percent) by premium year and as-of index k (k months after
# the premium year's April: 12 = 30 April FY+1, 23 = 31 March FY+2, 35 = 31 March FY+3).
# Each lies inside its published window and keeps every derived points figure right: FY2018's
# 68.12 makes FY2019's year-on-year +1.1 (not +1.2), FY2019's 72.8475 makes its gain +3.6.
# Where the report gives the curve (FY2019, FY2020) its printed values are the targets.
NATIONAL_TARGETS = {
    2017: {12: 66.30, 17: 69.92, 23: 73.40, 29: 75.10, 35: 76.30},
    2018: {12: 68.12, 17: 71.60, 23: 74.90, 29: 76.30},
    2019: {12: 69.2525, 17: 72.8475},
    2020: {},
}
OKINAWA_TARGETS = {2018: {12: 51.20}, 2019: {5: 42.40, 12: 55.40}, 2020: {5: 48.10}}
# First-category insured persons at 31 March 2017 (FY2016 end): outside the reconciled
# range, it only shapes FY2017's months. September counts before 2019 are estimated from
# the FY2019 March-to-September ratio.
INSURED_FY2016_END = 15_754_065

# Exemptions renew in July, so April-June carry more months due than July-March.
DUE_WEIGHTS = [1.157] * 3 + [1.0] * 9
NOT_DUE_SHARES = {"2": 0.22, "3": 0.36, "4": 0.32, "5": 0.10}  # statutory, approved, student, youth
PARTIAL_PER_MILLE = {"6": 15, "7": 10, "8": 15}  # of months due: 1/4, 1/2, 3/4 exempt
ON_TIME_SHARE_IN_PREMIUM_MONTH = 0.3  # the rest pay in the deadline month (end of the next month)
LATE_HAZARD, LATE_DECAY, LIMITATION_MONTHS = 0.12, 0.92, 24


def month_end(year: int, month: int) -> dt.date:
    year, month = year + (month - 1) // 12, (month - 1) % 12 + 1
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def horizon(fiscal_year: int) -> int:
    """The last as-of index inside the demo data (30 September 2020)."""
    return (DATA_END.year - fiscal_year) * 12 + DATA_END.month - 4


def as_of_index(fiscal_year: int, as_of: dt.date) -> int:
    return (as_of.year - fiscal_year) * 12 + as_of.month - 4


class Figures(PublishedFigures):
    """The published payment figures, read from the dbt seed the reconciliation also uses."""

    SEED = "published_np_payment_figures"

    def _rows(self, measure: str, prefecture: str) -> list[dict]:
        return list(
            self.frame.filter((pl.col("measure") == measure) & (pl.col("prefecture_code") == prefecture)).iter_rows(
                named=True
            )
        )

    def values(self, measure: str, prefecture: str = "") -> dict[tuple[int, int], float]:
        """(premium year, as-of index) -> published value; for rates, the most precise one."""
        rows = sorted(self._rows(measure, prefecture), key=lambda r: r["decimals"])
        return {
            (r["premium_fiscal_year"], as_of_index(r["premium_fiscal_year"], r["as_of"])): r["published_value"]
            for r in rows
        }

    def rate_checks(self, prefecture: str = "") -> dict[tuple[int, int], list[tuple[float, int]]]:
        """(premium year, as-of index) -> every (published percent, decimals) printed for it."""
        out: dict[tuple[int, int], list[tuple[float, int]]] = {}
        for r in self._rows("payment_rate", prefecture):
            key = (r["premium_fiscal_year"], as_of_index(r["premium_fiscal_year"], r["as_of"]))
            out.setdefault(key, []).append((r["published_value"], r["decimals"]))
        return out
