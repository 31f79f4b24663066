"""What the National Pension generator calibrates to: the report's figures and unrounded targets inside their rounding windows."""

from __future__ import annotations

import calendar
import datetime as dt

import polars as pl

from demo.figures import PublishedFigures

# Premium years in the demo ledger: from FY2010, whose final rate is the first column of the
# report's table 国民年金適用・収納対策業務の状況 (FY2012 shows premium FY2010's final rate).
FISCAL_YEARS = tuple(range(2010, 2021))
DATA_END = dt.date(2020, 9, 30)  # the last processing month of the demo extracts
OKINAWA = "47"
# Okinawa's share of first-category insured persons runs above its population share.
OKINAWA_WEIGHT = 1.3

# The national rates are not declared here: every target is solved from the published figures
# (calibration.national_rate_targets), inside each printed value's rounding window and each printed
# difference's. Okinawa's own figures are few, so its targets are chosen by hand, each inside
# its window: FY2018's 51.20 makes FY2019's +4.2 over it.
OKINAWA_TARGETS = {2018: {12: 51.20}, 2019: {5: 42.40, 12: 55.40}, 2020: {5: 48.10}}
# Share of a rounding window a solved target keeps clear of each edge, so that integer counts at
# any scale stay inside it.
TARGET_SLACK = 0.4

# Exemptions renew in July, so April-June carry more months due than July-March.
DUE_WEIGHTS = [1.157] * 3 + [1.0] * 9
VOLUNTARY_STATUS = "9"  # 任意加入: due like "1", never exempt; the 全額免除率's denominator leaves them out
NOT_DUE_SHARES = {"2": 0.22, "3": 0.36, "4": 0.32, "5": 0.10}  # statutory, approved, student, youth
# Payment channels (納付経路, seed np_payment_channels): direct debit and credit card are solved per
# month from the printed 実施率; the multi-payment network's other channels share what the printed
# マルチペイメント count leaves after credit cards, in these illustrative proportions.
COUNTER, DIRECT_DEBIT, CREDIT_CARD = "1", "2", "3"
MULTI_PAYMENT_SHARES = {"4": 0.70, "5": 0.10, "6": 0.20}  # convenience store, internet banking, Pay-easy
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

    def rows(self, measure: str, prefecture: str = "") -> list[dict]:
        return list(
            self.frame.filter((pl.col("measure") == measure) & (pl.col("prefecture_code") == prefecture)).iter_rows(
                named=True
            )
        )

    def values(self, measure: str, prefecture: str = "") -> dict[tuple[int, int], float]:
        """(premium year, as-of index) -> published value; for rates, the most precise one."""
        rows = sorted(self.rows(measure, prefecture), key=lambda r: r["decimals"])
        return {
            (r["premium_fiscal_year"], as_of_index(r["premium_fiscal_year"], r["as_of"])): r["published_value"]
            for r in rows
        }

    def rate_checks(self, prefecture: str = "") -> dict[tuple[int, int], list[tuple[float, int]]]:
        """(premium year, as-of index) -> every (published percent, decimals) printed for it."""
        out: dict[tuple[int, int], list[tuple[float, int]]] = {}
        for r in self.rows("payment_rate", prefecture):
            key = (r["premium_fiscal_year"], as_of_index(r["premium_fiscal_year"], r["as_of"]))
            out.setdefault(key, []).append((r["published_value"], r["decimals"]))
        return out

    def dated(self, measure: str) -> dict[dt.date, float]:
        """as_of -> published value of a nationwide count read at a date (insured, fully exempt persons)."""
        return {r["as_of"]: r["published_value"] for r in self.rows(measure)}

    def change_references(self, measure: str) -> dict[dt.date, float]:
        """The counts a printed change implies at its reference date (value / (1 + change)), where
        the report prints no count of its own there: FY2011's, which only FY2012's change reads."""
        printed = self.dated(measure.removesuffix("_change"))
        return {
            r["reference_as_of"]: printed[r["as_of"]] / (1 + r["published_value"] / 100)
            for r in self.rows(measure)
            if r["reference_as_of"] not in printed
        }

    def months_paid(self) -> dict[tuple[int, int], float]:
        """(premium year, as-of index) -> months paid: printed, or implied by a printed change."""
        printed = self.values("months_paid")
        implied = {
            (r["reference_fiscal_year"], as_of_index(r["reference_fiscal_year"], r["reference_as_of"])): printed[
                (r["premium_fiscal_year"], as_of_index(r["premium_fiscal_year"], r["as_of"]))
            ]
            / (1 + r["published_value"] / 100)
            for r in self.rows("months_paid_change")
        }
        return {**implied, **printed}
