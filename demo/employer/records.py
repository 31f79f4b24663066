"""Record expansion: establishments, their roles and their contribution records, as DuckDB SQL."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from demo.allocation import round_half_up
from demo.employer.flows import (
    DEFERRAL_ESTABLISHMENTS,
    INSURANCE,
    KYOKAI_SHARE,
    MONTHLY_CLOSURE_RATE,
    MONTHS,
    SHIP_OWNERS,
    WINDOWS,
    Figures,
    covered_targets,
    solve_flows,
)
from ingest.specs import EMPLOYER_CONTRIBUTIONS

# Roles sit in index ranges of the long-standing establishments (open
# before April 2018, never closed): the delinquent pools, then the deferral set; ship owners
# are every stride-th establishment, so each pool holds some. Per-record draws come from a
# keyed hash, so output is deterministic whatever DuckDB's thread schedule.


@dataclass(frozen=True)
class Roles:
    establishments: int  # ever covered, April 2018 .. September 2020
    initial: int  # covered at the end of March 2018
    pool_fy2019: int  # delinquent from FY2019 on (P1)
    pool_fy2020: int  # delinquent from FY2020 on as well (P2)
    deferral: int
    ship_stride: int


def roles(figures: Figures, scale: float) -> tuple[Roles, pl.DataFrame]:
    """Establishment roles and the monthly openings/closures that give the covered counts."""
    covered = covered_targets(figures, scale)
    closures = [0] + [round_half_up(c * MONTHLY_CLOSURE_RATE) for c in covered[:-1]]
    openings = [0] + [covered[k] - covered[k - 1] + closures[k] for k in range(1, len(covered))]
    total = covered[0] + sum(openings)
    pool1 = round_half_up(figures.value("delinquent_establishments", "2020-03-31") * scale)
    pool2 = round_half_up(figures.value("delinquent_establishments", "2020-09-30") * scale) - pool1
    deferral = round_half_up(DEFERRAL_ESTABLISHMENTS * scale)
    if pool1 + pool2 + deferral + sum(closures) > covered[0]:
        raise ValueError(f"scale {scale} too small for the establishment roles")
    # month k of the register timeline: 0 = March 2018 ... 30 = September 2020
    timeline = pl.DataFrame({"k": list(range(len(covered))), "openings": openings, "closures": closures})
    return Roles(
        total, covered[0], pool1, pool2, deferral, max(1, round_half_up(total / (SHIP_OWNERS * scale)))
    ), timeline


def draw(seed: int, *parts: str) -> str:
    return f"((hash({seed}, {', '.join(parts)}) >> 11)::double / 9007199254740992.0)"


def establishments_sql(r: Roles, seed: int) -> str:
    """One row per establishment: number, prefecture, office, open/close dates and roles."""
    return f"""
with numbered as (
    select i from range({r.establishments}) t(i)
),
opened as (
    -- the initial cohort opened before April 2018; later cohorts open in their month
    select numbered.i,
        case when i < {r.initial}
             then date '1989-04-01' + to_days(floor({draw(seed, "i", "1")} * 10592)::integer)
             else (select make_date(2018, 3, 1) + to_months(k) + to_days(floor({draw(seed, "i", "2")} * 28)::integer)
                   from opening_starts o where numbered.i >= o.first_i and numbered.i < o.first_i + o.openings)
        end as opened_on,
        (select make_date(2018, 3, 1) + to_months(k) + to_days(floor({draw(seed, "i", "3")} * 28)::integer)
         from closing_starts c where numbered.i < c.last_i and numbered.i >= c.last_i - c.closures) as closed_on
    from numbered
)
select i, opened_on, closed_on,
    i < {r.pool_fy2019} as pool_fy2019,
    i >= {r.pool_fy2019} and i < {r.pool_fy2019 + r.pool_fy2020} as pool_fy2020,
    i >= {r.pool_fy2019 + r.pool_fy2020} and i < {r.pool_fy2019 + r.pool_fy2020 + r.deferral} as deferral,
    i % {r.ship_stride} = 0 as ship_owner,
    i % {r.ship_stride} <> 0 and {draw(seed, "i", "4")} < {KYOKAI_SHARE} as kyokai,
    row_number() over (partition by i < {r.pool_fy2019} order by i) - 1 as pool_rank,
    {draw(seed, "i", "5")} as size_draw,
    {draw(seed, "i", "6")} as prefecture_draw
