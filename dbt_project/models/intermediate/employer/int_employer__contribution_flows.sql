-- Money flows of the contribution records by insurance type, the fiscal year the amount was
-- determined in, and the month of the event: additive, so any fiscal-year-to-date figure
-- is a sum over it.
with contributions as (

    select * from {{ ref('int_employer__contributions') }}

),

events as (

    select
        insurance_name_ja,
        notified_fiscal_year,
        'determined' as flow,
        notified_month as flow_month,
        determined_yen as amount_yen
    from contributions
    union all
    select
        insurance_name_ja,
        notified_fiscal_year,
        'collected' as flow,
        cast(date_trunc('month', collected_on) as date) as flow_month,
        collected_yen as amount_yen
    from contributions
    where collected_on is not null
    union all
    select
        insurance_name_ja,
        notified_fiscal_year,
        'written_off' as flow,
        cast(date_trunc('month', written_off_on) as date) as flow_month,
        written_off_yen as amount_yen
    from contributions
    where written_off_on is not null
    union all
    -- a deferral counts from its first month through the month its period ends
    select
        insurance_name_ja,
        notified_fiscal_year,
        'deferral_started' as flow,
        cast(date_trunc('month', deferred_from) as date) as flow_month,
        deferred_yen as amount_yen
    from contributions
    where deferred_from is not null
    union all
    select
        insurance_name_ja,
        notified_fiscal_year,
        'deferral_ended' as flow,
        cast(date_trunc('month', deferred_until) + interval 1 month as date) as flow_month,
        deferred_yen as amount_yen
    from contributions
    where deferred_until is not null

)

select
    insurance_name_ja,
    notified_fiscal_year,
    flow,
    flow_month,
    sum(amount_yen) as amount_yen,
    count(*) as records

from events
group by all
