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

coverage_and_collection as (

    select * from {{ ref('national_pension_coverage_and_collection') }}

),

collection_figures as (

    select * from {{ ref('published_np_collection_figures') }}

),

collection_actions as (

    select * from {{ ref('national_pension_collection_actions') }}

),

contractor_activity as (

    select * from {{ ref('national_pension_contractor_activity') }}

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

    -- persons at a figure's date and at the date a change is read against
    select
        figure_periods.figure_id,
        figure_periods.period,
        sum(insured_persons.insured_persons) as insured_persons,
        sum(insured_persons.full_exemption_persons) as full_exemption_persons,
        -- 全額免除率: over the insured without the voluntary insured (note ※1 of the table)
        cast(100 as double) * sum(insured_persons.full_exemption_persons)
        / nullif(sum(insured_persons.insured_persons) - sum(insured_persons.voluntary_persons), 0)
            as full_exemption_rate_percent
    from figure_periods
    inner join insured_persons
        on insured_persons.as_of = figure_periods.as_of
        and coalesce(figure_periods.prefecture_code, insured_persons.prefecture_code) = insured_persons.prefecture_code
    group by figure_periods.figure_id, figure_periods.period

),

table_rows as (

    -- the payment channels' figures as the table holds them, nationwide (its macro defines them)
    select
        figure_periods.figure_id,
        figure_periods.period,
        coverage_and_collection.direct_debit_rate_percent,
        coverage_and_collection.credit_card_rate_percent,
        coverage_and_collection.multi_payments
    from figure_periods
    inner join coverage_and_collection on figure_periods.as_of = coverage_and_collection.as_of
    where figure_periods.prefecture_code is null or figure_periods.prefecture_code = ''

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
            when 'fully_exempt_persons' then persons.full_exemption_persons
            when 'fully_exempt_rate' then persons.full_exemption_rate_percent
            when 'fully_exempt_rate_points'
                then persons.full_exemption_rate_percent - reference_persons.full_exemption_rate_percent
            when 'direct_debit_rate' then channels.direct_debit_rate_percent
            when 'direct_debit_rate_points'
                then channels.direct_debit_rate_percent - reference_channels.direct_debit_rate_percent
            when 'credit_card_rate' then channels.credit_card_rate_percent
            when 'credit_card_rate_points'
                then channels.credit_card_rate_percent - reference_channels.credit_card_rate_percent
            when 'multi_payments' then channels.multi_payments
            when 'multi_payments_change' then 100 * (channels.multi_payments / reference_channels.multi_payments - 1)
            -- a change of a count, in percent of the count a year before
            when 'months_paid_change' then 100 * (rates.months_paid / reference_rates.months_paid - 1)
            when 'insured_persons_change'
                then 100 * (persons.insured_persons / reference_persons.insured_persons - 1)
            when 'fully_exempt_persons_change'
                then 100 * (persons.full_exemption_persons / reference_persons.full_exemption_persons - 1)
        end as recomputed_value,
        -- the two counts a change of counts is of (see count_tolerances)
        case figures.measure
            when 'months_paid_change' then rates.months_paid
            when 'insured_persons_change' then persons.insured_persons
            when 'fully_exempt_persons_change' then persons.full_exemption_persons
            when 'multi_payments_change' then channels.multi_payments
        end as ratio_numerator,
        case figures.measure
            when 'months_paid_change' then reference_rates.months_paid
            when 'insured_persons_change' then reference_persons.insured_persons
            when 'fully_exempt_persons_change' then reference_persons.full_exemption_persons
            when 'multi_payments_change' then reference_channels.multi_payments
        end as ratio_denominator,
        {{ scale_applied(['months', 'persons', 'payments']) }} as scale_applied

    from figures
    left join period_rates as rates
        on figures.figure_id = rates.figure_id and rates.period = 'figure'
    left join period_rates as reference_rates
        on figures.figure_id = reference_rates.figure_id and reference_rates.period = 'reference'
    left join persons
        on figures.figure_id = persons.figure_id and persons.period = 'figure'
    left join persons as reference_persons
        on figures.figure_id = reference_persons.figure_id and reference_persons.period = 'reference'
    left join table_rows as channels
        on figures.figure_id = channels.figure_id and channels.period = 'figure'
    left join table_rows as reference_channels
        on figures.figure_id = reference_channels.figure_id and reference_channels.period = 'reference'

),

