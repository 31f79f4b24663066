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

import calendar
import datetime as dt
import random
import tempfile
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from ingest.allocation import allocate, rate_rounds_to, round_half_up
from ingest.config import SEEDS_DIR, seed_csv
from ingest.generate.printing import generator_database, print_file, wareki_print_macros

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


def as_of_date(fiscal_year: int, k: int) -> dt.date:
    return month_end(fiscal_year, 4 + k)


def horizon(fiscal_year: int) -> int:
    """The last as-of index inside the demo data (30 September 2020)."""
    return (DATA_END.year - fiscal_year) * 12 + DATA_END.month - 4


def _as_of_index(fiscal_year: int, as_of: dt.date) -> int:
    return (as_of.year - fiscal_year) * 12 + as_of.month - 4


@dataclass(frozen=True)
class Figures:
    """The published payment figures, read from the dbt seed the reconciliation also uses."""

    frame: pl.DataFrame

    @classmethod
    def load(cls, seeds_dir: Path = SEEDS_DIR) -> Figures:
        frame = pl.read_csv(
            seed_csv("published_np_payment_figures", seeds_dir),
            schema_overrides={"prefecture_code": pl.Utf8, "published_value": pl.Float64},
            try_parse_dates=True,
        ).with_columns(pl.col("prefecture_code").fill_null(""))
        return cls(frame)

    def _rows(self, measure: str, prefecture: str) -> list[dict]:
        return list(
            self.frame.filter((pl.col("measure") == measure) & (pl.col("prefecture_code") == prefecture)).iter_rows(named=True)
        )

    def values(self, measure: str, prefecture: str = "") -> dict[tuple[int, int], float]:
        """(premium year, as-of index) -> published value; for rates, the most precise one."""
        rows = sorted(self._rows(measure, prefecture), key=lambda r: r["decimals"])
        return {(r["premium_fiscal_year"], _as_of_index(r["premium_fiscal_year"], r["as_of"])): r["published_value"] for r in rows}

    def rate_checks(self, prefecture: str = "") -> dict[tuple[int, int], list[tuple[float, int]]]:
        """(premium year, as-of index) -> every (published percent, decimals) printed for it."""
        out: dict[tuple[int, int], list[tuple[float, int]]] = {}
        for r in self._rows("payment_rate", prefecture):
            key = (r["premium_fiscal_year"], _as_of_index(r["premium_fiscal_year"], r["as_of"]))
            out.setdefault(key, []).append((r["published_value"], r["decimals"]))
        return out


def national_rate_targets(figures: Figures) -> dict[int, dict[int, float]]:
    """Percent targets per premium year and as-of index: the annual anchors, then the printed curve."""
    targets = {fy: dict(t) for fy, t in NATIONAL_TARGETS.items()}
    for (fy, k), value in figures.values("payment_rate").items():
        targets[fy].setdefault(k, value)
    # FY2017 and FY2018 have no published curve: FY2019's shape, scaled to their own year-end.
    for fy in (2017, 2018):
        for k in range(1, 12):
            targets[fy][k] = targets[2019][k] * targets[fy][12] / targets[2019][12]
    return targets


def _anchored_due(months_paid: int, rate_percent: float, checks: list[tuple[float, int]]) -> int:
    """Months due so that months_paid/due rounds to every (published percent, decimals) in checks."""
    due = round_half_up(months_paid * 100.0 / rate_percent)
    for step in (0, 1, -1, 2, -2, 3, -3):
        if all(rate_rounds_to(months_paid, due + step, p, d) for p, d in checks):
            return due + step
    raise ValueError(f"no months-due count reproduces {checks} with {months_paid} months paid; scale too small")


def national_due(figures: Figures, scale: float) -> dict[int, list[int]]:
    """Months due per premium month (April..March) for each premium year, at ``scale``."""
    paid = {key: round_half_up(v * scale) for key, v in figures.values("months_paid").items()}
    checks = figures.rate_checks()
    targets = national_rate_targets(figures)

    def anchored(fy: int, k: int) -> int:
        return _anchored_due(paid[(fy, k)], targets[fy][k], checks[(fy, k)])

    due: dict[int, list[int]] = {fy: allocate(anchored(fy, 12), DUE_WEIGHTS) for fy in (2017, 2018)}
    first5 = anchored(2019, 5)
    due[2019] = allocate(first5, DUE_WEIGHTS[:5]) + allocate(anchored(2019, 12) - first5, DUE_WEIGHTS[5:])
    first5 = anchored(2020, 5)
    september = round_half_up(first5 * DUE_WEIGHTS[5] / sum(DUE_WEIGHTS[:5]))
    due[2020] = allocate(first5, DUE_WEIGHTS[:5]) + [september] + [0] * 6  # later months: not yet determined
    return due


