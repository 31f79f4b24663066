"""Demo call detail records (CDRs), calibrated to the agency report.

One row per inbound call, one UTF-8 CSV per day, as a contact-center platform exports them.
At scale 1.0 the monthly offered/answered calls equal the report's monthly table exactly and
the appointment line's April-October answer rate is the published 51.7% / 64.1%. At any
scale every published answer rate is reproduced to its published precision: counts are
scaled, then nudged one call at a time until every published rate rounds correctly.

Calibration (tiny: months x dials) is plain Python; the record-level expansion is one DuckDB
query per day, so scale 1.0 (13.4 million calls) is practical.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import duckdb
import polars as pl

from config.layout import seed_csv
from demo.allocation import allocate, allocate_expr, rate_rounds_to, round_half_up
from demo.figures import PublishedFigures
from ingest.specs import CALL_CENTER

APPOINTMENT = "appointment"

# Share of a month's offered calls by dial (before opening-date proration), and how readily
# each dial is answered relative to the others. Illustrative, not published.
DIAL_SHARE = {
    "nenkin_dial": 0.50,
    "appointment": 0.15,
    "teikibin_net": 0.10,
    "old_age_claim": 0.08,
    "dependents_form": 0.05,
    "member_dial": 0.06,
    "deferral_consult": 0.02,
    "disaster_victims": 0.004,
    "benefit_dial": 0.03,
}
ANSWER_PROPENSITY = {"teikibin_net": 0.95, "old_age_claim": 0.9, "dependents_form": 0.85, "benefit_dial": 0.9}
# The dependents' declaration form is mailed in September, so its line peaks in Sep-Oct.
SEASONAL = {("dependents_form", 9): 4.0, ("dependents_form", 10): 5.0}
# Relative call volume by weekday (Mon..Sun): Monday peak, Saturday opening, Sunday closed.
WEEKDAY_WEIGHT = [1.3, 1.0, 1.0, 1.0, 1.05, 0.2, 0.0]


class Figures(PublishedFigures):
    """The published call-center figures, read from the dbt seed that the reconciliation also uses."""

    SEED = "published_call_center_figures"

    def monthly_counts(self) -> pl.DataFrame:
        """month, calls_offered, calls_answered from the monthly table (all dials)."""
        monthly = self.frame.filter(
            (pl.col("period_start").dt.month() == pl.col("period_end").dt.month())
            & pl.col("measure").is_in(["calls_offered", "calls_answered"])
            & (pl.col("dial_code") == "")
        )
        return (
            monthly.pivot(on="measure", index="period_start", values="published_value")
            .rename({"period_start": "month"})
            .with_columns(pl.col("calls_offered", "calls_answered").cast(pl.Int64))
            .sort("month")
        )

    def rates(self, dial_code: str) -> pl.DataFrame:
        return self.frame.filter((pl.col("measure") == "answer_rate") & (pl.col("dial_code") == dial_code))


def _months_in(period_start: dt.date, period_end: dt.date, months: list[dt.date]) -> list[int]:
    return [i for i, m in enumerate(months) if period_start <= m <= period_end]


def calibrate_totals(figures: Figures, scale: float) -> pl.DataFrame:
    """Monthly offered/answered (all dials) at ``scale``, every published rate still reproduced."""
    base = figures.monthly_counts()
    months = base["month"].to_list()
    offered = [round_half_up(o * scale) for o in base["calls_offered"]]
    answered = [
        round_half_up(off * a / o)
        for off, a, o in zip(offered, base["calls_answered"], base["calls_offered"], strict=True)
    ]

    rate_rows = figures.rates("").iter_rows(named=True)
    targets = [
        (_months_in(r["period_start"], r["period_end"], months), r["published_value"], r["decimals"]) for r in rate_rows
    ]
    # Nudge: monthly figures first (single months), then periods, one call at a time.
    targets.sort(key=lambda t: len(t[0]))
    for _ in range(10_000):
        failing = next(
            (
                t
                for t in targets
                if not rate_rounds_to(sum(answered[i] for i in t[0]), sum(offered[i] for i in t[0]), t[1], t[2])
            ),
            None,
        )
        if failing is None:
            break
        idx, published, _ = failing
        current = 100.0 * sum(answered[i] for i in idx) / sum(offered[i] for i in idx)
        biggest = max(idx, key=lambda i: offered[i])
        answered[biggest] += 1 if current < published else -1
    else:  # pragma: no cover - only reachable at absurdly small scales
        raise ValueError(f"scale {scale} is too small to reproduce every published answer rate; use 0.002 or more")
    return pl.DataFrame({"month": months, "calls_offered": offered, "calls_answered": answered})


def _open_days(month: dt.date, opened_on: dt.date) -> tuple[int, int]:
    next_month = (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    days = (next_month - month).days
    return max(0, (next_month - max(month, opened_on)).days), days


def calibrate_dial_months(figures: Figures, scale: float) -> pl.DataFrame:
    """month x dial offered/answered: sums equal the monthly totals; the appointment line hits its period rate."""
    totals = calibrate_totals(figures, scale)
    dials = pl.read_csv(seed_csv("call_center_dials"), try_parse_dates=True)
    opened = dict(zip(dials["dial_code"], dials["opened_on"], strict=True))
    codes = list(DIAL_SHARE)

    rows = []
    for month, total_offered, total_answered in totals.iter_rows():
        weights = []
        for code in codes:
            open_days, days = _open_days(month, opened[code])
            weights.append(DIAL_SHARE[code] * SEASONAL.get((code, month.month), 1.0) * open_days / days)
        for code, off in zip(codes, allocate(total_offered, weights), strict=True):
            rows.append(
                {
                    "month": month,
                    "dial_code": code,
                    "calls_offered": off,
                    "month_offered": total_offered,
                    "month_answered": total_answered,
                }
            )
    frame = pl.DataFrame(rows)

    # Appointment line: its April-October answered total is fixed by the published rate, then
    # spread over months in proportion to offered x the month's overall answer rate.
    appointment_answered: dict[dt.date, int] = {}
    for r in figures.rates(APPOINTMENT).iter_rows(named=True):
        appt = frame.filter(
            (pl.col("dial_code") == APPOINTMENT) & pl.col("month").is_between(r["period_start"], r["period_end"])
        ).sort("month")
        target = round_half_up(r["published_value"] / 100.0 * appt["calls_offered"].sum())
        weights = (appt["calls_offered"] * appt["month_answered"] / appt["month_offered"]).to_list()
        appointment_answered.update(zip(appt["month"].to_list(), allocate(target, weights), strict=True))

    out = []
    for (month,), group in frame.sort("month", "dial_code").group_by(["month"], maintain_order=True):
        appt_answered = appointment_answered[month]
        others = group.filter(pl.col("dial_code") != APPOINTMENT)
        weights = [
            off * ANSWER_PROPENSITY.get(code, 1.0)
            for code, off in zip(others["dial_code"], others["calls_offered"], strict=True)
        ]
        answered = dict(
            zip(others["dial_code"], allocate(group["month_answered"][0] - appt_answered, weights), strict=True)
        )
        answered[APPOINTMENT] = appt_answered
        for code, off in zip(group["dial_code"], group["calls_offered"], strict=True):
            if answered[code] > off:
                raise ValueError(f"calibration infeasible: {code} {month} answered {answered[code]} > offered {off}")
            out.append({"month": month, "dial_code": code, "calls_offered": off, "calls_answered": answered[code]})
    return pl.DataFrame(out)


def calibrate_days(figures: Figures, scale: float) -> pl.DataFrame:
    """day x dial offered/answered, spread over each month's open days by weekday weight."""
    dial_months = calibrate_dial_months(figures, scale)
    dials = pl.read_csv(seed_csv("call_center_dials"), try_parse_dates=True).select("dial_code", "opened_on")
    days = (
        dial_months.with_columns(pl.date_ranges("month", pl.col("month").dt.month_end()).alias("day"))
        .explode("day")
        .join(dials, on="dial_code")
        .with_columns(
            weight=pl.when(pl.col("day") >= pl.col("opened_on"))
            .then(
                pl.col("day")
                .dt.weekday()
                .replace_strict(dict(enumerate(WEEKDAY_WEIGHT, start=1)), return_dtype=pl.Float64)
            )
            .otherwise(0.0)
        )
    )
    days = days.with_columns(
        calls_offered_day=allocate_expr(pl.col("calls_offered"), pl.col("weight"), ["month", "dial_code"], "day")
    )
    days = days.with_columns(
        calls_answered_day=allocate_expr(
            pl.col("calls_answered"), pl.col("calls_offered_day").cast(pl.Float64), ["month", "dial_code"], "day"
        )
    )
    return days.select(
        "day",
        "dial_code",
        pl.col("calls_offered_day").alias("calls_offered"),
        pl.col("calls_answered_day").alias("calls_answered"),
    ).filter(pl.col("calls_offered") > 0)


