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
    {{ fiscal_half('report_month') }} as fiscal_half,
    _load_id,
    _source_file,
    _line_number

from source