from opened
"""


def records_sql(seed: int) -> str:
    """Contribution records with their group (fate) and weight, before amounts are assigned."""
    monthly = f"""
    select e.i, ins.insurance, m.t,
        -- premium month t - 1 is notified (and due) in month t
        make_date(2019, 3, 1) + to_months(m.t) as premium_month,
        case when e.deferral and m.t >= 12 and ins.insurance <> 'seamen' then 'deferred'
             when (e.pool_fy2019 and e.pool_rank % 3 = 0) or (e.pool_fy2020 and m.t = 16) then 'unpaid'
             else 'paid' end as fate,
        m.t as event_t
    from establishments e
    cross join range({MONTHS}) m(t)
    cross join (values ('pension'), ('kyokai'), ('seamen')) ins(insurance)
    where (ins.insurance = 'pension' or (ins.insurance = 'kyokai' and e.kyokai) or (ins.insurance = 'seamen' and e.ship_owner))
      and e.opened_on <= last_day(make_date(2019, 3, 1) + to_months(m.t))
      and (e.closed_on is null or e.closed_on > last_day(make_date(2019, 3, 1) + to_months(m.t)))
    """
    carry = f"""
    select e.i, ins.insurance, -1 - c.j as t,
        -- distinct FY2018 months per establishment (April 2018 .. December 2018)
        make_date(2018, 4, 1) + to_months((c.j + hash({seed}, e.i) % 2)::integer) as premium_month,
        -- the first carried record of each pool member stays unpaid: the member stays delinquent
        case when c.j = 0 then 'carry_unpaid'
             else ['carry_collected_0', 'carry_collected_1', 'carry_collected_2', 'carry_written_off_0',
                   'carry_written_off_1', 'carry_written_off_2', 'carry_unpaid'][
                  (row_number() over (partition by ins.insurance order by e.i, c.j) - 1) % 7 + 1] end as fate,
        null::integer as event_t
    from establishments e
    cross join (values ('pension'), ('kyokai'), ('seamen')) ins(insurance)
    cross join range(8) c(j)
    where e.pool_fy2019
      and (ins.insurance = 'pension' or (ins.insurance = 'kyokai' and e.kyokai) or (ins.insurance = 'seamen' and e.ship_owner))
      and c.j < case when ins.insurance = 'seamen' then 8 else 2 + hash({seed}, e.i, 'carry') % 2 end
    """
    return f"""
with records as ({monthly} union all {carry})
select records.*,
    case when fate like 'carry_collected_%' or fate like 'carry_written_off_%'
         then {WINDOWS[0][0]} + 6 * try_cast(right(fate, 1) as integer) + floor({draw(seed, "i", "t", "insurance", "'w'")} * 6)::integer
         else event_t end as event_month,
    -- heavy-tailed establishment size, clamped so no record rounds to zero yen
    least(greatest(
        exp(3 * (e.size_draw - 0.5)) * (0.9 + 0.2 * {draw(seed, "records.i", "records.t", "records.insurance")}), 0.1
    ), 100) as weight