# Per-call attributes from a keyed hash, so output is deterministic for a seed whatever the
# thread schedule (DuckDB's random() is not reproducible under parallelism).
_EXPAND_SQL = """
with calls as (
    select c.day, c.dial_code, c.dial_index, r.i, r.i < c.calls_answered as answered
    from day_counts c, range(c.calls_offered) r(i)
    where c.day = $day
),
draws as (
    select *,
        (hash($seed, day, dial_code, i, 1) >> 11)::double / 9007199254740992.0 as u1,
        (hash($seed, day, dial_code, i, 2) >> 11)::double / 9007199254740992.0 as u2,
        (hash($seed, day, dial_code, i, 3) >> 11)::double / 9007199254740992.0 as u3,
        (hash($seed, day, dial_code, i, 4) >> 11)::double / 9007199254740992.0 as u4,
        (hash($seed, day, dial_code, i, 5) >> 11)::double / 9007199254740992.0 as u5
    from calls
),
timed as (
    select *,
        day::timestamp + interval 30600 second
            + to_seconds(floor(31500 * (u1 + u2) / 2)::bigint) as received_local,
        case
            when answered then 15 + floor(900 * u3 * u3)::int
            when u4 < 0.65 then 5 + floor(600 * u3)::int
            else 0
        end as wait_seconds
    from draws
)
select
    'CC' || strftime(day, '%Y%m%d') || '-' || lpad(dial_index::varchar, 2, '0') || lpad(i::varchar, 7, '0') as call_id,
    dial_code as dial,
    strftime(received_local, '%Y-%m-%dT%H:%M:%S') || '+09:00' as received_at,
    case when answered then 'true' else 'false' end as answered,
    case when answered then strftime(received_local + to_seconds(wait_seconds), '%Y-%m-%dT%H:%M:%S') || '+09:00' end as answered_at,
    wait_seconds,
    case when answered then 45 + floor(-ln(1 - u5) * 400)::int else 0 end as talk_seconds,
    case
        when answered and u4 < 0.55 then 'caller_release'
        when answered then 'agent_release'
        when u4 < 0.65 then 'caller_abandoned'
        else 'system_busy'
    end as disconnect_reason
from timed
order by received_at, call_id
"""


