-- Every National Pension figure of the agency report next to its value recomputed from the
-- marts. A mismatch fails the publication gate; a documented known discrepancy only warns.
with figures as (

    select * from {{ ref('published_np_payment_figures') }}

),

payment_rate as (

    select * from {{ ref('national_pension_payment_rate') }}

),

insured_persons as (

    select * from {{ ref('national_pension_insured_persons') }}

),

figure_periods as (

    -- the premium year and month end each figure is read at, and for a change in points, the
    -- ones it is compared with
    select
        figure_id,
        'figure' as period,
        premium_fiscal_year,
        as_of,
        prefecture_code
    from figures
    union all
    select
        figure_id,
        'reference' as period,
        reference_fiscal_year as premium_fiscal_year,
        reference_as_of as as_of,
        prefecture_code
    from figures
    where reference_fiscal_year is not null

),

period_rates as (

    -- nationwide rows are sums over prefectures; a figure may name one prefecture
    select
        figure_periods.figure_id,
        figure_periods.period,
        sum(payment_rate.months_paid) as months_paid,
        cast(100 as double) * sum(payment_rate.months_paid) / sum(payment_rate.months_due) as rate_percent

    from figure_periods
    inner join payment_rate
        on payment_rate.premium_fiscal_year = figure_periods.premium_fiscal_year
        and payment_rate.as_of = figure_periods.as_of
        and coalesce(figure_periods.prefecture_code, payment_rate.prefecture_code) = payment_rate.prefecture_code
    group by figure_periods.figure_id, figure_periods.period

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
        {{ scale_applied(['months', 'persons']) }} as scale_applied

    from figures
    left join period_rates as rates
        on figures.figure_id = rates.figure_id and rates.period = 'figure'
    left join period_rates as reference_rates
        on figures.figure_id = reference_rates.figure_id and reference_rates.period = 'reference'
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
        {{ compared_to_published() }},
        -- points (a change of rate) at their published precision; scaled counts are the
        -- published count x scale, rounded once
        {{ figure_tolerance(unit_tolerances={'points': rate_tolerance('decimals')}) }} as tolerance,
        known_discrepancy

    from recomputed

)

{{ reconciled('final') }}
