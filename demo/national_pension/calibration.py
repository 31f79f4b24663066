"""Months due and paid per premium month, prefecture and as-of month, solved from the targets (steps 1-5 of the package's docstring)."""

from __future__ import annotations

import datetime as dt
import random

import polars as pl

from config.layout import seed_csv
from demo.allocation import allocate, rate_rounds_to, round_half_up, solve_windows
from demo.national_pension.targets import (
    COUNTER,
    CREDIT_CARD,
    DATA_END,
    DIRECT_DEBIT,
    DUE_WEIGHTS,
    FISCAL_YEARS,
    LATE_DECAY,
    LATE_HAZARD,
    LIMITATION_MONTHS,
    MULTI_PAYMENT_SHARES,
    NOT_DUE_SHARES,
    OKINAWA,
    OKINAWA_TARGETS,
    OKINAWA_WEIGHT,
    TARGET_SLACK,
    VOLUNTARY_STATUS,
    Figures,
    as_of_index,
    horizon,
    month_end,
)


def _window(value: float, decimals: int) -> tuple[float, float]:
    half = 0.5 * 10 ** (-decimals)
    return value - half, value + half


def _solved(figures: Figures, measure: str, key) -> dict:
    """Unrounded values of a rate and its printed differences, each inside its rounding window."""
    windows: dict = {}
    for r in figures.rows(measure):
        lo, hi = _window(r["published_value"], r["decimals"])
        before = windows.get(key(r["premium_fiscal_year"], r["as_of"]), (lo, hi))
        windows[key(r["premium_fiscal_year"], r["as_of"])] = (max(lo, before[0]), min(hi, before[1]))
    differences = [
        (
            key(r["premium_fiscal_year"], r["as_of"]),
            key(r["reference_fiscal_year"], r["reference_as_of"]),
            *_window(r["published_value"], r["decimals"]),
        )
        for r in figures.rows(f"{measure}_points")
    ]
    return solve_windows(windows, differences, TARGET_SLACK)


def national_rate_targets(figures: Figures) -> dict[int, dict[int, float]]:
    """Percent targets per premium year and as-of index (k months after the premium year's April).

    The printed rates and points (the table's current-year, past-year and final rates with their
    gains and changes, and the monthly curve), solved together; a year without a printed curve
    takes the shape of the last year printed whole, scaled to its own points up to k = 12.
    """
    targets: dict[int, dict[int, float]] = {fy: {} for fy in FISCAL_YEARS}
    for (fy, k), value in _solved(figures, "payment_rate", lambda fy, d: (fy, as_of_index(fy, d))).items():
        targets[fy][k] = value
    shape = targets[max(fy for fy in FISCAL_YEARS if all(k in targets[fy] for k in range(1, 13)))]
    for fy in FISCAL_YEARS:
        ratios = {k: v / shape[k] for k, v in targets[fy].items() if k <= 12}
        for k in range(1, 12):
            targets[fy].setdefault(k, shape[k] * _interpolated_ratio(ratios, k))
    return targets


def fully_exempt_rate_targets(figures: Figures) -> dict[dt.date, float]:
    """全額免除率 (percent) at each printed date and each date a printed change is read against."""
    return _solved(figures, "fully_exempt_rate", lambda fy, d: d)


def dated_anchors(figures: Figures, measure: str) -> dict[dt.date, float]:
    """A count at each 31 March and 30 September the ledger needs: printed; implied by a printed
    change (FY2011's); before the report, back by its first year's change; a September it does not
    print, its March times the first printed September's ratio to its own March."""
    anchors = {**figures.change_references(f"{measure}_change"), **figures.dated(measure)}
    marches = sorted(d for d in anchors if d.month == 3)
    ratio = anchors[marches[0]] / anchors[marches[1]]
    for year in range(marches[0].year - 1, FISCAL_YEARS[0] - 1, -1):
        anchors[dt.date(year, 3, 31)] = anchors[dt.date(year + 1, 3, 31)] * ratio
    september = min(d for d in figures.dated(measure) if d.month == 9)
    september_ratio = anchors[september] / anchors[dt.date(september.year, 3, 31)]
    for year in range(FISCAL_YEARS[0], DATA_END.year + 1):
        if (march := dt.date(year, 3, 31)) in anchors:
            anchors.setdefault(dt.date(year, 9, 30), anchors[march] * september_ratio)
    return anchors


