-- Every collection action in the current version of each delivered file, with the fiscal year
-- and half it falls in: the report counts actions by half-year (April to September is the
-- first half) against the same half a year before.
with source as (

    select * from {{ source('national_pension', 'collection_actions') }}

)

select
    person_key,
    action_code,
    action_date,
    prefecture_code,
    processing_month,
    cast({{ fiscal_year('action_date') }} as integer) as fiscal_year,
    {{ fiscal_half('action_date') }} as fiscal_half,
    _load_id,
    _source_file,
    _line_number

from source