national_actions as (

    -- nationwide: the prefectures' counts summed, by half and (both halves delivered) by year
    select
        'office_action' as subject,
        action_code as code,
        fiscal_year,
        fiscal_half as months,
        sum(actions) as actions,
        sum(actions_previous_year) as actions_previous_year
    from collection_actions
    group by action_code, fiscal_year, fiscal_half
    union all
    select
        'office_action' as subject,
        action_code as code,
        fiscal_year,
        'FY' as months,
        sum(actions) as actions,
        null as actions_previous_year
    from collection_actions
    group by action_code, fiscal_year
    having count(distinct fiscal_half) = 2

),

contractor_plans as (

    -- the annual plan as the fiscal year's latest half reports it
    select
        activity_code,
        fiscal_year,
        annual_plan,
        row_number() over (partition by activity_code, fiscal_year order by fiscal_half desc) as latest
    from contractor_activity

),

collection_recomputed as (

    select
        figures.*,
        case
            when figures.subject = 'office_action' and figures.measure = 'actions'
                then national_actions.actions
            when figures.subject = 'office_action' and figures.measure = 'actions_ratio_to_previous_year'
                then cast(100 as double) * national_actions.actions / nullif(national_actions.actions_previous_year, 0)
            when figures.measure = 'planned' then contractor_activity.planned
            when figures.measure = 'performed' then contractor_activity.performed
            when figures.measure = 'performance_rate'
                then cast(100 as double) * contractor_activity.performed / nullif(contractor_activity.planned, 0)
            when figures.measure = 'annual_plan' then contractor_plans.annual_plan
        end as recomputed_value,
        -- the two counts a ratio is of (see collection_tolerances)
        case
            when figures.subject = 'office_action' then national_actions.actions
            else contractor_activity.performed
        end as ratio_numerator,
        case
            when figures.subject = 'office_action' then national_actions.actions_previous_year
            else contractor_activity.planned
        end as ratio_denominator,
        {{ scale_applied(['actions']) }} as scale_applied

    from collection_figures as figures
    left join national_actions
        on figures.subject = national_actions.subject
        and figures.code = national_actions.code
        and figures.fiscal_year = national_actions.fiscal_year
        and figures.months = national_actions.months
    left join contractor_activity
        on figures.subject = 'contractor_activity'
        and figures.code = contractor_activity.activity_code
        and figures.fiscal_year = contractor_activity.fiscal_year
        and figures.months = contractor_activity.fiscal_half
    left join contractor_plans
        on figures.subject = 'contractor_activity'
        and figures.measure = 'annual_plan'
        and figures.code = contractor_plans.activity_code
        and figures.fiscal_year = contractor_plans.fiscal_year
        and contractor_plans.latest = 1

),

collection_tolerances as (

    select
        *,
        {{ scaled_ratio_tolerance('ratio_numerator', 'ratio_denominator') }} as rounding_tolerance
    from collection_recomputed

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
        {{ figure_tolerance(unit_tolerances={'points': rate_tolerance('decimals')}) }}
        + {{ scaled_ratio_tolerance('ratio_numerator', 'ratio_denominator') }} as tolerance,
        known_discrepancy

    from recomputed

    union all

    select
        figure_id,
        cast(null as integer) as premium_fiscal_year,
        case when months = 'H1' then make_date(fiscal_year, 9, 30) else make_date(fiscal_year + 1, 3, 31) end as as_of,
        cast(null as string) as prefecture_code,
        period_label,
        measure,
        unit,
        decimals,
        source_table,
        {{ compared_to_published() }},
        {{ figure_tolerance() }} + coalesce(rounding_tolerance, 0) as tolerance,
        known_discrepancy

    from collection_tolerances

)

{{ reconciled('final') }}
