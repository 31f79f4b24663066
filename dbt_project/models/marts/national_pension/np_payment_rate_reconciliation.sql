-- Every National Pension figure of the agency report next to its value recomputed from the
-- marts. A mismatch fails the publication gate; a documented known discrepancy only warns.
with figures as (

    select * from {{ ref('published_np_payment_figures') }}

),

payment_rate as (

    select * from {{ ref('np_payment_rate') }}

),

insured_persons as (

    select * from {{ ref('np_insured_persons') }}

),

rates as (

    -- nationwide rows are sums over prefectures; a figure may name one prefecture
    select
        figures.figure_id,
        sum(payment_rate.months_paid) as months_paid,
        100.0 * sum(payment_rate.months_paid) / sum(payment_rate.months_due) as rate_percent

    from figures
    inner join payment_rate
        on payment_rate.premium_fiscal_year = figures.premium_fiscal_year
        and payment_rate.as_of = figures.as_of
        and coalesce(figures.prefecture_code, payment_rate.prefecture_code) = payment_rate.prefecture_code
    group by figures.figure_id

),

reference_rates as (

    select
        figures.figure_id,
        100.0 * sum(payment_rate.months_paid) / sum(payment_rate.months_due) as rate_percent

    from figures
    inner join payment_rate
        on payment_rate.premium_fiscal_year = figures.reference_fiscal_year
        and payment_rate.as_of = figures.reference_as_of
        and coalesce(figures.prefecture_code, payment_rate.prefecture_code) = payment_rate.prefecture_code
    group by figures.figure_id

),

persons as (

    select
        figures.figure_id,
        sum(insured_persons.insured_persons) as insured_persons
    from figures
    inner join insured_persons
        on insured_persons.as_of = figures.as_of
        and coalesce(figures.prefecture_code, insured_persons.prefecture_code) = insured_persons.prefecture_code
    group by figures.figure_id

),

recomputed as (

    select
        figures.*,
        case figures.measure
            when 'payment_rate' then rates.rate_percent
            when 'months_paid' then rates.months_paid
            -- points are printed from the unrounded rates (+1.1 and +3.6 only come out that way)
            when 'payment_rate_points' then rates.rate_percent - reference_rates.rate_percent
            when 'insured_persons' then persons.insured_persons
        end as recomputed_value,
        case when figures.unit in ('months', 'persons') then {{ var('scale') }} else 1.0 end as scale_applied

    from figures
    left join rates on figures.figure_id = rates.figure_id
    left join reference_rates on figures.figure_id = reference_rates.figure_id
    left join persons on figures.figure_id = persons.figure_id

),

final as (

    select
        figure_id,
        premium_fiscal_year,
        as_of,
        nullif(prefecture_code, '') as prefecture_code,
        period_label,
        measure,
        unit,
        decimals,
        source_table,
        published_value,
        published_value * scale_applied as expected_value,
        recomputed_value,
        recomputed_value - published_value * scale_applied as difference,
        case
            when unit in ('percent', 'points') then {{ rate_tolerance('decimals') }}
            when scale_applied = 1.0 then 0
            -- scaled counts are the published count x scale, rounded once
            else 0.5
        end as tolerance,
        known_discrepancy

    from recomputed

)

select
    *,
    {{ reconciliation_status('recomputed_value', 'expected_value', 'tolerance', 'known_discrepancy') }} as status
from final
