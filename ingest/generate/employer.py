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
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from ingest.allocation import allocate, round_half_up
from ingest.config import SEEDS_DIR, seed_csv
from ingest.specs import INSURANCE_NAMES
from ingest.generate.printing import generator_database, print_file, wareki_print_macros

# The generator's keys for the insurance types, in the spec's order (its names are the spec's).
INSURANCE = dict(zip(("pension", "kyokai", "seamen"), INSURANCE_NAMES, strict=True))
FIRST_MONTH = dt.date(2019, 4, 1)  # notified months run April 2019 .. September 2020 (t = 0..17)
MONTHS = 18
WINDOWS = ((0, 6), (6, 12), (12, 18))  # Apr-Sep 2019, Oct 2019-Mar 2020, Apr-Sep 2020

# Flows not published, in 億円 at national scale (illustrative, chosen so every published
# figure is reachable): arrears carried into FY2019, carried arrears collected and written
# off in each window, and the FY2019 full-year rate where the report does not print one.
FLOWS = {
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


@dataclass(frozen=True)
class Figures:
    frame: pl.DataFrame

    @classmethod
    def load(cls, seeds_dir: Path = SEEDS_DIR) -> Figures:
        return cls(pl.read_csv(seed_csv("published_employer_figures", seeds_dir), try_parse_dates=True))

    def value(self, measure: str, as_of: str, insurance: str = "") -> float:
        rows = self.frame.filter(
            (pl.col("measure") == measure) & (pl.col("as_of") == dt.date.fromisoformat(as_of))
            & (pl.col("insurance_name_ja").fill_null("") == INSURANCE.get(insurance, ""))
        )
        return float(rows["published_value"][0])


def month_start(t: int) -> dt.date:
    return dt.date(2019 + (3 + t) // 12, (3 + t) % 12 + 1, 1)


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
    written_off = [published("written_off", "2019-09-30"), _yen(flows["written_off_w2"], scale), published("written_off", "2020-09-30")]
    deferred_total = _yen(figures.value("deferred_oku", "2020-09-30", insurance), scale) if insurance != "seamen" else 0

    # FY2019 to September: determined = carry + six months notified; the rest of collections is on time.
    notified_h1 = published("determined", "2019-09-30") - carry
    unpaid_h1 = notified_h1 - (published("collected", "2019-09-30") - collected_carry[0])
    # FY2019 full year: the same monthly level for October-March; the full-year rate fixes the unpaid.
    determined_fy = carry + 2 * notified_h1
    collected_fy = round_half_up(determined_fy * flows["fy2019_rate"] / 100.0)
    unpaid_h2 = notified_h1 - (collected_fy - published("collected", "2019-09-30") - collected_carry[1])
    carry_fy2020 = carry - collected_carry[0] - collected_carry[1] - written_off[0] - written_off[1] + unpaid_h1 + unpaid_h2
    # FY2020 to September: determined = arrears at FY2019 end + six months notified.
    notified_h3 = published("determined", "2020-09-30") - carry_fy2020
    unpaid_and_deferred = notified_h3 - (published("collected", "2020-09-30") - collected_carry[2])
    unpaid_h3 = unpaid_and_deferred - deferred_total
    remaining_carry = carry - sum(collected_carry) - sum(written_off)
    for name, value in [("unpaid_h1", unpaid_h1), ("unpaid_h2", unpaid_h2), ("unpaid_h3", unpaid_h3), ("remaining_carry", remaining_carry)]:
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


# ---------------------------------------------------------------------------------------
# Record expansion. Roles sit in index ranges of the long-standing establishments (open
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
    return Roles(total, covered[0], pool1, pool2, deferral, max(1, round_half_up(total / (SHIP_OWNERS * scale)))), timeline


def _u(seed: int, *parts: str) -> str:
    return f"((hash({seed}, {', '.join(parts)}) >> 11)::double / 9007199254740992.0)"


def _establishments_sql(r: Roles, seed: int) -> str:
    """One row per establishment: number, prefecture, office, open/close dates and roles."""
    return f"""
with numbered as (
    select i from range({r.establishments}) t(i)
),
opened as (
    -- the initial cohort opened before April 2018; later cohorts open in their month
    select numbered.i,
        case when i < {r.initial}
             then date '1989-04-01' + to_days(floor({_u(seed, 'i', '1')} * 10592)::integer)
             else (select make_date(2018, 3, 1) + to_months(k) + to_days(floor({_u(seed, 'i', '2')} * 28)::integer)
                   from opening_starts o where numbered.i >= o.first_i and numbered.i < o.first_i + o.openings)
        end as opened_on,
        (select make_date(2018, 3, 1) + to_months(k) + to_days(floor({_u(seed, 'i', '3')} * 28)::integer)
         from closing_starts c where numbered.i < c.last_i and numbered.i >= c.last_i - c.closures) as closed_on
    from numbered
)
select i, opened_on, closed_on,
    i < {r.pool_fy2019} as pool_fy2019,
    i >= {r.pool_fy2019} and i < {r.pool_fy2019 + r.pool_fy2020} as pool_fy2020,
    i >= {r.pool_fy2019 + r.pool_fy2020} and i < {r.pool_fy2019 + r.pool_fy2020 + r.deferral} as deferral,
    i % {r.ship_stride} = 0 as ship_owner,
    i % {r.ship_stride} <> 0 and {_u(seed, 'i', '4')} < {KYOKAI_SHARE} as kyokai,
    row_number() over (partition by i < {r.pool_fy2019} order by i) - 1 as pool_rank,
    {_u(seed, 'i', '5')} as size_draw,
    {_u(seed, 'i', '6')} as prefecture_draw
from opened
"""


def _records_sql(seed: int) -> str:
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
         then {WINDOWS[0][0]} + 6 * try_cast(right(fate, 1) as integer) + floor({_u(seed, 'i', 't', "insurance", "'w'")} * 6)::integer
         else event_t end as event_month,
    -- heavy-tailed establishment size, clamped so no record rounds to zero yen
    least(greatest(exp(3 * (e.size_draw - 0.5)) * (0.9 + 0.2 * {_u(seed, 'records.i', 'records.t', 'records.insurance')}), 0.1), 100) as weight
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
            rows += [(insurance, f"carry_collected_{w}", -1, f.carry_collected[w]), (insurance, f"carry_written_off_{w}", -1, f.carry_written_off[w])]
        rows.append((insurance, "carry_unpaid", -1, f.carry - sum(f.carry_collected) - sum(f.carry_written_off)))
    return pl.DataFrame(rows, schema={"insurance": pl.Utf8, "fate": pl.Utf8, "group_t": pl.Int64, "target": pl.Int64}, orient="row")


_AMOUNTS_SQL = """
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


def _lines_sql(seed: int) -> str:
    def month_day(month_sql: str, salt: str) -> str:
        start = f"(make_date(2019, 4, 1) + to_months({month_sql}))"
        return f"({start} + to_days(floor({_u(seed, 'i', 't', 'insurance', salt)} * day(last_day({start})))::integer))"

    return f"""
with dated as (
    select a.*, e.number, e.prefecture_code,
        case when fate = 'paid' then {month_day('t', "'p'")} when fate like 'carry_collected_%' then {month_day('event_month', "'c'")} end as paid_on,
        case when fate like 'carry_written_off_%' then {month_day('event_month', "'w'")} end as written_off_on,
        -- approved in the month the contribution is notified, for one year
        case when fate = 'deferred' then make_date(2019, 4, 1) + to_months(t) end as deferred_from,
        case when fate = 'paid' and {_u(seed, 'i', 't', 'insurance', "'adj'")} < 0.01 then floor(amount * 0.05)::bigint + 1 else 0 end as adjustment
    from amounts a
    join establishments e using (i)
),
printed as (
    select *,
        make_date(2019, 4, 1) + to_months(greatest(coalesce(t, 0), 0, coalesce(event_month, 0))) as processing_month
    from dated
)
select processing_month, insurance, number, premium_month,
    concat_ws(chr(9),
        number,
        case insurance {' '.join(f"when '{k}' then '{v}'" for k, v in INSURANCE.items())} end,
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


REGISTER_HEADER = ["事業所番号", "都道府県コード", "年金事務所コード", "事業所区分", "適用年月日", "全喪年月日"]
CONTRIBUTIONS_HEADER = [
    "事業所番号", "保険種別", "対象年月", "処理年月", "決定額", "調整額", "収納額", "収納日",
    "不納欠損額", "不納欠損日", "猶予許可額", "猶予開始日", "猶予終了日",
]


def generate(landing_dir: Path, scale: float, seed: int, progress=None) -> list[Path]:
    """Write the establishment register and the monthly contribution files into ``landing_dir``."""
    landing_dir.mkdir(parents=True, exist_ok=True)
    figures = Figures.load()
    r, timeline = roles(figures, scale)
    prefectures = pl.read_csv(seed_csv("prefectures"), schema_overrides={"prefecture_code": pl.Utf8}).with_columns(
        hi=pl.col("population_2020_thousands").cum_sum() / pl.col("population_2020_thousands").sum()
    ).with_columns(lo=pl.col("hi").shift(1, fill_value=0.0))
    written: list[Path] = []
    with tempfile.TemporaryDirectory(dir=landing_dir.parent, prefix=".employer_generate_") as tmp, generator_database(Path(tmp)) as con:
        con.execute(wareki_print_macros())
        for name, frame in [("timeline", timeline), ("prefecture_bands", prefectures), ("targets", group_targets(figures, scale))]:
            con.register(f"{name}_frame", frame.to_arrow())
            con.execute(f"create table {name} as select * from {name}_frame")
        con.execute(f"""
            create table opening_starts as
            select k, openings, {r.initial} + coalesce(sum(openings) over (order by k rows between unbounded preceding and 1 preceding), 0) as first_i
            from timeline;
            create table closing_starts as
            select k, closures, {r.initial} - coalesce(sum(closures) over (order by k rows between unbounded preceding and 1 preceding), 0) as last_i
            from timeline;
        """)
        con.execute(f"""
            create table establishments as
            select b.*, p.prefecture_code,
                lpad(((i * 7919 + {seed}) % 100000000)::varchar, 8, '0') as number,
                p.prefecture_code || lpad(floor({_u(seed, 'i', "'office'")} * 10)::integer::varchar, 2, '0') as office_code
            from ({_establishments_sql(r, seed)}) b
            join prefecture_bands p on b.prefecture_draw >= p.lo and b.prefecture_draw < p.hi
        """)
        con.execute(f"create table records as {_records_sql(seed)}")
        con.execute(f"create table amounts as {_AMOUNTS_SQL}")
        con.execute(f"create table lines as {_lines_sql(seed)}")

        register = """
            select concat_ws(',', number, prefecture_code, office_code, case when ship_owner then '船舶' else '一般' end,
                             wareki_text(opened_on, 2), wareki_text(closed_on, 2)) as line
            from establishments order by number"""
        written.append(print_file(con, register, landing_dir / "establishments_202009.csv", ",".join(REGISTER_HEADER), "utf-8", "\r\n", bom=True))
        months = [m for (m,) in con.execute("select distinct processing_month from lines order by 1").fetchall()]
        for n, month in enumerate(months, start=1):
            target = print_file(
                con,
                f"select line from lines where processing_month = date '{month.isoformat()}' order by number, insurance, premium_month",
                landing_dir / f"contributions_{month:%Y%m}.tsv", "\t".join(CONTRIBUTIONS_HEADER), "utf-8", "\n",
            )
            written.append(target)
            if progress is not None:
                progress(n, len(months), target)
    return written
