"""The yen flows per insurance type and window, solved so the report's 徴収状況 figures come out (see the package's docstring)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TypedDict

import polars as pl

from demo.allocation import allocate, round_half_up
from demo.figures import PublishedFigures
from ingest.specs import INSURANCE_NAMES

# The generator's keys for the insurance types, in the spec's order (its names are the spec's).
INSURANCE = dict(zip(("pension", "kyokai", "seamen"), INSURANCE_NAMES, strict=True))
MONTHS = 18
WINDOWS = ((0, 6), (6, 12), (12, 18))  # Apr-Sep 2019, Oct 2019-Mar 2020, Apr-Sep 2020


# Flows not published, in 億円 at national scale (illustrative, chosen so every published
# figure is reachable): arrears carried into FY2019, carried arrears collected and written
# off in each window, and the FY2019 full-year rate where the report does not print one.
class Flow(TypedDict):
    carry: float  # 億円
    carry_collected: tuple[float, float, float]
    written_off_w2: float
    fy2019_rate: float


FLOWS: dict[str, Flow] = {
    "pension": {"carry": 2900.0, "carry_collected": (870.0, 600.0, 500.0), "written_off_w2": 80.0, "fy2019_rate": 99.1},
    "kyokai": {"carry": 1800.0, "carry_collected": (400.0, 300.0, 300.0), "written_off_w2": 51.0, "fy2019_rate": 98.2},
    "seamen": {"carry": 10.0, "carry_collected": (1.0, 0.8, 4.0), "written_off_w2": 0.1, "fy2019_rate": 95.0},
}
# Seamen's amounts are printed as 193/180/0 and 192/176/0 億円 with rates 93.4% and 91.8%;
# exact 億円 values cannot give those rates, so the yen totals sit inside the rounding windows.
YEN_OVERRIDES_OKU = {
    ("seamen", "2019-09-30"): {"determined": 193.1, "collected": 180.4, "written_off": 0.1},
    ("seamen", "2020-09-30"): {"determined": 192.2, "collected": 176.4, "written_off": 0.1},
}
SHIP_OWNERS = 6_000  # establishments paying seamen's insurance (illustrative)
KYOKAI_SHARE = 0.9  # others belong to a health-insurance society (組合健保)
DEFERRAL_ESTABLISHMENTS = 86_000  # 約8.6万事業所 granted the special deferral
MONTHLY_CLOSURE_RATE = 0.001


class Figures(PublishedFigures):
    SEED = "published_employer_figures"

    def value(self, measure: str, as_of: str, insurance: str = "") -> float:
        rows = self.frame.filter(
            (pl.col("measure") == measure)
            & (pl.col("as_of") == dt.date.fromisoformat(as_of))
            & (pl.col("insurance_name_ja") == INSURANCE.get(insurance, ""))
        )
        return float(rows["published_value"][0])


def _yen(oku: float, scale: float) -> int:
    return round_half_up(oku * 1e8 * scale)


@dataclass(frozen=True)
class InsuranceFlows:
    """Yen totals per window for one insurance type (all exact integers)."""

    carry: int  # arrears carried into FY2019 (FY2018 records)
    notified: list[int]  # determined per notified month t
    unpaid: list[int]  # of which left unpaid to the end of the data, per month
    deferred: list[int]  # of which under special deferral at September 2020, per month
    carry_collected: list[int]  # carried arrears collected, per window
    carry_written_off: list[int]  # carried arrears written off, per window


def solve_flows(figures: Figures, insurance: str, scale: float) -> InsuranceFlows:
    flows = FLOWS[insurance]

    def published(measure: str, as_of: str) -> int:
        override = YEN_OVERRIDES_OKU.get((insurance, as_of), {})
        return _yen(override.get(measure, figures.value(f"{measure}_oku", as_of, insurance)), scale)

    carry = _yen(flows["carry"], scale)
    collected_carry = [_yen(x, scale) for x in flows["carry_collected"]]
    written_off = [
        published("written_off", "2019-09-30"),
        _yen(flows["written_off_w2"], scale),
        published("written_off", "2020-09-30"),
    ]
    deferred_total = _yen(figures.value("deferred_oku", "2020-09-30", insurance), scale) if insurance != "seamen" else 0

    # FY2019 to September: determined = carry + six months notified; the rest of collections is on time.
    notified_h1 = published("determined", "2019-09-30") - carry
    unpaid_h1 = notified_h1 - (published("collected", "2019-09-30") - collected_carry[0])
    # FY2019 full year: the same monthly level for October-March; the full-year rate fixes the unpaid.
    determined_fy = carry + 2 * notified_h1
    collected_fy = round_half_up(determined_fy * flows["fy2019_rate"] / 100.0)
    unpaid_h2 = notified_h1 - (collected_fy - published("collected", "2019-09-30") - collected_carry[1])
    carry_fy2020 = (
        carry - collected_carry[0] - collected_carry[1] - written_off[0] - written_off[1] + unpaid_h1 + unpaid_h2
    )
    # FY2020 to September: determined = arrears at FY2019 end + six months notified.
    notified_h3 = published("determined", "2020-09-30") - carry_fy2020
    unpaid_and_deferred = notified_h3 - (published("collected", "2020-09-30") - collected_carry[2])
    unpaid_h3 = unpaid_and_deferred - deferred_total
    remaining_carry = carry - sum(collected_carry) - sum(written_off)
    for name, value in [
        ("unpaid_h1", unpaid_h1),
        ("unpaid_h2", unpaid_h2),
        ("unpaid_h3", unpaid_h3),
        ("remaining_carry", remaining_carry),
    ]:
        if value <= 0:
            raise ValueError(f"{insurance}: calibration infeasible, {name} = {value} yen at scale {scale}")

    six = [1.0] * 6
    return InsuranceFlows(
        carry=carry,
        notified=allocate(notified_h1, six) + allocate(notified_h1, six) + allocate(notified_h3, six),
        unpaid=allocate(unpaid_h1, six) + allocate(unpaid_h2, six) + allocate(unpaid_h3, six),
        deferred=[0] * 12 + allocate(deferred_total, six),
        carry_collected=collected_carry,
        carry_written_off=written_off,
    )


def covered_targets(figures: Figures, scale: float) -> list[int]:
    """Covered establishments at each month end from March 2018 (index -12) to September 2020 (17)."""
    anchors = {
        5: figures.value("covered_establishments", "2019-09-30"),
        11: figures.value("covered_establishments", "2020-03-31"),
        17: figures.value("covered_establishments", "2020-09-30"),
    }
    slope = (anchors[11] - anchors[5]) / 6
    out = []
    for t in range(-13, MONTHS):
        if t <= 5:
            value = anchors[5] - (5 - t) * slope
        elif t <= 11:
            value = anchors[5] + (t - 5) * slope
        else:
            value = anchors[11] + (t - 11) * (anchors[17] - anchors[11]) / 6
        out.append(round_half_up(value * scale))
    return out  # index 0 = end of March 2018