def monthly(anchors: dict[dt.date, float], scale: float, rounded: bool = True) -> dict[int, list]:
    """Per premium year, the count at each month end (April..March) at ``scale``: between anchors
    linear, before the first and after the last held; 0 past the demo's data. ``rounded=False``
    for a rate (percent), left as it is."""
    points = sorted((d.year * 12 + d.month, v) for d, v in anchors.items())
    out = {}
    for fy in FISCAL_YEARS:
        months: list = []
        for m in range(12):
            t = fy * 12 + 4 + m
            if t > DATA_END.year * 12 + DATA_END.month:
                months.append(0)
                continue
            before = [p for p in points if p[0] <= t] or points[:1]
            after = [p for p in points if p[0] >= t] or points[-1:]
            (t0, v0), (t1, v1) = before[-1], after[0]
            value = v0 if t1 == t0 else v0 + (t - t0) / (t1 - t0) * (v1 - v0)
            months.append(round_half_up(value * scale) if rounded else value)
        out[fy] = months
    return out


def voluntary_persons(
    figures: Figures, insured: dict[int, list[int]], exempt: dict[int, list[int]], scale: float
) -> dict[int, list[int]]:
    """Voluntary insured persons (任意加入) per month: at each date a 全額免除率 is printed or read
    against, the count that makes exempt / (insured - voluntary) the rate (note ※1: the insured
    count includes them, the rate's denominator does not); between those dates, linear."""
    checks: dict[dt.date, list[tuple[float, int]]] = {}
    for r in figures.rows("fully_exempt_rate"):
        checks.setdefault(r["as_of"], []).append((r["published_value"], r["decimals"]))
    anchors = {}
    for as_of, rate in fully_exempt_rate_targets(figures).items():
        fy, m = as_of.year - (as_of.month < 4), (as_of.month - 4) % 12
        i, e = insured[fy][m], exempt[fy][m]
        denominator = _rounding_count(e, rate, checks.get(as_of, []))
        anchors[as_of] = (i - denominator) / scale
    return monthly(anchors, scale)


def _rounding_count(numerator: int, percent: float, checks: list[tuple[float, int]]) -> int:
    """A denominator near numerator / percent that makes the ratio round to every printed check."""
    return _nearest(
        round_half_up(numerator * 100.0 / percent),
        lambda d: all(rate_rounds_to(numerator, d, p, dec) for p, dec in checks),
        f"no count reproduces {checks} over {numerator}; scale too small",
    )


def _rounding_numerator(denominator: int, percent: float, checks: list[tuple[float, int]]) -> int:
    """A numerator near percent of denominator that makes the ratio round to every printed check."""
    return _nearest(
        round_half_up(denominator * percent / 100),
        lambda n: all(rate_rounds_to(n, denominator, p, dec) for p, dec in checks),
        f"no count of {denominator} reproduces {checks}; scale too small",
    )


def _nearest(near: int, rounds_right, failure: str) -> int:
    for step in (0, 1, -1, 2, -2, 3, -3):
        if rounds_right(near + step):
            return near + step
    raise ValueError(failure)


def months_paid_targets(figures: Figures) -> dict[tuple[int, int], float]:
    """Months paid per (premium year, as-of index): printed or implied by a printed change, and for a
    premium year before the first of those (FY2010), its current-year close back by the first
    printed year-on-year ratio, so the history does not jump where the report starts."""
    paid = figures.months_paid()
    closes = sorted(fy for fy, k in paid if k == 12)
    ratio = paid[(closes[0], 12)] / paid[(closes[1], 12)]
    for fy in range(closes[0] - 1, FISCAL_YEARS[0] - 1, -1):
        paid[(fy, 12)] = paid[(fy + 1, 12)] * ratio
    return paid