def cumulative_paid_targets(
    due: list[int], rate_targets: dict[int, float], exact: dict[int, int], last_k: int
) -> list[int]:
    """Months paid by each as-of index 0..last_k (of the premium months already due)."""
    def denominator(k: int) -> int:
        return sum(due[: min(k, 12)])

    anchors = sorted(k for k in rate_targets if k >= 12)
    cumulative = [0]
    for k in range(1, last_k + 1):
        if k in exact:
            value = exact[k]
        elif k <= 12 or k in rate_targets:
            value = round_half_up(rate_targets[k] / 100.0 * denominator(k))
        else:
            before = max(a for a in anchors if a < k)
            after = min((a for a in anchors if a > k), default=None)
            if after is None:  # past the last published point: no further payments modelled
                value = cumulative[-1]
            else:
                share = (k - before) / (after - before)
                rate = rate_targets[before] + share * (rate_targets[after] - rate_targets[before])
                value = round_half_up(rate / 100.0 * denominator(k))
        cumulative.append(max(value, cumulative[-1]))
    return cumulative


def _hazard(months_late: int) -> float:
    if 1 <= months_late <= LIMITATION_MONTHS:
        return LATE_HAZARD * LATE_DECAY ** (months_late - 1)
    return 0.0


def solve_payments(due: list[int], cumulative: list[int], label: str) -> dict[tuple[int, int], int]:
    """Months paid per (premium month m, as-of index k at which they first count).

    A month's premium counts from the as-of index of its deadline (k = m + 1) when paid on
    time; late payments count at the month they are made, within the two-year limitation.
    """
    paid: dict[tuple[int, int], int] = {}
    unpaid = [0] * 12
    for k in range(1, len(cumulative)):
        increment = cumulative[k] - cumulative[k - 1]
        older = [m for m in range(min(k - 1, 12)) if _hazard(k - m - 1) > 0 and unpaid[m] > 0]
        weights = [unpaid[m] * _hazard(k - m - 1) for m in older]
        new = k - 1 if k <= 12 else None
        if new is not None:
            # On-time share between 30% and 95%; late payments of older months take the rest.
            on_time = min(max(increment - sum(weights), 0.30 * due[new]), 0.95 * due[new], increment)
            late = increment - round_half_up(on_time)
        else:
            late = increment
        if late > sum(unpaid[m] for m in older):
            raise ValueError(f"{label}: {late} late payments at as-of {k} exceed the unpaid months")
        for m, part in zip(older, allocate(late, weights) if late else [0] * len(older)):
            part = min(part, unpaid[m])
            paid[(m, k)] = paid.get((m, k), 0) + part
            unpaid[m] -= part
        if new is not None:
            on_time = increment - sum(paid.get((m, k), 0) for m in older)
            if not 0 <= on_time <= due[new]:
                raise ValueError(f"{label}: infeasible on-time payments {on_time} of {due[new]} due at as-of {k}")
            paid[(new, k)] = on_time
            unpaid[new] = due[new] - on_time
    return {key: v for key, v in paid.items() if v}


def _interpolated_ratio(anchors: dict[int, float], k: int) -> float:
    keys = sorted(anchors)
    k = min(max(k, keys[0]), max(12, keys[-1]))
    if k >= keys[-1]:
        return anchors[keys[-1]]
    after = min(a for a in keys if a >= k)
    before = max((a for a in keys if a <= k), default=after)
    if after == before:
        return anchors[after]
    return anchors[before] + (k - before) / (after - before) * (anchors[after] - anchors[before])


def okinawa_rate_targets(national: dict[int, dict[int, float]]) -> dict[int, dict[int, float]]:
    """Okinawa's rate at every as-of index: its published rates, between them a ratio to the nation's."""
    out = {}
    for fy in FISCAL_YEARS:
        published = OKINAWA_TARGETS.get(fy) or OKINAWA_TARGETS[2018]  # FY2017: FY2018's gap to the nation
        ratios = {k: v / national[2018 if fy not in OKINAWA_TARGETS else fy][k] for k, v in published.items()}
        out[fy] = {k: national[fy][k] * _interpolated_ratio(ratios, k) for k in national[fy]}
        if fy in OKINAWA_TARGETS:
            out[fy].update(published)
    return out


