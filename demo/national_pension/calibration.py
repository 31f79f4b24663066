"""Months due and paid per premium month, prefecture and as-of month, solved from the targets (steps 1-5 of the package's docstring)."""

from __future__ import annotations

import datetime as dt
import random

import polars as pl

from config.layout import seed_csv
from demo.allocation import allocate, rate_rounds_to, round_half_up
from demo.national_pension.targets import (
    DATA_END,
    DUE_WEIGHTS,
    FISCAL_YEARS,
    INSURED_FY2016_END,
    LATE_DECAY,
    LATE_HAZARD,
    LIMITATION_MONTHS,
    NATIONAL_TARGETS,
    NOT_DUE_SHARES,
    OKINAWA,
    OKINAWA_TARGETS,
    OKINAWA_WEIGHT,
    Figures,
    horizon,
)


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
        for m, part in zip(older, allocate(late, weights) if late else [0] * len(older), strict=True):
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
    published = {
        r["as_of"]: r["published_value"]
        for r in figures.frame.filter(pl.col("measure") == "insured_persons").iter_rows(named=True)
    }
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
    rest_codes, rest_weights, propensity = (
        rest["prefecture_code"].to_list(),
        rest["weight"].to_list(),
        rest["propensity"].to_list(),
    )

    rows = []
    for fy in FISCAL_YEARS:
        last_k = min(horizon(fy), 12 + LIMITATION_MONTHS)
        due = due_all[fy]
        exact = {k: v for (f, k), v in months_paid.items() if f == fy}
        national = solve_payments(
            due, cumulative_paid_targets(due, national_targets[fy], exact, last_k), f"FY{fy} national"
        )
        due_ok = [round_half_up(d * okinawa_share) for d in due]
        okinawa = solve_payments(
            due_ok, cumulative_paid_targets(due_ok, okinawa_targets[fy], {}, last_k), f"FY{fy} Okinawa"
        )

        per_prefecture: dict[str, dict] = {OKINAWA: {"due": due_ok, "paid": okinawa}}
        for code in rest_codes:
            per_prefecture[code] = {"due": [], "paid": {}}
        for m in range(12):
            for code, d in zip(rest_codes, allocate(due[m] - due_ok[m], rest_weights), strict=True):
                per_prefecture[code]["due"].append(d)
        for (m, k), n in national.items():
            remainder = n - okinawa.get((m, k), 0)
            if remainder < 0:
                raise ValueError(f"FY{fy}: Okinawa pays more months than the nation at premium month {m}, as-of {k}")
            shares = [per_prefecture[c]["due"][m] * p for c, p in zip(rest_codes, propensity, strict=True)]
            for code, part in zip(rest_codes, allocate(remainder, shares), strict=True):
                if part:
                    per_prefecture[code]["paid"][(m, k)] = part
        insured_by_code: dict[str, list[int]] = {code: [] for code in codes}
        for m in range(12):
            for code, n in zip(codes, allocate(insured_all[fy][m], weights["weight"].to_list()), strict=True):
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
                for status, n in zip(NOT_DUE_SHARES, allocate(insured - d, list(NOT_DUE_SHARES.values())), strict=True):
                    rows.append((fy, code, m, d, d + n, status, None))
                    d += n
    cells = pl.DataFrame(
        rows,
        schema={
            "premium_fiscal_year": pl.Int32,
            "prefecture_code": pl.Utf8,
            "month_index": pl.Int32,
            "lo": pl.Int64,
            "hi": pl.Int64,
            "status_class": pl.Utf8,
            "paid_k": pl.Int32,
        },
        orient="row",
    )
    return cells.filter(pl.col("hi") > pl.col("lo"))