def generate(landing_dir: Path, scale: float, seed: int, progress=None) -> list[Path]:
    """Write one CSV per day into ``landing_dir``; returns the files written.

    A file is written under a temporary name and renamed into place, so the loader never
    sees half a file. Re-running with the same scale and seed rewrites identical bytes.
    """
    landing_dir.mkdir(parents=True, exist_ok=True)
    days = calibrate_days(Figures.load(), scale)
    dial_index = {code: i for i, code in enumerate(DIAL_SHARE)}
    day_counts = days.with_columns(dial_index=pl.col("dial_code").replace_strict(dial_index, return_dtype=pl.Int32))
    written: list[Path] = []
    all_days = day_counts["day"].unique().sort().to_list()
    header = ", ".join(f'"{label}"' for label in CALL_CENTER.header)
    with duckdb.connect() as con:
        con.register("day_counts_frame", day_counts.to_arrow())
        con.execute("create table day_counts as select * from day_counts_frame")
        for n, day in enumerate(all_days, start=1):
            target = landing_dir / f"cdr_{day:%Y%m%d}.csv"
            partial = target.with_name(target.name + ".partial")
            query = _EXPAND_SQL.replace("$day", f"date '{day.isoformat()}'").replace("$seed", str(int(seed)))
            # the spec's header names the columns, whatever the query calls them
            con.execute(
                f"copy (select * from ({query}) as printed({header})) to '{partial}' "
                f"(format csv, header true, delimiter '{CALL_CENTER.delimiter}')"
            )
            os.replace(partial, target)
            written.append(target)
            if progress is not None:
                progress(n, len(all_days), target)
    return written
