-- National Pension payment rate (納付率) by premium year, as-of month end and prefecture:
-- months of the premium year paid by as_of over months due by then. One table holds the
-- current-year curve (as_of May..April), the past-year rate (31 March FY+1) and the final
-- rate (31 March FY+2). Nationwide figures are sums over prefectures.
with obligation_months as (

    select * from {{ ref('int_national_pension__obligation_months') }}

),

prefectures as (

    select * from {{ ref('prefectures') }}

),

data_through as (

    -- the last complete month end the ledger covers
    select last_day(max(last_processing_month)) as as_of_limit from obligation_months

),

premium_year_month_ends as (

    -- from the May after the premium year starts to the end of FY+2
    select distinct
        obligation_months.premium_fiscal_year,
        last_day({{ add_months('make_date(obligation_months.premium_fiscal_year, 5, 1)', 'month_offsets.month_count') }}) as as_of

    from obligation_months
    cross join range(0, 35) as month_offsets (month_count)

),

as_of_spine as (

    -- up to the data
    select premium_year_month_ends.*
    from premium_year_month_ends
    cross join data_through
    where premium_year_month_ends.as_of <= data_through.as_of_limit

),

counted as (

    -- premium months whose deadline has passed by as_of (the curve's denominator grows a
    -- month at a time: at the end of May, April's premiums; at the end of April, all twelve)
    select
        as_of_spine.premium_fiscal_year,
        as_of_spine.as_of,
        obligation_months.prefecture_code,
        sum(obligation_months.obligation_months) filter (where obligation_months.is_due) as months_due,
        sum(obligation_months.obligation_months) filter (
            where obligation_months.is_due and obligation_months.paid_month <= as_of_spine.as_of
        ) as months_paid,
        sum(obligation_months.obligation_months) as months_insured,
        sum(obligation_months.obligation_months) filter (
            where obligation_months.status_category = 'fully_exempt'
        ) as months_fully_exempt,
        sum(obligation_months.obligation_months) filter (
            where obligation_months.status_category = 'student_deferral'
        ) as months_student_deferral,
        sum(obligation_months.obligation_months) filter (
            where obligation_months.status_category = 'youth_deferral'
        ) as months_youth_deferral,
        sum(obligation_months.obligation_months) filter (
            where obligation_months.status_category = 'partially_exempt'
        ) as months_partially_exempt

    from as_of_spine
    inner join obligation_months
        on obligation_months.premium_fiscal_year = as_of_spine.premium_fiscal_year
        and obligation_months.due_date <= as_of_spine.as_of
    group by all

)

select
    counted.premium_fiscal_year,
    counted.as_of,
    counted.prefecture_code,
    prefectures.prefecture_name_ja,
    cast(coalesce(counted.months_due, 0) as bigint) as months_due,
    cast(coalesce(counted.months_paid, 0) as bigint) as months_paid,
    coalesce(counted.months_paid, 0) / nullif(counted.months_due, 0) as payment_rate,
    cast(counted.months_insured as bigint) as months_insured,
    cast(coalesce(counted.months_fully_exempt, 0) as bigint) as months_fully_exempt,
    cast(coalesce(counted.months_student_deferral, 0) as bigint) as months_student_deferral,
    cast(coalesce(counted.months_youth_deferral, 0) as bigint) as months_youth_deferral,
    cast(coalesce(counted.months_partially_exempt, 0) as bigint) as months_partially_exempt,
    (
        coalesce(counted.months_fully_exempt, 0)
        + coalesce(counted.months_student_deferral, 0)
        + coalesce(counted.months_youth_deferral, 0)
    ) / counted.months_insured as exemption_rate

from counted
inner join prefectures on counted.prefecture_code = prefectures.prefecture_code
