"""Record expansion and printing: cells into records, records into the mainframe's lines."""

from __future__ import annotations

from collections.abc import Sequence

from demo.national_pension.targets import (
    COUNTER,
    ON_TIME_SHARE_IN_PREMIUM_MONTH,
    PARTIAL_PER_MILLE,
)
from ingest.specs import NATIONAL_PENSION_LEDGER

# Per-slot attributes come from a keyed hash, so the output is deterministic for a seed
# whatever DuckDB's thread schedule.

# Serial numbers are a bijection of the slot (387433 is coprime with 10^6), so they look
# random but never collide; the first four digits stand for the issuing office.
_SERIAL_MULTIPLIER = 387_433


def pension_number_sql(seed: int) -> str:
    """The basic pension number of slot ``j`` of ``prefecture_code`` (over those two columns): the
    same person in every premium year's ledger, and in the collection actions taken on them."""
    return f"""lpad((prefecture_code::integer * 100 + j // 1000000)::varchar, 4, '0') || '-'
            || lpad(((j % 1000000 * {_SERIAL_MULTIPLIER} + {seed % 1_000_000}) % 1000000)::varchar, 6, '0')"""


def records_sql(fiscal_year: int, seed: int, prefecture_codes: Sequence[str]) -> str:
    """One row per person-year of these prefectures: the twelve statuses and payment dates, and when it last changed."""
    codes = ", ".join(f"'{code}'" for code in prefecture_codes)

    def u(salt: int) -> str:
        return f"(hash({seed}, prefecture_code, j, month_index, {salt}) >> 11)::double / 9007199254740992.0"

    pivot = ",\n        ".join(
        f"max(status) filter (where month_index = {m}) as status_{m}, max(paid_on) filter (where month_index = {m}) as paid_on_{m}, "
        f"max(channel) filter (where month_index = {m}) as channel_{m}"
        for m in range(12)
    )
    return f"""
with slots as (
    select c.prefecture_code, c.month_index, s.j, c.status_class, c.paid_k, c.channel,
        -- a partial exemption is approved for the person's year, not month by month
        hash({seed}, {fiscal_year}, c.prefecture_code, s.j) % 1000 as partial_draw
    from cells c, range(c.lo, c.hi) s(j)
    where c.premium_fiscal_year = {fiscal_year} and c.prefecture_code in ({codes})
),
coded as (
    select prefecture_code, j, month_index,
        case when status_class <> '1' then status_class
             when partial_draw < {PARTIAL_PER_MILLE["6"]} then '6'
             when partial_draw < {PARTIAL_PER_MILLE["6"] + PARTIAL_PER_MILLE["7"]} then '7'
             when partial_draw < {sum(PARTIAL_PER_MILLE.values())} then '8'
             else '1' end as status,
        -- on time at a counter: in the premium month itself or by its deadline (end of the next
        -- month); a debit, a card and the multi-payment network pay in the month calibrated
        case when paid_k = month_index + 1 and channel = '{COUNTER}' and {u(1)} < {ON_TIME_SHARE_IN_PREMIUM_MONTH}
            then month_index else paid_k end as paid_month,
        channel,
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
    select prefecture_code, j, month_index, status, paid_month, channel,
        paid_month_start + floor(day_draw * day(last_day(paid_month_start)))::integer as paid_on
    from dated
)
group by prefecture_code, j
"""


def versions_sql(fiscal_year: int, seed: int) -> str:
    """Printed lines: each record as of its last change, plus as of the current-year close if paid later."""
    statuses = [
        f"case when status_{m} is null then '' when style = 2 then fw(status_{m}) else status_{m} end"
        for m in range(12)
    ]
    dates = [
        f"wareki_text(case when paid_on_{m} <= last_day(processing_month) then paid_on_{m} end, style)"
        for m in range(12)
    ]
    channels = [
        f"case when paid_on_{m} <= last_day(processing_month) then "
        f"(case when style = 2 then fw(channel_{m}) else channel_{m} end) else '' end"
        for m in range(12)
    ]
    group = ", ".join(f"{s}, {d}, {c}" for s, d, c in zip(statuses, dates, channels, strict=True))
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
        {pension_number_sql(seed)} as number
    from versions
)
select processing_month,
    concat_ws('{NATIONAL_PENSION_LEDGER.delimiter}',
        case when style = 2 then fw(number) else number end,
        fiscal_year_text({fiscal_year}, style),
        case when style = 2 then fw(prefecture_code) else prefecture_code end,
        wareki_month_text(processing_month, style),
        {group}
    ) as line,
    prefecture_code, j
from styled
"""