def insured_persons(figures: Figures, scale: float) -> dict[int, list[int]]:
    """First-category insured persons per premium month, interpolated between published month ends."""
    published = {r["as_of"]: r["published_value"] for r in figures.frame.filter(pl.col("measure") == "insured_persons").iter_rows(named=True)}
    march_to_september = published[dt.date(2019, 9, 30)] / published[dt.date(2019, 3, 31)]
    anchors = {dt.date(2017, 3, 31): INSURED_FY2016_END, **published}
    for year in (2017, 2018):
        anchors[dt.date(year, 9, 30)] = anchors[dt.date(year, 3, 31)] * march_to_september
    points = sorted((d.year * 12 + d.month, v) for d, v in anchors.items())
    out = {}
    for fy in FISCAL_YEARS:
        months = []
        for m in range(12):
            t = fy * 12 + 4 + m
            if t > DATA_END.year * 12 + DATA_END.month:
                months.append(0)
                continue
            (t0, v0), (t1, v1) = max(p for p in points if p[0] <= t), min(p for p in points if p[0] >= t)
            value = v0 if t1 == t0 else v0 + (t - t0) / (t1 - t0) * (v1 - v0)
            months.append(round_half_up(value * scale))
        out[fy] = months
    return out


def prefecture_weights(seed: int) -> pl.DataFrame:
    """Illustrative prefecture shares (population) and payment propensities (not published)."""
    prefectures = pl.read_csv(seed_csv("prefectures"), schema_overrides={"prefecture_code": pl.Utf8})
    rng = random.Random(seed)
    return prefectures.select(
        "prefecture_code",
        weight=pl.col("population_2020_thousands").cast(pl.Float64)
        * pl.when(pl.col("prefecture_code") == OKINAWA).then(OKINAWA_WEIGHT).otherwise(1.0),
        propensity=pl.Series([rng.uniform(0.92, 1.10) for _ in range(prefectures.height)]),
    )


def calibrate(scale: float, seed: int, figures: Figures | None = None) -> pl.DataFrame:
    """Slot ranges per (premium year, prefecture, premium month): the whole demo ledger, as counts.

    Columns: premium_fiscal_year, prefecture_code, month_index (0 = April), lo, hi (slots
    [lo, hi)), status_class ('1' due, '2'..'5' not due) and paid_k (as-of index at which the
    month counts as paid; null when unpaid).
    """
    figures = figures or Figures.load()
    national_targets = national_rate_targets(figures)
    okinawa_targets = okinawa_rate_targets(national_targets)
    months_paid = {key: round_half_up(v * scale) for key, v in figures.values("months_paid").items()}
    due_all = national_due(figures, scale)
    insured_all = insured_persons(figures, scale)
    weights = prefecture_weights(seed)
    codes = weights["prefecture_code"].to_list()
    okinawa_share = weights.filter(pl.col("prefecture_code") == OKINAWA)["weight"][0] / weights["weight"].sum()
    rest = weights.filter(pl.col("prefecture_code") != OKINAWA)
    rest_codes, rest_weights, propensity = rest["prefecture_code"].to_list(), rest["weight"].to_list(), rest["propensity"].to_list()

    rows = []
    for fy in FISCAL_YEARS:
        last_k = min(horizon(fy), 12 + LIMITATION_MONTHS)
        due = due_all[fy]
        exact = {k: v for (f, k), v in months_paid.items() if f == fy}
        national = solve_payments(due, cumulative_paid_targets(due, national_targets[fy], exact, last_k), f"FY{fy} national")
        due_ok = [round_half_up(d * okinawa_share) for d in due]
        okinawa = solve_payments(due_ok, cumulative_paid_targets(due_ok, okinawa_targets[fy], {}, last_k), f"FY{fy} Okinawa")

        per_prefecture: dict[str, dict] = {OKINAWA: {"due": due_ok, "paid": okinawa}}
        for code in rest_codes:
            per_prefecture[code] = {"due": [], "paid": {}}
        for m in range(12):
            for code, d in zip(rest_codes, allocate(due[m] - due_ok[m], rest_weights)):
                per_prefecture[code]["due"].append(d)
        for (m, k), n in national.items():
            remainder = n - okinawa.get((m, k), 0)
            if remainder < 0:
                raise ValueError(f"FY{fy}: Okinawa pays more months than the nation at premium month {m}, as-of {k}")
            shares = [per_prefecture[c]["due"][m] * p for c, p in zip(rest_codes, propensity)]
            for code, part in zip(rest_codes, allocate(remainder, shares)):
                if part:
                    per_prefecture[code]["paid"][(m, k)] = part
        insured_by_code = {code: [] for code in codes}
        for m in range(12):
            for code, n in zip(codes, allocate(insured_all[fy][m], weights["weight"].to_list())):
                insured_by_code[code].append(n)

        for code in codes:
            pref = per_prefecture[code]
            for m in range(12):
                insured, d = insured_by_code[code][m], pref["due"][m]
                if d > insured:
                    raise ValueError(f"FY{fy} prefecture {code} month {m}: {d} months due > {insured} insured")
                lo = 0
                for k in sorted(k for (mm, k) in pref["paid"] if mm == m):
                    n = pref["paid"][(m, k)]
                    rows.append((fy, code, m, lo, lo + n, "1", k))
                    lo += n
                if lo > d:
                    raise ValueError(f"FY{fy} prefecture {code} month {m}: {lo} months paid > {d} due")
                rows.append((fy, code, m, lo, d, "1", None))
                for status, n in zip(NOT_DUE_SHARES, allocate(insured - d, list(NOT_DUE_SHARES.values()))):
                    rows.append((fy, code, m, d, d + n, status, None))
                    d += n
    cells = pl.DataFrame(
        rows,
        schema={"premium_fiscal_year": pl.Int32, "prefecture_code": pl.Utf8, "month_index": pl.Int32,
                "lo": pl.Int64, "hi": pl.Int64, "status_class": pl.Utf8, "paid_k": pl.Int32},
        orient="row",
    )
    return cells.filter(pl.col("hi") > pl.col("lo"))


