-- The collection contractor's (市場化テスト受託事業者) activities by fiscal half-year: the half's
-- plan and actual counts summed over its reported months, their ratio (実施率), and the annual
-- plan as the half's last report gives it.
with reports as (

    select * from {{ ref('stg_national_pension__contractor_activity') }}

),

activities as (

    select * from {{ ref('np_contractor_activities') }}

),

halves as (

    select
        fiscal_year,
        fiscal_half,
        activity_code,
        count(*) as months_reported,
        sum(planned) as planned,
        sum(performed) as performed,
        max(report_month) as last_report_month
    from reports
    group by fiscal_year, fiscal_half, activity_code

),

final as (

    select
        halves.fiscal_year,
        halves.fiscal_half,
        halves.activity_code,
        activities.activity_name_ja,
        activities.activity_name_en,
        cast(halves.months_reported as integer) as months_reported,
        cast(halves.planned as bigint) as planned,
        cast(halves.performed as bigint) as performed,
        cast(100 as double) * halves.performed / nullif(halves.planned, 0) as performance_rate_percent,
        cast(latest.annual_plan as bigint) as annual_plan
    from halves
    inner join activities on halves.activity_code = activities.activity_code
    inner join reports as latest
        on halves.activity_code = latest.activity_code
        and halves.last_report_month = latest.report_month

)

select * from final
