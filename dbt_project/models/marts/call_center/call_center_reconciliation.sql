-- Every call-center figure of the agency report next to its value recomputed from the mart.
-- A mismatch fails the publication gate; a documented known discrepancy only warns.
with figures as (

    select * from {{ ref('published_call_center_figures') }}

),

monthly as (

    select * from {{ ref('call_center_monthly') }}

),

period_counts as (

    -- Counts over the figure's period and over the same period a year earlier (for the
    -- year-on-year points, which the report derives from the two rounded rates).
    select
        figures.figure_id,
        sum(monthly.calls_offered) filter (where monthly.month between figures.period_start and figures.period_end) as calls_offered,
        sum(monthly.calls_answered) filter (where monthly.month between figures.period_start and figures.period_end) as calls_answered,
        count(distinct monthly.month) filter (where monthly.month between figures.period_start and figures.period_end) as months_covered,
        sum(monthly.calls_offered) filter (where monthly.month < figures.period_start) as prior_calls_offered,
        sum(monthly.calls_answered) filter (where monthly.month < figures.period_start) as prior_calls_answered

    from figures
    left join monthly
        on (
            monthly.month between figures.period_start and figures.period_end
            or monthly.month between figures.period_start - interval 1 year and figures.period_end - interval 1 year
        )
        and (coalesce(figures.dial_code, '') = '' or monthly.dial_code = figures.dial_code)
    group by figures.figure_id

),

recomputed as (

    select
        figures.*,
        period_counts.months_covered,
        case figures.measure
            when 'calls_offered' then period_counts.calls_offered
            when 'calls_answered' then period_counts.calls_answered
            when 'answer_rate' then cast(100 as double) * period_counts.calls_answered / period_counts.calls_offered
            when 'answer_rate_yoy_points' then
                {{ round_to(
                    'cast(100 as double) * period_counts.calls_answered / period_counts.calls_offered',
                    'figures.decimals'
                ) }}
                - {{ round_to(
                    'cast(100 as double) * period_counts.prior_calls_answered / period_counts.prior_calls_offered',
                    'figures.decimals'
                ) }}
        end as recomputed_value,
        {{ scale_applied(['calls']) }} as scale_applied

    from figures
    inner join period_counts on figures.figure_id = period_counts.figure_id

),

final as (

    select
        figure_id,
        fiscal_year,
        period_label,
        period_start,
        period_end,
        nullif(dial_code, '') as dial_code,
        measure,
        unit,
        decimals,
        source_table,
        {{ compared_to_published() }},
        -- Scaled counts: each month is rounded, then nudged by a call or two so every
        -- published rate still rounds correctly at the smaller scale.
        {{ figure_tolerance(scaled_count_tolerance='2 * months_covered', unit_tolerances={'points': '1e-9'}) }}
            as tolerance,
        known_discrepancy

    from recomputed

)

{{ reconciled('final') }}