# ---------------------------------------------------------------------------------------
# Record expansion and printing. Per-slot attributes come from a keyed hash, so the output
# is deterministic for a seed whatever DuckDB's thread schedule.

HEADER = ["基礎年金番号", "保険料年度", "都道府県コード", "処理年月"] + [
    label for month in (4, 5, 6, 7, 8, 9, 10, 11, 12, 1, 2, 3) for label in (f"{month}月納付区分", f"{month}月納付日")
]
# Serial numbers are a bijection of the slot (387433 is coprime with 10^6), so they look
# random but never collide; the first four digits stand for the issuing office.
_SERIAL_MULTIPLIER = 387_433

def _records_sql(fiscal_year: int, seed: int, prefecture_code: str) -> str:
    """One row per person-year of one prefecture: the twelve statuses and payment dates, and when it last changed."""
    def u(salt: int) -> str:
        return f"(hash({seed}, prefecture_code, j, month_index, {salt}) >> 11)::double / 9007199254740992.0"

    pivot = ",\n        ".join(
        f"max(status) filter (where month_index = {m}) as status_{m}, max(paid_on) filter (where month_index = {m}) as paid_on_{m}"
        for m in range(12)
    )
    return f"""
with slots as (
    select c.prefecture_code, c.month_index, s.j, c.status_class, c.paid_k,
        -- a partial exemption is approved for the person's year, not month by month
        hash({seed}, {fiscal_year}, c.prefecture_code, s.j) % 1000 as partial_draw
    from cells c, range(c.lo, c.hi) s(j)
    where c.premium_fiscal_year = {fiscal_year} and c.prefecture_code = '{prefecture_code}'
),
coded as (
    select prefecture_code, j, month_index,
        case when status_class <> '1' then status_class
             when partial_draw < {PARTIAL_PER_MILLE['6']} then '6'
             when partial_draw < {PARTIAL_PER_MILLE['6'] + PARTIAL_PER_MILLE['7']} then '7'
             when partial_draw < {sum(PARTIAL_PER_MILLE.values())} then '8'
             else '1' end as status,
        -- on time: in the premium month itself or by its deadline (end of the next month)
        case when paid_k = month_index + 1 and {u(1)} < {ON_TIME_SHARE_IN_PREMIUM_MONTH} then month_index else paid_k end
            as paid_month,
        {u(2)} as day_draw
    from slots
),
dated as (
    select *,
        make_date({fiscal_year} + (3 + paid_month) // 12, (3 + paid_month) % 12 + 1, 1) as paid_month_start
    from coded
)
select prefecture_code, j,
    {pivot},
    max(month_index) as last_status_month,
    max(paid_month) as last_paid_month,
    max(paid_month) filter (where paid_month <= 12) as last_paid_month_by_close
from (
    select prefecture_code, j, month_index, status, paid_month,
        paid_month_start + floor(day_draw * day(last_day(paid_month_start)))::integer as paid_on
    from dated
)
group by prefecture_code, j
"""


