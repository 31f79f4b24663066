-- The collection contractor's monthly reports (current version of each month's file), with
-- the fiscal year and half each month belongs to.
with source as (

    select * from {{ source('national_pension', 'contractor_activity') }}

)

select
    report_month,
    activity_code,
    annual_plan,
    planned,
    performed,
    cast({{ fiscal_year('report_month') }} as integer) as fiscal_year,
    case when month(report_month) between 4 and 9 then 'H1' else 'H2' end as fiscal_half,
    _load_id,
    _source_file,
    _line_number

from source