def national_due(
    figures: Figures,
    scale: float,
    targets: dict[int, dict[int, float]],
    insured: dict[int, list[int]],
    exempt: dict[int, list[int]],
    pinned_dates: set[dt.date],
) -> dict[int, list[int]]:
    """Months due per premium month (April..March) for each premium year, at ``scale``.

    A month at a date the exempt count is anchored at has exactly insured - exempt months due
    (everyone else there is exempt or deferred); the year's total follows from its months paid
    and current-year rate, April-August from September's months paid where a September is
    printed; the other months share the rest by DUE_WEIGHTS.
    """
    paid = {key: round_half_up(v * scale) for key, v in months_paid_targets(figures).items()}
    checks = figures.rate_checks()

    def anchored(fy: int, k: int) -> int:
        return _rounding_count(paid[(fy, k)], targets[fy][k], checks.get((fy, k), []))

    out = {}
    for fy in FISCAL_YEARS:
        live = [m for m in range(12) if month_end(fy, 4 + m) <= DATA_END]
        due: dict[int, int] = {m: 0 for m in range(12) if m not in live}
        for m in live:
            if month_end(fy, 4 + m) in pinned_dates:
                due[m] = insured[fy][m] - exempt[fy][m]
        if (fy, 5) in paid:
            due.update(zip(range(5), allocate(anchored(fy, 5), DUE_WEIGHTS[:5]), strict=True))
        if (fy, 12) in paid:
            total = anchored(fy, 12)
        else:
            total = sum(due.values()) + sum(insured[fy][m] - exempt[fy][m] for m in live if m not in due)
        free = [m for m in range(12) if m not in due]
        rest = total - sum(due.values())
        if rest < 0 or (rest and not free):
            raise ValueError(f"FY{fy}: {total} months due cannot hold the months fixed by the figures")
        due.update(zip(free, allocate(rest, [DUE_WEIGHTS[m] for m in free]), strict=True))
        out[fy] = [due[m] for m in range(12)]
        for m in live:
            if not 0 < out[fy][m] <= insured[fy][m]:
                raise ValueError(f"FY{fy} month {m}: {out[fy][m]} months due of {insured[fy][m]} insured")
    return out


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


def channel_persons(figures: Figures, measure: str, due: dict[int, list[int]]) -> dict[int, list[int]]:
    """Months due of each premium month paid through a channel (direct debit, credit card). A rate
    printed at a date is of the premiums falling due then (the month before's: due at the end of
    the next month); for that month, the count that makes it the printed rate of its months due.
    Between those months the rate runs linear (held before the first)."""

    def premium_month(as_of: dt.date) -> dt.date:
        return month_end(as_of.year, as_of.month - 1)

    solved = {premium_month(d): v for d, v in _solved(figures, measure, lambda fy, d: d).items()}
    rates = monthly(solved, 1.0, rounded=False)
    checks: dict[dt.date, list[tuple[float, int]]] = {}
    for r in figures.rows(measure):
        checks.setdefault(premium_month(r["as_of"]), []).append((r["published_value"], r["decimals"]))
    out = {}
    for fy in FISCAL_YEARS:
        out[fy] = [round_half_up(rate / 100 * d) for rate, d in zip(rates[fy], due[fy], strict=True)]
        for m in range(12):
            month = month_end(fy, 4 + m)
            if month in solved and due[fy][m]:
                out[fy][m] = _rounding_numerator(due[fy][m], solved[month], checks.get(month, []))
    return out


def multi_payment_targets(figures: Figures, scale: float) -> dict[tuple[int, str], int]:
    """Payments through the multi-payment network per (fiscal year, 'H1' April-September or 'FY'),
    at ``scale``: printed, implied by a printed change, and before the report back by its first
    year's change."""
    anchors = {**figures.change_references("multi_payments_change"), **figures.dated("multi_payments")}
    years = sorted(d.year - 1 for d in anchors if d.month == 3)
    ratio = anchors[dt.date(years[0] + 1, 3, 31)] / anchors[dt.date(years[1] + 1, 3, 31)]
    for fy in range(years[0] - 1, FISCAL_YEARS[0] - 1, -1):
        anchors[dt.date(fy + 1, 3, 31)] = anchors[dt.date(fy + 2, 3, 31)] * ratio
    return {
        (d.year - (d.month < 4), "FY" if d.month == 3 else "H1"): round_half_up(v * scale)
        for d, v in anchors.items()
        if d <= DATA_END
    }