def _versions_sql(fiscal_year: int, seed: int) -> str:
    """Printed lines: each record as of its last change, plus as of the current-year close if paid later."""
    statuses = [f"case when status_{m} is null then '' when style = 2 then fw(status_{m}) else status_{m} end" for m in range(12)]
    dates = [f"wareki_text(case when paid_on_{m} <= last_day(processing_month) then paid_on_{m} end, style)" for m in range(12)]
    group = ", ".join(f"{s}, {d}" for s, d in zip(statuses, dates))
    return f"""
with versions as (
    select *, greatest(last_status_month, coalesce(last_paid_month, -1)) as version_month from records
    union all
    select *, greatest(last_status_month, last_paid_month_by_close) from records where last_paid_month > 12
),
styled as (
    select *,
        make_date({fiscal_year} + (3 + version_month) // 12, (3 + version_month) % 12 + 1, 1) as processing_month,
        (({fiscal_year} * 12 + 3 + version_month) % 3)::integer as style,
        lpad((prefecture_code::integer * 100 + j // 1000000)::varchar, 4, '0') || '-'
            || lpad(((j % 1000000 * {_SERIAL_MULTIPLIER} + {seed % 1_000_000}) % 1000000)::varchar, 6, '0') as number
    from versions
)
select processing_month,
    concat_ws(',',
        case when style = 2 then fw(number) else number end,
        fiscal_year_text({fiscal_year}, style),
        case when style = 2 then fw(prefecture_code) else prefecture_code end,
        wareki_month_text(processing_month, style),
        {group}
    ) as line,
    prefecture_code, j
from styled
"""


def generate(landing_dir: Path, scale: float, seed: int, progress=None) -> list[Path]:
    """Write one CP932 ledger file per processing month into ``landing_dir``; returns the files.

    Files are written under a temporary name and renamed into place, so the loader never sees
    half a file. Re-running with the same scale and seed rewrites identical bytes.
    """
    landing_dir.mkdir(parents=True, exist_ok=True)
    cells = calibrate(scale, seed)
    written: list[Path] = []
    with tempfile.TemporaryDirectory(dir=landing_dir.parent, prefix=".np_generate_") as tmp, generator_database(Path(tmp)) as con:
        con.execute(wareki_print_macros())
        con.register("cells_frame", cells.to_arrow())
        con.execute("create table cells as select * from cells_frame")
        con.execute("create table lines (processing_month date, line varchar, fiscal_year integer, prefecture_code varchar, j bigint)")
        prefectures = [r[0] for r in con.execute("select distinct prefecture_code from cells order by 1").fetchall()]
        for fy in FISCAL_YEARS:
            # One prefecture at a time: the person-year pivot holds every person of the year in
            # one hash aggregate, which at national scale (15M persons) outgrows the memory limit.
            con.execute(f"create or replace temp table records as {_records_sql(fy, seed, prefectures[0])}")
            for prefecture in prefectures[1:]:
                con.execute(f"insert into records {_records_sql(fy, seed, prefecture)}")
            con.execute(f"insert into lines select processing_month, line, {fy}, prefecture_code, j from ({_versions_sql(fy, seed)})")
        months = [r[0] for r in con.execute("select distinct processing_month from lines order by 1").fetchall()]
        for n, month in enumerate(months, start=1):
            target = print_file(
                con,
                f"select line from lines where processing_month = date '{month.isoformat()}' order by fiscal_year, prefecture_code, j",
                landing_dir / f"premium_ledger_{month:%Y%m}.csv", ",".join(HEADER), "cp932", "\r\n",
            )
            written.append(target)
            if progress is not None:
                progress(n, len(months), target)
    return written
