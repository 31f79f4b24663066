-- Every print of a contribution record in the current version of each delivered file, with
-- the adjustment applied and the month it is notified and due. A record is reprinted in full
-- whenever it changes; int_employer__contributions keeps the latest print.
with source as (

    select * from {{ source('employer', 'contributions') }}

)

select
    establishment_number,
    insurance_name_ja,
    premium_month,
    -- a month's contribution is notified and due the following month
    cast(premium_month + interval 1 month as date) as notified_month,
    last_day(premium_month + interval 1 month) as due_date,
    {{ fiscal_year('premium_month + interval 1 month') }} as notified_fiscal_year,
    determined_yen + coalesce(adjustment_yen, 0) as determined_yen,
    coalesce(collected_yen, 0) as collected_yen,
    collected_on,
    coalesce(written_off_yen, 0) as written_off_yen,
    written_off_on,
    coalesce(deferred_yen, 0) as deferred_yen,
    deferred_from,
    deferred_until,
    processing_month,
    _load_id,
    _source_file,
    _line_number,
    _file_period

from source