def assign_channels(
    paid: dict[tuple[int, str, int], list[tuple[int, int]]],
    direct_debit: dict[tuple[int, str, int], int],
    credit_card: dict[tuple[int, str, int], int],
    multi_targets: dict[tuple[int, str], int],
) -> dict[tuple[int, str, int, int], list[tuple[int, str]]]:
    """Each paid range (premium year, prefecture, month, as-of index k) split into channel runs.

    Direct debit takes a month's first paid slots (the earliest payers, voluntary insured first),
    then credit card; the multi-payment network's other channels take their share of what is left
    in each period (April-September, October-March), spread over it in proportion, so that every
    printed count is exact; the counter takes the rest.
    """
    runs: dict[tuple[int, str, int, int], list[tuple[int, str]]] = {}
    rest: dict[tuple[int, str, int, int], int] = {}
    credit_in: dict[tuple[int, str], int] = {}

    def period(fy: int, k: int) -> tuple[int, str]:
        month = (fy * 12 + 3 + k) % 12 + 1  # the calendar month the payment was made in
        year = (fy * 12 + 3 + k) // 12
        fiscal_year = year - (month < 4)
        return fiscal_year, "H1" if 4 <= month <= 9 else "H2"

    for (fy, code, m), ranges in paid.items():
        dd, cr = direct_debit.get((fy, code, m), 0), credit_card.get((fy, code, m), 0)
        for n, k in ranges:
            d = min(dd, n)
            c = min(cr, n - d)
            dd, cr = dd - d, cr - c
            runs[(fy, code, m, k)] = [(d, DIRECT_DEBIT), (c, CREDIT_CARD)]
            rest[(fy, code, m, k)] = n - d - c
            credit_in[period(fy, k)] = credit_in.get(period(fy, k), 0) + c
        if dd or cr:
            raise ValueError(f"FY{fy} prefecture {code} month {m}: fewer months paid than paid by direct debit or card")
    halves: dict[tuple[int, str], int] = {}
    for (fy, kind), total in multi_targets.items():
        if kind == "H1":
            halves[(fy, "H1")] = total
    for (fy, kind), total in multi_targets.items():
        if kind == "FY":
            if (fy, "H1") in halves:
                halves[(fy, "H2")] = total - halves[(fy, "H1")]
            else:
                halves[(fy, "FY")] = total
    for key, total in sorted(halves.items()):
        fy, kind = key
        cells = [c for c in rest if period(c[0], c[3])[0] == fy and (kind == "FY" or period(c[0], c[3])[1] == kind)]
        credit = sum(v for (f, half), v in credit_in.items() if f == fy and (kind == "FY" or half == kind))
        others = total - credit
        if not 0 <= others <= sum(rest[c] for c in cells):
            raise ValueError(f"FY{fy} {kind}: {total} multi-payment payments cannot hold {credit} by credit card")
        for cell, n in zip(cells, allocate(others, [rest[c] for c in cells]), strict=True):
            for channel, part in zip(
                MULTI_PAYMENT_SHARES, allocate(n, list(MULTI_PAYMENT_SHARES.values())), strict=True
            ):
                runs[cell].append((part, channel))
            rest[cell] -= n
    for cell, n in rest.items():
        runs[cell].append((n, COUNTER))
    return {cell: [(n, channel) for n, channel in parts if n] for cell, parts in runs.items()}


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
    [lo, hi)), status_class ('1' due, '9' due and voluntary, '2'..'5' not due), paid_k
    (as-of index at which the month counts as paid; null when unpaid) and channel (納付経路 of a
    paid month, seed np_payment_channels).
    """
    figures = figures or Figures.load()
    national_targets = national_rate_targets(figures)
    okinawa_targets = okinawa_rate_targets(national_targets)
    months_paid = {key: round_half_up(v * scale) for key, v in months_paid_targets(figures).items()}
    exempt_anchors = dated_anchors(figures, "fully_exempt_persons")
    insured_all = monthly(dated_anchors(figures, "insured_persons"), scale)
    exempt_all = monthly(exempt_anchors, scale)
    voluntary_all = voluntary_persons(figures, insured_all, exempt_all, scale)
    due_all = national_due(figures, scale, national_targets, insured_all, exempt_all, set(exempt_anchors))
    weights = prefecture_weights(seed)
    codes = weights["prefecture_code"].to_list()
    okinawa_share = weights.filter(pl.col("prefecture_code") == OKINAWA)["weight"][0] / weights["weight"].sum()
    rest = weights.filter(pl.col("prefecture_code") != OKINAWA)
    rest_codes, rest_weights, propensity = (
        rest["prefecture_code"].to_list(),
        rest["weight"].to_list(),
        rest["propensity"].to_list(),
    )

    months: dict[tuple[int, str, int], tuple[int, int, list[tuple[int, int]], int]] = {}
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
        voluntary_by_code: dict[str, list[int]] = {code: [] for code in codes}
        for m in range(12):
            for code, n in zip(codes, allocate(insured_all[fy][m], weights["weight"].to_list()), strict=True):
                insured_by_code[code].append(n)
            for code, n in zip(codes, allocate(voluntary_all[fy][m], weights["weight"].to_list()), strict=True):
                voluntary_by_code[code].append(n)

        for code in codes:
            pref = per_prefecture[code]
            for m in range(12):
                insured, d = insured_by_code[code][m], pref["due"][m]
                if d > insured:
                    raise ValueError(f"FY{fy} prefecture {code} month {m}: {d} months due > {insured} insured")
                paid = [(pref["paid"][(m, k)], k) for k in sorted(k for (mm, k) in pref["paid"] if mm == m)]
                if sum(n for n, _ in paid) > d:
                    raise ValueError(f"FY{fy} prefecture {code} month {m}: more months paid than {d} due")
                if voluntary_by_code[code][m] > d:
                    raise ValueError(
                        f"FY{fy} prefecture {code} month {m}: {voluntary_by_code[code][m]} voluntary > {d} due"
                    )
                months[(fy, code, m)] = (insured, d, paid, voluntary_by_code[code][m])

    # Direct debit and credit card per month, shared among prefectures by their months paid.
    direct_debit_all = channel_persons(figures, "direct_debit_rate", due_all)
    credit_card_all = channel_persons(figures, "credit_card_rate", due_all)
    direct_debit: dict[tuple[int, str, int], int] = {}
    credit_card: dict[tuple[int, str, int], int] = {}
    for fy in FISCAL_YEARS:
        for m in range(12):
            paid_by_code = [float(sum(n for n, _ in months[(fy, code, m)][2])) for code in codes]
            for all_months, out in ((direct_debit_all, direct_debit), (credit_card_all, credit_card)):
                for code, n in zip(codes, allocate(all_months[fy][m], paid_by_code), strict=True):
                    out[(fy, code, m)] = n
    channels = assign_channels(
        {key: paid for key, (_, _, paid, _) in months.items()},
        direct_debit,
        credit_card,
        multi_payment_targets(figures, scale),
    )

    rows: list[tuple] = []
    for (fy, code, m), (insured, d, paid, voluntary) in months.items():
        # the first slots are the voluntary insured (who joined to pay: the earliest payers)
        lo = 0
        ranges: list[tuple[int, int | None]] = [*paid, (d - sum(n for n, _ in paid), None)]
        for n, paid_k in ranges:
            runs: list[tuple[int, str | None]] = [(n, None)]
            if paid_k is not None:
                runs = list(channels.get((fy, code, m, paid_k), runs))
            for part, channel in runs:
                for status, piece in ((VOLUNTARY_STATUS, min(voluntary, part)), ("1", part - min(voluntary, part))):
                    rows.append((fy, code, m, lo, lo + piece, status, paid_k, channel))
                    lo += piece
                voluntary -= min(voluntary, part)
        for status, n in zip(NOT_DUE_SHARES, allocate(insured - d, list(NOT_DUE_SHARES.values())), strict=True):
            rows.append((fy, code, m, d, d + n, status, None, None))
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
            "channel": pl.Utf8,
        },
        orient="row",
    )
    return cells.filter(pl.col("hi") > pl.col("lo"))
