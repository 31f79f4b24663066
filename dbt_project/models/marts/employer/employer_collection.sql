-- Employer contribution collection (徴収状況) by as-of month end and insurance type, fiscal
-- year to date. Determined amounts include prior years' unpaid amounts carried into the
-- fiscal year (過年度分を含む), as the report defines them.
with flows as (

    select * from {{ ref('int_employer__contribution_flows') }}

),

contributions as (

    select * from {{ ref('int_employer__contributions') }}

),

as_of_spine as (

    -- the months the extracts cover: from the first print to the latest
    select
        month_ends.as_of,
        cast({{ fiscal_year('month_ends.as_of') }} as bigint) as fiscal_year
    from ({{ month_end_spine('contributions', 'processing_month') }}) as month_ends

),

insurance_types as (

    select distinct insurance_name_ja from flows

),

to_date as (

    select
        as_of_spine.as_of,
        as_of_spine.fiscal_year,
        insurance_types.insurance_name_ja,
        -- carried in: prior years' amounts still unpaid when the fiscal year began
        coalesce(sum(flows.amount_yen) filter (
            where flows.notified_fiscal_year < as_of_spine.fiscal_year and flows.flow = 'determined'
        ), 0)
        - coalesce(sum(flows.amount_yen) filter (
            where flows.notified_fiscal_year < as_of_spine.fiscal_year
            and flows.flow in ('collected', 'written_off')
            and flows.flow_month < {{ fiscal_year_start('as_of_spine.fiscal_year') }}
        ), 0) as carried_in_yen,
        coalesce(sum(flows.amount_yen) filter (
            where flows.notified_fiscal_year = as_of_spine.fiscal_year
            and flows.flow = 'determined'
            and flows.flow_month <= as_of_spine.as_of
        ), 0) as determined_this_year_yen,
        coalesce(sum(flows.amount_yen) filter (
            where flows.flow = 'collected'
            and flows.flow_month between {{ fiscal_year_start('as_of_spine.fiscal_year') }} and as_of_spine.as_of
        ), 0) as collected_yen,
        coalesce(sum(flows.amount_yen) filter (
            where flows.flow = 'written_off'
            and flows.flow_month between {{ fiscal_year_start('as_of_spine.fiscal_year') }} and as_of_spine.as_of
        ), 0) as written_off_yen,
        coalesce(sum(flows.amount_yen) filter (
            where flows.flow = 'deferral_started' and flows.flow_month <= as_of_spine.as_of
        ), 0)
        - coalesce(sum(flows.amount_yen) filter (
            where flows.flow = 'deferral_ended' and flows.flow_month <= as_of_spine.as_of
        ), 0) as deferred_yen

    from as_of_spine
    cross join insurance_types
    left join flows on flows.insurance_name_ja = insurance_types.insurance_name_ja
    group by all

)

select
    as_of,
    fiscal_year,
    insurance_name_ja,
    cast(carried_in_yen + determined_this_year_yen as bigint) as determined_yen,
    cast(collected_yen as bigint) as collected_yen,
    cast(written_off_yen as bigint) as written_off_yen,
    cast(carried_in_yen + determined_this_year_yen - collected_yen - written_off_yen as bigint) as arrears_yen,
    cast(deferred_yen as bigint) as deferred_yen,
    collected_yen / nullif(carried_in_yen + determined_this_year_yen, 0) as collection_rate,
    collected_yen / nullif(carried_in_yen + determined_this_year_yen - deferred_yen, 0) as collection_rate_excl_deferral,
    cast(carried_in_yen as bigint) as carried_in_yen

from to_date