from records
join establishments e using (i)
"""


def group_targets(figures: Figures, scale: float) -> pl.DataFrame:
    """Exact yen target per (insurance, fate, month group); carried records use group month -1."""
    rows = []
    for insurance in INSURANCE:
        f = solve_flows(figures, insurance, scale)
        for t in range(MONTHS):
            rows += [
                (insurance, "paid", t, f.notified[t] - f.unpaid[t] - f.deferred[t]),
                (insurance, "unpaid", t, f.unpaid[t]),
                (insurance, "deferred", t, f.deferred[t]),
            ]
        for w in range(3):
            rows += [
                (insurance, f"carry_collected_{w}", -1, f.carry_collected[w]),
                (insurance, f"carry_written_off_{w}", -1, f.carry_written_off[w]),
            ]
        rows.append((insurance, "carry_unpaid", -1, f.carry - sum(f.carry_collected) - sum(f.carry_written_off)))
    return pl.DataFrame(
        rows, schema={"insurance": pl.Utf8, "fate": pl.Utf8, "group_t": pl.Int64, "target": pl.Int64}, orient="row"
    )


AMOUNTS_SQL = """
with grouped as (
    select r.*, g.target,
        sum(weight) over (partition by r.insurance, r.fate, g.group_t order by r.i, r.t rows unbounded preceding) as cumulative,
        sum(weight) over (partition by r.insurance, r.fate, g.group_t) as total,
        row_number() over (partition by r.insurance, r.fate, g.group_t order by r.i, r.t desc) as from_end,
        count(*) over (partition by r.insurance, r.fate, g.group_t) as n
    from records r
    join targets g on g.insurance = r.insurance and g.fate = r.fate and g.group_t = greatest(r.t, -1)
)
select * exclude (cumulative, total, from_end, n),
    -- cumulative rounding: parts sum to the target exactly, none deviates by a whole yen
    (case when row_number() over (partition by insurance, fate, greatest(t, -1) order by i desc, t desc) = 1
          then target else floor(target * cumulative / total + 0.5) end)::bigint
      - floor(target * (cumulative - weight) / total + 0.5)::bigint as amount
from grouped
"""


def lines_sql(seed: int) -> str:
    def month_day(month_sql: str, salt: str) -> str:
        start = f"(make_date(2019, 4, 1) + to_months({month_sql}))"
        return (
            f"({start} + to_days(floor({draw(seed, 'i', 't', 'insurance', salt)} * day(last_day({start})))::integer))"
        )

    return f"""
with dated as (
    select a.*, e.number, e.prefecture_code,
        case when fate = 'paid' then {month_day("t", "'p'")}
             when fate like 'carry_collected_%' then {month_day("event_month", "'c'")} end as paid_on,
        case when fate like 'carry_written_off_%' then {month_day("event_month", "'w'")} end as written_off_on,
        -- approved in the month the contribution is notified, for one year
        case when fate = 'deferred' then make_date(2019, 4, 1) + to_months(t) end as deferred_from,
        case when fate = 'paid' and {draw(seed, "i", "t", "insurance", "'adj'")} < 0.01
             then floor(amount * 0.05)::bigint + 1 else 0 end as adjustment
    from amounts a
    join establishments e using (i)
),
printed as (
    select *,
        make_date(2019, 4, 1) + to_months(greatest(coalesce(t, 0), 0, coalesce(event_month, 0))) as processing_month
    from dated
)
select processing_month, insurance, number, premium_month,
    concat_ws('{EMPLOYER_CONTRIBUTIONS.delimiter}',
        number,
        case insurance {" ".join(f"when '{k}' then '{v}'" for k, v in INSURANCE.items())} end,
        wareki_month_text(premium_month, 0),
        wareki_month_text(processing_month, 0),
        format('{{:,}}', amount + adjustment),
        case when adjustment > 0 then '▲' || format('{{:,}}', adjustment) else '' end,
        case when paid_on is null then '' else format('{{:,}}', amount) end,
        wareki_text(paid_on, 0),
        case when written_off_on is null then '' else format('{{:,}}', amount) end,
        wareki_text(written_off_on, 0),
        case when deferred_from is null then '' else format('{{:,}}', amount) end,
        wareki_text(deferred_from, 0),
        wareki_text(case when deferred_from is not null then deferred_from + interval 1 year - interval 1 day end::date, 0)
    ) as line
from printed
"""
